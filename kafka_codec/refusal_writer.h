#pragma once
// Internal to kafka_codec: the pieces every refusal writer shares (refusal.cpp,
// refusal_acl.cpp, split.cpp). A writer encodes one response body in the
// layout of the request's version; the request's Role::value fields (schema.cpp
// request tables) are what it names.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "kafka_codec/engine.h"
#include "kafka_codec/errors.h"
#include "kafka_codec/refusal.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka::refusal {

using schema::Type;

// ConfigResource.Type (KIP-133): 2 topic, 4 broker, 8 broker logger, 16 client metrics, 32 group.
inline constexpr std::int8_t kTopicResource = 2;
inline constexpr std::int8_t kGroupResource = 32;

// Writes one response body; every put_* follows the version's layout.
class BodyWriter {
 public:
  BodyWriter(std::int16_t version, bool flexible) : version_(version), flexible_(flexible) {}
  std::vector<std::uint8_t>& out() { return out_; }
  bool flexible() const { return flexible_; }
  std::int16_t version() const { return version_; }

  void count(std::size_t n) {
    if (flexible_) wire::put_uvarint(out_, static_cast<std::uint32_t>(n + 1));
    else wire::put_i32(out_, static_cast<std::int32_t>(n));
  }
  void null_array() {
    if (flexible_) wire::put_uvarint(out_, 0);
    else wire::put_i32(out_, -1);
  }
  void string(std::string_view s) { wire::put_string(out_, s.substr(0, 0x7fff), flexible_); }
  void nullable_string(std::optional<std::string_view> s) {
    if (s) return string(*s);
    if (flexible_) wire::put_uvarint(out_, 0);
    else wire::put_i16(out_, -1);
  }
  void raw(std::string_view bytes) { wire::put_bytes(out_, bytes); }  // a UUID as read
  void i8(std::int8_t v) { wire::put_i8(out_, v); }
  void i16(std::int16_t v) { wire::put_i16(out_, v); }
  void i32(std::int32_t v) { wire::put_i32(out_, v); }
  void i64(std::int64_t v) { wire::put_i64(out_, v); }
  void error(ErrorCode e) { wire::put_i16(out_, code_of(e)); }
  void tags() {  // an empty tag buffer in flexible versions
    if (flexible_) wire::put_uvarint(out_, 0);
  }

 private:
  std::int16_t version_;
  bool flexible_;
  std::vector<std::uint8_t> out_;
};

// The Role::value fields of a request in wire order (or of one element of
// it: split.h answers a refused topic element from its values alone), read
// back by name.
class Values {
 public:
  Values(std::span<const std::uint8_t> frame, const WalkResult& walk) : frame_(frame), values_(walk.values) {}
  Values(std::span<const std::uint8_t> frame, std::span<const ValueRef> values) : frame_(frame), values_(values) {}
  std::span<const ValueRef> all() const { return values_; }
  std::string_view text(const ValueRef& v) const {
    return {reinterpret_cast<const char*>(frame_.data() + v.begin), v.end - v.begin};
  }
  std::int32_t i32(const ValueRef& v) const { return wire::get_i32(frame_.data() + v.begin); }
  std::int16_t i16(const ValueRef& v) const { return wire::get_i16(frame_.data() + v.begin); }
  std::int8_t i8(const ValueRef& v) const { return static_cast<std::int8_t>(frame_[v.begin]); }

 private:
  std::span<const std::uint8_t> frame_;
  std::span<const ValueRef> values_;
};

// A topic (by name or id) and the partitions the request named under it.
struct TopicEntry {
  const ValueRef* topic = nullptr;
  std::vector<std::int32_t> partitions;
};
// Groups the flat value list into topics: a `topic_field` value opens an
// entry, each `partition_field` value after it belongs to that entry.
inline std::vector<TopicEntry> topics_of(const Values& values, std::string_view topic_field,
                                  std::string_view partition_field) {
  std::vector<TopicEntry> topics;
  for (const ValueRef& v : values.all()) {
    if (v.name == topic_field) topics.push_back({&v, {}});
    else if (v.name == partition_field && !topics.empty()) topics.back().partitions.push_back(values.i32(v));
  }
  return topics;
}

