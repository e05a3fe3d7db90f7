#pragma once
// Process-wide logger, safe from every worker thread: level and format are
// atomic and each line goes to stderr in one write(2), so lines never interleave.
// Format `text`: "<ts> <LEVEL> <msg>". Format `json` (JSON Lines): one object
// per line, {"ts","level","msg"} plus structured fields for the access log.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include <fmt/core.h>

namespace kedge {

enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { text, json };  // json: one JSON object per line (JSON Lines)
std::string_view to_string(LogLevel level);   // "trace" .. "error"
std::string_view to_string(LogFormat format);  // "text" / "json"
// The level named `text` (as to_string spells it), or nullopt.
std::optional<LogLevel> parse_log_level(std::string_view text);

}  // namespace kedge

namespace kedge::log {

void set_level(LogLevel level);
void set_format(LogFormat format);
LogFormat format();
LogLevel level();
inline bool enabled(LogLevel at) { return static_cast<int>(at) >= static_cast<int>(level()); }
void write(LogLevel at, std::string_view message);
// Now in UTC with milliseconds, as every log line starts: 2026-12-04T14:30:00.123Z.
std::string timestamp();

template <typename... Args>
void emit(LogLevel at, fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(at)) write(at, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void trace(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::trace, f, std::forward<Args>(a)...); }
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::debug, f, std::forward<Args>(a)...); }
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::info, f, std::forward<Args>(a)...); }
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::warn, f, std::forward<Args>(a)...); }
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... a) { emit(LogLevel::error, f, std::forward<Args>(a)...); }

// One line per closed client connection, at info.
struct AccessRecord {
  std::uint64_t connection_id = 0;
  std::string_view listener;
  std::string_view client;       // the original client (PROXY header) or the socket peer
  std::string_view socket_peer;  // the TCP peer (the load balancer when PROXY protocol is used)
  std::string_view sni;          // "" when none
  std::string_view virtual_cluster;  // "" when not routed
  std::string_view target;       // "bootstrap", "broker", or ""
  std::int32_t node = -1;        // broker id for target "broker"
  std::string_view upstream;     // broker address, "" when never connected
  std::uint64_t bytes_in = 0;    // Kafka bytes from the client
  std::uint64_t bytes_out = 0;   // Kafka bytes to the client
  std::uint64_t duration_ms = 0;
  std::string_view cause;
  std::string_view principal;    // authenticated by kedge (SASL or mTLS termination); "" otherwise
};
void access(const AccessRecord& record);

}  // namespace kedge::log
