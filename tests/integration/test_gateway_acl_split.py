#!/usr/bin/python3
"""Requests that mix allowed and refused topics are split (issue 18, docs/policy.md "Requests that mix allowed and
refused topics", kafka_codec/split.h): the allowed topics go to the broker, kedge answers the refused ones with
TOPIC_AUTHORIZATION_FAILED (29) in the same response. Real clients over real TLS through the real kedge.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock with "orders", "audit" and "ledger", 3 partitions each, partition p
                  of every topic led by broker p+1 (so each broker leads a partition of every topic and a client's
                  request to it names all three); "orders" and "ledger" get 30 records each straight at the mock
                  (kclient_rdk212 in dc, prefix "pre"). kedge on :9092, one virtual cluster, acme
                  (bootstrap-acme.<domain>), terminating SASL PLAIN (alice), an audit log, and
                    "acls": [
                      {"allow": ["Write", "Read"], "topics": ["orders"], "principals": ["alice"]},
                      {"allow": ["Describe"], "topics": ["audit", "ledger"], "principals": ["alice"]},
                      {"allow": ["Read"], "groups": ["split-*"], "principals": ["alice"]}]
                  so alice sees audit and ledger in Metadata (her client mixes them into its requests) but may not
                  Write audit nor Read ledger.
    <prefix>-a    kafkapy_client.py (kafka-python 2.0.2: batches every ready partition of a broker, across topics,
                  into ONE ProduceRequest and fetches all of a broker's partitions in one FetchRequest),
                  kclient_rdk212 (librdkafka 2.12) and raw Kafka requests over TLS (python ssl), all as alice

Checks (one PASS/FAIL line each, quoting what the clients printed, then `N passed, M failed`):
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
  5. The audit log has one `"split": true` line per split request (as many as the split counters) naming only the
     refused topic (audit for Produce, ledger for Fetch, principal alice); /metrics counts them as resource_denied
     refusals too; kedge still runs and logged no errors and no warnings.
They run in the order setup, 2, 1, 4, 3, 5 (the consumer of 2 reads orders before 1 and 4 write more to it).

Usage: test_gateway_acl_split.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, start_kedge_in_topology  # noqa: E402
from scenario_support import (client_lines, finish, kedge_errors, metric, metric_lines, metrics_text,  # noqa: E402
                              popen_in, run_json_script, run_scenario, sasl_ssl_args, scenario_topology,
                              summary_exit_code)
from test_topology_smoke import Checks, client_argv, summary_fields  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
CLUSTER = "acme"
PARTITIONS = 3
TOPICS = {"orders": PARTITIONS, "audit": PARTITIONS, "ledger": PARTITIONS}
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
CLIENT_SCRIPT = r"""
import json, socket, ssl, struct, sys

def watermarks(bootstrap, topic, partitions):
    import confluent_kafka
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "kedge-split-watermarks"})
    high = [consumer.get_watermark_offsets(confluent_kafka.TopicPartition(topic, p), timeout=15)[1]
            for p in range(int(partitions))]
    consumer.close()
    print(json.dumps({"topic": topic, "high": high, "sum": sum(high)}), flush=True)

def string(text):
    data = text.encode()
    return struct.pack(">h", len(data)) + data

def uvarint(n):
    out = b""
    while True:
        byte = n & 0x7f
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])

def compact_string(text):
    data = text.encode()
    return uvarint(len(data) + 1) + data

def frame(api_key, version, correlation, body, flexible=False):
    message = struct.pack(">hhi", api_key, version, correlation) + string("kedge-split-raw")
    if flexible:
        message += b"\0"  # request header v2: no tagged fields
    message += body
    return struct.pack(">i", len(message)) + message

def read_frame(sock):
    received = b""
    try:
        while len(received) < 4 or len(received) < 4 + struct.unpack(">i", received[:4])[0]:
            chunk = sock.recv(65536)
            if not chunk:
                return None, received, "closed"
            received += chunk
    except (socket.timeout, TimeoutError):
        return None, received, "timeout"
    except (ssl.SSLError, ConnectionError) as error:
        return None, received, f"closed ({error})"
    return received, received, None

