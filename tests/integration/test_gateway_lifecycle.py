#!/usr/bin/python3
"""Hot reload, certificate rotation and the graceful drain, under continuous client traffic.

    <prefix>-dc   two 3-broker librdkafka 2.12 mock clusters (c1, c2) and kedge (2 worker loops) on :9092
    <prefix>-a    a continuous producer + consumer (streamer.py, confluent_kafka) on virtual cluster alpha

Phases and checks (one PASS/FAIL line each, then `N passed, M failed`):
  1. reloads: 100 SIGHUPs while the streamer runs — configs A and B alternate (B re-points beta at c1 and
     adds gamma on c2; alpha is identical in both), every fifth file is invalid (unknown key, missing
     certificate, broken JSON, duplicate cluster name). Each valid one is applied (log line with the next
     generation), each invalid one is rejected with its error and the running generation stays.
     After the last reload the clusters of the final config answer Metadata through kedge.
  2. certificate rotation: the listener's certificate and key files are replaced on disk (a different CA);
     the next handshake presents the new certificate, without any signal.
  3. the streamer stops: every delivered record was consumed exactly once, no produce failed, librdkafka
     reported no error at all (no disconnect), and kedge closed no alpha connection while it ran.
  4. SIGTERM under load: a second streamer runs; kedge gets SIGTERM, drains (log), exits 0 within the drain
     timeout, is started again; every record the producer had acknowledged is consumed.

Usage: test_gateway_lifecycle.py KEDGE_BINARY   (needs root; mock binaries via KEDGE_* env or KEDGE_BUILD_DIR)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import Checks, make_certs, write_config  # noqa: E402
from topology import Topology, TopologyError  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
RELOADS = 100
DRAIN_TIMEOUT_MS = 6000
HERE = os.path.dirname(os.path.abspath(__file__))


def config(variant, live_tls, c1, c2):
    clusters = [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                 "backend": {"bootstrap_servers": c1.split(",")}}]
    if variant == "A":
        clusters.append({"name": "beta", "hostnames": {"format": "shared_suffix", "domain": DOMAIN},
                         "backend": {"bootstrap_servers": c2.split(",")}})
    else:
        clusters.append({"name": "beta", "hostnames": {"format": "shared_suffix", "domain": DOMAIN},
                         "backend": {"bootstrap_servers": c1.split(",")}})
        clusters.append({"name": "gamma", "hostnames": {"format": "shared_suffix", "domain": DOMAIN},
                         "backend": {"bootstrap_servers": c2.split(",")}})
    return {
        "workers": 2,
        "listeners": [{"name": "hub", "bind": f"0.0.0.0:{PORT}",
                       "tls": {"cert": live_tls["cert"], "key": live_tls["key"]}}],
        "virtual_clusters": clusters,
        "log": {"level": "info"},
        "limits": {"drain_timeout_ms": DRAIN_TIMEOUT_MS, "certificate_check_interval_ms": 200},
    }


def invalid_configs(valid):
    unknown_key = json.loads(json.dumps(valid))
    unknown_key["listeners"][0]["advertized_port"] = 9093
    missing_cert = json.loads(json.dumps(valid))
    missing_cert["listeners"][0]["tls"]["cert"] = "/nonexistent/server.pem"
    duplicate = json.loads(json.dumps(valid))
    duplicate["virtual_clusters"].append(dict(duplicate["virtual_clusters"][0]))
    return [json.dumps(unknown_key), json.dumps(missing_cert), '{"listeners": [', json.dumps(duplicate)]


def replace_file(source, target):
    """Atomic replacement, as a certificate manager (cert-manager, certbot deploy hooks) does it."""
    temporary = target + ".new"
    shutil.copyfile(source, temporary)
    os.chmod(temporary, 0o600)
    os.rename(temporary, target)


def fingerprint_pem(path):
    return subprocess.run(["openssl", "x509", "-in", path, "-noout", "-fingerprint", "-sha256"],
                          capture_output=True, text=True, check=True).stdout.strip()


def presented_fingerprint(topo):
    script = (f"openssl s_client -connect {topo.gateway_ip('a')}:{PORT} -servername bootstrap.{DOMAIN} "
              "</dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256")
    return topo.run_in("a", ["bash", "-c", script], timeout=20).stdout.strip()


def wait_for(predicate, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def streamer_argv(topo, prefix, group, ca_bundle, stop_file, duration=600):
    return ["/usr/bin/python3", os.path.join(HERE, "streamer.py"), "--bootstrap", f"bootstrap.{DOMAIN}:{PORT}",
            "--topic", "stream", "--group", group, "--prefix", prefix, "--rate", "150",
            "--duration", str(duration), "--settle", "40", "--stop-file", stop_file,
            "-X", "security.protocol=SSL", "-X", f"ssl.ca.location={ca_bundle}",
            "-X", "ssl.endpoint.identification.algorithm=https"]


def finish_streamer(process, stop_file, timeout=120):
    open(stop_file, "w").close()
    try:
        process.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        process.popen.kill()
        return None
    lines = [line for line in process.log_text().splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def main():
    kedge_binary = sys.argv[1]
    checks = Checks()
    with Topology() as topo:
        c1 = topo.start_mock_cluster("rdk212", 3, {"stream": 6})
        c2 = topo.start_mock_cluster("rdk212", 3, {"other": 3})
        first = make_certs(os.path.join(topo.log_dir, "tls1"), DOMAIN)
        second = make_certs(os.path.join(topo.log_dir, "tls2"), DOMAIN)  # its own CA
        ca_bundle = os.path.join(topo.log_dir, "ca-bundle.pem")
        with open(ca_bundle, "w") as out:
            for path in (first["ca"], second["ca"]):
                out.write(open(path).read())
        live_dir = os.path.join(topo.log_dir, "live")
        os.makedirs(live_dir)
        live = {"cert": os.path.join(live_dir, "server.pem"), "key": os.path.join(live_dir, "server.key")}
        replace_file(first["key"], live["key"])
        replace_file(first["cert"], live["cert"])

        config_path = os.path.join(topo.log_dir, "kedge.json")
        variants = {name: config(name, live, c1.bootstrap, c2.bootstrap) for name in ("A", "B")}
        broken = invalid_configs(variants["A"])
        write_config(config_path, variants["A"])
        kedge = topo.start_process("dc", [kedge_binary, "run", "--config", config_path], topo.log_path("kedge"),
                                   ready_port=PORT)
        log = kedge.log_text
        checks.check("kedge runs 2 worker loops", "kedge ready: 2 worker loops" in log())

        stop_one = os.path.join(topo.log_dir, "stop-streamer-1")
        streamer = topo.start_process("a", streamer_argv(topo, "r", "g-reload", ca_bundle, stop_one),
                                      topo.log_path("streamer-1"))
        time.sleep(6)  # group join + first records, so the reloads overlap steady traffic

        # ---- 1. reloads
        applied = rejected = 0
        wrong = []
        started = time.monotonic()
        for i in range(RELOADS):
            time.sleep(0.05)  # spread the reloads over several seconds of traffic
            before_ok = log().count("applied to new connections")
            before_rejected = log().count(") rejected, still running")
            if i % 5 == 4:
                with open(config_path, "w") as f:
                    f.write(broken[(i // 5) % len(broken)])
            else:
                write_config(config_path, variants["A" if i % 2 == 0 else "B"])
            kedge.popen.send_signal(signal.SIGHUP)
            if not wait_for(lambda: log().count("applied to new connections") > before_ok or
                            log().count(") rejected, still running") > before_rejected, 5):
                wrong.append(f"reload {i}: no outcome logged")
                continue
            if log().count("applied to new connections") > before_ok:
                applied += 1
                if i % 5 == 4:
                    wrong.append(f"reload {i}: invalid config applied")
            else:
                rejected += 1
                if i % 5 != 4:
                    wrong.append(f"reload {i}: valid config rejected")
        elapsed = time.monotonic() - started
        checks.check(f"{RELOADS} reloads: 80 applied, 20 invalid rejected", applied == 80 and rejected == 20
                     and not wrong, f"applied={applied} rejected={rejected} in {elapsed:.1f}s {wrong[:3]}")
        checks.check("the running generation is 81 after 80 applied reloads",
                     "configuration generation 81 from" in log())
        expected_errors = ("listeners[0].advertized_port: unknown key", "/nonexistent/server.pem", "\"alpha\" is already used by")
        missing_errors = [text for text in expected_errors if text not in log()]
        checks.check("rejections name the problem", not missing_errors, f"not logged: {missing_errors}")
        # i = 98 wrote A and i = 99 an invalid file: A runs. Apply B once more to check its clusters.
        write_config(config_path, variants["B"])
        kedge.popen.send_signal(signal.SIGHUP)
        checks.check("config B applied", wait_for(lambda: "configuration generation 82 from" in log(), 5))
        marker = len(log())  # client-side probes below open and close alpha connections themselves
        for cluster, host in (("alpha", f"bootstrap.{DOMAIN}"), ("gamma", f"bootstrap-gamma.{DOMAIN}"),
                              ("beta", f"bootstrap-beta.{DOMAIN}")):
            probe = topo.run_in("a", ["kcat", "-L", "-b", f"{host}:{PORT}", "-X", "security.protocol=SSL",
                                      "-X", f"ssl.ca.location={ca_bundle}", "-m", "10"], timeout=30)
            names = set(re.findall(r"broker \d+ at (\S+)", probe.stdout))
            suffix = "" if cluster == "alpha" else f"-{cluster}"
            expected = {f"broker-{n}{suffix}.{DOMAIN}:{PORT}" for n in (1, 2, 3)}
            checks.check(f"after the reloads, {cluster} serves Metadata with its own names", names == expected,
                         f"{sorted(names)} {probe.stderr[-300:]}")

        # ---- 2. certificate rotation
        before = presented_fingerprint(topo)
        checks.check("the first certificate is presented", before == fingerprint_pem(first["cert"]), before)
        generation_lines = log().count("applied to new connections")
        replace_file(second["key"], live["key"])
        replace_file(second["cert"], live["cert"])
        rotated = wait_for(lambda: log().count("applied to new connections") > generation_lines, 10)
        after = presented_fingerprint(topo)
        checks.check("a replaced certificate is picked up without a signal and presented to new handshakes",
                     rotated and after == fingerprint_pem(second["cert"]) and "changed on disk" in log(), after)

        # ---- 3. the clients never noticed
        result = finish_streamer(streamer, stop_one)
        checks.check("streamer finished", result is not None, streamer.log_text()[-1500:])
        if result:
            checks.check("every delivered record consumed exactly once, none failed",
                         result["delivered"] == result["sent"] and result["missing"] == 0
                         and result["duplicates"] == 0 and result["failed"] == 0,
                         {k: result[k] for k in ("sent", "delivered", "consumed_unique", "duplicates", "missing",
                                                 "failed")})
            checks.check("the client saw no error and no disconnect during reloads and rotation",
                         not result["errors"], json.dumps(result["error_samples"][:5]))
        # Closes the client chose (cause=client_closed) are not kedge's doing; any other cause would be.
        alpha_closes = [line for line in log()[:marker].splitlines()
                        if " closed: " in line and "vc=alpha" in line and "cause=client_closed" not in line]
        checks.check("kedge closed no alpha connection while the reloads ran", not alpha_closes,
                     "; ".join(alpha_closes[:3]))

        # ---- 4. SIGTERM under load, then a restart
        stop_two = os.path.join(topo.log_dir, "stop-streamer-2")
        streamer = topo.start_process("a", streamer_argv(topo, "t", "g-drain", ca_bundle, stop_two),
                                      topo.log_path("streamer-2"))
        time.sleep(6)
        signalled = time.monotonic()
        kedge.popen.send_signal(signal.SIGTERM)
        try:
            code = kedge.popen.wait(DRAIN_TIMEOUT_MS / 1000 + 3)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - signalled
        checks.check("SIGTERM: kedge drains and exits 0 within the drain timeout",
                     code == 0 and took <= DRAIN_TIMEOUT_MS / 1000 + 1 and "draining" in log(),
                     f"exit={code} after {took:.2f}s")
        drained = [line for line in log().splitlines() if " closed: " in line and "cause=shutdown" in line]
        checks.check("connections were closed by the drain (cause=shutdown)", len(drained) > 0, f"{len(drained)}")
        kedge = topo.start_process("dc", [kedge_binary, "run", "--config", config_path],
                                   topo.log_path("kedge-restarted"), ready_port=PORT)
        time.sleep(8)
        result = finish_streamer(streamer, stop_two)
        checks.check("streamer finished after the restart", result is not None, streamer.log_text()[-1500:])
        if result:
            checks.check("no acknowledged record lost across drain and restart",
                         result["missing"] == 0 and result["failed"] == 0 and result["delivered"] == result["sent"],
                         {k: result[k] for k in ("sent", "delivered", "consumed_unique", "duplicates", "missing",
                                                 "failed", "errors")})
        checks.check("restarted kedge still running", kedge.alive())
    return checks.finish()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TopologyError as e:
        print(f"FAIL topology: {e}")
        sys.exit(1)
