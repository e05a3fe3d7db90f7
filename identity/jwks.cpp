#include "identity/jwks.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <array>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "identity/jwt_codec.h"
#include "identity/principal.h"

namespace kedge::identity {
namespace {

using nlohmann::json;

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBuildFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used". The upper bound keeps one verification
// cheap on the event loop (and matches what common issuers publish).
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr std::size_t kMaxKidBytes = 256;
constexpr std::size_t kP256CoordinateBytes = 32;

// Private-key members of RFC 7518 §6.2.2 (EC) and §6.3.2 (RSA), and the symmetric "k" (§6.4.1).
constexpr std::array<const char*, 8> kPrivateMembers = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

class KeyParser {
 public:
  KeyParser(std::string_view source, std::size_t index) : source_(source), index_(index) {}

  [[noreturn]] void fail(std::string_view member, std::string_view what) const {
    std::string text(source_);
    text += ": keys[" + std::to_string(index_) + "]";
    if (!member.empty()) {
      text += '.';
      text += member;
    }
    text += ": ";
    text += what;
    throw JwksError(text);
  }

  // An optional string member; throws when present with another type.
  std::optional<std::string> optional_string(const json& key, const char* member) const {
    const auto it = key.find(member);
    if (it == key.end()) return std::nullopt;
    if (!it->is_string()) fail(member, "must be a string");
    return it->get<std::string>();
  }

  std::string required_string(const json& key, const char* member) const {
    auto value = optional_string(key, member);
    if (!value) fail(member, "is missing");
    return *value;
  }

  // A required base64url member decoded (RFC 7518 §6: "Base64urlUInt" and coordinates).
  std::string required_bytes(const json& key, const char* member) const {
    const std::string text = required_string(key, member);
    auto bytes = base64url_decode(text);
    if (!bytes) fail(member, "is not base64url without padding (RFC 7515 §2)");
    if (bytes->empty()) fail(member, "is empty");
    return *bytes;
  }

 private:
  std::string_view source_;
  std::size_t index_;
};

std::shared_ptr<EVP_PKEY> key_from_params(const char* type, OSSL_PARAM_BLD* builder) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(builder));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw == nullptr) return nullptr;
  std::shared_ptr<EVP_PKEY> key(raw, EVP_PKEY_free);
  // EVP_PKEY_public_check: for RSA an odd modulus and a sane exponent; for EC a point on the curve that is
  // not the point at infinity and has the group's order.
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

