#!/usr/bin/python3
"""Golden vectors for kedge's namespaces (issue 20): every topic name, group id and transactional id a request
carries gets its kind's prefix, and every one a response carries loses it (kafka_codec/rename.h:
prefix_request_names, strip_response_names).

Which fields are names is decided here from Apache Kafka's JSON message specs, independently of kafka_codec/: a
field is renamed when its spec says `"entityType": "topicName" | "groupId" | "transactionalId"` (T, G, X below),
plus the rules of the namespace design that no entityType expresses:
  * FindCoordinator Key (v0-3) and CoordinatorKeys (v4+), and the response's Coordinators[].Key, name what the
    request's KeyType says: 0 a group, 1 a transactional id, 2 a share group ("groupId:topicId:partition", so the
    group prefix leads the whole key); v0 has no KeyType and asks for groups (K below);
  * a config ResourceName (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs, requests and responses) is a
    topic when the ResourceType of its resource is 2, a group when it is 32, and not a name otherwise (R below); an
    AlterConfigs / IncrementalAlterConfigs request altering any other resource (a broker, the broker default "", a
    broker logger, client metrics) alters the shared cluster and is refused, "foreign_resource" (RA below);
  * the regexes the broker full-matches against backend names with RE2J (KIP-848 SubscribedTopicRegex of
    ConsumerGroupHeartbeat v1 and ConsumerGroupDescribe, over topics, TR; KIP-1152 TransactionalIdPattern of
    ListTransactions v2, over transactional ids, XR) are confined to the namespace, `<prefix escaped>(?:R')` (see
    confine below), refused when they cannot be ("unconfinable_regex"); null and "" stay as they are; a response's
    regex loses exactly kedge's wrapper;
  * a ListTransactions response marked "filter_transactional_ids" lists only the transactions whose TransactionalId
    carries the transactional id prefix (the response processor's filter_list_transactions), then loses the prefix.
Everything else, opaque bytes included (Records, group protocol metadata and assignments, config names and values,
error messages), is copied. A null name stays null. Prefixes: topics "team-a.", groups "grp-a.", transactional ids
"txn-a." (distinct, so a name renamed as the wrong kind shows).

Requests: the client's names get the prefix. A topic name longer than 249 (Kafka's Topic.MAX_NAME_LENGTH) once
prefixed is refused ("name_too_long", the first name refused in wire order is "refused_name") except in Metadata,
which only asks (the broker answers such a name as unknown); any name longer than 32767 bytes once prefixed cannot
be encoded as a Kafka string and is refused too. A request with no name to rename is "unchanged".
Responses: the backend's names lose the prefix; a name without it is left as it is; a name equal to the prefix
becomes "". expected is null when nothing changes.

Every frame is encoded twice from the logical message (once as sent, once renamed), so every count, compact
length, tag size and the frame size of "expected" is computed from scratch. Request header v1 (int16 api key,
int16 version, int32 correlation id, nullable string client id), v2 in flexible versions (+ tag buffer); response
header: int32 correlation id, + tag buffer in flexible versions. Only the primitive encoder of ../generate.py
(Struct/Field/ArrayOf, encode_struct, the record batch writer) is shared.

Layouts: transcribed from the specs of the Apache Kafka mirror at /work/.mirror/apache+kafka/repo (commit
1eb7644349cb, 4.0.0-SNAPSHOT) with `git show HEAD:clients/src/main/resources/common/message/<Name>.json`; versions
that mirror predates are added by hand from the 4.3.1 release (marked "4.3.1" / "4.1+" / "4.2+" below):
Produce v12-13 (v13 names topics by id, KIP-516), Metadata v13 (top-level ErrorCode, KIP-1102), ShareGroupHeartbeat
v1, ShareFetch / ShareAcknowledge v1-2 (requests; the responses are ../generate.py's SHARE_FETCH /
SHARE_ACKNOWLEDGE), ListTransactions v2 (TransactionalIdPattern), ConsumerGroupDescribe v1 (MemberType). ShareGroupHeartbeatRequest.SubscribedTopicNames has no entityType in the spec (its siblings
ConsumerGroupHeartbeatRequest.SubscribedTopicNames and ShareGroupDescribeResponse...SubscribedTopicNames do): it is
taken as topic names, or a share group in a namespace would subscribe to the backend's unprefixed topics.

Each case file: {"api_key", "version", "direction": "request"|"response", "coordinator_key_type" (FindCoordinator),
"input": hex of the whole frame, "expected": hex of the renamed frame or null, "outcome" (requests: "renamed",
"unchanged", "name_too_long", "unconfinable_regex", "foreign_resource"), "refused_name" (refusals: the name or regex
as the client wrote it, a resource as "broker 1"), "filter_transactional_ids" (ListTransactions responses), "names":
the client-side names in wire order (a request's names before the prefix, a response's after the strip; nulls left
out), "note"}.
File names: <api>.v<N>.<request|response>[.<variant>].json.

Usage:
  /usr/bin/python3 tests/golden/rename/generate_rename.py            # (re)write every case file
  /usr/bin/python3 tests/golden/rename/generate_rename.py --check    # regenerate into a temp dir, diff (exit 1)
  /usr/bin/python3 tests/golden/rename/generate_rename.py --tshark   # Wireshark's Kafka dissector reads the frames
  /usr/bin/python3 tests/golden/rename/generate_rename.py --out DIR  # write into DIR instead
Standard library only.
"""

import json
import os
import struct
import sys

RENAME_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(RENAME_DIR))

from generate import (  # noqa: E402  (tests/golden/generate.py: spec-driven primitive encoder, case-file CLI)
    SHARE_ACKNOWLEDGE, SHARE_FETCH, UNKNOWN_TAGS, ArrayOf, CaseSet, EncodeContext, Field, Struct, enc_int16,
    enc_int32, enc_string, enc_tag_buffer, encode_struct, record_batch)

# ---------------------------------------------------------------------------------------------------------------------
# Name kinds and prefixes
# ---------------------------------------------------------------------------------------------------------------------

T = "topic"             # "entityType": "topicName"
G = "group"             # "entityType": "groupId"
X = "transactional_id"  # "entityType": "transactionalId"
K = "coordinator_key"   # FindCoordinator keys: by KeyType (0 group, 1 transactional id, 2 share group)
R = "config_resource"   # config ResourceName: by ResourceType (2 topic, 32 group, else not a name)
RA = "altered_config_resource"  # an altered config ResourceName: 2 topic, 32 group, anything else refused
TR = "topic_regex"              # KIP-848 SubscribedTopicRegex: a regex over topic names
XR = "transactional_id_regex"   # KIP-1152 TransactionalIdPattern: a regex over transactional ids

PREFIXES = {T: "team-a.", G: "grp-a.", X: "txn-a."}
REGEX_OF = {TR: T, XR: X}  # the kind of names a regex kind matches
MAX_TOPIC_NAME = 249     # org.apache.kafka.common.internals.Topic.MAX_NAME_LENGTH
MAX_STRING_BYTES = 0x7FFF  # Kafka strings (compact ones too) are at most Short.MAX_VALUE bytes
TOPIC_RESOURCE, GROUP_RESOURCE = 2, 32
# ConfigResource.Type names of the resources a namespace does not alter.
RESOURCE_TYPE_NAMES = {4: "broker", 8: "broker_logger", 16: "client_metrics"}

# ---------------------------------------------------------------------------------------------------------------------
# Regexes: the broker full-matches them with RE2J against backend names (GroupMetadataManager
# refreshRegularExpressions; TransactionStateManager listTransactionStates: matcher(...).matches()). A client's regex
# R is sent as <prefix escaped>(?:R'), R' being R with each `^` at a leading position written "(?:)"; R must parse
# as one RE2 expression whose parentheses close within it, and holds no "(?:)" at a leading position. This is a
# recursive-descent reading of RE2's syntax (kedge's is a one-pass scanner), so the two are written apart.
# ---------------------------------------------------------------------------------------------------------------------

LEADING_ANCHOR = "(?:)"
POSIX_CLASSES = {"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
                 "upper", "word", "xdigit"}


class RegexError(Exception):
    pass


class _RegexParser:
    """RE2's syntax as far as confinement needs it: atoms (consuming or not), groups, alternation. Offsets are
    into the UTF-8 bytes (kedge works on bytes; every metacharacter is ASCII)."""

    def __init__(self, text):
        self.s = text.encode("utf-8")
        self.i = 0

    def peek(self, n=1):
        return self.s[self.i:self.i + n]

    def parse(self):
        alt = self.alternation()
        if self.i != len(self.s):  # a ")" closing nothing of R's: it would close kedge's group
            raise RegexError("unbalanced ')' at %d" % self.i)
        return alt

    def alternation(self):
        branches = [self.sequence()]
        while self.peek() == b"|":
            self.i += 1
            branches.append(self.sequence())
        return ("alt", branches)

    def sequence(self):
        items = []
        while self.i < len(self.s) and self.peek() not in (b"|", b")"):
            items.append(self.item())
        return items

    def until(self, token, start):
        end = self.s.find(token, start)
        if end < 0:
            raise RegexError("%r does not end" % self.s[self.i:])
        return end + len(token)

    def item(self):
        at, c = self.i, self.peek()
        if c == b"\\":
            nxt = self.s[at + 1:at + 2]
            if not nxt:
                raise RegexError("trailing backslash")
            if nxt == b"Q":  # \Q...\E: everything up to the first \E is literal
                self.i = self.until(b"\\E", at + 2)
                return ("atom", at, True)
            if nxt in (b"x", b"p", b"P") and self.s[at + 2:at + 3] == b"{":
                self.i = self.until(b"}", at + 3)
                return ("atom", at, True)
            self.i = at + 2
            return ("atom", at, nxt not in (b"A", b"z", b"b", b"B"))  # \A \z \b \B consume nothing
        if c == b"[":
            self.i = self.character_class(at)
            return ("atom", at, True)
        if c == b"(":
            return self.group(at)
        if c == b"^":
            self.i += 1
            return ("caret", at)
        self.i += 1
        return ("atom", at, c not in (b"$", b"*", b"+", b"?"))  # "$" and repetitions consume nothing new

    def character_class(self, at):
        i = at + 1
        if self.s[i:i + 1] == b"^":
            i += 1
        member = True  # a "]" right after "[" or "[^" is a member
        while i < len(self.s):
            c = self.s[i:i + 1]
            if c == b"]" and not member:
                return i + 1
            member = False
            if self.s[i:i + 2] == b"[:":
                close = self.s.find(b":]", i + 1)
                if close >= 0:  # RE2J takes "[:" to the first ":]" as a POSIX class, or fails
                    name = self.s[i + 2:close].decode("utf-8", "replace") if close >= i + 2 else ""
                    if (name[1:] if name.startswith("^") else name) not in POSIX_CLASSES:
                        raise RegexError("unknown class %r" % self.s[i:close + 2])
                    i = close + 2
                    continue
            if c == b"\\":
                nxt = self.s[i + 1:i + 2]
                if not nxt:
                    raise RegexError("trailing backslash in class")
                if nxt in (b"x", b"p", b"P") and self.s[i + 2:i + 3] == b"{":
                    close = self.s.find(b"}", i + 3)
                    if close < 0:
                        raise RegexError("escape does not end")
                    i = close + 1
                    continue
                i += 2
                continue
            i += 1
        raise RegexError("class does not end")

    def group(self, at):
        if self.s[at:at + 4] == LEADING_ANCHOR.encode():
            self.i = at + 4
            return ("group", at, "(?:", ("alt", [[]]))
        i = at + 1
        opener = "("
        if self.s[i:i + 1] == b"?":
            i += 1
            if self.s[i:i + 2] == b"P<" or self.s[i:i + 1] == b"<":
                i = self.s.find(b">", i)
                if i < 0:
                    raise RegexError("group name does not end")
                i += 1
                opener = "named"
            else:
                while self.s[i:i + 1] and self.s[i:i + 1] in b"imsU-":
                    i += 1
                if self.s[i:i + 1] == b")":  # flags for the rest of the enclosing group
                    self.i = i + 1
                    return ("flags", at)
                if self.s[i:i + 1] != b":":
                    raise RegexError("unknown (? construct")
                i += 1
                opener = self.s[at:i].decode()
        self.i = i
        inner = self.alternation()
        if self.peek() != b")":
            raise RegexError("group does not close")
        self.i += 1
        return ("group", at, opener, inner)


def _leading_marks(alt, leading, carets, anchors):
    """Collects the offsets of `^` and of "(?:)" at leading positions; True when the alternation may consume."""
    consumes = False
    for branch in alt[1]:
        here = leading
        for item in branch:
            if item[0] == "caret":
                if here:
                    carets.append(item[1])
            elif item[0] == "flags":
                pass
            elif item[0] == "group":
                if item[2] == "(?:" and item[3] == ("alt", [[]]) and here:
                    anchors.append(item[1])
                elif _leading_marks(item[3], here, carets, anchors):
                    here, consumes = False, True
            elif item[2]:  # a consuming atom
                here, consumes = False, True
    return consumes


def _marks(text):
    carets, anchors = [], []
    _leading_marks(_RegexParser(text).parse(), True, carets, anchors)
    return carets, anchors


def escape_literal(text):
    return "".join("\\" + c if ord(c) < 0x80 and not (c.isascii() and (c.isalnum() or c == "_")) else c
                   for c in text)


def confine(regex, prefix):
    """The regex kedge sends for a client's `regex`, or None when it refuses it (unconfinable_regex)."""
    try:
        carets, anchors = _marks(regex)
    except RegexError:
        return None
    if anchors:
        return None
    raw = regex.encode("utf-8")
    out, at = b"", 0
    for caret in carets:
        out += raw[at:caret] + LEADING_ANCHOR.encode()
        at = caret + 1
    confined = escape_literal(prefix) + "(?:" + (out + raw[at:]).decode("utf-8") + ")"
    return None if len(confined.encode("utf-8")) > MAX_STRING_BYTES else confined


def unconfine(text, prefix):
    """A confined regex's client form, or None when `text` is not one kedge wrote (left as it is)."""
    head = escape_literal(prefix) + "(?:"
    if not text.startswith(head) or not text.endswith(")") or len(text) == len(head) + 1:
        return None
    inner = text[len(head):-1]
    try:
        carets, anchors = _marks(inner)
    except RegexError:
        return None
    if carets:
        return None
    raw = inner.encode("utf-8")
    out, at = b"", 0
    for anchor in anchors:
        out += raw[at:anchor] + b"^"
        at = anchor + len(LEADING_ANCHOR)
    return (out + raw[at:]).decode("utf-8")

_NO_DEFAULT = object()


def F(name, ftype, versions="0+", nullable="none", tag=None, entity=None, default=_NO_DEFAULT):
    """A spec field; BYTES is encoded as RECORDS is (same wire form), `entity` marks a name."""
    f = Field(name, "records" if ftype == "bytes" else ftype, versions, nullable, tag)
    f.entity = entity
    f.default = default
    return f


S = Struct
A = ArrayOf

# ---------------------------------------------------------------------------------------------------------------------
# Layouts (see the module docstring for their source)
# ---------------------------------------------------------------------------------------------------------------------

# ProduceRequest.json: apiKey 0, validVersions 0-11, flexibleVersions 9+
PRODUCE_REQUEST = S('ProduceRequest', [
    F('TransactionalId', 'string', '3+', nullable='3+', entity=X, default=None),
    F('Acks', 'int16', '0+'),
    F('TimeoutMs', 'int32', '0+'),
    F('TopicData', A(S('TopicProduceData', [
        F('Name', 'string', '0-12', entity=T),  # 4.3.1: v13 names the topic by id (KIP-516)
        F('TopicId', 'uuid', '13+'),
        F('PartitionData', A(S('PartitionProduceData', [
            F('Index', 'int32', '0+'),
            F('Records', 'records', '0+', nullable='0+'),
        ])), '0+'),
    ])), '0+'),
])

# FetchRequest.json: apiKey 1, validVersions 0-17, flexibleVersions 12+
FETCH_REQUEST = S('FetchRequest', [
    F('ClusterId', 'string', '12+', nullable='12+', tag=0, default=None),
    F('ReplicaId', 'int32', '0-14', default=-1),
    F('ReplicaState', S('ReplicaState', [
        F('ReplicaId', 'int32', '15+', default=-1),
        F('ReplicaEpoch', 'int64', '15+', default=-1),
    ]), '15+', tag=1),
    F('MaxWaitMs', 'int32', '0+'),
    F('MinBytes', 'int32', '0+'),
    F('MaxBytes', 'int32', '3+', default=2147483647),
    F('IsolationLevel', 'int8', '4+', default=0),
    F('SessionId', 'int32', '7+', default=0),
    F('SessionEpoch', 'int32', '7+', default=-1),
    F('Topics', A(S('FetchTopic', [
        F('Topic', 'string', '0-12', entity=T),
        F('TopicId', 'uuid', '13+'),
        F('Partitions', A(S('FetchPartition', [
            F('Partition', 'int32', '0+'),
            F('CurrentLeaderEpoch', 'int32', '9+', default=-1),
            F('FetchOffset', 'int64', '0+'),
            F('LastFetchedEpoch', 'int32', '12+', default=-1),
            F('LogStartOffset', 'int64', '5+', default=-1),
            F('PartitionMaxBytes', 'int32', '0+'),
            F('ReplicaDirectoryId', 'uuid', '17+', tag=0),
        ])), '0+'),
    ])), '0+'),
    F('ForgottenTopicsData', A(S('ForgottenTopic', [
        F('Topic', 'string', '7-12', entity=T),
        F('TopicId', 'uuid', '13+'),
        F('Partitions', A('int32'), '7+'),
    ])), '7+'),
    F('RackId', 'string', '11+', default=''),
])

