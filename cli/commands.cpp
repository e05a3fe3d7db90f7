// Command-line front ends of `kedge check` and `kedge certs` (usage in main.cpp).
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "certs/dev_ca.h"
#include "cli/doctor.h"

namespace kedge::check {
namespace {

int usage(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "kedge %s: %s (see kedge --help)\n", command.c_str(), message.c_str());
  return kExitUsage;
}

bool parse_int(const std::string& text, int min, int max, int& out) {
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used != text.size() || value < min || value > max) return false;
    out = value;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

int check_command(const std::vector<std::string>& args) {
  std::string config_path;
  bool as_json = false;
  Options options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if ((arg == "--config" || arg == "-c") && has_value) {
      config_path = args[++i];
    } else if (arg == "--json") {
      as_json = true;
    } else if (arg == "--gateway-address" && has_value) {
      options.gateway_address = args[++i];
    } else if (arg == "--no-dns") {
      options.resolve_names = false;
    } else if (arg == "--timeout-ms" && has_value) {
      int value = 0;
      if (!parse_int(args[++i], 1, 600'000, value)) return usage("check", "--timeout-ms takes 1..600000");
      options.timeout_ms = static_cast<std::uint32_t>(value);
    } else {
      return usage("check", "unexpected argument '" + arg + "'");
    }
  }
  if (config_path.empty()) return usage("check", "--config FILE is required");

  Config config;
  try {
    config = load_config(config_path);
  } catch (const ConfigError& e) {
    if (as_json) {
      const nlohmann::json out = {{"config", config_path}, {"exit_code", kExitUsage}, {"ok", false},
                                  {"error", e.what()}};
      std::printf("%s\n", out.dump(2).c_str());
    }
    std::fprintf(stderr, "kedge check: invalid configuration %s:\n  %s\n  fix: correct the value at that path, then "
                         "run kedge check again\n", config_path.c_str(), e.what());
    return kExitUsage;
  }
  const Report report = run_check(config, options);
  if (as_json) {
    std::printf("%s\n", render_json(config, report).dump(2).c_str());
  } else {
    const std::string text = render_text(config, report);
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  return report.exit_code();
}

int certs_command(const std::vector<std::string>& args) {
  std::string config_path;
  certs::DevCaOptions options;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if ((arg == "--config" || arg == "-c") && has_value) {
      config_path = args[++i];
    } else if (arg == "--out" && has_value) {
      options.out_dir = args[++i];
    } else if (arg == "--days" && has_value) {
      if (!parse_int(args[++i], 1, 3650, options.validity_days)) return usage("certs", "--days takes 1..3650");
    } else if (arg == "--key-type" && has_value) {
      const std::string type = args[++i];
      if (type == "ecdsa-p256") {
        options.key_type = certs::KeyType::ecdsa_p256;
      } else if (type == "rsa-2048") {
        options.key_type = certs::KeyType::rsa_2048;
      } else {
        return usage("certs", "--key-type is ecdsa-p256 or rsa-2048");
      }
    } else {
      return usage("certs", "unexpected argument '" + arg + "'");
    }
  }
  if (config_path.empty()) return usage("certs", "--config FILE is required");
  if (options.out_dir.empty()) return usage("certs", "--out DIR is required");
  Config config;
  try {
    // The certificate files the config names may be the ones about to be made.
    config = load_config_without_files(config_path);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "kedge certs: invalid configuration %s:\n  %s\n", config_path.c_str(), e.what());
    return kExitUsage;
  }
  options.dns_names = required_wildcards(config);
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
    return kExitProblems;
  }
}

}  // namespace kedge::check
