#include "identity/principal.h"

namespace kedge::identity {

std::optional<std::string_view> principal_problem(std::string_view name) noexcept {
  if (name.empty()) return "the principal is empty";
  if (name.size() > kMaxPrincipalLength) return "the principal is longer than 1024 bytes";
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return "the principal holds a control character";
  }
  return std::nullopt;
}

std::string printable_excerpt(std::string_view text, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool cut = text.size() > max_bytes;
  if (cut) text = text.substr(0, max_bytes);
  std::string out;
  out.reserve(text.size() + 3);
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace kedge::identity
