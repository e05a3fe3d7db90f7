#include "web/frame_parser.h"

#include <algorithm>

namespace kedge::web {

void apply_mask(std::span<const std::uint8_t> in, std::span<std::uint8_t> out, const MaskingKey& key,
                std::uint64_t payload_offset) {
  const std::size_t n = std::min(in.size(), out.size());
  // The key rotated so that byte i of `in` uses rotated[i % 4] (a loop the compiler vectorises).
  const std::size_t phase = static_cast<std::size_t>(payload_offset % 4);
  const std::uint8_t rotated[4] = {key[phase], key[(phase + 1) % 4], key[(phase + 2) % 4], key[(phase + 3) % 4]};
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(in[i] ^ rotated[i & 3]);
}

void apply_mask(std::span<std::uint8_t> bytes, const MaskingKey& key, std::uint64_t payload_offset) {
  apply_mask(std::span<const std::uint8_t>(bytes), bytes, key, payload_offset);
}

FrameParser::Status FrameParser::fail(ViolationKind kind) {
  failed_ = true;
  violation_ = Violation{kind};
  return Status::failed;
}

FrameParser::Status FrameParser::parse_header(std::span<const std::uint8_t>& bytes) {
  if (failed_) return Status::failed;
  if (payload_left_ != 0) return Status::need_more;  // misuse: the payload phase is not over
  while (!bytes.empty()) {
    const std::uint8_t byte = bytes.front();
    bytes = bytes.subspan(1);
    header_bytes_[header_have_++] = byte;

    if (header_have_ == 1) {
      // FIN | RSV1 | RSV2 | RSV3 | opcode(4)
      if ((byte & 0x70) != 0) return fail(ViolationKind::reserved_bits_set);
      const std::uint8_t opcode = byte & 0x0F;
      if (!is_known_opcode(opcode)) return fail(ViolationKind::unknown_opcode);
      header_ = FrameHeader{};
      header_.fin = (byte & 0x80) != 0;
      header_.opcode = static_cast<Opcode>(opcode);
      if (is_control(header_.opcode) && !header_.fin) return fail(ViolationKind::fragmented_control_frame);
    } else if (header_have_ == 2) {
      // MASK | Payload len(7)
      header_.masked = (byte & 0x80) != 0;
      if (!header_.masked) return fail(ViolationKind::unmasked_frame);
      const std::uint8_t length7 = byte & 0x7F;
      if (is_control(header_.opcode) && length7 > kMaxControlPayloadBytes)
        return fail(ViolationKind::control_frame_too_long);
      const std::size_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
      header_needed_ = 2 + extended + 4;
      if (extended == 0) header_.payload_length = length7;
    } else if (header_have_ == 4 && header_bytes_[1] == (0x80 | 126)) {
      const std::uint64_t length = (std::uint64_t{header_bytes_[2]} << 8) | header_bytes_[3];
      if (length < 126) return fail(ViolationKind::non_minimal_length);
      header_.payload_length = length;
    } else if (header_have_ == 10 && header_bytes_[1] == (0x80 | 127)) {
      if ((header_bytes_[2] & 0x80) != 0) return fail(ViolationKind::length_high_bit_set);
      std::uint64_t length = 0;
      for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | header_bytes_[i];
      if (length <= 0xFFFF) return fail(ViolationKind::non_minimal_length);
      header_.payload_length = length;
    }

    if (header_have_ == header_needed_) {
      std::copy_n(header_bytes_.begin() + static_cast<std::ptrdiff_t>(header_needed_ - 4), 4,
                  header_.masking_key.begin());
      payload_left_ = header_.payload_length;
      header_have_ = 0;
      header_needed_ = 2;
      return Status::header_ready;
    }
  }
  return Status::need_more;
}

std::span<const std::uint8_t> FrameParser::unmask_in_place(std::span<std::uint8_t>& bytes) {
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), payload_left_));
  const std::span<std::uint8_t> payload = bytes.first(n);
  apply_mask(payload, header_.masking_key, header_.payload_length - payload_left_);
  take_payload(n);
  bytes = bytes.subspan(n);
  return payload;
}

std::size_t FrameParser::unmask_into(std::span<const std::uint8_t>& bytes, std::span<std::uint8_t> out) {
  const auto n = static_cast<std::size_t>(
      std::min<std::uint64_t>(std::min(bytes.size(), out.size()), payload_left_));
  apply_mask(bytes.first(n), out.first(n), header_.masking_key, header_.payload_length - payload_left_);
  take_payload(n);
  bytes = bytes.subspan(n);
  return n;
}

}  // namespace kedge::web
