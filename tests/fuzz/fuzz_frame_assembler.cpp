// libFuzzer: FrameAssembler (kafka_codec/frame.h) over an arbitrary broker stream.
// Input: byte 0 = chunk size (1..64), byte 1 = maximum frame size selector, rest = the stream.
// The stream fed chunk by chunk must give the same frames and error as fed whole;
// every frame is whole (its size prefix describes it) and within the maximum.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kafka_codec/frame.h"
#include "kafka_codec/wire.h"

namespace {

using kedge::kafka::Errc;
using kedge::kafka::FrameAssembler;

struct Run {
  std::vector<std::vector<std::uint8_t>> frames;
  Errc error = Errc::ok;
  Errc at_eof = Errc::ok;
  std::size_t received = 0;
};

Run run(std::span<const std::uint8_t> stream, std::size_t chunk, std::uint32_t max) {
  Run out;
  FrameAssembler frames(max);
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    out.error = frames.feed(stream.subspan(i, std::min(chunk, stream.size() - i)));
    while (frames.has_frame()) out.frames.push_back(frames.take_frame());
    if (out.error != Errc::ok) {
      if (frames.feed(stream.first(0)) != out.error) __builtin_trap();  // sticky
      break;
    }
  }
  out.received = frames.received_bytes();
  out.at_eof = frames.finish();
  if (out.error == Errc::ok && (out.at_eof == Errc::ok) != (out.received == 0)) __builtin_trap();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const std::uint32_t max = data[1] % 2 == 0 ? 64u : 1u << 20;
  const std::span<const std::uint8_t> stream(data + 2, size - 2);

  const Run chunked = run(stream, chunk, max);
  const Run whole = run(stream, stream.size() + 1, max);
  if (chunked.frames != whole.frames || chunked.error != whole.error || chunked.at_eof != whole.at_eof ||
      chunked.received != whole.received)
    __builtin_trap();

  std::size_t consumed = 0;
  for (const auto& frame : chunked.frames) {
    if (frame.size() < 4 + kedge::kafka::kMinResponseFrameSize || frame.size() > 4 + std::size_t{max}) __builtin_trap();
    if (static_cast<std::size_t>(kedge::kafka::wire::get_i32(frame.data())) != frame.size() - 4) __builtin_trap();
    consumed += frame.size();
  }
  // Frames are the stream's prefix, byte for byte.
  if (consumed > stream.size()) __builtin_trap();
  std::size_t at = 0;
  for (const auto& frame : chunked.frames) {
    if (!std::equal(frame.begin(), frame.end(), stream.begin() + static_cast<std::ptrdiff_t>(at))) __builtin_trap();
    at += frame.size();
  }
  if (chunked.error == Errc::ok && consumed + chunked.received != stream.size()) __builtin_trap();
  return 0;
}
