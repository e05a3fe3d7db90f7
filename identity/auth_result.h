#pragma once
// The outcome of a server-side SASL step (identity/scram_server.h, identity/plain.h), as values: the data
// path calls these from libuv callbacks, so nothing here throws.
//
// Every failure has one AuthErrc, named once in KEDGE_AUTH_FAILURES: the label feeds the "failures by
// reason" counter, the description is for kedge's own log, and the SCRAM server-error-value (RFC 5802 §7)
// is what an "e=" server-final carries. What a client is told never separates an unknown user from a wrong
// password: both give the same "e=invalid-proof" and the same client_message() (RFC 5802 §9 on user
// enumeration), and both are decided in the same step after the same work.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace kedge::identity {

// X(identifier, metric label, SCRAM server-error-value, description for the operator)
#define KEDGE_AUTH_FAILURES(X)                                                                                        \
  X(malformed_message, "malformed", "invalid-encoding", "the message does not follow the mechanism's grammar")      \
  X(message_too_long, "too_long", "invalid-encoding", "the message is longer than kedge accepts")                    \
  X(invalid_username_encoding, "username_encoding", "invalid-username-encoding",                                     \
    "the user name is empty, longer than 255 bytes, not UTF-8, or has an '=' escape other than =2C or =3D")          \
  X(channel_binding_unsupported, "channel_binding", "channel-binding-not-supported",                                 \
    "the client requires channel binding (gs2 flag p=), which kedge does not offer")                                 \
  X(channel_binding_mismatch, "channel_binding", "channel-bindings-dont-match",                                      \
    "the client-final channel binding does not repeat the client-first gs2 header")                                  \
  X(mandatory_extension, "extension", "extensions-not-supported",                                                    \
    "the client requires an extension (m=) that kedge does not support")                                             \
  X(delegation_token_unsupported, "extension", "extensions-not-supported",                                           \
    "the client authenticates with a Kafka delegation token (tokenauth=true), which kedge does not accept")          \
  X(authzid_mismatch, "authzid", "other-error", "the authorization identity differs from the user name")            \
  X(nonce_mismatch, "nonce", "other-error", "the client-final nonce is not the nonce of this conversation")          \
  X(unknown_user, "invalid_credentials", "invalid-proof", "no such user for this mechanism")                          \
  X(wrong_password, "invalid_credentials", "invalid-proof", "the proof or password does not match the user")         \
  X(out_of_order, "state", "other-error", "a message arrived in a state that does not expect it")                     \
  X(no_resources, "internal", "no-resources", "the random generator or a digest failed")

enum class AuthErrc : std::uint8_t {
#define KEDGE_X(name, label, scram_error, text) name,
  KEDGE_AUTH_FAILURES(KEDGE_X)
#undef KEDGE_X
};

// The counter label. unknown_user and wrong_password share "invalid_credentials" on purpose: metrics are
// visible to more people than logs, and a per-reason split would tell them which names exist.
std::string_view label(AuthErrc code);
// The RFC 5802 §7 server-error-value for "e=".
std::string_view scram_error_value(AuthErrc code);
// For kedge's log only (it distinguishes an unknown user from a wrong password, as Kafka's broker log does).
std::string_view describe(AuthErrc code);
// The text for the client (Kafka's SaslAuthenticate error_message with SASL_AUTHENTICATION_FAILED). For
// credential failures it is Kafka's own wording, "Authentication failed during authentication due to
// invalid credentials with SASL mechanism <M>", identical for unknown_user and wrong_password.
std::string client_message(AuthErrc code, std::string_view mechanism);

// The client proved who it is. `principal` is the authenticated user name (authcid).
struct Authenticated {
  std::string principal;
  // SCRAM: "v=<ServerSignature>" to send as the last server message. Empty for PLAIN.
  std::string server_final;
  // SCRAM: the client-final nonce was librdkafka < 2.6.1's repeated form (see scram_server.h), accepted by
  // policy; the caller may count it.
  bool repeated_client_nonce = false;
};

// The authentication failed. `server_final` is the "e=<server-error-value>" message for SCRAM (the caller
// may send it, or answer with Kafka's error code and client_message() instead, as a Kafka broker does);
// empty for PLAIN.
struct Refused {
  AuthErrc reason = AuthErrc::malformed_message;
  std::string server_final;
};

// A SCRAM server-first message to send; the conversation continues.
struct Challenge {
  std::string server_first;
};

using FirstStep = std::variant<Challenge, Refused>;
using FinalStep = std::variant<Authenticated, Refused>;

}  // namespace kedge::identity
