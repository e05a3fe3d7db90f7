// Golden vectors for the policy refusals (kafka_codec/refusal.h). Every
// tests/golden/refusals/*.json is one case written by
// tests/golden/refusals/generate_refusals.py, an encoder independent of
// kafka_codec/ (built from the Kafka message specs): a whole request frame
// (request_hex) and the whole response frame a broker's authorizer would send
// refusing it (expected_hex), with `message` in the ErrorMessage fields, and
// optionally the kind of resource the policy refused (`refused`: "topic",
// "group", "transactional_id", "cluster"; absent = unspecified), passed as
// encode_refusal's RefusedResource.
// Fetch has no writer of encode_refusal: a policy decides it topic by topic
// (split.h), and its vectors are kedge's whole answer through that path
// (split_request refusing every topic, then encode_split_refusal); Produce
// v3-13's vectors are checked on both paths, which must agree. The APIs split
// by topic name (share-spec section 5: ListOffsets, OffsetCommit,
// OffsetForLeaderEpoch, DeleteRecords, TxnOffsetCommit, CreateTopics,
// DeleteTopics, CreatePartitions) answer a request refusing every topic with
// encode_refusal's answer refusing its topics (RefusedResource::topic).
// Adding a case means adding a file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "kafka_codec/api.h"
#include "kafka_codec/refusal.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/split.h"
#include "kafka_codec/wire.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kRoomy = 64u << 20;

struct RefusalCase {
  std::string file;
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  std::string message;
  RefusedResource refused = RefusedResource::unspecified;
  Bytes request;
  Bytes expected;
};

// The JSON's optional "refused" (absent: unspecified).
RefusedResource refused_resource(const std::string& file, const nlohmann::json& j) {
  if (!j.contains("refused")) return RefusedResource::unspecified;
  const auto kind = j.at("refused").get<std::string>();
  if (kind == "topic") return RefusedResource::topic;
  if (kind == "group") return RefusedResource::group;
  if (kind == "transactional_id") return RefusedResource::transactional_id;
  if (kind == "cluster") return RefusedResource::cluster;
  throw std::runtime_error(file + ": unknown \"refused\": " + kind);
}

const std::vector<RefusalCase>& refusal_cases() {
  static const std::vector<RefusalCase> cases = [] {
    std::vector<RefusalCase> out;
    const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "refusals";
    if (!fs::exists(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      std::ifstream in(entry.path());
      const auto j = nlohmann::json::parse(in);
      const std::string file = entry.path().filename().string();
      out.push_back({file, j.at("api_key").get<std::int16_t>(), j.at("api_version").get<std::int16_t>(),
                     j.at("message").get<std::string>(), refused_resource(file, j),
                     from_hex(j.at("request_hex").get<std::string>()),
                     from_hex(j.at("expected_hex").get<std::string>())});
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.file < b.file; });
    return out;
  }();
  return cases;
}

// The APIs the refusal vectors are written for (generate_refusals.py APIS): the API-level refusals
// (API_LEVEL_APIS), those answered whole through split.h only (SPLIT_APIS), then those only a policy's ACLs
// reach (ACL_APIS).
constexpr std::int16_t kGoldenApis[] = {0, 10, 19, 20, 21, 22, 33, 37, 42, 44, 47};
constexpr std::int16_t kSplitGoldenApis[] = {1};
constexpr std::int16_t kAclGoldenApis[] = {2, 8, 9, 11, 12, 13, 14, 15, 23, 24, 25, 26, 28, 32, 61, 68, 76, 78, 79};
// The splittable APIs whose refusal vectors are also kedge's whole answer through split.h (encode_split_refusal
// of an answer refusing every topic): Produce, Fetch, DescribeProducers. ShareFetch and ShareAcknowledge are
// splittable too, but encode_refusal refuses them whole (a top-level error, no topics) while the split path
// answers every refused topic with ErrorCode 0 at the top level: their whole split answers are the split vectors'.
constexpr std::int16_t kSplitWholeAnswerApis[] = {0, 1, 61};
// The APIs split by topic name (share-spec section 5): kedge's whole split answer (every topic refused) is
// encode_refusal's with RefusedResource::topic, the per-topic messages being the same. ListOffsets, CreateTopics,
// DeleteTopics, DeleteRecords, OffsetForLeaderEpoch and CreatePartitions name no resource but topics: every kind of
// refusal answers as the topic one (kTopicOnlyApis), so all their vectors are that answer. OffsetCommit (group first)
// and TxnOffsetCommit (transactional id, then group) answer 30 / 53 unspecified: only their "refused": "topic"
// vectors are.
constexpr std::int16_t kSplitByNameApis[] = {2, 8, 19, 20, 21, 23, 28, 37};
constexpr std::int16_t kTopicOnlyApis[] = {2, 19, 20, 21, 23, 37};

