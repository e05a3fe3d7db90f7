#pragma once
// WebSocket close status codes (RFC 6455 §7.4), written once: the list below
// feeds the enum, the names and the rule for which codes may appear in a Close
// frame. Pure, header-only.
#include <cstdint>
#include <string_view>

namespace kedge::web {

// name, code, may a peer send it in a Close frame. RFC 6455 §7.4.1 defines
// 1000-1011 (1004 reserved, without a name); IANA's "WebSocket Close Code
// Number Registry" adds 1012-1015. 1005, 1006 and 1015 describe a closure
// locally and "MUST NOT be set as a status code in a Close control frame".
#define KEDGE_WEB_CLOSE_CODES(X)             \
  X(normal_closure, 1000, true)              \
  X(going_away, 1001, true)                  \
  X(protocol_error, 1002, true)              \
  X(unsupported_data, 1003, true)            \
  X(no_status_received, 1005, false)         \
  X(abnormal_closure, 1006, false)           \
  X(invalid_payload_data, 1007, true)        \
  X(policy_violation, 1008, true)            \
  X(message_too_big, 1009, true)             \
  X(mandatory_extension, 1010, true)         \
  X(internal_error, 1011, true)              \
  X(service_restart, 1012, true)             \
  X(try_again_later, 1013, true)             \
  X(bad_gateway, 1014, true)                 \
  X(tls_handshake, 1015, false)

enum class CloseCode : std::uint16_t {
#define KEDGE_WEB_CLOSE_CODE_ENUM(name, code, on_wire) name = code,
  KEDGE_WEB_CLOSE_CODES(KEDGE_WEB_CLOSE_CODE_ENUM)
#undef KEDGE_WEB_CLOSE_CODE_ENUM
};

constexpr std::string_view to_string(CloseCode code) {
  switch (code) {
#define KEDGE_WEB_CLOSE_CODE_NAME(name, code, on_wire) \
  case CloseCode::name: return #name;
    KEDGE_WEB_CLOSE_CODES(KEDGE_WEB_CLOSE_CODE_NAME)
#undef KEDGE_WEB_CLOSE_CODE_NAME
  }
  return "unnamed";
}

// Whether `code` may be carried by a Close frame (received or sent), RFC 6455 §7.4.2:
//   0-999      not used                                   -> no
//   1000-2999  this protocol and its extensions: only the codes listed above with on_wire = true
//              (1004 is reserved, the rest unassigned)    -> listed ones
//   3000-3999  registered with IANA by libraries and apps -> yes
//   4000-4999  private use                                -> yes
//   5000+      undefined                                  -> no
constexpr bool close_code_allowed_on_wire(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
#define KEDGE_WEB_CLOSE_CODE_ON_WIRE(name, number, on_wire) \
  case number: return on_wire;
    KEDGE_WEB_CLOSE_CODES(KEDGE_WEB_CLOSE_CODE_ON_WIRE)
#undef KEDGE_WEB_CLOSE_CODE_ON_WIRE
    default: return false;
  }
}

// The codes that name a local condition and never travel in a Close frame (1005, 1006, 1015).
constexpr bool close_code_is_local_only(std::uint16_t code) {
  return code == static_cast<std::uint16_t>(CloseCode::no_status_received) ||
         code == static_cast<std::uint16_t>(CloseCode::abnormal_closure) ||
         code == static_cast<std::uint16_t>(CloseCode::tls_handshake);
}

}  // namespace kedge::web
