// JWT verification against keys generated in the test: every broken part of a token is refused with its
// own reason, and no refusal text carries the token.
#include "identity/jwt.h"

#include <openssl/err.h>

#include <catch2/catch.hpp>

#include "identity/jwks.h"
#include "jose_fixture.h"

using namespace kedge::identity;
using namespace kedge::identity::testing;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

struct Keys {
  TestKey rsa = generate_rsa("rsa-1");
  TestKey ec = generate_p256("ec-1");
  TestKey stranger_rsa = generate_rsa("rsa-1");  // same kid, another key
  KeySet set = KeySet::parse(jwks_text({public_jwk(rsa), public_jwk(ec)}), "test.jwks");
};

const Keys& keys() {
  static const Keys instance;
  return instance;
}

json good_claims() {
  return {{"sub", "alice"},   {"iss", "https://issuer.example"},
          {"aud", "kedge"},   {"exp", kNow + 300},
          {"iat", kNow - 10}, {"nbf", kNow - 10}};
}

JwtPolicy policy() {
  JwtPolicy p;
  p.issuer = "https://issuer.example";
  p.audiences = {"kedge"};
  p.clock_skew_seconds = 30;
  return p;
}

JwtResult check(const std::string& token, const JwtPolicy& p = policy(), std::int64_t now = kNow) {
  return verify_jwt(token, keys().set, p, now);
}

// The refusal, after checking that its detail holds neither the token nor its signature.
JwtFailure refusal(const std::string& token, const JwtPolicy& p = policy(), std::int64_t now = kNow) {
  const JwtResult result = check(token, p, now);
  REQUIRE(std::holds_alternative<JwtFailure>(result));
  const auto& failure = std::get<JwtFailure>(result);
  CHECK_FALSE(failure.detail.empty());
  if (!token.empty()) CHECK(failure.detail.find(token) == std::string::npos);
  const auto last_dot = token.rfind('.');
  if (last_dot != std::string::npos && token.size() - last_dot > 8) {
    CHECK(failure.detail.find(token.substr(last_dot + 1)) == std::string::npos);
  }
  CHECK(ERR_peek_error() == 0);  // the OpenSSL error queue is left as found
  return failure;
}

JwtRefusal reason_of(const std::string& token, const JwtPolicy& p = policy(), std::int64_t now = kNow) {
  return refusal(token, p, now).reason;
}

std::string with_signature_byte_flipped(std::string token) {
  const auto dot = token.rfind('.');
  const auto raw = base64url_decode(token.substr(dot + 1));
  std::string signature = *raw;
  signature[signature.size() / 2] = static_cast<char>(signature[signature.size() / 2] ^ 0x01);
  return token.substr(0, dot + 1) + base64url_encode(signature);
}

}  // namespace

TEST_CASE("a well-formed RS256 token verifies and names its principal", "[jwt]") {
  const auto result = check(make_token(keys().rsa, good_claims()));
  REQUIRE(std::holds_alternative<VerifiedJwt>(result));
  const auto& token = std::get<VerifiedJwt>(result);
  CHECK(token.principal == "alice");
  CHECK(token.expires_at == kNow + 300);
  CHECK(token.key_id == "rsa-1");
  CHECK(token.algorithm == JwsAlgorithm::rs256);
}

TEST_CASE("a well-formed ES256 token verifies", "[jwt]") {
  const auto result = check(make_token(keys().ec, good_claims()));
  REQUIRE(std::holds_alternative<VerifiedJwt>(result));
  CHECK(std::get<VerifiedJwt>(result).algorithm == JwsAlgorithm::es256);
  CHECK(std::get<VerifiedJwt>(result).key_id == "ec-1");
}