template <std::size_t N>
bool listed(const std::int16_t (&apis)[N], std::int16_t api_key) {
  return std::find(std::begin(apis), std::end(apis), api_key) != std::end(apis);
}

bool whole_answer_through_split(std::int16_t api_key) { return listed(kSplitWholeAnswerApis, api_key); }
bool split_by_name(std::int16_t api_key) { return listed(kSplitByNameApis, api_key); }

// True for a vector encode_refusal does not answer: Fetch, answered whole through split.h.
bool split_answered_only(const RefusalCase& c) {
  return std::find(std::begin(kSplitGoldenApis), std::end(kSplitGoldenApis), c.api_key) != std::end(kSplitGoldenApis);
}

// A policy refusing every topic of a Produce, Fetch or DescribeProducers (TOPIC_AUTHORIZATION_FAILED), the
// case's message as each refused topic's ErrorMessage. Counts what split_request asks, and how often it asks
// about a topic the wrong way (by name in a by-id version, Produce v13 and Fetch v13+, or the other way round;
// DescribeProducers names topics by name).
class RefuseAll final : public TopicVerdict {
 public:
  RefuseAll(std::string message, std::int16_t api_key, std::int16_t version)
      : message_(std::move(message)), by_id_((api_key == 0 || api_key == 1) && version >= 13) {}
  ErrorCode verdict(std::string_view topic, bool by_id) override {
    ++verdict_calls;
    if (by_id != by_id_ || (by_id && topic.size() != 16)) ++wrong_kind;
    return ErrorCode::topic_authorization_failed;
  }
  std::string refusal_message(std::string_view, bool by_id, ErrorCode error) override {
    if (by_id != by_id_ || error != ErrorCode::topic_authorization_failed) ++wrong_kind;
    return message_;
  }
  std::size_t verdict_calls = 0;
  std::size_t wrong_kind = 0;

 private:
  std::string message_;
  bool by_id_;
};

// kedge's whole answer to a Produce or Fetch refusal vector through the split path: split_request refusing every
// topic, then encode_split_refusal to the request's correlation id under `max`. A request naming no topic has
// nothing to split (all_allowed: the gateway forwards it); its answer is encode_split_refusal of an answer with
// no entries, the empty response. Sets `topics` to the number of topic elements the verdict was asked about.
Errc split_path_answer(const RefusalCase& c, std::uint32_t max, Bytes& out, std::size_t& topics) {
  RefuseAll verdict(c.message, c.api_key, c.api_version);
  Bytes forwarded{0xAA};
  SplitAnswer answer;
  const SplitResult r = split_request(c.request, verdict, forwarded, answer);
  topics = verdict.verdict_calls;
  CHECK(verdict.wrong_kind == 0);
  CHECK(forwarded.empty());
  if (verdict.verdict_calls == 0) {
    CHECK(r == SplitResult::all_allowed);
    CHECK(answer.refused.empty());
    CHECK(answer.entries.empty());
    answer.api_key = c.api_key;
    answer.api_version = c.api_version;
    answer.by_id = (c.api_key == 0 || c.api_key == 1) && c.api_version >= 13;
  } else {
    CHECK(r == SplitResult::none_allowed);
    CHECK(answer.refused.size() == verdict.verdict_calls);
  }
  return encode_split_refusal(answer, wire::get_i32(c.request.data() + 8), max, out);
}

// A vector of an API split by name whose expected answer is the one refusing its topics: every vector of the
// topic-only APIs, the "refused": "topic" ones of OffsetCommit and TxnOffsetCommit.
bool answered_as_topics(const RefusalCase& c) {
  return split_by_name(c.api_key) && (listed(kTopicOnlyApis, c.api_key) || c.refused == RefusedResource::topic);
}

