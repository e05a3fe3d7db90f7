// Loads and validates kedge's JSON configuration (see config.h).
//
// Every schema error throws ConfigError whose message begins with the JSON
// path of the offending value ("listeners[0].tls.cert: ..."), so a user can
// find it without reading code. Errors in the JSON text itself carry
// FILE:LINE:COLUMN instead, because there is no path yet.
//
// Validation is strict on purpose: unknown keys, duplicate keys and values of
// the wrong JSON type are errors rather than silently ignored, so a typo such
// as "advertized_port" cannot fall back to a default unnoticed.
#include "config/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/ascii.h"
#include "common/strict_json.h"
#include "identity/attempt_limiter.h"
#include "identity/principal_binding.h"
#include "identity/principal_mapping.h"

namespace kedge {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kGiB = 1024 * 1024 * 1024;

using strict_json::describe;
using strict_json::element_path;
using strict_json::expect_array;
using strict_json::expect_integer;
using strict_json::expect_non_empty_string;
using strict_json::expect_string;
using strict_json::fail;
using strict_json::member_path;
using strict_json::ObjectReader;

json parse_json_text(const std::string& text, const fs::path& origin_file) {
  return strict_json::parse(text, origin_file.string());
}

HostPort expect_host_port(const json& value, const std::string& path) {
  const std::string& text = expect_string(value, path);
  try {
    return parse_host_port(text);
  } catch (const std::invalid_argument& error) {
    fail(path, error.what());
  }
}

// ---------------------------------------------------------------------------
// Files

// Resolves `text` against the config's folder and checks that the file can be
// opened for reading. The PEM content is checked later by certs/ (this
// library must not depend on OpenSSL).
// False only while load_config_without_files runs (single-threaded, config time).
bool g_require_files = true;

fs::path expect_readable_file(const json& value, const std::string& path, const fs::path& base_dir) {
  const std::string& text = expect_non_empty_string(value, path);
  const fs::path given(text);
  const fs::path resolved = (given.is_absolute() ? given : base_dir / given).lexically_normal();
  if (!g_require_files) return resolved;
  const std::string where = given.is_absolute()
                                ? fmt::format("file \"{}\"", text)
                                : fmt::format("file \"{}\" (resolved {})", text, resolved.string());
  std::error_code ec;
  const fs::file_status status = fs::status(resolved, ec);
  if (!fs::exists(status)) fail(path, fmt::format("{} does not exist", where));
  if (!fs::is_regular_file(status)) fail(path, fmt::format("{} is not a regular file", where));
  std::FILE* file = std::fopen(resolved.c_str(), "rb");
  if (file == nullptr) {
    fail(path, fmt::format("{} cannot be read: {}", where, std::strerror(errno)));
  }
  std::fclose(file);
  return resolved;
}

TlsFiles read_tls_files(const json& value, const std::string& path, const fs::path& base_dir) {
  const ObjectReader tls(value, path, {"cert", "key"});
  TlsFiles files;
  files.cert = expect_readable_file(tls.required("cert"), tls.path_of("cert"), base_dir);
  files.key = expect_readable_file(tls.required("key"), tls.path_of("key"), base_dir);
  return files;
}

// ---------------------------------------------------------------------------
// Client authentication (docs/identity.md, "Configuration")

// Identity engines report problems with an index suffix ("[2] (\"a*b\"): why")
// for the caller to put after its JSON path, or as a plain sentence.
[[noreturn]] void fail_with_suffix(const std::string& path, std::string_view message) {
  if (!message.empty() && message.front() == '[') throw ConfigError(fmt::format("{}{}", path, message));
  fail(path, message);
}

bool expect_bool(const json& value, const std::string& path) {
  if (!value.is_boolean()) fail(path, fmt::format("expected true or false, got {}", describe(value)));
  return value.get<bool>();
}

// A list of non-empty strings without repeats ("audiences").
std::vector<std::string> read_distinct_strings(const json& value, const std::string& path) {
  const json& array = expect_array(value, path);
  std::vector<std::string> items;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string& item = expect_non_empty_string(array[i], element_path(path, i));
    for (std::size_t j = 0; j < items.size(); ++j) {
      if (items[j] == item) {
        fail(element_path(path, i), fmt::format("\"{}\" is already listed at {}", item, element_path(path, j)));
      }
    }
    items.push_back(item);
  }
  return items;
}

// The longest KIP-368 session kedge accepts: 30 days.
constexpr std::uint64_t kMaxSessionLifetimeMs = 30ull * 24 * 3'600'000;

OAuthBearerConfig read_oauthbearer(const json& value, const std::string& path, const fs::path& base_dir) {
  const ObjectReader reader(value, path, {"jwks_file", "issuer", "audiences", "clock_skew_s", "principal_claim"});
  OAuthBearerConfig config;
  config.jwks_file = expect_readable_file(reader.required("jwks_file"), reader.path_of("jwks_file"), base_dir);
  if (const json* issuer = reader.optional("issuer")) {
    config.issuer = expect_non_empty_string(*issuer, reader.path_of("issuer"));
  }
  if (const json* audiences = reader.optional("audiences")) {
    config.audiences = read_distinct_strings(*audiences, reader.path_of("audiences"));
    if (config.audiences.empty()) {
      fail(reader.path_of("audiences"), "empty (leave the key out to accept any \"aud\")");
    }
  }
  if (const json* skew = reader.optional("clock_skew_s")) {
    config.clock_skew_s = static_cast<std::uint32_t>(expect_integer(*skew, reader.path_of("clock_skew_s"), 0, 3600));
  }
  if (const json* claim = reader.optional("principal_claim")) {
    config.principal_claim = expect_non_empty_string(*claim, reader.path_of("principal_claim"));
  }
  return config;
}

SaslTerminationConfig read_sasl_termination(const json& value, const std::string& path, const fs::path& base_dir) {
  const ObjectReader reader(value, path, {"mechanisms", "users_file", "session_lifetime_ms", "oauthbearer"});
  SaslTerminationConfig config;
  const std::string mechanisms_path = reader.path_of("mechanisms");
  const json& mechanisms = expect_array(reader.required("mechanisms"), mechanisms_path);
  if (mechanisms.empty()) fail(mechanisms_path, "at least one mechanism is required");
  constexpr TerminatedMechanism kAll[] = {TerminatedMechanism::plain, TerminatedMechanism::scram_sha_256,
                                          TerminatedMechanism::scram_sha_512, TerminatedMechanism::oauthbearer};
  for (std::size_t i = 0; i < mechanisms.size(); ++i) {
    const std::string at = element_path(mechanisms_path, i);
    const std::string& name = expect_string(mechanisms[i], at);
    const auto* known = std::find_if(std::begin(kAll), std::end(kAll),
                                     [&](TerminatedMechanism m) { return to_string(m) == name; });
    if (known == std::end(kAll)) {
      fail(at, fmt::format("\"{}\" is not a SASL mechanism kedge terminates (expected PLAIN, SCRAM-SHA-256, "
                           "SCRAM-SHA-512 or OAUTHBEARER)",
                           name));
    }
    for (std::size_t j = 0; j < config.mechanisms.size(); ++j) {
      if (config.mechanisms[j] == *known) {
        fail(at, fmt::format("\"{}\" is already listed at {}", name, element_path(mechanisms_path, j)));
      }
    }
    config.mechanisms.push_back(*known);
  }

  const std::string users_path = reader.path_of("users_file");
  if (const json* users = reader.optional("users_file")) {
    if (!config.offers_password_mechanism()) {
      fail(users_path, "not used: none of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 is in mechanisms");
    }
    config.users_file = expect_readable_file(*users, users_path, base_dir);
  } else if (config.offers_password_mechanism()) {
    fail(users_path, "missing (PLAIN and SCRAM check passwords against a users file; create one with "
                     "`kedge users add NAME --file FILE`)");
  }

  const std::string oauth_path = reader.path_of("oauthbearer");
  if (const json* oauth = reader.optional("oauthbearer")) {
    if (!config.offers(TerminatedMechanism::oauthbearer)) {
      fail(oauth_path, "not used: OAUTHBEARER is not in mechanisms");
    }
    config.oauthbearer = read_oauthbearer(*oauth, oauth_path, base_dir);
  } else if (config.offers(TerminatedMechanism::oauthbearer)) {
    fail(oauth_path, "missing (OAUTHBEARER needs {\"jwks_file\": ...} to check tokens against)");
  }

  if (const json* lifetime = reader.optional("session_lifetime_ms")) {
    const std::string at = reader.path_of("session_lifetime_ms");
    config.session_lifetime_ms = expect_integer(*lifetime, at, 0, kMaxSessionLifetimeMs);
    if (config.session_lifetime_ms != 0 && config.session_lifetime_ms < 1000) {
      fail(at, fmt::format("{} is too short: 0 (no limit) or at least 1000 (clients re-authenticate before the "
                           "session ends, KIP-368)",
                           config.session_lifetime_ms));
    }
  }
  return config;
}

