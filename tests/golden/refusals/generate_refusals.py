#!/usr/bin/python3
"""Golden vectors for kedge's policy refusals (kafka_codec/refusal.h, encode_refusal).

Each case is one whole request frame a client sends (request_hex) and the whole response frame a Kafka broker whose
authorizer denies every resource of that request would answer (expected_hex), with ErrorMessage fields set to the
case's `message`. Both are encoded here from the Apache Kafka 4.x message specs
(clients/src/main/resources/common/message/<Api>Request.json / <Api>Response.json, summarised next to each schema
below). This file never looks at kafka_codec/: it is an independent encoder, so it cross-checks the C++ one.

Only the primitive encoder (Struct / Field / ArrayOf / encode_struct, record_batch) is shared with ../generate.py;
the request and response schemas, the header encoder and the refusal rules are written here.

Refusal rules (the authorizer's error per resource type):
  TOPIC_AUTHORIZATION_FAILED (29)            topics, topic ids, topic config resources (ResourceType 2); the
                                             partitions of Fetch, ListOffsets, OffsetForLeaderEpoch
  GROUP_AUTHORIZATION_FAILED (30)            groups, group config resources (ResourceType 32), FindCoordinator keys
                                             of KeyType 0 (and v0, which has no KeyType); the group APIs (JoinGroup,
                                             Heartbeat, LeaveGroup, SyncGroup, DescribeGroups, ConsumerGroupHeartbeat,
                                             OffsetCommit, OffsetFetch)
  CLUSTER_AUTHORIZATION_FAILED (31)          idempotent InitProducerId (null TransactionalId), other config resources
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53) InitProducerId with a TransactionalId, FindCoordinator keys of KeyType 1;
                                             AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit
Every other field takes its spec default: offsets, counts and epochs -1, arrays empty, nullable fields null, ids zero.
The APIs only a policy's ACLs refuse (ACL_APIS, kafka_codec/refusal_acl.cpp) answer with the error Kafka's KafkaApis
gives when the resource it authorizes first is denied (see each refuse_* below). A case may also name the kind of
resource the policy refused (the JSON's optional "refused": topic, group, transactional_id or cluster; encode_refusal's
RefusedResource): the APIs whose answer depends on it (Api.refused_rules: OffsetCommit, OffsetFetch, TxnOffsetCommit,
AddOffsetsToTxn, AddPartitionsToTxn, ConsumerGroupHeartbeat and the share APIs) answer with that kind's error; every
other API and kind as unspecified. Files without "refused" are unspecified.
DescribeProducers, ShareGroupHeartbeat, ShareFetch and ShareAcknowledge (KIP-932) follow the Kafka 4.3.1 specs.
Fetch (SPLIT_APIS) has no such writer: a policy decides it topic by topic (kafka_codec/split.h), and when it refuses
every topic kedge's whole answer is encode_split_refusal's, which the C++ test checks against these vectors (as it
does for Produce v3-13, whose vectors encode_refusal answers too). Fetch v13+ names topics by TopicId (KIP-516): the
answer's entries carry the ids, every partition TOPIC_AUTHORIZATION_FAILED.

Usage:
  /usr/bin/python3 tests/golden/refusals/generate_refusals.py            # (re)write every case file
  /usr/bin/python3 tests/golden/refusals/generate_refusals.py --check    # regenerate into a temp dir and diff
  /usr/bin/python3 tests/golden/refusals/generate_refusals.py --out DIR  # write into DIR instead
Standard library only.
"""

import json
import os
import struct
import sys

REFUSALS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(REFUSALS_DIR))

from generate import (  # noqa: E402  (tests/golden/generate.py: spec-driven primitive encoder, case-file CLI)
    UNKNOWN_TAGS, ArrayOf, CaseSet, EncodeContext, Field, Struct, Versions, enc_int32, enc_string, enc_tag_buffer,
    encode_struct, record_batch)

CORRELATION_ID = 0x11223344
CLIENT_ID = "kedge-refusal-golden"

TOPIC_AUTHORIZATION_FAILED = 29
GROUP_AUTHORIZATION_FAILED = 30
CLUSTER_AUTHORIZATION_FAILED = 31
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53

ZERO_UUID = "00000000000000000000000000000000"
TOPIC_ID_ORDERS = "5d3c9b1a7e2f4c80a1b2c3d4e5f60718"
TOPIC_ID_PAYMENTS = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
# 200 bytes: a compact string length (n + 1) needs a 2-byte unsigned varint.
LONG_TOPIC = ("orders.eu-west-1.retail.checkout.v2." + "x" * 200)[:200]
LONG_GROUP = ("analytics-consumers." + "g" * 200)[:190]

# Raw unknown tags a client (newer than kedge) may put in any tag buffer of a flexible request: kedge must skip them.
UNKNOWN_TAG_SMALL = (3, bytes.fromhex("0b6b656467652d74657374"))  # compact string "kedge-test"
UNKNOWN_TAG_WIDE = (130, bytes(range(200)))                       # tag and size both need a 2-byte varint
UNKNOWN_TAG_EMPTY = (7, b"")


def message_for(api_name):
    return "Virtual cluster alpha is read-only: %s is not allowed" % api_name


# ---------------------------------------------------------------------------------------------------------------------
# Schemas (Apache Kafka 4.x clients/src/main/resources/common/message/*.json). Fields absent at a version are skipped,
# tagged fields none (no refusal sets one), nullable ranges as in the spec.
# ---------------------------------------------------------------------------------------------------------------------

# ProduceRequest.json: validVersions 3-13 (0-2 removed in 4.0, KIP-896), flexibleVersions 9+.
# TopicData[].Name "0-12", TopicId "13+" (KIP-516, Kafka 4.1).
PRODUCE_REQUEST = Struct("ProduceRequest", [
    Field("TransactionalId", "string", "3+", nullable="3+"),
    Field("Acks", "int16"), Field("TimeoutMs", "int32"),
    Field("TopicData", ArrayOf(Struct("TopicProduceData", [
        Field("Name", "string", "0-12"), Field("TopicId", "uuid", "13+"),
        Field("PartitionData", ArrayOf(Struct("PartitionProduceData", [
            Field("Index", "int32"), Field("Records", "records", nullable="0+")]))),
    ]))),
])
# ProduceResponse.json: LogAppendTimeMs 2+, LogStartOffset 5+, RecordErrors/ErrorMessage 8+, tags (CurrentLeader,
# NodeEndpoints) 10+ left at their defaults (omitted), ThrottleTimeMs 1+ after Responses.
PRODUCE_RESPONSE = Struct("ProduceResponse", [
    Field("Responses", ArrayOf(Struct("TopicProduceResponse", [
        Field("Name", "string", "0-12"), Field("TopicId", "uuid", "13+"),
        Field("PartitionResponses", ArrayOf(Struct("PartitionProduceResponse", [
            Field("Index", "int32"), Field("ErrorCode", "int16"), Field("BaseOffset", "int64"),
            Field("LogAppendTimeMs", "int64", "2+"), Field("LogStartOffset", "int64", "5+"),
            Field("RecordErrors", ArrayOf(Struct("BatchIndexAndErrorMessage", [
                Field("BatchIndex", "int32"), Field("BatchIndexErrorMessage", "string", nullable="8+")])), "8+"),
            Field("ErrorMessage", "string", "8+", nullable="8+"),
        ]))),
    ]))),
    Field("ThrottleTimeMs", "int32", "1+"),
])

# CreateTopicsRequest.json: validVersions 2-7 (0-1 removed in 4.0), flexibleVersions 5+.
CREATE_TOPICS_REQUEST = Struct("CreateTopicsRequest", [
    Field("Topics", ArrayOf(Struct("CreatableTopic", [
        Field("Name", "string"), Field("NumPartitions", "int32"), Field("ReplicationFactor", "int16"),
        Field("Assignments", ArrayOf(Struct("CreatableReplicaAssignment", [
            Field("PartitionIndex", "int32"), Field("BrokerIds", ArrayOf("int32"))]))),
        Field("Configs", ArrayOf(Struct("CreatableTopicConfig", [
            Field("Name", "string"), Field("Value", "string", nullable="0+")]))),
    ]))),
    Field("timeoutMs", "int32"), Field("validateOnly", "bool", "1+"),
])
# CreateTopicsResponse.json: ThrottleTimeMs 2+, TopicId 7+, ErrorMessage 1+ (nullable), TopicConfigErrorCode tag 0
# (5+, omitted), NumPartitions/ReplicationFactor 5+ (default -1), Configs 5+ nullable 5+.
CREATE_TOPICS_RESPONSE = Struct("CreateTopicsResponse", [
    Field("ThrottleTimeMs", "int32", "2+"),
    Field("Topics", ArrayOf(Struct("CreatableTopicResult", [
        Field("Name", "string"), Field("TopicId", "uuid", "7+"), Field("ErrorCode", "int16"),
        Field("ErrorMessage", "string", "1+", nullable="0+"),
        Field("NumPartitions", "int32", "5+"), Field("ReplicationFactor", "int16", "5+"),
        Field("Configs", ArrayOf(Struct("CreatableTopicConfigs", [
            Field("Name", "string"), Field("Value", "string", nullable="5+"), Field("ReadOnly", "bool"),
            Field("ConfigSource", "int8"), Field("IsSensitive", "bool")])), "5+", nullable="5+"),
    ]))),
])

# DeleteTopicsRequest.json: validVersions 1-6 (0 removed in 4.0), flexibleVersions 4+.
# Topics[]{Name nullable, TopicId} 6+; TopicNames []string 0-5.
DELETE_TOPICS_REQUEST = Struct("DeleteTopicsRequest", [
    Field("Topics", ArrayOf(Struct("DeleteTopicState", [
        Field("Name", "string", nullable="6+"), Field("TopicId", "uuid")])), "6+"),
    Field("TopicNames", ArrayOf("string"), "0-5"),
    Field("TimeoutMs", "int32"),
])
# DeleteTopicsResponse.json: ThrottleTimeMs 1+, Name nullable 6+, TopicId 6+, ErrorMessage 5+ nullable 5+.
DELETE_TOPICS_RESPONSE = Struct("DeleteTopicsResponse", [
    Field("ThrottleTimeMs", "int32", "1+"),
    Field("Responses", ArrayOf(Struct("DeletableTopicResult", [
        Field("Name", "string", nullable="6+"), Field("TopicId", "uuid", "6+"), Field("ErrorCode", "int16"),
        Field("ErrorMessage", "string", "5+", nullable="5+"),
    ]))),
])

# DeleteRecordsRequest.json / DeleteRecordsResponse.json: validVersions 0-2, flexibleVersions 2+.
DELETE_RECORDS_REQUEST = Struct("DeleteRecordsRequest", [
    Field("Topics", ArrayOf(Struct("DeleteRecordsTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("DeleteRecordsPartition", [
            Field("PartitionIndex", "int32"), Field("Offset", "int64")]))),
    ]))),
    Field("TimeoutMs", "int32"),
])
DELETE_RECORDS_RESPONSE = Struct("DeleteRecordsResponse", [
    Field("ThrottleTimeMs", "int32"),
    Field("Topics", ArrayOf(Struct("DeleteRecordsTopicResult", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("DeleteRecordsPartitionResult", [
            Field("PartitionIndex", "int32"), Field("LowWatermark", "int64"), Field("ErrorCode", "int16")]))),
    ]))),
])

# InitProducerIdRequest.json / InitProducerIdResponse.json: validVersions 0-5 stable (v6, KIP-939, is
# latestVersionUnstable in 4.x and not covered here), flexibleVersions 2+. ProducerId/ProducerEpoch request 3+.
INIT_PRODUCER_ID_REQUEST = Struct("InitProducerIdRequest", [
    Field("TransactionalId", "string", nullable="0+"), Field("TransactionTimeoutMs", "int32"),
    Field("ProducerId", "int64", "3+"), Field("ProducerEpoch", "int16", "3+"),
])
INIT_PRODUCER_ID_RESPONSE = Struct("InitProducerIdResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"),
    Field("ProducerId", "int64"), Field("ProducerEpoch", "int16"),
])

# AlterConfigsRequest.json: validVersions 0-2, flexibleVersions 2+.
ALTER_CONFIGS_REQUEST = Struct("AlterConfigsRequest", [
    Field("Resources", ArrayOf(Struct("AlterConfigsResource", [
        Field("ResourceType", "int8"), Field("ResourceName", "string"),
        Field("Configs", ArrayOf(Struct("AlterableConfig", [
            Field("Name", "string"), Field("Value", "string", nullable="0+")]))),
    ]))),
    Field("ValidateOnly", "bool"),
])
# IncrementalAlterConfigsRequest.json: validVersions 0-1, flexibleVersions 1+.
INCREMENTAL_ALTER_CONFIGS_REQUEST = Struct("IncrementalAlterConfigsRequest", [
    Field("Resources", ArrayOf(Struct("AlterConfigsResource", [
        Field("ResourceType", "int8"), Field("ResourceName", "string"),
        Field("Configs", ArrayOf(Struct("AlterableConfig", [
            Field("Name", "string"), Field("ConfigOperation", "int8"), Field("Value", "string", nullable="0+")]))),
    ]))),
    Field("ValidateOnly", "bool"),
])
# AlterConfigsResponse.json and IncrementalAlterConfigsResponse.json share this layout.
ALTER_CONFIGS_RESPONSE = Struct("AlterConfigsResponse", [
    Field("ThrottleTimeMs", "int32"),
    Field("Responses", ArrayOf(Struct("AlterConfigsResourceResponse", [
        Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
        Field("ResourceType", "int8"), Field("ResourceName", "string"),
    ]))),
])

# CreatePartitionsRequest.json / CreatePartitionsResponse.json: validVersions 0-3, flexibleVersions 2+.
CREATE_PARTITIONS_REQUEST = Struct("CreatePartitionsRequest", [
    Field("Topics", ArrayOf(Struct("CreatePartitionsTopic", [
        Field("Name", "string"), Field("Count", "int32"),
        Field("Assignments", ArrayOf(Struct("CreatePartitionsAssignment", [Field("BrokerIds", ArrayOf("int32"))])),
              nullable="0+"),
    ]))),
    Field("TimeoutMs", "int32"), Field("ValidateOnly", "bool"),
])
CREATE_PARTITIONS_RESPONSE = Struct("CreatePartitionsResponse", [
    Field("ThrottleTimeMs", "int32"),
    Field("Results", ArrayOf(Struct("CreatePartitionsTopicResult", [
        Field("Name", "string"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+")]))),
])

# DeleteGroupsRequest.json / DeleteGroupsResponse.json: validVersions 0-2, flexibleVersions 2+.
DELETE_GROUPS_REQUEST = Struct("DeleteGroupsRequest", [Field("GroupsNames", ArrayOf("string"))])
DELETE_GROUPS_RESPONSE = Struct("DeleteGroupsResponse", [
    Field("ThrottleTimeMs", "int32"),
    Field("Results", ArrayOf(Struct("DeletableGroupResult", [Field("GroupId", "string"), Field("ErrorCode", "int16")]))),
])

# OffsetDeleteRequest.json / OffsetDeleteResponse.json: validVersions 0, flexibleVersions none.
OFFSET_DELETE_REQUEST = Struct("OffsetDeleteRequest", [
    Field("GroupId", "string"),
    Field("Topics", ArrayOf(Struct("OffsetDeleteRequestTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("OffsetDeleteRequestPartition", [Field("PartitionIndex", "int32")]))),
    ]))),
])
OFFSET_DELETE_RESPONSE = Struct("OffsetDeleteResponse", [
    Field("ErrorCode", "int16"), Field("ThrottleTimeMs", "int32"),
    Field("Topics", ArrayOf(Struct("OffsetDeleteResponseTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("OffsetDeleteResponsePartition", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16")]))),
    ]))),
])

# FindCoordinatorRequest.json: validVersions 0-6, flexibleVersions 3+. Key 0-3, KeyType 1+ (int8, default 0: a
# group), CoordinatorKeys 4+ (KIP-699 batching).
FIND_COORDINATOR_REQUEST = Struct("FindCoordinatorRequest", [
    Field("Key", "string", "0-3"), Field("KeyType", "int8", "1+"), Field("CoordinatorKeys", ArrayOf("string"), "4+"),
])
# FindCoordinatorResponse.json: ThrottleTimeMs 1+; v0-3 one answer at the top level (ErrorCode, ErrorMessage 1-3
# nullable 1-3, NodeId, Host, Port); v4+ Coordinators[] {Key, NodeId, Host, Port, ErrorCode, ErrorMessage nullable}.
FIND_COORDINATOR_RESPONSE = Struct("FindCoordinatorResponse", [
    Field("ThrottleTimeMs", "int32", "1+"),
    Field("ErrorCode", "int16", "0-3"), Field("ErrorMessage", "string", "1-3", nullable="1-3"),
    Field("NodeId", "int32", "0-3"), Field("Host", "string", "0-3"), Field("Port", "int32", "0-3"),
    Field("Coordinators", ArrayOf(Struct("Coordinator", [
        Field("Key", "string"), Field("NodeId", "int32"), Field("Host", "string"), Field("Port", "int32"),
        Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    ])), "4+"),
])


# The kinds of resource a case may name as the one the policy refused (the JSON's optional "refused"; absent:
# unspecified, the answer of the resource Kafka authorizes first).
REFUSED_KINDS = ("topic", "group", "transactional_id", "cluster")


class Api:
    def __init__(self, key, name, file_name, versions, flexible, request, response, refuse, message=None,
                 refused_rules=None):
        self.key = key
        self.name = name            # as in the message text and the Kafka spec
        self.file_name = file_name  # <file_name>.v<N>[.<variant>].json
        self.versions = versions    # (lo, hi) covered
        self.flexible = Versions(flexible)
        self.request = request
        self.response = response
        self.refuse = refuse        # (request dict, version, message) -> response dict
        self._message = message     # ErrorMessage text; message_for(name) when None
        # refused kind -> a refuse function answering that kind; a kind not listed is answered as unspecified.
        self.refused_rules = dict(refused_rules or {})
        assert set(self.refused_rules) <= set(REFUSED_KINDS), name

    @property
    def message(self):
        return self._message if self._message is not None else message_for(self.name)

    def refuse_for(self, refused):
        """The refuse function for `refused` (None: unspecified)."""
        if refused is None:
            return self.refuse
        if refused not in REFUSED_KINDS:
            raise ValueError("unknown refused kind %r" % refused)
        return self.refused_rules.get(refused, self.refuse)


