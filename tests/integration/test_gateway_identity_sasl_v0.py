#!/usr/bin/python3
"""SASL terminated by kedge for clients that authenticate the KIP-43 way (issue 17): SaslHandshake v0, then the
SASL tokens unframed (int32 size + bytes, no Kafka header). The client is kafka-python 2.0.2 (Debian's
python3-kafka), which always does so, for PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER: a protocol implementation
independent of librdkafka and of kedge.

    <prefix>-dc   3-broker librdkafka 2.12 mock behind sasl_stage.py (one account: kedge-svc, SCRAM-SHA-512);
                  kedge, virtual cluster alpha: authentication terminate with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
                  (users file written by `kedge users add`) and OAUTHBEARER (JWKS with a P-256 key generated per
                  run), principals kafkapy-* and svc-*
    <prefix>-a    kafkapy_client.py (kafka-python 2.0.2)

Checks:
  - per mechanism, kafka-python produces N records through kedge and a group consumer reads each exactly once;
    kedge's log says each authentication used SaslHandshake v0 (unframed tokens);
  - a wrong password (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), an unknown user and a token for another audience are
    refused: kedge closes the connection (KIP-43 has no error response), logs the reason, the client fails;
  - the brokers' stages saw kedge's service principal only; kedge's log holds no password; kedge logged no errors.

Usage: test_gateway_identity_sasl_v0.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import re
import subprocess
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import make_certs, write_config  # noqa: E402
from scenario_support import (consumed_once, finish, kedge_errors, popen_in, produced_all,  # noqa: E402
                              run_scenario, scenario_topology, start_sasl_stages, summary_exit_code)
from test_topology_smoke import Checks  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
BOOTSTRAP = f"bootstrap-alpha.{DOMAIN}:{PORT}"
ISSUER, AUDIENCE = "https://idp.test", "kafka"
SERVICE_USER, SERVICE_PASSWORD = "kedge-svc", "svc-pw-3b7d2e90"
PASSWORD_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
USERS = {f"kafkapy-{m.lower()}": f"pw-v0-{m[-3:]}-61c2a7" for m in PASSWORD_MECHANISMS}
MESSAGES = 200
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kafkapy_client.py")


def client(subcommand, ca, *args):
    return ["/usr/bin/python3", CLIENT, subcommand, "--bootstrap", BOOTSTRAP, "--ca", ca, *args]


def credentials(mechanism, user, password):
    return ["--mechanism", mechanism, "--username", user, "--password", password]


def jwk(public_key, kid):
    entry = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public_key))
    entry.update({"kid": kid, "alg": "ES256", "use": "sig"})
    return entry


def mint(private_key, **claims):
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode(body, private_key, algorithm="ES256", headers={"kid": "ec-1"})


def write_kedge_config(topo, certs, stages, users_file, jwks_file):
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
            "authentication": {"mode": "terminate", "sasl": {
                "mechanisms": [*PASSWORD_MECHANISMS, "OAUTHBEARER"], "users_file": users_file,
                "oauthbearer": {"jwks_file": jwks_file, "issuer": ISSUER, "audiences": [AUDIENCE]}}},
            "principals": ["kafkapy-*", "svc-*"]}],
        # The refusals below all come from one client address; here each must be a first refusal (the limiter
        # is tested in test_gateway_identity_ops.py).
        "limits": {"authentication_failures": {"delay_after": 10000, "block_after": 10000}},
        "log": {"level": "debug"},
    }
    return write_config(os.path.join(topo.log_dir, "kedge.json"), config)


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    with scenario_topology() as topo:
        topics = {f"v0-{m.lower()}": 3 for m in (*PASSWORD_MECHANISMS, "OAUTHBEARER")}
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics=topics)
        stages = start_sasl_stages(topo, cluster, {SERVICE_USER: SERVICE_PASSWORD})
        certs = make_certs(os.path.join(topo.log_dir, "tls"), DOMAIN)
        ca = certs["ca"]
        users_file = os.path.join(topo.log_dir, "users.json")
        for user, password in USERS.items():
            subprocess.run([kedge_binary, "users", "add", user, "--file", users_file], input=password, text=True,
                           check=True, capture_output=True)
        jwks_file = os.path.join(topo.log_dir, "jwks.json")
        with open(jwks_file, "w") as out:
            json.dump({"keys": [jwk(ec_key.public_key(), "ec-1")]}, out)
        tokens = {"good": mint(ec_key, sub="svc-v0"), "audience": mint(ec_key, sub="svc-v0", aud="another")}
        token_files = {}
        for name, token in tokens.items():
            token_files[name] = os.path.join(topo.log_dir, f"token-{name}")
            with open(token_files[name], "w") as out:
                out.write(token)
        config_path = write_kedge_config(topo, certs, stages, users_file, jwks_file)
        kedge = topo.start_process("dc", [kedge_binary, "run", "--config", config_path], topo.log_path("kedge"),
                                   ready_port=PORT)
        print(f"topology {topo.prefix} (logs {topo.log_dir})", flush=True)

        auth = {m: credentials(m, f"kafkapy-{m.lower()}", USERS[f"kafkapy-{m.lower()}"]) for m in PASSWORD_MECHANISMS}
        auth["OAUTHBEARER"] = ["--oauthbearer-token-file", token_files["good"]]
        for mechanism, args in auth.items():
            topic = f"v0-{mechanism.lower()}"
            produced = finish(topo, popen_in(topo, "a", client(
                "produce", ca, "--topic", topic, "--count", str(MESSAGES), "--prefix", topic, *args)),
                f"produce-{mechanism}")
            ok, detail = produced_all(produced, MESSAGES)
            checks.record(f"kafka-python {mechanism} (SaslHandshake v0): produced {MESSAGES} through kedge", ok,
                          detail or produced[2].strip()[-400:])
            consumed = finish(topo, popen_in(topo, "a", client(
                "consume", ca, "--topic", topic, "--group", f"g-{topic}", "--expect", str(MESSAGES),
                "--prefix", topic, "--timeout-ms", "40000", *args)), f"consume-{mechanism}")
            ok, detail = consumed_once(consumed, MESSAGES)
            checks.record(f"kafka-python {mechanism}: group consumer read each record exactly once, committed",
                          ok and consumed[0] == 0, detail + ("" if ok else " " + consumed[2].strip()[-400:]))

        refusals = {
            **{f"{m} wrong password": (credentials(m, f"kafkapy-{m.lower()}", "wrong-password"),
                                       f"kafkapy-{m.lower()}") for m in PASSWORD_MECHANISMS},
            "SCRAM-SHA-256 unknown user": (credentials("SCRAM-SHA-256", "kafkapy-nobody", "whatever"),
                                           "kafkapy-nobody"),
            "OAUTHBEARER token for another audience": (["--oauthbearer-token-file", token_files["audience"]],
                                                       "audience"),
        }
        for label, (args, _) in refusals.items():
            code, out, err = finish(topo, popen_in(topo, "a", client("metadata", ca, "--timeout-ms", "8000", *args)),
                                    "refused-" + label.replace(" ", "-"), timeout=60)
            checks.record(f"kafka-python {label}: refused (kedge closes the connection, as a v0 broker does)",
                          code != 0 and "metadata ok=1" not in out, f"exit {code}; {out.strip()[-200:]}")

        time.sleep(0.5)
        checks.record("kedge still running", kedge.alive(), "")
        kedge_log = open(topo.log_path("kedge"), errors="replace").read()
        v0_logins = set(re.findall(r'authenticated "([^"]+)" with \S+ \(SaslHandshake v0', kedge_log))
        expected = set(USERS) | {"svc-v0"}
        checks.record("kedge logged each principal's authentication as SaslHandshake v0 (unframed tokens)",
                      expected <= v0_logins, f"seen {sorted(v0_logins)}")
        refused_lines = [line for line in kedge_log.splitlines() if "authentication refused" in line]
        reasons = {label: any(marker in line for line in refused_lines)
                   for label, (_, marker) in refusals.items()}
        checks.record("kedge logged every refusal with its reason",
                      all(reasons.values())
                      and any("invalid_credentials" in line for line in refused_lines)
                      and any("invalid_token" in line for line in refused_lines),
                      f"{reasons}; {' | '.join(refused_lines[:3])[:400]}")
        stage_text = "".join(open(topo.log_path(f"sasl-stage-{broker}"), errors="replace").read()
                             for broker in stages)
        others = sorted({user for user in USERS if f"user {user} " in stage_text})
        checks.record("the brokers' SASL stages saw kedge's service principal, never a client's user",
                      f"user {SERVICE_USER} authenticated" in stage_text and not others, f"client users seen {others}")
        leaked = [user for user, password in USERS.items() if password in kedge_log]
        leaked += [name for name, token in tokens.items() if token in kedge_log]
        checks.record("kedge's log (debug level) holds no password and no token", not leaked, f"leaked {leaked}")
        errors = kedge_errors(kedge_log)
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
