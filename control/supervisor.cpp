#include "control/supervisor.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>

#include "gateway/connection.h"
#include "control/cpu_budget.h"
#include "common/log.h"
#include "common/version.h"

namespace kedge {
namespace {


// How long the admin API waits for a worker's part before answering without
// it. A worker answers within one loop turn; this only bounds a stuck one.
constexpr auto kCollectTimeout = std::chrono::seconds(2);

// Every worker binds every listener, and a port-routed listener binds
// 1 + max_node_id + 1 sockets: make sure the descriptor limit leaves room for
// them and for connections (soft limit -> hard limit).
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

// "workers": 0 means one loop per CPU the process may use (cpu_budget.h).
unsigned effective_workers(unsigned configured) {
  if (configured != 0) return configured;
  const CpuBudget budget = usable_cpus();
  log::info("workers: 0 (automatic): {} worker loop{}, {}", budget.usable, budget.usable == 1 ? "" : "s",
            budget.describe());
  return budget.usable;
}

}  // namespace

Supervisor::Supervisor(Config config, bool keep_log_level)
    : snapshot_(build_snapshot(std::move(config), 1)),
      keep_log_level_(keep_log_level),
      started_unix_ms_(unix_now_ms()) {
  uv_loop_init(&loop_);
  watched_stamps_ = stamp(watched_files(snapshot_->config));
}

Supervisor::~Supervisor() {
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  workers_.clear();
  uv_loop_close(&loop_);
}

std::vector<Supervisor::FileStamp> Supervisor::stamp(const std::vector<std::filesystem::path>& files) {
  std::vector<FileStamp> stamps;
  stamps.reserve(files.size());
  for (const auto& path : files) {
    FileStamp entry;
    entry.path = path;
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0) {
      entry.exists = true;
      entry.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
      entry.size = static_cast<std::uint64_t>(info.st_size);
      entry.inode = static_cast<std::uint64_t>(info.st_ino);
    }
    stamps.push_back(std::move(entry));
  }
  return stamps;
}

// Startup failed after workers were created: close what they bound (nothing
// is connected yet) and let their loops end.
void Supervisor::abandon_start() {
  for (auto& worker : workers_) {
    worker->begin_drain(0);
    worker->run();
  }
}

// (Re)arms the watched-file check at the current snapshot's interval (0: off).
void Supervisor::start_file_checks() {
  uv_timer_stop(&file_check_timer_);
  const std::uint32_t every = snapshot_->config.limits.certificate_check_interval_ms;
  if (every == 0) return;
  uv_timer_start(
      &file_check_timer_, [](uv_timer_t* timer) { static_cast<Supervisor*>(timer->data)->check_watched_files(); },
      every, every);
}

int Supervisor::run() {
  std::signal(SIGPIPE, SIG_IGN);
  if (!start_workers()) return 1;
  log_bootstrap_names();
  if (!start_admin()) return 1;
  uv_async_init(&loop_, &worker_finished_,
                [](uv_async_t* async) { static_cast<Supervisor*>(async->data)->on_worker_finished(); });
  worker_finished_.data = this;
  workers_running_ = workers_.size();
  for (auto& worker : workers_) {
    Worker* raw = worker.get();
    threads_.emplace_back([this, raw] {
      raw->run();
      workers_running_.fetch_sub(1);
      uv_async_send(&worker_finished_);
    });
  }
  watch_signals();
  uv_timer_init(&loop_, &file_check_timer_);
  file_check_timer_.data = this;
  start_file_checks();

  log::info("kedge ready: {} worker loop{}", workers_.size(), workers_.size() == 1 ? "" : "s");
  uv_run(&loop_, UV_RUN_DEFAULT);
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  std::uint64_t served = 0;
  for (const auto& worker : workers_) {
    for (const auto& [name, counters] : worker->stats().listeners) served += counters.connections_accepted;
  }
  log::info("kedge stopped: {} connections served", served);
  return 0;
}

