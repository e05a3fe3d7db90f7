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

#include "sni/hostname.h"

namespace kedge {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HostPort {
  std::string host;  // IPv6 literals without brackets
  std::uint16_t port = 0;
  std::string to_string() const;  // brackets IPv6 literals
};

struct TlsFiles {
  std::filesystem::path cert;  // PEM chain, resolved against the config's folder
  std::filesystem::path key;   // PEM private key
};

// PROXY protocol (HAProxy spec v1/v2) in front of the ClientHello.
enum class ProxyProtocolMode {
  off,       // bytes start with the ClientHello
  optional,  // a header is used when its signature is present
  required,  // a connection without a valid header is refused
};
std::string_view to_string(ProxyProtocolMode mode);

struct ListenerConfig {
  std::string name;
  HostPort bind;
  std::uint16_t advertised_port = 0;  // defaults to bind.port
  TlsFiles tls;                       // the listener's default certificate
  ProxyProtocolMode proxy_protocol = ProxyProtocolMode::off;
};

struct BackendConfig {
  std::vector<HostPort> bootstrap_servers;  // at least one
};

struct VirtualClusterConfig {
  std::string name;
  sni::HostnameFormat format = sni::HostnameFormat::subdomain;
  std::string domain;
  BackendConfig backend;
  std::optional<TlsFiles> tls;  // per-cluster certificate (else the listener's)
};

enum class LogLevel { trace, debug, info, warn, error };

enum class LogFormat { text, json };  // json: one JSON object per line (JSON Lines)

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
};

struct Config {
  std::filesystem::path source;  // the file it was loaded from
  std::vector<ListenerConfig> listeners;
  std::vector<VirtualClusterConfig> virtual_clusters;
  LogConfig log;
  Limits limits;
  unsigned workers = 0;  // event-loop threads; 0 = one per CPU core
  AdminConfig admin;
};

// Every certificate and key file the config references (for rotation checks).
std::vector<std::filesystem::path> tls_files(const Config& config);

// Parses and validates; resolves relative paths against the file's folder and
// checks certificate/key files exist and are readable. Throws ConfigError.
Config load_config(const std::filesystem::path& file);
// Same, except that certificate and key files need not exist yet (their
// paths are still resolved): for `kedge certs`, which creates them.
Config load_config_without_files(const std::filesystem::path& file);
// Same, from text already read (`origin` names the folder for relative paths).
Config parse_config(const std::string& json_text, const std::filesystem::path& origin_file);

HostPort parse_host_port(const std::string& text);  // throws std::invalid_argument
std::string_view to_string(LogLevel level);
std::string_view to_string(LogFormat format);

}  // namespace kedge
