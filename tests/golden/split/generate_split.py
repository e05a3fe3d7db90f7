#!/usr/bin/python3
"""Golden vectors for kedge's split requests (kafka_codec/split.h: split_request, merge_split_response,
encode_split_refusal).

When a policy's ACLs allow only some topics of a Produce (v3-13), Fetch (v0-17), ShareFetch (v1-2), ShareAcknowledge
(v1-2) or DescribeProducers (v0) request, or (by topic name, share-spec section 5) of a ListOffsets (v0-10),
OffsetCommit (v0-9), OffsetForLeaderEpoch (v0-4), DeleteRecords (v0-2), TxnOffsetCommit (v0-4), CreateTopics (v2-7),
DeleteTopics (v1-6) or CreatePartitions (v0-3) request, kedge forwards the request without the refused topic
elements and answers those itself, inside the broker's response; when it allows none, kedge answers the whole request
itself. Produce v13,
Fetch v13+, ShareFetch and ShareAcknowledge name topics by TopicId only (KIP-516): kedge names an id through the
Metadata it has seen, and answers an id it cannot name with UNKNOWN_TOPIC_ID (100) instead of
TOPIC_AUTHORIZATION_FAILED (29). Each case here is one whole request frame a client sends (request_hex) naming several
topics (request_topics, in order: names, or for by-id versions (by_id) the ids as 32 lowercase hex digits), what the
policy refuses (refused_topics: error 29; unknown_topic_ids: ids it cannot name, error 100, by-id versions only; both
sorted, and the request need not name them all), and:
  * when the request is split (result "split"):
      forwarded_hex: the request the broker must receive (the refused topic elements left out, nothing else changed);
      refused: each refused topic's position in the client's request, its name or hex id, its error and its response
        entry (entry_hex, encoded in the request's version, see the rules below);
      broker_response_hex: a plausible broker answer to forwarded_hex;
      merged_hex: the response the client must receive;
  * when every topic is refused (result "none_allowed"): refused as above, and expected_refusal_hex, kedge's whole
    answer (the response to the request's correlation id naming only the refused entries, every other field at its
    default: ThrottleTimeMs 0; Fetch v7+ ErrorCode 0 and SessionId 0, no fetch session; ShareFetch and
    ShareAcknowledge ErrorCode 0, ErrorMessage null, AcquisitionLockTimeoutMs 0 (ShareFetch v1+, ShareAcknowledge
    v2+), NodeEndpoints []; the APIs split by name (no top-level ErrorCode) ThrottleTimeMs 0 where the version has it;
    no tagged field);
  * when kedge must not split the request (result "unreadable": a DeleteTopics v6 element naming its topic by TopicId
    only, its Name null (JSON null in request_topics), in a request split by name): nothing else; kedge decides the
    request whole (split_request leaves both its outputs empty).
topics_end is the offset in request_hex just past the topic array (the fields after it are forwarded as they are).
Every frame is encoded here from scratch, from logical messages, with the layouts of the Apache Kafka message specs
(clients/src/main/resources/common/message/{Produce,Fetch,ShareFetch,ShareAcknowledge,DescribeProducers,ListOffsets,
OffsetCommit,OffsetForLeaderEpoch,DeleteRecords,TxnOffsetCommit,CreateTopics,DeleteTopics,CreatePartitions}
{Request,Response}.json of Kafka 4.3, summarised next to each schema below): forwarded_hex is the logical request without the refused topics re-encoded, merged_hex the logical merge
re-encoded, expected_refusal_hex the logical refusal encoded, so every count, length and size prefix is computed
independently of kafka_codec/ (never patched). Only the primitive encoder (Struct / Field / ArrayOf / encode_struct,
record_batch) is shared with ../generate.py.

Refused entries (what a broker's authorizer answers for a topic it refuses, KafkaApis handleProduceRequest /
handleFetchRequest; the topic's Name, or its TopicId in by-id versions, then its partitions):
  Produce partition  Index, ErrorCode (29, or 100 for an unknown id), BaseOffset -1, LogAppendTimeMs -1,
                     LogStartOffset -1 (v5+), RecordErrors [] and ErrorMessage (v8+): message_prefix + the topic's
                     name or hex id for 29, unknown_topic_id_message_prefix + the hex id for 100; no tagged fields
  Fetch partition    PartitionIndex, ErrorCode (29 or 100), HighWatermark -1, LastStableOffset -1 (v4+),
                     LogStartOffset -1 (v5+), AbortedTransactions null (v4+), PreferredReadReplica -1 (v11+), Records
                     empty (length 0, not null), no tagged fields
  ShareFetch         PartitionIndex, ErrorCode (29 or 100), ErrorMessage (the message, as for Produce),
    partition        AcknowledgeErrorCode (the error if the request's partition carried at least one
                     AcknowledgementBatches entry, else 0), AcknowledgeErrorMessage (the message if it did, else null),
                     CurrentLeader { LeaderId -1, LeaderEpoch -1 }, Records empty (length 0, not null),
                     AcquiredRecords []
  ShareAcknowledge   PartitionIndex, ErrorCode (29 or 100), ErrorMessage, CurrentLeader { -1, -1 }
    partition
  DescribeProducers  PartitionIndex, ErrorCode 29, ErrorMessage, ActiveProducers [] (the topic by Name)
    partition
  each partition of the request's topic element, in request order; flexible versions end every struct with an empty
  tag buffer.
The APIs split by name refuse with 29 only; a refused entry is the topic's entry of a broker's authorizer answer
refusing that topic (kedge's whole refusal with refused = "topic"):
  ListOffsets        Name, Partitions: PartitionIndex, ErrorCode, OldStyleOffsets [] (v0) | Timestamp -1, Offset -1
                     (v1+), LeaderEpoch -1 (v4+)
  OffsetCommit,      Name, Partitions: PartitionIndex, ErrorCode
  TxnOffsetCommit
  OffsetForLeader-   Topic, Partitions: ErrorCode, Partition, LeaderEpoch -1 (v1+), EndOffset -1
  Epoch
  DeleteRecords      Name, Partitions: PartitionIndex, LowWatermark -1, ErrorCode
  CreateTopics       Name, TopicId zero (v7), ErrorCode, ErrorMessage, NumPartitions -1 and ReplicationFactor -1 (v5+),
                     Configs null (v5+), no TopicConfigErrorCode
  DeleteTopics       Name, TopicId as requested (v6), ErrorCode, ErrorMessage (v5+)
  CreatePartitions   Name, ErrorCode, ErrorMessage
  (the ErrorMessage: message_prefix + the topic's name).
Merge: the refused entries take their positions in the client's request; the broker's entries fill the other
positions in the order received; when the broker answers fewer topics than it was asked, the positions left empty are
dropped (the refused entries after them move up); entries beyond the request's count are appended. A Fetch (v7+, a
fetch session error), ShareFetch or ShareAcknowledge (a share session error) response with a non-zero top-level
ErrorCode is the merged response unchanged. Whatever follows the topic array of a response (a share API's
NodeEndpoints, its tags) is the broker's, and so is every byte of a broker entry (CreateTopics' tagged
TopicConfigErrorCode included).
result is "all_allowed" (nothing refused, or no topics) when nothing is refused; those cases hold no other frame.

Usage:
  /usr/bin/python3 tests/golden/split/generate_split.py            # (re)write every case file
  /usr/bin/python3 tests/golden/split/generate_split.py --check    # regenerate into a temp dir and diff
  /usr/bin/python3 tests/golden/split/generate_split.py --out DIR  # write into DIR instead
Standard library only.
"""

import copy
import hashlib
import json
import os
import struct
import sys
import zlib

SPLIT_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(SPLIT_DIR))

from generate import (  # noqa: E402  (tests/golden/generate.py: spec-driven primitive encoder, case-file CLI)
    UNKNOWN_TAGS, ArrayOf, CaseSet, EncodeContext, Field, Struct, Versions, enc_bytes, enc_int8, enc_int32, enc_int64,
    enc_string, enc_tag_buffer, encode_struct, record_batch)

CORRELATION_ID = 0x11223344
CLIENT_ID = "kedge-split-golden"
# The ErrorMessage of a refused Produce partition (v8+) is MESSAGE_PREFIX + the topic's name: the C++ test's verdict
# answers refusal_message(topic) with the same text.
MESSAGE_PREFIX = "Topic authorization failed: policy alpha does not allow this principal on topic "
# The ErrorMessage of a partition of an id the policy cannot name (UNKNOWN_TOPIC_ID, Produce v13) is this prefix + the
# id's 32 hex digits.
UNKNOWN_TOPIC_ID_MESSAGE_PREFIX = "This server does not host this topic ID. kedge has not seen topic id "

TOPIC_AUTHORIZATION_FAILED = 29
UNKNOWN_TOPIC_ID = 100
NOT_LEADER_OR_FOLLOWER = 6
INVALID_RECORD = 87
FETCH_SESSION_ID_NOT_FOUND = 70
INVALID_RECORD_STATE = 121
SHARE_SESSION_NOT_FOUND = 122
INVALID_SHARE_SESSION_EPOCH = 123

# 200 bytes: a compact string length (n + 1) needs a 2-byte unsigned varint (and so does the ErrorMessage naming it).
LONG_ALLOWED = ("orders.eu-west-1.retail.checkout.v2." + "a" * 200)[:200]
LONG_REFUSED = ("payments.eu-west-1.retail.ledger.v7." + "r" * 200)[:200]

# Raw unknown tags a client or broker newer than kedge may put in any tag buffer: kedge must carry them through.
UNKNOWN_TAG_SMALL = (3, bytes.fromhex("0b6b656467652d74657374"))  # compact string "kedge-test"
UNKNOWN_TAG_WIDE = (130, bytes(range(200)))                       # tag and size both need a 2-byte varint
UNKNOWN_TAG_EMPTY = (7, b"")
UNKNOWN_TAG_TOP = (42, bytes.fromhex("deadbeef"))

BROKER_2 = {"NodeId": 2, "Host": "kafka-2.internal.corp", "Port": 9092, "Rack": "use1-az3"}
BROKER_1 = {"NodeId": 1, "Host": "10.0.0.6", "Port": 9093, "Rack": None}

# Produce v13 and Fetch v13+ name topics by TopicId only (KIP-516).
BY_ID_FROM = 13
# A follower's ReplicaState (FetchRequest v15+ tag 1) and directory id (v17+ partition tag 0): brokers send them, a
# client newer than kedge might; kedge forwards them as they are.
REPLICA_STATE = {"ReplicaId": 3, "ReplicaEpoch": 42}
REPLICA_DIRECTORY_ID = "7b1f3c5e9a2d4f6081a3c5e7092b4d6f"


def topic_id(name):
    """The 16-byte TopicId (as 32 hex digits) the cluster gave topic `name`: the first 16 bytes of a SHA-256 of the
    name, so every case names a topic by the same id (never the all-zero id, which names no topic)."""
    digest = hashlib.sha256(("kedge-split-golden topic " + name).encode("utf-8")).hexdigest()[:32]
    assert digest != "0" * 32
    return digest

# ---------------------------------------------------------------------------------------------------------------------
# Schemas (Apache Kafka clients/src/main/resources/common/message/*.json). Fields absent at a version are skipped.
# ---------------------------------------------------------------------------------------------------------------------

LEADER_ID_AND_EPOCH = Struct("LeaderIdAndEpoch", [Field("LeaderId", "int32"), Field("LeaderEpoch", "int32")])
NODE_ENDPOINT = Struct("NodeEndpoint", [
    Field("NodeId", "int32"), Field("Host", "string"), Field("Port", "int32"), Field("Rack", "string", nullable="0+")])

# ProduceRequest.json: validVersions 3-13 in Kafka 4.x (0-2 removed, KIP-896), flexibleVersions 9+; v12 has v11's
# layout (KIP-890); TopicData[].Name 0-12, TopicId 13+ (v13's only change, KIP-516).
PRODUCE_REQUEST = Struct("ProduceRequest", [
    Field("TransactionalId", "string", "3+", nullable="3+"),
    Field("Acks", "int16"), Field("TimeoutMs", "int32"),
    Field("TopicData", ArrayOf(Struct("TopicProduceData", [
        Field("Name", "string", "0-12"), Field("TopicId", "uuid", "13+"),
        Field("PartitionData", ArrayOf(Struct("PartitionProduceData", [
            Field("Index", "int32"), Field("Records", "records", nullable="0+")]))),
    ]))),
])
# ProduceResponse.json: LogAppendTimeMs 2+, LogStartOffset 5+, RecordErrors/ErrorMessage 8+, CurrentLeader tag 0 of a
# partition (10+), ThrottleTimeMs 1+ after Responses, NodeEndpoints tag 0 at the top level (10+, KIP-951); Name 0-12,
# TopicId 13+.
PRODUCE_TOPIC_RESPONSE = Struct("TopicProduceResponse", [
    Field("Name", "string", "0-12"), Field("TopicId", "uuid", "13+"),
    Field("PartitionResponses", ArrayOf(Struct("PartitionProduceResponse", [
        Field("Index", "int32"), Field("ErrorCode", "int16"), Field("BaseOffset", "int64"),
        Field("LogAppendTimeMs", "int64", "2+"), Field("LogStartOffset", "int64", "5+"),
        Field("RecordErrors", ArrayOf(Struct("BatchIndexAndErrorMessage", [
            Field("BatchIndex", "int32"), Field("BatchIndexErrorMessage", "string", nullable="8+")])), "8+"),
        Field("ErrorMessage", "string", "8+", nullable="8+"),
        Field("CurrentLeader", LEADER_ID_AND_EPOCH, "10+", tag=0),
    ]))),
])
PRODUCE_RESPONSE = Struct("ProduceResponse", [
    Field("Responses", ArrayOf(PRODUCE_TOPIC_RESPONSE)),
    Field("ThrottleTimeMs", "int32", "1+"),
    Field("NodeEndpoints", ArrayOf(NODE_ENDPOINT), "10+", tag=0),
])

