#!/usr/bin/python3
"""Golden vectors for kedge's data client (kafka_codec/data_client.h): the requests kedge sends to partition
leaders and the responses it reads, for every version kedge sends.

An independent encoder: the request layouts below were written from Apache Kafka's message specs
(clients/src/main/resources/common/message/{Metadata,ListOffsets,Fetch,Produce,FindCoordinator,OffsetCommit,
OffsetFetch}Request.json and {ListOffsets,OffsetCommit,OffsetFetch}Response.json; Produce v12 has the body of v11,
Kafka 4.0) and the response layouts of Metadata, Fetch, Produce and FindCoordinator are generate.py's (written from
kafka-protocol.md). Nothing here is taken from kafka_codec/.

Two kinds of case file, one JSON object each:
  request:  {"kind": "request", "api_key", "api_version", "description", "client_id", "correlation_id",
             "params" (the arguments of the C++ encoder), "body_hex", "frame_hex"}
  response: {"kind": "response", "api_key", "api_version", "description", "response_hex" (whole frame, size prefix
             included, response header v1 from the API's first flexible version), "query" (ListOffsets:
             {"topic", "partition"}; FindCoordinator, OffsetFetch: {"group"}), "expected" (the decoded answer, fields
             absent at the version at their defaults; "found": false when the entry asked for is not there)}

Usage:
  /usr/bin/python3 tests/golden/data_client/generate_data_client.py            # (re)write every case file
  /usr/bin/python3 tests/golden/data_client/generate_data_client.py --check    # regenerate into a temp dir and diff
Standard library only.
"""

import json
import os
import sys

DATA_CLIENT_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(DATA_CLIENT_DIR))

from generate import (  # noqa: E402  (tests/golden/generate.py: primitive encoder, response schemas, case-file CLI)
    FETCH, FIND_COORDINATOR_BATCHED, FIND_COORDINATOR_SINGLE, METADATA, PRODUCE, UNKNOWN_TAGS, ArrayOf, CaseSet, EncodeContext, Field, Struct, Versions, enc_int16,
    enc_int32, enc_string, enc_tag_buffer, encode_struct, record_batch)

CORRELATION_ID = 0x0A0B0C0D
CLIENT_ID = "kedge-data-client"
ZERO_UUID = "00" * 16

# Versions kedge sends (by topic name) and the first flexible version of each API (the specs' flexibleVersions).
APIS = {
    # name: (api_key, versions sent, first flexible version)
    "metadata": (3, range(1, 13), 9),
    "list_offsets": (2, range(1, 11), 6),
    "fetch": (1, range(4, 13), 12),
    "produce": (0, range(3, 13), 9),
    # Consumer-group offsets for the REST API. FindCoordinator: validVersions 0-6, every version can name a group.
    # OffsetCommit 2-9 and OffsetFetch 1-9: Kafka 4.x's lowest versions (KIP-896) up to the last by topic name.
    "find_coordinator": (10, range(0, 7), 3),
    "offset_commit": (8, range(2, 10), 8),
    "offset_fetch": (9, range(1, 10), 6),
}

# Raw unknown tags a broker newer than kedge may send in any tag buffer: the decoders must skip them.
UNKNOWN_TAG_SMALL = (3, bytes.fromhex("0b6b656467652d74657374"))  # compact string "kedge-test"
UNKNOWN_TAG_WIDE = (130, bytes(range(150)))                       # tag and size both need a 2-byte varint

# ---------------------------------------------------------------------------------------------------------------------
# Request layouts (from the request specs named above)
# ---------------------------------------------------------------------------------------------------------------------

METADATA_REQUEST = Struct("MetadataRequest", [
    Field("Topics", ArrayOf(Struct("MetadataRequestTopic", [
        Field("TopicId", "uuid", "10+"), Field("Name", "string", nullable="10+")])), nullable="1+"),
    Field("AllowAutoTopicCreation", "bool", "4+"),
    Field("IncludeClusterAuthorizedOperations", "bool", "8-10"),
    Field("IncludeTopicAuthorizedOperations", "bool", "8+"),
])

LIST_OFFSETS_REQUEST = Struct("ListOffsetsRequest", [
    Field("ReplicaId", "int32"),
    Field("IsolationLevel", "int8", "2+"),
    Field("Topics", ArrayOf(Struct("ListOffsetsTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("ListOffsetsPartition", [
            Field("PartitionIndex", "int32"), Field("CurrentLeaderEpoch", "int32", "4+"),
            Field("Timestamp", "int64"), Field("MaxNumOffsets", "int32", "0")]))),
    ]))),
    Field("TimeoutMs", "int32", "10+"),
])

FETCH_REQUEST = Struct("FetchRequest", [
    Field("ClusterId", "string", "12+", nullable="12+", tag=0),
    Field("ReplicaId", "int32", "0-14"),
    Field("MaxWaitMs", "int32"), Field("MinBytes", "int32"), Field("MaxBytes", "int32", "3+"),
    Field("IsolationLevel", "int8", "4+"), Field("SessionId", "int32", "7+"), Field("SessionEpoch", "int32", "7+"),
    Field("Topics", ArrayOf(Struct("FetchTopic", [
        Field("Topic", "string", "0-12"), Field("TopicId", "uuid", "13+"),
        Field("Partitions", ArrayOf(Struct("FetchPartition", [
            Field("Partition", "int32"), Field("CurrentLeaderEpoch", "int32", "9+"), Field("FetchOffset", "int64"),
            Field("LastFetchedEpoch", "int32", "12+"), Field("LogStartOffset", "int64", "5+"),
            Field("PartitionMaxBytes", "int32")]))),
    ]))),
    Field("ForgottenTopicsData", ArrayOf(Struct("ForgottenTopic", [
        Field("Topic", "string", "7-12"), Field("TopicId", "uuid", "13+"),
        Field("Partitions", ArrayOf("int32"))])), "7+"),
    Field("RackId", "string", "11+"),
])

