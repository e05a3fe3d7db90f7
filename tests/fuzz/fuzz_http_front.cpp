// HttpFront (gateway/http_front.h) on arbitrary client bytes: llhttp, the
// WebSocket upgrade, frames, and the protobuf / JSON commands behind them,
// with a Host that has no broker (tests/unit/gateway/http_test_host.h).
// Input: byte 0 picks the piece size the bytes arrive in (1..64); byte 1 bit 0
// prepends a valid WebSocket upgrade, so the rest is read as frames.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gateway/http_front.h"
#include "http_test_host.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const bool upgrade = (data[1] & 1) != 0;
  kedge::testing::RecordingHost host;
  kedge::HttpStats stats;
  kedge::HttpFront::Settings settings;
  settings.cluster_name = "fuzz";
  settings.config.max_message_bytes = 4096;
  settings.stats = &stats;
  kedge::HttpFront front(host, settings);
  std::string input;
  if (upgrade) {
    input =
        "GET /kafka HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  }
  input.append(reinterpret_cast<const char*>(data + 2), size - 2);
  for (std::size_t at = 0; at < input.size(); at += piece) {
    const std::size_t n = std::min(piece, input.size() - at);
    front.on_bytes(reinterpret_cast<const std::uint8_t*>(input.data() + at), n);
  }
  front.drain();
  return 0;
}