# FetchRequest.json: validVersions 4-17 in Kafka 4.0 (0-3 removed, KIP-896; kedge still splits them), flexible 12+.
# ClusterId tag 0 (12+, nullable); ReplicaId 0-14, then the ReplicaState tag 1 (15+: ReplicaId, ReplicaEpoch); MaxBytes
# 3+; IsolationLevel 4+; SessionId/SessionEpoch 7+; Topics[].Topic 0-12, TopicId 13+; CurrentLeaderEpoch 9+,
# LastFetchedEpoch 12+, LogStartOffset 5+, ReplicaDirectoryId tag 0 of a partition (17+); ForgottenTopicsData 7+
# (Topic 7-12, TopicId 13+); RackId 11+.
FETCH_REQUEST = Struct("FetchRequest", [
    Field("ClusterId", "string", "12+", nullable="12+", tag=0),
    Field("ReplicaId", "int32", "0-14"),
    Field("ReplicaState", Struct("ReplicaState", [Field("ReplicaId", "int32"), Field("ReplicaEpoch", "int64")]),
          "15+", tag=1),
    Field("MaxWaitMs", "int32"), Field("MinBytes", "int32"), Field("MaxBytes", "int32", "3+"),
    Field("IsolationLevel", "int8", "4+"), Field("SessionId", "int32", "7+"), Field("SessionEpoch", "int32", "7+"),
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
# FetchResponse.json: ThrottleTimeMs 1+; ErrorCode, SessionId 7+; Responses[].Topic 0-12, TopicId 13+; per partition
# LastStableOffset 4+, LogStartOffset 5+, AbortedTransactions 4+ (nullable), PreferredReadReplica 11+, Records
# (nullable), tags DivergingEpoch 0, CurrentLeader 1, SnapshotId 2 (12+); NodeEndpoints tag 0 at the top level (16+,
# KIP-951).
FETCH_TOPIC_RESPONSE = Struct("FetchableTopicResponse", [
    Field("Topic", "string", "0-12"), Field("TopicId", "uuid", "13+"),
    Field("Partitions", ArrayOf(Struct("PartitionData", [
        Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"), Field("HighWatermark", "int64"),
        Field("LastStableOffset", "int64", "4+"), Field("LogStartOffset", "int64", "5+"),
        Field("AbortedTransactions", ArrayOf(Struct("AbortedTransaction", [
            Field("ProducerId", "int64"), Field("FirstOffset", "int64")])), "4+", nullable="4+"),
        Field("PreferredReadReplica", "int32", "11+"),
        Field("Records", "records", nullable="0+"),
        Field("DivergingEpoch", Struct("EpochEndOffset", [
            Field("Epoch", "int32"), Field("EndOffset", "int64")]), "12+", tag=0),
        Field("CurrentLeader", LEADER_ID_AND_EPOCH, "12+", tag=1),
        Field("SnapshotId", Struct("SnapshotId", [Field("EndOffset", "int64"), Field("Epoch", "int32")]), "12+",
              tag=2),
    ]))),
])
FETCH_RESPONSE = Struct("FetchResponse", [
    Field("ThrottleTimeMs", "int32", "1+"), Field("ErrorCode", "int16", "7+"), Field("SessionId", "int32", "7+"),
    Field("Responses", ArrayOf(FETCH_TOPIC_RESPONSE)),
    Field("NodeEndpoints", ArrayOf(NODE_ENDPOINT), "16+", tag=0),
])


# ---------------------------------------------------------------------------------------------------------------------
# Share groups (KIP-932) and DescribeProducers (Kafka 4.3 message specs). Every version is flexible (flexibleVersions
# "0+": compact strings and arrays, a tag buffer ending every struct, request header v2, response header v1). ShareFetch
# and ShareAcknowledge name topics by TopicId only; kedge splits their versions 1-2 (v0, KIP-932 early access, was
# removed in Kafka 4.1). DescribeProducers v0 names topics by Name. The "Name" field of the share topic structs below
# exists in no version (Versions "none": never encoded): it lets a logical topic element carry the name the case
# identifies it by, as Produce v13 and Fetch v13+ elements carry the Name/Topic field of their older versions.
# ---------------------------------------------------------------------------------------------------------------------

SHARE_TOPIC_NAME = Field("Name", "string", "none")
# AcknowledgementBatch of ShareFetchRequest.json and ShareAcknowledgeRequest.json: AcknowledgeTypes 0 Gap, 1 Accept,
# 2 Release, 3 Reject, 4 Renew (v2+, KIP-1222): one type for the whole batch, or one per offset.
ACKNOWLEDGEMENT_BATCH = Struct("AcknowledgementBatch", [
    Field("FirstOffset", "int64"), Field("LastOffset", "int64"), Field("AcknowledgeTypes", ArrayOf("int8"))])
# ShareFetchRequest.json (apiKey 78): GroupId and MemberId nullable; MaxRecords, BatchSize 1+; ShareAcquireMode 2+
# (KIP-1206); Topics[ TopicId, Partitions[ PartitionIndex, PartitionMaxBytes (v0 only), AcknowledgementBatches ] ];
# ForgottenTopicsData[ TopicId, Partitions []int32 ] after the topics.
SHARE_FETCH_REQUEST = Struct("ShareFetchRequest", [
    Field("GroupId", "string", nullable="0+"), Field("MemberId", "string", nullable="0+"),
    Field("ShareSessionEpoch", "int32"), Field("MaxWaitMs", "int32"), Field("MinBytes", "int32"),
    Field("MaxBytes", "int32"), Field("MaxRecords", "int32", "1+"), Field("BatchSize", "int32", "1+"),
    Field("ShareAcquireMode", "int8", "2+"),
    Field("Topics", ArrayOf(Struct("FetchTopic", [
        SHARE_TOPIC_NAME, Field("TopicId", "uuid"),
        Field("Partitions", ArrayOf(Struct("FetchPartition", [
            Field("PartitionIndex", "int32"), Field("PartitionMaxBytes", "int32", "0"),
            Field("AcknowledgementBatches", ArrayOf(ACKNOWLEDGEMENT_BATCH))]))),
    ]))),
    Field("ForgottenTopicsData", ArrayOf(Struct("ForgottenTopic", [
        SHARE_TOPIC_NAME, Field("TopicId", "uuid"), Field("Partitions", ArrayOf("int32"))]))),
])
# ShareFetchResponse.json: AcquisitionLockTimeoutMs 1+; per partition ErrorCode/ErrorMessage (the fetch) and
# AcknowledgeErrorCode/AcknowledgeErrorMessage (the acknowledgements the request carried), CurrentLeader (a struct,
# not a tag), Records (nullable in v0 only), AcquiredRecords; NodeEndpoints (a regular field, after Responses).
SHARE_FETCH_TOPIC_RESPONSE = Struct("ShareFetchableTopicResponse", [
    SHARE_TOPIC_NAME, Field("TopicId", "uuid"),
    Field("Partitions", ArrayOf(Struct("PartitionData", [
        Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
        Field("AcknowledgeErrorCode", "int16"), Field("AcknowledgeErrorMessage", "string", nullable="0+"),
        Field("CurrentLeader", LEADER_ID_AND_EPOCH),
        Field("Records", "records", nullable="0"),
        Field("AcquiredRecords", ArrayOf(Struct("AcquiredRecords", [
            Field("FirstOffset", "int64"), Field("LastOffset", "int64"), Field("DeliveryCount", "int16")]))),
    ]))),
])
SHARE_FETCH_RESPONSE = Struct("ShareFetchResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    Field("AcquisitionLockTimeoutMs", "int32", "1+"),
    Field("Responses", ArrayOf(SHARE_FETCH_TOPIC_RESPONSE)),
    Field("NodeEndpoints", ArrayOf(NODE_ENDPOINT)),
])
# ShareAcknowledgeRequest.json (apiKey 79): IsRenewAck 2+ (KIP-1222); Topics[ TopicId, Partitions[ PartitionIndex,
# AcknowledgementBatches ] ]; nothing after the topics but the tag buffer.
SHARE_ACKNOWLEDGE_REQUEST = Struct("ShareAcknowledgeRequest", [
    Field("GroupId", "string", nullable="0+"), Field("MemberId", "string", nullable="0+"),
    Field("ShareSessionEpoch", "int32"), Field("IsRenewAck", "bool", "2+"),
    Field("Topics", ArrayOf(Struct("AcknowledgeTopic", [
        SHARE_TOPIC_NAME, Field("TopicId", "uuid"),
        Field("Partitions", ArrayOf(Struct("AcknowledgePartition", [
            Field("PartitionIndex", "int32"), Field("AcknowledgementBatches", ArrayOf(ACKNOWLEDGEMENT_BATCH))]))),
    ]))),
])
# ShareAcknowledgeResponse.json: AcquisitionLockTimeoutMs 2+ only; per partition ErrorCode, ErrorMessage,
# CurrentLeader; NodeEndpoints after Responses.
SHARE_ACKNOWLEDGE_TOPIC_RESPONSE = Struct("ShareAcknowledgeTopicResponse", [
    SHARE_TOPIC_NAME, Field("TopicId", "uuid"),
    Field("Partitions", ArrayOf(Struct("PartitionData", [
        Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
        Field("CurrentLeader", LEADER_ID_AND_EPOCH)]))),
])
SHARE_ACKNOWLEDGE_RESPONSE = Struct("ShareAcknowledgeResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    Field("AcquisitionLockTimeoutMs", "int32", "2+"),
    Field("Responses", ArrayOf(SHARE_ACKNOWLEDGE_TOPIC_RESPONSE)),
    Field("NodeEndpoints", ArrayOf(NODE_ENDPOINT)),
])
# DescribeProducersRequest.json (apiKey 61, v0 only): Topics[ Name, PartitionIndexes []int32 ].
DESCRIBE_PRODUCERS_REQUEST = Struct("DescribeProducersRequest", [
    Field("Topics", ArrayOf(Struct("TopicRequest", [Field("Name", "string"), Field("PartitionIndexes",
                                                                                     ArrayOf("int32"))]))),
])
# DescribeProducersResponse.json: ThrottleTimeMs, Topics[ Name, Partitions[ PartitionIndex, ErrorCode, ErrorMessage
# (nullable), ActiveProducers[ ProducerId, ProducerEpoch int32, LastSequence, LastTimestamp, CoordinatorEpoch,
# CurrentTxnStartOffset ] ] ]; no top-level ErrorCode.
DESCRIBE_PRODUCERS_TOPIC_RESPONSE = Struct("TopicResponse", [
    Field("Name", "string"),
    Field("Partitions", ArrayOf(Struct("PartitionResponse", [
        Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
        Field("ActiveProducers", ArrayOf(Struct("ProducerState", [
            Field("ProducerId", "int64"), Field("ProducerEpoch", "int32"), Field("LastSequence", "int32"),
            Field("LastTimestamp", "int64"), Field("CoordinatorEpoch", "int32"),
            Field("CurrentTxnStartOffset", "int64")]))),
    ]))),
])
DESCRIBE_PRODUCERS_RESPONSE = Struct("DescribeProducersResponse", [
    Field("ThrottleTimeMs", "int32"), Field("Topics", ArrayOf(DESCRIBE_PRODUCERS_TOPIC_RESPONSE)),
])


class Api:
    def __init__(self, key, name, file_name, versions, flexible, request, response, topic_response, names,
                 by_id_from=BY_ID_FROM, responses="Responses"):
        self.key = key
        self.name = name
        self.file_name = file_name  # <file_name>.v<N>.<variant>.json
        self.versions = versions    # (lo, hi) split by kedge
        self.flexible = Versions(flexible)
        self.request = request
        self.response = response
        self.topic_response = topic_response
        # Field names: request topic array, its name, its partition array, the partition index; the same in the
        # response topic entry. Logical topic elements and entries carry both the name and the TopicId field
        # (the encoder writes the one the version has): cases identify topics by name.
        # index None: the request's partition array holds the indexes themselves (DescribeProducers PartitionIndexes).
        (self.topics, self.topic, self.partitions, self.index,
         self.response_topic, self.response_partitions, self.response_index) = names
        self.by_id_from = by_id_from  # first version naming topics by TopicId only; None: never
        self.responses = responses    # the response's topic array

    def by_id(self, version):
        """Produce v13, Fetch v13+, ShareFetch and ShareAcknowledge name topics by TopicId only."""
        return self.by_id_from is not None and version >= self.by_id_from

    def topics_field(self, version):
        """The request's topic array at `version`."""
        return self.topics

    def topic_name(self, topic_element):
        """The name a logical request topic element carries (None: a DeleteTopics v6 element by id)."""
        return topic_element[self.topic]

    def partition_indexes(self, topic_element):
        """The partition indexes of a request topic element, in request order ([] for the APIs whose topic elements
        have no partitions: CreateTopics, DeleteTopics, CreatePartitions)."""
        if self.partitions is None:
            return []
        parts = topic_element[self.partitions]
        return list(parts) if self.index is None else [p[self.index] for p in parts]


PRODUCE = Api(0, "Produce", "produce", (3, 13), "9+", PRODUCE_REQUEST, PRODUCE_RESPONSE, PRODUCE_TOPIC_RESPONSE,
              ("TopicData", "Name", "PartitionData", "Index", "Name", "PartitionResponses", "Index"))
FETCH = Api(1, "Fetch", "fetch", (0, 17), "12+", FETCH_REQUEST, FETCH_RESPONSE, FETCH_TOPIC_RESPONSE,
            ("Topics", "Topic", "Partitions", "Partition", "Topic", "Partitions", "PartitionIndex"))
SHARE_FETCH = Api(78, "ShareFetch", "share_fetch", (1, 2), "0+", SHARE_FETCH_REQUEST, SHARE_FETCH_RESPONSE,
                  SHARE_FETCH_TOPIC_RESPONSE,
                  ("Topics", "Name", "Partitions", "PartitionIndex", "Name", "Partitions", "PartitionIndex"),
                  by_id_from=0)
SHARE_ACKNOWLEDGE = Api(79, "ShareAcknowledge", "share_acknowledge", (1, 2), "0+", SHARE_ACKNOWLEDGE_REQUEST,
                        SHARE_ACKNOWLEDGE_RESPONSE, SHARE_ACKNOWLEDGE_TOPIC_RESPONSE,
                        ("Topics", "Name", "Partitions", "PartitionIndex", "Name", "Partitions", "PartitionIndex"),
                        by_id_from=0)
DESCRIBE_PRODUCERS = Api(61, "DescribeProducers", "describe_producers", (0, 0), "0+", DESCRIBE_PRODUCERS_REQUEST,
                         DESCRIBE_PRODUCERS_RESPONSE, DESCRIBE_PRODUCERS_TOPIC_RESPONSE,
                         ("Topics", "Name", "PartitionIndexes", None, "Name", "Partitions", "PartitionIndex"),
                         by_id_from=None, responses="Topics")
SHARE_APIS = [SHARE_FETCH, SHARE_ACKNOWLEDGE]
APIS = [PRODUCE, FETCH, SHARE_FETCH, SHARE_ACKNOWLEDGE, DESCRIBE_PRODUCERS]


def label(api, version, name):
    """How a case file and the verdict name topic `name`: its name, or its id's 32 hex digits in by-id versions."""
    return topic_id(name) if api.by_id(version) else name


def message_for(topic_label, error):
    """The ErrorMessage (Produce v8+) of a refused topic's partitions: the C++ test's verdict answers
    refusal_message(topic, by_id, error) with the same text."""
    if error == UNKNOWN_TOPIC_ID:
        return UNKNOWN_TOPIC_ID_MESSAGE_PREFIX + topic_label
    assert error == TOPIC_AUTHORIZATION_FAILED
    return MESSAGE_PREFIX + topic_label


def refused_partition(api, index, message, error, acknowledged=False):
    """acknowledged (ShareFetch): the request's partition carried at least one AcknowledgementBatches entry."""
    if api is PRODUCE:
        return {"Index": index, "ErrorCode": error, "BaseOffset": -1, "LogAppendTimeMs": -1,
                "LogStartOffset": -1, "RecordErrors": [], "ErrorMessage": message}
    if api is SHARE_FETCH:
        return {"PartitionIndex": index, "ErrorCode": error, "ErrorMessage": message,
                "AcknowledgeErrorCode": error if acknowledged else 0,
                "AcknowledgeErrorMessage": message if acknowledged else None,
                "CurrentLeader": {"LeaderId": -1, "LeaderEpoch": -1}, "Records": b"", "AcquiredRecords": []}
    if api is SHARE_ACKNOWLEDGE:
        return {"PartitionIndex": index, "ErrorCode": error, "ErrorMessage": message,
                "CurrentLeader": {"LeaderId": -1, "LeaderEpoch": -1}}
    if api is DESCRIBE_PRODUCERS:
        return {"PartitionIndex": index, "ErrorCode": error, "ErrorMessage": message, "ActiveProducers": []}
    return {"PartitionIndex": index, "ErrorCode": error, "HighWatermark": -1,
            "LastStableOffset": -1, "LogStartOffset": -1, "AbortedTransactions": None, "PreferredReadReplica": -1,
            "Records": b""}


