#pragma once
// The kedge process: N worker loops (gateway/server.h), each on its own thread,
// and a control loop on the main thread that owns signals, reloads,
// watched-file checks and the graceful drain.
//
//   SIGHUP / reload()         parse + validate the config file and build a new
//                             Snapshot (TLS contexts included); on any error the
//                             old one keeps running and the errors are returned;
//                             on success every worker adopts it (new connections
//                             at once, old ones untouched unless their cluster
//                             or listener was removed/changed).
//   file check timer          a changed file of watched_files() (certificates,
//                             keys, password files, users files, JWKS, client
//                             CA bundles, CRLs; mtime, size, inode) triggers
//                             the same reload, every
//                             limits.certificate_check_interval_ms.
//   SIGTERM / SIGINT          graceful drain: readiness false, listeners
//                             closed, connections finish in-flight requests,
//                             closed broker by broker, forced at
//                             limits.drain_timeout_ms; exit 0. A second signal
//                             closes everything at once.
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "admin/server.h"
#include "config/config.h"
#include "admin/model.h"
#include "gateway/worker.h"
#include "config/snapshot.h"

namespace kedge {

struct ReloadOutcome {
  bool ok = false;
  std::uint64_t generation = 0;  // the generation now running
  std::string error;             // why the new config was rejected
};

class Supervisor final : public AdminView {
 public:
  // Builds the first snapshot; throws ConfigError. `keep_log_level` keeps a
  // --log-level override across reloads.
  Supervisor(Config config, bool keep_log_level);
  ~Supervisor() override;
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Binds, starts the workers and runs until the drain finished. Exit code.
  int run();

  // Control-loop thread only.
  ReloadOutcome reload(std::string_view trigger);
  uv_loop_t* loop() { return &loop_; }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  const std::shared_ptr<const Snapshot>& config_snapshot() const { return snapshot_; }
  std::size_t worker_count() const { return workers_.size(); }
  std::uint64_t reloads_succeeded() const { return reloads_succeeded_; }
  std::uint64_t reloads_failed() const { return reloads_failed_; }
  // Compares watched_files() with what was last seen and reloads when any
  // differs (what the file check timer runs). True if a reload was attempted.
  bool check_watched_files();

  // AdminView (control-loop thread): every worker hands over its part on its
  // own loop thread; the parts are summed here (a worker that has finished
  // draining contributes nothing).
  GatewaySnapshot snapshot() const override;
  ReloadResult reload_config() override;

 private:
  struct FileStamp {
    std::filesystem::path path;
    bool exists = false;
    std::int64_t mtime_ns = 0;
    std::uint64_t size = 0;
    std::uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  };
  static std::vector<FileStamp> stamp(const std::vector<std::filesystem::path>& files);
  void start_file_checks();
  bool start_workers();  // false: a listener could not bind (logged; everything started is stopped)
  void log_bootstrap_names() const;
  bool start_admin();    // false: the admin listener could not bind (logged; everything started is stopped)
  void watch_signals();
  void reopen_audit_log();
  std::vector<std::optional<GatewaySnapshot>> collect_workers() const;
  std::vector<ClusterSnapshot> cluster_snapshots(std::uint64_t now_unix_ms) const;
  void abandon_start();
  void begin_drain(const char* why);
  void on_worker_finished();

  std::shared_ptr<const Snapshot> snapshot_;
  const bool keep_log_level_;
  uv_loop_t loop_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_signal_t sighup_{};
  uv_signal_t sigusr1_{};  // reopen the audit log (rotation)
  uv_timer_t file_check_timer_{};
  uv_async_t worker_finished_{};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> workers_running_{0};
  std::atomic<bool> draining_{false};
  bool forced_ = false;
  std::vector<FileStamp> watched_stamps_;
  std::unique_ptr<AdminServer> admin_;
  std::uint64_t started_unix_ms_ = 0;
  std::uint64_t reloads_succeeded_ = 0;
  std::uint64_t reloads_failed_ = 0;
};

}  // namespace kedge
