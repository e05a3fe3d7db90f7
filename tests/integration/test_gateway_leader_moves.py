#!/usr/bin/python3
"""Leadership changes and a broker outage while clients produce and consume through kedge.

    <prefix>-dc   one 3-broker librdkafka 2.12 mock cluster (Produce v10 / Fetch v16, KIP-951) on its
                  loopback, and kedge on 0.0.0.0:9092 with one virtual cluster "alpha" (subdomain format)
    <prefix>-a    producers (kclient_rdk212, idempotent)
    <prefix>-b    consumers (kclient_rdk212, one fresh consumer group per round)

kclient produces as fast as it can (it has no pacing option), so traffic is a sequence of rounds: each round
produces ROUND_MESSAGES messages with its own key prefix from a, while a consumer in b reads that prefix
concurrently. Rounds run back to back while a disruption thread moves one partition leader every 0.25 s
(cycling through the brokers), takes broker 2 down, fails its partitions over to 1 and 3 (moving them between
those two), brings 2 back and moves leaders again. A "tail" consumer runs through all of it: its prefix is
produced only after the disruptions, so it keeps fetching from moving leaders the whole time.

Checks (one PASS/FAIL line each, then `N passed, M failed`):
  - every round's producer delivered every message, and its consumer saw each one exactly once
    (the producer is idempotent, so retries after NOT_LEADER_OR_FOLLOWER / disconnects may not duplicate);
    final offset commits succeed, except the pre-move-epoch refusals explained in check_consumed;
  - the disruptions actually overlapped client traffic (at least MIN_ROUNDS_DURING_DISRUPTIONS rounds ran
    while they happened), and every mock command was acknowledged;
  - every `rewrote ...` line in kedge's log ends in `-> broker-<id>.kafka.example.com:9092`;
  - metadata fetched from a afterwards lists only kedge names and the leaders set last;
  - the clients (run with `-X debug=broker`, so librdkafka logs every connect attempt) connected to kedge's
    address and never to 127.0.0.1, the mock's real addresses;
  - kedge logged no broker-response / client-stream errors and is still running.
  - kedge rewrote NodeEndpoints in Fetch v16 responses (KIP-951); Produce v10 rewrites are printed only
    (whether a move hits an in-flight Produce is timing).

With --fetch-buffer-bytes 0 every Fetch v16 response streams (kafka_codec/fetch_stream.h). The mock's real
hosts (127.0.0.1) are shorter than kedge's names, so kedge cannot fit rewritten NodeEndpoints into a streamed
response and removes them: then the check is that kedge logged such removals, and every other check (no backend
address reaches a client, every record exactly once) holds unchanged — clients fall back to Metadata.

With --long-backend-names the mock advertises its brokers under names longer than kedge's (resolved to
127.0.0.1 by /etc/netns/<dc>/hosts, as a private DNS zone would): rewritten NodeEndpoints then fit a streamed
response, padded to its length, and must reach the clients (no removals), with the backend names never shown.

With --direct (a control, not registered in ctest) kedge is not started: the same mock, disruptions and
clients run with every client in dc talking plaintext to the mock's listeners, and only the client-side checks
(mock commands, overlap, every round and the tail exactly once, commits) run. A failure that also happens here
is librdkafka's or the mock's, not kedge's. Known librdkafka 2.12 trap (rd_kafka_toppar_broker_update() returns
"no change" while a migration is still in flight; the preferred-replica guard in rd_kafka_toppar_leader_update()
then keeps the partition there, upstream PR confluentinc/librdkafka#5593): a consumer's partition ends on a
broker other than its leader (statistics `leader=3 broker=2`), next_offset frozen, no error to the application.

That trap is the one failure of this test seen in fresh-clone CI runs (tail consumer, one partition, always
`leader != broker` at the end), and the mock delivers KIP-951 leader hints to clients without kedge as well. A
partition in that state is the client's own inconsistency: kedge cannot make librdkafka's fetcher differ from
the leader it recorded. So when the tail consumer ends short and EVERY partition it did not finish is in that
state, the test says so (naming the partitions), checks that what the consumer did read was exactly once, and
then proves the records are all deliverable through kedge: a fresh consumer group reads the tail's prefix
again, through kedge, and must see each of its messages exactly once and commit. A short tail with any other
cause (a partition whose fetcher IS on its leader, a duplicate, a foreign or corrupt record) fails as before.

Usage: test_gateway_leader_moves.py KEDGE_BINARY [--fetch-buffer-bytes N] [--long-backend-names] [--direct]
       (needs root; mock/kclient via KEDGE_* env or KEDGE_BUILD_DIR)
"""
import argparse
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import start_kedge_in_topology  # noqa: E402
from test_topology_smoke import Checks, client_argv, parse_metadata, summary_fields  # noqa: E402
from topology import Topology, TopologyError, tool_path  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
TOPIC = "moves"
PARTITIONS = 6
BROKERS = (1, 2, 3)
CLIENT = "kclient_rdk212"
ROUND_MESSAGES = 3000
MAX_ROUNDS = 12
MIN_ROUNDS_DURING_DISRUPTIONS = 2  # a round that spans the outage can take ~11 s
CLIENT_TIMEOUT_MS = "45000"
TAIL_TIMEOUT_MS = "100000"
# kclient has no pacing option (a round's producer is busy for ~0.5 s), so leaders move often instead:
# one partition every MOVE_INTERVAL_S, MOVES_PER_PHASE moves before and after broker 2's outage.
MOVE_INTERVAL_S = 0.25
MOVES_PER_PHASE = 20
OUTAGE_MOVES = 12
# librdkafka logs every connection attempt ("Connecting to ipv4#ADDR:PORT") at debug=broker.
DEBUG = ["-X", "debug=broker"]
# Consumers keep librdkafka's statistics: a consumer that ends short prints each partition's fetch state,
# leader, epoch and offsets from them (kclient `partition` lines), shown with the failed check.
CONSUMER_STATISTICS = ["-X", "statistics.interval.ms=1000"]
# KEDGE_LM_TAIL_DEBUG=broker,topic,fetch,... widens the tail consumer's librdkafka debug contexts (its log is
# kept with KEDGE_KEEP_LOGS=1).
TAIL_DEBUG = ["-X", "debug=" + os.environ.get("KEDGE_LM_TAIL_DEBUG", "broker")]
# librdkafka 2.12's mock answers Produce/Fetch for a moved partition with NOT_LEADER_OR_FOLLOWER plus
# CurrentLeader and NodeEndpoints (KIP-951); kedge logs each rewritten endpoint as `rewrote Fetch v16 ...`.

