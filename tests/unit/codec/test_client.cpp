// kedge as a Kafka client (kafka_codec/client.h, frame.h, sasl.h): the frame
// assembler, request headers and bodies kedge sends, and the responses it reads
// through the schema engine, checked against hand-built frames, the schema's
// sample writer and the golden vectors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/frame.h"
#include "kafka_codec/sample.h"
#include "kafka_codec/sasl.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/stream.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

std::vector<Bytes> drain(FrameAssembler& frames) {
  std::vector<Bytes> out;
  while (frames.has_frame()) out.push_back(frames.take_frame());
  return out;
}

// Frames `body` (correlation id + body) as a broker would.
Bytes response(std::int32_t correlation_id, const Bytes& body, bool header_tags = false) {
  Builder b;
  b.i32(correlation_id);
  if (header_tags) b.uvarint(0);
  return b.raw(body).frame();
}

}  // namespace

TEST_CASE("check_frame_size: one judgement for every reader", "[frame]") {
  CHECK(check_frame_size(-1, 100, 4) == Errc::negative_frame_size);
  CHECK(check_frame_size(INT32_MIN, 100, 4) == Errc::negative_frame_size);
  CHECK(check_frame_size(101, 100, 4) == Errc::frame_too_large);
  CHECK(check_frame_size(100, 100, 4) == Errc::ok);
  CHECK(check_frame_size(4, 100, 4) == Errc::ok);
  CHECK(check_frame_size(3, 100, 4) == Errc::negative_frame_size);
  CHECK(check_frame_size(7, 100, kMinRequestFrameSize) == Errc::negative_frame_size);
  CHECK(check_frame_size(0, 100, kMinResponseFrameSize) == Errc::negative_frame_size);

  // The data path judges with the same function: a request tracker and a
  // response processor refuse what the assembler refuses.
  RequestTracker tracker(100);
  InFlightQueue q;
  CHECK(tracker.feed(Builder().i32(101).b, q) == Errc::frame_too_large);
  RequestTracker short_request(100);
  CHECK(short_request.feed(Builder().i32(7).b, q) == Errc::negative_frame_size);
}

TEST_CASE("FrameAssembler splits a stream into whole frames in any split", "[frame]") {
  Bytes stream;
  const Bytes a = response(1, Builder().i16(0).b), b = response(2, Bytes(300, 0xab)), c = response(3, {});
  for (const Bytes* f : {&a, &b, &c}) stream.insert(stream.end(), f->begin(), f->end());

  SECTION("all at once") {
    FrameAssembler frames(1024);
    REQUIRE(frames.feed(stream) == Errc::ok);
    CHECK(drain(frames) == std::vector<Bytes>{a, b, c});
    CHECK(frames.finish() == Errc::ok);
  }
  SECTION("one byte at a time") {
    FrameAssembler frames(1024);
    std::vector<Bytes> got;
    for (std::uint8_t byte : stream) {
      REQUIRE(frames.feed(std::span<const std::uint8_t>(&byte, 1)) == Errc::ok);
      for (Bytes& f : drain(frames)) got.push_back(std::move(f));
    }
    CHECK(got == std::vector<Bytes>{a, b, c});
  }
  SECTION("the peer closes mid-frame or mid-prefix") {
    FrameAssembler frames(1024);
    REQUIRE(frames.feed(std::span<const std::uint8_t>(stream).first(a.size() + 10)) == Errc::ok);
    CHECK(drain(frames) == std::vector<Bytes>{a});
    CHECK(frames.received_bytes() == 10);
    CHECK(frames.announced_size() == static_cast<std::int64_t>(b.size() - 4));
    CHECK(frames.finish() == Errc::stream_ended_mid_frame);
    CHECK(frames.feed(c) == Errc::stream_ended_mid_frame);  // sticky

    FrameAssembler prefix(1024);
    REQUIRE(prefix.feed(std::span<const std::uint8_t>(stream).first(2)) == Errc::ok);
    CHECK(prefix.received_bytes() == 2);
    CHECK(prefix.finish() == Errc::stream_ended_mid_frame);
  }
  SECTION("a frame above the maximum is refused before its body is kept") {
    FrameAssembler frames(200);
    Bytes with_big = a;
    with_big.insert(with_big.end(), b.begin(), b.end());
    CHECK(frames.feed(with_big) == Errc::frame_too_large);
    CHECK(frames.announced_size() == 304);
    CHECK(frames.received_bytes() == 4);  // the size prefix only
    CHECK(drain(frames) == std::vector<Bytes>{a});  // what came before stays usable
    CHECK(frames.feed(c) == Errc::frame_too_large);
    CHECK_FALSE(frames.has_frame());
  }
  SECTION("negative and too short sizes") {
    FrameAssembler negative(1024);
    CHECK(negative.feed(Builder().i32(-5).b) == Errc::negative_frame_size);
    CHECK(negative.announced_size() == -5);
    FrameAssembler short_frame(1024);
    CHECK(short_frame.feed(Builder().i32(3).i8(0).i8(0).i8(0).b) == Errc::negative_frame_size);
    FrameAssembler exact(1024);
    CHECK(exact.feed(Builder().i32(4).i32(9).b) == Errc::ok);
    CHECK(drain(exact).size() == 1);
  }
}

