#pragma once
// kedge as a Kafka client of partition leaders (the HTTP/WebSocket front,
// issue 19): the data requests kedge itself sends (Metadata for named topics,
// ListOffsets, Fetch, Produce) and the answers it reads from their responses;
// and the consumer-group offsets its REST API commits and reads in Kafka
// itself (FindCoordinator for a group, OffsetCommit, OffsetFetch), stateless:
// kedge commits as no member of the group.
// Pure: no I/O, no exceptions; errors are values (an empty request, a false
// decode). Topics are named, never by id: Fetch v13+, Produce v13,
// OffsetCommit v10 and OffsetFetch v10 carry topic ids and are not sent.
//
// Requests: each encoder returns the request BODY at `version` (frame it with
// encode_request_frame, client.h, which picks request header v1 or v2 from
// the API's first flexible version: Metadata 9, ListOffsets 6, Fetch 12,
// Produce 9, FindCoordinator 3, OffsetCommit 8, OffsetFetch 6). An EMPTY
// vector means the arguments cannot be encoded: a version outside the range
// below, a name or metadata string longer than a STRING holds (32767 bytes;
// Kafka topic names are at most 249), Produce acks other than -1 or 1, a
// Records blob longer than INT32_MAX, OffsetFetch for all topics below v2 or
// together with named partitions. A valid body is never empty.
//
// Responses: each decoder reads the body [body_begin, frame.size()) of a
// whole response frame (read_response_header, client.h, gives body_begin) at
// the version the request was sent in, through the schema engine (engine.h,
// read_body) and the layouts in data_client.cpp (Kafka 4.3.1 message specs):
// every length and count is bounded by the bytes left in the frame before it
// is used, unknown tagged fields are skipped by their size, bytes after the
// last field are tolerated (as Kafka's clients do, engine.h). False if the body
// does not parse at `version` or `version` is outside the range; `out` is
// then unspecified. Spans in the answers are views into `frame`: they live as
// long as the caller keeps the frame.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/client.h"
#include "kafka_codec/schema.h"

namespace kedge::kafka {

// Versions kedge sends (by topic NAME).
// msg/MetadataRequest.json v1-12 (v0 cannot ask for no topics; v13 adds only a response ErrorCode).
inline constexpr schema::Versions kMetadataTopicsRequestVersions = schema::range(1, 12);
// msg/ListOffsetsRequest.json v1-10: one Timestamp per partition from v1 (v0 asked MaxNumOffsets and answered
// OldStyleOffsets); every version names topics. IsolationLevel v2+, CurrentLeaderEpoch v4+, TimeoutMs v10+.
inline constexpr schema::Versions kListOffsetsRequestVersions = schema::range(1, 10);
// msg/FetchRequest.json v4-12 (v4: IsolationLevel and LastStableOffset; v13+ topic ids).
inline constexpr schema::Versions kFetchRequestVersions = schema::range(4, 12);
// msg/ProduceRequest.json v3-12 (v3: TransactionalId and record batches v2; v13 topic ids).
inline constexpr schema::Versions kProduceRequestVersions = schema::range(3, 12);
// msg/FindCoordinatorRequest.json v0-6: every version finds a group's coordinator (KeyType 0 from v1; v0 knows only
// groups). v0-3 carry Key, v4+ the batched CoordinatorKeys (KIP-699); v5 and v6 change only errors and key types.
inline constexpr schema::Versions kFindCoordinatorRequestVersions = schema::range(0, 6);
// msg/OffsetCommitRequest.json v2-9: Kafka 4.x accepts v2+ (KIP-896); v10 (Kafka 4.1) names topics by id.
inline constexpr schema::Versions kOffsetCommitRequestVersions = schema::range(2, 9);
// msg/OffsetFetchRequest.json v1-9: v0 read ZooKeeper and is gone in 4.x; v10 (Kafka 4.1) names topics by id.
inline constexpr schema::Versions kOffsetFetchRequestVersions = schema::range(1, 9);

// --- Metadata for named topics ------------------------------------------------
// Topics = `topics` (TopicId zero from v10), AllowAutoTopicCreation false (v4+),
// IncludeClusterAuthorizedOperations (v8-10) and IncludeTopicAuthorizedOperations (v8+) false.
// An empty `topics` asks for no topics (not all: the array is empty, not null).
std::vector<std::uint8_t> encode_metadata_request_topics(std::int16_t version, std::span<const std::string> topics);

struct PartitionLeader {
  std::int32_t partition = -1;
  std::int16_t error_code = 0;
  std::int32_t leader_id = -1;
  std::int32_t leader_epoch = -1;  // -1 before v7
};
struct TopicLeaders {
  std::int16_t error_code = 0;
  std::string name;  // empty for a null name (v12+, a topic-id lookup)
  std::vector<PartitionLeader> partitions;
};
struct MetadataAnswer {
  std::vector<BrokerEndpoint> brokers;  // as listed, NodeId < 0 included
  std::vector<TopicLeaders> topics;     // in wire order
};
// A Metadata response at `version` in kMetadataTopicsRequestVersions.
bool decode_metadata_response(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                              MetadataAnswer& out);

// --- ListOffsets ----------------------------------------------------------------
enum class IsolationLevel : std::int8_t { read_uncommitted = 0, read_committed = 1 };

// ListOffsets waits this long for offsets held in remote (tiered) storage (v10 TimeoutMs, KIP-1075);
// Kafka's default request.timeout.ms.
inline constexpr std::int32_t kListOffsetsDefaultTimeoutMs = 30000;

// One topic-partition, ReplicaId -1. timestamp: -1 latest, -2 earliest, else ms (the first offset whose
// timestamp is >= it). `isolation` from v2 (read_committed: -1 answers the last stable offset),
// `current_leader_epoch` from v4, `timeout_ms` from v10.
std::vector<std::uint8_t> encode_list_offsets_request(std::int16_t version, std::string_view topic,
                                                      std::int32_t partition, std::int64_t timestamp,
                                                      IsolationLevel isolation,
                                                      std::int32_t current_leader_epoch = -1,
                                                      std::int32_t timeout_ms = kListOffsetsDefaultTimeoutMs);
struct ListOffsetsAnswer {
  std::int16_t error_code = 0;
  std::int64_t timestamp = -1;
  std::int64_t offset = -1;
  std::int32_t leader_epoch = -1;  // -1 before v4
};
// Reads the entry for (topic, partition) of a ListOffsets response at `version` in
// kListOffsetsRequestVersions; false if the frame does not parse or carries no such entry.
bool decode_list_offsets_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                  std::int16_t version, std::string_view topic, std::int32_t partition,
                                  ListOffsetsAnswer& out);

