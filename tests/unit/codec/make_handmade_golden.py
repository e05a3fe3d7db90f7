#!/usr/bin/python3
"""Writes a few hand-built golden vectors (tests/golden/*.handmade.json) in the
GOLDEN_FORMAT.md format. The encoder below is written by hand from
kafka-protocol.md and shares no code with the C++ engine, so the vectors check it
independently. The full set comes from the separate spec-driven generator.

Usage: /usr/bin/python3 make_handmade_golden.py <tests/golden folder>
"""
import json
import struct
import sys
from pathlib import Path

CORR = 0x11223344
ADV = {"host_template": "broker-{id}.kafka.example.com", "port": 9092}


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)


def uvarint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def s(v):  # STRING / NULLABLE_STRING
    return i16(-1) if v is None else i16(len(v)) + v.encode()


def cs(v):  # COMPACT_(NULLABLE_)STRING
    return uvarint(0) if v is None else uvarint(len(v) + 1) + v.encode()


def arr(items): return i32(len(items)) + b"".join(items)
def carr(items): return uvarint(len(items) + 1) + b"".join(items)


def tags(fields):  # [(tag, bytes)]
    return uvarint(len(fields)) + b"".join(uvarint(t) + uvarint(len(v)) + v for t, v in fields)


def frame(header, body):
    payload = header + body
    return i32(len(payload)) + payload


def adv(node): return ADV["host_template"].replace("{id}", str(node))


def case(name, key, ver, desc, build, endpoints):
    """build(host_of(node, real_host), port_of(real_port)) -> frame bytes."""
    response = build(lambda n, h: h, lambda p: p)
    expected = build(lambda n, h: adv(n) if n >= 0 else h, lambda p, n=None: ADV["port"])
    return name, {
        "api_key": key, "api_version": ver, "description": desc, "advertised": ADV,
        "response_hex": response.hex(), "expected_hex": expected.hex(),
        "endpoints": [{"node_id": n, "host": h, "port": p} for n, h, p in endpoints],
    }


def metadata_v1(H, P):
    brokers = [i32(1) + s(H(1, "10.0.0.1")) + i32(P(19092)) + s(None),
               i32(2) + s(H(2, "10.0.0.2")) + i32(P(19093)) + s("rack-b")]
    part = i16(0) + i32(0) + i32(1) + arr([i32(1), i32(2)]) + arr([i32(1)])
    topics = [i16(0) + s("orders") + i8(0) + arr([part])]
    return frame(i32(CORR), arr(brokers) + i32(1) + arr(topics))


def metadata_v12(H, P):
    brokers = [i32(0) + cs(H(0, "ip-10-0-0-10.ec2.internal")) + i32(P(9092)) + cs(None) + tags([]),
               i32(7) + cs(H(7, "b7")) + i32(P(9094)) + cs("az-2") + tags([(42, b"\x01\x02")])]
    part = (i16(0) + i32(0) + i32(7) + i32(3) + carr([i32(7), i32(0)]) + carr([i32(7)]) +
            carr([]) + tags([]))
    topics = [i16(0) + cs("events") + bytes(range(16)) + i8(0) + carr([part]) + i32(-2147483648) + tags([])]
    body = i32(0) + carr(brokers) + cs("cluster-x") + i32(7) + carr(topics) + tags([])
    return frame(i32(CORR) + tags([]), body)


def find_coordinator_v4(H, P):
    coords = [cs("group-a") + i32(3) + cs(H(3, "10.9.9.3")) + i32(P(29092)) + i16(0) + cs(None) + tags([]),
              cs("group-b") + i32(-1) + cs(H(-1, "")) + i32(-1) + i16(15) + cs("not available") + tags([])]
    return frame(i32(CORR) + tags([]), i32(0) + carr(coords) + tags([]))


def find_coordinator_v2(H, P):
    body = i32(0) + i16(0) + s(None) + i32(5) + s(H(5, "coord.internal")) + i32(P(9095))
    return frame(i32(CORR), body)


def describe_cluster_v1(H, P):
    brokers = [i32(1) + cs(H(1, "kafka-1.svc")) + i32(P(9092)) + cs(None) + tags([]),
               i32(2) + cs(H(2, "kafka-2.svc")) + i32(P(9092)) + cs("r2") + tags([])]
    body = (i32(0) + i16(0) + cs(None) + i8(1) + cs("cid") + i32(1) + carr(brokers) +
            i32(-2147483648) + tags([]))
    return frame(i32(CORR) + tags([]), body)


