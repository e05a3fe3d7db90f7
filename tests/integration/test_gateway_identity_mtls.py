#!/usr/bin/python3
"""mTLS TERMINATED by kedge (issue 17): clients authenticate with a certificate of the client CA, kedge maps it
to a principal (subject CN) and checks that principal against the virtual cluster's principals.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock cluster; kedge on 0.0.0.0:9092 with two virtual clusters on
                  that backend, shared-suffix names, both "authentication": terminate + mtls (client
                  certificates required, the client CA below, its CRL):
                    alpha  principals: alice
                    beta   principals: bob
    <prefix>-a    kcat (librdkafka 2.0.2), kclient_rdk212 (librdkafka 2.12 C API), openssl s_client
    <prefix>-b    python confluent-kafka (librdkafka 2.0.2)

Certificates are made at test time with the openssl CLI: the server's dev CA (make_certs.sh); a client CA run
with `openssl ca` (its database revokes one certificate and `-gencrl` writes the CRL kedge loads); alice and
bob (valid), an expired alice, a revoked alice, and an alice of another CA.

Checks:
  - kcat, kclient_rdk212 and pyclient, each with alice's certificate, produce N records through alpha and a
    group consumer (same certificate) receives each exactly once; the access log names principal "alice";
  - a certificate of another CA, an expired one, a revoked one (CRL) and no certificate at all are each
    refused on alpha: kcat and openssl s_client report the TLS alert (unknown ca, certificate expired,
    certificate revoked, certificate required), and the test prints what each client printed;
  - alice (bound to alpha only) connecting by SNI to beta is refused with access_denied (TLS 1.3; s_client with
    -tls1_2 gets handshake_failure); the same alice on alpha works, and bob on beta reads metadata;
  - alice with her certificate but configured for SASL PLAIN too is refused by kedge (SaslHandshake error 33, no
    mechanism: alpha authenticates by certificate only), and kcat prints librdkafka's text;
  - a paced kclient_rdk212 producer with alice's certificate, running through alpha during all the refusals,
    gets every delivery report;
  - kedge counts each refusal reason (kedge_client_certificate_refusals_total) and closes those connections
    with bytes_in=0 bytes_out=0: no Kafka byte of a refused client went anywhere; kedge logged no errors.

Usage: test_gateway_identity_mtls.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, make_certs, write_config  # noqa: E402
from scenario_support import (client_consume_argv, client_produce_argv, consumed_once, exactly_once,  # noqa: E402
                              finish, kcat_keys, kedge_errors, popen_in, produced_all, run_scenario,
                              scenario_topology, summary_exit_code)
from test_topology_smoke import Checks, client_argv  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
CLIENTS = (("kcat", "a"), ("kclient_rdk212", "a"), ("pyclient", "b"))
PARTITIONS = 3
MESSAGES = 200
STEADY_MESSAGES = 300   # the concurrent good producer: 300 records at 20/s
STEADY_RATE = "20"
TIMEOUT_MS = "40000"


def bootstrap(cluster):
    return f"bootstrap-{cluster}.{DOMAIN}:{PORT}"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_client_pki(directory):
    """The client CA (an `openssl ca` database), its clients, and the CRL revoking one of them."""
    os.makedirs(os.path.join(directory, "newcerts"), exist_ok=True)
    with open(os.path.join(directory, "index.txt"), "w"):
        pass
    with open(os.path.join(directory, "serial"), "w") as serial:
        serial.write("1000\n")
    with open(os.path.join(directory, "crlnumber"), "w") as number:
        number.write("01\n")
    with open(os.path.join(directory, "ca.cnf"), "w") as cnf:
        cnf.write(f"""[ca]
