// Golden vectors for a policy's Metadata topic filtering
// (kafka_codec/topic_filter.h: filter_metadata_topics). Every
// tests/golden/topic_filter/*.json is one case written by
// tests/golden/topic_filter/generate_topic_filter.py, an encoder independent
// of kafka_codec/ (built from MetadataResponse.json): a whole Metadata
// response (response_hex), the topic names the filter denies, and the frame a
// client must get for a listing (denied topics removed) and for named topics
// (each replaced by Kafka's TOPIC_AUTHORIZATION_FAILED entry); null when
// nothing is denied (changed == false, the output untouched).
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

struct FilterCase {
  std::string file;
  std::int16_t version = 0;
  std::set<std::string> denied;
  Bytes response;
  std::optional<Bytes> listing, named;
  bool has_by_id = false;  // v12+: by_id_hex present
  std::optional<Bytes> by_id;
};

const std::vector<FilterCase>& filter_cases() {
  static const std::vector<FilterCase> cases = [] {
    std::vector<FilterCase> out;
    const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "topic_filter";
    if (!fs::exists(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      std::ifstream in(entry.path());
      const auto j = nlohmann::json::parse(in);
      FilterCase c;
      c.file = entry.path().filename().string();
      c.version = j.at("api_version").get<std::int16_t>();
      for (const auto& name : j.at("denied")) c.denied.insert(name.get<std::string>());
      c.response = from_hex(j.at("response_hex").get<std::string>());
      if (!j.at("listing_hex").is_null()) c.listing = from_hex(j.at("listing_hex").get<std::string>());
      if (!j.at("named_hex").is_null()) c.named = from_hex(j.at("named_hex").get<std::string>());
      if (j.contains("by_id_hex")) {
        c.has_by_id = true;
        if (!j.at("by_id_hex").is_null()) c.by_id = from_hex(j.at("by_id_hex").get<std::string>());
      }
      out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.file < b.file; });
    return out;
  }();
  return cases;
}

TopicsAsked asked_of(bool listing) { return listing ? TopicsAsked::all : TopicsAsked::by_name; }

struct DenySet final : TopicFilter {
  explicit DenySet(const std::set<std::string>& d) : denied(d) {}
  bool describable(std::string_view name) override {
    asked.emplace_back(name);
    return denied.count(std::string(name)) == 0;
  }
  const std::set<std::string>& denied;
  std::vector<std::string> asked;
};

}  // namespace

TEST_CASE("topic filter golden vectors", "[topic_filter][golden]") {
  const auto& cases = filter_cases();
  REQUIRE(cases.size() >= 14 * 6);
  std::set<int> versions;
  std::size_t unchanged = 0;
  std::vector<std::string> mismatched;
  for (const auto& c : cases) {
    versions.insert(c.version);
    for (const bool listing : {true, false}) {
      INFO(c.file << (listing ? " (listing)" : " (named)"));
      const std::optional<Bytes>& want = listing ? c.listing : c.named;
      DenySet filter(c.denied);
      Bytes out{0x5A};
      bool changed = !want.has_value();  // the opposite of what it must report
      const Errc e = filter_metadata_topics(c.response, c.version, asked_of(listing), filter, out, changed);
      REQUIRE(to_string(e) == "ok");
      CHECK(changed == want.has_value());
      if (!want) {
        CHECK(out == Bytes{0x5A});  // untouched
        ++unchanged;
        continue;
      }
      CHECK(to_hex(out) == to_hex(*want));
      if (out != *want) mismatched.push_back(c.file + (listing ? " listing" : " named"));
      // Filtering the result again: a listing has nothing left to refuse; named entries are refused again,
      // to the same bytes.
      DenySet again(c.denied);
      Bytes second{0x5A};
      bool changed_again = false;
      REQUIRE(to_string(filter_metadata_topics(out, c.version, asked_of(listing), again, second, changed_again)) == "ok");
      if (listing) {
        CHECK_FALSE(changed_again);
        CHECK(second == Bytes{0x5A});
      } else if (changed_again) {
        CHECK(to_hex(second) == to_hex(out));
      }
    }
  }
  for (int v = 0; v <= 13; ++v) {
    INFO("Metadata v" << v);
    CHECK(versions.count(v));
  }
  // Topics asked by id (v12+): refused entries carry a null name and the topic's own id, and are never
  // refused again (they have no name).
  std::size_t by_id_cases = 0;
  for (const auto& c : cases) {
    if (!c.has_by_id) continue;
    INFO(c.file << " (by id)");
    ++by_id_cases;
    DenySet filter(c.denied);
    Bytes out{0x5A};
    bool changed = !c.by_id.has_value();
    REQUIRE(to_string(filter_metadata_topics(c.response, c.version, TopicsAsked::by_id, filter, out, changed)) == "ok");
    CHECK(changed == c.by_id.has_value());
    if (!c.by_id) {
      CHECK(out == Bytes{0x5A});
      continue;
    }
    CHECK(to_hex(out) == to_hex(*c.by_id));
    if (out != *c.by_id) mismatched.push_back(c.file + " by id");
    DenySet again(c.denied);
    Bytes second{0x5A};
    bool changed_again = true;
    REQUIRE(to_string(filter_metadata_topics(out, c.version, TopicsAsked::by_id, again, second, changed_again)) == "ok");
    CHECK_FALSE(changed_again);
  }
  CHECK(by_id_cases >= 2 * 6);
  CHECK(unchanged > 0);
  std::string list;
  for (const auto& m : mismatched) list += m + "; ";
  INFO(mismatched.size() << " outputs differ: " << list);
  CHECK(mismatched.empty());
}

TEST_CASE("a Metadata response cut short is malformed_response and leaves the output alone",
          "[topic_filter][truncated]") {
  const auto& cases = filter_cases();
  REQUIRE_FALSE(cases.empty());
  std::size_t prefixes = 0;
  std::vector<std::string> wrong;
  for (const auto& c : cases) {
    for (std::size_t length = 0; length < c.response.size(); ++length) {
      for (const bool listing : {true, false}) {
        DenySet filter(c.denied);
        Bytes out{0x5A};
        bool changed = true;
        const Errc e = filter_metadata_topics(truncated(c.response, length), c.version, asked_of(listing), filter, out, changed);
        ++prefixes;
        if (e != Errc::malformed_response || out != Bytes{0x5A} || changed) {
          wrong.push_back(c.file + " cut to " + std::to_string(length) + ": " + std::string(to_string(e)));
        }
      }
    }
  }
  std::string first;
  for (std::size_t i = 0; i < wrong.size() && i < 20; ++i) first += wrong[i] + "\n";
  INFO(wrong.size() << " of " << prefixes << " prefixes wrong; the first ones:\n" << first);
  CHECK(wrong.empty());
}
