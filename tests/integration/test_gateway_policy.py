#!/usr/bin/python3
"""A virtual cluster's policy (issue 18, docs/policy.md): read_only and an API deny list, through real clients.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock (topic "ledger", 3 partitions; the mock implements neither
                  CreateTopics nor DeleteTopics) and kedge on :9092 with two virtual clusters on that backend:
                    alpha  (bootstrap-alpha.<domain>)  "policy": {"read_only": true}
                    beta   (bootstrap-beta.<domain>)   "policy": {"apis": {"deny": ["CreateTopics", "DeleteTopics"]}}
    <prefix>-a    kclient_rdk212 (librdkafka 2.12), kcat (librdkafka 2.0.2), librdkafka 2.12's Admin API (ctypes)
                  and python3-confluent-kafka's AdminClient
    <prefix>-b    the long-running producer of the hot-reload step (alone on this network, so its connections
                  are the only ones kedge accepts while it runs)

Checks (one PASS/FAIL line each, quoting what the clients printed, then `N passed, M failed`):
  1. beta (CreateTopics/DeleteTopics denied, Produce allowed): kclient_rdk212 produces N records, all delivered;
  2. alpha (read-only): kclient_rdk212 and kcat -P fail every delivery with "Broker: Topic authorization
     failed" and exit non-zero; an idempotent producer fails on InitProducerId ("Cluster authorization
     failed"); Produce with acks=0 closes the connection (cause=policy_refused); the mock's high watermarks
     (read in dc, not through kedge) still sum to N: nothing was stored;
  3. alpha: a group consumer reads the N records and commits its offsets (reads work on a read-only view);
  4./5. CreateTopics / DeleteTopics with librdkafka 2.12's Admin API (rd_kafka_CreateTopics/DeleteTopics, sent
     to broker 1 with rd_kafka_AdminOptions_set_broker): straight at the mock "not supported by broker" (the
     mock has neither API); through kedge TOPIC_AUTHORIZATION_FAILED, CreateTopics with kedge's ErrorMessage
     "Virtual cluster alpha is read-only: CreateTopics is not allowed" / "CreateTopics is not allowed on virtual
     cluster beta" (DeleteTopics v1, the version librdkafka sends, has no ErrorMessage field). The librdkafka
     mock reports ControllerId 0, which is no broker, so confluent-kafka's AdminClient (which finds the
     controller itself) never sends these requests: that check is printed as SKIP with what it reported
     unless the controller is a listed broker. beta still produces afterwards, and the topic was not deleted;
  6a. the audit log (audit.file, JSON lines): every refusal above with its resources, reason, operation and
     client address; a CreatePartitions request kedge let through on beta (sent raw over TLS: the mock does not
     implement it) recorded as allowed with its topic; no line for reads or allowed Produce; after the file is
     moved away and SIGUSR1 sent, the next line goes to a new file at the configured path;
  6b. gamma (an allow list of a consumer's APIs): Produce refused ("Topic authorization failed"), a group
     consumer reads and commits; EndTxn sent raw to read-only alpha (an API kedge hides there) closes the
     connection without an answer;
  6. /metrics: kedge_policy_refusals_total{alpha,Produce,read_only} > 0 and {beta,CreateTopics,api_denied} >= 1;
     kedge logged the first refusal of a connection at info ("Produce vN refused by policy (read_only)");
  7. hot reload: a paced kclient_rdk212 producer runs on beta; the config is rewritten with beta read-only and
     SIGHUP'd; the producer's next deliveries fail with "Topic authorization failed" on the connections it
     already had (no new connection from its address, kedge_connections_accepted_total unchanged), and
     nothing is stored once the refusals started (stored == delivered); a new producer on beta is refused too;
  8. kedge still running, no errors in its log.

Usage: test_gateway_policy.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, start_kedge_in_topology, write_config  # noqa: E402
from scenario_support import (client_lines, connections_from, finish, kedge_errors, metric,  # noqa: E402
                              metric_lines, metrics_text, popen_in, run_json_script, run_scenario, scenario_topology,
                              ssl_args, summary_exit_code, wait_for)
from test_topology_smoke import Checks, client_argv, summary_fields  # noqa: E402
from topology import tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
TOPIC = "ledger"
PARTITIONS = 3
N = 60  # records produced through beta before anything else
CLIENT = "kclient_rdk212"
TIMEOUT_MS = "20000"
ALPHA_POLICY = {"read_only": True}
BETA_POLICY = {"apis": {"deny": ["CreateTopics", "DeleteTopics"]}}
# A consumer's APIs only: Produce is refused as not allowed.
GAMMA_POLICY = {"apis": {"allow": ["Metadata", "FindCoordinator", "JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup",
                                   "OffsetFetch", "OffsetCommit", "ListOffsets", "Fetch", "OffsetForLeaderEpoch"]}}
STEADY_RATE, STEADY_COUNT = 25, 300  # the hot-reload producer: 12 s of records
AUTHZ_TEXT = "Topic authorization failed"

# Runs with /usr/bin/python3 in a namespace; prints one JSON object per line.
#   rdk_admin LIBRDKAFKA BOOTSTRAP CA|- BROKER NEW_TOPIC EXISTING_TOPIC
#       librdkafka 2.12's Admin API through ctypes (rd_kafka_CreateTopics / rd_kafka_DeleteTopics), sent to broker
#       BROKER (rd_kafka_AdminOptions_set_broker: the librdkafka mock reports ControllerId 0, a broker that does
#       not exist, so an AdminClient left to find the controller never sends the request); CA "-": plaintext
#   ck_admin BOOTSTRAP CA NEW_TOPIC EXISTING_TOPIC
#       python3-confluent-kafka AdminClient: the controller it would use (list_topics), then create_topics and
#       delete_topics (request timeout 3 s when that controller is not a listed broker)
#   watermarks BOOTSTRAP TOPIC PARTITIONS   (plaintext, straight at the mock) -> {"high": [..], "sum": n}
CLIENT_SCRIPT = r"""
import ctypes, json, sys

