// parse_client_hello on ClientHellos built field by field: every length in
// RFC 8446 §4.1.2 and RFC 6066 §3 made too short, too long or inconsistent,
// host names that must be rejected or normalised, and non-TLS input.
#include <catch2/catch.hpp>

#include "tests/unit/sni/tls_bytes.h"

using namespace kedge::sni;
using namespace kedge::sni::test;

namespace {

HelloSpec with_sni(std::string_view name) {
  HelloSpec spec;
  spec.extensions.insert(spec.extensions.begin(), sni_extension(name));
  return spec;
}

// Body bytes up to and including compression_methods, from a valid spec.
Bytes fixed_fields() {
  HelloSpec spec;
  spec.has_extensions_block = false;
  return encode_body(spec);
}

Bytes stream_from_body(const Bytes& body) { return frame_records(handshake(1, body), 16384); }

// A body whose extensions block is `extensions` verbatim (length added).
Bytes stream_with_extensions_block(const Bytes& extensions) {
  return stream_from_body(
      Writer{}.raw(fixed_fields()).u16(static_cast<std::uint32_t>(extensions.size())).raw(extensions).out);
}

// A body whose only extension is server_name with `data` verbatim.
Bytes stream_with_sni_data(const Bytes& data) {
  return stream_with_extensions_block(encode_extensions({{0, data}}));
}

}  // namespace

TEST_CASE("a built ClientHello is parsed like a real one", "[sni][body]") {
  CHECK(parse(hello_stream(with_sni("bootstrap.kafka.example.com"))) ==
        "found:bootstrap.kafka.example.com");
  CHECK(parse(hello_stream(HelloSpec{})) == "no_sni");
}

TEST_CASE("extensions: absent, empty, or without server_name", "[sni][body]") {
  SECTION("no extensions block at all (RFC 5246 §7.4.1.2)") {
    HelloSpec spec;
    spec.has_extensions_block = false;
    CHECK(parse(hello_stream(spec)) == "no_sni");
  }
  SECTION("an empty extensions block") {
    HelloSpec spec;
    spec.extensions.clear();
    CHECK(parse(hello_stream(spec)) == "no_sni");
  }
  SECTION("server_name after other extensions is still found") {
    HelloSpec spec;
    spec.extensions.push_back(sni_extension("broker-3.kafka.example.com"));
    spec.extensions.push_back({0xff01, {0x00}});
    CHECK(parse(hello_stream(spec)) == "found:broker-3.kafka.example.com");
  }
}

TEST_CASE("host names are normalised", "[sni][body]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"BOOTSTRAP.Kafka.Example.COM", "bootstrap.kafka.example.com"},
      {"bootstrap.kafka.example.com.", "bootstrap.kafka.example.com"},
      {"Broker-12-Alpha.KAFKA.example.com.", "broker-12-alpha.kafka.example.com"},
      {"under_score.example.com", "under_score.example.com"},
      {"localhost", "localhost"},
      {"a", "a"},
      {"127.0.0.1", "127.0.0.1"},
      {std::string(255, 'a'), std::string(255, 'a')},
  };
  for (const auto& [sent, expected] : cases) {
    DYNAMIC_SECTION(sent) { CHECK(parse(hello_stream(with_sni(sent))) == "found:" + expected); }
  }
  SECTION("the 255-byte limit counts the name as sent, trailing dot included") {
    CHECK(parse(hello_stream(with_sni(std::string(254, 'a') + "."))) ==
          "found:" + std::string(254, 'a'));
    CHECK_THAT(parse(hello_stream(with_sni(std::string(255, 'a') + "."))),
               Verdict("malformed:host_name longer than 255"));
  }
}

