#!/usr/bin/python3
"""Turns the golden vectors (tests/golden/*.json) into per-target libFuzzer seed
corpora: <out>/<target>/<case>.bin.

Input layouts (see the fuzz sources):
  fuzz_rewrite_<api>     version byte (index into the schema's version range) + frame body
  fuzz_response_stream   n-1, n x {api key index, version}, chunk byte, stream of frames
  fuzz_fetch_stream      version byte (16 + b % 3), chunk byte, Fetch v16-18 frame body (no size prefix)
  fuzz_request_tracker   chunk byte + router selector byte + request stream (hand-built requests below)
  fuzz_sasl_terminator   SaslHandshake v1/v0 then a PLAIN or SCRAM client message (see the source)
  fuzz_frame_assembler   chunk byte, max-size selector byte, stream of golden response frames
  fuzz_records           mode byte (bit 0: 4 KiB cap, else 1 MiB; bit 1: CRCs rewritten) + a RECORDS blob (tests/golden/records/*.json)
  fuzz_refusal           a request frame without its size prefix (tests/golden/refusals/*.json request_hex)
  fuzz_split             verdict byte (bit i % 8: the i-th topic refused), error byte (bit i % 8: that topic's id
                         unknown, by-id versions), 2-byte request length, a request frame and a broker response,
                         both without their size prefix (tests/golden/split/*.json)
  fuzz_policy_read       mode 0 + a request frame without its size prefix (tests/golden/requests/*.json and the
                         OffsetFetch requests of tests/golden/offset_filter/*.json), or
                         mode 1, Metadata version, filter byte + a response without it (tests/golden/topic_filter/),
                         or mode 3, ListGroups version, filter byte + a response (tests/golden/group_filter/),
                         or mode 7, OffsetFetch version, filter byte (bit 7: asked by name) + a response
                         (tests/golden/offset_filter/)
  fuzz_rename            mode 0 + a request frame without its size prefix (tests/golden/rename/ requests, the refusal
                         vectors' requests), or mode 1, api key, version (int16 each), coordinator key type byte + a
                         response without it (tests/golden/rename/ responses)
  fuzz_websocket         piece size byte, message limit selector byte, a client's WebSocket stream
                         (tests/golden/websocket/parse.*.json)
  fuzz_pubsub_binary     a binary WebSocket message as is (tests/golden/pubsub/request.*.json request_hex)
  fuzz_json_command      a text WebSocket message as is (tests/golden/pubsub/json.*.json input / input_hex)
  fuzz_http_front        piece size byte, upgrade flag byte (bit 0: a valid WebSocket upgrade first), client bytes:
                         REST requests (written here), and the pub-sub vectors as masked WebSocket frames
  fuzz_kafka_session     mode byte (SASL mode | first ApiVersions version << 2), chunk byte, Metadata max
                         version byte, then a broker's answers in order (correlation ids 1, 2, ...)
  fuzz_data_client       selector byte (bits 0-2: Metadata, ListOffsets, Fetch, Produce, FindCoordinator, OffsetCommit,
                         OffsetFetch; bits 3-7: version - lowest sent) + a response without its size prefix
                         (tests/golden/data_client/*_response.*.json)
  fuzz_client_hello      tests/data/client_hello/*.bin as they are
  fuzz_proxy_header      tests/data/proxy_header/*.bin, alone and followed by a ClientHello prefix
  fuzz_scram_server      mode byte + SCRAM messages (RFC 7677's conversation and variants, see the source)
  fuzz_sasl_plain        RFC 4616 messages
  fuzz_users_file        users files (identity/users_file.h) holding RFC 7677's credentials
  fuzz_jwt, fuzz_oauthbearer, fuzz_principal_rules   identity_seeds.py

Usage: /usr/bin/python3 tests/fuzz/seed_corpus.py <output folder>
"""
import base64
import hashlib
import hmac
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


def response(corr, body, header_tags=False):
    payload = struct.pack(">i", corr) + (b"\x00" if header_tags else b"") + body
    return struct.pack(">i", len(payload)) + payload


