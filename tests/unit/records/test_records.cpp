// records/records.h: round trips through every codec, CRC-32C vectors, and each malformed input as its error value.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "records/records.h"

using namespace kedge::records;

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::vector<Record> sample_records() {
  std::vector<Record> records;
  Record a;
  a.timestamp = 1700000000000;
  a.key = "key-0";
  a.value = "value-0";
  a.headers = {{"trace", std::string("abc")}, {"null-header", std::nullopt}};
  records.push_back(a);
  Record b;  // null key, empty value, earlier timestamp (negative delta)
  b.timestamp = 1699999999000;
  b.value = "";
  records.push_back(b);
  Record c;  // tombstone: key, null value; binary key with a NUL
  c.timestamp = 1700000005000;
  c.key = std::string("k\0y", 3);
  records.push_back(c);
  Record big;  // compressible payload spanning several snappy/lz4 blocks
  big.timestamp = 1700000006000;
  big.key = "big";
  big.value = std::string(200000, 'x');
  records.push_back(big);
  return records;
}

// Rewrites the CRC of the batch at `at` so a test can corrupt the body and still reach the field it targets.
void fix_crc(std::vector<std::uint8_t>& blob, std::size_t at = 0) {
  const auto length = static_cast<std::size_t>(
      (std::uint32_t{blob[at + 8]} << 24) | (std::uint32_t{blob[at + 9]} << 16) | (std::uint32_t{blob[at + 10]} << 8) |
      blob[at + 11]);
  const auto crc = crc32c(std::span<const std::uint8_t>(blob).subspan(at + 21, length + 12 - 21));
  for (int i = 0; i < 4; ++i) blob[at + 17 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
}

std::vector<std::uint8_t> encode_one(const std::vector<Record>& records, Compression c = Compression::none) {
  std::vector<std::uint8_t> out;
  EncodeOptions options;
  options.compression = c;
  REQUIRE(encode_batch(records, options, out) == Errc::ok);
  return out;
}

// A single uncompressed record whose body bytes (after the length varint) are `body`.
std::vector<std::uint8_t> batch_with_record_body(const std::vector<std::uint8_t>& body, std::int32_t count = 1) {
  Record r;
  r.timestamp = 5;
  r.key = "k";
  std::vector<std::uint8_t> blob = encode_one({r});
  blob.resize(kBatchHeaderSize);
  blob.push_back(static_cast<std::uint8_t>(body.size() * 2));  // zig-zag length, < 64 bytes
  blob.insert(blob.end(), body.begin(), body.end());
  const auto length = static_cast<std::uint32_t>(blob.size() - 12);
  for (int i = 0; i < 4; ++i) blob[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i)
    blob[57 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(count) >> (24 - 8 * i));
  fix_crc(blob);
  return blob;
}

}  // namespace

