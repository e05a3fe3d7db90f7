#pragma once
// Pure TLS ClientHello inspector: finds the SNI host name without consuming
// or modifying the bytes (the caller keeps them and hands them to OpenSSL).
//
// Grammar implemented (RFC 8446 §5.1 records, §4.1.2 ClientHello; RFC 6066 §3
// server_name extension; RFC 7301 §3.1 application_layer_protocol_negotiation
// extension). The handshake message may be fragmented over several
// TLSPlaintext records and those may arrive over several reads; the parser
// reassembles handshake bytes across records. No I/O, no allocation beyond the
// returned name and protocol names.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kedge::sni {

// Envoy's tls_inspector uses the same cap: a ClientHello (all records that
// carry it) larger than this is treated as malformed.
inline constexpr std::size_t kMaxClientHelloBytes = 64 * 1024;

// At most this many ALPN protocol names are accepted in one ClientHello; a
// longer list is Malformed rather than cut short, so the protocols kedge sees
// are always the ones OpenSSL's ALPN callback will see. Browsers offer 2 or 3.
inline constexpr std::size_t kMaxAlpnProtocols = 64;

struct NeedMore {};           // a prefix of a plausible ClientHello; read more
struct Found {
  std::string name;  // lower-cased, trailing dot removed
  // The ALPN protocol names the client offers (RFC 7301 §3.1), byte for byte
  // and in the client's order of preference; empty when the hello carries no
  // ALPN extension (Kafka clients send none). Each is 1..255 bytes of opaque
  // data (not necessarily printable), at most kMaxAlpnProtocols of them.
  std::vector<std::string> alpn;
};
struct NoSni {};              // complete ClientHello without server_name host_name
struct NotTls {};             // first bytes are not a TLS handshake record
struct Malformed { std::string_view reason; };  // static string

using HelloResult = std::variant<NeedMore, Found, NoSni, NotTls, Malformed>;

// `bytes` is everything received on the connection so far (from byte 0).
// Bytes beyond the ClientHello are ignored. `max_bytes` bounds how much of the
// stream the hello may occupy; reaching it without a verdict yields Malformed.
HelloResult parse_client_hello(std::span<const std::uint8_t> bytes,
                               std::size_t max_bytes = kMaxClientHelloBytes);

// Whether the client offered ALPN protocol `protocol` (e.g. "http/1.1"),
// compared byte for byte as RFC 7301 §3.1 says; never true for an empty name.
bool offers_protocol(const Found& hello, std::string_view protocol);

}  // namespace kedge::sni
