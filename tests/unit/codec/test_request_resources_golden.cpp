// Golden vectors for the resources kedge reads from requests for a policy's
// ACLs (kafka_codec/refusal.h: read_request_resources,
// metadata_requests_all_topics). Every tests/golden/requests/*.json is one
// case written by tests/golden/requests/generate_requests.py, an encoder
// independent of kafka_codec/ (built from the Kafka request specs): a whole
// request frame (request_hex), the resources it names in wire order, each
// once (null: kedge must not read it), whether it is a Metadata request for
// every topic, and min_parse_size, the shortest prefix that must read.
// Adding a case means adding a file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafka_codec/refusal.h"
#include "kafka_codec/schema.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

using Resources = std::vector<std::pair<std::string, std::string>>;  // (type, name)

struct RequestCase {
  std::string file;
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  Bytes request;
  std::optional<Resources> resources;  // nullopt: read_request_resources must give nullopt
  std::optional<bool> all_topics;      // nullopt: not asserted
  std::size_t min_parse_size = 0;      // with resources only
};

std::vector<RequestCase> load_cases(const fs::path& dir) {
  std::vector<RequestCase> out;
  if (!fs::exists(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const auto j = nlohmann::json::parse(in);
    RequestCase c;
    c.file = entry.path().filename().string();
    c.api_key = j.at("api_key").get<std::int16_t>();
    c.api_version = j.at("api_version").get<std::int16_t>();
    c.request = from_hex(j.at("request_hex").get<std::string>());
    if (j.contains("resources") && !j.at("resources").is_null()) {
      Resources r;
      for (const auto& e : j.at("resources")) r.emplace_back(e.at("type").get<std::string>(), e.at("name").get<std::string>());
      c.resources = std::move(r);
      c.min_parse_size = j.at("min_parse_size").get<std::size_t>();
    }
    if (j.contains("all_topics") && !j.at("all_topics").is_null()) c.all_topics = j.at("all_topics").get<bool>();
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.file < b.file; });
  return out;
}

const std::vector<RequestCase>& request_cases() {
  static const std::vector<RequestCase> cases = load_cases(fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "requests");
  return cases;
}

std::optional<Resources> read(std::span<const std::uint8_t> frame) {
  const auto got = read_request_resources(frame);
  if (!got) return std::nullopt;
  Resources out;
  for (const RequestResource& r : *got) out.emplace_back(std::string(r.type), r.name);
  return out;
}

std::string show(const std::optional<Resources>& r) {
  if (!r) return "nullopt";
  std::string s = "[";
  for (const auto& [type, name] : *r) s += type + ":" + name + " ";
  return s + "]";
}

// The APIs a policy's ACLs read (generate_requests.py APIS): the tables of
// schema.cpp "Requests a policy's ACLs read", FindCoordinator and Metadata.
constexpr std::int16_t kPolicyReadApis[] = {1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 23, 24, 25, 26, 28, 32, 61, 68, 76, 78, 79};

}  // namespace

TEST_CASE("request resource golden vectors", "[request_resources][golden]") {
  const auto& cases = request_cases();
  REQUIRE(cases.size() > 100);
  std::vector<std::string> mismatched;
  for (const auto& c : cases) {
    INFO(c.file);
    const auto got = read(c.request);
    CHECK(show(got) == show(c.resources));
    if (show(got) != show(c.resources)) mismatched.push_back(c.file);
    // request_resources is the same list, or empty.
    std::size_t n = 0;
    for (const RequestResource& r : request_resources(c.request)) {
      REQUIRE(c.resources);
      REQUIRE(n < c.resources->size());
      CHECK(std::string(r.type) == (*c.resources)[n].first);
      CHECK(r.name == (*c.resources)[n].second);
      ++n;
    }
    CHECK(n == (c.resources ? c.resources->size() : 0));
    if (c.all_topics) CHECK(metadata_requests_all_topics(c.request) == *c.all_topics);
  }
  std::string list;
  for (const auto& m : mismatched) list += m + "; ";
  INFO(mismatched.size() << " of " << cases.size() << " cases differ: " << list);
  CHECK(mismatched.empty());
}