// --- Fetch ------------------------------------------------------------------------
struct FetchPartitionRequest {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t fetch_offset = 0;
  std::int32_t partition_max_bytes = 1 << 20;
  std::int32_t current_leader_epoch = -1;  // sent from v9
};
struct FetchRequestParams {
  std::int32_t max_wait_ms = 500;
  std::int32_t min_bytes = 1;
  std::int32_t max_bytes = 50 << 20;
  IsolationLevel isolation = IsolationLevel::read_uncommitted;
  std::vector<FetchPartitionRequest> partitions;
};
// Session-less fetch: ReplicaId -1, SessionId 0 and SessionEpoch -1 (v7+), no ForgottenTopicsData (v7+),
// LastFetchedEpoch -1 (v12+), LogStartOffset -1 (v5+), RackId "" (v11+), no ClusterId tag (v12+).
// Partitions are grouped into one Topics entry per topic, topics in the order they first appear,
// partitions in the order given.
std::vector<std::uint8_t> encode_fetch_request(std::int16_t version, const FetchRequestParams& params);

struct AbortedTransaction {
  std::int64_t producer_id = -1;
  std::int64_t first_offset = -1;
};
struct FetchPartitionAnswer {
  std::string topic;
  std::int32_t partition = -1;
  std::int16_t error_code = 0;
  std::int64_t high_watermark = -1;
  std::int64_t last_stable_offset = -1;
  std::int64_t log_start_offset = -1;            // -1 before v5
  std::vector<AbortedTransaction> aborted;       // empty for null
  std::int32_t preferred_read_replica = -1;      // -1 before v11
  std::span<const std::uint8_t> records;         // view into the frame; empty for null. May end with a partial
                                                 // batch (records/records.h BatchReader reports it as truncated).
};
struct FetchAnswer {
  std::int16_t error_code = 0;       // top-level, v7+
  std::int32_t throttle_time_ms = 0;
  std::vector<FetchPartitionAnswer> partitions;  // every partition of every topic, in wire order
};
// A Fetch response at `version` in kFetchRequestVersions. Known partition tags (DivergingEpoch,
// CurrentLeader, SnapshotId) are checked but not reported.
bool decode_fetch_response(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                           FetchAnswer& out);

// --- Produce ----------------------------------------------------------------------
struct ProducePartitionRequest {
  std::string topic;
  std::int32_t partition = 0;
  std::span<const std::uint8_t> records;  // one or more encoded record batches (records/records.h encode_batch)
};
// TransactionalId null. acks: -1 all, 1 leader (0 is refused: kedge needs an answer). Partitions are grouped
// into one TopicData entry per topic as in encode_fetch_request. The records are copied into the body.
std::vector<std::uint8_t> encode_produce_request(std::int16_t version, std::int16_t acks, std::int32_t timeout_ms,
                                                 std::span<const ProducePartitionRequest> partitions);

