// parse_client_hello against ClientHellos captured from real clients
// (tests/data/client_hello, see the README there), delivered whole, byte by
// byte, re-fragmented into many records, mutated at the record layer, and
// capped.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "tests/unit/sni/tls_bytes.h"

using namespace kedge::sni;
using namespace kedge::sni::test;

namespace {

Bytes prefix(const Bytes& bytes, std::size_t n) { return Bytes(bytes.begin(), bytes.begin() + n); }

// Index of the first prefix (shorter than the whole stream) whose verdict is
// not NeedMore, or the stream size if there is none.
std::size_t first_prefix_with_verdict(const Bytes& stream,
                                      std::size_t max_bytes = kMaxClientHelloBytes) {
  for (std::size_t n = 0; n < stream.size(); ++n) {
    if (!std::holds_alternative<NeedMore>(parse_client_hello(prefix(stream, n), max_bytes))) {
      return n;
    }
  }
  return stream.size();
}

}  // namespace

TEST_CASE("every capture file is listed in expected.tsv and vice versa", "[sni][capture]") {
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(capture_dir())) {
    if (entry.path().extension() == ".bin") on_disk.insert(entry.path().filename().string());
  }
  std::set<std::string> listed;
  for (const auto& capture : load_captures()) listed.insert(capture.file);
  CHECK(on_disk == listed);
  // The captures cover the three verdicts real clients produce.
  CHECK(listed.size() >= 6);
}

TEST_CASE("real ClientHellos yield the expected verdict", "[sni][capture]") {
  for (const auto& capture : load_captures()) {
    DYNAMIC_SECTION(capture.file) {
      CHECK(parse(capture.bytes) == capture.expected);
    }
  }
}

TEST_CASE("every prefix of a real ClientHello needs more bytes", "[sni][capture]") {
  for (const auto& capture : load_captures()) {
    DYNAMIC_SECTION(capture.file) {
      // given the stream cut at every byte boundary
      // then no prefix yields a verdict, and the whole stream yields the expected one
      CHECK(first_prefix_with_verdict(capture.bytes) == capture.bytes.size());
      CHECK(parse(capture.bytes) == capture.expected);
    }
  }
}

TEST_CASE("a capture that OpenSSL itself split over two records is reassembled",
          "[sni][capture]") {
  const auto captures = load_captures();
  const auto it = std::find_if(captures.begin(), captures.end(),
                               [](const Capture& c) { return c.file == "openssl-fragmented-512.bin"; });
  REQUIRE(it != captures.end());
  // given: the first record is full (512 bytes) and the message continues in a second
  REQUIRE(it->bytes[0] == 22);
  REQUIRE(((it->bytes[3] << 8) | it->bytes[4]) == 512);
  REQUIRE(it->bytes.size() > 5 + 512 + 5);
  CHECK(parse(it->bytes) == it->expected);
  CHECK_THAT(it->expected, Catch::StartsWith("found:broker-7-beta.kafka.example.com alpn:kafka-proto-00,"));
  // and cutting exactly at the record boundary or inside the second header waits
  for (std::size_t n = 5 + 512; n <= 5 + 512 + 5; ++n) CHECK(parse(prefix(it->bytes, n)) == "need_more");
}

