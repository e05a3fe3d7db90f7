#!/usr/bin/python3
"""Cross-check the split vectors (tests/golden/split/*.json) with Wireshark's Kafka dissector (tshark).

Each split case becomes two TCP conversations to port 9092 in a pcap (the pcap writer of ../tshark_check.py): what
the client sees (its request_hex, then merged_hex) and what the broker sees (forwarded_hex, then broker_response_hex).
Each none_allowed case becomes one: the client's request_hex, then kedge's whole answer (expected_refusal_hex).
`tshark -d tcp.port==9092,kafka` decodes every frame, and for each case this fails on:
  * a Malformed Packet, an expert error or a Malformed-group warning in any of them;
  * a response tshark did not match to its request (wrong api key);
  * topic names (kafka.topic_name, wire order) that differ from the generator's: every topic of the client's request,
    the allowed ones in the forwarded request, the merged response's (or kedge's whole answer's) topics in the client's
    request order, the broker's topics in its response (by-id versions name no topic: nothing is expected);
  * partition indexes (kafka.partition_id) or error codes (kafka.error, wire order; Fetch v7+ starts with the top-level
    ErrorCode) of the merged response or kedge's whole answer that differ from the generator's: 29 for every refused
    partition (100 for an id the policy cannot name);
  * partition ErrorMessages (kafka.error_message, null ones included: Produce v8+, DescribeProducers, the share APIs)
    of the merged response or the whole answer other than the generator's (each refused partition's message names
    its topic), and topic ErrorMessages of CreateTopics, DeleteTopics v5+ and CreatePartitions (whose entries carry
    one error per topic, no partitions);
  * Fetch v7+ session id, session epoch and forgotten topics (kafka.fetch_session_id, kafka.fetch_session_epoch,
    kafka.forgotten_topic_name) of the forwarded request that differ from the client's request.
A request whose api key or version tshark flags as unknown is reported as "unknown to tshark <version>", not failed
(tshark 4.0 knows Produce v3-8 and Fetch v0-11: none of the by-id versions, Produce v13 and Fetch v13-17; its api key
table ends before DescribeProducers (61), ShareFetch (78) and ShareAcknowledge (79): "Unknown 61 API key", so every
case of those three APIs is unknown to it. Of the APIs split by name it knows ListOffsets v0-5, OffsetCommit v0-8,
OffsetForLeaderEpoch v0-3, DeleteRecords v0-1, TxnOffsetCommit v0-3, CreateTopics v2-5, DeleteTopics v1-4 and
CreatePartitions v0-2).
Cases with nothing refused (all_allowed), and requests kedge does not split (unreadable: a DeleteTopics v6 topic by
id), carry no frame of kedge's and are not put in the pcap.
Bugs of the tshark 4.0 Kafka dissector are worked around and counted, never failed: it cannot read the legacy message
sets of Fetch v0-3 responses (see LEGACY_RECORDS below), so those cases are decoded with empty Records; it loses
CreateTopics requests with assignments or a null config Value and CreatePartitions requests with assignments
(tshark_safe_request), so those are checked on requests without them; and it misreads DeleteTopics v1-2 responses
(TSHARK_RESPONSE_BUGS), whose requests only are checked.
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


# Request-side bugs of the tshark 4.0 Kafka dissector, the ones ../refusals/tshark_refusals.py works around too: it
# throws on a null CreateTopics config Value (it formats the item label from a -1 length) and never advances past a
# CreateTopics assignment's PartitionIndex, and it decodes CreatePartitions Assignments as a flat []int32 instead of
# []{BrokerIds []int32}: it loses the request, and then cannot match the response to it. Those cases are checked on a
# copy whose requests carry none of these (CreateTopics: no assignments, a partition count and replication factor
# instead, every config Value set; CreatePartitions: Assignments null, the controller placing the new partitions);
# the copy is split, answered and merged by the generator as the case is (the refused entries do not depend on
# them), so the layout tshark checks is the case's.
CREATE_TOPICS_QUIRK = "CreateTopics assignments and null config Values (requests without them)"
CREATE_PARTITIONS_QUIRK = "CreatePartitions Assignments read as []int32 (requests with Assignments null)"

# Response-side bugs: (api_key, version) -> what is wrong. The responses of these cases are not checked (their
# requests are). DeleteTopicsResponse.json has ThrottleTimeMs from v1; the dissector reads it only from v3, so it
# misparses v1-2 answers ("Dissected message does not end at the pdu length offset").
TSHARK_RESPONSE_BUGS = {
    (20, 1): "DeleteTopics v1-2 ThrottleTimeMs read only from v3 (spec: 1+): responses not checked",
    (20, 2): "DeleteTopics v1-2 ThrottleTimeMs read only from v3 (spec: 1+): responses not checked",
}


def tshark_safe_request(case):
    """The case's logical request without what tshark 4.0's request dissector throws on, and the quirk; or None."""
    if case.api is generate_split.CREATE_TOPICS:
        topics = []
        changed = False
        for t in case.request["Topics"]:
            t = dict(t)
            if t["Assignments"]:
                t.update(NumPartitions=3 * len(t["Assignments"]), ReplicationFactor=3, Assignments=[])
                changed = True
            if any(c["Value"] is None for c in t["Configs"]):
                t["Configs"] = [dict(c, Value="2") if c["Value"] is None else c for c in t["Configs"]]
                changed = True
            topics.append(t)
        return (dict(case.request, Topics=topics), CREATE_TOPICS_QUIRK) if changed else (None, None)
    if case.api is generate_split.CREATE_PARTITIONS:
        if not any(t["Assignments"] for t in case.request["Topics"]):
            return None, None
        return (dict(case.request, Topics=[dict(t, Assignments=None) for t in case.request["Topics"]]),
                CREATE_PARTITIONS_QUIRK)
    return None, None


def tshark_safe(case):
    """The case, or a copy tshark 4.0 can decode: for Fetch v0-3 one whose broker answers with empty Records
    (LEGACY_RECORDS), for CreateTopics and CreatePartitions one whose requests carry no assignments
    (tshark_safe_request); and the dissector bugs so worked around."""
    quirks = []
    if case.api.key == LEGACY_RECORDS[0] and case.version in LEGACY_RECORDS[1]:
        safe = copy.copy(case)
        edit = case.broker_edit
        safe.broker_edit = lambda response: without_records(edit(response) if edit else response)
        case = safe
        quirks.append(LEGACY_RECORDS_QUIRK)
    request, quirk = tshark_safe_request(case)
    if request is not None:
        safe = copy.copy(case)
        safe.request = request
        assert safe.result() == case.result()
        assert [e for _, e, _ in safe.refused_entries()] == [e for _, e, _ in case.refused_entries()]
        case = safe
        quirks.append(quirk)
    return case, quirks


def decoded(layer, field, convert=str):
    return [convert(x) for x in layer.get(field, [])]


def wire_topics(case, names):
    """The topic names tshark should decode: none in by-id versions (the wire holds ids only)."""
    return [] if case.by_id else list(names)


def response_topics(case, response):
    return wire_topics(case, [t[case.api.response_topic] for t in response[case.api.responses]])


def expected_errors(case, which):
    """Error codes of the merged response or kedge's whole answer ("refusal") in wire order: the top-level ErrorCode
    (Fetch v7+, the share APIs), then every partition's (a ShareFetch partition's AcknowledgeErrorCode is not compared:
    the dissector would have to be told it apart)."""
    response = case.refusal() if which == "refusal" else case.merged()
    top = [response["ErrorCode"]] if any(f.name == "ErrorCode" and case.version in f.versions
                                         for f in case.api.response.fields) else []
    return top + [e for _, _, e in case.partition_errors(which)]


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
# The checks of a none_allowed case: the client's request and kedge's whole answer.
WHOLE_CHECKS = ["request topics", "answer topics", "partitions", "error codes", "error messages"]


def responses_checked(case):
    return (case.api.key, case.version) not in TSHARK_RESPONSE_BUGS


def check_frames(problems, case, layers, tolerated):
    """Frame problems, and responses tshark did not match to their request. layers: [(layer, label, is response)];
    the responses of a version the dissector misreads (TSHARK_RESPONSE_BUGS) are left out."""
    for layer, label, response in layers:
        if response and not responses_checked(case):
            continue
        problems += frame_problems(layer, label, set(), tolerated)
        if response and layer.get("kafka.api_key", [None])[0] != str(case.api.key):
            problems.append("tshark did not match the %s to its request (api_key %r)"
                            % (label, layer.get("kafka.api_key")))


def check_response(problems, compared, case, layer, which, label):
    """Topics, partitions, error codes and partition ErrorMessages of the merged response or kedge's whole answer."""
    response = case.refusal() if which == "refusal" else case.merged()
    if compare(problems, "%s topics" % label, decoded(layer, "kafka.topic_name"), response_topics(case, response)):
        compared.append("answer topics" if which == "refusal" else "merged topics")
    if compare(problems, "%s partitions" % label, decoded(layer, "kafka.partition_id", int),
               [p for _, p, _ in case.partition_errors(which)]):
        compared.append("partitions")
    if compare(problems, "%s error codes" % label, decoded(layer, "kafka.error", int), expected_errors(case, which)):
        compared.append("error codes")
    messages = [TSHARK_NULL if m is None else m for m in case.error_messages(which)]
    if messages and compare(problems, "%s error messages" % label, decoded(layer, "kafka.error_message"), messages):
        compared.append("error messages")


