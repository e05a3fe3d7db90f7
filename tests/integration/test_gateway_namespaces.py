#!/usr/bin/python3
"""Namespaces (issue 20, docs/namespaces.md): tenants on one backend, each seeing only its own names.

    <prefix>-dc   a 3-broker librdkafka mock, 2.12 (default) or 2.0.2 (argument rdk20: old, non-flexible protocol
                  versions, Metadata v0-2), with one topic outside every namespace ("plain") and team-c.orders and
                  team-c.secret (3 partitions each; team-c.secret holds 10 records written straight to it). With
                  the 2.12 mock, a list_groups_stage.py (TEST FIXTURE) in front of each broker, which the mock
                  advertises (hostport): it answers ListGroups with the groups it saw join or commit and OffsetFetch
                  with null Topics (the mock implements neither), and with --create-topics --controller-id 1 offers
                  CreateTopics v2-4 and creates the topics on the mock (the mock implements no CreateTopics and names
                  controller 0). The 2.0.2 mock cannot advertise another address, so kedge talks to it directly.
                  kedge on :9092 with three virtual clusters on that backend, same listener, same time:
                    team-a  (bootstrap-team-a.<domain>)  "namespace": {"prefix": "team-a."}
                    team-b  (bootstrap-team-b.<domain>)  "namespace": {"prefix": "team-b."}
                    team-c  (bootstrap-team-c.<domain>)  "namespace": {"prefix": "team-c."} and "policy": {"acls": [
                              {"allow": ["Read", "Write"], "topics": ["orders"]}, {"allow": ["Read"], "groups": ["app"]}]}
                  (the ACLs name what team-c's clients use; nothing names team-c.* or "secret"), and an audit log.
    <prefix>-a/b  the clients: kclient_rdk212 (librdkafka 2.12), python3-confluent-kafka (librdkafka 2.0.2),
                  kafka-python, kcat

Checks (one PASS/FAIL line each, quoting what the clients printed, then `N passed, M failed`; with the 2.0.2 mock
a SKIP line says which part it cannot run and why):
  1. each tenant produces to "orders" with librdkafka 2.12 (the mock creates the topic on the producer's
     Metadata, as a broker with auto-creation does): every record delivered;
  2. each tenant consumes "orders" in a group named "app" (kclient_rdk212): exactly its own records, none of the
     other tenant's (foreign=0), offsets committed;
  2b. (2.12) team-a consumes "orders" with group.protocol=consumer (KIP-848: ConsumerGroupHeartbeat renamed) in group
     "app848": exactly its records, committed under team-a.app848 at the backend;
  3. the backend, read straight from the brokers (confluent-kafka, not through kedge): topics team-a.orders and
     team-b.orders; groups team-a.app and team-b.app; each group's committed offsets sum to its tenant's count
     (2.0.2: no ListGroups; the committed offsets of team-X.app on team-X.orders are its count, those of an
     unprefixed "app" nothing);
  3b. `kedge check --json` lists, per namespace, the backend topics it covers (team-a: [team-a.orders], team-b:
     [team-b.orders], team-c: [team-c.orders, team-c.secret]); the text output names each one with the name clients
     see;
  4. each tenant's view through kedge: Metadata lists "orders" only (not "plain", not the other tenant's;
     confluent-kafka), ListGroups "app" only and the offsets of everything "app" committed name "orders" only
     (kafka-python; not with 2.0.2), the committed offsets of "app" on "orders" sum to its own count (confluent-kafka);
  5. team-a asks by name for "team-b.orders": the topic does not exist (UNKNOWN_TOPIC_OR_PART); with the 2.0.2 mock,
     whose Metadata v0-2 has no AllowAutoTopicCreation, the name becomes team-a.team-b.orders (created by the mock,
     team-a's own) and team-b.orders keeps team-b's records;
  5b. (2.12) raw requests over TLS to team-a's broker 1: Metadata v12 lists "orders" with the backend id of
     team-a.orders; a Fetch v13 naming team-a.orders' id and team-b.orders' id (read straight from the brokers) reads
     the first and gets UNKNOWN_TOPIC_ID (100) for the other: a topic id outside the namespace is not served
     (control: the same Fetch straight at the broker serves it); a Metadata v12 by those two ids names the first
     "orders" and answers the other UNKNOWN_TOPIC_ID (100) without its name;
  5c. a raw AlterConfigs of broker 1 through team-a: CLUSTER_AUTHORIZATION_FAILED (31) with kedge's message (a
     namespace alters only its own topics' and groups' configs), the connection goes on;
  6. kcat (librdkafka 2.0.2) through team-b: -L lists "orders" only; -C reads team-b's records only;
  7. a transactional producer (confluent-kafka) commits through team-a (FindCoordinator, InitProducerId,
     AddPartitionsToTxn, EndTxn renamed), and a read_committed consumer of team-a reads the committed records;
  7b. a third virtual cluster, team-v, has a visible namespace ("team-v.", "visible": true): its clients produce to
     and consume "team-v.orders" in group "team-v.app" (kclient_rdk212; the listings with the 2.12 mock); its Metadata, ListGroups and committed
     offsets show only those prefixed names; "orders" and "team-a.orders" by name get TOPIC_AUTHORIZATION_FAILED
     (the prefixes confine its ACLs); kedge check shows it as visible, clients seeing the backend names;
  9. team-c, policies on the names clients see: `kedge check` renders the rules with "orders" and "app", nothing
     prefixed; ONE kclient_rdk212 producer writes 25 records to "orders" and 25 to "secret": every "orders" record
     delivered, every "secret" record fails with TOPIC_AUTHORIZATION_FAILED; a consumer in group "app" reads the 25
     exactly once and commits while one in group "rogue" gets GROUP_AUTHORIZATION_FAILED naming "rogue"; Metadata
     for "secret" by name: TOPIC_AUTHORIZATION_FAILED (29); a listing: ["orders"]; "app" committed 25 on "orders";
     straight at the backend team-c.orders holds 25, team-c.secret still 10, team-c.app committed 25 (an unprefixed
     "app" nothing); the audit log names the denied group "rogue", no team-c. name;
  10. (2.12) CreateTopics through team-a (confluent-kafka AdminClient.create_topics): control: the mock offers no
     CreateTopics, the stages offer v2-4 and create a 250-character name (the mock has no length limit), kedge
     offers team-a v2-4; a 242-character name (249 with "team-a.", Kafka's limit) is created as team-a.<name> at the
     backend and listed without the prefix; a 243-character one gets INVALID_TOPIC_EXCEPTION (17) with kedge's
     message, no CreateTopics naming it reaches a stage, nothing is created, kedge_policy_refusals_total{team-a,
     CreateTopics, invalid_topic_name} +1;
  8. kedge still running, no errors in its log.

Usage: test_gateway_namespaces.py KEDGE_BINARY [rdk212|rdk20]   (root; tools via KEDGE_* env from ctest or
       KEDGE_BUILD_DIR)
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, start_kedge_in_topology  # noqa: E402
from scenario_support import (RAW_KAFKA, client_lines, finish, kedge_errors, metric, metrics_text,  # noqa: E402
                              popen_in, raw_session, run_json_script, run_scenario, scenario_topology, ssl_args,
                              summary_exit_code)
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
MOCK_VERSIONS = ("rdk212", "rdk20")
# team-c: a namespace with ACLs on the names its clients use (docs/namespaces.md "With policies and quotas"). Nothing
# names team-c.* or "secret"; the backend holds team-c.orders and team-c.secret from the start (ACLs without Create:
# kedge turns Metadata auto-creation off for them), team-c.secret with SECRET_RECORDS written straight to it.
POLICY_CLUSTER = "team-c"
POLICY_COUNT = 25
POLICY_ACLS = [{"allow": ["Read", "Write"], "topics": [TOPIC]}, {"allow": ["Read"], "groups": [GROUP]}]
DENIED_TOPIC, DENIED_GROUP = "secret", "rogue"
SECRET_RECORDS = 10
POLICY_PARTITIONS = 3
# CreateTopics (rdk212 stages only): Kafka's limit is 249 characters; "team-a." is 7, so 242 fits exactly.
MAX_TOPIC = 249
FITS = "f" * (MAX_TOPIC - len("team-a."))
TOO_LONG = "g" * (MAX_TOPIC - len("team-a.") + 1)
CONTROL_TOPIC = "ctl." + "c" * (MAX_TOPIC + 1 - len("ctl."))  # 250 characters, straight at the stage

# Runs with /usr/bin/python3 (python3-confluent-kafka) in a namespace; prints one JSON object.
#   view BOOTSTRAP CA|- GROUP TOPIC [FULL]  topics (confluent-kafka Metadata), groups (kafka-python ListGroups), the
#                                         topics and offsets of everything GROUP committed (kafka-python OffsetFetch,
#                                         null Topics), committed offsets of GROUP on TOPIC (confluent-kafka, by name);
#                                         FULL "0": no kafka-python (groups, group_offsets None: the 2.0.2 mock has no
#                                         ListGroups)
#   lookup BOOTSTRAP CA TOPIC             Metadata for TOPIC by name: its error name (and code), or "none"
#   watermarks BOOTSTRAP TOPIC            (plaintext, straight at the backend) high watermarks of TOPIC and their sum
#   topics BOOTSTRAP CA|-                 the topic names a Metadata listing shows (confluent-kafka)
#   create BOOTSTRAP CA|- NAME[,NAME..]   confluent-kafka AdminClient.create_topics: per name its error or null
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

def view(bootstrap, ca, group, topic, full="1"):
    admin = AdminClient(config(bootstrap, ca))
    metadata = admin.list_topics(timeout=15)
    out = {"topics": sorted(metadata.topics), "groups": None, "committed": None, "group_offsets": None,
           "group_offsets_sum": None}
    if full == "1":
        import kafka  # kafka-python: ListGroups and OffsetFetch for all of a group's topics (null Topics)
        security = {"security_protocol": "SSL", "ssl_cafile": ca, "ssl_check_hostname": True} if ca != "-" else {}
        python_admin = kafka.KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="kedge-namespaces",
                                              request_timeout_ms=15000, api_version_auto_timeout_ms=10000,
                                              **security)
        out["groups"] = sorted(g[0] for g in python_admin.list_consumer_groups())
        all_offsets = python_admin.list_consumer_group_offsets(group)
        python_admin.close()
        out["group_offsets"] = sorted({tp.topic for tp in all_offsets})
        out["group_offsets_sum"] = sum(max(o.offset, 0) for o in all_offsets.values())
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
                      "error": found.error.name() if found is not None and found.error else "none",
                      "code": found.error.code() if found is not None and found.error else 0,
                      "partitions": len(found.partitions) if found is not None else None}))

def watermarks(bootstrap, topic):
    consumer = Consumer(config(bootstrap, "-", **{"group.id": "kedge-namespaces-watermarks"}))
    partitions = consumer.list_topics(topic=topic, timeout=15).topics[topic].partitions
    high = [consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15)[1] for p in sorted(partitions)]
    consumer.close()
    print(json.dumps({"topic": topic, "high": high, "sum": sum(high)}))

def topics(bootstrap, ca):
    print(json.dumps({"topics": sorted(AdminClient(config(bootstrap, ca)).list_topics(timeout=15).topics)}))

def create(bootstrap, ca, names):
    from confluent_kafka.admin import NewTopic
    admin = AdminClient(config(bootstrap, ca))
    futures = admin.create_topics([NewTopic(name, 1, 1) for name in names.split(",")], request_timeout=15)
    out = {}
    for name, future in futures.items():
        try:
            future.result(30)
            out[name] = None
        except confluent_kafka.KafkaException as error:
            out[name] = {"name": error.args[0].name(), "code": error.args[0].code(), "str": error.args[0].str()}
    print(json.dumps({"client": f"confluent-kafka {confluent_kafka.version()[0]}, librdkafka "
                                f"{confluent_kafka.libversion()[0]}", "results": out}))

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
{"view": view, "lookup": lookup, "txn": txn, "read": read, "watermarks": watermarks, "topics": topics,
 "create": create}[mode](*args)
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

def alter_configs_body(step):  # AlterConfigs v0: one resource (type, name) with one config
    body = struct.pack(">i", 1) + struct.pack(">b", step["type"]) + string(step["name"])
    return body + struct.pack(">i", 1) + string("log.retention.ms") + string("1") + b"\0"  # ValidateOnly false

def alter_configs_parse(r, step):
    r.take(">i")  # ThrottleTimeMs
    out = []
    for _ in range(r.take(">i")):
        error = r.take(">h")
        message = r.string()
        rtype = r.take(">b")
        name = r.string()
        out.append({"error": error, "message": message, "type": rtype, "name": name})
    return {"resources": out}

HANDLERS["alter_configs"] = (33, lambda version: False, alter_configs_body, alter_configs_parse)
{"session": session}[sys.argv[1]](*sys.argv[2:])
"""


