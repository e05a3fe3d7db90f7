#include "gateway/server.h"

#include <sys/resource.h>

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

}  // namespace

Server::Server(Config config) : config_(std::move(config)) {
  uv_loop_init(&loop_);
  for (std::size_t i = 0; i < config_.virtual_clusters.size(); ++i) {
    const VirtualClusterConfig& vc = config_.virtual_clusters[i];
    const std::string problem = mapper_.add_cluster({vc.name, vc.format, vc.domain});
    if (!problem.empty()) throw ConfigError(fmt::format("virtual_clusters[{}].hostnames: {}", i, problem));
    auto runtime = std::make_unique<ClusterRuntime>();
    runtime->index = i;
    runtime->config = vc;
    if (vc.tls) runtime->ctx = certs::make_server_context(vc.tls->cert, vc.tls->key);
    if (const auto& upstream = vc.backend.tls) {
      runtime->upstream_ctx = certs::make_client_context(certs::ClientTlsFiles{
          upstream->ca_file, upstream->client_cert ? std::optional(upstream->client_cert->cert) : std::nullopt,
          upstream->client_cert ? std::optional(upstream->client_cert->key) : std::nullopt, upstream->verify});
      if (!upstream->verify) {
        log::warn("virtual cluster {}: backend.tls.verify is false: broker certificates and host names are NOT "
                  "checked (anyone on the path to the brokers can impersonate them)",
                  vc.name);
      }
    }
    runtime->discovery =
        std::make_unique<Discovery>(&loop_, vc.name, vc.backend, runtime->registry, config_.limits.max_frame_bytes,
                                    config_.limits.upstream_connect_timeout_ms, runtime->upstream_ctx.get());
    clusters_.push_back(std::move(runtime));
  }
  for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
    auto listener = std::make_unique<Listener>();
    listener->server = this;
    listener->index = i;
    listener->config = config_.listeners[i];
    if (const auto& tls = listener->config.tls) {
      listener->default_ctx = certs::make_server_context(tls->cert, tls->key);
      listener->reject_ctx = certs::make_server_context(tls->cert, tls->key);
      SSL_CTX_set_client_hello_cb(listener->reject_ctx.get(), refuse_client_hello, nullptr);
    }
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

namespace {

// Binds one listening socket. IPv6 addresses are bound IPV6_V6ONLY
// (UV_TCP_IPV6ONLY), so "[::]:9092" and "0.0.0.0:9092" are two separate
// listeners and an IPv6 listener never silently accepts IPv4-mapped clients.
int listen_on(uv_loop_t* loop, uv_tcp_t* handle, void* data, const HostPort& bind, uv_connection_cb on_connection) {
  sockaddr_storage address{};
  int rc = bind_address(bind, address);
  uv_tcp_init(loop, handle);
  handle->data = data;
  const unsigned flags = bind.host.find(':') != std::string::npos ? UV_TCP_IPV6ONLY : 0;
  if (rc == 0) rc = uv_tcp_bind(handle, reinterpret_cast<const sockaddr*>(&address), flags);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(handle), 1024, on_connection);
  return rc;
}

// A port-routed listener binds 1 + max_node_id + 1 sockets; make sure the
// descriptor limit leaves room for them and for connections (soft -> hard).
void raise_descriptor_limit(std::size_t listening_sockets) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur >= limit.rlim_max || limit.rlim_cur >= listening_sockets + 4096) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    log::info("raised the open-file limit from {} to {} for {} listening sockets", before, limit.rlim_cur,
              listening_sockets);
  }
}

}  // namespace

