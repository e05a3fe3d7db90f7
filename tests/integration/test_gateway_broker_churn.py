#!/usr/bin/python3
"""Brokers added and decommissioned while clients produce and consume through kedge (librdkafka 2.12 mock).

    <prefix>-dc   a 3-broker mock cluster (brokers 1-3, topic "churn" with 6 partitions) and kedge on :9092
                  whose bootstrap list is brokers 1-3 (broker 1 is later decommissioned)
    <prefix>-a    a paced idempotent producer (kclient_rdk212 --rate, acks=all)
    <prefix>-b    a group consumer of the same records (kclient_rdk212)

While both run: `add 4` (rd_kafka_mock_broker_add; the mock reassigns partitions over 1-4), every partition's
leader is moved to broker 4, then `decommission 1` (rd_kafka_mock_broker_decommission: its listener and
connections close, partitions are reassigned over 2-4). A broker kedge has never heard of (4) must become
reachable as broker-4.<domain> as soon as a rewritten Metadata answer names it, and a bootstrap server that
disappeared (1) must not stop new connections.

Checks: every record acknowledged (delivery reports) and consumed, none delivered twice (records the mock
appended twice after a lost ack are tolerated, see test_gateway_restart.py); clients (debug=broker)
connected only to kedge and never saw a 127.0.0.1 address; metadata through kedge afterwards lists exactly
brokers 2, 3, 4 under kedge names with leaders among them; kedge rewrote broker 4's real address to broker-4;
kedge logged no errors and is running.

Usage: test_gateway_broker_churn.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import start_kedge_in_topology  # noqa: E402
from scenario_support import (COMMITS_AFTER_MOVES, ContinuousTraffic, check_clients_saw_only_kedge,  # noqa: E402
                              kedge_errors, print_kedge_warnings, run_scenario, scenario_topology, ssl_args,
                              summary_exit_code)
from test_topology_smoke import Checks, client_argv, parse_metadata  # noqa: E402
from topology import TopologyError  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
BOOTSTRAP = f"bootstrap.{DOMAIN}:{PORT}"
TOPIC = "churn"
PARTITIONS = 6
RATE = 200
COUNT = 3600  # 18 s of traffic at RATE


def disrupt(cluster, log, failures):
    """add 4 -> leaders to 4 -> decommission 1, spread over the traffic window."""
    started = time.monotonic()

    def command(line):
        try:
            answer = cluster.command(line)
        except TopologyError as error:
            answer = f"error {error}"
        log.append((time.monotonic() - started, line, answer))
        if answer != "ok":
            failures.append((line, answer))

    time.sleep(3.0)
    command("add 4")
    time.sleep(2.0)
    for partition in range(PARTITIONS):
        command(f"leader {TOPIC} {partition} 4")
        time.sleep(0.4)
    time.sleep(2.0)
    command("decommission 1")


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    with scenario_topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics={TOPIC: PARTITIONS})
        kedge, certs, _ = start_kedge_in_topology(topo, kedge_binary, [("alpha", "subdomain", cluster.bootstrap)],
                                                  DOMAIN, PORT)
        ca = certs["ca"]
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock {cluster.bootstrap}", flush=True)

        traffic = ContinuousTraffic(topo, "churn", BOOTSTRAP, TOPIC, COUNT, RATE, ca)
        log, failures = [], []
        disruptions = threading.Thread(target=disrupt, args=(cluster, log, failures), daemon=True)
        disruptions.start()
        disruptions.join(timeout=40)
        traffic.finish(timeout=90)
        for when, line, answer in log:
            if not line.startswith("leader "):
                print(f"    t={when:4.1f}s mock: {line} -> {answer}")
        checks.record("mock: add 4, six leader moves to 4, decommission 1 all acknowledged",
                      not failures and len(log) == PARTITIONS + 2, f"{failures}")
        # decommission closes broker 1 with Produce acks in flight: see ContinuousTraffic.record
        traffic.record(checks, COMMITS_AFTER_MOVES, log_duplicates_allowed=True)

        metadata = topo.run_in("a", client_argv("kclient_rdk212", "metadata", "--bootstrap", BOOTSTRAP, "--topic",
                                                TOPIC, "--timeout-ms", "20000", *ssl_args(ca)), timeout=60)
        brokers, _, leaders = parse_metadata(metadata.stdout)
        want = {broker: f"broker-{broker}.{DOMAIN}:{PORT}" for broker in (2, 3, 4)}
        checks.record("metadata through kedge lists exactly brokers 2, 3, 4 under kedge names", brokers == want,
                      f"{brokers} {metadata.stderr.strip()[-200:]}")
        checks.record("every partition is led by a remaining broker",
                      len(leaders) == PARTITIONS and set(leaders.values()) <= {2, 3, 4}, f"{leaders}")
        check_clients_saw_only_kedge(checks, topo, traffic.stderr() + metadata.stderr, [PORT])

        time.sleep(0.3)
        checks.record("kedge still running", kedge.alive(), "" if kedge.alive() else kedge.log_text()[-400:])
        kedge_log = kedge.log_text()
        real4 = None
        for line in kedge_log.splitlines():
            found = re.search(r" for alpha: broker 4 (\S+) -> broker-4\." + re.escape(DOMAIN) + f":{PORT}$", line)
            if found:
                real4 = found.group(1)
                break
        checks.record("kedge rewrote the added broker 4's real address to broker-4",
                      real4 is not None and real4.startswith("127.0.0.1:"), f"{real4}")
        connected4 = [line for line in kedge_log.splitlines() if real4 and f"connected to {real4}" in line]
        checks.record("kedge connected clients to broker 4", bool(connected4), f"{len(connected4)} connections")
        errors = kedge_errors(kedge_log)
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
        print_kedge_warnings([kedge_log])
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
