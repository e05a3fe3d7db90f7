// Golden vectors for split requests (kafka_codec/split.h). Every
// tests/golden/split/*.json is one case written by
// tests/golden/split/generate_split.py, an encoder independent of
// kafka_codec/ (built from the Kafka message specs): a whole client request
// (request_hex) naming several topics, the topics the policy refuses, and when
// the request is split, the request the broker must receive (forwarded_hex),
// each refused topic's position and response entry, a broker's answer to the
// forwarded request (broker_response_hex) and the response the client must
// receive (merged_hex). Adding a case means adding a file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafka_codec/split.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kRoomy = 64u << 20;

struct RefusedEntry {
  std::uint32_t position = 0;
  std::string topic;
  Bytes entry;
};

struct SplitCase {
  std::string file;
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  std::string message_prefix;
  std::vector<std::string> request_topics;
  std::set<std::string> refused_topics;
  std::string result;
  Bytes request;
  std::size_t topics_end = 0;  // offset in `request` just past the topic array
  // Only when result == "split":
  Bytes forwarded;
  std::vector<RefusedEntry> refused;
  Bytes broker_response;
  Bytes merged;
};

const std::vector<SplitCase>& split_cases() {
  static const std::vector<SplitCase> cases = [] {
    std::vector<SplitCase> out;
    const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "split";
    if (!fs::exists(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      const auto j = load(entry.path());
      SplitCase c;
      c.file = entry.path().filename().string();
      c.api_key = j.at("api_key").get<std::int16_t>();
      c.api_version = j.at("api_version").get<std::int16_t>();
      c.message_prefix = j.at("message_prefix").get<std::string>();
      c.request_topics = j.at("request_topics").get<std::vector<std::string>>();
      for (const auto& t : j.at("refused_topics")) c.refused_topics.insert(t.get<std::string>());
      c.result = j.at("result").get<std::string>();
      c.request = from_hex(j.at("request_hex").get<std::string>());
      c.topics_end = j.at("topics_end").get<std::size_t>();
      if (c.result == "split") {
        c.forwarded = from_hex(j.at("forwarded_hex").get<std::string>());
        for (const auto& r : j.at("refused")) {
          c.refused.push_back({r.at("position").get<std::uint32_t>(), r.at("topic").get<std::string>(),
                               from_hex(r.at("entry_hex").get<std::string>())});
        }
        c.broker_response = from_hex(j.at("broker_response_hex").get<std::string>());
        c.merged = from_hex(j.at("merged_hex").get<std::string>());
      }
      out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.file < b.file; });
    return out;
  }();
  return cases;
}

// The case's policy: refuses exactly refused_topics; the message for topic T is message_prefix + T
// (generate_split.py message_for). Counts what split_request asks.
class SetVerdict final : public TopicVerdict {
 public:
  SetVerdict(const std::set<std::string>& refused, std::string prefix) : refused_(refused), prefix_(std::move(prefix)) {}
  bool allowed(std::string_view topic) override {
    ++allowed_calls;
    return refused_.count(std::string(topic)) == 0;
  }
  std::string refusal_message(std::string_view topic) override {
    ++message_calls;
    return prefix_ + std::string(topic);
  }
  std::size_t allowed_calls = 0;
  std::size_t message_calls = 0;

 private:
  const std::set<std::string>& refused_;
  std::string prefix_;
};

std::string result_name(SplitResult r) {
  switch (r) {
    case SplitResult::unreadable: return "unreadable";
    case SplitResult::all_allowed: return "all_allowed";
    case SplitResult::none_allowed: return "none_allowed";
    case SplitResult::split: return "split";
  }
  return "?";
}

bool answer_empty(const SplitAnswer& a) { return a.refused.empty() && a.entries.empty(); }

// A Fetch whose broker answered with a top-level error (v7+) is copied unchanged: merged == broker response.
bool copied_unchanged(const SplitCase& c) { return c.result == "split" && c.merged == c.broker_response; }

}  // namespace

