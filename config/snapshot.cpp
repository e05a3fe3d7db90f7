#include "config/snapshot.h"

#include <map>
#include <utility>

#include <openssl/evp.h>
#include <fmt/format.h>

#include <ctime>

#include "certs/inspect.h"
#include "common/log.h"

namespace kedge {
namespace {

// Installed on each listener's reject context: any ClientHello fails with
// alert 112 unrecognized_name (RFC 6066 §3). kedge routes by SNI before TLS
// starts, so this context only ever sees hellos it has already refused.
int refuse_client_hello(SSL*, int* alert, void*) {
  *alert = SSL_AD_UNRECOGNIZED_NAME;
  return SSL_CLIENT_HELLO_ERROR;
}

certs::SslCtxPtr server_context(const TlsFiles& files, const std::string& path) {
  try {
    return certs::make_server_context(files.cert, files.key);
  } catch (const certs::TlsSetupError& e) {
    throw ConfigError(fmt::format("{}: {}", path, e.what()));
  }
}

identity::CertificatePrincipalSource identity_source(CertificatePrincipalSource source) {
  switch (source) {
    case CertificatePrincipalSource::subject_cn: return identity::CertificatePrincipalSource::subject_cn;
    case CertificatePrincipalSource::san_dns: return identity::CertificatePrincipalSource::san_dns;
    case CertificatePrincipalSource::san_uri: return identity::CertificatePrincipalSource::san_uri;
    case CertificatePrincipalSource::san_email: return identity::CertificatePrincipalSource::san_email;
    case CertificatePrincipalSource::rules: return identity::CertificatePrincipalSource::subject_rules;
  }
  return identity::CertificatePrincipalSource::subject_cn;
}

// "<json path>: <file>: <why>"; the loaders name the file themselves for I/O
// and syntax errors, not for a value at a JSON path inside it.
[[noreturn]] void fail_file(const std::string& path, const std::filesystem::path& file, std::string_view why) {
  if (why.starts_with(file.string())) throw ConfigError(fmt::format("{}: {}", path, why));
  throw ConfigError(fmt::format("{}: {}: {}", path, file.string(), why));
}

// Users and JWKS files read for one generation, each once, by resolved path.
class IdentityFiles {
 public:
  std::shared_ptr<const identity::UserStore> users(const std::filesystem::path& file, const std::string& path) {
    auto& loaded = users_[file];
    if (!loaded) {
      try {
        loaded = std::make_shared<const identity::UserStore>(identity::UserStore::load(file));
      } catch (const FileError& e) {
        fail_file(path, file, e.what());
      }
    }
    return loaded;
  }
  // `path`: the JSON path of the mtls object. Warns about what loads but will
  // refuse clients (an expired CA, a stale CRL).
  std::shared_ptr<const certs::ClientCa> client_ca(const MtlsConfig& mtls, const std::string& path) {
    auto& loaded = client_cas_[{mtls.ca_file, mtls.crl_file}];
    if (loaded) return loaded;
    certs::ClientCaResult result = certs::load_client_ca(mtls.ca_file, mtls.crl_file);
    if (const auto* error = std::get_if<certs::ClientCaError>(&result)) {
      const bool crl = mtls.crl_file && error->file == *mtls.crl_file;
      throw ConfigError(fmt::format("{}.{}: {}", path, crl ? "crl_file" : "ca_file", error->message()));
    }
    loaded = std::make_shared<const certs::ClientCa>(std::get<certs::ClientCa>(std::move(result)));
    const std::time_t now = std::time(nullptr);
    const certs::ClientCaSummary& summary = loaded->summary;
    if (summary.earliest_not_after != 0 && summary.earliest_not_after < now) {
      log::warn("{}.ca_file: CA {} expired on {}: its client certificates no longer verify", path,
                summary.earliest_subject, certs::format_utc(summary.earliest_not_after));
    }
    if (summary.earliest_next_update != 0 && summary.earliest_next_update < now) {
      log::warn("{}.crl_file: the CRL of {} is stale since {}: OpenSSL refuses every client certificate of that "
                "CA until the CRL is renewed",
                path, summary.earliest_crl_issuer, certs::format_utc(summary.earliest_next_update));
    }
    return loaded;
  }
  std::shared_ptr<const identity::KeySet> jwks(const std::filesystem::path& file, const std::string& path) {
    auto& loaded = jwks_[file];
    if (!loaded) {
      try {
        loaded = std::make_shared<const identity::KeySet>(identity::KeySet::load_file(file));
      } catch (const identity::JwksError& e) {
        fail_file(path, file, e.what());
      }
    }
    return loaded;
  }

