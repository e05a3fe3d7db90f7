#include "sni/client_hello.h"

#include <algorithm>
#include <array>
#include <optional>

// Wire grammar walked here.
//
// RFC 8446 §5.1 (record layer, TLSPlaintext):
//   struct { ContentType type; ProtocolVersion legacy_record_version;
//            uint16 length; opaque fragment[length]; } TLSPlaintext;
//   handshake(22); length MUST NOT exceed 2^14; zero-length handshake
//   fragments MUST NOT be sent; a handshake message may span records.
// RFC 8446 §4 (handshake header): HandshakeType msg_type; uint24 length.
// RFC 8446 §4.1.2 (client_hello(1) body):
//   ProtocolVersion legacy_version; Random random (32 bytes);
//   opaque legacy_session_id<0..32>; CipherSuite cipher_suites<2..2^16-2>;
//   opaque legacy_compression_methods<1..2^8-1>;
//   Extension extensions<8..2^16-1>;
//   struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; }
// RFC 5246 §7.4.1.2: the extensions block may be absent altogether (nothing
//   follows compression_methods), and nothing may follow it when present.
// RFC 6066 §3 (server_name(0) extension_data):
//   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
//   struct { NameType name_type; select (name_type) { case host_name(0): HostName; } }
//   opaque HostName<1..2^16-1>;  // ASCII, no trailing dot, one name per name_type
// RFC 7301 §3.1 (application_layer_protocol_negotiation(16) extension_data):
//   opaque ProtocolName<1..2^8-1>;
//   struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
//   "Empty strings MUST NOT be included"; names are opaque bytes, in the
//   client's order of preference.
//
// Two passes over the caller's bytes, neither of which copies the message:
//  1. scan_records: record and handshake headers, until the whole ClientHello
//     is present or a verdict (NotTls, Malformed, NeedMore) is reached;
//  2. walk_client_hello: the body, read through a cursor that steps over the
//     record headers between fragments. Every vector length is checked against
//     the end of its enclosing structure before it is used.