// A request naming a topic by id only (a DeleteTopics v6 element whose Name is null): kedge splits by name, so it
// does not split it (split_request: unreadable) and encode_refusal answers it whole.
bool names_a_topic_by_id(const RefusalCase& c) {
  for (const RequestResource& r : request_resources(c.request))
    if (r.type == "topic_id") return true;
  return false;
}

// True when kedge reads only the leading fields of `api_key`'s requests
// (schema.h MessageSchema::leading_fields_only: the ACL-only APIs).
bool reads_leading_fields_only(std::int16_t api_key) {
  const schema::MessageSchema* table = schema::find_request_schema(api_key);
  return table != nullptr && table->leading_fields_only;
}

}  // namespace

TEST_CASE("refusal golden vectors", "[refusal][golden]") {
  const auto& cases = refusal_cases();
  REQUIRE_FALSE(cases.empty());
  std::vector<std::string> mismatched;
  for (const auto& c : cases) {
    INFO(c.file);
    Bytes out;
    const Errc e = encode_refusal(c.request, c.message, kRoomy, out, c.refused);
    if (split_answered_only(c)) {
      // No writer: encode_refusal answers nothing (the split path below does).
      CHECK(to_string(e) == "malformed_request");
      CHECK(out.empty());
      if (e != Errc::malformed_request || !out.empty()) mismatched.push_back(c.file);
      continue;
    }
    CHECK(to_string(e) == "ok");
    const bool same = e == Errc::ok && out == c.expected;
    CHECK(to_hex(out) == to_hex(c.expected));
    if (!same) mismatched.push_back(c.file);

    // The answer is appended: what `out` already holds stays in front of it.
    Bytes appended{0xAA, 0xBB, 0xCC};
    REQUIRE(encode_refusal(c.request, c.message, kRoomy, appended, c.refused) == e);
    CHECK(Bytes(appended.begin(), appended.begin() + 3) == Bytes{0xAA, 0xBB, 0xCC});
    CHECK(Bytes(appended.begin() + 3, appended.end()) == out);
  }
  std::string list;
  for (const auto& m : mismatched) list += m + "; ";
  INFO(mismatched.size() << " of " << cases.size() << " cases differ: " << list);
  REQUIRE(mismatched.empty());
}

TEST_CASE("refusal golden vectors cover every refusable (api, version)", "[refusal][coverage]") {
  const auto& cases = refusal_cases();
  std::set<std::pair<int, int>> covered;
  for (const auto& c : cases) covered.insert({c.api_key, c.api_version});

  std::set<std::int16_t> apis(std::begin(kGoldenApis), std::end(kGoldenApis));
  for (const std::int16_t api : refusable_apis()) apis.insert(api);

  std::string ranges, missing;
  for (const std::int16_t api : apis) {
    const auto v = refusable_versions(api);
    ranges += std::to_string(api) + ":" + std::to_string(v.lo) + ".." + std::to_string(v.hi) + " ";
    for (int version = v.lo; version <= v.hi; ++version)
      if (!covered.count({api, version})) missing += std::to_string(api) + " v" + std::to_string(version) + "; ";
  }
  // And the other way round: a golden (api, version) of these APIs kedge no longer refuses is a removed version.
  // (The ACL-only APIs' files are checked against acl_answerable_versions() below.)
  std::string not_refusable;
  for (const auto& [api, version] : covered)
    if (apis.count(static_cast<std::int16_t>(api)) &&
        !refusable_versions(static_cast<std::int16_t>(api)).contains(static_cast<std::int16_t>(version)))
      not_refusable += std::to_string(api) + " v" + std::to_string(version) + "; ";

  INFO("refusable_versions: " << ranges);
  INFO("refusable but without a golden file: " << missing);
  INFO("golden file but not refusable: " << not_refusable);
  for (const std::int16_t api : kGoldenApis) {
    INFO("api " << api);
    CHECK(refusable_versions(api).lo <= refusable_versions(api).hi);  // each of the 11 is refusable at all
  }
  CHECK(missing.empty());
  CHECK(not_refusable.empty());
  // refusable_apis() is in key order and lists exactly the APIs with a non-empty range.
  const auto listed = refusable_apis();
  CHECK(std::is_sorted(listed.begin(), listed.end()));
  for (const std::int16_t api : kGoldenApis) CHECK(std::find(listed.begin(), listed.end(), api) != listed.end());
}