int Server::bind_listener(Listener& listener) {
  const ListenerConfig& config = listener.config;
  int rc = listen_on(&loop_, &listener.handle, &listener, config.bind, on_new_connection);
  if (rc != 0) {
    log::error("listener {}: cannot listen on {}: {}", config.name, config.bind.to_string(), uv_strerror(rc));
    return rc;
  }
  if (!config.port_routing) {
    log::info("listener {} on {} (advertised port {}, {}, SNI routing)", config.name, config.bind.to_string(),
              config.advertised_port, config.tls ? "TLS" : "plaintext");
    return 0;
  }
  // The whole pool is bound eagerly: a client reconnecting straight to a
  // broker port after a kedge restart must be accepted before discovery ran.
  const PortRouting& routing = *config.port_routing;
  for (std::int32_t node_id = 0; node_id <= routing.max_node_id; ++node_id) {
    auto socket = std::make_unique<BrokerPortSocket>();
    socket->listener = &listener;
    socket->node_id = node_id;
    HostPort bind = config.bind;
    bind.port = *broker_port(routing, node_id);
    BrokerPortSocket* raw = socket.get();
    listener.broker_sockets.push_back(std::move(socket));
    rc = listen_on(&loop_, &raw->handle, raw, bind, on_new_broker_port_connection);
    if (rc != 0) {
      log::error("listener {}: cannot listen on {} (port of broker {}): {}", config.name, bind.to_string(), node_id,
                 uv_strerror(rc));
      return rc;
    }
  }
  log::info("listener {} on {} ({}, port routing for virtual cluster {}): bootstrap port {}, broker N on port "
            "{} + N for N in 0..{}, advertised as {}:<port>",
            config.name, config.bind.to_string(), config.tls ? "TLS" : "plaintext", routing.virtual_cluster,
            config.bind.port, routing.broker_port_base, routing.max_node_id, routing.advertised_host);
  return 0;
}

int Server::run() {
  std::signal(SIGPIPE, SIG_IGN);
  std::size_t sockets = 0;
  for (const auto& listener : listeners_) {
    sockets += 1 + (listener->config.port_routing ? listener->config.port_routing->max_node_id + 1 : 0);
  }
  raise_descriptor_limit(sockets);
  for (auto& listener : listeners_) {
    if (bind_listener(*listener) != 0) {
      begin_shutdown("startup failed");
      uv_run(&loop_, UV_RUN_DEFAULT);
      return 1;
    }
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
  log::info("kedge ready");
  uv_run(&loop_, UV_RUN_DEFAULT);
  log::info("kedge stopped: {} connections served", stats_.connections_accepted);
  return 0;
}

void Server::on_new_connection(uv_stream_t* stream, int status) {
  auto* listener = static_cast<Listener*>(stream->data);
  if (status < 0) {
    log::warn("listener {}: accept error: {}", listener->config.name, uv_strerror(status));
    return;
  }
  listener->server->accept_on(*listener, stream, std::nullopt);
}

void Server::on_new_broker_port_connection(uv_stream_t* stream, int status) {
  auto* socket = static_cast<BrokerPortSocket*>(stream->data);
  if (status < 0) {
    log::warn("listener {}: accept error on the port of broker {}: {}", socket->listener->config.name,
              socket->node_id, uv_strerror(status));
    return;
  }
  socket->listener->server->accept_on(*socket->listener, stream, socket->node_id);
}

void Server::accept_on(Listener& listener, uv_stream_t* stream, std::optional<std::int32_t> port_node_id) {
  if (shutting_down_) return;
  const std::uint64_t id = next_connection_id_++;
  auto connection = std::make_unique<Connection>(*this, listener, id);
  Connection* raw = connection.get();
  connections_.emplace(id, std::move(connection));
  stats_.connections_accepted++;
  stats_.connections_active++;
  raw->accept_from(stream, port_node_id);
}

void Server::begin_shutdown(const char* why) {
  if (shutting_down_) return;
  shutting_down_ = true;
  log::info("shutting down ({}): closing {} connections", why, connections_.size());
  auto close_if_open = [](uv_handle_t* handle) {
    // Handles never initialised (a listener after the one that failed to bind) have no loop.
    if (handle->loop != nullptr && !uv_is_closing(handle)) uv_close(handle, nullptr);
  };
  for (auto& listener : listeners_) {
    close_if_open(reinterpret_cast<uv_handle_t*>(&listener->handle));
    for (auto& socket : listener->broker_sockets) close_if_open(reinterpret_cast<uv_handle_t*>(&socket->handle));
  }
  close_if_open(reinterpret_cast<uv_handle_t*>(&sigint_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&sigterm_));
  for (auto& cluster : clusters_) cluster->discovery->cancel();
  std::vector<std::uint64_t> ids;
  ids.reserve(connections_.size());
  for (const auto& [id, connection] : connections_) ids.push_back(id);
  for (std::uint64_t id : ids) {
    if (Connection* connection = find_connection(id)) connection->close(DisconnectCause::shutdown);
  }
}

}  // namespace kedge
