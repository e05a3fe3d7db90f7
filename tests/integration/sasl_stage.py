#!/usr/bin/python3
"""TEST FIXTURE: a SASL-authenticating stage in front of ONE librdkafka mock broker.

The librdkafka mock broker speaks only PLAINTEXT without authentication, so kedge's SASL passthrough is
tested against this stage instead: it listens on a plaintext TCP port and, per client connection, behaves
like a Kafka broker that requires SASL (listener `SASL_PLAINTEXT`), then relays bytes to the mock broker.
Python 3 stdlib only; run with /usr/bin/python3. One stage per mock broker; the test makes the mock
advertise the stage's address with mock_cluster's `hostport ID HOST PORT` (rd_kafka_mock_broker_set_host_port),
so Metadata / FindCoordinator answers name the stage and every later connection goes through a stage too.

Per connection (a state machine; any violation closes the connection, as a Kafka broker does):
  AwaitingHandshake  ApiVersions (any version, any number of times) is forwarded to the mock broker over this
                     connection's upstream socket; the answer is patched to advertise SaslHandshake (key 17)
                     v0-1 and SaslAuthenticate (key 36) v0-2 - the versions implemented here - and returned.
                     SaslHandshake v1 selects a mechanism: an enabled one -> error 0 + the enabled list;
                     otherwise error 33 UNSUPPORTED_SASL_MECHANISM + the enabled list, then close.
                     SaslHandshake v0 (unframed tokens follow, KIP-43) and every other request -> close.
  Authenticating     SaslAuthenticate v0-v2 (v2 flexible, KIP-482) only. PLAIN (RFC 4616): one token
                     `authzid NUL authcid NUL passwd`, checked against the user table. SCRAM-SHA-256/-512
                     (RFC 5802, RFC 7677): client-first -> server-first (salt, iterations, combined nonce),
                     client-final -> channel-binding, nonce and ClientProof checked against the stored keys
                     (--scram-nonce kafka3, the default, also takes librdkafka < 2.6.1's repeated client
                     nonce as Kafka 3.x brokers did; strict = RFC 5802 only)
                     (only StoredKey/ServerKey are kept, as a real server does), then server-final carrying
                     ServerSignature. Wrong credentials -> error 58 SASL_AUTHENTICATION_FAILED with a
                     message, then close.
  Relaying           after success, bytes flow unchanged both ways between client and mock broker.

Command line:
  sasl_stage.py --listen HOST:PORT --upstream HOST:PORT --user NAME:PASSWORD [--user ...]
                [--mechanisms PLAIN,SCRAM-SHA-256,SCRAM-SHA-512] [--scram-iterations 4096] [--name TAG]
                [--scram-nonce kafka3|strict]
Prints `LISTENING HOST:PORT` on stdout once the socket listens (PORT 0 picks a free port). Logs one line per
connection event on stderr (mechanism, user, outcome) and never a password or a token.

The pure parts (frame codec, ApiVersions patch, ScramServer, check_plain) are importable for unit checks:
test_sasl_stage.py checks ScramServer against RFC 7677's SCRAM-SHA-256 example.
"""
import argparse
import base64
import hashlib
import hmac
import os
import socket
import struct
import sys
import threading

API_SASL_HANDSHAKE = 17
API_API_VERSIONS = 18
API_SASL_AUTHENTICATE = 36
SASL_HANDSHAKE_VERSIONS = (0, 1)
SASL_AUTHENTICATE_VERSIONS = (0, 2)
ERROR_UNSUPPORTED_SASL_MECHANISM = 33
ERROR_SASL_AUTHENTICATION_FAILED = 58
ALL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
SCRAM_HASHES = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
MAX_PRE_AUTH_FRAME = 1 << 20  # a SASL exchange or ApiVersions never needs more; bounds what we buffer
AUTH_FAILED_MESSAGE = "Authentication failed during authentication due to invalid credentials with SASL mechanism {}"


class ProtocolError(Exception):
    """The peer sent something this broker refuses; the connection is closed."""