TEST_CASE("refusal golden vectors cover every ACL-answerable (api, version)", "[refusal][coverage]") {
  const auto& cases = refusal_cases();
  std::set<std::pair<int, int>> covered;
  for (const auto& c : cases) covered.insert({c.api_key, c.api_version});

  // Every API with a writer, every version of acl_answerable_versions(), has a golden file.
  std::string ranges, missing;
  std::set<std::int16_t> answerable;
  for (std::size_t key = 0; key < kApiKeyCount; ++key) {
    const auto api = static_cast<std::int16_t>(key);
    const auto v = acl_answerable_versions(api);
    if (v.lo > v.hi) continue;
    answerable.insert(api);
    ranges += std::to_string(api) + ":" + std::to_string(v.lo) + ".." + std::to_string(v.hi) + " ";
    for (int version = v.lo; version <= v.hi; ++version)
      if (!covered.count({api, version})) missing += std::to_string(api) + " v" + std::to_string(version) + "; ";
  }
  // And every golden file is of an answerable (api, version), but Fetch's (answered through split.h: below).
  std::string not_answerable;
  for (const auto& c : cases) {
    if (split_answered_only(c) || acl_answerable_versions(c.api_key).contains(c.api_version)) continue;
    not_answerable += c.file + "; ";
  }
  INFO("acl_answerable_versions: " << ranges);
  INFO("answerable but without a golden file: " << missing);
  INFO("golden file but not answerable: " << not_answerable);
  CHECK(missing.empty());
  CHECK(not_answerable.empty());

  // The answerable APIs are exactly the API-level ones and the ACL-only ones of the vectors: not Fetch, which a
  // policy decides topic by topic (split.h) and encode_refusal never answers.
  std::set<std::int16_t> expected(std::begin(kGoldenApis), std::end(kGoldenApis));
  expected.insert(std::begin(kAclGoldenApis), std::end(kAclGoldenApis));
  CHECK(answerable == expected);
  for (const std::int16_t api : kSplitGoldenApis) {
    INFO("api " << api);
    CHECK(acl_answerable_versions(api).lo > acl_answerable_versions(api).hi);
    CHECK(refusable_versions(api).lo > refusable_versions(api).hi);
  }
  // Every table a policy's ACLs read (leading_only) has an answer in each of its versions: a refused
  // request of these APIs is answered, never closed.
  for (const schema::MessageSchema& table : schema::request_schemas()) {
    if (!table.leading_fields_only) continue;
    INFO("request table " << table.name << " (" << table.api_key << ")");
    const auto v = acl_answerable_versions(table.api_key);
    CHECK(v.lo == table.valid.lo);
    CHECK(v.hi == table.valid.hi);
    CHECK_FALSE(refusable_versions(table.api_key).contains(table.valid.lo));  // ACL-only, not API-level
  }
}

// A request cut short (size prefix adjusted) is malformed_request, appending nothing. For the ACL-only APIs kedge
// reads only a request's leading fields (schema.h leading_fields_only): a cut after them (in later fields, or the
// top-level tag buffer) leaves every field the answer names, so such a request is answered exactly as the whole one.
TEST_CASE("refusal of a truncated request is malformed_request and appends nothing", "[refusal]") {
  const auto& cases = refusal_cases();
  REQUIRE_FALSE(cases.empty());
  std::size_t answered_leading = 0, refused_leading = 0;
  for (const auto& c : cases) {
    if (split_answered_only(c)) continue;  // never answered by encode_refusal; split.h's truncations: test_split_golden
    const std::size_t n = c.request.size();
    const bool leading_only = reads_leading_fields_only(c.api_key);
    std::set<std::size_t> cuts{4, 5, 8, 11, 12, 13, n / 4, n / 2, 3 * n / 4, n - 2, n - 1};
    for (const std::size_t cut : cuts) {
      if (cut < 4 || cut >= n) continue;
      INFO(c.file << " cut to " << cut << " of " << n << " bytes");
      const Bytes frame = truncated(c.request, cut);
      Bytes out{0x5A};
      const Errc e = encode_refusal(frame, c.message, kRoomy, out, c.refused);
      if (leading_only && e == Errc::ok) {
        ++answered_leading;
        Bytes expected{0x5A};
        expected.insert(expected.end(), c.expected.begin(), c.expected.end());
        CHECK(out == expected);
        continue;
      }
      refused_leading += leading_only ? 1 : 0;
      CHECK(to_string(e) == "malformed_request");
      CHECK(out == Bytes{0x5A});
    }
  }
  // Both kinds of cut occur (the header cuts always fail).
  CHECK(answered_leading > 0);
  CHECK(refused_leading > 0);
}

