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
  TOPIC_AUTHORIZATION_FAILED (29)            topics, topic ids, topic config resources (ResourceType 2)
  GROUP_AUTHORIZATION_FAILED (30)            groups, group config resources (ResourceType 32), FindCoordinator keys
                                             of KeyType 0 (and v0, which has no KeyType)
  CLUSTER_AUTHORIZATION_FAILED (31)          idempotent InitProducerId (null TransactionalId), other config resources
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53) InitProducerId with a TransactionalId, FindCoordinator keys of KeyType 1
Every other field takes its spec default: offsets, counts and epochs -1, arrays empty, nullable fields null, ids zero.

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


class Api:
    def __init__(self, key, name, file_name, versions, flexible, request, response, refuse):
        self.key = key
        self.name = name            # as in the message text and the Kafka spec
        self.file_name = file_name  # <file_name>.v<N>[.<variant>].json
        self.versions = versions    # (lo, hi) covered
        self.flexible = Versions(flexible)
        self.request = request
        self.response = response
        self.refuse = refuse        # (request dict, version, message) -> response dict

    @property
    def message(self):
        return message_for(self.name)


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

APIS = [PRODUCE, FIND_COORDINATOR, CREATE_TOPICS, DELETE_TOPICS, DELETE_RECORDS, INIT_PRODUCER_ID, ALTER_CONFIGS, CREATE_PARTITIONS,
        DELETE_GROUPS, INCREMENTAL_ALTER_CONFIGS, OFFSET_DELETE]
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
    def __init__(self, api, version, variant, description, request, client_id=CLIENT_ID, header_tags=()):
        self.api = api
        self.version = version
        self.variant = variant
        self.description = description
        self.request = request
        self.client_id = client_id
        self.header_tags = header_tags

    @property
    def file_name(self):
        suffix = "" if self.variant is None else "." + self.variant
        return "%s.v%d%s.json" % (self.api.file_name, self.version, suffix)

    @property
    def message(self):
        return self.api.message

    def response(self):
        return self.api.refuse(self.request, self.version, self.message)

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
                if f.name == "ErrorCode":
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
            "request_hex": request.hex(),
            "expected_hex": expected.hex(),
        }
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


def all_cases():
    cases = (produce_cases() + find_coordinator_cases() + create_topics_cases() + delete_topics_cases() + delete_records_cases()
             + init_producer_id_cases() + alter_configs_cases(ALTER_CONFIGS) + create_partitions_cases()
             + delete_groups_cases() + alter_configs_cases(INCREMENTAL_ALTER_CONFIGS) + offset_delete_cases())
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
