#!/usr/bin/python3
"""WebSocket clients of kedge's HTTP front (docs/http.md), run inside a client namespace by test_gateway_http.py.

Each subcommand prints one JSON object per line (the test parses them) and exits 0 unless it could not run at all.

  roundtrip BOOTSTRAP WS_URL CA TOPIC CODEC COUNT [ALPN]
      produces COUNT records with confluent-kafka (librdkafka) through kedge's Kafka path to partition 0 of TOPIC,
      compression.type CODEC: binary keys and values of varied sizes (every fifth key null, one empty value), each
      delivery's offset and timestamp recorded; then an APISIX pub-sub client (protobuf built from web/pubsub.proto
      with protoc, binary WebSocket messages) lists the earliest and latest offsets and fetches from the earliest
      until the latest. Prints {"produced", "earliest", "latest", "fetched", "mismatches", "sequences_echoed"}.
      ALPN "alpn": the WebSocket connects to the Kafka bootstrap name offering ALPN http/1.1 (the other signal).
  errors WS_URL CA TOPIC
      bad commands, each answered with an ErrorResp (its code, message and echoed sequence printed) while the
      connection stays usable: an unknown topic, a partition the topic lacks, an offset past the end, a message that
      is not protobuf, a ping (its state echoed in the pong). Prints one line per case.
  json WS_URL CA TOPIC EXPECT
      the JSON form over text messages: list_offset (earliest), fetch from it with base64 payloads; prints what came
      back.
  subscribe WS_URL CA TOPIC OFFSET EXPECT TIMEOUT_S
      the JSON subscribe command for every partition of TOPIC from OFFSET (-2 earliest, -1 latest): prints each
      "subscribed" reply as {"subscribed": [...]}, then one {"p", "o", "k"} line per record pushed (partition,
      offset, key as text) in arrival order; once EXPECT distinct (partition, offset) pairs arrived it keeps
      listening LINGER_S more (a repeat or an extra record sent late is still seen), then prints
      {"done": true, "records", "distinct", "errors", "timed_out", "seconds"}. Stops at TIMEOUT_S whatever it has.

The protobuf module is generated at run time from the repository's web/pubsub.proto (protoc --python_out), so the
client speaks exactly the messages kedge's .proto defines; nothing here is shared with kedge's C++ code.
"""
import asyncio
import base64
import hashlib
import importlib
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pubsub_module():
    out = tempfile.mkdtemp(prefix="kedge-pubsub-")
    subprocess.run(["protoc", f"--python_out={out}", "-I", os.path.join(REPO, "web"),
                    os.path.join(REPO, "web", "pubsub.proto")], check=True)
    sys.path.insert(0, out)
    return importlib.import_module("pubsub_pb2")


def tls_context(ca, alpn=False):
    context = ssl.create_default_context(cafile=ca)
    if alpn:
        context.set_alpn_protocols(["http/1.1"])
    return context


def record_bytes(codec, i):
    """Deterministic binary key and value of record i: varied lengths, every byte value, every fifth key null,
    record 3 an empty value."""
    digest = hashlib.sha256(f"{codec}-{i}".encode()).digest()
    key = None if i % 5 == 0 else digest[: 1 + i % 31]
    value = b"" if i == 3 else (digest * (1 + (i * 37) % 90))[: 1 + (i * 211) % 2900]
    return key, value


def record_timestamp(i):
    return 1_700_000_000_000 + i * 1000  # CreateTime, set by the producer: compared exactly


def produce(bootstrap, ca, topic, codec, count):
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": bootstrap, "security.protocol": "SSL", "ssl.ca.location": ca,
                         "compression.type": codec, "linger.ms": 20, "acks": "all",
                         "enable.idempotence": False})
    delivered = {}
    errors = []

    def on_delivery(error, message):
        if error is not None:
            errors.append(str(error))
            return
        delivered[message.offset()] = (message.key(), message.value())

    for i in range(count):
        key, value = record_bytes(codec, i)
        producer.produce(topic, value=value, key=key, partition=0, on_delivery=on_delivery,
                         timestamp=record_timestamp(i))
        producer.poll(0)
    producer.flush(60)
    return delivered, errors


