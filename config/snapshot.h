#pragma once
// An immutable, validated picture of one configuration generation: the parsed
// config, the host-name mapper and every TLS context built from it.
//
// Built once per (re)load on the control thread and shared read-only by every
// worker loop through std::shared_ptr<const Snapshot>; a connection keeps the
// snapshot (and listener settings) it was routed under, so a reload never
// changes the names or certificates of a connection already running. SSL_CTX
// is safe to share across threads for SSL_new (OpenSSL 3 locking), and sharing
// one context per listener also shares its session-ticket keys, so a client
// resumes its session on whichever worker accepts the next connection. The
// exception to "immutable" is each cluster's BackendState, which is shared, not
// copied, between generations (see below).
#include <cstdint>
#include <memory>
#include <vector>

#include "admin/model.h"
#include "certs/tls_context.h"
#include "config/config.h"
#include "sni/hostname.h"
#include "upstream/registry.h"

namespace kedge {

struct ListenerSettings {
  ListenerConfig config;
  certs::SslCtxPtr default_ctx;  // the listener's certificate (null: plaintext listener)
  certs::SslCtxPtr reject_ctx;   // answers any ClientHello with unrecognized_name
};

// What every worker loop knows about one virtual cluster's backend: the brokers
// learned from any worker's traffic or discovery, and the readiness evidence.
// The one mutable part of a snapshot, thread-safe by itself (upstream/registry.h,
// admin/model.h). Carried from one generation to the next while the cluster
// keeps its name and backend (same_backend), replaced when either changes.
struct BackendState {
  BrokerRegistry registry;
  SharedBackendHealth health;
};

struct ClusterSettings {
  VirtualClusterConfig config;
  certs::SslCtxPtr ctx;           // per-cluster certificate, or null to use the listener's
  certs::SslCtxPtr upstream_ctx;  // backend.tls client context, or null for plaintext brokers
  std::shared_ptr<BackendState> backend_state;  // never null
};

struct Snapshot {
  Config config;
  sni::HostnameMapper mapper;  // cluster indices equal `clusters` indices
  std::vector<std::shared_ptr<const ListenerSettings>> listeners;
  std::vector<std::shared_ptr<const ClusterSettings>> clusters;
  std::uint64_t generation = 0;  // 1 for the startup config, +1 per applied reload
};

// Builds every context and the mapper; throws ConfigError (naming the JSON
// path, e.g. "listeners[0].tls: ...") if a certificate or host name is unusable.
// A cluster of `previous` (the running generation, null at startup) with the
// same name and same_backend hands its BackendState on; every other cluster
// starts with an empty one.
std::shared_ptr<const Snapshot> build_snapshot(Config config, std::uint64_t generation,
                                               const Snapshot* previous = nullptr);

// True if two backends are the same (a connection on one may continue on the other).
bool same_backend(const BackendConfig& a, const BackendConfig& b);
// True if two listener configs bind the same port-routing pool (or neither has one).
bool same_sockets(const ListenerConfig& a, const ListenerConfig& b);
// True if two listener configs route the same way (same pool, cluster and advertised host).
bool same_routing(const ListenerConfig& a, const ListenerConfig& b);

}  // namespace kedge
