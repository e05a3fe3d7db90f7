#!/usr/bin/python3
"""Topic ids (KIP-516), ListGroups and OffsetFetch on a virtual cluster with ACLs (issue 18, docs/policy.md "ACLs":
"Topic ids", "ListGroups", "OffsetFetch"). Fetch v13+ names topics by 16-byte id only; kedge names them through the Metadata responses it
filtered on that backend (policy/topic_ids.h) and decides by name: an id it has not seen gets UNKNOWN_TOPIC_ID (100),
an id of a topic the client may not Read gets TOPIC_AUTHORIZATION_FAILED (29), a mixed request is split
(kafka_codec/split.h). OffsetFetch goes to the broker once its group is allowed and kedge rewrites the answer as Kafka
does: a group's committed offsets asked for all topics (null Topics) list only the topics the client may Describe
(Kafka's fetchAllOffsetsForGroup); a topic it names but may not Describe gets 29 on every partition (offset and leader
epoch -1, Metadata ""), the other topics keep the broker's offsets. Real clients over real TLS through the real kedge.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock with "orders", "ledger", "stream" and "vault", 3 partitions each,
                  partition p of every topic led by broker p+1; orders and ledger get 30 records each straight at the
                  mock; no ACL rule names vault. In front of each mock broker a list_groups_stage.py (TEST FIXTURE,
                  127.0.0.1:2910<id>; the mock advertises it): the 2.12 mock implements no ListGroups, so the stage
                  answers it with the groups whose JoinGroup/OffsetCommit went through it; the mock implements
                  OffsetFetch v0-6 only and answers null Topics with a null list, so the stage offers OffsetFetch v0-9
                  and answers v7-9 and null Topics as a Kafka broker does, from the mock's own committed offsets; it
                  relays everything else byte for byte and logs the first request of each API version per connection
                  (what reached the broker) and each OffsetFetch it answered. Group coordinators pinned: app-readers
                  on broker 1, secret-readers on broker 2, app-audit on broker 3.
                  kedge on :9092, virtual cluster acme (bootstrap-acme.<domain>), backend = the stages, terminating
                  SASL PLAIN (alice, ops), and
                    "acls": [
                      {"allow": ["Read"], "topics": ["orders", "stream"], "principals": ["alice"]},
                      {"allow": ["Describe"], "topics": ["ledger"], "principals": ["alice"]},
                      {"allow": ["Read"], "groups": ["app-*"], "principals": ["alice"]},
                      {"allow": ["Describe"], "cluster": true, "principals": ["ops"]},
                      {"allow": ["Read"], "topics": ["*"], "principals": ["ops"]},
                      {"allow": ["Read"], "groups": ["*"], "principals": ["ops"]}]
                  alice: no Describe on the cluster, Describe (through Read) on groups app-* only, nothing on vault.
    <prefix>-a    kclient_rdk212 (librdkafka 2.12), kafka-python 2.0.2 (KafkaAdminClient) and raw Kafka requests over
                  TLS (python ssl, SASL PLAIN)

Checks (one PASS/FAIL line each, quoting what the clients printed, then `N passed, M failed`):
  a. kedge's ApiVersions answer offers Fetch up to min(17, the mock's 16) = v16 (>= 13) and Produce up to min(13,
     the mock's); a kclient_rdk212 group consumer (alice, app-readers, -X debug=protocol) of orders reads the 30
     records exactly once and commits, and librdkafka's own protocol log shows every FetchRequest it sent as v16 (and
     v16 responses); the stages saw kedge's Fetch requests in v16 only (what reached the broker).
  b. raw requests over TLS as alice to broker-1 (leader of every partition 0), one connection: Metadata v12 lists
     orders, ledger and stream with the mock's own topic ids (not vault); Fetch v13 by orders' id returns its records (error 0,
     the same records, byte for byte, as the mock returns for the same request); Fetch v13 by ledger's id (Describe,
     no Read) gets 29 for each partition and no records; a random id gets 100; Fetch v16 [orders, ledger, random]
     and Fetch v13 [random, ledger, orders] each come back as ONE response in request order with 0/29/100 and the
     orders records byte-identical to the mock's answer to the allowed id alone (straight at the mock, plaintext,
     in dc); the mock itself answers the random id with 100 too (reference); kedge_policy_split_requests_total
     {api="Fetch"} grows by exactly 2 (the two mixed ones).
  d. ListGroups, after app-readers (the consumer of a.) and secret-readers (ops reading ledger through kedge) committed:
     straight at the mock (plaintext, the coordinators' own listeners) OffsetFetch v1 returns both groups' committed
     offsets (10 per partition), and each stage lists its group; kafka-python KafkaAdminClient.list_consumer_groups()
     through kedge: alice sees app-readers and not secret-readers, ops (Describe on the cluster) sees both; raw
     ListGroups v4 through kedge to broker-2 (secret-readers' coordinator): alice gets an empty list (error 0), ops
     gets secret-readers.
  f. OffsetFetch: a raw OffsetCommit v2 of group app-audit (no member) straight at the mock (dc, plaintext, broker 3's
     own listener) stores orders [3, 6, 9] and vault [2, 4, 8], read back there by OffsetFetch v1 naming both (the
     mock's own answer to null Topics is shown: a null list). kafka-python KafkaAdminClient.list_consumer_group_offsets
     ("app-audit") (OffsetFetch v3, null Topics) through kedge as alice returns orders' three offsets and no vault,
     while the broker's answer to kedge (the stage's log) carried vault; controls: the same call straight at the
     brokers (the stages, dc, plaintext) and through kedge as ops list both. Raw OffsetFetch over TLS as alice to
     broker-3: v7 with null Topics, v8 and v9 with Groups [app-audit, null Topics] list orders with its offsets and
     not vault (the same requests straight at broker 3's stage list both). v7 naming vault [0, 1, 2], on a connection
     of its own, reaches the broker (the stage's log: it answered vault's offsets) and comes back with 29 on every
     partition, CommittedOffset -1, CommittedLeaderEpoch -1, Metadata ""; it is no policy refusal:
     kedge_policy_refusals_total{api="OffsetFetch",reason="resource_denied"} and kedge_policy_split_requests_total
     {api="OffsetFetch"} stay put, kedge_responses_rewritten_total grows by 1. v7 naming orders gets its offsets; v7
     [orders, vault], v8 [vault, orders] and v9 [orders, vault] come back in request order with orders [3, 6, 9]
     (error 0) and vault 29 / -1 / -1 / "" on every partition (the same requests straight at the stage: both topics'
     offsets, in request order); v8 with Groups [app-audit naming orders and vault, app-audit null Topics] is answered
     the listing way, orders only in both groups; every one of them reached the broker. confluent-kafka
     Consumer(group app-audit).committed([orders [0], vault [0]]) (OffsetFetch v7 naming both) through kedge as alice
     reports orders [0] offset 3 and vault [0] TOPIC_AUTHORIZATION_FAILED ("Broker: Topic authorization failed");
     straight at the brokers orders 3 and vault 2.
  c. kedge restarted with a running consumer: a paced kclient_rdk212 producer writes 720 records to stream straight at
     the mock (dc, 60/s) while a kclient_rdk212 group consumer (alice, app-stream, -X debug=fetch,topic,metadata,
     reconnect.backoff.max.ms=200) reads them through kedge; once it reads, 4 s in, kedge gets SIGTERM (exit 0) and a
     new process starts on the same port with the same config 1 s later (an empty id book), the stages holding each
     Metadata response 1 s from then on (see the comment at that step: without it librdkafka's own Metadata refresh
     on reconnect usually reaches kedge before its Fetches do). The consumer reads every record exactly once and
     commits; the new kedge answered its Fetches by id with UNKNOWN_TOPIC_ID (librdkafka's debug log: "Fetch failed
     at offset O ...: UNKNOWN_TOPIC_ID"), librdkafka received Metadata through kedge afterwards and fetched each such
     partition past the failed offset; what librdkafka printed is shown.
     Then, with no client running, kedge is restarted once more: a raw Fetch v16 by orders' id (known to the client,
     not to the new kedge) gets 100; after a Metadata v12 on the same connection the same Fetch returns the mock's
     records byte for byte.
  e. every stopped kedge exited 0; the last kedge still runs; no kedge process logged errors.
They run in the order setup, a, b, d, f, c, e.

Usage: test_gateway_acl_topic_ids.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import collections
import json
import os
import re
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, start_kedge_in_topology  # noqa: E402
from scenario_support import (RAW_KAFKA, client_lines, finish, kedge_errors, make_users_file, metric,  # noqa: E402
                              metrics_text, popen_in, print_kedge_warnings, raw_session, run_json_script, run_scenario,
                              sasl_ssl_args, scenario_topology, summary_exit_code, wait_for)
from test_topology_smoke import Checks, client_argv, summary_fields  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAIN = "kafka.example.com"
PORT = 9092
CLUSTER = "acme"
PARTITIONS = 3
HIDDEN = "vault"              # no ACL rule names it: alice may not Describe it, ops may (Read on every topic)
TOPICS = {"orders": PARTITIONS, "ledger": PARTITIONS, "stream": PARTITIONS, HIDDEN: PARTITIONS}
ALICE_TOPICS = ("orders", "ledger", "stream")   # what alice may Describe
PRE = 30                      # records written straight to the mock in orders and in ledger (prefix "pre")
STREAM_COUNT, STREAM_RATE = 720, 60   # the restart scenario: 12 s of records
RESTART_AT, DOWN_SECONDS = 4.0, 1.0
METADATA_HOLD_MS = 1000   # from the restart on, the stages hold each Metadata response this long (see c.)
MECHANISM = "PLAIN"
USERS = {"alice": "pw-alice-91c3e0", "ops": "pw-ops-4d7b2a"}
RDK = "kclient_rdk212"
TIMEOUT_MS = "20000"
STAGE = os.path.join(HERE, "list_groups_stage.py")
STAGE_BASE_PORT = 29100       # below Linux's ephemeral range, so never taken by a mock broker's listener
COORDINATORS = {"app-readers": 1, "secret-readers": 2, "app-audit": 3}
AUDIT_GROUP = "app-audit"     # f.: offsets committed straight at the mock; alice may Describe it (Read on app-*)
AUDIT_OFFSETS = {"orders": [3, 6, 9], HIDDEN: [2, 4, 8]}   # committed per partition
ACLS = [
    {"allow": ["Read"], "topics": ["orders", "stream"], "principals": ["alice"]},
    {"allow": ["Describe"], "topics": ["ledger"], "principals": ["alice"]},
    {"allow": ["Read"], "groups": ["app-*"], "principals": ["alice"]},
    {"allow": ["Describe"], "cluster": True, "principals": ["ops"]},
    {"allow": ["Read"], "topics": ["*"], "principals": ["ops"]},
    {"allow": ["Read"], "groups": ["*"], "principals": ["ops"]},
]
FETCH_MAX_READ, PRODUCE_MAX_READ = 17, 13  # what kedge reads on a cluster with ACLs (docs/policy.md)

# Runs with /usr/bin/python3 in a namespace; prints one JSON object per line.
#   session HOST PORT CA SNI USER PASSWORD STEPS_JSON
#       one connection (CA "-": plaintext; else TLS with SNI, and with USER not "-" SaslHandshake v1 +
#       SaslAuthenticate v1 PLAIN), then the steps on it in order, one JSON line each:
#       {"api_versions": 0}; {"metadata": 12} (every topic: name, id, partitions' leaders);
#       {"fetch": 13..16, "topics": [[TOPIC_ID_HEX, [PARTITION, ...]], ...]} (every partition from offset 0; per
#       partition error, high watermark, records count/bytes and a SHA-256 of the records bytes);
#       {"list_groups": VERSION}; {"offset_fetch": GROUP, "topic": T, "partitions": [...]} (OffsetFetch v1);
#       {"offset_fetch_v": 0..9, "group": G, "topics": null | [[T, [P, ...]], ...]} (null: all of G's offsets, v2+;
#       v8+ as one element of Groups; per topic [partition, committed offset, error], and its partitions'
#       "epochs" (v5+) and "metadata"); v8+ also {"offset_fetch_v": 8|9, "groups": [[G, null | [[T, [P, ...]]]], ...]}
#       (several elements of Groups);
#       {"offset_commit": 2, "group": G, "offsets": [[T, P, OFFSET], ...]} (a simple commit: generation -1, no member)
#   kp_list_groups BOOTSTRAP CA USER PASSWORD
#       kafka-python KafkaAdminClient (SASL_SSL PLAIN) list_consumer_groups()
#   kp_group_offsets BOOTSTRAP CA USER PASSWORD GROUP
#       kafka-python KafkaAdminClient list_consumer_group_offsets(GROUP) (OffsetFetch with null Topics; CA "-":
#       plaintext, no SASL)
#   ck_committed BOOTSTRAP CA USER PASSWORD GROUP PARTITIONS_JSON
#       confluent-kafka Consumer (group GROUP, SASL_SSL PLAIN; CA "-": plaintext, no SASL) committed([TopicPartition(T,
#       P), ...]) for PARTITIONS_JSON [[T, P], ...] (an OffsetFetch naming those partitions): per partition [topic,
#       partition, offset, error or null], or the KafkaException it raised
CLIENT_SCRIPT = RAW_KAFKA + r"""
import hashlib

