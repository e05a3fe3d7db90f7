// The five record batch codecs (CompressionType.java ids 0-4) over zlib, libsnappy, liblz4 and libzstd, each
// inflating chunk by chunk against a byte cap (records.h: "Decompression never produces more than ...").
#include <algorithm>
#include <cstring>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "records/records.h"

namespace kedge::records {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

// Grows `out` by one working chunk, or fails when it already holds more than `max_bytes`.
bool grow(std::vector<std::uint8_t>& out, std::size_t used, std::size_t max_bytes) {
  if (used > max_bytes) return false;
  out.resize(used + std::min(kChunk, max_bytes - used + 1));
  return true;
}

// ---- gzip (RFC 1952) -------------------------------------------------------------------------------------------

Errc gzip_compress(std::span<const std::uint8_t> in, int level, std::vector<std::uint8_t>& out) {
  z_stream zs{};
  if (deflateInit2(&zs, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Errc::compression_failed;
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);  // +gzip header/trailer
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Errc::compression_failed;
  out.resize(produced);
  return Errc::ok;
}

Errc gzip_decompress(std::span<const std::uint8_t> in, std::size_t max_bytes, std::vector<std::uint8_t>& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return Errc::decompression_failed;
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  std::size_t used = 0;
  Errc result = Errc::ok;
  for (;;) {
    if (!grow(out, used, max_bytes)) { result = Errc::decompressed_too_large; break; }
    zs.next_out = out.data() + used;
    zs.avail_out = static_cast<uInt>(out.size() - used);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    used = out.size() - zs.avail_out;
    if (used > max_bytes) { result = Errc::decompressed_too_large; break; }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows (java.util.zip.GZIPInputStream reads concatenated members too).
      if (inflateReset(&zs) != Z_OK) { result = Errc::decompression_failed; break; }
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) { result = Errc::decompression_failed; break; }  // cut short
    if (rc != Z_OK && rc != Z_BUF_ERROR) { result = Errc::decompression_failed; break; }
  }
  inflateEnd(&zs);
  out.resize(result == Errc::ok ? used : 0);
  return result;
}

// ---- snappy: raw, or the xerial framing of the Java client (org.xerial.snappy.SnappyOutputStream) ---------------

constexpr std::uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr std::size_t kXerialHeader = 16;  // magic, int32 version, int32 compatible version
constexpr std::size_t kXerialBlock = 32 * 1024;  // SnappyOutputStream's default block size

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Appends one raw snappy block's inflation to out[used..], bounded by max_bytes.
Errc snappy_raw_append(std::span<const std::uint8_t> block, std::size_t max_bytes, std::vector<std::uint8_t>& out,
                       std::size_t& used) {
  const auto* src = reinterpret_cast<const char*>(block.data());
  std::size_t length = 0;
  if (snappy_uncompressed_length(src, block.size(), &length) != SNAPPY_OK) return Errc::decompression_failed;
  // The block declares its inflated size up front: check it against the cap before allocating anything.
  if (length > max_bytes - used) return Errc::decompressed_too_large;
  if (snappy_validate_compressed_buffer(src, block.size()) != SNAPPY_OK) return Errc::decompression_failed;
  out.resize(used + length);
  std::size_t produced = length;
  if (snappy_uncompress(src, block.size(), reinterpret_cast<char*>(out.data() + used), &produced) != SNAPPY_OK ||
      produced != length)
    return Errc::decompression_failed;
  used += length;
  return Errc::ok;
}

Errc snappy_decompress(std::span<const std::uint8_t> in, std::size_t max_bytes, std::vector<std::uint8_t>& out) {
  std::size_t used = 0;
  out.clear();
  Errc rc = Errc::ok;
  if (in.size() >= kXerialHeader && std::memcmp(in.data(), kXerialMagic, sizeof kXerialMagic) == 0) {
    std::size_t pos = kXerialHeader;
    while (rc == Errc::ok && pos < in.size()) {
      if (in.size() - pos < 4) { rc = Errc::decompression_failed; break; }
      const std::uint32_t block_length = be32(in.data() + pos);
      pos += 4;
      if (block_length > in.size() - pos) { rc = Errc::decompression_failed; break; }
      rc = snappy_raw_append(in.subspan(pos, block_length), max_bytes, out, used);
      pos += block_length;
    }
  } else {
    rc = snappy_raw_append(in, max_bytes, out, used);
  }
  out.resize(rc == Errc::ok ? used : 0);
  return rc;
}

Errc snappy_compress_xerial(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
  out.assign(std::begin(kXerialMagic), std::end(kXerialMagic));
  for (std::uint32_t v : {1u, 1u})  // version 1, minimum compatible version 1 (SnappyCodec.DEFAULT_VERSION)
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  for (std::size_t pos = 0; pos < in.size(); pos += kXerialBlock) {
    const std::size_t n = std::min(kXerialBlock, in.size() - pos);
    std::size_t max = snappy_max_compressed_length(n);
    const std::size_t at = out.size();
    out.resize(at + 4 + max);
    if (snappy_compress(reinterpret_cast<const char*>(in.data() + pos), n, reinterpret_cast<char*>(out.data() + at + 4),
                        &max) != SNAPPY_OK)
      return Errc::compression_failed;
    for (int i = 0; i < 4; ++i) out[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(max >> (24 - 8 * i));
    out.resize(at + 4 + max);
  }
  return Errc::ok;
}

// ---- lz4 frame format (KIP-57) ---------------------------------------------------------------------------------

Errc lz4_compress(std::span<const std::uint8_t> in, int level, std::vector<std::uint8_t>& out) {
  LZ4F_preferences_t prefs{};
  // Kafka's Lz4BlockInputStream decodes each block on its own: independent 64 KiB blocks, no content size.
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.compressionLevel = level;
  out.resize(LZ4F_compressFrameBound(in.size(), &prefs));
  const std::size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) return Errc::compression_failed;
  out.resize(n);
  return Errc::ok;
}

Errc lz4_decompress(std::span<const std::uint8_t> in, std::size_t max_bytes, std::vector<std::uint8_t>& out) {
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) return Errc::decompression_failed;
  std::size_t used = 0;
  std::size_t pos = 0;
  std::size_t hint = 1;  // 0 = the current frame is complete
  Errc result = Errc::ok;
  while (pos < in.size()) {
    if (!grow(out, used, max_bytes)) { result = Errc::decompressed_too_large; break; }
    std::size_t dst_size = out.size() - used;
    std::size_t src_size = in.size() - pos;
    hint = LZ4F_decompress(dctx, out.data() + used, &dst_size, in.data() + pos, &src_size, nullptr);
    if (LZ4F_isError(hint)) { result = Errc::decompression_failed; break; }
    used += dst_size;
    pos += src_size;
    if (used > max_bytes) { result = Errc::decompressed_too_large; break; }
    if (src_size == 0 && dst_size == 0) { result = Errc::decompression_failed; break; }  // no progress
  }
  // Drain output still buffered in the context once the input is all consumed.
  while (result == Errc::ok && hint != 0) {
    if (!grow(out, used, max_bytes)) { result = Errc::decompressed_too_large; break; }
    std::size_t dst_size = out.size() - used;
    std::size_t src_size = 0;
    hint = LZ4F_decompress(dctx, out.data() + used, &dst_size, in.data() + pos, &src_size, nullptr);
    if (LZ4F_isError(hint) || dst_size == 0) { result = Errc::decompression_failed; break; }  // frame cut short
    used += dst_size;
    if (used > max_bytes) { result = Errc::decompressed_too_large; break; }
  }
  LZ4F_freeDecompressionContext(dctx);
  out.resize(result == Errc::ok ? used : 0);
  return result;
}

