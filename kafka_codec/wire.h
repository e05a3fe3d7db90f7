#pragma once
// Kafka wire primitives (kafka-protocol.md §4): a bounds-checked big-endian
// reader over one frame and append-only writers. Pure, no exceptions: a read
// past the end marks the reader failed and returns false; every later read
// fails too, so callers may check once at the end of a group of reads.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kedge::kafka::wire {

class Reader {
 public:
  // Reads bytes [begin, end) of `data`; offsets reported by pos() are
  // absolute indexes into `data`, so nested readers share one coordinate system.
  Reader(std::span<const std::uint8_t> data, std::size_t begin, std::size_t end)
      : data_(data), pos_(begin), end_(end <= data.size() ? end : data.size()) {}
  explicit Reader(std::span<const std::uint8_t> data) : Reader(data, 0, data.size()) {}

  std::size_t pos() const { return pos_; }
  std::size_t end() const { return end_; }
  std::size_t remaining() const { return end_ - pos_; }
  bool failed() const { return failed_; }
  bool fail() { failed_ = true; return false; }

  bool skip(std::size_t n) {
    if (failed_ || n > remaining()) return fail();
    pos_ += n;
    return true;
  }
  bool read_u8(std::uint8_t& out) {
    if (failed_ || remaining() < 1) return fail();
    out = data_[pos_++];
    return true;
  }
  bool read_i8(std::int8_t& out) {
    std::uint8_t v = 0;
    if (!read_u8(v)) return false;
    out = static_cast<std::int8_t>(v);
    return true;
  }
  bool read_u16(std::uint16_t& out) {
    std::uint64_t v = 0;
    if (!read_be<2>(v)) return false;
    out = static_cast<std::uint16_t>(v);
    return true;
  }
  bool read_i16(std::int16_t& out) {
    std::uint16_t v = 0;
    if (!read_u16(v)) return false;
    out = static_cast<std::int16_t>(v);
    return true;
  }
  bool read_i32(std::int32_t& out) {
    std::uint64_t v = 0;
    if (!read_be<4>(v)) return false;
    out = static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return true;
  }
  bool read_i64(std::int64_t& out) {
    std::uint64_t v = 0;
    if (!read_be<8>(v)) return false;
    out = static_cast<std::int64_t>(v);
    return true;
  }
  // UNSIGNED_VARINT, at most 5 bytes and 32 bits (ByteUtils.readUnsignedVarint).
  bool read_uvarint(std::uint32_t& out) {
    std::uint32_t value = 0;
    for (int i = 0; i < 5; ++i) {
      std::uint8_t b = 0;
      if (!read_u8(b)) return false;
      if (i == 4 && (b & 0xf0) != 0) return fail();  // would exceed 32 bits
      value |= static_cast<std::uint32_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        out = value;
        return true;
      }
    }
    return fail();
  }
  std::string_view view(std::size_t begin, std::size_t len) const {
    return {reinterpret_cast<const char*>(data_.data() + begin), len};
  }

 private:
  template <std::size_t N>
  bool read_be(std::uint64_t& out) {
    if (failed_ || remaining() < N) return fail();
    const std::uint8_t* p = data_.data() + pos_;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < N; ++i) v = (v << 8) | p[i];
    pos_ += N;
    out = v;
    return true;
  }

  std::span<const std::uint8_t> data_;
  std::size_t pos_;
  std::size_t end_;
  bool failed_ = false;
};

inline void put_be(std::vector<std::uint8_t>& out, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
inline void put_i8(std::vector<std::uint8_t>& out, std::int8_t v) { out.push_back(static_cast<std::uint8_t>(v)); }
inline void put_i16(std::vector<std::uint8_t>& out, std::int16_t v) { put_be(out, static_cast<std::uint16_t>(v), 2); }
inline void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) { put_be(out, v, 2); }
inline void put_i32(std::vector<std::uint8_t>& out, std::int32_t v) { put_be(out, static_cast<std::uint32_t>(v), 4); }
inline void put_i64(std::vector<std::uint8_t>& out, std::int64_t v) { put_be(out, static_cast<std::uint64_t>(v), 8); }
// Sets the 4-byte size prefix of a whole frame built in `frame` (size prefix
// included) to the bytes after it.
inline void set_size_prefix(std::vector<std::uint8_t>& frame) {
  const auto size = static_cast<std::uint32_t>(frame.size() - 4);
  for (int i = 0; i < 4; ++i) frame[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
}
inline void put_uvarint(std::vector<std::uint8_t>& out, std::uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v));
}
inline std::size_t uvarint_size(std::uint32_t v) {
  std::size_t n = 1;
  while (v >= 0x80) { v >>= 7; ++n; }
  return n;
}
// Inserted as bytes: inserting chars into a vector of uint8_t is an element-wise
// converting copy, not a memcpy.
inline void put_bytes(std::vector<std::uint8_t>& out, std::string_view s) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  out.insert(out.end(), p, p + s.size());
}
// STRING (int16 length) or COMPACT_STRING (uvarint length+1); caller bounds s to 32767 bytes.
inline void put_string(std::vector<std::uint8_t>& out, std::string_view s, bool compact) {
  if (compact) put_uvarint(out, static_cast<std::uint32_t>(s.size()) + 1);
  else put_i16(out, static_cast<std::int16_t>(s.size()));
  put_bytes(out, s);
}

inline std::int32_t get_i32(const std::uint8_t* p) {
  return static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                   (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]});
}
inline std::int16_t get_i16(const std::uint8_t* p) {
  return static_cast<std::int16_t>((std::uint16_t{p[0]} << 8) | std::uint16_t{p[1]});
}

}  // namespace kedge::kafka::wire
