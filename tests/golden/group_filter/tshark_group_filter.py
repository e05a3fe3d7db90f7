#!/usr/bin/python3
"""Cross-check the group filter vectors (tests/golden/group_filter/*.json) with Wireshark's Kafka dissector (tshark).

Each case's frames (response_hex, and the filtered frame when something is denied) each become one TCP
conversation to port 9092 in a pcap (the pcap writer of ../tshark_check.py), answering a ListGroups request of the
case's version (encoded below from ListGroupsRequest.json: StatesFilter v4+, TypesFilter v5+, both empty).
`tshark -d tcp.port==9092,kafka` decodes them, and this fails on:
  * a Malformed Packet, an expert error or a Malformed-group warning in the request or the response;
  * a response tshark did not match to its request;
  * decoded group ids (kafka.consumer_group, wire order) that differ from the frame's logical groups;
  * a decoded top-level error code (kafka.error) that differs from the logical one.
Versions tshark does not know are reported as "unknown to tshark <version>", not failed.

Usage: /usr/bin/python3 tests/golden/group_filter/tshark_group_filter.py [-v] [--keep PCAP]
Standard library only; needs tshark on PATH.
"""

import argparse
import collections
import os
import struct
import sys
import tempfile

FILTER_DIR = os.path.dirname(os.path.abspath(__file__))
GOLDEN_DIR = os.path.dirname(FILTER_DIR)
sys.path.insert(0, GOLDEN_DIR)
sys.path.insert(0, FILTER_DIR)

import generate_group_filter  # noqa: E402
from tshark_check import (  # noqa: E402
    PcapWriter, frame_problems, is_unknown_to_tshark, print_report, run_tshark, tshark_version)

FIELDS = ["frame.number", "kafka.api_key", "kafka.api_version", "kafka.consumer_group", "kafka.error",
          "_ws.expert.message", "_ws.expert.severity", "_ws.malformed", "kafka.unsupported_api_version",
          "kafka.unknown_api_key"]
LIST_GROUPS = 16


def list_groups_request(version, correlation_id):
    """ListGroupsRequest: header v1 (v2 from v3: then a tag buffer), StatesFilter [] v4+, TypesFilter [] v5+."""
    flexible = version >= generate_group_filter.FLEXIBLE_FROM
    client_id = b"kedge-golden"
    header = struct.pack(">hhih", LIST_GROUPS, version, correlation_id, len(client_id)) + client_id
    body = b""
    if version >= 4:
        body += b"\x01"  # StatesFilter: compact array, empty
    if version >= 5:
        body += b"\x01"  # TypesFilter: compact array, empty
    if flexible:
        header += b"\x00"
        body += b"\x00"
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", metavar="PCAP", help="keep the generated pcap at this path")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    failures = []
    pcap = PcapWriter()
    checks = []
    port = 21000
    for case in generate_group_filter.all_cases():
        path = os.path.join(FILTER_DIR, case.file_name)
        with open(path, encoding="utf-8") as f:
            if f.read() != case.to_json():
                failures.append("%s: differs from generate_group_filter.py output (run it)" % case.file_name)
                continue
        request = list_groups_request(case.version, generate_group_filter.CORRELATION_ID)
        denied = set(case.denied)
        frames = [("response", case.body)]
        if any(g["GroupId"] in denied for g in case.body["Groups"]):
            frames.append(("filtered", generate_group_filter.filtered(case.body, denied)))
        for label, body in frames:
            response = generate_group_filter.response_frame(case.version, body, case.header_tags)
            frame = pcap.conversation(port, request, response)
            port += 1
            checks.append(("%s %s" % (case.file_name, label), case.version, body, frame))

    version = tshark_version()
    with tempfile.TemporaryDirectory(prefix="kedge-tshark-group-filter-") as tmp:
        pcap_path = args.keep or os.path.join(tmp, "group_filter.pcap")
        pcap.write(pcap_path)
        layers = run_tshark(pcap_path, FIELDS)

    table = collections.OrderedDict()
    tolerated = collections.Counter()
    for name, api_version, body, frame in checks:
        layer, request_layer = layers.get(frame, {}), layers.get(frame - 1, {})
        if is_unknown_to_tshark(request_layer):
            status = "unknown to tshark %s" % version
        else:
            problems = (frame_problems(request_layer, "request", set(), tolerated)
                        + frame_problems(layer, "response", set(), tolerated))
            if layer.get("kafka.api_key", [None])[0] != str(LIST_GROUPS):
                problems.append("tshark did not match the response to its request")
            groups = [g["GroupId"] for g in body["Groups"]]
            if layer.get("kafka.consumer_group", []) != groups:
                problems.append("group ids: tshark %r, golden %r" % (layer.get("kafka.consumer_group"), groups))
            decoded_errors = [int(e) for e in layer.get("kafka.error", [])]
            if decoded_errors != [body["ErrorCode"]]:
                problems.append("error codes: tshark %r, golden %r" % (decoded_errors, [body["ErrorCode"]]))
            if problems:
                failures.append("%s frame %d: %s" % (name, frame, "; ".join(problems)))
                status = "FAIL"
            else:
                status = "decoded clean, group ids and error code match"
        table.setdefault((LIST_GROUPS, api_version), collections.Counter())[status] += 1
        if args.verbose:
            print("%-60s frame %-5d %s" % (name, frame, status))

    print("tshark %s, %d frames" % (version, len(checks)))
    return print_report(version, table, tolerated, failures, {LIST_GROUPS: "ListGroups"}, "frames", "bug", 6)


if __name__ == "__main__":
    sys.exit(main())
