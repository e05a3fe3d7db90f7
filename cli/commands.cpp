// The `kedge` commands (cli/commands.h; usage text in main.cpp).
#include "cli/commands.h"

#include <cstdio>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "certs/dev_ca.h"
#include "certs/tls_context.h"
#include "cli/args.h"
#include "cli/doctor.h"
#include "common/log.h"
#include "config/config.h"
#include "config/snapshot.h"
#include "control/supervisor.h"
#include "sni/hostname.h"

namespace kedge::cli {
namespace {

constexpr OptionSpec kConfigOption{"--config", "-c", true};

int usage(std::string_view command, const std::string& problem) {
  std::fprintf(stderr, "kedge %.*s: %s (see kedge --help)\n", static_cast<int>(command.size()), command.data(),
               problem.c_str());
  return kExitUsage;
}

// Certificates, users files and JWKS files are read here so `validate` catches
// the same problems `run` would (the config loader itself stays free of OpenSSL).
void check_files(const Config& config) {
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    if (!config.listeners[i].tls) continue;  // a plaintext port-routed listener
    try {
      certs::make_server_context(config.listeners[i].tls->cert, config.listeners[i].tls->key);
    } catch (const certs::TlsSetupError& e) {
      throw ConfigError(fmt::format("listeners[{}].tls: {}", i, e.what()));
    }
  }
  for (std::size_t i = 0; i < config.virtual_clusters.size(); ++i) {
    const auto& tls = config.virtual_clusters[i].tls;
    if (!tls) continue;
    try {
      certs::make_server_context(tls->cert, tls->key);
    } catch (const certs::TlsSetupError& e) {
      throw ConfigError(fmt::format("virtual_clusters[{}].tls: {}", i, e.what()));
    }
  }
  for (std::size_t i = 0; i < config.virtual_clusters.size(); ++i) {
    const auto& upstream = config.virtual_clusters[i].backend.tls;
    if (!upstream) continue;
    try {
      certs::make_client_context(certs::ClientTlsFiles{
          upstream->ca_file, upstream->client_cert ? std::optional(upstream->client_cert->cert) : std::nullopt,
          upstream->client_cert ? std::optional(upstream->client_cert->key) : std::nullopt, upstream->verify});
    } catch (const certs::TlsSetupError& e) {
      throw ConfigError(fmt::format("virtual_clusters[{}].backend.tls: {}", i, e.what()));
    }
  }
  (void)compile_client_authentication(config);
}

// The configuration of `run` and `validate`, certificates included; nullopt after printing why not.
std::optional<Config> load_checked(const std::string& path) {
  try {
    Config config = load_config(path);
    check_files(config);
    return config;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "kedge: invalid configuration %s:\n  %s\n", path.c_str(), e.what());
    return std::nullopt;
  }
}

}  // namespace

int run_command(std::span<const std::string_view> words) {
  static constexpr OptionSpec kOptions[] = {kConfigOption, {"--log-level", {}, true}};
  std::string error;
  const std::optional<Args> args = Args::parse(words, kOptions, error);
  if (!args) return usage("run", error);
  const std::optional<std::string> path = args->value("--config");
  if (!path) return usage("run", "--config FILE is required");
  std::optional<LogLevel> level_override;
  if (const std::optional<std::string> level = args->value("--log-level")) {
    level_override = parse_log_level(*level);
    if (!level_override) return usage("run", "unknown log level '" + *level + "'");
  }
  std::optional<Config> config = load_checked(*path);
  if (!config) return kExitFailure;
  if (level_override) config->log.level = *level_override;
  log::set_level(config->log.level);
  log::set_format(config->log.format);
  try {
    Supervisor supervisor(std::move(*config), level_override.has_value());
    return supervisor.run();
  } catch (const std::exception& e) {
    log::error("startup failed: {}", e.what());
    return kExitFailure;
  }
}

int validate_command(std::span<const std::string_view> words) {
  static constexpr OptionSpec kOptions[] = {kConfigOption};
  std::string error;
  const std::optional<Args> args = Args::parse(words, kOptions, error);
  if (!args) return usage("validate", error);
  const std::optional<std::string> path = args->value("--config");
  if (!path) return usage("validate", "--config FILE is required");
  const std::optional<Config> config = load_checked(*path);
  if (!config) return kExitFailure;
  std::printf("configuration %s is valid\n", path->c_str());
  for (const auto& listener : config->listeners) {
    std::printf("  listener %s: bind %s, advertised port %u\n", listener.name.c_str(),
                listener.bind.to_string().c_str(), listener.advertised_port);
  }
  sni::HostnameMapper mapper;
  for (const auto& vc : config->virtual_clusters) {
    mapper.add_cluster({vc.name, vc.format, vc.domain});
    const std::size_t index = mapper.clusters().size() - 1;
    std::printf("  virtual cluster %s (%s): bootstrap %s, brokers %s, ...\n", vc.name.c_str(),
                std::string(sni::to_string(vc.format)).c_str(), mapper.bootstrap_host(index).c_str(),
                mapper.broker_host(index, 0).c_str());
  }
  return kExitOk;
}

