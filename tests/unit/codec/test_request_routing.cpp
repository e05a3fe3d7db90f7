// RequestTracker with a RequestRouter (kedge answers some requests itself) and
// ResponseProcessor::answer (its answers in order with the broker's).
#include <catch2/catch.hpp>

#include <set>

#include <algorithm>
#include <optional>

#include "kafka_codec/refusal.h"
#include "kafka_codec/stream.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;

namespace {

struct Collect final : ByteSink {
  void write(std::span<const std::uint8_t> bytes) override { out.insert(out.end(), bytes.begin(), bytes.end()); }
  Bytes out;
};

// Captures SaslHandshake and SaslAuthenticate, forwards everything else.
struct SaslRouter final : RequestRouter {
  Route route(RequestInfo& request) override {
    routed.push_back(request.correlation_id);
    return is(request.api_key, ApiKey::sasl_handshake) || is(request.api_key, ApiKey::sasl_authenticate)
               ? Route::capture
               : Route::forward;
  }
  // After a SaslHandshake v0, `unframed_tokens` KIP-43 tokens follow (PLAIN 1, SCRAM 2).
  NextFrame on_captured(const RequestInfo& request, std::span<const std::uint8_t> frame) override {
    captured.emplace_back(request.correlation_id, Bytes(frame.begin(), frame.end()));
    captured_info.push_back(request);
    if (is(request.api_key, ApiKey::sasl_handshake) && request.api_version == 0) tokens_left = unframed_tokens;
    else if (request.unframed_sasl_token) --tokens_left;
    return tokens_left > 0 ? NextFrame::unframed_sasl_token : NextFrame::request;
  }
  int unframed_tokens = 0;
  int tokens_left = 0;
  std::vector<std::int32_t> routed;
  std::vector<std::pair<std::int32_t, Bytes>> captured;
  std::vector<RequestInfo> captured_info;
};

// A KIP-43 token as a client sends it: int32 size, token bytes.
Bytes unframed(std::string_view token) {
  Builder b;
  b.b.assign(token.begin(), token.end());
  return b.frame();
}

// A response frame: size, correlation id, body.
Bytes response(std::int32_t correlation, const Bytes& body) {
  Builder b;
  b.i32(correlation);
  Bytes frame = b.frame();
  frame.insert(frame.end(), body.begin(), body.end());
  const std::uint32_t size = static_cast<std::uint32_t>(frame.size() - 4);
  frame[0] = static_cast<std::uint8_t>(size >> 24);
  frame[1] = static_cast<std::uint8_t>(size >> 16);
  frame[2] = static_cast<std::uint8_t>(size >> 8);
  frame[3] = static_cast<std::uint8_t>(size);
  return frame;
}

// Feeds `stream` to the routing tracker `chunk` bytes at a time; every piece must be accepted.
void feed_in_chunks(RequestTracker& tracker, const Bytes& stream, std::size_t chunk, InFlightQueue& q,
                    RequestRouter& router, ByteSink& to_broker) {
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    const std::size_t n = std::min(chunk, stream.size() - i);
    REQUIRE(tracker.feed(std::span<const std::uint8_t>(stream).subspan(i, n), q, router, to_broker) == Errc::ok);
  }
}

struct NoAddresses final : AddressMap {
  Advertised advertised_for(std::int32_t) override { return {"unused", 0}; }
  void on_endpoint_rewritten(std::int16_t, std::int16_t, std::int32_t, std::string_view, std::int32_t,
                             const Advertised&) override {}
};

}  // namespace

TEST_CASE("a routed request stream: forwarded frames byte for byte, captured frames whole, at every split",
          "[request][routing]") {
  // given: ApiVersions v0, SaslHandshake v1, SaslAuthenticate v2 (flexible header), Metadata v1, and a
  // Produce acks=0 (forwarded, no response owed)
  Builder api_versions = header_v1(18, 0, 1);
  Builder handshake = header_v1(17, 1, 2);
  handshake.str("PLAIN");
  Builder authenticate = header_v1(36, 2, 3);
  authenticate.uvarint(0).uvarint(8).i8('\0').i8('u').i8('\0').i8('p').i8('a').i8('s').i8('s').uvarint(0);
  Builder metadata = header_v1(3, 1, 4);
  metadata.i32(0);
  Builder produce = header_v1(0, 3, 5);
  produce.i16(-1).i16(0).i32(1000).i32(0);
  const Bytes forwarded = concat({api_versions.frame(), metadata.frame(), produce.frame()});
  const Bytes stream =
      concat({api_versions.frame(), handshake.frame(), authenticate.frame(), metadata.frame(), produce.frame()});

  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    INFO("chunk " << chunk);
    RequestTracker tracker(1 << 20);
    InFlightQueue q;
    SaslRouter router;
    Collect to_broker;
    // when
    feed_in_chunks(tracker, stream, chunk, q, router, to_broker);
    // then
    CHECK(to_broker.out == forwarded);
    REQUIRE(router.captured.size() == 2);
    CHECK(router.captured[0] == std::make_pair(2, handshake.frame()));
    CHECK(router.captured[1] == std::make_pair(3, authenticate.frame()));
    CHECK(router.routed == std::vector<std::int32_t>{1, 2, 3, 4, 5});
    REQUIRE(q.size() == 4);  // acks=0 owes no response
    const bool locals[] = {false, true, true, false};
    for (int i = 0; i < 4; ++i) {
      CHECK(q.at(i).correlation_id == i + 1);
      CHECK(q.at(i).local == locals[i]);
    }
    CHECK(tracker.requests_seen() == 5);
  }
}

