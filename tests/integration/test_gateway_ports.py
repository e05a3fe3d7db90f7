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
  upstream_mtls  HAProxy REQUIRING a client certificate and one exact SNI per frontend: kedge with
                 backend.tls.cert/key works end to end (SNI = the broker's host name; SNI = server_name with a
                 static pattern); without the certificate it is refused (TLS alert logged, upstream_tls_failed,
                 /readyz 503); a server_name HAProxy does not accept is refused too; HAProxy's log shows each SNI.
Prints one PASS/FAIL line per check and `N passed, M failed`.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, make_certs, write_config  # noqa: E402
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


def make_mtls_pki(directory, dns_names):
    """A broker CA with a server certificate for `dns_names`, and a separate client CA with a client certificate
    (CN kedge, clientAuth) for kedge's backend.tls.cert/key."""
    os.makedirs(directory, exist_ok=True)
    p = lambda f: os.path.join(directory, f)  # noqa: E731
    run = lambda *argv: subprocess.run(argv, check=True, capture_output=True)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("broker-ca", "client-ca"):
        run("openssl", "req", "-x509", *ec, "-keyout", p(f"{ca}.key"), "-out", p(f"{ca}.pem"), "-days", "1",
            "-subj", f"/CN={ca}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    leaves = (("server", "broker-ca", "subjectAltName=" + ",".join(f"DNS:{name}" for name in dns_names) +
               "\nextendedKeyUsage=serverAuth\n"),
              ("client", "client-ca", "extendedKeyUsage=clientAuth\n"))
    for leaf, ca, extensions in leaves:
        run("openssl", "req", "-new", *ec, "-keyout", p(f"{leaf}.key"), "-out", p(f"{leaf}.csr"),
            "-subj", f"/CN={'mock-broker' if leaf == 'server' else 'kedge'}")
        with open(p(f"{leaf}.ext"), "w") as ext:
            ext.write(extensions + "basicConstraints=CA:FALSE\n")
        run("openssl", "x509", "-req", "-in", p(f"{leaf}.csr"), "-CA", p(f"{ca}.pem"), "-CAkey", p(f"{ca}.key"),
            "-CAcreateserial", "-out", p(f"{leaf}.crt"), "-days", "1", "-extfile", p(f"{leaf}.ext"))
    with open(p("server.pem"), "w") as pem:
        pem.write(open(p("server.crt")).read() + open(p("server.key")).read())
    return {"broker_ca": p("broker-ca.pem"), "client_ca": p("client-ca.pem"), "server_pem": p("server.pem"),
            "client_cert": p("client.crt"), "client_key": p("client.key")}


