#!/usr/bin/env python3
"""Loopback tests of the real kedge binary over real TLS, with a scripted
Kafka broker fixture (FakeBroker, below: a test fixture that speaks just
enough of the wire protocol to answer the requests each test sends).

These cover paths that a real client cannot force on demand: a reader that
stops reading (backpressure), garbage and truncated ClientHellos, unknown and
missing SNI, a broker id kedge must discover itself, the advertised port.
The namespace tests (test_gateway_netns.py) cover real clients and clusters.

Usage: test_gateway_local.py KEDGE_BINARY WORKDIR
"""
import os
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import Checks, KedgeProcess, closed_by_peer, free_port, make_certs, write_config  # noqa: E402
from sasl_stage import compact_nullable_string, uvarint  # noqa: E402  (the fixture's wire helpers)

DOMAIN = "kafka.example.com"


# ----------------------------------------------------------------- wire helpers
def kstr(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def request(api_key, version, corr, body=b"", client_id="kedge-test"):
    return frame(struct.pack(">hhi", api_key, version, corr) + kstr(client_id) + body)


def recv_exact(sock, n):
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise EOFError(f"connection closed after {len(out)} of {n} bytes")
        out += chunk
    return bytes(out)


def read_frame(sock):
    (size,) = struct.unpack(">i", recv_exact(sock, 4))
    return recv_exact(sock, size)


def metadata_v1_response(corr, brokers):
    body = struct.pack(">i", len(brokers))
    for node_id, host, port in brokers:
        body += struct.pack(">i", node_id) + kstr(host) + struct.pack(">i", port) + kstr(None)
    body += struct.pack(">i", brokers[0][0] if brokers else -1) + struct.pack(">i", 0)
    return frame(struct.pack(">i", corr) + body)


def metadata_v12_response(corr, brokers):
    """Metadata v12 (flexible: response header v1 with its tag buffer, compact types, tag buffers), no topics."""
    body = struct.pack(">i", 0) + uvarint(len(brokers) + 1)
    for node_id, host, port in brokers:
        rack = compact_nullable_string(None)
        body += struct.pack(">i", node_id) + compact_nullable_string(host) + struct.pack(">i", port) + rack + uvarint(0)
    body += compact_nullable_string("fake-cluster") + struct.pack(">i", brokers[0][0]) + uvarint(1) + uvarint(0)
    return frame(struct.pack(">i", corr) + uvarint(0) + body)


def parse_metadata_v1_brokers(payload):
    off = 4  # correlation id
    (count,) = struct.unpack_from(">i", payload, off)
    off += 4
    brokers = []
    for _ in range(count):
        (node_id,) = struct.unpack_from(">i", payload, off)
        off += 4
        (hlen,) = struct.unpack_from(">h", payload, off)
        off += 2
        host = payload[off:off + hlen].decode()
        off += hlen
        (port,) = struct.unpack_from(">i", payload, off)
        off += 4
        (rlen,) = struct.unpack_from(">h", payload, off)
        off += 2 + max(rlen, 0)
        brokers.append((node_id, host, port))
    return brokers


def api_versions_response(corr, version, entries):
    """ApiVersions answered in the layout of the version asked (header v0 in every version, KIP-511): v0 error and
    ranges, v1-2 add ThrottleTimeMs, v3+ compact arrays with tag buffers."""
    if version >= 3:
        body = struct.pack(">h", 0) + uvarint(len(entries) + 1)
        for key, lo, hi in entries:
            body += struct.pack(">hhh", key, lo, hi) + uvarint(0)
        body += struct.pack(">i", 0) + uvarint(0)
    else:
        body = struct.pack(">hi", 0, len(entries))
        for key, lo, hi in entries:
            body += struct.pack(">hhh", key, lo, hi)
        if version >= 1:
            body += struct.pack(">i", 0)
    return frame(struct.pack(">i", corr) + body)


# ------------------------------------------------------------------ the fixture
class FakeBroker:
    """A scripted broker: `handler(api_key, version, corr, conn)` answers each request."""

    def __init__(self, handler):
        self.handler = handler
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn):
        try:
            while True:
                payload = read_frame(conn)
                api_key, version, corr = struct.unpack_from(">hhi", payload, 0)
                self.requests.append((api_key, version, corr))
                self.handler(api_key, version, corr, conn)
        except (EOFError, OSError):
            pass
        finally:
            conn.close()


