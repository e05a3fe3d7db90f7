#!/usr/bin/python3
"""Golden vectors for the resources kedge reads from requests (kafka_codec/refusal.h: read_request_resources,
metadata_requests_all_topics), for a policy's ACLs.

Each case is one whole request frame a client sends (request_hex) and what kedge must read from it:
  resources       [{"type", "name"}] in wire order, each (type, name) once; null when kedge must not read the
                  request at all (a version it has no table for, or a frame that does not parse by the spec);
  all_topics      metadata_requests_all_topics(frame): true only for a Metadata request with a null Topics array
                  (v1+) or an empty one (v0); null = not asserted;
  min_parse_size  the shortest prefix of the frame (size prefix adjusted) that must read: the end of the last
                  top-level field that can hold a resource at that version for the requests kedge reads only up to
                  their resources, the whole frame for the ones it reads whole (Metadata, FindCoordinator); every
                  shorter prefix must give nullopt, every longer one the same resources. null with resources null.

The requests are encoded here from the Apache Kafka message specs (clients/src/main/resources/common/message/
<Api>Request.json, 3.9; Metadata v13 is v12's layout, KIP-1102 bumps it for the response only; DescribeProducers and
the share group APIs from 4.3.1), summarised next to each schema below. This file never looks at kafka_codec/: it
is an independent encoder, so it cross-checks the C++ reader. Only the primitive encoder (Struct / Field / ArrayOf /
encode_struct / encode_value) is shared with ../generate.py; the schemas, the header encoder and the resource rules
are written here.

Resource rules: the fields whose spec "entityType" is topicName, groupId or transactionalId, as Kafka's authorizer
reads them (KafkaApis), with these exceptions and additions:
  * Fetch v13+ Topics[].TopicId is a "topic_id" resource, named by its 32 lowercase hex digits (KIP-516: Kafka
    authorizes the topic the id names; kedge names it through the Metadata it has seen, policy/topic_ids.h); the
    all-zero id names no topic and is not a resource;
  * Fetch ForgottenTopicsData[].Topic (v7-12) and .TopicId (v13+) are not resources (Kafka never authorizes a
    forgotten topic);
  * ShareFetch (v1-2) and ShareAcknowledge (v1-2) Topics[].TopicId are "topic_id" resources like Fetch's; ShareFetch
    ForgottenTopicsData names nothing; their nullable GroupId names no group when null;
  * ConsumerGroupHeartbeat and ShareGroupHeartbeat SubscribedTopicNames are topics (Kafka 4.0+ authorizes Describe on
    them, KAFKA-18813);
  * Metadata Topics[] with a null Name (v10+, a topic asked by id) names nothing;
  * FindCoordinator keys are "group" (KeyType 0, and v0, which has no KeyType), "transactional_id" (KeyType 1) or
    "share_group_key" (KeyType 2, KIP-932);
  * DescribeConfigs ResourceName is typed by its ResourceType: 2 topic, 4 broker, 8 broker_logger, 16 client_metrics,
    32 group, anything else config_resource.

Usage:
  /usr/bin/python3 tests/golden/requests/generate_requests.py            # (re)write every case file
  /usr/bin/python3 tests/golden/requests/generate_requests.py --check    # regenerate into a temp dir and diff
  /usr/bin/python3 tests/golden/requests/generate_requests.py --out DIR  # write into DIR instead
Standard library only.
"""

import copy
import hashlib
import json
import os
import struct
import sys

REQUESTS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(REQUESTS_DIR))

from generate import (  # noqa: E402  (tests/golden/generate.py: spec-driven primitive encoder, case-file CLI)
    UNKNOWN_TAGS, ArrayOf, CaseSet, EncodeContext, Field, Struct, Versions, enc_int32, enc_string,
    enc_tag_buffer, encode_struct, encode_value)

CORRELATION_ID = 0x55667788
CLIENT_ID = "kedge-request-golden"

ZERO_UUID = "00000000000000000000000000000000"
TOPIC_ID_ORDERS = "5d3c9b1a7e2f4c80a1b2c3d4e5f60718"
TOPIC_ID_PAYMENTS = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
# 200 bytes: a compact string length (n + 1) needs a 2-byte unsigned varint.
LONG_TOPIC = ("orders.eu-west-1.retail.checkout.v2." + "x" * 200)[:200]
LONG_GROUP = ("analytics-consumers." + "g" * 200)[:190]
LONG_TXN = ("checkout-transactions." + "t" * 200)[:160]

TOPICS = ["orders", "payments", "audit.\u00fcnic\u00f6de"]
GROUPS = ["billing-consumers", "analytics-\u00fcnic\u00f6de"]
TXNS = ["checkout-tx", "payments-tx"]

# Raw unknown tags a client (newer than kedge) may put in any tag buffer of a flexible request: kedge must skip them.
UNKNOWN_TAG_SMALL = (3, bytes.fromhex("0b6b656467652d74657374"))  # compact string "kedge-test"
UNKNOWN_TAG_WIDE = (130, bytes(range(200)))                       # tag and size both need a 2-byte varint
UNKNOWN_TAG_EMPTY = (7, b"")

CONFIG_RESOURCE_TYPES = {2: "topic", 4: "broker", 8: "broker_logger", 16: "client_metrics", 32: "group"}


def resource(field, kind):
    """Marks `field` as naming a resource: kind is a type string, or (struct value, version) -> type string."""
    field.resource = kind
    return field


def topic(field):
    return resource(field, "topic")


def group(field):
    return resource(field, "group")


def txn(field):
    return resource(field, "transactional_id")


# ---------------------------------------------------------------------------------------------------------------------
# Request schemas (Apache Kafka 3.9 clients/src/main/resources/common/message/*Request.json). Field order is wire
# order; tagged fields are Field(..., tag=N).
# ---------------------------------------------------------------------------------------------------------------------

# FetchRequest.json: validVersions 0-17, flexibleVersions 12+. ClusterId tag 0 (12+, nullable); ReplicaId 0-14;
# ReplicaState tag 1 (15+: ReplicaId, ReplicaEpoch); Topics[].Topic 0-12, TopicId 13+; a partition's
# ReplicaDirectoryId tag 0 (17+); ForgottenTopicsData 7+ (Topic 7-12, TopicId 13+); RackId 11+.
FETCH = Struct("FetchRequest", [
    Field("ClusterId", "string", "12+", nullable="12+", tag=0),
    Field("ReplicaId", "int32", "0-14"),
    Field("ReplicaState", Struct("ReplicaState", [Field("ReplicaId", "int32"), Field("ReplicaEpoch", "int64")]),
          "15+", tag=1),
    Field("MaxWaitMs", "int32"), Field("MinBytes", "int32"), Field("MaxBytes", "int32", "3+"),
    Field("IsolationLevel", "int8", "4+"), Field("SessionId", "int32", "7+"), Field("SessionEpoch", "int32", "7+"),
    Field("Topics", ArrayOf(Struct("FetchTopic", [
        topic(Field("Topic", "string", "0-12")), resource(Field("TopicId", "uuid", "13+"), "topic_id"),
        Field("Partitions", ArrayOf(Struct("FetchPartition", [
            Field("Partition", "int32"), Field("CurrentLeaderEpoch", "int32", "9+"), Field("FetchOffset", "int64"),
            Field("LastFetchedEpoch", "int32", "12+"), Field("LogStartOffset", "int64", "5+"),
            Field("PartitionMaxBytes", "int32"), Field("ReplicaDirectoryId", "uuid", "17+", tag=0)]))),
    ]))),
    Field("ForgottenTopicsData", ArrayOf(Struct("ForgottenTopic", [
        Field("Topic", "string", "7-12"), Field("TopicId", "uuid", "13+"), Field("Partitions", ArrayOf("int32"))])),
        "7+"),
    Field("RackId", "string", "11+"),
])

# ListOffsetsRequest.json: validVersions 0-10, flexibleVersions 6+. MaxNumOffsets v0 only; TimeoutMs 10+.
LIST_OFFSETS = Struct("ListOffsetsRequest", [
    Field("ReplicaId", "int32"), Field("IsolationLevel", "int8", "2+"),
    Field("Topics", ArrayOf(Struct("ListOffsetsTopic", [
        topic(Field("Name", "string")),
        Field("Partitions", ArrayOf(Struct("ListOffsetsPartition", [
            Field("PartitionIndex", "int32"), Field("CurrentLeaderEpoch", "int32", "4+"), Field("Timestamp", "int64"),
            Field("MaxNumOffsets", "int32", "0")]))),
    ]))),
    Field("TimeoutMs", "int32", "10+"),
])

