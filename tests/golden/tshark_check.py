#!/usr/bin/python3
"""Cross-check the golden vectors with Wireshark's Kafka dissector (tshark).

For every generated case file (not *.handmade.json unless --all) this writes a pcap holding two TCP conversations
to port 9092: one carrying response_hex and one carrying expected_hex. Each conversation is a TCP handshake, a minimal
request frame with the same api_key / api_version / correlation id (so the dissector knows how to parse the
response), then the response frame.

It then runs `tshark -d tcp.port==9092,kafka` and, per response frame:
  * fails on any Malformed Packet or expert error;
  * compares the decoded broker endpoints (kafka.node_id / kafka.host / kafka.port, in wire order) with the
    endpoints the golden file claims (original hosts for response_hex, rewritten hosts for expected_hex);
  * reports a version the dissector does not know as "unknown to tshark <version>" instead of a failure.

Exit status 1 when any checked frame fails. Standard library only; needs tshark on PATH.
"""

import argparse
import collections
import glob
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

GOLDEN_DIR = os.path.dirname(os.path.abspath(__file__))
BROKER_PORT = 9092
CLIENT_IP = bytes([10, 1, 0, 2])
BROKER_IP = bytes([10, 0, 0, 5])

# First flexible request version per api key (kafka-protocol.md section 3). Request header v2 from there on.
REQUEST_FLEXIBLE_FROM = {0: 9, 1: 12, 3: 9, 10: 3, 18: 3, 55: 0, 60: 0, 78: 0, 79: 0}