TEST_CASE("CRC-32C known vectors (RFC 3720 B.4)", "[records]") {
  CHECK(crc32c(bytes_of("123456789")) == 0xE3069283u);
  CHECK(crc32c(bytes_of("")) == 0u);
  const std::vector<std::uint8_t> zeros(32, 0);
  CHECK(crc32c(zeros) == 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
  const std::vector<std::uint8_t> ones(32, 0xff);
  CHECK(crc32c(ones) == 0x62A8AB43u);
  // Incremental: the CRC of a whole equals the CRC continued over its parts.
  CHECK(crc32c(bytes_of("56789"), crc32c(bytes_of("1234"))) == 0xE3069283u);
}

TEST_CASE("record batch round trip through every codec", "[records]") {
  const auto codec = GENERATE(Compression::none, Compression::gzip, Compression::snappy, Compression::lz4,
                              Compression::zstd);
  INFO("codec " << to_string(codec));
  const auto records = sample_records();
  EncodeOptions options;
  options.compression = codec;
  options.producer_id = 4242;
  options.producer_epoch = 3;
  options.base_sequence = 17;
  options.transactional = true;
  std::vector<std::uint8_t> blob;
  REQUIRE(encode_batch(records, options, blob) == Errc::ok);
  if (codec != Compression::none) {
    CHECK(blob.size() < 200000);  // the big value really was compressed
  }
  // Two batches back to back: the second gets base offset 100 (as a broker would assign).
  std::vector<std::uint8_t> second = blob;
  second[7] = 100;
  blob.insert(blob.end(), second.begin(), second.end());

  const DecodedRecords decoded = decode_records(blob);
  REQUIRE(decoded.errc == Errc::ok);
  CHECK_FALSE(decoded.truncated);
  CHECK(decoded.end_offset == blob.size());
  REQUIRE(decoded.batches.size() == 2);
  const BatchHeader& h = decoded.batches[0].header;
  CHECK(h.magic == 2);
  CHECK(h.compression() == codec);
  CHECK(h.timestamp_type() == TimestampType::create_time);
  CHECK(h.is_transactional());
  CHECK_FALSE(h.is_control());
  CHECK(h.producer_id == 4242);
  CHECK(h.producer_epoch == 3);
  CHECK(h.base_sequence == 17);
  CHECK(h.records_count == 4);
  CHECK(h.last_offset_delta == 3);
  CHECK(h.base_timestamp == 1700000000000);
  CHECK(h.max_timestamp == 1700000006000);
  CHECK(h.size_in_bytes() == second.size());
  const auto& got = decoded.batches[0].records;
  REQUIRE(got.size() == records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    Record want = records[i];
    want.offset = static_cast<std::int64_t>(i);
    CHECK(got[i] == want);
    want.offset = 100 + static_cast<std::int64_t>(i);
    CHECK(decoded.batches[1].records[i] == want);
  }
}

TEST_CASE("encoder defaults: non-idempotent producer, base offset 0", "[records]") {
  Record r;
  r.timestamp = 10;
  r.value = "v";
  const auto blob = encode_one({r});
  const auto decoded = decode_records(blob);
  REQUIRE(decoded.errc == Errc::ok);
  const auto& h = decoded.batches.at(0).header;
  CHECK(h.base_offset == 0);
  CHECK(h.producer_id == -1);
  CHECK(h.producer_epoch == -1);
  CHECK(h.base_sequence == -1);
  CHECK(h.partition_leader_epoch == -1);
  CHECK(h.attributes == 0);
  CHECK(decoded.batches[0].records.at(0).key == std::nullopt);
  std::vector<std::uint8_t> out{1, 2};
  CHECK(encode_batch({}, {}, out) == Errc::empty_batch);
  CHECK(out == std::vector<std::uint8_t>{1, 2});
}

TEST_CASE("LogAppendTime: every record takes MaxTimestamp", "[records]") {
  auto records = sample_records();
  EncodeOptions options;
  options.timestamp_type = TimestampType::log_append_time;
  std::vector<std::uint8_t> blob;
  REQUIRE(encode_batch(records, options, blob) == Errc::ok);
  const auto decoded = decode_records(blob);
  REQUIRE(decoded.errc == Errc::ok);
  for (const auto& r : decoded.batches.at(0).records) CHECK(r.timestamp == 1700000006000);
}

TEST_CASE("control batches are exposed, and skipped by consumer_records", "[records]") {
  Record marker;  // a commit marker: key = {version 0, type 1}, value = {version, coordinator epoch}
  marker.timestamp = 1;
  marker.key = std::string("\0\0\0\1", 4);
  marker.value = std::string("\0\0\0\0\0\5", 6);
  auto control = encode_one({marker});
  control[22] |= 0x20;  // attributes low byte: control
  fix_crc(control);
  Record data;
  data.timestamp = 2;
  data.value = "payload";
  auto blob = encode_one({data});
  blob.insert(blob.end(), control.begin(), control.end());
  const auto decoded = decode_records(blob);
  REQUIRE(decoded.errc == Errc::ok);
  REQUIRE(decoded.batches.size() == 2);
  CHECK(decoded.batches[1].header.is_control());
  const auto visible = consumer_records(decoded.batches);
  REQUIRE(visible.size() == 1);
  CHECK(visible[0].value == "payload");
}

TEST_CASE("a partial last batch is truncated, not an error", "[records]") {
  const auto one = encode_one(sample_records(), Compression::gzip);
  std::vector<std::uint8_t> blob = one;
  blob.insert(blob.end(), one.begin(), one.end());
  for (std::size_t cut : {std::size_t{1}, std::size_t{11}, std::size_t{12}, std::size_t{40}, one.size() - 1}) {
    INFO("cut at " << cut);
    const std::vector<std::uint8_t> partial(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(one.size() + cut));
    const auto decoded = decode_records(partial);
    CHECK(decoded.errc == Errc::ok);
    CHECK(decoded.truncated);
    CHECK(decoded.batches.size() == 1);
    CHECK(decoded.end_offset == one.size());
  }
  // A lone partial batch handed to decode_batch (which must hold a whole batch) is a length error.
  Batch batch;
  std::size_t consumed = 0;
  CHECK(decode_batch(std::span<const std::uint8_t>(one).first(one.size() - 1), {}, batch, consumed) ==
        Errc::invalid_batch_length);
}

TEST_CASE("malformed batches are clear error values", "[records]") {
  Record r;
  r.timestamp = 1;
  r.key = "key";
  r.value = "value";
  r.headers = {{"h", std::string("v")}};
  const auto good = encode_one({r});
  auto expect = [](const std::vector<std::uint8_t>& blob, Errc want) {
    BatchReader reader(blob);
    Batch batch;
    CHECK(reader.next(batch) == BatchReader::Step::error);
    CHECK(to_string(reader.errc()) == to_string(want));
    CHECK(reader.offset() == 0);
    CHECK(reader.next(batch) == BatchReader::Step::error);  // stays failed
  };

  SECTION("corrupted CRC") {
    auto blob = good;
    blob.back() ^= 0x01;
    expect(blob, Errc::crc_mismatch);
    blob = good;
    blob[17] ^= 0x80;
    expect(blob, Errc::crc_mismatch);
  }
  SECTION("v0/v1 message sets are unsupported, not misread") {
    for (std::uint8_t magic : {0, 1, 3}) {
      auto blob = good;
      blob[16] = magic;
      expect(blob, Errc::unsupported_magic);
      blob.resize(20);  // even when the set is cut short
      expect(blob, Errc::unsupported_magic);
    }
  }
  SECTION("batch length smaller than a header") {
    auto blob = good;
    blob[8] = blob[9] = blob[10] = 0;
    blob[11] = 48;
    expect(blob, Errc::invalid_batch_length);
    blob[8] = 0x80;  // negative
    expect(blob, Errc::invalid_batch_length);
  }
  SECTION("unknown compression id") {
    auto blob = good;
    blob[22] = (blob[22] & 0xf8) | 5;
    fix_crc(blob);
    expect(blob, Errc::unknown_compression);
  }
  SECTION("record count past what the bytes hold, or negative") {
    auto blob = good;
    blob[60] = 100;  // more records than the section's bytes could hold
    fix_crc(blob);
    expect(blob, Errc::invalid_record_count);
    blob[60] = 2;  // two records declared, one present: the second's length runs past the end
    fix_crc(blob);
    expect(blob, Errc::invalid_length);
    blob[57] = 0xff;
    fix_crc(blob);
    expect(blob, Errc::invalid_record_count);
    blob = good;
    blob[60] = 0;  // fewer declared than present: bytes left over
    fix_crc(blob);
    expect(blob, Errc::trailing_bytes);
  }
  SECTION("record length past the end of the batch") {
    auto blob = good;
    blob[kBatchHeaderSize] = 0x7e;  // zig-zag 63 > the bytes left
    fix_crc(blob);
    expect(blob, Errc::invalid_length);
  }
  SECTION("key length past the end of the record") {
    // attributes, ts delta 0, offset delta 0, key length 20 (zig-zag 40) with 1 byte present, value, headers
    expect(batch_with_record_body({0, 0, 0, 40, 'k', 1, 0}), Errc::invalid_length);
  }
  SECTION("negative lengths other than null") {
    expect(batch_with_record_body({0, 0, 0, 3, 1, 0}), Errc::invalid_length);        // key length -2
    expect(batch_with_record_body({0, 0, 0, 1, 1, 2, 1, 1}), Errc::invalid_length);  // header key length -1 (null)
    expect(batch_with_record_body({0, 0, 0, 1, 1, 1}), Errc::invalid_length);        // header count -1
  }
  SECTION("fields that do not fill the record") {
    expect(batch_with_record_body({0, 0, 0, 1, 1, 0, 9}), Errc::trailing_bytes);
  }
  SECTION("invalid varints") {
    // timestamp delta varlong of 11 bytes
    std::vector<std::uint8_t> body{0};
    body.insert(body.end(), 10, 0x80);
    body.insert(body.end(), {0x00, 0, 1, 1, 0});
    expect(batch_with_record_body(body), Errc::invalid_varint);
    // offset delta varint with a 6th byte
    expect(batch_with_record_body({0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 1, 1, 0}), Errc::invalid_varint);
    // 5-byte varint carrying bits past 32
    expect(batch_with_record_body({0, 0, 0xff, 0xff, 0xff, 0xff, 0x1f, 1, 1, 0}), Errc::invalid_varint);
  }
  SECTION("a corrupt compressed section") {
    for (auto codec : {Compression::gzip, Compression::snappy, Compression::lz4, Compression::zstd}) {
      INFO("codec " << to_string(codec));
      auto blob = encode_one({r}, codec);
      // Past each framing's fixed header (gzip 10 bytes, xerial 16 + a block length), into the stream proper.
      const std::size_t from = codec == Compression::gzip ? 10 : codec == Compression::snappy ? 20 : 4;
      for (std::size_t i = kBatchHeaderSize + from; i < blob.size(); ++i) blob[i] ^= 0x5a;
      fix_crc(blob);
      expect(blob, Errc::decompression_failed);
      // cut short inside the compressed stream (batch length shrunk to match)
      blob = encode_one({r}, codec);
      blob.resize(blob.size() - 6);
      const auto length = static_cast<std::uint32_t>(blob.size() - 12);
      for (int i = 0; i < 4; ++i) blob[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (24 - 8 * i));
      fix_crc(blob);
      expect(blob, Errc::decompression_failed);
    }
  }
}

TEST_CASE("decompression bombs stop at the caller's cap", "[records]") {
  const auto codec = GENERATE(Compression::gzip, Compression::snappy, Compression::lz4, Compression::zstd);
  INFO("codec " << to_string(codec));
  Record bomb;
  bomb.timestamp = 0;
  bomb.value = std::string(8u << 20, '\0');  // 8 MiB of zeros: a few KiB compressed
  std::vector<std::uint8_t> blob;
  EncodeOptions options;
  options.compression = codec;
  REQUIRE(encode_batch({&bomb, 1}, options, blob) == Errc::ok);
  CHECK(blob.size() < (1u << 20));
  DecodeLimits tight;
  tight.max_decompressed_bytes = 1u << 20;
  const auto decoded = decode_records(blob, tight);
  CHECK(to_string(decoded.errc) == to_string(Errc::decompressed_too_large));
  CHECK(decoded.batches.empty());
  // The same batch fits under a cap above its size.
  DecodeLimits roomy;
  roomy.max_decompressed_bytes = 9u << 20;
  const auto ok = decode_records(blob, roomy);
  REQUIRE(ok.errc == Errc::ok);
  CHECK(ok.batches.at(0).records.at(0).value->size() == (8u << 20));
  // decompress() itself: the output never grows far past the cap.
  std::vector<std::uint8_t> section(blob.begin() + kBatchHeaderSize, blob.end());
  std::vector<std::uint8_t> out;
  CHECK(decompress(codec, section, 100000, out) == Errc::decompressed_too_large);
  CHECK(out.empty());
}

TEST_CASE("snappy: raw blocks and the xerial framing both decode", "[records]") {
  const std::string text(100000, 'a');
  std::vector<std::uint8_t> framed;
  REQUIRE(compress(Compression::snappy, bytes_of(text), 0, framed) == Errc::ok);
  REQUIRE(framed.size() > 16);
  CHECK(std::memcmp(framed.data(), "\x82SNAPPY\0", 8) == 0);
  std::vector<std::uint8_t> out;
  REQUIRE(decompress(Compression::snappy, framed, 1u << 20, out) == Errc::ok);
  CHECK(std::string(out.begin(), out.end()) == text);
  // The first xerial block is itself a raw snappy stream (32 KiB of 'a').
  const std::size_t first = (std::size_t{framed[16]} << 24) | (std::size_t{framed[17]} << 16) |
                            (std::size_t{framed[18]} << 8) | framed[19];
  const std::vector<std::uint8_t> raw(framed.begin() + 20, framed.begin() + 20 + static_cast<std::ptrdiff_t>(first));
  REQUIRE(decompress(Compression::snappy, raw, 1u << 20, out) == Errc::ok);
  CHECK(std::string(out.begin(), out.end()) == std::string(32 * 1024, 'a'));
  // A raw block declaring more than the cap is refused before inflating.
  CHECK(decompress(Compression::snappy, raw, 1000, out) == Errc::decompressed_too_large);
  // A framed stream whose block length runs past the end.
  auto cut = framed;
  cut[19] = 0xff;
  cut[18] = 0xff;
  CHECK(decompress(Compression::snappy, cut, 1u << 20, out) == Errc::decompression_failed);
}

TEST_CASE("crc32c: the hardware path equals the table on every length and alignment", "[records][crc32c]") {
  std::vector<std::uint8_t> bytes(4096 + 16);
  std::uint32_t state = 0x12345678u;
  for (auto& b : bytes) {
    state = state * 1664525u + 1013904223u;  // a fixed LCG: the same bytes every run
    b = static_cast<std::uint8_t>(state >> 24);
  }
  for (std::size_t offset = 0; offset < 16; ++offset) {
    for (std::size_t length : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 63u, 64u, 1000u, 4096u}) {
      const auto span = std::span<const std::uint8_t>(bytes).subspan(offset, length);
      CHECK(crc32c(span) == crc32c_portable(span));
      CHECK(crc32c(span, 0xdeadbeefu) == crc32c_portable(span, 0xdeadbeefu));
    }
  }
}