async def exchange(ws, pb, sequence, **command):
    request = pb.PubSubReq()
    request.sequence = sequence
    for field, values in command.items():
        message = getattr(request, field)
        message.SetInParent()
        for name, value in values.items():
            # kedge's .proto declares topic as bytes (the same wire bytes as APISIX's string)
            setattr(message, name, value.encode() if name == "topic" and isinstance(value, str) else value)
    await ws.send(request.SerializeToString())
    response = pb.PubSubResp()
    response.ParseFromString(await ws.recv())
    return response


async def roundtrip(bootstrap, url, ca, topic, codec, count, alpn):
    import websockets
    pb = pubsub_module()
    delivered, errors = produce(bootstrap, ca, topic, codec, count)
    result = {"codec": codec, "produced": len(delivered), "produce_errors": errors[:3]}
    mismatches = []
    echoed = True
    async with websockets.connect(url, ssl=tls_context(ca, alpn), max_size=None, compression=None) as ws:
        earliest = await exchange(ws, pb, 11, cmd_kafka_list_offset={"topic": topic, "partition": 0, "timestamp": -2})
        latest = await exchange(ws, pb, 12, cmd_kafka_list_offset={"topic": topic, "partition": 0, "timestamp": -1})
        echoed = echoed and earliest.sequence == 11 and latest.sequence == 12
        if earliest.WhichOneof("resp") != "kafka_list_offset_resp" or latest.WhichOneof("resp") != "kafka_list_offset_resp":
            result["error"] = f"list offsets: {earliest} / {latest}"
            print(json.dumps(result), flush=True)
            return
        result["earliest"] = earliest.kafka_list_offset_resp.offset
        result["latest"] = latest.kafka_list_offset_resp.offset
        offset = result["earliest"]
        fetched = {}
        sequence = 100
        empty_rounds = 0
        while offset < result["latest"] and empty_rounds < 50:
            sequence += 1
            response = await exchange(ws, pb, sequence, cmd_kafka_fetch={"topic": topic, "partition": 0, "offset": offset})
            echoed = echoed and response.sequence == sequence
            if response.WhichOneof("resp") != "kafka_fetch_resp":
                result["error"] = f"fetch at {offset}: {response}"
                break
            messages = response.kafka_fetch_resp.messages
            if not messages:
                empty_rounds += 1
                continue
            for message in messages:
                if message.offset in fetched:
                    mismatches.append(f"offset {message.offset} fetched twice")
                fetched[message.offset] = (message.key, message.value, message.timestamp)
            offset = messages[-1].offset + 1
    # Records were produced to one partition in order, so the i-th delivered offset is record i.
    produced = {offset: (key, value, record_timestamp(i))
                for i, (offset, (key, value)) in enumerate(sorted(delivered.items()))}
    for offset, (key, value, timestamp) in produced.items():
        got = fetched.get(offset)
        if got is None:
            mismatches.append(f"offset {offset} not fetched")
        elif got != ((key or b""), value, timestamp):
            mismatches.append(f"offset {offset}: key {got[0][:8].hex()} value {len(got[1])} bytes ts {got[2]}, "
                              f"produced key {(key or b'')[:8].hex()} value {len(value)} bytes ts {timestamp}")
    extra = sorted(set(fetched) - set(produced))
    if extra:
        mismatches.append(f"offsets fetched that were not produced: {extra[:5]}")
    result.update({"fetched": len(fetched), "mismatches": mismatches[:5], "mismatch_count": len(mismatches),
                   "sequences_echoed": echoed})
    print(json.dumps(result), flush=True)


async def errors(url, ca, topic):
    import websockets
    pb = pubsub_module()

    def described(case, response):
        kind = response.WhichOneof("resp")
        line = {"case": case, "sequence": response.sequence, "kind": kind}
        if kind == "error_resp":
            line.update(code=response.error_resp.code, message=response.error_resp.message)
        elif kind == "pong_resp":
            line.update(state=response.pong_resp.state.decode("latin-1"))
        elif kind == "kafka_fetch_resp":
            line.update(messages=len(response.kafka_fetch_resp.messages))
        elif kind == "kafka_list_offset_resp":
            line.update(offset=response.kafka_list_offset_resp.offset)
        print(json.dumps(line), flush=True)

    async with websockets.connect(url, ssl=tls_context(ca), max_size=None, compression=None) as ws:
        described("unknown_topic", await exchange(ws, pb, 21, cmd_kafka_fetch={
            "topic": "no-such-topic", "partition": 0, "offset": 0}))
        described("missing_partition", await exchange(ws, pb, 22, cmd_kafka_list_offset={
            "topic": topic, "partition": 99, "timestamp": -1}))
        described("offset_out_of_range", await exchange(ws, pb, 23, cmd_kafka_fetch={
            "topic": topic, "partition": 0, "offset": 1 << 40}))
        await ws.send(b"\xff\xff\xff\xff not protobuf")
        response = pb.PubSubResp()
        response.ParseFromString(await ws.recv())
        described("malformed_protobuf", response)
        described("ping", await exchange(ws, pb, 25, cmd_ping={"state": b"kedge-state"}))
        described("after_errors", await exchange(ws, pb, 26, cmd_kafka_list_offset={
            "topic": topic, "partition": 0, "timestamp": -2}))