KEDGE_NAME = re.compile(r"-> broker-(\d+)\." + re.escape(DOMAIN) + f":{PORT}$")


def tls_args(ca):
    return ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={ca}",
            "-X", "ssl.endpoint.identification.algorithm=https"]


class Route:
    """Where the clients run and what they bootstrap from: through kedge (producers in a, consumers in b,
    TLS to bootstrap.<domain>), or with --direct straight to the mock (every client in dc beside it,
    plaintext to its 127.0.0.1 listeners) - the control that tells librdkafka's behaviour from kedge's."""

    def __init__(self, name, bootstrap, client_args, producer_network="a", consumer_network="b"):
        self.name = name  # "kedge" or "the mock directly", for check labels
        self.bootstrap = bootstrap
        self.client_args = client_args
        self.producer_network = producer_network
        self.consumer_network = consumer_network


class Disruptions(threading.Thread):
    """Drives the mock cluster's leadership and broker state; records every command and its answer.

    `leaders` tracks the leader this thread assigned last per partition (the mock's initial assignment is
    unknown here, so only assigned partitions are tracked)."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.log = []  # (seconds since start, command, answer)
        self.leaders = {}
        self.error = None
        self.started_at = None
        self.finished_at = None

    def command(self, line):
        answer = self.cluster.command(line)
        self.log.append((time.monotonic() - self.started_at, line, answer))
        if line.startswith("leader ") and answer == "ok":
            _, _, partition, broker = line.split()
            self.leaders[int(partition)] = int(broker)
        return answer

    def run(self):
        self.started_at = time.monotonic()
        try:
            time.sleep(1.0)  # let the first round connect before anything moves
            # One partition moves every MOVE_INTERVAL_S, so any producer or consumer that is active for
            # half a second meets a leader change; each visit to a partition hands it to the next broker.
            step = 0
            for _ in range(MOVES_PER_PHASE):
                partition = step % PARTITIONS
                self.command(f"leader {TOPIC} {partition} {BROKERS[(step // PARTITIONS + partition) % 3]}")
                step += 1
                time.sleep(MOVE_INTERVAL_S)
            self.command("down 2")
            # Fail broker 2's partitions over to the brokers that are still up, as a real cluster would,
            # and keep moving leaders between those two while 2 is away.
            for move in range(OUTAGE_MOVES):
                self.command(f"leader {TOPIC} {move % PARTITIONS} {(1, 3)[(move // PARTITIONS + move) % 2]}")
                time.sleep(MOVE_INTERVAL_S)
            self.command("up 2")
            for _ in range(MOVES_PER_PHASE):
                partition = step % PARTITIONS
                self.command(f"leader {TOPIC} {partition} {BROKERS[(step // PARTITIONS + partition) % 3]}")
                step += 1
                time.sleep(MOVE_INTERVAL_S)
        except (TopologyError, OSError) as error:
            self.error = error
        finally:
            self.finished_at = time.monotonic()


def client_popen(topo, network, route, subcommand, *args):
    """Starts kclient_rdk212 SUBCOMMAND in a network, stdout/stderr captured."""
    argv = client_argv(CLIENT, subcommand, "--bootstrap", route.bootstrap, "--topic", TOPIC, *args,
                       *route.client_args)
    return subprocess.Popen(topo.netns_argv(network, argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def producer(topo, prefix, route):
    return client_popen(topo, route.producer_network, route, "produce", "--count", ROUND_MESSAGES, "--prefix",
                        prefix, "--timeout-ms", CLIENT_TIMEOUT_MS, "-X", "enable.idempotence=true", *DEBUG)


def consumer(topo, prefix, route, timeout_ms=CLIENT_TIMEOUT_MS, debug=DEBUG, group=None):
    return client_popen(topo, route.consumer_network, route, "consume", "--group", group or f"group-{prefix}",
                        "--expect", ROUND_MESSAGES, "--prefix", prefix, "--timeout-ms", timeout_ms, *debug,
                        *CONSUMER_STATISTICS)


def finish(topo, process, name, timeout=120):
    """Waits for a client; keeps its stderr in the log dir; returns (returncode, stdout, stderr)."""
    out, err = process.communicate(timeout=timeout)
    with open(topo.log_path(f"{name}-stderr"), "w") as saved:
        saved.write(err)
    return process.returncode, out, err


def run_round(topo, index, route):
    """One produce (network a) + concurrent consume (network b) round with its own key prefix."""
    prefix = f"lm{index}"
    started = time.monotonic()
    produce, consume = producer(topo, prefix, route), consumer(topo, prefix, route)
    produced = finish(topo, produce, f"{prefix}-produce")
    consumed = finish(topo, consume, f"{prefix}-consume")
    return {"prefix": prefix, "started": started, "ended": time.monotonic(), "produce": produced,
            "consume": consumed}


def check_produced(checks, label, result):
    code, out, err = result
    fields = summary_fields(out, "produce")
    checks.record(f"{label}: idempotent producer in a delivered {ROUND_MESSAGES}",
                  code == 0 and fields.get("ok") == "1" and fields.get("delivered") == str(ROUND_MESSAGES)
                  and fields.get("partitions") == str(PARTITIONS), out.strip() or err.strip()[-400:])


def check_consumed(checks, label, result, commit_must_succeed):
    """Exactly-once delivery, then the final offset commit.

    A consumer whose messages were written before a leader move may legitimately fail its final commit:
      - _NO_OFFSET: librdkafka (2.1+, still open as confluentinc/librdkafka#4882) leaves a stored offset out of
        the commit when its leader epoch - the epoch the batch was WRITTEN in - is below the partition's current
        one (debug=cgrp: "stored offset N (leader epoch 0), committed offset INVALID (leader epoch 2): not
        including in commit");
      - FENCED_LEADER_EPOCH: the mock rejects an OffsetCommit carrying such an older epoch.
    Both also happen with the same clients talking to the mock directly, without kedge. Exactly-once delivery
    is what kedge is judged on; consumers whose messages were all written after the last move must commit."""
    code, out, err = result
    fields = summary_fields(out, "consume")
    exactly_once = (fields.get("unique") == str(ROUND_MESSAGES) and fields.get("duplicates") == "0"
                    and fields.get("bad") == "0" and fields.get("partitions") == str(PARTITIONS))
    checks.record(f"{label}: consumer in b saw each message exactly once", exactly_once,
                  out.strip() or err.strip()[-400:])
    if not exactly_once:
        print_consumer_diagnostics(label, err)
    allowed = {"ok"} if commit_must_succeed else {"ok", "_NO_OFFSET", "FENCED_LEADER_EPOCH"}
    checks.record(f"{label}: offset commit " + ("succeeded" if commit_must_succeed
                                                else "ok, or refused for pre-move epochs (see check_consumed)"),
                  fields.get("commit") in allowed and (code == 0 or fields.get("commit") != "ok"),
                  f"commit={fields.get('commit')} exit={code}")


PARTITION_STATE = re.compile(r"^kclient: partition (\d+): \d+ records of prefix .*librdkafka: .*\bleader=(-?\d+) "
                             r"broker=(-?\d+) .*\bnext_offset=(-?\d+) .*\bhi_offset=(-?\d+)", re.M)


def unfinished_partitions(stderr):
    """{partition: (leader, broker, next_offset, hi_offset)} for the partitions a short consumer had not read to
    their end, from kclient's per-partition lines (librdkafka statistics)."""
    state = {}
    for match in PARTITION_STATE.finditer(stderr):
        partition, leader, broker, next_offset, hi_offset = map(int, match.groups())
        if next_offset < hi_offset:
            state[partition] = (leader, broker, next_offset, hi_offset)
    return state


def delegation_trapped(stderr):
    """The partitions of a short consumer, if every unfinished one is in librdkafka's delegation trap (fetcher on
    a broker that is not the partition's leader, see the module docstring); None otherwise."""
    unfinished = unfinished_partitions(stderr)
    if not unfinished or any(leader < 0 or broker < 0 or leader == broker
                             for leader, broker, _, _ in unfinished.values()):
        return None
    return unfinished


def print_consumer_diagnostics(label, stderr):
    """For a consumer that fell short: kclient's per-partition lines (delivered records, last offset, and
    librdkafka's fetch state / leader / epoch / offsets), its errors, and librdkafka's last request errors
    and leader-epoch lines, so a stuck partition can be explained from the test output alone."""
    lines = stderr.splitlines()
    partitions = [line for line in lines if line.startswith("kclient: partition ")]
    errors = [line for line in lines if line.startswith("kclient: ") and line not in partitions]
    librdkafka = [line for line in lines if "|REQERR|" in line or "|OFFSETVALID|" in line or "|VALIDATE|" in line
                  or "epoch" in line.lower()]
    print(f"    diagnostics for {label}:")
    for line in partitions or ["(no per-partition lines: kclient ended before printing them)"]:
        print("      " + line)
    for line in errors[-8:]:
        print("      " + line[:300])
    for line in librdkafka[-12:]:
        print("      " + line[:300])


def main():
    if os.geteuid() != 0:
        print("needs root for network namespaces")
        return 77
    parser = argparse.ArgumentParser()
    parser.add_argument("kedge_binary")
    parser.add_argument("--fetch-buffer-bytes", type=int)
    parser.add_argument("--long-backend-names", action="store_true")
    parser.add_argument("--direct", action="store_true",
                        help="control run without kedge: the same disruptions, clients talking to the mock")
    args = parser.parse_args()
    kedge_binary = os.path.abspath(args.kedge_binary)
    fetch_buffer_bytes = args.fetch_buffer_bytes
    if tool_path(CLIENT) is None or tool_path("mock_cluster_rdk212") is None:
        print(f"{CLIENT} / mock_cluster_rdk212 not found (set KEDGE_BUILD_DIR or KEDGE_* variables)")
        return 1
    checks = Checks()
    # KEDGE_KEEP_LOGS=1 keeps kedge/mock/client logs (path printed below) for a post-mortem.
    with Topology(keep_logs=bool(os.environ.get("KEDGE_KEEP_LOGS"))) as topo:
        cluster = topo.start_mock_cluster("rdk212", brokers=len(BROKERS), topics={TOPIC: PARTITIONS})
        real = {index + 1: f"{host}:{port}" for index, (host, port) in enumerate(cluster.broker_addresses)}
        backend_names = []
        if args.long_backend_names:
            # The dc namespace's own hosts file: `ip netns exec` bind-mounts it over /etc/hosts for kedge.
            etc_dir = os.path.join("/etc/netns", topo.ns("dc"))
            os.makedirs(etc_dir, exist_ok=True)
            lines = ["127.0.0.1 localhost"]
            for broker, (_, port) in zip(BROKERS, cluster.broker_addresses):
                name = f"b-{broker}.prod-kafka-7f3a9c.c2.kafka.eu-west-1.internal.example.net"
                lines.append(f"127.0.0.1 {name}")
                cluster.command_ok(f"hostport {broker} {name} {port}")
                real[broker] = f"{name}:{port}"
                backend_names.append(name)
            with open(os.path.join(etc_dir, "hosts"), "w") as hosts:
                hosts.write("\n".join(lines) + "\n")
        if args.direct:
            bootstrap = ",".join(f"{host}:{port}" for host, port in cluster.broker_addresses)
            route = Route("the mock directly", bootstrap, [], producer_network="dc", consumer_network="dc")
            print(f"topology {topo.prefix} (logs {topo.log_dir}): mock rdk212 at {bootstrap}; --direct: "
                  "no kedge, clients in dc", flush=True)
        else:
            limits = None if fetch_buffer_bytes is None else {"fetch_buffer_bytes": fetch_buffer_bytes}
            kedge, certs, _ = start_kedge_in_topology(topo, kedge_binary,
                                                      [("alpha", "subdomain", cluster.bootstrap)],
                                                      DOMAIN, PORT, limits=limits)
            ca = certs["ca"]
            route = Route("kedge", f"bootstrap.{DOMAIN}:{PORT}", tls_args(ca))
            print(f"topology {topo.prefix} (logs {topo.log_dir}): mock rdk212 at {cluster.bootstrap}; "
                  f"kedge at {topo.gateway_ip('a')} (a), {topo.gateway_ip('b')} (b)", flush=True)

        # A consumer that fetches through every disruption: its own prefix is produced only at the very end,
        # so until then it keeps fetching (and skipping) the rounds' messages from moving leaders.
        tail = consumer(topo, "lmtail", route, timeout_ms=TAIL_TIMEOUT_MS, debug=TAIL_DEBUG)
        disruptions = Disruptions(cluster)
        disruptions.start()
        rounds = []
        # Rounds until the disruptions are over, plus one that starts after them (stable layout).
        while len(rounds) < MAX_ROUNDS:
            rounds.append(run_round(topo, len(rounds), route))
            if not disruptions.is_alive() and rounds[-1]["started"] > disruptions.finished_at:
                break
        disruptions.join(timeout=60)
        tail_produced = finish(topo, producer(topo, "lmtail", route), "lmtail-produce")
        tail_consumed = finish(topo, tail, "lmtail-consume")

        for when, line, answer in disruptions.log:
            if not line.startswith("leader "):
                print(f"    t={when:5.1f}s mock: {line} -> {answer}")
        failed_commands = [(line, answer) for _, line, answer in disruptions.log if answer != "ok"]
        checks.record("every mock command (leader moves, down 2, up 2) was acknowledged",
                      disruptions.error is None and not disruptions.is_alive() and not failed_commands
                      and len(disruptions.log) > 0,
                      f"{len(disruptions.log)} commands" if not failed_commands and disruptions.error is None
                      else f"error={disruptions.error} failed={failed_commands[:3]}")
        overlapping = [r for r in rounds if r["started"] < disruptions.finished_at
                       and r["ended"] > disruptions.started_at]
        checks.record(f"client traffic overlapped the disruptions (>= {MIN_ROUNDS_DURING_DISRUPTIONS} rounds)",
                      len(overlapping) >= MIN_ROUNDS_DURING_DISRUPTIONS,
                      f"{len(overlapping)} of {len(rounds)} rounds, disruptions lasted "
                      f"{disruptions.finished_at - disruptions.started_at:.1f}s")

        client_stderr = []
        for r in rounds:
            label = f"round {r['prefix']} ({r['ended'] - r['started']:.1f}s)"
            check_produced(checks, label, r["produce"])
            check_consumed(checks, label, r["consume"],
                           commit_must_succeed=r["started"] > disruptions.finished_at)
            client_stderr += [r["produce"][2], r["consume"][2]]
        check_produced(checks, "tail lmtail", tail_produced)
        tail_fields = summary_fields(tail_consumed[1], "consume")
        trapped = None
        if tail_fields.get("unique") != str(ROUND_MESSAGES):
            trapped = delegation_trapped(tail_consumed[2])
        if trapped is None:
            check_consumed(checks, "tail lmtail (consumer ran through every disruption)", tail_consumed,
                           commit_must_succeed=True)
        else:
            stuck = ", ".join(f"partition {p} (leader={leader} broker={broker} next_offset={next_offset} "
                              f"hi_offset={hi_offset})"
                              for p, (leader, broker, next_offset, hi_offset) in sorted(trapped.items()))
            print(f"    tail lmtail: librdkafka left {stuck} fetching from a broker that is not the leader "
                  "(the delegation trap, confluentinc/librdkafka#5593); see the module docstring", flush=True)
            print_consumer_diagnostics("tail lmtail", tail_consumed[2])
            checks.record("tail lmtail (consumer ran through every disruption): what it read, it read exactly "
                          "once, and only the trapped partitions are short",
                          tail_fields.get("duplicates") == "0" and tail_fields.get("bad") == "0"
                          and int(tail_fields.get("partitions", "0")) == PARTITIONS - len(trapped),
                          tail_consumed[1].strip())
            recovered = finish(topo, consumer(topo, "lmtail", route, group="group-lmtail-again"),
                               "lmtail-again-consume")
            check_consumed(checks, f"tail lmtail read again through {route.name} by a fresh group (after the trap)",
                           recovered, commit_must_succeed=True)
            client_stderr.append(recovered[2])
        client_stderr += [tail_produced[2], tail_consumed[2]]
        if args.direct:  # the checks below are about kedge
            print(f"{checks.passed} passed, {checks.failed} failed (--direct: kedge checks not run)", flush=True)
            return 0 if checks.failed == 0 else 1

        # Metadata after the disruptions, through kedge, from client network a.
        metadata = topo.run_in("a", client_argv(CLIENT, "metadata", "--bootstrap", f"bootstrap.{DOMAIN}:{PORT}",
                                                "--topic", TOPIC, "--timeout-ms", "20000", *DEBUG,
                                                *tls_args(ca)), timeout=60)
        client_stderr.append(metadata.stderr)
        brokers, topics, leaders = parse_metadata(metadata.stdout)
        want = {broker: f"broker-{broker}.{DOMAIN}:{PORT}" for broker in BROKERS}
        checks.record("metadata after the disruptions lists only kedge host names", brokers == want,
                      f"got {brokers}" + ("" if brokers == want else " " + metadata.stderr.strip()[-300:]))
        want_leaders = {(TOPIC, partition): broker for partition, broker in disruptions.leaders.items()}
        checks.record("metadata through kedge shows the leaders assigned last",
                      bool(want_leaders) and all(leaders.get(key) == broker for key, broker in want_leaders.items()),
                      f"got {sorted(leaders.items())}, want {sorted(want_leaders.items())}")

        # librdkafka's debug=broker logs "Connecting to ipv4#ADDR:PORT" for every connection attempt.
        all_stderr = "".join(client_stderr)
        connects = set(re.findall(r"Connecting to (ipv[46]#\S+)", all_stderr))
        kedge_addresses = {f"ipv4#{topo.gateway_ip(n)}:{PORT}" for n in Topology.CLIENT_NETWORKS}
        checks.record("clients connected to kedge's addresses only", connects and connects <= kedge_addresses,
                      f"{sorted(connects)}")
        leaked = [line for line in all_stderr.splitlines()
                  if "127.0.0.1" in line or any(name in line for name in backend_names)]
        checks.record("client output never mentions 127.0.0.1 or a backend name (the mock's real addresses)",
                      not leaked, "; ".join(leaked[:3]))

        time.sleep(0.5)
        checks.record("kedge still running", kedge.alive(), "" if kedge.alive() else kedge.log_text()[-500:])
        log_lines = kedge.log_text().splitlines()
        rewrites = [line for line in log_lines if " rewrote " in line]
        off_target = [line for line in rewrites if not KEDGE_NAME.search(line)]
        checks.record("every rewrite line ends in -> broker-<id>.kafka.example.com:9092",
                      rewrites and not off_target, f"{len(rewrites)} lines; {off_target[:3]}")
        # "rewrote <api> v<n> for alpha: broker <id> <real host>:<port> -> broker-<id>.<domain>:<port>": the node
        # id, the mock's real address of that node and the advertised name must all agree.
        mismatched = []
        for line in rewrites:
            parsed = re.search(r" for alpha: broker (\d+) (\S+) -> broker-(\d+)\.", line)
            if not parsed or parsed.group(1) != parsed.group(3) or real.get(int(parsed.group(1))) != parsed.group(2):
                mismatched.append(line)
        checks.record("every rewrite maps node N's real address to broker-N", rewrites and not mismatched,
                      "; ".join(mismatched[:3]))
        by_api = {}
        for line in rewrites:
            api = re.search(r" rewrote (.+?) for ", line)
            if api:
                by_api[api.group(1)] = by_api.get(api.group(1), 0) + 1
        print("    rewrite lines by api/version: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_api.items())))
        examples = {}
        for line in rewrites:
            api = re.search(r" rewrote (Produce v\d+|Fetch v\d+) ", line)
            if api:
                examples.setdefault(api.group(1), line.split(" DEBUG ")[-1])
        for line in examples.values():
            print("    e.g. " + line)
        # The tail consumer fetches through every move, so Fetch v16 NodeEndpoints rewrites happen in every run
        # (28-141 observed). A round's producer is busy for only ~0.5 s, so a move hits an in-flight Produce in
        # most runs but not all (0-6 Produce v10 rewrites observed): printed above, not a check.
        checks.record("kedge rewrote NodeEndpoints in Fetch responses (KIP-951)",
                      any(" rewrote Fetch v" in line for line in rewrites),
                      ", ".join(f"{k}: {v}" for k, v in sorted(by_api.items()) if k.startswith(("Produce", "Fetch")))
                      or "none")
        removed = [line for line in log_lines if "NodeEndpoints removed" in line]
        if fetch_buffer_bytes == 0 and backend_names:
            checks.record("streamed Fetch responses: rewritten NodeEndpoints fit (padded), none removed",
                          not removed and any(" rewrote Fetch v" in line for line in rewrites),
                          f"{len(removed)} removals")
        elif fetch_buffer_bytes == 0:
            checks.record("streamed Fetch responses: kedge removed NodeEndpoints it could not fit",
                          len(removed) > 0, f"{len(removed)} lines; e.g. {removed[0].split(' DEBUG ')[-1]}"
                          if removed else "none")
        else:
            print(f"    streamed Fetch responses with NodeEndpoints removed: {len(removed)}")
        stream_errors = [line for line in log_lines
                         if " broker response to " in line or "client request stream error" in line
                         or "TLS write failed" in line or " ERROR " in line]
        checks.record("kedge logged no broker-response, client-stream or TLS errors", not stream_errors,
                      "; ".join(stream_errors[:3]))
        warnings = [line for line in log_lines if " WARN " in line]
        for line in warnings[:8]:
            print("    kedge warning: " + line)
    print(f"{checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