# ----- Kafka primitive codec ------------------------------------------------------------------------
class Reader:
    """Bounded reads over one frame; every length is checked against what is left."""

    def __init__(self, data, offset=0):
        self.data, self.offset = data, offset

    def take(self, count):
        if count < 0 or self.offset + count > len(self.data):
            raise ProtocolError(f"truncated frame (need {count} bytes at {self.offset}, have {len(self.data)})")
        chunk = self.data[self.offset:self.offset + count]
        self.offset += count
        return chunk

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        value, shift = 0, 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 28:
                raise ProtocolError("unsigned varint longer than 5 bytes")

    def nullable_string(self):  # int16 length, -1 = null
        length = self.int16()
        return None if length < 0 else self.take(length).decode("utf-8", "replace")

    def compact_nullable_string(self):  # uvarint length + 1, 0 = null
        length = self.uvarint() - 1
        return None if length < 0 else self.take(length).decode("utf-8", "replace")

    def bytes32(self):
        length = self.int32()
        return b"" if length < 0 else self.take(length)

    def compact_bytes(self):
        length = self.uvarint() - 1
        return b"" if length < 0 else self.take(length)

    def skip_tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            self.take(self.uvarint())

    def rest(self):
        return self.data[self.offset:]


def uvarint(value):
    out = bytearray()
    while True:
        if value < 0x80:
            out.append(value)
            return bytes(out)
        out.append((value & 0x7F) | 0x80)
        value >>= 7


def string16(text):
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def compact_nullable_string(text):
    if text is None:
        return uvarint(0)
    raw = text.encode()
    return uvarint(len(raw) + 1) + raw


def compact_bytes(raw):
    return uvarint(len(raw) + 1) + raw


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


# ----- requests ---------------------------------------------------------------------------------------
def request_header_is_flexible(api_key, api_version):
    """Request header v2 (tagged fields after client_id) for the flexible versions this stage parses."""
    return (api_key == API_API_VERSIONS and api_version >= 3) or \
           (api_key == API_SASL_AUTHENTICATE and api_version >= 2)


def parse_request_header(payload):
    """(api_key, api_version, correlation_id, Reader positioned at the body)."""
    reader = Reader(payload)
    api_key, api_version, correlation_id = reader.int16(), reader.int16(), reader.int32()
    reader.nullable_string()  # client_id: int16 length even in header v2
    if request_header_is_flexible(api_key, api_version):
        reader.skip_tagged_fields()
    return api_key, api_version, correlation_id, reader


# ----- ApiVersions ------------------------------------------------------------------------------------
def patch_api_versions_response(response, api_version):
    """Returns the ApiVersions response (correlation id + body, header v0 in every version, KIP-511) with
    SaslHandshake and SaslAuthenticate set to the ranges this stage implements (added when missing).

    v0: error, [key min max] (int32 count); v1-2: + throttle_time_ms; v3+: compact array whose entries end in
    tagged fields, then throttle_time_ms and the body's tagged fields (copied unchanged). A response carrying
    an error (e.g. UNSUPPORTED_VERSION, answered in the v0 layout) is returned unchanged."""
    reader = Reader(response)
    correlation = reader.take(4)
    error_code = reader.int16()
    if error_code != 0:
        return response
    flexible = api_version >= 3
    count = reader.uvarint() - 1 if flexible else reader.int32()
    if count < 0 or count > 10000:
        raise ProtocolError(f"ApiVersions response with {count} entries")
    entries = []  # (key, min, max, raw tagged fields)
    for _ in range(count):
        key, low, high = reader.int16(), reader.int16(), reader.int16()
        tags = b""
        if flexible:
            start = reader.offset
            reader.skip_tagged_fields()
            tags = response[start:reader.offset]
        entries.append((key, low, high, tags))
    tail = reader.rest()  # throttle_time_ms (v1+) and, for v3+, the body's tagged fields
    wanted = {API_SASL_HANDSHAKE: SASL_HANDSHAKE_VERSIONS, API_SASL_AUTHENTICATE: SASL_AUTHENTICATE_VERSIONS}
    empty_tags = uvarint(0) if flexible else b""
    patched = [(key, *wanted.pop(key), tags) if key in wanted else (key, low, high, tags)
               for key, low, high, tags in entries]
    patched += [(key, low, high, empty_tags) for key, (low, high) in sorted(wanted.items())]
    out = bytearray(correlation + struct.pack(">h", 0))
    out += uvarint(len(patched) + 1) if flexible else struct.pack(">i", len(patched))
    for key, low, high, tags in patched:
        out += struct.pack(">hhh", key, low, high) + tags
    return bytes(out + tail)


