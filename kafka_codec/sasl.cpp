#include "kafka_codec/sasl.h"

#include "kafka_codec/api.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka {
namespace {

// msg/SaslAuthenticateRequest.json: flexible from v2.
bool authenticate_flexible(std::int16_t version) {
  return version >= schema::request_flexible_from(key_of(ApiKey::sasl_authenticate));
}

std::string text_of(std::span<const std::uint8_t> frame, const ValueRef& v) {
  return std::string(reinterpret_cast<const char*>(frame.data() + v.begin), v.end - v.begin);
}

// Walks a whole response body with its client schema; nullptr-safe lookups follow.
bool read(ApiKey api, std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
          WalkResult& walk) {
  const schema::MessageSchema* s = schema::find_client_response_schema(key_of(api));
  return s != nullptr && read_body(*s, version, frame, body_begin, frame.size(), walk);
}

}  // namespace

std::vector<std::uint8_t> encode_sasl_handshake_request(std::string_view mechanism) {
  std::vector<std::uint8_t> body;
  wire::put_string(body, mechanism.substr(0, 0x7fff), /*compact=*/false);  // never flexible
  return body;
}

std::vector<std::uint8_t> encode_sasl_authenticate_request(std::int16_t version,
                                                           std::span<const std::uint8_t> auth_bytes) {
  std::vector<std::uint8_t> body;
  const bool flexible = authenticate_flexible(version);
  if (flexible) wire::put_uvarint(body, static_cast<std::uint32_t>(auth_bytes.size()) + 1);  // COMPACT_BYTES
  else wire::put_i32(body, static_cast<std::int32_t>(auth_bytes.size()));                   // BYTES
  body.insert(body.end(), auth_bytes.begin(), auth_bytes.end());
  if (flexible) wire::put_uvarint(body, 0);  // no tagged fields
  return body;
}

bool decode_sasl_handshake_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                    std::int16_t version, SaslHandshakeAnswer& out) {
  WalkResult walk;
  if (!read(ApiKey::sasl_handshake, frame, body_begin, version, walk)) return false;
  out = {};
  for (const ValueRef& v : walk.values) {
    if (v.name == "ErrorCode") out.error_code = wire::get_i16(frame.data() + v.begin);
    else if (v.name == "Mechanisms") out.mechanisms.push_back(text_of(frame, v));
  }
  return true;
}

bool decode_sasl_authenticate_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                       std::int16_t version, SaslAuthenticateAnswer& out) {
  WalkResult walk;
  if (!read(ApiKey::sasl_authenticate, frame, body_begin, version, walk)) return false;
  out = {};
  for (const ValueRef& v : walk.values) {
    if (v.name == "ErrorCode") {
      out.error_code = wire::get_i16(frame.data() + v.begin);
    } else if (v.name == "ErrorMessage") {
      if (!v.null) out.error_message = text_of(frame, v);
    } else if (v.name == "AuthBytes") {
      out.auth_bytes = text_of(frame, v);
    } else if (v.name == "SessionLifetimeMs") {
      wire::Reader r(frame, v.begin, v.end);
      r.read_i64(out.session_lifetime_ms);
    }
  }
  return true;
}

namespace {

bool read_request(ApiKey api, std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                  WalkResult& walk) {
  const schema::MessageSchema* s = schema::find_request_schema(key_of(api));
  return s != nullptr && read_body(*s, version, frame, body_begin, frame.size(), walk);
}

// The response frame around `body`: size, correlation id, the header's tag buffer in header v1.
std::vector<std::uint8_t> response_frame(std::int32_t correlation_id, bool header_v1, const std::vector<std::uint8_t>& body) {
  std::vector<std::uint8_t> frame;
  frame.reserve(4 + 4 + 1 + body.size());
  wire::put_i32(frame, static_cast<std::int32_t>(4 + (header_v1 ? 1 : 0) + body.size()));
  wire::put_i32(frame, correlation_id);
  if (header_v1) wire::put_uvarint(frame, 0);
  frame.insert(frame.end(), body.begin(), body.end());
  return frame;
}

}  // namespace

bool decode_sasl_handshake_request(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                   std::int16_t version, std::string& mechanism) {
  WalkResult walk;
  if (!read_request(ApiKey::sasl_handshake, frame, body_begin, version, walk)) return false;
  const ValueRef* value = find_value(walk, "Mechanism");
  if (value == nullptr || value->null) return false;
  mechanism = text_of(frame, *value);
  return true;
}

bool decode_sasl_authenticate_request(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                      std::int16_t version, std::string& auth_bytes) {
  WalkResult walk;
  if (!read_request(ApiKey::sasl_authenticate, frame, body_begin, version, walk)) return false;
  const ValueRef* value = find_value(walk, "AuthBytes");
  if (value == nullptr || value->null) return false;
  auth_bytes = text_of(frame, *value);
  return true;
}

std::vector<std::uint8_t> encode_sasl_handshake_response(std::int32_t correlation_id, std::int16_t error_code,
                                                         std::span<const std::string_view> mechanisms) {
  std::vector<std::uint8_t> body;
  wire::put_i16(body, error_code);
  wire::put_i32(body, static_cast<std::int32_t>(mechanisms.size()));
  for (const std::string_view mechanism : mechanisms) wire::put_string(body, mechanism.substr(0, 0x7fff), false);
  return response_frame(correlation_id, /*header_v1=*/false, body);  // never flexible
}

std::vector<std::uint8_t> encode_unframed_sasl_token(std::string_view token) {
  std::vector<std::uint8_t> out;
  out.reserve(4 + token.size());
  wire::put_i32(out, static_cast<std::int32_t>(token.size()));
  out.insert(out.end(), token.begin(), token.end());
  return out;
}

std::vector<std::uint8_t> encode_sasl_authenticate_response(std::int32_t correlation_id, std::int16_t version,
                                                            std::int16_t error_code,
                                                            std::optional<std::string_view> error_message,
                                                            std::string_view auth_bytes,
                                                            std::int64_t session_lifetime_ms) {
  const bool flexible = authenticate_flexible(version);
  std::vector<std::uint8_t> body;
  wire::put_i16(body, error_code);
  if (!error_message) {
    if (flexible) wire::put_uvarint(body, 0);  // COMPACT_NULLABLE_STRING null
    else wire::put_i16(body, -1);              // NULLABLE_STRING null
  } else {
    wire::put_string(body, error_message->substr(0, 0x7fff), flexible);
  }
  if (flexible) wire::put_uvarint(body, static_cast<std::uint32_t>(auth_bytes.size()) + 1);  // COMPACT_BYTES
  else wire::put_i32(body, static_cast<std::int32_t>(auth_bytes.size()));                   // BYTES
  body.insert(body.end(), auth_bytes.begin(), auth_bytes.end());
  if (version >= 1) wire::put_i64(body, session_lifetime_ms);
  if (flexible) wire::put_uvarint(body, 0);  // no tagged fields
  return response_frame(correlation_id, /*header_v1=*/flexible, body);
}

}  // namespace kedge::kafka
