#pragma once
// What kedge knows about one virtual cluster's backend brokers, and how it
// learns more.
//
// Broker addresses are learned from every address-bearing response that passes
// through (Metadata, FindCoordinator, DescribeCluster, NodeEndpoints) and, when
// a client asks for a broker kedge has not seen yet (e.g. after a restart, a
// client reconnects straight to broker-<id>), from kedge's own Metadata request
// on a discovery connection to one of the bootstrap servers.
#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/config.h"

namespace kedge {

// Where an address was learned: the response (api key, version) it passed
// through, or api_key -1 for kedge's own discovery request. Plain integers so
// that learning costs no formatting on the response path.
struct LearnedFrom {
  std::int16_t api_key = -1;
  std::int16_t api_version = -1;
};
std::string describe(LearnedFrom source);  // "Metadata v12 response", "discovery"

struct KnownBroker {
  HostPort address;
  LearnedFrom learned_from;
  std::uint64_t learned_at_ms = 0;  // uv_now of the loop
};

class BrokerRegistry {
 public:
  // Records (or refreshes) the real address of `node_id`. Returns true if it changed.
  bool learn(std::int32_t node_id, std::string_view host, std::int32_t port, LearnedFrom source,
             std::uint64_t now_ms);
  std::optional<HostPort> find(std::int32_t node_id) const;
  std::string known_ids() const;  // "1, 2, 3" for log lines
  const std::map<std::int32_t, KnownBroker>& brokers() const { return brokers_; }

 private:
  std::map<std::int32_t, KnownBroker> brokers_;
};

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

// One discovery client per virtual cluster. Callers ask for a refresh and get
// called back when it finished (successfully or not); concurrent requests
// share one in-flight Metadata exchange.
class Discovery {
 public:
  using Done = std::function<void(bool ok, std::string detail)>;
  // `upstream_tls` (not owned, may be null) is the backend.tls client context:
  // discovery then speaks TLS exactly like broker connections do.
  Discovery(uv_loop_t* loop, std::string cluster_name, BackendConfig backend, BrokerRegistry& registry,
            std::uint32_t max_frame_bytes, std::uint32_t timeout_ms, SSL_CTX* upstream_tls = nullptr);
  ~Discovery();
  Discovery(const Discovery&) = delete;
  Discovery& operator=(const Discovery&) = delete;

  void refresh(Done done);
  // Replaces backend.discovery.sasl (a reload); the next attempt uses it.
  void set_credentials(std::optional<SaslCredentials> credentials);
  // Fails pending callers and abandons the in-flight attempt (shutdown).
  void cancel();

 private:
  struct Attempt;
  void start_attempt();
  void finish_attempt(Attempt* attempt, bool ok, std::string detail);

  uv_loop_t* loop_;
  std::string cluster_name_;
  BackendConfig backend_;
  BrokerRegistry& registry_;
  std::uint32_t max_frame_bytes_;
  std::uint32_t timeout_ms_;
  SSL_CTX* upstream_tls_ = nullptr;
  std::vector<Done> waiters_;
  Attempt* attempt_ = nullptr;
  std::size_t next_server_ = 0;
  std::size_t tries_left_ = 0;
  std::int32_t next_correlation_id_ = 1;
  std::string last_error_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kedge
