#!/usr/bin/python3
"""Golden vectors for kedge's OffsetFetch topic filtering (kafka_codec/topic_filter.h, filter_offset_fetch_topics).

Kafka's broker answers an OffsetFetch that asks for all of a group's committed offsets (null Topics, v2+) with only
the topics the client may Describe (KafkaApis fetchAllOffsetsForGroup: the group's offsets are filtered by
`authHelper.filterByAuthorized(..., DESCRIBE, TOPIC, ...)`); a request naming a topic the client may not Describe is
refused before it reaches the broker. kedge filters the broker's response the same way. Each case is one whole
OffsetFetch response frame a broker sends (response_hex), the topic names a policy denies (denied:
TopicFilter::describable is false for exactly these), the topic names in wire order (topics; v8+ group after group),
and the frame the client must receive (expected_hex): the denied topics removed from Topics (v0-7) or from every
group's Topics (v8+), everything else as the broker sent it (ThrottleTimeMs, the top-level and group ErrorCodes,
group ids, the partitions of kept topics, unknown tagged fields); null when nothing is denied
(filter_offset_fetch_topics reports changed == false and leaves its output alone).

Responses and expected frames are encoded here from OffsetFetchResponse.json (Apache Kafka: v0-9, flexibleVersions
6+; v0-7 name topics at the top level, CommittedLeaderEpoch v5-7, the top-level ErrorCode v2-7; v8+ a Groups array,
each with its Topics, CommittedLeaderEpoch and ErrorCode; v9 has v8's layout): the filter is applied to the logical
message and the result encoded again from scratch, so every count, compact length and the frame size is computed
independently. Only the primitive encoder of ../generate.py is shared.

Usage:
  /usr/bin/python3 tests/golden/offset_filter/generate_offset_filter.py            # (re)write every case file
  /usr/bin/python3 tests/golden/offset_filter/generate_offset_filter.py --check    # regenerate into a temp dir, diff
  /usr/bin/python3 tests/golden/offset_filter/generate_offset_filter.py --out DIR  # write into DIR instead
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

API_KEY = 9
VERSIONS = range(0, 10)
CORRELATION_ID = 0x0FF5E7F1
FLEXIBLE_FROM = 6
GROUPS_FROM = 8
TOP_LEVEL_ERROR = range(2, 8)  # ErrorCode "versions": "2-7"

UNKNOWN_TOPIC_OR_PARTITION = 3
COORDINATOR_LOAD_IN_PROGRESS = 14
NOT_COORDINATOR = 16
UNSTABLE_OFFSET_COMMIT = 88

# 200 bytes: a compact string length (n + 1) needs a 2-byte unsigned varint.
LONG_TOPIC = ("orders.eu-west-1.retail.checkout.v2." + "x" * 200)[:200]
UNICODE_TOPIC = "conn\u00e9ct-\u00fcnicode"
# 300 bytes of committed metadata: its compact length needs 2 bytes too.
LONG_METADATA = ("consumer=payments-app;host=10.1.0.2;" + "m" * 300)[:300]

UNKNOWN_TAG_SMALL = (3, bytes.fromhex("0b6b656467652d74657374"))
UNKNOWN_TAG_WIDE = (130, bytes(range(200)))
UNKNOWN_TAG_EMPTY = (7, b"")

# OffsetFetchResponse.json. The partition and topic layouts of v0-7 and v8+ are the same but for CommittedLeaderEpoch
# (5-7 there, 8+ here); Metadata is nullable in every version.
PARTITION_V0_7 = Struct("OffsetFetchResponsePartition", [
    Field("PartitionIndex", "int32"), Field("CommittedOffset", "int64"),
    Field("CommittedLeaderEpoch", "int32", "5-7"),
    Field("Metadata", "string", nullable="0-7"),
    Field("ErrorCode", "int16"),
])
PARTITION_V8 = Struct("OffsetFetchResponsePartitions", [
    Field("PartitionIndex", "int32", "8+"), Field("CommittedOffset", "int64", "8+"),
    Field("CommittedLeaderEpoch", "int32", "8+"),
    Field("Metadata", "string", "8+", nullable="8+"),
    Field("ErrorCode", "int16", "8+"),
])
OFFSET_FETCH_RESPONSE = Struct("OffsetFetchResponse", [
    Field("ThrottleTimeMs", "int32", "3+"),
    Field("Topics", ArrayOf(Struct("OffsetFetchResponseTopic", [
        Field("Name", "string", "0-7"),
        Field("Partitions", ArrayOf(PARTITION_V0_7), "0-7"),
    ])), "0-7"),
    Field("ErrorCode", "int16", "2-7"),
    Field("Groups", ArrayOf(Struct("OffsetFetchResponseGroup", [
        Field("GroupId", "string", "8+"),
        Field("Topics", ArrayOf(Struct("OffsetFetchResponseTopics", [
            Field("Name", "string", "8+"),
            Field("Partitions", ArrayOf(PARTITION_V8), "8+"),
        ])), "8+"),
        Field("ErrorCode", "int16", "8+"),
    ])), "8+"),
])


def response_frame(version, body, header_tags=()):
    """Response header v0 (correlation id), v1 in flexible versions (a tag buffer)."""
    flexible = version >= FLEXIBLE_FROM
    header = enc_int32(CORRELATION_ID) + (enc_tag_buffer(list(header_tags)) if flexible else b"")
    payload = header + encode_struct(OFFSET_FETCH_RESPONSE, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


def partition(index, offset, epoch=-1, metadata="", error=0, tags=False):
    p = {"PartitionIndex": index, "CommittedOffset": offset, "CommittedLeaderEpoch": epoch, "Metadata": metadata,
         "ErrorCode": error}
    if tags:
        p[UNKNOWN_TAGS] = [UNKNOWN_TAG_EMPTY]
    return p


def topic(name, partitions, tags=False):
    t = {"Name": name, "Partitions": partitions}
    if tags:
        t[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL]
    return t


def group(group_id, topics, error=0, tags=False):
    g = {"GroupId": group_id, "Topics": topics, "ErrorCode": error}
    if tags:
        g[UNKNOWN_TAGS] = [UNKNOWN_TAG_SMALL, UNKNOWN_TAG_EMPTY]
    return g


def response(version, groups, error=0, tags=False):
    """The logical response: `groups` is [(group id, topics, group error)]. v0-7 carry one group's topics at the top
    level with its error as the top-level ErrorCode (v2-7); v8+ carry every group."""
    body = {"ThrottleTimeMs": 25}
    if version >= GROUPS_FROM:
        body["Groups"] = [group(gid, topics, gerr, tags) for gid, topics, gerr in groups]
    else:
        assert len(groups) == 1
        _, topics, gerr = groups[0]
        body["Topics"] = topics
        body["ErrorCode"] = gerr if gerr else error
    if tags:
        body[UNKNOWN_TAGS] = [UNKNOWN_TAG_WIDE]
    return body


def topic_lists(body):
    """Every Topics array of the logical response, in wire order."""
    if "Groups" in body:
        return [g["Topics"] for g in body["Groups"]]
    return [body["Topics"]]


def filtered(body, denied):
    out = copy.deepcopy(body)
    for topics in topic_lists(out):
        topics[:] = [t for t in topics if t["Name"] not in denied]
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
        return "offset_fetch.v%d%s.json" % (self.version, suffix)

    @property
    def topic_names(self):
        return [t["Name"] for topics in topic_lists(self.body) for t in topics]

    @property
    def changed(self):
        return any(name in set(self.denied) for name in self.topic_names)

    def to_json(self):
        response = response_frame(self.version, self.body, self.header_tags)
        expected = response_frame(self.version, filtered(self.body, set(self.denied)), self.header_tags)
        doc = {
            "api_key": API_KEY,
            "api_version": self.version,
            "description": self.description,
            "denied": self.denied,
            "topics": self.topic_names,
            "response_hex": response.hex(),
            "expected_hex": expected.hex() if self.changed else None,
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def five_topics(tags=False):
    """payments (2 partitions), orders, the 200-byte name, a non-ASCII name, and audit.log without partitions."""
    return [
        topic("payments", [partition(0, 1042, 7, "", tags=tags),
                           partition(1, 99, 7, "ckpt:42", tags=tags)], tags=tags),
        topic("orders", [partition(0, -1, -1, "", tags=tags)], tags=tags),
        topic(LONG_TOPIC, [partition(3, 7_000_000_000, 12, LONG_METADATA, tags=tags)], tags=tags),
        topic(UNICODE_TOPIC, [partition(0, 5, 0, "m\u00e9ta", tags=tags)], tags=tags),
        topic("audit.log", [], tags=tags),
    ]


FIVE_NAMES = [t["Name"] for t in five_topics()]


def many_topics(count=150):
    return [topic("topic-%03d" % i, [partition(i % 3, 1000 + i, i % 5, "")]) for i in range(count)]


def one_group(version, topics, error=0, tags=False):
    return response(version, [("payments-app", topics, 0)], error=error, tags=tags)


def layout(version):
    if version >= GROUPS_FROM:
        return "each group's Topics"
    return "Topics"


def all_cases():
    cases = []
    for v in VERSIONS:
        where = layout(v)
        cases.append(Case(v, None, "OffsetFetch v%d, 5 topics in %s; payments (first), the 200-byte name (middle) and "
                          "audit.log (last, no partitions) denied" % (v, where), one_group(v, five_topics()),
                          ["payments", LONG_TOPIC, "audit.log", "not-listed"]))
        cases.append(Case(v, "one_denied", "OffsetFetch v%d, 5 topics, only orders denied" % v,
                          one_group(v, five_topics()), ["orders"]))
        cases.append(Case(v, "none_denied", "OffsetFetch v%d, 5 topics, none denied (names differing only in case "
                          "or a trailing space are other names): unchanged" % v, one_group(v, five_topics()),
                          ["Payments", "orders ", "secret", "payments-app"]))
        cases.append(Case(v, "all_denied", "OffsetFetch v%d, 5 topics, all denied: no topics left" % v,
                          one_group(v, five_topics()), FIVE_NAMES))
        cases.append(Case(v, "no_topics", "OffsetFetch v%d with no topics: nothing to filter" % v,
                          one_group(v, []), ["orders"]))
        many = many_topics()
        denied_many = [t["Name"] for i, t in enumerate(many) if i % 5 == 0]
        cases.append(Case(v, "many_topics", "OffsetFetch v%d, 150 topics, every fifth (30) denied: 120 left (a "
                          "compact count of 151 takes 2 bytes, of 121 one)" % v, one_group(v, many), denied_many))
        cases.append(Case(v, "null_metadata", "OffsetFetch v%d, partitions with null and empty Metadata; orders "
                          "(null Metadata) denied, payments (null and empty) kept" % v,
                          one_group(v, [topic("payments", [partition(0, 10, 1, None), partition(1, 11, 1, ""),
                                                           partition(2, -1, -1, None)]),
                                        topic("orders", [partition(0, 20, 2, None)]),
                                        topic("audit.log", [partition(0, 30, 3, None)])]),
                          ["orders"]))
        if v >= GROUPS_FROM:
            cases.append(Case(v, "error", "OffsetFetch v%d, 3 groups: loading-group with COORDINATOR_LOAD_IN_PROGRESS "
                              "and no topics, payments-app with orders denied and a partition with "
                              "UNSTABLE_OFFSET_COMMIT, moved-group with NOT_COORDINATOR after its denied topic: the "
                              "errors stay" % v,
                              response(v, [("loading-group", [], COORDINATOR_LOAD_IN_PROGRESS),
                                           ("payments-app", [topic("payments", [partition(0, -1, -1, "",
                                                                                          UNSTABLE_OFFSET_COMMIT)]),
                                                             topic("orders", [partition(0, 5, 1, "")])], 0),
                                           ("moved-group", [topic("orders", [partition(1, 6, 1, "")]),
                                                            topic("audit.log", [partition(0, 7, 1, "")])],
                                            NOT_COORDINATOR)]),
                              ["orders"]))
            cases.append(Case(v, "groups", "OffsetFetch v%d, 5 groups: payments-app (orders and the 200-byte name "
                              "denied), analytics (none denied), empty-group (no topics), orders-app (all denied: "
                              "an empty Topics), and a group named orders (a group id is not a topic): only topics "
                              "go" % v,
                              response(v, [("payments-app", five_topics()[:3], 0),
                                           ("analytics", five_topics()[3:], 0),
                                           ("empty-group", [], 0),
                                           ("orders-app", [topic("orders", [partition(0, 1, 0, "")]),
                                                           topic("secret", [partition(0, 2, 0, None)])], 0),
                                           ("orders", [topic("payments", [partition(0, 3, 0, "")])], 0)]),
                              ["orders", LONG_TOPIC, "secret"]))
            cases.append(Case(v, "groups_none_denied", "OffsetFetch v%d, 3 groups, none of their topics denied (a "
                              "denied name equal to a group id): unchanged" % v,
                              response(v, [("payments-app", five_topics()[:2], 0), ("orders", [], 0),
                                           ("analytics", five_topics()[2:], 0)]),
                              ["orders-app", "secret"]))
        elif v in TOP_LEVEL_ERROR:
            cases.append(Case(v, "error", "OffsetFetch v%d with top-level COORDINATOR_LOAD_IN_PROGRESS, a partition "
                              "with UNSTABLE_OFFSET_COMMIT and orders denied: the errors stay" % v,
                              one_group(v, [topic("payments", [partition(0, -1, -1, "", UNSTABLE_OFFSET_COMMIT)]),
                                            topic("orders", [partition(0, 5, 1, "")])],
                                        error=COORDINATOR_LOAD_IN_PROGRESS),
                              ["orders"]))
        else:
            cases.append(Case(v, "error", "OffsetFetch v%d (no top-level ErrorCode), partitions with "
                              "UNKNOWN_TOPIC_OR_PARTITION; orders denied: the partition errors of kept topics stay"
                              % v,
                              one_group(v, [topic("payments", [partition(0, -1, -1, "", UNKNOWN_TOPIC_OR_PARTITION)]),
                                            topic("orders", [partition(0, -1, -1, "", UNKNOWN_TOPIC_OR_PARTITION)])]),
                              ["orders"]))
        if v >= FLEXIBLE_FROM:
            cases.append(Case(v, "unknown_tags", "OffsetFetch v%d, unknown tags in the header, the body, every %s"
                              "topic and partition; orders and the 200-byte name denied (their tags go with them)"
                              % (v, "group, " if v >= GROUPS_FROM else ""),
                              response(v, [("payments-app", five_topics(tags=True), 0)], tags=True),
                              ["orders", LONG_TOPIC], header_tags=[UNKNOWN_TAG_WIDE]))
    return sorted(cases, key=lambda c: c.file_name)


FILTER = CaseSet(lambda: all_cases(), FILTER_DIR, "tests/golden/offset_filter/generate_offset_filter.py",
                 "offset filter vectors", "kedge-offset-filter-")


def main(argv=None):
    return FILTER.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
