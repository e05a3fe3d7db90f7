#include "kafka_codec/data_client.h"

#include <limits>
#include <optional>
#include <unordered_map>

#include "kafka_codec/api.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka {
namespace {

using schema::array_of;
using schema::Field;
using schema::from;
using schema::MessageSchema;
using schema::range;
using schema::Role;
using schema::scalar;
using schema::struct_of;
using T = schema::Type;

// ---------------------------------------------------------------------------
// Response layouts kedge reads as a data client, as data (style practice 1),
// from Apache Kafka 4.3.1's msg/{Metadata,ListOffsets,Fetch,Produce}Response.json
// and msg/{FindCoordinator,OffsetCommit,OffsetFetch}Response.json
// (kafka-protocol.md §1.2 for the field order). They differ from the rewrite
// tables in schema.cpp only in their roles: every field an answer reports is
// Role::value, so read_body (engine.h) lists it in WalkResult::values in wire
// order, and the decoders below map that list onto the answer. Fields nothing
// reports are still walked (and so checked), known tagged fields included;
// unknown tags are skipped by size. `valid` is the range kedge sends.
// To update: compare with the specs' "versions" of each field.
// ---------------------------------------------------------------------------

constexpr Role V = Role::value;

// MetadataResponse (3), flexible 9+.
constexpr Field kMetadataBroker[] = {
    scalar("NodeId", T::int32).as(Role::node_id),
    scalar("Host", T::string).as(Role::host),
    scalar("Port", T::int32).as(Role::port),
    scalar("Rack", T::string).in(from(1)).null_in(from(1)),
};
constexpr Field kMetadataPartition[] = {
    scalar("ErrorCode", T::int16).as(V),
    scalar("PartitionIndex", T::int32).as(V),
    scalar("LeaderId", T::int32).as(V),
    scalar("LeaderEpoch", T::int32).in(from(7)).as(V),
    array_of("ReplicaNodes", T::int32),
    array_of("IsrNodes", T::int32),
    array_of("OfflineReplicas", T::int32).in(from(5)),
};
constexpr Field kMetadataTopic[] = {
    scalar("ErrorCode", T::int16).as(V),
    scalar("Name", T::string).null_in(from(12)).as(V),
    scalar("TopicId", T::uuid).in(from(10)),
    scalar("IsInternal", T::boolean).in(from(1)),
    array_of("Partitions", kMetadataPartition),
    scalar("TopicAuthorizedOperations", T::int32).in(from(8)),
};
constexpr Field kMetadata[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(3)),
    array_of("Brokers", kMetadataBroker),
    scalar("ClusterId", T::string).in(from(2)).null_in(from(2)),
    scalar("ControllerId", T::int32).in(from(1)),
    array_of("Topics", kMetadataTopic),
    scalar("ClusterAuthorizedOperations", T::int32).in(range(8, 10)),
    scalar("ErrorCode", T::int16).in(from(13)),
};

// ListOffsetsResponse (2), flexible 6+.
constexpr Field kListOffsetsPartition[] = {
    scalar("PartitionIndex", T::int32).as(V),
    scalar("ErrorCode", T::int16).as(V),
    array_of("OldStyleOffsets", T::int64).in(range(0, 0)),
    scalar("Timestamp", T::int64).in(from(1)).as(V),
    scalar("Offset", T::int64).in(from(1)).as(V),
    scalar("LeaderEpoch", T::int32).in(from(4)).as(V),
};
constexpr Field kListOffsetsTopic[] = {
    scalar("Name", T::string).as(V),
    array_of("Partitions", kListOffsetsPartition),
};
constexpr Field kListOffsets[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(2)).as(V),
    array_of("Topics", kListOffsetsTopic),
};

