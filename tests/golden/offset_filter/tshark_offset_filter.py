#!/usr/bin/python3
"""Cross-check the offset filter vectors (tests/golden/offset_filter/*.json) with Wireshark's Kafka dissector (tshark).

Each case's frames (response_hex, and the filtered frame when something is denied: the denied topics left out
when the request asked all, answered TOPIC_AUTHORIZATION_FAILED when it asked by name) each become one TCP
conversation to port 9092 in a pcap (the pcap writer of ../tshark_check.py), answering the case's OffsetFetch
request (request_hex). That request is encoded a second time below, by hand from OffsetFetchRequest.json (asked all:
v0-1 an empty Topics, v2-7 a null Topics, v8+ null Topics per group; asked by name: the topics and partition
indexes the case names; MemberId null and MemberEpoch -1 v9+, RequireStable false v7+), and must equal request_hex.
`tshark -d tcp.port==9092,kafka` decodes them, and this fails on:
  * a Malformed Packet, an expert error or a Malformed-group warning in the request or the response;
  * a response tshark did not match to its request;
  * decoded request topic names and partition indexes (v0-7) that differ from the ones the case names;
  * decoded topic names (kafka.topic_name), partition ids, committed offsets, committed leader epochs (v5+) or
    metadata (a null one shown as "[ Null ]") that differ, in wire order, from the frame's logical message;
  * decoded error codes (kafka.error: every partition's, then the top-level one, v2+) or throttle time (v3+) that
    differ from the logical ones;
  * decoded tagged field numbers (kafka.tagged_field_tag, flexible versions: the response header's, then each
    partition's and topic's, then the body's) that differ from the logical ones.
Versions tshark does not know are reported as "unknown to tshark <version>", not failed (tshark 4.0 decodes
OffsetFetch v0-7; v8-9 are "Unsupported OffsetFetch version").

Usage: /usr/bin/python3 tests/golden/offset_filter/tshark_offset_filter.py [-v] [--keep PCAP]
Standard library only; needs tshark on PATH.
"""

import argparse
import collections
import json
import os
import struct
import sys
import tempfile

FILTER_DIR = os.path.dirname(os.path.abspath(__file__))
GOLDEN_DIR = os.path.dirname(FILTER_DIR)
sys.path.insert(0, GOLDEN_DIR)
sys.path.insert(0, FILTER_DIR)

import generate_offset_filter  # noqa: E402
from generate import UNKNOWN_TAGS  # noqa: E402
from tshark_check import (  # noqa: E402
    PcapWriter, frame_problems, is_unknown_to_tshark, print_report, run_tshark, tshark_version)

FIELDS = ["frame.number", "kafka.api_key", "kafka.api_version", "kafka.topic_name", "kafka.partition_id",
          "kafka.offset", "kafka.leader_epoch", "kafka.metadata", "kafka.error", "kafka.throttle_time",
          "kafka.tagged_field_tag", "_ws.expert.message", "_ws.expert.severity", "_ws.malformed",
          "kafka.unsupported_api_version", "kafka.unknown_api_key"]
OFFSET_FETCH = 9


def offset_fetch_request(version, correlation_id, groups):
    """OffsetFetchRequest for `groups` ([(group id, None: all of its offsets, or [(topic, [partition indexes])])]);
    header v1 (v2 from v6: then a tag buffer)."""
    flexible = version >= generate_offset_filter.FLEXIBLE_FROM
    client_id = b"kedge-golden"
    header = struct.pack(">hhih", OFFSET_FETCH, version, correlation_id, len(client_id)) + client_id

    def uvarint(n):
        out = b""
        while n >= 0x80:
            out += bytes([n & 0x7F | 0x80])
            n >>= 7
        return out + bytes([n])

    def string(text):
        raw = text.encode("utf-8")
        return (uvarint(len(raw) + 1) if flexible else struct.pack(">h", len(raw))) + raw

    def count(n):  # None: null
        if flexible:
            return uvarint(0 if n is None else n + 1)
        return struct.pack(">i", -1 if n is None else n)

    def topics(named):
        if named is None:
            return count(None if version >= 2 else 0)  # null; before v2 Topics is not nullable: []
        out = count(len(named))
        for name, indexes in named:
            out += string(name) + count(len(indexes)) + b"".join(struct.pack(">i", i) for i in indexes)
            out += b"\x00" if flexible else b""      # the topic's tag buffer
        return out

    if version < 8:
        (group_id, named), = groups
        body = string(group_id) + topics(named)
    else:
        body = count(len(groups))
        for group_id, named in groups:
            body += string(group_id)
            if version >= 9:
                body += b"\x00" + struct.pack(">i", -1)   # MemberId null, MemberEpoch -1
            body += topics(named) + b"\x00"             # the group's tag buffer
    if version >= 7:
        body += b"\x00"                               # RequireStable false
    if flexible:
        header += b"\x00"
        body += b"\x00"
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def request_view(groups):
    """What tshark must show of the request: the named topics and partition indexes, in wire order."""
    view = collections.OrderedDict((("kafka.topic_name", []), ("kafka.partition_id", [])))
    for _, named in groups:
        for name, indexes in named or []:
            view["kafka.topic_name"].append(name)
            view["kafka.partition_id"] += [str(i) for i in indexes]
    return view