def refused_entry(api, version, topic_element, error):
    """The response entry of a refused topic element: its name and id (the version's field is written), every
    partition with `error`."""
    name = api.topic_name(topic_element)
    message = message_for(label(api, version, name), error)
    if isinstance(api, NamedApi):
        return api.refused_entry(version, topic_element, error, message)
    if api is DESCRIBE_PRODUCERS:  # names topics, has no TopicId
        return {"Name": name, "Partitions": [refused_partition(api, index, message, error)
                                             for index in api.partition_indexes(topic_element)]}
    if api in SHARE_APIS:
        return {"Name": name, "TopicId": topic_element["TopicId"], "Partitions": [
            refused_partition(api, p["PartitionIndex"], message, error, len(p["AcknowledgementBatches"]) > 0)
            for p in topic_element["Partitions"]]}
    return {api.response_topic: name, "TopicId": topic_element["TopicId"], api.response_partitions: [
        refused_partition(api, p[api.index], message, error) for p in topic_element[api.partitions]]}


def merge(broker_entries, refused, request_count):
    """refused: [(position, entry)]. Refused entries take their request positions, the broker's entries fill the
    others in order; positions the broker left empty are dropped, broker entries beyond them appended."""
    slots = [None] * request_count
    for position, entry in refused:
        slots[position] = ("refused", entry)
    broker = list(broker_entries)
    for i in range(request_count):
        if slots[i] is None and broker:
            slots[i] = ("broker", broker.pop(0))
    return [s[1] for s in slots if s is not None] + broker


# ---------------------------------------------------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------------------------------------------------


def request_frame(api, version, body, header_tags=()):
    """Request header v1 (api_key, api_version, correlation_id, int16 client_id), v2 adds a tag buffer in flexible
    versions (RequestHeader.json: ClientId keeps "flexibleVersions": "none"), then the body."""
    flexible = version in api.flexible
    header = struct.pack(">hhi", api.key, version, CORRELATION_ID) + enc_string(CLIENT_ID, False)
    if flexible:
        header += enc_tag_buffer(list(header_tags))
    elif header_tags:
        raise ValueError("header tags in a non-flexible version")
    payload = header + encode_struct(api.request, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


def response_frame(api, version, body, header_tags=()):
    """Response header v0 (correlation id), v1 adds a tag buffer in flexible versions (ResponseHeader.json)."""
    flexible = version in api.flexible
    header = enc_int32(CORRELATION_ID)
    if flexible:
        header += enc_tag_buffer(list(header_tags))
    elif header_tags:
        raise ValueError("header tags in a non-flexible version")
    payload = header + encode_struct(api.response, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


# ---------------------------------------------------------------------------------------------------------------------
# Record data
# ---------------------------------------------------------------------------------------------------------------------


def produce_batch(base_timestamp, small=False):
    """A record batch v2 (Produce v3+ requires magic 2)."""
    if small:
        return record_batch(0, base_timestamp, [(0, None, b"x", [])])
    return record_batch(0, base_timestamp, [
        (0, b"order-1001", b'{"id":1001,"amount":25.5}', [("trace-id", b"4bf92f3577b34da6")]),
        (4, b"order-1002", b'{"id":1002,"amount":7}', []),
    ])


def legacy_message_set(base_offset, magic, timestamp, records):
    """A message set of magic 0 or 1 messages, uncompressed (the records a broker sends a Fetch v0-3 consumer): offset
    int64, size int32, then CRC-32 (IEEE) over magic..value, magic, attributes, timestamp (magic 1), key, value."""
    out = bytearray()
    for i, (key, value) in enumerate(records):
        body = enc_int8(magic) + enc_int8(0) + (enc_int64(timestamp + i) if magic == 1 else b"")
        body += enc_bytes(key, False) + enc_bytes(value, False)
        message = struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF) + body
        out += enc_int64(base_offset + i) + enc_int32(len(message)) + message
    return bytes(out)


def fetch_records(version, base_offset, base_timestamp):
    """What a broker returns at base_offset: a record batch v2 from Fetch v4, messages of magic 1 for v2-3, of magic 0
    for v0-1 (the format each version's consumer reads)."""
    if version >= 4:
        return record_batch(base_offset, base_timestamp, [
            (0, b"order-1001", b'{"id":1001,"amount":25.5}', [("trace-id", b"4bf92f3577b34da6")]),
            (3, b"order-1002", b'{"id":1002,"amount":7}', []),
            (5, None, b"tombstone-less value", [("origin", None)]),
        ], partition_leader_epoch=12)
    return legacy_message_set(base_offset, 1 if version >= 2 else 0, base_timestamp,
                              [(b"order-1001", b'{"id":1001}'), (None, b"no key")])


# ---------------------------------------------------------------------------------------------------------------------
# Logical requests
# ---------------------------------------------------------------------------------------------------------------------


def with_tags(value, tags):
    out = dict(value)
    out[UNKNOWN_TAGS] = list(tags)
    return out


def produce_request(version, topics, tags=False, transactional_id=None, small=False):
    """topics: [(name, [partition index])]."""
    data = []
    for ti, (name, partitions) in enumerate(topics):
        parts = []
        for index in partitions:
            p = {"Index": index, "Records": produce_batch(1767225600000 + 1000 * ti + index, small)}
            parts.append(with_tags(p, [UNKNOWN_TAG_WIDE]) if tags else p)
        t = {"Name": name, "TopicId": topic_id(name), "PartitionData": parts}
        data.append(with_tags(t, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_EMPTY]) if tags else t)
    body = {"TransactionalId": transactional_id, "Acks": -1, "TimeoutMs": 30000, "TopicData": data}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def fetch_request(version, topics, tags=False):
    """topics: [(name, [partition index])]. From v7 an incremental fetch of session 0x1A2B3C4D (epoch 7) that forgets
    partitions of a refused and an allowed topic (ForgottenTopicsData, by TopicId from v13, forwarded as it is); from
    v11 a rack. With tags, besides the unknown tags: the ClusterId tag (v12+), a follower's ReplicaState tag (v15+) and
    ReplicaDirectoryId partition tag (v17+)."""
    out = []
    for name, partitions in topics:
        parts = []
        for index in partitions:
            p = {"Partition": index, "CurrentLeaderEpoch": 12, "FetchOffset": 1000 + 10 * index, "LastFetchedEpoch": 11,
                 "LogStartOffset": -1, "PartitionMaxBytes": 1048576}
            if tags:
                p = with_tags(p, [UNKNOWN_TAG_WIDE])
                if version >= 17:
                    p["ReplicaDirectoryId"] = REPLICA_DIRECTORY_ID
            parts.append(p)
        t = {"Topic": name, "TopicId": topic_id(name), "Partitions": parts}
        out.append(with_tags(t, [UNKNOWN_TAG_SMALL]) if tags else t)
    forgotten = [{"Topic": "audit", "TopicId": topic_id("audit"), "Partitions": [3]},
                 {"Topic": "orders", "TopicId": topic_id("orders"), "Partitions": [5, 6]}]
    if tags:
        forgotten = [with_tags(f, [UNKNOWN_TAG_EMPTY]) for f in forgotten]
    body = {"ClusterId": "q1Sh-9_ISia_zwGINzRvyQ" if tags else None, "ReplicaId": -1,
            "ReplicaState": dict(REPLICA_STATE) if tags else None, "MaxWaitMs": 500,
            "MinBytes": 1, "MaxBytes": 52428800, "IsolationLevel": 1, "SessionId": 0x1A2B3C4D, "SessionEpoch": 7,
            "Topics": out, "ForgottenTopicsData": forgotten, "RackId": "use1-az1"}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


SHARE_GROUP = "share-analytics"
SHARE_MEMBER = "Jd4w0c2vTUy8fV7k3HqB9A"  # a share consumer's member id (a UUID it made itself, base64)


def acknowledgement_batches(index, topic_position, partition_position):
    """The AcknowledgementBatches of a share request partition: the records acquired by the previous fetch,
    accepted as a whole batch, then per offset (accept, gap, reject, release)."""
    first = 2000 + 100 * index
    batches = [{"FirstOffset": first, "LastOffset": first + 2, "AcknowledgeTypes": [1]}]
    if (topic_position + partition_position) % 3 != 2:
        batches.append({"FirstOffset": first + 3, "LastOffset": first + 6, "AcknowledgeTypes": [1, 0, 3, 2]})
    return batches


def share_fetch_request(version, topics, tags=False, group=SHARE_GROUP):
    """topics: [(name, [partition index])], by TopicId. A share session past its first request (epoch 5): the
    partitions at even (topic position + partition position) acknowledge what the previous fetch acquired
    (AcknowledgementBatches), the others carry none; ForgottenTopicsData forgets partitions of audit and orders (a
    refused topic in most cases; forwarded as it is). v2: ShareAcquireMode 0 (batch-optimized; 1, record-limit, with
    tags). With tags, unknown tags in the body, topics, partitions, acknowledgement batches and forgotten topics."""
    out = []
    for ti, (name, partitions) in enumerate(topics):
        parts = []
        for pi, index in enumerate(partitions):
            batches = acknowledgement_batches(index, ti, pi) if (ti + pi) % 2 == 0 else []
            if tags:
                batches = [with_tags(b, [UNKNOWN_TAG_SMALL]) for b in batches]
            p = {"PartitionIndex": index, "AcknowledgementBatches": batches}
            parts.append(with_tags(p, [UNKNOWN_TAG_WIDE]) if tags else p)
        t = {"Name": name, "TopicId": topic_id(name), "Partitions": parts}
        out.append(with_tags(t, [UNKNOWN_TAG_SMALL]) if tags else t)
    forgotten = [{"Name": "audit", "TopicId": topic_id("audit"), "Partitions": [4]},
                 {"Name": "orders", "TopicId": topic_id("orders"), "Partitions": [5, 6]}]
    if tags:
        forgotten = [with_tags(f, [UNKNOWN_TAG_EMPTY]) for f in forgotten]
    body = {"GroupId": group, "MemberId": SHARE_MEMBER, "ShareSessionEpoch": 5, "MaxWaitMs": 500, "MinBytes": 1,
            "MaxBytes": 52428800, "MaxRecords": 500, "BatchSize": 500, "ShareAcquireMode": 1 if tags else 0,
            "Topics": out, "ForgottenTopicsData": forgotten}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def share_acknowledge_request(version, topics, tags=False, group=SHARE_GROUP):
    """topics: [(name, [partition index])], by TopicId. Every partition acknowledges one or two batches (a
    ShareAcknowledge exists to acknowledge), in share session epoch 6. v2: IsRenewAck false (true, with Renew
    acknowledgements, with tags). With tags, unknown tags in the body, topics, partitions and batches."""
    out = []
    for ti, (name, partitions) in enumerate(topics):
        parts = []
        for pi, index in enumerate(partitions):
            batches = acknowledgement_batches(index, ti, pi)
            if tags:
                batches = [with_tags(dict(b, AcknowledgeTypes=[4] * len(b["AcknowledgeTypes"])), [UNKNOWN_TAG_SMALL])
                           for b in batches]
            p = {"PartitionIndex": index, "AcknowledgementBatches": batches}
            parts.append(with_tags(p, [UNKNOWN_TAG_WIDE]) if tags else p)
        t = {"Name": name, "TopicId": topic_id(name), "Partitions": parts}
        out.append(with_tags(t, [UNKNOWN_TAG_SMALL]) if tags else t)
    body = {"GroupId": group, "MemberId": SHARE_MEMBER, "ShareSessionEpoch": 6, "IsRenewAck": bool(tags),
            "Topics": out}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def describe_producers_request(version, topics, tags=False):
    """topics: [(name, [partition index])] (what kafka-transactions.sh describe-producers asks). With tags, unknown
    tags in the body and topics (the partitions are plain int32s)."""
    out = []
    for name, partitions in topics:
        t = {"Name": name, "PartitionIndexes": list(partitions)}
        out.append(with_tags(t, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_EMPTY]) if tags else t)
    body = {"Topics": out}
    return with_tags(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]) if tags else body


def make_request(api, version, topics, tags=False, transactional_id=None, small=False, group=SHARE_GROUP):
    if isinstance(api, NamedApi):
        return api.make_request(version, topics, tags)
    if api is PRODUCE:
        return produce_request(version, topics, tags, transactional_id, small)
    if api is SHARE_FETCH:
        return share_fetch_request(version, topics, tags, group)
    if api is SHARE_ACKNOWLEDGE:
        return share_acknowledge_request(version, topics, tags, group)
    if api is DESCRIBE_PRODUCERS:
        return describe_producers_request(version, topics, tags)
    return fetch_request(version, topics, tags)


# ---------------------------------------------------------------------------------------------------------------------
# Broker responses to the forwarded request
# ---------------------------------------------------------------------------------------------------------------------


def produce_response(version, forwarded, tags=False):
    """Offsets for every partition asked; from v8 the last partition of the last topic rejects a record
    (INVALID_RECORD with RecordErrors and an ErrorMessage); from v10 the second partition of the first topic is
    NOT_LEADER_OR_FOLLOWER with a CurrentLeader tag, and the top-level NodeEndpoints tag names that leader."""
    responses = []
    topics = forwarded["TopicData"]
    moved = False
    for ti, t in enumerate(topics):
        parts = []
        for pi, p in enumerate(t["PartitionData"]):
            index = p["Index"]
            part = {"Index": index, "ErrorCode": 0, "BaseOffset": 48213 + 1000 * ti + 100 * index,
                    "LogAppendTimeMs": -1, "LogStartOffset": 1200 * index, "RecordErrors": [], "ErrorMessage": None}
            if version >= 8 and ti == len(topics) - 1 and pi == len(t["PartitionData"]) - 1:
                part.update(ErrorCode=INVALID_RECORD, BaseOffset=-1, LogStartOffset=-1,
                            RecordErrors=[{"BatchIndex": 1, "BatchIndexErrorMessage": "Compacted topic cannot accept "
                                           "null key"}, {"BatchIndex": 4, "BatchIndexErrorMessage": None}],
                            ErrorMessage="One or more records have been rejected")
            elif version >= 10 and ti == 0 and pi == 1:
                part.update(ErrorCode=NOT_LEADER_OR_FOLLOWER, BaseOffset=-1, LogStartOffset=-1,
                            ErrorMessage="This server is not the leader for that topic-partition.",
                            CurrentLeader={"LeaderId": 2, "LeaderEpoch": 16})
                moved = True
            if tags and pi == 0:
                part = with_tags(part, [UNKNOWN_TAG_WIDE])
            parts.append(part)
        entry = {"Name": t["Name"], "TopicId": t["TopicId"], "PartitionResponses": parts}
        responses.append(with_tags(entry, [UNKNOWN_TAG_SMALL]) if tags else entry)
    body = {"Responses": responses, "ThrottleTimeMs": 0}
    if moved:
        body["NodeEndpoints"] = [dict(BROKER_2)]
    return with_tags(body, [UNKNOWN_TAG_TOP]) if tags else body