TEST_CASE("host names that are rejected", "[sni][body]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {std::string("bootstrap\0.evil.com", 19), "malformed:NUL in host_name"},
      {std::string("\0", 1), "malformed:NUL in host_name"},
      {std::string(256, 'a'), "malformed:host_name longer than 255"},
      {"boot strap.example.com", "malformed:invalid character"},
      {"*.example.com", "malformed:invalid character"},
      {"bootstrap.example.com/x", "malformed:invalid character"},
      {"bootstrap.example.com:9092", "malformed:invalid character"},
      {"caf\xc3\xa9.example.com", "malformed:invalid character"},
      {"tab\t.example.com", "malformed:invalid character"},
      {".", "malformed:empty label"},
      {"..", "malformed:empty label"},
      {".example.com", "malformed:empty label"},
      {"a..example.com", "malformed:empty label"},
      {"example.com..", "malformed:empty label"},
  };
  for (const auto& [name, expected] : cases) {
    DYNAMIC_SECTION(expected << " <- " << name.size() << " bytes") {
      CHECK_THAT(parse(hello_stream(with_sni(name))), Verdict(expected));
    }
  }
  SECTION("an empty host_name") {
    CHECK(parse(stream_with_sni_data({0x00, 0x03, 0x00, 0x00, 0x00})) ==
          "malformed:empty host_name");
  }
}

TEST_CASE("server_name extension structure (RFC 6066 §3)", "[sni][body]") {
  struct Case {
    const char* what;
    Bytes data;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"empty extension_data", {}, "malformed:server_name list length truncated"},
      {"one byte of list length", {0x00}, "malformed:server_name list length truncated"},
      {"empty list", {0x00, 0x00}, "malformed:empty server_name list"},
      {"list length past the extension", {0x00, 0x09, 0x00, 0x00, 0x01, 'a'},
       "malformed:server_name list length does not match"},
      {"list length short of the extension", {0x00, 0x03, 0x00, 0x00, 0x01, 'a'},
       "malformed:server_name list length does not match"},
      {"entry without name length", {0x00, 0x01, 0x00}, "malformed:server_name entry truncated"},
      {"name length past the list", {0x00, 0x04, 0x00, 0x00, 0x02, 'a'},
       "malformed:host_name longer than its list"},
      {"name length 65535", {0x00, 0x04, 0x00, 0xff, 0xff, 'a'},
       "malformed:host_name longer than its list"},
      {"name_type 1", {0x00, 0x04, 0x01, 0x00, 0x01, 'a'},
       "malformed:unsupported server_name name_type"},
      {"two host_name entries", {0x00, 0x08, 0x00, 0x00, 0x01, 'a', 0x00, 0x00, 0x01, 'b'},
       "malformed:server_name list holds more than one entry"},
      {"trailing byte in the list", {0x00, 0x05, 0x00, 0x00, 0x01, 'a', 0x00},
       "malformed:server_name list holds more than one entry"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) { CHECK_THAT(parse(stream_with_sni_data(c.data)), Verdict(c.expected)); }
  }
  SECTION("two server_name extensions") {
    HelloSpec spec = with_sni("a.example.com");
    spec.extensions.push_back(sni_extension("b.example.com"));
    CHECK(parse(hello_stream(spec)) == "malformed:duplicate server_name extension");
  }
}

TEST_CASE("extensions block structure", "[sni][body]") {
  const Bytes sni = encode_extensions({sni_extension("a.example.com")});
  struct Case {
    const char* what;
    Bytes stream;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"one stray byte where the extensions length would be",
       stream_from_body(Writer{}.raw(fixed_fields()).u8(0).out), "malformed:extensions length truncated"},
      {"extensions length past the ClientHello",
       stream_from_body(Writer{}.raw(fixed_fields()).u16(sni.size() + 1).raw(sni).out),
       "malformed:extensions length does not match"},
      {"extensions length short of the ClientHello",
       stream_from_body(Writer{}.raw(fixed_fields()).u16(sni.size() - 1).raw(sni).out),
       "malformed:extensions length does not match"},
      {"extension header cut short",
       stream_with_extensions_block(Writer{}.raw(sni).u16(0x000a).u8(0).out),
       "malformed:extension header truncated"},
      {"extension length past the block",
       stream_with_extensions_block(Writer{}.u16(0x000a).u16(5).u16(0x1d).out),
       "malformed:extension overruns"},
      {"server_name length past the block",
       stream_with_extensions_block(Writer{}.u16(0).u16(200).raw(server_name_data("a.b")).out),
       "malformed:extension overruns"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) { CHECK_THAT(parse(c.stream), Verdict(c.expected)); }
  }
}