int check_command(std::span<const std::string_view> words) {
  static constexpr OptionSpec kOptions[] = {kConfigOption,
                                            {"--json"},
                                            {"--gateway-address", {}, true},
                                            {"--no-dns"},
                                            {"--timeout-ms", {}, true}};
  std::string error;
  const std::optional<Args> args = Args::parse(words, kOptions, error);
  if (!args) return usage("check", error);
  const std::optional<std::string> config_path = args->value("--config");
  if (!config_path) return usage("check", "--config FILE is required");
  const bool as_json = args->has("--json");
  check::Options options;
  options.gateway_address = args->value("--gateway-address").value_or("");
  options.resolve_names = !args->has("--no-dns");
  bool ok = true;
  if (const auto timeout = args->integer("--timeout-ms", 1, 600'000, ok)) {
    options.timeout_ms = static_cast<std::uint32_t>(*timeout);
  }
  if (!ok) return usage("check", "--timeout-ms takes 1..600000");

  Config config;
  try {
    config = load_config(*config_path);
  } catch (const ConfigError& e) {
    if (as_json) {
      const nlohmann::json out = {{"config", *config_path}, {"exit_code", check::kExitUsage}, {"ok", false},
                                  {"error", e.what()}};
      std::printf("%s\n", out.dump(2).c_str());
    }
    std::fprintf(stderr, "kedge check: invalid configuration %s:\n  %s\n  fix: correct the value at that path, then "
                         "run kedge check again\n", config_path->c_str(), e.what());
    return check::kExitUsage;
  }
  const check::Report report = check::run_check(config, options);
  if (as_json) {
    std::printf("%s\n", check::render_json(config, report).dump(2).c_str());
  } else {
    const std::string text = check::render_text(config, report);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return report.exit_code();
}

int certs_command(std::span<const std::string_view> words) {
  static constexpr OptionSpec kOptions[] = {
      kConfigOption, {"--out", {}, true}, {"--days", {}, true}, {"--key-type", {}, true}};
  std::string error;
  const std::optional<Args> args = Args::parse(words, kOptions, error);
  if (!args) return usage("certs", error);
  const std::optional<std::string> config_path = args->value("--config");
  if (!config_path) return usage("certs", "--config FILE is required");
  certs::DevCaOptions options;
  options.out_dir = args->value("--out").value_or("");
  if (options.out_dir.empty()) return usage("certs", "--out DIR is required");
  bool ok = true;
  if (const auto days = args->integer("--days", 1, 3650, ok)) options.validity_days = static_cast<int>(*days);
  if (!ok) return usage("certs", "--days takes 1..3650");
  if (const std::optional<std::string> type = args->value("--key-type")) {
    if (*type == "ecdsa-p256") {
      options.key_type = certs::KeyType::ecdsa_p256;
    } else if (*type == "rsa-2048") {
      options.key_type = certs::KeyType::rsa_2048;
    } else {
      return usage("certs", "--key-type is ecdsa-p256 or rsa-2048");
    }
  }
  Config config;
  try {
    // The certificate files the config names may be the ones about to be made.
    config = load_config_without_files(*config_path);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "kedge certs: invalid configuration %s:\n  %s\n", config_path->c_str(), e.what());
    return kExitUsage;
  }
  options.dns_names = check::required_wildcards(config);
  try {
    const certs::DevCaFiles files = certs::create_dev_ca(options);
    std::printf("created development CA %s (key %s)\n", files.ca_cert.c_str(), files.ca_key.c_str());
    std::printf("created server certificate %s (key %s) for", files.server_cert.c_str(), files.server_key.c_str());
    for (const auto& name : options.dns_names) std::printf(" DNS:%s", name.c_str());
    std::printf(", valid %d days\n", options.validity_days);
    std::printf("kedge: \"tls\": {\"cert\": \"%s\", \"key\": \"%s\"}\n", files.server_cert.c_str(),
                files.server_key.c_str());
    std::printf("clients: ssl.ca.location=%s ssl.endpoint.identification.algorithm=https\n", files.ca_cert.c_str());
    return kExitOk;
  } catch (const certs::CertsError& e) {
    std::fprintf(stderr, "kedge certs: %s\n", e.what());
    return kExitFailure;
  }
}

}  // namespace kedge::cli
