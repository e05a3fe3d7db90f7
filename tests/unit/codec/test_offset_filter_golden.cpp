// Golden vectors for a policy's OffsetFetch topic filtering
// (kafka_codec/topic_filter.h: filter_offset_fetch_topics) and how an
// OffsetFetch request asks for its topics (kafka_codec/refusal.h:
// offset_fetch_topics_asked). Every tests/golden/offset_filter/*.json is one
// case written by tests/golden/offset_filter/generate_offset_filter.py, an
// encoder independent of kafka_codec/ (built from OffsetFetchResponse.json and
// OffsetFetchRequest.json): a whole OffsetFetch response, how the request
// asked (all or by name) and the request itself, the topic names the filter
// denies, the topic names in wire order, and the frame a client must get
// (asked all: denied topics removed from Topics, v0-7, or from each group's
// Topics, v8+; asked by name: each denied topic answered
// TOPIC_AUTHORIZATION_FAILED on every partition the broker listed); null when
// nothing is denied (changed == false, the output untouched).
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

#include "kafka_codec/refusal.h"
#include "kafka_codec/topic_filter.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

struct OffsetCase {
  std::string file;
  std::int16_t version = 0;
  TopicsAsked asked = TopicsAsked::all;
  std::string asked_name;  // as the file spells it
  std::set<std::string> denied;
  std::vector<std::string> topics;  // wire order, v8+ group after group
  Bytes request;  // the OffsetFetch request the response answers
  Bytes response;
  std::optional<Bytes> expected;
};

std::string_view name_of(TopicsAsked asked) {
  switch (asked) {
    case TopicsAsked::all: return "all";
    case TopicsAsked::by_name: return "by_name";
    case TopicsAsked::by_id: return "by_id";
  }
  return "?";
}

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
      c.asked_name = j.at("asked").get<std::string>();
      c.asked = c.asked_name == "by_name" ? TopicsAsked::by_name : TopicsAsked::all;
      for (const auto& name : j.at("denied")) c.denied.insert(name.get<std::string>());
      for (const auto& name : j.at("topics")) c.topics.push_back(name.get<std::string>());
      c.request = from_hex(j.at("request_hex").get<std::string>());
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
  REQUIRE(cases.size() >= 10 * 8 * 2);
  std::map<std::pair<int, std::string>, std::size_t> unchanged, changed_cases;  // (version, asked)
  for (const auto& c : cases) {
    INFO(c.file);
    REQUIRE((c.asked_name == "all" || c.asked_name == "by_name"));
    // The request the response answers asks the way the vector says.
    CHECK(name_of(offset_fetch_topics_asked(c.request)) == c.asked_name);
    DenyTopics filter(c.denied);
    Bytes out{0x5A};
    bool changed = !c.expected.has_value();  // the opposite of what it must report
    REQUIRE(to_string(filter_offset_fetch_topics(c.response, c.version, c.asked, filter, out, changed)) == "ok");
    CHECK(changed == c.expected.has_value());
    // Every topic of the response (and nothing else: no group id) is asked about, once, in wire order.
    CHECK(filter.asked == c.topics);
    // A filter allowing every topic changes nothing.
    AllowAll all;
    Bytes untouched{0x5A};
    bool changed_all = true;
    REQUIRE(to_string(filter_offset_fetch_topics(c.response, c.version, c.asked, all, untouched, changed_all)) ==
            "ok");
    CHECK_FALSE(changed_all);
    CHECK(untouched == Bytes{0x5A});
    if (c.asked == TopicsAsked::all) {
      // Asked by id is answered as a listing (OffsetFetch never names topics by id).
      DenyTopics by_id(c.denied);
      Bytes by_id_out{0x5A};
      bool by_id_changed = !c.expected.has_value();
      REQUIRE(to_string(filter_offset_fetch_topics(c.response, c.version, TopicsAsked::by_id, by_id, by_id_out,
                                                   by_id_changed)) == "ok");
      CHECK(by_id_changed == c.expected.has_value());
      CHECK(to_hex(by_id_out) == to_hex(c.expected ? *c.expected : Bytes{0x5A}));
    }
    if (!c.expected) {
      CHECK(out == Bytes{0x5A});  // untouched
      ++unchanged[{c.version, c.asked_name}];
      continue;
    }
    ++changed_cases[{c.version, c.asked_name}];
    CHECK(to_hex(out) == to_hex(*c.expected));
    // Filtering the result again changes nothing: a listing has nothing left to refuse; topics asked by name
    // are refused again, into the same bytes.
    DenyTopics again(c.denied);
    Bytes second{0x5A};
    bool changed_again = c.asked == TopicsAsked::all;
    REQUIRE(to_string(filter_offset_fetch_topics(out, c.version, c.asked, again, second, changed_again)) == "ok");
    if (c.asked == TopicsAsked::all) {
      CHECK_FALSE(changed_again);
      CHECK(second == Bytes{0x5A});
    } else {
      CHECK(again.asked == c.topics);  // the answer keeps every topic element, in order
      CHECK(changed_again);
      CHECK(to_hex(second) == to_hex(out));
    }
  }
  // Every version and both ways of asking have vectors that change and vectors that do not.
  for (int v = 0; v <= 9; ++v) {
    for (const char* asked : {"all", "by_name"}) {
      INFO("OffsetFetch v" << v << " asked " << asked);
      CHECK(unchanged[{v, asked}] > 0);
      CHECK(changed_cases[{v, asked}] > 0);
    }
  }
}

