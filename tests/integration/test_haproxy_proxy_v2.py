#!/usr/bin/python3
"""deploy/loadbalancer/haproxy.cfg in front of kedge with PROXY protocol v2 (listeners[].proxy_protocol).

    <prefix>-dc   mock cluster; kedge on 127.0.0.1:19092 ("proxy_protocol": "required", advertised port 9092);
                  HAProxy from the recipe on :9092 (its server lines replaced by kedge's address, nothing else)
    <prefix>-a    kcat through HAProxy -> kedge with hostname verification

Checks: kcat produces and consumes through HAProxy + kedge; a client that skips HAProxy (no PROXY header) is
refused by kedge. Depends on kedge's PROXY protocol support (another branch): before that merge kedge rejects
the "proxy_protocol" key and this test fails at startup, by design.

Usage: test_haproxy_proxy_v2.py KEDGE_BINARY REPO_ROOT
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_topology_smoke import Checks  # noqa: E402
from topology import Topology, tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
KEDGE_PORT = 19092
MESSAGES = 30

DIRECT_PROBE = r"""
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.check_hostname = False
try:
    with socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="bootstrap.kafka.example.com") as tls:
            print("handshake ok")
except (OSError, ssl.SSLError) as e:
    print("refused:", e)
"""


def main():
    if os.geteuid() != 0:
        print("needs root for network namespaces")
        return 77
    kedge, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    version = "rdk212" if tool_path("mock_cluster_rdk212") else "rdk20"
    checks = Checks()
    with Topology() as topo:
        work = topo.log_dir
        mock = topo.start_mock_cluster(version, brokers=3, topics={"orders": 3})
        config = {
            "listeners": [{"name": "behind-haproxy", "bind": f"127.0.0.1:{KEDGE_PORT}", "advertised_port": 9092,
                           "proxy_protocol": "required",
                           "tls": {"cert": "tls/server.pem", "key": "tls/server.key"}}],
            "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                                  "backend": {"bootstrap_servers": mock.bootstrap.split(",")}}],
        }
        config_path = os.path.join(work, "kedge.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        topo.run_in("dc", [kedge, "certs", "--config", config_path, "--out", os.path.join(work, "tls")], check=True)
        ca = os.path.join(work, "tls", "ca.pem")
        topo.start_process("dc", [kedge, "run", "--config", config_path], topo.log_path("kedge"),
                           ready_port=KEDGE_PORT)

        # The recipe, with only its server lines pointed at this kedge.
        with open(os.path.join(root, "deploy", "loadbalancer", "haproxy.cfg")) as f:
            recipe = f.read()
        servers = re.findall(r"^\s*server .*$", recipe, re.M)
        cfg = recipe.replace(servers[0], f"    server kedge-1 127.0.0.1:{KEDGE_PORT} send-proxy-v2 check inter 5s")
        for extra in servers[1:]:
            cfg = cfg.replace(extra + "\n", "")
        cfg_path = os.path.join(work, "haproxy.cfg")
        with open(cfg_path, "w") as f:
            f.write(cfg)
        # -n caps maxconn for the test: the recipe's 20000 needs ~40k descriptors, more than CI's hard limit.
        topo.start_process("dc", ["haproxy", "-db", "-n", "2000", "-f", cfg_path], topo.log_path("haproxy"),
                           ready_port=9092)

        tls = ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={ca}",
               "-X", "ssl.endpoint.identification.algorithm=https"]
        bootstrap = f"bootstrap.{DOMAIN}:9092"
        produced = topo.run_in("a", ["kcat", "-P", "-b", bootstrap, "-t", "orders", "-K", ":", *tls],
                               input="".join(f"k{i}:v{i}\n" for i in range(MESSAGES)), timeout=60)
        checks.record("kcat produces through HAProxy (send-proxy-v2) and kedge", produced.returncode == 0,
                      produced.stderr[-400:])
        consumed = topo.run_in("a", ["kcat", "-C", "-b", bootstrap, "-t", "orders", "-o", "beginning", "-e", "-q",
                                     "-f", "%k\n", *tls], timeout=60)
        keys = sorted(consumed.stdout.split())
        checks.record("kcat consumes every message back", keys == sorted(f"k{i}" for i in range(MESSAGES)),
                      f"{len(keys)} keys; {consumed.stderr[-300:]}")
        direct = topo.run_in("dc", ["/usr/bin/python3", "-c", DIRECT_PROBE, ca, str(KEDGE_PORT)], timeout=30)
        checks.record("a connection without a PROXY header is refused by kedge", "refused" in direct.stdout,
                      direct.stdout.strip())
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