MtlsConfig read_mtls(const json& value, const std::string& path, const fs::path& base_dir) {
  const ObjectReader reader(value, path, {"client_certificates", "ca_file", "crl_file", "principal", "principal_rules"});
  MtlsConfig config;
  if (const json* mode = reader.optional("client_certificates")) {
    const std::string& text = expect_string(*mode, reader.path_of("client_certificates"));
    if (text == to_string(ClientCertificates::required)) {
      config.client_certificates = ClientCertificates::required;
    } else if (text == to_string(ClientCertificates::optional)) {
      config.client_certificates = ClientCertificates::optional;
    } else {
      fail(reader.path_of("client_certificates"),
           fmt::format("\"{}\" is not a client certificate mode (expected required or optional)", text));
    }
  }
  config.ca_file = expect_readable_file(reader.required("ca_file"), reader.path_of("ca_file"), base_dir);
  if (const json* crl = reader.optional("crl_file")) {
    config.crl_file = expect_readable_file(*crl, reader.path_of("crl_file"), base_dir);
  }
  if (const json* source = reader.optional("principal")) {
    const std::string& text = expect_string(*source, reader.path_of("principal"));
    bool known = false;
    for (const auto candidate : {CertificatePrincipalSource::subject_cn, CertificatePrincipalSource::san_dns,
                                 CertificatePrincipalSource::san_uri, CertificatePrincipalSource::san_email,
                                 CertificatePrincipalSource::rules}) {
      if (text == to_string(candidate)) {
        config.principal = candidate;
        known = true;
      }
    }
    if (!known) {
      fail(reader.path_of("principal"),
           fmt::format("\"{}\" is not a principal source (expected subject_cn, san_dns, san_uri, san_email or "
                       "rules)",
                       text));
    }
  }
  const std::string rules_path = reader.path_of("principal_rules");
  if (const json* rules = reader.optional("principal_rules")) {
    if (config.principal != CertificatePrincipalSource::rules) {
      fail(rules_path, "only used with \"principal\": \"rules\"");
    }
    const json& array = expect_array(*rules, rules_path);
    for (std::size_t i = 0; i < array.size(); ++i) {
      config.principal_rules.push_back(expect_string(array[i], element_path(rules_path, i)));
    }
    try {
      (void)identity::PrincipalRules::parse(config.principal_rules);
    } catch (const identity::PrincipalRuleError& error) {
      fail_with_suffix(rules_path, error.what());
    }
  } else if (config.principal == CertificatePrincipalSource::rules) {
    fail(rules_path, "missing (\"principal\": \"rules\" maps the subject with Kafka-style rules, e.g. "
                     "[\"RULE:^CN=([^,]+),.*$/$1/\", \"DEFAULT\"])");
  }
  return config;
}

// "authentication" of a listener or a virtual cluster.
AuthenticationConfig read_authentication(const json& value, const std::string& path, const fs::path& base_dir) {
  const ObjectReader reader(value, path, {"mode", "sasl", "mtls", "close_removed_users"});
  AuthenticationConfig config;
  const std::string& mode = expect_string(reader.required("mode"), reader.path_of("mode"));
  if (mode == to_string(AuthenticationMode::passthrough)) {
    config.mode = AuthenticationMode::passthrough;
  } else if (mode == to_string(AuthenticationMode::terminate)) {
    config.mode = AuthenticationMode::terminate;
  } else {
    fail(reader.path_of("mode"),
         fmt::format("\"{}\" is not an authentication mode (expected passthrough or terminate)", mode));
  }
  if (config.mode == AuthenticationMode::passthrough) {
    for (const std::string_view key : {"sasl", "mtls", "close_removed_users"}) {
      if (reader.has(key)) {
        fail(reader.path_of(key), "not used with \"mode\": \"passthrough\" (kedge leaves authentication to the "
                                  "brokers; set \"mode\": \"terminate\" to authenticate clients at kedge)");
      }
    }
    return config;
  }
  if (const json* sasl = reader.optional("sasl")) {
    config.sasl = read_sasl_termination(*sasl, reader.path_of("sasl"), base_dir);
  }
  if (const json* mtls = reader.optional("mtls")) config.mtls = read_mtls(*mtls, reader.path_of("mtls"), base_dir);
  if (!config.sasl && !config.mtls) {
    fail(path, "\"mode\": \"terminate\" needs \"sasl\", \"mtls\" or both (how kedge authenticates clients)");
  }
  if (config.mtls && config.mtls->client_certificates == ClientCertificates::optional && !config.sasl) {
    fail(reader.path_of("mtls") + ".client_certificates",
         "\"optional\" needs \"sasl\" as well: without SASL a client without a certificate has no principal "
         "(use \"required\", or add \"sasl\")");
  }
  if (const json* close = reader.optional("close_removed_users")) {
    config.close_removed_users = expect_bool(*close, reader.path_of("close_removed_users"));
    if (config.close_removed_users && !(config.sasl && config.sasl->users_file)) {
      fail(reader.path_of("close_removed_users"), "only used with a users file (sasl.users_file)");
    }
  }
  return config;
}

// virtual_clusters[].principals: validated with the binding that build_snapshot compiles.
std::vector<std::string> read_principals(const json& value, const std::string& path) {
  const json& array = expect_array(value, path);
  if (array.empty()) {
    fail(path, "empty (it would admit no one; list principals such as \"alice\" or \"etl-*\", or \"*\" for every "
               "authenticated client)");
  }
  std::vector<std::string> principals;
  for (std::size_t i = 0; i < array.size(); ++i) principals.push_back(expect_string(array[i], element_path(path, i)));
  try {
    (void)identity::PrincipalBinding::parse(principals);
  } catch (const identity::PrincipalBindingError& error) {
    fail_with_suffix(path, error.what());
  }
  return principals;
}

// ---------------------------------------------------------------------------
// Sections

// Listener names appear in logs and metric labels, so keep them to a simple
// token.
void check_listener_name(const std::string& name, const std::string& path) {
  if (name.size() > 64) fail(path, fmt::format("\"{}\" is longer than 64 characters", name));
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) {
      fail(path, fmt::format("\"{}\" may contain only letters, digits, '-', '_' and '.'", name));
    }
  }
}

// Two listeners cannot share a port if their addresses are equal or either is
// a wildcard of the same family: Linux refuses to bind a specific address
// while the wildcard on the same port listens.
bool binds_overlap(const HostPort& a, const HostPort& b) {
  if (a.port != b.port) return false;
  // IPv6 listeners are bound IPV6_V6ONLY (server.cpp), so an IPv6 and an IPv4
  // address never share a socket: "[::]:9092" beside "0.0.0.0:9092" is fine.
  if ((a.host.find(':') != std::string::npos) != (b.host.find(':') != std::string::npos)) return false;
  const auto is_wildcard = [](const std::string& host) { return host == "0.0.0.0" || host == "::"; };
  if (is_wildcard(a.host) || is_wildcard(b.host)) return true;
  return ascii::iequals(a.host, b.host);
}

ProxyProtocolMode read_proxy_protocol(const json& value, const std::string& path) {
  const std::string& text = expect_string(value, path);
  for (const auto mode : {ProxyProtocolMode::off, ProxyProtocolMode::optional, ProxyProtocolMode::required}) {
    if (text == to_string(mode)) return mode;
  }
  fail(path, fmt::format("\"{}\" is not a PROXY protocol mode (expected off, optional or required)", text));
}

// listeners[].routing: {"mode": "sni"} (the default) or
// {"mode": "port", "virtual_cluster", "advertised_host", "broker_port_base", "max_node_id"}.
// The virtual cluster name is resolved once the clusters are read (resolve_port_routing).
std::optional<PortRouting> read_routing(const json& value, const std::string& path, const HostPort& bind) {
  if (!value.is_object()) fail(path, fmt::format("expected an object, got {}", describe(value)));
  const auto mode_it = value.find("mode");
  const std::string mode =
      mode_it == value.end() ? std::string("sni") : expect_string(*mode_it, member_path(path, "mode"));
  if (mode == "sni") {
    const ObjectReader routing(value, path, {"mode"});
    return std::nullopt;
  }
  if (mode != "port") {
    fail(member_path(path, "mode"), fmt::format("\"{}\" is not a routing mode (expected \"sni\" or \"port\")", mode));
  }
  const ObjectReader routing(value, path,
                             {"mode", "virtual_cluster", "advertised_host", "broker_port_base", "max_node_id"});
  PortRouting port;
  port.virtual_cluster =
      expect_non_empty_string(routing.required("virtual_cluster"), routing.path_of("virtual_cluster"));
  port.advertised_host =
      expect_non_empty_string(routing.required("advertised_host"), routing.path_of("advertised_host"));
  try {
    // Reuse the host:port grammar so the advertised host is exactly what a client can dial.
    const HostPort probe = parse_host_port(
        (port.advertised_host.find(':') != std::string::npos ? "[" + port.advertised_host + "]"
                                                             : port.advertised_host) + ":1");
    port.advertised_host = probe.host;
  } catch (const std::invalid_argument&) {
    fail(routing.path_of("advertised_host"),
         fmt::format("\"{}\" is not a host name or IP address", port.advertised_host));
  }
  port.broker_port_base = static_cast<std::uint16_t>(
      expect_integer(routing.required("broker_port_base"), routing.path_of("broker_port_base"), 1, 65535));
  port.max_node_id = static_cast<std::int32_t>(
      expect_integer(routing.required("max_node_id"), routing.path_of("max_node_id"), 0, 65534));
  const std::uint32_t last = std::uint32_t{port.broker_port_base} + static_cast<std::uint32_t>(port.max_node_id);
  if (last > 65535) {
    fail(routing.path(), fmt::format("broker ports {}..{} (broker_port_base + 0..max_node_id) exceed 65535",
                                     port.broker_port_base, last));
  }
  if (bind.port >= port.broker_port_base && bind.port <= last) {
    fail(routing.path(), fmt::format("broker ports {}..{} include the bootstrap port {} (bind)", port.broker_port_base,
                                     last, bind.port));
  }
  return port;
}

