#!/usr/bin/python3
"""Broker addresses learned on one worker loop route broker connections on every worker (issue 16).

    <prefix>-dc   a 3-broker librdkafka 2.12 mock cluster and kedge on :9092 with "workers": 2
    <prefix>-a    the client: Python ssl sockets speaking Kafka by hand (one connection per request)

Steps:
  1. The mock's brokers are set down before kedge starts, so kedge's start-up readiness probe (a discovery
     Metadata request from worker 0) fails and teaches kedge nothing; admin.readiness_probe_interval_ms is an
     hour, so no later probe runs. The test waits until that probe has settled (/readyz 503 "unreachable")
     and reads kedge_discovery_requests_total from /metrics: the baseline. Then the brokers come back up.
  2. ONE bootstrap connection sends ONE Metadata v4 request through kedge: its answer names broker-1..3
     under kedge's domain, and rewriting it teaches kedge the real addresses, on whichever worker the kernel
     (SO_REUSEPORT) gave that connection.
  3. 50 fresh TLS connections go straight to broker-1..3 (SNI broker-N.<domain>, no bootstrap first), each
     sends an ApiVersions request and reads the answer.

Checks: the Metadata answer lists the three brokers under kedge's names; every one of the 50 connections was
answered; kedge_discovery_requests_total did not move (no connection waited for a discovery round trip, and
kedge logged no "not known yet"); the 50 connections were spread over both workers (connection id = n * 64 +
worker index, from the access log); /v1/state lists the brokers once, learned from the Metadata response;
/readyz is ready on the bootstrap connection's evidence; no kedge errors.

With a registry per worker (before issue 16) the connections that land on the other worker each ask the
backend first, so the discovery counter moves and the test fails.

Usage: test_gateway_shared_registry.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import http.client
import json
import os
import re
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, make_certs, write_config  # noqa: E402
from sasl_stage import recv_frame  # noqa: E402
from scenario_support import (kedge_errors, print_kedge_warnings, run_scenario, scenario_topology,  # noqa: E402
                              summary_exit_code, wait_for)
from test_topology_smoke import Checks  # noqa: E402
from topology import call_in_netns  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
BROKERS = 3
CONNECTIONS = 50
WORKERS = 2
API_METADATA, API_VERSIONS = 3, 18


def kafka_request(api_key, api_version, correlation_id, body=b""):
    """A request frame with header v1 (api key, version, correlation id, client id)."""
    client_id = b"kedge-test"
    header = struct.pack(">hhih", api_key, api_version, correlation_id, len(client_id)) + client_id
    return struct.pack(">i", len(header) + len(body)) + header + body


def read_frame(sock):
    frame = recv_frame(sock, 1 << 20)
    if not frame:
        raise ConnectionError("kedge closed the connection instead of answering")
    return frame


def metadata_brokers(frame, correlation_id):
    """[(node_id, host, port)] of a Metadata v4 response (header v0: correlation id; throttle; brokers)."""
    got, _throttle, count = struct.unpack_from(">iii", frame, 0)
    if got != correlation_id:
        raise ValueError(f"correlation id {got}, expected {correlation_id}")
    offset, brokers = 12, []
    for _ in range(count):
        node_id, host_length = struct.unpack_from(">ih", frame, offset)
        offset += 6
        host = frame[offset:offset + host_length].decode()
        offset += host_length
        port, rack_length = struct.unpack_from(">ih", frame, offset)
        offset += 6 + max(rack_length, 0)
        brokers.append((node_id, host, port))
    return brokers


def tls_connect(context, address, server_name):
    raw = socket.create_connection((address, PORT), timeout=15)
    return context.wrap_socket(raw, server_hostname=server_name)


def bootstrap_metadata(context, address):
    """One bootstrap connection, one Metadata v4 request (all topics); returns the brokers it lists."""
    with tls_connect(context, address, f"bootstrap.{DOMAIN}") as sock:
        # Metadata v4 body: topics null (all), allow_auto_topic_creation false
        sock.sendall(kafka_request(API_METADATA, 4, 1, struct.pack(">ib", -1, 0)))
        return metadata_brokers(read_frame(sock), 1)


def broker_connections(context, address):
    """CONNECTIONS fresh connections straight to broker-1..N, each answering one ApiVersions v0 request.
    All stay open until the last one was answered. Returns [(broker, error or None)]."""
    results, open_sockets = [], []
    try:
        for index in range(CONNECTIONS):
            broker = index % BROKERS + 1
            try:
                sock = tls_connect(context, address, f"broker-{broker}.{DOMAIN}")
                open_sockets.append(sock)
                sock.sendall(kafka_request(API_VERSIONS, 0, 100 + index))
                frame = read_frame(sock)
                correlation_id, error_code = struct.unpack_from(">ih", frame, 0)
                if correlation_id != 100 + index or error_code != 0:
                    raise ValueError(f"correlation id {correlation_id}, error code {error_code}")
                results.append((broker, None))
            except (OSError, ValueError) as error:
                results.append((broker, f"{type(error).__name__}: {error}"))
    finally:
        for sock in open_sockets:
            sock.close()
    return results


def admin_get(topo, admin, path):
    """(status, body) of GET http://admin/path, from inside dc (where the admin API listens)."""
    def get():
        host, port = admin.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()
    return call_in_netns(topo.ns("dc"), get)


