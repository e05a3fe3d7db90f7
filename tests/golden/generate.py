#!/usr/bin/python3
"""Golden-vector generator for kedge's Kafka response rewriting.

This is an independent Kafka response encoder written only from the field layouts in
/work/shared/kafka-protocol.md (sections 1.2, 2, 3 and 4). It deliberately shares no code or data with
the C++ codec in kafka_codec/: the point is to cross-check it.

For every case it encodes one logical response twice:
  * response_hex: the frame as the broker sends it;
  * expected_hex: the frame after the rewrite rules in tests/golden/GOLDEN_FORMAT (brief) are applied to the
    *logical* message (host -> advertised host_template with {id}, port -> advertised port, ApiVersions clamp),
    then re-encoded from scratch. Because expected_hex is produced by re-encoding, every enclosing length
    (compact-string varints, tag sizes, array counts, frame size) is recomputed independently of any patching logic.

Usage:
  /usr/bin/python3 tests/golden/generate.py            # (re)write every generated case file
  /usr/bin/python3 tests/golden/generate.py --check    # regenerate into a temp dir, diff, exit 1 on difference
  /usr/bin/python3 tests/golden/generate.py --out DIR  # write into DIR instead

Files named *.handmade.json belong to the C++ tests and are never written, compared or deleted here.
Standard library only.
"""

import argparse
import copy
import filecmp
import json
import os
import struct
import sys
import tempfile

GOLDEN_DIR = os.path.dirname(os.path.abspath(__file__))
CORRELATION_ID = 0x11223344
UNKNOWN_TAGS = "_unknown_tags"  # key holding [(tag, raw_value_bytes), ...] preserved verbatim in a struct's tag buffer

# ---------------------------------------------------------------------------------------------------------------------
# Encoding primitives (kafka-protocol.md section 4)
# ---------------------------------------------------------------------------------------------------------------------


def enc_int8(v):
    return struct.pack(">b", v)


def enc_int16(v):
    return struct.pack(">h", v)


def enc_uint16(v):
    return struct.pack(">H", v)


def enc_int32(v):
    return struct.pack(">i", v)


def enc_uint32(v):
    return struct.pack(">I", v)


def enc_int64(v):
    return struct.pack(">q", v)


def enc_bool(v):
    return b"\x01" if v else b"\x00"


def enc_uuid(v):
    """UUID as 16 raw bytes (most-significant int64 first); callers pass bytes or a 32-hex-digit string."""
    raw = bytes.fromhex(v.replace("-", "")) if isinstance(v, str) else bytes(v)
    if len(raw) != 16:
        raise ValueError("uuid must be 16 bytes")
    return raw


def enc_uvarint(n):
    """Unsigned LEB128, as ByteUtils.writeUnsignedVarint (at most 5 bytes for 32-bit values)."""
    if n < 0 or n > 0xFFFFFFFF:
        raise ValueError("unsigned varint out of range: %d" % n)
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def enc_varint(n):
    """Signed 32-bit zig-zag varint (record format)."""
    return enc_uvarint(((n << 1) ^ (n >> 31)) & 0xFFFFFFFF)


def enc_varlong(n):
    """Signed 64-bit zig-zag varint (record format)."""
    z = ((n << 1) ^ (n >> 63)) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def enc_string(s, compact):
    """STRING / COMPACT_STRING / their nullable forms (None = null)."""
    if s is None:
        return enc_uvarint(0) if compact else enc_int16(-1)
    raw = s.encode("utf-8")
    if compact:
        return enc_uvarint(len(raw) + 1) + raw
    if len(raw) > 0x7FFF:
        raise ValueError("string too long for int16 length")
    return enc_int16(len(raw)) + raw


def enc_bytes(b, compact):
    """BYTES / COMPACT_BYTES / nullable forms; RECORDS uses the same layout (None = null)."""
    if b is None:
        return enc_uvarint(0) if compact else enc_int32(-1)
    b = bytes(b)
    return (enc_uvarint(len(b) + 1) if compact else enc_int32(len(b))) + b


def enc_array_count(n, compact):
    """ARRAY (int32 count, -1 = null) / COMPACT_ARRAY (uvarint count+1, 0 = null); n None = null."""
    if n is None:
        return enc_uvarint(0) if compact else enc_int32(-1)
    return enc_uvarint(n + 1) if compact else enc_int32(n)


def enc_tag_buffer(tags):
    """TAG_BUFFER: count, then {tag, size, value} in ascending tag order. tags: [(tag, value_bytes)]."""
    ordered = sorted(tags, key=lambda t: t[0])
    seen = [t for t, _ in ordered]
    if len(set(seen)) != len(seen):
        raise ValueError("duplicate tag in tag buffer: %r" % seen)
    out = bytearray(enc_uvarint(len(ordered)))
    for tag, value in ordered:
        out += enc_uvarint(tag) + enc_uvarint(len(value)) + value
    return bytes(out)


def crc32c(data):
    """CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by record batch v2."""
    table = _CRC32C_TABLE
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _make_crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _make_crc32c_table()
assert crc32c(b"123456789") == 0xE3069283  # standard CRC-32C check value


# ---------------------------------------------------------------------------------------------------------------------
# Record batch v2 (section 4, DefaultRecordBatch / DefaultRecord)
# ---------------------------------------------------------------------------------------------------------------------


def encode_record(offset_delta, timestamp_delta, key, value, headers):
    def opt_bytes(b):
        return enc_varint(-1) if b is None else enc_varint(len(b)) + b

    body = bytearray(enc_int8(0))  # attributes (unused)
    body += enc_varlong(timestamp_delta) + enc_varint(offset_delta)
    body += opt_bytes(key) + opt_bytes(value)
    body += enc_varint(len(headers))
    for hkey, hval in headers:
        hk = hkey.encode("utf-8")
        body += enc_varint(len(hk)) + hk + opt_bytes(hval)
    return enc_varint(len(body)) + bytes(body)


def record_batch(base_offset, base_timestamp, records, partition_leader_epoch=0, producer_id=-1, producer_epoch=-1,
                 base_sequence=-1, attributes=0):
    """Uncompressed magic-2 batch. records: [(timestamp_delta, key, value, headers)], offsets consecutive."""
    encoded = b"".join(encode_record(i, ts, k, v, h) for i, (ts, k, v, h) in enumerate(records))
    max_ts = base_timestamp + max(r[0] for r in records)
    after_crc = (enc_int16(attributes) + enc_int32(len(records) - 1) + enc_int64(base_timestamp) + enc_int64(max_ts)
                 + enc_int64(producer_id) + enc_int16(producer_epoch) + enc_int32(base_sequence)
                 + enc_int32(len(records)) + encoded)
    batch_length = 4 + 1 + 4 + len(after_crc)  # PartitionLeaderEpoch + Magic + CRC + rest = total - LOG_OVERHEAD(12)
    batch = (enc_int64(base_offset) + enc_int32(batch_length) + enc_int32(partition_leader_epoch) + enc_int8(2)
             + enc_uint32(crc32c(after_crc)) + after_crc)
    assert len(batch) == batch_length + 12 and len(batch) >= 61
    return batch


# ---------------------------------------------------------------------------------------------------------------------
# Schema description: Struct / Field / ArrayOf, version ranges in Kafka's "N+", "N-M", "N" notation.
# ---------------------------------------------------------------------------------------------------------------------


class Versions:
    def __init__(self, spec):
        self.spec = spec
        if spec == "none":
            self.lo, self.hi = 1, 0
        elif spec.endswith("+"):
            self.lo, self.hi = int(spec[:-1]), 1 << 15
        elif "-" in spec:
            lo, hi = spec.split("-")
            self.lo, self.hi = int(lo), int(hi)
        else:
            self.lo = self.hi = int(spec)

    def __contains__(self, version):
        return self.lo <= version <= self.hi