# ListOffsetsRequest.json: apiKey 2, validVersions 0-10, flexibleVersions 6+
LIST_OFFSETS_REQUEST = S('ListOffsetsRequest', [
    F('ReplicaId', 'int32', '0+'),
    F('IsolationLevel', 'int8', '2+'),
    F('Topics', A(S('ListOffsetsTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('ListOffsetsPartition', [
            F('PartitionIndex', 'int32', '0+'),
            F('CurrentLeaderEpoch', 'int32', '4+', default=-1),
            F('Timestamp', 'int64', '0+'),
            F('MaxNumOffsets', 'int32', '0', default=1),
        ])), '0+'),
    ])), '0+'),
    F('TimeoutMs', 'int32', '10+'),
])

# MetadataRequest.json: apiKey 3, validVersions 0-12, flexibleVersions 9+
METADATA_REQUEST = S('MetadataRequest', [
    F('Topics', A(S('MetadataRequestTopic', [
        F('TopicId', 'uuid', '10+'),
        F('Name', 'string', '0+', nullable='10+', entity=T),
    ])), '0+', nullable='1+'),
    F('AllowAutoTopicCreation', 'bool', '4+', default=True),
    F('IncludeClusterAuthorizedOperations', 'bool', '8-10'),
    F('IncludeTopicAuthorizedOperations', 'bool', '8+'),
])

# OffsetCommitRequest.json: apiKey 8, validVersions 0-9, flexibleVersions 8+
OFFSET_COMMIT_REQUEST = S('OffsetCommitRequest', [
    F('GroupId', 'string', '0+', entity=G),
    F('GenerationIdOrMemberEpoch', 'int32', '1+', default=-1),
    F('MemberId', 'string', '1+'),
    F('GroupInstanceId', 'string', '7+', nullable='7+', default=None),
    F('RetentionTimeMs', 'int64', '2-4', default=-1),
    F('Topics', A(S('OffsetCommitRequestTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('OffsetCommitRequestPartition', [
            F('PartitionIndex', 'int32', '0+'),
            F('CommittedOffset', 'int64', '0+'),
            F('CommittedLeaderEpoch', 'int32', '6+', default=-1),
            F('CommitTimestamp', 'int64', '1', default=-1),
            F('CommittedMetadata', 'string', '0+', nullable='0+'),
        ])), '0+'),
    ])), '0+'),
])

# OffsetFetchRequest.json: apiKey 9, validVersions 0-9, flexibleVersions 6+
OFFSET_FETCH_REQUEST = S('OffsetFetchRequest', [
    F('GroupId', 'string', '0-7', entity=G),
    F('Topics', A(S('OffsetFetchRequestTopic', [
        F('Name', 'string', '0-7', entity=T),
        F('PartitionIndexes', A('int32'), '0-7'),
    ])), '0-7', nullable='2-7'),
    F('Groups', A(S('OffsetFetchRequestGroup', [
        F('GroupId', 'string', '8+', entity=G),
        F('MemberId', 'string', '9+', nullable='9+', default=None),
        F('MemberEpoch', 'int32', '9+', default=-1),
        F('Topics', A(S('OffsetFetchRequestTopics', [
            F('Name', 'string', '8+', entity=T),
            F('PartitionIndexes', A('int32'), '8+'),
        ])), '8+', nullable='8+'),
    ])), '8+'),
    F('RequireStable', 'bool', '7+', default=False),
])

# FindCoordinatorRequest.json: apiKey 10, validVersions 0-6, flexibleVersions 3+
FIND_COORDINATOR_REQUEST = S('FindCoordinatorRequest', [
    F('Key', 'string', '0-3', entity=K),
    F('KeyType', 'int8', '1+', default=0),
    F('CoordinatorKeys', A('string'), '4+', entity=K),
])

# JoinGroupRequest.json: apiKey 11, validVersions 0-9, flexibleVersions 6+
JOIN_GROUP_REQUEST = S('JoinGroupRequest', [
    F('GroupId', 'string', '0+', entity=G),
    F('SessionTimeoutMs', 'int32', '0+'),
    F('RebalanceTimeoutMs', 'int32', '1+', default=-1),
    F('MemberId', 'string', '0+'),
    F('GroupInstanceId', 'string', '5+', nullable='5+', default=None),
    F('ProtocolType', 'string', '0+'),
    F('Protocols', A(S('JoinGroupRequestProtocol', [
        F('Name', 'string', '0+'),
        F('Metadata', 'bytes', '0+'),
    ])), '0+'),
    F('Reason', 'string', '8+', nullable='8+', default=None),
])

# HeartbeatRequest.json: apiKey 12, validVersions 0-4, flexibleVersions 4+
HEARTBEAT_REQUEST = S('HeartbeatRequest', [
    F('GroupId', 'string', '0+', entity=G),
    F('GenerationId', 'int32', '0+'),
    F('MemberId', 'string', '0+'),
    F('GroupInstanceId', 'string', '3+', nullable='3+', default=None),
])

# LeaveGroupRequest.json: apiKey 13, validVersions 0-5, flexibleVersions 4+
LEAVE_GROUP_REQUEST = S('LeaveGroupRequest', [
    F('GroupId', 'string', '0+', entity=G),
    F('MemberId', 'string', '0-2'),
    F('Members', A(S('MemberIdentity', [
        F('MemberId', 'string', '3+'),
        F('GroupInstanceId', 'string', '3+', nullable='3+', default=None),
        F('Reason', 'string', '5+', nullable='5+', default=None),
    ])), '3+'),
])

# SyncGroupRequest.json: apiKey 14, validVersions 0-5, flexibleVersions 4+
SYNC_GROUP_REQUEST = S('SyncGroupRequest', [
    F('GroupId', 'string', '0+', entity=G),
    F('GenerationId', 'int32', '0+'),
    F('MemberId', 'string', '0+'),
    F('GroupInstanceId', 'string', '3+', nullable='3+', default=None),
    F('ProtocolType', 'string', '5+', nullable='5+', default=None),
    F('ProtocolName', 'string', '5+', nullable='5+', default=None),
    F('Assignments', A(S('SyncGroupRequestAssignment', [
        F('MemberId', 'string', '0+'),
        F('Assignment', 'bytes', '0+'),
    ])), '0+'),
])

# DescribeGroupsRequest.json: apiKey 15, validVersions 0-5, flexibleVersions 5+
DESCRIBE_GROUPS_REQUEST = S('DescribeGroupsRequest', [
    F('Groups', A('string'), '0+', entity=G),
    F('IncludeAuthorizedOperations', 'bool', '3+'),
])

# ListGroupsRequest.json: apiKey 16, validVersions 0-5, flexibleVersions 3+
LIST_GROUPS_REQUEST = S('ListGroupsRequest', [
    F('StatesFilter', A('string'), '4+'),
    F('TypesFilter', A('string'), '5+'),
])

# CreateTopicsRequest.json: apiKey 19, validVersions 0-7, flexibleVersions 5+
CREATE_TOPICS_REQUEST = S('CreateTopicsRequest', [
    F('Topics', A(S('CreatableTopic', [
        F('Name', 'string', '0+', entity=T),
        F('NumPartitions', 'int32', '0+'),
        F('ReplicationFactor', 'int16', '0+'),
        F('Assignments', A(S('CreatableReplicaAssignment', [
            F('PartitionIndex', 'int32', '0+'),
            F('BrokerIds', A('int32'), '0+'),
        ])), '0+'),
        F('Configs', A(S('CreatableTopicConfig', [
            F('Name', 'string', '0+'),
            F('Value', 'string', '0+', nullable='0+'),
        ])), '0+'),
    ])), '0+'),
    F('timeoutMs', 'int32', '0+', default=60000),
    F('validateOnly', 'bool', '1+', default=False),
])

# DeleteTopicsRequest.json: apiKey 20, validVersions 0-6, flexibleVersions 4+
DELETE_TOPICS_REQUEST = S('DeleteTopicsRequest', [
    F('Topics', A(S('DeleteTopicState', [
        F('Name', 'string', '6+', nullable='6+', entity=T, default=None),
        F('TopicId', 'uuid', '6+'),
    ])), '6+'),
    F('TopicNames', A('string'), '0-5', entity=T),
    F('TimeoutMs', 'int32', '0+'),
])

# DeleteRecordsRequest.json: apiKey 21, validVersions 0-2, flexibleVersions 2+
DELETE_RECORDS_REQUEST = S('DeleteRecordsRequest', [
    F('Topics', A(S('DeleteRecordsTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('DeleteRecordsPartition', [
            F('PartitionIndex', 'int32', '0+'),
            F('Offset', 'int64', '0+'),
        ])), '0+'),
    ])), '0+'),
    F('TimeoutMs', 'int32', '0+'),
])

# InitProducerIdRequest.json: apiKey 22, validVersions 0-5, flexibleVersions 2+
INIT_PRODUCER_ID_REQUEST = S('InitProducerIdRequest', [
    F('TransactionalId', 'string', '0+', nullable='0+', entity=X),
    F('TransactionTimeoutMs', 'int32', '0+'),
    F('ProducerId', 'int64', '3+', default=-1),
    F('ProducerEpoch', 'int16', '3+', default=-1),
])

# OffsetForLeaderEpochRequest.json: apiKey 23, validVersions 0-4, flexibleVersions 4+
OFFSET_FOR_LEADER_EPOCH_REQUEST = S('OffsetForLeaderEpochRequest', [
    F('ReplicaId', 'int32', '3+', default=-2),
    F('Topics', A(S('OffsetForLeaderTopic', [
        F('Topic', 'string', '0+', entity=T),
        F('Partitions', A(S('OffsetForLeaderPartition', [
            F('Partition', 'int32', '0+'),
            F('CurrentLeaderEpoch', 'int32', '2+', default=-1),
            F('LeaderEpoch', 'int32', '0+'),
        ])), '0+'),
    ])), '0+'),
])

# AddPartitionsToTxnRequest.json: apiKey 24, validVersions 0-5, flexibleVersions 3+
ADD_PARTITIONS_TO_TXN_REQUEST = S('AddPartitionsToTxnRequest', [
    F('Transactions', A(S('AddPartitionsToTxnTransaction', [
        F('TransactionalId', 'string', '4+', entity=X),
        F('ProducerId', 'int64', '4+'),
        F('ProducerEpoch', 'int16', '4+'),
        F('VerifyOnly', 'bool', '4+', default=False),
        F('Topics', A(S('AddPartitionsToTxnTopic', [
            F('Name', 'string', '0+', entity=T),
            F('Partitions', A('int32'), '0+'),
        ])), '4+'),
    ])), '4+'),
    F('V3AndBelowTransactionalId', 'string', '0-3', entity=X),
    F('V3AndBelowProducerId', 'int64', '0-3'),
    F('V3AndBelowProducerEpoch', 'int16', '0-3'),
    F('V3AndBelowTopics', A(S('AddPartitionsToTxnTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A('int32'), '0+'),
    ])), '0-3'),
])

# AddOffsetsToTxnRequest.json: apiKey 25, validVersions 0-4, flexibleVersions 3+
ADD_OFFSETS_TO_TXN_REQUEST = S('AddOffsetsToTxnRequest', [
    F('TransactionalId', 'string', '0+', entity=X),
    F('ProducerId', 'int64', '0+'),
    F('ProducerEpoch', 'int16', '0+'),
    F('GroupId', 'string', '0+', entity=G),
])

# EndTxnRequest.json: apiKey 26, validVersions 0-5, flexibleVersions 3+
END_TXN_REQUEST = S('EndTxnRequest', [
    F('TransactionalId', 'string', '0+', entity=X),
    F('ProducerId', 'int64', '0+'),
    F('ProducerEpoch', 'int16', '0+'),
    F('Committed', 'bool', '0+'),
])

# TxnOffsetCommitRequest.json: apiKey 28, validVersions 0-4, flexibleVersions 3+
TXN_OFFSET_COMMIT_REQUEST = S('TxnOffsetCommitRequest', [
    F('TransactionalId', 'string', '0+', entity=X),
    F('GroupId', 'string', '0+', entity=G),
    F('ProducerId', 'int64', '0+'),
    F('ProducerEpoch', 'int16', '0+'),
    F('GenerationId', 'int32', '3+', default=-1),
    F('MemberId', 'string', '3+', default=''),
    F('GroupInstanceId', 'string', '3+', nullable='3+', default=None),
    F('Topics', A(S('TxnOffsetCommitRequestTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('TxnOffsetCommitRequestPartition', [
            F('PartitionIndex', 'int32', '0+'),
            F('CommittedOffset', 'int64', '0+'),
            F('CommittedLeaderEpoch', 'int32', '2+', default=-1),
            F('CommittedMetadata', 'string', '0+', nullable='0+'),
        ])), '0+'),
    ])), '0+'),
])

# DescribeConfigsRequest.json: apiKey 32, validVersions 0-4, flexibleVersions 4+
DESCRIBE_CONFIGS_REQUEST = S('DescribeConfigsRequest', [
    F('Resources', A(S('DescribeConfigsResource', [
        F('ResourceType', 'int8', '0+'),
        F('ResourceName', 'string', '0+', entity=R),
        F('ConfigurationKeys', A('string'), '0+', nullable='0+'),
    ])), '0+'),
    F('IncludeSynonyms', 'bool', '1+', default=False),
    F('IncludeDocumentation', 'bool', '3+', default=False),
])

# AlterConfigsRequest.json: apiKey 33, validVersions 0-2, flexibleVersions 2+
ALTER_CONFIGS_REQUEST = S('AlterConfigsRequest', [
    F('Resources', A(S('AlterConfigsResource', [
        F('ResourceType', 'int8', '0+'),
        F('ResourceName', 'string', '0+', entity=RA),
        F('Configs', A(S('AlterableConfig', [
            F('Name', 'string', '0+'),
            F('Value', 'string', '0+', nullable='0+'),
        ])), '0+'),
    ])), '0+'),
    F('ValidateOnly', 'bool', '0+'),
])

# CreatePartitionsRequest.json: apiKey 37, validVersions 0-3, flexibleVersions 2+
CREATE_PARTITIONS_REQUEST = S('CreatePartitionsRequest', [
    F('Topics', A(S('CreatePartitionsTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Count', 'int32', '0+'),
        F('Assignments', A(S('CreatePartitionsAssignment', [
            F('BrokerIds', A('int32'), '0+'),
        ])), '0+', nullable='0+'),
    ])), '0+'),
    F('TimeoutMs', 'int32', '0+'),
    F('ValidateOnly', 'bool', '0+'),
])

# DeleteGroupsRequest.json: apiKey 42, validVersions 0-2, flexibleVersions 2+
DELETE_GROUPS_REQUEST = S('DeleteGroupsRequest', [
    F('GroupsNames', A('string'), '0+', entity=G),
])

# IncrementalAlterConfigsRequest.json: apiKey 44, validVersions 0-1, flexibleVersions 1+
INCREMENTAL_ALTER_CONFIGS_REQUEST = S('IncrementalAlterConfigsRequest', [
    F('Resources', A(S('AlterConfigsResource', [
        F('ResourceType', 'int8', '0+'),
        F('ResourceName', 'string', '0+', entity=RA),
        F('Configs', A(S('AlterableConfig', [
            F('Name', 'string', '0+'),
            F('ConfigOperation', 'int8', '0+'),
            F('Value', 'string', '0+', nullable='0+'),
        ])), '0+'),
    ])), '0+'),
    F('ValidateOnly', 'bool', '0+'),
])

# OffsetDeleteRequest.json: apiKey 47, validVersions 0, flexibleVersions none
OFFSET_DELETE_REQUEST = S('OffsetDeleteRequest', [
    F('GroupId', 'string', '0+', entity=G),
    F('Topics', A(S('OffsetDeleteRequestTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('OffsetDeleteRequestPartition', [
            F('PartitionIndex', 'int32', '0+'),
        ])), '0+'),
    ])), '0+'),
])

# DescribeProducersRequest.json: apiKey 61, validVersions 0, flexibleVersions 0+
DESCRIBE_PRODUCERS_REQUEST = S('DescribeProducersRequest', [
    F('Topics', A(S('TopicRequest', [
        F('Name', 'string', '0+', entity=T),
        F('PartitionIndexes', A('int32'), '0+'),
    ])), '0+'),
])

# ConsumerGroupHeartbeatRequest.json: apiKey 68, validVersions 0-1, flexibleVersions 0+
CONSUMER_GROUP_HEARTBEAT_REQUEST = S('ConsumerGroupHeartbeatRequest', [
    F('GroupId', 'string', '0+', entity=G),
    F('MemberId', 'string', '0+'),
    F('MemberEpoch', 'int32', '0+'),
    F('InstanceId', 'string', '0+', nullable='0+', default=None),
    F('RackId', 'string', '0+', nullable='0+', default=None),
    F('RebalanceTimeoutMs', 'int32', '0+', default=-1),
    F('SubscribedTopicNames', A('string'), '0+', nullable='0+', entity=T),
    F('SubscribedTopicRegex', 'string', '1+', nullable='1+', entity=TR, default=None),  # no entityType: TR, above
    F('ServerAssignor', 'string', '0+', nullable='0+', default=None),
    F('TopicPartitions', A(S('TopicPartitions', [
        F('TopicId', 'uuid', '0+'),
        F('Partitions', A('int32'), '0+'),
    ])), '0+', nullable='0+'),
])

# DescribeTransactionsRequest.json: apiKey 65, validVersions 0, flexibleVersions 0+
DESCRIBE_TRANSACTIONS_REQUEST = S('DescribeTransactionsRequest', [
    F('TransactionalIds', A('string'), '0+', entity=X),
])

