#!/usr/bin/python3
"""Per-client quotas (docs/policy.md "Quotas"): produce and fetch byte rates per principal, enforced by kedge as
Kafka brokers enforce theirs (KIP-219: the response carries ThrottleTimeMs and the connection is not read for that
long; nothing is dropped).

    <prefix>-dc   a 3-broker librdkafka 2.12 mock (topics "metered-alice" and "metered-bob", 3 partitions each,
                  "history", 8 partitions) and kedge on :9092 with one virtual cluster, alpha
                  (bootstrap-alpha.<domain>), that terminates SASL PLAIN (users file by `kedge users add`: alice,
                  bob, carol; the mock takes plaintext) with
                    "quotas": {"produce_bytes_per_second": 1048576, "fetch_bytes_per_second": 1048576,
                               "principals": {"bob": {"produce_bytes_per_second": null,
                                                      "fetch_bytes_per_second": null}}}
    <prefix>-a    python3-confluent-kafka (librdkafka 2.0.2) as alice: a producer, then carol's consumer
    <prefix>-b    python3-confluent-kafka as bob: the "history" prefill, then a producer beside alice's

Checks (one PASS/FAIL line each, quoting the clients' figures, then `N passed, M failed`):
  0. bob (unlimited) writes "history" first: 8 x 4 MiB of 10 KiB values in 64 KiB batches (batch.size), every
     delivery report succeeds;
  1. alice (1 MiB/s) produces 10 KiB values for 35 s, her queue (queue.buffering.max.kbytes 4096, librdkafka's
     default batch.size, so Produce requests of ~1 MB) kept full: the value bytes whose delivery report arrived
     in the 30 s after a 5 s warm-up (which holds the quota's 1 s burst and the first throttles) are 1 MiB/s
     +-10%; after a flush every delivery report succeeded (produced == delivered, no error); librdkafka's
     statistics (one report a second) show a throttle (brokers.*.throttle max > 0, the report quoted);
  2. at the same time, from the other network, bob (unlimited: `null` in principals) produces the same way: at
     least 3x alice's rate, every delivery report succeeded, his statistics never show a throttle (both rates
     printed in MiB/s, with each client's MiB per second);
  3. /metrics: kedge_quota_throttled_requests_total{virtual_cluster="alpha",quota="produce_bytes"} > 0 (and the
     throttle seconds beside it);
  4. carol (fetch 1 MiB/s) reads "history" from the earliest offset in a consumer group for 25 s (the mock
     answers a Fetch with one stored batch per partition, so responses come in 64 KiB steps): the value bytes she
     received in the 20 s after a 5 s warm-up are 1 MiB/s +-15%, no consumer error (error_cb included), her
     statistics show a throttle, and kedge_quota_throttled_requests_total{...,quota="fetch_bytes"} > 0 (her
     connections got kedge's PLAIN handshake answer inside the request feed; the InFlightTable once forgot it was
     owed and lost the first Fetch response larger than one read: tests/unit/gateway/in_flight_test.cpp);
  5. kedge still running, no errors in its log.

Usage: test_gateway_quotas.py KEDGE_BINARY   (root; tools via KEDGE_* env from ctest or KEDGE_BUILD_DIR)
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kedge_harness import admin_address, start_kedge_in_topology  # noqa: E402
from scenario_support import (finish, kedge_errors, metric, metric_lines, metrics_text, popen_in,  # noqa: E402
                              run_scenario, scenario_topology, summary_exit_code)
from test_topology_smoke import Checks  # noqa: E402

DOMAIN = "kafka.example.com"
PORT = 9092
CLUSTER = "alpha"
MIB = 1048576
RATE = MIB  # produce and fetch bytes per second of every client but bob
QUOTAS = {"produce_bytes_per_second": RATE, "fetch_bytes_per_second": RATE,
          "principals": {"bob": {"produce_bytes_per_second": None, "fetch_bytes_per_second": None}}}
USERS = {"alice": "pw-alice-41c7e2", "bob": "pw-bob-9d03aa", "carol": "pw-carol-5b6f18"}
MECHANISM = "PLAIN"
VALUE_BYTES = 10240
PRODUCE_SECONDS, PRODUCE_WARMUP = 35, 5  # a 30 s window after the warm-up
PRODUCE_TOLERANCE = 0.10
BOB_FACTOR = 3
HISTORY, HISTORY_PARTITIONS, HISTORY_PER_PARTITION = "history", 8, 4 * MIB  # under the mock's 5 MiB per partition
HISTORY_BATCH = 65536  # the mock answers a Fetch with one stored batch per partition: this is a Fetch's grain
FETCH_SECONDS, FETCH_WARMUP = 25, 5  # a 20 s window after the warm-up
FETCH_TOLERANCE = 0.15

# Runs with /usr/bin/python3 (python3-confluent-kafka) in a client namespace; prints one JSON object. CONFIG_JSON:
# librdkafka properties (sasl.mechanisms among them) applied over SASL_SSL with the user's password.
#   produce BOOTSTRAP CA USER PASSWORD TOPIC SECONDS WARMUP VALUE_BYTES CONFIG_JSON
#       produces VALUE_BYTES values as fast as the queue allows for SECONDS, then flushes; counts the deliveries
#       between WARMUP and SECONDS (by the time their report arrived), and every failure; keeps the highest
#       brokers.*.throttle max/avg of librdkafka's statistics (one report a second)
#   prefill BOOTSTRAP CA USER PASSWORD TOPIC PARTITIONS BYTES_PER_PARTITION VALUE_BYTES CONFIG_JSON
#   consume BOOTSTRAP CA USER PASSWORD TOPIC GROUP SECONDS WARMUP CONFIG_JSON
#       reads from the earliest offset for SECONDS; counts the value bytes received between WARMUP and SECONDS
CLIENT_SCRIPT = r"""
import json, sys, time
import confluent_kafka