def checksum16(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


class PcapWriter:
    """Classic libpcap file (microsecond timestamps, LINKTYPE_ETHERNET) with hand-built Ethernet/IPv4/TCP headers."""

    def __init__(self):
        self.packets = []
        self.ip_id = 1

    def add(self, src_ip, dst_ip, sport, dport, seq, ack, flags, payload=b""):
        tcp_len = 20
        tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, (tcp_len // 4) << 4, flags, 65535, 0, 0)
        pseudo = src_ip + dst_ip + struct.pack(">BBH", 0, 6, tcp_len + len(payload))
        tcp = tcp[:16] + struct.pack(">H", checksum16(pseudo + tcp + payload)) + tcp[18:]
        total_len = 20 + tcp_len + len(payload)
        if total_len > 65535:
            raise ValueError("payload too large for one IPv4 packet")
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total_len, self.ip_id, 0x4000, 64, 6, 0, src_ip, dst_ip)
        ip = ip[:10] + struct.pack(">H", checksum16(ip)) + ip[12:]
        self.ip_id += 1
        eth = bytes.fromhex("020000000002") + bytes.fromhex("020000000001") + b"\x08\x00"
        self.packets.append(eth + ip + tcp + payload)
        return len(self.packets)  # 1-based frame number

    def conversation(self, client_port, request, response):
        """Handshake, request, response, ACK. Returns the response's frame number."""
        c_seq, s_seq = 1000, 5000
        self.add(CLIENT_IP, BROKER_IP, client_port, BROKER_PORT, c_seq, 0, 0x02)
        self.add(BROKER_IP, CLIENT_IP, BROKER_PORT, client_port, s_seq, c_seq + 1, 0x12)
        self.add(CLIENT_IP, BROKER_IP, client_port, BROKER_PORT, c_seq + 1, s_seq + 1, 0x10)
        self.add(CLIENT_IP, BROKER_IP, client_port, BROKER_PORT, c_seq + 1, s_seq + 1, 0x18, request)
        frame = self.add(BROKER_IP, CLIENT_IP, BROKER_PORT, client_port, s_seq + 1, c_seq + 1 + len(request), 0x18,
                         response)
        self.add(CLIENT_IP, BROKER_IP, client_port, BROKER_PORT, c_seq + 1 + len(request),
                 s_seq + 1 + len(response), 0x10)
        return frame

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for i, pkt in enumerate(self.packets):
                f.write(struct.pack("<IIII", 1767225600 + i // 1000, (i % 1000) * 1000, len(pkt), len(pkt)))
                f.write(pkt)


def request_frame(api_key, api_version, correlation_id):
    """Request header v1 (v2 when flexible: client_id stays an int16 string, then a tag buffer) + minimal body."""
    flexible = api_version >= REQUEST_FLEXIBLE_FROM[api_key]
    client_id = b"kedge-golden"
    header = struct.pack(">hhih", api_key, api_version, correlation_id, len(client_id)) + client_id
    if flexible:
        header += b"\x00"
    body = minimal_request_body(api_key, api_version, flexible)
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def minimal_request_body(api_key, version, flexible):
    """Smallest well-formed request body for the APIs we cover (only so tshark does not flag the request frame)."""
    def arr0():
        return b"\x01" if flexible else b"\x00\x00\x00\x00"

    def s(text):
        raw = text.encode()
        return (bytes([len(raw) + 1]) if flexible else struct.pack(">h", len(raw))) + raw

    tags = b"\x00" if flexible else b""
    if api_key == 18:  # ApiVersions: v3+ ClientSoftwareName, ClientSoftwareVersion
        return (s("kedge") + s("0.1") + tags) if version >= 3 else b""
    if api_key == 3:  # Metadata: Topics (empty), AllowAutoTopicCreation v4+, auth-ops flags v8+
        body = (b"\x01" if flexible else b"\x00\x00\x00\x00")
        if version >= 4:
            body += b"\x00"
        if 8 <= version <= 10:
            body += b"\x00"
        if version >= 8:
            body += b"\x00"
        return body + tags
    if api_key == 10:  # FindCoordinator: v0-3 Key (+KeyType v1+), v4+ KeyType + CoordinatorKeys[]
        if version <= 3:
            return s("orders-consumer") + (b"\x00" if version >= 1 else b"") + tags
        return b"\x00" + b"\x02" + s("orders-consumer") + tags  # KeyType, compact array of 1 key
    if api_key == 60:  # DescribeCluster: IncludeClusterAuthorizedOperations, EndpointType v1+, IncludeFenced v2+
        return b"\x00" + (b"\x01" if version >= 1 else b"") + (b"\x00" if version >= 2 else b"") + tags
    if api_key == 0:  # Produce: TransactionalId null, Acks, TimeoutMs, TopicData[] empty
        txn = b"\x00" if flexible else b"\xff\xff"
        return txn + struct.pack(">hi", -1, 30000) + arr0() + tags
    if api_key == 1:  # Fetch: request fields up to Topics/ForgottenTopics, all empty
        body = b""
        if version <= 14:
            body += struct.pack(">i", -1)  # ReplicaId
        body += struct.pack(">iii", 500, 1, 52428800)  # MaxWaitMs, MinBytes, MaxBytes
        body += b"\x00"  # IsolationLevel (v4+)
        if version >= 7:
            body += struct.pack(">ii", 0, -1)  # SessionId, SessionEpoch
        body += arr0()  # Topics
        if version >= 7:
            body += arr0()  # ForgottenTopicsData
        if version >= 11:
            body += s("")  # RackId
        return body + tags
    return b""  # ShareFetch/ShareAcknowledge/DescribeQuorum: tshark 4.0 knows none of these versions anyway


# GOLDEN_FORMAT.md clamp table, restated here so the check does not trust generate.py.
CLAMP = {0: 13, 1: 18, 3: 13, 10: 6, 18: 4, 55: 1, 60: 2, 78: 2, 79: 2}
REMOVED = {52, 53, 54, 59, 82}


def clamp_api_list(entries):
    out = []
    for key, lo, hi in entries:
        if key in REMOVED or (key in CLAMP and lo > CLAMP[key]):
            continue
        out.append((key, lo, min(hi, CLAMP[key]) if key in CLAMP else hi))
    return out


# What the dissector is asked for, per frame: endpoints and ApiVersions lists here; refusals/tshark_refusals.py
# asks for error codes and messages instead.
ENDPOINT_FIELDS = ["frame.number", "kafka.api_key", "kafka.api_version", "kafka.node_id", "kafka.host", "kafka.port",
                   "kafka.api_versions.api_key", "kafka.api_versions.min_version", "kafka.api_versions.max_version",
                   "_ws.expert.message", "_ws.expert.severity", "_ws.malformed", "kafka.unsupported_api_version",
                   "kafka.unknown_api_key"]


def run_tshark(pcap_path, fields=ENDPOINT_FIELDS):
    """{frame number: tshark's JSON layers} of every frame in the pcap, with `fields` decoded."""
    cmd = ["tshark", "-n", "-r", pcap_path, "-d", "tcp.port==%d,kafka" % BROKER_PORT, "-T", "json"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = {}
    for pkt in json.loads(out):
        layer = pkt["_source"]["layers"]
        result[int(layer["frame.number"][0])] = layer
    return result


# APIs whose broker endpoints tshark exposes as kafka.node_id / kafka.host / kafka.port triples.
ENDPOINT_APIS_DECODED_BY_TSHARK = {3, 10, 60}
PI_ERROR = 8388608  # expert severity "error" (epan/proto.h)


def expert_messages(layer):
    return list(zip(layer.get("_ws.expert.message", []), [int(s) for s in layer.get("_ws.expert.severity", [])]))


def is_unknown_to_tshark(request_layer):
    """The dissector flags request api keys / versions newer than its tables; it cannot decode those bodies.
    Judged on the request frame only: an ApiVersions response legitimately lists keys tshark does not know."""
    if "kafka.unsupported_api_version" in request_layer or "kafka.unknown_api_key" in request_layer:
        return True
    return any("Unsupported API version" in m or m.endswith("API key") for m, _ in expert_messages(request_layer))


# Malformed-group warnings that are bugs of the tshark 4.0 Kafka dissector, not of the vectors, keyed by api key.
# packet-kafka.c dissect_kafka_records() keeps the RECORDS length in an unsigned int, so a null blob (length -1)
# is "dissected" as an empty set ending one byte early; newer dissectors treat it as null. The dissector still
# resynchronises after the 4 length bytes, so the following fields prove the framing right.
TSHARK_QUIRKS = {1: {"Message set size does not match content"}}


def frame_problems(layer, label, quirks, tolerated):
    """Malformed Packet, any expert error, and any Malformed-group warning (they all add _ws.malformed), except
    the expert messages in `quirks` (known dissector bugs for this frame's api), which are counted in `tolerated`."""
    problems = []
    if not layer:
        return ["%s frame missing from tshark output" % label]
    malformed_explained = False
    for message, severity in expert_messages(layer):
        if message in quirks:
            tolerated[message] += 1
            malformed_explained = True
        elif severity >= PI_ERROR or "alformed" in message or "does not end" in message or "Invalid" in message:
            problems.append("%s: expert: %s" % (label, message))
    if "_ws.malformed" in layer and not problems and not malformed_explained:
        problems.append("%s: Malformed Packet" % label)
    return problems


def tshark_version():
    line = subprocess.run(["tshark", "--version"], check=True, capture_output=True, text=True).stdout.splitlines()[0]
    match = re.search(r"\d+\.\d+\.\d+", line)
    return match.group(0) if match else line


def main(argv=None):
    parser = argparse.ArgumentParser(description="cross-check golden vectors with tshark's Kafka dissector")
    parser.add_argument("--dir", default=GOLDEN_DIR, help="directory holding the case files")
    parser.add_argument("--all", action="store_true", help="also check *.handmade.json files")
    parser.add_argument("--keep", metavar="PCAP", help="keep the generated pcap at this path")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)

    files = sorted(glob.glob(os.path.join(args.dir, "*.json")))
    if not args.all:
        files = [f for f in files if not f.endswith(".handmade.json")]
    pcap = PcapWriter()
    checks = []  # (file, which, frame_no, case, expected endpoints)
    client_port = 20000
    for path in files:
        with open(path, encoding="utf-8") as f:
            case = json.load(f)
        adv = case["advertised"]
        originals = [(e["node_id"], e["host"], e["port"]) for e in case["endpoints"]]
        rewritten = [(n, adv["host_template"].replace("{id}", str(n)), adv["port"]) for n, _, _ in originals]
        for which, hex_key, endpoints in (("response", "response_hex", originals),
                                          ("expected", "expected_hex", rewritten)):
            frame_bytes = bytes.fromhex(case[hex_key])
            corr = struct.unpack(">i", frame_bytes[4:8])[0]
            request_version = case["api_version"]
            if case["api_key"] == 18 and struct.unpack(">h", frame_bytes[8:10])[0] == 35:
                # UNSUPPORTED_VERSION: the body is v0-format whatever the request version (KIP-511); a client
                # falls back to parsing v0, so let tshark parse it as the answer to a v0 request.
                request_version = 0
            request = request_frame(case["api_key"], request_version, corr)
            frame = pcap.conversation(client_port, request, bytes.fromhex(case[hex_key]))
            checks.append((os.path.basename(path), which, frame, case, endpoints))
            client_port += 1

    version = tshark_version()
    with tempfile.TemporaryDirectory(prefix="kedge-tshark-") as tmp:
        pcap_path = args.keep or os.path.join(tmp, "golden.pcap")
        pcap.write(pcap_path)
        layers = run_tshark(pcap_path)

    table = collections.OrderedDict()  # (api_key, version) -> Counter of statuses
    failures = []
    tolerated = collections.Counter()
    decoded_api_lists = {}
    for name, which, frame, case, endpoints in checks:
        layer = layers.get(frame, {})
        request_layer = layers.get(frame - 1, {})  # conversation(): the request is the frame right before
        key = (case["api_key"], case["api_version"])
        if is_unknown_to_tshark(request_layer):
            status = "unknown to tshark %s" % version
        else:
            quirks = TSHARK_QUIRKS.get(case["api_key"], set())
            problems = (frame_problems(request_layer, "request", quirks, tolerated)
                        + frame_problems(layer, "response", quirks, tolerated))
            if layer.get("kafka.api_key", [None])[0] != str(case["api_key"]):
                problems.append("tshark did not match the response to its request (api_key %r)"
                                % layer.get("kafka.api_key"))
            if not problems and case["api_key"] in ENDPOINT_APIS_DECODED_BY_TSHARK:
                decoded = list(zip([int(x) for x in layer.get("kafka.node_id", [])], layer.get("kafka.host", []),
                                   [int(x) for x in layer.get("kafka.port", [])]))
                # Error entries (node -1) are decoded by tshark but neither rewritten nor reported by kedge.
                decoded = [d for d in decoded if d[0] >= 0]
                if decoded != endpoints:
                    problems.append("endpoints differ: tshark %r vs golden %r" % (decoded, endpoints))
                status = "decoded, endpoints match"
            elif not problems and case["api_key"] == 18:
                decoded_api_lists[(name, which)] = list(zip(
                    *[[int(x) for x in layer.get(f, [])] for f in
                      ("kafka.api_versions.api_key", "kafka.api_versions.min_version",
                       "kafka.api_versions.max_version")]))
                status = "decoded"
            else:
                status = "decoded"
            if problems:
                failures.append("%s [%s] frame %d: %s" % (name, which, frame, "; ".join(problems)))
                status = "FAIL"
        table.setdefault(key, collections.Counter())[status] += 1
        if args.verbose:
            print("%-50s %-8s frame %-5d %s" % (name, which, frame, status))

    # ApiVersions: what tshark decodes from expected_hex must be the clamp of what it decodes from response_hex.
    clamp_checked = 0
    for (name, which), listed in sorted(decoded_api_lists.items()):
        if which != "response" or (name, "expected") not in decoded_api_lists:
            continue
        want = clamp_api_list(listed)
        got = decoded_api_lists[(name, "expected")]
        clamp_checked += 1
        if got != want:
            failures.append("%s: tshark-decoded expected ApiKeys differ from the clamp of the response: only in "
                            "expected %r, missing from expected %r"
                            % (name, sorted(set(got) - set(want)), sorted(set(want) - set(got))))
    print("ApiVersions clamp verified on tshark-decoded lists: %d cases" % clamp_checked)

    api_names = {0: "Produce", 1: "Fetch", 3: "Metadata", 10: "FindCoordinator", 18: "ApiVersions",
                 55: "DescribeQuorum", 60: "DescribeCluster", 78: "ShareFetch", 79: "ShareAcknowledge"}
    print("tshark %s, %d files, %d frames checked" % (version, len(files), len(checks)))
    return print_report(version, table, tolerated, failures, api_names, "frames", "quirk", 22)


def print_report(version, table, tolerated, failures, api_names, unit, tolerated_word, width):
    """The per-(api, version) result table, the tolerated dissector bugs and the failures; the exit status."""
    print("%-*s %-4s %s" % (width, "api", "ver", "result (%s)" % unit))
    for (api_key, ver), counter in sorted(table.items()):
        summary = ", ".join("%s x%d" % (s, n) for s, n in sorted(counter.items()))
        print("%-*s v%-3d %s" % (width, "%s(%d)" % (api_names.get(api_key, "?"), api_key), ver, summary))
    for message, count in sorted(tolerated.items()):
        print("tolerated tshark %s %s x%d: %s" % (version, tolerated_word, count, message))
    for f in failures:
        print("FAIL " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