def rdk_admin(library, bootstrap, ca, broker, new_topic, existing):
    lib = ctypes.CDLL(library)
    P, S, I = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    for name, restype, argtypes in (
            ("rd_kafka_conf_new", P, []), ("rd_kafka_conf_set", I, [P, S, S, S, ctypes.c_size_t]),
            ("rd_kafka_new", P, [I, P, S, ctypes.c_size_t]), ("rd_kafka_queue_new", P, [P]),
            ("rd_kafka_NewTopic_new", P, [S, I, I, S, ctypes.c_size_t]), ("rd_kafka_DeleteTopic_new", P, [S]),
            ("rd_kafka_AdminOptions_new", P, [P, I]),
            ("rd_kafka_AdminOptions_set_broker", I, [P, ctypes.c_int32, S, ctypes.c_size_t]),
            ("rd_kafka_AdminOptions_set_request_timeout", I, [P, I, S, ctypes.c_size_t]),
            ("rd_kafka_CreateTopics", None, [P, ctypes.POINTER(P), ctypes.c_size_t, P, P]),
            ("rd_kafka_DeleteTopics", None, [P, ctypes.POINTER(P), ctypes.c_size_t, P, P]),
            ("rd_kafka_queue_poll", P, [P, I]), ("rd_kafka_event_type", I, [P]),
            ("rd_kafka_event_error", I, [P]), ("rd_kafka_event_error_string", S, [P]),
            ("rd_kafka_event_CreateTopics_result", P, [P]), ("rd_kafka_event_DeleteTopics_result", P, [P]),
            ("rd_kafka_CreateTopics_result_topics", ctypes.POINTER(P), [P, ctypes.POINTER(ctypes.c_size_t)]),
            ("rd_kafka_DeleteTopics_result_topics", ctypes.POINTER(P), [P, ctypes.POINTER(ctypes.c_size_t)]),
            ("rd_kafka_topic_result_error", I, [P]), ("rd_kafka_topic_result_error_string", S, [P]),
            ("rd_kafka_topic_result_name", S, [P]), ("rd_kafka_err2name", S, [I]),
            ("rd_kafka_event_destroy", None, [P]), ("rd_kafka_version_str", S, [])):
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    errstr = ctypes.create_string_buffer(512)
    conf = lib.rd_kafka_conf_new()
    settings = {"bootstrap.servers": bootstrap, "client.id": "kedge-policy-admin"}
    if ca != "-":
        settings.update({"security.protocol": "SSL", "ssl.ca.location": ca,
                         "ssl.endpoint.identification.algorithm": "https"})
    for key, value in settings.items():
        if lib.rd_kafka_conf_set(conf, key.encode(), value.encode(), errstr, 512) != 0:
            raise SystemExit(f"conf {key}: {errstr.value.decode()}")
    handle = lib.rd_kafka_new(0, conf, errstr, 512)
    queue = lib.rd_kafka_queue_new(handle)
    version = lib.rd_kafka_version_str().decode()
    for op, api, event_type in (("create_topics", 1, 100), ("delete_topics", 2, 101)):
        options = lib.rd_kafka_AdminOptions_new(handle, api)
        lib.rd_kafka_AdminOptions_set_request_timeout(options, 15000, errstr, 512)
        lib.rd_kafka_AdminOptions_set_broker(options, int(broker), errstr, 512)
        if op == "create_topics":
            topic = new_topic
            item = lib.rd_kafka_NewTopic_new(topic.encode(), 1, 1, errstr, 512)
            lib.rd_kafka_CreateTopics(handle, (P * 1)(item), 1, options, queue)
        else:
            topic = existing
            item = lib.rd_kafka_DeleteTopic_new(topic.encode())
            lib.rd_kafka_DeleteTopics(handle, (P * 1)(item), 1, options, queue)
        event = None
        while event is None:
            event = lib.rd_kafka_queue_poll(queue, 30000)
            if event and lib.rd_kafka_event_type(event) != event_type:
                lib.rd_kafka_event_destroy(event)
                event = None
        out = {"op": op, "topic": topic, "client": f"librdkafka {version}", "broker": int(broker)}
        code = lib.rd_kafka_event_error(event)
        if code:
            out.update(level="request", code=code, name=lib.rd_kafka_err2name(code).decode(),
                       message=(lib.rd_kafka_event_error_string(event) or b"").decode(errors="replace"))
        else:
            result = (lib.rd_kafka_event_CreateTopics_result if api == 1 else lib.rd_kafka_event_DeleteTopics_result)(event)
            count = ctypes.c_size_t()
            topics = (lib.rd_kafka_CreateTopics_result_topics if api == 1
                      else lib.rd_kafka_DeleteTopics_result_topics)(result, ctypes.byref(count))
            entry = topics[0]
            code = lib.rd_kafka_topic_result_error(entry)
            out.update(level="topic", code=code, name=lib.rd_kafka_err2name(code).decode(),
                       message=(lib.rd_kafka_topic_result_error_string(entry) or b"").decode(errors="replace"))
        print(json.dumps(out), flush=True)
        lib.rd_kafka_event_destroy(event)