TEST_CASE("request headers: v1, or v2 from the request's first flexible version", "[client]") {
  CHECK(request_header_version(key_of(ApiKey::metadata), 8) == 1);
  CHECK(request_header_version(key_of(ApiKey::metadata), 9) == 2);
  CHECK(request_header_version(key_of(ApiKey::api_versions), 2) == 1);
  CHECK(request_header_version(key_of(ApiKey::api_versions), 3) == 2);
  CHECK(request_header_version(key_of(ApiKey::sasl_handshake), 1) == 1);  // never flexible
  CHECK(request_header_version(key_of(ApiKey::sasl_authenticate), 1) == 1);
  CHECK(request_header_version(key_of(ApiKey::sasl_authenticate), 2) == 2);
  CHECK(response_header_version(key_of(ApiKey::api_versions), 3) == 0);  // KIP-511
  CHECK(response_header_version(key_of(ApiKey::metadata), 9) == 1);
  CHECK(response_header_version(key_of(ApiKey::sasl_authenticate), 2) == 1);
  CHECK(response_header_version(key_of(ApiKey::sasl_handshake), 1) == 0);

  // ApiVersions v3: header v2 (client_id stays an int16 string), compact body strings, tags.
  const Bytes frame = encode_request_frame(18, 3, 7, "kedge-x", encode_api_versions_request(3, "kedge", "0.1.0"));
  Builder expected;
  expected.i16(18).i16(3).i32(7).str("kedge-x").uvarint(0).cstr("kedge").cstr("0.1.0").uvarint(0);
  CHECK(to_hex(frame) == to_hex(expected.frame()));
  // The data path's request tracker reads the same header.
  RequestTracker tracker(1 << 20);
  InFlightQueue q;
  REQUIRE(tracker.feed(frame, q) == Errc::ok);
  REQUIRE(q.size() == 1);
  CHECK(q.front().correlation_id == 7);

  for (std::int16_t v = 0; v <= 2; ++v) CHECK(encode_api_versions_request(v, "kedge", "1").empty());
  CHECK(encode_api_versions_request(4, "kedge", "1") == encode_api_versions_request(3, "kedge", "1"));
}

TEST_CASE("ClientSoftwareName/Version are made to match KIP-511's pattern", "[client]") {
  CHECK(client_software_field("kedge") == "kedge");
  CHECK(client_software_field("0.1.0") == "0.1.0");
  CHECK(client_software_field("1.2.3+build 7") == "1.2.3-build-7");
  CHECK(client_software_field("-kedge.") == "kedge");
  CHECK(client_software_field("...") == "unknown");
  CHECK(client_software_field("") == "unknown");
  CHECK(client_software_field(std::string(400, 'a')).size() == 255);
}

