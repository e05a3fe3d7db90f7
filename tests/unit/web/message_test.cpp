// web/message.h: message assembly over client streams. RFC 6455 §5.7's
// examples, fragmentation and interleaved control frames (§5.4), every
// violation with the close code the server must send, the size limit checked
// before any payload is buffered, Close bodies (§5.5.1, §7.4), and the same
// events for every way the stream can be cut.
#include <catch2/catch.hpp>

#include "web/frame_writer.h"
#include "web/message.h"
#include "web_test_support.h"

using namespace kedge::web;
using namespace kedge::web::test;

namespace {

constexpr std::uint64_t kMax = 1 << 20;

std::vector<std::string> lines(std::initializer_list<std::string> l) { return l; }

std::string text_line(std::string_view text) { return "text " + to_hex(bytes_of(text)); }
std::string binary_line(std::span<const std::uint8_t> payload) { return "binary " + to_hex(payload); }
std::string violation_line(ViolationKind kind) {
  return "violation " + std::string(to_string(kind)) + " " +
         std::to_string(static_cast<int>(Violation{kind}.close_code()));
}

Bytes sequence(std::size_t n) {
  Bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i * 13 + 1);
  return out;
}

// Every cut into two pieces, and byte by byte, gives `expected`.
void check_every_split(const Bytes& stream, const std::vector<std::string>& expected, std::uint64_t max = kMax) {
  REQUIRE(run_whole(stream, max) == expected);
  CHECK(run_bytewise(stream, max) == expected);
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    const std::size_t cuts[] = {cut};
    INFO("cut at " << cut);
    CHECK(run_pieces(stream, cuts, max) == expected);
  }
}

}  // namespace