PRODUCE_REQUEST = Struct("ProduceRequest", [
    Field("TransactionalId", "string", "3+", nullable="3+"),
    Field("Acks", "int16"), Field("TimeoutMs", "int32"),
    Field("TopicData", ArrayOf(Struct("TopicProduceData", [
        Field("Name", "string"),
        Field("PartitionData", ArrayOf(Struct("PartitionProduceData", [
            Field("Index", "int32"), Field("Records", "records", nullable="0+")]))),
    ]))),
])

FIND_COORDINATOR_REQUEST = Struct("FindCoordinatorRequest", [
    Field("Key", "string", "0-3"),
    Field("KeyType", "int8", "1+"),
    Field("CoordinatorKeys", ArrayOf("string"), "4+"),
])

OFFSET_COMMIT_REQUEST = Struct("OffsetCommitRequest", [
    Field("GroupId", "string"),
    Field("GenerationIdOrMemberEpoch", "int32", "1+"),
    Field("MemberId", "string", "1+"),
    Field("GroupInstanceId", "string", "7+", nullable="7+"),
    Field("RetentionTimeMs", "int64", "2-4"),
    Field("Topics", ArrayOf(Struct("OffsetCommitRequestTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("OffsetCommitRequestPartition", [
            Field("PartitionIndex", "int32"), Field("CommittedOffset", "int64"),
            Field("CommittedLeaderEpoch", "int32", "6+"), Field("CommitTimestamp", "int64", "1"),
            Field("CommittedMetadata", "string", nullable="0+")]))),
    ]))),
])

OFFSET_FETCH_REQUEST = Struct("OffsetFetchRequest", [
    Field("GroupId", "string", "0-7"),
    Field("Topics", ArrayOf(Struct("OffsetFetchRequestTopic", [
        Field("Name", "string", "0-7"), Field("PartitionIndexes", ArrayOf("int32"), "0-7")])),
        "0-7", nullable="2-7"),
    Field("Groups", ArrayOf(Struct("OffsetFetchRequestGroup", [
        Field("GroupId", "string", "8+"),
        Field("MemberId", "string", "9+", nullable="9+"),
        Field("MemberEpoch", "int32", "9+"),
        Field("Topics", ArrayOf(Struct("OffsetFetchRequestTopics", [
            Field("Name", "string", "8+"), Field("PartitionIndexes", ArrayOf("int32"), "8+")])),
            "8+", nullable="8+"),
    ])), "8+"),
    Field("RequireStable", "bool", "7+"),
])

OFFSET_COMMIT_RESPONSE = Struct("OffsetCommitResponse", [
    Field("ThrottleTimeMs", "int32", "3+"),
    Field("Topics", ArrayOf(Struct("OffsetCommitResponseTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("OffsetCommitResponsePartition", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16")]))),
    ]))),
])

OFFSET_FETCH_RESPONSE = Struct("OffsetFetchResponse", [
    Field("ThrottleTimeMs", "int32", "3+"),
    Field("Topics", ArrayOf(Struct("OffsetFetchResponseTopic", [
        Field("Name", "string", "0-7"),
        Field("Partitions", ArrayOf(Struct("OffsetFetchResponsePartition", [
            Field("PartitionIndex", "int32", "0-7"), Field("CommittedOffset", "int64", "0-7"),
            Field("CommittedLeaderEpoch", "int32", "5-7"), Field("Metadata", "string", "0-7", nullable="0-7"),
            Field("ErrorCode", "int16", "0-7")])), "0-7"),
    ])), "0-7"),
    Field("ErrorCode", "int16", "2-7"),
    Field("Groups", ArrayOf(Struct("OffsetFetchResponseGroup", [
        Field("GroupId", "string", "8+"),
        Field("Topics", ArrayOf(Struct("OffsetFetchResponseTopics", [
            Field("Name", "string", "8+"),
            Field("Partitions", ArrayOf(Struct("OffsetFetchResponsePartitions", [
                Field("PartitionIndex", "int32", "8+"), Field("CommittedOffset", "int64", "8+"),
                Field("CommittedLeaderEpoch", "int32", "8+"), Field("Metadata", "string", "8+", nullable="8+"),
                Field("ErrorCode", "int16", "8+")])), "8+"),
        ])), "8+"),
        Field("ErrorCode", "int16", "8+"),
    ])), "8+"),
])

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


def flexible(api, version):
    return version >= APIS[api][2]


def request_frame(api, version, body):
    """Request header v1 (api_key, api_version, correlation_id, client_id STRING), v2 adds a tag buffer."""
    header = enc_int16(APIS[api][0]) + enc_int16(version) + enc_int32(CORRELATION_ID) + enc_string(CLIENT_ID, False)
    if flexible(api, version):
        header += enc_tag_buffer([])
    return enc_int32(len(header) + len(body)) + header + body


def response_frame(api, version, schema, message):
    header = enc_int32(CORRELATION_ID)
    if flexible(api, version):
        header += enc_tag_buffer([])
    body = encode_struct(schema, message, EncodeContext(version, flexible(api, version)))
    return enc_int32(len(header) + len(body)) + header + body


