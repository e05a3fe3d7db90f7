#include "gateway/server.h"

#include <chrono>
#include <csignal>

#include "gateway/connection.h"
#include "gateway/log.h"

namespace kedge {
namespace {

// Installed on each listener's reject context: any ClientHello fails with
// alert 112 unrecognized_name (RFC 6066 §3). kedge routes by SNI before TLS
// starts, so this context only ever sees hellos it has already refused.
int refuse_client_hello(SSL*, int* alert, void*) {
  *alert = SSL_AD_UNRECOGNIZED_NAME;
  return SSL_CLIENT_HELLO_ERROR;
}

int bind_address(const HostPort& bind, sockaddr_storage& out) {
  if (bind.host.find(':') != std::string::npos) {
    return uv_ip6_addr(bind.host.c_str(), bind.port, reinterpret_cast<sockaddr_in6*>(&out));
  }
  return uv_ip4_addr(bind.host.c_str(), bind.port, reinterpret_cast<sockaddr_in*>(&out));
}

std::uint64_t unix_now_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace

#ifndef KEDGE_VERSION
#define KEDGE_VERSION "0.0.0"
#endif

Server::Server(Config config)
    : config_(std::move(config)),
      stats_(config_.listeners.size(), config_.virtual_clusters.size()),
      started_unix_ms_(unix_now_ms()) {
  uv_loop_init(&loop_);
  for (std::size_t i = 0; i < config_.virtual_clusters.size(); ++i) {
    const VirtualClusterConfig& vc = config_.virtual_clusters[i];
    const std::string problem = mapper_.add_cluster({vc.name, vc.format, vc.domain});
    if (!problem.empty()) throw ConfigError(fmt::format("virtual_clusters[{}].hostnames: {}", i, problem));
    auto runtime = std::make_unique<ClusterRuntime>();
    runtime->index = i;
    runtime->config = vc;
    if (vc.tls) runtime->ctx = certs::make_server_context(vc.tls->cert, vc.tls->key);
    runtime->discovery =
        std::make_unique<Discovery>(&loop_, vc.name, vc.backend, runtime->registry, config_.limits.max_frame_bytes,
                                    config_.limits.upstream_connect_timeout_ms);
    clusters_.push_back(std::move(runtime));
  }
  for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
    auto listener = std::make_unique<Listener>();
    listener->server = this;
    listener->index = i;
    listener->config = config_.listeners[i];
    listener->default_ctx = certs::make_server_context(listener->config.tls.cert, listener->config.tls.key);
    listener->reject_ctx = certs::make_server_context(listener->config.tls.cert, listener->config.tls.key);
    SSL_CTX_set_client_hello_cb(listener->reject_ctx.get(), refuse_client_hello, nullptr);
    listeners_.push_back(std::move(listener));
  }
}

Server::~Server() {
  connections_.clear();
  for (auto& cluster : clusters_) cluster->discovery.reset();
  uv_loop_close(&loop_);
}

Connection* Server::find_connection(std::uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void Server::release_connection(std::uint64_t id) { connections_.erase(id); }

int Server::run() {
  std::signal(SIGPIPE, SIG_IGN);
  if (config_.admin.enabled) {
    admin_ = std::make_unique<AdminServer>(&loop_, config_.admin, *this);
    if (const int rc = admin_->start(); rc != 0) {
      log::error("admin: cannot listen on {}: {} (set admin.bind, or admin.enabled false)",
                 config_.admin.bind.to_string(), uv_strerror(rc));
      begin_shutdown("startup failed");
      uv_run(&loop_, UV_RUN_DEFAULT);
      return 1;
    }
    log::info("admin API on http://{} ({})", admin_->bound_address(),
              config_.admin.token.empty() ? "no token" : "bearer token required except /healthz, /readyz");
  }
  for (auto& listener : listeners_) {
    sockaddr_storage address{};
    int rc = bind_address(listener->config.bind, address);
    uv_tcp_init(&loop_, &listener->handle);
    listener->handle.data = listener.get();
    if (rc == 0) rc = uv_tcp_bind(&listener->handle, reinterpret_cast<const sockaddr*>(&address), 0);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener->handle), 1024, on_new_connection);
    if (rc != 0) {
      log::error("listener {}: cannot listen on {}: {}", listener->config.name, listener->config.bind.to_string(),
                 uv_strerror(rc));
      begin_shutdown("startup failed");
      uv_run(&loop_, UV_RUN_DEFAULT);
      return 1;
    }
    listener->bound = true;
    log::info("listener {} on {} (advertised port{})", listener->config.name, listener->config.bind.to_string(),
              listener->config.advertised_port,
              listener->config.proxy_protocol == ProxyProtocolMode::off
                  ? std::string()
                  : fmt::format(", PROXY protocol {}", to_string(listener->config.proxy_protocol)));
  }
  for (const auto& cluster : clusters_) {
    log::info("virtual cluster {}: clients bootstrap from {}:{}; backend {}", cluster->config.name,
              mapper_.bootstrap_host(cluster->index), listeners_.front()->config.advertised_port,
              [&] {
                std::string list;
                for (const auto& server : cluster->config.backend.bootstrap_servers) {
                  if (!list.empty()) list += ",";
                  list += server.to_string();
                }
                return list;
              }());
  }
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  sigint_.data = sigterm_.data = this;
  auto on_signal = [](uv_signal_t* handle, int signum) {
    static_cast<Server*>(handle->data)->begin_shutdown(signum == SIGINT ? "SIGINT" : "SIGTERM");
  };
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  // Readiness needs evidence that each backend answers: ask right away, then
  // whenever no evidence arrived for a probe interval.
  uv_timer_init(&loop_, &probe_timer_);
  probe_timer_.data = this;
  probe_backends();
  uv_timer_start(
      &probe_timer_, [](uv_timer_t* timer) { static_cast<Server*>(timer->data)->probe_backends(); },
      config_.admin.readiness_probe_interval_ms, config_.admin.readiness_probe_interval_ms);
  log::info("kedge ready");
  uv_run(&loop_, UV_RUN_DEFAULT);
  std::uint64_t served = 0;
  for (const ListenerStats& listener : stats_.listeners) served += listener.connections_accepted;
  log::info("kedge stopped: {} connections served", served);
  return 0;
}

