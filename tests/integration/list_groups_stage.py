#!/usr/bin/python3
"""TEST FIXTURE: a relay in front of ONE librdkafka mock broker that also answers ListGroups and OffsetFetch.

The librdkafka 2.12 mock implements no ListGroups (rd_kafka_mock_api_handlers has no entry for key 16: it logs
"unsupported ListGroupsRequest" and closes the connection) and does not offer it in ApiVersions, so kedge's
ListGroups filtering (docs/policy.md "ACLs") is tested against this stage instead. It listens on a plaintext TCP
port and, per connection, relays every request to the mock broker over its own upstream connection and every
response back, byte for byte, in request order (requests are pipelined, as to a broker), except:

  ApiVersions  the mock's answer is patched to offer ListGroups (key 16) v0-4 and OffsetFetch (key 9) v0-9, the
               versions implemented here (entries added or replaced; an answer carrying an error is returned
               unchanged);
  ListGroups   answered by the stage, in the request's version, with ErrorCode 0 and the groups this broker
               coordinates: every group id named by a JoinGroup or OffsetCommit relayed through this stage (a
               consumer sends both to its group's coordinator only), ProtocolType "consumer", and from v4
               GroupState "Empty" (the stage does not follow membership; the test lists groups after their
               consumers closed). A v4 StatesFilter that does not name Empty lists nothing.
  OffsetFetch  the 2.12 mock implements v0-6 and answers null Topics ("all of the group's committed offsets", v2+)
               with a null topic list; a Kafka broker answers them with every partition the group committed
               (KafkaApis fetchAllOffsetsForGroup). So v7-9 (v8+: Groups) and any request with null Topics are
               answered by the stage, in the request's version, from what the mock answers on a connection of the
               stage's own to the same broker: Metadata v1 (all topics, for null Topics), then OffsetFetch v5 naming
               the topics; a null-Topics answer keeps the partitions with a committed offset (>= 0, error 0) and the
               topics with any. v0-6 naming topics are relayed.

With --create-topics (the librdkafka mocks implement no CreateTopics and do not offer it), also:

  CreateTopics v2-4 offered in the ApiVersions answer and answered by the stage, in the request's version, as a
               broker with a CreateTopics API would: per topic, TOPIC_ALREADY_EXISTS (36) when the mock already has
               it, else (unless ValidateOnly) the stage makes the mock create it, with the mock's default partition
               count (the request's NumPartitions, assignments and configs are not applied), by asking for it in a
               Metadata v4 with AllowAutoTopicCreation on a connection of its own, and answers 0 once the mock lists
               it. Each topic's name (and length) and outcome is logged (`CreateTopics v4: created NAME (N chars)`),
               so a test can tell which names reached the backend.
  Metadata     (with --controller-id ID) every response v1+ names broker ID as the controller: the librdkafka mocks
               answer ControllerId 0, no broker, and an admin client (librdkafka's CreateTopics) waits for a
               controller until it times out.

A Produce with acks=0 has no response; it is relayed and no response is awaited for it. The first request of each
API and version on a connection is logged (`conn N from ADDR: first Fetch v16`), so a test can tell which versions
its clients' requests reached the broker in (through kedge, which forwards them in the client's version). One stage
per mock broker; the test makes the mock advertise the stage's address (mock_cluster `hostport ID HOST PORT`), so
every connection to that broker, kedge's included, goes through its stage. Python 3 stdlib only.

Command line:  list_groups_stage.py --listen HOST:PORT --upstream HOST:PORT [--name TAG] [--metadata-delay-file F]
                                   [--create-topics] [--controller-id ID]
  --metadata-delay-file F: while F exists and holds a number of milliseconds, each Metadata response is held that
  long before it is relayed (a broker slow to answer Metadata; the responses after it on that connection wait too).
Logs on stderr: the first request of each API version per connection, each ListGroups and OffsetFetch answer, each
group first seen, connection errors.
"""
import argparse
import queue
import socket
import struct
import sys
import threading
import time

API_PRODUCE, API_METADATA, API_OFFSET_COMMIT, API_JOIN_GROUP, API_LIST_GROUPS, API_API_VERSIONS = 0, 3, 8, 11, 16, 18
API_OFFSET_FETCH = 9
API_CREATE_TOPICS = 19
API_NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
             10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
             16: "ListGroups", 18: "ApiVersions", 19: "CreateTopics", 22: "InitProducerId"}