TEST_CASE("fixed ClientHello fields (RFC 8446 §4.1.2)", "[sni][body]") {
  auto spec_stream = [](auto mutate) {
    HelloSpec spec = with_sni("a.example.com");
    mutate(spec);
    return hello_stream(spec);
  };
  struct Case {
    const char* what;
    Bytes stream;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"legacy_version 3.0", spec_stream([](HelloSpec& s) { s.legacy_version = 0x0300; }),
       "malformed:bad legacy_version"},
      {"legacy_version 2.0", spec_stream([](HelloSpec& s) { s.legacy_version = 0x0200; }),
       "malformed:bad legacy_version"},
      {"session_id of 33 bytes", spec_stream([](HelloSpec& s) { s.session_id = Bytes(33, 1); }),
       "malformed:session_id longer than 32"},
      {"no cipher suites", spec_stream([](HelloSpec& s) { s.cipher_suites.clear(); }),
       "malformed:cipher_suites length not a positive even number"},
      {"no compression methods", spec_stream([](HelloSpec& s) { s.compression_methods.clear(); }),
       "malformed:empty compression_methods"},
      {"odd cipher_suites length",
       stream_from_body(Writer{}.u16(0x0303).fill(32, 0).u8(0).u16(3).fill(3, 0x13).u8(1).u8(0).out),
       "malformed:cipher_suites length not a positive even number"},
      {"empty body", stream_from_body({}), "malformed:ClientHello shorter than version and random"},
      {"random cut short", stream_from_body(Writer{}.u16(0x0303).fill(31, 0).out),
       "malformed:ClientHello shorter than version and random"},
      {"session_id length missing", stream_from_body(Writer{}.u16(0x0303).fill(32, 0).out),
       "malformed:session_id truncated"},
      {"session_id past the body", stream_from_body(Writer{}.u16(0x0303).fill(32, 0).u8(20).fill(19, 0).out),
       "malformed:session_id overruns"},
      {"cipher_suites length missing",
       stream_from_body(Writer{}.u16(0x0303).fill(32, 0).u8(0).u8(0).out),
       "malformed:cipher_suites truncated"},
      {"cipher_suites past the body",
       stream_from_body(Writer{}.u16(0x0303).fill(32, 0).u8(0).u16(0xfffe).fill(10, 0).out),
       "malformed:cipher_suites overrun"},
      {"compression length missing",
       stream_from_body(Writer{}.u16(0x0303).fill(32, 0).u8(0).u16(2).u16(0x1301).out),
       "malformed:compression_methods truncated"},
      {"compression past the body",
       stream_from_body(Writer{}.u16(0x0303).fill(32, 0).u8(0).u16(2).u16(0x1301).u8(2).u8(0).out),
       "malformed:compression_methods overrun"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) { CHECK_THAT(parse(c.stream), Verdict(c.expected)); }
  }
  SECTION("a 32-byte session_id and TLS 1.0 legacy_version are fine") {
    CHECK(parse(spec_stream([](HelloSpec& s) { s.legacy_version = 0x0301; })) ==
          "found:a.example.com");
  }
}

TEST_CASE("streams that are not TLS", "[sni][body]") {
  auto bytes_of = [](std::string_view text) { return Bytes(text.begin(), text.end()); };
  struct Case {
    const char* what;
    Bytes stream;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"HTTP request", bytes_of("GET / HTTP/1.1\r\nHost: bootstrap.kafka.example.com\r\n\r\n"),
       "not_tls"},
      {"HTTP CONNECT", bytes_of("CONNECT broker-1.kafka.example.com:9092 HTTP/1.1\r\n\r\n"), "not_tls"},
      // Kafka ApiVersions request: 4-byte size, then api_key 18.
      {"plaintext Kafka", {0x00, 0x00, 0x00, 0x23, 0x00, 0x12, 0x00, 0x03}, "not_tls"},
      // SSLv2-compatible ClientHello (RFC 5246 Appendix E.2): 2-byte length with the high bit set.
      {"SSLv2-style hello", {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10}, "not_tls"},
      {"a single zero byte", {0x00}, "not_tls"},
      {"handshake byte then version 0.0", {0x16, 0x00}, "not_tls"},
      {"handshake byte then version 3.9", {0x16, 0x03, 0x09}, "not_tls"},
      {"nothing yet", {}, "need_more"},
      {"just the handshake content type", {0x16}, "need_more"},
      {"a record header prefix", {0x16, 0x03, 0x01, 0x02}, "need_more"},
      {"a record header alone", {0x16, 0x03, 0x01, 0x02, 0x00}, "need_more"},
      {"a record header and the ClientHello type", {0x16, 0x03, 0x01, 0x02, 0x00, 0x01}, "need_more"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) { CHECK_THAT(parse(c.stream), Verdict(c.expected)); }
  }
}