def bootstrap(cluster):
    return f"bootstrap-{cluster}.{DOMAIN}:{PORT}"


def script(topo, ns, *args):
    lines, result = run_json_script(topo, ns, CLIENT_SCRIPT, *args, timeout=120)
    return (lines[0] if lines else {}), (result.stdout + result.stderr).strip()[-600:]


def start_stages(topo, mock):
    """A list_groups_stage.py (TEST FIXTURE) in front of each broker of the 2.12 mock, which the mock advertises:
    ListGroups and all-topics OffsetFetch (the mock implements neither), and CreateTopics v2-4 with broker 1 named
    the controller (the mock implements no CreateTopics and names controller 0). Returns the backend's bootstrap."""
    stages = []
    for broker, (host, port) in enumerate(mock.broker_addresses, start=1):
        listen = STAGE_BASE_PORT + broker
        topo.start_process("dc", ["/usr/bin/python3", STAGE, "--listen", f"127.0.0.1:{listen}", "--upstream",
                                  f"{host}:{port}", "--name", f"broker-{broker}", "--create-topics",
                                  "--controller-id", "1"],
                           topo.log_path(f"list-groups-stage-{broker}"), ready_port=listen)
        mock.command_ok(f"hostport {broker} 127.0.0.1 {listen}")
        stages.append(f"127.0.0.1:{listen}")
    return ",".join(stages)