// Inspects Metadata (held whole, then forwarded with its last byte changed: a flag turned off in place),
// captures SaslHandshake, forwards the rest.
struct InspectingRouter final : RequestRouter {
  Route route(RequestInfo& request) override {
    if (is(request.api_key, ApiKey::metadata)) return Route::inspect;
    return is(request.api_key, ApiKey::sasl_handshake) ? Route::capture : Route::forward;
  }
  NextFrame on_captured(const RequestInfo& request, std::span<const std::uint8_t>) override {
    captured.push_back(request.correlation_id);
    return NextFrame::request;
  }
  Inspection on_inspected(RequestInfo& request, std::vector<std::uint8_t>& frame) override {
    inspected.emplace_back(request.correlation_id, Bytes(frame.begin(), frame.end()));
    frame.back() = 0;
    request.filter_topics = TopicsAsked::all;
    return answer_correlation_ids.count(request.correlation_id) != 0 ? Inspection::answer : Inspection::forward;
  }
  std::set<std::int32_t> answer_correlation_ids;  // inspected requests kedge answers itself
  std::vector<std::int32_t> captured;
  std::vector<std::pair<std::int32_t, Bytes>> inspected;
};

TEST_CASE("an inspected request is held whole, may change in place, then goes to the broker in order",
          "[request][routing]") {
  // given: ApiVersions v0, Metadata v4 (AllowAutoTopicCreation = 1, its last byte), SaslHandshake v1, Metadata v4
  Builder api_versions = header_v1(18, 0, 1);
  Builder metadata = header_v1(3, 4, 2);
  metadata.i32(-1).i8(1);
  Builder handshake = header_v1(17, 1, 3);
  handshake.str("PLAIN");
  Builder metadata_again = header_v1(3, 4, 4);
  metadata_again.i32(-1).i8(1);
  Bytes metadata_off = metadata.frame();
  metadata_off.back() = 0;
  Bytes metadata_again_off = metadata_again.frame();
  metadata_again_off.back() = 0;
  const Bytes forwarded = concat({api_versions.frame(), metadata_off, metadata_again_off});
  const Bytes stream = concat({api_versions.frame(), metadata.frame(), handshake.frame(), metadata_again.frame()});
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    INFO("chunk " << chunk);
    RequestTracker tracker(1 << 20);
    InFlightQueue q;
    InspectingRouter router;
    Collect to_broker;
    feed_in_chunks(tracker, stream, chunk, q, router, to_broker);
    CHECK(to_broker.out == forwarded);
    REQUIRE(router.inspected.size() == 2);
    CHECK(router.inspected[0] == std::make_pair(2, metadata.frame()));  // handed over as the client sent it
    CHECK(router.inspected[1] == std::make_pair(4, metadata_again.frame()));
    CHECK(router.captured == std::vector<std::int32_t>{3});
    REQUIRE(q.size() == 4);
    const bool locals[] = {false, false, true, false};  // the broker answers inspected requests
    for (int i = 0; i < 4; ++i) CHECK(q.at(i).local == locals[i]);
    // What the router set on an inspected request reaches its in-flight entry.
    CHECK(q.at(1).filter_topics == TopicsAsked::all);
    CHECK_FALSE(q.at(0).filter_topics.has_value());
  }
}

