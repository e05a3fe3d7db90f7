#pragma once
// The `kedge` commands. Each takes the words after the command name, prints
// to stdout/stderr and returns the process exit code. Usage errors use one
// format: "kedge <command>: <problem> (see kedge --help)", exit 2.
#include <span>
#include <string_view>

namespace kedge::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // invalid configuration, runtime failure, or (check) problems found
inline constexpr int kExitUsage = 2;

int run_command(std::span<const std::string_view> args);       // kedge run --config FILE [--log-level LEVEL]
int validate_command(std::span<const std::string_view> args);  // kedge validate --config FILE
int check_command(std::span<const std::string_view> args);     // kedge check --config FILE [...]
int certs_command(std::span<const std::string_view> args);     // kedge certs --config FILE --out DIR [...]
int users_command(std::span<const std::string_view> args);     // kedge users add|remove|list ... (cli/users.h)

}  // namespace kedge::cli
