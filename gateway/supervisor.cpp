#include "gateway/supervisor.h"

#include <sys/stat.h>

#include <csignal>

#include "gateway/connection.h"
#include "gateway/log.h"

namespace kedge {
namespace {

unsigned effective_workers(unsigned configured) {
  if (configured != 0) return configured;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

}  // namespace

Supervisor::Supervisor(Config config, bool keep_log_level)
    : snapshot_(build_snapshot(std::move(config), 1)), keep_log_level_(keep_log_level) {
  uv_loop_init(&loop_);
  certificate_stamps_ = stamp(tls_files(snapshot_->config));
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

int Supervisor::run() {
  std::signal(SIGPIPE, SIG_IGN);
  const unsigned count = effective_workers(snapshot_->config.workers);
  for (unsigned i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<Server>(i, snapshot_));
    if (std::string error = workers_.back()->bind_listeners(); !error.empty()) {
      log::error("{}", error);
      for (auto& worker : workers_) {
        worker->begin_drain(0);  // closes what was bound; nothing is connected yet
        worker->run();
      }
      return 1;
    }
  }
  for (const auto& cluster : snapshot_->clusters) {
    std::string servers;
    for (const auto& server : cluster->config.backend.bootstrap_servers) {
      if (!servers.empty()) servers += ",";
      servers += server.to_string();
    }
    const std::size_t index = static_cast<std::size_t>(&cluster - snapshot_->clusters.data());
    log::info("virtual cluster {}: clients bootstrap from {}:{}; backend {}", cluster->config.name,
              snapshot_->mapper.bootstrap_host(index), snapshot_->listeners.front()->config.advertised_port,
              servers);
  }

  uv_async_init(&loop_, &worker_finished_,
                [](uv_async_t* async) { static_cast<Supervisor*>(async->data)->on_worker_finished(); });
  worker_finished_.data = this;
  workers_running_ = workers_.size();
  for (auto& worker : workers_) {
    Server* raw = worker.get();
    threads_.emplace_back([this, raw] {
      raw->run();
      workers_running_.fetch_sub(1);
      uv_async_send(&worker_finished_);
    });
  }

  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sighup_);
  sigint_.data = sigterm_.data = sighup_.data = this;
  auto on_stop_signal = [](uv_signal_t* handle, int signum) {
    static_cast<Supervisor*>(handle->data)->begin_drain(signum == SIGINT ? "SIGINT" : "SIGTERM");
  };
  uv_signal_start(&sigint_, on_stop_signal, SIGINT);
  uv_signal_start(&sigterm_, on_stop_signal, SIGTERM);
  uv_signal_start(
      &sighup_, [](uv_signal_t* handle, int) { static_cast<Supervisor*>(handle->data)->reload("SIGHUP"); }, SIGHUP);

  uv_timer_init(&loop_, &certificate_timer_);
  certificate_timer_.data = this;
  if (const std::uint32_t every = snapshot_->config.limits.certificate_check_interval_ms; every > 0) {
    uv_timer_start(
        &certificate_timer_,
        [](uv_timer_t* timer) { static_cast<Supervisor*>(timer->data)->check_certificates(); }, every, every);
  }

  log::info("kedge ready: {} worker loop{}", workers_.size(), workers_.size() == 1 ? "" : "s");
  uv_run(&loop_, UV_RUN_DEFAULT);
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  std::uint64_t served = 0;
  for (const auto& worker : workers_) served += worker->stats().connections_accepted;
  log::info("kedge stopped: {} connections served", served);
  return 0;
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
    next = build_snapshot(load_config(source), snapshot_->generation + 1);
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
  const bool interval_changed =
      next->config.limits.certificate_check_interval_ms != snapshot_->config.limits.certificate_check_interval_ms;
  snapshot_ = next;
  certificate_stamps_ = stamp(tls_files(snapshot_->config));
  if (interval_changed && uv_is_active(reinterpret_cast<uv_handle_t*>(&certificate_timer_)) != 0) {
    uv_timer_stop(&certificate_timer_);
  }
  if (interval_changed && snapshot_->config.limits.certificate_check_interval_ms > 0) {
    const std::uint32_t every = snapshot_->config.limits.certificate_check_interval_ms;
    uv_timer_start(
        &certificate_timer_,
        [](uv_timer_t* timer) { static_cast<Supervisor*>(timer->data)->check_certificates(); }, every, every);
  }
  for (auto& worker : workers_) {
    Server* raw = worker.get();
    raw->post([raw, next] { raw->apply(next); });
  }
  reloads_succeeded_++;
  outcome.ok = true;
  outcome.generation = snapshot_->generation;
  log::info("reload ({}): configuration generation {} from {} applied to new connections", trigger,
            snapshot_->generation, source.string());
  return outcome;
}

void Supervisor::check_certificates() {
  std::vector<FileStamp> now = stamp(tls_files(snapshot_->config));
  if (now == certificate_stamps_) return;
  for (std::size_t i = 0; i < now.size() && i < certificate_stamps_.size(); ++i) {
    if (!(now[i] == certificate_stamps_[i])) log::info("certificate file {} changed on disk", now[i].path.string());
  }
  // Remember what was seen even if the reload fails (e.g. the key is written a
  // moment after the certificate): the next change triggers the next attempt.
  certificate_stamps_ = std::move(now);
  reload("certificate files changed");
}

void Supervisor::begin_drain(const char* why) {
  if (draining()) {
    if (forced_) return;
    forced_ = true;
    log::warn("{} during the drain: closing every connection now", why);
    for (auto& worker : workers_) {
      Server* raw = worker.get();
      raw->post([raw] { raw->begin_drain(0); });
    }
    return;
  }
  draining_ = true;
  const std::uint32_t timeout = snapshot_->config.limits.drain_timeout_ms;
  log::info("{}: draining (timeout {} ms); not ready, no longer accepting", why, timeout);
  uv_timer_stop(&certificate_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&certificate_timer_), nullptr);
  for (auto& worker : workers_) {
    Server* raw = worker.get();
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
  close_if_open(reinterpret_cast<uv_handle_t*>(&certificate_timer_));
}

}  // namespace kedge