 private:
  std::map<std::filesystem::path, std::shared_ptr<const identity::UserStore>> users_;
  std::map<std::filesystem::path, std::shared_ptr<const identity::KeySet>> jwks_;
  std::map<std::pair<std::filesystem::path, std::optional<std::filesystem::path>>,
           std::shared_ptr<const certs::ClientCa>>
      client_cas_;
};

std::array<unsigned char, 32> session_id_context(std::uint64_t generation, const std::string& path,
                                                 const std::string& cluster) {
  std::string input = fmt::format("kedge mtls generation {}", generation);
  input.push_back('\0');
  input += path;
  input.push_back('\0');
  input += cluster;
  std::array<unsigned char, 32> digest{};
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != digest.size()) {
    throw ConfigError("cannot compute a TLS session-id context: " + certs::drain_openssl_errors());
  }
  return digest;
}

// One pair's authentication; `path` is where it is configured.
std::shared_ptr<const ClientAuthentication> compile_pair(const AuthenticationConfig& config, const std::string& path,
                                                         const VirtualClusterConfig& cluster,
                                                         std::size_t cluster_index, std::uint64_t generation,
                                                         IdentityFiles& files) {
  auto compiled = std::make_shared<ClientAuthentication>();
  compiled->config = config;
  compiled->config_path = path;
  if (const auto& sasl = config.sasl) {
    if (sasl->users_file) compiled->users = files.users(*sasl->users_file, path + ".sasl.users_file");
    if (const auto& oauth = sasl->oauthbearer) {
      compiled->jwks = files.jwks(oauth->jwks_file, path + ".sasl.oauthbearer.jwks_file");
      identity::JwtPolicy policy;
      policy.issuer = oauth->issuer;
      policy.audiences = oauth->audiences;
      policy.clock_skew_seconds = oauth->clock_skew_s;
      policy.principal_claim = oauth->principal_claim;
      compiled->oauthbearer =
          std::make_shared<const identity::OAuthBearerSettings>(identity::OAuthBearerSettings{compiled->jwks, policy});
    }
  }
  if (const auto& mtls = config.mtls) {
    try {
      compiled->certificate_principal =
          mtls->principal == CertificatePrincipalSource::rules
              ? std::make_shared<const identity::CertificatePrincipalMapper>(
                    identity::PrincipalRules::parse(mtls->principal_rules))
              : std::make_shared<const identity::CertificatePrincipalMapper>(identity_source(mtls->principal));
    } catch (const identity::PrincipalRuleError& e) {  // a Config not made by load_config
      throw ConfigError(fmt::format("{}.mtls.principal_rules: {}", path, e.what()));
    }
    compiled->client_ca = files.client_ca(*mtls, path + ".mtls");
    compiled->session_id_context = session_id_context(generation, path, cluster.name);
  }
  try {
    compiled->binding = identity::PrincipalBinding::parse(cluster.principals);
  } catch (const identity::PrincipalBindingError& e) {  // a Config not made by load_config
    throw ConfigError(fmt::format("virtual_clusters[{}].principals: {}", cluster_index, e.what()));
  }
  return compiled;
}

}  // namespace

identity::AttemptLimiterPolicy attempt_limiter_policy(const Limits::AuthenticationFailures& limits) {
  identity::AttemptLimiterPolicy policy;
  policy.delay_after = limits.delay_after;
  policy.block_after = limits.block_after;
  policy.window = std::chrono::milliseconds(limits.window_ms);
  policy.delay_step = std::chrono::milliseconds(limits.delay_step_ms);
  policy.max_delay = std::chrono::milliseconds(limits.max_delay_ms);
  policy.block = std::chrono::milliseconds(limits.block_ms);
  return policy;
}

std::vector<std::vector<std::shared_ptr<const ClientAuthentication>>> compile_client_authentication(
    const Config& config, std::uint64_t generation) {
  IdentityFiles files;
  // A cluster's own "authentication" compiles to one object whatever the listener.
  std::map<std::pair<std::string, std::size_t>, std::shared_ptr<const ClientAuthentication>> by_source;
  std::vector<std::vector<std::shared_ptr<const ClientAuthentication>>> table(config.listeners.size());
  for (std::size_t l = 0; l < config.listeners.size(); ++l) {
    table[l].resize(config.virtual_clusters.size());
    for (std::size_t c = 0; c < config.virtual_clusters.size(); ++c) {
      if (!routes_to(config.listeners[l], c)) continue;
      const VirtualClusterConfig& cluster = config.virtual_clusters[c];
      const AuthenticationConfig& authentication = effective_authentication(config.listeners[l], cluster);
      if (authentication.mode != AuthenticationMode::terminate) continue;
      const std::string path = authentication_path(config, l, c);
      auto& compiled = by_source[{path, c}];
      if (!compiled) compiled = compile_pair(authentication, path, cluster, c, generation, files);
      table[l][c] = compiled;
    }
  }
  return table;
}