TEST_CASE("Metadata requests ask for no topics in every version 0..12", "[client][metadata]") {
  for (std::int16_t v = kMetadataRequestVersions.lo; v <= kMetadataRequestVersions.hi; ++v) {
    INFO("Metadata v" << v);
    Builder body;
    if (v >= 9) body.uvarint(1);  // empty COMPACT_ARRAY
    else body.i32(0);             // empty ARRAY (v0: all topics, see client.h)
    if (v >= 4) body.i8(0);       // AllowAutoTopicCreation
    if (v >= 8 && v <= 10) body.i8(0);  // IncludeClusterAuthorizedOperations
    if (v >= 8) body.i8(0);       // IncludeTopicAuthorizedOperations
    if (v >= 9) body.uvarint(0);  // tags
    CHECK(to_hex(encode_metadata_request_no_topics(v)) == to_hex(body.b));

    const Bytes frame = encode_metadata_request(v, 40 + v, "kedge");
    Builder expected;
    expected.i16(3).i16(v).i32(40 + v).str("kedge");
    if (v >= 9) expected.uvarint(0);
    expected.raw(body.b);
    CHECK(to_hex(frame) == to_hex(expected.frame()));
    RequestTracker tracker(1 << 20);
    InFlightQueue q;
    REQUIRE(tracker.feed(frame, q) == Errc::ok);
    CHECK(q.front().api_version == v);
  }
}

TEST_CASE("Metadata brokers decode from sample responses of every version", "[client][metadata]") {
  const schema::MessageSchema* s = schema::find_response_schema(key_of(ApiKey::metadata));
  REQUIRE(s != nullptr);
  std::size_t brokers_seen = 0;
  for (std::int16_t v = s->valid.lo; v <= s->valid.hi; ++v) {
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
      INFO("Metadata v" << v << " seed " << seed);
      std::vector<BrokerEndpoint> written;
      const Bytes frame = build_sample_response(*s, v, {seed, 0x1234, true}, &written);
      std::vector<BrokerEndpoint> got;
      REQUIRE(decode_metadata_brokers(frame, v, 0x1234, got));
      REQUIRE(got.size() == written.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].node_id == written[i].node_id);
        CHECK(got[i].host == written[i].host);
        CHECK(got[i].port == written[i].port);
      }
      brokers_seen += got.size();
      CHECK_FALSE(decode_metadata_brokers(frame, v, 0x1235, got));  // another request's answer
      Bytes truncated(frame.begin(), frame.end() - 1);
      CHECK_FALSE(decode_metadata_brokers(truncated, v, 0x1234, got));  // size prefix disagrees
    }
  }
  CHECK(brokers_seen > 100);
}

TEST_CASE("Metadata brokers decode from the golden vectors", "[client][metadata][golden]") {
  const auto files = golden_files("metadata.");
  REQUIRE(files.size() >= 14);
  std::set<int> versions;
  for (const fs::path& path : files) {
    const nlohmann::json j = load(path);
    INFO(path.filename().string());
    const auto version = j.at("api_version").get<std::int16_t>();
    versions.insert(version);
    const Bytes frame = from_hex(j.at("response_hex").get<std::string>());
    std::vector<BrokerEndpoint> got;
    REQUIRE(decode_metadata_brokers(frame, version, 0x11223344, got));
    const auto& endpoints = j.at("endpoints");  // every Metadata broker here has NodeId >= 0
    REQUIRE(got.size() == endpoints.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].node_id == endpoints[i].at("node_id").get<std::int32_t>());
      CHECK(got[i].host == endpoints[i].at("host").get<std::string>());
      CHECK(got[i].port == endpoints[i].at("port").get<std::int32_t>());
    }
  }
  for (int v = 0; v <= 12; ++v) CHECK(versions.count(v) == 1);
}

