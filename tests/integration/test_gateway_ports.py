#!/usr/bin/python3
"""Port-per-broker listeners, plaintext and IPv6 listeners, SNI and port listeners side by side, and TLS toward
the brokers, through the real kedge binary with real clients (librdkafka 2.12 mock in the dc namespace).

Usage: test_gateway_ports.py SCENARIO KEDGE_BINARY, SCENARIO one of
  listeners      one kedge with an SNI TLS listener, a port-mode TLS listener, a port-mode plaintext listener
                 and an IPv6 (plaintext, port-mode) listener; kcat, kclient (librdkafka 2.12) and confluent-kafka
                 produce and consume (group) through the port listeners; metadata shows <advertised_host>:<port>
                 names only; the SNI listener keeps working beside them.
  gapped_ids     brokers 100/200/300 (mock add + decommission), ports 19200/19300/19400 from the formula.
  upstream_tls   a TLS-terminating HAProxy in front of each mock broker (its own CA, IP SAN 127.0.0.1), the mock
                 advertising the HAProxy ports; kedge verifies them (backend.tls.ca_file) with metadata discovery
                 (a client dialling a broker port first makes kedge discover over TLS) and with a static
                 pattern; a kedge with the WRONG CA refuses and logs the verification error.
Prints one PASS/FAIL line per check and `N passed, M failed`.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import make_certs, write_config  # noqa: E402
from test_topology_smoke import Checks, client_argv, parse_metadata, summary_fields, verify_keys  # noqa: E402
from topology import Topology, tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
PORT_HOST = f"ports.{DOMAIN}"  # covered by the *.kafka.example.com test certificate
V6_HOST = "kafka6.example.net"  # resolved through /etc/netns/<ns>/hosts to kedge's IPv6 address
MESSAGES = 200
TIMEOUT_MS = "30000"
KCLIENT = "kclient_rdk212"


def tls_args(ca):
    return ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={ca}",
            "-X", "ssl.endpoint.identification.algorithm=https"]


def start_kedge(topo, kedge_binary, config, name, ready_port):
    path = write_config(os.path.join(topo.log_dir, f"{name}.json"), config)
    return topo.start_process("dc", [kedge_binary, "run", "--config", path, "--log-level", "debug"],
                              topo.log_path(name), ready_port=ready_port)


def port_listener(name, bind, cluster, base, max_node_id, tls=None, host=PORT_HOST):
    listener = {"name": name, "bind": bind,
                "routing": {"mode": "port", "virtual_cluster": cluster, "advertised_host": host,
                            "broker_port_base": base, "max_node_id": max_node_id}}
    if tls:
        listener["tls"] = tls
    return listener


def produce_consume(topo, checks, network, client, bootstrap, topic, extra, label):
    """One client produces MESSAGES and consumes them in a fresh group; records two checks."""
    prefix = f"{label}-{client}-{network}".replace(" ", "_")
    group = f"g-{prefix}"
    name = f"[{label}] {client} in network {network}"
    if client == "kcat":
        lines = "".join(f"{prefix}-{i}:{prefix}-{i}\n" for i in range(MESSAGES))
        produced = topo.run_in(network, ["kcat", "-P", "-b", bootstrap, "-t", topic, "-K", ":", *extra],
                               input=lines, timeout=60)
        checks.record(f"{name} produces {MESSAGES}", produced.returncode == 0, produced.stderr.strip()[-400:])
        consumed = topo.run_in(network, ["kcat", "-C", "-b", bootstrap, "-G", group, *extra,
                                         "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%k\t%s\n", topic],
                               timeout=60)
        ok, detail = verify_keys([line for line in consumed.stdout.splitlines() if line.startswith(prefix)],
                                 prefix, MESSAGES)
        checks.record(f"{name} consumes every message exactly once (group)", ok and consumed.returncode == 0,
                      detail + " " + consumed.stderr.strip()[-300:])
        return
    produced = topo.run_in(network, client_argv(client, "produce", "--bootstrap", bootstrap, "--topic", topic,
                                                "--count", MESSAGES, "--prefix", prefix, "--timeout-ms", TIMEOUT_MS,
                                                *extra), timeout=60)
    fields = summary_fields(produced.stdout, "produce")
    checks.record(f"{name} produces {MESSAGES}",
                  produced.returncode == 0 and fields.get("delivered") == str(MESSAGES),
                  produced.stdout.strip()[-300:] or produced.stderr.strip()[-400:])
    consumed = topo.run_in(network, client_argv(client, "consume", "--bootstrap", bootstrap, "--topic", topic,
                                                "--group", group, "--expect", MESSAGES, "--prefix", prefix,
                                                "--timeout-ms", TIMEOUT_MS, *extra), timeout=60)
    fields = summary_fields(consumed.stdout, "consume")
    checks.record(f"{name} consumes every message exactly once (group)",
                  consumed.returncode == 0 and fields.get("unique") == str(MESSAGES) and
                  fields.get("duplicates") == "0", consumed.stdout.strip()[-300:] or consumed.stderr.strip()[-400:])


def check_metadata(topo, checks, network, bootstrap, extra, want, label):
    result = topo.run_in(network, client_argv(KCLIENT, "metadata", "--bootstrap", bootstrap, "--timeout-ms", "15000",
                                              *extra), timeout=40)
    brokers, topics, _ = parse_metadata(result.stdout)
    checks.record(f"[{label}] metadata lists exactly {sorted(want.values())}", brokers == want,
                  f"got {brokers} {result.stderr.strip()[-300:]}")
    return brokers, topics


def add_ipv6(topo, network):
    """Gives the a/b veth pair IPv6 addresses (the topology is IPv4); returns kedge's IPv6 address there."""
    index = topo.CLIENT_NETWORKS.index(network) + 1
    gateway, client = f"fd00:{topo.subnet:x}:{index}::1", f"fd00:{topo.subnet:x}:{index}::2"
    subprocess.run(["ip", "-n", topo.ns("dc"), "-6", "addr", "add", f"{gateway}/64", "dev", f"to-{network}", "nodad"],
                   check=True)
    subprocess.run(["ip", "-n", topo.ns(network), "-6", "addr", "add", f"{client}/64", "dev", "to-dc", "nodad"],
                   check=True)
    # `ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts for every later command in that namespace.
    with open(os.path.join("/etc/netns", topo.ns(network), "hosts"), "w") as hosts:
        hosts.write(f"127.0.0.1 localhost\n{gateway} {V6_HOST}\n")
    return gateway