bool same_backend(const BackendConfig& a, const BackendConfig& b) {
  // Everything but discovery_sasl and sasl: kedge's own credentials apply from
  // the next discovery exchange (and the next broker connection of a client
  // whose authentication kedge terminates) and drain no client connection. A changed CA, client
  // certificate or name is another trust decision: connections made under the
  // old one drain.
  return a.bootstrap_servers == b.bootstrap_servers && a.discovery == b.discovery && a.pattern == b.pattern &&
         a.tls == b.tls;
}

bool same_sockets(const ListenerConfig& a, const ListenerConfig& b) {
  if (a.port_routing.has_value() != b.port_routing.has_value()) return false;
  if (!a.port_routing) return true;
  return a.port_routing->broker_port_base == b.port_routing->broker_port_base &&
         a.port_routing->max_node_id == b.port_routing->max_node_id;
}

bool same_routing(const ListenerConfig& a, const ListenerConfig& b) {
  if (!same_sockets(a, b)) return false;
  if (!a.port_routing) return true;
  return a.port_routing->virtual_cluster == b.port_routing->virtual_cluster &&
         a.port_routing->advertised_host == b.port_routing->advertised_host;
}

std::shared_ptr<const Snapshot> build_snapshot(Config config, std::uint64_t generation, const Snapshot* previous) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  for (std::size_t i = 0; i < config.virtual_clusters.size(); ++i) {
    const VirtualClusterConfig& vc = config.virtual_clusters[i];
    const std::string problem = snapshot->mapper.add_cluster({vc.name, vc.format, vc.domain});
    if (!problem.empty()) throw ConfigError(fmt::format("virtual_clusters[{}].hostnames: {}", i, problem));
    auto settings = std::make_shared<ClusterSettings>();
    settings->config = vc;
    if (vc.tls) settings->ctx = server_context(*vc.tls, fmt::format("virtual_clusters[{}].tls", i));
    if (const auto& upstream = vc.backend.tls) {
      try {
        settings->upstream_ctx = certs::make_client_context(certs::ClientTlsFiles{
            upstream->ca_file, upstream->client_cert ? std::optional(upstream->client_cert->cert) : std::nullopt,
            upstream->client_cert ? std::optional(upstream->client_cert->key) : std::nullopt, upstream->verify});
      } catch (const certs::TlsSetupError& e) {
        throw ConfigError(fmt::format("virtual_clusters[{}].backend.tls: {}", i, e.what()));
      }
      if (!upstream->verify) {
        log::warn("virtual cluster {}: backend.tls.verify is false: broker certificates and host names are NOT "
                  "checked (anyone on the path to the brokers can impersonate them)",
                  vc.name);
      }
    }
    if (previous != nullptr) {
      for (const auto& before : previous->clusters) {
        if (before->config.name == vc.name && same_backend(before->config.backend, vc.backend) &&
            before->config.name_prefixes == vc.name_prefixes &&
            before->config.namespace_visible == vc.namespace_visible) {
          settings->backend_state = before->backend_state;
          break;
        }
      }
    }
    if (!settings->backend_state) settings->backend_state = std::make_shared<BackendState>();
    snapshot->clusters.push_back(std::move(settings));
  }
  auto authentication = compile_client_authentication(config, generation);
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    auto settings = std::make_shared<ListenerSettings>();
    settings->config = config.listeners[i];
    settings->authentication = std::move(authentication[i]);
    if (const auto& tls = settings->config.tls) {
      const std::string path = fmt::format("listeners[{}].tls", i);
      settings->default_ctx = server_context(*tls, path);
      settings->reject_ctx = server_context(*tls, path);
      SSL_CTX_set_client_hello_cb(settings->reject_ctx.get(), refuse_client_hello, nullptr);
    }
    snapshot->listeners.push_back(std::move(settings));
  }
  if (previous != nullptr && previous->attempt_limiter &&
      previous->config.limits.authentication_failures == config.limits.authentication_failures) {
    snapshot->attempt_limiter = previous->attempt_limiter;
  } else {
    snapshot->attempt_limiter =
        std::make_shared<identity::AttemptLimiter>(attempt_limiter_policy(config.limits.authentication_failures));
  }
  if (const auto& audit = config.audit) {
    if (previous != nullptr && previous->audit_log && previous->audit_log->path() == audit->file) {
      snapshot->audit_log = previous->audit_log;
      if (std::string error = snapshot->audit_log->reopen(); !error.empty()) {
        log::warn("audit log {}: cannot reopen ({}); still writing to the file opened before", audit->file, error);
      }
    } else {
      try {
        snapshot->audit_log = std::make_shared<AuditLog>(audit->file);
      } catch (const std::runtime_error& error) {
        throw ConfigError(fmt::format("audit.file: {}", error.what()));
      }
    }
  }
  snapshot->config = std::move(config);
  return snapshot;
}

}  // namespace kedge
