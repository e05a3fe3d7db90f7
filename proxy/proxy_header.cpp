#include "proxy/proxy_header.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace kedge::proxy {
namespace {

constexpr std::array<std::uint8_t, 12> kV2Signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view kV1Signature = "PROXY ";

// True if `bytes` (possibly shorter than the signature) agrees with it.
template <typename Signature>
bool matches_prefix(std::span<const std::uint8_t> bytes, const Signature& signature) {
  const std::size_t n = std::min(bytes.size(), signature.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (bytes[i] != static_cast<std::uint8_t>(signature[i])) return false;
  }
  return true;
}

bool parse_port(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 5) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  std::uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value > 65535) return false;
  out = static_cast<std::uint16_t>(value);
  return true;
}

// inet_pton is strict (no leading zeros in dotted quads is not enforced by
// glibc, but no whitespace, no trailing junk); the text is copied to a
// NUL-terminated buffer first because string_views are not terminated.
bool parse_ip(std::string_view text, int af, std::string& out) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buffer) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  unsigned char binary[16];
  if (inet_pton(af, buffer, binary) != 1) return false;
  char canonical[INET6_ADDRSTRLEN];
  if (inet_ntop(af, binary, canonical, sizeof canonical) == nullptr) return false;
  out = canonical;
  return true;
}

ProxyResult parse_v1(std::span<const std::uint8_t> bytes) {
  const std::size_t window = std::min(bytes.size(), kMaxV1Bytes);
  std::size_t line_end = window;  // index of '\r' of the CRLF
  for (std::size_t i = 0; i < window; ++i) {
    if (bytes[i] == '\n') return Malformed{"v1 line has LF without CR"};
    if (bytes[i] == '\r') {
      if (i + 1 >= kMaxV1Bytes) return Malformed{"v1 line longer than 107 bytes"};
      if (i + 1 >= bytes.size()) return NeedMore{};
      if (bytes[i + 1] != '\n') return Malformed{"v1 line has CR without LF"};
      line_end = i;
      break;
    }
  }
  if (line_end == window) {
    return bytes.size() >= kMaxV1Bytes ? ProxyResult{Malformed{"v1 line longer than 107 bytes"}}
                                       : ProxyResult{NeedMore{}};
  }
  const std::string_view line(reinterpret_cast<const char*>(bytes.data()), line_end);
  Found found;
  found.consumed = line_end + 2;
  found.header.version = Version::v1;
  found.header.command = Command::proxy;
  std::string_view rest = line.substr(kV1Signature.size());
  const std::size_t protocol_end = rest.find(' ');
  const std::string_view protocol = rest.substr(0, protocol_end);
  if (protocol == "UNKNOWN") {
    // Spec §2.1: the receiver must ignore anything after UNKNOWN.
    found.header.family = Family::unknown;
    return found;
  }
  int af = 0;
  if (protocol == "TCP4") {
    af = AF_INET;
    found.header.family = Family::tcp4;
  } else if (protocol == "TCP6") {
    af = AF_INET6;
    found.header.family = Family::tcp6;
  } else {
    return Malformed{"v1 protocol is not TCP4, TCP6 or UNKNOWN"};
  }
  if (protocol_end == std::string_view::npos) return Malformed{"v1 line lacks addresses"};
  rest = rest.substr(protocol_end + 1);
  std::array<std::string_view, 4> fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::size_t space = rest.find(' ');
    if (i + 1 < fields.size()) {
      if (space == std::string_view::npos) return Malformed{"v1 line lacks a field"};
      fields[i] = rest.substr(0, space);
      rest = rest.substr(space + 1);
    } else {
      if (space != std::string_view::npos) return Malformed{"v1 line has extra fields"};
      fields[i] = rest;
    }
  }
  ProxyHeader& header = found.header;
  if (!parse_ip(fields[0], af, header.source_ip)) return Malformed{"v1 source address is invalid"};
  if (!parse_ip(fields[1], af, header.destination_ip)) return Malformed{"v1 destination address is invalid"};
  if (!parse_port(fields[2], header.source_port)) return Malformed{"v1 source port is invalid"};
  if (!parse_port(fields[3], header.destination_port)) return Malformed{"v1 destination port is invalid"};
  header.has_source = true;
  return found;
}

