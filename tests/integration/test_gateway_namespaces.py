#!/usr/bin/python3
"""Namespaces (issue 20, docs/namespaces.md): two tenants on one backend, each seeing only its own names.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock with one topic outside every namespace ("plain"), a
                  list_groups_stage.py (TEST FIXTURE) in front of each broker (the 2.12 mock implements no
                  ListGroups; the stage answers it with the groups it saw join or commit), and kedge on
                  :9092 with two virtual clusters on that backend, same listener, same time:
                    team-a  (bootstrap-team-a.<domain>)  "namespace": {"prefix": "team-a."}
                    team-b  (bootstrap-team-b.<domain>)  "namespace": {"prefix": "team-b."}
    <prefix>-a    the clients: kclient_rdk212 (librdkafka 2.12), python3-confluent-kafka (librdkafka 2.0.2),
                  kafka-python, kcat

Checks (one PASS/FAIL line each, quoting what the clients printed, then `N passed, M failed`):
  1. each tenant produces to "orders" with librdkafka 2.12 (the mock creates the topic on the producer's
     Metadata, as a broker with auto-creation does): every record delivered;
  2. each tenant consumes "orders" in a group named "app" (kclient_rdk212): exactly its own records, none of the
     other tenant's (foreign=0), offsets committed;
  3. the backend, read straight from the brokers (confluent-kafka, not through kedge): topics team-a.orders and
     team-b.orders; groups team-a.app and team-b.app; each group's committed offsets sum to its tenant's count;
  3b. `kedge check --json` lists, per namespace, the backend topics it covers (team-a: [team-a.orders], team-b:
     [team-b.orders]); the text output names each one with the name clients see;
  4. each tenant's view through kedge: Metadata lists "orders" only (not "plain", not the other tenant's;
     confluent-kafka), ListGroups "app" only and the offsets of everything "app" committed name "orders" only
     (kafka-python), the committed offsets of "app" on "orders" sum to its own count (confluent-kafka);
  5. team-a asks by name for "team-b.orders": the topic does not exist (UNKNOWN_TOPIC_OR_PART);
  5b. raw requests over TLS to team-a's broker 1: Metadata v12 lists "orders" with the backend id of team-a.orders;
     a Fetch v13 naming team-a.orders' id and team-b.orders' id (read straight from the brokers) reads the first and
     gets UNKNOWN_TOPIC_ID (100) for the other: a topic id outside the namespace is not served (control: the same
     Fetch straight at the broker serves it);
  6. kcat (librdkafka 2.0.2) through team-b: -L lists "orders" only; -C reads team-b's records only;
  7. a transactional producer (confluent-kafka) commits through team-a (FindCoordinator, InitProducerId,
     AddPartitionsToTxn, EndTxn renamed), and a read_committed consumer of team-a reads the committed records;
  7b. a third virtual cluster, team-v, has a visible namespace ("team-v.", "visible": true): its clients produce to
     and consume "team-v.orders" in group "team-v.app" (kclient_rdk212); its Metadata, ListGroups and committed
     offsets show only those prefixed names; "orders" and "team-a.orders" by name get TOPIC_AUTHORIZATION_FAILED
     (the prefixes confine its ACLs); kedge check shows it as visible, clients seeing the backend names;
  8. kedge still running, no errors in its log.

Usage: test_gateway_namespaces.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import start_kedge_in_topology  # noqa: E402
from scenario_support import (RAW_KAFKA, client_lines, kedge_errors, raw_session, run_json_script,  # noqa: E402
                              run_scenario, scenario_topology, ssl_args, summary_exit_code)
from test_topology_smoke import Checks, client_argv, summary_fields  # noqa: E402
from topology import tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
TOPIC = "orders"
GROUP = "app"
COUNTS = {"team-a": 40, "team-b": 30}
VISIBLE = "team-v"  # a visible namespace: clients use "team-v.orders" and only names with that prefix
VISIBLE_COUNT = 20
CLIENT = "kclient_rdk212"
STAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "list_groups_stage.py")
STAGE_BASE_PORT = 29200  # below Linux's ephemeral range, so never taken by a mock broker's listener
TIMEOUT_MS = "20000"

# Runs with /usr/bin/python3 (python3-confluent-kafka) in a namespace; prints one JSON object.
#   view BOOTSTRAP CA|- GROUP TOPIC       topics (confluent-kafka Metadata), groups (kafka-python ListGroups), the
#                                         topics and offsets of everything GROUP committed (kafka-python OffsetFetch,
#                                         null Topics), committed offsets of GROUP on TOPIC (confluent-kafka, by name)
#   lookup BOOTSTRAP CA TOPIC             Metadata for TOPIC by name: its error name, or "none"
#   txn BOOTSTRAP CA TOPIC TXID COUNT     a transactional producer: init, begin, COUNT records, commit
#   read BOOTSTRAP CA TOPIC GROUP EXPECT  a read_committed consumer: the keys it reads
CLIENT_SCRIPT = r"""
import json, sys, time
import confluent_kafka
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

