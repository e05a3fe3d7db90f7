#!/usr/bin/env python3
"""Operations features of the real kedge binary on loopback: the admin API,
Prometheus metrics checked against the traffic a client produced, JSON logs,
and PROXY protocol v1/v2 with Debian's HAProxy (config generated here) in TCP
mode in front of a listener with proxy_protocol "required".

Traffic: Python TLS clients (real OpenSSL, hostname verification) send
ApiVersions v0 + Metadata v1 to the FakeBroker fixture of test_gateway_local.py
directly and through HAProxy; every expected count and byte total below is
derived from what those clients sent and received.

Usage: test_ops_local.py KEDGE_BINARY WORKDIR
"""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import (Checks, KedgeProcess, admin_address, closed_by_peer, free_port, make_certs,  # noqa: E402
                           wait_for_port, write_config)
from test_gateway_local import (FakeBroker, api_versions_response, metadata_v1_response,  # noqa: E402
                                metadata_v12_response, read_frame, real_client_hello, request, tls_client)

DOMAIN = "kafka.example.com"
TOKEN = "t0ken-for-ops-test"
BROKERS = [(1, "10.9.8.1", 9092), (2, "10.9.8.2", 9093)]


def http(admin, method, path, token=None):
    req = urllib.request.Request(f"http://{admin}{path}", method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def poll(fetch, accept, attempts=50, pause=0.1):
    """fetch() until accept(value) holds, at most `attempts` times `pause` s apart; returns the last value."""
    value = None
    for _ in range(attempts):
        value = fetch()
        if accept(value):
            break
        time.sleep(pause)
    return value


def raw_http(admin, data):
    host, port = admin.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    return out.decode(errors="replace")


def metric(text, name, **labels):
    """Value of the sample `name` with exactly these labels (any order); 0 when absent."""
    want = {k: str(v) for k, v in labels.items()}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        base, _, rest = series.partition("{")
        if base != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', rest))
        if have == want:
            return float(value)
    return 0.0


def no_active_connections(metrics_text):
    return (metric(metrics_text, "kedge_connections_active", listener="direct") == 0
            and metric(metrics_text, "kedge_connections_active", listener="lb") == 0)


def kafka_exchange(port, ca):
    """ApiVersions v0 + Metadata v1 over TLS; returns (client address, bytes sent, bytes received)."""
    sock = tls_client(port, ca, f"bootstrap.{DOMAIN}")
    local = "%s:%d" % sock.getsockname()[:2]
    sent = received = 0
    for req in (request(18, 0, 1), request(3, 1, 2, struct.pack(">i", -1))):
        sock.sendall(req)
        sent += len(req)
        received += 4 + len(read_frame(sock))
    sock.close()
    return local, sent, received



def main():
    kedge_binary, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    work = tempfile.mkdtemp(dir=workdir, prefix="ops-")
    certs = make_certs(os.path.join(work, "tls"), DOMAIN)
    with open(os.path.join(work, "admin.token"), "w") as f:
        f.write(TOKEN + "\n")
    checks = Checks()

    def handler(api_key, version, corr, conn):
        if api_key == 18:
            conn.sendall(api_versions_response(corr, version, [(3, 0, 12), (18, 0, 3)]))
        elif api_key == 3 and version == 1:
            conn.sendall(metadata_v1_response(corr, BROKERS))
        elif api_key == 3 and version == 12:  # kedge's own discovery (readiness probe): the newest both support
            conn.sendall(metadata_v12_response(corr, BROKERS))

    broker = FakeBroker(handler)
    direct_port, lb_port, haproxy_v2, haproxy_v1 = free_port(), free_port(), free_port(), free_port()
    config = {
        "listeners": [
            {"name": "direct", "bind": f"127.0.0.1:{direct_port}", "tls": {"cert": certs["cert"], "key": certs["key"]}},
            {"name": "lb", "bind": f"127.0.0.1:{lb_port}", "proxy_protocol": "required",
             "tls": {"cert": certs["cert"], "key": certs["key"]}},
        ],
        "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                              "backend": {"bootstrap_servers": [f"127.0.0.1:{broker.port}"]}}],
        "log": {"level": "info", "format": "json"},
        "admin": {"bind": "127.0.0.1:0", "token_file": "admin.token", "readiness_probe_interval_ms": 300},
    }
    config_path = write_config(os.path.join(work, "kedge.json"), config)
    kedge = KedgeProcess(kedge_binary, config_path, os.path.join(work, "kedge.log"))
    haproxy_cfg = os.path.join(work, "haproxy.cfg")
    with open(haproxy_cfg, "w") as f:
        f.write(f"""global
  maxconn 100
defaults
  mode tcp
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend v2
  bind 127.0.0.1:{haproxy_v2}
  default_backend kedge_v2
frontend v1
  bind 127.0.0.1:{haproxy_v1}
  default_backend kedge_v1
backend kedge_v2
  server kedge 127.0.0.1:{lb_port} send-proxy-v2
backend kedge_v1
  server kedge 127.0.0.1:{lb_port} send-proxy
""")
    haproxy = None
    try:
        kedge.start("127.0.0.1", direct_port)
        admin = poll(lambda: admin_address(kedge.log()), bool)
        checks.check("admin address logged", admin is not None, kedge.log()[-500:])
        haproxy = subprocess.Popen([shutil.which("haproxy") or "/usr/sbin/haproxy", "-f", haproxy_cfg, "-db"],
                                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "haproxy.log"), "wb"))
        checks.check("haproxy listening", wait_for_port("127.0.0.1", haproxy_v2) and
                     wait_for_port("127.0.0.1", haproxy_v1))

        # --- admin basics
        status, body = http(admin, "GET", "/healthz")
        checks.check("/healthz 200 ok", status == 200 and body == "ok\n", f"{status} {body!r}")
        ready = poll(lambda: http(admin, "GET", "/readyz"), lambda answer: answer[0] == 200)
        checks.check("/readyz 200 with the backend up", ready == (200, "ready\n"), repr(ready))
        checks.check("/metrics without token is 401", http(admin, "GET", "/metrics")[0] == 401)
        checks.check("/metrics with a wrong token is 401", http(admin, "GET", "/metrics", "nope")[0] == 401)
        checks.check("unknown path 404", http(admin, "GET", "/nope", TOKEN)[0] == 404)
        checks.check("POST /v1/reload without the token is 401", http(admin, "POST", "/v1/reload")[0] == 401)
        checks.check("GET /v1/reload is 405", http(admin, "GET", "/v1/reload", TOKEN)[0] == 405)
        status, body = http(admin, "POST", "/v1/reload", TOKEN)
        checks.check("POST /v1/reload applies the (unchanged) config as generation 2",
                     status == 200 and json.loads(body) == {"ok": True, "generation": 2}, f"{status} {body!r}")
        checks.check("wrong method 405", http(admin, "POST", "/metrics", TOKEN)[0] == 405)
        bad = raw_http(admin, b"GARBAGE \x01\r\n\r\n")
        checks.check("malformed HTTP 400", bad.startswith("HTTP/1.1 400 "), bad[:80])
        huge = raw_http(admin, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 10000 + b"\r\n\r\n")
        checks.check("oversized headers 431", huge.startswith("HTTP/1.1 431 "), huge[:80])

        # Baseline: the port probes above (harness, HAProxy frontends) are
        # connections too; everything below is compared as a delta to this.
        before = poll(lambda: http(admin, "GET", "/metrics", TOKEN)[1], no_active_connections)

        # --- traffic: 3 direct, 2 via PROXY v2, 1 via PROXY v1
        exchanges = []
        for port, how in [(direct_port, "direct")] * 3 + [(haproxy_v2, "v2")] * 2 + [(haproxy_v1, "v1")]:
            client, sent, received = kafka_exchange(port, certs["ca"])
            exchanges.append((how, client, sent, received))
        # --- refused: malformed PROXY header, and a ClientHello without any header
        bad_header = socket.create_connection(("127.0.0.1", lb_port), timeout=5)
        bad_header.sendall(b"PROXY TCP4 1.2.3.4 nonsense 1 2\r\n")
        checks.check("malformed PROXY header refused", closed_by_peer(bad_header))
        bad_header.close()
        no_header = socket.create_connection(("127.0.0.1", lb_port), timeout=5)
        no_header.sendall(real_client_hello())
        checks.check("ClientHello without PROXY header refused on a required listener", closed_by_peer(no_header))
        no_header.close()

        # --- metrics against what the clients did
        status, text = poll(lambda: http(admin, "GET", "/metrics", TOKEN),
                            lambda answer: no_active_connections(answer[1]))
        with open(os.path.join(work, "metrics.txt"), "w") as f:
            f.write(text)
        vc = {"virtual_cluster": "alpha"}
        after = text

        def delta(name, **labels):
            return metric(after, name, **labels) - metric(before, name, **labels)

        n = len(exchanges)
        checks.check("metrics content type and 200", status == 200)
        accepted = (delta("kedge_connections_accepted_total", listener="direct"),
                    delta("kedge_connections_accepted_total", listener="lb"))
        checks.check("accepted: 3 direct, 3 + 2 refused via lb", accepted == (3, 5), repr(accepted))
        checks.check("closed by the client: 6",
                     delta("kedge_connections_closed_total", listener="direct", cause="client_closed") +
                     delta("kedge_connections_closed_total", listener="lb", cause="client_closed") == n)
        checks.check("closed: one malformed PROXY header, one missing",
                     delta("kedge_connections_closed_total", listener="lb", cause="proxy_header_malformed") == 1
                     and delta("kedge_connections_closed_total", listener="lb",
                                cause="proxy_header_missing") == 1)
        checks.check("PROXY outcomes v2=2 v1=1 malformed=1 absent=1",
                     [delta("kedge_proxy_headers_total", listener="lb", outcome=o)
                      for o in ("v2", "v1", "malformed", "absent")] == [2, 1, 1, 1])
        for api in ("ApiVersions", "Metadata"):
            req = delta("kedge_requests_total", api=api, **vc)
            resp = delta("kedge_responses_total", api=api, **vc)
            count = delta("kedge_request_duration_seconds_count", api=api, **vc)
            inf = delta("kedge_request_duration_seconds_bucket", api=api, le="+Inf", **vc)
            checks.check(f"{api}: requests = responses = histogram count = {n}",
                         req == resp == count == inf == n, f"{req} {resp} {count} {inf}")
        checks.check("Metadata endpoints rewritten: 2 brokers x 6",
                     delta("kedge_rewritten_endpoints_total", api="Metadata", **vc) == 2 * n)
        checks.check("responses rewritten > 0", delta("kedge_responses_rewritten_total", **vc) > 0)
        sent = sum(e[2] for e in exchanges)
        received = sum(e[3] for e in exchanges)
        checks.check(f"bytes from clients = {sent}", delta("kedge_client_bytes_received_total", **vc) == sent)
        checks.check(f"bytes to clients = {received}",
                     delta("kedge_client_bytes_sent_total", **vc) == received)
        checks.check("upstream connects: one per client connection",
                     delta("kedge_upstream_connects_total", **vc) == n and
                     delta("kedge_upstream_connect_duration_seconds_count", **vc) == n)
        checks.check("reload counters: 1 success, 0 failures",
                     "kedge_config_reloads_total{result=\"success\"} 1" in text and
                     "kedge_config_reloads_total{result=\"failure\"} 0" in text)

        # --- /v1/state
        status, body = http(admin, "GET", "/v1/state", TOKEN)
        state = json.loads(body)
        alpha = state["virtual_clusters"][0]
        known = {b["node_id"]: b for b in alpha["brokers"]}
        checks.check("/v1/state lists both listeners, lb with PROXY required",
                     [(l["name"], l["proxy_protocol"]) for l in state["listeners"]] ==
                     [("direct", "off"), ("lb", "required")])
        checks.check("/v1/state knows broker 1 at its real address with its source",
                     known.get(1, {}).get("address") == "10.9.8.1:9092" and
                     known[1]["learned_from"] in ("Metadata v1 response", "discovery") and known[1]["learned_at"],
                     json.dumps(alpha["brokers"]))
        checks.check("/v1/state backend reachable", alpha["backend"]["reachable"] is True)

        # --- JSON logs and the access log's client address
        log_lines = [line for line in kedge.log().splitlines() if line.strip()]
        parsed = []
        for line in log_lines:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                pass
        checks.check("every log line is JSON with ts, level, msg",
                     len(parsed) == len(log_lines) and all({"ts", "level", "msg"} <= set(p) for p in parsed),
                     next((l for l in log_lines if not l.startswith("{")), ""))
        access = [p for p in parsed if p.get("event") == "access"]
        for how, client, _, _ in exchanges:
            entry = next((a for a in access if a["client"] == client), None)
            if how == "direct":
                ok = entry is not None and entry["peer"] == client
            else:  # the socket peer is HAProxy, the logged client the original one
                ok = entry is not None and entry["peer"] != client and entry["listener"] == "lb"
            checks.check(f"access log ({how}) names the real client {client}",
                         ok and entry["sni"] == f"bootstrap.{DOMAIN}" and entry["virtual_cluster"] == "alpha" and
                         entry["target"] == "bootstrap" and entry["cause"] == "client_closed" and
                         entry["bytes_in"] > 0 and entry["bytes_out"] > 0, json.dumps(entry))

        # --- backend down: readiness turns 503 with the reason
        broker.sock.close()
        down = poll(lambda: http(admin, "GET", "/readyz"), lambda answer: answer[0] == 503, attempts=60)
        checks.check("/readyz 503 once the backend is down", down[0] == 503 and
                     "virtual cluster alpha: backend unreachable" in down[1], repr(down))
        checks.check("/healthz still 200", http(admin, "GET", "/healthz")[0] == 200)
        checks.check("kedge still running", kedge.alive())
    finally:
        if haproxy is not None:
            haproxy.terminate()
            haproxy.wait(timeout=10)
        rc = kedge.stop()
    checks.check("kedge exits 0 on SIGTERM", rc == 0, f"rc={rc}")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
