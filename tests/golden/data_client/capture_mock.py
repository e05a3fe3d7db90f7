#!/usr/bin/python3
"""Captures real responses of librdkafka's mock cluster to kedge's data-client requests, for the C++ decoders.

Starts tests/integration/mock_cluster (one broker, topic `orders` with 2 partitions), asks ApiVersions v0 for the
ranges the mock serves, then, at every version both the mock and kedge support (data_client.h ranges): Metadata for
`orders`, Produce of one record batch to orders-0, then ListOffsets (latest) and Fetch (from offset 0) of orders-0;
then, for the group GROUP: FindCoordinator, OffsetCommit of orders-0 (as no member, one commit per version), and
OffsetFetch of orders-0 (the last commit) and orders-1 (nothing committed).
The requests are encoded by generate_data_client.py's encoder, never by kafka_codec. Each exchange is written to
captures/<api>_response.v<N>.<library>.json with the response frame and the facts the capture knows independently of
any decoder (`expected`, compared as a subset: fields the mock chooses freely, such as leader epochs, are left out).

Usage: /usr/bin/python3 tests/golden/data_client/capture_mock.py build/tests/integration/mock_cluster_rdk20
"""

import json
import os
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from generate_data_client import (  # noqa: E402
    APIS, CLIENT_ID, FETCH_REQUEST, FIND_COORDINATOR_REQUEST, GROUP, LIST_OFFSETS_REQUEST, METADATA_REQUEST,
    OFFSET_COMMIT_REQUEST, OFFSET_FETCH_REQUEST, PRODUCE_REQUEST, ZERO_UUID,
    EncodeContext, encode_struct, flexible, group_by_topic, record_batch)
from generate import enc_int16, enc_int32, enc_string, enc_tag_buffer  # noqa: E402

# Answers a mock sends that do not follow the spec. "refused": kedge must not read it (a field is missing, so every
# later one would be read from the wrong bytes). "trailing_bytes": bytes after the last field, which kedge tolerates
# as Kafka's own readers do (engine.h), so only cuts before them must be refused.
KNOWN_DEVIATIONS = {
    ("librdkafka_2_0_2", "produce", 5): {
        "refused": "the mock leaves out LogStartOffset (ProduceResponse.json: versions 5+): the v5 frame has v4's "
                   "46 bytes; v6 carries it"},
    ("librdkafka_2_0_2", "list_offsets", 4): {
        "trailing_bytes": 4, "why": "the mock writes LeaderEpoch (int32, versions 4+) as an int64: its first 4 "
                                    "bytes read as the epoch (-1), 4 bytes are left after the last field"},
    ("librdkafka_2_0_2", "list_offsets", 5): {
        "trailing_bytes": 4, "why": "as at v4: LeaderEpoch written as an int64"},
}

BATCH = record_batch(0, 1767225600000, [(0, b"k1", b"captured-1", []), (1, None, b"captured-2", [("h", b"v")]),
                                        (2, b"k3", b"captured-3", [])])


