#include "gateway/snapshot.h"

#include <fmt/format.h>

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
  if (a.bootstrap_servers.size() != b.bootstrap_servers.size()) return false;
  for (std::size_t i = 0; i < a.bootstrap_servers.size(); ++i) {
    if (a.bootstrap_servers[i].host != b.bootstrap_servers[i].host ||
        a.bootstrap_servers[i].port != b.bootstrap_servers[i].port) {
      return false;
    }
  }
  return true;
}

std::shared_ptr<const Snapshot> build_snapshot(Config config, std::uint64_t generation) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  for (std::size_t i = 0; i < config.virtual_clusters.size(); ++i) {
    const VirtualClusterConfig& vc = config.virtual_clusters[i];
    const std::string problem = snapshot->mapper.add_cluster({vc.name, vc.format, vc.domain});
    if (!problem.empty()) throw ConfigError(fmt::format("virtual_clusters[{}].hostnames: {}", i, problem));
    auto settings = std::make_shared<ClusterSettings>();
    settings->config = vc;
    if (vc.tls) settings->ctx = server_context(*vc.tls, fmt::format("virtual_clusters[{}].tls", i));
    snapshot->clusters.push_back(std::move(settings));
  }
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    auto settings = std::make_shared<ListenerSettings>();
    settings->config = config.listeners[i];
    const std::string path = fmt::format("listeners[{}].tls", i);
    settings->default_ctx = server_context(settings->config.tls, path);
    settings->reject_ctx = server_context(settings->config.tls, path);
    SSL_CTX_set_client_hello_cb(settings->reject_ctx.get(), refuse_client_hello, nullptr);
    snapshot->listeners.push_back(std::move(settings));
  }
  snapshot->config = std::move(config);
  return snapshot;
}

}  // namespace kedge
