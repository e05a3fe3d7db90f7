#pragma once
// Server-side WebSocket message assembly (RFC 6455 §5.4-§5.6, §7.4, §8.1):
// turns the client's byte stream into data messages and control frames.
// Pure: no I/O, no exceptions; every violation is a value carrying the close
// code the server must send.
//
// Rules enforced on top of FrameParser's per-frame checks (web/frame_parser.h):
//   - fragmentation (§5.4): a message is a text or binary frame with FIN clear,
//     then continuation frames, the last with FIN set; a continuation with no
//     message open, or a text/binary frame while one is open, is a protocol
//     error (1002). Control frames may come between fragments; they are
//     reported at once and do not disturb the message being assembled.
//   - size: the announced payload length of each data frame is checked against
//     the configured maximum minus the bytes the message already holds, before
//     any of its payload is buffered (1009). Memory grows with bytes that
//     arrived, never with an announced length alone (style practice 4).
//   - text (§5.6, §8.1): validated as UTF-8 as its bytes arrive, across
//     fragments, so an invalid byte fails at once (1007); a text message whose
//     last fragment ends inside a sequence fails too.
//   - Close (§5.5.1, §7.4): empty, or a 2-byte code that may travel on the wire
//     (web/close_code.h; 1005/1006/1015 and undefined codes: 1002) followed by a
//     UTF-8 reason (1007); a body of one byte is a protocol error (1002).
//     A Close received while a message is open ends it unreported: §5.4 allows
//     control frames between fragments, and after a Close nothing more is
//     processed (§1.4: "a peer discards any further data received").
//
// Contract of feed(): it consumes bytes from the front of the span until one
// event is complete (then it returns that event and leaves the remaining bytes
// in the span) or the bytes run out (NeedMore). Callers loop until NeedMore.
// Views in an event (payloads, reasons) point into the assembler's buffers and
// stay valid until the next feed() call. A Violation is sticky: every later
// feed() returns it again and consumes nothing. After CloseReceived, feed()
// discards whatever it is given and returns NeedMore.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "web/frame.h"
#include "web/frame_parser.h"
#include "web/utf8.h"
#include "web/violation.h"

namespace kedge::web {

struct NeedMore {};
// A whole text or binary message; a text payload is valid UTF-8.
struct DataMessage {
  MessageKind kind;
  std::span<const std::uint8_t> payload;
  std::string_view text() const { return {reinterpret_cast<const char*>(payload.data()), payload.size()}; }
};
// §5.5.2: the server answers with a Pong carrying the same payload (web/frame_writer.h).
struct Ping { std::span<const std::uint8_t> payload; };
// §5.5.3: unsolicited Pongs are allowed; no answer.
struct Pong { std::span<const std::uint8_t> payload; };
// A valid Close frame. `code` is empty for an empty body (the close code is
// then 1005 "no status received", §7.1.5, which is never echoed on the wire).
struct CloseReceived {
  std::optional<std::uint16_t> code;
  std::string_view reason;  // valid UTF-8, at most 123 bytes
};

using Event = std::variant<NeedMore, DataMessage, Ping, Pong, CloseReceived, Violation>;

class MessageAssembler {
 public:
  // `max_message_bytes`: the largest data message accepted (sum of its
  // fragments' payloads). Control frames are bounded by §5.5 (125 bytes) instead.
  explicit MessageAssembler(std::uint64_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  Event feed(std::span<const std::uint8_t>& bytes);

  std::uint64_t max_message_bytes() const { return max_message_bytes_; }
  // True once a Close frame was received (the connection is closing).
  bool closed() const { return closed_; }
  bool failed() const { return violation_.has_value(); }
  // Payload bytes of the data message being assembled (0 between messages).
  std::size_t buffered_bytes() const { return message_.size(); }
  // The announced payload length of the last frame whose header was read:
  // what a log line quotes next to message_too_big.
  std::uint64_t last_frame_length() const { return frames_.header().payload_length; }
  // Frees the message buffer's memory if its capacity grew past `keep_bytes`.
  // Call between feed() calls; it invalidates views of an event already returned.
  void trim(std::size_t keep_bytes);

 private:
  Event fail(ViolationKind kind);
  std::optional<Violation> on_header(const FrameHeader& header);
  std::optional<Violation> on_payload(std::span<const std::uint8_t>& bytes);
  // The current frame is complete: the event it finishes, if any.
  std::optional<Event> on_frame_end();
  Event on_close_frame();

  FrameParser frames_;
  std::uint64_t max_message_bytes_;

  // The data message being assembled.
  bool message_open_ = false;
  MessageKind message_kind_ = MessageKind::binary;
  std::vector<std::uint8_t> message_;
  Utf8Validator text_;
  bool deliver_pending_clear_ = false;  // message_ holds a delivered message: clear it on the next feed()

  // The control frame being read (never fragmented, so at most one at a time).
  std::array<std::uint8_t, kMaxControlPayloadBytes> control_{};
  std::size_t control_length_ = 0;

  bool closed_ = false;
  std::optional<Violation> violation_;
};

}  // namespace kedge::web
