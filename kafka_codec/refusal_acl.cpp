// Refusals only a policy's ACLs reach (refusal_writer.h, acl_writer_for): a
// request naming a topic, group or transactional id the client may not use,
// answered as a broker whose authorizer denied it. Layouts follow
// msg/<Name>Response.json of Kafka 4.3.1 over the versions of each request
// table (schema.cpp "Requests a policy's ACLs read"); every field a refusal
// does not name takes the spec's default (offsets, epochs -1; arrays empty;
// nullable fields null). tests/golden/refusals/ holds an independent encoder's
// answer for every version.
//
// Produce and Fetch are not here: a policy decides them topic by topic and
// answers their refused topics itself (split.h), whole or in part.
//
// A writer sees the request, not which of its resources the policy refused,
// so each API has one rule: the error Kafka's KafkaApis answers when the
// resource it authorizes first is denied (the group of a group API, the
// transactional id of a transaction API, each topic of a topic API). The
// request's partitions are the request tables' Role::value partition fields.
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "kafka_codec/api.h"
#include "kafka_codec/refusal_writer.h"

namespace kedge::kafka::refusal {
namespace {

// An empty BYTES / COMPACT_BYTES value (length 0, not null).
void empty_bytes(BodyWriter& w) {
  if (w.flexible()) wire::put_uvarint(w.out(), 1);
  else w.i32(0);
}

// ListOffsetsResponse v0-10 (flexible 6+): every partition
// TOPIC_AUTHORIZATION_FAILED with no offset (ListOffsetsRequest.getErrorResponse,
// KafkaApis.buildErrorResponse): OldStyleOffsets [] (v0), Timestamp and
// Offset -1 (v1+), LeaderEpoch -1 (v4+).
void list_offsets(BodyWriter& w, const Values& values, std::string_view) {
  if (w.version() >= 2) w.i32(0);  // ThrottleTimeMs
  write_topic_partitions(w, values, "Name", "PartitionIndex", [&] {
    w.error(ErrorCode::topic_authorization_failed);
    if (w.version() == 0) {
      w.count(0);  // OldStyleOffsets
    } else {
      w.i64(-1);  // Timestamp
      w.i64(-1);  // Offset
    }
    if (w.version() >= 4) w.i32(-1);  // LeaderEpoch
  });
  w.tags();
}

// OffsetCommitResponse v0-9 (flexible 8+): every partition
// GROUP_AUTHORIZATION_FAILED. Kafka authorizes the group first and, when it is
// denied, answers every partition with the group's error
// (OffsetCommitRequest.getErrorResponse); a denied topic alone would be
// TOPIC_AUTHORIZATION_FAILED on its partitions, which the writer cannot tell
// apart, so the group's error stands for both.
void offset_commit(BodyWriter& w, const Values& values, std::string_view) {
  if (w.version() >= 3) w.i32(0);  // ThrottleTimeMs
  write_topic_partitions(w, values, "Name", "PartitionIndex", [&] { w.error(ErrorCode::group_authorization_failed); });
  w.tags();
}

// OffsetFetchResponse v0-9 (flexible 6+), the group refused
// (OffsetFetchRequest.getErrorResponse, KafkaApis.handleOffsetFetchRequest):
//  - v0-1 have no top-level error: every requested partition carries
//    GROUP_AUTHORIZATION_FAILED, CommittedOffset -1, Metadata "" (NO_METADATA);
//  - v2-7: top-level ErrorCode GROUP_AUTHORIZATION_FAILED, Topics [];
//  - v8+ (batched, KIP-709): every group with its ErrorCode, Topics [].
void offset_fetch(BodyWriter& w, const Values& values, std::string_view) {
  if (w.version() >= 3) w.i32(0);  // ThrottleTimeMs
  if (w.version() <= 1) {
    // Never flexible: write_topic_partitions writes no tag buffers here.
    write_topic_partitions(w, values, "Name", "PartitionIndexes", [&] {
      w.i64(-1);     // CommittedOffset
      w.string("");  // Metadata
      w.error(ErrorCode::group_authorization_failed);
    });
  } else if (w.version() <= 7) {
    w.count(0);  // Topics
    w.error(ErrorCode::group_authorization_failed);
  } else {
    std::size_t groups = 0;
    for (const ValueRef& v : values.all()) groups += v.name == "GroupId" ? 1 : 0;
    w.count(groups);
    for (const ValueRef& v : values.all()) {
      if (v.name != "GroupId") continue;
      w.string(values.text(v));
      w.count(0);  // Topics
      w.error(ErrorCode::group_authorization_failed);
      w.tags();
    }
  }
  w.tags();
}

// JoinGroupResponse v0-9 (flexible 6+), as JoinGroupRequest.getErrorResponse:
// GROUP_AUTHORIZATION_FAILED, GenerationId -1, ProtocolType null (v7+),
// ProtocolName "" (null from v7, where it is nullable), Leader "",
// SkipAssignment false (v9), MemberId "", no members.
void join_group(BodyWriter& w, const Values&, std::string_view) {
  if (w.version() >= 2) w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::group_authorization_failed);
  w.i32(-1);  // GenerationId
  if (w.version() >= 7) {
    w.nullable_string(std::nullopt);  // ProtocolType
    w.nullable_string(std::nullopt);  // ProtocolName
  } else {
    w.string("");  // ProtocolName
  }
  w.string("");                    // Leader
  if (w.version() >= 9) w.i8(0);   // SkipAssignment
  w.string("");                    // MemberId
  w.count(0);                      // Members
  w.tags();
}

// HeartbeatResponse v0-4 (flexible 4+): GROUP_AUTHORIZATION_FAILED.
void heartbeat(BodyWriter& w, const Values&, std::string_view) {
  if (w.version() >= 1) w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::group_authorization_failed);
  w.tags();
}

