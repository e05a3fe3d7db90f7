#include "web/frame_writer.h"

#include <algorithm>

#include "web/utf8.h"

namespace kedge::web {

ServerFrameHeader::ServerFrameHeader(Opcode opcode, bool fin, std::uint64_t payload_length) {
  payload_length = std::min(payload_length, kMaxPayloadLength);
  bytes_[0] = static_cast<std::uint8_t>((fin ? 0x80 : 0x00) | static_cast<std::uint8_t>(opcode));
  // MASK = 0 (§5.1); the minimal length form (§5.2).
  if (payload_length <= 125) {
    bytes_[1] = static_cast<std::uint8_t>(payload_length);
    size_ = 2;
  } else if (payload_length <= 0xFFFF) {
    bytes_[1] = 126;
    bytes_[2] = static_cast<std::uint8_t>(payload_length >> 8);
    bytes_[3] = static_cast<std::uint8_t>(payload_length);
    size_ = 4;
  } else {
    bytes_[1] = 127;
    for (std::size_t i = 0; i < 8; ++i) bytes_[2 + i] = static_cast<std::uint8_t>(payload_length >> (56 - 8 * i));
    size_ = 10;
  }
}

void append_frame(std::vector<std::uint8_t>& out, Opcode opcode, bool fin, std::span<const std::uint8_t> payload) {
  const ServerFrameHeader header(opcode, fin, payload.size());
  out.reserve(out.size() + header.bytes().size() + payload.size());
  out.insert(out.end(), header.bytes().begin(), header.bytes().end());
  out.insert(out.end(), payload.begin(), payload.end());
}

void append_text(std::vector<std::uint8_t>& out, std::string_view text) {
  append_frame(out, Opcode::text, true, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void append_binary(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload) {
  append_frame(out, Opcode::binary, true, payload);
}

bool append_ping(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload) {
  if (payload.size() > kMaxControlPayloadBytes) return false;
  append_frame(out, Opcode::ping, true, payload);
  return true;
}

bool append_pong(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> payload) {
  if (payload.size() > kMaxControlPayloadBytes) return false;
  append_frame(out, Opcode::pong, true, payload);
  return true;
}

bool append_close(std::vector<std::uint8_t>& out, std::uint16_t code, std::string_view reason) {
  if (!close_code_allowed_on_wire(code) || reason.size() > kMaxCloseReasonBytes || !is_valid_utf8(reason)) return false;
  std::array<std::uint8_t, kMaxControlPayloadBytes> body{};
  body[0] = static_cast<std::uint8_t>(code >> 8);
  body[1] = static_cast<std::uint8_t>(code);
  std::copy(reason.begin(), reason.end(), body.begin() + 2);
  append_frame(out, Opcode::close, true, std::span(body).first(2 + reason.size()));
  return true;
}

void append_close_without_code(std::vector<std::uint8_t>& out) { append_frame(out, Opcode::close, true, {}); }

void append_close(std::vector<std::uint8_t>& out, Violation violation) {
  [[maybe_unused]] const bool written = append_close(out, violation.close_code(), violation.reason());
}

std::optional<ServerFrameHeader> FragmentedMessageWriter::next_fragment(std::uint64_t payload_length, bool last) {
  if (finished_) return std::nullopt;
  const Opcode opcode = started_ ? Opcode::continuation : opcode_of(kind_);
  started_ = true;
  finished_ = last;
  return ServerFrameHeader(opcode, last, payload_length);
}

}  // namespace kedge::web
