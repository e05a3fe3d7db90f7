// libFuzzer: the server-side WebSocket codec (web/frame_parser.h, web/message.h)
// over an arbitrary client stream, and the writer (web/frame_writer.h) on what
// it returns.
// Input: byte 0 = piece size (1..64), byte 1 = message limit selector (kMaxima), rest = the stream.
// Invariants (any failure traps):
//   - the stream fed in pieces gives the same events and violation as fed whole;
//   - a data message is at most the limit; a text message, a Close reason are valid UTF-8 by a
//     reference decoder written from the code point definition; control payloads <= 125 bytes;
//     Close codes may travel on the wire; a violation's close code is 1002, 1007 or 1009;
//   - parse(encode(X)) == X: every event re-encoded as a server frame, masked as a client would,
//     parses back to the same event (data messages also as two fragments around a Ping);
//   - FrameParser's two unmasking paths give the same frames;
//   - Utf8Validator equals the reference decoder on the raw stream, whole and split.
// ASan/UBSan watch every read: no piece is read past its end.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../unit/web/web_test_support.h"
#include "web/frame_parser.h"
#include "web/frame_writer.h"
#include "web/message.h"
#include "web/utf8.h"

namespace {

using namespace kedge::web;
using namespace kedge::web::test;

constexpr std::uint64_t kMaxima[] = {0, 16, 125, 4096, 1 << 20};

void require(bool condition) {
  if (!condition) __builtin_trap();
}

// The server frame(s) for an event, masked as a client would send them; empty for NeedMore / Violation.
Bytes reencode(const Event& event, bool fragmented) {
  Bytes server;
  if (const auto* message = std::get_if<DataMessage>(&event)) {
    if (!fragmented) {
      if (message->kind == MessageKind::text) append_text(server, message->text());
      else append_binary(server, message->payload);
    } else {
      FragmentedMessageWriter writer(message->kind);
      const std::size_t half = message->payload.size() / 2;
      const auto first = writer.next_fragment(half, false);
      server.insert(server.end(), first->bytes().begin(), first->bytes().end());
      server.insert(server.end(), message->payload.begin(), message->payload.begin() + static_cast<std::ptrdiff_t>(half));
      require(append_ping(server, {}));
      const auto last = writer.next_fragment(message->payload.size() - half, true);
      server.insert(server.end(), last->bytes().begin(), last->bytes().end());
      server.insert(server.end(), message->payload.begin() + static_cast<std::ptrdiff_t>(half), message->payload.end());
      require(writer.finished() && !writer.next_fragment(0, true));
    }
  } else if (const auto* ping = std::get_if<Ping>(&event)) {
    require(append_ping(server, ping->payload));
  } else if (const auto* pong = std::get_if<Pong>(&event)) {
    require(append_pong(server, pong->payload));
  } else if (const auto* close = std::get_if<CloseReceived>(&event)) {
    if (close->code) require(append_close(server, *close->code, close->reason));
    else append_close_without_code(server);
  }
  // Mask frame by frame.
  Bytes client;
  std::size_t at = 0;
  std::uint8_t k = 0x5a;
  while (at < server.size()) {
    const std::uint8_t len7 = server[at + 1] & 0x7F;
    std::size_t header = 2;
    std::uint64_t length = len7;
    if (len7 == 126) { header = 4; length = (std::size_t{server[at + 2]} << 8) | server[at + 3]; }
    if (len7 == 127) { header = 10; length = 0; for (int i = 0; i < 8; ++i) length = (length << 8) | server[at + 2 + i]; }
    const Bytes masked =
        as_client_frame(std::span(server).subspan(at, header + static_cast<std::size_t>(length)), {k, 0x01, 0xfe, k});
    client.insert(client.end(), masked.begin(), masked.end());
    at += header + static_cast<std::size_t>(length);
    k = static_cast<std::uint8_t>(k * 5 + 1);
  }
  return client;
}

void check_event(const Event& event, std::uint64_t max) {
  if (const auto* message = std::get_if<DataMessage>(&event)) {
    require(message->payload.size() <= max);
    if (message->kind == MessageKind::text) require(reference_utf8_valid(message->payload));
  } else if (const auto* ping = std::get_if<Ping>(&event)) {
    require(ping->payload.size() <= kMaxControlPayloadBytes);
  } else if (const auto* pong = std::get_if<Pong>(&event)) {
    require(pong->payload.size() <= kMaxControlPayloadBytes);
  } else if (const auto* close = std::get_if<CloseReceived>(&event)) {
    require(!close->code || close_code_allowed_on_wire(*close->code));
    require(close->reason.size() <= kMaxCloseReasonBytes);
    require(!close->code ? close->reason.empty() : true);
    const auto* reason = reinterpret_cast<const std::uint8_t*>(close->reason.data());
    require(reference_utf8_valid(std::span(reason, close->reason.size())));
  } else if (const auto* violation = std::get_if<Violation>(&event)) {
    const auto code = static_cast<int>(violation->close_code());
    require(code == 1002 || code == 1007 || code == 1009);
    require(!violation->reason().empty() && violation->reason().size() <= kMaxCloseReasonBytes);
  }
}

// Every event of the whole stream, checked and round-tripped; returns their descriptions.
std::vector<std::string> run_checked(std::span<const std::uint8_t> stream, std::uint64_t max) {
  std::vector<std::string> lines;
  MessageAssembler assembler(max);
  const Bytes copy(stream.begin(), stream.end());  // exactly sized: ASan sees any read past the end
  std::span<const std::uint8_t> rest(copy);
  for (;;) {
    const std::size_t before = rest.size();
    const Event event = assembler.feed(rest);
    require(rest.size() <= before);
    if (std::holds_alternative<NeedMore>(event)) {
      require(rest.empty());
      break;
    }
    check_event(event, max);
    const std::string line = describe(event);
    lines.push_back(line);
    if (std::holds_alternative<Violation>(event)) {
      require(assembler.failed());
      std::span<const std::uint8_t> again(copy);
      require(describe(assembler.feed(again)) == line && again.size() == copy.size());  // sticky
      break;
    }
    for (const bool fragmented : {false, true}) {
      if (fragmented && !std::holds_alternative<DataMessage>(event)) continue;
      const Bytes client = reencode(event, fragmented);
      const auto back = run_whole(client, max);
      // Fragmented: the Ping between the halves comes first.
      const std::vector<std::string> expected =
          fragmented ? std::vector<std::string>{"ping ", line} : std::vector<std::string>{line};
      require(back == expected);
    }
  }
  return lines;
}

// FrameParser alone: the frames of the stream unmasked in place and copied out agree.
void check_unmask_paths(std::span<const std::uint8_t> stream) {
  Bytes in_place(stream.begin(), stream.end());
  std::span<std::uint8_t> mutable_rest(in_place);
  std::span<const std::uint8_t> const_rest(stream);
  FrameParser a;
  FrameParser b;
  for (int frames = 0; frames < 64; ++frames) {
    std::span<const std::uint8_t> header_a(mutable_rest);
    const auto status_a = a.parse_header(header_a);
    const auto status_b = b.parse_header(const_rest);
    require(status_a == status_b);
    mutable_rest = mutable_rest.subspan(mutable_rest.size() - header_a.size());
    require(mutable_rest.size() == const_rest.size());
    if (status_a != FrameParser::Status::header_ready) {
      require(status_a == FrameParser::Status::need_more ? mutable_rest.empty() : a.violation() == b.violation());
      return;
    }
    require(a.header().payload_length == b.header().payload_length && a.header().opcode == b.header().opcode);
    if (a.in_payload()) {
      const auto payload_a = a.unmask_in_place(mutable_rest);
      Bytes payload_b(payload_a.size());
      require(b.unmask_into(const_rest, payload_b) == payload_a.size());
      require(std::equal(payload_a.begin(), payload_a.end(), payload_b.begin()));
      require(a.in_payload() == b.in_payload());
      if (a.in_payload()) {
        require(mutable_rest.empty());
        return;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const std::uint64_t max = kMaxima[data[1] % std::size(kMaxima)];
  const std::span<const std::uint8_t> stream(data + 2, size - 2);

  const auto whole = run_checked(stream, max);
  std::vector<std::size_t> cuts;
  for (std::size_t at = piece; at < stream.size(); at += piece) cuts.push_back(at);
  require(run_pieces(stream, cuts, max) == whole);

  check_unmask_paths(stream);

  const bool valid = reference_utf8_valid(stream);
  require(is_valid_utf8(stream) == valid);
  const std::size_t cut = std::min(piece, stream.size());
  Utf8Validator split;
  const bool prefix_ok = split.feed(stream.first(cut));
  require((prefix_ok && split.feed(stream.subspan(cut)) && split.complete()) == valid);
  return 0;
}