TEST_CASE("an inspected request the router answers is never forwarded and is answered locally, in order",
          "[request][routing]") {
  // given: Metadata v4 (corr 1, forwarded), Metadata v4 (corr 2, answered by kedge), ApiVersions v0 (corr 3)
  Builder first = header_v1(3, 4, 1);
  first.i32(-1).i8(1);
  Builder second = header_v1(3, 4, 2);
  second.i32(-1).i8(1);
  const Builder api_versions = header_v1(18, 0, 3);
  Bytes first_off = first.frame();
  first_off.back() = 0;
  const Bytes stream = concat({first.frame(), second.frame(), api_versions.frame()});
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    INFO("chunk " << chunk);
    RequestTracker tracker(1 << 20);
    InFlightQueue q;
    InspectingRouter router;
    router.answer_correlation_ids = {2};
    Collect to_broker;
    feed_in_chunks(tracker, stream, chunk, q, router, to_broker);
    CHECK(to_broker.out == concat({first_off, api_versions.frame()}));
    REQUIRE(router.inspected.size() == 2);
    CHECK(router.captured == std::vector<std::int32_t>{2});  // handed to on_captured to be answered
    REQUIRE(q.size() == 3);
    CHECK_FALSE(q.at(0).local);
    CHECK(q.at(1).local);
    CHECK(q.at(1).correlation_id == 2);
    CHECK_FALSE(q.at(2).local);
  }
}

TEST_CASE("kedge's answers leave in request order between the broker's responses", "[response][routing]") {
  NoAddresses addresses;
  const Bytes a = response(1, {0x00, 0x01});
  const Bytes b = response(2, {0x00, 0x02, 0x02});
  const Bytes c = response(3, {0x00, 0x03});
  // The broker's requests are OffsetCommit v2: streamed, never decoded, so their bodies may be opaque.
  SECTION("the answer comes after the broker's later response: that response waits") {
    ResponseProcessor p(1 << 20, addresses);
    InFlightQueue q;
    q.push(RequestInfo{8, 2, 1, false});
    q.push(RequestInfo{17, 1, 2, true});  // a local SaslHandshake
    q.push(RequestInfo{8, 2, 3, false});
    Collect client;
    REQUIRE(p.feed(concat({a, c}), q, client) == Errc::ok);
    CHECK(client.out == a);  // c waits behind the unanswered local request
    REQUIRE(p.answer(2, b, q, client) == Errc::ok);
    CHECK(client.out == concat({a, b, c}));
    CHECK(q.empty());
    CHECK(p.stats().responses == 3);
  }
  SECTION("the answer comes first: it waits for the broker's earlier response") {
    ResponseProcessor p(1 << 20, addresses);
    InFlightQueue q;
    q.push(RequestInfo{8, 2, 1, false});
    q.push(RequestInfo{17, 1, 2, true});
    q.push(RequestInfo{8, 2, 3, false});
    Collect client;
    REQUIRE(p.answer(2, b, q, client) == Errc::ok);
    CHECK(client.out.empty());
    // split inside a's frame: the answer goes out right after a completes
    REQUIRE(p.feed(std::span<const std::uint8_t>(a).first(5), q, client) == Errc::ok);
    CHECK(client.out.size() <= 5);  // at most a's first bytes: the answer waits for the rest of a
    CHECK(std::equal(client.out.begin(), client.out.end(), a.begin()));
    REQUIRE(p.feed(std::span<const std::uint8_t>(a).subspan(5), q, client) == Errc::ok);
    CHECK(client.out == concat({a, b}));
    REQUIRE(p.feed(c, q, client) == Errc::ok);
    CHECK(client.out == concat({a, b, c}));
  }
  SECTION("an answer to no local request in flight is an error") {
    ResponseProcessor p(1 << 20, addresses);
    InFlightQueue q;
    q.push(RequestInfo{8, 2, 1, false});
    Collect client;
    CHECK(p.answer(1, b, q, client) == Errc::unexpected_response);  // not local
    CHECK(p.answer(9, b, q, client) == Errc::unexpected_response);
  }
  SECTION("broker bytes held behind an unanswered local request are bounded") {
    ResponseProcessor p(64, addresses);
    InFlightQueue q;
    q.push(RequestInfo{17, 1, 1, true});
    q.push(RequestInfo{8, 2, 2, false});
    Collect client;
    CHECK(p.feed(Bytes(65, 0), q, client) == Errc::frame_too_large);
  }
  SECTION("reset forgets held bytes and answers") {
    ResponseProcessor p(1 << 20, addresses);
    InFlightQueue q;
    q.push(RequestInfo{17, 1, 1, true});
    q.push(RequestInfo{8, 2, 2, false});
    Collect client;
    REQUIRE(p.feed(response(2, {0}), q, client) == Errc::ok);
    CHECK(p.capacity_bytes() > 0);
    p.reset(1 << 20, addresses);
    InFlightQueue fresh;
    fresh.push(RequestInfo{8, 2, 7, false});
    Collect after;
    REQUIRE(p.feed(response(7, {1}), fresh, after) == Errc::ok);
    CHECK(after.out == response(7, {1}));
  }
}

