// Micro-benchmarks of kafka_codec's response path, driven the way the gateway drives it:
// ResponseProcessor::feed in 64 KiB slices (the gateway's loop-wide read buffer size), with a
// sink that only counts bytes. Frames are hand-encoded here (independent of the engine's own
// writer) from the Kafka message layouts:
//   - Metadata v12 with 1,000 brokers and 10,000 partitions (100 topics x 100, 3 replicas): rewritten.
//   - Fetch v16 with one 1 MiB / 16 KiB record blob, without NodeEndpoints: walked, left unchanged
//     (the cost of deciding "nothing to rewrite", since KIP-951's tag sits after the records).
//   - Fetch v16 with the same blob plus NodeEndpoints (3 brokers): rewritten.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kafka_codec/engine.h"
#include "kafka_codec/refusal.h"
#include "kafka_codec/stream.h"
#include "policy/acl.h"
#include "policy/policy.h"

namespace {

using Bytes = std::vector<std::uint8_t>;
using kedge::kafka::AddressMap;
using kedge::kafka::ByteSink;
using kedge::kafka::InFlightQueue;
using kedge::kafka::RequestInfo;
using kedge::kafka::ResponseProcessor;

struct W {
  Bytes b;
  void u(std::uint64_t v, int n) { for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i))); }
  void i8(int v) { u(static_cast<std::uint8_t>(v), 1); }
  void i16(int v) { u(static_cast<std::uint16_t>(v), 2); }
  void i32(std::int32_t v) { u(static_cast<std::uint32_t>(v), 4); }
  void i64(std::int64_t v) { u(static_cast<std::uint64_t>(v), 8); }
  void uv(std::uint64_t v) { while (v >= 0x80) { b.push_back(static_cast<std::uint8_t>(v | 0x80)); v >>= 7; } b.push_back(static_cast<std::uint8_t>(v)); }
  void cstr(const std::string& s) { uv(s.size() + 1); b.insert(b.end(), s.begin(), s.end()); }
  void uuid(int seed) { for (int i = 0; i < 16; ++i) b.push_back(static_cast<std::uint8_t>(seed * 31 + i)); }
  void tags() { uv(0); }
};

constexpr std::int32_t kCorrelation = 7;

Bytes frame_of(const W& body) {
  W f;
  f.i32(static_cast<std::int32_t>(body.b.size() + 5));
  f.i32(kCorrelation);
  f.tags();  // response header v1
  f.b.insert(f.b.end(), body.b.begin(), body.b.end());
  return f.b;
}

Bytes metadata_v12(int brokers, int topics, int partitions_per_topic, std::int32_t broker_port = 9092) {
  W w;
  w.i32(0);  // throttle
  w.uv(brokers + 1);
  for (int id = 1; id <= brokers; ++id) {
    w.i32(id);
    w.cstr("b-" + std::to_string(id) + ".kafka.internal.example.net");
    w.i32(broker_port);
    w.uv(0);  // rack: null
    w.tags();
  }
  w.cstr("cluster-bench");
  w.i32(1);
  w.uv(topics + 1);
  for (int t = 0; t < topics; ++t) {
    w.i16(0);
    w.cstr("topic-" + std::to_string(t));
    w.uuid(t);
    w.i8(0);
    w.uv(partitions_per_topic + 1);
    for (int p = 0; p < partitions_per_topic; ++p) {
      w.i16(0);
      w.i32(p);
      const int leader = 1 + (t * partitions_per_topic + p) % brokers;
      w.i32(leader);
      w.i32(0);
      for (int list = 0; list < 2; ++list) {  // replicas, isr
        w.uv(4);
        for (int r = 0; r < 3; ++r) w.i32(1 + (leader - 1 + r) % brokers);
      }
      w.uv(1);  // offline: empty
      w.tags();
    }
    w.i32(-2147483648);
    w.tags();
  }
  w.tags();
  return frame_of(w);
}

