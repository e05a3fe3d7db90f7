// Refusal responses (refusal.h). Each response layout below follows
// msg/<Name>Response.json of Kafka 4.3.1 over the versions in
// refusable_versions(); a field's default is the spec's `default` (-1 for
// offsets, epochs and counts) so a client reads a refused entry exactly as it
// reads one a broker's authorizer refused. tests/unit/codec/test_refusal.cpp
// decodes every version of every answer with an independent table
// (and tshark where it knows the API).
#include "kafka_codec/refusal.h"

#include "kafka_codec/refusal_writer.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/errors.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka {
namespace {

using namespace refusal;

// The refusable APIs, in key order.
constexpr std::array<std::int16_t, 11> kRefusable = {
    key_of(ApiKey::produce),          key_of(ApiKey::find_coordinator), key_of(ApiKey::create_topics),
    key_of(ApiKey::delete_topics),
    key_of(ApiKey::delete_records),   key_of(ApiKey::init_producer_id), key_of(ApiKey::alter_configs),
    key_of(ApiKey::create_partitions), key_of(ApiKey::delete_groups), key_of(ApiKey::incremental_alter_configs),
    key_of(ApiKey::offset_delete),
};

// ProduceResponse v3-13 (flexible 9+; TopicId instead of Name from v13).
void produce(BodyWriter& w, const Values& values, const Answer& answer) {
  write_topic_partitions(w, values, w.version() >= 13 ? "TopicId" : "Name", "Index",
                         [&] { write_refused_produce_partition_fields(w, answer.message, answer.topic_error()); });
  w.i32(0);  // ThrottleTimeMs
  w.tags();
}

// CreateTopicsResponse v2-7 (flexible 5+).
void create_topics(BodyWriter& w, const Values& values, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  w.count(values.all().size());
  for (const ValueRef& name : values.all()) {
    w.string(values.text(name));
    if (w.version() >= 7) w.raw(std::string_view("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16));  // TopicId: zero
    w.error(answer.topic_error());
    w.nullable_string(answer.message);  // ErrorMessage (v1+)
    if (w.version() >= 5) {
      w.i32(-1);      // NumPartitions
      w.i16(-1);      // ReplicationFactor
      w.null_array(); // Configs
    }
    w.tags();
  }
  w.tags();
}

// DeleteTopicsResponse v1-6 (flexible 4+; v6 answers by name and id).
void delete_topics(BodyWriter& w, const Values& values, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  if (w.version() >= 6) {
    // Values come in (Name, TopicId) pairs, one per requested topic.
    const auto all = values.all();
    w.count(all.size() / 2);
    for (std::size_t i = 0; i + 1 < all.size(); i += 2) {
      w.nullable_string(all[i].null ? std::nullopt : std::optional<std::string_view>(values.text(all[i])));
      w.raw(values.text(all[i + 1]));
      w.error(answer.topic_error());
      w.nullable_string(answer.message);
      w.tags();
    }
  } else {
    w.count(values.all().size());
    for (const ValueRef& name : values.all()) {
      w.string(values.text(name));
      w.error(answer.topic_error());
      if (w.version() >= 5) w.nullable_string(answer.message);
      w.tags();
    }
  }
  w.tags();
}

// DeleteRecordsResponse v0-2 (flexible 2+).
void delete_records(BodyWriter& w, const Values& values, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  write_topic_partitions(w, values, "Name", "PartitionIndex", [&] {
    w.i64(-1);  // LowWatermark
    w.error(answer.topic_error());
  });
  w.tags();
}

// InitProducerIdResponse v0-5 (flexible 2+): a transactional producer is
// refused on its transactional id, an idempotent one on the cluster
// (IdempotentWrite), as Kafka's authorizer does.
void init_producer_id(BodyWriter& w, const Values& values, const Answer&) {
  const bool transactional = !values.all().empty() && !values.all().front().null;
  w.i32(0);  // ThrottleTimeMs
  w.error(transactional ? ErrorCode::transactional_id_authorization_failed : ErrorCode::cluster_authorization_failed);
  w.i64(-1);  // ProducerId
  w.i16(-1);  // ProducerEpoch
  w.tags();
}

// AlterConfigsResponse v0-2 (flexible 2+) and IncrementalAlterConfigsResponse
// v0-1 (flexible 1+): the same layout. Values come in (type, name) pairs.
void alter_configs(BodyWriter& w, const Values& values, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  write_config_resources(w, values, answer.message, [] {});
  w.tags();
}

// CreatePartitionsResponse v0-3 (flexible 2+).
void create_partitions(BodyWriter& w, const Values& values, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  w.count(values.all().size());
  for (const ValueRef& name : values.all()) {
    w.string(values.text(name));
    w.error(answer.topic_error());
    w.nullable_string(answer.message);
    w.tags();
  }
  w.tags();
}

// DeleteGroupsResponse v0-2 (flexible 2+).
void delete_groups(BodyWriter& w, const Values& values, const Answer&) {
  w.i32(0);  // ThrottleTimeMs
  w.count(values.all().size());
  for (const ValueRef& group : values.all()) {
    w.string(values.text(group));
    w.error(ErrorCode::group_authorization_failed);
    w.tags();
  }
  w.tags();
}

// OffsetDeleteResponse v0 (never flexible): the group is refused as a whole
// (top-level ErrorCode), as Kafka does when the group is not authorized; the
// topics it named are listed with the same error.
void offset_delete(BodyWriter& w, const Values& values, const Answer&) {
  w.error(ErrorCode::group_authorization_failed);
  w.i32(0);  // ThrottleTimeMs (never flexible: no tag buffers)
  write_topic_partitions(w, values, "Name", "PartitionIndex", [&] { w.error(ErrorCode::group_authorization_failed); });
}

// FindCoordinatorResponse v0-6 (flexible 3+; v4+ batches keys, KIP-699):
// each key refused with the error of its type (a group, or a transactional
// id: KeyType 1) and no coordinator (node -1, host "", port -1), as Kafka
// answers an unauthorized key.
void find_coordinator(BodyWriter& w, const Values& values, const Answer& answer) {
  const ValueRef* key_type = nullptr;
  std::vector<const ValueRef*> keys;
  for (const ValueRef& v : values.all()) {
    if (v.name == "KeyType") key_type = &v;
    else keys.push_back(&v);
  }
  // KeyType 1: a transactional id; 2: a share-group key (KIP-932), which Kafka authorizes as ClusterAction.
  const std::int8_t type = key_type != nullptr ? values.i8(*key_type) : 0;
  const ErrorCode error = type == 1   ? ErrorCode::transactional_id_authorization_failed
                          : type == 2 ? ErrorCode::cluster_authorization_failed
                                      : ErrorCode::group_authorization_failed;
  if (w.version() >= 1) w.i32(0);  // ThrottleTimeMs
  if (w.version() <= 3) {
    w.error(error);
    if (w.version() >= 1) w.nullable_string(answer.message);
    w.i32(-1);     // NodeId
    w.string("");  // Host
    w.i32(-1);     // Port
  } else {
    w.count(keys.size());
    for (const ValueRef* key : keys) {
      w.string(values.text(*key));
      w.i32(-1);     // NodeId
      w.string("");  // Host
      w.i32(-1);     // Port
      w.error(error);
      w.nullable_string(answer.message);
      w.tags();
    }
  }
  w.tags();
}

// The API-level refusals (kRefusable): a policy that refuses one of these
// APIs whole answers it in every version of its request table.
Writer api_writer_for(std::int16_t api_key) {
  switch (static_cast<ApiKey>(api_key)) {
    case ApiKey::produce: return produce;
    case ApiKey::find_coordinator: return find_coordinator;
    case ApiKey::create_topics: return create_topics;
    case ApiKey::delete_topics: return delete_topics;
    case ApiKey::delete_records: return delete_records;
    case ApiKey::init_producer_id: return init_producer_id;
    case ApiKey::alter_configs:
    case ApiKey::incremental_alter_configs: return alter_configs;
    case ApiKey::create_partitions: return create_partitions;
    case ApiKey::delete_groups: return delete_groups;
    case ApiKey::offset_delete: return offset_delete;
    default: return nullptr;
  }
}

}  // namespace

Writer refusal::writer_for(std::int16_t api_key) {
  if (const Writer w = api_writer_for(api_key)) return w;
  return acl_writer_for(api_key);
}

namespace {

// First flexible version of each refusable API's response (= its request's).
bool response_flexible(std::int16_t api_key, std::int16_t version) {
  const std::int16_t from = schema::request_flexible_from(api_key);
  return from >= 0 && version >= from;
}

// A request read by its table in request_schemas(): header and body walk.
struct ReadRequest {
  std::int16_t api_key = 0;
  std::int16_t version = 0;
  std::int32_t correlation_id = 0;
  WalkResult walk;
};
// False if the header does not parse, kedge has no table for the api at that
// version, or the body does not parse by it.
bool read_request(std::span<const std::uint8_t> frame, ReadRequest& out) {
  std::size_t body_begin = 0;
  if (!read_request_header(frame, out.api_key, out.version, out.correlation_id, body_begin)) return false;
  const schema::MessageSchema* request = schema::find_request_schema(out.api_key);
  if (request == nullptr || !request->valid.contains(out.version)) return false;
  return request->leading_fields_only ? read_leading(*request, out.version, frame, body_begin, frame.size(), out.walk)
                                      : read_body(*request, out.version, frame, body_begin, frame.size(), out.walk);
}

}  // namespace

schema::Versions refusable_versions(std::int16_t api_key) {
  if (api_writer_for(api_key) == nullptr) return schema::kNever;  // every refusable table is whole
  const schema::MessageSchema* request = schema::find_request_schema(api_key);
  return request != nullptr ? request->valid : schema::kNever;
}

std::span<const std::int16_t> refusable_apis() { return kRefusable; }

schema::Versions acl_answerable_versions(std::int16_t api_key) {
  if (writer_for(api_key) == nullptr) return schema::kNever;
  const schema::MessageSchema* request = schema::find_request_schema(api_key);
  return request != nullptr ? request->valid : schema::kNever;
}

Errc encode_refusal(std::span<const std::uint8_t> frame, std::string_view message, std::uint32_t max_frame_size,
                    std::vector<std::uint8_t>& out, RefusedResource refused) {
  ReadRequest request;
  if (!read_request(frame, request)) return Errc::malformed_request;
  const Writer write = writer_for(request.api_key);
  if (write == nullptr) return Errc::malformed_request;
  const bool flexible = response_flexible(request.api_key, request.version);
  BodyWriter body(request.version, flexible);
  write(body, Values(frame, request.walk), Answer{message, refused});
  const std::size_t header = 4 + (flexible ? 1 : 0);  // correlation id, header v1 tag buffer
  if (header + body.out().size() > max_frame_size) return Errc::frame_too_large;
  wire::put_i32(out, static_cast<std::int32_t>(header + body.out().size()));
  wire::put_i32(out, request.correlation_id);
  if (flexible) wire::put_uvarint(out, 0);
  out.insert(out.end(), body.out().begin(), body.out().end());
  return Errc::ok;
}

namespace {

std::string_view config_resource_type(std::int8_t type) {
  switch (type) {
    case kTopicResource: return "topic";
    case kGroupResource: return "group";
    case 4: return "broker";
    case 8: return "broker_logger";
    case 16: return "client_metrics";
    default: return "config_resource";
  }
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    out.push_back(kDigits[(static_cast<unsigned char>(c) >> 4) & 0xf]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 0xf]);
  }
  return out;
}

}  // namespace

