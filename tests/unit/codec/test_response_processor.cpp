#include <catch2/catch.hpp>

#include "kafka_codec/stream.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;

namespace {

constexpr std::int32_t kCorr = 0x11223344;
constexpr std::uint32_t kMax = 1 << 20;

// Metadata v1 (non-flexible): Brokers, ControllerId, Topics.
Bytes metadata_v1(std::int32_t corr, const std::string& host1, std::int32_t port1,
                  const std::string& host2, std::int32_t port2) {
  Builder b;
  b.i32(corr);
  b.i32(2);
  b.i32(1).str(host1).i32(port1).i16(-1);
  b.i32(2).str(host2).i32(port2).str("rack-b");
  b.i32(1);                                    // ControllerId
  b.i32(1);                                    // Topics
  b.i16(0).str("orders").i8(0);                // ErrorCode, Name, IsInternal
  b.i32(1).i16(0).i32(0).i32(2).i32(1).i32(2).i32(1).i32(2);  // partition: replicas [2], isr [2]
  return b.frame();
}

// Produce v10 (flexible), one partition; optional NodeEndpoints (top-level tag 0).
Bytes produce_v10(bool with_endpoints, const std::string& host, std::int32_t port) {
  Builder b;
  b.i32(kCorr).uvarint(0);                               // header v1
  b.uvarint(2).cstr("t");                                // Responses[1], Name
  b.uvarint(2).i32(0).i16(6).i64(-1).i64(-1).i64(-1);    // partition: NOT_LEADER_OR_FOLLOWER
  b.uvarint(1).uvarint(0);                               // RecordErrors [], ErrorMessage null
  b.uvarint(1).uvarint(0).uvarint(9).i32(3).i32(7).uvarint(0);  // tag 0 CurrentLeader{3,7,{}}
  b.uvarint(0);                                          // topic tags
  b.i32(0);                                              // ThrottleTimeMs
  if (with_endpoints) {
    Builder endpoints;
    endpoints.uvarint(2).i32(3).cstr(host).i32(port).uvarint(0).uvarint(0);
    b.uvarint(2).uvarint(0).uvarint(static_cast<std::uint32_t>(endpoints.b.size())).raw(endpoints.b);
    b.uvarint(9).uvarint(1).i8(0x55);                    // unknown top-level tag, kept verbatim
  } else {
    b.uvarint(0);
  }
  return b.frame();
}

struct Harness {
  TemplateAddressMap map;
  InFlightQueue inflight;
  VectorSink sink;
  ResponseProcessor processor{kMax, map};
  void expect(std::int16_t key, std::int16_t version, std::int32_t corr = kCorr) {
    inflight.push({key, version, corr});
  }
  Errc feed(const Bytes& b) { return processor.feed(b, inflight, sink); }
};

}  // namespace

TEST_CASE("frames that carry no addresses stream through byte for byte", "[response]") {
  Harness h;
  // Heartbeat v4 (flexible) and a large ListOffsets v1 body of arbitrary bytes.
  Builder heartbeat;
  heartbeat.i32(1).uvarint(0).i32(0).i16(0).uvarint(0);
  Builder list_offsets;
  list_offsets.i32(2);
  for (int i = 0; i < 5000; ++i) list_offsets.i8(i * 7);
  const Bytes stream = concat({heartbeat.frame(), list_offsets.frame()});
  h.expect(12, 4, 1);
  h.expect(2, 1, 2);

  // when: fed in 13-byte pieces
  std::size_t fed = 0;
  bool streamed_before_end = false;
  while (fed < stream.size()) {
    const std::size_t n = std::min<std::size_t>(13, stream.size() - fed);
    REQUIRE(h.processor.feed(std::span<const std::uint8_t>(stream).subspan(fed, n), h.inflight, h.sink) == Errc::ok);
    fed += n;
    CHECK(h.processor.buffered_bytes() <= 8);  // never more than size + correlation id
    if (fed < stream.size() && h.sink.bytes.size() > heartbeat.b.size() + 4 + 8) streamed_before_end = true;
  }
  // then
  CHECK(h.sink.bytes == stream);
  CHECK(streamed_before_end);
  CHECK(h.inflight.empty());
  CHECK(h.processor.stats().responses == 2);
  CHECK(h.processor.stats().rewritten == 0);
  CHECK(h.processor.stats().passthrough_bytes == stream.size());
}

