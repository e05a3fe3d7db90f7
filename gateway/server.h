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
#include <optional>
#include <unordered_map>
#include <vector>

#include "certs/tls_context.h"
#include "gateway/backend.h"
#include "gateway/config.h"
#include "gateway/stats.h"
#include "sni/hostname.h"

namespace kedge {

class Connection;
class Server;

struct Listener;

// One socket of a port-routed listener's broker pool: accepting on it means
// "broker node_id" before a byte is read (docs/routing.md).
struct BrokerPortSocket {
  Listener* listener = nullptr;
  std::int32_t node_id = 0;
  uv_tcp_t handle{};
};

struct Listener {
  Server* server = nullptr;
  std::size_t index = 0;
  ListenerConfig config;
  uv_tcp_t handle{};
  certs::SslCtxPtr default_ctx;  // the listener's certificate (null: plaintext listener)
  certs::SslCtxPtr reject_ctx;   // answers any ClientHello with unrecognized_name (SNI listeners)
  std::vector<std::unique_ptr<BrokerPortSocket>> broker_sockets;  // port routing: broker_port_base + id
};

struct ClusterRuntime {
  std::size_t index = 0;
  VirtualClusterConfig config;
  certs::SslCtxPtr ctx;  // per-cluster certificate, or null to use the listener's
  certs::SslCtxPtr upstream_ctx;  // backend.tls client context, or null for plaintext brokers
  BrokerRegistry registry;
  std::unique_ptr<Discovery> discovery;
  std::size_t next_bootstrap = 0;  // spreads bootstrap connections over the servers
};

// Buffers shared by every connection of the loop: data is processed
// synchronously inside each callback, so one set suffices and idle
// connections hold no read buffers.
struct LoopBuffers {
  static constexpr std::size_t kSize = 64 * 1024;
  std::unique_ptr<char[]> socket_read{new char[kSize]};
  std::unique_ptr<char[]> plaintext{new char[kSize]};
  std::unique_ptr<char[]> ciphertext{new char[kSize]};
  std::unique_ptr<char[]> upstream_plaintext{new char[kSize]};  // decrypted broker bytes (backend.tls)
};

class Server {
 public:
  // Builds TLS contexts and backend state; throws ConfigError / TlsSetupError.
  explicit Server(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every listener and runs until SIGINT/SIGTERM. Returns the exit code.
  int run();

  uv_loop_t* loop() { return &loop_; }
  const Config& config() const { return config_; }
  const sni::HostnameMapper& mapper() const { return mapper_; }
  ClusterRuntime& cluster(std::size_t index) { return *clusters_[index]; }
  GatewayStats& stats() { return stats_; }
  LoopBuffers& buffers() { return buffers_; }
  Connection* find_connection(std::uint64_t id);
  // Called by a Connection from its final close callback.
  void release_connection(std::uint64_t id);

 private:
  static void on_new_connection(uv_stream_t* listener, int status);
  static void on_new_broker_port_connection(uv_stream_t* stream, int status);
  void accept_on(Listener& listener, uv_stream_t* stream, std::optional<std::int32_t> port_node_id);
  int bind_listener(Listener& listener);
  void begin_shutdown(const char* why);

  Config config_;
  uv_loop_t loop_{};
  sni::HostnameMapper mapper_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<ClusterRuntime>> clusters_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::uint64_t next_connection_id_ = 1;
  GatewayStats stats_;
  LoopBuffers buffers_;
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  bool shutting_down_ = false;
};

}  // namespace kedge