def scenario_listeners(topo, checks, kedge_binary):
    mock = topo.start_mock_cluster("rdk212", brokers=3, topics={"orders": 6})
    certs = make_certs(os.path.join(topo.log_dir, "tls"), DOMAIN)
    tls = {"cert": certs["cert"], "key": certs["key"]}
    gateway6 = add_ipv6(topo, "a")
    config = {
        "listeners": [
            {"name": "sni", "bind": "0.0.0.0:9092", "tls": tls},
            port_listener("port-tls", "0.0.0.0:19092", "alpha", 19100, 9, tls=tls),
            port_listener("port-plain", "0.0.0.0:29092", "alpha", 29100, 9),
            port_listener("port-v6", "[::]:39092", "alpha", 39100, 9, host=V6_HOST),
        ],
        "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                              "backend": {"bootstrap_servers": mock.bootstrap.split(",")}}],
    }
    kedge = start_kedge(topo, kedge_binary, config, "kedge", 19092)
    ca = certs["ca"]
    cases = [
        ("port TLS", f"{PORT_HOST}:19092", tls_args(ca), {i: f"{PORT_HOST}:{19100 + i}" for i in (1, 2, 3)}),
        ("port plaintext", f"{PORT_HOST}:29092", [], {i: f"{PORT_HOST}:{29100 + i}" for i in (1, 2, 3)}),
    ]
    for label, bootstrap, extra, want in cases:
        check_metadata(topo, checks, "b", bootstrap, extra, want, label)
        for index, client in enumerate([KCLIENT, "pyclient", "kcat"]):
            produce_consume(topo, checks, ("a", "b")[index % 2], client, bootstrap, "orders", extra, label)
    # IPv6: the client reaches kedge only over IPv6 (its name has no IPv4 address).
    check_metadata(topo, checks, "a", f"{V6_HOST}:39092", [], {i: f"{V6_HOST}:{39100 + i}" for i in (1, 2, 3)},
                   "IPv6 plaintext")
    produce_consume(topo, checks, "a", KCLIENT, f"{V6_HOST}:39092", "orders", [], "IPv6")
    # The SNI listener in the same process still routes by name.
    check_metadata(topo, checks, "b", f"bootstrap.{DOMAIN}:9092", tls_args(ca),
                   {i: f"broker-{i}.{DOMAIN}:9092" for i in (1, 2, 3)}, "SNI beside port listeners")
    produce_consume(topo, checks, "b", KCLIENT, f"bootstrap.{DOMAIN}:9092", "orders", tls_args(ca), "SNI")
    log = kedge.log_text()
    checks.record("kedge accepted IPv6 clients on [::]:39092", f"client=[fd00:{topo.subnet:x}:1::2]" in log,
                  "no access-log line from the IPv6 client")
    checks.record("kedge still running", kedge.alive())
    del gateway6