TEST_CASE("signatures that do not verify are bad_signature", "[jwt]") {
  SECTION("one flipped bit, RS256") {
    CHECK(reason_of(with_signature_byte_flipped(make_token(keys().rsa, good_claims()))) == JwtRefusal::bad_signature);
  }
  SECTION("one flipped bit, ES256") {
    CHECK(reason_of(with_signature_byte_flipped(make_token(keys().ec, good_claims()))) == JwtRefusal::bad_signature);
  }
  SECTION("signed by another key under the same kid") {
    CHECK(reason_of(make_token(keys().stranger_rsa, good_claims())) == JwtRefusal::bad_signature);
  }
  SECTION("payload changed after signing") {
    const std::string token = make_token(keys().rsa, good_claims());
    json claims = good_claims();
    claims["sub"] = "admin";
    const auto first = token.find('.');
    const auto second = token.find('.', first + 1);
    const std::string forged = token.substr(0, first + 1) + base64url_encode(claims.dump()) + token.substr(second);
    CHECK(reason_of(forged) == JwtRefusal::bad_signature);
  }
  SECTION("ES256 signature in DER form instead of R || S") {
    const std::string token = make_token(keys().ec, good_claims());
    const auto dot = token.rfind('.');
    std::string der(72, '\x30');
    CHECK(reason_of(token.substr(0, dot + 1) + base64url_encode(der)) == JwtRefusal::bad_signature);
  }
  SECTION("RS256 signature one byte short") {
    const std::string token = make_token(keys().rsa, good_claims());
    const auto dot = token.rfind('.');
    std::string signature = *base64url_decode(token.substr(dot + 1));
    signature.pop_back();
    CHECK(reason_of(token.substr(0, dot + 1) + base64url_encode(signature)) == JwtRefusal::bad_signature);
  }
  SECTION("empty signature") {
    const std::string token = make_token(keys().rsa, good_claims());
    CHECK(reason_of(token.substr(0, token.rfind('.') + 1)) == JwtRefusal::bad_signature);
  }
}

TEST_CASE("algorithms other than RS256 and ES256 are refused before any key is used", "[jwt]") {
  SECTION("alg none with an empty signature (RFC 7518 §3.6)") {
    const std::string token =
        base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + base64url_encode(good_claims().dump()) + ".";
    const auto failure = refusal(token);
    CHECK(failure.reason == JwtRefusal::unsupported_algorithm);
    CHECK(failure.detail.find("\"none\"") != std::string::npos);
  }
  SECTION("alg None, any case") {
    const std::string token =
        base64url_encode(R"({"alg":"None","kid":"rsa-1"})") + "." + base64url_encode(good_claims().dump()) + ".";
    CHECK(reason_of(token) == JwtRefusal::unsupported_algorithm);
  }
  SECTION("HS256 keyed with the RSA public key's text (algorithm confusion)") {
    const std::string secret = public_jwk(keys().rsa).dump();
    const std::string token = hs256_token(secret, {{"alg", "HS256"}, {"kid", "rsa-1"}}, good_claims());
    CHECK(reason_of(token) == JwtRefusal::unsupported_algorithm);
  }
  SECTION("RS512, PS256 and ES384") {
    for (const char* alg : {"RS512", "PS256", "ES384", "EdDSA", "rs256"}) {
      CAPTURE(alg);
      CHECK(reason_of(make_token(keys().rsa, good_claims(), {{"alg", alg}})) == JwtRefusal::unsupported_algorithm);
    }
  }
  SECTION("no alg at all") {
    CHECK(reason_of(make_token(keys().rsa, good_claims(), {{"alg", nullptr}})) == JwtRefusal::malformed_token);
  }
  SECTION("alg that is not a string") {
    CHECK(reason_of(make_token(keys().rsa, good_claims(), {{"alg", 256}})) == JwtRefusal::malformed_token);
  }
}