# OffsetCommitRequest.json: validVersions 0-9, flexibleVersions 8+.
OFFSET_COMMIT = Struct("OffsetCommitRequest", [
    group(Field("GroupId", "string")), Field("GenerationIdOrMemberEpoch", "int32", "1+"),
    Field("MemberId", "string", "1+"), Field("GroupInstanceId", "string", "7+", nullable="7+"),
    Field("RetentionTimeMs", "int64", "2-4"),
    Field("Topics", ArrayOf(Struct("OffsetCommitRequestTopic", [
        topic(Field("Name", "string")),
        Field("Partitions", ArrayOf(Struct("OffsetCommitRequestPartition", [
            Field("PartitionIndex", "int32"), Field("CommittedOffset", "int64"),
            Field("CommittedLeaderEpoch", "int32", "6+"), Field("CommitTimestamp", "int64", "1"),
            Field("CommittedMetadata", "string", nullable="0+")]))),
    ]))),
])

# OffsetFetchRequest.json: validVersions 0-9, flexibleVersions 6+. GroupId/Topics 0-7 (Topics nullable 2-7);
# Groups 8+ {GroupId, MemberId 9+ nullable, MemberEpoch 9+, Topics nullable}; RequireStable 7+.
OFFSET_FETCH_TOPIC = Struct("OffsetFetchRequestTopic", [
    topic(Field("Name", "string")), Field("PartitionIndexes", ArrayOf("int32"))])
OFFSET_FETCH = Struct("OffsetFetchRequest", [
    group(Field("GroupId", "string", "0-7")),
    Field("Topics", ArrayOf(OFFSET_FETCH_TOPIC), "0-7", nullable="2-7"),
    Field("Groups", ArrayOf(Struct("OffsetFetchRequestGroup", [
        group(Field("GroupId", "string")), Field("MemberId", "string", "9+", nullable="9+"),
        Field("MemberEpoch", "int32", "9+"), Field("Topics", ArrayOf(OFFSET_FETCH_TOPIC), nullable="8+"),
    ])), "8+"),
    Field("RequireStable", "bool", "7+"),
])


def coordinator_key_type(value, version):
    key_type = value["KeyType"] if version >= 1 else 0
    return {0: "group", 1: "transactional_id", 2: "share_group_key"}[key_type]


# FindCoordinatorRequest.json: validVersions 0-6, flexibleVersions 3+. Key 0-3, KeyType 1+, CoordinatorKeys 4+.
FIND_COORDINATOR = Struct("FindCoordinatorRequest", [
    resource(Field("Key", "string", "0-3"), coordinator_key_type), Field("KeyType", "int8", "1+"),
    resource(Field("CoordinatorKeys", ArrayOf("string"), "4+"), coordinator_key_type),
])

# JoinGroupRequest.json: validVersions 0-9, flexibleVersions 6+. Metadata is BYTES ("records" encodes the same).
JOIN_GROUP = Struct("JoinGroupRequest", [
    group(Field("GroupId", "string")), Field("SessionTimeoutMs", "int32"), Field("RebalanceTimeoutMs", "int32", "1+"),
    Field("MemberId", "string"), Field("GroupInstanceId", "string", "5+", nullable="5+"),
    Field("ProtocolType", "string"),
    Field("Protocols", ArrayOf(Struct("JoinGroupRequestProtocol", [
        Field("Name", "string"), Field("Metadata", "records")]))),
    Field("Reason", "string", "8+", nullable="8+"),
])

# HeartbeatRequest.json: validVersions 0-4, flexibleVersions 4+.
HEARTBEAT = Struct("HeartbeatRequest", [
    group(Field("GroupId", "string")), Field("GenerationId", "int32"), Field("MemberId", "string"),
    Field("GroupInstanceId", "string", "3+", nullable="3+"),
])

# LeaveGroupRequest.json: validVersions 0-5, flexibleVersions 4+. MemberId 0-2; Members 3+.
LEAVE_GROUP = Struct("LeaveGroupRequest", [
    group(Field("GroupId", "string")), Field("MemberId", "string", "0-2"),
    Field("Members", ArrayOf(Struct("MemberIdentity", [
        Field("MemberId", "string"), Field("GroupInstanceId", "string", nullable="3+"),
        Field("Reason", "string", "5+", nullable="5+")])), "3+"),
])

# SyncGroupRequest.json: validVersions 0-5, flexibleVersions 4+. Assignment is BYTES.
SYNC_GROUP = Struct("SyncGroupRequest", [
    group(Field("GroupId", "string")), Field("GenerationId", "int32"), Field("MemberId", "string"),
    Field("GroupInstanceId", "string", "3+", nullable="3+"),
    Field("ProtocolType", "string", "5+", nullable="5+"), Field("ProtocolName", "string", "5+", nullable="5+"),
    Field("Assignments", ArrayOf(Struct("SyncGroupRequestAssignment", [
        Field("MemberId", "string"), Field("Assignment", "records")]))),
])

# DescribeGroupsRequest.json: validVersions 0-5, flexibleVersions 5+.
DESCRIBE_GROUPS = Struct("DescribeGroupsRequest", [
    group(Field("Groups", ArrayOf("string"))), Field("IncludeAuthorizedOperations", "bool", "3+"),
])

# OffsetForLeaderEpochRequest.json: validVersions 0-4, flexibleVersions 4+.
OFFSET_FOR_LEADER_EPOCH = Struct("OffsetForLeaderEpochRequest", [
    Field("ReplicaId", "int32", "3+"),
    Field("Topics", ArrayOf(Struct("OffsetForLeaderTopic", [
        topic(Field("Topic", "string")),
        Field("Partitions", ArrayOf(Struct("OffsetForLeaderPartition", [
            Field("Partition", "int32"), Field("CurrentLeaderEpoch", "int32", "2+"),
            Field("LeaderEpoch", "int32")]))),
    ]))),
])

# AddPartitionsToTxnRequest.json: validVersions 0-5, flexibleVersions 3+. Transactions 4+ (KIP-890 batching);
# V3AndBelow* 0-3. AddPartitionsToTxnTopic {Name, Partitions []int32} is a common struct.
ADD_PARTITIONS_TOPIC = Struct("AddPartitionsToTxnTopic", [topic(Field("Name", "string")),
                                                          Field("Partitions", ArrayOf("int32"))])
ADD_PARTITIONS_TO_TXN = Struct("AddPartitionsToTxnRequest", [
    Field("Transactions", ArrayOf(Struct("AddPartitionsToTxnTransaction", [
        txn(Field("TransactionalId", "string")), Field("ProducerId", "int64"), Field("ProducerEpoch", "int16"),
        Field("VerifyOnly", "bool"), Field("Topics", ArrayOf(ADD_PARTITIONS_TOPIC))])), "4+"),
    txn(Field("V3AndBelowTransactionalId", "string", "0-3")), Field("V3AndBelowProducerId", "int64", "0-3"),
    Field("V3AndBelowProducerEpoch", "int16", "0-3"), Field("V3AndBelowTopics", ArrayOf(ADD_PARTITIONS_TOPIC), "0-3"),
])

# AddOffsetsToTxnRequest.json: validVersions 0-4, flexibleVersions 3+.
ADD_OFFSETS_TO_TXN = Struct("AddOffsetsToTxnRequest", [
    txn(Field("TransactionalId", "string")), Field("ProducerId", "int64"), Field("ProducerEpoch", "int16"),
    group(Field("GroupId", "string")),
])

# EndTxnRequest.json: validVersions 0-5, flexibleVersions 3+.
END_TXN = Struct("EndTxnRequest", [
    txn(Field("TransactionalId", "string")), Field("ProducerId", "int64"), Field("ProducerEpoch", "int16"),
    Field("Committed", "bool"),
])

# TxnOffsetCommitRequest.json: validVersions 0-4, flexibleVersions 3+. Kafka authorizes the transactional id
# (WRITE), the group (READ) and every topic (READ; KafkaApis.handleTxnOffsetCommitRequest).
TXN_OFFSET_COMMIT = Struct("TxnOffsetCommitRequest", [
    txn(Field("TransactionalId", "string")), group(Field("GroupId", "string")), Field("ProducerId", "int64"),
    Field("ProducerEpoch", "int16"), Field("GenerationId", "int32", "3+"), Field("MemberId", "string", "3+"),
    Field("GroupInstanceId", "string", "3+", nullable="3+"),
    Field("Topics", ArrayOf(Struct("TxnOffsetCommitRequestTopic", [
        topic(Field("Name", "string")),
        Field("Partitions", ArrayOf(Struct("TxnOffsetCommitRequestPartition", [
            Field("PartitionIndex", "int32"), Field("CommittedOffset", "int64"),
            Field("CommittedLeaderEpoch", "int32", "2+"), Field("CommittedMetadata", "string", nullable="0+")]))),
    ]))),
])