TEST_CASE("request resource golden vectors cover every (api, version) a policy reads", "[request_resources][coverage]") {
  const auto& cases = request_cases();
  std::set<std::pair<int, int>> readable, unreadable;
  for (const auto& c : cases) (c.resources ? readable : unreadable).insert({c.api_key, c.api_version});
  std::string missing, outside;
  for (const std::int16_t api : kPolicyReadApis) {
    const schema::MessageSchema* table = schema::find_request_schema(api);
    INFO("api " << api);
    REQUIRE(table != nullptr);
    CHECK(table->valid.lo <= table->valid.hi);
    for (int v = table->valid.lo; v <= table->valid.hi; ++v)
      if (!readable.count({api, v})) missing += std::to_string(api) + " v" + std::to_string(v) + "; ";
  }
  // And the other way round: a readable vector is for a version kedge has a table for.
  for (const auto& [api, version] : readable) {
    const schema::MessageSchema* table = schema::find_request_schema(static_cast<std::int16_t>(api));
    if (table == nullptr || !table->valid.contains(static_cast<std::int16_t>(version)))
      outside += std::to_string(api) + " v" + std::to_string(version) + "; ";
  }
  INFO("read by kedge but without a golden request: " << missing);
  INFO("golden request kedge has no table for: " << outside);
  CHECK(missing.empty());
  CHECK(outside.empty());

  // Every request table (but SASL's, which kedge reads for its own exchange) is read by some golden
  // request: these vectors, or the refusal vectors' requests.
  std::set<std::pair<int, int>> read_ok;
  for (const auto& dir : {"requests", "refusals"}) {
    for (const auto& c : load_cases(fs::path(KEDGE_TEST_DATA_DIR) / "golden" / dir))
      if (read_request_resources(c.request)) read_ok.insert({c.api_key, c.api_version});
  }
  std::string unread;
  for (const schema::MessageSchema& table : schema::request_schemas()) {
    if (table.api_key == 17 || table.api_key == 36) continue;
    for (int v = table.valid.lo; v <= table.valid.hi; ++v)
      if (!read_ok.count({table.api_key, v})) unread += std::to_string(table.api_key) + " v" + std::to_string(v) + "; ";
  }
  INFO("request tables no golden request reads: " << unread);
  CHECK(unread.empty());
}

TEST_CASE("a request cut short reads as nullopt until its last resource, and never crashes",
          "[request_resources][truncated]") {
  const auto& cases = request_cases();
  REQUIRE_FALSE(cases.empty());
  std::size_t prefixes = 0;
  std::vector<std::string> wrong;
  for (const auto& c : cases) {
    const std::size_t n = c.request.size();
    for (std::size_t length = 0; length < n; ++length) {
      const Bytes frame = truncated(c.request, length);
      const auto got = read(frame);
      (void)request_resources(frame);
      (void)metadata_requests_all_topics(frame);
      // The raw prefix too: its size prefix still claims the whole frame.
      const std::span<const std::uint8_t> raw(c.request.data(), length);
      (void)read_request_resources(raw);
      (void)metadata_requests_all_topics(raw);
      ++prefixes;
      if (!c.resources) {
        if (got) wrong.push_back(c.file + " cut to " + std::to_string(length) + ": " + show(got));
        continue;
      }
      const std::optional<Resources> want = length < c.min_parse_size ? std::nullopt : c.resources;
      if (show(got) != show(want)) {
        wrong.push_back(c.file + " cut to " + std::to_string(length) + " of " + std::to_string(n) + " (reads from " +
                        std::to_string(c.min_parse_size) + "): " + show(got));
      }
    }
  }
  std::string first;
  for (std::size_t i = 0; i < wrong.size() && i < 20; ++i) first += wrong[i] + "\n";
  INFO(wrong.size() << " of " << prefixes << " prefixes read wrong; the first ones:\n" << first);
  CHECK(wrong.empty());
}
