#!/usr/bin/python3
"""Cross-check the split vectors (tests/golden/split/*.json) with Wireshark's Kafka dissector (tshark).

Each split case becomes two TCP conversations to port 9092 in a pcap (the pcap writer of ../tshark_check.py): what
the client sees (its request_hex, then merged_hex) and what the broker sees (forwarded_hex, then broker_response_hex).
`tshark -d tcp.port==9092,kafka` decodes all four frames, and for each case this fails on:
  * a Malformed Packet, an expert error or a Malformed-group warning in any of them;
  * a response tshark did not match to its request (wrong api key);
  * topic names (kafka.topic_name, wire order) that differ from the generator's: every topic of the client's request,
    the allowed ones in the forwarded request, the merged response's topics in the client's request order, the
    broker's topics in its response;
  * partition indexes (kafka.partition_id) or error codes (kafka.error, wire order; Fetch v7+ starts with the top-level
    ErrorCode) of the merged response that differ from the generator's: 29 for every refused partition;
  * Produce v8+ ErrorMessages (kafka.error_message, null ones included) of the merged response other than the
    generator's (each refused partition's message names its topic);
  * Fetch v7+ session id, session epoch and forgotten topics (kafka.fetch_session_id, kafka.fetch_session_epoch,
    kafka.forgotten_topic_name) of the forwarded request that differ from the client's request.
A request whose api key or version tshark flags as unknown is reported as "unknown to tshark <version>", not failed.
Cases that are not split (all_allowed, none_allowed) carry no frame of kedge's and are not put in the pcap.
A bug of the tshark 4.0 Kafka dissector is worked around and counted, never failed: it cannot read the legacy message
sets of Fetch v0-3 responses (see LEGACY_RECORDS below), so those cases are decoded with empty Records.
It also checks that every file is what generate_split.py produces now (run it with --check for the details).

Usage: /usr/bin/python3 tests/golden/split/tshark_split.py [-v] [--keep PCAP]
Standard library only; needs tshark on PATH.
"""

import argparse
import collections
import copy
import glob
import json
import os
import sys
import tempfile

SPLIT_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(SPLIT_DIR))
sys.path.insert(0, SPLIT_DIR)

import generate_split  # noqa: E402
from tshark_check import (  # noqa: E402
    PcapWriter, frame_problems, is_unknown_to_tshark, print_report, run_tshark, tshark_version)

FIELDS = ["frame.number", "kafka.api_key", "kafka.api_version", "kafka.topic_name", "kafka.partition_id",
          "kafka.error", "kafka.error_message", "kafka.fetch_session_id", "kafka.fetch_session_epoch",
          "kafka.forgotten_topic_name", "_ws.expert.message", "_ws.expert.severity", "_ws.malformed",
          "kafka.unsupported_api_version", "kafka.unknown_api_key"]


# How tshark shows a null STRING.
TSHARK_NULL = "[ Null ]"

# tshark 4.0 packet-kafka.c reads the key and value of a legacy message (magic 0 and 1, the records of Fetch v0-3
# responses) with dissect_kafka_regular_bytes, which takes a non-flexible BYTES length as an int16 (the spec's BYTES
# has an int32 length; see ../requests/tshark_requests.py for the same bug in JoinGroup and SyncGroup): it throws on
# the first message ("Malformed Packet (Exception occurred)") and decodes nothing after it. Those cases are checked on
# a copy whose broker response carries empty Records (what a broker sends for a partition with no new data); the
# copy's frames are the generator's, merged the same way, so the layout tshark checks is the case's.
LEGACY_RECORDS = (1, range(0, 4))
LEGACY_RECORDS_QUIRK = "legacy message set keys/values read with an int16 length (Fetch v0-3 records emptied)"


def without_records(response):
    out = dict(response)
    out["Responses"] = [dict(t, Partitions=[dict(p, Records=b"") for p in t["Partitions"]])
                        for t in response["Responses"]]
    return out


def tshark_safe(case):
    """The case, or for Fetch v0-3 a copy whose broker answers with empty Records (LEGACY_RECORDS)."""
    if case.api.key != LEGACY_RECORDS[0] or case.version not in LEGACY_RECORDS[1]:
        return case, False
    safe = copy.copy(case)
    edit = case.broker_edit
    safe.broker_edit = lambda response: without_records(edit(response) if edit else response)
    return safe, True


def decoded(layer, field, convert=str):
    return [convert(x) for x in layer.get(field, [])]


def response_topics(response):
    return [t[k] for t in response["Responses"] for k in ("Name", "Topic") if k in t]


def expected_errors(case):
    """Error codes of the merged response in wire order: Fetch v7+ top-level ErrorCode, then every partition's."""
    top = [case.merged()["ErrorCode"]] if case.api is generate_split.FETCH and case.version >= 7 else []
    return top + [e for _, _, e in case.partition_errors("merged")]


def compare(problems, what, got, want):
    """A difference between what tshark decoded and the generator's values; nothing decoded is not compared (the
    dissector may not expose the field at that version) but returned as False."""
    if not got:
        return False
    if got != want:
        problems.append("%s: tshark %r, golden %r" % (what, got, want))
    return True


CHECKS = ["request topics", "forwarded topics", "merged topics", "broker topics", "partitions", "error codes",
          "error messages", "session", "forgotten topics"]


