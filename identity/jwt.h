#pragma once
// Verification of the signed JWTs that OAUTHBEARER clients present (RFC 7519 on a JWS Compact
// Serialization, RFC 7515 §7.1), against a KeySet (jwks.h) and a JwtPolicy.
//
// Grammar (RFC 7515 §7.1), with kedge's bounds:
//   token     = header "." payload "." signature            ; <= 16 KiB in all
//   header    = base64url(UTF-8 JSON object)                ; JOSE header, <= 2 KiB decoded
//   payload   = base64url(UTF-8 JSON object)                ; JWT claims set
//   signature = base64url(bytes)                            ; RS256: modulus size; ES256: 64 bytes R || S
//   base64url = RFC 7515 §2, no padding, canonical (jwt_codec.h)
//
// Checks, in this order (every refusal names the first failed check, never the token):
//   1. shape and size; base64url of all three parts; header JSON (duplicate names refused, depth <= 16)
//   2. header "alg": RS256 or ES256 only. "none" (RFC 7518 §3.6), HS* (a shared secret kedge does not hold,
//      and the classic key-confusion attack), RS384/PS256/ES384/... are unsupported_algorithm. A "crit"
//      header (RFC 7515 §4.1.11) names extensions we do not implement: malformed_token.
//   3. key choice: with "kid", the key with that kid (unknown_key_id when none); without "kid", the set's
//      only key (missing_key_id when the set has several: we never try keys in turn). The key must fit the
//      algorithm: an RSA key for ES256 or a P-256 key for RS256 is key_algorithm_mismatch. (A JWK pinned by its
//      "alg" to an algorithm kedge lacks is unusable at load time, so its kid is unknown here.)
//   4. signature over ASCII(header "." payload) with OpenSSL 3 EVP_DigestVerify (SHA-256; RSASSA-PKCS1-v1_5;
//      ECDSA with the JWS R || S form converted to DER, RFC 7518 §3.4): bad_signature.
//   5. claims, only once the signature holds (an unsigned payload never reaches the claims parser):
//      payload JSON; "exp" required (missing_claim), a NumericDate (integer or fraction, RFC 7519 §2);
//      now >= exp + skew: expired; "nbf" with now + skew < nbf: not_yet_valid; "iat" with iat > now + skew:
//      issued_in_future; "iss" equal to the configured issuer (exact, case-sensitive: RFC 7519 §4.1.1
//      StringOrURI comparison): wrong_issuer; "aud" (a string or an array of strings, RFC 7519 §4.1.3)
//      holding one of the configured audiences: wrong_audience; the principal claim (default "sub") a
//      non-empty string passing principal_problem(): missing_claim / invalid_principal. A claim of the wrong
//      JSON type is invalid_claim.
//
// Time comes from the caller (Unix seconds), so tests and the gateway's loop clock agree.
// verify_jwt() is noexcept: allocation failure and any OpenSSL failure become internal_error, and the
// OpenSSL error queue is left as found (TLS code on the same thread reads it).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "identity/jwks.h"

namespace kedge::identity {

// Why a token was refused. One list (practice 20): the enum, the label for counters and log lines.
#define KEDGE_JWT_REFUSALS(X)                         \
  X(token_too_large, "token_too_large")               \
  X(malformed_token, "malformed_token")               \
  X(unsupported_algorithm, "unsupported_algorithm")   \
  X(missing_key_id, "missing_key_id")                 \
  X(unknown_key_id, "unknown_key_id")                 \
  X(key_algorithm_mismatch, "key_algorithm_mismatch") \
  X(bad_signature, "bad_signature")                   \
  X(missing_claim, "missing_claim")                   \
  X(invalid_claim, "invalid_claim")                   \
  X(expired, "expired")                               \
  X(not_yet_valid, "not_yet_valid")                   \
  X(issued_in_future, "issued_in_future")             \
  X(wrong_issuer, "wrong_issuer")                     \
  X(wrong_audience, "wrong_audience")                 \
  X(invalid_principal, "invalid_principal")           \
  X(internal_error, "internal_error")

enum class JwtRefusal : std::uint8_t {
#define KEDGE_JWT_REFUSAL_ENUM(name, label) name,
  KEDGE_JWT_REFUSALS(KEDGE_JWT_REFUSAL_ENUM)
#undef KEDGE_JWT_REFUSAL_ENUM
};
inline constexpr std::size_t kJwtRefusalCount = 0
#define KEDGE_JWT_REFUSAL_COUNT(name, label) +1
    KEDGE_JWT_REFUSALS(KEDGE_JWT_REFUSAL_COUNT)
#undef KEDGE_JWT_REFUSAL_COUNT
    ;
std::string_view label(JwtRefusal reason) noexcept;

struct JwtPolicy {
  // Required "iss" value; nullopt: "iss" is not checked (Kafka's sasl.oauthbearer.expected.issuer is
  // optional too; the config layer decides whether to demand one).
  std::optional<std::string> issuer;
  // Accepted audiences: the token's "aud" must hold at least one. Empty: "aud" is not checked.
  std::vector<std::string> audiences;
  // Leeway for exp / nbf / iat, in seconds (Kafka's sasl.oauthbearer.clock.skew.seconds defaults to 30).
  std::int64_t clock_skew_seconds = 30;
  // The claim naming the principal (Kafka's sasl.oauthbearer.sub.claim.name).
  std::string principal_claim = "sub";
};

struct VerifiedJwt {
  std::string principal;
  std::int64_t expires_at = 0;  // "exp", Unix seconds (fractions dropped): bounds a KIP-368 session
  std::string key_id;           // kid of the key that verified it ("" when the JWK has none)
  JwsAlgorithm algorithm = JwsAlgorithm::rs256;
};

struct JwtFailure {
  JwtRefusal reason = JwtRefusal::internal_error;
  // For operators' logs: which check failed and, where it helps, the claim value involved (through
  // printable_excerpt(), at most 64 bytes). Never the token, its signature or its base64 text.
  std::string detail;
};

// Either the verified token or why it was refused.
using JwtResult = std::variant<VerifiedJwt, JwtFailure>;

inline constexpr std::size_t kMaxJwtBytes = 16 * 1024;
inline constexpr std::size_t kMaxJwtHeaderBytes = 2048;

JwtResult verify_jwt(std::string_view token, const KeySet& keys, const JwtPolicy& policy,
                     std::int64_t now_unix_seconds) noexcept;

}  // namespace kedge::identity