TEST_CASE("the key is chosen by kid, and must fit the algorithm", "[jwt]") {
  SECTION("unknown kid") {
    const auto failure = refusal(make_token(keys().rsa, good_claims(), {{"kid", "rsa-2"}}));
    CHECK(failure.reason == JwtRefusal::unknown_key_id);
    CHECK(failure.detail.find("\"rsa-2\"") != std::string::npos);
  }
  SECTION("kid is case-sensitive") {
    CHECK(reason_of(make_token(keys().rsa, good_claims(), {{"kid", "RSA-1"}})) == JwtRefusal::unknown_key_id);
  }
  SECTION("no kid while the set holds two keys") {
    CHECK(reason_of(make_token(keys().rsa, good_claims(), {{"kid", nullptr}})) == JwtRefusal::missing_key_id);
  }
  SECTION("no kid while the set holds one key") {
    const KeySet single = KeySet::parse(jwks_text({public_jwk(keys().rsa)}), "single");
    const auto result = verify_jwt(make_token(keys().rsa, good_claims(), {{"kid", nullptr}}), single, policy(), kNow);
    CHECK(std::holds_alternative<VerifiedJwt>(result));
  }
  SECTION("a kid that is not a string") {
    CHECK(reason_of(make_token(keys().rsa, good_claims(), {{"kid", 1}})) == JwtRefusal::malformed_token);
  }
  SECTION("ES256 naming the RSA key") {
    const std::string token = make_token(keys().ec, good_claims(), {{"kid", "rsa-1"}});
    CHECK(reason_of(token) == JwtRefusal::key_algorithm_mismatch);
  }
  SECTION("RS256 naming the EC key") {
    const std::string token = make_token(keys().rsa, good_claims(), {{"kid", "ec-1"}});
    CHECK(reason_of(token) == JwtRefusal::key_algorithm_mismatch);
  }
  SECTION("a kid whose JWK is unusable says so") {
    const KeySet set = KeySet::parse(
        jwks_text({public_jwk(keys().rsa), public_jwk(generate_rsa("enc-key"), {{"use", "enc"}})}), "mixed");
    const std::string token = make_token(keys().rsa, good_claims(), {{"kid", "enc-key"}});
    const auto result = verify_jwt(token, set, policy(), kNow);
    REQUIRE(std::holds_alternative<JwtFailure>(result));
    CHECK(std::get<JwtFailure>(result).reason == JwtRefusal::unknown_key_id);
    CHECK(std::get<JwtFailure>(result).detail.find("use \"enc\"") != std::string::npos);
  }
}

TEST_CASE("time claims with clock skew", "[jwt]") {
  auto claims = good_claims();
  SECTION("expired beyond the skew") {
    claims["exp"] = kNow - 31;
    const auto failure = refusal(make_token(keys().rsa, claims));
    CHECK(failure.reason == JwtRefusal::expired);
    CHECK(failure.detail.find(std::to_string(kNow - 31)) != std::string::npos);
  }
  SECTION("expired exactly at exp + skew") {
    claims["exp"] = kNow - 30;
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::expired);
  }
  SECTION("expired but within the skew") {
    claims["exp"] = kNow - 29;
    CHECK(std::holds_alternative<VerifiedJwt>(check(make_token(keys().rsa, claims))));
  }
  SECTION("no skew") {
    auto p = policy();
    p.clock_skew_seconds = 0;
    claims["exp"] = kNow;
    CHECK(reason_of(make_token(keys().rsa, claims), p) == JwtRefusal::expired);
    claims["exp"] = kNow + 1;
    CHECK(std::holds_alternative<VerifiedJwt>(check(make_token(keys().rsa, claims), p)));
  }
  SECTION("exp with a fraction (a NumericDate may have one)") {
    claims["exp"] = static_cast<double>(kNow) + 100.75;
    const auto result = check(make_token(keys().rsa, claims));
    REQUIRE(std::holds_alternative<VerifiedJwt>(result));
    CHECK(std::get<VerifiedJwt>(result).expires_at == kNow + 100);
  }
  SECTION("exp missing") {
    claims.erase("exp");
    const auto failure = refusal(make_token(keys().rsa, claims));
    CHECK(failure.reason == JwtRefusal::missing_claim);
    CHECK(failure.detail.find("exp") != std::string::npos);
  }
  SECTION("exp as a string") {
    claims["exp"] = std::to_string(kNow + 300);
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::invalid_claim);
  }
  SECTION("exp far beyond int64 saturates instead of wrapping") {
    claims["exp"] = 1e300;
    CHECK(std::holds_alternative<VerifiedJwt>(check(make_token(keys().rsa, claims))));
    claims["exp"] = -1e300;
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::expired);
    claims["exp"] = std::numeric_limits<std::uint64_t>::max();
    CHECK(std::holds_alternative<VerifiedJwt>(check(make_token(keys().rsa, claims))));
  }
  SECTION("nbf in the future beyond the skew") {
    claims["nbf"] = kNow + 60;
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::not_yet_valid);
  }
  SECTION("nbf in the future within the skew") {
    claims["nbf"] = kNow + 20;
    CHECK(std::holds_alternative<VerifiedJwt>(check(make_token(keys().rsa, claims))));
  }
  SECTION("nbf not a number") {
    claims["nbf"] = true;
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::invalid_claim);
  }
  SECTION("iat in the future beyond the skew") {
    claims["iat"] = kNow + 600;
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::issued_in_future);
  }
}

