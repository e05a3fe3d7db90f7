// libFuzzer: the response frame splitter + processor with a random in-flight queue.
// Input: byte 0 = number of in-flight requests n (1..8); n x {api key index,
// version (a byte >= 128 also throttles the request by that many ms and counts
// its response, quotas)}; then one chunk-size byte (1..64); the rest is the
// broker stream. A throttled run must write as many bytes as the same run
// unthrottled whenever both end cleanly (the patch changes values, never sizes).
// Every in-flight request has correlation id 0x11223344 (as in the golden vectors).
// The same stream then goes to the processor after reset()/shrink() and to a new
// one: both must produce the same bytes, errors and counts.
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
  InFlightQueue requests;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int16_t key = kKeys[data[1 + 2 * i] % std::size(kKeys)];
    const std::int16_t version = static_cast<std::int16_t>(data[2 + 2 * i] % 20);
    RequestInfo request{key, version, 0x11223344};
    if (data[2 + 2 * i] >= 128) {
      request.throttle_ms = data[2 + 2 * i];
      request.report_response = true;
    }
    requests.push(request);
  }
  InFlightQueue inflight = requests;
  const std::size_t chunk = 1 + data[1 + 2 * n] % 64;
  const std::span<const std::uint8_t> stream(data + 2 + 2 * n, size - 2 - 2 * n);

  fuzz::TemplateMap map;
  fuzz::CountingSink sink;
  ResponseProcessor processor(1 << 20, map);
  bool clean = true;
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    const Errc e = processor.feed(stream.subspan(i, std::min(chunk, stream.size() - i)), inflight, sink);
    if (e != Errc::ok) {
      clean = false;
      break;
    }
  }
  if (processor.stats().responses > n) __builtin_trap();
  if (processor.buffered_bytes() > stream.size()) __builtin_trap();
  clean = clean && processor.buffered_bytes() == 0;

  // The same requests unthrottled.
  {
    InFlightQueue plain_queue;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      RequestInfo request = requests.at(i);
      request.throttle_ms = 0;
      request.report_response = false;
      plain_queue.push(request);
    }
    fuzz::TemplateMap plain_map;
    fuzz::CountingSink plain_out;
    ResponseProcessor plain(1 << 20, plain_map);
    for (std::size_t i = 0; i < stream.size() && clean; i += chunk) {
      if (plain.feed(stream.subspan(i, std::min(chunk, stream.size() - i)), plain_queue, plain_out) != Errc::ok) {
        clean = false;
      }
    }
    if (clean && plain.buffered_bytes() == 0 && plain_out.bytes.size() != sink.bytes.size()) __builtin_trap();
  }

  // Reuse (the gateway's per-loop pool): reset and shrunk from whatever state the
  // run above left (mid-frame, in error), the processor must do exactly what a
  // new one does with the same stream.
  processor.shrink(64);
  fuzz::TemplateMap reused_map;
  processor.reset(1 << 20, reused_map);
  fuzz::TemplateMap fresh_map;
  ResponseProcessor fresh(1 << 20, fresh_map);
  InFlightQueue reused_queue = requests, fresh_queue = requests;
  fuzz::CountingSink reused_out, fresh_out;
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    const std::span<const std::uint8_t> piece = stream.subspan(i, std::min(chunk, stream.size() - i));
    const Errc a = processor.feed(piece, reused_queue, reused_out);
    const Errc b = fresh.feed(piece, fresh_queue, fresh_out);
    if (a != b) __builtin_trap();
    if (a != Errc::ok) break;
  }
  if (reused_out.bytes != fresh_out.bytes) __builtin_trap();
  if (processor.stats().responses != fresh.stats().responses) __builtin_trap();
  if (processor.stats().rewritten != fresh.stats().rewritten) __builtin_trap();
  if (processor.buffered_bytes() != fresh.buffered_bytes()) __builtin_trap();
  if (reused_map.calls != fresh_map.calls) __builtin_trap();  // the reset rebound the address map
  return 0;
}