TEST_CASE("a maximal ClientHello over many records stays within the cap", "[sni][body]") {
  // given a hello padded to ~60 KiB (extension 21, RFC 7685) with the name at the end
  HelloSpec spec;
  spec.extensions.push_back({21, Bytes(60000, 0)});
  spec.extensions.push_back(sni_extension("broker-2147483647.kafka.example.com"));
  const Bytes message = handshake(1, encode_body(spec));
  SECTION("in maximum-size records") {
    const Bytes stream = frame_records(message, 16384);
    CHECK(parse(stream) == "found:broker-2147483647.kafka.example.com");
    CHECK_THAT(parse(stream, stream.size() - 1), Verdict("malformed:ClientHello exceeds the size cap"));
  }
  SECTION("in 1-byte records the record headers push it over 64 KiB") {
    const Bytes stream = frame_records(message, 1);
    REQUIRE(stream.size() > kMaxClientHelloBytes);
    CHECK(parse(stream) == "malformed:ClientHello exceeds the size cap");
    CHECK(parse(stream, stream.size()) == "found:broker-2147483647.kafka.example.com");
  }
}

namespace {

// A hello with SNI "a.example.com" and an ALPN extension whose data is `data` verbatim.
Bytes stream_with_alpn_data(const Bytes& data) {
  HelloSpec spec = with_sni("a.example.com");
  spec.extensions.push_back({16, data});
  return hello_stream(spec);
}

std::vector<std::string> numbered_protocols(std::size_t count) {
  std::vector<std::string> protocols;
  for (std::size_t i = 0; i < count; ++i) protocols.push_back("p" + std::to_string(i));
  return protocols;
}

}  // namespace

TEST_CASE("ALPN protocols are reported in the client's order (RFC 7301 §3.1)", "[sni][body][alpn]") {
  SECTION("after server_name") {
    HelloSpec spec = with_sni("http.kafka.example.com");
    spec.extensions.push_back(alpn_extension({"h2", "http/1.1"}));
    CHECK(parse(hello_stream(spec)) == "found:http.kafka.example.com alpn:h2,http/1.1");
  }
  SECTION("before server_name") {
    HelloSpec spec = with_sni("bootstrap.kafka.example.com");
    spec.extensions.insert(spec.extensions.begin(), alpn_extension({"http/1.1"}));
    CHECK(parse(hello_stream(spec)) == "found:bootstrap.kafka.example.com alpn:http/1.1");
  }
  SECTION("no ALPN extension: an empty list (what Kafka clients send)") {
    const HelloResult result = parse_client_hello(hello_stream(with_sni("a.example.com")));
    REQUIRE(std::holds_alternative<Found>(result));
    CHECK(std::get<Found>(result).alpn.empty());
  }
  SECTION("ALPN without server_name is still no_sni") {
    HelloSpec spec;
    spec.extensions.push_back(alpn_extension({"http/1.1"}));
    CHECK(parse(hello_stream(spec)) == "no_sni");
  }
  SECTION("names are opaque bytes, kept as sent (no case folding, NUL and 0xff allowed)") {
    const std::string odd("\x00\xff", 2);
    HelloSpec spec = with_sni("a.example.com");
    spec.extensions.push_back(alpn_extension({"HTTP/1.1", odd}));
    const HelloResult result = parse_client_hello(hello_stream(spec));
    REQUIRE(std::holds_alternative<Found>(result));
    CHECK(std::get<Found>(result).alpn == std::vector<std::string>{"HTTP/1.1", odd});
    CHECK(describe(result) == "found:a.example.com alpn:HTTP/1.1,\\x00\\xff");
  }
  SECTION("a 255-byte name and the largest accepted list") {
    HelloSpec spec = with_sni("a.example.com");
    std::vector<std::string> protocols = numbered_protocols(kMaxAlpnProtocols - 1);
    protocols.push_back(std::string(255, 'x'));
    spec.extensions.push_back(alpn_extension(protocols));
    const HelloResult result = parse_client_hello(hello_stream(spec));
    REQUIRE(std::holds_alternative<Found>(result));
    CHECK(std::get<Found>(result).alpn == protocols);
  }
  SECTION("every prefix of a hello with ALPN needs more bytes") {
    HelloSpec spec = with_sni("a.example.com");
    spec.extensions.push_back(alpn_extension({"h2", "http/1.1"}));
    const Bytes stream = frame_records(handshake(1, encode_body(spec)), 7);
    for (std::size_t n = 0; n < stream.size(); ++n) {
      CHECK(parse(Bytes(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(n))) == "need_more");
    }
    CHECK(parse(stream) == "found:a.example.com alpn:h2,http/1.1");
  }
}

