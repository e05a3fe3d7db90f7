#!/usr/bin/python3
"""SASL passthrough end to end: SASL_SSL clients -> kedge (SNI routing, TLS terminated) -> sasl_stage.py -> mock.

    <prefix>-dc   a 3-broker librdkafka 2.12 mock cluster; one sasl_stage.py per broker on 127.0.0.1:2900<id>
                  (SASL required: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with the mock advertising the stages;
                  kedge on 0.0.0.0:9092 whose bootstrap servers are the stages
    <prefix>-a    kclient_rdk212 (librdkafka 2.12 C API) and kcat (librdkafka 2.0.2)
    <prefix>-b    python confluent-kafka (librdkafka 2.0.2)

kedge never sees a credential in its configuration: the SASL exchange (SaslHandshake v1 + SaslAuthenticate)
travels inside the client's TLS session as ordinary Kafka frames and is answered by the stage.

Checks:
  - each client x mechanism (9 combinations, each its own topic, user and consumer group) produces N records
    and a group consumer receives each exactly once (unique keys in the payloads);
  - every stage log shows the mechanism and user of those clients authenticating, so SASL really ran end to end;
  - a wrong password for every client x mechanism is refused by the stage (error 58) and the client reports an
    authentication failure;
  - every rewrite in kedge's log maps broker N's advertised (stage) address to broker-N.<domain>:9092;
  - no password appears in kedge's config or log (debug level), and kedge logged no errors.

Usage: test_gateway_sasl.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import start_kedge_in_topology  # noqa: E402
from scenario_support import (client_consume_argv, client_produce_argv, consumed_once, exactly_once,  # noqa: E402
                              run_scenario, scenario_topology, summary_exit_code,
                              finish, kcat_keys, popen_in, produced_all, sasl_ssl_args, start_sasl_stages)
from test_topology_smoke import Checks, client_argv  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
BOOTSTRAP = f"bootstrap.{DOMAIN}:{PORT}"
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
CLIENTS = (("kclient_rdk212", "a"), ("kcat", "a"), ("pyclient", "b"))
PARTITIONS = 3
MESSAGES = 200
TIMEOUT_MS = "40000"
USERS = {f"{client.split('_')[0]}-{mechanism.lower()}": f"pw-{client[:3]}-{mechanism[-3:]}-4d9c2e"
         for client, _ in CLIENTS for mechanism in MECHANISMS}


def user_of(client, mechanism):
    return f"{client.split('_')[0]}-{mechanism.lower()}"


def topic_of(client, mechanism):
    return f"sasl-{client.split('_')[0]}-{mechanism.lower()}"


def start_produce(topo, client, network, mechanism, ca):
    user = user_of(client, mechanism)
    auth = sasl_ssl_args(ca, mechanism, user, USERS[user])
    prefix = topic_of(client, mechanism)
    if client == "kcat":
        lines = "".join(f"{prefix}-{i}:{prefix}-{i}\n" for i in range(MESSAGES))
        argv = ["kcat", "-P", "-b", BOOTSTRAP, "-t", prefix, "-K", ":", "-X", "enable.idempotence=true", *auth]
        return popen_in(topo, network, argv, stdin=lines), lines
    argv = client_produce_argv(client, BOOTSTRAP, prefix, MESSAGES, prefix, TIMEOUT_MS,
                               "-X", "enable.idempotence=true", *auth)
    return popen_in(topo, network, argv), None


def start_consume(topo, client, network, mechanism, ca):
    user = user_of(client, mechanism)
    auth = sasl_ssl_args(ca, mechanism, user, USERS[user])
    prefix = topic_of(client, mechanism)
    if client == "kcat":
        argv = ["kcat", "-C", "-b", BOOTSTRAP, "-G", f"g-{prefix}", *auth, "-X", "auto.offset.reset=earliest",
                "-e", "-q", "-f", "%k\t%s\n", prefix]
    else:
        argv = client_consume_argv(client, BOOTSTRAP, prefix, f"g-{prefix}", MESSAGES, prefix, TIMEOUT_MS, *auth)
    return popen_in(topo, network, argv)


def start_refused(topo, client, network, mechanism, ca):
    user = user_of(client, mechanism)
    auth = sasl_ssl_args(ca, mechanism, user, "wrong-" + USERS[user])
    if client == "kcat":
        argv = ["kcat", "-L", "-b", BOOTSTRAP, "-m", "6", *auth]
    else:
        argv = client_argv(client, "metadata", "--bootstrap", BOOTSTRAP, "--timeout-ms", "6000", *auth)
    return popen_in(topo, network, argv)


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    topics = {topic_of(client, mechanism): PARTITIONS for client, _ in CLIENTS for mechanism in MECHANISMS}
    with scenario_topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics=topics)
        stages = start_sasl_stages(topo, cluster, USERS)
        kedge, certs, config_path = start_kedge_in_topology(
            topo, kedge_binary, [("alpha", "subdomain", ",".join(stages.values()))], DOMAIN, PORT)
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
            checks.record(f"{label}: produced {MESSAGES} through kedge over SASL_SSL", ok, detail or result[2][-300:])
            outcome = consumed[(client, mechanism)]
            prefix = topic_of(client, mechanism)
            if client == "kcat":
                ok, detail = exactly_once(kcat_keys(outcome[1], prefix), prefix, MESSAGES)
                ok = ok and outcome[0] == 0
            else:
                ok, detail = consumed_once(outcome, MESSAGES)
                ok = ok and outcome[0] == 0
            checks.record(f"{label}: group consumer received each record exactly once", ok,
                          detail + ("" if ok else " " + outcome[2].strip()[-300:]))

        refusals = {(client, mechanism): start_refused(topo, client, network, mechanism, ca)
                    for client, network in CLIENTS for mechanism in MECHANISMS}
        for (client, mechanism), process in refusals.items():
            code, out, err = finish(topo, process, f"refused-{client}-{mechanism}", timeout=40)
            reported = "Authentication failed" in err and mechanism in err
            checks.record(f"{client} {mechanism}: wrong password refused, client reports the authentication failure",
                          reported and "metadata ok=1" not in out and (client == "kcat" or code != 0),
                          f"exit {code}; " + " | ".join(line for line in err.splitlines()
                                                         if "Authentication failed" in line)[:300])

        stage_logs = {broker: open(topo.log_path(f"sasl-stage-{broker}"), errors="replace").read()
                      for broker in stages}
        all_stage_text = "".join(stage_logs.values())
        missing = [f"{mechanism}/{user_of(client, mechanism)}" for client, _ in CLIENTS for mechanism in MECHANISMS
                   if f"{mechanism} user {user_of(client, mechanism)} authenticated" not in all_stage_text]
        checks.record("the stages authenticated every client x mechanism", not missing, f"missing {missing}")
        checks.record("every stage authenticated connections (bootstrap and broker-N connections pass SASL)",
                      all("authenticated; relaying" in text for text in stage_logs.values()),
                      ", ".join(f"broker-{b}: {t.count('authenticated; relaying')}" for b, t in stage_logs.items()))
        failures = all_stage_text.count("authentication failed")
        checks.record("the stages refused the wrong passwords (error 58)", failures >= len(refusals),
                      f"{failures} refusals")

        time.sleep(0.3)
        checks.record("kedge still running", kedge.alive(), "" if kedge.alive() else kedge.log_text()[-400:])
        kedge_log = kedge.log_text()
        with open(config_path) as config_file:
            config_text = config_file.read()
        leaked = [user for user, password in USERS.items() if password in kedge_log or password in config_text]
        checks.record("kedge's config and log (debug level) contain no password", not leaked, f"leaked for {leaked}")
        rewrites = [line for line in kedge_log.splitlines() if " rewrote " in line]
        wrong = []
        for line in rewrites:
            parsed = re.search(r" for alpha: broker (\d+) (\S+) -> broker-(\d+)\." + re.escape(DOMAIN) + f":{PORT}$",
                               line)
            if not parsed or parsed.group(1) != parsed.group(3) or stages.get(int(parsed.group(1))) != parsed.group(2):
                wrong.append(line)
        checks.record("every rewrite maps broker N's stage address to broker-N", rewrites and not wrong,
                      f"{len(rewrites)} rewrites; {wrong[:2]}")
        errors = [line for line in kedge_log.splitlines() if " ERROR " in line or "client request stream error" in line]
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
