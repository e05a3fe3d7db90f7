#!/usr/bin/python3
"""SASL terminated by kedge, over time (issue 17): re-authentication (KIP-368), a users file changed while
clients run, and brute force from one address.

    <prefix>-dc   3-broker librdkafka 2.12 mock behind sasl_stage.py (one account: kedge-svc); kedge with
                  virtual cluster alpha: authentication terminate (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512),
                  session_lifetime_ms 2000, principals "*"; limits.authentication_failures: delay from the 5th
                  failure (100 ms steps, at most 1 s), block from the 20th for 60 s
    <prefix>-a    kclient_rdk212 (librdkafka 2.12, KIP-368 re-authentication) and the attacker
                  (sasl_attempts.py: PLAIN over TLS, one connection per attempt)
    <prefix>-b    kclient_rdk212 as the well-behaved client during the attack

Checks:
  - a kclient_rdk212 producer at 50 records/s for 20 s with a 2 s session delivers every record (no failed
    delivery) and kedge logs its re-authentications; a consumer then reads each record exactly once;
  - a connection that authenticates and never re-authenticates is closed by kedge after the 2 s lifetime
    (access log cause=session_expired);
  - `kedge users add` of a new user while a producer of another user runs: the new user authenticates without a
    restart (kedge reloads the file), the running producer delivers everything;
  - `kedge users remove` on virtual cluster beta (close_removed_users): that user's open connection is closed
    (access log cause=user_removed);
  - 200 wrong PLAIN passwords from network a: the first 5 answered at once, then each refusal slowed, then from
    the 20th the address is refused ("Too many failed authentications"); meanwhile a client on network b
    authenticates and reads metadata in normal time, every time;
  - kedge logged no errors and no password.

Usage: test_gateway_identity_ops.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, make_certs, write_config  # noqa: E402
from scenario_support import (client_consume_argv, client_produce_argv, consumed_once, finish,  # noqa: E402
                              kedge_errors, popen_in, produced_all, run_scenario, sasl_ssl_args,
                              scenario_topology, start_sasl_stages, summary_exit_code)
from test_topology_smoke import Checks, client_argv  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAIN = "kafka.example.com"
PORT = 9092
BOOTSTRAP = f"bootstrap-alpha.{DOMAIN}:{PORT}"
SERVICE_USER, SERVICE_PASSWORD = "kedge-svc", "svc-pw-41d7aa02"
USERS = {"steady": "pw-steady-1a2b", "tail": "pw-tail-3c4d", "honest": "pw-honest-5e6f", "victim": "pw-victim-7a8b",
         "leaver": "pw-leaver-2e3f"}
NEW_USER, NEW_PASSWORD = "late-joiner", "pw-late-9c0d"
LIFETIME_MS = 2000
RATE, SECONDS = 50, 20


def users_add(kedge_binary, path, user, password):
    result = subprocess.run([kedge_binary, "users", "add", user, "--file", path], input=password, text=True,
                            capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"kedge users add {user}: {result.stderr}")


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    with scenario_topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics={"reauth": 3, "reload": 3})
        stages = start_sasl_stages(topo, cluster, {SERVICE_USER: SERVICE_PASSWORD})
        certs = make_certs(os.path.join(topo.log_dir, "tls"), DOMAIN)
        ca = certs["ca"]
        users_file = os.path.join(topo.log_dir, "users.json")
        for user, password in USERS.items():
            users_add(kedge_binary, users_file, user, password)
        service_password = os.path.join(topo.log_dir, "service-password")
        with open(service_password, "w") as secret:
            secret.write(SERVICE_PASSWORD)
        config = {
            "listeners": [{"name": "hub", "bind": f"0.0.0.0:{PORT}", "advertised_port": PORT,
                           "tls": {"cert": certs["cert"], "key": certs["key"]}}],
            "virtual_clusters": [{
                "name": "alpha", "hostnames": {"format": "shared_suffix", "domain": DOMAIN},
                "backend": {"bootstrap_servers": list(stages.values()),
                            "sasl": {"mechanism": "SCRAM-SHA-512", "username": SERVICE_USER,
                                     "password_file": service_password}},
                "authentication": {"mode": "terminate",
                                   "sasl": {"mechanisms": ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
                                            "users_file": users_file, "session_lifetime_ms": LIFETIME_MS}},
                "principals": ["*"]},
                {"name": "beta", "hostnames": {"format": "shared_suffix", "domain": DOMAIN},
                 "backend": {"bootstrap_servers": list(stages.values()),
                             "sasl": {"mechanism": "SCRAM-SHA-512", "username": SERVICE_USER,
                                      "password_file": service_password}},
                 "authentication": {"mode": "terminate", "close_removed_users": True,
                                    "sasl": {"mechanisms": ["PLAIN", "SCRAM-SHA-256"], "users_file": users_file}},
                 "principals": ["*"]}],
            "limits": {"certificate_check_interval_ms": 500,
                       "authentication_failures": {"delay_after": 5, "block_after": 20, "window_ms": 60000,
                                                   "delay_step_ms": 100, "max_delay_ms": 1000,
                                                   "block_ms": 60000}},
            "admin": {"bind": "127.0.0.1:0"},
            "log": {"level": "debug"},
        }
        config_path = write_config(os.path.join(topo.log_dir, "kedge.json"), config)
        kedge = topo.start_process("dc", [kedge_binary, "run", "--config", config_path], topo.log_path("kedge"),
                                   ready_port=PORT)
        print(f"topology {topo.prefix} (logs {topo.log_dir})", flush=True)

        # --- KIP-368: a 2 s session under 20 s of produce ------------------------------------------------
        count = RATE * SECONDS
        producer = popen_in(topo, "a", client_produce_argv(
            "kclient_rdk212", BOOTSTRAP, "reauth", count, "ra", "60000", "--rate", str(RATE),
            *sasl_ssl_args(ca, "SCRAM-SHA-256", "steady", USERS["steady"])))
        # --- a connection that never re-authenticates ------------------------------------------------------
        tail_password = os.path.join(topo.log_dir, "tail-password")
        with open(tail_password, "w") as secret:
            secret.write(USERS["tail"])
        holder = popen_in(topo, "b", ["/usr/bin/python3", os.path.join(HERE, "sasl_attempts.py"), "--bootstrap",
                                      BOOTSTRAP, "--ca", ca, "--user", "tail", "--password-file", tail_password,
                                      "--count", "1", "--hold-ms", str(LIFETIME_MS * 4)])
        # --- a user removed with close_removed_users (beta): its open connection closes -------------------
        leaver_password = os.path.join(topo.log_dir, "leaver-password")
        with open(leaver_password, "w") as secret:
            secret.write(USERS["leaver"])
        leaver = popen_in(topo, "b", ["/usr/bin/python3", os.path.join(HERE, "sasl_attempts.py"), "--bootstrap",
                                      f"bootstrap-beta.{DOMAIN}:{PORT}", "--ca", ca, "--user", "leaver",
                                      "--password-file", leaver_password, "--count", "1", "--hold-ms", "30000"])
        # --- the users file changes while the producer runs ------------------------------------------------
        time.sleep(4)
        users_add(kedge_binary, users_file, NEW_USER, NEW_PASSWORD)
        joined, attempts, started = False, 0, time.monotonic()
        while not joined and time.monotonic() - started < 20:
            attempts += 1
            code, out, err = finish(topo, popen_in(topo, "b", client_argv(
                "kclient_rdk212", "metadata", "--bootstrap", BOOTSTRAP, "--timeout-ms", "5000",
                *sasl_ssl_args(ca, "SCRAM-SHA-512", NEW_USER, NEW_PASSWORD))), f"late-joiner-{attempts}", timeout=30)
            joined = code == 0 and "metadata ok=1" in out
            if not joined:
                time.sleep(0.5)
        checks.record(f"a user added to the users file while kedge runs authenticates without a restart",
                      joined, f"after {attempts} attempt(s), {time.monotonic() - started:.1f}s")

        admin = admin_address(open(topo.log_path("kedge"), errors="replace").read())
        state_text = topo.run_in("dc", ["curl", "-s", "-m", "5", f"http://{admin}/v1/state"], timeout=15).stdout
        try:
            beta = [c for c in json.loads(state_text)["virtual_clusters"] if c["name"] == "beta"][0]
            by_principal = beta.get("connections_by_principal")
        except (ValueError, KeyError, IndexError):
            by_principal = None
        checks.record("/v1/state counts the open connection under its principal", by_principal == {"leaver": 1},
                      f"beta connections_by_principal {by_principal}")
        removed_at = time.monotonic()
        result = subprocess.run([kedge_binary, "users", "remove", "leaver", "--file", users_file], text=True,
                                capture_output=True)
        code, out, err = finish(topo, leaver, "leaver", timeout=60)
        held = re.search(r"held_ms=(\d+) closed=(\d)", out)
        checks.record("close_removed_users: `kedge users remove` closes the user's open connection",
                      result.returncode == 0 and held is not None and held.group(2) == "1" and
                      time.monotonic() - removed_at < 15, f"{out.strip()[-120:]} {err.strip()[-200:]}")

        code, out, err = finish(topo, holder, "holder", timeout=60)
        held = re.search(r"attempt 1 ms=\d+ error=0 message=- held_ms=(\d+) closed=(\d)", out)
        checks.record(f"a connection that never re-authenticates is closed after the {LIFETIME_MS} ms lifetime",
                      held is not None and held.group(2) == "1" and
                      LIFETIME_MS - 300 <= int(held.group(1)) <= LIFETIME_MS + 1500,
                      out.strip()[-200:] + err.strip()[-200:])

        result = finish(topo, producer, "reauth-producer", timeout=120)
        ok, detail = produced_all(result, count)
        checks.record(f"{count} records at {RATE}/s with a {LIFETIME_MS} ms session: every delivery succeeded",
                      ok, detail or result[2][-300:])
        consumed = finish(topo, popen_in(topo, "a", client_consume_argv(
            "kclient_rdk212", BOOTSTRAP, "reauth", "g-reauth", count, "ra", "40000",
            *sasl_ssl_args(ca, "SCRAM-SHA-256", "steady", USERS["steady"]))), "reauth-consumer")
        ok, detail = consumed_once(consumed, count)
        checks.record("a consumer read each of them exactly once", ok and consumed[0] == 0, detail)
        kedge_log = open(topo.log_path("kedge"), errors="replace").read()
        reauths = kedge_log.count('re-authenticated "steady"')
        checks.record("kedge logged the producer's re-authentications (KIP-368)", reauths >= SECONDS // 4,
                      f"{reauths} re-authentications in {SECONDS}s")
        expired = [line for line in kedge_log.splitlines() if "cause=session_expired" in line and 'principal="tail"' in line]
        checks.record("the access log closes the idle session as session_expired", len(expired) == 1,
                      f"{len(expired)} lines")
        removed = [line for line in kedge_log.splitlines() if "cause=user_removed" in line and 'principal="leaver"' in line]
        checks.record("the access log closes the removed user's connection as user_removed", len(removed) == 1,
                      f"{len(removed)} lines")

        # --- brute force from network a, an honest client on network b ----------------------------------
        wrong = os.path.join(topo.log_dir, "wrong-password")
        with open(wrong, "w") as secret:
            secret.write("not-the-password")
        attacker = popen_in(topo, "a", ["/usr/bin/python3", os.path.join(HERE, "sasl_attempts.py"), "--bootstrap",
                                        BOOTSTRAP, "--ca", ca, "--user", "victim", "--password-file", wrong,
                                        "--count", "200"])
        honest_times, honest_ok = [], 0
        while attacker.poll() is None and len(honest_times) < 60:
            started = time.monotonic()
            code, out, err = finish(topo, popen_in(topo, "b", client_argv(
                "kclient_rdk212", "metadata", "--bootstrap", BOOTSTRAP, "--timeout-ms", "8000",
                *sasl_ssl_args(ca, "PLAIN", "honest", USERS["honest"]))), f"honest-{len(honest_times)}", timeout=30)
            honest_times.append(time.monotonic() - started)
            honest_ok += code == 0 and "metadata ok=1" in out
        code, out, err = finish(topo, attacker, "attacker", timeout=300)
        lines = [re.match(r"attempt (\d+) ms=(\d+) error=(-?\d+) message=(.*)", line) for line in out.splitlines()]
        lines = [(int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)) for m in lines if m]
        print(f"    attacker: {len(lines)} attempts; ms of 1-25: {[ms for _, ms, _, _ in lines[:25]]}", flush=True)
        print(f"    honest client during the attack: {honest_ok}/{len(honest_times)} ok, "
              f"max {max(honest_times, default=0):.2f}s", flush=True)
        first = [ms for i, ms, _, _ in lines if i <= 4]
        slowed = [ms for i, ms, _, _ in lines if 6 <= i <= 19]
        refused = [(ms, msg) for i, ms, e, msg in lines if i > 20]
        checks.record("200 attempts answered", len(lines) == 200 and all(e == 58 for _, _, e, _ in lines),
                      f"{len(lines)} lines; errors {sorted({e for _, _, e, _ in lines})}")
        checks.record("the first failures are answered at once", first and max(first) < 1000, f"{first}")
        checks.record("from the 6th failure each refusal is slowed", slowed and min(slowed) >= 100 and
                      sum(slowed) >= 5000, f"{slowed}")
        checks.record("from the 21st the address is refused without a credential check",
                      len(refused) == 180 and all("Too many failed authentications" in m for _, m in refused),
                      f"{refused[:2]}")
        checks.record("the honest client on another address authenticated every time in normal time",
                      honest_times and honest_ok == len(honest_times) and max(honest_times) < 5,
                      f"{honest_ok}/{len(honest_times)}, max {max(honest_times, default=0):.2f}s")

        checks.record("kedge still running", kedge.alive(), "")
        kedge_log = open(topo.log_path("kedge"), errors="replace").read()
        secrets = [*USERS.values(), NEW_PASSWORD, SERVICE_PASSWORD, "not-the-password"]
        checks.record("kedge's log holds no password", not [p for p in secrets if p in kedge_log], "")
        errors = kedge_errors(kedge_log)
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
