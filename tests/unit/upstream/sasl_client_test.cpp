// The discovery connection's SASL client: SCRAM against RFC 7677's test
// vector, and the Kafka frame sequence against hand-built broker responses.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "upstream/sasl_client.h"
#include "kafka_codec/wire.h"

namespace wire = kedge::kafka::wire;
using kedge::sasl::SaslExchange;
using kedge::sasl::ScramClient;

namespace {

// RFC 7677 §3: SCRAM-SHA-256, user "user", password "pencil".
constexpr const char* kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

std::vector<std::uint8_t> frame(std::int32_t correlation_id, const std::vector<std::uint8_t>& body,
                                bool flexible_header = false) {
  std::vector<std::uint8_t> out;
  wire::put_i32(out, static_cast<std::int32_t>(4 + (flexible_header ? 1 : 0) + body.size()));
  wire::put_i32(out, correlation_id);
  if (flexible_header) wire::put_uvarint(out, 0);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

// ApiVersions v0 response body: error, [api_key, min, max].
std::vector<std::uint8_t> api_versions(std::int16_t handshake_max, std::int16_t authenticate_max) {
  std::vector<std::uint8_t> body;
  wire::put_i16(body, 0);
  wire::put_i32(body, 3);
  for (const auto& [key, min, max] : {std::tuple<int, int, int>{3, 0, 12}, {17, 0, handshake_max},
                                      {36, 0, authenticate_max}}) {
    wire::put_i16(body, static_cast<std::int16_t>(key));
    wire::put_i16(body, static_cast<std::int16_t>(min));
    wire::put_i16(body, static_cast<std::int16_t>(max));
  }
  return body;
}

std::vector<std::uint8_t> handshake_ok() {
  std::vector<std::uint8_t> body;
  wire::put_i16(body, 0);
  wire::put_i32(body, 1);
  wire::put_string(body, "SCRAM-SHA-256", false);
  return body;
}

// SaslAuthenticate v2 response body (flexible): error, message, auth_bytes, session lifetime, tags.
std::vector<std::uint8_t> authenticate_v2(std::int16_t error, const std::string& message, const std::string& bytes) {
  std::vector<std::uint8_t> body;
  wire::put_i16(body, error);
  if (message.empty()) {
    wire::put_uvarint(body, 0);  // null
  } else {
    wire::put_string(body, message, true);
  }
  wire::put_uvarint(body, static_cast<std::uint32_t>(bytes.size()) + 1);
  wire::put_bytes(body, bytes);
  wire::put_i64(body, 0);
  wire::put_uvarint(body, 0);
  return body;
}

struct Request {
  std::int16_t api_key = -1, version = -1;
  std::int32_t correlation_id = 0;
  std::string auth_bytes;  // SaslAuthenticate only
  std::string mechanism;   // SaslHandshake only
};

Request parse_request(const std::vector<std::uint8_t>& bytes) {
  Request out;
  REQUIRE(bytes.size() >= 12);
  REQUIRE(static_cast<std::size_t>(wire::get_i32(bytes.data())) == bytes.size() - 4);
  wire::Reader r(bytes, 4, bytes.size());
  std::int16_t client_id_length = 0;
  REQUIRE((r.read_i16(out.api_key) && r.read_i16(out.version) && r.read_i32(out.correlation_id) &&
           r.read_i16(client_id_length) && r.skip(static_cast<std::size_t>(client_id_length))));
  const bool flexible = out.api_key == 36 && out.version >= 2;
  std::uint32_t tags = 0;
  if (flexible) REQUIRE((r.read_uvarint(tags) && tags == 0));
  if (out.api_key == 17) {
    std::int16_t length = 0;
    REQUIRE(r.read_i16(length));
    out.mechanism = std::string(r.view(r.pos(), static_cast<std::size_t>(length)));
    REQUIRE(r.skip(static_cast<std::size_t>(length)));
  }
  if (out.api_key == 36) {
    std::size_t length = 0;
    if (flexible) {
      std::uint32_t n = 0;
      REQUIRE(r.read_uvarint(n));
      length = n - 1;
    } else {
      std::int32_t n = 0;
      REQUIRE(r.read_i32(n));
      length = static_cast<std::size_t>(n);
    }
    out.auth_bytes = std::string(r.view(r.pos(), length));
    REQUIRE(r.skip(length));
    if (flexible) REQUIRE((r.read_uvarint(tags) && tags == 0));
  }
  CHECK(r.remaining() == 0);
  return out;
}

kedge::SaslCredentials credentials(kedge::SaslMechanism mechanism, std::string user, std::string password) {
  kedge::SaslCredentials c;
  c.mechanism = mechanism;
  c.username = std::move(user);
  c.password = std::move(password);
  return c;
}

}  // namespace

TEST_CASE("SCRAM-SHA-256 client messages match RFC 7677 section 3", "[sasl][scram]") {
  ScramClient client(ScramClient::Hash::sha256, "user", "pencil", kClientNonce);
  CHECK(client.client_first() == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  std::string error;
  const auto final_message = client.client_final(kServerFirst, error);
  REQUIRE(final_message.has_value());
  CHECK(*final_message == kClientFinal);
  CHECK(client.verify_server_final(kServerFinal, error));

  SECTION("a server signature that differs in one character is refused") {
    std::string forged = kServerFinal;
    forged[5] = forged[5] == 'A' ? 'B' : 'A';
    CHECK_FALSE(client.verify_server_final(forged, error));
    CHECK(error.find("ServerSignature does not verify") != std::string::npos);
  }
  SECTION("a server error attribute is reported") {
    CHECK_FALSE(client.verify_server_final("e=invalid-proof", error));
    CHECK(error == "the SCRAM server reports invalid-proof");
  }
}

TEST_CASE("SCRAM refuses unsafe server-first messages", "[sasl][scram]") {
  const auto refused = [](const std::string& server_first) {
    ScramClient client(ScramClient::Hash::sha512, "user", "pencil", kClientNonce);
    std::string error;
    const bool ok = client.client_final(server_first, error).has_value();
    return ok ? std::string("<accepted>") : error;
  };
  CHECK(refused("r=otherNonce123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "the SCRAM server nonce does not extend kedge's nonce");
  CHECK(refused("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "the SCRAM server nonce does not extend kedge's nonce");  // nothing added by the server
  CHECK(refused("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=16385") ==
        "the SCRAM iteration count \"16385\" is not in 1..16384");
  CHECK(refused("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0") ==
        "the SCRAM iteration count \"0\" is not in 1..16384");
  CHECK(refused("r=rOprNGfwEbeRWgbNEkqOxyz,s=not base64!,i=4096") == "the SCRAM salt is not base64");
  CHECK(refused("m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "the SCRAM server requires an extension kedge does not support");
  CHECK(refused("garbage") == "malformed SCRAM server-first message");
  CHECK(refused("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").find("<accepted>") == 0);
}

TEST_CASE("SCRAM helpers: saslname escaping, base64, random nonces", "[sasl][scram]") {
  CHECK(kedge::sasl::escape_username("a,b=c") == "a=2Cb=3Dc");
  CHECK(kedge::sasl::base64_encode("n,,") == "biws");
  CHECK(kedge::sasl::base64_decode("biws") == std::optional<std::string>("n,,"));
  CHECK(kedge::sasl::base64_decode("YQ==") == std::optional<std::string>("a"));
  CHECK_FALSE(kedge::sasl::base64_decode("YQ=").has_value());
  CHECK_FALSE(kedge::sasl::base64_decode("Y=Q=").has_value());
  CHECK_FALSE(kedge::sasl::base64_decode(" biw").has_value());
  const std::string a = kedge::sasl::random_nonce(), b = kedge::sasl::random_nonce();
  CHECK(a.size() == 32);
  CHECK(a != b);
  CHECK(a.find(',') == std::string::npos);
}

TEST_CASE("SaslExchange: ApiVersions, SaslHandshake v1 and SCRAM over SaslAuthenticate v2", "[sasl]") {
  SaslExchange exchange(credentials(kedge::SaslMechanism::scram_sha_256, "user", "pencil"), "kedge-test", 100,
                        kClientNonce);
  const Request versions = parse_request(exchange.start());
  CHECK(versions.api_key == 18);
  CHECK(versions.version == 0);
  CHECK(versions.correlation_id == 100);

  auto step = exchange.on_response(frame(100, api_versions(1, 2)));
  REQUIRE(step.kind == SaslExchange::Step::Kind::send);
  CHECK(exchange.authenticate_version() == 2);
  const Request handshake = parse_request(step.frame);
  CHECK(handshake.api_key == 17);
  CHECK(handshake.version == 1);
  CHECK(handshake.mechanism == "SCRAM-SHA-256");

  step = exchange.on_response(frame(handshake.correlation_id, handshake_ok()));
  REQUIRE(step.kind == SaslExchange::Step::Kind::send);
  const Request first = parse_request(step.frame);
  CHECK(first.api_key == 36);
  CHECK(first.version == 2);
  CHECK(first.auth_bytes == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");

  step = exchange.on_response(frame(first.correlation_id, authenticate_v2(0, "", kServerFirst), true));
  REQUIRE(step.kind == SaslExchange::Step::Kind::send);
  const Request final_request = parse_request(step.frame);
  CHECK(final_request.auth_bytes == kClientFinal);

  SECTION("the broker's signature verifies: authenticated") {
    step = exchange.on_response(frame(final_request.correlation_id, authenticate_v2(0, "", kServerFinal), true));
    CHECK(step.kind == SaslExchange::Step::Kind::authenticated);
  }
  SECTION("the broker refuses: its message is in the error") {
    step = exchange.on_response(frame(final_request.correlation_id,
                                      authenticate_v2(58, "Authentication failed: Invalid user credentials", ""), true));
    REQUIRE(step.kind == SaslExchange::Step::Kind::failed);
    CHECK(step.error == "SASL authentication failed: Authentication failed: Invalid user credentials");
  }
  SECTION("a response with another correlation id is refused") {
    step = exchange.on_response(frame(final_request.correlation_id + 7, authenticate_v2(0, "", kServerFinal), true));
    CHECK(step.kind == SaslExchange::Step::Kind::failed);
  }
}

TEST_CASE("SaslExchange: PLAIN over SaslAuthenticate v0 when the broker offers only v0", "[sasl]") {
  SaslExchange exchange(credentials(kedge::SaslMechanism::plain, "alice", "pw"), "kedge-test", 1);
  exchange.start();
  auto step = exchange.on_response(frame(1, api_versions(1, 0)));
  REQUIRE(step.kind == SaslExchange::Step::Kind::send);
  CHECK(exchange.authenticate_version() == 0);
  const Request handshake = parse_request(step.frame);
  CHECK(handshake.mechanism == "PLAIN");
  step = exchange.on_response(frame(handshake.correlation_id, handshake_ok()));
  REQUIRE(step.kind == SaslExchange::Step::Kind::send);
  const Request token = parse_request(step.frame);
  CHECK(token.version == 0);
  CHECK(token.auth_bytes == std::string("\0alice\0pw", 9));  // RFC 4616: authzid NUL authcid NUL passwd

  std::vector<std::uint8_t> refused;  // v0: error, NULLABLE_STRING message, BYTES
  wire::put_i16(refused, 58);
  wire::put_string(refused, "Invalid username or password", false);
  wire::put_i32(refused, 0);
  step = exchange.on_response(frame(token.correlation_id, refused));
  REQUIRE(step.kind == SaslExchange::Step::Kind::failed);
  CHECK(step.error == "SASL authentication failed: Invalid username or password");
  CHECK(step.error.find("pw") == std::string::npos);
}

TEST_CASE("SaslExchange: a broker without SaslHandshake v1, or refusing the mechanism", "[sasl]") {
  SaslExchange old_broker(credentials(kedge::SaslMechanism::plain, "alice", "pw"), "kedge-test", 1);
  old_broker.start();
  auto step = old_broker.on_response(frame(1, api_versions(0, 0)));
  REQUIRE(step.kind == SaslExchange::Step::Kind::failed);
  CHECK(step.error.find("SaslHandshake v1") != std::string::npos);

  SaslExchange refused(credentials(kedge::SaslMechanism::scram_sha_512, "alice", "pw"), "kedge-test", 1);
  refused.start();
  step = refused.on_response(frame(1, api_versions(1, 2)));
  const Request handshake = parse_request(step.frame);
  std::vector<std::uint8_t> body;
  wire::put_i16(body, 33);
  wire::put_i32(body, 1);
  wire::put_string(body, "PLAIN", false);
  step = refused.on_response(frame(handshake.correlation_id, body));
  REQUIRE(step.kind == SaslExchange::Step::Kind::failed);
  CHECK(step.error == "SaslHandshake for SCRAM-SHA-512 failed: error 33 UNSUPPORTED_SASL_MECHANISM (the broker "
                      "enables: PLAIN)");
}