TEST_CASE("refusal larger than max_frame_size is frame_too_large and appends nothing", "[refusal]") {
  const auto& cases = refusal_cases();
  REQUIRE_FALSE(cases.empty());
  for (const auto& c : cases) {
    if (split_answered_only(c)) continue;  // the split path's bound: the next test case
    INFO(c.file);
    const auto payload = static_cast<std::uint32_t>(c.expected.size() - 4);  // the answer's size prefix
    Bytes out{0x5A};
    CHECK(to_string(encode_refusal(c.request, c.message, payload - 1, out, c.refused)) == "frame_too_large");
    CHECK(out == Bytes{0x5A});
    Bytes tiny;
    CHECK(to_string(encode_refusal(c.request, c.message, 0, tiny, c.refused)) == "frame_too_large");
    CHECK(tiny.empty());
    // Exactly at the bound is allowed.
    Bytes exact;
    CHECK(to_string(encode_refusal(c.request, c.message, payload, exact, c.refused)) == "ok");
    CHECK(exact == c.expected);
  }
}

// Produce v3-13, Fetch v0-17 and DescribeProducers v0 under ACLs are decided topic by topic (split.h): a request
// whose every topic is refused is answered whole by encode_split_refusal. Its answer is the one a broker's
// authorizer gives, so the refusal vectors hold it: Fetch's only through this path, Produce's and
// DescribeProducers' through encode_refusal too, and the two paths give the same bytes. (ShareFetch and
// ShareAcknowledge are split too, but their encode_refusal answer is another one: kSplitWholeAnswerApis.)
// The APIs split by name (kSplitByNameApis, share-spec section 5) are answered whole through the split path with
// encode_refusal's answer refusing their topics (RefusedResource::topic, the same message for every topic): checked
// on every vector, and against the vector's expected answer where that is the one refusing the topics
// (answered_as_topics). A vector naming a topic by id only (DeleteTopics v6) is not split at all.
TEST_CASE("refusal vectors of the split APIs are kedge's whole answer through the split path", "[refusal][split]") {
  const auto& cases = refusal_cases();
  std::vector<std::string> mismatched;
  std::set<int> by_name_apis;
  std::size_t empty = 0, both_paths = 0, by_name_expected = 0, by_name_other = 0, by_id = 0;
  for (const auto& c : cases) {
    if (!splittable(c.api_key, c.api_version)) continue;
    const bool by_name = split_by_name(c.api_key);
    if (!whole_answer_through_split(c.api_key) && !by_name) continue;
    INFO(c.file);
    if (by_name && names_a_topic_by_id(c)) {
      RefuseAll verdict(c.message, c.api_key, c.api_version);
      Bytes forwarded{0xAA};
      SplitAnswer answer;
      answer.entries = {0x01};
      const SplitResult r = split_request(c.request, verdict, forwarded, answer);
      CHECK(r == SplitResult::unreadable);
      CHECK(forwarded.empty());
      CHECK(answer.refused.empty());
      CHECK(answer.entries.empty());
      if (r != SplitResult::unreadable || !forwarded.empty() || !answer.entries.empty()) mismatched.push_back(c.file);
      ++by_id;
      continue;
    }
    Bytes out{0x5A};  // replaced
    std::size_t topics = 0;
    const Errc e = split_path_answer(c, kRoomy, out, topics);
    CHECK(to_string(e) == "ok");
    // The vectors naming no topic are exactly the "empty" ones.
    const bool named_empty = c.file.find(".empty.") != std::string::npos;
    CHECK(named_empty == (topics == 0));
    empty += topics == 0 ? 1 : 0;
    bool same = e == Errc::ok && named_empty == (topics == 0);
    if (by_name) {
      by_name_apis.insert(c.api_key);
      Bytes refusal;
      REQUIRE(encode_refusal(c.request, c.message, kRoomy, refusal, RefusedResource::topic) == Errc::ok);
      CHECK(to_hex(out) == to_hex(refusal));
      same = same && out == refusal;
      if (answered_as_topics(c)) {
        CHECK(to_hex(out) == to_hex(c.expected));
        same = same && out == c.expected;
        ++by_name_expected;
      } else {
        ++by_name_other;  // OffsetCommit / TxnOffsetCommit refusing their group or transactional id
      }
    } else {
      CHECK(to_hex(out) == to_hex(c.expected));
      same = same && out == c.expected;
      if (!split_answered_only(c)) {
        Bytes refusal;
        REQUIRE(encode_refusal(c.request, c.message, kRoomy, refusal, c.refused) == Errc::ok);
        CHECK(to_hex(refusal) == to_hex(out));
        same = same && refusal == out;
        ++both_paths;
      }
    }
    // Under a bound one byte short of the answer's size prefix: frame_too_large, nothing written.
    const auto payload = static_cast<std::uint32_t>(out.size() - 4);
    Bytes small{0x5A};
    CHECK(to_string(split_path_answer(c, payload - 1, small, topics)) == "frame_too_large");
    CHECK(small.empty());
    Bytes exact;
    CHECK(to_string(split_path_answer(c, payload, exact, topics)) == "ok");
    CHECK(exact == out);
    if (!same) mismatched.push_back(c.file);
  }
  std::string list;
  for (const auto& m : mismatched) list += m + "; ";
  INFO(mismatched.size() << " cases differ: " << list);
  CHECK(mismatched.empty());
  CHECK(empty > 0);
  CHECK(both_paths > 0);
  CHECK(by_name_apis == std::set<int>(std::begin(kSplitByNameApis), std::end(kSplitByNameApis)));
  CHECK(by_name_expected > 0);
  CHECK(by_name_other > 0);
  CHECK(by_id > 0);
  // Every Fetch vector is splittable: none is left to encode_refusal.
  for (const auto& c : cases) {
    if (split_answered_only(c)) CHECK(splittable(c.api_key, c.api_version));
  }
}