TEST_CASE("SaslHandshake v0: the tokens that follow are captured whole without a header, at every split",
          "[request][routing][sasl]") {
  // given: ApiVersions, SaslHandshake v0 SCRAM, two unframed SCRAM tokens (their first bytes look like
  // nothing in particular; one is empty), then Metadata, forwarded again
  Builder api_versions = header_v1(18, 0, 1);
  Builder handshake = header_v1(17, 0, 2);
  handshake.str("SCRAM-SHA-256");
  const Bytes client_first = unframed("n,,n=user,r=abc");
  const Bytes client_final = unframed("");
  Builder metadata = header_v1(3, 1, 3);
  metadata.i32(0);
  const Bytes stream = concat({api_versions.frame(), handshake.frame(), client_first, client_final, metadata.frame()});
  const Bytes forwarded = concat({api_versions.frame(), metadata.frame()});

  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    INFO("chunk " << chunk);
    RequestTracker tracker(1 << 20);
    InFlightQueue q;
    SaslRouter router;
    router.unframed_tokens = 2;
    Collect to_broker;
    // when
    feed_in_chunks(tracker, stream, chunk, q, router, to_broker);
    // then: the tokens reach the router whole (size prefix included), answered under the handshake's id
    CHECK(to_broker.out == forwarded);
    REQUIRE(router.captured.size() == 3);
    CHECK(router.captured[1] == std::make_pair(2, client_first));
    CHECK(router.captured[2] == std::make_pair(2, client_final));
    CHECK(router.captured_info[1].unframed_sasl_token);
    CHECK(router.captured_info[1].api_key == 36);
    CHECK_FALSE(router.captured_info[0].unframed_sasl_token);
    CHECK(router.routed == std::vector<std::int32_t>{1, 2, 3});  // tokens are never routed
    REQUIRE(q.size() == 5);
    const bool locals[] = {false, true, true, true, false};
    const bool tokens[] = {false, false, true, true, false};
    for (int i = 0; i < 5; ++i) {
      CHECK(q.at(i).local == locals[i]);
      CHECK(q.at(i).unframed_sasl_token == tokens[i]);  // the request after the tokens is a request again
    }
    CHECK(tracker.requests_seen() == 5);
  }
}

TEST_CASE("an unframed SASL token's size is bounded like a frame's", "[request][routing][sasl]") {
  Builder handshake = header_v1(17, 0, 7);
  handshake.str("PLAIN");
  RequestTracker tracker(64);
  InFlightQueue q;
  SaslRouter router;
  router.unframed_tokens = 1;
  Collect to_broker;
  REQUIRE(tracker.feed(handshake.frame(), q, router, to_broker) == Errc::ok);
  SECTION("larger than the frame limit") {
    CHECK(tracker.feed(unframed(std::string(65, 'x')), q, router, to_broker) == Errc::frame_too_large);
  }
  SECTION("negative") {
    const Bytes negative = {0xff, 0xff, 0xff, 0xfe};
    CHECK(tracker.feed(negative, q, router, to_broker) == Errc::negative_frame_size);
  }
  SECTION("at the limit") {
    CHECK(tracker.feed(unframed(std::string(64, 'x')), q, router, to_broker) == Errc::ok);
    CHECK(router.captured.size() == 2);
  }
}


namespace {

// Produce v9 (flexible; request header v2): `topics` topics, each with one partition of `record_bytes` bytes.
Bytes produce_v9(std::int32_t correlation, const std::vector<std::string>& topics, std::size_t record_bytes,
                 std::optional<std::string> transactional_id = std::nullopt) {
  Builder b = header_v1(0, 9, correlation);
  b.uvarint(0);  // header tags
  if (transactional_id) b.cstr(*transactional_id);
  else b.uvarint(0);
  b.i16(1).i32(30000).uvarint(static_cast<std::uint32_t>(topics.size() + 1));
  for (const std::string& topic : topics) {
    b.cstr(topic).uvarint(2).i32(0).uvarint(static_cast<std::uint32_t>(record_bytes + 1));
    b.b.insert(b.b.end(), record_bytes, 0x5a);
    b.uvarint(0).uvarint(0);
  }
  b.uvarint(0);
  return b.frame();
}

// Inspects every Produce; lets one stream once read_produce_prefix names its single topic "streamed".
struct PrefixRouter final : RequestRouter {
  Route route(RequestInfo&) override { return Route::inspect; }
  NextFrame on_captured(const RequestInfo&, std::span<const std::uint8_t>) override { return NextFrame::request; }
  Inspection on_inspected(RequestInfo& request, std::vector<std::uint8_t>&) override {
    whole.push_back(request.correlation_id);
    return Inspection::forward;
  }
  Prefix on_inspect_prefix(const RequestInfo& request, std::vector<std::uint8_t>& held) override {
    ++asked;
    max_held = std::max(max_held, held.size());
    const auto produce = read_produce_prefix(held);
    if (!produce || produce->topic != "streamed") return Prefix::wait;
    streamed.push_back(request.correlation_id);
    return Prefix::forward;
  }
  std::vector<std::int32_t> whole, streamed;
  std::size_t asked = 0, max_held = 0;
};

}  // namespace