// Every port a listener binds: the bind port and, in port mode, its broker pool.
struct PortSpan {
  std::uint32_t first = 0;
  std::uint32_t last = 0;
};
std::vector<PortSpan> ports_of(const ListenerConfig& listener) {
  std::vector<PortSpan> spans{{listener.bind.port, listener.bind.port}};
  if (listener.port_routing) {
    const PortRouting& routing = *listener.port_routing;
    spans.push_back({routing.broker_port_base,
                     std::uint32_t{routing.broker_port_base} + static_cast<std::uint32_t>(routing.max_node_id)});
  }
  return spans;
}

// Two listeners on overlapping addresses (equal, or either a wildcard) must
// not share any port, broker pools included: kedge binds every pool port
// eagerly, so an overlap would fail at startup anyway; here it names both.
void check_port_pools(const std::vector<ListenerConfig>& listeners, const std::string& path) {
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      HostPort a = listeners[i].bind, b = listeners[j].bind;
      a.port = b.port = 1;  // compare addresses only
      if (!binds_overlap(a, b)) continue;
      for (const PortSpan& mine : ports_of(listeners[i])) {
        for (const PortSpan& theirs : ports_of(listeners[j])) {
          if (mine.first <= theirs.last && theirs.first <= mine.last) {
            const std::uint32_t clash = std::max(mine.first, theirs.first);
            fail(element_path(path, i),
                 fmt::format("port {} of listener \"{}\" is also used by listener \"{}\" ({}); ports in use: "
                             "{}",
                             clash, listeners[i].name, listeners[j].name, element_path(path, j),
                             listeners[j].port_routing
                                 ? fmt::format("{} (bootstrap) and {}..{} (brokers)", listeners[j].bind.port,
                                               listeners[j].port_routing->broker_port_base,
                                               std::uint32_t{listeners[j].port_routing->broker_port_base} +
                                                   static_cast<std::uint32_t>(listeners[j].port_routing->max_node_id))
                                 : fmt::format("{}", listeners[j].bind.port)));
          }
        }
      }
    }
  }
}

std::vector<ListenerConfig> read_listeners(const json& value, const std::string& path,
                                           const fs::path& base_dir) {
  const json& array = expect_array(value, path);
  if (array.empty()) fail(path, "at least one listener is required");
  std::vector<ListenerConfig> listeners;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const ObjectReader entry(array[i], element_path(path, i),
                             {"name", "bind", "advertised_port", "tls", "routing", "proxy_protocol", "authentication",
                              "http"});
    ListenerConfig listener;

    listener.name = expect_non_empty_string(entry.required("name"), entry.path_of("name"));
    check_listener_name(listener.name, entry.path_of("name"));
    for (std::size_t j = 0; j < listeners.size(); ++j) {
      if (listeners[j].name == listener.name) {
        fail(entry.path_of("name"),
             fmt::format("\"{}\" is already used by {}", listener.name, element_path(path, j)));
      }
    }

    listener.bind = expect_host_port(entry.required("bind"), entry.path_of("bind"));
    for (std::size_t j = 0; j < listeners.size(); ++j) {
      if (binds_overlap(listeners[j].bind, listener.bind)) {
        fail(entry.path_of("bind"),
             fmt::format("{} conflicts with {} of listener \"{}\" ({}.bind)", listener.bind.to_string(),
                         listeners[j].bind.to_string(), listeners[j].name, element_path(path, j)));
      }
    }

    listener.advertised_port = listener.bind.port;
    if (const json* port = entry.optional("advertised_port")) {
      listener.advertised_port =
          static_cast<std::uint16_t>(expect_integer(*port, entry.path_of("advertised_port"), 1, 65535));
    }

    if (const json* routing = entry.optional("routing")) {
      listener.port_routing = read_routing(*routing, entry.path_of("routing"), listener.bind);
    }
    if (listener.port_routing && entry.has("advertised_port")) {
      fail(entry.path_of("advertised_port"),
           "not used by a port-routed listener: broker N is advertised on routing.broker_port_base + N");
    }
    if (const json* tls = entry.optional("tls")) {
      listener.tls = read_tls_files(*tls, entry.path_of("tls"), base_dir);
    } else if (!listener.port_routing) {
      // SNI routing reads the name from the TLS ClientHello: without TLS there is none.
      fail(entry.path_of("tls"),
           "missing (SNI routing needs TLS; a plaintext listener needs \"routing\": {\"mode\": \"port\", ...})");
    }
    if (const json* mode = entry.optional("proxy_protocol")) {
      listener.proxy_protocol = read_proxy_protocol(*mode, entry.path_of("proxy_protocol"));
    }
    if (const json* authentication = entry.optional("authentication")) {
      listener.authentication = read_authentication(*authentication, entry.path_of("authentication"), base_dir);
    }
    listener.http_enabled = !listener.port_routing;
    if (const json* http = entry.optional("http")) {
      const ObjectReader reader(*http, entry.path_of("http"), {"enabled"});
      if (const json* enabled = reader.optional("enabled")) {
        const bool on = expect_bool(*enabled, reader.path_of("enabled"));
        if (on && listener.port_routing) {
          fail(reader.path_of("enabled"),
               "a port-routed listener has no HTTP front: the front is chosen by the TLS ClientHello's SNI name or "
               "ALPN, and a port-routed listener's ports stand for Kafka brokers (serve HTTP on an SNI listener, "
               "or remove \"http\")");
        }
        listener.http_enabled = on;
      }
    }
    listeners.push_back(std::move(listener));
  }
  check_port_pools(listeners, path);
  return listeners;
}

// A virtual-cluster name becomes a DNS label in shared_suffix host names
// (bootstrap-<vc>.<domain>), so it follows RFC 1123 label syntax, lower case.
// Checked here as well as in the HostnameMapper so the error names `.name`.
void check_cluster_name(const std::string& name, const std::string& path) {
  const auto invalid = [&](std::string_view why) {
    fail(path, fmt::format("\"{}\" is not a valid virtual cluster name: {}", name, why));
  };
  if (name.size() > 63) invalid("longer than 63 characters");
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      invalid("use only lower-case letters, digits and '-'");
    }
  }
  if (name.front() == '-' || name.back() == '-') invalid("must not start or end with '-'");
}

bool is_host_char(char c);

// backend.tls: {"ca_file", "cert", "key", "server_name", "verify"}, all optional.
UpstreamTlsConfig read_upstream_tls(const json& value, const std::string& path, const fs::path& base_dir) {
  const ObjectReader tls(value, path, {"ca_file", "cert", "key", "server_name", "verify"});
  UpstreamTlsConfig config;
  if (const json* ca = tls.optional("ca_file")) {
    config.ca_file = expect_readable_file(*ca, tls.path_of("ca_file"), base_dir);
  }
  if (tls.has("cert") != tls.has("key")) {
    const std::string_view present = tls.has("cert") ? "cert" : "key";
    const std::string_view absent = tls.has("cert") ? "key" : "cert";
    fail(tls.path_of(absent), fmt::format("missing (a client certificate needs both cert and key; {} is set)", present));
  }
  if (tls.has("cert")) {
    config.client_cert = TlsFiles{expect_readable_file(tls.required("cert"), tls.path_of("cert"), base_dir),
                                  expect_readable_file(tls.required("key"), tls.path_of("key"), base_dir)};
  }
  if (const json* name = tls.optional("server_name")) {
    const std::string& text = expect_non_empty_string(*name, tls.path_of("server_name"));
    for (const char c : text) {
      if (!is_host_char(c)) {
        fail(tls.path_of("server_name"), fmt::format("\"{}\" is not a host name", text));
      }
    }
    config.server_name = text;
  }
  if (const json* verify = tls.optional("verify")) {
    if (!verify->is_boolean()) {
      fail(tls.path_of("verify"), fmt::format("expected true or false, got {}", describe(*verify)));
    }
    config.verify = verify->get<bool>();
  }
  return config;
}

// backend.sasl and backend.discovery.sasl: {"mechanism", "username", "password_file"}, all required.
// The password is read now, so an unreadable or empty file fails load/reload
// (and `kedge validate`) with this path; the error never quotes the content.
SaslCredentials read_sasl_credentials(const json& value, const std::string& path, const fs::path& base_dir) {
  const ObjectReader sasl(value, path, {"mechanism", "username", "password_file"});
  SaslCredentials credentials;
  const std::string& mechanism = expect_string(sasl.required("mechanism"), sasl.path_of("mechanism"));
  bool known = false;
  for (const SaslMechanism candidate : {SaslMechanism::plain, SaslMechanism::scram_sha_256, SaslMechanism::scram_sha_512}) {
    if (mechanism == to_string(candidate)) {
      credentials.mechanism = candidate;
      known = true;
    }
  }
  if (!known) {
    fail(sasl.path_of("mechanism"),
         fmt::format("\"{}\" is not a SASL mechanism kedge speaks (expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)",
                     mechanism));
  }
  credentials.username = expect_non_empty_string(sasl.required("username"), sasl.path_of("username"));
  for (const char c : credentials.username) {
    // PLAIN separates fields with NUL (RFC 4616 §2); control characters are never a user name.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      fail(sasl.path_of("username"), "contains a control character");
    }
  }
  const std::string password_path = sasl.path_of("password_file");
  credentials.password_file = expect_readable_file(sasl.required("password_file"), password_path, base_dir);
  if (!g_require_files) return credentials;
  std::ifstream stream(credentials.password_file, std::ios::binary);
  std::ostringstream text;
  if (stream) text << stream.rdbuf();
  if (!stream || stream.bad()) {
    fail(password_path, fmt::format("cannot read {}: {}", credentials.password_file.string(), std::strerror(errno)));
  }
  std::string password = text.str();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  if (password.empty()) fail(password_path, fmt::format("password file {} is empty", credentials.password_file.string()));
  if (password.size() > 4096) fail(password_path, "password is longer than 4096 bytes");
  if (password.find('\0') != std::string::npos) fail(password_path, "password contains a NUL byte");
  credentials.password = std::move(password);
  return credentials;
}

