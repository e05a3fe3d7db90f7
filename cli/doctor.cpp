// `kedge check` (see check.h).
#include "cli/doctor.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "certs/client_ca.h"
#include "certs/tls_context.h"
#include "identity/jwks.h"
#include "identity/users_file.h"
#include "policy/policy.h"
#include "sni/hostname.h"
#include "upstream/kafka_client.h"
#include "upstream/link.h"

namespace kedge::check {
namespace {

using nlohmann::json;

std::string cluster_path(std::size_t index) { return fmt::format("virtual_clusters[{}]", index); }

// ---------------------------------------------------------------------------
// Name resolution for the DNS checks (getaddrinfo, as clients resolve).

std::string numeric_host(const sockaddr* address, socklen_t length) {
  char host[NI_MAXHOST];
  if (getnameinfo(address, length, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) return "?";
  return host;
}

// Resolves host (any family); returns the numeric addresses or sets error.
std::vector<std::string> resolve(const std::string& host, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  std::vector<std::string> addresses;
  if (rc != 0) {
    error = gai_strerror(rc);
    return addresses;
  }
  for (addrinfo* entry = result; entry != nullptr; entry = entry->ai_next) {
    std::string text = numeric_host(entry->ai_addr, entry->ai_addrlen);
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) addresses.push_back(text);
  }
  freeaddrinfo(result);
  return addresses;
}

// ---------------------------------------------------------------------------
// Host-name enumeration.

// SNI listeners serve every virtual cluster under its own names (sni/hostname.h).
// A port-routed listener would add its names here: `<advertised_host>` with
// port broker_port_base + node id for its one virtual cluster, no certificate.
void add_sni_listener_names(const Config& config, std::size_t listener_index, const sni::HostnameMapper& mapper,
                            const KnownBrokers& brokers, std::vector<ClientName>& out) {
  const ListenerConfig& listener = config.listeners[listener_index];
  for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
    const VirtualClusterConfig& vc = config.virtual_clusters[c];
    ClientName base;
    base.port = listener.advertised_port;
    base.listener = listener_index;
    base.virtual_cluster = c;
    if (vc.tls) {
      base.certificate_path = cluster_path(c) + ".tls";
    } else {
      base.certificate_path = fmt::format("listeners[{}].tls", listener_index);
    }
    ClientName bootstrap = base;
    bootstrap.host = mapper.bootstrap_host(c);
    out.push_back(bootstrap);
    if (c < brokers.size()) {
      std::vector<std::int32_t> ids;
      for (const auto& broker : brokers[c]) ids.push_back(broker.node_id);
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      for (const std::int32_t id : ids) {
        ClientName broker = base;
        broker.role = ClientName::Role::broker;
        broker.node_id = id;
        broker.host = mapper.broker_host(c, id);
        if (!broker.host.empty()) out.push_back(broker);
      }
    }
    // The HTTP front's name sits one label below the domain like the others,
    // so the same wildcard record and certificate serve it.
    if (http_front_enabled(listener, vc)) {
      ClientName http = base;
      http.role = ClientName::Role::http;
      http.host = mapper.http_host(c);
      out.push_back(http);
    }
  }
}

sni::HostnameMapper mapper_of(const Config& config) {
  sni::HostnameMapper mapper;
  for (const auto& vc : config.virtual_clusters) mapper.add_cluster({vc.name, vc.format, vc.domain});
  return mapper;
}

// The domain a client name's wildcard record lives in: everything after its first label.
std::string parent_domain(const std::string& host) {
  const auto dot = host.find('.');
  return dot == std::string::npos ? host : host.substr(dot + 1);
}

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// "bootstrap", "broker" or "http", as --json spells the role.
std::string_view role_name(ClientName::Role role) {
  switch (role) {
    case ClientName::Role::bootstrap:
      return "bootstrap";
    case ClientName::Role::broker:
      return "broker";
    case ClientName::Role::http:
      return "http";
  }
  return "unknown";
}

std::string role_text(const ClientName& name) {
  if (name.role == ClientName::Role::broker) return fmt::format("broker {}", name.node_id);
  return std::string(role_name(name.role));
}

// ---------------------------------------------------------------------------
// Network probes: kedge's own upstream client (upstream/kafka_client.h, the
// Link alone for reachability) on a private libuv loop, exactly as discovery
// talks to brokers: ApiVersions, backend.tls and backend.discovery.sasl,
// Metadata at the highest version both sides support. Probes run
// concurrently, each bounded by Options::timeout_ms.

// A loop of our own, closed once every handle on it has closed.
class ProbeLoop {
 public:
  ProbeLoop() {
    // libuv writes with write(2): a broker that resets a connection must be an
    // error value, not SIGPIPE ending `kedge check` (as `kedge run` does it:
    // control/supervisor.cpp).
    std::signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop_);
  }
  ~ProbeLoop() {
    uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks still owed
    uv_loop_close(&loop_);
  }
  ProbeLoop(const ProbeLoop&) = delete;
  ProbeLoop& operator=(const ProbeLoop&) = delete;
  uv_loop_t* loop() { return &loop_; }
  io::LoopScratch& scratch() { return scratch_; }
  // Until every probe has finished and closed.
  void run() { uv_run(&loop_, UV_RUN_DEFAULT); }

 private:
  uv_loop_t loop_{};
  io::LoopScratch scratch_;
};

// What the Link's settings need from backend.tls for one cluster: the client
// context (null: plaintext), or why it could not be built.
struct BackendTls {
  certs::SslCtxPtr context;
  std::string error;
  upstream::LinkSettings settings(std::uint32_t timeout_ms, const BackendConfig& backend) const {
    return upstream::backend_link_settings(backend, context.get(), timeout_ms);
  }
};

BackendTls backend_tls(const BackendConfig& backend) {
  BackendTls out;
  if (!backend.tls) return out;
  const UpstreamTlsConfig& tls = *backend.tls;
  try {
    out.context = certs::make_client_context(certs::ClientTlsFiles{
        tls.ca_file, tls.client_cert ? std::optional(tls.client_cert->cert) : std::nullopt,
        tls.client_cert ? std::optional(tls.client_cert->key) : std::nullopt, tls.verify});
  } catch (const certs::TlsSetupError& e) {
    out.error = fmt::format("cannot set up backend.tls: {}", e.what());
  }
  return out;
}

std::string capitalized(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return text;
}

// A connection that never came up, in the words the report has always used
// (docs/troubleshooting.md): the system's reason first, then where, e.g.
// "Connection refused (127.0.0.1:9092)".
std::string connection_error_text(const upstream::LinkError& error, const HostPort& target,
                                  std::uint32_t timeout_ms) {
  switch (error.code) {
    case upstream::LinkErrc::connect_failed:
      return error.detail.find('(') != std::string::npos
                 ? capitalized(error.detail)
                 : fmt::format("{} ({})", capitalized(error.detail), target.to_string());
    case upstream::LinkErrc::connect_timeout:
      return fmt::format("no answer within {} ms ({}; a firewall dropping packets?)", timeout_ms, target.to_string());
    case upstream::LinkErrc::resolve_failed:
      return fmt::format("cannot resolve {}: {}", target.host, error.detail);
    default:
      return error.text();
  }
}

std::string probe_error_text(const upstream::KafkaClientError& error, const HostPort& target,
                             std::uint32_t timeout_ms) {
  const upstream::LinkError* link = error.link();
  if (link != nullptr && error.waiting_for.empty()) return connection_error_text(*link, target, timeout_ms);
  return error.text();
}

// One Metadata exchange with a bootstrap server; `report` is filled in when it ends.
struct MetadataProbe {
  BackendProbe& report;
  std::unique_ptr<upstream::KafkaClient> client;
};

