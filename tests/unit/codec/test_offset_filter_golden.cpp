// Golden vectors for a policy's OffsetFetch topic filtering
// (kafka_codec/topic_filter.h: filter_offset_fetch_topics). Every
// tests/golden/offset_filter/*.json is one case written by
// tests/golden/offset_filter/generate_offset_filter.py, an encoder independent
// of kafka_codec/ (built from OffsetFetchResponse.json): a whole OffsetFetch
// response, the topic names the filter denies, the topic names in wire order,
// and the frame a client must get (denied topics removed from Topics, v0-7, or
// from each group's Topics, v8+); null when nothing is denied (changed ==
// false, the output untouched).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafka_codec/topic_filter.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

struct OffsetCase {
  std::string file;
  std::int16_t version = 0;
  std::set<std::string> denied;
  std::vector<std::string> topics;  // wire order, v8+ group after group
  Bytes response;
  std::optional<Bytes> expected;
};

const std::vector<OffsetCase>& offset_cases() {
  static const std::vector<OffsetCase> cases = [] {
    std::vector<OffsetCase> out;
    const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "offset_filter";
    if (!fs::exists(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      std::ifstream in(entry.path());
      const auto j = nlohmann::json::parse(in);
      OffsetCase c;
      c.file = entry.path().filename().string();
      c.version = j.at("api_version").get<std::int16_t>();
      for (const auto& name : j.at("denied")) c.denied.insert(name.get<std::string>());
      for (const auto& name : j.at("topics")) c.topics.push_back(name.get<std::string>());
      c.response = from_hex(j.at("response_hex").get<std::string>());
      if (!j.at("expected_hex").is_null()) c.expected = from_hex(j.at("expected_hex").get<std::string>());
      out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.file < b.file; });
    return out;
  }();
  return cases;
}

struct DenyTopics final : TopicFilter {
  explicit DenyTopics(const std::set<std::string>& d) : denied(d) {}
  bool describable(std::string_view name) override {
    asked.emplace_back(name);
    return denied.count(std::string(name)) == 0;
  }
  const std::set<std::string>& denied;
  std::vector<std::string> asked;
};

struct AllowAll final : TopicFilter {
  bool describable(std::string_view) override { return true; }
};

// The variant of a file name: offset_fetch.v<N>[.<variant>].json.
std::string variant_of(const std::string& file) {
  const auto first = file.find('.');
  const auto second = file.find('.', first + 1);
  const auto last = file.rfind('.');
  return second == last ? std::string("plain") : file.substr(second + 1, last - second - 1);
}

}  // namespace

TEST_CASE("offset filter golden vectors", "[offset_filter][golden]") {
  const auto& cases = offset_cases();
  REQUIRE(cases.size() >= 10 * 8);
  std::size_t unchanged = 0;
  for (const auto& c : cases) {
    INFO(c.file);
    DenyTopics filter(c.denied);
    Bytes out{0x5A};
    bool changed = !c.expected.has_value();  // the opposite of what it must report
    REQUIRE(to_string(filter_offset_fetch_topics(c.response, c.version, filter, out, changed)) == "ok");
    CHECK(changed == c.expected.has_value());
    // Every topic of the response (and nothing else: no group id) is asked about.
    CHECK(std::multiset<std::string>(filter.asked.begin(), filter.asked.end()) ==
          std::multiset<std::string>(c.topics.begin(), c.topics.end()));
    // A filter allowing every topic changes nothing.
    AllowAll all;
    Bytes untouched{0x5A};
    bool changed_all = true;
    REQUIRE(to_string(filter_offset_fetch_topics(c.response, c.version, all, untouched, changed_all)) == "ok");
    CHECK_FALSE(changed_all);
    CHECK(untouched == Bytes{0x5A});
    if (!c.expected) {
      CHECK(out == Bytes{0x5A});  // untouched
      ++unchanged;
      continue;
    }
    CHECK(to_hex(out) == to_hex(*c.expected));
    // Filtering the result again changes nothing.
    DenyTopics again(c.denied);
    Bytes second{0x5A};
    bool changed_again = true;
    REQUIRE(to_string(filter_offset_fetch_topics(out, c.version, again, second, changed_again)) == "ok");
    CHECK_FALSE(changed_again);
    CHECK(second == Bytes{0x5A});
  }
  CHECK(unchanged > 0);
}

TEST_CASE("offset filter vectors cover every OffsetFetch version 0-9", "[offset_filter][golden][coverage]") {
  const auto& cases = offset_cases();
  REQUIRE_FALSE(cases.empty());
  std::map<int, std::set<std::string>> variants;
  for (const auto& c : cases) {
    CHECK(c.version >= 0);
    CHECK(c.version <= 9);
    variants[c.version].insert(variant_of(c.file));
  }
  for (int v = 0; v <= 9; ++v) {
    INFO("OffsetFetch v" << v);
    const auto& have = variants[v];
    for (const char* want : {"plain", "one_denied", "none_denied", "all_denied", "no_topics", "many_topics",
                             "null_metadata", "error"}) {
      INFO(want);
      CHECK(have.count(want));
    }
    if (v >= 6) CHECK(have.count("unknown_tags"));
    if (v >= 8) CHECK(have.count("groups"));
  }
}

TEST_CASE("offset filter: an OffsetFetch response cut short or of an unknown version is malformed_response",
          "[offset_filter][truncated]") {
  const auto& cases = offset_cases();
  REQUIRE_FALSE(cases.empty());
  std::vector<std::string> wrong;
  for (const auto& c : cases) {
    for (std::size_t length = 0; length < c.response.size(); ++length) {
      DenyTopics filter(c.denied);
      Bytes out{0x5A};
      bool changed = true;
      const Errc e = filter_offset_fetch_topics(truncated(c.response, length), c.version, filter, out, changed);
      if (e != Errc::malformed_response || out != Bytes{0x5A} || changed) {
        wrong.push_back(c.file + " cut to " + std::to_string(length) + ": " + std::string(to_string(e)));
      }
    }
    // A byte after the last field is carried verbatim (kafka_codec/engine.h: trailing bytes are tolerated).
    Bytes longer = c.response;
    longer.push_back(0x77);
    wire::set_size_prefix(longer);
    {
      DenyTopics filter(c.denied);
      Bytes out{0x5A};
      bool changed = !c.expected.has_value();
      const Errc e = filter_offset_fetch_topics(longer, c.version, filter, out, changed);
      Bytes want{0x5A};
      if (c.expected) {
        want = *c.expected;
        want.push_back(0x77);
        wire::set_size_prefix(want);
      }
      if (e != Errc::ok || changed != c.expected.has_value() || out != want) {
        wrong.push_back(c.file + " with a trailing byte: " + std::string(to_string(e)));
      }
    }
    for (const std::int16_t version : {std::int16_t{-1}, std::int16_t{10}}) {
      DenyTopics filter(c.denied);
      Bytes out;
      bool changed = false;
      CHECK(to_string(filter_offset_fetch_topics(c.response, version, filter, out, changed)) ==
            "malformed_response");
    }
  }
  std::string first;
  for (std::size_t i = 0; i < wrong.size() && i < 20; ++i) first += wrong[i] + "\n";
  INFO(wrong.size() << " prefixes wrong; the first ones:\n" << first);
  CHECK(wrong.empty());
}