class ArrayOf:
    def __init__(self, elem):
        self.elem = elem


class Struct:
    """endpoint = (id_field, host_field, port_field) marks a broker endpoint the rewriter must rewrite."""

    def __init__(self, name, fields, endpoint=None):
        self.name = name
        self.fields = fields
        self.endpoint = endpoint
        names = [f.name for f in fields]
        assert len(set(names)) == len(names), name


class Field:
    def __init__(self, name, ftype, versions="0+", nullable="none", tag=None):
        self.name = name
        self.type = ftype
        self.versions = Versions(versions)
        self.nullable = Versions(nullable)
        self.tag = tag


PRIMITIVES = {"int8", "int16", "int32", "int64", "uint16", "bool", "uuid", "string", "records"}


class EncodeContext:
    """Carries the flexible flag and the optional endpoint rewrite (which also records endpoints in wire order)."""

    def __init__(self, version, flexible, advertised=None):
        self.version = version
        self.flexible = flexible
        self.advertised = advertised
        self.endpoints = []

    def visit_endpoint(self, struct_def, value):
        if self.advertised is None:
            return value
        id_field, host_field, port_field = struct_def.endpoint
        node_id = value[id_field]
        if node_id < 0:  # Node.noNode() error entries stay untouched and are not reported
            return value
        self.endpoints.append({"node_id": node_id, "host": value[host_field], "port": value[port_field]})
        rewritten = dict(value)
        rewritten[host_field] = self.advertised["host_template"].replace("{id}", str(node_id))
        rewritten[port_field] = self.advertised["port"]
        return rewritten


def encode_value(ftype, value, nullable, ctx):
    flex = ctx.flexible
    if isinstance(ftype, str):
        if ftype not in PRIMITIVES:
            raise ValueError("unknown type " + ftype)
        if value is None and ftype not in ("string", "records"):
            raise ValueError("null %s" % ftype)
        if value is None and not nullable:
            raise ValueError("null value for non-nullable %s" % ftype)
        if ftype == "int8":
            return enc_int8(value)
        if ftype == "int16":
            return enc_int16(value)
        if ftype == "int32":
            return enc_int32(value)
        if ftype == "int64":
            return enc_int64(value)
        if ftype == "uint16":
            return enc_uint16(value)
        if ftype == "bool":
            return enc_bool(value)
        if ftype == "uuid":
            return enc_uuid(value)
        if ftype == "string":
            return enc_string(value, flex)
        return enc_bytes(value, flex)  # records
    if isinstance(ftype, ArrayOf):
        if value is None:
            if not nullable:
                raise ValueError("null non-nullable array")
            return enc_array_count(None, flex)
        out = bytearray(enc_array_count(len(value), flex))
        for elem in value:
            out += encode_value(ftype.elem, elem, False, ctx)
        return bytes(out)
    if isinstance(ftype, Struct):
        if nullable:  # nullable struct: INT8 marker -1 = null, 1 = present
            if value is None:
                return enc_int8(-1)
            return enc_int8(1) + encode_struct(ftype, value, ctx)
        if value is None:
            raise ValueError("null non-nullable struct " + ftype.name)
        return encode_struct(ftype, value, ctx)
    raise TypeError(ftype)


def encode_struct(struct_def, value, ctx):
    known = {f.name for f in struct_def.fields} | {UNKNOWN_TAGS}
    stray = set(value) - known
    if stray:
        raise ValueError("%s: unknown keys %s" % (struct_def.name, sorted(stray)))
    if struct_def.endpoint is not None:
        value = ctx.visit_endpoint(struct_def, value)
    out = bytearray()
    for f in struct_def.fields:
        if f.tag is not None or ctx.version not in f.versions:
            continue
        if f.name not in value:
            raise ValueError("%s.%s missing at v%d" % (struct_def.name, f.name, ctx.version))
        out += encode_value(f.type, value[f.name], ctx.version in f.nullable, ctx)
    if ctx.flexible:
        tags = []
        for f in struct_def.fields:
            # A tagged field equal to its default is omitted; the builders express that by leaving it out / None.
            if f.tag is None or ctx.version not in f.versions or value.get(f.name) is None:
                continue
            tags.append((f.tag, encode_value(f.type, value[f.name], ctx.version in f.nullable, ctx)))
        tags.extend((t, bytes(raw)) for t, raw in value.get(UNKNOWN_TAGS, []))
        out += enc_tag_buffer(tags)
    elif value.get(UNKNOWN_TAGS):
        raise ValueError("unknown tags in a non-flexible version")
    return bytes(out)


# ---------------------------------------------------------------------------------------------------------------------
# Message schemas (kafka-protocol.md section 1.2)
# ---------------------------------------------------------------------------------------------------------------------

NODE_ENDPOINT = Struct("NodeEndpoint", [
    Field("NodeId", "int32"), Field("Host", "string"), Field("Port", "int32"),
    Field("Rack", "string", nullable="0+"),
], endpoint=("NodeId", "Host", "Port"))

LEADER_ID_AND_EPOCH = Struct("LeaderIdAndEpoch", [Field("LeaderId", "int32"), Field("LeaderEpoch", "int32")])

METADATA = Struct("MetadataResponse", [
    Field("ThrottleTimeMs", "int32", "3+"),
    Field("Brokers", ArrayOf(Struct("MetadataResponseBroker", [
        Field("NodeId", "int32"), Field("Host", "string"), Field("Port", "int32"),
        Field("Rack", "string", "1+", nullable="1+"),
    ], endpoint=("NodeId", "Host", "Port")))),
    Field("ClusterId", "string", "2+", nullable="2+"),
    Field("ControllerId", "int32", "1+"),
    Field("Topics", ArrayOf(Struct("MetadataResponseTopic", [
        Field("ErrorCode", "int16"),
        Field("Name", "string", nullable="12+"),
        Field("TopicId", "uuid", "10+"),
        Field("IsInternal", "bool", "1+"),
        Field("Partitions", ArrayOf(Struct("MetadataResponsePartition", [
            Field("ErrorCode", "int16"), Field("PartitionIndex", "int32"), Field("LeaderId", "int32"),
            Field("LeaderEpoch", "int32", "7+"),
            Field("ReplicaNodes", ArrayOf("int32")), Field("IsrNodes", ArrayOf("int32")),
            Field("OfflineReplicas", ArrayOf("int32"), "5+"),
        ]))),
        Field("TopicAuthorizedOperations", "int32", "8+"),
    ]))),
    Field("ClusterAuthorizedOperations", "int32", "8-10"),
    Field("ErrorCode", "int16", "13+"),
])

FIND_COORDINATOR_SINGLE = Struct("FindCoordinatorResponse(v0-3)", [
    Field("ThrottleTimeMs", "int32", "1+"), Field("ErrorCode", "int16"),
    Field("ErrorMessage", "string", "1+", nullable="1+"),
    Field("NodeId", "int32"), Field("Host", "string"), Field("Port", "int32"),
], endpoint=("NodeId", "Host", "Port"))

FIND_COORDINATOR_BATCHED = Struct("FindCoordinatorResponse(v4+)", [
    Field("ThrottleTimeMs", "int32"),
    Field("Coordinators", ArrayOf(Struct("Coordinator", [
        Field("Key", "string"), Field("NodeId", "int32"), Field("Host", "string"), Field("Port", "int32"),
        Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    ], endpoint=("NodeId", "Host", "Port")))),
])

