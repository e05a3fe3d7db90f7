#pragma once
// What kedge knows about one virtual cluster's backend brokers: their real
// addresses, learned from every address-bearing response that passes through
// (Metadata, FindCoordinator, DescribeCluster, NodeEndpoints) and from kedge's
// own discovery Metadata request (upstream/discovery.h).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

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

struct KnownBroker {
  HostPort address;
  LearnedFrom learned_from;
  std::uint64_t learned_at_ms = 0;  // uv_now of the loop
};

class BrokerRegistry {
 public:
  // Records (or refreshes) the real address of `node_id`. Returns true if it changed.
  bool learn(std::int32_t node_id, std::string_view host, std::int32_t port, LearnedFrom source,
             std::uint64_t now_ms);
  std::optional<HostPort> find(std::int32_t node_id) const;
  std::string known_ids() const;  // "1, 2, 3" for log lines
  const std::map<std::int32_t, KnownBroker>& brokers() const { return brokers_; }

 private:
  std::map<std::int32_t, KnownBroker> brokers_;
};

}  // namespace kedge
