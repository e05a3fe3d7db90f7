// kedge as a data client of partition leaders (kafka_codec/data_client.h):
// every request body and frame kedge sends, byte for byte, and every answer it
// reads, against the vectors of tests/golden/data_client/ (written by
// generate_data_client.py, an encoder independent of kafka_codec); then what
// the decoders must refuse: every truncation, counts larger than the frame,
// tag sizes past the end.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "kafka_codec/api.h"
#include "kafka_codec/data_client.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> data_client_files(std::string_view prefix, std::string_view folder = "") {
  std::vector<fs::path> files;
  for (const auto& entry :
       fs::directory_iterator(fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "data_client" / fs::path(folder))) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".json" && name.rfind(prefix, 0) == 0) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

IsolationLevel isolation_of(const nlohmann::json& j) {
  return j.get<int>() == 1 ? IsolationLevel::read_committed : IsolationLevel::read_uncommitted;
}

// A JSON string or null.
std::optional<std::string> optional_string(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<std::string>();
}

// The request body the C++ encoder writes for a vector's params.
Bytes encode_from_params(std::int16_t api_key, std::int16_t version, const nlohmann::json& params) {
  if (is(api_key, ApiKey::metadata)) {
    const auto topics = params.at("topics").get<std::vector<std::string>>();
    return encode_metadata_request_topics(version, topics);
  }
  if (is(api_key, ApiKey::list_offsets)) {
    return encode_list_offsets_request(version, params.at("topic").get<std::string>(), params.at("partition"),
                                       params.at("timestamp"), isolation_of(params.at("isolation")),
                                       params.at("current_leader_epoch"), params.at("timeout_ms"));
  }
  if (is(api_key, ApiKey::fetch)) {
    FetchRequestParams p;
    p.max_wait_ms = params.at("max_wait_ms");
    p.min_bytes = params.at("min_bytes");
    p.max_bytes = params.at("max_bytes");
    p.isolation = isolation_of(params.at("isolation"));
    for (const auto& j : params.at("partitions")) {
      p.partitions.push_back({j.at("topic"), j.at("partition"), j.at("fetch_offset"), j.at("partition_max_bytes"),
                              j.at("current_leader_epoch")});
    }
    return encode_fetch_request(version, p);
  }
  if (is(api_key, ApiKey::find_coordinator)) {
    return encode_find_coordinator_request(version, params.at("group").get<std::string>());
  }
  if (is(api_key, ApiKey::offset_commit)) {
    std::vector<OffsetToCommit> offsets;
    for (const auto& j : params.at("offsets")) {
      offsets.push_back({j.at("topic"), j.at("partition"), j.at("offset"), j.at("leader_epoch"),
                         optional_string(j.at("metadata"))});
    }
    return encode_offset_commit_request(version, params.at("group").get<std::string>(), offsets);
  }
  if (is(api_key, ApiKey::offset_fetch)) {
    std::vector<TopicPartition> partitions;
    for (const auto& j : params.at("partitions")) partitions.push_back({j.at("topic"), j.at("partition")});
    return encode_offset_fetch_request(version, params.at("group").get<std::string>(), partitions,
                                       params.at("all_topics"));
  }
  REQUIRE(is(api_key, ApiKey::produce));
  std::vector<Bytes> records;
  for (const auto& j : params.at("partitions")) records.push_back(from_hex(j.at("records_hex").get<std::string>()));
  std::vector<ProducePartitionRequest> partitions;
  std::size_t i = 0;
  for (const auto& j : params.at("partitions")) partitions.push_back({j.at("topic"), j.at("partition"), records[i++]});
  return encode_produce_request(version, params.at("acks"), params.at("timeout_ms"), partitions);
}

struct ResponseVector {
  fs::path path;
  std::int16_t api_key;
  std::int16_t version;
  Bytes frame;
  std::size_t body_begin;
  nlohmann::json doc;
};

ResponseVector load_response(const fs::path& path) {
  const nlohmann::json doc = load(path);
  ResponseVector v{path, doc.at("api_key"), doc.at("api_version"), from_hex(doc.at("response_hex").get<std::string>()),
                   0, doc};
  std::int32_t correlation_id = 0;
  REQUIRE(read_response_header(v.frame, v.api_key, v.version, correlation_id, v.body_begin));
  if (!doc.contains("request_hex")) CHECK(correlation_id == 0x0A0B0C0D);  // captures number their own requests
  return v;
}

// Decodes `frame` as the vector's API; true if the decoder accepted it.
bool decode_any(const ResponseVector& v, std::span<const std::uint8_t> frame) {
  if (is(v.api_key, ApiKey::metadata)) {
    MetadataAnswer a;
    return decode_metadata_response(frame, v.body_begin, v.version, a);
  }
  if (is(v.api_key, ApiKey::list_offsets)) {
    ListOffsetsAnswer a;
    const auto& q = v.doc.at("query");
    return decode_list_offsets_response(frame, v.body_begin, v.version, q.at("topic").get<std::string>(),
                                        q.at("partition"), a);
  }
  if (is(v.api_key, ApiKey::fetch)) {
    FetchAnswer a;
    return decode_fetch_response(frame, v.body_begin, v.version, a);
  }
  if (is(v.api_key, ApiKey::find_coordinator)) {
    CoordinatorAnswer a;
    return decode_find_coordinator_response(frame, v.body_begin, v.version,
                                            v.doc.at("query").at("group").get<std::string>(), a);
  }
  if (is(v.api_key, ApiKey::offset_commit)) {
    OffsetCommitAnswer a;
    return decode_offset_commit_response(frame, v.body_begin, v.version, a);
  }
  if (is(v.api_key, ApiKey::offset_fetch)) {
    OffsetFetchAnswer a;
    return decode_offset_fetch_response(frame, v.body_begin, v.version,
                                        v.doc.at("query").at("group").get<std::string>(), a);
  }
  REQUIRE(is(v.api_key, ApiKey::produce));
  ProduceAnswer a;
  return decode_produce_response(frame, v.body_begin, v.version, a);
}

