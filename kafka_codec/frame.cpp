#include "kafka_codec/frame.h"

#include <algorithm>

#include "kafka_codec/wire.h"

namespace kedge::kafka {

FrameAssembler::FrameAssembler(std::uint32_t max_frame_size, std::uint32_t min_frame_size)
    : max_frame_size_(max_frame_size), min_frame_size_(min_frame_size) {}

Errc FrameAssembler::feed(std::span<const std::uint8_t> bytes) {
  while (error_ == Errc::ok && !bytes.empty()) {
    if (prefix_len_ < 4) {
      const std::size_t n = std::min(4 - prefix_len_, bytes.size());
      std::copy_n(bytes.begin(), n, prefix_ + prefix_len_);
      prefix_len_ += n;
      bytes = bytes.subspan(n);
      if (prefix_len_ < 4) break;
      const std::int32_t size = wire::get_i32(prefix_);
      announced_size_ = size;
      if (const Errc e = check_frame_size(size, max_frame_size_, min_frame_size_); e != Errc::ok) {
        error_ = e;
        break;
      }
      partial_.assign(prefix_, prefix_ + 4);
    }
    const std::size_t want = static_cast<std::size_t>(announced_size_) + 4 - partial_.size();
    const std::size_t n = std::min(want, bytes.size());
    partial_.insert(partial_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    if (n == want) {
      complete_.push_back(std::move(partial_));
      partial_ = {};
      prefix_len_ = 0;
    }
  }
  return error_;
}

Errc FrameAssembler::finish() {
  if (error_ == Errc::ok && prefix_len_ > 0) error_ = Errc::stream_ended_mid_frame;
  return error_;
}

std::vector<std::uint8_t> FrameAssembler::take_frame() {
  std::vector<std::uint8_t> frame = std::move(complete_.front());
  complete_.pop_front();
  return frame;
}

}  // namespace kedge::kafka