// FetchResponse (1), flexible 12+.
constexpr Field kAbortedTransaction[] = {
    scalar("ProducerId", T::int64).as(V),
    scalar("FirstOffset", T::int64).as(V),
};
constexpr Field kEpochEndOffset[] = {scalar("Epoch", T::int32), scalar("EndOffset", T::int64)};
constexpr Field kLeaderIdAndEpoch[] = {scalar("LeaderId", T::int32), scalar("LeaderEpoch", T::int32)};
constexpr Field kSnapshotId[] = {scalar("EndOffset", T::int64), scalar("Epoch", T::int32)};
constexpr Field kFetchPartition[] = {
    scalar("PartitionIndex", T::int32).as(V),
    scalar("ErrorCode", T::int16).as(V),
    scalar("HighWatermark", T::int64).as(V),
    scalar("LastStableOffset", T::int64).in(from(4)).as(V),
    scalar("LogStartOffset", T::int64).in(from(5)).as(V),
    array_of("AbortedTransactions", kAbortedTransaction).in(from(4)).null_in(from(4)),
    scalar("PreferredReadReplica", T::int32).in(from(11)).as(V),
    scalar("Records", T::records).null_in(schema::kAll).as(V),
    struct_of("DivergingEpoch", kEpochEndOffset).in(from(12)).tagged(0),
    struct_of("CurrentLeader", kLeaderIdAndEpoch).in(from(12)).tagged(1),
    struct_of("SnapshotId", kSnapshotId).in(from(12)).tagged(2),
};
constexpr Field kFetchTopic[] = {
    scalar("Topic", T::string).in(range(0, 12)).as(V),
    scalar("TopicId", T::uuid).in(from(13)),
    array_of("Partitions", kFetchPartition),
};
constexpr Field kFetch[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(1)).as(V),
    scalar("ErrorCode", T::int16).in(from(7)).as(V),
    scalar("SessionId", T::int32).in(from(7)),
    array_of("Responses", kFetchTopic),
};

// ProduceResponse (0), flexible 9+.
constexpr Field kRecordError[] = {
    scalar("BatchIndex", T::int32).as(V),
    scalar("BatchIndexErrorMessage", T::string).null_in(schema::kAll).as(V),
};
constexpr Field kProducePartition[] = {
    scalar("Index", T::int32).as(V),
    scalar("ErrorCode", T::int16).as(V),
    scalar("BaseOffset", T::int64).as(V),
    scalar("LogAppendTimeMs", T::int64).in(from(2)).as(V),
    scalar("LogStartOffset", T::int64).in(from(5)).as(V),
    array_of("RecordErrors", kRecordError).in(from(8)),
    scalar("ErrorMessage", T::string).in(from(8)).null_in(from(8)).as(V),
    struct_of("CurrentLeader", kLeaderIdAndEpoch).in(from(10)).tagged(0),
};
constexpr Field kProduceTopic[] = {
    scalar("Name", T::string).in(range(0, 12)).as(V),
    scalar("TopicId", T::uuid).in(from(13)),
    array_of("PartitionResponses", kProducePartition),
};
constexpr Field kNodeEndpoint[] = {
    scalar("NodeId", T::int32), scalar("Host", T::string), scalar("Port", T::int32),
    scalar("Rack", T::string).null_in(schema::kAll),
};
constexpr Field kProduce[] = {
    array_of("Responses", kProduceTopic),
    scalar("ThrottleTimeMs", T::int32).in(from(1)).as(V),
    array_of("NodeEndpoints", kNodeEndpoint).in(from(10)).tagged(0),
};

// FindCoordinatorResponse (10), flexible 3+. v0-3: one answer at the top level; v4+: one per key asked.
// Host and Port are plain values here: kedge dials them itself, nothing is rewritten.
constexpr Field kCoordinator[] = {
    scalar("Key", T::string).as(V),
    scalar("NodeId", T::int32).as(V),
    scalar("Host", T::string).as(V),
    scalar("Port", T::int32).as(V),
    scalar("ErrorCode", T::int16).as(V),
    scalar("ErrorMessage", T::string).null_in(schema::kAll).as(V),
};
constexpr Field kFindCoordinator[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(1)),
    scalar("ErrorCode", T::int16).in(range(0, 3)).as(V),
    scalar("ErrorMessage", T::string).in(range(1, 3)).null_in(range(1, 3)).as(V),
    scalar("NodeId", T::int32).in(range(0, 3)).as(V),
    scalar("Host", T::string).in(range(0, 3)).as(V),
    scalar("Port", T::int32).in(range(0, 3)).as(V),
    array_of("Coordinators", kCoordinator).in(from(4)),
};

// OffsetCommitResponse (8), flexible 8+.
constexpr Field kOffsetCommitPartition[] = {
    scalar("PartitionIndex", T::int32).as(V),
    scalar("ErrorCode", T::int16).as(V),
};
constexpr Field kOffsetCommitTopic[] = {
    scalar("Name", T::string).as(V),
    array_of("Partitions", kOffsetCommitPartition),
};
constexpr Field kOffsetCommit[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(3)).as(V),
    array_of("Topics", kOffsetCommitTopic),
};