TEST_CASE("ALPN extension structure: malformed lists are refused with a reason", "[sni][body][alpn]") {
  struct Case {
    const char* what;
    Bytes data;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"empty extension_data", {}, "malformed:ALPN protocol list length truncated"},
      {"one byte of list length", {0x00}, "malformed:ALPN protocol list length truncated"},
      {"empty list", {0x00, 0x00}, "malformed:empty ALPN protocol list"},
      {"list length past the extension", {0x00, 0x05, 0x02, 'h', '2'},
       "malformed:ALPN protocol list length does not match the extension"},
      {"list length short of the extension", {0x00, 0x02, 0x02, 'h', '2'},
       "malformed:ALPN protocol list length does not match the extension"},
      {"an empty name alone", {0x00, 0x01, 0x00}, "malformed:empty ALPN protocol name"},
      {"an empty name after a good one", {0x00, 0x04, 0x02, 'h', '2', 0x00}, "malformed:empty ALPN protocol name"},
      {"a name longer than its list", {0x00, 0x03, 0x05, 'h', '2'},
       "malformed:ALPN protocol name longer than its list"},
      {"a name running past the list into nothing", {0x00, 0x01, 0xff},
       "malformed:ALPN protocol name longer than its list"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) { CHECK_THAT(parse(stream_with_alpn_data(c.data)), Verdict(c.expected)); }
  }
  SECTION("an ALPN length past the extensions block") {
    const Bytes block = Writer{}.raw(encode_extensions({sni_extension("a.b")})).u16(16).u16(40).raw(alpn_data({"h2"})).out;
    CHECK_THAT(parse(stream_with_extensions_block(block)), Verdict("malformed:extension overruns"));
  }
  SECTION("two ALPN extensions (RFC 8446 §4.2)") {
    HelloSpec spec = with_sni("a.example.com");
    spec.extensions.push_back(alpn_extension({"h2"}));
    spec.extensions.push_back(alpn_extension({"http/1.1"}));
    CHECK(parse(hello_stream(spec)) == "malformed:duplicate ALPN extension");
  }
  SECTION("more protocols than the cap") {
    HelloSpec spec = with_sni("a.example.com");
    spec.extensions.push_back(alpn_extension(numbered_protocols(kMaxAlpnProtocols + 1)));
    CHECK(parse(hello_stream(spec)) == "malformed:ALPN list holds more than 64 protocols");
  }
  SECTION("a malformed ALPN list refuses even a hello without server_name") {
    HelloSpec spec;
    spec.extensions.push_back({16, {0x00, 0x00}});
    CHECK(parse(hello_stream(spec)) == "malformed:empty ALPN protocol list");
  }
}

TEST_CASE("offers_protocol compares ALPN names byte for byte", "[sni][body][alpn]") {
  const Found hello{"http.kafka.example.com", {"h2", "http/1.1"}};
  CHECK(offers_protocol(hello, "http/1.1"));
  CHECK(offers_protocol(hello, "h2"));
  CHECK_FALSE(offers_protocol(hello, "HTTP/1.1"));
  CHECK_FALSE(offers_protocol(hello, "http/1."));
  CHECK_FALSE(offers_protocol(hello, "http/1.1 "));
  CHECK_FALSE(offers_protocol(hello, ""));
  CHECK_FALSE(offers_protocol(Found{"a.example.com", {}}, "http/1.1"));
}