def in_version(struct_def, name, version):
    for f in struct_def.fields:
        if f.name == name:
            return version in f.versions
    raise KeyError(name)


def member(struct_def, name):
    for f in struct_def.fields:
        if f.name == name:
            t = f.type.elem if isinstance(f.type, ArrayOf) else f.type
            return t
    raise KeyError(name)


def group_by_topic(partitions):
    """Topic -> partitions in the order each topic first appears (one request entry per topic)."""
    order, grouped = [], {}
    for p in partitions:
        if p["topic"] not in grouped:
            order.append(p["topic"])
            grouped[p["topic"]] = []
        grouped[p["topic"]].append(p)
    return [(t, grouped[t]) for t in order]


class Case:
    def __init__(self, api, version, variant, description, doc):
        self.api = api
        self.version = version
        self.variant = variant
        self.description = description
        self.doc = doc

    @property
    def file_name(self):
        suffix = "" if self.variant is None else "." + self.variant
        return "%s_%s.v%d%s.json" % (self.api, self.doc["kind"], self.version, suffix)

    def to_json(self):
        doc = {"kind": self.doc["kind"], "api_key": APIS[self.api][0], "api_version": self.version,
               "description": self.description}
        doc.update({k: v for k, v in self.doc.items() if k != "kind"})
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def request_case(api, version, variant, description, params, schema, message):
    body = encode_struct(schema, message, EncodeContext(version, flexible(api, version)))
    return Case(api, version, variant, description, {
        "kind": "request", "client_id": CLIENT_ID, "correlation_id": CORRELATION_ID, "params": params,
        "body_hex": body.hex(), "frame_hex": request_frame(api, version, body).hex()})


# ---------------------------------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------------------------------

def metadata_request_cases():
    cases = []
    for v in APIS["metadata"][1]:
        for variant, topics in ((None, ["orders", "payments.eu-west-1"]), ("one_topic", ["t"]), ("no_topics", [])):
            message = {"Topics": [{"TopicId": ZERO_UUID, "Name": t} for t in topics],
                       "AllowAutoTopicCreation": False, "IncludeClusterAuthorizedOperations": False,
                       "IncludeTopicAuthorizedOperations": False}
            cases.append(request_case("metadata", v, variant,
                                      "Metadata v%d for topics %s, no auto-creation, no authorized operations"
                                      % (v, topics), {"topics": topics}, METADATA_REQUEST, message))
    return cases


def list_offsets_request_cases():
    cases = []
    for v in APIS["list_offsets"][1]:
        for variant, topic, partition, ts, isolation, epoch in (
                (None, "orders", 3, -1, 0, -1),
                ("earliest_committed", "payments.eu-west-1", 0, -2, 1, 17),
                ("timestamp", "orders", 11, 1767225600000, 1, 5)):
            params = {"topic": topic, "partition": partition, "timestamp": ts, "isolation": isolation,
                      "current_leader_epoch": epoch, "timeout_ms": 30000}
            message = {"ReplicaId": -1, "IsolationLevel": isolation, "TimeoutMs": 30000, "Topics": [
                {"Name": topic, "Partitions": [{"PartitionIndex": partition, "CurrentLeaderEpoch": epoch,
                                                "Timestamp": ts, "MaxNumOffsets": 1}]}]}
            cases.append(request_case("list_offsets", v, variant,
                                      "ListOffsets v%d, %s-%d at timestamp %d, isolation %d, leader epoch %d"
                                      % (v, topic, partition, ts, isolation, epoch),
                                      params, LIST_OFFSETS_REQUEST, message))
    return cases


def fetch_request_cases():
    cases = []
    shapes = (
        (None, {"max_wait_ms": 500, "min_bytes": 1, "max_bytes": 50 << 20, "isolation": 0, "partitions": [
            {"topic": "orders", "partition": 0, "fetch_offset": 1000, "partition_max_bytes": 1 << 20,
             "current_leader_epoch": -1}]}),
        ("three_partitions", {"max_wait_ms": 250, "min_bytes": 1024, "max_bytes": 8 << 20, "isolation": 1,
                              "partitions": [
            {"topic": "orders", "partition": 2, "fetch_offset": 48213, "partition_max_bytes": 65536,
             "current_leader_epoch": 12},
            {"topic": "payments.eu-west-1", "partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20,
             "current_leader_epoch": 4},
            {"topic": "orders", "partition": 0, "fetch_offset": 7, "partition_max_bytes": 1 << 20,
             "current_leader_epoch": -1}]}),
    )
    for v in APIS["fetch"][1]:
        for variant, params in shapes:
            topics = [{"Topic": t, "TopicId": ZERO_UUID, "Partitions": [
                {"Partition": p["partition"], "CurrentLeaderEpoch": p["current_leader_epoch"],
                 "FetchOffset": p["fetch_offset"], "LastFetchedEpoch": -1, "LogStartOffset": -1,
                 "PartitionMaxBytes": p["partition_max_bytes"]} for p in parts]}
                for t, parts in group_by_topic(params["partitions"])]
            message = {"ReplicaId": -1, "MaxWaitMs": params["max_wait_ms"], "MinBytes": params["min_bytes"],
                       "MaxBytes": params["max_bytes"], "IsolationLevel": params["isolation"], "SessionId": 0,
                       "SessionEpoch": -1, "Topics": topics, "ForgottenTopicsData": [], "RackId": ""}
            cases.append(request_case("fetch", v, variant,
                                      "Fetch v%d, session-less, %d partition(s) in %d topic(s), isolation %d"
                                      % (v, len(params["partitions"]), len(topics), params["isolation"]),
                                      params, FETCH_REQUEST, message))
    return cases


