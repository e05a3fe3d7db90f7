#!/usr/bin/python3
"""Requests that mix allowed and refused topics are split (issue 18, docs/policy.md "Requests that mix allowed and
refused topics", kafka_codec/split.h): the allowed topics go to the broker, kedge answers the refused ones with
TOPIC_AUTHORIZATION_FAILED (29) in the same response, in request order. Produce and Fetch from real clients and raw
requests; the offset APIs (OffsetCommit from a real client, ListOffsets, OffsetForLeaderEpoch and OffsetCommit raw).
Real clients over real TLS through the real kedge.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock with "orders", "audit", "ledger" and "secret", 3 partitions each,
                  partition p of every topic led by broker p+1 (so each broker leads a partition of every topic and a
                  client's request to it names them all); "orders" and "ledger" get 30 records each straight at the
                  mock (kclient_rdk212 in dc, prefix "pre"). kedge on :9092, one virtual cluster, acme
                  (bootstrap-acme.<domain>), terminating SASL PLAIN (alice), an audit log, and
                    "acls": [
                      {"allow": ["Write", "Read"], "topics": ["orders"], "principals": ["alice"]},
                      {"allow": ["Describe"], "topics": ["audit", "ledger"], "principals": ["alice"]},
                      {"allow": ["Read"], "groups": ["split-*"], "principals": ["alice"]}]
                  so alice sees audit and ledger in Metadata (her client mixes them into its requests) but may not
                  Write audit nor Read ledger (Produce, Fetch, OffsetCommit), and may do nothing on secret (not even
                  Describe: ListOffsets, OffsetForLeaderEpoch). The mock implements ListOffsets v0-7, OffsetCommit
                  v0-9 and OffsetForLeaderEpoch v2 only, and none of CreateTopics/DeleteTopics/DeleteRecords/
                  CreatePartitions, so those splits are not run end to end here (tests/golden/split covers their bytes).
    <prefix>-a    kafkapy_client.py (kafka-python 2.0.2: batches every ready partition of a broker, across topics,
                  into ONE ProduceRequest and fetches all of a broker's partitions in one FetchRequest),
                  kclient_rdk212 (librdkafka 2.12), python3-confluent-kafka (librdkafka 2.0.2) and raw Kafka requests
                  over TLS (python ssl), all as alice: check 3's Fetches with this file's CLIENT_SCRIPT, checks 5-8
                  with OFFSETS_SCRIPT (scenario_support.RAW_KAFKA plus the offset APIs, CreateTopics and
                  confluent-kafka commits)

Checks (one PASS/FAIL line each, quoting what the clients printed and the decoded answers, then `N passed, M failed`):
  1. Produce split: ONE kafka-python KafkaProducer (acks=all, retries=0, linger_ms=100) sends N records alternating
     orders/audit, in 3 waves: every orders future succeeds (N/2 distinct offsets), every audit future fails with
     TopicAuthorizationFailedError (its text quoted); the mock (in dc, not through kedge) stores exactly N/2 more in
     orders, each once (read back by kclient_rdk212 at the mock), and nothing in audit;
     kedge_policy_split_requests_total{api="Produce"} grew by exactly the number of ProduceRequests that named both
     topics (counted inside the client by wrapping KafkaClient.send), which is > 0.
  2. Fetch split: a kafka-python KafkaConsumer (no group) assigned every partition of orders and ledger: poll()
     raises TopicAuthorizationFailedError (caught, polling goes on) and every orders record is read exactly once,
     not one ledger record arrives; kedge_policy_split_requests_total{api="Fetch"} grew by the client's multi-topic
     FetchRequests (between those answered and those sent), > 0. kafka-python 2.0.2 loses the records it already
     drained in a poll() that then raises (Fetcher.fetched_records advances the positions of the records it drained,
     then _parse_fetched_data raises for the refused partition and the drained dict is dropped), so the consumer runs
     with max_poll_records=1: a poll then returns one record or raises, never both. See the comment at that step;
     the run prints kafka-python's own Fetcher doing both, in process (`note (kafka-python alone, no network)`).
  3. Raw Fetch over TLS (SASL PLAIN as alice, to broker-1, the leader of every partition 0): Fetch v4 of ledger alone
     is answered with ErrorCode 29 for each partition and the connection stays usable (ApiVersions answered on it
     next), and a Fetch v4 naming [ledger, orders] on it gets both back in that order: ledger 29, orders error 0
     with the same records (count and bytes) and high watermark as the mock's own answer; the same with flexible
     Fetch v12 ([ledger 0,1,2] all 29, then Metadata v1 answered on the same connection, then [orders, ledger]);
     control: the same Fetches straight at the mock (plaintext, dc) return records for every partition, in request
     order; the two mixed Fetches add 2 to the Fetch split counter, the two whole refusals do not.
  4. A librdkafka 2.12 client (kclient_rdk212, alice) produces 30 records to orders and a group consumer (split-rdk)
     reads them exactly once and commits, through the same kedge; no request of theirs is split or refused.
  5. OffsetCommit split from a real client: a confluent-kafka Consumer (librdkafka 2.0.2, group split-committers, no
     subscription, debug=protocol) commits orders 0 and ledger 0 at 7 in ONE commit(offsets=[...],
     asynchronous=False): librdkafka sends one OffsetCommitRequest (its protocol log) and kedge splits it
     (kedge_policy_split_requests_total{api="OffsetCommit"} +1, resource_denied +1); the call reports
     TOPIC_AUTHORIZATION_FAILED (librdkafka returns the failed partition's error for a partial failure, so
     confluent-kafka raises KafkaException; its text quoted); committed() through kedge reads orders 0 at 7 and
     nothing for ledger, and straight at the mock (dc) the group holds orders 0 at 7 and nothing for ledger.
  On ONE raw connection as alice to broker-1 (the leader of every partition 0), against a control connection straight
  at mock broker 1 (plaintext, dc) asking the same of orders and secret:
  6. ListOffsets v5 and flexible v7 (Timestamp -1) naming [orders 0, secret 0], then [secret 0, orders 0]: both
     topics back in request order, orders exactly the mock's own entry (its end offset, > 0), secret ErrorCode 29
     with Timestamp -1, Offset -1, LeaderEpoch -1; ListOffsets v7 of [secret 0, 1] alone: answered whole by kedge, 29
     for each; ApiVersions v0 on the connection next is answered.
  7. OffsetForLeaderEpoch v2 (the only version the mock implements; ErrorCode comes before Partition in its entries)
     naming [orders 0, secret 0] and [secret 0, orders 0] with the leader epoch of orders 0's records (the mock's
     ListOffsets v7 of the earliest offset): orders exactly the mock's entry (EndOffset > 0), secret 29, LeaderEpoch
     -1, EndOffset -1, request order kept; ApiVersions v0 answered next.
  8. OffsetCommit v8 (flexible), group split-raw (allowed), [orders 0 at 11, ledger 0 at 11] and [ledger 1 at 12,
     orders 1 at 12]: orders 0, ledger 29, in request order; group rogue-committers (no rule) with [orders 0, ledger
     0] at 13: refused whole, every partition GROUP_AUTHORIZATION_FAILED (30), as the group is checked first; straight
     at the mock (confluent-kafka committed()) split-raw holds orders 0 at 11 and 1 at 12 and nothing for ledger,
     rogue-committers nothing. CreateTopics v5 naming only refused topics ([fresh-topic, secret]; alice may Create
     nothing): answered whole by kedge, each topic 29 with the ErrorMessage, NumPartitions/ReplicationFactor -1,
     Configs null; ApiVersions v0 answered last. /metrics grew by exactly: split ListOffsets 4, OffsetForLeaderEpoch
     2, OffsetCommit 2 (the whole refusals not), resource_denied ListOffsets 5, OffsetForLeaderEpoch 2, OffsetCommit
     3, CreateTopics 1.
  9. The audit log has one `"split": true` line per split request (as many as the split counters) naming only the
     refused topic (audit for Produce, ledger for Fetch and OffsetCommit, secret for ListOffsets and
     OffsetForLeaderEpoch; principal alice); /metrics counts them as resource_denied refusals too; kedge still runs
     and logged no errors and no warnings.
They run in the order setup, 2, 1, 4, 3, 5, 6-8 (one connection), 9 (the consumer of 2 reads orders before 1 and 4
write more to it; 5-8 commit and list offsets of what 1-4 left).

Usage: test_gateway_acl_split.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scenario_support import (RAW_KAFKA, AclKedge, client_lines, finish, kedge_errors, metric,  # noqa: E402
                              metric_lines, metrics_text, popen_in, raw_session, run_json_script, run_scenario,
                              sasl_ssl_args, scenario_topology, summary_exit_code)
from test_topology_smoke import Checks, client_argv, summary_fields  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
CLUSTER = "acme"
PARTITIONS = 3
TOPICS = {"orders": PARTITIONS, "audit": PARTITIONS, "ledger": PARTITIONS, "secret": PARTITIONS}
PRE = 30          # records written straight to the mock in orders and in ledger (prefix "pre")
N = 90            # kafka-python's mixed producer: N/2 to orders, N/2 to audit
WAVES = 3
RDK_N = 30        # the librdkafka client's records to orders
MECHANISM = "PLAIN"
USERS = {"alice": "pw-alice-5d02e7"}
RDK = "kclient_rdk212"
KAFKAPY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kafkapy_client.py")
TIMEOUT_MS = "20000"
AUTHZ_CLASS = "TopicAuthorizationFailedError"
COMMIT_GROUP, RAW_GROUP, DENIED_GROUP = "split-committers", "split-raw", "rogue-committers"
TOPIC_TEXT = "Topic authorization failed."
# The APIs whose split and refusal counters the checks follow (kedge_policy_*_total{api}).
APIS = ("Produce", "Fetch", "OffsetCommit", "ListOffsets", "OffsetForLeaderEpoch", "CreateTopics")
ACLS = [
    {"allow": ["Write", "Read"], "topics": ["orders"], "principals": ["alice"]},
    {"allow": ["Describe"], "topics": ["audit", "ledger"], "principals": ["alice"]},
    {"allow": ["Read"], "groups": ["split-*"], "principals": ["alice"]},
]

# Runs with /usr/bin/python3 in a namespace; prints one JSON object per line.
#   watermarks BOOTSTRAP TOPIC PARTITIONS   (plaintext, straight at the mock) -> {"high": [..], "sum": n}
#   raw HOST PORT CA SNI USER PASSWORD STEPS_JSON
#       one connection (TLS with SNI + SaslHandshake v1/SaslAuthenticate v1 PLAIN; CA "-": plaintext, no SASL) and
#       the steps on it in order, each {"fetch": VERSION, "topics": [[TOPIC, [PARTITION, ...]], ...]},
#       {"api_versions": 0} or {"metadata": 1, "topics": [...]}; one JSON line per step with what came back.
CLIENT_SCRIPT = RAW_KAFKA + r"""
def watermarks(bootstrap, topic, partitions):
    import confluent_kafka
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "kedge-split-watermarks"})
    high = [consumer.get_watermark_offsets(confluent_kafka.TopicPartition(topic, p), timeout=15)[1]
            for p in range(int(partitions))]
    consumer.close()
    print(json.dumps({"topic": topic, "high": high, "sum": sum(high)}), flush=True)

