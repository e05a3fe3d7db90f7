// Golden vectors for a policy's ListGroups filtering (kafka_codec/topic_filter.h:
// filter_list_groups). Every tests/golden/group_filter/*.json is one case
// written by tests/golden/group_filter/generate_group_filter.py, an encoder
// independent of kafka_codec/ (built from ListGroupsResponse.json): a whole
// ListGroups response, the group ids the filter denies, and the frame a client
// must get (denied groups removed); null when nothing is denied (changed ==
// false, the output untouched).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
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

struct GroupCase {
  std::string file;
  std::int16_t version = 0;
  std::set<std::string> denied;
  Bytes response;
  std::optional<Bytes> expected;
};

const std::vector<GroupCase>& group_cases() {
  static const std::vector<GroupCase> cases = [] {
    std::vector<GroupCase> out;
    const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "group_filter";
    if (!fs::exists(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      std::ifstream in(entry.path());
      const auto j = nlohmann::json::parse(in);
      GroupCase c;
      c.file = entry.path().filename().string();
      c.version = j.at("api_version").get<std::int16_t>();
      for (const auto& name : j.at("denied")) c.denied.insert(name.get<std::string>());
      c.response = from_hex(j.at("response_hex").get<std::string>());
      if (!j.at("expected_hex").is_null()) c.expected = from_hex(j.at("expected_hex").get<std::string>());
      out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.file < b.file; });
    return out;
  }();
  return cases;
}

struct DenyGroups final : GroupFilter {
  explicit DenyGroups(const std::set<std::string>& d) : denied(d) {}
  bool group_describable(std::string_view id) override {
    asked.emplace_back(id);
    return denied.count(std::string(id)) == 0;
  }
  const std::set<std::string>& denied;
  std::vector<std::string> asked;
};

}  // namespace

TEST_CASE("group filter golden vectors", "[group_filter][golden]") {
  const auto& cases = group_cases();
  REQUIRE(cases.size() >= 6 * 6);
  std::set<int> versions;
  std::size_t unchanged = 0;
  for (const auto& c : cases) {
    INFO(c.file);
    versions.insert(c.version);
    DenyGroups filter(c.denied);
    Bytes out{0x5A};
    bool changed = !c.expected.has_value();  // the opposite of what it must report
    REQUIRE(to_string(filter_list_groups(c.response, c.version, filter, out, changed)) == "ok");
    CHECK(changed == c.expected.has_value());
    if (!c.expected) {
      CHECK(out == Bytes{0x5A});  // untouched
      ++unchanged;
      continue;
    }
    CHECK(to_hex(out) == to_hex(*c.expected));
    // Every listed group is asked about once, in order; filtering the result again changes nothing.
    CHECK_FALSE(filter.asked.empty());
    DenyGroups again(c.denied);
    Bytes second{0x5A};
    bool changed_again = true;
    REQUIRE(to_string(filter_list_groups(out, c.version, again, second, changed_again)) == "ok");
    CHECK_FALSE(changed_again);
    CHECK(second == Bytes{0x5A});
  }
  for (int v = 0; v <= 5; ++v) {
    INFO("ListGroups v" << v);
    CHECK(versions.count(v));
  }
  CHECK(unchanged > 0);
}

TEST_CASE("a ListGroups response cut short or of an unknown version is malformed_response",
          "[group_filter][truncated]") {
  const auto& cases = group_cases();
  REQUIRE_FALSE(cases.empty());
  std::vector<std::string> wrong;
  for (const auto& c : cases) {
    for (std::size_t length = 0; length < c.response.size(); ++length) {
      DenyGroups filter(c.denied);
      Bytes out{0x5A};
      bool changed = true;
      const Errc e = filter_list_groups(truncated(c.response, length), c.version, filter, out, changed);
      if (e != Errc::malformed_response || out != Bytes{0x5A} || changed) {
        wrong.push_back(c.file + " cut to " + std::to_string(length) + ": " + std::string(to_string(e)));
      }
    }
    DenyGroups filter(c.denied);
    Bytes out;
    bool changed = false;
    CHECK(to_string(filter_list_groups(c.response, 6, filter, out, changed)) == "malformed_response");
  }
  std::string first;
  for (std::size_t i = 0; i < wrong.size() && i < 20; ++i) first += wrong[i] + "\n";
  INFO(wrong.size() << " prefixes wrong; the first ones:\n" << first);
  CHECK(wrong.empty());
}
