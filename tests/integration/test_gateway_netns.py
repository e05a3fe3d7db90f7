#!/usr/bin/python3
"""End to end through kedge: real clients in client networks, a librdkafka mock cluster in a private network,
real TLS with CA and hostname verification, one wildcard DNS record per client network.

    <prefix>-dc   private network: two 3-broker mock clusters ("alpha", "beta") on its loopback, and kedge
                  listening on 0.0.0.0:9092 (its veth addresses face the client networks)
    <prefix>-a/b  client networks; dnsmasq answers *.kafka.example.com with kedge's address in that network

Checks (one PASS/FAIL line each, then `N passed, M failed`):
  - a client network cannot reach the cluster directly (its advertised bootstrap address fails);
  - kcat, the librdkafka C API (2.12 and 2.0.2 builds) and python confluent-kafka produce N messages over all
    partitions and consume them in a consumer group through kedge, each exactly once with its content;
  - the client's metadata lists only kedge host names (broker-<id>.kafka.example.com:9092);
  - two virtual clusters (subdomain + shared_suffix) behind the same port stay isolated;
  - an unknown SNI is refused (alert unrecognized_name) while another client keeps producing;
  - garbage bytes and a truncated ClientHello are closed; kedge keeps serving;
  - kedge logged one rewrite line per rewritten broker address.

Usage: test_gateway_netns.py MOCK_VERSION(rdk20|rdk212) KEDGE_BINARY
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import start_kedge_in_topology  # noqa: E402
from test_topology_smoke import Checks, client_argv, parse_metadata, summary_fields, verify_keys  # noqa: E402
from topology import Topology, tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
MESSAGES = 300
PARTITIONS = 6
TIMEOUT_MS = "45000"

SNI_PROBE = r"""
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
try:
    with socket.create_connection((sys.argv[1], 9092), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=sys.argv[1]):
            print("handshake ok")
except ssl.SSLError as e:
    print("ssl error:", e)
"""

RAW_PROBE = r"""
import socket, ssl, sys
mode = sys.argv[1]
s = socket.create_connection(("bootstrap.kafka.example.com", 9092), timeout=5)
if mode == "garbage":
    s.sendall(b"\x00\x00\x00\x10garbage-not-tls!")
