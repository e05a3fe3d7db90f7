#!/usr/bin/python3
"""Golden vectors for kedge's Metadata topic filtering (kafka_codec/topic_filter.h, filter_metadata_topics).

Each case is one whole Metadata response frame a broker sends (response_hex), the topic names a policy denies
(denied: TopicFilter::describable is false for exactly these), and the frame a client must receive:
  listing_hex  the request asked for every topic: the denied topics are left out of Topics (Kafka's broker never
               lists a topic the client may not Describe);
  named_hex    the request named its topics: each denied topic is replaced, in place, by the entry Kafka's broker
               writes for a topic unauthorized for Describe (KafkaApis.handleTopicMetadataRequest,
               metadataResponseTopic(TOPIC_AUTHORIZATION_FAILED, name, Uuid.ZERO_UUID, isInternal = false, [])):
               ErrorCode 29, the Name, TopicId zero (v10+), IsInternal false (v1+), Partitions [],
               TopicAuthorizedOperations -2147483648 (v8+, the spec default) and an empty tag buffer (v9+).
               (Kafka appends these entries after the authorized topics; kedge keeps their place, and clients
               do not depend on the order.)
  by_id_hex    (v12+ only) the request asked for its topics by id: each denied topic is replaced by the entry Kafka
               writes for a topic id unauthorized for Describe: ErrorCode 29, Name null, the topic's own TopicId
               (Kafka does not reveal the name of a topic the client may not see), IsInternal false, Partitions [],
               TopicAuthorizedOperations -2147483648 and an empty tag buffer.
All are null when nothing is denied: filter_metadata_topics reports changed == false and leaves its output alone.
A topic with a null Name (v12+, an unknown topic id) is never filtered.

Responses and expected frames are encoded here from MetadataResponse.json (Apache Kafka 3.9, validVersions 0-12,
flexibleVersions 9+; v13 adds the top-level ErrorCode, KIP-1102): the filter is applied to the logical message and
the result encoded again from scratch, so every count, compact length and the frame size is computed independently.
Only the primitive encoder of ../generate.py is shared.

Usage:
  /usr/bin/python3 tests/golden/topic_filter/generate_topic_filter.py            # (re)write every case file
  /usr/bin/python3 tests/golden/topic_filter/generate_topic_filter.py --check    # regenerate into a temp dir, diff
  /usr/bin/python3 tests/golden/topic_filter/generate_topic_filter.py --out DIR  # write into DIR instead
Standard library only.
"""

import copy
import json
import os
import sys

FILTER_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(FILTER_DIR))

from generate import (  # noqa: E402  (tests/golden/generate.py: spec-driven primitive encoder, case-file CLI)
    UNKNOWN_TAGS, ArrayOf, CaseSet, EncodeContext, Field, Struct, enc_int32, enc_tag_buffer, encode_struct)

CORRELATION_ID = 0x0BADCAFE
TOPIC_AUTHORIZATION_FAILED = 29
UNKNOWN_TOPIC_OR_PARTITION = 3
INT32_MIN = -2147483648
ZERO_UUID = "00000000000000000000000000000000"
LONG_TOPIC = ("orders.eu-west-1.retail.checkout.v2." + "x" * 200)[:200]

UNKNOWN_TAG_SMALL = (3, bytes.fromhex("0b6b656467652d74657374"))
UNKNOWN_TAG_WIDE = (130, bytes(range(200)))
UNKNOWN_TAG_EMPTY = (7, b"")