DESCRIBE_CLUSTER = Struct("DescribeClusterResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    Field("EndpointType", "int8", "1+"), Field("ClusterId", "string"), Field("ControllerId", "int32"),
    Field("Brokers", ArrayOf(Struct("DescribeClusterBroker", [
        Field("BrokerId", "int32"), Field("Host", "string"), Field("Port", "int32"),
        Field("Rack", "string", nullable="0+"), Field("IsFenced", "bool", "2+"),
    ], endpoint=("BrokerId", "Host", "Port")))),
    Field("ClusterAuthorizedOperations", "int32"),
])

API_VERSIONS = Struct("ApiVersionsResponse", [
    Field("ErrorCode", "int16"),
    Field("ApiKeys", ArrayOf(Struct("ApiVersion", [
        Field("ApiKey", "int16"), Field("MinVersion", "int16"), Field("MaxVersion", "int16")]))),
    Field("ThrottleTimeMs", "int32", "1+"),
    Field("SupportedFeatures", ArrayOf(Struct("SupportedFeatureKey", [
        Field("Name", "string"), Field("MinVersion", "int16"), Field("MaxVersion", "int16")])), "3+", tag=0),
    Field("FinalizedFeaturesEpoch", "int64", "3+", tag=1),
    Field("FinalizedFeatures", ArrayOf(Struct("FinalizedFeatureKey", [
        Field("Name", "string"), Field("MaxVersionLevel", "int16"), Field("MinVersionLevel", "int16")])), "3+", tag=2),
    Field("ZkMigrationReady", "bool", "3+", tag=3),
])

PRODUCE = Struct("ProduceResponse", [
    Field("Responses", ArrayOf(Struct("TopicProduceResponse", [
        Field("Name", "string", "0-12"), Field("TopicId", "uuid", "13+"),
        Field("PartitionResponses", ArrayOf(Struct("PartitionProduceResponse", [
            Field("Index", "int32"), Field("ErrorCode", "int16"), Field("BaseOffset", "int64"),
            Field("LogAppendTimeMs", "int64", "2+"), Field("LogStartOffset", "int64", "5+"),
            Field("RecordErrors", ArrayOf(Struct("BatchIndexAndErrorMessage", [
                Field("BatchIndex", "int32"), Field("BatchIndexErrorMessage", "string", nullable="0+")])), "8+"),
            Field("ErrorMessage", "string", "8+", nullable="8+"),
            Field("CurrentLeader", LEADER_ID_AND_EPOCH, "10+", tag=0),
        ]))),
    ]))),
    Field("ThrottleTimeMs", "int32", "1+"),
    Field("NodeEndpoints", ArrayOf(NODE_ENDPOINT), "10+", tag=0),
])

FETCH = Struct("FetchResponse", [
    Field("ThrottleTimeMs", "int32", "1+"), Field("ErrorCode", "int16", "7+"), Field("SessionId", "int32", "7+"),
    Field("Responses", ArrayOf(Struct("FetchableTopicResponse", [
        Field("Topic", "string", "0-12"), Field("TopicId", "uuid", "13+"),
        Field("Partitions", ArrayOf(Struct("PartitionData", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"), Field("HighWatermark", "int64"),
            Field("LastStableOffset", "int64", "4+"), Field("LogStartOffset", "int64", "5+"),
            Field("AbortedTransactions", ArrayOf(Struct("AbortedTransaction", [
                Field("ProducerId", "int64"), Field("FirstOffset", "int64")])), "4+", nullable="4+"),
            Field("PreferredReadReplica", "int32", "11+"),
            Field("Records", "records", nullable="0+"),
            Field("DivergingEpoch", Struct("EpochEndOffset", [
                Field("Epoch", "int32"), Field("EndOffset", "int64")]), "12+", tag=0),
            Field("CurrentLeader", LEADER_ID_AND_EPOCH, "12+", tag=1),
            Field("SnapshotId", Struct("SnapshotId", [
                Field("EndOffset", "int64"), Field("Epoch", "int32")]), "12+", tag=2),
        ]))),
    ]))),
    Field("NodeEndpoints", ArrayOf(NODE_ENDPOINT), "16+", tag=0),
])

SHARE_FETCH = Struct("ShareFetchResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    Field("AcquisitionLockTimeoutMs", "int32", "1+"),
    Field("Responses", ArrayOf(Struct("ShareFetchableTopicResponse", [
        Field("TopicId", "uuid"),
        Field("Partitions", ArrayOf(Struct("ShareFetchPartitionData", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"),
            Field("ErrorMessage", "string", nullable="0+"),
            Field("AcknowledgeErrorCode", "int16"), Field("AcknowledgeErrorMessage", "string", nullable="0+"),
            Field("CurrentLeader", LEADER_ID_AND_EPOCH),
            Field("Records", "records", nullable="0+"),
            Field("AcquiredRecords", ArrayOf(Struct("AcquiredRecords", [
                Field("FirstOffset", "int64"), Field("LastOffset", "int64"), Field("DeliveryCount", "int16")]))),
        ]))),
    ]))),
    Field("NodeEndpoints", ArrayOf(NODE_ENDPOINT)),
])

SHARE_ACKNOWLEDGE = Struct("ShareAcknowledgeResponse", [
    Field("ThrottleTimeMs", "int32"), Field("ErrorCode", "int16"), Field("ErrorMessage", "string", nullable="0+"),
    Field("AcquisitionLockTimeoutMs", "int32", "2+"),
    Field("Responses", ArrayOf(Struct("ShareAcknowledgeTopicResponse", [
        Field("TopicId", "uuid"),
        Field("Partitions", ArrayOf(Struct("ShareAcknowledgePartitionData", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"),
            Field("ErrorMessage", "string", nullable="0+"),
            Field("CurrentLeader", LEADER_ID_AND_EPOCH),
        ]))),
    ]))),
    Field("NodeEndpoints", ArrayOf(NODE_ENDPOINT)),
])

REPLICA_STATE = Struct("ReplicaState", [
    Field("ReplicaId", "int32"), Field("ReplicaDirectoryId", "uuid", "2+"), Field("LogEndOffset", "int64"),
    Field("LastFetchTimestamp", "int64", "1+"), Field("LastCaughtUpTimestamp", "int64", "1+"),
])

DESCRIBE_QUORUM = Struct("DescribeQuorumResponse", [
    Field("ErrorCode", "int16"), Field("ErrorMessage", "string", "2+", nullable="2+"),
    Field("Topics", ArrayOf(Struct("TopicData", [
        Field("TopicName", "string"),
        Field("Partitions", ArrayOf(Struct("PartitionData", [
            Field("PartitionIndex", "int32"), Field("ErrorCode", "int16"),
            Field("ErrorMessage", "string", "2+", nullable="2+"),
            Field("LeaderId", "int32"), Field("LeaderEpoch", "int32"), Field("HighWatermark", "int64"),
            Field("CurrentVoters", ArrayOf(REPLICA_STATE)), Field("Observers", ArrayOf(REPLICA_STATE)),
        ]))),
    ]))),
    # Controller listeners (uint16 port). kedge clamps DescribeQuorum and never rewrites it: no endpoint marker.
    Field("Nodes", ArrayOf(Struct("Node", [
        Field("NodeId", "int32"),
        Field("Listeners", ArrayOf(Struct("Listener", [
            Field("Name", "string"), Field("Host", "string"), Field("Port", "uint16")]))),
    ])), "2+"),
])


class Api:
    def __init__(self, key, file_name, flexible_from, schema_for_version, rewrites):
        self.key = key
        self.file_name = file_name
        self.flexible = Versions("%d+" % flexible_from)
        self.schema_for_version = schema_for_version
        self.rewrites = rewrites  # False: kedge never changes this API's frames


