#pragma once
// The admin HTTP/1.1 API on its own listener (default 127.0.0.1:9644), parsed
// with llhttp on the gateway's loop.
//
//   GET /healthz   200 "ok" while the process runs its loop
//   GET /readyz    200 "ready" / 503 with the reason (see evaluate_readiness)
//   GET /metrics   Prometheus text exposition 0.0.4
//   GET /v1/state  JSON: listeners, virtual clusters, known brokers, counts
// Malformed HTTP 400, unknown path 404, other method 405 (with Allow),
// headers over 8 KiB 431, a body over 1 KiB 413. With admin.token_file every
// path except /healthz and /readyz needs `Authorization: Bearer <token>` (401).
//
// Never stalls the data path: every response is built synchronously from one
// snapshot and written with uv_write; no blocking call. Bounded: at most
// kMaxConnections admin connections (more are closed at accept), an idle
// timeout per connection, and a connection whose peer does not read its
// responses (more than kMaxQueuedBytes queued) is closed.
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "admin/model.h"

namespace kedge {

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow;  // for 405
};

// Routes one complete request. `authorization` is the Authorization header
// value ("" when absent); `token` is the configured token ("" = no token).
// Pure apart from view.snapshot(); unit-tested without sockets.
AdminResponse route_admin_request(std::string_view method, std::string_view target,
                                  std::string_view authorization, std::string_view token, AdminView& view);

class AdminServer {
 public:
  static constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
  static constexpr std::size_t kMaxBodyBytes = 1024;
  static constexpr std::size_t kMaxConnections = 32;
  static constexpr std::size_t kMaxQueuedBytes = 4 * 1024 * 1024;
  static constexpr std::uint64_t kIdleTimeoutMs = 30'000;

  AdminServer(uv_loop_t* loop, AdminConfig config, AdminView& view);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and listens; returns 0 or a libuv error code. The bound address
  // (with the real port when the config said 0) is available afterwards.
  int start();
  std::string bound_address() const { return bound_address_; }
  // Closes the listener and every admin connection (shutdown).
  void stop();

 private:
  struct Client;
  static void on_connection(uv_stream_t* stream, int status);
  void accept_one();
  void forget(Client* client);

  uv_loop_t* loop_;
  AdminConfig config_;
  AdminView& view_;
  uv_tcp_t listener_{};
  bool listening_ = false;
  bool stopped_ = false;
  std::string bound_address_;
  std::size_t clients_ = 0;
  Client* first_ = nullptr;  // intrusive list of open clients
};

}  // namespace kedge