void start_metadata_probe(ProbeLoop& loop, const Config& config, const Options& options, const BackendTls& tls,
                          MetadataProbe& probe) {
  const BackendConfig& backend = config.virtual_clusters[probe.report.virtual_cluster].backend;
  upstream::KafkaClient::Callbacks callbacks;
  // A namespaced cluster's probe asks for every topic: `kedge check` shows the backend topics the namespace covers.
  const bool namespaced = config.virtual_clusters[probe.report.virtual_cluster].name_prefixes.has_value();
  callbacks.on_ready = [&probe, namespaced] {
    const auto failed = probe.client->request(
        kafka::ApiKey::metadata, kafka::kMetadataRequestVersions.hi,
        namespaced ? kafka::encode_metadata_request_all_topics : kafka::encode_metadata_request_no_topics,
        [&probe, namespaced](const KafkaSession::Response& response) {
          probe.report.answered = kafka::read_metadata_brokers(response.frame, response.body_begin,
                                                               response.request.api_version, probe.report.brokers);
          if (probe.report.answered && namespaced) {
            probe.report.topics.emplace();
            probe.report.answered = kafka::read_metadata_topic_names(response.frame, response.body_begin,
                                                                     response.request.api_version, *probe.report.topics);
          }
          if (!probe.report.answered) {
            probe.report.brokers.clear();
            probe.report.error = fmt::format("malformed Metadata v{} response", response.request.api_version);
          }
          probe.client->close();
        });
    if (failed) {
      probe.report.error = failed->text();
      probe.client->close();
    }
  };
  callbacks.on_failed = [&probe, timeout_ms = options.timeout_ms](const upstream::KafkaClientError& error) {
    probe.report.error = probe_error_text(error, probe.client->broker(), timeout_ms);
    probe.client->close();
  };
  probe.client = std::make_unique<upstream::KafkaClient>(loop.loop(), loop.scratch(), nullptr, std::move(callbacks));
  KafkaSessionOptions session;
  session.client_id = "kedge-check";
  session.max_frame_bytes = config.limits.max_frame_bytes;
  session.sasl = backend.discovery_credentials();
  probe.client->connect({probe.report.server}, 0, tls.settings(options.timeout_ms, backend), std::move(session),
                        options.timeout_ms);
}

// Connect (and the TLS handshake with backend.tls) to one advertised broker address.
class ReachProbe final : private upstream::Link::Handler {
 public:
  ReachProbe(ProbeLoop& loop, BrokerProbe& report, std::uint32_t timeout_ms)
      : report_(report), timeout_ms_(timeout_ms), link_(loop.loop(), loop.scratch(), nullptr, *this) {}
  void start(const HostPort& target, const upstream::LinkSettings& settings) {
    target_ = target;
    link_.connect({target}, 0, settings);
  }

 private:
  void on_link_up() override {
    report_.reachable = true;
    link_.close();
  }
  void on_link_data(const char*, std::size_t) override {}
  void on_link_down(const upstream::LinkError& error) override {
    report_.error = connection_error_text(error, target_, timeout_ms_);
    link_.close();
  }
  void on_link_closed() override {}

  BrokerProbe& report_;
  std::uint32_t timeout_ms_;
  HostPort target_;
  upstream::Link link_;
};

// ---------------------------------------------------------------------------
// The checks. Each adds findings to the report.

// Asks every bootstrap server of every cluster for Metadata, concurrently.
void probe_bootstrap_servers(const Config& config, const Options& options, const std::vector<BackendTls>& tls,
                             Report& report) {
  for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
    const auto& servers = config.virtual_clusters[c].backend.bootstrap_servers;
    for (std::size_t s = 0; s < servers.size(); ++s) {
      BackendProbe probe;
      probe.virtual_cluster = c;
      probe.server_index = s;
      probe.server = servers[s];
      report.backends.push_back(std::move(probe));
    }
  }
  {
    ProbeLoop loop;
    std::vector<std::unique_ptr<MetadataProbe>> probes;  // freed after the loop ran: every client closed
    for (BackendProbe& backend : report.backends) {
      if (!tls[backend.virtual_cluster].error.empty()) {
        backend.error = tls[backend.virtual_cluster].error;
        continue;
      }
      probes.push_back(std::make_unique<MetadataProbe>(MetadataProbe{backend, nullptr}));
      start_metadata_probe(loop, config, options, tls[backend.virtual_cluster], *probes.back());
    }
    loop.run();
  }

}

// The brokers of each cluster (from its first answering server) and a finding per silent server.
void report_bootstrap_servers(const Config& config, Report& report, KnownBrokers& known) {
  for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
    const auto& vc = config.virtual_clusters[c];
    std::vector<std::size_t> failed;
    for (std::size_t index = 0; index < report.backends.size(); ++index) {
      const BackendProbe& probe = report.backends[index];
      if (probe.virtual_cluster != c) continue;
      if (probe.answered && known[c].empty()) known[c] = probe.brokers;
      if (!probe.answered) failed.push_back(index);
    }
    const bool any_answered = failed.size() < vc.backend.bootstrap_servers.size();
    for (const std::size_t index : failed) {
      const BackendProbe& probe = report.backends[index];
      const std::string json_path = fmt::format("{}.backend.bootstrap_servers[{}]", cluster_path(c), probe.server_index);
      std::string fix;
      if (probe.error.find("SASL") != std::string::npos) {
        fix = fmt::format("correct {}.backend.discovery.sasl (mechanism enabled on the broker, user name, password "
                          "file content) or the user's credentials on the broker",
                          cluster_path(c));
      } else if (probe.error.find("TLS") != std::string::npos) {
        fix = fmt::format("correct {}.backend.tls (ca_file: the CA that signed the brokers' certificates; "
                          "server_name: a name their certificates carry; client_cert when the brokers require one), "
                          "or point {} at the brokers' TLS listener",
                          cluster_path(c), json_path);
      } else {
        fix = fmt::format("start the broker or correct {} (host:port of a Kafka listener reachable from kedge's "
                          "host, with backend.tls when it is a TLS listener; check firewalls and security groups)",
                          json_path);
      }
      report.findings.push_back(
          {any_answered ? Severity::warning : Severity::problem, probe.server.to_string(),
           fmt::format("virtual cluster {}: bootstrap server {} ({}) did not answer Metadata: {}{}", vc.name,
                       probe.server.to_string(), json_path, probe.error,
                       any_answered ? "" : "; no bootstrap server of this cluster answered, so clients cannot "
                                           "bootstrap and broker names are unknown"),
           std::move(fix)});
    }
  }

}

// kedge connects to each broker's advertised address (with backend.tls, and
// verifies it): it must be reachable from here.
void probe_brokers(const Config& config, const Options& options, const std::vector<BackendTls>& tls,
                   const KnownBrokers& known, Report& report) {
  std::set<std::pair<std::string, std::int32_t>> seen;
  std::vector<std::size_t> cluster_of;  // per report.brokers entry
  for (std::size_t c = 0; c < known.size(); ++c) {
    for (const auto& broker : known[c]) {
      if (!seen.insert({broker.host, broker.port}).second) continue;
      BrokerProbe probe;
      probe.endpoint = broker;
      report.brokers.push_back(std::move(probe));
      cluster_of.push_back(c);
    }
  }
  {
    ProbeLoop loop;
    std::vector<std::unique_ptr<ReachProbe>> probes;
    for (std::size_t i = 0; i < report.brokers.size(); ++i) {
      BrokerProbe& probe = report.brokers[i];
      const kafka::BrokerEndpoint& broker = probe.endpoint;
      if (broker.port <= 0 || broker.port > 65535) {
        probe.error = fmt::format("port {} out of range", broker.port);
        continue;
      }
      const BackendTls& cluster_tls = tls[cluster_of[i]];
      if (!cluster_tls.error.empty()) {
        probe.error = cluster_tls.error;
        continue;
      }
      probes.push_back(std::make_unique<ReachProbe>(loop, probe, options.timeout_ms));
      probes.back()->start(HostPort{broker.host, static_cast<std::uint16_t>(broker.port)},
                           cluster_tls.settings(options.timeout_ms, config.virtual_clusters[cluster_of[i]].backend));
    }
    loop.run();
  }
  for (std::size_t i = 0; i < report.brokers.size(); ++i) {
    const BrokerProbe& probe = report.brokers[i];
    if (probe.reachable) continue;
    const kafka::BrokerEndpoint& broker = probe.endpoint;
    report.findings.push_back(
        {Severity::problem, fmt::format("{}:{}", broker.host, broker.port),
         fmt::format("virtual cluster {}: broker {} advertises {}:{}, which kedge cannot reach from here: {}; "
                     "clients will time out or see connection errors on broker-{} names",
                     config.virtual_clusters[cluster_of[i]].name, broker.node_id, broker.host, broker.port,
                     probe.error, broker.node_id),
         "start the broker, or set its advertised.listeners to an address kedge's host can resolve and "
         "connect to (kedge uses the addresses the brokers advertise in Metadata)"});
  }
}


void probe_backends(const Config& config, const Options& options, Report& report, KnownBrokers& known) {
  known.assign(config.virtual_clusters.size(), {});
  std::vector<BackendTls> tls;
  for (const auto& vc : config.virtual_clusters) tls.push_back(backend_tls(vc.backend));
  probe_bootstrap_servers(config, options, tls, report);
  report_bootstrap_servers(config, report, known);
  probe_brokers(config, options, tls, known, report);
}