def scenario_gapped_ids(topo, checks, kedge_binary):
    mock = topo.start_mock_cluster("rdk212", brokers=3, topics={})
    for broker in (100, 200, 300):
        mock.command_ok(f"add {broker}")
    # The mock's `bootstrap` answer keeps the initial brokers; the added ones' listeners are learned from
    # Metadata, asked directly inside dc before brokers 1..3 go away.
    listed = topo.run_in("dc", client_argv(KCLIENT, "metadata", "--bootstrap", mock.bootstrap,
                                           "--timeout-ms", "10000"), timeout=30)
    real, _, _ = parse_metadata(listed.stdout)
    bootstrap_servers = [real[broker] for broker in (100, 200, 300) if broker in real]
    checks.record("mock lists the added brokers 100/200/300", len(bootstrap_servers) == 3, str(real))
    for broker in (1, 2, 3):
        mock.command_ok(f"decommission {broker}")
    mock.command_ok("topic gapped 6")
    config = {
        # Bootstrap on 19000; broker N on 19100 + N: 100 -> 19200, 200 -> 19300, 300 -> 19400.
        "listeners": [port_listener("gapped", "0.0.0.0:19000", "alpha", 19100, 300),
                      # Too small a pool: ids 200 and 300 have no port there.
                      port_listener("narrow", "0.0.0.0:18000", "alpha", 18100, 150)],
        "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                              "backend": {"bootstrap_servers": bootstrap_servers}}],
    }
    kedge = start_kedge(topo, kedge_binary, config, "kedge", 19000)
    bootstrap = f"{PORT_HOST}:19000"
    brokers, _ = check_metadata(topo, checks, "a", bootstrap, [],
                                {100: f"{PORT_HOST}:19200", 200: f"{PORT_HOST}:19300", 300: f"{PORT_HOST}:19400"},
                                "ids 100/200/300")
    for index, client in enumerate([KCLIENT, "pyclient", "kcat"]):
        produce_consume(topo, checks, ("a", "b")[index % 2], client, bootstrap, "gapped", [], "gapped ids")
    checks.record("no node id fell outside the pool of listener gapped",
                  "outside the port pool of listener gapped" not in kedge.log_text())
    narrow = topo.run_in("b", client_argv(KCLIENT, "metadata", "--bootstrap", f"{PORT_HOST}:18000",
                                          "--timeout-ms", "4000"), timeout=30)
    time.sleep(0.3)
    log = kedge.log_text()
    checks.record("[narrow pool] an id without a pool port is never advertised: the client gets no metadata",
                  "metadata ok=0" in narrow.stdout and f"{PORT_HOST}:18" not in narrow.stdout, narrow.stdout[-200:])
    checks.record("[narrow pool] kedge logs the id and the pool and closes with node_id_out_of_range",
                  "outside the port pool of listener narrow (ids 0..150 on ports 18100..18250)" in log
                  and "cause=node_id_out_of_range" in log,
                  "\n".join(line for line in log.splitlines() if "narrow" in line)[-500:])
    checks.record("kedge still running", kedge.alive())


def make_ip_pki(directory, name):
    """A throwaway CA and a server certificate for IP 127.0.0.1 (cert+key PEM for HAProxy)."""
    os.makedirs(directory, exist_ok=True)
    p = lambda f: os.path.join(directory, f)  # noqa: E731
    run = lambda *argv: subprocess.run(argv, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "1", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=mock-broker")
    with open(p("server.ext"), "w") as ext:
        ext.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
        "-CAcreateserial", "-out", p("server.crt"), "-days", "1", "-extfile", p("server.ext"))
    with open(p("server.pem"), "w") as pem:
        pem.write(open(p("server.crt")).read() + open(p("server.key")).read())
    return {"ca": p("ca.pem"), "pem": p("server.pem")}


