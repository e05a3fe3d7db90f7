#pragma once
// WebSocket framing facts shared by the parser and the writer (RFC 6455 §5).
// Pure: no I/O, no libuv, no OpenSSL.
//
// Base framing protocol (RFC 6455 §5.2):
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-------+-+-------------+-------------------------------+
//   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//   | |1|2|3|       |K|             |                               |
//   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//   |     Extended payload length continued, if payload len == 127  |
//   + - - - - - - - - - - - - - - - +-------------------------------+
//   |                               |Masking-key, if MASK set to 1  |
//   +-------------------------------+-------------------------------+
//   | Masking-key (continued)       |          Payload Data         |
//   +-------------------------------- - - - - - - - - - - - - - - - +
// Payload len: 0-125 is the length; 126: a 16-bit length follows; 127: a
// 64-bit length follows whose most significant bit MUST be 0. The minimal
// form MUST be used. Lengths are in network byte order.
// Client-to-server frames are masked (MASK = 1), server-to-client frames are
// not (§5.1). Masking (§5.3): transformed-octet-i = original-octet-i XOR
// masking-key-octet-(i MOD 4), i counted from the first payload byte.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace kedge::web {

// §5.2 / §11.8: 0x3-0x7 and 0xB-0xF are reserved; receiving one fails the connection.
enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

constexpr bool is_known_opcode(std::uint8_t nibble) {
  return nibble <= 0x2 || (nibble >= 0x8 && nibble <= 0xA);
}
// §5.5: control frames have opcodes with the most significant bit set.
constexpr bool is_control(Opcode opcode) { return (static_cast<std::uint8_t>(opcode) & 0x8) != 0; }

// What a data message carries (§5.6): UTF-8 text or arbitrary bytes.
enum class MessageKind : std::uint8_t { text, binary };
constexpr Opcode opcode_of(MessageKind kind) { return kind == MessageKind::text ? Opcode::text : Opcode::binary; }

// §5.5: every control frame payload is at most 125 bytes; a Close frame's
// reason therefore at most 123 (after the 2-byte code).
inline constexpr std::size_t kMaxControlPayloadBytes = 125;
inline constexpr std::size_t kMaxCloseReasonBytes = kMaxControlPayloadBytes - 2;
// Largest header: 2 + 8 (64-bit length) + 4 (masking key) for client frames;
// server frames carry no key.
inline constexpr std::size_t kMaxClientHeaderBytes = 14;
inline constexpr std::size_t kMaxServerHeaderBytes = 10;
// §5.2: the 64-bit length's most significant bit is 0.
inline constexpr std::uint64_t kMaxPayloadLength = 0x7FFF'FFFF'FFFF'FFFFULL;

using MaskingKey = std::array<std::uint8_t, 4>;

// XORs `bytes` with `key` in place, `payload_offset` being the position of
// bytes[0] within the frame's payload (so a payload masked in pieces gives the
// same result as masked whole). Masking and unmasking are the same operation.
void apply_mask(std::span<std::uint8_t> bytes, const MaskingKey& key, std::uint64_t payload_offset);
// The same, reading `in` and writing `out` (out.size() >= in.size(); they may
// be the same bytes).
void apply_mask(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, const MaskingKey& key,
                std::uint64_t payload_offset);

struct FrameHeader {
  bool fin = false;
  Opcode opcode = Opcode::continuation;
  bool masked = false;
  std::uint64_t payload_length = 0;
  MaskingKey masking_key{};  // meaningful when masked
};

}  // namespace kedge::web
