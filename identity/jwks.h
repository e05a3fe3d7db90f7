#pragma once
// The JWK Set that OAUTHBEARER tokens are checked against (RFC 7517 §5), read from a file at load time.
//
// Supported keys (RFC 7518 §6):
//   kty "RSA"  members n, e (base64url big-endian unsigned)    -> RS256; modulus 2048..8192 bits (§3.3)
//   kty "EC"   members crv "P-256", x, y (32 bytes each)       -> ES256 (§3.4); the point must lie on the curve
// Members honoured on every key: "kid" (string), "use" (must be "sig" when present), "key_ops" (must contain
// "verify" when present), "alg" (pins the key to one algorithm; must agree with kty). Other members
// (x5c, x5t, ...) are ignored, as RFC 7517 §4 asks.
//
// Loading is strict and throws JwksError naming the file and JSON path ("jwks.json: keys[2].n: not
// base64url"): invalid JSON, duplicate member names, a missing "keys" array, a malformed member of a key we
// support, a private-key member (d, p, q, ...: a JWKS file must hold public keys only), two usable keys with
// the same kid, or no usable key at all. A well-formed key that this build cannot use (kty "oct"/"OKP", curve
// P-384, alg RS512, use "enc", a 1024-bit RSA modulus) is not an error: RFC 7517 §5 says to ignore it, and it
// is listed in unusable() so that `kedge check` can say "keys[3] (kid "x"): EC curve P-384 is not supported".
//
// A KeySet is immutable after loading and safe to share between worker threads (OpenSSL 3 EVP_PKEY objects
// are reference-counted and only read during verification). Hot reload builds a new KeySet and swaps a
// shared_ptr<const KeySet>.
#include <openssl/types.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kedge::identity {

// The JWS algorithms kedge verifies (RFC 7518 §3.1). Everything else, "none" and HMAC above all, is refused.
enum class JwsAlgorithm { rs256, es256 };
std::string_view to_string(JwsAlgorithm algorithm) noexcept;  // "RS256", "ES256"

// Thrown by KeySet::load_file / KeySet::parse only (load time).
class JwksError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct VerificationKey {
  std::size_t index = 0;                         // position in the file's "keys" array, for messages
  std::string kid;                               // empty when the JWK has no "kid"
  JwsAlgorithm algorithm = JwsAlgorithm::rs256;  // implied by kty (RSA -> RS256, EC P-256 -> ES256)
  bool algorithm_pinned = false;                 // the JWK carried "alg"
  int bits = 0;                                  // RSA modulus or EC field size
  std::shared_ptr<EVP_PKEY> key;                 // public key, never null
};

struct UnusableKey {
  std::size_t index = 0;
  std::string kid;     // as printable_excerpt() shows it; empty when absent
  std::string reason;  // e.g. "EC curve P-384 is not supported (ES256 needs P-256)"
  // "keys[3] (kid \"x\"): EC curve P-384 is not supported (ES256 needs P-256)"
  std::string describe() const;
};

class KeySet {
 public:
  // A JWKS file larger than this is refused before reading it.
  static constexpr std::size_t kMaxFileBytes = 1 << 20;
  // Keys in one file (usable or not).
  static constexpr std::size_t kMaxKeys = 256;

  // Reads and parses `path`; errors start with the path.
  static KeySet load_file(const std::filesystem::path& path);
  // Parses JWKS text; errors start with `source_name` (a path or "inline JWKS").
  static KeySet parse(std::string_view json_text, std::string_view source_name);

  const std::vector<VerificationKey>& keys() const noexcept { return keys_; }
  const std::vector<UnusableKey>& unusable() const noexcept { return unusable_; }
  // The usable key whose kid equals `kid` exactly (RFC 7515 §4.1.4: case-sensitive), or null.
  const VerificationKey* find_by_kid(std::string_view kid) const noexcept;

 private:
  std::vector<VerificationKey> keys_;
  std::vector<UnusableKey> unusable_;
};

}  // namespace kedge::identity
