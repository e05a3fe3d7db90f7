// KafkaSession against scripted broker bytes (no sockets): ApiVersions
// negotiation and its UNSUPPORTED_VERSION fallback, SASL (PLAIN, SCRAM with
// RFC 7677's vectors), framing limits, EOF, correlation, version picking.
#include <catch2/catch.hpp>

#include "kafka_codec/client.h"
#include "scripted_broker.h"
#include "upstream/kafka_session.h"
#include "rfc7677.h"

using kedge::KafkaSession;
using kedge::KafkaSessionOptions;
using kedge::SessionFailure;
using kedge::kafka::ApiKey;
using namespace kedge::test;

using namespace kedge::test::rfc7677;

namespace {

kedge::SaslCredentials credentials(kedge::SaslMechanism mechanism, std::string user, std::string password) {
  kedge::SaslCredentials c;
  c.mechanism = mechanism;
  c.username = std::move(user);
  c.password = std::move(password);
  return c;
}

KafkaSessionOptions options(std::optional<kedge::SaslCredentials> sasl = std::nullopt) {
  KafkaSessionOptions o;
  o.client_id = "kedge-test";
  o.max_frame_bytes = 1 << 20;
  o.sasl = std::move(sasl);
  o.software_version = "9.8.7";
  return o;
}

KafkaSession::Sent metadata_request(KafkaSession& session, std::int16_t our_max = 12) {
  return session.request(ApiKey::metadata, our_max,
                         [](std::int16_t v) { return kedge::kafka::encode_metadata_request_no_topics(v); });
}

// start() and the ApiVersions exchange with a broker offering `ranges`: Ready.
void negotiate(KafkaSession& session, const std::vector<Range>& ranges = modern_ranges()) {
  const ParsedRequest versions = only_request(session.start());
  const auto result = session.feed(answer(versions, api_versions_body(versions.version, ranges)));
  REQUIRE_FALSE(result.error);
  REQUIRE(result.became_ready);
  REQUIRE(session.state() == KafkaSession::State::ready);
}

}  // namespace

TEST_CASE("session: ApiVersions v3 then Ready, requests at min(ours, theirs)", "[session]") {
  KafkaSession session(options());
  CHECK(session.state() == KafkaSession::State::idle);
  const ParsedRequest versions = only_request(session.start());
  CHECK(versions.api_key == 18);
  CHECK(versions.version == 3);
  CHECK(versions.correlation_id == 1);
  CHECK(versions.client_id == "kedge-test");
  CHECK(kedge::kafka::test::to_hex(versions.body) ==
        kedge::kafka::test::to_hex(Builder().cstr("kedge").cstr("9.8.7").uvarint(0).b));  // KIP-511
  CHECK(session.start().empty());  // once
  CHECK(session.state() == KafkaSession::State::negotiating);

  SECTION("the answer split byte by byte") {
    const Bytes frame = answer(versions, api_versions_body(3, {{18, 0, 4}, {3, 0, 9}}));
    for (std::size_t i = 0; i + 1 < frame.size(); ++i) {
      const auto r = session.feed(std::span<const std::uint8_t>(&frame[i], 1));
      REQUIRE_FALSE(r.error);
      REQUIRE_FALSE(r.became_ready);
    }
    const auto r = session.feed(std::span<const std::uint8_t>(&frame.back(), 1));
    REQUIRE(r.became_ready);
    CHECK(r.outbound.empty());
    CHECK(session.api_versions_version() == 3);
    CHECK(session.pick_version(ApiKey::metadata, 12) == std::optional<std::int16_t>(9));  // theirs is lower
    CHECK(session.pick_version(ApiKey::metadata, 7) == std::optional<std::int16_t>(7));   // ours is lower
    CHECK(session.pick_version(ApiKey::metadata, 12, 10) == std::nullopt);                // no overlap
    CHECK(session.pick_version(ApiKey::describe_cluster, 2) == std::nullopt);             // not listed

    const auto sent = metadata_request(session);
    REQUIRE(sent);
    CHECK(sent.api_version == 9);
    const ParsedRequest metadata = only_request(sent.bytes);
    CHECK(metadata.api_key == 3);
    CHECK(metadata.version == 9);
    CHECK(metadata.correlation_id == sent.correlation_id);
    CHECK(metadata.correlation_id == 2);

    // A flexible response: header v1; the body starts after its tag buffer.
    const auto got = session.feed(answer(metadata, metadata_body(9, {{1, "b1.internal", 9092}, {2, "b2", 9093}})));
    REQUIRE_FALSE(got.error);
    REQUIRE(got.responses.size() == 1);
    const KafkaSession::Response& response = got.responses[0];
    CHECK(response.request.api_key == 3);
    CHECK(response.request.api_version == 9);
    CHECK(response.body_begin == 9);
    std::vector<kedge::kafka::BrokerEndpoint> brokers;
    REQUIRE(kedge::kafka::read_metadata_brokers(response.frame, response.body_begin, 9, brokers));
    REQUIRE(brokers.size() == 2);
    CHECK(brokers[1].host == "b2");
    CHECK(brokers[1].port == 9093);
    CHECK(session.in_flight() == 0);
    CHECK_FALSE(session.on_eof().has_value());  // nothing interrupted
    CHECK(session.state() == KafkaSession::State::failed);
    CHECK(metadata_request(session).error->cause == SessionFailure::connection_closed);
  }
  SECTION("a modern broker: Metadata v12, the highest kedge sends") {
    REQUIRE(session.feed(answer(versions, api_versions_body(3, modern_ranges()))).became_ready);
    const auto sent = metadata_request(session, kedge::kafka::kMetadataRequestVersions.hi);
    REQUIRE(sent);
    CHECK(sent.api_version == 12);
  }
}