def api_versions_body(version, ranges, error=0):
    out = struct.pack(">h", error)
    out += bytes([len(ranges) + 1]) if version >= 3 else struct.pack(">i", len(ranges))
    for key, low, high in ranges:
        out += struct.pack(">hhh", key, low, high) + (b"\x00" if version >= 3 else b"")
    if version >= 1:
        out += struct.pack(">i", 0)
    if version >= 3:
        out += b"\x00"
    return out


def metadata_body(version, brokers):
    flexible = version >= 9
    def string(text):
        raw = text.encode()
        return bytes([len(raw) + 1]) + raw if flexible else struct.pack(">h", len(raw)) + raw
    out = struct.pack(">i", 0) if version >= 3 else b""
    out += bytes([len(brokers) + 1]) if flexible else struct.pack(">i", len(brokers))
    for node, host, port in brokers:
        out += struct.pack(">i", node) + string(host) + struct.pack(">i", port)
        if version >= 1:
            out += b"\x00" if flexible else struct.pack(">h", -1)
        if flexible:
            out += b"\x00"
    if version >= 2:
        out += string("cluster")
    if version >= 1:
        out += struct.pack(">i", 1)
    out += b"\x01" if flexible else struct.pack(">i", 0)
    if 8 <= version <= 10:
        out += struct.pack(">i", 0)
    if flexible:
        out += b"\x00"
    return out


def authenticate_body(version, error, message, auth):
    flexible = version >= 2
    if message is None:
        out = struct.pack(">h", error) + (b"\x00" if flexible else struct.pack(">h", -1))
    else:
        raw = message.encode()
        out = struct.pack(">h", error) + (bytes([len(raw) + 1]) if flexible else struct.pack(">h", len(raw))) + raw
    out += bytes([len(auth) + 1]) if flexible else struct.pack(">i", len(auth))
    out += auth
    if version >= 1:
        out += struct.pack(">q", 0)
    if flexible:
        out += b"\x00"
    return out


def session_transcripts():
    """Broker answers to a KafkaSession (fuzz_kafka_session.cpp): header bytes, then frames."""
    modern = [(18, 0, 4), (3, 0, 13), (17, 0, 1), (36, 0, 2)]
    brokers = [(1, "b1.internal", 9092), (2, "b2.internal", 9093)]
    seeds = []
    # No SASL, ApiVersions v3, Metadata v12 and v9 (max version byte 12 / 9).
    for metadata_max in (12, 9, 2):
        seeds.append(bytes([3 << 2, 63, metadata_max]) + response(1, api_versions_body(3, modern)) +
                     response(2, metadata_body(metadata_max, brokers), metadata_max >= 9) +
                     response(3, metadata_body(metadata_max, brokers), metadata_max >= 9))
    # UNSUPPORTED_VERSION: v0 layout listing 0..2, then a v2 answer (librdkafka 2.0.2's mock ranges).
    seeds.append(bytes([3 << 2, 7, 12]) + response(1, api_versions_body(0, [(18, 0, 2)], 35)) +
                 response(2, api_versions_body(2, [(18, 0, 2), (3, 0, 2)])) + response(3, metadata_body(2, brokers)))
    # librdkafka's mock error-35 body, then v0.
    seeds.append(bytes([3 << 2, 5, 12]) + response(1, bytes.fromhex("00230100120000000200000000")) +
                 response(2, api_versions_body(0, [(18, 0, 2), (3, 0, 12)])) +
                 response(3, metadata_body(12, brokers), True))
    # PLAIN over SaslAuthenticate v2 and v0; refused with error 58.
    for auth_version in (2, 0):
        ranges = [(18, 0, 4), (3, 0, 13), (17, 0, 1), (36, 0, auth_version)]
        handshake = struct.pack(">hi", 0, 1) + struct.pack(">h", 5) + b"PLAIN"
        seeds.append(bytes([1 | 3 << 2, 63, 12]) + response(1, api_versions_body(3, ranges)) + response(2, handshake) +
                     response(3, authenticate_body(auth_version, 0, None, b""), auth_version >= 2) +
                     response(4, metadata_body(12, brokers), True))
        seeds.append(bytes([1 | 3 << 2, 63, 12]) + response(1, api_versions_body(3, ranges)) + response(2, handshake) +
                     response(3, authenticate_body(auth_version, 58, "Invalid credentials", b""), auth_version >= 2))
    # SCRAM-SHA-256: server-first extending the fixed nonce "fuzznonce" (one iteration keeps runs fast).
    handshake = struct.pack(">hi", 0, 1) + struct.pack(">h", 13) + b"SCRAM-SHA-256"
    server_first = b"r=fuzznonceSERVER,s=c2FsdA==,i=1"
    seeds.append(bytes([2 | 3 << 2, 63, 12]) + response(1, api_versions_body(3, modern)) + response(2, handshake) +
                 response(3, authenticate_body(2, 0, None, server_first), True) +
                 response(4, authenticate_body(2, 0, None, b"v=AAAA"), True))
    return seeds


