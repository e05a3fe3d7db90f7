#pragma once
// One worker: a libuv loop on its own thread, its listening sockets (bound with
// SO_REUSEPORT, so every worker accepts on the same ports and the kernel
// spreads connections), the connections it accepted and its per-virtual-cluster
// runtime (its handle on the cluster's shared broker registry, its discovery).
//
// Ownership: Worker owns its ListenerSockets, ClusterRuntimes and (through
// `connections_`) every Connection. A Connection is erased only from its last
// handle's close callback (style practice 14); asynchronous work that may
// outlive a connection (DNS, discovery) refers to it by id and looks it up.
//
// Threads: everything here runs on the worker's loop thread except post(),
// which the control thread (Supervisor) uses to hand over a new snapshot or
// to start the drain.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <optional>
#include <unordered_map>
#include <vector>

#include "upstream/discovery.h"
#include "upstream/leader_pool.h"
#include "upstream/registry.h"
#include "upstream/resolve.h"
#include "config/config.h"
#include "admin/model.h"
#include "config/snapshot.h"
#include "gateway/downstream_tls.h"
#include "gateway/in_flight.h"
#include "io/stream_socket.h"
#include "admin/counters.h"

namespace kedge {

class Connection;
class Worker;

struct ListenerSocket;

// One socket of a port-routed listener's broker pool: accepting on it means
// "broker node_id" before a byte is read (docs/routing.md).
struct BrokerPortSocket {
  ListenerSocket* listener = nullptr;
  std::int32_t node_id = 0;
  uv_tcp_t handle{};
};

// A bound, listening socket of this worker (plus, for port routing, its broker
// pool). Settings are swapped on reload (new certificate, advertised port)
// while the sockets stay open.
struct ListenerSocket {
  Worker* server = nullptr;
  std::string name;
  HostPort bind;
  uv_tcp_t handle{};
  std::shared_ptr<const ListenerSettings> settings;
  std::vector<std::unique_ptr<BrokerPortSocket>> broker_sockets;  // port routing: broker_port_base + id
  int open_handles = 0;  // freed when the last of its sockets has closed
};

// A virtual cluster as this worker uses it. Learned brokers and readiness
// evidence live in the cluster's BackendState, shared by every worker
// (config/snapshot.h), so what one worker learns routes connections on all of
// them; this worker keeps its Handle on the shared registry, its own discovery
// client and bootstrap rotation. Kept across reloads while the snapshot hands
// on the same BackendState (same name and backend).
struct ClusterRuntime {
  explicit ClusterRuntime(std::shared_ptr<BackendState> state)
      : backend_state(std::move(state)), registry(backend_state->registry), health(backend_state->health) {}
  std::shared_ptr<BackendState> backend_state;  // declared first: outlives `registry` and `health`
  std::shared_ptr<const ClusterSettings> settings;
  BrokerRegistry::Handle registry;  // this loop's access to backend_state->registry
  SharedBackendHealth& health;      // readiness evidence (bootstrap connects, discovery), shared
  std::unique_ptr<Discovery> discovery;  // writes through `registry`
  // The HTTP front's Kafka clients (docs/http.md): [0] anonymous (passthrough
  // pairs), [1] with backend.sasl (terminating pairs). Made on first use.
  std::array<std::unique_ptr<upstream::LeaderPool>, 2> leader_pools;
  // Passthrough pairs: one pool per distinct HTTP Basic credential (keyed by
  // its SHA-256), at most kMaxCredentialPools idle ones kept.
  struct CredentialPool {
    std::unique_ptr<upstream::LeaderPool> pool;
    std::uint64_t last_used_ms = 0;
  };
  static constexpr std::size_t kMaxCredentialPools = 64;
  std::map<std::string, CredentialPool> credential_pools;
  std::size_t next_bootstrap = 0;  // spreads bootstrap connections over the servers
  bool retired = false;            // removed or re-pointed by a reload
};

// Buffers shared by every connection of the loop: data is processed
// synchronously inside each callback, so one set suffices and idle
// connections hold no read buffers.
struct LoopBuffers {
  static constexpr std::size_t kSize = io::LoopScratch::kSize;
  io::LoopScratch scratch;   // socket reads, TLS toward brokers (io/stream_socket.h, upstream/link.h)
  std::unique_ptr<char[]> plaintext{new char[kSize]};  // decrypted client bytes (Connection::read_plaintext)
  RecordGather records;      // TLS records for one client connection at a time (gateway/downstream_tls.h)
  // Response bytes staged until they fill a TLS record (Connection::ClientSink).
  static constexpr std::size_t kRecordSize = 16 * 1024;  // TLS plaintext record limit (RFC 8446 §5.1)
  std::unique_ptr<char[]> response_plaintext{new char[kRecordSize]};
  // The broker host name Connection::advertised_for last built; the rewriter
  // copies it into the frame before asking for the next one. Built again only
  // when the name asked for changes: a Metadata response per request from a
  // pipelining client names the same brokers every time.
  std::string advertised_host;
  struct AdvertisedKey {
    std::uint64_t generation;  // Snapshot::generation whose HostnameMapper built it
    std::size_t cluster;
    std::int32_t node_id;
    bool operator==(const AdvertisedKey&) const = default;
  };
  std::optional<AdvertisedKey> advertised_key;
  InFlightPool in_flight;    // idle connections' codec state (gateway/in_flight.h)
};

class Worker {
 public:
  Worker(std::size_t worker_index, std::shared_ptr<const Snapshot> snapshot);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Binds every listener (call before run(), from any thread). Returns "" or
  // the first error ("listener public: cannot listen on 0.0.0.0:9092: ...").
  std::string bind_listeners();
  // Runs the loop on the calling thread until the drain finished.
  void run();
  // Thread-safe: runs `task` on this worker's loop thread. False (task
  // dropped) once the worker has finished its drain.
  bool post(std::function<void()> task);