// One worker per usable CPU (or config.workers), each binding every listener.
bool Supervisor::start_workers() {
  const unsigned count = effective_workers(snapshot_->config.workers);
  std::size_t sockets = 0;
  for (const auto& listener : snapshot_->config.listeners) {
    sockets += 1 + (listener.port_routing ? static_cast<std::size_t>(listener.port_routing->max_node_id) + 1 : 0);
  }
  raise_descriptor_limit(sockets * count);
  for (unsigned i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, snapshot_));
    if (std::string error = workers_.back()->bind_listeners(); !error.empty()) {
      log::error("{}", error);
      abandon_start();
      return false;
    }
  }
  return true;
}

// Where clients bootstrap: the SNI name on the first SNI listener's port
// (port-routed listeners log their own bootstrap port when they bind).
void Supervisor::log_bootstrap_names() const {
  const ListenerConfig* sni_listener = nullptr;
  for (const auto& settings : snapshot_->listeners) {
    if (!settings->config.port_routing) {
      sni_listener = &settings->config;
      break;
    }
  }
  for (std::size_t index = 0; index < snapshot_->clusters.size(); ++index) {
    const VirtualClusterConfig& cluster = snapshot_->clusters[index]->config;
    std::string servers;
    for (const auto& server : cluster.backend.bootstrap_servers) {
      if (!servers.empty()) servers += ",";
      servers += server.to_string();
    }
    if (sni_listener != nullptr) {
      log::info("virtual cluster {}: clients bootstrap from {}:{}; backend {}", cluster.name,
                snapshot_->mapper.bootstrap_host(index), sni_listener->advertised_port, servers);
    } else {
      log::info("virtual cluster {}: backend {}", cluster.name, servers);
    }
  }
}

bool Supervisor::start_admin() {
  if (!snapshot_->config.admin.enabled) return true;
  admin_ = std::make_unique<AdminServer>(&loop_, snapshot_->config.admin, *this);
  if (const int rc = admin_->start(); rc != 0) {
    log::error("admin: cannot listen on {}: {} (set admin.bind, or admin.enabled false)",
               snapshot_->config.admin.bind.to_string(), uv_strerror(rc));
    admin_->stop();
    uv_run(&loop_, UV_RUN_DEFAULT);
    abandon_start();
    return false;
  }
  log::info("admin API on http://{} ({})", admin_->bound_address(),
            snapshot_->config.admin.token.empty() ? "no token" : "bearer token required except /healthz, /readyz");
  return true;
}

void Supervisor::watch_signals() {
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sighup_);
  uv_signal_init(&loop_, &sigusr1_);
  sigint_.data = sigterm_.data = sighup_.data = sigusr1_.data = this;
  auto on_stop_signal = [](uv_signal_t* handle, int signum) {
    static_cast<Supervisor*>(handle->data)->begin_drain(signum == SIGINT ? "SIGINT" : "SIGTERM");
  };
  uv_signal_start(&sigint_, on_stop_signal, SIGINT);
  uv_signal_start(&sigterm_, on_stop_signal, SIGTERM);
  uv_signal_start(
      &sighup_, [](uv_signal_t* handle, int) { static_cast<Supervisor*>(handle->data)->reload("SIGHUP"); }, SIGHUP);
  uv_signal_start(
      &sigusr1_, [](uv_signal_t* handle, int) { static_cast<Supervisor*>(handle->data)->reopen_audit_log(); },
      SIGUSR1);
}

// SIGUSR1: the operator moved the audit log away (logrotate's copytruncate is
// not needed); the next line goes to a new file at the configured path.
void Supervisor::reopen_audit_log() {
  const std::shared_ptr<AuditLog>& audit = snapshot_->audit_log;
  if (!audit) {
    log::info("SIGUSR1: no audit log is configured; nothing to reopen");
    return;
  }
  if (std::string error = audit->reopen(); !error.empty()) {
    log::warn("SIGUSR1: cannot reopen the audit log {} ({}); still writing to the file opened before", audit->path(),
              error);
    return;
  }
  log::info("SIGUSR1: audit log {} reopened", audit->path());
}

