#!/usr/bin/python3
"""kafkapy_client: kclient.cpp's subcommands on kafka-python (Debian's python3-kafka 2.0.2), a client written
independently of librdkafka. It authenticates the KIP-43 way: SaslHandshake v0, then the SASL tokens unframed
(int32 size + bytes, no Kafka header) for PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER.

  produce  --bootstrap B --topic T --count N --prefix P [options]
  consume  --bootstrap B --topic T --group G --expect N --prefix P [options]
  metadata --bootstrap B [options]
  produce-mixed --bootstrap B --topic T1,T2[,...] --count N --prefix P [--waves W] [--linger-ms MS] [options]
  consume-mixed --bootstrap B --topic T1,T2[,...] --expect T1:N[,T2:M...] --prefix P [options]
  fetcher-check MAX_POLL_RECORDS   (no network)
options: --timeout-ms MS, --ca FILE (SSL with hostname verification), --mechanism M --username U --password P
(SASL_SSL), --oauthbearer-token-file F (SASL_SSL OAUTHBEARER).

Message i has key and value "P-<i>" and goes to partition i % partitions. Summary lines on stdout are kclient's
(`produce ok=1 delivered=N ...`); exit status 0 only when ok=1. Run with /usr/bin/python3.

produce-mixed: ONE KafkaProducer (acks=all, retries=0, linger --linger-ms, default 100) sends N records, record i
to topic i % topics (in --topic order) with key and value "P-<j>", j = i // topics (its index in its topic), and
partition j % partitions, in W waves with a flush after each (kafka-python drains every ready partition of a broker
into one ProduceRequest, so a request mixes the topics). Prints per topic
`produce-topic topic=T delivered=d failed=f offsets=<distinct (partition, offset) acked> errors=<Name:n,..|none>`,
the first failure text per topic on stderr (`kafkapy: delivery failed topic=T: <str(error)> (<repr>)`),
`produce-requests total=K mixed=M answered_mixed=A` (ProduceRequests handed to a broker connection, those naming
more than one topic, and those of them answered; read by wrapping KafkaClient.send) and
`produce ok=<1 when every record got a report> delivered= failed=`; exit 0.

consume-mixed: a KafkaConsumer without a group (enable_auto_commit off, auto_offset_reset earliest) assigned every
partition of every --topic; polls until each topic in --expect has its count of records `P-<i>` (i < count) and
poll() raised at least once, or --timeout-ms. An exception from poll() is counted per class, its first text printed on stderr
(`kafkapy: poll raised <Class>: <str> (<repr>)`), and polling goes on. --max-poll-records (default 500) is handed to
the consumer. Prints one `consume-topic topic=T records=n unique=u duplicates=d bad=b foreign=f expected=N` line
per topic, `poll-errors <Class>=n,...|none`, `fetch-requests total=K mixed=M answered_mixed=A` and `consume ok=<1
when every expected topic is complete and clean>`; exit 0 only when ok=1.

fetcher-check: kafka-python's own Fetcher, in process, handed the two completed partition fetches of one Fetch
response: orders-0 with 3 records, then ledger-0 with TOPIC_AUTHORIZATION_FAILED; polls it 4 times with
max_poll_records MAX_POLL_RECORDS and prints `fetcher-check max_poll_records=M returned=<records returned>
raised=<polls that raised> position=<orders-0 position after>`: whether a poll that raises drops records it drained.
"""
import argparse
import collections
import logging
import sys
import time

import kafka
import kafka.client_async
import kafka.errors
from kafka.oauth.abstract import AbstractTokenProvider


def log(text):
    print(f"kafkapy: {text}", file=sys.stderr, flush=True)