// ---- zstd (KIP-110) --------------------------------------------------------------------------------------------

Errc zstd_compress(std::span<const std::uint8_t> in, int level, std::vector<std::uint8_t>& out) {
  out.resize(ZSTD_compressBound(in.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), level == 0 ? 3 : level);
  if (ZSTD_isError(n)) return Errc::compression_failed;
  out.resize(n);
  return Errc::ok;
}

Errc zstd_decompress(std::span<const std::uint8_t> in, std::size_t max_bytes, std::vector<std::uint8_t>& out) {
  ZSTD_DStream* ds = ZSTD_createDStream();
  if (ds == nullptr) return Errc::decompression_failed;
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::size_t used = 0;
  std::size_t hint = 1;  // 0 = a frame just ended
  Errc result = Errc::ok;
  for (;;) {
    if (input.pos == input.size && hint == 0) break;
    if (!grow(out, used, max_bytes)) { result = Errc::decompressed_too_large; break; }
    ZSTD_outBuffer output{out.data() + used, out.size() - used, 0};
    const std::size_t before_in = input.pos;
    hint = ZSTD_decompressStream(ds, &output, &input);
    if (ZSTD_isError(hint)) { result = Errc::decompression_failed; break; }
    used += output.pos;
    if (used > max_bytes) { result = Errc::decompressed_too_large; break; }
    if (output.pos == 0 && input.pos == before_in) { result = Errc::decompression_failed; break; }  // cut short
  }
  ZSTD_freeDStream(ds);
  out.resize(result == Errc::ok ? used : 0);
  return result;
}

}  // namespace

Errc compress(Compression codec, std::span<const std::uint8_t> in, int level, std::vector<std::uint8_t>& out) {
  switch (codec) {
    case Compression::none: out.assign(in.begin(), in.end()); return Errc::ok;
    case Compression::gzip: return gzip_compress(in, level, out);
    case Compression::snappy: return snappy_compress_xerial(in, out);
    case Compression::lz4: return lz4_compress(in, level, out);
    case Compression::zstd: return zstd_compress(in, level, out);
  }
  return Errc::unknown_compression;
}

Errc decompress(Compression codec, std::span<const std::uint8_t> in, std::size_t max_bytes,
                std::vector<std::uint8_t>& out) {
  switch (codec) {
    case Compression::none:
      if (in.size() > max_bytes) return Errc::decompressed_too_large;
      out.assign(in.begin(), in.end());
      return Errc::ok;
    case Compression::gzip: return gzip_decompress(in, max_bytes, out);
    case Compression::snappy: return snappy_decompress(in, max_bytes, out);
    case Compression::lz4: return lz4_decompress(in, max_bytes, out);
    case Compression::zstd: return zstd_decompress(in, max_bytes, out);
  }
  return Errc::unknown_compression;
}

}  // namespace kedge::records
