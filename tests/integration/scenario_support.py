"""Shared pieces of the issue-4 scenario tests (test_gateway_sasl.py, test_gateway_broker_churn.py,
test_gateway_two_kedges.py, test_gateway_restart.py): client argv builders, SASL stages in the dc namespace,
and checks over client output. Everything here starts or inspects real processes; nothing stands in for one.
"""
import json
import os
import re
import subprocess
import time

from kedge_harness import admin_address, start_kedge_in_topology
from test_topology_smoke import client_argv, summary_fields
from topology import TopologyError

HERE = os.path.dirname(os.path.abspath(__file__))
STAGE_BASE_PORT = 29000  # below Linux's ephemeral range (32768+), so never taken by a mock broker's listener


def tls_args(ca):
    return ["-X", f"ssl.ca.location={ca}", "-X", "ssl.endpoint.identification.algorithm=https"]


def ssl_args(ca):
    return ["-X", "security.protocol=SSL", *tls_args(ca)]


def sasl_ssl_args(ca, mechanism, user, password):
    return ["-X", "security.protocol=SASL_SSL", *tls_args(ca), "-X", f"sasl.mechanisms={mechanism}",
            "-X", f"sasl.username={user}", "-X", f"sasl.password={password}"]


def start_sasl_stages(topo, cluster, users, broker_ids=(1, 2, 3)):
    """Starts one sasl_stage.py per mock broker in dc on 127.0.0.1:STAGE_BASE_PORT+id, relaying to the broker's
    real listener, and makes the mock advertise the stage (`hostport`). Returns {id: "127.0.0.1:port"}."""
    stages = {}
    real = dict(zip(broker_ids, cluster.broker_addresses))
    for broker in broker_ids:
        port = STAGE_BASE_PORT + broker
        host, upstream_port = real[broker]
        argv = ["/usr/bin/python3", os.path.join(HERE, "sasl_stage.py"), "--listen", f"127.0.0.1:{port}",
                "--upstream", f"{host}:{upstream_port}", "--name", f"broker-{broker}",
                *[f"--user={name}:{password}" for name, password in users.items()]]
        topo.start_process("dc", argv, topo.log_path(f"sasl-stage-{broker}"), ready_port=port)
        cluster.command_ok(f"hostport {broker} 127.0.0.1 {port}")
        stages[broker] = f"127.0.0.1:{port}"
    return stages