std::vector<RequestResource> request_resources(std::span<const std::uint8_t> frame) {
  std::optional<std::vector<RequestResource>> resources = read_request_resources(frame);
  return resources ? std::move(*resources) : std::vector<RequestResource>{};
}

namespace {
// A nullable STRING (int16 length, -1 null) or COMPACT_STRING (uvarint length
// + 1, 0 null) at the reader's position, as a view into its frame; false if
// it does not fit (yet) or its length is malformed.
bool read_nullable_string(wire::Reader& r, std::span<const std::uint8_t> frame, bool compact,
                          std::optional<std::string_view>& out) {
  std::int64_t length = 0;
  if (compact) {
    std::uint32_t n = 0;
    if (!r.read_uvarint(n)) return false;
    length = static_cast<std::int64_t>(n) - 1;
  } else {
    std::int16_t n = 0;
    if (!r.read_i16(n)) return false;
    length = n;
  }
  if (length < -1) return false;
  if (length == -1) {
    out.reset();
    return true;
  }
  const std::size_t begin = r.pos();
  if (!r.skip(static_cast<std::size_t>(length))) return false;
  out = std::string_view(reinterpret_cast<const char*>(frame.data() + begin), static_cast<std::size_t>(length));
  return true;
}

// `r` at the body of a Produce v3..max_version request in `prefix`, and
// whether its strings are compact; false for anything else or a header that
// does not parse.
bool open_produce_body(std::span<const std::uint8_t> prefix, std::int16_t max_version, wire::Reader& r, bool& compact) {
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  if (!read_request_header(prefix, api_key, version, correlation_id, body) || !is(api_key, ApiKey::produce) ||
      version < 3 || version > max_version) {
    return false;
  }
  compact = version >= schema::request_flexible_from(api_key);
  r = wire::Reader(prefix, body, prefix.size());
  return true;
}
}  // namespace