METADATA_API = Api(3, "metadata", 9, lambda v: METADATA, True)
FIND_COORDINATOR_API = Api(10, "find_coordinator", 3,
                           lambda v: FIND_COORDINATOR_SINGLE if v <= 3 else FIND_COORDINATOR_BATCHED, True)
DESCRIBE_CLUSTER_API = Api(60, "describe_cluster", 0, lambda v: DESCRIBE_CLUSTER, True)
API_VERSIONS_API = Api(18, "api_versions", 3, lambda v: API_VERSIONS, True)
PRODUCE_API = Api(0, "produce", 9, lambda v: PRODUCE, True)
FETCH_API = Api(1, "fetch", 12, lambda v: FETCH, True)
SHARE_FETCH_API = Api(78, "share_fetch", 0, lambda v: SHARE_FETCH, True)
SHARE_ACKNOWLEDGE_API = Api(79, "share_acknowledge", 0, lambda v: SHARE_ACKNOWLEDGE, True)
DESCRIBE_QUORUM_API = Api(55, "describe_quorum", 0, lambda v: DESCRIBE_QUORUM, False)


# ---------------------------------------------------------------------------------------------------------------------
# Framing (section 2) and the rewrite rules (GOLDEN_FORMAT.md)
# ---------------------------------------------------------------------------------------------------------------------

# Max version kedge lets clients negotiate, and keys it removes from ApiVersions (GOLDEN_FORMAT.md clamp table).
API_VERSIONS_CLAMP = {0: 13, 1: 18, 3: 13, 10: 6, 18: 4, 55: 1, 60: 2, 78: 2, 79: 2}
API_VERSIONS_REMOVED = {52, 53, 54, 59, 82}


def clamp_api_versions(message):
    clamped = copy.deepcopy(message)
    kept = []
    for entry in clamped["ApiKeys"]:
        key = entry["ApiKey"]
        if key in API_VERSIONS_REMOVED:
            continue
        limit = API_VERSIONS_CLAMP.get(key)
        if limit is not None:
            if entry["MinVersion"] > limit:
                continue
            entry["MaxVersion"] = min(entry["MaxVersion"], limit)
        kept.append(entry)
    clamped["ApiKeys"] = kept
    return clamped


def encode_frame(api, version, message, advertised=None, body_version=None):
    """Whole response frame: int32 size, response header, body. Returns (bytes, endpoints reported by rewrite)."""
    body_version = version if body_version is None else body_version
    flexible_body = body_version in api.flexible
    ctx = EncodeContext(body_version, flexible_body, advertised)
    body = encode_struct(api.schema_for_version(body_version), message, ctx)
    # Response header v1 (adds a tag buffer) for flexible versions, except ApiVersions which is always v0 (KIP-511).
    header = enc_int32(CORRELATION_ID)
    if version in api.flexible and api.key != 18:
        header += enc_tag_buffer([])
    payload = header + body
    return enc_int32(len(payload)) + payload, ctx.endpoints


DEFAULT_ADVERTISED = {"host_template": "broker-{id}.kafka.example.com", "port": 9443}
SHARED_SUFFIX_ADVERTISED = {"host_template": "broker-{id}-alpha.kafka.example.com", "port": 443}