def batch_records(records):
    # Sum of the RecordBatches' record counts (v2 batches: count at byte 57 of each batch).
    count, pos = 0, 0
    while pos + 61 <= len(records):
        (length,) = struct.unpack_from(">i", records, pos + 8)
        count += struct.unpack_from(">i", records, pos + 57)[0]
        pos += 12 + length
    return count

def parse_fetch(data, version):
    r = Reader(data, 8)
    flexible = version >= 12
    if flexible:
        r.tags()  # response header v1
    out = {"throttle_ms": r.take(">i") if version >= 1 else None}
    if version >= 7:
        out["error_code"], out["session_id"] = r.take(">hi")
    topics = []
    for _ in range(r.uvarint() - 1 if flexible else r.take(">i")):
        name = r.compact_string() if flexible else r.string()
        partitions = []
        for _ in range(r.uvarint() - 1 if flexible else r.take(">i")):
            partition, error, high = r.take(">ihq")
            if version >= 4:
                r.take(">q")  # LastStableOffset
            if version >= 5:
                r.take(">q")  # LogStartOffset
            if version >= 4:
                aborted = r.uvarint() - 1 if flexible else r.take(">i")
                for _ in range(max(aborted, 0)):
                    r.take(">qq")
                    if flexible:
                        r.tags()
            if version >= 11:
                r.take(">i")  # PreferredReadReplica
            size = r.uvarint() - 1 if flexible else r.take(">i")
            records = r.raw(size) if size > 0 else b""
            if flexible:
                r.tags()
            partitions.append({"partition": partition, "error": error, "high_watermark": high,
                               "records_bytes": len(records), "records": batch_records(records)})
        if flexible:
            r.tags()
        topics.append({"topic": name, "partitions": partitions})
    out["topics"] = topics
    out["trailing_bytes"] = len(data) - r.pos - (1 if flexible else 0)
    return out

def fetch_body(version, topics):
    flexible = version >= 12
    body = struct.pack(">iiii", -1, 500, 1, 1048576)
    if version >= 4:
        body += struct.pack(">b", 0)  # IsolationLevel
    if version >= 7:
        body += struct.pack(">ii", 0, -1)  # SessionId, SessionEpoch: a full fetch, no session
    body += uvarint(len(topics) + 1) if flexible else struct.pack(">i", len(topics))
    for topic, partitions in topics:
        body += compact_string(topic) if flexible else string(topic)
        body += uvarint(len(partitions) + 1) if flexible else struct.pack(">i", len(partitions))
        for partition in partitions:
            body += struct.pack(">i", partition)
            if version >= 9:
                body += struct.pack(">i", -1)  # CurrentLeaderEpoch
            body += struct.pack(">q", 0)  # FetchOffset
            if version >= 12:
                body += struct.pack(">i", -1)  # LastFetchedEpoch
            if version >= 5:
                body += struct.pack(">q", -1)  # LogStartOffset
            body += struct.pack(">i", 1048576)
            if flexible:
                body += b"\0"
        if flexible:
            body += b"\0"
    if version >= 7:
        body += uvarint(1) if flexible else struct.pack(">i", 0)  # ForgottenTopicsData
    if version >= 11:
        body += compact_string("") if flexible else string("")  # RackId
    if flexible:
        body += b"\0"
    return body

def raw(host, port, ca, server_name, user, password, steps):
    sock, head = connect(host, port, ca, server_name, user, password)
    print(json.dumps(head), flush=True)
    sock.settimeout(8)
    correlation = 10
    for step in json.loads(steps):
        correlation += 1
        out = {"step": step, "correlation_id": correlation}
        if "fetch" in step:
            version = step["fetch"]
            sock.sendall(frame(1, version, correlation, fetch_body(version, step["topics"]), flexible=version >= 12))
        elif "api_versions" in step:
            sock.sendall(frame(18, 0, correlation, b""))
        else:
            body = struct.pack(">i", len(step["topics"])) + b"".join(string(t) for t in step["topics"])
            sock.sendall(frame(3, 1, correlation, body))
        response, received, why = read_frame(sock)
        out["received_bytes"] = len(received)
        if response is None:
            out["outcome"] = why
            print(json.dumps(out), flush=True)
            break
        out["outcome"] = "answered"
        out["answer_correlation_id"] = struct.unpack_from(">i", response, 4)[0]
        try:
            if "fetch" in step:
                out.update(parse_fetch(response, step["fetch"]))
            elif "api_versions" in step:
                out["error_code"], count = struct.unpack_from(">hi", response, 8)
                out["api_count"] = count
            else:
                r = Reader(response, 8)
                for _ in range(r.take(">i")):
                    r.take(">i"); r.string(); r.take(">i"); r.string()
                r.take(">i")  # ControllerId
                out["topics"] = []
                for _ in range(r.take(">i")):
                    error = r.take(">h")
                    name = r.string()
                    r.take(">b")
                    partitions = r.take(">i")
                    out["topics"].append({"topic": name, "error": error, "partitions": partitions})
                    for _ in range(partitions):
                        r.take(">hii")  # ErrorCode, PartitionIndex, LeaderId
                        for _ in range(2):  # ReplicaNodes, IsrNodes
                            nodes = r.take(">i")
                            r.pos += 4 * nodes
                out["trailing_bytes"] = len(response) - r.pos
        except (struct.error, IndexError, UnicodeDecodeError, ValueError) as error:
            out["parse_error"] = str(error)
        print(json.dumps(out), flush=True)
    sock.close()