TEST_CASE("offset filter vectors cover every OffsetFetch version 0-9, asked all and by name",
          "[offset_filter][golden][coverage]") {
  const auto& cases = offset_cases();
  REQUIRE_FALSE(cases.empty());
  std::map<int, std::set<std::string>> variants;
  for (const auto& c : cases) {
    INFO(c.file);
    CHECK(c.version >= 0);
    CHECK(c.version <= 9);
    const std::string variant = variant_of(c.file);
    // by_name vectors say so in their file name; every other one asks all.
    CHECK(c.asked_name == (variant.rfind("by_name", 0) == 0 ? "by_name" : "all"));
    variants[c.version].insert(variant);
  }
  for (int v = 0; v <= 9; ++v) {
    INFO("OffsetFetch v" << v);
    const auto& have = variants[v];
    for (const char* base : {"plain", "one_denied", "none_denied", "all_denied", "no_topics", "many_topics",
                             "null_metadata", "error"}) {
      const std::string all = base;
      const std::string by_name = all == "plain" ? std::string("by_name") : "by_name_" + all;
      INFO(all << " / " << by_name);
      CHECK(have.count(all));
      CHECK(have.count(by_name));
    }
    if (v >= 6) {
      CHECK(have.count("unknown_tags"));
      CHECK(have.count("by_name_unknown_tags"));
    }
    if (v >= 8) {
      CHECK(have.count("groups"));
      CHECK(have.count("groups_none_denied"));
      CHECK(have.count("by_name_groups"));
      CHECK(have.count("by_name_groups_none_denied"));
      CHECK(have.count("mixed_groups"));
    }
  }
}

namespace {

// A partial OffsetFetch request: per group, null Topics (std::nullopt: all of its offsets) or the topics it
// names, each with partition 0. v0-7 carry one group; RequireStable v7+; MemberId (null) and MemberEpoch v9+.
using GroupAsk = std::pair<std::string, std::optional<std::vector<std::string>>>;

Bytes offset_fetch_request(int version, const std::vector<GroupAsk>& groups) {
  const bool flexible = version >= 6;
  Builder b = header_v1(9, version, 0x0A5E);
  if (flexible) b.uvarint(0);  // header v2 tags
  auto str = [&](std::string_view s) -> Builder& { return flexible ? b.cstr(s) : b.str(s); };
  auto count = [&](int n) -> Builder& {  // n == -1: null
    return flexible ? b.uvarint(static_cast<std::uint32_t>(n + 1)) : b.i32(n);
  };
  auto topics = [&](const std::optional<std::vector<std::string>>& names) {
    if (!names) {
      count(-1);
      return;
    }
    count(static_cast<int>(names->size()));
    for (const std::string& name : *names) {
      str(name);
      count(1).i32(0);  // PartitionIndexes [0]
      if (flexible) b.uvarint(0);
    }
  };
  if (version < 8) {
    REQUIRE(groups.size() == 1);
    str(groups[0].first);
    topics(groups[0].second);
  } else {
    count(static_cast<int>(groups.size()));
    for (const auto& [group_id, names] : groups) {
      str(group_id);
      if (version >= 9) b.uvarint(0).i32(-1);  // MemberId null, MemberEpoch -1
      topics(names);
      b.uvarint(0);  // the group's tags
    }
  }
  if (version >= 7) b.i8(0);  // RequireStable
  if (flexible) b.uvarint(0);
  return b.frame();
}

}  // namespace