def check_whole(case, layers, frames, tolerated):
    """Problems of one none_allowed case (the client's request, kedge's whole answer), and what was compared."""
    client_request, answer = (layers.get(f, {}) for f in frames)
    problems = []
    check_frames(problems, case, [(client_request, "request", False), (answer, "kedge's whole answer", True)],
                 tolerated)
    compared = []
    if compare(problems, "request topics", decoded(client_request, "kafka.topic_name"),
               wire_topics(case, case.names())):
        compared.append("request topics")
    if responses_checked(case):
        check_response(problems, compared, case, answer, "refusal", "whole answer")
    return problems, compared


def check_case(case, layers, frames, tolerated):
    """Problems of one split case, and what was compared."""
    client_request, merged, forwarded, broker = (layers.get(f, {}) for f in frames)
    problems = []
    check_frames(problems, case, [(client_request, "request", False), (merged, "merged response", True),
                                  (forwarded, "forwarded request", False), (broker, "broker response", True)],
                 tolerated)
    compared = []
    api = case.api
    if compare(problems, "request topics", decoded(client_request, "kafka.topic_name"),
               wire_topics(case, case.names())):
        compared.append("request topics")
    if compare(problems, "forwarded topics", decoded(forwarded, "kafka.topic_name"),
               wire_topics(case, [api.topic_name(t) for t in case.forwarded()[case.topics_field]])):
        compared.append("forwarded topics")
    if not responses_checked(case):
        return problems, compared
    if compare(problems, "broker topics", decoded(broker, "kafka.topic_name"), response_topics(case, case.broker())):
        compared.append("broker topics")
    check_response(problems, compared, case, merged, "merged", "merged")
    if api is generate_split.FETCH and case.version >= 7:
        session = [case.request["SessionId"]], [case.request["SessionEpoch"]]
        forgotten = wire_topics(case, [f["Topic"] for f in case.request["ForgottenTopicsData"]])
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
    # (name, case as sent, simplified, frame numbers): (client request, merged, forwarded, broker response) of a split
    # case, (client request, kedge's whole answer) of a none_allowed one.
    checks = []
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
        if doc["result"] == "none_allowed":
            not_split += 1
            wire_case, quirks = tshark_safe(case)
            answer_frame = pcap.conversation(port, wire_case.frames()[0], wire_case.refusal_frame())
            port += 1
            checks.append((name, wire_case, quirks, (answer_frame - 1, answer_frame)))
            continue
        if doc["result"] != "split":
            not_split += 1
            continue
        wire_case, quirks = tshark_safe(case)
        request, forwarded, broker, merged = wire_case.frames()
        merged_frame = pcap.conversation(port, request, merged)
        broker_frame = pcap.conversation(port + 1, forwarded, broker)
        port += 2
        checks.append((name, wire_case, quirks, (merged_frame - 1, merged_frame, broker_frame - 1, broker_frame)))

    version = tshark_version()
    with tempfile.TemporaryDirectory(prefix="kedge-tshark-split-") as tmp:
        pcap_path = args.keep or os.path.join(tmp, "split.pcap")
        pcap.write(pcap_path)
        layers = run_tshark(pcap_path, FIELDS)

    table = collections.OrderedDict()
    tolerated = collections.Counter()
    coverage = collections.Counter()
    whole_coverage = collections.Counter()
    for name, case, quirks, frames in checks:
        key = (case.api.key, case.version)
        whole = len(frames) == 2
        if is_unknown_to_tshark(layers.get(frames[0], {})):
            status = "unknown to tshark %s" % version
        else:
            check = check_whole if whole else check_case
            problems, compared = check(case, layers, frames, tolerated)
            if problems:
                failures.append("%s: %s" % (name, "; ".join(problems)))
                status = "FAIL"
            else:
                status = "%s decoded clean, %d of %d checks compared" % (
                    "whole answer" if whole else "split", len(compared), len(WHOLE_CHECKS if whole else CHECKS))
                (whole_coverage if whole else coverage).update(compared)
                if not responses_checked(case):
                    status = "%s: requests decoded clean, %d checks compared, responses not checked (tshark bug)" % (
                        "whole answer" if whole else "split", len(compared))
                    tolerated[TSHARK_RESPONSE_BUGS[key]] += 1
                for quirk in quirks:
                    status += " [%s]" % ("records emptied" if quirk == LEGACY_RECORDS_QUIRK else
                                         "request tshark-safe")
                    tolerated[quirk] += 1
        table.setdefault(key, collections.Counter())[status] += 1
        if args.verbose:
            print("%-45s %s" % (name, status))

    names = {api.key: api.name for api in generate_split.APIS}
    split_cases = sum(1 for c in checks if len(c[3]) == 4)
    print("tshark %s, %d split files (%d split cases, %d not split: %d answered whole)"
          % (version, len(files), split_cases, not_split, len(checks) - split_cases))
    for what in CHECKS:  # a check compares nothing where tshark decodes no such field (or the case has none)
        print("  split %-20s compared in %d cases" % (what, coverage[what]))
    for what in WHOLE_CHECKS:
        print("  whole %-20s compared in %d cases" % (what, whole_coverage[what]))
    return print_report(version, table, tolerated, failures, names, "cases", "bug", 14)


if __name__ == "__main__":
    sys.exit(main())