default_ca = client_ca
[client_ca]
dir = {directory}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/client-ca.pem
private_key = $dir/client-ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 7
policy = policy_cn
unique_subject = no
copy_extensions = none
x509_extensions = client_ext
[policy_cn]
commonName = supplied
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
""")
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "client-ca.key", "-out", "client-ca.pem", "-days", "30",
            "-subj", "/CN=kedge test client CA", *ca_ext, cwd=directory)
    openssl("req", "-x509", *ec, "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "30",
            "-subj", "/CN=an unrelated CA", *ca_ext, cwd=directory)

    def client(name, cn, *ca_args):
        openssl("req", "-new", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}",
                cwd=directory)
        openssl("ca", "-batch", "-config", "ca.cnf", "-in", f"{name}.csr", "-out", f"{name}.pem", "-notext",
                *ca_args, cwd=directory)

    client("alice", "alice")
    client("bob", "bob")
    client("expired", "alice", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z")
    client("revoked", "alice")
    openssl("ca", "-config", "ca.cnf", "-revoke", "revoked.pem", cwd=directory)
    openssl("ca", "-config", "ca.cnf", "-gencrl", "-out", "client-ca.crl", cwd=directory)
    # alice, signed by the unrelated CA
    openssl("req", "-new", *ec, "-keyout", "stranger.key", "-out", "stranger.csr", "-subj", "/CN=alice",
            cwd=directory)
    openssl("x509", "-req", "-in", "stranger.csr", "-CA", "other-ca.pem", "-CAkey", "other-ca.key",
            "-set_serial", "0x77", "-days", "30", "-out", "stranger.pem", cwd=directory)
    return lambda name: (os.path.join(directory, f"{name}.pem"), os.path.join(directory, f"{name}.key"))


# What librdkafka prints when kedge refuses the SASL of a client of a certificate-only cluster (SaslHandshake
# answered UNSUPPORTED_SASL_MECHANISM with no mechanism listed).
SASL_REFUSED = "Unsupported SASL mechanism"


def mtls_args(server_ca, identity=None):
    args = ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={server_ca}",
            "-X", "ssl.endpoint.identification.algorithm=https"]
    if identity is not None:
        cert, key = identity
        args += ["-X", f"ssl.certificate.location={cert}", "-X", f"ssl.key.location={key}"]
    return args


def write_kedge_config(topo, certs, backend, client_dir):
    authentication = {"mode": "terminate",
                      "mtls": {"client_certificates": "required",
                               "ca_file": os.path.join(client_dir, "client-ca.pem"),
                               "crl_file": os.path.join(client_dir, "client-ca.crl"),
                               "principal": "subject_cn"}}
    config = {
        "listeners": [{"name": "hub", "bind": f"0.0.0.0:{PORT}", "advertised_port": PORT,
                       "tls": {"cert": certs["cert"], "key": certs["key"]}, "authentication": authentication}],
        "virtual_clusters": [
            {"name": "alpha", "hostnames": {"format": "shared_suffix", "domain": DOMAIN},
             "backend": {"bootstrap_servers": backend.split(",")}, "principals": ["alice"]},
            {"name": "beta", "hostnames": {"format": "shared_suffix", "domain": DOMAIN},
             "backend": {"bootstrap_servers": backend.split(",")}, "principals": ["bob"]},
        ],
        "admin": {"bind": "127.0.0.1:0"},
        "log": {"level": "debug"},
    }
    return write_config(os.path.join(topo.log_dir, "kedge.json"), config)


def start_produce(topo, client, network, topic, auth):
    if client == "kcat":
        lines = "".join(f"{topic}-{i}:{topic}-{i}\n" for i in range(MESSAGES))
        argv = ["kcat", "-P", "-b", bootstrap("alpha"), "-t", topic, "-K", ":", "-X", "enable.idempotence=true",
                *auth]
        return popen_in(topo, network, argv, stdin=lines), lines
    argv = client_produce_argv(client, bootstrap("alpha"), topic, MESSAGES, topic, TIMEOUT_MS,
                               "-X", "enable.idempotence=true", *auth)
    return popen_in(topo, network, argv), None


def start_consume(topo, client, network, topic, auth):
    if client == "kcat":
        argv = ["kcat", "-C", "-b", bootstrap("alpha"), "-G", f"g-{topic}", *auth, "-X",
                "auto.offset.reset=earliest", "-e", "-q", "-f", "%k\t%s\n", topic]
    else:
        argv = client_consume_argv(client, bootstrap("alpha"), topic, f"g-{topic}", MESSAGES, topic, TIMEOUT_MS,
                                   *auth)
    return popen_in(topo, network, argv)


def error_lines(text, limit=3):
    """The lines a user reads when a client fails: librdkafka's FAIL/ERROR logs, kcat's %ERROR, OpenSSL's."""
    keep = [line.strip() for line in text.splitlines()
            if re.search(r"\|FAIL\||ERROR|error:|alert|Failed|failed", line)]
    unique = []
    for line in keep:
        line = re.sub(r"^%\d\|\d+\.\d+\|", "%", line)  # drop librdkafka's timestamp so repeats collapse
        if line not in unique:
            unique.append(line)
    return unique[:limit]