TEST_CASE("session: ApiVersions UNSUPPORTED_VERSION falls back", "[session][api_versions]") {
  KafkaSession session(options());
  const ParsedRequest first = only_request(session.start());
  REQUIRE(first.version == 3);

  SECTION("error 35 listing ApiVersions 0..2 (v0 layout): retry at v2") {
    const auto r = session.feed(answer(first, api_versions_body(0, {{18, 0, 2}}, 35)));
    REQUIRE_FALSE(r.error);
    CHECK_FALSE(r.became_ready);
    const ParsedRequest retry = only_request(r.outbound);
    CHECK(retry.api_key == 18);
    CHECK(retry.version == 2);
    CHECK(retry.body.empty());
    CHECK(retry.correlation_id == first.correlation_id + 1);
    const auto done = session.feed(answer(retry, api_versions_body(2, {{18, 0, 2}, {3, 0, 2}})));
    REQUIRE(done.became_ready);
    CHECK(session.api_versions_version() == 2);
    CHECK(metadata_request(session).api_version == 2);  // librdkafka 2.0.2's mock offers Metadata 0..2
  }
  SECTION("error 35 in a body neither layout fits (librdkafka's mock): retry at v0") {
    // tests/golden/api_versions.v3.librdkafka_mock_error35.handmade.json, this request's correlation id.
    Builder mock;
    mock.i16(35).i8(1).i16(18).i16(0).i16(2).i8(0).i32(0);
    const auto r = session.feed(answer(first, mock.b));
    REQUIRE_FALSE(r.error);
    const ParsedRequest retry = only_request(r.outbound);
    CHECK(retry.version == 0);
    REQUIRE(session.feed(answer(retry, api_versions_body(0, {{18, 0, 2}, {3, 0, 2}}))).became_ready);
    CHECK(session.api_versions_version() == 0);
  }
  SECTION("error 35 at v0 too: no usable range") {
    const ParsedRequest retry = only_request(session.feed(answer(first, api_versions_body(0, {}, 35))).outbound);
    REQUIRE(retry.version == 0);
    const auto r = session.feed(answer(retry, api_versions_body(0, {}, 35)));
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::api_versions_failed);
    CHECK(r.error->message == "broker answered ApiVersions with UNSUPPORTED_VERSION and no usable range");
    CHECK(session.state() == KafkaSession::State::failed);
  }
  SECTION("error 35 listing only versions above what was asked") {
    const auto r = session.feed(answer(first, api_versions_body(0, {{18, 5, 6}}, 35)));
    REQUIRE(r.error);
    CHECK(r.error->message ==
          "broker answered ApiVersions with UNSUPPORTED_VERSION and no usable range (it offers ApiVersions v5..v6, "
          "kedge sends v0..v3)");
  }
  SECTION("another error fails with its name") {
    const auto r = session.feed(answer(first, api_versions_body(3, {}, 42)));
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::api_versions_failed);
    CHECK(r.error->message == "the broker answered ApiVersions v3 with error 42 INVALID_REQUEST");
  }
}

