// parse_host_port / HostPort::to_string: the address grammar shared by
// listener binds and backend bootstrap servers.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "config/config.h"

using kedge::HostPort;
using kedge::parse_host_port;

namespace {

std::string rejection_of(const std::string& text) {
  try {
    const HostPort parsed = parse_host_port(text);
    return "<accepted as " + parsed.to_string() + ">";
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
}

}  // namespace

TEST_CASE("parse_host_port accepts names, IPv4 and bracketed IPv6", "[config][host_port]") {
  struct Valid {
    std::string text;
    std::string host;
    std::uint16_t port;
    std::string canonical;
  };
  const Valid cases[] = {
      {"10.0.0.5:9092", "10.0.0.5", 9092, "10.0.0.5:9092"},
      {"broker-1.internal:19092", "broker-1.internal", 19092, "broker-1.internal:19092"},
      {"localhost:1", "localhost", 1, "localhost:1"},
      {"kafka_0:65535", "kafka_0", 65535, "kafka_0:65535"},
      {"[::1]:9092", "::1", 9092, "[::1]:9092"},
      {"[::]:9093", "::", 9093, "[::]:9093"},
      {"[fe80::1%eth0]:9092", "fe80::1%eth0", 9092, "[fe80::1%eth0]:9092"},
      {"[2001:db8::5]:09092", "2001:db8::5", 9092, "[2001:db8::5]:9092"},
  };
  for (const Valid& c : cases) {
    INFO(c.text);
    // when
    const HostPort parsed = parse_host_port(c.text);
    // then
    CHECK(parsed.host == c.host);
    CHECK(parsed.port == c.port);
    CHECK(parsed.to_string() == c.canonical);
  }
}

TEST_CASE("parse_host_port rejects malformed addresses with a precise reason", "[config][host_port]") {
  struct Invalid {
    std::string text;
    std::string message;
  };
  const Invalid cases[] = {
      {"10.0.1.5", R"("10.0.1.5" is not host:port (expected HOST:PORT or [IPv6]:PORT))"},
      {"", R"("" is not host:port (expected HOST:PORT or [IPv6]:PORT))"},
      {"host:", R"("host:" is not host:port (expected HOST:PORT or [IPv6]:PORT))"},
      {"host:+80", R"("host:+80" is not host:port (expected HOST:PORT or [IPv6]:PORT))"},
      {"host:80x", R"("host:80x" is not host:port (expected HOST:PORT or [IPv6]:PORT))"},
      {"host:123456", R"("host:123456" is not host:port (expected HOST:PORT or [IPv6]:PORT))"},
      {"host:0", R"("host:0": port 0 is out of range (1..65535))"},
      {"host:65536", R"("host:65536": port 65536 is out of range (1..65535))"},
      {":9092", R"(":9092": host is empty (expected HOST:PORT))"},
      {"::1:9092", R"("::1:9092": IPv6 addresses need brackets (expected [IPv6]:PORT))"},
      {"[::1]", R"("[::1]" is not host:port (expected HOST:PORT or [IPv6]:PORT))"},
      {"[::1]9092", R"("[::1]9092" is not host:port (expected HOST:PORT or [IPv6]:PORT))"},
      {"[::1:9092", R"("[::1:9092" is not host:port (expected HOST:PORT or [IPv6]:PORT))"},
      {"[]:9092", R"("[]:9092": "" is not an IPv6 address)"},
      {"[10.0.0.1]:9092", R"("[10.0.0.1]:9092": "10.0.0.1" is not an IPv6 address)"},
      {"bad host:9092", R"("bad host:9092": host "bad host" contains characters not allowed in a host name)"},
  };
  for (const Invalid& c : cases) {
    INFO(c.text);
    CHECK(rejection_of(c.text) == c.message);
  }
}
