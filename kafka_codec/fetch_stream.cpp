#include "kafka_codec/fetch_stream.h"

#include <algorithm>

#include "kafka_codec/wire.h"

namespace kedge::kafka {

namespace {
constexpr std::uint32_t kTopFixedBytes = 4 + 2 + 4;            // ThrottleTimeMs, ErrorCode, SessionId
constexpr std::uint32_t kTopicIdBytes = 16;                    // uuid
constexpr std::uint32_t kPartitionFixedBytes = 4 + 2 + 8 + 8 + 8;  // index, error, HW, LSO, log start
constexpr std::uint32_t kAbortedFixedBytes = 8 + 8;            // ProducerId, FirstOffset
constexpr std::uint32_t kPreferredReplicaBytes = 4;
}  // namespace

void FetchResponseStream::begin(std::uint32_t body_bytes) {
  body_left_ = body_bytes;
  skip_left_ = 0;
  varint_value_ = 0;
  varint_bytes_ = 0;
  tail_.clear();
  tags_then(Step::top_fixed);  // response header v1: its tag buffer first
}

void FetchResponseStream::trim(std::size_t keep_bytes) {
  if (tail_.capacity() > keep_bytes) std::vector<std::uint8_t>().swap(tail_);
}

bool FetchResponseStream::reads_varint(Step s) {
  switch (s) {
    case Step::tag_count:
    case Step::tag_number:
    case Step::tag_size:
    case Step::topic_count:
    case Step::partition_count:
    case Step::aborted_count:
    case Step::records_length: return true;
    default: return false;
  }
}

Errc FetchResponseStream::skip_then(std::uint64_t n, Step next) {
  if (n > body_left_) return Errc::malformed_response;
  skip_left_ = static_cast<std::uint32_t>(n);
  step_ = next;
  return Errc::ok;
}

// A count read from the wire must leave at least one byte per element in the frame.
Errc FetchResponseStream::on_varint(std::uint32_t value) {
  switch (step_) {
    case Step::tag_count:
      if (value > body_left_) return Errc::malformed_response;
      tags_left_ = value;
      step_ = value == 0 ? after_tags_ : Step::tag_number;
      return Errc::ok;
    case Step::tag_number:
      step_ = Step::tag_size;
      return Errc::ok;
    case Step::tag_size:
      --tags_left_;
      return skip_then(value, tags_left_ == 0 ? after_tags_ : Step::tag_number);
    case Step::topic_count:  // Responses: compact array, not nullable
      if (value == 0 || value - 1 > body_left_) return Errc::malformed_response;
      topics_left_ = value - 1;
      step_ = topics_left_ == 0 ? Step::tail : Step::topic_begin;
      return Errc::ok;
    case Step::partition_count:
      if (value == 0 || value - 1 > body_left_) return Errc::malformed_response;
      partitions_left_ = value - 1;
      if (partitions_left_ == 0) tags_then(Step::topic_next);
      else step_ = Step::partition_begin;
      return Errc::ok;
    case Step::aborted_count:  // nullable: 0 = null
      aborted_left_ = value == 0 ? 0 : value - 1;
      if (aborted_left_ > body_left_ / kAbortedFixedBytes) return Errc::malformed_response;
      step_ = aborted_left_ == 0 ? Step::preferred_replica : Step::aborted_entry;
      return Errc::ok;
    case Step::records_length:  // nullable: 0 = null; the blob is counted past, never read
      // The partition's tag buffer follows the blob.
      if (Errc e = skip_then(value == 0 ? 0 : value - 1u, Step::tag_count); e != Errc::ok) return e;
      after_tags_ = Step::partition_next;
      return Errc::ok;
    default: return Errc::malformed_response;
  }
}

Errc FetchResponseStream::on_step() {
  switch (step_) {
    case Step::top_fixed: return skip_then(kTopFixedBytes, Step::topic_count);
    case Step::topic_begin: return skip_then(kTopicIdBytes, Step::partition_count);
    case Step::partition_begin: return skip_then(kPartitionFixedBytes, Step::aborted_count);
    case Step::aborted_entry:
      if (Errc e = skip_then(kAbortedFixedBytes, Step::tag_count); e != Errc::ok) return e;
      after_tags_ = Step::aborted_next;
      return Errc::ok;
    case Step::aborted_next:
      --aborted_left_;
      step_ = aborted_left_ == 0 ? Step::preferred_replica : Step::aborted_entry;
      return Errc::ok;
    case Step::preferred_replica: return skip_then(kPreferredReplicaBytes, Step::records_length);
    case Step::partition_next:
      --partitions_left_;
      if (partitions_left_ == 0) tags_then(Step::topic_next);
      else step_ = Step::partition_begin;
      return Errc::ok;
    case Step::topic_next:
      --topics_left_;
      step_ = topics_left_ == 0 ? Step::tail : Step::topic_begin;
      return Errc::ok;
    default: return Errc::malformed_response;
  }
}

Errc FetchResponseStream::feed(std::span<const std::uint8_t>& bytes, ByteSink& sink) {
  const std::uint8_t* run = bytes.data();  // start of the unchanged bytes not yet written
  auto flush = [&] {
    if (bytes.data() != run) sink.write(std::span<const std::uint8_t>(run, bytes.data()));
  };
  while (step_ != Step::tail || skip_left_ > 0) {
    if (skip_left_ > 0) {
      if (bytes.empty()) break;
      const std::uint32_t n = static_cast<std::uint32_t>(std::min<std::size_t>(skip_left_, bytes.size()));
      bytes = bytes.subspan(n);
      skip_left_ -= n;
      body_left_ -= n;  // skip_then checked skip_left_ <= body_left_
      continue;
    }
    if (!reads_varint(step_)) {
      if (Errc e = on_step(); e != Errc::ok) return e;
      continue;
    }
    // UNSIGNED_VARINT, at most 5 bytes / 32 bits (ByteUtils.readUnsignedVarint).
    if (body_left_ == 0) return Errc::malformed_response;  // the frame ended inside the structure
    if (bytes.empty()) break;
    const std::uint8_t b = bytes.front();
    bytes = bytes.subspan(1);
    --body_left_;
    if (varint_bytes_ == 4 && (b & 0xf0) != 0) return Errc::malformed_response;
    varint_value_ |= static_cast<std::uint32_t>(b & 0x7f) << (7 * varint_bytes_);
    ++varint_bytes_;
    if ((b & 0x80) != 0) continue;
    const std::uint32_t value = varint_value_;
    varint_value_ = 0;
    varint_bytes_ = 0;
    if (Errc e = on_varint(value); e != Errc::ok) return e;
  }
  flush();
  if (step_ == Step::tail && skip_left_ == 0) {
    // The top-level tag section and any trailing bytes: held for the caller.
    const std::size_t n = std::min<std::size_t>(body_left_, bytes.size());
    tail_.insert(tail_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    body_left_ -= static_cast<std::uint32_t>(n);
  }
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Tag sections of the same length.

namespace {

struct TagElement {
  std::uint32_t tag = 0;
  std::size_t begin = 0, end = 0;  // whole element: tag varint, size varint, value
};

struct ParsedTagSection {
  std::uint32_t count = 0;
  std::vector<TagElement> elements;
  std::size_t elements_begin = 0, elements_end = 0;  // after the count varint .. after the last element
};

bool parse_tag_section(std::span<const std::uint8_t> section, ParsedTagSection& out) {
  wire::Reader r(section);
  if (!r.read_uvarint(out.count)) return false;
  if (out.count > r.remaining()) return false;
  out.elements_begin = r.pos();
  for (std::uint32_t i = 0; i < out.count; ++i) {
    TagElement e;
    e.begin = r.pos();
    std::uint32_t size = 0;
    if (!r.read_uvarint(e.tag) || !r.read_uvarint(size) || !r.skip(size)) return false;
    e.end = r.pos();
    out.elements.push_back(e);
  }
  out.elements_end = r.pos();
  return true;
}

// UNSIGNED_VARINT written in exactly `width` bytes (non-minimal when wider than
// needed: readers accumulate 7 bits per byte while the high bit is set).
void put_uvarint_width(std::vector<std::uint8_t>& out, std::uint32_t v, std::size_t width) {
  for (std::size_t i = 0; i + 1 < width; ++i) {
    out.push_back(static_cast<std::uint8_t>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(v & 0x7f));
}

bool fits_width(std::uint32_t v, std::size_t width) {
  return width >= 5 || v < (std::uint32_t{1} << (7 * width));
}

// Writes count + elements (given as byte ranges of `src`) + trailing into exactly `target` bytes.
bool encode_padded(std::span<const std::uint8_t> src, std::uint32_t count,
                   std::span<const TagElement> elements, std::span<const std::uint8_t> trailing,
                   std::size_t target, std::vector<std::uint8_t>& out) {
  std::size_t base = trailing.size();
  std::uint32_t max_tag = 0;
  for (const TagElement& e : elements) {
    base += e.end - e.begin;
    max_tag = std::max(max_tag, e.tag);
  }
  if (target <= base) return false;
  const std::size_t room = target - base;  // for the count varint and a padding field
  auto emit = [&](std::uint32_t n, std::size_t count_width) {
    put_uvarint_width(out, n, count_width);
    for (const TagElement& e : elements) out.insert(out.end(), src.begin() + e.begin, src.begin() + e.end);
  };
  out.clear();
  if (room <= 5 && fits_width(count, room)) {  // a wider count varint absorbs 1-5 bytes
    emit(count, room);
    out.insert(out.end(), trailing.begin(), trailing.end());
    return true;
  }
  const std::uint32_t pad_tag = std::max(kPaddingTag, max_tag + 1);
  if (pad_tag <= max_tag) return false;  // max_tag == UINT32_MAX: no tag above it
  const std::size_t count_width = wire::uvarint_size(count + 1);
  const std::size_t tag_width = wire::uvarint_size(pad_tag);
  if (room < count_width + tag_width + 1) return false;
  const std::size_t rest = room - count_width - tag_width;  // size varint + zero bytes
  for (std::size_t size_width = 1; size_width <= 5 && size_width <= rest; ++size_width) {
    const std::size_t zeros = rest - size_width;
    if (zeros > 0xffffffffu || !fits_width(static_cast<std::uint32_t>(zeros), size_width)) continue;
    emit(count + 1, count_width);
    wire::put_uvarint(out, pad_tag);
    put_uvarint_width(out, static_cast<std::uint32_t>(zeros), size_width);
    out.insert(out.end(), zeros, std::uint8_t{0});
    out.insert(out.end(), trailing.begin(), trailing.end());
    return true;
  }
  return false;
}

}  // namespace

TagFit fit_tag_section(std::span<const std::uint8_t> original, std::span<const std::uint8_t> rewritten,
                       std::uint32_t strip_tag, std::vector<std::uint8_t>& out) {
  const std::size_t target = original.size();
  ParsedTagSection parsed;
  if (!parse_tag_section(rewritten, parsed)) return TagFit::failed;
  if (rewritten.size() == target) {
    out.assign(rewritten.begin(), rewritten.end());
    return TagFit::exact;
  }
  if (rewritten.size() < target &&
      encode_padded(rewritten, parsed.count, parsed.elements, rewritten.subspan(parsed.elements_end), target, out))
    return TagFit::padded;
  // Longer than the original (or no padding fits): drop `strip_tag` from the original section.
  ParsedTagSection source;
  if (!parse_tag_section(original, source)) return TagFit::failed;
  std::vector<TagElement> kept;
  for (const TagElement& e : source.elements)
    if (e.tag != strip_tag) kept.push_back(e);
  if (kept.size() == source.elements.size()) return TagFit::failed;  // nothing to strip, cannot fit
  if (!encode_padded(original, static_cast<std::uint32_t>(kept.size()), kept,
                     original.subspan(source.elements_end), target, out))
    return TagFit::failed;
  return TagFit::stripped;
}

}  // namespace kedge::kafka