def config_resource_type(value, version):
    return CONFIG_RESOURCE_TYPES.get(value["ResourceType"], "config_resource")


# DescribeConfigsRequest.json: validVersions 0-4, flexibleVersions 4+.
DESCRIBE_CONFIGS = Struct("DescribeConfigsRequest", [
    Field("Resources", ArrayOf(Struct("DescribeConfigsResource", [
        Field("ResourceType", "int8"), resource(Field("ResourceName", "string"), config_resource_type),
        Field("ConfigurationKeys", ArrayOf("string"), nullable="0+")]))),
    Field("IncludeSynonyms", "bool", "1+"), Field("IncludeDocumentation", "bool", "3+"),
])

# ConsumerGroupHeartbeatRequest.json: validVersions 0-1, flexibleVersions 0+. SubscribedTopicRegex 1+.
CONSUMER_GROUP_HEARTBEAT = Struct("ConsumerGroupHeartbeatRequest", [
    group(Field("GroupId", "string")), Field("MemberId", "string"), Field("MemberEpoch", "int32"),
    Field("InstanceId", "string", nullable="0+"), Field("RackId", "string", nullable="0+"),
    Field("RebalanceTimeoutMs", "int32"), topic(Field("SubscribedTopicNames", ArrayOf("string"), nullable="0+")),
    Field("SubscribedTopicRegex", "string", "1+", nullable="1+"), Field("ServerAssignor", "string", nullable="0+"),
    Field("TopicPartitions", ArrayOf(Struct("TopicPartitions", [
        Field("TopicId", "uuid"), Field("Partitions", ArrayOf("int32"))])), nullable="0+"),
])


# Kafka 4.3.1 (clients/src/main/resources/common/message/<Api>Request.json of that release): the share group APIs
# (KIP-932; v0 was early access in 4.0 and removed in 4.1) and DescribeProducers. All flexible in every version.

# DescribeProducersRequest.json: validVersions 0, flexibleVersions 0+. Kafka authorizes Read on each topic.
DESCRIBE_PRODUCERS = Struct("DescribeProducersRequest", [
    Field("Topics", ArrayOf(Struct("TopicRequest", [
        topic(Field("Name", "string")), Field("PartitionIndexes", ArrayOf("int32"))]))),
])

# ShareGroupHeartbeatRequest.json: validVersions 1 (4.1+), flexibleVersions 0+. Kafka authorizes Read on the group,
# then Describe on each subscribed topic (SubscribedTopicNames carries entityType topicName).
SHARE_GROUP_HEARTBEAT = Struct("ShareGroupHeartbeatRequest", [
    group(Field("GroupId", "string")), Field("MemberId", "string"), Field("MemberEpoch", "int32"),
    Field("RackId", "string", nullable="0+"),
    topic(Field("SubscribedTopicNames", ArrayOf("string"), nullable="0+")),
])

# The AcknowledgementBatch of ShareFetchRequest.json and ShareAcknowledgeRequest.json.
ACKNOWLEDGEMENT_BATCH = Struct("AcknowledgementBatch", [
    Field("FirstOffset", "int64"), Field("LastOffset", "int64"), Field("AcknowledgeTypes", ArrayOf("int8"))])

# ShareFetchRequest.json: validVersions 1-2, flexibleVersions 0+. GroupId nullable (entityType groupId), MemberId
# nullable; MaxRecords / BatchSize 1+; ShareAcquireMode int8 2+ (KIP-1206); PartitionMaxBytes v0 only (not on any
# version read here). Topics[].TopicId is a "topic_id" resource (Kafka authorizes Read on the topic it names);
# ForgottenTopicsData names no resource (never authorized).
SHARE_FETCH = Struct("ShareFetchRequest", [
    group(Field("GroupId", "string", nullable="0+")), Field("MemberId", "string", nullable="0+"),
    Field("ShareSessionEpoch", "int32"), Field("MaxWaitMs", "int32"), Field("MinBytes", "int32"),
    Field("MaxBytes", "int32"), Field("MaxRecords", "int32", "1+"), Field("BatchSize", "int32", "1+"),
    Field("ShareAcquireMode", "int8", "2+"),
    Field("Topics", ArrayOf(Struct("FetchTopic", [
        resource(Field("TopicId", "uuid"), "topic_id"),
        Field("Partitions", ArrayOf(Struct("FetchPartition", [
            Field("PartitionIndex", "int32"), Field("PartitionMaxBytes", "int32", "0"),
            Field("AcknowledgementBatches", ArrayOf(ACKNOWLEDGEMENT_BATCH))]))),
    ]))),
    Field("ForgottenTopicsData", ArrayOf(Struct("ForgottenTopic", [
        Field("TopicId", "uuid"), Field("Partitions", ArrayOf("int32"))]))),
])

# ShareAcknowledgeRequest.json: validVersions 1-2, flexibleVersions 0+. GroupId / MemberId nullable; IsRenewAck bool
# 2+ (KIP-1222). Topics[].TopicId is a "topic_id" resource.
SHARE_ACKNOWLEDGE = Struct("ShareAcknowledgeRequest", [
    group(Field("GroupId", "string", nullable="0+")), Field("MemberId", "string", nullable="0+"),
    Field("ShareSessionEpoch", "int32"), Field("IsRenewAck", "bool", "2+"),
    Field("Topics", ArrayOf(Struct("AcknowledgeTopic", [
        resource(Field("TopicId", "uuid"), "topic_id"),
        Field("Partitions", ArrayOf(Struct("AcknowledgePartition", [
            Field("PartitionIndex", "int32"), Field("AcknowledgementBatches", ArrayOf(ACKNOWLEDGEMENT_BATCH))]))),
    ]))),
])


# MetadataRequest.json: validVersions 0-12 (4.x: 0-13, v13 the same layout), flexibleVersions 9+. Topics nullable
# 1+; TopicId 10+; Name nullable 10+; AllowAutoTopicCreation 4+; IncludeClusterAuthorizedOperations 8-10;
# IncludeTopicAuthorizedOperations 8+.
METADATA = Struct("MetadataRequest", [
    Field("Topics", ArrayOf(Struct("MetadataRequestTopic", [
        Field("TopicId", "uuid", "10+"), topic(Field("Name", "string", nullable="10+"))])), nullable="1+"),
    Field("AllowAutoTopicCreation", "bool", "4+"), Field("IncludeClusterAuthorizedOperations", "bool", "8-10"),
    Field("IncludeTopicAuthorizedOperations", "bool", "8+"),
])


class Api:
    def __init__(self, key, name, file_name, versions, flexible, schema, whole=False):
        self.key = key
        self.name = name
        self.file_name = file_name
        self.versions = versions      # (lo, hi) kedge reads
        self.flexible = Versions(flexible)
        self.schema = schema
        self.whole = whole            # kedge reads the whole request (its refusal tables), not only its leading fields


FETCH_API = Api(1, "Fetch", "fetch", (0, 17), "12+", FETCH, whole=True)  # split whole (split.h)
LIST_OFFSETS_API = Api(2, "ListOffsets", "list_offsets", (0, 10), "6+", LIST_OFFSETS)
METADATA_API = Api(3, "Metadata", "metadata", (0, 13), "9+", METADATA, whole=True)
OFFSET_COMMIT_API = Api(8, "OffsetCommit", "offset_commit", (0, 9), "8+", OFFSET_COMMIT)
OFFSET_FETCH_API = Api(9, "OffsetFetch", "offset_fetch", (0, 9), "6+", OFFSET_FETCH)
FIND_COORDINATOR_API = Api(10, "FindCoordinator", "find_coordinator", (0, 6), "3+", FIND_COORDINATOR, whole=True)
JOIN_GROUP_API = Api(11, "JoinGroup", "join_group", (0, 9), "6+", JOIN_GROUP)
HEARTBEAT_API = Api(12, "Heartbeat", "heartbeat", (0, 4), "4+", HEARTBEAT)
LEAVE_GROUP_API = Api(13, "LeaveGroup", "leave_group", (0, 5), "4+", LEAVE_GROUP)
SYNC_GROUP_API = Api(14, "SyncGroup", "sync_group", (0, 5), "4+", SYNC_GROUP)
DESCRIBE_GROUPS_API = Api(15, "DescribeGroups", "describe_groups", (0, 5), "5+", DESCRIBE_GROUPS)
OFFSET_FOR_LEADER_EPOCH_API = Api(23, "OffsetForLeaderEpoch", "offset_for_leader_epoch", (0, 4), "4+",
                                  OFFSET_FOR_LEADER_EPOCH)