void check_metadata(const ResponseVector& v) {
  MetadataAnswer a;
  REQUIRE(decode_metadata_response(v.frame, v.body_begin, v.version, a));
  const auto& e = v.doc.at("expected");
  REQUIRE(a.brokers.size() == e.at("brokers").size());
  for (std::size_t i = 0; i < a.brokers.size(); ++i) {
    CHECK(a.brokers[i].node_id == e["brokers"][i].at("node_id"));
    CHECK(a.brokers[i].host == e["brokers"][i].at("host"));
    CHECK(a.brokers[i].port == e["brokers"][i].at("port"));
  }
  REQUIRE(a.topics.size() == e.at("topics").size());
  for (std::size_t t = 0; t < a.topics.size(); ++t) {
    const auto& et = e["topics"][t];
    CHECK(a.topics[t].error_code == et.at("error_code"));
    CHECK(a.topics[t].name == et.at("name"));
    REQUIRE(a.topics[t].partitions.size() == et.at("partitions").size());
    for (std::size_t p = 0; p < a.topics[t].partitions.size(); ++p) {
      const auto& ep = et["partitions"][p];
      const PartitionLeader& got = a.topics[t].partitions[p];
      CHECK(got.partition == ep.at("partition"));
      CHECK(got.error_code == ep.at("error_code"));
      CHECK(got.leader_id == ep.at("leader_id"));
      CHECK(got.leader_epoch == ep.at("leader_epoch"));
    }
  }
}

void check_list_offsets(const ResponseVector& v) {
  ListOffsetsAnswer a;
  const auto& q = v.doc.at("query");
  const auto& e = v.doc.at("expected");
  const bool found =
      decode_list_offsets_response(v.frame, v.body_begin, v.version, q.at("topic").get<std::string>(),
                                   q.at("partition"), a);
  REQUIRE(found == e.at("found").get<bool>());
  if (!found) return;
  CHECK(a.error_code == e.at("error_code"));
  CHECK(a.timestamp == e.at("timestamp"));
  CHECK(a.offset == e.at("offset"));
  CHECK(a.leader_epoch == e.at("leader_epoch"));
}

void check_fetch(const ResponseVector& v) {
  FetchAnswer a;
  REQUIRE(decode_fetch_response(v.frame, v.body_begin, v.version, a));
  const auto& e = v.doc.at("expected");
  CHECK(a.error_code == e.at("error_code"));
  CHECK(a.throttle_time_ms == e.at("throttle_time_ms"));
  REQUIRE(a.partitions.size() == e.at("partitions").size());
  const std::uint8_t* const frame_begin = v.frame.data();
  const std::uint8_t* const frame_end = v.frame.data() + v.frame.size();
  for (std::size_t i = 0; i < a.partitions.size(); ++i) {
    const auto& ep = e["partitions"][i];
    const FetchPartitionAnswer& p = a.partitions[i];
    CHECK(p.topic == ep.at("topic"));
    CHECK(p.partition == ep.at("partition"));
    CHECK(p.error_code == ep.at("error_code"));
    CHECK(p.high_watermark == ep.at("high_watermark"));
    CHECK(p.last_stable_offset == ep.at("last_stable_offset"));
    CHECK(p.log_start_offset == ep.at("log_start_offset"));
    CHECK(p.preferred_read_replica == ep.at("preferred_read_replica"));
    REQUIRE(p.aborted.size() == ep.at("aborted").size());
    for (std::size_t k = 0; k < p.aborted.size(); ++k) {
      CHECK(p.aborted[k].producer_id == ep["aborted"][k][0]);
      CHECK(p.aborted[k].first_offset == ep["aborted"][k][1]);
    }
    CHECK(to_hex(p.records) == ep.at("records_hex"));
    if (!p.records.empty()) {  // a view into the frame, not a copy
      CHECK(p.records.data() >= frame_begin);
      CHECK(p.records.data() + p.records.size() <= frame_end);
    }
  }
}

