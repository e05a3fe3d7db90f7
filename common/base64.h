#pragma once
// The base64 alphabet of RFC 4648 §4, written once: SCRAM's attributes
// (identity/scram.cpp, RFC 5802) and the WebSocket key (web/handshake.cpp,
// RFC 6455 §4.2.1). Header-only and dependency-free, so the pure cores use it.
#include <string_view>

namespace kedge::base64 {

inline constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of a base64 alphabet character, or -1 (padding '=' included).
constexpr int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace kedge::base64
