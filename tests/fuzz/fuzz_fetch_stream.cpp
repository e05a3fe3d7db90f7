// libFuzzer: Fetch v16-18 responses through the streaming path
// (ResponseProcessor with limits.fetch_buffer_bytes = 0, FetchResponseStream,
// fit_tag_section). Input: version byte (16 + b % 3), chunk-size byte (1..64),
// then the frame body after the size prefix (correlation id first).
// Invariants: a streamed frame keeps its length (its size prefix went out
// first); whenever the schema engine accepts the broker's frame it also
// accepts what the client receives, and that holds no broker endpoint.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_support.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kedge::kafka;
  if (size < 6 || size > (1u << 20)) return 0;
  const auto version = static_cast<std::int16_t>(16 + data[0] % 3);
  const std::size_t chunk = 1 + data[1] % 64;
  std::vector<std::uint8_t> frame;
  wire::put_i32(frame, static_cast<std::int32_t>(size - 2));
  frame.insert(frame.end(), data + 2, data + size);
  const RequestInfo request{1, version, wire::get_i32(frame.data() + 4)};

  fuzz::TemplateMap map;
  fuzz::CountingSink sink;
  InFlightQueue inflight;
  inflight.push(request);
  ResponseProcessor processor(1 << 20, map, /*fetch_buffer_bytes=*/0);
  Errc e = Errc::ok;
  const std::span<const std::uint8_t> all(frame);
  for (std::size_t i = 0; i < all.size() && e == Errc::ok; i += chunk)
    e = processor.feed(all.subspan(i, std::min(chunk, all.size() - i)), inflight, sink);
  if (sink.bytes.size() > frame.size()) __builtin_trap();
  const bool complete = e == Errc::ok && processor.stats().responses == 1;
  if (complete && sink.bytes.size() != frame.size()) __builtin_trap();

  FrameRewriter engine;
  fuzz::TemplateMap unused;
  if (engine.process(frame, request, unused) != Errc::ok) return 0;  // the broker's frame is malformed
  if (!complete) __builtin_trap();                                     // the stream walker must accept it too
  FrameRewriter client_view;
  if (client_view.process(sink.bytes, request, unused) != Errc::ok) __builtin_trap();
  for (const EndpointRef& endpoint : client_view.walk().endpoints) {
    if (endpoint.node_id < 0) continue;
    if (endpoint.host != "broker-" + std::to_string(endpoint.node_id) + ".kafka.example.com") __builtin_trap();
  }
  return 0;
}
