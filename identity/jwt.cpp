#include "identity/jwt.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <cmath>
#include <limits>
#include <memory>

#include "identity/jwt_codec.h"
#include "identity/principal.h"

namespace kedge::identity {
namespace {

using nlohmann::json;

JwtFailure refuse(JwtRefusal reason, std::string detail) { return JwtFailure{reason, std::move(detail)}; }

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

// RFC 7518 §3.4: the JWS ECDSA signature is R || S, each 32 bytes for P-256; OpenSSL verifies the DER
// ECDSA-Sig-Value (SEQUENCE { r INTEGER, s INTEGER }). Empty on failure.
std::string es256_signature_to_der(std::string_view raw) {
  if (raw.size() != 64) return {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) return {};
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) return {};
  return der;
}

// 1 valid, 0 invalid, -1 internal failure.
int verify_signature(const VerificationKey& key, std::string_view signing_input, std::string_view signature) {
  std::string der;
  if (key.algorithm == JwsAlgorithm::es256) {
    der = es256_signature_to_der(signature);
    if (der.empty()) return signature.size() == 64 ? -1 : 0;
    signature = der;
  } else if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key.key.get()))) {
    return 0;  // RFC 8017 §8.2.2 step 1: the signature is exactly the modulus length
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) return -1;
  if (EVP_DigestVerifyInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr, key.key.get(), nullptr) != 1) {
    return -1;
  }
  const int verdict =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  return verdict == 1 ? 1 : 0;
}

