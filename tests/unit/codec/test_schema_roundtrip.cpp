// Schema-derived tests (style practice 2): for every (api_key, version) the
// schema describes, build responses with the engine's sample writer, walk them,
// and check byte-exact re-encoding and a rewrite there and back.
#include <catch2/catch.hpp>

#include "kafka_codec/engine.h"
#include "kafka_codec/sample.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/wire.h"
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

// FrameRewriter reuses its previous rewrite when the next frame's walked bytes
// repeat (the memo): whatever it reuses, the output and the address-map calls
// must be those of a new rewriter.
TEST_CASE("a rewriter that reuses its last rewrite answers as a new one", "[schema][memo]") {
  std::uint64_t reused = 0;
  for (const schema::MessageSchema& s : schema::response_schemas()) {
    for (std::int16_t v = s.valid.lo; v <= s.valid.hi; ++v) {
      FrameRewriter reusing;
      TemplateAddressMap reusing_map;
      std::uint64_t repeats_rewritten = 0;  // second frames of a seed that were rewritten
      std::vector<Bytes> frames;
      for (std::uint32_t seed = 1; seed <= 6; ++seed) {
        // Each seed twice, the second time with another correlation id, and
        // the last one once more after the map changed its advertised port.
        frames.push_back(build_sample_response(s, v, {seed, 0x11223344, true}));
        frames.push_back(build_sample_response(s, v, {seed, 0x55667788, true}));
      }
      for (std::size_t i = 0; i < frames.size() + 1; ++i) {
        const Bytes& frame = i < frames.size() ? frames[i] : frames.back();
        if (i == frames.size()) reusing_map.port = 19092;
        INFO(std::string(s.name) << " v" << v << " frame " << i);
        const RequestInfo request{s.api_key, v, wire::get_i32(frame.data() + 4)};
        FrameRewriter fresh;
        TemplateAddressMap fresh_map;
        fresh_map.port = reusing_map.port;
        reusing_map.seen.clear();
        const Errc expected = fresh.process(frame, request, fresh_map);
        REQUIRE(reusing.process(frame, request, reusing_map) == expected);
        if (expected != Errc::ok) continue;
        REQUIRE(reusing.changed() == fresh.changed());
        if (fresh.changed()) CHECK(to_hex(reusing.output()) == to_hex(fresh.output()));
        if (i % 2 == 1 && i < frames.size() && fresh.changed()) ++repeats_rewritten;
        REQUIRE(reusing_map.seen.size() == fresh_map.seen.size());
        for (std::size_t e = 0; e < fresh_map.seen.size(); ++e) {
          CHECK(reusing_map.seen[e].node_id == fresh_map.seen[e].node_id);
          CHECK(reusing_map.seen[e].real_host == fresh_map.seen[e].real_host);
          CHECK(reusing_map.seen[e].real_port == fresh_map.seen[e].real_port);
          CHECK(reusing_map.seen[e].advertised_host == fresh_map.seen[e].advertised_host);
          CHECK(reusing_map.seen[e].advertised_port == fresh_map.seen[e].advertised_port);
        }
      }
      reused += reusing.reused_rewrites();
      // Metadata's walk stops after Brokers: every repeated broker list is reused.
      if (s.api_key == 3) {
        INFO("Metadata v" << v);
        CHECK(repeats_rewritten > 0);
        CHECK(reusing.reused_rewrites() == repeats_rewritten);
      }
    }
  }
  CHECK(reused > 0);
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