def check_policy_on_client_names(topo, checks, kedge, ca, backend, config_path, version, kedge_binary):
    """team-c's ACLs name "orders", "app" (what its clients use); its backend names are team-c.orders, team-c.app."""
    cluster = POLICY_CLUSTER
    rules = json.dumps(POLICY_ACLS)
    check_text = topo.run_in("dc", [kedge_binary, "check", "--config", config_path], timeout=60).stdout
    rendered = [line.strip() for line in check_text.splitlines() if line.strip().startswith("acls[")]
    checks.record(f"{cluster}: its policy names the client's names: {rules}; kedge check renders "
                  f"\"acls[0]: allow Read, Write on topics {TOPIC} ...\", nothing prefixed",
                  any(f"on topics {TOPIC} " in line for line in rendered)
                  and any(f"on groups {GROUP} " in line for line in rendered)
                  and not any(f"{cluster}." in line for line in rendered), f"kedge check: {rendered}")

    # One producer writes "orders" and "secret": librdkafka fails every "secret" record (Metadata said
    # TOPIC_AUTHORIZATION_FAILED) while every "orders" record is delivered.
    result = topo.run_in("a", client_argv(
        CLIENT, "produce", "--bootstrap", bootstrap(cluster), "--topic", f"{TOPIC},{DENIED_TOPIC}", "--count",
        POLICY_COUNT, "--prefix", cluster, "--timeout-ms", TIMEOUT_MS, *ssl_args(ca)), timeout=90)
    per_topic = {line.split()[1].split("=", 1)[1]: dict(item.split("=", 1) for item in line.split()[1:])
                 for line in result.stdout.splitlines() if line.startswith("produce-topic ")}
    allowed, denied = per_topic.get(TOPIC, {}), per_topic.get(DENIED_TOPIC, {})
    errors = dict(item.rsplit(":", 1) for item in denied.get("errors", "none").split(",") if ":" in item)
    lines = [line for line in result.stdout.splitlines() if line.startswith("produce-topic ")]
    checks.record(f"{cluster}: one {CLIENT} producer: all {POLICY_COUNT} \"{TOPIC}\" records delivered; all "
                  f"{POLICY_COUNT} \"{DENIED_TOPIC}\" records fail with TOPIC_AUTHORIZATION_FAILED",
                  allowed.get("delivered") == str(POLICY_COUNT) and allowed.get("failed") == "0"
                  and denied.get("delivered") == "0" and denied.get("failed") == str(POLICY_COUNT)
                  and set(errors) <= {"TOPIC_AUTHORIZATION_FAILED", "enqueue:TOPIC_AUTHORIZATION_FAILED"}
                  and sum(int(value) for value in errors.values()) == POLICY_COUNT,
                  "; ".join(lines) or client_lines(result.stderr))

    # Consumers at the same time: group "app" reads "orders" and commits; group "rogue" (no rule) is refused.
    rogue = popen_in(topo, "b", client_argv(
        CLIENT, "consume", "--bootstrap", bootstrap(cluster), "--topic", TOPIC, "--group", DENIED_GROUP,
        "--expect", POLICY_COUNT, "--prefix", cluster, "--timeout-ms", "10000", *ssl_args(ca)))
    result = topo.run_in("a", client_argv(
        CLIENT, "consume", "--bootstrap", bootstrap(cluster), "--topic", TOPIC, "--group", GROUP, "--expect",
        POLICY_COUNT, "--prefix", cluster, "--timeout-ms", "30000", *ssl_args(ca)), timeout=90)
    fields = summary_fields(result.stdout, "consume")
    checks.record(f"{cluster}: {CLIENT} consumes exactly its {POLICY_COUNT} \"{TOPIC}\" records in group \"{GROUP}\" "
                  "and commits",
                  result.returncode == 0 and fields.get("ok") == "1" and fields.get("unique") == str(POLICY_COUNT)
                  and fields.get("duplicates") == "0" and fields.get("foreign") == "0" and fields.get("commit") == "ok",
                  result.stdout.strip() or client_lines(result.stderr))
    code, out, err = finish(topo, rogue, f"{cluster}-rogue", timeout=60)
    fields = summary_fields(out, "consume")
    refused = [line for line in client_lines(err, limit=3) if "GROUP_AUTHORIZATION_FAILED" in line]
    checks.record(f"{cluster}: a consumer in group \"{DENIED_GROUP}\" (no rule) gets GROUP_AUTHORIZATION_FAILED naming "
                  f"\"{DENIED_GROUP}\", not \"{cluster}.{DENIED_GROUP}\", and reads nothing",
                  code != 0 and fields.get("unique") == "0"
                  and any(re.search(rf"\bgroup {DENIED_GROUP}\b", line, re.IGNORECASE) for line in refused)
                  and not any(f"{cluster}.{DENIED_GROUP}" in line for line in refused),
                  f"exit {code}; {out.strip()}; printed {refused or client_lines(err, limit=3)}")

    answer, detail = script(topo, "a", "lookup", bootstrap(cluster), ca, DENIED_TOPIC)
    checks.record(f"{cluster}: Metadata for \"{DENIED_TOPIC}\" by name: TOPIC_AUTHORIZATION_FAILED (29), no partitions",
                  answer.get("error") == "TOPIC_AUTHORIZATION_FAILED" and answer.get("code") == 29
                  and answer.get("partitions") == 0, answer or detail)
    listing, detail = script(topo, "a", "topics", bootstrap(cluster), ca)
    checks.record(f"{cluster}: a Metadata listing shows {[TOPIC]} (not \"{DENIED_TOPIC}\", not the other tenants')",
                  listing.get("topics") == [TOPIC], listing or detail)
    view, detail = script(topo, "a", "view", bootstrap(cluster), ca, GROUP, TOPIC, "0")
    checks.record(f"{cluster}: committed offsets of \"{GROUP}\" on \"{TOPIC}\" through kedge: {POLICY_COUNT}",
                  view.get("committed") == POLICY_COUNT, view or detail)

    # Straight at the backend: the records, the group and the untouched secret under their prefixed names.
    stored, detail = script(topo, "dc", "watermarks", backend, f"{cluster}.{TOPIC}")
    secret, secret_detail = script(topo, "dc", "watermarks", backend, f"{cluster}.{DENIED_TOPIC}")
    backend_view, view_detail = script(topo, "dc", "view", backend, "-", f"{cluster}.{GROUP}", f"{cluster}.{TOPIC}",
                                       "1" if version == "rdk212" else "0")
    unprefixed, _ = script(topo, "dc", "view", backend, "-", GROUP, f"{cluster}.{TOPIC}", "0")
    groups_ok = (backend_view.get("groups") is None
                 or (f"{cluster}.{GROUP}" in backend_view["groups"] and DENIED_GROUP not in backend_view["groups"]
                     and f"{cluster}.{DENIED_GROUP}" not in backend_view["groups"]))
    checks.record(f"backend (straight at the brokers): {cluster}.{TOPIC} holds {POLICY_COUNT} records, "
                  f"{cluster}.{DENIED_TOPIC} still {SECRET_RECORDS}; group {cluster}.{GROUP} committed {POLICY_COUNT} "
                  f"(group \"{GROUP}\" unprefixed: nothing)",
                  stored.get("sum") == POLICY_COUNT and secret.get("sum") == SECRET_RECORDS
                  and backend_view.get("committed") == POLICY_COUNT and unprefixed.get("committed") == 0 and groups_ok,
                  f"{stored or detail}; {secret or secret_detail}; {cluster}.{GROUP}: {backend_view or view_detail}; "
                  f"{GROUP}: committed {unprefixed.get('committed')}")

    audit_path = os.path.join(os.path.dirname(config_path), "audit.jsonl")
    try:
        with open(audit_path) as handle:
            audit = [json.loads(line) for line in handle if line.strip()]
    except (OSError, ValueError):
        audit = []
    denied_groups = sorted({r["name"] for line in audit if line.get("outcome") == "denied"
                            and line.get("virtual_cluster") == cluster for r in line.get("resources", [])
                            if r.get("type") == "group"})
    names = sorted({r.get("name") for line in audit for r in line.get("resources", [])})
    checks.record(f"audit log: the denied group is named \"{DENIED_GROUP}\"; no entry names a {cluster}. name",
                  denied_groups == [DENIED_GROUP] and not any(str(name).startswith(f"{cluster}.") for name in names),
                  f"{len(audit)} lines, denied groups {denied_groups}, every name {names}")


