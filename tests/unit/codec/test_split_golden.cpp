// Golden vectors for split requests (kafka_codec/split.h). Every
// tests/golden/split/*.json is one case written by
// tests/golden/split/generate_split.py, an encoder independent of
// kafka_codec/ (built from the Kafka message specs): a whole client request
// (request_hex: Produce, Fetch, ShareFetch, ShareAcknowledge,
// DescribeProducers, ListOffsets, OffsetCommit, OffsetForLeaderEpoch,
// DeleteRecords, TxnOffsetCommit, CreateTopics, DeleteTopics or
// CreatePartitions) naming several topics (by name, or by TopicId in Produce
// v13, Fetch v13+, ShareFetch and ShareAcknowledge: by_id), what the policy
// refuses (refused_topics, error 29)
// and the ids it cannot name (unknown_topic_ids, error 100), each refused
// topic's position, error and response entry, and when the request is split,
// the request the broker must receive (forwarded_hex), a broker's answer to it
// (broker_response_hex) and the response the client must receive
// (merged_hex); when every topic is refused, kedge's whole answer
// (expected_refusal_hex, encode_split_refusal). A request kedge must not split
// (result "unreadable": a DeleteTopics v6 topic named by id only, its Name
// null, in a request split by name) is decided whole. Adding a case means
// adding a file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafka_codec/schema.h"
#include "kafka_codec/split.h"
#include "kafka_codec/wire.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t kRoomy = 64u << 20;

constexpr int kProduce = 0, kFetch = 1, kDescribeProducers = 61, kShareFetch = 78, kShareAcknowledge = 79;
// Split by topic name (share-spec section 5).
constexpr int kListOffsets = 2, kOffsetCommit = 8, kCreateTopics = 19, kDeleteTopics = 20, kDeleteRecords = 21,
              kOffsetForLeaderEpoch = 23, kTxnOffsetCommit = 28, kCreatePartitions = 37;

// The spec of the split vectors (tests/golden/split/README.md), independent of split.cpp:
// whether the version names topics by TopicId only (Produce v13, Fetch v13+, the share APIs every version)...
bool names_by_id(int api, int version) {
  if (api == kShareFetch || api == kShareAcknowledge) return true;
  if (api == kProduce || api == kFetch) return version >= 13;
  return false;
}
// ... whether its refused entries carry an ErrorMessage, so the verdict's message is asked once per refused topic
// (Produce v8+; the share APIs and DescribeProducers in every version; CreateTopics v1+, DeleteTopics v5+ and
// CreatePartitions, whose topic entries have one; the other APIs split by name have none)...
bool has_error_message(int api, int version) {
  return (api == kProduce && version >= 8) || api == kShareFetch || api == kShareAcknowledge ||
         api == kDescribeProducers || (api == kCreateTopics && version >= 1) ||
         (api == kDeleteTopics && version >= 5) || api == kCreatePartitions;
}
// ... whether it is flexible ...
bool is_flexible(int api, int version) {
  switch (api) {
    case kProduce: return version >= 9;
    case kFetch: return version >= 12;
    case kListOffsets: return version >= 6;
    case kOffsetCommit: return version >= 8;
    case kCreateTopics: return version >= 5;
    case kDeleteTopics: return version >= 4;
    case kDeleteRecords: return version >= 2;
    case kOffsetForLeaderEpoch: return version >= 4;
    case kTxnOffsetCommit: return version >= 3;
    case kCreatePartitions: return version >= 2;
  }
  return true;  // the share APIs and DescribeProducers: flexibleVersions "0+"
}
// ... versions of the same API kedge does not split: Produce v0-2 are gone, Produce v14 and Fetch v18 (Kafka 4.3)
// are not read; ShareFetch and ShareAcknowledge v0 (KIP-932 early access, removed in Kafka 4.1) and v3, and
// DescribeProducers v1, do not exist; ListOffsets v11, OffsetCommit v10 (topics by id, KIP-848) and TxnOffsetCommit v5
// (Kafka 4.x) are not read, CreateTopics v0-1 and DeleteTopics v0 are gone (KIP-896), OffsetForLeaderEpoch v5,
// DeleteRecords v3, CreateTopics v8, DeleteTopics v7 and CreatePartitions v4 do not exist ...
std::vector<int> unsplit_versions(int api) {
  switch (api) {
    case kProduce: return {2, 14};
    case kFetch: return {18};
    case kShareFetch:
    case kShareAcknowledge: return {0, 3};
    case kDescribeProducers: return {1};
    case kListOffsets: return {11};
    case kOffsetCommit: return {10};
    case kOffsetForLeaderEpoch: return {5};
    case kDeleteRecords: return {3};
    case kTxnOffsetCommit: return {5};
    case kCreateTopics: return {1, 8};
    case kDeleteTopics: return {0, 7};
    case kCreatePartitions: return {4};
  }
  return {};
}
// ... and whether fields follow its topic array (Fetch v7+: ForgottenTopicsData, RackId from v11, tags from v12;
// ShareFetch: ForgottenTopicsData and tags; ListOffsets v10: TimeoutMs; DeleteRecords, DeleteTopics: TimeoutMs;
// CreateTopics, CreatePartitions: TimeoutMs, ValidateOnly). Every other splittable request ends with its topic array
// (and a tag buffer when flexible).
bool fields_after_topics(int api, int version) {
  return (api == kFetch && version >= 7) || api == kShareFetch || (api == kListOffsets && version >= 10) ||
         api == kDeleteRecords || api == kDeleteTopics || api == kCreateTopics || api == kCreatePartitions;
}

