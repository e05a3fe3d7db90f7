#pragma once
// The server side of one SCRAM-SHA-256 / SCRAM-SHA-512 conversation (RFC 5802 §5, RFC 7677; Kafka KIP-84),
// for when kedge terminates SASL itself. No I/O: the caller moves the SaslAuthenticate auth_bytes in and
// out. Nothing throws; every outcome is a value (auth_result.h).
//
//   client-first  ->  on_client_first()  ->  Challenge{server-first}  | Refused
//   client-final  ->  on_client_final()  ->  Authenticated{"v=..."}   | Refused{"e=..."}
//
// Grammar accepted (RFC 5802 §7; printable = %x21-2B / %x2D-7E):
//   client-first-message = gs2-header client-first-message-bare
//   gs2-header           = gs2-cbind-flag "," [ "a=" saslname ] ","
//   gs2-cbind-flag       = "n" / "y"            ("p=" cb-name: refused, kedge offers no -PLUS mechanism)
//   client-first-message-bare = [ "m=" ... "," ] "n=" saslname "," "r=" c-nonce [ "," extensions ]
//                                              (any "m=" is refused, §5.1: mandatory extension)
//   extensions           = key "=" value *( "," key "=" value )     key = 1*ALPHA, value = 1*(any but ',')
//                          Ignored, as §5.1 asks, except Kafka's "tokenauth=true" (KIP-48 delegation
//                          tokens), which is refused: kedge holds no tokens, and the name would be a token id.
//   client-final-message = "c=" base64 "," "r=" nonce [ "," extensions ] "," "p=" base64
//   saslname             = 1*( value-safe-char / "=2C" / "=3D" ), UTF-8; any other '=' is refused.
//
// Checks, in order, and the reason each refusal carries:
//   - a message longer than kMaxMessageBytes: message_too_long
//   - client-first: the gs2 header (channel_binding_unsupported for "p="), "a=" differing from the user
//     (authzid_mismatch; Kafka refuses it too), the name (invalid_username_encoding, also beyond 255
//     bytes), the nonce (printable, at most kMaxClientNonceBytes).
//   - server-first = "r=" c-nonce s-nonce "," "s=" base64(salt) "," "i=" iterations, with s-nonce fresh from
//     RAND_bytes (or the constructor's, for tests) and the user's stored salt and iterations. A name that has
//     no credential for this mechanism gets the users file's decoy (users_file.h) and the same answer shape.
//   - client-final: "c=" must be base64 of the gs2 header exactly ("biws" for "n,,", "eSws" for "y,,";
//     channel_binding_mismatch), the nonce must be this conversation's (nonce_mismatch), then
//       ClientSignature = HMAC(StoredKey, AuthMessage), ClientKey = ClientProof XOR ClientSignature,
//       H(ClientKey) compared with StoredKey by CRYPTO_memcmp,
//     with AuthMessage = client-first-message-bare "," server-first "," client-final-without-proof as
//     received. Known and unknown users run the same steps on same-sized values; the result is only then
//     decided (unknown_user or wrong_password, both "e=invalid-proof").
//
// Repeated client nonce. librdkafka before 2.6.1 (Debian bookworm's kcat and python3-confluent-kafka use
// 2.0.2) sends client-nonce + combined-nonce in client-final (confluentinc/librdkafka#4895). Kafka 3.x
// brokers accepted it (their check was nonce().endsWith(serverNonce)); Kafka 4.x refuses it. By default
// kedge accepts exactly that one extra form, and no other prefix: the full combined nonce, with the fresh
// server part, is still present and still covered by the proof (the AuthMessage is built from the message
// as received), so replay protection is unchanged, and those clients keep working through kedge as they did
// against Kafka 3.x. NoncePolicy::strict refuses it (RFC 5802 only). Authenticated::repeated_client_nonce
// reports when it was used, so the caller can count such clients.
//
// Cost: no PBKDF2 runs here (the server holds StoredKey/ServerKey): two HMACs and one digest per
// conversation, the same for unknown users.
//
// Lifetime: on_client_first() copies what it needs from the UserStore, so a reload between the two messages
// does not matter and the store may be released afterwards. One ScramServer per conversation; not shared
// between threads.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "identity/auth_result.h"
#include "identity/scram.h"
#include "identity/users_file.h"

namespace kedge::identity {

enum class NoncePolicy : std::uint8_t {
  strict,                        // RFC 5802: client-final nonce == combined nonce
  accept_repeated_client_nonce,  // also client-nonce + combined nonce (librdkafka < 2.6.1; see above)
};

class ScramServer {
 public:
  // Bounds on what a client sends. A Kafka client-first is about 60 bytes, a client-final about 150.
  static constexpr std::size_t kMaxMessageBytes = 2048;
  static constexpr std::size_t kMaxClientNonceBytes = 256;

  // `server_nonce` empty: a fresh scram::random_nonce() per conversation. Tests pass RFC vectors' nonces;
  // a given one must be printable (is_printable_nonce), else the first step is refused with no_resources.
  explicit ScramServer(scram::Hash hash, NoncePolicy policy = NoncePolicy::accept_repeated_client_nonce,
                       std::string server_nonce = {});

  FirstStep on_client_first(std::string_view message, const UserStore& users);
  FinalStep on_client_final(std::string_view message);

  scram::Hash hash() const { return hash_; }
  // The name the client claimed in client-first (unescaped), for log lines; empty before. Not authenticated
  // until on_client_final() returned Authenticated.
  const std::string& claimed_user() const { return user_; }

 private:
  enum class Stage : std::uint8_t { expect_first, expect_final, done };
  Refused refuse(AuthErrc reason);

  scram::Hash hash_;
  NoncePolicy policy_;
  Stage stage_ = Stage::expect_first;
  std::string server_nonce_;
  std::string user_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string client_nonce_;
  std::string combined_nonce_;
  std::string server_first_;
  ScramCredential credential_;  // the user's, or the decoy
  bool known_user_ = false;
};

}  // namespace kedge::identity