TEST_CASE("session: framing limits and EOF", "[session][frame]") {
  KafkaSessionOptions o = options();
  o.max_frame_bytes = 1024;
  KafkaSession session(o);
  const ParsedRequest versions = only_request(session.start());

  SECTION("a frame larger than limits.max_frame_bytes") {
    const auto r = session.feed(Builder().i32(5000).i32(versions.correlation_id).b);
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::frame_too_large);
    CHECK(r.error->message == "response frame of 5000 bytes exceeds limits.max_frame_bytes (1024)");
    // sticky
    CHECK(session.feed(Bytes{0}).error->message == r.error->message);
    CHECK(metadata_request(session).error->message == r.error->message);
    CHECK_FALSE(session.on_eof().has_value());
  }
  SECTION("a TLS alert read as a frame size says so") {
    const auto r = session.feed(Bytes{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46});
    REQUIRE(r.error);
    CHECK(r.error->message ==
          "response frame of 352518912 bytes exceeds limits.max_frame_bytes (1024) (the bytes are a TLS record: "
          "does this listener need backend.tls?)");
  }
  SECTION("a negative size") {
    const auto r = session.feed(Builder().i32(-2).b);
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::malformed_frame);
    CHECK(r.error->message.find("frame size of -2") != std::string::npos);
  }
  SECTION("the broker closes in the middle of a response") {
    const Bytes frame = answer(versions, api_versions_body(3, modern_ranges()));
    REQUIRE_FALSE(session.feed(std::span<const std::uint8_t>(frame).first(20)).error);
    const auto eof = session.on_eof();
    REQUIRE(eof);
    CHECK(eof->cause == SessionFailure::connection_closed);
    CHECK(eof->message == "the broker closed the connection in the middle of a response (20 of " +
                              std::to_string(frame.size()) + " bytes)");
    CHECK(session.feed(frame).error->message == eof->message);
  }
  SECTION("the broker closes without answering ApiVersions") {
    const auto eof = session.on_eof();
    REQUIRE(eof);
    CHECK(eof->message.find("without answering ApiVersions") != std::string::npos);
  }
  SECTION("the broker closes with requests unanswered") {
    REQUIRE(session.feed(answer(versions, api_versions_body(3, modern_ranges()))).became_ready);
    REQUIRE(metadata_request(session));
    CHECK(session.oldest_in_flight()->api_version == 12);
    REQUIRE(metadata_request(session));
    const auto eof = session.on_eof();
    REQUIRE(eof);
    CHECK(eof->cause == SessionFailure::connection_closed);
    CHECK(eof->message ==
          "the broker answered ApiVersions, then closed the connection without answering 2 requests (the oldest: "
          "Metadata v12) (a listener that requires SASL authentication? see backend.discovery.sasl)");
  }
  SECTION("the broker closes on the one request after ApiVersions (librdkafka 2.0.2's mock on Metadata v4)") {
    REQUIRE(session.feed(answer(versions, api_versions_body(3, {{18, 0, 3}, {3, 0, 2}}))).became_ready);
    REQUIRE(metadata_request(session).api_version == 2);
    const auto eof = session.on_eof();
    REQUIRE(eof);
    CHECK(eof->message ==
          "the broker answered ApiVersions, then closed the connection without answering Metadata v2 (a listener "
          "that requires SASL authentication? see backend.discovery.sasl)");
  }
}