struct RefusedEntry {
  std::uint32_t position = 0;
  std::string topic;  // name, or the id's 32 hex digits (by_id)
  std::int16_t error = 0;
  Bytes entry;
};

struct SplitCase {
  std::string file;
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  bool by_id = false;
  std::string message_prefix;
  std::string unknown_message_prefix;
  std::vector<std::string> request_topics;  // "" for an element naming its topic by id only (null_names)
  std::size_t null_names = 0;               // DeleteTopics v6 elements whose Name is null (JSON null)
  std::set<std::string> refused_topics;     // TOPIC_AUTHORIZATION_FAILED
  std::set<std::string> unknown_topic_ids;  // UNKNOWN_TOPIC_ID
  std::string result;
  Bytes request;
  std::size_t topics_end = 0;  // offset in `request` just past the topic array
  // When result is "split" or "none_allowed":
  std::vector<RefusedEntry> refused;
  // Only when result == "split":
  Bytes forwarded;
  Bytes broker_response;
  Bytes merged;
  // Only when result == "none_allowed":
  Bytes expected_refusal;

  std::int32_t correlation_id() const { return wire::get_i32(request.data() + 8); }
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
      c.by_id = j.at("by_id").get<bool>();
      c.message_prefix = j.at("message_prefix").get<std::string>();
      c.unknown_message_prefix = j.at("unknown_topic_id_message_prefix").get<std::string>();
      for (const auto& t : j.at("request_topics")) {
        c.request_topics.push_back(t.is_null() ? std::string() : t.get<std::string>());
        c.null_names += t.is_null() ? 1 : 0;
      }
      for (const auto& t : j.at("refused_topics")) c.refused_topics.insert(t.get<std::string>());
      for (const auto& t : j.at("unknown_topic_ids")) c.unknown_topic_ids.insert(t.get<std::string>());
      c.result = j.at("result").get<std::string>();
      c.request = from_hex(j.at("request_hex").get<std::string>());
      c.topics_end = j.at("topics_end").get<std::size_t>();
      if (c.result == "split" || c.result == "none_allowed") {
        for (const auto& r : j.at("refused")) {
          c.refused.push_back({r.at("position").get<std::uint32_t>(), r.at("topic").get<std::string>(),
                               r.at("error").get<std::int16_t>(), from_hex(r.at("entry_hex").get<std::string>())});
        }
      }
      if (c.result == "split") {
        c.forwarded = from_hex(j.at("forwarded_hex").get<std::string>());
        c.broker_response = from_hex(j.at("broker_response_hex").get<std::string>());
        c.merged = from_hex(j.at("merged_hex").get<std::string>());
      }
      if (c.result == "none_allowed") c.expected_refusal = from_hex(j.at("expected_refusal_hex").get<std::string>());
      out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.file < b.file; });
    return out;
  }();
  return cases;
}

