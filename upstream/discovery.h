#pragma once
// How kedge learns brokers it has not seen pass through: when a client asks
// for a broker kedge has not seen yet (e.g. after a restart, a client
// reconnects straight to broker-<id>), kedge's own Metadata request on a
// discovery connection to one of the bootstrap servers.
#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "upstream/registry.h"

namespace kedge {

// One discovery client per virtual cluster and worker loop; what it learns goes
// into the cluster's registry, shared by every worker. Callers ask for a
// refresh and get called back when it finished (successfully or not);
// concurrent requests share one in-flight Metadata exchange.
class Discovery {
 public:
  using Done = std::function<void(bool ok, std::string detail)>;
  // `upstream_tls` (not owned, may be null) is the backend.tls client context:
  // discovery then speaks TLS exactly like broker connections do.
  // `registry` (the worker's handle on the cluster's shared registry) must outlive this object.
  Discovery(uv_loop_t* loop, std::string cluster_name, BackendConfig backend, BrokerRegistry::Handle& registry,
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
  BrokerRegistry::Handle& registry_;
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
