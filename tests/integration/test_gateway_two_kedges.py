#!/usr/bin/python3
"""Two kedge processes serving the same cluster, with clients spread across both.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock cluster (topic "shared", 6 partitions); kedge A on :9092 and
                  kedge B on :9093, separate processes with the same virtual cluster, certificate and backend
    <prefix>-a    producers / consumers (kclient_rdk212)
    <prefix>-b    producers / consumers (kclient_rdk212)

Each kedge advertises its own port, so a client stays on the kedge that answered its Metadata. Three flows run
at the same time, each a paced idempotent producer and a group consumer of its own key prefix:
  a-to-b   produced through kedge A (network a), consumed through kedge B (network b)
  b-to-a   produced through kedge B (network b), consumed through kedge A (network a)
  either   both bootstrap addresses in the clients' bootstrap list (bootstrap:9092,bootstrap:9093)
so records written through one gateway must be read, exactly once, through the other.

Checks: every flow's records acknowledged and consumed exactly once; clients connected only to kedge
addresses; each kedge's log shows client connections, broker-N connections and rewrites to its own port only;
no kedge errors.

Usage: test_gateway_two_kedges.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import start_kedge_in_topology, write_config  # noqa: E402
from scenario_support import (ContinuousTraffic, check_clients_saw_only_kedge, kedge_errors,  # noqa: E402
                              run_scenario, scenario_topology, summary_exit_code)
from test_topology_smoke import Checks  # noqa: E402

DOMAIN = "kafka.example.com"
PORTS = {"A": 9092, "B": 9093}
TOPIC = "shared"
PARTITIONS = 6
RATE = 300
COUNT = 1800  # 6 s per flow


def bootstrap(*ports):
    return ",".join(f"bootstrap.{DOMAIN}:{port}" for port in ports)


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    with scenario_topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics={TOPIC: PARTITIONS})
        kedge_a, certs, config_a = start_kedge_in_topology(
            topo, kedge_binary, [("alpha", "subdomain", cluster.bootstrap)], DOMAIN, PORTS["A"])
        # Kedge B: the same configuration with its own port, written beside A's (tls/ paths stay valid).
        with open(config_a) as source:
            config = json.load(source)
        config["listeners"][0].update(bind=f"0.0.0.0:{PORTS['B']}", advertised_port=PORTS["B"])
        config_b = write_config(os.path.join(topo.log_dir, "kedge-b.json"), config)
        kedge_b = topo.start_process("dc", [kedge_binary, "run", "--config", config_b], topo.log_path("kedge-b"),
                                     ready_port=PORTS["B"])
        kedges = {"A": kedge_a, "B": kedge_b}
        ca = certs["ca"]
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock {cluster.bootstrap}", flush=True)

        started = time.monotonic()
        flows = [
            ContinuousTraffic(topo, "a-to-b", bootstrap(PORTS["A"]), TOPIC, COUNT, RATE, ca, "a", "b",
                              consumer_bootstrap=bootstrap(PORTS["B"])),
            ContinuousTraffic(topo, "b-to-a", bootstrap(PORTS["B"]), TOPIC, COUNT, RATE, ca, "b", "a",
                              consumer_bootstrap=bootstrap(PORTS["A"])),
            ContinuousTraffic(topo, "either", bootstrap(PORTS["A"], PORTS["B"]), TOPIC, COUNT, RATE, ca, "a", "b"),
        ]
        for flow in flows:
            flow.finish(timeout=80)
        print(f"    three flows took {time.monotonic() - started:.1f}s", flush=True)
        for flow in flows:
            flow.record(checks)
        check_clients_saw_only_kedge(checks, topo, "".join(flow.stderr() for flow in flows), PORTS.values())

        time.sleep(0.3)
        for name, process in kedges.items():
            port = PORTS[name]
            text = process.log_text()
            checks.record(f"kedge {name} (:{port}) still running", process.alive(),
                          "" if process.alive() else text[-400:])
            bootstraps = len(re.findall(r"TLS established \S+ \S+ for bootstrap\.", text))
            brokers = len(re.findall(r"TLS established \S+ \S+ for broker-\d+\.", text))
            rewrites = re.findall(r" -> broker-\d+\." + re.escape(DOMAIN) + r":(\d+)$", text, re.MULTILINE)
            checks.record(f"kedge {name} carried traffic: bootstrap and broker-N TLS sessions, rewrites to :{port} "
                          f"only", bootstraps > 0 and brokers > 0 and rewrites and set(rewrites) == {str(port)},
                          f"{bootstraps} bootstrap + {brokers} broker-N sessions, {len(rewrites)} rewrites "
                          f"to ports {sorted(set(rewrites))}")
            errors = kedge_errors(text)
            checks.record(f"kedge {name} logged no errors", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