else:
    ctx = ssl.create_default_context()
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(i, o, server_hostname="bootstrap.kafka.example.com")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = o.read()
    s.sendall(hello[: len(hello) // 3])
    s.shutdown(socket.SHUT_WR)
s.settimeout(15)
try:
    data = s.recv(100)
    print("closed" if not data else "data %d" % len(data))
except OSError as e:
    print("closed (%s)" % e.__class__.__name__)
"""


def tls_args(ca):
    return ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={ca}",
            "-X", "ssl.endpoint.identification.algorithm=https"]


def produce_consume(topo, checks, network, client, bootstrap, topic, ca, label):
    prefix = f"{client}-{network}-{topic}"
    group = f"g-{prefix}"
    name = f"[{label}] {client} in network {network}"
    if client == "kcat":
        lines = "".join(f"{prefix}-{i}:{prefix}-{i}\n" for i in range(MESSAGES))
        produced = topo.run_in(network, ["kcat", "-P", "-b", bootstrap, "-t", topic, "-K", ":", *tls_args(ca)],
                               input=lines, timeout=90)
        checks.record(f"{name} produces {MESSAGES} through kedge", produced.returncode == 0,
                      produced.stderr.strip()[-400:])
        consumed = topo.run_in(network, ["kcat", "-C", "-b", bootstrap, "-G", group, *tls_args(ca),
                                         "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%k\t%s\n", topic],
                               timeout=90)
        ok, detail = verify_keys([line for line in consumed.stdout.splitlines() if line.startswith(prefix)],
                                 prefix, MESSAGES)
        checks.record(f"{name} consumes every message exactly once (group)", ok and consumed.returncode == 0,
                      detail)
        return
    produced = topo.run_in(network, client_argv(client, "produce", "--bootstrap", bootstrap, "--topic", topic,
                                                "--count", MESSAGES, "--prefix", prefix, "--timeout-ms",
                                                TIMEOUT_MS, *tls_args(ca)), timeout=120)
    fields = summary_fields(produced.stdout, "produce")
    checks.record(f"{name} produces {MESSAGES} over all partitions through kedge",
                  produced.returncode == 0 and fields.get("ok") == "1" and fields.get("delivered") == str(MESSAGES),
                  produced.stdout.strip() or produced.stderr.strip()[-400:])
    consumed = topo.run_in(network, client_argv(client, "consume", "--bootstrap", bootstrap, "--topic", topic,
                                                "--group", group, "--expect", MESSAGES, "--prefix", prefix,
                                                "--timeout-ms", TIMEOUT_MS, *tls_args(ca)), timeout=120)
    fields = summary_fields(consumed.stdout, "consume")
    checks.record(f"{name} consumes every message exactly once (group)",
                  consumed.returncode == 0 and fields.get("ok") == "1" and fields.get("unique") == str(MESSAGES)
                  and fields.get("duplicates") == "0",
                  consumed.stdout.strip() or consumed.stderr.strip()[-400:])


def metadata_of(topo, network, bootstrap, ca, inspector):
    result = topo.run_in(network, client_argv(inspector, "metadata", "--bootstrap", bootstrap, "--timeout-ms",
                                              "20000", *tls_args(ca)), timeout=60)
    brokers, topics, _ = parse_metadata(result.stdout)
    return brokers, topics, result


def main():
    if os.geteuid() != 0:
        print("needs root for network namespaces")
        return 1
    version, kedge_binary = sys.argv[1], os.path.abspath(sys.argv[2])
    checks = Checks()
    clients = [c for c in ("kclient_rdk212", "kclient_rdk20") if tool_path(c)] + ["pyclient", "kcat"]
    inspector = "kclient_rdk212" if tool_path("kclient_rdk212") else "kclient_rdk20"
    with Topology() as topo:
        alpha = topo.start_mock_cluster(version, brokers=3, topics={"orders": PARTITIONS})
        beta = topo.start_mock_cluster(version, brokers=3, topics={"payments": 3})
        kedge, certs, _ = start_kedge_in_topology(
            topo, kedge_binary, [("alpha", "subdomain", alpha.bootstrap), ("beta", "shared_suffix", beta.bootstrap)],
            DOMAIN, PORT)
        ca = certs["ca"]
        alpha_bootstrap = f"bootstrap.{DOMAIN}:{PORT}"
        beta_bootstrap = f"bootstrap-beta.{DOMAIN}:{PORT}"
        print(f"topology {topo.prefix}: mock {version}; alpha={alpha.bootstrap} beta={beta.bootstrap}; "
              f"kedge at {topo.gateway_ip('a')} (a), {topo.gateway_ip('b')} (b)", flush=True)

        # The topology really is split: the cluster's own addresses do not work from a client network.
        direct = topo.run_in("a", client_argv(inspector, "metadata", "--bootstrap", alpha.bootstrap,
                                              "--timeout-ms", "3000"), timeout=30)
        checks.record("client network a cannot reach the cluster directly",
                      direct.returncode != 0 and "metadata ok=0" in direct.stdout, direct.stdout.strip()[-200:])

        # Metadata seen by clients lists only kedge names, for both formats.
        brokers, topics, raw = metadata_of(topo, "a", alpha_bootstrap, ca, inspector)
        want = {i: f"broker-{i}.{DOMAIN}:{PORT}" for i in (1, 2, 3)}
        checks.record("alpha metadata lists only kedge host names", brokers == want,
                      f"got {brokers} {raw.stderr[-300:]}")
        checks.record("alpha metadata shows alpha's topic and not beta's",
                      topics.get("orders") == PARTITIONS and "payments" not in topics, str(topics))
        brokers, topics, raw = metadata_of(topo, "b", beta_bootstrap, ca, inspector)
        want = {i: f"broker-{i}-beta.{DOMAIN}:{PORT}" for i in (1, 2, 3)}
        checks.record("beta (shared_suffix) metadata lists only kedge host names", brokers == want,
                      f"got {brokers} {raw.stderr[-300:]}")
        checks.record("beta metadata shows beta's topic and not alpha's",
                      topics.get("payments") == 3 and "orders" not in topics, str(topics))

        # Produce + consume with every client, from both client networks.
        networks = ["a", "b"]
        for index, client in enumerate(clients):
            produce_consume(topo, checks, networks[index % 2], client, alpha_bootstrap, "orders", ca, "alpha")
        produce_consume(topo, checks, "b", inspector, beta_bootstrap, "payments", ca, "beta")

        # Unknown SNI refused while another client keeps working.
        busy = subprocess.Popen(topo.netns_argv("a", client_argv(
            inspector, "produce", "--bootstrap", alpha_bootstrap, "--topic", "orders", "--count", MESSAGES,
            "--prefix", "during-refusal", "--timeout-ms", TIMEOUT_MS, *tls_args(ca))),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        refused = topo.run_in("a", ["/usr/bin/python3", "-c", SNI_PROBE, f"nope.{DOMAIN}", ca], timeout=30)
        out, err = busy.communicate(timeout=120)
        checks.record("unknown SNI refused with unrecognized_name", "UNRECOGNIZED_NAME" in refused.stdout.upper(),
                      refused.stdout.strip())
        checks.record("a concurrent client kept producing", busy.returncode == 0 and "ok=1" in out,
                      out.strip() or err[-300:])
        for mode in ("garbage", "truncated"):
            probe = topo.run_in("b", ["/usr/bin/python3", "-c", RAW_PROBE, mode], timeout=30)
            checks.record(f"{mode} bytes on the TLS port: connection closed", probe.stdout.startswith("closed"),
                          (probe.stdout + probe.stderr).strip()[-200:])
        checks.record("kedge still running", kedge.alive())

        time.sleep(0.5)
        log = kedge.log_text()
        rewrites = [line for line in log.splitlines() if " rewrote " in line]
        checks.record("kedge logged rewrite lines for alpha and beta",
                      any(" for alpha: " in line for line in rewrites) and any(" for beta: " in line for line in rewrites),
                      f"{len(rewrites)} rewrite lines")
        for line in sorted({line.split(" DEBUG ")[-1] for line in rewrites})[:6]:
            print("   ", line)
        leaked = [line for line in rewrites if "-> broker-" not in line]
        checks.record("every rewrite points at a kedge host name", not leaked and rewrites, str(leaked[:3]))
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