LIST_GROUPS_VERSIONS = (0, 4)
OFFSET_FETCH_VERSIONS = (0, 9)
CREATE_TOPICS_VERSIONS = (2, 4)  # --create-topics: the non-flexible versions from the first with ThrottleTimeMs
MOCK_OFFSET_FETCH_MAX = 6  # what the librdkafka 2.12 mock implements
MAX_FRAME = 64 << 20


class ProtocolError(Exception):
    pass


class Reader:
    def __init__(self, data, offset=0):
        self.data, self.offset = data, offset

    def take(self, count):
        if count < 0 or self.offset + count > len(self.data):
            raise ProtocolError(f"truncated frame (need {count} bytes at {self.offset}, have {len(self.data)})")
        chunk = self.data[self.offset:self.offset + count]
        self.offset += count
        return chunk

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def int64(self):
        return struct.unpack(">q", self.take(8))[0]

    def uvarint(self):
        value = shift = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > 28:
                raise ProtocolError("varint too long")

    def string(self):  # int16 length, -1 = null
        length = self.int16()
        return None if length < 0 else self.take(length).decode()

    def compact_string(self):  # uvarint length + 1, 0 = null
        length = self.uvarint() - 1
        return None if length < 0 else self.take(length).decode()

    def skip_tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def uvarint(value):
    out = bytearray()
    while True:
        if value < 0x80:
            out.append(value)
            return bytes(out)
        out.append((value & 0x7F) | 0x80)
        value >>= 7


def string16(text):
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def compact_string(text):
    if text is None:
        return uvarint(0)
    raw = text.encode()
    return uvarint(len(raw) + 1) + raw


def nullable_string16(text):
    return struct.pack(">h", -1) if text is None else string16(text)


def flexible_request(api_key, api_version):
    """Whether the request (header v2) and its body are flexible, for the APIs this stage reads."""
    return {API_PRODUCE: 9, API_OFFSET_COMMIT: 8, API_OFFSET_FETCH: 6, API_JOIN_GROUP: 6, API_LIST_GROUPS: 3,
            API_API_VERSIONS: 3, API_CREATE_TOPICS: 5}.get(api_key, 1 << 15) <= api_version


def parse_request(payload):
    """(api_key, api_version, correlation_id, Reader at the body)."""
    reader = Reader(payload)
    api_key, api_version, correlation_id = reader.int16(), reader.int16(), reader.int32()
    reader.string()  # client_id: int16 length even in header v2
    if flexible_request(api_key, api_version):
        reader.skip_tagged_fields()
    return api_key, api_version, correlation_id, reader


def produce_expects_response(api_version, body):
    flexible = flexible_request(API_PRODUCE, api_version)
    if api_version >= 3:
        body.compact_string() if flexible else body.string()  # TransactionalId
    return body.int16() != 0  # Acks


def patch_api_versions(response, api_version, create_topics=False):
    """The ApiVersions response (correlation id + body; header v0 in every version) offering ListGroups and
    OffsetFetch (and with create_topics, CreateTopics) in the versions implemented here."""
    reader = Reader(response)
    correlation = reader.take(4)
    if reader.int16() != 0:
        return response
    flexible = api_version >= 3
    count = reader.uvarint() - 1 if flexible else reader.int32()
    if count < 0 or count > 10000:
        raise ProtocolError(f"ApiVersions response with {count} entries")
    entries = []
    for _ in range(count):
        key, low, high = reader.int16(), reader.int16(), reader.int16()
        tags = b""
        if flexible:
            start = reader.offset
            reader.skip_tagged_fields()
            tags = response[start:reader.offset]
        if key not in (API_LIST_GROUPS, API_OFFSET_FETCH) and not (create_topics and key == API_CREATE_TOPICS):
            entries.append((key, low, high, tags))
    entries.append((API_LIST_GROUPS, *LIST_GROUPS_VERSIONS, uvarint(0) if flexible else b""))
    entries.append((API_OFFSET_FETCH, *OFFSET_FETCH_VERSIONS, uvarint(0) if flexible else b""))
    if create_topics:
        entries.append((API_CREATE_TOPICS, *CREATE_TOPICS_VERSIONS, uvarint(0) if flexible else b""))
    tail = response[reader.offset:]  # ThrottleTimeMs (v1+), the body's tagged fields (v3+)
    out = bytearray(correlation + struct.pack(">h", 0))
    out += uvarint(len(entries) + 1) if flexible else struct.pack(">i", len(entries))
    for key, low, high, tags in entries:
        out += struct.pack(">hhh", key, low, high) + tags
    return bytes(out + tail)


