// PROXY protocol parser: real HAProxy captures (tests/data/proxy_header),
// every split point, hand-built v1/v2 variants and malformed inputs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "proxy/proxy_header.h"

using namespace kedge::proxy;
using Bytes = std::vector<std::uint8_t>;

namespace {

const std::filesystem::path kDataDir = std::filesystem::path(KEDGE_TEST_DATA_DIR) / "data" / "proxy_header";

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes v2(std::uint8_t ver_cmd, std::uint8_t fam, const Bytes& payload) {
  Bytes out(16 + payload.size());
  const std::uint8_t head[16] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, ver_cmd, fam,
                                 static_cast<std::uint8_t>(payload.size() >> 8),
                                 static_cast<std::uint8_t>(payload.size() & 0xFF)};
  std::copy(std::begin(head), std::end(head), out.begin());
  std::copy(payload.begin(), payload.end(), out.begin() + 16);
  return out;
}

Found expect_found(const ProxyResult& result) {
  INFO("variant index " << result.index());
  REQUIRE(std::holds_alternative<Found>(result));
  return std::get<Found>(result);
}

std::string_view malformed_reason(const ProxyResult& result) {
  REQUIRE(std::holds_alternative<Malformed>(result));
  return std::get<Malformed>(result).reason;
}

}  // namespace

TEST_CASE("HAProxy captures decode to what an independent decoder says", "[proxy][golden]") {
  const auto expected = nlohmann::json::parse(std::ifstream(kDataDir / "expected.json"));
  REQUIRE(expected.size() == 5);
  for (const auto& [file, want] : expected.items()) {
    SECTION(file) {
      // given a header followed by the client's first TLS byte
      Bytes bytes = read_file(kDataDir / file);
      REQUIRE(bytes.size() == want["consumed"].get<std::size_t>());
      bytes.push_back(0x16);
      // when
      const Found found = expect_found(parse_proxy_header(bytes));
      // then
      CHECK(found.consumed == want["consumed"].get<std::size_t>());
      CHECK(static_cast<int>(found.header.version) == want["version"].get<int>());
      CHECK(found.header.command == Command::proxy);
      CHECK(to_string(found.header.family) == want["family"].get<std::string>());
      CHECK(found.header.has_source);
      CHECK(found.header.source_ip == want["source_ip"].get<std::string>());
      CHECK(found.header.source_port == want["source_port"].get<int>());
      CHECK(found.header.destination_ip == want["destination_ip"].get<std::string>());
      CHECK(found.header.destination_port == want["destination_port"].get<int>());
    }
  }
}

TEST_CASE("Every strict prefix of a capture needs more bytes", "[proxy][golden]") {
  for (const auto& entry : std::filesystem::directory_iterator(kDataDir)) {
    if (entry.path().extension() != ".bin") continue;
    const Bytes bytes = read_file(entry.path());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      INFO(entry.path().filename().string() << " prefix " << n);
      CHECK(std::holds_alternative<NeedMore>(parse_proxy_header(std::span(bytes).first(n))));
    }
    CHECK(std::holds_alternative<Found>(parse_proxy_header(bytes)));
  }
}

TEST_CASE("A TLS ClientHello or other bytes are Absent from the first byte", "[proxy]") {
  CHECK(std::holds_alternative<Absent>(parse_proxy_header(Bytes{0x16, 0x03, 0x01})));
  CHECK(std::holds_alternative<Absent>(parse_proxy_header(Bytes{0x16})));
  CHECK(std::holds_alternative<Absent>(parse_proxy_header(text("PROXX"))));
  CHECK(std::holds_alternative<Absent>(parse_proxy_header(text("GET / HTTP/1.1\r\n"))));
  CHECK(std::holds_alternative<Absent>(parse_proxy_header(Bytes{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55,
                                                                0x49, 0x54, 0x0B})));
  CHECK(std::holds_alternative<NeedMore>(parse_proxy_header(Bytes{})));
  CHECK(std::holds_alternative<NeedMore>(parse_proxy_header(text("PRO"))));
}

TEST_CASE("v1 variants", "[proxy][v1]") {
  SECTION("UNKNOWN with or without trailing fields keeps the socket address") {
    for (std::string_view line : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"}) {
      const Found found = expect_found(parse_proxy_header(text(line)));
      CHECK(found.consumed == line.size());
      CHECK_FALSE(found.header.has_source);
      CHECK(found.header.family == Family::unknown);
      CHECK(found.header.source_address().empty());
    }
  }
  SECTION("TCP6 address is canonicalised and bracketed") {
    const Found found = expect_found(parse_proxy_header(text("PROXY TCP6 2001:DB8:0::1 ::2 65535 0\r\n")));
    CHECK(found.header.source_address() == "[2001:db8::1]:65535");
    CHECK(found.header.destination_port == 0);
  }
  SECTION("the worst-case 107-byte line is accepted") {
    std::string line = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    REQUIRE(line.size() == 104);
    std::string unknown = "PROXY UNKNOWN " + std::string(107 - 16, 'x') + "\r\n";
    REQUIRE(unknown.size() == 107);
    CHECK(expect_found(parse_proxy_header(text(line))).consumed == 104);
    CHECK(expect_found(parse_proxy_header(text(unknown))).consumed == 107);
  }
  SECTION("malformed lines") {
    CHECK(malformed_reason(parse_proxy_header(text("PROXY UNKNOWN " + std::string(200, 'x')))) ==
          "v1 line longer than 107 bytes");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY UNKNOWN " + std::string(107 - 15, 'x') + "\r\n"))) ==
          "v1 line longer than 107 bytes");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"))) ==
          "v1 line has LF without CR");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"))) ==
          "v1 line has CR without LF");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"))) ==
          "v1 protocol is not TCP4, TCP6 or UNKNOWN");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP4\r\n"))) == "v1 line lacks addresses");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"))) ==
          "v1 line lacks a field");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"))) ==
          "v1 line has extra fields");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP4 ::1 5.6.7.8 1 2\r\n"))) ==
          "v1 source address is invalid");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP6 ::1 5.6.7.8 1 2\r\n"))) ==
          "v1 destination address is invalid");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"))) ==
          "v1 source port is invalid");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP4 1.2.3.4 5.6.7.8 1 02\r\n"))) ==
          "v1 destination port is invalid");
    CHECK(malformed_reason(parse_proxy_header(text("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"))) ==
          "v1 line has extra fields");
  }
}