TEST_CASE("session: correlation and order", "[session]") {
  KafkaSession session(options());
  negotiate(session);

  SECTION("pipelined requests are answered in order, in one read") {
    const auto a = metadata_request(session, 4);
    const auto b = metadata_request(session, 12);
    REQUIRE((a && b));
    CHECK(session.in_flight() == 2);
    Bytes both = answer(only_request(a.bytes), metadata_body(4, {{1, "a", 1}}));
    const Bytes second = answer(only_request(b.bytes), metadata_body(12, {{2, "b", 2}}));
    both.insert(both.end(), second.begin(), second.end());
    const auto r = session.feed(both);
    REQUIRE_FALSE(r.error);
    REQUIRE(r.responses.size() == 2);
    CHECK(r.responses[0].request.correlation_id == a.correlation_id);
    CHECK(r.responses[1].request.api_version == 12);
    CHECK(r.responses[1].body_begin == 9);
  }
  SECTION("a response to another request") {
    const auto a = metadata_request(session, 4);
    const auto r = session.feed(answer(a.correlation_id + 5, metadata_body(4, {})));
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::correlation_mismatch);
    CHECK(r.error->message == "correlation id mismatch: the broker answered " + std::to_string(a.correlation_id + 5) +
                                  " while kedge waited for " + std::to_string(a.correlation_id) + " (Metadata v4)");
  }
  SECTION("a response with nothing in flight") {
    const auto r = session.feed(answer(99, metadata_body(4, {})));
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::unexpected_response);
  }
  SECTION("a response completed before a bad frame in the same read is returned") {
    const auto a = metadata_request(session, 4);
    Bytes bytes = answer(a.correlation_id, metadata_body(4, {}));
    const Bytes bad = Builder().i32(-1).b;
    bytes.insert(bytes.end(), bad.begin(), bad.end());
    const auto r = session.feed(bytes);
    CHECK(r.responses.size() == 1);
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::malformed_frame);
  }
}

TEST_CASE("session: request() before Ready and without a common version", "[session]") {
  KafkaSession session(options());
  CHECK(metadata_request(session).error->cause == SessionFailure::not_ready);
  const ParsedRequest versions = only_request(session.start());
  const auto early = metadata_request(session);
  REQUIRE(early.error);
  CHECK(early.error->cause == SessionFailure::not_ready);
  CHECK(session.state() == KafkaSession::State::negotiating);  // a refused request leaves the session alone

  REQUIRE(session.feed(answer(versions, api_versions_body(3, {{18, 0, 3}, {3, 13, 13}}))).became_ready);
  const auto none = metadata_request(session);
  REQUIRE(none.error);
  CHECK(none.error->cause == SessionFailure::no_common_version);
  CHECK(none.error->message ==
        "the broker supports no version of Metadata kedge can send (the broker: v13..v13, kedge: v0..v12)");
  const auto unlisted = session.request(ApiKey::describe_cluster, 1, [](std::int16_t) { return Bytes{0}; });
  REQUIRE(unlisted.error);
  CHECK(unlisted.error->message ==
        "the broker supports no version of DescribeCluster kedge can send (its ApiVersions answer does not list "
        "DescribeCluster)");
  CHECK(session.state() == KafkaSession::State::ready);
  CHECK(session.in_flight() == 0);
}

TEST_CASE("session: bytes before start()", "[session]") {
  KafkaSession session(options());
  const auto r = session.feed(Bytes{0, 0, 0, 4});
  REQUIRE(r.error);
  CHECK(r.error->cause == SessionFailure::not_ready);
}