// A whole answer for every (api, version) kedge splits, from each independent encoder: the refusal vectors above
// (generate_refusals.py; for the APIs of kSplitWholeAnswerApis, and those of kSplitByNameApis whose vector is the
// answer refusing the topics) and the none_allowed split vectors (generate_split.py, test_split_golden.cpp).
TEST_CASE("whole answers of the split APIs cover every splittable (api, version)", "[refusal][split][coverage]") {
  std::set<std::pair<int, int>> refusal_covered, split_covered;
  for (const auto& c : refusal_cases()) {
    if (c.file.find(".empty.") != std::string::npos) continue;
    if (whole_answer_through_split(c.api_key) || (answered_as_topics(c) && !names_a_topic_by_id(c)))
      refusal_covered.insert({c.api_key, c.api_version});
  }
  std::size_t split_files = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "split")) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const auto j = nlohmann::json::parse(in);
    ++split_files;
    if (j.at("result").get<std::string>() == "none_allowed" && j.contains("expected_refusal_hex")) {
      split_covered.insert({j.at("api_key").get<int>(), j.at("api_version").get<int>()});
    }
  }
  REQUIRE(split_files > 0);
  std::string missing;
  int splittable_versions = 0;
  for (int api = 0; api < static_cast<int>(kApiKeyCount); ++api) {
    for (int version = 0; version <= 30; ++version) {
      if (!splittable(static_cast<std::int16_t>(api), static_cast<std::int16_t>(version))) continue;
      ++splittable_versions;
      const std::string at = std::to_string(api) + " v" + std::to_string(version);
      const auto key = static_cast<std::int16_t>(api);
      if ((whole_answer_through_split(key) || split_by_name(key)) && !refusal_covered.count({api, version}))
        missing += at + " (refusal vectors); ";
      if (!split_covered.count({api, version})) missing += at + " (split none_allowed vectors); ";
    }
  }
  INFO("splittable but without a whole answer naming topics: " << missing);
  // Produce v3-13, Fetch v0-17, DescribeProducers v0, ShareFetch v1-2, ShareAcknowledge v1-2; by name (section 5):
  // ListOffsets v0-10, OffsetCommit v0-9, OffsetForLeaderEpoch v0-4, DeleteRecords v0-2, TxnOffsetCommit v0-4,
  // CreateTopics v2-7, DeleteTopics v1-6, CreatePartitions v0-3.
  CHECK(splittable_versions == 11 + 18 + 1 + 2 + 2 + 11 + 10 + 5 + 3 + 5 + 6 + 6 + 4);
  CHECK(missing.empty());
}

