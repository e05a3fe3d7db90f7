#include <catch2/catch.hpp>

#include "kafka_codec/stream.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;

namespace {

// Request header v1: api_key, api_version, correlation_id, client_id.
Errc feed_in_chunks(RequestTracker& t, const Bytes& bytes, std::size_t chunk, InFlightQueue& q) {
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    const std::size_t n = std::min(chunk, bytes.size() - i);
    if (Errc e = t.feed(std::span<const std::uint8_t>(bytes).subspan(i, n), q); e != Errc::ok) return e;
  }
  return Errc::ok;
}

}  // namespace

TEST_CASE("request tracker follows frames fed one byte at a time", "[request]") {
  // given: Metadata v12 (header v2 with two tags), FindCoordinator v2 (header v1),
  // an unknown vendor key, and ApiVersions v3 (header v2 although client_id stays int16)
  Builder metadata = header_v1(3, 12, 101, "client-a");
  metadata.uvarint(2).uvarint(0).uvarint(3).i8(1).i8(2).i8(3).uvarint(7).uvarint(0);  // header tags
  metadata.uvarint(1).i8(0).i8(0).uvarint(0);                                         // body
  Builder find = header_v1(10, 2, 102);
  find.str("group").i8(0);
  Builder vendor = header_v1(10000, 1, 103);
  vendor.i32(42);
  Builder api_versions = header_v1(18, 3, 104);
  api_versions.uvarint(0).cstr("kcat").cstr("1.0").uvarint(0);
  const Bytes stream = concat({metadata.frame(), find.frame(), vendor.frame(), api_versions.frame()});

  for (std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{7}, stream.size()}) {
    SECTION("chunk " + std::to_string(chunk)) {
      RequestTracker tracker(1 << 20);
      InFlightQueue q;
      // when
      REQUIRE(feed_in_chunks(tracker, stream, chunk, q) == Errc::ok);
      // then
      REQUIRE(q.size() == 4);
      CHECK(q.front().api_key == 3);
      CHECK(q.front().api_version == 12);
      CHECK(q.front().correlation_id == 101);
      q.pop();
      CHECK(q.front().correlation_id == 102);
      q.pop();
      CHECK(q.front().api_key == 10000);
      q.pop();
      CHECK(q.front().api_key == 18);
      CHECK(q.front().correlation_id == 104);
      CHECK(tracker.requests_seen() == 4);
    }
  }
}

TEST_CASE("produce with acks=0 is not queued", "[request]") {
  RequestTracker tracker(1 << 20);
  InFlightQueue q;

  SECTION("v3 non-flexible, null TransactionalId") {
    Builder p = header_v1(0, 3, 7);
    p.i16(-1).i16(0).i32(1000).i32(0);
    REQUIRE(feed_in_chunks(tracker, p.frame(), 1, q) == Errc::ok);
    CHECK(q.empty());
  }
  SECTION("v8 non-flexible, TransactionalId set, acks=0") {
    Builder p = header_v1(0, 8, 7);
    p.str("txn-1").i16(0).i32(1000).i32(0);
    REQUIRE(feed_in_chunks(tracker, p.frame(), 1, q) == Errc::ok);
    CHECK(q.empty());
  }
  SECTION("v9 flexible, header tags, compact TransactionalId, acks=0") {
    Builder p = header_v1(0, 9, 7);
    p.uvarint(1).uvarint(5).uvarint(2).i8(9).i8(9);  // header tag buffer
    p.cstr("txn").i16(0).i32(1000).uvarint(1).uvarint(0);
    REQUIRE(feed_in_chunks(tracker, p.frame(), 1, q) == Errc::ok);
    CHECK(q.empty());
  }
  SECTION("v13 flexible, null compact TransactionalId, acks=-1 is queued") {
    Builder p = header_v1(0, 13, 8);
    p.uvarint(0).uvarint(0).i16(-1).i32(1000).uvarint(1).uvarint(0);
    REQUIRE(feed_in_chunks(tracker, p.frame(), 1, q) == Errc::ok);
    REQUIRE(q.size() == 1);
    CHECK(q.front().correlation_id == 8);
  }
  SECTION("v2: Acks is the first body field") {
    Builder zero = header_v1(0, 2, 9);
    zero.i16(0).i32(1000).i32(0);
    Builder one = header_v1(0, 2, 10);
    one.i16(1).i32(1000).i32(0);
    REQUIRE(feed_in_chunks(tracker, concat({zero.frame(), one.frame()}), 1, q) == Errc::ok);
    REQUIRE(q.size() == 1);
    CHECK(q.front().correlation_id == 10);
  }
  CHECK(tracker.requests_seen() >= 1);
}

TEST_CASE("request tracker rejects bad frame sizes", "[request]") {
  InFlightQueue q;
  SECTION("size above the maximum") {
    RequestTracker tracker(100);
    CHECK(tracker.feed(Builder().i32(101).b, q) == Errc::frame_too_large);
  }
  SECTION("negative size") {
    RequestTracker tracker(100);
    CHECK(tracker.feed(Builder().i32(-5).b, q) == Errc::negative_frame_size);
  }
  SECTION("too small for a request header") {
    RequestTracker tracker(100);
    CHECK(tracker.feed(Builder().i32(6).b, q) == Errc::negative_frame_size);
  }
  SECTION("the maximum itself is accepted") {
    Builder b = header_v1(3, 1, 1);
    b.i32(-1);
    const Bytes frame = b.frame();
    RequestTracker tracker(static_cast<std::uint32_t>(frame.size() - 4));
    CHECK(tracker.feed(frame, q) == Errc::ok);
    CHECK(q.size() == 1);
  }
}

TEST_CASE("request tracker rejects headers that overrun the frame", "[request]") {
  InFlightQueue q;
  RequestTracker tracker(1000);
  SECTION("client_id longer than the frame") {
    Builder b;
    b.i16(3).i16(1).i32(1).i16(50).i8('x');
    CHECK(feed_in_chunks(tracker, b.frame(), 1, q) == Errc::malformed_request);
  }
  SECTION("header tag size larger than the frame") {
    Builder b = header_v1(3, 12, 1);
    b.uvarint(1).uvarint(0).uvarint(500);
    CHECK(feed_in_chunks(tracker, b.frame(), 1, q) == Errc::malformed_request);
  }
  SECTION("produce frame ending before Acks") {
    Builder b = header_v1(0, 3, 1);
    b.i16(-1);
    CHECK(feed_in_chunks(tracker, b.frame(), 1, q) == Errc::malformed_request);
  }
  SECTION("errors are sticky") {
    CHECK(tracker.feed(Builder().i32(-1).b, q) == Errc::negative_frame_size);
    CHECK(tracker.feed(header_v1(3, 1, 1).frame(), q) == Errc::negative_frame_size);
  }
  CHECK(q.empty());
}

TEST_CASE("SaslHandshake v0 is refused on a passthrough stream, v1 is tracked", "[request][sasl]") {
  InFlightQueue q;
  RequestTracker tracker(1000);
  Builder v1 = header_v1(17, 1, 5);
  v1.str("PLAIN");
  REQUIRE(feed_in_chunks(tracker, v1.frame(), 1, q) == Errc::ok);
  CHECK(q.size() == 1);
  Builder v0 = header_v1(17, 0, 6);
  v0.str("PLAIN");
  CHECK(feed_in_chunks(tracker, v0.frame(), 1, q) == Errc::sasl_v0_unsupported);
  CHECK(q.size() == 1);
  CHECK(to_string(Errc::sasl_v0_unsupported) == "sasl_v0_unsupported");
}