// OffsetFetchResponse (9), flexible 6+. v0-7 answer one group at the top level, v8+ in Groups; a partition has
// the same fields in both (CommittedLeaderEpoch 5-7 and 8+, Metadata nullable in all).
constexpr Field kOffsetFetchPartition[] = {
    scalar("PartitionIndex", T::int32).as(V),
    scalar("CommittedOffset", T::int64).as(V),
    scalar("CommittedLeaderEpoch", T::int32).in(from(5)).as(V),
    scalar("Metadata", T::string).null_in(schema::kAll).as(V),
    scalar("ErrorCode", T::int16).as(V),
};
constexpr Field kOffsetFetchTopic[] = {
    scalar("Name", T::string).as(V),
    array_of("Partitions", kOffsetFetchPartition),
};
constexpr Field kOffsetFetchGroup[] = {
    scalar("GroupId", T::string).as(V),
    array_of("Topics", kOffsetFetchTopic),
    scalar("ErrorCode", T::int16).as(V),
};
constexpr Field kOffsetFetch[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(3)).as(V),
    array_of("Topics", kOffsetFetchTopic).in(range(0, 7)),
    scalar("ErrorCode", T::int16).in(range(2, 7)).as(V),
    array_of("Groups", kOffsetFetchGroup).in(from(8)),
};

constexpr MessageSchema layout(ApiKey api, schema::Versions valid, std::int16_t flexible_from,
                               std::span<const Field> fields) {
  return MessageSchema{key_of(api), api_name(key_of(api)), valid, flexible_from, fields};
}
constexpr MessageSchema kMetadataLayout = layout(ApiKey::metadata, kMetadataTopicsRequestVersions, 9, kMetadata);
constexpr MessageSchema kListOffsetsLayout =
    layout(ApiKey::list_offsets, kListOffsetsRequestVersions, 6, kListOffsets);
constexpr MessageSchema kFetchLayout = layout(ApiKey::fetch, kFetchRequestVersions, 12, kFetch);
constexpr MessageSchema kProduceLayout = layout(ApiKey::produce, kProduceRequestVersions, 9, kProduce);
constexpr MessageSchema kFindCoordinatorLayout =
    layout(ApiKey::find_coordinator, kFindCoordinatorRequestVersions, 3, kFindCoordinator);
constexpr MessageSchema kOffsetCommitLayout =
    layout(ApiKey::offset_commit, kOffsetCommitRequestVersions, 8, kOffsetCommit);
constexpr MessageSchema kOffsetFetchLayout = layout(ApiKey::offset_fetch, kOffsetFetchRequestVersions, 6, kOffsetFetch);

// The Role::value list of one walk, read front to back. A field absent at the
// walked version is simply not in the list, so take() of it leaves the
// default; the walk already checked the layout, so the order is the table's.
class ValueCursor {
 public:
  ValueCursor(const WalkResult& walk, std::span<const std::uint8_t> frame) : values_(walk.values), frame_(frame) {}

  bool done() const { return next_ == values_.size(); }
  bool at(std::string_view name, std::size_t ahead = 0) const {
    return next_ + ahead < values_.size() && values_[next_ + ahead].name == name;
  }
  // Takes the next value if it is `name` (an integer of any width); false otherwise.
  template <typename Int>
  bool take(std::string_view name, Int& out) {
    if (!at(name)) return false;
    const ValueRef& v = values_[next_++];
    std::uint64_t x = 0;
    for (std::size_t i = v.begin; i < v.end; ++i) x = (x << 8) | frame_[i];
    const std::size_t bits = 8 * (v.end - v.begin);
    // Sign-extend the field's width (an int16 ErrorCode into int16, an int32 into int64, ...).
    if (bits > 0 && bits < 64 && (x >> (bits - 1)) != 0) x |= ~std::uint64_t{0} << bits;
    out = static_cast<Int>(static_cast<std::int64_t>(x));
    return true;
  }
  // A string; null reads as empty.
  bool take(std::string_view name, std::string& out) {
    if (!at(name)) return false;
    const ValueRef& v = values_[next_++];
    out.assign(reinterpret_cast<const char*>(frame_.data() + v.begin), v.end - v.begin);
    return true;
  }
  // A nullable string: null reads as nullopt.
  bool take(std::string_view name, std::optional<std::string>& out) {
    if (!at(name)) return false;
    const ValueRef& v = values_[next_++];
    if (v.null) out.reset();
    else out.emplace(reinterpret_cast<const char*>(frame_.data() + v.begin), v.end - v.begin);
    return true;
  }
  // Bytes or records as a view into the frame; null reads as empty.
  bool take(std::string_view name, std::span<const std::uint8_t>& out) {
    if (!at(name)) return false;
    const ValueRef& v = values_[next_++];
    out = v.null ? std::span<const std::uint8_t>() : frame_.subspan(v.begin, v.end - v.begin);
    return true;
  }