def parse_api_versions_response(response, api_version):
    """{key: (min, max)} of an ApiVersions response (used by the fixture's own test)."""
    reader = Reader(response)
    reader.take(4)
    if reader.int16() != 0:
        return {}
    flexible = api_version >= 3
    count = reader.uvarint() - 1 if flexible else reader.int32()
    result = {}
    for _ in range(count):
        key, low, high = reader.int16(), reader.int16(), reader.int16()
        if flexible:
            reader.skip_tagged_fields()
        result[key] = (low, high)
    return result


# ----- PLAIN (RFC 4616) -------------------------------------------------------------------------------
def check_plain(token, users):
    """The authenticated user name, or None. token = [authzid] NUL authcid NUL passwd."""
    parts = token.split(b"\x00")
    if len(parts) != 3:
        return None
    authzid, authcid, password = (part.decode("utf-8", "replace") for part in parts)
    expected = users.get(authcid)
    if expected is None or (authzid and authzid != authcid):
        return None
    return authcid if hmac.compare_digest(expected.encode(), password.encode()) else None


# ----- SCRAM (RFC 5802, RFC 7677) ---------------------------------------------------------------------
class ScramCredential:
    """What a SCRAM server stores for one user: salt, iteration count, StoredKey, ServerKey (RFC 5802 §3)."""

    def __init__(self, hash_name, password, salt, iterations):
        self.salt, self.iterations = salt, iterations
        salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), salt, iterations)
        client_key = hmac.new(salted, b"Client Key", hash_name).digest()
        self.stored_key = hashlib.new(hash_name, client_key).digest()
        self.server_key = hmac.new(salted, b"Server Key", hash_name).digest()


def scram_unescape(name):
    """saslname: '=2C' -> ',' and '=3D' -> '='; any other '=' is malformed (RFC 5802 §5.1)."""
    out, index = [], 0
    while index < len(name):
        if name[index] == "=":
            code = name[index:index + 3]
            if code not in ("=2C", "=3D"):
                raise ProtocolError("malformed saslname escape")
            out.append("," if code == "=2C" else "=")
            index += 3
        else:
            out.append(name[index])
            index += 1
    return "".join(out)


class ScramFailure(Exception):
    """Authentication failed (wrong proof, nonce, channel binding or unknown user)."""


