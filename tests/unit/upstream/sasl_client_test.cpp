// The discovery connection's SCRAM client against RFC 7677's test vector and
// unsafe server messages. The Kafka frame sequence around it (ApiVersions,
// SaslHandshake, SaslAuthenticate) is KafkaSession's: kafka_session_test.cpp.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "upstream/sasl_client.h"
#include "rfc7677.h"

using kedge::sasl::ScramClient;

using namespace kedge::test::rfc7677;

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
        "the SCRAM iteration count \"16385\" is not in 4096..16384");
  CHECK(refused("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0") ==
        "the SCRAM iteration count \"0\" is not in 4096..16384");
  CHECK(refused("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095") ==
        "the SCRAM iteration count \"4095\" is not in 4096..16384");  // Kafka's client floor
  CHECK(refused("r=rOprNGfwEbeRWgbNEkqOxyz,s=not base64!,i=4096") == "the SCRAM salt is not base64");
  CHECK(refused("m=ext,r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") ==
        "the SCRAM server requires an extension kedge does not support");
  CHECK(refused("garbage") == "malformed SCRAM server-first message");
  CHECK(refused("r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").find("<accepted>") == 0);
}

TEST_CASE("SCRAM helpers the client uses: saslname escaping, base64, random nonces", "[sasl][scram]") {
  CHECK(kedge::scram::escape_saslname("a,b=c") == "a=2Cb=3Dc");
  CHECK(kedge::scram::base64_encode("n,,") == "biws");
  CHECK(kedge::scram::base64_decode("biws") == std::optional<std::string>("n,,"));
  CHECK(kedge::scram::base64_decode("YQ==") == std::optional<std::string>("a"));
  CHECK_FALSE(kedge::scram::base64_decode("YQ=").has_value());
  CHECK_FALSE(kedge::scram::base64_decode("Y=Q=").has_value());
  CHECK_FALSE(kedge::scram::base64_decode(" biw").has_value());
  const std::string a = kedge::scram::random_nonce(), b = kedge::scram::random_nonce();
  CHECK(a.size() == 32);
  CHECK(a != b);
  CHECK(a.find(',') == std::string::npos);
}