 private:
  const std::vector<ValueRef>& values_;
  std::span<const std::uint8_t> frame_;
  std::size_t next_ = 0;
};

bool read(const MessageSchema& s, std::int16_t version, std::span<const std::uint8_t> frame, std::size_t body_begin,
          WalkResult& walk) {
  return s.valid.contains(version) && read_body(s, version, frame, body_begin, frame.size(), walk);
}

// ---------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------

constexpr std::size_t kMaxString = 0x7fff;  // STRING's int16 length

// Appends one request body in its version's encoding; any argument that does
// not fit marks it failed, and take() then yields the empty vector.
class BodyWriter {
 public:
  BodyWriter(ApiKey api, std::int16_t version) {
    const std::int16_t flexible_from = schema::request_flexible_from(key_of(api));
    flexible_ = flexible_from >= 0 && version >= flexible_from;
  }
  bool flexible() const { return flexible_; }
  void i8(std::int8_t v) { wire::put_i8(out_, v); }
  void i16(std::int16_t v) { wire::put_i16(out_, v); }
  void i32(std::int32_t v) { wire::put_i32(out_, v); }
  void i64(std::int64_t v) { wire::put_i64(out_, v); }
  void uuid_zero() { out_.insert(out_.end(), 16, 0); }
  void string(std::string_view s) {
    if (s.size() > kMaxString) ok_ = false;
    else wire::put_string(out_, s, flexible_);
  }
  void null_string() {
    if (flexible_) wire::put_uvarint(out_, 0);
    else wire::put_i16(out_, -1);
  }
  void nullable_string(const std::optional<std::string>& s) {
    if (s) string(*s);
    else null_string();
  }
  void null_array() {
    if (flexible_) wire::put_uvarint(out_, 0);
    else wire::put_i32(out_, -1);
  }
  void array(std::size_t count) {
    if (count > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() - 1)) ok_ = false;
    else if (flexible_) wire::put_uvarint(out_, static_cast<std::uint32_t>(count) + 1);
    else wire::put_i32(out_, static_cast<std::int32_t>(count));
  }
  void records(std::span<const std::uint8_t> bytes) {
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max() - 1)) {
      ok_ = false;
      return;
    }
    if (flexible_) wire::put_uvarint(out_, static_cast<std::uint32_t>(bytes.size()) + 1);
    else wire::put_i32(out_, static_cast<std::int32_t>(bytes.size()));
    out_.insert(out_.end(), bytes.begin(), bytes.end());
  }
  void tags() {
    if (flexible_) wire::put_uvarint(out_, 0);
  }
  std::vector<std::uint8_t> take() { return ok_ ? std::move(out_) : std::vector<std::uint8_t>(); }

 private:
  std::vector<std::uint8_t> out_;
  bool flexible_ = false;
  bool ok_ = true;
};