Bytes fetch_v16(std::size_t record_bytes, bool node_endpoints) {
  W w;
  w.i32(0);
  w.i16(0);
  w.i32(0);
  w.uv(2);
  w.uuid(1);
  w.uv(2);
  w.i32(0);
  w.i16(0);
  w.i64(1000);
  w.i64(1000);
  w.i64(0);
  w.uv(1);   // aborted: empty
  w.i32(-1);
  w.uv(record_bytes + 1);
  w.b.insert(w.b.end(), record_bytes, 0x6b);  // opaque to the walker (Records are never parsed)
  w.tags();  // partition
  w.tags();  // topic
  if (!node_endpoints) {
    w.tags();
  } else {
    W ne;
    ne.uv(4);
    for (int id = 1; id <= 3; ++id) {
      ne.i32(id);
      ne.cstr("b-" + std::to_string(id) + ".kafka.internal.example.net");
      ne.i32(9092);
      ne.uv(0);
      ne.tags();
    }
    w.uv(1);
    w.uv(0);  // tag 0: NodeEndpoints
    w.uv(ne.b.size());
    w.b.insert(w.b.end(), ne.b.begin(), ne.b.end());
  }
  return frame_of(w);
}

struct Advertise : AddressMap {
  std::string host;  // what the last advertised_for() returned a view of
  Advertised advertised_for(std::int32_t node_id) override {
    host = "broker-" + std::to_string(node_id) + ".kafka.example.com";
    return {host, 9092};
  }
  void on_endpoint_rewritten(std::int16_t, std::int16_t, std::int32_t, std::string_view, std::int32_t,
                             const Advertised&) override {}
};

struct CountingSink : ByteSink {
  std::size_t bytes = 0;
  void write(std::span<const std::uint8_t> b) override { bytes += b.size(); }
};

