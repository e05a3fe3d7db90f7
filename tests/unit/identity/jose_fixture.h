#pragma once
// Test helpers: RSA-2048 and P-256 keys generated per test run with OpenSSL, their public JWKs, and JWS
// compact tokens signed with them (RS256: RSASSA-PKCS1-v1_5; ES256: ECDSA, DER converted to R || S).
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "identity/jwt_codec.h"

namespace kedge::identity::testing {

using nlohmann::json;

struct TestKey {
  std::shared_ptr<EVP_PKEY> pkey;
  bool is_rsa = true;
  std::string kid;
};

inline TestKey generate_rsa(const std::string& kid, unsigned bits = 2048) {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  if (raw == nullptr) throw std::runtime_error("RSA keygen failed");
  return TestKey{std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free), true, kid};
}

inline TestKey generate_p256(const std::string& kid) {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (raw == nullptr) throw std::runtime_error("EC keygen failed");
  return TestKey{std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free), false, kid};
}

inline std::string bn_param(const EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error("missing key parameter");
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(size), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  BN_free(bn);
  return out;
}

// The public JWK of `key`, with "kid" when it has one, plus any `extra` members.
inline json public_jwk(const TestKey& key, const json& extra = json::object()) {
  json jwk;
  if (key.is_rsa) {
    jwk = {{"kty", "RSA"},
           {"n", base64url_encode(bn_param(key.pkey.get(), OSSL_PKEY_PARAM_RSA_N))},
           {"e", base64url_encode(bn_param(key.pkey.get(), OSSL_PKEY_PARAM_RSA_E))}};
  } else {
    jwk = {{"kty", "EC"},
           {"crv", "P-256"},
           {"x", base64url_encode(bn_param(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
           {"y", base64url_encode(bn_param(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
  }
  if (!key.kid.empty()) jwk["kid"] = key.kid;
  for (const auto& [name, value] : extra.items()) jwk[name] = value;
  return jwk;
}

inline std::string jwks_text(const std::vector<json>& jwks) { return json{{"keys", jwks}}.dump(); }

// Raw signature over `input` with SHA-256: PKCS#1 v1.5 for RSA, R || S (RFC 7518 §3.4) for P-256.
inline std::string sign_raw(const TestKey& key, const std::string& input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t length = 0;
  if (EVP_DigestSignInit_ex(ctx, nullptr, "SHA256", nullptr, nullptr, key.pkey.get(), nullptr) != 1 ||
      EVP_DigestSign(ctx, nullptr, &length, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("sign init failed");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("sign failed");
  }
  EVP_MD_CTX_free(ctx);
  signature.resize(length);
  if (key.is_rsa) return signature;
  const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
  if (sig == nullptr) throw std::runtime_error("bad DER signature");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

// A token from raw header and payload texts, signed by `key`.
inline std::string sign_texts(const TestKey& key, const std::string& header_text, const std::string& payload_text) {
  const std::string input = base64url_encode(header_text) + "." + base64url_encode(payload_text);
  return input + "." + base64url_encode(sign_raw(key, input));
}

// The usual header for `key` ({"alg": RS256|ES256, "typ": "JWT", "kid": kid}) merged with `header_extra`
// (a null member removes one).
inline json default_header(const TestKey& key, const json& header_extra = json::object()) {
  json header = {{"alg", key.is_rsa ? "RS256" : "ES256"}, {"typ", "JWT"}};
  if (!key.kid.empty()) header["kid"] = key.kid;
  for (const auto& [name, value] : header_extra.items()) {
    if (value.is_null()) {
      header.erase(name);
    } else {
      header[name] = value;
    }
  }
  return header;
}

inline std::string make_token(const TestKey& key, const json& claims, const json& header_extra = json::object()) {
  return sign_texts(key, default_header(key, header_extra).dump(), claims.dump());
}

// HS256 over the input with `secret`: the "alg confusion" token made with a public key as the secret.
inline std::string hs256_token(const std::string& secret, const json& header, const json& claims) {
  const std::string input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + base64url_encode(std::string(reinterpret_cast<const char*>(mac), length));
}

}  // namespace kedge::identity::testing