// The facts and findings of one configured certificate/key pair.
void check_certificate(std::string path, const TlsFiles& files, const Options& options, std::time_t now,
                       Report& report) {
  CertificateReport entry{std::move(path), certs::inspect_certificate(files.cert, files.key)};
  const auto& info = entry.info;
  const std::string& where = entry.config_path;
  if (!info.load_error.empty()) {
    report.findings.push_back({Severity::problem, where, fmt::format("{}: {}", where, info.load_error),
                               "point cert at a PEM certificate chain (leaf first) and key at its PEM private key"});
  } else {
    if (!info.key_matches) {
      report.findings.push_back(
          {Severity::problem, where,
           fmt::format("{}: the private key {} does not belong to the certificate {} (subject {})", where,
                       info.key_file.string(), info.cert_file.string(), info.subject),
           fmt::format("set {}.key to the key the certificate was issued for, or reissue the certificate for "
                       "this key",
                       where)});
    }
    const double days_left = std::difftime(info.not_after, now) / 86400.0;
    if (info.not_after <= now) {
      report.findings.push_back(
          {Severity::problem, where,
           fmt::format("{}: certificate {} expired on {}; clients fail with 'certificate has expired'", where,
                       info.cert_file.string(), certs::format_utc(info.not_after)),
           "renew the certificate (same SANs) and restart kedge"});
    } else if (days_left < options.expiry_warning_days) {
      report.findings.push_back(
          {Severity::warning, where,
           fmt::format("{}: certificate {} expires on {} ({:.0f} days left)", where, info.cert_file.string(),
                       certs::format_utc(info.not_after), days_left),
           "renew it before then (same SANs) and restart kedge"});
    }
    if (info.not_before > now) {
      report.findings.push_back(
          {Severity::problem, where,
           fmt::format("{}: certificate {} is not valid before {}", where, info.cert_file.string(),
                       certs::format_utc(info.not_before)),
           "check this host's clock, or wait until the certificate becomes valid"});
    }
  }
  report.certificates.push_back(std::move(entry));
}

// Coverage: which client names each certificate misses (as clients check), one finding per (certificate,
// virtual cluster) listing them.
void check_coverage(const Config& config, Report& report) {
  std::map<std::pair<std::string, std::size_t>, std::vector<const ClientName*>> missing;
  for (auto& name : report.names) {
    if (name.certificate_path.empty()) continue;
    const auto cert = std::find_if(report.certificates.begin(), report.certificates.end(),
                                   [&](const CertificateReport& r) { return r.config_path == name.certificate_path; });
    if (cert == report.certificates.end() || !cert->info.load_error.empty()) continue;
    name.certificate_covers = certs::certificate_covers(cert->info, name.host);
    if (!*name.certificate_covers) missing[{name.certificate_path, name.virtual_cluster}].push_back(&name);
  }
  for (const auto& [key, names] : missing) {
    // Named copies, not a structured binding: clang 14 cannot capture bindings in the lambda below.
    const std::string& cert_path = key.first;
    const std::size_t cluster = key.second;
    const auto& vc = config.virtual_clusters[cluster];
    const auto cert = std::find_if(report.certificates.begin(), report.certificates.end(),
                                   [&](const CertificateReport& r) { return r.config_path == cert_path; });
    std::vector<std::string> hosts;
    for (const auto* name : names) {
      if (std::find(hosts.begin(), hosts.end(), name->host) == hosts.end()) hosts.push_back(name->host);
    }
    std::string shallow_san;
    for (const auto& san : cert->info.dns_names) {
      if (certs::wildcard_too_shallow(san, hosts.front())) shallow_san = san;
    }
    const std::string sans = cert->info.dns_names.empty() ? "no DNS names" : join(cert->info.dns_names);
    const std::string needed = "*." + parent_domain(hosts.front());
    std::string message = fmt::format(
        "virtual cluster {}: certificate {} ({}, SANs: {}) does not cover {}; TLS clients with hostname "
        "verification fail with 'certificate verify failed' / 'No subject alternative DNS name matching'",
        vc.name, cert->info.cert_file.string(), cert_path, sans, join(hosts));
    std::string fix;
    if (!shallow_san.empty()) {
      message += fmt::format(" (a wildcard matches exactly one label, RFC 6125 §6.4.3: {} does not cover {})",
                             shallow_san, hosts.front());
      // shared_suffix keeps every name one label below the domain, which the existing wildcard covers.
      const std::string wildcard_parent = shallow_san.substr(2);
      const std::string example = fmt::format("broker-1-{}.{}", vc.name, wildcard_parent);
      fix = fmt::format(
          "set {}.hostnames to {{\"format\": \"shared_suffix\", \"domain\": \"{}\"}} so names become "
          "bootstrap-{}.{} and {} (covered by {}), or reissue the certificate with SAN {}",
          cluster_path(cluster), wildcard_parent, vc.name, wildcard_parent, example, shallow_san, needed);
    } else {
      fix = fmt::format("reissue the certificate with SAN {} (for a trial: kedge certs --config FILE --out DIR), "
                        "or give {} its own \"tls\" with such a certificate",
                        needed, cluster_path(cluster));
    }
    report.findings.push_back({Severity::problem, hosts.front(), std::move(message), std::move(fix)});
  }
}

void check_certificates(const Config& config, const Options& options, Report& report) {
  const std::time_t now = options.now != 0 ? options.now : std::time(nullptr);
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    if (config.listeners[i].tls) {
      check_certificate(fmt::format("listeners[{}].tls", i), *config.listeners[i].tls, options, now, report);
    }
  }
  for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
    if (config.virtual_clusters[c].tls) {
      check_certificate(cluster_path(c) + ".tls", *config.virtual_clusters[c].tls, options, now, report);
    }
  }
  check_coverage(config, report);
}

// ---------------------------------------------------------------------------
// Client authentication: what each listener and virtual cluster asks of
// clients, and whether the files it names serve that. Counts, key ids and
// algorithms only; never a credential.

// How many users of `users` hold a credential `mechanism` can use.
std::size_t users_for(const identity::UserStore& users, TerminatedMechanism mechanism) {
  std::size_t count = 0;
  for (const auto& [name, credentials] : users.users()) {
    switch (mechanism) {
      case TerminatedMechanism::plain: count += credentials.empty() ? 0 : 1; break;
      case TerminatedMechanism::scram_sha_256: count += credentials[scram::Hash::sha256] ? 1 : 0; break;
      case TerminatedMechanism::scram_sha_512: count += credentials[scram::Hash::sha512] ? 1 : 0; break;
      case TerminatedMechanism::oauthbearer: break;
    }
  }
  return count;
}

void check_users_file(const SaslTerminationConfig& sasl, AuthenticationFilesReport& files, Report& report) {
  const std::string where = files.config_path + ".sasl.users_file";
  const std::filesystem::path& file = *sasl.users_file;
  try {
    const identity::UserStore users = identity::UserStore::load(file);
    files.users = users.users().size();
    for (const auto mechanism : sasl.mechanisms) {
      if (mechanism == TerminatedMechanism::oauthbearer) continue;
      files.users_per_mechanism.emplace_back(mechanism, users_for(users, mechanism));
    }
  } catch (const FileError& e) {
    files.users_error = e.what();
    report.findings.push_back({Severity::problem, where, fmt::format("{}: {}", where, e.what()),
                               fmt::format("repair or recreate it with `kedge users add NAME --file {}` (the file "
                                           "holds only salted SCRAM credentials; docs/identity.md)",
                                           file.string())});
    return;
  }
  if (files.users == 0) {
    report.findings.push_back(
        {Severity::problem, where,
         fmt::format("{}: {} has no users; every PLAIN and SCRAM client is refused", where, file.string()),
         fmt::format("add the accounts clients use: `kedge users add NAME --file {}`", file.string())});
    return;
  }
  for (const auto& [mechanism, count] : files.users_per_mechanism) {
    if (count != 0) continue;
    const std::string_view name = to_string(mechanism);
    report.findings.push_back(
        {Severity::warning, where,
         fmt::format("{}: {} is offered but none of the {} user(s) in {} has a {} credential; clients choosing it "
                     "fail with 'Authentication failed during authentication due to invalid credentials with SASL "
                     "mechanism {}'",
                     files.config_path + ".sasl.mechanisms", name, files.users, file.string(), name, name),
         fmt::format("give the users who need it a {} credential: `kedge users add NAME --file {} --mechanisms {}` "
                     "(add replaces the user's credentials, so list every mechanism it keeps, e.g. "
                     "SCRAM-SHA-256,SCRAM-SHA-512), or drop {} from mechanisms",
                     name, file.string(), name,
                     name)});
  }
}

