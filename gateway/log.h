#pragma once
// Process-wide logger, safe from every worker thread: the level is atomic and
// each line goes to stderr in one write(2), so lines never interleave.
#include <atomic>
#include <string_view>

#include <fmt/core.h>

#include "gateway/config.h"

namespace kedge::log {

void set_level(LogLevel level);
LogLevel level();
inline bool enabled(LogLevel at) { return static_cast<int>(at) >= static_cast<int>(level()); }
void write(LogLevel at, std::string_view message);

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

}  // namespace kedge::log
