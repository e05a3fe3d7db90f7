// libFuzzer: RequestTracker over an arbitrary client byte stream.
// Input: byte 0 = chunk size (1..64), rest = the stream, fed chunk by chunk.
#include <cstddef>
#include <cstdint>
#include <span>

#include "kafka_codec/stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const std::span<const std::uint8_t> stream(data + 1, size - 1);
  kedge::kafka::RequestTracker tracker(1 << 20);
  kedge::kafka::InFlightQueue inflight;
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    const auto e = tracker.feed(stream.subspan(i, std::min(chunk, stream.size() - i)), inflight);
    if (e != kedge::kafka::Errc::ok) {
      // Errors are sticky.
      if (tracker.feed(stream.first(0), inflight) != e) __builtin_trap();
      break;
    }
  }
  if (inflight.size() > tracker.requests_seen()) __builtin_trap();
  return 0;
}