void check_jwks_file(const OAuthBearerConfig& oauth, AuthenticationFilesReport& files, Report& report) {
  const std::string where = files.config_path + ".sasl.oauthbearer.jwks_file";
  try {
    const identity::KeySet keys = identity::KeySet::load_file(oauth.jwks_file);
    files.jwks_keys = keys.keys().size();
    for (const auto& key : keys.keys()) {
      const std::string algorithm(identity::to_string(key.algorithm));
      if (std::find(files.jwks_algorithms.begin(), files.jwks_algorithms.end(), algorithm) ==
          files.jwks_algorithms.end()) {
        files.jwks_algorithms.push_back(algorithm);
      }
    }
    for (const auto& unusable : keys.unusable()) {
      files.jwks_unusable.push_back(unusable.describe());
      report.findings.push_back(
          {Severity::warning, where,
           fmt::format("{}: {}: {} is ignored; tokens signed with it are refused (unknown_key_id)", where,
                       oauth.jwks_file.string(), unusable.describe()),
           "if your identity provider signs with this key, have it sign with RS256 (RSA 2048+) or ES256 (P-256), "
           "which kedge verifies; otherwise remove the key from the file"});
    }
  } catch (const identity::JwksError& e) {
    files.jwks_error = e.what();
    report.findings.push_back(
        {Severity::problem, where, fmt::format("{}: {}", where, e.what()),
         "point jwks_file at your identity provider's public JWK Set (its jwks_uri document), with at least one "
         "RS256 or ES256 key"});
  }
}

// The rules kedge run applies (certs::load_client_ca: every certificate a CA, every CRL from a CA of the
// bundle, a CRL for every CA when there is a CRL file), checked by running that loader: a file inspect_*
// could read but kedge would refuse is a problem with the loader's own words.
void check_client_ca_loads(const MtlsConfig& mtls, const AuthenticationFilesReport& files, Report& report) {
  if (!files.ca || !files.ca->load_error.empty()) return;  // reported already
  if (files.crl && !files.crl->load_error.empty()) return;
  const certs::ClientCaResult loaded = certs::load_client_ca(mtls.ca_file, mtls.crl_file);
  const auto* error = std::get_if<certs::ClientCaError>(&loaded);
  if (error == nullptr) return;
  const bool crl_at_fault = mtls.crl_file && error->file == *mtls.crl_file;
  const std::string where = files.config_path + (crl_at_fault ? ".mtls.crl_file" : ".mtls.ca_file");
  report.findings.push_back(
      {Severity::problem, where, fmt::format("{}: {}; kedge run refuses this configuration", where, error->message()),
       crl_at_fault ? "give crl_file one CRL from each CA of ca_file (an empty CRL will do), and no other"
                    : "keep only the CA certificates that issue client certificates in ca_file"});
}

void check_client_ca(const MtlsConfig& mtls, AuthenticationFilesReport& files, const Options& options,
                     std::time_t now, Report& report) {
  const std::string where = files.config_path + ".mtls.ca_file";
  files.ca = certs::inspect_ca_bundle(mtls.ca_file);
  const certs::CaBundleInfo& ca = *files.ca;
  if (!ca.load_error.empty()) {
    report.findings.push_back({Severity::problem, where, fmt::format("{}: {}", where, ca.load_error),
                               "point ca_file at the PEM certificate(s) of the CA that issues client certificates"});
  } else {
    const double days_left = std::difftime(ca.earliest_not_after, now) / 86400.0;
    if (ca.earliest_not_after <= now) {
      report.findings.push_back(
          {Severity::problem, where,
           fmt::format("{}: CA certificate {} in {} expired on {}; client certificates issued under it are refused",
                       where, ca.earliest_subject, ca.file.string(), certs::format_utc(ca.earliest_not_after)),
           "replace it in the bundle with the CA's renewed certificate (kedge reloads the file on change)"});
    } else if (days_left < options.expiry_warning_days) {
      report.findings.push_back(
          {Severity::warning, where,
           fmt::format("{}: CA certificate {} in {} expires on {} ({:.0f} days left)", where, ca.earliest_subject,
                       ca.file.string(), certs::format_utc(ca.earliest_not_after), days_left),
           "add the CA's renewed certificate to the bundle before then (kedge reloads the file on change)"});
    }
  }
  if (!mtls.crl_file) return;
  const std::string crl_where = files.config_path + ".mtls.crl_file";
  files.crl = certs::inspect_crl_file(*mtls.crl_file);
  const certs::CrlInfo& crl = *files.crl;
  if (!crl.load_error.empty()) {
    report.findings.push_back({Severity::problem, crl_where, fmt::format("{}: {}", crl_where, crl.load_error),
                               "point crl_file at the PEM CRL(s) your CA publishes, or remove crl_file"});
  } else if (crl.earliest_next_update && *crl.earliest_next_update <= now) {
    report.findings.push_back(
        {Severity::problem, crl_where,
         fmt::format("{}: the CRL of {} in {} was due for replacement on {}; TLS refuses client certificates "
                     "checked against an expired CRL ('CRL has expired')",
                     crl_where, crl.earliest_issuer, crl.file.string(), certs::format_utc(*crl.earliest_next_update)),
         "install the CA's current CRL (kedge reloads the file on change), and automate its refresh"});
  }
}

void check_authentication(const Config& config, const Options& options, Report& report) {
  const std::time_t now = options.now != 0 ? options.now : std::time(nullptr);
  std::map<std::string, std::size_t> files_of;  // config path -> index in report.authentication_files
  for (std::size_t l = 0; l < config.listeners.size(); ++l) {
    const ListenerConfig& listener = config.listeners[l];
    for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
      if (!routes_to(listener, c)) continue;
      AuthenticationPair pair{l, c, authentication_path(config, l, c), std::nullopt};
      const AuthenticationConfig& authentication = effective_authentication(listener, config.virtual_clusters[c]);
      if (authentication.mode == AuthenticationMode::terminate) {
        const auto known = files_of.find(pair.config_path);
        if (known != files_of.end()) {
          pair.files = known->second;
        } else {
          AuthenticationFilesReport files;
          files.config_path = pair.config_path;
          files.config = authentication;
          if (const auto& sasl = authentication.sasl) {
            if (sasl->users_file) check_users_file(*sasl, files, report);
            if (sasl->oauthbearer) check_jwks_file(*sasl->oauthbearer, files, report);
          }
          if (authentication.mtls) {
            check_client_ca(*authentication.mtls, files, options, now, report);
            check_client_ca_loads(*authentication.mtls, files, report);
          }
          pair.files = report.authentication_files.size();
          files_of.emplace(pair.config_path, report.authentication_files.size());
          report.authentication_files.push_back(std::move(files));
        }
        if (!listener.tls && authentication.sasl && authentication.sasl->offers(TerminatedMechanism::plain)) {
          report.findings.push_back(
              {Severity::warning, pair.config_path,
               fmt::format("listener {} is plaintext and {} offers PLAIN: clients of virtual cluster {} send their "
                           "passwords unencrypted",
                           listener.name, pair.config_path, config.virtual_clusters[c].name),
               "give the listener \"tls\", or offer only SCRAM-SHA-256/SCRAM-SHA-512 there"});
        }
      }
      report.authentication.push_back(std::move(pair));
    }
  }
}

