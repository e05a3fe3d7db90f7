#!/usr/bin/python3
"""Record the TLS records carrying a client's ClientHello, byte for byte.

Listens on 127.0.0.1:<port>, accepts ONE connection, reads TLS records
(RFC 8446 §5.1: type(1) version(2) length(2) fragment) until the first
handshake message (4-byte header, RFC 8446 §4) is complete, writes exactly those
records to <out> and closes the connection without answering, so the client
fails its handshake. This deliberately does not use kedge's parser: the
captures are the independent ground truth its tests run against.

Usage: capture.py PORT OUT_FILE [--timeout SECONDS]
"""
import argparse
import socket
import sys

RECORD_HEADER = 5
HANDSHAKE_HEADER = 4
CONTENT_TYPE_HANDSHAKE = 22


def read_exact(conn, count):
    data = b""
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise EOFError(f"peer closed after {len(data)} of {count} bytes")
        data += chunk
    return data


def capture_hello(conn):
    """Return the raw records that carry the first handshake message."""
    raw = b""
    handshake = b""
    while True:
        header = read_exact(conn, RECORD_HEADER)
        content_type = header[0]
        length = int.from_bytes(header[3:5], "big")
        if content_type != CONTENT_TYPE_HANDSHAKE:
            raise ValueError(f"record type {content_type} before the hello completed")
        raw += header + read_exact(conn, length)
        handshake += raw[-length:] if length else b""
        if len(handshake) >= HANDSHAKE_HEADER:
            body_length = int.from_bytes(handshake[1:4], "big")
            if len(handshake) >= HANDSHAKE_HEADER + body_length:
                return raw


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("out")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

    with socket.create_server(("127.0.0.1", args.port)) as listener:
        listener.settimeout(args.timeout)
        conn, peer = listener.accept()
        with conn:
            conn.settimeout(args.timeout)
            raw = capture_hello(conn)
    with open(args.out, "wb") as out:
        out.write(raw)
    print(f"captured {len(raw)} bytes from {peer[0]}:{peer[1]} into {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
