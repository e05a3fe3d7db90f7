// Response schema table for the messages kedge must walk.
//
// Describes: Apache Kafka 4.3.1 (commit 26b251a451ce, `clients/src/main/resources/common/message/`)
// together with the 3.9.0 ranges that 4.x dropped (Fetch v4+, Produce v3+ are walked
// only where they carry endpoints; see ResponseProcessor). Field facts come from
// /work/shared/kafka-protocol.md §1.2 and the JSON specs it cites.
//
// The client-only table (SaslHandshake, SaslAuthenticate: responses kedge reads on its
// own upstream connections, never on the data path) follows the same release.
//
// How to update (a data change, never a new parser):
//  1. Diff `msg/<Name>Response.json` between the release here and the new one.
//  2. For a new version: widen MessageSchema::valid; add each new field at its
//     wire position with `.in(from(N))`; close removed fields with `.in(range(a, b))`;
//     nullable versions with `.null_in(...)`; tagged fields with `.tagged(tag)`
//     (their taggedVersions equal their versions in every message here).
//  3. Mark NodeId/Host/Port of any new broker-endpoint struct with Role::node_id /
//     host / port. The ApiVersions clamp (max_supported_version) follows `valid`. The schema-derived round-trip test covers every version
//     in `valid` automatically; add golden vectors for the new version.
//  4. Keep request_flexible_from() in sync with `flexibleVersions` of *Request.json.
#include "kafka_codec/schema.h"

#include <algorithm>
#include <array>

#include "kafka_codec/api.h"

namespace kedge::kafka::schema {
namespace {

using T = Type;
using R = Role;
using N = NameKind;

// --- shared structs ---------------------------------------------------------
// NodeEndpoint of Produce v10+/Fetch v16+ (KIP-951), ShareFetch, ShareAcknowledge.
constexpr Field kNodeEndpoint[] = {
    scalar("NodeId", T::int32).as(R::node_id),
    scalar("Host", T::string).as(R::host),
    scalar("Port", T::int32).as(R::port),
    scalar("Rack", T::string).null_in(kAll),
};
constexpr Field kLeaderIdAndEpoch[] = {
    scalar("LeaderId", T::int32),
    scalar("LeaderEpoch", T::int32),
};

// --- Metadata (3): v0-13, flexible 9+ ----------------------------------------
constexpr Field kMetadataBroker[] = {
    scalar("NodeId", T::int32).as(R::node_id),
    scalar("Host", T::string).as(R::host),
    scalar("Port", T::int32).as(R::port),
    scalar("Rack", T::string).in(from(1)).null_in(from(1)),
};
constexpr Field kMetadataPartition[] = {
    scalar("ErrorCode", T::int16),
    scalar("PartitionIndex", T::int32),
    scalar("LeaderId", T::int32),
    scalar("LeaderEpoch", T::int32).in(from(7)),
    array_of("ReplicaNodes", T::int32),
    array_of("IsrNodes", T::int32),
    array_of("OfflineReplicas", T::int32).in(from(5)),
};
constexpr Field kMetadataTopic[] = {
    scalar("ErrorCode", T::int16),
    scalar("Name", T::string).null_in(from(12)).as(R::value).naming(N::topic),
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
    array_of("Topics", kMetadataTopic).as(R::element_list),  // filtered by a policy's ACLs (topic_filter.h)
    scalar("ClusterAuthorizedOperations", T::int32).in(range(8, 10)),
    scalar("ErrorCode", T::int16).in(from(13)),  // KIP-1102
};

// --- FindCoordinator (10): v0-6, flexible 3+ ---------------------------------
constexpr Field kCoordinator[] = {
    scalar("Key", T::string).naming(N::coordinator_key),
    scalar("NodeId", T::int32).as(R::node_id),
    scalar("Host", T::string).as(R::host),
    scalar("Port", T::int32).as(R::port),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
};
constexpr Field kFindCoordinator[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(1)),
    scalar("ErrorCode", T::int16).in(range(0, 3)),
    scalar("ErrorMessage", T::string).in(range(1, 3)).null_in(range(1, 3)),
    scalar("NodeId", T::int32).in(range(0, 3)).as(R::node_id),
    scalar("Host", T::string).in(range(0, 3)).as(R::host),
    scalar("Port", T::int32).in(range(0, 3)).as(R::port),
    array_of("Coordinators", kCoordinator).in(from(4)),  // KIP-699
};

// --- DescribeCluster (60): v0-2, flexible 0+ ---------------------------------
constexpr Field kDescribeClusterBroker[] = {
    scalar("BrokerId", T::int32).as(R::node_id),
    scalar("Host", T::string).as(R::host),
    scalar("Port", T::int32).as(R::port),
    scalar("Rack", T::string).null_in(kAll),
    scalar("IsFenced", T::boolean).in(from(2)),
};
constexpr Field kDescribeCluster[] = {
    scalar("ThrottleTimeMs", T::int32),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
    scalar("EndpointType", T::int8).in(from(1)),  // KIP-919: 2 = controllers
    scalar("ClusterId", T::string),
    scalar("ControllerId", T::int32),
    array_of("Brokers", kDescribeClusterBroker),
    scalar("ClusterAuthorizedOperations", T::int32),
};

// --- ApiVersions (18): v0-4, flexible 3+, response header always v0 ----------
constexpr Field kApiVersion[] = {
    scalar("ApiKey", T::int16).as(R::api_key),
    scalar("MinVersion", T::int16).as(R::min_version),
    scalar("MaxVersion", T::int16).as(R::max_version),
};
constexpr Field kSupportedFeature[] = {
    scalar("Name", T::string),
    scalar("MinVersion", T::int16),
    scalar("MaxVersion", T::int16),
};
constexpr Field kFinalizedFeature[] = {
    scalar("Name", T::string),
    scalar("MaxVersionLevel", T::int16),
    scalar("MinVersionLevel", T::int16),
};
constexpr Field kApiVersions[] = {
    scalar("ErrorCode", T::int16).as(R::value),
    array_of("ApiKeys", kApiVersion).as(R::api_key_list),
    scalar("ThrottleTimeMs", T::int32).in(from(1)),
    array_of("SupportedFeatures", kSupportedFeature).in(from(3)).tagged(0),
    scalar("FinalizedFeaturesEpoch", T::int64).in(from(3)).tagged(1),
    array_of("FinalizedFeatures", kFinalizedFeature).in(from(3)).tagged(2),
    scalar("ZkMigrationReady", T::boolean).in(from(3)).tagged(3),
};

// --- Produce (0): v3-13, flexible 9+ -----------------------------------------
constexpr Field kBatchIndexAndErrorMessage[] = {
    scalar("BatchIndex", T::int32),
    scalar("BatchIndexErrorMessage", T::string).null_in(kAll),
};
constexpr Field kProducePartition[] = {
    scalar("Index", T::int32),
    scalar("ErrorCode", T::int16),
    scalar("BaseOffset", T::int64),
    scalar("LogAppendTimeMs", T::int64).in(from(2)),
    scalar("LogStartOffset", T::int64).in(from(5)),
    array_of("RecordErrors", kBatchIndexAndErrorMessage).in(from(8)),
    scalar("ErrorMessage", T::string).in(from(8)).null_in(from(8)),
    struct_of("CurrentLeader", kLeaderIdAndEpoch).in(from(10)).tagged(0),
};
constexpr Field kProduceTopic[] = {
    scalar("Name", T::string).in(range(0, 12)).naming(N::topic),
    scalar("TopicId", T::uuid).in(from(13)),
    array_of("PartitionResponses", kProducePartition),
};
constexpr Field kProduce[] = {
    array_of("Responses", kProduceTopic),
    // Read to raise it for a throttled client (quotas, KIP-219; stream.cpp).
    scalar("ThrottleTimeMs", T::int32).in(from(1)).as(Role::value),
    array_of("NodeEndpoints", kNodeEndpoint).in(from(10)).tagged(0),  // KIP-951
};

// --- Fetch (1): v4-18, flexible 12+ ------------------------------------------
constexpr Field kEpochEndOffset[] = {
    scalar("Epoch", T::int32),
    scalar("EndOffset", T::int64),
};
constexpr Field kSnapshotId[] = {
    scalar("EndOffset", T::int64),
    scalar("Epoch", T::int32),
};
constexpr Field kAbortedTransaction[] = {
    scalar("ProducerId", T::int64),
    scalar("FirstOffset", T::int64),
};
constexpr Field kFetchPartition[] = {
    scalar("PartitionIndex", T::int32),
    scalar("ErrorCode", T::int16),
    scalar("HighWatermark", T::int64),
    scalar("LastStableOffset", T::int64).in(from(4)),
    scalar("LogStartOffset", T::int64).in(from(5)),
    struct_of("DivergingEpoch", kEpochEndOffset).in(from(12)).tagged(0),
    struct_of("CurrentLeader", kLeaderIdAndEpoch).in(from(12)).tagged(1),
    struct_of("SnapshotId", kSnapshotId).in(from(12)).tagged(2),
    array_of("AbortedTransactions", kAbortedTransaction).in(from(4)).null_in(from(4)),
    scalar("PreferredReadReplica", T::int32).in(from(11)),
    scalar("Records", T::records).null_in(kAll),
};
constexpr Field kFetchTopic[] = {
    scalar("Topic", T::string).in(range(0, 12)).naming(N::topic),
    scalar("TopicId", T::uuid).in(from(13)),
    array_of("Partitions", kFetchPartition),
};
constexpr Field kFetch[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(1)),
    scalar("ErrorCode", T::int16).in(from(7)),
    scalar("SessionId", T::int32).in(from(7)),
    array_of("Responses", kFetchTopic),
    array_of("NodeEndpoints", kNodeEndpoint).in(from(16)).tagged(0),  // KIP-951
};