TEST_CASE("issuer and audience", "[jwt]") {
  auto claims = good_claims();
  SECTION("wrong issuer, named in the detail") {
    claims["iss"] = "https://evil.example";
    const auto failure = refusal(make_token(keys().rsa, claims));
    CHECK(failure.reason == JwtRefusal::wrong_issuer);
    CHECK(failure.detail.find("https://evil.example") != std::string::npos);
  }
  SECTION("issuer differs in case only") {
    claims["iss"] = "https://ISSUER.example";
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::wrong_issuer);
  }
  SECTION("issuer missing") {
    claims.erase("iss");
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::wrong_issuer);
  }
  SECTION("issuer not checked when none is configured") {
    claims.erase("iss");
    auto p = policy();
    p.issuer.reset();
    CHECK(std::holds_alternative<VerifiedJwt>(check(make_token(keys().rsa, claims), p)));
  }
  SECTION("wrong audience") {
    claims["aud"] = "other-service";
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::wrong_audience);
  }
  SECTION("audience array holding ours") {
    claims["aud"] = {"other-service", "kedge"};
    CHECK(std::holds_alternative<VerifiedJwt>(check(make_token(keys().rsa, claims))));
  }
  SECTION("audience array without ours") {
    claims["aud"] = {"a", "b"};
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::wrong_audience);
  }
  SECTION("empty audience array") {
    claims["aud"] = json::array();
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::wrong_audience);
  }
  SECTION("audience array with a number") {
    claims["aud"] = {"kedge", 7};
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::invalid_claim);
  }
  SECTION("audience missing") {
    claims.erase("aud");
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::wrong_audience);
  }
  SECTION("one of several configured audiences") {
    auto p = policy();
    p.audiences = {"first", "kedge"};
    CHECK(std::holds_alternative<VerifiedJwt>(check(make_token(keys().rsa, claims), p)));
  }
}

TEST_CASE("the principal claim", "[jwt]") {
  auto claims = good_claims();
  SECTION("sub missing") {
    claims.erase("sub");
    const auto failure = refusal(make_token(keys().rsa, claims));
    CHECK(failure.reason == JwtRefusal::missing_claim);
    CHECK(failure.detail.find("\"sub\"") != std::string::npos);
  }
  SECTION("sub empty") {
    claims["sub"] = "";
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::invalid_principal);
  }
  SECTION("sub not a string") {
    claims["sub"] = 42;
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::invalid_principal);
  }
  SECTION("sub with a newline (a forged log line)") {
    claims["sub"] = "alice\nlevel=admin";
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::invalid_principal);
  }
  SECTION("a configured claim instead of sub") {
    claims["client_id"] = "svc-orders";
    auto p = policy();
    p.principal_claim = "client_id";
    const auto result = check(make_token(keys().rsa, claims), p);
    REQUIRE(std::holds_alternative<VerifiedJwt>(result));
    CHECK(std::get<VerifiedJwt>(result).principal == "svc-orders");
  }
}