# ---------------------------------------------------------------------------------------------------------------------
# Refusal rules: logical request -> logical response (fields absent at a version are ignored by the encoder)
# ---------------------------------------------------------------------------------------------------------------------


def refuse_produce(req, version, message):
    return {
        "Responses": [{
            "Name": t.get("Name"), "TopicId": t.get("TopicId"),
            "PartitionResponses": [{
                "Index": p["Index"], "ErrorCode": TOPIC_AUTHORIZATION_FAILED, "BaseOffset": -1,
                "LogAppendTimeMs": -1, "LogStartOffset": -1, "RecordErrors": [], "ErrorMessage": message,
            } for p in t["PartitionData"]],
        } for t in req["TopicData"]],
        "ThrottleTimeMs": 0,
    }


def refuse_create_topics(req, version, message):
    return {"ThrottleTimeMs": 0, "Topics": [{
        "Name": t["Name"], "TopicId": ZERO_UUID, "ErrorCode": TOPIC_AUTHORIZATION_FAILED, "ErrorMessage": message,
        "NumPartitions": -1, "ReplicationFactor": -1, "Configs": None,
    } for t in req["Topics"]]}


def refuse_delete_topics(req, version, message):
    if version >= 6:
        topics = [(t["Name"], t["TopicId"]) for t in req["Topics"]]
    else:
        topics = [(name, ZERO_UUID) for name in req["TopicNames"]]
    return {"ThrottleTimeMs": 0, "Responses": [{
        "Name": name, "TopicId": topic_id, "ErrorCode": TOPIC_AUTHORIZATION_FAILED, "ErrorMessage": message,
    } for name, topic_id in topics]}


def refuse_delete_records(req, version, message):
    return {"ThrottleTimeMs": 0, "Topics": [{
        "Name": t["Name"],
        "Partitions": [{"PartitionIndex": p["PartitionIndex"], "LowWatermark": -1,
                        "ErrorCode": TOPIC_AUTHORIZATION_FAILED} for p in t["Partitions"]],
    } for t in req["Topics"]]}


def refuse_init_producer_id(req, version, message):
    error = (TRANSACTIONAL_ID_AUTHORIZATION_FAILED if req["TransactionalId"] is not None
             else CLUSTER_AUTHORIZATION_FAILED)
    return {"ThrottleTimeMs": 0, "ErrorCode": error, "ProducerId": -1, "ProducerEpoch": -1}


def config_resource_error(resource_type):
    # org.apache.kafka.common.config.ConfigResource.Type: TOPIC 2, GROUP 32; BROKER 4, BROKER_LOGGER 8,
    # CLIENT_METRICS 16 and anything else are cluster-level.
    if resource_type == 2:
        return TOPIC_AUTHORIZATION_FAILED
    if resource_type == 32:
        return GROUP_AUTHORIZATION_FAILED
    return CLUSTER_AUTHORIZATION_FAILED


def refuse_alter_configs(req, version, message):
    return {"ThrottleTimeMs": 0, "Responses": [{
        "ErrorCode": config_resource_error(r["ResourceType"]), "ErrorMessage": message,
        "ResourceType": r["ResourceType"], "ResourceName": r["ResourceName"],
    } for r in req["Resources"]]}


def refuse_create_partitions(req, version, message):
    return {"ThrottleTimeMs": 0, "Results": [{
        "Name": t["Name"], "ErrorCode": TOPIC_AUTHORIZATION_FAILED, "ErrorMessage": message} for t in req["Topics"]]}


def refuse_delete_groups(req, version, message):
    return {"ThrottleTimeMs": 0, "Results": [
        {"GroupId": g, "ErrorCode": GROUP_AUTHORIZATION_FAILED} for g in req["GroupsNames"]]}


def refuse_offset_delete(req, version, message):
    return {"ErrorCode": GROUP_AUTHORIZATION_FAILED, "ThrottleTimeMs": 0, "Topics": [{
        "Name": t["Name"],
        "Partitions": [{"PartitionIndex": p["PartitionIndex"], "ErrorCode": GROUP_AUTHORIZATION_FAILED}
                       for p in t["Partitions"]],
    } for t in req["Topics"]]}


def refuse_find_coordinator(req, version, message):
    # KafkaApis.getCoordinator: an unauthorized group key (KeyType 0) is GROUP_AUTHORIZATION_FAILED, a
    # transactional id (KeyType 1) TRANSACTIONAL_ID_AUTHORIZATION_FAILED; either way Node.noNode() (-1, "", -1).
    error = TRANSACTIONAL_ID_AUTHORIZATION_FAILED if version >= 1 and req["KeyType"] == 1 else GROUP_AUTHORIZATION_FAILED
    out = {"ThrottleTimeMs": 0, "ErrorCode": error, "ErrorMessage": message, "NodeId": -1, "Host": "", "Port": -1}
    if version >= 4:
        out["Coordinators"] = [{"Key": key, "NodeId": -1, "Host": "", "Port": -1, "ErrorCode": error,
                                "ErrorMessage": message} for key in req["CoordinatorKeys"]]
    else:
        out["Coordinators"] = []
    return out


PRODUCE = Api(0, "Produce", "produce", (3, 13), "9+", PRODUCE_REQUEST, PRODUCE_RESPONSE, refuse_produce)
FIND_COORDINATOR = Api(10, "FindCoordinator", "find_coordinator", (0, 6), "3+", FIND_COORDINATOR_REQUEST,
                       FIND_COORDINATOR_RESPONSE, refuse_find_coordinator)
CREATE_TOPICS = Api(19, "CreateTopics", "create_topics", (2, 7), "5+", CREATE_TOPICS_REQUEST,
                    CREATE_TOPICS_RESPONSE, refuse_create_topics)
DELETE_TOPICS = Api(20, "DeleteTopics", "delete_topics", (1, 6), "4+", DELETE_TOPICS_REQUEST,
                    DELETE_TOPICS_RESPONSE, refuse_delete_topics)
DELETE_RECORDS = Api(21, "DeleteRecords", "delete_records", (0, 2), "2+", DELETE_RECORDS_REQUEST,
                     DELETE_RECORDS_RESPONSE, refuse_delete_records)
INIT_PRODUCER_ID = Api(22, "InitProducerId", "init_producer_id", (0, 5), "2+", INIT_PRODUCER_ID_REQUEST,
                       INIT_PRODUCER_ID_RESPONSE, refuse_init_producer_id)
ALTER_CONFIGS = Api(33, "AlterConfigs", "alter_configs", (0, 2), "2+", ALTER_CONFIGS_REQUEST,
                    ALTER_CONFIGS_RESPONSE, refuse_alter_configs)
CREATE_PARTITIONS = Api(37, "CreatePartitions", "create_partitions", (0, 3), "2+", CREATE_PARTITIONS_REQUEST,
                        CREATE_PARTITIONS_RESPONSE, refuse_create_partitions)
DELETE_GROUPS = Api(42, "DeleteGroups", "delete_groups", (0, 2), "2+", DELETE_GROUPS_REQUEST,
                    DELETE_GROUPS_RESPONSE, refuse_delete_groups)
INCREMENTAL_ALTER_CONFIGS = Api(44, "IncrementalAlterConfigs", "incremental_alter_configs", (0, 1), "1+",
                                INCREMENTAL_ALTER_CONFIGS_REQUEST, ALTER_CONFIGS_RESPONSE, refuse_alter_configs)
OFFSET_DELETE = Api(47, "OffsetDelete", "offset_delete", (0, 0), "none", OFFSET_DELETE_REQUEST,
                    OFFSET_DELETE_RESPONSE, refuse_offset_delete)

# ---------------------------------------------------------------------------------------------------------------------
# APIs only a policy's ACLs refuse (kafka_codec/refusal_acl.cpp): a request naming a topic, group or transactional id
# the client may not use. Request schemas are whole (every field of every version, so the requests are what a client
# sends); response schemas list every field, tagged ones none (no refusal sets one). BYTES is encoded as "records":
# the two share a layout (int32 length, or uvarint length + 1 in flexible versions; -1 / 0 = null).
# ---------------------------------------------------------------------------------------------------------------------

BYTES = "records"

# FetchRequest.json: validVersions 0-17, flexibleVersions 12+; v13+ names topics (and forgotten topics) by TopicId
# (KIP-516). ClusterId (tag 0, 12+) and ReplicaState (tag 1, 15+: ReplicaId, ReplicaEpoch) are tagged; ReplicaId 0-14;
# Topic 0-12, TopicId 13+; a partition's ReplicaDirectoryId tag 0 (17+); ForgottenTopicsData 7+; RackId 11+.
FETCH_REQUEST = Struct("FetchRequest", [
    Field("ClusterId", "string", "12+", nullable="12+", tag=0),
    Field("ReplicaId", "int32", "0-14"),
    Field("ReplicaState", Struct("ReplicaState", [Field("ReplicaId", "int32"), Field("ReplicaEpoch", "int64")]),
          "15+", tag=1),
    Field("MaxWaitMs", "int32"), Field("MinBytes", "int32"),
    Field("MaxBytes", "int32", "3+"), Field("IsolationLevel", "int8", "4+"),
    Field("SessionId", "int32", "7+"), Field("SessionEpoch", "int32", "7+"),
    Field("Topics", ArrayOf(Struct("FetchTopic", [
        Field("Topic", "string", "0-12"), Field("TopicId", "uuid", "13+"),
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
# FetchResponse.json: ThrottleTimeMs 1+, ErrorCode/SessionId 7+; Topic 0-12, TopicId 13+; per partition
# LastStableOffset 4+, LogStartOffset 5+, AbortedTransactions 4+ (nullable 4+), PreferredReadReplica 11+, Records
# (nullable; empty here, not null). The tagged DivergingEpoch / CurrentLeader / SnapshotId (12+) and NodeEndpoints
# (16+) stay at their defaults (omitted).
FETCH_RESPONSE = Struct("FetchResponse", [
    Field("ThrottleTimeMs", "int32", "1+"), Field("ErrorCode", "int16", "7+"), Field("SessionId", "int32", "7+"),
    Field("Responses", ArrayOf(Struct("FetchableTopicResponse", [
        Field("Topic", "string", "0-12"), Field("TopicId", "uuid", "13+"),
        Field("Partitions", ArrayOf(Struct("PartitionData", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"), Field("HighWatermark", "int64"),
            Field("LastStableOffset", "int64", "4+"), Field("LogStartOffset", "int64", "5+"),
            Field("AbortedTransactions", ArrayOf(Struct("AbortedTransaction", [
                Field("ProducerId", "int64"), Field("FirstOffset", "int64")])), "4+", nullable="4+"),
            Field("PreferredReadReplica", "int32", "11+"),
            Field("Records", "records", nullable="0+"),
        ]))),
    ]))),
])

# ListOffsetsRequest.json: validVersions 0-10, flexibleVersions 6+. IsolationLevel 2+, CurrentLeaderEpoch 4+,
# MaxNumOffsets 0 only, TimeoutMs 10+ (after Topics).
LIST_OFFSETS_REQUEST = Struct("ListOffsetsRequest", [
    Field("ReplicaId", "int32"), Field("IsolationLevel", "int8", "2+"),
    Field("Topics", ArrayOf(Struct("ListOffsetsTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("ListOffsetsPartition", [
            Field("PartitionIndex", "int32"), Field("CurrentLeaderEpoch", "int32", "4+"), Field("Timestamp", "int64"),
            Field("MaxNumOffsets", "int32", "0")]))),
    ]))),
    Field("TimeoutMs", "int32", "10+"),
])
# ListOffsetsResponse.json: ThrottleTimeMs 2+; OldStyleOffsets []int64 v0 only, Timestamp/Offset 1+ (default -1),
# LeaderEpoch 4+ (default -1).
LIST_OFFSETS_RESPONSE = Struct("ListOffsetsResponse", [
    Field("ThrottleTimeMs", "int32", "2+"),
    Field("Topics", ArrayOf(Struct("ListOffsetsTopicResponse", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("ListOffsetsPartitionResponse", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"),
            Field("OldStyleOffsets", ArrayOf("int64"), "0"),
            Field("Timestamp", "int64", "1+"), Field("Offset", "int64", "1+"), Field("LeaderEpoch", "int32", "4+"),
        ]))),
    ]))),
])

# OffsetCommitRequest.json: validVersions 0-9, flexibleVersions 8+. GenerationIdOrMemberEpoch/MemberId 1+,
# GroupInstanceId 7+ (nullable), RetentionTimeMs 2-4; CommittedLeaderEpoch 6+, CommitTimestamp v1 only,
# CommittedMetadata nullable.
OFFSET_COMMIT_REQUEST = Struct("OffsetCommitRequest", [
    Field("GroupId", "string"), Field("GenerationIdOrMemberEpoch", "int32", "1+"), Field("MemberId", "string", "1+"),
    Field("GroupInstanceId", "string", "7+", nullable="7+"), Field("RetentionTimeMs", "int64", "2-4"),
    Field("Topics", ArrayOf(Struct("OffsetCommitRequestTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("OffsetCommitRequestPartition", [
            Field("PartitionIndex", "int32"), Field("CommittedOffset", "int64"),
            Field("CommittedLeaderEpoch", "int32", "6+"), Field("CommitTimestamp", "int64", "1"),
            Field("CommittedMetadata", "string", nullable="0+")]))),
    ]))),
])
# OffsetCommitResponse.json: ThrottleTimeMs 3+.
OFFSET_COMMIT_RESPONSE = Struct("OffsetCommitResponse", [
    Field("ThrottleTimeMs", "int32", "3+"),
    Field("Topics", ArrayOf(Struct("OffsetCommitResponseTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("OffsetCommitResponsePartition", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16")]))),
    ]))),
])

# OffsetFetchRequest.json: validVersions 0-9, flexibleVersions 6+. GroupId/Topics 0-7 (Topics nullable 2-7: all
# topics), Groups 8+ (KIP-709) with MemberId (nullable)/MemberEpoch 9+ and Topics nullable 8+, RequireStable 7+.
OFFSET_FETCH_TOPIC = Struct("OffsetFetchRequestTopic", [
    Field("Name", "string"), Field("PartitionIndexes", ArrayOf("int32"))])
OFFSET_FETCH_REQUEST = Struct("OffsetFetchRequest", [
    Field("GroupId", "string", "0-7"),
    Field("Topics", ArrayOf(OFFSET_FETCH_TOPIC), "0-7", nullable="2-7"),
    Field("Groups", ArrayOf(Struct("OffsetFetchRequestGroup", [
        Field("GroupId", "string"), Field("MemberId", "string", "9+", nullable="9+"),
        Field("MemberEpoch", "int32", "9+"), Field("Topics", ArrayOf(OFFSET_FETCH_TOPIC), nullable="8+")])), "8+"),
    Field("RequireStable", "bool", "7+"),
])
# OffsetFetchResponse.json: ThrottleTimeMs 3+; Topics 0-7 (CommittedLeaderEpoch 5-7, Metadata nullable), top-level
# ErrorCode 2-7; Groups 8+ with their own Topics and a group-level ErrorCode after them.
OFFSET_FETCH_RESPONSE = Struct("OffsetFetchResponse", [
    Field("ThrottleTimeMs", "int32", "3+"),
    Field("Topics", ArrayOf(Struct("OffsetFetchResponseTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("OffsetFetchResponsePartition", [
            Field("PartitionIndex", "int32"), Field("CommittedOffset", "int64"),
            Field("CommittedLeaderEpoch", "int32", "5-7"), Field("Metadata", "string", nullable="0-7"),
            Field("ErrorCode", "int16")]))),
    ])), "0-7"),
    Field("ErrorCode", "int16", "2-7"),
    Field("Groups", ArrayOf(Struct("OffsetFetchResponseGroup", [
        Field("GroupId", "string"),
        Field("Topics", ArrayOf(Struct("OffsetFetchResponseTopics", [
            Field("Name", "string"),
            Field("Partitions", ArrayOf(Struct("OffsetFetchResponsePartitions", [
                Field("PartitionIndex", "int32"), Field("CommittedOffset", "int64"),
                Field("CommittedLeaderEpoch", "int32"), Field("Metadata", "string", nullable="8+"),
                Field("ErrorCode", "int16")]))),
        ]))),
        Field("ErrorCode", "int16"),
    ])), "8+"),
])

# JoinGroupRequest.json: validVersions 0-9, flexibleVersions 6+. RebalanceTimeoutMs 1+, GroupInstanceId 5+
# (nullable), Protocols []{Name, Metadata bytes}, Reason 8+ (nullable).
JOIN_GROUP_REQUEST = Struct("JoinGroupRequest", [
    Field("GroupId", "string"), Field("SessionTimeoutMs", "int32"), Field("RebalanceTimeoutMs", "int32", "1+"),
    Field("MemberId", "string"), Field("GroupInstanceId", "string", "5+", nullable="5+"),
    Field("ProtocolType", "string"),
    Field("Protocols", ArrayOf(Struct("JoinGroupRequestProtocol", [
        Field("Name", "string"), Field("Metadata", BYTES)]))),
    Field("Reason", "string", "8+", nullable="8+"),
])
# JoinGroupResponse.json: ThrottleTimeMs 2+, ProtocolType 7+ (nullable 7+), ProtocolName nullable 7+, SkipAssignment 9+.
JOIN_GROUP_RESPONSE = Struct("JoinGroupResponse", [
    Field("ThrottleTimeMs", "int32", "2+"), Field("ErrorCode", "int16"), Field("GenerationId", "int32"),
    Field("ProtocolType", "string", "7+", nullable="7+"), Field("ProtocolName", "string", nullable="7+"),
    Field("Leader", "string"), Field("SkipAssignment", "bool", "9+"), Field("MemberId", "string"),
    Field("Members", ArrayOf(Struct("JoinGroupResponseMember", [
        Field("MemberId", "string"), Field("GroupInstanceId", "string", "5+", nullable="5+"),
        Field("Metadata", BYTES)]))),
])