TEST_CASE("metadata v1 is rewritten whatever the split point", "[response][metadata]") {
  const Bytes input = metadata_v1(kCorr, "10.0.0.1", 19092, "10.0.0.2", 19093);
  const Bytes expected = metadata_v1(kCorr, "broker-1.kafka.example.com", 9092,
                                     "broker-2.kafka.example.com", 9092);
  for (std::size_t split = 0; split <= input.size(); ++split) {
    Harness h;
    h.expect(3, 1);
    const std::span<const std::uint8_t> all(input);
    REQUIRE(h.processor.feed(all.first(split), h.inflight, h.sink) == Errc::ok);
    if (split < input.size()) {
      CHECK(h.sink.bytes.empty());  // nothing of a frame to rewrite before it is complete
      CHECK(h.processor.buffered_bytes() == split);
    }
    REQUIRE(h.processor.feed(all.subspan(split), h.inflight, h.sink) == Errc::ok);
    REQUIRE(to_hex(h.sink.bytes) == to_hex(expected));
    CHECK(h.processor.buffered_bytes() == 0);
    REQUIRE(h.map.seen.size() == 2);
    CHECK(h.map.seen[0].node_id == 1);
    CHECK(h.map.seen[0].real_host == "10.0.0.1");
    CHECK(h.map.seen[0].real_port == 19092);
    CHECK(h.map.seen[1].real_host == "10.0.0.2");
    CHECK(h.processor.stats().rewritten == 1);
  }
}

TEST_CASE("produce v10 NodeEndpoints tag is rewritten with its size recomputed", "[response][produce]") {
  Harness h;
  h.expect(0, 10);
  REQUIRE(h.feed(produce_v10(true, "10.1.1.1", 1234)) == Errc::ok);
  CHECK(to_hex(h.sink.bytes) == to_hex(produce_v10(true, "broker-3.kafka.example.com", 9092)));
  REQUIRE(h.map.seen.size() == 1);
  CHECK(h.map.seen[0].node_id == 3);

  SECTION("without NodeEndpoints the buffered bytes go out unchanged") {
    const Bytes plain = produce_v10(false, "", 0);
    h.sink.bytes.clear();
    h.expect(0, 11);
    REQUIRE(h.feed(plain) == Errc::ok);
    CHECK(h.sink.bytes == plain);
    CHECK(h.processor.stats().rewritten == 1);
    CHECK(h.processor.stats().responses == 2);
  }
}

TEST_CASE("response correlation errors", "[response]") {
  Harness h;
  const Bytes frame = metadata_v1(kCorr, "a", 1, "b", 2);
  SECTION("mismatch with the FIFO head") {
    h.expect(3, 1, kCorr + 1);
    CHECK(h.feed(frame) == Errc::correlation_mismatch);
  }
  SECTION("nothing in flight") {
    CHECK(h.feed(frame) == Errc::unexpected_response);
  }
  SECTION("mismatch on a streamed frame writes nothing either") {
    h.expect(12, 0, 5);
    Builder hb;
    hb.i32(6).i16(0);
    CHECK(h.feed(hb.frame()) == Errc::correlation_mismatch);
  }
  CHECK(h.sink.bytes.empty());
  CHECK(h.feed(frame) != Errc::ok);  // sticky
}