std::string hex_of(std::string_view bytes) {
  return to_hex(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

// The case's policy: refuses refused_topics (TOPIC_AUTHORIZATION_FAILED) and cannot name unknown_topic_ids
// (UNKNOWN_TOPIC_ID), topics named as the case names them (a 16-byte id as its 32 hex digits). The message of a
// refused topic is its error's prefix + that label (generate_split.py message_for). Counts what split_request
// asks, and how often it asks about a topic the wrong way (by name in a by-id version or the other way round, or
// for a message with an error the verdict did not give).
class SetVerdict final : public TopicVerdict {
 public:
  explicit SetVerdict(const SplitCase& c) : c_(c) {}
  ErrorCode verdict(std::string_view topic, bool by_id) override {
    ++verdict_calls;
    if (by_id != c_.by_id || (by_id && topic.size() != 16)) ++wrong_kind;
    return error_of(label(topic, by_id));
  }
  std::string refusal_message(std::string_view topic, bool by_id, ErrorCode error) override {
    ++message_calls;
    if (by_id != c_.by_id) ++wrong_kind;
    const std::string named = label(topic, by_id);
    if (error == ErrorCode::none || error != error_of(named)) ++wrong_kind;
    return (error == ErrorCode::unknown_topic_id ? c_.unknown_message_prefix : c_.message_prefix) + named;
  }
  std::size_t verdict_calls = 0;
  std::size_t message_calls = 0;
  std::size_t wrong_kind = 0;

 private:
  static std::string label(std::string_view topic, bool by_id) { return by_id ? hex_of(topic) : std::string(topic); }
  ErrorCode error_of(const std::string& named) const {
    if (c_.unknown_topic_ids.count(named)) return ErrorCode::unknown_topic_id;
    if (c_.refused_topics.count(named)) return ErrorCode::topic_authorization_failed;
    return ErrorCode::none;
  }
  const SplitCase& c_;
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

// A Fetch (v7+), ShareFetch or ShareAcknowledge whose broker answered with a top-level error is copied unchanged:
// merged == broker response.
bool copied_unchanged(const SplitCase& c) { return c.result == "split" && c.merged == c.broker_response; }

// Checks `answer` (split_request's, on split or none_allowed) against the case's refused entries; true if equal.
bool check_answer(const SplitCase& c, const SplitAnswer& answer) {
  CHECK(answer.api_key == c.api_key);
  CHECK(answer.api_version == c.api_version);
  CHECK(answer.by_id == c.by_id);
  REQUIRE(answer.refused.size() == c.refused.size());
  bool same = answer.api_key == c.api_key && answer.api_version == c.api_version && answer.by_id == c.by_id;
  for (std::size_t i = 0; i < c.refused.size(); ++i) {
    INFO("refused entry " << i << " (" << c.refused[i].topic << ")");
    const SplitAnswer::Refused& got = answer.refused[i];
    const std::string topic = c.by_id ? hex_of(got.topic) : got.topic;
    CHECK(got.position == c.refused[i].position);
    CHECK(topic == c.refused[i].topic);
    CHECK(code_of(got.error) == c.refused[i].error);
    REQUIRE(got.begin <= got.end);
    REQUIRE(got.end <= answer.entries.size());
    const auto entry = std::span(answer.entries).subspan(got.begin, got.end - got.begin);
    CHECK(to_hex(entry) == to_hex(c.refused[i].entry));
    same = same && got.position == c.refused[i].position && topic == c.refused[i].topic &&
           code_of(got.error) == c.refused[i].error && to_hex(entry) == to_hex(c.refused[i].entry);
  }
  // The entries tile `entries`, in position order.
  for (std::size_t i = 0; i < answer.refused.size(); ++i) {
    CHECK(answer.refused[i].begin == (i == 0 ? 0 : answer.refused[i - 1].end));
  }
  CHECK((answer.refused.empty() ? 0 : answer.refused.back().end) == answer.entries.size());
  return same;
}

}  // namespace

TEST_CASE("split golden vectors", "[split][golden]") {
  const auto& cases = split_cases();
  REQUIRE_FALSE(cases.empty());
  std::vector<std::string> mismatched;
  for (const auto& c : cases) {
    INFO(c.file);
    SetVerdict verdict(c);
    Bytes forwarded{0xAA, 0xBB};  // replaced, not appended to
    SplitAnswer answer;
    answer.entries = {0x01};
    answer.refused.push_back({9, 0, 1, "stale", ErrorCode::none});
    const SplitResult r = split_request(c.request, verdict, forwarded, answer);
    CHECK(result_name(r) == c.result);
    CHECK(verdict.wrong_kind == 0);
    bool same = result_name(r) == c.result && verdict.wrong_kind == 0;
    if (c.result == "unreadable") {
      // A topic named by id in a request split by name: not split, decided whole. Both outputs are left empty and
      // no message is asked; the verdict may have been asked about the topics named before it, never more.
      CHECK(c.null_names > 0);
      CHECK(forwarded.empty());
      CHECK(answer_empty(answer));
      CHECK(verdict.message_calls == 0);
      CHECK(verdict.verdict_calls <= c.request_topics.size() - c.null_names);
      same = same && forwarded.empty() && answer_empty(answer) && verdict.message_calls == 0;
      if (!same) mismatched.push_back(c.file);
      continue;
    }
    CHECK(c.null_names == 0);
    // The verdict is asked once per topic element of the request, the way the version names topics.
    CHECK(verdict.verdict_calls == c.request_topics.size());
    same = same && verdict.verdict_calls == c.request_topics.size();
    // ErrorMessage exists from Produce v8, and in every version of the share APIs and DescribeProducers: asked once
    // per refused topic element there.
    if (has_error_message(c.api_key, c.api_version)) CHECK(verdict.message_calls == c.refused.size());
    else CHECK(verdict.message_calls <= c.refused.size());
    if (c.result == "all_allowed") {
      CHECK(forwarded.empty());
      CHECK(answer_empty(answer));
      CHECK(verdict.message_calls == 0);
      same = same && forwarded.empty() && answer_empty(answer);
      if (!same) mismatched.push_back(c.file);
      continue;
    }
    if (c.result == "none_allowed") {
      // Nothing goes to the broker; the answer names every topic, and kedge answers the request whole.
      CHECK(forwarded.empty());
      same = check_answer(c, answer) && same && forwarded.empty();
      Bytes refusal{0x5A, 0x5B};  // replaced
      const Errc e = encode_split_refusal(answer, c.correlation_id(), kRoomy, refusal);
      CHECK(to_string(e) == "ok");
      CHECK(to_hex(refusal) == to_hex(c.expected_refusal));
      same = same && e == Errc::ok && refusal == c.expected_refusal;
      // The correlation id is the one given: only its 4 bytes change.
      Bytes other;
      REQUIRE(encode_split_refusal(answer, 0x7EADBEEF, kRoomy, other) == Errc::ok);
      REQUIRE(other.size() == c.expected_refusal.size());
      CHECK(wire::get_i32(other.data() + 4) == 0x7EADBEEF);
      CHECK(Bytes(other.begin() + 8, other.end()) == Bytes(c.expected_refusal.begin() + 8, c.expected_refusal.end()));
      CHECK(Bytes(other.begin(), other.begin() + 4) == Bytes(c.expected_refusal.begin(), c.expected_refusal.begin() + 4));
      if (!same) mismatched.push_back(c.file);
      continue;
    }
    CHECK(to_hex(forwarded) == to_hex(c.forwarded));
    same = check_answer(c, answer) && same;
    Bytes merged{0x5A};  // replaced
    const Errc e = merge_split_response(c.broker_response, answer, kRoomy, merged);
    CHECK(to_string(e) == "ok");
    CHECK(to_hex(merged) == to_hex(c.merged));
    same = same && forwarded == c.forwarded && e == Errc::ok && merged == c.merged;

    // The forwarded request names only allowed topics: split again by the same policy, nothing is refused.
    SetVerdict again(c);
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
  // Per (api, version): the results it has cases for, and for by-id versions the errors of those results.
  std::set<std::pair<int, int>> covered;
  std::map<std::pair<int, int>, std::set<std::string>> results;
  std::map<std::pair<int, int>, std::set<std::pair<std::string, int>>> errors;
  for (const auto& c : cases) {
    const std::pair<int, int> key{c.api_key, c.api_version};
    covered.insert(key);
    results[key].insert(c.result);
    for (const auto& r : c.refused) errors[key].insert({c.result, r.error});
    // Topics are named by id exactly from Produce v13 and Fetch v13, and in the share APIs.
    CHECK(c.by_id == names_by_id(c.api_key, c.api_version));
    if (!c.by_id) CHECK(c.unknown_topic_ids.empty());
    // Only a DeleteTopics v6 element may name its topic by id alone (Name null), and such a request is never split.
    INFO(c.file);
    CHECK((c.null_names > 0) == (c.result == "unreadable"));
    if (c.null_names > 0) CHECK((c.api_key == kDeleteTopics && c.api_version >= 6));
  }
  CHECK(results[{kDeleteTopics, 6}].count("unreadable") == 1);
  std::string missing;
  int splittable_versions = 0;
  for (int api = 0; api <= 100; ++api) {
    for (int version = 0; version <= 30; ++version) {
      if (!splittable(static_cast<std::int16_t>(api), static_cast<std::int16_t>(version))) continue;
      ++splittable_versions;
      const std::pair<int, int> key{api, version};
      const std::string at = std::to_string(api) + " v" + std::to_string(version);
      for (const std::string result : {"split", "none_allowed", "all_allowed"}) {
        if (!results[key].count(result)) missing += at + " " + result + "; ";
      }
      if (!names_by_id(api, version)) continue;
      for (const std::string result : {"split", "none_allowed"}) {
        for (const int error : {29, 100}) {
          if (!errors[key].count({result, error})) missing += at + " " + result + " error " + std::to_string(error) + "; ";
        }
      }
    }
  }
  std::string not_splittable;
  for (const auto& [api, version] : covered)
    if (!splittable(static_cast<std::int16_t>(api), static_cast<std::int16_t>(version)))
      not_splittable += std::to_string(api) + " v" + std::to_string(version) + "; ";
  INFO("splittable but without a case: " << missing);
  INFO("golden file but not splittable: " << not_splittable);
  // Produce v3-13, Fetch v0-17, ShareFetch v1-2, ShareAcknowledge v1-2, DescribeProducers v0 (split.h); by name
  // (share-spec section 5): ListOffsets v0-10, OffsetCommit v0-9, OffsetForLeaderEpoch v0-4, DeleteRecords v0-2,
  // TxnOffsetCommit v0-4, CreateTopics v2-7, DeleteTopics v1-6, CreatePartitions v0-3.
  CHECK(splittable_versions == 11 + 18 + 2 + 2 + 1 + 11 + 10 + 5 + 3 + 5 + 6 + 6 + 4);
  CHECK(missing.empty());
  CHECK(not_splittable.empty());
}

namespace {

// Cuts `c.request` to every length in [from, to) (size prefix fixed) and returns, per case, the first cut that
// split_request does not refuse as unreadable with both outputs empty.
void split_truncations(const SplitCase& c, std::size_t from, std::size_t to, std::vector<std::string>& failed) {
  for (std::size_t cut = from; cut < to; ++cut) {
    const Bytes frame = truncated(c.request, cut);
    SetVerdict verdict(c);
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

bool fields_after_topics(const SplitCase& c) { return fields_after_topics(c.api_key, c.api_version); }

// Whether kedge's request table of the case's API lists only the request's leading fields (schema.h
// leading_fields_only: the ACL-only APIs; of the split ones ListOffsets, OffsetCommit, OffsetForLeaderEpoch and
// TxnOffsetCommit, whose tables end with the topic array). The others are read whole.
bool read_by_leading_fields(const SplitCase& c) {
  const schema::MessageSchema* table = schema::find_request_schema(c.api_key);
  return table != nullptr && table->leading_fields_only;
}

}  // namespace

TEST_CASE("split of a truncated request is unreadable and leaves both outputs empty", "[split]") {
  const auto& cases = split_cases();
  REQUIRE_FALSE(cases.empty());
  std::vector<std::string> failed;
  std::size_t cuts = 0;
  for (const auto& c : cases) {
    REQUIRE(c.topics_end <= c.request.size());
    // Every cut of the requests read whole that end with their topic array (and, when flexible, the tag buffer):
    // Produce, Fetch v0-6, ShareAcknowledge, DescribeProducers. The others up to the end of their topic array: the
    // next test cases cut them after it.
    const std::size_t to =
        fields_after_topics(c) || read_by_leading_fields(c) ? c.topics_end : c.request.size();
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
// the tag buffer (v12+, with ClusterId and ReplicaState) included, and so do the ShareFetch one (ForgottenTopicsData,
// the tag buffer) and the DeleteRecords, CreateTopics, DeleteTopics and CreatePartitions ones (TimeoutMs,
// ValidateOnly, the tag buffer), so a request cut after its topic array does not parse and is not split.
TEST_CASE("split of a request read whole cut after its topic array is unreadable", "[split]") {
  const auto& cases = split_cases();
  std::vector<std::string> failed;
  std::set<int> apis;
  std::size_t checked = 0;
  for (const auto& c : cases) {
    if (!fields_after_topics(c) || read_by_leading_fields(c)) continue;
    REQUIRE(c.topics_end < c.request.size());
    split_truncations(c, c.topics_end, c.request.size(), failed);
    apis.insert(c.api_key);
    ++checked;
  }
  std::string list;
  for (const auto& f : failed) list += f + "\n";
  INFO(failed.size() << " of " << checked << " cases split a request cut after its topics:\n" << list);
  CHECK(checked > 0);
  CHECK(apis == std::set<int>{kFetch, kCreateTopics, kDeleteTopics, kDeleteRecords, kCreatePartitions, kShareFetch});
  CHECK(failed.empty());
}

// ListOffsets, OffsetCommit, OffsetForLeaderEpoch and TxnOffsetCommit are ACL-only APIs: kedge reads only their
// leading fields, up to the end of the topic array (schema.h leading_fields_only), and a request cut after them
// (ListOffsets v10's TimeoutMs, the top-level tag buffer of flexible versions) names every topic the whole one
// does. Such a cut is unreadable, or split exactly as the whole request: the same result and refused entries, and
// the forwarded request is the whole one's cut by as many bytes (the broker refuses it). encode_refusal answers such
// a request as the whole one too (test_refusal_golden.cpp).
TEST_CASE("split of a request read by its leading fields cut after its topic array is unreadable or as the whole",
          "[split]") {
  const auto& cases = split_cases();
  std::vector<std::string> failed;
  std::set<int> apis;
  std::size_t checked = 0, as_whole = 0;
  for (const auto& c : cases) {
    if (!read_by_leading_fields(c)) continue;
    apis.insert(c.api_key);
    SetVerdict whole_verdict(c);
    Bytes whole_forwarded;
    SplitAnswer whole;
    const SplitResult whole_result = split_request(c.request, whole_verdict, whole_forwarded, whole);
    REQUIRE(result_name(whole_result) == c.result);
    for (std::size_t cut = c.topics_end; cut < c.request.size(); ++cut) {
      ++checked;
      SetVerdict verdict(c);
      Bytes forwarded{0xAA};
      SplitAnswer answer;
      answer.entries = {0x01};
      const SplitResult r = split_request(truncated(c.request, cut), verdict, forwarded, answer);
      bool same = true;
      if (r == SplitResult::unreadable) {
        same = forwarded.empty() && answer_empty(answer);
      } else {
        ++as_whole;
        const std::size_t shorter = c.request.size() - cut;
        const Bytes expected_forwarded =
            whole_forwarded.empty() ? Bytes{} : truncated(whole_forwarded, whole_forwarded.size() - shorter);
        same = r == whole_result && forwarded == expected_forwarded && answer.entries == whole.entries &&
               answer.refused.size() == whole.refused.size() && answer.api_key == whole.api_key &&
               answer.api_version == whole.api_version && answer.by_id == whole.by_id;
        for (std::size_t i = 0; same && i < whole.refused.size(); ++i) {
          const auto& a = answer.refused[i];
          const auto& b = whole.refused[i];
          same = a.position == b.position && a.begin == b.begin && a.end == b.end && a.topic == b.topic &&
                 a.error == b.error;
        }
      }
      if (!same) {
        failed.push_back(c.file + " cut to " + std::to_string(cut) + " of " + std::to_string(c.request.size()) +
                         " (topic array ends at " + std::to_string(c.topics_end) + "): " + result_name(r));
        break;
      }
    }
  }
  std::string list;
  for (const auto& f : failed) list += f + "\n";
  INFO(failed.size() << " cases split a request cut after its topics otherwise than the whole one:\n" << list);
  INFO(as_whole << " of " << checked << " cuts split as the whole request");
  CHECK(checked > 0);
  CHECK(apis == std::set<int>{kListOffsets, kOffsetCommit, kOffsetForLeaderEpoch, kTxnOffsetCommit});
  CHECK(failed.empty());
}

TEST_CASE("merge of a truncated broker response is malformed_response and leaves out empty", "[split]") {
  const auto& cases = split_cases();
  std::vector<std::string> failed;
  std::size_t checked = 0;
  for (const auto& c : cases) {
    if (c.result != "split") continue;
    SetVerdict verdict(c);
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
    SetVerdict verdict(c);
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

TEST_CASE("a whole answer larger than max_frame_size is frame_too_large and leaves out empty", "[split]") {
  const auto& cases = split_cases();
  std::size_t checked = 0;
  for (const auto& c : cases) {
    if (c.result != "none_allowed") continue;
    INFO(c.file);
    SetVerdict verdict(c);
    Bytes forwarded;
    SplitAnswer answer;
    REQUIRE(split_request(c.request, verdict, forwarded, answer) == SplitResult::none_allowed);
    const auto payload = static_cast<std::uint32_t>(c.expected_refusal.size() - 4);  // its size prefix
    Bytes out{0x5A};
    CHECK(to_string(encode_split_refusal(answer, c.correlation_id(), payload - 1, out)) == "frame_too_large");
    CHECK(out.empty());
    Bytes tiny{0x5A};
    CHECK(to_string(encode_split_refusal(answer, c.correlation_id(), 0, tiny)) == "frame_too_large");
    CHECK(tiny.empty());
    Bytes exact;
    CHECK(to_string(encode_split_refusal(answer, c.correlation_id(), payload, exact)) == "ok");
    CHECK(exact == c.expected_refusal);
    ++checked;
  }
  CHECK(checked > 0);
}

TEST_CASE("split leaves requests it does not split whole", "[split]") {
  const auto& cases = split_cases();
  REQUIRE_FALSE(cases.empty());
  std::set<std::tuple<int, bool, bool>> done;
  for (const auto& c : cases) {
    if (c.result != "split" || !done.insert({c.api_key, is_flexible(c.api_key, c.api_version), c.by_id}).second) continue;
    INFO(c.file);
    // The same request at a version kedge does not split (unsplit_versions), or under another api key.
    const std::vector<int> versions = unsplit_versions(c.api_key);
    REQUIRE_FALSE(versions.empty());
    for (const int version : versions) {
      INFO("as version " << version);
      REQUIRE_FALSE(splittable(c.api_key, static_cast<std::int16_t>(version)));
      Bytes frame = c.request;
      frame[6] = 0;
      frame[7] = static_cast<std::uint8_t>(version);
      SetVerdict verdict(c);
      Bytes forwarded;
      SplitAnswer answer;
      CHECK(result_name(split_request(frame, verdict, forwarded, answer)) == "unreadable");
      CHECK(forwarded.empty());
      CHECK(answer_empty(answer));
      CHECK(verdict.verdict_calls == 0);
    }
    Bytes other = c.request;
    other[4] = 0;
    other[5] = 3;  // Metadata
    SetVerdict verdict(c);
    Bytes forwarded;
    SplitAnswer answer;
    CHECK(result_name(split_request(other, verdict, forwarded, answer)) == "unreadable");
    CHECK(verdict.verdict_calls == 0);
  }
  // Produce and Fetch, each non-flexible, flexible by name and flexible by id; ShareFetch and ShareAcknowledge
  // (flexible by id); DescribeProducers (flexible by name); the 8 APIs split by name, non-flexible and flexible.
  CHECK(done.size() == 6 + 3 + 8 * 2);
}

TEST_CASE("merge reads the broker response as the answer's api and version", "[split]") {
  const auto& cases = split_cases();
  std::size_t checked = 0;
  for (const auto& c : cases) {
    if (c.result != "split" || copied_unchanged(c)) continue;
    INFO(c.file);
    SetVerdict verdict(c);
    Bytes forwarded;
    SplitAnswer answer;
    REQUIRE(split_request(c.request, verdict, forwarded, answer) == SplitResult::split);
    Bytes out{0x5A};
    // An answer for an api kedge does not split: nothing to merge into.
    SplitAnswer wrong_api = answer;
    wrong_api.api_key = 3;
    CHECK(to_string(merge_split_response(c.broker_response, wrong_api, kRoomy, out)) == "malformed_response");
    CHECK(out.empty());
    // An answer for a version kedge does not split (unsplit_versions: Produce v2 and v14, Fetch v18, ShareFetch
    // and ShareAcknowledge v0 and v3, DescribeProducers v1, ListOffsets v11, ...).
    for (const int version : unsplit_versions(c.api_key)) {
      INFO("as version " << version);
      SplitAnswer wrong_version = answer;
      wrong_version.api_version = static_cast<std::int16_t>(version);
      CHECK(to_string(merge_split_response(c.broker_response, wrong_version, kRoomy, out)) == "malformed_response");
      CHECK(out.empty());
    }
    // A response cut in its header's size prefix.
    CHECK(to_string(merge_split_response(std::span(c.broker_response).first(3), answer, kRoomy, out)) ==
          "malformed_response");
    CHECK(out.empty());
    ++checked;
  }
  CHECK(checked > 0);
}

// A namespace splits off the topic names too long once prefixed (gateway split_long_names): their entries carry
// the verdict's INVALID_TOPIC_EXCEPTION (17), not an authorization error, in every API with a whole-refusal writer.
TEST_CASE("split entries carry the verdict's INVALID_TOPIC_EXCEPTION", "[split]") {
  class TooLong final : public TopicVerdict {
   public:
    explicit TooLong(std::set<std::string> refused) : refused_(std::move(refused)) {}
    ErrorCode verdict(std::string_view topic, bool) override {
      return refused_.count(std::string(topic)) ? ErrorCode::invalid_topic_exception : ErrorCode::none;
    }
    std::string refusal_message(std::string_view topic, bool, ErrorCode) override {
      return "too long: " + std::string(topic);
    }

   private:
    std::set<std::string> refused_;
  };
  std::size_t checked = 0;
  for (const auto& c : split_cases()) {
    if (c.result != "split" || c.by_id || c.api_key != static_cast<std::int16_t>(ApiKey::create_topics)) continue;
    TooLong verdict(c.refused_topics);
    Bytes forwarded;
    SplitAnswer answer;
    REQUIRE(split_request(c.request, verdict, forwarded, answer) == SplitResult::split);
    REQUIRE(answer.refused.size() == c.refused_topics.size());
    for (const SplitAnswer::Refused& r : answer.refused) {
      INFO(c.file << " " << r.topic);
      CHECK(r.error == ErrorCode::invalid_topic_exception);
      // CreatableTopicResult: Name (v2-4: INT16-length string; v5+: compact string), TopicId (v7+), ErrorCode.
      const std::uint8_t* entry = answer.entries.data() + r.begin;
      const bool flexible = c.api_version >= 5;
      std::size_t name_end = 0;
      if (flexible) {
        std::size_t length = 0, shift = 0, i = 0;
        for (; entry[i] & 0x80; ++i, shift += 7) length |= std::size_t(entry[i] & 0x7f) << shift;
        length |= std::size_t(entry[i]) << shift;
        name_end = i + 1 + (length - 1);
      } else {
        name_end = 2 + static_cast<std::size_t>(wire::get_i16(entry));
      }
      CHECK(std::string_view(reinterpret_cast<const char*>(entry) + name_end - r.topic.size(), r.topic.size()) == r.topic);
      CHECK(wire::get_i16(entry + name_end + (c.api_version >= 7 ? 16 : 0)) == 17);
      ++checked;
    }
  }
  CHECK(checked >= 6);
}
