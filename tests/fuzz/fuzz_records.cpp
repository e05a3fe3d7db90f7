// libFuzzer: the record batch v2 decoder (records/records.h) over arbitrary RECORDS blobs.
// Input: a mode byte (bit 0: max_decompressed_bytes 4 KiB, else 1 MiB; bit 1: first rewrite the CRC of every
// whole batch, so mutations reach the records and the decompressors instead of stopping at crc_mismatch), then
// the blob.
// Seeds: the librdkafka-written golden batches of every codec (tests/golden/records/, tests/fuzz/seed_corpus.py).
// Invariants:
//   * BatchReader never reads past the blob, and its steps tile it: batches back to back from offset 0, then `end`
//     exactly at the blob's end, `truncated` with fewer bytes left than the next batch declares, or `error`;
//   * a decoded batch holds RecordsCount records, offsets base + delta, and decode_records agrees with the reader;
//   * re-encoding a decoded non-empty batch's records (same codec) decodes back to the same keys, values, headers
//     and timestamps (create time), within the same cap.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "records/records.h"

using namespace kedge::records;

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  DecodeLimits limits;
  limits.max_decompressed_bytes = (data[0] & 1) != 0 ? 4096 : (1u << 20);
  std::vector<std::uint8_t> bytes(data + 1, data + size);
  if ((data[0] & 2) != 0) {
    for (std::size_t at = 0; bytes.size() - at >= kBatchHeaderSize;) {
      const std::size_t length = (std::size_t{bytes[at + 8]} << 24) | (std::size_t{bytes[at + 9]} << 16) |
                                 (std::size_t{bytes[at + 10]} << 8) | bytes[at + 11];
      if (length < kBatchHeaderSize - 12 || length > bytes.size() - at - 12) break;
      const auto crc = crc32c(std::span<const std::uint8_t>(bytes).subspan(at + 21, length + 12 - 21));
      for (int i = 0; i < 4; ++i) bytes[at + 17 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
      at += length + 12;
    }
  }
  const std::span<const std::uint8_t> blob(bytes);

  BatchReader reader(blob, limits);
  std::size_t batches = 0;
  std::size_t at = 0;
  BatchReader::Step step;
  for (;;) {
    Batch batch;
    step = reader.next(batch);
    if (step != BatchReader::Step::batch) break;
    ++batches;
    check(reader.offset() == at + batch.header.size_in_bytes());
    check(reader.offset() <= blob.size());
    at = reader.offset();
    check(batch.records.size() == static_cast<std::size_t>(batch.header.records_count));
    if (batch.records.empty()) continue;
    EncodeOptions options;
    options.compression = batch.header.compression();
    std::vector<std::uint8_t> again;
    check(encode_batch(batch.records, options, again) == Errc::ok);
    const auto redecoded = decode_records(again, limits);
    check(redecoded.errc == Errc::ok && !redecoded.truncated && redecoded.batches.size() == 1);
    const auto& records = redecoded.batches[0].records;
    check(records.size() == batch.records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      check(records[i].offset == static_cast<std::int64_t>(i));
      check(records[i].timestamp == batch.records[i].timestamp);
      check(records[i].key == batch.records[i].key);
      check(records[i].value == batch.records[i].value);
      check(records[i].headers == batch.records[i].headers);
    }
  }
  check(reader.offset() == at);
  if (step == BatchReader::Step::end) check(at == blob.size());
  if (step == BatchReader::Step::truncated) check(at < blob.size());
  if (step == BatchReader::Step::error) check(reader.errc() != Errc::ok);

  const auto all = decode_records(blob, limits);
  check(all.batches.size() == batches);
  check(all.end_offset == at);
  check(all.truncated == (step == BatchReader::Step::truncated));
  check((all.errc != Errc::ok) == (step == BatchReader::Step::error));
  return 0;
}
