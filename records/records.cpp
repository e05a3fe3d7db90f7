// Record batch v2 framing, records and CRC-32C (records.h has the grammar).
#include "records/records.h"

#include <array>
#include <limits>

#include "kafka_codec/wire.h"

namespace kedge::records {
namespace {

using kafka::wire::Reader;

// ---- CRC-32C: reflected Castagnoli polynomial 0x82F63B78 (RFC 3720 §B.4), one 256-entry table -------------------

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrc32cTable = make_crc32c_table();

// ---- zig-zag varints (DefaultRecord.java via ByteUtils.readVarint / readVarlong) ----------------------------------

// At most 5 bytes, and the 5th may not carry bits past 32 (ByteUtils rejects a 6th byte; we also reject the
// high bits Java would silently drop, so one value has one encoding).
bool read_varint(Reader& in, std::int32_t& out) {
  std::uint32_t raw = 0;
  for (int i = 0; i < 5; ++i) {
    std::uint8_t b = 0;
    if (!in.read_u8(b)) return false;
    if (i == 4 && (b & 0xf0) != 0) return in.fail();
    raw |= static_cast<std::uint32_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      out = static_cast<std::int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
      return true;
    }
  }
  return in.fail();
}

bool read_varlong(Reader& in, std::int64_t& out) {
  std::uint64_t raw = 0;
  for (int i = 0; i < 10; ++i) {
    std::uint8_t b = 0;
    if (!in.read_u8(b)) return false;
    if (i == 9 && (b & 0xfe) != 0) return in.fail();
    raw |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      out = static_cast<std::int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
      return true;
    }
  }
  return in.fail();
}

void put_varlong(std::vector<std::uint8_t>& out, std::int64_t v) {
  auto raw = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
  while (raw >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(raw | 0x80));
    raw >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(raw));
}
void put_varint(std::vector<std::uint8_t>& out, std::int32_t v) { put_varlong(out, v); }  // same bytes for int32

// Two's-complement addition: offsets and timestamps come from the wire, so their sums may wrap (Java's long
// arithmetic wraps too); signed overflow would be undefined behaviour.
std::int64_t wrapping_add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

// Distinguishes a varint that ran past its bounds (a length error) from one malformed in itself.
Errc varint_error(const Reader& in) { return in.remaining() == 0 ? Errc::invalid_length : Errc::invalid_varint; }

// Reads a varint length and that many bytes; -1 = null when `nullable`, other negatives are invalid.
Errc read_bytes(Reader& in, bool nullable, std::optional<std::string>& out) {
  std::int32_t length = 0;
  if (!read_varint(in, length)) return varint_error(in);
  if (length < 0) {
    if (length == -1 && nullable) { out.reset(); return Errc::ok; }
    return Errc::invalid_length;
  }
  if (static_cast<std::size_t>(length) > in.remaining()) return Errc::invalid_length;
  out.emplace(in.view(in.pos(), static_cast<std::size_t>(length)));
  in.skip(static_cast<std::size_t>(length));
  return Errc::ok;
}

// Smallest record: length(1) attributes(1) timestampDelta(1) offsetDelta(1) keyLength(1) valueLength(1) headers(1).
constexpr std::size_t kMinRecordSize = 7;

// Reads `count` records filling exactly `section` (the batch's records, inflated if they were compressed).
Errc read_records(std::span<const std::uint8_t> section, const BatchHeader& header, std::vector<Record>& out) {
  if (header.records_count < 0 || static_cast<std::size_t>(header.records_count) > section.size() / kMinRecordSize)
    return Errc::invalid_record_count;
  out.clear();
  out.reserve(static_cast<std::size_t>(header.records_count));
  Reader in(section);
  const bool log_append_time = header.timestamp_type() == TimestampType::log_append_time;
  for (std::int32_t i = 0; i < header.records_count; ++i) {
    std::int32_t length = 0;
    if (!read_varint(in, length)) return varint_error(in);
    if (length < 0 || static_cast<std::size_t>(length) > in.remaining()) return Errc::invalid_length;
    Reader rec(section, in.pos(), in.pos() + static_cast<std::size_t>(length));
    in.skip(static_cast<std::size_t>(length));

    Record record;
    std::int8_t attributes = 0;  // unused by every Kafka release so far
    std::int64_t timestamp_delta = 0;
    std::int32_t offset_delta = 0;
    if (!rec.read_i8(attributes)) return Errc::invalid_length;
    if (!read_varlong(rec, timestamp_delta) || !read_varint(rec, offset_delta)) return varint_error(rec);
    record.offset = wrapping_add(header.base_offset, offset_delta);
    record.timestamp = log_append_time ? header.max_timestamp : wrapping_add(header.base_timestamp, timestamp_delta);
    if (auto e = read_bytes(rec, true, record.key); e != Errc::ok) return e;
    if (auto e = read_bytes(rec, true, record.value); e != Errc::ok) return e;
    std::int32_t header_count = 0;
    if (!read_varint(rec, header_count)) return varint_error(rec);
    // Each header takes at least 2 bytes (two one-byte lengths): bound the count before reserving.
    if (header_count < 0 || static_cast<std::size_t>(header_count) > rec.remaining() / 2) return Errc::invalid_length;
    record.headers.reserve(static_cast<std::size_t>(header_count));
    for (std::int32_t h = 0; h < header_count; ++h) {
      RecordHeader rh;
      std::optional<std::string> key;
      if (auto e = read_bytes(rec, false, key); e != Errc::ok) return e;
      rh.key = std::move(*key);
      if (auto e = read_bytes(rec, true, rh.value); e != Errc::ok) return e;
      record.headers.push_back(std::move(rh));
    }
    // DefaultRecord.readFrom: the fields must fill the declared record length exactly.
    if (rec.remaining() != 0) return Errc::trailing_bytes;
    out.push_back(std::move(record));
  }
  // DefaultRecordBatch: "Incorrect declared batch size, records still remaining".
  if (in.remaining() != 0) return Errc::trailing_bytes;
  return Errc::ok;
}

}  // namespace