{"watermarks": watermarks, "raw": raw}[sys.argv[1]](*sys.argv[2:])
"""

# RAW_KAFKA (scenario_support.py) plus the requests of checks 5-8, and confluent-kafka commits:
#   session HOST PORT CA SNI USER PASSWORD STEPS_JSON   (RAW_KAFKA) with these steps besides api_versions/metadata:
#     {"list_offsets": V, "topics": [[TOPIC, [[PARTITION, TIMESTAMP], ...]], ...]}        (CurrentLeaderEpoch -1)
#     {"offset_for_leader_epoch": V, "topics": [[TOPIC, [[PARTITION, LEADER_EPOCH], ...]], ...]}
#                                                                                         (CurrentLeaderEpoch -1)
#     {"offset_commit": V, "group": G, "topics": [[TOPIC, [[PARTITION, OFFSET], ...]], ...]}
#         (generation -1, member "", no instance id, CommittedLeaderEpoch -1, metadata "": a commit outside a group
#          generation, which the mock stores)
#     {"create_topics": V, "topics": [NAME, ...]}   (1 partition, replication factor 1, no assignments, no configs)
#   ck_commit BOOTSTRAP CA USER PASSWORD GROUP TOPIC:PARTITION:OFFSET,...
#       python3-confluent-kafka Consumer (SASL_SSL PLAIN, group GROUP, no subscription, debug=protocol): ONE
#       commit(offsets=[...], asynchronous=False) of all of them, then committed() of the same partitions; one JSON
#       line (librdkafka's protocol log goes to stderr).
#   ck_committed BOOTSTRAP GROUP TOPIC:PARTITION,...   (plaintext, straight at the mock) committed() of each
OFFSETS_SCRIPT = RAW_KAFKA + r'''
def text(value, flexible):
    if flexible:
        return compact_string(value)
    return struct.pack(">h", -1) if value is None else string(value)

def array(items, encode, flexible):
    if flexible:
        return compact_array(items, encode)
    return struct.pack(">i", len(items)) + b"".join(encode(item) for item in items)

def read_text(r, flexible):
    return r.compact_string() if flexible else r.string()

def read_array(r, element, flexible):
    if flexible:
        return r.compact_array(element)
    count = r.take(">i")
    return None if count < 0 else [element(r) for _ in range(count)]

def tags(flexible):
    return b"\0" if flexible else b""

def topics_of(step, partition, flexible):
    topic = lambda t: text(t[0], flexible) + array(t[1], partition, flexible) + tags(flexible)
    return array(step["topics"], topic, flexible)

def parse_topics(r, partition, flexible):
    def topic(r):
        entry = {"topic": read_text(r, flexible), "partitions": read_array(r, partition, flexible)}
        if flexible:
            r.tags()
        return entry
    return read_array(r, topic, flexible)

def list_offsets_body(step):
    # ListOffsetsRequest: ReplicaId, IsolationLevel (v2+), Topics [Name, Partitions [PartitionIndex,
    # CurrentLeaderEpoch (v4+), Timestamp (v1+), MaxNumOffsets (v0)]], TimeoutMs (v10+)
    version = step["list_offsets"]; flexible = version >= 6
    def partition(p):
        out = struct.pack(">i", p[0])
        if version >= 4:
            out += struct.pack(">i", -1)
        out += struct.pack(">q", p[1])
        if version == 0:
            out += struct.pack(">i", 1)
        return out + tags(flexible)
    body = struct.pack(">i", -1) + (struct.pack(">b", 0) if version >= 2 else b"")
    body += topics_of(step, partition, flexible)
    if version >= 10:
        body += struct.pack(">i", 5000)
    return body + tags(flexible)

def list_offsets_parse(r, step):
    version = step["list_offsets"]; flexible = version >= 6
    out = {"throttle_ms": r.take(">i")} if version >= 2 else {}
    def partition(r):
        entry = {"partition": r.take(">i"), "error": r.take(">h")}
        if version == 0:
            entry["old_style_offsets"] = read_array(r, lambda r: r.take(">q"), False)
        else:
            entry["timestamp"], entry["offset"] = r.take(">qq")
        if version >= 4:
            entry["leader_epoch"] = r.take(">i")
        if flexible:
            r.tags()
        return entry
    out["topics"] = parse_topics(r, partition, flexible)
    if flexible:
        r.tags()
    return out

def offset_for_leader_epoch_body(step):
    # OffsetForLeaderEpochRequest: ReplicaId (v3+), Topics [Topic, Partitions [Partition, CurrentLeaderEpoch (v2+),
    # LeaderEpoch]]
    version = step["offset_for_leader_epoch"]; flexible = version >= 4
    def partition(p):
        return (struct.pack(">i", p[0]) + (struct.pack(">i", -1) if version >= 2 else b"")
                + struct.pack(">i", p[1]) + tags(flexible))
    body = struct.pack(">i", -1) if version >= 3 else b""
    return body + topics_of(step, partition, flexible) + tags(flexible)

def offset_for_leader_epoch_parse(r, step):
    # OffsetForLeaderEpochResponse: ThrottleTimeMs (v2+), Topics [Topic, Partitions [ErrorCode, Partition,
    # LeaderEpoch (v1+), EndOffset]]: ErrorCode BEFORE Partition
    version = step["offset_for_leader_epoch"]; flexible = version >= 4
    out = {"throttle_ms": r.take(">i")} if version >= 2 else {}
    def partition(r):
        entry = {"error": r.take(">h"), "partition": r.take(">i")}
        if version >= 1:
            entry["leader_epoch"] = r.take(">i")
        entry["end_offset"] = r.take(">q")
        if flexible:
            r.tags()
        return entry
    out["topics"] = parse_topics(r, partition, flexible)
    if flexible:
        r.tags()
    return out

def offset_commit_body(step):
    # OffsetCommitRequest: GroupId, GenerationIdOrMemberEpoch (v1+), MemberId (v1+), GroupInstanceId (v7+),
    # RetentionTimeMs (v2-4), Topics [Name, Partitions [PartitionIndex, CommittedOffset, CommittedLeaderEpoch (v6+),
    # CommitTimestamp (v1), CommittedMetadata]]
    version = step["offset_commit"]; flexible = version >= 8
    body = text(step["group"], flexible)
    if version >= 1:
        body += struct.pack(">i", -1) + text("", flexible)
    if version >= 7:
        body += text(None, flexible)
    if 2 <= version <= 4:
        body += struct.pack(">q", -1)
    def partition(p):
        out = struct.pack(">iq", p[0], p[1])
        if version >= 6:
            out += struct.pack(">i", -1)
        if version == 1:
            out += struct.pack(">q", -1)
        return out + text("", flexible) + tags(flexible)
    return body + topics_of(step, partition, flexible) + tags(flexible)

def offset_commit_parse(r, step):
    version = step["offset_commit"]; flexible = version >= 8
    out = {"throttle_ms": r.take(">i")} if version >= 3 else {}
    def partition(r):
        entry = {"partition": r.take(">i"), "error": r.take(">h")}
        if flexible:
            r.tags()
        return entry
    out["topics"] = parse_topics(r, partition, flexible)
    if flexible:
        r.tags()
    return out

def create_topics_body(step):
    # CreateTopicsRequest: Topics [Name, NumPartitions, ReplicationFactor, Assignments [], Configs []], TimeoutMs,
    # ValidateOnly (v1+)
    version = step["create_topics"]; flexible = version >= 5
    topic = lambda name: (text(name, flexible) + struct.pack(">ih", 1, 1) + array([], None, flexible)
                          + array([], None, flexible) + tags(flexible))
    body = array(step["topics"], topic, flexible) + struct.pack(">i", 5000)
    if version >= 1:
        body += struct.pack(">b", 0)
    return body + tags(flexible)

def create_topics_parse(r, step):
    # CreateTopicsResponse: ThrottleTimeMs (v2+), Topics [Name, TopicId (v7+), ErrorCode, ErrorMessage (v1+),
    # TopicConfigErrorCode (tagged, v5+), NumPartitions (v5+), ReplicationFactor (v5+), Configs (v5+, nullable)]
    version = step["create_topics"]; flexible = version >= 5
    out = {"throttle_ms": r.take(">i")} if version >= 2 else {}
    def config(r):
        entry = (r.compact_string(), r.compact_string(), r.take(">bbb"))
        r.tags()
        return entry
    def topic(r):
        entry = {"topic": read_text(r, flexible)}
        if version >= 7:
            entry["topic_id"] = r.uuid()
        entry["error"] = r.take(">h")
        if version >= 1:
            entry["message"] = read_text(r, flexible)
        if version >= 5:
            entry["num_partitions"], entry["replication_factor"] = r.take(">ih")
            configs = r.compact_array(config)
            entry["configs"] = None if configs is None else len(configs)
        if flexible:
            r.tags()
        return entry
    out["topics"] = read_array(r, topic, flexible)
    if flexible:
        r.tags()
    return out

HANDLERS.update({
    "list_offsets": (2, lambda version: version >= 6, list_offsets_body, list_offsets_parse),
    "offset_for_leader_epoch": (23, lambda version: version >= 4, offset_for_leader_epoch_body,
                                offset_for_leader_epoch_parse),
    "offset_commit": (8, lambda version: version >= 8, offset_commit_body, offset_commit_parse),
    "create_topics": (19, lambda version: version >= 5, create_topics_body, create_topics_parse),
})

def ck_error(error):
    return {"code": error.code(), "name": error.name(), "str": str(error)}

def ck_partitions(text, with_offset):
    from confluent_kafka import TopicPartition
    out = []
    for item in text.split(","):
        fields = item.split(":")
        out.append(TopicPartition(fields[0], int(fields[1]), int(fields[2])) if with_offset
                   else TopicPartition(fields[0], int(fields[1])))
    return out

def ck_list(partitions):
    return [[tp.topic, tp.partition, tp.offset, ck_error(tp.error) if tp.error else None] for tp in partitions]

def ck_commit(bootstrap, ca, user, password, group, offsets):
    import confluent_kafka
    from confluent_kafka import TopicPartition
    wanted = ck_partitions(offsets, True)
    out = {"op": "ck_commit", "client": f"confluent-kafka {confluent_kafka.version()[0]}, librdkafka "
                                         f"{confluent_kafka.libversion()[0]}", "asked": ck_list(wanted)}
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False, "debug": "protocol",
        "security.protocol": "SASL_SSL", "ssl.ca.location": ca, "ssl.endpoint.identification.algorithm": "https",
        "sasl.mechanisms": "PLAIN", "sasl.username": user, "sasl.password": password})
    try:
        out["returned"] = ck_list(consumer.commit(offsets=wanted, asynchronous=False))
    except confluent_kafka.KafkaException as error:
        out["raised"] = ck_error(error.args[0])
        out["exception"] = repr(error)
    try:
        out["committed"] = ck_list(consumer.committed([TopicPartition(tp.topic, tp.partition) for tp in wanted],
                                                      timeout=15))
    except confluent_kafka.KafkaException as error:
        out["committed_error"] = ck_error(error.args[0])
    consumer.close()
    print(json.dumps(out), flush=True)

def ck_committed(bootstrap, group, partitions):
    import confluent_kafka
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                         "enable.auto.commit": False})
    back = consumer.committed(ck_partitions(partitions, False), timeout=15)
    print(json.dumps({"op": "ck_committed", "group": group, "committed": ck_list(back)}), flush=True)
    consumer.close()

{"session": session, "ck_commit": ck_commit, "ck_committed": ck_committed}[sys.argv[1]](*sys.argv[2:])
'''


def bootstrap():
    return f"bootstrap-{CLUSTER}.{DOMAIN}:{PORT}"


def broker_name(broker_id):
    return f"broker-{broker_id}-{CLUSTER}.{DOMAIN}"


def kafkapy(subcommand, ca, *args):
    return ["/usr/bin/python3", KAFKAPY, subcommand, "--bootstrap", bootstrap(), "--ca", ca,
            "--mechanism", MECHANISM, "--username", "alice", "--password", USERS["alice"], *args]


def fields_of(stdout, verb, **match):
    """The key=value fields of the first `verb ...` line whose fields include every match item."""
    for line in stdout.splitlines():
        if line.startswith(verb + " "):
            fields = dict(item.split("=", 1) for item in line.split()[1:] if "=" in item)
            if all(fields.get(k) == v for k, v in match.items()):
                return fields
    return {}


def line_of(stdout, start):
    return next((line.strip() for line in stdout.splitlines() if line.startswith(start)), "")


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    started = time.monotonic()
    with scenario_topology() as topo:
        mock = topo.start_mock_cluster("rdk212", brokers=3, topics=TOPICS)
        for topic in TOPICS:
            for partition in range(PARTITIONS):
                mock.command_ok(f"leader {topic} {partition} {partition + 1}")
        acl = AclKedge(topo, kedge_binary, mock.bootstrap, USERS, ACLS, cluster=CLUSTER, domain=DOMAIN, port=PORT,
                       mechanism=MECHANISM)
        kedge, ca, admin = acl.process, acl.ca, acl.admin
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock rdk212 {mock.bootstrap}; acls {json.dumps(ACLS)}",
              flush=True)

        def stored(topic):
            """Sum of the topic's high watermarks, read straight from the mock in dc (no connection to kedge)."""
            lines, result = run_json_script(topo, "dc", CLIENT_SCRIPT, "watermarks", mock.bootstrap, topic,
                                            PARTITIONS)
            if lines and "sum" in lines[0]:
                return lines[0]["sum"], json.dumps(lines[0])
            return None, (result.stdout + result.stderr).strip()[-400:]

        def counters():
            text = metrics_text(topo, admin)
            return {
                "split": {api: metric(text, "kedge_policy_split_requests_total", virtual_cluster=CLUSTER, api=api)
                          for api in APIS},
                "refused": {api: metric(text, "kedge_policy_refusals_total", virtual_cluster=CLUSTER, api=api,
                                        reason="resource_denied") for api in APIS},
            }

        def grown(before, after):
            """{kind: {api: delta}} of the APIs whose counters moved."""
            return {kind: {api: after[kind][api] - before[kind][api] for api in APIS
                           if after[kind][api] != before[kind][api]} for kind in ("split", "refused")}

        # Setup: records in orders and ledger, written straight at the mock (in dc).
        direct = topo.run_in("dc", client_argv(RDK, "produce", "--bootstrap", mock.bootstrap, "--topic",
                                               "orders,ledger", "--count", PRE, "--prefix", "pre",
                                               "--timeout-ms", TIMEOUT_MS), timeout=60)
        pre_orders, _ = stored("orders")
        pre_ledger, detail = stored("ledger")
        meta = topo.run_in("dc", client_argv(RDK, "metadata", "--bootstrap", mock.bootstrap), timeout=60)
        leaders = {}
        for line in meta.stdout.splitlines():
            words = line.split()
            if words[:1] == ["partition"] and len(words) == 4:
                leaders[(words[1], int(words[2]))] = int(words[3])
        wanted = {(topic, p): p + 1 for topic in TOPICS for p in range(PARTITIONS)}
        checks.record(f"setup: {PRE} records each in orders and ledger straight at the mock; partition p of every topic "
                      "led by broker p+1 (the mock's Metadata)",
                      direct.returncode == 0 and pre_orders == PRE and pre_ledger == PRE
                      and {k: leaders.get(k) for k in wanted} == wanted,
                      f"{direct.stdout.strip().splitlines()[-1] if direct.stdout.strip() else direct.stderr[-300:]}; "
                      f"orders {pre_orders}, {detail}; leaders "
                      + ", ".join(f"{t}/{p}->{leaders.get((t, p))}" for t, p in sorted(wanted)))

        # ---- 2. Fetch split: kafka-python consumer of orders and ledger ------------------------------------------
        # kafka-python 2.0.2's Fetcher.fetched_records() drains one completed partition fetch after another into a
        # local dict, advancing each partition's position as it goes; when the next completed fetch is the refused
        # ledger partition, _parse_fetched_data raises TopicAuthorizationFailedError and the dict, holding records
        # whose positions already moved, is dropped: poll() raises and those orders records are never returned (the
        # Java consumer keeps drained records and raises on the next poll). A broker's own per-partition refusal
        # causes the same. With max_poll_records=1 a poll returns after its first record, so an exception is raised
        # only before any record was drained: every record reaches the application.
        notes = [subprocess.run(["/usr/bin/python3", KAFKAPY, "fetcher-check", size], capture_output=True,
                                text=True).stdout.strip() for size in ("500", "1")]
        print(f"    note (kafka-python alone, no network): {notes[0]} | {notes[1]}", flush=True)
        before = counters()
        code, out, err = finish(topo, popen_in(topo, "a", kafkapy(
            "consume-mixed", ca, "--topic", "orders,ledger", "--expect", f"orders:{PRE}", "--prefix", "pre",
            "--max-poll-records", "1", "--timeout-ms", TIMEOUT_MS)), "kafkapy-consume-mixed", timeout=60)
        after = counters()
        orders = fields_of(out, "consume-topic", topic="orders")
        ledger = fields_of(out, "consume-topic", topic="ledger")
        poll_errors = line_of(out, "poll-errors ")
        fetches = fields_of(out, "fetch-requests")
        raised = next((line for line in err.splitlines() if f"poll raised {AUTHZ_CLASS}" in line), "")
        checks.record(f"kafka-python consumer (no group) of orders+ledger: all {PRE} orders records exactly once",
                      code == 0 and orders.get("unique") == str(PRE) and orders.get("duplicates") == "0"
                      and orders.get("bad") == "0" and orders.get("records") == str(PRE),
                      f"exit {code}; {line_of(out, 'consume-topic topic=orders')}; {line_of(out, 'consume ')}"
                      + ("" if code == 0 else f"; stderr {err.strip()[-600:]}"))
        checks.record(f"... and ledger: poll() raised {AUTHZ_CLASS}, not one ledger record arrived",
                      ledger.get("records") == "0" and f"{AUTHZ_CLASS}=" in poll_errors and bool(raised),
                      f"{line_of(out, 'consume-topic topic=ledger')}; {poll_errors}; client printed: {raised.strip()}")
        split_fetch = after["split"]["Fetch"] - before["split"]["Fetch"]
        mixed, answered = int(fetches.get("mixed", -1)), int(fetches.get("answered_mixed", -1))
        checks.record("kedge_policy_split_requests_total{api=\"Fetch\"} grew by the client's FetchRequests naming both "
                      "topics (> 0)",
                      answered > 0 and answered <= split_fetch <= mixed,
                      f"split +{split_fetch:.0f}; client: {line_of(out, 'fetch-requests ')}")

        # ---- 1. Produce split: one kafka-python producer, orders and audit ----------------------------------------
        before = counters()
        code, out, err = finish(topo, popen_in(topo, "a", kafkapy(
            "produce-mixed", ca, "--topic", "orders,audit", "--count", N, "--prefix", "mix", "--waves", WAVES,
            "--linger-ms", "100", "--timeout-ms", TIMEOUT_MS)), "kafkapy-produce-mixed", timeout=60)
        after = counters()
        orders = fields_of(out, "produce-topic", topic="orders")
        audit = fields_of(out, "produce-topic", topic="audit")
        requests = fields_of(out, "produce-requests")
        audit_text = next((line.strip() for line in err.splitlines() if "delivery failed topic=audit" in line), "")
        orders_stored, orders_detail = stored("orders")
        audit_stored, audit_detail = stored("audit")
        half = N // 2
        checks.record(f"one kafka-python producer (acks=all, retries=0), orders: all {half} futures succeed at {half} "
                      f"distinct offsets, the mock's orders grew by exactly {half}",
                      code == 0 and orders.get("delivered") == str(half) and orders.get("failed") == "0"
                      and orders.get("offsets") == str(half) and orders_stored == PRE + half,
                      f"{line_of(out, 'produce-topic topic=orders')}; mock {orders_detail} ({PRE} before)"
                      + ("" if code == 0 else f"; stderr {err.strip()[-600:]}"))
        checks.record(f"the same producer, audit: all {half} futures fail with {AUTHZ_CLASS}, the mock's audit is empty",
                      audit.get("delivered") == "0" and audit.get("failed") == str(half)
                      and audit.get("errors") == f"{AUTHZ_CLASS}:{half}" and AUTHZ_CLASS in audit_text
                      and audit_stored == 0,
                      f"{line_of(out, 'produce-topic topic=audit')}; client printed: {audit_text}; mock {audit_detail}")
        split_produce = after["split"]["Produce"] - before["split"]["Produce"]
        mixed = int(requests.get("mixed", -1))
        checks.record("kedge_policy_split_requests_total{api=\"Produce\"} grew by exactly the ProduceRequests naming "
                      "both topics (> 0: the requests really mixed them)",
                      mixed > 0 and requests.get("answered_mixed") == str(mixed) and split_produce == mixed,
                      f"split +{split_produce:.0f}; client: {line_of(out, 'produce-requests ')}")
        back = topo.run_in("dc", client_argv(RDK, "consume", "--bootstrap", mock.bootstrap, "--topic", "orders",
                                             "--group", "verify-mix", "--expect", half, "--prefix", "mix",
                                             "--timeout-ms", TIMEOUT_MS), timeout=60)
        fields = summary_fields(back.stdout, "consume")
        checks.record(f"read back at the mock (kclient_rdk212 in dc): each of the {half} orders records stored once",
                      fields.get("unique") == str(half) and fields.get("duplicates") == "0" and fields.get("bad") == "0",
                      back.stdout.strip() or back.stderr.strip()[-300:])

        # ---- 4. a librdkafka 2.12 client on orders, same kedge ----------------------------------------------------
        auth = sasl_ssl_args(ca, MECHANISM, "alice", USERS["alice"])
        before = counters()
        produced = topo.run_in("a", client_argv(RDK, "produce", "--bootstrap", bootstrap(), "--topic", "orders",
                                                "--count", RDK_N, "--prefix", "rdk", "--timeout-ms", TIMEOUT_MS,
                                                *auth), timeout=60)
        consumed = topo.run_in("a", client_argv(RDK, "consume", "--bootstrap", bootstrap(), "--topic", "orders",
                                                "--group", "split-rdk", "--expect", RDK_N, "--prefix", "rdk",
                                                "--timeout-ms", TIMEOUT_MS, *auth), timeout=60)
        after = counters()
        produce_fields, consume_fields = summary_fields(produced.stdout, "produce"), summary_fields(consumed.stdout,
                                                                                                    "consume")
        checks.record(f"{RDK} (librdkafka 2.12, alice) through kedge: {RDK_N} to orders delivered, its group consumer "
                      "reads them exactly once and commits",
                      produced.returncode == 0 and produce_fields.get("delivered") == str(RDK_N)
                      and consumed.returncode == 0 and consume_fields.get("unique") == str(RDK_N)
                      and consume_fields.get("duplicates") == "0" and consume_fields.get("commit") == "ok",
                      f"{produced.stdout.strip()}; {consumed.stdout.strip()}"
                      + ("" if consumed.returncode == 0 and produced.returncode == 0 else
                         f"; printed {client_lines(produced.stderr + consumed.stderr)}"))
        checks.record("... and none of its requests was split or refused", after == before,
                      f"counters that moved: {grown(before, after)} (split/resource_denied of {', '.join(APIS)})")

        # ---- 3. raw Fetch v4 and v12 over TLS ---------------------------------------------------------------------
        def raw(ns, host, port, tls, steps):
            args = (ca, broker_name(1), "alice", USERS["alice"]) if tls else ("-", "-", "-", "-")
            lines, result = run_json_script(topo, ns, CLIENT_SCRIPT, "raw", host, port, *args, json.dumps(steps))
            return lines, (result.stdout + result.stderr).strip()[-500:]

        def topic_errors(step):
            return [(t["topic"], [p["error"] for p in t["partitions"]]) for t in step.get("topics", [])]

        def refused_whole(step, partitions):
            return (step.get("outcome") == "answered" and step.get("answer_correlation_id") == step["correlation_id"]
                    and topic_errors(step) == [("ledger", [29] * len(partitions))]
                    and all(p["records_bytes"] == 0 for t in step["topics"] for p in t["partitions"])
                    and step.get("trailing_bytes") == 0 and step.get("error_code", 0) == 0)

        def orders_p0(step):
            found = [p for t in step.get("topics", []) if t["topic"] == "orders" for p in t["partitions"]]
            return found[0] if found else {}

        def merged(step, order, reference):
            """ledger refused (29), orders served exactly as the mock serves it (`reference`), in request order."""
            mine = orders_p0(step)
            return (step.get("outcome") == "answered" and [t["topic"] for t in step["topics"]] == order
                    and topic_errors(step) == [(name, [29 if name == "ledger" else 0]) for name in order]
                    and mine.get("records", 0) > 0 and mine.get("high_watermark") == reference.get("high_watermark")
                    and (mine["records"], mine["records_bytes"]) == (reference.get("records"),
                                                                     reference.get("records_bytes"))
                    and step.get("trailing_bytes") == 0)

        def show(step):
            keep = {k: step.get(k) for k in ("outcome", "received_bytes", "error_code", "session_id", "api_count",
                                               "parse_error") if k in step}
            keep["topics"] = [(t["topic"], [(p["partition"], p["error"], p.get("high_watermark"), p.get("records"))
                                            for p in t["partitions"]]) if isinstance(t.get("partitions"), list)
                              else t for t in step.get("topics", [])]
            return json.dumps(keep)

        def served(step, order):
            """Every partition error 0 with records (the mock returns one batch per partition), in request order."""
            parts = [p for t in step.get("topics", []) for p in t["partitions"]]
            return (step.get("outcome") == "answered" and [t["topic"] for t in step["topics"]] == order
                    and parts and all(p["error"] == 0 and p["records"] > 0 for p in parts)
                    and step.get("trailing_bytes") == 0)

        control_steps = [{"fetch": 4, "topics": [["ledger", [0]]]},
                         {"fetch": 4, "topics": [["ledger", [0]], ["orders", [0]]]},
                         {"fetch": 12, "topics": [["orders", [0]], ["ledger", [0]]]}]
        control, detail = raw("dc", *mock.broker_addresses[0], False, control_steps)
        answers = answers_at_mock = control[1:] + [{}] * (4 - len(control))
        checks.record("control: the same raw Fetches straight at the mock (broker 1): v4 [ledger], v4 [ledger, orders], "
                      "v12 [orders, ledger] return every partition's records, in request order",
                      served(answers[0], ["ledger"]) and served(answers[1], ["ledger", "orders"])
                      and served(answers[2], ["orders", "ledger"]),
                      " | ".join(show(step) for step in answers[:3] if step) or detail)
        split_before = counters()
        for version, second, order in ((4, {"api_versions": 0}, ["ledger", "orders"]),
                                       (12, {"metadata": 1, "topics": ["orders"]}, ["orders", "ledger"])):
            parts = [0] if version == 4 else [0, 1, 2]
            steps = [{"fetch": version, "topics": [["ledger", parts]]}, second,
                     {"fetch": version, "topics": [[name, [0]] for name in order]}]
            lines, detail = raw("a", broker_name(1), PORT, True, steps)
            head = lines[0] if lines else {}
            answers = lines[1:] + [{}] * (4 - len(lines))
            whole, probe, mixed_step = answers[0], answers[1], answers[2]
            checks.record(f"raw Fetch v{version} of ledger {parts} through kedge (alice): answered, ErrorCode 29 for "
                          "each partition, no records",
                          head.get("auth_error") == 0 and refused_whole(whole, parts),
                          show(whole) if whole else detail)
            if "api_versions" in second:
                probe_ok = probe.get("outcome") == "answered" and probe.get("error_code") == 0 \
                    and probe.get("api_count", 0) > 0
            else:
                probe_ok = probe.get("outcome") == "answered" and probe.get("topics") == [
                    {"topic": "orders", "error": 0, "partitions": PARTITIONS}] and probe.get("trailing_bytes") == 0
            name = "ApiVersions v0" if "api_versions" in second else "Metadata v1 [orders]"
            checks.record(f"... the connection stays usable: {name} on it is answered",
                          probe_ok and probe.get("answer_correlation_id") == probe.get("correlation_id"),
                          show(probe) if probe else detail)
            reference = orders_p0(answers_at_mock[1] if version == 4 else answers_at_mock[2])
            checks.record(f"... and a Fetch v{version} naming {order} on it gets both back in request order: ledger 29, "
                          "orders 0 with the same records the mock returns for it",
                          merged(mixed_step, order, reference), (show(mixed_step) if mixed_step else detail)
                          + f"; at the mock: orders 0 high watermark {reference.get('high_watermark')}, "
                          f"{reference.get('records')} records in {reference.get('records_bytes')} bytes")
        split_after = counters()
        checks.record("the raw mixed Fetches were split (+2), the whole refusals were not",
                      split_after["split"]["Fetch"] - split_before["split"]["Fetch"] == 2
                      and split_after["refused"]["Fetch"] - split_before["refused"]["Fetch"] == 4,
                      f"split {split_before['split']['Fetch']:.0f} -> {split_after['split']['Fetch']:.0f}, "
                      f"resource_denied {split_before['refused']['Fetch']:.0f} -> "
                      f"{split_after['refused']['Fetch']:.0f}")

        audit_lines = acl.audit_lines

        # ---- 5. OffsetCommit split from a real client: one confluent-kafka commit of orders and ledger ------------
        # librdkafka sends every partition of a commit() in one OffsetCommitRequest to the coordinator; kedge sends
        # orders on and answers ledger itself. librdkafka (rd_kafka_handle_OffsetCommit) sets each partition's error
        # and returns the last failed partition's error for the call, so confluent-kafka raises.
        before, audit_before = counters(), len(audit_lines())
        lines, result = run_json_script(topo, "a", OFFSETS_SCRIPT, "ck_commit", bootstrap(), ca, "alice",
                                        USERS["alice"], COMMIT_GROUP, "orders:0:7,ledger:0:7")
        after = counters()
        with open(topo.log_path("client-ck-commit"), "w") as saved:
            saved.write(result.stderr)
        outcome = lines[0] if lines else {}
        sent = [line.split("]: ", 1)[-1] for line in result.stderr.splitlines() if "Sent OffsetCommitRequest" in line]
        moved = grown(before, after)
        checks.record(f"confluent-kafka commit(offsets=[orders 0 at 7, ledger 0 at 7], asynchronous=False), group "
                      f"{COMMIT_GROUP}: ONE OffsetCommitRequest sent (librdkafka's protocol log) and kedge split it: "
                      "kedge_policy_split_requests_total{api=\"OffsetCommit\"} +1, resource_denied +1, nothing else",
                      len(sent) == 1 and moved == {"split": {"OffsetCommit": 1}, "refused": {"OffsetCommit": 1}},
                      f"{outcome.get('client')}: {' | '.join(sent) or 'no OffsetCommitRequest in its log'}; "
                      f"counters that moved: {moved}")
        raised = outcome.get("raised") or {}
        returned = {p[0]: p for p in outcome.get("returned") or []}
        per_partition = (returned.get("orders", [None] * 4)[3] is None
                         and (returned.get("ledger", [None] * 4)[3] or {}).get("code") == 29)
        checks.record("... the call reports TOPIC_AUTHORIZATION_FAILED for ledger (KafkaException or per partition)",
                      (raised.get("code") == 29 and raised.get("name") == "TOPIC_AUTHORIZATION_FAILED"
                       and TOPIC_TEXT.rstrip(".") in (raised.get("str") or "")) or per_partition,
                      (outcome.get("exception") or f"returned {json.dumps(outcome.get('returned'))}") if outcome
                      else (result.stdout + result.stderr).strip()[-500:])
        committed = {p[0]: p for p in outcome.get("committed") or []}
        checks.record("... and orders was stored: committed() through kedge reads orders 0 at 7, nothing for ledger",
                      committed.get("orders", [None] * 4)[2:] == [7, None]
                      and committed.get("ledger", [None, None, 0])[2] < 0,
                      f"committed() {json.dumps(outcome.get('committed') or outcome.get('committed_error'))}")
        lines, result = run_json_script(topo, "dc", OFFSETS_SCRIPT, "ck_committed", mock.bootstrap, COMMIT_GROUP,
                                        "orders:0,ledger:0")
        at_broker = {p[0]: p[2] for p in (lines[0] if lines else {}).get("committed", [])}
        checks.record(f"... straight at the mock (dc): group {COMMIT_GROUP} holds orders 0 at 7 and nothing for ledger",
                      at_broker.get("orders") == 7 and at_broker.get("ledger", 0) < 0,
                      json.dumps(lines[0]) if lines else (result.stdout + result.stderr).strip()[-400:])
        commit_audit = [a for a in audit_lines()[audit_before:] if a.get("api") == "OffsetCommit"]
        names = [sorted(r.get("name") for r in a.get("resources", []) if r.get("type") == "topic")
                 for a in commit_audit]
        checks.record("... the audit log has one \"split\": true OffsetCommit line for it, naming ledger (not orders)",
                      len(commit_audit) == 1 and commit_audit[0].get("split") is True and names == [["ledger"]]
                      and commit_audit[0].get("principal") == "alice" and commit_audit[0].get("outcome") == "denied",
                      " | ".join(json.dumps({k: a.get(k) for k in ("api", "api_version", "operation", "outcome",
                                                                     "reason", "resources", "split")})
                                 for a in commit_audit) or "no OffsetCommit line")

        # ---- 6.-8. raw ListOffsets, OffsetForLeaderEpoch, OffsetCommit, CreateTopics over TLS ----------------------
        def at_mock(steps):
            """Steps straight at mock broker 1 (plaintext, in dc)."""
            return raw_session(topo, "dc", OFFSETS_SCRIPT, *mock.broker_addresses[0], None, None, None, None, steps)

        def entries(step):
            """[(topic, partition entry), ...] in response order."""
            return [(t["topic"], p) for t in step.get("topics") or [] for p in t.get("partitions") or []]

        def answered(step):
            return (step.get("outcome") == "answered"
                    and step.get("answer_correlation_id") == step.get("correlation_id")
                    and "parse_error" not in step and step.get("trailing_bytes") == 0)

        def brief(step):
            if not step:
                return "no answer"
            if step.get("outcome") != "answered" or "parse_error" in step:
                return f"{step.get('outcome')} after {step.get('received_bytes')} bytes {step.get('parse_error', '')}"
            shown = entries(step) if "partitions" in (step.get("topics") or [{}])[0] else [
                (t.get("topic"), {k: v for k, v in t.items() if k != "topic"}) for t in step.get("topics") or []]
            return (" | ".join(f"{topic} {json.dumps(entry)}" for topic, entry in shown)
                    + ("" if step.get("trailing_bytes") == 0 else f"; {step.get('trailing_bytes')} bytes after it"))

        def probe_ok(step):
            return answered(step) and step.get("error_code") == 0 and bool(step.get("versions"))

        def list_offsets(version, order):
            return {"list_offsets": version, "topics": [[name, [[0, -1]]] for name in order]}

        # The leader epoch of orders 0's records: the mock's ListOffsets v7 of the earliest offset (its msgset's epoch).
        _, first, detail = at_mock([{"list_offsets": 7, "topics": [["orders", [[0, -2]]]]}])
        epoch = dict(entries(first[0])).get("orders", {}).get("leader_epoch", -1)

        def leader_epochs(order):
            return {"offset_for_leader_epoch": 2, "topics": [[name, [[0, epoch]]] for name in order]}

        _, control, detail = at_mock([list_offsets(5, ["orders", "secret"]), list_offsets(7, ["orders", "secret"]),
                                      leader_epochs(["orders", "secret"])])
        reference = {"list_offsets 5": dict(entries(control[0])).get("orders"),
                     "list_offsets 7": dict(entries(control[1])).get("orders"),
                     "offset_for_leader_epoch 2": dict(entries(control[2])).get("orders")}
        checks.record(f"control: straight at mock broker 1, ListOffsets v5/v7 (latest) and OffsetForLeaderEpoch v2 "
                      f"(epoch {epoch}, the earliest record's) of [orders 0, secret 0] answer both, error 0; orders' "
                      "end offset > 0",
                      epoch >= 0 and all(answered(step) and [t for t, _ in entries(step)] == ["orders", "secret"]
                                         and all(p["error"] == 0 for _, p in entries(step)) for step in control[:3])
                      and all(entry and entry.get("offset", entry.get("end_offset", 0)) > 0
                              for entry in reference.values()),
                      " || ".join(f"v{step.get('step', {}).get('list_offsets', 2)} {brief(step)}"
                                  for step in control[:3]) + ("" if control[0] else f"; {detail}"))

        refused_offsets = {"partition": 0, "error": 29, "timestamp": -1, "offset": -1, "leader_epoch": -1}
        refused_epoch = {"error": 29, "partition": 0, "leader_epoch": -1, "end_offset": -1}
        steps = [
            list_offsets(5, ["orders", "secret"]),                                                     # 0
            list_offsets(5, ["secret", "orders"]),                                                     # 1
            list_offsets(7, ["orders", "secret"]),                                                     # 2
            list_offsets(7, ["secret", "orders"]),                                                     # 3
            {"list_offsets": 7, "topics": [["secret", [[0, -1], [1, -1]]]]},                           # 4
            {"api_versions": 0},                                                                       # 5
            leader_epochs(["orders", "secret"]),                                                       # 6
            leader_epochs(["secret", "orders"]),                                                       # 7
            {"api_versions": 0},                                                                       # 8
            {"offset_commit": 8, "group": RAW_GROUP, "topics": [["orders", [[0, 11]]], ["ledger", [[0, 11]]]]},     # 9
            {"offset_commit": 8, "group": RAW_GROUP, "topics": [["ledger", [[1, 12]]], ["orders", [[1, 12]]]]},     # 10
            {"offset_commit": 8, "group": DENIED_GROUP, "topics": [["orders", [[0, 13]]], ["ledger", [[0, 13]]]]},  # 11
            {"create_topics": 5, "topics": ["fresh-topic", "secret"]},                                 # 12
            {"api_versions": 0},                                                                       # 13
        ]
        before, audit_before = counters(), len(audit_lines())
        head, answers, detail = raw_session(topo, "a", OFFSETS_SCRIPT, broker_name(1), PORT, ca, broker_name(1),
                                            "alice", USERS["alice"], steps)
        after = counters()

        # 6. ListOffsets
        for index in range(4):
            step, version = answers[index], steps[index]["list_offsets"]
            order = [t[0] for t in steps[index]["topics"]]
            mine = dict(entries(step))
            mock_entry = reference[f"list_offsets {version}"] or {}
            checks.record(f"raw ListOffsets v{version} [{order[0]} 0, {order[1]} 0] through kedge (alice, broker-1): "
                          "both back in request order, orders exactly the mock's own entry, secret 29 with "
                          "Timestamp -1, Offset -1, LeaderEpoch -1",
                          head.get("auth_error") == 0 and answered(step) and [t for t, _ in entries(step)] == order
                          and mine.get("orders") == mock_entry and mine.get("secret") == refused_offsets,
                          f"{brief(step)}; the mock's orders: {json.dumps(mock_entry)}"
                          + ("" if step else f"; SASL {head}; {detail}"))
        step = answers[4]
        checks.record("raw ListOffsets v7 of [secret 0, 1] alone: answered whole by kedge, 29 for each",
                      answered(step) and entries(step) == [("secret", refused_offsets),
                                                           ("secret", dict(refused_offsets, partition=1))],
                      brief(step))
        checks.record("... the connection stays usable: ApiVersions v0 on it is answered", probe_ok(answers[5]),
                      f"error {answers[5].get('error_code')}, {len(answers[5].get('versions') or {})} keys")

        # 7. OffsetForLeaderEpoch
        mock_entry = reference["offset_for_leader_epoch 2"] or {}
        for index in (6, 7):
            step = answers[index]
            order = [t[0] for t in steps[index]["topics"]]
            mine = dict(entries(step))
            checks.record(f"raw OffsetForLeaderEpoch v2 [{order[0]} 0, {order[1]} 0] (epoch {epoch}) through kedge: "
                          "request order kept, orders exactly the mock's entry, secret ErrorCode 29 (before "
                          "Partition), LeaderEpoch -1, EndOffset -1",
                          answered(step) and [t for t, _ in entries(step)] == order
                          and mine.get("orders") == mock_entry and mine.get("secret") == refused_epoch,
                          f"{brief(step)}; the mock's orders: {json.dumps(mock_entry)}")
        checks.record("... ApiVersions v0 on the connection next is answered", probe_ok(answers[8]),
                      f"error {answers[8].get('error_code')}, {len(answers[8].get('versions') or {})} keys")

        # 8. OffsetCommit v8, CreateTopics v5
        for index, expected in ((9, [("orders", 0, 0), ("ledger", 0, 29)]),
                                (10, [("ledger", 1, 29), ("orders", 1, 0)])):
            step = answers[index]
            checks.record(f"raw OffsetCommit v8, group {RAW_GROUP} (allowed), ["
                          + ", ".join(f"{t} {p} at {steps[index]['topics'][i][1][0][1]}"
                                      for i, (t, p, _) in enumerate(expected))
                          + "]: orders 0 (committed), ledger 29, in request order",
                          answered(step) and [(t, p["partition"], p["error"]) for t, p in entries(step)] == expected,
                          brief(step))
        step = answers[11]
        checks.record(f"raw OffsetCommit v8, group {DENIED_GROUP} (no rule), [orders 0, ledger 0]: refused whole, "
                      "every partition GROUP_AUTHORIZATION_FAILED (30): the group is checked before the topics",
                      answered(step) and [(t, p["partition"], p["error"]) for t, p in entries(step)]
                      == [("orders", 0, 30), ("ledger", 0, 30)],
                      brief(step))
        lines, result = run_json_script(topo, "dc", OFFSETS_SCRIPT, "ck_committed", mock.bootstrap, RAW_GROUP,
                                        "orders:0,orders:1,ledger:0,ledger:1")
        raw_back = {(p[0], p[1]): p[2] for p in (lines[0] if lines else {}).get("committed", [])}
        lines2, result2 = run_json_script(topo, "dc", OFFSETS_SCRIPT, "ck_committed", mock.bootstrap, DENIED_GROUP,
                                          "orders:0,ledger:0")
        denied_back = {(p[0], p[1]): p[2] for p in (lines2[0] if lines2 else {}).get("committed", [])}
        checks.record(f"... straight at the mock (dc): {RAW_GROUP} holds orders 0 at 11 and 1 at 12, nothing for "
                      f"ledger; {DENIED_GROUP} holds nothing",
                      raw_back.get(("orders", 0)) == 11 and raw_back.get(("orders", 1)) == 12
                      and raw_back.get(("ledger", 0), 0) < 0 and raw_back.get(("ledger", 1), 0) < 0
                      and len(denied_back) == 2 and all(offset < 0 for offset in denied_back.values()),
                      " | ".join(json.dumps(found[0]) if found else (res.stdout + res.stderr).strip()[-300:]
                                 for found, res in ((lines, result), (lines2, result2))))
        step = answers[12]
        created = step.get("topics") or []
        checks.record("raw CreateTopics v5 naming only refused topics [fresh-topic, secret] (alice may Create "
                      "nothing): answered whole by kedge, each topic 29 with the ErrorMessage, NumPartitions and "
                      "ReplicationFactor -1, Configs null",
                      answered(step) and [t.get("topic") for t in created] == ["fresh-topic", "secret"]
                      and all(t.get("error") == 29 and (t.get("message") or "").startswith(TOPIC_TEXT)
                              and "CreateTopics" in t["message"] and t["topic"] in t["message"]
                              and (t.get("num_partitions"), t.get("replication_factor"), t.get("configs"))
                              == (-1, -1, None) for t in created),
                      brief(step))
        checks.record("... and the connection is still usable after all of them: ApiVersions v0 answered",
                      probe_ok(answers[13]),
                      f"error {answers[13].get('error_code')}, {len(answers[13].get('versions') or {})} keys"
                      + ("" if answers[13] else f"; {detail}"))
        moved = grown(before, after)
        wanted = {"split": {"ListOffsets": 4, "OffsetForLeaderEpoch": 2, "OffsetCommit": 2},
                  "refused": {"ListOffsets": 5, "OffsetForLeaderEpoch": 2, "OffsetCommit": 3, "CreateTopics": 1}}
        checks.record("/metrics after the raw connection: kedge_policy_split_requests_total ListOffsets +4, "
                      "OffsetForLeaderEpoch +2, OffsetCommit +2 (the whole refusals not split); resource_denied "
                      "ListOffsets +5, OffsetForLeaderEpoch +2, OffsetCommit +3, CreateTopics +1",
                      moved == wanted, f"counters that moved: {moved}")

        # ---- 9. audit log, metrics, kedge ----------------------------------------------------------------------------
        final = counters()
        lines = audit_lines()
        split_lines = [a for a in lines if a.get("split") is True]
        refused_topic = {"Produce": "audit", "Fetch": "ledger", "OffsetCommit": "ledger", "ListOffsets": "secret",
                         "OffsetForLeaderEpoch": "secret"}
        by_api = {api: [a for a in split_lines if a.get("api") == api] for api in refused_topic}
        shape_ok = all(a.get("resources") == [{"type": "topic", "name": refused_topic[api]}]
                       and a.get("outcome") == "denied" and a.get("reason") == "resource_denied"
                       and a.get("principal") == "alice" and a.get("virtual_cluster") == CLUSTER
                       for api, found in by_api.items() for a in found)
        checks.record("audit log: one \"split\": true line per split request, naming only the refused topic (audit "
                      "for Produce, ledger for Fetch and OffsetCommit, secret for ListOffsets and "
                      "OffsetForLeaderEpoch)",
                      shape_ok and all(len(by_api[api]) == final["split"][api] > 0 for api in by_api)
                      and len(split_lines) == sum(len(found) for found in by_api.values()),
                      f"{len(lines)} lines; split lines " + ", ".join(f"{api} {len(found)}"
                                                                      for api, found in by_api.items())
                      + f" (metrics {final['split']}); e.g. " + " | ".join(
                          json.dumps(found[0]) for found in by_api.values() if found))
        text = metrics_text(topo, admin)
        checks.record("/metrics: kedge_policy_split_requests_total for " + ", ".join(refused_topic) + ", counted in "
                      "kedge_policy_refusals_total{reason=\"resource_denied\"} too",
                      all(final["split"][api] > 0 and final["refused"][api] >= final["split"][api]
                          for api in refused_topic),
                      "; ".join(metric_lines(text, "kedge_policy_split_requests_total") + [
                          line for line in metric_lines(text, "kedge_policy_refusals_total")
                          if 'reason="resource_denied"' in line]))
        log_text = kedge.log_text()
        split_logs = [line.strip() for line in log_text.splitlines() if "of its topics refused" in line]
        print("    kedge: " + " | ".join(line[-170:] for line in split_logs[:2] + [
            next((line for line in split_logs if "Produce" in line), "")]), flush=True)
        checks.record("kedge still running", kedge.alive())
        errors = kedge_errors(log_text)
        warnings = [line for line in log_text.splitlines() if " WARN " in line]
        checks.record("kedge logged no errors and no warnings (no connection closed by a refusal)",
                      not errors and not warnings, "; ".join((errors + warnings)[:3]))
        print(f"    {time.monotonic() - started:.1f}s", flush=True)
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
