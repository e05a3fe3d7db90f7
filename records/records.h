#pragma once
// Kafka record batch v2 codec (magic 2, KIP-98; Kafka documentation "Record Batch", the class comments of
// DefaultRecordBatch.java and DefaultRecord.java): decodes the RECORDS of a Fetch response into records and
// encodes one batch for a Produce request, for the HTTP/WebSocket front (issue 19).
//
// Why its own library (kedge_records) and not kafka_codec/: batches carry compressed payloads, so this code links
// zlib, liblz4, libzstd and libsnappy. kafka_codec/ never looks inside RECORDS (it passes them through byte for
// byte, style practice 3) and stays free of those libraries, as it stays free of libuv and OpenSSL. This library is
// just as pure: no I/O, no libuv, no OpenSSL, no exceptions on the data path (errors are values, practice 16).
//
// Wire grammar (all integers big-endian; byte offsets from the batch start):
//
//   RecordBatch =>                        Record =>  (varints are zig-zag, ≤5 bytes; varlongs ≤10 bytes)
//     0  BaseOffset            int64        Length          varint   (bytes after this field)
//     8  BatchLength           int32        Attributes      int8     (unused)
//     12 PartitionLeaderEpoch  int32        TimestampDelta  varlong
//     16 Magic                 int8 (= 2)   OffsetDelta     varint
//     17 CRC                   uint32       KeyLength       varint   (-1 = null key)
//     21 Attributes            int16        Key             bytes
//     23 LastOffsetDelta       int32        ValueLength     varint   (-1 = null value)
//     27 BaseTimestamp         int64        Value           bytes
//     35 MaxTimestamp          int64        HeaderCount     varint
//     43 ProducerId            int64        Headers         [HeaderKeyLength varint (≥0), HeaderKey utf8,
//     51 ProducerEpoch         int16                         HeaderValueLength varint (-1 = null), Value]
//     53 BaseSequence          int32
//     57 RecordsCount          int32
//     61 Records (compressed as one block when Attributes bits 0-2 are not 0)
//
//   BatchLength counts the bytes after itself (total size = BatchLength + 12). The CRC is CRC-32C (Castagnoli,
//   RFC 3720 §B.4) over bytes 21..end. Attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd),
//   bit 3 timestamp type (1 = LogAppendTime: every record's timestamp is MaxTimestamp), bit 4 transactional,
//   bit 5 control (KIP-98 commit/abort markers), bit 6 delete horizon (KIP-534).
//   Magic sits at byte 16 in v0/v1 message sets too (offset, size, crc, magic), so an old-format set is recognised
//   and reported as unsupported rather than misread.
//
// Compression framings accepted: gzip (RFC 1952, concatenated members), snappy both raw and with the xerial
// framing the Java client writes ("\x82SNAPPY\0", version, compat, then [int32 length, raw block]...), lz4 frame
// format (KIP-57: magic v1+ uses the correct frame header checksum), zstd frames (KIP-110).
// Decompression never produces more than DecodeLimits::max_decompressed_bytes: the cap is checked while
// inflating, chunk by chunk, so a decompression bomb costs at most the cap plus one 64 KiB chunk.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kedge::records {

enum class Errc : std::uint8_t {
  ok = 0,
  unsupported_magic,        // magic != 2 (v0/v1 message sets, or a future format)
  invalid_batch_length,     // BatchLength smaller than a v2 batch header (49 bytes after the length field)
  crc_mismatch,             // CRC-32C over attributes..end differs from the CRC field
  unknown_compression,      // attributes bits 0-2 are 5, 6 or 7
  invalid_record_count,     // RecordsCount negative or larger than the bytes could hold
  invalid_varint,           // varint longer than 5 bytes (varlong 10) or with bits past 32 (64)
  invalid_length,           // a record/key/value/header length negative where it may not be, or past its end
  trailing_bytes,           // a record or the batch's records section has bytes its fields did not consume
  decompression_failed,     // the compressed block is corrupt or truncated
  decompressed_too_large,   // inflating would exceed DecodeLimits::max_decompressed_bytes
  compression_failed,       // encoder: the compression library refused
  empty_batch,              // encoder: no records given
  too_large,                // encoder: a field or the batch exceeds what int32 lengths can describe
};

