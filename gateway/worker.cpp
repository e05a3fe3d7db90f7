#include "gateway/worker.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gateway/connection.h"
#include "common/log.h"

namespace kedge {
namespace {

// A listening socket every worker binds on its own: SO_REUSEPORT makes the
// kernel spread incoming connections over the workers' accept queues (no
// shared accept lock, no thundering herd). IPv6 sockets are IPV6_V6ONLY so an
// IPv4 and an IPv6 listener on the same port never overlap.
int open_reuseport_socket(const HostPort& bind, std::string& error) {
  const std::optional<sockaddr_storage> parsed = numeric_address(bind);
  if (!parsed) {
    error = uv_strerror(UV_EINVAL);
    return -1;
  }
  const sockaddr_storage& address = *parsed;
  const int family = address.ss_family;
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  const int one = 1;
  bool ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0;
  if (ok && family == AF_INET6) ok = ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0;
  const socklen_t length = family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (!ok || ::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

constexpr std::uint32_t kMaxDrainStepMs = 250;

}  // namespace

Worker::Worker(std::size_t worker_index, std::shared_ptr<const Snapshot> snapshot)
    : worker_index_(worker_index),
      snapshot_(std::move(snapshot)),
      resolve_cache_(snapshot_->config.limits.resolve_cache_ms) {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &wakeup_, [](uv_async_t* async) {
    auto* self = static_cast<Worker*>(async->data);
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(self->tasks_mutex_);
      tasks.swap(self->tasks_);
    }
    for (auto& task : tasks) task();
  });
  wakeup_.data = this;
  uv_timer_init(&loop_, &drain_timer_);
  drain_timer_.data = this;
  adopt_clusters(*snapshot_);
  // Readiness needs evidence that each backend answers: ask right away, then
  // whenever no evidence arrived for a probe interval. Every worker records its
  // evidence in the cluster's shared BackendState, so one worker probing is
  // enough; N workers probing would multiply kedge's own load on every backend.
  uv_timer_init(&loop_, &probe_timer_);
  probe_timer_.data = this;
  if (worker_index_ == 0) {
    const std::uint32_t every = snapshot_->config.admin.readiness_probe_interval_ms;
    uv_timer_start(
        &probe_timer_, [](uv_timer_t* timer) { static_cast<Worker*>(timer->data)->probe_backends(); }, 0, every);
  }
}

Worker::~Worker() {
  connections_.clear();
  for (auto& cluster : clusters_) cluster->discovery.reset();
  clusters_.clear();
  uv_loop_close(&loop_);
}

Connection* Worker::find_connection(std::uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void Worker::release_connection(std::uint64_t id) {
  connections_.erase(id);
  if (draining_) maybe_finish();
}

bool Worker::post(std::function<void()> task) {
  std::lock_guard<std::mutex> lock(tasks_mutex_);
  if (finished_) return false;  // the loop is gone; nothing left to act on
  tasks_.push_back(std::move(task));
  uv_async_send(&wakeup_);
  return true;
}

std::string Worker::bind_listeners() {
  for (const auto& settings : snapshot_->listeners) {
    if (std::string error = open_listener(settings); !error.empty()) return error;
  }
  return {};
}

namespace {

// Binds and listens on one SO_REUSEPORT socket owned by `handle`.
std::string listen_reuseport(uv_loop_t* loop, uv_tcp_t* handle, void* data, const HostPort& bind,
                             uv_connection_cb on_connection) {
  std::string error;
  const int fd = open_reuseport_socket(bind, error);
  if (fd < 0) return error;
  uv_tcp_init(loop, handle);
  handle->data = data;
  int rc = uv_tcp_open(handle, fd);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(handle), 1024, on_connection);
  return rc == 0 ? std::string() : std::string(uv_strerror(rc));
}

}  // namespace

std::string Worker::open_listener(const std::shared_ptr<const ListenerSettings>& settings) {
  const ListenerConfig& config = settings->config;
  auto socket = std::make_unique<ListenerSocket>();
  socket->server = this;
  socket->name = config.name;
  socket->bind = config.bind;
  socket->settings = settings;
  std::string error = listen_reuseport(&loop_, &socket->handle, socket.get(), config.bind, on_new_connection);
  if (!error.empty()) {
    close_listener(std::move(socket));
    return fmt::format("listener {}: cannot listen on {}: {}", config.name, config.bind.to_string(), error);
  }
  if (const auto& routing = config.port_routing) {
    // The whole pool is bound eagerly: a client reconnecting straight to a
    // broker port after a kedge restart must be accepted before discovery ran.
    for (std::int32_t node_id = 0; node_id <= routing->max_node_id; ++node_id) {
      auto pool_socket = std::make_unique<BrokerPortSocket>();
      pool_socket->listener = socket.get();
      pool_socket->node_id = node_id;
      HostPort bind = config.bind;
      bind.port = *broker_port(*routing, node_id);
      BrokerPortSocket* raw = pool_socket.get();
      socket->broker_sockets.push_back(std::move(pool_socket));
      error = listen_reuseport(&loop_, &raw->handle, raw, bind, on_new_broker_port_connection);
      if (!error.empty()) {
        close_listener(std::move(socket));
        return fmt::format("listener {}: cannot listen on {} (port of broker {}): {}", config.name,
                           bind.to_string(), node_id, error);
      }
    }
  }
  if (worker_index_ == 0) {
    if (const auto& routing = config.port_routing) {
      log::info("listener {} on {} ({}, port routing for virtual cluster {}): bootstrap port {}, broker N on port "
                "{} + N for N in 0..{}, advertised as {}:<port>",
                config.name, config.bind.to_string(), config.tls ? "TLS" : "plaintext", routing->virtual_cluster,
                config.bind.port, routing->broker_port_base, routing->max_node_id, routing->advertised_host);
    } else {
      log::info("listener {} on {} (advertised port {}, TLS, SNI routing{})", config.name, config.bind.to_string(),
                config.advertised_port,
                config.proxy_protocol == ProxyProtocolMode::off
                    ? std::string()
                    : fmt::format(", PROXY protocol {}", to_string(config.proxy_protocol)));
    }
  }
  listeners_[config.name] = std::move(socket);
  return {};
}

void Worker::close_listener(std::unique_ptr<ListenerSocket> listener) {
  // Freed once libuv is done with every socket of the listener.
  ListenerSocket* owned = listener.release();
  auto on_closed = [](uv_handle_t* closed) {
    auto* socket = static_cast<ListenerSocket*>(closed->data);
    if (--socket->open_handles == 0) delete socket;
  };
  auto close_one = [&](uv_tcp_t* handle) {
    auto* raw = reinterpret_cast<uv_handle_t*>(handle);
    if (raw->loop == nullptr || uv_is_closing(raw)) return;  // never initialised
    raw->data = owned;
    owned->open_handles++;
    uv_close(raw, on_closed);
  };
  close_one(&owned->handle);
  for (auto& pool_socket : owned->broker_sockets) close_one(&pool_socket->handle);
  if (owned->open_handles == 0) delete owned;
}

void Worker::adopt_clusters(const Snapshot& next) {
  std::vector<std::shared_ptr<ClusterRuntime>> adopted;
  adopted.reserve(next.clusters.size());
  for (const auto& settings : next.clusters) {
    std::shared_ptr<ClusterRuntime> runtime;
    for (auto& existing : clusters_) {
      // build_snapshot handed the BackendState on iff the name and backend stayed the same.
      if (existing && existing->backend_state == settings->backend_state) {
        runtime = existing;
        existing = nullptr;  // taken
        // Discovery credentials are kedge's own: a change (e.g. a rotated password file) applies from the
        // next discovery exchange and drains no client connection.
        runtime->discovery->set_credentials(settings->config.backend.discovery_credentials());
        runtime->discovery->set_upstream_tls(settings->upstream_ctx.get());  // the old snapshot's may go
        break;
      }
    }
    if (!runtime) {
      runtime = std::make_shared<ClusterRuntime>(settings->backend_state);
      runtime->discovery =
          std::make_unique<Discovery>(&loop_, buffers_.scratch, &resolve_cache_, settings->config.name,
                                      settings->config.backend, runtime->registry, next.config.limits.max_frame_bytes,
                                      next.config.limits.upstream_connect_timeout_ms, settings->upstream_ctx.get());
    }
    runtime->settings = settings;  // new certificate / host names for new connections
    adopted.push_back(std::move(runtime));
  }
  for (auto& left : clusters_) {
    if (!left) continue;
    left->retired = true;
    left->discovery->cancel();
  }
  clusters_ = std::move(adopted);
}

void Worker::apply(std::shared_ptr<const Snapshot> next) {
  if (draining_) return;
  snapshot_ = std::move(next);
  adopt_clusters(*snapshot_);
  resolve_cache_.set_ttl(snapshot_->config.limits.resolve_cache_ms);  // a reload also re-resolves every name

  // Listeners: keep a socket whose name and bind address are unchanged (only
  // its settings are swapped), close the ones removed or moved, open the new.
  std::map<std::string, std::shared_ptr<const ListenerSettings>> wanted;
  for (const auto& settings : snapshot_->listeners) wanted[settings->config.name] = settings;
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    auto match = wanted.find(it->first);
    const bool keep = match != wanted.end() && match->second->config.bind == it->second->bind &&
                      same_sockets(match->second->config, it->second->settings->config);
    if (keep) {
      it->second->settings = match->second;
      wanted.erase(match);
      ++it;
    } else {
      if (worker_index_ == 0) log::info("listener {} on {} removed", it->first, it->second->bind.to_string());
      close_listener(std::move(it->second));
      it = listeners_.erase(it);
    }
  }
  for (const auto& [name, settings] : wanted) {
    if (std::string error = open_listener(settings); !error.empty()) log::error("{}", error);
  }