def patch_metadata_controller(response, api_version, controller_id):
    """The Metadata response (correlation id + body) v1+ with ControllerId replaced by `controller_id`."""
    if api_version < 1:
        return response
    flexible = api_version >= 9
    reader = Reader(response)
    reader.take(4)  # correlation id
    if flexible:
        reader.skip_tagged_fields()  # response header v1
    if api_version >= 3:
        reader.int32()  # ThrottleTimeMs
    read_string = reader.compact_string if flexible else reader.string
    for _ in range(max(reader.uvarint() - 1 if flexible else reader.int32(), 0)):
        reader.int32()  # NodeId
        read_string()  # Host
        reader.int32()  # Port
        read_string()  # Rack
        if flexible:
            reader.skip_tagged_fields()
    if api_version >= 2:
        read_string()  # ClusterId
    at = reader.offset
    reader.int32()  # ControllerId
    return response[:at] + struct.pack(">i", controller_id) + response[at + 4:]


def list_groups_response(correlation_id, api_version, body, groups):
    """ListGroupsResponse v0-4 (header v1 from v3) listing `groups` with ProtocolType consumer."""
    flexible = api_version >= 3
    states = None
    if api_version >= 4:
        states = [body.compact_string() for _ in range(max(body.uvarint() - 1, 0))]
    listed = [group for group in groups if not states or "Empty" in states]
    out = bytearray(struct.pack(">i", correlation_id))
    if flexible:
        out += uvarint(0)  # response header v1: no tagged fields
    if api_version >= 1:
        out += struct.pack(">i", 0)  # ThrottleTimeMs
    out += struct.pack(">h", 0)  # ErrorCode
    out += uvarint(len(listed) + 1) if flexible else struct.pack(">i", len(listed))
    for group in listed:
        out += (compact_string(group) + compact_string("consumer")) if flexible else (string16(group)
                                                                                      + string16("consumer"))
        if api_version >= 4:
            out += compact_string("Empty")
        if flexible:
            out += uvarint(0)
    if flexible:
        out += uvarint(0)
    return struct.pack(">i", len(out)) + bytes(out), listed


def parse_offset_fetch_request(api_version, body):
    """[(group id, None (all of its committed offsets) or [(topic, [partition, ...]), ...])] of an OffsetFetch
    request v0-9 (v8+: Groups; v9 adds MemberId and MemberEpoch, not checked here)."""
    flexible = flexible_request(API_OFFSET_FETCH, api_version)

    def read_string():
        return body.compact_string() if flexible else body.string()

    def read_count():
        return body.uvarint() - 1 if flexible else body.int32()

    def read_topics():
        count = read_count()
        if count < 0:
            return None
        topics = []
        for _ in range(count):
            name = read_string()
            partitions = [body.int32() for _ in range(max(read_count(), 0))]
            if flexible:
                body.skip_tagged_fields()
            topics.append((name, partitions))
        return topics

    if api_version <= 7:
        group = read_string()
        return [(group, read_topics())]
    groups = []
    for _ in range(max(read_count(), 0)):
        group = read_string()
        if api_version >= 9:
            read_string()  # MemberId
            body.int32()  # MemberEpoch
        groups.append((group, read_topics()))
        body.skip_tagged_fields()
    return groups


def exchange(sock, api_key, api_version, correlation_id, body):
    """One non-flexible request to the mock on `sock`; the response's body (a Reader after the correlation id)."""
    message = struct.pack(">hhi", api_key, api_version, correlation_id) + string16("list-groups-stage") + body
    sock.sendall(struct.pack(">i", len(message)) + message)
    payload = recv_frame(sock)
    if payload is None:
        raise ProtocolError(f"the mock closed the connection instead of answering ApiKey {api_key} v{api_version}")
    reader = Reader(payload)
    if reader.int32() != correlation_id:
        raise ProtocolError("the mock answered out of order")
    return reader


