#!/usr/bin/python3
"""Captures RECORDS blobs written by librdkafka (an implementation independent of kedge) as golden vectors.

For each compression codec: a librdkafka producer (python3-confluent-kafka run against librdkafka 2.12 through
LD_LIBRARY_PATH) writes known records (keys, values, headers, explicit create timestamps, a null key, a null value)
to a librdkafka 2.12 mock cluster (tests/integration/mock_cluster.c built as mock_cluster_rdk212), in two batches.
Raw Fetch v4 requests over a plain socket (this file, standard library only, no Kafka client) read the
partition back (the mock answers one batch per Fetch, so one Fetch per batch), and the RECORDS bytes are saved as `records_hex` with the records the producer was
given as `expected` (not what kedge decodes): <codec>.librdkafka.json.
`gzip.truncated.json` is the gzip capture cut inside its second batch, as a broker cuts the last batch at the
fetch size: one batch decoded, `truncated` true.

Usage (from the repository root; needs the integration build's mock cluster and the librdkafka 2.12 build):
  LD_LIBRARY_PATH=third_party/node-rdkafka/node_modules/node-rdkafka/build/deps \\
    /usr/bin/python3 tests/golden/records/generate_records.py --mock build/tests/integration/mock_cluster_rdk212
The captures hold broker-independent bytes only (the mock stores batches as produced and assigns base offsets),
so reruns give the same records and expectations; the compressed bytes may differ between librdkafka releases.
"""
import argparse
import json
import os
import socket
import struct
import subprocess
import sys
from pathlib import Path

import confluent_kafka

HERE = Path(__file__).resolve().parent
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
BASE_TS = 1700000000000


def records_to_produce():
    """Two batches of known records: what every codec's topic receives, and what the decoder must return."""
    first = [
        {"key": "key-0", "value": "value-0", "timestamp": BASE_TS, "headers": [["trace-id", "abc"], ["empty", None]]},
        {"key": None, "value": "no key", "timestamp": BASE_TS + 5, "headers": []},
        {"key": "tombstone", "value": None, "timestamp": BASE_TS - 1000, "headers": []},  # earlier: negative delta
        {"key": "big", "value": "kafka " * 3000, "timestamp": BASE_TS + 7, "headers": [["h", ""]]},
    ]
    # Compressible on purpose: librdkafka sends a batch uncompressed when compressing would not shrink it.
    second = [{"key": f"k{i}", "value": f"v{i}-" * (40 + i), "timestamp": BASE_TS + 100 + i, "headers": []}
              for i in range(5)]
    return [first, second]