def config(bootstrap, ca, **extra):
    settings = {"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000}
    if ca != "-":
        settings.update({"security.protocol": "SSL", "ssl.ca.location": ca,
                         "ssl.endpoint.identification.algorithm": "https"})
    settings.update(extra)
    return settings

def view(bootstrap, ca, group, topic):
    import kafka  # kafka-python: ListGroups and OffsetFetch for all of a group's topics (null Topics)
    admin = AdminClient(config(bootstrap, ca))
    metadata = admin.list_topics(timeout=15)
    security = {"security_protocol": "SSL", "ssl_cafile": ca, "ssl_check_hostname": True} if ca != "-" else {}
    python_admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="kedge-namespaces",
                                          request_timeout_ms=15000, api_version_auto_timeout_ms=10000, **security)
    groups = sorted(g[0] for g in python_admin.list_consumer_groups())
    all_offsets = python_admin.list_consumer_group_offsets(group)
    python_admin.close()
    out = {"topics": sorted(metadata.topics), "groups": groups, "committed": None,
           "group_offsets": sorted({tp.topic for tp in all_offsets}),
           "group_offsets_sum": sum(max(o.offset, 0) for o in all_offsets.values())}
    if topic in metadata.topics:
        consumer = Consumer(config(bootstrap, ca, **{"group.id": group, "enable.auto.commit": False}))
        partitions = [TopicPartition(topic, p) for p in metadata.topics[topic].partitions]
        committed = consumer.committed(partitions, timeout=15)
        out["committed"] = sum(max(tp.offset, 0) for tp in committed)
        consumer.close()
    print(json.dumps(out))

def lookup(bootstrap, ca, topic):
    producer = Producer(config(bootstrap, ca, **{"allow.auto.create.topics": False}))
    metadata = producer.list_topics(topic=topic, timeout=15)
    found = metadata.topics.get(topic)
    print(json.dumps({"topic": topic, "listed": sorted(metadata.topics),
                      "error": found.error.name() if found is not None and found.error else "none"}))

def txn(bootstrap, ca, topic, txid, count):
    producer = Producer(config(bootstrap, ca, **{"transactional.id": txid}))
    try:
        producer.init_transactions(30)
        producer.begin_transaction()
        for i in range(int(count)):
            key = f"tx-{i}"
            producer.produce(topic, key=key, value=key)
        producer.commit_transaction(30)
        print(json.dumps({"ok": True, "count": int(count)}))
    except confluent_kafka.KafkaException as error:
        print(json.dumps({"ok": False, "error": str(error)}))

def read(bootstrap, ca, topic, group, expect):
    consumer = Consumer(config(bootstrap, ca, **{"group.id": group, "auto.offset.reset": "earliest",
                                                 "isolation.level": "read_committed"}))
    consumer.subscribe([topic])
    keys, deadline = [], time.monotonic() + 30
    while len(keys) < int(expect) and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is None or message.error():
            continue
        keys.append(message.key().decode())
    time.sleep(2)  # anything beyond what was expected would arrive now
    while True:
        message = consumer.poll(0.5)
        if message is None:
            break
        if not message.error():
            keys.append(message.key().decode())
    consumer.close()
    print(json.dumps({"keys": keys}))