constexpr std::string_view to_string(Errc errc) {
  switch (errc) {
    case Errc::ok: return "ok";
    case Errc::unsupported_magic: return "unsupported_magic";
    case Errc::invalid_batch_length: return "invalid_batch_length";
    case Errc::crc_mismatch: return "crc_mismatch";
    case Errc::unknown_compression: return "unknown_compression";
    case Errc::invalid_record_count: return "invalid_record_count";
    case Errc::invalid_varint: return "invalid_varint";
    case Errc::invalid_length: return "invalid_length";
    case Errc::trailing_bytes: return "trailing_bytes";
    case Errc::decompression_failed: return "decompression_failed";
    case Errc::decompressed_too_large: return "decompressed_too_large";
    case Errc::compression_failed: return "compression_failed";
    case Errc::empty_batch: return "empty_batch";
    case Errc::too_large: return "too_large";
  }
  return "unknown";
}

// Attributes bits 0-2 (CompressionType.java ids).
enum class Compression : std::uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };
constexpr std::string_view to_string(Compression c) {
  switch (c) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::snappy: return "snappy";
    case Compression::lz4: return "lz4";
    case Compression::zstd: return "zstd";
  }
  return "unknown";
}

enum class TimestampType : std::uint8_t { create_time = 0, log_append_time = 1 };

// Size of the v2 batch header; BatchLength must be at least this minus the 12 bytes of BaseOffset + BatchLength.
inline constexpr std::size_t kBatchHeaderSize = 61;
inline constexpr std::int8_t kMagicV2 = 2;

// Batch-level fields, as on the wire.
struct BatchHeader {
  std::int64_t base_offset = 0;
  std::int32_t batch_length = 0;
  std::int32_t partition_leader_epoch = -1;
  std::int8_t magic = kMagicV2;
  std::uint32_t crc = 0;
  std::int16_t attributes = 0;
  std::int32_t last_offset_delta = 0;
  std::int64_t base_timestamp = -1;
  std::int64_t max_timestamp = -1;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  std::int32_t records_count = 0;

  // Bits 0-2 as a number; 5-7 are rejected by the decoder (unknown_compression), so after a successful decode
  // compression() names a real codec.
  std::uint8_t compression_id() const { return static_cast<std::uint8_t>(attributes & 0x07); }
  Compression compression() const { return static_cast<Compression>(compression_id()); }
  TimestampType timestamp_type() const {
    return (attributes & 0x08) != 0 ? TimestampType::log_append_time : TimestampType::create_time;
  }
  bool is_transactional() const { return (attributes & 0x10) != 0; }
  // Control batches hold transaction markers (KIP-98), never application records: consumers skip them.
  bool is_control() const { return (attributes & 0x20) != 0; }
  bool has_delete_horizon() const { return (attributes & 0x40) != 0; }
  std::size_t size_in_bytes() const { return static_cast<std::size_t>(batch_length) + 12; }
};

struct RecordHeader {
  std::string key;                   // header keys are never null (DefaultRecord.readFrom)
  std::optional<std::string> value;  // nullopt = null value
  bool operator==(const RecordHeader&) const = default;
};

// One record with absolute offset and timestamp. Owns its bytes (copied out of the blob or the inflated block),
// so it outlives the buffers it was decoded from. Key and value are binary; std::string is just the byte holder.
struct Record {
  std::int64_t offset = 0;     // BaseOffset + OffsetDelta (the encoder ignores it: deltas are positions)
  std::int64_t timestamp = -1; // BaseTimestamp + TimestampDelta, or MaxTimestamp under LogAppendTime
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<RecordHeader> headers;
  bool operator==(const Record&) const = default;
};