// backend.discovery: {"mode": "metadata"} (default) or {"mode": "static", "pattern": "host-$(nodeId):port"},
// either with an optional "sasl" object for kedge's own discovery connection.
void read_discovery(const json& value, const std::string& path, BackendConfig& backend, const fs::path& base_dir) {
  const ObjectReader discovery(value, path, {"mode", "pattern", "sasl"});
  if (const json* sasl = discovery.optional("sasl")) {
    backend.discovery_sasl = read_sasl_credentials(*sasl, discovery.path_of("sasl"), base_dir);
  }
  const std::string mode =
      discovery.has("mode") ? expect_string(discovery.required("mode"), discovery.path_of("mode")) : "metadata";
  if (mode == "metadata") {
    if (discovery.has("pattern")) {
      fail(discovery.path_of("pattern"), "only used with \"mode\": \"static\"");
    }
    backend.discovery = DiscoveryMode::metadata;
    return;
  }
  if (mode != "static") {
    fail(discovery.path_of("mode"),
         fmt::format("\"{}\" is not a discovery mode (expected \"metadata\" or \"static\")", mode));
  }
  const std::string pattern_path = discovery.path_of("pattern");
  const std::string& pattern = expect_non_empty_string(discovery.required("pattern"), pattern_path);
  if (pattern.find(kNodeIdPlaceholder) == std::string::npos) {
    fail(pattern_path, fmt::format("\"{}\" does not contain {}", pattern, kNodeIdPlaceholder));
  }
  // A test node address must parse (style practice 7: reject bad patterns at
  // load time). Only id 0 is probed: a pattern may put the id in the port
  // ("10.0.0.5:1910$(nodeId)"), where large ids legitimately leave 1..65535;
  // such an id fails its connection with a log line naming the address.
  std::string why;
  if (!static_broker_address(pattern, 0, &why)) fail(pattern_path, fmt::format("with node id 0: {}", why));
  backend.discovery = DiscoveryMode::static_pattern;
  backend.pattern = pattern;
}

// One name pattern of an ACL rule: "*", "prefix*" or an exact name.
policy::NamePattern read_name_pattern(const json& value, const std::string& path) {
  const std::string& text = expect_non_empty_string(value, path);
  if (text.find('*') != std::string::npos && text.find('*') != text.size() - 1) {
    fail(path, fmt::format("\"{}\": \"*\" may only end a pattern (\"*\" alone, or \"prefix*\")", text));
  }
  return policy::NamePattern::parse(text);
}

std::vector<policy::NamePattern> read_name_patterns(const json& value, const std::string& path) {
  const json& list = expect_array(value, path);
  if (list.empty()) fail(path, "is empty: a rule that names nothing never applies");
  std::vector<policy::NamePattern> patterns;
  for (std::size_t i = 0; i < list.size(); ++i) patterns.push_back(read_name_pattern(list[i], element_path(path, i)));
  return patterns;
}

// virtual_clusters[].policy.acls (docs/policy.md "ACLs"): Kafka-style rules,
// each {"allow"|"deny": [operations], one of "topics"/"groups"/
// "transactional_ids" (name patterns) or "cluster": true, optional
// "principals" (patterns; default "*") and "client_addresses" (IPs, CIDRs)}.
policy::AclSet read_acls(const json& value, const std::string& path) {
  const json& list = expect_array(value, path);
  std::vector<policy::AclRule> rules;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string rule_path = element_path(path, i);
    const ObjectReader reader(list[i], rule_path,
                              {"allow", "deny", "topics", "groups", "transactional_ids", "cluster", "principals",
                               "client_addresses"});
    policy::AclRule rule;
    const json* allow = reader.optional("allow");
    const json* deny = reader.optional("deny");
    if ((allow == nullptr) == (deny == nullptr)) fail(rule_path, "set \"allow\" or \"deny\" (a list of operations), not both");
    rule.permission = allow != nullptr ? policy::Permission::allow : policy::Permission::deny;
    const std::string operations_path = reader.path_of(allow != nullptr ? "allow" : "deny");
    const json& operations = expect_array(allow != nullptr ? *allow : *deny, operations_path);
    if (operations.empty()) fail(operations_path, "is empty: name operations (\"Read\", \"Write\", ..., or \"All\")");
    for (std::size_t j = 0; j < operations.size(); ++j) {
      const std::string& name = expect_non_empty_string(operations[j], element_path(operations_path, j));
      const std::optional<policy::OperationSet> operation = policy::parse_operation(name);
      if (!operation) {
        fail(element_path(operations_path, j),
             fmt::format("\"{}\" is not a Kafka ACL operation (Read, Write, Create, Delete, Alter, Describe, "
                         "DescribeConfigs, AlterConfigs, IdempotentWrite, All)", name));
      }
      rule.operations |= *operation;
    }
    int resources = 0;
    const auto resource = [&](std::string_view key, policy::Resource type) {
      const json* names = reader.optional(key);
      if (names == nullptr) return;
      ++resources;
      rule.resource = type;
      rule.names = read_name_patterns(*names, reader.path_of(key));
    };
    resource("topics", policy::Resource::topic);
    resource("groups", policy::Resource::group);
    resource("transactional_ids", policy::Resource::transactional_id);
    if (const json* cluster = reader.optional("cluster")) {
      if (!expect_bool(*cluster, reader.path_of("cluster"))) fail(reader.path_of("cluster"), "only true is meaningful");
      ++resources;
      rule.resource = policy::Resource::cluster;
      rule.names = {policy::NamePattern{}};
    }
    if (resources != 1) {
      fail(rule_path, "name one resource: \"topics\", \"groups\", \"transactional_ids\" or \"cluster\": true");
    }
    const policy::OperationSet supported = policy::supported_operations(rule.resource);
    if ((rule.operations & policy::kAllOperations) != policy::kAllOperations && (rule.operations & ~supported) != 0) {
      fail(operations_path, fmt::format("{} does not apply to this resource (it takes {})",
                                        policy::operation_names(rule.operations & ~supported),
                                        policy::operation_names(supported)));
    }
    rule.principals = reader.has("principals") ? read_name_patterns(reader.required("principals"), reader.path_of("principals"))
                                               : std::vector<policy::NamePattern>{policy::NamePattern{}};
    if (const json* addresses = reader.optional("client_addresses")) {
      const std::string addresses_path = reader.path_of("client_addresses");
      const json& ranges = expect_array(*addresses, addresses_path);
      if (ranges.empty()) fail(addresses_path, "is empty: a rule for no address never applies (omit it for any)");
      for (std::size_t j = 0; j < ranges.size(); ++j) {
        const std::string& text = expect_non_empty_string(ranges[j], element_path(addresses_path, j));
        const std::optional<policy::AddressRange> range = policy::AddressRange::parse(text);
        if (!range) {
          fail(element_path(addresses_path, j),
               fmt::format("\"{}\" is not an IP address or network (\"10.0.0.0/8\", \"2001:db8::/32\")", text));
        }
        rule.addresses.push_back(*range);
      }
    }
    rules.push_back(std::move(rule));
  }
  return policy::AclSet(std::move(rules));
}

// virtual_clusters[].policy (docs/policy.md): read_only, and an API list that
// either allows or denies APIs by their Kafka names.
policy::ClusterPolicy read_policy(const json& value, const std::string& path) {
  const ObjectReader reader(value, path, {"read_only", "apis", "unknown_apis", "acls"});
  policy::ClusterPolicy result;
  if (const json* acls = reader.optional("acls")) result.acls = read_acls(*acls, reader.path_of("acls"));
  if (const json* read_only = reader.optional("read_only")) {
    result.read_only = expect_bool(*read_only, reader.path_of("read_only"));
  }
  if (const json* unknown = reader.optional("unknown_apis")) {
    const std::string& mode = expect_string(*unknown, reader.path_of("unknown_apis"));
    if (mode != "deny" && mode != "allow") {
      fail(reader.path_of("unknown_apis"), fmt::format("\"{}\" is not \"deny\" or \"allow\"", mode));
    }
    result.allow_unknown_apis = mode == "allow";
  }
  if (const json* apis = reader.optional("apis")) {
    const ObjectReader lists(*apis, reader.path_of("apis"), {"allow", "deny"});
    const json* allow = lists.optional("allow");
    const json* deny = lists.optional("deny");
    if (allow != nullptr && deny != nullptr) {
      fail(lists.path(), "set \"allow\" or \"deny\", not both (an allow list denies every API it does not name)");
    }
    if (allow == nullptr && deny == nullptr) fail(lists.path(), "set \"allow\" or \"deny\"");
    result.api_mode = allow != nullptr ? policy::ApiListMode::allow : policy::ApiListMode::deny;
    const std::string list_path = lists.path_of(allow != nullptr ? "allow" : "deny");
    const json& names = expect_array(allow != nullptr ? *allow : *deny, list_path);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::string& name = expect_non_empty_string(names[i], element_path(list_path, i));
      const std::optional<std::int16_t> key = policy::parse_api_name(name);
      if (!key) {
        fail(element_path(list_path, i),
             fmt::format("\"{}\" is not a Kafka API name (as Kafka spells them: \"Produce\", \"CreateTopics\", ...)",
                         name));
      }
      result.listed_apis.set(static_cast<std::size_t>(*key));
    }
  }
  return result;
}

