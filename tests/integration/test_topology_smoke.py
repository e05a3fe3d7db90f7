#!/usr/bin/python3
"""Proves the integration-test infrastructure itself, before any test goes through kedge.

(a) Inside the dc namespace, every client (kclient_rdk212, kclient_rdk20, pyclient, kcat) produces N=200
    messages DIRECTLY to each mock cluster build (rdk20, rdk212) and consumes them back in a consumer
    group, each key exactly once with the right value; the mock's command channel and metadata output
    are checked on the way, and each binary must report the librdkafka version it was built for.
(b) In client namespace a (b), names under kafka.example.com resolve to the gateway address of network
    a (b), via getent and Python getaddrinfo; names outside the domain do not resolve.
(d) The client TLS path kedge tests will use, with haproxy as a stand-in TLS terminator in dc and the 2.12
    mock advertising `bootstrap.kafka.example.com:9093`: clients in a and b produce/consume over SSL with
    -X ssl.ca.location / ssl.endpoint.identification.algorithm=https; without the CA, or by IP, they fail.
(c) From client namespace a, the cluster's advertised addresses are unreachable (isolation), a and b
    cannot reach each other, while a listener on the gateway addresses in dc IS reachable from both
    (positive control, using start_process' readiness wait as kedge's tests will).

Prints one `PASS|FAIL|SKIP <check>` line per check, then `N passed, M failed`; exits 1 on any failure,
77 when it cannot run (not root). Binaries come from KEDGE_* variables or KEDGE_BUILD_DIR (see topology.tool_path).
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import topology  # noqa: E402
from topology import Topology, call_in_netns, tcp_connect_result, tool_path  # noqa: E402

MESSAGE_COUNT = 200
PARTITIONS = 6
BROKERS = 3
CLIENT_TIMEOUT_MS = 30000
EXPECTED_LIBRDKAFKA = {"rdk20": "2.0.2", "rdk212": "2.12"}


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def record(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        suffix = f": {detail}" if detail and not ok else (f" ({detail})" if detail else "")
        print(f"{'PASS' if ok else 'FAIL'} {name}{suffix}", flush=True)

    @staticmethod
    def skip(name, reason):
        print(f"SKIP {name} ({reason})", flush=True)


def summary_fields(stdout, verb):
    """Parses the `<verb> ok=1 key=value ...` summary line of kclient/pyclient into a dict."""
    for line in stdout.splitlines():
        if line.startswith(verb + " "):
            return dict(item.split("=", 1) for item in line.split()[1:] if "=" in item)
    return {}


def parse_metadata(stdout):
    brokers, topics, leaders = {}, {}, {}
    for line in stdout.splitlines():
        fields = line.split()
        if fields[:1] == ["broker"] and len(fields) == 3:
            brokers[int(fields[1])] = fields[2]
        elif fields[:1] == ["topic"] and len(fields) == 3:
            topics[fields[1]] = int(fields[2])
        elif fields[:1] == ["partition"] and len(fields) == 4:
            leaders[(fields[1], int(fields[2]))] = int(fields[3])
    return brokers, topics, leaders


def client_argv(client, subcommand, *args):
    if client == "pyclient":
        return ["/usr/bin/python3", tool_path("pyclient.py"), subcommand, *args]
    return [tool_path(client), subcommand, *args]


def verify_keys(lines, prefix, count):
    """Exactly-once check over `key<TAB>value` lines: returns (ok, detail)."""
    seen = {}
    bad = 0
    for line in lines:
        key, _, value = line.partition("\t")
        head, _, digits = key.rpartition("-")
        if head != prefix or not digits.isdigit() or int(digits) >= count or value != key:
            bad += 1
            continue
        seen[int(digits)] = seen.get(int(digits), 0) + 1
    duplicates = sum(times - 1 for times in seen.values())
    detail = f"unique={len(seen)} duplicates={duplicates} bad={bad} expected={count}"
    return len(seen) == count and duplicates == 0 and bad == 0, detail


def produce_consume(topo, checks, cluster, client, topic):
    """Produce N then consume N in a fresh group with one client, directly against the mock, in dc."""
    name = f"direct[{cluster.version} mock, {client}]"
    prefix = f"{client}-{cluster.version}"
    group = f"group-{prefix}"
    if client == "kcat":
        lines = "".join(f"{prefix}-{i}:{prefix}-{i}\n" for i in range(MESSAGE_COUNT))
        produced = topo.run_in("dc", ["kcat", "-P", "-b", cluster.bootstrap, "-t", topic, "-K", ":"],
                               input=lines, timeout=60)
        checks.record(f"{name} produce", produced.returncode == 0, produced.stderr.strip()[-500:])
        consumed = topo.run_in("dc", ["kcat", "-C", "-b", cluster.bootstrap, "-G", group, "-X",
                                      "auto.offset.reset=earliest", "-e", "-q", "-f", "%k\t%s\n", topic],
                               timeout=60)
        ok, detail = verify_keys(consumed.stdout.splitlines(), prefix, MESSAGE_COUNT)
        checks.record(f"{name} consume exactly-once", ok and consumed.returncode == 0,
                      detail + ("" if consumed.returncode == 0 else f" rc={consumed.returncode}"))
        return
    produced = topo.run_in("dc", client_argv(client, "produce", "--bootstrap", cluster.bootstrap, "--topic", topic,
                                             "--count", MESSAGE_COUNT, "--prefix", prefix,
                                             "--timeout-ms", CLIENT_TIMEOUT_MS), timeout=90)
    fields = summary_fields(produced.stdout, "produce")
    checks.record(f"{name} produce", produced.returncode == 0 and fields.get("ok") == "1"
                  and fields.get("delivered") == str(MESSAGE_COUNT) and fields.get("partitions") == str(PARTITIONS),
                  produced.stdout.strip() or produced.stderr.strip()[-500:])
    consumed = topo.run_in("dc", client_argv(client, "consume", "--bootstrap", cluster.bootstrap, "--topic", topic,
                                             "--group", group, "--expect", MESSAGE_COUNT, "--prefix", prefix,
                                             "--timeout-ms", CLIENT_TIMEOUT_MS), timeout=90)
    fields = summary_fields(consumed.stdout, "consume")
    checks.record(f"{name} consume exactly-once", consumed.returncode == 0 and fields.get("ok") == "1"
                  and fields.get("unique") == str(MESSAGE_COUNT) and fields.get("partitions") == str(PARTITIONS),
                  consumed.stdout.strip() or consumed.stderr.strip()[-500:])
    if client.startswith("kclient_"):
        want = EXPECTED_LIBRDKAFKA[client.removeprefix("kclient_")]
        checks.record(f"{client} runs librdkafka {want}", f"librdkafka {want}" in consumed.stderr,
                      consumed.stderr.splitlines()[0] if consumed.stderr else "no stderr")


def check_direct(topo, checks, mock_version, clients):
    topics = {f"smoke-{client}": PARTITIONS for client in clients}
    cluster = topo.start_mock_cluster(mock_version, brokers=BROKERS, topics=topics)
    want = EXPECTED_LIBRDKAFKA[mock_version]
    log_text = cluster.log_text()
    version_lines = [line for line in log_text.splitlines() if line.startswith("mock_cluster: librdkafka")]
    checks.record(f"mock_cluster_{mock_version} runs librdkafka {want}", f"librdkafka {want}" in log_text,
                  version_lines[0] if version_lines else log_text.strip()[-300:])

    inspector = "kclient_rdk212" if "kclient_rdk212" in clients else "kclient_rdk20"
    metadata = topo.run_in("dc", client_argv(inspector, "metadata", "--bootstrap", cluster.bootstrap,
                                             "--timeout-ms", "10000"))
    brokers, listed_topics, leaders = parse_metadata(metadata.stdout)
    expected_brokers = {index + 1: f"{host}:{port}" for index, (host, port) in enumerate(cluster.broker_addresses)}
    checks.record(f"metadata[{mock_version} mock] lists brokers 1..{BROKERS} at the bootstrap addresses",
                  brokers == expected_brokers,
                  cluster.bootstrap if brokers == expected_brokers else f"got {brokers}, want {expected_brokers}")
    checks.record(f"metadata[{mock_version} mock] lists the created topics",
                  all(listed_topics.get(topic) == PARTITIONS for topic in topics), ", ".join(f"{name}:{count}" for name, count in listed_topics.items()))

    # The command channel: move one leader and see it in fresh metadata.
    probe_topic = next(iter(topics))
    new_leader = 1 if leaders.get((probe_topic, 0)) != 1 else 2
    answer = cluster.command(f"leader {probe_topic} 0 {new_leader}")
    after = parse_metadata(topo.run_in("dc", client_argv(inspector, "metadata", "--bootstrap", cluster.bootstrap,
                                                         "--timeout-ms", "10000")).stdout)[2]
    checks.record(f"mock[{mock_version}] 'leader' command moves partition 0 to broker {new_leader}",
                  answer == "ok" and after.get((probe_topic, 0)) == new_leader,
                  f"answer={answer!r} leader now {after.get((probe_topic, 0))}")
    answer = cluster.command("fly away")
    checks.record(f"mock[{mock_version}] rejects an unknown command", answer.startswith("error "), answer)

    for client in clients:
        produce_consume(topo, checks, cluster, client, f"smoke-{client}")

    # Optional 2.12 APIs: present in rdk212 (broker joins metadata), absent in rdk20 (explicit error).
    answer = cluster.command(f"add {BROKERS + 1}")
    if mock_version == "rdk212":
        brokers = parse_metadata(topo.run_in("dc", client_argv(inspector, "metadata", "--bootstrap",
                                                               cluster.bootstrap, "--timeout-ms", "10000")).stdout)[0]
        checks.record("mock[rdk212] 'add' brings a new broker into metadata",
                      answer == "ok" and BROKERS + 1 in brokers, f"answer={answer!r} brokers={brokers}")
    else:
        checks.record("mock[rdk20] 'add' reports unsupported", answer.startswith("error unsupported"), answer)
    return cluster


def check_dns(topo, checks):
    for network in Topology.CLIENT_NETWORKS:
        want = topo.gateway_ip(network)
        for name in ("anything.kafka.example.com", "bootstrap.kafka.example.com", "broker-2.kafka.example.com"):
            result = topo.run_in(network, ["getent", "hosts", name])
            got = result.stdout.split()[:1]
            checks.record(f"dns[{network}] getent {name} -> {want}", got == [want], f"got {result.stdout.strip()!r}")
        script = ("import socket; print(sorted({a[4][0] for a in socket.getaddrinfo("
                  "'broker-7.kafka.example.com', 9092, proto=socket.IPPROTO_TCP)}))")
        result = topo.run_in(network, ["/usr/bin/python3", "-c", script])
        checks.record(f"dns[{network}] getaddrinfo broker-7.kafka.example.com -> {want}",
                      result.stdout.strip() == str([want]), f"got {result.stdout.strip()!r} {result.stderr[-200:]}")
        result = topo.run_in(network, ["getent", "hosts", "kafka.example.org"])
        checks.record(f"dns[{network}] names outside the domain do not resolve", result.returncode != 0,
                      f"got {result.stdout.strip()!r}")


def check_isolation(topo, checks, cluster):
    probe = "kclient_rdk212" if tool_path("kclient_rdk212") else "kclient_rdk20"
    result = topo.run_in("a", client_argv(probe, "metadata", "--bootstrap", cluster.bootstrap, "--timeout-ms", "3000"))
    checks.record("isolation: client ns a cannot fetch metadata from the advertised bootstrap",
                  result.returncode != 0 and "metadata ok=0" in result.stdout, result.stdout.strip())
    ns_a = topo.ns("a")
    for host, port in cluster.broker_addresses:
        outcome = call_in_netns(ns_a, tcp_connect_result, host, port)
        checks.record(f"isolation: a -> broker {host}:{port} fails", outcome != "connected", outcome)
        outcome = call_in_netns(ns_a, tcp_connect_result, topo.gateway_ip("a"), port)
        checks.record(f"isolation: a -> {topo.gateway_ip('a')}:{port} (broker port on dc's veth) fails",
                      outcome != "connected", outcome)
    outcome = call_in_netns(ns_a, tcp_connect_result, topo.client_ip("b"), 9092)
    checks.record("isolation: a -> client network b fails", outcome != "connected", outcome)
    outcome = call_in_netns(topo.ns("b"), tcp_connect_result, topo.client_ip("a"), 9092)
    checks.record("isolation: b -> client network a fails", outcome != "connected", outcome)
    outcome = call_in_netns(topo.ns("dc"), tcp_connect_result, *cluster.broker_addresses[0])
    checks.record("control: dc -> broker 1 connects", outcome == "connected", outcome)

    # Positive control: a stand-in for kedge listening on every dc address, reached from a and b by name.
    listener = ("import socket\n"
                "server = socket.create_server(('0.0.0.0', 9092), reuse_port=False)\n"
                "while True:\n"
                "    connection, _ = server.accept()\n"
                "    connection.close()\n")
    topo.start_process("dc", ["/usr/bin/python3", "-c", listener], topo.log_path("listener"), ready_port=9092)
    for network in Topology.CLIENT_NETWORKS:
        outcome = call_in_netns(topo.ns(network), tcp_connect_result, topo.gateway_ip(network), 9092)
        checks.record(f"control: {network} -> gateway {topo.gateway_ip(network)}:9092 connects",
                      outcome == "connected", outcome)
        script = ("import socket; socket.create_connection(('bootstrap.kafka.example.com', 9092), timeout=2)"
                  ".close(); print('connected')")
        result = topo.run_in(network, ["/usr/bin/python3", "-c", script])
        checks.record(f"control: {network} -> bootstrap.kafka.example.com:9092 connects by name",
                      result.stdout.strip() == "connected", (result.stdout + result.stderr).strip()[-300:])


TLS_PORT = 9093
TLS_BOOTSTRAP = f"bootstrap.kafka.example.com:{TLS_PORT}"


def check_tls_client_path(topo, checks, clients):
    if not shutil.which("haproxy") or not tool_path("mock_cluster_rdk212"):
        Checks.skip("tls client path", "needs haproxy and mock_cluster_rdk212 (hostport command)")
        return
    pki = topology.make_test_pki(os.path.join(topo.log_dir, "pki"), ["*.kafka.example.com"])
    cluster = topo.start_mock_cluster("rdk212", brokers=1, topics={"tls-smoke": 3})
    cluster.command_ok(f"hostport 1 bootstrap.kafka.example.com {TLS_PORT}")
    broker_host, broker_port = cluster.broker_addresses[0]
    config_path = os.path.join(topo.log_dir, "haproxy.cfg")
    with open(config_path, "w") as config:
        config.write("defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n"
                     f"frontend tls\n  bind 0.0.0.0:{TLS_PORT} ssl crt {pki['pem']}\n  default_backend broker\n"
                     f"backend broker\n  server broker1 {broker_host}:{broker_port}\n")
    topo.start_process("dc", ["haproxy", "-db", "-f", config_path], topo.log_path("haproxy"), ready_port=TLS_PORT)
    tls = ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={pki['ca']}",
           "-X", "ssl.endpoint.identification.algorithm=https"]

    inspector = "kclient_rdk212" if "kclient_rdk212" in clients else "kclient_rdk20"
    result = topo.run_in("a", client_argv(inspector, "metadata", "--bootstrap", TLS_BOOTSTRAP, "--timeout-ms", "10000",
                                          *tls))
    brokers = parse_metadata(result.stdout)[0]
    checks.record("tls[a] metadata via SNI name advertises the gateway name", brokers == {1: TLS_BOOTSTRAP},
                  f"brokers={brokers}" if brokers else result.stderr.strip()[-300:])
    result = topo.run_in("a", client_argv(inspector, "metadata", "--bootstrap", TLS_BOOTSTRAP, "--timeout-ms", "3000",
                                          "-X", "security.protocol=SSL"))
    checks.record("tls[a] without the test CA the certificate is rejected",
                  result.returncode != 0 and "certificate verify failed" in result.stderr, result.stdout.strip())
    result = topo.run_in("a", client_argv(inspector, "metadata", "--bootstrap", f"{topo.gateway_ip('a')}:{TLS_PORT}",
                                          "--timeout-ms", "3000", *tls))
    checks.record("tls[a] bootstrap by IP fails hostname verification",
                  result.returncode != 0 and "certificate verify failed" in result.stderr, result.stdout.strip())

    for index, client in enumerate(name for name in clients if name != "kcat"):
        network = Topology.CLIENT_NETWORKS[index % 2]
        prefix = f"tls-{client}"
        produced = topo.run_in(network, client_argv(client, "produce", "--bootstrap", TLS_BOOTSTRAP, "--topic",
                                                    "tls-smoke", "--count", MESSAGE_COUNT, "--prefix", prefix,
                                                    "--timeout-ms", CLIENT_TIMEOUT_MS, *tls), timeout=90)
        consumed = topo.run_in(network, client_argv(client, "consume", "--bootstrap", TLS_BOOTSTRAP, "--topic",
                                                    "tls-smoke", "--group", f"group-{prefix}", "--expect",
                                                    MESSAGE_COUNT, "--prefix", prefix, "--timeout-ms",
                                                    CLIENT_TIMEOUT_MS, *tls), timeout=90)
        fields = summary_fields(consumed.stdout, "consume")
        checks.record(f"tls[{network}] {client} produce+consume {MESSAGE_COUNT} over SSL exactly once",
                      produced.returncode == 0 and consumed.returncode == 0 and fields.get("ok") == "1",
                      f"{produced.stdout.strip()} | {consumed.stdout.strip() or consumed.stderr.strip()[-300:]}")


def main():
    if os.geteuid() != 0:
        print("SKIP integration.topology_smoke (needs root for network namespaces)")
        return 77
    checks = Checks()
    clients = [client for client in ("kclient_rdk212", "kclient_rdk20") if tool_path(client)]
    for missing in {"kclient_rdk212", "kclient_rdk20"} - set(clients):
        Checks.skip(missing, "not built")
    clients.append("pyclient")
    if shutil.which("kcat"):
        clients.append("kcat")
    mock_versions = [version for version in ("rdk20", "rdk212") if tool_path(f"mock_cluster_{version}")]
    for missing in {"rdk20", "rdk212"} - set(mock_versions):
        Checks.skip(f"mock_cluster_{missing}", "not built")
    if not mock_versions or not clients:
        print("0 passed, 1 failed (no mock cluster or client binary found; set KEDGE_BUILD_DIR)")
        return 1

    try:
        with Topology() as topo:
            print(f"topology {topo.prefix}: dc={topo.ns('dc')} a={topo.ns('a')} b={topo.ns('b')} "
                  f"gateway a={topo.gateway_ip('a')} b={topo.gateway_ip('b')}", flush=True)
            clusters = [check_direct(topo, checks, version, clients) for version in mock_versions]
            check_dns(topo, checks)
            check_isolation(topo, checks, clusters[-1])
            check_tls_client_path(topo, checks, clients)
            leftovers = [process.argv[0] for process in topo.processes if not process.alive()]
            checks.record("every started process is still running before teardown", not leftovers, str(leftovers))
            names = list(topo.namespaces.values())
        remaining = set(topology._run(["ip", "netns", "list"]).stdout.split()) & set(names)
        etc_left = [name for name in names if os.path.exists(os.path.join(topology.NETNS_ETC_DIR, name))]
        checks.record("teardown removed namespaces and /etc/netns dirs", not remaining and not etc_left,
                      f"namespaces={sorted(remaining)} etc={etc_left}")
    except topology.TopologyError as error:
        checks.record("topology", False, str(error))
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