# ListTransactionsRequest.json: apiKey 66, validVersions 0-1, flexibleVersions 0+
LIST_TRANSACTIONS_REQUEST = S('ListTransactionsRequest', [
    F('StateFilters', A('string'), '0+'),
    F('ProducerIdFilters', A('int64'), '0+'),
    F('DurationFilter', 'int64', '1+', default=-1),
    F('TransactionalIdPattern', 'string', '2+', nullable='2+', entity=XR, default=None),  # 4.3.1 (KIP-1152): XR
])

# ConsumerGroupDescribeRequest.json: apiKey 69, validVersions 0, flexibleVersions 0+ (4.3.1: 0-1, the same)
CONSUMER_GROUP_DESCRIBE_REQUEST = S('ConsumerGroupDescribeRequest', [
    F('GroupIds', A('string'), '0+', entity=G),
    F('IncludeAuthorizedOperations', 'bool', '0+'),
])

# ShareGroupHeartbeatRequest.json: apiKey 76, validVersions 0, flexibleVersions 0+
SHARE_GROUP_HEARTBEAT_REQUEST = S('ShareGroupHeartbeatRequest', [
    F('GroupId', 'string', '0+', entity=G),
    F('MemberId', 'string', '0+'),
    F('MemberEpoch', 'int32', '0+'),
    F('RackId', 'string', '0+', nullable='0+', default=None),
    F('SubscribedTopicNames', A('string'), '0+', nullable='0+', entity=T),  # no entityType in the spec: see above
])

# ShareFetchRequest.json: apiKey 78, validVersions 0, flexibleVersions 0+
SHARE_FETCH_REQUEST = S('ShareFetchRequest', [
    F('GroupId', 'string', '0+', nullable='0+', entity=G, default=None),
    F('MemberId', 'string', '0+', nullable='0+'),
    F('ShareSessionEpoch', 'int32', '0+'),
    F('MaxWaitMs', 'int32', '0+'),
    F('MinBytes', 'int32', '0+'),
    F('MaxBytes', 'int32', '0+', default=2147483647),
    F('MaxRecords', 'int32', '1+'),  # 4.1+ (stable v1)
    F('BatchSize', 'int32', '1+'),  # 4.1+
    F('ShareAcquireMode', 'int8', '2+'),  # 4.2+ (KIP-1206)
    F('Topics', A(S('FetchTopic', [
        F('TopicId', 'uuid', '0+'),
        F('Partitions', A(S('FetchPartition', [
            F('PartitionIndex', 'int32', '0+'),
            F('PartitionMaxBytes', 'int32', '0'),  # v0 only (removed with v1)
            F('AcknowledgementBatches', A(S('AcknowledgementBatch', [
                F('FirstOffset', 'int64', '0+'),
                F('LastOffset', 'int64', '0+'),
                F('AcknowledgeTypes', A('int8'), '0+'),
            ])), '0+'),
        ])), '0+'),
    ])), '0+'),
    F('ForgottenTopicsData', A(S('ForgottenTopic', [
        F('TopicId', 'uuid', '0+'),
        F('Partitions', A('int32'), '0+'),
    ])), '0+'),
])

# ShareAcknowledgeRequest.json: apiKey 79, validVersions 0, flexibleVersions 0+
SHARE_ACKNOWLEDGE_REQUEST = S('ShareAcknowledgeRequest', [
    F('GroupId', 'string', '0+', nullable='0+', entity=G, default=None),
    F('MemberId', 'string', '0+', nullable='0+'),
    F('ShareSessionEpoch', 'int32', '0+'),
    F('IsRenewAck', 'bool', '2+', default=False),  # 4.2+ (KIP-1222)
    F('Topics', A(S('AcknowledgeTopic', [
        F('TopicId', 'uuid', '0+'),
        F('Partitions', A(S('AcknowledgePartition', [
            F('PartitionIndex', 'int32', '0+'),
            F('AcknowledgementBatches', A(S('AcknowledgementBatch', [
                F('FirstOffset', 'int64', '0+'),
                F('LastOffset', 'int64', '0+'),
                F('AcknowledgeTypes', A('int8'), '0+'),
            ])), '0+'),
        ])), '0+'),
    ])), '0+'),
])


# ProduceResponse.json: apiKey 0, validVersions 0-11, flexibleVersions 9+
PRODUCE_RESPONSE = S('ProduceResponse', [
    F('Responses', A(S('TopicProduceResponse', [
        F('Name', 'string', '0-12', entity=T),  # 4.3.1: v13 names the topic by id (KIP-516)
        F('TopicId', 'uuid', '13+'),
        F('PartitionResponses', A(S('PartitionProduceResponse', [
            F('Index', 'int32', '0+'),
            F('ErrorCode', 'int16', '0+'),
            F('BaseOffset', 'int64', '0+'),
            F('LogAppendTimeMs', 'int64', '2+', default=-1),
            F('LogStartOffset', 'int64', '5+', default=-1),
            F('RecordErrors', A(S('BatchIndexAndErrorMessage', [
                F('BatchIndex', 'int32', '8+'),
                F('BatchIndexErrorMessage', 'string', '8+', nullable='8+', default=None),
            ])), '8+'),
            F('ErrorMessage', 'string', '8+', nullable='8+', default=None),
            F('CurrentLeader', S('LeaderIdAndEpoch', [
                F('LeaderId', 'int32', '10+', default=-1),
                F('LeaderEpoch', 'int32', '10+', default=-1),
            ]), '10+', tag=0),
        ])), '0+'),
    ])), '0+'),
    F('ThrottleTimeMs', 'int32', '1+', default=0),
    F('NodeEndpoints', A(S('NodeEndpoint', [
        F('NodeId', 'int32', '10+'),
        F('Host', 'string', '10+'),
        F('Port', 'int32', '10+'),
        F('Rack', 'string', '10+', nullable='10+', default=None),
    ])), '10+', tag=0),
])

# FetchResponse.json: apiKey 1, validVersions 0-17, flexibleVersions 12+
FETCH_RESPONSE = S('FetchResponse', [
    F('ThrottleTimeMs', 'int32', '1+'),
    F('ErrorCode', 'int16', '7+'),
    F('SessionId', 'int32', '7+', default=0),
    F('Responses', A(S('FetchableTopicResponse', [
        F('Topic', 'string', '0-12', entity=T),
        F('TopicId', 'uuid', '13+'),
        F('Partitions', A(S('PartitionData', [
            F('PartitionIndex', 'int32', '0+'),
            F('ErrorCode', 'int16', '0+'),
            F('HighWatermark', 'int64', '0+'),
            F('LastStableOffset', 'int64', '4+', default=-1),
            F('LogStartOffset', 'int64', '5+', default=-1),
            F('DivergingEpoch', S('EpochEndOffset', [
                F('Epoch', 'int32', '12+', default=-1),
                F('EndOffset', 'int64', '12+', default=-1),
            ]), '12+', tag=0),
            F('CurrentLeader', S('LeaderIdAndEpoch', [
                F('LeaderId', 'int32', '12+', default=-1),
                F('LeaderEpoch', 'int32', '12+', default=-1),
            ]), '12+', tag=1),
            F('SnapshotId', S('SnapshotId', [
                F('EndOffset', 'int64', '0+', default=-1),
                F('Epoch', 'int32', '0+', default=-1),
            ]), '12+', tag=2),
            F('AbortedTransactions', A(S('AbortedTransaction', [
                F('ProducerId', 'int64', '4+'),
                F('FirstOffset', 'int64', '4+'),
            ])), '4+', nullable='4+'),
            F('PreferredReadReplica', 'int32', '11+', default=-1),
            F('Records', 'records', '0+', nullable='0+'),
        ])), '0+'),
    ])), '0+'),
    F('NodeEndpoints', A(S('NodeEndpoint', [
        F('NodeId', 'int32', '16+'),
        F('Host', 'string', '16+'),
        F('Port', 'int32', '16+'),
        F('Rack', 'string', '16+', nullable='16+', default=None),
    ])), '16+', tag=0),
])

# ListOffsetsResponse.json: apiKey 2, validVersions 0-10, flexibleVersions 6+
LIST_OFFSETS_RESPONSE = S('ListOffsetsResponse', [
    F('ThrottleTimeMs', 'int32', '2+'),
    F('Topics', A(S('ListOffsetsTopicResponse', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('ListOffsetsPartitionResponse', [
            F('PartitionIndex', 'int32', '0+'),
            F('ErrorCode', 'int16', '0+'),
            F('OldStyleOffsets', A('int64'), '0'),
            F('Timestamp', 'int64', '1+', default=-1),
            F('Offset', 'int64', '1+', default=-1),
            F('LeaderEpoch', 'int32', '4+', default=-1),
        ])), '0+'),
    ])), '0+'),
])

# MetadataResponse.json: apiKey 3, validVersions 0-12, flexibleVersions 9+
METADATA_RESPONSE = S('MetadataResponse', [
    F('ThrottleTimeMs', 'int32', '3+'),
    F('Brokers', A(S('MetadataResponseBroker', [
        F('NodeId', 'int32', '0+'),
        F('Host', 'string', '0+'),
        F('Port', 'int32', '0+'),
        F('Rack', 'string', '1+', nullable='1+', default=None),
    ])), '0+'),
    F('ClusterId', 'string', '2+', nullable='2+', default=None),
    F('ControllerId', 'int32', '1+', default=-1),
    F('Topics', A(S('MetadataResponseTopic', [
        F('ErrorCode', 'int16', '0+'),
        F('Name', 'string', '0+', nullable='12+', entity=T),
        F('TopicId', 'uuid', '10+'),
        F('IsInternal', 'bool', '1+', default=False),
        F('Partitions', A(S('MetadataResponsePartition', [
            F('ErrorCode', 'int16', '0+'),
            F('PartitionIndex', 'int32', '0+'),
            F('LeaderId', 'int32', '0+'),
            F('LeaderEpoch', 'int32', '7+', default=-1),
            F('ReplicaNodes', A('int32'), '0+'),
            F('IsrNodes', A('int32'), '0+'),
            F('OfflineReplicas', A('int32'), '5+'),
        ])), '0+'),
        F('TopicAuthorizedOperations', 'int32', '8+', default=-2147483648),
    ])), '0+'),
    F('ClusterAuthorizedOperations', 'int32', '8-10', default=-2147483648),
    F('ErrorCode', 'int16', '13+'),  # 4.3.1: v13 (KIP-1102)
])

# OffsetCommitResponse.json: apiKey 8, validVersions 0-9, flexibleVersions 8+
OFFSET_COMMIT_RESPONSE = S('OffsetCommitResponse', [
    F('ThrottleTimeMs', 'int32', '3+'),
    F('Topics', A(S('OffsetCommitResponseTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('OffsetCommitResponsePartition', [
            F('PartitionIndex', 'int32', '0+'),
            F('ErrorCode', 'int16', '0+'),
        ])), '0+'),
    ])), '0+'),
])

# OffsetFetchResponse.json: apiKey 9, validVersions 0-9, flexibleVersions 6+
OFFSET_FETCH_RESPONSE = S('OffsetFetchResponse', [
    F('ThrottleTimeMs', 'int32', '3+'),
    F('Topics', A(S('OffsetFetchResponseTopic', [
        F('Name', 'string', '0-7', entity=T),
        F('Partitions', A(S('OffsetFetchResponsePartition', [
            F('PartitionIndex', 'int32', '0-7'),
            F('CommittedOffset', 'int64', '0-7'),
            F('CommittedLeaderEpoch', 'int32', '5-7', default=-1),
            F('Metadata', 'string', '0-7', nullable='0-7'),
            F('ErrorCode', 'int16', '0-7'),
        ])), '0-7'),
    ])), '0-7'),
    F('ErrorCode', 'int16', '2-7', default=0),
    F('Groups', A(S('OffsetFetchResponseGroup', [
        F('GroupId', 'string', '8+', entity=G),
        F('Topics', A(S('OffsetFetchResponseTopics', [
            F('Name', 'string', '8+', entity=T),
            F('Partitions', A(S('OffsetFetchResponsePartitions', [
                F('PartitionIndex', 'int32', '8+'),
                F('CommittedOffset', 'int64', '8+'),
                F('CommittedLeaderEpoch', 'int32', '8+', default=-1),
                F('Metadata', 'string', '8+', nullable='8+'),
                F('ErrorCode', 'int16', '8+'),
            ])), '8+'),
        ])), '8+'),
        F('ErrorCode', 'int16', '8+', default=0),
    ])), '8+'),
])

# FindCoordinatorResponse.json: apiKey 10, validVersions 0-6, flexibleVersions 3+
FIND_COORDINATOR_RESPONSE = S('FindCoordinatorResponse', [
    F('ThrottleTimeMs', 'int32', '1+'),
    F('ErrorCode', 'int16', '0-3'),
    F('ErrorMessage', 'string', '1-3', nullable='1-3'),
    F('NodeId', 'int32', '0-3'),
    F('Host', 'string', '0-3'),
    F('Port', 'int32', '0-3'),
    F('Coordinators', A(S('Coordinator', [
        F('Key', 'string', '4+', entity=K),
        F('NodeId', 'int32', '4+'),
        F('Host', 'string', '4+'),
        F('Port', 'int32', '4+'),
        F('ErrorCode', 'int16', '4+'),
        F('ErrorMessage', 'string', '4+', nullable='4+'),
    ])), '4+'),
])

# ListGroupsResponse.json: apiKey 16, validVersions 0-5, flexibleVersions 3+
LIST_GROUPS_RESPONSE = S('ListGroupsResponse', [
    F('ThrottleTimeMs', 'int32', '1+'),
    F('ErrorCode', 'int16', '0+'),
    F('Groups', A(S('ListedGroup', [
        F('GroupId', 'string', '0+', entity=G),
        F('ProtocolType', 'string', '0+'),
        F('GroupState', 'string', '4+'),
        F('GroupType', 'string', '5+'),
    ])), '0+'),
])

# DescribeGroupsResponse.json: apiKey 15, validVersions 0-5, flexibleVersions 5+
DESCRIBE_GROUPS_RESPONSE = S('DescribeGroupsResponse', [
    F('ThrottleTimeMs', 'int32', '1+'),
    F('Groups', A(S('DescribedGroup', [
        F('ErrorCode', 'int16', '0+'),
        F('GroupId', 'string', '0+', entity=G),
        F('GroupState', 'string', '0+'),
        F('ProtocolType', 'string', '0+'),
        F('ProtocolData', 'string', '0+'),
        F('Members', A(S('DescribedGroupMember', [
            F('MemberId', 'string', '0+'),
            F('GroupInstanceId', 'string', '4+', nullable='4+', default=None),
            F('ClientId', 'string', '0+'),
            F('ClientHost', 'string', '0+'),
            F('MemberMetadata', 'bytes', '0+'),
            F('MemberAssignment', 'bytes', '0+'),
        ])), '0+'),
        F('AuthorizedOperations', 'int32', '3+', default=-2147483648),
    ])), '0+'),
])

# CreateTopicsResponse.json: apiKey 19, validVersions 0-7, flexibleVersions 5+
CREATE_TOPICS_RESPONSE = S('CreateTopicsResponse', [
    F('ThrottleTimeMs', 'int32', '2+'),
    F('Topics', A(S('CreatableTopicResult', [
        F('Name', 'string', '0+', entity=T),
        F('TopicId', 'uuid', '7+'),
        F('ErrorCode', 'int16', '0+'),
        F('ErrorMessage', 'string', '1+', nullable='0+'),
        F('TopicConfigErrorCode', 'int16', '5+', tag=0),
        F('NumPartitions', 'int32', '5+', default=-1),
        F('ReplicationFactor', 'int16', '5+', default=-1),
        F('Configs', A(S('CreatableTopicConfigs', [
            F('Name', 'string', '5+'),
            F('Value', 'string', '5+', nullable='5+'),
            F('ReadOnly', 'bool', '5+'),
            F('ConfigSource', 'int8', '5+', default=-1),
            F('IsSensitive', 'bool', '5+'),
        ])), '5+', nullable='5+'),
    ])), '0+'),
])

# DeleteTopicsResponse.json: apiKey 20, validVersions 0-6, flexibleVersions 4+
DELETE_TOPICS_RESPONSE = S('DeleteTopicsResponse', [
    F('ThrottleTimeMs', 'int32', '1+'),
    F('Responses', A(S('DeletableTopicResult', [
        F('Name', 'string', '0+', nullable='6+', entity=T),
        F('TopicId', 'uuid', '6+'),
        F('ErrorCode', 'int16', '0+'),
        F('ErrorMessage', 'string', '5+', nullable='5+', default=None),
    ])), '0+'),
])

# DeleteRecordsResponse.json: apiKey 21, validVersions 0-2, flexibleVersions 2+
DELETE_RECORDS_RESPONSE = S('DeleteRecordsResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Topics', A(S('DeleteRecordsTopicResult', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('DeleteRecordsPartitionResult', [
            F('PartitionIndex', 'int32', '0+'),
            F('LowWatermark', 'int64', '0+'),
            F('ErrorCode', 'int16', '0+'),
        ])), '0+'),
    ])), '0+'),
])

# CreatePartitionsResponse.json: apiKey 37, validVersions 0-3, flexibleVersions 2+
CREATE_PARTITIONS_RESPONSE = S('CreatePartitionsResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Results', A(S('CreatePartitionsTopicResult', [
        F('Name', 'string', '0+', entity=T),
        F('ErrorCode', 'int16', '0+'),
        F('ErrorMessage', 'string', '0+', nullable='0+', default=None),
    ])), '0+'),
])