// One set of quota rates. `base` gives the fields the object does not name;
// a field set to null is unlimited (only where a base can be overridden).
policy::QuotaLimits read_quota_limits(const ObjectReader& reader, const policy::QuotaLimits& base, bool nullable) {
  // Below 1 KiB/s every request would wait the longest throttle; above 1 TiB/s is no limit.
  constexpr std::uint64_t kMinRate = 1024;
  constexpr std::uint64_t kMaxRate = std::uint64_t{1} << 40;
  policy::QuotaLimits limits = base;
  constexpr std::uint64_t kMaxRequestRate = 10'000'000;
  const auto read = [&](std::string_view key, std::optional<std::uint64_t>& field, std::uint64_t min,
                        std::uint64_t max) {
    const json* value = reader.optional(key);
    if (value == nullptr) return;
    if (value->is_null() && nullable) {
      field.reset();
      return;
    }
    field = expect_integer(*value, reader.path_of(key), min, max);
  };
  read("produce_bytes_per_second", limits.produce_bytes_per_second, kMinRate, kMaxRate);
  read("fetch_bytes_per_second", limits.fetch_bytes_per_second, kMinRate, kMaxRate);
  read("requests_per_second", limits.requests_per_second, 1, kMaxRequestRate);
  return limits;
}

policy::QuotaConfig read_quotas(const json& value, const std::string& path) {
  const ObjectReader reader(value, path, {"produce_bytes_per_second", "fetch_bytes_per_second", "requests_per_second",
                                         "principals",
                                         "connections_per_address", "connections_per_address_per_second"});
  policy::QuotaConfig config;
  config.each_client = read_quota_limits(reader, {}, /*nullable=*/false);
  constexpr std::uint64_t kMaxConnections = 1'000'000;
  if (const json* open = reader.optional("connections_per_address")) {
    config.connections_per_address =
        static_cast<std::uint32_t>(expect_integer(*open, reader.path_of("connections_per_address"), 1, kMaxConnections));
  }
  if (const json* rate = reader.optional("connections_per_address_per_second")) {
    config.connections_per_address_per_second = static_cast<std::uint32_t>(
        expect_integer(*rate, reader.path_of("connections_per_address_per_second"), 1, kMaxConnections));
  }
  if (const json* principals = reader.optional("principals")) {
    const std::string at = reader.path_of("principals");
    if (!principals->is_object()) fail(at, "expected an object of principal name -> rates");
    for (const auto& [name, rates] : principals->items()) {
      const std::string entry_path = fmt::format("{}.{}", at, name);
      if (name.empty()) fail(entry_path, "a principal name cannot be empty");
      const ObjectReader entry(rates, entry_path,
                               {"produce_bytes_per_second", "fetch_bytes_per_second", "requests_per_second"});
      config.principals.emplace(name, read_quota_limits(entry, config.each_client, /*nullable=*/true));
    }
  }
  return config;
}

// virtual_clusters[].namespace (docs/namespaces.md): "prefix" for all three
// kinds of name, or "topics" / "groups" / "transactional_ids" one by one.
// A topic prefix is made of Kafka's legal topic characters and leaves room
// for a name; group and transactional id prefixes are printable ASCII.
kafka::NamePrefixes read_namespace(const json& value, const std::string& path) {
  const ObjectReader reader(value, path, {"prefix", "topics", "groups", "transactional_ids", "visible"});
  kafka::NamePrefixes prefixes;
  const auto legal_topic_text = [](std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
             c == '-';
    });
  };
  const auto printable = [](std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  };
  const auto read = [&](std::string_view key, bool topic) -> std::string {
    const json* item = reader.optional(key);
    if (item == nullptr) return {};
    const std::string& text = expect_non_empty_string(*item, reader.path_of(key));
    if (topic && !legal_topic_text(text)) {
      fail(reader.path_of(key), fmt::format("\"{}\" has characters a topic name cannot have (legal: a-z A-Z 0-9 . _ -)", text));
    }
    if (topic && text.size() >= kafka::kMaxTopicNameLength) {
      fail(reader.path_of(key), fmt::format("{} characters leave no room for a topic name (Kafka's limit is {})",
                                            text.size(), kafka::kMaxTopicNameLength));
    }
    if (!printable(text)) fail(reader.path_of(key), "must be printable ASCII without spaces");
    if (text.size() > 1024) fail(reader.path_of(key), "longer than 1024 characters");
    return text;
  };
  if (reader.optional("prefix") != nullptr) {
    for (const std::string_view key : {"topics", "groups", "transactional_ids"}) {
      if (reader.optional(key) != nullptr) fail(reader.path_of(key), "set together with \"prefix\" (use one or the other)");
    }
    const std::string prefix = read("prefix", true);
    prefixes = {prefix, prefix, prefix};
  } else {
    prefixes.topic = read("topics", true);
    prefixes.group = read("groups", false);
    prefixes.transactional_id = read("transactional_ids", false);
  }
  if (prefixes.topic.empty()) fail(path, "needs a topic prefix (\"prefix\" or \"topics\")");
  return prefixes;
}

// A visible namespace confines the cluster's ACLs to its prefixes; a cluster
// without ACLs gets rules allowing everything inside the namespace (and, on
// the cluster, only what changes no other tenant's data: Describe,
// DescribeConfigs, IdempotentWrite), so the ACL machinery refuses and hides
// every name outside it.
void confine_to_namespace(VirtualClusterConfig& cluster) {
  if (!cluster.policy) cluster.policy.emplace();
  if (!cluster.policy->acls) {
    using policy::AclRule;
    using policy::NamePattern;
    using policy::Operation;
    using policy::Permission;
    using policy::Resource;
    const std::vector<NamePattern> any{NamePattern::parse("*")};
    std::vector<AclRule> rules;
    for (const Resource resource : {Resource::topic, Resource::group, Resource::transactional_id}) {
      rules.push_back({Permission::allow, policy::supported_operations(resource), resource, any,
                       any, {}});
    }
    rules.push_back({Permission::allow,
                     static_cast<policy::OperationSet>(policy::bit(Operation::describe) |
                                                       policy::bit(Operation::describe_configs) |
                                                       policy::bit(Operation::idempotent_write)),
                     Resource::cluster, any, any, {}});
    cluster.policy->acls = policy::AclSet(std::move(rules));
  }
  const kafka::NamePrefixes& prefixes = *cluster.name_prefixes;
  cluster.policy->acls->confine({prefixes.topic, prefixes.group, prefixes.transactional_id});
}

// An Origin as browsers serialise it (RFC 6454 §6.2): "http" or "https",
// "://", a lower-case host name, IPv4 address or bracketed IPv6 address, and
// a port only when it is not the scheme's default. Returns why not, or "".
std::string origin_problem(std::string_view origin) {
  std::string_view rest = origin;
  std::string_view default_port;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    default_port = "443";
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
    default_port = "80";
  } else {
    return "not an origin: expected http:// or https://, then the host (as a browser sends it, e.g. "
           "\"https://app.example.com\")";
  }
  if (rest.empty()) return "has no host";
  std::string_view host = rest;
  std::string_view port;
  if (rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return "has an unclosed '[' in its host";
    host = rest.substr(0, close + 1);
    if (host.size() == 2) return "has no host";
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty() && after.front() != ':') return "has something other than a port after the host";
    if (!after.empty()) port = after.substr(1);
    for (const char c : host.substr(1, host.size() - 2)) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.')) {
        return "has an IPv6 host that is not lower-case hex, ':' and '.'";
      }
    }
  } else {
    const std::size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return "has an empty port";
    }
    if (host.empty()) return "has no host";
    for (const char c : host) {
      if (c >= 'A' && c <= 'Z') return "has upper-case letters (browsers send the host in lower case)";
      if (c == '/') return "has a path (an origin is scheme://host[:port] only, no '/')";
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')) {
        return "has a character a host name cannot have";
      }
    }
  }
  if (!port.empty() || rest.size() > host.size()) {
    if (port.empty()) return "has an empty port";
    if (port.find('/') != std::string_view::npos) return "has a path (an origin is scheme://host[:port] only, no '/')";
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        port.front() == '0' || port.size() > 5 || std::stoul(std::string(port)) > 65535) {
      return "has a port that is not a number 1..65535 without leading zeros";
    }
    if (port == default_port) {
      return fmt::format("names the scheme's default port {} (browsers leave it out, so it would never match)",
                         default_port);
    }
  }
  return {};
}

