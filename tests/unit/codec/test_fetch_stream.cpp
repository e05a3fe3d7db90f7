// Streaming Fetch v16+ responses (fetch_stream.h): bytes before the top-level
// tag section leave as they arrive, the section is rewritten to its original
// length, and the result walks under the schema engine like any response.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "kafka_codec/engine.h"
#include "kafka_codec/fetch_stream.h"
#include "kafka_codec/stream.h"
#include "kafka_codec/wire.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

constexpr std::int32_t kCorr = 0x11223344;
constexpr std::uint32_t kMax = 64u << 20;

struct PartitionSpec {
  std::int32_t index = 0;
  std::int16_t error = 0;
  std::size_t record_bytes = 0;  // 0 = null Records
  int aborted = -1;              // -1 = null AbortedTransactions
  std::int32_t current_leader = -1;
};

struct Endpoint {
  std::int32_t node_id;
  std::string host;
  std::int32_t port;
};

// FetchResponse v16-18 built field by field from kafka-protocol.md §1.2 (not with the codec's writer).
Bytes fetch_response(const std::vector<std::vector<PartitionSpec>>& topics, const std::vector<Endpoint>& endpoints,
                     bool unknown_top_tag = false, std::int32_t correlation_id = kCorr) {
  Builder b;
  b.i32(correlation_id).uvarint(0);  // header v1 tags
  b.i32(0).i16(0).i32(0x0a0b0c0d);   // ThrottleTimeMs, ErrorCode, SessionId
  b.uvarint(static_cast<std::uint32_t>(topics.size() + 1));
  std::uint8_t topic_byte = 1;
  for (const auto& partitions : topics) {
    for (int i = 0; i < 16; ++i) b.i8(topic_byte);  // TopicId
    ++topic_byte;
    b.uvarint(static_cast<std::uint32_t>(partitions.size() + 1));
    for (const PartitionSpec& p : partitions) {
      b.i32(p.index).i16(p.error).i64(1000).i64(1000).i64(0);
      if (p.aborted < 0) {
        b.uvarint(0);
      } else {
        b.uvarint(static_cast<std::uint32_t>(p.aborted + 1));
        for (int a = 0; a < p.aborted; ++a) b.i64(77 + a).i64(5).uvarint(0);
      }
      b.i32(-1);  // PreferredReadReplica
      if (p.record_bytes == 0) {
        b.uvarint(0);
      } else {
        b.uvarint(static_cast<std::uint32_t>(p.record_bytes + 1));
        for (std::size_t i = 0; i < p.record_bytes; ++i) b.i8(static_cast<int>(i * 31 + 7) & 0xff);
      }
      if (p.current_leader >= 0) {
        b.uvarint(1).uvarint(1).uvarint(9).i32(p.current_leader).i32(12).uvarint(0);  // tag 1 CurrentLeader
      } else {
        b.uvarint(0);
      }
    }
    b.uvarint(0);  // topic tags
  }
  const std::uint32_t tag_count = (endpoints.empty() ? 0 : 1) + (unknown_top_tag ? 1 : 0);
  b.uvarint(tag_count);
  if (!endpoints.empty()) {
    Builder value;
    value.uvarint(static_cast<std::uint32_t>(endpoints.size() + 1));
    for (const Endpoint& e : endpoints) value.i32(e.node_id).cstr(e.host).i32(e.port).uvarint(0).uvarint(0);
    b.uvarint(0).uvarint(static_cast<std::uint32_t>(value.b.size())).raw(value.b);
  }
  if (unknown_top_tag) b.uvarint(7).uvarint(2).i8(0x5a).i8(0xa5);
  return b.frame();
}

struct Run {
  Errc error = Errc::ok;
  Bytes output;
  ResponseStats stats;
  std::size_t output_before_last_chunk = 0;
  std::size_t max_buffered = 0;
};

Run feed_in_chunks(const Bytes& input, std::int16_t version, TemplateAddressMap& map, std::size_t chunk,
                   std::uint32_t fetch_buffer_bytes = 0, int frames = 1) {
  InFlightQueue inflight;
  for (int i = 0; i < frames; ++i) inflight.push({1, version, kCorr});
  VectorSink sink;
  ResponseProcessor processor(kMax, map, fetch_buffer_bytes);
  Run run;
  const std::span<const std::uint8_t> all(input);
  for (std::size_t at = 0; at < all.size() && run.error == Errc::ok; at += chunk) {
    if (at + chunk >= all.size()) run.output_before_last_chunk = sink.bytes.size();
    run.error = processor.feed(all.subspan(at, std::min(chunk, all.size() - at)), inflight, sink);
    run.max_buffered = std::max(run.max_buffered, processor.buffered_bytes());
  }
  if (run.error == Errc::ok && !inflight.empty()) run.error = Errc::malformed_response;
  run.output = sink.bytes;
  run.stats = processor.stats();
  return run;
}