TEST_CASE("ApiVersions answers decode through the schema, error 35 in the v0 layout", "[client][api_versions]") {
  SECTION("golden vectors of every version") {
    std::size_t unsupported = 0;
    for (const fs::path& path : golden_files("api_versions.")) {
      const nlohmann::json j = load(path);
      INFO(path.filename().string());
      const auto version = j.at("api_version").get<std::int16_t>();
      const Bytes frame = from_hex(j.at("response_hex").get<std::string>());
      std::int32_t correlation = 0;
      std::size_t body = 0;
      REQUIRE(read_response_header(frame, 18, version, correlation, body));
      CHECK(body == 8);  // header v0 in every version
      ApiVersionsAnswer answer;
      REQUIRE(decode_api_versions_response(frame, body, version, answer));
      const std::string name = path.filename().string();
      if (answer.error_code == 35) {
        ++unsupported;
        CHECK(version > 0);
        if (name.find("librdkafka_mock_error35") != std::string::npos) {
          CHECK(answer.ranges.empty());  // fits neither layout: nothing usable
        } else {
          CHECK(answer.layout_version == 0);
          REQUIRE(answer.ranges.size() == 1);
          CHECK(answer.ranges[0].api_key == 18);
        }
        continue;
      }
      CHECK(answer.error_code == 0);
      CHECK(answer.layout_version == std::min<std::int16_t>(version, 4));
      CHECK(answer.ranges.size() >= 3);
      // The same entries the data path's walk finds.
      const schema::MessageSchema* s = schema::find_response_schema(18);
      WalkResult walk;
      REQUIRE(walk_body(*s, answer.layout_version, frame, body, frame.size(), walk));
      REQUIRE(walk.api_entries.size() == answer.ranges.size());
      for (std::size_t i = 0; i < walk.api_entries.size(); ++i) {
        CHECK(answer.ranges[i].api_key == walk.api_entries[i].api_key);
        CHECK(answer.ranges[i].min_version == walk.api_entries[i].min_version);
        CHECK(answer.ranges[i].max_version == walk.api_entries[i].max_version);
      }
    }
    CHECK(unsupported >= 3);
  }
  SECTION("hand-built: v3 asked, error 35 answered in v0 with ApiVersions 0..2") {
    Builder body;
    body.i16(35).i32(1).i16(18).i16(0).i16(2);
    const Bytes frame = response(9, body.b);
    ApiVersionsAnswer answer;
    REQUIRE(decode_api_versions_response(frame, 8, 3, answer));
    CHECK(answer.error_code == 35);
    CHECK(answer.layout_version == 0);
    REQUIRE(answer.ranges.size() == 1);
    CHECK(answer.ranges[0].max_version == 2);
  }
  SECTION("another error in the asked layout, and garbage") {
    Builder body;
    body.i16(42).uvarint(1).i32(0).uvarint(0);  // INVALID_REQUEST, no keys, v3
    ApiVersionsAnswer answer;
    REQUIRE(decode_api_versions_response(response(9, body.b), 8, 3, answer));
    CHECK(answer.error_code == 42);
    CHECK(answer.ranges.empty());
    CHECK_FALSE(decode_api_versions_response(response(9, Builder().i8(1).b), 8, 3, answer));
    CHECK_FALSE(decode_api_versions_response(response(9, Builder().i16(0).i32(5).b), 8, 0, answer));
  }
}