std::shared_ptr<EVP_PKEY> rsa_public_key(const std::string& modulus, const std::string& exponent) {
  std::unique_ptr<BIGNUM, BnFree> n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(modulus.data()), static_cast<int>(modulus.size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(exponent.data()), static_cast<int>(exponent.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildFree> builder(OSSL_PARAM_BLD_new());
  if (!n || !e || !builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return nullptr;
  }
  return key_from_params("RSA", builder.get());
}

std::shared_ptr<EVP_PKEY> p256_public_key(const std::string& x, const std::string& y) {
  // SEC 1 §2.3.3 uncompressed point: 0x04 || X || Y.
  std::string point(1, '\x04');
  point += x;
  point += y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBuildFree> builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return nullptr;
  }
  return key_from_params("EC", builder.get());
}

std::string_view strip_leading_zeros(std::string_view bytes) {
  while (bytes.size() > 1 && bytes.front() == '\0') bytes.remove_prefix(1);
  return bytes;
}

int bit_length(std::string_view big_endian) {
  big_endian = strip_leading_zeros(big_endian);
  if (big_endian.empty()) return 0;
  int bits = static_cast<int>(big_endian.size() - 1) * 8;
  for (auto top = static_cast<unsigned char>(big_endian.front()); top != 0; top >>= 1) ++bits;
  return bits;
}

struct ParsedKey {
  std::optional<VerificationKey> usable;
  std::string unusable_reason;
};

ParsedKey parse_key(const json& key, std::size_t index, std::string_view source) {
  const KeyParser parser(source, index);
  if (!key.is_object()) parser.fail("", "must be a JSON object");
  for (const char* member : kPrivateMembers) {
    if (key.contains(member)) {
      parser.fail(member, "is private key material; a JWKS file for kedge holds public keys only");
    }
  }
  const std::string kty = parser.required_string(key, "kty");
  const auto kid = parser.optional_string(key, "kid");
  if (kid && kid->size() > kMaxKidBytes) parser.fail("kid", "is longer than 256 bytes");
  const auto use = parser.optional_string(key, "use");
  const auto alg = parser.optional_string(key, "alg");
  std::optional<bool> ops_allow_verify;
  if (const auto ops = key.find("key_ops"); ops != key.end()) {
    if (!ops->is_array()) parser.fail("key_ops", "must be an array of strings");
    ops_allow_verify = false;
    for (const auto& op : *ops) {
      if (!op.is_string()) parser.fail("key_ops", "must be an array of strings");
      if (op.get_ref<const std::string&>() == "verify") ops_allow_verify = true;
    }
  }

  ParsedKey parsed;
  VerificationKey result;
  result.index = index;
  result.kid = kid.value_or("");
  result.algorithm_pinned = alg.has_value();

  if (kty == "RSA") {
    const std::string n = parser.required_bytes(key, "n");
    const std::string e = parser.required_bytes(key, "e");
    // RFC 7518 §6.3.1.1 forbids leading zero octets in n; some issuers emit one (a two's-complement habit),
    // and it changes nothing, so it is accepted. The exponent must fit 64 bits and be odd, >= 3.
    const std::string_view exponent = strip_leading_zeros(e);
    if (exponent.size() > 8 || bit_length(exponent) < 2 || (static_cast<unsigned char>(exponent.back()) & 1) == 0) {
      parser.fail("e", "is not an odd public exponent of at least 3 that fits 64 bits");
    }
    if (alg && *alg != "RS256") {
      if (alg->starts_with("ES")) parser.fail("alg", "\"" + printable_excerpt(*alg) + "\" does not fit kty \"RSA\"");
      parsed.unusable_reason = "alg \"" + printable_excerpt(*alg) + "\" is not supported (RSA keys: RS256)";
    }
    result.algorithm = JwsAlgorithm::rs256;
    result.bits = bit_length(n);
    if (parsed.unusable_reason.empty()) {
      if (result.bits < kMinRsaBits) {
        parsed.unusable_reason = "RSA modulus of " + std::to_string(result.bits) +
                                 " bits is too short (RFC 7518 §3.3 requires at least 2048)";
      } else if (result.bits > kMaxRsaBits) {
        parsed.unusable_reason = "RSA modulus of " + std::to_string(result.bits) + " bits is longer than 8192";
      }
    }
    if (parsed.unusable_reason.empty()) {
      result.key = rsa_public_key(std::string(strip_leading_zeros(n)), std::string(exponent));
      if (!result.key) parser.fail("n", "n and e do not form a valid RSA public key");
    }
  } else if (kty == "EC") {
    const std::string crv = parser.required_string(key, "crv");
    if (crv != "P-256") {
      // Parse nothing else: the coordinates of another curve have other sizes.
      parsed.unusable_reason = "EC curve " + printable_excerpt(crv) + " is not supported (ES256 needs P-256)";
    } else {
      const std::string x = parser.required_bytes(key, "x");
      const std::string y = parser.required_bytes(key, "y");
      // RFC 7518 §6.2.1.2: "the full coordinate size", even with leading zeros.
      if (x.size() != kP256CoordinateBytes) parser.fail("x", "must be 32 bytes for P-256");
      if (y.size() != kP256CoordinateBytes) parser.fail("y", "must be 32 bytes for P-256");
      if (alg && *alg != "ES256") {
        if (alg->starts_with("RS") || alg->starts_with("PS")) {
          parser.fail("alg", "\"" + printable_excerpt(*alg) + "\" does not fit kty \"EC\"");
        }
        parsed.unusable_reason = "alg \"" + printable_excerpt(*alg) + "\" is not supported (P-256 keys: ES256)";
      }
      result.algorithm = JwsAlgorithm::es256;
      result.bits = 256;
      result.key = p256_public_key(x, y);
      if (!result.key) parser.fail("x", "x and y are not a point on P-256");
    }
  } else {
    parsed.unusable_reason = "kty \"" + printable_excerpt(kty) + "\" is not supported (RSA and EC only)";
  }

  if (parsed.unusable_reason.empty() && use && *use != "sig") {
    parsed.unusable_reason = "use \"" + printable_excerpt(*use) + "\" is not \"sig\"";
  }
  if (parsed.unusable_reason.empty() && ops_allow_verify == false) {
    parsed.unusable_reason = "key_ops does not include \"verify\"";
  }
  if (parsed.unusable_reason.empty()) parsed.usable = std::move(result);
  return parsed;
}

}  // namespace