std::uint16_t read_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

ProxyResult parse_v2(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kV2HeaderBytes) {
    // Reject a bad version/command nibble as soon as it arrives.
    if (bytes.size() > 12 && (bytes[12] >> 4) != 2) return Malformed{"v2 version is not 2"};
    return NeedMore{};
  }
  const std::uint8_t version = bytes[12] >> 4;
  const std::uint8_t command = bytes[12] & 0x0F;
  const std::uint8_t family = bytes[13] >> 4;
  const std::uint8_t transport = bytes[13] & 0x0F;
  const std::size_t length = read_u16(&bytes[14]);
  if (version != 2) return Malformed{"v2 version is not 2"};
  if (command > 1) return Malformed{"v2 command is neither LOCAL nor PROXY"};
  if (family > 3) return Malformed{"v2 address family is unknown"};
  if (transport > 2) return Malformed{"v2 transport protocol is unknown"};
  if (length > kMaxV2PayloadBytes) return Malformed{"v2 header longer than kedge accepts"};
  static constexpr std::size_t kAddressBytes[] = {0, 12, 36, 216};
  if (length < kAddressBytes[family]) return Malformed{"v2 length shorter than its address block"};
  if (bytes.size() < kV2HeaderBytes + length) return NeedMore{};

  Found found;
  found.consumed = kV2HeaderBytes + length;
  ProxyHeader& header = found.header;
  header.version = Version::v2;
  header.command = command == 0 ? Command::local : Command::proxy;
  const std::uint8_t* payload = bytes.data() + kV2HeaderBytes;
  // TLVs after the address block must be well formed even though they are
  // skipped: a length that overruns the header means the sender is broken.
  for (std::size_t at = kAddressBytes[family]; at < length;) {
    if (length - at < 3) return Malformed{"v2 TLV truncated"};
    const std::size_t value_length = read_u16(payload + at + 1);
    if (value_length > length - at - 3) return Malformed{"v2 TLV overruns the header"};
    at += 3 + value_length;
  }
  // LOCAL: the balancer talks for itself; the addresses are to be ignored (§2.2).
  if (header.command == Command::local) return found;
  // A DGRAM or UNSPEC transport over a stream socket is not something kedge can
  // attribute; keep the socket's peer, as for UNSPEC/UNIX families.
  if (transport != 1 || (family != 1 && family != 2)) return found;
  char text[INET6_ADDRSTRLEN];
  const int af = family == 1 ? AF_INET : AF_INET6;
  const std::size_t ip_bytes = family == 1 ? 4 : 16;
  header.family = family == 1 ? Family::tcp4 : Family::tcp6;
  if (inet_ntop(af, payload, text, sizeof text) == nullptr) return Malformed{"v2 source address is invalid"};
  header.source_ip = text;
  if (inet_ntop(af, payload + ip_bytes, text, sizeof text) == nullptr) {
    return Malformed{"v2 destination address is invalid"};
  }
  header.destination_ip = text;
  header.source_port = read_u16(payload + 2 * ip_bytes);
  header.destination_port = read_u16(payload + 2 * ip_bytes + 2);
  header.has_source = true;
  return found;
}

}  // namespace

std::string ProxyHeader::source_address() const {
  if (!has_source) return {};
  if (family == Family::tcp6) return "[" + source_ip + "]:" + std::to_string(source_port);
  return source_ip + ":" + std::to_string(source_port);
}

std::string_view to_string(Family family) {
  switch (family) {
    case Family::unknown: return "UNKNOWN";
    case Family::tcp4: return "TCP4";
    case Family::tcp6: return "TCP6";
  }
  return "?";
}

ProxyResult parse_proxy_header(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return NeedMore{};
  if (matches_prefix(bytes, kV2Signature)) {
    return bytes.size() < kV2Signature.size() ? ProxyResult{NeedMore{}} : parse_v2(bytes);
  }
  if (matches_prefix(bytes, kV1Signature)) {
    return bytes.size() < kV1Signature.size() ? ProxyResult{NeedMore{}} : parse_v1(bytes);
  }
  return Absent{};
}

}  // namespace kedge::proxy