# RFC 7677 §3's SCRAM-SHA-256 example; the SHA-512 values are derived from the same inputs.
SCRAM_SALT = "W22ZaJ0SNY7soEsUEjb6gQ=="
SCRAM_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
SCRAM_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"


def scram_keys(hash_name, password="pencil"):
    salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), base64.b64decode(SCRAM_SALT), 4096)
    client_key = hmac.new(salted, b"Client Key", hash_name).digest()
    return client_key, hashlib.new(hash_name, client_key).digest(), hmac.new(salted, b"Server Key", hash_name).digest()


def scram_client_final(hash_name, gs2=b"n,,", nonce=None):
    client_key, stored_key, _ = scram_keys(hash_name)
    nonce = nonce or SCRAM_CLIENT_NONCE + SCRAM_SERVER_NONCE
    bare = f"n=user,r={SCRAM_CLIENT_NONCE}"
    server_first = f"r={SCRAM_CLIENT_NONCE}{SCRAM_SERVER_NONCE},s={SCRAM_SALT},i=4096"
    without_proof = f"c={base64.b64encode(gs2).decode()},r={nonce}"
    signature = hmac.new(stored_key, f"{bare},{server_first},{without_proof}".encode(), hash_name).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


def write_identity_seeds(out: Path):
    first = f"n,,n=user,r={SCRAM_CLIENT_NONCE}".encode()
    for mode, hash_name in ((1, "sha256"), (3, "sha512")):
        write(out, "fuzz_scram_server", bytes([mode]) + scram_client_final(hash_name))
        write(out, "fuzz_scram_server", bytes([mode & ~1]) + first + b"\0" + scram_client_final(hash_name))
    doubled = SCRAM_CLIENT_NONCE + SCRAM_CLIENT_NONCE + SCRAM_SERVER_NONCE
    write(out, "fuzz_scram_server", bytes([1]) + scram_client_final("sha256", nonce=doubled))
    for message in (b"y,,n=user,r=abc", b"n,a=user,n=user,r=abc,x=ext", b"n,,n=us=2Cer=3D,r=abc",
                    b"p=tls-unique,,n=user,r=abc", b"n,,m=x,n=user,r=abc", b"n,,n=user,r=abc,tokenauth=true"):
        write(out, "fuzz_scram_server", bytes([0]) + message)
    write(out, "fuzz_scram_server", bytes([1]) + b"c=biws,r=x,e=y,p=AAAA")

    for message in (b"\0user\0pencil", b"user\0user\0pencil", b"\0user\0wrong", b"\0ghost\0pencil",
                    b"x\0user\0pencil", b"\0\0", b"\0user"):
        write(out, "fuzz_sasl_plain", message)

    credentials = {}
    for mechanism, hash_name in (("SCRAM-SHA-256", "sha256"), ("SCRAM-SHA-512", "sha512")):
        _, stored_key, server_key = scram_keys(hash_name)
        credentials[mechanism] = {"salt": SCRAM_SALT, "iterations": 4096,
                                  "stored_key": base64.b64encode(stored_key).decode(),
                                  "server_key": base64.b64encode(server_key).decode()}
    users = {"version": 1, "unknown_user_secret": base64.b64encode(b"k" * 32).decode(),
             "users": {"user": credentials, "a,b=c": {"SCRAM-SHA-256": credentials["SCRAM-SHA-256"]}}}
    write(out, "fuzz_users_file", json.dumps(users, indent=2).encode())
    write(out, "fuzz_users_file", json.dumps(users).encode())


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
        # capture nothing; key % 8 == 1 (SaslHandshake); == 2 (ApiVersions, FindCoordinator); capture 2 and
        # inspect 6 (none here) ; capture 7 and inspect 3 (Metadata)
        for selector in (0x80, 1, 2, 0x0a, 0x0f):
            write(out, "fuzz_request_tracker", bytes([chunk, selector]) + b"".join(requests))
    for r in requests:
        write(out, "fuzz_request_tracker", bytes([0, 1]) + r)
    # SaslHandshake v0 captured (key % 8 == 1) and two unframed KIP-43 tokens after it (selector bits 4..6 = 2),
    # one of them empty, then a Metadata request framed again.
    v0_stream = (request(17, 0, 7, "s", struct.pack(">h", 13) + b"SCRAM-SHA-256")
                 + struct.pack(">i", 15) + b"n,,n=user,r=abc" + struct.pack(">i", 0)
                 + request(3, 12, 8, "c", b"\x01\x00\x00\x00", tags=[]))
    for chunk in (0, 3, 63):
        write(out, "fuzz_request_tracker", bytes([chunk, 0x21]) + v0_stream)

    # SaslTerminator: a handshake (kind 0) at v1 and at v0, then a PLAIN message (kind 1, SaslAuthenticate v2, or
    # the unframed token that follows a v0 handshake), and SCRAM's client-first.
    def sasl_message(kind, version, body):
        return bytes([kind, version, len(body)]) + body
    plain = b"\x00user\x00pencil"
    for version in (1, 0):
        write(out, "fuzz_sasl_terminator", sasl_message(0, version, b"PLAIN") + sasl_message(1, 2, plain))
        write(out, "fuzz_sasl_terminator",
              sasl_message(0, version, b"SCRAM-SHA-256") + sasl_message(1, 2, b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))

    # FrameAssembler: golden frames back to back, in small and large chunks, small and large maximum.
    stream = b"".join(frame for _, _, frame in frames[:6])
    for chunk, max_selector in ((0, 1), (5, 1), (63, 0)):
        write(out, "fuzz_frame_assembler", bytes([chunk, max_selector]) + stream)
    write(out, "fuzz_frame_assembler", bytes([3, 1]) + stream[:-3])  # ends mid-frame

    # Policy refusals: every refusable API and version, from the refusal golden vectors.
    for path in sorted((ROOT / "tests" / "golden" / "refusals").glob("*.json")):
        write(out, "fuzz_refusal", bytes.fromhex(json.loads(path.read_text())["request_hex"])[4:])
    write(out, "fuzz_refusal", request(0, 3, 3, "p", struct.pack(">hhi", -1, 1, 1000) + b"\x00\x00\x00\x00")[4:])

    # A namespace's rename path: the rename vectors (requests mode 0; responses mode 1 with api, version, key
    # type), and every request a policy reads (the refusal vectors), whose names are renamed too.
    for path in sorted((ROOT / "tests" / "golden" / "rename").glob("*.json")):
        doc = json.loads(path.read_text())
        body = bytes.fromhex(doc["input"])[4:]
        if doc["direction"] == "request":
            write(out, "fuzz_rename", b"\x00" + body)
        else:
            key_type = doc.get("coordinator_key_type", -1)
            write(out, "fuzz_rename", b"\x01" + struct.pack(">hhb", doc["api_key"], doc["version"],
                                                              -1 if key_type is None else key_type) + body)
    for path in sorted((ROOT / "tests" / "golden" / "refusals").glob("*.json")):
        write(out, "fuzz_rename", b"\x00" + bytes.fromhex(json.loads(path.read_text())["request_hex"])[4:])

    # Requests allowed in part or not at all: each split vector's request with its refused positions as the verdict
    # byte and its unknown ids' positions as the error byte (those past 8 topics wrap), then its broker response;
    # the vectors that are not split, with no response.
    for path in sorted((ROOT / "tests" / "golden" / "split").glob("*.json")):
        doc = json.loads(path.read_text())
        unknown = set(doc["unknown_topic_ids"])
        refused = set(doc["refused_topics"]) | unknown
        mask = errors = 0
        for i, topic in enumerate(doc["request_topics"][:8]):
            if topic in refused:
                mask |= 1 << i
            if topic in unknown:
                errors |= 1 << i
        request_body = bytes.fromhex(doc["request_hex"])[4:]
        if len(request_body) > 0xFFFF:
            continue
        response_body = bytes.fromhex(doc["broker_response_hex"])[4:] if "broker_response_hex" in doc else b""
        write(out, "fuzz_split", bytes([mask, errors]) + struct.pack(">H", len(request_body)) + request_body
              + response_body)

    # What a policy's ACLs read: requests (mode 0) from the request resource vectors, and Metadata responses
    # (mode 1, version, filter byte: listing bit + deny seed) from the topic filter vectors.
    for path in sorted((ROOT / "tests" / "golden" / "requests").glob("*.json")):
        write(out, "fuzz_policy_read", b"\x00" + bytes.fromhex(json.loads(path.read_text())["request_hex"])[4:])
    # The OffsetFetch requests the offset filter vectors answer (asked all, by name, and mixed v8+ groups).
    for path in sorted((ROOT / "tests" / "golden" / "offset_filter").glob("*.json")):
        write(out, "fuzz_policy_read", b"\x00" + bytes.fromhex(json.loads(path.read_text())["request_hex"])[4:])
    for path in sorted((ROOT / "tests" / "golden" / "topic_filter").glob("*.json")):
        doc = json.loads(path.read_text())
        response = bytes.fromhex(doc["response_hex"])[4:]
        for filter_byte in (0x01, 0x00, 0x07, 0xfe):
            write(out, "fuzz_policy_read", bytes([1, doc["api_version"], filter_byte]) + response)
    # ListGroups responses (mode 3, version, deny seed) from the group filter vectors.
    for path in sorted((ROOT / "tests" / "golden" / "group_filter").glob("*.json")):
        doc = json.loads(path.read_text())
        response = bytes.fromhex(doc["response_hex"])[4:]
        for filter_byte in (0x00, 0x03, 0x7f):
            write(out, "fuzz_policy_read", bytes([3, doc["api_version"], filter_byte]) + response)
    # OffsetFetch responses (mode 7, version, filter byte: bit 7 asked by name + deny seed) from the offset filter
    # vectors, each asked the way its vector was and the other way.
    for path in sorted((ROOT / "tests" / "golden" / "offset_filter").glob("*.json")):
        doc = json.loads(path.read_text())
        response = bytes.fromhex(doc["response_hex"])[4:]
        for asked_bit in (0x00, 0x80):
            for seed in (0x00, 0x03, 0x7f):
                write(out, "fuzz_policy_read", bytes([7, doc["api_version"], asked_bit | seed]) + response)

    # WebSocket client streams (tests/golden/websocket/parse.*.json) with their message limit (kMaxima in
    # fuzz_websocket.cpp: 0, 16, 125, 4096, 1 MiB), fed in pieces of 1, 7 and 64 bytes.
    websocket_maxima = [0, 16, 125, 4096, 1 << 20]
    for path in sorted((ROOT / "tests" / "golden" / "websocket").glob("parse.*.json")):
        doc = json.loads(path.read_text())
        stream = bytes.fromhex(doc["input_hex"])
        if len(stream) > 8192:
            continue
        selector = websocket_maxima.index(doc["max_message_bytes"])
        for piece in (0, 6, 63):
            write(out, "fuzz_websocket", bytes([piece, selector]) + stream)

    # Kafka over WebSocket: the pub-sub vectors' binary requests and JSON commands, as they are.
    for path in sorted((ROOT / "tests" / "golden" / "pubsub").glob("request.*.json")):
        write(out, "fuzz_pubsub_binary", bytes.fromhex(json.loads(path.read_text())["request_hex"]))
    for path in sorted((ROOT / "tests" / "golden" / "pubsub").glob("json.*.json")):
        doc = json.loads(path.read_text())
        text = doc["input"].encode() if "input" in doc else bytes.fromhex(doc["input_hex"])
        if len(text) <= 8192:
            write(out, "fuzz_json_command", text)

    # The HTTP front: REST requests, and WebSocket frames carrying the pub-sub vectors' commands.
    rest = [b"GET /topics HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /topics/t/partitions/0/records?offset=5&max_bytes=100 HTTP/1.1\r\nHost: h\r\n"
            b"Accept: application/vnd.kafka.json.v2+json\r\n\r\n",
            b"POST /topics/t HTTP/1.1\r\nHost: h\r\nContent-Type: application/vnd.kafka.json.v2+json\r\n"
            b"Content-Length: 38\r\n\r\n{\"records\":[{\"key\":\"k\",\"value\":{}}]}",
            b"POST /groups/g/offsets HTTP/1.1\r\nHost: h\r\nContent-Length: 54\r\n\r\n"
            b"{\"offsets\":[{\"topic\":\"t\",\"partition\":0,\"offset\":1}]}",
            b"GET /x HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YTpi\r\n\r\nGET /y HTTP/1.1\r\n\r\n"]
    for rest_request in rest:
        for piece in (0, 7):
            write(out, "fuzz_http_front", bytes([piece, 0]) + rest_request)

    def masked(opcode, payload):
        head = bytes([0x80 | opcode])
        head += bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
        mask = b"\x01\x02\x03\x04"
        return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    frames = []
    for path in sorted((ROOT / "tests" / "golden" / "pubsub").glob("request.*.json")):
        frames.append(masked(0x2, bytes.fromhex(json.loads(path.read_text())["request_hex"])))
    for path in sorted((ROOT / "tests" / "golden" / "pubsub").glob("json.*.json")):
        doc = json.loads(path.read_text())
        text = doc["input"].encode() if "input" in doc else bytes.fromhex(doc["input_hex"])
        if len(text) < 60000:
            frames.append(masked(0x1, text))
    for frame in frames:
        write(out, "fuzz_http_front", bytes([63, 1]) + frame)

    # Record batches written by librdkafka, every codec, under both caps.
    for path in sorted((ROOT / "tests" / "golden" / "records").glob("*.json")):
        blob = bytes.fromhex(json.loads(path.read_text())["records_hex"])
        for mode in (0, 1, 2, 3):
            write(out, "fuzz_records", bytes([mode]) + blob)

    # The data client's answers: Metadata(topics), ListOffsets, Fetch, Produce, FindCoordinator, OffsetCommit and
    # OffsetFetch at every version kedge sends.
    data_client = {3: (0, 1), 2: (1, 1), 1: (2, 4), 0: (3, 3), 10: (4, 0), 8: (5, 2), 9: (6, 1)}  # key: (selector, lowest)
    for path in sorted((ROOT / "tests" / "golden" / "data_client").rglob("*_response.*.json")):  # captures/ too
        case = json.loads(path.read_text())
        selector, lowest = data_client[case["api_key"]]
        frame = bytes.fromhex(case["response_hex"])
        write(out, "fuzz_data_client", bytes([selector | (case["api_version"] - lowest) << 3]) + frame[4:])

    # KafkaSession: scripted broker answers (see session_transcripts).
    for seed in session_transcripts():
        write(out, "fuzz_kafka_session", seed)

    for capture in sorted((ROOT / "tests" / "data" / "client_hello").glob("*.bin")):
        write(out, "fuzz_client_hello", capture.read_bytes())
    # PROXY headers captured from HAProxy, alone and followed by a ClientHello.
    hello = (ROOT / "tests" / "data" / "client_hello" / "python-ssl.bin").read_bytes()
    for capture in sorted((ROOT / "tests" / "data" / "proxy_header").glob("*.bin")):
        write(out, "fuzz_proxy_header", capture.read_bytes())
        write(out, "fuzz_proxy_header", capture.read_bytes() + hello[:64])
    write(out, "fuzz_proxy_header", b"PROXY UNKNOWN\r\n")
    write_identity_seeds(out)
    identity_seeds.write_all(lambda target, data: write(out, target, data))
    (out / "common").mkdir(parents=True, exist_ok=True)
    print(f"seed corpora from {len(golden)} golden vectors in {out}")


if __name__ == "__main__":
    main()