def base(bootstrap, ca, user, password, extra):
    config = {"bootstrap.servers": bootstrap, "security.protocol": "SASL_SSL", "ssl.ca.location": ca,
              "ssl.endpoint.identification.algorithm": "https", "sasl.username": user, "sasl.password": password,
              "client.id": "kedge-quota-" + user}
    config.update(json.loads(extra))
    return config

class Stats:
    # librdkafka's statistics: the highest throttle (ms) any broker reported, and the report that showed it.
    def __init__(self):
        self.reports, self.max, self.avg, self.where = 0, 0, 0, None
    def __call__(self, text):
        self.reports += 1
        for broker in json.loads(text).get("brokers", {}).values():
            throttle = broker.get("throttle") or {}
            if throttle.get("max", 0) > self.max or throttle.get("avg", 0) > self.avg:
                self.where = {"broker": broker.get("name"), "report": self.reports, "throttle": throttle}
            self.max, self.avg = max(self.max, throttle.get("max", 0)), max(self.avg, throttle.get("avg", 0))
    def summary(self):
        return {"stats_reports": self.reports, "throttle_max_ms": self.max, "throttle_avg_ms": self.avg,
                "throttle_seen": self.where}

def produce(bootstrap, ca, user, password, topic, seconds, warmup, value_bytes, extra):
    seconds, warmup, value_bytes = float(seconds), float(warmup), int(value_bytes)
    stats = Stats()
    config = base(bootstrap, ca, user, password, extra)
    config.update({"statistics.interval.ms": 1000, "stats_cb": stats,
                   "error_cb": lambda error: errors.append("error_cb: " + str(error))})
    errors = []
    tally = {"delivered": 0, "failed": 0, "in_window": 0, "before_end": 0, "per_second": {}}
    producer = confluent_kafka.Producer(config)
    value = b"q" * value_bytes
    started = time.monotonic()
    window_start, end = started + warmup, started + seconds

    def on_delivery(error, message):
        now = time.monotonic()
        if error is not None:
            tally["failed"] += 1
            if len(errors) < 5:
                errors.append("delivery failed: " + str(error))
            return
        tally["delivered"] += 1
        if now < end:
            tally["before_end"] += 1
            tally["in_window"] += window_start <= now
        second = str(int(now - started))
        tally["per_second"][second] = tally["per_second"].get(second, 0) + 1

    produced = 0
    while time.monotonic() < end:
        try:
            producer.produce(topic, value, on_delivery=on_delivery)
            produced += 1
            producer.poll(0)
        except BufferError:  # the queue is full: what the client waits on is the quota
            producer.poll(0.005)
    flush_started = time.monotonic()
    remaining = producer.flush(60)
    flush_seconds = time.monotonic() - flush_started
    window = seconds - warmup
    out = {"user": user, "produced": produced, "delivered": tally["delivered"], "failed": tally["failed"],
           "unflushed": remaining, "flush_s": round(flush_seconds, 2), "window_s": window,
           "window_records": tally["in_window"], "window_bytes": tally["in_window"] * value_bytes,
           "mib_per_s": tally["in_window"] * value_bytes / window / 1048576,
           "mib_per_s_from_start": tally["before_end"] * value_bytes / seconds / 1048576,
           "mib_per_second": [round(tally["per_second"].get(str(s), 0) * value_bytes / 1048576, 2)
                              for s in range(int(seconds) + 1)],
           "errors": errors}
    out.update(stats.summary())
    print(json.dumps(out), flush=True)

