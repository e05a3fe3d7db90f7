#!/usr/bin/python3
"""Live WebSocket subscriptions through kedge's HTTP front (issue 19, docs/http.md): a real browser, and a leader
moving under a subscription.

    <prefix>-dc   a 3-broker librdkafka mock, 2.12 (default) or 2.0.2 (argument rdk20), topics "live"
                  (1 partition) and "moving" (3 partitions); kedge on :9092 (log level debug) with one virtual
                  cluster "alpha" (subdomain format, HTTP name http.<domain>, allowed_origins empty)
    <prefix>-a    headless Chromium (Debian's chromium) on docs/http-live.html, driven over the Chrome DevTools
                  Protocol by live_page.py; kclient_rdk212 producers through kedge's Kafka path
    <prefix>-b    ws_client.py subscribe (python3-websockets, the JSON form)

Checks (one PASS/FAIL line each, then `N passed, M failed`):
  1. Chromium subscribes live. Chromium trusts the test CA through its NSS database (certutil), so the page's
     wss:// connection is verified as a browser's is (no --ignore-certificate-errors). 20 records are produced
     to "live" before the page opens; the page subscribes with offset -1, and only once `window.kedgeSubscribed`
     is set are 60 more produced (kclient_rdk212 through kedge). Then: the subscription started at the end of the
     log (offset 20); `window.kedgeRecords` holds every one of the 60, exactly once, key = value = live-<i>, at
     offsets 20..79, and none of the 20 written before; the page's table has one row per record and its status
     line counts them.
  2. A partition leader moves during a subscribe. ws_client.py subscribes to every partition of "moving" from the
     earliest offset (-2) while an idempotent kclient_rdk212 producer writes mv-0..mv-2999 through kedge (500/s,
     mv-<i> to partition i % 3) and a disruption thread moves one partition's leader every 0.3 s with the mock's
     `leader TOPIC PARTITION BROKER` command, cycling brokers. Then:
       - the producer delivered all 3,000 and the moves overlapped the subscription;
       - the subscriber got every key exactly once, at the partition the producer pinned it to, each partition's
         offsets contiguous from the offset the subscription started at (no gap, no repeat, in order) and no
         error reply;
       - what it got is the log: a second subscription from -2 after the moves (the control, nothing moving)
         reads the same (partition, offset, key) triples, and catches up with the 3,000 within CATCH_UP_S;
       - the moves hit the subscription: kedge logged leader-pool retries (`leader pool alpha: ... moving ...;
         retrying in 100 ms`, upstream/leader_pool.cpp) while it ran.
     With the 2.0.2 mock the same, if it moves leaders (`leader` answered ok); otherwise SKIP with its answer.
  3. kedge logged no error.

Usage: test_gateway_http_live.py KEDGE_BINARY [rdk212|rdk20]   (root; exit 77 = skipped otherwise)
"""
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import start_kedge_in_topology  # noqa: E402
from scenario_support import client_produce_argv, finish, kedge_errors, popen_in, produced_all  # noqa: E402
from scenario_support import scenario_topology  # noqa: E402
from test_topology_smoke import Checks  # noqa: E402
from topology import TopologyError, tool_path  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAIN = "kafka.example.com"
PORT = 9092
MOCK_VERSION = sys.argv[2] if len(sys.argv) > 2 else "rdk212"
CLIENT = "kclient_rdk212"

LIVE_TOPIC = "live"
LIVE_BEFORE = 20   # produced before the page opens: offset -1 must not show them
LIVE_COUNT = 60    # produced once the page is subscribed

MOVING_TOPIC = "moving"
MOVING_PARTITIONS = 3
MOVING_COUNT = 3000
MOVING_RATE = 500          # records/s: the producer runs ~6 s, through ~20 moves
MOVE_INTERVAL_S = 0.3
BROKERS = (1, 2, 3)
SUBSCRIBE_TIMEOUT_S = 90
SUBSCRIBE_LINGER_S = 1.5  # ws_client.py keeps listening that long once it has every record
# 3,000 records in small batches (a paced producer): well under a second when each Fetch goes out as soon as the
# previous one was answered; ~35 s when each waited for the leader pool's next 50 ms timer tick.
CATCH_UP_S = 15
RETRY_LINE = re.compile(r"leader pool alpha: .*\b" + MOVING_TOPIC + r"\b.*; retrying in \d+ ms")


def tls_args(ca):
    return ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={ca}",
            "-X", "ssl.endpoint.identification.algorithm=https"]


