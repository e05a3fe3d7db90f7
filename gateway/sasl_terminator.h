#pragma once
// kedge answering a client's SASL itself (issue 17, authentication mode
// "terminate"): the SaslHandshake and SaslAuthenticate conversation of ONE
// client connection, as a state machine over the identity/ engines. No libuv,
// no sockets: Connection captures the two request kinds (kafka::RequestRouter),
// hands each whole frame here, and sends the reply frame back through
// ResponseProcessor::answer, in order with the broker's responses.
//
//   unauthenticated --SaslHandshake(mechanism offered)--> handshaken
//        ^   | anything but ApiVersions/SaslHandshake: refuse (the connection closes, as a broker closes it)
//        |   v
//   handshaken --SaslAuthenticate--> [PLAIN: one round | SCRAM: two rounds | OAUTHBEARER: one, or two when
//        |                            the token is refused (RFC 7628 §3.2.3 error challenge)]
//        |                              | success and the principal is bound to the cluster
//        |                              v
//        |                         authenticated --SaslHandshake(same mechanism)--> reauthenticating
//        |                              ^   (KIP-368)                                   |
//        |                              +------ success, same principal ----------------+
//        +-- any failure: the reply carries SASL_AUTHENTICATION_FAILED (58) or ILLEGAL_SASL_STATE (34) /
//            UNSUPPORTED_SASL_MECHANISM (33) and close_after; the connection answers and then closes.
//
// What a Kafka broker does is the reference (SaslServerAuthenticator): one
// handshake per authentication, a mechanism not enabled is answered with 33
// and the list of enabled ones, a failed authentication with 58 and a message,
// then the connection is closed; re-authentication (KIP-368) must use the same
// mechanism and prove the same principal.
//
// SaslHandshake v0 (KIP-43, clients such as kafka-python 2.0): the same
// conversation, but the client's messages arrive as unframed tokens
// (`int32 size | token`, RequestInfo::unframed_sasl_token) and the answers are
// unframed tokens too; a failure is answered by closing the connection, as a
// broker does, since v0 has no error response. expects_unframed_token() tells
// the request tracker where the tokens end: the mechanism knows (PLAIN and
// OAUTHBEARER one token, SCRAM two). Re-authentication needs v1 (KIP-368).
//
// PLAIN runs PBKDF2 (identity/plain.h), so on_request() hands it back as a
// PlainCheck for the caller to run off the loop thread; on_plain_checked()
// finishes the round. SCRAM and OAUTHBEARER are cheap and answered at once.
//
// No credential, token, proof or password hash is put into a reply's
// log_detail or message.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "admin/counters.h"
#include "config/config.h"
#include "config/snapshot.h"
#include "identity/auth_result.h"
#include "identity/oauthbearer.h"
#include "identity/principal_binding.h"
#include "identity/scram_server.h"
#include "identity/users_file.h"
#include "kafka_codec/stream.h"

namespace kedge {

class SaslTerminator {
 public:
  // `authentication` has config.sasl set (the mechanisms offered, the users
  // file, OAUTHBEARER's keys and policy, the session lifetime) and the
  // binding of `cluster_name`'s principals.
  SaslTerminator(std::shared_ptr<const ClientAuthentication> authentication, std::string cluster_name);

  // What RequestRouter::route answers for a request, by API key.
  enum class Route : std::uint8_t {
    forward,  // to the broker (ApiVersions before authentication; everything after it)
    capture,  // answered here: SaslHandshake, SaslAuthenticate
    refuse,   // before authentication: the connection closes without forwarding it
  };
  Route route(std::int16_t api_key) const;

  // What kedge lists for the client's ApiVersions (kafka::AddressMap::local_apis):
  // SaslHandshake 0..1, as every Kafka broker lists it (librdkafka before 2.x
  // enables SASL only when v0 is listed: its SASL_HANDSHAKE feature depends on
  // SaslHandshake v0), and SaslAuthenticate 0..2. Clients that read SaslAuthenticate
  // in the list use SaslHandshake v1 (KIP-152); older ones use v0 (see above).
  static constexpr kafka::AddressMap::LocalApi kLocalApis[] = {{17, 0, 1}, {36, 0, 2}};