  // Loop thread only.
  void apply(std::shared_ptr<const Snapshot> next);
  void begin_drain(std::uint32_t timeout_ms);
  void on_finished(std::function<void()> callback) { finished_callback_ = std::move(callback); }

  uv_loop_t* loop() { return &loop_; }
  std::size_t worker_index() const { return worker_index_; }
  const std::shared_ptr<const Snapshot>& snapshot() const { return snapshot_; }
  const Config& config() const { return snapshot_->config; }
  // The runtime of the current snapshot's cluster `index`.
  const std::shared_ptr<ClusterRuntime>& cluster(std::size_t index) { return clusters_[index]; }
  // Index of the named virtual cluster in the current snapshot.
  std::optional<std::size_t> cluster_index(std::string_view name) const;
  WorkerStats& stats() { return stats_; }
  // This worker's part of what the admin API shows: the listeners bound here
  // and the counters of this loop, aligned with the current snapshot's
  // listeners and clusters (`clusters` stays empty: brokers and health are
  // read once from the shared BackendState). Loop thread only.
  GatewaySnapshot collect() const;
  LoopBuffers& buffers() { return buffers_; }
  ResolveCache& resolve_cache() { return resolve_cache_; }
  bool draining() const { return draining_; }
  Connection* find_connection(std::uint64_t id);
  // Called by a Connection from its final close callback.
  void release_connection(std::uint64_t id);

 private:
  static void on_new_connection(uv_stream_t* listener, int status);
  static void on_new_broker_port_connection(uv_stream_t* stream, int status);
  void accept_on(ListenerSocket& listener, uv_stream_t* stream, std::optional<std::int32_t> port_node_id);
  std::string open_listener(const std::shared_ptr<const ListenerSettings>& settings);
  void close_listener(std::unique_ptr<ListenerSocket> listener);
  void adopt_clusters(const Snapshot& next);
  void drain_step();
  void maybe_finish();
  void probe_backends();

  const std::size_t worker_index_;
  std::shared_ptr<const Snapshot> snapshot_;
  uv_loop_t loop_{};
  std::map<std::string, std::unique_ptr<ListenerSocket>> listeners_;  // by listener name
  std::vector<std::shared_ptr<ClusterRuntime>> clusters_;             // by snapshot cluster index
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::uint64_t next_connection_id_ = 1;
  WorkerStats stats_;
  LoopBuffers buffers_;
  ResolveCache resolve_cache_;
  uv_timer_t probe_timer_{};  // readiness: asks quiet backends for Metadata

  uv_async_t wakeup_{};
  std::mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_;

  bool draining_ = false;
  bool finished_ = false;
  std::uint32_t drain_timeout_ms_ = 0;
  uv_timer_t drain_timer_{};
  std::vector<std::vector<std::uint64_t>> drain_groups_;  // connection ids, one group per broker
  std::function<void()> finished_callback_;
};

}  // namespace kedge