class Connection:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.correlation = 0

    def exchange(self, api_key, version, body, flexible_request):
        self.correlation += 1
        header = enc_int16(api_key) + enc_int16(version) + enc_int32(self.correlation) + enc_string(CLIENT_ID, False)
        if flexible_request:
            header += enc_tag_buffer([])
        request = enc_int32(len(header) + len(body)) + header + body
        self.sock.sendall(request)
        size = struct.unpack(">i", self.recv(4))[0]
        frame = struct.pack(">i", size) + self.recv(size)
        assert struct.unpack(">i", frame[4:8])[0] == self.correlation
        return request, frame

    def recv(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise EOFError("mock closed the connection")
            out += chunk
        return out


def api_versions(conn):
    _, frame = conn.exchange(18, 0, b"", False)
    body = frame[8:]
    error, count = struct.unpack(">hi", body[:6])
    assert error == 0, error
    ranges = {}
    for i in range(count):
        key, lo, hi = struct.unpack(">hhh", body[6 + 6 * i:12 + 6 * i])
        ranges[key] = (lo, hi)
    return ranges


def body(api, version, schema, message):
    return encode_struct(schema, message, EncodeContext(version, flexible(api, version)))


def main(argv):
    mock = argv[1]
    library = "librdkafka_" + subprocess.run(
        ["pkg-config", "--modversion", "rdkafka"], capture_output=True, text=True).stdout.strip().replace(".", "_") \
        if "rdk20" in mock else "librdkafka_" + os.path.basename(mock).split("_")[-1]
    proc = subprocess.Popen([mock, "--brokers", "1", "--topic", "orders:2:1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line and line[0] == "BOOTSTRAP", line
        host, port = line[1].split(",")[0].rsplit(":", 1)
        conn = Connection(host, int(port))
        served = api_versions(conn)
        out_dir = os.path.join(HERE, "captures")
        os.makedirs(out_dir, exist_ok=True)

        def versions(api):
            key, ours, _ = APIS[api]
            lo, hi = served.get(key, (1, 0))
            return [v for v in ours if lo <= v <= hi]

        def save(api, version, request, frame, expected, query=None, what=""):
            doc = {"kind": "response", "api_key": APIS[api][0], "api_version": version,
                   "description": "%s v%d answered by %s's mock cluster%s" % (api, version, library, what),
                   "request_hex": request.hex(), "response_hex": frame.hex()}
            if query is not None:
                doc["query"] = query
            deviation = KNOWN_DEVIATIONS.get((library, api, version))
            if deviation is not None:
                doc["deviation"] = deviation
                if "refused" in deviation:
                    expected = {"decodes": False}
            doc["expected"] = expected
            name = "%s_response.v%d.%s.json" % (api, version, library)
            with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="\n") as f:
                f.write(json.dumps(doc, indent=2) + "\n")
            print("captured", name)

        for v in versions("metadata"):
            message = {"Topics": [{"TopicId": ZERO_UUID, "Name": "orders"}], "AllowAutoTopicCreation": False,
                       "IncludeClusterAuthorizedOperations": False, "IncludeTopicAuthorizedOperations": False}
            request, frame = conn.exchange(3, v, body("metadata", v, METADATA_REQUEST, message), flexible("metadata", v))
            save("metadata", v, request, frame, {
                "brokers": [{"node_id": 1, "host": host, "port": int(port)}],
                "topics": [{"error_code": 0, "name": "orders", "partitions": [
                    {"partition": 0, "error_code": 0, "leader_id": 1},
                    {"partition": 1, "error_code": 0, "leader_id": 1}]}]}, what=" (topics: orders)")

        produced = 0
        for v in versions("produce"):
            message = {"TransactionalId": None, "Acks": -1, "TimeoutMs": 5000,
                       "TopicData": [{"Name": "orders", "PartitionData": [{"Index": 0, "Records": BATCH}]}]}
            request, frame = conn.exchange(0, v, body("produce", v, PRODUCE_REQUEST, message), flexible("produce", v))
            save("produce", v, request, frame, {"partitions": [
                {"topic": "orders", "partition": 0, "error_code": 0, "base_offset": produced}]},
                what=" (3 records to orders-0, acks -1)")
            produced += 3

        for v in versions("list_offsets"):
            message = {"ReplicaId": -1, "IsolationLevel": 0, "TimeoutMs": 30000, "Topics": [
                {"Name": "orders", "Partitions": [{"PartitionIndex": 0, "CurrentLeaderEpoch": -1, "Timestamp": -1,
                                                   "MaxNumOffsets": 1}]}]}
            request, frame = conn.exchange(2, v, body("list_offsets", v, LIST_OFFSETS_REQUEST, message),
                                           flexible("list_offsets", v))
            save("list_offsets", v, request, frame, {"found": True, "error_code": 0, "timestamp": -1, "offset": produced,
                                                     **({"leader_epoch": -1} if v >= 4 else {})},
                 query={"topic": "orders", "partition": 0}, what=" (latest offset of orders-0)")

        for v in versions("fetch"):
            parts = [{"topic": "orders", "partition": 0}]
            topics = [{"Topic": t, "TopicId": ZERO_UUID, "Partitions": [
                {"Partition": 0, "CurrentLeaderEpoch": -1, "FetchOffset": 0, "LastFetchedEpoch": -1,
                 "LogStartOffset": -1, "PartitionMaxBytes": 1 << 20} for _ in ps]} for t, ps in group_by_topic(parts)]
            message = {"ReplicaId": -1, "MaxWaitMs": 100, "MinBytes": 1, "MaxBytes": 1 << 20, "IsolationLevel": 0,
                       "SessionId": 0, "SessionEpoch": -1, "Topics": topics, "ForgottenTopicsData": [], "RackId": ""}
            request, frame = conn.exchange(1, v, body("fetch", v, FETCH_REQUEST, message), flexible("fetch", v))
            save("fetch", v, request, frame, {"error_code": 0, "partitions": [
                {"topic": "orders", "partition": 0, "error_code": 0, "high_watermark": produced,
                 # The broker assigns each batch's base offset and leader epoch (bytes 0-7, 12-15); from the magic
                 # byte on (CRC-32C covers bytes 21..) the first batch is the one produced.
                 "first_batch_from_magic_hex": BATCH[16:].hex()}]}, what=" (orders-0 from offset 0)")

        for v in versions("find_coordinator"):
            message = {"Key": GROUP, "KeyType": 0, "CoordinatorKeys": [GROUP]}
            request, frame = conn.exchange(10, v, body("find_coordinator", v, FIND_COORDINATOR_REQUEST, message),
                                           flexible("find_coordinator", v))
            save("find_coordinator", v, request, frame, {"found": True, "error_code": 0, "node_id": 1, "host": host,
                                                         "port": int(port)},
                 query={"group": GROUP}, what=" (group %s)" % GROUP)

        committed = None
        for v in versions("offset_commit"):
            committed = (100 + v, "rest:v%d" % v)
            message = {"GroupId": GROUP, "GenerationIdOrMemberEpoch": -1, "MemberId": "", "GroupInstanceId": None,
                       "RetentionTimeMs": -1, "Topics": [{"Name": "orders", "Partitions": [
                           {"PartitionIndex": 0, "CommittedOffset": committed[0], "CommittedLeaderEpoch": -1,
                            "CommitTimestamp": -1, "CommittedMetadata": committed[1]}]}]}
            request, frame = conn.exchange(8, v, body("offset_commit", v, OFFSET_COMMIT_REQUEST, message),
                                           flexible("offset_commit", v))
            save("offset_commit", v, request, frame, {"partitions": [
                {"topic": "orders", "partition": 0, "error_code": 0}]},
                what=" (orders-0 at %d, metadata %r, as no member)" % committed)

        for v in versions("offset_fetch") if committed else []:
            topics = [{"Name": "orders", "PartitionIndexes": [0, 1]}]
            message = {"GroupId": GROUP, "Topics": topics, "RequireStable": False,
                       "Groups": [{"GroupId": GROUP, "MemberId": None, "MemberEpoch": -1, "Topics": topics}]}
            request, frame = conn.exchange(9, v, body("offset_fetch", v, OFFSET_FETCH_REQUEST, message),
                                           flexible("offset_fetch", v))
            save("offset_fetch", v, request, frame, {"found": True, "error_code": 0, "offsets": [
                {"topic": "orders", "partition": 0, "offset": committed[0], "metadata": committed[1],
                 "error_code": 0},
                {"topic": "orders", "partition": 1, "offset": -1, "error_code": 0}]},
                query={"group": GROUP}, what=" (orders-0 committed, orders-1 not)")
    finally:
        try:
            proc.stdin.write("quit\n")
            proc.stdin.flush()
            proc.wait(timeout=10)
        except Exception:  # noqa: BLE001  (the mock is gone or stuck: make sure it ends)
            proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