std::optional<ProducePrefix> read_produce_prefix(std::span<const std::uint8_t> prefix) {
  wire::Reader r(prefix);
  bool compact = false;
  if (!open_produce_body(prefix, 12, r, compact)) return std::nullopt;
  const auto read_string = [&](std::optional<std::string_view>& out) {
    return read_nullable_string(r, prefix, compact, out);
  };
  ProducePrefix out;
  std::int16_t acks = 0;
  std::int32_t timeout = 0;
  if (!read_string(out.transactional_id) || !r.read_i16(acks) || !r.read_i32(timeout)) return std::nullopt;
  std::int64_t topics = 0;
  if (compact) {
    std::uint32_t n = 0;
    if (!r.read_uvarint(n)) return std::nullopt;
    topics = static_cast<std::int64_t>(n) - 1;
  } else {
    std::int32_t n = 0;
    if (!r.read_i32(n)) return std::nullopt;
    topics = n;
  }
  std::optional<std::string_view> topic;
  if (topics != 1 || !read_string(topic) || !topic) return std::nullopt;
  out.topic = *topic;
  return out;
}

std::optional<ProduceTransaction> read_produce_transactional_id(std::span<const std::uint8_t> prefix) {
  wire::Reader r(prefix);
  bool compact = false;
  ProduceTransaction out;
  if (!open_produce_body(prefix, 13, r, compact) || !read_nullable_string(r, prefix, compact, out.id)) return std::nullopt;
  return out;
}

