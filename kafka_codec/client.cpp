#include "kafka_codec/client.h"

#include <algorithm>

#include "kafka_codec/api.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/errors.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka {
namespace {

// Fields of msg/MetadataRequest.json by version (4.3.1); Topics is nullable from v1.
constexpr schema::Versions kTopicsNullable = schema::from(1);
constexpr schema::Versions kAllowAutoTopicCreation = schema::from(4);
constexpr schema::Versions kIncludeClusterAuthorizedOperations = schema::range(8, 10);
constexpr schema::Versions kIncludeTopicAuthorizedOperations = schema::from(8);
// msg/ApiVersionsRequest.json: ClientSoftwareName / ClientSoftwareVersion from v3.
constexpr schema::Versions kClientSoftware = schema::from(3);
// KIP-511 caps neither field; 255 bytes is ample for a name or version and keeps the frame small.
constexpr std::size_t kMaxClientSoftwareBytes = 255;

bool flexible_request(std::int16_t api_key, std::int16_t api_version) {
  const std::int16_t flexible_from = schema::request_flexible_from(api_key);
  return flexible_from >= 0 && api_version >= flexible_from;
}

bool alphanumeric(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

std::int16_t request_header_version(std::int16_t api_key, std::int16_t api_version) {
  return flexible_request(api_key, api_version) ? 2 : 1;
}

std::int16_t response_header_version(std::int16_t api_key, std::int16_t api_version) {
  if (is(api_key, ApiKey::api_versions)) return 0;  // KIP-511
  return flexible_request(api_key, api_version) ? 1 : 0;
}

std::vector<std::uint8_t> encode_request_frame(std::int16_t api_key, std::int16_t api_version,
                                               std::int32_t correlation_id, std::string_view client_id,
                                               std::span<const std::uint8_t> body) {
  std::vector<std::uint8_t> out;
  out.reserve(4 + 10 + client_id.size() + 1 + body.size());
  wire::put_i32(out, 0);  // size, patched below
  wire::put_i16(out, api_key);
  wire::put_i16(out, api_version);
  wire::put_i32(out, correlation_id);
  wire::put_string(out, client_id.substr(0, 0x7fff), /*compact=*/false);  // never compact, even in header v2
  if (request_header_version(api_key, api_version) == 2) wire::put_uvarint(out, 0);  // no header tags
  out.insert(out.end(), body.begin(), body.end());
  const auto size = static_cast<std::uint32_t>(out.size() - 4);
  for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
  return out;
}

std::string client_software_field(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, kMaxClientSoftwareBytes)) out += alphanumeric(c) || c == '.' || c == '-' ? c : '-';
  const auto first = std::find_if(out.begin(), out.end(), alphanumeric);
  const auto last = std::find_if(out.rbegin(), out.rend(), alphanumeric).base();
  if (first >= last) return "unknown";
  return std::string(first, last);
}

std::vector<std::uint8_t> encode_api_versions_request(std::int16_t version, std::string_view software_name,
                                                      std::string_view software_version) {
  std::vector<std::uint8_t> body;
  if (kClientSoftware.contains(version)) {  // always flexible: compact strings and a tag buffer
    wire::put_string(body, software_name.substr(0, kMaxClientSoftwareBytes), /*compact=*/true);
    wire::put_string(body, software_version.substr(0, kMaxClientSoftwareBytes), /*compact=*/true);
    wire::put_uvarint(body, 0);
  }
  return body;
}

namespace {
std::vector<std::uint8_t> encode_metadata_request(std::int16_t version, bool all_topics) {
  const bool flexible = flexible_request(key_of(ApiKey::metadata), version);
  std::vector<std::uint8_t> body;
  // Topics: the empty array (not null, which asks for all topics from v1; v0 has no null, see client.h),
  // or null for all topics (v1+; v0's empty array already means all).
  static_assert(!kTopicsNullable.contains(0));
  const bool null_topics = all_topics && version >= 1;
  if (flexible) wire::put_uvarint(body, null_topics ? 0 : 1);  // COMPACT_ARRAY: N + 1, 0 = null
  else wire::put_i32(body, null_topics ? -1 : 0);
  if (kAllowAutoTopicCreation.contains(version)) wire::put_i8(body, 0);
  if (kIncludeClusterAuthorizedOperations.contains(version)) wire::put_i8(body, 0);
  if (kIncludeTopicAuthorizedOperations.contains(version)) wire::put_i8(body, 0);
  if (flexible) wire::put_uvarint(body, 0);  // no tagged fields
  return body;
}
}  // namespace

