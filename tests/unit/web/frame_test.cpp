// web/frame_parser.h and web/frame_writer.h: RFC 6455 §5.7's examples byte for
// byte, every header rule of §5.1/§5.2/§5.5 on the byte that decides it, both
// unmasking paths, and server frames parsed back after masking them.
#include <catch2/catch.hpp>

#include <numeric>

#include "web/frame_parser.h"
#include "web/frame_writer.h"
#include "web_test_support.h"

using namespace kedge::web;
using namespace kedge::web::test;

namespace {

// RFC 6455 §5.7, verbatim.
const Bytes kUnmaskedHello = from_hex("81 05 48 65 6c 6c 6f");
const Bytes kMaskedHello = from_hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");
const Bytes kFragmentHel = from_hex("01 03 48 65 6c");
const Bytes kFragmentLo = from_hex("80 02 6c 6f");
const Bytes kUnmaskedPing = from_hex("89 05 48 65 6c 6c 6f");
const Bytes kMaskedPong = from_hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58");

Bytes sequence(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return out;
}

// Parses one whole frame; its payload unmasked into a vector.
struct Parsed {
  FrameParser::Status status;
  FrameHeader header;
  Bytes payload;
  std::optional<Violation> violation;
};

Parsed parse_one(std::span<const std::uint8_t> bytes) {
  FrameParser parser;
  Parsed out{};
  out.status = parser.parse_header(bytes);
  if (out.status == FrameParser::Status::failed) out.violation = parser.violation();
  if (out.status != FrameParser::Status::header_ready) return out;
  out.header = parser.header();
  out.payload.resize(static_cast<std::size_t>(parser.payload_remaining()));
  std::span<std::uint8_t> into(out.payload);
  while (parser.in_payload() && !bytes.empty()) into = into.subspan(parser.unmask_into(bytes, into));
  return out;
}

}  // namespace

TEST_CASE("RFC 6455 §5.7: the server frames, byte for byte", "[web][frame][rfc6455]") {
  SECTION("a single-frame unmasked text message") {
    Bytes out;
    append_text(out, "Hello");
    CHECK(out == kUnmaskedHello);
  }
  SECTION("a fragmented unmasked text message") {
    FragmentedMessageWriter writer(MessageKind::text);
    Bytes out;
    const auto first = writer.next_fragment(3, false);
    REQUIRE(first);
    out.insert(out.end(), first->bytes().begin(), first->bytes().end());
    for (char c : std::string_view("Hel")) out.push_back(static_cast<std::uint8_t>(c));
    CHECK(out == kFragmentHel);
    CHECK_FALSE(writer.finished());

    out.clear();
    const auto last = writer.next_fragment(2, true);
    REQUIRE(last);
    out.insert(out.end(), last->bytes().begin(), last->bytes().end());
    for (char c : std::string_view("lo")) out.push_back(static_cast<std::uint8_t>(c));
    CHECK(out == kFragmentLo);
    CHECK(writer.finished());
    CHECK_FALSE(writer.next_fragment(1, true));  // the message is over
  }
  SECTION("an unmasked Ping") {
    Bytes out;
    REQUIRE(append_ping(out, bytes_of("Hello")));
    CHECK(out == kUnmaskedPing);
  }
  SECTION("256 bytes binary in a single unmasked frame") {
    const ServerFrameHeader header(Opcode::binary, true, 256);
    CHECK(to_hex(header.bytes()) == "827e0100");
    Bytes out;
    append_binary(out, sequence(256));
    CHECK(out.size() == 4 + 256);
    CHECK(to_hex(std::span(out).first(4)) == "827e0100");
  }
  SECTION("64 KiB binary in a single unmasked frame") {
    const ServerFrameHeader header(Opcode::binary, true, 65536);
    CHECK(to_hex(header.bytes()) == "827f0000000000010000");
    Bytes out;
    append_binary(out, sequence(65536));
    CHECK(out.size() == 10 + 65536);
    CHECK(std::equal(out.begin() + 10, out.end(), sequence(65536).begin()));
  }
}