struct RecordError {
  std::int32_t batch_index = 0;
  std::string message;  // empty for null
};
struct ProducePartitionAnswer {
  std::string topic;
  std::int32_t partition = -1;
  std::int16_t error_code = 0;
  std::int64_t base_offset = -1;
  std::int64_t log_append_time_ms = -1;  // -1 before v2, or when the topic uses CreateTime
  std::int64_t log_start_offset = -1;    // -1 before v5
  std::vector<RecordError> record_errors;  // v8+
  std::string error_message;               // v8+; empty for null
};
struct ProduceAnswer {
  std::int32_t throttle_time_ms = 0;
  std::vector<ProducePartitionAnswer> partitions;  // every partition of every topic, in wire order
};
// A Produce response at `version` in kProduceRequestVersions.
bool decode_produce_response(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                             ProduceAnswer& out);

// --- FindCoordinator for a consumer group -------------------------------------
// KeyType 0 (group; v1+). v0-3: Key = `group`; v4+: CoordinatorKeys = [`group`].
std::vector<std::uint8_t> encode_find_coordinator_request(std::int16_t version, std::string_view group);

struct CoordinatorAnswer {
  std::int16_t error_code = 0;
  std::string error_message;  // v1+; empty for null
  std::int32_t node_id = -1;  // -1, "" and -1 with an error (Node.noNode())
  std::string host;
  std::int32_t port = -1;
};
// A FindCoordinator response at `version` in kFindCoordinatorRequestVersions. v4+: the Coordinators entry whose
// Key is `group` (false if there is none); v0-3 answer for the one key asked and ignore `group`.
bool decode_find_coordinator_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                      std::int16_t version, std::string_view group, CoordinatorAnswer& out);

// --- OffsetCommit (a simple commit, as no member of the group) -----------------
struct OffsetToCommit {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int32_t leader_epoch = -1;       // CommittedLeaderEpoch, sent from v6
  std::optional<std::string> metadata;  // CommittedMetadata; nullopt is null
};
// GroupId `group`, GenerationIdOrMemberEpoch -1, MemberId "", GroupInstanceId null (v7+), RetentionTimeMs -1
// (v2-4: the broker's offsets.retention.minutes). Partitions are grouped into one Topics entry per topic as in
// encode_fetch_request. A group with active members may refuse such a commit per partition (UNKNOWN_MEMBER_ID,
// ILLEGAL_GENERATION): the errors are in the answer.
std::vector<std::uint8_t> encode_offset_commit_request(std::int16_t version, std::string_view group,
                                                       std::span<const OffsetToCommit> offsets);

struct PartitionError {
  std::string topic;
  std::int32_t partition = -1;
  std::int16_t error_code = 0;
};
struct OffsetCommitAnswer {
  std::int32_t throttle_time_ms = 0;     // 0 before v3
  std::vector<PartitionError> partitions;  // every partition of every topic, in wire order
};
// An OffsetCommit response at `version` in kOffsetCommitRequestVersions.
bool decode_offset_commit_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                   std::int16_t version, OffsetCommitAnswer& out);

// --- OffsetFetch for one group ----------------------------------------------------
// OffsetFetch asks for partitions, not topics (OffsetFetchRequestTopic.PartitionIndexes: the broker answers only
// the partitions listed), so a request names topic-partitions.
struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
};
// v1-7: GroupId and Topics; v8+: Groups = [{GroupId, MemberId null and MemberEpoch -1 (v9+), Topics}].
// RequireStable false (v7+). Partitions are grouped into one Topics entry per topic as in encode_fetch_request.
// `all_topics` with no `partitions` sends null Topics: every offset the group has committed (v2+); `all_topics`
// below v2 or with partitions cannot be encoded.
std::vector<std::uint8_t> encode_offset_fetch_request(std::int16_t version, std::string_view group,
                                                      std::span<const TopicPartition> partitions, bool all_topics);

struct CommittedOffset {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;             // -1: nothing committed
  std::int32_t leader_epoch = -1;       // -1 before v5
  std::optional<std::string> metadata;  // nullopt for null
  std::int16_t error_code = 0;
};
struct OffsetFetchAnswer {
  std::int16_t error_code = 0;  // top-level (v2-7) or the group's (v8+); 0 at v1
  std::vector<CommittedOffset> offsets;  // every partition of every topic, in wire order
};
// An OffsetFetch response at `version` in kOffsetFetchRequestVersions. v8+: the Groups entry whose GroupId is
// `group` (false if there is none); v1-7 answer for the one group asked and ignore `group`.
bool decode_offset_fetch_response(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                  std::int16_t version, std::string_view group, OffsetFetchAnswer& out);

}  // namespace kedge::kafka