  // Connections whose virtual cluster was removed or re-pointed at another
  // backend, or whose listener went away, finish their in-flight requests and
  // close; everything else continues untouched under its old snapshot.
  const std::uint32_t timeout = snapshot_->config.limits.drain_timeout_ms;
  std::vector<std::uint64_t> affected;
  std::vector<std::uint64_t> removed_users;
  for (const auto& [id, connection] : connections_) {
    const auto* listener = connection->listener_settings();
    auto socket = listeners_.find(listener->config.name);
    const bool listener_gone = socket == listeners_.end() || socket->second->bind != listener->config.bind ||
                               !same_routing(socket->second->settings->config, listener->config);
    if (listener_gone || connection->cluster_retired()) {
      affected.push_back(id);
    } else if (connection->user_removed()) {
      removed_users.push_back(id);
    }
  }
  for (std::uint64_t id : affected) {
    if (Connection* connection = find_connection(id)) connection->drain(timeout, DisconnectCause::config_changed);
  }
  // authentication.close_removed_users: a user removed from the users file
  // loses its open connections now (their in-flight requests still answered).
  for (std::uint64_t id : removed_users) {
    if (Connection* connection = find_connection(id)) connection->drain(timeout, DisconnectCause::user_removed);
  }
  if (!removed_users.empty()) {
    log::info("worker {}: closing {} connections of users removed from the users file", worker_index_,
              removed_users.size());
  }
  if (!affected.empty()) {
    log::info("worker {}: draining {} connections of removed or changed virtual clusters/listeners", worker_index_,
              affected.size());
  }
}

