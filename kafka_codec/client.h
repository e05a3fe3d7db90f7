#pragma once
// kedge as a Kafka client of its backend: the requests kedge itself sends on
// its own upstream connections (ApiVersions, Metadata here; SASL in sasl.h)
// and the responses it reads, decoded by the one schema engine (engine.h) from
// the tables in schema.cpp. Pure: no I/O, no exceptions; every decoder is
// bounded by the frame it is given.
//
// Request frame (kafka-protocol.md §2; msg/RequestHeader.json):
//   int32 size | api_key int16 | api_version int16 | correlation_id int32
//   | client_id NULLABLE_STRING (never compact) | TAG_BUFFER (header v2 only) | body
// Header v2 iff api_version >= the request's first flexible version
// (schema::request_flexible_from; ApiMessageTypeGenerator.generateHeaderVersion).
// Response frame: int32 size | correlation_id int32 | TAG_BUFFER (header v1,
// flexible versions only) | body. ApiVersions answers with header v0 in every
// version (KIP-511).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/schema.h"

namespace kedge::kafka {

// A broker endpoint as a Metadata response lists it.
struct BrokerEndpoint {
  std::int32_t node_id = -1;
  std::string host;
  std::int32_t port = -1;
};

// Versions of the request bodies encoded here (msg/ApiVersionsRequest.json,
// msg/MetadataRequest.json). ApiVersions v4 has the body of v3. Metadata v13
// has the body of v12 but adds a top-level ErrorCode to the response
// (REBOOTSTRAP_REQUIRED, KIP-1102) after Topics, which the broker-list walk does
// not read; it is left out until a caller reads that error.
inline constexpr schema::Versions kApiVersionsRequestVersions = schema::range(0, 4);
inline constexpr schema::Versions kMetadataRequestVersions = schema::range(0, 12);

// 1 or 2 (request), 0 or 1 (response), as described above.
std::int16_t request_header_version(std::int16_t api_key, std::int16_t api_version);
std::int16_t response_header_version(std::int16_t api_key, std::int16_t api_version);

// A complete request frame: size prefix, header at request_header_version(),
// then `body` (encoded for `api_version`). `client_id` is cut to 32767 bytes
// (NULLABLE_STRING). Frames are small; nothing here bounds `body`.
std::vector<std::uint8_t> encode_request_frame(std::int16_t api_key, std::int16_t api_version,
                                               std::int32_t correlation_id, std::string_view client_id,
                                               std::span<const std::uint8_t> body);

// ApiVersionsRequest body at `version` (in kApiVersionsRequestVersions): empty
// for v0-2; v3+ carries ClientSoftwareName and ClientSoftwareVersion (KIP-511)
// as COMPACT_STRINGs. Brokers answer INVALID_REQUEST when either does not match
// KIP-511's pattern, so pass them through client_software_field().
std::vector<std::uint8_t> encode_api_versions_request(std::int16_t version, std::string_view software_name,
                                                      std::string_view software_version);
// `text` made to match KIP-511's [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?:
// other characters become '-', leading/trailing non-alphanumerics are dropped;
// "unknown" if nothing is left. At most 255 bytes.
std::string client_software_field(std::string_view text);

// MetadataRequest body at `version` (in kMetadataRequestVersions) asking for no
// topics: Topics is an empty array (v1+: "no topics"; null would mean all),
// AllowAutoTopicCreation false (v4+), IncludeClusterAuthorizedOperations (v8-10)
// and IncludeTopicAuthorizedOperations (v8+) false, compact types and a tag
// buffer from v9.
// v0 cannot ask for no topics: an empty array means ALL topics there and null
// is not allowed. kedge still sends the empty array at v0 (it reads only the
// broker list, and the walk stops before Topics), so against a broker that
// offers nothing newer the answer is larger, still bounded by
// limits.max_frame_bytes. Every broker that answers ApiVersions (0.10+) offers
// Metadata v1, so v0 is chosen only for a broker that lists nothing else.
std::vector<std::uint8_t> encode_metadata_request_no_topics(std::int16_t version);
// The same asking for every topic (null Topics from v1; v0's empty array), AllowAutoTopicCreation false.
std::vector<std::uint8_t> encode_metadata_request_all_topics(std::int16_t version);

// The response header of a whole frame (size prefix included, already checked
// to equal frame.size() - 4) to a request (api_key, api_version): the
// correlation id, and where the body begins (after the header's tag buffer in
// header v1). False if the header does not parse.
bool read_response_header(std::span<const std::uint8_t> frame, std::int16_t api_key, std::int16_t api_version,
                          std::int32_t& correlation_id, std::size_t& body_begin);

// The request header of a whole request frame (size prefix included, already
// checked to equal frame.size() - 4): api key, version and correlation id,
// and where the body begins (after client_id, and the header's tag buffer in
// header v2). False if the header does not parse within the frame.
bool read_request_header(std::span<const std::uint8_t> frame, std::int16_t& api_key, std::int16_t& api_version,
                         std::int32_t& correlation_id, std::size_t& body_begin);

// --- ApiVersions response ----------------------------------------------------
struct ApiVersionRange {
  std::int16_t api_key = 0;
  std::int16_t min_version = 0;
  std::int16_t max_version = -1;
};
struct ApiVersionsAnswer {
  std::int16_t error_code = 0;
  std::int16_t layout_version = 0;     // the layout the body was read in
  std::vector<ApiVersionRange> ranges;  // in wire order
};
// The body [body_begin, frame.size()) of an ApiVersions response to a request
// at `version`, read by the schema engine. A broker that does not support
// `version` answers UNSUPPORTED_VERSION (35) in the v0 layout (kafka-protocol.md
// "ApiVersions specifics"), so an error-35 answer, or one that does not parse in
// the asked layout, is read as v0; `ranges` is then the ApiVersions range the
// broker offers, or empty when even v0 does not fit (librdkafka's mock, golden
// api_versions.v3.librdkafka_mock_error35). False only when no layout yields an
// ErrorCode and ApiKeys. `version` above the schema's newest is read as the newest.
bool decode_api_versions_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                  std::int16_t version, ApiVersionsAnswer& out);

// --- Metadata ----------------------------------------------------------------
// The Brokers of a Metadata response body at `version` (any version in the
// schema, 0..13), including NodeId < 0 entries as listed. Only the fields up to
// Brokers are read (engine.h walk_body): Topics are never decoded.
bool read_metadata_brokers(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                           std::vector<BrokerEndpoint>& out);
// The topic names of a whole Metadata response body at `version`, in wire order (null names left out).
bool read_metadata_topic_names(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                               std::vector<std::string>& out);

}  // namespace kedge::kafka