def produce_v10(H, P):
    leader = i32(4) + i32(12) + tags([])
    part = (i32(0) + i16(6) + i64(-1) + i64(-1) + i64(-1) + carr([]) + cs(None) + tags([(0, leader)]))
    responses = carr([cs("payments") + carr([part]) + tags([])])
    endpoints = carr([i32(4) + cs(H(4, "10.0.0.44")) + i32(P(9092)) + cs(None) + tags([])])
    return frame(i32(CORR) + tags([]), responses + i32(0) + tags([(0, endpoints)]))


def fetch_v16(H, P):
    records = bytes([0xAB] * 70)  # opaque blob: never decoded
    part_ok = (i32(0) + i16(0) + i64(100) + i64(100) + i64(0) + carr([]) + i32(-1) +
               uvarint(len(records) + 1) + records + tags([]))
    part_moved = (i32(1) + i16(6) + i64(-1) + i64(-1) + i64(-1) + uvarint(0) + i32(-1) + uvarint(0) +
                  tags([(1, i32(9) + i32(3) + tags([]))]))
    responses = carr([bytes(range(16)) + carr([part_ok, part_moved]) + tags([])])
    endpoints = carr([i32(9) + cs(H(9, "broker9.dc1.example.net")) + i32(P(19092)) + cs("rack-9") + tags([])])
    body = i32(0) + i16(0) + i32(12345) + responses + tags([(0, endpoints)])
    return frame(i32(CORR) + tags([]), body)


def api_versions_v3(clamped):
    def entry(k, lo, hi): return i16(k) + i16(lo) + i16(hi) + tags([])
    entries = [entry(0, 0, 13), entry(1, 4, 19 if not clamped else 18), entry(3, 0, 13)]
    if not clamped:
        entries.append(entry(52, 0, 2))
    entries += [entry(18, 0, 5 if not clamped else 4), entry(55, 0, 2 if not clamped else 1),
                entry(10000, 0, 1)]
    features = carr([cs("metadata.version") + i16(1) + i16(27) + tags([])])
    return frame(i32(CORR), i16(0) + carr(entries) + i32(0) + tags([(0, features), (1, i64(5))]))


def main():
    out = Path(sys.argv[1])
    cases = [
        case("metadata.v1.handmade", 3, 1, "Metadata v1, 2 brokers (null rack), one topic", metadata_v1,
             [(1, "10.0.0.1", 19092), (2, "10.0.0.2", 19093)]),
        case("metadata.v12.handmade", 3, 12, "Metadata v12 flexible, unknown broker tag, topic id", metadata_v12,
             [(0, "ip-10-0-0-10.ec2.internal", 9092), (7, "b7", 9094)]),
        case("find_coordinator.v2.handmade", 10, 2, "FindCoordinator v2 single form", find_coordinator_v2,
             [(5, "coord.internal", 9095)]),
        case("find_coordinator.v4.error_entry.handmade", 10, 4, "FindCoordinator v4, one error entry",
             find_coordinator_v4, [(3, "10.9.9.3", 29092)]),
        case("describe_cluster.v1.handmade", 60, 1, "DescribeCluster v1", describe_cluster_v1,
             [(1, "kafka-1.svc", 9092), (2, "kafka-2.svc", 9092)]),
        case("produce.v10.node_endpoints.handmade", 0, 10, "Produce v10 NOT_LEADER with NodeEndpoints tag",
             produce_v10, [(4, "10.0.0.44", 9092)]),
        case("fetch.v16.node_endpoints.handmade", 1, 16, "Fetch v16 records blob + NodeEndpoints tag",
             fetch_v16, [(9, "broker9.dc1.example.net", 19092)]),
    ]
    cases.append(("api_versions.v3.handmade", {
        "api_key": 18, "api_version": 3, "description": "ApiVersions v3 clamp: lower Fetch/ApiVersions/"
        "DescribeQuorum, remove Vote, keep vendor key", "advertised": ADV,
        "response_hex": api_versions_v3(False).hex(), "expected_hex": api_versions_v3(True).hex(),
        "endpoints": []}))
    for name, data in cases:
        (out / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