# MetadataResponse.json (3.9) plus v13's top-level ErrorCode.
METADATA_RESPONSE = Struct("MetadataResponse", [
    Field("ThrottleTimeMs", "int32", "3+"),
    Field("Brokers", ArrayOf(Struct("MetadataResponseBroker", [
        Field("NodeId", "int32"), Field("Host", "string"), Field("Port", "int32"),
        Field("Rack", "string", "1+", nullable="1+")]))),
    Field("ClusterId", "string", "2+", nullable="2+"),
    Field("ControllerId", "int32", "1+"),
    Field("Topics", ArrayOf(Struct("MetadataResponseTopic", [
        Field("ErrorCode", "int16"), Field("Name", "string", nullable="12+"), Field("TopicId", "uuid", "10+"),
        Field("IsInternal", "bool", "1+"),
        Field("Partitions", ArrayOf(Struct("MetadataResponsePartition", [
            Field("ErrorCode", "int16"), Field("PartitionIndex", "int32"), Field("LeaderId", "int32"),
            Field("LeaderEpoch", "int32", "7+"), Field("ReplicaNodes", ArrayOf("int32")),
            Field("IsrNodes", ArrayOf("int32")), Field("OfflineReplicas", ArrayOf("int32"), "5+")]))),
        Field("TopicAuthorizedOperations", "int32", "8+"),
    ]))),
    Field("ClusterAuthorizedOperations", "int32", "8-10"),
    Field("ErrorCode", "int16", "13+"),
])
FLEXIBLE_FROM = 9