TEST_CASE("split golden vectors", "[split][golden]") {
  const auto& cases = split_cases();
  REQUIRE_FALSE(cases.empty());
  std::vector<std::string> mismatched;
  for (const auto& c : cases) {
    INFO(c.file);
    SetVerdict verdict(c.refused_topics, c.message_prefix);
    Bytes forwarded{0xAA, 0xBB};  // replaced, not appended to
    SplitAnswer answer;
    answer.entries = {0x01};
    answer.refused.push_back({9, 0, 1, "stale"});
    const SplitResult r = split_request(c.request, verdict, forwarded, answer);
    CHECK(result_name(r) == c.result);
    // The verdict is asked once per topic element of the request.
    CHECK(verdict.allowed_calls == c.request_topics.size());
    bool same = result_name(r) == c.result;
    if (c.result != "split") {
      CHECK(forwarded.empty());
      CHECK(answer_empty(answer));
      CHECK(verdict.message_calls == 0);
      same = same && forwarded.empty() && answer_empty(answer);
      if (!same) mismatched.push_back(c.file);
      continue;
    }
    CHECK(to_hex(forwarded) == to_hex(c.forwarded));
    CHECK(answer.api_key == c.api_key);
    CHECK(answer.api_version == c.api_version);
    // ErrorMessage exists from Produce v8: asked once per refused topic element there.
    if (c.api_key == 0 && c.api_version >= 8) CHECK(verdict.message_calls == c.refused.size());
    else CHECK(verdict.message_calls <= c.refused.size());
    REQUIRE(answer.refused.size() == c.refused.size());
    for (std::size_t i = 0; i < c.refused.size(); ++i) {
      INFO("refused entry " << i << " (" << c.refused[i].topic << ")");
      const SplitAnswer::Refused& got = answer.refused[i];
      CHECK(got.position == c.refused[i].position);
      CHECK(got.topic == c.refused[i].topic);
      REQUIRE(got.begin <= got.end);
      REQUIRE(got.end <= answer.entries.size());
      CHECK(to_hex(std::span(answer.entries).subspan(got.begin, got.end - got.begin)) == to_hex(c.refused[i].entry));
    }
    Bytes merged{0x5A};  // replaced
    const Errc e = merge_split_response(c.broker_response, answer, kRoomy, merged);
    CHECK(to_string(e) == "ok");
    CHECK(to_hex(merged) == to_hex(c.merged));
    same = same && forwarded == c.forwarded && e == Errc::ok && merged == c.merged;

    // The forwarded request names only allowed topics: split again by the same policy, nothing is refused.
    SetVerdict again(c.refused_topics, c.message_prefix);
    Bytes forwarded_again;
    SplitAnswer answer_again;
    CHECK(result_name(split_request(c.forwarded, again, forwarded_again, answer_again)) == "all_allowed");
    CHECK(forwarded_again.empty());
    if (!same) mismatched.push_back(c.file);
  }
  std::string list;
  for (const auto& m : mismatched) list += m + "; ";
  INFO(mismatched.size() << " of " << cases.size() << " cases differ: " << list);
  REQUIRE(mismatched.empty());
}

TEST_CASE("split golden vectors cover every splittable (api, version)", "[split][coverage]") {
  const auto& cases = split_cases();
  std::set<std::pair<int, int>> split_covered, covered;
  for (const auto& c : cases) {
    covered.insert({c.api_key, c.api_version});
    if (c.result == "split") split_covered.insert({c.api_key, c.api_version});
  }
  std::string missing;
  int splittable_versions = 0;
  for (int api = 0; api <= 100; ++api) {
    for (int version = 0; version <= 30; ++version) {
      if (!splittable(static_cast<std::int16_t>(api), static_cast<std::int16_t>(version))) continue;
      ++splittable_versions;
      if (!split_covered.count({api, version})) missing += std::to_string(api) + " v" + std::to_string(version) + "; ";
    }
  }
  std::string not_splittable;
  for (const auto& [api, version] : covered)
    if (!splittable(static_cast<std::int16_t>(api), static_cast<std::int16_t>(version)))
      not_splittable += std::to_string(api) + " v" + std::to_string(version) + "; ";
  INFO("splittable but without a split case: " << missing);
  INFO("golden file but not splittable: " << not_splittable);
  CHECK(splittable_versions == 10 + 13);  // Produce v3-12, Fetch v0-12 (split.h)
  CHECK(missing.empty());
  CHECK(not_splittable.empty());
}