bool metadata_requests_all_topics(std::span<const std::uint8_t> frame) {
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  if (!read_request_header(frame, api_key, version, correlation_id, body) || !is(api_key, ApiKey::metadata)) {
    return false;
  }
  wire::Reader r(frame, body, frame.size());
  if (version >= 9) {  // COMPACT_ARRAY: 0 is null
    std::uint32_t count = 0;
    return r.read_uvarint(count) && count == 0;
  }
  std::int32_t count = 0;
  if (!r.read_i32(count)) return false;
  return (count == -1 && version >= 1) || (version == 0 && count == 0);
}

TopicsAsked metadata_topics_asked(std::span<const std::uint8_t> frame) {
  if (metadata_requests_all_topics(frame)) return TopicsAsked::all;
  ReadRequest request;
  if (!read_request(frame, request) || !is(request.api_key, ApiKey::metadata) || request.version < 12) {
    return TopicsAsked::by_name;
  }
  for (const ValueRef& v : request.walk.values) {
    if (v.name == "Name" && v.null) return TopicsAsked::by_id;
  }
  return TopicsAsked::by_name;
}

std::optional<std::vector<RequestResource>> read_request_resources(std::span<const std::uint8_t> frame) {
  std::vector<RequestResource> resources;
  // Called per request on a cluster with ACLs: the walk's buffers are reused
  // (one reader per loop thread), and a few resources are deduplicated by a
  // scan rather than a hash set.
  thread_local ReadRequest request;
  if (!read_request(frame, request)) return std::nullopt;
  const Values values(frame, request.walk);
  constexpr std::size_t kScanUpTo = 16;
  std::unordered_set<std::string> seen;  // type '\0' name, once there are more: linear in the request
  const auto add = [&](std::string_view type, std::string name) {
    if (resources.size() < kScanUpTo) {
      for (const RequestResource& r : resources) {
        if (r.type == type && r.name == name) return;
      }
      resources.push_back({type, std::move(name)});
      if (resources.size() == kScanUpTo) {
        for (const RequestResource& r : resources) seen.insert(std::string(r.type) + '\0' + r.name);
      }
      return;
    }
    std::string key(type);
    key.push_back('\0');
    key += name;
    if (seen.insert(std::move(key)).second) resources.push_back({type, std::move(name)});
  };
  const auto all = values.all();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const ValueRef& v = all[i];
    if (v.null) continue;
    const std::string_view name = v.name;
    if (name == "Name" || name == "TopicNames" || name == "Topic" || name == "SubscribedTopicNames") {
      add("topic", std::string(values.text(v)));
    } else if (name == "TopicId") {
      // DeleteTopics v6 names a topic by name or by id: the id only when the name is null.
      const bool named = i > 0 && all[i - 1].name == "Name" && !all[i - 1].null;
      const std::string id = hex(values.text(v));
      if (!named && id != std::string(32, '0')) add("topic_id", id);
    } else if (name == "GroupsNames" || name == "GroupId" || name == "Groups") {
      add("group", std::string(values.text(v)));
    } else if (name == "Key" || name == "CoordinatorKeys") {
      // FindCoordinator: KeyType 0 group, 1 transactional id, 2 share group
      // ("group:topicId:partition", KIP-932); v0 has no KeyType (a group).
      const ValueRef* key_type = find_value(request.walk, "KeyType");
      const std::int8_t type = key_type != nullptr ? values.i8(*key_type) : 0;
      add(type == 0 ? "group" : type == 1 ? "transactional_id" : "share_group_key", std::string(values.text(v)));
    } else if (name == "TransactionalId" || name == "V3AndBelowTransactionalId") {
      add("transactional_id", std::string(values.text(v)));
    } else if (name == "ResourceName" && i > 0 && all[i - 1].name == "ResourceType") {
      add(config_resource_type(values.i8(all[i - 1])), std::string(values.text(v)));
    }
  }
  return resources;
}

TopicsAsked offset_fetch_topics_asked(std::span<const std::uint8_t> frame) {
  ReadRequest request;
  if (!read_request(frame, request) || !is(request.api_key, ApiKey::offset_fetch)) return TopicsAsked::all;
  // A null Topics (v2-7 at the top level, v8+ in a group) is a null "Topics" value; an empty one names no topic.
  bool names = false;
  for (const ValueRef& v : request.walk.values) {
    if (v.name == "Topics" && v.null) return TopicsAsked::all;
    names = names || v.name == "Name";
  }
  return names ? TopicsAsked::by_name : TopicsAsked::all;
}

bool turn_off_auto_topic_creation(std::span<std::uint8_t> frame) {
  ReadRequest request;
  if (!read_request(frame, request) || !is(request.api_key, ApiKey::metadata)) return false;
  const ValueRef* allow = find_value(request.walk, "AllowAutoTopicCreation");
  if (allow == nullptr || frame[allow->begin] == 0) return false;
  frame[allow->begin] = 0;
  return true;
}

}  // namespace kedge::kafka
