#!/usr/bin/python3
"""Cross-check the refusal vectors (tests/golden/refusals/*.json) with Wireshark's Kafka dissector (tshark).

Each case becomes one TCP conversation to port 9092 in a pcap (the pcap writer of ../tshark_check.py): a handshake,
the case's own request_hex, then its expected_hex as the broker's answer. `tshark -d tcp.port==9092,kafka` then
decodes both, and for each case this fails on:
  * a Malformed Packet, an expert error or a Malformed-group warning in the request or the response;
  * a response tshark did not match to its request (wrong api key);
  * decoded error codes (kafka.error, wire order) that differ from the ones generate_refusals.py put in the answer;
  * a decoded ErrorMessage (kafka.error_message) that is not the case's message.
A request whose api key or version tshark flags as unknown is reported as "unknown to tshark <version>", not failed.
Fetch's expected_hex is kedge's whole answer through split.h (encode_split_refusal), not encode_refusal's; it is
checked the same way (tshark 4.0 knows Fetch v0-11, not the by-id versions v13-17).

Bugs of the tshark 4.0 Kafka dissector (packet-kafka.c), worked around and reported, never counted as failures:
  * request side (the dissector throws or misparses, so it cannot match the answer to the request): a null
    CreateTopics config Value (it formats the item label from a -1 length), CreateTopics Assignments (it never
    advances past PartitionIndex), CreatePartitions Assignments (decoded as a flat []int32 instead of
    []{BrokerIds []int32}), a null Produce Records (its length read as unsigned), and any non-flexible BYTES (it
    reads their length as an int16, the spec's is an int32: JoinGroup v0-5 protocol Metadata, SyncGroup v0-3
    Assignment). For these cases the pcap carries a "tshark-safe" copy of the request (null values replaced,
    assignments and protocols emptied), after checking that the refusal of that copy is byte-for-byte the same
    expected_hex;
  * response side: DeleteTopics v1-2 answers carry ThrottleTimeMs (DeleteTopicsResponse.json "versions": "1+"), but
    the dissector reads it only from v3, so it misparses them ("Dissected message does not end ..."); SyncGroup v0-3
    answers carry an (empty) non-flexible BYTES Assignment, whose int32 length it reads as an int16. Reported as
    "tshark bug", not checked.
It also checks that every file is what generate_refusals.py produces now (run it with --check for the details).

Usage: /usr/bin/python3 tests/golden/refusals/tshark_refusals.py [-v] [--keep PCAP]
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

REFUSALS_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(REFUSALS_DIR))
sys.path.insert(0, REFUSALS_DIR)

import generate_refusals  # noqa: E402
from tshark_check import (  # noqa: E402
    PcapWriter, frame_problems, is_unknown_to_tshark, print_report, run_tshark, tshark_version)

# tshark 4.0 packet-kafka.c keeps a RECORDS length in an unsigned int, so a null Records (-1) in a Produce request
# is reported as a message set whose size does not match; it resynchronises at the next field (see
# ../tshark_check.py TSHARK_QUIRKS, the same bug on Fetch responses). Tolerated on Produce requests only, counted.
TSHARK_QUIRKS = {("request", 0): {"Message set size does not match content"}}

# Response-side dissector bugs: (api_key, version) -> what is wrong. These frames are reported, not checked.
TSHARK_RESPONSE_BUGS = {
    (20, 1): "tshark 4.0 reads DeleteTopics ThrottleTimeMs only from v3 (spec: 1+)",
    (20, 2): "tshark 4.0 reads DeleteTopics ThrottleTimeMs only from v3 (spec: 1+)",
}
for _v in range(0, 4):
    TSHARK_RESPONSE_BUGS[(14, _v)] = ("tshark 4.0 reads a non-flexible BYTES length as int16 (spec: int32): "
                                      "SyncGroup v0-3 Assignment")


def tshark_safe_request(case):
    """The case's logical request without what tshark 4.0's request dissectors throw on, or None if it has none."""
    body = copy.deepcopy(case.request)
    changed = []
    if case.api.key == 0:
        for topic in body["TopicData"]:
            for p in topic["PartitionData"]:
                if p["Records"] is None:
                    p["Records"] = generate_refusals.sample_batch(1767225600000)
                    changed.append("null Records")
    elif case.api.key == 19:
        for topic in body["Topics"]:
            if topic["Assignments"]:
                topic["Assignments"] = []
                changed.append("Assignments")
            for c in topic["Configs"]:
                if c["Value"] is None:
                    c["Value"] = "604800000"
                    changed.append("null config Value")
    elif case.api.key == 37:
        for topic in body["Topics"]:
            if topic["Assignments"]:
                topic["Assignments"] = []
                changed.append("Assignments")
    elif case.api.key == 11 and case.version not in case.api.flexible:
        if body["Protocols"]:  # non-flexible BYTES Metadata (the refusal names none of them)
            body["Protocols"] = []
            changed.append("Protocols (BYTES Metadata)")
    elif case.api.key == 14 and case.version not in case.api.flexible:
        if body["Assignments"]:  # non-flexible BYTES Assignment (the refusal names none of them)
            body["Assignments"] = []
            changed.append("Assignments (BYTES Assignment)")
    return (body, sorted(set(changed))) if changed else (None, [])


FIELDS = ["frame.number", "kafka.api_key", "kafka.api_version", "kafka.error", "kafka.error_message",
          "_ws.expert.message", "_ws.expert.severity", "_ws.malformed", "kafka.unsupported_api_version",
          "kafka.unknown_api_key"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=REFUSALS_DIR, help="directory holding the refusal case files")
    parser.add_argument("--keep", metavar="PCAP", help="keep the generated pcap at this path")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    generated = {c.file_name: c for c in generate_refusals.all_cases()}
    files = sorted(f for f in glob.glob(os.path.join(args.dir, "*.json")) if not f.endswith(".handmade.json"))
    failures = []
    pcap = PcapWriter()
    checks = []  # (name, case json, generator case, response frame number)
    for port, path in enumerate(files, start=20000):
        name = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        case = generated.get(name)
        if case is None:
            failures.append("%s: not produced by generate_refusals.py" % name)
            continue
        request, expected = case.frames()
        if doc["request_hex"] != request.hex() or doc["expected_hex"] != expected.hex():
            failures.append("%s: differs from generate_refusals.py output (run it)" % name)
            continue
        wire_request = request
        safe_body, simplified = tshark_safe_request(case)
        if safe_body is not None:
            wire_request = generate_refusals.request_frame(case.api, case.version, safe_body, case.client_id,
                                                           case.header_tags)
            safe_answer = generate_refusals.response_frame(
                case.api, case.version, case.refuse(safe_body))
            if safe_answer != expected:
                failures.append("%s: the tshark-safe request does not have the same refusal" % name)
                continue
        frame = pcap.conversation(port, wire_request, expected)
        checks.append((name, doc, case, frame, simplified))

    version = tshark_version()
    with tempfile.TemporaryDirectory(prefix="kedge-tshark-refusals-") as tmp:
        pcap_path = args.keep or os.path.join(tmp, "refusals.pcap")
        pcap.write(pcap_path)
        layers = run_tshark(pcap_path, FIELDS)

    table = collections.OrderedDict()
    tolerated = collections.Counter()
    for name, doc, case, frame, simplified in checks:
        layer, request_layer = layers.get(frame, {}), layers.get(frame - 1, {})
        key = (doc["api_key"], doc["api_version"])
        request_quirks = TSHARK_QUIRKS.get(("request", doc["api_key"]), set())
        if is_unknown_to_tshark(request_layer):
            status = "unknown to tshark %s" % version
        elif key in TSHARK_RESPONSE_BUGS:
            problems = frame_problems(request_layer, "request", request_quirks, tolerated)
            if problems:
                failures.append("%s frame %d: %s" % (name, frame, "; ".join(problems)))
                status = "FAIL"
            else:
                status = "request clean, answer not checked (tshark bug)"
                tolerated[TSHARK_RESPONSE_BUGS[key]] += 1
                if simplified:
                    status += " [request tshark-safe: %s]" % ", ".join(simplified)
                    tolerated["request dissector bug worked around: " + ", ".join(simplified)] += 1
        else:
            problems = (frame_problems(request_layer, "request", request_quirks, tolerated)
                        + frame_problems(layer, "response", TSHARK_QUIRKS.get(("response", doc["api_key"]), set()),
                                         tolerated))
            if layer.get("kafka.api_key", [None])[0] != str(doc["api_key"]):
                problems.append("tshark did not match the response to its request (api_key %r)"
                                % layer.get("kafka.api_key"))
            decoded_errors = [int(x) for x in layer.get("kafka.error", [])]
            want_errors = case.error_codes()
            if decoded_errors and decoded_errors != want_errors:
                problems.append("error codes: tshark %r, golden %r" % (decoded_errors, want_errors))
            messages = layer.get("kafka.error_message", [])
            wrong = [m for m in messages if m != doc["message"]]
            if wrong:
                problems.append("error messages: tshark decoded %r" % wrong)
            if problems:
                failures.append("%s frame %d: %s" % (name, frame, "; ".join(problems)))
                status = "FAIL"
            elif not want_errors:
                status = "decoded clean (no error codes in answer)"
            elif decoded_errors:
                status = "decoded clean, error codes match"
            else:
                status = "decoded clean, error codes not decoded"
            if simplified and status != "FAIL":
                status += " [request tshark-safe: %s]" % ", ".join(simplified)
                tolerated["request dissector bug worked around: " + ", ".join(simplified)] += 1
        table.setdefault(key, collections.Counter())[status] += 1
        if args.verbose:
            print("%-55s frame %-5d %s" % (name, frame, status))

    names = {api.key: api.name for api in generate_refusals.APIS}
    print("tshark %s, %d refusal files" % (version, len(files)))
    return print_report(version, table, tolerated, failures, names, "cases", "bug", 28)


if __name__ == "__main__":
    sys.exit(main())