TEST_CASE("RFC 6455 §5.7 examples as a server receives them", "[web][message][rfc6455]") {
  SECTION("a single-frame masked text message") {
    CHECK(run_whole(from_hex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), kMax) == lines({text_line("Hello")}));
  }
  SECTION("the unmasked single-frame text message is refused: §5.1") {
    CHECK(run_whole(from_hex("81 05 48 65 6c 6c 6f"), kMax) == lines({violation_line(ViolationKind::unmasked_frame)}));
  }
  SECTION("the fragmented text message, masked") {
    const Bytes stream = concat({as_client_frame(from_hex("01 03 48 65 6c"), {1, 2, 3, 4}),
                                 as_client_frame(from_hex("80 02 6c 6f"), {5, 6, 7, 8})});
    check_every_split(stream, lines({text_line("Hello")}));
  }
  SECTION("a masked Pong") {
    CHECK(run_whole(from_hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"), kMax) == lines({"pong " + to_hex(bytes_of("Hello"))}));
  }
  SECTION("the Ping, masked, and the Pong the server answers with") {
    const Bytes ping = as_client_frame(from_hex("89 05 48 65 6c 6c 6f"), {0x37, 0xfa, 0x21, 0x3d});
    MessageAssembler assembler(kMax);
    std::span<const std::uint8_t> in(ping);
    const Event event = assembler.feed(in);
    REQUIRE(std::holds_alternative<Ping>(event));
    Bytes answer;
    REQUIRE(append_pong(answer, std::get<Ping>(event).payload));
    CHECK(to_hex(answer) == "8a0548656c6c6f");
  }
  SECTION("256 bytes and 64 KiB binary messages") {
    for (const std::size_t n : {std::size_t{256}, std::size_t{65536}}) {
      const Bytes payload = sequence(n);
      CHECK(run_whole(client_frame(0x2, payload), kMax) == lines({binary_line(payload)}));
    }
  }
}

TEST_CASE("fragments and interleaved control frames", "[web][message]") {
  SECTION("control frames between fragments are reported at once; the message after its last fragment") {
    const Bytes stream = concat({client_frame(0x1, "He", false), client_frame(0x9, "p1"), client_frame(0x0, "l", false),
                                 client_frame(0xA, ""), client_frame(0x0, "lo")});
    check_every_split(stream, lines({"ping " + to_hex(bytes_of("p1")), "pong ", text_line("Hello")}));
  }
  SECTION("empty fragments, empty messages") {
    const Bytes stream = concat({client_frame(0x2, "", false), client_frame(0x0, "", false), client_frame(0x0, "x"),
                                 client_frame(0x1, ""), client_frame(0x2, "")});
    check_every_split(stream, lines({binary_line(bytes_of("x")), "text ", "binary "}));
  }
  SECTION("a multi-frame stream: every cut gives the same messages") {
    const Bytes big = sequence(300);
    const Bytes stream = concat({client_frame(0x1, "{\"op\":\"subscribe\"}"), client_frame(0x2, big),
                                 client_frame(0x9, ""), client_frame(0x1, "caf\xc3", false),
                                 client_frame(0x0, "\xa9 \xf0\x9d", false), client_frame(0xA, "pong"),
                                 client_frame(0x0, "\x84\x9e"), client_frame(0x8, close_body(1000, "bye"))});
    check_every_split(stream, lines({text_line("{\"op\":\"subscribe\"}"), binary_line(big), "ping ",
                                     "pong " + to_hex(bytes_of("pong")), text_line("caf\xc3\xa9 \xf0\x9d\x84\x9e"),
                                     "close 1000 bye"}));
  }
  SECTION("every cut into three pieces") {
    const Bytes stream = concat({client_frame(0x1, "ab", false), client_frame(0x9, "x"), client_frame(0x0, "\xce\xba"),
                                 client_frame(0x2, sequence(130))});
    const auto expected = lines({"ping 78", text_line("ab\xce\xba"), binary_line(sequence(130))});
    for (std::size_t a = 1; a < stream.size(); ++a) {
      for (std::size_t b = a + 1; b < stream.size(); ++b) {
        const std::size_t cuts[] = {a, b};
        if (run_pieces(stream, cuts, kMax) != expected) FAIL("cuts at " << a << " and " << b);
      }
    }
  }
  SECTION("feed stops after each event and leaves the rest") {
    const Bytes stream = concat({client_frame(0x1, "one"), client_frame(0x1, "two")});
    MessageAssembler assembler(kMax);
    std::span<const std::uint8_t> in(stream);
    const Event first = assembler.feed(in);
    REQUIRE(std::holds_alternative<DataMessage>(first));
    CHECK(std::get<DataMessage>(first).text() == "one");
    CHECK(in.size() == stream.size() / 2);
    const Event second = assembler.feed(in);
    REQUIRE(std::holds_alternative<DataMessage>(second));
    CHECK(std::get<DataMessage>(second).text() == "two");
    CHECK(in.empty());
    CHECK(std::holds_alternative<NeedMore>(assembler.feed(in)));
  }
}

TEST_CASE("fragmentation errors (§5.4)", "[web][message][errors]") {
  SECTION("a continuation with no message open") {
    check_every_split(client_frame(0x0, "lo"), lines({violation_line(ViolationKind::unexpected_continuation)}));
  }
  SECTION("a continuation after a finished message") {
    check_every_split(concat({client_frame(0x1, "Hello"), client_frame(0x0, "!")}),
                      lines({text_line("Hello"), violation_line(ViolationKind::unexpected_continuation)}));
  }
  SECTION("a text or binary frame inside an open message") {
    check_every_split(concat({client_frame(0x1, "Hel", false), client_frame(0x1, "lo")}),
                      lines({violation_line(ViolationKind::expected_continuation)}));
    check_every_split(concat({client_frame(0x2, "a", false), client_frame(0x9, ""), client_frame(0x2, "b", false)}),
                      lines({"ping ", violation_line(ViolationKind::expected_continuation)}));
  }
  SECTION("frame rules reach the assembler too") {
    ClientFrame rsv;
    rsv.rsv_bits = 0x40;
    check_every_split(client_frame(rsv, bytes_of("x")), lines({violation_line(ViolationKind::reserved_bits_set)}));
    check_every_split(client_frame(0x3, "x"), lines({violation_line(ViolationKind::unknown_opcode)}));
    check_every_split(client_frame(0x9, "x", false), lines({violation_line(ViolationKind::fragmented_control_frame)}));
    check_every_split(client_frame(0x9, sequence(126)), lines({violation_line(ViolationKind::control_frame_too_long)}));
    ClientFrame wide;
    wide.form = LengthForm::force16;
    check_every_split(client_frame(wide, bytes_of("x")), lines({violation_line(ViolationKind::non_minimal_length)}));
    wide.form = LengthForm::force64;
    check_every_split(client_frame(wide, sequence(200)), lines({violation_line(ViolationKind::non_minimal_length)}));
    ClientFrame unmasked;
    unmasked.masked = false;
    check_every_split(client_frame(unmasked, bytes_of("x")), lines({violation_line(ViolationKind::unmasked_frame)}));
  }
}

TEST_CASE("violations are sticky and carry the server's close code", "[web][message][errors]") {
  MessageAssembler assembler(kMax);
  const Bytes bad = client_frame(0x0, "x");
  std::span<const std::uint8_t> in(bad);
  const Event event = assembler.feed(in);
  REQUIRE(std::holds_alternative<Violation>(event));
  CHECK(std::get<Violation>(event).close_code() == CloseCode::protocol_error);
  CHECK(std::get<Violation>(event).reason() == "continuation frame with no message to continue");
  CHECK(assembler.failed());
  const Bytes good = client_frame(0x1, "fine");
  std::span<const std::uint8_t> next(good);
  CHECK(std::holds_alternative<Violation>(assembler.feed(next)));
  CHECK(next.size() == good.size());  // nothing consumed after a violation
}

TEST_CASE("the message size limit (1009)", "[web][message][errors][limits]") {
  SECTION("a single frame announcing more than the maximum fails on its header, nothing buffered") {
    const Bytes frame = client_frame(0x2, sequence(17));
    MessageAssembler assembler(16);
    std::span<const std::uint8_t> header(frame.data(), 6);  // 2 + key: no payload byte yet
    const Event event = assembler.feed(header);
    REQUIRE(std::holds_alternative<Violation>(event));
    CHECK(std::get<Violation>(event).kind == ViolationKind::message_too_big);
    CHECK(std::get<Violation>(event).close_code() == CloseCode::message_too_big);
    CHECK(assembler.buffered_bytes() == 0);
    CHECK(assembler.last_frame_length() == 17);
  }
  SECTION("an announced 2^62-byte frame fails on its header") {
    Bytes header = from_hex("82 ff 40 00 00 00 00 00 00 00 01 02 03 04");
    MessageAssembler assembler(kMax);
    std::span<const std::uint8_t> in(header);
    CHECK(describe(assembler.feed(in)) == violation_line(ViolationKind::message_too_big));
  }
  SECTION("the running total across fragments") {
    check_every_split(concat({client_frame(0x2, sequence(10), false), client_frame(0x9, "p"),
                              client_frame(0x0, sequence(7))}),
                      lines({"ping 70", violation_line(ViolationKind::message_too_big)}), 16);
  }
  SECTION("exactly the maximum is accepted, whole or fragmented; control frames do not count") {
    check_every_split(client_frame(0x1, std::string(16, 'x')), lines({text_line(std::string(16, 'x'))}), 16);
    const Bytes sixteen = sequence(16);
    const Bytes head(sixteen.begin(), sixteen.begin() + 10);
    const Bytes tail(sixteen.begin() + 10, sixteen.end());
    check_every_split(concat({client_frame(0x2, head, false), client_frame(0x9, std::string(100, 'p')),
                              client_frame(0x0, tail)}),
                      lines({"ping " + to_hex(bytes_of(std::string(100, 'p'))), binary_line(sixteen)}), 16);
  }
  SECTION("the limit applies per message, not per connection") {
    check_every_split(concat({client_frame(0x2, sequence(16)), client_frame(0x2, sequence(16)),
                              client_frame(0x2, sequence(17))}),
                      lines({binary_line(sequence(16)), binary_line(sequence(16)),
                             violation_line(ViolationKind::message_too_big)}),
                      16);
  }
  SECTION("a zero maximum accepts empty messages only") {
    check_every_split(concat({client_frame(0x1, ""), client_frame(0x2, "x")}),
                      lines({"text ", violation_line(ViolationKind::message_too_big)}), 0);
  }
  SECTION("memory grows with the bytes that arrived, not with the announced length") {
    const Bytes frame = client_frame(0x2, sequence(60000));
    MessageAssembler assembler(kMax);
    std::span<const std::uint8_t> in(frame.data(), 8 + 100);  // header (2 + 2 + 4) and 100 payload bytes
    CHECK(std::holds_alternative<NeedMore>(assembler.feed(in)));
    CHECK(assembler.buffered_bytes() == 100);
  }
}

TEST_CASE("text messages are UTF-8 (§8.1, 1007)", "[web][message][errors][utf8]") {
  SECTION("an invalid byte fails at once, before the message ends") {
    const Bytes stream = concat({client_frame(0x1, "ok \xed\xa0", false), client_frame(0x9, "never seen")});
    check_every_split(stream, lines({violation_line(ViolationKind::text_not_utf8)}));
  }
  SECTION("a character split across fragments is fine; an invalid one split across fragments is not") {
    check_every_split(concat({client_frame(0x1, "\xf0\x9d", false), client_frame(0x9, ""),
                              client_frame(0x0, "\x84\x9e")}),
                      lines({"ping ", text_line("\xf0\x9d\x84\x9e")}));
    check_every_split(concat({client_frame(0x1, "\xf4", false), client_frame(0x9, ""), client_frame(0x0, "\x90\x80\x80")}),
                      lines({"ping ", violation_line(ViolationKind::text_not_utf8)}));
  }
  SECTION("the last fragment ends inside a sequence") {
    check_every_split(concat({client_frame(0x1, "ok", false), client_frame(0x0, "\xf0\x9d")}),
                      lines({violation_line(ViolationKind::text_truncated_utf8)}));
    check_every_split(client_frame(0x1, "caf\xc3"), lines({violation_line(ViolationKind::text_truncated_utf8)}));
  }
  SECTION("binary messages are not UTF-8 checked") {
    check_every_split(client_frame(0x2, "\xed\xa0\x80\xff"), lines({binary_line(bytes_of("\xed\xa0\x80\xff"))}));
  }
  SECTION("binary bytes never reach the text validator") {
    check_every_split(concat({client_frame(0x2, "\xf0", false), client_frame(0x0, "x"), client_frame(0x1, "\x9d")}),
                      lines({binary_line(bytes_of("\xf0x")), violation_line(ViolationKind::text_not_utf8)}));
  }
}

TEST_CASE("Close frames (§5.5.1, §7.4)", "[web][message][close]") {
  SECTION("every code a peer may send, with and without a reason") {
    for (const std::uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                                     3999, 4000, 4999}) {
      INFO(code);
      CHECK(run_whole(client_frame(0x8, close_body(code)), kMax) == lines({"close " + std::to_string(code) + " "}));
      CHECK(run_whole(client_frame(0x8, close_body(code, "r\xc3\xa9")), kMax) ==
            lines({"close " + std::to_string(code) + " r\xc3\xa9"}));
    }
  }
  SECTION("an empty body: no code (1005 locally)") {
    MessageAssembler assembler(kMax);
    const Bytes frame = client_frame(0x8, "");
    std::span<const std::uint8_t> in(frame);
    const Event event = assembler.feed(in);
    REQUIRE(std::holds_alternative<CloseReceived>(event));
    CHECK_FALSE(std::get<CloseReceived>(event).code.has_value());
    CHECK(assembler.closed());
  }
  SECTION("a body of one byte") {
    check_every_split(client_frame(0x8, from_hex("03")), lines({violation_line(ViolationKind::close_body_one_byte)}));
  }
  SECTION("1005, 1006 and 1015 never travel on the wire") {
    for (const std::uint16_t code : {1005, 1006, 1015}) {
      CHECK(run_whole(client_frame(0x8, close_body(code)), kMax) ==
            lines({violation_line(ViolationKind::close_code_local_only)}));
    }
  }
  SECTION("codes outside the defined ranges") {
    for (const std::uint16_t code : {0, 1, 999, 1004, 1016, 1100, 2000, 2999, 5000, 65535}) {
      INFO(code);
      CHECK(run_whole(client_frame(0x8, close_body(code, "x")), kMax) ==
            lines({violation_line(ViolationKind::close_code_undefined)}));
    }
  }
  SECTION("a reason that is not UTF-8 (1007)") {
    CHECK(run_whole(client_frame(0x8, close_body(1000, "\xc0\xaf")), kMax) ==
          lines({violation_line(ViolationKind::close_reason_not_utf8)}));
    CHECK(run_whole(client_frame(0x8, close_body(1000, "ok\xf0\x9d")), kMax) ==
          lines({violation_line(ViolationKind::close_reason_not_utf8)}));
  }
  SECTION("the longest reason") {
    CHECK(run_whole(client_frame(0x8, close_body(1000, std::string(123, 'r'))), kMax) ==
          lines({"close 1000 " + std::string(123, 'r')}));
  }
  SECTION("a Close inside a fragmented message ends it; nothing after a Close is processed (§1.4)") {
    const Bytes stream = concat({client_frame(0x1, "Hel", false), client_frame(0x8, close_body(1001, "bye")),
                                 client_frame(0x0, "lo"), from_hex("ff ff ff")});
    check_every_split(stream, lines({"close 1001 bye"}));
    MessageAssembler assembler(kMax);
    std::span<const std::uint8_t> in(stream);
    CHECK(std::holds_alternative<CloseReceived>(assembler.feed(in)));
    CHECK(assembler.buffered_bytes() == 0);
    CHECK(std::holds_alternative<NeedMore>(assembler.feed(in)));
    CHECK(in.empty());
    CHECK_FALSE(assembler.failed());
  }
}