TEST_CASE("ALPN offers from real clients: browsers' http/1.1, never from Kafka clients", "[sni][capture][alpn]") {
  std::map<std::string, HelloResult> results;
  for (const auto& capture : load_captures()) results.emplace(capture.file, parse_client_hello(capture.bytes));
  const auto found = [&](const std::string& file) -> const Found& {
    REQUIRE(results.count(file) == 1);
    REQUIRE(std::holds_alternative<Found>(results.at(file)));
    return std::get<Found>(results.at(file));
  };
  // curl offers h2 first; openssl and Python as told on the command line.
  CHECK(found("curl-alpn.bin").alpn == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(offers_protocol(found("curl-alpn.bin"), "http/1.1"));
  CHECK(offers_protocol(found("openssl-alpn-http11-h2.bin"), "http/1.1"));
  CHECK(offers_protocol(found("python-ssl-alpn.bin"), "http/1.1"));
  CHECK_FALSE(offers_protocol(found("python-ssl-alpn.bin"), "h2"));
  // Kafka clients (librdkafka) and default TLS clients send no ALPN extension.
  CHECK(found("kcat-librdkafka.bin").alpn.empty());
  CHECK(found("python-ssl.bin").alpn.empty());
  CHECK(found("openssl-fragmented-512.bin").alpn.size() == 40);
}

TEST_CASE("a real ClientHello re-fragmented into many records is reassembled", "[sni][capture]") {
  for (const auto& capture : load_captures()) {
    const Bytes message = handshake_message(capture.bytes);
    for (std::size_t fragment : {1u, 2u, 3u, 4u, 5u, 7u, 100u, 512u, 16384u}) {
      DYNAMIC_SECTION(capture.file << " in " << fragment << "-byte records") {
        const Bytes stream = frame_records(message, fragment);
        CHECK(parse(stream) == capture.expected);
        if (fragment == 1 || fragment == 7 || fragment == 100) {
          CHECK(first_prefix_with_verdict(stream) == stream.size());
        }
      }
    }
  }
}

TEST_CASE("later records may carry any TLS record version 0x0301..0x0304", "[sni][capture]") {
  const auto captures = load_captures();
  const Bytes message = handshake_message(captures.front().bytes);
  for (std::uint16_t version : {0x0301, 0x0302, 0x0303, 0x0304}) {
    DYNAMIC_SECTION("version " << version) {
      CHECK(parse(frame_records(message, 50, 22, static_cast<std::uint16_t>(version))) ==
            captures.front().expected);
    }
  }
}

TEST_CASE("bytes after the ClientHello are ignored", "[sni][capture]") {
  for (const auto& capture : load_captures()) {
    DYNAMIC_SECTION(capture.file) {
      SECTION("a following record of another type") {
        Bytes stream = capture.bytes;
        const Bytes change_cipher_spec{20, 3, 3, 0, 1, 1};
        stream.insert(stream.end(), change_cipher_spec.begin(), change_cipher_spec.end());
        CHECK(parse(stream) == capture.expected);
      }
      SECTION("garbage after the last record") {
        Bytes stream = capture.bytes;
        stream.insert(stream.end(), {0xde, 0xad, 0xbe, 0xef});
        CHECK(parse(stream) == capture.expected);
      }
      SECTION("handshake bytes after the message inside its last record") {
        Bytes message = handshake_message(capture.bytes);
        message.insert(message.end(), {0x0b, 0x00, 0x00, 0x00});
        CHECK(parse(frame_records(message, 16384)) == capture.expected);
      }
    }
  }
}

TEST_CASE("the size cap bounds all records carrying the ClientHello", "[sni][capture]") {
  for (const auto& capture : load_captures()) {
    const std::size_t size = capture.bytes.size();
    DYNAMIC_SECTION(capture.file) {
      SECTION("a hello exactly at the cap is accepted") {
        CHECK(parse(capture.bytes, size) == capture.expected);
      }
      SECTION("one byte over the cap is malformed") {
        CHECK_THAT(parse(capture.bytes, size - 1), Verdict("malformed:ClientHello exceeds the size cap"));
      }
      SECTION("the oversize claim is rejected as soon as the headers show it") {
        // given the record header and the handshake header have arrived (or,
        // for a multi-record hello, the record that crosses the cap)
        const std::size_t verdict_at = first_prefix_with_verdict(capture.bytes, size - 1);
        CHECK(verdict_at < size);
        CHECK_THAT(parse(prefix(capture.bytes, verdict_at), size - 1), Verdict("malformed:"));
      }
      SECTION("NeedMore is never the answer once max_bytes have arrived") {
        for (std::size_t cap : {std::size_t{0}, std::size_t{4}, std::size_t{5}, std::size_t{9}, size / 2}) {
          CHECK(parse(capture.bytes, cap) != "need_more");
        }
      }
    }
  }
}

TEST_CASE("record-layer damage to a real ClientHello", "[sni][capture]") {
  const auto captures = load_captures();
  const Bytes original = captures.front().bytes;
  const Bytes message = handshake_message(original);
  struct Case {
    const char* what;
    Bytes stream;
    std::string expected;  // exact verdict or "malformed:" prefix
  };
  auto patched = [&](std::size_t at, std::uint8_t value) {
    Bytes b = original;
    b[at] = value;
    return b;
  };
  auto patched_u16 = [&](std::size_t at, std::uint16_t value) {
    Bytes b = original;
    b[at] = static_cast<std::uint8_t>(value >> 8);
    b[at + 1] = static_cast<std::uint8_t>(value);
    return b;
  };
  auto second_record_patched = [&](std::size_t offset_in_header, std::uint8_t value) {
    Bytes b = frame_records(message, 100);
    b[5 + 100 + offset_in_header] = value;
    return b;
  };
  const std::vector<Case> cases{
      {"alert record first", patched(0, 21), "not_tls"},
      {"application data first", patched(0, 23), "not_tls"},
      {"SSLv2-style first byte", patched(0, 0x80), "not_tls"},
      {"record version major 2", patched(1, 2), "not_tls"},
      {"record version 3.0 (SSLv3)", patched(2, 0), "not_tls"},
      {"record version 3.5", patched(2, 5), "not_tls"},
      {"zero-length record", patched_u16(3, 0), "malformed:empty handshake record"},
      {"record of 2^14+1 bytes", patched_u16(3, 0x4001), "malformed:record longer than 2^14"},
      {"record of 65535 bytes", patched_u16(3, 0xffff), "malformed:record longer than 2^14"},
      {"handshake type ServerHello", patched(5, 2), "malformed:first handshake message is not"},
      {"handshake type 0", patched(5, 0), "malformed:first handshake message is not"},
      {"handshake length 2^24-1", patched(6, 0xff), "malformed:ClientHello exceeds the size cap"},
      {"second record is application data", second_record_patched(0, 23),
       "malformed:non-handshake record"},
      {"second record is an alert", second_record_patched(0, 21), "malformed:non-handshake record"},
      {"second record version major 2", second_record_patched(1, 2), "malformed:bad record version"},
      {"second record version 3.0", second_record_patched(2, 0), "malformed:bad record version"},
      {"second record empty", [&] {
         Bytes b = frame_records(message, 100);
         b[5 + 100 + 3] = 0;
         b[5 + 100 + 4] = 0;
         return b;
       }(),
       "malformed:empty handshake record"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) {
      CHECK_THAT(parse(c.stream), Verdict(c.expected));
    }
  }
}

TEST_CASE("a handshake length that disagrees with the body", "[sni][capture]") {
  const auto captures = load_captures();
  const Bytes message = handshake_message(captures.front().bytes);
  const std::size_t body_length = message.size() - 4;
  auto with_body_length = [&](std::size_t length) {
    Bytes m = message;
    m[1] = static_cast<std::uint8_t>(length >> 16);
    m[2] = static_cast<std::uint8_t>(length >> 8);
    m[3] = static_cast<std::uint8_t>(length);
    return m;
  };
  SECTION("one byte short: the extensions no longer fit") {
    CHECK_THAT(parse(frame_records(with_body_length(body_length - 1), 16384)), Verdict("malformed:"));
  }
  SECTION("one byte long: the hello is not complete yet") {
    CHECK(parse(frame_records(with_body_length(body_length + 1), 16384)) == "need_more");
  }
  SECTION("one byte long and the byte arrives: trailing data after the extensions") {
    Bytes m = with_body_length(body_length + 1);
    m.push_back(0);
    CHECK(parse(frame_records(m, 16384)) ==
          "malformed:extensions length does not match the ClientHello");
  }
}

TEST_CASE("single-byte corruption of real ClientHellos never breaks the result contract",
          "[sni][capture]") {
  // For every byte of every capture and three bit patterns: whatever the
  // verdict, a Found name obeys the contract in client_hello.h, and NeedMore
  // only appears below the cap.
  std::size_t verdicts = 0;
  for (const auto& capture : load_captures()) {
    for (std::size_t at = 0; at < capture.bytes.size(); ++at) {
      for (std::uint8_t flip : {0x01, 0x20, 0xff}) {
        Bytes stream = capture.bytes;
        stream[at] ^= flip;
        const std::size_t cap = capture.bytes.size() + 16;
        const HelloResult result = parse_client_hello(stream, cap);
        if (const auto* found = std::get_if<Found>(&result)) {
          const std::string& name = found->name;
          const bool ok = !name.empty() && name.size() <= 255 && name.back() != '.' &&
                          name.front() != '.' && name.find("..") == std::string::npos &&
                          std::all_of(name.begin(), name.end(), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                                   c == '.' || c == '_';
                          });
          if (!ok) FAIL("bad name '" << name << "' from " << capture.file << " byte " << at);
          const auto& alpn = found->alpn;
          const bool alpn_ok = alpn.size() <= kMaxAlpnProtocols &&
                               std::all_of(alpn.begin(), alpn.end(), [](const std::string& protocol) {
                                 return !protocol.empty() && protocol.size() <= 255;
                               });
          if (!alpn_ok) FAIL("bad ALPN list from " << capture.file << " byte " << at);
        }
        if (std::holds_alternative<NeedMore>(result) && stream.size() >= cap) {
          FAIL("NeedMore at the cap from " << capture.file << " byte " << at);
        }
        ++verdicts;
      }
    }
  }
  CHECK(verdicts > 1000);
}
