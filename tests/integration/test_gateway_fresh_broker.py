#!/usr/bin/python3
"""A client's FIRST connection to a fresh kedge goes straight to broker-2, in front of the librdkafka 2.0.2 mock.

    <prefix>-dc   a 3-broker librdkafka 2.0.2 mock cluster (Metadata v0..v2 only) on its loopback and a freshly
                  started kedge on 0.0.0.0:9092 that has seen no traffic (its broker registry is empty)
    <prefix>-a/b  client networks; dnsmasq answers *.kafka.example.com with kedge's address in that network

The client's only bootstrap server is broker-2.kafka.example.com:9092, so kedge sees no bootstrap connection
before it: to route the first ClientHello it must learn broker 2's address with its own discovery round trip.
Discovery asks ApiVersions first and sends Metadata at the highest version both sides support (v2 here; a fixed
v4 makes this mock close the connection). `kedge check` uses the same upstream client.

Checks (one PASS/FAIL line each, then `N passed, M failed`):
  - the first ClientHello kedge received named broker-2 (no bootstrap connection came first) and kedge learned
    broker 2's address from its own discovery (the readiness probe at startup or the connection's own round trip,
    whichever came first) before connecting to it; discovery listed the mock's 3 brokers;
  - kclient_rdk20 (librdkafka 2.0.2) produces N messages over every partition and consumes them in a group
    through kedge, each exactly once; its metadata lists only kedge host names;
  - no discovery warning in kedge's log, no connection closed for upstream_connect_failed;
  - `kedge check` on the same backend exits 0 and lists the 3 brokers (text and --json).

Usage: test_gateway_fresh_broker.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import start_kedge_in_topology  # noqa: E402
from scenario_support import DEBUG_BROKER, ssl_args, summary_exit_code  # noqa: E402
from test_topology_smoke import Checks, client_argv, parse_metadata, summary_fields  # noqa: E402
from topology import Topology, tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
FIRST = f"broker-2.{DOMAIN}:{PORT}"
TOPIC = "fresh"
PARTITIONS = 3
MESSAGES = 300
CLIENT = "kclient_rdk20"
TIMEOUT_MS = "30000"


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    if os.geteuid() != 0:
        print("needs root for network namespaces")
        return 77
    if tool_path(CLIENT) is None or tool_path("mock_cluster_rdk20") is None:
        print("kclient_rdk20 / mock_cluster_rdk20 not built")
        return 1
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    with Topology(keep_logs=bool(os.environ.get("KEDGE_KEEP_LOGS"))) as topo:
        mock = topo.start_mock_cluster("rdk20", brokers=3, topics={TOPIC: PARTITIONS})
        kedge, certs, config_path = start_kedge_in_topology(
            topo, kedge_binary, [("alpha", "subdomain", mock.bootstrap)], DOMAIN, PORT)
        ca = certs["ca"]
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock rdk20 {mock.bootstrap}; "
              f"client bootstrap {FIRST}", flush=True)

        produced = topo.run_in("a", client_argv(
            CLIENT, "produce", "--bootstrap", FIRST, "--topic", TOPIC, "--count", MESSAGES, "--prefix", "fresh",
            "--timeout-ms", TIMEOUT_MS, *ssl_args(ca), *DEBUG_BROKER), timeout=90)
        fields = summary_fields(produced.stdout, "produce")
        checks.record(f"{CLIENT} bootstrapping from {FIRST} produces {MESSAGES} over {PARTITIONS} partitions",
                      produced.returncode == 0 and fields.get("ok") == "1"
                      and fields.get("delivered") == str(MESSAGES) and fields.get("partitions") == str(PARTITIONS),
                      produced.stdout.strip() or produced.stderr.strip()[-600:])

        log = kedge.log_text()
        hellos = re.findall(r"conn \d+ from \S+: SNI (\S+) -> virtual cluster", log)
        checks.record("the first ClientHello kedge received named broker-2 (no bootstrap connection before it)",
                      hellos[:1] == [f"broker-2.{DOMAIN}"] and f"bootstrap.{DOMAIN}" not in hellos,
                      f"first SNIs: {hellos[:4]}")
        # Nothing passed through before broker 2 was routed, so only kedge's own discovery can have taught it:
        # the readiness probe's round trip at startup, or the connection's own when it came first.
        lines = log.splitlines()
        listed_at = next((i for i, line in enumerate(lines) if "discovery for alpha: " in line
                          and " lists brokers " in line), None)
        connected_at = next((i for i, line in enumerate(lines) if re.search(r"connected to \S+ \(alpha broker 2", line)),
                            None)
        asked = re.search(r"conn \d+: broker 2 of alpha not known yet; asking the backend", log) is not None
        checks.record("kedge learned broker 2 from its own discovery before connecting to it",
                      listed_at is not None and connected_at is not None and listed_at < connected_at,
                      f"discovery line {listed_at}, first connect to broker 2 at line {connected_at}; "
                      f"{'the connection asked the backend itself' if asked else 'the readiness probe came first'}")
        listed = re.search(r"discovery for alpha: \S+ lists brokers (.*)", log)
        want = sorted(f"{i}={host}:{port}" for i, (host, port) in enumerate(mock.broker_addresses, start=1))
        checks.record("discovery listed the mock's 3 brokers",
                      listed is not None and sorted(listed.group(1).split(", ")) == want,
                      listed.group(0) if listed else "no 'lists brokers' line")

        consumed = topo.run_in("b", client_argv(
            CLIENT, "consume", "--bootstrap", FIRST, "--topic", TOPIC, "--group", "g-fresh", "--expect", MESSAGES,
            "--prefix", "fresh", "--timeout-ms", TIMEOUT_MS, *ssl_args(ca)), timeout=90)
        fields = summary_fields(consumed.stdout, "consume")
        checks.record(f"{CLIENT} consumes every message exactly once in a group through broker-2",
                      consumed.returncode == 0 and fields.get("ok") == "1" and fields.get("unique") == str(MESSAGES)
                      and fields.get("duplicates") == "0" and fields.get("commit") == "ok",
                      consumed.stdout.strip() or consumed.stderr.strip()[-600:])

        metadata = topo.run_in("a", client_argv(CLIENT, "metadata", "--bootstrap", FIRST, "--timeout-ms", "15000",
                                                *ssl_args(ca)), timeout=60)
        brokers, _, _ = parse_metadata(metadata.stdout)
        checks.record("the client's metadata lists only kedge host names",
                      brokers == {i: f"broker-{i}.{DOMAIN}:{PORT}" for i in (1, 2, 3)},
                      f"{brokers} {metadata.stderr.strip()[-300:]}")

        log = kedge.log_text()
        warnings = [line for line in log.splitlines() if " WARN " in line and "discovery" in line]
        checks.record("no discovery warning in kedge's log", not warnings, "; ".join(warnings[:2]))
        failed = [line for line in log.splitlines() if "cause=upstream_connect_failed" in line]
        checks.record("no client connection closed for upstream_connect_failed", not failed, "; ".join(failed[:2]))
        checks.record("kedge still running", kedge.alive())

        text = topo.run_in("dc", [kedge_binary, "check", "--config", config_path, "--no-dns"], timeout=60)
        print("----- kedge check -----\n" + text.stdout + text.stderr + "-----", flush=True)
        checks.record("kedge check exits 0 against the 2.0.2 mock backend", text.returncode == 0,
                      f"exit {text.returncode}")
        as_json = topo.run_in("dc", [kedge_binary, "check", "--config", config_path, "--no-dns", "--json"],
                              timeout=60)
        try:
            report = json.loads(as_json.stdout)
        except ValueError:
            report = {}
        backends = report.get("backends", [])
        answered = [b for b in backends if b.get("ok")]
        listed = sorted((b["id"], f'{b["host"]}:{b["port"]}') for b in (answered[0]["brokers"] if answered else []))
        expected = sorted(enumerate([f"{h}:{p}" for h, p in mock.broker_addresses], start=1))
        checks.record("kedge check --json: every bootstrap server answered and the 3 brokers are listed",
                      as_json.returncode == 0 and backends and len(answered) == len(backends) and listed == expected,
                      f"exit {as_json.returncode} {[(b.get('server'), b.get('error')) for b in backends]} {listed}")
        reachable = [b for b in report.get("broker_addresses", []) if b.get("reachable")]
        checks.record("kedge check: the 3 broker addresses are reachable", len(reachable) == 3,
                      json.dumps(report.get("broker_addresses"))[:300])
    return summary_exit_code(checks)


if __name__ == "__main__":
    sys.exit(main())