def scenario_upstream_tls(topo, checks, kedge_binary):
    mock = topo.start_mock_cluster("rdk212", brokers=3, topics={"secure": 6})
    good = make_ip_pki(os.path.join(topo.log_dir, "broker-tls"), "broker-ca")
    wrong = make_ip_pki(os.path.join(topo.log_dir, "other-tls"), "other-ca")
    tls_ports = {i: 29100 + i for i in (1, 2, 3)}
    lines = ["global", "  maxconn 512", "defaults", "  mode tcp", "  timeout connect 5s", "  timeout client 60s",
             "  timeout server 60s"]
    for (broker, (host, port)) in zip((1, 2, 3), mock.broker_addresses):
        lines += [f"frontend tls{broker}", f"  bind 127.0.0.1:{tls_ports[broker]} ssl crt {good['pem']}",
                  f"  default_backend mock{broker}", f"backend mock{broker}", f"  server m{broker} {host}:{port}"]
    haproxy_cfg = os.path.join(topo.log_dir, "haproxy.cfg")
    with open(haproxy_cfg, "w") as cfg:
        cfg.write("\n".join(lines) + "\n")
    topo.start_process("dc", ["haproxy", "-db", "-f", haproxy_cfg], topo.log_path("haproxy"), ready_port=29101)
    for broker, port in tls_ports.items():
        mock.command_ok(f"hostport {broker} 127.0.0.1 {port}")
    tls_bootstrap = [f"127.0.0.1:{port}" for port in tls_ports.values()]

    def config(ca, discovery, bind_port, base):
        backend = {"bootstrap_servers": tls_bootstrap, "tls": {"ca_file": ca}}
        if discovery:
            backend["discovery"] = discovery
        return {"listeners": [port_listener("plain", f"0.0.0.0:{bind_port}", "alpha", base, 9)],
                "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                                      "backend": backend}]}

    verified = start_kedge(topo, kedge_binary, config(good["ca"], None, 19092, 19100), "kedge-verified", 19092)
    # A client dialling a broker port first: kedge has learned nothing yet and must discover over TLS.
    direct = topo.run_in("a", client_argv(KCLIENT, "metadata", "--bootstrap", f"{PORT_HOST}:19102",
                                          "--timeout-ms", "15000"), timeout=40)
    brokers, _, _ = parse_metadata(direct.stdout)
    checks.record("[backend TLS] first contact on a broker port: discovery over verified TLS",
                  brokers == {i: f"{PORT_HOST}:{19100 + i}" for i in (1, 2, 3)} and
                  "discovery for alpha: 127.0.0.1:291" in verified.log_text(),
                  f"got {brokers} {direct.stderr.strip()[-300:]}")
    for index, client in enumerate([KCLIENT, "pyclient", "kcat"]):
        produce_consume(topo, checks, ("a", "b")[index % 2], client, f"{PORT_HOST}:19092", "secure", [],
                        "backend TLS")
    log = verified.log_text()
    checks.record("[backend TLS] kedge connected to brokers over TLS", ", TLS TLSv1." in log,
                  "no 'connected to ... TLS' debug line")

    static = start_kedge(topo, kedge_binary,
                         config(good["ca"], {"mode": "static", "pattern": "127.0.0.1:2910$(nodeId)"}, 19093, 19200),
                         "kedge-static", 19093)
    produce_consume(topo, checks, "b", KCLIENT, f"{PORT_HOST}:19093", "secure", [], "static pattern + TLS")
    # The readiness probe may still ask the backend for Metadata (is it reachable?); no broker connection waits
    # for discovery, though: the pattern is the address.
    checks.record("[static pattern] no broker connection waited for discovery",
                  "not known yet; asking the backend" not in static.log_text())

    refusing = start_kedge(topo, kedge_binary, config(wrong["ca"], None, 19094, 19300), "kedge-wrong-ca", 19094)
    failed = topo.run_in("a", client_argv(KCLIENT, "metadata", "--bootstrap", f"{PORT_HOST}:19094",
                                          "--timeout-ms", "5000"), timeout=30)
    checks.record("[wrong CA] the client cannot get metadata", "metadata ok=0" in failed.stdout,
                  failed.stdout.strip()[-200:])
    time.sleep(0.3)
    log = refusing.log_text()
    checks.record("[wrong CA] kedge logs the certificate verification failure",
                  "certificate verify failed" in log and "cause=upstream_tls_failed" in log,
                  "\n".join(line for line in log.splitlines() if "TLS" in line)[-600:])
    for process in (verified, static, refusing):
        checks.record(f"{process.log_path.rsplit('/', 1)[-1]} still running", process.alive())


SCENARIOS = {"listeners": scenario_listeners, "gapped_ids": scenario_gapped_ids, "upstream_tls": scenario_upstream_tls}


def main():
    if os.geteuid() != 0:
        print("needs root for network namespaces")
        return 77
    scenario, kedge_binary = sys.argv[1], os.path.abspath(sys.argv[2])
    if tool_path(KCLIENT) is None:
        print("kclient_rdk212 not built")
        return 1
    checks = Checks()
    started = time.monotonic()
    with Topology(keep_logs=os.environ.get("KEDGE_KEEP_LOGS") == "1") as topo:
        print(f"topology {topo.prefix}, scenario {scenario}, logs {topo.log_dir}", flush=True)
        SCENARIOS[scenario](topo, checks, kedge_binary)
    print(f"{checks.passed} passed, {checks.failed} failed ({time.monotonic() - started:.0f} s)", flush=True)
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