// The NodeEndpoints a client decodes from `frame`, walked by the schema engine.
std::vector<Endpoint> decoded_endpoints(const Bytes& frame, std::int16_t version) {
  FrameRewriter rewriter;
  TemplateAddressMap unused;
  REQUIRE(rewriter.process(frame, {1, version, kCorr}, unused) == Errc::ok);
  std::vector<Endpoint> out;
  for (const EndpointRef& e : rewriter.walk().endpoints) out.push_back({e.node_id, std::string(e.host), e.port});
  return out;
}

// Top-level tag numbers of a streamed frame: the section starts `tail_bytes` before the end.
std::vector<std::uint32_t> top_level_tags(const Bytes& frame, std::size_t tail_bytes) {
  wire::Reader r(frame, frame.size() - tail_bytes, frame.size());
  std::uint32_t count = 0, tag = 0, size = 0;
  REQUIRE(r.read_uvarint(count));
  std::vector<std::uint32_t> tags;
  for (std::uint32_t i = 0; i < count; ++i) {
    REQUIRE(r.read_uvarint(tag));
    REQUIRE(r.read_uvarint(size));
    REQUIRE(r.skip(size));
    tags.push_back(tag);
  }
  REQUIRE(r.remaining() == 0);
  return tags;
}

bool contains(const Bytes& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

}  // namespace

TEST_CASE("a large Fetch v16 streams: bytes leave before the frame is complete, records are not held",
          "[fetch_stream]") {
  // Backend names longer than kedge's: the rewritten NodeEndpoints fit, padded.
  const std::vector<Endpoint> real = {
      {1, "b-1.prod-cluster.abcdef.c2.kafka.us-east-1.amazonaws.com", 9094},
      {3, "b-3.prod-cluster.abcdef.c2.kafka.us-east-1.amazonaws.com", 9094}};
  const Bytes input = fetch_response({{{0, 0, 150000, 2}, {1, 6, 0, -1, 3}}, {{4, 0, 90000}}}, real, true);
  for (std::int16_t version : {16, 17, 18}) {
    TemplateAddressMap map;
    const Run run = feed_in_chunks(input, version, map, 4096, ResponseProcessor::kDefaultFetchBufferBytes);
    REQUIRE(run.error == Errc::ok);
    REQUIRE(run.output.size() == input.size());  // the size prefix went out first and still holds
    CHECK(run.output_before_last_chunk > input.size() - 4096 - 200);
    CHECK(run.max_buffered < 512);  // only the top-level tag section is held
    CHECK(run.stats.rewritten == 1);
    CHECK(run.stats.node_endpoints_stripped == 0);
    // Everything before the tag section is the broker's bytes, records included.
    CHECK(std::equal(input.begin(), input.end() - 300, run.output.begin()));
    const auto endpoints = decoded_endpoints(run.output, version);
    REQUIRE(endpoints.size() == 2);
    CHECK(endpoints[0].node_id == 1);
    CHECK(endpoints[0].host == "broker-1.kafka.example.com");
    CHECK(endpoints[0].port == 9092);
    CHECK(endpoints[1].host == "broker-3.kafka.example.com");
    CHECK_FALSE(contains(run.output, "amazonaws"));
    REQUIRE(map.seen.size() == 2);
    CHECK(map.seen[0].real_host == real[0].host);
  }
}

TEST_CASE("streamed Fetch: NodeEndpoints that cannot fit are removed, never forwarded with backend names",
          "[fetch_stream]") {
  const std::vector<Endpoint> real = {{2, "10.0.0.2", 9092}};
  const Bytes input = fetch_response({{{0, 6, 0, -1, 2}, {1, 0, 100000}}}, real, true);
  TemplateAddressMap map;
  const Run run = feed_in_chunks(input, 16, map, 1500, ResponseProcessor::kDefaultFetchBufferBytes);
  REQUIRE(run.error == Errc::ok);
  REQUIRE(run.output.size() == input.size());
  CHECK(run.stats.node_endpoints_stripped == 1);
  CHECK(run.stats.rewritten == 0);
  CHECK(decoded_endpoints(run.output, 16).empty());
  CHECK_FALSE(contains(run.output, "10.0.0.2"));
  REQUIRE(map.seen.size() == 1);  // still learned
  CHECK(map.seen[0].real_host == "10.0.0.2");
  // The unknown top-level tag 7 is kept; kedge's padding tag follows it.
  // count, tag 0 (tag, size, value: count, NodeId, Host "10.0.0.2", Port, Rack, tags), tag 7.
  const std::size_t original_tail = 1 + (1 + 1 + (1 + 4 + 9 + 4 + 1 + 1)) + 4;
  const auto tags = top_level_tags(run.output, original_tail);
  REQUIRE(tags.size() == 2);
  CHECK(tags[0] == 7);
  CHECK(tags[1] == kPaddingTag);
}