# HeartbeatRequest.json / HeartbeatResponse.json: validVersions 0-4, flexibleVersions 4+. GroupInstanceId 3+
# (nullable); ThrottleTimeMs 1+.
HEARTBEAT_REQUEST = Struct("HeartbeatRequest", [
    Field("GroupId", "string"), Field("GenerationId", "int32"), Field("MemberId", "string"),
    Field("GroupInstanceId", "string", "3+", nullable="3+"),
])
HEARTBEAT_RESPONSE = Struct("HeartbeatResponse", [Field("ThrottleTimeMs", "int32", "1+"), Field("ErrorCode", "int16")])

# LeaveGroupRequest.json / LeaveGroupResponse.json: validVersions 0-5, flexibleVersions 4+. MemberId 0-2, Members 3+
# (batched, KIP-345) with Reason 5+ (KIP-800); ThrottleTimeMs 1+, Members 3+.
LEAVE_GROUP_REQUEST = Struct("LeaveGroupRequest", [
    Field("GroupId", "string"), Field("MemberId", "string", "0-2"),
    Field("Members", ArrayOf(Struct("MemberIdentity", [
        Field("MemberId", "string"), Field("GroupInstanceId", "string", nullable="3+"),
        Field("Reason", "string", "5+", nullable="5+")])), "3+"),
])
LEAVE_GROUP_RESPONSE = Struct("LeaveGroupResponse", [
    Field("ThrottleTimeMs", "int32", "1+"), Field("ErrorCode", "int16"),
    Field("Members", ArrayOf(Struct("MemberResponse", [
        Field("MemberId", "string"), Field("GroupInstanceId", "string", nullable="3+"),
        Field("ErrorCode", "int16")])), "3+"),
])

# SyncGroupRequest.json / SyncGroupResponse.json: validVersions 0-5, flexibleVersions 4+. GroupInstanceId 3+,
# ProtocolType/ProtocolName 5+ (nullable, KIP-559); ThrottleTimeMs 1+, Assignment bytes.
SYNC_GROUP_REQUEST = Struct("SyncGroupRequest", [
    Field("GroupId", "string"), Field("GenerationId", "int32"), Field("MemberId", "string"),
    Field("GroupInstanceId", "string", "3+", nullable="3+"),
    Field("ProtocolType", "string", "5+", nullable="5+"), Field("ProtocolName", "string", "5+", nullable="5+"),
    Field("Assignments", ArrayOf(Struct("SyncGroupRequestAssignment", [
        Field("MemberId", "string"), Field("Assignment", BYTES)]))),
])
SYNC_GROUP_RESPONSE = Struct("SyncGroupResponse", [
    Field("ThrottleTimeMs", "int32", "1+"), Field("ErrorCode", "int16"),
    Field("ProtocolType", "string", "5+", nullable="5+"), Field("ProtocolName", "string", "5+", nullable="5+"),
    Field("Assignment", BYTES),
])

# DescribeGroupsRequest.json / DescribeGroupsResponse.json: validVersions 0-5, flexibleVersions 5+.
# IncludeAuthorizedOperations 3+; ThrottleTimeMs 1+, member GroupInstanceId 4+, AuthorizedOperations 3+
# (default INT32_MIN: not requested / omitted).
DESCRIBE_GROUPS_REQUEST = Struct("DescribeGroupsRequest", [
    Field("Groups", ArrayOf("string")), Field("IncludeAuthorizedOperations", "bool", "3+")])
DESCRIBE_GROUPS_RESPONSE = Struct("DescribeGroupsResponse", [
    Field("ThrottleTimeMs", "int32", "1+"),
    Field("Groups", ArrayOf(Struct("DescribedGroup", [
        Field("ErrorCode", "int16"), Field("GroupId", "string"), Field("GroupState", "string"),
        Field("ProtocolType", "string"), Field("ProtocolData", "string"),
        Field("Members", ArrayOf(Struct("DescribedGroupMember", [
            Field("MemberId", "string"), Field("GroupInstanceId", "string", "4+", nullable="4+"),
            Field("ClientId", "string"), Field("ClientHost", "string"), Field("MemberMetadata", BYTES),
            Field("MemberAssignment", BYTES)]))),
        Field("AuthorizedOperations", "int32", "3+"),
    ]))),
])

# OffsetForLeaderEpochRequest.json / OffsetForLeaderEpochResponse.json: validVersions 0-4, flexibleVersions 4+.
# ReplicaId 3+, CurrentLeaderEpoch 2+; ThrottleTimeMs 2+, ErrorCode before Partition, LeaderEpoch 1+.
OFFSET_FOR_LEADER_EPOCH_REQUEST = Struct("OffsetForLeaderEpochRequest", [
    Field("ReplicaId", "int32", "3+"),
    Field("Topics", ArrayOf(Struct("OffsetForLeaderTopic", [
        Field("Topic", "string"),
        Field("Partitions", ArrayOf(Struct("OffsetForLeaderPartition", [
            Field("Partition", "int32"), Field("CurrentLeaderEpoch", "int32", "2+"),
            Field("LeaderEpoch", "int32")]))),
    ]))),
])
OFFSET_FOR_LEADER_EPOCH_RESPONSE = Struct("OffsetForLeaderEpochResponse", [
    Field("ThrottleTimeMs", "int32", "2+"),
    Field("Topics", ArrayOf(Struct("OffsetForLeaderTopicResult", [
        Field("Topic", "string"),
        Field("Partitions", ArrayOf(Struct("EpochEndOffset", [
            Field("ErrorCode", "int16"), Field("Partition", "int32"), Field("LeaderEpoch", "int32", "1+"),
            Field("EndOffset", "int64")]))),
    ]))),
])

# AddPartitionsToTxnRequest.json / AddPartitionsToTxnResponse.json: validVersions 0-5, flexibleVersions 3+. v0-3
# one transaction (V3AndBelow*), v4+ Transactions[] (KIP-890). Response: ThrottleTimeMs, ErrorCode 4+,
# ResultsByTransaction 4+, ResultsByTopicV3AndBelow 0-3; partitions carry PartitionErrorCode.
ADD_PARTITIONS_TO_TXN_TOPIC = Struct("AddPartitionsToTxnTopic", [
    Field("Name", "string"), Field("Partitions", ArrayOf("int32"))])
ADD_PARTITIONS_TO_TXN_REQUEST = Struct("AddPartitionsToTxnRequest", [
    Field("Transactions", ArrayOf(Struct("AddPartitionsToTxnTransaction", [
        Field("TransactionalId", "string"), Field("ProducerId", "int64"), Field("ProducerEpoch", "int16"),
        Field("VerifyOnly", "bool"), Field("Topics", ArrayOf(ADD_PARTITIONS_TO_TXN_TOPIC))])), "4+"),
    Field("V3AndBelowTransactionalId", "string", "0-3"), Field("V3AndBelowProducerId", "int64", "0-3"),
    Field("V3AndBelowProducerEpoch", "int16", "0-3"),
    Field("V3AndBelowTopics", ArrayOf(ADD_PARTITIONS_TO_TXN_TOPIC), "0-3"),
])
ADD_PARTITIONS_TO_TXN_TOPIC_RESULT = Struct("AddPartitionsToTxnTopicResult", [
    Field("Name", "string"),
    Field("ResultsByPartition", ArrayOf(Struct("AddPartitionsToTxnPartitionResult", [
        Field("PartitionIndex", "int32"), Field("PartitionErrorCode", "int16")]))),
])
ADD_PARTITIONS_TO_TXN_RESPONSE = Struct("AddPartitionsToTxnResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16", "4+"),
    Field("ResultsByTransaction", ArrayOf(Struct("AddPartitionsToTxnResult", [
        Field("TransactionalId", "string"),
        Field("TopicResults", ArrayOf(ADD_PARTITIONS_TO_TXN_TOPIC_RESULT))])), "4+"),
    Field("ResultsByTopicV3AndBelow", ArrayOf(ADD_PARTITIONS_TO_TXN_TOPIC_RESULT), "0-3"),
])

# AddOffsetsToTxnRequest.json / AddOffsetsToTxnResponse.json: validVersions 0-4, flexibleVersions 3+.
ADD_OFFSETS_TO_TXN_REQUEST = Struct("AddOffsetsToTxnRequest", [
    Field("TransactionalId", "string"), Field("ProducerId", "int64"), Field("ProducerEpoch", "int16"),
    Field("GroupId", "string")])
ADD_OFFSETS_TO_TXN_RESPONSE = Struct("AddOffsetsToTxnResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16")])

# EndTxnRequest.json / EndTxnResponse.json: validVersions 0-5, flexibleVersions 3+. Response ProducerId/ProducerEpoch
# 5+ (default -1, KIP-890).
END_TXN_REQUEST = Struct("EndTxnRequest", [
    Field("TransactionalId", "string"), Field("ProducerId", "int64"), Field("ProducerEpoch", "int16"),
    Field("Committed", "bool")])
END_TXN_RESPONSE = Struct("EndTxnResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ProducerId", "int64", "5+"),
    Field("ProducerEpoch", "int16", "5+")])

# TxnOffsetCommitRequest.json / TxnOffsetCommitResponse.json: validVersions 0-4, flexibleVersions 3+.
# GenerationId/MemberId/GroupInstanceId 3+ (KIP-447), CommittedLeaderEpoch 2+.
TXN_OFFSET_COMMIT_REQUEST = Struct("TxnOffsetCommitRequest", [
    Field("TransactionalId", "string"), Field("GroupId", "string"), Field("ProducerId", "int64"),
    Field("ProducerEpoch", "int16"), Field("GenerationId", "int32", "3+"), Field("MemberId", "string", "3+"),
    Field("GroupInstanceId", "string", "3+", nullable="3+"),
    Field("Topics", ArrayOf(Struct("TxnOffsetCommitRequestTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("TxnOffsetCommitRequestPartition", [
            Field("PartitionIndex", "int32"), Field("CommittedOffset", "int64"),
            Field("CommittedLeaderEpoch", "int32", "2+"), Field("CommittedMetadata", "string", nullable="0+")]))),
    ]))),
])
TXN_OFFSET_COMMIT_RESPONSE = Struct("TxnOffsetCommitResponse", [
    Field("ThrottleTimeMs", "int32"),
    Field("Topics", ArrayOf(Struct("TxnOffsetCommitResponseTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("TxnOffsetCommitResponsePartition", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16")]))),
    ]))),
])

# DescribeConfigsRequest.json / DescribeConfigsResponse.json: validVersions 0-4, flexibleVersions 4+.
# ConfigurationKeys nullable (null: every key), IncludeSynonyms 1+, IncludeDocumentation 3+. Response configs:
# IsDefault v0, ConfigSource/Synonyms 1+, ConfigType/Documentation 3+ (empty in a refusal).
DESCRIBE_CONFIGS_REQUEST = Struct("DescribeConfigsRequest", [
    Field("Resources", ArrayOf(Struct("DescribeConfigsResource", [
        Field("ResourceType", "int8"), Field("ResourceName", "string"),
        Field("ConfigurationKeys", ArrayOf("string"), nullable="0+")]))),
    Field("IncludeSynonyms", "bool", "1+"), Field("IncludeDocumentation", "bool", "3+"),
])
DESCRIBE_CONFIGS_RESPONSE = Struct("DescribeConfigsResponse", [
    Field("ThrottleTimeMs", "int32"),
    Field("Results", ArrayOf(Struct("DescribeConfigsResult", [
        Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
        Field("ResourceType", "int8"), Field("ResourceName", "string"),
        Field("Configs", ArrayOf(Struct("DescribeConfigsResourceResult", [
            Field("Name", "string"), Field("Value", "string", nullable="0+"), Field("ReadOnly", "bool"),
            Field("IsDefault", "bool", "0"), Field("ConfigSource", "int8", "1+"), Field("IsSensitive", "bool"),
            Field("Synonyms", ArrayOf(Struct("DescribeConfigsSynonym", [
                Field("Name", "string"), Field("Value", "string", nullable="0+"), Field("Source", "int8")])), "1+"),
            Field("ConfigType", "int8", "3+"), Field("Documentation", "string", "3+", nullable="0+"),
        ]))),
    ]))),
])

# ConsumerGroupHeartbeatRequest.json / ConsumerGroupHeartbeatResponse.json (KIP-848): validVersions 0-1,
# flexibleVersions 0+. SubscribedTopicRegex 1+ (KIP-848 regex). Response Assignment is a nullable struct (INT8 -1 null).
CGH_TOPIC_PARTITIONS = Struct("TopicPartitions", [Field("TopicId", "uuid"), Field("Partitions", ArrayOf("int32"))])
CONSUMER_GROUP_HEARTBEAT_REQUEST = Struct("ConsumerGroupHeartbeatRequest", [
    Field("GroupId", "string"), Field("MemberId", "string"), Field("MemberEpoch", "int32"),
    Field("InstanceId", "string", nullable="0+"), Field("RackId", "string", nullable="0+"),
    Field("RebalanceTimeoutMs", "int32"), Field("SubscribedTopicNames", ArrayOf("string"), nullable="0+"),
    Field("SubscribedTopicRegex", "string", "1+", nullable="1+"), Field("ServerAssignor", "string", nullable="0+"),
    Field("TopicPartitions", ArrayOf(CGH_TOPIC_PARTITIONS), nullable="0+"),
])
CONSUMER_GROUP_HEARTBEAT_RESPONSE = Struct("ConsumerGroupHeartbeatResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    Field("MemberId", "string", nullable="0+"), Field("MemberEpoch", "int32"), Field("HeartbeatIntervalMs", "int32"),
    Field("Assignment", Struct("Assignment", [Field("TopicPartitions", ArrayOf(CGH_TOPIC_PARTITIONS))]),
          nullable="0+"),
])


# Refusal rules of the ACL-only APIs. The encoder sees the request, not which resource the policy refused, so each
# API answers with the error KafkaApis gives when the resource it authorizes first is denied.


def refuse_fetch(req, version, message):
    # FetchResponse.partitionResponse(partition, TOPIC_AUTHORIZATION_FAILED): no watermarks (-1), no aborted
    # transactions (null), no preferred replica (-1), empty Records; no top-level error and no session (SessionId 0).
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "SessionId": 0, "Responses": [{
        "Topic": t["Topic"], "TopicId": t["TopicId"],
        "Partitions": [{
            "PartitionIndex": p["Partition"], "ErrorCode": TOPIC_AUTHORIZATION_FAILED, "HighWatermark": -1,
            "LastStableOffset": -1, "LogStartOffset": -1, "AbortedTransactions": None, "PreferredReadReplica": -1,
            "Records": b"",
        } for p in t["Partitions"]],
    } for t in req["Topics"]]}


def refuse_list_offsets(req, version, message):
    # ListOffsetsRequest.getErrorResponse: v0 OldStyleOffsets [], v1+ Timestamp/Offset -1; LeaderEpoch default -1.
    return {"ThrottleTimeMs": 0, "Topics": [{
        "Name": t["Name"],
        "Partitions": [{"PartitionIndex": p["PartitionIndex"], "ErrorCode": TOPIC_AUTHORIZATION_FAILED,
                        "OldStyleOffsets": [], "Timestamp": -1, "Offset": -1, "LeaderEpoch": -1}
                       for p in t["Partitions"]],
    } for t in req["Topics"]]}


def partitions_with_error(topics, partition_key, error):
    return [{"Name": t["Name"], "Partitions": [{"PartitionIndex": p[partition_key], "ErrorCode": error}
                                               for p in t["Partitions"]]} for t in topics]


def refuse_offset_commit(req, version, message):
    # KafkaApis.handleOffsetCommitRequest: the group is authorized first; denied, every partition carries
    # GROUP_AUTHORIZATION_FAILED (OffsetCommitRequest.getErrorResponse).
    return {"ThrottleTimeMs": 0,
            "Topics": partitions_with_error(req["Topics"], "PartitionIndex", GROUP_AUTHORIZATION_FAILED)}


def refuse_offset_fetch(req, version, message):
    # OffsetFetchRequest.getErrorResponse(GROUP_AUTHORIZATION_FAILED): v0-1 (no top-level error) every requested
    # partition with the error, CommittedOffset -1 (INVALID_OFFSET) and Metadata "" (NO_METADATA); v2-7 the top-level
    # ErrorCode and no topics; v8+ every group with its ErrorCode and no topics.
    out = {"ThrottleTimeMs": 0, "Topics": [], "ErrorCode": GROUP_AUTHORIZATION_FAILED, "Groups": []}
    if version <= 1:
        out["Topics"] = [{"Name": t["Name"], "Partitions": [{
            "PartitionIndex": p, "CommittedOffset": -1, "CommittedLeaderEpoch": -1, "Metadata": "",
            "ErrorCode": GROUP_AUTHORIZATION_FAILED} for p in t["PartitionIndexes"]]} for t in req["Topics"]]
    if version >= 8:
        out["Groups"] = [{"GroupId": g["GroupId"], "Topics": [], "ErrorCode": GROUP_AUTHORIZATION_FAILED}
                         for g in req["Groups"]]
    return out


def refuse_join_group(req, version, message):
    # JoinGroupRequest.getErrorResponse: GenerationId -1 (UNKNOWN_GENERATION_ID), ProtocolName "" before v7 and null
    # from v7, Leader/MemberId "" (UNKNOWN_MEMBER_ID), no members; ProtocolType (7+) null, SkipAssignment (9+) false.
    return {"ThrottleTimeMs": 0, "ErrorCode": GROUP_AUTHORIZATION_FAILED, "GenerationId": -1, "ProtocolType": None,
            "ProtocolName": None if version >= 7 else "", "Leader": "", "SkipAssignment": False, "MemberId": "",
            "Members": []}