def check_create_topics(topo, checks, kedge, ca, backend, mock):
    """CreateTopics through team-a (rdk212: the stages offer and answer it): a name that fits once prefixed is created
    under the prefix; one that would be 250 characters is answered by kedge with INVALID_TOPIC_EXCEPTION."""
    host, port = mock.broker_addresses[0]
    _, bare, _ = raw_session(topo, "dc", RAW_SCRIPT, host, port, None, "-", None, None, [{"api_versions": 0}])
    _, staged, _ = raw_session(topo, "dc", RAW_SCRIPT, "127.0.0.1", STAGE_BASE_PORT + 1, None, "-", None, None,
                               [{"api_versions": 0}])
    broker = f"broker-1-team-a.{DOMAIN}"
    _, offered, _ = raw_session(topo, "a", RAW_SCRIPT, broker, PORT, ca, broker, None, None, [{"api_versions": 0}])
    control, detail = script(topo, "dc", "create", backend, "-", CONTROL_TOPIC)
    listed, _ = script(topo, "dc", "topics", backend, "-")
    checks.record("control: the 2.12 mock offers no CreateTopics (ApiVersions key 19); its stages offer v2-4 and "
                  f"create a {len(CONTROL_TOPIC)}-character name (no length limit behind kedge); kedge offers it to "
                  "team-a in v2-4",
                  "19" not in bare[0].get("versions", {"19": 0}) and staged[0].get("versions", {}).get("19") == [2, 4]
                  and offered[0].get("versions", {}).get("19") == [2, 4]
                  and control.get("results") == {CONTROL_TOPIC: None} and CONTROL_TOPIC in listed.get("topics", []),
                  f"mock: 19 -> {bare[0].get('versions', {}).get('19')}; stage: {staged[0].get('versions', {}).get('19')};"
                  f" kedge (team-a): {offered[0].get('versions', {}).get('19')}; {control.get('client')}: "
                  f"{len(CONTROL_TOPIC)} chars -> {(control.get('results') or {}).get(CONTROL_TOPIC, detail)}")

    def stage_creates():
        return [line.split(": CreateTopics ", 1)[1] for broker_id in (1, 2, 3)
                for line in open(topo.log_path(f"list-groups-stage-{broker_id}"), errors="replace").read().splitlines()
                if ": CreateTopics v" in line and "team-a." in line]

    admin = admin_address(kedge.log_text())
    refused_before = metric(metrics_text(topo, admin), "kedge_policy_refusals_total", virtual_cluster="team-a",
                            api="CreateTopics", reason="invalid_topic_name")
    created, detail = script(topo, "a", "create", bootstrap("team-a"), ca, FITS)
    after, _ = script(topo, "dc", "topics", backend, "-")
    seen, _ = script(topo, "a", "topics", bootstrap("team-a"), ca)
    reached = stage_creates()
    checks.record(f"team-a: create_topics of a {len(FITS)}-character name (249 with \"team-a.\"): created as "
                  f"team-a.{'f' * 3}... ({MAX_TOPIC} characters) at the backend; team-a lists it without the prefix",
                  created.get("results") == {FITS: None} and f"team-a.{FITS}" in after.get("topics", [])
                  and seen.get("topics") == sorted([FITS, TOPIC]) and reached == [f"v4: created team-a.{FITS} (249 chars)"],
                  f"{created.get('client')}: f...({len(FITS)}) -> "
                  f"{(created.get('results') or {}).get(FITS, created.get('results', detail))}; "
                  f"stage: {[r.replace(FITS, f'f...({len(FITS)})') for r in reached]}; "
                  f"team-a lists {[t if len(t) < 20 else f'{t[:3]}...({len(t)})' for t in seen.get('topics', [])]}")

    refused, detail = script(topo, "a", "create", bootstrap("team-a"), ca, TOO_LONG)
    error = (refused.get("results") or {}).get(TOO_LONG) or {}
    expected = (f"Topic name \"{TOO_LONG}\" is illegal on virtual cluster team-a: with its namespace it would be "
                f"{MAX_TOPIC + 1} characters, more than Kafka's limit of {MAX_TOPIC}")
    after, _ = script(topo, "dc", "topics", backend, "-")
    refused_after = metric(metrics_text(topo, admin), "kedge_policy_refusals_total", virtual_cluster="team-a",
                           api="CreateTopics", reason="invalid_topic_name")
    checks.record(f"team-a: create_topics of a {len(TOO_LONG)}-character name ({MAX_TOPIC + 1} with \"team-a.\"): "
                  "INVALID_TOPIC_EXCEPTION (17, librdkafka's TOPIC_EXCEPTION) with kedge's message, answered by kedge "
                  "(no CreateTopics reached the stages, nothing created, refusals invalid_topic_name +1)",
                  error.get("code") == 17 and error.get("name") == "TOPIC_EXCEPTION" and error.get("str") == expected
                  and stage_creates() == reached and f"team-a.{TOO_LONG}" not in after.get("topics", [])
                  and refused_after - refused_before == 1,
                  f"{refused.get('client')}: {error.get('name')} ({error.get('code')}): "
                  f"{(error.get('str') or detail).replace(TOO_LONG, f'g...({len(TOO_LONG)})')}; "
                  f"kedge_policy_refusals_total{{team-a,CreateTopics,invalid_topic_name}} {refused_before:.0f} -> "
                  f"{refused_after:.0f}")

    # One CreateTopics naming a name that fits and one that does not: only the second is refused, topic by topic.
    fits, too_long = "h" * len(FITS), "i" * len(TOO_LONG)
    reached = stage_creates()
    mixed, detail = script(topo, "a", "create", bootstrap("team-a"), ca, f"{fits},{too_long}")
    results = mixed.get("results") or {}
    after, _ = script(topo, "dc", "topics", backend, "-")
    refused_mixed = metric(metrics_text(topo, admin), "kedge_policy_refusals_total", virtual_cluster="team-a",
                           api="CreateTopics", reason="invalid_topic_name")
    new_creates = stage_creates()[len(reached):]
    checks.record(f"team-a: one create_topics naming a {len(fits)}- and a {len(too_long)}-character name: the first "
                  "is created (the stage's CreateTopics names only it), the second gets INVALID_TOPIC_EXCEPTION (17) "
                  "with kedge's message (refusals invalid_topic_name +1)",
                  results.get(fits, "missing") is None and (results.get(too_long) or {}).get("code") == 17
                  and new_creates == [f"v4: created team-a.{fits} (249 chars)"]
                  and f"team-a.{fits}" in after.get("topics", []) and f"team-a.{too_long}" not in after.get("topics", [])
                  and f"Topic name \"{too_long}\" is illegal" in (results.get(too_long) or {}).get("str", "")
                  and refused_mixed - refused_after == 1,
                  f"{mixed.get('client')}: h...({len(fits)}) -> {results.get(fits, detail)}; i...({len(too_long)}) -> "
                  f"{((results.get(too_long) or {}).get('str') or '').replace(too_long, 'i...')[:120]}; stage: "
                  f"{[r.replace(fits, 'h...') for r in new_creates]}; refusals {refused_after:.0f} -> {refused_mixed:.0f}; "
                  f"{(results.get(too_long) or {}).get('code')}")


