#pragma once
// Broker host names to socket addresses: asynchronous resolution on libuv's
// thread pool, IP literals without a round trip, and a per-loop cache.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"

namespace kedge {

// Resolves a HostPort to socket addresses with uv_getaddrinfo (on libuv's
// thread pool). `done` runs exactly once, on the loop thread, never
// synchronously inside resolve() (style practice 13).
using ResolveDone = std::function<void(int status, std::vector<sockaddr_storage> addresses)>;
void resolve(uv_loop_t* loop, const HostPort& target, ResolveDone done);

// The socket address of an IPv4 or IPv6 literal host; nullopt for a name.
std::optional<sockaddr_storage> numeric_address(const HostPort& target);

// Addresses of broker host names, reused by a worker loop's new broker
// connections for `ttl_ms` (limits.resolve_cache_ms). Without it every
// connection pays a getaddrinfo: a thread-pool round trip, a netlink query for
// AI_ADDRCONFIG and, for names not in /etc/hosts, a DNS exchange before the
// connect even starts. Loop-thread only; bounded to kMaxEntries names.
class ResolveCache {
 public:
  static constexpr std::size_t kMaxEntries = 4096;
  explicit ResolveCache(std::uint32_t ttl_ms) : ttl_ms_(ttl_ms) {}
  std::optional<sockaddr_storage> find(const HostPort& target, std::uint64_t now_ms);
  void store(const HostPort& target, const sockaddr_storage& address, std::uint64_t now_ms);
  // A connect to the cached address failed: the next connection resolves again.
  void forget(const HostPort& target);
  void set_ttl(std::uint32_t ttl_ms);

 private:
  struct Entry {
    sockaddr_storage address;
    std::uint64_t expires_ms;
  };
  std::uint32_t ttl_ms_;
  std::unordered_map<std::string, Entry> entries_;  // key: HostPort::to_string()
};

}  // namespace kedge