void check_produce(const ResponseVector& v) {
  ProduceAnswer a;
  REQUIRE(decode_produce_response(v.frame, v.body_begin, v.version, a));
  const auto& e = v.doc.at("expected");
  CHECK(a.throttle_time_ms == e.at("throttle_time_ms"));
  REQUIRE(a.partitions.size() == e.at("partitions").size());
  for (std::size_t i = 0; i < a.partitions.size(); ++i) {
    const auto& ep = e["partitions"][i];
    const ProducePartitionAnswer& p = a.partitions[i];
    CHECK(p.topic == ep.at("topic"));
    CHECK(p.partition == ep.at("partition"));
    CHECK(p.error_code == ep.at("error_code"));
    CHECK(p.base_offset == ep.at("base_offset"));
    CHECK(p.log_append_time_ms == ep.at("log_append_time_ms"));
    CHECK(p.log_start_offset == ep.at("log_start_offset"));
    CHECK(p.error_message == ep.at("error_message"));
    REQUIRE(p.record_errors.size() == ep.at("record_errors").size());
    for (std::size_t k = 0; k < p.record_errors.size(); ++k) {
      CHECK(p.record_errors[k].batch_index == ep["record_errors"][k].at("batch_index"));
      CHECK(p.record_errors[k].message == ep["record_errors"][k].at("message"));
    }
  }
}

void check_find_coordinator(const ResponseVector& v) {
  CoordinatorAnswer a;
  const auto& e = v.doc.at("expected");
  const bool found = decode_find_coordinator_response(v.frame, v.body_begin, v.version,
                                                      v.doc.at("query").at("group").get<std::string>(), a);
  REQUIRE(found == e.at("found").get<bool>());
  if (!found) return;
  CHECK(a.error_code == e.at("error_code"));
  CHECK(a.error_message == e.at("error_message"));
  CHECK(a.node_id == e.at("node_id"));
  CHECK(a.host == e.at("host"));
  CHECK(a.port == e.at("port"));
}

void check_offset_commit(const ResponseVector& v) {
  OffsetCommitAnswer a;
  REQUIRE(decode_offset_commit_response(v.frame, v.body_begin, v.version, a));
  const auto& e = v.doc.at("expected");
  CHECK(a.throttle_time_ms == e.at("throttle_time_ms"));
  REQUIRE(a.partitions.size() == e.at("partitions").size());
  for (std::size_t i = 0; i < a.partitions.size(); ++i) {
    const auto& ep = e["partitions"][i];
    CHECK(a.partitions[i].topic == ep.at("topic"));
    CHECK(a.partitions[i].partition == ep.at("partition"));
    CHECK(a.partitions[i].error_code == ep.at("error_code"));
  }
}

void check_offset_fetch(const ResponseVector& v) {
  OffsetFetchAnswer a;
  const auto& e = v.doc.at("expected");
  const bool found = decode_offset_fetch_response(v.frame, v.body_begin, v.version,
                                                  v.doc.at("query").at("group").get<std::string>(), a);
  REQUIRE(found == e.at("found").get<bool>());
  if (!found) return;
  CHECK(a.error_code == e.at("error_code"));
  REQUIRE(a.offsets.size() == e.at("offsets").size());
  for (std::size_t i = 0; i < a.offsets.size(); ++i) {
    const auto& ep = e["offsets"][i];
    const CommittedOffset& o = a.offsets[i];
    CHECK(o.topic == ep.at("topic"));
    CHECK(o.partition == ep.at("partition"));
    CHECK(o.offset == ep.at("offset"));
    CHECK(o.leader_epoch == ep.at("leader_epoch"));
    CHECK(o.metadata == optional_string(ep.at("metadata")));
    CHECK(o.error_code == ep.at("error_code"));
  }
}

