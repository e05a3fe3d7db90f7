#!/usr/bin/python3
"""Share groups (KIP-932), DescribeProducers and refusals that name the kind of resource refused, on a virtual cluster
with ACLs (issue 18, docs/policy.md "ACLs"). kedge reads ShareGroupHeartbeat v1, ShareFetch v1-2, ShareAcknowledge v1-2
and DescribeProducers v0: a refused share group refuses the whole request (GROUP_AUTHORIZATION_FAILED, 30), refused
topics are answered topic by topic (TOPIC_AUTHORIZATION_FAILED, 29; UNKNOWN_TOPIC_ID, 100, for an id kedge has not
seen), and a group request whose group is allowed but whose topic is not gets 29 rather than 30 (OffsetCommit,
ShareGroupHeartbeat). Real clients and raw requests over real TLS through the real kedge.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock with "orders", "ledger" and "secret", 3 partitions each; orders gets
                  30 records straight at the mock. The mock implements none of the share APIs nor DescribeProducers, so
                  what is checked for them is what kedge answers itself. kedge on :9092, virtual cluster acme
                  (bootstrap-acme.<domain>), terminating SASL PLAIN (alice), an audit log, and
                    "acls": [
                      {"allow": ["Read"], "topics": ["orders"], "principals": ["alice"]},
                      {"allow": ["Describe"], "topics": ["ledger"], "principals": ["alice"]},
                      {"allow": ["Read"], "groups": ["share-*", "app-*"], "principals": ["alice"]}]
                  alice may Read orders, only Describe ledger, nothing on secret; groups share-* and app-* only.
    <prefix>-a    raw Kafka requests over TLS (python ssl, SASL PLAIN as alice; tests/integration/scenario_support.py
                  RAW_KAFKA) and python3-confluent-kafka (librdkafka 2.0.2)

Checks (one PASS/FAIL line each, quoting the decoded answers and what the clients printed, then `N passed, M failed`):
  0. setup: the mock's own Metadata v12 (plaintext, dc) gives the three topic ids; its ApiVersions offers none of
     DescribeProducers (61), ShareGroupHeartbeat (76), ShareFetch (78), ShareAcknowledge (79).
  6. ApiVersions v0 and v2 through kedge offer none of 61/76/78/79 either (with ACLs kedge caps each API it reads by
     the broker's answer, gateway/connection.cpp local_apis: Mode::cap), and still offer OffsetCommit.
  On ONE raw connection as alice to broker-1 (a Metadata v12 first, so kedge has seen the ids, ledger's and secret's
  included, though alice's answer leaves secret out):
  1. ShareGroupHeartbeat v1, group rogue-share (no rule): ErrorCode 30, ErrorMessage "Group authorization failed.
     ..."; group share-readers (Read) subscribing to orders and secret (no Describe): ErrorCode 29, "Topic authorization
     failed. ...", MemberId null, Assignment null.
  2. ShareFetch v1 and v2, group rogue-share: top-level 30 with the message, no Responses; group share-readers,
     topics ledger (Describe, no Read: partition 0 with an acknowledgement batch, partition 1 without) and secret
     (partition 0): top-level 0, every partition 29 with the message, AcknowledgeErrorCode 29 (and its message) only
     on ledger's partition 0, 0 (message null) on the others, CurrentLeader -1/-1, no records, none acquired, no
     NodeEndpoints; a random id: 100; [ledger, random] in one request: 29 then 100, in request order; ApiVersions on
     the connection next is answered.
  3. ShareAcknowledge v1 and v2, group rogue-share: top-level 30; share-readers with ledger and secret: top-level 0,
     every partition 29 with the message.
  4. DescribeProducers v0 for ledger [0, 2] and secret [1] (no Read on either): every partition 29 with the message,
     no active producers; the connection is still usable (ApiVersions answered last).
  5. confluent-kafka Consumer (alice, group app-committers) commit(offsets=[TopicPartition("ledger", 0, 5)],
     asynchronous=False) fails with TOPIC_AUTHORIZATION_FAILED (its text quoted; the group is allowed, the topic is
     not); the same consumer's commit of orders 0 at 5 succeeds and committed() reads 5 back through kedge; straight
     at the mock (dc) the group holds orders 0 at 5 and nothing for ledger.
  7. /metrics: kedge_policy_refusals_total{reason="resource_denied"} grew by exactly the refusals sent (2
     ShareGroupHeartbeat, 5 ShareFetch, 4 ShareAcknowledge, 1 DescribeProducers), {reason="unknown_topic_id"} by 1
     ShareFetch, OffsetCommit's resource_denied by at least 1; nothing split; the audit log has denied lines naming the
     group rogue-share (ShareGroupHeartbeat, ShareFetch, ShareAcknowledge), the topic secret (ShareGroupHeartbeat,
     DescribeProducers), ledger with its id (ShareFetch) and ledger with group app-committers (OffsetCommit); kedge
     still runs and logged no errors.
They run in the order setup, 6, 1-4 (one connection), 5, 7.

Usage: test_gateway_acl_share.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scenario_support import (RAW_KAFKA, AclKedge, kedge_errors, metric, metric_lines, raw_session,  # noqa: E402
                              run_json_script, run_scenario, scenario_topology, summary_exit_code)
from test_topology_smoke import Checks, client_argv, summary_fields  # noqa: E402

PORT = 9092
CLUSTER = "acme"
PARTITIONS = 3
TOPICS = {"orders": PARTITIONS, "ledger": PARTITIONS, "secret": PARTITIONS}
PRE = 30  # records written straight to the mock in orders
USERS = {"alice": "pw-alice-3e8f51"}
RDK = "kclient_rdk212"
TIMEOUT_MS = "20000"
ACLS = [
    {"allow": ["Read"], "topics": ["orders"], "principals": ["alice"]},
    {"allow": ["Describe"], "topics": ["ledger"], "principals": ["alice"]},
    {"allow": ["Read"], "groups": ["share-*", "app-*"], "principals": ["alice"]},
]
SHARE_KEYS = {61: "DescribeProducers", 76: "ShareGroupHeartbeat", 78: "ShareFetch", 79: "ShareAcknowledge"}
DENIED_GROUP, SHARE_GROUP, COMMIT_GROUP = "rogue-share", "share-readers", "app-committers"
GROUP_TEXT, TOPIC_TEXT = "Group authorization failed.", "Topic authorization failed."

# RAW_KAFKA (scenario_support.py) plus the requests of this test, and confluent-kafka commits:
#   session HOST PORT CA SNI USER PASSWORD STEPS_JSON   (RAW_KAFKA) with these steps besides api_versions/metadata:
#     {"share_group_heartbeat": 1, "group": G, "topics": [T, ...]}
#     {"share_fetch": 1|2, "group": G, "topics": [[TOPIC_ID_HEX, [[PARTITION, [[FIRST, LAST, [TYPE, ...]], ...]], ...]],
#      ...]}   (each partition with its acknowledgement batches, [] for none)
#     {"share_acknowledge": 1|2, "group": G, "topics": (as share_fetch)}
#     {"describe_producers": 0, "topics": [[NAME, [PARTITION, ...]], ...]}
#   ck_commit BOOTSTRAP CA USER PASSWORD GROUP DENIED_TOPIC ALLOWED_TOPIC OFFSET
#       python3-confluent-kafka Consumer (SASL_SSL PLAIN, group GROUP, no subscription): commit(offsets=[DENIED_TOPIC 0
#       at OFFSET]), then commit(offsets=[ALLOWED_TOPIC 0 at OFFSET]), both asynchronous=False, then committed() of
#       both; one JSON line.
#   ck_committed BOOTSTRAP GROUP TOPIC,TOPIC   (plaintext, straight at the mock) committed() of partition 0 of each
CLIENT_SCRIPT = RAW_KAFKA + r'''
import uuid

def ack_batch(batch):
    first, last, types = batch
    return struct.pack(">qq", first, last) + compact_array(types, lambda t: struct.pack(">b", t)) + b"\0"

def share_topics(topics):
    def partition(entry):
        index, batches = entry
        return struct.pack(">i", index) + compact_array(batches, ack_batch) + b"\0"
    return compact_array(topics, lambda t: bytes.fromhex(t[0]) + compact_array(t[1], partition) + b"\0")

MEMBER = str(uuid.uuid4())

def share_group_heartbeat_body(step):
    # ShareGroupHeartbeatRequest v1: GroupId, MemberId, MemberEpoch, RackId (null), SubscribedTopicNames
    return (compact_string(step["group"]) + compact_string(MEMBER) + struct.pack(">i", 0) + compact_string(None)
            + compact_array(step["topics"], compact_string) + b"\0")

def share_group_heartbeat_parse(r, step):
    out = {"throttle_ms": r.take(">i"), "error_code": r.take(">h"), "error_message": r.compact_string(),
           "member_id": r.compact_string(), "member_epoch": r.take(">i"), "heartbeat_interval_ms": r.take(">i")}
    present = r.take(">b")  # Assignment: a nullable struct, -1 = null
    out["assignment"] = None if present < 0 else "present"
    if present >= 0:
        r.compact_array(lambda r: (r.uuid(), r.compact_array(lambda r: r.take(">i")), r.tags()))
        r.tags()
    r.tags()
    return out

def share_fetch_body(step):
    version = step["share_fetch"]
    # GroupId, MemberId, ShareSessionEpoch, MaxWaitMs, MinBytes, MaxBytes, MaxRecords, BatchSize (v1+),
    # ShareAcquireMode (v2+), Topics, ForgottenTopicsData
    body = compact_string(step["group"]) + compact_string(MEMBER) + struct.pack(">iiiiii", 0, 500, 1, 1048576, 500, 500)
    if version >= 2:
        body += struct.pack(">b", 0)
    return body + share_topics(step["topics"]) + compact_array([], None) + b"\0"

def leader(r):
    leader_id, epoch = r.take(">ii")
    r.tags()
    return [leader_id, epoch]

def node_endpoint(r):
    node = r.take(">i"); host = r.compact_string(); port = r.take(">i"); r.compact_string(); r.tags()
    return [node, f"{host}:{port}"]

def share_fetch_parse(r, step):
    out = {"throttle_ms": r.take(">i"), "error_code": r.take(">h"), "error_message": r.compact_string(),
           "lock_timeout_ms": r.take(">i")}
    def partition(r):
        entry = {"partition": r.take(">i"), "error": r.take(">h"), "message": r.compact_string(),
                 "ack_error": r.take(">h"), "ack_message": r.compact_string(), "leader": leader(r)}
        records = r.compact_bytes()
        entry["records"] = None if records is None else len(records)
        entry["acquired"] = len(r.compact_array(lambda r: (r.take(">qqh"), r.tags())) or [])
        r.tags()
        return entry
    def topic(r):
        entry = {"id": r.uuid(), "partitions": r.compact_array(partition)}
        r.tags()
        return entry
    out["topics"] = r.compact_array(topic)
    out["node_endpoints"] = r.compact_array(node_endpoint)
    r.tags()
    return out

def share_acknowledge_body(step):
    # GroupId, MemberId, ShareSessionEpoch, IsRenewAck (v2+), Topics
    body = compact_string(step["group"]) + compact_string(MEMBER) + struct.pack(">i", 1)
    if step["share_acknowledge"] >= 2:
        body += b"\0"
    return body + share_topics(step["topics"]) + b"\0"

def share_acknowledge_parse(r, step):
    out = {"throttle_ms": r.take(">i"), "error_code": r.take(">h"), "error_message": r.compact_string()}
    if step["share_acknowledge"] >= 2:
        out["lock_timeout_ms"] = r.take(">i")
    def partition(r):
        entry = {"partition": r.take(">i"), "error": r.take(">h"), "message": r.compact_string(), "leader": leader(r)}
        r.tags()
        return entry
    def topic(r):
        entry = {"id": r.uuid(), "partitions": r.compact_array(partition)}
        r.tags()
        return entry
    out["topics"] = r.compact_array(topic)
    out["node_endpoints"] = r.compact_array(node_endpoint)
    r.tags()
    return out

def describe_producers_body(step):
    topic = lambda t: compact_string(t[0]) + compact_array(t[1], lambda p: struct.pack(">i", p)) + b"\0"
    return compact_array(step["topics"], topic) + b"\0"

def describe_producers_parse(r, step):
    out = {"throttle_ms": r.take(">i")}
    def partition(r):
        entry = {"partition": r.take(">i"), "error": r.take(">h"), "message": r.compact_string()}
        entry["producers"] = len(r.compact_array(lambda r: (r.take(">qiiqiq"), r.tags())) or [])
        r.tags()
        return entry
    def topic(r):
        entry = {"topic": r.compact_string(), "partitions": r.compact_array(partition)}
        r.tags()
        return entry
    out["topics"] = r.compact_array(topic)
    r.tags()
    return out

always = lambda version: True
HANDLERS.update({
    "share_group_heartbeat": (76, always, share_group_heartbeat_body, share_group_heartbeat_parse),
    "share_fetch": (78, always, share_fetch_body, share_fetch_parse),
    "share_acknowledge": (79, always, share_acknowledge_body, share_acknowledge_parse),
    "describe_producers": (61, always, describe_producers_body, describe_producers_parse),
})

def ck_error(error):
    return {"code": error.code(), "name": error.name(), "str": str(error)}

def ck_commit(bootstrap, ca, user, password, group, denied, allowed, offset):
    import confluent_kafka
    from confluent_kafka import TopicPartition
    out = {"op": "ck_commit", "client": f"confluent-kafka {confluent_kafka.version()[0]}, librdkafka "
                                         f"{confluent_kafka.libversion()[0]}"}
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
        "security.protocol": "SASL_SSL", "ssl.ca.location": ca, "ssl.endpoint.identification.algorithm": "https",
        "sasl.mechanisms": "PLAIN", "sasl.username": user, "sasl.password": password})
    for label, topic in (("denied", denied), ("allowed", allowed)):
        try:
            result = consumer.commit(offsets=[TopicPartition(topic, 0, int(offset))], asynchronous=False)
            out[label] = {"raised": None, "partitions": [[tp.topic, tp.partition, tp.offset,
                                                          ck_error(tp.error) if tp.error else None] for tp in result]}
        except confluent_kafka.KafkaException as error:
            out[label] = {"raised": ck_error(error.args[0]), "exception": repr(error)}
    try:
        back = consumer.committed([TopicPartition(denied, 0), TopicPartition(allowed, 0)], timeout=15)
        out["committed"] = [[tp.topic, tp.partition, tp.offset, ck_error(tp.error) if tp.error else None]
                            for tp in back]
    except confluent_kafka.KafkaException as error:
        out["committed_error"] = ck_error(error.args[0])
    consumer.close()
    print(json.dumps(out), flush=True)

def ck_committed(bootstrap, group, topics):
    import confluent_kafka
    from confluent_kafka import TopicPartition
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                         "enable.auto.commit": False})
    back = consumer.committed([TopicPartition(topic, 0) for topic in topics.split(",")], timeout=15)
    print(json.dumps({"op": "ck_committed", "committed": [[tp.topic, tp.partition, tp.offset] for tp in back]}),
          flush=True)
    consumer.close()

{"session": session, "ck_commit": ck_commit, "ck_committed": ck_committed}[sys.argv[1]](*sys.argv[2:])
'''


def partitions_of(step):
    """[(topic id or name, [partition entry, ...])] in response order."""
    return [(t.get("id") or t.get("topic"), t.get("partitions") or []) for t in step.get("topics") or []]


def answered(step):
    return (step.get("outcome") == "answered" and step.get("answer_correlation_id") == step.get("correlation_id")
            and "parse_error" not in step and step.get("trailing_bytes") == 0)


def show(step, names, keys=("error", "ack_error")):
    """A decoded answer as a line: top-level fields, then each topic's partitions (error codes; first message)."""
    if not step:
        return "no answer"
    if step.get("outcome") != "answered":
        return f"{step.get('outcome')} after {step.get('received_bytes')} bytes"
    head = {k: step[k] for k in ("error_code", "error_message", "lock_timeout_ms", "member_id", "member_epoch",
                                 "assignment", "parse_error", "trailing_bytes") if k in step}
    parts = []
    for topic, partitions in partitions_of(step):
        parts.append(f"{names.get(topic, topic)}: " + ", ".join(
            f"p{p['partition']} " + "/".join(f"{k} {p.get(k)}" for k in keys if k in p) for p in partitions))
    messages = sorted({p.get("message") for _, partitions in partitions_of(step) for p in partitions
                       if p.get("message")})
    extra = f"; NodeEndpoints {step['node_endpoints']}" if "node_endpoints" in step else ""
    return (json.dumps(head) + (" | " + " | ".join(parts) if parts else "") + extra
            + (f"; ErrorMessage {json.dumps(messages[0])}" if messages else ""))


