#!/usr/bin/python3
"""kedge's OWN discovery connection authenticating with SASL (backend.discovery.sasl), against sasl_stage.py.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock cluster; one sasl_stage.py per broker on 127.0.0.1:2900<id>
                  (SASL required: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), the mock advertising the stages;
                  six kedge processes side by side, each with the stages as bootstrap servers and its own
                  backend.discovery setting, readiness probing every 300 ms, admin API on a free port
    <prefix>-a    kclient_rdk212 (SASL_SSL through the PLAIN kedge: client SASL still passes through)

Checks:
  - PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 with good credentials: /readyz 200, /v1/state lists brokers 1..3 at
    the stages' addresses learned from "discovery", kedge_backend_reachable 1, and the stage logged kedge's
    discovery user authenticating with that mechanism;
  - a wrong password (PLAIN, SCRAM-SHA-512): /readyz 503 whose body names "SASL authentication failed: " and the
    broker's error message, kedge_backend_reachable 0, /v1/state last_error the same, no broker learned;
  - no `sasl` at all: /readyz 503 too (the stage really requires authentication);
  - rotation: the wrong password's file corrected, SIGHUP: /readyz turns 200 (the reload re-reads the file);
  - `kedge check --json`: good SCRAM-SHA-512 credentials list the 3 brokers; a wrong password fails the backend
    with the SASL error and a fix naming backend.discovery.sasl;
  - a SASL_SSL client through the PLAIN kedge gets metadata (client connections are unaffected);
  - no password appears in any kedge log (debug level), /v1/state or check output.

Usage: test_gateway_sasl_discovery.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, make_certs, write_config  # noqa: E402
from scenario_support import run_scenario, sasl_ssl_args, scenario_topology, start_sasl_stages, summary_exit_code  # noqa: E402,E501
from test_topology_smoke import Checks, client_argv, parse_metadata  # noqa: E402

DOMAIN = "kafka.example.com"
USERS = {"disc-plain": "pw-plain-71c0d2", "disc-s256": "pw-s256-3e9a40", "disc-s512": "pw-s512-b85f1c",
         "client-plain": "pw-client-5a77e1"}
WRONG = "pw-wrong-00f00d"
# name -> (listener port, discovery sasl: (mechanism, user, password) or None)
KEDGES = {
    "plain": (9101, ("PLAIN", "disc-plain", USERS["disc-plain"])),
    "scram256": (9102, ("SCRAM-SHA-256", "disc-s256", USERS["disc-s256"])),
    "scram512": (9103, ("SCRAM-SHA-512", "disc-s512", USERS["disc-s512"])),
    "plain-wrong": (9104, ("PLAIN", "disc-plain", WRONG)),
    "scram512-wrong": (9105, ("SCRAM-SHA-512", "disc-s512", WRONG)),
    "no-sasl": (9106, None),
}
GOOD = ("plain", "scram256", "scram512")
AUTH_FAILED = "SASL authentication failed: Authentication failed during authentication due to invalid credentials " \
              "with SASL mechanism {}"


def kedge_config(topo, certs, name, port, sasl, stages):
    backend = {"bootstrap_servers": list(stages.values())}
    if sasl:
        mechanism, user, password = sasl
        password_file = os.path.join(topo.log_dir, f"{name}.password")
        with open(password_file, "w") as secret:
            secret.write(password + "\n")
        backend["discovery"] = {"sasl": {"mechanism": mechanism, "username": user, "password_file": password_file}}
    config = {"listeners": [{"name": "hub", "bind": f"0.0.0.0:{port}",
                             "tls": {"cert": certs["cert"], "key": certs["key"]}}],
              "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                                    "backend": backend}],
              "admin": {"bind": "127.0.0.1:0", "readiness_probe_interval_ms": 300},
              "log": {"level": "debug"}}
    return write_config(os.path.join(topo.log_dir, f"kedge-{name}.json"), config)


def http(topo, address, path):
    """(status, body) of GET http://address/path from inside dc."""
    result = topo.run_in("dc", ["curl", "-s", "-m", "5", "-w", "\n%{http_code}", f"http://{address}{path}"], timeout=15)
    body, _, status = result.stdout.rpartition("\n")
    return (int(status) if status.isdigit() else 0), body