class Case:
    def __init__(self, api, version, variant, description, message, advertised=None, body_version=None):
        self.api = api
        self.version = version
        self.variant = variant
        self.description = description
        self.message = message
        self.advertised = advertised or DEFAULT_ADVERTISED
        self.body_version = body_version

    @property
    def file_name(self):
        suffix = "" if self.variant is None else "." + self.variant
        return "%s.v%d%s.json" % (self.api.file_name, self.version, suffix)

    def to_json(self):
        response, _ = encode_frame(self.api, self.version, self.message, None, self.body_version)
        endpoints = []
        if not self.api.rewrites:
            expected = response
        elif self.api.key == 18:
            expected, _ = encode_frame(self.api, self.version, clamp_api_versions(self.message), None,
                                       self.body_version)
        else:
            expected, endpoints = encode_frame(self.api, self.version, self.message, self.advertised,
                                               self.body_version)
        for frame in (response, expected):
            assert struct.unpack(">i", frame[:4])[0] == len(frame) - 4
            assert struct.unpack(">i", frame[4:8])[0] == CORRELATION_ID
        doc = {
            "api_key": self.api.key,
            "api_version": self.version,
            "description": self.description,
            "advertised": {"host_template": self.advertised["host_template"], "port": self.advertised["port"]},
            "response_hex": response.hex(),
            "expected_hex": expected.hex(),
            "endpoints": endpoints,
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------------------------------
# Logical messages
# ---------------------------------------------------------------------------------------------------------------------

CLUSTER_ID = "q1Sh-9_ISia_zwGINzRvyQ"
TOPIC_ID_ORDERS = "5d3c9b1a7e2f4c80a1b2c3d4e5f60718"
TOPIC_ID_PAYMENTS = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
INT32_MIN = -2147483648  # authorized-operations value meaning "not requested"
NOT_LEADER_OR_FOLLOWER = 6
COORDINATOR_NOT_AVAILABLE = 15
UNSUPPORTED_VERSION = 35

BROKER_0 = {"NodeId": 0, "Host": "10.0.0.5", "Port": 9092, "Rack": "use1-az1"}
BROKER_1 = {"NodeId": 1, "Host": "10.0.0.6", "Port": 9093, "Rack": None}
BROKER_2 = {"NodeId": 2, "Host": "kafka-2.internal.corp", "Port": 9092, "Rack": "use1-az3"}
# Raw unknown tags: the rewriter must carry these bytes through verbatim.
UNKNOWN_TAG_BROKER = (7, bytes.fromhex("0b6b656467652d74657374"))  # compact string "kedge-test"
UNKNOWN_TAG_TOP = (42, bytes.fromhex("deadbeef"))
UNKNOWN_TAG_TOPIC = (5, bytes.fromhex("01"))
UNKNOWN_TAG_PARTITION = (130, bytes.fromhex("00000000000000ff"))  # tag number needs a 2-byte varint


def sample_records(base_offset, base_timestamp, partition_leader_epoch):
    return record_batch(base_offset, base_timestamp, [
        (0, b"order-1001", b'{"id":1001,"amount":25.5}', [("trace-id", b"4bf92f3577b34da6")]),
        (3, b"order-1002", b'{"id":1002,"amount":7}', []),
        (5, None, b"tombstone-less value", [("origin", None)]),
    ], partition_leader_epoch=partition_leader_epoch)


def metadata_message(version, brokers=None, cluster_id=CLUSTER_ID, null_topic_name=False, unknown_tags=False,
                     broker_unknown_tag=True):
    flexible = version >= 9
    if brokers is None:
        brokers = [dict(BROKER_0), dict(BROKER_1), dict(BROKER_2)]
    else:
        brokers = [dict(b) for b in brokers]
    if flexible and broker_unknown_tag and len(brokers) >= 3:
        brokers[2][UNKNOWN_TAGS] = [UNKNOWN_TAG_BROKER]
    partitions_orders = [
        {"ErrorCode": 0, "PartitionIndex": 0, "LeaderId": 0, "LeaderEpoch": 12, "ReplicaNodes": [0, 1, 2],
         "IsrNodes": [0, 1, 2], "OfflineReplicas": []},
        {"ErrorCode": 0, "PartitionIndex": 1, "LeaderId": 1, "LeaderEpoch": 9, "ReplicaNodes": [1, 2, 0],
         "IsrNodes": [1, 2], "OfflineReplicas": []},
        {"ErrorCode": 0, "PartitionIndex": 2, "LeaderId": 2, "LeaderEpoch": 15, "ReplicaNodes": [2, 0, 1],
         "IsrNodes": [2, 0, 1], "OfflineReplicas": []},
    ]
    partitions_payments = [
        # LEADER_NOT_AVAILABLE (5): leader offline; offline replica reported from v5.
        {"ErrorCode": 5, "PartitionIndex": 0, "LeaderId": -1, "LeaderEpoch": 4, "ReplicaNodes": [2, 1],
         "IsrNodes": [1], "OfflineReplicas": [2]},
    ]
    topics = [
        {"ErrorCode": 0, "Name": "orders", "TopicId": TOPIC_ID_ORDERS, "IsInternal": False,
         "Partitions": partitions_orders, "TopicAuthorizedOperations": 3576},
        {"ErrorCode": 0, "Name": None if null_topic_name else "payments", "TopicId": TOPIC_ID_PAYMENTS,
         "IsInternal": False, "Partitions": partitions_payments, "TopicAuthorizedOperations": INT32_MIN},
    ]
    message = {"ThrottleTimeMs": 0, "Brokers": brokers, "ClusterId": cluster_id, "ControllerId": 1,
               "Topics": topics, "ClusterAuthorizedOperations": INT32_MIN, "ErrorCode": 0}
    if unknown_tags:
        message[UNKNOWN_TAGS] = [UNKNOWN_TAG_TOP]
        topics[0][UNKNOWN_TAGS] = [UNKNOWN_TAG_TOPIC]
        partitions_orders[1][UNKNOWN_TAGS] = [UNKNOWN_TAG_PARTITION]
    return message


def metadata_cases():
    cases = []
    for v in range(0, 14):
        desc = "Metadata v%d%s, 3 brokers (10.0.0.5:9092, 10.0.0.6:9093, kafka-2.internal.corp:9092)" % (
            v, " (flexible)" if v >= 9 else "")
        if v >= 1:
            desc += ", broker 1 has a null rack"
        if v >= 9:
            desc += ", unknown tag 7 on broker 2"
        desc += ", 2 topics (payments partition 0 leaderless)"
        cases.append(Case(METADATA_API, v, None, desc, metadata_message(v)))
    for v in (2, 9, 12):
        cases.append(Case(METADATA_API, v, "null_cluster_id", "Metadata v%d with a null ClusterId" % v,
                          metadata_message(v, cluster_id=None)))
    for v in (12, 13):
        cases.append(Case(METADATA_API, v, "null_topic_name",
                          "Metadata v%d, second topic has a null Name (topic-id lookup)" % v,
                          metadata_message(v, null_topic_name=True)))
    for v in (9, 12, 13):
        cases.append(Case(METADATA_API, v, "unknown_tags",
                          "Metadata v%d, unknown tags on broker 2, topic 0, partition 1 (tag 130) and top level" % v,
                          metadata_message(v, unknown_tags=True)))
    for v in (0, 9, 13):
        cases.append(Case(METADATA_API, v, "no_brokers", "Metadata v%d with an empty Brokers array" % v,
                          metadata_message(v, brokers=[])))
    long_host = "kafka-broker-0." + "very-long-subdomain-label." * 4 + "eu-west-1.compute.internal"
    for v in (1, 9):
        cases.append(Case(METADATA_API, v, "long_host",
                          "Metadata v%d, broker 0 host is %d bytes (compact length varint shrinks 2->1 byte on rewrite)"
                          % (v, len(long_host)),
                          metadata_message(v, brokers=[dict(BROKER_0, Host=long_host), BROKER_1, BROKER_2])))
    cases.append(Case(METADATA_API, 12, "shared_suffix",
                      "Metadata v12 rewritten to the shared-suffix form broker-{id}-alpha, port 443",
                      metadata_message(12), advertised=SHARED_SUFFIX_ADVERTISED))
    return cases


def find_coordinator_cases():
    cases = []
    for v in range(0, 4):
        ok = {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "NodeId": 2,
              "Host": "kafka-2.internal.corp", "Port": 9092}
        cases.append(Case(FIND_COORDINATOR_API, v, None,
                          "FindCoordinator v%d single form, coordinator node 2 kafka-2.internal.corp:9092" % v, ok))
        err = {"ThrottleTimeMs": 0, "ErrorCode": COORDINATOR_NOT_AVAILABLE,
               "ErrorMessage": "The coordinator is not available.", "NodeId": -1, "Host": "", "Port": -1}
        cases.append(Case(FIND_COORDINATOR_API, v, "error",
                          "FindCoordinator v%d COORDINATOR_NOT_AVAILABLE: NodeId -1, Host \"\", Port -1 (not rewritten)"
                          % v, err))
    good = [
        {"Key": "orders-consumer", "NodeId": 0, "Host": "10.0.0.5", "Port": 9092, "ErrorCode": 0,
         "ErrorMessage": None},
        {"Key": "billing-service", "NodeId": 2, "Host": "kafka-2.internal.corp", "Port": 9092, "ErrorCode": 0,
         "ErrorMessage": None},
    ]
    error_entry = {"Key": "audit-group", "NodeId": -1, "Host": "", "Port": -1,
                   "ErrorCode": COORDINATOR_NOT_AVAILABLE, "ErrorMessage": "The coordinator is not available."}
    for v in range(4, 7):
        cases.append(Case(FIND_COORDINATOR_API, v, None, "FindCoordinator v%d batched, 2 coordinators" % v,
                          {"ThrottleTimeMs": 0, "Coordinators": copy.deepcopy(good)}))
        cases.append(Case(FIND_COORDINATOR_API, v, "error_entry",
                          "FindCoordinator v%d batched, error entry (NodeId -1) between two good keys stays untouched"
                          % v,
                          {"ThrottleTimeMs": 5, "Coordinators": [good[0], error_entry, dict(good[1], Key="txn-app-1",
                                                                                             NodeId=1, Host="10.0.0.6",
                                                                                             Port=9093)]}))
    share_key = "share-analytics:%s:3" % "XTybGn4vTIChssPU5fYHGA"
    cases.append(Case(FIND_COORDINATOR_API, 6, "share_key", "FindCoordinator v6 share-group key group:topicId:partition",
                      {"ThrottleTimeMs": 0, "Coordinators": [
                          {"Key": share_key, "NodeId": 1, "Host": "10.0.0.6", "Port": 9093, "ErrorCode": 0,
                           "ErrorMessage": None}], UNKNOWN_TAGS: [UNKNOWN_TAG_TOP]}))
    cases.append(Case(FIND_COORDINATOR_API, 4, "empty", "FindCoordinator v4 with an empty Coordinators array",
                      {"ThrottleTimeMs": 0, "Coordinators": []}))
    return cases


def describe_cluster_cases():
    cases = []

    def message(v, endpoint_type=1, brokers=None):
        brokers = brokers or [dict(BROKER_0, BrokerId=0), dict(BROKER_1, BrokerId=1), dict(BROKER_2, BrokerId=2)]
        rows = []
        for b in brokers:
            row = {"BrokerId": b["BrokerId"], "Host": b["Host"], "Port": b["Port"], "Rack": b["Rack"],
                   "IsFenced": b.get("IsFenced", False)}
            rows.append(row)
        return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "EndpointType": endpoint_type,
                "ClusterId": CLUSTER_ID, "ControllerId": 1, "Brokers": rows, "ClusterAuthorizedOperations": INT32_MIN}

    for v in range(0, 3):
        brokers = [dict(BROKER_0, BrokerId=0), dict(BROKER_1, BrokerId=1),
                   dict(BROKER_2, BrokerId=2, IsFenced=(v >= 2))]
        desc = "DescribeCluster v%d, 3 brokers, broker 1 null rack" % v
        if v >= 1:
            desc += ", EndpointType 1 (brokers)"
        if v >= 2:
            desc += ", broker 2 IsFenced"
        cases.append(Case(DESCRIBE_CLUSTER_API, v, None, desc, message(v, brokers=brokers)))
    controllers = [{"BrokerId": 3000 + i, "Host": "10.0.1.%d" % (10 + i), "Port": 9094, "Rack": None}
                   for i in range(3)]
    for v in (1, 2):
        cases.append(Case(DESCRIBE_CLUSTER_API, v, "controllers",
                          "DescribeCluster v%d, EndpointType 2 (controllers, KIP-919) listing 3 controllers" % v,
                          dict(message(v, endpoint_type=2, brokers=controllers), ControllerId=3001)))
    tagged = message(2)
    tagged["Brokers"][0][UNKNOWN_TAGS] = [UNKNOWN_TAG_BROKER]
    tagged[UNKNOWN_TAGS] = [UNKNOWN_TAG_TOP]
    cases.append(Case(DESCRIBE_CLUSTER_API, 2, "unknown_tags",
                      "DescribeCluster v2, unknown tags on broker 0 and top level", tagged))
    return cases