def ck_admin(bootstrap, ca, new_topic, existing):
    import confluent_kafka
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap, "security.protocol": "SSL", "ssl.ca.location": ca,
                         "ssl.endpoint.identification.algorithm": "https"})
    metadata = admin.list_topics(timeout=15)
    known = metadata.controller_id in metadata.brokers
    print(json.dumps({"op": "metadata", "controller_id": metadata.controller_id, "brokers": sorted(metadata.brokers),
                      "controller_known": known, "client": f"confluent-kafka {confluent_kafka.version()[0]}, "
                                                          f"librdkafka {confluent_kafka.libversion()[0]}"}), flush=True)
    timeout = 20 if known else 3
    calls = (("create_topics", lambda: admin.create_topics([NewTopic(new_topic, 1, 1)], request_timeout=timeout)),
             ("delete_topics", lambda: admin.delete_topics([existing], request_timeout=timeout)))
    for op, call in calls:
        for topic, future in call().items():
            try:
                future.result(timeout=60)
                out = {"ok": True}
            except confluent_kafka.KafkaException as exception:
                error = exception.args[0]
                out = {"ok": False, "exception": "KafkaException", "code": error.code(), "name": error.name(),
                       "message": error.str(), "str": str(error)}
            print(json.dumps(dict(out, op=op, topic=topic)), flush=True)

def watermarks(bootstrap, topic, partitions):
    import confluent_kafka
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "kedge-policy-watermarks"})
    high = [consumer.get_watermark_offsets(confluent_kafka.TopicPartition(topic, p), timeout=15)[1]
            for p in range(int(partitions))]
    consumer.close()
    print(json.dumps({"high": high, "sum": sum(high)}), flush=True)

def raw_request(host, port, ca, server_name, frame_hex):
    # One request frame over TLS (SNI server_name), then whatever comes back within 5 s.
    import socket, ssl
    context = ssl.create_default_context(cafile=ca)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        with context.wrap_socket(sock, server_hostname=server_name) as tls:
            tls.sendall(bytes.fromhex(frame_hex))
            tls.settimeout(5)
            received = b""
            try:
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    received += chunk
                    if len(received) >= 4 and len(received) >= 4 + int.from_bytes(received[:4], "big"):
                        break
            except (socket.timeout, ssl.SSLError, ConnectionError) as error:
                print(json.dumps({"op": "raw", "error": str(error), "response_hex": received.hex()}), flush=True)
                return
    print(json.dumps({"op": "raw", "response_hex": received.hex()}), flush=True)

{"rdk_admin": rdk_admin, "ck_admin": ck_admin, "watermarks": watermarks,
 "raw_request": raw_request}[sys.argv[1]](*sys.argv[2:])
"""


def bootstrap(cluster):
    return f"bootstrap-{cluster}.{DOMAIN}:{PORT}"


def run_script(topo, ns, *args):
    """(parsed JSON lines, CompletedProcess) of CLIENT_SCRIPT run in namespace `ns`."""
    return run_json_script(topo, ns, CLIENT_SCRIPT, *args)


def librdkafka212():
    """Path of the librdkafka 2.12 shared library kclient_rdk212 is linked against (from ldd), or None."""
    ldd = subprocess.run(["ldd", tool_path(CLIENT)], capture_output=True, text=True).stdout
    found = re.search(r"librdkafka\.so\S* => (\S+)", ldd)
    return found.group(1) if found else None


def stored(topo, mock):
    """Sum of the topic's high watermarks, read straight from the mock in dc (no connection to kedge)."""
    lines, result = run_script(topo, "dc", "watermarks", mock.bootstrap, TOPIC, str(PARTITIONS))
    if lines and "sum" in lines[0]:
        return lines[0]["sum"], json.dumps(lines[0])
    return None, (result.stdout + result.stderr).strip()[-400:]