// Feeds `frames` in turn through one long-lived ResponseProcessor per benchmark, in 64 KiB slices.
// state.range(0) = requests in flight when a response arrives: 1 = ping-pong (the connection is
// idle after each response), 2 = a pipelining client (another response is already expected).
void run_processor(benchmark::State& state, std::span<const Bytes> frames, std::int16_t api_key,
                   std::int16_t version, bool expect_rewrite) {
  Advertise map;
  ResponseProcessor processor(256u << 20, map);
  InFlightQueue inflight;
  CountingSink sink;
  for (std::int64_t extra = 1; extra < state.range(0); ++extra) inflight.push(RequestInfo{api_key, version, kCorrelation});
  constexpr std::size_t kSlice = 64 * 1024;
  std::size_t next = 0, bytes = 0;
  for (auto _ : state) {
    const Bytes& frame = frames[next];
    next = (next + 1) % frames.size();
    bytes += frame.size();
    inflight.push(RequestInfo{api_key, version, kCorrelation});
    for (std::size_t off = 0; off < frame.size(); off += kSlice) {
      const std::size_t n = std::min(kSlice, frame.size() - off);
      if (processor.feed(std::span<const std::uint8_t>(frame.data() + off, n), inflight, sink) !=
          kedge::kafka::Errc::ok) {
        state.SkipWithError("feed failed");
        return;
      }
    }
  }
  const auto& stats = processor.stats();
  if (stats.responses != static_cast<std::uint64_t>(state.iterations()) ||
      (stats.rewritten != 0) != expect_rewrite) {
    state.SkipWithError("unexpected rewrite outcome");
    return;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["frame_bytes"] = static_cast<double>(frames[0].size());
}
void run_processor(benchmark::State& state, const Bytes& frame, std::int16_t api_key, std::int16_t version,
                   bool expect_rewrite) {
  run_processor(state, std::span<const Bytes>(&frame, 1), api_key, version, expect_rewrite);
}

void BM_Metadata_v12_1000_brokers_10000_partitions(benchmark::State& state) {
  static const Bytes frame = metadata_v12(1000, 100, 100);
  run_processor(state, frame, 3, 12, true);
}
BENCHMARK(BM_Metadata_v12_1000_brokers_10000_partitions)->Unit(benchmark::kMicrosecond)->ArgName("in_flight")->Arg(1)->Arg(2);

void BM_Metadata_v12_3_brokers_1_partition(benchmark::State& state) {
  static const Bytes frame = metadata_v12(3, 1, 1);
  run_processor(state, frame, 3, 12, true);
}
BENCHMARK(BM_Metadata_v12_3_brokers_1_partition)->Unit(benchmark::kMicrosecond)->ArgName("in_flight")->Arg(1)->Arg(2);

// The same, but every response's broker list differs from the previous one (ports alternate), so
// the rewriter cannot reuse its last rewrite (FrameRewriter's memo) and walks every frame; the case
// above, one broker list repeated, is what a broker sends until its cluster changes.
void BM_Metadata_v12_3_brokers_1_partition_changing(benchmark::State& state) {
  static const Bytes frames[] = {metadata_v12(3, 1, 1, 9092), metadata_v12(3, 1, 1, 9093)};
  run_processor(state, frames, 3, 12, true);
}
BENCHMARK(BM_Metadata_v12_3_brokers_1_partition_changing)->Unit(benchmark::kMicrosecond)->ArgName("in_flight")->Arg(1)->Arg(2);

void BM_Fetch_v16_1MiB_no_NodeEndpoints(benchmark::State& state) {
  static const Bytes frame = fetch_v16(1 << 20, false);
  run_processor(state, frame, 1, 16, false);
}
BENCHMARK(BM_Fetch_v16_1MiB_no_NodeEndpoints)->Unit(benchmark::kMicrosecond)->ArgName("in_flight")->Arg(1)->Arg(2);

void BM_Fetch_v16_1MiB_with_NodeEndpoints(benchmark::State& state) {
  static const Bytes frame = fetch_v16(1 << 20, true);
  run_processor(state, frame, 1, 16, true);
}
BENCHMARK(BM_Fetch_v16_1MiB_with_NodeEndpoints)->Unit(benchmark::kMicrosecond)->ArgName("in_flight")->Arg(1)->Arg(2);

void BM_Fetch_v16_16KiB_no_NodeEndpoints(benchmark::State& state) {
  static const Bytes frame = fetch_v16(16 << 10, false);
  run_processor(state, frame, 1, 16, false);
}
BENCHMARK(BM_Fetch_v16_16KiB_no_NodeEndpoints)->Unit(benchmark::kMicrosecond)->ArgName("in_flight")->Arg(1)->Arg(2);

void BM_Fetch_v16_16KiB_with_NodeEndpoints(benchmark::State& state) {
  static const Bytes frame = fetch_v16(16 << 10, true);
  run_processor(state, frame, 1, 16, true);
}
BENCHMARK(BM_Fetch_v16_16KiB_with_NodeEndpoints)->Unit(benchmark::kMicrosecond)->ArgName("in_flight")->Arg(1)->Arg(2);

// Fetch v11 (before KIP-951): streamed, never buffered: the floor for comparison.
void BM_Fetch_v11_1MiB_streamed_floor(benchmark::State& state) {
  // v11 is not buffered (no KIP-951 tag): its body is streamed unparsed, so any bytes do.
  static const Bytes frame = [] {
    W f;
    const std::size_t body = 1 << 20;
    f.i32(static_cast<std::int32_t>(body + 4));
    f.i32(kCorrelation);
    f.b.insert(f.b.end(), body, 0);
    return f.b;
  }();
  run_processor(state, frame, 1, 11, false);
}
BENCHMARK(BM_Fetch_v11_1MiB_streamed_floor)->Unit(benchmark::kMicrosecond)->ArgName("in_flight")->Arg(1)->Arg(2);

// --- A policy's ACLs on the request path (issue 18) --------------------------------------------
// Per request on a cluster with ACLs the gateway reads the request's resource names
// (read_request_resources) and asks the rules about each (AclSet::authorizes); these measure
// both on the requests of bench/policy_pair.py's workloads, against the 100 rules of
// bench.acl_policy (the matching rule last: every decision scans them all).

// Request header v2: api key, version, correlation id, client id (int16 STRING), tags.
W request_head(std::int16_t api, std::int16_t version) {
  W w;
  w.i16(api);
  w.i16(version);
  w.i32(kCorrelation);
  w.i16(5);
  for (const char c : std::string("bench")) w.b.push_back(static_cast<std::uint8_t>(c));
  w.tags();
  return w;
}

Bytes request_frame(const W& w) {
  W f;
  f.i32(static_cast<std::int32_t>(w.b.size()));
  f.b.insert(f.b.end(), w.b.begin(), w.b.end());
  return f.b;
}

// Produce v10 (flexible): 1 topic, 1 partition, a 16 KiB record blob (as kload sends it).
Bytes produce_v10_request() {
  W w = request_head(0, 10);
  w.uv(0);        // transactional id: null
  w.i16(1);       // acks
  w.i32(30000);   // timeout
  w.uv(2);
  w.cstr("bench-produce");
  w.uv(2);
  w.i32(0);
  const std::size_t records = 16 * 1024 + 61;
  w.uv(records + 1);
  w.b.insert(w.b.end(), records, 0x5a);
  w.tags();
  w.tags();
  w.tags();
  return request_frame(w);
}

// Fetch v12 (flexible, topics by name): 1 topic, 1 partition.
Bytes fetch_v12_request() {
  W w = request_head(1, 12);
  w.i32(-1);  // replica id
  w.i32(0);   // max wait
  w.i32(1);   // min bytes
  w.i32(1 << 20);
  w.i8(0);
  w.i32(0);
  w.i32(-1);
  w.uv(2);
  w.cstr("bench-fetch");
  w.uv(2);
  w.i32(0);
  w.i32(-1);
  w.i64(0);
  w.i32(-1);
  w.i64(-1);
  w.i32(1 << 20);
  w.tags();
  w.tags();
  w.uv(1);       // forgotten topics
  w.cstr("");    // rack
  w.tags();
  return request_frame(w);
}

kedge::policy::AclSet bench_acls(int rules) {
  using namespace kedge::policy;
  std::vector<AclRule> acls;
  for (int i = 0; i < rules - 2; ++i) {
    AclRule r;
    const std::string n = std::to_string(1000 + i).substr(1);
    switch (i % 4) {
      case 0:
        r.operations = bit(Operation::read) | bit(Operation::write);
        r.names = {NamePattern::parse("team-" + n + "-*")};
        r.principals = {NamePattern::parse("svc-" + n)};
        break;
      case 1:
        r.permission = Permission::deny;
        r.operations = bit(Operation::write);
        r.names = {NamePattern::parse("archive-" + n)};
        r.principals = {NamePattern{}};
        r.addresses = {*AddressRange::parse("10.0.0.0/8")};
        break;
      case 2:
        r.resource = Resource::group;
        r.operations = bit(Operation::read);
        r.names = {NamePattern::parse("team-" + n + "-*")};
        r.principals = {NamePattern{}};
        break;
      default:
        r.permission = Permission::deny;
        r.operations = kAllOperations;
        r.names = {NamePattern::parse("secret-" + n + "-*")};
        r.principals = {NamePattern{}};
    }
    acls.push_back(r);
  }
  AclRule deny_delete;
  deny_delete.permission = Permission::deny;
  deny_delete.operations = bit(Operation::delete_);
  deny_delete.names = {NamePattern::parse("bench-*")};
  deny_delete.principals = {NamePattern{}};
  acls.push_back(deny_delete);
  AclRule allow;
  allow.operations = bit(Operation::read) | bit(Operation::write);
  allow.names = {NamePattern::parse("bench-*")};
  allow.principals = {NamePattern{}};
  acls.push_back(allow);
  return AclSet(std::move(acls));
}

void run_decision(benchmark::State& state, const Bytes& request, kedge::policy::Operation operation) {
  const kedge::policy::AclSet acls = bench_acls(100);
  const kedge::policy::Subject subject{"", kedge::policy::parse_address("127.0.0.1")};
  for (auto _ : state) {
    const auto resources = kedge::kafka::read_request_resources(request);
    bool allowed = resources.has_value();
    for (const auto& r : *resources) {
      allowed = allowed && acls.authorizes(subject, kedge::policy::Resource::topic, r.name, operation);
    }
    if (!allowed) state.SkipWithError("refused");
    benchmark::DoNotOptimize(allowed);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Acl_decode_only_Produce_v10_16KiB(benchmark::State& state) {
  const Bytes request = produce_v10_request();
  for (auto _ : state) benchmark::DoNotOptimize(kedge::kafka::read_request_resources(request));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Acl_decode_only_Produce_v10_16KiB)->Unit(benchmark::kNanosecond);

void BM_Acl_decode_and_decide_Produce_v10_16KiB_100_rules(benchmark::State& state) {
  run_decision(state, produce_v10_request(), kedge::policy::Operation::write);
}
BENCHMARK(BM_Acl_decode_and_decide_Produce_v10_16KiB_100_rules)->Unit(benchmark::kNanosecond);

void BM_Acl_decode_and_decide_Fetch_v12_100_rules(benchmark::State& state) {
  run_decision(state, fetch_v12_request(), kedge::policy::Operation::read);
}
BENCHMARK(BM_Acl_decode_and_decide_Fetch_v12_100_rules)->Unit(benchmark::kNanosecond);

void BM_Acl_decide_only_100_rules(benchmark::State& state) {
  const kedge::policy::AclSet acls = bench_acls(100);
  const kedge::policy::Subject subject{"", kedge::policy::parse_address("127.0.0.1")};
  for (auto _ : state) {
    benchmark::DoNotOptimize(acls.authorizes(subject, kedge::policy::Resource::topic, "bench-produce",
                                             kedge::policy::Operation::write));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Acl_decide_only_100_rules)->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