TEST_CASE("malformed tokens", "[jwt]") {
  const std::string good = make_token(keys().rsa, good_claims());
  SECTION("truncated: the signature's base64url has a length of 4n+1") {
    std::string token = good;
    const std::size_t signature_length = token.size() - token.rfind('.') - 1;  // 342 for 256 bytes
    token.resize(token.size() - (signature_length % 4 + 3) % 4);
    REQUIRE((token.size() - token.rfind('.') - 1) % 4 == 1);
    CHECK(reason_of(token) == JwtRefusal::malformed_token);
  }
  SECTION("truncated in the middle of the payload") {
    CHECK(reason_of(good.substr(0, good.find('.') + 10)) == JwtRefusal::malformed_token);
  }
  SECTION("padding is not base64url") { CHECK(reason_of(good + "==") == JwtRefusal::malformed_token); }
  SECTION("standard base64 characters") {
    std::string token = good;
    token[token.size() - 5] = '+';
    CHECK(reason_of(token) == JwtRefusal::malformed_token);
  }
  SECTION("non-canonical base64url (unused bits set)") {
    // 256 signature bytes -> 342 characters, the last carrying 4 unused bits.
    std::string token = good;
    char& last = token.back();
    const auto value = std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").find(last);
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[(value & ~15u) | 1];
    CHECK(reason_of(token) == JwtRefusal::malformed_token);
  }
  SECTION("overlong token") {
    json claims = good_claims();
    claims["pad"] = std::string(kMaxJwtBytes, 'x');
    CHECK(reason_of(make_token(keys().rsa, claims)) == JwtRefusal::token_too_large);
  }
  SECTION("header that is not JSON") {
    CHECK(reason_of(sign_texts(keys().rsa, "{alg: RS256}", good_claims().dump())) == JwtRefusal::malformed_token);
  }
  SECTION("header that is a JSON array") {
    CHECK(reason_of(sign_texts(keys().rsa, R"(["RS256"])", good_claims().dump())) == JwtRefusal::malformed_token);
  }
  SECTION("header repeating alg (one meaning only)") {
    const std::string header = R"({"alg":"RS256","kid":"rsa-1","alg":"none"})";
    CHECK(reason_of(sign_texts(keys().rsa, header, good_claims().dump())) == JwtRefusal::malformed_token);
  }
  SECTION("header with crit") {
    CHECK(reason_of(make_token(keys().rsa, good_claims(), {{"crit", {"exp"}}, {"exp", 1}})) ==
          JwtRefusal::malformed_token);
  }
  SECTION("payload that is not JSON, correctly signed") {
    CHECK(reason_of(sign_texts(keys().rsa, default_header(keys().rsa).dump(), "sub=alice")) ==
          JwtRefusal::malformed_token);
  }
  SECTION("payload repeating sub, correctly signed") {
    const std::string payload = R"({"sub":"alice","sub":"admin","exp":1900000000})";
    CHECK(reason_of(sign_texts(keys().rsa, default_header(keys().rsa).dump(), payload)) == JwtRefusal::malformed_token);
  }
  SECTION("payload nested too deep, correctly signed") {
    const std::string payload =
        R"({"sub":"alice","exp":1900000000,"x":)" + std::string(40, '[') + std::string(40, ']') + "}";
    CHECK(reason_of(sign_texts(keys().rsa, default_header(keys().rsa).dump(), payload)) == JwtRefusal::malformed_token);
  }
  SECTION("two parts, four parts, empty") {
    CHECK(reason_of(good.substr(0, good.rfind('.'))) == JwtRefusal::malformed_token);
    CHECK(reason_of(good + ".x") == JwtRefusal::malformed_token);
    const JwtResult empty = check("");
    REQUIRE(std::holds_alternative<JwtFailure>(empty));
    CHECK(std::get<JwtFailure>(empty).reason == JwtRefusal::malformed_token);
  }
  SECTION("header with invalid UTF-8") {
    CHECK(reason_of(sign_texts(keys().rsa, "{\"alg\":\"RS256\",\"x\":\"\xff\"}", good_claims().dump())) ==
          JwtRefusal::malformed_token);
  }
}

TEST_CASE("every refusal has a label for counters", "[jwt]") {
  CHECK(kJwtRefusalCount == 16);
  CHECK(label(JwtRefusal::expired) == "expired");
  CHECK(label(JwtRefusal::wrong_audience) == "wrong_audience");
  CHECK(label(JwtRefusal::internal_error) == "internal_error");
}
