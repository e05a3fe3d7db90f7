#pragma once
// Helpers shared by the web/ tests and fuzz_websocket: client frames built by
// hand (independent of web/frame_writer.h: own header layout, own masking
// loop), hex, a reference UTF-8 decoder, and a recorder that runs
// MessageAssembler over a stream cut into pieces and writes every event as one
// line of text, so tests compare data.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "web/message.h"

namespace kedge::web::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

inline Bytes from_hex(std::string_view hex) {
  Bytes out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  for (std::size_t i = 0; i + 1 < hex.size();) {
    if (hex[i] == ' ') { ++i; continue; }
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
    i += 2;
  }
  return out;
}

inline std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// How a hand-built frame writes its payload length.
enum class LengthForm { minimal, force16, force64 };

struct ClientFrame {
  std::uint8_t opcode = 0x1;
  bool fin = true;
  std::uint8_t rsv_bits = 0;  // 0x40 / 0x20 / 0x10
  bool masked = true;
  std::array<std::uint8_t, 4> key{0x37, 0xfa, 0x21, 0x3d};  // RFC 6455 §5.7's key
  LengthForm form = LengthForm::minimal;
};

// One frame as a client sends it (RFC 6455 §5.2 layout, masked per §5.3 unless told not to).
inline Bytes client_frame(const ClientFrame& f, std::span<const std::uint8_t> payload) {
  Bytes out;
  out.push_back(static_cast<std::uint8_t>((f.fin ? 0x80 : 0) | f.rsv_bits | (f.opcode & 0x0F)));
  const std::uint8_t mask_bit = f.masked ? 0x80 : 0;
  const std::uint64_t n = payload.size();
  if (f.form == LengthForm::minimal && n <= 125) {
    out.push_back(static_cast<std::uint8_t>(mask_bit | n));
  } else if (f.form == LengthForm::force16 || (f.form == LengthForm::minimal && n <= 0xFFFF)) {
    out.push_back(mask_bit | 126);
    out.push_back(static_cast<std::uint8_t>(n >> 8));
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    out.push_back(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
  }
  if (f.masked) out.insert(out.end(), f.key.begin(), f.key.end());
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<std::uint8_t>(payload[i] ^ (f.masked ? f.key[i % 4] : 0)));
  return out;
}

inline Bytes client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true) {
  ClientFrame f;
  f.opcode = opcode;
  f.fin = fin;
  const Bytes body = bytes_of(payload);
  return client_frame(f, body);
}

inline Bytes client_frame(std::uint8_t opcode, std::span<const std::uint8_t> payload, bool fin = true) {
  ClientFrame f;
  f.opcode = opcode;
  f.fin = fin;
  return client_frame(f, payload);
}

// A Close body: big-endian code then the reason.
inline Bytes close_body(std::uint16_t code, std::string_view reason = {}) {
  Bytes body{static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code)};
  body.insert(body.end(), reason.begin(), reason.end());
  return body;
}

// Turns a server frame (unmasked) into the frame a client would send: MASK set,
// the key inserted after the length, the payload masked. For round trips
// through the server-side parser.
inline Bytes as_client_frame(std::span<const std::uint8_t> server_frame, std::array<std::uint8_t, 4> key) {
  const std::uint8_t length7 = server_frame[1] & 0x7F;
  const std::size_t header = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0);
  Bytes out(server_frame.begin(), server_frame.begin() + static_cast<std::ptrdiff_t>(header));
  out[1] |= 0x80;
  out.insert(out.end(), key.begin(), key.end());
  for (std::size_t i = header; i < server_frame.size(); ++i)
    out.push_back(static_cast<std::uint8_t>(server_frame[i] ^ key[(i - header) % 4]));
  return out;
}

// Decodes one code point from its definition: how many bytes the lead byte
// says, the bits they carry, then the value judged (shortest form, not a
// surrogate, not past U+10FFFF). Nothing shared with the validator's ranges.
inline std::optional<std::size_t> reference_sequence_length(std::span<const std::uint8_t> bytes) {
  const std::uint8_t lead = bytes[0];
  std::size_t length;
  std::uint32_t value;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) { length = 2; value = lead & 0x1F; }
  else if ((lead & 0xF0) == 0xE0) { length = 3; value = lead & 0x0F; }
  else if ((lead & 0xF8) == 0xF0) { length = 4; value = lead & 0x07; }
  else return std::nullopt;
  if (bytes.size() < length) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    if ((bytes[i] & 0xC0) != 0x80) return std::nullopt;
    value = (value << 6) | (bytes[i] & 0x3F);
  }
  const std::uint32_t shortest = value < 0x80 ? 1 : value < 0x800 ? 2 : value < 0x10000 ? 3 : 4;
  if (shortest != length) return std::nullopt;
  if (value >= 0xD800 && value <= 0xDFFF) return std::nullopt;
  if (value > 0x10FFFF) return std::nullopt;
  return length;
}

inline bool reference_utf8_valid(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const auto length = reference_sequence_length(bytes);
    if (!length) return false;
    bytes = bytes.subspan(*length);
  }
  return true;
}

// One event as a line of text: "text 48656c6c6f", "binary ", "ping 00",
// "pong ", "close 1000 bye", "close - " (empty body), "violation <kind> <code>".
inline std::string describe(const Event& event) {
  struct Describe {
    std::string operator()(const NeedMore&) const { return "need_more"; }
    std::string operator()(const DataMessage& m) const {
      return std::string(m.kind == MessageKind::text ? "text " : "binary ") + to_hex(m.payload);
    }
    std::string operator()(const Ping& p) const { return "ping " + to_hex(p.payload); }
    std::string operator()(const Pong& p) const { return "pong " + to_hex(p.payload); }
    std::string operator()(const CloseReceived& c) const {
      return "close " + (c.code ? std::to_string(*c.code) : std::string("-")) + " " + std::string(c.reason);
    }
    std::string operator()(const Violation& v) const {
      return "violation " + std::string(to_string(v.kind)) + " " +
             std::to_string(static_cast<int>(v.close_code()));
    }
  };
  return std::visit(Describe{}, event);
}

// Feeds `stream` cut at `cuts` (ascending offsets) and records every event
// until NeedMore at the end or the first violation. Each piece is copied into
// its own buffer so a read past a piece shows under ASan.
inline std::vector<std::string> run_pieces(std::span<const std::uint8_t> stream, std::span<const std::size_t> cuts,
                                           std::uint64_t max_message_bytes) {
  MessageAssembler assembler(max_message_bytes);
  std::vector<std::string> events;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : stream.size();
    const Bytes piece(stream.begin() + static_cast<std::ptrdiff_t>(start),
                      stream.begin() + static_cast<std::ptrdiff_t>(end));
    start = end;
    std::span<const std::uint8_t> rest(piece);
    for (;;) {
      const Event event = assembler.feed(rest);
      if (std::holds_alternative<NeedMore>(event)) break;
      events.push_back(describe(event));
      if (std::holds_alternative<Violation>(event)) return events;
    }
    if (!rest.empty()) events.push_back("bytes left after need_more");
  }
  return events;
}

inline std::vector<std::string> run_whole(std::span<const std::uint8_t> stream, std::uint64_t max_message_bytes) {
  return run_pieces(stream, {}, max_message_bytes);
}

inline std::vector<std::string> run_bytewise(std::span<const std::uint8_t> stream, std::uint64_t max_message_bytes) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  return run_pieces(stream, cuts, max_message_bytes);
}

}  // namespace kedge::web::test
