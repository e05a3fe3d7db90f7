// libFuzzer: the response frame splitter + processor with a random in-flight queue.
// Input: byte 0 = number of in-flight requests n (1..8); n x {api key index,
// version}; then one chunk-size byte (1..64); the rest is the broker stream.
// Every in-flight request has correlation id 0x11223344 (as in the golden vectors).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_support.h"

namespace {
constexpr std::int16_t kKeys[] = {0, 1, 3, 10, 18, 55, 60, 78, 79, 12, 2, 17, 36};
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kedge::kafka;
  if (size < 2) return 0;
  const std::size_t n = 1 + data[0] % 8;
  if (size < 2 + 2 * n) return 0;
  InFlightQueue inflight;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int16_t key = kKeys[data[1 + 2 * i] % std::size(kKeys)];
    const std::int16_t version = static_cast<std::int16_t>(data[2 + 2 * i] % 20);
    inflight.push({key, version, 0x11223344});
  }
  const std::size_t chunk = 1 + data[1 + 2 * n] % 64;
  const std::span<const std::uint8_t> stream(data + 2 + 2 * n, size - 2 - 2 * n);

  fuzz::TemplateMap map;
  fuzz::CountingSink sink;
  ResponseProcessor processor(1 << 20, map);
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    const std::size_t before = sink.bytes.size();
    const Errc e = processor.feed(stream.subspan(i, std::min(chunk, stream.size() - i)), inflight, sink);
    if (e != Errc::ok) break;
    (void)before;
  }
  if (processor.stats().responses > n) __builtin_trap();
  if (processor.buffered_bytes() > stream.size()) __builtin_trap();
  return 0;
}
