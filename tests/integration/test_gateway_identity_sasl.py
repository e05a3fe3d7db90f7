#!/usr/bin/python3
"""SASL TERMINATED by kedge (issue 17): clients authenticate to kedge, kedge to the brokers with its own
service credentials.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock cluster behind one sasl_stage.py per broker (SASL required)
                  that knows ONE account, kedge's service principal `kedge-svc` (SCRAM-SHA-512); kedge on
                  0.0.0.0:9092 with two virtual clusters on that backend, shared-suffix names:
                    alpha  authentication terminate (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), principals kclient-*,
                           kcat-*, pyclient-*
                    beta   the same users file, principals: beta-user only
                  The users file is written by `kedge users add` (passwords on standard input).
    <prefix>-a    kclient_rdk212 (librdkafka 2.12 C API) and kcat (librdkafka 2.0.2)
    <prefix>-b    python confluent-kafka (librdkafka 2.0.2)

Checks:
  - each client x mechanism (9 users, each its own topic and group) produces N records through alpha and a
    group consumer receives each exactly once;
  - the stages saw only kedge-svc authenticate (never a client's user name), on every broker;
  - a wrong password and an unknown user, for each client x mechanism, are refused by kedge; the client prints
    Kafka's "Authentication failed during authentication due to invalid credentials with SASL mechanism <M>";
    a good client (kclient-steady, SCRAM-SHA-512, network b) producing at 20/s meanwhile gets every delivery report;
  - beta-user on alpha is refused with a message naming the principal and the cluster; kclient-scram-sha-256
    on beta is refused; beta-user on beta reads metadata;
  - kedge's access log names each authenticated principal; /metrics counts authentications by mechanism and
    outcome; kedge's config and log hold no password; kedge logged no errors.

Usage: test_gateway_identity_sasl.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
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
                              sasl_ssl_args, scenario_topology, start_sasl_stages, summary_exit_code)
from test_topology_smoke import Checks, client_argv  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
CLIENTS = (("kclient_rdk212", "a"), ("kcat", "a"), ("pyclient", "b"))
PARTITIONS = 3
MESSAGES = 200
TIMEOUT_MS = "40000"
SERVICE_USER, SERVICE_PASSWORD = "kedge-svc", "svc-pw-7c1e0b9a"
USERS = {f"{client.split('_')[0]}-{mechanism.lower()}": f"pw-{client[:3]}-{mechanism[-3:]}-5e8f1d"
         for client, _ in CLIENTS for mechanism in MECHANISMS}
USERS["beta-user"] = "pw-beta-90ab12"
STEADY_USER = "kclient-steady"  # produces during the refusals
USERS[STEADY_USER] = "pw-steady-3d0c44"
STEADY_MESSAGES = 300
AUTH_FAILED = "Authentication failed during authentication due to invalid credentials with SASL mechanism {}"


def bootstrap(cluster):
    return f"bootstrap-{cluster}.{DOMAIN}:{PORT}"


def user_of(client, mechanism):
    return f"{client.split('_')[0]}-{mechanism.lower()}"


def topic_of(client, mechanism):
    return f"term-{client.split('_')[0]}-{mechanism.lower()}"


def make_users_file(kedge_binary, path):
    for user, password in USERS.items():
        result = subprocess.run([kedge_binary, "users", "add", user, "--file", path, "--mechanisms",
                                 "SCRAM-SHA-256,SCRAM-SHA-512"], input=password, text=True, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"kedge users add {user}: {result.stderr}")


def write_kedge_config(topo, certs, stages, users_file):
    password_file = os.path.join(topo.log_dir, "service-password")
    with open(password_file, "w") as secret:
        secret.write(SERVICE_PASSWORD + "\n")
    os.chmod(password_file, 0o600)
    backend = {"bootstrap_servers": list(stages.values()),
               "sasl": {"mechanism": "SCRAM-SHA-512", "username": SERVICE_USER, "password_file": password_file}}
    authentication = {"mode": "terminate", "sasl": {"mechanisms": list(MECHANISMS), "users_file": users_file}}
    config = {
        "listeners": [{"name": "hub", "bind": f"0.0.0.0:{PORT}", "advertised_port": PORT,
                       "tls": {"cert": certs["cert"], "key": certs["key"]}}],
        "virtual_clusters": [
            {"name": "alpha", "hostnames": {"format": "shared_suffix", "domain": DOMAIN}, "backend": backend,
             "authentication": authentication, "principals": ["kclient-*", "kcat-*", "pyclient-*"]},
            {"name": "beta", "hostnames": {"format": "shared_suffix", "domain": DOMAIN}, "backend": backend,
             "authentication": authentication, "principals": ["beta-user"]},
        ],
        "admin": {"bind": "127.0.0.1:0"},
        # Every refusal below comes from the same two client addresses, and librdkafka retries each: the brute-force
        # limiter (tested in test_gateway_identity_ops.py) would block them; here each refusal must be the first one.
        "limits": {"authentication_failures": {"delay_after": 10000, "block_after": 10000}},
        "log": {"level": "debug"},
    }
    return write_config(os.path.join(topo.log_dir, "kedge.json"), config)


def start_produce(topo, client, network, mechanism, ca):
    user = user_of(client, mechanism)
    auth = sasl_ssl_args(ca, mechanism, user, USERS[user])
    prefix = topic_of(client, mechanism)
    if client == "kcat":
        lines = "".join(f"{prefix}-{i}:{prefix}-{i}\n" for i in range(MESSAGES))
        argv = ["kcat", "-P", "-b", bootstrap("alpha"), "-t", prefix, "-K", ":", "-X", "enable.idempotence=true",
                *auth]
        return popen_in(topo, network, argv, stdin=lines), lines
    argv = client_produce_argv(client, bootstrap("alpha"), prefix, MESSAGES, prefix, TIMEOUT_MS,
                               "-X", "enable.idempotence=true", *auth)
    return popen_in(topo, network, argv), None


def start_consume(topo, client, network, mechanism, ca):
    user = user_of(client, mechanism)
    auth = sasl_ssl_args(ca, mechanism, user, USERS[user])
    prefix = topic_of(client, mechanism)
    if client == "kcat":
        argv = ["kcat", "-C", "-b", bootstrap("alpha"), "-G", f"g-{prefix}", *auth, "-X",
                "auto.offset.reset=earliest", "-e", "-q", "-f", "%k\t%s\n", prefix]
    else:
        argv = client_consume_argv(client, bootstrap("alpha"), prefix, f"g-{prefix}", MESSAGES, prefix, TIMEOUT_MS,
                                   *auth)
    return popen_in(topo, network, argv)


def start_metadata(topo, client, network, cluster, mechanism, user, password, ca):
    auth = sasl_ssl_args(ca, mechanism, user, password)
    if client == "kcat":
        argv = ["kcat", "-L", "-b", bootstrap(cluster), "-m", "6", *auth]
    else:
        argv = client_argv(client, "metadata", "--bootstrap", bootstrap(cluster), "--timeout-ms", "6000", *auth)
    return popen_in(topo, network, argv)


def auth_error_lines(err):
    return " | ".join(line.strip() for line in err.splitlines()
                      if "Authentication failed" in line or "not allowed" in line)[:400]


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    topics = {topic_of(client, mechanism): PARTITIONS for client, _ in CLIENTS for mechanism in MECHANISMS}
    topics["term-steady"] = PARTITIONS
    with scenario_topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics=topics)
        stages = start_sasl_stages(topo, cluster, {SERVICE_USER: SERVICE_PASSWORD})
        certs = make_certs(os.path.join(topo.log_dir, "tls"), DOMAIN)
        users_file = os.path.join(topo.log_dir, "users.json")
        make_users_file(kedge_binary, users_file)
        config_path = write_kedge_config(topo, certs, stages, users_file)
        kedge = topo.start_process("dc", [kedge_binary, "run", "--config", config_path], topo.log_path("kedge"),
                                   ready_port=PORT)
        ca = certs["ca"]
        print(f"topology {topo.prefix} (logs {topo.log_dir}); stages {stages}", flush=True)

        started = time.monotonic()
        producers = {(client, mechanism): start_produce(topo, client, network, mechanism, ca)
                     for client, network in CLIENTS for mechanism in MECHANISMS}
        produced = {key: finish(topo, process, f"produce-{key[0]}-{key[1]}", stdin=lines)
                    for key, (process, lines) in producers.items()}
        consumers = {(client, mechanism): start_consume(topo, client, network, mechanism, ca)
                     for client, network in CLIENTS for mechanism in MECHANISMS}
        consumed = {key: finish(topo, process, f"consume-{key[0]}-{key[1]}") for key, process in consumers.items()}
        print(f"    9 producers + 9 consumers took {time.monotonic() - started:.1f}s", flush=True)

        for (client, mechanism), result in produced.items():
            label = f"{client} {mechanism} as {user_of(client, mechanism)}"
            if client == "kcat":
                ok, detail = result[0] == 0, result[2].strip()[-300:]
            else:
                ok, detail = produced_all(result, MESSAGES)
            checks.record(f"{label}: produced {MESSAGES} through kedge (SASL terminated by kedge)", ok,
                          detail or result[2][-300:])
            outcome = consumed[(client, mechanism)]
            prefix = topic_of(client, mechanism)
            if client == "kcat":
                ok, detail = exactly_once(kcat_keys(outcome[1], prefix), prefix, MESSAGES)
            else:
                ok, detail = consumed_once(outcome, MESSAGES)
            ok = ok and outcome[0] == 0
            checks.record(f"{label}: group consumer received each record exactly once", ok,
                          detail + ("" if ok else " " + outcome[2].strip()[-300:]))

        # Refusals: a wrong password and an unknown user for every client x mechanism, while a good client
        # keeps producing.
        steady = popen_in(topo, "b", client_produce_argv(
            "kclient_rdk212", bootstrap("alpha"), "term-steady", STEADY_MESSAGES, "term-steady", "90000",
            "--rate", "20", "-X", "acks=all",
            *sasl_ssl_args(ca, "SCRAM-SHA-512", STEADY_USER, USERS[STEADY_USER])))
        time.sleep(2)
        refusals = {}
        for client, network in CLIENTS:
            for mechanism in MECHANISMS:
                user = user_of(client, mechanism)
                refusals[(client, mechanism, "wrong password")] = start_metadata(
                    topo, client, network, "alpha", mechanism, user, "wrong-" + USERS[user], ca)
                refusals[(client, mechanism, "unknown user")] = start_metadata(
                    topo, client, network, "alpha", mechanism, "nobody-" + user, USERS[user], ca)
        for (client, mechanism, kind), process in refusals.items():
            code, out, err = finish(topo, process, f"refused-{client}-{mechanism}-{kind.replace(' ', '-')}",
                                    timeout=40)
            printed = AUTH_FAILED.format(mechanism) in err
            checks.record(f"{client} {mechanism} {kind}: refused by kedge; the client prints Kafka's message",
                          printed and "metadata ok=1" not in out and (client == "kcat" or code != 0),
                          f"exit {code}; " + auth_error_lines(err))

        steady_result = finish(topo, steady, "produce-steady", timeout=120)
        ok, detail = produced_all(steady_result, STEADY_MESSAGES)
        checks.record(f"a good client producing meanwhile ({STEADY_USER}) got all {STEADY_MESSAGES} delivery reports",
                      ok, detail or steady_result[2].strip()[-300:])

        # Principal binding: beta-user only on beta.
        bound = {
            ("beta-user on alpha", False): start_metadata(topo, "kclient_rdk212", "a", "alpha", "SCRAM-SHA-256",
                                                          "beta-user", USERS["beta-user"], ca),
            ("kclient-scram-sha-256 on beta", False): start_metadata(
                topo, "kclient_rdk212", "a", "beta", "SCRAM-SHA-256", "kclient-scram-sha-256",
                USERS["kclient-scram-sha-256"], ca),
            ("beta-user on beta", True): start_metadata(topo, "kclient_rdk212", "a", "beta", "SCRAM-SHA-256",
                                                        "beta-user", USERS["beta-user"], ca),
            ("kcat beta-user on alpha", False): start_metadata(topo, "kcat", "a", "alpha", "PLAIN", "beta-user",
                                                               USERS["beta-user"], ca),
        }
        for (label, allowed), process in bound.items():
            code, out, err = finish(topo, process, "bound-" + label.replace(" ", "-"), timeout=40)
            if allowed:
                checks.record(f"{label}: metadata through kedge", code == 0 and "metadata ok=1" in out,
                              f"exit {code}; {err.strip()[-300:]}")
            else:
                user, cluster_name = label.split(" on ")[0].split()[-1], label.split(" on ")[1]
                message = f"Principal {user} is not allowed on virtual cluster {cluster_name}"
                checks.record(f"{label}: refused, the client prints \"{message}\"",
                              message in err and "metadata ok=1" not in out, f"exit {code}; " + auth_error_lines(err))

        stage_text = "".join(open(topo.log_path(f"sasl-stage-{broker}"), errors="replace").read()
                             for broker in stages)
        service_logins = stage_text.count(f"SCRAM-SHA-512 user {SERVICE_USER} authenticated")
        others = sorted({user for user in USERS if f"user {user} " in stage_text})
        checks.record("the brokers' SASL stages saw kedge's service principal, never a client's user",
                      service_logins > 0 and not others, f"{service_logins} service logins; client users seen {others}")
        checks.record("every stage authenticated kedge (bootstrap and broker-N connections)",
                      all(f"user {SERVICE_USER} authenticated" in open(topo.log_path(f"sasl-stage-{b}"),
                                                                       errors="replace").read() for b in stages),
                      "")

        time.sleep(0.5)
        checks.record("kedge still running", kedge.alive(), "")
        kedge_log = open(topo.log_path("kedge"), errors="replace").read()
        principals = set(re.findall(r'cause=\S+ .*principal="([^"]+)"', kedge_log))
        expected = {user_of(client, mechanism) for client, _ in CLIENTS for mechanism in MECHANISMS} | {"beta-user"}
        checks.record("the access log names every authenticated principal", expected <= principals,
                      f"missing {sorted(expected - principals)}")
        admin = admin_address(kedge_log)
        metrics = topo.run_in("dc", ["curl", "-s", "-m", "5", f"http://{admin}/metrics"], timeout=15).stdout
        counted = {line.split("{")[1].split("}")[0]: int(float(line.rsplit(" ", 1)[1]))
                   for line in metrics.splitlines() if line.startswith("kedge_authentications_total{")}
        ok_alpha = sum(n for labels, n in counted.items()
                       if 'virtual_cluster="alpha"' in labels and 'outcome="authenticated"' in labels)
        bad_alpha = sum(n for labels, n in counted.items()
                        if 'virtual_cluster="alpha"' in labels and 'outcome="invalid_credentials"' in labels)
        unbound = sum(n for labels, n in counted.items() if 'outcome="principal_not_bound"' in labels)
        checks.record("/metrics counts authentications by mechanism and outcome",
                      ok_alpha >= 18 and bad_alpha >= len(refusals) and unbound >= 3,
                      f"alpha authenticated {ok_alpha}, invalid_credentials {bad_alpha}, principal_not_bound {unbound}")
        with open(config_path) as config_file:
            config_text = config_file.read()
        with open(users_file) as users_text_file:
            users_text = users_text_file.read()
        leaked = [user for user, password in {**USERS, SERVICE_USER: SERVICE_PASSWORD}.items()
                  if password in kedge_log or password in config_text or password in users_text]
        checks.record("kedge's config, users file and log (debug level) hold no password", not leaked,
                      f"leaked for {leaked}")
        errors = kedge_errors(kedge_log)
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
