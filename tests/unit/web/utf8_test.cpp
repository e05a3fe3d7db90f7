// web/utf8.h against a table of valid and invalid sequences (RFC 3629 §4, the
// edges Markus Kuhn's UTF-8 stress test probes), every split of each, the byte
// at which an invalid text fails, and an exhaustive comparison with a decoder
// written from the code point definition instead of byte ranges
// (reference_utf8_valid in web_test_support.h).
#include <catch2/catch.hpp>

#include <optional>

#include "web/utf8.h"
#include "web_test_support.h"

using namespace kedge::web;
using namespace kedge::web::test;

namespace {

enum class Verdict { valid, invalid, truncated };

struct Sample {
  std::string hex;
  Verdict verdict;
  std::string what;
  std::size_t fails_at = 0;  // invalid: index of the byte that makes it invalid
};

const std::vector<Sample>& samples() {
  static const std::vector<Sample> table = {
      {"", Verdict::valid, "empty"},
      {"00", Verdict::valid, "NUL"},
      {"41 7f", Verdict::valid, "ASCII up to DEL"},
      {"c2 80", Verdict::valid, "U+0080, first 2-byte"},
      {"df bf", Verdict::valid, "U+07FF, last 2-byte"},
      {"e0 a0 80", Verdict::valid, "U+0800, first 3-byte"},
      {"ed 9f bf", Verdict::valid, "U+D7FF, just below the surrogates"},
      {"ee 80 80", Verdict::valid, "U+E000, just above the surrogates"},
      {"ef bf bd", Verdict::valid, "U+FFFD"},
      {"ef bf bf", Verdict::valid, "U+FFFF, last 3-byte (a noncharacter, still valid UTF-8)"},
      {"ef bb bf", Verdict::valid, "U+FEFF BOM"},
      {"f0 90 80 80", Verdict::valid, "U+10000, first 4-byte"},
      {"f4 8f bf bf", Verdict::valid, "U+10FFFF, the last code point"},
      {"ce ba e1 bd b9 cf 83 ce bc ce b5", Verdict::valid, "kosme (Kuhn 1)"},
      {"f0 9d 84 9e 20 e2 9c 93", Verdict::valid, "G clef, space, check mark"},
      {"80", Verdict::invalid, "lone continuation 80", 0},
      {"41 bf", Verdict::invalid, "lone continuation BF after ASCII", 1},
      {"c0 80", Verdict::invalid, "overlong NUL (C0 80)", 0},
      {"c0 af", Verdict::invalid, "overlong '/' (C0 AF)", 0},
      {"c1 bf", Verdict::invalid, "overlong U+007F (C1 BF)", 0},
      {"e0 80 af", Verdict::invalid, "overlong '/' in 3 bytes", 1},
      {"e0 9f bf", Verdict::invalid, "overlong U+07FF in 3 bytes", 1},
      {"f0 80 80 af", Verdict::invalid, "overlong '/' in 4 bytes", 1},
      {"f0 8f bf bf", Verdict::invalid, "overlong U+FFFF in 4 bytes", 1},
      {"f8 88 80 80 80", Verdict::invalid, "5-byte form", 0},
      {"fc 84 80 80 80 80", Verdict::invalid, "6-byte form", 0},
      {"ed a0 80", Verdict::invalid, "U+D800, first high surrogate", 1},
      {"ed ad bf", Verdict::invalid, "U+DB7F", 1},
      {"ed b0 80", Verdict::invalid, "U+DC00, first low surrogate", 1},
      {"ed bf bf", Verdict::invalid, "U+DFFF, last surrogate", 1},
      {"ed a0 80 ed b0 80", Verdict::invalid, "surrogate pair U+10000 in CESU-8", 1},
      {"f4 90 80 80", Verdict::invalid, "U+110000", 1},
      {"f5 80 80 80", Verdict::invalid, "lead F5", 0},
      {"f7 bf bf bf", Verdict::invalid, "U+1FFFFF in 4 bytes", 0},
      {"fe", Verdict::invalid, "FE", 0},
      {"ff", Verdict::invalid, "FF", 0},
      {"c2 41", Verdict::invalid, "2-byte lead then ASCII", 1},
      {"e1 80 41", Verdict::invalid, "3-byte sequence cut by ASCII", 2},
      {"f1 80 80 c0", Verdict::invalid, "4-byte sequence ended by a lead", 3},
      {"e1 80 e1 80 80", Verdict::invalid, "a lead where a continuation belongs", 2},
      {"ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64", Verdict::invalid,
       "Autobahn 6.6.x style: valid text then a surrogate", 12},
      {"c2", Verdict::truncated, "2-byte lead alone"},
      {"e0 a0", Verdict::truncated, "3-byte sequence missing its last byte"},
      {"f0 90 80", Verdict::truncated, "4-byte sequence missing its last byte"},
      {"41 f4 8f", Verdict::truncated, "ASCII then half of U+10FFFF"},
  };
  return table;
}

}  // namespace