TEST_CASE("v2 variants", "[proxy][v2]") {
  const Bytes inet = {192, 0, 2, 1, 198, 51, 100, 7, 0x13, 0x88, 0x23, 0x84};  // :5000 -> :9092
  SECTION("PROXY TCP4") {
    const Found found = expect_found(parse_proxy_header(v2(0x21, 0x11, inet)));
    CHECK(found.consumed == 28);
    CHECK(found.header.source_address() == "192.0.2.1:5000");
    CHECK(found.header.destination_ip == "198.51.100.7");
    CHECK(found.header.destination_port == 9092);
  }
  SECTION("LOCAL ignores the addresses") {
    const Found found = expect_found(parse_proxy_header(v2(0x20, 0x11, inet)));
    CHECK(found.header.command == Command::local);
    CHECK_FALSE(found.header.has_source);
  }
  SECTION("LOCAL with no address block (HAProxy health checks)") {
    const Found found = expect_found(parse_proxy_header(v2(0x20, 0x00, {})));
    CHECK(found.consumed == 16);
    CHECK_FALSE(found.header.has_source);
  }
  SECTION("UNSPEC and UNIX families keep the socket address") {
    CHECK_FALSE(expect_found(parse_proxy_header(v2(0x21, 0x00, {}))).header.has_source);
    CHECK_FALSE(expect_found(parse_proxy_header(v2(0x21, 0x31, Bytes(216, 'a')))).header.has_source);
  }
  SECTION("TLVs are skipped, including an empty one") {
    Bytes payload = inet;
    for (std::uint8_t b : Bytes{0x04, 0x00, 0x00, 0x05, 0x00, 0x02, 'i', 'd'}) payload.push_back(b);
    const Found found = expect_found(parse_proxy_header(v2(0x21, 0x11, payload)));
    CHECK(found.consumed == 16 + payload.size());
    CHECK(found.header.source_port == 5000);
  }
  SECTION("the largest accepted header, and one byte more") {
    Bytes payload = inet;
    payload.push_back(0xEE);
    const std::size_t value = kMaxV2PayloadBytes - inet.size() - 3;
    payload.push_back(static_cast<std::uint8_t>(value >> 8));
    payload.push_back(static_cast<std::uint8_t>(value & 0xFF));
    payload.resize(kMaxV2PayloadBytes, 'x');
    CHECK(expect_found(parse_proxy_header(v2(0x21, 0x11, payload))).consumed == 16 + kMaxV2PayloadBytes);
    payload.push_back('x');
    const Bytes too_long = v2(0x21, 0x11, payload);
    // refused from the fixed 16 bytes alone, before the payload is buffered
    CHECK(malformed_reason(parse_proxy_header(std::span(too_long).first(16))) ==
          "v2 header longer than kedge accepts");
  }
  SECTION("malformed headers") {
    CHECK(malformed_reason(parse_proxy_header(v2(0x11, 0x11, inet))) == "v2 version is not 2");
    const Bytes v3 = v2(0x31, 0x11, inet);
    CHECK(malformed_reason(parse_proxy_header(std::span(v3).first(13))) == "v2 version is not 2");
    CHECK(malformed_reason(parse_proxy_header(v2(0x22, 0x11, inet))) == "v2 command is neither LOCAL nor PROXY");
    CHECK(malformed_reason(parse_proxy_header(v2(0x21, 0x41, inet))) == "v2 address family is unknown");
    CHECK(malformed_reason(parse_proxy_header(v2(0x21, 0x13, inet))) == "v2 transport protocol is unknown");
    CHECK(malformed_reason(parse_proxy_header(v2(0x21, 0x21, inet))) == "v2 length shorter than its address block");
    Bytes truncated_tlv = inet;
    truncated_tlv.push_back(0x04);
    truncated_tlv.push_back(0x00);
    CHECK(malformed_reason(parse_proxy_header(v2(0x21, 0x11, truncated_tlv))) == "v2 TLV truncated");
    Bytes overrun = inet;
    for (std::uint8_t b : Bytes{0x04, 0x00, 0x05, 'a'}) overrun.push_back(b);
    CHECK(malformed_reason(parse_proxy_header(v2(0x21, 0x11, overrun))) == "v2 TLV overruns the header");
  }
  SECTION("a header split anywhere is NeedMore until complete") {
    const Bytes whole = v2(0x21, 0x11, inet);
    for (std::size_t n = 0; n < whole.size(); ++n) {
      CHECK(std::holds_alternative<NeedMore>(parse_proxy_header(std::span(whole).first(n))));
    }
  }
}
