// KIP-219 throttling of quota'd clients: the response's ThrottleTimeMs is
// raised to the throttle the router set on the request, wherever the frame is
// split, in every mode the processor handles it (streamed, buffered, streamed
// Fetch v16+); every other byte is unchanged.
#include <catch2/catch.hpp>

#include "kafka_codec/stream.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;

namespace {

constexpr std::int32_t kCorr = 77;
constexpr std::uint32_t kMax = 1 << 20;

// Produce v7 (non-flexible): one topic, one partition; ThrottleTimeMs after Responses.
Bytes produce_v7(std::int32_t throttle_ms) {
  Builder b;
  b.i32(kCorr);
  b.i32(1).str("orders");
  b.i32(1).i32(0).i16(0).i64(42).i64(-1).i64(0);  // Index, ErrorCode, BaseOffset, LogAppendTime, LogStartOffset
  b.i32(throttle_ms);
  return b.frame();
}

// Produce v9 (flexible), one partition, empty tag buffers.
Bytes produce_v9(std::int32_t throttle_ms) {
  Builder b;
  b.i32(kCorr).uvarint(0);
  b.uvarint(2).cstr("orders");
  b.uvarint(2).i32(0).i16(0).i64(42).i64(-1).i64(0).uvarint(1).uvarint(0).uvarint(0);
  b.uvarint(0);  // topic tags
  b.i32(throttle_ms);
  b.uvarint(0);
  return b.frame();
}

// Fetch v11 (non-flexible, streamed): ThrottleTimeMs first; one topic with a record blob.
Bytes fetch_v11(std::int32_t throttle_ms) {
  Builder b;
  b.i32(kCorr);
  b.i32(throttle_ms).i16(0).i32(5);                // ThrottleTimeMs, ErrorCode, SessionId
  b.i32(1).str("orders").i32(1);                   // Responses[1]: Name, Partitions[1]
  b.i32(0).i16(0).i64(10).i64(10).i64(0);          // Index, ErrorCode, HighWatermark, LastStable, LogStart
  b.i32(0);                                        // AbortedTransactions []
  b.i32(-1);                                       // PreferredReadReplica
  b.i32(4).i32(0x01020304);                        // Records (opaque here)
  return b.frame();
}

// Fetch v12+ (flexible), no topics: header tags, ThrottleTimeMs, ErrorCode, SessionId, Responses [], tags.
Bytes fetch_flexible(std::int32_t throttle_ms) {
  Builder b;
  b.i32(kCorr).uvarint(0);
  b.i32(throttle_ms).i16(0).i32(5).uvarint(1).uvarint(0);
  return b.frame();
}

Bytes with_throttle_at(Bytes frame, std::size_t at, std::int32_t throttle_ms) {
  Builder v;
  v.i32(throttle_ms);
  std::copy(v.b.begin(), v.b.end(), frame.begin() + static_cast<std::ptrdiff_t>(at));
  return frame;
}

struct Counting : TemplateAddressMap {
  std::vector<std::uint32_t> sizes;
  void on_response_start(const RequestInfo&, std::uint32_t frame_bytes) override { sizes.push_back(frame_bytes); }
};

// Feeds `response` in pieces of `chunk` bytes to a processor expecting one
// request (key, version) throttled by `throttle_ms`; returns what the client gets.
Bytes run(const Bytes& response, std::int16_t key, std::int16_t version, std::int32_t throttle_ms, std::size_t chunk,
          std::uint32_t fetch_buffer = ResponseProcessor::kDefaultFetchBufferBytes, Counting* counting = nullptr) {
  Counting own;
  Counting& map = counting != nullptr ? *counting : own;
  ResponseProcessor processor(kMax, map, fetch_buffer);
  InFlightQueue inflight;
  RequestInfo request{key, version, kCorr};
  request.throttle_ms = throttle_ms;
  request.report_response = true;
  inflight.push(request);
  VectorSink sink;
  for (std::size_t at = 0; at < response.size(); at += chunk) {
    const std::size_t n = std::min(chunk, response.size() - at);
    REQUIRE(processor.feed(std::span<const std::uint8_t>(response.data() + at, n), inflight, sink) == Errc::ok);
  }
  CHECK(processor.stats().responses == 1);
  return sink.bytes;
}

}  // namespace

TEST_CASE("a throttled Produce response carries the throttle, however it is split", "[response][throttle]") {
  const std::size_t chunk = GENERATE(1, 3, 7, 1000);
  SECTION("v7") {
    CHECK(to_hex(run(produce_v7(0), 0, 7, 250, chunk)) == to_hex(produce_v7(250)));
  }
  SECTION("v9 flexible") {
    CHECK(to_hex(run(produce_v9(0), 0, 9, 250, chunk)) == to_hex(produce_v9(250)));
  }
  SECTION("a broker's longer throttle stands") {
    CHECK(to_hex(run(produce_v7(900), 0, 7, 250, chunk)) == to_hex(produce_v7(900)));
  }
  SECTION("an unthrottled response passes byte for byte") {
    CHECK(to_hex(run(produce_v7(0), 0, 7, 0, chunk)) == to_hex(produce_v7(0)));
  }
}

