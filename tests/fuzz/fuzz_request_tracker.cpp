// libFuzzer: RequestTracker over an arbitrary client byte stream, plain and routed.
// Input: byte 0 = chunk size (1..64), byte 1 = which api keys the router captures (key % 8 == byte % 8, or
// none when bit 7 is set), rest = the stream, fed chunk by chunk to both trackers.
// Checks: errors are sticky and the same on both paths; both record the same requests (the routed one marks
// captured ones local); what the routed path forwards and captures, in order, is the stream itself (a prefix
// of it while a frame head or a captured frame is still incomplete).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kafka_codec/stream.h"

namespace {

using kedge::kafka::RequestInfo;
using kedge::kafka::RequestRouter;

struct Recorder final : RequestRouter, kedge::kafka::ByteSink {
  explicit Recorder(std::uint8_t selector) : selector(selector) {}
  Route route(const RequestInfo& request) override {
    const bool capture = (selector & 0x80) == 0 && (request.api_key & 7) == (selector & 7);
    return capture ? Route::capture : Route::forward;
  }
  void on_captured(const RequestInfo&, std::span<const std::uint8_t> frame) override {
    out.insert(out.end(), frame.begin(), frame.end());
  }
  void write(std::span<const std::uint8_t> bytes) override { out.insert(out.end(), bytes.begin(), bytes.end()); }
  std::uint8_t selector;
  std::vector<std::uint8_t> out;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const std::span<const std::uint8_t> stream(data + 2, size - 2);
  kedge::kafka::RequestTracker plain(1 << 20), routed(1 << 20);
  kedge::kafka::InFlightQueue plain_inflight, routed_inflight;
  Recorder recorder(data[1]);
  kedge::kafka::Errc error = kedge::kafka::Errc::ok;
  std::size_t consumed = 0;
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    const auto piece = stream.subspan(i, std::min(chunk, stream.size() - i));
    const auto e = plain.feed(piece, plain_inflight);
    const auto r = routed.feed(piece, routed_inflight, recorder, recorder);
    if (e != r) __builtin_trap();
    if (e != kedge::kafka::Errc::ok) {
      // Errors are sticky.
      if (plain.feed(stream.first(0), plain_inflight) != e) __builtin_trap();
      if (routed.feed(stream.first(0), routed_inflight, recorder, recorder) != e) __builtin_trap();
      error = e;
      break;
    }
    consumed = i + piece.size();
  }
  if (plain_inflight.size() > plain.requests_seen()) __builtin_trap();
  if (plain_inflight.size() != routed_inflight.size()) __builtin_trap();
  for (std::size_t i = 0; i < plain_inflight.size(); ++i) {
    const RequestInfo& a = plain_inflight.at(i);
    const RequestInfo& b = routed_inflight.at(i);
    if (a.api_key != b.api_key || a.api_version != b.api_version || a.correlation_id != b.correlation_id) {
      __builtin_trap();
    }
    if (b.local != (recorder.route(b) == RequestRouter::Route::capture)) __builtin_trap();
  }
  if (error == kedge::kafka::Errc::ok) {
    if (recorder.out.size() > consumed) __builtin_trap();
    for (std::size_t i = 0; i < recorder.out.size(); ++i) {
      if (recorder.out[i] != stream[i]) __builtin_trap();
    }
  }
  return 0;
}