def response_frame(version, body, header_tags=()):
    """Response header v0 (correlation id), v1 in flexible versions (a tag buffer)."""
    flexible = version >= FLEXIBLE_FROM
    header = enc_int32(CORRELATION_ID) + (enc_tag_buffer(list(header_tags)) if flexible else b"")
    payload = header + encode_struct(METADATA_RESPONSE, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


def partition(index, leader, tags=False):
    p = {"ErrorCode": 0, "PartitionIndex": index, "LeaderId": leader, "LeaderEpoch": 4,
         "ReplicaNodes": [leader, (leader + 1) % 3, (leader + 2) % 3], "IsrNodes": [leader, (leader + 1) % 3],
         "OfflineReplicas": [(leader + 2) % 3]}
    if tags:
        p[UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
    return p


def topic(name, topic_id, partitions=2, error=0, internal=False, tags=False):
    t = {"ErrorCode": error, "Name": name, "TopicId": topic_id, "IsInternal": internal,
         "Partitions": [partition(i, i % 3, tags) for i in range(partitions)], "TopicAuthorizedOperations": 1400}
    if tags:
        t[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_EMPTY]
    return t


def metadata(topics, tags=False):
    brokers = [{"NodeId": i, "Host": "b%d.kafka.internal" % i, "Port": 9092, "Rack": "rack-%d" % i}
               for i in range(3)]
    if tags:
        brokers = [dict(b, **{UNKNOWN_TAGS: [UNKNOWN_TAG_SMALL]}) for b in brokers]
    body = {"ThrottleTimeMs": 0, "Brokers": brokers, "ClusterId": "kedge-cluster-7", "ControllerId": 1,
            "Topics": topics, "ClusterAuthorizedOperations": INT32_MIN, "ErrorCode": 0}
    if tags:
        body[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_WIDE]
    return body


def refused_entry(name):
    return {"ErrorCode": TOPIC_AUTHORIZATION_FAILED, "Name": name, "TopicId": ZERO_UUID, "IsInternal": False,
            "Partitions": [], "TopicAuthorizedOperations": INT32_MIN}


def refused_by_id_entry(topic_id):
    return {"ErrorCode": TOPIC_AUTHORIZATION_FAILED, "Name": None, "TopicId": topic_id, "IsInternal": False,
            "Partitions": [], "TopicAuthorizedOperations": INT32_MIN}


def filtered(body, denied, listing, by_id=False):
    out = copy.deepcopy(body)
    topics = []
    for t in body["Topics"]:
        if t["Name"] is None or t["Name"] not in denied:
            topics.append(copy.deepcopy(t))
        elif by_id:
            topics.append(refused_by_id_entry(t["TopicId"]))
        elif not listing:
            topics.append(refused_entry(t["Name"]))
    out["Topics"] = topics
    return out


class Case:
    def __init__(self, version, variant, description, body, denied, header_tags=()):
        self.version = version
        self.variant = variant
        self.description = description
        self.body = body
        self.denied = list(denied)
        self.header_tags = header_tags

    @property
    def file_name(self):
        suffix = "" if self.variant is None else "." + self.variant
        return "metadata.v%d%s.json" % (self.version, suffix)

    def to_json(self):
        denied = set(self.denied)
        changed = any(t["Name"] is not None and t["Name"] in denied for t in self.body["Topics"])
        response = response_frame(self.version, self.body, self.header_tags)
        listing = response_frame(self.version, filtered(self.body, denied, True), self.header_tags)
        named = response_frame(self.version, filtered(self.body, denied, False), self.header_tags)
        doc = {
            "api_key": 3,
            "api_version": self.version,
            "description": self.description,
            "denied": self.denied,
            "response_hex": response.hex(),
            "listing_hex": listing.hex() if changed else None,
            "named_hex": named.hex() if changed else None,
        }
        if self.version >= 12:
            by_id = response_frame(self.version, filtered(self.body, denied, False, by_id=True), self.header_tags)
            doc["by_id_hex"] = by_id.hex() if changed else None
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


TOPIC_IDS = ["5d3c9b1a7e2f4c80a1b2c3d4e5f60718", "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
             "11111111222233334444555555555555", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "0123456789abcdef0123456789abcdef"]


def five_topics(tags=False):
    names = ["payments", "orders", LONG_TOPIC, "audit.\u00fcnic\u00f6de", "__consumer_offsets"]
    out = [topic(n, TOPIC_IDS[i], partitions=1 + i % 3, tags=tags) for i, n in enumerate(names)]
    out[4]["IsInternal"] = True
    return out


def all_cases():
    cases = []
    for v in range(0, 14):
        cases.append(Case(v, None, "Metadata v%d, 5 topics; payments (first), a 200-byte name (middle) and "
                          "__consumer_offsets (last, internal) denied" % v, metadata(five_topics()),
                          ["payments", LONG_TOPIC, "__consumer_offsets", "not-in-response"]))
        cases.append(Case(v, "none_denied", "Metadata v%d, 5 topics, none denied: unchanged" % v,
                          metadata(five_topics()), ["secret", "Orders", "orders "]))
        cases.append(Case(v, "all_denied", "Metadata v%d, 5 topics, all denied: a listing is empty" % v,
                          metadata(five_topics()), [t["Name"] for t in five_topics()]))
        cases.append(Case(v, "no_topics", "Metadata v%d with no topics: nothing to filter" % v, metadata([]),
                          ["orders"]))
        unknown = [topic("orders", TOPIC_IDS[0]),
                   topic("secret-unknown", ZERO_UUID, partitions=0, error=UNKNOWN_TOPIC_OR_PARTITION)]
        cases.append(Case(v, "error_topic", "Metadata v%d, a denied topic the broker answered with "
                          "UNKNOWN_TOPIC_OR_PARTITION: replaced by TOPIC_AUTHORIZATION_FAILED too" % v,
                          metadata(unknown), ["secret-unknown"]))
        cases.append(Case(v, "one_kept", "Metadata v%d, 5 topics, all but orders denied" % v,
                          metadata(five_topics()), [t["Name"] for t in five_topics() if t["Name"] != "orders"]))
        if v >= FLEXIBLE_FROM:
            cases.append(Case(v, "unknown_tags", "Metadata v%d, unknown tags in the response header, the body, "
                              "brokers, topics and partitions; orders and the 200-byte name denied (their tags go "
                              "with them)" % v, metadata(five_topics(tags=True), tags=True), ["orders", LONG_TOPIC],
                              header_tags=[UNKNOWN_TAG_WIDE]))
        if v >= 12:
            by_id = [topic(None, TOPIC_IDS[0], error=100), topic("payments", TOPIC_IDS[1]),
                     topic(None, TOPIC_IDS[2], partitions=0, error=100)]
            cases.append(Case(v, "null_name", "Metadata v%d, two topics with a null Name (unknown topic ids, "
                              "error 100) around a denied one: the null ones stay" % v, metadata(by_id),
                              ["payments", ""]))
    return sorted(cases, key=lambda c: c.file_name)


FILTER = CaseSet(lambda: all_cases(), FILTER_DIR, "tests/golden/topic_filter/generate_topic_filter.py",
                 "topic filter vectors", "kedge-topic-filter-")


def main(argv=None):
    return FILTER.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
