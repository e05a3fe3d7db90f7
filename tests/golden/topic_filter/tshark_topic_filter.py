#!/usr/bin/python3
"""Cross-check the topic filter vectors (tests/golden/topic_filter/*.json) with Wireshark's Kafka dissector (tshark).

Each case's frames (response_hex, and listing_hex / named_hex when something is denied) each become one TCP
conversation to port 9092 in a pcap (the pcap writer of ../tshark_check.py), answering a Metadata request of the
case's version (encoded by ../requests/generate_requests.py). `tshark -d tcp.port==9092,kafka` decodes them, and
this fails on:
  * a Malformed Packet, an expert error or a Malformed-group warning in the request or the response;
  * a response tshark did not match to its request;
  * decoded topic names (kafka.topic_name, wire order) that differ from the frame's logical topics;
  * decoded error codes (kafka.error, wire order: topics and their partitions) that differ from the logical ones.
Versions tshark does not know are reported as "unknown to tshark <version>", not failed.

Usage: /usr/bin/python3 tests/golden/topic_filter/tshark_topic_filter.py [-v] [--keep PCAP]
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
sys.path.insert(0, os.path.join(GOLDEN_DIR, "requests"))

import generate_requests  # noqa: E402
import generate_topic_filter  # noqa: E402
from tshark_check import (  # noqa: E402
    PcapWriter, frame_problems, is_unknown_to_tshark, print_report, run_tshark, tshark_version)

FIELDS = ["frame.number", "kafka.api_key", "kafka.api_version", "kafka.topic_name", "kafka.error",
          "_ws.expert.message", "_ws.expert.severity", "_ws.malformed", "kafka.unsupported_api_version",
          "kafka.unknown_api_key"]


def logical(body):
    names = [t["Name"] for t in body["Topics"] if t["Name"] is not None]
    errors = []
    for t in body["Topics"]:
        errors.append(t["ErrorCode"])
        errors.extend(p["ErrorCode"] for p in t["Partitions"])
    return names, errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", metavar="PCAP", help="keep the generated pcap at this path")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    failures = []
    pcap = PcapWriter()
    checks = []
    port = 20000
    for case in generate_topic_filter.all_cases():
        path = os.path.join(FILTER_DIR, case.file_name)
        with open(path, encoding="utf-8") as f:
            if f.read() != case.to_json():
                failures.append("%s: differs from generate_topic_filter.py output (run it)" % case.file_name)
                continue
        request, _ = generate_requests.encode_request(
            generate_requests.METADATA_API, case.version,
            generate_requests.metadata_body(case.version, [("orders", generate_requests.ZERO_UUID)]))
        # tshark pairs a response with its request by correlation id: the request takes the responses' one.
        request = request[:8] + struct.pack(">i", generate_topic_filter.CORRELATION_ID) + request[12:]
        denied = set(case.denied)
        changed = any(t["Name"] is not None and t["Name"] in denied for t in case.body["Topics"])
        frames = [("response", case.body)]
        if changed:
            frames += [("listing", generate_topic_filter.filtered(case.body, denied, True)),
                       ("named", generate_topic_filter.filtered(case.body, denied, False))]
        for label, body in frames:
            response = generate_topic_filter.response_frame(case.version, body, case.header_tags)
            frame = pcap.conversation(port, request, response)
            port += 1
            checks.append(("%s %s" % (case.file_name, label), case.version, body, frame))

    version = tshark_version()
    with tempfile.TemporaryDirectory(prefix="kedge-tshark-topic-filter-") as tmp:
        pcap_path = args.keep or os.path.join(tmp, "topic_filter.pcap")
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
            if layer.get("kafka.api_key", [None])[0] != "3":
                problems.append("tshark did not match the response to its request")
            names, errors = logical(body)
            if layer.get("kafka.topic_name", []) != names:
                problems.append("topic names: tshark %r, golden %r" % (layer.get("kafka.topic_name"), names))
            decoded_errors = [int(e) for e in layer.get("kafka.error", [])]
            if decoded_errors != errors:
                problems.append("error codes: tshark %r, golden %r" % (decoded_errors, errors))
            if problems:
                failures.append("%s frame %d: %s" % (name, frame, "; ".join(problems)))
                status = "FAIL"
            else:
                status = "decoded clean, names and error codes match"
        table.setdefault((3, api_version), collections.Counter())[status] += 1
        if args.verbose:
            print("%-60s frame %-5d %s" % (name, frame, status))

    print("tshark %s, %d frames" % (version, len(checks)))
    return print_report(version, table, tolerated, failures, {3: "Metadata"}, "frames", "bug", 14)


if __name__ == "__main__":
    sys.exit(main())