// Produce and Fetch as split requests' responses are merged (split.h): the
// same layouts, their Responses an element list. Fetch v0-3 is the table
// above without the fields added later.
constexpr Field kProduceSplit[] = {
    array_of("Responses", kProduceTopic).as(R::element_list),
    scalar("ThrottleTimeMs", T::int32).in(from(1)),
    array_of("NodeEndpoints", kNodeEndpoint).in(from(10)).tagged(0),
};
constexpr Field kFetchSplit[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(1)),
    scalar("ErrorCode", T::int16).in(from(7)).as(R::value),
    scalar("SessionId", T::int32).in(from(7)),
    array_of("Responses", kFetchTopic).as(R::element_list),
    array_of("NodeEndpoints", kNodeEndpoint).in(from(16)).tagged(0),
};

// ListGroups (16): v0-5, flexible 3+; filtered by a policy's ACLs (Describe on each group).
constexpr Field kListedGroup[] = {
    scalar("GroupId", T::string).as(R::value).naming(N::group),
    scalar("ProtocolType", T::string),
    scalar("GroupState", T::string).in(from(4)),
    scalar("GroupType", T::string).in(from(5)),
};
constexpr Field kListGroups[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(1)),
    scalar("ErrorCode", T::int16),
    array_of("Groups", kListedGroup).as(R::element_list),
};

// ListTransactions (66): v0-2, flexible 0+ (KIP-664; v1 and v2 change only the request). A namespace lists
// only its own transactions (filter_list_transactions, topic_filter.h): TransactionStates an element list.
constexpr Field kListedTransaction[] = {
    scalar("TransactionalId", T::string).as(R::value).naming(N::transactional_id),
    scalar("ProducerId", T::int64),
    scalar("TransactionState", T::string),
};
constexpr Field kListTransactions[] = {
    scalar("ThrottleTimeMs", T::int32),
    scalar("ErrorCode", T::int16),
    array_of("UnknownStateFilters", T::string),
    array_of("TransactionStates", kListedTransaction).as(R::element_list),
};

// --- ShareFetch (78): v1-2, flexible 0+ (v0 early access, removed in 4.1) ----
constexpr Field kAcquiredRecords[] = {
    scalar("FirstOffset", T::int64),
    scalar("LastOffset", T::int64),
    scalar("DeliveryCount", T::int16),
};
constexpr Field kShareFetchPartition[] = {
    scalar("PartitionIndex", T::int32),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
    scalar("AcknowledgeErrorCode", T::int16),
    scalar("AcknowledgeErrorMessage", T::string).null_in(kAll),
    struct_of("CurrentLeader", kLeaderIdAndEpoch),
    scalar("Records", T::records).null_in(kAll),
    array_of("AcquiredRecords", kAcquiredRecords),
};
constexpr Field kShareFetchTopic[] = {
    scalar("TopicId", T::uuid),
    array_of("Partitions", kShareFetchPartition),
};
constexpr Field kShareFetch[] = {
    scalar("ThrottleTimeMs", T::int32),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
    scalar("AcquisitionLockTimeoutMs", T::int32).in(from(1)),
    array_of("Responses", kShareFetchTopic),
    array_of("NodeEndpoints", kNodeEndpoint),
};

// --- ShareAcknowledge (79): v1-2, flexible 0+ --------------------------------
constexpr Field kShareAcknowledgePartition[] = {
    scalar("PartitionIndex", T::int32),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
    struct_of("CurrentLeader", kLeaderIdAndEpoch),
};
constexpr Field kShareAcknowledgeTopic[] = {
    scalar("TopicId", T::uuid),
    array_of("Partitions", kShareAcknowledgePartition),
};
constexpr Field kShareAcknowledge[] = {
    scalar("ThrottleTimeMs", T::int32),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
    scalar("AcquisitionLockTimeoutMs", T::int32).in(from(2)),
    array_of("Responses", kShareAcknowledgeTopic),
    array_of("NodeEndpoints", kNodeEndpoint),
};

// --- DescribeQuorum (55): v0-2, flexible 0+ ----------------------------------
// Nodes[].Listeners[] are *controller* endpoints (KIP-853). kedge fronts brokers
// only, so they carry no roles: the response is validated, never rewritten, and
// the ApiVersions clamp keeps clients at v1 (no Nodes at all).
constexpr Field kReplicaState[] = {
    scalar("ReplicaId", T::int32),
    scalar("ReplicaDirectoryId", T::uuid).in(from(2)),
    scalar("LogEndOffset", T::int64),
    scalar("LastFetchTimestamp", T::int64).in(from(1)),
    scalar("LastCaughtUpTimestamp", T::int64).in(from(1)),
};
constexpr Field kQuorumPartition[] = {
    scalar("PartitionIndex", T::int32),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).in(from(2)).null_in(from(2)),
    scalar("LeaderId", T::int32),
    scalar("LeaderEpoch", T::int32),
    scalar("HighWatermark", T::int64),
    array_of("CurrentVoters", kReplicaState),
    array_of("Observers", kReplicaState),
};
constexpr Field kQuorumTopic[] = {
    scalar("TopicName", T::string),
    array_of("Partitions", kQuorumPartition),
};
constexpr Field kQuorumListener[] = {
    scalar("Name", T::string),
    scalar("Host", T::string),
    scalar("Port", T::uint16),
};
constexpr Field kQuorumNode[] = {
    scalar("NodeId", T::int32),
    array_of("Listeners", kQuorumListener),
};
constexpr Field kDescribeQuorum[] = {
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).in(from(2)).null_in(from(2)),
    array_of("Topics", kQuorumTopic),
    array_of("Nodes", kQuorumNode).in(from(2)),
};

constexpr MessageSchema schema_of(ApiKey api, Versions valid, std::int16_t flexible_from,
                                  std::span<const Field> fields, bool header_v0_always = false) {
  return MessageSchema{key_of(api), api_name(key_of(api)), valid, flexible_from, fields, header_v0_always};
}

// walked_from: Produce and Fetch carry an address only in the KIP-951 NodeEndpoints tag (v10+ / v16+);
// DescribeQuorum only validates its v2+ Nodes. Clamp: ApiVersions v5 (KIP-1242, trunk) carries the target
// NodeId kedge remaps; DescribeQuorum v2 adds controller listeners kedge does not front.
constexpr std::array kSchemas = {
    schema_of(ApiKey::produce, range(3, 13), 9, kProduce).walked_from_version(10),
    schema_of(ApiKey::fetch, range(4, 18), 12, kFetch).walked_from_version(16),
    schema_of(ApiKey::metadata, range(0, 13), 9, kMetadata),
    schema_of(ApiKey::find_coordinator, range(0, 6), 3, kFindCoordinator),
    schema_of(ApiKey::api_versions, range(0, 4), 3, kApiVersions, /*header_v0_always=*/true),
    schema_of(ApiKey::describe_quorum, range(0, 2), 0, kDescribeQuorum).walked_from_version(2).clients_up_to(1),
    schema_of(ApiKey::describe_cluster, range(0, 2), 0, kDescribeCluster),
    schema_of(ApiKey::share_fetch, range(1, 2), 0, kShareFetch),
    schema_of(ApiKey::share_acknowledge, range(1, 2), 0, kShareAcknowledge),
};

