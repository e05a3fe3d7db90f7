#pragma once
// Server-to-client WebSocket frames (RFC 6455 §5.1: unmasked; §5.2: minimal
// length encoding). Pure: appends to the caller's buffer or returns a header
// the caller writes before a payload it streams itself.
//
// Contracts: text payloads are the caller's and must be valid UTF-8 (§5.6;
// nlohmann::json::dump() output is). Control frames carry at most 125 bytes
// and are never fragmented (§5.5): the control writers refuse (return false,
// append nothing) rather than emit a frame the client must reject.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "web/close_code.h"
#include "web/frame.h"
#include "web/violation.h"

namespace kedge::web {

// One server frame header: 2, 4 or 10 bytes.
class ServerFrameHeader {
 public:
  // `payload_length` <= kMaxPayloadLength (a larger value is clamped to it; no
  // buffer that large exists).
  ServerFrameHeader(Opcode opcode, bool fin, std::uint64_t payload_length);
  std::span<const std::uint8_t> bytes() const { return {bytes_.data(), size_}; }

 private:
  std::array<std::uint8_t, kMaxServerHeaderBytes> bytes_{};
  std::size_t size_ = 0;
};

// Whole unfragmented frames appended to `out`.
void append_frame(std::vector<std::uint8_t>& out, Opcode opcode, bool fin, std::span<const std::uint8_t> payload);
void append_text(std::vector<std::uint8_t>& out, std::string_view text);
void append_binary(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload);
// §5.5.2 / §5.5.3. False (nothing appended) when the payload is over 125 bytes.
[[nodiscard]] bool append_ping(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload);
[[nodiscard]] bool append_pong(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload);
// §5.5.1: a Close frame with a code and a UTF-8 reason. False (nothing
// appended) when the code may not travel on the wire (close_code.h), the reason
// is over 123 bytes or not valid UTF-8.
[[nodiscard]] bool append_close(std::vector<std::uint8_t>& out, std::uint16_t code, std::string_view reason = {});
[[nodiscard]] inline bool append_close(std::vector<std::uint8_t>& out, CloseCode code, std::string_view reason = {}) {
  return append_close(out, static_cast<std::uint16_t>(code), reason);
}
// A Close frame with an empty body (§5.5.1 allows it; the peer sees 1005): the
// echo of a CloseReceived without a code.
void append_close_without_code(std::vector<std::uint8_t>& out);
// The Close frame that fails the connection after a violation (§7.1.7): the
// violation's code and reason (always valid, see violation.h).
void append_close(std::vector<std::uint8_t>& out, Violation violation);

// One data message sent as fragments whose payloads the caller streams
// (§5.4): the first frame carries the text/binary opcode, the later ones
// continuation, the last one FIN. The caller writes each header, then exactly
// `payload_length` bytes of payload; control frames (a Pong, a Close) may be
// written between fragments, never inside one. For a text message the
// concatenated payloads must be valid UTF-8 (a sequence may be split across
// fragments).
class FragmentedMessageWriter {
 public:
  explicit FragmentedMessageWriter(MessageKind kind) : kind_(kind) {}

  // The header of the next fragment; `last` sets FIN. Empty once the last
  // fragment's header was given out (the message is finished).
  std::optional<ServerFrameHeader> next_fragment(std::uint64_t payload_length, bool last);
  bool finished() const { return finished_; }
  bool started() const { return started_; }

 private:
  MessageKind kind_;
  bool started_ = false;
  bool finished_ = false;
};

}  // namespace kedge::web