def check_consumer_protocol(topo, checks, ca, backend):
    """2b: team-a consumes with group.protocol=consumer (KIP-848): ConsumerGroupHeartbeat's group id and subscribed
    topic names are prefixed, its assignment names topics by id (the namespace's), and the offsets land under the
    prefixed group at the backend."""
    group = "app848"
    result = topo.run_in("a", client_argv(
        CLIENT, "consume", "--bootstrap", bootstrap("team-a"), "--topic", TOPIC, "--group", group,
        "--expect", COUNTS["team-a"], "--prefix", "team-a", "--timeout-ms", "40000", "-X", "group.protocol=consumer",
        *ssl_args(ca)), timeout=90)
    fields = summary_fields(result.stdout, "consume")
    checks.record(f"team-a: {CLIENT} with group.protocol=consumer (KIP-848) consumes exactly its "
                  f"{COUNTS['team-a']} records in group \"{group}\" and commits",
                  result.returncode == 0 and fields.get("ok") == "1" and fields.get("foreign") == "0"
                  and fields.get("commit") == "ok", result.stdout.strip() or client_lines(result.stderr))
    view, detail = script(topo, "dc", "view", backend, "-", f"team-a.{group}", f"team-a.{TOPIC}")
    checks.record(f"backend: the KIP-848 group is team-a.{group}, {COUNTS['team-a']} committed on team-a.{TOPIC}",
                  view.get("committed") == COUNTS["team-a"], view or detail)


