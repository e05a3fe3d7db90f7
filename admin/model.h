#pragma once
// What the admin API shows, as plain data, and the pure functions that render
// it: Prometheus text exposition 0.0.4, the /v1/state JSON and the readiness
// verdict. No libuv here, so unit tests check the output byte for byte.
//
// The admin listener reads gateway state only through AdminView::snapshot():
// one copy per admin request. The snapshot sums the worker loops' LoopStats
// (LoopStats::merge); brokers and backend health come once from each virtual
// cluster's shared state, not from the workers.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "admin/counters.h"

namespace kedge {

struct ListenerSnapshot {
  std::string name;
  std::string bind;              // "0.0.0.0:9092"
  std::uint16_t advertised_port = 0;
  std::string proxy_protocol;    // "off" / "optional" / "required"
  bool bound = false;
};

struct BrokerSnapshot {
  std::int32_t node_id = -1;
  std::string address;           // the real host:port
  std::string learned_from;      // "Metadata v12 response" / "discovery"
  std::uint64_t learned_unix_ms = 0;
};

// Wall-clock time in Unix milliseconds: the clock of every time the admin API shows.
std::uint64_t unix_now_ms();

// Evidence that a virtual cluster's backend answers: a bootstrap connection or
// a discovery Metadata exchange. Times are wall clock (Unix ms), 0 = never.
struct BackendHealth {
  std::uint64_t last_success_unix_ms = 0;
  std::uint64_t last_failure_unix_ms = 0;
  std::string last_error;
  bool reachable() const { return last_success_unix_ms != 0 && last_success_unix_ms >= last_failure_unix_ms; }
};

// The readiness evidence of one virtual cluster, recorded by every worker loop
// (config/snapshot.h: BackendState) and read by the admin API and the
// readiness probe. answered() runs for every bootstrap connection: one load
// and, at most once per millisecond, one store; no lock, no read-modify-write.
// failed() (rare) and read() hold a mutex only to copy the failure's time and
// message, so the two always belong together. The latest call wins; two
// loops racing within a millisecond may store their times out of order,
// which the next evidence corrects.
class SharedBackendHealth {
 public:
  void answered();
  void failed(std::string why);
  BackendHealth read() const;

 private:
  std::atomic<std::uint64_t> last_success_unix_ms_{0};
  mutable std::mutex failure_mutex_;
  std::uint64_t last_failure_unix_ms_ = 0;  // failure_mutex_
  std::string last_error_;                  // failure_mutex_
};

struct ClusterSnapshot {
  std::string name;
  std::string hostname_format;   // "subdomain" / "shared_suffix"
  std::string domain;
  std::string bootstrap_host;    // what clients put in bootstrap.servers (host part)
  std::vector<std::string> bootstrap_servers;
  std::vector<BrokerSnapshot> brokers;
  BackendHealth health;
};

struct GatewaySnapshot {
  std::string version;
  std::uint64_t now_unix_ms = 0;
  std::uint64_t started_unix_ms = 0;
  bool draining = false;         // set by the drain feature: makes /readyz answer 503
  std::uint32_t principal_metric_limit = 0;  // admin.principal_metric_limit
  std::vector<ListenerSnapshot> listeners;
  std::vector<ClusterSnapshot> clusters;
  LoopStats stats;               // summed over every loop
};

// What the admin API can see and do; implemented by the Supervisor, called
// on its control-loop thread.
class AdminView {
 public:
  virtual ~AdminView() = default;
  virtual GatewaySnapshot snapshot() const = 0;
  struct ReloadResult {
    bool ok = false;
    std::uint64_t generation = 0;  // the configuration generation running afterwards
    std::string error;             // why the new configuration was rejected
  };
  // Re-reads and applies the configuration file (POST /v1/reload).
  virtual ReloadResult reload_config() = 0;
};

struct Readiness {
  bool ready = false;
  std::string reason;  // "ready", or why not
};
// Ready when not draining, every listener is bound and every virtual cluster's
// backend answered more recently than it failed.
Readiness evaluate_readiness(const GatewaySnapshot& snapshot);

// Prometheus text format 0.0.4 (Content-Type text/plain; version=0.0.4).
std::string render_metrics(const GatewaySnapshot& snapshot);
// The /v1/state document (pretty-printed JSON).
std::string render_state(const GatewaySnapshot& snapshot);

}  // namespace kedge