// --- Responses kedge reads only as a client (client_response_schemas) --------
// SaslHandshake (17): v0-1, never flexible. Error 33 UNSUPPORTED_SASL_MECHANISM
// lists the enabled mechanisms.
constexpr Field kSaslHandshake[] = {
    scalar("ErrorCode", T::int16).as(R::value),
    array_of("Mechanisms", T::string).as(R::value),
};
// SaslAuthenticate (36): v0-2, flexible 2+ (KIP-152, KIP-368 SessionLifetimeMs).
constexpr Field kSaslAuthenticate[] = {
    scalar("ErrorCode", T::int16).as(R::value),
    scalar("ErrorMessage", T::string).null_in(kAll).as(R::value),
    scalar("AuthBytes", T::bytes).as(R::value),
    scalar("SessionLifetimeMs", T::int64).in(from(1)).as(R::value),
};

constexpr std::array kClientSchemas = {
    schema_of(ApiKey::sasl_handshake, range(0, 1), kNeverFlexible, kSaslHandshake),
    schema_of(ApiKey::sasl_authenticate, range(0, 2), 2, kSaslAuthenticate),
};

// --- Requests kedge decodes (request_schemas) ---------------------------------
// The requests kedge answers itself: SASL when it terminates client
// authentication (issue 17), and the requests a policy may refuse (issue 18).
// SaslHandshakeRequest (17): Mechanism STRING, v0-1, never flexible.
constexpr Field kSaslHandshakeRequest[] = {
    scalar("Mechanism", T::string).as(R::value),
};
// SaslAuthenticateRequest (36): AuthBytes BYTES, v0-2, flexible 2+.
constexpr Field kSaslAuthenticateRequest[] = {
    scalar("AuthBytes", T::bytes).as(R::value),
};


// Requests a policy may refuse (kafka_codec/refusal.h): the fields a refusal
// names (Role::value) and everything before them. Ranges are the versions
// kedge answers (refusable_versions); the response layouts are in refusal.cpp.
// ProduceRequest (0): v3-13, flexible 9+; v13 names topics by id (KIP-516).
constexpr Field kProducePartitionData[] = {
    scalar("Index", T::int32).as(R::value),
    scalar("Records", T::records).null_in(kAll),
};
constexpr Field kProduceTopicData[] = {
    scalar("Name", T::string).in(range(0, 12)).as(R::value).naming(N::topic),
    scalar("TopicId", T::uuid).in(from(13)).as(R::value),
    array_of("PartitionData", kProducePartitionData),
};
constexpr Field kProduceRequest[] = {
    scalar("TransactionalId", T::string).null_in(kAll).as(R::value).naming(N::transactional_id),
    scalar("Acks", T::int16).as(R::value),
    scalar("TimeoutMs", T::int32),
    array_of("TopicData", kProduceTopicData).as(R::element_list),  // split by a policy's ACLs (split.h)
};
// CreateTopicsRequest (19): v2-7, flexible 5+.
constexpr Field kCreatableReplicaAssignment[] = {
    scalar("PartitionIndex", T::int32),
    array_of("BrokerIds", T::int32),
};
constexpr Field kCreatableTopicConfig[] = {
    scalar("Name", T::string),
    scalar("Value", T::string).null_in(kAll),
};
constexpr Field kCreatableTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    scalar("NumPartitions", T::int32),
    scalar("ReplicationFactor", T::int16),
    array_of("Assignments", kCreatableReplicaAssignment),
    array_of("Configs", kCreatableTopicConfig),
};
constexpr Field kCreateTopicsRequest[] = {
    array_of("Topics", kCreatableTopic).as(R::element_list),  // split by a policy's ACLs (split.h)
    scalar("TimeoutMs", T::int32),
    scalar("ValidateOnly", T::boolean).in(from(1)),
};
// DeleteTopicsRequest (20): v1-6, flexible 4+; v6 names topics by name or id.
constexpr Field kDeleteTopicState[] = {
    scalar("Name", T::string).null_in(kAll).as(R::value).naming(N::topic),
    scalar("TopicId", T::uuid).as(R::value),
};
constexpr Field kDeleteTopicsRequest[] = {
    array_of("Topics", kDeleteTopicState).in(from(6)).as(R::element_list),  // split by name (split.h)
    array_of("TopicNames", T::string).in(range(0, 5)).as(R::element_list).naming(N::topic),
    scalar("TimeoutMs", T::int32),
};
// DeleteRecordsRequest (21): v0-2, flexible 2+.
constexpr Field kDeleteRecordsPartition[] = {
    scalar("PartitionIndex", T::int32).as(R::value),
    scalar("Offset", T::int64),
};
constexpr Field kDeleteRecordsTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    array_of("Partitions", kDeleteRecordsPartition),
};
constexpr Field kDeleteRecordsRequest[] = {
    array_of("Topics", kDeleteRecordsTopic).as(R::element_list),
    scalar("TimeoutMs", T::int32),
};
// InitProducerIdRequest (22): v0-5, flexible 2+.
constexpr Field kInitProducerIdRequest[] = {
    scalar("TransactionalId", T::string).null_in(kAll).as(R::value).naming(N::transactional_id),
    scalar("TransactionTimeoutMs", T::int32),
    scalar("ProducerId", T::int64).in(from(3)),
    scalar("ProducerEpoch", T::int16).in(from(3)),
};
// AlterConfigsRequest (33): v0-2, flexible 2+.
constexpr Field kAlterableConfig[] = {
    scalar("Name", T::string),
    scalar("Value", T::string).null_in(kAll),
};
constexpr Field kAlterConfigsResource[] = {
    scalar("ResourceType", T::int8).as(R::value),
    scalar("ResourceName", T::string).as(R::value).naming(N::altered_config_resource),
    array_of("Configs", kAlterableConfig),
};
constexpr Field kAlterConfigsRequest[] = {
    array_of("Resources", kAlterConfigsResource),
    scalar("ValidateOnly", T::boolean),
};
// IncrementalAlterConfigsRequest (44): v0-1, flexible 1+.
constexpr Field kIncrementalAlterableConfig[] = {
    scalar("Name", T::string),
    scalar("ConfigOperation", T::int8),
    scalar("Value", T::string).null_in(kAll),
};
constexpr Field kIncrementalAlterConfigsResource[] = {
    scalar("ResourceType", T::int8).as(R::value),
    scalar("ResourceName", T::string).as(R::value).naming(N::altered_config_resource),
    array_of("Configs", kIncrementalAlterableConfig),
};
constexpr Field kIncrementalAlterConfigsRequest[] = {
    array_of("Resources", kIncrementalAlterConfigsResource),
    scalar("ValidateOnly", T::boolean),
};
// CreatePartitionsRequest (37): v0-3, flexible 2+.
constexpr Field kCreatePartitionsAssignment[] = {
    array_of("BrokerIds", T::int32),
};
constexpr Field kCreatePartitionsTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    scalar("Count", T::int32),
    array_of("Assignments", kCreatePartitionsAssignment).null_in(kAll),
};
constexpr Field kCreatePartitionsRequest[] = {
    array_of("Topics", kCreatePartitionsTopic).as(R::element_list),
    scalar("TimeoutMs", T::int32),
    scalar("ValidateOnly", T::boolean),
};
// DeleteGroupsRequest (42): v0-2, flexible 2+.
constexpr Field kDeleteGroupsRequest[] = {
    array_of("GroupsNames", T::string).as(R::value).naming(N::group),
};
// OffsetDeleteRequest (47): v0, never flexible.
constexpr Field kOffsetDeleteRequestPartition[] = {
    scalar("PartitionIndex", T::int32).as(R::value),
};
constexpr Field kOffsetDeleteRequestTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    array_of("Partitions", kOffsetDeleteRequestPartition),
};
constexpr Field kOffsetDeleteRequest[] = {
    scalar("GroupId", T::string).as(R::value).naming(N::group),
    array_of("Topics", kOffsetDeleteRequestTopic),
};

// MetadataRequest (3): v0-13, flexible 9+. Read for AllowAutoTopicCreation (v4+), which a read-only
// policy turns off in place (turn_off_auto_topic_creation, refusal.h).
constexpr Field kMetadataRequestTopic[] = {
    scalar("TopicId", T::uuid).in(from(10)),
    scalar("Name", T::string).null_in(from(10)).as(R::value).naming(N::topic),
};
constexpr Field kMetadataRequest[] = {
    array_of("Topics", kMetadataRequestTopic).null_in(from(1)),
    scalar("AllowAutoTopicCreation", T::boolean).in(from(4)).as(R::value),
    scalar("IncludeClusterAuthorizedOperations", T::boolean).in(range(8, 10)),
    scalar("IncludeTopicAuthorizedOperations", T::boolean).in(from(8)),
};