class FileTokenProvider(AbstractTokenProvider):
    """The token from a file, read at each authentication (the test writes it before starting the client)."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def token(self):
        with open(self.path) as token_file:
            return token_file.read().strip()


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="kafkapy_client")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("produce", "consume", "metadata"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--bootstrap", required=True)
        cmd.add_argument("--topic", required=name != "metadata")
        cmd.add_argument("--timeout-ms", type=int, default=30000)
        cmd.add_argument("--ca")
        cmd.add_argument("--mechanism")
        cmd.add_argument("--username")
        cmd.add_argument("--password")
        cmd.add_argument("--oauthbearer-token-file")
        if name != "metadata":
            cmd.add_argument("--prefix", required=True)
        if name == "produce":
            cmd.add_argument("--count", type=int, required=True)
        if name == "consume":
            cmd.add_argument("--group", required=True)
            cmd.add_argument("--expect", dest="count", type=int, required=True)
    sub.add_parser("fetcher-check").add_argument("max_poll_records", type=int)
    for name in ("produce-mixed", "consume-mixed"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--bootstrap", required=True)
        cmd.add_argument("--topic", required=True, help="comma-separated topics")
        cmd.add_argument("--prefix", required=True)
        cmd.add_argument("--timeout-ms", type=int, default=30000)
        cmd.add_argument("--ca")
        cmd.add_argument("--mechanism")
        cmd.add_argument("--username")
        cmd.add_argument("--password")
        cmd.add_argument("--oauthbearer-token-file")
        if name == "produce-mixed":
            cmd.add_argument("--count", type=int, required=True)
            cmd.add_argument("--waves", type=int, default=1)
            cmd.add_argument("--linger-ms", type=int, default=100)
        else:
            cmd.add_argument("--expect", required=True, help="TOPIC:N[,TOPIC:N...]")
            cmd.add_argument("--max-poll-records", type=int, default=500)
    return parser.parse_args(argv)


def connection_config(args):
    config = {"bootstrap_servers": args.bootstrap, "client_id": "kedge-kafkapy",
              "request_timeout_ms": min(args.timeout_ms, 30000) + 1000, "api_version_auto_timeout_ms": 10000}
    if args.ca:
        config.update({"security_protocol": "SSL", "ssl_cafile": args.ca, "ssl_check_hostname": True})
    if args.oauthbearer_token_file:
        config.update({"security_protocol": "SASL_SSL", "sasl_mechanism": "OAUTHBEARER",
                       "sasl_oauth_token_provider": FileTokenProvider(args.oauthbearer_token_file)})
    elif args.mechanism:
        config.update({"security_protocol": "SASL_SSL", "sasl_mechanism": args.mechanism,
                       "sasl_plain_username": args.username, "sasl_plain_password": args.password})
    return config


def produce(args):
    producer = kafka.KafkaProducer(acks="all", retries=5, **connection_config(args))
    partitions = sorted(producer.partitions_for(args.topic) or [])
    if not partitions:
        print("produce ok=0 delivered=0 failed=0 error=no_partitions", flush=True)
        return 1
    futures = []
    for i in range(args.count):
        text = f"{args.prefix}-{i}".encode()
        futures.append(producer.send(args.topic, key=text, value=text, partition=partitions[i % len(partitions)]))
    producer.flush(timeout=args.timeout_ms / 1000)
    delivered = failed = 0
    for future in futures:
        try:
            future.get(timeout=0)
            delivered += 1
        except Exception as error:  # one line per kind is enough for a test log
            failed += 1
            if failed <= 3:
                log(f"delivery failed: {error!r}")
    producer.close(timeout=5)
    ok = delivered == args.count
    print(f"produce ok={int(ok)} delivered={delivered} failed={failed} partitions={len(partitions)}", flush=True)
    return 0 if ok else 1


def consume(args):
    consumer = kafka.KafkaConsumer(args.topic, group_id=args.group, auto_offset_reset="earliest",
                                   enable_auto_commit=False, **connection_config(args))
    seen, duplicates, bad, foreign = set(), 0, 0, 0
    deadline = time.monotonic() + args.timeout_ms / 1000
    while len(seen) < args.count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                key = (record.key or b"").decode(errors="replace")
                head, _, digits = key.rpartition("-")
                if head != args.prefix:
                    foreign += 1
                elif not digits.isdigit() or int(digits) >= args.count or record.value != record.key:
                    bad += 1
                elif int(digits) in seen:
                    duplicates += 1
                else:
                    seen.add(int(digits))
    committed = 0
    try:
        consumer.commit()
        committed = 1
    except Exception as error:
        log(f"commit failed: {error!r}")
    consumer.close()
    ok = len(seen) == args.count and duplicates == 0 and bad == 0 and committed == 1
    print(f"consume ok={int(ok)} unique={len(seen)} duplicates={duplicates} bad={bad} foreign={foreign} "
          f"committed={committed}", flush=True)
    return 0 if ok else 1


def metadata(args):
    try:
        client = kafka.KafkaAdminClient(**connection_config(args))
        cluster = client.describe_cluster()
        topics = client.list_topics()
        client.close()
    except Exception as error:
        log(f"metadata failed: {error!r}")
        print(f"metadata ok=0 error={type(error).__name__}", flush=True)
        return 1
    print(f"metadata ok=1 brokers={len(cluster['brokers'])} topics={len(topics)}", flush=True)
    return 0


class RequestLog:
    """Which topics each ProduceRequest / FetchRequest names, as kafka-python hands it to a broker connection
    (KafkaClient.send wrapped), and which of the multi-topic ones got a response."""

    def __init__(self, kind):
        self.kind, self.total, self.mixed, self.answered_mixed = kind, 0, 0, 0
        original = kafka.client_async.KafkaClient.send
        log_ = self

        def send(client, node_id, request, wakeup=True):
            future = original(client, node_id, request, wakeup=wakeup)
            if type(request).__name__.startswith(log_.kind + "Request") and not future.failed():
                topics = {entry[0] for entry in request.topics}
                log_.total += 1
                if len(topics) > 1:
                    log_.mixed += 1
                    future.add_callback(log_._answered)
            return future
        kafka.client_async.KafkaClient.send = send

    def _answered(self, _response):
        self.answered_mixed += 1


def produce_mixed(args):
    topics = args.topic.split(",")
    requests = RequestLog("Produce")
    producer = kafka.KafkaProducer(acks="all", retries=0, linger_ms=args.linger_ms, **connection_config(args))
    partitions = {topic: sorted(producer.partitions_for(topic) or []) for topic in topics}
    missing = [topic for topic, found in partitions.items() if not found]
    if missing:
        print(f"produce ok=0 delivered=0 failed=0 error=no_partitions:{','.join(missing)}", flush=True)
        return 1
    futures = []
    per_wave = -(-args.count // max(args.waves, 1))
    for i in range(args.count):
        topic, j = topics[i % len(topics)], i // len(topics)
        partition = partitions[topic][j % len(partitions[topic])]
        text = f"{args.prefix}-{j}".encode()
        futures.append((topic, producer.send(topic, key=text, value=text, partition=partition)))
        if (i + 1) % per_wave == 0 or i + 1 == args.count:
            producer.flush(timeout=args.timeout_ms / 1000)
    stats = {topic: {"delivered": 0, "failed": 0, "offsets": set(), "errors": collections.Counter()}
             for topic in topics}
    for topic, future in futures:
        entry = stats[topic]
        try:
            metadata = future.get(timeout=0)
            entry["delivered"] += 1
            entry["offsets"].add((metadata.partition, metadata.offset))
        except Exception as error:
            entry["failed"] += 1
            entry["errors"][type(error).__name__] += 1
            if entry["failed"] == 1:
                log(f"delivery failed topic={topic}: {error} ({error!r})")
    producer.close(timeout=5)
    for topic in topics:
        entry = stats[topic]
        errors = ",".join(f"{name}:{n}" for name, n in sorted(entry["errors"].items())) or "none"
        print(f"produce-topic topic={topic} delivered={entry['delivered']} failed={entry['failed']} "
              f"offsets={len(entry['offsets'])} partitions={len(partitions[topic])} errors={errors}", flush=True)
    print(f"produce-requests total={requests.total} mixed={requests.mixed} answered_mixed={requests.answered_mixed}",
          flush=True)
    delivered = sum(entry["delivered"] for entry in stats.values())
    failed = sum(entry["failed"] for entry in stats.values())
    print(f"produce ok={int(delivered + failed == args.count)} delivered={delivered} failed={failed}", flush=True)
    return 0


def consume_mixed(args):
    topics = args.topic.split(",")
    expect = {item.split(":")[0]: int(item.split(":")[1]) for item in args.expect.split(",")}
    requests = RequestLog("Fetch")
    consumer = kafka.KafkaConsumer(group_id=None, auto_offset_reset="earliest", enable_auto_commit=False,
                                   max_poll_records=args.max_poll_records, **connection_config(args))
    assigned = [kafka.TopicPartition(topic, p) for topic in topics
                for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(assigned)
    stats = {topic: {"records": 0, "seen": set(), "duplicates": 0, "bad": 0, "foreign": 0} for topic in topics}
    raised = collections.Counter()

    def complete():
        return all(len(stats[topic]["seen"]) >= count for topic, count in expect.items())
    deadline = time.monotonic() + args.timeout_ms / 1000
    while time.monotonic() < deadline and not (complete() and raised):
        try:
            polled = consumer.poll(timeout_ms=300)
        except Exception as error:  # kafka-python raises a partition's fetch error from poll()
            name = type(error).__name__
            if raised[name] == 0:
                log(f"poll raised {name}: {error} ({error!r})")
            raised[name] += 1
            continue
        for tp, records in polled.items():
            entry = stats[tp.topic]
            count = expect.get(tp.topic, 0)
            for record in records:
                entry["records"] += 1
                key = (record.key or b"").decode(errors="replace")
                head, _, digits = key.rpartition("-")
                if head != args.prefix:
                    entry["foreign"] += 1
                elif not digits.isdigit() or int(digits) >= count or record.value != record.key:
                    entry["bad"] += 1
                elif int(digits) in entry["seen"]:
                    entry["duplicates"] += 1
                else:
                    entry["seen"].add(int(digits))
    consumer.close()
    for topic in topics:
        entry = stats[topic]
        print(f"consume-topic topic={topic} records={entry['records']} unique={len(entry['seen'])} "
              f"duplicates={entry['duplicates']} bad={entry['bad']} foreign={entry['foreign']} "
              f"expected={expect.get(topic, 0)}", flush=True)
    print("poll-errors " + (",".join(f"{name}={n}" for name, n in sorted(raised.items())) or "none"), flush=True)
    print(f"fetch-requests total={requests.total} mixed={requests.mixed} answered_mixed={requests.answered_mixed}",
          flush=True)
    ok = complete() and all(stats[t]["duplicates"] == 0 and stats[t]["bad"] == 0 for t in topics)
    print(f"consume ok={int(ok)}", flush=True)
    return 0 if ok else 1


def fetcher_check(args):
    from unittest import mock
    from kafka.consumer.fetcher import CompletedFetch, Fetcher, FetchResponseMetricAggregator
    from kafka.consumer.subscription_state import SubscriptionState
    from kafka.metrics import Metrics
    from kafka.record.memory_records import MemoryRecordsBuilder
    orders, ledger = kafka.TopicPartition("orders", 0), kafka.TopicPartition("ledger", 0)
    subscriptions = SubscriptionState("earliest")
    subscriptions.assign_from_user([orders, ledger])
    for tp in (orders, ledger):
        subscriptions.seek(tp, 0)
    fetcher = Fetcher(mock.MagicMock(), subscriptions, Metrics(), max_poll_records=args.max_poll_records)
    builder = MemoryRecordsBuilder(magic=2, compression_type=0, batch_size=1 << 20)
    for i in range(3):
        builder.append(timestamp=None, key=b"k%d" % i, value=b"v%d" % i)
    builder.close()
    aggregator = FetchResponseMetricAggregator(fetcher._sensors, {orders, ledger})
    # partition_data as a v4 FetchResponse partition after its index: error, high watermark, LSO, aborted, records
    fetcher._completed_fetches.append(CompletedFetch(orders, 0, 4, [0, 3, 3, [], builder.buffer()], aggregator))
    fetcher._completed_fetches.append(CompletedFetch(ledger, 0, 4, [29, -1, -1, [], b""], aggregator))
    returned = raised = 0
    for _ in range(4):
        try:
            records, _ = fetcher.fetched_records(args.max_poll_records)
            returned += sum(len(batch) for batch in records.values())
        except kafka.errors.TopicAuthorizationFailedError:
            raised += 1
    print(f"fetcher-check max_poll_records={args.max_poll_records} returned={returned} raised={raised} "
          f"position={subscriptions.assignment[orders].position}", flush=True)
    return 0


def main(argv):
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="kafkapy: %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    return {"produce": produce, "consume": consume, "metadata": metadata, "produce-mixed": produce_mixed,
            "consume-mixed": consume_mixed, "fetcher-check": fetcher_check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