  struct Reply {
    std::vector<std::uint8_t> frame;  // the whole response frame for the client
    bool close_after = false;         // a failure: send the frame, then close the connection
    bool credential_checked = false;  // this round verified a credential (the attempt limiter counts failures)
    bool authenticated = false;       // this reply completes an authentication or re-authentication
    std::optional<AuthOutcome> outcome;  // set when the conversation ended (success or failure)
    std::string log_detail;              // for kedge's log: what happened, never a secret
  };
  // A PLAIN message to verify with identity::verify_plain off the loop thread.
  struct PlainCheck {
    kafka::RequestInfo request;
    std::string message;                                // the client's PLAIN message (holds the password)
    std::shared_ptr<const identity::UserStore> users;  // what to check it against
  };
  using Step = std::variant<Reply, PlainCheck>;

  // A captured request, whole (size prefix included). `now_unix_ms` is the
  // wall clock (token expiry). A new `settings` (a reload) applies from the
  // next SaslHandshake on.
  Step on_request(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame, std::int64_t now_unix_ms);
  // The result of a PlainCheck's verify_plain.
  Reply on_plain_checked(const kafka::RequestInfo& request, const identity::FinalStep& result, std::int64_t now_unix_ms);
  // The answer to `request` when the attempt limiter refuses the client's
  // address: SASL_AUTHENTICATION_FAILED with a retry-later message, then close.
  Reply refuse_rate_limited(const kafka::RequestInfo& request, std::int64_t retry_after_ms);

  // A reload's authentication (a changed users file): applies from the next SaslHandshake on.
  void update_settings(std::shared_ptr<const ClientAuthentication> authentication) {
    next_settings_ = std::move(authentication);
  }

  bool authenticated() const { return !principal_.empty(); }
  // After a SaslHandshake v0: the client's next frame is an unframed SASL token (KIP-43).
  bool expects_unframed_token() const;
  // True while a (re-)authentication conversation is open (handshake answered, not finished).
  bool in_conversation() const { return phase_ == Phase::handshaken || phase_ == Phase::exchanging; }
  // The authenticated principal; empty before the first success.
  const std::string& principal() const { return principal_; }
  // The mechanism of the open conversation, else of the session; nullopt before a handshake chose one.
  std::optional<TerminatedMechanism> conversation_mechanism() const { return mechanism_; }
  // The mechanism of the last successful authentication ("SCRAM-SHA-256"), empty before.
  std::string_view mechanism_name() const;
  // KIP-368: when the session ends unless re-authenticated (wall clock, ms); nullopt: never.
  std::optional<std::int64_t> session_expires_at_ms() const { return session_expires_at_ms_; }

 private:
  enum class Phase : std::uint8_t { unauthenticated, handshaken, exchanging, authenticated, failed };

  Step on_handshake(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame);
  Step on_authenticate(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame,
                       std::int64_t now_unix_ms);
  Step on_unframed_token(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame,
                         std::int64_t now_unix_ms);
  Step exchange(const kafka::RequestInfo& request, std::string message, std::int64_t now_unix_ms);
  Reply challenge(const kafka::RequestInfo& request, std::string_view server_message);
  Reply succeed(const kafka::RequestInfo& request, const std::string& principal, std::string_view server_final,
                std::optional<std::int64_t> credential_expires_at_ms, std::int64_t now_unix_ms);
  Reply fail(const kafka::RequestInfo& request, AuthOutcome outcome, std::string client_message,
             std::string log_detail, bool credential_checked);
  Reply fail_handshake(const kafka::RequestInfo& request, std::int16_t error_code, AuthOutcome outcome,
                       std::string log_detail);

  const std::vector<TerminatedMechanism>& offered() const { return settings_->config.sasl->mechanisms; }

  std::shared_ptr<const ClientAuthentication> settings_;       // this conversation's
  std::shared_ptr<const ClientAuthentication> next_settings_;  // from the next handshake on
  std::string cluster_name_;
  Phase phase_ = Phase::unauthenticated;
  std::optional<TerminatedMechanism> mechanism_;  // of the open conversation, then of the session
  bool unframed_ = false;                         // the open conversation began with SaslHandshake v0
  std::optional<identity::ScramServer> scram_;
  std::optional<identity::OAuthBearerServer> oauthbearer_;
  std::string plain_user_;  // the PLAIN round's authcid, for the log of a refusal
  std::string principal_;
  std::optional<std::int64_t> session_expires_at_ms_;
};

}  // namespace kedge