def produce(topo, network, cluster, ca, count, prefix, *extra):
    result = topo.run_in(network, client_argv(
        CLIENT, "produce", "--bootstrap", bootstrap(cluster), "--topic", TOPIC, "--count", count, "--prefix", prefix,
        "--timeout-ms", TIMEOUT_MS, *ssl_args(ca), *extra), timeout=90)
    return result, summary_fields(result.stdout, "produce")


def admin_outcome(outcomes, op):
    return next((o for o in outcomes if o.get("op") == op), None)


def quote(outcome):
    """What an admin client reported, as a user would read it."""
    if outcome is None:
        return "no result"
    if "str" in outcome:
        return outcome["str"]
    return f'{outcome.get("client")}: {outcome.get("name")} ({outcome.get("code")}) "{outcome.get("message")}"'


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    started = time.monotonic()
    library = librdkafka212()
    with scenario_topology() as topo:
        mock = topo.start_mock_cluster("rdk212", brokers=3, topics={TOPIC: PARTITIONS})
        kedge, certs, config_path = start_kedge_in_topology(
            topo, kedge_binary, [("alpha", "shared_suffix", mock.bootstrap), ("beta", "shared_suffix", mock.bootstrap),
                                 ("gamma", "shared_suffix", mock.bootstrap)],
            DOMAIN, PORT, cluster_options={"alpha": {"policy": ALPHA_POLICY}, "beta": {"policy": BETA_POLICY},
                                           "gamma": {"policy": GAMMA_POLICY}},
            top_level={"audit": {"file": "audit.jsonl"}})
        audit_path = os.path.join(os.path.dirname(config_path), "audit.jsonl")
        ca = certs["ca"]
        admin = admin_address(kedge.log_text())
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock rdk212 {mock.bootstrap}; alpha {ALPHA_POLICY}, "
              f"beta {BETA_POLICY}; librdkafka 2.12 at {library}", flush=True)

        # ---- 1. beta allows Produce ---------------------------------------------------------------------------
        result, fields = produce(topo, "a", "beta", ca, N, "pol")
        checks.record(f"beta: {CLIENT} produces {N} records to {TOPIC} (Produce allowed)",
                      result.returncode == 0 and fields.get("ok") == "1" and fields.get("delivered") == str(N),
                      result.stdout.strip() or result.stderr.strip()[-400:])

        # ---- 2. alpha is read-only: every delivery fails ----------------------------------------------------------
        result, fields = produce(topo, "a", "alpha", ca, 30, "ro")
        printed = client_lines(result.stderr)
        checks.record(f"alpha: {CLIENT} produce fails every delivery with \"{AUTHZ_TEXT}\", exit non-zero",
                      result.returncode != 0 and fields.get("ok") == "0" and fields.get("delivered") == "0"
                      and fields.get("failed") == "30" and any(AUTHZ_TEXT in line for line in printed),
                      f"exit {result.returncode}; {result.stdout.strip()}; printed {printed}")

        kcat = tool_path("kcat") or "/usr/bin/kcat"
        lines = "".join(f"kc-{i}:kc-{i}\n" for i in range(10))
        result = topo.run_in("a", [kcat, "-P", "-b", bootstrap("alpha"), "-t", TOPIC, "-K", ":", *ssl_args(ca)],
                             timeout=60, input=lines)
        printed = client_lines(result.stderr + result.stdout, limit=10)
        failures = [line for line in (result.stderr + result.stdout).splitlines()
                    if line.startswith("% Delivery failed")]
        checks.record(f"alpha: kcat -P fails all 10 deliveries with \"{AUTHZ_TEXT}\", exit non-zero",
                      result.returncode != 0 and len(failures) == 10
                      and all(AUTHZ_TEXT in line for line in failures),
                      f"exit {result.returncode}; {len(failures)} delivery failures; printed {printed}")

        result, fields = produce(topo, "a", "alpha", ca, 5, "idem", "-X", "enable.idempotence=true")
        printed = client_lines(result.stderr)
        checks.record(f"alpha: an idempotent {CLIENT} producer fails: InitProducerId refused with "
                      "\"Cluster authorization failed\"",
                      result.returncode != 0 and fields.get("delivered") == "0"
                      and any("Cluster authorization failed" in line for line in printed),
                      f"exit {result.returncode}; {result.stdout.strip()}; printed {printed}")

        # acks=0 expects no answer, so kedge cannot send the authorization error: it closes the connection.
        mark = len(kedge.log_text())
        result, fields = produce(topo, "a", "alpha", ca, 5, "noack", "-X", "acks=0")
        log = kedge.log_text()[mark:]
        closes = [line.strip() for line in log.splitlines()
                  if "Produce with acks=0 expects no response" in line or "cause=policy_refused" in line]
        checks.record("alpha: Produce with acks=0 -> kedge closes the connection (cause=policy_refused)",
                      any("expects no response" in line for line in closes)
                      and any("cause=policy_refused" in line and "vc=alpha" in line for line in closes),
                      f"client: {result.stdout.strip()} {client_lines(result.stderr, limit=2)}; kedge: {closes[:2]}")

        count, detail = stored(topo, mock)
        checks.record(f"nothing was stored through alpha: the mock's high watermarks sum to {N}", count == N, detail)

        # ---- 3. alpha: a consumer group reads and commits ---------------------------------------------------------
        result = topo.run_in("a", client_argv(
            CLIENT, "consume", "--bootstrap", bootstrap("alpha"), "--topic", TOPIC, "--group", "g-policy-alpha",
            "--expect", N, "--prefix", "pol", "--timeout-ms", TIMEOUT_MS, *ssl_args(ca)), timeout=90)
        fields = summary_fields(result.stdout, "consume")
        checks.record(f"alpha: a group consumer reads the {N} records once each and commits (reads allowed)",
                      result.returncode == 0 and fields.get("ok") == "1" and fields.get("unique") == str(N)
                      and fields.get("duplicates") == "0" and fields.get("foreign") == "0"
                      and fields.get("commit") == "ok",
                      result.stdout.strip() or result.stderr.strip()[-400:])

        # ---- 4./5. CreateTopics / DeleteTopics: refused by kedge on alpha (read-only) and beta (deny list) --------
        # Control: the mock itself offers neither API, so librdkafka refuses to send them straight to it.
        outcomes, result = run_script(topo, "dc", "rdk_admin", library, mock.bootstrap, "-", "1", "direct-new", TOPIC)
        got = admin_outcome(outcomes, "create_topics")
        checks.record("control: straight at the mock, librdkafka 2.12 CreateTopics is \"not supported by broker\"",
                      got is not None and got.get("name") == "_UNSUPPORTED_FEATURE",
                      quote(got) if got else (result.stdout + result.stderr).strip()[-400:])
        for cluster in ("alpha", "beta"):
            outcomes, result = run_script(topo, "a", "rdk_admin", library, bootstrap(cluster), ca, "1",
                                          f"{cluster}-new", TOPIC)
            for op, api in (("create_topics", "CreateTopics"), ("delete_topics", "DeleteTopics")):
                got = admin_outcome(outcomes, op)
                want = (f"Virtual cluster alpha is read-only: {api} is not allowed" if cluster == "alpha"
                        else f"{api} is not allowed on virtual cluster beta")
                if api == "DeleteTopics":
                    # librdkafka sends DeleteTopics v1, whose response has no ErrorMessage (v5+): it shows its
                    # own text for the code.
                    want = "Broker: Topic authorization failed"
                checks.record(f"{cluster}: librdkafka 2.12 Admin API {op} (sent to broker 1) -> "
                              f"TOPIC_AUTHORIZATION_FAILED \"{want}\"",
                              got is not None and got.get("level") == "topic" and got.get("code") == 29
                              and got.get("message") == want,
                              quote(got) if got else (result.stdout + result.stderr).strip()[-400:])
        # python3-confluent-kafka's AdminClient finds the controller itself (no broker override).
        outcomes, result = run_script(topo, "a", "ck_admin", bootstrap("alpha"), ca, "alpha-new-ck", TOPIC)
        meta = admin_outcome(outcomes, "metadata")
        if meta is not None and not meta.get("controller_known"):
            Checks.skip("alpha: confluent-kafka AdminClient create_topics/delete_topics -> TOPIC_AUTHORIZATION_FAILED",
                        f"{meta.get('client')}: Metadata names ControllerId {meta.get('controller_id')}, not one "
                        f"of brokers {meta.get('brokers')} (the librdkafka mock never sets a controller), so the "
                        f"AdminClient never sends the request: create_topics -> "
                        f"{quote(admin_outcome(outcomes, 'create_topics'))}; delete_topics -> "
                        f"{quote(admin_outcome(outcomes, 'delete_topics'))}")
        else:
            for op, api in (("create_topics", "CreateTopics"), ("delete_topics", "DeleteTopics")):
                got = admin_outcome(outcomes, op)
                checks.record(f"alpha: confluent-kafka AdminClient {op} raises KafkaException "
                              "TOPIC_AUTHORIZATION_FAILED",
                              got is not None and got.get("exception") == "KafkaException" and got.get("code") == 29,
                              quote(got) if got else (result.stdout + result.stderr).strip()[-400:])

        result, fields = produce(topo, "a", "beta", ca, 30, "after")
        checks.record(f"beta: {CLIENT} produce still delivers everything after the denied admin calls",
                      result.returncode == 0 and fields.get("ok") == "1" and fields.get("delivered") == "30",
                      result.stdout.strip() or result.stderr.strip()[-400:])
        count, detail = stored(topo, mock)
        checks.record(f"the mock now holds {N + 30} records, the topic was not deleted", count == N + 30, detail)
        stored_before_steady = N + 30

        # ---- 6a. audit log: every refusal, and administrative operations kedge let through ------------------------
        # CreatePartitions is allowed on beta; the mock does not implement it, so it closes the connection. The
        # audit line records kedge's decision ("allowed"), whatever the broker then does.
        create_partitions = ("0025" + "0000" + "00000c1d" + "0004" + "726177" + "31"  # key 37 v0, corr 3101, "raw1"
                             + "00000001" + "0006" + TOPIC.encode().hex() + "00000006" + "ffffffff"
                             + "00003a98" + "00")
        frame_hex = len(bytes.fromhex(create_partitions)).to_bytes(4, "big").hex() + create_partitions
        raw, result = run_script(topo, "a", "raw_request", f"bootstrap-beta.{DOMAIN}", str(PORT), ca,
                                 f"bootstrap-beta.{DOMAIN}", frame_hex)

        def audit_lines():
            try:
                with open(audit_path) as handle:
                    return [json.loads(line) for line in handle if line.strip()]
            except (OSError, ValueError):
                return []
        lines = wait_for(lambda: [a for a in audit_lines() if a.get("api") == "CreatePartitions"], 5) and audit_lines()
        by = lambda **want: [a for a in lines if all(a.get(k) == v for k, v in want.items())]  # noqa: E731
        denied_produce = by(virtual_cluster="alpha", api="Produce", outcome="denied", reason="read_only")
        checks.record("audit: alpha's refused Produce requests, each naming topic ledger",
                      bool(denied_produce) and all({"type": "topic", "name": TOPIC} in a["resources"]
                                                   for a in denied_produce),
                      json.dumps(denied_produce[:1]))
        denied_create = by(virtual_cluster="beta", api="CreateTopics", outcome="denied", reason="api_denied")
        checks.record("audit: beta's refused CreateTopics names topic beta-new, with client address and operation",
                      any({"type": "topic", "name": "beta-new"} in a["resources"] and a.get("operation") == "Create"
                          and a.get("client", "").startswith(topo.client_ip("a")) for a in denied_create),
                      json.dumps(denied_create[:1]))
        checks.record("audit: alpha's refused InitProducerId and DeleteTopics are recorded",
                      bool(by(virtual_cluster="alpha", api="InitProducerId", outcome="denied"))
                      and bool(by(virtual_cluster="alpha", api="DeleteTopics", outcome="denied")),
                      f"{len(lines)} audit lines")
        allowed = by(virtual_cluster="beta", api="CreatePartitions", outcome="allowed")
        checks.record("audit: an administrative operation kedge let through (CreatePartitions on beta) is recorded "
                      "as allowed, with its topic",
                      bool(allowed) and allowed[0]["resources"] == [{"type": "topic", "name": TOPIC}]
                      and allowed[0].get("reason") is None,
                      json.dumps(allowed[:1]) + f"; client saw {raw[:1]}")
        checks.record("audit: no line for reads (Fetch, Metadata, OffsetCommit) or allowed Produce",
                      not [a for a in lines if a.get("api") in ("Fetch", "Metadata", "OffsetCommit")]
                      and not by(api="Produce", outcome="allowed"),
                      sorted({(a.get("api"), a.get("outcome")) for a in lines}).__repr__())
        # Rotation: move the file away, SIGUSR1, and the next line goes to a new file at the same path.
        os.rename(audit_path, audit_path + ".1")
        kedge.popen.send_signal(signal.SIGUSR1)
        wait_for(lambda: "audit log" in kedge.log_text() and "reopened" in kedge.log_text(), 5)
        produce(topo, "a", "alpha", ca, 1, "rotated")
        rotated = wait_for(lambda: os.path.exists(audit_path) and audit_lines(), 5)
        checks.record("audit: after mv + SIGUSR1 the next refusal goes to a new file at the configured path",
                      bool(rotated) and all(a.get("virtual_cluster") == "alpha" for a in rotated)
                      and os.path.getsize(audit_path + ".1") > 0,
                      f"new file: {len(rotated or [])} lines; reopen logged: "
                      f"{'reopened' in kedge.log_text()}")

        # ---- 6b. an allow list; an API kedge hides, sent anyway -----------------------------------------------------
        result, fields = produce(topo, "a", "gamma", ca, 5, "gamma")
        printed = client_lines(result.stderr)
        checks.record(f"gamma (allow list without Produce): {CLIENT} produce fails with \"{AUTHZ_TEXT}\"",
                      result.returncode != 0 and fields.get("delivered") == "0"
                      and any(AUTHZ_TEXT in line for line in printed),
                      f"exit {result.returncode}; {result.stdout.strip()}; printed {printed}")
        result = topo.run_in("a", client_argv(
            CLIENT, "consume", "--bootstrap", bootstrap("gamma"), "--topic", TOPIC, "--group", "g-policy-gamma",
            "--expect", N, "--prefix", "pol", "--timeout-ms", TIMEOUT_MS, *ssl_args(ca)), timeout=90)
        fields = summary_fields(result.stdout, "consume")
        checks.record(f"gamma: a group consumer reads the {N} records once each and commits (its APIs are listed)",
                      result.returncode == 0 and fields.get("ok") == "1" and fields.get("unique") == str(N)
                      and fields.get("duplicates") == "0" and fields.get("commit") == "ok",
                      result.stdout.strip() or result.stderr.strip()[-400:])
        # EndTxn v0 (key 26) on read-only alpha: refused and hidden from alpha's ApiVersions answer; a client that
        # sends it anyway gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53), the answer kedge gives an ACL refusal.
        end_txn = "001a" + "0000" + "00000c1e" + "0004" + "72617732" + "0003" + "747831" + "0000000000000001" + "0000" + "00"
        frame_hex = len(bytes.fromhex(end_txn)).to_bytes(4, "big").hex() + end_txn
        raw, result = run_script(topo, "a", "raw_request", f"bootstrap-alpha.{DOMAIN}", str(PORT), ca,
                                 f"bootstrap-alpha.{DOMAIN}", frame_hex)
        # size 10, correlation id 0xc1e, ThrottleTimeMs 0, ErrorCode 53
        checks.record("alpha: EndTxn sent anyway (hidden from ApiVersions) -> answered with "
                      "TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53)",
                      bool(raw) and raw[0].get("response_hex") == "0000000a00000c1e000000000035",
                      f"client got {raw[:1]}")
        # CreateAcls v0 (key 30, an empty Creations array) on read-only alpha: refused, and kedge has no answer for
        # it (not in alpha's ApiVersions answer), so it closes the connection as a broker does for an API it does
        # not offer.
        create_acls = "001e" + "0000" + "00000c1f" + "0004" + "72617732" + "00000000"
        frame_hex = len(bytes.fromhex(create_acls)).to_bytes(4, "big").hex() + create_acls
        mark = len(kedge.log_text())
        raw, result = run_script(topo, "a", "raw_request", f"bootstrap-alpha.{DOMAIN}", str(PORT), ca,
                                 f"bootstrap-alpha.{DOMAIN}", frame_hex)
        closed = wait_for(lambda: [line.strip() for line in kedge.log_text()[mark:].splitlines()
                                   if "CreateAcls v0 refused by the policy" in line], 5)
        checks.record("alpha: CreateAcls sent anyway (hidden from ApiVersions) -> no answer, the connection is closed",
                      bool(raw) and raw[0].get("response_hex") == "" and bool(closed)
                      and "an API or version kedge does not offer" in closed[0],
                      f"client got {raw[:1]}; kedge: {(closed or ['no log line'])[0][-200:]}")
        text = metrics_text(topo, admin)
        checks.record("/metrics: gamma Produce refused as api_not_allowed",
                      metric(text, "kedge_policy_refusals_total", virtual_cluster="gamma", api="Produce",
                             reason="api_not_allowed") > 0,
                      "; ".join(line for line in metric_lines(text, "kedge_policy_refusals_total") if "gamma" in line))

        # ---- 6. metrics and log ------------------------------------------------------------------------------------
        text = metrics_text(topo, admin)
        alpha_produce = metric(text, "kedge_policy_refusals_total", virtual_cluster="alpha", api="Produce",
                               reason="read_only")
        beta_create = metric(text, "kedge_policy_refusals_total", virtual_cluster="beta", api="CreateTopics",
                             reason="api_denied")
        checks.record("/metrics: kedge_policy_refusals_total alpha/Produce/read_only > 0, "
                      "beta/CreateTopics/api_denied >= 1", alpha_produce > 0 and beta_create >= 1,
                      "; ".join(metric_lines(text, "kedge_policy_refusals_total")))
        refusal_lines = [line for line in kedge.log_text().splitlines()
                         if "refused by policy (" in line and " INFO " in line]
        produce_lines = [line for line in refusal_lines if ": Produce v" in line and "(read_only)" in line]
        checks.record("kedge logged a connection's first refusal at info: \"Produce vN refused by policy "
                      "(read_only); answered with an authorization error\"",
                      bool(produce_lines) and "answered with an authorization error" in produce_lines[0],
                      (produce_lines or refusal_lines or ["no 'refused by policy' line"])[0].strip())

        # ---- 7. hot reload: beta becomes read-only under a running producer ------------------------------
        before = metrics_text(topo, admin)
        produce_requests_before = metric(before, "kedge_requests_total", virtual_cluster="beta", api="Produce")
        steady = popen_in(topo, "b", client_argv(
            CLIENT, "produce", "--bootstrap", bootstrap("beta"), "--topic", TOPIC, "--count", STEADY_COUNT,
            "--prefix", "steady", "--rate", STEADY_RATE, "--timeout-ms", "30000", *ssl_args(ca)))
        client_address = topo.client_ip("b")
        # The producer is connected to every partition leader once beta has seen a few rounds of Produce over the
        # three partitions and its set of connections has stopped growing.
        state = {}

        def settled():
            text = metrics_text(topo, admin)
            produced = metric(text, "kedge_requests_total", virtual_cluster="beta", api="Produce")
            ids = connections_from(kedge.log_text(), client_address)
            stable = state.get("ids") == ids
            state.update(ids=ids, accepted=metric(text, "kedge_connections_accepted_total"))
            return produced - produce_requests_before >= 3 * PARTITIONS and stable and steady.poll() is None
        steady_ok = wait_for(settled, 15, interval=0.5)
        ids_before, accepted_before = state.get("ids", []), state.get("accepted")

        config = json.load(open(config_path))
        for entry in config["virtual_clusters"]:
            if entry["name"] == "beta":
                entry["policy"] = {"read_only": True}
        applied_before = kedge.log_text().count("applied to new connections")
        write_config(config_path, config)
        kedge.popen.send_signal(signal.SIGHUP)
        reloaded = wait_for(lambda: kedge.log_text().count("applied to new connections") > applied_before, 10)
        checks.record("the config with beta read-only is reloaded (SIGHUP) while the producer runs",
                      steady_ok and reloaded,
                      f"producer settled={bool(steady_ok)} on connections {ids_before}; reload applied={reloaded}")

        def refused_now():
            return metric(metrics_text(topo, admin), "kedge_policy_refusals_total", virtual_cluster="beta",
                          api="Produce", reason="read_only")
        refusals = wait_for(lambda: refused_now() >= 10, 10)
        time.sleep(0.3)  # requests routed before the reload have had their answers
        stored_at_refusals, _ = stored(topo, mock)

        code, out, err = finish(topo, steady, "steady-beta", timeout=60)
        fields = summary_fields(out, "produce")
        printed = client_lines(err)
        delivered, failed = int(fields.get("delivered", -1)), int(fields.get("failed", -1))
        checks.record(f"after the reload the running producer's deliveries fail with \"{AUTHZ_TEXT}\"",
                      bool(refusals) and code != 0 and 0 < delivered < STEADY_COUNT
                      and failed == STEADY_COUNT - delivered and any(AUTHZ_TEXT in line for line in printed),
                      f"exit {code}; {out.strip()}; printed {printed}")
        ids_after = connections_from(kedge.log_text(), client_address)
        accepted_after = metric(metrics_text(topo, admin), "kedge_connections_accepted_total")
        checks.record("the refusals came on the producer's existing connections (no reconnect)",
                      bool(ids_before) and ids_after == ids_before and accepted_after == accepted_before,
                      f"connections from {client_address}: {ids_before} before the reload, {ids_after} after; "
                      f"kedge_connections_accepted_total {accepted_before:.0f} -> {accepted_after:.0f}")
        stored_end, detail_end = stored(topo, mock)
        checks.record("nothing stored once the refusals started; stored records == delivered reports",
                      stored_at_refusals is not None and stored_end == stored_at_refusals
                      and stored_end == stored_before_steady + delivered,
                      f"high watermark sum {stored_before_steady} before the producer, {stored_at_refusals} once "
                      f"refusals were counted, {stored_end} at the end; the producer's delivered={delivered}")
        result, fields = produce(topo, "a", "beta", ca, 5, "late")
        printed = client_lines(result.stderr)
        checks.record("a new producer on beta is refused too after the reload",
                      result.returncode != 0 and fields.get("delivered") == "0"
                      and any(AUTHZ_TEXT in line for line in printed),
                      f"exit {result.returncode}; {result.stdout.strip()}; printed {printed}")

        # ---- 8. kedge ---------------------------------------------------------------------------------------------
        checks.record("kedge still running", kedge.alive())
        errors = kedge_errors(kedge.log_text())
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
        print(f"    {time.monotonic() - started:.1f}s", flush=True)
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