# 4.3.1 broker-listener ApiVersions list (kafka-protocol.md section 3, keys with L containing B).
# Produce advertises MinVersion 0 (KAFKA-18659); InitProducerId v6 is unstable, so 0..5.
BROKER_API_RANGES_4_3_1 = [
    (0, 0, 13), (1, 4, 18), (2, 1, 11), (3, 0, 13), (8, 2, 10), (9, 1, 10), (10, 0, 6), (11, 0, 9), (12, 0, 4),
    (13, 0, 5), (14, 0, 5), (15, 0, 6), (16, 0, 5), (17, 0, 1), (18, 0, 4), (19, 2, 7), (20, 1, 6), (21, 0, 2),
    (22, 0, 5), (23, 2, 4), (24, 0, 5), (25, 0, 4), (26, 0, 5), (27, 1, 2), (28, 0, 5), (29, 1, 3), (30, 1, 3),
    (31, 1, 3), (32, 1, 4), (33, 0, 2), (34, 1, 2), (35, 1, 5), (36, 0, 2), (37, 0, 3), (38, 1, 3), (39, 1, 2),
    (40, 1, 2), (41, 1, 3), (42, 0, 2), (43, 0, 2), (44, 0, 1), (45, 0, 1), (46, 0, 0), (47, 0, 0), (48, 0, 1),
    (49, 0, 1), (50, 0, 0), (51, 0, 0), (55, 0, 2), (57, 0, 2), (60, 0, 2), (61, 0, 0), (64, 0, 0), (65, 0, 0),
    (66, 0, 2), (68, 0, 1), (69, 0, 1), (71, 0, 0), (72, 0, 0), (74, 0, 1), (75, 0, 0), (76, 1, 1), (77, 1, 1),
    (78, 1, 2), (79, 1, 2), (80, 0, 1), (81, 0, 0), (83, 0, 0), (84, 0, 0), (85, 0, 1), (86, 0, 0), (87, 0, 1),
    (88, 0, 0), (89, 0, 0), (90, 0, 1), (91, 0, 0), (92, 0, 0),
]

# Controller-only Raft APIs (kedge removes them) as a combined-mode / controller listener would list them.
RAFT_API_RANGES = [(52, 0, 2), (53, 0, 1), (54, 0, 1), (59, 0, 1), (82, 0, 0)]
PROPRIETARY_API = (10000, 0, 3)


def api_keys(ranges):
    return [{"ApiKey": k, "MinVersion": lo, "MaxVersion": hi} for k, lo, hi in sorted(ranges)]


def api_versions_message(version, ranges):
    message = {"ErrorCode": 0, "ApiKeys": api_keys(ranges), "ThrottleTimeMs": 0}
    if version >= 3:
        features = [("metadata.version", 7, 29), ("kraft.version", 0, 1), ("transaction.version", 0, 2),
                    ("group.version", 0, 1), ("eligible.leader.replicas.version", 0, 1), ("share.version", 0, 1),
                    ("streams.version", 0, 1)]
        if version == 3:  # v3 omits features whose MinVersion is 0 (KAFKA-17011, fixed by v4)
            features = [f for f in features if f[1] > 0]
        message["SupportedFeatures"] = [{"Name": n, "MinVersion": lo, "MaxVersion": hi} for n, lo, hi in features]
        message["FinalizedFeaturesEpoch"] = 184467
        message["FinalizedFeatures"] = [
            {"Name": "metadata.version", "MaxVersionLevel": 29, "MinVersionLevel": 29},
            {"Name": "transaction.version", "MaxVersionLevel": 2, "MinVersionLevel": 2},
            {"Name": "group.version", "MaxVersionLevel": 1, "MinVersionLevel": 1},
        ]
    return message


def api_versions_cases():
    cases = []
    for v in range(0, 5):
        cases.append(Case(API_VERSIONS_API, v, None,
                          "ApiVersions v%d, Kafka 4.3.1 broker listener list (%d keys); DescribeQuorum 0..2 clamped to"
                          " max 1%s" % (v, len(BROKER_API_RANGES_4_3_1),
                                        ", top-level feature tags 0/1/2" if v >= 3 else ""),
                          api_versions_message(v, BROKER_API_RANGES_4_3_1)))
    for v in (0, 3, 4):
        ranges = BROKER_API_RANGES_4_3_1 + RAFT_API_RANGES + [PROPRIETARY_API]
        cases.append(Case(API_VERSIONS_API, v, "raft_and_proprietary",
                          "ApiVersions v%d, list also carries Vote/BeginQuorumEpoch/EndQuorumEpoch/FetchSnapshot/"
                          "UpdateRaftVoter (removed) and proprietary key 10000 0..3 (passes through)" % v,
                          api_versions_message(v, ranges)))
    future = {k: (lo, hi) for k, lo, hi in BROKER_API_RANGES_4_3_1}
    future.update({0: (3, 14), 1: (4, 19), 3: (0, 14), 10: (0, 7), 18: (0, 5), 60: (0, 3), 78: (3, 4),
                   79: (1, 3), 55: (0, 3), 93: (0, 0), 94: (0, 0)})
    future_ranges = [(k, lo, hi) for k, (lo, hi) in future.items()]
    msg = api_versions_message(4, future_ranges)
    msg[UNKNOWN_TAGS] = [(4, bytes.fromhex("01"))]
    cases.append(Case(API_VERSIONS_API, 4, "future_broker",
                      "ApiVersions v4 from a hypothetical newer broker: Produce/Fetch/Metadata/FindCoordinator/"
                      "ApiVersions/DescribeCluster/ShareAcknowledge/DescribeQuorum max lowered to the clamp, ShareFetch"
                      " 3..4 removed (MinVersion > clamp), keys 93/94 pass through, unknown top-level tag 4 kept",
                      msg))
    for v in (3, 4):
        error_body = {"ErrorCode": UNSUPPORTED_VERSION, "ApiKeys": api_keys([(18, 0, 4)])}
        cases.append(Case(API_VERSIONS_API, v, "unsupported_version",
                          "ApiVersions request v%d answered with UNSUPPORTED_VERSION (35): v0-format body listing "
                          "ApiVersions 0..4, header v0" % v, error_body, body_version=0))
    return cases