// Requests a policy's ACLs read (acl.h): the leading fields up to the last
// resource name (Role::value), read with read_leading() (Fetch, which kedge
// splits, is read whole: split.h); nothing after them
// is decoded. Ranges are the versions kedge reads (a cluster with ACLs offers
// clients no other: ApiVersions is capped). Topic ids (Fetch v13+, Produce
// v13, KIP-516) are resolved to names through the Metadata kedge has seen
// (policy/topic_ids.h).
// FetchRequest (1): v0-17, flexible 12+ (v18, Kafka 4.3, is not read yet).
constexpr Field kFetchRequestPartition[] = {
    scalar("Partition", T::int32).as(R::value),
    scalar("CurrentLeaderEpoch", T::int32).in(from(9)),
    scalar("FetchOffset", T::int64),
    scalar("LastFetchedEpoch", T::int32).in(from(12)),
    scalar("LogStartOffset", T::int64).in(from(5)),
    scalar("PartitionMaxBytes", T::int32),
};
constexpr Field kFetchRequestTopic[] = {
    scalar("Topic", T::string).in(range(0, 12)).as(R::value).naming(N::topic),
    scalar("TopicId", T::uuid).in(from(13)).as(R::value),  // resolved through the Metadata kedge saw (topic_ids.h)
    array_of("Partitions", kFetchRequestPartition),
};
constexpr Field kFetchForgottenTopic[] = {
    scalar("Topic", T::string).in(range(0, 12)).naming(N::topic),
    scalar("TopicId", T::uuid).in(from(13)),
    array_of("Partitions", T::int32),
};
constexpr Field kFetchRequest[] = {
    scalar("ReplicaId", T::int32).in(range(0, 14)),  // v15+: the ReplicaState tag (brokers only)
    scalar("MaxWaitMs", T::int32),
    scalar("MinBytes", T::int32),
    scalar("MaxBytes", T::int32).in(from(3)),
    scalar("IsolationLevel", T::int8).in(from(4)),
    scalar("SessionId", T::int32).in(from(7)),
    scalar("SessionEpoch", T::int32).in(from(7)),
    array_of("Topics", kFetchRequestTopic).as(R::element_list),  // split by a policy's ACLs (split.h)
    // Read so a Fetch cut short is refused whole rather than split (split.h "does not parse"); the
    // forgotten topics leave the fetch session and need no ACL (Kafka authorizes only Topics).
    array_of("ForgottenTopicsData", kFetchForgottenTopic).in(from(7)),
    scalar("RackId", T::string).in(from(11)),
};
// ListOffsetsRequest (2): v0-10, flexible 6+.
constexpr Field kListOffsetsPartition[] = {
    scalar("PartitionIndex", T::int32).as(R::value),  // named in a refusal (refusal_acl.cpp)
    scalar("CurrentLeaderEpoch", T::int32).in(from(4)),
    scalar("Timestamp", T::int64),
    scalar("MaxNumOffsets", T::int32).in(range(0, 0)),
};
constexpr Field kListOffsetsTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    array_of("Partitions", kListOffsetsPartition),
};
constexpr Field kListOffsetsRequest[] = {
    scalar("ReplicaId", T::int32),
    scalar("IsolationLevel", T::int8).in(from(2)),
    array_of("Topics", kListOffsetsTopic).as(R::element_list),
};
// OffsetCommitRequest (8): v0-9, flexible 8+.
constexpr Field kOffsetCommitPartition[] = {
    scalar("PartitionIndex", T::int32).as(R::value),  // named in a refusal (refusal_acl.cpp)
    scalar("CommittedOffset", T::int64),
    scalar("CommittedLeaderEpoch", T::int32).in(from(6)),
    scalar("CommitTimestamp", T::int64).in(range(1, 1)),
    scalar("CommittedMetadata", T::string).null_in(kAll),
};
constexpr Field kOffsetCommitTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    array_of("Partitions", kOffsetCommitPartition),
};
constexpr Field kOffsetCommitRequest[] = {
    scalar("GroupId", T::string).as(R::value).naming(N::group),
    scalar("GenerationIdOrMemberEpoch", T::int32).in(from(1)),
    scalar("MemberId", T::string).in(from(1)),
    scalar("GroupInstanceId", T::string).in(from(7)).null_in(from(7)),
    scalar("RetentionTimeMs", T::int64).in(range(2, 4)),
    array_of("Topics", kOffsetCommitTopic).as(R::element_list),
};
// OffsetFetchRequest (9): v0-9, flexible 6+; v8+ batches groups.
constexpr Field kOffsetFetchTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    array_of("PartitionIndexes", T::int32).as(R::value),  // named in a v0-1 refusal (refusal_acl.cpp)
};
constexpr Field kOffsetFetchGroup[] = {
    scalar("GroupId", T::string).as(R::value).naming(N::group),
    scalar("MemberId", T::string).in(from(9)).null_in(from(9)),
    scalar("MemberEpoch", T::int32).in(from(9)),
    array_of("Topics", kOffsetFetchTopic).null_in(kAll).as(R::value),  // null: all (offset_fetch_topics_asked)
};
constexpr Field kOffsetFetchRequest[] = {
    scalar("GroupId", T::string).in(range(0, 7)).as(R::value).naming(N::group),
    array_of("Topics", kOffsetFetchTopic).in(range(0, 7)).null_in(range(2, 7)).as(R::value),
    array_of("Groups", kOffsetFetchGroup).in(from(8)),
};
// FindCoordinatorRequest (10): v0-6, flexible 3+ (whole: kedge answers it, refusal.cpp).
constexpr Field kFindCoordinatorRequest[] = {
    scalar("Key", T::string).in(range(0, 3)).as(R::value).naming(N::coordinator_key),
    scalar("KeyType", T::int8).in(from(1)).as(R::value),
    array_of("CoordinatorKeys", T::string).in(from(4)).as(R::value).naming(N::coordinator_key),
};
// JoinGroup (11) v0-9, Heartbeat (12) v0-4, LeaveGroup (13) v0-5, SyncGroup (14) v0-5: GroupId first.
constexpr Field kGroupIdFirst[] = {
    scalar("GroupId", T::string).as(R::value).naming(N::group),
};
// DescribeGroupsRequest (15): v0-5, flexible 5+.
constexpr Field kDescribeGroupsRequest[] = {
    array_of("Groups", T::string).as(R::value).naming(N::group),
};
// OffsetForLeaderEpochRequest (23): v0-4, flexible 4+.
constexpr Field kOffsetForLeaderPartition[] = {
    scalar("Partition", T::int32).as(R::value),  // named in a refusal (refusal_acl.cpp)
    scalar("CurrentLeaderEpoch", T::int32).in(from(2)),
    scalar("LeaderEpoch", T::int32),
};
constexpr Field kOffsetForLeaderTopic[] = {
    scalar("Topic", T::string).as(R::value).naming(N::topic),
    array_of("Partitions", kOffsetForLeaderPartition),
};
constexpr Field kOffsetForLeaderEpochRequest[] = {
    scalar("ReplicaId", T::int32).in(from(3)),
    array_of("Topics", kOffsetForLeaderTopic).as(R::element_list),
};
// AddPartitionsToTxnRequest (24): v0-5, flexible 3+; v4+ batches transactions (KIP-890).
constexpr Field kAddPartitionsToTxnTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    array_of("Partitions", T::int32).as(R::value),  // named in a refusal (refusal_acl.cpp)
};
constexpr Field kAddPartitionsToTxnTransaction[] = {
    scalar("TransactionalId", T::string).as(R::value).naming(N::transactional_id),
    scalar("ProducerId", T::int64),
    scalar("ProducerEpoch", T::int16),
    scalar("VerifyOnly", T::boolean),
    array_of("Topics", kAddPartitionsToTxnTopic),
};
constexpr Field kAddPartitionsToTxnRequest[] = {
    array_of("Transactions", kAddPartitionsToTxnTransaction).in(from(4)),
    scalar("V3AndBelowTransactionalId", T::string).in(range(0, 3)).as(R::value).naming(N::transactional_id),
    scalar("V3AndBelowProducerId", T::int64).in(range(0, 3)),
    scalar("V3AndBelowProducerEpoch", T::int16).in(range(0, 3)),
    array_of("V3AndBelowTopics", kAddPartitionsToTxnTopic).in(range(0, 3)),
};
// AddOffsetsToTxnRequest (25): v0-4, flexible 3+.
constexpr Field kAddOffsetsToTxnRequest[] = {
    scalar("TransactionalId", T::string).as(R::value).naming(N::transactional_id),
    scalar("ProducerId", T::int64),
    scalar("ProducerEpoch", T::int16),
    scalar("GroupId", T::string).as(R::value).naming(N::group),
};
// EndTxnRequest (26): v0-5, flexible 3+.
constexpr Field kTransactionalIdFirst[] = {
    scalar("TransactionalId", T::string).as(R::value).naming(N::transactional_id),
};
// TxnOffsetCommitRequest (28): v0-4, flexible 3+.
constexpr Field kTxnOffsetCommitPartition[] = {
    scalar("PartitionIndex", T::int32).as(R::value),  // named in a refusal (refusal_acl.cpp)
    scalar("CommittedOffset", T::int64),
    scalar("CommittedLeaderEpoch", T::int32).in(from(2)),
    scalar("CommittedMetadata", T::string).null_in(kAll),
};
constexpr Field kTxnOffsetCommitTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    array_of("Partitions", kTxnOffsetCommitPartition),
};
constexpr Field kTxnOffsetCommitRequest[] = {
    scalar("TransactionalId", T::string).as(R::value).naming(N::transactional_id),
    scalar("GroupId", T::string).as(R::value).naming(N::group),
    scalar("ProducerId", T::int64),
    scalar("ProducerEpoch", T::int16),
    scalar("GenerationId", T::int32).in(from(3)),
    scalar("MemberId", T::string).in(from(3)),
    scalar("GroupInstanceId", T::string).in(from(3)).null_in(from(3)),
    array_of("Topics", kTxnOffsetCommitTopic).as(R::element_list),
};
// DescribeConfigsRequest (32): v0-4, flexible 4+.
constexpr Field kDescribeConfigsResource[] = {
    scalar("ResourceType", T::int8).as(R::value),
    scalar("ResourceName", T::string).as(R::value).naming(N::config_resource),
    array_of("ConfigurationKeys", T::string).null_in(kAll),
};
constexpr Field kDescribeConfigsRequest[] = {
    array_of("Resources", kDescribeConfigsResource),
};
// ConsumerGroupHeartbeatRequest (68): v0-1, flexible 0+ (KIP-848). Kafka 4.0+ also authorizes
// Describe on the subscribed topics (KAFKA-18813). A namespace reads it whole (kConsumerGroupHeartbeatRenamed).
constexpr Field kConsumerGroupHeartbeatRequest[] = {
    scalar("GroupId", T::string).as(R::value),
    scalar("MemberId", T::string),
    scalar("MemberEpoch", T::int32),
    scalar("InstanceId", T::string).null_in(kAll),
    scalar("RackId", T::string).null_in(kAll),
    scalar("RebalanceTimeoutMs", T::int32),
    array_of("SubscribedTopicNames", T::string).null_in(kAll).as(R::value),
};
// DescribeProducersRequest (61): v0, flexible 0+; split by a policy's ACLs (split.h).
constexpr Field kDescribeProducersTopic[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    array_of("PartitionIndexes", T::int32).as(R::value),  // named in a refused topic's answer
};
constexpr Field kDescribeProducersRequest[] = {
    array_of("Topics", kDescribeProducersTopic).as(R::element_list),
};
// ShareGroupHeartbeatRequest (76): v1, flexible 0+ (KIP-932; v0 was early access, removed in 4.1).
// Kafka authorizes Read on the group, then Describe on the subscribed topics.
constexpr Field kShareGroupHeartbeatRequest[] = {
    scalar("GroupId", T::string).as(R::value).naming(N::group),
    scalar("MemberId", T::string),
    scalar("MemberEpoch", T::int32),
    scalar("RackId", T::string).null_in(kAll),
    array_of("SubscribedTopicNames", T::string).null_in(kAll).as(R::value).naming(N::topic),
};
// ShareFetchRequest (78) v1-2 and ShareAcknowledgeRequest (79) v1-2, flexible 0+ (KIP-932): Read on
// the group, then Read on each topic (by id, named through the Metadata kedge has seen). Their Topics
// are split by a policy's ACLs (split.h); a refused partition's piggybacked acknowledgements fail with
// it, so each batch is counted (FirstOffset).
constexpr Field kAcknowledgementBatch[] = {
    scalar("FirstOffset", T::int64).as(R::value),
    scalar("LastOffset", T::int64),
    array_of("AcknowledgeTypes", T::int8),
};
constexpr Field kSharePartition[] = {
    scalar("PartitionIndex", T::int32).as(R::value),
    array_of("AcknowledgementBatches", kAcknowledgementBatch),
};
constexpr Field kShareTopic[] = {
    scalar("TopicId", T::uuid).as(R::value),
    array_of("Partitions", kSharePartition),
};
constexpr Field kShareForgottenTopic[] = {
    scalar("TopicId", T::uuid),
    array_of("Partitions", T::int32),
};
constexpr Field kShareFetchRequest[] = {
    scalar("GroupId", T::string).null_in(kAll).as(R::value).naming(N::group),
    scalar("MemberId", T::string).null_in(kAll),
    scalar("ShareSessionEpoch", T::int32),
    scalar("MaxWaitMs", T::int32),
    scalar("MinBytes", T::int32),
    scalar("MaxBytes", T::int32),
    scalar("MaxRecords", T::int32).in(from(1)),
    scalar("BatchSize", T::int32).in(from(1)),
    scalar("ShareAcquireMode", T::int8).in(from(2)),
    array_of("Topics", kShareTopic).as(R::element_list),
    array_of("ForgottenTopicsData", kShareForgottenTopic),  // leave the share session: no ACL
};
constexpr Field kShareAcknowledgeRequest[] = {
    scalar("GroupId", T::string).null_in(kAll).as(R::value).naming(N::group),
    scalar("MemberId", T::string).null_in(kAll),
    scalar("ShareSessionEpoch", T::int32),
    scalar("IsRenewAck", T::boolean).in(from(2)),
    array_of("Topics", kShareTopic).as(R::element_list),
};

