#include "web/message.h"

#include <algorithm>
#include <limits>

#include "web/close_code.h"

namespace kedge::web {

Event MessageAssembler::fail(ViolationKind kind) {
  violation_ = Violation{kind};
  return *violation_;
}

Event MessageAssembler::feed(std::span<const std::uint8_t>& bytes) {
  if (violation_) return *violation_;
  if (closed_) {
    bytes = bytes.subspan(bytes.size());  // §1.4: data after a Close is discarded
    return NeedMore{};
  }
  if (deliver_pending_clear_) {
    message_.clear();
    deliver_pending_clear_ = false;
  }
  for (;;) {
    if (!frames_.in_payload()) {
      switch (frames_.parse_header(bytes)) {
        case FrameParser::Status::need_more: return NeedMore{};
        case FrameParser::Status::failed: return fail(frames_.violation().kind);
        case FrameParser::Status::header_ready: break;
      }
      if (const auto violation = on_header(frames_.header())) return fail(violation->kind);
    } else {
      if (bytes.empty()) return NeedMore{};
      if (const auto violation = on_payload(bytes)) return fail(violation->kind);
    }
    if (!frames_.in_payload()) {
      if (auto event = on_frame_end()) return *event;
    }
  }
}

std::optional<Violation> MessageAssembler::on_header(const FrameHeader& header) {
  if (is_control(header.opcode)) {
    control_length_ = 0;  // FrameParser bounded the length to 125
    return std::nullopt;
  }
  if (header.opcode == Opcode::continuation) {
    if (!message_open_) return Violation{ViolationKind::unexpected_continuation};
  } else {
    if (message_open_) return Violation{ViolationKind::expected_continuation};
    message_open_ = true;
    message_kind_ = header.opcode == Opcode::text ? MessageKind::text : MessageKind::binary;
    text_.reset();
  }
  // Before any payload byte is kept: the message may not grow past the maximum.
  if (header.payload_length > max_message_bytes_ - message_.size()) return Violation{ViolationKind::message_too_big};
  return std::nullopt;
}

std::optional<Violation> MessageAssembler::on_payload(std::span<const std::uint8_t>& bytes) {
  if (is_control(frames_.header().opcode)) {
    control_length_ += frames_.unmask_into(bytes, std::span(control_).subspan(control_length_));
    return std::nullopt;
  }
  // Only bytes that arrived are buffered; the frame's length was checked
  // against the maximum in on_header, so the message never exceeds it. The
  // capacity stays within the maximum too (no doubling past it).
  const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), frames_.payload_remaining()));
  const std::size_t old_size = message_.size();
  const std::size_t new_size = old_size + chunk;
  if (new_size > message_.capacity()) {
    const std::uint64_t limit = std::min<std::uint64_t>(max_message_bytes_, std::numeric_limits<std::size_t>::max());
    message_.reserve(static_cast<std::size_t>(
        std::clamp<std::uint64_t>(std::uint64_t{message_.capacity()} * 2, new_size, limit)));
  }
  message_.resize(new_size);
  const std::span<std::uint8_t> fresh = std::span(message_).subspan(old_size);
  frames_.unmask_into(bytes, fresh);
  if (message_kind_ == MessageKind::text && !text_.feed(fresh)) return Violation{ViolationKind::text_not_utf8};
  return std::nullopt;
}

std::optional<Event> MessageAssembler::on_frame_end() {
  const FrameHeader& header = frames_.header();
  const std::span<const std::uint8_t> control(control_.data(), control_length_);
  switch (header.opcode) {
    case Opcode::ping: return Event{Ping{control}};
    case Opcode::pong: return Event{Pong{control}};
    case Opcode::close: return on_close_frame();
    case Opcode::continuation:
    case Opcode::text:
    case Opcode::binary: break;
  }
  if (!header.fin) return std::nullopt;  // more fragments follow
  if (message_kind_ == MessageKind::text && !text_.complete()) return fail(ViolationKind::text_truncated_utf8);
  message_open_ = false;
  deliver_pending_clear_ = true;
  return Event{DataMessage{message_kind_, message_}};
}

Event MessageAssembler::on_close_frame() {
  // §5.5.1: "If there is a body, the first two bytes of the body MUST be a
  // 2-byte unsigned integer (in network byte order) representing a status
  // code", followed by a UTF-8 reason.
  const std::span<const std::uint8_t> body(control_.data(), control_length_);
  CloseReceived close;
  if (body.size() == 1) return fail(ViolationKind::close_body_one_byte);
  if (!body.empty()) {
    const auto code = static_cast<std::uint16_t>((body[0] << 8) | body[1]);
    if (close_code_is_local_only(code)) return fail(ViolationKind::close_code_local_only);
    if (!close_code_allowed_on_wire(code)) return fail(ViolationKind::close_code_undefined);
    const std::span<const std::uint8_t> reason = body.subspan(2);
    if (!is_valid_utf8(reason)) return fail(ViolationKind::close_reason_not_utf8);
    close.code = code;
    close.reason = {reinterpret_cast<const char*>(reason.data()), reason.size()};
  }
  closed_ = true;
  message_.clear();  // a message left open is abandoned with the connection
  return close;
}

void MessageAssembler::trim(std::size_t keep_bytes) {
  if (deliver_pending_clear_) {
    message_.clear();
    deliver_pending_clear_ = false;
  }
  if (message_.capacity() > keep_bytes) std::vector<std::uint8_t>(message_).swap(message_);
}

}  // namespace kedge::web