// LeaveGroupResponse v0-5 (flexible 4+): GROUP_AUTHORIZATION_FAILED, no
// member results (v3+), as LeaveGroupRequest.getErrorResponse.
void leave_group(BodyWriter& w, const Values&, std::string_view) {
  if (w.version() >= 1) w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::group_authorization_failed);
  if (w.version() >= 3) w.count(0);  // Members
  w.tags();
}

// SyncGroupResponse v0-5 (flexible 4+): GROUP_AUTHORIZATION_FAILED,
// ProtocolType/ProtocolName null (v5+), an empty Assignment
// (SyncGroupRequest.getErrorResponse: new byte[0]).
void sync_group(BodyWriter& w, const Values&, std::string_view) {
  if (w.version() >= 1) w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::group_authorization_failed);
  if (w.version() >= 5) {
    w.nullable_string(std::nullopt);  // ProtocolType
    w.nullable_string(std::nullopt);  // ProtocolName
  }
  empty_bytes(w);  // Assignment
  w.tags();
}

// DescribeGroupsResponse v0-5 (flexible 5+): every group
// GROUP_AUTHORIZATION_FAILED (DescribeGroupsResponse.groupError): GroupState,
// ProtocolType, ProtocolData "", no members, AuthorizedOperations omitted
// (INT32_MIN, v3+).
void describe_groups(BodyWriter& w, const Values& values, std::string_view) {
  if (w.version() >= 1) w.i32(0);  // ThrottleTimeMs
  w.count(values.all().size());
  for (const ValueRef& group : values.all()) {
    w.error(ErrorCode::group_authorization_failed);
    w.string(values.text(group));  // GroupId
    w.string("");                  // GroupState
    w.string("");                  // ProtocolType
    w.string("");                  // ProtocolData
    w.count(0);                    // Members
    if (w.version() >= 3) w.i32(std::numeric_limits<std::int32_t>::min());  // AuthorizedOperations
    w.tags();
  }
  w.tags();
}

// OffsetForLeaderEpochResponse v0-4 (flexible 4+): every partition
// TOPIC_AUTHORIZATION_FAILED, LeaderEpoch -1 (v1+), EndOffset -1
// (OffsetsForLeaderEpochRequest.getErrorResponse). ErrorCode comes before
// Partition in this layout.
void offset_for_leader_epoch(BodyWriter& w, const Values& values, std::string_view) {
  if (w.version() >= 2) w.i32(0);  // ThrottleTimeMs
  const auto topics = topics_of(values, "Topic", "Partition");
  w.count(topics.size());
  for (const TopicEntry& t : topics) {
    w.string(values.text(*t.topic));
    w.count(t.partitions.size());
    for (const std::int32_t p : t.partitions) {
      w.error(ErrorCode::topic_authorization_failed);
      w.i32(p);
      if (w.version() >= 1) w.i32(-1);  // LeaderEpoch
      w.i64(-1);                        // EndOffset
      w.tags();
    }
    w.tags();
  }
  w.tags();
}

// The transactions of an AddPartitionsToTxn v4+ request: a TransactionalId
// value opens one, the topic Names and their Partitions after it belong to it.
struct TransactionEntry {
  const ValueRef* id = nullptr;
  std::vector<TopicEntry> topics;
};