class ScramServer:
    """One SCRAM server conversation: first() then final(). credentials(user) -> ScramCredential or None.

    An unknown user gets a made-up salt and fails only at final(), so the exchange does not reveal which
    user names exist (RFC 5802 §9 discusses this)."""

    def __init__(self, mechanism, credentials, server_nonce=None, iterations=4096,
                 accept_repeated_client_nonce=False):
        self.mechanism = mechanism
        self.hash_name = SCRAM_HASHES[mechanism]
        self.credentials = credentials
        self.server_nonce = server_nonce or base64.b64encode(os.urandom(18)).decode()
        self.iterations = iterations
        self.user = None
        self.credential = None
        self.stage = "first"
        self.accept_repeated_client_nonce = accept_repeated_client_nonce
        self.repeated_client_nonce = False

    def first(self, message):
        """client-first-message -> server-first-message (str)."""
        if self.stage != "first":
            raise ProtocolError("SCRAM client-first out of order")
        text = message.decode("utf-8")
        if text.startswith("p="):
            raise ScramFailure("channel binding requested but not supported")
        cbind, comma, rest = text.partition(",")
        if cbind not in ("n", "y") or not comma:
            raise ProtocolError("malformed gs2 header")
        authzid, comma, bare = rest.partition(",")
        if not comma or (authzid and not authzid.startswith("a=")):
            raise ProtocolError("malformed gs2 header")
        self.gs2_header = f"{cbind},{authzid},"
        attributes = bare.split(",")
        if len(attributes) < 2 or not attributes[0].startswith("n=") or not attributes[1].startswith("r="):
            raise ProtocolError("client-first-message needs n= and r=")
        if any(attribute.startswith("m=") for attribute in attributes):
            raise ProtocolError("mandatory extension not supported")
        self.user = scram_unescape(attributes[0][2:])
        if authzid and scram_unescape(authzid[2:]) != self.user:
            raise ScramFailure("authorization identity differs from the user")
        self.client_first_bare = bare
        self.client_nonce = attributes[1][2:]
        self.nonce = self.client_nonce + self.server_nonce
        self.credential = self.credentials(self.user)
        if self.credential is None:  # unknown user: proceed with a fake salt, fail at final()
            salt, iterations = os.urandom(16), self.iterations
        else:
            salt, iterations = self.credential.salt, self.credential.iterations
        self.server_first = f"r={self.nonce},s={base64.b64encode(salt).decode()},i={iterations}"
        self.stage = "final"
        return self.server_first

    def final(self, message):
        """client-final-message -> server-final-message (str); raises ScramFailure on bad credentials."""
        if self.stage != "final":
            raise ProtocolError("SCRAM client-final out of order")
        self.stage = "done"
        text = message.decode("utf-8")
        without_proof, separator, proof_b64 = text.rpartition(",p=")
        if not separator:
            raise ProtocolError("client-final-message without proof")
        attributes = dict(item.split("=", 1) for item in without_proof.split(",") if "=" in item)
        if attributes.get("c") != base64.b64encode(self.gs2_header.encode()).decode():
            raise ScramFailure("channel binding data mismatch")
        if attributes.get("r") != self.nonce:
            # librdkafka before 2.6.1 echoes client-nonce + combined-nonce (the client nonce twice,
            # confluentinc/librdkafka#4895); Kafka 3.x brokers accepted it (nonce().endsWith(...)), Kafka 4.x
            # does not. Accepted in exactly that form when allowed, so Debian's librdkafka 2.0.2 clients work.
            doubled = self.client_nonce + self.nonce
            if not (self.accept_repeated_client_nonce and attributes.get("r") == doubled):
                raise ScramFailure("nonce mismatch")
            self.repeated_client_nonce = True
        if self.credential is None:
            raise ScramFailure("unknown user")
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        client_signature = hmac.new(self.credential.stored_key, auth_message, self.hash_name).digest()
        try:
            proof = base64.b64decode(proof_b64, validate=True)
        except ValueError:
            raise ScramFailure("malformed proof") from None
        if len(proof) != len(client_signature):
            raise ScramFailure("proof length")
        client_key = bytes(a ^ b for a, b in zip(proof, client_signature))
        if not hmac.compare_digest(hashlib.new(self.hash_name, client_key).digest(), self.credential.stored_key):
            raise ScramFailure("wrong proof")
        server_signature = hmac.new(self.credential.server_key, auth_message, self.hash_name).digest()
        return "v=" + base64.b64encode(server_signature).decode()


# ----- the stage ---------------------------------------------------------------------------------------
class UserTable:
    def __init__(self, users, iterations):
        self.passwords = dict(users)
        self.scram = {mechanism: {name: ScramCredential(hash_name, password, os.urandom(16), iterations)
                                  for name, password in self.passwords.items()}
                      for mechanism, hash_name in SCRAM_HASHES.items()}


def log(tag, text):
    print(f"sasl_stage[{tag}]: {text}", file=sys.stderr, flush=True)


def recv_exact(sock, count):
    chunks, remaining = [], count
    while remaining:
        chunk = sock.recv(min(remaining, 65536))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock, limit):
    head = recv_exact(sock, 4)
    if head is None:
        return None
    length = struct.unpack(">i", head)[0]
    if length < 0 or length > limit:
        raise ProtocolError(f"frame length {length} outside 0..{limit}")
    payload = recv_exact(sock, length)
    if payload is None:
        raise ProtocolError("EOF inside a frame")
    return payload