def poll_readyz(topo, address, accept, timeout=15.0):
    """GET /readyz until accept((status, body)) holds or `timeout` passes; returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = http(topo, address, "/readyz")
        if accept(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def cluster_state(topo, address):
    """(virtual_clusters[0] of /v1/state, or {} when it does not parse; the raw text)."""
    _, text = http(topo, address, "/v1/state")
    try:
        return json.loads(text)["virtual_clusters"][0], text
    except (ValueError, KeyError, IndexError):
        return {}, text


def metric_value(text, name):
    for line in text.splitlines():
        if line.startswith(name + "{") and 'virtual_cluster="alpha"' in line:
            return line.rsplit(" ", 1)[-1]
    return None


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    with scenario_topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics={"discovered": 3})
        stages = start_sasl_stages(topo, cluster, USERS)
        certs = make_certs(os.path.join(topo.log_dir, "tls"), DOMAIN)
        print(f"topology {topo.prefix} (logs {topo.log_dir}); stages {stages}", flush=True)
        configs, kedges, admins = {}, {}, {}
        for name, (port, sasl) in KEDGES.items():
            configs[name] = kedge_config(topo, certs, name, port, sasl, stages)
            kedges[name] = topo.start_process("dc", [kedge_binary, "run", "--config", configs[name]],
                                              topo.log_path(f"kedge-{name}"), ready_port=port)
        for name, process in kedges.items():
            admins[name] = wait_for(lambda: admin_address(process.log_text()), 10)
        want = {broker: address for broker, address in stages.items()}

        for name in GOOD:
            mechanism = KEDGES[name][1][0]
            status, body = poll_readyz(topo, admins[name], lambda r: r[0] == 200)
            checks.record(f"[{mechanism}] /readyz 200 with discovery authenticated", status == 200,
                          f"{status} {body.strip()[:300]}")
            backend_state, state_text = cluster_state(topo, admins[name])
            learned = {b["node_id"]: b["address"] for b in backend_state.get("brokers", [])
                       if b.get("learned_from") == "discovery"}
            checks.record(f"[{mechanism}] /v1/state: brokers 1..3 at the stages, learned from discovery",
                          learned == want, f"{learned} {state_text[:300]}")
            _, metrics = http(topo, admins[name], "/metrics")
            checks.record(f"[{mechanism}] kedge_backend_reachable 1",
                          metric_value(metrics, "kedge_backend_reachable") == "1",
                          str(metric_value(metrics, "kedge_backend_reachable")))

        for name, mechanism in (("plain-wrong", "PLAIN"), ("scram512-wrong", "SCRAM-SHA-512")):
            expected = AUTH_FAILED.format(mechanism)
            status, body = poll_readyz(topo, admins[name], lambda r: "SASL" in r[1])
            checks.record(f"[{mechanism}, wrong password] /readyz 503 naming the broker's SASL error",
                          status == 503 and expected in body, f"{status} {body.strip()[:300]}")
            _, metrics = http(topo, admins[name], "/metrics")
            checks.record(f"[{mechanism}, wrong password] kedge_backend_reachable 0",
                          metric_value(metrics, "kedge_backend_reachable") == "0",
                          str(metric_value(metrics, "kedge_backend_reachable")))
            backend_state, state_text = cluster_state(topo, admins[name])
            checks.record(f"[{mechanism}, wrong password] /v1/state: last_error names it, no broker learned",
                          expected in str(backend_state.get("backend", {}).get("last_error"))
                          and not backend_state.get("brokers"), state_text[:400])

        status, body = poll_readyz(topo, admins["no-sasl"], lambda r: r[0] == 503 and "unreachable" in r[1])
        checks.record("[no sasl] the stage requires authentication: /readyz 503, the broker closed the connection",
                      status == 503 and "closed the connection without answering" in body,
                      f"{status} {body.strip()[:300]}")

        stage_text = "".join(open(topo.log_path(f"sasl-stage-{b}"), errors="replace").read() for b in stages)
        for name in GOOD:
            mechanism, user, _ = KEDGES[name][1]
            checks.record(f"[{mechanism}] the stage authenticated kedge's discovery user {user}",
                          f"{mechanism} user {user} authenticated" in stage_text, "")

        # kedge check: the same exchange over its blocking socket.
        check_good = topo.run_in("dc", [kedge_binary, "check", "--config", configs["scram512"], "--json", "--no-dns",
                                        "--timeout-ms", "5000"], timeout=60)
        try:
            report = json.loads(check_good.stdout)
            backends = report["backends"]
        except (ValueError, KeyError):
            report, backends = {}, []
        listed = {b["id"]: f'{b["host"]}:{b["port"]}' for b in (backends[0]["brokers"] if backends else [])}
        checks.record("[kedge check, SCRAM-SHA-512] every bootstrap server answered after SASL; brokers listed",
                      backends and all(b["ok"] for b in backends) and listed == want,
                      f"{listed} {check_good.stdout[:300]} {check_good.stderr[:300]}")
        check_bad = topo.run_in("dc", [kedge_binary, "check", "--config", configs["scram512-wrong"], "--json",
                                       "--no-dns", "--timeout-ms", "5000"], timeout=60)
        try:
            bad_report = json.loads(check_bad.stdout)
        except ValueError:
            bad_report = {}
        errors = [b.get("error") or "" for b in bad_report.get("backends", [])]
        fixes = " ".join(str(f) for f in bad_report.get("findings", []))
        checks.record("[kedge check, wrong password] exit 1, each backend fails with the SASL error, fix names "
                      "backend.discovery.sasl",
                      check_bad.returncode == 1 and errors and
                      all(AUTH_FAILED.format("SCRAM-SHA-512") in e for e in errors) and
                      "virtual_clusters[0].backend.discovery.sasl" in fixes,
                      f"exit {check_bad.returncode} {errors} {fixes[:300]}")

        # Client connections keep passing their own SASL through (kedge adds nothing to them).
        client = topo.run_in("a", client_argv("kclient_rdk212", "metadata", "--bootstrap",
                                              f"bootstrap.{DOMAIN}:{KEDGES['plain'][0]}", "--timeout-ms", "15000",
                                              *sasl_ssl_args(certs["ca"], "SCRAM-SHA-256", "client-plain",
                                                             USERS["client-plain"])), timeout=40)
        brokers, _, _ = parse_metadata(client.stdout)
        checks.record("a SASL_SSL client through the PLAIN-discovery kedge gets metadata (its own SASL passes through)",
                      brokers == {i: f"broker-{i}.{DOMAIN}:{KEDGES['plain'][0]}" for i in (1, 2, 3)},
                      f"{brokers} {client.stderr.strip()[-300:]}")

        # Rotation: the right password written to the file, then SIGHUP; the reload re-reads it and the
        # next probe authenticates (client connections are not drained for it).
        with open(os.path.join(topo.log_dir, "plain-wrong.password"), "w") as secret:
            secret.write(USERS["disc-plain"] + "\n")
        os.kill(kedges["plain-wrong"].pid, signal.SIGHUP)
        status, body = poll_readyz(topo, admins["plain-wrong"], lambda r: r[0] == 200)
        checks.record("[PLAIN] the corrected password file, re-read on SIGHUP, makes /readyz 200",
                      status == 200, f"{status} {body.strip()[:300]}")

        texts = {f"kedge-{name} log": process.log_text() for name, process in kedges.items()}
        texts["check output"] = check_good.stdout + check_good.stderr + check_bad.stdout + check_bad.stderr
        for name in kedges:
            texts[f"kedge-{name} /v1/state"] = http(topo, admins[name], "/v1/state")[1]
        leaked = [where for where, text in texts.items()
                  if any(secret in text for secret in [*USERS.values(), WRONG])]
        checks.record("no password in kedge's logs (debug), /v1/state or kedge check output", not leaked, str(leaked))
        for name, process in kedges.items():
            checks.record(f"kedge-{name} still running", process.alive())
        errors = [line for text in texts.values() for line in text.splitlines() if " ERROR " in line]
        checks.record("no kedge logged an ERROR line", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
