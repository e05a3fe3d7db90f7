"""Shared pieces of the issue-4 scenario tests (test_gateway_sasl.py, test_gateway_broker_churn.py,
test_gateway_two_kedges.py, test_gateway_restart.py): client argv builders, SASL stages in the dc namespace,
and checks over client output. Everything here starts or inspects real processes; nothing stands in for one.
"""
import json
import os
import re
import subprocess
import time

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