// virtual_clusters[].http: the cluster's HTTP/WebSocket front (HttpFrontConfig).
HttpFrontConfig read_http_front(const json& value, const std::string& path) {
  const ObjectReader reader(value, path,
                            {"enabled", "websocket_path", "max_message_bytes", "fetch_max_bytes", "fetch_max_wait_ms",
                             "allowed_origins", "passthrough_mechanism"});
  // A WebSocket message or a Fetch response below 1 KiB holds hardly a record;
  // above 64 MiB one client could hold that much of kedge's memory.
  constexpr std::uint64_t kMinBytes = kKiB;
  constexpr std::uint64_t kMaxBytes = 64 * kKiB * kKiB;
  constexpr std::size_t kMaxPathBytes = 255;
  HttpFrontConfig config;
  if (const json* enabled = reader.optional("enabled")) {
    config.enabled = expect_bool(*enabled, reader.path_of("enabled"));
  }
  if (const json* ws_path = reader.optional("websocket_path")) {
    const std::string at = reader.path_of("websocket_path");
    const std::string& text = expect_string(*ws_path, at);
    if (text.empty() || text.front() != '/') fail(at, fmt::format("\"{}\" does not start with '/'", text));
    if (text.size() > kMaxPathBytes) fail(at, fmt::format("longer than {} bytes", kMaxPathBytes));
    for (const char c : text) {
      if (c == '?' || c == '#') {
        fail(at, fmt::format("\"{}\" holds '{}': the path is matched without a query or fragment", text, c));
      }
      if (c <= 0x20 || c >= 0x7f) {
        fail(at, fmt::format("\"{}\" holds a space, a control character or non-ASCII (a request path is "
                             "visible ASCII; percent-encode the rest)",
                             text));
      }
    }
    config.websocket_path = text;
  }
  const auto read = [&](std::string_view key, std::uint32_t& field, std::uint64_t min, std::uint64_t max) {
    if (const json* number = reader.optional(key)) {
      field = static_cast<std::uint32_t>(expect_integer(*number, reader.path_of(key), min, max));
    }
  };
  read("max_message_bytes", config.max_message_bytes, kMinBytes, kMaxBytes);
  read("fetch_max_bytes", config.fetch_max_bytes, kMinBytes, kMaxBytes);
  read("fetch_max_wait_ms", config.fetch_max_wait_ms, 0, 30'000);
  if (const json* mechanism = reader.optional("passthrough_mechanism")) {
    const std::string at = reader.path_of("passthrough_mechanism");
    const std::string& text = expect_string(*mechanism, at);
    bool known = false;
    for (const SaslMechanism candidate :
         {SaslMechanism::plain, SaslMechanism::scram_sha_256, SaslMechanism::scram_sha_512}) {
      if (text == to_string(candidate)) {
        config.passthrough_mechanism = candidate;
        known = true;
      }
    }
    if (!known) {
      fail(at, fmt::format("\"{}\" is not a SASL mechanism kedge speaks (expected PLAIN, SCRAM-SHA-256 or "
                           "SCRAM-SHA-512)",
                           text));
    }
  }
  if (const json* origins = reader.optional("allowed_origins")) {
    const std::string at = reader.path_of("allowed_origins");
    config.allowed_origins = read_distinct_strings(*origins, at);
    for (std::size_t i = 0; i < config.allowed_origins.size(); ++i) {
      const std::string& origin = config.allowed_origins[i];
      if (origin == "null") {
        fail(element_path(at, i), "\"null\" is the origin of every sandboxed or file:// page, not one site "
                                  "(list the sites' origins, e.g. \"https://app.example.com\")");
      }
      if (const std::string why = origin_problem(origin); !why.empty()) {
        fail(element_path(at, i), fmt::format("\"{}\" {}", origin, why));
      }
    }
  }
  return config;
}

std::vector<VirtualClusterConfig> read_virtual_clusters(const json& value, const std::string& path,
                                                        const fs::path& base_dir) {
  const json& array = expect_array(value, path);
  if (array.empty()) fail(path, "at least one virtual cluster is required");
  std::vector<VirtualClusterConfig> clusters;
  sni::HostnameMapper mapper;  // detects host-name collisions across clusters, in order
  for (std::size_t i = 0; i < array.size(); ++i) {
    const ObjectReader entry(array[i], element_path(path, i),
                             {"name", "hostnames", "backend", "tls", "authentication", "principals", "policy", "quotas",
                              "namespace", "http"});
    VirtualClusterConfig cluster;

    cluster.name = expect_non_empty_string(entry.required("name"), entry.path_of("name"));
    check_cluster_name(cluster.name, entry.path_of("name"));
    for (std::size_t j = 0; j < clusters.size(); ++j) {
      if (clusters[j].name == cluster.name) {
        fail(entry.path_of("name"),
             fmt::format("\"{}\" is already used by {}", cluster.name, element_path(path, j)));
      }
    }

    const ObjectReader hostnames(entry.required("hostnames"), entry.path_of("hostnames"),
                                 {"format", "domain"});
    const std::string& format_text =
        expect_string(hostnames.required("format"), hostnames.path_of("format"));
    const auto format = sni::parse_hostname_format(format_text);
    if (!format) {
      fail(hostnames.path_of("format"),
           fmt::format("\"{}\" is not a host-name format (expected \"{}\" or \"{}\")", format_text,
                       sni::to_string(sni::HostnameFormat::subdomain),
                       sni::to_string(sni::HostnameFormat::shared_suffix)));
    }
    cluster.format = *format;
    cluster.domain = expect_non_empty_string(hostnames.required("domain"), hostnames.path_of("domain"));
    if (std::string error = mapper.add_cluster({cluster.name, cluster.format, cluster.domain});
        !error.empty()) {
      fail(hostnames.path(), error);
    }
    cluster.domain = mapper.clusters().back().domain;  // the mapper's canonical form

    const ObjectReader backend(entry.required("backend"), entry.path_of("backend"),
                               {"bootstrap_servers", "tls", "discovery", "sasl"});
    const std::string servers_path = backend.path_of("bootstrap_servers");
    const json& servers = expect_array(backend.required("bootstrap_servers"), servers_path);
    if (servers.empty()) fail(servers_path, "at least one bootstrap server is required");
    for (std::size_t s = 0; s < servers.size(); ++s) {
      cluster.backend.bootstrap_servers.push_back(
          expect_host_port(servers[s], element_path(servers_path, s)));
    }
    if (const json* tls = backend.optional("tls")) {
      cluster.backend.tls = read_upstream_tls(*tls, backend.path_of("tls"), base_dir);
    }
    if (const json* discovery = backend.optional("discovery")) {
      read_discovery(*discovery, backend.path_of("discovery"), cluster.backend, base_dir);
    }
    if (const json* sasl = backend.optional("sasl")) {
      if (cluster.backend.discovery_sasl) {
        fail(backend.path_of("discovery") + ".sasl",
             "set together with backend.sasl, which discovery uses as well (keep only backend.sasl)");
      }
      cluster.backend.sasl = read_sasl_credentials(*sasl, backend.path_of("sasl"), base_dir);
    }

    if (const json* tls = entry.optional("tls")) {
      cluster.tls = read_tls_files(*tls, entry.path_of("tls"), base_dir);
    }
    if (const json* authentication = entry.optional("authentication")) {
      cluster.authentication = read_authentication(*authentication, entry.path_of("authentication"), base_dir);
    }
    if (const json* principals = entry.optional("principals")) {
      cluster.principals = read_principals(*principals, entry.path_of("principals"));
    }
    if (const json* policy = entry.optional("policy")) {
      cluster.policy = read_policy(*policy, entry.path_of("policy"));
    }
    if (const json* quotas = entry.optional("quotas")) {
      cluster.quotas = read_quotas(*quotas, entry.path_of("quotas"));
    }
    if (const json* name_space = entry.optional("namespace")) {
      cluster.name_prefixes = read_namespace(*name_space, entry.path_of("namespace"));
      if (name_space->contains("visible")) {
        cluster.namespace_visible = expect_bool(name_space->at("visible"), entry.path_of("namespace") + ".visible");
      }
      if (cluster.namespace_visible) confine_to_namespace(cluster);
      // Namespaces on one backend must not nest: a prefix that starts another
      // would show one tenant the other's topics (under a longer name).
      for (std::size_t j = 0; j < clusters.size(); ++j) {
        const VirtualClusterConfig& other = clusters[j];
        if (!other.name_prefixes || other.backend.bootstrap_servers != cluster.backend.bootstrap_servers) continue;
        const std::string& a = cluster.name_prefixes->topic;
        const std::string& b = other.name_prefixes->topic;
        if (a.starts_with(b) || b.starts_with(a)) {
          fail(entry.path_of("namespace"),
               fmt::format("topic prefix \"{}\" overlaps \"{}\" of {} on the same backend (namespaces must not nest)",
                           a, b, element_path(path, j)));
        }
      }
    }
    if (const json* http = entry.optional("http")) cluster.http = read_http_front(*http, entry.path_of("http"));
    clusters.push_back(std::move(cluster));
  }
  return clusters;
}

LogConfig read_log(const json& value, const std::string& path) {
  const ObjectReader log(value, path, {"level", "format"});
  LogConfig config;
  if (const json* format = log.optional("format")) {
    const std::string& text = expect_string(*format, log.path_of("format"));
    if (text == "text") {
      config.format = LogFormat::text;
    } else if (text == "json") {
      config.format = LogFormat::json;
    } else {
      fail(log.path_of("format"), fmt::format("\"{}\" is not a log format (expected text or json)", text));
    }
  }
  if (const json* level = log.optional("level")) {
    const std::string& text = expect_string(*level, log.path_of("level"));
    if (const std::optional<LogLevel> parsed = parse_log_level(text)) {
      config.level = *parsed;
    } else {
      fail(log.path_of("level"),
           fmt::format("\"{}\" is not a log level (expected trace, debug, info, warn or error)", text));
    }
  }
  return config;
}

// limits.authentication_failures, within identity::AttemptLimiter's bounds
// (1 <= delay_after <= block_after <= kMaxBlockAfter).
Limits::AuthenticationFailures read_authentication_failures(const json& value, const std::string& path) {
  const ObjectReader reader(value, path,
                            {"delay_after", "block_after", "window_ms", "delay_step_ms", "max_delay_ms", "block_ms"});
  constexpr std::uint64_t kDay = 86'400'000;
  // A delayed answer holds the client's request; Kafka clients time out
  // requests after 30 s by default, so a minute is already past any use.
  constexpr std::uint64_t kMaxDelayMs = 60'000;
  Limits::AuthenticationFailures config;
  const auto read = [&](std::string_view key, std::uint32_t& field, std::uint64_t min, std::uint64_t max) {
    if (const json* number = reader.optional(key)) {
      field = static_cast<std::uint32_t>(expect_integer(*number, reader.path_of(key), min, max));
    }
  };
  read("delay_after", config.delay_after, 1, identity::kMaxBlockAfter);
  read("block_after", config.block_after, 1, identity::kMaxBlockAfter);
  read("window_ms", config.window_ms, 1000, kDay);
  read("delay_step_ms", config.delay_step_ms, 0, kMaxDelayMs);
  read("max_delay_ms", config.max_delay_ms, 0, kMaxDelayMs);
  read("block_ms", config.block_ms, 1000, kDay);
  if (config.block_after < config.delay_after) {
    fail(reader.path_of("block_after"),
         fmt::format("{} is below delay_after ({}): an address is delayed first, then blocked", config.block_after,
                     config.delay_after));
  }
  return config;
}

Limits read_limits(const json& value, const std::string& path) {
  const ObjectReader limits(value, path,
                            {"max_frame_bytes", "client_hello_timeout_ms", "upstream_connect_timeout_ms",
                             "high_watermark_bytes", "drain_timeout_ms", "certificate_check_interval_ms",
                             "fetch_buffer_bytes", "resolve_cache_ms", "authentication_failures"});
  // A zero timeout would fire on the next loop turn and reject every
  // connection; an hour is far beyond any sane handshake or connect.
  constexpr std::uint64_t kMaxTimeoutMs = 3'600'000;
  Limits config;
  const auto read = [&](std::string_view key, std::uint32_t& field, std::uint64_t min, std::uint64_t max) {
    if (const json* number = limits.optional(key)) {
      field = static_cast<std::uint32_t>(expect_integer(*number, limits.path_of(key), min, max));
    }
  };
  read("max_frame_bytes", config.max_frame_bytes, kKiB, kGiB);
  read("client_hello_timeout_ms", config.client_hello_timeout_ms, 1, kMaxTimeoutMs);
  read("upstream_connect_timeout_ms", config.upstream_connect_timeout_ms, 1, kMaxTimeoutMs);
  read("high_watermark_bytes", config.high_watermark_bytes, 16 * kKiB, kGiB);
  read("drain_timeout_ms", config.drain_timeout_ms, 1, kMaxTimeoutMs);
  read("certificate_check_interval_ms", config.certificate_check_interval_ms, 0, kMaxTimeoutMs);
  read("fetch_buffer_bytes", config.fetch_buffer_bytes, 0, kGiB);
  read("resolve_cache_ms", config.resolve_cache_ms, 0, kMaxTimeoutMs);
  if (const json* failures = limits.optional("authentication_failures")) {
    config.authentication_failures =
        read_authentication_failures(*failures, limits.path_of("authentication_failures"));
  }
  return config;
}

// "admin": {"enabled", "bind", "token_file", "readiness_probe_interval_ms", "principal_metric_limit"}.
// The token is read here so a missing or empty token file fails `validate`.
AdminConfig read_admin(const json& value, const std::string& path, const fs::path& base_dir) {
  const ObjectReader admin(value, path,
                           {"enabled", "bind", "token_file", "readiness_probe_interval_ms", "principal_metric_limit"});
  AdminConfig config;
  if (const json* enabled = admin.optional("enabled")) {
    if (!enabled->is_boolean()) {
      fail(admin.path_of("enabled"), fmt::format("expected true or false, got {}", describe(*enabled)));
    }
    config.enabled = enabled->get<bool>();
  }
  if (const json* bind = admin.optional("bind")) {
    const std::string& text = expect_string(*bind, admin.path_of("bind"));
    // Port 0 (any free port, logged at startup) is allowed here, unlike for
    // Kafka listeners whose port is advertised to clients.
    const bool any_port = text.size() > 2 && text.compare(text.size() - 2, 2, ":0") == 0;
    config.bind = expect_host_port(any_port ? json(text.substr(0, text.size() - 1) + "1") : *bind,
                                   admin.path_of("bind"));
    if (any_port) config.bind.port = 0;
  }
  if (const json* token_file = admin.optional("token_file")) {
    const std::string token_path = admin.path_of("token_file");
    const fs::path file = expect_readable_file(*token_file, token_path, base_dir);
    std::ifstream stream(file, std::ios::binary);
    std::ostringstream text;
    text << stream.rdbuf();
    std::string token = text.str();
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!token.empty() && is_space(token.back())) token.pop_back();
    std::size_t start = 0;
    while (start < token.size() && is_space(token[start])) ++start;
    token.erase(0, start);
    if (token.empty()) fail(token_path, fmt::format("token file {} is empty", file.string()));
    if (token.size() > 4096) fail(token_path, "token is longer than 4096 bytes");
    for (const char c : token) {
      // RFC 6750 §2.1 b64token characters, so the token fits an Authorization header.
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
      if (!ok) fail(token_path, "token contains characters outside RFC 6750 b64token (A-Z a-z 0-9 - . _ ~ + / =)");
    }
    config.token_file = file;
    config.token = std::move(token);
  }
  if (const json* interval = admin.optional("readiness_probe_interval_ms")) {
    config.readiness_probe_interval_ms = static_cast<std::uint32_t>(
        expect_integer(*interval, admin.path_of("readiness_probe_interval_ms"), 100, 3'600'000));
  }
  if (const json* limit = admin.optional("principal_metric_limit")) {
    config.principal_metric_limit =
        static_cast<std::uint32_t>(expect_integer(*limit, admin.path_of("principal_metric_limit"), 0, 1000));
  }
  if (!config.enabled && admin.has("bind")) {
    // Harmless, but a bind next to enabled:false is almost certainly a mistake.
    fail(admin.path_of("enabled"), "false, but admin.bind is set (remove one of them)");
  }
  return config;
}