class LineReader(threading.Thread):
    """Reads a process's stdout lines (JSON objects; other lines ignored) into a queue as they come."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines = queue.Queue()

    def run(self):
        for line in self.stream:
            try:
                self.lines.put(json.loads(line))
            except ValueError:
                pass
        self.lines.put(None)  # EOF

    def next(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None


# ---- 1. Chromium ------------------------------------------------------------------------------------------------

def check_browser(checks, topo, bootstrap, url, ca):
    result = finish(topo, popen_in(topo, "a", client_produce_argv(CLIENT, bootstrap, LIVE_TOPIC, LIVE_BEFORE, "early",
                                                                  "30000", *tls_args(ca))), "live-early", timeout=60)
    ok, detail = produced_all(result, LIVE_BEFORE)
    checks.record(f"browser: {LIVE_BEFORE} records produced to {LIVE_TOPIC} before the page opens", ok, detail)

    work = tempfile.mkdtemp(prefix="chromium-", dir=topo.log_dir)
    page = subprocess.Popen(topo.netns_argv("a", ["/usr/bin/python3", os.path.join(HERE, "live_page.py"), ca, url,
                                                 LIVE_TOPIC, "-1", work]),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = LineReader(page.stdout)
    reader.start()
    try:
        first = reader.next(timeout=60) or {}
        subscribed = first.get("subscribed")
        checks.record("browser: headless Chromium trusting the test CA (NSS db) opens docs/http-live.html, which "
                      f"subscribes over wss:// (window.kedgeSubscribed): {LIVE_TOPIC}-0 from the end, offset "
                      f"{LIVE_BEFORE}", subscribed == [{"topic": LIVE_TOPIC, "partition": 0, "offset": LIVE_BEFORE}],
                      json.dumps(first))
        if subscribed is None:
            return
        result = finish(topo, popen_in(topo, "a", client_produce_argv(CLIENT, bootstrap, LIVE_TOPIC, LIVE_COUNT, "live",
                                                                      "30000", *tls_args(ca))), "live", timeout=60)
        ok, detail = produced_all(result, LIVE_COUNT)
        checks.record(f"browser: {LIVE_COUNT} records produced through kedge while the page is open", ok, detail)
        page.stdin.write(json.dumps({"expect": LIVE_COUNT, "timeout_s": 30}) + "\n")
        page.stdin.flush()
        shown = reader.next(timeout=60) or {}
    finally:
        try:
            page.stdin.close()
            page.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            page.kill()
            page.wait()
    records = shown.get("records", [])
    expected = {f"live-{i}" for i in range(LIVE_COUNT)}
    keys = [r.get("key") for r in records]
    problems = []
    if sorted(keys) != sorted(expected):
        missing = sorted(expected - set(keys))
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        foreign = sorted(set(keys) - expected)
        problems.append(f"{len(records)} records; missing {missing[:5]}, repeated {repeated[:5]}, "
                        f"not produced while open {foreign[:5]}")
    problems += [f"{r}" for r in records if r.get("value") != r.get("key") or r.get("partition") != 0][:3]
    offsets = sorted(r.get("offset") for r in records)
    if offsets != list(range(LIVE_BEFORE, LIVE_BEFORE + LIVE_COUNT)):
        problems.append(f"offsets {offsets[:3]}..{offsets[-3:]}")
    checks.record(f"browser: window.kedgeRecords holds the {LIVE_COUNT} records exactly once (key = value = "
                  f"live-<i>, offsets {LIVE_BEFORE}..{LIVE_BEFORE + LIVE_COUNT - 1}), none written before it opened",
                  not problems and not shown.get("error"), "; ".join(problems) or json.dumps(shown)[:300])
    checks.record("browser: the page's table rendered one row per record and its status says so",
                  shown.get("rows") == LIVE_COUNT and shown.get("status") == f"{LIVE_COUNT} records",
                  f"rows {shown.get('rows')}, status {shown.get('status')!r}")


# ---- 2. leader moves under a subscription -------------------------------------------------------------------------

class Disruptions(threading.Thread):
    """Moves one partition leader of MOVING_TOPIC every MOVE_INTERVAL_S until stopped; each visit to a partition
    hands it to the next broker. Records (seconds, command, answer)."""

    def __init__(self, mock):
        super().__init__(daemon=True)
        self.mock = mock
        self.stop_event = threading.Event()
        self.log = []
        self.error = None
        self.first_at = self.last_at = None

    def run(self):
        step = 0
        try:
            while not self.stop_event.is_set():
                partition = step % MOVING_PARTITIONS
                broker = BROKERS[(step // MOVING_PARTITIONS + partition + 1) % len(BROKERS)]
                line = f"leader {MOVING_TOPIC} {partition} {broker}"
                answer = self.mock.command(line)
                now = time.monotonic()
                self.log.append((now, line, answer))
                if answer.startswith("ok"):
                    self.first_at = self.first_at or now
                    self.last_at = now
                step += 1
                self.stop_event.wait(MOVE_INTERVAL_S)
        except (TopologyError, OSError) as error:
            self.error = error

    def moves(self):
        return sum(1 for _, _, answer in self.log if answer.startswith("ok"))


def subscriber(topo, url, ca, network, timeout_s):
    process = popen_in(topo, network, ["/usr/bin/python3", os.path.join(HERE, "ws_client.py"), "subscribe", url, ca,
                                       MOVING_TOPIC, "-2", MOVING_COUNT, timeout_s])
    reader = LineReader(process.stdout)
    reader.start()
    return process, reader


def collect(process, reader, timeout_s, early=()):
    """Every line of a subscriber (the `early` ones already read, then the rest) until its `done` line (or EOF /
    timeout): (subscribed, records, done)."""
    subscribed, records, done = [], [], {}
    deadline = time.monotonic() + timeout_s
    pending = list(early)
    while time.monotonic() < deadline:
        line = pending.pop(0) if pending else reader.next(timeout=max(0.1, deadline - time.monotonic()))
        if line is None:
            break
        if "subscribed" in line:
            subscribed += line["subscribed"] or []
        elif "p" in line:
            records.append((line["p"], line["o"], line["k"]))
        elif line.get("done"):
            done = line
            break
        elif "reply" in line:
            done.setdefault("replies", []).append(line["reply"])
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return subscribed, records, done


def stream_problems(subscribed, records):
    """Gaps, repeats and misplaced keys in one subscription's stream; [] when it is the exact log from the start."""
    problems = []
    starts = {entry["partition"]: entry["offset"] for entry in subscribed}
    if sorted(starts) != list(range(MOVING_PARTITIONS)):
        problems.append(f"subscribed partitions {sorted(starts)}")
    keys = [key for _, _, key in records]
    expected = {f"mv-{i}" for i in range(MOVING_COUNT)}
    if len(keys) != len(set(keys)):
        seen, repeated = set(), []
        for p, o, key in records:
            if key in seen:
                repeated.append(f"{key}@{p}/{o}")
            seen.add(key)
        problems.append(f"{len(repeated)} keys repeated: {repeated[:5]}")
    missing = sorted(expected - set(keys), key=lambda k: int(k.split("-")[1]))
    if missing:
        problems.append(f"{len(missing)} keys missing: {missing[:5]}")
    foreign = sorted(set(keys) - expected)
    if foreign:
        problems.append(f"keys not produced: {foreign[:5]}")
    misplaced = [f"{key}@{p}" for p, _, key in records
                 if key in expected and int(key.split("-")[1]) % MOVING_PARTITIONS != p]
    if misplaced:
        problems.append(f"keys on the wrong partition: {misplaced[:5]}")
    for partition in range(MOVING_PARTITIONS):
        offsets = [o for p, o, _ in records if p == partition]  # arrival order
        start = starts.get(partition, 0)
        if offsets != list(range(start, start + len(offsets))):
            wrong = next((i for i, o in enumerate(offsets) if o != start + i), None)
            problems.append(f"partition {partition}: offsets not contiguous from {start} in arrival order "
                            f"(position {wrong}: {offsets[max(0, (wrong or 0) - 2):(wrong or 0) + 3]})")
    return problems