// The responses of split share requests and DescribeProducers (split.h): the
// layouts above, their topic arrays an element list.
constexpr Field kShareFetchSplit[] = {
    scalar("ThrottleTimeMs", T::int32),
    scalar("ErrorCode", T::int16).as(R::value),
    scalar("ErrorMessage", T::string).null_in(kAll),
    scalar("AcquisitionLockTimeoutMs", T::int32).in(from(1)),
    array_of("Responses", kShareFetchTopic).as(R::element_list),
    array_of("NodeEndpoints", kNodeEndpoint),
};
constexpr Field kShareAcknowledgeSplit[] = {
    scalar("ThrottleTimeMs", T::int32),
    scalar("ErrorCode", T::int16).as(R::value),
    scalar("ErrorMessage", T::string).null_in(kAll),
    scalar("AcquisitionLockTimeoutMs", T::int32).in(from(2)),
    array_of("Responses", kShareAcknowledgeTopic).as(R::element_list),
    array_of("NodeEndpoints", kNodeEndpoint),
};
constexpr Field kProducerState[] = {
    scalar("ProducerId", T::int64),
    scalar("ProducerEpoch", T::int32),
    scalar("LastSequence", T::int32),
    scalar("LastTimestamp", T::int64),
    scalar("CoordinatorEpoch", T::int32),
    scalar("CurrentTxnStartOffset", T::int64),
};
constexpr Field kDescribeProducersPartition[] = {
    scalar("PartitionIndex", T::int32),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
    array_of("ActiveProducers", kProducerState),
};
constexpr Field kDescribeProducersTopicResponse[] = {
    scalar("Name", T::string).naming(N::topic),
    array_of("Partitions", kDescribeProducersPartition),
};
// ListOffsets (2) v0-10, OffsetCommit (8) v0-9, OffsetForLeaderEpoch (23)
// v0-4, DeleteRecords (21) v0-2, TxnOffsetCommit (28) v0-4, CreateTopics (19)
// v2-7, DeleteTopics (20) v1-6 and CreatePartitions (37) v0-3 as split
// requests' responses are merged (split.h): their topic arrays element lists.
constexpr Field kListOffsetsPartitionResult[] = {
    scalar("PartitionIndex", T::int32),
    scalar("ErrorCode", T::int16),
    array_of("OldStyleOffsets", T::int64).in(range(0, 0)),
    scalar("Timestamp", T::int64).in(from(1)),
    scalar("Offset", T::int64).in(from(1)),
    scalar("LeaderEpoch", T::int32).in(from(4)),
};
constexpr Field kListOffsetsTopicResult[] = {
    scalar("Name", T::string).naming(N::topic),
    array_of("Partitions", kListOffsetsPartitionResult),
};
constexpr Field kListOffsetsSplit[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(2)),
    array_of("Topics", kListOffsetsTopicResult).as(R::element_list),
};
constexpr Field kPartitionErrorResult[] = {  // OffsetCommit, TxnOffsetCommit
    scalar("PartitionIndex", T::int32),
    scalar("ErrorCode", T::int16),
};
constexpr Field kPartitionErrorTopicResult[] = {
    scalar("Name", T::string).naming(N::topic),
    array_of("Partitions", kPartitionErrorResult),
};
constexpr Field kOffsetCommitSplit[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(3)),
    array_of("Topics", kPartitionErrorTopicResult).as(R::element_list),
};
constexpr Field kTxnOffsetCommitSplit[] = {
    scalar("ThrottleTimeMs", T::int32),
    array_of("Topics", kPartitionErrorTopicResult).as(R::element_list),
};
constexpr Field kEpochEndOffsetResult[] = {
    scalar("ErrorCode", T::int16),
    scalar("Partition", T::int32),
    scalar("LeaderEpoch", T::int32).in(from(1)),
    scalar("EndOffset", T::int64),
};
constexpr Field kOffsetForLeaderTopicResult[] = {
    scalar("Topic", T::string).naming(N::topic),
    array_of("Partitions", kEpochEndOffsetResult),
};
constexpr Field kOffsetForLeaderEpochSplit[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(2)),
    array_of("Topics", kOffsetForLeaderTopicResult).as(R::element_list),
};
constexpr Field kDeleteRecordsPartitionResult[] = {
    scalar("PartitionIndex", T::int32),
    scalar("LowWatermark", T::int64),
    scalar("ErrorCode", T::int16),
};
constexpr Field kDeleteRecordsTopicResult[] = {
    scalar("Name", T::string).naming(N::topic),
    array_of("Partitions", kDeleteRecordsPartitionResult),
};
constexpr Field kDeleteRecordsSplit[] = {
    scalar("ThrottleTimeMs", T::int32),
    array_of("Topics", kDeleteRecordsTopicResult).as(R::element_list),
};
constexpr Field kCreatableTopicConfigs[] = {
    scalar("Name", T::string),
    scalar("Value", T::string).null_in(kAll),
    scalar("ReadOnly", T::boolean),
    scalar("ConfigSource", T::int8),
    scalar("IsSensitive", T::boolean),
};
constexpr Field kCreatableTopicResult[] = {
    scalar("Name", T::string).naming(N::topic),
    scalar("TopicId", T::uuid).in(from(7)),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).in(from(1)).null_in(kAll),
    scalar("TopicConfigErrorCode", T::int16).in(from(5)).tagged(0),
    scalar("NumPartitions", T::int32).in(from(5)),
    scalar("ReplicationFactor", T::int16).in(from(5)),
    array_of("Configs", kCreatableTopicConfigs).in(from(5)).null_in(from(5)),
};
constexpr Field kCreateTopicsSplit[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(2)),
    array_of("Topics", kCreatableTopicResult).as(R::element_list),
};
constexpr Field kDeletableTopicResult[] = {
    scalar("Name", T::string).null_in(from(6)).naming(N::topic),
    scalar("TopicId", T::uuid).in(from(6)),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).in(from(5)).null_in(from(5)),
};
constexpr Field kDeleteTopicsSplit[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(1)),
    array_of("Responses", kDeletableTopicResult).as(R::element_list),
};
constexpr Field kCreatePartitionsTopicResult[] = {
    scalar("Name", T::string).naming(N::topic),
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
};
constexpr Field kCreatePartitionsSplit[] = {
    scalar("ThrottleTimeMs", T::int32),
    array_of("Results", kCreatePartitionsTopicResult).as(R::element_list),
};
// OffsetFetch (9): v0-9, flexible 6+; filtered by a policy's ACLs (Describe on
// each topic, topic_filter.h): v0-7 name topics at the top level, v8+ in each group.
constexpr Field kOffsetFetchPartitionResult[] = {
    scalar("PartitionIndex", T::int32).as(R::value),  // named in a refused topic's entry
    scalar("CommittedOffset", T::int64),
    scalar("CommittedLeaderEpoch", T::int32).in(from(5)),
    scalar("Metadata", T::string).null_in(kAll),
    scalar("ErrorCode", T::int16),
};
constexpr Field kOffsetFetchTopicResult[] = {
    scalar("Name", T::string).as(R::value).naming(N::topic),
    array_of("Partitions", kOffsetFetchPartitionResult),
};
constexpr Field kOffsetFetchGroupResult[] = {
    scalar("GroupId", T::string).naming(N::group),
    array_of("Topics", kOffsetFetchTopicResult).as(R::element_list),
    scalar("ErrorCode", T::int16),
};
constexpr Field kOffsetFetchFiltered[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(3)),
    array_of("Topics", kOffsetFetchTopicResult).in(range(0, 7)).as(R::element_list),
    scalar("ErrorCode", T::int16).in(range(2, 7)),
    array_of("Groups", kOffsetFetchGroupResult).in(from(8)),
};
constexpr Field kDescribeProducersSplit[] = {
    scalar("ThrottleTimeMs", T::int32),
    array_of("Topics", kDescribeProducersTopicResponse).as(R::element_list),
};

