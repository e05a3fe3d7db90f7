// Golden vectors for namespaces (kafka_codec/rename.h): every
// tests/golden/rename/*.json is one request or response written by
// tests/golden/rename/generate_rename.py, an encoder independent of
// kafka_codec/ that decides which fields are names from the `entityType` of
// Kafka's JSON message specs (plus FindCoordinator keys by KeyType and config
// ResourceNames by ResourceType, regexes confined to the namespace). A
// request's names get the prefixes (prefix_request_names: outcome, refused
// name and bytes), a response's lose them (strip_response_names: changed and
// bytes; a ListTransactions marked filter_transactional_ids goes through
// filter_list_transactions first); "expected" null means the frame is left as
// it is. A renamed request stripped again (rename_message,
// RenameDirection::strip) gives the client's bytes back, and the names kedge
// finds in a frame are the vector's names, in wire order.
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

#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/rename.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/topic_filter.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

const NamePrefixes kPrefixes{"team-a.", "grp-a.", "txn-a."};

struct RenameCase {
  std::string file;
  std::int16_t api_key = 0;
  std::int16_t version = 0;
  bool request = true;
  std::int8_t coordinator_key_type = -1;
  Bytes input;
  std::optional<Bytes> expected;
  std::string outcome;  // requests
  std::string refused_name;
  bool filter_transactional_ids = false;  // ListTransactions responses
  std::vector<std::string> names;
};

const std::vector<RenameCase>& rename_cases() {
  static const std::vector<RenameCase> cases = [] {
    std::vector<RenameCase> out;
    const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "rename";
    if (!fs::exists(dir)) return out;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      std::ifstream in(entry.path());
      const auto j = nlohmann::json::parse(in);
      RenameCase c;
      c.file = entry.path().filename().string();
      c.api_key = j.at("api_key").get<std::int16_t>();
      c.version = j.at("version").get<std::int16_t>();
      c.request = j.at("direction").get<std::string>() == "request";
      if (j.contains("coordinator_key_type")) c.coordinator_key_type = j.at("coordinator_key_type").get<std::int8_t>();
      c.input = from_hex(j.at("input").get<std::string>());
      if (!j.at("expected").is_null()) c.expected = from_hex(j.at("expected").get<std::string>());
      if (c.request) c.outcome = j.at("outcome").get<std::string>();
      if (j.contains("refused_name")) c.refused_name = j.at("refused_name").get<std::string>();
      c.filter_transactional_ids = j.value("filter_transactional_ids", false);
      for (const auto& name : j.at("names")) c.names.push_back(name.get<std::string>());
      out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
    return out;
  }();
  return cases;
}

std::string outcome_name(RenameResult::Outcome o) {
  switch (o) {
    case RenameResult::Outcome::unchanged: return "unchanged";
    case RenameResult::Outcome::renamed: return "renamed";
    case RenameResult::Outcome::name_too_long: return "name_too_long";
    case RenameResult::Outcome::foreign_resource: return "foreign_resource";
    case RenameResult::Outcome::unconfinable_regex: return "unconfinable_regex";
    case RenameResult::Outcome::malformed: return "malformed";
  }
  return "?";
}

// The names kedge finds in `frame` (walked as `s` from `body`), as the vectors list them: non-null, in wire order,
// config ResourceNames only for topic (2) and group (32) resources.
std::vector<std::string> names_in(const Bytes& frame, const schema::MessageSchema& s, std::int16_t version,
                                  std::size_t body) {
  WalkResult walk;
  const bool read = s.leading_fields_only ? read_leading(s, version, frame, body, frame.size(), walk)
                                          : read_body(s, version, frame, body, frame.size(), walk);
  REQUIRE(read);
  std::vector<std::string> out;
  for (const NameRef& name : walk.names) {
    if (name.null) continue;
    if (name.kind == schema::NameKind::config_resource || name.kind == schema::NameKind::altered_config_resource) {
      REQUIRE(name.values_before > 0);
      const ValueRef& type = walk.values[name.values_before - 1];
      REQUIRE(type.name == "ResourceType");
      const auto resource = static_cast<std::int8_t>(frame[type.begin]);
      if (resource != 2 && resource != 32) continue;
    }
    out.emplace_back(reinterpret_cast<const char*>(frame.data() + name.text_begin), name.end - name.text_begin);
  }
  return out;
}

