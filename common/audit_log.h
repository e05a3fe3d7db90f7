#pragma once
// The audit log (docs/policy.md, "Audit log"): one JSON line per request a
// virtual cluster's policy refused and per administrative operation (create,
// delete, alter; allowed or not), appended to a file or written to standard
// output. Rotation is the operator's usual tools': move the file away, then
// SIGUSR1 (or a reload) makes kedge reopen the path.
//
// Thread-safe: worker loops append, the control loop reopens. Events are rare
// (refusals, admin operations), so one mutex around write(2) is enough; a line
// is written with one write(2) on an O_APPEND descriptor, so concurrent
// writers, kedge's and others', never interleave within a line.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace kedge {

class AuditLog {
 public:
  // "-" writes to standard output. Throws std::runtime_error naming the path
  // and the reason when the file cannot be opened for appending.
  explicit AuditLog(std::string path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  const std::string& path() const { return path_; }
  // Appends `line` and a newline. A failed write is counted, never thrown.
  void append(std::string_view line);
  // Opens the path again (after the file was moved away); "" on success, else
  // the reason (the old descriptor is kept then, so nothing is lost).
  std::string reopen();
  std::uint64_t failed_writes() const;

 private:
  const std::string path_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::uint64_t failed_writes_ = 0;
};

}  // namespace kedge
