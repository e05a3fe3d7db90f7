#pragma once
// Streaming walk of Fetch v16-18 responses (KIP-951). Pure: no libuv, no OpenSSL.
//
// Why a second walker: a Fetch response carries its NodeEndpoints in the
// top-level tagged-field section, i.e. *after* every Records blob, while the
// frame size goes out first. Buffering the frame to rewrite that tail would
// hold (and copy) every fetched byte. This walker forwards the frame as it
// arrives — Records blobs are counted past, never copied — and holds back only
// the top-level tag section, which it hands to the caller at the end of the
// frame. The caller then rewrites the section to the *same length*
// (fit_tag_section below), because the size prefix is already on the wire.
//
// Layout walked (FetchResponse v16-18, flexible, response header v1):
//   header {tags} | ThrottleTimeMs i32 | ErrorCode i16 | SessionId i32 |
//   Responses[]{ TopicId uuid | Partitions[]{ PartitionIndex i32 | ErrorCode i16 |
//     HighWatermark i64 | LastStableOffset i64 | LogStartOffset i64 |
//     AbortedTransactions[]?{ProducerId i64 | FirstOffset i64 | {tags}} |
//     PreferredReadReplica i32 | Records? | {tags} } | {tags} } | {tags: 0 = NodeEndpoints}
// It is the layout of schema.cpp's kFetch at 16-18 (the ApiVersions clamp caps
// Fetch at 18), and the unit tests check this walker against the schema engine
// on every Fetch v16-18 golden vector, split at every byte.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kafka_codec/stream.h"

namespace kedge::kafka {

class FetchResponseStream {
 public:
  static constexpr std::int16_t kMinVersion = 16;
  static constexpr std::int16_t kMaxVersion = 18;
  static bool handles(std::int16_t api_key, std::int16_t api_version) {
    return is(api_key, ApiKey::fetch) && api_version >= kMinVersion && api_version <= kMaxVersion;
  }

  // Starts a response whose body (the bytes after the correlation id) is
  // `body_bytes` long.
  void begin(std::uint32_t body_bytes);
  // Consumes bytes of the current frame from the front of `bytes` (advancing
  // it; bytes of the next frame are left). Bytes before the top-level tag
  // section are written to `sink` unchanged as soon as they are walked; the
  // section and anything after it are held (tail()). Errc::malformed_response
  // when the structure does not fit the frame; every length is checked against
  // the bytes left in the frame before it is used.
  Errc feed(std::span<const std::uint8_t>& bytes, ByteSink& sink);
  // True once every byte of the frame has been consumed.
  bool complete() const { return body_left_ == 0 && step_ == Step::tail; }
  // The held top-level tag section (plus any trailing bytes), complete when complete().
  std::span<const std::uint8_t> tail() const { return tail_; }
  std::size_t held_bytes() const { return tail_.size(); }
  // Frees the tail buffer if it grew past `keep_bytes`.
  void trim(std::size_t keep_bytes);
  std::size_t capacity_bytes() const { return tail_.capacity(); }

 private:
  enum class Step : std::uint8_t {
    tag_count, tag_number, tag_size,  // a TAG_BUFFER, then after_tags_
    top_fixed, topic_count, topic_begin, partition_count, partition_begin, aborted_count,
    aborted_entry, aborted_next, preferred_replica, records_length, partition_next, topic_next,
    tail,
  };
  static bool reads_varint(Step s);
  Errc on_varint(std::uint32_t value);
  Errc on_step();  // steps that consume no input themselves
  void tags_then(Step next) { step_ = Step::tag_count; after_tags_ = next; }
  Errc skip_then(std::uint64_t n, Step next);

  Step step_ = Step::tail;
  Step after_tags_ = Step::tail;
  std::uint32_t body_left_ = 0;
  std::uint32_t skip_left_ = 0;
  std::uint32_t varint_value_ = 0;
  std::uint8_t varint_bytes_ = 0;
  std::uint32_t tags_left_ = 0;
  std::uint32_t topics_left_ = 0;
  std::uint32_t partitions_left_ = 0;
  std::uint32_t aborted_left_ = 0;
  std::vector<std::uint8_t> tail_;
};

// What fit_tag_section did to keep a held tag section's length.
enum class TagFit : std::uint8_t {
  exact,     // the rewritten section had the original length
  padded,    // rewritten section shorter: padded to the original length
  stripped,  // rewritten section longer: tag `strip_tag` removed, then padded
  failed,    // the section does not parse (caller: malformed_response)
};

// Encodes `rewritten` (a tag section: count, elements, then trailing bytes,
// as FrameRewriter produced it) into exactly `target_bytes`, writing to `out`.
// Padding (KIP-482 tagged fields are skipped by every reader that does not know
// them): either the count varint is written in a wider, non-minimal form, or an
// extra field with tag kPaddingTag (above every tag present, so the section
// stays in ascending tag order) and zero bytes is appended. If the rewritten
// section is longer than the target, the field with tag `strip_tag` is taken
// out of `original` instead and the remainder padded: the client then gets no
// NodeEndpoints and falls back to a Metadata request (the pre-KIP-951 path),
// which kedge rewrites; a backend address is never forwarded.
TagFit fit_tag_section(std::span<const std::uint8_t> original, std::span<const std::uint8_t> rewritten,
                       std::uint32_t strip_tag, std::vector<std::uint8_t>& out);

// Tag number kedge uses for padding fields ("ke"); three varint bytes.
inline constexpr std::uint32_t kPaddingTag = 0x6b65;

}  // namespace kedge::kafka
