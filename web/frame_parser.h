#pragma once
// Server-side WebSocket frame parser (RFC 6455 §5.2): reads client frames
// from bytes that arrive in arbitrary pieces. Pure, no allocation.
//
// It judges each frame on its own, as soon as the header bytes that decide
// allow (before any payload byte is looked at):
//   - RSV1-3 are 0 (no extension is ever negotiated);           §5.2
//   - the opcode is known;                                      §5.2
//   - a control frame has FIN set and a payload of <= 125 bytes; §5.5
//   - MASK is 1 (client-to-server);                             §5.1
//   - the length uses the minimal encoding, and a 64-bit length has its most
//     significant bit clear.                                    §5.2
// What depends on more than one frame (continuation order, message size,
// UTF-8, Close bodies) is MessageAssembler's job (web/message.h); it reads the
// header before the payload, so a size limit is enforced before any payload
// byte is buffered.
//
// Use: in the header phase (!in_payload()) call parse_header(); once it says
// header_ready, header() describes the frame and, if its payload is not empty,
// in_payload() is true: take the payload with unmask_in_place() or
// unmask_into() (as many calls as the bytes arrive in). When the last payload
// byte is taken, in_payload() turns false and the next parse_header() starts
// the next frame. A frame with an empty payload is complete at header_ready.
#include <cstddef>
#include <cstdint>
#include <span>

#include "web/frame.h"
#include "web/violation.h"

namespace kedge::web {

class FrameParser {
 public:
  enum class Status : std::uint8_t {
    need_more,     // every byte given was consumed; the header is not complete yet
    header_ready,  // header() is the new frame's header; its payload follows
    failed,        // violation() says why; sticky
  };

  // Header phase only (!in_payload()). Consumes header bytes from the front of
  // `bytes` (advancing it) and never a payload byte. Checks each rule above as
  // soon as the bytes it needs are present, so a bad frame fails on the byte
  // that makes it bad.
  Status parse_header(std::span<const std::uint8_t>& bytes);

  // Payload phase. Unmasks the front of `bytes` in place, up to the bytes left
  // in the frame, advances `bytes` past them and returns them (a view of the
  // caller's buffer, now holding payload bytes). Empty when bytes is empty.
  std::span<const std::uint8_t> unmask_in_place(std::span<std::uint8_t>& bytes);
  // Payload phase. Copies the front of `bytes`, unmasked, into `out`: as many
  // bytes as fit in `out` and are left in the frame. Advances `bytes` past them
  // and returns how many were written (the caller's buffer is not modified).
  std::size_t unmask_into(std::span<const std::uint8_t>& bytes, std::span<std::uint8_t> out);

  bool in_payload() const { return payload_left_ != 0; }
  bool failed() const { return failed_; }
  // The header of the frame in progress (or the last one); valid from
  // header_ready until the next parse_header() consumes a byte.
  const FrameHeader& header() const { return header_; }
  // Payload bytes of the current frame not taken yet.
  std::uint64_t payload_remaining() const { return payload_left_; }
  // Why parse_header() failed; meaningful only when failed().
  Violation violation() const { return violation_; }

 private:
  Status fail(ViolationKind kind);
  void take_payload(std::size_t n) { payload_left_ -= n; }

  std::array<std::uint8_t, kMaxClientHeaderBytes> header_bytes_{};
  std::size_t header_have_ = 0;    // header bytes of the next frame received so far
  std::size_t header_needed_ = 2;  // known once the second byte is in
  FrameHeader header_{};
  std::uint64_t payload_left_ = 0;
  bool failed_ = false;
  Violation violation_{ViolationKind::unknown_opcode};
};

}  // namespace kedge::web