// Indexes of `partitions` grouped by topic: topics in first-appearance order, partitions in the given order.
template <typename Partition>
std::vector<std::vector<std::size_t>> group_by_topic(std::span<const Partition> partitions) {
  std::vector<std::vector<std::size_t>> groups;
  std::unordered_map<std::string_view, std::size_t> group_of;
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    const auto [it, inserted] = group_of.try_emplace(partitions[i].topic, groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  return groups;
}

// msg/MetadataRequest.json.
constexpr schema::Versions kMetadataTopicId = from(10);
constexpr schema::Versions kAllowAutoTopicCreation = from(4);
constexpr schema::Versions kIncludeClusterAuthorizedOperations = range(8, 10);
constexpr schema::Versions kIncludeTopicAuthorizedOperations = from(8);
// msg/ListOffsetsRequest.json.
constexpr schema::Versions kListOffsetsIsolation = from(2);
constexpr schema::Versions kListOffsetsLeaderEpoch = from(4);
constexpr schema::Versions kListOffsetsTimeout = from(10);
// msg/FetchRequest.json.
constexpr schema::Versions kFetchSession = from(7);  // SessionId, SessionEpoch, ForgottenTopicsData
constexpr schema::Versions kFetchLeaderEpoch = from(9);
constexpr schema::Versions kFetchLastFetchedEpoch = from(12);
constexpr schema::Versions kFetchLogStartOffset = from(5);
constexpr schema::Versions kFetchRackId = from(11);
// msg/FindCoordinatorRequest.json.
constexpr schema::Versions kFindCoordinatorKey = range(0, 3);
constexpr schema::Versions kFindCoordinatorKeyType = from(1);
constexpr schema::Versions kFindCoordinatorKeys = from(4);  // CoordinatorKeys (KIP-699)
// msg/OffsetCommitRequest.json.
constexpr schema::Versions kOffsetCommitGroupInstanceId = from(7);
constexpr schema::Versions kOffsetCommitRetentionTime = range(2, 4);
constexpr schema::Versions kOffsetCommitLeaderEpoch = from(6);
// msg/OffsetFetchRequest.json.
constexpr schema::Versions kOffsetFetchNullTopics = from(2);  // null Topics: all (2-7 top level, 8+ per group)
constexpr schema::Versions kOffsetFetchRequireStable = from(7);
constexpr schema::Versions kOffsetFetchGroups = from(8);
constexpr schema::Versions kOffsetFetchMember = from(9);  // MemberId, MemberEpoch (KIP-848)

}  // namespace

std::vector<std::uint8_t> encode_metadata_request_topics(std::int16_t version, std::span<const std::string> topics) {
  if (!kMetadataTopicsRequestVersions.contains(version)) return {};
  BodyWriter w(ApiKey::metadata, version);
  w.array(topics.size());
  for (const std::string& topic : topics) {
    if (kMetadataTopicId.contains(version)) w.uuid_zero();
    w.string(topic);
    w.tags();
  }
  if (kAllowAutoTopicCreation.contains(version)) w.i8(0);
  if (kIncludeClusterAuthorizedOperations.contains(version)) w.i8(0);
  if (kIncludeTopicAuthorizedOperations.contains(version)) w.i8(0);
  w.tags();
  return w.take();
}

bool decode_metadata_response(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                              MetadataAnswer& out) {
  WalkResult walk;
  if (!read(kMetadataLayout, version, frame, body_begin, walk)) return false;
  out.brokers.clear();
  out.topics.clear();
  for (const EndpointRef& e : walk.endpoints) out.brokers.push_back({e.node_id, std::string(e.host), e.port});
  ValueCursor c(walk, frame);
  while (!c.done()) {
    TopicLeaders& t = out.topics.emplace_back();
    if (!c.take("ErrorCode", t.error_code) || !c.take("Name", t.name)) return false;
    // A partition starts with its ErrorCode, followed by PartitionIndex (the next topic's by Name).
    while (c.at("ErrorCode") && c.at("PartitionIndex", 1)) {
      PartitionLeader& p = t.partitions.emplace_back();
      c.take("ErrorCode", p.error_code);
      c.take("PartitionIndex", p.partition);
      if (!c.take("LeaderId", p.leader_id)) return false;
      c.take("LeaderEpoch", p.leader_epoch);  // v7+
    }
  }
  return true;
}

std::vector<std::uint8_t> encode_list_offsets_request(std::int16_t version, std::string_view topic,
                                                      std::int32_t partition, std::int64_t timestamp,
                                                      IsolationLevel isolation, std::int32_t current_leader_epoch,
                                                      std::int32_t timeout_ms) {
  if (!kListOffsetsRequestVersions.contains(version)) return {};
  BodyWriter w(ApiKey::list_offsets, version);
  w.i32(-1);  // ReplicaId: a consumer
  if (kListOffsetsIsolation.contains(version)) w.i8(static_cast<std::int8_t>(isolation));
  w.array(1);
  w.string(topic);
  w.array(1);
  w.i32(partition);
  if (kListOffsetsLeaderEpoch.contains(version)) w.i32(current_leader_epoch);
  w.i64(timestamp);
  w.tags();  // partition
  w.tags();  // topic
  if (kListOffsetsTimeout.contains(version)) w.i32(timeout_ms);
  w.tags();
  return w.take();
}

