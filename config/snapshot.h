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
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "admin/model.h"
#include "certs/client_ca.h"
#include "certs/tls_context.h"
#include "common/audit_log.h"
#include "config/config.h"
#include "identity/attempt_limiter.h"
#include "identity/jwks.h"
#include "identity/oauthbearer.h"
#include "identity/principal_binding.h"
#include "identity/principal_mapping.h"
#include "identity/users_file.h"
#include "policy/topic_ids.h"
#include "sni/hostname.h"
#include "upstream/registry.h"

namespace kedge {

// The compiled authentication of one (listener, virtual cluster) pair whose
// effective mode is terminate (effective_authentication): what the data path
// needs to authenticate a client and bind its principal. Immutable; shared by
// every worker and by every pair with the same source (a cluster's own
// "authentication" is one object on every listener). A file named by several
// pairs is loaded once per generation and its object shared.
struct ClientAuthentication {
  AuthenticationConfig config;
  std::string config_path;  // where `config` is set: "virtual_clusters[1].authentication" or "listeners[0]..."
  std::shared_ptr<const identity::UserStore> users;  // null unless sasl.users_file
  std::shared_ptr<const identity::KeySet> jwks;      // null unless OAUTHBEARER is offered
  // What identity::OAuthBearerServer takes: `jwks` plus the token policy
  // (issuer, audiences, clock skew, principal claim). Null unless OAUTHBEARER.
  std::shared_ptr<const identity::OAuthBearerSettings> oauthbearer;
  // The principal of a verified client certificate (mtls.principal and
  // principal_rules). Null unless mtls.
  std::shared_ptr<const identity::CertificatePrincipalMapper> certificate_principal;
  // mtls: the CA bundle and CRLs client certificates are verified against
  // (certs/client_ca.h), set per connection on its TLS session
  // (gateway/client_certificate.h). Null unless mtls.
  std::shared_ptr<const certs::ClientCa> client_ca;
  // mtls: the TLS session-id context of the sessions this authentication
  // verified (SHA-256 of the generation, `config_path` and the cluster): a
  // session resumes only where the same authentication of the same cluster
  // and generation applies, never on another virtual cluster or after a
  // reload (a new CA, CRL or principals).
  std::array<unsigned char, 32> session_id_context{};
  identity::PrincipalBinding binding;  // from the cluster's principals
};

struct ListenerSettings {
  ListenerConfig config;
  certs::SslCtxPtr default_ctx;  // the listener's certificate (null: plaintext listener)
  certs::SslCtxPtr reject_ctx;   // answers any ClientHello with unrecognized_name
  // Indexed like Snapshot::clusters: the authentication of that cluster's
  // clients on this listener, or null for passthrough (and for a cluster this
  // listener cannot route to, routes_to).
  std::vector<std::shared_ptr<const ClientAuthentication>> authentication;
};

// What every worker loop knows about one virtual cluster's backend: the brokers
// learned from any worker's traffic or discovery, and the readiness evidence.
// The one mutable part of a snapshot, thread-safe by itself (upstream/registry.h,
// admin/model.h). Carried from one generation to the next while the cluster
// keeps its name and backend (same_backend), replaced when either changes.
struct BackendState {
  BrokerRegistry registry;
  SharedBackendHealth health;
  // What each client of the cluster owes its quotas (policy/quota.h): kept
  // with the backend across reloads, so a reload does not forgive a debt.
  policy::QuotaBook quotas;
  policy::ConnectionBook connections;  // open and new connections per client address
  // Topic ids the backend's Metadata named, for ACLs on Fetch v13+ / Produce v13 (policy/topic_ids.h).
  policy::TopicIdBook topic_ids;
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
  // Failed authentications per client address (limits.authentication_failures),
  // shared by every worker. Never null. Mutable by design (thread-safe by
  // itself): carried from one generation to the next while the policy stays
  // the same, so a reload does not forgive an attacker's failures.
  std::shared_ptr<identity::AttemptLimiter> attempt_limiter;
  // The audit log (config.audit), or null. Carried from one generation to the
  // next while its path stays the same, and reopened then (rotation).
  std::shared_ptr<AuditLog> audit_log;
  std::uint64_t generation = 0;  // 1 for the startup config, +1 per applied reload
};

// The limiter policy of limits.authentication_failures.
identity::AttemptLimiterPolicy attempt_limiter_policy(const Limits::AuthenticationFailures& limits);

// The authentication of every (listener, cluster) pair, [listener][cluster],
// as build_snapshot puts it in ListenerSettings::authentication. Reads the
// users and JWKS files and the client CA bundles and CRLs (each once); throws
// ConfigError naming the JSON path
// ("virtual_clusters[0].authentication.sasl.users_file: ..."). `kedge validate`
// calls it to check those files as `kedge run` would. `generation` goes into
// the mTLS session-id contexts.
std::vector<std::vector<std::shared_ptr<const ClientAuthentication>>> compile_client_authentication(
    const Config& config, std::uint64_t generation = 0);

// Builds every context, the mapper and the client authentication; throws
// ConfigError (naming the JSON path, e.g. "listeners[0].tls: ...") if a
// certificate, users file, JWKS file, client CA bundle, CRL or host name is
// unusable.
// A cluster of `previous` (the running generation, null at startup) with the
// same name and same_backend hands its BackendState on; every other cluster
// starts with an empty one. The attempt limiter of `previous` is handed on
// when limits.authentication_failures is unchanged.
std::shared_ptr<const Snapshot> build_snapshot(Config config, std::uint64_t generation,
                                               const Snapshot* previous = nullptr);

// True if two backends are the same (a connection on one may continue on the other).
bool same_backend(const BackendConfig& a, const BackendConfig& b);
// True if two listener configs bind the same port-routing pool (or neither has one).
bool same_sockets(const ListenerConfig& a, const ListenerConfig& b);
// True if two listener configs route the same way (same pool, cluster and advertised host).
bool same_routing(const ListenerConfig& a, const ListenerConfig& b);

}  // namespace kedge
