#include "common/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace kedge {
namespace {

// -1 and the reason, or the descriptor.
int open_for_append(const std::string& path, std::string& error) {
  if (path == "-") return STDOUT_FILENO;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) error = std::strerror(errno);
  return fd;
}

}  // namespace

AuditLog::AuditLog(std::string path) : path_(std::move(path)) {
  std::string error;
  fd_ = open_for_append(path_, error);
  if (fd_ < 0) throw std::runtime_error("cannot open the audit log " + path_ + " for appending: " + error);
}

AuditLog::~AuditLog() {
  if (fd_ >= 0 && fd_ != STDOUT_FILENO) ::close(fd_);
}

void AuditLog::append(std::string_view line) {
  std::vector<char> buffer(line.begin(), line.end());
  buffer.push_back('\n');
  const std::lock_guard<std::mutex> lock(mutex_);
  std::size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n = ::write(fd_, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ++failed_writes_;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string AuditLog::reopen() {
  if (path_ == "-") return {};
  std::string error;
  const int fd = open_for_append(path_, error);
  if (fd < 0) return error;
  const std::lock_guard<std::mutex> lock(mutex_);
  ::close(fd_);
  fd_ = fd;
  return {};
}

std::uint64_t AuditLog::failed_writes() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return failed_writes_;
}

}  // namespace kedge
