#pragma once
// Response layouts kedge walks, as data (style practice 1). One engine
// (engine.h) interprets these tables; adding a version is a table change.
// The tables themselves, and which Kafka release they describe, are in schema.cpp.
#include <cstdint>
#include <span>
#include <string_view>

namespace kedge::kafka::schema {

inline constexpr std::int16_t kMaxVersion = 0x7fff;

// Inclusive version range; empty when hi < lo.
struct Versions {
  std::int16_t lo = 0;
  std::int16_t hi = -1;
  constexpr bool contains(std::int16_t v) const { return v >= lo && v <= hi; }
};
constexpr Versions from(std::int16_t lo) { return {lo, kMaxVersion}; }
constexpr Versions range(std::int16_t lo, std::int16_t hi) { return {lo, hi}; }
inline constexpr Versions kAll = from(0);
inline constexpr Versions kNever = {};

enum class Type : std::uint8_t {
  int8, int16, int32, int64, uint16, boolean, uuid, float64,
  string,   // STRING / COMPACT_STRING (nullable per Field::nullable)
  bytes,    // BYTES / COMPACT_BYTES
  records,  // RECORDS: skipped by length, never decoded
  structure,
};

// First flexible version of a message that is never flexible.
inline constexpr std::int16_t kNeverFlexible = kMaxVersion;

// What the rewriter does with a field. Endpoint roles belong to one struct
// (NodeId, Host, Port of a broker endpoint); ApiVersions roles mark the
// entries of ApiVersionsResponse.ApiKeys that the clamp edits.
enum class Role : std::uint8_t {
  none,
  node_id,        // int32 NodeId/BrokerId of the endpoint struct it is in
  host,           // string Host of that struct: rewritten
  port,           // int32 or uint16 Port of that struct: rewritten
  api_key,        // ApiVersions entry ApiKey
  min_version,    // ApiVersions entry MinVersion
  max_version,    // ApiVersions entry MaxVersion (clamped in place)
  api_key_list,   // the ApiVersions ApiKeys array (entries may be removed)
  value,          // read, never rewritten: a value kedge needs as a client of its own
                  // connections (ApiVersions ErrorCode, SASL AuthBytes); recorded in
                  // WalkResult::values (engine.h)
  element_list,   // an array whose elements kedge may drop or replace (a policy filtering
                  // Metadata topics): its count prefix and each element's byte range are
                  // recorded in WalkResult::lists; never walked by the address rewrite
};

// The names a namespace (kafka_codec/rename.h) prefixes in requests and
// strips from responses. Independent of Role: a topic name a policy reads
// (Role::value) is also renamed.
enum class NameKind : std::uint8_t {
  none,
  topic,
  group,             // a consumer or share group id
  transactional_id,
  coordinator_key,   // FindCoordinator Key / CoordinatorKeys: a group or a transactional id by KeyType
  config_resource,   // a config ResourceName: a topic or a group by the ResourceType just before it
  // A config ResourceName an AlterConfigs / IncrementalAlterConfigs request alters: a topic or a group as
  // config_resource; any other resource (a broker, a broker logger, client metrics) is the shared
  // cluster's, and a namespace refuses the request (RenameResult::Outcome::foreign_resource).
  altered_config_resource,
  // Regular expressions the broker full-matches against backend names (RE2J): confined to the
  // namespace's names by its topic / transactional id prefix (rename.h, confine_regex).
  topic_regex,             // KIP-848 SubscribedTopicRegex
  transactional_id_regex,  // KIP-1152 TransactionalIdPattern
};

struct Field {
  std::string_view name;
  Type type = Type::int32;
  bool array = false;             // ARRAY / COMPACT_ARRAY of `type`
  Versions versions = kAll;       // versions the field exists in
  Versions nullable = kNever;     // versions where null is allowed
  std::int32_t tag = -1;          // >= 0: tagged field (taggedVersions == versions)
  Role role = Role::none;
  std::span<const Field> fields;  // members when type == structure
  NameKind names = NameKind::none;  // a string (or array of strings) a namespace renames