def topic_message_ok(message, api, topic):
    """A per-topic refusal's ErrorMessage: Kafka's text, the API and the topic kedge refused (by name)."""
    return bool(message) and message.startswith(TOPIC_TEXT) and api in message and topic in message


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    started = time.monotonic()
    with scenario_topology() as topo:
        mock = topo.start_mock_cluster("rdk212", brokers=3, topics=TOPICS)
        for topic in TOPICS:
            for partition in range(PARTITIONS):
                mock.command_ok(f"leader {topic} {partition} {partition + 1}")
        gateway = AclKedge(topo, kedge_binary, mock.bootstrap, USERS, ACLS, cluster=CLUSTER, port=PORT)
        kedge, ca = gateway.process, gateway.ca
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock rdk212 {mock.bootstrap}; acls {json.dumps(ACLS)}",
              flush=True)

        def at_mock(steps):
            """Steps straight at mock broker 1 (plaintext, in dc)."""
            return raw_session(topo, "dc", CLIENT_SCRIPT, *mock.broker_addresses[0], None, None, None, None, steps)

        # ---- setup: records in orders, the mock's ids and ApiVersions -------------------------------------------
        direct = topo.run_in("dc", client_argv(RDK, "produce", "--bootstrap", mock.bootstrap, "--topic", "orders",
                                               "--count", PRE, "--prefix", "pre", "--timeout-ms", TIMEOUT_MS),
                             timeout=60)
        _, answers, detail = at_mock([{"metadata": 12}, {"api_versions": 2}])
        mock_meta, mock_versions = answers[0], answers[1].get("versions", {})
        ids = {t["topic"]: t["id"] for t in mock_meta.get("topics", [])}
        names = {topic_id: topic for topic, topic_id in ids.items()}
        random_id = uuid.uuid4().hex
        while random_id in names:
            random_id = uuid.uuid4().hex
        names[random_id] = "random"
        mock_share = {key: mock_versions.get(str(key)) for key in SHARE_KEYS}
        checks.record(f"setup: {PRE} records in orders straight at the mock; the mock's Metadata v12 gives the ids of "
                      "orders, ledger and secret; its ApiVersions v2 offers none of DescribeProducers (61), "
                      "ShareGroupHeartbeat (76), ShareFetch (78), ShareAcknowledge (79)",
                      direct.returncode == 0
                      and summary_fields(direct.stdout, "produce").get("delivered") == str(PRE)
                      and set(ids) == set(TOPICS) and all(int(i, 16) != 0 for i in ids.values())
                      and bool(mock_versions) and all(v is None for v in mock_share.values()),
                      f"ids {ids} (Metadata v12: {mock_meta.get('trailing_bytes')} bytes after the body); the mock's "
                      f"ApiVersions: {len(mock_versions)} keys, "
                      + ", ".join(f"{key} {'absent' if v is None else v}" for key, v in mock_share.items())
                      + ("" if ids and mock_versions else f"; {detail}"))
        ledger_id, secret_id = ids.get("ledger", "0" * 32), ids.get("secret", "0" * 32)

        # ---- 6. ApiVersions through kedge ------------------------------------------------------------------------
        bootstrap_host = gateway.bootstrap().split(":")[0]
        _, offered_answers, detail = gateway.raw("a", CLIENT_SCRIPT, bootstrap_host, None,
                                                 [{"api_versions": 0}, {"api_versions": 2}])
        for answer in offered_answers[:2]:
            version = answer.get("step", {}).get("api_versions")
            offered = answer.get("versions", {})
            checks.record(f"ApiVersions v{version} through kedge offers none of 61/76/78/79 (the mock offers none; "
                          "kedge caps the APIs it reads by the broker's answer) and still OffsetCommit",
                          answered(answer) and answer.get("error_code") == 0 and "8" in offered
                          and all(str(key) not in offered for key in SHARE_KEYS),
                          (f"{len(offered)} keys; " + ", ".join(
                              f"{key} {SHARE_KEYS[key]}: {offered.get(str(key), 'absent')}" for key in SHARE_KEYS)
                           + f"; OffsetCommit {offered.get('8')} (the mock: {mock_versions.get('8')})")
                          if answer else detail)

        # ---- 1.-4. raw share requests and DescribeProducers, one connection as alice ---------------------------------
        text = gateway.metrics()
        apis = ("ShareGroupHeartbeat", "ShareFetch", "ShareAcknowledge", "DescribeProducers")

        def counted(text):
            return {api: (gateway.refusals(api, text=text), gateway.refusals(api, "unknown_topic_id", text=text),
                          metric(text, "kedge_policy_split_requests_total", virtual_cluster=CLUSTER, api=api))
                    for api in apis}
        before = counted(text)
        acks = [[0, 4, [1]]]  # one acknowledgement batch: offsets 0-4 accepted
        refused_topics = [[ledger_id, [[0, acks], [1, []]]], [secret_id, [[0, []]]]]
        steps = [
            {"metadata": 12},                                                                          # 0
            {"share_group_heartbeat": 1, "group": DENIED_GROUP, "topics": ["orders"]},                # 1
            {"share_group_heartbeat": 1, "group": SHARE_GROUP, "topics": ["orders", "secret"]},       # 2
            {"share_fetch": 1, "group": DENIED_GROUP, "topics": [[ids.get("orders", ledger_id), [[0, acks]]]]},  # 3
            {"share_fetch": 2, "group": DENIED_GROUP, "topics": [[ids.get("orders", ledger_id), [[0, []]]]]},    # 4
            {"share_fetch": 1, "group": SHARE_GROUP, "topics": refused_topics},                       # 5
            {"share_fetch": 2, "group": SHARE_GROUP, "topics": refused_topics},                       # 6
            {"share_fetch": 1, "group": SHARE_GROUP, "topics": [[random_id, [[0, []]]]]},             # 7
            {"share_fetch": 1, "group": SHARE_GROUP, "topics": [[ledger_id, [[0, []]]], [random_id, [[0, []]]]]},  # 8
            {"api_versions": 0},                                                                       # 9
            {"share_acknowledge": 1, "group": DENIED_GROUP, "topics": [[ledger_id, [[0, acks]]]]},    # 10
            {"share_acknowledge": 2, "group": DENIED_GROUP, "topics": [[ledger_id, [[0, acks]]]]},    # 11
            {"share_acknowledge": 1, "group": SHARE_GROUP,
             "topics": [[ledger_id, [[0, acks], [2, acks]]], [secret_id, [[1, acks]]]]},              # 12
            {"share_acknowledge": 2, "group": SHARE_GROUP, "topics": [[ledger_id, [[0, acks]]]]},     # 13
            {"describe_producers": 0, "topics": [["ledger", [0, 2]], ["secret", [1]]]},               # 14
            {"api_versions": 0},                                                                       # 15
        ]
        head, answers, detail = gateway.raw("a", CLIENT_SCRIPT, gateway.broker_name(1), "alice", steps)
        after = counted(gateway.metrics())
        meta = answers[0]
        seen = {t["topic"]: t["id"] for t in meta.get("topics", [])}
        # The 2.12 mock ends its Metadata v12 response with one byte after the top-level tag buffer (kedge passes it
        # on): the same trailing bytes as the mock's own answer are expected.
        same_tail = meta.get("trailing_bytes") == mock_meta.get("trailing_bytes")
        meta_ok = dict(meta, trailing_bytes=0) if same_tail else meta
        checks.record("raw over TLS (alice, broker-1): Metadata v12 through kedge lists orders and ledger with the "
                      "mock's ids, not secret (no Describe)",
                      head.get("auth_error") == 0 and answered(meta_ok)
                      and seen == {"orders": ids.get("orders"), "ledger": ledger_id},
                      f"{seen}; SASL PLAIN error {head.get('auth_error')}; "
                      + (f"{meta.get('trailing_bytes')} byte(s) after the body, as in the mock's answer"
                         if answered(meta_ok)
                         else f"answer {json.dumps({k: v for k, v in meta.items() if k != 'topics'})} (the mock's: "
                              f"{mock_meta.get('trailing_bytes')} bytes after the body); {detail}"))

        # 1. ShareGroupHeartbeat
        denied_hb, topic_hb = answers[1], answers[2]
        checks.record(f"ShareGroupHeartbeat v1, group {DENIED_GROUP} (no rule): ErrorCode 30 "
                      "(GROUP_AUTHORIZATION_FAILED) with the ErrorMessage, MemberId null, Assignment null",
                      answered(denied_hb) and denied_hb.get("error_code") == 30
                      and (denied_hb.get("error_message") or "").startswith(GROUP_TEXT)
                      and DENIED_GROUP in denied_hb["error_message"]
                      and denied_hb.get("member_id") is None and denied_hb.get("assignment") is None,
                      show(denied_hb, names))
        checks.record(f"ShareGroupHeartbeat v1, group {SHARE_GROUP} (Read) subscribing to orders and secret (no "
                      "Describe): ErrorCode 29 (TOPIC_AUTHORIZATION_FAILED), not 30, with the ErrorMessage",
                      answered(topic_hb) and topic_hb.get("error_code") == 29
                      and topic_message_ok(topic_hb.get("error_message"), "ShareGroupHeartbeat", "secret")
                      and topic_hb.get("member_id") is None and topic_hb.get("assignment") is None,
                      show(topic_hb, names))

        # 2. ShareFetch
        for index, version in ((3, 1), (4, 2)):
            step = answers[index]
            checks.record(f"ShareFetch v{version}, group {DENIED_GROUP}: top-level ErrorCode 30 with the ErrorMessage, "
                          "no Responses, no NodeEndpoints",
                          answered(step) and step.get("error_code") == 30
                          and (step.get("error_message") or "").startswith(GROUP_TEXT)
                          and DENIED_GROUP in step["error_message"]
                          and step.get("topics") == [] and step.get("node_endpoints") == [],
                          show(step, names))
        for index, version in ((5, 1), (6, 2)):
            step = answers[index]
            entries = partitions_of(step)
            flat = [(names.get(topic, topic), p) for topic, partitions in entries for p in partitions]
            shape = [(topic, p["partition"], p["error"], p["ack_error"]) for topic, p in flat]
            messages_ok = all(topic_message_ok(p.get("message"), "ShareFetch", topic) for topic, p in flat)
            ack_messages_ok = all((p.get("ack_message") == p.get("message")) if p["ack_error"] else
                                  p.get("ack_message") is None for _, p in flat)
            empty_ok = all(p["leader"] == [-1, -1] and p["records"] == 0 and p["acquired"] == 0 for _, p in flat)
            checks.record(f"ShareFetch v{version}, group {SHARE_GROUP}, ledger (Describe only: p0 with an "
                          "acknowledgement batch, p1 without) and secret (p0): top-level 0, every partition 29 with "
                          "the message, AcknowledgeErrorCode 29 only on ledger p0 (0 on the others), no records",
                          answered(step) and step.get("error_code") == 0 and step.get("error_message") is None
                          and shape == [("ledger", 0, 29, 29), ("ledger", 1, 29, 0), ("secret", 0, 29, 0)]
                          and messages_ok and ack_messages_ok and empty_ok and step.get("node_endpoints") == [],
                          show(step, names) + (f"; ledger p0 AcknowledgeErrorMessage "
                                               f"{json.dumps(flat[0][1].get('ack_message'))}" if flat else ""))
        unknown, mixed, probe = answers[7], answers[8], answers[9]
        unknown_parts = partitions_of(unknown)
        checks.record(f"ShareFetch v1, group {SHARE_GROUP}, a random id kedge has never seen ({random_id}): "
                      "ErrorCode 100 (UNKNOWN_TOPIC_ID)",
                      answered(unknown) and unknown.get("error_code") == 0
                      and [(t, [p["error"] for p in ps]) for t, ps in unknown_parts] == [(random_id, [100])],
                      show(unknown, names) + (f"; ErrorMessage {json.dumps(unknown_parts[0][1][0].get('message'))}"
                                              if unknown_parts and unknown_parts[0][1] else ""))
        checks.record("ShareFetch v1 [ledger, random] in one request: 29 then 100, in request order",
                      answered(mixed) and mixed.get("error_code") == 0
                      and [(t, [p["error"] for p in ps]) for t, ps in partitions_of(mixed)]
                      == [(ledger_id, [29]), (random_id, [100])],
                      show(mixed, names))
        checks.record("... and the connection stays usable: ApiVersions v0 sent on it next is answered",
                      answered(probe) and probe.get("error_code") == 0 and bool(probe.get("versions")),
                      f"error {probe.get('error_code')}, {len(probe.get('versions') or {})} keys" if probe
                      else f"no answer; {detail}")

        # 3. ShareAcknowledge
        for index, version in ((10, 1), (11, 2)):
            step = answers[index]
            checks.record(f"ShareAcknowledge v{version}, group {DENIED_GROUP}: top-level ErrorCode 30 with the "
                          "ErrorMessage, no Responses",
                          answered(step) and step.get("error_code") == 30
                          and (step.get("error_message") or "").startswith(GROUP_TEXT)
                          and step.get("topics") == [] and step.get("node_endpoints") == []
                          and (version < 2 or step.get("lock_timeout_ms") == 0),
                          show(step, names))
        for index, version, expected in ((12, 1, [("ledger", 0, 29), ("ledger", 2, 29), ("secret", 1, 29)]),
                                         (13, 2, [("ledger", 0, 29)])):
            step = answers[index]
            flat = [(names.get(topic, topic), p) for topic, partitions in partitions_of(step) for p in partitions]
            checks.record(f"ShareAcknowledge v{version}, group {SHARE_GROUP}, "
                          + " and ".join(sorted({t for t, _, _ in expected})) + ": top-level 0, every partition 29 "
                          "with the message",
                          answered(step) and step.get("error_code") == 0 and step.get("error_message") is None
                          and [(t, p["partition"], p["error"]) for t, p in flat] == expected
                          and all(topic_message_ok(p.get("message"), "ShareAcknowledge", t) for t, p in flat)
                          and all(p["leader"] == [-1, -1] for _, p in flat) and step.get("node_endpoints") == [],
                          show(step, names, keys=("error",)))

        # 4. DescribeProducers
        producers, last = answers[14], answers[15]
        flat = [(topic, p) for topic, partitions in partitions_of(producers) for p in partitions]
        checks.record("DescribeProducers v0 for ledger [0, 2] and secret [1] (no Read on either): every partition 29 "
                      "with the message, no active producers",
                      answered(producers)
                      and [(t, p["partition"], p["error"]) for t, p in flat]
                      == [("ledger", 0, 29), ("ledger", 2, 29), ("secret", 1, 29)]
                      and all(topic_message_ok(p.get("message"), "DescribeProducers", t) for t, p in flat)
                      and all(p["producers"] == 0 for _, p in flat),
                      show(producers, names, keys=("error",)))
        checks.record("... and the connection is still usable after all of them: ApiVersions v0 answered",
                      answered(last) and last.get("error_code") == 0 and bool(last.get("versions")),
                      f"error {last.get('error_code')}, {len(last.get('versions') or {})} keys" if last
                      else f"no answer; {detail}")

        # ---- 5. confluent-kafka commits: an allowed group, a topic alice may not Read ------------------------------
        commits_before = gateway.refusals("OffsetCommit")
        lines, result = run_json_script(topo, "a", CLIENT_SCRIPT, "ck_commit", gateway.bootstrap(), ca, "alice",
                                        USERS["alice"], COMMIT_GROUP, "ledger", "orders", 5)
        outcome = lines[0] if lines else {}
        denied, allowed = outcome.get("denied", {}), outcome.get("allowed", {})
        raised = denied.get("raised") or {}
        failed_partition = next((p[3] for p in denied.get("partitions") or [] if p[3]), None) or {}
        error = raised or failed_partition
        checks.record(f"confluent-kafka commit(offsets=[TopicPartition(\"ledger\", 0, 5)], asynchronous=False), group "
                      f"{COMMIT_GROUP} (allowed), ledger (no Read): TOPIC_AUTHORIZATION_FAILED",
                      error.get("code") == 29 and error.get("name") == "TOPIC_AUTHORIZATION_FAILED"
                      and "Topic authorization failed" in (error.get("str") or ""),
                      (f"{outcome.get('client')}: {denied.get('exception') or json.dumps(denied)}" if outcome
                       else (result.stdout + result.stderr).strip()[-500:]))
        committed = {p[0]: p[2] for p in outcome.get("committed") or []}
        checks.record("... the same consumer's commit of orders 0 at 5 succeeds and committed() reads 5 back through "
                      "kedge (ledger: none)",
                      allowed.get("raised") is None
                      and [p[:3] + [p[3]] for p in allowed.get("partitions") or []] == [["orders", 0, 5, None]]
                      and committed.get("orders") == 5 and committed.get("ledger", 0) < 0,
                      f"commit {json.dumps(allowed)}; committed() "
                      f"{outcome.get('committed') or outcome.get('committed_error')}")
        lines, result = run_json_script(topo, "dc", CLIENT_SCRIPT, "ck_committed", mock.bootstrap, COMMIT_GROUP,
                                        "ledger,orders")
        at_broker = {p[0]: p[2] for p in (lines[0] if lines else {}).get("committed", [])}
        checks.record(f"straight at the mock (dc): group {COMMIT_GROUP} holds orders 0 at 5 and nothing for ledger",
                      at_broker.get("orders") == 5 and at_broker.get("ledger", 0) < 0,
                      json.dumps(lines[0]) if lines else (result.stdout + result.stderr).strip()[-400:])

        # ---- 7. metrics, audit log, kedge ------------------------------------------------------------------------
        text = gateway.metrics()
        expected = {"ShareGroupHeartbeat": (2, 0), "ShareFetch": (5, 1), "ShareAcknowledge": (4, 0),
                    "DescribeProducers": (1, 0)}
        grown = {api: tuple(after[api][i] - before[api][i] for i in range(3)) for api in apis}
        commits_after = gateway.refusals("OffsetCommit", text=text)
        checks.record("/metrics: kedge_policy_refusals_total{reason=\"resource_denied\"} grew by exactly the refusals "
                      "sent (ShareGroupHeartbeat 2, ShareFetch 5, ShareAcknowledge 4, DescribeProducers 1), "
                      "{reason=\"unknown_topic_id\"} by ShareFetch 1, nothing split; OffsetCommit resource_denied >= 1",
                      all(grown[api] == (denied_n, unknown_n, 0) for api, (denied_n, unknown_n) in expected.items())
                      and commits_after - commits_before >= 1,
                      "; ".join(f"{api} +{g[0]:.0f} denied, +{g[1]:.0f} unknown id, +{g[2]:.0f} split"
                                for api, g in grown.items())
                      + f"; OffsetCommit {commits_before:.0f} -> {commits_after:.0f}; " + " | ".join(
                          line for line in metric_lines(text, "kedge_policy_refusals_total")
                          if any(f'api="{api}"' in line for api in (*apis, "OffsetCommit"))))
        lines = gateway.audit_lines()
        denied_lines = [a for a in lines if a.get("outcome") == "denied" and a.get("virtual_cluster") == CLUSTER]

        def find(api, *resources):
            return [a for a in denied_lines if a.get("api") == api and a.get("principal") == "alice"
                    and a.get("reason") == "resource_denied"
                    and all(any(all(r.get(k) == v for k, v in want.items()) for r in a.get("resources", []))
                            for want in resources)]
        wanted = {
            "ShareGroupHeartbeat group rogue-share": find("ShareGroupHeartbeat",
                                                          {"type": "group", "name": DENIED_GROUP}),
            "ShareGroupHeartbeat topic secret": find("ShareGroupHeartbeat", {"type": "group", "name": SHARE_GROUP},
                                                     {"type": "topic", "name": "secret"}),
            "ShareFetch group rogue-share": find("ShareFetch", {"type": "group", "name": DENIED_GROUP}),
            "ShareFetch topic ledger (with its id)": find("ShareFetch", {"type": "topic", "name": "ledger",
                                                                         "topic_id": ledger_id}),
            "ShareAcknowledge group rogue-share": find("ShareAcknowledge", {"type": "group", "name": DENIED_GROUP}),
            "DescribeProducers topic secret": find("DescribeProducers", {"type": "topic", "name": "secret"}),
            "OffsetCommit group app-committers, topic ledger": find("OffsetCommit",
                                                                    {"type": "group", "name": COMMIT_GROUP},
                                                                    {"type": "topic", "name": "ledger"}),
        }
        checks.record("audit log: denied lines (principal alice, resource_denied) naming the group / topic: "
                      + ", ".join(wanted), all(wanted.values()),
                      f"{len(lines)} lines, {len(denied_lines)} denied; " + " | ".join(
                          (json.dumps({k: found[0].get(k) for k in ("api", "api_version", "resources")})
                           if found else f"no {name} line") for name, found in wanted.items()))
        checks.record("kedge still running", kedge.alive())
        errors = kedge_errors(kedge.log_text())
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
        print(f"    {time.monotonic() - started:.1f}s", flush=True)
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
