#pragma once
// What kedge knows about one virtual cluster's backend brokers: their real
// addresses, learned from every address-bearing response that passes through
// (Metadata, FindCoordinator, DescribeCluster, NodeEndpoints) and from kedge's
// own discovery Metadata request (upstream/discovery.h).
//
// One BrokerRegistry per virtual cluster is shared by every worker loop
// (config/snapshot.h: BackendState), so an address that passed through any
// worker routes a broker connection on every worker at once.
//
// Concurrency contract:
//   - The registry publishes immutable maps (id -> KnownBroker). A published
//     map is never modified; a change copies the latest map, edits the copy
//     and publishes it.
//   - Each thread that uses the registry does so through its own Handle (one
//     per worker loop and virtual cluster). A Handle caches the map it last
//     read. Handle::learn, find and known_ids first compare the published
//     map's address with the cached one: one acquire load, no lock, no atomic
//     read-modify-write. learn() of an address the map already holds (every
//     rewritten response after the first) stops there.
//   - Only a real change (a new broker, a moved one) takes the writers' mutex,
//     copies the map (a few entries), publishes the copy and retires the old.
//     Readers never take the mutex and never wait for a writer: a Handle that
//     sees a new map switches to it with a hazard-pointer protocol (store the
//     pointer it is about to use, check it is still published) and retries
//     only if a writer published again in between.
//   - A retired map is freed by a later writer once no Handle's hazard names
//     it, so at most (handles + 1) maps are alive; brokers() copies hold their
//     map independently (shared ownership).
//   - A Handle is used by one thread at a time (its worker's loop thread) and
//     must not outlive its registry. Registering and dropping a Handle take the
//     writers' mutex (worker start, reload).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace kedge {

// Where an address was learned: the response (api key, version) it passed
// through, or api_key -1 for kedge's own discovery request. Plain integers so
// that learning costs no formatting on the response path.
struct LearnedFrom {
  std::int16_t api_key = -1;
  std::int16_t api_version = -1;
};
std::string describe(LearnedFrom source);  // "Metadata v12 response", "discovery"

// A broker's address and when and from what kedge learned it: the first time
// the address was seen, or the last time it changed. Re-learning the same
// address changes nothing (no write per response).
struct KnownBroker {
  HostPort address;
  LearnedFrom learned_from;
  std::uint64_t learned_at_ms = 0;  // uv_now of the learning loop: CLOCK_MONOTONIC ms, comparable across loops
};

class BrokerRegistry {
 public:
  using Brokers = std::map<std::int32_t, KnownBroker>;

  // One thread's access to the registry (see the contract above).
  class Handle {
   public:
    explicit Handle(BrokerRegistry& registry);
    ~Handle();
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    // Records the real address of `node_id`. Returns true if this call
    // published a change (a new broker or a new address); false for an
    // unchanged address, an invalid one (negative id, port outside 1..65535,
    // empty host) or one another thread published first.
    bool learn(std::int32_t node_id, std::string_view host, std::int32_t port, LearnedFrom source,
               std::uint64_t now_ms);
    std::optional<HostPort> find(std::int32_t node_id);
    std::string known_ids();  // "1, 2, 3" for log lines, "none" when empty

   private:
    friend class BrokerRegistry;
    // The published map, switching the cache (and the hazard) when it changed.
    const Brokers& current();

    BrokerRegistry& registry_;
    const Brokers* cached_ = nullptr;             // == hazard_; read only by this handle's thread
    std::atomic<const Brokers*> hazard_{nullptr};  // read by writers that free retired maps
  };

  BrokerRegistry();
  ~BrokerRegistry();
  BrokerRegistry(const BrokerRegistry&) = delete;
  BrokerRegistry& operator=(const BrokerRegistry&) = delete;

  // Any thread (the admin API): the published map, kept alive by the pointer.
  // Takes the writers' mutex for one pointer copy.
  std::shared_ptr<const Brokers> brokers() const;
  // Maps alive now (published + retired ones a Handle may still read); at most handles + 1.
  std::size_t maps_alive() const;

 private:
  // With writers_ held: publishes `next`, retires the previous map and frees
  // the retired maps no handle reads any more.
  void publish_locked(std::shared_ptr<const Brokers> next);
  // Slow path of Handle::learn: re-checks under the mutex and publishes a changed copy.
  bool change(std::int32_t node_id, std::string_view host, std::uint16_t port, LearnedFrom source,
              std::uint64_t now_ms);

  mutable std::mutex writers_;
  std::atomic<const Brokers*> published_{nullptr};  // == published_owner_.get(); the readers' version
  std::shared_ptr<const Brokers> published_owner_;  // writers_
  std::vector<std::shared_ptr<const Brokers>> retired_;  // writers_
  std::vector<const Handle*> handles_;                   // writers_
};

}  // namespace kedge