def fetch_response(version, forwarded, tags=False):
    """Records for the first partition of each topic (the data at its FetchOffset), empty records for the others; from
    v4 aborted transactions on the first topic's first partition (an empty list on its second, null elsewhere); from
    v11 a preferred read replica on the second partition of the first topic; from v12 that partition is
    NOT_LEADER_OR_FOLLOWER with a CurrentLeader tag (from v16 the top-level NodeEndpoints tag names that leader) and
    the last partition has a DivergingEpoch tag."""
    responses = []
    moved = False
    topics = forwarded["Topics"]
    for ti, t in enumerate(topics):
        parts = []
        for pi, p in enumerate(t["Partitions"]):
            index, offset = p["Partition"], p["FetchOffset"]
            part = {"PartitionIndex": index, "ErrorCode": 0, "HighWatermark": offset + 3,
                    "LastStableOffset": offset + 3, "LogStartOffset": 0,
                    "AbortedTransactions": None, "PreferredReadReplica": -1,
                    "Records": fetch_records(version, offset, 1767225600000 + 1000 * ti + index) if pi == 0 else b""}
            if ti == 0 and pi == 0:
                part["AbortedTransactions"] = [{"ProducerId": 4001, "FirstOffset": offset - 10},
                                               {"ProducerId": 4007, "FirstOffset": offset - 5}]
                part["LastStableOffset"] = offset - 10
            if ti == 0 and pi == 1:
                part["AbortedTransactions"] = []
                if version >= 11:
                    part["PreferredReadReplica"] = 1
                if version >= 12:
                    part.update(ErrorCode=NOT_LEADER_OR_FOLLOWER, HighWatermark=-1, LastStableOffset=-1,
                                LogStartOffset=-1, PreferredReadReplica=-1,
                                CurrentLeader={"LeaderId": 2, "LeaderEpoch": 16})
                    moved = True
            if version >= 12 and ti == len(topics) - 1 and pi == len(t["Partitions"]) - 1 and pi > 0:
                part["DivergingEpoch"] = {"Epoch": 11, "EndOffset": offset - 1}
            if tags and pi == 0:
                part = with_tags(part, [UNKNOWN_TAG_WIDE])
            parts.append(part)
        entry = {"Topic": t["Topic"], "TopicId": t["TopicId"], "Partitions": parts}
        responses.append(with_tags(entry, [UNKNOWN_TAG_SMALL]) if tags else entry)
    body = {"ThrottleTimeMs": 0, "ErrorCode": 0, "SessionId": 0x1A2B3C4D, "Responses": responses}
    if moved and version >= 16:
        body["NodeEndpoints"] = [dict(BROKER_2)]
    return with_tags(body, [UNKNOWN_TAG_TOP]) if tags else body


NOT_LEADER_MESSAGE = "This server is not the leader for that topic-partition."
INVALID_RECORD_STATE_MESSAGE = "The record state is invalid. The acknowledgement of delivery could not be completed."


def share_fetch_response(version, forwarded, tags=False):
    """The first partition of each topic returns a record batch and the records acquired from it, the others
    nothing; the second partition of the first topic is NOT_LEADER_OR_FOLLOWER with its CurrentLeader (the
    NodeEndpoints after Responses name that leader, node 2; its acknowledgements, if any, failed with the same error);
    the acknowledgements of the last topic's last partition are INVALID_RECORD_STATE; every other acknowledgement
    succeeded (AcknowledgeErrorCode 0). With tags, unknown tags in the body, topics, partitions, CurrentLeader,
    acquired records and node endpoints."""
    responses = []
    moved = False
    topics = forwarded["Topics"]
    for ti, t in enumerate(topics):
        parts = []
        for pi, p in enumerate(t["Partitions"]):
            index = p["PartitionIndex"]
            acknowledged = len(p["AcknowledgementBatches"]) > 0
            offset = 2010 + 100 * index
            leader = {"LeaderId": 1, "LeaderEpoch": 12}
            acquired = [{"FirstOffset": offset, "LastOffset": offset + 5, "DeliveryCount": 1}]
            if tags:
                leader = with_tags(leader, [UNKNOWN_TAG_EMPTY])
                acquired = [with_tags(a, [UNKNOWN_TAG_SMALL]) for a in acquired]
            part = {"PartitionIndex": index, "ErrorCode": 0, "ErrorMessage": None, "AcknowledgeErrorCode": 0,
                    "AcknowledgeErrorMessage": None, "CurrentLeader": leader,
                    "Records": fetch_records(4, offset, 1767225600000 + 1000 * ti + index) if pi == 0 else b"",
                    "AcquiredRecords": acquired if pi == 0 else []}
            if ti == 0 and pi == 1:
                part.update(ErrorCode=NOT_LEADER_OR_FOLLOWER, ErrorMessage=NOT_LEADER_MESSAGE,
                            CurrentLeader={"LeaderId": 2, "LeaderEpoch": 16})
                if acknowledged:
                    part.update(AcknowledgeErrorCode=NOT_LEADER_OR_FOLLOWER, AcknowledgeErrorMessage=NOT_LEADER_MESSAGE)
                moved = True
            elif acknowledged and ti == len(topics) - 1 and pi == len(t["Partitions"]) - 1:
                part.update(AcknowledgeErrorCode=INVALID_RECORD_STATE, AcknowledgeErrorMessage=INVALID_RECORD_STATE_MESSAGE)
            if tags and pi == 0:
                part = with_tags(part, [UNKNOWN_TAG_WIDE])
            parts.append(part)
        entry = {"Name": t["Name"], "TopicId": t["TopicId"], "Partitions": parts}
        responses.append(with_tags(entry, [UNKNOWN_TAG_SMALL]) if tags else entry)
    endpoints = [dict(BROKER_2)] if moved else []
    if tags:
        endpoints = [with_tags(e, [UNKNOWN_TAG_EMPTY]) for e in endpoints + [dict(BROKER_1)]]
    body = {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "AcquisitionLockTimeoutMs": 30000,
            "Responses": responses, "NodeEndpoints": endpoints}
    return with_tags(body, [UNKNOWN_TAG_TOP]) if tags else body


def share_acknowledge_response(version, forwarded, tags=False):
    """Every acknowledgement succeeded but the second partition of the first topic's (NOT_LEADER_OR_FOLLOWER, with
    its CurrentLeader; the NodeEndpoints after Responses name that leader) and the last topic's last partition's
    (INVALID_RECORD_STATE). AcquisitionLockTimeoutMs from v2. With tags, unknown tags in the body, topics,
    partitions, CurrentLeader and node endpoints."""
    responses = []
    moved = False
    topics = forwarded["Topics"]
    for ti, t in enumerate(topics):
        parts = []
        for pi, p in enumerate(t["Partitions"]):
            leader = {"LeaderId": 1, "LeaderEpoch": 12}
            part = {"PartitionIndex": p["PartitionIndex"], "ErrorCode": 0, "ErrorMessage": None,
                    "CurrentLeader": with_tags(leader, [UNKNOWN_TAG_EMPTY]) if tags else leader}
            if ti == 0 and pi == 1:
                part.update(ErrorCode=NOT_LEADER_OR_FOLLOWER, ErrorMessage=NOT_LEADER_MESSAGE,
                            CurrentLeader={"LeaderId": 2, "LeaderEpoch": 16})
                moved = True
            elif ti == len(topics) - 1 and pi == len(t["Partitions"]) - 1:
                part.update(ErrorCode=INVALID_RECORD_STATE, ErrorMessage=INVALID_RECORD_STATE_MESSAGE)
            if tags and pi == 0:
                part = with_tags(part, [UNKNOWN_TAG_WIDE])
            parts.append(part)
        entry = {"Name": t["Name"], "TopicId": t["TopicId"], "Partitions": parts}
        responses.append(with_tags(entry, [UNKNOWN_TAG_SMALL]) if tags else entry)
    endpoints = [dict(BROKER_2)] if moved else []
    if tags:
        endpoints = [with_tags(e, [UNKNOWN_TAG_EMPTY]) for e in endpoints + [dict(BROKER_1)]]
    body = {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "AcquisitionLockTimeoutMs": 30000,
            "Responses": responses, "NodeEndpoints": endpoints}
    return with_tags(body, [UNKNOWN_TAG_TOP]) if tags else body


def describe_producers_response(version, forwarded, tags=False):
    """The first partition of each topic has two active producers (a transactional one inside a transaction, an
    idempotent one), the others none; the second partition of the first topic is NOT_LEADER_OR_FOLLOWER with an
    ErrorMessage. With tags, unknown tags in the body, topics, partitions and producer states."""
    responses = []
    for ti, t in enumerate(forwarded["Topics"]):
        parts = []
        for pi, index in enumerate(t["PartitionIndexes"]):
            producers = []
            if pi == 0:
                producers = [{"ProducerId": 4001 + ti, "ProducerEpoch": 3, "LastSequence": 41,
                              "LastTimestamp": 1767225600123 + index, "CoordinatorEpoch": 7,
                              "CurrentTxnStartOffset": 48000 + 100 * index},
                             {"ProducerId": 9100 + ti, "ProducerEpoch": 0, "LastSequence": 1337,
                              "LastTimestamp": 1767225599000 + index, "CoordinatorEpoch": -1,
                              "CurrentTxnStartOffset": -1}]
                if tags:
                    producers = [with_tags(producers[0], [UNKNOWN_TAG_SMALL]), producers[1]]
            part = {"PartitionIndex": index, "ErrorCode": 0, "ErrorMessage": None, "ActiveProducers": producers}
            if ti == 0 and pi == 1:
                part.update(ErrorCode=NOT_LEADER_OR_FOLLOWER, ErrorMessage=NOT_LEADER_MESSAGE)
            if tags and pi == 0:
                part = with_tags(part, [UNKNOWN_TAG_WIDE])
            parts.append(part)
        entry = {"Name": t["Name"], "Partitions": parts}
        responses.append(with_tags(entry, [UNKNOWN_TAG_SMALL]) if tags else entry)
    body = {"ThrottleTimeMs": 0, "Topics": responses}
    return with_tags(body, [UNKNOWN_TAG_TOP]) if tags else body


def broker_response(api, version, forwarded, tags=False):
    if isinstance(api, NamedApi):
        return api.broker_response(version, forwarded, tags)
    if api is PRODUCE:
        return produce_response(version, forwarded, tags)
    if api is SHARE_FETCH:
        return share_fetch_response(version, forwarded, tags)
    if api is SHARE_ACKNOWLEDGE:
        return share_acknowledge_response(version, forwarded, tags)
    if api is DESCRIBE_PRODUCERS:
        return describe_producers_response(version, forwarded, tags)
    return fetch_response(version, forwarded, tags)


def response_array(response):
    """The topic array of a logical response: Responses (Produce, Fetch, the share APIs, DeleteTopics), Topics
    (DescribeProducers, ListOffsets, OffsetCommit, OffsetForLeaderEpoch, DeleteRecords, TxnOffsetCommit,
    CreateTopics) or Results (CreatePartitions)."""
    return "Topics" if "Topics" in response else "Results" if "Results" in response else "Responses"


def drop_last_response(response):
    out = copy.copy(response)
    key = response_array(response)
    out[key] = response[key][:-1]
    return out


def no_responses(response):
    out = copy.copy(response)
    out[response_array(response)] = []
    if isinstance(out.get("NodeEndpoints"), list) and "AcquisitionLockTimeoutMs" in out:  # share APIs: a field
        out["NodeEndpoints"] = []
    else:
        out.pop("NodeEndpoints", None)
    return out


def session_error(response):
    """FetchResponse.of(FETCH_SESSION_ID_NOT_FOUND, throttle, INVALID_SESSION_ID, no topics): the client resets its
    session and retries the whole request."""
    return {"ThrottleTimeMs": 0, "ErrorCode": FETCH_SESSION_ID_NOT_FOUND, "SessionId": 0, "Responses": []}


def share_session_not_found(response):
    """A ShareFetch the broker answers with a top-level SHARE_SESSION_NOT_FOUND and its message, no topics: the
    consumer opens a new share session and retries."""
    return {"ThrottleTimeMs": 0, "ErrorCode": SHARE_SESSION_NOT_FOUND,
            "ErrorMessage": "The share session was not found.", "AcquisitionLockTimeoutMs": 0, "Responses": [],
            "NodeEndpoints": []}


def invalid_share_session_epoch(response):
    """A ShareAcknowledge the broker answers with a top-level INVALID_SHARE_SESSION_EPOCH, no message, no topics."""
    return {"ThrottleTimeMs": 0, "ErrorCode": INVALID_SHARE_SESSION_EPOCH, "ErrorMessage": None,
            "AcquisitionLockTimeoutMs": 0, "Responses": [], "NodeEndpoints": []}


# ---------------------------------------------------------------------------------------------------------------------
# The topic-list APIs split by topic NAME (share-spec section 5): ListOffsets v0-10, OffsetCommit v0-9,
# OffsetForLeaderEpoch v0-4, DeleteRecords v0-2, TxnOffsetCommit v0-4, CreateTopics v2-7, DeleteTopics v1-6 and
# CreatePartitions v0-3, in every version of kedge's request tables. Never by id: a DeleteTopics v6 element naming its
# topic by TopicId only (Name null) makes the request one kedge does not split ("unreadable": it decides it whole).
# A refused element's entry is the one topic entry of a broker's authorizer answer refusing that topic (the entry
# of kedge's whole refusal with refused = "topic"): ErrorCode 29, every other field at its spec default, the verdict's
# message as ErrorMessage where the response version has one (CreateTopics v1+, DeleteTopics v5+, CreatePartitions).
# These responses have no top-level ErrorCode: kedge's whole answer is ThrottleTimeMs 0 (where the version has it)
# and the refused entries, no tags. Schemas from the Apache Kafka 4.3 message specs
# (clients/src/main/resources/common/message/<Api>Request.json / <Api>Response.json).
# ---------------------------------------------------------------------------------------------------------------------

ZERO_UUID = "0" * 32

# ListOffsetsRequest.json: kedge reads v0-10 (Kafka 4.x offers 1-11), flexibleVersions 6+. IsolationLevel 2+;
# per partition CurrentLeaderEpoch 4+, Timestamp, MaxNumOffsets v0 only; TimeoutMs 10+ after the topics.
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
# ListOffsetsResponse.json: ThrottleTimeMs 2+; per partition OldStyleOffsets []int64 (v0 only), Timestamp and Offset
# 1+ (default -1), LeaderEpoch 4+ (default -1). No top-level ErrorCode.
LIST_OFFSETS_TOPIC_RESPONSE = Struct("ListOffsetsTopicResponse", [
    Field("Name", "string"),
    Field("Partitions", ArrayOf(Struct("ListOffsetsPartitionResponse", [
        Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"), Field("OldStyleOffsets", ArrayOf("int64"), "0"),
        Field("Timestamp", "int64", "1+"), Field("Offset", "int64", "1+"), Field("LeaderEpoch", "int32", "4+")]))),
])
LIST_OFFSETS_RESPONSE = Struct("ListOffsetsResponse", [
    Field("ThrottleTimeMs", "int32", "2+"), Field("Topics", ArrayOf(LIST_OFFSETS_TOPIC_RESPONSE))])

# OffsetCommitRequest.json: kedge reads v0-9 (v10 names topics by id, KIP-848), flexibleVersions 8+.
# GenerationIdOrMemberEpoch and MemberId 1+, GroupInstanceId 7+ (nullable), RetentionTimeMs 2-4; per partition
# CommittedLeaderEpoch 6+, CommitTimestamp v1 only, CommittedMetadata (nullable).
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
# OffsetCommitResponse.json: ThrottleTimeMs 3+; Topics[ Name, Partitions[ PartitionIndex, ErrorCode ] ].
OFFSET_COMMIT_TOPIC_RESPONSE = Struct("OffsetCommitResponseTopic", [
    Field("Name", "string"),
    Field("Partitions", ArrayOf(Struct("OffsetCommitResponsePartition", [
        Field("PartitionIndex", "int32"), Field("ErrorCode", "int16")]))),
])
OFFSET_COMMIT_RESPONSE = Struct("OffsetCommitResponse", [
    Field("ThrottleTimeMs", "int32", "3+"), Field("Topics", ArrayOf(OFFSET_COMMIT_TOPIC_RESPONSE))])