ADD_PARTITIONS_TO_TXN_API = Api(24, "AddPartitionsToTxn", "add_partitions_to_txn", (0, 5), "3+",
                                ADD_PARTITIONS_TO_TXN)
ADD_OFFSETS_TO_TXN_API = Api(25, "AddOffsetsToTxn", "add_offsets_to_txn", (0, 4), "3+", ADD_OFFSETS_TO_TXN)
END_TXN_API = Api(26, "EndTxn", "end_txn", (0, 5), "3+", END_TXN)
TXN_OFFSET_COMMIT_API = Api(28, "TxnOffsetCommit", "txn_offset_commit", (0, 4), "3+", TXN_OFFSET_COMMIT)
DESCRIBE_CONFIGS_API = Api(32, "DescribeConfigs", "describe_configs", (0, 4), "4+", DESCRIBE_CONFIGS)
CONSUMER_GROUP_HEARTBEAT_API = Api(68, "ConsumerGroupHeartbeat", "consumer_group_heartbeat", (0, 1), "0+",
                                   CONSUMER_GROUP_HEARTBEAT)
# DescribeProducers, ShareFetch and ShareAcknowledge are split topic by topic (kafka_codec/split.h) like Fetch, so
# kedge reads them whole; ShareGroupHeartbeat only up to its resources, like ConsumerGroupHeartbeat.
DESCRIBE_PRODUCERS_API = Api(61, "DescribeProducers", "describe_producers", (0, 0), "0+", DESCRIBE_PRODUCERS,
                             whole=True)
SHARE_GROUP_HEARTBEAT_API = Api(76, "ShareGroupHeartbeat", "share_group_heartbeat", (1, 1), "0+",
                                SHARE_GROUP_HEARTBEAT)
SHARE_FETCH_API = Api(78, "ShareFetch", "share_fetch", (1, 2), "0+", SHARE_FETCH, whole=True)
SHARE_ACKNOWLEDGE_API = Api(79, "ShareAcknowledge", "share_acknowledge", (1, 2), "0+", SHARE_ACKNOWLEDGE, whole=True)

APIS = [FETCH_API, LIST_OFFSETS_API, METADATA_API, OFFSET_COMMIT_API, OFFSET_FETCH_API, FIND_COORDINATOR_API,
        JOIN_GROUP_API, HEARTBEAT_API, LEAVE_GROUP_API, SYNC_GROUP_API, DESCRIBE_GROUPS_API,
        OFFSET_FOR_LEADER_EPOCH_API, ADD_PARTITIONS_TO_TXN_API, ADD_OFFSETS_TO_TXN_API, END_TXN_API,
        TXN_OFFSET_COMMIT_API, DESCRIBE_CONFIGS_API, CONSUMER_GROUP_HEARTBEAT_API, DESCRIBE_PRODUCERS_API,
        SHARE_GROUP_HEARTBEAT_API, SHARE_FETCH_API, SHARE_ACKNOWLEDGE_API]


# ---------------------------------------------------------------------------------------------------------------------
# Expected resources, computed from the logical request (never from its bytes)
# ---------------------------------------------------------------------------------------------------------------------


def expected_resources(struct_def, value, version):
    out, seen = [], set()

    def add(kind, name):
        if name is None or (kind, name) in seen:
            return
        if kind == "topic_id" and name == ZERO_UUID:  # no id: names no topic
            return
        seen.add((kind, name))
        out.append({"type": kind, "name": name})

    def walk(sdef, val):
        for f in sdef.fields:
            if version not in f.versions or f.tag is not None:
                continue
            v = val[f.name]
            kind = getattr(f, "resource", None)
            if kind is not None:
                kind = kind if isinstance(kind, str) else kind(val, version)
                if isinstance(f.type, ArrayOf):
                    for name in v or []:
                        add(kind, name)
                else:
                    add(kind, v)
            elif isinstance(f.type, ArrayOf) and isinstance(f.type.elem, Struct):
                for elem in v or []:
                    walk(f.type.elem, elem)
            elif isinstance(f.type, Struct) and v is not None:
                walk(f.type, v)

    walk(struct_def, value)
    return out


def holds_resource(ftype, version):
    if isinstance(ftype, ArrayOf):
        return holds_resource(ftype.elem, version)
    if isinstance(ftype, Struct):
        return any(version in f.versions and (getattr(f, "resource", None) is not None
                                              or holds_resource(f.type, version)) for f in ftype.fields)
    return False


# ---------------------------------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------------------------------


def request_header(api, version, client_id, header_tags):
    """Request header v1 (api_key, api_version, correlation_id, nullable int16 client_id); v2 (flexible versions)
    adds a tag buffer (RequestHeader.json: ClientId keeps "flexibleVersions": "none")."""
    header = struct.pack(">hhi", api.key, version, CORRELATION_ID) + enc_string(client_id, False)
    if version in api.flexible:
        header += enc_tag_buffer(list(header_tags))
    elif header_tags:
        raise ValueError("header tags in a non-flexible version")
    return header


def encode_request(api, version, body, client_id=CLIENT_ID, header_tags=()):
    """(frame, min_parse_size): the whole frame, and where its last top-level field holding a resource ends."""
    flexible = version in api.flexible
    ctx = EncodeContext(version, flexible)
    header = request_header(api, version, client_id, header_tags)
    encoded = encode_struct(api.schema, body, ctx)
    # The same body field by field (tagged fields live in the trailing tag buffer), to find the resource end.
    pos, resource_end = 4 + len(header), None
    parts = b""
    for f in api.schema.fields:
        if f.tag is not None or version not in f.versions:
            continue
        part = encode_value(f.type, body[f.name], version in f.nullable, ctx)
        parts += part
        pos += len(part)
        if getattr(f, "resource", None) is not None or holds_resource(f.type, version):
            resource_end = pos
    assert encoded.startswith(parts) and (flexible or encoded == parts)
    payload = header + encoded
    frame = enc_int32(len(payload)) + payload
    return frame, (len(frame) if api.whole else resource_end)


def with_tags(value, tags):
    out = dict(value)
    out[UNKNOWN_TAGS] = list(tags)
    return out


def tag_everything(struct_def, value, version, depth=0):
    """A copy of `value` with raw unknown tags in every struct's tag buffer (flexible versions only)."""
    out = dict(value)
    for f in struct_def.fields:
        if version not in f.versions or f.tag is not None:
            continue
        if isinstance(f.type, ArrayOf) and isinstance(f.type.elem, Struct) and out[f.name] is not None:
            out[f.name] = [tag_everything(f.type.elem, e, version, depth + 1) for e in out[f.name]]
        elif isinstance(f.type, Struct) and out[f.name] is not None:
            out[f.name] = tag_everything(f.type, out[f.name], version, depth + 1)
    tags = [[UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE], [UNKNOWN_TAG_WIDE], [UNKNOWN_TAG_EMPTY, UNKNOWN_TAG_SMALL]]
    return with_tags(out, tags[depth % 3])


