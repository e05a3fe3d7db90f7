#pragma once
// Every way a client can break RFC 6455 that the server-side codec detects,
// written once (style practice 20): the list gives the enum, the close code the
// server must send before closing (§7.1.7 "Fail the WebSocket Connection"), and
// the reason text that goes into that Close frame. Reasons are static ASCII of
// at most 123 bytes, so a Close frame carrying code + reason stays within the
// 125-byte control frame limit (§5.5). Errors are values: nothing on the data
// path throws.
#include <cstdint>
#include <string_view>

#include "web/close_code.h"

namespace kedge::web {

// name, close code, reason (the RFC 6455 section that makes it an error in the comment).
#define KEDGE_WEB_VIOLATIONS(X)                                                                           \
  /* §5.2: RSV1-3 MUST be 0 unless an extension defining them was negotiated (kedge negotiates none) */   \
  X(reserved_bits_set, protocol_error, "reserved bits set, no extension negotiated")                     \
  /* §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail_" */                      \
  X(unknown_opcode, protocol_error, "unknown opcode")                                                     \
  /* §5.1: a server MUST close the connection upon receiving a frame that is not masked */               \
  X(unmasked_frame, protocol_error, "client frame not masked")                                            \
  /* §5.5: "All control frames MUST have a payload length of 125 bytes or less" */                        \
  X(control_frame_too_long, protocol_error, "control frame payload over 125 bytes")                      \
  /* §5.5: "and MUST NOT be fragmented" */                                                                \
  X(fragmented_control_frame, protocol_error, "fragmented control frame")                                 \
  /* §5.2: "the minimal number of bytes MUST be used to encode the length" */                             \
  X(non_minimal_length, protocol_error, "payload length not minimally encoded")                          \
  /* §5.2: the 64-bit length's "most significant bit MUST be 0" */                                        \
  X(length_high_bit_set, protocol_error, "64-bit payload length with the high bit set")                  \
  /* §5.4: continuation frames only follow a data frame with FIN clear */                                 \
  X(unexpected_continuation, protocol_error, "continuation frame with no message to continue")           \
  /* §5.4: fragments of one message are not interleaved with another message */                          \
  X(expected_continuation, protocol_error, "new data frame inside a fragmented message")                 \
  /* §5.5.1: a Close body, if present, starts with a 2-byte code */                                       \
  X(close_body_one_byte, protocol_error, "close frame body of one byte")                                 \
  /* §7.4.1: 1005, 1006 and 1015 MUST NOT be set as a status code in a Close frame */                     \
  X(close_code_local_only, protocol_error, "close code 1005, 1006 or 1015 on the wire")                  \
  /* §7.4.2: codes outside the defined and registered ranges */                                           \
  X(close_code_undefined, protocol_error, "close code not defined or registered")                        \
  /* §5.5.1 + §8.1: the Close reason is UTF-8 */                                                          \
  X(close_reason_not_utf8, invalid_payload_data, "close reason is not valid UTF-8")                      \
  /* §5.6 + §8.1: text messages are UTF-8; an invalid byte fails at once */                               \
  X(text_not_utf8, invalid_payload_data, "text message is not valid UTF-8")                              \
  /* §8.1: the last fragment of a text message ends inside a UTF-8 sequence */                            \
  X(text_truncated_utf8, invalid_payload_data, "text message ends inside a UTF-8 sequence")              \
  /* §7.4.1 (1009): the announced payload would take the message past the configured maximum */           \
  X(message_too_big, message_too_big, "message larger than the configured maximum")

enum class ViolationKind : std::uint8_t {
#define KEDGE_WEB_VIOLATION_ENUM(name, close, reason) name,
  KEDGE_WEB_VIOLATIONS(KEDGE_WEB_VIOLATION_ENUM)
#undef KEDGE_WEB_VIOLATION_ENUM
};

inline constexpr ViolationKind kAllViolationKinds[] = {
#define KEDGE_WEB_VIOLATION_LIST(name, close, reason) ViolationKind::name,
    KEDGE_WEB_VIOLATIONS(KEDGE_WEB_VIOLATION_LIST)
#undef KEDGE_WEB_VIOLATION_LIST
};

constexpr std::string_view to_string(ViolationKind kind) {
  switch (kind) {
#define KEDGE_WEB_VIOLATION_NAME(name, close, reason) \
  case ViolationKind::name: return #name;
    KEDGE_WEB_VIOLATIONS(KEDGE_WEB_VIOLATION_NAME)
#undef KEDGE_WEB_VIOLATION_NAME
  }
  return "unknown";
}

// A protocol violation by the client: what happened, which code the server's
// Close frame carries and the reason text it may carry with it.
struct Violation {
  ViolationKind kind;

  constexpr CloseCode close_code() const {
    switch (kind) {
#define KEDGE_WEB_VIOLATION_CODE(name, close, reason) \
  case ViolationKind::name: return CloseCode::close;
      KEDGE_WEB_VIOLATIONS(KEDGE_WEB_VIOLATION_CODE)
#undef KEDGE_WEB_VIOLATION_CODE
    }
    return CloseCode::protocol_error;
  }
  constexpr std::string_view reason() const {
    switch (kind) {
#define KEDGE_WEB_VIOLATION_REASON(name, close, reason) \
  case ViolationKind::name: return reason;
      KEDGE_WEB_VIOLATIONS(KEDGE_WEB_VIOLATION_REASON)
#undef KEDGE_WEB_VIOLATION_REASON
    }
    return "protocol error";
  }
  friend constexpr bool operator==(Violation, Violation) = default;
};

}  // namespace kedge::web
