// OAUTHBEARER: the client initial response grammar (RFC 7628 §3.1, as Kafka clients send it) and the
// server exchange including the error challenge and the client's %x01 (RFC 7628 §3.2.2-3.2.3).
#include "identity/oauthbearer.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "jose_fixture.h"

using namespace kedge::identity;
using namespace kedge::identity::testing;
using namespace std::string_literals;

namespace {

// Test messages write the RFC 7628 kvsep %x01 as '|' (a byte none of these messages needs otherwise).
std::string wire(std::string text) {
  for (char& c : text) {
    if (c == '|') c = '\x01';
  }
  return text;
}

OAuthBearerInitialResponse parsed(const std::string& message) {
  const auto result = parse_oauthbearer_initial_response(wire(message));
  if (const auto* malformed = std::get_if<OAuthBearerMalformed>(&result)) {
    FAIL("malformed: " << malformed->reason);
  }
  return std::get<OAuthBearerInitialResponse>(result);
}

std::string malformed(const std::string& message) {
  const auto result = parse_oauthbearer_initial_response(wire(message));
  REQUIRE(std::holds_alternative<OAuthBearerMalformed>(result));
  const auto& reason = std::get<OAuthBearerMalformed>(result).reason;
  CHECK_FALSE(reason.empty());
  CHECK(reason.find("secret-token") == std::string::npos);
  return reason;
}

}  // namespace

TEST_CASE("initial responses as Kafka clients send them", "[oauthbearer]") {
  SECTION("Java client / librdkafka, no authzid, no extensions") {
    const auto response = parsed("n,,|auth=Bearer eyJh.eyJz.c2ln||");
    CHECK(response.token == "eyJh.eyJz.c2ln");
    CHECK(response.authorization_id.empty());
    CHECK(response.extensions.empty());
  }
  SECTION("with an authzid and its saslname escapes") {
    const auto response = parsed("n,a=us=2Cer=3D1,|auth=Bearer tok||");
    CHECK(response.authorization_id == "us,er=1");
  }
  SECTION("with SASL extensions (KIP-342)") {
    const auto response = parsed("n,,|auth=Bearer tok|logicalCluster=lkc-123|identityPoolId=pool-A b||");
    REQUIRE(response.extensions.size() == 2);
    CHECK(response.extensions[0] == std::pair<std::string, std::string>{"logicalCluster", "lkc-123"});
    CHECK(response.extensions[1] == std::pair<std::string, std::string>{"identityPoolId", "pool-A b"});
  }
  SECTION("extension before auth, empty extension value (RFC 7628 allows *value)") {
    const auto response = parsed("y,,|host=|auth=Bearer tok==||");
    CHECK(response.token == "tok==");
    REQUIRE(response.extensions.size() == 1);
    CHECK(response.extensions[0].second.empty());
  }
  SECTION("scheme in any case, several spaces") { CHECK(parsed("n,,|auth=bEaReR   tok||").token == "tok"); }
}