struct Batch {
  BatchHeader header;
  std::vector<Record> records;
};

struct DecodeLimits {
  // Cap on the inflated records section of ONE compressed batch (and so on the memory one batch may take).
  std::size_t max_decompressed_bytes = 64u << 20;
};

// Iterates the batches of a RECORDS blob (one partition of a Fetch response: a concatenation of batches, the last
// one possibly cut short by the broker's fetch size, which brokers do send).
// Borrows `blob` for its own lifetime; the Batches it fills own their contents.
class BatchReader {
 public:
  enum class Step : std::uint8_t {
    batch,      // `out` holds the next batch (control batches included: check out.header.is_control())
    end,        // the blob ended exactly after the previous batch
    truncated,  // the blob ends inside a batch: the rest (from offset()) is a partial batch, not an error
    error,      // errc() says why; offset() is where the failing batch starts; the reader stays failed
  };

  explicit BatchReader(std::span<const std::uint8_t> blob, DecodeLimits limits = {}) : blob_(blob), limits_(limits) {}

  Step next(Batch& out);
  Errc errc() const { return errc_; }
  // Start of the batch the next call will read (after `truncated`/`error`: of the partial/failing one).
  std::size_t offset() const { return offset_; }

 private:
  std::span<const std::uint8_t> blob_;
  DecodeLimits limits_;
  std::size_t offset_ = 0;
  Errc errc_ = Errc::ok;
};

// Decodes one whole batch starting at the beginning of `bytes` (which holds exactly that batch or more). Used by
// BatchReader; exposed for callers that frame batches themselves. `consumed` is set to the batch's size on success.
Errc decode_batch(std::span<const std::uint8_t> bytes, const DecodeLimits& limits, Batch& out, std::size_t& consumed);

// Every batch of a blob, for callers that want them all at once.
struct DecodedRecords {
  Errc errc = Errc::ok;           // ok unless a batch failed (then `batches` holds those before it)
  std::vector<Batch> batches;
  bool truncated = false;         // the blob ended with a partial batch (at `end_offset`)
  std::size_t end_offset = 0;     // bytes of the blob fully decoded
};
DecodedRecords decode_records(std::span<const std::uint8_t> blob, DecodeLimits limits = {});

// The records a consumer sees: every record of the non-control batches, in order.
std::vector<Record> consumer_records(const std::vector<Batch>& batches);

struct EncodeOptions {
  Compression compression = Compression::none;
  TimestampType timestamp_type = TimestampType::create_time;
  // Non-idempotent producer by default (RecordBatch.NO_PRODUCER_ID / NO_PRODUCER_EPOCH / NO_SEQUENCE).
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  bool transactional = false;
  std::int32_t partition_leader_epoch = -1;
  // Codec level; 0 = the library's default (zlib 6, zstd 3, lz4 fast).
  int compression_level = 0;
};

// Appends one v2 batch holding `records` to `out`: BaseOffset 0, OffsetDelta = position, BaseTimestamp = the first
// record's timestamp, MaxTimestamp = the largest, lengths, attributes and CRC-32C filled in. Records' `offset` is
// ignored. On error `out` is left as it was.
Errc encode_batch(std::span<const Record> records, const EncodeOptions& options, std::vector<std::uint8_t>& out);

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as the batch CRC uses. crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0);
// The same by table only (what crc32c() falls back to without SSE4.2): tests compare the two.
std::uint32_t crc32c_portable(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0);

// Compression helpers (records section only), exposed for tests and tools.
Errc compress(Compression codec, std::span<const std::uint8_t> in, int level, std::vector<std::uint8_t>& out);
// Inflates `in` into `out` (replacing its contents), failing with decompressed_too_large before `out` grows past
// `max_bytes` (plus at most one working chunk).
Errc decompress(Compression codec, std::span<const std::uint8_t> in, std::size_t max_bytes,
                std::vector<std::uint8_t>& out);

}  // namespace kedge::records