def s_client(topo, cluster, server_ca, identity=None, version=None):
    """openssl s_client against kedge; stdin stays empty and -ign_eof waits for kedge to end the session."""
    argv = ["timeout", "20", "openssl", "s_client", "-connect", f"{bootstrap(cluster)}", "-servername",
            bootstrap(cluster).split(":")[0], "-CAfile", server_ca, "-verify_return_error", "-ign_eof", "-brief"]
    if identity is not None:
        argv += ["-cert", identity[0], "-key", identity[1]]
    if version is not None:
        argv.append(version)
    result = topo.run_in("a", argv, timeout=30, input="")
    return result.returncode, result.stdout + result.stderr


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    topics = {f"mtls-{client}": PARTITIONS for client, _ in CLIENTS}
    topics["mtls-steady"] = PARTITIONS
    with scenario_topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics=topics)
        certs = make_certs(os.path.join(topo.log_dir, "tls"), DOMAIN)
        client_dir = os.path.join(topo.log_dir, "client-pki")
        identity = make_client_pki(client_dir)
        config_path = write_kedge_config(topo, certs, cluster.bootstrap, client_dir)
        kedge = topo.start_process("dc", [kedge_binary, "run", "--config", config_path], topo.log_path("kedge"),
                                   ready_port=PORT)
        server_ca = certs["ca"]
        alice = mtls_args(server_ca, identity("alice"))
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock {cluster.bootstrap}", flush=True)

        # 1. alice produces and consumes through alpha with each client.
        started = time.monotonic()
        producers = {client: start_produce(topo, client, network, f"mtls-{client}", alice)
                     for client, network in CLIENTS}
        produced = {client: finish(topo, process, f"produce-{client}", stdin=lines)
                    for client, (process, lines) in producers.items()}
        consumers = {client: start_consume(topo, client, network, f"mtls-{client}", alice)
                     for client, network in CLIENTS}
        consumed = {client: finish(topo, process, f"consume-{client}") for client, process in consumers.items()}
        print(f"    3 producers + 3 consumers took {time.monotonic() - started:.1f}s", flush=True)
        for client, result in produced.items():
            topic = f"mtls-{client}"
            if client == "kcat":
                ok, detail = result[0] == 0, result[2].strip()[-300:]
            else:
                ok, detail = produced_all(result, MESSAGES)
            checks.record(f"{client} with alice's certificate: produced {MESSAGES} through alpha (mTLS)", ok,
                          detail or result[2][-300:])
            outcome = consumed[client]
            if client == "kcat":
                ok, detail = exactly_once(kcat_keys(outcome[1], topic), topic, MESSAGES)
            else:
                ok, detail = consumed_once(outcome, MESSAGES)
            ok = ok and outcome[0] == 0
            checks.record(f"{client} with alice's certificate: group consumer received each record exactly once",
                          ok, detail + ("" if ok else " " + outcome[2].strip()[-300:]))

        # 2. A good producer keeps going while the refused clients come and go.
        steady = popen_in(topo, "b", client_produce_argv(
            "kclient_rdk212", bootstrap("alpha"), "mtls-steady", STEADY_MESSAGES, "mtls-steady", "60000",
            "--rate", STEADY_RATE, "-X", "acks=all", *alice))
        time.sleep(2)

        refusals = [  # (label, cluster, identity name or None, kcat's expected text, s_client's expected alert)
            ("a certificate of another CA", "alpha", "stranger", "alert unknown ca", "unknown ca"),
            ("an expired certificate", "alpha", "expired", "alert certificate expired", "certificate expired"),
            ("a revoked certificate (CRL)", "alpha", "revoked", "alert certificate revoked", "certificate revoked"),
            ("no certificate", "alpha", None, "alert certificate required", "certificate required"),
            ("alice (bound to alpha only) by SNI to beta", "beta", "alice", "alert access denied", "access denied"),
        ]
        printed = []
        for label, target, who, kcat_text, alert in refusals:
            auth = mtls_args(server_ca, identity(who) if who else None)
            kcat = topo.run_in("a", ["kcat", "-L", "-b", bootstrap(target), "-m", "6", *auth], timeout=40)
            kcat_lines = error_lines(kcat.stderr)
            code, text = s_client(topo, target, server_ca, identity(who) if who else None)
            s_lines = error_lines(text, 2)
            printed.append((label, kcat_lines, s_lines))
            checks.record(f"{label} on {target}: refused; kcat prints \"{kcat_text}\"",
                          kcat.returncode != 0 and kcat_text in kcat.stderr and "brokers:" not in kcat.stdout,
                          f"exit {kcat.returncode}; {' | '.join(kcat_lines)[:400]}")
            checks.record(f"{label} on {target}: openssl s_client receives alert \"{alert}\"",
                          f"alert {alert}" in text, " | ".join(s_lines)[:400])
        code, text = s_client(topo, "beta", server_ca, identity("alice"), "-tls1_2")
        s_lines = error_lines(text, 2)
        printed.append(("alice by SNI to beta over TLS 1.2 (s_client -tls1_2)", [], s_lines))
        checks.record("alice on beta over TLS 1.2: openssl s_client receives alert \"handshake failure\"",
                      "alert handshake failure" in text, " | ".join(s_lines)[:400])
        py = topo.run_in("b", client_argv("pyclient", "metadata", "--bootstrap", bootstrap("beta"),
                                          "--timeout-ms", "6000", *alice), timeout=40)
        printed.append(("pyclient (confluent-kafka 2.0.2): alice by SNI to beta", error_lines(py.stderr), []))
        checks.record("alice on beta with pyclient: refused", py.returncode != 0 and "access denied" in py.stderr,
                      " | ".join(error_lines(py.stderr))[:400])

        for label, target_ok in (("alice on alpha", ("alpha", "alice")), ("bob on beta", ("beta", "bob"))):
            target, who = target_ok
            result = topo.run_in("a", client_argv("kclient_rdk212", "metadata", "--bootstrap", bootstrap(target),
                                                  "--timeout-ms", "15000",
                                                  *mtls_args(server_ca, identity(who))), timeout=40)
            checks.record(f"{label}: metadata through kedge", result.returncode == 0 and "metadata ok=1" in
                          result.stdout, f"exit {result.returncode}; {result.stderr.strip()[-300:]}")

        # alice with her certificate, but configured for SASL too: kedge answers the SASL itself (the cluster
        # authenticates by certificate only) and refuses it; nothing of it reaches a broker.
        sasl_alice = [arg.replace("security.protocol=SSL", "security.protocol=SASL_SSL") for arg in alice] + [
            "-X", "sasl.mechanisms=PLAIN", "-X", "sasl.username=alice", "-X", "sasl.password=not-used-anywhere"]
        kcat = topo.run_in("a", ["kcat", "-L", "-b", bootstrap("alpha"), "-m", "6", *sasl_alice], timeout=40)
        kcat_lines = error_lines(kcat.stderr)
        printed.append(("alice with her certificate and SASL PLAIN on alpha (certificate only)", kcat_lines, []))
        checks.record(f"alice with SASL on top of her certificate: refused by kedge; kcat prints \"{SASL_REFUSED}\"",
                      kcat.returncode != 0 and SASL_REFUSED in kcat.stderr and "brokers:" not in kcat.stdout,
                      f"exit {kcat.returncode}; {' | '.join(kcat_lines)[:400]}")

        steady_result = finish(topo, steady, "produce-steady", timeout=90)
        ok, detail = produced_all(steady_result, STEADY_MESSAGES)
        checks.record(f"a good client producing through alpha meanwhile got all {STEADY_MESSAGES} delivery reports",
                      ok, detail or steady_result[2].strip()[-300:])

        print("    what the clients printed:", flush=True)
        for label, kcat_lines, s_lines in printed:
            print(f"      {label}:", flush=True)
            for line in kcat_lines + s_lines:
                print(f"        {line}", flush=True)

        # 3. kedge's side.
        time.sleep(0.5)
        checks.record("kedge still running", kedge.alive(), "")
        kedge_log = open(topo.log_path("kedge"), errors="replace").read()
        principals = re.findall(r'vc=alpha .*principal="([^"]+)"', kedge_log)
        checks.record("the access log names principal \"alice\" on alpha's connections",
                      principals and set(principals) == {"alice"}, f"{len(principals)} lines, {set(principals)}")
        refused = [line for line in kedge_log.splitlines()
                   if re.search(r"cause=(client_certificate_refused|principal_not_bound)\b", line)]
        no_bytes = all("bytes_in=0 bytes_out=0" in line for line in refused)
        checks.record("refused connections carried no Kafka byte (bytes_in=0 bytes_out=0)",
                      len(refused) >= len(refusals) and no_bytes, f"{len(refused)} refused; first: "
                      + (refused[0] if refused else ""))
        reasons = set(re.findall(r"client certificate refused for virtual cluster (\w+) \((\w+)\): .*; TLS alert "
                                 r"sent: (\w+) \((\d+)\)", kedge_log))
        print("    kedge's refusal lines (cluster, reason, alert sent):", flush=True)
        for seen in sorted(reasons):
            print(f"      {seen}", flush=True)
        wanted = {("alpha", "unknown_ca", "unknown_ca", "48"), ("alpha", "expired", "certificate_expired", "45"),
                  ("alpha", "revoked", "certificate_revoked", "44"), ("alpha", "missing", "certificate_required", "116"),
                  ("beta", "not_bound", "access_denied", "49"), ("beta", "not_bound", "handshake_failure", "40")}
        checks.record("kedge logs each refusal with its reason and the alert it sent", wanted <= reasons,
                      f"missing {sorted(wanted - reasons)}")
        admin = admin_address(kedge_log)
        metrics = topo.run_in("dc", ["curl", "-s", "-m", "5", f"http://{admin}/metrics"], timeout=15).stdout
        counted = {}
        for line in metrics.splitlines():
            match = re.match(r'kedge_client_certificate_refusals_total\{virtual_cluster="(\w+)",reason="(\w+)"\} '
                             r'(\d+)', line)
            if match:
                counted[(match.group(1), match.group(2))] = int(match.group(3))
        expected = [("alpha", "unknown_ca"), ("alpha", "expired"), ("alpha", "revoked"), ("alpha", "missing"),
                    ("beta", "not_bound")]
        checks.record("/metrics counts each refusal reason",
                      all(counted.get(key, 0) >= 1 for key in expected),
                      ", ".join(f"{c}/{r}={counted.get((c, r), 0)}" for c, r in expected))
        unbound = re.search(r'kedge_authentications_total\{virtual_cluster="beta",mechanism="mTLS",'
                            r'outcome="principal_not_bound"\} (\d+)', metrics)
        checks.record("/metrics counts alice on beta as mechanism mTLS, outcome principal_not_bound",
                      unbound is not None and int(unbound.group(1)) == counted.get(("beta", "not_bound")),
                      unbound.group(0) if unbound else "no sample")
        accepted = re.search(r'kedge_authentications_total\{virtual_cluster="alpha",mechanism="mTLS",'
                             r'outcome="authenticated"\} (\d+)', metrics)
        checks.record("/metrics counts accepted client certificates on alpha (mechanism mTLS, authenticated)",
                      accepted is not None and int(accepted.group(1)) >= 6,
                      accepted.group(0) if accepted else "no sample")
        errors = kedge_errors(kedge_log)
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
