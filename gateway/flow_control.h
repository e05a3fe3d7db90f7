#pragma once
// Symmetric watermarks (style practice 11; Envoy's flow_control.md): a side
// whose outbound queue holds more than the high watermark stops the *other*
// side's reads, which resume once the queue is at or below half of it. The
// stop is a pause reason of its own (io::PauseReason::backpressure), so a
// drain or a hold set for another reason is never undone by it.
#include <cstddef>

#include "io/stream_socket.h"

namespace kedge {

class FlowControl {
 public:
  enum class Change { none, paused, resumed };

  explicit FlowControl(std::size_t high_watermark) : high_(high_watermark), low_(high_watermark / 2) {}

  // `reader` is the side that feeds the queue of `queued` bytes (the client
  // for the broker's queue, the broker for the client's). Works with any
  // reader that has pause/resume/paused by reason (io::StreamSocket, upstream::Link).
  template <typename Reader>
  Change regulate(std::size_t queued, Reader& reader) const {
    const bool paused = reader.paused(io::PauseReason::backpressure);
    if (!paused && queued > high_) {
      reader.pause(io::PauseReason::backpressure);
      return Change::paused;
    }
    if (paused && queued <= low_) {
      reader.resume(io::PauseReason::backpressure);
      return Change::resumed;
    }
    return Change::none;
  }

 private:
  std::size_t high_;
  std::size_t low_;
};

}  // namespace kedge
