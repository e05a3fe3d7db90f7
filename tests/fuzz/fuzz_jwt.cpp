// libFuzzer target: JWT verification against a fixed key set (identity_fuzz_keys.h).
// Input: one mode byte, then
//   mode & 1 == 0: a token, verified as it is (parsing, alg/kid choice, signature check);
//   mode & 1 == 1: header JSON text, a 0x00 byte, payload JSON text; the target signs them with the fixed
//                  P-256 key (ES256) so the claims checks behind the signature run on fuzzer-made claims.
// Bits 1-5 of the mode byte pick the clock and the policy. Traps when a refusal detail contains the token
// or its signature (100 bytes or more: shorter texts can equal a piece of a fixed message), when a
// verified principal is not a valid principal, or when the OpenSSL error queue is left dirty.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "identity/jwks.h"
#include "identity/jwt.h"
#include "identity/jwt_codec.h"
#include "identity/principal.h"
#include "identity_fuzz_keys.h"

namespace {

using namespace kedge::identity;

const KeySet& key_set() {
  static const KeySet keys = KeySet::parse(fuzz::kFuzzJwks, "fuzz JWKS");
  return keys;
}

EVP_PKEY* signing_key() {
  static EVP_PKEY* key = [] {
    BIO* bio = BIO_new_mem_buf(fuzz::kFuzzEcPrivateKeyPem, -1);
    EVP_PKEY* loaded = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (loaded == nullptr) __builtin_trap();
    return loaded;
  }();
  return key;
}

std::string es256_sign(const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char der[80];
  size_t length = sizeof der;
  if (EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, signing_key(), nullptr) != 1 ||
      EVP_DigestSign(ctx, der, &length, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    __builtin_trap();
  }
  EVP_MD_CTX_free(ctx);
  const unsigned char* p = der;
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(length));
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1 || size > kMaxJwtBytes + 64) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string token;
  if ((mode & 1) == 0) {
    token = std::string(rest);
  } else {
    const std::size_t split = rest.find('\0');
    if (split == std::string_view::npos) return 0;
    const std::string input = base64url_encode(rest.substr(0, split)) + "." + base64url_encode(rest.substr(split + 1));
    token = input + "." + base64url_encode(es256_sign(input));
  }

  JwtPolicy policy;
  if (mode & 2) policy.issuer = "https://issuer.example";
  if (mode & 4) policy.audiences = {"kedge", "other"};
  policy.clock_skew_seconds = (mode & 8) ? 0 : 30;
  if (mode & 16) policy.principal_claim = "client_id";
  const std::int64_t now = (mode & 32) ? 1'800'000'000 : 0;

  ERR_clear_error();
  const JwtResult result = verify_jwt(token, key_set(), policy, now);
  if (ERR_peek_error() != 0) __builtin_trap();
  if (const auto* verified = std::get_if<VerifiedJwt>(&result)) {
    if (principal_problem(verified->principal)) __builtin_trap();
  } else {
    const auto& failure = std::get<JwtFailure>(result);
    // Shorter texts can equal a piece of a fixed message ("dot-separated"), which is no leak.
    if (token.size() >= 100 && failure.detail.find(token) != std::string::npos) __builtin_trap();
    const std::size_t dot = token.rfind('.');
    if (dot != std::string::npos && token.size() - dot > 100 &&
        failure.detail.find(token.substr(dot + 1)) != std::string::npos) {
      __builtin_trap();
    }
    if (label(failure.reason) == "unknown") __builtin_trap();
  }
  return 0;
}