def refuse_heartbeat(req, version, message):
    return {"ThrottleTimeMs": 0, "ErrorCode": GROUP_AUTHORIZATION_FAILED}


def refuse_leave_group(req, version, message):
    # LeaveGroupRequest.getErrorResponse: the top-level error only, no member results (v3+).
    return {"ThrottleTimeMs": 0, "ErrorCode": GROUP_AUTHORIZATION_FAILED, "Members": []}


def refuse_sync_group(req, version, message):
    # SyncGroupRequest.getErrorResponse: Assignment new byte[0]; ProtocolType/ProtocolName (5+) null.
    return {"ThrottleTimeMs": 0, "ErrorCode": GROUP_AUTHORIZATION_FAILED, "ProtocolType": None, "ProtocolName": None,
            "Assignment": b""}


def refuse_describe_groups(req, version, message):
    # DescribeGroupsResponse.groupError: GroupState/ProtocolType/ProtocolData "", no members, AuthorizedOperations
    # omitted (Integer.MIN_VALUE).
    return {"ThrottleTimeMs": 0, "Groups": [{
        "ErrorCode": GROUP_AUTHORIZATION_FAILED, "GroupId": g, "GroupState": "", "ProtocolType": "",
        "ProtocolData": "", "Members": [], "AuthorizedOperations": -2147483648} for g in req["Groups"]]}


def refuse_offset_for_leader_epoch(req, version, message):
    # OffsetsForLeaderEpochRequest.getErrorResponse: LeaderEpoch -1 (UNDEFINED_EPOCH), EndOffset -1.
    return {"ThrottleTimeMs": 0, "Topics": [{
        "Topic": t["Topic"],
        "Partitions": [{"ErrorCode": TOPIC_AUTHORIZATION_FAILED, "Partition": p["Partition"], "LeaderEpoch": -1,
                        "EndOffset": -1} for p in t["Partitions"]],
    } for t in req["Topics"]]}


def txn_topic_results(topics, error=TRANSACTIONAL_ID_AUTHORIZATION_FAILED):
    return [{"Name": t["Name"], "ResultsByPartition": [
        {"PartitionIndex": p, "PartitionErrorCode": error} for p in t["Partitions"]]}
        for t in topics]


def refuse_add_partitions_to_txn(req, version, message, error=TRANSACTIONAL_ID_AUTHORIZATION_FAILED):
    # The transactional id is authorized before the topics (errorResponseForTransaction): every partition
    # TRANSACTIONAL_ID_AUTHORIZATION_FAILED. v4+ answers per transaction with a top-level ErrorCode of NONE.
    # (Kafka reserves v4+ for brokers and answers a denied ClusterAction with a top-level
    # CLUSTER_AUTHORIZATION_FAILED instead; kedge reads these by their transactional ids.)
    if version <= 3:
        return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ResultsByTransaction": [],
                "ResultsByTopicV3AndBelow": txn_topic_results(req["V3AndBelowTopics"], error)}
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ResultsByTopicV3AndBelow": [], "ResultsByTransaction": [
        {"TransactionalId": t["TransactionalId"], "TopicResults": txn_topic_results(t["Topics"], error)}
        for t in req["Transactions"]]}


def refuse_add_offsets_to_txn(req, version, message):
    # KafkaApis.handleAddOffsetsToTxnRequest checks Write on the transactional id before Read on the group.
    return {"ThrottleTimeMs": 0, "ErrorCode": TRANSACTIONAL_ID_AUTHORIZATION_FAILED}


def refuse_end_txn(req, version, message):
    return {"ThrottleTimeMs": 0, "ErrorCode": TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "ProducerId": -1,
            "ProducerEpoch": -1}


def refuse_txn_offset_commit(req, version, message):
    # KafkaApis.handleTxnOffsetCommitRequest checks Write on the transactional id first, then Read on the group;
    # a denial is answered on every partition (TxnOffsetCommitRequest.getErrorResponse). The transactional id's
    # error is used (the encoder, like kedge, does not know which of the two was denied).
    return {"ThrottleTimeMs": 0,
            "Topics": partitions_with_error(req["Topics"], "PartitionIndex", TRANSACTIONAL_ID_AUTHORIZATION_FAILED)}


def refuse_describe_configs(req, version, message):
    return {"ThrottleTimeMs": 0, "Results": [{
        "ErrorCode": config_resource_error(r["ResourceType"]), "ErrorMessage": message,
        "ResourceType": r["ResourceType"], "ResourceName": r["ResourceName"], "Configs": [],
    } for r in req["Resources"]]}


def refuse_consumer_group_heartbeat(req, version, message):
    # ConsumerGroupHeartbeatRequest.getErrorResponse sets only the error: MemberId null (default), MemberEpoch and
    # HeartbeatIntervalMs 0 (no spec default), Assignment null (default). ErrorMessage carries `message`.
    return {"ThrottleTimeMs": 0, "ErrorCode": GROUP_AUTHORIZATION_FAILED, "ErrorMessage": message, "MemberId": None,
            "MemberEpoch": 0, "HeartbeatIntervalMs": 0, "Assignment": None}


# Answers when the policy says which kind of resource it refused ("refused" in the JSON, encode_refusal's
# RefusedResource): the error Kafka's KafkaApis gives when that resource is denied (the one it authorizes first being
# allowed). Every kind an API does not list here is answered as unspecified (the functions above).


def refuse_offset_commit_topic(req, version, message):
    # KafkaApis.handleOffsetCommitRequest: the group allowed, each unauthorized topic's partitions carry
    # TOPIC_AUTHORIZATION_FAILED.
    return {"ThrottleTimeMs": 0,
            "Topics": partitions_with_error(req["Topics"], "PartitionIndex", TOPIC_AUTHORIZATION_FAILED)}


def offset_fetch_topics_refused(topics):
    """Every requested topic (None: none requested) with every requested partition: no offset (-1), no leader epoch
    (-1), Metadata "" and TOPIC_AUTHORIZATION_FAILED."""
    return [{"Name": t["Name"], "Partitions": [{
        "PartitionIndex": p, "CommittedOffset": -1, "CommittedLeaderEpoch": -1, "Metadata": "",
        "ErrorCode": TOPIC_AUTHORIZATION_FAILED} for p in t["PartitionIndexes"]]} for t in topics or []]


def refuse_offset_fetch_topic(req, version, message):
    # KafkaApis.handleOffsetFetchRequest: the group allowed, an unauthorized topic's partitions carry
    # TOPIC_AUTHORIZATION_FAILED and no offset; the group itself has no error (top-level 0 in v2-7, each group's 0 in
    # v8+; a group asking for every topic (null Topics) gets Topics []).
    out = {"ThrottleTimeMs": 0, "Topics": [], "ErrorCode": 0, "Groups": []}
    if version <= 7:
        out["Topics"] = offset_fetch_topics_refused(req["Topics"])
    else:
        out["Groups"] = [{"GroupId": g["GroupId"], "Topics": offset_fetch_topics_refused(g["Topics"]), "ErrorCode": 0}
                         for g in req["Groups"]]
    return out


def refuse_txn_offset_commit_group(req, version, message):
    return {"ThrottleTimeMs": 0,
            "Topics": partitions_with_error(req["Topics"], "PartitionIndex", GROUP_AUTHORIZATION_FAILED)}


def refuse_txn_offset_commit_topic(req, version, message):
    return {"ThrottleTimeMs": 0,
            "Topics": partitions_with_error(req["Topics"], "PartitionIndex", TOPIC_AUTHORIZATION_FAILED)}


def refuse_add_offsets_to_txn_group(req, version, message):
    return {"ThrottleTimeMs": 0, "ErrorCode": GROUP_AUTHORIZATION_FAILED}


def refuse_add_partitions_to_txn_topic(req, version, message):
    # The transactional id allowed, each unauthorized topic's partitions TOPIC_AUTHORIZATION_FAILED (v4+: per
    # transaction, top-level ErrorCode 0, as unspecified).
    return refuse_add_partitions_to_txn(req, version, message, TOPIC_AUTHORIZATION_FAILED)


def refuse_consumer_group_heartbeat_topic(req, version, message):
    # Kafka 4.0+ (KAFKA-18813): the group allowed, a subscribed topic denied Describe: TOPIC_AUTHORIZATION_FAILED.
    return dict(refuse_consumer_group_heartbeat(req, version, message), ErrorCode=TOPIC_AUTHORIZATION_FAILED)


# The share group APIs (KIP-932) and DescribeProducers, Kafka 4.3.1 (clients/src/main/resources/common/message/
# <Api>Request.json / <Api>Response.json of that release). Every version flexible (compact types, tag buffers, request
# header v2, response header v1).

# ShareGroupHeartbeatRequest.json: validVersions 1 (v0, early access in 4.0, removed in 4.1).
SHARE_GROUP_HEARTBEAT_REQUEST = Struct("ShareGroupHeartbeatRequest", [
    Field("GroupId", "string"), Field("MemberId", "string"), Field("MemberEpoch", "int32"),
    Field("RackId", "string", nullable="0+"), Field("SubscribedTopicNames", ArrayOf("string"), nullable="0+"),
])
# ShareGroupHeartbeatResponse.json: Assignment is a nullable struct (INT8 -1 null) of TopicPartitions.
SHARE_GROUP_HEARTBEAT_RESPONSE = Struct("ShareGroupHeartbeatResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    Field("MemberId", "string", nullable="0+"), Field("MemberEpoch", "int32"), Field("HeartbeatIntervalMs", "int32"),
    Field("Assignment", Struct("Assignment", [Field("TopicPartitions", ArrayOf(CGH_TOPIC_PARTITIONS))]),
          nullable="0+"),
])

ACKNOWLEDGEMENT_BATCH = Struct("AcknowledgementBatch", [
    Field("FirstOffset", "int64"), Field("LastOffset", "int64"), Field("AcknowledgeTypes", ArrayOf("int8"))])
# ShareFetchRequest.json: validVersions 1-2. MaxRecords/BatchSize 1+, ShareAcquireMode 2+ (KIP-1206),
# PartitionMaxBytes v0 only.
SHARE_FETCH_REQUEST = Struct("ShareFetchRequest", [
    Field("GroupId", "string", nullable="0+"), Field("MemberId", "string", nullable="0+"),
    Field("ShareSessionEpoch", "int32"), Field("MaxWaitMs", "int32"), Field("MinBytes", "int32"),
    Field("MaxBytes", "int32"), Field("MaxRecords", "int32", "1+"), Field("BatchSize", "int32", "1+"),
    Field("ShareAcquireMode", "int8", "2+"),
    Field("Topics", ArrayOf(Struct("FetchTopic", [
        Field("TopicId", "uuid"),
        Field("Partitions", ArrayOf(Struct("FetchPartition", [
            Field("PartitionIndex", "int32"), Field("PartitionMaxBytes", "int32", "0"),
            Field("AcknowledgementBatches", ArrayOf(ACKNOWLEDGEMENT_BATCH))]))),
    ]))),
    Field("ForgottenTopicsData", ArrayOf(Struct("ForgottenTopic", [
        Field("TopicId", "uuid"), Field("Partitions", ArrayOf("int32"))]))),
])
SHARE_NODE_ENDPOINT = Struct("NodeEndpoint", [
    Field("NodeId", "int32"), Field("Host", "string"), Field("Port", "int32"), Field("Rack", "string", nullable="0+")])
SHARE_LEADER = Struct("LeaderIdAndEpoch", [Field("LeaderId", "int32"), Field("LeaderEpoch", "int32")])
# ShareFetchResponse.json: validVersions 1-2; a whole refusal has no Responses and no NodeEndpoints.
SHARE_FETCH_RESPONSE = Struct("ShareFetchResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    Field("AcquisitionLockTimeoutMs", "int32"),
    Field("Responses", ArrayOf(Struct("ShareFetchableTopicResponse", [
        Field("TopicId", "uuid"),
        Field("Partitions", ArrayOf(Struct("PartitionData", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"),
            Field("ErrorMessage", "string", nullable="0+"), Field("AcknowledgeErrorCode", "int16"),
            Field("AcknowledgeErrorMessage", "string", nullable="0+"), Field("CurrentLeader", SHARE_LEADER),
            Field("Records", "records", nullable="0+"),
            Field("AcquiredRecords", ArrayOf(Struct("AcquiredRecords", [
                Field("FirstOffset", "int64"), Field("LastOffset", "int64"), Field("DeliveryCount", "int16")]))),
        ]))),
    ]))),
    Field("NodeEndpoints", ArrayOf(SHARE_NODE_ENDPOINT)),
])
# ShareAcknowledgeRequest.json: validVersions 1-2. IsRenewAck 2+ (KIP-1222).
SHARE_ACKNOWLEDGE_REQUEST = Struct("ShareAcknowledgeRequest", [
    Field("GroupId", "string", nullable="0+"), Field("MemberId", "string", nullable="0+"),
    Field("ShareSessionEpoch", "int32"), Field("IsRenewAck", "bool", "2+"),
    Field("Topics", ArrayOf(Struct("AcknowledgeTopic", [
        Field("TopicId", "uuid"),
        Field("Partitions", ArrayOf(Struct("AcknowledgePartition", [
            Field("PartitionIndex", "int32"), Field("AcknowledgementBatches", ArrayOf(ACKNOWLEDGEMENT_BATCH))]))),
    ]))),
])
# ShareAcknowledgeResponse.json: validVersions 1-2; AcquisitionLockTimeoutMs 2+.
SHARE_ACKNOWLEDGE_RESPONSE = Struct("ShareAcknowledgeResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    Field("AcquisitionLockTimeoutMs", "int32", "2+"),
    Field("Responses", ArrayOf(Struct("ShareAcknowledgeTopicResponse", [
        Field("TopicId", "uuid"),
        Field("Partitions", ArrayOf(Struct("PartitionData", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"),
            Field("ErrorMessage", "string", nullable="0+"), Field("CurrentLeader", SHARE_LEADER)]))),
    ]))),
    Field("NodeEndpoints", ArrayOf(SHARE_NODE_ENDPOINT)),
])
# DescribeProducersRequest.json / DescribeProducersResponse.json: validVersions 0, flexibleVersions 0+.
DESCRIBE_PRODUCERS_REQUEST = Struct("DescribeProducersRequest", [
    Field("Topics", ArrayOf(Struct("TopicRequest", [
        Field("Name", "string"), Field("PartitionIndexes", ArrayOf("int32"))]))),
])
DESCRIBE_PRODUCERS_RESPONSE = Struct("DescribeProducersResponse", [
    Field("ThrottleTimeMs", "int32"),
    Field("Topics", ArrayOf(Struct("TopicResponse", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("PartitionResponse", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"),
            Field("ErrorMessage", "string", nullable="0+"),
            Field("ActiveProducers", ArrayOf(Struct("ProducerState", [
                Field("ProducerId", "int64"), Field("ProducerEpoch", "int32"), Field("LastSequence", "int32"),
                Field("LastTimestamp", "int64"), Field("CoordinatorEpoch", "int32"),
                Field("CurrentTxnStartOffset", "int64")]))),
        ]))),
    ]))),
])


def refuse_share_group_heartbeat(req, version, message, error=GROUP_AUTHORIZATION_FAILED):
    # ShareGroupHeartbeatRequest.getErrorResponse sets the error only: MemberId null (default), MemberEpoch and
    # HeartbeatIntervalMs 0 (no spec default), Assignment null (default); ErrorMessage carries `message`.
    return {"ThrottleTimeMs": 0, "ErrorCode": error, "ErrorMessage": message, "MemberId": None, "MemberEpoch": 0,
            "HeartbeatIntervalMs": 0, "Assignment": None}


def refuse_share_group_heartbeat_topic(req, version, message):
    return refuse_share_group_heartbeat(req, version, message, TOPIC_AUTHORIZATION_FAILED)


def refuse_share_request(req, version, message, error=GROUP_AUTHORIZATION_FAILED):
    # ShareFetch / ShareAcknowledge denied whole: the top-level error and message, no lock timeout (0; ShareAcknowledge
    # has the field from v2), no topic and no node endpoint.
    return {"ThrottleTimeMs": 0, "ErrorCode": error, "ErrorMessage": message, "AcquisitionLockTimeoutMs": 0,
            "Responses": [], "NodeEndpoints": []}


def refuse_share_request_topic(req, version, message):
    return refuse_share_request(req, version, message, TOPIC_AUTHORIZATION_FAILED)


def refuse_describe_producers(req, version, message):
    # KafkaApis.handleDescribeProducersRequest: an unauthorized topic's partitions carry TOPIC_AUTHORIZATION_FAILED
    # with the message and no producer.
    return {"ThrottleTimeMs": 0, "Topics": [{
        "Name": t["Name"],
        "Partitions": [{"PartitionIndex": p, "ErrorCode": TOPIC_AUTHORIZATION_FAILED, "ErrorMessage": message,
                        "ActiveProducers": []} for p in t["PartitionIndexes"]],
    } for t in req["Topics"]]}


def acl_message_for(api_name, what):
    """The text kedge writes for a resource an ACL denies (gateway/connection.cpp refuse_by_policy)."""
    return "%s authorization failed. %s is not allowed on virtual cluster alpha" % (what, api_name)


def acl_api(key, name, file_name, versions, flexible, request, response, refuse, what, refused_rules=None):
    return Api(key, name, file_name, versions, flexible, request, response, refuse, acl_message_for(name, what),
               refused_rules)


# Answered whole through split.h (encode_split_refusal) when every topic is refused.
FETCH = acl_api(1, "Fetch", "fetch", (0, 17), "12+", FETCH_REQUEST, FETCH_RESPONSE, refuse_fetch, "Topic")
LIST_OFFSETS = acl_api(2, "ListOffsets", "list_offsets", (0, 10), "6+", LIST_OFFSETS_REQUEST, LIST_OFFSETS_RESPONSE,
                       refuse_list_offsets, "Topic")
