#pragma once
// The checks a server makes on a client's WebSocket opening handshake
// (RFC 6455 §4.2.1), over header fields the HTTP parser already split into
// name/value pairs. Pure: the accept value (SHA-1 of key + GUID, §4.2.2)
// needs a hash and is computed by the gateway with OpenSSL; the method (GET)
// and HTTP version (1.1 or later) are the HTTP parser's facts and checked there.
//
// Fields checked (names case-insensitive, RFC 9110 §5.1; values trimmed of
// optional whitespace; a field given several times is read as the
// comma-joined list, RFC 9110 §5.3, except where noted):
//   Host                    present, exactly once (RFC 9112 §3.2)
//   Upgrade                 a list containing the token "websocket", case-insensitive
//   Connection              a list containing the token "upgrade", case-insensitive
//   Sec-WebSocket-Version   exactly once (§11.3.5), value 13
//   Sec-WebSocket-Key       exactly once (§11.3.1), the base64 (RFC 4648 §4, with
//                           padding) of 16 bytes: 22 alphabet characters, the last
//                           one's 4 unused bits zero (the canonical form every client
//                           sends), then "=="
// Sec-WebSocket-Protocol, -Extensions and Origin are optional and left to the
// caller (kedge negotiates no extension, so it never answers one).
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

namespace kedge::web {

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// name, HTTP status of the refusal, reason. §4.2.2 item 4 / §4.4: a version the
// server does not speak is refused with 426 and a Sec-WebSocket-Version: 13
// header; every other malformed handshake with 400 (§4.2.1).
#define KEDGE_WEB_HANDSHAKE_PROBLEMS(X)                                                              \
  X(missing_host, 400, "no Host header")                                                           \
  X(duplicate_host, 400, "more than one Host header")                                              \
  X(missing_upgrade, 400, "no Upgrade header")                                                     \
  X(upgrade_not_websocket, 400, "Upgrade does not contain the token websocket")                    \
  X(missing_connection, 400, "no Connection header")                                               \
  X(connection_without_upgrade, 400, "Connection does not contain the token upgrade")              \
  X(missing_version, 400, "no Sec-WebSocket-Version header")                                       \
  X(duplicate_version, 400, "more than one Sec-WebSocket-Version header")                          \
  X(unsupported_version, 426, "Sec-WebSocket-Version is not 13")                                   \
  X(missing_key, 400, "no Sec-WebSocket-Key header")                                               \
  X(duplicate_key, 400, "more than one Sec-WebSocket-Key header")                                  \
  X(malformed_key, 400, "Sec-WebSocket-Key is not the base64 encoding of 16 bytes")

enum class HandshakeProblem : std::uint8_t {
#define KEDGE_WEB_HANDSHAKE_ENUM(name, status, reason) name,
  KEDGE_WEB_HANDSHAKE_PROBLEMS(KEDGE_WEB_HANDSHAKE_ENUM)
#undef KEDGE_WEB_HANDSHAKE_ENUM
};

constexpr std::string_view to_string(HandshakeProblem problem) {
  switch (problem) {
#define KEDGE_WEB_HANDSHAKE_NAME(name, status, reason) \
  case HandshakeProblem::name: return #name;
    KEDGE_WEB_HANDSHAKE_PROBLEMS(KEDGE_WEB_HANDSHAKE_NAME)
#undef KEDGE_WEB_HANDSHAKE_NAME
  }
  return "unknown";
}

// The handshake may proceed; `key` is the Sec-WebSocket-Key value (trimmed), a
// view of the caller's header bytes, for the gateway's Sec-WebSocket-Accept.
struct UpgradeAccepted {
  std::string_view key;
};

// The handshake is refused; answer with http_status() (and, for 426,
// Sec-WebSocket-Version: 13) and do not upgrade.
struct UpgradeRefused {
  HandshakeProblem problem;

  constexpr int http_status() const {
    switch (problem) {
#define KEDGE_WEB_HANDSHAKE_STATUS(name, status, reason) \
  case HandshakeProblem::name: return status;
      KEDGE_WEB_HANDSHAKE_PROBLEMS(KEDGE_WEB_HANDSHAKE_STATUS)
#undef KEDGE_WEB_HANDSHAKE_STATUS
    }
    return 400;
  }
  constexpr std::string_view reason() const {
    switch (problem) {
#define KEDGE_WEB_HANDSHAKE_REASON(name, status, reason) \
  case HandshakeProblem::name: return reason;
      KEDGE_WEB_HANDSHAKE_PROBLEMS(KEDGE_WEB_HANDSHAKE_REASON)
#undef KEDGE_WEB_HANDSHAKE_REASON
    }
    return "bad handshake";
  }
};

using UpgradeCheck = std::variant<UpgradeAccepted, UpgradeRefused>;

// Checks the fields in the order of the table above and reports the first
// problem found. The returned key views `headers`' bytes.
UpgradeCheck check_upgrade_request(std::span<const HeaderField> headers);

// Whether `value` is the canonical padded base64 of exactly 16 bytes.
bool is_websocket_key(std::string_view value);

}  // namespace kedge::web
