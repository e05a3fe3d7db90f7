#pragma once
// The server side of SASL OAUTHBEARER (RFC 7628) as Kafka speaks it (KIP-255), with no I/O: the caller
// moves the bytes of SaslAuthenticate requests and responses.
//
// Client initial response, RFC 7628 §3.1 with the gs2 header of RFC 5801 §4 (kedge's bounds in brackets):
//   client-resp = (gs2-header kvsep *kvpair kvsep) / kvsep              [<= 20 KiB in all]
//   gs2-header  = gs2-cb-flag "," [gs2-authzid] ","                     ; no "F," non-standard flag
//   gs2-cb-flag = "n" / "y"                                             ; "p=..." refused: OAUTHBEARER has
//                                                                       ;   no channel binding
//   gs2-authzid = "a=" saslname                                         ; "=2C" -> ",", "=3D" -> "="
//   kvsep       = %x01
//   kvpair      = key "=" value kvsep
//   key         = 1*ALPHA                                               [<= 64 bytes]
//   value       = *(VCHAR / SP / HTAB / CR / LF)                        [<= 1 KiB]
//   "auth" kvpair (exactly one): "Bearer" 1*SP b64token                 ; scheme case-insensitive, as Kafka
//   b64token    = 1*(ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/") *"="   (RFC 6750 §2.1)
//   other kvpairs are extensions (Kafka's SaslExtensions, KIP-342)      [<= 32, names unique]
// Kafka clients (Java OAuthBearerClientInitialResponse, librdkafka) send exactly
//   "n," [ "a=" authzid ] ",\x01auth=Bearer <jwt>\x01" *("<ext>=<value>\x01") "\x01"
// that is "n,,\x01auth=Bearer <jwt>\x01\x01" without authzid and extensions.
//
// The exchange, as Kafka's broker runs it (OAuthBearerSaslServer; SaslAuthenticate is KIP-152):
//   client -> SaslAuthenticate(auth_bytes = client-resp)
//   token good:  <- SaslAuthenticate(error 0, auth_bytes empty, session_lifetime_ms per KIP-368)   done
//   token bad:   <- SaslAuthenticate(error 0, auth_bytes = {"status":"invalid_token"})  RFC 7628 §3.2.2
//                -> SaslAuthenticate(auth_bytes = %x01)                                  RFC 7628 §3.2.3
//                <- SaslAuthenticate(error 58 SASL_AUTHENTICATION_FAILED, error_message)  done
//   malformed client-resp, or an authzid other than the token's principal:
//                <- SaslAuthenticate(error 58, error_message) at once (Kafka throws SaslException /
//                   SaslAuthenticationException there)
// Where kedge differs from Kafka's broker, on purpose:
//   - after the error challenge Kafka re-parses anything but a lone %x01 as a new initial response; RFC 7628
//     §3.2.3 says the client MUST send %x01, and kedge fails the exchange on anything else;
//   - Kafka's final error_message is the JSON challenge itself; kedge's names the refusal label
//     ("OAUTHBEARER token refused: expired"), which clients print, and keeps the detail for its own log;
//   - Kafka lets a repeated key win silently (Utils.parseMap); kedge refuses the message.
// Error texts never contain the token.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "identity/jwks.h"
#include "identity/jwt.h"

namespace kedge::identity {

inline constexpr std::size_t kMaxOAuthBearerMessageBytes = kMaxJwtBytes + 4096;
inline constexpr std::size_t kMaxOAuthBearerExtensions = 32;
inline constexpr std::size_t kMaxOAuthBearerKeyBytes = 64;
inline constexpr std::size_t kMaxOAuthBearerValueBytes = 1024;

struct OAuthBearerInitialResponse {
  std::string authorization_id;                                 // decoded gs2 authzid; empty when absent
  std::string token;                                            // the b64token of "auth=Bearer <token>"
  std::vector<std::pair<std::string, std::string>> extensions;  // in message order, "auth" excluded
};

struct OAuthBearerMalformed {
  std::string reason;  // e.g. "kvpair 2: key is not 1*ALPHA"; never the token
};

using OAuthBearerParseResult = std::variant<OAuthBearerInitialResponse, OAuthBearerMalformed>;

// Parses a client initial response (not the lone %x01, which is_error_acknowledgement() recognises).
OAuthBearerParseResult parse_oauthbearer_initial_response(std::string_view message) noexcept;

// True for the client's answer to an error challenge: exactly one byte %x01 (RFC 7628 §3.2.3).
bool is_oauthbearer_error_acknowledgement(std::string_view message) noexcept;

// RFC 7628 §3.2.2 server error challenge: {"status":"<status>"} plus "scope" and "openid-configuration"
// when given. Values are JSON-escaped; the members appear in that order, as Kafka writes them.
std::string oauthbearer_error_challenge(std::string_view status, std::optional<std::string_view> scope = {},
                                        std::optional<std::string_view> openid_configuration = {});

// What the verifier needs, shared by every connection of a listener or virtual cluster. Hot reload builds
// a new one; a connection keeps the one it started with.
struct OAuthBearerSettings {
  std::shared_ptr<const KeySet> keys;  // never null
  JwtPolicy policy;
};

// One OAUTHBEARER exchange on one connection: feed it each SaslAuthenticate auth_bytes, send what it says.
class OAuthBearerServer {
 public:
  struct Step {
    enum class Kind {
      challenge,      // send `challenge` in a SaslAuthenticate response with error 0, then feed the next request
      authenticated,  // send an empty SaslAuthenticate response with error 0; `principal` is authenticated
      failed,         // send SaslAuthenticate with error 58 (SASL_AUTHENTICATION_FAILED) and `error_message`
    };
    Kind kind = Kind::failed;
    std::string challenge;
    std::string principal;              // authenticated
    std::int64_t expires_at = 0;        // authenticated: the token's "exp" (Unix seconds), for KIP-368
    std::string error_message;          // failed: what the client is told (no token, no claim values)
    std::optional<JwtRefusal> refusal;  // challenge/failed after a token check: why, for counters
    std::string log_detail;             // challenge/failed: the full reason for kedge's own log
  };

  explicit OAuthBearerServer(std::shared_ptr<const OAuthBearerSettings> settings) noexcept;

  // Feeds one client message (SaslAuthenticate auth_bytes). `now` is Unix seconds. After `authenticated`
  // or `failed` the exchange is over and further calls return `failed`. Never throws.
  Step receive(std::string_view client_message, std::int64_t now_unix_seconds) noexcept;

  bool finished() const noexcept { return state_ == State::done; }

 private:
  enum class State { awaiting_initial_response, awaiting_error_acknowledgement, done };
  Step evaluate(std::string_view client_message, std::int64_t now);

  std::shared_ptr<const OAuthBearerSettings> settings_;
  State state_ = State::awaiting_initial_response;
  std::string pending_error_message_;  // decided with the challenge, sent after %x01
  std::optional<JwtRefusal> pending_refusal_;
  std::string pending_detail_;
};

}  // namespace kedge::identity