constexpr std::array kPolicyResponseSchemas = {
    schema_of(ApiKey::produce, range(3, 13), 9, kProduceSplit),
    schema_of(ApiKey::fetch, range(0, 17), 12, kFetchSplit),
    schema_of(ApiKey::list_groups, range(0, 5), 3, kListGroups),
    schema_of(ApiKey::offset_fetch, range(0, 9), 6, kOffsetFetchFiltered),
    schema_of(ApiKey::describe_producers, range(0, 0), 0, kDescribeProducersSplit),
    schema_of(ApiKey::share_fetch, range(1, 2), 0, kShareFetchSplit),
    schema_of(ApiKey::share_acknowledge, range(1, 2), 0, kShareAcknowledgeSplit),
    schema_of(ApiKey::list_offsets, range(0, 10), 6, kListOffsetsSplit),
    schema_of(ApiKey::offset_commit, range(0, 9), 8, kOffsetCommitSplit),
    schema_of(ApiKey::offset_for_leader_epoch, range(0, 4), 4, kOffsetForLeaderEpochSplit),
    schema_of(ApiKey::delete_records, range(0, 2), 2, kDeleteRecordsSplit),
    schema_of(ApiKey::txn_offset_commit, range(0, 4), 3, kTxnOffsetCommitSplit),
    schema_of(ApiKey::create_topics, range(2, 7), 5, kCreateTopicsSplit),
    schema_of(ApiKey::delete_topics, range(1, 6), 4, kDeleteTopicsSplit),
    schema_of(ApiKey::create_partitions, range(0, 3), 2, kCreatePartitionsSplit),
    schema_of(ApiKey::list_transactions, range(0, 2), 0, kListTransactions),
};