// AddPartitionsToTxnResponse v0-5 (flexible 3+): every partition
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (Kafka authorizes Write on the
// transactional id before the topics: errorResponseForTransaction).
//  - v0-3: ResultsByTopicV3AndBelow, one result per requested partition;
//  - v4+ (KIP-890, batched by transaction): top-level ErrorCode NONE and one
//    ResultsByTransaction entry per transaction, each naming its partitions.
//    Kafka reserves v4+ for brokers (ClusterAction, answered with a top-level
//    CLUSTER_AUTHORIZATION_FAILED); kedge reads these requests by their
//    transactional ids like the client versions, and answers by them.
void add_partitions_to_txn(BodyWriter& w, const Values& values, std::string_view) {
  w.i32(0);  // ThrottleTimeMs
  const auto partition_fields = [&] { w.error(ErrorCode::transactional_id_authorization_failed); };
  if (w.version() <= 3) {
    write_topic_partitions(w, values, "Name", "Partitions", partition_fields);
    w.tags();
    return;
  }
  std::vector<TransactionEntry> transactions;
  for (const ValueRef& v : values.all()) {
    if (v.name == "TransactionalId") {
      transactions.push_back({&v, {}});
    } else if (transactions.empty()) {
      continue;
    } else if (v.name == "Name") {
      transactions.back().topics.push_back({&v, {}});
    } else if (v.name == "Partitions" && !transactions.back().topics.empty()) {
      transactions.back().topics.back().partitions.push_back(values.i32(v));
    }
  }
  w.error(ErrorCode::none);  // ErrorCode
  w.count(transactions.size());
  for (const TransactionEntry& txn : transactions) {
    w.string(values.text(*txn.id));
    w.count(txn.topics.size());  // TopicResults
    for (const TopicEntry& t : txn.topics) {
      w.string(values.text(*t.topic));
      w.count(t.partitions.size());  // ResultsByPartition
      for (const std::int32_t p : t.partitions) {
        w.i32(p);
        partition_fields();
        w.tags();
      }
      w.tags();
    }
    w.tags();
  }
  w.tags();
}

// AddOffsetsToTxnResponse v0-4 (flexible 3+): TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// the error KafkaApis answers first (Write on the transactional id is checked
// before Read on the group).
void add_offsets_to_txn(BodyWriter& w, const Values&, std::string_view) {
  w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::transactional_id_authorization_failed);
  w.tags();
}

// EndTxnResponse v0-5 (flexible 3+): TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// ProducerId and ProducerEpoch -1 (v5+, KIP-890).
void end_txn(BodyWriter& w, const Values&, std::string_view) {
  w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::transactional_id_authorization_failed);
  if (w.version() >= 5) {
    w.i64(-1);  // ProducerId
    w.i16(-1);  // ProducerEpoch
  }
  w.tags();
}

// TxnOffsetCommitResponse v0-4 (flexible 3+): every partition
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED. Kafka authorizes Write on the
// transactional id first, then Read on the group, then the topics, and answers
// a denied transactional id or group on every partition
// (TxnOffsetCommitRequest.getErrorResponse); the writer cannot tell which was
// refused and answers with the first check's error, which a producer treats as
// fatal as it does the group's.
void txn_offset_commit(BodyWriter& w, const Values& values, std::string_view) {
  w.i32(0);  // ThrottleTimeMs
  write_topic_partitions(w, values, "Name", "PartitionIndex",
                         [&] { w.error(ErrorCode::transactional_id_authorization_failed); });
  w.tags();
}

// DescribeConfigsResponse v0-4 (flexible 4+): every resource with the error
// of its type (KafkaApis.configsAuthorizationApiError: topic 29, group 30,
// broker and the others 31), `message` as ErrorMessage, no configs. Values
// come in (ResourceType, ResourceName) pairs.
void describe_configs(BodyWriter& w, const Values& values, std::string_view message) {
  w.i32(0);  // ThrottleTimeMs
  write_config_resources(w, values, message, [&] { w.count(0); });  // Configs
  w.tags();
}

// ConsumerGroupHeartbeatResponse v0-1 (flexible 0+): GROUP_AUTHORIZATION_FAILED
// with `message`; the rest as ConsumerGroupHeartbeatRequest.getErrorResponse
// leaves it: MemberId null, MemberEpoch 0 and HeartbeatIntervalMs 0 (the spec
// gives them no default), Assignment null.
void consumer_group_heartbeat(BodyWriter& w, const Values&, std::string_view message) {
  w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::group_authorization_failed);
  w.nullable_string(message);       // ErrorMessage
  w.nullable_string(std::nullopt);  // MemberId
  w.i32(0);                         // MemberEpoch
  w.i32(0);                         // HeartbeatIntervalMs
  w.i8(-1);                         // Assignment: a null struct
  w.tags();
}

}  // namespace

Writer acl_writer_for(std::int16_t api_key) {
  switch (static_cast<ApiKey>(api_key)) {
    case ApiKey::list_offsets: return list_offsets;
    case ApiKey::offset_commit: return offset_commit;
    case ApiKey::offset_fetch: return offset_fetch;
    case ApiKey::join_group: return join_group;
    case ApiKey::heartbeat: return heartbeat;
    case ApiKey::leave_group: return leave_group;
    case ApiKey::sync_group: return sync_group;
    case ApiKey::describe_groups: return describe_groups;
    case ApiKey::offset_for_leader_epoch: return offset_for_leader_epoch;
    case ApiKey::add_partitions_to_txn: return add_partitions_to_txn;
    case ApiKey::add_offsets_to_txn: return add_offsets_to_txn;
    case ApiKey::end_txn: return end_txn;
    case ApiKey::txn_offset_commit: return txn_offset_commit;
    case ApiKey::describe_configs: return describe_configs;
    case ApiKey::consumer_group_heartbeat: return consumer_group_heartbeat;
    default: return nullptr;
  }
}

}  // namespace kedge::kafka::refusal
