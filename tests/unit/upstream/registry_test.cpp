// The broker registry shared by every worker loop of a virtual cluster:
// learn/find through per-thread handles, what "learned" records, the
// no-write-when-unchanged path, reclamation of retired maps, and learn/find
// hammered from several threads at once (run under ASan and TSan too).
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "upstream/registry.h"

namespace {

using kedge::BrokerRegistry;
using kedge::HostPort;
using kedge::LearnedFrom;

constexpr LearnedFrom kMetadataV12{3, 12};

}  // namespace

TEST_CASE("a handle learns addresses and finds them, invalid ones are refused", "[registry]") {
  BrokerRegistry registry;
  BrokerRegistry::Handle handle(registry);

  CHECK(handle.known_ids() == "none");
  CHECK_FALSE(handle.find(1).has_value());

  CHECK(handle.learn(2, "10.0.0.2", 9092, kMetadataV12, 100));
  CHECK(handle.learn(1, "b-1.internal", 9093, LearnedFrom{}, 100));
  CHECK(handle.find(1) == HostPort{"b-1.internal", 9093});
  CHECK(handle.find(2) == HostPort{"10.0.0.2", 9092});
  CHECK(handle.known_ids() == "1, 2");

  SECTION("negative ids, ports outside 1..65535 and empty hosts teach nothing") {
    CHECK_FALSE(handle.learn(-1, "10.0.0.9", 9092, kMetadataV12, 100));
    CHECK_FALSE(handle.learn(9, "10.0.0.9", 0, kMetadataV12, 100));
    CHECK_FALSE(handle.learn(9, "10.0.0.9", 65536, kMetadataV12, 100));
    CHECK_FALSE(handle.learn(9, "", 9092, kMetadataV12, 100));
    CHECK(handle.known_ids() == "1, 2");
  }
}

TEST_CASE("re-learning an unchanged address writes nothing and keeps when and from what it was learned",
          "[registry]") {
  BrokerRegistry registry;
  BrokerRegistry::Handle handle(registry);
  REQUIRE(handle.learn(1, "10.0.0.1", 9092, LearnedFrom{}, 1000));
  const auto before = registry.brokers();
  const std::size_t maps_before = registry.maps_alive();

  // when: the same address passes through many responses, later and of another API
  for (std::uint64_t now = 1001; now < 2001; ++now) {
    CHECK_FALSE(handle.learn(1, "10.0.0.1", 9092, kMetadataV12, now));
  }

  // then: the published map is the very same object (no copy, no publish)
  const auto after = registry.brokers();
  CHECK(after.get() == before.get());
  CHECK(registry.maps_alive() == maps_before);
  const kedge::KnownBroker& known = after->at(1);
  CHECK(known.learned_at_ms == 1000);
  CHECK(known.learned_from.api_key == -1);  // discovery, which taught it first
  CHECK(kedge::describe(known.learned_from) == "discovery");
}

TEST_CASE("a moved broker is published once with when and from what it moved", "[registry]") {
  BrokerRegistry registry;
  BrokerRegistry::Handle first(registry);
  BrokerRegistry::Handle second(registry);
  REQUIRE(first.learn(3, "10.0.0.3", 9092, LearnedFrom{}, 10));
  const auto old_map = registry.brokers();

  CHECK(second.learn(3, "10.0.0.33", 9092, kMetadataV12, 20));
  CHECK_FALSE(first.learn(3, "10.0.0.33", 9092, kMetadataV12, 30));  // already published by `second`

  const auto now_map = registry.brokers();
  CHECK(now_map->at(3).address == HostPort{"10.0.0.33", 9092});
  CHECK(now_map->at(3).learned_at_ms == 20);
  CHECK(kedge::describe(now_map->at(3).learned_from) == "Metadata v12 response");
  // a copy taken before the move still reads the old map
  CHECK(old_map->at(3).address == HostPort{"10.0.0.3", 9092});
}