OFFSET_COMMIT = acl_api(8, "OffsetCommit", "offset_commit", (0, 9), "8+", OFFSET_COMMIT_REQUEST,
                        OFFSET_COMMIT_RESPONSE, refuse_offset_commit, "Group",
                        {"topic": refuse_offset_commit_topic})
OFFSET_FETCH = acl_api(9, "OffsetFetch", "offset_fetch", (0, 9), "6+", OFFSET_FETCH_REQUEST, OFFSET_FETCH_RESPONSE,
                       refuse_offset_fetch, "Group", {"topic": refuse_offset_fetch_topic})
JOIN_GROUP = acl_api(11, "JoinGroup", "join_group", (0, 9), "6+", JOIN_GROUP_REQUEST, JOIN_GROUP_RESPONSE,
                     refuse_join_group, "Group")
HEARTBEAT = acl_api(12, "Heartbeat", "heartbeat", (0, 4), "4+", HEARTBEAT_REQUEST, HEARTBEAT_RESPONSE,
                    refuse_heartbeat, "Group")
LEAVE_GROUP = acl_api(13, "LeaveGroup", "leave_group", (0, 5), "4+", LEAVE_GROUP_REQUEST, LEAVE_GROUP_RESPONSE,
                      refuse_leave_group, "Group")
SYNC_GROUP = acl_api(14, "SyncGroup", "sync_group", (0, 5), "4+", SYNC_GROUP_REQUEST, SYNC_GROUP_RESPONSE,
                     refuse_sync_group, "Group")
DESCRIBE_GROUPS = acl_api(15, "DescribeGroups", "describe_groups", (0, 5), "5+", DESCRIBE_GROUPS_REQUEST,
                          DESCRIBE_GROUPS_RESPONSE, refuse_describe_groups, "Group")
OFFSET_FOR_LEADER_EPOCH = acl_api(23, "OffsetForLeaderEpoch", "offset_for_leader_epoch", (0, 4), "4+",
                                  OFFSET_FOR_LEADER_EPOCH_REQUEST, OFFSET_FOR_LEADER_EPOCH_RESPONSE,
                                  refuse_offset_for_leader_epoch, "Topic")
ADD_PARTITIONS_TO_TXN = acl_api(24, "AddPartitionsToTxn", "add_partitions_to_txn", (0, 5), "3+",
                                ADD_PARTITIONS_TO_TXN_REQUEST, ADD_PARTITIONS_TO_TXN_RESPONSE,
                                refuse_add_partitions_to_txn, "Transactional Id",
                                {"topic": refuse_add_partitions_to_txn_topic})
ADD_OFFSETS_TO_TXN = acl_api(25, "AddOffsetsToTxn", "add_offsets_to_txn", (0, 4), "3+", ADD_OFFSETS_TO_TXN_REQUEST,
                             ADD_OFFSETS_TO_TXN_RESPONSE, refuse_add_offsets_to_txn, "Transactional Id",
                             {"group": refuse_add_offsets_to_txn_group})
END_TXN = acl_api(26, "EndTxn", "end_txn", (0, 5), "3+", END_TXN_REQUEST, END_TXN_RESPONSE, refuse_end_txn,
                  "Transactional Id")
TXN_OFFSET_COMMIT = acl_api(28, "TxnOffsetCommit", "txn_offset_commit", (0, 4), "3+", TXN_OFFSET_COMMIT_REQUEST,
                            TXN_OFFSET_COMMIT_RESPONSE, refuse_txn_offset_commit, "Transactional Id",
                            {"group": refuse_txn_offset_commit_group, "topic": refuse_txn_offset_commit_topic})
DESCRIBE_CONFIGS = acl_api(32, "DescribeConfigs", "describe_configs", (0, 4), "4+", DESCRIBE_CONFIGS_REQUEST,
                           DESCRIBE_CONFIGS_RESPONSE, refuse_describe_configs, "Topic")
CONSUMER_GROUP_HEARTBEAT = acl_api(68, "ConsumerGroupHeartbeat", "consumer_group_heartbeat", (0, 1), "0+",
                                   CONSUMER_GROUP_HEARTBEAT_REQUEST, CONSUMER_GROUP_HEARTBEAT_RESPONSE,
                                   refuse_consumer_group_heartbeat, "Group",
                                   {"topic": refuse_consumer_group_heartbeat_topic})
DESCRIBE_PRODUCERS = acl_api(61, "DescribeProducers", "describe_producers", (0, 0), "0+", DESCRIBE_PRODUCERS_REQUEST,
                             DESCRIBE_PRODUCERS_RESPONSE, refuse_describe_producers, "Topic")
SHARE_GROUP_HEARTBEAT = acl_api(76, "ShareGroupHeartbeat", "share_group_heartbeat", (1, 1), "0+",
                                SHARE_GROUP_HEARTBEAT_REQUEST, SHARE_GROUP_HEARTBEAT_RESPONSE,
                                refuse_share_group_heartbeat, "Group", {"topic": refuse_share_group_heartbeat_topic})
SHARE_FETCH = acl_api(78, "ShareFetch", "share_fetch", (1, 2), "0+", SHARE_FETCH_REQUEST, SHARE_FETCH_RESPONSE,
                      refuse_share_request, "Group", {"topic": refuse_share_request_topic})
SHARE_ACKNOWLEDGE = acl_api(79, "ShareAcknowledge", "share_acknowledge", (1, 2), "0+", SHARE_ACKNOWLEDGE_REQUEST,
                            SHARE_ACKNOWLEDGE_RESPONSE, refuse_share_request, "Group",
                            {"topic": refuse_share_request_topic})

SPLIT_APIS = [FETCH]
ACL_APIS = [LIST_OFFSETS, OFFSET_COMMIT, OFFSET_FETCH, JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP,
            DESCRIBE_GROUPS, OFFSET_FOR_LEADER_EPOCH, ADD_PARTITIONS_TO_TXN, ADD_OFFSETS_TO_TXN, END_TXN,
            TXN_OFFSET_COMMIT, DESCRIBE_CONFIGS, CONSUMER_GROUP_HEARTBEAT, DESCRIBE_PRODUCERS, SHARE_GROUP_HEARTBEAT,
            SHARE_FETCH, SHARE_ACKNOWLEDGE]


# The API-level refusals (refusal.cpp: a policy refusing the whole API), the APIs answered whole through split.h,
# then the ACL-only ones.
API_LEVEL_APIS = [PRODUCE, FIND_COORDINATOR, CREATE_TOPICS, DELETE_TOPICS, DELETE_RECORDS, INIT_PRODUCER_ID,
                  ALTER_CONFIGS, CREATE_PARTITIONS, DELETE_GROUPS, INCREMENTAL_ALTER_CONFIGS, OFFSET_DELETE]
APIS = API_LEVEL_APIS + SPLIT_APIS + ACL_APIS
APIS_BY_KEY = {api.key: api for api in APIS}


# ---------------------------------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------------------------------