# OffsetForLeaderEpochRequest.json: v0-4 (Kafka 4.x offers 2-4), flexibleVersions 4+. ReplicaId 3+; Topics[ Topic,
# Partitions[ Partition, CurrentLeaderEpoch 2+, LeaderEpoch ] ].
OFFSET_FOR_LEADER_EPOCH_REQUEST = Struct("OffsetForLeaderEpochRequest", [
    Field("ReplicaId", "int32", "3+"),
    Field("Topics", ArrayOf(Struct("OffsetForLeaderTopic", [
        Field("Topic", "string"),
        Field("Partitions", ArrayOf(Struct("OffsetForLeaderPartition", [
            Field("Partition", "int32"), Field("CurrentLeaderEpoch", "int32", "2+"), Field("LeaderEpoch", "int32")]))),
    ]))),
])
# OffsetForLeaderEpochResponse.json: ThrottleTimeMs 2+; per partition ErrorCode before Partition, LeaderEpoch 1+
# (default -1), EndOffset (default -1).
OFFSET_FOR_LEADER_EPOCH_TOPIC_RESPONSE = Struct("OffsetForLeaderTopicResult", [
    Field("Topic", "string"),
    Field("Partitions", ArrayOf(Struct("EpochEndOffset", [
        Field("ErrorCode", "int16"), Field("Partition", "int32"), Field("LeaderEpoch", "int32", "1+"),
        Field("EndOffset", "int64")]))),
])
OFFSET_FOR_LEADER_EPOCH_RESPONSE = Struct("OffsetForLeaderEpochResponse", [
    Field("ThrottleTimeMs", "int32", "2+"), Field("Topics", ArrayOf(OFFSET_FOR_LEADER_EPOCH_TOPIC_RESPONSE))])

# DeleteRecordsRequest.json: v0-2, flexibleVersions 2+. Topics[ Name, Partitions[ PartitionIndex, Offset ] ],
# TimeoutMs after the topics.
DELETE_RECORDS_REQUEST = Struct("DeleteRecordsRequest", [
    Field("Topics", ArrayOf(Struct("DeleteRecordsTopic", [
        Field("Name", "string"),
        Field("Partitions", ArrayOf(Struct("DeleteRecordsPartition", [
            Field("PartitionIndex", "int32"), Field("Offset", "int64")]))),
    ]))),
    Field("TimeoutMs", "int32"),
])
# DeleteRecordsResponse.json: ThrottleTimeMs; per partition PartitionIndex, LowWatermark, ErrorCode.
DELETE_RECORDS_TOPIC_RESPONSE = Struct("DeleteRecordsTopicResult", [
    Field("Name", "string"),
    Field("Partitions", ArrayOf(Struct("DeleteRecordsPartitionResult", [
        Field("PartitionIndex", "int32"), Field("LowWatermark", "int64"), Field("ErrorCode", "int16")]))),
])
DELETE_RECORDS_RESPONSE = Struct("DeleteRecordsResponse", [
    Field("ThrottleTimeMs", "int32"), Field("Topics", ArrayOf(DELETE_RECORDS_TOPIC_RESPONSE))])

# TxnOffsetCommitRequest.json: kedge reads v0-4 (Kafka 4.x offers 0-5), flexibleVersions 3+. GenerationId,
# MemberId, GroupInstanceId (nullable) 3+; per partition CommittedLeaderEpoch 2+, CommittedMetadata (nullable).
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
# TxnOffsetCommitResponse.json: ThrottleTimeMs; Topics[ Name, Partitions[ PartitionIndex, ErrorCode ] ].
TXN_OFFSET_COMMIT_TOPIC_RESPONSE = Struct("TxnOffsetCommitResponseTopic", [
    Field("Name", "string"),
    Field("Partitions", ArrayOf(Struct("TxnOffsetCommitResponsePartition", [
        Field("PartitionIndex", "int32"), Field("ErrorCode", "int16")]))),
])
TXN_OFFSET_COMMIT_RESPONSE = Struct("TxnOffsetCommitResponse", [
    Field("ThrottleTimeMs", "int32"), Field("Topics", ArrayOf(TXN_OFFSET_COMMIT_TOPIC_RESPONSE))])

# CreateTopicsRequest.json: v2-7 (0-1 removed in Kafka 4.0), flexibleVersions 5+. Topics[ Name, NumPartitions,
# ReplicationFactor, Assignments[ PartitionIndex, BrokerIds []int32 ], Configs[ Name, Value (nullable) ] ],
# TimeoutMs and ValidateOnly (1+) after the topics.
CREATE_TOPICS_REQUEST = Struct("CreateTopicsRequest", [
    Field("Topics", ArrayOf(Struct("CreatableTopic", [
        Field("Name", "string"), Field("NumPartitions", "int32"), Field("ReplicationFactor", "int16"),
        Field("Assignments", ArrayOf(Struct("CreatableReplicaAssignment", [
            Field("PartitionIndex", "int32"), Field("BrokerIds", ArrayOf("int32"))]))),
        Field("Configs", ArrayOf(Struct("CreatableTopicConfig", [
            Field("Name", "string"), Field("Value", "string", nullable="0+")]))),
    ]))),
    Field("TimeoutMs", "int32"), Field("ValidateOnly", "bool", "1+"),
])
# CreateTopicsResponse.json: ThrottleTimeMs 2+; per topic Name, TopicId 7+, ErrorCode, ErrorMessage 1+ (nullable),
# TopicConfigErrorCode (tag 0, 5+: the configs could not be described, e.g. no DescribeConfigs on the topic),
# NumPartitions and ReplicationFactor 5+ (default -1), Configs 5+ (nullable: Name, Value nullable, ReadOnly,
# ConfigSource, IsSensitive).
CREATE_TOPICS_TOPIC_RESPONSE = Struct("CreatableTopicResult", [
    Field("Name", "string"), Field("TopicId", "uuid", "7+"), Field("ErrorCode", "int16"),
    Field("ErrorMessage", "string", "1+", nullable="0+"),
    Field("TopicConfigErrorCode", "int16", "5+", tag=0),
    Field("NumPartitions", "int32", "5+"), Field("ReplicationFactor", "int16", "5+"),
    Field("Configs", ArrayOf(Struct("CreatableTopicConfigs", [
        Field("Name", "string"), Field("Value", "string", nullable="0+"), Field("ReadOnly", "bool"),
        Field("ConfigSource", "int8"), Field("IsSensitive", "bool")])), "5+", nullable="5+"),
])
CREATE_TOPICS_RESPONSE = Struct("CreateTopicsResponse", [
    Field("ThrottleTimeMs", "int32", "2+"), Field("Topics", ArrayOf(CREATE_TOPICS_TOPIC_RESPONSE))])

# DeleteTopicsRequest.json: v1-6 (0 removed in Kafka 4.0), flexibleVersions 4+. v1-5: TopicNames []string; v6:
# Topics[ Name (nullable: by id), TopicId ] (KIP-516). TimeoutMs after them.
DELETE_TOPICS_REQUEST = Struct("DeleteTopicsRequest", [
    Field("Topics", ArrayOf(Struct("DeleteTopicState", [
        Field("Name", "string", nullable="6+"), Field("TopicId", "uuid")])), "6+"),
    Field("TopicNames", ArrayOf("string"), "0-5"),
    Field("TimeoutMs", "int32"),
])
# DeleteTopicsResponse.json: ThrottleTimeMs 1+; Responses[ Name (nullable 6+), TopicId 6+, ErrorCode, ErrorMessage
# 5+ (nullable) ].
DELETE_TOPICS_TOPIC_RESPONSE = Struct("DeletableTopicResult", [
    Field("Name", "string", nullable="6+"), Field("TopicId", "uuid", "6+"), Field("ErrorCode", "int16"),
    Field("ErrorMessage", "string", "5+", nullable="5+"),
])
DELETE_TOPICS_RESPONSE = Struct("DeleteTopicsResponse", [
    Field("ThrottleTimeMs", "int32", "1+"), Field("Responses", ArrayOf(DELETE_TOPICS_TOPIC_RESPONSE))])

# CreatePartitionsRequest.json: v0-3, flexibleVersions 2+. Topics[ Name, Count, Assignments (nullable)[ BrokerIds
# []int32 ] ], TimeoutMs and ValidateOnly after the topics.
CREATE_PARTITIONS_REQUEST = Struct("CreatePartitionsRequest", [
    Field("Topics", ArrayOf(Struct("CreatePartitionsTopic", [
        Field("Name", "string"), Field("Count", "int32"),
        Field("Assignments", ArrayOf(Struct("CreatePartitionsAssignment", [Field("BrokerIds", ArrayOf("int32"))])),
              nullable="0+"),
    ]))),
    Field("TimeoutMs", "int32"), Field("ValidateOnly", "bool"),
])
# CreatePartitionsResponse.json: ThrottleTimeMs; Results[ Name, ErrorCode, ErrorMessage (nullable) ].
CREATE_PARTITIONS_TOPIC_RESPONSE = Struct("CreatePartitionsTopicResult", [
    Field("Name", "string"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+")])
CREATE_PARTITIONS_RESPONSE = Struct("CreatePartitionsResponse", [
    Field("ThrottleTimeMs", "int32"), Field("Results", ArrayOf(CREATE_PARTITIONS_TOPIC_RESPONSE))])


class NamedApi(Api):
    """A topic-list API split by topic name (section 5). message: the versions whose refused entry carries an
    ErrorMessage. make / broker / refused: the logical request, broker response and refused entry builders."""

    def __init__(self, key, name, file_name, versions, flexible, request, response, topic_response, names,
                 responses, message, make, broker, refused):
        super().__init__(key, name, file_name, versions, flexible, request, response, topic_response, names,
                         by_id_from=None, responses=responses)
        self.message = Versions(message)
        self._make, self._broker, self._refused = make, broker, refused

    def has_message(self, version):
        return version in self.message

    def make_request(self, version, topics, tags):
        return self._make(version, topics, tags)

    def broker_response(self, version, forwarded, tags):
        return self._broker(version, forwarded, tags)

    def refused_entry(self, version, topic_element, error, message):
        return self._refused(version, topic_element, error, message if self.has_message(version) else None)


class DeleteTopicsApi(NamedApi):
    """DeleteTopics v1-5 list bare names (TopicNames), v6 elements { Name (nullable), TopicId }."""

    def topics_field(self, version):
        return "Topics" if version >= 6 else "TopicNames"

    def topic_name(self, topic_element):
        return topic_element if isinstance(topic_element, str) else topic_element["Name"]


# Errors of the broker responses below.
OFFSET_OUT_OF_RANGE = 1
UNKNOWN_TOPIC_OR_PARTITION = 3
OFFSET_METADATA_TOO_LARGE = 12
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
FENCED_LEADER_EPOCH = 74
UNKNOWN_TOPIC_OR_PARTITION_MESSAGE = "This server does not host this topic-partition."

CONSUMER_GROUP = "checkout-consumers"
CONSUMER_MEMBER = "consumer-checkout-1-5c3b9e2a-8d4f-4b1e-9a7c-2f6e1d0b3a58"
TRANSACTIONAL_ID = "checkout-tx"


def tagged(value, tags, on=True):
    return with_tags(value, tags) if on else value


def request_topic_specs(topics):
    """topics: [(name, [partition index])] or, for DeleteTopics v6, (name, [], TopicId hex) with name None for an
    element by id: [(position, name, partitions, topic id or None)]."""
    return [(ti, spec[0], list(spec[1]), spec[2] if len(spec) > 2 else None) for ti, spec in enumerate(topics)]


def partitioned_topics(topics, tags, partition):
    """Request topic elements { Name, Partitions } of the partitioned APIs; partition(ti, pi, index) -> element."""
    out = []
    for ti, name, partitions, _ in request_topic_specs(topics):
        parts = [tagged(partition(ti, pi, index), [UNKNOWN_TAG_WIDE], tags) for pi, index in enumerate(partitions)]
        out.append(tagged({"Name": name, "Partitions": parts}, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_EMPTY], tags))
    return out


def body_with_tags(body, tags):
    return tagged(body, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE], tags)


# Logical requests. A partition's values derive from its topic position ti, its position pi and its index.

def list_offsets_request(version, topics, tags):
    """A consumer resetting its positions: the latest offset (-1) of even partitions, the earliest (-2) of odd ones,
    the first partition of the first topic by time (a timestamp); read_committed from v2."""
    def partition(ti, pi, index):
        timestamp = 1767225600000 if ti == 0 and pi == 0 else (-1 if index % 2 == 0 else -2)
        return {"PartitionIndex": index, "CurrentLeaderEpoch": 12, "Timestamp": timestamp, "MaxNumOffsets": 1}
    return body_with_tags({"ReplicaId": -1, "IsolationLevel": 1, "Topics": partitioned_topics(topics, tags, partition),
                           "TimeoutMs": 30000}, tags)


def offset_commit_request(version, topics, tags):
    """A consumer group member committing positions (a static member, GroupInstanceId, with tags)."""
    def partition(ti, pi, index):
        return {"PartitionIndex": index, "CommittedOffset": 48213 + 1000 * ti + 10 * index, "CommittedLeaderEpoch": 12,
                "CommitTimestamp": -1, "CommittedMetadata": "" if pi == 0 else None}
    return body_with_tags({"GroupId": CONSUMER_GROUP, "GenerationIdOrMemberEpoch": 17, "MemberId": CONSUMER_MEMBER,
                           "GroupInstanceId": "checkout-1" if tags else None, "RetentionTimeMs": -1,
                           "Topics": partitioned_topics(topics, tags, partition)}, tags)


def offset_for_leader_epoch_request(version, topics, tags):
    """A consumer validating its positions after a leader change (ReplicaId -1: a consumer)."""
    def partition(ti, pi, index):
        return {"Partition": index, "CurrentLeaderEpoch": 12, "LeaderEpoch": 11}
    out = []
    for ti, name, partitions, _ in request_topic_specs(topics):
        parts = [tagged(partition(ti, pi, index), [UNKNOWN_TAG_WIDE], tags) for pi, index in enumerate(partitions)]
        out.append(tagged({"Topic": name, "Partitions": parts}, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_EMPTY], tags))
    return body_with_tags({"ReplicaId": -1, "Topics": out}, tags)


def delete_records_request(version, topics, tags):
    """kafka-delete-records.sh: delete every record before an offset of each partition."""
    def partition(ti, pi, index):
        return {"PartitionIndex": index, "Offset": 1000 + 100 * index + ti}
    return body_with_tags({"Topics": partitioned_topics(topics, tags, partition), "TimeoutMs": 30000}, tags)


def txn_offset_commit_request(version, topics, tags):
    """A transactional producer committing its consumer's positions (read-process-write), group metadata from v3."""
    def partition(ti, pi, index):
        return {"PartitionIndex": index, "CommittedOffset": 7001 + 1000 * ti + 10 * index, "CommittedLeaderEpoch": 12,
                "CommittedMetadata": "" if pi == 0 else None}
    return body_with_tags({"TransactionalId": TRANSACTIONAL_ID, "GroupId": CONSUMER_GROUP, "ProducerId": 4001,
                           "ProducerEpoch": 3, "GenerationId": 17, "MemberId": CONSUMER_MEMBER,
                           "GroupInstanceId": "checkout-1" if tags else None,
                           "Topics": partitioned_topics(topics, tags, partition)}, tags)