// Port-routed listeners name their virtual cluster; resolved once both lists are read.
void resolve_port_routing(Config& config) {
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    if (!config.listeners[i].port_routing) continue;
    PortRouting& routing = *config.listeners[i].port_routing;
    bool found = false;
    std::string known;
    for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
      known += known.empty() ? "" : ", ";
      known += config.virtual_clusters[c].name;
      if (config.virtual_clusters[c].name == routing.virtual_cluster) {
        routing.cluster_index = c;
        found = true;
      }
    }
    if (!found) {
      fail(fmt::format("listeners[{}].routing.virtual_cluster", i),
           fmt::format("\"{}\" is not a virtual cluster (known: {})", routing.virtual_cluster, known));
    }
  }
}

// Rules that need both lists: every (listener, cluster) pair a client can
// reach whose effective authentication is terminate must have principals to
// bind, and client certificates need a TLS listener.
void check_authentication_scopes(const Config& config) {
  for (std::size_t l = 0; l < config.listeners.size(); ++l) {
    const ListenerConfig& listener = config.listeners[l];
    for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
      if (!routes_to(listener, c)) continue;
      const VirtualClusterConfig& cluster = config.virtual_clusters[c];
      const AuthenticationConfig& authentication = effective_authentication(listener, cluster);
      if (authentication.mode != AuthenticationMode::terminate) continue;
      const std::string source = authentication_path(config, l, c);
      if (cluster.principals.empty()) {
        fail(fmt::format("virtual_clusters[{}].principals", c),
             fmt::format("missing: kedge authenticates clients of virtual cluster {} on listener {} ({}), so it "
                         "must list who may use it, e.g. [\"alice\", \"etl-*\"] or [\"*\"] for every "
                         "authenticated client",
                         cluster.name, listener.name, source));
      }
      if (authentication.mtls && !listener.tls) {
        fail(source + ".mtls",
             fmt::format("listener {} (listeners[{}]) is plaintext, and client certificates need TLS (give the "
                         "listener \"tls\", or authenticate with \"sasl\" only)",
                         listener.name, l));
      }
    }
  }
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

}  // namespace

// ---------------------------------------------------------------------------

std::optional<std::uint16_t> broker_port(const PortRouting& routing, std::int32_t node_id) {
  if (node_id < 0 || node_id > routing.max_node_id) return std::nullopt;
  return static_cast<std::uint16_t>(std::uint32_t{routing.broker_port_base} + static_cast<std::uint32_t>(node_id));
}

std::optional<std::int32_t> node_for_port(const PortRouting& routing, std::uint16_t port) {
  if (port < routing.broker_port_base) return std::nullopt;
  const auto node_id = static_cast<std::int32_t>(port - routing.broker_port_base);
  if (node_id > routing.max_node_id) return std::nullopt;
  return node_id;
}

std::optional<HostPort> static_broker_address(const std::string& pattern, std::int32_t node_id,
                                              std::string* error) {
  std::string text = pattern;
  const std::string id = std::to_string(node_id);
  for (std::size_t pos = 0; (pos = text.find(kNodeIdPlaceholder, pos)) != std::string::npos; pos += id.size()) {
    text.replace(pos, kNodeIdPlaceholder.size(), id);
  }
  try {
    return parse_host_port(text);
  } catch (const std::invalid_argument& invalid) {
    if (error != nullptr) *error = invalid.what();
    return std::nullopt;
  }
}

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string_view to_string(SaslMechanism mechanism) {
  switch (mechanism) {
    case SaslMechanism::plain: return "PLAIN";
    case SaslMechanism::scram_sha_256: return "SCRAM-SHA-256";
    case SaslMechanism::scram_sha_512: return "SCRAM-SHA-512";
  }
  return "unknown";
}