void Worker::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Worker::on_new_connection(uv_stream_t* stream, int status) {
  auto* listener = static_cast<ListenerSocket*>(stream->data);
  if (status < 0) {
    log::warn("listener {}: accept error: {}", listener->name, uv_strerror(status));
    return;
  }
  listener->server->accept_on(*listener, stream, std::nullopt);
}

void Worker::on_new_broker_port_connection(uv_stream_t* stream, int status) {
  auto* socket = static_cast<BrokerPortSocket*>(stream->data);
  if (status < 0) {
    log::warn("listener {}: accept error on the port of broker {}: {}", socket->listener->name, socket->node_id,
              uv_strerror(status));
    return;
  }
  socket->listener->server->accept_on(*socket->listener, stream, socket->node_id);
}

void Worker::accept_on(ListenerSocket& listener, uv_stream_t* stream, std::optional<std::int32_t> port_node_id) {
  if (draining_) return;
  const std::uint64_t id = next_connection_id_++;
  // Connection ids are unique per process: the worker index is in the low bits.
  const std::uint64_t global_id = id * 64 + worker_index_ % 64;
  auto connection = std::make_unique<Connection>(*this, listener.settings, global_id);
  Connection* raw = connection.get();
  connections_.emplace(global_id, std::move(connection));
  ListenerStats& counters = stats_.listener(listener.name);
  counters.connections_accepted++;
  counters.connections_active++;
  raw->accept_from(stream, port_node_id);
}