TEST_CASE("streamed Fetch: the same output however the bytes are split", "[fetch_stream]") {
  const std::vector<Endpoint> real = {{1, "kafka-broker-0001.internal.example.net", 9092},
                                      {2, "kafka-broker-0002.internal.example.net", 9092}};
  const Bytes input = fetch_response({{{0, 0, 300, 1}, {1, 74, 0, -1, 2}}, {{2, 0, 70}}}, real, false);
  TemplateAddressMap reference_map;
  const Run reference = feed_in_chunks(input, 17, reference_map, input.size());
  REQUIRE(reference.error == Errc::ok);
  REQUIRE(reference.output.size() == input.size());
  REQUIRE(decoded_endpoints(reference.output, 17).size() == 2);
  for (std::size_t chunk = 1; chunk <= 64; ++chunk) {
    TemplateAddressMap map;
    const Run run = feed_in_chunks(input, 17, map, chunk);
    INFO("chunk " << chunk);
    REQUIRE(run.error == Errc::ok);
    REQUIRE(to_hex(run.output) == to_hex(reference.output));
  }
}

TEST_CASE("every Fetch v16-18 golden vector streams to a frame of the same length that walks", "[fetch_stream][golden]") {
  const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden";
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const auto j = nlohmann::json::parse(in);
    const auto version = j.at("api_version").get<std::int16_t>();
    if (j.at("api_key").get<int>() != 1 || !FetchResponseStream::handles(1, version)) continue;
    INFO(entry.path().filename().string());
    ++cases;
    const Bytes input = from_hex(j.at("response_hex").get<std::string>());
    const Bytes expected = from_hex(j.at("expected_hex").get<std::string>());
    const std::string host_template = j.at("advertised").at("host_template").get<std::string>();
    const auto port = j.at("advertised").at("port").get<std::int32_t>();
    Bytes first_output;
    for (std::size_t chunk : {input.size(), std::size_t{1}, std::size_t{7}, input.size() / 3 + 1}) {
      TemplateAddressMap map;
      map.host_template = host_template;
      map.port = port;
      const Run run = feed_in_chunks(input, version, map, chunk);
      REQUIRE(run.error == Errc::ok);
      REQUIRE(run.output.size() == input.size());
      if (expected == input) REQUIRE(to_hex(run.output) == to_hex(input));  // nothing to change: untouched
      if (first_output.empty()) first_output = run.output;
      REQUIRE(to_hex(run.output) == to_hex(first_output));
      // The client-visible endpoints are kedge's, or none at all.
      for (const Endpoint& e : decoded_endpoints(run.output, version)) {
        if (e.node_id < 0) continue;
        std::string want = host_template;
        want.replace(want.find("{id}"), 4, std::to_string(e.node_id));
        CHECK(e.host == want);
        CHECK(e.port == port);
      }
      CHECK(map.seen.size() == j.at("endpoints").size());
    }
  }
  CHECK(cases >= 6);
}

TEST_CASE("pipelined: streamed Fetch frames and other responses in one read", "[fetch_stream]") {
  const std::vector<Endpoint> real = {{1, "a-very-long-backend-broker-name.internal.example.org", 9092}};
  const Bytes one = fetch_response({{{0, 6, 0, -1, 1}, {1, 0, 80000}}}, real);
  Bytes both = one;
  both.insert(both.end(), one.begin(), one.end());
  TemplateAddressMap map;
  const Run run = feed_in_chunks(both, 16, map, both.size(), ResponseProcessor::kDefaultFetchBufferBytes, 2);
  REQUIRE(run.error == Errc::ok);
  REQUIRE(run.output.size() == both.size());
  CHECK(run.stats.responses == 2);
  CHECK(run.stats.rewritten == 2);
  const Bytes second(run.output.begin() + static_cast<std::ptrdiff_t>(one.size()), run.output.end());
  REQUIRE(decoded_endpoints(second, 16).size() == 1);
}

