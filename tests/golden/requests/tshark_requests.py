#!/usr/bin/python3
"""Cross-check the request resource vectors (tests/golden/requests/*.json) with Wireshark's Kafka dissector (tshark).

Each case becomes one TCP conversation to port 9092 in a pcap (the pcap writer of ../tshark_check.py) carrying its
request_hex. `tshark -d tcp.port==9092,kafka` decodes it, and for each readable case this fails on:
  * a Malformed Packet, an expert error or a Malformed-group warning in the request;
  * names tshark decodes that differ from the case's resources, per kind, in wire order, each once:
    kafka.topic_name (topic), kafka.consumer_group (group), kafka.transactional_id (transactional_id),
    kafka.coordinator_key (a FindCoordinator key), kafka.config_resource_name (a DescribeConfigs resource).
    A kind tshark decodes nothing of is not compared (its dissector may not expose it at that version).
A request whose api key or version tshark flags as unknown is reported as "unknown to tshark <version>", not failed.
Cases kedge must not read (resources null) are only decoded, never compared.

A bug of the tshark 4.0 Kafka dissector is tolerated and counted, never failed: its dissect_kafka_regular_bytes reads
a non-flexible BYTES length as an int16 (the spec's BYTES has an int32 length; later releases read an int32), so
JoinGroup v0-5 Protocols[].Metadata and SyncGroup v0-3 Assignments[].Assignment are misparsed and the request is
reported as "Dissected message does not end at the pdu length offset". The names before them still decode.

Usage: /usr/bin/python3 tests/golden/requests/tshark_requests.py [-v] [--keep PCAP]
Standard library only; needs tshark on PATH.
"""

import argparse
import collections
import glob
import json
import os
import sys
import tempfile

REQUESTS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(REQUESTS_DIR))
sys.path.insert(0, REQUESTS_DIR)

import generate_requests  # noqa: E402
from tshark_check import (  # noqa: E402
    PcapWriter, frame_problems, is_unknown_to_tshark, print_report, run_tshark, tshark_version)

KINDS = {"kafka.topic_name": ("topic",), "kafka.consumer_group": ("group",),
         "kafka.transactional_id": ("transactional_id",),
         "kafka.coordinator_key": ("group", "transactional_id", "share_group_key"),
         "kafka.config_resource_name": ("topic", "group", "broker", "broker_logger", "client_metrics",
                                        "config_resource")}
# Where tshark decodes a name kedge does not count as a resource, by api key: the consumer protocol inside
# JoinGroup Protocols[].Metadata / SyncGroup Assignments[].Assignment. Expected names must then be a subsequence.
EXTRA_NAMES = {11: {"kafka.topic_name"}, 14: {"kafka.topic_name"}}
# (api key, versions) whose non-flexible BYTES fields tshark 4.0 misreads (see above).
BYTES_AS_INT16 = {11: range(0, 6), 14: range(0, 4)}
BYTES_AS_INT16_QUIRK = "Dissected message does not end at the pdu length offset"


def once(names):
    out = []
    for n in names:
        if n not in out:
            out.append(n)
    return out


def is_subsequence(small, big):
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=REQUESTS_DIR, help="directory holding the case files")
    parser.add_argument("--keep", metavar="PCAP", help="keep the generated pcap at this path")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    generated = {c.file_name: c for c in generate_requests.all_cases()}
    files = sorted(glob.glob(os.path.join(args.dir, "*.json")))
    failures = []
    pcap = PcapWriter()
    checks = []
    for port, path in enumerate(files, start=20000):
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        case = generated.get(name)
        if case is None or json.loads(case.to_json()) != doc:
            failures.append("%s: differs from generate_requests.py output (run it)" % name)
            continue
        frame = pcap.conversation(port, bytes.fromhex(doc["request_hex"]), b"")
        checks.append((name, doc, frame - 1))  # the request is the frame before the (empty) answer

    version = tshark_version()
    with tempfile.TemporaryDirectory(prefix="kedge-tshark-requests-") as tmp:
        pcap_path = args.keep or os.path.join(tmp, "requests.pcap")
        pcap.write(pcap_path)
        layers = run_tshark(pcap_path, ["frame.number", "kafka.api_key", "kafka.api_version", "_ws.expert.message",
                                        "_ws.expert.severity", "_ws.malformed", "kafka.unsupported_api_version",
                                        "kafka.unknown_api_key"] + list(KINDS))

    table = collections.OrderedDict()
    tolerated = collections.Counter()
    for name, doc, frame in checks:
        layer = layers.get(frame, {})
        key = (doc["api_key"], doc["api_version"])
        if is_unknown_to_tshark(layer):
            status = "unknown to tshark %s" % version
        else:
            quirks = ({BYTES_AS_INT16_QUIRK} if doc["api_version"] in BYTES_AS_INT16.get(doc["api_key"], ())
                      else set())
            problems = frame_problems(layer, "request", quirks, tolerated)
            compared = []
            if doc["resources"] is not None:
                for field, kinds in KINDS.items():
                    decoded = once(layer.get(field, []))
                    if not decoded:
                        continue
                    want = once(r["name"] for r in doc["resources"] if r["type"] in kinds)
                    ok = (is_subsequence(want, decoded) if field in EXTRA_NAMES.get(doc["api_key"], ())
                          else decoded == want)
                    if not ok:
                        problems.append("%s: tshark %r, golden %r" % (field, decoded, want))
                    compared.append(field.split(".")[1])
            if problems:
                failures.append("%s frame %d: %s" % (name, frame, "; ".join(problems)))
                status = "FAIL"
            elif doc["resources"] is None:
                status = "decoded clean (not readable by kedge)"
            elif compared:
                status = "decoded clean, names match (%s)" % ", ".join(compared)
            else:
                status = "decoded clean, no names decoded"
        table.setdefault(key, collections.Counter())[status] += 1
        if args.verbose:
            print("%-60s frame %-5d %s" % (name, frame, status))

    names = {api.key: api.name for api in generate_requests.APIS}
    print("tshark %s, %d request files" % (version, len(files)))
    return print_report(version, table, tolerated, failures, names, "cases", "bug", 28)


if __name__ == "__main__":
    sys.exit(main())
