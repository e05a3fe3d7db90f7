#pragma once
// Test-side TLS byte helpers: load the captured ClientHellos, split a stream
// back into its handshake message, re-frame a message into records of a
// chosen size, and build ClientHello bodies field by field (so malformed
// variants can be written down explicitly). Deliberately independent of
// sni/client_hello.cpp.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "sni/client_hello.h"

namespace kedge::sni::test {

using Bytes = std::vector<std::uint8_t>;

inline std::filesystem::path capture_dir() {
  return std::filesystem::path(KEDGE_TEST_DATA_DIR) / "data" / "client_hello";
}

inline Bytes read_binary(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Capture {
  std::string file;
  Bytes bytes;
  std::string expected;  // "found:<name>[ alpn:<p1>,<p2>...]" or "no_sni", from expected.tsv
};

inline std::vector<Capture> load_captures() {
  std::ifstream manifest(capture_dir() / "expected.tsv");
  if (!manifest) throw std::runtime_error("cannot open expected.tsv");
  std::vector<Capture> captures;
  for (std::string line; std::getline(manifest, line);) {
    if (line.empty() || line.front() == '#') continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos) throw std::runtime_error("bad manifest line: " + line);
    Capture capture{line.substr(0, tab), {}, line.substr(tab + 1)};
    capture.bytes = read_binary(capture_dir() / capture.file);
    captures.push_back(std::move(capture));
  }
  return captures;
}

// Byte writer for big-endian TLS fields.
struct Writer {
  Bytes out;
  Writer& u8(std::uint32_t v) { out.push_back(static_cast<std::uint8_t>(v)); return *this; }
  Writer& u16(std::uint32_t v) { return u8(v >> 8).u8(v); }
  Writer& u24(std::uint32_t v) { return u8(v >> 16).u16(v & 0xffff); }
  Writer& raw(const Bytes& b) { out.insert(out.end(), b.begin(), b.end()); return *this; }
  Writer& raw(std::string_view s) { out.insert(out.end(), s.begin(), s.end()); return *this; }
  Writer& fill(std::size_t n, std::uint8_t v) { out.insert(out.end(), n, v); return *this; }
};

// Concatenates the fragments of consecutive handshake records (type 22) and
// returns the first handshake message (header included).
inline Bytes handshake_message(const Bytes& records) {
  Bytes handshake;
  std::size_t at = 0;
  while (at + 5 <= records.size() && records[at] == 22) {
    const std::size_t length = (std::size_t{records[at + 3]} << 8) | records[at + 4];
    if (at + 5 + length > records.size()) throw std::runtime_error("truncated record");
    handshake.insert(handshake.end(), records.begin() + at + 5, records.begin() + at + 5 + length);
    at += 5 + length;
  }
  if (handshake.size() < 4) throw std::runtime_error("no handshake header");
  const std::size_t length = (std::size_t{handshake[1]} << 16) | (handshake[2] << 8) | handshake[3];
  handshake.resize(4 + length);
  return handshake;
}

// Frames `message` as TLSPlaintext records of at most `fragment` bytes each.
inline Bytes frame_records(const Bytes& message, std::size_t fragment,
                           std::uint8_t content_type = 22, std::uint16_t version = 0x0301) {
  Writer w;
  for (std::size_t at = 0; at < message.size(); at += fragment) {
    const std::size_t n = std::min(fragment, message.size() - at);
    w.u8(content_type).u16(version).u16(static_cast<std::uint32_t>(n));
    w.out.insert(w.out.end(), message.begin() + at, message.begin() + at + n);
  }
  return w.out;
}

inline Bytes handshake(std::uint8_t type, const Bytes& body) {
  return Writer{}.u8(type).u24(static_cast<std::uint32_t>(body.size())).raw(body).out;
}

struct Extension {
  std::uint16_t type;
  Bytes data;
};

// RFC 6066 §3 ServerNameList with one host_name entry.
inline Bytes server_name_data(std::string_view name) {
  Writer entry;
  entry.u8(0).u16(static_cast<std::uint32_t>(name.size())).raw(name);
  return Writer{}.u16(static_cast<std::uint32_t>(entry.out.size())).raw(entry.out).out;
}

inline Extension sni_extension(std::string_view name) { return {0, server_name_data(name)}; }

// RFC 7301 §3.1 ProtocolNameList (extension 16) with these names, as given.
inline Bytes alpn_data(const std::vector<std::string>& protocols) {
  Writer list;
  for (const auto& protocol : protocols) list.u8(static_cast<std::uint32_t>(protocol.size())).raw(protocol);
  return Writer{}.u16(static_cast<std::uint32_t>(list.out.size())).raw(list.out).out;
}

inline Extension alpn_extension(const std::vector<std::string>& protocols) { return {16, alpn_data(protocols)}; }

// A plausible TLS 1.3 ClientHello, field by field (RFC 8446 §4.1.2).
struct HelloSpec {
  std::uint16_t legacy_version = 0x0303;
  Bytes session_id = Bytes(32, 0x5a);
  std::vector<std::uint16_t> cipher_suites{0x1301, 0x1302, 0xc02f};
  Bytes compression_methods{0};
  bool has_extensions_block = true;
  std::vector<Extension> extensions{
      {0x000a, {0x00, 0x02, 0x00, 0x1d}},  // supported_groups: x25519
      {0x002b, {0x02, 0x03, 0x04}},        // supported_versions: TLS 1.3
  };
};

inline Bytes encode_extensions(const std::vector<Extension>& extensions) {
  Writer w;
  for (const auto& e : extensions) {
    w.u16(e.type).u16(static_cast<std::uint32_t>(e.data.size())).raw(e.data);
  }
  return w.out;
}

inline Bytes encode_body(const HelloSpec& spec) {
  Writer w;
  w.u16(spec.legacy_version).fill(32, 0x11);
  w.u8(static_cast<std::uint32_t>(spec.session_id.size())).raw(spec.session_id);
  w.u16(static_cast<std::uint32_t>(spec.cipher_suites.size() * 2));
  for (auto suite : spec.cipher_suites) w.u16(suite);
  w.u8(static_cast<std::uint32_t>(spec.compression_methods.size())).raw(spec.compression_methods);
  if (spec.has_extensions_block) {
    const Bytes extensions = encode_extensions(spec.extensions);
    w.u16(static_cast<std::uint32_t>(extensions.size())).raw(extensions);
  }
  return w.out;
}

// The common case: one record carrying a ClientHello with these extensions.
inline Bytes hello_stream(const HelloSpec& spec) {
  return frame_records(handshake(1, encode_body(spec)), 1 << 14);
}

inline Bytes hello_stream_with_sni(std::string_view name) {
  HelloSpec spec;
  spec.extensions.insert(spec.extensions.begin(), sni_extension(name));
  return hello_stream(spec);
}

// "h2,http/1.1"; bytes outside printable ASCII as \xHH.
inline std::string describe_protocols(const std::vector<std::string>& protocols) {
  std::string out;
  for (const auto& protocol : protocols) {
    if (!out.empty()) out += ',';
    for (const char c : protocol) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte > 0x20 && byte < 0x7f) {
        out += c;
      } else {
        constexpr char kHex[] = "0123456789abcdef";
        out += "\\x";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xf];
      }
    }
  }
  return out;
}