def check_case(case, layers, frames, tolerated):
    """Problems of one split case, and what was compared."""
    client_request, merged, forwarded, broker = (layers.get(f, {}) for f in frames)
    problems = []
    for layer, label in ((client_request, "request"), (merged, "merged response"), (forwarded, "forwarded request"),
                         (broker, "broker response")):
        problems += frame_problems(layer, label, set(), tolerated)
    for layer, label in ((merged, "merged response"), (broker, "broker response")):
        if layer.get("kafka.api_key", [None])[0] != str(case.api.key):
            problems.append("tshark did not match the %s to its request (api_key %r)"
                            % (label, layer.get("kafka.api_key")))
    compared = []
    api = case.api
    if compare(problems, "request topics", decoded(client_request, "kafka.topic_name"),
               [t[api.topic] for t in case.topics()]):
        compared.append("request topics")
    if compare(problems, "forwarded topics", decoded(forwarded, "kafka.topic_name"),
               [t[api.topic] for t in case.forwarded()[api.topics]]):
        compared.append("forwarded topics")
    if compare(problems, "merged topics", decoded(merged, "kafka.topic_name"), response_topics(case.merged())):
        compared.append("merged topics")
    if compare(problems, "broker topics", decoded(broker, "kafka.topic_name"), response_topics(case.broker())):
        compared.append("broker topics")
    if compare(problems, "merged partitions", decoded(merged, "kafka.partition_id", int),
               [p for _, p, _ in case.partition_errors("merged")]):
        compared.append("partitions")
    if compare(problems, "merged error codes", decoded(merged, "kafka.error", int), expected_errors(case)):
        compared.append("error codes")
    messages = [TSHARK_NULL if m is None else m for m in case.error_messages()]
    if messages and compare(problems, "merged error messages", decoded(merged, "kafka.error_message"), messages):
        compared.append("error messages")
    if api is generate_split.FETCH and case.version >= 7:
        session = [case.request["SessionId"]], [case.request["SessionEpoch"]]
        forgotten = [f["Topic"] for f in case.request["ForgottenTopicsData"]]
        got_session = (decoded(forwarded, "kafka.fetch_session_id", int),
                       decoded(forwarded, "kafka.fetch_session_epoch", int))
        if got_session[0] or got_session[1]:
            if got_session != session:
                problems.append("forwarded session id/epoch: tshark %r, golden %r" % (got_session, session))
            compared.append("session")
        if compare(problems, "forwarded forgotten topics", decoded(forwarded, "kafka.forgotten_topic_name"),
                   forgotten):
            compared.append("forgotten topics")
    return problems, compared


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=SPLIT_DIR, help="directory holding the split case files")
    parser.add_argument("--keep", metavar="PCAP", help="keep the generated pcap at this path")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    generated = {c.file_name: c for c in generate_split.all_cases()}
    files = sorted(glob.glob(os.path.join(args.dir, "*.json")))
    failures = []
    pcap = PcapWriter()
    checks = []  # (name, case as sent, simplified, (client request, merged, forwarded, broker response) frame numbers)
    port = 20000
    not_split = 0
    for path in files:
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        case = generated.get(name)
        if case is None:
            failures.append("%s: not produced by generate_split.py" % name)
            continue
        if doc != json.loads(case.to_json()):
            failures.append("%s: differs from generate_split.py output (run it)" % name)
            continue
        if doc["result"] != "split":
            not_split += 1
            continue
        wire_case, simplified = tshark_safe(case)
        request, forwarded, broker, merged = wire_case.frames()
        merged_frame = pcap.conversation(port, request, merged)
        broker_frame = pcap.conversation(port + 1, forwarded, broker)
        port += 2
        checks.append((name, wire_case, simplified, (merged_frame - 1, merged_frame, broker_frame - 1, broker_frame)))

    version = tshark_version()
    with tempfile.TemporaryDirectory(prefix="kedge-tshark-split-") as tmp:
        pcap_path = args.keep or os.path.join(tmp, "split.pcap")
        pcap.write(pcap_path)
        layers = run_tshark(pcap_path, FIELDS)

    table = collections.OrderedDict()
    tolerated = collections.Counter()
    coverage = collections.Counter()
    for name, case, simplified, frames in checks:
        key = (case.api.key, case.version)
        if is_unknown_to_tshark(layers.get(frames[0], {})):
            status = "unknown to tshark %s" % version
        else:
            problems, compared = check_case(case, layers, frames, tolerated)
            if problems:
                failures.append("%s: %s" % (name, "; ".join(problems)))
                status = "FAIL"
            else:
                status = "decoded clean, %d of %d checks compared" % (len(compared), len(CHECKS))
                coverage.update(compared)
                if simplified:
                    status += " [records emptied]"
                    tolerated[LEGACY_RECORDS_QUIRK] += 1
        table.setdefault(key, collections.Counter())[status] += 1
        if args.verbose:
            print("%-45s %s" % (name, status))

    names = {api.key: api.name for api in generate_split.APIS}
    print("tshark %s, %d split files (%d split cases, %d not split)" % (version, len(files), len(checks), not_split))
    for what in CHECKS:  # a check compares nothing where tshark decodes no such field (or the case has none)
        print("  %-20s compared in %d cases" % (what, coverage[what]))
    return print_report(version, table, tolerated, failures, names, "cases", "bug", 14)


if __name__ == "__main__":
    sys.exit(main())
