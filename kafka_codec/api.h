#pragma once
// Kafka API keys and names, written once (kafka-protocol.md §3: Kafka 4.3.1, the keys retired in 4.0, and
// trunk's 93/94). Everything that names an API (the codec, counters, logs, the SASL client, the upstream
// link) uses ApiKey and api_name(); no API key is a bare literal elsewhere.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kedge::kafka {

// X(key, identifier, name as Kafka's message specs spell it)
#define KEDGE_KAFKA_APIS(X) \
  X(0, produce, "Produce") \
  X(1, fetch, "Fetch") \
  X(2, list_offsets, "ListOffsets") \
  X(3, metadata, "Metadata") \
  X(4, leader_and_isr, "LeaderAndIsr") \
  X(5, stop_replica, "StopReplica") \
  X(6, update_metadata, "UpdateMetadata") \
  X(7, controlled_shutdown, "ControlledShutdown") \
  X(8, offset_commit, "OffsetCommit") \
  X(9, offset_fetch, "OffsetFetch") \
  X(10, find_coordinator, "FindCoordinator") \
  X(11, join_group, "JoinGroup") \
  X(12, heartbeat, "Heartbeat") \
  X(13, leave_group, "LeaveGroup") \
  X(14, sync_group, "SyncGroup") \
  X(15, describe_groups, "DescribeGroups") \
  X(16, list_groups, "ListGroups") \
  X(17, sasl_handshake, "SaslHandshake") \
  X(18, api_versions, "ApiVersions") \
  X(19, create_topics, "CreateTopics") \
  X(20, delete_topics, "DeleteTopics") \
  X(21, delete_records, "DeleteRecords") \
  X(22, init_producer_id, "InitProducerId") \
  X(23, offset_for_leader_epoch, "OffsetForLeaderEpoch") \
  X(24, add_partitions_to_txn, "AddPartitionsToTxn") \
  X(25, add_offsets_to_txn, "AddOffsetsToTxn") \
  X(26, end_txn, "EndTxn") \
  X(27, write_txn_markers, "WriteTxnMarkers") \
  X(28, txn_offset_commit, "TxnOffsetCommit") \
  X(29, describe_acls, "DescribeAcls") \
  X(30, create_acls, "CreateAcls") \
  X(31, delete_acls, "DeleteAcls") \
  X(32, describe_configs, "DescribeConfigs") \
  X(33, alter_configs, "AlterConfigs") \
  X(34, alter_replica_log_dirs, "AlterReplicaLogDirs") \
  X(35, describe_log_dirs, "DescribeLogDirs") \
  X(36, sasl_authenticate, "SaslAuthenticate") \
  X(37, create_partitions, "CreatePartitions") \
  X(38, create_delegation_token, "CreateDelegationToken") \
  X(39, renew_delegation_token, "RenewDelegationToken") \
  X(40, expire_delegation_token, "ExpireDelegationToken") \
  X(41, describe_delegation_token, "DescribeDelegationToken") \
  X(42, delete_groups, "DeleteGroups") \
  X(43, elect_leaders, "ElectLeaders") \
  X(44, incremental_alter_configs, "IncrementalAlterConfigs") \
  X(45, alter_partition_reassignments, "AlterPartitionReassignments") \
  X(46, list_partition_reassignments, "ListPartitionReassignments") \
  X(47, offset_delete, "OffsetDelete") \
  X(48, describe_client_quotas, "DescribeClientQuotas") \
  X(49, alter_client_quotas, "AlterClientQuotas") \
  X(50, describe_user_scram_credentials, "DescribeUserScramCredentials") \
  X(51, alter_user_scram_credentials, "AlterUserScramCredentials") \
  X(52, vote, "Vote") \
  X(53, begin_quorum_epoch, "BeginQuorumEpoch") \
  X(54, end_quorum_epoch, "EndQuorumEpoch") \
  X(55, describe_quorum, "DescribeQuorum") \
  X(56, alter_partition, "AlterPartition") \
  X(57, update_features, "UpdateFeatures") \
  X(58, envelope, "Envelope") \
  X(59, fetch_snapshot, "FetchSnapshot") \
  X(60, describe_cluster, "DescribeCluster") \
  X(61, describe_producers, "DescribeProducers") \
  X(62, broker_registration, "BrokerRegistration") \
  X(63, broker_heartbeat, "BrokerHeartbeat") \
  X(64, unregister_broker, "UnregisterBroker") \
  X(65, describe_transactions, "DescribeTransactions") \
  X(66, list_transactions, "ListTransactions") \
  X(67, allocate_producer_ids, "AllocateProducerIds") \
  X(68, consumer_group_heartbeat, "ConsumerGroupHeartbeat") \
  X(69, consumer_group_describe, "ConsumerGroupDescribe") \
  X(70, controller_registration, "ControllerRegistration") \
  X(71, get_telemetry_subscriptions, "GetTelemetrySubscriptions") \
  X(72, push_telemetry, "PushTelemetry") \
  X(73, assign_replicas_to_dirs, "AssignReplicasToDirs") \
  X(74, list_config_resources, "ListConfigResources") \
  X(75, describe_topic_partitions, "DescribeTopicPartitions") \
  X(76, share_group_heartbeat, "ShareGroupHeartbeat") \
  X(77, share_group_describe, "ShareGroupDescribe") \
  X(78, share_fetch, "ShareFetch") \
  X(79, share_acknowledge, "ShareAcknowledge") \
  X(80, add_raft_voter, "AddRaftVoter") \
  X(81, remove_raft_voter, "RemoveRaftVoter") \
  X(82, update_raft_voter, "UpdateRaftVoter") \
  X(83, initialize_share_group_state, "InitializeShareGroupState") \
  X(84, read_share_group_state, "ReadShareGroupState") \
  X(85, write_share_group_state, "WriteShareGroupState") \
  X(86, delete_share_group_state, "DeleteShareGroupState") \
  X(87, read_share_group_state_summary, "ReadShareGroupStateSummary") \
  X(88, streams_group_heartbeat, "StreamsGroupHeartbeat") \
  X(89, streams_group_describe, "StreamsGroupDescribe") \
  X(90, describe_share_group_offsets, "DescribeShareGroupOffsets") \
  X(91, alter_share_group_offsets, "AlterShareGroupOffsets") \
  X(92, delete_share_group_offsets, "DeleteShareGroupOffsets") \
  X(93, streams_group_topology_description_update, "StreamsGroupTopologyDescriptionUpdate") \
  X(94, unregister_controller, "UnregisterController")

enum class ApiKey : std::int16_t {
#define KEDGE_X(key, id, name) id = key,
  KEDGE_KAFKA_APIS(KEDGE_X)
#undef KEDGE_X
};

// One past the highest key in the table.
inline constexpr std::size_t kApiKeyCount = 0
#define KEDGE_X(key, id, name) +1
    KEDGE_KAFKA_APIS(KEDGE_X)
#undef KEDGE_X
    ;

constexpr std::int16_t key_of(ApiKey api) { return static_cast<std::int16_t>(api); }
constexpr bool is(std::int16_t api_key, ApiKey api) { return api_key == key_of(api); }

// The API's name ("Metadata"), or "" for a key outside the table.
constexpr std::string_view api_name(std::int16_t api_key) {
  switch (api_key) {
#define KEDGE_X(key, id, name) case key: return name;
    KEDGE_KAFKA_APIS(KEDGE_X)
#undef KEDGE_X
  }
  return {};
}

}  // namespace kedge::kafka
