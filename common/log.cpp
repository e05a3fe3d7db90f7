#include "common/log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>

namespace kedge {

std::string_view to_string(LogFormat format) { return format == LogFormat::json ? "json" : "text"; }

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::trace: return "trace";
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "unknown";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (const LogLevel level : {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    if (text == to_string(level)) return level;
  }
  return std::nullopt;
}

}  // namespace kedge

namespace kedge::log {
namespace {
std::atomic<LogLevel> g_level{LogLevel::info};
std::atomic<LogFormat> g_format{LogFormat::text};

}  // namespace

std::string timestamp() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", stamp, static_cast<int>(millis));
}

namespace {

// JSON string escaping (RFC 8259 §7): quote, backslash, control characters.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void write_line(const std::string& line) {
  // One write(2) per line so concurrent processes' lines do not interleave.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::string json_head(LogLevel at, std::string_view message) {
  std::string line = "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + std::string(to_string(at)) + "\",\"msg\":";
  append_json_string(line, message);
  return line;
}

const char* level_tag(LogLevel at) {
  switch (at) {
    case LogLevel::trace: return "TRACE";
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO ";
    case LogLevel::warn: return "WARN ";
    case LogLevel::error: return "ERROR";
  }
  return "?";
}
}  // namespace

void set_level(LogLevel at) { g_level.store(at, std::memory_order_relaxed); }
LogLevel level() { return g_level.load(std::memory_order_relaxed); }

void set_format(LogFormat format) { g_format.store(format, std::memory_order_relaxed); }
LogFormat format() { return g_format.load(std::memory_order_relaxed); }

void write(LogLevel at, std::string_view message) {
  if (format() == LogFormat::json) {
    write_line(json_head(at, message) + "}\n");
  } else {
    write_line(fmt::format("{} {} {}\n", timestamp(), level_tag(at), message));
  }
}

void access(const AccessRecord& r) {
  if (!enabled(LogLevel::info)) return;
  const auto or_dash = [](std::string_view v) { return v.empty() ? std::string_view("-") : v; };
  const std::string node = r.node >= 0 ? std::to_string(r.node) : std::string("-");
  // The text line keeps its historical shape (tests and users grep it).
  const std::string message = fmt::format(
      "conn {} closed: client={} sni={} vc={} target={} upstream={} bytes_in={} bytes_out={} duration_ms={} "
      "cause={} listener={} node={} peer={}",
      r.connection_id, r.client, or_dash(r.sni), or_dash(r.virtual_cluster),
      r.target == "broker" ? fmt::format("broker {}", r.node) : std::string(or_dash(r.target)), or_dash(r.upstream),
      r.bytes_in, r.bytes_out, r.duration_ms, r.cause, r.listener, node, r.socket_peer);
  if (format() != LogFormat::json) {
    // Only where kedge authenticates clients: principal="<name>" (quoted: names may hold spaces).
    write(LogLevel::info, r.principal.empty() ? message : fmt::format("{} principal=\"{}\"", message, r.principal));
    return;
  }
  std::string line = json_head(LogLevel::info, message);
  const auto field = [&line](std::string_view key, std::string_view value) {
    line += ",\"";
    line += key;
    line += "\":";
    if (value.empty()) {
      line += "null";
    } else {
      append_json_string(line, value);
    }
  };
  const auto number = [&line](std::string_view key, std::uint64_t value) {
    line += fmt::format(",\"{}\":{}", key, value);
  };
  field("event", "access");
  number("conn", r.connection_id);
  field("listener", r.listener);
  field("client", r.client);
  field("peer", r.socket_peer);
  field("sni", r.sni);
  field("virtual_cluster", r.virtual_cluster);
  field("target", r.target);
  if (r.node >= 0) {
    number("node", static_cast<std::uint64_t>(r.node));
  } else {
    line += ",\"node\":null";
  }
  field("upstream", r.upstream);
  number("bytes_in", r.bytes_in);
  number("bytes_out", r.bytes_out);
  number("duration_ms", r.duration_ms);
  field("cause", r.cause);
  field("principal", r.principal);
  line += "}\n";
  write_line(line);
}

}  // namespace kedge::log