# OffsetForLeaderEpochResponse.json: apiKey 23, validVersions 0-4, flexibleVersions 4+
OFFSET_FOR_LEADER_EPOCH_RESPONSE = S('OffsetForLeaderEpochResponse', [
    F('ThrottleTimeMs', 'int32', '2+'),
    F('Topics', A(S('OffsetForLeaderTopicResult', [
        F('Topic', 'string', '0+', entity=T),
        F('Partitions', A(S('EpochEndOffset', [
            F('ErrorCode', 'int16', '0+'),
            F('Partition', 'int32', '0+'),
            F('LeaderEpoch', 'int32', '1+', default=-1),
            F('EndOffset', 'int64', '0+', default=-1),
        ])), '0+'),
    ])), '0+'),
])

# AddPartitionsToTxnResponse.json: apiKey 24, validVersions 0-5, flexibleVersions 3+
ADD_PARTITIONS_TO_TXN_RESPONSE = S('AddPartitionsToTxnResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('ErrorCode', 'int16', '4+'),
    F('ResultsByTransaction', A(S('AddPartitionsToTxnResult', [
        F('TransactionalId', 'string', '4+', entity=X),
        F('TopicResults', A(S('AddPartitionsToTxnTopicResult', [
            F('Name', 'string', '0+', entity=T),
            F('ResultsByPartition', A(S('AddPartitionsToTxnPartitionResult', [
                F('PartitionIndex', 'int32', '0+'),
                F('PartitionErrorCode', 'int16', '0+'),
            ])), '0+'),
        ])), '4+'),
    ])), '4+'),
    F('ResultsByTopicV3AndBelow', A(S('AddPartitionsToTxnTopicResult', [
        F('Name', 'string', '0+', entity=T),
        F('ResultsByPartition', A(S('AddPartitionsToTxnPartitionResult', [
            F('PartitionIndex', 'int32', '0+'),
            F('PartitionErrorCode', 'int16', '0+'),
        ])), '0+'),
    ])), '0-3'),
])

# TxnOffsetCommitResponse.json: apiKey 28, validVersions 0-4, flexibleVersions 3+
TXN_OFFSET_COMMIT_RESPONSE = S('TxnOffsetCommitResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Topics', A(S('TxnOffsetCommitResponseTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('TxnOffsetCommitResponsePartition', [
            F('PartitionIndex', 'int32', '0+'),
            F('ErrorCode', 'int16', '0+'),
        ])), '0+'),
    ])), '0+'),
])

# DescribeConfigsResponse.json: apiKey 32, validVersions 0-4, flexibleVersions 4+
DESCRIBE_CONFIGS_RESPONSE = S('DescribeConfigsResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Results', A(S('DescribeConfigsResult', [
        F('ErrorCode', 'int16', '0+'),
        F('ErrorMessage', 'string', '0+', nullable='0+'),
        F('ResourceType', 'int8', '0+'),
        F('ResourceName', 'string', '0+', entity=R),
        F('Configs', A(S('DescribeConfigsResourceResult', [
            F('Name', 'string', '0+'),
            F('Value', 'string', '0+', nullable='0+'),
            F('ReadOnly', 'bool', '0+'),
            F('IsDefault', 'bool', '0'),
            F('ConfigSource', 'int8', '1+', default=-1),
            F('IsSensitive', 'bool', '0+'),
            F('Synonyms', A(S('DescribeConfigsSynonym', [
                F('Name', 'string', '1+'),
                F('Value', 'string', '1+', nullable='0+'),
                F('Source', 'int8', '1+'),
            ])), '1+'),
            F('ConfigType', 'int8', '3+', default=0),
            F('Documentation', 'string', '3+', nullable='0+'),
        ])), '0+'),
    ])), '0+'),
])

# AlterConfigsResponse.json: apiKey 33, validVersions 0-2, flexibleVersions 2+
ALTER_CONFIGS_RESPONSE = S('AlterConfigsResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Responses', A(S('AlterConfigsResourceResponse', [
        F('ErrorCode', 'int16', '0+'),
        F('ErrorMessage', 'string', '0+', nullable='0+'),
        F('ResourceType', 'int8', '0+'),
        F('ResourceName', 'string', '0+', entity=R),
    ])), '0+'),
])

# IncrementalAlterConfigsResponse.json: apiKey 44, validVersions 0-1, flexibleVersions 1+
INCREMENTAL_ALTER_CONFIGS_RESPONSE = S('IncrementalAlterConfigsResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Responses', A(S('AlterConfigsResourceResponse', [
        F('ErrorCode', 'int16', '0+'),
        F('ErrorMessage', 'string', '0+', nullable='0+'),
        F('ResourceType', 'int8', '0+'),
        F('ResourceName', 'string', '0+', entity=R),
    ])), '0+'),
])

# DeleteGroupsResponse.json: apiKey 42, validVersions 0-2, flexibleVersions 2+
DELETE_GROUPS_RESPONSE = S('DeleteGroupsResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Results', A(S('DeletableGroupResult', [
        F('GroupId', 'string', '0+', entity=G),
        F('ErrorCode', 'int16', '0+'),
    ])), '0+'),
])

# OffsetDeleteResponse.json: apiKey 47, validVersions 0, flexibleVersions none
OFFSET_DELETE_RESPONSE = S('OffsetDeleteResponse', [
    F('ErrorCode', 'int16', '0+'),
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Topics', A(S('OffsetDeleteResponseTopic', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('OffsetDeleteResponsePartition', [
            F('PartitionIndex', 'int32', '0+'),
            F('ErrorCode', 'int16', '0+'),
        ])), '0+'),
    ])), '0+'),
])

# DescribeProducersResponse.json: apiKey 61, validVersions 0, flexibleVersions 0+
DESCRIBE_PRODUCERS_RESPONSE = S('DescribeProducersResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Topics', A(S('TopicResponse', [
        F('Name', 'string', '0+', entity=T),
        F('Partitions', A(S('PartitionResponse', [
            F('PartitionIndex', 'int32', '0+'),
            F('ErrorCode', 'int16', '0+'),
            F('ErrorMessage', 'string', '0+', nullable='0+', default=None),
            F('ActiveProducers', A(S('ProducerState', [
                F('ProducerId', 'int64', '0+'),
                F('ProducerEpoch', 'int32', '0+'),
                F('LastSequence', 'int32', '0+', default=-1),
                F('LastTimestamp', 'int64', '0+', default=-1),
                F('CoordinatorEpoch', 'int32', '0+'),
                F('CurrentTxnStartOffset', 'int64', '0+', default=-1),
            ])), '0+'),
        ])), '0+'),
    ])), '0+'),
])

# JoinGroupResponse.json: apiKey 11, validVersions 0-9, flexibleVersions 6+
JOIN_GROUP_RESPONSE = S('JoinGroupResponse', [
    F('ThrottleTimeMs', 'int32', '2+'),
    F('ErrorCode', 'int16', '0+'),
    F('GenerationId', 'int32', '0+', default=-1),
    F('ProtocolType', 'string', '7+', nullable='7+', default=None),
    F('ProtocolName', 'string', '0+', nullable='7+'),
    F('Leader', 'string', '0+'),
    F('SkipAssignment', 'bool', '9+', default=False),
    F('MemberId', 'string', '0+'),
    F('Members', A(S('JoinGroupResponseMember', [
        F('MemberId', 'string', '0+'),
        F('GroupInstanceId', 'string', '5+', nullable='5+', default=None),
        F('Metadata', 'bytes', '0+'),
    ])), '0+'),
])

# InitProducerIdResponse.json: apiKey 22, validVersions 0-5, flexibleVersions 2+
INIT_PRODUCER_ID_RESPONSE = S('InitProducerIdResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('ErrorCode', 'int16', '0+'),
    F('ProducerId', 'int64', '0+', default=-1),
    F('ProducerEpoch', 'int16', '0+'),
])

# EndTxnResponse.json: apiKey 26, validVersions 0-5, flexibleVersions 3+
END_TXN_RESPONSE = S('EndTxnResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('ErrorCode', 'int16', '0+'),
    F('ProducerId', 'int64', '5+', default=-1),
    F('ProducerEpoch', 'int16', '5+', default=-1),
])

# ConsumerGroupHeartbeatResponse.json: apiKey 68, validVersions 0-1, flexibleVersions 0+
CONSUMER_GROUP_HEARTBEAT_RESPONSE = S('ConsumerGroupHeartbeatResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('ErrorCode', 'int16', '0+'),
    F('ErrorMessage', 'string', '0+', nullable='0+', default=None),
    F('MemberId', 'string', '0+', nullable='0+', default=None),
    F('MemberEpoch', 'int32', '0+'),
    F('HeartbeatIntervalMs', 'int32', '0+'),
    F('Assignment', S('Assignment', [
        F('TopicPartitions', A(S('TopicPartitions', [
            F('TopicId', 'uuid', '0+'),
            F('Partitions', A('int32'), '0+'),
        ])), '0+'),
    ]), '0+', nullable='0+'),
])

# DescribeTransactionsResponse.json: apiKey 65, validVersions 0, flexibleVersions 0+
DESCRIBE_TRANSACTIONS_RESPONSE = S('DescribeTransactionsResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('TransactionStates', A(S('TransactionState', [
        F('ErrorCode', 'int16', '0+'),
        F('TransactionalId', 'string', '0+', entity=X),
        F('TransactionState', 'string', '0+'),
        F('TransactionTimeoutMs', 'int32', '0+'),
        F('TransactionStartTimeMs', 'int64', '0+'),
        F('ProducerId', 'int64', '0+'),
        F('ProducerEpoch', 'int16', '0+'),
        F('Topics', A(S('TopicData', [
            F('Topic', 'string', '0+', entity=T),
            F('Partitions', A('int32'), '0+'),
        ])), '0+'),
    ])), '0+'),
])

# ListTransactionsResponse.json: apiKey 66, validVersions 0-1, flexibleVersions 0+ (4.3.1: 0-2, v2 the same)
LIST_TRANSACTIONS_RESPONSE = S('ListTransactionsResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('ErrorCode', 'int16', '0+'),
    F('UnknownStateFilters', A('string'), '0+'),
    F('TransactionStates', A(S('TransactionState', [
        F('TransactionalId', 'string', '0+', entity=X),
        F('ProducerId', 'int64', '0+'),
        F('TransactionState', 'string', '0+'),
    ])), '0+'),
])

# ConsumerGroupDescribeResponse.json: apiKey 69, validVersions 0, flexibleVersions 0+; 4.3.1's v1 adds
# Members[].MemberType (KIP-1099). SubscribedTopicRegex has no entityType: TR, above.
CONSUMER_GROUP_ASSIGNMENT = S('Assignment', [
    F('TopicPartitions', A(S('TopicPartitions', [
        F('TopicId', 'uuid', '0+'),
        F('TopicName', 'string', '0+', entity=T),
        F('Partitions', A('int32'), '0+'),
    ])), '0+'),
])
CONSUMER_GROUP_DESCRIBE_RESPONSE = S('ConsumerGroupDescribeResponse', [
    F('ThrottleTimeMs', 'int32', '0+'),
    F('Groups', A(S('DescribedGroup', [
        F('ErrorCode', 'int16', '0+'),
        F('ErrorMessage', 'string', '0+', nullable='0+', default=None),
        F('GroupId', 'string', '0+', entity=G),
        F('GroupState', 'string', '0+'),
        F('GroupEpoch', 'int32', '0+'),
        F('AssignmentEpoch', 'int32', '0+'),
        F('AssignorName', 'string', '0+'),
        F('Members', A(S('Member', [
            F('MemberId', 'string', '0+'),
            F('InstanceId', 'string', '0+', nullable='0+', default=None),
            F('RackId', 'string', '0+', nullable='0+', default=None),
            F('MemberEpoch', 'int32', '0+'),
            F('ClientId', 'string', '0+'),
            F('ClientHost', 'string', '0+'),
            F('SubscribedTopicNames', A('string'), '0+', entity=T),
            F('SubscribedTopicRegex', 'string', '0+', nullable='0+', entity=TR, default=None),
            F('Assignment', CONSUMER_GROUP_ASSIGNMENT, '0+'),
            F('TargetAssignment', CONSUMER_GROUP_ASSIGNMENT, '0+'),
            F('MemberType', 'int8', '1+', default=-1),  # 4.3.1
        ])), '0+'),
        F('AuthorizedOperations', 'int32', '0+', default=-2147483648),
    ])), '0+'),
])


# ---------------------------------------------------------------------------------------------------------------------
# Logical messages: defaults, renaming, encoding
# ---------------------------------------------------------------------------------------------------------------------

ZERO = {"int8": 0, "int16": 0, "int32": 0, "int64": 0, "uint16": 0, "bool": False, "uuid": "00" * 16, "string": ""}


def zero_of(f, version):
    if isinstance(f.type, ArrayOf):
        return []
    if isinstance(f.type, Struct):
        return None if version in f.nullable else fill(f.type, {}, version, False)
    default = getattr(f, "default", _NO_DEFAULT)
    if default is not _NO_DEFAULT:
        return default
    if f.type == "records":
        return None if version in f.nullable else b""
    return ZERO[f.type]


def fill(sdef, value, version, flexible):
    """The message at `version`: the fields of other versions dropped, absent untagged fields at their defaults
    (the spec's, else zero / "" / []), unknown tags kept in flexible versions only."""
    names = {f.name for f in sdef.fields}
    stray = set(value) - names - {UNKNOWN_TAGS}
    if stray:
        raise ValueError("%s: unknown fields %s" % (sdef.name, sorted(stray)))
    out = {}
    for f in sdef.fields:
        if version not in f.versions:
            continue
        if f.name in value:
            out[f.name] = fill_value(f.type, value[f.name], version, flexible)
        elif f.tag is None:
            out[f.name] = zero_of(f, version)
    if flexible and value.get(UNKNOWN_TAGS):
        out[UNKNOWN_TAGS] = list(value[UNKNOWN_TAGS])
    return out


def fill_value(ftype, value, version, flexible):
    if value is None:
        return None
    if isinstance(ftype, ArrayOf):
        return [fill_value(ftype.elem, e, version, flexible) for e in value]
    if isinstance(ftype, Struct):
        return fill(ftype, value, version, flexible)
    return value


class Refused(Exception):
    """A request kedge refuses instead of renaming: `outcome` and the `name` the refusal reports."""
    outcome = None

    def __init__(self, name):
        super().__init__(name)
        self.name = name


class NameTooLong(Refused):
    outcome = "name_too_long"


class ForeignResource(Refused):
    """An AlterConfigs / IncrementalAlterConfigs resource that is neither a topic nor a group."""
    outcome = "foreign_resource"


class UnconfinableRegex(Refused):
    outcome = "unconfinable_regex"


def foreign_resource_name(resource_type, name):
    kind = RESOURCE_TYPE_NAMES.get(resource_type, "config resource type %d" % resource_type)
    return "%s %s" % (kind, name if name else '""')


class Renamer:
    """Prefixes (requests) or strips (responses) every name of a logical message, recording the client's names."""

    def __init__(self, direction, key_type, asks_only=False):
        self.direction = direction  # "request": prefix; "response": strip; "collect": the names only
        self.key_type = key_type    # FindCoordinator KeyType (None: read from the request)
        self.asks_only = asks_only  # Metadata: a topic name over 249 is asked for, not refused
        self.names = []

    def kind_of(self, entity, struct_value):
        if entity == K:
            return X if self.key_type == 1 else G
        if entity in (R, RA):
            resource = struct_value.get("ResourceType")
            if resource in (TOPIC_RESOURCE, GROUP_RESOURCE):
                return T if resource == TOPIC_RESOURCE else G
            if entity == RA and self.direction == "request":  # a broker's configs are the shared cluster's
                raise ForeignResource(foreign_resource_name(resource, struct_value.get("ResourceName")))
            return None
        return entity

    def name(self, kind, text):
        if text is None:
            return None
        if kind in REGEX_OF:
            return self.regex(PREFIXES[REGEX_OF[kind]], text)
        prefix = PREFIXES[kind]
        if self.direction == "collect":
            self.names.append(text)
            return text
        if self.direction == "request":
            self.names.append(text)
            renamed = prefix + text
            too_long_topic = kind == T and len(renamed) > MAX_TOPIC_NAME and not self.asks_only
            if too_long_topic or len(renamed.encode("utf-8")) > MAX_STRING_BYTES:
                raise NameTooLong(text)
            return renamed
        stripped = text[len(prefix):] if text.startswith(prefix) else text
        self.names.append(stripped)
        return stripped

    def regex(self, prefix, text):
        """"" keeps the broker's meaning (no regex; every transaction) and is left as it is."""
        if self.direction == "collect":
            self.names.append(text)
            return text
        if self.direction == "request":
            self.names.append(text)
            if text == "":
                return text
            confined = confine(text, prefix)
            if confined is None:
                raise UnconfinableRegex(text)
            return confined
        client = unconfine(text, prefix) if text else None
        stripped = text if client is None else client
        self.names.append(stripped)
        return stripped

    def struct(self, sdef, value, version):
        out = dict(value)
        for f in sdef.fields:
            if version not in f.versions or f.name not in value or value[f.name] is None:
                continue
            v = value[f.name]
            entity = getattr(f, "entity", None)
            kind = self.kind_of(entity, value) if entity else None
            if kind is not None:
                out[f.name] = [self.name(kind, s) for s in v] if isinstance(f.type, ArrayOf) else self.name(kind, v)
            elif isinstance(f.type, ArrayOf) and isinstance(f.type.elem, Struct):
                out[f.name] = [self.struct(f.type.elem, e, version) for e in v]
            elif isinstance(f.type, Struct):
                out[f.name] = self.struct(f.type, v, version)
        return out


CORRELATION_ID = 0x4E414D45  # "NAME"
CLIENT_ID = "kedge-rename"