// The answers as JSON, in the vectors' field names; Fetch Records as their
// length and the first batch from its magic byte on (the bytes a broker keeps
// from the producer: it assigns base offset and leader epoch, bytes 0-7 and 12-15).
nlohmann::json answer_json(const ResponseVector& v, std::span<const std::uint8_t> frame) {
  nlohmann::json j;
  if (is(v.api_key, ApiKey::metadata)) {
    MetadataAnswer a;
    REQUIRE(decode_metadata_response(frame, v.body_begin, v.version, a));
    for (const BrokerEndpoint& b : a.brokers) j["brokers"].push_back({{"node_id", b.node_id}, {"host", b.host}, {"port", b.port}});
    for (const TopicLeaders& t : a.topics) {
      nlohmann::json topic = {{"error_code", t.error_code}, {"name", t.name}, {"partitions", nlohmann::json::array()}};
      for (const PartitionLeader& p : t.partitions) {
        topic["partitions"].push_back({{"partition", p.partition}, {"error_code", p.error_code},
                                       {"leader_id", p.leader_id}, {"leader_epoch", p.leader_epoch}});
      }
      j["topics"].push_back(topic);
    }
  } else if (is(v.api_key, ApiKey::list_offsets)) {
    ListOffsetsAnswer a;
    const auto& q = v.doc.at("query");
    j["found"] = decode_list_offsets_response(frame, v.body_begin, v.version, q.at("topic").get<std::string>(),
                                              q.at("partition"), a);
    j.update({{"error_code", a.error_code}, {"timestamp", a.timestamp}, {"offset", a.offset},
              {"leader_epoch", a.leader_epoch}});
  } else if (is(v.api_key, ApiKey::fetch)) {
    FetchAnswer a;
    REQUIRE(decode_fetch_response(frame, v.body_begin, v.version, a));
    j.update({{"error_code", a.error_code}, {"throttle_time_ms", a.throttle_time_ms}});
    for (const FetchPartitionAnswer& p : a.partitions) {
      nlohmann::json part = {{"topic", p.topic}, {"partition", p.partition}, {"error_code", p.error_code},
                             {"high_watermark", p.high_watermark}, {"last_stable_offset", p.last_stable_offset},
                             {"log_start_offset", p.log_start_offset},
                             {"preferred_read_replica", p.preferred_read_replica},
                             {"records_len", p.records.size()}};
      if (p.records.size() >= 12) {
        const auto batch = static_cast<std::size_t>(wire::get_i32(p.records.data() + 8)) + 12;
        if (batch >= 16 && batch <= p.records.size()) part["first_batch_from_magic_hex"] = to_hex(p.records.subspan(16, batch - 16));
      }
      j["partitions"].push_back(part);
    }
  } else if (is(v.api_key, ApiKey::find_coordinator)) {
    CoordinatorAnswer a;
    j["found"] = decode_find_coordinator_response(frame, v.body_begin, v.version,
                                                  v.doc.at("query").at("group").get<std::string>(), a);
    j.update({{"error_code", a.error_code}, {"error_message", a.error_message}, {"node_id", a.node_id},
              {"host", a.host}, {"port", a.port}});
  } else if (is(v.api_key, ApiKey::offset_commit)) {
    OffsetCommitAnswer a;
    REQUIRE(decode_offset_commit_response(frame, v.body_begin, v.version, a));
    j["throttle_time_ms"] = a.throttle_time_ms;
    for (const PartitionError& p : a.partitions) {
      j["partitions"].push_back({{"topic", p.topic}, {"partition", p.partition}, {"error_code", p.error_code}});
    }
  } else if (is(v.api_key, ApiKey::offset_fetch)) {
    OffsetFetchAnswer a;
    j["found"] = decode_offset_fetch_response(frame, v.body_begin, v.version,
                                              v.doc.at("query").at("group").get<std::string>(), a);
    j["error_code"] = a.error_code;
    for (const CommittedOffset& o : a.offsets) {
      j["offsets"].push_back({{"topic", o.topic}, {"partition", o.partition}, {"offset", o.offset},
                              {"leader_epoch", o.leader_epoch},
                              {"metadata", o.metadata ? nlohmann::json(*o.metadata) : nlohmann::json()},
                              {"error_code", o.error_code}});
    }
  } else {
    ProduceAnswer a;
    REQUIRE(decode_produce_response(frame, v.body_begin, v.version, a));
    j["throttle_time_ms"] = a.throttle_time_ms;
    for (const ProducePartitionAnswer& p : a.partitions) {
      j["partitions"].push_back({{"topic", p.topic}, {"partition", p.partition}, {"error_code", p.error_code},
                                 {"base_offset", p.base_offset}, {"log_append_time_ms", p.log_append_time_ms},
                                 {"log_start_offset", p.log_start_offset}, {"error_message", p.error_message}});
    }
  }
  return j;
}

// Every key of `expected` is in `actual` with the same value (objects: recursively; arrays: same length,
// element by element).
void check_subset(const nlohmann::json& expected, const nlohmann::json& actual, const std::string& where) {
  INFO(where);
  if (expected.is_object()) {
    REQUIRE(actual.is_object());
    for (const auto& [key, value] : expected.items()) {
      REQUIRE(actual.contains(key));
      check_subset(value, actual.at(key), where + "." + key);
    }
  } else if (expected.is_array()) {
    REQUIRE(actual.is_array());
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) check_subset(expected[i], actual[i], where + "[" + std::to_string(i) + "]");
  } else {
    CHECK(actual == expected);
  }
}

const std::map<std::string, std::pair<ApiKey, schema::Versions>> kApis = {
    {"metadata", {ApiKey::metadata, kMetadataTopicsRequestVersions}},
    {"list_offsets", {ApiKey::list_offsets, kListOffsetsRequestVersions}},
    {"fetch", {ApiKey::fetch, kFetchRequestVersions}},
    {"produce", {ApiKey::produce, kProduceRequestVersions}},
    {"find_coordinator", {ApiKey::find_coordinator, kFindCoordinatorRequestVersions}},
    {"offset_commit", {ApiKey::offset_commit, kOffsetCommitRequestVersions}},
    {"offset_fetch", {ApiKey::offset_fetch, kOffsetFetchRequestVersions}},
};

// A whole response frame: correlation id, the header's tag buffer when flexible, `body`.
Bytes response_frame(bool flexible, const Bytes& body) {
  Builder b;
  b.i32(0x0A0B0C0D);
  if (flexible) b.uvarint(0);
  return b.raw(body).frame();
}

constexpr std::size_t kBodyBegin = 4 + 4;  // size prefix, correlation id (header v0)

}  // namespace

TEST_CASE("data-client vectors cover every version kedge sends, requests and responses", "[client][data_client][golden]") {
  for (const auto& [name, api] : kApis) {
    std::set<int> requests, responses;
    for (const fs::path& p : data_client_files(name + "_request.")) requests.insert(load(p).at("api_version").get<int>());
    for (const fs::path& p : data_client_files(name + "_response.")) responses.insert(load(p).at("api_version").get<int>());
    INFO(name);
    for (int v = api.second.lo; v <= api.second.hi; ++v) {
      INFO("v" << v);
      CHECK(requests.count(v) == 1);
      CHECK(responses.count(v) == 1);
    }
    CHECK(requests.size() == static_cast<std::size_t>(api.second.hi - api.second.lo + 1));
    CHECK(responses.size() == requests.size());
  }
}

