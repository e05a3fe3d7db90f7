#!/usr/bin/python3
"""Checks the sasl_stage.py TEST FIXTURE itself, before any kedge test relies on it (loopback, no root).

  1. ScramServer reproduces RFC 7677 §3's SCRAM-SHA-256 example (user "user", password "pencil", the RFC's
     nonces and salt): server-first, acceptance of the RFC's ClientProof, the RFC's ServerSignature; a proof
     from a wrong password and a replayed nonce are refused.
  2. A real stage in front of a real librdkafka 2.12 mock broker (1-broker cluster whose advertised address is
     set to the stage with `hostport`), driven by raw Kafka frames:
       - ApiVersions v0 and v3 (flexible) answers advertise SaslHandshake v0-1 and SaslAuthenticate v0-2 and
         keep the mock's other keys (Metadata, Produce, ...);
       - SaslHandshake for GSSAPI -> error 33 + the enabled list, then the connection is closed;
       - Metadata before authenticating -> closed;
       - SaslAuthenticate v2 (flexible) PLAIN: wrong password -> error 58 with a message, then closed; right
         password -> error 0, then a Metadata request is relayed and names the stage's address.
  3. kclient_rdk212 (librdkafka 2.12) with security.protocol=SASL_PLAINTEXT straight to the stage:
     PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 each produce N and consume them in a group; a wrong password
     for each mechanism fails with librdkafka's authentication error; the stage log never holds a password.

Usage: test_sasl_stage.py   (KEDGE_MOCK_CLUSTER_RDK212 / KEDGE_KCLIENT_RDK212 from ctest, or KEDGE_BUILD_DIR)
"""
import base64
import hashlib
import hmac
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sasl_stage  # noqa: E402
from test_topology_smoke import Checks, summary_fields  # noqa: E402
from topology import tool_path  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
USERS = {"alice": "alice-Secret-7f3a", "bob": "bob-Secret-91c2"}
MESSAGES = 300