def produce_partition(index, version, error=0, leader=None, record_error=False):
    p = {"Index": index, "ErrorCode": error, "BaseOffset": -1 if error else 48213 + 100 * index,
         "LogAppendTimeMs": -1, "LogStartOffset": -1 if error else 1200 * index,
         "RecordErrors": [], "ErrorMessage": None}
    if error == NOT_LEADER_OR_FOLLOWER:
        p["ErrorMessage"] = "This server is not the leader for that topic-partition."
    if record_error:
        p["ErrorCode"] = 87  # INVALID_RECORD
        p["BaseOffset"] = -1
        p["RecordErrors"] = [{"BatchIndex": 1, "BatchIndexErrorMessage": "Compacted topic cannot accept null key"},
                             {"BatchIndex": 4, "BatchIndexErrorMessage": None}]
        p["ErrorMessage"] = "One or more records have been rejected"
    if leader is not None:
        p["CurrentLeader"] = {"LeaderId": leader[0], "LeaderEpoch": leader[1]}
    return p


def produce_message(version, with_endpoints, endpoints=None):
    if with_endpoints:
        orders_parts = [produce_partition(0, version),
                        produce_partition(1, version, NOT_LEADER_OR_FOLLOWER, leader=(2, 16)),
                        produce_partition(2, version, NOT_LEADER_OR_FOLLOWER, leader=(0, 13))]
    else:
        orders_parts = [produce_partition(0, version), produce_partition(1, version),
                        produce_partition(2, version, record_error=version >= 8)]
    payments_parts = [produce_partition(0, version)]
    message = {
        "Responses": [
            {"Name": "orders", "TopicId": TOPIC_ID_ORDERS, "PartitionResponses": orders_parts},
            {"Name": "payments", "TopicId": TOPIC_ID_PAYMENTS, "PartitionResponses": payments_parts},
        ],
        "ThrottleTimeMs": 0,
    }
    if with_endpoints:
        message["NodeEndpoints"] = endpoints if endpoints is not None else [dict(BROKER_2, Rack=None),
                                                                             dict(BROKER_0)]
    return message


def many_endpoints():
    """Five short-host endpoints: the NodeEndpoints tag size fits in 1 varint byte before the rewrite, 2 after."""
    return [{"NodeId": i, "Host": "10.0.0.%d" % (5 + i), "Port": 9092, "Rack": None} for i in range(5)]


def produce_cases():
    cases = []
    for v in range(3, 10):
        cases.append(Case(PRODUCE_API, v, None,
                          "Produce v%d, 2 topics, no endpoints (expected == response)%s" % (
                              v, "; partition 2 has RecordErrors" if v >= 8 else ""),
                          produce_message(v, False)))
    for v in range(10, 14):
        topic = "TopicId" if v >= 13 else "Name"
        cases.append(Case(PRODUCE_API, v, "no_node_endpoints",
                          "Produce v%d (topics by %s), no NodeEndpoints tag: expected == response" % (v, topic),
                          produce_message(v, False)))
        cases.append(Case(PRODUCE_API, v, "node_endpoints",
                          "Produce v%d (topics by %s), 2 partitions NOT_LEADER_OR_FOLLOWER with CurrentLeader tag, "
                          "top-level tag 0 NodeEndpoints for nodes 2 and 0" % (v, topic),
                          produce_message(v, True)))
    cases.append(Case(PRODUCE_API, 10, "tag_size_growth",
                      "Produce v10, 5 NodeEndpoints with short hosts: tag 0 size varint grows from 1 to 2 bytes",
                      produce_message(10, True, endpoints=many_endpoints())))
    msg = produce_message(13, True)
    msg[UNKNOWN_TAGS] = [(1, bytes.fromhex("00")), UNKNOWN_TAG_TOP]
    msg["NodeEndpoints"][0][UNKNOWN_TAGS] = [UNKNOWN_TAG_BROKER]
    cases.append(Case(PRODUCE_API, 13, "unknown_tags",
                      "Produce v13 NodeEndpoints with unknown top-level tags 1 and 42 around tag 0, unknown tag on an "
                      "endpoint", msg))
    return cases


def fetch_partition(version, index, records, error=0, aborted=None, leader=None, diverging=None, snapshot=None,
                    preferred=-1):
    p = {"PartitionIndex": index, "ErrorCode": error, "HighWatermark": -1 if error else 1003 + index,
         "LastStableOffset": -1 if error else 1000 + index, "LogStartOffset": -1 if error else 0,
         "AbortedTransactions": aborted, "PreferredReadReplica": preferred, "Records": records}
    if leader is not None:
        p["CurrentLeader"] = {"LeaderId": leader[0], "LeaderEpoch": leader[1]}
    if diverging is not None:
        p["DivergingEpoch"] = {"Epoch": diverging[0], "EndOffset": diverging[1]}
    if snapshot is not None:
        p["SnapshotId"] = {"EndOffset": snapshot[0], "Epoch": snapshot[1]}
    return p


def fetch_message(version, with_endpoints, endpoints=None, tagged_partition=False):
    batch_a = sample_records(1000, 1767225600000, 12)
    batch_b = sample_records(1003, 1767225601500, 12)
    orders = [
        fetch_partition(version, 0, batch_a + batch_b,
                        aborted=[{"ProducerId": 4001, "FirstOffset": 990}, {"ProducerId": 4007, "FirstOffset": 995}]),
        fetch_partition(version, 1, None, aborted=None, preferred=2 if version >= 11 else -1),
    ]
    if with_endpoints:
        orders.append(fetch_partition(version, 2, None, error=NOT_LEADER_OR_FOLLOWER, leader=(2, 16)))
        orders.append(fetch_partition(version, 3, None, error=74, leader=(1, 8)))  # FENCED_LEADER_EPOCH
    if tagged_partition:
        orders.append(fetch_partition(version, 4, b"", diverging=(11, 870), snapshot=(500, 3)))
    payments = [fetch_partition(version, 0, sample_records(77, 1767225602000, 4), aborted=[])]
    message = {"ThrottleTimeMs": 0, "ErrorCode": 0, "SessionId": 0x1A2B3C4D,
               "Responses": [{"Topic": "orders", "TopicId": TOPIC_ID_ORDERS, "Partitions": orders},
                             {"Topic": "payments", "TopicId": TOPIC_ID_PAYMENTS, "Partitions": payments}]}
    if with_endpoints:
        message["NodeEndpoints"] = endpoints if endpoints is not None else [dict(BROKER_2), dict(BROKER_1)]
    return message


def fetch_cases():
    cases = []
    for v in range(4, 16):
        cases.append(Case(FETCH_API, v, None,
                          "Fetch v%d, orders p0 with two record batches v2 + 2 aborted txns, p1 null records, "
                          "payments p0 one batch; no endpoints (expected == response)" % v,
                          fetch_message(v, False)))
    for v in range(16, 19):
        cases.append(Case(FETCH_API, v, "no_node_endpoints",
                          "Fetch v%d without NodeEndpoints tag: expected == response" % v, fetch_message(v, False)))
        cases.append(Case(FETCH_API, v, "node_endpoints",
                          "Fetch v%d, p2 NOT_LEADER_OR_FOLLOWER and p3 FENCED_LEADER_EPOCH with CurrentLeader tag 1, "
                          "top-level tag 0 NodeEndpoints nodes 2 and 1, after record blobs" % v,
                          fetch_message(v, True)))
    cases.append(Case(FETCH_API, 12, "tagged_partition",
                      "Fetch v12, a partition with empty records, DivergingEpoch (tag 0) and SnapshotId (tag 2)",
                      fetch_message(12, False, tagged_partition=True)))
    cases.append(Case(FETCH_API, 16, "tag_size_growth",
                      "Fetch v16, 5 NodeEndpoints with short hosts: tag 0 size varint grows from 1 to 2 bytes",
                      fetch_message(16, True, endpoints=many_endpoints())))
    return cases