TEST_CASE("client-only response schemas round-trip through read_body", "[schema][sasl]") {
  std::size_t pairs = 0;
  for (const schema::MessageSchema& s : schema::client_response_schemas()) {
    CHECK(schema::find_response_schema(s.api_key) == nullptr);  // never on the data path
    CHECK(schema::find_client_response_schema(s.api_key) == &s);
    CHECK_FALSE(response_needs_rewrite(s.api_key, s.valid.hi));
    CHECK(max_supported_version(s.api_key) == INT16_MAX);  // no clamp
    for (std::int16_t v = s.valid.lo; v <= s.valid.hi; ++v) {
      ++pairs;
      for (std::uint32_t seed = 1; seed <= 10; ++seed) {
        INFO(std::string(s.name) << " v" << v << " seed " << seed);
        const Bytes frame = build_sample_response(s, v, {seed, 1, true});
        std::int32_t correlation = 0;
        std::size_t body = 0;
        REQUIRE(read_response_header(frame, s.api_key, v, correlation, body));
        WalkResult walk;
        REQUIRE(read_body(s, v, frame, body, frame.size(), walk));
        CHECK(walk.trailing_bytes == 0);
        CHECK(find_value(walk, "ErrorCode") != nullptr);
        Bytes truncated(frame.begin(), frame.end() - 1);
        CHECK_FALSE(read_body(s, v, truncated, body, truncated.size(), walk));
      }
    }
  }
  CHECK(pairs == 5);  // SaslHandshake v0-1, SaslAuthenticate v0-2
}

TEST_CASE("SaslHandshake and SaslAuthenticate framing", "[sasl]") {
  CHECK(to_hex(encode_sasl_handshake_request("PLAIN")) == to_hex(Builder().str("PLAIN").b));
  const std::string token("\0alice\0pw", 9);
  const std::span<const std::uint8_t> token_bytes(reinterpret_cast<const std::uint8_t*>(token.data()), token.size());
  CHECK(to_hex(encode_sasl_authenticate_request(0, token_bytes)) == to_hex(Builder().i32(9).raw(Bytes(token.begin(), token.end())).b));
  CHECK(encode_sasl_authenticate_request(1, token_bytes) == encode_sasl_authenticate_request(0, token_bytes));
  CHECK(to_hex(encode_sasl_authenticate_request(2, token_bytes)) ==
        to_hex(Builder().uvarint(10).raw(Bytes(token.begin(), token.end())).uvarint(0).b));

  SECTION("handshake answers") {
    SaslHandshakeAnswer answer;
    const Bytes refused = response(5, Builder().i16(33).i32(2).str("PLAIN").str("SCRAM-SHA-256").b);
    REQUIRE(decode_sasl_handshake_response(refused, 8, 1, answer));
    CHECK(answer.error_code == 33);
    CHECK(answer.mechanisms == std::vector<std::string>{"PLAIN", "SCRAM-SHA-256"});
    CHECK_FALSE(decode_sasl_handshake_response(response(5, Builder().i16(0).i32(3).str("PLAIN").b), 8, 1, answer));
  }
  SECTION("authenticate answers, v0 to v2") {
    SaslAuthenticateAnswer answer;
    REQUIRE(decode_sasl_authenticate_response(response(5, Builder().i16(58).str("bad password").i32(0).b), 8, 0, answer));
    CHECK(answer.error_code == 58);
    CHECK(answer.error_message == std::optional<std::string>("bad password"));
    CHECK(answer.auth_bytes.empty());

    REQUIRE(decode_sasl_authenticate_response(response(5, Builder().i16(0).i16(-1).i32(3).i8('a').i8(0).i8('b').i64(3600000).b),
                                              8, 1, answer));
    CHECK(answer.error_code == 0);
    CHECK_FALSE(answer.error_message.has_value());
    CHECK(answer.auth_bytes == std::string("a\0b", 3));
    CHECK(answer.session_lifetime_ms == 3600000);

    const Bytes v2 = response(5, Builder().i16(0).uvarint(0).uvarint(3).i8('v').i8('=').i64(0).uvarint(0).b, true);
    std::int32_t correlation = 0;
    std::size_t body = 0;
    REQUIRE(read_response_header(v2, 36, 2, correlation, body));
    CHECK(body == 9);
    REQUIRE(decode_sasl_authenticate_response(v2, body, 2, answer));
    CHECK(answer.auth_bytes == "v=");
    CHECK_FALSE(answer.error_message.has_value());
    // an AuthBytes length beyond the frame
    CHECK_FALSE(decode_sasl_authenticate_response(response(5, Builder().i16(0).str("x").i32(70000).b), 8, 1, answer));
  }
}