TEST_CASE("data-client requests match the golden bodies and frames byte for byte", "[client][data_client][golden]") {
  const auto files = data_client_files("");
  std::size_t checked = 0;
  for (const fs::path& path : files) {
    const nlohmann::json doc = load(path);
    if (doc.at("kind") != "request") continue;
    INFO(path.filename().string() << ": " << doc.at("description").get<std::string>());
    const std::int16_t api_key = doc.at("api_key");
    const std::int16_t version = doc.at("api_version");
    const Bytes body = encode_from_params(api_key, version, doc.at("params"));
    CHECK(to_hex(body) == doc.at("body_hex").get<std::string>());
    // The header version follows the API's first flexible version (Fetch 12, ListOffsets 6, Metadata 9, Produce 9).
    const Bytes frame = encode_request_frame(api_key, version, doc.at("correlation_id"),
                                             doc.at("client_id").get<std::string>(), body);
    CHECK(to_hex(frame) == doc.at("frame_hex").get<std::string>());
    ++checked;
  }
  CHECK(checked >= 2 * 12 + 3 * 10 + 2 * 9 + 2 * 10 + 2 * 7 + 2 * 8 + 2 * 9);
}

TEST_CASE("data-client responses decode as the golden answers", "[client][data_client][golden]") {
  std::size_t checked = 0;
  for (const fs::path& path : data_client_files("")) {
    if (load(path).at("kind") != "response") continue;
    const ResponseVector v = load_response(path);
    INFO(path.filename().string() << ": " << v.doc.at("description").get<std::string>());
    if (is(v.api_key, ApiKey::metadata)) check_metadata(v);
    else if (is(v.api_key, ApiKey::list_offsets)) check_list_offsets(v);
    else if (is(v.api_key, ApiKey::fetch)) check_fetch(v);
    else if (is(v.api_key, ApiKey::find_coordinator)) check_find_coordinator(v);
    else if (is(v.api_key, ApiKey::offset_commit)) check_offset_commit(v);
    else if (is(v.api_key, ApiKey::offset_fetch)) check_offset_fetch(v);
    else check_produce(v);
    ++checked;
  }
  CHECK(checked >= 12 + 10 + 9 + 10 + 7 + 8 + 9);
}

TEST_CASE("data-client decoders refuse every truncation of every golden response", "[client][data_client][golden]") {
  for (const fs::path& path : data_client_files("")) {
    if (load(path).at("kind") != "response") continue;
    const ResponseVector v = load_response(path);
    INFO(path.filename().string());
    for (std::size_t cut = 0; cut < v.frame.size(); ++cut) {
      // An exact-size copy, so a read past the cut is an ASan error, not a read of the rest of the frame.
      const Bytes prefix = truncated(v.frame, cut);
      INFO("cut at " << cut << " of " << v.frame.size());
      CHECK_FALSE(decode_any(v, prefix));
    }
    // Trailing bytes after the last field are tolerated, as Kafka's clients do (engine.h).
    if (!v.doc.at("expected").contains("found") || v.doc["expected"]["found"].get<bool>()) {
      Bytes longer = v.frame;
      longer.push_back(0);
      CHECK(decode_any(v, longer));
    }
    // A version outside the range kedge sends is not read.
    CHECK_FALSE(decode_any(ResponseVector{v.path, v.api_key, 13, v.frame, v.body_begin, v.doc}, v.frame));
  }
}