class Api:
    def __init__(self, key, stem, request, response, flexible_from, requests, responses):
        self.key = key
        self.stem = stem
        self.request = request
        self.response = response
        self.flexible_from = flexible_from  # None: never flexible
        self.requests = requests            # versions with request vectors
        self.responses = responses          # versions with response vectors

    def flexible(self, version):
        return self.flexible_from is not None and version >= self.flexible_from


def request_frame(api, version, body, header_tags=(), client_id=CLIENT_ID):
    flexible = api.flexible(version)
    header = enc_int16(api.key) + enc_int16(version) + enc_int32(CORRELATION_ID) + enc_string(client_id, False)
    if flexible:
        header += enc_tag_buffer(list(header_tags))
    payload = header + encode_struct(api.request, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


def response_frame(api, version, body, header_tags=()):
    flexible = api.flexible(version)
    header = enc_int32(CORRELATION_ID) + (enc_tag_buffer(list(header_tags)) if flexible else b"")
    payload = header + encode_struct(api.response, body, EncodeContext(version, flexible))
    return enc_int32(len(payload)) + payload


class Case:
    def __init__(self, api, version, direction, variant, note, message, key_type=None, header_tags=(),
                 client_id=CLIENT_ID, filter_transactional_ids=False):
        self.api = api
        self.version = version
        self.direction = direction
        self.variant = variant
        self.note = note
        self.message = message
        self.key_type = key_type
        self.header_tags = header_tags
        self.client_id = client_id
        # ListTransactions responses: the namespace's transactions only (the gateway's filter_transactional_ids).
        self.filter_transactional_ids = filter_transactional_ids

    @property
    def file_name(self):
        suffix = "" if self.variant is None else "." + self.variant
        return "%s.v%d.%s%s.json" % (self.api.stem, self.version, self.direction, suffix)

    def to_json(self):
        api, v = self.api, self.version
        flexible = api.flexible(v)
        if self.direction == "request":
            body = fill(api.request, self.message, v, flexible)
            key_type = self.key_type
            if api.key == 10:  # FindCoordinator: the request says what its keys are (v0: groups)
                key_type = body.get("KeyType", 0)
            frame = request_frame(api, v, body, self.header_tags, self.client_id)
            renamer = Renamer("request", key_type, asks_only=api.key == 3)
            refused = None
            try:
                renamed = request_frame(api, v, renamer.struct(api.request, body, v), self.header_tags,
                                        self.client_id)
            except Refused as e:
                renamed, refused, outcome = None, e.name, e.outcome
                names = Renamer("collect", key_type)  # every name of the request, as the client sent it
                names.struct(api.request, body, v)
                renamer.names = names.names
            if refused is None:
                outcome = "unchanged" if renamed == frame else "renamed"
            expected = renamed if outcome == "renamed" else None
        else:
            body = fill(api.response, self.message, v, flexible)
            key_type = self.key_type
            frame = response_frame(api, v, body, self.header_tags)
            renamer = Renamer("response", key_type)
            if self.filter_transactional_ids:  # only what carries the transactional id prefix is listed
                body = dict(body, TransactionStates=[t for t in body["TransactionStates"]
                                                     if t["TransactionalId"].startswith(PREFIXES[X])])
            stripped = response_frame(api, v, renamer.struct(api.response, body, v), self.header_tags)
            expected = None if stripped == frame else stripped
            outcome = None
        for f in (frame, expected):
            if f is not None:
                assert struct.unpack(">i", f[:4])[0] == len(f) - 4
        doc = {"api_key": api.key, "version": v, "direction": self.direction}
        if api.key == 10:
            doc["coordinator_key_type"] = key_type
        doc["input"] = frame.hex()
        doc["expected"] = None if expected is None else expected.hex()
        if outcome is not None:
            doc["outcome"] = outcome
        if self.direction == "request" and refused is not None:
            doc["refused_name"] = refused
        if self.filter_transactional_ids:
            doc["filter_transactional_ids"] = True
        doc["names"] = renamer.names
        doc["note"] = self.note
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------------------------------
# Names and shared values
# ---------------------------------------------------------------------------------------------------------------------


class Names:
    """The names a builder puts in a message, by kind (a builder takes as many of each as its message holds)."""

    def __init__(self, topics, groups, txns):
        self.topics, self.groups, self.txns = list(topics), list(groups), list(txns)

    def prefixed(self):
        return Names([PREFIXES[T] + t for t in self.topics], [PREFIXES[G] + g for g in self.groups],
                     [PREFIXES[X] + x for x in self.txns])


CLIENT_NAMES = Names(["orders", "payments"], ["checkout-app", "analytics"], ["checkout-txn-1", "checkout-txn-2"])
BACKEND_NAMES = CLIENT_NAMES.prefixed()
# Names a response may carry that a strip must leave alone or empty: no prefix, the prefix itself, another kind's
# prefix, the prefix twice (stripped once), a prefix without its dot.
FOREIGN_NAMES = Names(["legacy-orders", "team-a.", "grp-a.orders", "team-a.team-a.audit", "team-a"],
                      ["grp-a.", "analytics", "team-a.checkout", "grp-a.grp-a.x"],
                      ["txn-a.", "checkout-txn-9", "grp-a.checkout-txn"])
UNPREFIXED_NAMES = Names(["legacy-orders", "payments"], ["analytics", "team-a.checkout"], ["checkout-txn-9", "x"])
EMPTY_NAMES = Names(["", ""], ["", ""], ["", ""])
# 130 names: more than 127 elements, so a compact array count needs a 2-byte varint.
MANY_NAMES = Names(["topic-%03d" % i for i in range(130)], ["group-%03d" % i for i in range(130)],
                   ["txn-%03d" % i for i in range(130)])
# 121 + 7 = 128 characters once prefixed: the compact length (n + 1 = 129) grows to a 2-byte varint.
GROWTH_NAMES = Names(["t" * 121, "orders"], ["g" * 122, "analytics"], ["x" * 122, "checkout-txn-2"])
# Kafka's longest topic name is 249: 242 characters + "team-a." fit, 243 do not.
LONGEST_NAMES = Names(["l" * 242, "orders"], ["checkout-app"], ["checkout-txn-1"])
TOO_LONG_NAMES = Names(["orders", "m" * 243, "n" * 250], ["checkout-app"], ["checkout-txn-1"])
# Group and transactional ids have no length limit but the string's: 32767 bytes once prefixed ("grp-a." is 6).
LONGEST_GROUP = Names(["orders"], ["g" * (MAX_STRING_BYTES - 6)], ["checkout-txn-1"])
TOO_LONG_GROUP = Names(["orders"], ["g" * (MAX_STRING_BYTES - 5)], ["checkout-txn-1"])
UNICODE_NAMES = Names(["orders"], ["caf\u00e9-\u00fcber-\u7fa4\u7ec4"], ["tx-\u00e9\u00e8"])

TOPIC_IDS = ["5d3c9b1a7e2f4c80a1b2c3d4e5f6%04x" % i for i in range(256)]
ZERO_UUID = "00" * 16
# Unknown tagged fields a broker or client of a later version may send: copied verbatim. The first holds a compact
# string "orders" (a name-looking value kedge must not touch), the second a tag number needing a 2-byte varint.
UNKNOWN_TAGS_VALUE = [(9, bytes.fromhex("076f7264657273")), (300, bytes(range(12)))]
HEADER_TAGS = [(5, b"\x01"), (200, b"kedge")]


def batch(text):
    """A record batch whose key and value hold a name: Records are copied, never renamed."""
    return record_batch(0, 1700000000000, [(0, b"orders", text.encode(), [("topic", b"orders")])])


def cycle(items, i):
    return items[i % len(items)]


def with_unknown_tags(sdef, value):
    """Unknown tagged fields in the message and in every struct under it."""
    out = dict(value)
    for f in sdef.fields:
        v = value.get(f.name)
        if v is None:
            continue
        if isinstance(f.type, ArrayOf) and isinstance(f.type.elem, Struct):
            out[f.name] = [with_unknown_tags(f.type.elem, e) for e in v]
        elif isinstance(f.type, Struct):
            out[f.name] = with_unknown_tags(f.type, v)
    out[UNKNOWN_TAGS] = list(UNKNOWN_TAGS_VALUE)
    return out


# Consumer protocol (ConsumerProtocolSubscription / ConsumerProtocolAssignment v0) bytes naming topics: a group's
# opaque bytes, copied as they are (every member of the group is in the same namespace).
SUBSCRIPTION_ORDERS = bytes.fromhex("0000" "00000001" "0006") + b"orders" + bytes.fromhex("ffffffff")
SUBSCRIPTION_PREFIXED = bytes.fromhex("0000" "00000001" "000d") + b"team-a.orders" + bytes.fromhex("ffffffff")
ASSIGNMENT_ORDERS = (bytes.fromhex("0000" "00000001" "0006") + b"orders" + bytes.fromhex("00000001" "00000000")
                     + bytes.fromhex("ffffffff"))
ASSIGNMENT_PREFIXED = (bytes.fromhex("0000" "00000001" "000d") + b"team-a.orders" + bytes.fromhex("00000001" "00000000")
                       + bytes.fromhex("ffffffff"))


# ---------------------------------------------------------------------------------------------------------------------
# Requests as a client sends them: builders take the version and the names (Names) to carry
# ---------------------------------------------------------------------------------------------------------------------


def rq_produce(v, n, txn=False):
    return {"TransactionalId": n.txns[0] if txn else None, "Acks": -1, "TimeoutMs": 30000,
            "TopicData": [{"Name": t, "TopicId": TOPIC_IDS[i],
                           "PartitionData": [{"Index": i, "Records": batch("team-a.orders payments")}]}
                          for i, t in enumerate(n.topics)]}


def rq_fetch(v, n, cluster_id=None):
    m = {"ReplicaId": -1, "MaxWaitMs": 500, "MinBytes": 1, "MaxBytes": 52428800, "IsolationLevel": 1,
         "SessionId": 0, "SessionEpoch": -1,
         "Topics": [{"Topic": t, "TopicId": TOPIC_IDS[i],
                     "Partitions": [{"Partition": 0, "CurrentLeaderEpoch": 5, "FetchOffset": 100, "LastFetchedEpoch": 4,
                                     "LogStartOffset": -1, "PartitionMaxBytes": 1048576}]}
                    for i, t in enumerate(n.topics)],
         "ForgottenTopicsData": [{"Topic": "forgotten-" + cycle(n.topics, 0), "TopicId": TOPIC_IDS[200],
                                  "Partitions": [3, 4]}],
         "RackId": "rack-orders"}
    if cluster_id is not None:
        m["ClusterId"] = cluster_id
    return m


def rq_list_offsets(v, n):
    return {"ReplicaId": -1, "IsolationLevel": 1, "TimeoutMs": 1000,
            "Topics": [{"Name": t, "Partitions": [{"PartitionIndex": i, "CurrentLeaderEpoch": 5, "Timestamp": -1,
                                                   "MaxNumOffsets": 1}]} for i, t in enumerate(n.topics)]}


def rq_metadata(v, n, topics="names"):
    if topics == "null":  # all topics (v1+)
        listed = None
    elif topics == "all_v0":  # v0: an empty array asks for all topics
        listed = []
    elif topics == "by_id":  # v10+: one by id (null name), one by name
        listed = [{"TopicId": TOPIC_IDS[7], "Name": None}, {"TopicId": ZERO_UUID, "Name": n.topics[0]}]
    else:
        listed = [{"TopicId": ZERO_UUID, "Name": t} for t in n.topics]
    return {"Topics": listed, "AllowAutoTopicCreation": False, "IncludeClusterAuthorizedOperations": True,
            "IncludeTopicAuthorizedOperations": True}


def rq_offset_commit(v, n):
    return {"GroupId": n.groups[0], "GenerationIdOrMemberEpoch": 3, "MemberId": "consumer-1-orders",
            "GroupInstanceId": "instance-orders" if v >= 7 else None, "RetentionTimeMs": -1,
            "Topics": [{"Name": t, "Partitions": [{"PartitionIndex": i, "CommittedOffset": 42 + i,
                                                   "CommittedLeaderEpoch": 5, "CommitTimestamp": -1,
                                                   "CommittedMetadata": "orders"}]}
                       for i, t in enumerate(n.topics)]}


def rq_offset_fetch(v, n, all_topics=False):
    topics = None if all_topics else [{"Name": t, "PartitionIndexes": [0, 1]} for t in n.topics]
    if v < 8:
        return {"GroupId": n.groups[0], "Topics": [] if topics is None and v < 2 else topics, "RequireStable": True}
    return {"Groups": [{"GroupId": n.groups[0], "MemberId": None, "MemberEpoch": -1, "Topics": topics},
                       {"GroupId": cycle(n.groups, 1), "MemberId": "member-orders" if v >= 9 else None,
                        "MemberEpoch": 7, "Topics": None}],
            "RequireStable": True}


def rq_find_coordinator(v, n, key_type=0):
    keys = n.txns if key_type == 1 else n.groups
    if key_type == 2:  # share group: "groupId:topicId:partition" (KIP-932)
        keys = ["%s:XTybGn4vTIChssPU5fYHGA:%d" % (g, i) for i, g in enumerate(n.groups)]
    return {"Key": keys[0], "KeyType": key_type, "CoordinatorKeys": keys}


def rq_join_group(v, n):
    return {"GroupId": n.groups[0], "SessionTimeoutMs": 45000, "RebalanceTimeoutMs": 300000, "MemberId": "",
            "GroupInstanceId": None, "ProtocolType": "consumer",
            "Protocols": [{"Name": "range", "Metadata": SUBSCRIPTION_ORDERS},
                          {"Name": "cooperative-sticky", "Metadata": SUBSCRIPTION_PREFIXED}],
            "Reason": "joining orders"}


def rq_heartbeat(v, n):
    return {"GroupId": n.groups[0], "GenerationId": 3, "MemberId": "consumer-1-orders",
            "GroupInstanceId": "instance-1" if v >= 3 else None}


def rq_leave_group(v, n):
    return {"GroupId": n.groups[0], "MemberId": "consumer-1-orders",
            "Members": [{"MemberId": "consumer-1-orders", "GroupInstanceId": None, "Reason": "the consumer is closing"},
                        {"MemberId": "", "GroupInstanceId": "instance-2", "Reason": None}]}


def rq_sync_group(v, n):
    return {"GroupId": n.groups[0], "GenerationId": 3, "MemberId": "consumer-1-orders", "GroupInstanceId": None,
            "ProtocolType": "consumer", "ProtocolName": "range",
            "Assignments": [{"MemberId": "consumer-1-orders",
                             "Assignment": ASSIGNMENT_ORDERS}]}


def rq_describe_groups(v, n):
    return {"Groups": n.groups, "IncludeAuthorizedOperations": True}


def rq_list_groups(v, n):
    return {"StatesFilter": ["Stable"], "TypesFilter": ["consumer"]}


def rq_create_topics(v, n):
    return {"Topics": [{"Name": t, "NumPartitions": 3 if i % 2 == 0 else -1,
                        "ReplicationFactor": 3 if i % 2 == 0 else -1,
                        "Assignments": [] if i % 2 == 0 else [{"PartitionIndex": 0, "BrokerIds": [1, 2, 3]}],
                        "Configs": [{"Name": "cleanup.policy", "Value": "compact"},
                                    {"Name": "orders", "Value": "payments"},
                                    {"Name": "retention.ms", "Value": None}] if i == 0 else []}
                       for i, t in enumerate(n.topics)],
            "timeoutMs": 30000, "validateOnly": False}


def rq_delete_topics(v, n):
    return {"TopicNames": n.topics, "TimeoutMs": 30000,
            "Topics": [{"Name": t, "TopicId": ZERO_UUID} for t in n.topics] + [{"Name": None, "TopicId": TOPIC_IDS[9]}]}


def rq_delete_records(v, n):
    return {"Topics": [{"Name": t, "Partitions": [{"PartitionIndex": 0, "Offset": 100},
                                                  {"PartitionIndex": 1, "Offset": -1}]}
                       for t in n.topics], "TimeoutMs": 30000}


def rq_init_producer_id(v, n, txn=True):
    return {"TransactionalId": n.txns[0] if txn else None, "TransactionTimeoutMs": 60000, "ProducerId": -1,
            "ProducerEpoch": -1}


def rq_offset_for_leader_epoch(v, n):
    return {"ReplicaId": -1, "Topics": [{"Topic": t, "Partitions": [{"Partition": i, "CurrentLeaderEpoch": 5,
                                                                     "LeaderEpoch": 4}]}
                                        for i, t in enumerate(n.topics)]}


def rq_add_partitions_to_txn(v, n):
    topics = [{"Name": t, "Partitions": [i, i + 1]} for i, t in enumerate(n.topics)]
    return {"V3AndBelowTransactionalId": n.txns[0], "V3AndBelowProducerId": 1000, "V3AndBelowProducerEpoch": 2,
            "V3AndBelowTopics": topics,
            "Transactions": [{"TransactionalId": x, "ProducerId": 1000 + i, "ProducerEpoch": 2, "VerifyOnly": i == 0,
                              "Topics": topics} for i, x in enumerate(n.txns)]}


def rq_add_offsets_to_txn(v, n):
    return {"TransactionalId": n.txns[0], "ProducerId": 1000, "ProducerEpoch": 2, "GroupId": n.groups[0]}


def rq_end_txn(v, n):
    return {"TransactionalId": n.txns[0], "ProducerId": 1000, "ProducerEpoch": 2, "Committed": True}


def rq_txn_offset_commit(v, n):
    return {"TransactionalId": n.txns[0], "GroupId": n.groups[0], "ProducerId": 1000, "ProducerEpoch": 2,
            "GenerationId": 3, "MemberId": "consumer-1-orders", "GroupInstanceId": None,
            "Topics": [{"Name": t, "Partitions": [{"PartitionIndex": i, "CommittedOffset": 42,
                                                   "CommittedLeaderEpoch": 5,
                                                   "CommittedMetadata": "orders"}]} for i, t in enumerate(n.topics)]}


def config_resources(n):
    """(ResourceType, ResourceName): topics (2), a broker (4), a client-metrics resource (16) and a broker logger
    (8) whose names look like topic names but are not names, groups (32)."""
    return ([(TOPIC_RESOURCE, t) for t in n.topics] + [(4, "1"), (16, "orders"), (8, "team-a.orders")]
            + [(GROUP_RESOURCE, g) for g in n.groups])


def rq_describe_configs(v, n):
    return {"Resources": [{"ResourceType": rt, "ResourceName": rn,
                           "ConfigurationKeys": ["retention.ms", "orders"] if rt == TOPIC_RESOURCE else None}
                          for rt, rn in config_resources(n)],
            "IncludeSynonyms": True, "IncludeDocumentation": True}


def altered_resources(n):
    """(ResourceType, ResourceName) a tenant may alter: its topics (2) and groups (32)."""
    return [(TOPIC_RESOURCE, t) for t in n.topics] + [(GROUP_RESOURCE, g) for g in n.groups]


# Resources of the shared cluster a namespace refuses to alter (foreign_resource): a broker, the cluster-wide
# broker default (""), a broker logger, client metrics, an unknown type.
FOREIGN_RESOURCES = {"broker": [(TOPIC_RESOURCE, "orders"), (4, "1")], "broker_default": [(4, "")],
                     "broker_logger": [(8, "3"), (4, "1")],
                     "client_metrics": [(GROUP_RESOURCE, "checkout-app"), (16, "orders-metrics")],
                     "unknown_type": [(0, "team-a.orders")]}


def rq_alter_configs(v, n, resources=None):
    return {"Resources": [{"ResourceType": rt, "ResourceName": rn,
                           "Configs": [{"Name": "retention.ms", "Value": "86400000"},
                                       {"Name": "orders", "Value": None}]}
                          for rt, rn in (resources or altered_resources(n))], "ValidateOnly": True}


def rq_incremental_alter_configs(v, n, resources=None):
    return {"Resources": [{"ResourceType": rt, "ResourceName": rn,
                           "Configs": [{"Name": "retention.ms", "ConfigOperation": 0, "Value": "86400000"},
                                       {"Name": "orders", "ConfigOperation": 1, "Value": None}]}
                          for rt, rn in (resources or altered_resources(n))], "ValidateOnly": False}


def rq_create_partitions(v, n):
    return {"Topics": [{"Name": t, "Count": 6, "Assignments": None if i % 2 == 0 else [{"BrokerIds": [1, 2]}]}
                       for i, t in enumerate(n.topics)], "TimeoutMs": 30000, "ValidateOnly": False}


def rq_delete_groups(v, n):
    return {"GroupsNames": n.groups}


def rq_offset_delete(v, n):
    return {"GroupId": n.groups[0], "Topics": [{"Name": t, "Partitions": [{"PartitionIndex": 0}, {"PartitionIndex": 2}]}
                                               for t in n.topics]}


def rq_describe_producers(v, n):
    return {"Topics": [{"Name": t, "PartitionIndexes": [0, 1]} for t in n.topics]}


def regex_of(names):
    """The regex librdkafka subscribes with for "^name.*" subscriptions (rd_kafka_topic_partition_list_combine_regexes
    joins them as "(^a)|(^b)"), "" when there is none (its "no regex")."""
    return "|".join("(^%s.*)" % escape_literal(name) for name in names if name)


def rq_consumer_group_heartbeat(v, n, regex=_NO_DEFAULT):
    return {"GroupId": n.groups[0], "MemberId": "", "MemberEpoch": 0, "InstanceId": None, "RackId": "rack-1",
            "RebalanceTimeoutMs": 300000, "SubscribedTopicNames": n.topics,
            "SubscribedTopicRegex": regex_of(n.topics) if regex is _NO_DEFAULT else regex,
            "ServerAssignor": "uniform", "TopicPartitions": [{"TopicId": TOPIC_IDS[3], "Partitions": [0, 2]}]}


def rq_describe_transactions(v, n):
    return {"TransactionalIds": n.txns}


def rq_list_transactions(v, n, pattern=_NO_DEFAULT):
    return {"StateFilters": ["Ongoing", "PrepareCommit"], "ProducerIdFilters": [1000, 1001], "DurationFilter": 60000,
            "TransactionalIdPattern": regex_of(n.txns) if pattern is _NO_DEFAULT else pattern}


def rq_consumer_group_describe(v, n):
    return {"GroupIds": n.groups, "IncludeAuthorizedOperations": True}


def rq_share_group_heartbeat(v, n):
    return {"GroupId": n.groups[0], "MemberId": "share-member-1", "MemberEpoch": 0, "RackId": None,
            "SubscribedTopicNames": n.topics}


def rq_share_fetch(v, n, group=True):
    return {"GroupId": n.groups[0] if group else None, "MemberId": "share-member-1", "ShareSessionEpoch": 0,
            "MaxWaitMs": 500, "MinBytes": 1, "MaxBytes": 52428800, "MaxRecords": 500, "BatchSize": 500,
            "ShareAcquireMode": 0,
            "Topics": [{"TopicId": TOPIC_IDS[1], "Partitions": [
                {"PartitionIndex": 0, "AcknowledgementBatches": [{"FirstOffset": 0, "LastOffset": 9,
                                                                  "AcknowledgeTypes": [1]}]}]}],
            "ForgottenTopicsData": [{"TopicId": TOPIC_IDS[2], "Partitions": [1]}]}


def rq_share_acknowledge(v, n, group=True):
    return {"GroupId": n.groups[0] if group else None, "MemberId": "share-member-1", "ShareSessionEpoch": 1,
            "IsRenewAck": False,
            "Topics": [{"TopicId": TOPIC_IDS[1], "Partitions": [
                {"PartitionIndex": 0, "AcknowledgementBatches": [{"FirstOffset": 0, "LastOffset": 9,
                                                                  "AcknowledgeTypes": [1, 2]}]}]}]}


# ---------------------------------------------------------------------------------------------------------------------
# Responses as the backend sends them (its names carry the prefixes)
# ---------------------------------------------------------------------------------------------------------------------

NODE_ENDPOINTS = [{"NodeId": 1, "Host": "broker-1.team-a.orders.internal", "Port": 9092, "Rack": "rack-1"},
                  {"NodeId": 2, "Host": "broker-2.internal", "Port": 9092, "Rack": None}]


def rs_produce(v, n, endpoints=False):
    m = {"Responses": [{"Name": t, "TopicId": TOPIC_IDS[i], "PartitionResponses": [
            {"Index": i, "ErrorCode": 6 if endpoints and i == 0 else 0, "BaseOffset": 100, "LogAppendTimeMs": -1,
             "LogStartOffset": 0,
             "RecordErrors": [{"BatchIndex": 0, "BatchIndexErrorMessage": "orders"}] if i == 1 else [],
             "ErrorMessage": None,
             "CurrentLeader": {"LeaderId": 1, "LeaderEpoch": 7} if endpoints and i == 0 else None}]}
            for i, t in enumerate(n.topics)],
         "ThrottleTimeMs": 0}
    if endpoints:
        m["NodeEndpoints"] = NODE_ENDPOINTS
    return m


def rs_fetch(v, n, endpoints=False):
    m = {"ThrottleTimeMs": 0, "ErrorCode": 0, "SessionId": 12,
         "Responses": [{"Topic": t, "TopicId": TOPIC_IDS[i], "Partitions": [
             {"PartitionIndex": 0, "ErrorCode": 6 if endpoints and i == 0 else 0, "HighWatermark": 10,
              "LastStableOffset": 10, "LogStartOffset": 0,
              "CurrentLeader": {"LeaderId": 2, "LeaderEpoch": 9} if endpoints and i == 0 else None,
              "AbortedTransactions": None if i == 0 else [{"ProducerId": 1000, "FirstOffset": 3}],
              "PreferredReadReplica": -1, "Records": batch(t)}]} for i, t in enumerate(n.topics)]}
    if endpoints:
        m["NodeEndpoints"] = NODE_ENDPOINTS
    return m


def rs_list_offsets(v, n):
    return {"ThrottleTimeMs": 0, "Topics": [{"Name": t, "Partitions": [
        {"PartitionIndex": i, "ErrorCode": 0, "OldStyleOffsets": [42], "Timestamp": -1, "Offset": 42,
         "LeaderEpoch": 5}]}
        for i, t in enumerate(n.topics)]}


def rs_metadata(v, n, null_name=False):
    topics = [{"ErrorCode": 0, "Name": t, "TopicId": TOPIC_IDS[i], "IsInternal": False,
               "Partitions": [{"ErrorCode": 0, "PartitionIndex": 0, "LeaderId": 1, "LeaderEpoch": 3,
                               "ReplicaNodes": [1, 2], "IsrNodes": [1, 2], "OfflineReplicas": []}],
               "TopicAuthorizedOperations": 3576} for i, t in enumerate(n.topics)]
    if null_name:  # v12+: a topic asked for by an unknown id
        topics.append({"ErrorCode": 100, "Name": None, "TopicId": TOPIC_IDS[7], "IsInternal": False, "Partitions": [],
                       "TopicAuthorizedOperations": -2147483648})
    return {"ThrottleTimeMs": 0,
            "Brokers": [{"NodeId": 1, "Host": "broker-1.internal", "Port": 9092, "Rack": "rack-1"}],
            "ClusterId": "team-a.cluster", "ControllerId": 1, "Topics": topics,
            "ClusterAuthorizedOperations": -2147483648,
            "ErrorCode": 0}


def rs_offset_commit(v, n):
    return {"ThrottleTimeMs": 0, "Topics": [{"Name": t, "Partitions": [{"PartitionIndex": i, "ErrorCode": 0}]}
                                            for i, t in enumerate(n.topics)]}


def rs_offset_fetch(v, n):
    topics = [{"Name": t, "Partitions": [{"PartitionIndex": 0, "CommittedOffset": 42, "CommittedLeaderEpoch": 5,
                                          "Metadata": "team-a.orders", "ErrorCode": 0}]} for t in n.topics]
    return {"ThrottleTimeMs": 0, "Topics": topics, "ErrorCode": 0,
            "Groups": [{"GroupId": g, "Topics": topics if i == 0 else [], "ErrorCode": 0 if i == 0 else 16}
                       for i, g in enumerate(n.groups)]}


def rs_find_coordinator(v, n, key_type=0):
    keys = n.txns if key_type == 1 else n.groups
    if key_type == 2:
        keys = ["%s:XTybGn4vTIChssPU5fYHGA:%d" % (g, i) for i, g in enumerate(n.groups)]
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "NodeId": 1, "Host": "broker-1.internal",
            "Port": 9092,
            "Coordinators": [{"Key": k, "NodeId": 1 if i == 0 else -1, "Host": "broker-1.internal" if i == 0 else "",
                              "Port": 9092 if i == 0 else -1, "ErrorCode": 0 if i == 0 else 15,
                              "ErrorMessage": None if i == 0 else "The coordinator is not available."}
                             for i, k in enumerate(keys)]}


