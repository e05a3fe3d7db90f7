#pragma once
// kedge configuration: the JSON file is the user contract (README,
// "Configuration reference"). Loading validates everything up front and throws
// ConfigError naming the JSON path, e.g.
//   virtual_clusters[1].backend.bootstrap_servers[0]: "10.0.1.5" is not host:port
// Nothing here runs on the data path.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/strict_json.h"
#include "kafka_codec/rename.h"
#include "policy/policy.h"
#include "policy/quota.h"
#include "sni/hostname.h"

namespace kedge {

// A configuration kedge cannot use: the FileError of common/strict_json.h, so
// a file the configuration refers to (users file, JWKS) fails the same way.
using ConfigError = FileError;

struct HostPort {
  std::string host;  // IPv6 literals without brackets
  std::uint16_t port = 0;
  std::string to_string() const;  // brackets IPv6 literals
  bool operator==(const HostPort&) const = default;
};

struct TlsFiles {
  std::filesystem::path cert;  // PEM chain, resolved against the config's folder
  std::filesystem::path key;   // PEM private key
  bool operator==(const TlsFiles&) const = default;
};

// --- Client identity (docs/identity.md) ---------------------------------------
// "authentication" on a listener (the default of the clusters it serves) or on
// a virtual cluster (which overrides it). Passthrough, the default, leaves SASL
// to the brokers; terminate makes kedge authenticate clients itself (SASL and/or
// mTLS), bind the principal to the cluster's `principals`, and connect upstream
// with the cluster's service credentials.
enum class AuthenticationMode { passthrough, terminate };
std::string_view to_string(AuthenticationMode mode);  // "passthrough" / "terminate"

// SASL mechanisms kedge can terminate (what SaslHandshake offers).
enum class TerminatedMechanism { plain, scram_sha_256, scram_sha_512, oauthbearer };
std::string_view to_string(TerminatedMechanism mechanism);  // "PLAIN", ..., "OAUTHBEARER"

struct OAuthBearerConfig {
  std::filesystem::path jwks_file;       // JWKS (RFC 7517): the keys tokens are signed with; reloaded on change
  std::optional<std::string> issuer;     // required "iss" when set
  std::vector<std::string> audiences;    // "aud" must name one of them when not empty
  std::uint32_t clock_skew_s = 30;       // tolerance on exp / nbf / iat
  std::string principal_claim = "sub";   // the claim that names the principal
  bool operator==(const OAuthBearerConfig&) const = default;
};

struct SaslTerminationConfig {
  std::vector<TerminatedMechanism> mechanisms;      // offered in this order; at least one
  std::optional<std::filesystem::path> users_file;  // PLAIN / SCRAM credentials (kedge users); reloaded on change
  std::optional<OAuthBearerConfig> oauthbearer;     // required exactly when OAUTHBEARER is offered
  // KIP-368: the session lifetime returned in SaslAuthenticate; a connection
  // that has not re-authenticated when it ends is closed. 0: no limit.
  std::uint64_t session_lifetime_ms = 0;
  bool offers(TerminatedMechanism mechanism) const;
  // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 is offered: they need the users file.
  bool offers_password_mechanism() const;
  bool operator==(const SaslTerminationConfig&) const = default;
};

enum class ClientCertificates { required, optional };
std::string_view to_string(ClientCertificates mode);  // "required" / "optional"
// Where an mTLS principal comes from (identity/principal_mapping.h).
enum class CertificatePrincipalSource { subject_cn, san_dns, san_uri, san_email, rules };
std::string_view to_string(CertificatePrincipalSource source);  // "subject_cn", ..., "rules"

struct MtlsConfig {
  ClientCertificates client_certificates = ClientCertificates::required;
  std::filesystem::path ca_file;                   // the CAs client certificates must chain to; reloaded on change
  std::optional<std::filesystem::path> crl_file;   // revoked client certificates (PEM CRLs); reloaded on change
  CertificatePrincipalSource principal = CertificatePrincipalSource::subject_cn;
  std::vector<std::string> principal_rules;        // source `rules`: Kafka's ssl.principal.mapping.rules entries
  bool operator==(const MtlsConfig&) const = default;
};

struct AuthenticationConfig {
  AuthenticationMode mode = AuthenticationMode::passthrough;
  std::optional<SaslTerminationConfig> sasl;  // terminate: SASL (the principal comes from SASL when set)
  std::optional<MtlsConfig> mtls;             // terminate: client certificates (the principal, without SASL)
  // A user removed from the users file: its connections close at once (true)
  // or at their next re-authentication (false, the default).
  bool close_removed_users = false;
  bool operator==(const AuthenticationConfig&) const = default;
};

// PROXY protocol (HAProxy spec v1/v2) in front of the ClientHello.
enum class ProxyProtocolMode {
  off,       // bytes start with the ClientHello
  optional,  // a header is used when its signature is present
  required,  // a connection without a valid header is refused
};
std::string_view to_string(ProxyProtocolMode mode);

// Port-per-broker routing (docs/routing.md): the listener's bind port is the
// bootstrap port of one virtual cluster and broker N is served, and
// advertised, on broker_port_base + N for 0 <= N <= max_node_id.
struct PortRouting {
  std::string virtual_cluster;        // name, as written in the config
  std::size_t cluster_index = 0;      // index into Config::virtual_clusters
  std::string advertised_host;        // host name written into rewritten responses
  std::uint16_t broker_port_base = 0;
  std::int32_t max_node_id = 0;       // broker_port_base + max_node_id <= 65535
};

struct ListenerConfig {
  std::string name;
  HostPort bind;
  std::uint16_t advertised_port = 0;  // defaults to bind.port (SNI listeners only)
  std::optional<TlsFiles> tls;        // the listener's default certificate; absent = plaintext (port mode only)
  std::optional<PortRouting> port_routing;  // absent = SNI routing
  ProxyProtocolMode proxy_protocol = ProxyProtocolMode::off;
  std::optional<AuthenticationConfig> authentication;  // the default of the clusters it serves
  // "http": {"enabled"}: whether the listener serves the HTTP/WebSocket front
  // of its virtual clusters (HttpFrontConfig) beside Kafka. The front is chosen
  // from the TLS ClientHello (SNI name or ALPN), so it exists on SNI-routed
  // listeners only: true by default there, always false on a port-routed
  // listener (setting it true there is a configuration error).
  bool http_enabled = true;
};

// The port of broker `node_id` on a port-routed listener, or nullopt when the
// id lies outside [0, max_node_id] (it then has no port: never guess one).
std::optional<std::uint16_t> broker_port(const PortRouting& routing, std::int32_t node_id);
// The inverse: which broker a pool port serves, or nullopt if it is not in the pool.
std::optional<std::int32_t> node_for_port(const PortRouting& routing, std::uint16_t port);

// TLS toward the brokers (backend.tls). Hostname verification is against the
// broker's real host (or server_name when set), RFC 6125.
struct UpstreamTlsConfig {
  std::optional<std::filesystem::path> ca_file;  // absent = the system trust store
  std::optional<TlsFiles> client_cert;           // mTLS: both cert and key, or neither
  std::optional<std::string> server_name;        // overrides the SNI and the verified name
  bool verify = true;                            // false = explicit opt-out (warned at startup)
  bool operator==(const UpstreamTlsConfig&) const = default;
};

enum class DiscoveryMode { metadata, static_pattern };

// SASL for kedge's OWN discovery connection (backend.discovery.sasl): the
// Metadata requests kedge sends for readiness, `kedge check` and unknown
// broker ids. Client connections never use it (their SASL passes through).
enum class SaslMechanism { plain, scram_sha_256, scram_sha_512 };
std::string_view to_string(SaslMechanism mechanism);  // "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"

struct SaslCredentials {
  SaslMechanism mechanism = SaslMechanism::plain;
  std::string username;
  std::filesystem::path password_file;  // resolved against the config's folder
  // The file's content minus trailing CR/LF. A secret: never logged, never in
  // /v1/state or `kedge check` output.
  std::string password;
};

struct BackendConfig {
  std::vector<HostPort> bootstrap_servers;  // at least one
  std::optional<UpstreamTlsConfig> tls;     // absent = plaintext to the brokers
  DiscoveryMode discovery = DiscoveryMode::metadata;
  std::string pattern;                      // static mode: "b-$(nodeId).internal:9094"
  std::optional<SaslCredentials> discovery_sasl;  // absent = discovery connects without SASL
  // backend.sasl: kedge's own (service) credentials toward the brokers. Used by
  // discovery, and by every broker connection of a client whose authentication
  // kedge terminates (the client's credentials never reach a broker). Exclusive
  // with backend.discovery.sasl, its older, discovery-only spelling.
  std::optional<SaslCredentials> sasl;
  // The credentials discovery uses: backend.sasl, else backend.discovery.sasl.
  const std::optional<SaslCredentials>& discovery_credentials() const { return sasl ? sasl : discovery_sasl; }
};


// The placeholder a static discovery pattern must contain.
inline constexpr std::string_view kNodeIdPlaceholder = "$(nodeId)";
// Broker `node_id`'s real address under a static pattern (every placeholder
// replaced by the decimal id), or nullopt with the reason in `error` when the
// result is not host:port (e.g. the id pushes a port beyond 65535).
std::optional<HostPort> static_broker_address(const std::string& pattern, std::int32_t node_id,
                                              std::string* error = nullptr);

// A virtual cluster's HTTP/1.1 + WebSocket front (issue 19), on the same TLS
// port as Kafka: a connection whose ClientHello offers ALPN "http/1.1" on any
// of the cluster's names, or whose SNI is its HTTP name (http.<domain> /
// http-<vc>.<domain>, sni::HostnameMapper::http_host), is served as HTTP/1.1.
// Kafka clients offer no ALPN, so they are never affected. Served only where
// the listener's front is on too (http_front_enabled).
struct HttpFrontConfig {
  bool enabled = true;
  // The request path of the WebSocket upgrade (RFC 6455 §4.1), compared
  // exactly: starts with '/', at most 255 bytes of visible ASCII, no '?' or
  // '#' (a query or fragment is never part of the match).
  std::string websocket_path = "/kafka";
  // The largest message a client may send over the WebSocket, after
  // reassembling fragments (a larger one is closed with 1009, RFC 6455 §7.4.1).
  // 1 KiB .. 64 MiB.
  std::uint32_t max_message_bytes = 1024 * 1024;
  // The Fetch requests the front sends for a WebSocket consumer: at most this
  // many bytes per response (Kafka's fetch.max.bytes), 1 KiB .. 64 MiB ...
  std::uint32_t fetch_max_bytes = 1024 * 1024;
  // ... and at most this long a wait for data (Kafka's fetch.max.wait.ms), 0 .. 30000.
  std::uint32_t fetch_max_wait_ms = 500;
  // The Origin values (RFC 6454 serialisation, "https://app.example.com",
  // what browsers send, RFC 6455 §10.2) a WebSocket upgrade may carry: an
  // upgrade whose Origin is not listed is refused. Empty: any origin. A request
  // without Origin (not a browser) is not affected.
  std::vector<std::string> allowed_origins;
  // Passthrough authentication (kedge checks no credentials): an HTTP client's
  // Basic credentials go to the brokers as SASL with this mechanism, so the
  // brokers authenticate and authorize it as they would its Kafka client. A
  // request without credentials reads anonymously.
  SaslMechanism passthrough_mechanism = SaslMechanism::plain;
  bool operator==(const HttpFrontConfig&) const = default;
};

struct VirtualClusterConfig {
  std::string name;
  sni::HostnameFormat format = sni::HostnameFormat::subdomain;
  std::string domain;
  BackendConfig backend;
  std::optional<TlsFiles> tls;  // per-cluster certificate (else the listener's)
  std::optional<AuthenticationConfig> authentication;  // overrides the listener's
  // Who may use this cluster when kedge authenticates clients: exact principal
  // names, "prefix*" and "*" (identity/principal_binding.h). Required when
  // authentication is terminated for the cluster.
  std::vector<std::string> principals;
  // What the cluster's clients may do (docs/policy.md). Set (even empty) makes
  // every connection of the cluster route requests through the policy, so a
  // reload that changes it applies to the next request of open connections;
  // a cluster without one forwards requests unexamined.
  std::optional<policy::ClusterPolicy> policy;
  // Produce/fetch byte rates per client (policy/quota.h, docs/policy.md).
  // Like `policy`: set makes every connection route its requests, so a reload
  // that changes the rates applies to the next request.
  std::optional<policy::QuotaConfig> quotas;
  // Namespace (kafka_codec/rename.h, docs/namespaces.md): the backend prefixes
  // of the cluster's topics, consumer groups and transactional ids. Clients
  // see and use the names without them; what lies outside is invisible. A
  // reload that changes it drains the cluster's connections (their names
  // would change meaning under them).
  std::optional<kafka::NamePrefixes> name_prefixes;
  // A visible namespace ("visible": true): clients use the backend names,
  // prefixes included, and kedge renames nothing; the prefixes confine the
  // policy's ACLs instead (policy::NameConfinement; ACLs allowing everything
  // in the namespace when the operator wrote none), so a name outside them
  // is refused and listings show only the namespace's names.
  bool namespace_visible = false;
  // "http": the cluster's HTTP/WebSocket front (on by default).
  HttpFrontConfig http;
};

struct LogConfig {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::text;
};

// The admin HTTP API (gateway/admin.h): health, readiness, metrics, state.
struct AdminConfig {
  bool enabled = true;
  HostPort bind{"127.0.0.1", 9644};   // port 0 picks a free port (logged at startup)
  std::optional<std::filesystem::path> token_file;
  std::string token;                   // the token file's content without surrounding whitespace
  // Readiness needs recent evidence that each backend answers; without client
  // traffic kedge asks each backend for Metadata this often.
  std::uint32_t readiness_probe_interval_ms = 10'000;
  // kedge_principal_connections_active{virtual_cluster, principal}: 0 = off
  // (the default: principals are not metric labels); N = per virtual cluster
  // the N principals with the most open connections, the rest summed as
  // principal="other", so the series stay bounded whatever clients do.
  std::uint32_t principal_metric_limit = 0;
};

struct Limits {
  std::uint32_t max_frame_bytes = 100 * 1024 * 1024;  // Kafka's socket.request.max.bytes default
  std::uint32_t client_hello_timeout_ms = 10'000;
  std::uint32_t upstream_connect_timeout_ms = 10'000;
  std::uint32_t high_watermark_bytes = 1024 * 1024;  // pause the opposite reader above this
  // SIGTERM, or a reload that removes/changes a connection's virtual cluster:
  // how long in-flight requests get to complete before the connection is cut.
  std::uint32_t drain_timeout_ms = 30'000;
  // How often certificate and key files are checked for replacement (0: never;
  // SIGHUP still reloads them).
  std::uint32_t certificate_check_interval_ms = 5'000;
  // Fetch v16+ responses up to this size are held whole so their KIP-951
  // NodeEndpoints are rewritten exactly; larger ones stream, holding only the
  // final tag section (see kafka_codec/fetch_stream.h). 0: stream them all.
  std::uint32_t fetch_buffer_bytes = 64 * 1024;
  // How long a broker host name's resolved address is reused for new broker
  // connections (0: resolve for every connection). A failed connect to a
  // reused address forgets it, so a broker that moved is re-resolved at once.
  std::uint32_t resolve_cache_ms = 5'000;
  // Failed authentications per client address (identity/attempt_limiter.h):
  // from delay_after failures in window_ms the next answer is delayed (by
  // delay_step_ms per failure, at most max_delay_ms), from block_after the
  // address is refused for block_ms. Other addresses are never affected.
  struct AuthenticationFailures {
    std::uint32_t delay_after = 5;
    std::uint32_t block_after = 20;
    std::uint32_t window_ms = 60'000;
    std::uint32_t delay_step_ms = 500;
    std::uint32_t max_delay_ms = 5'000;
    std::uint32_t block_ms = 300'000;
    bool operator==(const AuthenticationFailures&) const = default;
  } authentication_failures;
};

// The authentication that applies to a client of `cluster` on `listener`: the
// cluster's, else the listener's, else passthrough. (Only meaningful for a
// pair where routes_to(listener, cluster index) holds.)
const AuthenticationConfig& effective_authentication(const ListenerConfig& listener,
                                                     const VirtualClusterConfig& cluster);

// Whether a client on `listener` can reach virtual cluster `cluster_index`: an
// SNI listener serves every cluster, a port-routed one only its own.
bool routes_to(const ListenerConfig& listener, std::size_t cluster_index);

// Whether clients of `cluster` on `listener` get the HTTP/WebSocket front:
// both have it on (a port-routed listener never has: ListenerConfig::http_enabled).
bool http_front_enabled(const ListenerConfig& listener, const VirtualClusterConfig& cluster);

// The audit log (common/audit_log.h, docs/policy.md): where its JSON lines go.
struct AuditConfig {
  std::string file;  // an absolute path, or "-" for standard output
  bool operator==(const AuditConfig&) const = default;
};

struct Config {
  std::filesystem::path source;  // the file it was loaded from
  std::vector<ListenerConfig> listeners;
  std::vector<VirtualClusterConfig> virtual_clusters;
  LogConfig log;
  Limits limits;
  unsigned workers = 0;  // event-loop threads; 0 = one per usable CPU (gateway/cpu_budget.h)
  AdminConfig admin;
  std::optional<AuditConfig> audit;  // none: no audit log
};

// Where the effective authentication of (listener, cluster) is configured, as a
// JSON path: "virtual_clusters[C].authentication", "listeners[L].authentication",
// or "" when neither sets one (passthrough by default).
std::string authentication_path(const Config& config, std::size_t listener_index, std::size_t cluster_index);

// Every file whose content a running kedge reads from the config's paths, so a
// replacement on disk must reload it (the supervisor's file check): certificate
// and key files, backend CA files, SASL password files, users files, JWKS files,
// client CA bundles and CRLs. Each path once, in config order.
std::vector<std::filesystem::path> watched_files(const Config& config);

// Parses and validates; resolves relative paths against the file's folder and
// checks that certificate/key files, users files, JWKS files, CA bundles and
// CRLs exist and are readable (their content is read by build_snapshot, which
// needs OpenSSL). Throws ConfigError.
Config load_config(const std::filesystem::path& file);
// Same, except that the files need not exist yet (their paths are still
// resolved, and password files are not read): for `kedge certs`, which
// creates certificates.
Config load_config_without_files(const std::filesystem::path& file);
// Same, from text already read (`origin` names the folder for relative paths).
Config parse_config(const std::string& json_text, const std::filesystem::path& origin_file);

HostPort parse_host_port(const std::string& text);  // throws std::invalid_argument

}  // namespace kedge