TEST_CASE("refusal of a request kedge cannot refuse is malformed_request", "[refusal]") {
  const auto& cases = refusal_cases();
  REQUIRE_FALSE(cases.empty());
  std::set<std::int16_t> done;
  for (const auto& c : cases) {
    if (split_answered_only(c)) continue;  // no version of it is answered (the first test case)
    if (!done.insert(c.api_key).second) continue;  // one request per api is enough
    const auto range = acl_answerable_versions(c.api_key);  // refusable_versions() for the API-level ones
    for (const std::int16_t version : {static_cast<std::int16_t>(range.hi + 1), static_cast<std::int16_t>(range.lo - 1)}) {
      if (version < 0) continue;
      INFO(c.file << " with api_version " << version);
      Bytes frame = c.request;
      frame[6] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(version) >> 8);
      frame[7] = static_cast<std::uint8_t>(version & 0xFF);
      Bytes out;
      CHECK(to_string(encode_refusal(frame, c.message, kRoomy, out, c.refused)) == "malformed_request");
      CHECK(out.empty());
    }
  }
  // An api kedge never refuses (Metadata v12 with no topics), even with a well-formed body.
  Bytes metadata = from_hex("0000001c" "0003000c11223344" "00046b636174" "00" "01" "00" "00" "00");
  metadata[3] = static_cast<std::uint8_t>(metadata.size() - 4);
  REQUIRE_FALSE(refusable_versions(3).contains(12));
  REQUIRE_FALSE(acl_answerable_versions(3).contains(12));
  Bytes out;
  CHECK(to_string(encode_refusal(metadata, "no", kRoomy, out)) == "malformed_request");
  CHECK(out.empty());
}

// A read-only policy turns Metadata's AllowAutoTopicCreation (v4+) off in place. The requests are built by
// hand per version from MetadataRequest.json: Topics (nullable from v1; TopicId from v10, Name nullable from
// v10), AllowAutoTopicCreation (4+), IncludeClusterAuthorizedOperations (8-10), IncludeTopicAuthorizedOperations
// (8+); flexible (compact, tags, header v2) from v9.
TEST_CASE("turn_off_auto_topic_creation clears only the flag, in every Metadata version", "[refusal][metadata]") {
  for (int version = 0; version <= 13; ++version) {
    for (const bool null_topics : {false, true}) {
      if (null_topics && version == 0) continue;  // v0 has no null topic list
      INFO("Metadata v" << version << (null_topics ? " (all topics)" : " (two topics)"));
      const bool flexible = version >= 9;
      Builder request = header_v1(3, version, 77);
      if (flexible) request.uvarint(0);  // request header v2 tags
      if (null_topics) {
        if (flexible) request.uvarint(0);
        else request.i32(-1);
      } else {
        if (flexible) request.uvarint(3);
        else request.i32(2);
        for (const std::string_view name : {"orders", "payments"}) {
          if (version >= 10) request.i64(0x0102030405060708).i64(0x1112131415161718);  // TopicId
          if (flexible) request.cstr(name).uvarint(0);
          else request.str(name);
        }
      }
      std::size_t flag_at = 0;
      if (version >= 4) {
        flag_at = request.b.size() + 4;  // + the size prefix frame() adds
        request.i8(1);
      }
      if (version >= 8 && version <= 10) request.i8(1);
      if (version >= 8) request.i8(1);
      if (flexible) request.uvarint(0);
      const Bytes original = request.frame();
      Bytes frame = original;
      const bool changed = turn_off_auto_topic_creation(frame);
      if (version < 4) {
        CHECK_FALSE(changed);
        CHECK(frame == original);
        continue;
      }
      REQUIRE(changed);
      Bytes expected = original;
      expected[flag_at] = 0;
      CHECK(frame == expected);
      CHECK_FALSE(turn_off_auto_topic_creation(frame));  // already off: nothing to change
      CHECK(frame == expected);
      // A request cut short does not parse: left as it is (the broker refuses it).
      Bytes cut(original.begin(), original.end() - 1);
      const std::uint32_t size = static_cast<std::uint32_t>(cut.size() - 4);
      for (int i = 0; i < 4; ++i) cut[i] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
      const Bytes cut_before = cut;
      CHECK_FALSE(turn_off_auto_topic_creation(cut));
      CHECK(cut == cut_before);
    }
  }
  Bytes produce = header_v1(0, 3, 1).i16(-1).i16(1).i32(1000).i32(0).frame();
  CHECK_FALSE(turn_off_auto_topic_creation(produce));
}