def check_rfc7677(checks):
    credential = sasl_stage.ScramCredential("sha256", "pencil", base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)
    server = sasl_stage.ScramServer("SCRAM-SHA-256", {"user": credential}.get,
                                    server_nonce="%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    server_first = server.first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    checks.record("RFC 7677: server-first-message",
                  server_first == "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                  "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", server_first)
    final = server.final(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                         b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    checks.record("RFC 7677: ClientProof accepted, ServerSignature matches",
                  final == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", final)

    def refused(proof, nonce="rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"):
        other = sasl_stage.ScramServer("SCRAM-SHA-256", {"user": credential}.get,
                                       server_nonce="%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
        other.first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        try:
            other.final(f"c=biws,r={nonce},p={proof}".encode())
        except sasl_stage.ScramFailure as error:
            return str(error)
        return None
    wrong = base64.b64encode(bytes(32)).decode()
    checks.record("RFC 7677: a different proof is refused", refused(wrong) == "wrong proof", refused(wrong))
    checks.record("RFC 7677: a different nonce is refused",
                  refused("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "rOprNGfwEbeRWgbNEkqOxx")
                  == "nonce mismatch")
    # librdkafka < 2.6.1 echoes client-nonce + combined nonce (confluentinc/librdkafka#4895). A client-side
    # proof over that form (RFC 5802 §3, computed here independently) is accepted in kafka3 mode only.
    def doubled_nonce_outcome(accept):
        other = sasl_stage.ScramServer("SCRAM-SHA-256", {"user": credential}.get, server_nonce="SRV",
                                       accept_repeated_client_nonce=accept)
        other.first(b"n,,n=user,r=CLI")
        salted = hashlib.pbkdf2_hmac("sha256", b"pencil", base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        without_proof = "c=biws,r=CLICLISRV"
        auth_message = f"n=user,r=CLI,{other.server_first},{without_proof}".encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, "sha256").digest()
        proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature))).decode()
        try:
            return other.final(f"{without_proof},p={proof}".encode())[:2]
        except sasl_stage.ScramFailure as error:
            return str(error)
    checks.record("SCRAM: librdkafka<2.6.1's repeated client nonce accepted in kafka3 mode, refused when strict",
                  doubled_nonce_outcome(True) == "v=" and doubled_nonce_outcome(False) == "nonce mismatch",
                  f"{doubled_nonce_outcome(True)} / {doubled_nonce_outcome(False)}")
    unknown = sasl_stage.ScramServer("SCRAM-SHA-256", {}.get)
    unknown.first(b"n,,n=mallory,r=abc")
    try:
        unknown.final(f"c=biws,r={unknown.nonce},p={wrong}".encode())
        outcome = "accepted"
    except sasl_stage.ScramFailure as error:
        outcome = str(error)
    checks.record("SCRAM: an unknown user gets a salt and fails only at the proof", outcome == "unknown user",
                  outcome)


def check_api_versions_v3_patch(checks):
    """A flexible (v3) ApiVersions response as Kafka 3.x brokers send it: compact array, per-entry tagged
    fields, throttle_time_ms, then body tagged fields (here: tag 0 SupportedFeatures with opaque bytes).
    The mock cannot produce one (it implements v0-2), so the patch is checked on a hand-encoded frame."""
    uv = sasl_stage.uvarint
    entries = [(0, 0, 11), (3, 0, 12), (18, 0, 3), (36, 0, 1)]
    per_entry_tag = uv(1) + uv(7) + uv(2) + b"\xab\xcd"  # one unknown tag on the first entry, kept as is
    body = struct.pack(">i", 42) + struct.pack(">h", 0) + uv(len(entries) + 1)
    for index, (key, low, high) in enumerate(entries):
        body += struct.pack(">hhh", key, low, high) + (per_entry_tag if index == 0 else uv(0))
    trailer = struct.pack(">i", 5) + uv(1) + uv(0) + uv(3) + b"xyz"
    patched = sasl_stage.patch_api_versions_response(body + trailer, 3)
    keys = sasl_stage.parse_api_versions_response(patched, 3)
    checks.record("ApiVersions v3 (hand-encoded): 17 added as 0-1, 36 raised to 0-2, other entries, "
                  "entry tags, throttle and body tags kept",
                  keys == {0: (0, 11), 3: (0, 12), 18: (0, 3), 36: (0, 2), 17: (0, 1)}
                  and per_entry_tag in patched and patched.endswith(trailer), f"{keys}")


# ----- raw Kafka frames ---------------------------------------------------------------------------------
def request(api_key, version, correlation, body, flexible=False):
    header = struct.pack(">hhi", api_key, version, correlation) + sasl_stage.string16("stage-test")
    if flexible:
        header += sasl_stage.uvarint(0)
    return sasl_stage.frame(header + body)


def exchange(sock, data):
    sock.sendall(data)
    return sasl_stage.recv_frame(sock, 1 << 24)


def closed_by_peer(sock, timeout=5.0):
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def api_versions(port, version):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        flexible = version >= 3
        body = (sasl_stage.compact_nullable_string("kedge-test") + sasl_stage.compact_nullable_string("1.0")
                + sasl_stage.uvarint(0)) if flexible else b""
        response = exchange(sock, request(18, version, 7, body, flexible))
        return sasl_stage.parse_api_versions_response(response, version), response


def handshake(sock, mechanism, correlation=1):
    response = exchange(sock, request(17, 1, correlation, sasl_stage.string16(mechanism)))
    reader = sasl_stage.Reader(response)
    reader.int32()
    error = reader.int16()
    mechanisms = [reader.nullable_string() for _ in range(reader.int32())]
    return error, mechanisms


def authenticate_v2(sock, token, correlation=2):
    body = sasl_stage.compact_bytes(token) + sasl_stage.uvarint(0)
    response = exchange(sock, request(36, 2, correlation, body, flexible=True))
    reader = sasl_stage.Reader(response)
    reader.int32()
    reader.skip_tagged_fields()  # response header v1
    error, message = reader.int16(), reader.compact_nullable_string()
    reader.compact_bytes()
    reader.take(8)
    reader.skip_tagged_fields()
    return error, message


def metadata_v1_brokers(sock):
    response = exchange(sock, request(3, 1, 9, struct.pack(">i", -1)))
    reader = sasl_stage.Reader(response)
    reader.int32()
    brokers = []
    for _ in range(reader.int32()):
        node, host, port = reader.int32(), reader.nullable_string(), reader.int32()
        reader.nullable_string()  # rack
        brokers.append((node, f"{host}:{port}"))
    return brokers


def check_raw(checks, port):
    for version in (0, 1, 2):
        keys, _ = api_versions(port, version)
        checks.record(f"ApiVersions v{version}: SaslHandshake 0-1 and SaslAuthenticate 0-2 advertised, mock's "
                      f"keys kept",
                      keys.get(17) == (0, 1) and keys.get(36) == (0, 2) and 3 in keys and 0 in keys and 1 in keys,
                      f"{len(keys)} keys, 17={keys.get(17)} 36={keys.get(36)}")
    # The 2.12 mock implements ApiVersions v0-2 only: v3 gets UNSUPPORTED_VERSION (35), which the client
    # answers by retrying with v2; the stage must hand that error through unchanged.
    _, raw = api_versions(port, 3)
    error = struct.unpack(">h", raw[4:6])[0]
    checks.record("ApiVersions v3: the mock's UNSUPPORTED_VERSION answer passes through unchanged",
                  error == 35, f"error={error}")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        error, mechanisms = handshake(sock, "GSSAPI")
        checks.record("SaslHandshake GSSAPI -> error 33 with the enabled list, then closed",
                      error == 33 and mechanisms == list(sasl_stage.ALL_MECHANISMS) and closed_by_peer(sock),
                      f"error={error} mechanisms={mechanisms}")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request(3, 1, 1, struct.pack(">i", -1)))
        checks.record("Metadata before authentication -> closed without an answer", closed_by_peer(sock))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        handshake(sock, "PLAIN")
        error, message = authenticate_v2(sock, b"\x00alice\x00wrong-password")
        checks.record("SaslAuthenticate v2 PLAIN, wrong password -> error 58 with a message, then closed",
                      error == 58 and message and "PLAIN" in message and closed_by_peer(sock),
                      f"error={error} message={message!r}")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        handshake(sock, "PLAIN")
        error, message = authenticate_v2(sock, b"\x00alice\x00" + USERS["alice"].encode())
        brokers = metadata_v1_brokers(sock) if error == 0 else []
        checks.record("SaslAuthenticate v2 PLAIN, right password -> 0; Metadata relayed, names the stage",
                      error == 0 and brokers == [(1, f"127.0.0.1:{port}")], f"error={error} brokers={brokers}")


def sasl_args(mechanism, user, password):
    return ["-X", "security.protocol=SASL_PLAINTEXT", "-X", f"sasl.mechanisms={mechanism}",
            "-X", f"sasl.username={user}", "-X", f"sasl.password={password}"]


def check_librdkafka(checks, port, kclient):
    bootstrap = f"127.0.0.1:{port}"
    for index, mechanism in enumerate(sasl_stage.ALL_MECHANISMS):
        user = ("alice", "bob")[index % 2]
        prefix = f"direct-{mechanism}"
        argv = [kclient, "produce", "--bootstrap", bootstrap, "--topic", "stage", "--count", str(MESSAGES),
                "--prefix", prefix, "--timeout-ms", "20000", *sasl_args(mechanism, user, USERS[user])]
        produced = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        fields = summary_fields(produced.stdout, "produce")
        checks.record(f"kclient_rdk212 {mechanism} as {user}: produced {MESSAGES} through the stage",
                      fields.get("delivered") == str(MESSAGES) and produced.returncode == 0,
                      produced.stdout.strip() or produced.stderr[-400:])
        argv = [kclient, "consume", "--bootstrap", bootstrap, "--topic", "stage", "--group", f"g-{prefix}",
                "--expect", str(MESSAGES), "--prefix", prefix, "--timeout-ms", "30000", "--linger-ms", "500",
                *sasl_args(mechanism, user, USERS[user])]
        consumed = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        fields = summary_fields(consumed.stdout, "consume")
        checks.record(f"kclient_rdk212 {mechanism} as {user}: group consumer saw each message once",
                      consumed.returncode == 0 and fields.get("unique") == str(MESSAGES)
                      and fields.get("duplicates") == "0", consumed.stdout.strip() or consumed.stderr[-400:])
        argv = [kclient, "metadata", "--bootstrap", bootstrap, "--timeout-ms", "4000",
                *sasl_args(mechanism, user, "not-" + USERS[user])]
        refused = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        checks.record(f"kclient_rdk212 {mechanism}: wrong password -> authentication failure",
                      refused.returncode != 0 and "Authentication failed" in refused.stderr,
                      refused.stderr.strip()[-300:])


def main():
    checks = Checks()
    check_rfc7677(checks)
    check_api_versions_v3_patch(checks)
    mock_binary, kclient = tool_path("mock_cluster_rdk212"), tool_path("kclient_rdk212")
    if mock_binary is None or kclient is None:
        checks.record("mock_cluster_rdk212 and kclient_rdk212 are built", False)
        return 1
    log_dir = tempfile.mkdtemp(prefix="sasl-stage-test-")
    mock = subprocess.Popen([mock_binary, "--brokers", "1", "--topic", "stage:3:1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=open(os.path.join(log_dir, "mock.log"), "w"), text=True)
    stage = None
    try:
        line = mock.stdout.readline()
        upstream = line.split()[1]
        stage_log = os.path.join(log_dir, "stage.log")
        stage = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "sasl_stage.py"), "--listen",
                                  "127.0.0.1:0", "--upstream", upstream, "--name", "broker-1",
                                  *[f"--user={name}:{password}" for name, password in USERS.items()]],
                                 stdout=subprocess.PIPE, stderr=open(stage_log, "w"), text=True)
        port = int(stage.stdout.readline().split(":")[-1])
        mock.stdin.write(f"hostport 1 127.0.0.1 {port}\n")
        mock.stdin.flush()
        checks.record("mock advertises the stage (hostport)", mock.stdout.readline().strip() == "ok")
        check_raw(checks, port)
        check_librdkafka(checks, port, kclient)
        time.sleep(0.2)
        with open(stage_log) as log:
            text = log.read()
        checks.record("stage log names mechanism and user of each success and failure",
                      all(f"{mechanism} user" in text for mechanism in sasl_stage.ALL_MECHANISMS)
                      and text.count("authentication failed") >= 4, f"{text.count('authenticated;')} successes")
        checks.record("stage log holds no password", not any(password in text for password in USERS.values()))
    finally:
        if stage is not None:
            stage.kill()
            stage.wait()
        mock.stdin.close()
        mock.wait(10)
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
