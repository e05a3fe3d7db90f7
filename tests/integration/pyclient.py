#!/usr/bin/python3
"""pyclient — the confluent_kafka (Python) twin of kclient.cpp for kedge's integration tests.

Run with /usr/bin/python3 (Debian's python3-confluent-kafka). Same subcommands, options and
stdout summary lines as kclient, so a test can swap clients without changing its assertions:

  produce  --bootstrap B --topic T --count N --prefix P [--timeout-ms MS] [-X k=v ...]
  consume  --bootstrap B --topic T --group G --expect N --prefix P [--timeout-ms MS] [--linger-ms MS] [-X k=v ...]
  metadata --bootstrap B [--topic T] [--timeout-ms MS] [-X k=v ...]

Message i has key and value "P-<i>"; produce pins it to partition i % partitions. Exit status 0 only when ok=1.
"""
import argparse
import sys
import time

import confluent_kafka


def log(text):
    print(f"pyclient: {text}", file=sys.stderr, flush=True)


def parse_property(text):
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError("-X expects key=value")
    return key, value


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="pyclient")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("produce", "consume", "metadata"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--bootstrap", required=True)
        cmd.add_argument("--topic", required=name != "metadata")
        cmd.add_argument("--timeout-ms", type=int, default=30000)
        cmd.add_argument("-X", dest="properties", action="append", type=parse_property, default=[])
        cmd.add_argument("--oauthbearer-token-file", default=None)
        if name != "metadata":
            cmd.add_argument("--prefix", required=True)
        if name == "produce":
            cmd.add_argument("--count", type=int, required=True)
        if name == "consume":
            cmd.add_argument("--group", required=True)
            cmd.add_argument("--expect", dest="count", type=int, required=True)
            cmd.add_argument("--linger-ms", type=int, default=1000)
    args = parser.parse_args(argv)
    if getattr(args, "count", 0) < 0:
        parser.error("--count/--expect must be >= 0")
    return args


def make_config(args, defaults=None):
    """bootstrap, then defaults, then every -X (so -X wins)."""
    config = {"bootstrap.servers": args.bootstrap, "client.id": "kedge-pyclient",
              "error_cb": lambda err: log(f"client error {err.name()}: {err.str()}")}
    config.update(defaults or {})
    config.update(dict(args.properties))
    if args.oauthbearer_token_file:
        # OAUTHBEARER: the token is the file's content; the hour only schedules librdkafka's next refresh.
        def oauth_cb(_config):
            with open(args.oauthbearer_token_file) as token_file:
                return token_file.read().strip(), time.time() + 3600
        config["oauth_cb"] = oauth_cb
    return config


def serve_oauth(client, args):
    """OAUTHBEARER: confluent-kafka calls oauth_cb from poll(); poll once so the token is set before the first
    request (list_topics would otherwise wait for one)."""
    if args.oauthbearer_token_file:
        client.poll(0)


def message_text(prefix, index):
    return f"{prefix}-{index}"


def partition_count(client, topic, timeout_ms):
    try:
        metadata = client.list_topics(topic=topic, timeout=timeout_ms / 1000.0)
    except confluent_kafka.KafkaException as error:
        log(f"metadata for {topic}: {error}")
        return None
    entry = metadata.topics.get(topic)
    if entry is None or entry.error is not None or not entry.partitions:
        log(f"topic {topic}: {entry.error if entry is not None else 'absent'}")
        return None
    return len(entry.partitions)


def run_produce(args):
    producer = confluent_kafka.Producer(make_config(args))
    serve_oauth(producer, args)
    tally = {"delivered": 0, "failed": 0}

    def on_delivery(error, _message):
        if error is None:
            tally["delivered"] += 1
        else:
            tally["failed"] += 1
            if tally["failed"] <= 5:
                log(f"delivery failed: {error}")

    partitions = partition_count(producer, args.topic, args.timeout_ms)
    enqueue_failures = 0
    if partitions:
        for index in range(args.count):
            text = message_text(args.prefix, index).encode()
            while True:
                try:
                    producer.produce(args.topic, key=text, value=text, partition=index % partitions,
                                     on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.1)
                except confluent_kafka.KafkaException as error:
                    log(f"produce: {error}")
                    enqueue_failures += 1
                    break
            producer.poll(0)
        remaining = producer.flush(args.timeout_ms / 1000.0)
        if remaining:
            log(f"flush: {remaining} still queued")
    ok = bool(partitions) and enqueue_failures == 0 and tally["failed"] == 0 and tally["delivered"] == args.count
    print(f"produce ok={int(ok)} delivered={tally['delivered']} failed={tally['failed'] + enqueue_failures} "
          f"expected={args.count} partitions={partitions or 0}", flush=True)
    return 0 if ok else 1


def run_consume(args):
    consumer = confluent_kafka.Consumer(make_config(args, {
        "group.id": args.group, "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    serve_oauth(consumer, args)
    consumer.subscribe([args.topic])
    seen = {}
    partitions_seen = set()
    bad = foreign = 0
    head = f"{args.prefix}-"
    deadline = time.monotonic() + args.timeout_ms / 1000.0
    linger_until = None
    while time.monotonic() < (linger_until if linger_until is not None else deadline):
        message = consumer.poll(0.1)
        if message is None:
            continue
        if message.error() is not None:
            if message.error().code() != confluent_kafka.KafkaError._PARTITION_EOF:
                log(f"consume error: {message.error()}")
            continue
        key = message.key().decode(errors="replace") if message.key() is not None else None
        value = message.value().decode(errors="replace") if message.value() is not None else None
        if key is None or not key.startswith(head):
            foreign += 1
        else:
            digits = key[len(head):]
            index = int(digits) if digits.isdigit() else -1
            if not 0 <= index < args.count or value != key:
                bad += 1
                if bad <= 5:
                    log(f"unexpected message key={key} value={value}")
            else:
                seen[index] = seen.get(index, 0) + 1
                if seen[index] == 2:
                    log(f"duplicate {key}")
                partitions_seen.add(message.partition())
        if linger_until is None and len(seen) == args.count:
            linger_until = time.monotonic() + args.linger_ms / 1000.0

    duplicates = sum(times - 1 for times in seen.values())
    commit = "ok"
    if seen:
        try:
            consumer.commit(asynchronous=False)
        except confluent_kafka.KafkaException as error:
            commit = error.args[0].name()
    consumer.close()
    ok = len(seen) == args.count and duplicates == 0 and bad == 0 and commit == "ok"
    print(f"consume ok={int(ok)} unique={len(seen)} duplicates={duplicates} bad={bad} foreign={foreign} "
          f"expected={args.count} partitions={len(partitions_seen)} commit={commit}", flush=True)
    return 0 if ok else 1


def run_metadata(args):
    producer = confluent_kafka.Producer(make_config(args))
    serve_oauth(producer, args)
    try:
        metadata = producer.list_topics(topic=args.topic, timeout=args.timeout_ms / 1000.0)
    except confluent_kafka.KafkaException as error:
        log(f"metadata: {error}")
        print(f"metadata ok=0 error={error.args[0].name()}", flush=True)
        return 1
    for broker in sorted(metadata.brokers.values(), key=lambda b: b.id):
        print(f"broker {broker.id} {broker.host}:{broker.port}")
    for topic in metadata.topics.values():
        print(f"topic {topic.topic} {len(topic.partitions)}")
        for partition in sorted(topic.partitions.values(), key=lambda p: p.id):
            print(f"partition {topic.topic} {partition.id} {partition.leader}")
    print(f"metadata ok=1 brokers={len(metadata.brokers)} topics={len(metadata.topics)}", flush=True)
    return 0


def main(argv):
    args = parse_args(argv)
    log(f"confluent_kafka {confluent_kafka.version()[0]} librdkafka {confluent_kafka.libversion()[0]} {args.command}")
    return {"produce": run_produce, "consume": run_consume, "metadata": run_metadata}[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