def create_topics_request(version, topics, tags):
    """kafka-topics.sh --create: the topic at position 1 (mod 3) with explicit replica assignments (NumPartitions and
    ReplicationFactor -1), the others with a partition count and replication factor; configs, one with a null Value.
    The partitions of a topic spec give its assignments' partition indexes (and so its partition count)."""
    out = []
    for ti, name, partitions, _ in request_topic_specs(topics):
        if ti % 3 == 1:
            assignments = [tagged({"PartitionIndex": index, "BrokerIds": [1 + (index + k) % 3 for k in range(3)]},
                                  [UNKNOWN_TAG_SMALL], tags) for index in partitions]
            element = {"Name": name, "NumPartitions": -1, "ReplicationFactor": -1, "Assignments": assignments,
                       "Configs": [tagged({"Name": "retention.ms", "Value": "604800000"}, [UNKNOWN_TAG_EMPTY], tags)]}
        else:
            element = {"Name": name, "NumPartitions": 3 * max(1, len(partitions)), "ReplicationFactor": 3,
                       "Assignments": [],
                       "Configs": [tagged({"Name": "cleanup.policy", "Value": "compact"}, [UNKNOWN_TAG_EMPTY], tags),
                                   {"Name": "min.insync.replicas", "Value": None}]}
        out.append(tagged(element, [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE], tags))
    return body_with_tags({"Topics": out, "TimeoutMs": 30000, "ValidateOnly": bool(tags)}, tags)


def delete_topics_request(version, topics, tags):
    """kafka-topics.sh --delete: v1-5 bare names; v6 { Name, TopicId } elements, by name with the zero id (what the
    admin client sends), or (a spec's third item) with an id: by id alone when the name is None."""
    specs = request_topic_specs(topics)
    if version < 6:
        assert all(name is not None and topic is None for _, name, _, topic in specs)
        return body_with_tags({"TopicNames": [name for _, name, _, _ in specs], "TimeoutMs": 30000}, tags)
    out = [tagged({"Name": name, "TopicId": topic if topic is not None else ZERO_UUID}, [UNKNOWN_TAG_SMALL], tags)
           for _, name, _, topic in specs]
    return body_with_tags({"Topics": out, "TimeoutMs": 30000}, tags)


def create_partitions_request(version, topics, tags):
    """kafka-topics.sh --alter --partitions: even positions let the controller place the new partitions (Assignments
    null), odd ones assign a broker list per new partition (one per partition of the topic spec)."""
    out = []
    for ti, name, partitions, _ in request_topic_specs(topics):
        assignments = None
        if ti % 2 == 1:
            assignments = [tagged({"BrokerIds": [1 + index % 3, 1 + (index + 1) % 3]}, [UNKNOWN_TAG_SMALL], tags)
                           for index in partitions]
        out.append(tagged({"Name": name, "Count": 6 + ti, "Assignments": assignments},
                          [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_EMPTY], tags))
    return body_with_tags({"Topics": out, "TimeoutMs": 30000, "ValidateOnly": False}, tags)


# Broker responses to the forwarded request (its topics in order; ti their position in it).

def broker_topics(forwarded, tags, name_field, entry):
    """entry(ti, element, last) -> the broker's topic entry (or its partitions' list)."""
    topics = forwarded[name_field]
    return [tagged(entry(ti, t, ti == len(topics) - 1), [UNKNOWN_TAG_SMALL], tags) for ti, t in enumerate(topics)]


def broker_partitions(element, partitions_field, tags, make):
    parts = element[partitions_field]
    return [tagged(make(pi, p, pi == len(parts) - 1), [UNKNOWN_TAG_WIDE], tags and pi == 0)
            for pi, p in enumerate(parts)]


def list_offsets_response(version, forwarded, tags):
    """The offset asked for each partition (v0: OldStyleOffsets), the timestamp found for a query by time (-1 for
    latest/earliest), the leader epoch from v4; the second partition of the first topic NOT_LEADER_OR_FOLLOWER."""
    def topic(ti, t, last):
        def partition(pi, p, last_partition):
            index = p["PartitionIndex"]
            offset = 52000 + 1000 * ti + 100 * index
            part = {"PartitionIndex": index, "ErrorCode": 0, "OldStyleOffsets": [offset],
                    "Timestamp": p["Timestamp"] + 17 if p["Timestamp"] >= 0 else -1, "Offset": offset,
                    "LeaderEpoch": 12}
            if ti == 0 and pi == 1:
                part.update(ErrorCode=NOT_LEADER_OR_FOLLOWER, OldStyleOffsets=[], Timestamp=-1, Offset=-1,
                            LeaderEpoch=-1)
            return part
        return {"Name": t["Name"], "Partitions": broker_partitions(t, "Partitions", tags, partition)}
    return tagged({"ThrottleTimeMs": 0, "Topics": broker_topics(forwarded, tags, "Topics", topic)}, [UNKNOWN_TAG_TOP],
                  tags)


def offset_commit_response(version, forwarded, tags, throttle=0):
    """Every offset committed but the last partition of the last topic's (OFFSET_METADATA_TOO_LARGE) when it is not
    the topic's only partition."""
    def topic(ti, t, last):
        def partition(pi, p, last_partition):
            error = OFFSET_METADATA_TOO_LARGE if last and last_partition and pi > 0 else 0
            return {"PartitionIndex": p["PartitionIndex"], "ErrorCode": error}
        return {"Name": t["Name"], "Partitions": broker_partitions(t, "Partitions", tags, partition)}
    return tagged({"ThrottleTimeMs": throttle, "Topics": broker_topics(forwarded, tags, "Topics", topic)},
                  [UNKNOWN_TAG_TOP], tags)


def offset_for_leader_epoch_response(version, forwarded, tags):
    """The end offset of the epoch asked; the second partition of the first topic FENCED_LEADER_EPOCH."""
    def topic(ti, t, last):
        def partition(pi, p, last_partition):
            index = p["Partition"]
            part = {"ErrorCode": 0, "Partition": index, "LeaderEpoch": p["LeaderEpoch"],
                    "EndOffset": 61000 + 1000 * ti + 100 * index}
            if ti == 0 and pi == 1:
                part.update(ErrorCode=FENCED_LEADER_EPOCH, LeaderEpoch=-1, EndOffset=-1)
            return part
        return {"Topic": t["Topic"], "Partitions": broker_partitions(t, "Partitions", tags, partition)}
    return tagged({"ThrottleTimeMs": 0, "Topics": broker_topics(forwarded, tags, "Topics", topic)}, [UNKNOWN_TAG_TOP],
                  tags)


def delete_records_response(version, forwarded, tags):
    """The new low watermark of each partition (the offset asked); the second partition of the first topic
    OFFSET_OUT_OF_RANGE (LowWatermark -1)."""
    def topic(ti, t, last):
        def partition(pi, p, last_partition):
            part = {"PartitionIndex": p["PartitionIndex"], "LowWatermark": p["Offset"], "ErrorCode": 0}
            if ti == 0 and pi == 1:
                part.update(LowWatermark=-1, ErrorCode=OFFSET_OUT_OF_RANGE)
            return part
        return {"Name": t["Name"], "Partitions": broker_partitions(t, "Partitions", tags, partition)}
    return tagged({"ThrottleTimeMs": 0, "Topics": broker_topics(forwarded, tags, "Topics", topic)}, [UNKNOWN_TAG_TOP],
                  tags)


def txn_offset_commit_response(version, forwarded, tags):
    """Every offset added to the transaction but the second partition of the first topic's
    (UNKNOWN_TOPIC_OR_PARTITION)."""
    def topic(ti, t, last):
        def partition(pi, p, last_partition):
            return {"PartitionIndex": p["PartitionIndex"],
                    "ErrorCode": UNKNOWN_TOPIC_OR_PARTITION if ti == 0 and pi == 1 else 0}
        return {"Name": t["Name"], "Partitions": broker_partitions(t, "Partitions", tags, partition)}
    return tagged({"ThrottleTimeMs": 0, "Topics": broker_topics(forwarded, tags, "Topics", topic)}, [UNKNOWN_TAG_TOP],
                  tags)


def create_topics_response(version, forwarded, tags):
    """By the topic's position ti in the forwarded request, mod 3: 0 created, its configs not returned (the principal
    may not describe them: Configs null and, from v5, the tagged TopicConfigErrorCode TOPIC_AUTHORIZATION_FAILED);
    1 created with its configs (v5+); 2 TOPIC_ALREADY_EXISTS with its ErrorMessage. A created topic carries its
    TopicId (v7), partition count and replication factor (v5+)."""
    def topic(ti, t, last):
        name = t["Name"]
        partitions = t["NumPartitions"] if t["NumPartitions"] > 0 else len(t["Assignments"])
        replication = t["ReplicationFactor"] if t["ReplicationFactor"] > 0 else 3
        entry = {"Name": name, "TopicId": topic_id(name), "ErrorCode": 0, "ErrorMessage": None,
                 "NumPartitions": partitions, "ReplicationFactor": replication, "Configs": None}
        if ti % 3 == 0:
            entry["TopicConfigErrorCode"] = TOPIC_AUTHORIZATION_FAILED
        elif ti % 3 == 1:
            configs = [{"Name": "cleanup.policy", "Value": "compact", "ReadOnly": False, "ConfigSource": 1,
                        "IsSensitive": False},
                       {"Name": "segment.bytes", "Value": "1073741824", "ReadOnly": False, "ConfigSource": 5,
                        "IsSensitive": False},
                       {"Name": "sasl.jaas.config", "Value": None, "ReadOnly": True, "ConfigSource": 4,
                        "IsSensitive": True}]
            entry["Configs"] = [tagged(configs[0], [UNKNOWN_TAG_EMPTY], tags)] + configs[1:]
        else:
            entry.update(TopicId=ZERO_UUID, ErrorCode=TOPIC_ALREADY_EXISTS,
                         ErrorMessage="Topic '%s' already exists." % name, NumPartitions=-1, ReplicationFactor=-1)
        return entry
    return tagged({"ThrottleTimeMs": 0, "Topics": broker_topics(forwarded, tags, "Topics", topic)}, [UNKNOWN_TAG_TOP],
                  tags)


def delete_topics_response(version, forwarded, tags):
    """Every topic deleted (v6: with its TopicId), but the last one's when the broker was asked for more than one
    (UNKNOWN_TOPIC_OR_PARTITION, its ErrorMessage from v5, the zero id)."""
    names = forwarded["Topics"] if version >= 6 else forwarded["TopicNames"]
    entries = []
    for ti, element in enumerate(names):
        name = element["Name"] if version >= 6 else element
        entry = {"Name": name, "TopicId": topic_id(name), "ErrorCode": 0, "ErrorMessage": None}
        if ti == len(names) - 1 and ti > 0:
            entry.update(TopicId=ZERO_UUID, ErrorCode=UNKNOWN_TOPIC_OR_PARTITION,
                         ErrorMessage=UNKNOWN_TOPIC_OR_PARTITION_MESSAGE)
        entries.append(tagged(entry, [UNKNOWN_TAG_SMALL], tags))
    return tagged({"ThrottleTimeMs": 0, "Responses": entries}, [UNKNOWN_TAG_TOP], tags)


def create_partitions_response(version, forwarded, tags):
    """Every partition count raised but the second topic's (INVALID_PARTITIONS, with its ErrorMessage)."""
    def topic(ti, t, last):
        entry = {"Name": t["Name"], "ErrorCode": 0, "ErrorMessage": None}
        if ti == 1:
            entry.update(ErrorCode=INVALID_PARTITIONS, ErrorMessage="Topic currently has %d partitions, which is "
                         "higher than the requested %d." % (t["Count"] + 2, t["Count"]))
        return entry
    return tagged({"ThrottleTimeMs": 0, "Results": broker_topics(forwarded, tags, "Topics", topic)},
                  [UNKNOWN_TAG_TOP], tags)


# Refused entries (a broker's authorizer answer for a topic it refuses, KafkaApis / ControllerApis): ErrorCode 29,
# every other field at its spec default; `message` is None where the version has no ErrorMessage.

def refused_partitioned(name_field, index_field, partition):
    def refused(version, element, error, message):
        return {name_field: element[name_field],
                "Partitions": [partition(p[index_field], error) for p in element["Partitions"]]}
    return refused


refused_list_offsets = refused_partitioned("Name", "PartitionIndex", lambda index, error: {
    "PartitionIndex": index, "ErrorCode": error, "OldStyleOffsets": [], "Timestamp": -1, "Offset": -1,
    "LeaderEpoch": -1})
refused_offset_commit = refused_partitioned("Name", "PartitionIndex", lambda index, error: {
    "PartitionIndex": index, "ErrorCode": error})
refused_offset_for_leader_epoch = refused_partitioned("Topic", "Partition", lambda index, error: {
    "ErrorCode": error, "Partition": index, "LeaderEpoch": -1, "EndOffset": -1})
refused_delete_records = refused_partitioned("Name", "PartitionIndex", lambda index, error: {
    "PartitionIndex": index, "LowWatermark": -1, "ErrorCode": error})


def refused_create_topics(version, element, error, message):
    return {"Name": element["Name"], "TopicId": ZERO_UUID, "ErrorCode": error, "ErrorMessage": message,
            "NumPartitions": -1, "ReplicationFactor": -1, "Configs": None}


def refused_delete_topics(version, element, error, message):
    if version < 6:
        return {"Name": element, "ErrorCode": error, "ErrorMessage": message}
    return {"Name": element["Name"], "TopicId": element["TopicId"], "ErrorCode": error, "ErrorMessage": message}


def refused_create_partitions(version, element, error, message):
    return {"Name": element["Name"], "ErrorCode": error, "ErrorMessage": message}


PARTITIONED = ("Topics", "Name", "Partitions", "PartitionIndex", "Name", "Partitions", "PartitionIndex")
TOPIC_LEVEL = ("Topics", "Name", None, None, "Name", None, None)
LIST_OFFSETS = NamedApi(2, "ListOffsets", "list_offsets", (0, 10), "6+", LIST_OFFSETS_REQUEST, LIST_OFFSETS_RESPONSE,
                        LIST_OFFSETS_TOPIC_RESPONSE, PARTITIONED, "Topics", "none", list_offsets_request,
                        list_offsets_response, refused_list_offsets)
OFFSET_COMMIT = NamedApi(8, "OffsetCommit", "offset_commit", (0, 9), "8+", OFFSET_COMMIT_REQUEST,
                         OFFSET_COMMIT_RESPONSE, OFFSET_COMMIT_TOPIC_RESPONSE, PARTITIONED, "Topics", "none",
                         offset_commit_request, offset_commit_response, refused_offset_commit)
OFFSET_FOR_LEADER_EPOCH = NamedApi(23, "OffsetForLeaderEpoch", "offset_for_leader_epoch", (0, 4), "4+",
                                   OFFSET_FOR_LEADER_EPOCH_REQUEST, OFFSET_FOR_LEADER_EPOCH_RESPONSE,
                                   OFFSET_FOR_LEADER_EPOCH_TOPIC_RESPONSE,
                                   ("Topics", "Topic", "Partitions", "Partition", "Topic", "Partitions", "Partition"),
                                   "Topics", "none", offset_for_leader_epoch_request,
                                   offset_for_leader_epoch_response, refused_offset_for_leader_epoch)