mode, args = sys.argv[1], sys.argv[2:]
{"view": view, "lookup": lookup, "txn": txn, "read": read}[mode](*args)
"""


# Raw requests (scenario_support.RAW_KAFKA) plus a Fetch v13 by topic id: {"fetch": 13, "topics": [[ID_HEX, [P]]]}
# -> per topic id its partitions' error codes and record bytes.
RAW_SCRIPT = RAW_KAFKA + r"""
def fetch_body(step):
    body = struct.pack(">iiiibii", -1, 500, 1, 1048576, 0, 0, -1)  # ReplicaId .. SessionId, SessionEpoch
    body += uvarint(len(step["topics"]) + 1)
    for topic_id, partitions in step["topics"]:
        body += bytes.fromhex(topic_id) + uvarint(len(partitions) + 1)
        for partition in partitions:
            body += struct.pack(">iiqiqi", partition, -1, 0, -1, -1, 1048576) + b"\0"
        body += b"\0"
    return body + uvarint(1) + compact_string("") + b"\0"

def fetch_parse(r, step):
    r.take(">i")  # ThrottleTimeMs
    error, _session = r.take(">hi")
    topics = []
    for _ in range(r.uvarint() - 1):
        topic_id = r.uuid()
        partitions = []
        for _ in range(r.uvarint() - 1):
            partition, perror, _high, _lso, _start = r.take(">ihqqq")
            for _ in range(max(r.uvarint() - 1, 0)):
                r.take(">qq"); r.tags()
            r.take(">i")
            size = r.uvarint() - 1
            r.raw(max(size, 0))
            r.tags()
            partitions.append({"partition": partition, "error": perror, "record_bytes": max(size, 0)})
        r.tags()
        topics.append({"id": topic_id, "partitions": partitions})
    r.tags()
    return {"error": error, "topics": topics}

