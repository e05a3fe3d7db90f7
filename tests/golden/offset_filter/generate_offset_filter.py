#!/usr/bin/python3
"""Golden vectors for kedge's OffsetFetch topic filtering (kafka_codec/topic_filter.h, filter_offset_fetch_topics).

Kafka's broker (KafkaApis handleOffsetFetchRequest) answers a topic the client may not Describe in one of two ways,
depending on how the request asked for the group's topics:
  * asked all (null Topics, v2+; fetchAllOffsetsForGroup): the group's offsets are filtered by
    `authHelper.filterByAuthorized(..., DESCRIBE, TOPIC, ...)`, so a refused topic is left out, its name not revealed;
  * asked by name (the request names the group's topics): every partition of a refused topic is answered with
    OffsetFetchResponse.UNAUTHORIZED_PARTITION: CommittedOffset -1 (INVALID_OFFSET), CommittedLeaderEpoch -1 (empty),
    Metadata "" (NO_METADATA, not null), ErrorCode 29 (TOPIC_AUTHORIZATION_FAILED); the other topics as answered.
kedge rewrites the broker's response the same way. Each case is one whole OffsetFetch response frame a broker sends
(response_hex), how the request asked (asked: "all" or "by_name"; the request itself is request_hex, encoded from
OffsetFetchRequest.json: v0-1 an empty Topics, v2-7 a null Topics, v8+ null Topics per group when asking all; the
response's topics and partitions named when asking by name), the topic names a policy denies (denied:
TopicFilter::describable is false for exactly these), the topic names in wire order (topics; v8+ group after group),
and the frame the client must receive (expected_hex): asked all, the denied topics removed from Topics (v0-7) or from
every group's Topics (v8+); asked by name, each denied topic element replaced by its name and, for every partition
the broker listed (same PartitionIndex values, same order), PartitionIndex, CommittedOffset -1, CommittedLeaderEpoch
-1 (v5+), Metadata "", ErrorCode 29, and empty tag buffers (v6+; the broker's unknown tags of that topic and its
partitions go); everything else as the broker sent it (ThrottleTimeMs, the top-level and group ErrorCodes, group ids,
the partitions of kept topics, unknown tagged fields); null when nothing is denied (filter_offset_fetch_topics
reports changed == false and leaves its output alone).

Responses, requests and expected frames are encoded here from OffsetFetchResponse.json and OffsetFetchRequest.json
(Apache Kafka: v0-9, flexibleVersions 6+; v0-7 name topics at the top level, CommittedLeaderEpoch v5-7, the
top-level ErrorCode v2-7; v8+ a Groups array, each with its Topics, CommittedLeaderEpoch and ErrorCode; v9 has v8's
layout, and its request adds MemberId and MemberEpoch): the filter is applied to the logical message and the result
encoded again from scratch, so every count, compact length and the frame size is computed independently. Only the
primitive encoder of ../generate.py is shared.

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
    UNKNOWN_TAGS, ArrayOf, CaseSet, EncodeContext, Field, Struct, enc_int16, enc_int32, enc_string, enc_tag_buffer,
    encode_struct)

API_KEY = 9
VERSIONS = range(0, 10)
CORRELATION_ID = 0x0FF5E7F1
FLEXIBLE_FROM = 6
GROUPS_FROM = 8
TOP_LEVEL_ERROR = range(2, 8)  # ErrorCode "versions": "2-7"

# How the request asked for a group's topics (the vectors' "asked"; kafka_codec/topic_filter.h TopicsAsked).
ASKED_ALL = "all"
ASKED_BY_NAME = "by_name"

UNKNOWN_TOPIC_OR_PARTITION = 3
COORDINATOR_LOAD_IN_PROGRESS = 14
NOT_COORDINATOR = 16
TOPIC_AUTHORIZATION_FAILED = 29
UNSTABLE_OFFSET_COMMIT = 88

# 200 bytes: a compact string length (n + 1) needs a 2-byte unsigned varint.
LONG_TOPIC = ("orders.eu-west-1.retail.checkout.v2." + "x" * 200)[:200]
UNICODE_TOPIC = "conn\u00e9ct-\u00fcnicode"
GROUP_ID = "payments-app"  # the group of v0-7 cases (and of most v8+ ones)
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


# OffsetFetchRequest.json: GroupId and Topics v0-7 (Topics nullable 2-7), Groups v8+ (MemberId nullable and
# MemberEpoch v9+, Topics nullable), RequireStable v7+.
REQUEST_TOPIC = Struct("OffsetFetchRequestTopic", [
    Field("Name", "string"), Field("PartitionIndexes", ArrayOf("int32")),
])
OFFSET_FETCH_REQUEST = Struct("OffsetFetchRequest", [
    Field("GroupId", "string", "0-7"),
    Field("Topics", ArrayOf(REQUEST_TOPIC), "0-7", nullable="2-7"),
    Field("Groups", ArrayOf(Struct("OffsetFetchRequestGroup", [
        Field("GroupId", "string", "8+"),
        Field("MemberId", "string", "9+", nullable="9+"),
        Field("MemberEpoch", "int32", "9+"),
        Field("Topics", ArrayOf(REQUEST_TOPIC), "8+", nullable="8+"),
    ])), "8+"),
    Field("RequireStable", "bool", "7+"),
])
CLIENT_ID = "kedge-golden"


def request_frame(version, groups):
    """An OffsetFetch request for `groups`: [(group id, topics)], topics None (all of the group's offsets: v0-1's
    Topics is not nullable, an empty one stands for it there) or [(name, [partition indexes])]. v0-7 carry one group.
    Request header v1 (api key, version, correlation id, client id), v2 in flexible versions (a tag buffer)."""
    flexible = version >= FLEXIBLE_FROM

    def topics_of(topics):
        if topics is None:
            return None if version >= 2 else []
        return [{"Name": name, "PartitionIndexes": list(indexes)} for name, indexes in topics]

    body = {"RequireStable": False}
    if version >= GROUPS_FROM:
        body["Groups"] = [{"GroupId": gid, "MemberId": None, "MemberEpoch": -1, "Topics": topics_of(topics)}
                          for gid, topics in groups]
    else:
        assert len(groups) == 1
        body["GroupId"], body["Topics"] = groups[0][0], topics_of(groups[0][1])
    header = (enc_int16(API_KEY) + enc_int16(version) + enc_int32(CORRELATION_ID)
              + enc_string(CLIENT_ID, False) + (enc_tag_buffer([]) if flexible else b""))
    payload = header + encode_struct(OFFSET_FETCH_REQUEST, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


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


def unauthorized(t):
    """Kafka's answer to a topic asked by name that the client may not Describe: every partition the broker listed
    as OffsetFetchResponse.UNAUTHORIZED_PARTITION, no tagged fields."""
    return {"Name": t["Name"], "Partitions": [
        {"PartitionIndex": p["PartitionIndex"], "CommittedOffset": -1, "CommittedLeaderEpoch": -1, "Metadata": "",
         "ErrorCode": TOPIC_AUTHORIZATION_FAILED} for p in t["Partitions"]]}


def filtered(body, denied, asked=ASKED_ALL):
    """What the client receives: denied topics left out (asked all) or answered as unauthorized (asked by name)."""
    out = copy.deepcopy(body)
    for topics in topic_lists(out):
        if asked == ASKED_BY_NAME:
            topics[:] = [unauthorized(t) if t["Name"] in denied else t for t in topics]
        else:
            topics[:] = [t for t in topics if t["Name"] not in denied]
    return out


def request_groups(version, body, asked, named=None):
    """The request the response answers: [(group id, topics or None)]. Asked all: every group with null Topics.
    Asked by name: each group names the topics and partitions of its answer, unless `named` ({group id: topics or
    None}) says otherwise (a group the broker answered with an error and no topics, or a group asking all)."""
    if version >= GROUPS_FROM:
        groups = [(g["GroupId"], g["Topics"]) for g in body["Groups"]]
    else:
        groups = [(GROUP_ID, body["Topics"])]
    named = named or {}
    out = []
    for gid, topics in groups:
        if gid in named:
            out.append((gid, named[gid]))
        elif asked == ASKED_BY_NAME:
            out.append((gid, [(t["Name"], [p["PartitionIndex"] for p in t["Partitions"]]) for t in topics]))
        else:
            out.append((gid, None))
    return out


class Case:
    def __init__(self, version, variant, description, body, denied, header_tags=(), asked=ASKED_ALL, named=None):
        self.version = version
        self.variant = variant
        self.description = description
        self.body = body
        self.denied = list(denied)
        self.header_tags = header_tags
        self.asked = asked
        self.request = request_groups(version, body, asked, named)
        # The request must ask the way the case says: by name when every group names its topics.
        assert (asked == ASKED_BY_NAME) == all(topics is not None for _, topics in self.request), self.file_name

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

    @property
    def expected_body(self):
        return filtered(self.body, set(self.denied), self.asked)

    def to_json(self):
        response = response_frame(self.version, self.body, self.header_tags)
        expected = response_frame(self.version, self.expected_body, self.header_tags)
        if self.asked == ASKED_BY_NAME:
            # Answered by name, refused topics are still refused and already answered so: a second pass keeps them.
            assert filtered(self.expected_body, set(self.denied), self.asked) == self.expected_body
            assert [t["Name"] for ts in topic_lists(self.expected_body) for t in ts] == self.topic_names
        doc = {
            "api_key": API_KEY,
            "api_version": self.version,
            "description": self.description,
            "asked": self.asked,
            "denied": self.denied,
            "topics": self.topic_names,
            "request_hex": request_frame(self.version, self.request).hex(),
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


def many_partitions():
    """clicks: 130 partitions listed from 129 down to 0 (a compact count of 131 takes 2 bytes), committed offsets,
    leader epochs and metadata (some null) that differ from partition to partition."""
    return topic("clicks", [partition(i, 10_000 + i * 7, i % 4, None if i % 3 == 0 else "c%d" % i)
                            for i in range(129, -1, -1)])


def six_topics(tags=False):
    """five_topics with clicks (130 partitions) before audit.log (no partitions)."""
    topics = five_topics(tags)
    return topics[:4] + [many_partitions()] + topics[4:]


def many_topics(count=150):
    return [topic("topic-%03d" % i, [partition(i % 3, 1000 + i, i % 5, "")]) for i in range(count)]


def one_group(version, topics, error=0, tags=False):
    return response(version, [(GROUP_ID, topics, 0)], error=error, tags=tags)


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
        cases += by_name_cases(v)
    return sorted(cases, key=lambda c: c.file_name)


def by_name_cases(v):
    """The request named the group's topics (v8+: every group's): a denied topic is answered as unauthorized."""
    where = layout(v)

    def case(variant, description, body, denied, **kwargs):
        return Case(v, variant, "OffsetFetch v%d asking by name, %s" % (v, description), body, denied,
                    asked=ASKED_BY_NAME, **kwargs)

    cases = [
        case("by_name", "6 topics in %s; payments (first, 2 partitions), the 200-byte name (middle), clicks (130 "
             "partitions, 129 down to 0) and audit.log (last, no partitions) denied: each answered "
             "TOPIC_AUTHORIZATION_FAILED on the partitions the broker listed" % where, one_group(v, six_topics()),
             ["payments", LONG_TOPIC, "clicks", "audit.log", "not-listed"]),
        case("by_name_one_denied", "5 topics, only orders denied", one_group(v, five_topics()), ["orders"]),
        case("by_name_none_denied", "5 topics, none denied (names differing only in case or a trailing space are "
             "other names): unchanged", one_group(v, five_topics()), ["Payments", "orders ", "secret",
                                                                     "payments-app"]),
        case("by_name_all_denied", "6 topics, all denied: every one answered TOPIC_AUTHORIZATION_FAILED",
             one_group(v, six_topics()), FIVE_NAMES + ["clicks"]),
        case("by_name_no_topics", "orders and payments named, the broker answered no topics%s: nothing to filter"
             % (" (and COORDINATOR_LOAD_IN_PROGRESS)" if v >= 2 else ""),
             one_group(v, [], error=COORDINATOR_LOAD_IN_PROGRESS if v in TOP_LEVEL_ERROR else 0)
             if v < GROUPS_FROM else response(v, [(GROUP_ID, [], COORDINATOR_LOAD_IN_PROGRESS)]),
             ["orders"], named={GROUP_ID: [("orders", [0]), ("payments", [0, 1])]}),
        case("by_name_many_topics", "150 topics, every fifth (30) denied: 150 answered, the count unchanged",
             one_group(v, many_topics()), [t["Name"] for i, t in enumerate(many_topics()) if i % 5 == 0]),
        case("by_name_null_metadata", "orders (null Metadata, twice) denied: its Metadata becomes empty, not null; "
             "payments (null and empty) kept",
             one_group(v, [topic("payments", [partition(0, 10, 1, None), partition(1, 11, 1, ""),
                                              partition(2, -1, -1, None)]),
                           topic("orders", [partition(3, 20, 2, None), partition(1, 21, 2, None)]),
                           topic("audit.log", [partition(0, 30, 3, None)])]),
             ["orders"]),
    ]
    if v >= GROUPS_FROM:
        cases.append(case(
            "by_name_error", "3 groups: loading-group with COORDINATOR_LOAD_IN_PROGRESS and no topics (it named "
            "orders), payments-app with a kept partition with UNSTABLE_OFFSET_COMMIT and orders denied (its "
            "UNKNOWN_TOPIC_OR_PARTITION becomes 29), moved-group with NOT_COORDINATOR: the group errors stay",
            response(v, [("loading-group", [], COORDINATOR_LOAD_IN_PROGRESS),
                         ("payments-app", [topic("payments", [partition(0, -1, -1, "", UNSTABLE_OFFSET_COMMIT)]),
                                           topic("orders", [partition(0, -1, -1, "", UNKNOWN_TOPIC_OR_PARTITION),
                                                            partition(1, 5, 1, "m")])], 0),
                         ("moved-group", [topic("orders", [partition(1, -1, -1, None, NOT_COORDINATOR)]),
                                          topic("audit.log", [partition(0, 7, 1, "")])], NOT_COORDINATOR)]),
            ["orders"], named={"loading-group": [("orders", [0])]}))
        cases.append(case(
            "by_name_groups", "5 groups, each naming its topics: payments-app (orders and the 200-byte name "
            "denied), analytics (none denied), empty-group (the broker answered no topics for the one it named), "
            "orders-app (all denied), and a group named orders (a group id is not a topic): only topics are "
            "answered unauthorized",
            response(v, [("payments-app", five_topics()[:3], 0),
                         ("analytics", five_topics()[3:], 0),
                         ("empty-group", [], 0),
                         ("orders-app", [topic("orders", [partition(0, 1, 0, ""), partition(2, 3, 0, "x")]),
                                         topic("secret", [partition(0, 2, 0, None)])], 0),
                         ("orders", [topic("payments", [partition(0, 3, 0, "")])], 0)]),
            ["orders", LONG_TOPIC, "secret"], named={"empty-group": [("payments", [0])]}))
        cases.append(case(
            "by_name_groups_none_denied", "3 groups, none of their topics denied (denied names equal to group "
            "ids): unchanged",
            response(v, [("payments-app", five_topics()[:2], 0), ("audit", five_topics()[4:], 0),
                         ("analytics", five_topics()[2:4], 0)]),
            ["analytics", "audit", "secret"]))
        cases.append(Case(
            v, "mixed_groups", "OffsetFetch v%d, 2 groups: payments-app asking all (null Topics), analytics naming "
            "orders and payments: a request asking all for some group is answered as a listing (kafka_codec/"
            "refusal.h offset_fetch_topics_asked), so orders is left out of both groups" % v,
            response(v, [("payments-app", five_topics()[:3], 0),
                         ("analytics", [topic("orders", [partition(0, 4, 1, "")]),
                                        topic("payments", [partition(0, 5, 1, "")])], 0)]),
            ["orders"], named={"analytics": [("orders", [0]), ("payments", [0])]}))
    elif v in TOP_LEVEL_ERROR:
        cases.append(case(
            "by_name_error", "top-level COORDINATOR_LOAD_IN_PROGRESS, a kept partition with UNSTABLE_OFFSET_COMMIT, "
            "orders denied (its UNKNOWN_TOPIC_OR_PARTITION becomes 29): the top-level error stays",
            one_group(v, [topic("payments", [partition(0, -1, -1, "", UNSTABLE_OFFSET_COMMIT)]),
                          topic("orders", [partition(0, -1, -1, "", UNKNOWN_TOPIC_OR_PARTITION),
                                           partition(1, 5, 1, "m")])],
                      error=COORDINATOR_LOAD_IN_PROGRESS),
            ["orders"]))
    else:
        cases.append(case(
            "by_name_error", "(no top-level ErrorCode) partitions with UNKNOWN_TOPIC_OR_PARTITION; orders denied: "
            "its partition errors become 29, the kept topic's stay",
            one_group(v, [topic("payments", [partition(0, -1, -1, "", UNKNOWN_TOPIC_OR_PARTITION)]),
                          topic("orders", [partition(0, -1, -1, "", UNKNOWN_TOPIC_OR_PARTITION),
                                           partition(1, 5, 1, "m")])]),
            ["orders"]))
    if v >= FLEXIBLE_FROM:
        cases.append(case(
            "by_name_unknown_tags", "unknown tags in the header, the body, every %stopic and partition; orders and "
            "the 200-byte name denied: their entries carry empty tag buffers, every other tag stays"
            % ("group, " if v >= GROUPS_FROM else ""),
            response(v, [(GROUP_ID, five_topics(tags=True), 0)], tags=True),
            ["orders", LONG_TOPIC], header_tags=[UNKNOWN_TAG_WIDE]))
    return cases


FILTER = CaseSet(lambda: all_cases(), FILTER_DIR, "tests/golden/offset_filter/generate_offset_filter.py",
                 "offset filter vectors", "kedge-offset-filter-")


def main(argv=None):
    return FILTER.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