def scenario_upstream_mtls(topo, checks, kedge_binary):
    """HAProxy in front of each mock broker REQUIRES a client certificate (verify required) and accepts one exact
    SNI per frontend (anything else: tcp-request content reject), logging the SNI and whether a certificate came.
      named<N>  127.0.0.1:2920N, SNI must be broker<N>.tls.internal: the host the mock advertises (resolved
                through /etc/netns/<dc>/hosts), i.e. kedge's SNI without server_name;
      fixed<N>  127.0.0.1:2930N, SNI must be kafka.tls.internal: backend.tls.server_name, with a static pattern."""
    mock = topo.start_mock_cluster("rdk212", brokers=3, topics={"mtls": 6})
    names = {i: f"broker{i}.tls.internal" for i in (1, 2, 3)}
    pki = make_mtls_pki(os.path.join(topo.log_dir, "mtls"), [*names.values(), "kafka.tls.internal",
                                                             "wrong.tls.internal"])
    etc = os.path.join("/etc/netns", topo.ns("dc"))
    os.makedirs(etc, exist_ok=True)  # removed with the namespace by Topology.teardown
    with open(os.path.join(etc, "hosts"), "w") as hosts:
        hosts.write("127.0.0.1 localhost " + " ".join(names.values()) + "\n")
    lines = ["global", "  maxconn 512", "  log stdout format raw local0", "defaults", "  mode tcp", "  log global",
             "  option logasap", '  log-format "frontend=%f sni=%[ssl_fc_sni] client_cert=%[ssl_c_used]"',
             "  timeout connect 5s", "  timeout client 60s", "  timeout server 60s"]
    bind = f"ssl crt {pki['server_pem']} verify required ca-file {pki['client_ca']}"
    for (broker, (host, port)) in zip((1, 2, 3), mock.broker_addresses):
        for frontend, listen_port, sni in ((f"named{broker}", 29200 + broker, names[broker]),
                                           (f"fixed{broker}", 29300 + broker, "kafka.tls.internal")):
            lines += [f"frontend {frontend}", f"  bind 127.0.0.1:{listen_port} {bind}",
                      f"  tcp-request content reject unless {{ ssl_fc_sni -m str {sni} }}",
                      f"  default_backend mock{broker}"]
        lines += [f"backend mock{broker}", f"  server m{broker} {host}:{port}"]
    haproxy_cfg = os.path.join(topo.log_dir, "haproxy-mtls.cfg")
    with open(haproxy_cfg, "w") as cfg:
        cfg.write("\n".join(lines) + "\n")
    haproxy = topo.start_process("dc", ["haproxy", "-db", "-f", haproxy_cfg], topo.log_path("haproxy-mtls"),
                                 ready_port=29303)
    for broker in (1, 2, 3):
        mock.command_ok(f"hostport {broker} {names[broker]} {29200 + broker}")
    # The mock elects each partition's leader at random among its replicas, so a broker may lead none of the six
    # partitions (p = (2/3)^6 ~ 9%) and the server_name kedge, bootstrapped from broker 1 alone, would never dial it.
    # Two partitions per broker make every per-broker SNI check below reachable.
    for partition in range(6):
        mock.command_ok(f"leader mtls {partition} {partition % 3 + 1}")

    client_cert = {"cert": pki["client_cert"], "key": pki["client_key"]}

    def config(bind_port, base, bootstrap, tls, discovery=None):
        backend = {"bootstrap_servers": bootstrap, "tls": {"ca_file": pki["broker_ca"], **tls}}
        if discovery:
            backend["discovery"] = discovery
        return {"listeners": [port_listener("plain", f"0.0.0.0:{bind_port}", "alpha", base, 9)],
                "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                                      "backend": backend}],
                "admin": {"bind": "127.0.0.1:0", "readiness_probe_interval_ms": 500}}

    named_bootstrap = [f"{names[i]}:{29200 + i}" for i in (1, 2, 3)]
    fixed_pattern = {"mode": "static", "pattern": "127.0.0.1:2930$(nodeId)"}
    mtls = start_kedge(topo, kedge_binary, config(19092, 19100, named_bootstrap, client_cert), "kedge-mtls", 19092)
    for index, client in enumerate([KCLIENT, "kcat"]):
        produce_consume(topo, checks, ("a", "b")[index % 2], client, f"{PORT_HOST}:19092", "mtls", [],
                        "mTLS, SNI = broker host")
    named = start_kedge(topo, kedge_binary,
                        config(19093, 19200, ["127.0.0.1:29301"], {**client_cert, "server_name": "kafka.tls.internal"},
                               fixed_pattern), "kedge-server-name", 19093)
    produce_consume(topo, checks, "b", KCLIENT, f"{PORT_HOST}:19093", "mtls", [], "mTLS, SNI = server_name")

    no_cert = start_kedge(topo, kedge_binary, config(19094, 19300, named_bootstrap, {}), "kedge-no-cert", 19094)
    refused = topo.run_in("a", client_argv(KCLIENT, "metadata", "--bootstrap", f"{PORT_HOST}:19094",
                                           "--timeout-ms", "4000"), timeout=30)
    checks.record("[no client certificate] the client cannot get metadata", "metadata ok=0" in refused.stdout,
                  refused.stdout.strip()[-200:])
    wrong_sni = start_kedge(topo, kedge_binary,
                            config(19095, 19400, ["127.0.0.1:29301"], {**client_cert, "server_name": "wrong.tls.internal"},
                                   fixed_pattern), "kedge-wrong-sni", 19095)
    wrong = topo.run_in("a", client_argv(KCLIENT, "metadata", "--bootstrap", f"{PORT_HOST}:19095",
                                         "--timeout-ms", "4000"), timeout=30)
    checks.record("[server_name the frontend does not accept] the client cannot get metadata",
                  "metadata ok=0" in wrong.stdout, wrong.stdout.strip()[-200:])
    time.sleep(1.0)  # a readiness probe or two

    log = no_cert.log_text()
    checks.record("[no client certificate] kedge logs that the broker refused the TLS session ('certificate "
                  "required' alert) and counts it as upstream_tls_failed",
                  "the broker refused the TLS session: SSL routines: tlsv13 alert certificate required" in log
                  and "cause=upstream_tls_failed" in log,
                  "\n".join(line for line in log.splitlines() if "TLS" in line or "cause=" in line)[-600:])
    admin = admin_address(log)
    ready = topo.run_in("dc", ["curl", "-s", "-m", "5", "-w", "\n%{http_code}", f"http://{admin}/readyz"], timeout=15)
    checks.record("[no client certificate] /readyz 503 naming the TLS alert",
                  ready.stdout.endswith("503") and "alert certificate required" in ready.stdout, ready.stdout[-300:])
    metrics = topo.run_in("dc", ["curl", "-s", "-m", "5", f"http://{admin}/metrics"], timeout=15).stdout
    failed_tls = [line for line in metrics.splitlines()
                  if line.startswith("kedge_connections_closed_total") and 'cause="upstream_tls_failed"' in line]
    checks.record("[no client certificate] kedge_connections_closed_total{cause=upstream_tls_failed} > 0",
                  any(float(line.rsplit(" ", 1)[-1]) > 0 for line in failed_tls), str(failed_tls))

    proxy_log = haproxy.log_text()
    for broker in (1, 2, 3):
        checks.record(f"[SNI] broker {broker}: kedge without server_name sent SNI {names[broker]} with its "
                      "client certificate",
                      f"frontend=named{broker} sni={names[broker]} client_cert=1" in proxy_log, "")
        checks.record(f"[SNI] broker {broker}: kedge with server_name sent SNI kafka.tls.internal",
                      f"frontend=fixed{broker} sni=kafka.tls.internal client_cert=1" in proxy_log, "")
    checks.record("[SNI] HAProxy saw (and rejected) the wrong server_name",
                  "sni=wrong.tls.internal" in proxy_log, "")
    expected_sni = {**{f"named{i}": {names[i]} for i in names},
                    **{f"fixed{i}": {"kafka.tls.internal", "wrong.tls.internal"} for i in names}}
    unexpected = sorted({m for m in re.findall(r"frontend=(\S+) sni=(\S*)", proxy_log)
                         if m[1] not in expected_sni.get(m[0], set())})
    checks.record("[SNI] no other SNI reached HAProxy (none empty, no IP)", not unexpected, str(unexpected[:5]))
    for process in (mtls, named, no_cert, wrong_sni):
        checks.record(f"{process.log_path.rsplit('/', 1)[-1]} still running", process.alive())


SCENARIOS = {"listeners": scenario_listeners, "gapped_ids": scenario_gapped_ids, "upstream_tls": scenario_upstream_tls,
             "upstream_mtls": scenario_upstream_mtls}


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
