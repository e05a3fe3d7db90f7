#pragma once
// Kafka framing shared by every reader of frames (kafka-protocol.md §2):
//   frame := int32 size (big-endian, excludes itself) | `size` bytes
// check_frame_size() is the one place a size prefix is judged: the data path's
// RequestTracker and ResponseProcessor and kedge's own client connections
// (FrameAssembler, the upstream session) all call it, so "too large" and "too
// small" mean the same everywhere. Pure: no I/O, no exceptions.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "kafka_codec/errc.h"

namespace kedge::kafka {

// Bytes after the size prefix that every request / response frame holds at least:
// api_key, api_version, correlation_id (request header) / correlation_id (response header).
inline constexpr std::uint32_t kMinRequestFrameSize = 8;
inline constexpr std::uint32_t kMinResponseFrameSize = 4;

// Judges a size prefix before anything of the frame is buffered (style practice 4):
// negative -> negative_frame_size; above `max_frame_size` -> frame_too_large;
// below `min_size` (no room for the header) -> negative_frame_size; else ok.
constexpr Errc check_frame_size(std::int32_t size, std::uint32_t max_frame_size, std::uint32_t min_size) {
  if (size < 0) return Errc::negative_frame_size;
  if (static_cast<std::uint32_t>(size) > max_frame_size) return Errc::frame_too_large;
  if (static_cast<std::uint32_t>(size) < min_size) return Errc::negative_frame_size;
  return Errc::ok;
}

// Splits a byte stream from a broker into whole response frames, for a client
// that reads responses (kedge's discovery and `kedge check` connections; the
// data path streams instead, see ResponseProcessor).
//
// Contract: feed() takes bytes in any split; each size prefix is checked with
// check_frame_size() as soon as its 4 bytes are known, before any byte of that
// frame's body is kept, and memory grows with the bytes that arrived, never
// with an announced size alone (a broker that announces a large frame and
// stalls pins no memory). Complete frames are
// queued in order, size prefix included; take_frame() hands them over (moved,
// the caller owns them). The first error is sticky: every later feed() and
// finish() returns it, and bytes after the bad prefix are not looked at.
class FrameAssembler {
 public:
  explicit FrameAssembler(std::uint32_t max_frame_size, std::uint32_t min_frame_size = kMinResponseFrameSize);

  // Consumes all of `bytes` (or stops at the first bad size prefix).
  Errc feed(std::span<const std::uint8_t> bytes);
  // The peer closed the stream: ok between frames, stream_ended_mid_frame when a
  // frame (or its size prefix) was incomplete. Complete frames stay queued.
  Errc finish();

  bool has_frame() const { return !complete_.empty(); }
  // The oldest complete frame; has_frame() must be true.
  std::vector<std::uint8_t> take_frame();

  Errc error() const { return error_; }
  // The size prefix of the frame in progress, or of the one refused: what an
  // error message quotes ("frame of N bytes"). 0 before any prefix was read.
  std::int64_t announced_size() const { return announced_size_; }
  // Bytes of the frame in progress received so far, size prefix included
  // ("N of M bytes", M = announced_size() + 4).
  std::size_t received_bytes() const { return partial_.empty() ? prefix_len_ : partial_.size(); }
  std::uint32_t max_frame_size() const { return max_frame_size_; }

 private:
  std::uint32_t max_frame_size_;
  std::uint32_t min_frame_size_;
  std::uint8_t prefix_[4] = {};
  std::size_t prefix_len_ = 0;      // 4 once the frame in progress has a valid size
  std::int64_t announced_size_ = 0;
  std::vector<std::uint8_t> partial_;  // the frame in progress, size prefix included
  std::deque<std::vector<std::uint8_t>> complete_;
  Errc error_ = Errc::ok;
};

}  // namespace kedge::kafka