def prefill(bootstrap, ca, user, password, topic, partitions, per_partition, value_bytes, extra):
    partitions, value_bytes = int(partitions), int(value_bytes)
    count = int(per_partition) // value_bytes
    tally = {"delivered": 0, "failed": 0}
    errors = []
    def on_delivery(error, message):
        if error is None:
            tally["delivered"] += 1
        else:
            tally["failed"] += 1
            if len(errors) < 5:
                errors.append(str(error))
    producer = confluent_kafka.Producer(base(bootstrap, ca, user, password, extra))
    started = time.monotonic()
    value = b"h" * value_bytes
    for index in range(count * partitions):
        while True:
            try:
                producer.produce(topic, value, partition=index % partitions, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    remaining = producer.flush(60)
    print(json.dumps({"records": count * partitions, "bytes": count * partitions * value_bytes,
                      "delivered": tally["delivered"], "failed": tally["failed"], "unflushed": remaining,
                      "seconds": round(time.monotonic() - started, 2), "errors": errors}), flush=True)

def consume(bootstrap, ca, user, password, topic, group, seconds, warmup, extra):
    seconds, warmup = float(seconds), float(warmup)
    stats = Stats()
    errors = []
    config = base(bootstrap, ca, user, password, extra)
    config.update({"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False,
                   "statistics.interval.ms": 1000, "stats_cb": stats,
                   "error_cb": lambda error: errors.append("error_cb: " + str(error))})
    consumer = confluent_kafka.Consumer(config)
    consumer.subscribe([topic])
    started = time.monotonic()
    window_start, end = started + warmup, started + seconds
    tally = {"records": 0, "bytes": 0, "window_bytes": 0, "per_second": {}, "first_s": None}
    while True:
        now = time.monotonic()
        if now >= end:
            break
        message = consumer.poll(min(0.2, end - now))
        if message is None:
            continue
        if message.error() is not None:
            if message.error().code() != confluent_kafka.KafkaError._PARTITION_EOF and len(errors) < 5:
                errors.append("consume error: " + str(message.error()))
            continue
        now = time.monotonic()
        size = len(message.value() or b"")
        tally["records"] += 1
        tally["bytes"] += size
        if tally["first_s"] is None:
            tally["first_s"] = round(now - started, 2)
        if window_start <= now < end:
            tally["window_bytes"] += size
        second = str(int(now - started))
        tally["per_second"][second] = tally["per_second"].get(second, 0) + size
    consumer.close()
    window = seconds - warmup
    out = {"user": user, "records": tally["records"], "bytes": tally["bytes"], "first_s": tally["first_s"],
           "window_s": window, "window_bytes": tally["window_bytes"],
           "mib_per_s": tally["window_bytes"] / window / 1048576,
           "mib_per_second": [round(tally["per_second"].get(str(s), 0) / 1048576, 2) for s in range(int(seconds) + 1)],
           "errors": errors}
    out.update(stats.summary())
    print(json.dumps(out), flush=True)

{"produce": produce, "prefill": prefill, "consume": consume}[sys.argv[1]](*sys.argv[2:])
"""


def bootstrap(cluster=CLUSTER):
    return f"bootstrap-{cluster}.{DOMAIN}:{PORT}"


def script_argv(*args):
    return ["/usr/bin/python3", "-c", CLIENT_SCRIPT, *[str(arg) for arg in args]]


def parsed(result, name):
    """(the client's JSON summary or None, what to quote when it is missing)."""
    code, out, err = result
    for line in reversed(out.splitlines()):
        try:
            return json.loads(line), ""
        except ValueError:
            continue
    return None, f"{name}: exit {code}; {err.strip()[-400:]}"


def make_users_file(kedge_binary, path):
    for user, password in USERS.items():
        result = subprocess.run([kedge_binary, "users", "add", user, "--file", path, "--mechanisms", "SCRAM-SHA-256"],
                                input=password, text=True, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"kedge users add {user}: {result.stderr}")








def mib(value):
    return f"{value:.3f} MiB/s"


def throttle_text(summary):
    seen = summary.get("throttle_seen")
    where = f" (report {seen['report']}, {seen['broker']}: {json.dumps(seen['throttle'])})" if seen else ""
    return f"throttle max {summary.get('throttle_max_ms')} ms, avg {summary.get('throttle_avg_ms')} ms{where}"


def main():
    kedge_binary = os.path.abspath(sys.argv[1])
    checks = Checks()
    started = time.monotonic()
    topics = {"metered-alice": 3, "metered-bob": 3, HISTORY: HISTORY_PARTITIONS}
    with scenario_topology() as topo:
        mock = topo.start_mock_cluster("rdk212", brokers=3, topics=topics)
        users_file = os.path.join(topo.log_dir, "users.json")
        make_users_file(kedge_binary, users_file)
        authentication = {"mode": "terminate", "sasl": {"mechanisms": [MECHANISM], "users_file": users_file}}
        kedge, certs, _ = start_kedge_in_topology(
            topo, kedge_binary, [(CLUSTER, "shared_suffix", mock.bootstrap)], DOMAIN, PORT,
            cluster_options={CLUSTER: {"authentication": authentication, "principals": sorted(USERS),
                                       "quotas": QUOTAS}})
        ca = certs["ca"]
        admin = admin_address(kedge.log_text())
        print(f"topology {topo.prefix} (logs {topo.log_dir}); mock rdk212 {mock.bootstrap}; "
              f"quotas {json.dumps(QUOTAS)}", flush=True)

        def client(network, user, *args, config=None):
            properties = json.dumps(dict(config or {}, **{"sasl.mechanisms": MECHANISM}))
            return popen_in(topo, network,
                            script_argv(args[0], bootstrap(), ca, user, USERS[user], *args[1:], properties))

        # ---- prefill "history" through bob (unlimited), in small batches -----------------------------------------
        result = finish(topo, client("b", "bob", "prefill", HISTORY, HISTORY_PARTITIONS, HISTORY_PER_PARTITION,
                                     VALUE_BYTES, config={"batch.size": HISTORY_BATCH, "linger.ms": 5}),
                        "prefill-bob", timeout=90)
        fill, missing = parsed(result, "prefill")
        checks.record(f"bob (unlimited) wrote {HISTORY} through kedge: every delivery report succeeded",
                      fill is not None and fill["delivered"] == fill["records"] and fill["failed"] == 0
                      and not fill["unflushed"],
                      json.dumps(fill) if fill else missing)

        # ---- 1./2. alice (1 MiB/s) and bob (unlimited) produce at the same time ----------------------------------
        # Queues of 4 MiB: alice's flush then takes ~4 s at her quota; librdkafka's default batch.size (1 MB).
        producer_config = {"linger.ms": 5, "queue.buffering.max.kbytes": 4096}
        alice = client("a", "alice", "produce", "metered-alice", PRODUCE_SECONDS, PRODUCE_WARMUP, VALUE_BYTES,
                       config=producer_config)
        bob = client("b", "bob", "produce", "metered-bob", PRODUCE_SECONDS, PRODUCE_WARMUP, VALUE_BYTES,
                     config=producer_config)
        alice_summary, alice_missing = parsed(finish(topo, alice, "produce-alice", timeout=PRODUCE_SECONDS + 75),
                                              "alice")
        bob_summary, bob_missing = parsed(finish(topo, bob, "produce-bob", timeout=PRODUCE_SECONDS + 75), "bob")
        alice_rate = alice_summary["mib_per_s"] if alice_summary else 0.0
        bob_rate = bob_summary["mib_per_s"] if bob_summary else 0.0
        print(f"    alice {mib(alice_rate)}, bob {mib(bob_rate)} (value bytes delivered in the "
              f"{PRODUCE_SECONDS - PRODUCE_WARMUP} s window); over all {PRODUCE_SECONDS} s, warm-up included: alice "
              f"{mib(alice_summary['mib_per_s_from_start'] if alice_summary else 0)}", flush=True)
        if alice_summary:
            print(f"    alice per second (MiB): {alice_summary['mib_per_second']}", flush=True)
        if bob_summary:
            print(f"    bob per second (MiB): {bob_summary['mib_per_second']}", flush=True)
        target = RATE / MIB
        checks.record(f"alice (1 MiB/s) delivered {mib(target)} +-{PRODUCE_TOLERANCE:.0%} in the window",
                      alice_summary is not None
                      and abs(alice_rate - target) <= PRODUCE_TOLERANCE * target,
                      f"{mib(alice_rate)}: {alice_summary['window_records']} records of {VALUE_BYTES} bytes in "
                      f"{alice_summary['window_s']} s" if alice_summary else alice_missing)
        checks.record("alice: every delivery report succeeded (queue flushed at the end, nothing dropped)",
                      alice_summary is not None and alice_summary["failed"] == 0 and alice_summary["unflushed"] == 0
                      and alice_summary["delivered"] == alice_summary["produced"] and not alice_summary["errors"],
                      (f"produced {alice_summary['produced']}, delivered {alice_summary['delivered']}, failed "
                       f"{alice_summary['failed']}, flush {alice_summary['flush_s']} s; {alice_summary['errors']}")
                      if alice_summary else alice_missing)
        checks.record("alice: librdkafka's statistics show the throttle (brokers.*.throttle max > 0)",
                      alice_summary is not None and alice_summary["throttle_max_ms"] > 0,
                      throttle_text(alice_summary) if alice_summary else alice_missing)
        checks.record(f"bob (unlimited) at the same time: at least {BOB_FACTOR}x alice's rate",
                      bob_summary is not None and alice_rate > 0 and bob_rate >= BOB_FACTOR * alice_rate,
                      f"bob {mib(bob_rate)} vs alice {mib(alice_rate)}" if bob_summary else bob_missing)
        checks.record("bob: every delivery report succeeded and his statistics never show a throttle",
                      bob_summary is not None and bob_summary["failed"] == 0 and bob_summary["unflushed"] == 0
                      and bob_summary["delivered"] == bob_summary["produced"] and not bob_summary["errors"]
                      and bob_summary["stats_reports"] > 0 and bob_summary["throttle_max_ms"] == 0
                      and bob_summary["throttle_avg_ms"] == 0,
                      (f"delivered {bob_summary['delivered']}/{bob_summary['produced']}, "
                       f"failed {bob_summary['failed']}; "
                       f"{bob_summary['stats_reports']} statistics reports, {throttle_text(bob_summary)}; "
                       f"{bob_summary['errors']}") if bob_summary else bob_missing)

        # ---- 3. metrics ---------------------------------------------------------------------------------------------
        text = metrics_text(topo, admin)
        throttled = metric(text, "kedge_quota_throttled_requests_total", virtual_cluster=CLUSTER,
                           quota="produce_bytes")
        seconds = metric(text, "kedge_quota_throttle_seconds_total", virtual_cluster=CLUSTER, quota="produce_bytes")
        checks.record("/metrics: kedge_quota_throttled_requests_total{alpha,produce_bytes} > 0",
                      throttled > 0 and seconds > 0,
                      "; ".join(metric_lines(text, "kedge_quota_throttled_requests_total",
                                             "kedge_quota_throttle_seconds_total")) or "no sample")

        # ---- 4. carol reads history at 1 MiB/s -------------------------------------------------------------------
        carol = client("a", "carol", "consume", HISTORY, "g-quota-carol", FETCH_SECONDS, FETCH_WARMUP)
        carol_summary, carol_missing = parsed(finish(topo, carol, "consume-carol", timeout=FETCH_SECONDS + 45),
                                              "carol")
        carol_rate = carol_summary["mib_per_s"] if carol_summary else 0.0
        print(f"    carol {mib(carol_rate)} (value bytes received in the {FETCH_SECONDS - FETCH_WARMUP} s window)",
              flush=True)
        if carol_summary:
            print(f"    carol per second (MiB): {carol_summary['mib_per_second']}", flush=True)
        checks.record(f"carol (fetch 1 MiB/s) received {mib(target)} +-{FETCH_TOLERANCE:.0%} in the window, "
                      f"no consumer error",
                      carol_summary is not None and abs(carol_rate - target) <= FETCH_TOLERANCE * target
                      and not carol_summary["errors"],
                      (f"{mib(carol_rate)}: {carol_summary['window_bytes']} bytes in {carol_summary['window_s']} s; "
                       f"{carol_summary['records']} records in all, first after {carol_summary['first_s']} s; "
                       f"{carol_summary['errors']}") if carol_summary else carol_missing)
        checks.record("carol: librdkafka's statistics show the throttle (brokers.*.throttle max > 0)",
                      carol_summary is not None and carol_summary["throttle_max_ms"] > 0,
                      throttle_text(carol_summary) if carol_summary else carol_missing)
        text = metrics_text(topo, admin)
        checks.record("/metrics: kedge_quota_throttled_requests_total{alpha,fetch_bytes} > 0",
                      metric(text, "kedge_quota_throttled_requests_total", virtual_cluster=CLUSTER,
                             quota="fetch_bytes") > 0,
                      "; ".join(metric_lines(text, "kedge_quota_throttled_requests_total",
                                             "kedge_quota_throttle_seconds_total")) or "no sample")

        # ---- 5. kedge ---------------------------------------------------------------------------------------------
        checks.record("kedge still running", kedge.alive())
        errors = kedge_errors(kedge.log_text())
        checks.record("kedge logged no errors", not errors, "; ".join(errors[:3]))
        print(f"    {time.monotonic() - started:.1f}s", flush=True)
    return summary_exit_code(checks)


if __name__ == "__main__":
    run_scenario(main, __doc__)