def tls_client(port, ca, server_name, check_hostname=True):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = check_hostname and server_name is not None
    if server_name is None:
        ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname=server_name)



def real_client_hello():
    """The first flight of a real Python/OpenSSL client, captured via memory BIOs."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=f"bootstrap.{DOMAIN}")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


# ------------------------------------------------------------------------ tests
def main():
    kedge_binary, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    work = tempfile.mkdtemp(dir=workdir, prefix="local-")
    certs = make_certs(os.path.join(work, "tls"), DOMAIN)
    checks = Checks()

    big_size = 48 * 1024 * 1024
    stall = {"written": 0, "stalled": threading.Event(), "resume": threading.Event()}
    side_broker_port = {}

    def handler(api_key, version, corr, conn):
        if api_key == 18:  # ApiVersions: a broker that claims far newer versions
            conn.sendall(api_versions_response(corr, version, [(0, 0, 99), (1, 0, 99), (3, 0, 99), (10, 0, 99),
                                                               (18, 0, 9), (52, 0, 2), (60, 0, 9), (19, 0, 7),
                                                               (10000, 0, 5)]))
        elif api_key == 3 and version == 1:
            conn.sendall(metadata_v1_response(corr, [(1, "10.9.8.1", 9092), (2, "10.9.8.2", 9093),
                                                     (7, "127.0.0.1", side_broker_port.get("port", 1))]))
        elif api_key == 3 and version == 12:  # kedge's own discovery: the newest Metadata both sides support
            conn.sendall(metadata_v12_response(corr, [(1, "10.9.8.1", 9092),
                                                      (7, "127.0.0.1", side_broker_port["port"])]))
        elif api_key == 17:  # SaslHandshake v1: PLAIN offered
            conn.sendall(frame(struct.pack(">i", corr) + struct.pack(">hi", 0, 1) + kstr("PLAIN")))
        elif api_key == 36:  # SaslAuthenticate v1: accept, echo a server token
            token = b"server-final"
            conn.sendall(frame(struct.pack(">i", corr) + struct.pack(">h", 0) + kstr(None) +
                               struct.pack(">i", len(token)) + token + struct.pack(">q", 3600000)))
        elif api_key == 2:  # a passthrough API with a huge response: backpressure
            head = struct.pack(">i", 4 + big_size) + struct.pack(">i", corr)
            conn.sendall(head)
            conn.setblocking(False)
            chunk = bytes(range(256)) * 256  # 64 KiB pattern
            sent = 0
            last_progress = time.time()
            while sent < big_size:
                try:
                    off = sent % len(chunk)  # keep the pattern continuous across partial sends
                    n = conn.send(chunk[off: off + min(len(chunk) - off, big_size - sent)])
                    sent += n
                    stall["written"] = sent
                    last_progress = time.time()
                except BlockingIOError:
                    if time.time() - last_progress > 1.5 and not stall["stalled"].is_set():
                        stall["stalled"].set()
                    time.sleep(0.01)
            conn.setblocking(True)

    broker = FakeBroker(handler)

    def side_handler(api_key, version, corr, conn):
        if api_key == 18:
            conn.sendall(api_versions_response(corr, version, [(3, 0, 12), (18, 0, 3)]))

    side = FakeBroker(side_handler)
    side_broker_port["port"] = side.port

    port = free_port()
    config = {
        "listeners": [{"name": "local", "bind": f"127.0.0.1:{port}", "advertised_port": 443,
                       "tls": {"cert": certs["cert"], "key": certs["key"]}}],
        "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": DOMAIN},
                              "backend": {"bootstrap_servers": [f"127.0.0.1:{broker.port}"]}},
                             # connection quotas per client address (docs/policy.md "Quotas")
                             {"name": "capped", "hostnames": {"format": "shared_suffix", "domain": DOMAIN},
                              "backend": {"bootstrap_servers": [f"127.0.0.1:{broker.port}"]},
                              "quotas": {"connections_per_address": 2, "requests_per_second": 10}},
                             {"name": "paced", "hostnames": {"format": "shared_suffix", "domain": DOMAIN},
                              "backend": {"bootstrap_servers": [f"127.0.0.1:{broker.port}"]},
                              "quotas": {"connections_per_address_per_second": 3}}],
        "log": {"level": "debug"},
        "limits": {"client_hello_timeout_ms": 1000, "high_watermark_bytes": 1048576},
    }
    config_path = write_config(os.path.join(work, "kedge.json"), config)
    kedge = KedgeProcess(kedge_binary, config_path, os.path.join(work, "kedge.log"))
    kedge.start("127.0.0.1", port)
    try:
        # ApiVersions clamp through the real data path.
        c = tls_client(port, certs["ca"], f"bootstrap.{DOMAIN}")
        c.sendall(request(18, 0, 1))
        payload = read_frame(c)
        (_, err, count) = struct.unpack_from(">ihi", payload, 0)
        entries = {struct.unpack_from(">h", payload, 10 + 6 * i)[0]: struct.unpack_from(">hh", payload, 12 + 6 * i)
                   for i in range(count)}
        checks.check("ApiVersions: Metadata clamped to 13", entries.get(3) == (0, 13), str(entries.get(3)))
        checks.check("ApiVersions: FindCoordinator clamped to 6", entries.get(10) == (0, 6), str(entries.get(10)))
        checks.check("ApiVersions: DescribeCluster clamped to 2", entries.get(60) == (0, 2), str(entries.get(60)))
        checks.check("ApiVersions: ApiVersions clamped to 4", entries.get(18) == (0, 4), str(entries.get(18)))
        checks.check("ApiVersions: Vote (controller-only) removed", 52 not in entries)
        checks.check("ApiVersions: CreateTopics untouched", entries.get(19) == (0, 7))
        checks.check("ApiVersions: proprietary key 10000 untouched", entries.get(10000) == (0, 5))

        # Metadata rewrite with an advertised port that differs from the bind port.
        c.sendall(request(3, 1, 2, struct.pack(">i", -1)))
        brokers = parse_metadata_v1_brokers(read_frame(c))
        expected = [(1, f"broker-1.{DOMAIN}", 443), (2, f"broker-2.{DOMAIN}", 443), (7, f"broker-7.{DOMAIN}", 443)]
        checks.check("Metadata v1 brokers rewritten to kedge names and advertised port 443", brokers == expected,
                     str(brokers))
        c.close()
        log = kedge.log()
        checks.check("debug log has one line per rewrite",
                     "rewrote Metadata v1 for alpha: broker 2 10.9.8.2:9093 -> broker-2.kafka.example.com:443" in log)

        # SASL passthrough: SaslHandshake v1 + SaslAuthenticate are ordinary frames (KIP-152).
        c = tls_client(port, certs["ca"], f"bootstrap.{DOMAIN}")
        c.sendall(request(17, 1, 10, kstr("PLAIN")))
        hs = read_frame(c)
        c.sendall(request(36, 1, 11, struct.pack(">i", 11) + b"\x00user\x00pass"))
        auth = read_frame(c)
        c.sendall(request(17, 1, 12, kstr("PLAIN")))  # re-authentication on the same connection (KIP-368)
        rehs = read_frame(c)
        checks.check("SASL v1 handshake, authenticate and re-authentication pass through",
                     struct.unpack_from(">ih", hs, 0) == (10, 0) and struct.unpack_from(">i", auth, 0)[0] == 11
                     and auth.find(b"server-final") > 0 and struct.unpack_from(">i", rehs, 0)[0] == 12)
        c.close()
        c = tls_client(port, certs["ca"], f"bootstrap.{DOMAIN}")
        c.sendall(request(17, 0, 13, kstr("PLAIN")))
        checks.check("SaslHandshake v0 (unframed tokens) refused: connection closed", closed_by_peer(c, 3.0))
        c.close()
        time.sleep(0.2)
        checks.check("SaslHandshake v0 refusal logged clearly", "SaslHandshake v0" in kedge.log())

        # Unknown SNI refused with unrecognized_name; no backend connection made for it.
        before = broker.connections
        try:
            tls_client(port, certs["ca"], "nope.other.example", check_hostname=False).close()
            checks.check("unknown SNI refused", False, "handshake succeeded")
        except ssl.SSLError as e:
            checks.check("unknown SNI refused with alert unrecognized_name", "UNRECOGNIZED_NAME" in str(e).upper(),
                         str(e))
        try:
            tls_client(port, certs["ca"], None).close()
            checks.check("missing SNI refused", False, "handshake succeeded")
        except ssl.SSLError as e:
            checks.check("missing SNI refused with alert unrecognized_name", "UNRECOGNIZED_NAME" in str(e).upper(),
                         str(e))
        checks.check("refused names never reach a backend", broker.connections == before)

        # Garbage on the TLS port: closed at once.
        g = socket.create_connection(("127.0.0.1", port), timeout=5)
        g.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        checks.check("garbage bytes: connection closed", closed_by_peer(g, 2.0))
        g.close()

        # Truncated ClientHello: closed by the hello deadline (1 s here).
        hello = real_client_hello()
        t = socket.create_connection(("127.0.0.1", port), timeout=5)
        t.sendall(hello[: len(hello) // 2])
        started = time.time()
        closed = closed_by_peer(t, 4.0)
        checks.check("truncated ClientHello: closed by the deadline", closed and time.time() - started < 3.0,
                     f"after {time.time() - started:.2f}s")
        t.close()
        t = socket.create_connection(("127.0.0.1", port), timeout=5)
        t.sendall(hello[:20])
        t.shutdown(socket.SHUT_WR)
        checks.check("truncated ClientHello then EOF: closed", closed_by_peer(t, 2.0))
        t.close()

        # A hello split over many tiny TCP writes still routes.
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        ctx = ssl.create_default_context(cafile=certs["ca"])
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname=f"bootstrap.{DOMAIN}")
        ok = False
        try:
            while True:
                try:
                    obj.do_handshake()
                    ok = True
                    break
                except ssl.SSLWantReadError:
                    data = out.read()
                    for i in range(0, len(data), 7):
                        raw.sendall(data[i:i + 7])
                        time.sleep(0.001)
                    got = raw.recv(65536)
                    if not got:
                        break
                    inc.write(got)
            out_data = out.read()
            if out_data:
                raw.sendall(out_data)
        except (ssl.SSLError, OSError) as e:
            print("fragmented handshake error:", e)
        checks.check("ClientHello fragmented into 7-byte writes: handshake completes", ok)
        raw.close()

        # broker-7 is unknown to this fresh connection's path until discovery: kedge asks the backend itself.
        kedge.stop()
        kedge = KedgeProcess(kedge_binary, config_path, os.path.join(work, "kedge2.log"))
        kedge.start("127.0.0.1", port)
        c7 = tls_client(port, certs["ca"], f"broker-7.{DOMAIN}")
        c7.sendall(request(18, 0, 5))
        payload = read_frame(c7)
        checks.check("broker-7 after restart: routed via kedge's own discovery to the right broker",
                     struct.unpack_from(">i", payload, 0)[0] == 5 and side.connections >= 1,
                     f"side broker connections={side.connections}")
        c7.close()
        try:
            c99 = tls_client(port, certs["ca"], f"broker-99.{DOMAIN}")
            closed99 = closed_by_peer(c99, 5.0)
            c99.close()
        except (ssl.SSLError, OSError):
            closed99 = True  # closed while the handshake was still running
        checks.check("unknown broker id: connection closed", closed99)
        time.sleep(0.2)
        checks.check("unknown broker id: clear log line",
                     "asks for broker 99 but virtual cluster alpha has brokers" in kedge.log())

        # Connection quotas: a third open connection from one address is closed before the handshake; closing
        # one makes room. Past 3 new connections in a second the next is closed; a second later one is admitted.
        def api_versions_answered(sni):
            try:
                sock = tls_client(port, certs["ca"], sni)
                sock.settimeout(5)
                sock.sendall(request(18, 0, 3))
                read_frame(sock)
                return sock
            except (OSError, ssl.SSLError):
                return None

        capped = f"bootstrap-capped.{DOMAIN}"
        first, second = api_versions_answered(capped), api_versions_answered(capped)
        third = api_versions_answered(capped)
        checks.check("connection quota: two connections from one address are served", first and second)
        checks.check("connection quota: a third is closed before the TLS handshake", third is None)
        if first:
            first.close()
        time.sleep(0.3)
        fourth = api_versions_answered(capped)
        checks.check("connection quota: after one closed, a new connection is served", fourth is not None)
        # Request rate (10/s after a second's burst): 30 ApiVersions one after the other take about 2 s, every one
        # answered (the connection is not read while its client owes); without a quota they take a few ms.
        def sequential_api_versions(sock, count):
            started = time.time()
            answered = 0
            for corr in range(100, 100 + count):
                sock.sendall(request(18, 0, corr))
                answered += struct.unpack_from(">i", read_frame(sock), 0)[0] == corr
            return answered, time.time() - started

        paced_answers, paced_seconds = sequential_api_versions(second, 30) if second else (0, 0.0)
        free = tls_client(port, certs["ca"], f"bootstrap.{DOMAIN}")
        free_answers, free_seconds = sequential_api_versions(free, 30)
        free.close()
        checks.check("request rate quota: 30 requests at 10/s take 1.5-6 s, every one answered; unlimited < 1 s",
                     paced_answers == 30 and 1.5 <= paced_seconds <= 6 and free_answers == 30 and free_seconds < 1,
                     f"capped: {paced_answers} answered in {paced_seconds:.2f} s; alpha: {free_answers} in "
                     f"{free_seconds:.2f} s")
        for sock in (second, third, fourth):
            if sock:
                sock.close()
        paced = f"bootstrap-paced.{DOMAIN}"
        burst = [api_versions_answered(paced) for _ in range(4)]
        checks.check("connection rate: 3 new connections in a second are served, the 4th is closed",
                     all(burst[:3]) and burst[3] is None, str([sock is not None for sock in burst]))
        for sock in burst:
            if sock:
                sock.close()
        time.sleep(0.5)
        later = api_versions_answered(paced)
        checks.check("connection rate: one more is served once the rate allows it", later is not None)
        if later:
            later.close()
        log = kedge.log()
        checks.check("connection quotas are logged with the reason",
                     "over virtual cluster capped's connection quota (too_many: 2 open from this address)" in log and
                     "over virtual cluster paced's connection quota (too_fast: more than 3 new per second)" in log)

        # Backpressure: a client that does not read stops kedge reading the broker.
        slow = tls_client(port, certs["ca"], f"bootstrap.{DOMAIN}")
        slow.sendall(request(2, 1, 77, struct.pack(">ii", -1, 0)))
        stalled = stall["stalled"].wait(20)
        written = stall["written"]
        rss = kedge.rss_kib()
        checks.check("backpressure: broker writes stall while the client does not read",
                     stalled and written < 16 * 1024 * 1024, f"broker wrote {written / 1048576:.1f} MiB of "
                     f"{big_size / 1048576:.0f} MiB before stalling")
        checks.check("backpressure: kedge memory stays bounded", 0 < rss < 64 * 1024, f"VmRSS {rss} KiB")
        # Now read everything: nothing lost, byte-exact.
        slow.settimeout(30)
        payload = read_frame(slow)
        pattern = bytes(range(256)) * 256
        intact = (struct.unpack_from(">i", payload, 0)[0] == 77 and len(payload) == 4 + big_size and
                  all(payload[4 + i:4 + i + len(pattern)] == pattern[: min(len(pattern), big_size - i)]
                      for i in range(0, big_size, len(pattern))))
        checks.check("backpressure: after resuming, the 48 MiB response arrives intact", intact)
        slow.close()
        checks.check("kedge still running", kedge.alive())
    finally:
        code = kedge.stop()
        checks.check("kedge exits 0 on SIGTERM", code == 0, f"exit code {code}")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