class Reader:
    def __init__(self, data, pos):
        self.data, self.pos = data, pos
    def take(self, fmt):
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values if len(values) > 1 else values[0]
    def uvarint(self):
        shift = value = 0
        while True:
            byte = self.data[self.pos]; self.pos += 1
            value |= (byte & 0x7f) << shift
            if not byte & 0x80:
                return value
            shift += 7
    def string(self):
        length = self.take(">h")
        text = self.data[self.pos:self.pos + max(length, 0)].decode(); self.pos += max(length, 0)
        return text
    def compact_string(self):
        length = self.uvarint() - 1
        text = self.data[self.pos:self.pos + max(length, 0)].decode(); self.pos += max(length, 0)
        return text
    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.pos += self.uvarint()
    def raw(self, size):
        chunk = self.data[self.pos:self.pos + size]; self.pos += size
        return chunk

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
    sock = socket.create_connection((host, int(port)), timeout=10)
    local = "%s:%d" % sock.getsockname()[:2]
    head = {"op": "connect", "local": local}
    if ca != "-":
        sock = ssl.create_default_context(cafile=ca).wrap_socket(sock, server_hostname=server_name)
        sock.sendall(frame(17, 1, 1, string("PLAIN")))
        response, _, why = read_frame(sock)
        head["handshake_error"] = struct.unpack_from(">h", response, 8)[0] if response else why
        token = b"\0" + user.encode() + b"\0" + password.encode()
        sock.sendall(frame(36, 1, 2, struct.pack(">i", len(token)) + token))
        response, _, why = read_frame(sock)
        head["auth_error"] = struct.unpack_from(">h", response, 8)[0] if response else why
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
        except (struct.error, IndexError, UnicodeDecodeError) as error:
            out["parse_error"] = str(error)
        print(json.dumps(out), flush=True)
    sock.close()

{"watermarks": watermarks, "raw": raw}[sys.argv[1]](*sys.argv[2:])
"""


def bootstrap():
    return f"bootstrap-{CLUSTER}.{DOMAIN}:{PORT}"


def broker_name(broker_id):
    return f"broker-{broker_id}-{CLUSTER}.{DOMAIN}"


def make_users_file(kedge_binary, path):
    for user, password in USERS.items():
        result = subprocess.run([kedge_binary, "users", "add", user, "--file", path, "--mechanisms", "SCRAM-SHA-256"],
                                input=password, text=True, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"kedge users add {user}: {result.stderr}")


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
        users_file = os.path.join(topo.log_dir, "users.json")
        make_users_file(kedge_binary, users_file)
        authentication = {"mode": "terminate", "sasl": {"mechanisms": [MECHANISM], "users_file": users_file}}
        kedge, certs, config_path = start_kedge_in_topology(
            topo, kedge_binary, [(CLUSTER, "shared_suffix", mock.bootstrap)], DOMAIN, PORT,
            cluster_options={CLUSTER: {"authentication": authentication, "principals": sorted(USERS),
                                       "policy": {"acls": ACLS}}},
            top_level={"audit": {"file": "audit.jsonl"}})
        audit_path = os.path.join(os.path.dirname(config_path), "audit.jsonl")
        ca = certs["ca"]
        admin = admin_address(kedge.log_text())
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
                          for api in ("Produce", "Fetch")},
                "refused": {api: metric(text, "kedge_policy_refusals_total", virtual_cluster=CLUSTER, api=api,
                                        reason="resource_denied") for api in ("Produce", "Fetch")},
            }

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
                      f"before {before}, after {after}")

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

        # ---- 5. audit log, metrics, kedge ----------------------------------------------------------------------------
        def audit_lines():
            try:
                with open(audit_path) as handle:
                    return [json.loads(line) for line in handle if line.strip()]
            except (OSError, ValueError):
                return []
        final = counters()
        lines = audit_lines()
        split_lines = [a for a in lines if a.get("split") is True]
        by_api = {api: [a for a in split_lines if a.get("api") == api] for api in ("Produce", "Fetch")}
        refused_topic = {"Produce": "audit", "Fetch": "ledger"}
        shape_ok = all(a.get("resources") == [{"type": "topic", "name": refused_topic[api]}]
                       and a.get("outcome") == "denied" and a.get("reason") == "resource_denied"
                       and a.get("principal") == "alice" and a.get("virtual_cluster") == CLUSTER
                       for api, found in by_api.items() for a in found)
        checks.record("audit log: one \"split\": true line per split request, naming only the refused topic (audit "
                      "for Produce, ledger for Fetch)",
                      shape_ok and all(len(by_api[api]) == final["split"][api] > 0 for api in by_api)
                      and len(split_lines) == sum(len(found) for found in by_api.values()),
                      f"{len(lines)} lines; split lines Produce {len(by_api['Produce'])}, Fetch {len(by_api['Fetch'])} "
                      f"(metrics {final['split']}); e.g. " + " | ".join(
                          json.dumps(found[0]) for found in by_api.values() if found))
        text = metrics_text(topo, admin)
        checks.record("/metrics: kedge_policy_split_requests_total for Produce and Fetch, counted in "
                      "kedge_policy_refusals_total{reason=\"resource_denied\"} too",
                      all(final["split"][api] > 0 and final["refused"][api] >= final["split"][api]
                          for api in ("Produce", "Fetch")),
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