inline void write_topic(BodyWriter& w, const Values& values, const ValueRef& topic) {
  if (topic.type == Type::uuid) w.raw(values.text(topic));
  else w.string(values.text(topic));
}

// The topic -> partitions array every per-partition answer mirrors: each
// topic as the request named it (name or id), each partition index, with
// `partition_fields(p)` writing the rest of a partition entry.
template <class PartitionFields>
void write_topics(BodyWriter& w, const Values& values, const std::vector<TopicEntry>& topics,
                  PartitionFields partition_fields) {
  w.count(topics.size());
  for (const TopicEntry& t : topics) {
    write_topic(w, values, *t.topic);
    w.count(t.partitions.size());
    for (const std::int32_t p : t.partitions) {
      w.i32(p);
      partition_fields();
      w.tags();
    }
    w.tags();
  }
}
template <class PartitionFields>
void write_topic_partitions(BodyWriter& w, const Values& values, std::string_view topic_field,
                            std::string_view partition_field, PartitionFields partition_fields) {
  write_topics(w, values, topics_of(values, topic_field, partition_field), partition_fields);
}

// A refused partition of a ProduceResponse v3-13 after its Index (Kafka's
// PartitionResponse(error, errorMessage)): `error` (TOPIC_AUTHORIZATION_FAILED,
// or UNKNOWN_TOPIC_ID for an id kedge cannot name), no offsets, `message` as
// ErrorMessage (v8+).
inline void write_refused_produce_partition_fields(BodyWriter& w, std::string_view message,
                                                   ErrorCode error = ErrorCode::topic_authorization_failed) {
  w.error(error);
  w.i64(-1);                          // BaseOffset
  w.i64(-1);                          // LogAppendTimeMs (v2+)
  if (w.version() >= 5) w.i64(-1);    // LogStartOffset
  if (w.version() >= 8) {
    w.count(0);                       // RecordErrors
    w.nullable_string(message);       // ErrorMessage
  }
}

// A refused partition of a FetchResponse v0-17 after its PartitionIndex
// (Kafka's FetchResponse.partitionResponse(partition, error)): `error`, no
// watermarks, no aborted transactions, no preferred replica, empty Records.
inline void write_refused_fetch_partition_fields(BodyWriter& w,
                                                 ErrorCode error = ErrorCode::topic_authorization_failed) {
  w.error(error);
  w.i64(-1);                          // HighWatermark
  if (w.version() >= 4) w.i64(-1);    // LastStableOffset
  if (w.version() >= 5) w.i64(-1);    // LogStartOffset
  if (w.version() >= 4) w.null_array();  // AbortedTransactions
  if (w.version() >= 11) w.i32(-1);   // PreferredReadReplica
  if (w.flexible()) wire::put_uvarint(w.out(), 1);  // Records: empty
  else w.i32(0);
}

// A refused partition of a DescribeProducersResponse v0 after its
// PartitionIndex (KafkaApis.handleDescribeProducersRequest): `error`,
// `message` as ErrorMessage, no active producers.
inline void write_refused_describe_producers_partition_fields(BodyWriter& w, std::string_view message,
                                                              ErrorCode error = ErrorCode::topic_authorization_failed) {
  w.error(error);
  w.nullable_string(message);  // ErrorMessage
  w.count(0);                  // ActiveProducers
}

// CurrentLeader of a refused share partition: the leader is not kedge's to
// tell, so "unknown" as the spec words it (-1; clients read it only with
// NOT_LEADER_OR_FOLLOWER).
inline void write_unknown_leader(BodyWriter& w) {
  w.i32(-1);  // LeaderId
  w.i32(-1);  // LeaderEpoch
  w.tags();
}

// A refused partition of a ShareFetchResponse v1-2 after its PartitionIndex
// (KIP-932; KafkaApis answers a topic it does not authorize partition by
// partition, its piggybacked acknowledgements too): `error` and `message`;
// the same as the acknowledge error when the request carried acknowledgement
// batches for the partition (`acknowledged`), else none; no records
// (empty, not null: v1+ Records is not nullable), none acquired.
inline void write_refused_share_fetch_partition_fields(BodyWriter& w, std::string_view message, ErrorCode error,
                                                       bool acknowledged) {
  w.error(error);
  w.nullable_string(message);                                             // ErrorMessage
  w.error(acknowledged ? error : ErrorCode::none);                        // AcknowledgeErrorCode
  w.nullable_string(acknowledged ? std::optional(message) : std::nullopt);  // AcknowledgeErrorMessage
  write_unknown_leader(w);                                                // CurrentLeader
  wire::put_uvarint(w.out(), 1);                                          // Records: empty
  w.count(0);                                                             // AcquiredRecords
}

