#!/usr/bin/python3
"""TEST TOOL: repeated SASL PLAIN logins over TLS, one fresh connection each, timed.

    sasl_attempts.py --bootstrap HOST:PORT --ca CA.pem --user NAME --password-file F --count N [--hold-ms MS]

Per attempt: TLS to HOST:PORT (SNI = HOST, the CA verifies kedge's certificate), SaslHandshake v1 "PLAIN",
SaslAuthenticate v2 with "\\0NAME\\0PASSWORD", then reads the answer. Prints one line per attempt:
    attempt <i> ms=<elapsed> error=<code> message=<error message, or ->
error=-1 with message=closed when the connection closed without an answer. With --hold-ms, an authenticated
connection then stays open without re-authenticating (no KIP-368) and the line ends with
held_ms=<until kedge closed it, or MS> closed=<0|1>. Python stdlib only; a real client
at the protocol level (the Kafka wire format of kafka-protocol.md), so kedge's limiter can be driven hundreds of
times in seconds, which starting a librdkafka client per attempt cannot.
"""
import argparse
import socket
import ssl
import struct
import time


def frame(api_key, version, correlation_id, body, flexible):
    client_id = b"sasl-attempts"
    header = struct.pack(">hhih", api_key, version, correlation_id, len(client_id)) + client_id
    if flexible:
        header += b"\x00"  # request header v2: empty tag buffer
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def read_frame(sock):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data
    (size,) = struct.unpack(">i", exactly(4))
    if size < 4 or size > 1 << 20:
        raise ValueError(f"bad frame size {size}")
    return exactly(size)


def uvarint(data, offset):
    value, shift = 0, 0
    while True:
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7


def attempt(host, port, context, user, password, hold_ms=0):
    with socket.create_connection((host, port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname=host) as sock:
            mechanism = b"PLAIN"
            sock.sendall(frame(17, 1, 1, struct.pack(">h", len(mechanism)) + mechanism, False))
            handshake = read_frame(sock)
            (error,) = struct.unpack(">h", handshake[4:6])
            if error != 0:
                return error, "handshake refused"
            token = b"\x00" + user.encode() + b"\x00" + password.encode()
            body = bytes([len(token) + 1]) + token + b"\x00"  # COMPACT_BYTES (len < 127) + empty tags
            sock.sendall(frame(36, 2, 2, body, True))
            answer = read_frame(sock)
            offset = 4 + 1  # correlation id, response header v1 tag buffer
            (error,) = struct.unpack(">h", answer[offset:offset + 2])
            offset += 2
            length, offset = uvarint(answer, offset)
            message = answer[offset:offset + length - 1].decode(errors="replace") if length > 0 else "-"
            if error != 0 or hold_ms <= 0:
                return error, message
            held_from = time.monotonic()
            sock.settimeout(hold_ms / 1000)
            closed = 0
            try:
                while sock.recv(4096):
                    pass
                closed = 1
            except socket.timeout:
                pass
            except (ConnectionError, OSError, ssl.SSLError):
                closed = 1
            return error, f"- held_ms={(time.monotonic() - held_from) * 1000:.0f} closed={closed}"



def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--hold-ms", type=int, default=0)
    args = parser.parse_args()
    host, port = args.bootstrap.rsplit(":", 1)
    with open(args.password_file) as secret:
        password = secret.read().rstrip("\n")
    context = ssl.create_default_context(cafile=args.ca)
    for i in range(1, args.count + 1):
        started = time.monotonic()
        try:
            error, message = attempt(host, int(port), context, args.user, password, args.hold_ms)
        except (ConnectionError, OSError, ValueError) as exc:
            error, message = -1, f"closed ({exc})"
        elapsed = (time.monotonic() - started) * 1000
        print(f"attempt {i} ms={elapsed:.0f} error={error} message={message}", flush=True)


if __name__ == "__main__":
    main()