def request_frame(api, version, body, client_id=CLIENT_ID, header_tags=()):
    """Request header v1 (api_key, api_version, correlation_id, nullable int16 client_id), v2 adds a tag buffer for
    flexible versions (RequestHeader.json: ClientId keeps "flexibleVersions": "none"), then the body."""
    flexible = version in api.flexible
    header = struct.pack(">hhi", api.key, version, CORRELATION_ID) + enc_string(client_id, False)
    if flexible:
        header += enc_tag_buffer(list(header_tags))
    elif header_tags:
        raise ValueError("header tags in a non-flexible version")
    payload = header + encode_struct(api.request, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


def response_frame(api, version, body):
    """Response header v0 (correlation id), v1 adds a tag buffer in flexible versions (ResponseHeader.json)."""
    flexible = version in api.flexible
    header = enc_int32(CORRELATION_ID) + (enc_tag_buffer([]) if flexible else b"")
    payload = header + encode_struct(api.response, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


class Case:
    def __init__(self, api, version, variant, description, request, client_id=CLIENT_ID, header_tags=(),
                 refused=None, message=None):
        self.api = api
        self.version = version
        self.variant = variant
        self.description = description
        self.request = request
        self.client_id = client_id
        self.header_tags = header_tags
        self.refused = refused      # None (absent from the JSON: unspecified) or one of REFUSED_KINDS
        self._message = message     # the API's message when None
        if refused is not None and refused not in REFUSED_KINDS:
            raise ValueError("unknown refused kind %r" % refused)

    @property
    def file_name(self):
        suffix = "" if self.variant is None else "." + self.variant
        return "%s.v%d%s.json" % (self.api.file_name, self.version, suffix)

    @property
    def message(self):
        return self._message if self._message is not None else self.api.message

    def refuse(self, request):
        """The logical refusal of `request` (this case's or a variant of it) at this case's version, message and
        refused kind."""
        return self.api.refuse_for(self.refused)(request, self.version, self.message)

    def response(self):
        return self.refuse(self.request)

    def frames(self):
        request = request_frame(self.api, self.version, self.request, self.client_id, self.header_tags)
        expected = response_frame(self.api, self.version, self.response())
        for frame in (request, expected):
            assert struct.unpack(">i", frame[:4])[0] == len(frame) - 4
        assert struct.unpack(">i", request[8:12])[0] == CORRELATION_ID
        assert struct.unpack(">i", expected[4:8])[0] == CORRELATION_ID
        return request, expected

    def error_codes(self):
        """Every ErrorCode of the expected response, in wire order (for the tshark cross-check)."""
        codes = []

        def walk(struct_def, value):
            for f in struct_def.fields:
                if self.version not in f.versions:
                    continue
                if f.name in ("ErrorCode", "PartitionErrorCode"):
                    codes.append(value[f.name])
                elif isinstance(f.type, ArrayOf) and isinstance(f.type.elem, Struct) and value[f.name] is not None:
                    for elem in value[f.name]:
                        walk(f.type.elem, elem)
        walk(self.api.response, self.response())
        return codes

    def to_json(self):
        request, expected = self.frames()
        doc = {
            "api_key": self.api.key,
            "api_version": self.version,
            "description": self.description,
            "message": self.message,
        }
        if self.refused is not None:  # absent: unspecified (every file written before "refused" existed)
            doc["refused"] = self.refused
        doc.update({
            "request_hex": request.hex(),
            "expected_hex": expected.hex(),
        })
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------------------------------
# Logical requests
# ---------------------------------------------------------------------------------------------------------------------


def sample_batch(base_timestamp):
    return record_batch(0, base_timestamp, [
        (0, b"order-1001", b'{"id":1001,"amount":25.5}', [("trace-id", b"4bf92f3577b34da6")]),
        (4, b"order-1002", b'{"id":1002,"amount":7}', []),
    ])


def with_tags(value, tags):
    out = dict(value)
    out[UNKNOWN_TAGS] = list(tags)
    return out


def header_tags_for(case_tags):
    return [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE] if case_tags else []


def produce_request(version, topics, tags=False, null_records=False, transactional_id=None):
    topic_data = []
    for name, topic_id, partitions in topics:
        parts = []
        for i, index in enumerate(partitions):
            records = None if null_records and i == len(partitions) - 1 else sample_batch(1767225600000 + index)
            p = {"Index": index, "Records": records}
            parts.append(with_tags(p, [UNKNOWN_TAG_WIDE]) if tags else p)
        t = {"Name": name, "TopicId": topic_id, "PartitionData": parts}
        topic_data.append(with_tags(t, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_EMPTY]) if tags else t)
    body = {"TransactionalId": transactional_id, "Acks": -1, "TimeoutMs": 30000, "TopicData": topic_data}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def produce_cases():
    cases = []
    two = [("orders", TOPIC_ID_ORDERS, [3, 0]), ("payments", TOPIC_ID_PAYMENTS, [7, 1])]
    for v in range(3, 14):
        by = "TopicId" if v >= 13 else "Name"
        cases.append(Case(PRODUCE, v, None, "Produce v%d, 2 topics (by %s) x 2 partitions (out of order), record "
                          "batches; transactional id 'checkout-tx'" % (v, by),
                          produce_request(v, two, transactional_id="checkout-tx")))
        cases.append(Case(PRODUCE, v, "empty", "Produce v%d with an empty TopicData array" % v,
                          produce_request(v, [])))
        cases.append(Case(PRODUCE, v, "long_name", "Produce v%d, one topic %s, one partition with null Records"
                          % (v, "by TopicId (v13 has no Name)" if v >= 13 else "with a 200-byte name"),
                          produce_request(v, [(LONG_TOPIC, TOPIC_ID_PAYMENTS, [0, 2])], null_records=True)))
        if v in PRODUCE.flexible:
            cases.append(Case(PRODUCE, v, "unknown_tags", "Produce v%d with unknown tags in the request header, the "
                              "body, each topic and each partition (tag 130, 200 bytes)" % v,
                              produce_request(v, two, tags=True), header_tags=header_tags_for(True)))
    cases.append(Case(PRODUCE, 9, "null_client_id", "Produce v9 with a null client_id in request header v2",
                      produce_request(9, two), client_id=None))
    cases.append(Case(PRODUCE, 3, "null_client_id", "Produce v3 with a null client_id in request header v1",
                      produce_request(3, two), client_id=None))
    return cases


def create_topics_request(version, names, tags=False):
    topics = []
    for i, name in enumerate(names):
        t = {"Name": name, "NumPartitions": -1 if i % 2 else 6, "ReplicationFactor": -1 if i % 2 else 3,
             "Assignments": [{"PartitionIndex": 0, "BrokerIds": [1, 2, 3]}, {"PartitionIndex": 1, "BrokerIds": [2, 3, 1]}]
             if i % 2 else [],
             "Configs": [{"Name": "cleanup.policy", "Value": "compact"}, {"Name": "retention.ms", "Value": None}]}
        if tags:
            t = with_tags(t, [UNKNOWN_TAG_WIDE])
            t["Assignments"] = [with_tags(a, [UNKNOWN_TAG_EMPTY]) for a in t["Assignments"]]
            t["Configs"] = [with_tags(c, [UNKNOWN_TAG_SMALL]) for c in t["Configs"]]
        topics.append(t)
    body = {"Topics": topics, "timeoutMs": 60000, "validateOnly": False}
    return with_tags(body, [UNKNOWN_TAG_SMALL]) if tags else body


def create_topics_cases():
    cases = []
    for v in range(2, 8):
        cases.append(Case(CREATE_TOPICS, v, None, "CreateTopics v%d, 2 topics (one with assignments and a null "
                          "config value)" % v, create_topics_request(v, ["orders", "payments"])))
        cases.append(Case(CREATE_TOPICS, v, "empty", "CreateTopics v%d with an empty Topics array" % v,
                          create_topics_request(v, [])))
        cases.append(Case(CREATE_TOPICS, v, "long_name", "CreateTopics v%d, a 200-byte topic name" % v,
                          create_topics_request(v, [LONG_TOPIC, "payments"])))
        if v in CREATE_TOPICS.flexible:
            cases.append(Case(CREATE_TOPICS, v, "unknown_tags", "CreateTopics v%d with unknown tags in the header, "
                              "body, topics, assignments and configs" % v,
                              create_topics_request(v, ["orders", "payments"], tags=True),
                              header_tags=header_tags_for(True)))
    return cases


def delete_topics_request(version, topics, tags=False):
    """topics: [(name or None, topic id)]; v0-5 send the names only."""
    if version >= 6:
        entries = [{"Name": n, "TopicId": i} for n, i in topics]
        if tags:
            entries = [with_tags(e, [UNKNOWN_TAG_WIDE]) for e in entries]
        body = {"Topics": entries, "TimeoutMs": 30000}
    else:
        body = {"TopicNames": [n for n, _ in topics], "TimeoutMs": 30000}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def delete_topics_cases():
    cases = []
    two = [("orders", ZERO_UUID), ("payments", ZERO_UUID)]
    for v in range(1, 7):
        cases.append(Case(DELETE_TOPICS, v, None, "DeleteTopics v%d, 2 topics by name" % v,
                          delete_topics_request(v, two)))
        cases.append(Case(DELETE_TOPICS, v, "empty", "DeleteTopics v%d with no topics" % v,
                          delete_topics_request(v, [])))
        cases.append(Case(DELETE_TOPICS, v, "long_name", "DeleteTopics v%d, a 200-byte topic name" % v,
                          delete_topics_request(v, [(LONG_TOPIC, ZERO_UUID), ("payments", ZERO_UUID)])))
        if v in DELETE_TOPICS.flexible:
            cases.append(Case(DELETE_TOPICS, v, "unknown_tags", "DeleteTopics v%d with unknown tags in the header "
                              "and body%s" % (v, " and each topic" if v >= 6 else ""),
                              delete_topics_request(v, two, tags=True), header_tags=header_tags_for(True)))
    cases.append(Case(DELETE_TOPICS, 6, "topic_ids", "DeleteTopics v6: one topic by id with a null Name (the "
                      "response keeps Name null and echoes the id), one by name",
                      delete_topics_request(6, [(None, TOPIC_ID_ORDERS), ("payments", ZERO_UUID)])))
    cases.append(Case(DELETE_TOPICS, 6, "topic_ids_only", "DeleteTopics v6: two topics by id, both Names null",
                      delete_topics_request(6, [(None, TOPIC_ID_ORDERS), (None, TOPIC_ID_PAYMENTS)])))
    return cases


def delete_records_request(version, topics, tags=False):
    out = []
    for name, partitions in topics:
        parts = [{"PartitionIndex": p, "Offset": 1000 * (p + 1) if p % 2 else -1} for p in partitions]
        if tags:
            parts = [with_tags(p, [UNKNOWN_TAG_WIDE]) for p in parts]
        t = {"Name": name, "Partitions": parts}
        out.append(with_tags(t, [UNKNOWN_TAG_SMALL]) if tags else t)
    body = {"Topics": out, "TimeoutMs": 30000}
    return with_tags(body, [UNKNOWN_TAG_EMPTY]) if tags else body


def delete_records_cases():
    cases = []
    two = [("orders", [5, 0]), ("payments", [1, 2])]
    for v in range(0, 3):
        cases.append(Case(DELETE_RECORDS, v, None, "DeleteRecords v%d, 2 topics x 2 partitions" % v,
                          delete_records_request(v, two)))
        cases.append(Case(DELETE_RECORDS, v, "empty", "DeleteRecords v%d with no topics" % v,
                          delete_records_request(v, [])))
        cases.append(Case(DELETE_RECORDS, v, "long_name", "DeleteRecords v%d, a 200-byte topic name, and a topic "
                          "with no partitions" % v, delete_records_request(v, [(LONG_TOPIC, [0, 1]), ("audit", [])])))
        if v in DELETE_RECORDS.flexible:
            cases.append(Case(DELETE_RECORDS, v, "unknown_tags", "DeleteRecords v%d with unknown tags in the header, "
                              "body, topics and partitions" % v, delete_records_request(v, two, tags=True),
                              header_tags=header_tags_for(True)))
    return cases


def init_producer_id_request(version, transactional_id, tags=False):
    body = {"TransactionalId": transactional_id, "TransactionTimeoutMs": 60000, "ProducerId": -1, "ProducerEpoch": -1}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def init_producer_id_cases():
    cases = []
    for v in range(0, 6):
        cases.append(Case(INIT_PRODUCER_ID, v, None, "InitProducerId v%d, transactional id 'checkout-tx': "
                          "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" % v,
                          init_producer_id_request(v, "checkout-tx")))
        cases.append(Case(INIT_PRODUCER_ID, v, "idempotent", "InitProducerId v%d, null transactional id "
                          "(idempotent producer): CLUSTER_AUTHORIZATION_FAILED" % v,
                          init_producer_id_request(v, None)))
        cases.append(Case(INIT_PRODUCER_ID, v, "empty_txn_id", "InitProducerId v%d, empty (non-null) "
                          "transactional id: still a transactional id" % v, init_producer_id_request(v, "")))
        cases.append(Case(INIT_PRODUCER_ID, v, "long_name", "InitProducerId v%d, 190-byte transactional id" % v,
                          init_producer_id_request(v, LONG_GROUP)))
        if v in INIT_PRODUCER_ID.flexible:
            cases.append(Case(INIT_PRODUCER_ID, v, "unknown_tags", "InitProducerId v%d with unknown tags in the "
                              "header and body" % v, init_producer_id_request(v, "checkout-tx", tags=True),
                              header_tags=header_tags_for(True)))
    cases.append(Case(INIT_PRODUCER_ID, 3, "epoch_bump", "InitProducerId v3 re-initialising producer 4711 epoch 2",
                      dict(init_producer_id_request(3, "checkout-tx"), ProducerId=4711, ProducerEpoch=2)))
    return cases


def alter_configs_request(api, version, resources, tags=False):
    out = []
    for rtype, rname in resources:
        configs = [{"Name": "retention.ms", "ConfigOperation": 0, "Value": "86400000"},
                   {"Name": "min.insync.replicas", "ConfigOperation": 1, "Value": None}]
        if api is ALTER_CONFIGS:
            configs = [{"Name": c["Name"], "Value": c["Value"]} for c in configs]
        if tags:
            configs = [with_tags(c, [UNKNOWN_TAG_EMPTY]) for c in configs]
        r = {"ResourceType": rtype, "ResourceName": rname, "Configs": configs}
        out.append(with_tags(r, [UNKNOWN_TAG_WIDE]) if tags else r)
    body = {"Resources": out, "ValidateOnly": False}
    return with_tags(body, [UNKNOWN_TAG_SMALL]) if tags else body


ALL_RESOURCE_TYPES = [(2, "orders"), (4, "1"), (8, "2"), (16, "metrics-subscription"), (32, "billing-consumers"),
                      (4, ""), (0, "unknown-type")]


def alter_configs_cases(api):
    cases = []
    lo, hi = api.versions
    for v in range(lo, hi + 1):
        cases.append(Case(api, v, None, "%s v%d, a topic resource (29) and a broker resource (31)" % (api.name, v),
                          alter_configs_request(api, v, [(2, "orders"), (4, "1")])))
        cases.append(Case(api, v, "empty", "%s v%d with no resources" % (api.name, v),
                          alter_configs_request(api, v, [])))
        cases.append(Case(api, v, "long_name", "%s v%d, a 200-byte topic resource name and a group resource (30)"
                          % (api.name, v), alter_configs_request(api, v, [(2, LONG_TOPIC), (32, "billing")])))
        cases.append(Case(api, v, "resource_types", "%s v%d, resource types topic 2 (29), broker 4, broker logger 8, "
                          "client metrics 16 (31), group 32 (30), the default broker (empty name), unknown type 0 "
                          "(31)" % (api.name, v), alter_configs_request(api, v, ALL_RESOURCE_TYPES)))
        if v in api.flexible:
            cases.append(Case(api, v, "unknown_tags", "%s v%d with unknown tags in the header, body, resources and "
                              "configs" % (api.name, v),
                              alter_configs_request(api, v, [(2, "orders"), (32, "billing")], tags=True),
                              header_tags=header_tags_for(True)))
    return cases


def create_partitions_request(version, topics, tags=False):
    out = []
    for i, name in enumerate(topics):
        assignments = None if i % 2 else [{"BrokerIds": [1, 2]}, {"BrokerIds": [3, 1]}]
        if tags and assignments:
            assignments = [with_tags(a, [UNKNOWN_TAG_SMALL]) for a in assignments]
        t = {"Name": name, "Count": 12, "Assignments": assignments}
        out.append(with_tags(t, [UNKNOWN_TAG_WIDE]) if tags else t)
    body = {"Topics": out, "TimeoutMs": 30000, "ValidateOnly": True}
    return with_tags(body, [UNKNOWN_TAG_EMPTY, UNKNOWN_TAG_SMALL]) if tags else body


def create_partitions_cases():
    cases = []
    for v in range(0, 4):
        cases.append(Case(CREATE_PARTITIONS, v, None, "CreatePartitions v%d, 2 topics (assignments, null "
                          "assignments)" % v, create_partitions_request(v, ["orders", "payments"])))
        cases.append(Case(CREATE_PARTITIONS, v, "empty", "CreatePartitions v%d with no topics" % v,
                          create_partitions_request(v, [])))
        cases.append(Case(CREATE_PARTITIONS, v, "long_name", "CreatePartitions v%d, a 200-byte topic name" % v,
                          create_partitions_request(v, [LONG_TOPIC, "payments"])))
        if v in CREATE_PARTITIONS.flexible:
            cases.append(Case(CREATE_PARTITIONS, v, "unknown_tags", "CreatePartitions v%d with unknown tags in the "
                              "header, body, topics and assignments" % v,
                              create_partitions_request(v, ["orders", "payments"], tags=True),
                              header_tags=header_tags_for(True)))
    return cases


def delete_groups_request(version, groups, tags=False):
    body = {"GroupsNames": list(groups)}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def delete_groups_cases():
    cases = []
    two = ["billing-consumers", "analytics-\u00fcnic\u00f6de"]
    for v in range(0, 3):
        cases.append(Case(DELETE_GROUPS, v, None, "DeleteGroups v%d, 2 groups (one with non-ASCII UTF-8)" % v,
                          delete_groups_request(v, two)))
        cases.append(Case(DELETE_GROUPS, v, "empty", "DeleteGroups v%d with no groups" % v,
                          delete_groups_request(v, [])))
        cases.append(Case(DELETE_GROUPS, v, "long_name", "DeleteGroups v%d, a 190-byte group id" % v,
                          delete_groups_request(v, [LONG_GROUP, "billing-consumers"])))
        if v in DELETE_GROUPS.flexible:
            cases.append(Case(DELETE_GROUPS, v, "unknown_tags", "DeleteGroups v%d with unknown tags in the header "
                              "and body" % v, delete_groups_request(v, two, tags=True),
                              header_tags=header_tags_for(True)))
    return cases


def offset_delete_request(group, topics):
    return {"GroupId": group, "Topics": [{"Name": name, "Partitions": [{"PartitionIndex": p} for p in parts]}
                                         for name, parts in topics]}


def offset_delete_cases():
    return [
        Case(OFFSET_DELETE, 0, None, "OffsetDelete v0, group 'billing-consumers', 2 topics x 2 partitions",
             offset_delete_request("billing-consumers", [("orders", [4, 1]), ("payments", [0, 9])])),
        Case(OFFSET_DELETE, 0, "empty", "OffsetDelete v0 with no topics",
             offset_delete_request("billing-consumers", [])),
        Case(OFFSET_DELETE, 0, "long_name", "OffsetDelete v0, a 190-byte group id and a 200-byte topic name",
             offset_delete_request(LONG_GROUP, [(LONG_TOPIC, [0, 1])])),
        Case(OFFSET_DELETE, 0, "null_client_id", "OffsetDelete v0 with a null client_id",
             offset_delete_request("billing-consumers", [("orders", [4, 1])]), client_id=None),
    ]


def find_coordinator_request(version, keys, key_type=0, tags=False):
    """v0-3 send one Key (keys[0]); v4+ send every key in CoordinatorKeys. KeyType from v1."""
    body = {"Key": keys[0] if version <= 3 else None, "KeyType": key_type,
            "CoordinatorKeys": list(keys) if version >= 4 else None}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def find_coordinator_cases():
    cases = []
    groups = ["billing-consumers", "analytics-\u00fcnic\u00f6de", "audit"]
    txns = ["checkout-tx", "payments-tx"]
    for v in range(0, 7):
        batched = v >= 4
        what = "keys" if batched else "key"
        cases.append(Case(FIND_COORDINATOR, v, None, "FindCoordinator v%d, group %s %s: GROUP_AUTHORIZATION_FAILED "
                          "for each, no coordinator" % (v, what, ", ".join(groups if batched else groups[:1])),
                          find_coordinator_request(v, groups if batched else groups[:1])))
        cases.append(Case(FIND_COORDINATOR, v, "long_name", "FindCoordinator v%d, %s" % (v, (
                          "3 group keys, the middle one 190 bytes" if batched else "a 190-byte group key")),
                          find_coordinator_request(v, ["billing", LONG_GROUP, "x"] if batched else [LONG_GROUP])))
        if v >= 1:
            cases.append(Case(FIND_COORDINATOR, v, "transaction", "FindCoordinator v%d, KeyType 1 (transaction), %s: "
                              "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" % (v, "keys " + ", ".join(txns) if batched
                                                                          else "key checkout-tx"),
                              find_coordinator_request(v, txns if batched else txns[:1], key_type=1)))
        if batched:
            cases.append(Case(FIND_COORDINATOR, v, "empty", "FindCoordinator v%d with no CoordinatorKeys" % v,
                              find_coordinator_request(v, [])))
            cases.append(Case(FIND_COORDINATOR, v, "transaction_long_name", "FindCoordinator v%d, KeyType 1, a "
                              "190-byte transactional id between two short ones" % v,
                              find_coordinator_request(v, ["checkout-tx", LONG_GROUP, ""], key_type=1)))
        else:
            cases.append(Case(FIND_COORDINATOR, v, "empty_key", "FindCoordinator v%d with an empty key" % v,
                              find_coordinator_request(v, [""])))
        if v in FIND_COORDINATOR.flexible:
            cases.append(Case(FIND_COORDINATOR, v, "unknown_tags", "FindCoordinator v%d with unknown tags in the "
                              "request header and body" % v,
                              find_coordinator_request(v, groups if batched else groups[:1], tags=True),
                              header_tags=header_tags_for(True)))
    cases.append(Case(FIND_COORDINATOR, 0, "null_client_id", "FindCoordinator v0 with a null client_id",
                      find_coordinator_request(0, ["billing-consumers"]), client_id=None))
    return cases


# ---------------------------------------------------------------------------------------------------------------------
# Cases of the ACL-only APIs
# ---------------------------------------------------------------------------------------------------------------------

TWO_TOPICS = [("orders", [3, 0]), ("payments", [7, 1])]
TWO_GROUPS = ["billing-consumers", "analytics-\u00fcnic\u00f6de"]


def standard_cases(api, make, plain, empty=None, long_name=None, tag_what="the body"):
    """A plain case per version, `empty` / `long_name` variants where given, and `unknown_tags` in every flexible
    version. make(version, arg, tags) -> logical request; plain/empty/long_name are (description, arg)."""
    cases = []
    lo, hi = api.versions
    for v in range(lo, hi + 1):
        cases.append(Case(api, v, None, "%s v%d, %s" % (api.name, v, plain[0]), make(v, plain[1], False)))
        if empty is not None:
            cases.append(Case(api, v, "empty", "%s v%d, %s" % (api.name, v, empty[0]), make(v, empty[1], False)))
        if long_name is not None:
            cases.append(Case(api, v, "long_name", "%s v%d, %s" % (api.name, v, long_name[0]),
                              make(v, long_name[1], False)))
        if v in api.flexible:
            cases.append(Case(api, v, "unknown_tags", "%s v%d with unknown tags in the request header and %s"
                              % (api.name, v, tag_what), make(v, plain[1], True),
                              header_tags=header_tags_for(True)))
    return cases


# The TopicId of each topic a Fetch names (v13+ name topics by id only).
FETCH_TOPIC_IDS = {"orders": TOPIC_ID_ORDERS, "payments": TOPIC_ID_PAYMENTS,
                   "audit": "a1d17c0ffee04b1d8e5f00112233aa01", LONG_TOPIC: "4c0e9e8f7d6c5b4a39281706f5e4d3c2"}
# A follower's ReplicaState (v15+ tag 1) and directory id (v17+ partition tag 0): brokers send them; kedge reads
# neither.
FETCH_REPLICA_STATE = {"ReplicaId": 3, "ReplicaEpoch": 42}
FETCH_REPLICA_DIRECTORY_ID = "7b1f3c5e9a2d4f6081a3c5e7092b4d6f"


def fetch_request(version, topics, tags=False, session=(0, -1), forgotten=(), cluster_id=None, replica=False):
    out = []
    for name, partitions in topics:
        parts = [{"Partition": p, "CurrentLeaderEpoch": 5, "FetchOffset": 1000 * (p + 1), "LastFetchedEpoch": 4,
                  "LogStartOffset": -1, "PartitionMaxBytes": 1048576} for p in partitions]
        if tags:
            parts = [with_tags(p, [UNKNOWN_TAG_WIDE]) for p in parts]
        if replica and version >= 17:
            parts = [dict(p, ReplicaDirectoryId=FETCH_REPLICA_DIRECTORY_ID) for p in parts]
        t = {"Topic": name, "TopicId": FETCH_TOPIC_IDS[name], "Partitions": parts}
        out.append(with_tags(t, [UNKNOWN_TAG_SMALL]) if tags else t)
    forgotten_topics = [{"Topic": name, "TopicId": FETCH_TOPIC_IDS[name], "Partitions": list(parts)}
                        for name, parts in forgotten]
    if tags:
        forgotten_topics = [with_tags(f, [UNKNOWN_TAG_EMPTY]) for f in forgotten_topics]
    body = {"ClusterId": cluster_id, "ReplicaId": -1, "ReplicaState": dict(FETCH_REPLICA_STATE) if replica else None,
            "MaxWaitMs": 500, "MinBytes": 1, "MaxBytes": 52428800,
            "IsolationLevel": 1, "SessionId": session[0], "SessionEpoch": session[1], "Topics": out,
            "ForgottenTopicsData": forgotten_topics, "RackId": "eu-west-1a"}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def fetch_cases():
    cases = []
    lo, hi = FETCH.versions
    for v in range(lo, hi + 1):
        by = " by TopicId" if v >= 13 else ""
        cases.append(Case(FETCH, v, None, "Fetch v%d, 2 topics%s x 2 partitions (out of order): "
                          "TOPIC_AUTHORIZATION_FAILED for each" % (v, by), fetch_request(v, TWO_TOPICS)))
        cases.append(Case(FETCH, v, "empty", "Fetch v%d, an incremental fetch naming no topics" % v,
                          fetch_request(v, [])))
        if v < 13:
            cases.append(Case(FETCH, v, "long_name", "Fetch v%d, a 200-byte topic name and a topic with no "
                              "partitions" % v, fetch_request(v, [(LONG_TOPIC, [0, 1]), ("audit", [])])))
        else:  # by id, a topic's name is on no wire
            cases.append(Case(FETCH, v, "no_partitions", "Fetch v%d, 2 topics by TopicId, the second with no "
                              "partitions" % v, fetch_request(v, [(LONG_TOPIC, [0, 1]), ("audit", [])])))
        if v in FETCH.flexible:
            cases.append(Case(FETCH, v, "unknown_tags", "Fetch v%d with unknown tags in the request header and the "
                              "body, topics, partitions and forgotten topics" % v,
                              fetch_request(v, TWO_TOPICS, True), header_tags=header_tags_for(True)))
        if v >= 7:
            cases.append(Case(FETCH, v, "incremental", "Fetch v%d in session 4711 epoch 3 with a forgotten topic%s: "
                              "the answer carries no session (SessionId 0)" % (v, by),
                              fetch_request(v, TWO_TOPICS[:1], session=(4711, 3), forgotten=[("payments", [7, 1])])))
        if v in (12, 17):
            cases.append(Case(FETCH, v, "cluster_id", "Fetch v%d with the tagged ClusterId (tag 0) kedge does not "
                              "read" % v, fetch_request(v, TWO_TOPICS, cluster_id="kedge-cluster-1")))
        if v in (15, 17):
            cases.append(Case(FETCH, v, "replica_state", "Fetch v%d with a follower's ReplicaState tag (1)%s, which "
                              "kedge does not read" % (v, " and ReplicaDirectoryId partition tags (0)" if v >= 17
                                                       else ""), fetch_request(v, TWO_TOPICS, replica=True)))
    cases.append(Case(FETCH, 4, "null_client_id", "Fetch v4 with a null client_id",
                      fetch_request(4, TWO_TOPICS), client_id=None))
    return cases


def list_offsets_request(version, topics, tags=False):
    out = []
    for name, partitions in topics:
        parts = [{"PartitionIndex": p, "CurrentLeaderEpoch": 7, "Timestamp": -1 if p % 2 else -2, "MaxNumOffsets": 1}
                 for p in partitions]
        if tags:
            parts = [with_tags(p, [UNKNOWN_TAG_EMPTY]) for p in parts]
        t = {"Name": name, "Partitions": parts}
        out.append(with_tags(t, [UNKNOWN_TAG_WIDE]) if tags else t)
    body = {"ReplicaId": -1, "IsolationLevel": 1, "Topics": out, "TimeoutMs": 30000}
    return with_tags(body, [UNKNOWN_TAG_SMALL]) if tags else body


def list_offsets_cases():
    return standard_cases(
        LIST_OFFSETS, list_offsets_request, ("2 topics x 2 partitions, latest and earliest", TWO_TOPICS),
        empty=("no topics", []), long_name=("a 200-byte topic name", [(LONG_TOPIC, [0]), ("payments", [2])]),
        tag_what="the body, topics and partitions")


def offset_commit_request(version, args, tags=False, instance_id=None):
    group, topics = args
    out = []
    for name, partitions in topics:
        parts = [{"PartitionIndex": p, "CommittedOffset": 4200 + p, "CommittedLeaderEpoch": 3, "CommitTimestamp": -1,
                  "CommittedMetadata": None if p % 2 else "checkpoint-%d" % p} for p in partitions]
        if tags:
            parts = [with_tags(p, [UNKNOWN_TAG_SMALL]) for p in parts]
        t = {"Name": name, "Partitions": parts}
        out.append(with_tags(t, [UNKNOWN_TAG_EMPTY]) if tags else t)
    body = {"GroupId": group, "GenerationIdOrMemberEpoch": 12, "MemberId": "consumer-1-5f0c", "GroupInstanceId":
            instance_id, "RetentionTimeMs": -1, "Topics": out}
    return with_tags(body, [UNKNOWN_TAG_WIDE]) if tags else body


def offset_commit_cases():
    cases = standard_cases(
        OFFSET_COMMIT, offset_commit_request,
        ("group 'billing-consumers', 2 topics x 2 partitions (one null metadata): GROUP_AUTHORIZATION_FAILED for "
         "each partition", ("billing-consumers", TWO_TOPICS)),
        empty=("no topics", ("billing-consumers", [])),
        long_name=("a 190-byte group id and a 200-byte topic name", (LONG_GROUP, [(LONG_TOPIC, [0, 1])])),
        tag_what="the body, topics and partitions")
    for v in range(7, 10):
        cases.append(Case(OFFSET_COMMIT, v, "static_member", "OffsetCommit v%d from a static member "
                          "(GroupInstanceId 'host-7')" % v,
                          offset_commit_request(v, ("billing-consumers", TWO_TOPICS), instance_id="host-7")))
    return cases


def offset_fetch_request(version, args, tags=False):
    """args: [(group, topics or None)]; v0-7 send the first group only (topics None: all topics, v2+)."""
    def topic_list(topics):
        if topics is None:
            return None
        out = [{"Name": name, "PartitionIndexes": list(parts)} for name, parts in topics]
        return [with_tags(t, [UNKNOWN_TAG_SMALL]) for t in out] if tags else out
    body = {"RequireStable": True}
    if version <= 7:
        group, topics = args[0]
        body.update({"GroupId": group, "Topics": topic_list(topics), "Groups": None})
    else:
        groups = [{"GroupId": g, "MemberId": None if i else "consumer-1-5f0c", "MemberEpoch": -1 if i else 14,
                   "Topics": topic_list(topics)} for i, (g, topics) in enumerate(args)]
        if tags:
            groups = [with_tags(g, [UNKNOWN_TAG_WIDE]) for g in groups]
        body.update({"GroupId": None, "Topics": None, "Groups": groups})
    return with_tags(body, [UNKNOWN_TAG_EMPTY, UNKNOWN_TAG_WIDE]) if tags else body


def offset_fetch_cases():
    cases = []
    for v in range(0, 10):
        batched = v >= 8
        plain = [("billing-consumers", TWO_TOPICS), ("audit-readers", None)] if batched else \
            [("billing-consumers", TWO_TOPICS)]
        cases.append(Case(OFFSET_FETCH, v, None, "OffsetFetch v%d, %s: GROUP_AUTHORIZATION_FAILED %s" % (
            v, "2 groups (one asking for every topic)" if batched else "group 'billing-consumers', 2 topics x 2 "
            "partitions", "for each group" if batched else ("at the top level" if v >= 2 else "on each partition")),
            offset_fetch_request(v, plain)))
        cases.append(Case(OFFSET_FETCH, v, "empty", "OffsetFetch v%d with %s" % (v, "no groups" if batched else
                          "no topics"), offset_fetch_request(v, [] if batched else [("billing-consumers", [])])))
        cases.append(Case(OFFSET_FETCH, v, "long_name", "OffsetFetch v%d, a 190-byte group id and a 200-byte topic "
                          "name" % v, offset_fetch_request(v, [(LONG_GROUP, [(LONG_TOPIC, [0, 1])])])))
        if 2 <= v <= 7:
            cases.append(Case(OFFSET_FETCH, v, "all_topics", "OffsetFetch v%d with a null Topics array (every "
                              "topic)" % v, offset_fetch_request(v, [("billing-consumers", None)])))
        if v in OFFSET_FETCH.flexible:
            cases.append(Case(OFFSET_FETCH, v, "unknown_tags", "OffsetFetch v%d with unknown tags in the request "
                              "header, body, %stopics" % (v, "groups and " if batched else ""),
                              offset_fetch_request(v, plain, tags=True), header_tags=header_tags_for(True)))
    return cases


def join_group_request(version, args, tags=False):
    group, instance_id = args
    protocols = [{"Name": "cooperative-sticky", "Metadata": b"\x00\x03\x00\x00\x00\x01\x00\x06orders"},
                 {"Name": "range", "Metadata": b"\x00\x01\x00\x00\x00\x00"}]
    if tags:
        protocols = [with_tags(p, [UNKNOWN_TAG_SMALL]) for p in protocols]
    body = {"GroupId": group, "SessionTimeoutMs": 45000, "RebalanceTimeoutMs": 300000, "MemberId": "",
            "GroupInstanceId": instance_id, "ProtocolType": "consumer", "Protocols": protocols,
            "Reason": "rebalance failed due to MemberIdRequiredException"}
    return with_tags(body, [UNKNOWN_TAG_WIDE]) if tags else body


def join_group_cases():
    cases = standard_cases(
        JOIN_GROUP, join_group_request, ("group 'billing-consumers', 2 protocols: GROUP_AUTHORIZATION_FAILED",
                                         ("billing-consumers", None)),
        long_name=("a 190-byte group id", (LONG_GROUP, None)), tag_what="the body and protocols")
    for v in range(5, 10):
        cases.append(Case(JOIN_GROUP, v, "static_member", "JoinGroup v%d from a static member (GroupInstanceId "
                          "'host-7')" % v, join_group_request(v, ("billing-consumers", "host-7"))))
    return cases


def heartbeat_request(version, args, tags=False):
    group, instance_id = args
    body = {"GroupId": group, "GenerationId": 12, "MemberId": "consumer-1-5f0c", "GroupInstanceId": instance_id}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def heartbeat_cases():
    cases = standard_cases(HEARTBEAT, heartbeat_request, ("group 'billing-consumers': GROUP_AUTHORIZATION_FAILED",
                                                          ("billing-consumers", None)),
                           long_name=("a 190-byte group id", (LONG_GROUP, None)))
    for v in range(3, 5):
        cases.append(Case(HEARTBEAT, v, "static_member", "Heartbeat v%d from a static member" % v,
                          heartbeat_request(v, ("billing-consumers", "host-7"))))
    return cases


def leave_group_request(version, args, tags=False):
    group, members = args
    entries = [{"MemberId": m, "GroupInstanceId": i, "Reason": "the consumer is being closed" if i else None}
               for m, i in members]
    if tags:
        entries = [with_tags(e, [UNKNOWN_TAG_EMPTY]) for e in entries]
    body = {"GroupId": group, "MemberId": members[0][0] if members else "", "Members": entries}
    return with_tags(body, [UNKNOWN_TAG_SMALL]) if tags else body


def leave_group_cases():
    two = [("consumer-1-5f0c", None), ("", "host-7")]
    cases = standard_cases(
        LEAVE_GROUP, leave_group_request, ("group 'billing-consumers', members 'consumer-1-5f0c' and static "
                                           "'host-7' (v3+): GROUP_AUTHORIZATION_FAILED", ("billing-consumers", two)),
        long_name=("a 190-byte group id", (LONG_GROUP, two[:1])), tag_what="the body and members")
    for v in range(3, 6):
        cases.append(Case(LEAVE_GROUP, v, "empty", "LeaveGroup v%d with no members" % v,
                          leave_group_request(v, ("billing-consumers", []))))
    return cases


def sync_group_request(version, args, tags=False):
    group, assignments = args
    entries = [{"MemberId": m, "Assignment": a} for m, a in assignments]
    if tags:
        entries = [with_tags(e, [UNKNOWN_TAG_WIDE]) for e in entries]
    body = {"GroupId": group, "GenerationId": 12, "MemberId": "consumer-1-5f0c", "GroupInstanceId": None,
            "ProtocolType": "consumer", "ProtocolName": "range", "Assignments": entries}
    return with_tags(body, [UNKNOWN_TAG_SMALL]) if tags else body


def sync_group_cases():
    leader = [("consumer-1-5f0c", b"\x00\x01\x00\x00\x00\x01\x00\x06orders\x00\x00\x00\x01\x00\x00\x00\x03"),
              ("consumer-2-9a1d", b"")]
    return standard_cases(
        SYNC_GROUP, sync_group_request, ("the leader of 'billing-consumers' with 2 assignments: "
                                         "GROUP_AUTHORIZATION_FAILED, empty Assignment", ("billing-consumers", leader)),
        empty=("a follower (no assignments)", ("billing-consumers", [])),
        long_name=("a 190-byte group id", (LONG_GROUP, leader[:1])), tag_what="the body and assignments")


def describe_groups_request(version, groups, tags=False):
    body = {"Groups": list(groups), "IncludeAuthorizedOperations": True}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def describe_groups_cases():
    return standard_cases(
        DESCRIBE_GROUPS, describe_groups_request, ("2 groups (one with non-ASCII UTF-8): GROUP_AUTHORIZATION_FAILED "
                                                   "for each", TWO_GROUPS),
        empty=("no groups", []), long_name=("a 190-byte group id", [LONG_GROUP, "billing-consumers"]))


def offset_for_leader_epoch_request(version, topics, tags=False):
    out = []
    for name, partitions in topics:
        parts = [{"Partition": p, "CurrentLeaderEpoch": 9, "LeaderEpoch": 8} for p in partitions]
        if tags:
            parts = [with_tags(p, [UNKNOWN_TAG_SMALL]) for p in parts]
        t = {"Topic": name, "Partitions": parts}
        out.append(with_tags(t, [UNKNOWN_TAG_WIDE]) if tags else t)
    body = {"ReplicaId": -1, "Topics": out}
    return with_tags(body, [UNKNOWN_TAG_EMPTY]) if tags else body


def offset_for_leader_epoch_cases():
    return standard_cases(
        OFFSET_FOR_LEADER_EPOCH, offset_for_leader_epoch_request,
        ("2 topics x 2 partitions: TOPIC_AUTHORIZATION_FAILED, epoch and end offset -1", TWO_TOPICS),
        empty=("no topics", []), long_name=("a 200-byte topic name", [(LONG_TOPIC, [0, 1])]),
        tag_what="the body, topics and partitions")


def add_partitions_to_txn_request(version, transactions, tags=False, verify_only=False):
    """transactions: [(transactional id, topics)]; v0-3 send the first one only."""
    def topic_list(topics):
        out = [{"Name": name, "Partitions": list(parts)} for name, parts in topics]
        return [with_tags(t, [UNKNOWN_TAG_SMALL]) for t in out] if tags else out
    if version <= 3:
        txn, topics = transactions[0]
        body = {"Transactions": None, "V3AndBelowTransactionalId": txn, "V3AndBelowProducerId": 4711,
                "V3AndBelowProducerEpoch": 2, "V3AndBelowTopics": topic_list(topics)}
    else:
        entries = [{"TransactionalId": txn, "ProducerId": 4711 + i, "ProducerEpoch": 2, "VerifyOnly": verify_only,
                    "Topics": topic_list(topics)} for i, (txn, topics) in enumerate(transactions)]
        if tags:
            entries = [with_tags(e, [UNKNOWN_TAG_WIDE]) for e in entries]
        body = {"Transactions": entries, "V3AndBelowTransactionalId": None, "V3AndBelowProducerId": None,
                "V3AndBelowProducerEpoch": None, "V3AndBelowTopics": None}
    return with_tags(body, [UNKNOWN_TAG_EMPTY]) if tags else body


def add_partitions_to_txn_cases():
    cases = []
    two = [("checkout-tx", TWO_TOPICS), ("payments-tx", [("ledger", [0])])]
    for v in range(0, 6):
        batched = v >= 4
        cases.append(Case(ADD_PARTITIONS_TO_TXN, v, None, "AddPartitionsToTxn v%d, %s: "
                          "TRANSACTIONAL_ID_AUTHORIZATION_FAILED on every partition" % (
                              v, "2 transactions (2 topics, 1 topic)" if batched else
                              "transaction 'checkout-tx', 2 topics x 2 partitions"),
                          add_partitions_to_txn_request(v, two)))
        cases.append(Case(ADD_PARTITIONS_TO_TXN, v, "empty", "AddPartitionsToTxn v%d with %s" % (
            v, "no transactions" if batched else "no topics"),
            add_partitions_to_txn_request(v, [] if batched else [("checkout-tx", [])])))
        cases.append(Case(ADD_PARTITIONS_TO_TXN, v, "long_name", "AddPartitionsToTxn v%d, a 190-byte transactional "
                          "id and a 200-byte topic name" % v,
                          add_partitions_to_txn_request(v, [(LONG_GROUP, [(LONG_TOPIC, [0, 1]), ("audit", [])])])))
        if batched:
            cases.append(Case(ADD_PARTITIONS_TO_TXN, v, "verify_only", "AddPartitionsToTxn v%d, VerifyOnly "
                              "transactions" % v, add_partitions_to_txn_request(v, two, verify_only=True)))
        if v in ADD_PARTITIONS_TO_TXN.flexible:
            cases.append(Case(ADD_PARTITIONS_TO_TXN, v, "unknown_tags", "AddPartitionsToTxn v%d with unknown tags in "
                              "the request header, body, %stopics" % (v, "transactions and " if batched else ""),
                              add_partitions_to_txn_request(v, two, tags=True), header_tags=header_tags_for(True)))
    return cases


def add_offsets_to_txn_request(version, args, tags=False):
    txn, group = args
    body = {"TransactionalId": txn, "ProducerId": 4711, "ProducerEpoch": 2, "GroupId": group}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def add_offsets_to_txn_cases():
    return standard_cases(
        ADD_OFFSETS_TO_TXN, add_offsets_to_txn_request,
        ("transaction 'checkout-tx', group 'billing-consumers': TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
         ("checkout-tx", "billing-consumers")),
        long_name=("a 190-byte transactional id and group id", (LONG_GROUP, LONG_GROUP)))


def end_txn_request(version, args, tags=False):
    txn, committed = args
    body = {"TransactionalId": txn, "ProducerId": 4711, "ProducerEpoch": 2, "Committed": committed}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def end_txn_cases():
    cases = standard_cases(
        END_TXN, end_txn_request, ("commit of 'checkout-tx': TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
                                   ("checkout-tx", True)),
        long_name=("a 190-byte transactional id", (LONG_GROUP, True)))
    for v in range(0, 6):
        cases.append(Case(END_TXN, v, "abort", "EndTxn v%d, abort of 'checkout-tx'" % v,
                          end_txn_request(v, ("checkout-tx", False))))
    return cases


def txn_offset_commit_request(version, args, tags=False):
    txn, group, topics = args
    out = []
    for name, partitions in topics:
        parts = [{"PartitionIndex": p, "CommittedOffset": 4200 + p, "CommittedLeaderEpoch": 3,
                  "CommittedMetadata": None if p % 2 else ""} for p in partitions]
        if tags:
            parts = [with_tags(p, [UNKNOWN_TAG_WIDE]) for p in parts]
        t = {"Name": name, "Partitions": parts}
        out.append(with_tags(t, [UNKNOWN_TAG_EMPTY]) if tags else t)
    body = {"TransactionalId": txn, "GroupId": group, "ProducerId": 4711, "ProducerEpoch": 2, "GenerationId": 12,
            "MemberId": "consumer-1-5f0c", "GroupInstanceId": None, "Topics": out}
    return with_tags(body, [UNKNOWN_TAG_SMALL]) if tags else body


def txn_offset_commit_cases():
    return standard_cases(
        TXN_OFFSET_COMMIT, txn_offset_commit_request,
        ("transaction 'checkout-tx', group 'billing-consumers', 2 topics x 2 partitions: "
         "TRANSACTIONAL_ID_AUTHORIZATION_FAILED for each", ("checkout-tx", "billing-consumers", TWO_TOPICS)),
        empty=("no topics", ("checkout-tx", "billing-consumers", [])),
        long_name=("a 190-byte transactional id and group id, a 200-byte topic name",
                   (LONG_GROUP, LONG_GROUP, [(LONG_TOPIC, [0])])),
        tag_what="the body, topics and partitions")


def describe_configs_request(version, resources, tags=False):
    out = []
    for i, (rtype, rname) in enumerate(resources):
        r = {"ResourceType": rtype, "ResourceName": rname,
             "ConfigurationKeys": None if i % 2 else ["retention.ms", "cleanup.policy"]}
        out.append(with_tags(r, [UNKNOWN_TAG_WIDE]) if tags else r)
    body = {"Resources": out, "IncludeSynonyms": True, "IncludeDocumentation": False}
    return with_tags(body, [UNKNOWN_TAG_SMALL]) if tags else body


def describe_configs_cases():
    cases = standard_cases(
        DESCRIBE_CONFIGS, describe_configs_request,
        ("a topic resource (29) with 2 keys and a broker resource (31) with every key", [(2, "orders"), (4, "1")]),
        empty=("no resources", []),
        long_name=("a 200-byte topic resource name and a group resource (30)", [(2, LONG_TOPIC), (32, "billing")]),
        tag_what="the body and resources")
    for v in range(0, 5):
        cases.append(Case(DESCRIBE_CONFIGS, v, "resource_types", "DescribeConfigs v%d, resource types topic 2 (29), "
                          "broker 4, broker logger 8, client metrics 16 (31), group 32 (30), the default broker "
                          "(empty name), unknown type 0 (31)" % v,
                          describe_configs_request(v, ALL_RESOURCE_TYPES)))
    return cases


def consumer_group_heartbeat_request(version, args, tags=False):
    group, topics = args
    assigned = [{"TopicId": TOPIC_ID_ORDERS, "Partitions": [0, 3]}]
    if tags:
        assigned = [with_tags(a, [UNKNOWN_TAG_SMALL]) for a in assigned]
    body = {"GroupId": group, "MemberId": "Zk3mQ9bXT8GkYv1Q2w3e4r", "MemberEpoch": 0 if topics is not None else 7,
            "InstanceId": None, "RackId": "eu-west-1a", "RebalanceTimeoutMs": 300000, "SubscribedTopicNames": topics,
            "SubscribedTopicRegex": None, "ServerAssignor": "uniform",
            "TopicPartitions": assigned if topics is not None else None}
    return with_tags(body, [UNKNOWN_TAG_WIDE, UNKNOWN_TAG_EMPTY]) if tags else body


def consumer_group_heartbeat_cases():
    cases = standard_cases(
        CONSUMER_GROUP_HEARTBEAT, consumer_group_heartbeat_request,
        ("group 'billing-consumers' subscribing to 2 topics: GROUP_AUTHORIZATION_FAILED, ErrorMessage",
         ("billing-consumers", ["orders", "payments"])),
        long_name=("a 190-byte group id and a 200-byte topic name", (LONG_GROUP, [LONG_TOPIC])),
        tag_what="the body and owned partitions")
    for v in range(0, 2):
        cases.append(Case(CONSUMER_GROUP_HEARTBEAT, v, "unchanged", "ConsumerGroupHeartbeat v%d, a steady-state "
                          "heartbeat (null subscription and owned partitions)" % v,
                          consumer_group_heartbeat_request(v, ("billing-consumers", None))))
    regex = dict(consumer_group_heartbeat_request(1, ("billing-consumers", [])), SubscribedTopicRegex="orders\\..*")
    cases.append(Case(CONSUMER_GROUP_HEARTBEAT, 1, "regex", "ConsumerGroupHeartbeat v1 subscribing by regex "
                      "(SubscribedTopicRegex, KIP-848)", regex))
    return cases


# The share group APIs (KIP-932) and DescribeProducers.

SHARE_MEMBER_ID = "Zk3mQ9bXT8GkYv1Q2w3e4r"
# A partition the consumer has records of carries acknowledgement batches (Accept; then Accept, Gap, Release).
SHARE_ACK_BATCHES = [{"FirstOffset": 100, "LastOffset": 104, "AcknowledgeTypes": [1]},
                     {"FirstOffset": 105, "LastOffset": 107, "AcknowledgeTypes": [1, 0, 2]}]


def describe_producers_request(version, topics, tags=False):
    out = [{"Name": name, "PartitionIndexes": list(parts)} for name, parts in topics]
    if tags:
        out = [with_tags(t, [UNKNOWN_TAG_WIDE]) for t in out]
    body = {"Topics": out}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_EMPTY]) if tags else body