TEST_CASE("malformed responses produce an error and write nothing of that frame", "[response]") {
  Harness h;
  const Bytes good = metadata_v1(kCorr, "a", 1, "b", 2);
  h.expect(3, 1);
  REQUIRE(h.feed(good) == Errc::ok);
  const std::size_t written = h.sink.bytes.size();

  SECTION("truncated body (frame ends inside Brokers)") {
    Bytes body(good.begin() + 4, good.begin() + 4 + 4 + 4 + 4 + 2 + 3);  // corr, count, id, host "ab…
    h.expect(3, 1);
    CHECK(h.feed(Builder().raw(body).frame()) == Errc::malformed_response);
  }
  SECTION("array count larger than the frame") {
    Builder b;
    b.i32(kCorr).i32(0x7fffffff);
    h.expect(3, 1);
    CHECK(h.feed(b.frame()) == Errc::malformed_response);
  }
  SECTION("string length larger than the frame") {
    Builder b;
    b.i32(kCorr).i32(1).i32(1).i16(300).i8('x');
    h.expect(3, 1);
    CHECK(h.feed(b.frame()) == Errc::malformed_response);
  }
  SECTION("negative non-nullable string length") {
    Builder b;
    b.i32(kCorr).i32(1).i32(1).i16(-1).i32(9092).i16(-1).i32(1).i32(0);
    h.expect(3, 1);
    CHECK(h.feed(b.frame()) == Errc::malformed_response);
  }
  SECTION("version the schema does not describe") {
    h.expect(3, 14);
    Builder b;
    b.i32(kCorr).uvarint(0).i32(0).uvarint(1).uvarint(1).i32(1).uvarint(1).uvarint(0);
    CHECK(h.feed(b.frame()) == Errc::malformed_response);
  }
  SECTION("tag value that does not fill its size") {
    // Grow the NodeEndpoints tag size by one and append one byte: the tag's
    // content walks short of its size.
    Builder endpoints;
    endpoints.uvarint(2).i32(3).cstr("h").i32(1).uvarint(0).uvarint(0);
    Builder b;
    b.i32(kCorr).uvarint(0).uvarint(1).i32(0).uvarint(1).uvarint(0)
        .uvarint(static_cast<std::uint32_t>(endpoints.b.size() + 1)).raw(endpoints.b).i8(0);
    h.expect(0, 10);
    CHECK(h.feed(b.frame()) == Errc::malformed_response);
  }
  CHECK(h.sink.bytes.size() == written);
}

TEST_CASE("fields after the last rewritable one are not decoded: Metadata Topics pass byte for byte",
          "[response][metadata]") {
  // Brokers is the last top-level field of Metadata that holds an address, so
  // ControllerId and Topics are copied as received, even bytes that would not
  // parse as Topics (the client decodes them, exactly as without kedge). A
  // frame that ends inside Brokers still fails (the previous test case).
  const Bytes good = metadata_v1(kCorr, "10.0.0.1", 19092, "10.0.0.2", 19093);
  const Bytes rewritten = metadata_v1(kCorr, "broker-1.kafka.example.com", 9092,
                                      "broker-2.kafka.example.com", 9092);
  const std::size_t brokers_end = 4 + 4 + 4 + (4 + 2 + 8 + 4 + 2) + (4 + 2 + 8 + 4 + 2 + 6);
  const std::size_t rewritten_brokers_end = brokers_end + 2 * (26 - 8);
  REQUIRE(good.size() > brokers_end);
  const Bytes tails[] = {
      {},                                          // frame ends right after Brokers
      {0x00, 0x00, 0x00, 0x01, 0x7f, 0xff, 0xff},  // ControllerId, then a Topics count the frame cannot hold
      Bytes(good.begin() + static_cast<std::ptrdiff_t>(brokers_end), good.end() - 3),  // truncated Topics
  };
  for (const Bytes& tail : tails) {
    Bytes body(good.begin() + 4, good.begin() + static_cast<std::ptrdiff_t>(brokers_end));
    body.insert(body.end(), tail.begin(), tail.end());
    Harness h;
    h.expect(3, 1);
    REQUIRE(h.feed(Builder().raw(body).frame()) == Errc::ok);
    Bytes expected(rewritten.begin() + 4, rewritten.begin() + static_cast<std::ptrdiff_t>(rewritten_brokers_end));
    expected.insert(expected.end(), tail.begin(), tail.end());
    CHECK(to_hex(h.sink.bytes) == to_hex(Builder().raw(expected).frame()));
    CHECK(h.map.seen.size() == 2);
  }
}

TEST_CASE("bytes after the last field are carried through, endpoints still rewritten", "[response]") {
  // librdkafka's mock broker appends a second empty tag buffer to flexible
  // responses; Kafka's clients ignore such bytes, so kedge must too (engine.h).
  Harness plain;
  const Bytes good = metadata_v1(kCorr, "a", 1, "b", 2);
  plain.expect(3, 1);
  REQUIRE(plain.feed(good) == Errc::ok);

  Harness h;
  Bytes body(good.begin() + 4, good.end());
  body.push_back(0);
  body.push_back(0x5a);
  h.expect(3, 1);
  REQUIRE(h.feed(Builder().raw(body).frame()) == Errc::ok);
  REQUIRE(h.sink.bytes.size() == plain.sink.bytes.size() + 2);
  CHECK(h.sink.bytes[h.sink.bytes.size() - 2] == 0);
  CHECK(h.sink.bytes.back() == 0x5a);
  CHECK(std::equal(plain.sink.bytes.begin() + 4, plain.sink.bytes.end(), h.sink.bytes.begin() + 4));
}