std::string_view to_string(AuthenticationMode mode) {
  switch (mode) {
    case AuthenticationMode::passthrough: return "passthrough";
    case AuthenticationMode::terminate: return "terminate";
  }
  return "unknown";
}

std::string_view to_string(TerminatedMechanism mechanism) {
  switch (mechanism) {
    case TerminatedMechanism::plain: return "PLAIN";
    case TerminatedMechanism::scram_sha_256: return "SCRAM-SHA-256";
    case TerminatedMechanism::scram_sha_512: return "SCRAM-SHA-512";
    case TerminatedMechanism::oauthbearer: return "OAUTHBEARER";
  }
  return "unknown";
}

std::string_view to_string(ClientCertificates mode) {
  switch (mode) {
    case ClientCertificates::required: return "required";
    case ClientCertificates::optional: return "optional";
  }
  return "unknown";
}

std::string_view to_string(CertificatePrincipalSource source) {
  switch (source) {
    case CertificatePrincipalSource::subject_cn: return "subject_cn";
    case CertificatePrincipalSource::san_dns: return "san_dns";
    case CertificatePrincipalSource::san_uri: return "san_uri";
    case CertificatePrincipalSource::san_email: return "san_email";
    case CertificatePrincipalSource::rules: return "rules";
  }
  return "unknown";
}

bool SaslTerminationConfig::offers(TerminatedMechanism mechanism) const {
  return std::find(mechanisms.begin(), mechanisms.end(), mechanism) != mechanisms.end();
}

bool SaslTerminationConfig::offers_password_mechanism() const {
  return offers(TerminatedMechanism::plain) || offers(TerminatedMechanism::scram_sha_256) ||
         offers(TerminatedMechanism::scram_sha_512);
}

const AuthenticationConfig& effective_authentication(const ListenerConfig& listener,
                                                     const VirtualClusterConfig& cluster) {
  static const AuthenticationConfig kPassthrough{};
  if (cluster.authentication) return *cluster.authentication;
  if (listener.authentication) return *listener.authentication;
  return kPassthrough;
}

bool http_front_enabled(const ListenerConfig& listener, const VirtualClusterConfig& cluster) {
  return listener.http_enabled && !listener.port_routing && cluster.http.enabled;
}

bool routes_to(const ListenerConfig& listener, std::size_t cluster_index) {
  return !listener.port_routing || listener.port_routing->cluster_index == cluster_index;
}

std::string authentication_path(const Config& config, std::size_t listener_index, std::size_t cluster_index) {
  if (config.virtual_clusters[cluster_index].authentication) {
    return fmt::format("virtual_clusters[{}].authentication", cluster_index);
  }
  if (config.listeners[listener_index].authentication) {
    return fmt::format("listeners[{}].authentication", listener_index);
  }
  return "";
}

std::string_view to_string(ProxyProtocolMode mode) {
  switch (mode) {
    case ProxyProtocolMode::off: return "off";
    case ProxyProtocolMode::optional: return "optional";
    case ProxyProtocolMode::required: return "required";
  }
  return "unknown";
}

// Grammar: HOST ":" PORT | "[" IPV6 "]" ":" PORT, where HOST is a DNS name or
// an IPv4 literal, IPV6 an RFC 4291 §2.2 literal (optionally with a %zone), and
// PORT a decimal 1..65535 (RFC 3986 §3.2.2/§3.2.3 authority syntax, without
// userinfo).
HostPort parse_host_port(const std::string& text) {
  const auto not_host_port = [&]() {
    return std::invalid_argument(
        fmt::format("\"{}\" is not host:port (expected HOST:PORT or [IPv6]:PORT)", text));
  };
  HostPort result;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw not_host_port();
    }
    result.host = text.substr(1, close - 1);
    port_text = std::string_view(text).substr(close + 2);
    const std::string address = result.host.substr(0, result.host.find('%'));
    in6_addr parsed{};
    if (address.empty() || inet_pton(AF_INET6, address.c_str(), &parsed) != 1) {
      throw std::invalid_argument(
          fmt::format("\"{}\": \"{}\" is not an IPv6 address", text, result.host));
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) throw not_host_port();
    result.host = text.substr(0, colon);
    port_text = std::string_view(text).substr(colon + 1);
    if (result.host.empty()) {
      throw std::invalid_argument(fmt::format("\"{}\": host is empty (expected HOST:PORT)", text));
    }
    if (result.host.find(':') != std::string::npos) {
      throw std::invalid_argument(
          fmt::format("\"{}\": IPv6 addresses need brackets (expected [IPv6]:PORT)", text));
    }
    for (const char c : result.host) {
      if (!is_host_char(c)) {
        throw std::invalid_argument(
            fmt::format("\"{}\": host \"{}\" contains characters not allowed in a host name", text,
                        result.host));
      }
    }
  }
  if (port_text.empty() || port_text.size() > 5) throw not_host_port();
  unsigned port = 0;
  for (const char c : port_text) {
    if (c < '0' || c > '9') throw not_host_port();
    port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (port < 1 || port > 65535) {
    throw std::invalid_argument(fmt::format("\"{}\": port {} is out of range (1..65535)", text, port));
  }
  result.port = static_cast<std::uint16_t>(port);
  return result;
}

Config parse_config(const std::string& json_text, const fs::path& origin_file) {
  const fs::path source = fs::absolute(origin_file).lexically_normal();
  const fs::path base_dir = source.parent_path();
  const json root = parse_json_text(json_text, origin_file);

  const ObjectReader top(root, "", {"listeners", "virtual_clusters", "log", "limits", "admin", "workers", "audit"});
  Config config;
  config.source = source;
  config.listeners = read_listeners(top.required("listeners"), "listeners", base_dir);
  config.virtual_clusters =
      read_virtual_clusters(top.required("virtual_clusters"), "virtual_clusters", base_dir);
  resolve_port_routing(config);
  check_authentication_scopes(config);
  if (const json* log = top.optional("log")) config.log = read_log(*log, "log");
  if (const json* limits = top.optional("limits")) config.limits = read_limits(*limits, "limits");
  if (const json* workers = top.optional("workers")) {
    config.workers = static_cast<unsigned>(expect_integer(*workers, "workers", 0, 256));
  }
  if (const json* admin = top.optional("admin")) config.admin = read_admin(*admin, "admin", base_dir);
  if (const json* audit = top.optional("audit")) {
    const ObjectReader reader(*audit, "audit", {"file"});
    const std::string& file = expect_non_empty_string(reader.required("file"), reader.path_of("file"));
    config.audit = AuditConfig{file == "-" ? file : (base_dir / file).lexically_normal().string()};
  }
  for (std::size_t i = 0; i < config.listeners.size() && config.admin.enabled; ++i) {
    if (binds_overlap(config.listeners[i].bind, config.admin.bind)) {
      fail("admin.bind",
           fmt::format("{} conflicts with listener \"{}\" (listeners[{}].bind); set admin.bind",
                       config.admin.bind.to_string(), config.listeners[i].name, i));
    }
  }
  return config;
}

std::vector<fs::path> watched_files(const Config& config) {
  std::vector<fs::path> files;
  const auto add = [&files](const fs::path& file) {
    if (std::find(files.begin(), files.end(), file) == files.end()) files.push_back(file);
  };
  const auto add_authentication = [&](const std::optional<AuthenticationConfig>& authentication) {
    if (!authentication) return;
    if (const auto& sasl = authentication->sasl) {
      if (sasl->users_file) add(*sasl->users_file);
      if (sasl->oauthbearer) add(sasl->oauthbearer->jwks_file);
    }
    if (const auto& mtls = authentication->mtls) {
      add(mtls->ca_file);
      if (mtls->crl_file) add(*mtls->crl_file);
    }
  };
  for (const auto& listener : config.listeners) {
    if (listener.tls) {
      add(listener.tls->cert);
      add(listener.tls->key);
    }
    add_authentication(listener.authentication);
  }
  for (const auto& vc : config.virtual_clusters) {
    if (vc.tls) {
      add(vc.tls->cert);
      add(vc.tls->key);
    }
    if (vc.backend.tls) {
      if (vc.backend.tls->ca_file) add(*vc.backend.tls->ca_file);
      if (vc.backend.tls->client_cert) {
        add(vc.backend.tls->client_cert->cert);
        add(vc.backend.tls->client_cert->key);
      }
    }
    if (vc.backend.discovery_sasl) add(vc.backend.discovery_sasl->password_file);
    if (vc.backend.sasl) add(vc.backend.sasl->password_file);
    add_authentication(vc.authentication);
  }
  return files;
}

Config load_config(const fs::path& file) {
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    throw ConfigError(fmt::format("{}: cannot open configuration file: {}", file.string(),
                                  std::strerror(errno)));
  }
  std::ostringstream text;
  text << stream.rdbuf();
  if (stream.bad()) {
    throw ConfigError(fmt::format("{}: cannot read configuration file", file.string()));
  }
  return parse_config(text.str(), file);
}

Config load_config_without_files(const fs::path& file) {
  struct Restore {
    ~Restore() { g_require_files = true; }
  } restore;
  g_require_files = false;
  return load_config(file);
}

}  // namespace kedge