def batch_records(records):
    # Sum of the RecordBatches' record counts (v2 batches: count at byte 57 of each batch).
    count, pos = 0, 0
    while pos + 61 <= len(records):
        (length,) = struct.unpack_from(">i", records, pos + 8)
        count += struct.unpack_from(">i", records, pos + 57)[0]
        pos += 12 + length
    return count

def parse_metadata(data):
    # MetadataResponse v12 (flexible, header v1)
    r = Reader(data, 8)
    r.tags()
    r.take(">i")  # ThrottleTimeMs
    brokers = []
    for _ in range(r.uvarint() - 1):
        node = r.take(">i"); host = r.compact_string(); port = r.take(">i"); r.compact_string(); r.tags()
        brokers.append([node, f"{host}:{port}"])
    r.compact_string()  # ClusterId
    r.take(">i")  # ControllerId
    topics = []
    for _ in range(r.uvarint() - 1):
        error = r.take(">h"); name = r.compact_string(); topic_id = r.raw(16).hex(); r.take(">b")
        leaders = []
        for _ in range(r.uvarint() - 1):
            _error, index, leader, _epoch = r.take(">hiii")
            for _ in range(3):  # ReplicaNodes, IsrNodes, OfflineReplicas
                nodes = r.uvarint() - 1
                r.pos += 4 * nodes
            r.tags()
            leaders.append([index, leader])
        r.take(">i")  # TopicAuthorizedOperations
        r.tags()
        topics.append({"topic": name, "id": topic_id, "error": error, "leaders": leaders})
    return {"brokers": brokers, "topics": topics}

def fetch_body(version, topics):
    body = b""
    if version <= 14:
        body += struct.pack(">i", -1)  # ReplicaId (from v15 a tagged ReplicaState)
    body += struct.pack(">iiibii", 500, 1, 1048576, 0, 0, -1)  # MaxWait, MinBytes, MaxBytes, Isolation, session
    body += uvarint(len(topics) + 1)
    for topic_id, partitions in topics:
        body += bytes.fromhex(topic_id) + uvarint(len(partitions) + 1)
        for partition in partitions:
            # Partition, CurrentLeaderEpoch, FetchOffset, LastFetchedEpoch, LogStartOffset, PartitionMaxBytes
            body += struct.pack(">iiqiqi", partition, -1, 0, -1, -1, 1048576) + b"\0"
        body += b"\0"
    body += uvarint(1)  # ForgottenTopicsData
    body += compact_string("")  # RackId
    return body + b"\0"

def parse_fetch(data):
    # FetchResponse v13-16 (flexible, header v1), topics by id
    r = Reader(data, 8)
    r.tags()
    out = {"throttle_ms": r.take(">i")}
    out["error_code"], out["session_id"] = r.take(">hi")
    topics = []
    for _ in range(r.uvarint() - 1):
        topic_id = r.raw(16).hex()
        partitions = []
        for _ in range(r.uvarint() - 1):
            partition, error, high, _lso, _log_start = r.take(">ihqqq")
            aborted = r.uvarint() - 1
            for _ in range(max(aborted, 0)):
                r.take(">qq"); r.tags()
            r.take(">i")  # PreferredReadReplica
            size = r.uvarint() - 1
            records = r.raw(size) if size > 0 else b""
            r.tags()
            partitions.append({"partition": partition, "error": error, "high_watermark": high,
                               "records": batch_records(records), "records_bytes": len(records),
                               "records_sha256": hashlib.sha256(records).hexdigest()[:16]})
        r.tags()
        topics.append({"id": topic_id, "partitions": partitions})
    out["topics"] = topics
    r.tags()
    out["trailing_bytes"] = len(data) - r.pos
    return out

def list_groups_body(version):
    if version >= 4:
        return uvarint(1) + b"\0"  # StatesFilter empty, tagged fields
    return b"\0" if version == 3 else b""

def parse_list_groups(data, version):
    flexible = version >= 3
    r = Reader(data, 8)
    if flexible:
        r.tags()
    out = {}
    if version >= 1:
        r.take(">i")  # ThrottleTimeMs
    out["error_code"] = r.take(">h")
    groups = []
    for _ in range(r.uvarint() - 1 if flexible else r.take(">i")):
        group = r.compact_string() if flexible else r.string()
        protocol = r.compact_string() if flexible else r.string()
        if version >= 4:
            r.compact_string()  # GroupState
        if flexible:
            r.tags()
        groups.append(group)
    out["groups"] = sorted(groups)
    return out

def offset_fetch_body(group, topic, partitions):
    body = string(group) + struct.pack(">i", 1) + string(topic) + struct.pack(">i", len(partitions))
    return body + b"".join(struct.pack(">i", p) for p in partitions)

def parse_offset_fetch(data):
    # OffsetFetchResponse v1: [Topic, [PartitionIndex, CommittedOffset, Metadata, ErrorCode]]
    r = Reader(data, 8)
    topics = []
    for _ in range(r.take(">i")):
        name = r.string()
        partitions = []
        for _ in range(r.take(">i")):
            index, offset = r.take(">iq")
            r.string()
            partitions.append([index, offset, r.take(">h")])
        topics.append({"topic": name, "partitions": partitions})
    return {"topics": topics}

def offset_commit_body(step):
    # OffsetCommitRequest v2: GroupId, GenerationId -1, MemberId "", RetentionTimeMs -1 (a simple commit, no member),
    # Topics [Name, Partitions [PartitionIndex, CommittedOffset, Metadata]]
    by_topic = {}
    for topic, partition, offset in step["offsets"]:
        by_topic.setdefault(topic, []).append((partition, offset))
    body = string(step["group"]) + struct.pack(">i", -1) + string("") + struct.pack(">q", -1)
    body += struct.pack(">i", len(by_topic))
    for topic, entries in by_topic.items():
        body += string(topic) + struct.pack(">i", len(entries))
        body += b"".join(struct.pack(">iq", partition, offset) + string("") for partition, offset in entries)
    return body

