#pragma once
// UTF-8 validation for WebSocket text (RFC 6455 §5.6, §8.1): text messages
// and Close reasons must be valid UTF-8 as RFC 3629 defines it, so overlong
// forms, UTF-16 surrogates (U+D800..U+DFFF) and code points above U+10FFFF are
// refused. The validator is incremental: a text message arrives in fragments
// and pieces, and a sequence may be split anywhere between them. Pure, no
// allocation.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kedge::web {

// Grammar (RFC 3629 §4), the byte ranges the validator enforces:
//   UTF8-1 = %x00-7F
//   UTF8-2 = %xC2-DF UTF8-tail
//   UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
//            %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
//   UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
//            %xF4 %x80-8F 2( UTF8-tail )
//   UTF8-tail = %x80-BF
// C0, C1 and E0 80-9F, F0 80-8F would be overlong; ED A0-BF would be a
// surrogate; F4 90-BF and F5-FF would be above U+10FFFF.
class Utf8Validator {
 public:
  // Feeds the next bytes of the text. Returns false as soon as the bytes so
  // far cannot begin any valid UTF-8 text (fail fast, §8.1); the failure is
  // sticky until reset(). A sequence may continue in the next call.
  bool feed(std::span<const std::uint8_t> bytes);
  // True when every byte fed so far forms valid UTF-8 that ends on a character
  // boundary (no sequence left open): the test for the end of a text message.
  bool complete() const { return !failed_ && tails_left_ == 0; }
  bool failed() const { return failed_; }
  void reset() { *this = Utf8Validator{}; }

 private:
  std::uint8_t tails_left_ = 0;  // continuation bytes still needed by the open sequence
  std::uint8_t next_low_ = 0x80;  // range allowed for the next continuation byte
  std::uint8_t next_high_ = 0xBF;
  bool failed_ = false;
};

// Whole-text check: valid UTF-8, no sequence left open.
bool is_valid_utf8(std::span<const std::uint8_t> bytes);
inline bool is_valid_utf8(std::string_view text) {
  return is_valid_utf8(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// `text` with every byte that does not belong to a valid UTF-8 sequence replaced by `replacement` (one per byte),
// for text that must go out as UTF-8 (protobuf `string`, JSON) but came from elsewhere.
std::string replace_invalid_utf8(std::string_view text, std::string_view replacement);

}  // namespace kedge::web