TEST_CASE("session: SCRAM-SHA-256 with RFC 7677's vectors over SaslAuthenticate v2", "[session][sasl]") {
  KafkaSessionOptions o = options(credentials(kedge::SaslMechanism::scram_sha_256, "user", "pencil"));
  o.scram_nonce = kClientNonce;
  o.first_correlation_id = 100;
  KafkaSession session(o);
  const ParsedRequest versions = only_request(session.start());
  CHECK(versions.correlation_id == 100);
  auto r = session.feed(answer(versions, api_versions_body(3, modern_ranges())));
  REQUIRE_FALSE(r.error);
  CHECK_FALSE(r.became_ready);
  CHECK(session.state() == KafkaSession::State::authenticating);
  CHECK(session.authenticate_version() == 2);
  const ParsedRequest handshake = only_request(r.outbound);
  CHECK(handshake.api_key == 17);
  CHECK(handshake.version == 1);
  CHECK(mechanism_of(handshake) == "SCRAM-SHA-256");

  r = session.feed(answer(handshake, handshake_body(0, {"SCRAM-SHA-256"})));
  const ParsedRequest first = only_request(r.outbound);
  CHECK(first.api_key == 36);
  CHECK(first.version == 2);
  CHECK(auth_bytes_of(first) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");

  r = session.feed(answer(first, authenticate_body(2, 0, "", kServerFirst)));
  const ParsedRequest final_request = only_request(r.outbound);
  CHECK(auth_bytes_of(final_request) == kClientFinal);

  SECTION("the broker's signature verifies: Ready") {
    r = session.feed(answer(final_request, authenticate_body(2, 0, "", kServerFinal)));
    REQUIRE_FALSE(r.error);
    CHECK(r.became_ready);
    CHECK(r.outbound.empty());
    REQUIRE(metadata_request(session));
    const auto eof = session.on_eof();
    REQUIRE(eof);
    CHECK(eof->message ==
          "the broker answered ApiVersions and authenticated kedge, then closed the connection without answering "
          "Metadata v12");
  }
  SECTION("a SaslAuthenticate answer with another correlation id is refused") {
    r = session.feed(answer(final_request.correlation_id + 7, authenticate_body(2, 0, "", kServerFinal), true));
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::correlation_mismatch);
    CHECK_FALSE(r.became_ready);
  }
  SECTION("a forged server signature") {
    std::string forged = kServerFinal;
    forged[5] = forged[5] == 'A' ? 'B' : 'A';
    r = session.feed(answer(final_request, authenticate_body(2, 0, "", forged)));
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::sasl_authentication_failed);
    CHECK(r.error->message.find("ServerSignature does not verify") != std::string::npos);
  }
  SECTION("the broker refuses: error 58 with its message, no secret in the text") {
    r = session.feed(answer(final_request, authenticate_body(2, 58, "Authentication failed: Invalid user credentials", "")));
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::sasl_authentication_failed);
    CHECK(r.error->message == "SASL authentication failed: Authentication failed: Invalid user credentials");
    CHECK(r.error->message.find("pencil") == std::string::npos);
    CHECK(r.error->message.find("dHzbZapW") == std::string::npos);  // the proof
  }
  SECTION("the broker closes during SASL authentication") {
    const auto eof = session.on_eof();
    REQUIRE(eof);
    CHECK(eof->message == "the broker closed the connection during SASL authentication");
  }
}