async def json_fetch(url, ca, topic, expect):
    import websockets
    async with websockets.connect(url, ssl=tls_context(ca), max_size=None, compression=None) as ws:
        await ws.send(json.dumps({"sequence": 1, "cmd": "list_offset", "topic": topic, "partition": 0,
                                  "timestamp": -2}))
        earliest = json.loads(await ws.recv())
        await ws.send(json.dumps({"sequence": 2, "cmd": "fetch", "topic": topic, "partition": 0,
                                  "offset": earliest.get("offset", 0), "encoding": "base64"}))
        fetched = json.loads(await ws.recv())
        messages = fetched.get("messages", [])
        matches = 0
        for i, m in enumerate(messages[:expect]):
            key, value = record_bytes("none", i)
            got_key = None if m.get("key") is None else base64.b64decode(m["key"])
            got_value = None if m.get("value") is None else base64.b64decode(m["value"])
            matches += got_key == key and got_value == value and m.get("timestamp") == record_timestamp(i)
        print(json.dumps({"earliest": earliest, "count": len(messages), "matches": matches,
                          "sequence": fetched.get("sequence")}), flush=True)


def consume(bootstrap, ca, topic, count):
    """confluent-kafka (librdkafka) reads `count` records of partition 0 from the beginning; prints them as hex."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "security.protocol": "SSL", "ssl.ca.location": ca,
                         "group.id": f"rest-check-{topic}", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.time() + 30
    while len(got) < count and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is None or message.error():
            continue
        got.append({"offset": message.offset(), "key": None if message.key() is None else message.key().hex(),
                    "value": None if message.value() is None else message.value().hex()})
    consumer.close()
    print(json.dumps({"records": got}), flush=True)


def committed(bootstrap, ca, group, topic):
    """confluent-kafka in `group`: the committed offset of partition 0, and the offset of the first record it
    reads when it subscribes (it resumes from the committed offset)."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "security.protocol": "SSL", "ssl.ca.location": ca,
                         "group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    stored = consumer.committed([TopicPartition(topic, 0)], timeout=20)
    consumer.subscribe([topic])
    first = None
    deadline = time.time() + 30
    while first is None and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and not message.error():
            first = message.offset()
    consumer.close()
    print(json.dumps({"committed": stored[0].offset if stored else None, "first": first}), flush=True)