TEST_CASE("response size checks", "[response]") {
  TemplateAddressMap map;
  InFlightQueue q;
  VectorSink sink;
  q.push({3, 1, kCorr});
  SECTION("oversize") {
    ResponseProcessor p(100, map);
    CHECK(p.feed(Builder().i32(101).i32(kCorr).b, q, sink) == Errc::frame_too_large);
  }
  SECTION("negative") {
    ResponseProcessor p(100, map);
    CHECK(p.feed(Builder().i32(-1).b, q, sink) == Errc::negative_frame_size);
  }
  SECTION("too small for a correlation id") {
    ResponseProcessor p(100, map);
    CHECK(p.feed(Builder().i32(3).b, q, sink) == Errc::negative_frame_size);
  }
  CHECK(sink.bytes.empty());
  CHECK(q.size() == 1);
}

TEST_CASE("find coordinator v4 skips error entries", "[response][find_coordinator]") {
  auto build = [](const std::string& host, std::int32_t port) {
    Builder b;
    b.i32(kCorr).uvarint(0).i32(0).uvarint(3);
    b.cstr("g1").i32(4).cstr(host).i32(port).i16(0).uvarint(0).uvarint(0);
    b.cstr("g2").i32(-1).cstr("").i32(-1).i16(15).cstr("COORDINATOR_NOT_AVAILABLE").uvarint(0);
    b.uvarint(0);
    return b.frame();
  };
  Harness h;
  h.expect(10, 4);
  REQUIRE(h.feed(build("10.0.0.4", 9000)) == Errc::ok);
  CHECK(h.sink.bytes == build("broker-4.kafka.example.com", 9092));
  REQUIRE(h.map.seen.size() == 1);
  CHECK(h.map.seen[0].node_id == 4);
}

TEST_CASE("api versions clamp", "[response][api_versions]") {
  auto entries = [](Builder& b, bool flexible, std::initializer_list<std::array<int, 3>> list) {
    if (flexible) b.uvarint(static_cast<std::uint32_t>(list.size() + 1));
    else b.i32(static_cast<std::int32_t>(list.size()));
    for (const auto& e : list) {
      b.i16(e[0]).i16(e[1]).i16(e[2]);
      if (flexible) b.uvarint(0);
    }
  };
  SECTION("v3: lower in place, remove Raft keys and entries whose min exceeds the clamp") {
    Builder in;
    in.i32(kCorr).i16(0);
    entries(in, true, {{0, 3, 13}, {1, 4, 19}, {52, 0, 2}, {55, 0, 2}, {3, 14, 15}, {10000, 0, 3}, {18, 0, 5}});
    in.i32(0).uvarint(1).uvarint(3).uvarint(1).i8(1);  // ZkMigrationReady tag
    Builder out;
    out.i32(kCorr).i16(0);
    entries(out, true, {{0, 3, 13}, {1, 4, 18}, {55, 0, 1}, {10000, 0, 3}, {18, 0, 4}});
    out.i32(0).uvarint(1).uvarint(3).uvarint(1).i8(1);
    Harness h;
    h.expect(18, 3);
    REQUIRE(h.feed(in.frame()) == Errc::ok);
    CHECK(to_hex(h.sink.bytes) == to_hex(out.frame()));
    CHECK(h.map.seen.empty());
  }
  SECTION("error 35 answers a v4 request with a v0 body") {
    Builder in;
    in.i32(kCorr).i16(35);
    entries(in, false, {{18, 0, 5}});
    Builder out;
    out.i32(kCorr).i16(35);
    entries(out, false, {{18, 0, 4}});
    Harness h;
    h.expect(18, 4);
    REQUIRE(h.feed(in.frame()) == Errc::ok);
    CHECK(h.sink.bytes == out.frame());
  }
  SECTION("error 35 answers a v5 request from a newer client with a v0 body") {
    Builder in;
    in.i32(kCorr).i16(35);
    entries(in, false, {{18, 0, 4}});
    Harness h;
    h.expect(18, 5);
    REQUIRE(h.feed(in.frame()) == Errc::ok);
    CHECK(h.sink.bytes == in.frame());
  }
  SECTION("nothing to clamp: forwarded unchanged") {
    Builder in;
    in.i32(kCorr).i16(0);
    entries(in, false, {{3, 0, 12}, {2, 0, 9}});
    Harness h;
    h.expect(18, 0);
    REQUIRE(h.feed(in.frame()) == Errc::ok);
    CHECK(h.sink.bytes == in.frame());
    CHECK(h.processor.stats().rewritten == 0);
  }
}