void check_dns(const Options& options, Report& report) {
  if (!options.gateway_address.empty()) {
    std::string error;
    report.gateway_addresses = resolve(options.gateway_address, error);
    if (report.gateway_addresses.empty()) {
      report.findings.push_back({Severity::problem, options.gateway_address,
                                 fmt::format("--gateway-address {} does not resolve: {}", options.gateway_address, error),
                                 "pass the IP address (or resolvable name) clients should reach kedge at"});
    }
  }
  std::vector<std::string> hosts;
  for (const auto& name : report.names) {
    if (std::find(hosts.begin(), hosts.end(), name.host) == hosts.end()) hosts.push_back(name.host);
  }
  // One finding per wildcard record, listing the names it affects.
  std::map<std::string, std::vector<std::string>> unresolved, elsewhere;
  std::map<std::string, std::string> first_error, first_addresses;
  for (const auto& host : hosts) {
    NameResolution resolution;
    resolution.host = host;
    if (options.resolve_names) {
      resolution.addresses = resolve(host, resolution.error);
      resolution.resolved = !resolution.addresses.empty();
      const std::string record = "*." + parent_domain(host);
      if (!resolution.resolved) {
        unresolved[record].push_back(host);
        first_error.emplace(record, resolution.error);
      } else if (!report.gateway_addresses.empty()) {
        const bool matches = std::any_of(resolution.addresses.begin(), resolution.addresses.end(), [&](const auto& a) {
          return std::find(report.gateway_addresses.begin(), report.gateway_addresses.end(), a) !=
                 report.gateway_addresses.end();
        });
        resolution.matches_gateway = matches;
        if (!matches) {
          elsewhere[record].push_back(host);
          first_addresses.emplace(record, join(resolution.addresses));
        }
      }
    }
    report.resolutions.push_back(std::move(resolution));
  }
  const std::string target = options.gateway_address.empty() ? "<gateway-address>" : options.gateway_address;
  for (const auto& [record, names] : unresolved) {
    report.findings.push_back(
        {Severity::problem, names.front(),
         fmt::format("{} {} not resolve from this host ({}); clients print \"Failed to resolve '{}:...'\"",
                     join(names), names.size() == 1 ? "does" : "do", first_error[record], names.front()),
         fmt::format("add the wildcard record `{}. IN A {}` to the DNS zone every client network uses (see the zone "
                     "snippet); if this host is not in a client network, run kedge check from one, or pass --no-dns",
                     record, target)});
  }
  for (const auto& [record, names] : elsewhere) {
    report.findings.push_back(
        {Severity::problem, names.front(),
         fmt::format("{} {} to {}, not to the gateway address {}{}; clients would connect elsewhere",
                     join(names), names.size() == 1 ? "resolves" : "resolve", first_addresses[record],
                     options.gateway_address,
                     join(report.gateway_addresses) == options.gateway_address
                         ? ""
                         : " (" + join(report.gateway_addresses) + ")"),
         fmt::format("point `{}.` at {} in the zone this host uses; look for a stale record or a more specific one "
                     "(e.g. broker-1.<domain>) that overrides the wildcard",
                     record, options.gateway_address)});
  }
}

json endpoint_json(const kafka::BrokerEndpoint& broker) {
  return {{"id", broker.node_id}, {"host", broker.host}, {"port", broker.port}};
}

}  // namespace

// ---------------------------------------------------------------------------

// Port routing: one advertised host, the bootstrap port and broker N on
// broker_port_base + N (docs/routing.md); ids outside the pool get no name.
void add_port_listener_names(const Config& config, std::size_t listener_index, const KnownBrokers& brokers,
                             std::vector<ClientName>& out) {
  const ListenerConfig& listener = config.listeners[listener_index];
  const PortRouting& routing = *listener.port_routing;
  ClientName base;
  base.host = routing.advertised_host;
  base.listener = listener_index;
  base.virtual_cluster = routing.cluster_index;
  if (listener.tls) {
    base.certificate_path = fmt::format("listeners[{}].tls", listener_index);
  }
  ClientName bootstrap = base;
  bootstrap.port = listener.bind.port;
  out.push_back(bootstrap);
  if (routing.cluster_index >= brokers.size()) return;
  std::vector<std::int32_t> ids;
  for (const auto& broker : brokers[routing.cluster_index]) ids.push_back(broker.node_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (const std::int32_t id : ids) {
    const auto port = broker_port(routing, id);
    if (!port) continue;
    ClientName broker = base;
    broker.role = ClientName::Role::broker;
    broker.node_id = id;
    broker.port = *port;
    out.push_back(broker);
  }
}

std::vector<ClientName> enumerate_client_names(const Config& config, const KnownBrokers& brokers) {
  const sni::HostnameMapper mapper = mapper_of(config);
  std::vector<ClientName> names;
  for (std::size_t l = 0; l < config.listeners.size(); ++l) {
    if (config.listeners[l].port_routing) {
      add_port_listener_names(config, l, brokers, names);
    } else {
      add_sni_listener_names(config, l, mapper, brokers, names);
    }
  }
  return names;
}

std::string http_front_off_reason(const Config& config, std::size_t listener_index, std::size_t cluster_index) {
  const ListenerConfig& listener = config.listeners[listener_index];
  if (listener.port_routing) {
    return fmt::format("listeners[{}] routes by port; the front needs SNI routing", listener_index);
  }
  if (!listener.http_enabled) return fmt::format("listeners[{}].http.enabled is false", listener_index);
  if (!config.virtual_clusters[cluster_index].http.enabled) {
    return fmt::format("{}.http.enabled is false", cluster_path(cluster_index));
  }
  return {};
}

std::vector<std::string> required_wildcards(const Config& config) {
  // Both formats put every name exactly one label below the domain, so one
  // wildcard per domain covers a virtual cluster's bootstrap, brokers and HTTP name.
  std::vector<std::string> wildcards;
  const sni::HostnameMapper mapper = mapper_of(config);
  for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
    const std::string wildcard = "*." + parent_domain(mapper.bootstrap_host(c));
    if (std::find(wildcards.begin(), wildcards.end(), wildcard) == wildcards.end()) wildcards.push_back(wildcard);
  }
  return wildcards;
}

int Report::exit_code() const {
  const bool problems = std::any_of(findings.begin(), findings.end(),
                                    [](const Finding& f) { return f.severity == Severity::problem; });
  return problems ? kExitProblems : kExitOk;
}

Report run_check(const Config& config, const Options& options) {
  Report report;
  report.config_file = config.source.string();
  report.options = options;
  KnownBrokers known;
  probe_backends(config, options, report, known);
  report.names = enumerate_client_names(config, known);
  report.wildcards = required_wildcards(config);
  check_certificates(config, options, report);
  check_authentication(config, options, report);
  check_dns(options, report);
  return report;
}

std::string zone_snippet(const Report& report) {
  std::string type = "A", value = "<gateway-address>";
  const std::string& gateway = report.options.gateway_address;
  if (!gateway.empty()) {
    in6_addr v6{};
    in_addr v4{};
    if (inet_pton(AF_INET, gateway.c_str(), &v4) == 1) {
      value = gateway;
    } else if (inet_pton(AF_INET6, gateway.c_str(), &v6) == 1) {
      type = "AAAA";
      value = gateway;
    } else {
      type = "CNAME";  // e.g. a cloud load balancer's DNS name
      value = gateway.back() == '.' ? gateway : gateway + ".";
    }
  }
  std::string out = "; kedge: one wildcard record per domain, in the zone every client network resolves\n";
  if (gateway.empty()) out += "; replace <gateway-address> with kedge's (or its load balancer's) address\n";
  for (const auto& wildcard : report.wildcards) out += fmt::format("{}. 300 IN {} {}\n", wildcard, type, value);
  return out;
}

