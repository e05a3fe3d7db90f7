#pragma once
// Errors of the pure Kafka framing and codec, as values (style practice 16):
// the data path (RequestTracker, ResponseProcessor) and kedge's own client
// connections (FrameAssembler, the upstream session) report these.
#include <cstdint>
#include <string_view>

namespace kedge::kafka {

enum class Errc : std::uint8_t {
  ok = 0,
  frame_too_large,         // size prefix > configured maximum
  negative_frame_size,     // size prefix < 0 (or too small to hold a header)
  malformed_request,       // request header cannot be parsed
  malformed_response,      // a response we must decode does not parse / has trailing bytes
  correlation_mismatch,    // response correlation id != head of the in-flight FIFO
  unexpected_response,     // response with nothing in flight
  sasl_v0_unsupported,     // SaslHandshake v0 (unframed tokens follow); refused
  stream_ended_mid_frame,  // the peer closed the stream with a frame incomplete
};

constexpr std::string_view to_string(Errc errc) {
  switch (errc) {
    case Errc::ok: return "ok";
    case Errc::frame_too_large: return "frame_too_large";
    case Errc::negative_frame_size: return "negative_frame_size";
    case Errc::malformed_request: return "malformed_request";
    case Errc::malformed_response: return "malformed_response";
    case Errc::correlation_mismatch: return "correlation_mismatch";
    case Errc::unexpected_response: return "unexpected_response";
    case Errc::sasl_v0_unsupported: return "sasl_v0_unsupported";
    case Errc::stream_ended_mid_frame: return "stream_ended_mid_frame";
  }
  return "unknown";
}

}  // namespace kedge::kafka