bool decode_list_offsets_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                  std::int16_t version, std::string_view topic, std::int32_t partition,
                                  ListOffsetsAnswer& out) {
  WalkResult walk;
  if (!read(kListOffsetsLayout, version, frame, body_begin, walk)) return false;
  ValueCursor c(walk, frame);
  std::int32_t throttle = 0;
  c.take("ThrottleTimeMs", throttle);  // v2+
  bool found = false;
  std::string name;
  while (!c.done()) {
    if (!c.take("Name", name)) return false;
    while (c.at("PartitionIndex")) {
      ListOffsetsAnswer entry;
      std::int32_t index = -1;
      c.take("PartitionIndex", index);
      if (!c.take("ErrorCode", entry.error_code) || !c.take("Timestamp", entry.timestamp) ||
          !c.take("Offset", entry.offset)) {
        return false;
      }
      c.take("LeaderEpoch", entry.leader_epoch);  // v4+
      if (!found && index == partition && name == topic) {
        out = entry;
        found = true;
      }
    }
  }
  return found;
}

std::vector<std::uint8_t> encode_fetch_request(std::int16_t version, const FetchRequestParams& params) {
  if (!kFetchRequestVersions.contains(version)) return {};
  const std::span<const FetchPartitionRequest> partitions(params.partitions);
  BodyWriter w(ApiKey::fetch, version);
  // ClusterId (tag 0, v12+) is null by default and so not written.
  w.i32(-1);  // ReplicaId (v0-14): a consumer
  w.i32(params.max_wait_ms);
  w.i32(params.min_bytes);
  w.i32(params.max_bytes);                           // v3+
  w.i8(static_cast<std::int8_t>(params.isolation));  // v4+
  if (kFetchSession.contains(version)) {
    w.i32(0);   // SessionId: no session
    w.i32(-1);  // SessionEpoch: FINAL_EPOCH, a full fetch that creates no session
  }
  const auto groups = group_by_topic(partitions);
  w.array(groups.size());
  for (const auto& group : groups) {
    w.string(partitions[group.front()].topic);
    w.array(group.size());
    for (const std::size_t i : group) {
      const FetchPartitionRequest& p = partitions[i];
      w.i32(p.partition);
      if (kFetchLeaderEpoch.contains(version)) w.i32(p.current_leader_epoch);
      w.i64(p.fetch_offset);
      if (kFetchLastFetchedEpoch.contains(version)) w.i32(-1);
      if (kFetchLogStartOffset.contains(version)) w.i64(-1);  // followers only
      w.i32(p.partition_max_bytes);
      w.tags();
    }
    w.tags();
  }
  if (kFetchSession.contains(version)) w.array(0);  // ForgottenTopicsData
  if (kFetchRackId.contains(version)) w.string("");
  w.tags();
  return w.take();
}

bool decode_fetch_response(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                           FetchAnswer& out) {
  WalkResult walk;
  if (!read(kFetchLayout, version, frame, body_begin, walk)) return false;
  out = FetchAnswer{};
  ValueCursor c(walk, frame);
  c.take("ThrottleTimeMs", out.throttle_time_ms);
  c.take("ErrorCode", out.error_code);  // v7+
  std::string topic;
  while (!c.done()) {
    if (!c.take("Topic", topic)) return false;
    while (c.at("PartitionIndex")) {
      FetchPartitionAnswer& p = out.partitions.emplace_back();
      p.topic = topic;
      c.take("PartitionIndex", p.partition);
      if (!c.take("ErrorCode", p.error_code) || !c.take("HighWatermark", p.high_watermark)) return false;
      c.take("LastStableOffset", p.last_stable_offset);
      c.take("LogStartOffset", p.log_start_offset);  // v5+
      while (c.at("ProducerId")) {
        AbortedTransaction& a = p.aborted.emplace_back();
        c.take("ProducerId", a.producer_id);
        if (!c.take("FirstOffset", a.first_offset)) return false;
      }
      c.take("PreferredReadReplica", p.preferred_read_replica);  // v11+
      if (!c.take("Records", p.records)) return false;
    }
  }
  return true;
}