TEST_CASE("streamed Fetch: malformed structure closes the pair", "[fetch_stream]") {
  TemplateAddressMap map;
  SECTION("a Records length beyond the frame") {
    Bytes input = fetch_response({{{0, 0, 100}}}, {});
    // Records length varint sits 100 + 1 (partition tags) + 1 (topic tags) + 1 (top tags) + 1 bytes from the end.
    const std::size_t at = input.size() - 100 - 4;
    REQUIRE(input[at] == 101);
    input[at] = 0x7f;  // 126 bytes of records: more than the frame holds
    CHECK(feed_in_chunks(input, 16, map, 10).error == Errc::malformed_response);
  }
  SECTION("a topic count beyond the frame") {
    Bytes input = fetch_response({{{0, 0, 10}}}, {});
    input[4 + 4 + 1 + 10] = 0x7f;
    CHECK(feed_in_chunks(input, 16, map, 3).error == Errc::malformed_response);
  }
  SECTION("the frame ends inside a partition") {
    Builder b;
    b.i32(kCorr).uvarint(0).i32(0).i16(0).i32(0).uvarint(2);
    for (int i = 0; i < 16; ++i) b.i8(1);
    b.uvarint(2).i32(0).i16(0);  // partition cut short
    CHECK(feed_in_chunks(b.frame(), 16, map, 5).error == Errc::malformed_response);
  }
  SECTION("no top-level tag section") {
    Bytes input = fetch_response({{{0, 0, 10}}}, {});
    input.pop_back();
    input[3] = static_cast<std::uint8_t>(input[3] - 1);
    CHECK(feed_in_chunks(input, 16, map, 4).error == Errc::malformed_response);
  }
}

TEST_CASE("fit_tag_section keeps the length for every difference", "[fetch_stream]") {
  // Original: tag 0 with a value of `original_value` bytes, then tag 3 (2 bytes).
  auto section = [](std::size_t value_bytes) {
    Builder b;
    b.uvarint(2).uvarint(0).uvarint(static_cast<std::uint32_t>(value_bytes));
    for (std::size_t i = 0; i < value_bytes; ++i) b.i8(0x41);
    b.uvarint(3).uvarint(2).i8(1).i8(2);
    return b.b;
  };
  for (std::size_t original_value : {1u, 20u, 127u, 128u, 300u, 16383u, 16390u}) {
    const Bytes original = section(original_value);
    for (std::size_t rewritten_value = 0; rewritten_value <= original_value + 40; ++rewritten_value) {
      if (rewritten_value > 200 && rewritten_value + 40 < original_value) rewritten_value = original_value - 40;
      INFO("original " << original_value << " rewritten " << rewritten_value);
      const Bytes rewritten = section(rewritten_value);
      Bytes out;
      const TagFit fit = fit_tag_section(original, rewritten, 0, out);
      REQUIRE(fit != TagFit::failed);
      REQUIRE(out.size() == original.size());
      wire::Reader r(out);
      std::uint32_t count = 0, tag = 0, size = 0;
      REQUIRE(r.read_uvarint(count));
      std::vector<std::pair<std::uint32_t, std::uint32_t>> tags;
      for (std::uint32_t i = 0; i < count; ++i) {
        REQUIRE(r.read_uvarint(tag));
        REQUIRE(r.read_uvarint(size));
        REQUIRE(r.skip(size));
        tags.push_back({tag, size});
      }
      REQUIRE(r.remaining() == 0);
      REQUIRE(std::is_sorted(tags.begin(), tags.end()));
      if (rewritten.size() <= original.size()) {
        CHECK(fit == (rewritten.size() == original.size() ? TagFit::exact : TagFit::padded));
        REQUIRE(tags.size() >= 2);
        CHECK(tags[0] == std::make_pair(0u, static_cast<std::uint32_t>(rewritten_value)));
        CHECK(tags[1] == std::make_pair(3u, 2u));
      } else {
        CHECK(fit == TagFit::stripped);
        REQUIRE(tags.size() >= 1);
        CHECK(tags[0] == std::make_pair(3u, 2u));
        CHECK(std::none_of(tags.begin(), tags.end(), [](auto& t) { return t.first == 0; }));
      }
      for (const auto& t : tags) CHECK((t.first == 0 || t.first == 3 || t.first == kPaddingTag));
    }
  }
}