TEST_CASE("an inspected request the router lets stream from its prefix goes out unchanged and is never held whole",
          "[request][routing]") {
  // given: a large Produce the router streams, one it holds (another topic), one with two topics (held), and a
  // small one whose body ends before the prefix limit (whole before any prefix decision)
  const Bytes streamed = produce_v9(1, {"streamed"}, 20000);
  const Bytes held = produce_v9(2, {"other"}, 3000);
  const Bytes two = produce_v9(3, {"streamed", "other"}, 1000);
  const Bytes small = produce_v9(4, {"streamed"}, 10);
  const Bytes stream = concat({streamed, held, two, small});
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{100}, std::size_t{4096}, stream.size()}) {
    INFO("chunk " << chunk);
    RequestTracker tracker(1 << 20);
    InFlightQueue q;
    PrefixRouter router;
    Collect to_broker;
    feed_in_chunks(tracker, stream, chunk, q, router, to_broker);
    CHECK(to_broker.out == stream);  // byte for byte, in order
    // The small one streams when it arrives in parts, and is handed over whole when it is whole at once.
    const bool small_whole = std::count(router.whole.begin(), router.whole.end(), 4) == 1;
    CHECK(router.streamed == (small_whole ? std::vector<std::int32_t>{1} : std::vector<std::int32_t>{1, 4}));
    CHECK(router.whole == (small_whole ? std::vector<std::int32_t>{2, 3, 4} : std::vector<std::int32_t>{2, 3}));
    // asked about at most kInspectPrefixBytes past what the tracker reads itself: size, header (client id,
    // tags), and Produce's TransactionalId (null: 1 byte) and Acks
    CHECK(router.max_held <= 4 + 8 + 2 + 3 + 1 + 1 + 2 + RequestRouter::kInspectPrefixBytes);
    REQUIRE(q.size() == 4);
    for (int i = 0; i < 4; ++i) CHECK_FALSE(q.at(i).local);
  }
}

TEST_CASE("read_produce_prefix names the one topic and transactional id of a Produce's start", "[request][acl]") {
  const Bytes frame = produce_v9(1, {"orders"}, 100, std::string("tx-1"));
  std::optional<ProducePrefix> found;
  std::size_t first = 0;
  for (std::size_t n = 0; n <= frame.size(); ++n) {
    found = read_produce_prefix(std::span<const std::uint8_t>(frame).first(n));
    if (found && first == 0) first = n;
  }
  REQUIRE(found);
  CHECK(found->topic == "orders");
  CHECK(found->transactional_id == std::optional<std::string_view>("tx-1"));
  // Known as soon as the name is whole, not before.
  const Bytes head = produce_v9(1, {"orders"}, 0, std::string("tx-1"));
  CHECK(first == head.size() - (1 + 4 + 1 + 1 + 1 + 1));  // before partitions count, index, records, tags
  CHECK_FALSE(read_produce_prefix(produce_v9(1, {"a", "b"}, 10)));  // two topics: not from a prefix
  CHECK_FALSE(read_produce_prefix(produce_v9(1, {}, 10)));
  const auto no_tx = read_produce_prefix(produce_v9(1, {"orders"}, 10));
  REQUIRE(no_tx);
  CHECK_FALSE(no_tx->transactional_id);
  // Produce v3 (classic strings, header v1): read too.
  Builder v3 = header_v1(0, 3, 9);
  v3.i16(-1).i16(1).i32(1000).i32(1).str("legacy").i32(1).i32(0).i32(0);
  const Bytes legacy_frame = v3.frame();  // the prefix's views point into it
  const auto legacy = read_produce_prefix(legacy_frame);
  REQUIRE(legacy);
  CHECK(legacy->topic == "legacy");
  // Another API, or Produce v13 (topic ids): nothing.
  Builder metadata = header_v1(3, 4, 2);
  metadata.i32(-1).i8(1);
  CHECK_FALSE(read_produce_prefix(metadata.frame()));
}