  constexpr Field in(Versions v) const { Field f = *this; f.versions = v; return f; }
  constexpr Field null_in(Versions v) const { Field f = *this; f.nullable = v; return f; }
  constexpr Field tagged(std::int32_t t) const { Field f = *this; f.tag = t; return f; }
  constexpr Field as(Role r) const { Field f = *this; f.role = r; return f; }
  constexpr Field naming(NameKind k) const { Field f = *this; f.names = k; return f; }
  constexpr bool is_tagged() const { return tag >= 0; }
};

constexpr Field scalar(std::string_view name, Type type) { return Field{name, type}; }
constexpr Field array_of(std::string_view name, Type type) { Field f{name, type}; f.array = true; return f; }
constexpr Field array_of(std::string_view name, std::span<const Field> members) {
  Field f{name, Type::structure};
  f.array = true;
  f.fields = members;
  return f;
}
constexpr Field struct_of(std::string_view name, std::span<const Field> members) {
  Field f{name, Type::structure};
  f.fields = members;
  return f;
}

struct MessageSchema {
  std::int16_t api_key;
  std::string_view name;
  Versions valid;              // versions this table describes
  std::int16_t flexible_from;  // first flexible version (compact types + tag buffers)
  std::span<const Field> fields;
  // Response header v0 even in flexible versions (ApiVersions, KIP-511).
  bool header_v0_always = false;
  // Responses from this version on are buffered and walked (response_needs_rewrite);
  // older ones carry nothing kedge changes and stream through unwalked.
  std::int16_t walked_from = 0;
  // Highest version clients may negotiate (the ApiVersions clamp), when it is
  // below valid.hi; max_supported_version() takes valid.hi otherwise.
  std::int16_t client_max = kMaxVersion;

  // Request tables only: the table lists the leading fields a policy reads
  // (a group id, the topics), not the whole request; read with read_leading()
  // (engine.h), never re-encoded or answered from.
  bool leading_fields_only = false;

  constexpr bool flexible(std::int16_t v) const { return v >= flexible_from; }
  constexpr MessageSchema walked_from_version(std::int16_t v) const { MessageSchema m = *this; m.walked_from = v; return m; }
  constexpr MessageSchema clients_up_to(std::int16_t v) const { MessageSchema m = *this; m.client_max = v; return m; }
  constexpr MessageSchema leading_only() const { MessageSchema m = *this; m.leading_fields_only = true; return m; }
};

// Every response layout in the table, and lookup by api key (nullptr if absent).
std::span<const MessageSchema> response_schemas();
const MessageSchema* find_response_schema(std::int16_t api_key);

// Responses kedge reads only as a client of its own upstream connections
// (SaslHandshake, SaslAuthenticate): layouts for read_body() (engine.h). They
// are not in response_schemas(), so the data path never buffers, walks or
// clamps them; a client's SASL passes through as opaque frames.
std::span<const MessageSchema> client_response_schemas();
// The layout of a response to `api_key` read as a client: response_schemas()
// first (ApiVersions, Metadata, ...), then client_response_schemas(); nullptr if absent.
const MessageSchema* find_client_response_schema(std::int16_t api_key);

// Request layouts kedge decodes (the requests it answers itself), and lookup
// by api key (nullptr if absent). Read with read_body after the request header.
std::span<const MessageSchema> request_schemas();
const MessageSchema* find_request_schema(std::int16_t api_key);

// Responses a policy's ACLs change, read whole with read_body: Produce v3-13
// and Fetch v0-17 as split requests' responses are merged (split.h), their
// Responses marked Role::element_list; ListGroups v0-5 as it is filtered
// (topic_filter.h), its Groups an element list; ListTransactions v0-2 as a
// namespace filters it, its TransactionStates an element list. nullptr for
// other APIs.
const MessageSchema* find_policy_response_schema(std::int16_t api_key);

// Layouts a namespace renames (kafka_codec/rename.h), by api key; nullptr if
// the API carries no name in that direction. Requests: the request tables
// above (read whole or up to their last listed field), and whole layouts of
// requests no policy reads (DescribeTransactions, ListTransactions,
// ConsumerGroupDescribe) or a namespace reads past what a policy reads
// (ConsumerGroupHeartbeat). Responses: whole layouts whose name fields are
// marked (NameKind).
const MessageSchema* find_rename_request_schema(std::int16_t api_key);
const MessageSchema* find_rename_response_schema(std::int16_t api_key);

// First flexible request version per api key (kafka-protocol.md §3, 4.3.1 with
// 3.9 for retired keys), or -1 if never flexible / unknown. Request header v2
// iff api_version >= this value.
std::int16_t request_flexible_from(std::int16_t api_key);

}  // namespace kedge::kafka::schema