TEST_CASE("data-client decoders refuse counts and lengths larger than the frame", "[client][data_client]") {
  SECTION("Fetch v4: a Responses count of INT32_MAX") {
    Builder body;
    body.i32(0).i32(0x7fffffff);  // ThrottleTimeMs, Responses count
    const Bytes frame = response_frame(false, body.b);
    FetchAnswer a;
    CHECK_FALSE(decode_fetch_response(frame, kBodyBegin, 4, a));
  }
  SECTION("Fetch v12: a compact Responses count of 2^32 - 2") {
    Builder body;
    body.i32(0).i16(0).i32(0).uvarint(0xffffffffu);
    const Bytes frame = response_frame(true, body.b);
    FetchAnswer a;
    CHECK_FALSE(decode_fetch_response(frame, kBodyBegin + 1, 12, a));
  }
  SECTION("Fetch v4: a Records length past the frame") {
    Builder body;
    body.i32(0).i32(1).str("t").i32(1);  // ThrottleTimeMs, 1 topic "t", 1 partition
    body.i32(0).i16(0).i64(10).i64(10).i32(-1);  // index, error, HWM, LSO, null aborted
    body.i32(1000).raw(Bytes(10, 0));            // Records: 1000 bytes announced, 10 present
    const Bytes frame = response_frame(false, body.b);
    FetchAnswer a;
    CHECK_FALSE(decode_fetch_response(frame, kBodyBegin, 4, a));
  }
  SECTION("Produce v3: a topic name longer than the frame") {
    Builder body;
    body.i32(1).i16(0x7fff);
    const Bytes frame = response_frame(false, body.b);
    ProduceAnswer a;
    CHECK_FALSE(decode_produce_response(frame, kBodyBegin, 3, a));
  }
  SECTION("Metadata v9: an unknown top-level tag whose size runs past the frame") {
    Builder body;
    body.i32(0).uvarint(1).cstr("").i32(-1);  // ThrottleTimeMs, no brokers, ClusterId "", ControllerId
    body.uvarint(1);                          // no topics
    const Bytes ok_prefix = body.b;           // then ClusterAuthorizedOperations (v8-10) and the tag buffer
    Builder good;
    good.raw(ok_prefix).i32(0).uvarint(1).uvarint(99).uvarint(2).raw(Bytes{0xab, 0xcd});
    MetadataAnswer a;
    const Bytes good_frame = response_frame(true, good.b);
    CHECK(decode_metadata_response(good_frame, kBodyBegin + 1, 9, a));  // unknown tag 99 skipped by its size
    Builder bad;
    bad.raw(ok_prefix).i32(0).uvarint(1).uvarint(99).uvarint(200).raw(Bytes{0xab, 0xcd});
    const Bytes bad_frame = response_frame(true, bad.b);
    CHECK_FALSE(decode_metadata_response(bad_frame, kBodyBegin + 1, 9, a));
  }
  SECTION("FindCoordinator v4: a Coordinators count of INT32_MAX - 1 (compact)") {
    Builder body;
    body.i32(0).uvarint(0x7fffffff);  // ThrottleTimeMs, Coordinators
    const Bytes frame = response_frame(true, body.b);
    CoordinatorAnswer a;
    CHECK_FALSE(decode_find_coordinator_response(frame, kBodyBegin + 1, 4, "g", a));
  }
  SECTION("FindCoordinator v1: a Host length past the frame") {
    Builder body;
    body.i32(0).i16(0).i16(-1).i32(2).i16(300).raw(Bytes(20, 'h')).i32(9092);
    const Bytes frame = response_frame(false, body.b);
    CoordinatorAnswer a;
    CHECK_FALSE(decode_find_coordinator_response(frame, kBodyBegin, 1, "g", a));
  }
  SECTION("OffsetCommit v2: a Topics count of INT32_MAX, a Partitions count of 2^31 - 1") {
    Builder topics;
    topics.i32(0x7fffffff);
    OffsetCommitAnswer a;
    CHECK_FALSE(decode_offset_commit_response(response_frame(false, topics.b), kBodyBegin, 2, a));
    Builder partitions;
    partitions.i32(1).str("t").i32(0x7fffffff).i32(0).i16(0);
    CHECK_FALSE(decode_offset_commit_response(response_frame(false, partitions.b), kBodyBegin, 2, a));
    Builder negative;  // a count of -2 is no array
    negative.i32(-2);
    CHECK_FALSE(decode_offset_commit_response(response_frame(false, negative.b), kBodyBegin, 2, a));
  }
  SECTION("OffsetFetch v8: a Groups count of 2^32 - 2 (compact), a Metadata length past the frame") {
    Builder groups;
    groups.i32(0).uvarint(0xffffffffu);
    OffsetFetchAnswer a;
    CHECK_FALSE(decode_offset_fetch_response(response_frame(true, groups.b), kBodyBegin + 1, 8, "g", a));
    Builder metadata;  // 1 group "g", 1 topic "t", 1 partition whose Metadata announces 1000 bytes
    metadata.i32(0).uvarint(2).cstr("g").uvarint(2).cstr("t").uvarint(2);
    metadata.i32(0).i64(5).i32(-1).uvarint(1001).raw(Bytes(8, 'm'));
    CHECK_FALSE(decode_offset_fetch_response(response_frame(true, metadata.b), kBodyBegin + 1, 8, "g", a));
  }
  SECTION("OffsetFetch v1: a Topics count of INT32_MAX") {
    Builder body;
    body.i32(0x7fffffff);
    OffsetFetchAnswer a;
    CHECK_FALSE(decode_offset_fetch_response(response_frame(false, body.b), kBodyBegin, 1, "g", a));
  }
  SECTION("ListOffsets v6: a tag count larger than the bytes left") {
    Builder body;
    body.i32(0).uvarint(1).uvarint(0x7fffffff);
    const Bytes frame = response_frame(true, body.b);
    ListOffsetsAnswer a;
    CHECK_FALSE(decode_list_offsets_response(frame, kBodyBegin + 1, 6, "t", 0, a));
  }
}

TEST_CASE("Fetch null and empty Records both read as an empty span", "[client][data_client]") {
  for (const bool null_records : {true, false}) {
    Builder body;
    body.i32(0).i16(0).i32(0);  // v7+: ThrottleTimeMs, ErrorCode, SessionId
    body.i32(1).str("t").i32(1);
    body.i32(3).i16(0).i64(5).i64(5).i64(0).i32(-1);  // index 3, error, HWM, LSO, LogStartOffset, null aborted
    body.i32(null_records ? -1 : 0);
    const Bytes frame = response_frame(false, body.b);
    FetchAnswer a;
    REQUIRE(decode_fetch_response(frame, kBodyBegin, 7, a));
    REQUIRE(a.partitions.size() == 1);
    CHECK(a.partitions[0].partition == 3);
    CHECK(a.partitions[0].records.empty());
    CHECK(a.partitions[0].aborted.empty());
  }
}