void Server::on_new_connection(uv_stream_t* stream, int status) {
  auto* listener = static_cast<Listener*>(stream->data);
  if (status < 0) {
    log::warn("listener {}: accept error: {}", listener->config.name, uv_strerror(status));
    return;
  }
  listener->server->accept_on(*listener);
}

void Server::accept_on(Listener& listener) {
  if (shutting_down_) return;
  const std::uint64_t id = next_connection_id_++;
  auto connection = std::make_unique<Connection>(*this, listener, id);
  Connection* raw = connection.get();
  connections_.emplace(id, std::move(connection));
  stats_.listeners[listener.index].connections_accepted++;
  stats_.listeners[listener.index].connections_active++;
  raw->accept_from(reinterpret_cast<uv_stream_t*>(&listener.handle));
}

void Server::begin_shutdown(const char* why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  log::info("shutting down ({}): closing {} connections", why, connections_.size());
  auto close_if_open = [](uv_handle_t* handle) {
    // Handles never initialised (a listener after the one that failed to bind) have no loop.
    if (handle->loop != nullptr && !uv_is_closing(handle)) uv_close(handle, nullptr);
  };
  for (auto& listener : listeners_) close_if_open(reinterpret_cast<uv_handle_t*>(&listener->handle));
  close_if_open(reinterpret_cast<uv_handle_t*>(&sigint_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&sigterm_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&probe_timer_));
  if (admin_) admin_->stop();
  for (auto& cluster : clusters_) cluster->discovery->cancel();
  std::vector<std::uint64_t> ids;
  ids.reserve(connections_.size());
  for (const auto& [id, connection] : connections_) ids.push_back(id);
  for (std::uint64_t id : ids) {
    if (Connection* connection = find_connection(id)) connection->close(DisconnectCause::shutdown);
  }
}

void Server::backend_answered(std::size_t index) {
  clusters_[index]->health.last_success_unix_ms = unix_now_ms();
}

void Server::backend_failed(std::size_t index, const std::string& why) {
  BackendHealth& health = clusters_[index]->health;
  health.last_failure_unix_ms = unix_now_ms();
  health.last_error = why;
}

void Server::probe_backends() {
  if (shutting_down_) return;
  const std::uint64_t now = unix_now_ms();
  for (auto& cluster : clusters_) {
    // Recent client traffic is evidence enough; probe only a quiet backend.
    const BackendHealth& health = cluster->health;
    if (health.reachable() && now - health.last_success_unix_ms < config_.admin.readiness_probe_interval_ms) {
      continue;
    }
    stats_.clusters[cluster->index].discovery_requests++;
    cluster->discovery->refresh([this, index = cluster->index](bool ok, const std::string& detail) {
      if (ok) {
        backend_answered(index);
      } else {
        backend_failed(index, detail);
      }
    });
  }
}

GatewaySnapshot Server::snapshot() const {
  GatewaySnapshot s;
  s.version = KEDGE_VERSION;
  s.now_unix_ms = unix_now_ms();
  s.started_unix_ms = started_unix_ms_;
  s.draining = draining_;
  const std::uint64_t loop_now = uv_now(const_cast<uv_loop_t*>(&loop_));
  for (const auto& listener : listeners_) {
    s.listeners.push_back(ListenerSnapshot{listener->config.name, listener->config.bind.to_string(),
                                           listener->config.advertised_port,
                                           std::string(to_string(listener->config.proxy_protocol)), listener->bound});
  }
  for (const auto& cluster : clusters_) {
    ClusterSnapshot c;
    c.name = cluster->config.name;
    c.hostname_format = std::string(sni::to_string(cluster->config.format));
    c.domain = cluster->config.domain;
    c.bootstrap_host = mapper_.bootstrap_host(cluster->index);
    for (const auto& server : cluster->config.backend.bootstrap_servers) c.bootstrap_servers.push_back(server.to_string());
    for (const auto& [id, broker] : cluster->registry.brokers()) {
      // learned_at_ms is loop time; convert to wall time by its age.
      const std::uint64_t age = loop_now >= broker.learned_at_ms ? loop_now - broker.learned_at_ms : 0;
      c.brokers.push_back(BrokerSnapshot{id, broker.address.to_string(), describe(broker.learned_from),
                                         s.now_unix_ms - age});
    }
    c.health = cluster->health;
    s.clusters.push_back(std::move(c));
  }
  s.stats = stats_;
  return s;
}

}  // namespace kedge