namespace {

// "SASL SCRAM-SHA-256, PLAIN (session 3600000 ms); mTLS required, principal subject_cn"
std::string authentication_summary(const AuthenticationConfig& authentication) {
  std::vector<std::string> parts;
  if (const auto& sasl = authentication.sasl) {
    std::vector<std::string> names;
    for (const auto mechanism : sasl->mechanisms) names.emplace_back(to_string(mechanism));
    parts.push_back("SASL " + join(names) +
                    (sasl->session_lifetime_ms != 0 ? fmt::format(" (session {} ms)", sasl->session_lifetime_ms) : ""));
  }
  if (const auto& mtls = authentication.mtls) {
    parts.push_back(fmt::format("mTLS {}, principal {}", to_string(mtls->client_certificates), to_string(mtls->principal)));
  }
  return join(parts, "; ");
}

std::string days_from(std::time_t when, std::time_t now) {
  return fmt::format("{:.0f} days", std::difftime(when, now) / 86400.0);
}

json authentication_files_json(const AuthenticationFilesReport& files, std::time_t now) {
  json out = {{"config_path", files.config_path}};
  const AuthenticationConfig& config = files.config;
  if (config.sasl && config.sasl->users_file) {
    json users = {{"file", config.sasl->users_file->string()}};
    if (!files.users_error.empty()) {
      users["error"] = files.users_error;
    } else {
      users["users"] = files.users;
      json per = json::object();
      for (const auto& [mechanism, count] : files.users_per_mechanism) per[std::string(to_string(mechanism))] = count;
      users["users_per_mechanism"] = per;
    }
    out["users_file"] = users;
  }
  if (config.sasl && config.sasl->oauthbearer) {
    json jwks = {{"file", config.sasl->oauthbearer->jwks_file.string()}};
    if (!files.jwks_error.empty()) {
      jwks["error"] = files.jwks_error;
    } else {
      jwks["usable_keys"] = files.jwks_keys;
      jwks["algorithms"] = files.jwks_algorithms;
      jwks["ignored_keys"] = files.jwks_unusable;
    }
    out["jwks_file"] = jwks;
  }
  if (files.ca) {
    json ca = {{"file", files.ca->file.string()}};
    if (!files.ca->load_error.empty()) {
      ca["error"] = files.ca->load_error;
    } else {
      ca["certificates"] = files.ca->certificates;
      ca["earliest_expiry"] = certs::format_utc(files.ca->earliest_not_after);
      ca["earliest_expiry_subject"] = files.ca->earliest_subject;
      ca["days_left"] = static_cast<std::int64_t>(std::difftime(files.ca->earliest_not_after, now) / 86400.0);
    }
    out["ca_file"] = ca;
  }
  if (files.crl) {
    json crl = {{"file", files.crl->file.string()}};
    if (!files.crl->load_error.empty()) {
      crl["error"] = files.crl->load_error;
    } else {
      crl["crls"] = files.crl->crls;
      crl["revoked"] = files.crl->revoked;
      crl["next_update"] =
          files.crl->earliest_next_update ? json(certs::format_utc(*files.crl->earliest_next_update)) : json(nullptr);
    }
    out["crl_file"] = crl;
  }
  return out;
}

// The "client authentication" part of render_text: each (listener, cluster) pair's
// effective authentication, then the files each setting reads.
void render_authentication_text(const Config& config, const Report& report, std::string& out) {
  const std::time_t now = report.options.now != 0 ? report.options.now : std::time(nullptr);
  out += "\nclient authentication\n";
  std::size_t auth_listener = SIZE_MAX;
  for (const auto& pair : report.authentication) {
    if (pair.listener != auth_listener) {
      auth_listener = pair.listener;
      out += fmt::format("  listener {}\n", config.listeners[pair.listener].name);
    }
    const auto& vc = config.virtual_clusters[pair.virtual_cluster];
    const AuthenticationConfig& authentication = effective_authentication(config.listeners[pair.listener], vc);
    const std::string where = pair.config_path.empty() ? "default" : pair.config_path;
    if (authentication.mode == AuthenticationMode::passthrough) {
      out += fmt::format("    {:<12} passthrough ({}): the brokers authenticate clients\n", vc.name, where);
      continue;
    }
    out += fmt::format("    {:<12} terminate ({}): {}; principals {}; upstream as {}\n", vc.name, where,
                       authentication_summary(authentication), join(vc.principals),
                       vc.backend.sasl ? fmt::format("{} {}", to_string(vc.backend.sasl->mechanism),
                                                     vc.backend.sasl->username)
                                       : std::string("(no backend.sasl)"));
  }
  for (const auto& files : report.authentication_files) {
    out += fmt::format("  {}\n", files.config_path);
    const AuthenticationConfig& config_of = files.config;
    if (config_of.sasl && config_of.sasl->users_file) {
      std::string line = fmt::format("    users file {}: ", config_of.sasl->users_file->string());
      if (!files.users_error.empty()) {
        line += "UNUSABLE";
      } else {
        std::vector<std::string> per;
        for (const auto& [mechanism, count] : files.users_per_mechanism) {
          per.push_back(fmt::format("{} {}", to_string(mechanism), count));
        }
        line += fmt::format("{} user(s); with credentials for {}", files.users, join(per));
      }
      out += line + "\n";
    }
    if (config_of.sasl && config_of.sasl->oauthbearer) {
      const OAuthBearerConfig& oauth = *config_of.sasl->oauthbearer;
      std::string line = fmt::format("    JWKS {}: ", oauth.jwks_file.string());
      if (!files.jwks_error.empty()) {
        line += "UNUSABLE";
      } else {
        line += fmt::format("{} usable key(s) ({})", files.jwks_keys, join(files.jwks_algorithms));
        if (!files.jwks_unusable.empty()) line += fmt::format(", {} ignored", files.jwks_unusable.size());
      }
      line += fmt::format("; issuer {}, audiences {}, principal claim {}", oauth.issuer.value_or("(any)"),
                          oauth.audiences.empty() ? std::string("(any)") : join(oauth.audiences),
                          oauth.principal_claim);
      out += line + "\n";
    }
    if (files.ca) {
      if (!files.ca->load_error.empty()) {
        out += fmt::format("    client CA {}: UNUSABLE\n", files.ca->file.string());
      } else {
        out += fmt::format("    client CA {}: {} certificate(s), first expiry {} ({}, {})\n", files.ca->file.string(),
                           files.ca->certificates, certs::format_utc(files.ca->earliest_not_after),
                           days_from(files.ca->earliest_not_after, now), files.ca->earliest_subject);
      }
    }
    if (files.crl) {
      if (!files.crl->load_error.empty()) {
        out += fmt::format("    CRL {}: UNUSABLE\n", files.crl->file.string());
      } else {
        out += fmt::format("    CRL {}: {} CRL(s), {} revoked, next update {}\n", files.crl->file.string(),
                           files.crl->crls, files.crl->revoked,
                           files.crl->earliest_next_update ? certs::format_utc(*files.crl->earliest_next_update)
                                                           : std::string("(none given)"));
      }
    }
  }
}

// The "authentication" array of render_json: one entry per (listener, cluster) pair.
nlohmann::json authentication_json(const Config& config, const Report& report) {
  const std::time_t now = report.options.now != 0 ? report.options.now : std::time(nullptr);
  json authentication = json::array();
  for (const auto& pair : report.authentication) {
    const auto& vc = config.virtual_clusters[pair.virtual_cluster];
    const AuthenticationConfig& effective = effective_authentication(config.listeners[pair.listener], vc);
    json entry = {{"listener", config.listeners[pair.listener].name},
                  {"virtual_cluster", vc.name},
                  {"mode", to_string(effective.mode)},
                  {"config_path", pair.config_path.empty() ? json(nullptr) : json(pair.config_path)}};
    if (effective.mode == AuthenticationMode::terminate) {
      json mechanisms = json::array();
      if (effective.sasl) {
        for (const auto mechanism : effective.sasl->mechanisms) mechanisms.push_back(to_string(mechanism));
        entry["session_lifetime_ms"] = effective.sasl->session_lifetime_ms;
      }
      entry["sasl_mechanisms"] = mechanisms;
      entry["mtls"] = effective.mtls ? json{{"client_certificates", to_string(effective.mtls->client_certificates)},
                                            {"principal", to_string(effective.mtls->principal)}}
                                     : json(nullptr);
      entry["principals"] = vc.principals;
      entry["upstream_sasl"] = vc.backend.sasl ? json{{"mechanism", to_string(vc.backend.sasl->mechanism)},
                                                      {"username", vc.backend.sasl->username}}
                                               : json(nullptr);
      entry["files"] = authentication_files_json(report.authentication_files[*pair.files], now);
    }
    authentication.push_back(entry);
  }
  return authentication;
}

}  // namespace