// A NumericDate (RFC 7519 §2): a JSON number of seconds, possibly with a fraction; fractions are dropped
// (floor) and values beyond int64 saturate. nullopt for any other JSON type or a non-finite value.
std::optional<std::int64_t> numeric_date(const json& value) {
  if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<std::int64_t>();
  if (value.is_number_unsigned()) {
    const auto unsigned_value = value.get<std::uint64_t>();
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return static_cast<std::int64_t>(unsigned_value > kMax ? kMax : unsigned_value);
  }
  if (value.is_number_float()) {
    const double seconds = std::floor(value.get<double>());
    if (!std::isfinite(seconds)) return std::nullopt;
    if (seconds >= 9.2e18) return std::numeric_limits<std::int64_t>::max();
    if (seconds <= -9.2e18) return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(seconds);
  }
  return std::nullopt;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

std::string in_quotes(std::string_view text) { return "\"" + printable_excerpt(text) + "\""; }

JwtResult check_claims(const json& claims, const VerificationKey& key, const JwtPolicy& policy, std::int64_t now) {
  const std::int64_t skew = policy.clock_skew_seconds < 0 ? 0 : policy.clock_skew_seconds;

  const auto exp_member = claims.find("exp");
  if (exp_member == claims.end()) return refuse(JwtRefusal::missing_claim, "claim \"exp\" is missing");
  const auto exp = numeric_date(*exp_member);
  if (!exp) return refuse(JwtRefusal::invalid_claim, "claim \"exp\" is not a NumericDate");
  if (now >= saturating_add(*exp, skew)) {
    return refuse(JwtRefusal::expired, "token expired at " + std::to_string(*exp) + " (now " + std::to_string(now) +
                                           ", skew " + std::to_string(skew) + "s)");
  }
  if (const auto nbf_member = claims.find("nbf"); nbf_member != claims.end()) {
    const auto nbf = numeric_date(*nbf_member);
    if (!nbf) return refuse(JwtRefusal::invalid_claim, "claim \"nbf\" is not a NumericDate");
    if (saturating_add(now, skew) < *nbf) {
      return refuse(JwtRefusal::not_yet_valid, "token not valid before " + std::to_string(*nbf) + " (now " +
                                                   std::to_string(now) + ", skew " + std::to_string(skew) + "s)");
    }
  }
  if (const auto iat_member = claims.find("iat"); iat_member != claims.end()) {
    const auto iat = numeric_date(*iat_member);
    if (!iat) return refuse(JwtRefusal::invalid_claim, "claim \"iat\" is not a NumericDate");
    if (*iat > saturating_add(now, skew)) {
      return refuse(JwtRefusal::issued_in_future, "token issued at " + std::to_string(*iat) + ", after now " +
                                                      std::to_string(now) + " + skew " + std::to_string(skew) + "s");
    }
  }
  if (policy.issuer) {
    const auto iss = claims.find("iss");
    if (iss == claims.end()) return refuse(JwtRefusal::wrong_issuer, "claim \"iss\" is missing");
    if (!iss->is_string()) return refuse(JwtRefusal::invalid_claim, "claim \"iss\" is not a string");
    const auto& issuer = iss->get_ref<const std::string&>();
    if (issuer != *policy.issuer) {
      return refuse(JwtRefusal::wrong_issuer,
                    "issuer " + in_quotes(issuer) + " is not the configured " + in_quotes(*policy.issuer));
    }
  }
  if (!policy.audiences.empty()) {
    const auto aud = claims.find("aud");
    if (aud == claims.end()) return refuse(JwtRefusal::wrong_audience, "claim \"aud\" is missing");
    std::vector<const std::string*> presented;
    if (aud->is_string()) {
      presented.push_back(&aud->get_ref<const std::string&>());
    } else if (aud->is_array()) {
      for (const auto& entry : *aud) {
        if (!entry.is_string()) return refuse(JwtRefusal::invalid_claim, "claim \"aud\" holds a non-string");
        presented.push_back(&entry.get_ref<const std::string&>());
      }
    } else {
      return refuse(JwtRefusal::invalid_claim, "claim \"aud\" is neither a string nor an array of strings");
    }
    bool accepted = false;
    for (const std::string* audience : presented) {
      for (const auto& wanted : policy.audiences) accepted = accepted || *audience == wanted;
    }
    if (!accepted) {
      std::string detail = "audience ";
      if (presented.empty()) {
        detail += "[]";
      } else {
        detail += in_quotes(*presented.front());
        if (presented.size() > 1) detail += " (and " + std::to_string(presented.size() - 1) + " more)";
      }
      return refuse(JwtRefusal::wrong_audience, detail + " holds none of the configured audiences");
    }
  }
  const auto principal_member = claims.find(policy.principal_claim);
  if (principal_member == claims.end()) {
    return refuse(JwtRefusal::missing_claim, "claim " + in_quotes(policy.principal_claim) + " is missing");
  }
  if (!principal_member->is_string()) {
    return refuse(JwtRefusal::invalid_principal, "claim " + in_quotes(policy.principal_claim) + " is not a string");
  }
  const auto& principal = principal_member->get_ref<const std::string&>();
  if (const auto problem = principal_problem(principal)) {
    return refuse(JwtRefusal::invalid_principal,
                  "claim " + in_quotes(policy.principal_claim) + ": " + std::string(*problem));
  }
  return VerifiedJwt{principal, *exp, key.kid, key.algorithm};
}

JwtResult verify(std::string_view token, const KeySet& keys, const JwtPolicy& policy, std::int64_t now) {
  if (token.size() > kMaxJwtBytes) {
    return refuse(JwtRefusal::token_too_large, "token of " + std::to_string(token.size()) + " bytes (limit 16384)");
  }
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
    return refuse(JwtRefusal::malformed_token, "not three dot-separated parts (JWS compact serialization)");
  }
  const std::string_view header_text = token.substr(0, first_dot);
  const std::string_view payload_text = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_text = token.substr(second_dot + 1);
  if (header_text.size() > kMaxJwtHeaderBytes / 3 * 4 + 3) {
    return refuse(JwtRefusal::malformed_token, "header longer than 2048 bytes");
  }

  const auto header_json = base64url_decode(header_text);
  if (!header_json) return refuse(JwtRefusal::malformed_token, "header is not base64url");
  const auto header = parse_json_object(*header_json);
  if (!header) return refuse(JwtRefusal::malformed_token, "header is not a JSON object without repeated names");
  const auto signature = base64url_decode(signature_text);
  if (!signature) return refuse(JwtRefusal::malformed_token, "signature is not base64url");

  const auto alg_member = header->find("alg");
  if (alg_member == header->end() || !alg_member->is_string()) {
    return refuse(JwtRefusal::malformed_token, "header \"alg\" is missing or not a string");
  }
  const auto& alg_name = alg_member->get_ref<const std::string&>();
  JwsAlgorithm algorithm;
  if (alg_name == "RS256") {
    algorithm = JwsAlgorithm::rs256;
  } else if (alg_name == "ES256") {
    algorithm = JwsAlgorithm::es256;
  } else {
    return refuse(JwtRefusal::unsupported_algorithm, "alg " + in_quotes(alg_name) + " (RS256 and ES256 only)");
  }
  if (header->contains("crit")) {
    return refuse(JwtRefusal::malformed_token, "header \"crit\" names extensions kedge does not implement");
  }

  const VerificationKey* key = nullptr;
  if (const auto kid = header->find("kid"); kid != header->end()) {
    if (!kid->is_string()) return refuse(JwtRefusal::malformed_token, "header \"kid\" is not a string");
    key = keys.find_by_kid(kid->get_ref<const std::string&>());
    if (key == nullptr) {
      std::string detail = "kid " + in_quotes(kid->get_ref<const std::string&>()) + " is not in the key set";
      const std::string shown = printable_excerpt(kid->get_ref<const std::string&>());
      for (const auto& unusable : keys.unusable()) {
        if (!unusable.kid.empty() && unusable.kid == shown) detail += " (" + unusable.describe() + ")";
      }
      return refuse(JwtRefusal::unknown_key_id, detail);
    }
  } else if (keys.keys().size() == 1) {
    key = &keys.keys().front();
  } else {
    return refuse(JwtRefusal::missing_key_id,
                  "token has no \"kid\" and the key set holds " + std::to_string(keys.keys().size()) + " keys");
  }
  if (key->algorithm != algorithm) {
    return refuse(JwtRefusal::key_algorithm_mismatch, "alg " + std::string(to_string(algorithm)) + " with the " +
                                                          (key->algorithm == JwsAlgorithm::rs256 ? "RSA" : "EC P-256") +
                                                          " key at keys[" + std::to_string(key->index) + "]");
  }

  const std::string_view signing_input = token.substr(0, second_dot);
  switch (verify_signature(*key, signing_input, *signature)) {
    case 1: break;
    case 0:
      return refuse(JwtRefusal::bad_signature, std::string(to_string(algorithm)) +
                                                   " signature does not verify with keys[" +
                                                   std::to_string(key->index) + "]");
    default: return refuse(JwtRefusal::internal_error, "OpenSSL could not run the signature check");
  }

  const auto payload_json = base64url_decode(payload_text);
  if (!payload_json) return refuse(JwtRefusal::malformed_token, "payload is not base64url");
  const auto claims = parse_json_object(*payload_json);
  if (!claims) return refuse(JwtRefusal::malformed_token, "payload is not a JSON object without repeated names");
  return check_claims(*claims, *key, policy, now);
}

}  // namespace

std::string_view label(JwtRefusal reason) noexcept {
  switch (reason) {
#define KEDGE_JWT_REFUSAL_LABEL(name, text) \
  case JwtRefusal::name: return text;
    KEDGE_JWT_REFUSALS(KEDGE_JWT_REFUSAL_LABEL)
#undef KEDGE_JWT_REFUSAL_LABEL
  }
  return "unknown";
}

JwtResult verify_jwt(std::string_view token, const KeySet& keys, const JwtPolicy& policy,
                     std::int64_t now_unix_seconds) noexcept {
  ERR_set_mark();
  JwtResult result = JwtFailure{JwtRefusal::internal_error, "out of memory"};
  try {
    result = verify(token, keys, policy, now_unix_seconds);
  } catch (...) {
    // std::bad_alloc, or a nlohmann_json type error if a check above were wrong: never past this boundary.
    try {
      result = JwtFailure{JwtRefusal::internal_error, "exception while verifying"};
    } catch (...) {
    }
  }
  ERR_pop_to_mark();
  return result;
}

}  // namespace kedge::identity
