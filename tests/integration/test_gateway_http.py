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
  4. the JSON form (text messages): list_offset then fetch with base64 payloads returns the produced values; the
     JSON produce command (utf8 and base64 records) answers per-record offsets and librdkafka reads them byte-exact;
  5. policy applies: through beta, a fetch of ws-none answers, a fetch of "secret" gets TOPIC_AUTHORIZATION_FAILED (29);
  R. REST (curl; Confluent REST Proxy v2 shapes): JSON and binary records produced with curl are consumed byte-exact
     by librdkafka; keyed records land on murmur2's partition; librdkafka's records are read back over REST from an
     offset; topic listing, partitions and offsets; a read-only cluster (gamma) answers a produce 403 with the Kafka
     error; a produce quota (delta) slows a curl producer against the same posts through an unlimited cluster;
     consumer-group offsets committed over REST are the ones a librdkafka consumer of the group resumes from, and
     offsets librdkafka commits are read over REST;
  I. identity (epsilon terminates SASL): no credentials 401; HTTP Basic checked like PLAIN (wrong password 401,
     alice 200, a principal not bound 401); ACLs on the authenticated principal (403); bearer tokens checked like
     OAUTHBEARER (another key's signature 401); a WebSocket authenticated with ?access_token=;
  P. passthrough (zeta, 2.12 only: a second mock behind a SASL stage): an HTTP client's Basic credentials reach the
     broker as SASL PLAIN (produce and offsets work); credentials the broker refuses are 401;
  6. kedge's access log names the HTTP connections (target "http") and kedge logged no error.
"""
import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jwt  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from kedge_harness import admin_address, start_kedge_in_topology  # noqa: E402
from scenario_support import (kedge_errors, make_users_file, metric, metric_lines, metrics_text,  # noqa: E402
                              scenario_topology, start_sasl_stages)
from test_topology_smoke import Checks  # noqa: E402
from topology import tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
COUNT = 300
WS_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ws_client.py")
MOCK_VERSION = sys.argv[2] if len(sys.argv) > 2 else "rdk212"
USERS = {"alice": "alice-pw-6c1f", "mallory": "mallory-pw-93d2"}
BROKER_USERS = {"carol": "carol-pw-51aa"}
ISSUER, AUDIENCE = "https://idp.test", "kafka"
QUOTA_BYTES_PER_SECOND = 20_000
QUOTA_RECORD_BYTES = 20_000
QUOTA_POSTS = 4


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


def curl(topo, *args, timeout=60):
    """(HTTP status, parsed JSON body or text, seconds) of one curl run in namespace a."""
    started = time.monotonic()
    result = topo.run_in("a", ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", *args], timeout=timeout)
    elapsed = time.monotonic() - started
    body, _, status = result.stdout.rpartition("\n")
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = body or result.stderr.strip()
    return (int(status) if status.isdigit() else 0), parsed, elapsed


def check_rest(topo, checks, ca, bootstrap):
    base = f"https://http.{DOMAIN}:{PORT}"
    json_type = "Content-Type: application/vnd.kafka.json.v2+json"
    binary_type = "Content-Type: application/vnd.kafka.binary.v2+json"

    # R1. curl produces JSON records; librdkafka reads them back byte-exact (JSON text as written, member order kept)
    records = [{"key": "k1", "value": {"b": 1, "a": [1, 2, "x"], "n": None}}, {"value": "plain"},
               {"key": {"id": 7}, "value": None}, {"key": "k4", "value": 12.5}]
    status, body, _ = curl(topo, "--cacert", ca, "-H", json_type, "-d", json.dumps({"records": records}),
                           f"{base}/topics/rest-json")
    offsets = body.get("offsets", []) if isinstance(body, dict) else []
    checks.record("REST POST /topics/rest-json (json.v2) with curl: 200, offsets 0-3 without errors",
                  status == 200 and [o.get("offset") for o in offsets] == [0, 1, 2, 3]
                  and all(o.get("error_code") is None for o in offsets), f"{status} {body}")
    lines, detail = ws_client(topo, "consume", bootstrap, ca, "rest-json", len(records))
    got = lines[-1].get("records", []) if lines else []
    expected = [(None if "key" not in r or r["key"] is None else json.dumps(r["key"], separators=(",", ":")).encode().hex(),
                 None if r.get("value") is None else json.dumps(r["value"], separators=(",", ":")).encode().hex())
                for r in records]
    checks.record("librdkafka (confluent-kafka) consumes the JSON records byte-exact (JSON text, null as null)",
                  [(g["key"], g["value"]) for g in got] == expected, f"{got} != {expected}" if got else detail)

    # R2. binary records (base64) to an explicit partition; librdkafka reads the bytes back
    payloads = [bytes(range(256)), b"", bytes([0xff, 0x00, 0x80]) * 100]
    records = [{"key": base64.b64encode(b"bin-key-%d" % i).decode(), "value": base64.b64encode(p).decode()}
               for i, p in enumerate(payloads)]
    status, body, _ = curl(topo, "--cacert", ca, "-H", binary_type, "-d", json.dumps({"records": records}),
                           f"{base}/topics/rest-bin/partitions/0")
    checks.record("REST POST /topics/rest-bin/partitions/0 (binary.v2): 200, offsets 0-2",
                  status == 200 and [o.get("offset") for o in body.get("offsets", [])] == [0, 1, 2],
                  f"{status} {body}")
    lines, detail = ws_client(topo, "consume", bootstrap, ca, "rest-bin", len(payloads))
    got = lines[-1].get("records", []) if lines else []
    checks.record("librdkafka consumes the binary records byte-exact",
                  [(g["key"], g["value"]) for g in got] == [((b"bin-key-%d" % i).hex(), p.hex())
                                                            for i, p in enumerate(payloads)],
                  f"{got}" if got else detail)

    # R3. keyed records without a partition land where Kafka's default partitioner (murmur2) puts them
    status, body, _ = curl(topo, "--cacert", ca, "-H", json_type, "-d",
                           json.dumps({"records": [{"key": f"user-{i}", "value": i} for i in range(12)]}),
                           f"{base}/topics/rest-keyed")
    partitions = [o.get("partition") for o in body.get("offsets", [])] if isinstance(body, dict) else []
    expected = [murmur2_partition(json.dumps(f"user-{i}").encode(), 3) for i in range(12)]
    checks.record("keyed records without a partition go where Kafka's default partitioner puts them (murmur2)",
                  status == 200 and partitions == expected, f"{status} {partitions} != {expected}")

    # R4. records produced by librdkafka, read back over REST from an offset
    lines, detail = ws_client(topo, "rest-read", base, ca, "ws-none", "none", 100)
    line = lines[-1] if lines else {}
    checks.record("GET /topics/ws-none/partitions/0/records?offset=100 (binary): librdkafka's records from offset 100, "
                  "byte-exact with timestamps",
                  line.get("first") == 100 and line.get("count", 0) > 0 and line.get("mismatches") == [],
                  json.dumps(line) if line else detail)

    # R4b. offsets by time. Both mocks answer every ListOffsets by timestamp with -1 ("FIXME: by timestamp" in
    # rdkafka_mock_handlers.c), so end to end only the no-such-record answer is checked; the request itself is the
    # codec's (golden list_offsets vectors).
    status, at_time, _ = curl(topo, "--cacert", ca,
                              f"{base}/topics/ws-none/partitions/0/offsets?timestamp={1_700_000_000_000 + 41_500}")
    status2, bad, _ = curl(topo, "--cacert", ca, f"{base}/topics/ws-none/partitions/0/offsets?timestamp=soon")
    checks.record("GET .../offsets?timestamp=T reaches the leader and answers {offset, timestamp} (nulls: the mock "
                  "finds none); a timestamp that is not a number is 400 (40007)",
                  status == 200 and at_time == {"offset": None, "timestamp": None}
                  and status2 == 400 and isinstance(bad, dict) and bad.get("error_code") == 40007,
                  f"{status} {at_time}; {status2} {bad}")

    # R5. listings and offsets
    status, topics, _ = curl(topo, "--cacert", ca, f"{base}/topics")
    status2, offsets, _ = curl(topo, "--cacert", ca, f"{base}/topics/ws-none/partitions/0/offsets")
    status3, partitions, _ = curl(topo, "--cacert", ca, f"{base}/topics/rest-keyed/partitions")
    status4, missing, _ = curl(topo, "--cacert", ca, f"{base}/topics/no-such-topic/partitions/0/offsets")
    checks.record("GET /topics lists the topics; /offsets gives beginning 0 and end 300; /partitions lists 3 with "
                  "leaders; an unknown topic is 404 with error_code 40401",
                  status == 200 and {"ws-none", "rest-json", "rest-keyed"} <= set(topics if isinstance(topics, list) else [])
                  and status2 == 200 and offsets == {"beginning_offset": 0, "end_offset": 300}
                  and status3 == 200 and [p.get("partition") for p in partitions] == [0, 1, 2]
                  and all(p.get("leader", -1) >= 1 for p in partitions)
                  and (status4 == 404 and missing.get("error_code") == 40401 or MOCK_VERSION == "rdk20"),
                  f"{status} {topics}; {status2} {offsets}; {status3} {partitions}; {status4} {missing}")

    # R5b. consumer-group offsets committed over REST are Kafka's: a librdkafka consumer of the group resumes there;
    # and what librdkafka commits, REST reads
    status, body, _ = curl(topo, "--cacert", ca, "-H", "Content-Type: application/json", "-d",
                           json.dumps({"offsets": [{"topic": "rest-json", "partition": 0, "offset": 2,
                                                    "metadata": "from-rest"}]}),
                           f"{base}/groups/rest-group/offsets")
    checks.record("REST POST /groups/rest-group/offsets commits offset 2 of rest-json/0",
                  status == 200 and isinstance(body, dict)
                  and [(o.get("topic"), o.get("partition"), o.get("error_code")) for o in body.get("offsets", [])]
                  == [("rest-json", 0, None)], f"{status} {body}")
    lines, detail = ws_client(topo, "committed", bootstrap, ca, "rest-group", "rest-json")
    line = lines[-1] if lines else {}
    checks.record("a librdkafka consumer in group rest-group sees committed offset 2 and resumes at it",
                  line.get("committed") == 2 and line.get("first") == 2, json.dumps(line) if line else detail)
    status, body, _ = curl(topo, "--cacert", ca, f"{base}/groups/rest-group/offsets?topic=rest-json")
    lines, detail = ws_client(topo, "commit", bootstrap, ca, "kafka-group", "rest-json", 3)
    status2, body2, _ = curl(topo, "--cacert", ca, f"{base}/groups/kafka-group/offsets?topic=rest-json&partition=0")
    checks.record("REST GET /groups/{g}/offsets reads what REST committed (2, metadata kept) and what librdkafka "
                  "committed (3)",
                  status == 200 and body.get("offsets") == [{"topic": "rest-json", "partition": 0, "offset": 2,
                                                              "metadata": "from-rest"}]
                  and status2 == 200 and [o.get("offset") for o in body2.get("offsets", [])] == [3],
                  f"{status} {body}; {status2} {body2}; {lines or detail}")

    # R6. a read-only virtual cluster refuses REST produce with 403 and the Kafka error
    status, body, _ = curl(topo, "--cacert", ca, "-H", json_type, "-d", json.dumps({"records": [{"value": 1}]}),
                           f"https://http-gamma.{DOMAIN}:{PORT}/topics/rest-json")
    checks.record("read-only gamma: REST produce is 403 with error_code 40301 naming TOPIC_AUTHORIZATION_FAILED",
                  status == 403 and isinstance(body, dict) and body.get("error_code") == 40301
                  and "TOPIC_AUTHORIZATION_FAILED" in body.get("message", ""), f"{status} {body}")

    # R7. a quota slows an HTTP producer: QUOTA_POSTS posts of QUOTA_RECORD_BYTES each, one curl per post
    value = "x" * QUOTA_RECORD_BYTES
    payload = json.dumps({"records": [{"value": value}]})

    def timed_posts(host):
        started = time.monotonic()
        statuses = [curl(topo, "--cacert", ca, "-H", json_type, "-d", payload, f"https://{host}/topics/rest-quota")[0]
                    for _ in range(QUOTA_POSTS)]
        return statuses, time.monotonic() - started

    free_statuses, free_seconds = timed_posts(f"http.{DOMAIN}:{PORT}")
    quota_statuses, quota_seconds = timed_posts(f"http-delta.{DOMAIN}:{PORT}")
    owed = (QUOTA_POSTS - 1) * QUOTA_RECORD_BYTES / QUOTA_BYTES_PER_SECOND
    checks.record(f"a produce quota ({QUOTA_BYTES_PER_SECOND} B/s) slows an HTTP producer: {QUOTA_POSTS} posts of "
                  f"{QUOTA_RECORD_BYTES} B take >= {owed * 0.7:.1f} s through delta, all 200",
                  all(s == 200 for s in quota_statuses + free_statuses) and quota_seconds >= owed * 0.7
                  and quota_seconds > free_seconds + owed * 0.5,
                  f"delta {quota_seconds:.2f} s {quota_statuses}; unlimited alpha {free_seconds:.2f} s {free_statuses}")


def token(key, subject, kid="k1"):
    now = int(time.time())
    return jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, "sub": subject}, key,
                      algorithm="RS256", headers={"kid": kid})


def check_identity(topo, checks, ca, signing_key, stranger_key):
    base = f"https://http-epsilon.{DOMAIN}:{PORT}"
    offsets_url = f"{base}/topics/ws-none/partitions/0/offsets"
    status, body, _ = curl(topo, "--cacert", ca, offsets_url)
    checks.record("epsilon (SASL terminated): a request without credentials is 401 (40101)",
                  status == 401 and isinstance(body, dict) and body.get("error_code") == 40101, f"{status} {body}")
    status, body, _ = curl(topo, "--cacert", ca, "-u", "alice:wrong-password", offsets_url)
    checks.record("HTTP Basic with a wrong password is 401 (40104)",
                  status == 401 and isinstance(body, dict) and body.get("error_code") == 40104, f"{status} {body}")
    status, body, _ = curl(topo, "--cacert", ca, "-u", f"alice:{USERS['alice']}", offsets_url)
    checks.record("HTTP Basic alice (checked like SASL PLAIN against the users file): 200 with the offsets",
                  status == 200 and body == {"beginning_offset": 0, "end_offset": 300}, f"{status} {body}")
    status, body, _ = curl(topo, "--cacert", ca, "-u", f"alice:{USERS['alice']}",
                           f"{base}/topics/secret/partitions/0/offsets")
    checks.record("alice on a topic the ACLs do not give her: 403 naming TOPIC_AUTHORIZATION_FAILED",
                  status == 403 and "TOPIC_AUTHORIZATION_FAILED" in str(body), f"{status} {body}")
    status, body, _ = curl(topo, "--cacert", ca, "-u", f"mallory:{USERS['mallory']}", offsets_url)
    checks.record("mallory (right password, principal not bound to epsilon): 401 saying so",
                  status == 401 and "not bound" in str(body), f"{status} {body}")
    status, body, _ = curl(topo, "--cacert", ca, "-H", f"Authorization: Bearer {token(signing_key, 'svc-reader')}",
                           offsets_url)
    status2, body2, _ = curl(topo, "--cacert", ca, "-H",
                             f"Authorization: Bearer {token(stranger_key, 'svc-reader')}", offsets_url)
    checks.record("a bearer token (checked like OAUTHBEARER against the JWKS) is accepted; one signed by another key "
                  "is 401", status == 200 and status2 == 401, f"{status} {body}; {status2} {body2}")
    url = f"wss://http-epsilon.{DOMAIN}:{PORT}/kafka?access_token={token(signing_key, 'svc-reader')}"
    lines, detail = ws_client(topo, "errors", url, ca, "ws-none")
    after = {line.get("case"): line for line in lines}.get("after_errors", {})
    checks.record("a WebSocket authenticated with ?access_token= (browsers cannot set headers) serves ListOffset",
                  after.get("kind") == "kafka_list_offset_resp" and after.get("offset") == 0,
                  json.dumps(after) if after else detail)


def check_passthrough(topo, checks, ca):
    base = f"https://http-zeta.{DOMAIN}:{PORT}"
    json_type = "Content-Type: application/vnd.kafka.json.v2+json"
    status, body, _ = curl(topo, "--cacert", ca, "-u", f"carol:{BROKER_USERS['carol']}", "-H", json_type, "-d",
                           json.dumps({"records": [{"value": "through-sasl"}]}), f"{base}/topics/guarded")
    status2, offsets, _ = curl(topo, "--cacert", ca, "-u", f"carol:{BROKER_USERS['carol']}",
                               f"{base}/topics/guarded/partitions/0/offsets")
    checks.record("passthrough (zeta): carol's HTTP Basic credentials go to the broker as SASL PLAIN; she produces "
                  "and reads the offsets",
                  status == 200 and [o.get("offset") for o in body.get("offsets", [])] == [0]
                  and status2 == 200 and offsets == {"beginning_offset": 0, "end_offset": 1},
                  f"{status} {body}; {status2} {offsets}")
    status, body, _ = curl(topo, "--cacert", ca, "-u", "carol:not-her-password",
                           f"{base}/topics/guarded/partitions/0/offsets")
    checks.record("passthrough: credentials the broker refuses are 401 (40105) naming the broker's refusal",
                  status == 401 and isinstance(body, dict) and body.get("error_code") == 40105, f"{status} {body}")


def murmur2_partition(key, partitions):
    """Kafka's default partitioner for a keyed record (Utils.murmur2, toPositive), written from its definition."""
    m, r = 0x5bd1e995, 24
    h = (0x9747b28c ^ len(key)) & 0xffffffff
    for i in range(0, len(key) // 4 * 4, 4):
        k = int.from_bytes(key[i:i + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff
        h ^= k
    tail = key[len(key) // 4 * 4:]
    if len(tail) >= 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if len(tail) >= 1:
        h ^= tail[0]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return (h & 0x7fffffff) % partitions


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    if tool_path(f"mock_cluster_{MOCK_VERSION}") is None:
        print(f"mock_cluster_{MOCK_VERSION} not built")
        return 1
    with scenario_topology() as topo:
        topics = {f"ws-{codec}": 1 for codec in CODECS}
        topics.update({"ws-alpn": 1, "ws-json": 1, "secret": 1, "rest-json": 1, "rest-bin": 1, "rest-keyed": 3,
                       "rest-quota": 1, "ws-produce": 1})
        mock = topo.start_mock_cluster(MOCK_VERSION, brokers=3, topics=topics)
        # epsilon: kedge terminates authentication (PLAIN against a users file, OAUTHBEARER against a JWKS); alice
        # and token subject svc-reader are bound and may read ws-none; mallory has a password but is not bound.
        users_file = os.path.join(topo.log_dir, "users.json")
        make_users_file(kedge_binary, users_file, USERS)
        signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        stranger_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwks_file = os.path.join(topo.log_dir, "jwks.json")
        with open(jwks_file, "w") as out:
            entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
            entry.update({"kid": "k1", "alg": "RS256", "use": "sig"})
            json.dump({"keys": [entry]}, out)
        options = {"beta": {"policy": {"acls": [{"allow": ["Read", "Describe", "Write"], "topics": ["ws-none"]}]}},
                   "epsilon": {"authentication": {"mode": "terminate", "sasl": {
                                   "mechanisms": ["PLAIN", "OAUTHBEARER"], "users_file": users_file,
                                   "oauthbearer": {"jwks_file": jwks_file, "issuer": ISSUER, "audiences": [AUDIENCE]}}},
                               "principals": ["alice", "svc-reader"],
                               "policy": {"acls": [{"allow": ["Read", "Describe"], "topics": ["ws-none"]}]}},
                   "gamma": {"policy": {"read_only": True}},
                   "delta": {"quotas": {"produce_bytes_per_second": QUOTA_BYTES_PER_SECOND}}}
        clusters = [("alpha", "subdomain", mock.bootstrap)] + [
            (name, "shared_suffix", mock.bootstrap) for name in ("beta", "gamma", "delta", "epsilon")]
        if MOCK_VERSION == "rdk212":
            # zeta: passthrough in front of a second mock whose one broker requires SASL PLAIN (a sasl_stage.py TEST
            # FIXTURE relays it and checks the credentials; the 2.0.2 mock cannot advertise the stage).
            secured = topo.start_mock_cluster(MOCK_VERSION, brokers=1, topics={"guarded": 1})
            stages = start_sasl_stages(topo, secured, BROKER_USERS, broker_ids=(1,))
            clusters.append(("zeta", "shared_suffix", stages[1]))
        kedge, certs, _ = start_kedge_in_topology(topo, kedge_binary, clusters, DOMAIN, PORT, cluster_options=options)
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

        # ---- 4b. JSON produce over the WebSocket, read back by librdkafka --------------------------------------------
        lines, detail = ws_client(topo, "json-produce", url, ca, "ws-produce")
        line = lines[-1] if lines else {}
        first, second = line.get("first", {}), line.get("second", {})
        checks.record("JSON produce over the WebSocket: per-record offsets 0-2 then 3-4 (sequence echoed, no errors)",
                      first.get("type") == "produce" and first.get("sequence") == 41
                      and [o.get("offset") for o in first.get("offsets", [])] == [0, 1, 2]
                      and second.get("sequence") == 42 and [o.get("offset") for o in second.get("offsets", [])] == [3, 4]
                      and all(o.get("error_code") == 0 for o in first.get("offsets", []) + second.get("offsets", [])),
                      json.dumps(line) if line else detail)
        lines, detail = ws_client(topo, "consume", bootstrap, ca, "ws-produce", 5)
        got = [(g["key"], g["value"]) for g in (lines[-1].get("records", []) if lines else [])]
        expected = [(b"k-1".hex(), "hello ✓".encode().hex()), (None, b"no key".hex()), (b"k-3".hex(), b"with headers".hex()),
                    (b"\x00\xff".hex(), bytes(range(256)).hex()), (None, "")]
        checks.record("librdkafka consumes the WebSocket-produced records byte-exact", got == expected,
                      f"{got} != {expected}" if got else detail)

        # ---- 5. policy through beta -----------------------------------------------------------------------------
        lines, detail = ws_client(topo, "errors", f"wss://http-beta.{DOMAIN}:{PORT}/kafka", ca, "secret")
        cases = {line.get("case"): line for line in lines}
        denied = cases.get("after_errors", {})
        checks.record("beta's ACLs: ListOffsets of \"secret\" over the WebSocket gets TOPIC_AUTHORIZATION_FAILED (29)",
                      denied.get("kind") == "error_resp" and denied.get("code") == 29, json.dumps(denied) or detail)

        check_rest(topo, checks, ca, bootstrap)
        if MOCK_VERSION == "rdk212":
            # A topic that did not exist a moment ago is found at once (kedge does not cache "does not exist").
            base = f"https://http.{DOMAIN}:{PORT}"
            body = json.dumps({"records": [{"value": "first"}]})
            json_type = "Content-Type: application/vnd.kafka.json.v2+json"
            before, answer, _ = curl(topo, "--cacert", ca, "-H", json_type, "-d", body, f"{base}/topics/born-late")
            mock.command_ok("topic born-late 1")
            after, answer2, _ = curl(topo, "--cacert", ca, "-H", json_type, "-d", body, f"{base}/topics/born-late")
            checks.record("REST produce to a topic before it exists is 404; right after it is created, 200",
                          before == 404 and after == 200, f"{before} {answer}; {after} {answer2}")
        check_identity(topo, checks, ca, signing_key, stranger_key)
        if MOCK_VERSION == "rdk212":
            check_passthrough(topo, checks, ca)
        else:
            checks.skip("passthrough: HTTP Basic credentials go to the brokers as SASL", "needs a broker behind a SASL "
                        "stage, which the 2.0.2 mock cannot advertise (no rd_kafka_mock_broker_set_host_port)")

        # ---- 6. metrics and logs ------------------------------------------------------------------------------------
        text = metrics_text(topo, admin_address(kedge.log_text()))
        opened = metric(text, "kedge_websockets_opened_total", virtual_cluster="alpha")
        fetches = metric(text, "kedge_websocket_commands_total", virtual_cluster="alpha", command="fetch")
        invalid = metric(text, "kedge_websocket_command_errors_total", virtual_cluster="alpha", command="invalid")
        produced = metric(text, "kedge_http_records_produced_total", virtual_cluster="alpha")
        sent = metric(text, "kedge_http_records_sent_total", virtual_cluster="alpha")
        ok_answers = metric(text, "kedge_http_responses_total", virtual_cluster="alpha", code="2xx")
        refused = metric(text, "kedge_http_responses_total", virtual_cluster="epsilon", code="4xx")
        checks.record("/metrics counts the front: WebSockets opened, fetch commands, the malformed message, records "
                      "sent and produced, 2xx answers on alpha and 4xx on epsilon",
                      opened >= 8 and fetches >= 5 * COUNT // 300 and invalid >= 1 and sent >= 5 * COUNT
                      and produced >= 20 and ok_answers >= 10 and refused >= 4,
                      "; ".join(metric_lines(text, "kedge_websockets_opened_total", "kedge_websocket_commands_total",
                                             "kedge_http_records_sent_total", "kedge_http_records_produced_total",
                                             "kedge_http_responses_total", "kedge_websocket_command_errors_total")))
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