namespace {

std::string rate_text(const std::optional<std::uint64_t>& bytes_per_second) {
  if (!bytes_per_second) return "unlimited";
  const std::uint64_t v = *bytes_per_second;
  if (v % (1024 * 1024) == 0) return fmt::format("{} MiB/s", v / (1024 * 1024));
  if (v % 1024 == 0) return fmt::format("{} KiB/s", v / 1024);
  return fmt::format("{} B/s", v);
}

std::string limits_text(const policy::QuotaLimits& limits) {
  return fmt::format("produce {}, fetch {}, requests {}", rate_text(limits.produce_bytes_per_second),
                     rate_text(limits.fetch_bytes_per_second),
                     limits.requests_per_second ? fmt::format("{}/s", *limits.requests_per_second) : "unlimited");
}

json limits_json(const policy::QuotaLimits& limits) {
  const auto rate = [](const std::optional<std::uint64_t>& v) { return v ? json(*v) : json(nullptr); };
  return {{"produce_bytes_per_second", rate(limits.produce_bytes_per_second)},
          {"fetch_bytes_per_second", rate(limits.fetch_bytes_per_second)},
          {"requests_per_second", rate(limits.requests_per_second)}};
}

// The cluster's quotas (docs/policy.md "Quotas"), one line per client class.
void render_quotas_text(const VirtualClusterConfig& vc, std::string& out) {
  if (!vc.quotas) return;
  out += fmt::format("  {:<12}   quotas, each client (principal, else address): {}\n", "",
                     limits_text(vc.quotas->each_client));
  for (const auto& [principal, limits] : vc.quotas->principals) {
    out += fmt::format("  {:<12}   quotas, principal {}: {}\n", "", principal, limits_text(limits));
  }
  const auto count = [](const std::optional<std::uint32_t>& v) { return v ? std::to_string(*v) : "unlimited"; };
  if (vc.quotas->connections_per_address || vc.quotas->connections_per_address_per_second) {
    out += fmt::format("  {:<12}   quotas, connections per client address: {} open, {} new per second\n", "",
                       count(vc.quotas->connections_per_address), count(vc.quotas->connections_per_address_per_second));
  }
}

// Each virtual cluster's policy (docs/policy.md) and how kedge refuses what it refuses.
void render_policies_text(const Config& config, std::string& out) {
  out += "\npolicies\n";
  for (const auto& vc : config.virtual_clusters) {
    if (!vc.policy) {
      out += fmt::format("  {:<12} {}\n", vc.name,
                         vc.quotas ? "no API rules: every request allowed" : "none: requests are forwarded unexamined");
      render_quotas_text(vc, out);
      continue;
    }
    const policy::ClusterPolicy& p = *vc.policy;
    const std::vector<std::string_view> listed = policy::listed_api_names(p);
    std::string rules = p.read_only ? "read-only" : "";
    if (p.api_mode != policy::ApiListMode::none) {
      if (!rules.empty()) rules += "; ";
      rules += fmt::format("APIs {}: {}", p.api_mode == policy::ApiListMode::allow ? "allowed" : "denied",
                           listed.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(listed, ", ")));
    }
    if (rules.empty()) rules = "everything allowed (checked per request, so a reload applies to open connections)";
    rules += p.allow_unknown_apis ? "; APIs kedge does not know: allowed" : "; APIs kedge does not know: refused";
    if (p.acls) {
      rules += fmt::format("; ACLs: {} rule(s), anything no rule allows is refused", p.acls->rules().size());
    }
    out += fmt::format("  {:<12} {}\n", vc.name, rules);
    if (p.acls) {
      for (const std::string& line : p.acls->describe()) out += fmt::format("  {:<12}   {}\n", "", line);
    }
    for (const std::string& warning : policy::unreachable_rules(p)) {
      out += fmt::format("  {:<12}   warning: {}\n", "", warning);
    }
    const policy::Summary summary = policy::summarize(p);
    if (!summary.answered.empty()) {
      out += fmt::format("  {:<12}   refused with an authorization error: {}\n", "", fmt::join(summary.answered, ", "));
    }
    if (!summary.hidden.empty()) {
      out += fmt::format("  {:<12}   refused and removed from ApiVersions (a client that sends one anyway is "
                         "disconnected): {}\n", "", fmt::join(summary.hidden, ", "));
    }
    render_quotas_text(vc, out);
  }
}

// The backend topics a namespaced cluster's probe listed that its prefix covers (nullopt: no probe answered).
std::optional<std::vector<std::string>> covered_topics(const Config& config, const Report& report, std::size_t index) {
  const VirtualClusterConfig& vc = config.virtual_clusters[index];
  for (const auto& probe : report.backends) {
    if (probe.virtual_cluster != index || !probe.answered || !probe.topics) continue;
    std::vector<std::string> covered;
    for (const std::string& topic : *probe.topics) {
      if (topic.starts_with(vc.name_prefixes->topic)) covered.push_back(topic);
    }
    std::sort(covered.begin(), covered.end());
    return covered;
  }
  return std::nullopt;
}

// Each namespace (docs/namespaces.md): its prefixes and the backend topics they cover now.
void render_namespaces_text(const Config& config, const Report& report, std::string& out) {
  bool any = false;
  for (std::size_t i = 0; i < config.virtual_clusters.size(); ++i) {
    const VirtualClusterConfig& vc = config.virtual_clusters[i];
    if (!vc.name_prefixes) continue;
    if (!any) out += "\nnamespaces (nothing outside a namespace is visible to its clients)\n";
    any = true;
    const kafka::NamePrefixes& p = *vc.name_prefixes;
    const auto shown = [](const std::string& prefix) { return prefix.empty() ? std::string("(none)") : "\"" + prefix + "\""; };
    out += fmt::format("  {:<12} topics {}, groups {}, transactional ids {} ({})\n", vc.name, shown(p.topic),
                       shown(p.group), shown(p.transactional_id),
                       vc.namespace_visible ? "visible: clients use the prefixed names"
                                            : "hidden: clients use the names without the prefix");
    const std::optional<std::vector<std::string>> covered = covered_topics(config, report, i);
    if (!covered) {
      out += fmt::format("  {:<12}   backend topics covered: unknown (no bootstrap server answered)\n", "");
    } else if (covered->empty()) {
      out += fmt::format("  {:<12}   backend topics covered: none yet\n", "");
    } else {
      for (const std::string& topic : *covered) {
        out += fmt::format("  {:<12}   {} (clients see {})\n", "", topic,
                           vc.namespace_visible ? topic : topic.substr(p.topic.size()));
      }
    }
  }
}

}  // namespace

std::string render_text(const Config& config, const Report& report) {
  std::string out = fmt::format("kedge check {}\n", report.config_file);
  out += fmt::format("configuration: valid ({} listener(s), {} virtual cluster(s))\n\n", config.listeners.size(),
                     config.virtual_clusters.size());

  out += "backends (Metadata from each bootstrap server)\n";
  std::set<std::size_t> listed;  // clusters whose brokers are already printed
  for (const auto& probe : report.backends) {
    const auto& vc = config.virtual_clusters[probe.virtual_cluster];
    if (probe.answered) {
      out += fmt::format("  {:<12} {:<24} ok, {} broker(s)\n", vc.name, probe.server.to_string(), probe.brokers.size());
      if (!listed.insert(probe.virtual_cluster).second) continue;
      for (const auto& broker : probe.brokers) {
        const auto reach = std::find_if(report.brokers.begin(), report.brokers.end(), [&](const BrokerProbe& b) {
          return b.endpoint.host == broker.host && b.endpoint.port == broker.port;
        });
        const std::string state =
            reach == report.brokers.end() ? "" : reach->reachable ? "reachable" : "UNREACHABLE: " + reach->error;
        out += fmt::format("  {:<12}   broker {:<6} {}:{}  {}\n", "", broker.node_id, broker.host, broker.port, state);
      }
    } else {
      out += fmt::format("  {:<12} {:<24} FAILED: {}\n", vc.name, probe.server.to_string(), probe.error);
    }
  }

  render_policies_text(config, out);
  render_namespaces_text(config, report, out);

  out += "\nhost names clients use\n";
  std::size_t last_listener = SIZE_MAX;
  // After each (listener, cluster) group: the HTTP front's state when it is off
  // (when on, its name is one of the group's names).
  std::optional<std::pair<std::size_t, std::size_t>> group;
  const auto close_group = [&] {
    if (!group) return;
    const std::string off = http_front_off_reason(config, group->first, group->second);
    if (!off.empty()) {
      out += fmt::format("    {:<10} {:<10} HTTP front: off ({})\n", config.virtual_clusters[group->second].name,
                         "http", off);
    }
  };
  for (const auto& name : report.names) {
    if (!group || group->first != name.listener || group->second != name.virtual_cluster) {
      close_group();
      group = std::pair{name.listener, name.virtual_cluster};
    }
    if (name.listener != last_listener) {
      last_listener = name.listener;
      const auto& listener = config.listeners[name.listener];
      out += fmt::format("  listener {} (bind {}, advertised port {})\n", listener.name, listener.bind.to_string(),
                         listener.advertised_port);
    }
    const auto resolution = std::find_if(report.resolutions.begin(), report.resolutions.end(),
                                         [&](const NameResolution& r) { return r.host == name.host; });
    std::string dns = "dns not checked";
    if (resolution != report.resolutions.end() && report.options.resolve_names) {
      dns = resolution->resolved ? "-> " + join(resolution->addresses) : "does not resolve";
      if (resolution->matches_gateway) dns += *resolution->matches_gateway ? " (gateway)" : " (NOT the gateway)";
    }
    std::string cert;
    if (!name.certificate_path.empty()) {
      cert = fmt::format("cert {} {}", name.certificate_path,
                         name.certificate_covers.value_or(false) ? "covers it" : "DOES NOT cover it");
    }
    if (name.role == ClientName::Role::http) {
      cert += fmt::format("; WebSocket wss://{}:{}{}", name.host, name.port,
                          config.virtual_clusters[name.virtual_cluster].http.websocket_path);
    }
    out += fmt::format("    {:<10} {:<10} {}:{}  {}; {}\n", config.virtual_clusters[name.virtual_cluster].name,
                       role_text(name), name.host, name.port, dns, cert);
  }
  close_group();

  out += "\nDNS records (BIND zone snippet)\n" + zone_snippet(report);
  out += "\ncertificate SANs kedge needs\n";
  for (const auto& wildcard : report.wildcards) out += "  DNS:" + wildcard + "\n";
  out += "\ncertificates\n";
  for (const auto& entry : report.certificates) {
    const auto& info = entry.info;
    if (!info.load_error.empty()) {
      out += fmt::format("  {:<24} unreadable\n", entry.config_path);
      continue;
    }
    out += fmt::format("  {:<24} {}: subject {}, SANs {}, valid until {}, key {}\n", entry.config_path,
                       info.cert_file.string(), info.subject, join(info.dns_names), certs::format_utc(info.not_after),
                       info.key_matches ? "matches" : "DOES NOT match");
  }

  render_authentication_text(config, report, out);

  std::size_t problems = 0, warnings = 0;
  for (const auto& finding : report.findings) (finding.severity == Severity::problem ? problems : warnings)++;
  if (!report.findings.empty()) {
    out += "\nfindings\n";
    for (const auto& finding : report.findings) {
      out += fmt::format("  {} {}\n      fix: {}\n", finding.severity == Severity::problem ? "PROBLEM" : "WARNING",
                         finding.message, finding.fix);
    }
  }
  out += fmt::format("\nresult: {} problem(s), {} warning(s); exit {}\n", problems, warnings, report.exit_code());
  return out;
}

