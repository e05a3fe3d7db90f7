#!/usr/bin/python3
"""A virtual cluster's ACLs (issue 18, docs/policy.md: "policy": {"acls": [...]}), through real clients over TLS.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock (topics "orders", "logs-app", "logs-hot" and "secret", 3 partitions
                  each; "secret" holds 30 records written straight to the mock) and kedge on :9092 with one virtual
                  cluster, acme (bootstrap-acme.<domain>), that terminates SASL PLAIN (users file by `kedge users
                  add`: alice, bob, carol; the mock takes plaintext), an audit log, and
                    "acls": [
                      {"allow": ["Read", "Describe"], "topics": ["orders", "logs-*"]},
                      {"allow": ["Write"], "topics": ["orders"], "principals": ["alice", "bob"],
                       "client_addresses": ["<network a>/24"]},
                      {"deny": ["Write"], "topics": ["orders"], "principals": ["bob"]},
                      {"allow": ["Write"], "topics": ["logs-*"]},
                      {"allow": ["Read"], "groups": ["app-*"]},
                      {"allow": ["All"], "cluster": true}]
                  Both client networks are inside 10.0.0.0/8, so the address condition names network a's /24. bob is
                  in the Write allow rule too, so what refuses him is the deny rule (Kafka: deny wins). No rule
                  names "secret" or a group outside app-*.
    <prefix>-a    kclient_rdk212 (librdkafka 2.12), kcat (librdkafka 2.0.2), python3-confluent-kafka (librdkafka 2.0.2)
                  and raw Kafka requests over TLS (python ssl), every one authenticated as alice, bob or carol
    <prefix>-b    alice from outside the address condition, then the paced producer of the hot-reload step (alone
                  on this network, so its connections are the only ones kedge accepts while it runs)

Checks (one PASS/FAIL line each, quoting what the clients printed, then `N passed, M failed`):
  1. topic allow-list: kcat -L and confluent-kafka list_topics() list orders, logs-app and logs-hot and not secret;
     asked by name, kcat -L -t secret prints "Broker: Topic authorization failed" and confluent-kafka
     list_topics(topic="secret") reports TOPIC_AUTHORIZATION_FAILED;
  2. ONE kclient_rdk212 producer (carol) writes N records to logs-app and N to secret: every logs-app record is
     delivered and the mock (high watermarks read in dc, not through kedge) stores exactly N; every secret record
     fails with TOPIC_AUTHORIZATION_FAILED ("Broker: Topic authorization failed"), the mock's secret is unchanged,
     and kedge refused no Produce meanwhile (librdkafka never put secret into a Produce request: no mixed request);
  3. at the same time, a kclient_rdk212 consumer in group rogue-readers (no rule) gets GROUP_AUTHORIZATION_FAILED
     (FindCoordinator refused) with the text "Group authorization failed" and reads nothing, while one in app-readers
     reads the N logs-app records exactly once and commits;
  4. principals and addresses on orders: alice from network a produces N (all delivered, the mock stores N); bob
     from network a gets "Topic authorization failed" for every record; alice from network b (outside the
     address condition) too; the mock still holds N;
  5. hot reload: a paced kclient_rdk212 producer (carol, network b) writes logs-hot; the config is rewritten with
     {"deny": ["Write"], "topics": ["logs-hot"]} and SIGHUP'd; its next deliveries fail with "Topic authorization
     failed" on the connections it already had (no new connection from its address, kedge_connections_accepted_total
     unchanged); the mock holds exactly what was delivered;
  6. kedge's ApiVersions answer offers Produce up to v13 and Fetch up to v17, the versions whose resources it reads
     (topic ids resolved through the Metadata it has seen), within the mock's own answer;
     kcat -C -t secret -p 0 (a forced partition): librdkafka stops at the Metadata error ("Topic authorization
     failed") and never fetches; a raw Fetch v4 for secret (SASL PLAIN as carol, sent to the partition's leader)
     is answered by kedge with ErrorCode 29 (TOPIC_AUTHORIZATION_FAILED) for the partition and no records, and
     the connection stays usable: an ApiVersions request on it next is answered (docs/policy.md: Fetch refusals
     are answered, no longer closed); controls: the same raw Fetch for logs-app through kedge, and for secret
     straight at the mock in dc, return records;
  7. /metrics: kedge_policy_refusals_total{virtual_cluster="acme",...,reason="resource_denied"} for Produce,
     FindCoordinator and Fetch; the audit log has the denied lines naming the resource (topic orders with principal
     bob, group rogue-readers, topic secret); kedge still running, no errors in its log.

kclient_rdk212 takes `--topic A,B` for one producer handle writing both topics (its `produce-topic` lines count
each topic's delivery reports and error names) and prints a consume error with its error name
("kclient: consume error GROUP_AUTHORIZATION_FAILED: ..."), so a client's own error code is what the checks read.

Usage: test_gateway_acls.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import write_config  # noqa: E402
from scenario_support import (RAW_KAFKA, AclKedge, client_lines, connections_from, finish, kedge_errors,  # noqa: E402
                              metric, metric_lines, metrics_text, popen_in, run_json_script, run_scenario,
                              sasl_ssl_args, scenario_topology, summary_exit_code, wait_for)
from test_topology_smoke import Checks, client_argv, summary_fields  # noqa: E402
from topology import tool_path  # noqa: E402

# What kclient prints when a client fails, its producev and consume errors included (scenario_support.client_lines).
CLIENT_ERRORS = r"delivery failed|producev|consume error|ERROR|error|FAIL|failed|authoriz"
DOMAIN = "kafka.example.com"
PORT = 9092
CLUSTER = "acme"
PARTITIONS = 3
TOPICS = {"orders": PARTITIONS, "logs-app": PARTITIONS, "logs-hot": PARTITIONS, "secret": PARTITIONS}
VISIBLE = ("orders", "logs-app", "logs-hot")
DENIED_TOPIC = "secret"
SECRET_RECORDS = 30  # written straight to the mock, so a Fetch of secret would have something to return
N = 60
MECHANISM = "PLAIN"
USERS = {"alice": "pw-alice-6a1f03", "bob": "pw-bob-c44e19", "carol": "pw-carol-0b7d52"}
CLIENT = "kclient_rdk212"
TIMEOUT_MS = "20000"
ALLOWED_GROUP, DENIED_GROUP = "app-readers", "rogue-readers"
STEADY_TOPIC, STEADY_RATE, STEADY_COUNT = "logs-hot", 25, 300  # the hot-reload producer: 12 s of records
TOPIC_AUTHZ = "Topic authorization failed"
GROUP_AUTHZ = "Group authorization failed"


def acls(network_a):
    return [
        {"allow": ["Read", "Describe"], "topics": ["orders", "logs-*"]},
        {"allow": ["Write"], "topics": ["orders"], "principals": ["alice", "bob"], "client_addresses": [network_a]},
        {"deny": ["Write"], "topics": ["orders"], "principals": ["bob"]},
        {"allow": ["Write"], "topics": ["logs-*"]},
        {"allow": ["Read"], "groups": ["app-*"]},
        {"allow": ["All"], "cluster": True},
    ]


RELOAD_RULE = {"deny": ["Write"], "topics": [STEADY_TOPIC]}

# Runs with /usr/bin/python3 in a namespace; prints one JSON object per line.
#   watermarks BOOTSTRAP TOPIC PARTITIONS   (plaintext, straight at the mock) -> {"high": [..], "sum": n}
#   ck_metadata BOOTSTRAP CA USER PASSWORD MECHANISM TOPIC
#       python3-confluent-kafka AdminClient over SASL_SSL: list_topics() (all topics), then
#       list_topics(topic=TOPIC) -> {"op": "listing", ...}, {"op": "named", ...}
#   raw_fetch HOST PORT CA SNI USER PASSWORD TOPIC PARTITION
#       one TLS connection (SNI), SaslHandshake v1 + SaslAuthenticate v1 (PLAIN), then Fetch v4 of TOPIC/PARTITION
#       from offset 0; CA "-": plaintext without SASL (straight at the mock). Reports what came back, then sends
#       ApiVersions v0 on the same connection and reports its answer ("next"): is the connection still usable?
#   api_versions HOST PORT CA SNI   ApiVersions v0 (CA "-": plaintext) -> {"versions": {"0": [min, max], ...}}
CLIENT_SCRIPT = RAW_KAFKA + r"""
def watermarks(bootstrap, topic, partitions):
    import confluent_kafka
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "kedge-acl-watermarks"})
    high = [consumer.get_watermark_offsets(confluent_kafka.TopicPartition(topic, p), timeout=15)[1]
            for p in range(int(partitions))]
    consumer.close()
    print(json.dumps({"topic": topic, "high": high, "sum": sum(high)}), flush=True)