TEST_CASE("request_resources names what a request touches, each once", "[refusal][audit]") {
  // Produce v3: TransactionalId "txn-1", topics orders (partitions 0, 1) and payments (0), orders again.
  Builder produce = header_v1(0, 3, 9);
  produce.str("txn-1").i16(-1).i32(1000).i32(3);
  for (const std::string_view topic : {"orders", "payments", "orders"}) produce.str(topic).i32(1).i32(0).i32(-1);
  CHECK(request_resources(produce.frame()) ==
        std::vector<RequestResource>{{"transactional_id", "txn-1"}, {"topic", "orders"}, {"topic", "payments"}});
  // DeleteTopics v6 (flexible): one topic by name (its id is zero), one by id only.
  Builder delete_topics = header_v1(20, 6, 10);
  delete_topics.uvarint(0).uvarint(3);
  delete_topics.cstr("orders").i64(0).i64(0).uvarint(0);
  delete_topics.uvarint(0).i64(0x0102030405060708).i64(0x090a0b0c0d0e0f10).uvarint(0);
  delete_topics.i32(1000).uvarint(0);
  CHECK(request_resources(delete_topics.frame()) ==
        std::vector<RequestResource>{{"topic", "orders"}, {"topic_id", "0102030405060708090a0b0c0d0e0f10"}});
  // IncrementalAlterConfigs v0: a topic, a broker, a group.
  Builder alter = header_v1(44, 0, 11);
  alter.i32(3);
  for (const auto& [type, name] : std::vector<std::pair<int, std::string_view>>{{2, "orders"}, {4, "1"}, {32, "app"}}) {
    alter.i8(type).str(name).i32(0);
  }
  alter.i8(0);
  CHECK(request_resources(alter.frame()) ==
        std::vector<RequestResource>{{"topic", "orders"}, {"broker", "1"}, {"group", "app"}});
  // OffsetDelete v0: the group and its topics; InitProducerId with a null id names nothing.
  Builder offset_delete = header_v1(47, 0, 12);
  offset_delete.str("app").i32(1).str("orders").i32(1).i32(0);
  CHECK(request_resources(offset_delete.frame()) ==
        std::vector<RequestResource>{{"group", "app"}, {"topic", "orders"}});
  Builder init = header_v1(22, 0, 13);
  init.i16(-1).i32(60000);
  CHECK(request_resources(init.frame()).empty());
  // Another API, or a request cut short: nothing.
  CHECK(request_resources(header_v1(3, 1, 14).i32(0).frame()).empty());
  Bytes cut = produce.frame();
  cut.resize(cut.size() - 3);
  CHECK(request_resources(cut).empty());
  // Every golden request reads (the golden cases hold every refusable API and version).
  for (const RefusalCase& c : refusal_cases()) {
    INFO(c.file);
    const auto resources = request_resources(c.request);
    for (const RequestResource& r : resources) CHECK(!r.type.empty());
  }
}
