#!/usr/bin/python3
"""OAUTHBEARER terminated by kedge (issue 17): clients present a JWT, kedge verifies it against a JWKS file and
authenticates to the brokers with its own service credentials.

    <prefix>-dc   3-broker librdkafka 2.12 mock behind sasl_stage.py (one account: kedge-svc, SCRAM-SHA-512);
                  kedge, virtual cluster alpha: authentication terminate, OAUTHBEARER only, JWKS with an RSA-2048
                  key (RS256) and a P-256 key (ES256) generated per run, issuer https://idp.test, audience kafka,
                  principals svc-*
    <prefix>-a    kclient_rdk212 (librdkafka 2.12 C API) and kclient_rdk20 (librdkafka 2.0.2), each handed its
                  token by its token refresh callback (--oauthbearer-token-file)
    <prefix>-b    python confluent-kafka (librdkafka 2.0.2) with an oauth_cb

Tokens are minted here with PyJWT (python3-jwt) and python3-cryptography: an implementation independent of kedge's.
Checks:
  - kclient_rdk212 (RS256 token, svc-orders) and confluent-kafka (ES256 token, svc-billing) each produce N records
    and a group consumer reads each exactly once; kclient_rdk20 (RS256) reads metadata;
  - an expired token, a token for another audience, a token signed by a key not in the JWKS, and a token whose
    principal is not bound to alpha are refused; the client prints kedge's reason; a good client producing at
    the same time gets every delivery report;
  - the stages saw kedge-svc only; the access log names the token principals; kedge logged no errors and no token.

Usage: test_gateway_identity_oauth.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import make_certs, write_config  # noqa: E402
from scenario_support import (client_consume_argv, client_produce_argv, consumed_once, finish,  # noqa: E402
                              kedge_errors, popen_in, produced_all, run_scenario, scenario_topology,
                              start_sasl_stages, summary_exit_code, tls_args)
from test_topology_smoke import Checks, client_argv  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
BOOTSTRAP = f"bootstrap-alpha.{DOMAIN}:{PORT}"
ISSUER, AUDIENCE = "https://idp.test", "kafka"
SERVICE_USER, SERVICE_PASSWORD = "kedge-svc", "svc-pw-0a9e4c11"
MESSAGES = 200
STEADY_MESSAGES = 200  # the concurrent good producer: 200 records at 20/s, during the refusals


def jwk(public_key, kid, alg):
    entry = json.loads((jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm)
                       .to_jwk(public_key))
    entry.update({"kid": kid, "alg": alg, "use": "sig"})
    return entry


def mint(private_key, kid, alg, **claims):
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode(body, private_key, algorithm=alg, headers={"kid": kid})


def oauth_args(ca, token_file):
    return ["-X", "security.protocol=SASL_SSL", *tls_args(ca), "-X", "sasl.mechanisms=OAUTHBEARER",
            "--oauthbearer-token-file", token_file]


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with scenario_topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=3, topics={"orders": 3, "billing": 3, "steady": 3})
        stages = start_sasl_stages(topo, cluster, {SERVICE_USER: SERVICE_PASSWORD})
        certs = make_certs(os.path.join(topo.log_dir, "tls"), DOMAIN)
        ca = certs["ca"]
        jwks_file = os.path.join(topo.log_dir, "jwks.json")
        with open(jwks_file, "w") as out:
            json.dump({"keys": [jwk(rsa_key.public_key(), "rsa-1", "RS256"),
                                jwk(ec_key.public_key(), "ec-1", "ES256")]}, out)
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
                    "mechanisms": ["OAUTHBEARER"],
                    "oauthbearer": {"jwks_file": jwks_file, "issuer": ISSUER, "audiences": [AUDIENCE]}}},
                "principals": ["svc-*"]}],
            "limits": {"authentication_failures": {"delay_after": 10000, "block_after": 10000}},
            "log": {"level": "debug"},
        }
        config_path = write_config(os.path.join(topo.log_dir, "kedge.json"), config)
        kedge = topo.start_process("dc", [kedge_binary, "run", "--config", config_path], topo.log_path("kedge"),
                                   ready_port=PORT)
        print(f"topology {topo.prefix} (logs {topo.log_dir})", flush=True)

        tokens = {
            "orders": mint(rsa_key, "rsa-1", "RS256", sub="svc-orders"),
            "billing": mint(ec_key, "ec-1", "ES256", sub="svc-billing"),
            "expired": mint(rsa_key, "rsa-1", "RS256", sub="svc-orders", iat=int(time.time()) - 7200,
                            exp=int(time.time()) - 3600),
            "audience": mint(rsa_key, "rsa-1", "RS256", sub="svc-orders", aud="another-service"),
            "stranger": mint(stranger, "rsa-1", "RS256", sub="svc-orders"),
            "unbound": mint(ec_key, "ec-1", "ES256", sub="intruder"),
        }
        files = {}
        for name, token in tokens.items():
            files[name] = os.path.join(topo.log_dir, f"token-{name}")
            with open(files[name], "w") as out:
                out.write(token)

        flows = (("kclient_rdk212", "a", "orders"), ("pyclient", "b", "billing"))
        producers = {topic: popen_in(topo, network, client_produce_argv(
            client, BOOTSTRAP, topic, MESSAGES, topic, "40000", *oauth_args(ca, files[topic])))
            for client, network, topic in flows}
        for client, _, topic in flows:
            result = finish(topo, producers[topic], f"produce-{topic}")
            ok, detail = produced_all(result, MESSAGES)
            checks.record(f"{client} with an {'RS256' if topic == 'orders' else 'ES256'} token: produced {MESSAGES}",
                          ok, detail or result[2][-300:])
        for client, network, topic in flows:
            result = finish(topo, popen_in(topo, network, client_consume_argv(
                client, BOOTSTRAP, topic, f"g-{topic}", MESSAGES, topic, "40000", *oauth_args(ca, files[topic]))),
                f"consume-{topic}")
            ok, detail = consumed_once(result, MESSAGES)
            checks.record(f"{client}: group consumer read each record exactly once", ok and result[0] == 0,
                          detail + ("" if ok else " " + result[2][-300:]))
        code, out, err = finish(topo, popen_in(topo, "a", client_argv(
            "kclient_rdk20", "metadata", "--bootstrap", BOOTSTRAP, "--timeout-ms", "10000",
            *oauth_args(ca, files["orders"]))), "metadata-rdk20")
        checks.record("kclient_rdk20 (librdkafka 2.0.2) with an RS256 token: metadata", code == 0 and "metadata ok=1" in out,
                      err.strip()[-300:])

        # A good client keeps producing while the refused ones come and go.
        steady = popen_in(topo, "b", client_produce_argv(
            "kclient_rdk212", BOOTSTRAP, "steady", STEADY_MESSAGES, "steady", "60000", "--rate", "20",
            "-X", "acks=all", *oauth_args(ca, files["orders"])))
        time.sleep(2)
        refusals = {"expired": "OAUTHBEARER token refused: expired",
                    "audience": "OAUTHBEARER token refused: wrong_audience",
                    "stranger": "OAUTHBEARER token refused: bad_signature",
                    "unbound": "Principal intruder is not allowed on virtual cluster alpha"}
        for name, expected in refusals.items():
            code, out, err = finish(topo, popen_in(topo, "a", client_argv(
                "kclient_rdk212", "metadata", "--bootstrap", BOOTSTRAP, "--timeout-ms", "6000",
                *oauth_args(ca, files[name]))), f"refused-{name}", timeout=40)
            lines = [line.strip() for line in err.splitlines() if "SASL authentication error" in line][:1]
            checks.record(f"a token that is {name}: refused, the client prints \"{expected}\"",
                          code != 0 and "metadata ok=1" not in out and any(expected in line for line in lines),
                          " | ".join(lines)[:300] or err.strip()[-300:])

        steady_result = finish(topo, steady, "produce-steady", timeout=90)
        ok, detail = produced_all(steady_result, STEADY_MESSAGES)
        checks.record(f"a good client producing meanwhile got all {STEADY_MESSAGES} delivery reports", ok,
                      detail or steady_result[2].strip()[-300:])

        stage_text = "".join(open(topo.log_path(f"sasl-stage-{broker}"), errors="replace").read() for broker in stages)
        checks.record("the stages saw kedge's service principal only",
                      f"user {SERVICE_USER} authenticated" in stage_text and "svc-orders" not in stage_text,
                      f"{stage_text.count('authenticated; relaying')} service logins")
        checks.record("kedge still running", kedge.alive(), "")
        kedge_log = open(topo.log_path("kedge"), errors="replace").read()
        for principal in ("svc-orders", "svc-billing"):
            checks.record(f"the access log names {principal}", f'principal="{principal}"' in kedge_log, "")
        checks.record("kedge's log holds no token", not [t for t in tokens.values() if t[-40:] in kedge_log], "")
        errors = kedge_errors(kedge_log)
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