TEST_CASE("data-client encoders refuse what they cannot encode", "[client][data_client]") {
  const std::vector<std::string> topics = {"orders"};
  CHECK(encode_metadata_request_topics(0, topics).empty());
  CHECK(encode_metadata_request_topics(13, topics).empty());
  CHECK_FALSE(encode_metadata_request_topics(1, {}).empty());  // no topics: an empty array, still a body
  const std::vector<std::string> too_long = {std::string(0x8000, 'x')};
  CHECK(encode_metadata_request_topics(12, too_long).empty());

  CHECK(encode_list_offsets_request(0, "t", 0, -1, IsolationLevel::read_uncommitted).empty());
  CHECK(encode_list_offsets_request(11, "t", 0, -1, IsolationLevel::read_uncommitted).empty());
  CHECK_FALSE(encode_list_offsets_request(10, "t", 0, -1, IsolationLevel::read_uncommitted).empty());

  FetchRequestParams fetch;
  fetch.partitions.push_back({"t", 0, 0});
  CHECK(encode_fetch_request(3, fetch).empty());
  CHECK(encode_fetch_request(13, fetch).empty());
  CHECK_FALSE(encode_fetch_request(12, fetch).empty());

  const Bytes batch(70, 0);
  const ProducePartitionRequest produce[] = {{"t", 0, batch}};
  CHECK(encode_produce_request(9, 0, 1000, produce).empty());  // acks 0: no answer to read
  CHECK(encode_produce_request(9, 2, 1000, produce).empty());
  CHECK(encode_produce_request(2, -1, 1000, produce).empty());
  CHECK(encode_produce_request(13, -1, 1000, produce).empty());
  CHECK_FALSE(encode_produce_request(12, 1, 1000, produce).empty());

  CHECK(encode_find_coordinator_request(-1, "g").empty());
  CHECK(encode_find_coordinator_request(7, "g").empty());
  CHECK(encode_find_coordinator_request(6, std::string(0x8000, 'g')).empty());
  CHECK_FALSE(encode_find_coordinator_request(6, std::string(0x7fff, 'g')).empty());

  const OffsetToCommit commit[] = {{"t", 0, 42, -1, std::nullopt}};
  CHECK(encode_offset_commit_request(1, "g", commit).empty());
  CHECK(encode_offset_commit_request(10, "g", commit).empty());  // v10 names topics by id
  CHECK_FALSE(encode_offset_commit_request(9, "g", commit).empty());
  CHECK_FALSE(encode_offset_commit_request(2, "g", {}).empty());  // nothing to commit: an empty array, still a body
  const OffsetToCommit big_metadata[] = {{"t", 0, 42, -1, std::string(0x8000, 'm')}};
  CHECK(encode_offset_commit_request(9, "g", big_metadata).empty());

  const TopicPartition fetch_offsets[] = {{"t", 0}};
  CHECK(encode_offset_fetch_request(0, "g", fetch_offsets, false).empty());
  CHECK(encode_offset_fetch_request(10, "g", fetch_offsets, false).empty());
  CHECK(encode_offset_fetch_request(1, "g", {}, true).empty());               // null Topics: v2+
  CHECK(encode_offset_fetch_request(8, "g", fetch_offsets, true).empty());    // all topics and named partitions
  CHECK_FALSE(encode_offset_fetch_request(2, "g", {}, true).empty());
  CHECK_FALSE(encode_offset_fetch_request(1, "g", {}, false).empty());
  CHECK(encode_offset_fetch_request(9, std::string(0x8000, 'g'), fetch_offsets, false).empty());
}

TEST_CASE("group-offset requests: the fields kedge fixes for a commit as no member", "[client][data_client]") {
  // OffsetCommit v7 (non-flexible): GroupId, GenerationIdOrMemberEpoch -1, MemberId "", GroupInstanceId null,
  // no RetentionTimeMs (v2-4 only), then Topics.
  const OffsetToCommit one[] = {{"t", 3, 99, 4, std::string("m")}};
  Builder v7;
  v7.str("g").i32(-1).str("").i16(-1);
  v7.i32(1).str("t").i32(1).i32(3).i64(99).i32(4).str("m");
  CHECK(to_hex(encode_offset_commit_request(7, "g", one)) == to_hex(v7.b));
  // v4: RetentionTimeMs -1, no GroupInstanceId, no CommittedLeaderEpoch (v6+).
  Builder v4;
  v4.str("g").i32(-1).str("").i64(-1);
  v4.i32(1).str("t").i32(1).i32(3).i64(99).str("m");
  CHECK(to_hex(encode_offset_commit_request(4, "g", one)) == to_hex(v4.b));

  // FindCoordinator v4+ asks for exactly one key, the group, with KeyType 0.
  Builder find;
  find.i8(0).uvarint(2).cstr("g").uvarint(0);
  CHECK(to_hex(encode_find_coordinator_request(6, "g")) == to_hex(find.b));

  // OffsetFetch v7: RequireStable false after the Topics; v9 all topics: a null Topics in the one group.
  const TopicPartition parts[] = {{"a", 1}, {"b", 0}, {"a", 0}};
  Builder v7_fetch;
  v7_fetch.cstr("g").uvarint(3);
  v7_fetch.cstr("a").uvarint(3).i32(1).i32(0).uvarint(0);
  v7_fetch.cstr("b").uvarint(2).i32(0).uvarint(0);
  v7_fetch.i8(0).uvarint(0);
  CHECK(to_hex(encode_offset_fetch_request(7, "g", parts, false)) == to_hex(v7_fetch.b));
  Builder v9_all;
  v9_all.uvarint(2).cstr("g").uvarint(0).i32(-1).uvarint(0).uvarint(0).i8(0).uvarint(0);
  CHECK(to_hex(encode_offset_fetch_request(9, "g", {}, true)) == to_hex(v9_all.b));
}