std::vector<std::uint8_t> encode_produce_request(std::int16_t version, std::int16_t acks, std::int32_t timeout_ms,
                                                 std::span<const ProducePartitionRequest> partitions) {
  if (!kProduceRequestVersions.contains(version) || (acks != -1 && acks != 1)) return {};
  BodyWriter w(ApiKey::produce, version);
  w.null_string();  // TransactionalId (v3+)
  w.i16(acks);
  w.i32(timeout_ms);
  const auto groups = group_by_topic(partitions);
  w.array(groups.size());
  for (const auto& group : groups) {
    w.string(partitions[group.front()].topic);
    w.array(group.size());
    for (const std::size_t i : group) {
      w.i32(partitions[i].partition);
      w.records(partitions[i].records);
      w.tags();
    }
    w.tags();
  }
  w.tags();
  return w.take();
}

bool decode_produce_response(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                             ProduceAnswer& out) {
  WalkResult walk;
  if (!read(kProduceLayout, version, frame, body_begin, walk)) return false;
  out = ProduceAnswer{};
  ValueCursor c(walk, frame);
  std::string topic;
  while (c.at("Name")) {
    c.take("Name", topic);
    while (c.at("Index")) {
      ProducePartitionAnswer& p = out.partitions.emplace_back();
      p.topic = topic;
      c.take("Index", p.partition);
      if (!c.take("ErrorCode", p.error_code) || !c.take("BaseOffset", p.base_offset)) return false;
      c.take("LogAppendTimeMs", p.log_append_time_ms);  // v2+
      c.take("LogStartOffset", p.log_start_offset);     // v5+
      while (c.at("BatchIndex")) {                      // v8+
        RecordError& e = p.record_errors.emplace_back();
        c.take("BatchIndex", e.batch_index);
        if (!c.take("BatchIndexErrorMessage", e.message)) return false;
      }
      c.take("ErrorMessage", p.error_message);  // v8+
    }
  }
  c.take("ThrottleTimeMs", out.throttle_time_ms);  // v1+
  return c.done();
}

std::vector<std::uint8_t> encode_find_coordinator_request(std::int16_t version, std::string_view group) {
  if (!kFindCoordinatorRequestVersions.contains(version)) return {};
  BodyWriter w(ApiKey::find_coordinator, version);
  if (kFindCoordinatorKey.contains(version)) w.string(group);
  if (kFindCoordinatorKeyType.contains(version)) w.i8(0);  // KeyType: GROUP
  if (kFindCoordinatorKeys.contains(version)) {
    w.array(1);
    w.string(group);
  }
  w.tags();
  return w.take();
}

bool decode_find_coordinator_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                      std::int16_t version, std::string_view group, CoordinatorAnswer& out) {
  WalkResult walk;
  if (!read(kFindCoordinatorLayout, version, frame, body_begin, walk)) return false;
  ValueCursor c(walk, frame);
  if (!kFindCoordinatorKeys.contains(version)) {
    out = CoordinatorAnswer{};
    if (!c.take("ErrorCode", out.error_code)) return false;
    c.take("ErrorMessage", out.error_message);  // v1+
    return c.take("NodeId", out.node_id) && c.take("Host", out.host) && c.take("Port", out.port) && c.done();
  }
  bool found = false;
  std::string key;
  while (c.at("Key")) {
    CoordinatorAnswer entry;
    c.take("Key", key);
    if (!c.take("NodeId", entry.node_id) || !c.take("Host", entry.host) || !c.take("Port", entry.port) ||
        !c.take("ErrorCode", entry.error_code) || !c.take("ErrorMessage", entry.error_message)) {
      return false;
    }
    if (!found && key == group) {
      out = std::move(entry);
      found = true;
    }
  }
  return found && c.done();
}

std::vector<std::uint8_t> encode_offset_commit_request(std::int16_t version, std::string_view group,
                                                       std::span<const OffsetToCommit> offsets) {
  if (!kOffsetCommitRequestVersions.contains(version)) return {};
  BodyWriter w(ApiKey::offset_commit, version);
  w.string(group);
  w.i32(-1);     // GenerationIdOrMemberEpoch (v1+): not a member
  w.string("");  // MemberId (v1+)
  if (kOffsetCommitGroupInstanceId.contains(version)) w.null_string();
  if (kOffsetCommitRetentionTime.contains(version)) w.i64(-1);  // the broker's retention
  const auto groups = group_by_topic(offsets);
  w.array(groups.size());
  for (const auto& topic : groups) {
    w.string(offsets[topic.front()].topic);
    w.array(topic.size());
    for (const std::size_t i : topic) {
      const OffsetToCommit& o = offsets[i];
      w.i32(o.partition);
      w.i64(o.offset);
      if (kOffsetCommitLeaderEpoch.contains(version)) w.i32(o.leader_epoch);
      w.nullable_string(o.metadata);
      w.tags();
    }
    w.tags();
  }
  w.tags();
  return w.take();
}

