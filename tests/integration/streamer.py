#!/usr/bin/python3
"""streamer — a paced, continuous producer and a concurrent consumer (confluent_kafka) for kedge's
lifecycle tests (reloads, certificate rotation, drain under load).

  streamer.py --bootstrap B --topic T --group G --prefix P --rate R --duration S
              [--settle S] [--stop-file F] [-X k=v ...]

Produces "P-<i>" (key and value) at R messages/s for S seconds (or until --stop-file exists) with an
idempotent producer (acks=all, so retries after a disconnect cannot duplicate), while a consumer in group G
reads the topic from the beginning. After producing stops, the producer is flushed and the consumer keeps
reading until it has seen every delivered id or --settle seconds pass. Prints one JSON object on stdout:

  {"delivered": n, "failed": n, "consumed_unique": n, "duplicates": n, "missing": n,
   "foreign": n, "errors": {"_TRANSPORT": n, ...}, "error_samples": [...]}

"errors" counts the error callbacks librdkafka raised (a disconnect shows up as _TRANSPORT, a total loss of
brokers as _ALL_BROKERS_DOWN), so a caller can assert that a client saw no reconnect at all. Exit status 0
when every delivered message was consumed and nothing failed.
"""
import argparse
import json
import os
import sys
import threading
import time

import confluent_kafka


def parse_property(text):
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError("-X expects key=value")
    return key, value


def main():
    parser = argparse.ArgumentParser(prog="streamer")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--settle", type=float, default=30.0)
    parser.add_argument("--stop-file")
    parser.add_argument("-X", dest="properties", action="append", type=parse_property, default=[])
    args = parser.parse_args()

    common = {"bootstrap.servers": args.bootstrap}
    common.update(dict(args.properties))
    errors = {}
    samples = []
    lock = threading.Lock()

    def on_error(err):
        with lock:
            errors[err.name()] = errors.get(err.name(), 0) + 1
            if len(samples) < 20:
                samples.append(f"{time.strftime('%H:%M:%S')} {err.name()}: {err.str()}")

    delivered = set()
    failed = []

    def on_delivery(err, msg):
        if err is None:
            delivered.add(msg.key().decode())
        else:
            failed.append(f"{msg.key().decode()}: {err.name()}")

    producer = confluent_kafka.Producer({**common, "enable.idempotence": True, "acks": "all",
                                         "linger.ms": 5, "message.timeout.ms": 120000,
                                         "error_cb": on_error})
    consumer = confluent_kafka.Consumer({**common, "group.id": args.group, "auto.offset.reset": "earliest",
                                         "enable.auto.commit": True, "error_cb": on_error})
    consumer.subscribe([args.topic])

    seen = {}
    foreign = [0]
    stop_consuming = threading.Event()

    def consume():
        while not stop_consuming.is_set():
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                on_error(msg.error())
                continue
            key = (msg.key() or b"").decode(errors="replace")
            if not key.startswith(args.prefix + "-"):
                foreign[0] += 1
                continue
            seen[key] = seen.get(key, 0) + 1

    reader = threading.Thread(target=consume, name="consumer")
    reader.start()

    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < args.duration:
        if args.stop_file and os.path.exists(args.stop_file):
            break
        due = int((time.monotonic() - started) * args.rate)
        while sent < due:
            key = f"{args.prefix}-{sent}"
            while True:
                try:
                    producer.produce(args.topic, key=key, value=key, on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.05)
            sent += 1
        producer.poll(0.01)
    remaining = producer.flush(120)

    settle_deadline = time.monotonic() + args.settle
    while time.monotonic() < settle_deadline and not delivered.issubset(seen.keys()):
        time.sleep(0.2)
    stop_consuming.set()
    reader.join()
    consumer.close()

    missing = len(delivered - seen.keys())
    result = {
        "sent": sent,
        "delivered": len(delivered),
        "failed": len(failed) + remaining,
        "consumed_unique": len(seen),
        "duplicates": sum(count - 1 for count in seen.values()),
        "missing": missing,
        "foreign": foreign[0],
        "errors": errors,
        "error_samples": samples,
        "failed_samples": failed[:10],
    }
    print(json.dumps(result), flush=True)
    return 0 if missing == 0 and not failed and remaining == 0 and len(delivered) == sent else 1


if __name__ == "__main__":
    sys.exit(main())
