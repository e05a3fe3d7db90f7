#include "web/utf8.h"

#include <cstring>

namespace kedge::web {

bool Utf8Validator::feed(std::span<const std::uint8_t> bytes) {
  if (failed_) return false;
  const std::uint8_t* p = bytes.data();
  const std::uint8_t* const end = p + bytes.size();
  while (p != end) {
    if (tails_left_ == 0) {
      // ASCII runs (JSON commands are mostly ASCII): 8 bytes at a time.
      while (end - p >= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, sizeof word);
        if ((word & 0x8080808080808080ULL) != 0) break;
        p += 8;
      }
      if (p == end) break;
      const std::uint8_t lead = *p++;
      if (lead < 0x80) continue;
      // Each lead byte fixes how many continuation bytes follow and the range
      // of the first one (the table in utf8.h).
      next_low_ = 0x80;
      next_high_ = 0xBF;
      if (lead >= 0xC2 && lead <= 0xDF) {
        tails_left_ = 1;
      } else if (lead >= 0xE0 && lead <= 0xEF) {
        tails_left_ = 2;
        if (lead == 0xE0) next_low_ = 0xA0;   // below: overlong
        if (lead == 0xED) next_high_ = 0x9F;  // above: surrogates
      } else if (lead >= 0xF0 && lead <= 0xF4) {
        tails_left_ = 3;
        if (lead == 0xF0) next_low_ = 0x90;   // below: overlong
        if (lead == 0xF4) next_high_ = 0x8F;  // above: past U+10FFFF
      } else {
        failed_ = true;  // 80-BF without a lead, C0-C1 (overlong), F5-FF
        return false;
      }
      continue;
    }
    const std::uint8_t tail = *p++;
    if (tail < next_low_ || tail > next_high_) {
      failed_ = true;
      return false;
    }
    --tails_left_;
    next_low_ = 0x80;
    next_high_ = 0xBF;
  }
  return true;
}

bool is_valid_utf8(std::span<const std::uint8_t> bytes) {
  Utf8Validator validator;
  return validator.feed(bytes) && validator.complete();
}

std::string replace_invalid_utf8(std::string_view text, std::string_view replacement) {
  if (is_valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + replacement.size());
  std::size_t i = 0;
  while (i < text.size()) {
    // A valid sequence is valid on its own and none of its proper prefixes is: the first n (1..4) bytes from i
    // that are valid are exactly one character.
    std::size_t taken = 0;
    for (std::size_t n = 1; n <= 4 && i + n <= text.size(); ++n) {
      if (is_valid_utf8(text.substr(i, n))) {
        taken = n;
        break;
      }
    }
    if (taken == 0) {
      out.append(replacement);
      ++i;
    } else {
      out.append(text.substr(i, taken));
      i += taken;
    }
  }
  return out;
}

}  // namespace kedge::web