TEST_CASE("group-offset decoders: versions, groups and keys asked for", "[client][data_client]") {
  // OffsetFetch v8: the group asked for is the second; its ErrorCode, not the first group's, is reported.
  Builder body;
  body.i32(0).uvarint(3);
  body.cstr("a").uvarint(1).i16(16).uvarint(0);                      // group "a": NOT_COORDINATOR
  body.cstr("b").uvarint(2).cstr("t").uvarint(2);                    // group "b": topic t, 1 partition
  body.i32(4).i64(77).i32(3).uvarint(0).i16(0).uvarint(0).uvarint(0);  // p4, offset 77, epoch 3, null metadata
  body.i16(0).uvarint(0);                                            // group "b" ErrorCode 0
  body.uvarint(0);                                                   // top-level tags
  const Bytes frame = response_frame(true, body.b);
  OffsetFetchAnswer a;
  REQUIRE(decode_offset_fetch_response(frame, kBodyBegin + 1, 8, "b", a));
  CHECK(a.error_code == 0);
  REQUIRE(a.offsets.size() == 1);
  CHECK(a.offsets[0].topic == "t");
  CHECK(a.offsets[0].partition == 4);
  CHECK(a.offsets[0].offset == 77);
  CHECK(a.offsets[0].leader_epoch == 3);
  CHECK_FALSE(a.offsets[0].metadata.has_value());
  REQUIRE(decode_offset_fetch_response(frame, kBodyBegin + 1, 8, "a", a));
  CHECK(a.error_code == 16);
  CHECK(a.offsets.empty());
  CHECK_FALSE(decode_offset_fetch_response(frame, kBodyBegin + 1, 8, "c", a));
  CHECK_FALSE(decode_offset_fetch_response(frame, kBodyBegin + 1, 10, "b", a));  // v10: topic ids
  CHECK_FALSE(decode_offset_fetch_response(frame, kBodyBegin + 1, 0, "b", a));

  // OffsetCommit below v2 and at v10 is not read, even where the bytes would parse.
  Builder commit;
  commit.i32(0).i32(0);
  OffsetCommitAnswer c;
  CHECK(decode_offset_commit_response(response_frame(false, commit.b), kBodyBegin, 3, c));
  CHECK_FALSE(decode_offset_commit_response(response_frame(false, commit.b), kBodyBegin, 1, c));
  CHECK_FALSE(decode_offset_commit_response(response_frame(false, commit.b), kBodyBegin, 10, c));

  // FindCoordinator v0: no ThrottleTimeMs, no ErrorMessage; the group asked for is not in the answer.
  Builder v0;
  v0.i16(0).i32(5).str("broker-5").i32(9093);
  CoordinatorAnswer f;
  REQUIRE(decode_find_coordinator_response(response_frame(false, v0.b), kBodyBegin, 0, "anything", f));
  CHECK(f.node_id == 5);
  CHECK(f.host == "broker-5");
  CHECK(f.port == 9093);
  CHECK(f.error_message.empty());
  CHECK_FALSE(decode_find_coordinator_response(response_frame(false, v0.b), kBodyBegin, 7, "anything", f));
}

TEST_CASE("data-client decoders read librdkafka mock cluster captures", "[client][data_client][golden]") {
  // tests/golden/data_client/captures/: real answers of librdkafka's mock broker (capture_mock.py) to the
  // requests kedge sends, at every version both support; `expected` holds what the capture knows for sure.
  const auto files = data_client_files("", "captures");
  std::set<int> apis;
  for (const fs::path& path : files) {
    const ResponseVector v = load_response(path);
    INFO(path.filename().string() << ": " << v.doc.at("description").get<std::string>());
    if (v.doc.at("expected").contains("decodes")) {  // a mock answer that breaks the spec ("deviation")
      CHECK_FALSE(decode_any(v, v.frame));
      continue;
    }
    check_subset(v.doc.at("expected"), answer_json(v, v.frame), "expected");
    const std::size_t trailing = v.doc.value("/deviation/trailing_bytes"_json_pointer, std::size_t{0});
    for (std::size_t cut = 0; cut + trailing < v.frame.size(); ++cut) {
      INFO("cut at " << cut);
      CHECK_FALSE(decode_any(v, truncated(v.frame, cut)));
    }
    apis.insert(v.api_key);
  }
  CHECK(apis == std::set<int>{key_of(ApiKey::produce), key_of(ApiKey::fetch), key_of(ApiKey::list_offsets),
                              key_of(ApiKey::metadata), key_of(ApiKey::find_coordinator),
                              key_of(ApiKey::offset_commit), key_of(ApiKey::offset_fetch)});
}