TEST_CASE("RFC 6455 §5.7: the masked client frames parse", "[web][frame][rfc6455]") {
  SECTION("a single-frame masked text message") {
    const Parsed p = parse_one(kMaskedHello);
    REQUIRE(p.status == FrameParser::Status::header_ready);
    CHECK(p.header.fin);
    CHECK(p.header.opcode == Opcode::text);
    CHECK(p.header.masked);
    CHECK(p.header.masking_key == MaskingKey{0x37, 0xfa, 0x21, 0x3d});
    CHECK(p.payload == bytes_of("Hello"));
  }
  SECTION("a masked Pong") {
    const Parsed p = parse_one(kMaskedPong);
    REQUIRE(p.status == FrameParser::Status::header_ready);
    CHECK(p.header.opcode == Opcode::pong);
    CHECK(p.payload == bytes_of("Hello"));
  }
  SECTION("unmasked in place: the caller's buffer holds the payload afterwards") {
    Bytes buffer = kMaskedHello;
    std::span<const std::uint8_t> header_bytes(buffer);
    FrameParser parser;
    REQUIRE(parser.parse_header(header_bytes) == FrameParser::Status::header_ready);
    const std::size_t header_size = buffer.size() - header_bytes.size();
    CHECK(header_size == 6);
    std::span<std::uint8_t> payload_bytes = std::span(buffer).subspan(header_size);
    const auto payload = parser.unmask_in_place(payload_bytes);
    CHECK(payload.data() == buffer.data() + 6);  // a view of the caller's buffer, no copy
    CHECK(Bytes(payload.begin(), payload.end()) == bytes_of("Hello"));
    CHECK(payload_bytes.empty());
    CHECK_FALSE(parser.in_payload());
  }
  SECTION("256 bytes and 64 KiB binary, masked") {
    for (const std::size_t n : {std::size_t{256}, std::size_t{65536}}) {
      const Bytes payload = sequence(n);
      const Parsed p = parse_one(client_frame(0x2, payload));
      REQUIRE(p.status == FrameParser::Status::header_ready);
      CHECK(p.header.payload_length == n);
      CHECK(p.payload == payload);
    }
  }
}

TEST_CASE("the masking phase carries across pieces of a payload", "[web][frame]") {
  const Bytes payload = sequence(37);
  const Bytes frame = client_frame(0x2, payload);
  for (std::size_t piece = 1; piece <= 9; ++piece) {
    SECTION("pieces of " + std::to_string(piece) + " bytes, in place and copied") {
      FrameParser in_place;
      FrameParser copied;
      std::span<const std::uint8_t> header_a(frame);
      std::span<const std::uint8_t> header_b(frame);
      REQUIRE(in_place.parse_header(header_a) == FrameParser::Status::header_ready);
      REQUIRE(copied.parse_header(header_b) == FrameParser::Status::header_ready);
      Bytes mutable_frame(header_a.begin(), header_a.end());
      std::span<std::uint8_t> rest_a(mutable_frame);
      std::span<const std::uint8_t> rest_b = header_b;
      Bytes got_a, got_b;
      while (in_place.in_payload()) {
        std::span<std::uint8_t> chunk = rest_a.first(std::min(piece, rest_a.size()));
        rest_a = rest_a.subspan(chunk.size());
        const auto out = in_place.unmask_in_place(chunk);
        got_a.insert(got_a.end(), out.begin(), out.end());
      }
      while (copied.in_payload()) {
        std::array<std::uint8_t, 9> out{};
        got_b.insert(got_b.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(copied.unmask_into(
                                                                rest_b, std::span(out).first(piece))));
      }
      CHECK(got_a == payload);
      CHECK(got_b == payload);
    }
  }
}

TEST_CASE("a header split anywhere parses the same", "[web][frame]") {
  for (const std::size_t n : {std::size_t{0}, std::size_t{125}, std::size_t{126}, std::size_t{65535},
                              std::size_t{65536}}) {
    const Bytes frame = client_frame(0x2, sequence(n));
    const std::size_t header_size = 2 + (n <= 125 ? 0 : n <= 65535 ? 2 : 8) + 4;
    for (std::size_t cut = 0; cut <= header_size; ++cut) {
      FrameParser parser;
      std::span<const std::uint8_t> first(frame.data(), cut);
      std::span<const std::uint8_t> second(frame.data() + cut, frame.size() - cut);
      const auto status = parser.parse_header(first);
      INFO("payload " << n << ", cut at " << cut);
      if (cut < header_size) {
        CHECK(status == FrameParser::Status::need_more);
        CHECK(first.empty());
        REQUIRE(parser.parse_header(second) == FrameParser::Status::header_ready);
      } else {
        REQUIRE(status == FrameParser::Status::header_ready);
      }
      CHECK(parser.header().payload_length == n);
      CHECK(parser.in_payload() == (n != 0));
      // parse_header never takes a payload byte
      CHECK(frame.size() - (cut < header_size ? second.size() : first.size() + second.size()) == header_size);
    }
  }
}