def parse_offset_commit(data):
    # OffsetCommitResponse v2: Topics [Name, Partitions [PartitionIndex, ErrorCode]]
    r = Reader(data, 8)
    topics = []
    for _ in range(r.take(">i")):
        name = r.string()
        topics.append({"topic": name, "partitions": [list(r.take(">ih")) for _ in range(r.take(">i"))]})
    return {"topics": topics}

def offset_fetch_v_body(step):
    # OffsetFetchRequest v0-9 for one group: Topics null (all of its committed offsets, v2+) or [[NAME, [P, ...]]];
    # v7+ RequireStable false; v8+ in Groups (v9: MemberId null, MemberEpoch -1); flexible from v6
    version = step["offset_fetch_v"]
    groups = step["groups"] if "groups" in step else [[step["group"], step["topics"]]]
    flexible = version >= 6
    text = compact_string if flexible else string
    count = (lambda n: uvarint(n + 1)) if flexible else (lambda n: struct.pack(">i", n))
    tags = b"\0" if flexible else b""
    def listed(topics):
        if topics is None:
            return uvarint(0) if flexible else struct.pack(">i", -1)
        return count(len(topics)) + b"".join(
            text(name) + count(len(partitions)) + b"".join(struct.pack(">i", p) for p in partitions) + tags
            for name, partitions in topics)
    if version <= 7:
        group, topics = groups[0]
        body = text(group) + listed(topics)
    else:
        member = uvarint(0) + struct.pack(">i", -1) if version >= 9 else b""
        body = count(len(groups)) + b"".join(text(group) + member + listed(topics) + tags for group, topics in groups)
    if version >= 7:
        body += b"\0"  # RequireStable
    return body + tags

def parse_offset_fetch_v(data, version):
    # OffsetFetchResponse v0-9 -> {"groups": [{"group", "error", "topics": [{"topic", "partitions": [[P, OFFSET,
    # ERROR]], "epochs": [CommittedLeaderEpoch (v5+)], "metadata": [Metadata]}] or None}]} (v0-7: one entry, group
    # None; error None before v2)
    flexible = version >= 6
    r = Reader(data, 8)
    if flexible:
        r.tags()
    text = r.compact_string if flexible else r.string
    count = (lambda: r.uvarint() - 1) if flexible else (lambda: r.take(">i"))
    if version >= 3:
        r.take(">i")  # ThrottleTimeMs
    def topics():
        n = count()
        if n < 0:
            return None
        out = []
        for _ in range(n):
            name = text()
            partitions, epochs, metadata = [], [], []
            for _ in range(count()):
                index, offset = r.take(">iq")
                if version >= 5:
                    epochs.append(r.take(">i"))  # CommittedLeaderEpoch
                metadata.append(text())
                partitions.append([index, offset, r.take(">h")])
                if flexible:
                    r.tags()
            if flexible:
                r.tags()
            out.append({"topic": name, "partitions": partitions, "epochs": epochs, "metadata": metadata})
        return out
    groups = []
    if version <= 7:
        listed = topics()
        groups.append({"group": None, "topics": listed, "error": r.take(">h") if version >= 2 else None})
    else:
        for _ in range(count()):
            group = text()
            listed = topics()
            groups.append({"group": group, "topics": listed, "error": r.take(">h")})
            r.tags()
    if flexible:
        r.tags()
    return {"groups": groups, "trailing_bytes": len(data) - r.pos}

def parse_api_versions(data):
    error, count = struct.unpack_from(">hi", data, 8)
    versions = {}
    for i in range(count):
        key, low, high = struct.unpack_from(">hhh", data, 14 + 6 * i)
        versions[str(key)] = [low, high]
    return {"error_code": error, "versions": versions}

def session(host, port, ca, server_name, user, password, steps):
    sock, head = connect(host, port, ca, server_name, user, password)
    print(json.dumps(head), flush=True)
    sock.settimeout(8)
    correlation = 10
    for step in json.loads(steps):
        correlation += 1
        out = {"step": step, "correlation_id": correlation}
        if "fetch" in step:
            sock.sendall(frame(1, step["fetch"], correlation, fetch_body(step["fetch"], step["topics"]), True))
        elif "metadata" in step:
            # Metadata v12: Topics null (all), AllowAutoTopicCreation false, IncludeTopicAuthorizedOperations false
            sock.sendall(frame(3, 12, correlation, uvarint(0) + b"\0\0\0", True))
        elif "list_groups" in step:
            version = step["list_groups"]
            sock.sendall(frame(16, version, correlation, list_groups_body(version), version >= 3))
        elif "offset_fetch" in step:
            sock.sendall(frame(9, 1, correlation, offset_fetch_body(step["offset_fetch"], step["topic"],
                                                                     step["partitions"])))
        elif "offset_fetch_v" in step:
            sock.sendall(frame(9, step["offset_fetch_v"], correlation, offset_fetch_v_body(step),
                               step["offset_fetch_v"] >= 6))
        elif "offset_commit" in step:
            sock.sendall(frame(8, 2, correlation, offset_commit_body(step)))
        else:
            sock.sendall(frame(18, 0, correlation, b""))
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
                out.update(parse_fetch(response))
            elif "metadata" in step:
                out.update(parse_metadata(response))
            elif "list_groups" in step:
                out.update(parse_list_groups(response, step["list_groups"]))
            elif "offset_fetch" in step:
                out.update(parse_offset_fetch(response))
            elif "offset_fetch_v" in step:
                out.update(parse_offset_fetch_v(response, step["offset_fetch_v"]))
            elif "offset_commit" in step:
                out.update(parse_offset_commit(response))
            else:
                out.update(parse_api_versions(response))
        except (struct.error, IndexError, UnicodeDecodeError, ValueError) as error:
            out["parse_error"] = str(error)
        print(json.dumps(out), flush=True)
    sock.close()

def kp_list_groups(bootstrap, ca, user, password):
    import kafka
    out = {"op": "kp_list_groups", "user": user, "kafka_python": kafka.__version__}
    try:
        admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kedge-list-groups",
                                       security_protocol="SASL_SSL", ssl_cafile=ca, ssl_check_hostname=True,
                                       sasl_mechanism="PLAIN", sasl_plain_username=user, sasl_plain_password=password,
                                       request_timeout_ms=15000, api_version_auto_timeout_ms=10000)
        out["groups"] = sorted(list(group) for group in admin.list_consumer_groups())
        out["offered_list_groups"] = (admin._client.get_api_versions() or {}).get(16)
        admin.close()
    except Exception as error:
        out["error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(out), flush=True)

def kp_group_offsets(bootstrap, ca, user, password, group):
    # CA "-": plaintext, no SASL (straight at the brokers in dc)
    import kafka
    from kafka.protocol.commit import OffsetFetchRequest
    out = {"op": "kp_group_offsets", "user": user, "group": group, "kafka_python": kafka.__version__}
    security = {"security_protocol": "PLAINTEXT"} if ca == "-" else {
        "security_protocol": "SASL_SSL", "ssl_cafile": ca, "ssl_check_hostname": True, "sasl_mechanism": "PLAIN",
        "sasl_plain_username": user, "sasl_plain_password": password}
    try:
        admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kedge-group-offsets",
                                       request_timeout_ms=15000, api_version_auto_timeout_ms=10000, **security)
        offsets = admin.list_consumer_group_offsets(group)
        out["returned"] = repr(dict(sorted(offsets.items())))
        out["offsets"] = sorted([tp.topic, tp.partition, meta.offset] for tp, meta in offsets.items())
        out["offered_offset_fetch"] = (admin._client.get_api_versions() or {}).get(9)
        out["offset_fetch_version"] = admin._matching_api_version(OffsetFetchRequest)
        admin.close()
    except Exception as error:
        out["error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(out), flush=True)

def ck_committed(bootstrap, ca, user, password, group, partitions):
    # CA "-": plaintext, no SASL (straight at the brokers in dc)
    import confluent_kafka
    from confluent_kafka import TopicPartition
    out = {"op": "ck_committed", "user": user, "group": group, "client": f"confluent-kafka "
           f"{confluent_kafka.version()[0]}, librdkafka {confluent_kafka.libversion()[0]}"}
    security = {"security.protocol": "PLAINTEXT"} if ca == "-" else {
        "security.protocol": "SASL_SSL", "ssl.ca.location": ca, "ssl.endpoint.identification.algorithm": "https",
        "sasl.mechanisms": "PLAIN", "sasl.username": user, "sasl.password": password}
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                         "enable.auto.commit": False, **security})
    try:
        back = consumer.committed([TopicPartition(t, p) for t, p in json.loads(partitions)], timeout=15)
        out["committed"] = [[tp.topic, tp.partition, tp.offset,
                             {"code": tp.error.code(), "name": tp.error.name(), "str": tp.error.str()}
                             if tp.error else None] for tp in back]
    except confluent_kafka.KafkaException as error:
        out["error"] = f"KafkaException: {error.args[0]}"
    consumer.close()
    print(json.dumps(out), flush=True)

{"session": session, "kp_list_groups": kp_list_groups, "kp_group_offsets": kp_group_offsets,
 "ck_committed": ck_committed}[sys.argv[1]](*sys.argv[2:])
