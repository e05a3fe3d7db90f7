// Schema-derived tests (style practice 2): for every (api_key, version) the
// schema describes, build responses with the engine's sample writer, walk them,
// and check byte-exact re-encoding and a rewrite there and back.
#include <catch2/catch.hpp>

#include "kafka_codec/engine.h"
#include "kafka_codec/sample.h"
#include "kafka_codec/schema.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;

namespace {

IdentityAddressMap identity_from(const std::vector<BrokerEndpoint>& endpoints) {
  IdentityAddressMap map;
  for (const auto& e : endpoints)
    if (e.node_id >= 0) map.known.push_back({e.node_id, e.host, e.port});
  return map;
}

std::size_t rewritable(const std::vector<BrokerEndpoint>& endpoints) {
  std::size_t n = 0;
  for (const auto& e : endpoints) n += e.node_id >= 0 ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("every schema version round-trips byte-exact", "[schema]") {
  std::size_t pairs = 0, endpoints_seen = 0;
  for (const schema::MessageSchema& s : schema::response_schemas()) {
    for (std::int16_t v = s.valid.lo; v <= s.valid.hi; ++v) {
      ++pairs;
      for (std::uint32_t seed = 1; seed <= 25; ++seed) {
        INFO(std::string(s.name) << " v" << v << " seed " << seed);
        std::vector<BrokerEndpoint> written;
        const Bytes frame = build_sample_response(s, v, {seed, 0x11223344, true}, &written);
        const RequestInfo request{s.api_key, v, 0x11223344};

        // walk + re-encode with the identity map: no change, nothing re-encoded
        IdentityAddressMap identity = identity_from(written);
        FrameRewriter rewriter;
        REQUIRE(rewriter.process(frame, request, identity) == Errc::ok);
        CHECK_FALSE(rewriter.changed());
        CHECK(identity.calls == rewritable(written));
        REQUIRE(rewriter.walk().endpoints.size() == written.size());
        for (std::size_t i = 0; i < written.size(); ++i) {
          CHECK(rewriter.walk().endpoints[i].node_id == written[i].node_id);
          CHECK(rewriter.walk().endpoints[i].host == written[i].host);
          CHECK(rewriter.walk().endpoints[i].port == written[i].port);
        }
        endpoints_seen += written.size();

        // the same through the streaming processor
        VectorSink sink;
        InFlightQueue inflight;
        inflight.push(request);
        ResponseProcessor processor(1 << 20, identity);
        REQUIRE(processor.feed(frame, inflight, sink) == Errc::ok);
        CHECK(sink.bytes == frame);

        // rewrite to advertised names, then back to the real ones: byte-exact
        TemplateAddressMap advertised;
        advertised.host_template = "b{id}-a-much-longer-advertised-name-to-move-lengths-across-varint-"
                                   "boundaries-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.example.com";
        REQUIRE(rewriter.process(frame, request, advertised) == Errc::ok);
        CHECK(advertised.seen.size() == rewritable(written));
        CHECK(rewriter.changed() == (rewritable(written) > 0));
        const Bytes there(rewriter.output().begin(), rewriter.output().end());
        if (!rewriter.changed()) continue;
        IdentityAddressMap back = identity_from(written);
        FrameRewriter second;
        REQUIRE(second.process(there, request, back) == Errc::ok);
        for (const auto& e : second.walk().endpoints)
          if (e.node_id >= 0) CHECK(e.host == advertised.advertised_for(e.node_id).host);
        REQUIRE(second.changed());
        CHECK(to_hex(second.output()) == to_hex(frame));
      }
    }
  }
  // Produce 3-13, Fetch 4-18, Metadata 0-13, FindCoordinator 0-6, ApiVersions 0-4,
  // DescribeQuorum 0-2, DescribeCluster 0-2, ShareFetch 1-2, ShareAcknowledge 1-2
  CHECK(pairs == 11 + 15 + 14 + 7 + 5 + 3 + 3 + 2 + 2);
  CHECK(endpoints_seen > 0);
}

TEST_CASE("the clamp never admits a version the schema cannot walk", "[schema][clamp]") {
  for (const schema::MessageSchema& s : schema::response_schemas()) {
    INFO(s.name);
    const std::int16_t clamp = max_supported_version(s.api_key);
    CHECK(clamp >= s.valid.lo);
    CHECK(clamp <= s.valid.hi);
  }
}

TEST_CASE("request header flexibility table", "[schema]") {
  CHECK(schema::request_flexible_from(17) == -1);  // SaslHandshake: never flexible
  CHECK(schema::request_flexible_from(47) == -1);  // OffsetDelete
  CHECK(schema::request_flexible_from(18) == 3);   // ApiVersions v3+ uses header v2
  CHECK(schema::request_flexible_from(0) == 9);
  CHECK(schema::request_flexible_from(1) == 12);
  CHECK(schema::request_flexible_from(53) == 1);
  CHECK(schema::request_flexible_from(94) == 0);
  CHECK(schema::request_flexible_from(95) == -1);
  CHECK(schema::request_flexible_from(-1) == -1);
}