// Responses a namespace renames (kafka_codec/rename.h) that no other table
// walks whole: their name fields marked, read with read_body. Ranges: Kafka
// 4.3.1's, entityType topicName / groupId / transactionalId in the specs.
// DescribeGroups (15): v0-5, flexible 5+ (member metadata and assignments are
// the client's opaque bytes: their topic names are the client's own).
constexpr Field kDescribedGroupMember[] = {
    scalar("MemberId", T::string),
    scalar("GroupInstanceId", T::string).in(from(4)).null_in(from(4)),
    scalar("ClientId", T::string),
    scalar("ClientHost", T::string),
    scalar("MemberMetadata", T::bytes),
    scalar("MemberAssignment", T::bytes),
};
constexpr Field kDescribedGroup[] = {
    scalar("ErrorCode", T::int16),
    scalar("GroupId", T::string).naming(N::group),
    scalar("GroupState", T::string),
    scalar("ProtocolType", T::string),
    scalar("ProtocolData", T::string),
    array_of("Members", kDescribedGroupMember),
    scalar("AuthorizedOperations", T::int32).in(from(3)),
};
constexpr Field kDescribeGroupsResponse[] = {
    scalar("ThrottleTimeMs", T::int32).in(from(1)),
    array_of("Groups", kDescribedGroup),
};
// AddPartitionsToTxn (24): v0-5, flexible 3+; v4+ batches transactions (KIP-890).
constexpr Field kAddPartitionsToTxnPartitionResult[] = {
    scalar("PartitionIndex", T::int32),
    scalar("PartitionErrorCode", T::int16),
};
constexpr Field kAddPartitionsToTxnTopicResult[] = {
    scalar("Name", T::string).naming(N::topic),
    array_of("ResultsByPartition", kAddPartitionsToTxnPartitionResult),
};
constexpr Field kAddPartitionsToTxnResult[] = {
    scalar("TransactionalId", T::string).naming(N::transactional_id),
    array_of("TopicResults", kAddPartitionsToTxnTopicResult),
};
constexpr Field kAddPartitionsToTxnResponse[] = {
    scalar("ThrottleTimeMs", T::int32),
    scalar("ErrorCode", T::int16).in(from(4)),
    array_of("ResultsByTransaction", kAddPartitionsToTxnResult).in(from(4)),
    array_of("ResultsByTopicV3AndBelow", kAddPartitionsToTxnTopicResult).in(range(0, 3)),
};
// DescribeConfigs (32): v0-4, flexible 4+. ResourceName is a topic or a group by ResourceType.
constexpr Field kDescribeConfigsSynonym[] = {
    scalar("Name", T::string),
    scalar("Value", T::string).null_in(kAll),
    scalar("Source", T::int8),
};
constexpr Field kDescribeConfigsResourceResult[] = {
    scalar("Name", T::string),
    scalar("Value", T::string).null_in(kAll),
    scalar("ReadOnly", T::boolean),
    scalar("IsDefault", T::boolean).in(range(0, 0)),
    scalar("ConfigSource", T::int8).in(from(1)),
    scalar("IsSensitive", T::boolean),
    array_of("Synonyms", kDescribeConfigsSynonym).in(from(1)),
    scalar("ConfigType", T::int8).in(from(3)),
    scalar("Documentation", T::string).in(from(3)).null_in(kAll),
};
constexpr Field kDescribeConfigsResult[] = {
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
    scalar("ResourceType", T::int8).as(R::value),
    scalar("ResourceName", T::string).naming(N::config_resource),
    array_of("Configs", kDescribeConfigsResourceResult),
};
constexpr Field kDescribeConfigsResponse[] = {
    scalar("ThrottleTimeMs", T::int32),
    array_of("Results", kDescribeConfigsResult),
};
// AlterConfigs (33) v0-2, flexible 2+; IncrementalAlterConfigs (44) v0-1, flexible 1+.
constexpr Field kAlterConfigsResourceResponse[] = {
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
    scalar("ResourceType", T::int8).as(R::value),
    scalar("ResourceName", T::string).naming(N::config_resource),
};
constexpr Field kAlterConfigsResponse[] = {
    scalar("ThrottleTimeMs", T::int32),
    array_of("Responses", kAlterConfigsResourceResponse),
};
// DeleteGroups (42): v0-2, flexible 2+.
constexpr Field kDeletableGroupResult[] = {
    scalar("GroupId", T::string).naming(N::group),
    scalar("ErrorCode", T::int16),
};
constexpr Field kDeleteGroupsResponse[] = {
    scalar("ThrottleTimeMs", T::int32),
    array_of("Results", kDeletableGroupResult),
};
// OffsetDelete (47): v0, never flexible.
constexpr Field kOffsetDeleteResponseTopic[] = {
    scalar("Name", T::string).naming(N::topic),
    array_of("Partitions", kPartitionErrorResult),
};
constexpr Field kOffsetDeleteResponse[] = {
    scalar("ErrorCode", T::int16),
    scalar("ThrottleTimeMs", T::int32),
    array_of("Topics", kOffsetDeleteResponseTopic),
};

// DescribeTransactions (65): v0, flexible 0+ (KIP-664).
constexpr Field kDescribedTransactionTopic[] = {
    scalar("Topic", T::string).naming(N::topic),
    array_of("Partitions", T::int32),
};
constexpr Field kDescribedTransaction[] = {
    scalar("ErrorCode", T::int16),
    scalar("TransactionalId", T::string).naming(N::transactional_id),
    scalar("TransactionState", T::string),
    scalar("TransactionTimeoutMs", T::int32),
    scalar("TransactionStartTimeMs", T::int64),
    scalar("ProducerId", T::int64),
    scalar("ProducerEpoch", T::int16),
    array_of("Topics", kDescribedTransactionTopic),
};
constexpr Field kDescribeTransactionsResponse[] = {
    scalar("ThrottleTimeMs", T::int32),
    array_of("TransactionStates", kDescribedTransaction),
};
// ConsumerGroupDescribe (69): v0-1, flexible 0+ (KIP-848); v1 adds Members[].MemberType (KIP-1099).
constexpr Field kConsumerGroupTopicPartitions[] = {
    scalar("TopicId", T::uuid),
    scalar("TopicName", T::string).naming(N::topic),
    array_of("Partitions", T::int32),
};
constexpr Field kConsumerGroupAssignment[] = {
    array_of("TopicPartitions", kConsumerGroupTopicPartitions),
};
constexpr Field kConsumerGroupMember[] = {
    scalar("MemberId", T::string),
    scalar("InstanceId", T::string).null_in(kAll),
    scalar("RackId", T::string).null_in(kAll),
    scalar("MemberEpoch", T::int32),
    scalar("ClientId", T::string),
    scalar("ClientHost", T::string),
    array_of("SubscribedTopicNames", T::string).naming(N::topic),
    scalar("SubscribedTopicRegex", T::string).null_in(kAll).naming(N::topic_regex),
    struct_of("Assignment", kConsumerGroupAssignment),
    struct_of("TargetAssignment", kConsumerGroupAssignment),
    scalar("MemberType", T::int8).in(from(1)),
};
constexpr Field kConsumerGroupDescribed[] = {
    scalar("ErrorCode", T::int16),
    scalar("ErrorMessage", T::string).null_in(kAll),
    scalar("GroupId", T::string).naming(N::group),
    scalar("GroupState", T::string),
    scalar("GroupEpoch", T::int32),
    scalar("AssignmentEpoch", T::int32),
    scalar("AssignorName", T::string),
    array_of("Members", kConsumerGroupMember),
    scalar("AuthorizedOperations", T::int32),
};
constexpr Field kConsumerGroupDescribeResponse[] = {
    scalar("ThrottleTimeMs", T::int32),
    array_of("Groups", kConsumerGroupDescribed),
};

constexpr std::array kRenameResponseSchemas = {
    schema_of(ApiKey::describe_groups, range(0, 5), 5, kDescribeGroupsResponse),
    schema_of(ApiKey::add_partitions_to_txn, range(0, 5), 3, kAddPartitionsToTxnResponse),
    schema_of(ApiKey::describe_configs, range(0, 4), 4, kDescribeConfigsResponse),
    schema_of(ApiKey::alter_configs, range(0, 2), 2, kAlterConfigsResponse),
    schema_of(ApiKey::incremental_alter_configs, range(0, 1), 1, kAlterConfigsResponse),
    schema_of(ApiKey::delete_groups, range(0, 2), 2, kDeleteGroupsResponse),
    schema_of(ApiKey::offset_delete, range(0, 0), kNeverFlexible, kOffsetDeleteResponse),
    schema_of(ApiKey::describe_transactions, range(0, 0), 0, kDescribeTransactionsResponse),
    schema_of(ApiKey::consumer_group_describe, range(0, 1), 0, kConsumerGroupDescribeResponse),
};

// Requests a namespace renames that no policy reads (in request_schemas(), a policy's ACLs would decide on
// them), or reads past what a policy reads: whole layouts, their names marked. Ranges: Kafka 4.3.1's.
// DescribeTransactionsRequest (65): v0, flexible 0+ (KIP-664).
constexpr Field kDescribeTransactionsRequest[] = {
    array_of("TransactionalIds", T::string).naming(N::transactional_id),
};
// ListTransactionsRequest (66): v0-2, flexible 0+ (KIP-664); v1 adds DurationFilter (KIP-994), v2
// TransactionalIdPattern (KIP-1152: null or "" lists every transaction, which the response filter then
// keeps to the namespace's).
constexpr Field kListTransactionsRequest[] = {
    array_of("StateFilters", T::string),
    array_of("ProducerIdFilters", T::int64),
    scalar("DurationFilter", T::int64).in(from(1)),
    scalar("TransactionalIdPattern", T::string).in(from(2)).null_in(from(2)).naming(N::transactional_id_regex),
};
// ConsumerGroupHeartbeatRequest (68): v0-1, flexible 0+ (KIP-848), whole: v1's SubscribedTopicRegex
// follows the fields a policy reads (kConsumerGroupHeartbeatRequest). TopicPartitions are the partitions the
// member owns, by topic id: what the coordinator assigned it (they read nothing; rename.h names_topics_by_id).
constexpr Field kConsumerGroupHeartbeatTopicPartitions[] = {
    scalar("TopicId", T::uuid),
    array_of("Partitions", T::int32),
};
constexpr Field kConsumerGroupHeartbeatRenamed[] = {
    scalar("GroupId", T::string).naming(N::group),
    scalar("MemberId", T::string),
    scalar("MemberEpoch", T::int32),
    scalar("InstanceId", T::string).null_in(kAll),
    scalar("RackId", T::string).null_in(kAll),
    scalar("RebalanceTimeoutMs", T::int32),
    array_of("SubscribedTopicNames", T::string).null_in(kAll).naming(N::topic),
    // Null: unchanged since the last heartbeat; "": no regex (GroupMetadataManager, isNotEmpty).
    scalar("SubscribedTopicRegex", T::string).in(from(1)).null_in(from(1)).naming(N::topic_regex),
    scalar("ServerAssignor", T::string).null_in(kAll),
    array_of("TopicPartitions", kConsumerGroupHeartbeatTopicPartitions).null_in(kAll),
};
// ConsumerGroupDescribeRequest (69): v0-1, flexible 0+ (KIP-848; v1 changes only the response).
constexpr Field kConsumerGroupDescribeRequest[] = {
    array_of("GroupIds", T::string).naming(N::group),
    scalar("IncludeAuthorizedOperations", T::boolean),
};

