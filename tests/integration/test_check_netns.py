#!/usr/bin/python3
"""`kedge certs` and `kedge check` against a real setup and deliberately broken ones.

    <prefix>-dc   a librdkafka mock cluster on its loopback, kedge on 0.0.0.0:9092, and (for this test) a dnsmasq
                  answering *.kafka.example.com with kedge's address in client network a, so `kedge check` run in
                  dc resolves the names the way a client network does
    <prefix>-a    client network with its own wildcard DNS (topology.py); kcat runs here

Checks (one PASS/FAIL line each, then `N passed, M failed`):
  - kedge certs: creates ca.pem/ca.key/server.pem/server.key, keys mode 0600; a second run fails naming the
    existing file and changes nothing;
  - kedge starts with those files and kcat produces and consumes through it with hostname verification on
    (ssl.endpoint.identification.algorithm=https, ssl.ca.location=ca.pem);
  - good setup: kedge check exits 0 and lists the 3 brokers and the HTTP front's name (text and --json, names
    covered, DNS = gateway);
  - wrong certificate SAN (kcat fails with 'certificate verify failed'; check exits 1 naming the SAN to add);
  - names resolving elsewhere (--gateway-address another address): exit 1, the record to fix;
  - backend down: exit 1, the JSON path of the bootstrap server;
  - two-label names under a one-label wildcard: exit 1, fix = shared_suffix;
  - invalid configuration and usage errors: exit 2.

Usage: test_check_netns.py KEDGE_BINARY
"""
import hashlib
import json
import os
import socket
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_topology_smoke import Checks  # noqa: E402
from topology import Topology, tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
MESSAGES = 50


def tls_args(ca):
    return ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={ca}",
            "-X", "ssl.endpoint.identification.algorithm=https"]


def write_config(path, clusters, cert_dir, port=PORT):
    config = {
        "listeners": [{"name": "hub", "bind": f"0.0.0.0:{port}", "advertised_port": port,
                       "tls": {"cert": f"{cert_dir}/server.pem", "key": f"{cert_dir}/server.key"}}],
        "virtual_clusters": [{"name": name, "hostnames": {"format": fmt, "domain": domain},
                              "backend": {"bootstrap_servers": servers}} for name, fmt, domain, servers in clusters],
        "admin": {"bind": "127.0.0.1:0"},  # several kedges share the namespace
    }
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return path


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digest(paths):
    return {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths}


def findings(report, severity="problem"):
    return [f for f in report.get("findings", []) if f["severity"] == severity]


