// kedge command line: run, validate, --version, --help.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "certs/tls_context.h"
#include "cli/doctor.h"
#include "config/config.h"
#include "common/log.h"
#include "common/version.h"
#include "control/supervisor.h"


namespace {

constexpr std::string_view kUsage = R"(kedge - Kafka-aware TLS edge gateway

Usage:
  kedge run --config FILE [--log-level LEVEL]   serve clients; SIGHUP reloads, SIGTERM/SIGINT drain and exit
  kedge validate --config FILE                  check a configuration and its certificates, then exit
  kedge check --config FILE [--json] [--gateway-address ADDR] [--no-dns] [--timeout-ms N]
                                                check the whole setup (DNS, certificate SANs and expiry,
                                                backends) from where it runs; print the DNS records and
                                                SANs needed; exit 0 ok, 1 problems found, 2 usage/config
  kedge certs --config FILE --out DIR [--days N] [--key-type ecdsa-p256|rsa-2048]
                                                create a development CA and a server certificate for the
                                                configured names in DIR (never overwrites)
  kedge --version                               print the version
  kedge --help                                  print this help

LEVEL is one of trace, debug, info, warn, error (overrides log.level).
Exit codes: 0 success, 1 invalid configuration or runtime failure, 2 usage error.
)";

struct Options {
  std::string command;
  std::string config_path;
  std::string log_level;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "kedge: %s\n\n%.*s", message.c_str(), static_cast<int>(kUsage.size()), kUsage.data());
  return 2;
}

// Certificates are checked with OpenSSL here so `validate` catches the same
// problems `run` would (the config loader itself stays free of OpenSSL).
void check_certificates(const kedge::Config& config) {
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    if (!config.listeners[i].tls) continue;  // a plaintext port-routed listener
    try {
      kedge::certs::make_server_context(config.listeners[i].tls->cert, config.listeners[i].tls->key);
    } catch (const kedge::certs::TlsSetupError& e) {
      throw kedge::ConfigError(fmt::format("listeners[{}].tls: {}", i, e.what()));
    }
  }
  for (std::size_t i = 0; i < config.virtual_clusters.size(); ++i) {
    const auto& tls = config.virtual_clusters[i].tls;
    if (!tls) continue;
    try {
      kedge::certs::make_server_context(tls->cert, tls->key);
    } catch (const kedge::certs::TlsSetupError& e) {
      throw kedge::ConfigError(fmt::format("virtual_clusters[{}].tls: {}", i, e.what()));
    }
  }
  for (std::size_t i = 0; i < config.virtual_clusters.size(); ++i) {
    const auto& upstream = config.virtual_clusters[i].backend.tls;
    if (!upstream) continue;
    try {
      kedge::certs::make_client_context(kedge::certs::ClientTlsFiles{
          upstream->ca_file, upstream->client_cert ? std::optional(upstream->client_cert->cert) : std::nullopt,
          upstream->client_cert ? std::optional(upstream->client_cert->key) : std::nullopt, upstream->verify});
    } catch (const kedge::certs::TlsSetupError& e) {
      throw kedge::ConfigError(fmt::format("virtual_clusters[{}].backend.tls: {}", i, e.what()));
    }
  }
}

std::optional<kedge::LogLevel> parse_level(std::string_view text) {
  for (auto level : {kedge::LogLevel::trace, kedge::LogLevel::debug, kedge::LogLevel::info, kedge::LogLevel::warn,
                     kedge::LogLevel::error}) {
    if (kedge::to_string(level) == text) return level;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("missing command");
  if (args[0] == "--version" || args[0] == "version") {
    std::printf("kedge %.*s\n", static_cast<int>(kedge::kVersion.size()), kedge::kVersion.data());
    return 0;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
    return 0;
  }
  if (args[0] == "check" || args[0] == "certs") {
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    return args[0] == "check" ? kedge::check::check_command(rest) : kedge::check::certs_command(rest);
  }
  Options options;
  options.command = std::string(args[0]);
  if (options.command != "run" && options.command != "validate") {
    return usage_error("unknown command '" + options.command + "'");
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    if ((args[i] == "--config" || args[i] == "-c") && i + 1 < args.size()) {
      options.config_path = std::string(args[++i]);
    } else if (args[i] == "--log-level" && i + 1 < args.size()) {
      options.log_level = std::string(args[++i]);
    } else {
      return usage_error("unexpected argument '" + std::string(args[i]) + "'");
    }
  }
  if (options.config_path.empty()) return usage_error("--config FILE is required");

  kedge::Config config;
  try {
    config = kedge::load_config(options.config_path);
    check_certificates(config);
  } catch (const kedge::ConfigError& e) {
    std::fprintf(stderr, "kedge: invalid configuration %s:\n  %s\n", options.config_path.c_str(), e.what());
    return 1;
  }
  if (!options.log_level.empty()) {
    auto level = parse_level(options.log_level);
    if (!level) return usage_error("unknown log level '" + options.log_level + "'");
    config.log.level = *level;
  }
  kedge::log::set_level(config.log.level);
  kedge::log::set_format(config.log.format);

  if (options.command == "validate") {
    std::printf("configuration %s is valid\n", options.config_path.c_str());
    for (const auto& listener : config.listeners) {
      std::printf("  listener %s: bind %s, advertised port %u\n", listener.name.c_str(),
                  listener.bind.to_string().c_str(), listener.advertised_port);
    }
    kedge::sni::HostnameMapper mapper;
    for (const auto& vc : config.virtual_clusters) {
      mapper.add_cluster({vc.name, vc.format, vc.domain});
      const std::size_t index = mapper.clusters().size() - 1;
      std::printf("  virtual cluster %s (%s): bootstrap %s, brokers %s, ...\n", vc.name.c_str(),
                  std::string(kedge::sni::to_string(vc.format)).c_str(), mapper.bootstrap_host(index).c_str(),
                  mapper.broker_host(index, 0).c_str());
    }
    return 0;
  }

  try {
    kedge::Supervisor supervisor(std::move(config), !options.log_level.empty());
    return supervisor.run();
  } catch (const std::exception& e) {
    kedge::log::error("startup failed: {}", e.what());
    return 1;
  }
}