def popen_in(topo, network, argv, stdin=None):
    return subprocess.Popen(topo.netns_argv(network, argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, text=True)


def finish(topo, process, name, timeout=90, stdin=None):
    """Waits for a client; keeps its stderr in the log dir; returns (returncode, stdout, stderr)."""
    try:
        out, err = process.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        err += f"\n(killed after {timeout}s)"
    with open(topo.log_path(f"client-{name}"), "w") as saved:
        saved.write(err)
    return process.returncode, out, err


def client_produce_argv(client, bootstrap, topic, count, prefix, timeout_ms, *extra):
    return client_argv(client, "produce", "--bootstrap", bootstrap, "--topic", topic, "--count", count,
                       "--prefix", prefix, "--timeout-ms", timeout_ms, *extra)


def client_consume_argv(client, bootstrap, topic, group, count, prefix, timeout_ms, *extra):
    return client_argv(client, "consume", "--bootstrap", bootstrap, "--topic", topic, "--group", group,
                       "--expect", count, "--prefix", prefix, "--timeout-ms", timeout_ms, *extra)


def produced_all(result, count):
    code, out, _ = result
    fields = summary_fields(out, "produce")
    return code == 0 and fields.get("ok") == "1" and fields.get("delivered") == str(count), out.strip()


def consumed_once(result, count):
    """Every one of count records exactly once (commit outcome reported separately by the caller)."""
    _, out, _ = result
    fields = summary_fields(out, "consume")
    return (fields.get("unique") == str(count) and fields.get("duplicates") == "0" and fields.get("bad") == "0",
            out.strip())


def kcat_keys(stdout, prefix):
    return [line.split("\t", 1)[0] for line in stdout.splitlines() if line.startswith(prefix + "-")]


def exactly_once(keys, prefix, count):
    """(ok, detail) for a list of consumed keys `prefix-<i>` that must hold each i < count exactly once."""
    seen = {}
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
    expected = {f"{prefix}-{i}" for i in range(count)}
    missing = expected - set(seen)
    duplicates = sum(times - 1 for times in seen.values())
    foreign = set(seen) - expected
    return (not missing and not duplicates and not foreign,
            f"unique={len(set(seen) & expected)} missing={len(missing)} duplicates={duplicates} "
            f"unexpected={len(foreign)}")


CONNECT_PATTERN = re.compile(r"Connecting to (ipv[46]#\S+)")


def connected_addresses(stderr_text):
    """Addresses librdkafka (debug=broker) connected to."""
    return set(CONNECT_PATTERN.findall(stderr_text))


def require(condition, message):
    if not condition:
        raise TopologyError(message)


DEBUG_BROKER = ["-X", "debug=broker"]  # librdkafka logs every connect attempt: "Connecting to ipv4#ADDR:PORT"
# kclient/pyclient output that may legitimately follow a leader move, see test_gateway_leader_moves.check_consumed
COMMITS_AFTER_MOVES = {"ok", "_NO_OFFSET", "FENCED_LEADER_EPOCH"}


class ContinuousTraffic:
    """One paced idempotent producer (acks=all, kclient --rate) and one group consumer of the same prefix,
    both kclient_rdk212 with debug=broker, running through kedge while a test disturbs the system.

    "No record lost / consumed once" is judged from the clients' own accounting: the producer's delivery
    reports (delivered == count, failed == 0) and the consumer's set of unique keys `prefix-<i>` (unique ==
    count, duplicates == 0, bad == 0)."""

    def __init__(self, topo, name, bootstrap, topic, count, rate, ca, producer_network="a", consumer_network="b",
                 timeout_ms=80000, client="kclient_rdk212", consumer_bootstrap=None):
        self.topo, self.name, self.count = topo, name, count
        common = [*ssl_args(ca), *DEBUG_BROKER]
        self.producer = popen_in(topo, producer_network, client_produce_argv(
            client, bootstrap, topic, count, name, timeout_ms, "--rate", rate, "-X", "enable.idempotence=true",
            "-X", "acks=all", *common))
        self.consumer = popen_in(topo, consumer_network, client_consume_argv(
            client, consumer_bootstrap or bootstrap, topic, f"g-{name}", count, name, timeout_ms, *common))

    def finish(self, timeout=90):
        self.produced = finish(self.topo, self.producer, f"{self.name}-produce", timeout)
        self.consumed = finish(self.topo, self.consumer, f"{self.name}-consume", timeout)
        return self

    def record(self, checks, commit_allowed=frozenset({"ok"}), log_duplicates_allowed=False):
        """log_duplicates_allowed: records the librdkafka mock appended twice (a retried idempotent batch whose
        ack was lost; the mock checks sequence numbers only for transactional producers) are tolerated, but
        none may be lost and none may be DELIVERED twice (same partition and offset, kclient `redelivered`)."""
        ok, detail = produced_all(self.produced, self.count)
        checks.record(f"{self.name}: idempotent producer (acks=all) got a delivery report for all {self.count}",
                      ok, detail or self.produced[2].strip()[-400:])
        if log_duplicates_allowed:
            fields = summary_fields(self.consumed[1], "consume")
            ok = (fields.get("unique") == str(self.count) and fields.get("bad") == "0"
                  and fields.get("redelivered") == "0")
            duplicates = [line for line in self.consumed[2].splitlines() if "kclient: duplicate" in line]
            checks.record(f"{self.name}: consumer received every acknowledged record, none delivered twice "
                          f"(log duplicates from retried batches: {fields.get('duplicates')})", ok,
                          self.consumed[1].strip() + ("; " + "; ".join(duplicates[:3]) if duplicates else ""))
        else:
            ok, detail = consumed_once(self.consumed, self.count)
            checks.record(f"{self.name}: consumer received every acknowledged record exactly once", ok,
                          detail or self.consumed[2].strip()[-400:])
        commit = summary_fields(self.consumed[1], "consume").get("commit")
        checks.record(f"{self.name}: final offset commit in {sorted(commit_allowed)}", commit in commit_allowed,
                      f"commit={commit}")

    def stderr(self):
        return self.produced[2] + self.consumed[2]


def check_clients_saw_only_kedge(checks, topo, stderr_text, ports):
    """Clients (debug=broker) connected only to kedge's gateway addresses and never saw 127.0.0.1."""
    connects = connected_addresses(stderr_text)
    allowed = {f"ipv4#{topo.gateway_ip(network)}:{port}" for network in topo.CLIENT_NETWORKS for port in ports}
    checks.record("clients connected to kedge's addresses only", bool(connects) and connects <= allowed,
                  f"{sorted(connects)}")
    leaked = [line for line in stderr_text.splitlines() if "127.0.0.1" in line]
    checks.record("client output never mentions 127.0.0.1 (the backend's real addresses)", not leaked,
                  "; ".join(leaked[:3]))


def kedge_errors(log_text):
    return [line for line in log_text.splitlines()
            if " ERROR " in line or "client request stream error" in line or " broker response to " in line]


def print_kedge_warnings(log_texts, limit=6):
    """Shows the first WARN lines of kedge's logs (context for a reader of the test output, not a check)."""
    warnings = [line for text in log_texts for line in text.splitlines() if " WARN " in line]
    for line in warnings[:limit]:
        print("    kedge warning: " + line)


def summary_exit_code(checks):
    """Prints the closing `N passed, M failed` line; 0 only when something passed and nothing failed."""
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


def scenario_topology():
    """The namespace topology of a scenario test (logs kept when KEDGE_KEEP_LOGS is set)."""
    from topology import Topology
    return Topology(keep_logs=bool(os.environ.get("KEDGE_KEEP_LOGS")))


def run_scenario(main, doc):
    """The shared command line of the scenario tests: `test_X.py KEDGE_BINARY`, as root (exit 77 = skipped
    otherwise), librdkafka 2.12 tools built."""
    import sys
    from topology import tool_path
    if len(sys.argv) != 2:
        print(doc)
        sys.exit(2)
    if os.geteuid() != 0:
        print("needs root for network namespaces")
        sys.exit(77)
    if tool_path("kclient_rdk212") is None or tool_path("mock_cluster_rdk212") is None:
        print("kclient_rdk212 / mock_cluster_rdk212 not built")
        sys.exit(1)
    sys.exit(main())


# --- kedge's admin endpoint, its log, and clients' JSON output --------------------------------------------------

def metrics_text(topo, admin):
    """kedge's /metrics, read from the dc namespace."""
    return topo.run_in("dc", ["curl", "-s", "-m", "5", f"http://{admin}/metrics"], timeout=15).stdout


def metric(text, name, **labels):
    """Value of the first sample of `name` carrying every label=value in `labels` (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def metric_lines(text, *names):
    """The samples of any of `names`."""
    return [line for line in text.splitlines() if any(line.startswith(name + "{") for name in names)]


def wait_for(predicate, timeout, interval=0.1):
    """predicate()'s first truthy value within `timeout` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def connections_from(log_text, address):
    """Connection ids kedge accepted from `address` (its debug line `conn N from ADDRESS:PORT: SNI ...`)."""
    return re.findall(rf"conn (\d+) from {re.escape(address)}:\d+: SNI", log_text)


def client_lines(text, limit=4, pattern=r"delivery failed|ERROR|error|FAIL|failed|authoriz"):
    """The distinct lines a user reads when a client fails (librdkafka timestamps dropped so repeats collapse)."""
    unique = []
    for line in text.splitlines():
        if not re.search(pattern, line, re.IGNORECASE):
            continue
        line = re.sub(r"^%\d\|\d+\.\d+\|", "%", line.strip())
        if line not in unique:
            unique.append(line)
    return unique[:limit]


def run_json_script(topo, ns, script, *args, timeout=90):
    """(parsed JSON lines, CompletedProcess) of the Python `script` run in namespace `ns` with `args`."""
    result = topo.run_in(ns, ["/usr/bin/python3", "-c", script, *[str(arg) for arg in args]], timeout=timeout)
    lines = []
    for line in result.stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pass
    return lines, result


# --- Virtual clusters with ACLs behind kedge's SASL termination, raw Kafka requests (test_gateway_acl_*.py) -----

ACL_DOMAIN = "kafka.example.com"


def make_users_file(kedge_binary, path, users):
    """kedge's users file at `path` (`kedge users add`, SCRAM-SHA-256 credentials, PLAIN checks them too)."""
    for user, password in users.items():
        result = subprocess.run([kedge_binary, "users", "add", user, "--file", path, "--mechanisms", "SCRAM-SHA-256"],
                                input=password, text=True, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"kedge users add {user}: {result.stderr}")


class AclKedge:
    """kedge in dc in front of one backend as virtual cluster `cluster` (shared_suffix names), terminating SASL
    `mechanism` for `users`, with `acls` as the cluster's policy and an audit log (audit.jsonl beside the config)."""

    def __init__(self, topo, kedge_binary, backend, users, acls, cluster="acme", domain=ACL_DOMAIN, port=9092,
                 mechanism="PLAIN"):
        self.topo, self.users, self.cluster, self.domain, self.port = topo, dict(users), cluster, domain, port
        self.mechanism = mechanism
        users_file = os.path.join(topo.log_dir, "users.json")
        make_users_file(kedge_binary, users_file, users)
        authentication = {"mode": "terminate", "sasl": {"mechanisms": [mechanism], "users_file": users_file}}
        self.process, certs, self.config_path = start_kedge_in_topology(
            topo, kedge_binary, [(cluster, "shared_suffix", backend)], domain, port,
            cluster_options={cluster: {"authentication": authentication, "principals": sorted(users),
                                       "policy": {"acls": acls}}},
            top_level={"audit": {"file": "audit.jsonl"}})
        self.ca = certs["ca"]
        self.audit_path = os.path.join(os.path.dirname(self.config_path), "audit.jsonl")
        self.admin = admin_address(self.process.log_text())

    def bootstrap(self):
        return f"bootstrap-{self.cluster}.{self.domain}:{self.port}"

    def broker_name(self, broker_id):
        return f"broker-{broker_id}-{self.cluster}.{self.domain}"

    def sasl_args(self, user):
        """librdkafka -X arguments for SASL_SSL as `user`."""
        return sasl_ssl_args(self.ca, self.mechanism, user, self.users[user])

    def metrics(self):
        return metrics_text(self.topo, self.admin)

    def refusals(self, api, reason="resource_denied", text=None):
        """kedge_policy_refusals_total of this cluster for `api` and `reason`."""
        return metric(text if text is not None else self.metrics(), "kedge_policy_refusals_total",
                      virtual_cluster=self.cluster, api=api, reason=reason)

    def audit_lines(self):
        """The audit log's lines, parsed (an empty list while it does not exist)."""
        try:
            with open(self.audit_path) as handle:
                return [json.loads(line) for line in handle if line.strip()]
        except (OSError, ValueError):
            return []

    def raw(self, ns, script, host, user, steps, port=None):
        """One raw connection from namespace `ns` (script: RAW_KAFKA + the test's handlers, see RAW_KAFKA): TLS with
        SNI `host`, SASL PLAIN as `user` (None: no SASL), then `steps`. Returns (head, answers, detail): the
        connection's JSON line, one JSON object per step ({} for a step that got none) and the script's output tail."""
        return raw_session(self.topo, ns, script, host, port or self.port, self.ca, host, user,
                           self.users.get(user, "-"), steps)


def raw_session(topo, ns, script, host, port, ca, server_name, user, password, steps):
    """RAW_KAFKA's `session` in namespace `ns`; ca None: plaintext without SASL (straight at a mock broker)."""
    args = (ca, server_name, user or "-", password if user else "-") if ca else ("-", "-", "-", "-")
    lines, result = run_json_script(topo, ns, script, "session", host, port, *args, json.dumps(steps))
    head = lines[0] if lines else {}
    answers = lines[1:] + [{}] * (len(steps) - len(lines) + 1)
    return head, answers, (result.stdout + result.stderr).strip()[-600:]


# The wire-level half of a raw client, run with /usr/bin/python3 -c in a namespace: a test's script is
# RAW_KAFKA + its own request handlers + a dispatch line, e.g.
#     SCRIPT = RAW_KAFKA + r'''
#     def my_body(step): ...
#     def my_parse(r, step): ...
#     HANDLERS["my"] = (API_KEY, lambda version: FLEXIBLE, my_body, my_parse)
#     {"session": session}[sys.argv[1]](*sys.argv[2:])
#     '''
# `session HOST PORT CA SNI USER PASSWORD STEPS_JSON` opens one connection (CA "-": plaintext; else TLS with SNI, and
# with USER not "-" SaslHandshake v1 + SaslAuthenticate v1 PLAIN), prints {"op": "connect", ...}, then sends each
# step, a JSON object {KIND: VERSION, ...} with KIND a key of HANDLERS, and prints one JSON line per step: the step,
# its correlation id, "outcome" ("answered", "closed", "timeout"), "answer_correlation_id", what the handler's parse
# returned, "trailing_bytes" (bytes after what it parsed) or "parse_error". A handler is (api key, flexible(version),
# body(step) -> bytes, parse(Reader positioned after the response header, step) -> dict). Built in: api_versions
# (v0-2: the librdkafka mock answers v3 with UNSUPPORTED_VERSION), metadata (v12: every topic's name, id, error and
# partition count).
RAW_KAFKA = r'''
import json, socket, ssl, struct, sys

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
    if text is None:
        return uvarint(0)
    data = text.encode()
    return uvarint(len(data) + 1) + data

def compact_array(items, encode):
    if items is None:
        return uvarint(0)
    return uvarint(len(items) + 1) + b"".join(encode(item) for item in items)

def frame(api_key, version, correlation, body, flexible=False, client_id="kedge-raw"):
    message = struct.pack(">hhi", api_key, version, correlation) + string(client_id)
    if flexible:
        message += b"\0"  # request header v2: no tagged fields
    message += body
    return struct.pack(">i", len(message)) + message

def read_frame(sock):
    """(frame, bytes received, None), or (None, bytes received so far, why) when the peer closes or goes silent."""
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
        return text if length >= 0 else None
    def compact_string(self):
        length = self.uvarint() - 1
        if length > len(self.data) - self.pos:
            raise ValueError("string past the end of the frame")
        text = self.data[self.pos:self.pos + max(length, 0)].decode(); self.pos += max(length, 0)
        return text if length >= 0 else None
    def compact_bytes(self):
        length = self.uvarint() - 1
        if length > len(self.data) - self.pos:
            raise ValueError("bytes past the end of the frame")
        return self.raw(length) if length >= 0 else None
    def compact_array(self, element):
        count = self.uvarint() - 1
        return None if count < 0 else [element(self) for _ in range(count)]
    def uuid(self):
        return self.raw(16).hex()
    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            size = self.uvarint()
            self.raw(size)
    def raw(self, size):
        if size > len(self.data) - self.pos:
            raise ValueError("field past the end of the frame")
        chunk = self.data[self.pos:self.pos + size]; self.pos += size
        return chunk

def api_versions_body(step):
    if step["api_versions"] >= 3:
        return compact_string("kedge-raw") + compact_string("1") + b"\0"
    return b""

def api_versions_parse(r, step):
    # ApiVersionsResponse (header v0 in every version): ErrorCode, ApiKeys [ApiKey, Min, Max]
    version = step["api_versions"]
    out = {"error_code": r.take(">h")}
    count = r.uvarint() - 1 if version >= 3 else r.take(">i")
    versions = {}
    for _ in range(max(count, 0)):
        key, low, high = r.take(">hhh")
        if version >= 3:
            r.tags()
        versions[str(key)] = [low, high]
    out["versions"] = versions
    if version >= 1:
        r.take(">i")  # ThrottleTimeMs
    if version >= 3:
        r.tags()
    return out

def metadata_body(step):
    # MetadataRequest v12: Topics null (all), or by id ({"ids": [HEX, ...]}: TopicId, Name null), then
    # AllowAutoTopicCreation false, IncludeTopicAuthorizedOperations false
    ids = step.get("ids")
    topics = uvarint(0) if ids is None else uvarint(len(ids) + 1) + b"".join(
        bytes.fromhex(topic_id) + uvarint(0) + b"\0" for topic_id in ids)
    return topics + b"\0\0\0"

def metadata_parse(r, step):
    # MetadataResponse v12
    r.take(">i")  # ThrottleTimeMs
    brokers = []
    for _ in range(r.uvarint() - 1):
        node = r.take(">i"); host = r.compact_string(); port = r.take(">i"); r.compact_string(); r.tags()
        brokers.append([node, f"{host}:{port}"])
    r.compact_string()  # ClusterId
    r.take(">i")  # ControllerId
    topics = []
    for _ in range(r.uvarint() - 1):
        error = r.take(">h"); name = r.compact_string(); topic_id = r.uuid(); r.take(">b")
        partitions = 0
        for _ in range(r.uvarint() - 1):
            r.take(">hiii")  # ErrorCode, PartitionIndex, LeaderId, LeaderEpoch
            for _ in range(3):  # ReplicaNodes, IsrNodes, OfflineReplicas
                nodes = r.uvarint() - 1
                r.raw(4 * max(nodes, 0))
            r.tags()
            partitions += 1
        r.take(">i")  # TopicAuthorizedOperations
        r.tags()
        topics.append({"topic": name, "id": topic_id, "error": error, "partitions": partitions})
    r.tags()
    return {"brokers": brokers, "topics": topics}

# kind -> (api key, flexible(version), body(step), parse(Reader after the response header, step))
HANDLERS = {
    "api_versions": (18, lambda version: version >= 3, api_versions_body, api_versions_parse),
    "metadata": (3, lambda version: version >= 9, metadata_body, metadata_parse),
}

def connect(host, port, ca, server_name, user, password):
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = {"op": "connect", "local": "%s:%d" % sock.getsockname()[:2]}
    if ca != "-":
        sock = ssl.create_default_context(cafile=ca).wrap_socket(sock, server_hostname=server_name)
        if user != "-":
            sock.sendall(frame(17, 1, 1, string("PLAIN")))
            response, _, why = read_frame(sock)
            head["handshake_error"] = struct.unpack_from(">h", response, 8)[0] if response else why
            token = b"\0" + user.encode() + b"\0" + password.encode()
            sock.sendall(frame(36, 1, 2, struct.pack(">i", len(token)) + token))
            response, _, why = read_frame(sock)
            head["auth_error"] = struct.unpack_from(">h", response, 8)[0] if response else why
    return sock, head

def session(host, port, ca, server_name, user, password, steps):
    sock, head = connect(host, port, ca, server_name, user, password)
    print(json.dumps(head), flush=True)
    sock.settimeout(8)
    correlation = 10
    for step in json.loads(steps):
        correlation += 1
        kind = next(key for key in step if key in HANDLERS)
        api_key, flexible, body, parse = HANDLERS[kind]
        version = step[kind]
        out = {"step": step, "correlation_id": correlation}
        sock.sendall(frame(api_key, version, correlation, body(step), flexible(version)))
        response, received, why = read_frame(sock)
        out["received_bytes"] = len(received)
        if response is None:
            out["outcome"] = why
            print(json.dumps(out), flush=True)
            break
        out["outcome"] = "answered"
        out["answer_correlation_id"] = struct.unpack_from(">i", response, 4)[0]
        r = Reader(response, 8)
        try:
            if flexible(version) and api_key != 18:
                r.tags()  # response header v1
            out.update(parse(r, step))
            out["trailing_bytes"] = len(response) - r.pos
        except (struct.error, IndexError, UnicodeDecodeError, ValueError) as error:
            out["parse_error"] = f"{type(error).__name__}: {error}"
        print(json.dumps(out), flush=True)
    sock.close()
'''