def check_leader_moves(checks, topo, mock, kedge, bootstrap, url, ca):
    answer = mock.command(f"leader {MOVING_TOPIC} 0 2")
    if not answer.startswith("ok"):
        checks.skip("leader moves during a subscribe", f"the {MOCK_VERSION} mock does not move leaders: {answer}")
        return
    log_before = len(kedge.log_text())

    # given: a subscription from the earliest offset of every partition, established
    process, reader = subscriber(topo, url, ca, "b", SUBSCRIBE_TIMEOUT_S)
    early = []
    deadline = time.monotonic() + 30
    while sum(1 for line in early if "subscribed" in line) < MOVING_PARTITIONS and time.monotonic() < deadline:
        line = reader.next(timeout=max(0.1, deadline - time.monotonic()))
        if line is None:
            break
        early.append(line)
        if line.get("done"):
            break
    # when: leaders move while records are produced
    disruptions = Disruptions(mock)
    disruptions.start()
    started = time.monotonic()
    produce = popen_in(topo, "a", client_produce_argv(CLIENT, bootstrap, MOVING_TOPIC, MOVING_COUNT, "mv", "60000",
                                                      "--rate", MOVING_RATE, "-X", "enable.idempotence=true",
                                                      *tls_args(ca)))
    produced = finish(topo, produce, "moving-produce", timeout=90)
    time.sleep(1.0)  # a last move or two after the last record
    disruptions.stop_event.set()
    disruptions.join(15)
    subscribed, records, done = collect(process, reader, SUBSCRIBE_TIMEOUT_S, early)
    log_during = kedge.log_text()[log_before:]
    # the control: the log itself, read by a second subscription with nothing moving
    control_process, control_reader = subscriber(topo, url, ca, "b", SUBSCRIBE_TIMEOUT_S)
    control_subscribed, control_records, control_done = collect(control_process, control_reader,
                                                                SUBSCRIBE_TIMEOUT_S + 10)

    # then
    ok, detail = produced_all(produced, MOVING_COUNT)
    checks.record(f"moves: the idempotent producer delivered all {MOVING_COUNT} through kedge", ok, detail)
    moves = disruptions.moves()
    refused = [f"{line} -> {answer}" for _, line, answer in disruptions.log if not answer.startswith("ok")]
    checks.record(f"moves: the mock moved a partition leader every {MOVE_INTERVAL_S} s while the subscription ran "
                  "(at least 15 moves, each acknowledged)",
                  moves >= 15 and not refused and disruptions.error is None and disruptions.first_at is not None
                  and disruptions.first_at - started < 2.0,
                  f"{moves} moves; refused {refused[:3]}; error {disruptions.error}")
    problems = stream_problems(subscribed, records)
    if done.get("errors") or done.get("replies"):
        problems.append(f"error replies: {(done.get('errors') or done.get('replies'))[:3]}")
    if not done:
        problems.append("the subscriber printed no `done` line")
    checks.record("moves: the subscription from -2 delivered every key exactly once, on its partition, offsets "
                  "contiguous per partition from the start in arrival order, no error",
                  not problems, "; ".join(problems) or f"{len(records)} records in {done.get('seconds')} s")
    control_problems = stream_problems(control_subscribed, control_records)
    checks.record("moves: the control subscription (after the moves) reads the exact log, every key once",
                  not control_problems and control_done.get("done") and not control_done.get("errors"),
                  "; ".join(control_problems) or json.dumps(control_done)[:300])
    seconds = control_done.get("seconds")
    checks.record(f"moves: the control subscription caught up with the {MOVING_COUNT} records in the log within "
                  f"{CATCH_UP_S} s (every Fetch starts on the next loop turn, not on the leader pool's next tick)",
                  seconds is not None and not control_problems and seconds - SUBSCRIBE_LINGER_S < CATCH_UP_S,
                  f"{seconds} s, {SUBSCRIBE_LINGER_S} s of it listening for repeats")
    same = sorted(records) == sorted(control_records)
    checks.record("moves: what the subscription streamed during the moves is the log, triple for triple "
                  "(partition, offset, key)", same and bool(records),
                  f"{len(set(records) - set(control_records))} streamed but not in the log, "
                  f"{len(set(control_records) - set(records))} in the log but not streamed")
    retries = [line for line in log_during.splitlines() if RETRY_LINE.search(line)]
    checks.record("moves: the moves hit the subscription (kedge's leader pool retried on the new leader)",
                  len(retries) >= 3, f"{len(retries)} retries, e.g. {retries[:1]}")


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    for tool in (f"mock_cluster_{MOCK_VERSION}", CLIENT):
        if tool_path(tool) is None:
            print(f"{tool} not built")
            return 1
    for program in ("/usr/bin/chromium", "/usr/bin/certutil"):
        if not os.path.exists(program):
            print(f"{program} missing: run scripts/install-deps.sh")
            return 1
    with scenario_topology() as topo:
        mock = topo.start_mock_cluster(MOCK_VERSION, brokers=3,
                                       topics={LIVE_TOPIC: 1, MOVING_TOPIC: MOVING_PARTITIONS})
        kedge, certs, _ = start_kedge_in_topology(topo, kedge_binary, [("alpha", "subdomain", mock.bootstrap)],
                                                  DOMAIN, PORT)
        ca = certs["ca"]
        bootstrap = f"bootstrap.{DOMAIN}:{PORT}"
        url = f"wss://http.{DOMAIN}:{PORT}/kafka"
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock {MOCK_VERSION} {mock.bootstrap}", flush=True)

        check_browser(checks, topo, bootstrap, url, ca)
        check_leader_moves(checks, topo, mock, kedge, bootstrap, url, ca)

        kedge.stop()
        errors = kedge_errors(kedge.log_text())
        checks.record("kedge logged no error", not errors, "; ".join(errors[:3]))
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("needs root for network namespaces")
        sys.exit(77)
    sys.exit(main())