"""


def bootstrap():
    return f"bootstrap-{CLUSTER}.{DOMAIN}:{PORT}"


def broker_name(broker_id):
    return f"broker-{broker_id}-{CLUSTER}.{DOMAIN}"


def partition_of(step, topic_id, partition=0):
    for topic in step.get("topics", []):
        if topic.get("id") == topic_id:
            for entry in topic["partitions"]:
                if entry["partition"] == partition:
                    return entry
    return {}


def errors_of(step):
    """[(topic id, [partition errors])] in response order."""
    return [(t["id"], [p["error"] for p in t["partitions"]]) for t in step.get("topics", [])]


def same_records(mine, reference):
    """Partition 0's records: present, and the same bytes (SHA-256, size, count) and high watermark as the mock's."""
    keys = ("records_sha256", "records_bytes", "records", "high_watermark")
    return (mine.get("error") == 0 and mine.get("records", 0) > 0
            and all(mine.get(key) == reference.get(key) for key in keys))


def describe_records(entry):
    return (f"error {entry.get('error')}, {entry.get('records')} records in {entry.get('records_bytes')} bytes "
            f"sha256 {entry.get('records_sha256')}, high watermark {entry.get('high_watermark')}")


def show_fetch(step, names):
    if not step:
        return "no answer"
    if step.get("outcome") != "answered":
        return f"{step.get('outcome')} after {step.get('received_bytes')} bytes"
    parts = []
    for topic in step.get("topics", []):
        parts.append(f"{names.get(topic['id'], topic['id'])}: " + ", ".join(
            f"p{p['partition']} error {p['error']} records {p['records']}" for p in topic["partitions"]))
    extra = f"; parse error {step['parse_error']}" if "parse_error" in step else ""
    return f"top-level error {step.get('error_code')}; " + " | ".join(parts) + extra


def librdkafka_versions(stderr_text, request):
    """Versions of `request` (e.g. "FetchRequest") librdkafka's debug=protocol log says it sent."""
    return sorted({int(v) for v in re.findall(rf"Sent {request} \(v(\d+),", stderr_text)})


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    started = time.monotonic()
    with scenario_topology() as topo:
        mock = topo.start_mock_cluster("rdk212", brokers=3, topics=TOPICS)
        for topic in TOPICS:
            for partition in range(PARTITIONS):
                mock.command_ok(f"leader {topic} {partition} {partition + 1}")
        stage_logs, stages = {}, []
        metadata_hold = os.path.join(topo.log_dir, "metadata-hold-ms")  # read by the stages (c.)
        for broker, (host, port) in enumerate(mock.broker_addresses, start=1):
            listen = STAGE_BASE_PORT + broker
            stage_logs[broker] = topo.log_path(f"list-groups-stage-{broker}")
            topo.start_process("dc", ["/usr/bin/python3", STAGE, "--listen", f"127.0.0.1:{listen}", "--upstream",
                                      f"{host}:{port}", "--name", f"broker-{broker}", "--metadata-delay-file",
                                      metadata_hold], stage_logs[broker], ready_port=listen)
            mock.command_ok(f"hostport {broker} 127.0.0.1 {listen}")
            stages.append(f"127.0.0.1:{listen}")
        for group, broker in COORDINATORS.items():
            mock.command_ok(f"coordinator group {group} {broker}")
        users_file = os.path.join(topo.log_dir, "users.json")
        make_users_file(kedge_binary, users_file, USERS)
        authentication = {"mode": "terminate", "sasl": {"mechanisms": [MECHANISM], "users_file": users_file}}
        kedge, certs, config_path = start_kedge_in_topology(
            topo, kedge_binary, [(CLUSTER, "shared_suffix", ",".join(stages))], DOMAIN, PORT,
            cluster_options={CLUSTER: {"authentication": authentication, "principals": sorted(USERS),
                                       "policy": {"acls": ACLS}}})
        generations, exits = [kedge], []  # kedge processes (one per restart), exit statuses of the stopped ones
        ca = certs["ca"]
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock rdk212 {mock.bootstrap}; stages {stages}; "
              f"acls {json.dumps(ACLS)}", flush=True)

        def auth(user):
            return sasl_ssl_args(ca, MECHANISM, user, USERS[user])

        def admin():
            return admin_address(generations[-1].log_text())

        def counters():
            text = metrics_text(topo, admin())
            return {"split": metric(text, "kedge_policy_split_requests_total", virtual_cluster=CLUSTER, api="Fetch"),
                    "refused": metric(text, "kedge_policy_refusals_total", virtual_cluster=CLUSTER, api="Fetch",
                                      reason="resource_denied"),
                    # a Fetch naming only ids kedge has not seen: answered UNKNOWN_TOPIC_ID, not a denial
                    "unknown": metric(text, "kedge_policy_refusals_total", virtual_cluster=CLUSTER, api="Fetch",
                                      reason="unknown_topic_id")}

        def raw(ns, host, port, user, steps, tls=True):
            """One raw connection: TLS (SNI = host) + SASL PLAIN as `user` (None: none); tls=False: plaintext."""
            return raw_session(topo, ns, CLIENT_SCRIPT, host, port, ca if tls else None, host, user,
                               USERS.get(user, "-"), steps)

        def stage_marks():
            """How much each stage has logged so far (stage_text_since gives what it logged after)."""
            marks = {}
            for broker, path in stage_logs.items():
                with open(path, errors="replace") as log:
                    marks[broker] = len(log.read())
            return marks

        def stage_text_since(marks):
            text = ""
            for broker, path in stage_logs.items():
                with open(path, errors="replace") as log:
                    text += log.read()[marks[broker]:]
            return text

        # Setup: records in orders and ledger, straight at the mock (in dc).
        direct = topo.run_in("dc", client_argv(RDK, "produce", "--bootstrap", mock.bootstrap, "--topic",
                                               "orders,ledger", "--count", PRE, "--prefix", "pre",
                                               "--timeout-ms", TIMEOUT_MS), timeout=60)
        _, at_mock, detail = raw("dc", *mock.broker_addresses[0], None, [{"metadata": 12}, {"api_versions": 0}],
                                 tls=False)
        mock_ids = {t["topic"]: t["id"] for t in at_mock[0].get("topics", [])}
        leaders = {t["topic"]: t["leaders"] for t in at_mock[0].get("topics", [])}
        names = {topic_id: topic for topic, topic_id in mock_ids.items()}
        alice_ids = {topic: topic_id for topic, topic_id in mock_ids.items() if topic in ALICE_TOPICS}
        checks.record(f"setup: {PRE} records each in orders and ledger straight at the mock; partition p of every "
                      "topic led by broker p+1, topic ids from the mock's Metadata v12",
                      direct.returncode == 0
                      and summary_fields(direct.stdout, "produce").get("delivered") == str(2 * PRE)
                      and set(mock_ids) == set(TOPICS) and all(int(i, 16) != 0 for i in mock_ids.values())
                      and all(leaders[t] == [[p, p + 1] for p in range(PARTITIONS)] for t in TOPICS),
                      f"{direct.stdout.strip().splitlines()[-1] if direct.stdout.strip() else direct.stderr[-300:]}; "
                      f"ids {mock_ids}" + ("" if mock_ids else f"; {detail}"))
        random_id = uuid.uuid4().hex
        while random_id in names:
            random_id = uuid.uuid4().hex
        names[random_id] = "random"

        # ---- a. librdkafka 2.12 fetches by topic id through kedge ------------------------------------------------
        _, through, detail = raw("a", bootstrap().split(":")[0], PORT, None, [{"api_versions": 0}])
        offered = through[0].get("versions", {})
        backend = at_mock[1].get("versions", {})
        kedge_fetch, mock_fetch = offered.get("1", [None, None])[1], backend.get("1", [None, None])[1]
        kedge_produce, mock_produce = offered.get("0", [None, None])[1], backend.get("0", [None, None])[1]
        checks.record(f"kedge's ApiVersions offers Fetch up to min({FETCH_MAX_READ}, the mock's) >= 13 and Produce up "
                      f"to min({PRODUCE_MAX_READ}, the mock's)",
                      None not in (kedge_fetch, mock_fetch, kedge_produce, mock_produce)
                      and kedge_fetch == min(FETCH_MAX_READ, mock_fetch) >= 13
                      and kedge_produce == min(PRODUCE_MAX_READ, mock_produce),
                      f"kedge: Fetch v{kedge_fetch}, Produce v{kedge_produce}; the mock: Fetch v{mock_fetch}, "
                      f"Produce v{mock_produce}" + ("" if offered else f"; {detail}"))
        marks = stage_marks()
        consumed = topo.run_in("a", client_argv(RDK, "consume", "--bootstrap", bootstrap(), "--topic", "orders",
                                                "--group", "app-readers", "--expect", PRE, "--prefix", "pre",
                                                "--timeout-ms", TIMEOUT_MS, *auth("alice"), "-X", "debug=protocol"),
                               timeout=60)
        fields = summary_fields(consumed.stdout, "consume")
        sent = librdkafka_versions(consumed.stderr, "FetchRequest")
        received = sorted({int(v) for v in re.findall(r"Received FetchResponse \(v(\d+),", consumed.stderr)})
        sample = next((line.split("]: ", 1)[-1] for line in consumed.stderr.splitlines()
                       if "Sent FetchRequest" in line), "")
        checks.record(f"{RDK} (alice, group app-readers) reads the {PRE} orders records exactly once through kedge "
                      "and commits",
                      consumed.returncode == 0 and fields.get("unique") == str(PRE) and fields.get("duplicates") == "0"
                      and fields.get("bad") == "0" and fields.get("commit") == "ok",
                      consumed.stdout.strip() or "; ".join(client_lines(consumed.stderr)))
        checks.record("... librdkafka's protocol log: every FetchRequest it sent was v13+ (by topic id), answered in "
                      "the same version",
                      bool(sent) and min(sent) >= 13 and received == sent,
                      f"FetchRequest versions sent {sent}, FetchResponse versions received {received}; e.g. {sample}")
        fetch_at_broker = wait_for(lambda: sorted({int(v) for v in re.findall(
            r"first Fetch v(\d+)", stage_text_since(marks))}), 5)
        checks.record("... and the broker received kedge's Fetch requests in v13+ only (the stages' log)",
                      bool(fetch_at_broker) and min(fetch_at_broker) >= 13,
                      f"Fetch versions at the stages: {fetch_at_broker}")

        # ops reads ledger in group secret-readers (for d.), through kedge
        ops_read = topo.run_in("a", client_argv(RDK, "consume", "--bootstrap", bootstrap(), "--topic", "ledger",
                                                "--group", "secret-readers", "--expect", PRE, "--prefix", "pre",
                                                "--timeout-ms", TIMEOUT_MS, *auth("ops")), timeout=60)
        fields = summary_fields(ops_read.stdout, "consume")
        checks.record(f"{RDK} (ops, group secret-readers) reads the {PRE} ledger records exactly once and commits",
                      ops_read.returncode == 0 and fields.get("unique") == str(PRE)
                      and fields.get("duplicates") == "0" and fields.get("commit") == "ok",
                      ops_read.stdout.strip() or "; ".join(client_lines(ops_read.stderr)))

        # ---- b. raw Fetch by topic id -----------------------------------------------------------------------------
        orders_id, ledger_id = mock_ids.get("orders", "0" * 32), mock_ids.get("ledger", "0" * 32)
        reference_steps = [{"fetch": 13, "topics": [[orders_id, [0]]]}, {"fetch": 16, "topics": [[orders_id, [0]]]},
                           {"fetch": 16, "topics": [[random_id, [0]]]}]
        _, reference, detail = raw("dc", *mock.broker_addresses[0], None, reference_steps, tls=False)
        ref13, ref16 = partition_of(reference[0], orders_id), partition_of(reference[1], orders_id)
        checks.record("control: straight at the mock (broker 1, plaintext) Fetch v13 and v16 by orders' id return "
                      "partition 0's records; the mock answers a random id with UNKNOWN_TOPIC_ID (100)",
                      ref13.get("records", 0) > 0 and same_records(ref16, ref13)
                      and errors_of(reference[2]) == [(random_id, [100])],
                      f"v13 {describe_records(ref13)}; v16 {describe_records(ref16)}; random id: "
                      f"{show_fetch(reference[2], names)}" + ("" if ref13 else f"; {detail}"))
        before = counters()
        steps = [{"metadata": 12},
                 {"fetch": 13, "topics": [[orders_id, [0]]]},
                 {"fetch": 13, "topics": [[ledger_id, [0, 1, 2]]]},
                 {"fetch": 13, "topics": [[random_id, [0]]]},
                 {"fetch": 16, "topics": [[orders_id, [0]], [ledger_id, [0]], [random_id, [0]]]},
                 {"fetch": 13, "topics": [[random_id, [0]], [ledger_id, [0]], [orders_id, [0]]]}]
        head, answers, detail = raw("a", broker_name(1), PORT, "alice", steps)
        after = counters()
        meta, allowed, denied, unknown, mixed16, mixed13 = answers[:6]
        through_ids = {t["topic"]: t["id"] for t in meta.get("topics", [])}
        checks.record("raw over TLS (alice, broker-1): Metadata v12 through kedge lists orders, ledger and stream with "
                      f"the mock's topic ids (not {HIDDEN}: no Describe)",
                      head.get("auth_error") == 0 and through_ids == alice_ids
                      and all(t["error"] == 0 for t in meta.get("topics", [])),
                      f"{through_ids}" + ("" if through_ids else f"; {head}; {detail}"))
        mine = partition_of(allowed, orders_id)
        checks.record("(i) Fetch v13 by orders' id (alice may Read): error 0 and the mock's records, byte for byte",
                      allowed.get("answer_correlation_id") == allowed.get("correlation_id") and errors_of(allowed) == [
                          (orders_id, [0])] and same_records(mine, ref13) and allowed.get("trailing_bytes") == 0,
                      f"{show_fetch(allowed, names)}; kedge {describe_records(mine)}; mock {describe_records(ref13)}")
        checks.record("(i) Fetch v13 by ledger's id (Describe, no Read): TOPIC_AUTHORIZATION_FAILED (29) for each "
                      "partition, no records",
                      errors_of(denied) == [(ledger_id, [29, 29, 29])] and denied.get("error_code") == 0
                      and all(p["records_bytes"] == 0 for t in denied["topics"] for p in t["partitions"]),
                      show_fetch(denied, names))
        checks.record(f"(ii) Fetch v13 by a random id never seen ({random_id}): UNKNOWN_TOPIC_ID (100)",
                      errors_of(unknown) == [(random_id, [100])] and unknown.get("error_code") == 0,
                      show_fetch(unknown, names))
        for label, step, order, reference_entry in (
                ("v16 [orders, ledger, random]", mixed16, [orders_id, ledger_id, random_id], ref16),
                ("v13 [random, ledger, orders]", mixed13, [random_id, ledger_id, orders_id], ref13)):
            expected = [(topic_id, [{orders_id: 0, ledger_id: 29, random_id: 100}[topic_id]]) for topic_id in order]
            mine = partition_of(step, orders_id)
            checks.record(f"(iii) ONE Fetch {label}: one response, request order, errors 0/29/100, orders' records "
                          "byte-identical to the mock's answer to orders alone",
                          step.get("answer_correlation_id") == step.get("correlation_id")
                          and errors_of(step) == expected
                          and same_records(mine, reference_entry) and step.get("trailing_bytes") == 0
                          and step.get("error_code") == 0,
                          f"{show_fetch(step, names)}; orders: kedge {describe_records(mine)}, mock "
                          f"{describe_records(reference_entry)}")
        checks.record("(iii) kedge_policy_split_requests_total{api=\"Fetch\"} grew by exactly the 2 mixed Fetches",
                      after["split"] - before["split"] == 2,
                      f"split {before['split']:.0f} -> {after['split']:.0f}, resource_denied refusals "
                      f"{before['refused']:.0f} -> {after['refused']:.0f}")

        # ---- d. ListGroups -------------------------------------------------------------------------------------
        committed = {}
        for group, topic in (("app-readers", "orders"), ("secret-readers", "ledger")):
            _, got, _ = raw("dc", *mock.broker_addresses[COORDINATORS[group] - 1], None,
                            [{"offset_fetch": group, "topic": topic, "partitions": list(range(PARTITIONS))}], tls=False)
            committed[group] = [(p[1], p[2]) for t in got[0].get("topics", []) for p in t["partitions"]]
        checks.record("straight at the mock (each group's coordinator, plaintext): OffsetFetch v1 returns both groups' "
                      "committed offsets (the mock implements no ListGroups)",
                      all(offsets == [(PRE // PARTITIONS, 0)] * PARTITIONS for offsets in committed.values()),
                      "; ".join(f"{group}: {offsets}" for group, offsets in committed.items()))
        at_stage = {}
        for broker in (1, 2):
            _, got, _ = raw("dc", "127.0.0.1", STAGE_BASE_PORT + broker, None, [{"list_groups": 4}], tls=False)
            at_stage[broker] = got[0].get("groups")
        checks.record("the brokers (stages, straight) list app-readers on broker 1 and secret-readers on broker 2",
                      at_stage == {1: ["app-readers"], 2: ["secret-readers"]}, f"{at_stage}")
        marks = stage_marks()
        listed = {}
        for user in ("alice", "ops"):
            lines, result = run_json_script(topo, "a", CLIENT_SCRIPT, "kp_list_groups", bootstrap(), ca, user,
                                            USERS[user])
            listed[user] = lines[0] if lines else {"error": (result.stdout + result.stderr).strip()[-400:]}
        versions_used = sorted(set(re.findall(r"ListGroups v\d+", stage_text_since(marks))))
        alice_groups = [group for group, _ in listed["alice"].get("groups", [])]
        ops_groups = [group for group, _ in listed["ops"].get("groups", [])]
        checks.record("kafka-python KafkaAdminClient.list_consumer_groups() through kedge as alice (no Describe on the "
                      "cluster, Describe on app-*): app-readers, not secret-readers",
                      "error" not in listed["alice"] and alice_groups == ["app-readers"],
                      f"{json.dumps(listed['alice'])}; the brokers answered {versions_used}")
        checks.record("... as ops (Describe on the cluster): both groups",
                      "error" not in listed["ops"] and ops_groups == ["app-readers", "secret-readers"],
                      json.dumps(listed["ops"]))
        raw_lists = {}
        for user in ("alice", "ops"):
            _, got, _ = raw("a", broker_name(2), PORT, user, [{"list_groups": 4}])
            raw_lists[user] = (got[0].get("error_code"), got[0].get("groups"))
        checks.record("raw ListGroups v4 through kedge to broker-2 (secret-readers' coordinator): alice gets an empty "
                      "list (error 0), ops gets secret-readers",
                      raw_lists == {"alice": (0, []), "ops": (0, ["secret-readers"])},
                      "; ".join(f"{user}: error {code}, groups {groups}" for user, (code, groups) in raw_lists.items()))

        # ---- f. OffsetFetch: topics the client may not Describe left out of a listing, 29 where named ------------
        audit_broker = COORDINATORS[AUDIT_GROUP]
        audit_mock = mock.broker_addresses[audit_broker - 1]   # the coordinator's own listener, not its stage
        committed_offsets = [[topic, partition, offset] for topic, offsets in AUDIT_OFFSETS.items()
                             for partition, offset in enumerate(offsets)]
        expected = {topic: [[p, offset, 0] for p, offset in enumerate(offsets)]
                    for topic, offsets in AUDIT_OFFSETS.items()}
        visible_expected = {topic: entries for topic, entries in expected.items() if topic != HIDDEN}
        every_partition = [[topic, list(range(PARTITIONS))] for topic in AUDIT_OFFSETS]
        _, straight, detail = raw("dc", *audit_mock, None, [
            {"offset_commit": 2, "group": AUDIT_GROUP, "offsets": committed_offsets},
            {"offset_fetch_v": 1, "group": AUDIT_GROUP, "topics": every_partition},
            {"offset_fetch_v": 3, "group": AUDIT_GROUP, "topics": None}], tls=False)
        commit_errors = {t["topic"]: [e for _, e in t["partitions"]] for t in straight[0].get("topics", [])}

        def offsets_by_topic(group_entry):
            return {t["topic"]: t["partitions"] for t in (group_entry or {}).get("topics") or []}

        def only_group(step):
            groups = step.get("groups") or [{}]
            return groups[0] if len(groups) == 1 else {"several": groups}

        fetched_at_mock = offsets_by_topic(only_group(straight[1]))
        checks.record(f"straight at the mock (dc, plaintext, broker {audit_broker}'s own listener): a raw OffsetCommit "
                      f"v2 of group {AUDIT_GROUP} for orders and {HIDDEN} is stored (error 0); OffsetFetch v1 naming "
                      "both returns the committed offsets",
                      commit_errors == {topic: [0] * PARTITIONS for topic in AUDIT_OFFSETS}
                      and fetched_at_mock == expected,
                      f"commit errors {commit_errors}; OffsetFetch v1 {fetched_at_mock}; (the mock itself answers "
                      f"OffsetFetch v3 with null Topics with topics={json.dumps(only_group(straight[2]).get('topics'))}"
                      f": the stages answer that, see list_groups_stage.py)" + ("" if commit_errors else f"; {detail}"))

        def kp_offsets(ns, bootstrap_address, user):
            """kafka-python list_consumer_group_offsets(AUDIT_GROUP); user None: plaintext straight at the brokers."""
            args = (ca, user, USERS[user]) if user else ("-", "-", "-")
            lines, result = run_json_script(topo, ns, CLIENT_SCRIPT, "kp_group_offsets", bootstrap_address, *args,
                                            AUDIT_GROUP)
            return lines[0] if lines else {"error": (result.stdout + result.stderr).strip()[-400:]}

        def kp_expected(topics):
            return sorted([topic, p, offset] for topic in topics for p, offset in enumerate(AUDIT_OFFSETS[topic]))

        def show_kp(got):
            if "error" in got:
                return got["error"]
            return (f"returned {got.get('returned')} (OffsetFetch v{got.get('offset_fetch_version')}, offered "
                    f"{got.get('offered_offset_fetch')})")

        marks = stage_marks()
        kp_alice = kp_offsets("a", bootstrap(), "alice")
        kp_through_stage = stage_text_since(marks)
        checks.record(f"kafka-python KafkaAdminClient.list_consumer_group_offsets({AUDIT_GROUP!r}) through kedge as "
                      f"alice (OffsetFetch, null Topics): orders' committed offsets, not {HIDDEN}'s",
                      "error" not in kp_alice and kp_alice.get("offset_fetch_version", 0) >= 2
                      and kp_alice.get("offsets") == kp_expected(["orders"]),
                      show_kp(kp_alice))
        answered_to_kedge = re.findall(r"OffsetFetch v\d+ answered: .*", kp_through_stage)
        checks.record(f"... and the broker's answer to kedge's relayed request (the stage's log) did carry {HIDDEN}: "
                      "kedge left it out",
                      any(AUDIT_GROUP in line and f"{HIDDEN} " in line for line in answered_to_kedge),
                      " | ".join(answered_to_kedge) or "no OffsetFetch answered by the stages")
        stage_bootstrap = f"127.0.0.1:{STAGE_BASE_PORT + 1}"
        kp_straight = kp_offsets("dc", stage_bootstrap, None)
        kp_ops = kp_offsets("a", bootstrap(), "ops")
        checks.record(f"controls: the same call straight at the brokers (dc, plaintext, bootstrap {stage_bootstrap}) "
                      f"and through kedge as ops (Read on every topic) list orders and {HIDDEN}",
                      "error" not in kp_straight and kp_straight.get("offsets") == kp_expected(AUDIT_OFFSETS)
                      and "error" not in kp_ops and kp_ops.get("offsets") == kp_expected(AUDIT_OFFSETS),
                      f"brokers: {show_kp(kp_straight)}; ops through kedge: {show_kp(kp_ops)}")

        null_steps = [{"offset_fetch_v": version, "group": AUDIT_GROUP, "topics": None} for version in (7, 8, 9)]
        head, answers, detail = raw("a", broker_name(audit_broker), PORT, "alice", null_steps)
        _, reference, reference_detail = raw("dc", "127.0.0.1", STAGE_BASE_PORT + audit_broker, None, null_steps,
                                             tls=False)

        def show_offset_fetch(step):
            if not step:
                return "no answer"
            if step.get("outcome") != "answered" or "parse_error" in step:
                return f"{step.get('outcome')} {step.get('parse_error', '')} after {step.get('received_bytes')} bytes"
            return "; ".join(f"{'group ' + g['group'] + ' ' if g.get('group') else ''}error {g.get('error')} topics "
                             f"{offsets_by_topic(g) if g.get('topics') is not None else None}"
                             for g in step.get("groups", []))

        def answered_as(step, version, want):
            group = only_group(step)
            return (step.get("answer_correlation_id") == step.get("correlation_id") and step.get("trailing_bytes") == 0
                    and group.get("error") == 0 and offsets_by_topic(group) == want
                    and (version < 8 or group.get("group") == AUDIT_GROUP))

        checks.record(f"control: straight at broker {audit_broker} (its stage, dc, plaintext) raw OffsetFetch v7 "
                      f"(null Topics), v8 and v9 (Groups [{AUDIT_GROUP}, null Topics]) list orders and {HIDDEN}",
                      all(answered_as(step, version, expected) for step, version in zip(reference, (7, 8, 9))),
                      " | ".join(f"v{v}: {show_offset_fetch(step)}" for step, v in zip(reference, (7, 8, 9)))
                      + ("" if reference[0] else f"; {reference_detail}"))
        checks.record(f"raw OffsetFetch through kedge as alice (broker-{audit_broker}): v7 with null Topics, v8 and v9 "
                      f"with Groups [{AUDIT_GROUP}, null Topics] list orders with its committed offsets and not "
                      f"{HIDDEN}",
                      head.get("auth_error") == 0
                      and all(answered_as(step, version, visible_expected)
                              for step, version in zip(answers, (7, 8, 9))),
                      " | ".join(f"v{v}: {show_offset_fetch(step)}" for step, v in zip(answers, (7, 8, 9)))
                      + ("" if answers[0] else f"; {head}; {detail}"))

        # Naming a topic alice may not Describe: the request goes to the broker and kedge answers that topic as Kafka
        # does (KafkaApis handleOffsetFetchRequest: UNAUTHORIZED_PARTITION on each partition asked), the other topics
        # as the broker did, in the broker's (= the request's) order.
        every = list(range(PARTITIONS))
        refused_entries = [[p, -1, 29] for p in every]   # [partition, CommittedOffset, ErrorCode]

        def named_answer(step):
            """'topic [[partition, offset, error], ...]' per topic in answer order; the hidden topic's leader epochs
            and Metadata too."""
            if not step or step.get("outcome") != "answered" or "parse_error" in step:
                return show_offset_fetch(step)
            return "; ".join(
                f"{'group ' + g['group'] + ' ' if g.get('group') else ''}error {g.get('error')}: " + (" | ".join(
                    f"{t['topic']} {t['partitions']}"
                    + (f" epochs {t['epochs']} metadata {t['metadata']}" if t["topic"] == HIDDEN else "")
                    for t in g.get("topics") or []) or "no topics")
                for g in step.get("groups", []))

        def named_as_kafka(step, version, order):
            """One group, error 0, the topics in `order`: orders with its committed offsets, the hidden one 29 on
            every partition with offset and leader epoch -1 and Metadata ''."""
            group = only_group(step)
            topics = group.get("topics") or []
            hidden = [t for t in topics if t["topic"] == HIDDEN]
            return (step.get("answer_correlation_id") == step.get("correlation_id") and step.get("trailing_bytes") == 0
                    and group.get("error") == 0 and (version < 8 or group.get("group") == AUDIT_GROUP)
                    and [(t["topic"], t["partitions"]) for t in topics]
                    == [(t, refused_entries if t == HIDDEN else visible_expected[t]) for t in order]
                    and all(t["epochs"] == [-1] * PARTITIONS and t["metadata"] == [""] * PARTITIONS for t in hidden))

        def policy_counters():
            text = metrics_text(topo, admin())
            return {"refused": metric(text, "kedge_policy_refusals_total", virtual_cluster=CLUSTER, api="OffsetFetch",
                                      reason="resource_denied"),
                    "split": metric(text, "kedge_policy_split_requests_total", virtual_cluster=CLUSTER,
                                    api="OffsetFetch"),
                    "rewritten": metric(text, "kedge_responses_rewritten_total", virtual_cluster=CLUSTER),
                    "requests": metric(text, "kedge_requests_total", virtual_cluster=CLUSTER, api="OffsetFetch")}

        def named_lines(text):
            return [line.split(": ", 1)[-1] for line in re.findall(r"OffsetFetch v\d+ answered: .*", text)
                    if "(named)" in line]

        # v7 naming only the hidden topic, on a connection of its own (so the counters move for it alone)
        hidden_step = [{"offset_fetch_v": 7, "group": AUDIT_GROUP, "topics": [[HIDDEN, every]]}]
        counted_before, marks = policy_counters(), stage_marks()
        hidden_head, hidden_answers, hidden_detail = raw("a", broker_name(audit_broker), PORT, "alice", hidden_step)
        hidden_at_broker = named_lines(stage_text_since(marks))
        counted_after = policy_counters()
        hidden_named = hidden_answers[0]
        checks.record(f"raw OffsetFetch v7 naming {HIDDEN} [0, 1, 2] through kedge as alice: it reached the broker "
                      f"(the stage answered it with {HIDDEN}'s committed offsets) and every partition comes back "
                      "TOPIC_AUTHORIZATION_FAILED (29), offset -1, leader epoch -1, Metadata ''",
                      hidden_head.get("auth_error") == 0 and named_as_kafka(hidden_named, 7, [HIDDEN])
                      and len(hidden_at_broker) == 1
                      and f"{HIDDEN} {[(p, o, 0) for p, o in enumerate(AUDIT_OFFSETS[HIDDEN])]}" in hidden_at_broker[0],
                      f"kedge answered: {named_answer(hidden_named)}; the broker (stage) answered kedge: "
                      f"{hidden_at_broker}" + ("" if hidden_named else f"; {hidden_head}; {hidden_detail}"))
        delta = {key: counted_after[key] - counted_before[key] for key in counted_before}
        checks.record("... it is no policy refusal: kedge_policy_refusals_total{api=\"OffsetFetch\","
                      "reason=\"resource_denied\"} and kedge_policy_split_requests_total{api=\"OffsetFetch\"} do not "
                      "move; kedge_responses_rewritten_total grows by 1 (kedge rewrote the broker's answer)",
                      delta["refused"] == 0 and delta["split"] == 0 and delta["rewritten"] == 1
                      and delta["requests"] == 1,
                      "; ".join(f"{name} {counted_before[key]:.0f} -> {counted_after[key]:.0f}" for key, name in (
                          ("refused", "refusals_total{api=\"OffsetFetch\",reason=\"resource_denied\"}"),
                          ("split", "split_requests_total{api=\"OffsetFetch\"}"),
                          ("rewritten", f"responses_rewritten_total{{virtual_cluster=\"{CLUSTER}\"}}"),
                          ("requests", "requests_total{api=\"OffsetFetch\"}"))))

        # orders alone, then orders and the hidden topic in one request (v7; v8 with the hidden one first; v9), then
        # a v8 request asking one group by name and one for all its topics (answered the listing way)
        orders_vault = [["orders", every], [HIDDEN, every]]
        both_named = [(7, ["orders", HIDDEN]), (8, [HIDDEN, "orders"]), (9, ["orders", HIDDEN])]
        named_steps = ([{"offset_fetch_v": 7, "group": AUDIT_GROUP, "topics": [["orders", every]]}]
                       + [{"offset_fetch_v": version, "group": AUDIT_GROUP,
                           "topics": [[topic, every] for topic in order]} for version, order in both_named]
                       + [{"offset_fetch_v": 8, "groups": [[AUDIT_GROUP, orders_vault], [AUDIT_GROUP, None]]}])
        marks = stage_marks()
        head, answers, detail = raw("a", broker_name(audit_broker), PORT, "alice", named_steps)
        named_at_broker = named_lines(stage_text_since(marks))
        _, reference, reference_detail = raw("dc", "127.0.0.1", STAGE_BASE_PORT + audit_broker, None, named_steps,
                                             tls=False)
        orders_named, mixed = answers[0], answers[len(both_named) + 1]
        checks.record(f"control: straight at broker {audit_broker} (its stage) the same OffsetFetch v7/v8/v9 naming "
                      f"orders and {HIDDEN} return both topics' committed offsets in request order",
                      all(step.get("trailing_bytes") == 0 and [(t["topic"], t["partitions"]) for t in
                                                               only_group(step).get("topics") or []]
                          == [(t, expected[t]) for t in order] for step, (_, order) in zip(reference[1:], both_named)),
                      " | ".join(f"v{v}: {named_answer(step)}" for step, (v, _) in zip(reference[1:], both_named))
                      + ("" if reference[0] else f"; {reference_detail}"))
        checks.record("raw OffsetFetch v7 naming orders through kedge as alice: its committed offsets",
                      head.get("auth_error") == 0 and answered_as(orders_named, 7, visible_expected),
                      show_offset_fetch(orders_named) + ("" if orders_named else f"; {head}; {detail}"))
        for (version, order), step in zip(both_named, answers[1:]):
            checks.record(f"raw OffsetFetch v{version} naming [{', '.join(order)}] through kedge as alice: one answer "
                          f"in request order, orders {AUDIT_OFFSETS['orders']} (error 0), {HIDDEN} 29 on every "
                          "partition with offset -1, leader epoch -1, Metadata ''",
                          named_as_kafka(step, version, order), named_answer(step))
        mixed_groups = mixed.get("groups") or []
        checks.record(f"raw OffsetFetch v8 with Groups [{AUDIT_GROUP} naming orders and {HIDDEN}, {AUDIT_GROUP} null "
                      f"Topics] through kedge as alice: answered the listing way, both groups orders only (no "
                      f"{HIDDEN})",
                      mixed.get("answer_correlation_id") == mixed.get("correlation_id")
                      and mixed.get("trailing_bytes") == 0 and len(mixed_groups) == 2
                      and all(g.get("group") == AUDIT_GROUP and g.get("error") == 0
                              and offsets_by_topic(g) == visible_expected for g in mixed_groups),
                      f"kedge: {named_answer(mixed)}; the broker (stage) answered straight: "
                      f"{named_answer(reference[len(both_named) + 1])}")
        checks.record(f"... every one of these {len(named_steps)} requests reached the broker (the stage answered "
                      f"each; those naming {HIDDEN} with its committed offsets)",
                      len(named_at_broker) == len(named_steps)
                      and sum(f"{HIDDEN} [(0, 2, 0)" in line for line in named_at_broker) == len(both_named) + 1,
                      " | ".join(named_at_broker) or "no OffsetFetch answered by the stages")

        # confluent-kafka (librdkafka) Consumer.committed() naming partition 0 of orders and of the hidden topic
        committed_partitions = json.dumps([["orders", 0], [HIDDEN, 0]])

        def ck_committed(ns, bootstrap_address, user):
            args = (ca, user, USERS[user]) if user else ("-", "-", "-")
            lines, result = run_json_script(topo, ns, CLIENT_SCRIPT, "ck_committed", bootstrap_address, *args,
                                            AUDIT_GROUP, committed_partitions)
            return lines[0] if lines else {"error": (result.stdout + result.stderr).strip()[-400:]}

        def show_ck(got):
            if "error" in got:
                return f"{got.get('client', '')} raised {got['error']}"
            return f"{got.get('client')}: committed() -> " + "; ".join(
                f"{topic} [{partition}] offset {offset}" + (f" error {error['name']} ({error['code']}): "
                                                            f"{error['str']}" if error else " no error")
                for topic, partition, offset, error in got.get("committed", []))

        marks = stage_marks()
        ck_alice = ck_committed("a", bootstrap(), "alice")
        ck_versions = sorted(set(re.findall(r"first OffsetFetch v\d+", stage_text_since(marks))))
        ck_straight = ck_committed("dc", stage_bootstrap, None)
        alice_committed = {topic: (offset, error) for topic, _, offset, error in ck_alice.get("committed", [])}
        checks.record(f"control: confluent-kafka Consumer(group {AUDIT_GROUP}).committed([orders [0], {HIDDEN} [0]]) "
                      f"straight at the brokers (dc, plaintext, bootstrap {stage_bootstrap}): orders 3, {HIDDEN} 2",
                      "error" not in ck_straight
                      and ck_straight.get("committed") == [["orders", 0, AUDIT_OFFSETS["orders"][0], None],
                                                           [HIDDEN, 0, AUDIT_OFFSETS[HIDDEN][0], None]],
                      show_ck(ck_straight))
        checks.record(f"confluent-kafka Consumer(group {AUDIT_GROUP}).committed([orders [0], {HIDDEN} [0]]) through "
                      f"kedge as alice: orders 3 (no error), {HIDDEN} TOPIC_AUTHORIZATION_FAILED",
                      "error" not in ck_alice and sorted(alice_committed) == sorted(["orders", HIDDEN])
                      and alice_committed["orders"] == (AUDIT_OFFSETS["orders"][0], None)
                      and (alice_committed[HIDDEN][1] or {}).get("name") == "TOPIC_AUTHORIZATION_FAILED"
                      and (alice_committed[HIDDEN][1] or {}).get("code") == 29 and alice_committed[HIDDEN][0] < 0,
                      f"{show_ck(ck_alice)}; OffsetFetch at the broker: {ck_versions}")

        # ---- c. kedge restarted under a running consumer -----------------------------------------------------------
        # Whether the reconnecting consumer's first Fetch by id reaches the new kedge before a Metadata response has
        # taught it the ids is timing: librdkafka refreshes Metadata itself when its brokers go down ("broker down",
        # "refresh unavailable topics"), and with its default reconnect.backoff.max.ms (10 s) its broker connections
        # mostly come back after the bootstrap connection carried that refresh, so it rarely sees UNKNOWN_TOPIC_ID at
        # all (2 of 8 runs while this test was written). Here the consumer reconnects fast (reconnect.backoff.max.ms
        # 200) and from the restart on the stages hold each Metadata response METADATA_HOLD_MS (a broker slow to
        # answer Metadata): its Fetches by id reach the new kedge first, and it has to take UNKNOWN_TOPIC_ID, refresh
        # its Metadata through kedge and resume.
        producer = popen_in(topo, "dc", client_argv(RDK, "produce", "--bootstrap", mock.bootstrap, "--topic", "stream",
                                                    "--count", STREAM_COUNT, "--prefix", "st", "--rate", STREAM_RATE,
                                                    "--timeout-ms", "60000"))

        def stamp(line):
            """The time.time() of a librdkafka debug line (`%7|SECONDS.MILLIS|...`), or 0."""
            match = re.match(r"%\d\|(\d+\.\d+)\|", line)
            return float(match.group(1)) if match else 0.0

        # The consumer's log goes to a file, so the restart can wait until it has received records.
        consumer_log_path = topo.log_path("client-stream-consume")
        with open(consumer_log_path, "w") as consumer_log:
            consumer = subprocess.Popen(topo.netns_argv("a", client_argv(
                RDK, "consume", "--bootstrap", bootstrap(), "--topic", "stream", "--group", "app-stream", "--expect",
                STREAM_COUNT, "--prefix", "st", "--timeout-ms", "60000", *auth("alice"),
                "-X", "debug=fetch,topic,metadata", "-X", "reconnect.backoff.max.ms=200")),
                stdout=subprocess.PIPE, stderr=consumer_log, stdin=subprocess.DEVNULL, text=True)

        def consumer_text():
            with open(consumer_log_path, errors="replace") as log:
                return log.read()

        def fetch_offsets(text, since=0.0, until=float("inf")):
            """Per partition, the highest offset the consumer's debug=fetch log says it fetched from, in a period."""
            offsets = {}
            for line in text.splitlines():
                match = re.search(r"Fetch topic stream \[(\d+)\] at offset (\d+)", line)
                if match and since <= stamp(line) < until:
                    offsets[int(match.group(1))] = max(offsets.get(int(match.group(1)), 0), int(match.group(2)))
            return offsets

        begun = time.time()
        reading = wait_for(lambda: sum(fetch_offsets(consumer_text()).values()) > 0, 30)
        reading_at = time.time()
        time.sleep(max(0.0, begun + RESTART_AT - time.time()))
        with open(metadata_hold, "w") as hold:
            hold.write(str(METADATA_HOLD_MS))
        stop_wall = time.time()
        exits.append(generations[-1].stop(grace_seconds=10))
        stopped_wall = time.time()
        time.sleep(DOWN_SECONDS)
        generations.append(topo.start_process("dc", [kedge_binary, "run", "--config", config_path],
                                              topo.log_path("kedge-restart-1"), ready_port=PORT))
        restart_wall = time.time()
        print(f"    restart: consumer reading {'at' if reading else 'NOT by'} t={reading_at - begun:.1f}s; "
              f"SIGTERM at t={stop_wall - begun:.1f}s, exited after {stopped_wall - stop_wall:.2f}s (status "
              f"{exits[-1]}), the new kedge listening at t={restart_wall - begun:.1f}s", flush=True)
        produced = finish(topo, producer, "stream-produce", timeout=90)
        try:
            consumer_out, _ = consumer.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer_out, _ = consumer.communicate()
        consumed = (consumer.returncode, consumer_out, consumer_text())
        os.remove(metadata_hold)
        new_kedge = counters()
        pfields, cfields = summary_fields(produced[1], "produce"), summary_fields(consumed[1], "consume")
        checks.record(f"the paced producer (straight at the mock) delivered all {STREAM_COUNT} stream records",
                      produced[0] == 0 and pfields.get("delivered") == str(STREAM_COUNT),
                      produced[1].strip() or produced[2].strip()[-300:])
        log_lines = consumed[2].splitlines()
        fetched_before = fetch_offsets(consumed[2], until=stop_wall)
        checks.record(f"the consumer (alice, through kedge) was reading before the restart and read every one of the "
                      f"{STREAM_COUNT} records exactly once across it, then committed",
                      consumed[0] == 0 and sum(fetched_before.values()) > 0
                      and cfields.get("unique") == str(STREAM_COUNT)
                      and cfields.get("duplicates") == "0" and cfields.get("bad") == "0"
                      and cfields.get("commit") == "ok",
                      f"{consumed[1].strip()}; fetch offsets before the restart {dict(sorted(fetched_before.items()))}"
                      + ("" if consumed[0] == 0 else "; printed " + " | ".join(
                          line for line in log_lines if line.startswith("kclient:"))[-1200:]))
        # librdkafka (debug=fetch): "stream [P]: Fetch failed at offset O (leader epoch 1): UNKNOWN_TOPIC_ID"
        failures = []
        for line in log_lines:
            match = re.search(r"FETCHERR.*stream \[(\d+)\]: Fetch failed at offset (\d+).*: UNKNOWN_TOPIC_ID", line)
            if match and stamp(line) >= stop_wall:
                failures.append((int(match.group(1)), int(match.group(2)), stamp(line)))
        first_failure = min((when for _, _, when in failures), default=float("inf"))
        refreshes = [line for line in log_lines if "Received metadata" in line and stamp(line) > first_failure]
        last_failure = {partition: (offset, when) for partition, offset, when in sorted(failures, key=lambda f: f[2])}
        resumed = {}  # partition -> the highest offset fetched after its last failure, when past the failed one
        for partition, (offset, when) in last_failure.items():
            later = fetch_offsets(consumed[2], since=when).get(partition, -1)
            resumed[partition] = later if later > offset else None
        checks.record("after the restart the new kedge answered the consumer's Fetches by id with UNKNOWN_TOPIC_ID; "
                      "librdkafka then received Metadata through kedge and fetched on past the failed offset",
                      bool(failures) and bool(refreshes) and None not in resumed.values()
                      and new_kedge["unknown"] > 0 and new_kedge["refused"] == 0,
                      f"{len(failures)} partition Fetch failures (partition, offset): "
                      f"{sorted({(p, o) for p, o, _ in failures})}, the new kedge counted {new_kedge['unknown']:.0f} "
                      f"Fetches answered UNKNOWN_TOPIC_ID (reason unknown_topic_id) and {new_kedge['refused']:.0f} "
                      f"resource_denied refusals; {len(refreshes)} Metadata responses after the first, e.g. "
                      f"{refreshes[0].split(']: ', 1)[-1][:120] if refreshes else '-'}; fetched on to offsets "
                      f"{dict(sorted(resumed.items()))}")
        client_errors = collections.Counter(re.sub(r" \(after \d+ms.*", "", line.strip())
                                            for line in log_lines
                                            if line.startswith(("kclient: client error", "kclient: consume error")))
        print("    librdkafka printed (kclient's error callback): " + "; ".join(
            f"{text} (x{times})" for text, times in sorted(client_errors.items())), flush=True)
        shown = []
        for line in log_lines:
            if re.search(r"UNKNOWN_TOPIC_ID|nknown topic id", line, re.IGNORECASE) and len(shown) < 6:
                shown.append(re.sub(r"^%\d\|\d+\.\d+\|", "%", line.strip()))
        for line in shown:
            print(f"    librdkafka: {line[:240]}", flush=True)

        # ... and deterministically: a restarted kedge knows no id until a Metadata through it names it.
        exits.append(generations[-1].stop(grace_seconds=10))
        generations.append(topo.start_process("dc", [kedge_binary, "run", "--config", config_path],
                                              topo.log_path("kedge-restart-2"), ready_port=PORT))
        steps = [{"fetch": 16, "topics": [[orders_id, [0]]]}, {"metadata": 12},
                 {"fetch": 16, "topics": [[orders_id, [0]]]}]
        head, answers, detail = raw("a", broker_name(1), PORT, "alice", steps)
        first, meta, again = answers[:3]
        checks.record("after another restart (no client running) a raw Fetch v16 by orders' id gets UNKNOWN_TOPIC_ID "
                      "(100): the new kedge's id book is empty",
                      head.get("auth_error") == 0 and errors_of(first) == [(orders_id, [100])],
                      show_fetch(first, names) + ("" if first else f"; {detail}"))
        mine = partition_of(again, orders_id)
        checks.record("... after a Metadata v12 on the same connection the same Fetch returns the mock's records "
                      "byte for byte",
                      {t["topic"]: t["id"] for t in meta.get("topics", [])} == alice_ids
                      and errors_of(again) == [(orders_id, [0])] and same_records(mine, ref16),
                      f"{show_fetch(again, names)}; kedge {describe_records(mine)}; mock {describe_records(ref16)}")

        # ---- e. kedge ----------------------------------------------------------------------------------------------
        checks.record("every stopped kedge exited 0 on SIGTERM", exits == [0] * len(exits), f"{exits}")
        checks.record("the last kedge still runs", generations[-1].alive())
        errors = [line for process in generations for line in kedge_errors(process.log_text())]
        checks.record("no kedge process logged errors", not errors, "; ".join(errors[:3]))
        print_kedge_warnings([process.log_text() for process in generations])
        print(f"    {time.monotonic() - started:.1f}s", flush=True)
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