def rs_list_groups(v, n):
    return {"ThrottleTimeMs": 0, "ErrorCode": 0,
            "Groups": [{"GroupId": g, "ProtocolType": "consumer", "GroupState": "Stable", "GroupType": "classic"}
                       for g in n.groups]}


def rs_describe_groups(v, n):
    return {"ThrottleTimeMs": 0, "Groups": [
        {"ErrorCode": 0, "GroupId": g, "GroupState": "Stable", "ProtocolType": "consumer", "ProtocolData": "range",
         "Members": [{"MemberId": "consumer-1", "GroupInstanceId": None, "ClientId": "rdkafka",
                      "ClientHost": "/10.0.0.1",
                      "MemberMetadata": SUBSCRIPTION_PREFIXED, "MemberAssignment": ASSIGNMENT_PREFIXED}],
         "AuthorizedOperations": 3576} for g in n.groups]}


def rs_create_topics(v, n):
    return {"ThrottleTimeMs": 0, "Topics": [
        {"Name": t, "TopicId": TOPIC_IDS[i], "ErrorCode": 0 if i == 0 else 36,
         "ErrorMessage": None if i == 0 else "Topic '%s' already exists." % t,
         "TopicConfigErrorCode": 29 if i == 1 else None,
         "NumPartitions": 3 if i == 0 else -1, "ReplicationFactor": 3 if i == 0 else -1,
         "Configs": [{"Name": "cleanup.policy", "Value": "delete", "ReadOnly": False, "ConfigSource": 5,
                      "IsSensitive": False}, {"Name": "team-a.orders", "Value": "team-a.orders", "ReadOnly": True,
                                              "ConfigSource": 4, "IsSensitive": False}] if i == 0 else None}
        for i, t in enumerate(n.topics)]}


def rs_delete_topics(v, n):
    return {"ThrottleTimeMs": 0, "Responses": [
        {"Name": t, "TopicId": TOPIC_IDS[i], "ErrorCode": 0, "ErrorMessage": None} for i, t in enumerate(n.topics)]
        + ([{"Name": None, "TopicId": TOPIC_IDS[9], "ErrorCode": 100, "ErrorMessage": "Unknown topic id."}]
           if v >= 6 else [])}


def rs_delete_records(v, n):
    return {"ThrottleTimeMs": 0, "Topics": [{"Name": t, "Partitions": [
        {"PartitionIndex": 0, "LowWatermark": 100, "ErrorCode": 0}]} for t in n.topics]}


def rs_create_partitions(v, n):
    return {"ThrottleTimeMs": 0, "Results": [{"Name": t, "ErrorCode": 0 if i == 0 else 37,
                                              "ErrorMessage": None if i == 0 else "team-a.payments has 6 partitions"}
                                             for i, t in enumerate(n.topics)]}


def rs_offset_for_leader_epoch(v, n):
    return {"ThrottleTimeMs": 0, "Topics": [{"Topic": t, "Partitions": [
        {"ErrorCode": 0, "Partition": i, "LeaderEpoch": 4, "EndOffset": 100}]} for i, t in enumerate(n.topics)]}


def rs_add_partitions_to_txn(v, n):
    topics = [{"Name": t, "ResultsByPartition": [{"PartitionIndex": i, "PartitionErrorCode": 0}]}
              for i, t in enumerate(n.topics)]
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ResultsByTopicV3AndBelow": topics,
            "ResultsByTransaction": [{"TransactionalId": x, "TopicResults": topics} for x in n.txns]}


def rs_txn_offset_commit(v, n):
    return {"ThrottleTimeMs": 0, "Topics": [{"Name": t, "Partitions": [{"PartitionIndex": i, "ErrorCode": 0}]}
                                            for i, t in enumerate(n.topics)]}


def rs_describe_configs(v, n):
    def configs(rt):
        return [{"Name": "retention.ms" if rt == TOPIC_RESOURCE else "consumer.session.timeout.ms",
                 "Value": "604800000",
                 "ReadOnly": False, "IsDefault": False, "ConfigSource": 5, "IsSensitive": False,
                 "Synonyms": [{"Name": "log.retention.ms", "Value": None, "Source": 5},
                              {"Name": "team-a.orders", "Value": "team-a.orders", "Source": 4}],
                 "ConfigType": 5, "Documentation": "How long team-a.orders keeps its records."}]
    return {"ThrottleTimeMs": 0, "Results": [
        {"ErrorCode": 0, "ErrorMessage": None, "ResourceType": rt, "ResourceName": rn, "Configs": configs(rt)}
        for rt, rn in config_resources(n)]}


def rs_alter_configs(v, n):
    return {"ThrottleTimeMs": 0, "Responses": [
        {"ErrorCode": 0 if rt != 4 else 42, "ErrorMessage": None if rt != 4 else "team-a.orders",
         "ResourceType": rt, "ResourceName": rn} for rt, rn in config_resources(n)]}


def rs_delete_groups(v, n):
    return {"ThrottleTimeMs": 0, "Results": [{"GroupId": g, "ErrorCode": 0 if i == 0 else 69}
                                             for i, g in enumerate(n.groups)]}


def rs_offset_delete(v, n):
    return {"ErrorCode": 0, "ThrottleTimeMs": 0, "Topics": [{"Name": t, "Partitions": [
        {"PartitionIndex": 0, "ErrorCode": 0}, {"PartitionIndex": 2, "ErrorCode": 3}]} for t in n.topics]}


def rs_describe_producers(v, n):
    return {"ThrottleTimeMs": 0, "Topics": [{"Name": t, "Partitions": [
        {"PartitionIndex": 0, "ErrorCode": 0, "ErrorMessage": None, "ActiveProducers": [
            {"ProducerId": 1000, "ProducerEpoch": 2, "LastSequence": 41, "LastTimestamp": 1700000000000,
             "CoordinatorEpoch": 1, "CurrentTxnStartOffset": -1}]}]} for t in n.topics]}


def rs_join_group(v, n):
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "GenerationId": 3, "ProtocolType": "consumer",
            "ProtocolName": "range", "Leader": "consumer-1", "SkipAssignment": False, "MemberId": "consumer-1",
            "Members": [{"MemberId": "consumer-1", "GroupInstanceId": None,
                         "Metadata": SUBSCRIPTION_PREFIXED}]}


def rs_init_producer_id(v, n):
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ProducerId": 1000, "ProducerEpoch": 2}


def rs_end_txn(v, n):
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ProducerId": 1000, "ProducerEpoch": 3}