def ck_metadata(bootstrap, ca, user, password, mechanism, topic):
    import confluent_kafka
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap, "security.protocol": "SASL_SSL", "ssl.ca.location": ca,
                         "ssl.endpoint.identification.algorithm": "https", "sasl.mechanisms": mechanism,
                         "sasl.username": user, "sasl.password": password})
    client = f"confluent-kafka {confluent_kafka.version()[0]}, librdkafka {confluent_kafka.libversion()[0]}"
    listing = admin.list_topics(timeout=15)
    print(json.dumps({"op": "listing", "client": client, "topics": sorted(listing.topics),
                      "errors": {name: str(t.error) for name, t in listing.topics.items() if t.error}}), flush=True)
    named = admin.list_topics(topic=topic, timeout=15)
    entry = named.topics.get(topic)
    error = entry.error if entry is not None else None
    print(json.dumps({"op": "named", "client": client, "topic": topic, "found": entry is not None,
                      "partitions": len(entry.partitions) if entry is not None else None,
                      "code": error.code() if error else 0, "name": error.name() if error else None,
                      "str": str(error) if error else None}), flush=True)

def parse_fetch_v4(data):
    # FetchResponse v4: ThrottleTimeMs, [Topic, [Partition, ErrorCode, HighWatermark, LastStableOffset,
    # AbortedTransactions, Records]] -> [(topic, partition, error, high_watermark, records_bytes)]
    pos = 8  # size, correlation id
    pos += 4
    out = []
    (topics,) = struct.unpack_from(">i", data, pos); pos += 4
    for _ in range(topics):
        (length,) = struct.unpack_from(">h", data, pos); pos += 2
        name = data[pos:pos + length].decode(); pos += length
        (partitions,) = struct.unpack_from(">i", data, pos); pos += 4
        for _ in range(partitions):
            partition, error, high, _lso = struct.unpack_from(">ihqq", data, pos); pos += 22
            (aborted,) = struct.unpack_from(">i", data, pos); pos += 4
            pos += max(aborted, 0) * 16
            (size,) = struct.unpack_from(">i", data, pos); pos += 4
            pos += max(size, 0)
            out.append({"topic": name, "partition": partition, "error": error, "high_watermark": high,
                        "records_bytes": max(size, 0)})
    return out