TEST_CASE("session: PLAIN over SaslAuthenticate v0, refused with error 58", "[session][sasl]") {
  KafkaSession session(options(credentials(kedge::SaslMechanism::plain, "alice", "s3cret-pw")));
  const ParsedRequest versions = only_request(session.start());
  auto r = session.feed(answer(versions, api_versions_body(3, {{18, 0, 3}, {17, 0, 1}, {36, 0, 0}})));
  CHECK(session.authenticate_version() == 0);
  const ParsedRequest handshake = only_request(r.outbound);
  CHECK(mechanism_of(handshake) == "PLAIN");
  r = session.feed(answer(handshake, handshake_body(0, {"PLAIN"})));
  const ParsedRequest token = only_request(r.outbound);
  CHECK(token.version == 0);
  CHECK(auth_bytes_of(token) == std::string("\0alice\0s3cret-pw", 16));  // RFC 4616

  SECTION("refused with a message") {
    r = session.feed(answer(token, authenticate_body(0, 58, "Invalid username or password", "")));
    REQUIRE(r.error);
    CHECK(r.error->message == "SASL authentication failed: Invalid username or password");
    CHECK(r.error->message.find("s3cret-pw") == std::string::npos);
    CHECK_FALSE(session.on_eof().has_value());  // already failed: the close interrupts nothing new
  }
  SECTION("a broker that echoes the password: masked") {
    r = session.feed(answer(token, authenticate_body(0, 58, "bad password s3cret-pw for alice\x01", "")));
    REQUIRE(r.error);
    CHECK(r.error->message == "SASL authentication failed: bad password *** for alice?");
  }
  SECTION("refused without a message: the error's name") {
    r = session.feed(answer(token, authenticate_body(0, 58, "", "")));
    REQUIRE(r.error);
    CHECK(r.error->message == "SASL authentication failed: error 58 SASL_AUTHENTICATION_FAILED");
  }
  SECTION("accepted") {
    r = session.feed(answer(token, authenticate_body(0, 0, "", "")));
    CHECK(r.became_ready);
  }
}

TEST_CASE("session: a broker without SaslHandshake v1, or refusing the mechanism", "[session][sasl]") {
  SECTION("SaslHandshake v0 only (KIP-43 raw tokens)") {
    KafkaSession session(options(credentials(kedge::SaslMechanism::plain, "alice", "pw")));
    const ParsedRequest versions = only_request(session.start());
    const auto r = session.feed(answer(versions, api_versions_body(3, {{18, 0, 3}, {17, 0, 0}, {36, 0, 0}})));
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::sasl_handshake_failed);
    CHECK(r.error->message.find("SaslHandshake v1") != std::string::npos);
  }
  SECTION("no SaslAuthenticate") {
    KafkaSession session(options(credentials(kedge::SaslMechanism::plain, "alice", "pw")));
    const ParsedRequest versions = only_request(session.start());
    const auto r = session.feed(answer(versions, api_versions_body(3, {{18, 0, 3}, {17, 0, 1}})));
    REQUIRE(r.error);
    CHECK(r.error->message == "the broker does not offer SaslAuthenticate v0..v2");
  }
  SECTION("UNSUPPORTED_SASL_MECHANISM lists what the broker enables") {
    KafkaSession session(options(credentials(kedge::SaslMechanism::scram_sha_512, "alice", "pw")));
    const ParsedRequest versions = only_request(session.start());
    const ParsedRequest handshake =
        only_request(session.feed(answer(versions, api_versions_body(3, modern_ranges()))).outbound);
    const auto r = session.feed(answer(handshake, handshake_body(33, {"PLAIN"})));
    REQUIRE(r.error);
    CHECK(r.error->message ==
          "SaslHandshake for SCRAM-SHA-512 failed: error 33 UNSUPPORTED_SASL_MECHANISM (the broker enables: PLAIN)");
  }
  SECTION("a malformed SaslHandshake answer") {
    KafkaSession session(options(credentials(kedge::SaslMechanism::plain, "alice", "pw")));
    const ParsedRequest versions = only_request(session.start());
    const ParsedRequest handshake =
        only_request(session.feed(answer(versions, api_versions_body(3, modern_ranges()))).outbound);
    const auto r = session.feed(answer(handshake, Builder().i16(0).i32(4).b));
    REQUIRE(r.error);
    CHECK(r.error->cause == SessionFailure::malformed_response);
    CHECK(r.error->message == "malformed SaslHandshake v1 response");
  }
}

TEST_CASE("session failure causes have one label each", "[session]") {
  CHECK(kedge::label(SessionFailure::frame_too_large) == "frame_too_large");
  CHECK(kedge::label(SessionFailure::sasl_authentication_failed) == "sasl_authentication_failed");
  CHECK(kedge::label(SessionFailure::not_ready) == "not_ready");
}