TEST_CASE("a throttled Fetch response carries the throttle in every processing mode", "[response][throttle]") {
  const std::size_t chunk = GENERATE(1, 2, 5, 9, 1000);
  SECTION("v11, streamed: ThrottleTimeMs right after the correlation id") {
    CHECK(to_hex(run(fetch_v11(0), 1, 11, 300, chunk)) == to_hex(fetch_v11(300)));
    CHECK(to_hex(run(fetch_v11(900), 1, 11, 300, chunk)) == to_hex(fetch_v11(900)));
  }
  SECTION("v12, streamed: after the header tag buffer") {
    CHECK(to_hex(run(fetch_flexible(0), 1, 12, 300, chunk)) == to_hex(fetch_flexible(300)));
  }
  SECTION("v16, small enough to be rewritten whole") {
    CHECK(to_hex(run(fetch_flexible(0), 1, 16, 300, chunk)) == to_hex(fetch_flexible(300)));
  }
  SECTION("v16, streamed with its tail held (FetchResponseStream)") {
    CHECK(to_hex(run(fetch_flexible(0), 1, 16, 300, chunk, /*fetch_buffer=*/4)) == to_hex(fetch_flexible(300)));
  }
  SECTION("a header tag buffer no broker sends is passed unpatched") {
    Builder b;
    b.i32(kCorr).uvarint(1).uvarint(5).uvarint(1).i8(9);  // one header tag
    b.i32(0).i16(0).i32(5).uvarint(1).uvarint(0);
    CHECK(to_hex(run(b.frame(), 1, 12, 300, chunk)) == to_hex(b.frame()));
  }
}

TEST_CASE("throttle patches touch exactly the ThrottleTimeMs bytes", "[response][throttle]") {
  // The same frames with the field written at its known offset by hand.
  CHECK(to_hex(run(fetch_v11(0), 1, 11, 0x01020304, 1)) == to_hex(with_throttle_at(fetch_v11(0), 8, 0x01020304)));
  CHECK(to_hex(run(fetch_flexible(0), 1, 13, 0x01020304, 1)) ==
        to_hex(with_throttle_at(fetch_flexible(0), 9, 0x01020304)));
  const Bytes produce = produce_v7(0);
  CHECK(to_hex(run(produce, 0, 7, 0x01020304, 1)) == to_hex(with_throttle_at(produce, produce.size() - 4, 0x01020304)));
}

TEST_CASE("APIs without a ThrottleTimeMs kedge patches pass unchanged even when throttled", "[response][throttle]") {
  // Fetch v0 has no ThrottleTimeMs: its first body bytes are the Responses count.
  Builder b;
  b.i32(kCorr).i32(0);
  CHECK(to_hex(run(b.frame(), 1, 0, 300, 1)) == to_hex(b.frame()));
  // ListOffsets v2 has one (first), but kedge throttles only Produce and Fetch.
  Builder l;
  l.i32(kCorr).i32(0).i32(0);
  CHECK(to_hex(run(l.frame(), 2, 2, 300, 1)) == to_hex(l.frame()));
}

TEST_CASE("response sizes are reported for requests that count them", "[response][throttle]") {
  Counting counting;
  const std::size_t chunk = GENERATE(1, 1000);
  run(fetch_v11(0), 1, 11, 0, chunk, ResponseProcessor::kDefaultFetchBufferBytes, &counting);
  run(fetch_flexible(0), 1, 16, 0, chunk, ResponseProcessor::kDefaultFetchBufferBytes, &counting);
  run(fetch_flexible(0), 1, 16, 0, chunk, 4, &counting);
  REQUIRE(counting.sizes.size() == 3);
  CHECK(counting.sizes[0] == fetch_v11(0).size());
  CHECK(counting.sizes[1] == fetch_flexible(0).size());
  CHECK(counting.sizes[2] == fetch_flexible(0).size());
}

TEST_CASE("a throttled response followed by an unthrottled one in the same bytes", "[response][throttle]") {
  TemplateAddressMap map;
  ResponseProcessor processor(kMax, map);
  InFlightQueue inflight;
  RequestInfo first{1, 11, kCorr};
  first.throttle_ms = 40;
  inflight.push(first);
  Bytes second_frame = fetch_v11(0);
  second_frame[7] = 78;  // correlation id 78
  inflight.push(RequestInfo{1, 11, 78});
  Bytes both = fetch_v11(0);
  both.insert(both.end(), second_frame.begin(), second_frame.end());
  VectorSink sink;
  REQUIRE(processor.feed(both, inflight, sink) == Errc::ok);
  Bytes expected = fetch_v11(40);
  expected.insert(expected.end(), second_frame.begin(), second_frame.end());
  CHECK(to_hex(sink.bytes) == to_hex(expected));
}