ReloadOutcome Supervisor::reload(std::string_view trigger) {
  ReloadOutcome outcome;
  outcome.generation = snapshot_->generation;
  if (draining()) {
    outcome.error = "kedge is draining; reload refused";
    return outcome;
  }
  const std::filesystem::path source = snapshot_->config.source;
  std::shared_ptr<const Snapshot> next;
  try {
    next = build_snapshot(load_config(source), snapshot_->generation + 1, snapshot_.get());
  } catch (const ConfigError& e) {
    outcome.error = e.what();
  } catch (const std::exception& e) {
    outcome.error = e.what();
  }
  if (!next) {
    reloads_failed_++;
    log::error("reload ({}) rejected, still running configuration generation {}: {}", trigger,
               snapshot_->generation, outcome.error);
    return outcome;
  }
  if (next->config.workers != snapshot_->config.workers) {
    log::warn("reload ({}): \"workers\" changed from {} to {}; the number of worker loops changes only on restart",
              trigger, snapshot_->config.workers, next->config.workers);
  }
  if (!keep_log_level_) log::set_level(next->config.log.level);
  log::set_format(next->config.log.format);
  const AdminConfig& old_admin = snapshot_->config.admin;
  const AdminConfig& new_admin = next->config.admin;
  if (old_admin.enabled != new_admin.enabled || old_admin.bind != new_admin.bind ||
      old_admin.token != new_admin.token) {
    log::warn("reload ({}): \"admin\" changed; the admin listener keeps its settings until restart", trigger);
  }
  const bool interval_changed =
      next->config.limits.certificate_check_interval_ms != snapshot_->config.limits.certificate_check_interval_ms;
  snapshot_ = next;
  watched_stamps_ = stamp(watched_files(snapshot_->config));
  if (interval_changed) start_file_checks();
  for (auto& worker : workers_) {
    Worker* raw = worker.get();
    raw->post([raw, next] { raw->apply(next); });
  }
  reloads_succeeded_++;
  outcome.ok = true;
  outcome.generation = snapshot_->generation;
  log::info("reload ({}): configuration generation {} from {} applied to new connections", trigger,
            snapshot_->generation, source.string());
  return outcome;
}

bool Supervisor::check_watched_files() {
  std::vector<FileStamp> now = stamp(watched_files(snapshot_->config));
  if (now == watched_stamps_) return false;
  for (std::size_t i = 0; i < now.size() && i < watched_stamps_.size(); ++i) {
    if (!(now[i] == watched_stamps_[i])) log::info("file {} changed on disk", now[i].path.string());
  }
  // Remember what was seen even if the reload fails (e.g. the key is written a
  // moment after the certificate, or a users file is mid-edit): the next change
  // triggers the next attempt, and until then the running generation stays.
  watched_stamps_ = std::move(now);
  reload("watched files changed");
  return true;
}

void Supervisor::begin_drain(const char* why) {
  if (draining()) {
    if (forced_) return;
    forced_ = true;
    log::warn("{} during the drain: closing every connection now", why);
    for (auto& worker : workers_) {
      Worker* raw = worker.get();
      raw->post([raw] { raw->begin_drain(0); });
    }
    return;
  }
  draining_ = true;
  const std::uint32_t timeout = snapshot_->config.limits.drain_timeout_ms;
  log::info("{}: draining (timeout {} ms); not ready, no longer accepting", why, timeout);
  uv_timer_stop(&file_check_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigusr1_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&file_check_timer_), nullptr);
  // The admin API stays up during the drain (/readyz answers 503 "draining")
  // and closes once every worker is done.
  for (auto& worker : workers_) {
    Worker* raw = worker.get();
    raw->post([raw, timeout] { raw->begin_drain(timeout); });
  }
}

void Supervisor::on_worker_finished() {
  if (workers_running_.load() != 0) return;
  auto close_if_open = [](uv_handle_t* handle) {
    if (handle->loop != nullptr && !uv_is_closing(handle)) uv_close(handle, nullptr);
  };
  close_if_open(reinterpret_cast<uv_handle_t*>(&worker_finished_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&sigint_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&sigterm_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&sighup_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&sigusr1_));
  close_if_open(reinterpret_cast<uv_handle_t*>(&file_check_timer_));
  if (admin_) admin_->stop();
}

AdminView::ReloadResult Supervisor::reload_config() {
  const ReloadOutcome outcome = reload("POST /v1/reload");
  return ReloadResult{outcome.ok, outcome.generation, outcome.error};
}