def mock_topics(sock):
    """{topic: [partition, ...]} of every topic the mock has (Metadata v1, all topics)."""
    reader = exchange(sock, API_METADATA, 1, 1, struct.pack(">i", -1))
    for _ in range(reader.int32()):  # Brokers: NodeId, Host, Port, Rack
        reader.int32(); reader.string(); reader.int32(); reader.string()
    reader.int32()  # ControllerId
    topics = {}
    for _ in range(reader.int32()):
        error, name = reader.int16(), reader.string()
        reader.take(1)  # IsInternal
        partitions = []
        for _ in range(reader.int32()):
            reader.int16()  # ErrorCode
            partitions.append(reader.int32())
            reader.int32()  # LeaderId
            for _ in range(2):  # Replicas, Isr
                reader.take(4 * max(reader.int32(), 0))
        if error == 0:
            topics[name] = sorted(partitions)
    return topics


def mock_committed(sock, group, topics):
    """(group error, [(topic, [(partition, offset, leader epoch, metadata, error), ...]), ...]) as the mock answers
    OffsetFetch v5 naming `topics`."""
    body = string16(group) + struct.pack(">i", len(topics))
    for name, partitions in topics:
        body += string16(name) + struct.pack(">i", len(partitions))
        body += b"".join(struct.pack(">i", partition) for partition in partitions)
    reader = exchange(sock, API_OFFSET_FETCH, 5, 2, body)
    reader.int32()  # ThrottleTimeMs
    answered = []
    for _ in range(max(reader.int32(), 0)):
        name = reader.string()
        partitions = []
        for _ in range(max(reader.int32(), 0)):
            index, offset, epoch = reader.int32(), reader.int64(), reader.int32()
            metadata = reader.string()
            partitions.append((index, offset, epoch, metadata, reader.int16()))
        answered.append((name, partitions))
    return reader.int16(), answered


def offset_fetch_response(correlation_id, api_version, results):
    """OffsetFetchResponse v0-9 (header v1 from v6) for `results`: [(group, error, topics as mock_committed)]."""
    flexible = flexible_request(API_OFFSET_FETCH, api_version)

    def count(items):
        return uvarint(len(items) + 1) if flexible else struct.pack(">i", len(items))

    def text(value):
        return compact_string(value) if flexible else nullable_string16(value)

    def tags():
        return uvarint(0) if flexible else b""

    def topics_bytes(topics):
        out = bytearray(count(topics))
        for name, partitions in topics:
            out += text(name) + count(partitions)
            for index, offset, epoch, metadata, error in partitions:
                out += struct.pack(">iq", index, offset)
                if api_version >= 5:
                    out += struct.pack(">i", epoch)
                out += text(metadata) + struct.pack(">h", error) + tags()
            out += tags()
        return bytes(out)

    out = bytearray(struct.pack(">i", correlation_id)) + tags()  # response header v1 from v6
    if api_version >= 3:
        out += struct.pack(">i", 0)  # ThrottleTimeMs
    if api_version <= 7:
        group, error, topics = results[0]
        out += topics_bytes(topics)
        if api_version >= 2:
            out += struct.pack(">h", error)
    else:
        out += count(results)
        for group, error, topics in results:
            out += text(group) + topics_bytes(topics) + struct.pack(">h", error) + tags()
    out += tags()
    return struct.pack(">i", len(out)) + bytes(out)


def parse_create_topics_request(body):
    """([topic name, ...], validate_only) of a CreateTopics request v2-4 (non-flexible)."""
    names = []
    for _ in range(max(body.int32(), 0)):
        names.append(body.string())
        body.int32()  # NumPartitions
        body.int16()  # ReplicationFactor
        for _ in range(max(body.int32(), 0)):  # Assignments: PartitionIndex, BrokerIds
            body.int32()
            body.take(4 * max(body.int32(), 0))
        for _ in range(max(body.int32(), 0)):  # Configs: Name, Value
            body.string()
            body.string()
    body.int32()  # TimeoutMs
    return names, body.take(1) != b"\0"


def create_topics_response(correlation_id, results):
    """CreateTopicsResponse v2-4 (header v0) for `results`: [(name, error code, error message or None)]."""
    out = bytearray(struct.pack(">ii", correlation_id, 0))  # correlation id, ThrottleTimeMs
    out += struct.pack(">i", len(results))
    for name, error, message in results:
        out += string16(name) + struct.pack(">h", error) + nullable_string16(message)
    return struct.pack(">i", len(out)) + bytes(out)


def recv_exact(sock, count):
    chunks, remaining = [], count
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock):
    head = recv_exact(sock, 4)
    if head is None:
        return None
    length = struct.unpack(">i", head)[0]
    if length < 0 or length > MAX_FRAME:
        raise ProtocolError(f"frame length {length}")
    payload = recv_exact(sock, length)
    if payload is None:
        raise ProtocolError("EOF inside a frame")
    return payload