std::size_t request_body(const Bytes& frame) {
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  REQUIRE(read_request_header(frame, api_key, version, correlation_id, body));
  return body;
}

}  // namespace

TEST_CASE("rename golden vectors: requests get their prefixes", "[rename][golden]") {
  const auto& cases = rename_cases();
  REQUIRE(cases.size() >= 500);
  std::size_t requests = 0, renamed = 0, round_trips = 0;
  std::map<std::string, std::size_t> refused;
  for (const auto& c : cases) {
    if (!c.request) continue;
    ++requests;
    INFO(c.file);
    Bytes out{0x5A};
    const RenameResult result = prefix_request_names(c.input, kPrefixes, out);
    CHECK(outcome_name(result.outcome) == c.outcome);
    if (outcome_name(result.outcome) != c.outcome) continue;
    if (c.api_key == 10) CHECK(result.coordinator_key_type == c.coordinator_key_type);
    CHECK(renamed_versions(c.api_key).contains(c.version));
    if (!c.names.empty()) CHECK(request_names_anything(c.api_key, c.version));
    if (!request_names_anything(c.api_key, c.version)) CHECK(c.outcome == "unchanged");
    if (c.outcome == "name_too_long" || c.outcome == "unconfinable_regex" || c.outcome == "foreign_resource") {
      ++refused[c.outcome];
      CHECK(result.name == c.refused_name);
      // A name too long or a regex is one of the client's names; a foreign resource is no name of its.
      const bool named = std::find(c.names.begin(), c.names.end(), c.refused_name) != c.names.end();
      CHECK(named == (c.outcome != "foreign_resource"));
    }
    if (c.outcome != "renamed") {
      CHECK_FALSE(c.expected.has_value());
      CHECK(out == Bytes{0x5A});  // untouched
    } else {
      ++renamed;
      REQUIRE(c.expected.has_value());
      CHECK(to_hex(out) == to_hex(*c.expected));
    }
    const schema::MessageSchema* s = schema::find_rename_request_schema(c.api_key);
    if (s == nullptr) {
      CHECK(c.names.empty());
      continue;
    }
    // The names kedge finds are the client's names the vector lists (before the prefix), in wire order.
    CHECK(names_in(c.input, *s, c.version, request_body(c.input)) == c.names);
    if (c.outcome != "renamed") continue;
    // The round trip: the renamed request stripped again is the client's request.
    const std::size_t body = request_body(*c.expected);
    Bytes back{0x5A};
    const RenameResult down =
        rename_message(*c.expected, *s, c.version, body, -1, kPrefixes, RenameDirection::strip, back);
    CHECK(outcome_name(down.outcome) == "renamed");
    CHECK(to_hex(back) == to_hex(c.input));
    ++round_trips;
  }
  CHECK(requests >= 300);
  CHECK(renamed >= 250);
  CHECK(round_trips == renamed);
  // Every refusal is exercised.
  CHECK(refused["name_too_long"] >= 5);
  CHECK(refused["unconfinable_regex"] >= 9);
  CHECK(refused["foreign_resource"] >= 20);
}