def check_visible_namespace(topo, checks, ca, config_path, kedge_binary, version):
    """7b: a visible namespace: the prefixed names, and only those."""
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
    if version == "rdk212":
        view, detail = script(topo, "a", "view", bootstrap(VISIBLE), ca, own_group, own_topic)
        checks.record(f"{VISIBLE} (visible) through kedge: topics {[own_topic]}, groups {[own_group]}, "
                      f"{VISIBLE_COUNT} committed (by name and in the group's listing)",
                      view.get("topics") == [own_topic] and view.get("groups") == [own_group]
                      and view.get("committed") == VISIBLE_COUNT and view.get("group_offsets") == [own_topic],
                      view or detail)
    else:  # the 2.0.2 mock has no ListGroups and lists no topics for null Topics
        view, detail = script(topo, "a", "view", bootstrap(VISIBLE), ca, own_group, own_topic, "0")
        checks.record(f"{VISIBLE} (visible) through kedge: topics {[own_topic]}, {VISIBLE_COUNT} committed by "
                      f"\"{own_group}\"", view.get("topics") == [own_topic] and view.get("committed") == VISIBLE_COUNT,
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


def main():
    version = MOCK_VERSION
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    if tool_path(f"mock_cluster_{version}") is None:
        print(f"mock_cluster_{version} not built")
        return 1
    with scenario_topology() as topo:
        mock = topo.start_mock_cluster(version, brokers=3, topics={
            "plain": 2, f"{POLICY_CLUSTER}.{TOPIC}": POLICY_PARTITIONS,
            f"{POLICY_CLUSTER}.{DENIED_TOPIC}": POLICY_PARTITIONS})
        if version == "rdk212":
            backend = start_stages(topo, mock)
        else:
            # The 2.0.2 mock cannot advertise another address (no rd_kafka_mock_broker_set_host_port): no stages.
            backend = mock.bootstrap
        options = {tenant: {"namespace": {"prefix": f"{tenant}."}} for tenant in COUNTS}
        options[POLICY_CLUSTER] = {"namespace": {"prefix": f"{POLICY_CLUSTER}."}, "policy": {"acls": POLICY_ACLS}}
        options[VISIBLE] = {"namespace": {"prefix": f"{VISIBLE}.", "visible": True}}
        kedge, certs, config_path = start_kedge_in_topology(
            topo, kedge_binary, [(tenant, "shared_suffix", backend) for tenant in options], DOMAIN,
            PORT, cluster_options=options, top_level={"audit": {"file": "audit.jsonl"}})
        ca = certs["ca"]
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock {version} {mock.bootstrap}; "
              f"namespaces {', '.join(f'{t} -> {t}.' for t in (*COUNTS, POLICY_CLUSTER))} "
              f"({POLICY_CLUSTER} with ACLs)", flush=True)
        result = topo.run_in("dc", client_argv(CLIENT, "produce", "--bootstrap", backend, "--topic",
                                               f"{POLICY_CLUSTER}.{DENIED_TOPIC}", "--count", SECRET_RECORDS,
                                               "--prefix", "secret", "--timeout-ms", TIMEOUT_MS), timeout=60)
        if summary_fields(result.stdout, "produce").get("delivered") != str(SECRET_RECORDS):
            checks.record(f"setup: {SECRET_RECORDS} records written straight to {POLICY_CLUSTER}.{DENIED_TOPIC}", False,
                          result.stdout.strip() or client_lines(result.stderr))

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

        # ---- 2b. KIP-848: the consumer group protocol through a namespace (ConsumerGroupHeartbeat renamed) ---------
        if version == "rdk212":
            check_consumer_protocol(topo, checks, ca, backend)
        else:
            checks.skip("KIP-848 consumer group protocol through a namespace", "the 2.0.2 mock has no "
                        "ConsumerGroupHeartbeat (runs against the 2.12 mock)")

        # ---- 3. the backend holds both tenants' names, prefixed ---------------------------------------------------
        for tenant, count in COUNTS.items():
            if version == "rdk212":
                view, detail = script(topo, "dc", "view", backend, "-", f"{tenant}.{GROUP}", f"{tenant}.{TOPIC}")
                checks.record(f"backend (straight at the brokers): topic {tenant}.{TOPIC}, group {tenant}.{GROUP} with "
                              f"{count} committed",
                              f"{tenant}.{TOPIC}" in view.get("topics", []) and f"{tenant}.{GROUP}" in view.get("groups", [])
                              and view.get("committed") == count and view.get("group_offsets") == [f"{tenant}.{TOPIC}"],
                              view or detail)
                continue
            # The 2.0.2 mock lists no groups (no ListGroups): the group's name shows in its committed offsets, by name.
            view, detail = script(topo, "dc", "view", backend, "-", f"{tenant}.{GROUP}", f"{tenant}.{TOPIC}", "0")
            unprefixed, _ = script(topo, "dc", "view", backend, "-", GROUP, f"{tenant}.{TOPIC}", "0")
            checks.record(f"backend (straight at the 2.0.2 mock): topic {tenant}.{TOPIC} (no \"{TOPIC}\"), group "
                          f"{tenant}.{GROUP} with {count} committed on it (group \"{GROUP}\": nothing)",
                          f"{tenant}.{TOPIC}" in view.get("topics", []) and TOPIC not in view.get("topics", [])
                          and view.get("committed") == count and unprefixed.get("committed") == 0,
                          f"{view or detail}; {GROUP}: committed {unprefixed.get('committed')}")
        if version != "rdk212":
            checks.skip("backend ListGroups and all-topics OffsetFetch (kafka-python)",
                        "the 2.0.2 mock offers no ListGroups (no key 16 in its ApiVersions), answers an OffsetFetch "
                        "with null Topics with a null list, and cannot advertise a list_groups_stage.py (no "
                        "rd_kafka_mock_broker_set_host_port); group names are checked by their committed offsets")

        # ---- 3b. kedge check shows what each namespace covers on the backend -------------------------------------
        result = topo.run_in("dc", [kedge_binary, "check", "--config", config_path, "--json"], timeout=60)
        try:
            covered = {entry["virtual_cluster"]: entry["backend_topics"]
                       for entry in json.loads(result.stdout).get("namespaces", [])}
        except ValueError:
            covered = {}
        text = topo.run_in("dc", [kedge_binary, "check", "--config", config_path], timeout=60).stdout
        lines = [line.strip() for line in text.splitlines() if "clients see" in line]
        checks.record("kedge check: team-a covers [team-a.orders], team-b [team-b.orders], team-c [team-c.orders, "
                      "team-c.secret] (\"plain\" in none); the text names what clients see",
                      covered == {"team-a": ["team-a.orders"], "team-b": ["team-b.orders"],
                                  POLICY_CLUSTER: [f"{POLICY_CLUSTER}.{TOPIC}", f"{POLICY_CLUSTER}.{DENIED_TOPIC}"],
                                  VISIBLE: []}
                      and "team-a.orders (clients see orders)" in lines,
                      f"{covered}; {lines}; {result.stderr.strip()[-200:]}")

        # ---- 4. each tenant sees only its own, without the prefix -------------------------------------------------
        for tenant, count in COUNTS.items():
            if version == "rdk212":
                view, detail = script(topo, "a", "view", bootstrap(tenant), ca, GROUP, TOPIC)
                groups = [GROUP, "app848"] if tenant == "team-a" else [GROUP]  # app848: the KIP-848 group of 2b
                checks.record(f"{tenant} through kedge: topics {[TOPIC]}, groups {groups}, {count} committed (by name "
                              "and in the group's listing)",
                              view.get("topics") == [TOPIC] and view.get("groups") == groups
                              and view.get("committed") == count and view.get("group_offsets") == [TOPIC]
                              and view.get("group_offsets_sum") == count, view or detail)
                continue
            view, detail = script(topo, "a", "view", bootstrap(tenant), ca, GROUP, TOPIC, "0")
            checks.record(f"{tenant} through kedge: topics {[TOPIC]}, {count} committed by \"{GROUP}\" on \"{TOPIC}\"",
                          view.get("topics") == [TOPIC] and view.get("committed") == count, view or detail)
        if version != "rdk212":
            checks.skip("ListGroups and all-topics OffsetFetch through kedge", "the 2.0.2 mock offers no ListGroups "
                        "(so kedge offers none either) and lists no topics for null Topics")

        # ---- 5. the other tenant's backend name does not exist ----------------------------------------------------
        answer, detail = script(topo, "a", "lookup", bootstrap("team-a"), ca, "team-b.orders")
        if version == "rdk212":
            checks.record("team-a asks for \"team-b.orders\" by name: the topic does not exist",
                          answer.get("error") == "UNKNOWN_TOPIC_OR_PART", answer or detail)
        else:
            # Metadata v0-2 has no AllowAutoTopicCreation: the 2.0.2 mock creates every topic asked for by name, here
            # team-a.team-b.orders (team-a's own, empty), as a broker with auto.create.topics.enable would.
            listed, _ = script(topo, "dc", "topics", backend, "-")
            theirs, _ = script(topo, "dc", "watermarks", backend, "team-b.orders")
            checks.record("team-a asks for \"team-b.orders\" by name: it asks for team-a.team-b.orders (which the 2.0.2 "
                          "mock auto-creates: Metadata v0-2 has no AllowAutoTopicCreation), not team-b's topic",
                          answer.get("error") == "none" and "team-a.team-b.orders" in listed.get("topics", [])
                          and theirs.get("sum") == COUNTS["team-b"],
                          f"{answer or detail}; backend topics {listed.get('topics')}; team-b.orders {theirs}")

        # ---- 5b. a topic id outside the namespace is unknown -------------------------------------------------------
        if version == "rdk212":
            _, backend_meta, detail = raw_session(topo, "dc", RAW_SCRIPT, "127.0.0.1", STAGE_BASE_PORT + 1, None, "-",
                                                  None, None, [{"metadata": 12}])
            ids = {t["topic"]: t["id"] for t in backend_meta[0].get("topics", [])}
            host = f"broker-1-team-a.{DOMAIN}"
            _, answers, detail = raw_session(topo, "a", RAW_SCRIPT, host, PORT, ca, host, None, None,
                                             [{"metadata": 12},
                                              {"fetch": 13, "topics": [[ids.get("team-a.orders", "00" * 16), [0]],
                                                                       [ids.get("team-b.orders", "00" * 16), [0]]]},
                                              {"metadata": 12, "ids": [ids.get("team-a.orders", "00" * 16),
                                                                       ids.get("team-b.orders", "00" * 16)]}])
            # Control: straight at broker 1 (its stage, plaintext) the same id is served.
            _, direct, _ = raw_session(topo, "dc", RAW_SCRIPT, "127.0.0.1", STAGE_BASE_PORT + 1, None, "-", None, None,
                                       [{"fetch": 13, "topics": [[ids.get("team-b.orders", "00" * 16), [0]]]}])
            direct_errors = [p["error"] for t in direct[0].get("topics", []) for p in t["partitions"]]
            seen = {t["topic"]: t["id"] for t in answers[0].get("topics", [])}
            by_id = {t["id"]: [p["error"] for p in t["partitions"]] for t in answers[1].get("topics", [])}
            by_id_meta = {t["id"]: [t["topic"], t["error"]] for t in answers[2].get("topics", [])}
            checks.record("team-a: raw Metadata v12 by id: team-a.orders' id is \"orders\"; team-b.orders' id gets "
                          "UNKNOWN_TOPIC_ID (100) and no name",
                          by_id_meta == {ids.get("team-a.orders"): ["orders", 0], ids.get("team-b.orders"): [None, 100]},
                          answers[2] or detail)
            checks.record("team-a: raw Metadata v12 shows orders with the backend's id of team-a.orders; a raw Fetch v13 "
                          "by id reads team-a.orders and gets UNKNOWN_TOPIC_ID (100) for team-b.orders' id",
                          seen == {"orders": ids.get("team-a.orders")} and ids.get("team-b.orders") is not None
                          and by_id.get(ids.get("team-a.orders")) in ([0], [6])
                          and by_id.get(ids.get("team-b.orders")) == [100] and direct_errors in ([0], [6]),
                          f"backend ids {ids}; team-a sees {seen}; fetch {answers[1] or detail}; straight at the broker "
                          f"team-b.orders' id -> {direct_errors}")
        else:
            checks.skip("topic ids outside the namespace (raw Metadata v12, Fetch v13)",
                        "the 2.0.2 mock has no topic ids: it offers Metadata v0-2 and Fetch v0-11")

        # ---- 5c. a namespace alters no broker config (the shared cluster's) ----------------------------------------
        host = f"broker-1-team-a.{DOMAIN}"
        _, answers, detail = raw_session(topo, "a", RAW_SCRIPT, host, PORT, ca, host, None, None,
                                         [{"alter_configs": 0, "type": 4, "name": "1"}, {"api_versions": 0}])
        resources = answers[0].get("resources") or [{}]
        checks.record("team-a: a raw AlterConfigs of broker 1's config is answered by kedge with "
                      "CLUSTER_AUTHORIZATION_FAILED (31) and a message; the connection goes on (ApiVersions answered)",
                      resources[0].get("error") == 31 and resources[0].get("type") == 4 and resources[0].get("name") == "1"
                      and "alters only its own topics' and groups' configs" in (resources[0].get("message") or "")
                      and answers[1].get("outcome") == "answered",
                      f"{answers[0] or detail}; then {answers[1].get('outcome')}")

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
        check_visible_namespace(topo, checks, ca, config_path, kedge_binary, version)

        # ---- 9. team-c: ACLs on the names its clients see --------------------------------------------------------
        check_policy_on_client_names(topo, checks, kedge, ca, backend, config_path, version, kedge_binary)

        # ---- 10. CreateTopics: a name too long once prefixed is answered by kedge ----------------------------------
        if version == "rdk212":
            check_create_topics(topo, checks, kedge, ca, backend, mock)
        else:
            checks.skip("CreateTopics through a namespace", "neither mock implements CreateTopics, and the 2.0.2 mock "
                        "cannot advertise the stage that answers it (runs against the 2.12 mock)")

        # ---- 8. kedge healthy -------------------------------------------------------------------------------------
        checks.record("kedge still running", kedge.alive())
        errors = kedge_errors(kedge.log_text())
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    # test_gateway_namespaces.py KEDGE_BINARY [rdk212|rdk20]: the mock generation behind kedge (default rdk212).
    MOCK_VERSION = sys.argv.pop(2) if len(sys.argv) == 3 and sys.argv[2] in MOCK_VERSIONS else "rdk212"
    run_scenario(main, __doc__)