std::string_view to_string(JwsAlgorithm algorithm) noexcept {
  switch (algorithm) {
    case JwsAlgorithm::rs256: return "RS256";
    case JwsAlgorithm::es256: return "ES256";
  }
  return "?";
}

std::string UnusableKey::describe() const {
  std::string text = "keys[" + std::to_string(index) + "]";
  if (!kid.empty()) text += " (kid \"" + kid + "\")";
  return text + ": " + reason;
}

KeySet KeySet::load_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw JwksError(name + ": cannot read: " + ec.message());
  if (size > kMaxFileBytes) throw JwksError(name + ": larger than 1 MiB; a JWKS file holds a few public keys");
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw JwksError(name + ": cannot open");
  std::ostringstream text;
  text << stream.rdbuf();
  if (!stream && !stream.eof()) throw JwksError(name + ": read error");
  return parse(text.str(), name);
}

KeySet KeySet::parse(std::string_view json_text, std::string_view source_name) {
  const std::string source(source_name);
  if (json_text.size() > kMaxFileBytes) throw JwksError(source + ": larger than 1 MiB");
  const auto document = parse_json_object(json_text, 8);
  if (!document) {
    throw JwksError(source + ": not a JSON object (or a member name repeats, or nesting is deeper than 8)");
  }
  const auto keys = document->find("keys");
  if (keys == document->end() || !keys->is_array()) {
    throw JwksError(source + ": keys: missing; a JWK Set is {\"keys\": [...]} (RFC 7517 §5)");
  }
  if (keys->size() > kMaxKeys) throw JwksError(source + ": keys: more than 256 keys");

  KeySet set;
  // Errors from OpenSSL while building keys stay out of the thread's error queue, which TLS code reads.
  ERR_set_mark();
  try {
    std::set<std::string> kids;
    for (std::size_t i = 0; i < keys->size(); ++i) {
      ParsedKey parsed = parse_key((*keys)[i], i, source);
      if (parsed.usable) {
        if (!parsed.usable->kid.empty() && !kids.insert(parsed.usable->kid).second) {
          throw JwksError(source + ": keys[" + std::to_string(i) + "].kid: \"" + printable_excerpt(parsed.usable->kid) +
                          "\" is used by an earlier key");
        }
        set.keys_.push_back(std::move(*parsed.usable));
      } else {
        UnusableKey unusable;
        unusable.index = i;
        if (const auto kid = (*keys)[i].find("kid"); kid != (*keys)[i].end() && kid->is_string()) {
          unusable.kid = printable_excerpt(kid->get_ref<const std::string&>());
        }
        unusable.reason = std::move(parsed.unusable_reason);
        set.unusable_.push_back(std::move(unusable));
      }
    }
  } catch (...) {
    ERR_pop_to_mark();
    throw;
  }
  ERR_pop_to_mark();

  if (set.keys_.empty()) {
    std::string text = source + ": no usable key";
    for (const auto& unusable : set.unusable_) text += "; " + unusable.describe();
    throw JwksError(text);
  }
  return set;
}

const VerificationKey* KeySet::find_by_kid(std::string_view kid) const noexcept {
  for (const auto& key : keys_) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

}  // namespace kedge::identity