def produce_request_cases():
    batch_a = record_batch(0, 1767225600000, [(0, b"k1", b"v1", []), (2, None, b"value-two", [("h", b"x")])])
    batch_b = record_batch(0, 1767225601000, [(0, b"order-9", b'{"id":9}', [])])
    cases = []
    for v in APIS["produce"][1]:
        for variant, acks, timeout, parts in (
                (None, -1, 30000, [{"topic": "orders", "partition": 1, "records": batch_a}]),
                ("two_topics", 1, 1500, [{"topic": "orders", "partition": 0, "records": batch_a + batch_b},
                                         {"topic": "payments.eu-west-1", "partition": 2, "records": batch_b},
                                         {"topic": "orders", "partition": 5, "records": b""}])):
            topics = [{"Name": t, "PartitionData": [{"Index": p["partition"], "Records": p["records"]}
                                                    for p in ps]} for t, ps in group_by_topic(parts)]
            message = {"TransactionalId": None, "Acks": acks, "TimeoutMs": timeout, "TopicData": topics}
            params = {"acks": acks, "timeout_ms": timeout, "partitions": [
                {"topic": p["topic"], "partition": p["partition"], "records_hex": p["records"].hex()} for p in parts]}
            cases.append(request_case("produce", v, variant,
                                      "Produce v%d, acks %d, null transactional id, %d partition(s)"
                                      % (v, acks, len(parts)), params, PRODUCE_REQUEST, message))
    return cases


GROUP = "rest-bridge.orders-consumers"
GROUP_UTF8 = "gr\u00fcppe-\u00e9t\u00e9"  # non-ASCII: lengths count UTF-8 bytes, not characters


def find_coordinator_request_cases():
    cases = []
    for v in APIS["find_coordinator"][1]:
        for variant, group in ((None, GROUP), ("utf8_group", GROUP_UTF8)):
            message = {"Key": group, "KeyType": 0, "CoordinatorKeys": [group]}
            cases.append(request_case("find_coordinator", v, variant,
                                      "FindCoordinator v%d for group %r (KeyType 0)" % (v, group),
                                      {"group": group}, FIND_COORDINATOR_REQUEST, message))
    return cases


def offset_commit_request_cases():
    cases = []
    shapes = (
        (None, GROUP, [
            {"topic": "orders", "partition": 2, "offset": 48213, "leader_epoch": 12, "metadata": "rest:instance-7"},
            {"topic": "payments.eu-west-1", "partition": 0, "offset": 0, "leader_epoch": -1, "metadata": None},
            {"topic": "orders", "partition": 0, "offset": 1005, "leader_epoch": 11, "metadata": ""}]),
        ("one_partition", GROUP_UTF8, [
            {"topic": "t", "partition": 7, "offset": 9007199254740993, "leader_epoch": -1, "metadata": None}]),
    )
    for v in APIS["offset_commit"][1]:
        for variant, group, offsets in shapes:
            topics = [{"Name": t, "Partitions": [
                {"PartitionIndex": o["partition"], "CommittedOffset": o["offset"],
                 "CommittedLeaderEpoch": o["leader_epoch"], "CommitTimestamp": -1,
                 "CommittedMetadata": o["metadata"]} for o in os_]} for t, os_ in group_by_topic(offsets)]
            message = {"GroupId": group, "GenerationIdOrMemberEpoch": -1, "MemberId": "", "GroupInstanceId": None,
                       "RetentionTimeMs": -1, "Topics": topics}
            cases.append(request_case("offset_commit", v, variant,
                                      "OffsetCommit v%d for group %r, no member (generation -1, member \"\"), "
                                      "%d partition(s)" % (v, group, len(offsets)),
                                      {"group": group, "offsets": offsets}, OFFSET_COMMIT_REQUEST, message))
    return cases


def offset_fetch_request_cases():
    cases = []
    for v in APIS["offset_fetch"][1]:
        shapes = [(None, GROUP, [{"topic": "orders", "partition": 2}, {"topic": "payments.eu-west-1", "partition": 0},
                                 {"topic": "orders", "partition": 0}], False),
                  ("no_partitions", GROUP_UTF8, [], False)]
        if v >= 2:
            shapes.append(("all_topics", GROUP, [], True))
        for variant, group, parts, all_topics in shapes:
            topics = None if all_topics else [
                {"Name": t, "PartitionIndexes": [p["partition"] for p in ps]} for t, ps in group_by_topic(parts)]
            message = {"GroupId": group, "Topics": topics, "RequireStable": False,
                       "Groups": [{"GroupId": group, "MemberId": None, "MemberEpoch": -1, "Topics": topics}]}
            cases.append(request_case("offset_fetch", v, variant,
                                      "OffsetFetch v%d for group %r, %s, RequireStable false" % (
                                          v, group, "all topics (null Topics)" if all_topics
                                          else "%d partition(s)" % len(parts)),
                                      {"group": group, "partitions": parts, "all_topics": all_topics},
                                      OFFSET_FETCH_REQUEST, message))
    return cases


# ---------------------------------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------------------------------