def rs_consumer_group_heartbeat(v, n):
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "MemberId": "member-1", "MemberEpoch": 4,
            "HeartbeatIntervalMs": 5000,
            "Assignment": {"TopicPartitions": [{"TopicId": TOPIC_IDS[1], "Partitions": [0, 1]}]}}


def rs_describe_transactions(v, n):
    return {"ThrottleTimeMs": 0, "TransactionStates": [
        {"ErrorCode": 0, "TransactionalId": x, "TransactionState": "Ongoing", "TransactionTimeoutMs": 60000,
         "TransactionStartTimeMs": 1700000000000, "ProducerId": 1000 + i, "ProducerEpoch": 2,
         "Topics": [{"Topic": t, "Partitions": [0, i]} for t in n.topics]} for i, x in enumerate(n.txns)]}


def rs_list_transactions(v, n):
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "UnknownStateFilters": ["Bogus"],
            "TransactionStates": [{"TransactionalId": x, "ProducerId": 1000 + i,
                                   "TransactionState": "Ongoing" if i % 2 == 0 else "CompleteCommit"}
                                  for i, x in enumerate(n.txns)]}


def client_side(name, kind):
    prefix = PREFIXES[kind]
    return name[len(prefix):] if name.startswith(prefix) else name


def rs_consumer_group_describe(v, n, regexes=None):
    """The first group described with one member per regex (by default what kedge sent for the client's regex
    over the topics, and a member with none), the others not found."""
    if regexes is None:
        regexes = [confine(regex_of([client_side(t, T) for t in n.topics]), PREFIXES[T]) or "", None]
    assignment = {"TopicPartitions": [{"TopicId": TOPIC_IDS[i], "TopicName": t, "Partitions": [0, i]}
                                      for i, t in enumerate(n.topics)]}
    members = [{"MemberId": "member-%d" % i, "InstanceId": None, "RackId": "rack-1" if i == 0 else None,
                "MemberEpoch": 5, "ClientId": "rdkafka", "ClientHost": "/10.0.0.%d" % (i + 1),
                "SubscribedTopicNames": n.topics, "SubscribedTopicRegex": regex, "Assignment": assignment,
                "TargetAssignment": assignment, "MemberType": 1} for i, regex in enumerate(regexes)]
    return {"ThrottleTimeMs": 0, "Groups": [
        {"ErrorCode": 0 if i == 0 else 69, "ErrorMessage": None if i == 0 else "Group %s not found." % g,
         "GroupId": g, "GroupState": "Stable" if i == 0 else "Dead", "GroupEpoch": 5, "AssignmentEpoch": 5,
         "AssignorName": "uniform", "Members": members if i == 0 else [], "AuthorizedOperations": 3576}
        for i, g in enumerate(n.groups)]}


def rs_share_fetch(v, n):
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "AcquisitionLockTimeoutMs": 30000,
            "Responses": [{"TopicId": TOPIC_IDS[1], "Partitions": [
                {"PartitionIndex": 0, "ErrorCode": 0, "ErrorMessage": None, "AcknowledgeErrorCode": 0,
                 "AcknowledgeErrorMessage": None, "CurrentLeader": {"LeaderId": 1, "LeaderEpoch": 3},
                 "Records": batch("team-a.orders"),
                 "AcquiredRecords": [{"FirstOffset": 0, "LastOffset": 0, "DeliveryCount": 1}]}]}],
            "NodeEndpoints": NODE_ENDPOINTS}


def rs_share_acknowledge(v, n):
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "AcquisitionLockTimeoutMs": 30000,
            "Responses": [{"TopicId": TOPIC_IDS[1], "Partitions": [
                {"PartitionIndex": 0, "ErrorCode": 0, "ErrorMessage": None,
                 "CurrentLeader": {"LeaderId": 1, "LeaderEpoch": 3}}]}],
            "NodeEndpoints": NODE_ENDPOINTS}


# ---------------------------------------------------------------------------------------------------------------------
# APIs: key, file stem, layouts, first flexible version, versions with request / response vectors
# ---------------------------------------------------------------------------------------------------------------------

def vr(lo, hi):
    return list(range(lo, hi + 1))


APIS = [
    (Api(0, "produce", PRODUCE_REQUEST, PRODUCE_RESPONSE, 9, vr(3, 13), vr(3, 13)), rq_produce, rs_produce),
    (Api(1, "fetch", FETCH_REQUEST, FETCH_RESPONSE, 12, vr(0, 17), vr(0, 17)), rq_fetch, rs_fetch),
    (Api(2, "list_offsets", LIST_OFFSETS_REQUEST, LIST_OFFSETS_RESPONSE, 6, vr(0, 10), vr(0, 10)),
     rq_list_offsets, rs_list_offsets),
    (Api(3, "metadata", METADATA_REQUEST, METADATA_RESPONSE, 9, vr(0, 13), vr(0, 13)), rq_metadata, rs_metadata),
    (Api(8, "offset_commit", OFFSET_COMMIT_REQUEST, OFFSET_COMMIT_RESPONSE, 8, vr(0, 9), vr(0, 9)),
     rq_offset_commit, rs_offset_commit),
    (Api(9, "offset_fetch", OFFSET_FETCH_REQUEST, OFFSET_FETCH_RESPONSE, 6, vr(0, 9), vr(0, 9)),
     rq_offset_fetch, rs_offset_fetch),
    (Api(10, "find_coordinator", FIND_COORDINATOR_REQUEST, FIND_COORDINATOR_RESPONSE, 3, vr(0, 6), vr(0, 6)),
     rq_find_coordinator, rs_find_coordinator),
    (Api(11, "join_group", JOIN_GROUP_REQUEST, JOIN_GROUP_RESPONSE, 6, vr(0, 9), [0, 6, 9]),
     rq_join_group, rs_join_group),
    (Api(12, "heartbeat", HEARTBEAT_REQUEST, None, 4, vr(0, 4), []), rq_heartbeat, None),
    (Api(13, "leave_group", LEAVE_GROUP_REQUEST, None, 4, vr(0, 5), []), rq_leave_group, None),
    (Api(14, "sync_group", SYNC_GROUP_REQUEST, None, 4, vr(0, 5), []), rq_sync_group, None),
    (Api(15, "describe_groups", DESCRIBE_GROUPS_REQUEST, DESCRIBE_GROUPS_RESPONSE, 5, vr(0, 5), vr(0, 5)),
     rq_describe_groups, rs_describe_groups),
    (Api(16, "list_groups", LIST_GROUPS_REQUEST, LIST_GROUPS_RESPONSE, 3, [0, 3, 5], vr(0, 5)),
     rq_list_groups, rs_list_groups),
    (Api(19, "create_topics", CREATE_TOPICS_REQUEST, CREATE_TOPICS_RESPONSE, 5, vr(2, 7), vr(2, 7)),
     rq_create_topics, rs_create_topics),
    (Api(20, "delete_topics", DELETE_TOPICS_REQUEST, DELETE_TOPICS_RESPONSE, 4, vr(1, 6), vr(1, 6)),
     rq_delete_topics, rs_delete_topics),
    (Api(21, "delete_records", DELETE_RECORDS_REQUEST, DELETE_RECORDS_RESPONSE, 2, vr(0, 2), vr(0, 2)),
     rq_delete_records, rs_delete_records),
    (Api(22, "init_producer_id", INIT_PRODUCER_ID_REQUEST, INIT_PRODUCER_ID_RESPONSE, 2, vr(0, 5), [0, 2, 5]),
     rq_init_producer_id, rs_init_producer_id),
    (Api(23, "offset_for_leader_epoch", OFFSET_FOR_LEADER_EPOCH_REQUEST, OFFSET_FOR_LEADER_EPOCH_RESPONSE, 4,
         vr(0, 4), vr(0, 4)), rq_offset_for_leader_epoch, rs_offset_for_leader_epoch),
    (Api(24, "add_partitions_to_txn", ADD_PARTITIONS_TO_TXN_REQUEST, ADD_PARTITIONS_TO_TXN_RESPONSE, 3, vr(0, 5),
         vr(0, 5)), rq_add_partitions_to_txn, rs_add_partitions_to_txn),
    (Api(25, "add_offsets_to_txn", ADD_OFFSETS_TO_TXN_REQUEST, None, 3, vr(0, 4), []), rq_add_offsets_to_txn, None),
    (Api(26, "end_txn", END_TXN_REQUEST, END_TXN_RESPONSE, 3, vr(0, 5), [0, 3, 5]), rq_end_txn, rs_end_txn),
    (Api(28, "txn_offset_commit", TXN_OFFSET_COMMIT_REQUEST, TXN_OFFSET_COMMIT_RESPONSE, 3, vr(0, 4), vr(0, 4)),
     rq_txn_offset_commit, rs_txn_offset_commit),
    (Api(32, "describe_configs", DESCRIBE_CONFIGS_REQUEST, DESCRIBE_CONFIGS_RESPONSE, 4, vr(0, 4), vr(0, 4)),
     rq_describe_configs, rs_describe_configs),
    (Api(33, "alter_configs", ALTER_CONFIGS_REQUEST, ALTER_CONFIGS_RESPONSE, 2, vr(0, 2), vr(0, 2)),
     rq_alter_configs, rs_alter_configs),
    (Api(37, "create_partitions", CREATE_PARTITIONS_REQUEST, CREATE_PARTITIONS_RESPONSE, 2, vr(0, 3), vr(0, 3)),
     rq_create_partitions, rs_create_partitions),
    (Api(42, "delete_groups", DELETE_GROUPS_REQUEST, DELETE_GROUPS_RESPONSE, 2, vr(0, 2), vr(0, 2)),
     rq_delete_groups, rs_delete_groups),
    (Api(44, "incremental_alter_configs", INCREMENTAL_ALTER_CONFIGS_REQUEST, INCREMENTAL_ALTER_CONFIGS_RESPONSE, 1,
         vr(0, 1), vr(0, 1)), rq_incremental_alter_configs, rs_alter_configs),
    (Api(47, "offset_delete", OFFSET_DELETE_REQUEST, OFFSET_DELETE_RESPONSE, None, [0], [0]),
     rq_offset_delete, rs_offset_delete),
    (Api(61, "describe_producers", DESCRIBE_PRODUCERS_REQUEST, DESCRIBE_PRODUCERS_RESPONSE, 0, [0], [0]),
     rq_describe_producers, rs_describe_producers),
    (Api(65, "describe_transactions", DESCRIBE_TRANSACTIONS_REQUEST, DESCRIBE_TRANSACTIONS_RESPONSE, 0, [0], [0]),
     rq_describe_transactions, rs_describe_transactions),
    (Api(66, "list_transactions", LIST_TRANSACTIONS_REQUEST, LIST_TRANSACTIONS_RESPONSE, 0, vr(0, 2), vr(0, 2)),
     rq_list_transactions, rs_list_transactions),
    (Api(68, "consumer_group_heartbeat", CONSUMER_GROUP_HEARTBEAT_REQUEST, CONSUMER_GROUP_HEARTBEAT_RESPONSE, 0,
         vr(0, 1), vr(0, 1)), rq_consumer_group_heartbeat, rs_consumer_group_heartbeat),
    (Api(69, "consumer_group_describe", CONSUMER_GROUP_DESCRIBE_REQUEST, CONSUMER_GROUP_DESCRIBE_RESPONSE, 0,
         vr(0, 1), vr(0, 1)), rq_consumer_group_describe, rs_consumer_group_describe),
    (Api(76, "share_group_heartbeat", SHARE_GROUP_HEARTBEAT_REQUEST, None, 0, [1], []), rq_share_group_heartbeat, None),
    (Api(78, "share_fetch", SHARE_FETCH_REQUEST, SHARE_FETCH, 0, vr(1, 2), vr(1, 2)), rq_share_fetch, rs_share_fetch),
    (Api(79, "share_acknowledge", SHARE_ACKNOWLEDGE_REQUEST, SHARE_ACKNOWLEDGE, 0, vr(1, 2), vr(1, 2)),
     rq_share_acknowledge, rs_share_acknowledge),
]
API = {api.stem: (api, rq, rs) for api, rq, rs in APIS}


def edges(api, versions):
    """The lowest, the first flexible and the highest of `versions`."""
    picked = {versions[0], versions[-1]}
    flexible = [v for v in versions if api.flexible(v)]
    if flexible:
        picked.add(flexible[0])
    return sorted(picked)