def log(tag, text):
    print(f"list_groups_stage[{tag}]: {text}", file=sys.stderr, flush=True)


class Stage:
    def __init__(self, name, listen, upstream, metadata_delay_file=None, create_topics=False, controller_id=None):
        self.name, self.upstream, self.metadata_delay_file = name, upstream, metadata_delay_file
        self.create_topics_enabled, self.controller_id = create_topics, controller_id
        self.groups = []  # group ids coordinated here, in the order first seen
        self.lock = threading.Lock()
        self.listener = socket.create_server(listen)
        self.listener.listen(64)

    def note_group(self, group):
        with self.lock:
            if group and group not in self.groups:
                self.groups.append(group)
                log(self.name, f"group {group} coordinated here")

    def serve_forever(self):
        number = 0
        while True:
            client, peer = self.listener.accept()
            number += 1
            threading.Thread(target=self.session, args=(client, f"conn {number} from {peer[0]}:{peer[1]}"),
                             daemon=True).start()

    def session(self, client, tag):
        pending = queue.Queue()  # per request with a response, in order: ("relay", version) or ("local", bytes)
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
            upstream.settimeout(None)
        except OSError as error:
            log(self.name, f"{tag}: upstream {error}; closing")
            client.close()
            return
        answers = threading.Thread(target=self.answer, args=(client, upstream, pending, tag), daemon=True)
        answers.start()
        seen = set()
        try:
            while True:
                payload = recv_frame(client)
                if payload is None:
                    break
                api_key, api_version, correlation_id, body = parse_request(payload)
                if (api_key, api_version) not in seen:
                    seen.add((api_key, api_version))
                    log(self.name, f"{tag}: first {API_NAMES.get(api_key, f'ApiKey {api_key}')} v{api_version}")
                if api_key == API_LIST_GROUPS:
                    if not LIST_GROUPS_VERSIONS[0] <= api_version <= LIST_GROUPS_VERSIONS[1]:
                        raise ProtocolError(f"ListGroups v{api_version} not offered")
                    with self.lock:
                        groups = list(self.groups)
                    response, listed = list_groups_response(correlation_id, api_version, body, groups)
                    log(self.name, f"{tag}: ListGroups v{api_version} answered with {listed}")
                    pending.put(("local", response))
                    continue
                if api_key == API_OFFSET_FETCH:
                    if not OFFSET_FETCH_VERSIONS[0] <= api_version <= OFFSET_FETCH_VERSIONS[1]:
                        raise ProtocolError(f"OffsetFetch v{api_version} not offered")
                    groups = parse_offset_fetch_request(api_version, body)
                    if api_version > MOCK_OFFSET_FETCH_MAX or any(topics is None for _, topics in groups):
                        pending.put(("local", self.offset_fetch(correlation_id, api_version, groups, tag)))
                        continue
                if api_key == API_CREATE_TOPICS and self.create_topics_enabled:
                    if not CREATE_TOPICS_VERSIONS[0] <= api_version <= CREATE_TOPICS_VERSIONS[1]:
                        raise ProtocolError(f"CreateTopics v{api_version} not offered")
                    names, validate_only = parse_create_topics_request(body)
                    pending.put(("local", self.create_topics(correlation_id, api_version, names, validate_only,
                                                             tag)))
                    continue
                if api_key in (API_OFFSET_COMMIT, API_JOIN_GROUP):
                    self.note_group(body.compact_string() if flexible_request(api_key, api_version)
                                    else body.string())
                expects = api_key != API_PRODUCE or produce_expects_response(api_version, body)
                if expects:
                    pending.put(("relay", api_key, api_version))
                upstream.sendall(struct.pack(">i", len(payload)) + payload)
        except (OSError, ProtocolError) as error:
            log(self.name, f"{tag}: {error}; closing")
        finally:
            pending.put(None)
            try:
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            answers.join(timeout=30)
            for sock in (client, upstream):
                try:
                    sock.close()
                except OSError:
                    pass

    def offset_fetch(self, correlation_id, api_version, groups, tag):
        """The OffsetFetch response to `groups` (parse_offset_fetch_request), from what the mock answers on a
        connection of the stage's own."""
        with socket.create_connection(self.upstream, timeout=10) as sock:
            results, everything = [], None
            for group, topics in groups:
                named = topics
                if topics is None:
                    everything = mock_topics(sock) if everything is None else everything
                    named = sorted(everything.items())
                error, answered = mock_committed(sock, group, named) if named else (0, [])
                if topics is None:
                    answered = [(name, kept) for name, partitions in answered
                                if (kept := [p for p in partitions if p[1] >= 0 and p[4] == 0])]
                results.append((group, error, answered))
        log(self.name, f"{tag}: OffsetFetch v{api_version} answered: " + "; ".join(
            f"{group} ({'all' if topics is None else 'named'}) error {error}: "
            + (", ".join(f"{name} {[(p[0], p[1], p[4]) for p in partitions]}" for name, partitions in answered)
               or "no topics")
            for (group, topics), (_, error, answered) in zip(groups, results)))
        return offset_fetch_response(correlation_id, api_version, results)

    def create_topics(self, correlation_id, api_version, names, validate_only, tag):
        """The CreateTopics response to `names`: each created on the mock (Metadata v4 auto-creation on a connection
        of the stage's own) unless it exists already or validate_only."""
        results = []
        with socket.create_connection(self.upstream, timeout=10) as sock:
            existing = mock_topics(sock)
            for number, name in enumerate(names, start=3):
                if name in existing:
                    results.append((name, 36, f"Topic '{name}' already exists."))
                    outcome = "exists already"
                elif validate_only:
                    results.append((name, 0, None))
                    outcome = "validated"
                else:
                    # Metadata v4: Topics [Name], AllowAutoTopicCreation true
                    exchange(sock, API_METADATA, 4, number, struct.pack(">i", 1) + string16(name) + b"\1")
                    created = name in mock_topics(sock)
                    results.append((name, 0, None) if created else
                                   (name, -1, f"the mock did not create {name}"))  # UNKNOWN_SERVER_ERROR
                    outcome = "created" if created else "NOT created by the mock"
                log(self.name, f"{tag}: CreateTopics v{api_version}: {outcome} {name} ({len(name)} chars)")
        return create_topics_response(correlation_id, results)

    def metadata_delay_ms(self):
        try:
            with open(self.metadata_delay_file) as delay:
                return max(int(delay.read().strip() or 0), 0)
        except (OSError, ValueError):
            return 0

    def answer(self, client, upstream, pending, tag):
        try:
            while True:
                item = pending.get()
                if item is None:
                    return
                if item[0] == "local":
                    client.sendall(item[1])
                    continue
                payload = recv_frame(upstream)
                if payload is None:
                    return
                if item[1] == API_API_VERSIONS:
                    payload = patch_api_versions(payload, item[2], self.create_topics_enabled)
                elif item[1] == API_METADATA and self.controller_id is not None:
                    payload = patch_metadata_controller(payload, item[2], self.controller_id)
                if item[1] == API_METADATA and self.metadata_delay_file:
                    delay_ms = self.metadata_delay_ms()
                    if delay_ms:
                        log(self.name, f"{tag}: Metadata v{item[2]} response held {delay_ms} ms")
                        time.sleep(delay_ms / 1000)
                client.sendall(struct.pack(">i", len(payload)) + payload)
        except (OSError, ProtocolError) as error:
            log(self.name, f"{tag}: answers: {error}")
        finally:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def parse_hostport(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT")
    return host, int(port)


def main(argv):
    parser = argparse.ArgumentParser(prog="list_groups_stage",
                                     description="TEST FIXTURE: ListGroups and OffsetFetch relay")
    parser.add_argument("--listen", type=parse_hostport, required=True)
    parser.add_argument("--upstream", type=parse_hostport, required=True)
    parser.add_argument("--name", default="stage")
    parser.add_argument("--metadata-delay-file")
    parser.add_argument("--create-topics", action="store_true",
                        help="offer CreateTopics v2-4 and answer it (creating topics on the mock)")
    parser.add_argument("--controller-id", type=int,
                        help="broker id every Metadata response names as the controller (the mock answers 0)")
    args = parser.parse_args(argv)
    stage = Stage(args.name, args.listen, args.upstream, args.metadata_delay_file, args.create_topics,
                  args.controller_id)
    host, port = stage.listener.getsockname()[:2]
    log(args.name, f"listening on {host}:{port} -> {args.upstream[0]}:{args.upstream[1]}")
    try:
        stage.serve_forever()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
