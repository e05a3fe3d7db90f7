#pragma once
// The gateway process: one libuv loop, its listeners, the connections they
// accepted, and per-virtual-cluster backend state.
//
// Ownership: Server owns Listeners, BrokerRegistries, Discovery clients and
// (through `connections_`) every Connection. A Connection is erased only from
// its last handle's close callback (style practice 14); asynchronous work that
// may outlive a connection (DNS, discovery) refers to it by id and looks it up.
#include <uv.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "certs/tls_context.h"
#include "gateway/admin.h"
#include "gateway/backend.h"
#include "gateway/config.h"
#include "gateway/metrics.h"
#include "gateway/stats.h"
#include "sni/hostname.h"

namespace kedge {

class Connection;
class Server;

struct Listener {
  Server* server = nullptr;
  std::size_t index = 0;
  ListenerConfig config;
  uv_tcp_t handle{};
  certs::SslCtxPtr default_ctx;  // the listener's certificate
  certs::SslCtxPtr reject_ctx;   // answers any ClientHello with unrecognized_name
  bool bound = false;
};

struct ClusterRuntime {
  std::size_t index = 0;
  VirtualClusterConfig config;
  certs::SslCtxPtr ctx;  // per-cluster certificate, or null to use the listener's
  BrokerRegistry registry;
  std::unique_ptr<Discovery> discovery;
  std::size_t next_bootstrap = 0;  // spreads bootstrap connections over the servers
  BackendHealth health;            // readiness evidence (bootstrap connects, discovery)
};

// Buffers shared by every connection of the loop: data is processed
// synchronously inside each callback, so one set suffices and idle
// connections hold no read buffers.
struct LoopBuffers {
  static constexpr std::size_t kSize = 64 * 1024;
  std::unique_ptr<char[]> socket_read{new char[kSize]};
  std::unique_ptr<char[]> plaintext{new char[kSize]};
  std::unique_ptr<char[]> ciphertext{new char[kSize]};
};

class Server final : public AdminView {
 public:
  // Builds TLS contexts and backend state; throws ConfigError / TlsSetupError.
  explicit Server(Config config);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener and runs until SIGINT/SIGTERM. Returns the exit code.
  int run();

  uv_loop_t* loop() { return &loop_; }
  const Config& config() const { return config_; }
  const sni::HostnameMapper& mapper() const { return mapper_; }
  ClusterRuntime& cluster(std::size_t index) { return *clusters_[index]; }
  LoopStats& stats() { return stats_; }
  // Readiness evidence: a bootstrap connection or discovery exchange with the
  // backend of cluster `index` succeeded / failed (`why`).
  void backend_answered(std::size_t index);
  void backend_failed(std::size_t index, const std::string& why);
  // Makes /readyz answer 503 (for the drain feature; nothing sets it yet).
  void set_draining(bool draining) { draining_ = draining; }
  // AdminView: one consistent copy of what the admin API shows.
  GatewaySnapshot snapshot() const override;
  LoopBuffers& buffers() { return buffers_; }
  Connection* find_connection(std::uint64_t id);
  // Called by a Connection from its final close callback.
  void release_connection(std::uint64_t id);

 private:
  static void on_new_connection(uv_stream_t* listener, int status);
  void accept_on(Listener& listener);
  void begin_shutdown(const char* why);
  void probe_backends();

  Config config_;
  uv_loop_t loop_{};
  sni::HostnameMapper mapper_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<ClusterRuntime>> clusters_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::uint64_t next_connection_id_ = 1;
  LoopStats stats_;
  LoopBuffers buffers_;
  std::unique_ptr<AdminServer> admin_;
  uv_timer_t probe_timer_{};
  bool draining_ = false;
  std::uint64_t started_unix_ms_ = 0;
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  bool shutting_down_ = false;
};

}  // namespace kedge
