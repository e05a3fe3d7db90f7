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
// A writer sees the request and the kind of resource the policy refused
// (Answer::refused): an API that names several kinds answers with the error
// of the refused one, as Kafka's KafkaApis does; unspecified (an API refused
// whole) answers with the error of the resource Kafka authorizes first (the
// group of a group API, the transactional id of a transaction API, each topic
// of a topic API). The request's partitions are the request tables'
// Role::value partition fields.
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
void list_offsets(BodyWriter& w, const Values& values, const Answer& answer) {
  if (w.version() >= 2) w.i32(0);  // ThrottleTimeMs
  write_topic_partitions(w, values, "Name", "PartitionIndex", [&] {
    w.error(answer.topic_error());
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
// GROUP_AUTHORIZATION_FAILED when the group is refused (Kafka authorizes it
// first: OffsetCommitRequest.getErrorResponse), TOPIC_AUTHORIZATION_FAILED
// when a topic is.
void offset_commit(BodyWriter& w, const Values& values, const Answer& answer) {
  if (w.version() >= 3) w.i32(0);  // ThrottleTimeMs
  const ErrorCode error = answer.error_or(ErrorCode::group_authorization_failed, {RefusedResource::topic});
  write_topic_partitions(w, values, "Name", "PartitionIndex", [&] { w.error(error); });
  w.tags();
}

// Entries that own topics, in request order: each `owner_field` value (a
// group id, a transactional id) opens one, the topic names and their
// partitions after it belong to it (OffsetFetch v8+, AddPartitionsToTxn v4+).
struct OwnerEntry {
  const ValueRef* id = nullptr;
  std::vector<TopicEntry> topics;
};
std::vector<OwnerEntry> owners_of(const Values& values, std::string_view owner_field, std::string_view topic_field,
                                  std::string_view partition_field) {
  std::vector<OwnerEntry> owners;
  for (const ValueRef& v : values.all()) {
    if (v.name == owner_field) {
      owners.push_back({&v, {}});
    } else if (owners.empty()) {
      continue;
    } else if (v.name == topic_field) {
      owners.back().topics.push_back({&v, {}});
    } else if (v.name == partition_field && !owners.back().topics.empty()) {
      owners.back().topics.back().partitions.push_back(values.i32(v));
    }
  }
  return owners;
}


// OffsetFetchResponse v0-9 (flexible 6+) (OffsetFetchRequest.getErrorResponse,
// KafkaApis.handleOffsetFetchRequest). The group refused:
//  - v0-1 have no top-level error: every requested partition carries
//    GROUP_AUTHORIZATION_FAILED, CommittedOffset -1, Metadata "" (NO_METADATA);
//  - v2-7: top-level ErrorCode GROUP_AUTHORIZATION_FAILED, Topics [];
//  - v8+ (batched, KIP-709): every group with its ErrorCode, Topics [].
// A topic refused (Describe): every requested partition carries
// TOPIC_AUTHORIZATION_FAILED (Kafka's UNAUTHORIZED_PARTITION: offset and
// leader epoch -1, Metadata ""), and the group errors are NONE.
void offset_fetch(BodyWriter& w, const Values& values, const Answer& answer) {
  if (w.version() >= 3) w.i32(0);  // ThrottleTimeMs
  const ErrorCode error = answer.error_or(ErrorCode::group_authorization_failed, {RefusedResource::topic});
  const bool by_partition = error == answer.topic_error();
  const auto partition_fields = [&] {
    w.i64(-1);                        // CommittedOffset
    if (w.version() >= 5) w.i32(-1);  // CommittedLeaderEpoch
    w.string("");                     // Metadata
    w.error(error);
  };
  if (w.version() <= 1) {
    // Never flexible: write_topic_partitions writes no tag buffers here.
    write_topic_partitions(w, values, "Name", "PartitionIndexes", partition_fields);
  } else if (w.version() <= 7) {
    if (by_partition) write_topic_partitions(w, values, "Name", "PartitionIndexes", partition_fields);
    else w.count(0);  // Topics
    w.error(by_partition ? ErrorCode::none : error);
  } else {
    const std::vector<OwnerEntry> groups = owners_of(values, "GroupId", "Name", "PartitionIndexes");
    w.count(groups.size());
    for (const OwnerEntry& group : groups) {
      w.string(values.text(*group.id));
      if (by_partition) write_topics(w, values, group.topics, partition_fields);
      else w.count(0);  // Topics
      w.error(by_partition ? ErrorCode::none : error);
      w.tags();
    }
  }
  w.tags();
}

// JoinGroupResponse v0-9 (flexible 6+), as JoinGroupRequest.getErrorResponse:
// GROUP_AUTHORIZATION_FAILED, GenerationId -1, ProtocolType null (v7+),
// ProtocolName "" (null from v7, where it is nullable), Leader "",
// SkipAssignment false (v9), MemberId "", no members.
void join_group(BodyWriter& w, const Values&, const Answer&) {
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
void heartbeat(BodyWriter& w, const Values&, const Answer&) {
  if (w.version() >= 1) w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::group_authorization_failed);
  w.tags();
}

// LeaveGroupResponse v0-5 (flexible 4+): GROUP_AUTHORIZATION_FAILED, no
// member results (v3+), as LeaveGroupRequest.getErrorResponse.
void leave_group(BodyWriter& w, const Values&, const Answer&) {
  if (w.version() >= 1) w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::group_authorization_failed);
  if (w.version() >= 3) w.count(0);  // Members
  w.tags();
}

// SyncGroupResponse v0-5 (flexible 4+): GROUP_AUTHORIZATION_FAILED,
// ProtocolType/ProtocolName null (v5+), an empty Assignment
// (SyncGroupRequest.getErrorResponse: new byte[0]).
void sync_group(BodyWriter& w, const Values&, const Answer&) {
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
void describe_groups(BodyWriter& w, const Values& values, const Answer&) {
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
void offset_for_leader_epoch(BodyWriter& w, const Values& values, const Answer& answer) {
  if (w.version() >= 2) w.i32(0);  // ThrottleTimeMs
  const auto topics = topics_of(values, "Topic", "Partition");
  w.count(topics.size());
  for (const TopicEntry& t : topics) {
    w.string(values.text(*t.topic));
    w.count(t.partitions.size());
    for (const std::int32_t p : t.partitions) {
      w.error(answer.topic_error());
      w.i32(p);
      if (w.version() >= 1) w.i32(-1);  // LeaderEpoch
      w.i64(-1);                        // EndOffset
      w.tags();
    }
    w.tags();
  }
  w.tags();
}

// AddPartitionsToTxnResponse v0-5 (flexible 3+): every partition
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (Kafka authorizes Write on the
// transactional id before the topics: errorResponseForTransaction), or
// TOPIC_AUTHORIZATION_FAILED when a topic was refused.
//  - v0-3: ResultsByTopicV3AndBelow, one result per requested partition;
//  - v4+ (KIP-890, batched by transaction): top-level ErrorCode NONE and one
//    ResultsByTransaction entry per transaction, each naming its partitions.
//    Kafka reserves v4+ for brokers (ClusterAction, answered with a top-level
//    CLUSTER_AUTHORIZATION_FAILED); kedge reads these requests by their
//    transactional ids like the client versions, and answers by them.
void add_partitions_to_txn(BodyWriter& w, const Values& values, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  const ErrorCode error = answer.error_or(ErrorCode::transactional_id_authorization_failed, {RefusedResource::topic});
  const auto partition_fields = [&] { w.error(error); };
  if (w.version() <= 3) {
    write_topic_partitions(w, values, "Name", "Partitions", partition_fields);
    w.tags();
    return;
  }
  const std::vector<OwnerEntry> transactions = owners_of(values, "TransactionalId", "Name", "Partitions");
  w.error(ErrorCode::none);  // ErrorCode
  w.count(transactions.size());
  for (const OwnerEntry& txn : transactions) {
    w.string(values.text(*txn.id));
    write_topics(w, values, txn.topics, partition_fields);  // TopicResults, ResultsByPartition
    w.tags();
  }
  w.tags();
}

// AddOffsetsToTxnResponse v0-4 (flexible 3+): TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// the error KafkaApis answers first (Write on the transactional id is checked
// before Read on the group), or GROUP_AUTHORIZATION_FAILED for a refused group.
void add_offsets_to_txn(BodyWriter& w, const Values&, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  w.error(answer.error_or(ErrorCode::transactional_id_authorization_failed, {RefusedResource::group}));
  w.tags();
}

// EndTxnResponse v0-5 (flexible 3+): TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// ProducerId and ProducerEpoch -1 (v5+, KIP-890).
void end_txn(BodyWriter& w, const Values&, const Answer&) {
  w.i32(0);  // ThrottleTimeMs
  w.error(ErrorCode::transactional_id_authorization_failed);
  if (w.version() >= 5) {
    w.i64(-1);  // ProducerId
    w.i16(-1);  // ProducerEpoch
  }
  w.tags();
}

// TxnOffsetCommitResponse v0-4 (flexible 3+): every partition with the
// error of what was refused. Kafka authorizes Write on the transactional id
// first, then Read on the group, then the topics, and answers a denied
// transactional id or group on every partition
// (TxnOffsetCommitRequest.getErrorResponse): 53, 30 or 29.
void txn_offset_commit(BodyWriter& w, const Values& values, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  const ErrorCode error = answer.error_or(ErrorCode::transactional_id_authorization_failed,
                                          {RefusedResource::group, RefusedResource::topic});
  write_topic_partitions(w, values, "Name", "PartitionIndex", [&] { w.error(error); });
  w.tags();
}

// DescribeConfigsResponse v0-4 (flexible 4+): every resource with the error
// of its type (KafkaApis.configsAuthorizationApiError: topic 29, group 30,
// broker and the others 31), `message` as ErrorMessage, no configs. Values
// come in (ResourceType, ResourceName) pairs.
void describe_configs(BodyWriter& w, const Values& values, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  write_config_resources(w, values, answer.message, [&] { w.count(0); });  // Configs
  w.tags();
}

// ConsumerGroupHeartbeatResponse v0-1 and ShareGroupHeartbeatResponse v1
// (flexible 0+, the same layout): GROUP_AUTHORIZATION_FAILED, or
// TOPIC_AUTHORIZATION_FAILED when a subscribed topic was refused (Describe,
// KAFKA-18813), with `message`; the rest as
// <Api>Request.getErrorResponse leaves it: MemberId null, MemberEpoch 0 and
// HeartbeatIntervalMs 0 (the spec gives them no default), Assignment null.
void group_heartbeat(BodyWriter& w, const Values&, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  w.error(answer.error_or(ErrorCode::group_authorization_failed, {RefusedResource::topic}));
  w.nullable_string(answer.message);       // ErrorMessage
  w.nullable_string(std::nullopt);  // MemberId
  w.i32(0);                         // MemberEpoch
  w.i32(0);                         // HeartbeatIntervalMs
  w.i8(-1);                         // Assignment: a null struct
  w.tags();
}

// ShareFetchResponse v1-2 and ShareAcknowledgeResponse v1-2 (flexible 0+),
// refused whole (<Api>Request.getErrorResponse): the top-level
// GROUP_AUTHORIZATION_FAILED (Kafka authorizes Read on the group first), or
// TOPIC_AUTHORIZATION_FAILED for a request kedge could not split by topic,
// `message`, no topics, no endpoints. Topics refused one by one are answered
// per partition through split.h.
void share_answer(BodyWriter& w, const Answer& answer, bool lock_timeout) {
  w.i32(0);  // ThrottleTimeMs
  w.error(answer.error_or(ErrorCode::group_authorization_failed, {RefusedResource::topic}));
  w.nullable_string(answer.message);  // ErrorMessage
  if (lock_timeout) w.i32(0);         // AcquisitionLockTimeoutMs
  w.count(0);                         // Responses
  w.count(0);                         // NodeEndpoints
  w.tags();
}
void share_fetch(BodyWriter& w, const Values&, const Answer& answer) { share_answer(w, answer, true); }
void share_acknowledge(BodyWriter& w, const Values&, const Answer& answer) {
  share_answer(w, answer, w.version() >= 2);
}

// DescribeProducersResponse v0 (flexible 0+): every partition
// TOPIC_AUTHORIZATION_FAILED with `message`, no producers.
void describe_producers(BodyWriter& w, const Values& values, const Answer& answer) {
  w.i32(0);  // ThrottleTimeMs
  write_topic_partitions(w, values, "Name", "PartitionIndexes",
                         [&] { write_refused_describe_producers_partition_fields(w, answer.message); });
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
    case ApiKey::consumer_group_heartbeat:
    case ApiKey::share_group_heartbeat: return group_heartbeat;
    case ApiKey::share_fetch: return share_fetch;
    case ApiKey::share_acknowledge: return share_acknowledge;
    case ApiKey::describe_producers: return describe_producers;
    default: return nullptr;
  }
}

}  // namespace kedge::kafka::refusal
