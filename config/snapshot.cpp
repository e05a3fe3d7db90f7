#include "config/snapshot.h"

#include <fmt/format.h>

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

}  // namespace

bool same_backend(const BackendConfig& a, const BackendConfig& b) {
  // Everything but discovery_sasl: kedge's own credentials apply from the next
  // discovery exchange and drain no client connection. A changed CA, client
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
        if (before->config.name == vc.name && same_backend(before->config.backend, vc.backend)) {
          settings->backend_state = before->backend_state;
          break;
        }
      }
    }
    if (!settings->backend_state) settings->backend_state = std::make_shared<BackendState>();
    snapshot->clusters.push_back(std::move(settings));
  }
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    auto settings = std::make_shared<ListenerSettings>();
    settings->config = config.listeners[i];
    if (const auto& tls = settings->config.tls) {
      const std::string path = fmt::format("listeners[{}].tls", i);
      settings->default_ctx = server_context(*tls, path);
      settings->reject_ctx = server_context(*tls, path);
      SSL_CTX_set_client_hello_cb(settings->reject_ctx.get(), refuse_client_hello, nullptr);
    }
    snapshot->listeners.push_back(std::move(settings));
  }
  snapshot->config = std::move(config);
  return snapshot;
}

}  // namespace kedge