std::vector<std::uint8_t> encode_metadata_request_no_topics(std::int16_t version) {
  return encode_metadata_request(version, false);
}

std::vector<std::uint8_t> encode_metadata_request_all_topics(std::int16_t version) {
  return encode_metadata_request(version, true);
}

bool read_response_header(std::span<const std::uint8_t> frame, std::int16_t api_key, std::int16_t api_version,
                          std::int32_t& correlation_id, std::size_t& body_begin) {
  if (frame.size() < 8) return false;
  correlation_id = wire::get_i32(frame.data() + 4);
  body_begin = 8;
  return response_header_version(api_key, api_version) == 0 || skip_tag_buffer(frame, body_begin, frame.size());
}

bool read_request_header(std::span<const std::uint8_t> frame, std::int16_t& api_key, std::int16_t& api_version,
                         std::int32_t& correlation_id, std::size_t& body_begin) {
  wire::Reader r(frame);
  std::int32_t size = 0;
  std::int16_t client_id_length = 0;
  if (!r.read_i32(size) || !r.read_i16(api_key) || !r.read_i16(api_version) || !r.read_i32(correlation_id) ||
      !r.read_i16(client_id_length) || client_id_length < -1 ||
      (client_id_length > 0 && !r.skip(static_cast<std::size_t>(client_id_length)))) {
    return false;
  }
  body_begin = r.pos();
  return request_header_version(api_key, api_version) < 2 || skip_tag_buffer(frame, body_begin, frame.size());
}

bool decode_api_versions_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                  std::int16_t version, ApiVersionsAnswer& out) {
  const schema::MessageSchema* s = schema::find_response_schema(key_of(ApiKey::api_versions));
  if (s == nullptr || version < 0) return false;
  version = std::min(version, s->valid.hi);
  WalkResult walk;
  const auto error_of = [&walk](std::span<const std::uint8_t> bytes) -> std::int16_t {
    const ValueRef* error = find_value(walk, "ErrorCode");
    return error == nullptr ? code_of(ErrorCode::unknown_server_error) : wire::get_i16(bytes.data() + error->begin);
  };
  const auto fill = [&](std::int16_t layout) {
    out.error_code = error_of(frame);
    out.layout_version = layout;
    out.ranges.clear();
    for (const ApiVersionEntryRef& e : walk.api_entries) out.ranges.push_back({e.api_key, e.min_version, e.max_version});
  };
  const std::int16_t unsupported = code_of(ErrorCode::unsupported_version);
  const bool read_as_asked = walk_body(*s, version, frame, body_begin, frame.size(), walk);
  if (read_as_asked && (version == 0 || error_of(frame) != unsupported)) {
    fill(version);
    return true;
  }
  // UNSUPPORTED_VERSION comes in the v0 layout whatever was asked (KIP-511).
  ApiVersionsAnswer as_asked;
  if (read_as_asked) {
    fill(version);
    as_asked = out;
  }
  if (version > 0 && walk_body(*s, 0, frame, body_begin, frame.size(), walk) && error_of(frame) != 0) {
    fill(0);
    return true;
  }
  if (!read_as_asked) return false;
  out = std::move(as_asked);
  out.ranges.clear();  // an error-35 body in neither layout lists nothing usable
  return true;
}

bool read_metadata_topic_names(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                               std::vector<std::string>& out) {
  const schema::MessageSchema* s = schema::find_response_schema(key_of(ApiKey::metadata));
  WalkResult walk;
  if (s == nullptr || !read_body(*s, version, frame, body_begin, frame.size(), walk)) return false;
  out.clear();
  for (const NameRef& name : walk.names) {
    if (!name.null) out.emplace_back(reinterpret_cast<const char*>(frame.data() + name.text_begin), name.end - name.text_begin);
  }
  return true;
}

bool read_metadata_brokers(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                           std::vector<BrokerEndpoint>& out) {
  const schema::MessageSchema* s = schema::find_response_schema(key_of(ApiKey::metadata));
  WalkResult walk;
  if (s == nullptr || !walk_body(*s, version, frame, body_begin, frame.size(), walk)) return false;
  out.clear();
  for (const EndpointRef& e : walk.endpoints) out.push_back({e.node_id, std::string(e.host), e.port});
  return true;
}

}  // namespace kedge::kafka