// One-line rendering of a verdict, in the vocabulary of expected.tsv, so a
// failing CHECK prints what the parser actually said. A Found with ALPN
// protocols appends " alpn:<protocols>".
inline std::string describe(const HelloResult& result) {
  struct Visitor {
    std::string operator()(const NeedMore&) const { return "need_more"; }
    std::string operator()(const Found& f) const {
      return "found:" + f.name + (f.alpn.empty() ? "" : " alpn:" + describe_protocols(f.alpn));
    }
    std::string operator()(const NoSni&) const { return "no_sni"; }
    std::string operator()(const NotTls&) const { return "not_tls"; }
    std::string operator()(const Malformed& m) const { return "malformed:" + std::string(m.reason); }
  };
  return std::visit(Visitor{}, result);
}

inline std::string parse(const Bytes& bytes, std::size_t max_bytes = kMaxClientHelloBytes) {
  return describe(parse_client_hello(bytes, max_bytes));
}

// Matches a describe() string: "malformed:<text>" matches any Malformed
// whose reason starts with <text>; every other verdict must be equal.
class VerdictMatcher : public Catch::MatcherBase<std::string> {
 public:
  explicit VerdictMatcher(std::string expected) : expected_(std::move(expected)) {}
  bool match(const std::string& verdict) const override {
    if (std::string_view(expected_).starts_with("malformed:")) {
      return std::string_view(verdict).starts_with(expected_);
    }
    return verdict == expected_;
  }
  std::string describe() const override { return "is verdict \"" + expected_ + "\""; }

 private:
  std::string expected_;
};

inline VerdictMatcher Verdict(std::string expected) { return VerdictMatcher(std::move(expected)); }

}  // namespace kedge::sni::test