TEST_CASE("every header rule fails on the byte that decides it", "[web][frame][errors]") {
  struct Case {
    std::string name;
    Bytes bytes;          // a prefix: the decision must come at its last byte
    ViolationKind kind;
  };
  std::vector<Case> cases = {
      {"RSV1", from_hex("c1"), ViolationKind::reserved_bits_set},
      {"RSV2", from_hex("a1"), ViolationKind::reserved_bits_set},
      {"RSV3", from_hex("91"), ViolationKind::reserved_bits_set},
      {"fragmented ping", from_hex("09"), ViolationKind::fragmented_control_frame},
      {"fragmented close", from_hex("08"), ViolationKind::fragmented_control_frame},
      {"fragmented pong", from_hex("0a"), ViolationKind::fragmented_control_frame},
      {"unmasked text (§5.7's example)", from_hex("81 05"), ViolationKind::unmasked_frame},
      {"unmasked continuation", from_hex("00 00"), ViolationKind::unmasked_frame},
      {"ping of 126 (16-bit form)", from_hex("89 fe"), ViolationKind::control_frame_too_long},
      {"close of 127 (64-bit form)", from_hex("88 ff"), ViolationKind::control_frame_too_long},
      {"16-bit form for 0", from_hex("82 fe 00 00"), ViolationKind::non_minimal_length},
      {"16-bit form for 125", from_hex("82 fe 00 7d"), ViolationKind::non_minimal_length},
      {"64-bit form for 126", from_hex("82 ff 00 00 00 00 00 00 00 7e"), ViolationKind::non_minimal_length},
      {"64-bit form for 65535", from_hex("82 ff 00 00 00 00 00 00 ff ff"), ViolationKind::non_minimal_length},
      {"64-bit length, high bit set", from_hex("82 ff 80 00 00 00 00 00 00 05"), ViolationKind::length_high_bit_set},
      {"64-bit length, all bits set", from_hex("82 ff ff ff ff ff ff ff ff ff"), ViolationKind::length_high_bit_set},
  };
  for (const std::uint8_t opcode : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    cases.push_back({"opcode " + std::to_string(opcode), Bytes{static_cast<std::uint8_t>(0x80 | opcode)},
                     ViolationKind::unknown_opcode});
  }
  for (const Case& c : cases) {
    SECTION(c.name) {
      FrameParser parser;
      std::span<const std::uint8_t> before(c.bytes.data(), c.bytes.size() - 1);
      REQUIRE(parser.parse_header(before) == FrameParser::Status::need_more);
      std::span<const std::uint8_t> last(c.bytes.data() + c.bytes.size() - 1, 1);
      REQUIRE(parser.parse_header(last) == FrameParser::Status::failed);
      CHECK(parser.violation().kind == c.kind);
      CHECK(parser.violation().close_code() == CloseCode::protocol_error);
      // sticky, and consumes nothing more
      const Bytes more = client_frame(0x1, "ok");
      std::span<const std::uint8_t> rest(more);
      CHECK(parser.parse_header(rest) == FrameParser::Status::failed);
      CHECK(rest.size() == more.size());
    }
  }
  SECTION("the largest lengths that are allowed") {
    for (const auto& [hex, length] : std::vector<std::pair<std::string, std::uint64_t>>{
             {"82 fe 00 7e", 126}, {"82 fe ff ff", 65535}, {"82 ff 00 00 00 00 00 01 00 00", 65536},
             {"82 ff 7f ff ff ff ff ff ff ff", kMaxPayloadLength}}) {
      Bytes header = from_hex(hex);  // MASK set: fe = 0x80 | 126, ff = 0x80 | 127
      header.insert(header.end(), {1, 2, 3, 4});
      std::span<const std::uint8_t> in(header);
      FrameParser parser;
      REQUIRE(parser.parse_header(in) == FrameParser::Status::header_ready);
      CHECK(parser.header().payload_length == length);
    }
  }
  SECTION("a control frame of 125 bytes is fine") {
    const Parsed p = parse_one(client_frame(0x9, sequence(125)));
    REQUIRE(p.status == FrameParser::Status::header_ready);
    CHECK(p.payload == sequence(125));
  }
}

TEST_CASE("server headers use the minimal length form", "[web][frame][writer]") {
  const std::vector<std::pair<std::uint64_t, std::string>> cases{
      {0, "8200"},
      {1, "8201"},
      {125, "827d"},
      {126, "827e007e"},
      {127, "827e007f"},
      {65535, "827effff"},
      {65536, "827f0000000000010000"},
      {std::uint64_t{1} << 32, "827f0000000100000000"},
      {kMaxPayloadLength, "827f7fffffffffffffff"},
      {~std::uint64_t{0}, "827f7fffffffffffffff"},  // clamped: no such buffer exists
  };
  for (const auto& [length, hex] : cases) {
    CHECK(to_hex(ServerFrameHeader(Opcode::binary, true, length).bytes()) == hex);
  }
  CHECK(to_hex(ServerFrameHeader(Opcode::text, false, 3).bytes()) == "0103");
  CHECK(to_hex(ServerFrameHeader(Opcode::continuation, true, 2).bytes()) == "8002");
  CHECK(to_hex(ServerFrameHeader(Opcode::close, true, 0).bytes()) == "8800");
}