// Graceful drain (SIGTERM): stop accepting, then ask connections to finish
// their in-flight requests and close, one broker's connections at a time, so
// that a client never loses every broker connection in the same instant
// (librdkafka reports ALL_BROKERS_DOWN then) and has time to reconnect
// through another replica. Each connection is force-closed at the timeout.
void Worker::begin_drain(std::uint32_t timeout_ms) {
  if (draining_) {
    if (timeout_ms != 0) return;
    std::vector<std::uint64_t> ids;  // forced: a second signal
    for (const auto& [id, connection] : connections_) ids.push_back(id);
    for (std::uint64_t id : ids) {
      if (Connection* connection = find_connection(id)) connection->close(DisconnectCause::shutdown);
    }
    return;
  }
  draining_ = true;
  drain_timeout_ms_ = timeout_ms;
  for (auto& [name, socket] : listeners_) close_listener(std::move(socket));
  listeners_.clear();

  std::map<std::string, std::vector<std::uint64_t>> by_target;
  for (const auto& [id, connection] : connections_) by_target[connection->drain_group()].push_back(id);
  drain_groups_.clear();
  for (auto& [key, ids] : by_target) drain_groups_.push_back(std::move(ids));
  std::reverse(drain_groups_.begin(), drain_groups_.end());  // drain_step pops from the back
  const std::uint64_t spread = timeout_ms / (2 * (drain_groups_.size() + 1));
  const std::uint64_t step = std::clamp<std::uint64_t>(spread, 1, kMaxDrainStepMs);
  log::info("worker {}: draining {} connections in {} groups, {} ms apart, timeout {} ms", worker_index_,
            connections_.size(), drain_groups_.size(), step, timeout_ms);
  drain_step();
  if (!drain_groups_.empty()) {
    uv_timer_start(&drain_timer_, [](uv_timer_t* timer) { static_cast<Worker*>(timer->data)->drain_step(); },
                   step, step);
  }
  maybe_finish();
}

void Worker::drain_step() {
  if (drain_groups_.empty()) {
    uv_timer_stop(&drain_timer_);
    return;
  }
  std::vector<std::uint64_t> group = std::move(drain_groups_.back());
  drain_groups_.pop_back();
  for (std::uint64_t id : group) {
    if (Connection* connection = find_connection(id)) connection->drain(drain_timeout_ms_, DisconnectCause::shutdown);
  }
  if (drain_groups_.empty()) uv_timer_stop(&drain_timer_);
}

void Worker::maybe_finish() {
  if (!draining_ || !connections_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(tasks_mutex_);
    if (finished_) return;
    finished_ = true;
    tasks_.clear();
  }
  for (auto& cluster : clusters_) cluster->discovery->cancel();
  auto close_if_open = [](uv_handle_t* handle) {
    if (!uv_is_closing(handle)) uv_close(handle, nullptr);
  };
  close_if_open(reinterpret_cast<uv_handle_t*>(&drain_timer_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&probe_timer_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&wakeup_));
}

void Worker::probe_backends() {
  if (draining_) return;
  const std::uint64_t now = unix_now_ms();
  const std::uint32_t interval = snapshot_->config.admin.readiness_probe_interval_ms;
  for (auto& cluster : clusters_) {
    // Recent client traffic (on any worker) is evidence enough; probe only a quiet backend.
    const BackendHealth health = cluster->health.read();
    if (health.reachable() && now - health.last_success_unix_ms < interval) continue;
    stats_.cluster(cluster->settings->config.name).discovery_requests++;
    cluster->discovery->refresh([runtime = std::weak_ptr<ClusterRuntime>(cluster)](bool ok, const std::string& detail) {
      auto alive = runtime.lock();
      if (!alive) return;
      if (ok) {
        alive->health.answered();
      } else {
        alive->health.failed(detail);
      }
    });
  }
}

std::optional<std::size_t> Worker::cluster_index(std::string_view name) const {
  for (std::size_t i = 0; i < snapshot_->clusters.size(); ++i) {
    if (snapshot_->clusters[i]->config.name == name) return i;
  }
  return std::nullopt;
}

GatewaySnapshot Worker::collect() const {
  GatewaySnapshot s;
  s.now_unix_ms = unix_now_ms();
  std::vector<std::string> listener_names;
  for (const auto& settings : snapshot_->listeners) {
    const ListenerConfig& config = settings->config;
    listener_names.push_back(config.name);
    s.listeners.push_back(ListenerSnapshot{config.name, config.bind.to_string(), config.advertised_port,
                                           std::string(to_string(config.proxy_protocol)),
                                           listeners_.count(config.name) != 0});
  }
  std::vector<std::string> cluster_names;
  for (const auto& settings : snapshot_->clusters) cluster_names.push_back(settings->config.name);
  s.stats = stats_.aligned(listener_names, cluster_names);
  return s;
}

}  // namespace kedge
