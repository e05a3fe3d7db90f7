#!/usr/bin/python3
"""kafkapy_client: kclient.cpp's subcommands on kafka-python (Debian's python3-kafka 2.0.2), a client written
independently of librdkafka. It authenticates the KIP-43 way: SaslHandshake v0, then the SASL tokens unframed
(int32 size + bytes, no Kafka header) for PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER.

  produce  --bootstrap B --topic T --count N --prefix P [options]
  consume  --bootstrap B --topic T --group G --expect N --prefix P [options]
  metadata --bootstrap B [options]
options: --timeout-ms MS, --ca FILE (SSL with hostname verification), --mechanism M --username U --password P
(SASL_SSL), --oauthbearer-token-file F (SASL_SSL OAUTHBEARER).

Message i has key and value "P-<i>" and goes to partition i % partitions. Summary lines on stdout are kclient's
(`produce ok=1 delivered=N ...`); exit status 0 only when ok=1. Run with /usr/bin/python3.
"""
import argparse
import logging
import sys
import time

import kafka
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


def main(argv):
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="kafkapy: %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    return {"produce": produce, "consume": consume, "metadata": metadata}[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