TEST_CASE("rename golden vectors: responses lose their prefixes", "[rename][golden]") {
  const auto& cases = rename_cases();
  REQUIRE_FALSE(cases.empty());
  std::size_t responses = 0, changed_count = 0, filtered_count = 0;
  for (const auto& c : cases) {
    if (c.request) continue;
    ++responses;
    INFO(c.file);
    Bytes out{0x5A};
    bool changed = !c.expected.has_value();  // the opposite of what it must report
    // A namespace's ListTransactions: the foreign transactions dropped first (the processor's order).
    Bytes filtered{0x5A};
    bool dropped = false;
    if (c.filter_transactional_ids) {
      ++filtered_count;
      REQUIRE(c.api_key == key_of(ApiKey::list_transactions));
      REQUIRE(to_string(filter_list_transactions(c.input, c.version, kPrefixes.transactional_id, filtered,
                                                 dropped)) == "ok");
      if (!dropped) CHECK(filtered == Bytes{0x5A});  // untouched
    }
    const Bytes& listed = dropped ? filtered : c.input;
    REQUIRE(to_string(strip_response_names(listed, c.api_key, c.version, c.coordinator_key_type, kPrefixes, out,
                                           changed)) == "ok");
    if (dropped && !changed) out = filtered;
    changed = changed || dropped;
    CHECK(changed == c.expected.has_value());
    if (!response_names_anything(c.api_key, c.version)) CHECK_FALSE(c.expected.has_value());
    if (c.expected) {
      ++changed_count;
      CHECK(to_hex(out) == to_hex(*c.expected));
    } else {
      CHECK(out == Bytes{0x5A});  // untouched
    }
    const schema::MessageSchema* s = schema::find_rename_response_schema(c.api_key);
    if (s == nullptr) {
      CHECK(c.names.empty());
      continue;
    }
    // The names kedge finds in what the client gets are the vector's client-side names.
    const Bytes& client = c.expected ? *c.expected : c.input;
    std::int32_t correlation_id = 0;
    std::size_t body = 0;
    REQUIRE(read_response_header(client, c.api_key, c.version, correlation_id, body));
    CHECK(names_in(client, *s, c.version, body) == c.names);
  }
  CHECK(responses >= 250);
  CHECK(changed_count >= 150);
  CHECK(filtered_count == 9);
}

TEST_CASE("rename golden vectors cover every API and version kedge renames", "[rename][golden][coverage]") {
  const auto& cases = rename_cases();
  REQUIRE_FALSE(cases.empty());
  std::map<std::int16_t, std::set<std::int16_t>> requests, responses;
  std::set<std::string> files;
  for (const auto& c : cases) {
    (c.request ? requests : responses)[c.api_key].insert(c.version);
    files.insert(c.file);
  }
  for (std::int16_t key = 0; key < static_cast<std::int16_t>(kApiKeyCount); ++key) {
    if (names_nothing(key)) continue;
    const schema::Versions renamed = renamed_versions(key);
    for (std::int16_t v = renamed.lo; v <= renamed.hi; ++v) {
      INFO("api " << key << " v" << v);
      if (request_names_anything(key, v)) CHECK(requests[key].count(v) == 1);
      if (response_names_anything(key, v)) CHECK(responses[key].count(v) == 1);
    }
  }
  // The edge cases the brief names.
  for (const char* file :
       {"create_topics.v7.request.longest.json", "create_topics.v7.request.too_long.json",
        "metadata.v12.request.too_long.json", "metadata.v12.request.by_id.json", "metadata.v12.response.null_name.json",
        "fetch.v12.request.many_topics.json", "metadata.v9.request.empty_names.json",
        "produce.v13.request.transactional.json", "produce.v10.response.node_endpoints.json",
        "fetch.v16.response.node_endpoints.json", "find_coordinator.v4.response.transaction.json",
        "find_coordinator.v6.request.share.json", "heartbeat.v0.request.too_long_group.json",
        "metadata.v12.request.header_tags.json", "describe_configs.v4.response.json",
        "consumer_group_heartbeat.v1.request.injection.json", "consumer_group_heartbeat.v1.request.json",
        "list_transactions.v2.request.anchored.json", "list_transactions.v2.response.filtered.json",
        "consumer_group_describe.v1.response.regex_anchors.json", "alter_configs.v2.request.broker.json",
        "incremental_alter_configs.v1.request.broker_default.json", "describe_transactions.v0.response.json"}) {
    INFO(file);
    CHECK(files.count(file) == 1);
  }
}
