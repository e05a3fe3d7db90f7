// InFlightTable: what a connection owes its client. A request kedge answers
// from inside the routing feed (a SASL handshake, a policy refusal) must be
// owed like any other, or the table thinks the connection idle while a
// broker response is half forwarded and hands its state back to the pool
// mid-frame (found by the quota integration test: a PLAIN client lost its
// connection on the first Fetch response larger than one read).
#include <catch2/catch.hpp>

#include <vector>

#include "gateway/in_flight.h"
#include "kafka_codec/wire.h"

using namespace kedge;

namespace {

using Bytes = std::vector<std::uint8_t>;

struct Sink : kafka::ByteSink {
  Bytes bytes;
  void write(std::span<const std::uint8_t> b) override { bytes.insert(bytes.end(), b.begin(), b.end()); }
};

struct NoAddresses : kafka::AddressMap {
  Advertised advertised_for(std::int32_t) override { return {"kedge", 9092}; }
  void on_endpoint_rewritten(std::int16_t, std::int16_t, std::int32_t, std::string_view, std::int32_t,
                             const Advertised&) override {}
};

// Request header v1 frame: api key, version, correlation id, client id "t", then `body`.
Bytes request(std::int16_t key, std::int16_t version, std::int32_t correlation_id, const Bytes& body = {}) {
  Bytes payload;
  kafka::wire::put_i16(payload, key);
  kafka::wire::put_i16(payload, version);
  kafka::wire::put_i32(payload, correlation_id);
  kafka::wire::put_i16(payload, 1);
  payload.push_back('t');
  payload.insert(payload.end(), body.begin(), body.end());
  Bytes frame;
  kafka::wire::put_i32(frame, static_cast<std::int32_t>(payload.size()));
  frame.insert(frame.end(), payload.begin(), payload.end());
  return frame;
}

// Captures SaslHandshake and answers it at once, from inside the feed, as
// SASL termination and policy refusals do (then asks the table to release
// its state if idle, as Connection::send_sasl_reply does); forwards the rest.
struct AnsweringRouter : kafka::RequestRouter {
  InFlightTable* table = nullptr;
  ClusterStats* stats = nullptr;
  Sink to_client;
  Route route(kafka::RequestInfo& request) override {
    return request.api_key == 17 ? Route::capture : Route::forward;
  }
  NextFrame on_captured(const kafka::RequestInfo& request, std::span<const std::uint8_t>) override {
    Bytes answer;
    kafka::wire::put_i32(answer, 10);
    kafka::wire::put_i32(answer, request.correlation_id);
    kafka::wire::put_i16(answer, 0);
    kafka::wire::put_i32(answer, 0);  // mechanisms []
    REQUIRE(table->answer(request.correlation_id, std::move(answer), to_client, *stats) == kafka::Errc::ok);
    table->release_if_idle();  // as Connection::send_sasl_reply does: must not release mid-feed
    return NextFrame::request;
  }
};

}  // namespace

TEST_CASE("a request answered inside the feed is owed like any other: a later response split in two stays whole",
          "[in_flight]") {
  InFlightPool pool;
  NoAddresses addresses;
  InFlightTable table(pool, addresses, {1 << 20, 64 * 1024});
  ClusterStats stats;
  AnsweringRouter router;
  router.table = &table;
  router.stats = &stats;
  Sink to_broker;

  // SaslHandshake v1 (answered by "kedge" during the feed) and ListOffsets v1 (forwarded), in one read.
  Bytes client = request(17, 1, 1, {0, 5, 'P', 'L', 'A', 'I', 'N'});
  const Bytes list_offsets = request(2, 1, 2, {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0});
  client.insert(client.end(), list_offsets.begin(), list_offsets.end());
  REQUIRE(table.on_client_bytes(client, stats, router, to_broker) == kafka::Errc::ok);
  CHECK(router.to_client.bytes.size() == 14);  // the handshake answer went out
  CHECK(to_broker.bytes == list_offsets);
  CHECK(table.requests_in_flight() == 1);
  CHECK(pool.spare() == 0);

  // The broker's ListOffsets response (streamed through), in two reads.
  Bytes response;
  kafka::wire::put_i32(response, 4 + 4 + 1000);
  kafka::wire::put_i32(response, 2);
  kafka::wire::put_i32(response, 0);  // Topics []
  response.resize(4 + 4 + 4 + 1000, 0x5a);  // the rest of the frame: bytes a streaming pass does not read
  Sink to_client;
  const std::span<const std::uint8_t> all(response);
  REQUIRE(table.on_broker_bytes(all.first(100), to_client, stats).errc == kafka::Errc::ok);
  table.release_if_idle();  // mid-frame: must keep the state
  CHECK(pool.spare() == 0);
  REQUIRE(table.on_broker_bytes(all.subspan(100), to_client, stats).errc == kafka::Errc::ok);
  CHECK(to_client.bytes == response);
  table.release_if_idle();  // now idle: the state goes back to the pool
  CHECK(pool.spare() == 1);

  const auto slot = [](std::int16_t key) { return static_cast<std::size_t>(key); };
  CHECK(stats.apis[slot(17)].requests == 1);
  CHECK(stats.apis[slot(17)].responses == 1);
  CHECK(stats.apis[slot(2)].requests == 1);
  CHECK(stats.apis[slot(2)].responses == 1);
}
