// kedge: dispatches to the commands (cli/commands.h).
#include <cstdio>
#include <span>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "common/version.h"

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
  kedge users add NAME --file F [--mechanisms SCRAM-SHA-256,SCRAM-SHA-512] [--iterations N]
                       [--password-file P]      add or replace a user of SASL termination; the password is
                                                read from P or standard input, never from the command line
  kedge users remove NAME --file F              remove a user
  kedge users list --file F                     list users and their mechanisms (never keys)
  kedge --version                               print the version
  kedge --help                                  print this help

LEVEL is one of trace, debug, info, warn, error (overrides log.level).
Exit codes: 0 success, 1 invalid configuration or runtime failure, 2 usage error.
)";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> words(argv + 1, argv + argc);
  if (words.empty()) {
    std::fprintf(stderr, "kedge: missing command\n\n%.*s", static_cast<int>(kUsage.size()), kUsage.data());
    return kedge::cli::kExitUsage;
  }
  const std::string_view command = words[0];
  const std::span<const std::string_view> rest = std::span(words).subspan(1);
  if (command == "--version" || command == "version") {
    std::printf("kedge %.*s\n", static_cast<int>(kedge::kVersion.size()), kedge::kVersion.data());
    return kedge::cli::kExitOk;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
    return kedge::cli::kExitOk;
  }
  if (command == "run") return kedge::cli::run_command(rest);
  if (command == "validate") return kedge::cli::validate_command(rest);
  if (command == "check") return kedge::cli::check_command(rest);
  if (command == "certs") return kedge::cli::certs_command(rest);
  if (command == "users") return kedge::cli::users_command(rest);
  std::fprintf(stderr, "kedge: unknown command '%.*s'\n\n%.*s", static_cast<int>(command.size()), command.data(),
               static_cast<int>(kUsage.size()), kUsage.data());
  return kedge::cli::kExitUsage;
}