namespace kedge::sni {
namespace {

constexpr std::uint8_t kContentTypeHandshake = 22;
constexpr std::uint8_t kHandshakeTypeClientHello = 1;
constexpr std::size_t kRecordHeaderBytes = 5;
constexpr std::size_t kHandshakeHeaderBytes = 4;
constexpr std::size_t kMaxPlaintextFragment = std::size_t{1} << 14;  // RFC 8446 §5.1
constexpr std::size_t kRandomBytes = 32;
constexpr std::size_t kMaxSessionIdBytes = 32;
constexpr std::uint16_t kExtensionServerName = 0;
constexpr std::uint8_t kNameTypeHostName = 0;
constexpr std::size_t kMaxHostNameBytes = 255;  // RFC 6066 §3; OpenSSL TLSEXT_MAXLEN_host_name
constexpr std::uint16_t kExtensionAlpn = 16;     // RFC 7301 §3.1

Malformed malformed(std::string_view reason) { return Malformed{reason}; }

std::size_t read_u16_at(std::span<const std::uint8_t> bytes, std::size_t at) {
  return (std::size_t{bytes[at]} << 8) | bytes[at + 1];
}

// Where the ClientHello sits in the stream once all of it has arrived.
struct MessageLocation {
  std::size_t first_fragment_start;  // stream offset of the handshake header
  std::size_t first_fragment_length;
  std::size_t body_length;  // handshake body, excluding the 4-byte header
};

using ScanResult = std::variant<MessageLocation, HelloResult>;

// Pass 1. Only checks that hold for every prefix of the stream are made here,
// so every prefix of an acceptable hello yields NeedMore.
ScanResult scan_records(std::span<const std::uint8_t> bytes, std::size_t max_bytes) {
  if (bytes.empty()) return HelloResult{NeedMore{}};
  // An SSLv2-compatible hello starts with a byte >= 0x80 and plaintext
  // protocols (HTTP, Kafka) with something else; only 22 opens a TLS handshake.
  if (bytes[0] != kContentTypeHandshake) return HelloResult{NotTls{}};

  std::array<std::uint8_t, kHandshakeHeaderBytes> handshake_header{};
  std::size_t delivered = 0;  // handshake message bytes present, header included
  std::optional<std::size_t> message_length;  // header + body, once the header is known
  MessageLocation location{kRecordHeaderBytes, 0, 0};

  std::size_t record_start = 0;
  for (bool first_record = true;; first_record = false) {
    // Refuse to wait for a record header that could not fit under the cap.
    if (record_start + kRecordHeaderBytes > max_bytes) {
      return HelloResult{malformed("ClientHello exceeds the size cap")};
    }
    const std::size_t available = bytes.size() - record_start;
    if (available >= 1 && bytes[record_start] != kContentTypeHandshake) {
      return HelloResult{malformed("non-handshake record before the ClientHello completed")};
    }
    // legacy_record_version: 0x0301 (allowed for an initial ClientHello) up
    // to 0x0304. A bad version in the very first record means the peer does
    // not speak TLS at all; in a later record it is a broken TLS stream.
    const bool bad_major = available >= 2 && bytes[record_start + 1] != 3;
    const bool bad_minor =
        available >= 3 && (bytes[record_start + 2] < 1 || bytes[record_start + 2] > 4);
    if (bad_major || bad_minor) {
      if (first_record) return HelloResult{NotTls{}};
      return HelloResult{malformed("bad record version")};
    }
    if (available < kRecordHeaderBytes) return HelloResult{NeedMore{}};

    const std::size_t fragment_length = read_u16_at(bytes, record_start + 3);
    if (fragment_length == 0) return HelloResult{malformed("empty handshake record")};
    if (fragment_length > kMaxPlaintextFragment) {
      return HelloResult{malformed("record longer than 2^14 bytes")};
    }
    const std::size_t fragment_start = record_start + kRecordHeaderBytes;
    if (fragment_start + fragment_length > max_bytes) {
      return HelloResult{malformed("ClientHello exceeds the size cap")};
    }
    if (first_record) {
      location.first_fragment_start = fragment_start;
      location.first_fragment_length = fragment_length;
    }

    const std::size_t arrived = std::min(fragment_length, bytes.size() - fragment_start);
    const std::size_t delivered_before = delivered;
    for (std::size_t i = 0; i < arrived && delivered_before + i < kHandshakeHeaderBytes; ++i) {
      handshake_header[delivered_before + i] = bytes[fragment_start + i];
    }
    delivered += arrived;

    if (delivered_before == 0 && delivered >= 1 &&
        handshake_header[0] != kHandshakeTypeClientHello) {
      return HelloResult{malformed("first handshake message is not a ClientHello")};
    }
    if (!message_length && delivered >= kHandshakeHeaderBytes) {
      location.body_length = (std::size_t{handshake_header[1]} << 16) |
                             (std::size_t{handshake_header[2]} << 8) | handshake_header[3];
      message_length = kHandshakeHeaderBytes + location.body_length;
      // Lower bound on the stream bytes the message occupies: its own bytes
      // plus one record header. Rejects an oversized claim before waiting.
      if (*message_length + kRecordHeaderBytes > max_bytes) {
        return HelloResult{malformed("ClientHello exceeds the size cap")};
      }
    }
    if (message_length && delivered >= *message_length) return location;
    if (arrived < fragment_length) return HelloResult{NeedMore{}};
    record_start = fragment_start + fragment_length;
  }
}

// Reads the handshake message as one logical byte sequence, skipping the
// record headers between fragments. Constructed only after scan_records has
// validated every record header up to the end of the message; reads still
// fail (rather than overrun) if asked for more than the message holds.
class FragmentCursor {
 public:
  FragmentCursor(std::span<const std::uint8_t> stream, const MessageLocation& location)
      : stream_(stream),
        position_(location.first_fragment_start),
        left_in_fragment_(location.first_fragment_length),
        message_left_(kHandshakeHeaderBytes + location.body_length) {}

  // Logical offset from the start of the handshake header.
  std::size_t offset() const { return offset_; }

  bool read_u8(std::uint8_t& out) {
    if (!ensure_fragment()) return false;
    out = stream_[position_];
    advance(1);
    return true;
  }

  bool read_u16(std::size_t& out) {
    std::uint8_t high = 0;
    std::uint8_t low = 0;
    if (!read_u8(high) || !read_u8(low)) return false;
    out = (std::size_t{high} << 8) | low;
    return true;
  }

  bool skip(std::size_t count) {
    while (count > 0) {
      if (!ensure_fragment()) return false;
      const std::size_t step = std::min({count, left_in_fragment_, message_left_});
      advance(step);
      count -= step;
    }
    return true;
  }

 private:
  // Moves to the next record's fragment when the current one is used up.
  bool ensure_fragment() {
    if (message_left_ == 0) return false;
    while (left_in_fragment_ == 0) {
      const std::size_t header = position_;
      if (header + kRecordHeaderBytes > stream_.size()) return false;
      left_in_fragment_ = read_u16_at(stream_, header + 3);
      position_ = header + kRecordHeaderBytes;
    }
    return position_ < stream_.size();
  }