def response_case(api, version, variant, description, schema, message, expected, query=None):
    doc = {"kind": "response", "response_hex": response_frame(api, version, schema, message).hex()}
    if query is not None:
        doc["query"] = query
    doc["expected"] = expected
    return Case(api, version, variant, description, doc)


def value_at(struct_def, message, name, version, default):
    return message[name] if in_version(struct_def, name, version) else default


def metadata_response_cases():
    topic_s = member(METADATA, "Topics")
    part_s = member(topic_s, "Partitions")
    cases = []
    for v in APIS["metadata"][1]:
        for variant in (None, "unknown_tags", "null_topic_name") if v >= 12 else \
                ((None, "unknown_tags") if v >= 9 else (None,)):
            brokers = [{"NodeId": 0, "Host": "10.0.0.5", "Port": 9092, "Rack": "use1-az1"},
                       {"NodeId": 2, "Host": "kafka-2.internal.corp", "Port": 19092, "Rack": None}]
            topics = [
                {"ErrorCode": 0, "Name": "orders", "TopicId": "5d3c9b1a7e2f4c80a1b2c3d4e5f60718", "IsInternal": False,
                 "Partitions": [
                     {"ErrorCode": 0, "PartitionIndex": 0, "LeaderId": 2, "LeaderEpoch": 12, "ReplicaNodes": [2, 0],
                      "IsrNodes": [2, 0], "OfflineReplicas": []},
                     {"ErrorCode": 5, "PartitionIndex": 1, "LeaderId": -1, "LeaderEpoch": 9, "ReplicaNodes": [0, 2],
                      "IsrNodes": [], "OfflineReplicas": [0]}],
                 "TopicAuthorizedOperations": -2147483648},
                {"ErrorCode": 3, "Name": None if variant == "null_topic_name" else "missing-topic",
                 "TopicId": ZERO_UUID, "IsInternal": False, "Partitions": [],
                 "TopicAuthorizedOperations": -2147483648},
            ]
            message = {"ThrottleTimeMs": 0, "Brokers": brokers, "ClusterId": "q1Sh-9_ISia_zwGINzRvyQ",
                       "ControllerId": 0, "Topics": topics, "ClusterAuthorizedOperations": -2147483648,
                       "ErrorCode": 0}
            if variant == "unknown_tags":
                message[UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
                brokers[1][UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
                topics[0][UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
                topics[0]["Partitions"][1][UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE, UNKNOWN_TAG_SMALL]
            expected = {
                "brokers": [{"node_id": b["NodeId"], "host": b["Host"], "port": b["Port"]} for b in brokers],
                "topics": [{"error_code": t["ErrorCode"], "name": t["Name"] or "", "partitions": [
                    {"partition": p["PartitionIndex"], "error_code": p["ErrorCode"], "leader_id": p["LeaderId"],
                     "leader_epoch": value_at(part_s, p, "LeaderEpoch", v, -1)} for p in t["Partitions"]]}
                    for t in topics]}
            cases.append(response_case("metadata", v, variant,
                                       "Metadata v%d, 2 brokers, orders (p1 leaderless), an unknown topic%s"
                                       % (v, {None: "", "unknown_tags": ", unknown tags at every level",
                                              "null_topic_name": " with a null name"}[variant]),
                                       METADATA, message, expected))
    return cases


def list_offsets_response_cases():
    part_s = member(member(LIST_OFFSETS_RESPONSE, "Topics"), "Partitions")
    cases = []
    for v in APIS["list_offsets"][1]:
        variants = [(None, "orders", 3), ("other_entry", "payments", 0), ("absent", "orders", 9)]
        if v >= 6:
            variants.append(("unknown_tags", "orders", 3))
        for variant, topic, partition in variants:
            message = {"ThrottleTimeMs": 7, "Topics": [
                {"Name": "payments", "Partitions": [
                    {"PartitionIndex": 0, "ErrorCode": 6, "OldStyleOffsets": [], "Timestamp": -1, "Offset": -1,
                     "LeaderEpoch": -1}]},
                {"Name": "orders", "Partitions": [
                    {"PartitionIndex": 1, "ErrorCode": 0, "OldStyleOffsets": [], "Timestamp": 1767225600000,
                     "Offset": 77, "LeaderEpoch": 11},
                    {"PartitionIndex": 3, "ErrorCode": 0, "OldStyleOffsets": [], "Timestamp": -1,
                     "Offset": 48213, "LeaderEpoch": 12}]}]}
            if variant == "unknown_tags":
                message[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
                message["Topics"][1][UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
                message["Topics"][1]["Partitions"][1][UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]
            entry = None
            for t in message["Topics"]:
                for p in t["Partitions"]:
                    if t["Name"] == topic and p["PartitionIndex"] == partition:
                        entry = p
            expected = {"found": entry is not None}
            if entry is not None:
                expected.update({"error_code": entry["ErrorCode"], "timestamp": entry["Timestamp"],
                                 "offset": entry["Offset"],
                                 "leader_epoch": value_at(part_s, entry, "LeaderEpoch", v, -1)})
            cases.append(response_case("list_offsets", v, variant,
                                       "ListOffsets v%d, 2 topics, asking for %s-%d%s" % (
                                           v, topic, partition, " (absent)" if entry is None else ""),
                                       LIST_OFFSETS_RESPONSE, message, expected,
                                       query={"topic": topic, "partition": partition}))
    return cases


def sample_batch(base_offset):
    return record_batch(base_offset, 1767225600000, [(0, b"order-1001", b'{"id":1001}', [("trace", b"4bf9")]),
                                                     (3, None, b"second", [])], partition_leader_epoch=12)


def fetch_response_cases():
    part_s = member(member(FETCH, "Responses"), "Partitions")
    cases = []
    for v in APIS["fetch"][1]:
        variants = [None] + (["unknown_tags"] if v >= 12 else [])
        for variant in variants:
            parts = [
                {"PartitionIndex": 0, "ErrorCode": 0, "HighWatermark": 1005, "LastStableOffset": 1002,
                 "LogStartOffset": 0, "AbortedTransactions": [{"ProducerId": 4001, "FirstOffset": 990},
                                                              {"ProducerId": 4007, "FirstOffset": 995}],
                 "PreferredReadReplica": -1, "Records": sample_batch(1000) + sample_batch(1002)},
                {"PartitionIndex": 1, "ErrorCode": 0, "HighWatermark": 0, "LastStableOffset": 0,
                 "LogStartOffset": 0, "AbortedTransactions": None, "PreferredReadReplica": 2 if v >= 11 else -1,
                 "Records": None},
                {"PartitionIndex": 2, "ErrorCode": 6, "HighWatermark": -1, "LastStableOffset": -1,
                 "LogStartOffset": -1, "AbortedTransactions": [], "PreferredReadReplica": -1, "Records": b""},
            ]
            payments = [{"PartitionIndex": 7, "ErrorCode": 0, "HighWatermark": 80, "LastStableOffset": 80,
                         "LogStartOffset": 3, "AbortedTransactions": None, "PreferredReadReplica": -1,
                         "Records": sample_batch(77)}]
            if variant == "unknown_tags":
                parts[0]["CurrentLeader"] = {"LeaderId": 2, "LeaderEpoch": 12}
                parts[2]["DivergingEpoch"] = {"Epoch": 11, "EndOffset": 870}
                parts[1][UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
                payments[0][UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
            message = {"ThrottleTimeMs": 3, "ErrorCode": 0, "SessionId": 0,
                       "Responses": [{"Topic": "orders", "TopicId": ZERO_UUID, "Partitions": parts},
                                     {"Topic": "payments", "TopicId": ZERO_UUID, "Partitions": payments}]}
            if variant == "unknown_tags":
                message[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]
                message["Responses"][0][UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
            expected_parts = []
            for topic in message["Responses"]:
                for p in topic["Partitions"]:
                    aborted = value_at(part_s, p, "AbortedTransactions", v, None) or []
                    expected_parts.append({
                        "topic": topic["Topic"], "partition": p["PartitionIndex"], "error_code": p["ErrorCode"],
                        "high_watermark": p["HighWatermark"],
                        "last_stable_offset": value_at(part_s, p, "LastStableOffset", v, -1),
                        "log_start_offset": value_at(part_s, p, "LogStartOffset", v, -1),
                        "aborted": [[a["ProducerId"], a["FirstOffset"]] for a in aborted],
                        "preferred_read_replica": value_at(part_s, p, "PreferredReadReplica", v, -1),
                        "records_hex": (p["Records"] or b"").hex()})
            expected = {"error_code": value_at(FETCH, message, "ErrorCode", v, 0),
                        "throttle_time_ms": value_at(FETCH, message, "ThrottleTimeMs", v, 0),
                        "partitions": expected_parts}
            cases.append(response_case("fetch", v, variant,
                                       "Fetch v%d, orders p0 two batches + 2 aborted txns, p1 null records, p2 "
                                       "NOT_LEADER_OR_FOLLOWER with empty records, payments p7 one batch%s"
                                       % (v, ", known and unknown tags" if variant else ""), FETCH, message, expected))
    return cases


def produce_response_cases():
    part_s = member(member(PRODUCE, "Responses"), "PartitionResponses")
    cases = []
    for v in APIS["produce"][1]:
        variants = [None] + (["unknown_tags"] if v >= 9 else [])
        for variant in variants:
            parts = [
                {"Index": 1, "ErrorCode": 0, "BaseOffset": 48213, "LogAppendTimeMs": -1, "LogStartOffset": 1200,
                 "RecordErrors": [], "ErrorMessage": None},
                {"Index": 5, "ErrorCode": 87, "BaseOffset": -1, "LogAppendTimeMs": 1767225600123,
                 "LogStartOffset": -1,
                 "RecordErrors": [{"BatchIndex": 1, "BatchIndexErrorMessage": "Compacted topic cannot accept null key"},
                                  {"BatchIndex": 4, "BatchIndexErrorMessage": None}],
                 "ErrorMessage": "One or more records have been rejected"},
            ]
            payments = [{"Index": 2, "ErrorCode": 6, "BaseOffset": -1, "LogAppendTimeMs": -1, "LogStartOffset": -1,
                         "RecordErrors": [], "ErrorMessage": "This server is not the leader for that topic-partition."}]
            message = {"Responses": [{"Name": "orders", "TopicId": ZERO_UUID, "PartitionResponses": parts},
                                     {"Name": "payments", "TopicId": ZERO_UUID, "PartitionResponses": payments}],
                       "ThrottleTimeMs": 9}
            if variant == "unknown_tags":
                message[UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
                parts[1]["RecordErrors"][0][UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
                message["Responses"][1][UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
                if v >= 10:
                    payments[0]["CurrentLeader"] = {"LeaderId": 2, "LeaderEpoch": 16}
                    message["NodeEndpoints"] = [{"NodeId": 2, "Host": "kafka-2.internal.corp", "Port": 9092,
                                                 "Rack": None}]
                else:
                    payments[0][UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
            expected_parts = []
            for topic in message["Responses"]:
                for p in topic["PartitionResponses"]:
                    errors = value_at(part_s, p, "RecordErrors", v, [])
                    expected_parts.append({
                        "topic": topic["Name"], "partition": p["Index"], "error_code": p["ErrorCode"],
                        "base_offset": p["BaseOffset"],
                        "log_append_time_ms": value_at(part_s, p, "LogAppendTimeMs", v, -1),
                        "log_start_offset": value_at(part_s, p, "LogStartOffset", v, -1),
                        "record_errors": [{"batch_index": e["BatchIndex"],
                                           "message": e["BatchIndexErrorMessage"] or ""} for e in errors],
                        "error_message": value_at(part_s, p, "ErrorMessage", v, None) or ""})
            expected = {"throttle_time_ms": value_at(PRODUCE, message, "ThrottleTimeMs", v, 0),
                        "partitions": expected_parts}
            cases.append(response_case("produce", v, variant,
                                       "Produce v%d, orders p1 ok, p5 INVALID_RECORD with record errors, payments p2 "
                                       "NOT_LEADER_OR_FOLLOWER%s" % (v, ", known and unknown tags" if variant else ""),
                                       PRODUCE, message, expected))
    return cases


COORDINATOR_NOT_AVAILABLE = 15
NOT_COORDINATOR = 16
GROUP_AUTHORIZATION_FAILED = 30
UNKNOWN_TOPIC_OR_PARTITION = 3
OFFSET_METADATA_TOO_LARGE = 12
UNKNOWN_MEMBER_ID = 25
UNSTABLE_OFFSET_COMMIT = 88


def find_coordinator_response_cases():
    cases = []
    for v in APIS["find_coordinator"][1]:
        variants = [None, "error"]
        if v >= 3:
            variants.append("unknown_tags")
        if v >= 4:
            variants += ["other_keys", "absent"]
        for variant in variants:
            ours = {"Key": GROUP, "NodeId": 2, "Host": "kafka-2.internal.corp", "Port": 19092, "ErrorCode": 0,
                    "ErrorMessage": None}
            if variant == "error":  # Node.noNode() with the error
                ours = {"Key": GROUP, "NodeId": -1, "Host": "", "Port": -1, "ErrorCode": COORDINATOR_NOT_AVAILABLE,
                        "ErrorMessage": "The coordinator is not available."}
            if variant == "unknown_tags":
                ours[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
            if v <= 3:
                schema = FIND_COORDINATOR_SINGLE
                message = {"ThrottleTimeMs": 4, "ErrorCode": ours["ErrorCode"], "ErrorMessage": ours["ErrorMessage"],
                           "NodeId": ours["NodeId"], "Host": ours["Host"], "Port": ours["Port"]}
                if variant == "unknown_tags":
                    message[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]
                entry = ours
            else:
                schema = FIND_COORDINATOR_BATCHED
                others = [{"Key": "other-group", "NodeId": 0, "Host": "10.0.0.5", "Port": 9092, "ErrorCode": 0,
                           "ErrorMessage": None},
                          {"Key": GROUP + "-2", "NodeId": -1, "Host": "", "Port": -1,
                           "ErrorCode": GROUP_AUTHORIZATION_FAILED, "ErrorMessage": None}]
                coordinators = {"other_keys": [others[0], ours, others[1]], "absent": others}.get(variant, [ours])
                message = {"ThrottleTimeMs": 4, "Coordinators": coordinators}
                if variant == "unknown_tags":
                    message[UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
                entry = None if variant == "absent" else ours
            expected = {"found": entry is not None}
            if entry is not None:
                expected.update({"error_code": entry["ErrorCode"],
                                 "error_message": (entry["ErrorMessage"] or "") if v >= 1 else "",
                                 "node_id": entry["NodeId"], "host": entry["Host"], "port": entry["Port"]})
            cases.append(response_case("find_coordinator", v, variant,
                                       "FindCoordinator v%d for %r: %s" % (v, GROUP, {
                                           None: "node 2", "error": "COORDINATOR_NOT_AVAILABLE, no node",
                                           "unknown_tags": "node 2, unknown tags",
                                           "other_keys": "node 2, second of three keys",
                                           "absent": "two other keys, not the one asked"}[variant]),
                                       schema, message, expected, query={"group": GROUP}))
    return cases


def offset_commit_response_cases():
    cases = []
    for v in APIS["offset_commit"][1]:
        variants = [None, "error"] + (["unknown_tags"] if v >= 8 else [])
        for variant in variants:
            if variant == "error":  # a group with members refuses a commit from no member, every partition
                topics = [{"Name": "orders", "Partitions": [{"PartitionIndex": 0, "ErrorCode": UNKNOWN_MEMBER_ID}]}]
            else:
                topics = [{"Name": "orders", "Partitions": [{"PartitionIndex": 2, "ErrorCode": 0},
                                                            {"PartitionIndex": 0, "ErrorCode": 0}]},
                          {"Name": "payments.eu-west-1", "Partitions": [
                              {"PartitionIndex": 0, "ErrorCode": OFFSET_METADATA_TOO_LARGE},
                              {"PartitionIndex": 9, "ErrorCode": UNKNOWN_TOPIC_OR_PARTITION}]},
                          {"Name": "empty-topic", "Partitions": []}]
            message = {"ThrottleTimeMs": 11, "Topics": topics}
            if variant == "unknown_tags":
                message[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
                topics[1][UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
                topics[1]["Partitions"][0][UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]
            expected = {"throttle_time_ms": value_at(OFFSET_COMMIT_RESPONSE, message, "ThrottleTimeMs", v, 0),
                        "partitions": [{"topic": t["Name"], "partition": p["PartitionIndex"],
                                        "error_code": p["ErrorCode"]} for t in topics for p in t["Partitions"]]}
            cases.append(response_case("offset_commit", v, variant,
                                       "OffsetCommit v%d, %s" % (v, {
                                           None: "2 topics: orders ok, payments OFFSET_METADATA_TOO_LARGE and "
                                                 "UNKNOWN_TOPIC_OR_PARTITION, a topic without partitions",
                                           "error": "UNKNOWN_MEMBER_ID (the group has members)",
                                           "unknown_tags": "as the first case, unknown tags at every level"}[variant]),
                                       OFFSET_COMMIT_RESPONSE, message, expected))
    return cases


def offset_fetch_response_cases():
    cases = []
    for v in APIS["offset_fetch"][1]:
        variants = [None]
        if v >= 2:
            variants.append("group_error")
        if v >= 6:
            variants.append("unknown_tags")
        if v >= 8:
            variants += ["other_groups", "absent"]
        for variant in variants:
            parts_orders = [
                {"PartitionIndex": 2, "CommittedOffset": 48213, "CommittedLeaderEpoch": 12,
                 "Metadata": "rest:instance-7", "ErrorCode": 0},
                {"PartitionIndex": 0, "CommittedOffset": -1, "CommittedLeaderEpoch": -1, "Metadata": None,
                 "ErrorCode": 0},  # nothing committed: offset -1, null metadata
                {"PartitionIndex": 1, "CommittedOffset": 1005, "CommittedLeaderEpoch": 11, "Metadata": "",
                 "ErrorCode": 0}]
            parts_payments = [
                {"PartitionIndex": 0, "CommittedOffset": -1, "CommittedLeaderEpoch": -1, "Metadata": "",
                 "ErrorCode": UNSTABLE_OFFSET_COMMIT if v >= 7 else UNKNOWN_TOPIC_OR_PARTITION}]
            topics = [{"Name": "orders", "Partitions": parts_orders},
                      {"Name": "payments.eu-west-1", "Partitions": parts_payments}]
            error = 0
            if variant == "group_error":
                topics, error = [], NOT_COORDINATOR
            if variant == "unknown_tags":
                topics[0][UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
                parts_orders[1][UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE, UNKNOWN_TAG_SMALL]
            ours = {"GroupId": GROUP, "Topics": topics, "ErrorCode": error}
            if variant == "unknown_tags":
                ours[UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
            others = [{"GroupId": "other-group", "Topics": [{"Name": "orders", "Partitions": [
                          {"PartitionIndex": 2, "CommittedOffset": 7, "CommittedLeaderEpoch": 1, "Metadata": None,
                           "ErrorCode": 0}]}], "ErrorCode": 0},
                      {"GroupId": GROUP + "-2", "Topics": [], "ErrorCode": GROUP_AUTHORIZATION_FAILED}]
            groups = {"other_groups": [others[0], ours, others[1]], "absent": others}.get(variant, [ours])
            message = {"ThrottleTimeMs": 6, "Topics": topics, "ErrorCode": error, "Groups": groups}
            if variant == "unknown_tags":
                message[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
            found = variant != "absent"
            expected = {"found": found}
            if found:
                expected.update({
                    "error_code": error if v >= 2 else 0,
                    "offsets": [{"topic": t["Name"], "partition": p["PartitionIndex"],
                                 "offset": p["CommittedOffset"],
                                 "leader_epoch": p["CommittedLeaderEpoch"] if v >= 5 else -1,
                                 "metadata": p["Metadata"], "error_code": p["ErrorCode"]}
                                for t in topics for p in t["Partitions"]]})
            cases.append(response_case("offset_fetch", v, variant,
                                       "OffsetFetch v%d for %r, %s" % (v, GROUP, {
                                           None: "orders p2 committed, p0 nothing (null metadata), p1 committed; "
                                                 "payments p0 a partition error",
                                           "group_error": "NOT_COORDINATOR, no topics",
                                           "unknown_tags": "as the first case, unknown tags at every level",
                                           "other_groups": "second of three groups",
                                           "absent": "two other groups, not the one asked"}[variant]),
                                       OFFSET_FETCH_RESPONSE, message, expected, query={"group": GROUP}))
    return cases


def all_cases():
    cases = (metadata_request_cases() + list_offsets_request_cases() + fetch_request_cases()
             + produce_request_cases() + metadata_response_cases() + list_offsets_response_cases()
             + fetch_response_cases() + produce_response_cases()
             + find_coordinator_request_cases() + offset_commit_request_cases() + offset_fetch_request_cases()
             + find_coordinator_response_cases() + offset_commit_response_cases() + offset_fetch_response_cases())
    names = [c.file_name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError("duplicate case files: %s" % duplicates)
    return sorted(cases, key=lambda c: c.file_name)


CASES = CaseSet(all_cases, DATA_CLIENT_DIR, "tests/golden/data_client/generate_data_client.py",
                "data-client vectors", "kedge-data-client-")

if __name__ == "__main__":
    sys.exit(CASES.main(sys.argv[1:], __doc__.split("\n\n")[0]))
