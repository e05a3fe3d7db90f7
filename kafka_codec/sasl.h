#pragma once
// The Kafka framing of SASL (KIP-43, KIP-152; kafka-protocol.md §5), both ways:
// for kedge's own upstream connections, the request bodies kedge sends and the
// responses it reads (decoded by the schema engine from
// client_response_schemas()); for clients whose authentication kedge
// terminates, the requests it reads (request_schemas()) and the responses it
// answers with. The mechanisms themselves (PLAIN's token, SCRAM's RFC 5802
// messages) are not here: the tokens travel opaque in AuthBytes. Pure: no I/O,
// no OpenSSL, no exceptions. Frame bodies with encode_request_frame (client.h).
//
//   SaslHandshake (17), never flexible:
//     request  Mechanism STRING
//     response ErrorCode INT16, Mechanisms [STRING]     (33 = mechanism not enabled)
//     v0: the SASL tokens that follow are raw size-prefixed packets without Kafka
//     headers; v1 (KIP-152): they travel in SaslAuthenticate. kedge sends v1 only.
//   SaslAuthenticate (36), flexible from v2 (header v2 / v1, compact types, tags):
//     request  AuthBytes BYTES
//     response ErrorCode INT16, ErrorMessage NULLABLE_STRING, AuthBytes BYTES,
//              SessionLifetimeMs INT64 (v1+)             (58 = authentication failed)
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/schema.h"

namespace kedge::kafka {

inline constexpr schema::Versions kSaslHandshakeVersions = schema::range(0, 1);
inline constexpr schema::Versions kSaslAuthenticateVersions = schema::range(0, 2);
// The handshake version kedge sends: tokens in SaslAuthenticate frames.
inline constexpr std::int16_t kSaslHandshakeVersion = 1;

// SaslHandshakeRequest body (same in v0 and v1). `mechanism` is at most 32767 bytes.
std::vector<std::uint8_t> encode_sasl_handshake_request(std::string_view mechanism);
// SaslAuthenticateRequest body at `version` (in kSaslAuthenticateVersions).
std::vector<std::uint8_t> encode_sasl_authenticate_request(std::int16_t version, std::span<const std::uint8_t> auth_bytes);

struct SaslHandshakeAnswer {
  std::int16_t error_code = 0;
  std::vector<std::string> mechanisms;  // as the broker spelled them (not sanitized)
};
// The body [body_begin, frame.size()) of a SaslHandshake response at `version`.
// False if it does not parse.
bool decode_sasl_handshake_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                    std::int16_t version, SaslHandshakeAnswer& out);

struct SaslAuthenticateAnswer {
  std::int16_t error_code = 0;
  std::optional<std::string> error_message;  // nullopt when null
  std::string auth_bytes;                     // the mechanism's server message (binary safe)
  std::int64_t session_lifetime_ms = 0;       // v1+ (KIP-368); 0 = no re-authentication required
};
// The body [body_begin, frame.size()) of a SaslAuthenticate response at
// `version` (the header's tag buffer in v2 already skipped: read_response_header).
// False if it does not parse.
bool decode_sasl_authenticate_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                       std::int16_t version, SaslAuthenticateAnswer& out);

// --- The server side: kedge terminating a client's SASL (issue 17) ------------
// Requests are read by the schema engine from request_schemas(); responses are
// whole frames (size prefix and response header included) for the client.

// The Mechanism of a SaslHandshake request (any version) whose body starts at
// `body_begin` (read_request_header). False if it does not parse.
bool decode_sasl_handshake_request(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                   std::int16_t version, std::string& mechanism);
// The AuthBytes of a SaslAuthenticate request at `version`. False if it does not parse.
bool decode_sasl_authenticate_request(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                      std::int16_t version, std::string& auth_bytes);

// SaslHandshake response (header v0, never flexible): ErrorCode, Mechanisms.
std::vector<std::uint8_t> encode_sasl_handshake_response(std::int32_t correlation_id, std::int16_t error_code,
                                                         std::span<const std::string_view> mechanisms);
// SaslAuthenticate response at `version` (header v1 and compact types from
// v2): ErrorCode, ErrorMessage (nullopt: null), AuthBytes, SessionLifetimeMs (v1+).
std::vector<std::uint8_t> encode_sasl_authenticate_response(std::int32_t correlation_id, std::int16_t version,
                                                            std::int16_t error_code,
                                                            std::optional<std::string_view> error_message,
                                                            std::string_view auth_bytes,
                                                            std::int64_t session_lifetime_ms);
// A KIP-43 token after a SaslHandshake v0: `int32 size | token`, no header.
std::vector<std::uint8_t> encode_unframed_sasl_token(std::string_view token);

}  // namespace kedge::kafka