namespace {

std::uint32_t crc32c_table(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  for (std::uint8_t b : bytes) crc = kCrc32cTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// SSE4.2's CRC32 instruction computes exactly CRC-32C (the Castagnoli
// polynomial, reflected, as Kafka's Crc32C): 8 bytes per instruction instead of
// one table lookup per byte. Chosen at run time: every x86-64 CPU since 2008
// has it, and kedge still runs (on the table) where it is missing.
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t c = crc;
  while (n >= 8) {
    std::uint64_t word;
    __builtin_memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n > 0) {
    c32 = __builtin_ia32_crc32qi(c32, *p);
    ++p;
    --n;
  }
  return c32;
}

bool has_sse42() {
  static const bool supported = __builtin_cpu_supports("sse4.2");
  return supported;
}
#endif

}  // namespace

std::uint32_t crc32c(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  crc = ~crc;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (has_sse42()) return ~crc32c_sse42(bytes, crc);
#endif
  return ~crc32c_table(bytes, crc);
}

std::uint32_t crc32c_portable(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  return ~crc32c_table(bytes, ~crc);
}

Errc decode_batch(std::span<const std::uint8_t> bytes, const DecodeLimits& limits, Batch& out, std::size_t& consumed) {
  Reader in(bytes);
  BatchHeader& h = out.header;
  h = BatchHeader{};
  out.records.clear();
  if (bytes.size() < 17) return Errc::invalid_batch_length;
  in.read_i64(h.base_offset);
  in.read_i32(h.batch_length);
  in.read_i32(h.partition_leader_epoch);
  in.read_i8(h.magic);
  if (h.magic != kMagicV2) return Errc::unsupported_magic;
  if (h.batch_length < 0 || static_cast<std::size_t>(h.batch_length) < kBatchHeaderSize - 12)
    return Errc::invalid_batch_length;
  if (h.size_in_bytes() > bytes.size()) return Errc::invalid_batch_length;
  const auto batch = bytes.first(h.size_in_bytes());
  std::uint32_t crc = 0;
  {
    std::uint64_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | batch[17 + static_cast<std::size_t>(i)];
    crc = static_cast<std::uint32_t>(v);
  }
  h.crc = crc;
  if (crc32c(batch.subspan(21)) != crc) return Errc::crc_mismatch;
  Reader fields(batch, 21, batch.size());
  fields.read_i16(h.attributes);
  fields.read_i32(h.last_offset_delta);
  fields.read_i64(h.base_timestamp);
  fields.read_i64(h.max_timestamp);
  fields.read_i64(h.producer_id);
  fields.read_i16(h.producer_epoch);
  fields.read_i32(h.base_sequence);
  fields.read_i32(h.records_count);
  if (h.compression_id() > 4) return Errc::unknown_compression;
  const auto section = batch.subspan(kBatchHeaderSize);
  Errc e = Errc::ok;
  if (h.compression() == Compression::none) {
    e = read_records(section, h, out.records);
  } else {
    std::vector<std::uint8_t> inflated;
    e = decompress(h.compression(), section, limits.max_decompressed_bytes, inflated);
    if (e == Errc::ok) e = read_records(inflated, h, out.records);
  }
  if (e != Errc::ok) {
    out.records.clear();
    return e;
  }
  consumed = h.size_in_bytes();
  return Errc::ok;
}

BatchReader::Step BatchReader::next(Batch& out) {
  if (errc_ != Errc::ok) return Step::error;
  const std::size_t left = blob_.size() - offset_;
  if (left == 0) return Step::end;
  const auto rest = blob_.subspan(offset_);
  // ByteBufferLogInputStream.nextBatch: fewer bytes than the batch declares = the broker cut it at the fetch size.
  // The magic byte (at 16 in every format) is checked first when present, so an old message set is never
  // mistaken for a partial batch.
  if (left >= 17 && static_cast<std::int8_t>(rest[16]) != kMagicV2) {
    errc_ = Errc::unsupported_magic;
    return Step::error;
  }
  if (left < 12) return Step::truncated;
  const std::int32_t batch_length = kafka::wire::get_i32(rest.data() + 8);
  if (batch_length < 0 || static_cast<std::size_t>(batch_length) < kBatchHeaderSize - 12) {
    errc_ = Errc::invalid_batch_length;
    return Step::error;
  }
  if (static_cast<std::size_t>(batch_length) + 12 > left) return Step::truncated;
  std::size_t consumed = 0;
  errc_ = decode_batch(rest, limits_, out, consumed);
  if (errc_ != Errc::ok) return Step::error;
  offset_ += consumed;
  return Step::batch;
}