TEST_CASE("UTF-8 table: whole, split at every point, byte by byte", "[web][utf8]") {
  for (const Sample& sample : samples()) {
    const Bytes bytes = from_hex(sample.hex);
    INFO(sample.what << " (" << sample.hex << ")");
    CHECK(is_valid_utf8(bytes) == (sample.verdict == Verdict::valid));
    CHECK(reference_utf8_valid(bytes) == (sample.verdict == Verdict::valid));
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
      Utf8Validator validator;
      const bool first = validator.feed(std::span(bytes).first(cut));
      const bool second = first && validator.feed(std::span(bytes).subspan(cut));
      INFO("cut at " << cut);
      CHECK(second == (sample.verdict != Verdict::invalid));
      CHECK(validator.complete() == (sample.verdict == Verdict::valid));
      CHECK(validator.failed() == (sample.verdict == Verdict::invalid));
    }
    // Fail fast: every prefix before the offending byte is accepted, the offending byte is not.
    Utf8Validator bytewise;
    std::optional<std::size_t> failed_at;
    for (std::size_t i = 0; i < bytes.size() && !failed_at; ++i) {
      if (!bytewise.feed(std::span(bytes).subspan(i, 1))) failed_at = i;
    }
    if (sample.verdict == Verdict::invalid) {
      REQUIRE(failed_at);
      CHECK(*failed_at == sample.fails_at);
    } else {
      CHECK_FALSE(failed_at);
    }
  }
}

TEST_CASE("UTF-8 failure is sticky until reset", "[web][utf8]") {
  Utf8Validator validator;
  CHECK_FALSE(validator.feed(from_hex("ff")));
  CHECK_FALSE(validator.feed(bytes_of("plain ASCII")));
  CHECK_FALSE(validator.complete());
  validator.reset();
  CHECK(validator.feed(bytes_of("plain ASCII")));
  CHECK(validator.complete());
}

TEST_CASE("UTF-8 long ASCII runs and a bad byte at any position of an 8-byte word", "[web][utf8]") {
  for (std::size_t at = 0; at < 40; ++at) {
    Bytes text(40, 'a');
    CHECK(is_valid_utf8(text));
    text[at] = 0x80;
    INFO(at);
    CHECK_FALSE(is_valid_utf8(text));
    text[at] = 0xC3;
    CHECK_FALSE(is_valid_utf8(text));  // then 'a': not a continuation
  }
}

TEST_CASE("UTF-8 validator equals the reference decoder: every 1- and 2-byte string, 3- and 4-byte edges",
          "[web][utf8]") {
  std::size_t mismatches = 0;
  for (int a = 0; a < 256; ++a) {
    const Bytes one{static_cast<std::uint8_t>(a)};
    if (is_valid_utf8(one) != reference_utf8_valid(one)) ++mismatches;
    for (int b = 0; b < 256; ++b) {
      const Bytes two{static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b)};
      if (is_valid_utf8(two) != reference_utf8_valid(two)) ++mismatches;
    }
  }
  // Every lead from C0 up, every second byte, tails at the continuation range's edges and just outside.
  const std::uint8_t tails[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (int lead = 0xC0; lead < 256; ++lead) {
    for (int second = 0; second < 256; ++second) {
      for (const std::uint8_t third : tails) {
        const Bytes three{static_cast<std::uint8_t>(lead), static_cast<std::uint8_t>(second), third};
        if (is_valid_utf8(three) != reference_utf8_valid(three)) ++mismatches;
        for (const std::uint8_t fourth : tails) {
          const Bytes four{static_cast<std::uint8_t>(lead), static_cast<std::uint8_t>(second), third, fourth};
          if (is_valid_utf8(four) != reference_utf8_valid(four)) ++mismatches;
        }
      }
    }
  }
  CHECK(mismatches == 0);
}
