#pragma once
// `kedge check`: the setup doctor. From a valid configuration it works out
// every host name a client will use, then checks, from where it runs, what
// those names need: DNS records, certificate SANs (RFC 6125), certificate
// expiry and key match, reachability of every backend bootstrap server
// and broker, and the client authentication of every listener and virtual
// cluster (users file, JWKS keys, client CA bundle and CRL, principals).
// Each finding states its fix. Configuration-time code
// (exceptions allowed), except the network probes: they talk to the backend
// exactly as kedge's discovery does, through upstream::KafkaClient
// (ApiVersions, backend.tls, backend.discovery.sasl, Metadata at the highest
// version both sides support) on a private libuv loop, all at once.
//
// Exit codes (kExit*): 0 nothing to fix (warnings may be printed), 1 problems
// found, 2 usage error or invalid configuration.
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "certs/inspect.h"
#include "config/config.h"
#include "kafka_codec/client.h"

namespace kedge::check {

constexpr int kExitOk = 0;
constexpr int kExitProblems = 1;
constexpr int kExitUsage = 2;

struct Options {
  // The address clients must reach (kedge or the load balancer in front of
  // it): an IP literal or a host name. Names are checked to resolve to it and
  // it fills the zone snippet; without it the snippet has a placeholder.
  std::string gateway_address;
  bool resolve_names = true;              // --no-dns skips getaddrinfo of client names
  std::uint32_t timeout_ms = 3000;        // per probe: connect, TLS, SASL and Metadata together
  int expiry_warning_days = 30;
  std::time_t now = 0;                    // 0: the current time
};

enum class Severity { problem, warning };

// One thing to fix. `subject` names what it is about (a host name, a JSON
// path, a server); `fix` says what to change.
struct Finding {
  Severity severity = Severity::problem;
  std::string subject;
  std::string message;
  std::string fix;
};

// One host name (and port) a client connects to. Produced in one place,
// enumerate_client_names(), which dispatches on the listener's kind.
struct ClientName {
  // http: the virtual cluster's HTTP/WebSocket front (sni::HostnameMapper::http_host),
  // listed only where http_front_enabled(listener, cluster).
  enum class Role { bootstrap, broker, http };
  std::string host;
  std::uint16_t port = 0;
  std::size_t listener = 0;         // index into Config::listeners
  std::size_t virtual_cluster = 0;  // index into Config::virtual_clusters
  Role role = Role::bootstrap;
  std::int32_t node_id = -1;        // brokers only
  // TLS listeners: the JSON path of the certificate that serves this name
  // ("virtual_clusters[1].tls" or "listeners[0].tls"); empty for plaintext.
  std::string certificate_path;
  // Whether that certificate covers `host` as clients check it
  // (certs::certificate_covers); set by run_check, nullopt for plaintext names
  // and certificates that could not be read.
  std::optional<bool> certificate_covers;
};

// Brokers of each virtual cluster (same order as Config::virtual_clusters), as
// read from backend Metadata; empty where no backend answered.
using KnownBrokers = std::vector<std::vector<kafka::BrokerEndpoint>>;

// Every (host, port) clients use, per listener and virtual cluster: bootstrap
// first, then brokers in node-id order, then the HTTP front's name when the
// front is on for that pair (SNI listeners only).
std::vector<ClientName> enumerate_client_names(const Config& config, const KnownBrokers& brokers);

// Why clients of `cluster_index` on `listener_index` get no HTTP/WebSocket
// front, naming the setting ("virtual_clusters[0].http.enabled is false"), or
// "" when they do (http_front_enabled).
std::string http_front_off_reason(const Config& config, std::size_t listener_index, std::size_t cluster_index);

// The DNS wildcard names (without trailing dot) that cover every client name,
// one per domain, e.g. "*.kafka.example.com"; the same list is the set of
// certificate SANs kedge needs (wildcards match exactly one label).
std::vector<std::string> required_wildcards(const Config& config);

struct BrokerProbe {
  kafka::BrokerEndpoint endpoint;
  bool reachable = false;
  std::string error;
};

struct BackendProbe {
  std::size_t virtual_cluster = 0;
  std::size_t server_index = 0;
  HostPort server;
  bool answered = false;
  std::string error;
  std::vector<kafka::BrokerEndpoint> brokers;
  // With a namespace (virtual_clusters[].namespace): every topic the backend listed, for the names it covers.
  std::optional<std::vector<std::string>> topics;
};

struct NameResolution {
  std::string host;
  bool resolved = false;
  std::string error;
  std::vector<std::string> addresses;      // numeric, as getaddrinfo returned them
  std::optional<bool> matches_gateway;     // set when a gateway address was given
};

struct CertificateReport {
  std::string config_path;  // "listeners[0].tls"
  certs::CertificateInfo info;
};

// The identity files of one place where a terminating authentication is
// configured ("listeners[0].authentication" or "virtual_clusters[1].authentication"),
// read once however many (listener, cluster) pairs use it. Counts and names
// only: never a credential.
struct AuthenticationFilesReport {
  std::string config_path;
  // A copy, so that a report outlives the Config it was made from (it is
  // rendered after the check, possibly against a reloaded Config).
  AuthenticationConfig config;
  // sasl.users_file
  std::string users_error;                        // non-empty: unreadable or invalid
  std::size_t users = 0;
  // Per offered PLAIN/SCRAM mechanism, in offer order: how many users hold a
  // credential it can use (PLAIN: any).
  std::vector<std::pair<TerminatedMechanism, std::size_t>> users_per_mechanism;
  // sasl.oauthbearer.jwks_file
  std::string jwks_error;
  std::size_t jwks_keys = 0;                      // usable keys
  std::vector<std::string> jwks_algorithms;       // distinct, in key order: "RS256", "ES256"
  std::vector<std::string> jwks_unusable;         // "keys[3] (kid \"x\"): why"
  // mtls.ca_file / mtls.crl_file
  std::optional<certs::CaBundleInfo> ca;
  std::optional<certs::CrlInfo> crl;
};

// One (listener, virtual cluster) pair a client can reach (routes_to) and its
// effective authentication.
struct AuthenticationPair {
  std::size_t listener = 0;
  std::size_t virtual_cluster = 0;
  std::string config_path;            // where it is set; "" = passthrough by default
  std::optional<std::size_t> files;   // index into Report::authentication_files (terminate only)
};

struct Report {
  std::string config_file;
  Options options;
  std::vector<std::string> gateway_addresses;  // the gateway address, resolved
  std::vector<BackendProbe> backends;
  std::vector<BrokerProbe> brokers;            // every broker address kedge must reach (deduplicated)
  std::vector<ClientName> names;
  std::vector<NameResolution> resolutions;     // one per distinct host
  std::vector<CertificateReport> certificates;
  std::vector<AuthenticationPair> authentication;
  std::vector<AuthenticationFilesReport> authentication_files;
  std::vector<std::string> wildcards;
  std::vector<Finding> findings;

  int exit_code() const;
};

// Runs every check. Does network I/O: the backend probes run concurrently, each
// bounded by options.timeout_ms, then the broker reachability probes likewise.
Report run_check(const Config& config, const Options& options);

// BIND zone-file lines: one wildcard record per domain.
std::string zone_snippet(const Report& report);
std::string render_text(const Config& config, const Report& report);
nlohmann::json render_json(const Config& config, const Report& report);

}  // namespace kedge::check