constexpr std::array kRenameRequestSchemas = {
    schema_of(ApiKey::describe_transactions, range(0, 0), 0, kDescribeTransactionsRequest),
    schema_of(ApiKey::list_transactions, range(0, 2), 0, kListTransactionsRequest),
    schema_of(ApiKey::consumer_group_heartbeat, range(0, 1), 0, kConsumerGroupHeartbeatRenamed),
    schema_of(ApiKey::consumer_group_describe, range(0, 1), 0, kConsumerGroupDescribeRequest),
};

constexpr std::array kRequestSchemas = {
    schema_of(ApiKey::sasl_handshake, range(0, 1), kNeverFlexible, kSaslHandshakeRequest),
    schema_of(ApiKey::sasl_authenticate, range(0, 2), 2, kSaslAuthenticateRequest),
    schema_of(ApiKey::produce, range(3, 13), 9, kProduceRequest),
    schema_of(ApiKey::metadata, range(0, 13), 9, kMetadataRequest),
    schema_of(ApiKey::create_topics, range(2, 7), 5, kCreateTopicsRequest),
    schema_of(ApiKey::delete_topics, range(1, 6), 4, kDeleteTopicsRequest),
    schema_of(ApiKey::delete_records, range(0, 2), 2, kDeleteRecordsRequest),
    schema_of(ApiKey::init_producer_id, range(0, 5), 2, kInitProducerIdRequest),
    schema_of(ApiKey::alter_configs, range(0, 2), 2, kAlterConfigsRequest),
    schema_of(ApiKey::create_partitions, range(0, 3), 2, kCreatePartitionsRequest),
    schema_of(ApiKey::delete_groups, range(0, 2), 2, kDeleteGroupsRequest),
    schema_of(ApiKey::incremental_alter_configs, range(0, 1), 1, kIncrementalAlterConfigsRequest),
    schema_of(ApiKey::offset_delete, range(0, 0), kNeverFlexible, kOffsetDeleteRequest),
    schema_of(ApiKey::find_coordinator, range(0, 6), 3, kFindCoordinatorRequest),
    schema_of(ApiKey::fetch, range(0, 17), 12, kFetchRequest),
    schema_of(ApiKey::list_offsets, range(0, 10), 6, kListOffsetsRequest).leading_only(),
    schema_of(ApiKey::offset_commit, range(0, 9), 8, kOffsetCommitRequest).leading_only(),
    schema_of(ApiKey::offset_fetch, range(0, 9), 6, kOffsetFetchRequest).leading_only(),
    schema_of(ApiKey::join_group, range(0, 9), 6, kGroupIdFirst).leading_only(),
    schema_of(ApiKey::heartbeat, range(0, 4), 4, kGroupIdFirst).leading_only(),
    schema_of(ApiKey::leave_group, range(0, 5), 4, kGroupIdFirst).leading_only(),
    schema_of(ApiKey::sync_group, range(0, 5), 4, kGroupIdFirst).leading_only(),
    schema_of(ApiKey::describe_groups, range(0, 5), 5, kDescribeGroupsRequest).leading_only(),
    schema_of(ApiKey::offset_for_leader_epoch, range(0, 4), 4, kOffsetForLeaderEpochRequest).leading_only(),
    schema_of(ApiKey::add_partitions_to_txn, range(0, 5), 3, kAddPartitionsToTxnRequest).leading_only(),
    schema_of(ApiKey::add_offsets_to_txn, range(0, 4), 3, kAddOffsetsToTxnRequest).leading_only(),
    schema_of(ApiKey::end_txn, range(0, 5), 3, kTransactionalIdFirst).leading_only(),
    schema_of(ApiKey::txn_offset_commit, range(0, 4), 3, kTxnOffsetCommitRequest).leading_only(),
    schema_of(ApiKey::describe_configs, range(0, 4), 4, kDescribeConfigsRequest).leading_only(),
    schema_of(ApiKey::consumer_group_heartbeat, range(0, 1), 0, kConsumerGroupHeartbeatRequest).leading_only(),
    schema_of(ApiKey::describe_producers, range(0, 0), 0, kDescribeProducersRequest),
    schema_of(ApiKey::share_group_heartbeat, range(1, 1), 0, kShareGroupHeartbeatRequest).leading_only(),
    schema_of(ApiKey::share_fetch, range(1, 2), 0, kShareFetchRequest),
    schema_of(ApiKey::share_acknowledge, range(1, 2), 0, kShareAcknowledgeRequest),
};

// flexibleVersions of msg/<Name>Request.json, keys 0..94 (4.3.1; keys 4-7 from 3.9.0,
// retired in 4.0). -1 = "none" (SaslHandshake 17, OffsetDelete 47).
constexpr std::int16_t kRequestFlexibleFrom[] = {
    9, 12, 6, 9, 4, 2, 6, 3, 8, 6,      // 0-9
    3, 6, 4, 4, 4, 5, 3, -1, 3, 5,      // 10-19
    4, 2, 2, 4, 3, 3, 3, 1, 3, 2,       // 20-29
    2, 2, 4, 2, 2, 2, 2, 2, 2, 2,       // 30-39
    2, 2, 2, 2, 1, 0, 0, -1, 1, 1,      // 40-49
    0, 0, 0, 1, 1, 0, 0, 0, 0, 0,       // 50-59
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       // 60-69
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       // 70-79
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,       // 80-89
    0, 0, 0, 0, 0,                      // 90-94 (93, 94: trunk)
};

}  // namespace

std::span<const MessageSchema> response_schemas() { return kSchemas; }

const MessageSchema* find_response_schema(std::int16_t api_key) {
  for (const auto& s : kSchemas)
    if (s.api_key == api_key) return &s;
  return nullptr;
}

std::span<const MessageSchema> client_response_schemas() { return kClientSchemas; }

std::span<const MessageSchema> request_schemas() { return kRequestSchemas; }

// Looked up for every request a policy inspects: indexed by api key, not scanned.
const MessageSchema* find_request_schema(std::int16_t api_key) {
  static const auto by_key = [] {
    std::array<const MessageSchema*, kApiKeyCount> table{};
    for (const auto& s : kRequestSchemas) {
      if (s.api_key >= 0 && static_cast<std::size_t>(s.api_key) < table.size()) table[static_cast<std::size_t>(s.api_key)] = &s;
    }
    return table;
  }();
  if (api_key < 0 || static_cast<std::size_t>(api_key) >= by_key.size()) return nullptr;
  return by_key[static_cast<std::size_t>(api_key)];
}

const MessageSchema* find_client_response_schema(std::int16_t api_key) {
  if (const MessageSchema* s = find_response_schema(api_key)) return s;
  for (const auto& s : kClientSchemas)
    if (s.api_key == api_key) return &s;
  return nullptr;
}

const MessageSchema* find_policy_response_schema(std::int16_t api_key) {
  for (const auto& s : kPolicyResponseSchemas)
    if (s.api_key == api_key) return &s;
  return nullptr;
}

// The rename-only request tables first, then the request tables a policy reads (when they name something).
const MessageSchema* find_rename_request_schema(std::int16_t api_key) {
  for (const auto& s : kRenameRequestSchemas)
    if (s.api_key == api_key) return &s;
  const MessageSchema* s = find_request_schema(api_key);
  if (s == nullptr) return nullptr;
  const auto named = [](const auto& self, std::span<const Field> fields) -> bool {
    return std::any_of(fields.begin(), fields.end(),
                       [&](const Field& f) { return f.names != NameKind::none || self(self, f.fields); });
  };
  return named(named, s->fields) ? s : nullptr;
}

// The rename tables first, then the policy tables (whole layouts of split and
// filtered responses), then the address tables (Metadata, FindCoordinator).
const MessageSchema* find_rename_response_schema(std::int16_t api_key) {
  for (const auto& s : kRenameResponseSchemas)
    if (s.api_key == api_key) return &s;
  if (const MessageSchema* s = find_policy_response_schema(api_key)) return s;
  if (is(api_key, ApiKey::metadata) || is(api_key, ApiKey::find_coordinator)) return find_response_schema(api_key);
  return nullptr;
}

std::int16_t request_flexible_from(std::int16_t api_key) {
  if (api_key < 0 || static_cast<std::size_t>(api_key) >= std::size(kRequestFlexibleFrom)) return -1;
  return kRequestFlexibleFrom[api_key];
}

}  // namespace kedge::kafka::schema