DELETE_RECORDS = NamedApi(21, "DeleteRecords", "delete_records", (0, 2), "2+", DELETE_RECORDS_REQUEST,
                          DELETE_RECORDS_RESPONSE, DELETE_RECORDS_TOPIC_RESPONSE, PARTITIONED, "Topics", "none",
                          delete_records_request, delete_records_response, refused_delete_records)
TXN_OFFSET_COMMIT = NamedApi(28, "TxnOffsetCommit", "txn_offset_commit", (0, 4), "3+", TXN_OFFSET_COMMIT_REQUEST,
                             TXN_OFFSET_COMMIT_RESPONSE, TXN_OFFSET_COMMIT_TOPIC_RESPONSE, PARTITIONED, "Topics",
                             "none", txn_offset_commit_request, txn_offset_commit_response, refused_offset_commit)
CREATE_TOPICS = NamedApi(19, "CreateTopics", "create_topics", (2, 7), "5+", CREATE_TOPICS_REQUEST,
                         CREATE_TOPICS_RESPONSE, CREATE_TOPICS_TOPIC_RESPONSE, TOPIC_LEVEL, "Topics", "1+",
                         create_topics_request, create_topics_response, refused_create_topics)
DELETE_TOPICS = DeleteTopicsApi(20, "DeleteTopics", "delete_topics", (1, 6), "4+", DELETE_TOPICS_REQUEST,
                                DELETE_TOPICS_RESPONSE, DELETE_TOPICS_TOPIC_RESPONSE, TOPIC_LEVEL, "Responses", "5+",
                                delete_topics_request, delete_topics_response, refused_delete_topics)
CREATE_PARTITIONS = NamedApi(37, "CreatePartitions", "create_partitions", (0, 3), "2+", CREATE_PARTITIONS_REQUEST,
                             CREATE_PARTITIONS_RESPONSE, CREATE_PARTITIONS_TOPIC_RESPONSE, TOPIC_LEVEL, "Results",
                             "0+", create_partitions_request, create_partitions_response, refused_create_partitions)
NAMED_APIS = [LIST_OFFSETS, OFFSET_COMMIT, OFFSET_FOR_LEADER_EPOCH, DELETE_RECORDS, TXN_OFFSET_COMMIT, CREATE_TOPICS,
              DELETE_TOPICS, CREATE_PARTITIONS]
APIS = APIS + NAMED_APIS


# ---------------------------------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------------------------------


class Case:
    def __init__(self, api, version, variant, description, request, refused, unknown=(), tags=False,
                 broker_edit=None, top_level_error=False):
        self.api = api
        self.version = version
        self.variant = variant
        self.description = description
        self.request = request
        self.refused = set(refused)       # topic names the policy refuses (TOPIC_AUTHORIZATION_FAILED)
        self.unknown = set(unknown)       # topic names whose ids the policy cannot name (UNKNOWN_TOPIC_ID)
        self.tags = tags                  # unknown tags in the request header and the broker's response header
        self.broker_edit = broker_edit    # logical broker response -> the one this case's broker sends
        self.top_level_error = top_level_error
        if self.unknown and not api.by_id(version):
            raise ValueError("%s: an unknown id in a version that names topics" % self.file_name)
        if self.unknown & self.refused:
            raise ValueError("%s: a topic both refused and unknown" % self.file_name)

    @property
    def file_name(self):
        return "%s.v%d.%s.json" % (self.api.file_name, self.version, self.variant)

    @property
    def by_id(self):
        return self.api.by_id(self.version)

    def label(self, name):
        return label(self.api, self.version, name)

    def header_tags(self):
        return [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE] if self.tags else []

    @property
    def topics_field(self):
        return self.api.topics_field(self.version)

    def topics(self):
        return self.request[self.topics_field]

    def names(self):
        """The name of every topic element of the request, in order (None: a DeleteTopics v6 element by id)."""
        return [self.api.topic_name(t) for t in self.topics()]

    def error_of(self, name):
        """The error the policy gives topic `name`: None (allowed), 29 or 100."""
        if name in self.unknown:
            return UNKNOWN_TOPIC_ID
        if name in self.refused:
            return TOPIC_AUTHORIZATION_FAILED
        return None

    def result(self):
        if any(name is None for name in self.names()):
            return "unreadable"  # a topic by id in a request split by name: kedge decides it whole, never splits it
        refused = [n for n in self.names() if self.error_of(n) is not None]
        if not refused:
            return "all_allowed"
        if len(refused) == len(self.topics()):
            return "none_allowed"
        return "split"

    def forwarded(self):
        body = dict(self.request)
        body[self.topics_field] = [t for t in self.topics() if self.error_of(self.api.topic_name(t)) is None]
        return body

    def refused_entries(self):
        """[(position, entry, error)] of every refused topic element, in request order."""
        out = []
        for i, t in enumerate(self.topics()):
            error = self.error_of(self.api.topic_name(t))
            if error is not None:
                out.append((i, refused_entry(self.api, self.version, t, error), error))
        return out

    def broker(self):
        response = broker_response(self.api, self.version, self.forwarded(), self.tags)
        return self.broker_edit(response) if self.broker_edit else response

    def merged(self):
        broker = self.broker()
        if self.top_level_error:
            assert (self.api is FETCH and self.version >= 7 or self.api in SHARE_APIS) and broker["ErrorCode"] != 0
            return broker
        out = dict(broker)
        out[self.api.responses] = merge(broker[self.api.responses], [(p, e) for p, e, _ in self.refused_entries()],
                                        len(self.topics()))
        return out

    def refusal(self):
        """kedge's whole answer when every topic is refused: the response naming only the refused entries, in request
        order; ThrottleTimeMs 0, a Fetch's top-level ErrorCode 0 and SessionId 0 (no fetch session); a share API's
        ErrorCode 0, ErrorMessage null, AcquisitionLockTimeoutMs 0 (where the version has it), NodeEndpoints []; no
        tags."""
        entries = [e for _, e, _ in self.refused_entries()]
        if self.api is PRODUCE:
            return {"Responses": entries, "ThrottleTimeMs": 0}
        if self.api in SHARE_APIS:  # AcquisitionLockTimeoutMs: ShareFetch v1+, ShareAcknowledge v2+
            return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "AcquisitionLockTimeoutMs": 0,
                    "Responses": entries, "NodeEndpoints": []}
        if self.api is DESCRIBE_PRODUCERS:
            return {"ThrottleTimeMs": 0, "Topics": entries}
        if isinstance(self.api, NamedApi):  # no top-level ErrorCode: ThrottleTimeMs (where the version has it) 0
            return {"ThrottleTimeMs": 0, self.api.responses: entries}
        return {"ThrottleTimeMs": 0, "ErrorCode": 0, "SessionId": 0, "Responses": entries}

    def response_header_tags(self):
        return [UNKNOWN_TAG_EMPTY] if self.tags else []

    def frames(self):
        """(request, forwarded, broker response, merged response); the last three None unless split."""
        request = request_frame(self.api, self.version, self.request, self.header_tags())
        if self.result() != "split":
            return request, None, None, None
        forwarded = request_frame(self.api, self.version, self.forwarded(), self.header_tags())
        broker = response_frame(self.api, self.version, self.broker(), self.response_header_tags())
        merged = response_frame(self.api, self.version, self.merged(), self.response_header_tags())
        for frame in (request, forwarded, broker, merged):
            assert struct.unpack(">i", frame[:4])[0] == len(frame) - 4
        assert len(forwarded) < len(request)
        if self.top_level_error:
            assert merged == broker
        return request, forwarded, broker, merged

    def refusal_frame(self):
        """kedge's whole answer (none_allowed cases only): to the request's correlation id, no header tags."""
        assert self.result() == "none_allowed"
        frame = response_frame(self.api, self.version, self.refusal())
        assert struct.unpack(">i", frame[:4])[0] == len(frame) - 4
        return frame

    def topics_end(self):
        """The offset in request_hex just past the topic array: what follows it (Fetch v7+ ForgottenTopicsData,
        RackId; the top-level tag buffer of flexible versions) encoded alone and measured from the end."""
        fields = self.api.request.fields
        after = [f for f in fields[[f.name for f in fields].index(self.topics_field) + 1:] if f.tag is None]
        tail = Struct("After" + self.topics_field, after + [f for f in fields if f.tag is not None])
        value = {k: v for k, v in self.request.items() if k in {f.name for f in tail.fields} | {UNKNOWN_TAGS}}
        request = request_frame(self.api, self.version, self.request, self.header_tags())
        return len(request) - len(encode_struct(tail, value, EncodeContext(self.version,
                                                                           self.version in self.api.flexible)))

    def entry_bytes(self, entry):
        return encode_struct(self.api.topic_response, entry,
                             EncodeContext(self.version, self.version in self.api.flexible))

    def response_topics(self, response):
        """The topics of a logical response's entries, in wire order, as the case file names them."""
        return [self.label(t[self.api.response_topic]) for t in response[self.api.responses]]

    def partition_errors(self, which):
        """[(topic, partition, error code)] of the merged response ("merged"), kedge's whole answer ("refusal") or
        the client's forwarded request ("forwarded": topic and partition only, error None), in wire order, for the
        tshark cross-check. Topics are names (the case's labels are ids in by-id versions)."""
        api = self.api
        if which == "forwarded":
            return [(api.topic_name(t), index, None) for t in self.forwarded()[self.topics_field]
                    for index in api.partition_indexes(t)]
        response = self.refusal() if which == "refusal" else self.merged()
        if api.response_partitions is None:  # CreateTopics, DeleteTopics, CreatePartitions: one error per topic
            return [(t[api.response_topic], None, t["ErrorCode"]) for t in response[api.responses]]
        return [(t[api.response_topic], p[api.response_index], p["ErrorCode"])
                for t in response[api.responses] for p in t[api.response_partitions]]

    def error_messages(self, which="merged"):
        """Every partition ErrorMessage of the merged response or kedge's whole answer (Produce v8+, the share APIs,
        DescribeProducers; None when null), in wire order; every topic ErrorMessage of the topic-level APIs
        (CreateTopics, DeleteTopics v5+, CreatePartitions)."""
        if self.api is FETCH or self.api is PRODUCE and self.version < 8:
            return []
        if isinstance(self.api, NamedApi) and not self.api.has_message(self.version):
            return []
        response = self.refusal() if which == "refusal" else self.merged()
        if self.api.response_partitions is None:
            return [t["ErrorMessage"] for t in response[self.api.responses]]
        return [p["ErrorMessage"] for t in response[self.api.responses] for p in t[self.api.response_partitions]]

    def to_json(self):
        request, forwarded, broker, merged = self.frames()
        doc = {
            "api_key": self.api.key,
            "api_version": self.version,
            "description": self.description,
            "by_id": self.by_id,
            "message_prefix": MESSAGE_PREFIX,
            "unknown_topic_id_message_prefix": UNKNOWN_TOPIC_ID_MESSAGE_PREFIX,
            "request_topics": [None if n is None else self.label(n) for n in self.names()],
            "refused_topics": sorted(self.label(n) for n in self.refused),
            "unknown_topic_ids": sorted(self.label(n) for n in self.unknown),
            "request_hex": request.hex(),
            "topics_end": self.topics_end(),
            "result": self.result(),
        }
        if self.result() in ("split", "none_allowed"):
            doc["refused"] = [{"position": position, "topic": self.label(entry[self.api.response_topic]),
                               "error": error, "entry_hex": self.entry_bytes(entry).hex()}
                              for position, entry, error in self.refused_entries()]
        if forwarded is not None:
            doc["forwarded_hex"] = forwarded.hex()
            doc["broker_response_hex"] = broker.hex()
            doc["merged_hex"] = merged.hex()
        if self.result() == "none_allowed":
            doc["expected_refusal_hex"] = self.refusal_frame().hex()
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


THREE = [("orders", [3, 0]), ("audit", [1, 2]), ("payments", [7])]
SIX = [("orders", [0, 1]), ("audit", [0]), ("payments", [2, 5, 1]), ("billing", [0]), ("clicks", [4, 3]),
       ("secrets", [0])]
SIX_REFUSED = {"orders", "payments", "billing", "secrets"}  # positions 0, 2, 3 and 5


def many_topics(count):
    return [("topic-%03d" % i, [i % 4]) for i in range(count)]


def cases_for(api):
    cases = []
    lo, hi = api.versions
    for v in range(lo, hi + 1):
        flexible = v in api.flexible
        by_id = api.by_id(v)
        txn = "checkout-tx" if api is PRODUCE else None
        session = " (an incremental fetch: session, epoch, ForgottenTopicsData%s%s)" % (
            " by TopicId" if by_id else "", ", RackId" if v >= 11 else "") if api is FETCH and v >= 7 else ""
        named = " (named by TopicId)" if by_id else ""

        def add(variant, description, topics, refused, unknown=(), tags=False, broker_edit=None,
                top_level_error=False, small=False, transactional_id=txn):
            request = make_request(api, v, topics, tags, transactional_id, small)
            cases.append(Case(api, v, variant, "%s v%d: %s" % (api.name, v, description), request, refused, unknown,
                              tags, broker_edit, top_level_error))

        add("middle", "orders (2 partitions), audit (2) refused, payments (1)%s%s" % (named, session), THREE,
            {"audit"})
        add("first", "the first of 3 topics refused%s" % session, THREE, {"orders"})
        add("last", "the last of 3 topics refused%s" % session, THREE, {"payments"}, transactional_id=None)
        add("several", "6 topics, those at positions 0, 2, 3 and 5 refused (first, two in a row, last), several "
            "partitions each", SIX, SIX_REFUSED, transactional_id=None)
        if not by_id:  # by id, a topic's name is on no wire
            add("long_name", "200-byte topic names (compact lengths of 2 varint bytes), the second refused",
                [(LONG_ALLOWED, [0, 1]), (LONG_REFUSED, [0, 2]), ("payments", [1])], {LONG_REFUSED})
        add("fewer_responses", "audit refused; the broker answers orders only (payments missing): the refused entry "
            "follows it", THREE, {"audit"}, broker_edit=drop_last_response)
        add("no_responses", "orders refused; the broker answers no topic: the refused entry is the only one",
            THREE, {"orders"}, broker_edit=no_responses)
        if by_id:
            add("all_allowed", "nothing refused (the policy refuses a topic the request does not name, and cannot "
                "name an id the request does not hold)", THREE, {"secrets"}, unknown={"ghost"})
        else:
            add("all_allowed", "nothing refused (the policy refuses a topic the request does not name)", THREE,
                {"secrets"})
        add("none_allowed", "every topic refused: kedge answers the whole request", THREE,
            {"orders", "audit", "payments"})
        add("empty", "no topics: nothing to split", [], {"orders"})
        if by_id:
            add("unknown_ids", "6 topics by id: orders and secrets refused (29), payments and billing unknown to the "
                "policy (UNKNOWN_TOPIC_ID, 100), audit and clicks allowed", SIX, {"orders", "secrets"},
                unknown={"payments", "billing"}, transactional_id=None)
            add("unknown_only", "audit's id unknown to the policy (UNKNOWN_TOPIC_ID, 100), orders and payments "
                "allowed", THREE, set(), unknown={"audit"})
            add("none_allowed_unknown", "every topic refused, orders (29) and the unknown ids of audit and payments "
                "(100): kedge answers the whole request", THREE, {"orders"}, unknown={"audit", "payments"})
        if flexible:
            extra = ""
            if api is FETCH:
                extra = ", ClusterId tag 0, tags on ForgottenTopicsData"
                if v >= 15:
                    extra += ", a follower's ReplicaState tag 1"
                if v >= 17:
                    extra += ", ReplicaDirectoryId tag 0 on every partition"
            add("unknown_tags", "unknown tags in the request header, body, topics and partitions%s, and in the "
                "broker's response header, body, topics and partitions; audit refused" % extra, THREE, {"audit"},
                tags=True)
        if flexible or v == lo or (api is FETCH and v == 4):
            every_third = {"topic-%03d" % i for i in range(0, 130, 3)}
            unknown = {"topic-%03d" % i for i in range(0, 130, 6)} if by_id else set()
            add("many_topics", ("130 topics, every third refused (44%s)" % (
                ": 22 refused (29), 22 unknown ids (100)" if by_id else "")) + (
                ": the compact count of the request (131) takes 2 varint bytes, the forwarded one (87) 1, the merged "
                "one 2 again" if flexible else ""),
                many_topics(130), every_third - unknown, unknown=unknown, small=True)
            add("none_allowed_many", "130 topics, every one refused%s: kedge answers the whole request%s" % (
                " (every sixth an unknown id, 100)" if by_id else "",
                ", its compact count (131) of 2 varint bytes" if flexible else ""),
                many_topics(130), {"topic-%03d" % i for i in range(130) if not (by_id and i % 6 == 0)},
                unknown={"topic-%03d" % i for i in range(0, 130, 6)} if by_id else set(), small=True)
        if api is FETCH and v >= 7:
            add("top_level_error", "audit refused; the broker answers FETCH_SESSION_ID_NOT_FOUND (70) at the top "
                "level with no topics: the client receives it unchanged", THREE, {"audit"},
                broker_edit=session_error, top_level_error=True)
    return cases