def pump(source, destination):
    """Copies bytes until EOF or an error, then half-closes the destination."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            destination.sendall(data)
    except OSError:
        pass
    finally:
        try:
            destination.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class Session:
    """One client connection: the state machine in the module docstring."""

    def __init__(self, stage, client, peer, number):
        self.stage, self.client, self.peer = stage, client, peer
        self.tag = f"{stage.name} conn {number} from {peer[0]}:{peer[1]}"
        self.upstream = None
        self.mechanism = None
        self.scram = None

    def run(self):
        try:
            self.upstream = socket.create_connection(self.stage.upstream, timeout=10)
            self.upstream.settimeout(None)
            user = self.authenticate()
            if user is None:
                return
            log(self.stage.name, f"{self.tag}: {self.mechanism} user {user} authenticated; relaying")
            other = threading.Thread(target=pump, args=(self.upstream, self.client), daemon=True)
            other.start()
            pump(self.client, self.upstream)
            other.join()
        except ProtocolError as error:
            log(self.stage.name, f"{self.tag}: protocol error: {error}; closing")
        except OSError as error:
            log(self.stage.name, f"{self.tag}: {error}; closing")
        finally:
            for sock in (self.client, self.upstream):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass

    def send_response(self, correlation_id, body, flexible_header=False):
        header = struct.pack(">i", correlation_id) + (uvarint(0) if flexible_header else b"")
        self.client.sendall(frame(header + body))

    def authenticate(self):
        """Runs the pre-authentication exchange; returns the user name, or None after refusing/closing."""
        while True:
            payload = recv_frame(self.client, MAX_PRE_AUTH_FRAME)
            if payload is None:
                log(self.stage.name, f"{self.tag}: client closed before authenticating")
                return None
            api_key, api_version, correlation_id, body = parse_request_header(payload)
            if api_key == API_API_VERSIONS and self.mechanism is None:
                self.upstream.sendall(frame(payload))
                response = recv_frame(self.upstream, MAX_PRE_AUTH_FRAME)
                if response is None:
                    raise ProtocolError("mock broker closed during ApiVersions")
                self.client.sendall(frame(patch_api_versions_response(response, api_version)))
            elif api_key == API_SASL_HANDSHAKE and self.mechanism is None:
                if api_version != 1:
                    log(self.stage.name, f"{self.tag}: SaslHandshake v{api_version} refused (v1 only); closing")
                    return None
                mechanism = body.nullable_string() or ""
                enabled = self.stage.mechanisms
                listed = struct.pack(">i", len(enabled)) + b"".join(string16(name) for name in enabled)
                if mechanism not in enabled:
                    self.send_response(correlation_id, struct.pack(">h", ERROR_UNSUPPORTED_SASL_MECHANISM) + listed)
                    log(self.stage.name, f"{self.tag}: mechanism {mechanism!r} not enabled "
                                         f"({','.join(enabled)}): error 33; closing")
                    return None
                self.mechanism = mechanism
                self.send_response(correlation_id, struct.pack(">h", 0) + listed)
            elif api_key == API_SASL_AUTHENTICATE and self.mechanism is not None:
                low, high = SASL_AUTHENTICATE_VERSIONS
                if not low <= api_version <= high:
                    log(self.stage.name, f"{self.tag}: SaslAuthenticate v{api_version} unsupported; closing")
                    return None
                flexible = api_version >= 2
                token = body.compact_bytes() if flexible else body.bytes32()
                outcome = self.step(token, correlation_id, api_version)
                if outcome is None:  # failed: error 58 already sent
                    return None
                reply, user = outcome
                self.send_authenticate_response(correlation_id, api_version, 0, None, reply)
                if user is not None:
                    return user
            else:
                log(self.stage.name, f"{self.tag}: request api_key={api_key} v{api_version} before authentication "
                                     f"(mechanism {self.mechanism}); closing")
                return None

    def send_authenticate_response(self, correlation_id, api_version, error_code, message, token):
        flexible = api_version >= 2
        body = struct.pack(">h", error_code)
        if flexible:
            body += compact_nullable_string(message) + compact_bytes(token)
        else:
            body += (struct.pack(">h", -1) if message is None else string16(message))
            body += struct.pack(">i", len(token)) + token
        if api_version >= 1:
            body += struct.pack(">q", 0)  # session_lifetime_ms: 0 = no re-authentication required (KIP-368)
        if flexible:
            body += uvarint(0)
        self.send_response(correlation_id, body, flexible_header=flexible)

    def fail(self, correlation_id, api_version, reason):
        message = AUTH_FAILED_MESSAGE.format(self.mechanism)
        self.send_authenticate_response(correlation_id, api_version, ERROR_SASL_AUTHENTICATION_FAILED, message, b"")
        log(self.stage.name, f"{self.tag}: {self.mechanism} authentication failed ({reason}): error 58; closing")

    def step(self, token, correlation_id, api_version):
        """One SaslAuthenticate token -> (reply token, user name once authenticated else None), or None after
        sending error 58 for wrong credentials."""
        users = self.stage.users
        if self.mechanism == "PLAIN":
            user = check_plain(token, users.passwords)
            if user is None:
                name = token.split(b"\x00")[1:2]
                self.fail(correlation_id, api_version, "PLAIN credentials rejected for user "
                          + (name[0].decode("utf-8", "replace") if name else "?"))
                return None
            return b"", user
        if self.scram is None:
            self.scram = ScramServer(self.mechanism, users.scram[self.mechanism].get,
                                     iterations=self.stage.iterations,
                                     accept_repeated_client_nonce=self.stage.scram_nonce == "kafka3")
            try:
                return self.scram.first(token).encode(), None
            except (ScramFailure, UnicodeDecodeError) as error:
                self.fail(correlation_id, api_version, f"client-first: {error}")
                return None
        try:
            reply = self.scram.final(token)
        except (ScramFailure, UnicodeDecodeError) as error:
            self.fail(correlation_id, api_version, f"user {self.scram.user}: {error}")
            return None
        if self.scram.repeated_client_nonce:
            log(self.stage.name, f"{self.tag}: client-final nonce repeats the client nonce (librdkafka < 2.6.1, "
                                 "confluentinc/librdkafka#4895); accepted as Kafka 3.x brokers do")
        return reply.encode(), self.scram.user


class Stage:
    def __init__(self, name, listen, upstream, users, mechanisms, iterations, scram_nonce="kafka3"):
        self.name, self.upstream, self.mechanisms, self.iterations = name, upstream, mechanisms, iterations
        self.scram_nonce = scram_nonce
        self.users = UserTable(users, iterations)
        self.listener = socket.create_server(listen, reuse_port=False)
        self.listener.listen(64)

    def serve_forever(self):
        number = 0
        while True:
            client, peer = self.listener.accept()
            number += 1
            session = Session(self, client, peer, number)
            threading.Thread(target=session.run, daemon=True).start()


def parse_hostport(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT")
    return host, int(port)


def parse_user(text):
    name, colon, password = text.partition(":")
    if not colon or not name:
        raise argparse.ArgumentTypeError("expected NAME:PASSWORD")
    return name, password


def main(argv):
    parser = argparse.ArgumentParser(prog="sasl_stage", description="TEST FIXTURE: SASL broker stage")
    parser.add_argument("--listen", type=parse_hostport, required=True)
    parser.add_argument("--upstream", type=parse_hostport, required=True)
    parser.add_argument("--user", type=parse_user, action="append", required=True)
    parser.add_argument("--mechanisms", default=",".join(ALL_MECHANISMS))
    parser.add_argument("--scram-iterations", type=int, default=4096)
    parser.add_argument("--name", default="stage")
    parser.add_argument("--scram-nonce", choices=("kafka3", "strict"), default="kafka3",
                        help="kafka3: also accept librdkafka<2.6.1's repeated client nonce, as Kafka 3.x did; "
                             "strict: RFC 5802 equality only, as Kafka 4.x")
    args = parser.parse_args(argv)
    mechanisms = tuple(item for item in args.mechanisms.split(",") if item)
    unknown = [item for item in mechanisms if item not in ALL_MECHANISMS]
    if unknown:
        parser.error(f"unknown mechanisms {unknown}")
    stage = Stage(args.name, args.listen, args.upstream, args.user, mechanisms, args.scram_iterations,
                  args.scram_nonce)
    host, port = stage.listener.getsockname()[:2]
    log(args.name, f"listening on {host}:{port} -> {args.upstream[0]}:{args.upstream[1]}, mechanisms "
                   f"{','.join(mechanisms)}, users {','.join(name for name, _ in args.user)}")
    print(f"LISTENING {host}:{port}", flush=True)
    try:
        stage.serve_forever()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
