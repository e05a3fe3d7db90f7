// JWKS loading: strict errors naming the file and JSON path, and keys this build cannot use reported
// (for `kedge check`) instead of failing the load.
#include "identity/jwks.h"

#include <openssl/err.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "jose_fixture.h"

using namespace kedge::identity;
using namespace kedge::identity::testing;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

const TestKey& rsa() {
  static const TestKey key = generate_rsa("rsa-1");
  return key;
}
const TestKey& ec() {
  static const TestKey key = generate_p256("ec-1");
  return key;
}

std::string load_error(const std::string& text) {
  try {
    (void)KeySet::parse(text, "jwks.json");
  } catch (const JwksError& error) {
    return error.what();
  }
  FAIL("no JwksError for " << text);
  return {};
}

}  // namespace

TEST_CASE("a JWKS with an RSA and a P-256 key loads both", "[jwks]") {
  const KeySet set = KeySet::parse(
      jwks_text({public_jwk(rsa(), {{"use", "sig"}, {"alg", "RS256"}}), public_jwk(ec(), {{"key_ops", {"verify"}}})}),
      "jwks.json");
  REQUIRE(set.keys().size() == 2);
  CHECK(set.unusable().empty());
  CHECK(set.keys()[0].kid == "rsa-1");
  CHECK(set.keys()[0].algorithm == JwsAlgorithm::rs256);
  CHECK(set.keys()[0].algorithm_pinned);
  CHECK(set.keys()[0].bits == 2048);
  CHECK(set.keys()[1].algorithm == JwsAlgorithm::es256);
  CHECK(set.keys()[1].bits == 256);
  CHECK(set.find_by_kid("ec-1") == &set.keys()[1]);
  CHECK(set.find_by_kid("missing") == nullptr);
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("an RSA modulus with a leading zero octet is accepted", "[jwks]") {
  json jwk = public_jwk(rsa());
  jwk["n"] = base64url_encode(std::string(1, '\0') + *base64url_decode(jwk["n"].get<std::string>()));
  const KeySet set = KeySet::parse(jwks_text({jwk}), "jwks.json");
  CHECK(set.keys().at(0).bits == 2048);
}

TEST_CASE("load_file names the file", "[jwks]") {
  const auto dir = std::filesystem::temp_directory_path() / ("kedge-jwks-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "keys.json";
  {
    std::ofstream out(path);
    out << jwks_text({public_jwk(ec())});
  }
  CHECK(KeySet::load_file(path).keys().size() == 1);
  {
    std::ofstream out(path);
    out << "{\"keys\": [";
  }
  CHECK_THROWS_WITH(KeySet::load_file(path), StartsWith(path.string() + ": not a JSON object"));
  CHECK_THROWS_WITH(KeySet::load_file(dir / "absent.json"),
                    StartsWith((dir / "absent.json").string() + ": cannot read"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("JWKS load errors name the JSON path", "[jwks]") {
  const json good_rsa = public_jwk(rsa());
  const json good_ec = public_jwk(ec());
  auto without = [](json jwk, const char* member) {
    jwk.erase(member);
    return jwk;
  };
  auto with = [](json jwk, const char* member, json value) {
    jwk[member] = std::move(value);
    return jwk;
  };

  CHECK_THAT(load_error("not json"), StartsWith("jwks.json: not a JSON object"));
  CHECK_THAT(load_error("[]"), StartsWith("jwks.json: not a JSON object"));
  CHECK_THAT(load_error(R"({"keys": [], "keys": []})"), StartsWith("jwks.json: not a JSON object"));
  CHECK_THAT(load_error(R"({"key": []})"), StartsWith("jwks.json: keys: missing"));
  CHECK_THAT(load_error(R"({"keys": {}})"), StartsWith("jwks.json: keys: missing"));
  CHECK_THAT(load_error(R"({"keys": []})"), StartsWith("jwks.json: no usable key"));
  CHECK_THAT(load_error(R"({"keys": [7]})"), StartsWith("jwks.json: keys[0]: must be a JSON object"));
  CHECK_THAT(load_error(jwks_text({good_ec, without(good_rsa, "kty")})),
             StartsWith("jwks.json: keys[1].kty: is missing"));
  CHECK_THAT(load_error(jwks_text({without(good_rsa, "n")})), StartsWith("jwks.json: keys[0].n: is missing"));
  CHECK_THAT(load_error(jwks_text({with(good_rsa, "n", "abc+/")})),
             StartsWith("jwks.json: keys[0].n: is not base64url"));
  CHECK_THAT(load_error(jwks_text({with(good_rsa, "e", "AAA")})), StartsWith("jwks.json: keys[0].e:"));
  CHECK_THAT(load_error(jwks_text({with(good_rsa, "e", base64url_encode("\x01\x00"))})),
             StartsWith("jwks.json: keys[0].e:"));  // even exponent
  CHECK_THAT(load_error(jwks_text({with(good_rsa, "kid", 5)})), StartsWith("jwks.json: keys[0].kid: must be a string"));
  CHECK_THAT(load_error(jwks_text({with(good_rsa, "kid", std::string(300, 'k'))})),
             StartsWith("jwks.json: keys[0].kid: is longer than 256 bytes"));
  CHECK_THAT(load_error(jwks_text({with(good_rsa, "d", "AQAB")})),
             StartsWith("jwks.json: keys[0].d: is private key material"));
  CHECK_THAT(load_error(jwks_text({with(good_ec, "d", "AQAB")})), StartsWith("jwks.json: keys[0].d:"));
  CHECK_THAT(load_error(jwks_text({json{{"kty", "oct"}, {"k", "c2VjcmV0"}}})), StartsWith("jwks.json: keys[0].k:"));
  CHECK_THAT(load_error(jwks_text({with(good_rsa, "alg", "ES256")})),
             StartsWith("jwks.json: keys[0].alg: \"ES256\" does not fit kty \"RSA\""));
  CHECK_THAT(load_error(jwks_text({with(good_ec, "alg", "RS256")})), StartsWith("jwks.json: keys[0].alg:"));
  CHECK_THAT(load_error(jwks_text({with(good_ec, "x", base64url_encode(std::string(31, 'a')))})),
             StartsWith("jwks.json: keys[0].x: must be 32 bytes for P-256"));
  CHECK_THAT(load_error(jwks_text({with(good_ec, "y", good_ec["x"])})),
             StartsWith("jwks.json: keys[0].x: x and y are not a point on P-256"));
  CHECK_THAT(load_error(jwks_text({with(good_ec, "key_ops", "verify")})),
             StartsWith("jwks.json: keys[0].key_ops: must be an array of strings"));
  CHECK_THAT(load_error(jwks_text({good_rsa, with(good_ec, "kid", "rsa-1")})),
             StartsWith("jwks.json: keys[1].kid: \"rsa-1\" is used by an earlier key"));
  CHECK(ERR_peek_error() == 0);
}

TEST_CASE("keys this build cannot use are reported, not fatal", "[jwks]") {
  const json p384 = {{"kty", "EC"},
                     {"crv", "P-384"},
                     {"kid", "x"},
                     {"x", base64url_encode(std::string(48, 'a'))},
                     {"y", base64url_encode(std::string(48, 'b'))}};
  const json okp = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url_encode(std::string(32, 'a'))}};
  const TestKey small = generate_rsa("small", 1024);
  const KeySet set =
      KeySet::parse(jwks_text({public_jwk(rsa()), public_jwk(generate_rsa("enc"), {{"use", "enc"}}),
                               public_jwk(generate_rsa("rs512"), {{"alg", "RS512"}}), p384, okp, public_jwk(small),
                               public_jwk(generate_p256("wrap"), {{"key_ops", {"wrapKey"}}})}),
                    "jwks.json");
  REQUIRE(set.keys().size() == 1);
  REQUIRE(set.unusable().size() == 6);
  CHECK(set.unusable()[0].describe() == "keys[1] (kid \"enc\"): use \"enc\" is not \"sig\"");
  CHECK(set.unusable()[1].describe() == "keys[2] (kid \"rs512\"): alg \"RS512\" is not supported (RSA keys: RS256)");
  CHECK(set.unusable()[2].describe() == "keys[3] (kid \"x\"): EC curve P-384 is not supported (ES256 needs P-256)");
  CHECK(set.unusable()[3].describe() == "keys[4]: kty \"OKP\" is not supported (RSA and EC only)");
  CHECK_THAT(set.unusable()[4].describe(),
             StartsWith("keys[5] (kid \"small\"): RSA modulus of 1024 bits is too short"));
  CHECK(set.unusable()[5].describe() == "keys[6] (kid \"wrap\"): key_ops does not include \"verify\"");
}

TEST_CASE("a JWKS whose keys are all unusable is an error listing why", "[jwks]") {
  const std::string error = load_error(jwks_text({public_jwk(rsa(), {{"use", "enc"}})}));
  CHECK_THAT(error, StartsWith("jwks.json: no usable key"));
  CHECK_THAT(error, Contains("keys[0] (kid \"rsa-1\"): use \"enc\" is not \"sig\""));
}