TEST_CASE("max_supported_version table", "[clamp]") {
  CHECK(max_supported_version(0) == 13);
  CHECK(max_supported_version(1) == 18);
  CHECK(max_supported_version(3) == 13);
  CHECK(max_supported_version(10) == 6);
  CHECK(max_supported_version(18) == 4);
  CHECK(max_supported_version(55) == 1);
  CHECK(max_supported_version(60) == 2);
  CHECK(max_supported_version(78) == 2);
  CHECK(max_supported_version(79) == 2);
  for (std::int16_t removed : {52, 53, 54, 59, 82}) CHECK(max_supported_version(removed) == -1);
  for (std::int16_t passthrough : {2, 8, 17, 36, 75, 10000, -3}) CHECK(max_supported_version(passthrough) == INT16_MAX);
}

TEST_CASE("large buffered frames are released after use", "[response][memory]") {
  Harness h;
  Builder b;
  b.i32(kCorr).i32(0).i32(-1).i32(0x4000);  // no brokers, ControllerId, 16384 topics
  for (int i = 0; i < 0x4000; ++i) b.i16(0).str("topic-with-a-long-name-" + std::to_string(i)).i8(0).i32(0);
  h.expect(3, 1);
  const Bytes frame = b.frame();
  REQUIRE(frame.size() > 256 * 1024);
  REQUIRE(h.processor.feed(std::span<const std::uint8_t>(frame).first(frame.size() - 1), h.inflight, h.sink) == Errc::ok);
  CHECK(h.processor.buffered_bytes() == frame.size() - 1);
  REQUIRE(h.processor.feed(std::span<const std::uint8_t>(frame).last(1), h.inflight, h.sink) == Errc::ok);
  CHECK(h.processor.buffered_bytes() == 0);
  CHECK(h.sink.bytes == frame);
}

TEST_CASE("Metadata v4 request asking for no topics and its broker list", "[discovery]") {
  const Bytes request = encode_metadata_request(4, 77, "kedge");
  Builder expected;
  expected.i16(3).i16(4).i32(77).str("kedge").i32(0).i8(0);
  CHECK(request == expected.frame());

  // The tracker agrees on the framing.
  RequestTracker tracker(1 << 20);
  InFlightQueue q;
  REQUIRE(tracker.feed(request, q) == Errc::ok);
  REQUIRE(q.size() == 1);
  CHECK(q.front().api_version == 4);

  Builder response;
  response.i32(77).i32(0).i32(2);
  response.i32(5).str("b5.internal").i32(9092).i16(-1);
  response.i32(6).str("b6.internal").i32(9093).str("r");
  response.str("cluster").i32(5).i32(0);
  std::vector<BrokerEndpoint> brokers;
  REQUIRE(decode_metadata_brokers(response.frame(), 4, 77, brokers));
  REQUIRE(brokers.size() == 2);
  CHECK(brokers[0].node_id == 5);
  CHECK(brokers[0].host == "b5.internal");
  CHECK(brokers[1].port == 9093);
  CHECK_FALSE(decode_metadata_brokers(response.frame(), 4, 78, brokers));
  Bytes trailing = response.b;
  trailing.push_back(0);
  CHECK(decode_metadata_brokers(Builder().raw(trailing).frame(), 4, 77, brokers));  // tolerated, engine.h
}

TEST_CASE("repeated NodeEndpoints tags each get their own size recomputed", "[response][produce]") {
  // A hostile or future broker may repeat a tag; every copy is rewritten and
  // every tag size stays exact, with hosts long enough to grow the size varints.
  auto build = [](const std::vector<std::pair<int, std::string>>& endpoints, int port) {
    Builder b;
    b.i32(kCorr).uvarint(0).uvarint(1).i32(0);  // header, Responses [], ThrottleTimeMs
    b.uvarint(static_cast<std::uint32_t>(endpoints.size()));
    for (const auto& [id, host] : endpoints) {
      Builder value;
      value.uvarint(2).i32(id).cstr(host).i32(port).uvarint(0).uvarint(0);
      b.uvarint(0).uvarint(static_cast<std::uint32_t>(value.b.size())).raw(value.b);
    }
    return b.frame();
  };
  Harness h;
  h.map.host_template = std::string(140, 'x') + "-{id}";
  h.expect(0, 12);
  REQUIRE(h.feed(build({{1, "a"}, {2, "b"}, {3, "c"}}, 1)) == Errc::ok);
  const std::string advertised = std::string(140, 'x') + "-";
  CHECK(to_hex(h.sink.bytes) ==
        to_hex(build({{1, advertised + "1"}, {2, advertised + "2"}, {3, advertised + "3"}}, 9092)));
  CHECK(h.map.seen.size() == 3);
}