TEST_CASE("offset_fetch_topics_asked: by name when every group names its topics", "[offset_filter][asked]") {
  using Names = std::vector<std::string>;
  const Names two{"orders", "payments"};
  SECTION("v0-7: the group's Topics") {
    CHECK(offset_fetch_topics_asked(offset_fetch_request(0, {{"app", Names{"orders"}}})) == TopicsAsked::by_name);
    CHECK(offset_fetch_topics_asked(offset_fetch_request(1, {{"app", two}})) == TopicsAsked::by_name);
    CHECK(offset_fetch_topics_asked(offset_fetch_request(5, {{"app", two}})) == TopicsAsked::by_name);
    CHECK(offset_fetch_topics_asked(offset_fetch_request(7, {{"app", two}})) == TopicsAsked::by_name);
    CHECK(offset_fetch_topics_asked(offset_fetch_request(2, {{"app", std::nullopt}})) == TopicsAsked::all);
    CHECK(offset_fetch_topics_asked(offset_fetch_request(6, {{"app", std::nullopt}})) == TopicsAsked::all);
    CHECK(offset_fetch_topics_asked(offset_fetch_request(7, {{"app", std::nullopt}})) == TopicsAsked::all);
    // v0-1 cannot say null (an empty Topics names nothing); a null there does not parse.
    CHECK(offset_fetch_topics_asked(offset_fetch_request(1, {{"app", Names{}}})) == TopicsAsked::all);
    CHECK(offset_fetch_topics_asked(offset_fetch_request(1, {{"app", std::nullopt}})) == TopicsAsked::all);
  }
  SECTION("v8-9: every group's Topics") {
    for (const int v : {8, 9}) {
      INFO("v" << v);
      CHECK(offset_fetch_topics_asked(offset_fetch_request(v, {{"app", two}})) == TopicsAsked::by_name);
      CHECK(offset_fetch_topics_asked(offset_fetch_request(v, {{"app", two}, {"analytics", Names{"clicks"}}})) ==
            TopicsAsked::by_name);
      CHECK(offset_fetch_topics_asked(offset_fetch_request(v, {{"app", std::nullopt}})) == TopicsAsked::all);
      CHECK(offset_fetch_topics_asked(offset_fetch_request(v, {{"app", std::nullopt}, {"analytics", two}})) ==
            TopicsAsked::all);
      CHECK(offset_fetch_topics_asked(offset_fetch_request(v, {{"app", two}, {"analytics", std::nullopt}})) ==
            TopicsAsked::all);
      CHECK(offset_fetch_topics_asked(
                offset_fetch_request(v, {{"app", two}, {"analytics", std::nullopt}, {"billing", two}})) ==
            TopicsAsked::all);
      // An empty Topics (not null) names no topic but asks for none either: the other group's names decide.
      CHECK(offset_fetch_topics_asked(offset_fetch_request(v, {{"app", two}, {"analytics", Names{}}})) ==
            TopicsAsked::by_name);
      CHECK(offset_fetch_topics_asked(offset_fetch_request(v, {{"app", Names{}}, {"analytics", Names{}}})) ==
            TopicsAsked::all);
      // A group id that looks like a topic name is not one.
      CHECK(offset_fetch_topics_asked(offset_fetch_request(v, {{"orders", std::nullopt}})) == TopicsAsked::all);
    }
  }
  SECTION("not an OffsetFetch request, or one that does not parse") {
    // Metadata v1 naming topic orders, ListOffsets v1 naming orders partition 0: not OffsetFetch.
    CHECK(offset_fetch_topics_asked(header_v1(3, 1, 7).i32(1).str("orders").frame()) == TopicsAsked::all);
    CHECK(offset_fetch_topics_asked(
              header_v1(2, 1, 7).i32(-1).i32(1).str("orders").i32(1).i32(0).i64(-1).frame()) == TopicsAsked::all);
    // Cut anywhere before its last group ends (RequireStable and the body's tags are not read: the request
    // table holds only the leading fields a policy reads, schema.h leading_fields_only).
    const Bytes named = offset_fetch_request(8, {{"app", two}, {"analytics", Names{"clicks"}}});
    for (std::size_t length = 0; length + 2 < named.size(); ++length) {
      INFO("cut to " << length);
      CHECK(offset_fetch_topics_asked(truncated(named, length)) == TopicsAsked::all);
    }
    CHECK(offset_fetch_topics_asked(Bytes{}) == TopicsAsked::all);
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
      const Errc e =
          filter_offset_fetch_topics(truncated(c.response, length), c.version, c.asked, filter, out, changed);
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
      const Errc e = filter_offset_fetch_topics(longer, c.version, c.asked, filter, out, changed);
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
      CHECK(to_string(filter_offset_fetch_topics(c.response, version, c.asked, filter, out, changed)) ==
            "malformed_response");
    }
  }
  std::string first;
  for (std::size_t i = 0; i < wrong.size() && i < 20; ++i) first += wrong[i] + "\n";
  INFO(wrong.size() << " prefixes wrong; the first ones:\n" << first);
  CHECK(wrong.empty());
}
