#pragma once
// Gateway counters, named once (style practice 20): the X-macros generate the
// enums and the label values that gateway/metrics.cpp exposes. Touched only on
// the loop thread, as plain integers in arrays indexed by listener, virtual
// cluster and API key: no maps, no formatting on the data path. One LoopStats
// per event loop; `merge` sums them when worker loops arrive.
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/api.h"
#include "policy/policy.h"

namespace kedge {

// Why a connection pair ended. Feeds the access log and the counters.
#define KEDGE_DISCONNECT_CAUSES(X)                                              \
  X(client_closed, "client closed the connection")                              \
  X(upstream_closed, "broker closed the connection")                            \
  X(client_error, "client socket error")                                        \
  X(upstream_error, "broker socket error")                                      \
  X(hello_timeout, "no complete TLS ClientHello/handshake before the deadline") \
  X(not_tls, "first bytes are not a TLS handshake")                             \
  X(malformed_hello, "malformed TLS ClientHello")                               \
  X(no_sni, "TLS ClientHello without server_name")                              \
  X(unknown_sni, "server_name matches no virtual cluster")                      \
  X(tls_handshake_failed, "TLS handshake failed")                               \
  X(unknown_broker, "broker id not known to the backend")                       \
  X(upstream_connect_failed, "could not connect to the backend")                \
  X(upstream_tls_failed, "TLS handshake with the backend failed")               \
  X(node_id_out_of_range, "broker id outside the listener's port pool")         \
  X(frame_error, "Kafka framing or protocol error")                             \
  X(config_changed, "a reload removed or changed its virtual cluster or listener") \
  X(proxy_header_missing, "listener requires a PROXY header, none was sent")    \
  X(proxy_header_malformed, "malformed PROXY protocol header")                  \
  X(authentication_failed, "kedge refused the client's authentication")         \
  X(authentication_required, "a request other than ApiVersions/SASL before authenticating") \
  X(session_expired, "the SASL session ended without re-authentication (KIP-368)") \
  X(user_removed, "the user was removed from the users file (close_removed_users)") \
  X(upstream_authentication_failed, "kedge's service credentials were refused by the broker") \
  X(client_certificate_refused, "client certificate missing, invalid or without a principal (mTLS)") \
  X(principal_not_bound, "the client's principal is not bound to the virtual cluster") \
  X(policy_refused, "the virtual cluster's policy refused a request kedge cannot answer (an API it hides, Produce acks=0)") \
  X(connection_quota, "the client address is over the virtual cluster's connection count or rate quota") \
  X(shutdown, "kedge is shutting down")

enum class DisconnectCause : std::uint8_t {
#define KEDGE_X(name, text) name,
  KEDGE_DISCONNECT_CAUSES(KEDGE_X)
#undef KEDGE_X
};
inline constexpr std::size_t kDisconnectCauseCount = 0
#define KEDGE_X(name, text) +1
    KEDGE_DISCONNECT_CAUSES(KEDGE_X)
#undef KEDGE_X
    ;

constexpr std::string_view label(DisconnectCause cause) {
  switch (cause) {
#define KEDGE_X(name, text) case DisconnectCause::name: return #name;
    KEDGE_DISCONNECT_CAUSES(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}
constexpr std::string_view describe(DisconnectCause cause) {
  switch (cause) {
#define KEDGE_X(name, text) case DisconnectCause::name: return text;
    KEDGE_DISCONNECT_CAUSES(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}

// Authentications kedge terminates (authentication mode "terminate"), per
// virtual cluster, by mechanism and outcome: bounded label sets. An unknown
// user and a wrong password share invalid_credentials on purpose (metrics are
// seen by more people than logs; a split would tell which names exist).
#define KEDGE_AUTH_MECHANISMS(X)          \
  X(none, "none") /* before a mechanism was chosen */ \
  X(plain, "PLAIN")                       \
  X(scram_sha_256, "SCRAM-SHA-256")       \
  X(scram_sha_512, "SCRAM-SHA-512")       \
  X(oauthbearer, "OAUTHBEARER")           \
  X(mtls, "mTLS")
#define KEDGE_AUTH_OUTCOMES(X)                                                                           \
  X(authenticated, "authenticated")                                                                      \
  X(invalid_credentials, "invalid_credentials")       /* unknown user or wrong password (one label) */ \
  X(invalid_token, "invalid_token")                   /* OAUTHBEARER token refused */                  \
  X(malformed, "malformed")                           /* a SASL message that does not parse */        \
  X(mechanism_not_enabled, "mechanism_not_enabled")                                                      \
  X(illegal_state, "illegal_state")                   /* a request out of order, SaslHandshake v0 */   \
  X(principal_not_bound, "principal_not_bound")       /* authenticated, but not on this cluster */     \
  X(principal_changed, "principal_changed")           /* re-authentication proved another principal */ \
  X(rate_limited, "rate_limited")                     /* too many failures from the client's address */\
  X(internal, "internal")

enum class AuthMechanism : std::uint8_t {
#define KEDGE_X(id, text) id,
  KEDGE_AUTH_MECHANISMS(KEDGE_X)
#undef KEDGE_X
};
enum class AuthOutcome : std::uint8_t {
#define KEDGE_X(id, text) id,
  KEDGE_AUTH_OUTCOMES(KEDGE_X)
#undef KEDGE_X
};
inline constexpr std::size_t kAuthMechanismCount = 0
#define KEDGE_X(id, text) +1
    KEDGE_AUTH_MECHANISMS(KEDGE_X)
#undef KEDGE_X
    ;
inline constexpr std::size_t kAuthOutcomeCount = 0
#define KEDGE_X(id, text) +1
    KEDGE_AUTH_OUTCOMES(KEDGE_X)
#undef KEDGE_X
    ;
constexpr std::string_view label(AuthMechanism mechanism) {
  switch (mechanism) {
#define KEDGE_X(id, text) case AuthMechanism::id: return text;
    KEDGE_AUTH_MECHANISMS(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}
constexpr std::string_view label(AuthOutcome outcome) {
  switch (outcome) {
#define KEDGE_X(id, text) case AuthOutcome::id: return text;
    KEDGE_AUTH_OUTCOMES(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}

// Why a TLS handshake failed (OpenSSL's first error, classified).
#define KEDGE_TLS_FAILURE_REASONS(X)                                 \
  X(no_shared_cipher, "no cipher suite in common")                   \
  X(unsupported_protocol, "TLS version not offered or not allowed")  \
  X(peer_alert, "the client sent an alert (e.g. unknown CA)")        \
  X(timeout, "handshake not finished before the deadline")           \
  X(client_certificate, "mTLS refused the client's certificate or principal (see kedge_client_certificate_refusals_total)") \
  X(other, "any other handshake error")

enum class TlsFailure : std::uint8_t {
#define KEDGE_X(name, text) name,
  KEDGE_TLS_FAILURE_REASONS(KEDGE_X)
#undef KEDGE_X
};
inline constexpr std::size_t kTlsFailureCount = 0
#define KEDGE_X(name, text) +1
    KEDGE_TLS_FAILURE_REASONS(KEDGE_X)
#undef KEDGE_X
    ;
constexpr std::string_view label(TlsFailure reason) {
  switch (reason) {
#define KEDGE_X(name, text) case TlsFailure::name: return #name;
    KEDGE_TLS_FAILURE_REASONS(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}

// Why kedge refused a client certificate (mTLS, docs/identity.md). Counted per
// virtual cluster; OpenSSL's verification error decides the first seven.
#define KEDGE_CLIENT_CERTIFICATE_REFUSALS(X)                                                      \
  X(missing, "no certificate, and the virtual cluster requires one")                            \
  X(unknown_ca, "does not chain to a CA of the CA bundle")                                      \
  X(expired, "expired")                                                                         \
  X(not_yet_valid, "not valid yet")                                                             \
  X(revoked, "revoked by a CRL of the CRL file")                                                \
  X(crl_unusable, "a CRL needed to check the chain is missing, stale or not valid yet")         \
  X(bad_certificate, "any other verification failure (signature, key usage, extensions, depth)") \
  X(no_principal, "the configured principal source yields no valid principal")                  \
  X(not_bound, "the principal is not bound to the virtual cluster")

enum class ClientCertificateRefusal : std::uint8_t {
#define KEDGE_X(name, text) name,
  KEDGE_CLIENT_CERTIFICATE_REFUSALS(KEDGE_X)
#undef KEDGE_X
};
inline constexpr std::size_t kClientCertificateRefusalCount = 0
#define KEDGE_X(name, text) +1
    KEDGE_CLIENT_CERTIFICATE_REFUSALS(KEDGE_X)
#undef KEDGE_X
    ;
constexpr std::string_view label(ClientCertificateRefusal reason) {
  switch (reason) {
#define KEDGE_X(name, text) case ClientCertificateRefusal::name: return #name;
    KEDGE_CLIENT_CERTIFICATE_REFUSALS(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}
constexpr std::string_view describe(ClientCertificateRefusal reason) {
  switch (reason) {
#define KEDGE_X(name, text) case ClientCertificateRefusal::name: return text;
    KEDGE_CLIENT_CERTIFICATE_REFUSALS(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}

// What the first bytes of a connection on a PROXY-protocol listener were.
#define KEDGE_PROXY_OUTCOMES(X) X(v1) X(v2) X(absent) X(malformed)
enum class ProxyOutcome : std::uint8_t {
#define KEDGE_X(name) name,
  KEDGE_PROXY_OUTCOMES(KEDGE_X)
#undef KEDGE_X
};
inline constexpr std::size_t kProxyOutcomeCount = 4;
constexpr std::string_view label(ProxyOutcome outcome) {
  switch (outcome) {
#define KEDGE_X(name) case ProxyOutcome::name: return #name;
    KEDGE_PROXY_OUTCOMES(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}

// Every Kafka API key of kafka_codec/api.h gets its own slot; any other key
// (a newer broker's) shares the last slot, "other".
inline constexpr std::size_t kApiSlots = kafka::kApiKeyCount + 1;
inline constexpr std::size_t kOtherApiSlot = kApiSlots - 1;
constexpr std::size_t api_slot(std::int16_t api_key) {
  return api_key >= 0 && static_cast<std::size_t>(api_key) < kOtherApiSlot ? static_cast<std::size_t>(api_key)
                                                                            : kOtherApiSlot;
}
constexpr std::string_view api_label(std::size_t slot) {
  return slot < kOtherApiSlot ? kafka::api_name(static_cast<std::int16_t>(slot)) : std::string_view("other");
}

// A Prometheus histogram with fixed upper bounds in microseconds:
// 0.5 ms .. 10 s. Counts are per bucket (not cumulative); exposition sums them.
inline constexpr std::array<std::uint64_t, 14> kLatencyBoundsUs = {
    500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000,
    1'000'000, 2'500'000, 5'000'000, 10'000'000};
struct Histogram {
  std::array<std::uint64_t, kLatencyBoundsUs.size() + 1> buckets{};  // last: above every bound (+Inf)
  std::uint64_t count = 0;
  std::uint64_t sum_us = 0;
  void observe(std::uint64_t micros) {
    std::size_t i = 0;
    while (i < kLatencyBoundsUs.size() && micros > kLatencyBoundsUs[i]) ++i;
    ++buckets[i];
    ++count;
    sum_us += micros;
  }
  void merge(const Histogram& other) {
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
    count += other.count;
    sum_us += other.sum_us;
  }
};

struct ListenerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_active = 0;
  std::array<std::uint64_t, kDisconnectCauseCount> closed_by_cause{};
  std::array<std::uint64_t, kTlsFailureCount> tls_handshake_failures{};
  std::uint64_t sni_missing = 0;       // ClientHello without server_name
  std::uint64_t sni_unrecognized = 0;  // server_name matches no virtual cluster
  std::array<std::uint64_t, kProxyOutcomeCount> proxy_headers{};
};

// The quota a throttle comes from (a metric label).
enum class QuotaKind : std::uint8_t { produce_bytes, fetch_bytes, requests };
inline constexpr std::size_t kQuotaKindCount = 3;
constexpr std::string_view label(QuotaKind kind) {
  switch (kind) {
    case QuotaKind::produce_bytes: return "produce_bytes";
    case QuotaKind::fetch_bytes: return "fetch_bytes";
    case QuotaKind::requests: return "requests";
  }
  return "requests";
}

// What a WebSocket message asked for (a metric label, docs/http.md).
#define KEDGE_WS_COMMANDS(X) \
  X(ping, "ping")            \
  X(list_offset, "list_offset") \
  X(fetch, "fetch")          \
  X(subscribe, "subscribe")  \
  X(unsubscribe, "unsubscribe") \
  X(produce, "produce")      \
  X(invalid, "invalid") /* a message kedge could not read as a command */
enum class WsCommand : std::uint8_t {
#define KEDGE_X(id, text) id,
  KEDGE_WS_COMMANDS(KEDGE_X)
#undef KEDGE_X
};
inline constexpr std::size_t kWsCommandCount = 0
#define KEDGE_X(id, text) +1
    KEDGE_WS_COMMANDS(KEDGE_X)
#undef KEDGE_X
    ;
constexpr std::string_view label(WsCommand command) {
  switch (command) {
#define KEDGE_X(id, text) case WsCommand::id: return text;
    KEDGE_WS_COMMANDS(KEDGE_X)
#undef KEDGE_X
  }
  return "invalid";
}

// The HTTP/WebSocket front of one virtual cluster (docs/http.md).
struct HttpStats {
  std::array<std::uint64_t, 5> responses_by_class{};  // HTTP answers by status class: [0] 1xx (101) .. [4] 5xx
  std::uint64_t websockets_opened = 0;
  std::uint64_t websockets_active = 0;
  std::uint64_t subscriptions_active = 0;               // partitions streamed to WebSocket clients
  std::array<std::uint64_t, kWsCommandCount> commands{};       // WebSocket commands received
  std::array<std::uint64_t, kWsCommandCount> command_errors{};  // ... answered with an error
  std::uint64_t records_sent = 0;      // records delivered to HTTP clients (fetch, subscribe, REST reads)
  std::uint64_t records_produced = 0;  // records written for HTTP clients (REST and WebSocket produce)
};

struct ApiStats {
  std::uint64_t requests = 0;            // every request, acks=0 Produce included
  std::uint64_t responses = 0;           // responses forwarded to the client
  std::uint64_t endpoints_rewritten = 0; // broker endpoints rewritten in its responses
  Histogram latency;                     // request header read -> response handed to TLS
  // Requests the virtual cluster's policy refused, by policy::Refusal.
  std::array<std::uint64_t, policy::kRefusalCount> refused{};
  // Of the resource_denied ones, requests split: the allowed topics forwarded,
  // the refused ones answered by kedge (kafka_codec/split.h).
  std::uint64_t split = 0;
};

struct ClusterStats {
  std::uint64_t connections_active = 0;  // routed to this virtual cluster, not yet closed
  std::uint64_t bytes_from_clients = 0;  // plaintext Kafka bytes
  std::uint64_t bytes_to_clients = 0;
  std::uint64_t responses_rewritten = 0;  // responses whose bytes changed (any API)
  // Streamed Fetch responses whose NodeEndpoints kedge removed because kedge's
  // names did not fit the announced size (clients fall back to Metadata).
  std::uint64_t node_endpoints_removed = 0;
  std::uint64_t upstream_connects = 0;
  std::uint64_t upstream_connect_failures = 0;
  Histogram upstream_connect_latency;
  std::uint64_t request_frame_errors = 0;
  std::uint64_t response_frame_errors = 0;
  std::uint64_t discovery_requests = 0;
  // mTLS refusals by reason; accepted certificates, and every refusal once
  // more, are counted in `authentications` under mechanism mtls.
  std::array<std::uint64_t, kClientCertificateRefusalCount> client_certificate_refusals{};
  std::array<ApiStats, kApiSlots> apis{};
  // Quotas (policy/quota.h): requests whose client had to wait, and the waits
  // their responses carried (ThrottleTimeMs), by QuotaKind.
  std::array<std::uint64_t, kQuotaKindCount> throttled_requests{};
  std::array<std::uint64_t, kQuotaKindCount> throttle_ms{};
  // Open connections per principal kedge authenticated (SASL or mTLS), for
  // /v1/state. Bounded by the open connections; not a metric label.
  std::map<std::string, std::uint64_t, std::less<>> connections_by_principal;
  // [mechanism][outcome] of the authentications kedge terminated.
  std::array<std::array<std::uint64_t, kAuthOutcomeCount>, kAuthMechanismCount> authentications{};
  HttpStats http;
};

struct LoopStats {
  std::vector<ListenerStats> listeners;  // by listener index
  std::vector<ClusterStats> clusters;    // by virtual cluster index
  std::uint64_t reloads_succeeded = 0;   // set by the Supervisor (reloads are process-wide, not per loop)
  std::uint64_t reloads_failed = 0;

  LoopStats() = default;
  LoopStats(std::size_t listener_count, std::size_t cluster_count)
      : listeners(listener_count), clusters(cluster_count) {}
  // Adds `other` (another loop's counters for the same configuration).
  void merge(const LoopStats& other);
};

// One worker loop's counters, keyed by listener / virtual cluster name so they
// survive reloads that add, remove or reorder entries. std::map nodes never
// move, so connections keep plain pointers to their listener's and cluster's
// counters. Written only on the worker's loop thread; read by collect() on
// that same thread (the admin API asks each worker for a copy).
struct WorkerStats {
  std::map<std::string, ListenerStats, std::less<>> listeners;
  std::map<std::string, ClusterStats, std::less<>> clusters;
  ListenerStats& listener(const std::string& name) { return listeners[name]; }
  ClusterStats& cluster(const std::string& name) { return clusters[name]; }
  // The counters of the named listeners and clusters, in that order (zeros
  // for names this loop has not counted anything for yet).
  LoopStats aligned(const std::vector<std::string>& listener_names,
                    const std::vector<std::string>& cluster_names) const;
};

}  // namespace kedge