bool decode_offset_commit_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                   std::int16_t version, OffsetCommitAnswer& out) {
  WalkResult walk;
  if (!read(kOffsetCommitLayout, version, frame, body_begin, walk)) return false;
  out = OffsetCommitAnswer{};
  ValueCursor c(walk, frame);
  c.take("ThrottleTimeMs", out.throttle_time_ms);  // v3+
  std::string topic;
  while (c.at("Name")) {
    c.take("Name", topic);
    while (c.at("PartitionIndex")) {
      PartitionError& p = out.partitions.emplace_back();
      p.topic = topic;
      c.take("PartitionIndex", p.partition);
      if (!c.take("ErrorCode", p.error_code)) return false;
    }
  }
  return c.done();
}

std::vector<std::uint8_t> encode_offset_fetch_request(std::int16_t version, std::string_view group,
                                                      std::span<const TopicPartition> partitions, bool all_topics) {
  if (!kOffsetFetchRequestVersions.contains(version)) return {};
  if (all_topics && (!partitions.empty() || !kOffsetFetchNullTopics.contains(version))) return {};
  BodyWriter w(ApiKey::offset_fetch, version);
  const bool batched = kOffsetFetchGroups.contains(version);
  if (batched) w.array(1);  // Groups
  w.string(group);
  if (batched && kOffsetFetchMember.contains(version)) {
    w.null_string();  // MemberId: not a member
    w.i32(-1);        // MemberEpoch
  }
  if (all_topics) {
    w.null_array();
  } else {
    const auto groups = group_by_topic(partitions);
    w.array(groups.size());
    for (const auto& topic : groups) {
      w.string(partitions[topic.front()].topic);
      w.array(topic.size());  // PartitionIndexes
      for (const std::size_t i : topic) w.i32(partitions[i].partition);
      w.tags();
    }
  }
  if (batched) w.tags();  // the group
  if (kOffsetFetchRequireStable.contains(version)) w.i8(0);
  w.tags();
  return w.take();
}

namespace {

// The Topics of one OffsetFetch answer (v0-7 top level, v8+ a group's), appended to `out`.
bool take_committed_offsets(ValueCursor& c, std::vector<CommittedOffset>& out) {
  std::string topic;
  while (c.at("Name")) {
    c.take("Name", topic);
    while (c.at("PartitionIndex")) {
      CommittedOffset& p = out.emplace_back();
      p.topic = topic;
      c.take("PartitionIndex", p.partition);
      if (!c.take("CommittedOffset", p.offset)) return false;
      c.take("CommittedLeaderEpoch", p.leader_epoch);  // v5+
      if (!c.take("Metadata", p.metadata) || !c.take("ErrorCode", p.error_code)) return false;
    }
  }
  return true;
}

}  // namespace

bool decode_offset_fetch_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                  std::int16_t version, std::string_view group, OffsetFetchAnswer& out) {
  WalkResult walk;
  if (!read(kOffsetFetchLayout, version, frame, body_begin, walk)) return false;
  ValueCursor c(walk, frame);
  std::int32_t throttle = 0;
  c.take("ThrottleTimeMs", throttle);  // v3+
  if (!kOffsetFetchGroups.contains(version)) {
    out = OffsetFetchAnswer{};
    if (!take_committed_offsets(c, out.offsets)) return false;
    c.take("ErrorCode", out.error_code);  // v2+
    return c.done();
  }
  bool found = false;
  std::string id;
  while (c.at("GroupId")) {
    OffsetFetchAnswer entry;
    c.take("GroupId", id);
    if (!take_committed_offsets(c, entry.offsets) || !c.take("ErrorCode", entry.error_code)) return false;
    if (!found && id == group) {
      out = std::move(entry);
      found = true;
    }
  }
  return found && c.done();
}

}  // namespace kedge::kafka