TEST_CASE("malformed initial responses", "[oauthbearer]") {
  const std::string auth = "auth=Bearer secret-token|";
  CHECK(malformed("") == "gs2 header does not start with \"n,\" or \"y,\"");
  CHECK(malformed("|") == "gs2 header does not start with \"n,\" or \"y,\"");
  CHECK(malformed("p=tls-unique,,|" + auth + "|") == "channel binding requested (gs2 \"p=\"); OAUTHBEARER has none");
  CHECK(malformed("F,n,,|" + auth + "|") == "gs2 non-standard flag \"F\" is not supported");
  CHECK(malformed("n,|" + auth + "|") == "gs2 header has no second \",\"");
  CHECK(malformed("n,u=x,|" + auth + "|") == "gs2 authzid does not start with \"a=\"");
  CHECK(malformed("n,a=,|" + auth + "|") == "gs2 authzid is not a saslname (RFC 5801 §4)");
  CHECK(malformed("n,a=x=41,|" + auth + "|") == "gs2 authzid is not a saslname (RFC 5801 §4)");
  CHECK(malformed("n,," + auth + "|") == "no %x01 after the gs2 header");
  CHECK(malformed("n,,|" + auth) == "message does not end with %x01 %x01");
  CHECK(malformed("n,,|" + auth + "|x") == "bytes after the final %x01");
  CHECK(malformed("n,,|auth=Bearer secret-token") == "kvpair 1 is not ended by %x01");
  CHECK(malformed("n,,||") == "no auth kvpair");
  CHECK(malformed("n,,|x=1||") == "no auth kvpair");
  CHECK(malformed("n,,|" + auth + auth + "|") == "key \"auth\" appears twice");
  CHECK(malformed("n,,|" + auth + "a=1|a=2||") == "key \"a\" appears twice");
  CHECK(malformed("n,,|" + auth + "k1=v||") == "kvpair 2: key is not 1*ALPHA");
  CHECK(malformed("n,,|" + auth + "=v||") == "kvpair 2: key is empty or longer than 64 bytes");
  CHECK(malformed("n,,|" + auth + "novalue||") == "kvpair 2 has no \"=\"");
  CHECK(malformed("n,,|" + auth + "k=a\x7f||") == "extension \"k\": value holds a byte outside VCHAR/SP/HTAB/CR/LF");
  CHECK(malformed("n,,|" + auth + "k=a\0b||"s) == "extension \"k\": value holds a byte outside VCHAR/SP/HTAB/CR/LF");
  CHECK(malformed("n,,|" + auth + "k=" + std::string(1025, 'v') + "||") ==
        "extension \"k\": value longer than 1024 bytes");
  CHECK(malformed("n,,|auth=Basic secret-token||") == "auth is not \"Bearer <token>\"");
  CHECK(malformed("n,,|auth=Bearer||") == "auth is not \"Bearer <token>\"");
  CHECK(malformed("n,,|auth=Bearer ||") == "auth: the bearer token is not a b64token");
  CHECK(malformed("n,,|auth=Bearer secret-token$||") == "auth: the bearer token is not a b64token");
  CHECK(malformed("n,,|auth=Bearer secret-token=x||") == "auth: the bearer token is not a b64token");

  std::string many = "n,,|" + auth;
  for (char name = 'a'; name < 'a' + 26; ++name) many += std::string(1, name) + "=1|";
  for (char name = 'A'; name < 'A' + 7; ++name) many += std::string(1, name) + "=1|";
  CHECK(malformed(many + "|") == "more than 32 extensions");

  const std::string huge = "n,,|auth=Bearer " + std::string(kMaxOAuthBearerMessageBytes, 'a') + "||";
  CHECK(malformed(huge).starts_with("message of "));
}

TEST_CASE("the error challenge and its acknowledgement", "[oauthbearer]") {
  CHECK(oauthbearer_error_challenge("invalid_token") == R"({"status":"invalid_token"})");
  CHECK(
      oauthbearer_error_challenge("invalid_token", "read write", "https://idp/.well-known/openid-configuration") ==
      R"({"status":"invalid_token","scope":"read write","openid-configuration":"https://idp/.well-known/openid-configuration"})");
  const auto escaped = oauthbearer_error_challenge("a\"b\\c\n");
  CHECK(escaped == R"({"status":"a\"b\\c\u000a"})");
  CHECK(nlohmann::json::parse(escaped)["status"] == "a\"b\\c\n");
  CHECK(is_oauthbearer_error_acknowledgement(wire("|")));
  CHECK_FALSE(is_oauthbearer_error_acknowledgement(wire("||")));
  CHECK_FALSE(is_oauthbearer_error_acknowledgement(""));
}

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

