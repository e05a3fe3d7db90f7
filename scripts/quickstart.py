#!/usr/bin/python3
"""kedge quickstart: the production picture on one machine.

  kafka-dc   a private network: a 3-broker Kafka cluster (librdkafka 2.12 mock) on its own loopback, and kedge
             with one leg in each client network
  net-a/b    two client networks that cannot reach the cluster; each has its own DNS server (dnsmasq) with ONE
             wildcard record *.kafka.example.com -> kedge's address in that network

Clients set bootstrap.servers=bootstrap.kafka.example.com:9092 with security.protocol=SSL (CA + hostname checks).
"""
import os
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build"))
sys.path.insert(0, os.path.join(root, "tests", "integration"))
os.environ.setdefault("KEDGE_BUILD_DIR", build)

from kedge_harness import start_kedge_in_topology  # noqa: E402
from topology import Topology, tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
BOOTSTRAP = f"bootstrap.{DOMAIN}:9092"
COUNT = 100


def step(text):
    print(f"\n\033[1m==> {text}\033[0m", flush=True)


def show(result, limit=12):
    lines = (result.stdout + result.stderr).strip().splitlines()
    for line in lines[:limit]:
        print("    " + line)
    if len(lines) > limit:
        print(f"    ... ({len(lines) - limit} more lines)")


def main():
    if os.geteuid() != 0:
        sys.exit("quickstart: run as root (it creates network namespaces)")
    kedge_binary = os.path.join(build, "kedge")
    kclient = tool_path("kclient_rdk212")
    tls = lambda ca: ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={ca}",  # noqa: E731
                      "-X", "ssl.endpoint.identification.algorithm=https"]
    with Topology(keep_logs=True) as topo:
        step("Private Kafka network: 3 brokers (librdkafka 2.12 mock), topic 'orders' with 6 partitions")
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics={"orders": 6})
        print(f"    brokers advertise themselves as {cluster.bootstrap} (reachable only inside the private network)")

        step("A wildcard certificate for *.kafka.example.com (dev CA) and kedge's config")
        kedge, certs, config_path = start_kedge_in_topology(
            topo, kedge_binary, [("alpha", "subdomain", cluster.bootstrap)], DOMAIN, 9092)
        with open(config_path) as f:
            print("    " + f.read().replace("\n", "\n    "))
        print(f"    kedge listens on {topo.gateway_ip('a')}:9092 (network a) and {topo.gateway_ip('b')}:9092 (network b)")

        step("Each client network resolves *.kafka.example.com to kedge through its own wildcard record")
        for network in ("a", "b"):
            for name in (f"bootstrap.{DOMAIN}", f"broker-2.{DOMAIN}"):
                result = topo.run_in(network, ["getent", "hosts", name])
                print(f"    network {network}: {name} -> {result.stdout.split()[0] if result.stdout else 'unresolved'}")

        step("Without kedge: a client in network a given the brokers' own addresses gets nowhere")
        result = topo.run_in("a", [kclient, "metadata", "--bootstrap", cluster.bootstrap, "--timeout-ms", "3000"])
        show(result, 3)

        step(f"Network a: produce {COUNT} messages through kedge (bootstrap.servers={BOOTSTRAP}, SSL)")
        result = topo.run_in("a", [kclient, "produce", "--bootstrap", BOOTSTRAP, "--topic", "orders", "--count",
                                   str(COUNT), "--prefix", "from-a", *tls(certs["ca"])], timeout=120)
        show(result, 2)
        ok_a = result.returncode == 0

        step(f"Network b: produce {COUNT} messages with kcat through kedge")
        lines = "".join(f"from-b-{i}:from-b-{i}\n" for i in range(COUNT))
        result = topo.run_in("b", ["kcat", "-P", "-b", BOOTSTRAP, "-t", "orders", "-K", ":", *tls(certs["ca"])],
                             input=lines, timeout=120)
        print(f"    kcat exit code {result.returncode}")
        ok_b = result.returncode == 0

        step("Network b: what the client sees in Metadata (only kedge names)")
        result = topo.run_in("b", [kclient, "metadata", "--bootstrap", BOOTSTRAP, *tls(certs["ca"])], timeout=60)
        show(result, 8)

        step("Network b: consume everything from network a in a consumer group, exactly once")
        result = topo.run_in("b", [kclient, "consume", "--bootstrap", BOOTSTRAP, "--topic", "orders", "--group",
                                   "quickstart", "--expect", str(COUNT), "--prefix", "from-a", *tls(certs["ca"])],
                             timeout=120)
        show(result, 2)
        ok_consume_b = result.returncode == 0
        step("Network a: consume everything from network b with python confluent-kafka, exactly once")
        result = topo.run_in("a", ["/usr/bin/python3", tool_path("pyclient.py"), "consume", "--bootstrap",
                                   BOOTSTRAP, "--topic", "orders", "--group", "quickstart-py", "--expect",
                                   str(COUNT), "--prefix", "from-b", *tls(certs["ca"])], timeout=120)
        show(result, 2)
        ok_consume_a = result.returncode == 0

        step("kedge's rewrite lines (debug log): real broker addresses -> kedge host names")
        rewrites = sorted({line.split(" DEBUG ")[-1] for line in kedge.log_text().splitlines() if " rewrote " in line})
        for line in rewrites[:12]:
            print("    " + line)
        if len(rewrites) > 12:
            print(f"    ... ({len(rewrites) - 12} more distinct lines)")
        print(f"\n    full kedge log: {topo.log_path('kedge')} (kept for inspection)")
        ok = ok_a and ok_b and ok_consume_a and ok_consume_b and bool(rewrites)
        step("Quickstart " + ("succeeded" if ok else "FAILED"))
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