TEST_CASE("an address learned through one handle is found through every other at once", "[registry]") {
  BrokerRegistry registry;
  BrokerRegistry::Handle worker0(registry);
  BrokerRegistry::Handle worker1(registry);
  REQUIRE_FALSE(worker1.find(7).has_value());  // worker1 has read (and cached) the empty map

  REQUIRE(worker0.learn(7, "10.0.0.7", 9092, kMetadataV12, 5));

  CHECK(worker1.find(7) == HostPort{"10.0.0.7", 9092});
  CHECK(worker1.known_ids() == "7");
}

TEST_CASE("retired maps are freed once no handle reads them", "[registry]") {
  kedge::log::set_level(kedge::LogLevel::warn);  // every move is logged at info
  BrokerRegistry registry;
  BrokerRegistry::Handle writer(registry);
  std::vector<std::unique_ptr<BrokerRegistry::Handle>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<BrokerRegistry::Handle>(registry));

  // when: 100 changes while three handles keep reading the maps they cached
  for (int i = 0; i < 100; ++i) writer.learn(1, "10.0.0." + std::to_string(i % 7), 9092, kMetadataV12, i);

  // then: at most one map per handle plus the published one is alive
  CHECK(registry.maps_alive() <= 4 + 1);
  // and once every handle has moved to the published map, the next change frees everything older
  for (auto& handle : idle) handle->find(1);
  writer.find(1);
  writer.learn(1, "10.0.1.1", 9092, kMetadataV12, 200);
  CHECK(registry.maps_alive() == 2);  // the published map and the one the other handles still read
  idle.clear();
  writer.learn(1, "10.0.1.2", 9092, kMetadataV12, 201);
  CHECK(registry.maps_alive() == 2);  // the published map and the writer's previous one
}

TEST_CASE("learn and find hammered from several threads see only whole, valid addresses", "[registry][threads]") {
  // given: every broker id has four possible addresses, host and port tied to the same variant
  constexpr int kThreads = 4;
  constexpr int kIds = 6;
  constexpr int kIterations = 60'000;
  constexpr int kChangeEvery = 997;  // a move now and then; every other learn repeats a known address
  const auto host_of = [](int id, int variant) { return "b" + std::to_string(id) + "-v" + std::to_string(variant); };
  const auto port_of = [](int id, int variant) { return 9000 + id * 10 + variant; };

  kedge::log::set_level(kedge::LogLevel::warn);  // every move is logged at info
  BrokerRegistry registry;
  std::atomic<int> invalid{0};
  std::atomic<int> published{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      BrokerRegistry::Handle handle(registry);
      while (!go.load()) std::this_thread::yield();
      int variant = 0;
      for (int i = 0; i < kIterations; ++i) {
        const int id = (i + t) % kIds;
        if (i % kChangeEvery == 0) variant = (variant + 1 + t) % 4;
        if (handle.learn(id, host_of(id, variant), port_of(id, variant), LearnedFrom{3, 12}, i)) published++;
        const int other = (i * 7 + t) % kIds;
        if (auto found = handle.find(other)) {
          bool valid = false;
          for (int v = 0; v < 4; ++v) {
            valid = valid || (found->host == host_of(other, v) && found->port == port_of(other, v));
          }
          if (!valid) invalid++;
        }
        // this thread has learned at least one broker, so the registry can never look empty to it again
        if (i % 4096 == 0 && handle.known_ids() == "none") invalid++;
      }
    });
  }
  go.store(true);
  for (auto& thread : threads) thread.join();

  // then: nothing torn, changes were published, old maps were reclaimed (no handle is left)
  CHECK(invalid.load() == 0);
  CHECK(published.load() > 0);
  CHECK(registry.maps_alive() <= kThreads + 1);
  const auto final_map = registry.brokers();
  CHECK(final_map->size() == kIds);
  // and a fresh handle reads exactly the published map
  BrokerRegistry::Handle reader(registry);
  for (const auto& [id, broker] : *final_map) CHECK(reader.find(id) == broker.address);
}