def describe_producers_cases():
    return standard_cases(
        DESCRIBE_PRODUCERS, describe_producers_request,
        ("2 topics x 2 partitions: TOPIC_AUTHORIZATION_FAILED and ErrorMessage on each partition", TWO_TOPICS),
        empty=("no topics", []), long_name=("a 200-byte topic name and a topic with no partitions",
                                            [(LONG_TOPIC, [0, 1]), ("audit", [])]),
        tag_what="the body and topics")


def share_group_heartbeat_request(version, args, tags=False):
    """args: (group, subscribed topics or None: a steady-state heartbeat with a null RackId)."""
    group, topics = args
    body = {"GroupId": group, "MemberId": SHARE_MEMBER_ID, "MemberEpoch": 0 if topics is not None else 7,
            "RackId": "eu-west-1a" if topics is not None else None, "SubscribedTopicNames": topics}
    return with_tags(body, [UNKNOWN_TAG_WIDE, UNKNOWN_TAG_EMPTY]) if tags else body


def share_group_heartbeat_cases():
    plain = ("billing-consumers", ["orders", "payments"])
    cases = standard_cases(
        SHARE_GROUP_HEARTBEAT, share_group_heartbeat_request,
        ("share group 'billing-consumers' subscribing to 2 topics: GROUP_AUTHORIZATION_FAILED, ErrorMessage", plain),
        long_name=("a 190-byte group id and a 200-byte topic name", (LONG_GROUP, [LONG_TOPIC])))
    cases.append(Case(SHARE_GROUP_HEARTBEAT, 1, "unchanged", "ShareGroupHeartbeat v1, a steady-state heartbeat (null "
                      "RackId and SubscribedTopicNames)",
                      share_group_heartbeat_request(1, ("billing-consumers", None))))
    return cases


