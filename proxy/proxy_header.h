#pragma once
// Pure PROXY protocol header parser (HAProxy "The PROXY protocol", versions 1
// and 2): reads the header a load balancer puts in front of the client's first
// byte and reports the original client address. No I/O, no libuv, no OpenSSL;
// the caller keeps the bytes and drops `consumed` of them on Found.
//
// Grammar implemented
//   v1 (text, spec §2.1), at most 107 bytes including CRLF:
//     "PROXY" SP ( "TCP4" SP ip4 SP ip4 SP port SP port
//                | "TCP6" SP ip6 SP ip6 SP port SP port
//                | "UNKNOWN" *( any byte except CR/LF ) ) CRLF
//     port = 1*5DIGIT (0..65535, no leading zero)
//   v2 (binary, spec §2.2):
//     sig[12] = 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
//     ver_cmd  : high nibble 2 (version), low nibble 0 LOCAL | 1 PROXY
//     fam      : high nibble 0 UNSPEC | 1 INET | 2 INET6 | 3 UNIX,
//                low nibble 0 UNSPEC | 1 STREAM | 2 DGRAM
//     len      : uint16 big endian, bytes that follow (addresses + TLVs)
//     addresses: INET 4+4+2+2 = 12, INET6 16+16+2+2 = 36, UNIX 108+108 = 216
//     TLVs     : skipped (type, length16, value), they are not interpreted.
//   LOCAL (health checks of the balancer itself) and UNSPEC/UNIX/UNKNOWN carry
//   no usable client address: Found with `has_source == false`, and the caller
//   keeps the socket's peer address.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

namespace kedge::proxy {

inline constexpr std::size_t kMaxV1Bytes = 107;  // spec §2.1: worst case "PROXY UNKNOWN ..." line
inline constexpr std::size_t kV2HeaderBytes = 16;
// Largest v2 `len` accepted. The spec allows 65535, but an address block plus
// the TLVs load balancers send (AWS VPC endpoint id, HAProxy SSL/unique-id)
// fit comfortably; a larger header is refused rather than buffered.
inline constexpr std::size_t kMaxV2PayloadBytes = 2048;

enum class Version : std::uint8_t { v1 = 1, v2 = 2 };
enum class Command : std::uint8_t { local, proxy };
enum class Family : std::uint8_t { unknown, tcp4, tcp6 };

struct ProxyHeader {
  Version version = Version::v1;
  Command command = Command::proxy;
  Family family = Family::unknown;
  bool has_source = false;   // true only for PROXY + TCP4/TCP6
  std::string source_ip;     // textual ("192.0.2.1", "2001:db8::1"), empty without an address
  std::uint16_t source_port = 0;
  std::string destination_ip;
  std::uint16_t destination_port = 0;
  // "192.0.2.1:5000" or "[2001:db8::1]:5000"; empty when has_source is false.
  std::string source_address() const;
};

struct NeedMore {};                              // a prefix of a plausible header; read more
struct Found { ProxyHeader header; std::size_t consumed = 0; };  // header is bytes[0, consumed)
struct Absent {};                                // the bytes do not start with a PROXY signature
struct Malformed { std::string_view reason; };   // static string

using ProxyResult = std::variant<NeedMore, Found, Absent, Malformed>;

// `bytes` is everything received on the connection so far (from byte 0).
// Bytes after the header are ignored. The verdict for a prefix never changes
// once it is not NeedMore (the caller acts on the first verdict).
ProxyResult parse_proxy_header(std::span<const std::uint8_t> bytes);

std::string_view to_string(Family family);

}  // namespace kedge::proxy