def produce_elsewhere(bootstrap, topic, codec):
    """zstd: the librdkafka 2.12 build node-rdkafka makes has no libzstd, so this codec is produced by Debian's
    librdkafka (2.0.2, built with zstd) in a child process without the 2.12 LD_LIBRARY_PATH."""
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    out = subprocess.run([sys.executable, __file__, "--produce-only", bootstrap, topic, codec], env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def produce(bootstrap, topic, codec, batches):
    producer = confluent_kafka.Producer({
        "bootstrap.servers": bootstrap, "compression.codec": codec, "linger.ms": 200,
        "enable.idempotence": False, "acks": "all"})
    errors = []
    for batch in batches:
        for r in batch:
            producer.produce(topic, partition=0,
                             key=None if r["key"] is None else r["key"].encode(),
                             value=None if r["value"] is None else r["value"].encode(),
                             timestamp=r["timestamp"],
                             headers=[(k, None if v is None else v.encode()) for k, v in r["headers"]] or None,
                             on_delivery=lambda err, msg: errors.append(err) if err else None)
        producer.flush(10)  # one batch per flush
    if errors:
        sys.exit(f"produce to {topic} failed: {errors}")


def fetch_all(bootstrap, topic):
    """Every batch of partition 0: the mock answers a Fetch with one batch, so fetch again after each one
    (next offset = BaseOffset + LastOffsetDelta + 1, bytes 0 and 23 of a v2 batch) and concatenate."""
    blob, offset = b"", 0
    while True:
        part = fetch_records(bootstrap, topic, offset)
        if not part:
            return blob
        for start in batch_starts(part):
            offset = struct.unpack_from(">q", part, start)[0] + struct.unpack_from(">i", part, start + 23)[0] + 1
        blob += part


def fetch_records(bootstrap, topic, offset):
    """Fetch v4 (non-flexible) of partition 0 from `offset`; returns the partition's RECORDS bytes."""
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    name = topic.encode()
    client = b"kedge-golden"
    body = struct.pack(">iiiib", -1, 100, 0, 16 << 20, 0)
    body += struct.pack(">i", 1) + struct.pack(">h", len(name)) + name
    body += struct.pack(">i", 1) + struct.pack(">iqi", 0, offset, 16 << 20)
    header = struct.pack(">hhi", 1, 4, 0x5eed) + struct.pack(">h", len(client)) + client
    frame = header + body
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", recv_exact(sock, 4))[0]
        data = recv_exact(sock, size)
    pos = 0

    def take(fmt):
        nonlocal pos
        values = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return values

    (corr,) = take(">i")
    assert corr == 0x5eed
    take(">i")  # throttle
    (topics,) = take(">i")
    assert topics == 1
    (n,) = take(">h")
    assert data[pos:pos + n] == name
    pos += n
    (partitions,) = take(">i")
    assert partitions == 1
    _, error, _, _ = take(">ihqq")
    assert error == 0, f"fetch error {error}"
    (aborted,) = take(">i")
    pos += max(aborted, 0) * 16
    (length,) = take(">i")
    return data[pos:pos + length]


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            sys.exit("broker closed the connection")
        out += chunk
    return out


def batch_starts(blob):
    """Offsets of the batches in a blob, from the BatchLength fields alone (Kafka docs: size = length + 12)."""
    starts, pos = [], 0
    while pos + 12 <= len(blob):
        starts.append(pos)
        pos += 12 + struct.unpack_from(">i", blob, pos + 8)[0]
    return starts


def expected_batches(codec, batches):
    out, offset = [], 0
    for batch in batches:
        records = []
        for r in batch:
            records.append({"offset": offset, "timestamp": r["timestamp"], "key": r["key"], "value": r["value"],
                            "headers": r["headers"]})
            offset += 1
        out.append({"base_offset": records[0]["offset"], "compression": codec, "producer_id": -1, "control": False,
                    "records": records})
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mock", help="mock_cluster_rdk212 binary")
    parser.add_argument("--produce-only", nargs=3, metavar=("BOOTSTRAP", "TOPIC", "CODEC"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.produce_only:
        produce(*args.produce_only, records_to_produce())
        print(confluent_kafka.libversion()[0])
        return
    if not args.mock:
        parser.error("--mock is required")
    topics = ",".join(f"records-{c}:1:1" for c in CODECS)
    mock = subprocess.Popen([args.mock, "--brokers", "1", "--topic", topics], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = mock.stdout.readline().split()
        assert line and line[0] == "BOOTSTRAP", line
        bootstrap = line[1]
        batches = records_to_produce()
        for codec in CODECS:
            topic = f"records-{codec}"
            try:
                confluent_kafka.Producer({"compression.codec": codec})
                produce(bootstrap, topic, codec, batches)
                version = confluent_kafka.libversion()[0]
            except confluent_kafka.KafkaException:
                version = produce_elsewhere(bootstrap, topic, codec)
            blob = fetch_all(bootstrap, topic)
            starts = batch_starts(blob)
            assert len(starts) == 2, f"{codec}: expected 2 batches, got {len(starts)}"
            doc = {
                "description": f"two record batches, compression {codec}, written by librdkafka {version} "
                               f"(python3-confluent-kafka) to a librdkafka mock cluster, read back by a raw Fetch v4",
                "produced_by": f"librdkafka {version}",
                "records_hex": blob.hex(),
                "expected": {"errc": "ok", "truncated": False, "batches": expected_batches(codec, batches)},
            }
            (HERE / f"{codec}.librdkafka.json").write_text(json.dumps(doc, indent=1) + "\n")
            if codec == "gzip":
                cut = blob[:starts[1] + (len(blob) - starts[1]) // 2]
                truncated = dict(doc, description="the gzip capture cut inside its second batch, as a broker cuts "
                                 "the last batch of a Fetch at the fetch size: the first batch, then truncated",
                                 records_hex=cut.hex(),
                                 expected={"errc": "ok", "truncated": True,
                                           "batches": expected_batches(codec, batches)[:1]})
                (HERE / "gzip.truncated.json").write_text(json.dumps(truncated, indent=1) + "\n")
            print(f"{codec}: {len(blob)} bytes, batches at {starts}")
    finally:
        mock.stdin.close()
        mock.wait(10)


if __name__ == "__main__":
    main()