json render_json(const Config& config, const Report& report) {
  json out;
  out["config"] = report.config_file;
  out["exit_code"] = report.exit_code();
  out["ok"] = report.exit_code() == kExitOk;
  out["gateway_address"] = report.options.gateway_address.empty() ? json(nullptr) : json(report.options.gateway_address);
  out["gateway_addresses"] = report.gateway_addresses;

  json backends = json::array();
  for (const auto& probe : report.backends) {
    json brokers = json::array();
    for (const auto& broker : probe.brokers) brokers.push_back(endpoint_json(broker));
    backends.push_back({{"virtual_cluster", config.virtual_clusters[probe.virtual_cluster].name},
                        {"server", probe.server.to_string()},
                        {"ok", probe.answered},
                        {"error", probe.answered ? json(nullptr) : json(probe.error)},
                        {"brokers", brokers}});
  }
  out["backends"] = backends;

  json brokers = json::array();
  for (const auto& probe : report.brokers) {
    json entry = endpoint_json(probe.endpoint);
    entry["reachable"] = probe.reachable;
    entry["error"] = probe.reachable ? json(nullptr) : json(probe.error);
    brokers.push_back(entry);
  }
  out["broker_addresses"] = brokers;

  json names = json::array();
  for (const auto& name : report.names) {
    json entry = {{"host", name.host},
                  {"port", name.port},
                  {"listener", config.listeners[name.listener].name},
                  {"virtual_cluster", config.virtual_clusters[name.virtual_cluster].name},
                  {"role", role_name(name.role)},
                  {"node_id", name.role == ClientName::Role::broker ? json(name.node_id) : json(nullptr)},
                  {"certificate", name.certificate_path.empty() ? json(nullptr) : json(name.certificate_path)}};
    entry["certificate_covers"] = name.certificate_covers ? json(*name.certificate_covers) : json(nullptr);
    const auto resolution = std::find_if(report.resolutions.begin(), report.resolutions.end(),
                                         [&](const NameResolution& r) { return r.host == name.host; });
    if (resolution != report.resolutions.end() && report.options.resolve_names) {
      entry["resolves_to"] = resolution->addresses;
      entry["resolve_error"] = resolution->resolved ? json(nullptr) : json(resolution->error);
      entry["matches_gateway"] = resolution->matches_gateway ? json(*resolution->matches_gateway) : json(nullptr);
    } else {
      entry["resolves_to"] = nullptr;
    }
    names.push_back(entry);
  }
  out["names"] = names;

  // Every (listener, cluster) pair a client can reach: whether it gets the HTTP/WebSocket front.
  json http_front = json::array();
  const sni::HostnameMapper mapper = mapper_of(config);
  for (std::size_t l = 0; l < config.listeners.size(); ++l) {
    const ListenerConfig& listener = config.listeners[l];
    for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
      if (!routes_to(listener, c)) continue;
      const std::string off = http_front_off_reason(config, l, c);
      const std::string host = mapper.http_host(c);
      json entry = {{"listener", listener.name},
                    {"virtual_cluster", config.virtual_clusters[c].name},
                    {"enabled", off.empty()},
                    {"host", off.empty() ? json(host) : json(nullptr)},
                    {"websocket_url", off.empty() ? json(fmt::format("wss://{}:{}{}", host, listener.advertised_port,
                                                                      config.virtual_clusters[c].http.websocket_path))
                                                  : json(nullptr)},
                    {"off_reason", off.empty() ? json(nullptr) : json(off)}};
      http_front.push_back(std::move(entry));
    }
  }
  out["http_front"] = http_front;

  json records = json::array();
  for (const auto& wildcard : report.wildcards) records.push_back(wildcard + ".");
  out["dns"] = {{"wildcard_records", records}, {"zone_snippet", zone_snippet(report)}};
  out["certificate_sans"] = report.wildcards;
  json policies = json::array();
  for (const auto& vc : config.virtual_clusters) {
    json entry = {{"virtual_cluster", vc.name}, {"policy", nullptr}, {"quotas", nullptr}};
    if (vc.quotas) {
      json principals = json::object();
      for (const auto& [principal, limits] : vc.quotas->principals) principals[principal] = limits_json(limits);
      const auto count = [](const std::optional<std::uint32_t>& v) { return v ? json(*v) : json(nullptr); };
      entry["quotas"] = {{"each_client", limits_json(vc.quotas->each_client)},
                         {"principals", principals},
                         {"connections_per_address", count(vc.quotas->connections_per_address)},
                         {"connections_per_address_per_second", count(vc.quotas->connections_per_address_per_second)}};
    }
    if (vc.policy) {
      const policy::ClusterPolicy& p = *vc.policy;
      const json listed = policy::listed_api_names(p);
      const policy::Summary summary = policy::summarize(p);
      entry["policy"] = {{"read_only", p.read_only},
                         {"apis", p.api_mode == policy::ApiListMode::none ? json(nullptr)
                                  : json{{p.api_mode == policy::ApiListMode::allow ? "allow" : "deny", listed}}},
                         {"unknown_apis", p.allow_unknown_apis ? "allow" : "deny"},
                         {"refused_answered", summary.answered},
                         {"refused_hidden", summary.hidden},
                         {"acls", p.acls ? json(p.acls->describe()) : json(nullptr)},
                         {"warnings", policy::unreachable_rules(p)}};
    }
    policies.push_back(entry);
  }
  out["policies"] = policies;
  json namespaces = json::array();
  for (std::size_t i = 0; i < config.virtual_clusters.size(); ++i) {
    const VirtualClusterConfig& vc = config.virtual_clusters[i];
    if (!vc.name_prefixes) continue;
    const std::optional<std::vector<std::string>> covered = covered_topics(config, report, i);
    namespaces.push_back({{"virtual_cluster", vc.name},
                          {"visible", vc.namespace_visible},
                          {"topic_prefix", vc.name_prefixes->topic},
                          {"group_prefix", vc.name_prefixes->group},
                          {"transactional_id_prefix", vc.name_prefixes->transactional_id},
                          {"backend_topics", covered ? json(*covered) : json(nullptr)}});
  }
  out["namespaces"] = namespaces;

  json certificates = json::array();
  for (const auto& entry : report.certificates) {
    const auto& info = entry.info;
    json item = {{"config_path", entry.config_path}, {"cert", info.cert_file.string()}, {"key", info.key_file.string()}};
    if (!info.load_error.empty()) {
      item["error"] = info.load_error;
    } else {
      item["subject"] = info.subject;
      item["issuer"] = info.issuer;
      item["dns_names"] = info.dns_names;
      item["not_before"] = certs::format_utc(info.not_before);
      item["not_after"] = certs::format_utc(info.not_after);
      item["key_matches"] = info.key_matches;
    }
    certificates.push_back(item);
  }
  out["certificates"] = certificates;

  out["authentication"] = authentication_json(config, report);

  json findings = json::array();
  for (const auto& finding : report.findings) {
    findings.push_back({{"severity", finding.severity == Severity::problem ? "problem" : "warning"},
                        {"subject", finding.subject},
                        {"message", finding.message},
                        {"fix", finding.fix}});
  }
  out["findings"] = findings;
  return out;
}

}  // namespace kedge::check