def tag_numbers(value):
    return ["0x%016x" % tag for tag, _ in sorted(value.get(UNKNOWN_TAGS, []))]


def decoded_view(version, body, header_tags):
    """What tshark must show of the logical response, field by field, in wire order."""
    view = collections.OrderedDict((k, []) for k in ("kafka.topic_name", "kafka.partition_id", "kafka.offset",
                                                      "kafka.leader_epoch", "kafka.metadata", "kafka.error",
                                                      "kafka.throttle_time", "kafka.tagged_field_tag"))
    flexible = version >= generate_offset_filter.FLEXIBLE_FROM
    if flexible:
        view["kafka.tagged_field_tag"] += ["0x%016x" % tag for tag, _ in sorted(header_tags)]
    if version >= 3:
        view["kafka.throttle_time"].append(str(body["ThrottleTimeMs"]))
    for topics in generate_offset_filter.topic_lists(body):
        for topic in topics:
            view["kafka.topic_name"].append(topic["Name"])
            for p in topic["Partitions"]:
                view["kafka.partition_id"].append(str(p["PartitionIndex"]))
                view["kafka.offset"].append(str(p["CommittedOffset"]))
                if version >= 5:
                    view["kafka.leader_epoch"].append(str(p["CommittedLeaderEpoch"]))
                view["kafka.metadata"].append("[ Null ]" if p["Metadata"] is None else p["Metadata"])
                view["kafka.error"].append(str(p["ErrorCode"]))
                view["kafka.tagged_field_tag"] += tag_numbers(p)
            view["kafka.tagged_field_tag"] += tag_numbers(topic)
    if version in generate_offset_filter.TOP_LEVEL_ERROR:
        view["kafka.error"].append(str(body["ErrorCode"]))
    view["kafka.tagged_field_tag"] += tag_numbers(body)
    return view


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", metavar="PCAP", help="keep the generated pcap at this path")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    failures = []
    pcap = PcapWriter()
    checks = []
    port = 22000
    for case in generate_offset_filter.all_cases():
        path = os.path.join(FILTER_DIR, case.file_name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
            if text != case.to_json():
                failures.append("%s: differs from generate_offset_filter.py output (run it)" % case.file_name)
                continue
        request = offset_fetch_request(case.version, generate_offset_filter.CORRELATION_ID, case.request)
        if request.hex() != json.loads(text)["request_hex"]:
            failures.append("%s: request_hex differs from the request encoded here" % case.file_name)
            continue
        frames = [("response", case.body)]
        if case.changed:
            frames.append(("filtered %s" % case.asked,
                           generate_offset_filter.filtered(case.body, set(case.denied), case.asked)))
        for label, body in frames:
            response = generate_offset_filter.response_frame(case.version, body, case.header_tags)
            frame = pcap.conversation(port, request, response)
            port += 1
            checks.append(("%s %s" % (case.file_name, label), case.version, body, case.header_tags, frame,
                           case.request))

    version = tshark_version()
    with tempfile.TemporaryDirectory(prefix="kedge-tshark-offset-filter-") as tmp:
        pcap_path = args.keep or os.path.join(tmp, "offset_filter.pcap")
        pcap.write(pcap_path)
        layers = run_tshark(pcap_path, FIELDS)

    table = collections.OrderedDict()
    tolerated = collections.Counter()
    for name, api_version, body, header_tags, frame, groups in checks:
        layer, request_layer = layers.get(frame, {}), layers.get(frame - 1, {})
        if is_unknown_to_tshark(request_layer):
            status = "unknown to tshark %s" % version
        else:
            problems = (frame_problems(request_layer, "request", set(), tolerated)
                        + frame_problems(layer, "response", set(), tolerated))
            if layer.get("kafka.api_key", [None])[0] != str(OFFSET_FETCH):
                problems.append("tshark did not match the response to its request")
            for field, want in request_view(groups).items():
                got = request_layer.get(field, [])
                if got != want:
                    problems.append("request %s: tshark %r, golden %r" % (field, got[:8], want[:8]))
            for field, want in decoded_view(api_version, body, header_tags).items():
                got = layer.get(field, [])
                if got != want:
                    problems.append("%s: tshark %r, golden %r" % (field, got[:8], want[:8]))
            if problems:
                failures.append("%s frame %d: %s" % (name, frame, "; ".join(problems)))
                status = "FAIL"
            else:
                status = "decoded clean, topics, partitions, errors and tags match"
        table.setdefault((OFFSET_FETCH, api_version), collections.Counter())[status] += 1
        if args.verbose:
            print("%-60s frame %-5d %s" % (name, frame, status))

    print("tshark %s, %d frames" % (version, len(checks)))
    return print_report(version, table, tolerated, failures, {OFFSET_FETCH: "OffsetFetch"}, "frames", "bug", 6)


if __name__ == "__main__":
    sys.exit(main())