TEST_CASE("control frame writers refuse what a client must reject", "[web][frame][writer]") {
  Bytes out;
  SECTION("ping and pong: at most 125 bytes") {
    CHECK(append_ping(out, sequence(125)));
    CHECK(append_pong(out, sequence(125)));
    const std::size_t written = out.size();
    CHECK_FALSE(append_ping(out, sequence(126)));
    CHECK_FALSE(append_pong(out, sequence(126)));
    CHECK(out.size() == written);
  }
  SECTION("close: code allowed on the wire, reason UTF-8 of at most 123 bytes") {
    CHECK(append_close(out, CloseCode::normal_closure, "bye"));
    CHECK(to_hex(out) == "880503e8627965");
    out.clear();
    CHECK(append_close(out, 4999, std::string(123, 'r')));
    CHECK(out.size() == 2 + 125);
    out.clear();
    for (const std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
      INFO(code);
      CHECK_FALSE(append_close(out, code, ""));
    }
    CHECK_FALSE(append_close(out, 1000, std::string(124, 'r')));
    CHECK_FALSE(append_close(out, 1000, "\xc0\xaf"));
    CHECK_FALSE(append_close(out, 1000, "\xed\xa0\x80"));
    CHECK(out.empty());
    append_close_without_code(out);
    CHECK(to_hex(out) == "8800");
  }
  SECTION("the close after a violation: its code and reason, for every violation") {
    for (const ViolationKind kind : kAllViolationKinds) {
      Bytes frame;
      append_close(frame, Violation{kind});
      INFO(to_string(kind));
      REQUIRE(frame.size() >= 4);
      CHECK(frame[0] == 0x88);
      CHECK(frame[1] == frame.size() - 2);
      CHECK(frame.size() - 2 <= kMaxControlPayloadBytes);
      CHECK(((frame[2] << 8) | frame[3]) == static_cast<int>(Violation{kind}.close_code()));
      CHECK(std::string(frame.begin() + 4, frame.end()) == Violation{kind}.reason());
    }
  }
}

TEST_CASE("server frames masked as a client would send them parse back", "[web][frame][writer]") {
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{125}, std::size_t{126}, std::size_t{65535},
                              std::size_t{65536}, std::size_t{70000}}) {
    const Bytes payload = sequence(n);
    Bytes server;
    append_frame(server, Opcode::binary, n % 2 == 0, payload);
    const Bytes client = as_client_frame(server, {9, 8, 7, 6});
    const Parsed p = parse_one(client);
    INFO(n);
    REQUIRE(p.status == FrameParser::Status::header_ready);
    CHECK(p.header.fin == (n % 2 == 0));
    CHECK(p.header.opcode == Opcode::binary);
    CHECK(p.payload == payload);
  }
}

TEST_CASE("close codes: which may travel on the wire (§7.4)", "[web][close]") {
  std::vector<int> allowed;
  for (int code = 0; code <= 65535; ++code) {
    if (close_code_allowed_on_wire(static_cast<std::uint16_t>(code))) allowed.push_back(code);
  }
  std::vector<int> expected{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014};
  for (int code = 3000; code <= 4999; ++code) expected.push_back(code);
  CHECK(allowed == expected);
  for (const std::uint16_t local : {1005, 1006, 1015}) {
    CHECK(close_code_is_local_only(local));
    CHECK_FALSE(close_code_allowed_on_wire(local));
  }
  CHECK(to_string(CloseCode::message_too_big) == "message_too_big");
}

TEST_CASE("every violation has a close code for the server and a short reason", "[web][errors]") {
  for (const ViolationKind kind : kAllViolationKinds) {
    const Violation v{kind};
    INFO(to_string(kind));
    const auto code = static_cast<std::uint16_t>(v.close_code());
    CHECK((code == 1002 || code == 1007 || code == 1009));
    CHECK(close_code_allowed_on_wire(code));
    CHECK(!v.reason().empty());
    CHECK(v.reason().size() <= kMaxCloseReasonBytes);
    CHECK(is_valid_utf8(v.reason()));
  }
  CHECK(Violation{ViolationKind::message_too_big}.close_code() == CloseCode::message_too_big);
  CHECK(Violation{ViolationKind::text_not_utf8}.close_code() == CloseCode::invalid_payload_data);
  CHECK(Violation{ViolationKind::close_reason_not_utf8}.close_code() == CloseCode::invalid_payload_data);
  CHECK(Violation{ViolationKind::unknown_opcode}.close_code() == CloseCode::protocol_error);
}