def all_cases():
    check_regex_semantics()
    cases = []

    def req(stem, v, variant, note, names=CLIENT_NAMES, **kw):
        api, rq, _ = API[stem]
        opts = {k: kw.pop(k) for k in list(kw) if k not in ("header_tags", "client_id", "tags")}
        message = rq(v, names, **opts)
        if kw.pop("tags", False):
            message = with_unknown_tags(api.request, message)
        cases.append(Case(api, v, "request", variant, note, message, **kw))

    def resp(stem, v, variant, note, names=BACKEND_NAMES, key_type=None, tags=False, filtered=False, **opts):
        api, _, rs = API[stem]
        if api.key == 10:
            opts["key_type"] = key_type
        message = rs(v, names, **opts)
        if tags:
            message = with_unknown_tags(api.response, message)
        cases.append(Case(api, v, "response", variant, note, message, key_type=key_type,
                          filter_transactional_ids=filtered))

    # --- every API, every version: the plain request and response --------------------------------------------------
    for api, rq, rs in APIS:
        for v in api.requests:
            req(api.stem, v, None, "%s v%d request: the client's names get their prefixes" % (api.request.name, v))
        for v in api.responses:
            key_type = 0 if api.key == 10 else None
            resp(api.stem, v, None, "%s v%d response: the backend's names lose their prefixes"
                 % (api.response.name, v), key_type=key_type)

    # --- generic variants at the lowest, first flexible and highest versions ---------------------------------------
    for api, rq, rs in APIS:
        for v in edges(api, api.requests):
            req(api.stem, v, "empty_names", "empty names get the prefix too (and strip back to empty)",
                names=EMPTY_NAMES)
            if api.flexible(v):
                req(api.stem, v, "unknown_tags", "unknown tagged fields in every tag buffer are copied verbatim",
                    tags=True)
        for v in edges(api, api.responses) if rs is not None else []:
            key_type = 0 if api.key == 10 else None
            resp(api.stem, v, "foreign", "names without the prefix are left as they are, the prefix alone becomes "
                 "\"\", another kind's prefix is not stripped, a doubled prefix is stripped once",
                 names=FOREIGN_NAMES, key_type=key_type)
            resp(api.stem, v, "unprefixed", "no name carries its prefix: nothing changes", names=UNPREFIXED_NAMES,
                 key_type=key_type)
            if api.flexible(v):
                resp(api.stem, v, "unknown_tags", "unknown tagged fields in every tag buffer are copied verbatim",
                     key_type=key_type, tags=True)

    # --- Produce -----------------------------------------------------------------------------------------------------
    for v in (3, 8, 9, 12, 13):
        req("produce", v, "transactional", "the TransactionalId gets the transactional id prefix; Records are copied",
            txn=True)
    req("produce", 13, "unicode_txn", "a non-ASCII transactional id (lengths in UTF-8 bytes)", names=UNICODE_NAMES,
        txn=True)
    req("produce", 9, "too_long", "a topic name of 243 characters is 250 once prefixed: refused", names=TOO_LONG_NAMES)
    req("produce", 3, "longest", "a topic name of 242 characters is 249 once prefixed: renamed", names=LONGEST_NAMES)
    for v in (10, 12, 13):
        resp("produce", v, "node_endpoints", "KIP-951 CurrentLeader and NodeEndpoints tags are copied verbatim",
             endpoints=True)

    # --- Fetch -------------------------------------------------------------------------------------------------------
    for v in (12, 15, 17):
        req("fetch", v, "cluster_id", "the known ClusterId tag (0) and unknown tags are copied", tags=True,
            cluster_id="team-a.cluster")
    req("fetch", 12, "many_topics", "130 topics: the compact array count takes 2 bytes", names=MANY_NAMES)
    req("fetch", 4, "many_topics", "130 topics", names=MANY_NAMES)
    req("fetch", 12, "varint_growth", "a 121-character topic name is 128 once prefixed: its compact length (129) "
        "takes 2 bytes", names=GROWTH_NAMES)
    req("fetch", 12, "too_long", "a topic name of 243 characters: refused", names=TOO_LONG_NAMES)
    for v in (16, 17):
        resp("fetch", v, "node_endpoints", "KIP-951 NodeEndpoints and CurrentLeader tags are copied verbatim",
             endpoints=True)
        resp("fetch", v, "node_endpoints_foreign", "NodeEndpoints copied; names without the prefix left",
             names=FOREIGN_NAMES, endpoints=True)
    resp("fetch", 12, "varint_growth", "a 128-character backend name is 121 once stripped: its compact length "
         "shrinks to 1 byte", names=GROWTH_NAMES.prefixed())
    resp("fetch", 4, "many_topics", "130 topics", names=MANY_NAMES.prefixed())

    # --- Metadata ----------------------------------------------------------------------------------------------------
    req("metadata", 0, "all_topics", "v0: an empty Topics asks for every topic: no name", topics="all_v0")
    for v in (1, 4, 9, 12, 13):
        req("metadata", v, "null_topics", "a null Topics asks for every topic: no name", topics="null")
    for v in (10, 12, 13):
        req("metadata", v, "by_id", "a topic asked for by id (null name) stays null; the named one is prefixed",
            topics="by_id")
    for v in (1, 12):
        req("metadata", v, "too_long", "Metadata only asks: a 243- or 250-character topic name is forwarded "
            "prefixed (the broker answers it as a name it does not have)", names=TOO_LONG_NAMES)
    req("metadata", 9, "many_topics", "130 topics: the compact array count takes 2 bytes", names=MANY_NAMES)
    req("metadata", 12, "header_tags", "unknown tagged fields in the request header are copied",
        header_tags=HEADER_TAGS)
    req("metadata", 1, "null_client_id", "a null client id in the request header", client_id=None)
    req("metadata", 12, "varint_growth", "compact length growing to 2 bytes", names=GROWTH_NAMES)
    for v in (12, 13):
        resp("metadata", v, "null_name", "a topic answered by id only (null name) stays null", null_name=True)
    resp("metadata", 12, "varint_growth", "compact length shrinking to 1 byte", names=GROWTH_NAMES.prefixed())
    resp("metadata", 0, "many_topics", "130 topics", names=MANY_NAMES.prefixed())
    resp("metadata", 9, "many_topics", "130 topics: the compact array count takes 2 bytes",
         names=MANY_NAMES.prefixed())

    # --- OffsetFetch, OffsetCommit -----------------------------------------------------------------------------------
    for v in (2, 6, 7, 8, 9):
        req("offset_fetch", v, "all_topics", "a null Topics (all of the group's offsets): only the group ids are "
            "renamed", all_topics=True)
    req("offset_commit", 8, "unicode_group", "a non-ASCII group id", names=UNICODE_NAMES)

    # --- FindCoordinator ---------------------------------------------------------------------------------------------
    for v in (1, 3, 4, 6):
        req("find_coordinator", v, "transaction", "KeyType 1: the key is a transactional id", key_type=1)
    req("find_coordinator", 6, "share", "KeyType 2: a share group key \"groupId:topicId:partition\" gets the group "
        "prefix", key_type=2)
    req("find_coordinator", 4, "many_keys", "130 keys: the compact array count takes 2 bytes", names=MANY_NAMES)
    for v in (4, 5, 6):
        resp("find_coordinator", v, "transaction", "keys of a KeyType 1 request lose the transactional id prefix",
             key_type=1)
        resp("find_coordinator", v, "transaction_foreign", "keys of a KeyType 1 request: only the transactional id "
             "prefix is stripped", names=FOREIGN_NAMES, key_type=1)
    resp("find_coordinator", 6, "share", "share group keys lose the group prefix", key_type=2)
    resp("find_coordinator", 4, "group_keys_as_transaction", "group-prefixed keys answered to a KeyType 1 request "
         "are not stripped", key_type=1, names=Names([], BACKEND_NAMES.groups, BACKEND_NAMES.groups))

    # --- group APIs ---------------------------------------------------------------------------------------------------
    req("heartbeat", 0, "longest_group", "a group id of 32761 bytes is 32767 once prefixed: renamed",
        names=LONGEST_GROUP)
    req("heartbeat", 0, "too_long_group", "a group id of 32762 bytes is 32768 once prefixed, more than a Kafka "
        "string holds: refused", names=TOO_LONG_GROUP)
    req("join_group", 9, "header_tags", "unknown tagged fields in the request header are copied",
        header_tags=HEADER_TAGS)
    req("describe_groups", 5, "many_groups", "130 groups: the compact array count takes 2 bytes", names=MANY_NAMES)
    req("delete_groups", 2, "many_groups", "130 groups", names=MANY_NAMES)
    req("describe_groups", 0, "unicode_group", "a non-ASCII group id", names=UNICODE_NAMES)
    resp("list_groups", 3, "many_groups", "130 groups: the compact array count takes 2 bytes",
         names=MANY_NAMES.prefixed())
    resp("describe_groups", 5, "unicode_group", "a non-ASCII group id", names=UNICODE_NAMES.prefixed())

    # --- topic administration ---------------------------------------------------------------------------------------
    for v in (2, 5, 7):
        req("create_topics", v, "longest", "a topic name of 242 characters is 249 once prefixed: renamed",
            names=LONGEST_NAMES)
        req("create_topics", v, "too_long", "a topic name of 243 characters is 250 once prefixed: refused",
            names=TOO_LONG_NAMES)
    req("create_topics", 5, "varint_growth", "compact length growing to 2 bytes", names=GROWTH_NAMES)
    req("create_topics", 5, "many_topics", "130 topics", names=MANY_NAMES)
    req("delete_topics", 6, "too_long", "a topic name of 243 characters: refused", names=TOO_LONG_NAMES)

    # --- transactions ------------------------------------------------------------------------------------------------
    for v in (0, 2, 5):
        req("init_producer_id", v, "null_txn", "a null TransactionalId (idempotent producer): no name", txn=False)
    req("init_producer_id", 5, "unicode_txn", "a non-ASCII transactional id", names=UNICODE_NAMES)
    req("end_txn", 0, "longest_txn", "a transactional id of 32761 bytes is 32767 once prefixed: renamed",
        names=Names(["orders"], ["checkout-app"], ["x" * (MAX_STRING_BYTES - 6)]))

    # --- config resources a namespace does not alter -------------------------------------------------------------
    for stem, versions in (("alter_configs", (0, 2)), ("incremental_alter_configs", (0, 1))):
        for v in versions:
            for variant, resources in FOREIGN_RESOURCES.items():
                req(stem, v, variant, "a resource that is neither a topic nor a group is the shared cluster's: the "
                    "request is refused (foreign_resource), the first such resource named", resources=resources)
    req("describe_configs", 4, "brokers_only", "DescribeConfigs only reads: a broker's configs stay readable, "
        "nothing to rename", names=Names([], [], []))

    # --- regexes (KIP-848 SubscribedTopicRegex, KIP-1152 TransactionalIdPattern) ----------------------------------
    for variant, regex, note in REGEX_REQUESTS:
        req("consumer_group_heartbeat", 1, variant, note, regex=regex)
    req("consumer_group_heartbeat", 1, "longest_regex", "a regex of 32754 bytes is 32767 once confined: renamed",
        regex="a" * (MAX_STRING_BYTES - 13))
    req("consumer_group_heartbeat", 1, "too_long_regex", "a regex of 32755 bytes is 32768 once confined, more than "
        "a Kafka string holds: refused (unconfinable_regex)", regex="a" * (MAX_STRING_BYTES - 12))
    for variant, pattern, note in PATTERN_REQUESTS:
        req("list_transactions", 2, variant, note, pattern=pattern)
    for v in (0, 1):
        for variant, regexes, note in REGEX_RESPONSES:
            resp("consumer_group_describe", v, variant, note, regexes=regexes)

    # --- ListTransactions: a namespace lists only its own transactions --------------------------------------------
    for v in (0, 1, 2):
        resp("list_transactions", v, "filtered", "filter_transactional_ids: the transactions without the "
             "transactional id prefix are dropped, the others stripped", filtered=True, names=LISTED_TRANSACTIONS)
        resp("list_transactions", v, "filtered_own", "filter_transactional_ids, every transaction the namespace's: "
             "only stripped", filtered=True)
        resp("list_transactions", v, "filtered_foreign", "filter_transactional_ids, no transaction the namespace's: "
             "an empty listing", filtered=True, names=UNPREFIXED_NAMES)

    # --- share groups ------------------------------------------------------------------------------------------------
    for v in (1, 2):
        req("share_fetch", v, "null_group", "a null GroupId: no name", group=False)
        req("share_acknowledge", v, "null_group", "a null GroupId: no name", group=False)

    names = [c.file_name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError("duplicate case files: %s" % duplicates)
    return sorted(cases, key=lambda c: c.file_name)


# ConsumerGroupHeartbeat v1 requests: (variant, SubscribedTopicRegex, note). Confined as `<escaped "team-a.">(?:R')`.
REGEX_REQUESTS = [
    ("null_regex", None, "a null regex (unchanged since the last heartbeat) stays null"),
    ("empty_regex", "", "\"\" (no regex, KIP-848) stays \"\""),
    ("java_regex", "orders-(eu|us)\\..*", "a regex without anchors: wrapped whole"),
    ("flags", "(?i)^orders|(?s:^payments.*)", "flag groups and groups opening at a leading position: their `^` is "
     "written (?:)"),
    ("inner_anchor", "orders^x|a*^b", "a `^` after something (even something that may match empty) is left: it "
     "matches nothing after the prefix"),
    ("literal_parens", "[()|]+|orders\\(eu\\)|\\Q)|(.*\\E|[]a)]", "parentheses RE2 reads as literals (a class, "
     "escapes, a \\Q quote, \"]\" first in a class) stay inside kedge's group"),
    ("posix_class", "[[:alpha:]]+-[[:^digit:]]|\\p{Greek}\\x{2d}(?P<rest>.*)", "POSIX and Unicode classes, escapes "
     "with braces, a named group"),
    ("injection", ".*)|(.*", "a regex closing kedge's group (\"|(.*\" would match every topic): refused"),
    ("unbalanced", "(orders", "a group left open: refused"),
    ("open_quote", "\\Qorders", "a \\Q quote to the end would quote kedge's \")\": refused"),
    ("open_class", "[orders", "a class left open: refused"),
    ("trailing_backslash", "orders\\", "a lone \"\\\" would escape kedge's \")\": refused"),
    ("anchor_collision", "(?:)orders|^x", "\"(?:)\" at a leading position, what kedge writes for `^`: refused"),
    ("lookahead", "(?=orders).*", "a construct RE2 does not have: refused"),
]
# ListTransactions v2 requests: (variant, TransactionalIdPattern, note).
PATTERN_REQUESTS = [
    ("null_pattern", None, "a null pattern lists every transaction (KIP-1152): left, the response is filtered"),
    ("empty_pattern", "", "\"\" lists every transaction too: left"),
    ("anchored", "^checkout-txn-[0-9]+$", "confined by the transactional id prefix"),
    ("injection", "x)|(.*", "a pattern closing kedge's group: refused"),
]
# ConsumerGroupDescribe responses: (variant, the members' SubscribedTopicRegex, note).
REGEX_RESPONSES = [
    ("regex_anchors", [confine("(^orders.*)|(^payments)", "team-a."), confine("(?i)^x|y", "team-a."),
                       confine("a(?:)b", "team-a.")], "kedge's (?:) for a leading `^` becomes `^` again"),
    ("regex_foreign", ["legacy-.*", "team\\-b\\.(?:.*)", "team\\-a\\.(?:^orders)", "team\\-a\\.(?:a)|(b)",
                       "team\\-a\\.(?:)", "team-a.(?:x)", "", None],
     "regexes kedge did not write are left as they are: no wrapper, another prefix's, a leading `^` inside, not one "
     "group, an empty one, an unescaped prefix"),
]
# ListTransactions responses for filter_transactional_ids: the namespace's, another's, none, the prefix alone, the
# prefix without its dot.
LISTED_TRANSACTIONS = Names([], [], ["txn-a.checkout-txn-1", "checkout-txn-9", "txn-b.billing", "txn-a.",
                                     "txn-a", "txn-a.checkout-txn-2"])


def check_regex_semantics():
    """Python's re full-matches these regexes as RE2 does: the confined regex matches a backend name iff the name
    carries the prefix and the client's regex matches the rest (a `^` after something that may match empty
    aside: it never matches after the prefix, so the confined regex matches less)."""
    import re
    exact = ["orders.*", "(^orders.*)|(^payments)", "^orders$", "a|^b", "^^a", "(orders|payments)-[0-9]+",
             "[()|]+|orders\\(eu\\)", "orders-(eu|us)\\..*", "x(?:)y", regex_of(CLIENT_NAMES.topics)]
    narrowed = ["orders^x|a*^b", "(a)?^b"]
    names = ["orders", "orders-eu", "orders-eu.1", "payments", "payments-7", "a", "b", "ab", "xy", "()|",
             "orders(eu)", "", "team-a.orders", "x.y"]
    for regex in exact + narrowed:
        confined = confine(regex, "team-a.")
        for name in names:
            for before in ("team-a.", "", "team-b.", "team-a", "team-aX", "xteam-a."):
                backend = before + name
                allowed = backend.startswith("team-a.") and re.fullmatch(regex, backend[len("team-a."):]) is not None
                matched = re.fullmatch(confined, backend) is not None
                if matched and not allowed or (regex in exact and matched != allowed):
                    raise AssertionError("confined %r (%r) on %r: %s" % (regex, confined, backend, matched))


RENAME = CaseSet(lambda: all_cases(), RENAME_DIR, "tests/golden/rename/generate_rename.py", "rename vectors",
                 "kedge-rename-")


# ---------------------------------------------------------------------------------------------------------------------
# --tshark: Wireshark's Kafka dissector reads the frames (the versions it knows) and finds the names they claim
# ---------------------------------------------------------------------------------------------------------------------

# Frames Wireshark 4.0's Kafka dissector misreads (checked by hand against the specs; kedge walks them whole):
# (file name prefix, why). They are counted, not failed.
TSHARK_LIMITS = [
    ("join_group.", "BYTES Protocols[].Metadata / Members[].Metadata shown <MISSING>, the rest misaligned"),
    ("sync_group.", "BYTES Assignments[].Assignment shown <MISSING>"),
    ("describe_groups.", "BYTES MemberMetadata shown <MISSING>, the next group misaligned"),
    ("create_topics.", "a null Configs[].Value (nullableVersions 0+) throws"),
    ("create_partitions.", "Assignments read as one []int32 instead of [][]int32"),
    ("delete_topics.v1.response", "ThrottleTimeMs (v1+) not read"),
    ("delete_topics.v2.response", "ThrottleTimeMs (v1+) not read"),
]

TSHARK_NAME_FIELDS = ["kafka.topic_name", "kafka.forgotten_topic_name", "kafka.consumer_group",
                      "kafka.transactional_id", "kafka.coordinator_key", "kafka.config_resource_name"]


def tshark_check(directory):
    """Each frame (input and expected) in its own TCP conversation, a response after the request vector of the same
    API and version (same correlation id); per frame: no malformed-packet or length expert message, and every name
    the vector claims (the prefixed names in a renamed request and in a response's input) among the names the
    dissector decodes. Frames of versions the dissector does not know are counted as skipped."""
    import subprocess
    import tempfile
    from tshark_check import BROKER_IP, BROKER_PORT, CLIENT_IP, PcapWriter

    docs = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json"):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                docs[name] = json.load(f)
    requests = {(d["api_key"], d["version"]): bytes.fromhex(d["input"]) for n, d in docs.items()
                if d["direction"] == "request" and "." not in n.split(".request")[1][:-5]}
    writer, frames, port = PcapWriter(), {}, 20000
    for name, d in docs.items():
        if len(d["input"]) > 60000:
            continue  # one IPv4 packet per frame
        for which in ("input", "expected"):
            if d[which] is None:
                continue
            frame, port = bytes.fromhex(d[which]), port + 1
            if d["direction"] == "request":
                c_seq, s_seq = 1000, 5000
                writer.add(CLIENT_IP, BROKER_IP, port, BROKER_PORT, c_seq, 0, 0x02)
                writer.add(BROKER_IP, CLIENT_IP, BROKER_PORT, port, s_seq, c_seq + 1, 0x12)
                writer.add(CLIENT_IP, BROKER_IP, port, BROKER_PORT, c_seq + 1, s_seq + 1, 0x10)
                number = writer.add(CLIENT_IP, BROKER_IP, port, BROKER_PORT, c_seq + 1, s_seq + 1, 0x18, frame)
            elif (d["api_key"], d["version"]) in requests:
                number = writer.conversation(port, requests[(d["api_key"], d["version"])], frame)
            else:
                continue
            frames[number] = (name, which, d, d["names"])
    with tempfile.TemporaryDirectory(prefix="kedge-rename-tshark-") as tmp:
        pcap = os.path.join(tmp, "rename.pcap")
        with open(pcap, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for packet in writer.packets:
                f.write(struct.pack("<IIII", 0, 0, len(packet), len(packet)) + packet)
        fields = ["-e", "frame.number", "-e", "_ws.expert.message"]
        for field in TSHARK_NAME_FIELDS:
            fields += ["-e", field]
        out = subprocess.run(["tshark", "-r", pcap, "-d", "tcp.port==%d,kafka" % BROKER_PORT, "-Y", "kafka", "-T",
                              "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=\x1f"]
                             + fields, check=True, capture_output=True, text=True).stdout
    checked, skipped, limited, failures = 0, 0, 0, []
    for line in out.splitlines():
        cols = line.split("\t")
        number = int(cols[0])
        if number not in frames:
            continue
        name, which, d, names = frames[number]
        expert = cols[1]
        if any(s in expert for s in ("Unsupported", "Unknown %d API key" % d["api_key"], "Request missing")):
            skipped += 1
            continue
        if any(name.startswith(prefix) for prefix, _ in TSHARK_LIMITS):
            limited += 1
            continue
        checked += 1
        decoded = [v for col in cols[2:] for v in col.split("\x1f") if col]
        if "Malformed" in expert or "does not end" in expert:
            failures.append("%s %s: %s" % (name, which, expert))
            continue
        names = [n for n in (names or []) if n]  # the dissector leaves empty strings out
        if which == "expected" and d["direction"] == "request":  # a renamed request: every name with some prefix
            missing = [n for n in d["names"] if n and not any(p + n in decoded for p in PREFIXES.values())]
        elif d["direction"] == "response" and which == "input":  # the backend's names: the claimed ones or prefixed
            missing = [n for n in names if n not in decoded and not any(p + n in decoded for p in PREFIXES.values())]
        else:
            missing = [n for n in names if n not in decoded]
        if missing:
            failures.append("%s %s: names not decoded by tshark: %s" % (name, which, missing[:3]))
    for f in failures:
        print(f, file=sys.stderr)
    print("tshark: %d frames checked, %d of versions or APIs tshark does not know, %d it misreads (TSHARK_LIMITS), "
          "%d failures" % (checked, skipped, limited, len(failures)))
    return 1 if failures else 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--tshark" in argv:
        return tshark_check(RENAME_DIR)
    return RENAME.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