struct Fixture {
  TestKey key = generate_p256("ec-1");
  std::shared_ptr<const OAuthBearerSettings> settings;
  Fixture() {
    auto s = std::make_shared<OAuthBearerSettings>();
    s->keys = std::make_shared<const KeySet>(KeySet::parse(jwks_text({public_jwk(key)}), "jwks"));
    s->policy.audiences = {"kedge"};
    settings = std::move(s);
  }
  std::string token(std::int64_t exp, const std::string& sub = "alice") const {
    return make_token(key, {{"sub", sub}, {"exp", exp}, {"aud", "kedge"}});
  }
};

std::string initial(const std::string& token, const std::string& authzid = "") {
  return wire("n," + (authzid.empty() ? "" : "a=" + authzid) + ",|auth=Bearer " + token + "||");
}

}  // namespace

TEST_CASE("OAUTHBEARER server exchange", "[oauthbearer]") {
  const Fixture fixture;
  OAuthBearerServer server(fixture.settings);
  using Kind = OAuthBearerServer::Step::Kind;

  SECTION("a good token authenticates in one step") {
    const auto step = server.receive(initial(fixture.token(kNow + 600)), kNow);
    CHECK(step.kind == Kind::authenticated);
    CHECK(step.principal == "alice");
    CHECK(step.expires_at == kNow + 600);
    CHECK(server.finished());
    CHECK(server.receive(wire("|"), kNow).kind == Kind::failed);
  }
  SECTION("a bad token: challenge, %x01, then failure naming the reason") {
    const std::string token = fixture.token(kNow - 3600);
    const auto challenge = server.receive(initial(token), kNow);
    REQUIRE(challenge.kind == Kind::challenge);
    CHECK(challenge.challenge == R"({"status":"invalid_token"})");
    CHECK(challenge.refusal == JwtRefusal::expired);
    CHECK_FALSE(server.finished());
    const auto failed = server.receive(wire("|"), kNow);
    CHECK(failed.kind == Kind::failed);
    CHECK(failed.error_message == "OAUTHBEARER token refused: expired");
    CHECK(failed.refusal == JwtRefusal::expired);
    CHECK(failed.log_detail.find("expired at") != std::string::npos);
    CHECK(failed.log_detail.find(token) == std::string::npos);
    CHECK(server.finished());
  }
  SECTION("anything but %x01 after the challenge fails the exchange") {
    REQUIRE(server.receive(initial(fixture.token(kNow - 3600)), kNow).kind == Kind::challenge);
    const auto failed = server.receive(initial(fixture.token(kNow + 600)), kNow);
    CHECK(failed.kind == Kind::failed);
    CHECK(failed.error_message.find("%x01") != std::string::npos);
  }
  SECTION("a malformed first message fails at once") {
    const auto step = server.receive(wire("n,,|auth=Basic abc||"), kNow);
    CHECK(step.kind == Kind::failed);
    CHECK(step.error_message == "Invalid OAUTHBEARER client first message: auth is not \"Bearer <token>\"");
    CHECK_FALSE(step.refusal.has_value());
  }
  SECTION("an authzid equal to the principal is accepted") {
    CHECK(server.receive(initial(fixture.token(kNow + 600), "alice"), kNow).kind == Kind::authenticated);
  }
  SECTION("an authzid other than the principal fails") {
    const auto step = server.receive(initial(fixture.token(kNow + 600), "admin"), kNow);
    CHECK(step.kind == Kind::failed);
    CHECK(step.error_message.find("authorization id") != std::string::npos);
  }
  SECTION("a token signed by another key") {
    const TestKey other = generate_p256("ec-1");
    const std::string token = make_token(other, {{"sub", "alice"}, {"exp", kNow + 600}, {"aud", "kedge"}});
    CHECK(server.receive(initial(token), kNow).refusal == JwtRefusal::bad_signature);
    CHECK(server.receive(wire("|"), kNow).error_message == "OAUTHBEARER token refused: bad_signature");
  }
}