def raw_fetch(host, port, ca, server_name, user, password, topic, partition):
    out = {"op": "raw_fetch", "topic": topic, "partition": int(partition)}
    sock = socket.create_connection((host, int(port)), timeout=10)
    out["local"] = "%s:%d" % sock.getsockname()[:2]
    if ca != "-":
        sock = ssl.create_default_context(cafile=ca).wrap_socket(sock, server_hostname=server_name)
        sock.sendall(frame(17, 1, 1, string("PLAIN")))
        response, _, why = read_frame(sock)
        out["handshake_error"] = struct.unpack_from(">h", response, 8)[0] if response else why
        token = b"\0" + user.encode() + b"\0" + password.encode()
        sock.sendall(frame(36, 1, 2, struct.pack(">i", len(token)) + token))
        response, _, why = read_frame(sock)
        out["auth_error"] = struct.unpack_from(">h", response, 8)[0] if response else why
    body = struct.pack(">iiiib", -1, 500, 1, 1048576, 0) + struct.pack(">i", 1) + string(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", int(partition), 0, 1048576)
    sock.settimeout(8)
    sock.sendall(frame(1, 4, 3, body))
    response, received, why = read_frame(sock)
    out["received_bytes"] = len(received)
    out["topic_name_in_answer"] = topic.encode() in received
    if response is None:
        out["outcome"] = why
    else:
        out["outcome"] = "answered"
        out["answer_correlation_id"] = struct.unpack_from(">i", response, 4)[0]
        try:
            out["partitions"] = parse_fetch_v4(response)
        except struct.error as error:
            out["parse_error"] = str(error)
        sock.sendall(frame(18, 0, 4, b""))
        response, received, why = read_frame(sock)
        out["next"] = {"request": "ApiVersions v0", "outcome": why or "answered", "received_bytes": len(received)}
        if response is not None:
            out["next"].update(correlation_id=struct.unpack_from(">i", response, 4)[0],
                               error_code=struct.unpack_from(">h", response, 8)[0])
    sock.close()
    print(json.dumps(out), flush=True)

def api_versions(host, port, ca, server_name):
    # ApiVersions v0 (answered before authentication) -> {"versions": {key: [min, max]}}
    sock = socket.create_connection((host, int(port)), timeout=10)
    if ca != "-":
        sock = ssl.create_default_context(cafile=ca).wrap_socket(sock, server_hostname=server_name)
    sock.sendall(frame(18, 0, 1, b""))
    response, _, why = read_frame(sock)
    sock.close()
    if response is None:
        print(json.dumps({"op": "api_versions", "error": why}), flush=True)
        return
    (error,) = struct.unpack_from(">h", response, 8)
    (count,) = struct.unpack_from(">i", response, 10)
    versions = {}
    for i in range(count):
        key, low, high = struct.unpack_from(">hhh", response, 14 + 6 * i)
        versions[key] = [low, high]
    print(json.dumps({"op": "api_versions", "error_code": error, "versions": versions}), flush=True)

{"watermarks": watermarks, "ck_metadata": ck_metadata, "raw_fetch": raw_fetch,
 "api_versions": api_versions}[sys.argv[1]](*sys.argv[2:])
"""


def bootstrap():
    return f"bootstrap-{CLUSTER}.{DOMAIN}:{PORT}"


def broker_name(broker_id):
    return f"broker-{broker_id}-{CLUSTER}.{DOMAIN}"


def run_script(topo, ns, *args, timeout=90):
    """(parsed JSON lines, CompletedProcess) of CLIENT_SCRIPT run in namespace `ns`."""
    return run_json_script(topo, ns, CLIENT_SCRIPT, *args, timeout=timeout)


def stored(topo, mock, topic):
    """Sum of the topic's high watermarks, read straight from the mock in dc (no connection to kedge)."""
    lines, result = run_script(topo, "dc", "watermarks", mock.bootstrap, topic, PARTITIONS)
    if lines and "sum" in lines[0]:
        return lines[0]["sum"], json.dumps(lines[0])
    return None, (result.stdout + result.stderr).strip()[-400:]














def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    started = time.monotonic()
    with scenario_topology() as topo:
        mock = topo.start_mock_cluster("rdk212", brokers=3, topics=TOPICS)
        network_a = f"10.{topo.subnet}.1.0/24"  # topo.client_ip("a")'s /24; network b's clients are outside it
        acl = AclKedge(topo, kedge_binary, mock.bootstrap, USERS, acls(network_a), cluster=CLUSTER, domain=DOMAIN,
                       port=PORT, mechanism=MECHANISM)
        kedge, ca, admin, config_path = acl.process, acl.ca, acl.admin, acl.config_path
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock rdk212 {mock.bootstrap}; client a "
              f"{topo.client_ip('a')}, b {topo.client_ip('b')}; acls {json.dumps(acls(network_a))}", flush=True)

        def auth(user):
            return sasl_ssl_args(ca, MECHANISM, user, USERS[user])

        def produce(network, user, topic, count, prefix, *extra):
            result = topo.run_in(network, client_argv(
                CLIENT, "produce", "--bootstrap", bootstrap(), "--topic", topic, "--count", count, "--prefix", prefix,
                "--timeout-ms", TIMEOUT_MS, *auth(user), *extra), timeout=90)
            return result, summary_fields(result.stdout, "produce")

        def refusals(api):
            return metric(metrics_text(topo, admin), "kedge_policy_refusals_total", virtual_cluster=CLUSTER, api=api,
                          reason="resource_denied")

        # secret gets records straight at the mock (in dc): a Fetch of it would have something to return.
        direct = topo.run_in("dc", client_argv(CLIENT, "produce", "--bootstrap", mock.bootstrap, "--topic", DENIED_TOPIC,
                                               "--count", SECRET_RECORDS, "--prefix", "sec", "--timeout-ms", TIMEOUT_MS),
                             timeout=90)
        secret_stored, detail = stored(topo, mock, DENIED_TOPIC)
        checks.record(f"setup: {SECRET_RECORDS} records written to {DENIED_TOPIC} straight at the mock (no kedge)",
                      direct.returncode == 0 and secret_stored == SECRET_RECORDS,
                      f"{direct.stdout.strip()}; {detail}")

        # ---- 1. topic allow-list in Metadata -------------------------------------------------------------------
        kcat = tool_path("kcat") or "/usr/bin/kcat"
        result = topo.run_in("a", [kcat, "-L", "-b", bootstrap(), *auth("carol")], timeout=60)
        listed = re.findall(r'^\s+topic "([^"]+)" with', result.stdout, re.MULTILINE)
        checks.record(f"kcat -L (librdkafka 2.0.2, carol) lists {', '.join(VISIBLE)} and not {DENIED_TOPIC}",
                      result.returncode == 0 and set(listed) == set(VISIBLE),
                      f"exit {result.returncode}; topics listed: {listed}" + (
                          "" if listed else f"; {result.stderr.strip()[-300:]}"))
        result = topo.run_in("a", [kcat, "-L", "-b", bootstrap(), "-t", DENIED_TOPIC, *auth("carol")], timeout=60)
        line = next((text.strip() for text in result.stdout.splitlines() if f'topic "{DENIED_TOPIC}"' in text),
                    result.stderr.strip()[-300:])
        checks.record(f"kcat -L -t {DENIED_TOPIC}: \"{TOPIC_AUTHZ}\", no partitions",
                      f'topic "{DENIED_TOPIC}" with 0 partitions: Broker: {TOPIC_AUTHZ}' in result.stdout,
                      f"kcat printed: {line}")
        outcomes, result = run_script(topo, "a", "ck_metadata", bootstrap(), ca, "carol", USERS["carol"], MECHANISM,
                                      DENIED_TOPIC)
        listing = next((o for o in outcomes if o.get("op") == "listing"), None)
        named = next((o for o in outcomes if o.get("op") == "named"), None)
        checks.record(f"confluent-kafka list_topics() lists {', '.join(VISIBLE)} and not {DENIED_TOPIC}",
                      listing is not None and set(listing["topics"]) == set(VISIBLE) and not listing["errors"],
                      json.dumps(listing) if listing else (result.stdout + result.stderr).strip()[-400:])
        checks.record(f"confluent-kafka list_topics(topic=\"{DENIED_TOPIC}\"): TOPIC_AUTHORIZATION_FAILED "
                      f"\"{TOPIC_AUTHZ}\"",
                      named is not None and named["code"] == 29 and named["name"] == "TOPIC_AUTHORIZATION_FAILED"
                      and TOPIC_AUTHZ in (named["str"] or "") and not named["partitions"],
                      (f"{named['client']}: topics[\"{DENIED_TOPIC}\"].error = {named['str']}" if named
                       else (result.stdout + result.stderr).strip()[-400:]))

        # ---- 2./3. one producer, an allowed and a denied topic; then consumers in a denied and an allowed group ----
        produce_refusals_before = refusals("Produce")
        result, fields = produce("a", "carol", f"logs-app,{DENIED_TOPIC}", N, "mix")
        per_topic = {line.split()[1].split("=", 1)[1]: dict(item.split("=", 1) for item in line.split()[1:])
                     for line in result.stdout.splitlines() if line.startswith("produce-topic ")}
        app, denied = per_topic.get("logs-app", {}), per_topic.get(DENIED_TOPIC, {})
        printed = client_lines(result.stderr, pattern=CLIENT_ERRORS)
        app_stored, app_detail = stored(topo, mock, "logs-app")
        checks.record(f"one {CLIENT} producer (carol), logs-app: all {N} records delivered, the mock stores exactly {N}",
                      app.get("delivered") == str(N) and app.get("failed") == "0" and app_stored == N,
                      f"{next((l for l in result.stdout.splitlines() if 'topic=logs-app' in l), result.stdout.strip())}"
                      f"; mock {app_detail}")
        errors = dict(item.rsplit(":", 1) for item in denied.get("errors", "none").split(",") if ":" in item)
        denied_stored, denied_detail = stored(topo, mock, DENIED_TOPIC)
        checks.record(f"the same producer, {DENIED_TOPIC}: all {N} records fail with TOPIC_AUTHORIZATION_FAILED "
                      f"(\"{TOPIC_AUTHZ}\"), nothing stored",
                      denied.get("delivered") == "0" and denied.get("failed") == str(N)
                      and set(errors) <= {"TOPIC_AUTHORIZATION_FAILED", "enqueue:TOPIC_AUTHORIZATION_FAILED"}
                      and sum(int(v) for v in errors.values()) == N and any(TOPIC_AUTHZ in l for l in printed)
                      and denied_stored == SECRET_RECORDS,
                      f"{next((l for l in result.stdout.splitlines() if f'topic={DENIED_TOPIC}' in l), '')}; "
                      f"printed {printed}; mock {denied_detail}")
        produce_refusals_after = refusals("Produce")
        checks.record("no Produce was refused meanwhile: librdkafka never mixed the denied topic into a Produce request",
                      produce_refusals_after == produce_refusals_before,
                      f"kedge_policy_refusals_total{{api=Produce,reason=resource_denied}} {produce_refusals_before:.0f}"
                      f" -> {produce_refusals_after:.0f}")

        denied_consumer = popen_in(topo, "a", client_argv(
            CLIENT, "consume", "--bootstrap", bootstrap(), "--topic", "logs-app", "--group", DENIED_GROUP,
            "--expect", N, "--prefix", "mix", "--timeout-ms", "12000", *auth("carol")))
        allowed_consumer = popen_in(topo, "a", client_argv(
            CLIENT, "consume", "--bootstrap", bootstrap(), "--topic", "logs-app", "--group", ALLOWED_GROUP,
            "--expect", N, "--prefix", "mix", "--timeout-ms", TIMEOUT_MS, *auth("carol")))
        code, out, err = finish(topo, denied_consumer, "consume-denied-group", timeout=60)
        fields = summary_fields(out, "consume")
        printed = client_lines(err, limit=3, pattern=CLIENT_ERRORS)
        group_errors = [line for line in printed if "consume error GROUP_AUTHORIZATION_FAILED" in line]
        checks.record(f"{CLIENT} consumer in group {DENIED_GROUP} (no rule): GROUP_AUTHORIZATION_FAILED, reads nothing",
                      code != 0 and fields.get("unique") == "0" and bool(group_errors),
                      f"exit {code}; {out.strip()}; printed {printed}")
        # librdkafka prints FindCoordinator's ErrorMessage when the broker sends one (else "Broker: Group
        # authorization failed"); a Kafka broker sends Errors.GROUP_AUTHORIZATION_FAILED.message(), "Group
        # authorization failed.", and docs/policy.md promises that text.
        checks.record(f"its error text says \"{GROUP_AUTHZ}\" (docs/policy.md; a Kafka broker's ErrorMessage)",
                      any(GROUP_AUTHZ in line for line in group_errors),
                      f"printed {group_errors or printed}")
        code, out, err = finish(topo, allowed_consumer, "consume-allowed-group", timeout=60)
        fields = summary_fields(out, "consume")
        checks.record(f"{CLIENT} consumer in group {ALLOWED_GROUP} at the same time: reads the {N} logs-app records "
                      "exactly once and commits",
                      code == 0 and fields.get("ok") == "1" and fields.get("unique") == str(N)
                      and fields.get("duplicates") == "0" and fields.get("foreign") == "0" and fields.get("commit") == "ok",
                      out.strip() or err.strip()[-400:])

        # ---- 4. principals and client addresses on orders --------------------------------------------------------
        result, fields = produce("a", "alice", "orders", N, "alice")
        orders_stored, detail = stored(topo, mock, "orders")
        checks.record(f"alice from network a ({topo.client_ip('a')}, inside {network_a}): {N} records to orders "
                      f"delivered, the mock stores {N}",
                      result.returncode == 0 and fields.get("delivered") == str(N) and orders_stored == N,
                      f"{result.stdout.strip() or result.stderr.strip()[-300:]}; mock {detail}")
        for user, network, why in (("bob", "a", "deny rule for bob (deny wins over his allow)"),
                                   ("alice", "b", f"{topo.client_ip('b')} is outside {network_a}")):
            result, fields = produce(network, user, "orders", 20, f"{user}-{network}")
            printed = client_lines(result.stderr, pattern=CLIENT_ERRORS)
            checks.record(f"{user} from network {network} ({why}): every delivery fails with \"{TOPIC_AUTHZ}\"",
                          result.returncode != 0 and fields.get("delivered") == "0" and fields.get("failed") == "20"
                          and any(TOPIC_AUTHZ in line for line in printed),
                          f"exit {result.returncode}; {result.stdout.strip()}; printed {printed}")
        orders_stored, detail = stored(topo, mock, "orders")
        checks.record(f"the mock's orders still holds exactly alice's {N}", orders_stored == N, detail)

        # ---- 5. hot reload: the running producer's topic becomes denied ------------------------------------------
        before = metrics_text(topo, admin)
        produce_requests_before = metric(before, "kedge_requests_total", virtual_cluster=CLUSTER, api="Produce")
        steady_stored_before, _ = stored(topo, mock, STEADY_TOPIC)
        steady = popen_in(topo, "b", client_argv(
            CLIENT, "produce", "--bootstrap", bootstrap(), "--topic", STEADY_TOPIC, "--count", STEADY_COUNT,
            "--prefix", "steady", "--rate", STEADY_RATE, "--timeout-ms", "30000", *auth("carol")))
        client_address = topo.client_ip("b")
        state = {}

        def settled():
            text = metrics_text(topo, admin)
            produced = metric(text, "kedge_requests_total", virtual_cluster=CLUSTER, api="Produce")
            ids = connections_from(kedge.log_text(), client_address)
            stable = state.get("ids") == ids
            state.update(ids=ids, accepted=metric(text, "kedge_connections_accepted_total"))
            return produced - produce_requests_before >= 3 * PARTITIONS and stable and steady.poll() is None
        steady_ok = wait_for(settled, 15, interval=0.5)
        ids_before, accepted_before = state.get("ids", []), state.get("accepted")
        produce_refusals_before = refusals("Produce")

        config = json.load(open(config_path))
        for entry in config["virtual_clusters"]:
            if entry["name"] == CLUSTER:
                entry["policy"]["acls"].append(RELOAD_RULE)
        applied_before = kedge.log_text().count("applied to new connections")
        write_config(config_path, config)
        kedge.popen.send_signal(signal.SIGHUP)
        reloaded = wait_for(lambda: kedge.log_text().count("applied to new connections") > applied_before, 10)
        checks.record(f"the config with {json.dumps(RELOAD_RULE)} is reloaded (SIGHUP) while the producer runs",
                      bool(steady_ok) and bool(reloaded),
                      f"producer settled={bool(steady_ok)} on connections {ids_before}; reload applied={bool(reloaded)}")
        refused = wait_for(lambda: refusals("Produce") >= produce_refusals_before + 10, 10)

        code, out, err = finish(topo, steady, "steady-logs-hot", timeout=60)
        fields = summary_fields(out, "produce")
        printed = client_lines(err, pattern=CLIENT_ERRORS)
        delivered, failed = int(fields.get("delivered", -1)), int(fields.get("failed", -1))
        checks.record(f"after the reload the running producer's deliveries fail with \"{TOPIC_AUTHZ}\"",
                      bool(refused) and code != 0 and 0 < delivered < STEADY_COUNT
                      and failed == STEADY_COUNT - delivered and any(TOPIC_AUTHZ in line for line in printed),
                      f"exit {code}; {out.strip()}; printed {printed}")
        ids_after = connections_from(kedge.log_text(), client_address)
        accepted_after = metric(metrics_text(topo, admin), "kedge_connections_accepted_total")
        checks.record("the refusals came on the producer's existing connections (no reconnect)",
                      bool(ids_before) and ids_after == ids_before and accepted_after == accepted_before,
                      f"connections from {client_address}: {ids_before} before the reload, {ids_after} after; "
                      f"kedge_connections_accepted_total {accepted_before:.0f} -> {accepted_after:.0f}")
        steady_stored, detail = stored(topo, mock, STEADY_TOPIC)
        checks.record(f"the mock's {STEADY_TOPIC} holds exactly the records delivered before the reload",
                      steady_stored is not None and steady_stored - (steady_stored_before or 0) == delivered,
                      f"{detail}; the producer's delivered={delivered}")

        # ---- 6. a Fetch of the denied topic ----------------------------------------------------------------------
        # kedge offers only the versions whose resources it reads (Produce <= 13, Fetch <= 17; topic ids are named
        # through the Metadata kedge has seen), so the librdkafka 2.12 clients above fetched by topic id (v13+).
        through, _ = run_script(topo, "a", "api_versions", f"bootstrap-{CLUSTER}.{DOMAIN}", PORT, ca,
                                f"bootstrap-{CLUSTER}.{DOMAIN}")
        straight, _ = run_script(topo, "dc", "api_versions", *mock.broker_addresses[0], "-", "-")
        offered = (through[0] if through else {}).get("versions", {})
        backend = (straight[0] if straight else {}).get("versions", {})
        capped = {name: (offered.get(key, [None, None])[1], backend.get(key, [None, None])[1])
                  for name, key in (("Produce", "0"), ("Fetch", "1"))}
        reads = {"Produce": 13, "Fetch": 17}
        checks.record("kedge's ApiVersions answer offers Produce up to v13 and Fetch up to v17 (what kedge reads), "
                      "within the mock's own maximum",
                      all(kedge_max is not None and backend_max is not None and kedge_max == min(reads[name], backend_max)
                          for name, (kedge_max, backend_max) in capped.items())
                      and capped["Fetch"][0] is not None and capped["Fetch"][0] >= 13,
                      "; ".join(f"{name}: kedge v{k}, mock v{b}" for name, (k, b) in capped.items()))
        result = topo.run_in("a", [kcat, "-C", "-b", bootstrap(), "-t", DENIED_TOPIC, "-p", "0", "-o", "beginning",
                                   "-e", "-f", "%k\n", *auth("carol")], timeout=60)
        printed = client_lines(result.stderr + result.stdout, limit=3, pattern=CLIENT_ERRORS)
        checks.record(f"kcat -C -t {DENIED_TOPIC} -p 0 (forced partition): stops at \"{TOPIC_AUTHZ}\", no record",
                      result.returncode != 0 and not [l for l in result.stdout.splitlines() if l.startswith("sec-")]
                      and any(TOPIC_AUTHZ in line for line in printed),
                      f"exit {result.returncode}; printed {printed}")
        leaders = {}
        meta = topo.run_in("dc", client_argv(CLIENT, "metadata", "--bootstrap", mock.bootstrap), timeout=60)
        for line in meta.stdout.splitlines():
            fields_ = line.split()
            if fields_[:1] == ["partition"] and len(fields_) == 4:
                leaders[(fields_[1], int(fields_[2]))] = int(fields_[3])
        real = dict(zip((1, 2, 3), mock.broker_addresses))
        secret_leader, app_leader = leaders.get((DENIED_TOPIC, 0)), leaders.get(("logs-app", 0))
        control, _ = run_script(topo, "dc", "raw_fetch", *real[secret_leader], "-", "-", "-", "-", DENIED_TOPIC, 0) \
            if secret_leader in real else ([], None)
        control = control[0] if control else {}
        allowed_fetch, _ = run_script(topo, "a", "raw_fetch", broker_name(app_leader), PORT, ca, broker_name(app_leader),
                                      "carol", USERS["carol"], "logs-app", 0)
        allowed_fetch = allowed_fetch[0] if allowed_fetch else {}

        def has_records(outcome, topic):
            return any(p["topic"] == topic and p["error"] == 0 and p["records_bytes"] > 0
                       for p in outcome.get("partitions", []))
        checks.record(f"controls: raw Fetch v4 of {DENIED_TOPIC} straight at the mock, and of logs-app through kedge "
                      "(SASL PLAIN as carol), return records",
                      has_records(control, DENIED_TOPIC) and allowed_fetch.get("auth_error") == 0
                      and has_records(allowed_fetch, "logs-app"),
                      f"mock: {json.dumps(control.get('partitions'))}; kedge: {json.dumps(allowed_fetch)}")
        fetch_refusals_before = refusals("Fetch")
        mark = len(kedge.log_text())
        outcome, result = run_script(topo, "a", "raw_fetch", broker_name(secret_leader), PORT, ca,
                                     broker_name(secret_leader), "carol", USERS["carol"], DENIED_TOPIC, 0)
        outcome = outcome[0] if outcome else {}
        local = outcome.get("local", "?")

        def refusal_lines():
            return [line.strip() for line in kedge.log_text()[mark:].splitlines()
                    if "Fetch v4 refused by" in line or (f"client={local} " in line and " closed:" in line)]
        wait_for(lambda: any("Fetch v4 refused by" in line for line in refusal_lines()), 5)
        lines = refusal_lines()
        answered = outcome.get("partitions") or []
        following = outcome.get("next") or {}
        checks.record(f"raw Fetch v4 of {DENIED_TOPIC} through kedge (authenticated as carol): answered with ErrorCode "
                      "29 (TOPIC_AUTHORIZATION_FAILED) for the partition, no records",
                      outcome.get("auth_error") == 0 and outcome.get("outcome") == "answered"
                      and outcome.get("answer_correlation_id") == 3 and not outcome.get("parse_error")
                      and [(p["topic"], p["partition"], p["error"], p["records_bytes"]) for p in answered]
                      == [(DENIED_TOPIC, 0, 29, 0)],
                      json.dumps(outcome) if outcome else (result.stdout + result.stderr).strip()[-400:])
        checks.record("... and the connection stays usable: ApiVersions v0 sent on it next is answered",
                      following.get("outcome") == "answered" and following.get("correlation_id") == 4
                      and following.get("error_code") == 0,
                      json.dumps(following) if following else "nothing sent: the Fetch got no answer")
        checks.record("kedge answered it for the policy (resource_denied, counted) and did not close the connection",
                      any("Fetch v4 refused by policy (resource_denied); answered with an authorization error" in line
                          for line in lines)
                      and not any("cause=policy_refused" in line for line in lines)
                      and refusals("Fetch") > fetch_refusals_before,
                      " | ".join(line[-260:] for line in lines) or "no log line")

        # ---- 7. metrics, audit log, kedge --------------------------------------------------------------------------
        text = metrics_text(topo, admin)
        samples = [line for line in metric_lines(text, "kedge_policy_refusals_total") if 'reason="resource_denied"' in line]
        counted = {api: metric(text, "kedge_policy_refusals_total", virtual_cluster=CLUSTER, api=api,
                               reason="resource_denied") for api in ("Produce", "FindCoordinator", "Fetch")}
        checks.record("/metrics: kedge_policy_refusals_total{reason=\"resource_denied\"} for Produce, FindCoordinator "
                      "and Fetch", all(value > 0 for value in counted.values()), "; ".join(samples) or "no sample")

        lines = acl.audit_lines()
        denied = [a for a in lines if a.get("outcome") == "denied" and a.get("virtual_cluster") == CLUSTER]

        def find(api, resource, **want):
            return [a for a in denied if a.get("api") == api and resource in a.get("resources", [])
                    and all(a.get(k) == v for k, v in want.items())]
        bob_line = find("Produce", {"type": "topic", "name": "orders"}, principal="bob", reason="resource_denied")
        group_line = find("FindCoordinator", {"type": "group", "name": DENIED_GROUP}, reason="resource_denied")
        fetch_line = find("Fetch", {"type": "topic", "name": DENIED_TOPIC}, reason="resource_denied")
        checks.record("audit log: denied lines name the resource (Produce topic orders by bob, FindCoordinator group "
                      f"{DENIED_GROUP}, Fetch topic {DENIED_TOPIC})",
                      bool(bob_line) and bool(group_line) and bool(fetch_line)
                      and bob_line[0].get("client", "").startswith(topo.client_ip("a") + ":"),
                      f"{len(lines)} lines, {len(denied)} denied; " + " | ".join(
                          json.dumps(found[0]) if found else f"no {name} line"
                          for name, found in (("Produce/bob", bob_line), ("FindCoordinator", group_line),
                                              ("Fetch", fetch_line))))
        checks.record("kedge still running", kedge.alive())
        errors = kedge_errors(kedge.log_text())
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
        print(f"    {time.monotonic() - started:.1f}s", flush=True)
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