// Every worker's part, each taken on its own loop thread (a worker that has
// finished draining, or does not answer within kCollectTimeout, gives none).
std::vector<std::optional<GatewaySnapshot>> Supervisor::collect_workers() const {
  struct Gather {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t pending = 0;
    std::vector<std::optional<GatewaySnapshot>> parts;
  };
  auto gather = std::make_shared<Gather>();
  gather->parts.resize(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker* worker = workers_[i].get();
    {
      std::lock_guard<std::mutex> lock(gather->mutex);
      gather->pending++;
    }
    const bool posted = worker->post([gather, worker, i] {
      GatewaySnapshot part = worker->collect();
      std::lock_guard<std::mutex> lock(gather->mutex);
      gather->parts[i] = std::move(part);
      if (--gather->pending == 0) gather->done.notify_one();
    });
    if (!posted) {
      std::lock_guard<std::mutex> lock(gather->mutex);
      gather->pending--;
    }
  }
  std::unique_lock<std::mutex> lock(gather->mutex);
  gather->done.wait_for(lock, kCollectTimeout, [&] { return gather->pending == 0; });
  return gather->parts;
}

// Brokers and readiness evidence are shared by every worker: read once per cluster.
// learned_at_ms is a loop's uv_now (CLOCK_MONOTONIC ms): converted to wall time by its age.
std::vector<ClusterSnapshot> Supervisor::cluster_snapshots(std::uint64_t now_unix_ms) const {
  std::vector<ClusterSnapshot> clusters;
  const std::uint64_t monotonic_now_ms = uv_hrtime() / 1'000'000;
  for (std::size_t index = 0; index < snapshot_->clusters.size(); ++index) {
    const ClusterSettings& settings = *snapshot_->clusters[index];
    const VirtualClusterConfig& config = settings.config;
    ClusterSnapshot c;
    c.name = config.name;
    c.hostname_format = std::string(sni::to_string(config.format));
    c.domain = config.domain;
    c.bootstrap_host = snapshot_->mapper.bootstrap_host(index);
    for (const auto& server : config.backend.bootstrap_servers) c.bootstrap_servers.push_back(server.to_string());
    for (const auto& [id, broker] : *settings.backend_state->registry.brokers()) {
      const std::uint64_t age = monotonic_now_ms >= broker.learned_at_ms ? monotonic_now_ms - broker.learned_at_ms : 0;
      c.brokers.push_back(BrokerSnapshot{id, broker.address.to_string(), describe(broker.learned_from),
                                         now_unix_ms >= age ? now_unix_ms - age : 0});
    }
    c.health = settings.backend_state->health.read();
    clusters.push_back(std::move(c));
  }
  return clusters;
}

GatewaySnapshot Supervisor::snapshot() const {
  GatewaySnapshot total;
  total.version = std::string(kVersion);
  total.now_unix_ms = unix_now_ms();
  total.started_unix_ms = started_unix_ms_;
  total.draining = draining();
  total.principal_metric_limit = snapshot_->config.admin.principal_metric_limit;
  // Listeners and counters are per worker: summed. A reload's snapshot reached
  // each worker before this request did (same task queue), so every part is
  // aligned with snapshot_.
  bool first = true;
  for (auto& part : collect_workers()) {
    if (!part) continue;
    if (first) {
      total.listeners = part->listeners;
      total.stats = part->stats;
      first = false;
      continue;
    }
    for (std::size_t l = 0; l < total.listeners.size() && l < part->listeners.size(); ++l) {
      total.listeners[l].bound = total.listeners[l].bound && part->listeners[l].bound;
    }
    total.stats.merge(part->stats);
  }
  if (first) {  // every worker has finished: the configured listeners are no longer bound
    for (const auto& settings : snapshot_->listeners) {
      const ListenerConfig& config = settings->config;
      total.listeners.push_back(ListenerSnapshot{config.name, config.bind.to_string(), config.advertised_port,
                                                 std::string(to_string(config.proxy_protocol)), false});
    }
  }
  total.clusters = cluster_snapshots(total.now_unix_ms);
  total.stats.reloads_succeeded = reloads_succeeded_;
  total.stats.reloads_failed = reloads_failed_;
  return total;
}

}  // namespace kedge