TEST_CASE("a reset processor is as good as a new one for another connection", "[response][reuse]") {
  // given: a processor that rewrote one response for one connection's map
  Harness h;
  h.expect(3, 1);
  REQUIRE(h.feed(metadata_v1(kCorr, "10.0.0.1", 19092, "10.0.0.2", 19093)) == Errc::ok);
  REQUIRE(h.processor.stats().responses == 1);

  SECTION("it rewrites with the new map and counts from zero") {
    TemplateAddressMap other;
    other.host_template = "b{id}.other.example";
    other.port = 9093;
    InFlightQueue inflight;
    VectorSink sink;
    h.processor.reset(kMax, other);
    inflight.push({3, 1, 7});
    REQUIRE(h.processor.feed(metadata_v1(7, "10.0.0.1", 19092, "10.0.0.2", 19093), inflight, sink) == Errc::ok);
    CHECK(to_hex(sink.bytes) == to_hex(metadata_v1(7, "b1.other.example", 9093, "b2.other.example", 9093)));
    CHECK(other.seen.size() == 2);
    CHECK(h.map.seen.size() == 2);  // the first map saw only the first response
    CHECK(h.processor.stats().responses == 1);
    CHECK(h.processor.stats().rewritten == 1);
  }
  SECTION("an error is cleared and the new frame limit applies") {
    h.expect(3, 1, kCorr + 1);
    REQUIRE(h.feed(metadata_v1(kCorr, "10.0.0.1", 19092, "10.0.0.2", 19093)) == Errc::correlation_mismatch);
    h.processor.reset(64, h.map);
    InFlightQueue inflight;
    VectorSink sink;
    inflight.push({3, 1, kCorr});
    CHECK(h.processor.feed(metadata_v1(kCorr, "10.0.0.1", 19092, "10.0.0.2", 19093), inflight, sink) ==
          Errc::frame_too_large);
    h.processor.reset(kMax, h.map);
    inflight = InFlightQueue{};
    inflight.push({3, 1, kCorr});
    CHECK(h.processor.feed(metadata_v1(kCorr, "10.0.0.1", 19092, "10.0.0.2", 19093), inflight, sink) == Errc::ok);
    CHECK(sink.bytes.size() > 0);
  }
}

TEST_CASE("shrink frees the buffers a large response left behind", "[response][reuse][memory]") {
  // given: a ~40 KB Metadata response assembled from two pieces and rewritten
  // (below the 64 KiB a processor keeps between responses on its own)
  Harness h;
  Builder b;
  b.i32(kCorr).i32(1).i32(1).str("10.0.0.1").i32(19092).i16(-1).i32(1);
  b.i32(1000);
  for (int i = 0; i < 1000; ++i) b.i16(0).str("topic-" + std::to_string(100000 + i)).i8(0).i32(0);
  const Bytes frame = b.frame();
  REQUIRE(frame.size() > 20000);
  h.expect(3, 1);
  REQUIRE(h.feed(Bytes(frame.begin(), frame.begin() + 100)) == Errc::ok);
  REQUIRE(h.feed(Bytes(frame.begin() + 100, frame.end())) == Errc::ok);
  REQUIRE(h.processor.stats().rewritten == 1);
  REQUIRE(h.processor.capacity_bytes() >= 2 * frame.size());  // the assembled frame and its rewrite

  // when
  h.processor.shrink(16 * 1024);
  // then: every buffer above 16 KiB is gone; the processor still works
  CHECK(h.processor.capacity_bytes() < frame.size());
  h.expect(3, 1);
  h.sink.bytes.clear();
  REQUIRE(h.feed(frame) == Errc::ok);
  CHECK(h.sink.bytes.size() > frame.size());  // broker-1.kafka.example.com is longer than 10.0.0.1
}