def discovery_requests(topo, admin):
    _, text = admin_get(topo, admin, "/metrics")
    for line in text.splitlines():
        if line.startswith('kedge_discovery_requests_total{') and 'virtual_cluster="alpha"' in line:
            return int(float(line.rsplit(" ", 1)[1]))
    return None




ACCESS_BROKER = re.compile(r"conn (\d+) closed: .* target=broker (\d+) ")


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    with scenario_topology() as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=BROKERS, topics={"shared": 3})
        certs = make_certs(os.path.join(topo.log_dir, "tls"), DOMAIN)
        config = {
            "workers": WORKERS,
            "listeners": [{"name": "hub", "bind": f"0.0.0.0:{PORT}",
                           "tls": {"cert": certs["cert"], "key": certs["key"]}}],
            "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                                  "backend": {"bootstrap_servers": cluster.bootstrap.split(",")}}],
            # One probe at start-up, then none for an hour: every later discovery request is a client's.
            "admin": {"bind": "127.0.0.1:0", "readiness_probe_interval_ms": 3_600_000},
            "log": {"level": "info"},
        }
        config_path = write_config(os.path.join(topo.log_dir, "kedge.json"), config)
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock {cluster.bootstrap}", flush=True)

        # 1. the start-up probe finds the brokers down and learns nothing
        cluster.command_ok("down -1")
        kedge = topo.start_process("dc", [kedge_binary, "run", "--config", config_path], topo.log_path("kedge"),
                                   ready_port=PORT)
        admin = wait_for(lambda: admin_address(kedge.log_text()), 10)
        checks.record("kedge started its admin API", admin is not None, admin or kedge.log_text()[-400:])
        if admin is None:
            return summary_exit_code(checks)
        status, body = wait_for(lambda: (lambda r: r if r[0] == 503 and "unreachable" in r[1] else None)(
            admin_get(topo, admin, "/readyz")), 30) or admin_get(topo, admin, "/readyz")
        checks.record("the start-up probe settled: the backend was down, nothing learned",
                      status == 503 and "unreachable" in body, f"/readyz {status} {body.strip()}")
        settled = discovery_requests(topo, admin)
        print(f"    discovery requests after the start-up probe: {settled}", flush=True)
        cluster.command_ok("up -1")

        context = ssl.create_default_context(cafile=certs["ca"])
        address = topo.gateway_ip("a")

        # 2. one bootstrap Metadata request teaches kedge the brokers on one worker
        try:
            brokers = call_in_netns(topo.ns("a"), bootstrap_metadata, context, address)
            metadata_error = None
        except (OSError, ValueError) as error:
            brokers, metadata_error = [], f"{type(error).__name__}: {error}"
        expected = [(n, f"broker-{n}.{DOMAIN}", PORT) for n in range(1, BROKERS + 1)]
        checks.record("one bootstrap Metadata answer names broker-1..3 under kedge's domain",
                      sorted(brokers) == expected, metadata_error or f"{sorted(brokers)}")
        after_bootstrap = discovery_requests(topo, admin)
        checks.record("the bootstrap Metadata needed no discovery", after_bootstrap == settled,
                      f"{settled} -> {after_bootstrap}")

        # 3. 50 fresh connections straight to broker-N
        started = time.monotonic()
        results = call_in_netns(topo.ns("a"), broker_connections, context, address)
        elapsed = time.monotonic() - started
        failures = [f"broker-{broker}: {error}" for broker, error in results if error]
        checks.record(f"all {CONNECTIONS} broker-N connections were answered (ApiVersions)",
                      len(results) == CONNECTIONS and not failures,
                      f"{len(results) - len(failures)} answered in {elapsed:.2f}s; " + "; ".join(failures[:3]))

        closed = wait_for(lambda: (lambda found: found if len(found) >= CONNECTIONS else None)(
            ACCESS_BROKER.findall(kedge.log_text())), 10) or ACCESS_BROKER.findall(kedge.log_text())
        after_connections = discovery_requests(topo, admin)
        asked = kedge.log_text().count("not known yet; asking the backend")
        checks.record(f"no discovery request caused by the {CONNECTIONS} broker connections",
                      after_connections == settled and asked == 0,
                      f"kedge_discovery_requests_total {settled} -> {after_connections}; "
                      f"{asked} connections logged 'not known yet; asking the backend'")
        per_worker = {}
        for connection_id, _broker in closed:
            worker = int(connection_id) % 64
            per_worker[worker] = per_worker.get(worker, 0) + 1
        checks.record(f"the broker connections were spread over both workers (access log: {len(closed)} closed)",
                      len(closed) == CONNECTIONS and sorted(per_worker) == list(range(WORKERS)),
                      "connections per worker " + ", ".join(f"{w}: {n}" for w, n in sorted(per_worker.items())))

        _, state_text = admin_get(topo, admin, "/v1/state")
        try:
            state = json.loads(state_text)["virtual_clusters"][0]
            listed = sorted((b["node_id"], b["learned_from"]) for b in state["brokers"])
        except (ValueError, KeyError, IndexError):
            listed = state_text[:400]
        checks.record("/v1/state lists each broker once, learned from the Metadata response",
                      listed == [(n, "Metadata v4 response") for n in range(1, BROKERS + 1)], f"{listed}")
        status, body = admin_get(topo, admin, "/readyz")
        checks.record("/readyz is ready on the client connection's evidence (no probe since start-up)",
                      status == 200, f"{status} {body.strip()}")

        checks.record("kedge is still running", kedge.alive())
        errors = kedge_errors(kedge.log_text())
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
        print_kedge_warnings([kedge.log_text()])
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
