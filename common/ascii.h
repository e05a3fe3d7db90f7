#pragma once
// ASCII case folding and printable text, written once: DNS names (RFC 4343 §2: case-insensitive, ASCII only), HTTP header names
// and schemes (RFC 9110 §5.1, §11.1), listener addresses. Locale-independent by design: std::tolower would
// fold other bytes under some locales. Header-only and dependency-free, so the pure cores (sni/) use it too.
#include <string>
#include <string_view>

namespace kedge::ascii {

constexpr char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string to_lower(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) c = to_lower(c);
  return lowered;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// Text from the network made safe for one log or error line: at most
// `max_bytes` bytes, control characters (and DEL) replaced by '?'.
inline std::string printable(std::string_view text, std::size_t max_bytes = 512) {
  std::string out(text.substr(0, max_bytes));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace kedge::ascii