def commit(bootstrap, ca, group, topic, offset):
    """confluent-kafka commits `offset` for partition 0 of `topic` in `group` (no subscription)."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "security.protocol": "SSL", "ssl.ca.location": ca,
                         "group.id": group, "enable.auto.commit": False})
    result = consumer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
    consumer.close()
    print(json.dumps({"committed": [tp.offset for tp in result]}), flush=True)


def rest_read(base, ca, topic, codec, offset):
    """GET the records of partition 0 from `offset` (binary format) and compare them with what roundtrip
    produced for `codec` (record i at offset i)."""
    import urllib.request
    request = urllib.request.Request(f"{base}/topics/{topic}/partitions/0/records?offset={offset}",
                                     headers={"Accept": "application/vnd.kafka.binary.v2+json"})
    with urllib.request.urlopen(request, context=tls_context(ca), timeout=30) as response:
        records = json.loads(response.read())
    mismatches = []
    for record in records:
        i = record["offset"]
        key, value = record_bytes(codec, i)
        got_key = None if record["key"] is None else base64.b64decode(record["key"])
        got_value = None if record["value"] is None else base64.b64decode(record["value"])
        if (got_key, got_value, record["timestamp"]) != (key, value, record_timestamp(i)):
            mismatches.append(i)
    print(json.dumps({"count": len(records), "first": records[0]["offset"] if records else None,
                      "mismatches": mismatches[:5]}), flush=True)


async def json_produce(url, ca, topic):
    """The JSON produce command: three records (text, a null key, headers) in utf8, then two binary ones in base64."""
    import websockets
    async with websockets.connect(url, ssl=tls_context(ca), max_size=None, compression=None) as ws:
        await ws.send(json.dumps({"sequence": 41, "cmd": "produce", "topic": topic, "partition": 0, "records": [
            {"key": "k-1", "value": "hello ✓"}, {"key": None, "value": "no key"},
            {"key": "k-3", "value": "with headers", "headers": [{"key": "h", "value": "v"}]}]}))
        first = json.loads(await ws.recv())
        await ws.send(json.dumps({"sequence": 42, "cmd": "produce", "topic": topic, "partition": 0, "encoding": "base64",
                                  "records": [{"key": base64.b64encode(b"\x00\xff").decode(),
                                               "value": base64.b64encode(bytes(range(256))).decode()},
                                              {"value": base64.b64encode(b"").decode()}]}))
        second = json.loads(await ws.recv())
        print(json.dumps({"first": first, "second": second}), flush=True)


SUBSCRIBE_LINGER_S = 1.5


async def subscribe(url, ca, topic, offset, expect, timeout_s):
    import websockets
    loop = asyncio.get_running_loop()
    began = loop.time()
    deadline = began + timeout_s
    seen = set()
    records = 0
    errors = []
    stop_at = deadline
    async with websockets.connect(url, ssl=tls_context(ca), max_size=None, compression=None) as ws:
        await ws.send(json.dumps({"sequence": 7, "cmd": "subscribe", "topic": topic, "offset": offset}))
        while True:
            remaining = stop_at - loop.time()
            if remaining <= 0:
                break
            try:
                reply = json.loads(await asyncio.wait_for(ws.recv(), remaining))
            except asyncio.TimeoutError:
                break
            kind = reply.get("type")
            if kind == "subscribed":
                print(json.dumps({"subscribed": reply.get("partitions"), "sequence": reply.get("sequence")}),
                      flush=True)
            elif kind == "fetch":
                for message in reply.get("messages", []):
                    records += 1
                    seen.add((reply.get("partition"), message.get("offset")))
                    print(json.dumps({"p": reply.get("partition"), "o": message.get("offset"),
                                      "k": message.get("key"), "sequence": reply.get("sequence")}), flush=True)
            else:
                errors.append(reply)
                print(json.dumps({"reply": reply}), flush=True)
            if len(seen) >= expect and stop_at == deadline:
                stop_at = min(deadline, loop.time() + SUBSCRIBE_LINGER_S)
    print(json.dumps({"done": True, "records": records, "distinct": len(seen), "errors": errors[:5],
                      "timed_out": len(seen) < expect, "seconds": round(loop.time() - began, 2)}), flush=True)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "roundtrip":
        bootstrap, url, ca, topic, codec, count = args[:6]
        asyncio.run(roundtrip(bootstrap, url, ca, topic, codec, int(count), len(args) > 6 and args[6] == "alpn"))
    elif command == "errors":
        asyncio.run(errors(*args[:3]))
    elif command == "consume":
        bootstrap, ca, topic, count = args[:4]
        consume(bootstrap, ca, topic, int(count))
    elif command == "committed":
        committed(*args[:4])
    elif command == "commit":
        bootstrap, ca, group, topic, offset = args[:5]
        commit(bootstrap, ca, group, topic, int(offset))
    elif command == "rest-read":
        base, ca, topic, codec, offset = args[:5]
        rest_read(base, ca, topic, codec, int(offset))
    elif command == "json-produce":
        asyncio.run(json_produce(*args[:3]))
    elif command == "json":
        url, ca, topic, expect = args[:4]
        asyncio.run(json_fetch(url, ca, topic, int(expect)))
    elif command == "subscribe":
        url, ca, topic, offset, expect, timeout_s = args[:6]
        asyncio.run(subscribe(url, ca, topic, int(offset), int(expect), float(timeout_s)))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