namespace {

// Cuts `c.request` to every length in [from, to) (size prefix fixed) and returns, per case, the first cut that
// split_request does not refuse as unreadable with both outputs empty.
void split_truncations(const SplitCase& c, std::size_t from, std::size_t to, std::vector<std::string>& failed) {
  for (std::size_t cut = from; cut < to; ++cut) {
    const Bytes frame = truncated(c.request, cut);
    SetVerdict verdict(c.refused_topics, c.message_prefix);
    Bytes forwarded{0xAA};
    SplitAnswer answer;
    answer.entries = {0x01};
    const SplitResult r = split_request(frame, verdict, forwarded, answer);
    if (r != SplitResult::unreadable || !forwarded.empty() || !answer_empty(answer)) {
      failed.push_back(c.file + " cut to " + std::to_string(cut) + " of " + std::to_string(c.request.size()) +
                       " (topic array ends at " + std::to_string(c.topics_end) + "): " + result_name(r));
      return;  // the first failing cut of each case is enough to read
    }
  }
}

// Fetch v7+ has fields after its topic array (ForgottenTopicsData, RackId from v11, tags from v12).
bool fields_after_topics(const SplitCase& c) { return c.api_key == 1 && c.api_version >= 7; }

}  // namespace

TEST_CASE("split of a truncated request is unreadable and leaves both outputs empty", "[split]") {
  const auto& cases = split_cases();
  REQUIRE_FALSE(cases.empty());
  std::vector<std::string> failed;
  std::size_t cuts = 0;
  for (const auto& c : cases) {
    REQUIRE(c.topics_end <= c.request.size());
    // Every cut of Produce (its request ends with the topic array and, when flexible, the tag buffer) and of
    // Fetch v0-6; Fetch v7+ up to the end of its topic array (the rest: the next test case).
    const std::size_t to = fields_after_topics(c) ? c.topics_end : c.request.size();
    split_truncations(c, 0, to, failed);
    cuts += to;
  }
  std::string list;
  for (const auto& f : failed) list += f + "\n";
  INFO(failed.size() << " cases split a truncated request:\n" << list);
  CHECK(cuts > 0);
  CHECK(failed.empty());
}

// The Fetch request table (schema.cpp) reads the whole request, ForgottenTopicsData (v7+), RackId (v11+) and
// the tag buffer (v12) included, so a request cut after its topic array does not parse and is not split.
TEST_CASE("split of a Fetch v7+ request cut after its topic array is unreadable", "[split]") {
  const auto& cases = split_cases();
  std::vector<std::string> failed;
  std::size_t checked = 0;
  for (const auto& c : cases) {
    if (!fields_after_topics(c)) continue;
    REQUIRE(c.topics_end < c.request.size());
    split_truncations(c, c.topics_end, c.request.size(), failed);
    ++checked;
  }
  std::string list;
  for (const auto& f : failed) list += f + "\n";
  INFO(failed.size() << " of " << checked << " Fetch v7+ cases split a request cut after its topics:\n" << list);
  CHECK(checked > 0);
  CHECK(failed.empty());
}

TEST_CASE("merge of a truncated broker response is malformed_response and leaves out empty", "[split]") {
  const auto& cases = split_cases();
  std::vector<std::string> failed;
  std::size_t checked = 0;
  for (const auto& c : cases) {
    if (c.result != "split") continue;
    SetVerdict verdict(c.refused_topics, c.message_prefix);
    Bytes forwarded;
    SplitAnswer answer;
    REQUIRE(split_request(c.request, verdict, forwarded, answer) == SplitResult::split);
    for (std::size_t cut = 0; cut < c.broker_response.size(); ++cut) {
      Bytes out{0x5A};
      const Errc e = merge_split_response(truncated(c.broker_response, cut), answer, kRoomy, out);
      ++checked;
      if (e != Errc::malformed_response || !out.empty()) {
        failed.push_back(c.file + " cut to " + std::to_string(cut) + " of " +
                         std::to_string(c.broker_response.size()) + ": " + std::string(to_string(e)));
        break;
      }
    }
  }
  std::string list;
  for (const auto& f : failed) list += f + "\n";
  INFO(failed.size() << " cases merged a truncated response:\n" << list);
  CHECK(checked > 0);
  CHECK(failed.empty());
}