DecodedRecords decode_records(std::span<const std::uint8_t> blob, DecodeLimits limits) {
  DecodedRecords result;
  BatchReader reader(blob, limits);
  for (;;) {
    Batch batch;
    switch (reader.next(batch)) {
      case BatchReader::Step::batch: result.batches.push_back(std::move(batch)); continue;
      case BatchReader::Step::end: break;
      case BatchReader::Step::truncated: result.truncated = true; break;
      case BatchReader::Step::error: result.errc = reader.errc(); break;
    }
    break;
  }
  result.end_offset = reader.offset();
  return result;
}

std::vector<Record> consumer_records(const std::vector<Batch>& batches) {
  std::vector<Record> out;
  for (const Batch& batch : batches)
    if (!batch.header.is_control()) out.insert(out.end(), batch.records.begin(), batch.records.end());
  return out;
}

Errc encode_batch(std::span<const Record> records, const EncodeOptions& options, std::vector<std::uint8_t>& out) {
  using namespace kafka::wire;
  if (records.empty()) return Errc::empty_batch;
  if (records.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) return Errc::too_large;
  constexpr std::size_t kMaxField = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
  const std::int64_t base_timestamp = records.front().timestamp;
  std::int64_t max_timestamp = base_timestamp;
  std::vector<std::uint8_t> section;
  std::vector<std::uint8_t> body;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    if (r.timestamp > max_timestamp) max_timestamp = r.timestamp;
    body.clear();
    body.push_back(0);  // record attributes
    put_varlong(body, static_cast<std::int64_t>(static_cast<std::uint64_t>(r.timestamp) -
                                              static_cast<std::uint64_t>(base_timestamp)));
    put_varint(body, static_cast<std::int32_t>(i));
    auto put_nullable = [&](const std::optional<std::string>& bytes) {
      if (!bytes) { put_varint(body, -1); return true; }
      if (bytes->size() > kMaxField) return false;
      put_varint(body, static_cast<std::int32_t>(bytes->size()));
      put_bytes(body, *bytes);
      return true;
    };
    if (!put_nullable(r.key) || !put_nullable(r.value)) return Errc::too_large;
    put_varint(body, static_cast<std::int32_t>(r.headers.size()));
    for (const RecordHeader& rh : r.headers) {
      if (rh.key.size() > kMaxField) return Errc::too_large;
      put_varint(body, static_cast<std::int32_t>(rh.key.size()));
      put_bytes(body, rh.key);
      if (!put_nullable(rh.value)) return Errc::too_large;
    }
    if (body.size() > kMaxField) return Errc::too_large;
    put_varint(section, static_cast<std::int32_t>(body.size()));
    section.insert(section.end(), body.begin(), body.end());
  }
  std::vector<std::uint8_t> payload;
  if (Errc e = compress(options.compression, section, options.compression_level, payload); e != Errc::ok) return e;
  if (payload.size() > kMaxField - kBatchHeaderSize) return Errc::too_large;

  std::int16_t attributes = static_cast<std::int16_t>(options.compression);
  if (options.timestamp_type == TimestampType::log_append_time) attributes |= 0x08;
  if (options.transactional) attributes |= 0x10;
  std::vector<std::uint8_t> batch;
  batch.reserve(kBatchHeaderSize + payload.size());
  put_i64(batch, 0);  // BaseOffset: the broker assigns offsets
  put_i32(batch, static_cast<std::int32_t>(kBatchHeaderSize - 12 + payload.size()));
  put_i32(batch, options.partition_leader_epoch);
  put_i8(batch, kMagicV2);
  put_i32(batch, 0);  // CRC, filled below
  put_i16(batch, attributes);
  put_i32(batch, static_cast<std::int32_t>(records.size() - 1));  // LastOffsetDelta
  put_i64(batch, base_timestamp);
  put_i64(batch, max_timestamp);
  put_i64(batch, options.producer_id);
  put_i16(batch, options.producer_epoch);
  put_i32(batch, options.base_sequence);
  put_i32(batch, static_cast<std::int32_t>(records.size()));
  batch.insert(batch.end(), payload.begin(), payload.end());
  const std::uint32_t crc = crc32c(std::span<const std::uint8_t>(batch).subspan(21));
  for (int i = 0; i < 4; ++i) batch[17 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  out.insert(out.end(), batch.begin(), batch.end());
  return Errc::ok;
}

}  // namespace kedge::records