def share_partition(index, records, error=0, leader=(0, 5), acquired=None):
    return {"PartitionIndex": index, "ErrorCode": error,
            "ErrorMessage": "This server is not the leader for that topic-partition." if error else None,
            "AcknowledgeErrorCode": 0, "AcknowledgeErrorMessage": None,
            "CurrentLeader": {"LeaderId": leader[0], "LeaderEpoch": leader[1]},
            "Records": records, "AcquiredRecords": acquired or []}


def share_fetch_message(version, endpoints):
    parts = [share_partition(0, sample_records(1000, 1767225600000, 12), acquired=[
                 {"FirstOffset": 1000, "LastOffset": 1002, "DeliveryCount": 1}]),
             share_partition(1, None, error=NOT_LEADER_OR_FOLLOWER, leader=(2, 16))]
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "AcquisitionLockTimeoutMs": 30000,
            "Responses": [{"TopicId": TOPIC_ID_ORDERS, "Partitions": parts}], "NodeEndpoints": endpoints}


def share_acknowledge_message(version, endpoints):
    parts = [{"PartitionIndex": 0, "ErrorCode": 0, "ErrorMessage": None, "CurrentLeader": {"LeaderId": 0,
                                                                                            "LeaderEpoch": 12}},
             {"PartitionIndex": 1, "ErrorCode": NOT_LEADER_OR_FOLLOWER,
              "ErrorMessage": "This server is not the leader for that topic-partition.",
              "CurrentLeader": {"LeaderId": 2, "LeaderEpoch": 16}}]
    return {"ThrottleTimeMs": 0, "ErrorCode": 0, "ErrorMessage": None, "AcquisitionLockTimeoutMs": 30000,
            "Responses": [{"TopicId": TOPIC_ID_ORDERS, "Partitions": parts}], "NodeEndpoints": endpoints}


def share_cases():
    cases = []
    for api, builder, label in ((SHARE_FETCH_API, share_fetch_message, "ShareFetch"),
                                (SHARE_ACKNOWLEDGE_API, share_acknowledge_message, "ShareAcknowledge")):
        for v in (1, 2):
            cases.append(Case(api, v, None,
                              "%s v%d, partition 1 NOT_LEADER_OR_FOLLOWER, regular NodeEndpoints field with node 2"
                              % (label, v), builder(v, [dict(BROKER_2)])))
            cases.append(Case(api, v, "empty_node_endpoints",
                              "%s v%d with an empty NodeEndpoints array (expected == response)" % (label, v),
                              builder(v, [])))
        cases.append(Case(api, 2, "two_endpoints", "%s v2, NodeEndpoints nodes 2 and 1 (null rack)" % label,
                          builder(2, [dict(BROKER_2), dict(BROKER_1)])))
    return cases


def describe_quorum_cases():
    def replica(rid, leo, dir_id):
        return {"ReplicaId": rid, "ReplicaDirectoryId": dir_id, "LogEndOffset": leo,
                "LastFetchTimestamp": 1767225600000 - rid, "LastCaughtUpTimestamp": 1767225599000 - rid}

    cases = []
    for v in range(0, 3):
        message = {
            "ErrorCode": 0, "ErrorMessage": None,
            "Topics": [{"TopicName": "__cluster_metadata", "Partitions": [{
                "PartitionIndex": 0, "ErrorCode": 0, "ErrorMessage": None, "LeaderId": 3000, "LeaderEpoch": 7,
                "HighWatermark": 52311,
                "CurrentVoters": [replica(3000, 52311, "a1" * 16), replica(3001, 52311, "b2" * 16),
                                  replica(3002, 52299, "c3" * 16)],
                "Observers": [replica(0, 52311, "d4" * 16), replica(1, 52310, "e5" * 16)]}]}],
            "Nodes": [{"NodeId": 3000 + i, "Listeners": [
                {"Name": "CONTROLLER", "Host": "controller-%d.internal.corp" % i, "Port": 9094}]} for i in range(3)],
        }
        cases.append(Case(DESCRIBE_QUORUM_API, v, None,
                          "DescribeQuorum v%d%s: kedge clamps this API and never rewrites it (expected == response)"
                          % (v, " with controller Nodes/Listeners" if v >= 2 else ""), message))
    return cases


def all_cases():
    cases = (metadata_cases() + find_coordinator_cases() + describe_cluster_cases() + api_versions_cases()
             + produce_cases() + fetch_cases() + share_cases() + describe_quorum_cases())
    names = [c.file_name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError("duplicate case files: %s" % duplicates)
    return sorted(cases, key=lambda c: c.file_name)


# ---------------------------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------------------------


def is_generated_name(name):
    return name.endswith(".json") and not name.endswith(".handmade.json")


class CaseSet:
    """One directory of generated case files: how to make its cases and how its messages name it. generate.py's
    response vectors and refusals/generate_refusals.py's refusal vectors share the writing, checking and CLI below."""

    def __init__(self, make_cases, default_dir, script, label, tmp_prefix):
        self.make_cases = make_cases    # () -> [cases with .file_name and .to_json()]
        self.default_dir = default_dir
        self.script = script            # path from the repository root, for the "run ..." hint
        self.label = label              # "golden vectors", "refusal vectors"
        self.tmp_prefix = tmp_prefix

    def write_all(self, out_dir):
        os.makedirs(out_dir, exist_ok=True)
        written = set()
        for case in self.make_cases():
            path = os.path.join(out_dir, case.file_name)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(case.to_json())
            written.add(case.file_name)
        return written

    def check(self, golden_dir):
        tool = os.path.basename(self.script)
        with tempfile.TemporaryDirectory(prefix=self.tmp_prefix) as tmp:
            expected_names = self.write_all(tmp)
            present = {n for n in os.listdir(golden_dir) if is_generated_name(n)} if os.path.isdir(golden_dir) else set()
            problems = ["missing: " + n for n in sorted(expected_names - present)]
            problems += ["stale (not produced by %s): %s" % (tool, n) for n in sorted(present - expected_names)]
            problems += ["differs: " + n for n in sorted(expected_names & present)
                         if not filecmp.cmp(os.path.join(tmp, n), os.path.join(golden_dir, n), shallow=False)]
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            print("%s are out of date: run /usr/bin/python3 %s" % (self.label, self.script), file=sys.stderr)
            return 1
        print("%s up to date (%d files)" % (self.label, len(expected_names)))
        return 0

    def main(self, argv, description):
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--check", action="store_true",
                            help="regenerate into a temp dir and diff; exit 1 on difference")
        parser.add_argument("--out", default=self.default_dir, help="output directory (default: this script's directory)")
        args = parser.parse_args(argv)
        if args.check:
            return self.check(args.out)
        stale = {n for n in os.listdir(args.out) if is_generated_name(n)} if os.path.isdir(args.out) else set()
        written = self.write_all(args.out)
        for name in sorted(stale - written):  # never delete: the directory is shared; --check flags these
            print("warning: %s is not produced by %s (remove it if it is a retired case)"
                  % (name, os.path.basename(self.script)), file=sys.stderr)
        print("wrote %d case files to %s" % (len(written), args.out))
        return 0


GOLDEN = CaseSet(lambda: all_cases(), GOLDEN_DIR, "tests/golden/generate.py", "golden vectors", "kedge-golden-")


def main(argv=None):
    return GOLDEN.main(argv, __doc__.split("\n\n")[0])


if __name__ == "__main__":
    sys.exit(main())
