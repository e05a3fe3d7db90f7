#!/usr/bin/python3
"""Kafka over WebSocket on kedge's TLS port (issue 19, docs/http.md): the APISIX pub-sub protocol and its JSON form.

    <prefix>-dc   a 3-broker librdkafka mock, 2.12 (default) or 2.0.2 (argument rdk20: old, non-flexible versions:
                  Fetch and ListOffsets by name at v4-v11 / v1-v5), topics ws-<codec> (1 partition each) and
                  "secret"; kedge on :9092 with two virtual clusters on that backend:
                    alpha  subdomain      http.<domain> (and ALPN http/1.1 on bootstrap.<domain>)
                    beta   shared_suffix  http-beta.<domain>, with ACLs allowing Read/Describe on ws-none only
    <prefix>-a    the clients: confluent-kafka (librdkafka) producing through kedge's Kafka path, and
                  ws_client.py (python3-websockets + protobuf classes generated from web/pubsub.proto by protoc)

Checks (one PASS/FAIL line each, then `N passed, M failed`):
  1. for every compression codec librdkafka offers (none, gzip, snappy, lz4, zstd): records produced by librdkafka
     through kedge are read back over the WebSocket with CmdKafkaListOffset (-2, -1) and CmdKafkaFetch from the
     earliest offset, byte-exact: every offset once, key (null as empty, as protobuf bytes carry it), value and
     timestamp equal to what the producer's delivery reports said; each response echoes its sequence;
  2. the same through the other signal: ALPN http/1.1 offered on bootstrap.<domain> (a Kafka name);
  3. errors are ErrorResp values with Kafka's codes and the sequence echoed, and the connection goes on: an unknown
     topic (3; not with the 2.0.2 mock, whose Metadata v0-2 creates it), a partition the topic lacks (3), an offset past the end (1 OFFSET_OUT_OF_RANGE), a message that is
     not protobuf (42 INVALID_REQUEST), then a ping's state comes back and a ListOffset still answers;
  4. the JSON form (text messages): list_offset then fetch with base64 payloads returns the produced values;
  5. policy applies: through beta, a fetch of ws-none answers, a fetch of "secret" gets TOPIC_AUTHORIZATION_FAILED (29);
  6. kedge's access log names the HTTP connections (target "http") and kedge logged no error.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import start_kedge_in_topology  # noqa: E402
from scenario_support import kedge_errors, scenario_topology  # noqa: E402
from test_topology_smoke import Checks  # noqa: E402
from topology import tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
COUNT = 300
WS_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ws_client.py")
MOCK_VERSION = sys.argv[2] if len(sys.argv) > 2 else "rdk212"


def ws_client(topo, *args, timeout=180):
    result = topo.run_in("a", ["/usr/bin/python3", WS_CLIENT, *[str(a) for a in args]], timeout=timeout)
    lines = []
    for line in result.stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pass
    detail = (result.stderr.strip().splitlines() or [""])[-1]
    return lines, detail


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    if tool_path(f"mock_cluster_{MOCK_VERSION}") is None:
        print(f"mock_cluster_{MOCK_VERSION} not built")
        return 1
    with scenario_topology() as topo:
        topics = {f"ws-{codec}": 1 for codec in CODECS}
        topics.update({"ws-alpn": 1, "ws-json": 1, "secret": 1})
        mock = topo.start_mock_cluster(MOCK_VERSION, brokers=3, topics=topics)
        options = {"beta": {"policy": {"acls": [{"allow": ["Read", "Describe", "Write"], "topics": ["ws-none"]}]}}}
        kedge, certs, _ = start_kedge_in_topology(
            topo, kedge_binary, [("alpha", "subdomain", mock.bootstrap), ("beta", "shared_suffix", mock.bootstrap)],
            DOMAIN, PORT, cluster_options=options)
        ca = certs["ca"]
        bootstrap = f"bootstrap.{DOMAIN}:{PORT}"
        url = f"wss://http.{DOMAIN}:{PORT}/kafka"
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock {MOCK_VERSION} {mock.bootstrap}", flush=True)

        # ---- 1. every codec, byte-exact over the APISIX protocol ----------------------------------------------------
        for codec in CODECS:
            lines, detail = ws_client(topo, "roundtrip", bootstrap, url, ca, f"ws-{codec}", codec, COUNT)
            line = lines[-1] if lines else {}
            checks.record(f"{codec}: {COUNT} records produced by librdkafka read back over the WebSocket (APISIX "
                          "ListOffset + Fetch), byte-exact with offsets and timestamps, sequences echoed",
                          line.get("produced") == COUNT and line.get("fetched") == COUNT
                          and line.get("mismatch_count") == 0 and line.get("sequences_echoed") is True,
                          json.dumps(line) if line else detail)

        # ---- 2. ALPN http/1.1 on the Kafka bootstrap name -----------------------------------------------------------
        lines, detail = ws_client(topo, "roundtrip", bootstrap, f"wss://bootstrap.{DOMAIN}:{PORT}/kafka", ca,
                                  "ws-alpn", "lz4", 50, "alpn")
        line = lines[-1] if lines else {}
        checks.record("ALPN http/1.1 offered on bootstrap.<domain> is served as HTTP: 50 records read back byte-exact",
                      line.get("fetched") == 50 and line.get("mismatch_count") == 0,
                      json.dumps(line) if line else detail)

        # ---- 3. errors ------------------------------------------------------------------------------------------
        lines, detail = ws_client(topo, "errors", url, ca, "ws-none")
        cases = {line.get("case"): line for line in lines}
        expected = {"unknown_topic": (21, 3), "missing_partition": (22, 3), "offset_out_of_range": (23, 1),
                    "malformed_protobuf": (0, 42)}
        for case, (sequence, code) in expected.items():
            if case == "unknown_topic" and MOCK_VERSION == "rdk20":
                checks.skip("unknown_topic: ErrorResp code 3", "the 2.0.2 mock offers Metadata v0-2 only, which has no "
                            "AllowAutoTopicCreation: it creates the topic kedge asks about, as an auto-creating broker "
                            "would (docs/http.md)")
                continue
            got = cases.get(case, {})
            checks.record(f"{case}: ErrorResp code {code}, sequence {sequence} echoed, a message saying why",
                          got.get("kind") == "error_resp" and got.get("code") == code
                          and got.get("sequence") == sequence and bool(got.get("message")),
                          json.dumps(got) if got else detail)
        ping = cases.get("ping", {})
        after = cases.get("after_errors", {})
        checks.record("after the errors the connection goes on: the ping's state is echoed, ListOffset -2 answers",
                      ping.get("kind") == "pong_resp" and ping.get("state") == "kedge-state"
                      and after.get("kind") == "kafka_list_offset_resp", f"{ping}; {after}")

        # ---- 4. JSON --------------------------------------------------------------------------------------------
        lines, detail = ws_client(topo, "roundtrip", bootstrap, url, ca, "ws-json", "none", 5)
        lines, detail = ws_client(topo, "json", url, ca, "ws-json", 5)
        line = lines[-1] if lines else {}
        checks.record("JSON text messages: list_offset then fetch (base64) return the 5 records produced, byte-exact "
                      "(null keys as null)",
                      line.get("count") == 5 and line.get("matches") == 5 and line.get("sequence") == 2,
                      json.dumps(line) if line else detail)

        # ---- 5. policy through beta -----------------------------------------------------------------------------
        lines, detail = ws_client(topo, "errors", f"wss://http-beta.{DOMAIN}:{PORT}/kafka", ca, "secret")
        cases = {line.get("case"): line for line in lines}
        denied = cases.get("after_errors", {})
        checks.record("beta's ACLs: ListOffsets of \"secret\" over the WebSocket gets TOPIC_AUTHORIZATION_FAILED (29)",
                      denied.get("kind") == "error_resp" and denied.get("code") == 29, json.dumps(denied) or detail)

        # ---- 6. logs ------------------------------------------------------------------------------------------------
        kedge.stop()
        log_text = kedge.log_text()
        checks.record("the access log names HTTP connections (target=http)", "target=http " in log_text, "")
        errors = kedge_errors(log_text)
        checks.record("kedge logged no error", not errors, "; ".join(errors[:3]))
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root for network namespaces")
        sys.exit(77)
    sys.exit(main())