TEST_CASE("a message's bytes stay valid until the next feed; trim frees memory", "[web][message]") {
  MessageAssembler assembler(kMax);
  const Bytes stream = concat({client_frame(0x2, sequence(5000)), client_frame(0x1, "small")});
  std::span<const std::uint8_t> in(stream);
  const Event big = assembler.feed(in);
  REQUIRE(std::holds_alternative<DataMessage>(big));
  CHECK(Bytes(std::get<DataMessage>(big).payload.begin(), std::get<DataMessage>(big).payload.end()) == sequence(5000));
  assembler.trim(1024);
  const Event small = assembler.feed(in);
  REQUIRE(std::holds_alternative<DataMessage>(small));
  CHECK(std::get<DataMessage>(small).text() == "small");
  CHECK(assembler.buffered_bytes() == 5);
}

TEST_CASE("writer output, masked, assembles to the message written", "[web][message][writer]") {
  const Bytes payload = sequence(70000);
  Bytes server;
  append_text(server, "{\"op\":\"ping\"}");
  append_binary(server, payload);
  REQUIRE(append_ping(server, bytes_of("hb")));
  REQUIRE(append_close(server, CloseCode::going_away, "bye"));
  // The same frames, fragmented with a Pong between: headers from FragmentedMessageWriter.
  FragmentedMessageWriter writer(MessageKind::binary);
  Bytes fragmented;
  std::size_t at = 0;
  for (const std::size_t piece : {std::size_t{0}, std::size_t{126}, std::size_t{65536}, std::size_t{4338}}) {
    const auto header = writer.next_fragment(piece, at + piece == payload.size());
    REQUIRE(header);
    fragmented.insert(fragmented.end(), header->bytes().begin(), header->bytes().end());
    fragmented.insert(fragmented.end(), payload.begin() + static_cast<std::ptrdiff_t>(at),
                      payload.begin() + static_cast<std::ptrdiff_t>(at + piece));
    at += piece;
    if (piece == 126) REQUIRE(append_pong(fragmented, {}));
  }
  REQUIRE(writer.finished());

  // Split the server stream back into frames and mask each as a client would.
  const auto mask_all = [](const Bytes& frames) {
    Bytes out;
    std::size_t pos = 0;
    std::uint8_t k = 1;
    while (pos < frames.size()) {
      const std::uint8_t len7 = frames[pos + 1] & 0x7F;
      std::size_t header = 2, length = len7;
      if (len7 == 126) { header = 4; length = (std::size_t{frames[pos + 2]} << 8) | frames[pos + 3]; }
      if (len7 == 127) { header = 10; length = 0; for (int i = 0; i < 8; ++i) length = (length << 8) | frames[pos + 2 + i]; }
      const Bytes masked = as_client_frame(std::span(frames).subspan(pos, header + length), {k, 0x55, 0xaa, k});
      out.insert(out.end(), masked.begin(), masked.end());
      pos += header + length;
      ++k;
    }
    return out;
  };
  CHECK(run_whole(mask_all(server), kMax) ==
        lines({text_line("{\"op\":\"ping\"}"), binary_line(payload), "ping " + to_hex(bytes_of("hb")), "close 1001 bye"}));
  CHECK(run_whole(mask_all(fragmented), kMax) == lines({"pong ", binary_line(payload)}));
}