HANDLERS["fetch"] = (1, lambda version: True, fetch_body, fetch_parse)
{"session": session}[sys.argv[1]](*sys.argv[2:])
"""


def bootstrap(cluster):
    return f"bootstrap-{cluster}.{DOMAIN}:{PORT}"


def script(topo, ns, *args):
    lines, result = run_json_script(topo, ns, CLIENT_SCRIPT, *args, timeout=120)
    return (lines[0] if lines else {}), (result.stdout + result.stderr).strip()[-600:]


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    with scenario_topology() as topo:
        mock = topo.start_mock_cluster("rdk212", brokers=3, topics={"plain": 2})
        # The 2.12 mock implements no ListGroups: a list_groups_stage.py (TEST FIXTURE) in front of each broker
        # answers it with the groups whose JoinGroup/OffsetCommit it relayed; the mock advertises the stages.
        stages = []
        for broker, (host, port) in enumerate(mock.broker_addresses, start=1):
            listen = STAGE_BASE_PORT + broker
            topo.start_process("dc", ["/usr/bin/python3", STAGE, "--listen", f"127.0.0.1:{listen}", "--upstream",
                                      f"{host}:{port}", "--name", f"broker-{broker}"],
                               topo.log_path(f"list-groups-stage-{broker}"), ready_port=listen)
            mock.command_ok(f"hostport {broker} 127.0.0.1 {listen}")
            stages.append(f"127.0.0.1:{listen}")
        backend = ",".join(stages)
        options = {tenant: {"namespace": {"prefix": f"{tenant}."}} for tenant in COUNTS}
        options[VISIBLE] = {"namespace": {"prefix": f"{VISIBLE}.", "visible": True}}
        kedge, certs, config_path = start_kedge_in_topology(
            topo, kedge_binary, [(tenant, "shared_suffix", backend) for tenant in options], DOMAIN, PORT,
            cluster_options=options)
        ca = certs["ca"]
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock rdk212 {mock.bootstrap}; "
              f"namespaces {', '.join(f'{t} -> {t}.' for t in COUNTS)}", flush=True)

        # ---- 1./2. each tenant produces and consumes "orders" in group "app" -------------------------------------
        for tenant, count in COUNTS.items():
            result = topo.run_in("a", client_argv(
                CLIENT, "produce", "--bootstrap", bootstrap(tenant), "--topic", TOPIC, "--count", count,
                "--prefix", tenant, "--timeout-ms", TIMEOUT_MS, *ssl_args(ca)), timeout=90)
            fields = summary_fields(result.stdout, "produce")
            checks.record(f"{tenant}: {CLIENT} produces {count} records to \"{TOPIC}\"",
                          result.returncode == 0 and fields.get("delivered") == str(count),
                          result.stdout.strip() or client_lines(result.stderr))
        for tenant, count in COUNTS.items():
            result = topo.run_in("a", client_argv(
                CLIENT, "consume", "--bootstrap", bootstrap(tenant), "--topic", TOPIC, "--group", GROUP,
                "--expect", count, "--prefix", tenant, "--timeout-ms", "30000", *ssl_args(ca)), timeout=90)
            fields = summary_fields(result.stdout, "consume")
            checks.record(f"{tenant}: {CLIENT} consumes exactly its {count} records in group \"{GROUP}\", none of "
                          "the other tenant's, and commits",
                          result.returncode == 0 and fields.get("ok") == "1" and fields.get("foreign") == "0"
                          and fields.get("commit") == "ok",
                          result.stdout.strip() or client_lines(result.stderr))

        # ---- 3. the backend holds both tenants' names, prefixed ---------------------------------------------------
        for tenant, count in COUNTS.items():
            view, detail = script(topo, "dc", "view", backend, "-", f"{tenant}.{GROUP}", f"{tenant}.{TOPIC}")
            checks.record(f"backend (straight at the brokers): topic {tenant}.{TOPIC}, group {tenant}.{GROUP} with "
                          f"{count} committed",
                          f"{tenant}.{TOPIC}" in view.get("topics", []) and f"{tenant}.{GROUP}" in view.get("groups", [])
                          and view.get("committed") == count and view.get("group_offsets") == [f"{tenant}.{TOPIC}"],
                          view or detail)

        # ---- 3b. kedge check shows what each namespace covers on the backend -------------------------------------
        result = topo.run_in("dc", [kedge_binary, "check", "--config", config_path, "--json"], timeout=60)
        try:
            covered = {entry["virtual_cluster"]: entry["backend_topics"]
                       for entry in json.loads(result.stdout).get("namespaces", [])}
        except ValueError:
            covered = {}
        text = topo.run_in("dc", [kedge_binary, "check", "--config", config_path], timeout=60).stdout
        lines = [line.strip() for line in text.splitlines() if "clients see" in line]
        checks.record("kedge check: team-a covers [team-a.orders], team-b [team-b.orders] (\"plain\" in neither); the "
                      "text names what clients see",
                      covered == {"team-a": ["team-a.orders"], "team-b": ["team-b.orders"], VISIBLE: []}
                      and "team-a.orders (clients see orders)" in lines,
                      f"{covered}; {lines}; {result.stderr.strip()[-200:]}")

        # ---- 4. each tenant sees only its own, without the prefix -------------------------------------------------
        for tenant, count in COUNTS.items():
            view, detail = script(topo, "a", "view", bootstrap(tenant), ca, GROUP, TOPIC)
            checks.record(f"{tenant} through kedge: topics {[TOPIC]}, groups {[GROUP]}, {count} committed (by name and "
                          "in the group's listing)",
                          view.get("topics") == [TOPIC] and view.get("groups") == [GROUP]
                          and view.get("committed") == count and view.get("group_offsets") == [TOPIC]
                          and view.get("group_offsets_sum") == count, view or detail)

        # ---- 5. the other tenant's backend name does not exist ----------------------------------------------------
        answer, detail = script(topo, "a", "lookup", bootstrap("team-a"), ca, "team-b.orders")
        checks.record("team-a asks for \"team-b.orders\" by name: the topic does not exist",
                      answer.get("error") == "UNKNOWN_TOPIC_OR_PART", answer or detail)

        # ---- 5b. a topic id outside the namespace is unknown -------------------------------------------------------
        _, backend_meta, detail = raw_session(topo, "dc", RAW_SCRIPT, "127.0.0.1", STAGE_BASE_PORT + 1, None, "-", None,
                                              None, [{"metadata": 12}])
        ids = {t["topic"]: t["id"] for t in backend_meta[0].get("topics", [])}
        host = f"broker-1-team-a.{DOMAIN}"
        _, answers, detail = raw_session(topo, "a", RAW_SCRIPT, host, PORT, ca, host, None, None,
                                         [{"metadata": 12},
                                          {"fetch": 13, "topics": [[ids.get("team-a.orders", "00" * 16), [0]],
                                                                   [ids.get("team-b.orders", "00" * 16), [0]]]}])
        # Control: straight at broker 1 (its stage, plaintext) the same id is served.
        _, direct, _ = raw_session(topo, "dc", RAW_SCRIPT, "127.0.0.1", STAGE_BASE_PORT + 1, None, "-", None, None,
                                   [{"fetch": 13, "topics": [[ids.get("team-b.orders", "00" * 16), [0]]]}])
        direct_errors = [p["error"] for t in direct[0].get("topics", []) for p in t["partitions"]]
        seen = {t["topic"]: t["id"] for t in answers[0].get("topics", [])}
        by_id = {t["id"]: [p["error"] for p in t["partitions"]] for t in answers[1].get("topics", [])}
        checks.record("team-a: raw Metadata v12 shows orders with the backend's id of team-a.orders; a raw Fetch v13 by "
                      "id reads team-a.orders and gets UNKNOWN_TOPIC_ID (100) for team-b.orders' id",
                      seen == {"orders": ids.get("team-a.orders")} and ids.get("team-b.orders") is not None
                      and by_id.get(ids.get("team-a.orders")) in ([0], [6]) and by_id.get(ids.get("team-b.orders")) == [100]
                      and direct_errors in ([0], [6]),
                      f"backend ids {ids}; team-a sees {seen}; fetch {answers[1] or detail}; straight at the broker "
                      f"team-b.orders' id -> {direct_errors}")

        # ---- 6. kcat through team-b -------------------------------------------------------------------------------
        kcat = tool_path("kcat") or "/usr/bin/kcat"
        listing = topo.run_in("a", [kcat, "-L", "-b", bootstrap("team-b"), *ssl_args(ca)], timeout=60)
        listed = [line.split('"')[1] for line in listing.stdout.splitlines() if line.strip().startswith("topic \"")]
        checks.record("team-b: kcat -L lists only \"orders\"", listing.returncode == 0 and listed == [TOPIC],
                      listed or listing.stderr.strip()[-300:])
        read = topo.run_in("a", [kcat, "-C", "-b", bootstrap("team-b"), "-t", TOPIC, "-o", "beginning", "-e",
                                 "-f", "%k\\n", *ssl_args(ca)], timeout=60)
        keys = [line for line in read.stdout.splitlines() if line]
        checks.record(f"team-b: kcat -C reads its {COUNTS['team-b']} records, none of team-a's",
                      len(keys) == COUNTS["team-b"] and all(key.startswith("team-b") for key in keys),
                      f"{len(keys)} keys, foreign {[k for k in keys if not k.startswith('team-b')][:3]}; "
                      f"{read.stderr.strip()[-200:]}")

        # ---- 7. a transactional producer through team-a -----------------------------------------------------------
        outcome, detail = script(topo, "a", "txn", bootstrap("team-a"), ca, TOPIC, "billing", 12)
        checks.record("team-a: a confluent-kafka transactional producer (transactional.id \"billing\") commits 12 "
                      "records", outcome.get("ok") is True, outcome or detail)
        answer, detail = script(topo, "a", "read", bootstrap("team-a"), ca, TOPIC, "audit", COUNTS["team-a"] + 12)
        keys = answer.get("keys", [])
        checks.record(f"team-a: a read_committed consumer reads {COUNTS['team-a']} + 12 records, all team-a's",
                      len(keys) == COUNTS["team-a"] + 12
                      and all(k.startswith("team-a") or k.startswith("tx-") for k in keys)
                      and sum(k.startswith("tx-") for k in keys) == 12,
                      f"{len(keys)} keys; {answer or detail}")

        # ---- 7b. a visible namespace: the prefixed names, and only those ---------------------------------------------
        own_topic, own_group = f"{VISIBLE}.{TOPIC}", f"{VISIBLE}.{GROUP}"
        result = topo.run_in("a", client_argv(
            CLIENT, "produce", "--bootstrap", bootstrap(VISIBLE), "--topic", own_topic, "--count", VISIBLE_COUNT,
            "--prefix", VISIBLE, "--timeout-ms", TIMEOUT_MS, *ssl_args(ca)), timeout=90)
        fields = summary_fields(result.stdout, "produce")
        checks.record(f"{VISIBLE} (visible): {CLIENT} produces {VISIBLE_COUNT} records to \"{own_topic}\"",
                      result.returncode == 0 and fields.get("delivered") == str(VISIBLE_COUNT),
                      result.stdout.strip() or client_lines(result.stderr))
        result = topo.run_in("a", client_argv(
            CLIENT, "consume", "--bootstrap", bootstrap(VISIBLE), "--topic", own_topic, "--group", own_group,
            "--expect", VISIBLE_COUNT, "--prefix", VISIBLE, "--timeout-ms", "30000", *ssl_args(ca)), timeout=90)
        fields = summary_fields(result.stdout, "consume")
        checks.record(f"{VISIBLE} (visible): {CLIENT} consumes exactly its {VISIBLE_COUNT} records in group "
                      f"\"{own_group}\" and commits",
                      result.returncode == 0 and fields.get("ok") == "1" and fields.get("foreign") == "0"
                      and fields.get("commit") == "ok", result.stdout.strip() or client_lines(result.stderr))
        view, detail = script(topo, "a", "view", bootstrap(VISIBLE), ca, own_group, own_topic)
        checks.record(f"{VISIBLE} (visible) through kedge: topics {[own_topic]}, groups {[own_group]}, "
                      f"{VISIBLE_COUNT} committed (by name and in the group's listing)",
                      view.get("topics") == [own_topic] and view.get("groups") == [own_group]
                      and view.get("committed") == VISIBLE_COUNT and view.get("group_offsets") == [own_topic],
                      view or detail)
        refused = {}
        for name in (TOPIC, "team-a.orders"):
            answer, detail = script(topo, "a", "lookup", bootstrap(VISIBLE), ca, name)
            refused[name] = answer.get("error") or detail
        checks.record(f"{VISIBLE} (visible): \"{TOPIC}\" and \"team-a.orders\" by name get TOPIC_AUTHORIZATION_FAILED",
                      set(refused.values()) == {"TOPIC_AUTHORIZATION_FAILED"}, refused)
        result = topo.run_in("dc", [kedge_binary, "check", "--config", config_path, "--json"], timeout=60)
        try:
            entry = next(e for e in json.loads(result.stdout).get("namespaces", []) if e["virtual_cluster"] == VISIBLE)
        except (ValueError, StopIteration):
            entry = {}
        text = topo.run_in("dc", [kedge_binary, "check", "--config", config_path], timeout=60).stdout
        checks.record(f"kedge check: {VISIBLE} is visible and covers [{own_topic}], which clients see as it is",
                      entry.get("visible") is True and entry.get("backend_topics") == [own_topic]
                      and f"{own_topic} (clients see {own_topic})" in text,
                      f"{entry}; {[line.strip() for line in text.splitlines() if VISIBLE in line]}")

        # ---- 8. kedge healthy -------------------------------------------------------------------------------------
        checks.record("kedge still running", kedge.alive())
        errors = kedge_errors(kedge.log_text())
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
