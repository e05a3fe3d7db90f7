#!/usr/bin/python3
"""Turns the golden vectors (tests/golden/*.json) into per-target libFuzzer seed
corpora: <out>/<target>/<case>.bin.

Input layouts (see the fuzz sources):
  fuzz_rewrite_<api>     version byte (index into the schema's version range) + frame body
  fuzz_response_stream   n-1, n x {api key index, version}, chunk byte, stream of frames
  fuzz_fetch_stream      version byte (16 + b % 3), chunk byte, Fetch v16-18 frame body (no size prefix)
  fuzz_request_tracker   chunk byte + request stream (hand-built requests below)
  fuzz_client_hello      tests/data/client_hello/*.bin as they are
  fuzz_proxy_header      tests/data/proxy_header/*.bin, alone and followed by a ClientHello prefix
  fuzz_jwt, fuzz_oauthbearer, fuzz_principal_rules   identity_seeds.py

Usage: /usr/bin/python3 tests/fuzz/seed_corpus.py <output folder>
"""
import hashlib
import json
import struct
import sys
from pathlib import Path

import identity_seeds

ROOT = Path(__file__).resolve().parents[2]
# api key -> (target suffix, lowest version in kafka_codec/schema.cpp)
REWRITERS = {3: ("metadata", 0), 10: ("find_coordinator", 0), 60: ("describe_cluster", 0),
             18: ("api_versions", 0), 0: ("produce", 3), 1: ("fetch", 4),
             78: ("share_fetch", 1), 79: ("share_acknowledge", 1), 55: ("describe_quorum", 0)}
# Must match kKeys in fuzz_response_stream.cpp.
STREAM_KEYS = [0, 1, 3, 10, 18, 55, 60, 78, 79, 12, 2, 17, 36]


def write(out: Path, target: str, data: bytes):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (hashlib.sha1(data).hexdigest()[:16] + ".bin")).write_bytes(data)


def request(key, version, corr, client, body=b"", tags=None):
    header = struct.pack(">hhi", key, version, corr) + struct.pack(">h", len(client)) + client.encode()
    if tags is not None:
        header += bytes([len(tags)]) + b"".join(bytes([t, len(v)]) + v for t, v in tags)
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def main():
    out = Path(sys.argv[1])
    golden = sorted((ROOT / "tests" / "golden").glob("*.json"))
    frames = []
    for path in golden:
        case = json.loads(path.read_text())
        key, version = case["api_key"], case["api_version"]
        frame = bytes.fromhex(case["response_hex"])
        if key in REWRITERS:
            name, lowest = REWRITERS[key]
            write(out, f"fuzz_rewrite_{name}", bytes([version - lowest]) + frame[4:])
        if key == 1 and 16 <= version <= 18:
            for chunk in (0, 6, 63):
                write(out, "fuzz_fetch_stream", bytes([version - 16, chunk]) + frame[4:])
        if key in STREAM_KEYS:
            frames.append((STREAM_KEYS.index(key), version, frame))
    for i, (key_index, version, frame) in enumerate(frames):
        write(out, "fuzz_response_stream", bytes([0, key_index, version, 7]) + frame)
        if i + 1 < len(frames):  # two frames back to back
            k2, v2, f2 = frames[i + 1]
            write(out, "fuzz_response_stream", bytes([1, key_index, version, k2, v2, 3]) + frame + f2)

    requests = [
        request(3, 12, 1, "c", b"\x01\x00\x00\x00", tags=[(0, b"ab")]),
        request(18, 3, 2, "kcat", b"\x05kcat\x041.0\x00", tags=[]),
        request(0, 3, 3, "p", struct.pack(">hhi", -1, 0, 1000) + b"\x00\x00\x00\x00"),
        request(0, 9, 4, "p", b"\x04txn" + struct.pack(">hi", 1, 1000) + b"\x01\x00", tags=[]),
        request(17, 1, 5, "s", struct.pack(">h", 5) + b"PLAIN"),
        request(10, 2, 6, "g", struct.pack(">h", 1) + b"g\x00"),
    ]
    for chunk in (0, 2, 63):
        write(out, "fuzz_request_tracker", bytes([chunk]) + b"".join(requests))
    for r in requests:
        write(out, "fuzz_request_tracker", bytes([0]) + r)

    for capture in sorted((ROOT / "tests" / "data" / "client_hello").glob("*.bin")):
        write(out, "fuzz_client_hello", capture.read_bytes())
    # PROXY headers captured from HAProxy, alone and followed by a ClientHello.
    hello = (ROOT / "tests" / "data" / "client_hello" / "python-ssl.bin").read_bytes()
    for capture in sorted((ROOT / "tests" / "data" / "proxy_header").glob("*.bin")):
        write(out, "fuzz_proxy_header", capture.read_bytes())
        write(out, "fuzz_proxy_header", capture.read_bytes() + hello[:64])
    write(out, "fuzz_proxy_header", b"PROXY UNKNOWN\r\n")
    identity_seeds.write_all(lambda target, data: write(out, target, data))
    (out / "common").mkdir(parents=True, exist_ok=True)
    print(f"seed corpora from {len(golden)} golden vectors in {out}")


if __name__ == "__main__":
    main()