TEST_CASE("merge larger than max_frame_size is frame_too_large and leaves out empty", "[split]") {
  const auto& cases = split_cases();
  std::size_t checked = 0;
  for (const auto& c : cases) {
    // A response copied unchanged (a Fetch session error) is the broker's frame, already within the bound it
    // was read under: nothing is merged into it.
    if (c.result != "split" || copied_unchanged(c)) continue;
    INFO(c.file);
    SetVerdict verdict(c.refused_topics, c.message_prefix);
    Bytes forwarded;
    SplitAnswer answer;
    REQUIRE(split_request(c.request, verdict, forwarded, answer) == SplitResult::split);
    const auto payload = static_cast<std::uint32_t>(c.merged.size() - 4);  // the merged size prefix
    Bytes out{0x5A};
    CHECK(to_string(merge_split_response(c.broker_response, answer, payload - 1, out)) == "frame_too_large");
    CHECK(out.empty());
    Bytes exact;
    CHECK(to_string(merge_split_response(c.broker_response, answer, payload, exact)) == "ok");
    CHECK(exact == c.merged);
    ++checked;
  }
  CHECK(checked > 0);
}

TEST_CASE("split leaves requests it does not split whole", "[split]") {
  const auto& cases = split_cases();
  REQUIRE_FALSE(cases.empty());
  std::set<std::pair<int, bool>> done;
  for (const auto& c : cases) {
    const bool flexible = c.api_version >= (c.api_key == 0 ? 9 : 12);
    if (c.result != "split" || !done.insert({c.api_key, flexible}).second) continue;
    INFO(c.file);
    // The same request at a version kedge does not split (Produce v13 names topics by id; Fetch v13 too;
    // Produce v0-2 are gone), or under another api key.
    for (const int version : {c.api_key == 0 ? 2 : -1, 13, 14}) {
      if (version < 0) continue;
      INFO("as version " << version);
      REQUIRE_FALSE(splittable(c.api_key, static_cast<std::int16_t>(version)));
      Bytes frame = c.request;
      frame[6] = 0;
      frame[7] = static_cast<std::uint8_t>(version);
      SetVerdict verdict(c.refused_topics, c.message_prefix);
      Bytes forwarded;
      SplitAnswer answer;
      CHECK(result_name(split_request(frame, verdict, forwarded, answer)) == "unreadable");
      CHECK(forwarded.empty());
      CHECK(answer_empty(answer));
      CHECK(verdict.allowed_calls == 0);
    }
    Bytes other = c.request;
    other[5] = 2;  // ListOffsets
    SetVerdict verdict(c.refused_topics, c.message_prefix);
    Bytes forwarded;
    SplitAnswer answer;
    CHECK(result_name(split_request(other, verdict, forwarded, answer)) == "unreadable");
  }
  CHECK(done.size() == 4);  // Produce and Fetch, each non-flexible and flexible
}

TEST_CASE("merge reads the broker response as the answer's api and version", "[split]") {
  const auto& cases = split_cases();
  std::size_t checked = 0;
  for (const auto& c : cases) {
    if (c.result != "split" || copied_unchanged(c)) continue;
    INFO(c.file);
    SetVerdict verdict(c.refused_topics, c.message_prefix);
    Bytes forwarded;
    SplitAnswer answer;
    REQUIRE(split_request(c.request, verdict, forwarded, answer) == SplitResult::split);
    Bytes out{0x5A};
    // An answer for an api kedge does not split: nothing to merge into.
    SplitAnswer wrong_api = answer;
    wrong_api.api_key = 3;
    CHECK(to_string(merge_split_response(c.broker_response, wrong_api, kRoomy, out)) == "malformed_response");
    CHECK(out.empty());
    // A response cut in its header's size prefix.
    CHECK(to_string(merge_split_response(std::span(c.broker_response).first(3), answer, kRoomy, out)) ==
          "malformed_response");
    CHECK(out.empty());
    ++checked;
  }
  CHECK(checked > 0);
}