// A refused partition of a ShareAcknowledgeResponse v1-2 after its PartitionIndex.
inline void write_refused_share_acknowledge_partition_fields(BodyWriter& w, std::string_view message, ErrorCode error) {
  w.error(error);
  w.nullable_string(message);  // ErrorMessage
  write_unknown_leader(w);     // CurrentLeader
}

// The authorization error of a refused config resource, by its ResourceType
// (KafkaApis.configsAuthorizationApiError): topic 29, group 30, a broker and
// the other types 31.
inline ErrorCode config_resource_error(std::int8_t type) {
  return type == kTopicResource   ? ErrorCode::topic_authorization_failed
         : type == kGroupResource ? ErrorCode::group_authorization_failed
                                  : ErrorCode::cluster_authorization_failed;
}

// AlterConfigs, IncrementalAlterConfigs and DescribeConfigs answer each
// (ResourceType, ResourceName) value pair of the request with one entry:
// the error of its type, `message` as ErrorMessage, the type and name, then
// what `rest()` writes (DescribeConfigs: no Configs), and a tag buffer.
template <class Rest>
void write_config_resources(BodyWriter& w, const Values& values, std::string_view message, Rest rest) {
  const auto all = values.all();
  w.count(all.size() / 2);
  for (std::size_t i = 0; i + 1 < all.size(); i += 2) {
    const std::int8_t type = values.i8(all[i]);
    w.error(config_resource_error(type));
    w.nullable_string(message);         // ErrorMessage
    w.i8(type);                         // ResourceType
    w.string(values.text(all[i + 1]));  // ResourceName
    rest();
    w.tags();
  }
}

// What a refusal says besides the request's own names: the text of its
// ErrorMessage fields, and the kind of resource refused (refusal.h).
struct Answer {
  std::string_view message;
  RefusedResource refused = RefusedResource::unspecified;

  // What a refused topic's entries carry: the authorization error, or
  // INVALID_TOPIC_EXCEPTION for a name a namespace cannot prefix.
  ErrorCode topic_error() const {
    return refused == RefusedResource::invalid_topic ? ErrorCode::invalid_topic_exception
                                                      : ErrorCode::topic_authorization_failed;
  }

  // The authorization error of `refused`, or `fallback` (the error of the
  // resource the API checks first) when it is unspecified or a kind the API
  // does not name.
  ErrorCode error_or(ErrorCode fallback, std::initializer_list<RefusedResource> named) const {
    if (refused == RefusedResource::invalid_regex) return ErrorCode::invalid_regular_expression;
    for (const RefusedResource kind : named) {
      if (refused == RefusedResource::invalid_topic && kind == RefusedResource::topic) return topic_error();
      if (kind != refused) continue;
      switch (kind) {
        case RefusedResource::topic: return ErrorCode::topic_authorization_failed;
        case RefusedResource::group: return ErrorCode::group_authorization_failed;
        case RefusedResource::transactional_id: return ErrorCode::transactional_id_authorization_failed;
        case RefusedResource::cluster: return ErrorCode::cluster_authorization_failed;
        case RefusedResource::unspecified:
        case RefusedResource::invalid_topic:
        case RefusedResource::invalid_regex: break;
      }
    }
    return fallback;
  }
};

// Writes the body of a refusal of the request `values` were read from.
using Writer = void (*)(BodyWriter&, const Values&, const Answer&);

// Writers for the APIs a policy's ACLs refuse beyond the API-level ones of
// refusal.cpp (refusal_acl.cpp), or nullptr.
Writer acl_writer_for(std::int16_t api_key);
// Every refusal kedge can answer: the API-level ones (refusal.cpp), then
// those only a policy's ACLs reach; nullptr for an API without one.
Writer writer_for(std::int16_t api_key);

}  // namespace kedge::kafka::refusal
