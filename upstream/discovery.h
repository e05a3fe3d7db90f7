#pragma once
// How kedge learns brokers it has not seen pass through: when a client asks
// for a broker kedge has not seen yet (e.g. after a restart, a client
// reconnects straight to broker-<id>), and for the readiness probe, kedge's
// own Metadata request to one of the bootstrap servers, over an
// upstream::KafkaClient (kafka_client.h): ApiVersions first, then Metadata at
// the highest version both sides support, so every broker the data path
// serves answers it (librdkafka 2.0.2's mock offers Metadata v0..v2 only).
#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "certs/tls_context.h"
#include "config/config.h"
#include "io/stream_socket.h"
#include "upstream/registry.h"
#include "upstream/resolve.h"

namespace kedge {

namespace upstream {
class KafkaClient;
struct KafkaClientError;
}  // namespace upstream

// One discovery client per virtual cluster and worker loop; what it learns goes
// into the cluster's registry, shared by every worker. Callers ask for a
// refresh and get called back when it finished (successfully or not);
// concurrent requests share one in-flight exchange, which tries each bootstrap
// server once, in turn, each bounded by `timeout_ms` (connect, TLS, SASL and
// Metadata together). Loop thread only.
class Discovery {
 public:
  using Done = std::function<void(bool ok, std::string detail)>;
  // `scratch` and `cache` (may be null) are the loop's; `registry` (the
  // worker's handle on the cluster's shared registry); all three outlive this
  // object. `upstream_tls` (may be null) is the backend.tls client context:
  // discovery then speaks TLS exactly like broker connections do. Discovery
  // takes a reference of its own on it (SSL_CTX_up_ref), so the snapshot that
  // built it may be freed first (a reload keeps this object).
  Discovery(uv_loop_t* loop, io::LoopScratch& scratch, ResolveCache* cache, std::string cluster_name,
            BackendConfig backend, BrokerRegistry::Handle& registry, std::uint32_t max_frame_bytes,
            std::uint32_t timeout_ms, SSL_CTX* upstream_tls = nullptr);
  // An exchange in flight is abandoned without calling its waiters (see cancel()).
  ~Discovery();
  Discovery(const Discovery&) = delete;
  Discovery& operator=(const Discovery&) = delete;

  void refresh(Done done);
  // Replaces backend.discovery.sasl (a reload); the next attempt uses it.
  void set_credentials(std::optional<SaslCredentials> credentials);
  // Replaces the backend.tls client context (a reload built it again from the
  // same files); the next attempt uses it. Takes its own reference, as above.
  void set_upstream_tls(SSL_CTX* upstream_tls);
  // Fails pending callers and abandons the in-flight attempt (shutdown).
  void cancel();

 private:
  void start_attempt();
  void on_ready();
  void finish_attempt(bool ok, std::string detail);

  uv_loop_t* loop_;
  io::LoopScratch& scratch_;
  ResolveCache* cache_;
  std::string cluster_name_;
  BackendConfig backend_;
  BrokerRegistry::Handle& registry_;
  std::uint32_t max_frame_bytes_;
  std::uint32_t timeout_ms_;
  certs::SslCtxPtr upstream_tls_;
  std::vector<Done> waiters_;
  std::unique_ptr<upstream::KafkaClient> client_;  // the attempt in flight
  HostPort server_;                                // the bootstrap server it asks
  std::size_t next_server_ = 0;
  std::size_t tries_left_ = 0;
  std::string last_error_;
};

}  // namespace kedge