  void advance(std::size_t count) {
    position_ += count;
    left_in_fragment_ -= count;
    message_left_ -= count;
    offset_ += count;
  }

  std::span<const std::uint8_t> stream_;
  std::size_t position_;
  std::size_t left_in_fragment_;
  std::size_t message_left_;
  std::size_t offset_ = 0;
};

bool is_host_name_char(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_';
}

// Parses one ServerNameList (RFC 6066 §3) occupying [cursor.offset(), end).
// Accepts exactly one host_name entry, as OpenSSL does: a second host_name is
// forbidden by the RFC, and an unknown name_type has no length we could skip
// by. Agreeing with OpenSSL matters because it selects the certificate from
// the same extension.
std::variant<std::string, Malformed> read_server_name_list(FragmentCursor& cursor,
                                                           std::size_t end) {
  std::size_t list_length = 0;
  if (end - cursor.offset() < 2 || !cursor.read_u16(list_length)) {
    return malformed("server_name list length truncated");
  }
  if (list_length != end - cursor.offset()) {
    return malformed("server_name list length does not match the extension");
  }
  if (list_length == 0) return malformed("empty server_name list");

  std::uint8_t name_type = 0;
  std::size_t name_length = 0;
  if (end - cursor.offset() < 3 || !cursor.read_u8(name_type) ||
      !cursor.read_u16(name_length)) {
    return malformed("server_name entry truncated");
  }
  if (name_type != kNameTypeHostName) return malformed("unsupported server_name name_type");
  if (name_length > end - cursor.offset()) return malformed("host_name longer than its list");
  if (name_length != end - cursor.offset()) {
    return malformed("server_name list holds more than one entry");
  }
  if (name_length == 0) return malformed("empty host_name");
  if (name_length > kMaxHostNameBytes) return malformed("host_name longer than 255 bytes");

  std::string name;
  name.reserve(name_length);  // bounded above by 255
  for (std::size_t i = 0; i < name_length; ++i) {
    std::uint8_t c = 0;
    if (!cursor.read_u8(c)) return malformed("host_name truncated");
    if (c == 0) return malformed("NUL in host_name");
    if (!is_host_name_char(c)) return malformed("invalid character in host_name");
    name.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  }
  if (name.back() == '.') name.pop_back();  // one trailing dot: the absolute form of the name
  if (name.empty() || name.front() == '.' || name.back() == '.' ||
      name.find("..") != std::string::npos) {
    return malformed("empty label in host_name");
  }
  return name;
}

// Parses one ProtocolNameList (RFC 7301 §3.1) occupying [cursor.offset(), end).
// Every name is checked before the next is read, and the count is capped
// before a name is stored, so a hostile list allocates at most
// kMaxAlpnProtocols strings of at most 255 bytes.
std::variant<std::vector<std::string>, Malformed> read_protocol_name_list(FragmentCursor& cursor,
                                                                          std::size_t end) {
  std::size_t list_length = 0;
  if (end - cursor.offset() < 2 || !cursor.read_u16(list_length)) {
    return malformed("ALPN protocol list length truncated");
  }
  if (list_length != end - cursor.offset()) {
    return malformed("ALPN protocol list length does not match the extension");
  }
  if (list_length == 0) return malformed("empty ALPN protocol list");

  std::vector<std::string> protocols;
  while (cursor.offset() < end) {
    std::uint8_t name_length = 0;
    if (!cursor.read_u8(name_length)) return malformed("ALPN protocol name truncated");
    if (name_length == 0) return malformed("empty ALPN protocol name");
    if (name_length > end - cursor.offset()) return malformed("ALPN protocol name longer than its list");
    static_assert(kMaxAlpnProtocols == 64, "the reason below names the cap");
    if (protocols.size() == kMaxAlpnProtocols) return malformed("ALPN list holds more than 64 protocols");
    std::string name;
    name.reserve(name_length);  // bounded above by 255
    for (std::size_t i = 0; i < name_length; ++i) {
      std::uint8_t c = 0;
      if (!cursor.read_u8(c)) return malformed("ALPN protocol name truncated");
      name.push_back(static_cast<char>(c));
    }
    protocols.push_back(std::move(name));
  }
  return protocols;
}

// Pass 2: the ClientHello body. Consumes the message exactly.
HelloResult walk_client_hello(std::span<const std::uint8_t> stream,
                              const MessageLocation& location) {
  FragmentCursor cursor(stream, location);
  if (!cursor.skip(kHandshakeHeaderBytes)) return malformed("handshake header truncated");
  const std::size_t end = kHandshakeHeaderBytes + location.body_length;
  auto left = [&] { return end - cursor.offset(); };

  std::uint8_t version_major = 0;
  std::uint8_t version_minor = 0;
  if (left() < 2 + kRandomBytes || !cursor.read_u8(version_major) ||
      !cursor.read_u8(version_minor) || !cursor.skip(kRandomBytes)) {
    return malformed("ClientHello shorter than version and random");
  }
  // legacy_version: 0x0303 for TLS 1.3 (RFC 8446 §4.1.2); 0x0301..0x0303 for
  // older clients. SSL 3.0 (0x0300) has no extensions and is not supported.
  if (version_major != 3 || version_minor < 1) return malformed("bad legacy_version");

  std::uint8_t session_id_length = 0;
  if (left() < 1 || !cursor.read_u8(session_id_length)) return malformed("session_id truncated");
  if (session_id_length > kMaxSessionIdBytes) return malformed("session_id longer than 32 bytes");
  if (session_id_length > left() || !cursor.skip(session_id_length)) {
    return malformed("session_id overruns the ClientHello");
  }

  std::size_t cipher_suites_length = 0;
  if (left() < 2 || !cursor.read_u16(cipher_suites_length)) {
    return malformed("cipher_suites truncated");
  }
  if (cipher_suites_length < 2 || cipher_suites_length % 2 != 0) {
    return malformed("cipher_suites length not a positive even number");
  }
  if (cipher_suites_length > left() || !cursor.skip(cipher_suites_length)) {
    return malformed("cipher_suites overrun the ClientHello");
  }

  std::uint8_t compression_length = 0;
  if (left() < 1 || !cursor.read_u8(compression_length)) {
    return malformed("compression_methods truncated");
  }
  if (compression_length == 0) return malformed("empty compression_methods");
  if (compression_length > left() || !cursor.skip(compression_length)) {
    return malformed("compression_methods overrun the ClientHello");
  }

  if (left() == 0) return NoSni{};  // no extensions block (RFC 5246 §7.4.1.2)
  std::size_t extensions_length = 0;
  if (left() < 2 || !cursor.read_u16(extensions_length)) {
    return malformed("extensions length truncated");
  }
  if (extensions_length != left()) {
    return malformed("extensions length does not match the ClientHello");
  }

  std::optional<std::string> host_name;
  std::optional<std::vector<std::string>> alpn;
  while (left() > 0) {
    std::size_t extension_type = 0;
    std::size_t extension_length = 0;
    if (left() < 4 || !cursor.read_u16(extension_type) || !cursor.read_u16(extension_length)) {
      return malformed("extension header truncated");
    }
    if (extension_length > left()) return malformed("extension overruns the extensions block");
    if (extension_type == kExtensionAlpn) {
      // RFC 8446 §4.2, as for server_name: OpenSSL refuses a second one too.
      if (alpn) return malformed("duplicate ALPN extension");
      auto parsed = read_protocol_name_list(cursor, cursor.offset() + extension_length);
      if (auto* error = std::get_if<Malformed>(&parsed)) return *error;
      alpn = std::move(std::get<std::vector<std::string>>(parsed));
      continue;
    }
    if (extension_type != kExtensionServerName) {
      if (!cursor.skip(extension_length)) return malformed("extension truncated");
      continue;
    }
    // RFC 8446 §4.2: at most one extension of each type. A second
    // server_name could route to one name while OpenSSL serves another.
    if (host_name) return malformed("duplicate server_name extension");
    auto parsed = read_server_name_list(cursor, cursor.offset() + extension_length);
    if (auto* error = std::get_if<Malformed>(&parsed)) return *error;
    host_name = std::move(std::get<std::string>(parsed));
  }
  if (host_name) return Found{std::move(*host_name), alpn ? std::move(*alpn) : std::vector<std::string>{}};
  return NoSni{};
}

}  // namespace

bool offers_protocol(const Found& hello, std::string_view protocol) {
  if (protocol.empty()) return false;
  return std::find(hello.alpn.begin(), hello.alpn.end(), protocol) != hello.alpn.end();
}

HelloResult parse_client_hello(std::span<const std::uint8_t> bytes, std::size_t max_bytes) {
  ScanResult scanned = scan_records(bytes, max_bytes);
  if (auto* verdict = std::get_if<HelloResult>(&scanned)) return std::move(*verdict);
  return walk_client_hello(bytes, std::get<MessageLocation>(scanned));
}

}  // namespace kedge::sni
