// libFuzzer: RequestTracker over an arbitrary client byte stream, plain and routed.
// Input: byte 0 = chunk size (1..64, bits 0..5), with bit 6 set the router answers inspected requests whose
// correlation id is odd itself (Inspection::answer), with bit 7 it lets an inspected frame stream once 20
// bytes of it are held (on_inspect_prefix); byte 1 = which api keys the router captures (key % 8 == byte % 8, or
// none when bit 7 is set), with bit 3 which it inspects (key % 8 == (byte % 8) ^ 4: held whole, then
// forwarded), and, in bits 4..6, how many KIP-43 unframed SASL tokens follow a captured SaslHandshake v0;
// rest = the stream, fed chunk by chunk to both trackers.
// Checks: errors are sticky and the same on both paths until the plain path refuses a SaslHandshake v0 (only
// a router can delimit the tokens that follow; the routed path goes on alone); both record the same requests
// (the routed one marks captured ones local, and tokens local and unframed); what the routed path forwards and
// captures, in order, is the stream itself (a prefix of it while a frame head or a captured frame is still
// incomplete).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kafka_codec/stream.h"

namespace {

using kedge::kafka::Errc;
using kedge::kafka::RequestInfo;
using kedge::kafka::RequestRouter;

struct Recorder final : RequestRouter, kedge::kafka::ByteSink {
  Recorder(std::uint8_t selector, std::uint8_t behaviour) : selector(selector), behaviour(behaviour) {}
  Route route(RequestInfo& request) override {
    if (captures(request)) return Route::capture;
    return inspects(request) ? Route::inspect : Route::forward;
  }
  bool captures(const RequestInfo& request) const {
    return (selector & 0x80) == 0 && (request.api_key & 7) == (selector & 7);
  }
  // Bit 3: the keys 4 apart from the captured ones are inspected (held whole, forwarded unchanged).
  bool inspects(const RequestInfo& request) const {
    return (selector & 0x88) == 0x08 && (request.api_key & 7) == ((selector & 7) ^ 4);
  }
  bool answers(const RequestInfo& request) const { return (behaviour & 0x40) != 0 && (request.correlation_id & 1) != 0; }
  Inspection on_inspected(RequestInfo& request, std::vector<std::uint8_t>& frame) override {
    inspected_bytes += frame.size();
    return answers(request) ? Inspection::answer : Inspection::forward;
  }
  Prefix on_inspect_prefix(const RequestInfo&, std::vector<std::uint8_t>& held) override {
    return (behaviour & 0x80) != 0 && held.size() >= 20 ? Prefix::forward : Prefix::wait;
  }
  std::size_t inspected_bytes = 0;
  NextFrame on_captured(const RequestInfo& request, std::span<const std::uint8_t> frame) override {
    out.insert(out.end(), frame.begin(), frame.end());
    if (request.unframed_sasl_token) {
      if (tokens_left > 0) --tokens_left;
    } else if (request.api_key == 17 && request.api_version == 0) {
      tokens_left = (selector >> 4) & 7;
    }
    return tokens_left > 0 ? NextFrame::unframed_sasl_token : NextFrame::request;
  }
  void write(std::span<const std::uint8_t> bytes) override { out.insert(out.end(), bytes.begin(), bytes.end()); }
  std::uint8_t selector;
  std::uint8_t behaviour;
  int tokens_left = 0;
  std::vector<std::uint8_t> out;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const std::span<const std::uint8_t> stream(data + 2, size - 2);
  kedge::kafka::RequestTracker plain(1 << 20), routed(1 << 20);
  kedge::kafka::InFlightQueue plain_inflight, routed_inflight;
  Recorder recorder(data[1], data[0]);
  Errc error = Errc::ok;
  bool plain_stopped = false;  // the plain path refused a SaslHandshake v0
  std::size_t consumed = 0;
  for (std::size_t i = 0; i < stream.size(); i += chunk) {
    const auto piece = stream.subspan(i, std::min(chunk, stream.size() - i));
    const auto r = routed.feed(piece, routed_inflight, recorder, recorder);
    if (!plain_stopped) {
      const auto e = plain.feed(piece, plain_inflight);
      if (e == Errc::sasl_v0_unsupported) {
        plain_stopped = true;
      } else if (e != r) {
        __builtin_trap();
      }
    }
    if (r != Errc::ok) {
      if (routed.feed(stream.first(0), routed_inflight, recorder, recorder) != r) __builtin_trap();  // sticky
      error = r;
      break;
    }
    consumed = i + piece.size();
  }
  if (plain_inflight.size() > plain.requests_seen()) __builtin_trap();
  if (routed_inflight.size() > routed.requests_seen()) __builtin_trap();
  if (!plain_stopped && plain_inflight.size() != routed_inflight.size()) __builtin_trap();
  if (plain_inflight.size() > routed_inflight.size()) __builtin_trap();
  for (std::size_t i = 0; i < routed_inflight.size(); ++i) {
    const RequestInfo& b = routed_inflight.at(i);
    if (i < plain_inflight.size()) {
      const RequestInfo& a = plain_inflight.at(i);
      if (a.api_key != b.api_key || a.api_version != b.api_version || a.correlation_id != b.correlation_id) {
        __builtin_trap();
      }
    }
    if (b.unframed_sasl_token && !b.local) __builtin_trap();
    // Local: captured, or inspected and answered (unless it streamed from its prefix first).
    if (!b.unframed_sasl_token && b.local && !recorder.captures(b) && !(recorder.inspects(b) && recorder.answers(b))) {
      __builtin_trap();
    }
    if (!b.unframed_sasl_token && !b.local && recorder.captures(b)) __builtin_trap();
    // (The last entry may be a frame still arriving, not yet decided.)
    if ((recorder.behaviour & 0x80) == 0 && i + 1 < routed_inflight.size() && !b.unframed_sasl_token &&
        recorder.inspects(b) && b.local != recorder.answers(b)) {
      __builtin_trap();
    }
  }
  if (error == Errc::ok) {
    if (recorder.out.size() > consumed) __builtin_trap();
    for (std::size_t i = 0; i < recorder.out.size(); ++i) {
      if (recorder.out[i] != stream[i]) __builtin_trap();
    }
  }
  return 0;
}