def main():
    if os.geteuid() != 0:
        print("needs root for network namespaces")
        return 77
    kedge = os.path.abspath(sys.argv[1])
    version = "rdk212" if tool_path("mock_cluster_rdk212") else "rdk20"
    checks = Checks()
    with Topology() as topo:
        work = topo.log_dir
        mock = topo.start_mock_cluster(version, brokers=3, topics={"orders": 3})
        gateway_a, gateway_b = topo.gateway_ip("a"), topo.gateway_ip("b")
        # DNS for the dc namespace: the same wildcard answer network a gets.
        dc_etc = os.path.join("/etc/netns", topo.ns("dc"))
        os.makedirs(dc_etc, exist_ok=True)
        with open(os.path.join(dc_etc, "resolv.conf"), "w") as resolv:
            resolv.write("nameserver 127.0.0.1\n")
        topo.start_process("dc", ["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                                  "--listen-address=127.0.0.1", "--bind-interfaces", "--user=root",
                                  f"--pid-file={os.path.join(work, 'dnsmasq-dc.pid')}",
                                  f"--address=/{DOMAIN}/{gateway_a}"],
                           topo.log_path("dnsmasq-dc"), ready_port=53)

        def kedge_cmd(*args, ns="dc"):
            return topo.run_in(ns, [kedge, *args], timeout=60)

        # ----- kedge certs ----------------------------------------------------------------------------------
        good = write_config(os.path.join(work, "good.json"), [("alpha", "subdomain", DOMAIN, mock.bootstrap.split(","))],
                            "tls")
        made = kedge_cmd("certs", "--config", good, "--out", os.path.join(work, "tls"))
        files = [os.path.join(work, "tls", name) for name in ("ca.pem", "ca.key", "server.pem", "server.key")]
        checks.record("kedge certs creates the CA and server files", made.returncode == 0 and
                      all(os.path.exists(f) for f in files), made.stdout + made.stderr)
        modes = {os.path.basename(f): stat.S_IMODE(os.stat(f).st_mode) for f in files if os.path.exists(f)}
        checks.record("kedge certs writes keys with mode 0600",
                      modes.get("ca.key") == 0o600 and modes.get("server.key") == 0o600, str(modes))
        before = digest(files)
        again = kedge_cmd("certs", "--config", good, "--out", os.path.join(work, "tls"))
        checks.record("a second kedge certs run fails naming the existing file and changes nothing",
                      again.returncode == 1 and os.path.join(work, "tls", "ca.pem") in again.stderr
                      and "never overwrites" in again.stderr and digest(files) == before, again.stderr.strip())
        ca = os.path.join(work, "tls", "ca.pem")

        # ----- kedge runs with them; kcat verifies the host name ------------------------------------------
        topo.start_process("dc", [kedge, "run", "--config", good], topo.log_path("kedge"), ready_port=PORT)
        bootstrap = f"bootstrap.{DOMAIN}:{PORT}"
        lines = "".join(f"k{i}:v{i}\n" for i in range(MESSAGES))
        produced = topo.run_in("a", ["kcat", "-P", "-b", bootstrap, "-t", "orders", "-K", ":", *tls_args(ca)],
                               input=lines, timeout=60)
        checks.record("kcat produces through kedge with kedge certs output and hostname verification",
                      produced.returncode == 0, produced.stderr.strip()[-400:])
        consumed = topo.run_in("a", ["kcat", "-C", "-b", bootstrap, "-t", "orders", "-o", "beginning", "-e", "-q",
                                     "-f", "%k\n", *tls_args(ca)], timeout=60)
        keys = sorted(consumed.stdout.split())
        checks.record(f"kcat consumes the {MESSAGES} messages back", keys == sorted(f"k{i}" for i in range(MESSAGES)),
                      f"{len(keys)} keys; {consumed.stderr.strip()[-300:]}")

        # ----- good setup ------------------------------------------------------------------------------------
        text = kedge_cmd("check", "--config", good, "--gateway-address", gateway_a)
        print("----- kedge check (good setup) -----\n" + text.stdout + text.stderr + "-----", flush=True)
        checks.record("good setup: kedge check exits 0", text.returncode == 0, f"exit {text.returncode}")
        as_json = kedge_cmd("check", "--config", good, "--gateway-address", gateway_a, "--json")
        report = json.loads(as_json.stdout)
        brokers = sorted((b["id"], f'{b["host"]}:{b["port"]}') for b in report["backends"][0]["brokers"])
        want = sorted(enumerate([f"{h}:{p}" for h, p in mock.broker_addresses], start=1))
        checks.record("good setup: --json lists the backend's brokers (id, host:port)", brokers == want, str(brokers))
        names = {n["host"]: n for n in report["names"]}
        checks.record("good setup: every name (the HTTP front's too) is covered and resolves to the gateway",
                      set(names) == {f"bootstrap.{DOMAIN}", f"http.{DOMAIN}"} |
                      {f"broker-{i}.{DOMAIN}" for i in (1, 2, 3)} and names[f"http.{DOMAIN}"]["role"] == "http" and
                      all(n["certificate_covers"] and n["matches_gateway"] for n in names.values()),
                      json.dumps(report["names"])[:400])
        checks.record("good setup: the HTTP front is on, its WebSocket URL listed (text and --json)",
                      report["http_front"] == [{"listener": "hub", "virtual_cluster": "alpha", "enabled": True,
                                                "host": f"http.{DOMAIN}",
                                                "websocket_url": f"wss://http.{DOMAIN}:{PORT}/kafka",
                                                "off_reason": None}]
                      and f"wss://http.{DOMAIN}:{PORT}/kafka" in text.stdout, json.dumps(report["http_front"]))
        checks.record("good setup: one wildcard record and SAN", report["dns"]["wildcard_records"] == [f"*.{DOMAIN}."]
                      and report["certificate_sans"] == [f"*.{DOMAIN}"] and report["exit_code"] == 0
                      and f"*.{DOMAIN}. 300 IN A {gateway_a}" in report["dns"]["zone_snippet"], report["dns"])

        # ----- wrong certificate SAN ---------------------------------------------------------------------------
        other = write_config(os.path.join(work, "other.json"), [("x", "subdomain", "kafka.example.org", ["h:1"])],
                             "tls-other")
        kedge_cmd("certs", "--config", other, "--out", os.path.join(work, "tls-other"))
        wrong = write_config(os.path.join(work, "wrong-san.json"),
                             [("alpha", "subdomain", DOMAIN, mock.bootstrap.split(","))], "tls-other", port=9093)
        topo.start_process("dc", [kedge, "run", "--config", wrong], topo.log_path("kedge-wrong"), ready_port=9093)
        client = topo.run_in("a", ["kcat", "-L", "-b", f"bootstrap.{DOMAIN}:9093", "-m", "5",
                                   *tls_args(os.path.join(work, "tls-other", "ca.pem"))], timeout=30)
        checks.record("wrong SAN: kcat fails with 'certificate verify failed'",
                      client.returncode != 0 and "certificate verify failed" in client.stderr, client.stderr[-300:])
        print("kcat (wrong SAN): " + client.stderr.strip().splitlines()[0] if client.stderr.strip() else "", flush=True)
        result = kedge_cmd("check", "--config", wrong, "--gateway-address", gateway_a, "--json")
        report = json.loads(result.stdout)
        problems = findings(report)
        checks.record("wrong SAN: check exits 1 and says which SAN to add",
                      result.returncode == 1 and len(problems) == 1 and "does not cover" in problems[0]["message"]
                      and f"SAN *.{DOMAIN}" in problems[0]["fix"], json.dumps(problems)[:600])
        text = kedge_cmd("check", "--config", wrong, "--gateway-address", gateway_a)
        print("----- kedge check (wrong SAN) -----\n" + text.stdout + "-----", flush=True)

        # ----- names resolving elsewhere -------------------------------------------------------------------------
        result = kedge_cmd("check", "--config", good, "--gateway-address", gateway_b, "--json")
        report = json.loads(result.stdout)
        problems = findings(report)
        checks.record("names resolving elsewhere: exit 1, the wildcard record to point at the gateway",
                      result.returncode == 1 and len(problems) == 1 and gateway_a in problems[0]["message"]
                      and f"*.{DOMAIN}." in problems[0]["fix"] and gateway_b in problems[0]["fix"]
                      and all(n["matches_gateway"] is False for n in report["names"]), json.dumps(problems)[:600])

        # ----- backend down ----------------------------------------------------------------------------------------
        down = write_config(os.path.join(work, "down.json"),
                            [("alpha", "subdomain", DOMAIN, [f"127.0.0.1:{closed_port()}"])], "tls")
        result = kedge_cmd("check", "--config", down, "--gateway-address", gateway_a, "--json")
        report = json.loads(result.stdout)
        problems = findings(report)
        checks.record("backend down: exit 1, names the bootstrap server's JSON path",
                      result.returncode == 1 and any("Connection refused" in p["message"] and
                                                     "virtual_clusters[0].backend.bootstrap_servers[0]" in p["fix"]
                                                     for p in problems), json.dumps(problems)[:600])

        # ----- two-label names under a one-label wildcard ---------------------------------------------------------
        deep = write_config(os.path.join(work, "deep.json"),
                            [("alpha", "subdomain", f"alpha.{DOMAIN}", mock.bootstrap.split(","))], "tls")
        result = kedge_cmd("check", "--config", deep, "--gateway-address", gateway_a, "--json")
        report = json.loads(result.stdout)
        problems = findings(report)
        checks.record("two-label names under *.kafka.example.com: exit 1, fix is shared_suffix",
                      result.returncode == 1 and len(problems) == 1 and "exactly one label" in problems[0]["message"]
                      and '"format": "shared_suffix"' in problems[0]["fix"]
                      and f"broker-1-alpha.{DOMAIN}" in problems[0]["fix"], json.dumps(problems)[:600])

        # ----- exit code 2 ---------------------------------------------------------------------------------------------
        bad = os.path.join(work, "bad.json")
        with open(bad, "w") as f:
            f.write('{"listeners": [], "virtual_clusters": []}')
        result = kedge_cmd("check", "--config", bad)
        checks.record("invalid configuration: exit 2 with the JSON path", result.returncode == 2 and
                      "listeners: at least one listener is required" in result.stderr, result.stderr.strip())
        result = kedge_cmd("check", "--frobnicate")
        checks.record("usage error: exit 2", result.returncode == 2, result.stderr.strip())
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