class Case:
    def __init__(self, api, version, variant, description, body, client_id=CLIENT_ID, header_tags=(),
                 readable=True, all_topics=False):
        self.api = api
        self.version = version
        self.variant = variant
        self.description = description
        self.body = body
        self.client_id = client_id
        self.header_tags = header_tags
        self.readable = readable        # False: kedge must not read it (nullopt)
        self.all_topics = all_topics    # metadata_requests_all_topics, None = not asserted

    @property
    def file_name(self):
        suffix = "" if self.variant is None else "." + self.variant
        return "%s.v%d%s.json" % (self.api.file_name, self.version, suffix)

    def to_json(self):
        frame, min_parse = encode_request(self.api, self.version, self.body, self.client_id, self.header_tags)
        assert struct.unpack(">i", frame[:4])[0] == len(frame) - 4
        doc = {
            "api_key": self.api.key,
            "api_version": self.version,
            "description": self.description,
            "request_hex": frame.hex(),
            "resources": expected_resources(self.api.schema, self.body, self.version) if self.readable else None,
            "all_topics": self.all_topics,
            "min_parse_size": min_parse if self.readable else None,
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------------------------------
# Logical requests
# ---------------------------------------------------------------------------------------------------------------------


def fetch_topic_id(name):
    """The TopicId of topic `name` in the Fetch requests (v13+): orders and payments have fixed ids, the others one
    derived from the name, so a topic named twice has the same id twice."""
    fixed = {"orders": TOPIC_ID_ORDERS, "payments": TOPIC_ID_PAYMENTS, "": ZERO_UUID}
    if name in fixed:
        return fixed[name]
    return hashlib.sha256(("kedge-request-golden topic " + name).encode("utf-8")).hexdigest()[:32]


def fetch_body(v, topics, forgotten=(), cluster_id=None, replica=False):
    """topics, forgotten: names (v13+ send their ids, fetch_topic_id; the name "" stands for the all-zero id).
    replica: a follower's ReplicaState tag (v15+) and ReplicaDirectoryId partition tags (v17+)."""
    return {
        "ClusterId": cluster_id, "ReplicaId": -1,
        "ReplicaState": {"ReplicaId": 3, "ReplicaEpoch": 42} if replica else None,
        "MaxWaitMs": 500, "MinBytes": 1, "MaxBytes": 52428800,
        "IsolationLevel": 1, "SessionId": 0, "SessionEpoch": -1,
        "Topics": [{"Topic": t, "TopicId": fetch_topic_id(t), "Partitions": [
            dict({"Partition": p, "CurrentLeaderEpoch": 7, "FetchOffset": 1000 * p, "LastFetchedEpoch": -1,
                  "LogStartOffset": -1, "PartitionMaxBytes": 1048576},
                 **({"ReplicaDirectoryId": "7b1f3c5e9a2d4f6081a3c5e7092b4d6f"} if replica else {}))
            for p in (2, 0)]} for t in topics],
        "ForgottenTopicsData": [{"Topic": t, "TopicId": fetch_topic_id(t), "Partitions": [1, 4]} for t in forgotten],
        "RackId": "eu-west-1a",
    }


def list_offsets_body(v, topics):
    return {"ReplicaId": -1, "IsolationLevel": 0, "TimeoutMs": 30000, "Topics": [
        {"Name": t, "Partitions": [{"PartitionIndex": p, "CurrentLeaderEpoch": -1, "Timestamp": -1,
                                    "MaxNumOffsets": 1} for p in (0, 3)]} for t in topics]}


def offset_commit_body(v, group_id, topics):
    return {"GroupId": group_id, "GenerationIdOrMemberEpoch": 12, "MemberId": "consumer-1-4f2a",
            "GroupInstanceId": None, "RetentionTimeMs": -1, "Topics": [
                {"Name": t, "Partitions": [
                    {"PartitionIndex": p, "CommittedOffset": 4711 + p, "CommittedLeaderEpoch": -1,
                     "CommitTimestamp": -1, "CommittedMetadata": None if p else "checkpoint"} for p in (0, 1)]}
                for t in topics]}


def offset_fetch_body(v, groups, topics):
    """v0-7: the first group and `topics` (None = null, v2+); v8+: every group, each with `topics`, the last one
    with null Topics (all of its offsets)."""
    entries = [{"Name": t, "PartitionIndexes": [0, 5]} for t in topics] if topics is not None else None
    return {"GroupId": groups[0] if groups else "", "Topics": entries, "RequireStable": True,
            "Groups": [{"GroupId": g, "MemberId": None, "MemberEpoch": -1,
                        "Topics": copy.deepcopy(entries) if i < len(groups) - 1 or len(groups) == 1 else None}
                       for i, g in enumerate(groups)]}


def find_coordinator_body(v, keys, key_type=0):
    return {"Key": keys[0] if v <= 3 else None, "KeyType": key_type,
            "CoordinatorKeys": list(keys) if v >= 4 else None}


def join_group_body(v, group_id):
    return {"GroupId": group_id, "SessionTimeoutMs": 45000, "RebalanceTimeoutMs": 300000, "MemberId": "",
            "GroupInstanceId": None, "ProtocolType": "consumer", "Reason": None,
            # ConsumerProtocolSubscription v0: Version 0, Topics ["orders"], UserData null.
            "Protocols": [{"Name": "range", "Metadata": bytes.fromhex("0000000000010006") + b"orders" + b"\xff" * 4},
                          {"Name": "cooperative-sticky", "Metadata": b""}]}


def heartbeat_body(v, group_id):
    return {"GroupId": group_id, "GenerationId": 12, "MemberId": "consumer-1-4f2a", "GroupInstanceId": None}


def leave_group_body(v, group_id):
    return {"GroupId": group_id, "MemberId": "consumer-1-4f2a", "Members": [
        {"MemberId": "consumer-1-4f2a", "GroupInstanceId": None, "Reason": "the consumer is being closed"},
        {"MemberId": "", "GroupInstanceId": "instance-2", "Reason": None}]}


def sync_group_body(v, group_id):
    return {"GroupId": group_id, "GenerationId": 12, "MemberId": "consumer-1-4f2a", "GroupInstanceId": None,
            "ProtocolType": "consumer", "ProtocolName": "range", "Assignments": [
                # ConsumerProtocolAssignment v0: Version 0, [{"orders", [0]}], UserData null.
                {"MemberId": "consumer-1-4f2a",
                 "Assignment": bytes.fromhex("00000000000100066f72646572730000000100000000ffffffff")},
                {"MemberId": "consumer-2-9b1c", "Assignment": b""}]}


def describe_groups_body(v, groups):
    return {"Groups": list(groups), "IncludeAuthorizedOperations": True}


def offset_for_leader_epoch_body(v, topics):
    return {"ReplicaId": -1, "Topics": [{"Topic": t, "Partitions": [
        {"Partition": p, "CurrentLeaderEpoch": 9, "LeaderEpoch": 8} for p in (1, 0)]} for t in topics]}


def add_partitions_to_txn_body(v, txns, topics):
    """v0-3: the first transactional id and `topics`; v4+: every transactional id, each with `topics`."""
    entries = [{"Name": t, "Partitions": [0, 2]} for t in topics]
    return {"V3AndBelowTransactionalId": txns[0] if txns else "", "V3AndBelowProducerId": 4711,
            "V3AndBelowProducerEpoch": 3, "V3AndBelowTopics": entries,
            "Transactions": [{"TransactionalId": t, "ProducerId": 4711 + i, "ProducerEpoch": 3, "VerifyOnly": True,
                              "Topics": copy.deepcopy(entries)} for i, t in enumerate(txns)]}


def add_offsets_to_txn_body(v, txn_id, group_id):
    return {"TransactionalId": txn_id, "ProducerId": 4711, "ProducerEpoch": 3, "GroupId": group_id}


def end_txn_body(v, txn_id):
    return {"TransactionalId": txn_id, "ProducerId": 4711, "ProducerEpoch": 3, "Committed": True}


def txn_offset_commit_body(v, txn_id, group_id, topics):
    return {"TransactionalId": txn_id, "GroupId": group_id, "ProducerId": 4711, "ProducerEpoch": 3,
            "GenerationId": -1, "MemberId": "", "GroupInstanceId": None, "Topics": [
                {"Name": t, "Partitions": [{"PartitionIndex": p, "CommittedOffset": 100 + p, "CommittedLeaderEpoch": -1,
                                            "CommittedMetadata": None if p else ""} for p in (0, 1)]}
                for t in topics]}


def describe_configs_body(v, resources):
    return {"IncludeSynonyms": True, "IncludeDocumentation": False, "Resources": [
        {"ResourceType": rtype, "ResourceName": name,
         "ConfigurationKeys": None if i % 2 else ["retention.ms", "cleanup.policy"]}
        for i, (rtype, name) in enumerate(resources)]}


def consumer_group_heartbeat_body(v, group_id, subscribed=("orders", "payments")):
    return {"GroupId": group_id, "MemberId": "", "MemberEpoch": 0, "InstanceId": None, "RackId": "eu-west-1a",
            "RebalanceTimeoutMs": 300000, "SubscribedTopicNames": None if subscribed is None else list(subscribed),
            "SubscribedTopicRegex": None, "ServerAssignor": "uniform",
            "TopicPartitions": [{"TopicId": TOPIC_ID_ORDERS, "Partitions": [0, 1]}]}

SHARE_MEMBER_ID = "Zk3mQ9bXT8GkYv1Q2w3e4r"
# Two acknowledgement batches (Accept; then Accept, Gap, Release) for a partition whose records the consumer has
# handled; a partition without them is only fetched.
ACK_BATCHES = [{"FirstOffset": 100, "LastOffset": 104, "AcknowledgeTypes": [1]},
               {"FirstOffset": 105, "LastOffset": 107, "AcknowledgeTypes": [1, 0, 2]}]


def describe_producers_body(v, topics):
    return {"Topics": [{"Name": t, "PartitionIndexes": [0, 3] if i % 2 == 0 else [5]} for i, t in enumerate(topics)]}


def share_group_heartbeat_body(v, group_id, subscribed=("orders", "payments")):
    """subscribed None: a steady-state heartbeat (null SubscribedTopicNames and RackId, epoch 7)."""
    joining = subscribed is not None
    return {"GroupId": group_id, "MemberId": SHARE_MEMBER_ID, "MemberEpoch": 0 if joining else 7,
            "RackId": "eu-west-1a" if joining else None,
            "SubscribedTopicNames": list(subscribed) if joining else None}


def share_partitions(acks, with_max_bytes):
    """Partitions 2 (with acknowledgement batches when `acks`) and 0 (none)."""
    out = []
    for p in (2, 0):
        part = {"PartitionIndex": p, "AcknowledgementBatches": copy.deepcopy(ACK_BATCHES) if acks and p == 2 else []}
        if with_max_bytes:
            part["PartitionMaxBytes"] = 1048576
        out.append(part)
    return out


def share_fetch_body(v, group_id, topics, forgotten=(), acks=True, member_id=SHARE_MEMBER_ID, epoch=3):
    """topics, forgotten: names, sent as their ids (fetch_topic_id)."""
    return {"GroupId": group_id, "MemberId": member_id, "ShareSessionEpoch": epoch, "MaxWaitMs": 500, "MinBytes": 1,
            "MaxBytes": 52428800, "MaxRecords": 500, "BatchSize": 500, "ShareAcquireMode": 0,
            "Topics": [{"TopicId": fetch_topic_id(t), "Partitions": share_partitions(acks, True)} for t in topics],
            "ForgottenTopicsData": [{"TopicId": fetch_topic_id(t), "Partitions": [1, 4]} for t in forgotten]}


def share_acknowledge_body(v, group_id, topics, member_id=SHARE_MEMBER_ID, renew=False):
    """Each topic's partition 2 carries acknowledgement batches, partition 0 none (an empty array)."""
    body = {"GroupId": group_id, "MemberId": member_id, "ShareSessionEpoch": 4, "IsRenewAck": renew,
            "Topics": [{"TopicId": fetch_topic_id(t), "Partitions": share_partitions(True, False)} for t in topics]}
    if renew:  # AcknowledgeType 4: Renew (KIP-1222)
        for t in body["Topics"]:
            for p in t["Partitions"]:
                for b in p["AcknowledgementBatches"]:
                    b["AcknowledgeTypes"] = [4]
    return body



def metadata_body(v, topics, auto_create=True):
    """topics: None = null (all topics), else [(name or None, topic id)]."""
    entries = None if topics is None else [{"TopicId": tid, "Name": name} for name, tid in topics]
    return {"Topics": entries, "AllowAutoTopicCreation": auto_create,
            "IncludeClusterAuthorizedOperations": False, "IncludeTopicAuthorizedOperations": v >= 8}


# ---------------------------------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------------------------------


def standard_cases(api, plain, long_name, extra=None):
    """Per version: a plain case, a long_name case (2-byte compact lengths), and in flexible versions the plain
    request with unknown tags in the header, the body and every nested struct. `plain(v)` / `long_name(v)` return
    (description, body); `extra(v)` returns more Cases."""
    cases = []
    lo, hi = api.versions
    for v in range(lo, hi + 1):
        description, body = plain(v)
        cases.append(Case(api, v, None, "%s v%d, %s" % (api.name, v, description), body))
        description, body = long_name(v)
        cases.append(Case(api, v, "long_name", "%s v%d, %s" % (api.name, v, description), body))
        if v in api.flexible:
            description, body = plain(v)
            cases.append(Case(api, v, "unknown_tags", "%s v%d, %s; unknown tags in the request header, the body and "
                              "every nested struct (tag 130: 200 bytes)" % (api.name, v, description),
                              tag_everything(api.schema, body, v), header_tags=[UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]))
        if extra is not None:
            cases.extend(extra(v))
    return cases


def fetch_cases():
    def extra(v):
        out = [Case(FETCH_API, v, "repeated", "Fetch v%d, topic orders twice and payments: each resource once" % v,
                    fetch_body(v, ["orders", "payments", "orders"]))]
        if v >= 7:
            out.append(Case(FETCH_API, v, "forgotten", "Fetch v%d, incremental session: no topics, two forgotten "
                            "topics%s (not resources: Kafka never authorizes them)" % (v, " by id" if v >= 13 else ""),
                            fetch_body(v, [], forgotten=["secret", "payments"])))
        if v >= 12:
            replica = v >= 15
            out.append(Case(FETCH_API, v, "cluster_id", "Fetch v%d with the ClusterId tag (0) set%s, and unknown "
                            "tags" % (v, "" if not replica else ", a follower's ReplicaState tag (1)%s" % (
                                " and ReplicaDirectoryId partition tags (0)" if v >= 17 else "")),
                            with_tags(fetch_body(v, TOPICS, cluster_id="kafka-cluster-1", replica=replica),
                                      [UNKNOWN_TAG_WIDE])))
        if v == 13:
            out.append(Case(FETCH_API, v, "zero_topic_id", "Fetch v13, orders and the all-zero TopicId (no id): "
                            "the zero id names no topic", fetch_body(v, ["orders", ""])))
        if v == 4:
            out.append(Case(FETCH_API, v, "no_topics", "Fetch v4 with no topics", fetch_body(v, [])))
        return out
    # v13+ name topics by TopicId (KIP-516): the resources are the ids ("topic_id", 32 hex digits); a long name is
    # on no wire then, so long_name is a long name's id there.
    cases = standard_cases(FETCH_API, lambda v: ("topics %s%s, forgotten audit (v7+)" % (
                               ", ".join(TOPICS), " by id" if v >= 13 else ""),
                               fetch_body(v, TOPICS, forgotten=["audit"])),
                           lambda v: ("a 200-byte topic name" if v < 13 else "orders and the id of a 200-byte topic "
                                      "name", fetch_body(v, ["orders", LONG_TOPIC])), extra)
    # Fetch v18 (Kafka 4.3): beyond kedge's table (the body here is v17's layout), so it must not claim to read it.
    cases.append(Case(FETCH_API, 18, None, "Fetch v18: beyond kedge's table, not read (v17's layout)",
                      fetch_body(18, ["orders"]), readable=False))
    return cases


def list_offsets_cases():
    return standard_cases(LIST_OFFSETS_API, lambda v: ("topics %s" % ", ".join(TOPICS), list_offsets_body(v, TOPICS)),
                          lambda v: ("a 200-byte topic name and an empty one",
                                     list_offsets_body(v, [LONG_TOPIC, "", "orders"])),
                          lambda v: [Case(LIST_OFFSETS_API, v, "empty", "ListOffsets v%d with no topics" % v,
                                          list_offsets_body(v, []))] if v in (0, 6) else [])


def offset_commit_cases():
    return standard_cases(
        OFFSET_COMMIT_API,
        lambda v: ("group billing-consumers, topics %s" % ", ".join(TOPICS),
                   offset_commit_body(v, "billing-consumers", TOPICS)),
        lambda v: ("a 190-byte group id, a 200-byte topic name, and a topic named like the group (both listed)",
                   offset_commit_body(v, LONG_GROUP, [LONG_TOPIC, LONG_GROUP, LONG_TOPIC])))


def offset_fetch_cases():
    def extra(v):
        out = []
        if 2 <= v <= 7:
            out.append(Case(OFFSET_FETCH_API, v, "all_topics", "OffsetFetch v%d, null Topics (every committed "
                            "offset of the group)" % v, offset_fetch_body(v, ["billing-consumers"], None)))
        if v >= 8:
            out.append(Case(OFFSET_FETCH_API, v, "groups", "OffsetFetch v%d, three groups (the last with null "
                            "Topics), topics orders and audit" % v,
                            offset_fetch_body(v, GROUPS + ["audit"], ["orders", "audit"])))
        if v <= 1:
            out.append(Case(OFFSET_FETCH_API, v, "null_topics", "OffsetFetch v%d with null Topics (nullable only "
                            "from v2): does not parse" % v, None, readable=False))
        return out
    cases = standard_cases(
        OFFSET_FETCH_API,
        lambda v: ("group %s, topics %s" % (GROUPS[0] if v <= 7 else " and ".join(GROUPS), ", ".join(TOPICS)),
                   offset_fetch_body(v, GROUPS if v >= 8 else GROUPS[:1], TOPICS)),
        lambda v: ("a 190-byte group id and a 200-byte topic", offset_fetch_body(v, [LONG_GROUP], [LONG_TOPIC])),
        extra)
    # The null_topics bodies are encoded by hand below (the encoder refuses a null non-nullable array).
    return cases


def find_coordinator_cases():
    def keys(v, names):
        return names if v >= 4 else names[:1]

    def extra(v):
        out = []
        if v >= 1:
            out.append(Case(FIND_COORDINATOR_API, v, "transaction", "FindCoordinator v%d, KeyType 1: transactional "
                            "ids %s" % (v, ", ".join(keys(v, TXNS))), find_coordinator_body(v, keys(v, TXNS), 1)))
        if v >= 4:
            out.append(Case(FIND_COORDINATOR_API, v, "empty", "FindCoordinator v%d with no CoordinatorKeys" % v,
                            find_coordinator_body(v, [])))
            out.append(Case(FIND_COORDINATOR_API, v, "repeated", "FindCoordinator v%d, a group key twice: once" % v,
                            find_coordinator_body(v, ["billing", "audit", "billing"])))
        if v >= 6:
            out.append(Case(FIND_COORDINATOR_API, v, "share", "FindCoordinator v%d, KeyType 2 (share group state, "
                            "KIP-932): keys group:topicId:partition" % v,
                            find_coordinator_body(v, ["billing:%s:0" % TOPIC_ID_ORDERS,
                                                      "billing:%s:3" % TOPIC_ID_ORDERS], 2)))
        return out
    return standard_cases(
        FIND_COORDINATOR_API,
        lambda v: ("group keys %s" % ", ".join(keys(v, GROUPS + ["audit"])),
                   find_coordinator_body(v, keys(v, GROUPS + ["audit"]))),
        lambda v: ("group keys billing, a 190-byte one and x" if v >= 4 else "a 190-byte group key",
                   find_coordinator_body(v, keys(v, [LONG_GROUP, "billing", "x"]) if v <= 3
                                         else ["billing", LONG_GROUP, "x"])),
        extra)


def group_first_cases(api, body):
    return standard_cases(api, lambda v: ("group billing-consumers", body(v, "billing-consumers")),
                          lambda v: ("a 190-byte group id", body(v, LONG_GROUP)),
                          lambda v: [Case(api, v, "unicode", "%s v%d, group %s" % (api.name, v, GROUPS[1]),
                                          body(v, GROUPS[1]))] if v == api.versions[0] else [])


def describe_groups_cases():
    return standard_cases(
        DESCRIBE_GROUPS_API, lambda v: ("groups %s" % ", ".join(GROUPS), describe_groups_body(v, GROUPS)),
        lambda v: ("a 190-byte group id, billing-consumers twice", describe_groups_body(
            v, ["billing-consumers", LONG_GROUP, "billing-consumers"])),
        lambda v: [Case(DESCRIBE_GROUPS_API, v, "empty", "DescribeGroups v%d with no groups" % v,
                        describe_groups_body(v, []))] if v in (0, 5) else [])


def offset_for_leader_epoch_cases():
    return standard_cases(
        OFFSET_FOR_LEADER_EPOCH_API,
        lambda v: ("topics %s" % ", ".join(TOPICS), offset_for_leader_epoch_body(v, TOPICS)),
        lambda v: ("a 200-byte topic name", offset_for_leader_epoch_body(v, [LONG_TOPIC, "orders"])))


def add_partitions_to_txn_cases():
    def extra(v):
        if v >= 4:
            return [Case(ADD_PARTITIONS_TO_TXN_API, v, "batch", "AddPartitionsToTxn v%d, three transactions (one "
                         "repeated) with topics orders and payments" % v,
                         add_partitions_to_txn_body(v, TXNS + ["checkout-tx"], ["orders", "payments"])),
                    Case(ADD_PARTITIONS_TO_TXN_API, v, "empty", "AddPartitionsToTxn v%d with no transactions" % v,
                         add_partitions_to_txn_body(v, [], []))]
        return []
    return standard_cases(
        ADD_PARTITIONS_TO_TXN_API,
        lambda v: ("transactional id %s, topics %s" % (" and ".join(TXNS if v >= 4 else TXNS[:1]), ", ".join(TOPICS)),
                   add_partitions_to_txn_body(v, TXNS if v >= 4 else TXNS[:1], TOPICS)),
        lambda v: ("a 160-byte transactional id and a 200-byte topic",
                   add_partitions_to_txn_body(v, [LONG_TXN], [LONG_TOPIC, "orders"])),
        extra)


def add_offsets_to_txn_cases():
    return standard_cases(
        ADD_OFFSETS_TO_TXN_API,
        lambda v: ("transactional id checkout-tx, group billing-consumers",
                   add_offsets_to_txn_body(v, "checkout-tx", "billing-consumers")),
        lambda v: ("a 160-byte transactional id and a 190-byte group id",
                   add_offsets_to_txn_body(v, LONG_TXN, LONG_GROUP)),
        lambda v: [Case(ADD_OFFSETS_TO_TXN_API, v, "same_name", "AddOffsetsToTxn v%d, transactional id and group "
                        "both 'app': two resources of different types" % v,
                        add_offsets_to_txn_body(v, "app", "app"))] if v in (0, 3) else [])


def end_txn_cases():
    return standard_cases(END_TXN_API, lambda v: ("transactional id checkout-tx", end_txn_body(v, "checkout-tx")),
                          lambda v: ("a 160-byte transactional id", end_txn_body(v, LONG_TXN)))


def txn_offset_commit_cases():
    return standard_cases(
        TXN_OFFSET_COMMIT_API,
        lambda v: ("transactional id checkout-tx, group billing-consumers, topics %s" % ", ".join(TOPICS),
                   txn_offset_commit_body(v, "checkout-tx", "billing-consumers", TOPICS)),
        lambda v: ("a 160-byte transactional id, a 190-byte group id, a 200-byte topic",
                   txn_offset_commit_body(v, LONG_TXN, LONG_GROUP, [LONG_TOPIC])),
        lambda v: [Case(TXN_OFFSET_COMMIT_API, v, "no_topics", "TxnOffsetCommit v%d with no topics" % v,
                        txn_offset_commit_body(v, "checkout-tx", "billing-consumers", []))] if v in (0, 3) else [])


ALL_CONFIG_RESOURCES = [(2, "orders"), (4, "1"), (8, "2"), (16, "metrics-subscription"), (32, "billing-consumers"),
                        (4, ""), (0, "unknown-type"), (2, "orders"), (32, "orders")]


def describe_configs_cases():
    return standard_cases(
        DESCRIBE_CONFIGS_API,
        lambda v: ("a topic and a broker (null ConfigurationKeys)", describe_configs_body(v, [(2, "orders"),
                                                                                              (4, "1")])),
        lambda v: ("a 200-byte topic and a 190-byte group", describe_configs_body(v, [(2, LONG_TOPIC),
                                                                                     (32, LONG_GROUP)])),
        lambda v: [Case(DESCRIBE_CONFIGS_API, v, "resource_types", "DescribeConfigs v%d, resource types 2, 4, 8, 16, "
                        "32, the default broker (empty name), unknown 0; topic orders repeated, and a group orders"
                        % v, describe_configs_body(v, ALL_CONFIG_RESOURCES))])


def consumer_group_heartbeat_cases():
    return standard_cases(
        CONSUMER_GROUP_HEARTBEAT_API,
        lambda v: ("group billing-consumers subscribed to orders, payments (not resources)",
                   consumer_group_heartbeat_body(v, "billing-consumers")),
        lambda v: ("a 190-byte group id, null SubscribedTopicNames",
                   consumer_group_heartbeat_body(v, LONG_GROUP, subscribed=None)))

def describe_producers_cases():
    return standard_cases(
        DESCRIBE_PRODUCERS_API, lambda v: ("topics %s" % ", ".join(TOPICS), describe_producers_body(v, TOPICS)),
        lambda v: ("a 200-byte topic name and orders", describe_producers_body(v, [LONG_TOPIC, "orders"])),
        lambda v: [Case(DESCRIBE_PRODUCERS_API, v, "empty", "DescribeProducers v%d with no topics" % v,
                        describe_producers_body(v, [])),
                   Case(DESCRIBE_PRODUCERS_API, v, "repeated", "DescribeProducers v%d, orders twice and payments: "
                        "each resource once" % v, describe_producers_body(v, ["orders", "payments", "orders"]))])


def share_group_heartbeat_cases():
    api = SHARE_GROUP_HEARTBEAT_API
    return standard_cases(
        api, lambda v: ("share group billing-consumers subscribing to orders, payments",
                        share_group_heartbeat_body(v, "billing-consumers")),
        lambda v: ("a 190-byte group id subscribing to a 200-byte topic and a topic named like the group",
                   share_group_heartbeat_body(v, LONG_GROUP, [LONG_TOPIC, LONG_GROUP])),
        lambda v: [Case(api, v, "unchanged", "ShareGroupHeartbeat v%d, a steady-state heartbeat: null RackId and "
                        "null SubscribedTopicNames (the group only)" % v,
                        share_group_heartbeat_body(v, "billing-consumers", None)),
                   Case(api, v, "empty", "ShareGroupHeartbeat v%d subscribing to no topic (an empty array)" % v,
                        share_group_heartbeat_body(v, "billing-consumers", [])),
                   Case(api, v, "repeated", "ShareGroupHeartbeat v%d, group %s subscribing to orders, %s, orders: "
                        "each resource once" % (v, GROUPS[1], TOPICS[2]),
                        share_group_heartbeat_body(v, GROUPS[1], ["orders", TOPICS[2], "orders"]))])


def share_fetch_cases():
    api = SHARE_FETCH_API

    def extra(v):
        return [
            Case(api, v, "null_group", "ShareFetch v%d with a null GroupId and MemberId: the topic ids only" % v,
                 share_fetch_body(v, None, ["orders", "payments"], member_id=None)),
            Case(api, v, "forgotten", "ShareFetch v%d, no topics, two forgotten topics (not resources: the group "
                 "only)" % v, share_fetch_body(v, "billing-consumers", [], forgotten=["secret", "payments"])),
            Case(api, v, "no_acks", "ShareFetch v%d opening a share session (epoch 0): orders and payments, no "
                 "acknowledgement batches" % v,
                 share_fetch_body(v, "billing-consumers", ["orders", "payments"], acks=False, epoch=0)),
            Case(api, v, "repeated", "ShareFetch v%d, orders twice and payments: each resource once" % v,
                 share_fetch_body(v, "billing-consumers", ["orders", "payments", "orders"])),
        ]
    return standard_cases(
        api, lambda v: ("share group billing-consumers, topics %s by id (partition 2 of each with acknowledgement "
                        "batches, partition 0 without), forgotten topic secret (not a resource)" % ", ".join(TOPICS),
                        share_fetch_body(v, "billing-consumers", TOPICS, forgotten=["secret"])),
        lambda v: ("a 190-byte group id, orders and the id of a 200-byte topic name",
                   share_fetch_body(v, LONG_GROUP, ["orders", LONG_TOPIC])),
        extra)


def share_acknowledge_cases():
    api = SHARE_ACKNOWLEDGE_API

    def extra(v):
        out = [
            Case(api, v, "null_group", "ShareAcknowledge v%d with a null GroupId and MemberId: the topic ids only"
                 % v, share_acknowledge_body(v, None, ["orders", "payments"], member_id=None)),
            Case(api, v, "empty", "ShareAcknowledge v%d with no topics (the group only)" % v,
                 share_acknowledge_body(v, "billing-consumers", [])),
            Case(api, v, "repeated", "ShareAcknowledge v%d, payments twice and orders: each resource once" % v,
                 share_acknowledge_body(v, "billing-consumers", ["payments", "orders", "payments"])),
        ]
        if v >= 2:
            out.append(Case(api, v, "renew", "ShareAcknowledge v%d renewing acquisition locks (IsRenewAck, "
                            "AcknowledgeType 4)" % v,
                            share_acknowledge_body(v, "billing-consumers", ["orders"], renew=True)))
        return out
    return standard_cases(
        api, lambda v: ("share group billing-consumers, topics %s by id (partition 2 of each with acknowledgement "
                        "batches, partition 0 with none)" % ", ".join(TOPICS),
                        share_acknowledge_body(v, "billing-consumers", TOPICS)),
        lambda v: ("a 190-byte group id, orders and the id of a 200-byte topic name",
                   share_acknowledge_body(v, LONG_GROUP, ["orders", LONG_TOPIC])),
        extra)



def metadata_cases():
    def extra(v):
        out = []
        if v >= 1:
            out.append(Case(METADATA_API, v, "all_topics", "Metadata v%d, null Topics: every topic" % v,
                            metadata_body(v, None), all_topics=True))
        else:
            out.append(Case(METADATA_API, v, "all_topics", "Metadata v0, empty Topics: every topic",
                            metadata_body(v, []), all_topics=True))
        if v >= 1:
            out.append(Case(METADATA_API, v, "empty", "Metadata v%d, empty Topics (none: not all topics)" % v,
                            metadata_body(v, []), all_topics=False))
        if v >= 12:
            out.append(Case(METADATA_API, v, "topic_ids", "Metadata v%d, one topic by id (null Name: names "
                            "nothing), one by name" % v,
                            metadata_body(v, [(None, TOPIC_ID_ORDERS), ("payments", ZERO_UUID)])))
        if v == 0:
            out.append(Case(METADATA_API, v, "null_topics", "Metadata v0 with null Topics (nullable only from v1): "
                            "does not parse", None, readable=False, all_topics=None))
        return out
    return standard_cases(
        METADATA_API, lambda v: ("topics %s" % ", ".join(TOPICS), metadata_body(v, [(t, ZERO_UUID) for t in TOPICS])),
        lambda v: ("a 200-byte topic name, orders twice", metadata_body(
            v, [("orders", ZERO_UUID), (LONG_TOPIC, ZERO_UUID), ("orders", ZERO_UUID)], auto_create=False)),
        extra)


# Bodies the spec encoder cannot express (a null non-nullable array), written field by field.
def null_topics_frame(api, version):
    header = request_header(api, version, CLIENT_ID, ())
    if api is OFFSET_FETCH_API:  # GroupId, Topics = -1, (RequireStable 7+: not at v0-1)
        body = enc_string("billing-consumers", False) + enc_int32(-1)
    elif api is METADATA_API:    # Topics = -1 at v0
        body = enc_int32(-1)
    else:
        raise ValueError(api.name)
    payload = header + body
    return enc_int32(len(payload)) + payload


class HandCase(Case):
    def to_json(self):
        frame = null_topics_frame(self.api, self.version)
        doc = {"api_key": self.api.key, "api_version": self.version, "description": self.description,
               "request_hex": frame.hex(), "resources": None, "all_topics": self.all_topics, "min_parse_size": None}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def all_cases():
    cases = (fetch_cases() + list_offsets_cases() + metadata_cases() + offset_commit_cases() + offset_fetch_cases()
             + find_coordinator_cases() + group_first_cases(JOIN_GROUP_API, join_group_body)
             + group_first_cases(HEARTBEAT_API, heartbeat_body) + group_first_cases(LEAVE_GROUP_API, leave_group_body)
             + group_first_cases(SYNC_GROUP_API, sync_group_body) + describe_groups_cases()
             + offset_for_leader_epoch_cases() + add_partitions_to_txn_cases() + add_offsets_to_txn_cases()
             + end_txn_cases() + txn_offset_commit_cases() + describe_configs_cases()
             + consumer_group_heartbeat_cases() + describe_producers_cases() + share_group_heartbeat_cases()
             + share_fetch_cases() + share_acknowledge_cases())
    cases = [HandCase(c.api, c.version, c.variant, c.description, None, readable=False, all_topics=c.all_topics)
             if c.body is None else c for c in cases]
    names = [c.file_name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError("duplicate case files: %s" % duplicates)
    for api in APIS:  # every version of every API has a readable case
        lo, hi = api.versions
        missing = [v for v in range(lo, hi + 1)
                   if not any(c.api is api and c.version == v and c.readable for c in cases)]
        if missing:
            raise ValueError("%s: no case for versions %s" % (api.name, missing))
    return sorted(cases, key=lambda c: c.file_name)


REQUESTS = CaseSet(lambda: all_cases(), REQUESTS_DIR, "tests/golden/requests/generate_requests.py",
                   "request resource vectors", "kedge-requests-")


def main(argv=None):
    return REQUESTS.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