def cases_for_share_or_producers(api):
    """ShareFetch v1-2 and ShareAcknowledge v1-2 (by TopicId: errors 29 and 100), DescribeProducers v0 (by name: 29
    only)."""
    cases = []
    lo, hi = api.versions
    share = api in SHARE_APIS
    for v in range(lo, hi + 1):
        by_id = api.by_id(v)
        named = " (named by TopicId)" if by_id else ""
        if api is SHARE_FETCH:
            acks = ("; orders 3, audit 2 and payments 7 acknowledge records (AcknowledgementBatches), orders 0 and "
                    "audit 1 do not (a refused partition's AcknowledgeErrorCode is its error only when it "
                    "acknowledges); ForgottenTopicsData forwarded as it is")
        elif api is SHARE_ACKNOWLEDGE:
            acks = "; every partition acknowledges one or two batches"
        else:
            acks = ""

        def add(variant, description, topics, refused, unknown=(), tags=False, broker_edit=None,
                top_level_error=False, group=SHARE_GROUP):
            request = make_request(api, v, topics, tags, group=group)
            cases.append(Case(api, v, variant, "%s v%d: %s" % (api.name, v, description), request, refused, unknown,
                              tags, broker_edit, top_level_error))

        add("middle", "orders (2 partitions), audit (2) refused, payments (1)%s%s; the broker's NodeEndpoints "
            "(after Responses) name the leader of orders 0" % (named, acks), THREE, {"audit"})
        add("first", "the first of 3 topics refused", THREE, {"orders"})
        add("last", "the last of 3 topics refused", THREE, {"payments"})
        add("several", "6 topics, those at positions 0, 2, 3 and 5 refused (first, two in a row, last), several "
            "partitions each", SIX, SIX_REFUSED)
        if not by_id:
            add("long_name", "200-byte topic names (compact lengths of 2 varint bytes), the second refused",
                [(LONG_ALLOWED, [0, 1]), (LONG_REFUSED, [0, 2]), ("payments", [1])], {LONG_REFUSED})
        add("fewer_responses", "audit refused; the broker answers orders only (payments missing): the refused entry "
            "follows it", THREE, {"audit"}, broker_edit=drop_last_response)
        add("no_responses", "orders refused; the broker answers no topic: the refused entry is the only one",
            THREE, {"orders"}, broker_edit=no_responses)
        if by_id:
            add("all_allowed", "nothing refused (the policy refuses a topic the request does not name, and cannot "
                "name an id the request does not hold)", THREE, {"secrets"}, unknown={"ghost"})
        else:
            add("all_allowed", "nothing refused (the policy refuses a topic the request does not name)", THREE,
                {"secrets"})
        add("none_allowed", "every topic refused: kedge answers the whole request", THREE,
            {"orders", "audit", "payments"})
        add("empty", "no topics: nothing to split", [], {"orders"})
        if by_id:
            add("unknown_ids", "6 topics by id: orders and secrets refused (29), payments and billing unknown to the "
                "policy (UNKNOWN_TOPIC_ID, 100), audit and clicks allowed", SIX, {"orders", "secrets"},
                unknown={"payments", "billing"})
            add("unknown_only", "audit's id unknown to the policy (UNKNOWN_TOPIC_ID, 100), orders and payments "
                "allowed", THREE, set(), unknown={"audit"})
            add("none_allowed_unknown", "every topic refused, orders (29) and the unknown ids of audit and payments "
                "(100): kedge answers the whole request", THREE, {"orders"}, unknown={"audit", "payments"})
        extra = ""
        if api is SHARE_FETCH:
            extra = ", acknowledgement batches and forgotten topics (ShareAcquireMode 1 in v2)"
        elif api is SHARE_ACKNOWLEDGE:
            extra = " and acknowledgement batches (v2: IsRenewAck true, Renew acknowledgements)"
        response_extra = ", CurrentLeader and NodeEndpoints (nodes 2 and 1)" if share else " and producer states"
        add("unknown_tags", "unknown tags in the request header, body, topics and partitions%s, and in the broker's "
            "response header, body, topics, partitions%s; audit refused" % (
                extra if share else " (topics only: the partitions are int32s)", response_extra),
            THREE, {"audit"}, tags=True)
        every_third = {"topic-%03d" % i for i in range(0, 130, 3)}
        unknown = {"topic-%03d" % i for i in range(0, 130, 6)} if by_id else set()
        add("many_topics", "130 topics, every third refused (44%s): the compact count of the request (131) takes 2 "
            "varint bytes, the forwarded one (87) 1, the merged one 2 again" % (
                ": 22 refused (29), 22 unknown ids (100)" if by_id else ""),
            many_topics(130), every_third - unknown, unknown=unknown)
        add("none_allowed_many", "130 topics, every one refused%s: kedge answers the whole request, its compact "
            "count (131) of 2 varint bytes" % (" (every sixth an unknown id, 100)" if by_id else ""),
            many_topics(130), {"topic-%03d" % i for i in range(130) if not (by_id and i % 6 == 0)},
            unknown={"topic-%03d" % i for i in range(0, 130, 6)} if by_id else set())
        if share:
            add("null_group", "GroupId null (the wire allows it; kedge names no group and forwards it as it is), "
                "audit refused", THREE, {"audit"}, group=None)
            add("none_allowed_null_group", "GroupId null, every topic refused: kedge answers the whole request",
                THREE, {"orders", "audit", "payments"}, group=None)
            if api is SHARE_FETCH:
                add("top_level_error", "audit refused; the broker answers SHARE_SESSION_NOT_FOUND (122) at the top "
                    "level, with its ErrorMessage and no topics: the client receives it unchanged", THREE, {"audit"},
                    broker_edit=share_session_not_found, top_level_error=True)
            else:
                add("top_level_error", "audit refused; the broker answers INVALID_SHARE_SESSION_EPOCH (123) at the "
                    "top level, no ErrorMessage, no topics: the client receives it unchanged", THREE, {"audit"},
                    broker_edit=invalid_share_session_epoch, top_level_error=True)
    return cases


def cases_for_named(api):
    """ListOffsets, OffsetCommit, OffsetForLeaderEpoch, DeleteRecords, TxnOffsetCommit, CreateTopics, DeleteTopics and
    CreatePartitions in every version kedge splits (by name: error 29 only)."""
    cases = []
    lo, hi = api.versions
    every_third = {"topic-%03d" % i for i in range(0, 130, 3)}
    for v in range(lo, hi + 1):
        flexible = v in api.flexible

        def add(variant, description, topics, refused, tags=False, broker_edit=None):
            request = make_request(api, v, topics, tags)
            cases.append(Case(api, v, variant, "%s v%d: %s" % (api.name, v, description), request, refused, (), tags,
                              broker_edit))

        shape = "" if api.partitions is None else " (2 partitions)"
        add("middle", "orders%s, audit%s refused, payments%s" % (shape, shape, " (1 partition)" if shape else ""),
            THREE, {"audit"})
        add("first", "the first of 3 topics refused", THREE, {"orders"})
        add("last", "the last of 3 topics refused", THREE, {"payments"})
        add("several", "6 topics, those at positions 0, 2, 3 and 5 refused (first, two in a row, last)%s" % (
            "" if api.partitions is None else ", several partitions each"), SIX, SIX_REFUSED)
        add("long_name", "200-byte topic names (%s), the second refused" % (
            "compact lengths of 2 varint bytes" if flexible else "int16 lengths"),
            [(LONG_ALLOWED, [0, 1]), (LONG_REFUSED, [0, 2]), ("payments", [1])], {LONG_REFUSED})
        add("fewer_responses", "audit refused; the broker answers orders only (payments missing): the refused entry "
            "follows it", THREE, {"audit"}, broker_edit=drop_last_response)
        add("no_responses", "orders refused; the broker answers no topic: the refused entry is the only one", THREE,
            {"orders"}, broker_edit=no_responses)
        add("all_allowed", "nothing refused (the policy refuses a topic the request does not name)", THREE,
            {"secrets"})
        add("none_allowed", "every topic refused: kedge answers the whole request", THREE,
            {"orders", "audit", "payments"})
        add("empty", "no topics: nothing to split", [], {"orders"})
        if flexible:
            add("unknown_tags", "unknown tags in the request header, body, topics%s, and in the broker's response "
                "header, body, topics%s; audit refused" % (
                    {CREATE_TOPICS: ", assignments and configs", CREATE_PARTITIONS: " and assignments",
                     DELETE_TOPICS: "" if v >= 6 else " (none: v%d names topics by bare strings)" % v}.get(
                        api, " and partitions"),
                    {CREATE_TOPICS: " and configs, besides the tagged TopicConfigErrorCode",
                     DELETE_TOPICS: "", CREATE_PARTITIONS: ""}.get(api, " and partitions")),
                THREE, {"audit"}, tags=True)
        count = ("its compact count (131) takes 2 varint bytes, the forwarded one (87) 1, the merged one 2 again"
                 if flexible else "int32 counts (130, 86, 130)")
        add("many_topics", "130 topics, every third refused (44): %s" % count, many_topics(130), every_third)
        add("none_allowed_many", "130 topics, every one refused: kedge answers the whole request, %s" % (
            "its compact count (131) of 2 varint bytes" if flexible else "an int32 count of 130"),
            many_topics(130), {"topic-%03d" % i for i in range(130)})
        if api is DELETE_TOPICS and v >= 6:
            audit_by_id = (None, [], topic_id("audit"))
            add("topic_id", "orders by name, audit by TopicId only (Name null), payments by name and refused: a "
                "topic by id is no name to decide by, so kedge does not split the request (unreadable: decided "
                "whole)", [("orders", []), audit_by_id, ("payments", [])], {"payments"})
            add("topic_id_none_allowed", "orders and payments by name, both refused, then audit by TopicId only "
                "(Name null): not split either (unreadable), though every named topic is refused",
                [("orders", []), ("payments", []), audit_by_id], {"orders", "payments"})
            add("name_and_id", "audit named with its TopicId too (Kafka answers such an element INVALID_REQUEST) and "
                "refused: its entry echoes the TopicId as requested; orders and payments by name",
                [("orders", []), ("audit", [], topic_id("audit")), ("payments", [])], {"audit"})
    return cases


def all_cases():
    cases = cases_for(PRODUCE) + cases_for(FETCH)
    for api in (SHARE_FETCH, SHARE_ACKNOWLEDGE, DESCRIBE_PRODUCERS):
        cases += cases_for_share_or_producers(api)
    for api in NAMED_APIS:
        cases += cases_for_named(api)
    names = [c.file_name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError("duplicate case files: %s" % duplicates)
    for api in APIS:  # every version kedge splits has a split case and a case it answers whole
        lo, hi = api.versions
        for result in ("split", "none_allowed", "all_allowed"):
            missing = [v for v in range(lo, hi + 1)
                       if not any(c.api is api and c.version == v and c.result() == result for c in cases)]
            if missing:
                raise ValueError("%s: no %s case for versions %s" % (api.name, result, missing))
    by_id = [c for c in cases if c.by_id]  # by-id versions answer both errors, split and whole
    for result in ("split", "none_allowed"):
        for error in (TOPIC_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_ID):
            for api in APIS:
                for v in [v for v in range(api.versions[0], api.versions[1] + 1) if api.by_id(v)]:
                    if not any(c.api is api and c.version == v and c.result() == result and
                               any(e == error for _, _, e in c.refused_entries()) for c in by_id):
                        raise ValueError("%s v%d: no %s case with error %d" % (api.name, v, result, error))
    # ShareFetch: refused partitions that acknowledge (AcknowledgeErrorCode = the error, the message) and partitions
    # that do not (0, null), split and whole, in every version.
    for v in range(SHARE_FETCH.versions[0], SHARE_FETCH.versions[1] + 1):
        for result in ("split", "none_allowed"):
            seen = {(p["AcknowledgeErrorCode"] != 0, p["AcknowledgeErrorMessage"] is not None)
                    for c in cases if c.api is SHARE_FETCH and c.version == v and c.result() == result
                    for _, e, _ in c.refused_entries() for p in e["Partitions"]}
            if seen != {(True, True), (False, False)}:
                raise ValueError("ShareFetch v%d %s: refused partitions with and without acknowledgements: %s"
                                 % (v, result, sorted(seen)))
    # Section 5: a DeleteTopics v6 element by id (Name null) is never split; every CreateTopics v5+ version merges a
    # broker entry carrying the tagged TopicConfigErrorCode; many topics grow every count past one varint byte.
    if not any(c.api is DELETE_TOPICS and c.version == 6 and c.result() == "unreadable" for c in cases):
        raise ValueError("DeleteTopics v6: no case naming a topic by id")
    for c in cases:
        if c.result() == "unreadable" and not (c.api is DELETE_TOPICS and c.version >= 6 and None in c.names()):
            raise ValueError("%s: unreadable" % c.file_name)
    for v in range(5, CREATE_TOPICS.versions[1] + 1):
        if not any(c.api is CREATE_TOPICS and c.version == v and c.result() == "split" and
                   any(t.get("TopicConfigErrorCode") for t in c.merged()["Topics"]) for c in cases):
            raise ValueError("CreateTopics v%d: no merged TopicConfigErrorCode" % v)
    for api in NAMED_APIS:
        for v in range(api.versions[0], api.versions[1] + 1):
            for result in ("split", "none_allowed"):
                if not any(c.api is api and c.version == v and c.result() == result and len(c.topics()) > 127
                           for c in cases):
                    raise ValueError("%s v%d: no %s case of more than 127 topics" % (api.name, v, result))
    return sorted(cases, key=lambda c: c.file_name)


SPLIT = CaseSet(lambda: all_cases(), SPLIT_DIR, "tests/golden/split/generate_split.py", "split vectors",
                "kedge-split-")


def main(argv=None):
    return SPLIT.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