def share_partitions(partitions, acks, with_max_bytes, tags):
    """The partitions of a ShareFetch / ShareAcknowledge topic: the first with acknowledgement batches (when
    `acks`), the others none."""
    out = []
    for i, p in enumerate(partitions):
        batches = [dict(b, AcknowledgeTypes=list(b["AcknowledgeTypes"])) for b in SHARE_ACK_BATCHES] \
            if acks and i == 0 else []
        if tags:
            batches = [with_tags(b, [UNKNOWN_TAG_EMPTY]) for b in batches]
        part = {"PartitionIndex": p, "AcknowledgementBatches": batches}
        if with_max_bytes:
            part["PartitionMaxBytes"] = 1048576  # v0 only: on no wire here
        out.append(with_tags(part, [UNKNOWN_TAG_SMALL]) if tags else part)
    return out


def share_fetch_request(version, args, tags=False):
    """args: (group or None, topics [(name, partitions)], forgotten [(name, partitions)])."""
    group, topics, forgotten = args
    out = [{"TopicId": FETCH_TOPIC_IDS[name], "Partitions": share_partitions(parts, True, True, tags)}
           for name, parts in topics]
    if tags:
        out = [with_tags(t, [UNKNOWN_TAG_WIDE]) for t in out]
    gone = [{"TopicId": FETCH_TOPIC_IDS[name], "Partitions": list(parts)} for name, parts in forgotten]
    if tags:
        gone = [with_tags(f, [UNKNOWN_TAG_SMALL]) for f in gone]
    body = {"GroupId": group, "MemberId": SHARE_MEMBER_ID if group is not None else None, "ShareSessionEpoch": 3,
            "MaxWaitMs": 500, "MinBytes": 1, "MaxBytes": 52428800, "MaxRecords": 500, "BatchSize": 500,
            "ShareAcquireMode": 1, "Topics": out, "ForgottenTopicsData": gone}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def share_acknowledge_request(version, args, tags=False):
    """args: (group or None, topics [(name, partitions)]); the first partition of each topic has acknowledgement
    batches, the others none."""
    group, topics = args
    out = [{"TopicId": FETCH_TOPIC_IDS[name], "Partitions": share_partitions(parts, True, False, tags)}
           for name, parts in topics]
    if tags:
        out = [with_tags(t, [UNKNOWN_TAG_WIDE]) for t in out]
    body = {"GroupId": group, "MemberId": SHARE_MEMBER_ID if group is not None else None, "ShareSessionEpoch": 4,
            "IsRenewAck": False, "Topics": out}
    return with_tags(body, [UNKNOWN_TAG_EMPTY, UNKNOWN_TAG_SMALL]) if tags else body


def share_refused_topic_cases(api, make, plain, null_group):
    """refused "topic" variants of a ShareFetch / ShareAcknowledge: TOPIC_AUTHORIZATION_FAILED at the top level."""
    cases = []
    lo, hi = api.versions
    for v in range(lo, hi + 1):
        cases.append(Case(api, v, "refused_topic", "%s v%d, 2 topics by id; refused topic: "
                          "TOPIC_AUTHORIZATION_FAILED and ErrorMessage at the top level, no topics" % (api.name, v),
                          make(v, plain, False), refused="topic", message=acl_message_for(api.name, "Topic")))
        cases.append(Case(api, v, "null_group_refused_topic", "%s v%d with a null GroupId and MemberId, 2 topics "
                          "by id; refused topic: TOPIC_AUTHORIZATION_FAILED at the top level" % (api.name, v),
                          make(v, null_group, False), refused="topic",
                          message=acl_message_for(api.name, "Topic")))
    return cases


def share_fetch_cases():
    plain = ("billing-consumers", TWO_TOPICS, [("audit", [0])])
    null_group = (None, TWO_TOPICS, [])
    cases = standard_cases(
        SHARE_FETCH, share_fetch_request,
        ("share group 'billing-consumers', 2 topics by id x 2 partitions (the first with acknowledgement batches), "
         "a forgotten topic: GROUP_AUTHORIZATION_FAILED and ErrorMessage at the top level, no topics", plain),
        empty=("no topics, a forgotten topic", ("billing-consumers", [], [("payments", [7, 1])])),
        long_name=("a 190-byte group id", (LONG_GROUP, [(LONG_TOPIC, [0])], [])),
        tag_what="the body, topics, partitions, acknowledgement batches and forgotten topics")
    for v in range(1, 3):
        cases.append(Case(SHARE_FETCH, v, "null_group", "ShareFetch v%d with a null GroupId and MemberId" % v,
                          share_fetch_request(v, null_group)))
    return cases + share_refused_topic_cases(SHARE_FETCH, share_fetch_request, plain, null_group)


def share_acknowledge_cases():
    plain = ("billing-consumers", TWO_TOPICS)
    null_group = (None, TWO_TOPICS)
    cases = standard_cases(
        SHARE_ACKNOWLEDGE, share_acknowledge_request,
        ("share group 'billing-consumers', 2 topics by id x 2 partitions (the first with acknowledgement batches): "
         "GROUP_AUTHORIZATION_FAILED and ErrorMessage at the top level, no topics", plain),
        empty=("no topics", ("billing-consumers", [])),
        long_name=("a 190-byte group id", (LONG_GROUP, [(LONG_TOPIC, [0])])),
        tag_what="the body, topics, partitions and acknowledgement batches")
    for v in range(1, 3):
        cases.append(Case(SHARE_ACKNOWLEDGE, v, "null_group", "ShareAcknowledge v%d with a null GroupId and MemberId"
                          % v, share_acknowledge_request(v, null_group)))
    renew = share_acknowledge_request(2, plain)
    renew["IsRenewAck"] = True
    for t in renew["Topics"]:
        for part in t["Partitions"]:
            part["AcknowledgementBatches"] = [dict(b, AcknowledgeTypes=[4]) for b in part["AcknowledgementBatches"]]
    cases.append(Case(SHARE_ACKNOWLEDGE, 2, "renew", "ShareAcknowledge v2 renewing acquisition locks (IsRenewAck, "
                      "AcknowledgeType 4)", renew))
    return cases + share_refused_topic_cases(SHARE_ACKNOWLEDGE, share_acknowledge_request, plain, null_group)


# ---------------------------------------------------------------------------------------------------------------------
# Cases that name the refused resource ("refused"): the rules of the APIs that answer each kind differently, and, for
# the other APIs and kinds, that the answer is the unspecified one
# ---------------------------------------------------------------------------------------------------------------------

REFUSED_WHAT = {"topic": "Topic", "group": "Group", "transactional_id": "Transactional Id", "cluster": "Cluster"}


# What each refused rule answers, for the descriptions.
REFUSED_ANSWERS = {
    ("OffsetCommit", "topic"): "TOPIC_AUTHORIZATION_FAILED on each partition",
    ("OffsetFetch", "topic"): "no group error; every requested partition TOPIC_AUTHORIZATION_FAILED, no offset",
    ("TxnOffsetCommit", "group"): "GROUP_AUTHORIZATION_FAILED on each partition",
    ("TxnOffsetCommit", "topic"): "TOPIC_AUTHORIZATION_FAILED on each partition",
    ("AddOffsetsToTxn", "group"): "GROUP_AUTHORIZATION_FAILED",
    ("AddPartitionsToTxn", "topic"): "TOPIC_AUTHORIZATION_FAILED on each partition",
    ("ConsumerGroupHeartbeat", "topic"): "TOPIC_AUTHORIZATION_FAILED, ErrorMessage",
    ("ShareGroupHeartbeat", "topic"): "TOPIC_AUTHORIZATION_FAILED, ErrorMessage",
}


def refused_case(base, kind):
    """`base` (a Case) with `kind` refused: the variant refused_<kind> (or <base variant>_refused_<kind>), the message
    naming that kind."""
    suffix = "refused_" + kind
    name = suffix if base.variant is None else base.variant + "_" + suffix
    answer = REFUSED_ANSWERS.get((base.api.name, kind), "answered as unspecified")
    assert (kind in base.api.refused_rules) == ((base.api.name, kind) in REFUSED_ANSWERS), (base.api.name, kind)
    text = "%s; refused %s: %s" % (base.description.split(": ")[0], kind, answer)
    return Case(base.api, base.version, name, text, base.request, base.client_id, base.header_tags, refused=kind,
                message=acl_message_for(base.api.name, REFUSED_WHAT[kind]))


def refused_cases(plain_cases):
    """plain_cases: every case without "refused"; the refused variants are made of some of them."""
    by_name = {c.file_name: c for c in plain_cases}

    def base(api, version, variant=None):
        return by_name["%s.v%d%s.json" % (api.file_name, version, "" if variant is None else "." + variant)]

    cases = []
    # Spec rows (the error of the refused kind), every version; the kinds each request names.
    rows = [(OFFSET_COMMIT, ("topic", "group")), (OFFSET_FETCH, ("topic", "group")),
            (TXN_OFFSET_COMMIT, ("group", "topic", "transactional_id")),
            (ADD_OFFSETS_TO_TXN, ("group", "transactional_id")),
            (ADD_PARTITIONS_TO_TXN, ("topic", "transactional_id")),
            (CONSUMER_GROUP_HEARTBEAT, ("topic", "group")),
            (SHARE_GROUP_HEARTBEAT, ("group", "topic"))]
    for api, kinds in rows:
        lo, hi = api.versions
        for v in range(lo, hi + 1):
            for kind in kinds:
                cases.append(refused_case(base(api, v), kind))
    for v in range(2, 8):  # OffsetFetch v2-7 asking for every topic (null Topics): no topic to name
        cases.append(refused_case(base(OFFSET_FETCH, v, "all_topics"), "topic"))
    # Every other API, and the kinds the rows above do not list: as unspecified.
    for api, version, variant, kind in [
            (LIST_OFFSETS, 10, None, "topic"), (HEARTBEAT, 4, None, "topic"), (JOIN_GROUP, 9, None, "group"),
            (END_TXN, 5, None, "transactional_id"), (DESCRIBE_CONFIGS, 4, "resource_types", "cluster"),
            (DESCRIBE_CONFIGS, 4, "resource_types", "topic"), (INIT_PRODUCER_ID, 5, "idempotent", "cluster"),
            (INIT_PRODUCER_ID, 5, None, "transactional_id"), (FIND_COORDINATOR, 6, None, "group"),
            (DELETE_TOPICS, 6, None, "topic"), (PRODUCE, 9, None, "topic"), (DESCRIBE_PRODUCERS, 0, None, "topic"),
            (OFFSET_COMMIT, 9, None, "cluster"), (TXN_OFFSET_COMMIT, 4, None, "cluster")]:
        cases.append(refused_case(base(api, version, variant), kind))
    return cases


def acl_cases():
    return (fetch_cases() + list_offsets_cases() + offset_commit_cases() + offset_fetch_cases() + join_group_cases()
            + heartbeat_cases() + leave_group_cases() + sync_group_cases() + describe_groups_cases()
            + offset_for_leader_epoch_cases() + add_partitions_to_txn_cases() + add_offsets_to_txn_cases()
            + end_txn_cases() + txn_offset_commit_cases() + describe_configs_cases()
            + consumer_group_heartbeat_cases() + describe_producers_cases() + share_group_heartbeat_cases()
            + share_fetch_cases() + share_acknowledge_cases())


def all_cases():
    cases = (produce_cases() + find_coordinator_cases() + create_topics_cases() + delete_topics_cases() + delete_records_cases()
             + init_producer_id_cases() + alter_configs_cases(ALTER_CONFIGS) + create_partitions_cases()
             + delete_groups_cases() + alter_configs_cases(INCREMENTAL_ALTER_CONFIGS) + offset_delete_cases()
             + acl_cases())
    cases += refused_cases(cases)
    names = [c.file_name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError("duplicate case files: %s" % duplicates)
    for api in APIS:  # every version of every API has at least one case
        lo, hi = api.versions
        missing = [v for v in range(lo, hi + 1) if not any(c.api is api and c.version == v for c in cases)]
        if missing:
            raise ValueError("%s: no case for versions %s" % (api.name, missing))
    return sorted(cases, key=lambda c: c.file_name)


# ---------------------------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------------------------


REFUSALS = CaseSet(lambda: all_cases(), REFUSALS_DIR, "tests/golden/refusals/generate_refusals.py", "refusal vectors",
                   "kedge-refusals-")


def main(argv=None):
    return REFUSALS.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
