// The REST half of the HTTP front (docs/http.md "REST"): the shapes the
// Confluent REST Proxy v2 and the Strimzi bridge share, stateless (no
// consumer instances), so replicas behind a load balancer need no stickiness.
//
//   GET  /topics                                    ["orders", ...]
//   GET  /topics/{t}                                {"name","partitions":[{"partition","leader"}]}
//   GET  /topics/{t}/partitions                     [{"partition","leader"}]
//   GET  /topics/{t}/partitions/{p}                 {"partition","leader"}
//   GET  /topics/{t}/partitions/{p}/offsets         {"beginning_offset","end_offset"}
//   GET  /topics/{t}/partitions/{p}/records?offset=N[&max_bytes=M]
//                                                   [{"topic","key","value","partition","offset","timestamp"}]
//   POST /topics/{t}  and  /topics/{t}/partitions/{p}
//        {"records":[{"key","value","partition"?}]} -> {"offsets":[{"partition","offset","error_code","error"}],
//                                                       "key_schema_id":null,"value_schema_id":null}
//
// Embedded formats (Content-Type of a produce, Accept of a records read):
// application/vnd.kafka.json.v2+json (keys and values are JSON documents,
// stored as their JSON text) and application/vnd.kafka.binary.v2+json (base64).
// Errors: {"error_code": <status * 100 + n>, "message"} (40401 topic not found,
// 40402 partition not found, 40301 refused by policy, 42201 invalid record, ...).
//
// nlohmann::json is used with its non-throwing parser and type checks before
// every access; the one try/catch guards dump() of a value that is not valid
// UTF-8 (kept inside this file: nothing throws out of the front).
#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "common/ascii.h"
#include "common/base64.h"
#include "common/log.h"
#include "gateway/http_front.h"
#include "kafka_codec/api.h"
#include "kafka_codec/errors.h"
#include "records/records.h"
#include "web/frame_writer.h"
#include "web/json_command.h"
#include "web/pubsub_codec.h"

namespace kedge {

namespace {

// ordered_json: a JSON key or value is stored with its members in the order the client wrote them.
using Json = nlohmann::ordered_json;

constexpr std::string_view kJsonV2 = "application/vnd.kafka.json.v2+json";
constexpr std::string_view kBinaryV2 = "application/vnd.kafka.binary.v2+json";
constexpr std::string_view kV2 = "application/vnd.kafka.v2+json";
constexpr std::size_t kMaxProduceRecords = 10'000;

enum class EmbeddedFormat : std::uint8_t { json, binary };

std::optional<EmbeddedFormat> format_of(std::string_view media_type) {
  // Parameters (charset) are ignored; types compare case-insensitively (RFC 9110 §8.3.1).
  const std::string_view type = media_type.substr(0, media_type.find(';'));
  std::string_view trimmed = type;
  while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
  if (ascii::iequals(trimmed, kJsonV2)) return EmbeddedFormat::json;
  if (ascii::iequals(trimmed, kBinaryV2)) return EmbeddedFormat::binary;
  return std::nullopt;
}

std::optional<std::int64_t> to_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return segments;
}

std::optional<std::string_view> query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// Kafka's default partitioner for keyed records (the Java client's murmur2,
// Utils.murmur2 / toPositive), so a key lands on the partition Kafka clients
// put it on.
std::int32_t murmur2(std::string_view key) {
  const std::uint32_t seed = 0x9747b28c;
  const std::uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto length = static_cast<std::uint32_t>(key.size());
  std::uint32_t h = seed ^ length;
  const auto* data = reinterpret_cast<const std::uint8_t*>(key.data());
  const std::uint32_t length4 = length / 4;
  for (std::uint32_t i = 0; i < length4; i++) {
    const std::uint32_t i4 = i * 4;
    std::uint32_t k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (static_cast<std::uint32_t>(data[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (length % 4) {
    case 3: h ^= static_cast<std::uint32_t>(data[(length & ~3u) + 2]) << 16; [[fallthrough]];
    case 2: h ^= static_cast<std::uint32_t>(data[(length & ~3u) + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= data[length & ~3u];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h & 0x7fffffff);
}

std::vector<std::uint8_t> frame_text(const std::string& payload) {
  std::vector<std::uint8_t> frame;
  web::append_text(frame, payload);
  return frame;
}

Json partition_json(const kafka::PartitionLeader& partition) {
  return Json{{"partition", partition.partition}, {"leader", partition.leader_id}};
}

std::string kafka_error_name(std::int16_t code) { return std::string(kafka::error_name(code)); }

}  // namespace

// One produce (a REST POST or a WebSocket produce command): its records,
// grouped per partition as they are written, and how it ends.
struct HttpFront::RestProduce {
  std::string topic;                      // the client's name
  std::vector<records::Record> records;   // in request order
  std::vector<std::int32_t> partition_of; // per record, once known (-1: not yet)
  std::vector<std::int64_t> offset_of;
  std::vector<std::int16_t> error_of;
  std::vector<std::string> message_of;
  std::size_t partitions_pending = 0;
  // Every partition answered (per-record outcomes above).
  std::function<void(HttpFront&, RestProduce&)> on_done;
  // The whole produce failed before a write: an HTTP status, the REST error
  // code and the Kafka error code (0 when not Kafka's) with a message.
  std::function<void(HttpFront&, int, int, std::int16_t, const std::string&)> on_fail;
};

// Returns false when no REST endpoint matches (the caller answers 404).
bool HttpFront::serve_rest(std::string_view method, std::string_view path, std::string_view query) {
  const std::vector<std::string_view> segments = split_path(path);
  if (segments.size() == 3 && segments[0] == "groups" && segments[2] == "offsets") {
    const std::string group(segments[1]);
    if (group.empty() || group.size() > 255) {
      answer_error(400, 40006, "a group id is 1 to 255 bytes");
      return true;
    }
    if (method == "POST") {
      rest_commit_offsets(group);
    } else if (method == "GET") {
      rest_group_offsets(group, query);
    } else {
      return rest_method_not_allowed("GET, POST");
    }
    return true;
  }
  if (segments.empty() || segments[0] != "topics") return false;
  const bool get = method == "GET";
  const bool post = method == "POST";
  if (segments.size() == 1) {
    if (!get) return rest_method_not_allowed("GET");
    rest_list_topics();
    return true;
  }
  const std::string topic(segments[1]);
  if (const auto problem = web::pubsub::topic_name_problem(topic)) {
    answer_error(400, 40002, *problem);
    return true;
  }
  if (segments.size() == 2) {
    if (post) {
      rest_produce(topic, std::nullopt);
      return true;
    }
    if (!get) return rest_method_not_allowed("GET, POST");
    rest_describe_topic(topic, std::nullopt, false);
    return true;
  }
  if (segments[2] != "partitions") return false;
  if (segments.size() == 3) {
    if (!get) return rest_method_not_allowed("GET");
    rest_describe_topic(topic, std::nullopt, true);
    return true;
  }
  const auto partition = to_int(segments[3]);
  if (!partition || *partition < 0 || *partition > INT32_MAX) {
    answer_error(400, 40003, fmt::format("partition {} is not a partition number", segments[3]));
    return true;
  }
  const auto p = static_cast<std::int32_t>(*partition);
  if (segments.size() == 4) {
    if (post) {
      rest_produce(topic, p);
      return true;
    }
    if (!get) return rest_method_not_allowed("GET, POST");
    rest_describe_topic(topic, p, true);
    return true;
  }
  if (segments.size() == 5 && segments[4] == "offsets") {
    if (!get) return rest_method_not_allowed("GET");
    if (const auto text = query_value(query, "timestamp")) {
      const auto timestamp = to_int(*text);
      if (!timestamp || *timestamp < 0) {
        answer_error(400, 40007, "timestamp must be milliseconds since the epoch (a number >= 0)");
        return true;
      }
      rest_offset_for_time(topic, p, *timestamp);
      return true;
    }
    rest_offsets(topic, p);
    return true;
  }
  if (segments.size() == 5 && segments[4] == "records") {
    if (!get) return rest_method_not_allowed("GET");
    const auto offset_text = query_value(query, "offset");
    const auto offset = offset_text ? to_int(*offset_text) : std::optional<std::int64_t>(0);
    if (!offset || *offset < 0) {
      answer_error(400, 40004, "offset must be an offset (a number >= 0)");
      return true;
    }
    std::int64_t max_bytes = settings_.config.fetch_max_bytes;
    if (const auto text = query_value(query, "max_bytes")) {
      const auto asked = to_int(*text);
      if (!asked || *asked < 1) {
        answer_error(400, 40005, "max_bytes must be a number >= 1");
        return true;
      }
      max_bytes = std::min<std::int64_t>(*asked, settings_.config.fetch_max_bytes);
    }
    rest_records(topic, p, *offset, static_cast<std::int32_t>(max_bytes));
    return true;
  }
  return false;
}

bool HttpFront::rest_method_not_allowed(std::string_view allowed) {
  answer_error(405, 40501, fmt::format("method not allowed here (allowed: {})", allowed), false,
               fmt::format("Allow: {}\r\n", allowed));
  return true;
}

// An answer to come: the next pipelined request waits for it (HTTP/1.1 answers in order).
upstream::LeaderPool* HttpFront::rest_pool() {
  upstream::LeaderPool* pool = host_.http_leader_pool();
  if (pool == nullptr) {
    answer_error(503, 50301, "the virtual cluster is no longer served by this kedge", true);
    return nullptr;
  }
  awaiting_answer_ = true;
  regulate();
  return pool;
}

void HttpFront::rest_fail(const upstream::PoolFailure& failure, std::string_view topic) {
  if (failure.authentication) {
    answer_error(401, 40105, fmt::format("the brokers refused the credentials: {}", failure.message), false,
                 "WWW-Authenticate: Basic realm=\"kedge\", charset=\"UTF-8\"\r\n");
  } else if (failure.kafka_error == 3) {
    answer_error(404, 40401, failure.message);
  } else if (failure.kafka_error >= 29 && failure.kafka_error <= 31) {  // topic, group, cluster authorization
    answer_error(403, 40301, failure.message);
  } else if (failure.kafka_error == 1) {
    answer_error(416, 41601, failure.message);
  } else if (failure.kafka_error != 0) {
    answer_error(500, 50002, fmt::format("{}: {} ({})", topic, failure.message, kafka_error_name(failure.kafka_error)));
  } else {
    answer_error(503, 50302, failure.message);
  }
}

bool HttpFront::rest_refused(std::int16_t api_key, std::string_view topic) {
  if (auto refusal = host_.http_authorize(api_key, topic)) {
    answer_error(403, 40301, fmt::format("{} ({})", refusal->message, kafka_error_name(refusal->kafka_error)));
    return true;
  }
  return false;
}

void HttpFront::rest_list_topics() {
  upstream::LeaderPool* pool = rest_pool();
  if (pool == nullptr) return;
  pool->list_topics(rest_callback<std::vector<kafka::TopicLeaders>>(std::string(), [](HttpFront& front, const std::vector<kafka::TopicLeaders>* topics) {
    Json names = Json::array();
    for (const auto& topic : *topics) {
      if (topic.error_code != 0) continue;
      const std::optional<std::string> visible = front.host_.http_client_topic(topic.name);
      if (!visible) continue;
      if (front.host_.http_authorize(kafka::key_of(kafka::ApiKey::metadata), *visible)) continue;
      names.push_back(*visible);
    }
    front.answer(200, kV2, names.dump());
  }));
}

void HttpFront::rest_describe_topic(const std::string& topic, std::optional<std::int32_t> partition,
                                    bool partitions_only) {
  if (rest_refused(kafka::key_of(kafka::ApiKey::metadata), topic)) return;
  upstream::LeaderPool* pool = rest_pool();
  if (pool == nullptr) return;
  pool->topic_metadata(host_.http_backend_topic(topic), rest_callback<kafka::TopicLeaders>(topic, [topic, partition, partitions_only](HttpFront& front, const kafka::TopicLeaders* leaders) {
    if (partition) {
      for (const auto& p : leaders->partitions) {
        if (p.partition == *partition) {
          front.answer(200, kV2, partition_json(p).dump());
          return;
        }
      }
      front.answer_error(404, 40402, fmt::format("topic {} has no partition {}", topic, *partition));
      return;
    }
    Json partitions = Json::array();
    for (const auto& p : leaders->partitions) partitions.push_back(partition_json(p));
    if (partitions_only) {
      front.answer(200, kV2, partitions.dump());
      return;
    }
    front.answer(200, kV2, Json{{"name", topic}, {"partitions", partitions}}.dump());
  }));
}

void HttpFront::rest_offsets(const std::string& topic, std::int32_t partition) {
  if (rest_refused(kafka::key_of(kafka::ApiKey::list_offsets), topic)) return;
  upstream::LeaderPool* pool = rest_pool();
  if (pool == nullptr) return;
  const std::string backend = host_.http_backend_topic(topic);
  pool->list_offset(backend, partition, -2, rest_callback<kafka::ListOffsetsAnswer>(topic, [topic, backend, partition](HttpFront& front, const kafka::ListOffsetsAnswer* earliest) {
    upstream::LeaderPool* pool = front.host_.http_leader_pool();
    if (pool == nullptr) {
      front.answer_error(503, 50301, "the virtual cluster is no longer served by this kedge", true);
      return;
    }
    const std::int64_t beginning = earliest->offset;
    pool->list_offset(backend, partition, -1, front.rest_callback<kafka::ListOffsetsAnswer>(topic, [topic, beginning](HttpFront& front, const kafka::ListOffsetsAnswer* latest) {
      front.answer(200, kV2, Json{{"beginning_offset", beginning}, {"end_offset", latest->offset}}.dump());
    }));
  }));
}

// GET .../offsets?timestamp=T: {"offset", "timestamp"}, the first record at or after T (ListOffsets by
// time); {"offset": null, "timestamp": null} when no record is that recent.
void HttpFront::rest_offset_for_time(const std::string& topic, std::int32_t partition, std::int64_t timestamp) {
  if (rest_refused(kafka::key_of(kafka::ApiKey::list_offsets), topic)) return;
  upstream::LeaderPool* pool = rest_pool();
  if (pool == nullptr) return;
  pool->list_offset(host_.http_backend_topic(topic), partition, timestamp,
                    rest_callback<kafka::ListOffsetsAnswer>(topic, [](HttpFront& front, const kafka::ListOffsetsAnswer* found) {
                      Json body{{"offset", nullptr}, {"timestamp", nullptr}};
                      if (found->offset >= 0) {
                        body["offset"] = found->offset;
                        body["timestamp"] = found->timestamp;
                      }
                      front.answer(200, kV2, body.dump());
                    }));
}

void HttpFront::rest_records(const std::string& topic, std::int32_t partition, std::int64_t offset,
                             std::int32_t max_bytes) {
  const std::optional<EmbeddedFormat> format = format_of(request_accept_);
  if (!request_accept_.empty() && request_accept_ != "*/*" && !format) {
    answer_error(406, 40601, fmt::format("records are served as {} or {}", kBinaryV2, kJsonV2));
    return;
  }
  if (rest_refused(kafka::key_of(kafka::ApiKey::fetch), topic)) return;
  upstream::LeaderPool* pool = rest_pool();
  if (pool == nullptr) return;
  const EmbeddedFormat as = format.value_or(EmbeddedFormat::binary);
  pool->fetch(host_.http_backend_topic(topic), partition, offset, max_bytes, 0,
              rest_callback<upstream::LeaderPool::Fetched>(topic, [topic, partition, offset, as](HttpFront& front, const upstream::LeaderPool::Fetched* fetched) {
                records::DecodeLimits limits;
                limits.max_decompressed_bytes = front.settings_.config.max_message_bytes;
                const records::DecodedRecords decoded = records::decode_records(fetched->answer.records, limits);
                if (decoded.errc != records::Errc::ok && decoded.batches.empty()) {
                  front.answer_error(500, 50003, fmt::format("the records of {}-{} could not be read ({})", topic,
                                                             partition, records::to_string(decoded.errc)));
                  return;
                }
                Json out = Json::array();
                for (const records::Record& record : records::consumer_records(decoded.batches)) {
                  if (record.offset < offset) continue;
                  Json entry{{"topic", topic}, {"partition", partition}, {"offset", record.offset},
                             {"timestamp", record.timestamp}};
                  const auto embed = [&](const std::optional<std::string>& bytes, const char* name) -> bool {
                    if (!bytes) {
                      entry[name] = nullptr;
                      return true;
                    }
                    if (as == EmbeddedFormat::binary) {
                      entry[name] = base64::encode(*bytes);
                      return true;
                    }
                    Json parsed = Json::parse(*bytes, nullptr, false);
                    if (parsed.is_discarded()) return false;
                    entry[name] = std::move(parsed);
                    return true;
                  };
                  if (!embed(record.key, "key") || !embed(record.value, "value")) {
                    front.answer_error(406, 40602,
                                       fmt::format("the record at offset {} of {}-{} is not JSON; ask for {}",
                                                   record.offset, topic, partition, kBinaryV2));
                    return;
                  }
                  out.push_back(std::move(entry));
                }
                front.settings_.stats->records_sent += out.size();
                std::string body;
                try {
                  body = out.dump(-1, ' ', false, Json::error_handler_t::replace);
                } catch (const std::exception& error) {  // dump() of invalid UTF-8 with replace does not throw
                  front.answer_error(500, 50004, error.what());
                  return;
                }
                front.answer(200, as == EmbeddedFormat::json ? kJsonV2 : kBinaryV2, body);
              }));
}

// POST /topics/{t}[/partitions/{p}]: every record is validated before any is written.
void HttpFront::rest_produce(const std::string& topic, std::optional<std::int32_t> partition) {
  const std::optional<EmbeddedFormat> format = format_of(request_content_type_);
  if (!format) {
    answer_error(415, 41501, fmt::format("Content-Type must be {} or {}", kJsonV2, kBinaryV2));
    return;
  }
  if (rest_refused(kafka::key_of(kafka::ApiKey::produce), topic)) return;
  const Json body = Json::parse(request_body_, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("records") || !body["records"].is_array()) {
    answer_error(422, 42201, "the body must be a JSON object with a \"records\" array");
    return;
  }
  const Json& list = body["records"];
  if (list.empty() || list.size() > kMaxProduceRecords) {
    answer_error(422, 42202, fmt::format("records must hold 1 to {} records", kMaxProduceRecords));
    return;
  }
  auto produce = std::make_shared<RestProduce>();
  produce->topic = topic;
  produce->on_fail = [](HttpFront& front, int status, int error_code, std::int16_t kafka_error,
                        const std::string& message) {
    front.answer_error(status, error_code,
                       kafka_error > 0 ? fmt::format("{} ({})", message, kafka_error_name(kafka_error)) : message);
  };
  produce->on_done = [](HttpFront& front, RestProduce& done) {
    Json offsets = Json::array();
    for (std::size_t i = 0; i < done.records.size(); i++) {
      Json entry{{"partition", done.partition_of[i]}};
      if (done.error_of[i] == 0) {
        entry["offset"] = done.offset_of[i];
        entry["error_code"] = nullptr;
        entry["error"] = nullptr;
      } else {
        entry["offset"] = nullptr;
        entry["error_code"] = done.error_of[i];
        entry["error"] = done.message_of[i];
      }
      offsets.push_back(std::move(entry));
    }
    front.answer(200, kV2,
                 Json{{"offsets", offsets}, {"key_schema_id", nullptr}, {"value_schema_id", nullptr}}.dump(
                     -1, ' ', false, Json::error_handler_t::replace));
  };
  const std::size_t n = list.size();
  produce->partition_of.assign(n, partition.value_or(-1));
  produce->offset_of.assign(n, -1);
  produce->error_of.assign(n, 0);
  produce->message_of.assign(n, {});
  const auto now = std::chrono::system_clock::now();
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < n; i++) {
    const Json& entry = list[i];
    if (!entry.is_object()) {
      answer_error(422, 42203, fmt::format("records[{}] is not an object", i));
      return;
    }
    records::Record record;
    record.timestamp = now_ms;
    for (const char* field : {"key", "value"}) {
      if (!entry.contains(field) || entry[field].is_null()) continue;
      std::string bytes_of;
      if (*format == EmbeddedFormat::binary) {
        if (!entry[field].is_string() || !base64::decode(entry[field].get_ref<const std::string&>(), bytes_of)) {
          answer_error(422, 42204, fmt::format("records[{}].{} is not base64", i, field));
          return;
        }
      } else {
        bytes_of = entry[field].dump(-1, ' ', false, Json::error_handler_t::replace);
      }
      (std::string_view(field) == "key" ? record.key : record.value) = std::move(bytes_of);
    }
    if (entry.contains("partition")) {
      if (!entry["partition"].is_number_integer() || entry["partition"].get<std::int64_t>() < 0 ||
          entry["partition"].get<std::int64_t>() > INT32_MAX) {
        answer_error(422, 42205, fmt::format("records[{}].partition is not a partition number", i));
        return;
      }
      if (partition && entry["partition"].get<std::int64_t>() != *partition) {
        answer_error(422, 42206, fmt::format("records[{}].partition differs from the partition in the path", i));
        return;
      }
      produce->partition_of[i] = static_cast<std::int32_t>(entry["partition"].get<std::int64_t>());
    }
    bytes += (record.key ? record.key->size() : 0) + (record.value ? record.value->size() : 0);
    produce->records.push_back(std::move(record));
  }
  const std::uint32_t wait_ms = host_.http_charge_produce(bytes);
  upstream::LeaderPool* pool = rest_pool();
  if (pool == nullptr) return;
  if (wait_ms > 0) {
    log::debug("conn {}: REST produce of {} bytes over the quota; held {} ms", settings_.connection_id, bytes, wait_ms);
    after_throttle_.push_back([this, topic, produce] { rest_resolve_partitions(topic, produce); });
    return;
  }
  rest_resolve_partitions(topic, produce);
}

// POST /groups/{g}/offsets {"offsets":[{"topic","partition","offset","metadata"?}]}: committed to Kafka
// (OffsetCommit at the group's coordinator, as no member), so any kedge replica, or a Kafka consumer of the
// group, resumes from them. Answer: {"offsets":[{"topic","partition","error_code","error"}]} (nulls when committed).
void HttpFront::rest_commit_offsets(const std::string& group) {
  if (auto refusal = host_.http_authorize_group(kafka::key_of(kafka::ApiKey::offset_commit), group)) {
    answer_error(403, 40301, fmt::format("{} ({})", refusal->message, kafka_error_name(refusal->kafka_error)));
    return;
  }
  const Json body = Json::parse(request_body_, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("offsets") || !body["offsets"].is_array() ||
      body["offsets"].empty() || body["offsets"].size() > kMaxProduceRecords) {
    answer_error(422, 42207, "the body must be a JSON object with an \"offsets\" array of 1 to 10000 entries");
    return;
  }
  std::vector<kafka::OffsetToCommit> offsets;
  std::vector<std::string> client_topics;
  for (std::size_t i = 0; i < body["offsets"].size(); i++) {
    const Json& entry = body["offsets"][i];
    if (!entry.is_object() || !entry.contains("topic") || !entry["topic"].is_string() || !entry.contains("partition") ||
        !entry["partition"].is_number_integer() || !entry.contains("offset") || !entry["offset"].is_number_integer()) {
      answer_error(422, 42208, fmt::format("offsets[{}] needs \"topic\" (string), \"partition\" and \"offset\" (integers)", i));
      return;
    }
    const std::string& topic = entry["topic"].get_ref<const std::string&>();
    if (const auto problem = web::pubsub::topic_name_problem(topic)) {
      answer_error(422, 42209, fmt::format("offsets[{}].topic: {}", i, *problem));
      return;
    }
    const auto partition = entry["partition"].get<std::int64_t>();
    const auto offset = entry["offset"].get<std::int64_t>();
    if (partition < 0 || partition > INT32_MAX || offset < 0) {
      answer_error(422, 42210, fmt::format("offsets[{}]: partition and offset must be >= 0", i));
      return;
    }
    if (auto refusal = host_.http_authorize(kafka::key_of(kafka::ApiKey::fetch), topic)) {
      answer_error(403, 40301, fmt::format("{} ({})", refusal->message, kafka_error_name(refusal->kafka_error)));
      return;
    }
    kafka::OffsetToCommit commit;
    commit.topic = host_.http_backend_topic(topic);
    commit.partition = static_cast<std::int32_t>(partition);
    commit.offset = offset;
    if (entry.contains("metadata") && entry["metadata"].is_string()) commit.metadata = entry["metadata"].get<std::string>();
    offsets.push_back(std::move(commit));
    client_topics.push_back(topic);
  }
  upstream::LeaderPool* pool = rest_pool();
  if (pool == nullptr) return;
  pool->commit_offsets(host_.http_backend_group(group), std::move(offsets),
                       rest_callback<kafka::OffsetCommitAnswer>(group, [group](HttpFront& front, const kafka::OffsetCommitAnswer* answer) {
                         Json offsets = Json::array();
                         for (const auto& p : answer->partitions) {
                           const std::optional<std::string> topic = front.host_.http_client_topic(p.topic);
                           Json entry{{"topic", topic.value_or(p.topic)}, {"partition", p.partition}};
                           entry["error_code"] = p.error_code == 0 ? Json(nullptr) : Json(p.error_code);
                           entry["error"] = p.error_code == 0 ? Json(nullptr) : Json(kafka_error_name(p.error_code));
                           offsets.push_back(std::move(entry));
                         }
                         front.answer(200, kV2, Json{{"offsets", offsets}}.dump());
                       }));
}

// GET /groups/{g}/offsets[?topic=t[&partition=p]]: {"offsets":[{"topic","partition","offset","metadata"}]},
// offset -1 where the group committed nothing.
void HttpFront::rest_group_offsets(const std::string& group, std::string_view query) {
  if (auto refusal = host_.http_authorize_group(kafka::key_of(kafka::ApiKey::offset_fetch), group)) {
    answer_error(403, 40301, fmt::format("{} ({})", refusal->message, kafka_error_name(refusal->kafka_error)));
    return;
  }
  const auto topic = query_value(query, "topic");
  if (!topic) {
    rest_fetch_group_offsets(group, {});
    return;
  }
  const std::string name(*topic);
  if (const auto problem = web::pubsub::topic_name_problem(name)) {
    answer_error(400, 40002, *problem);
    return;
  }
  if (rest_refused(kafka::key_of(kafka::ApiKey::offset_fetch), name)) return;
  if (const auto partition_text = query_value(query, "partition")) {
    const auto partition = to_int(*partition_text);
    if (!partition || *partition < 0 || *partition > INT32_MAX) {
      answer_error(400, 40003, "partition must be a partition number");
      return;
    }
    rest_fetch_group_offsets(group, {{host_.http_backend_topic(name), static_cast<std::int32_t>(*partition)}});
    return;
  }
  upstream::LeaderPool* pool = rest_pool();
  if (pool == nullptr) return;
  const std::string backend = host_.http_backend_topic(name);
  pool->topic_metadata(backend, rest_callback<kafka::TopicLeaders>(name, [group, name, backend](HttpFront& front, const kafka::TopicLeaders* leaders) {
    std::vector<kafka::TopicPartition> partitions;
    for (const auto& p : leaders->partitions) partitions.push_back({backend, p.partition});
    front.rest_fetch_group_offsets(group, std::move(partitions));
  }));
}

void HttpFront::rest_fetch_group_offsets(const std::string& group, std::vector<kafka::TopicPartition> partitions) {
  upstream::LeaderPool* pool = host_.http_leader_pool();
  if (pool == nullptr) {
    answer_error(503, 50301, "the virtual cluster is no longer served by this kedge", true);
    return;
  }
  awaiting_answer_ = true;
  regulate();
  pool->fetch_offsets(host_.http_backend_group(group), std::move(partitions),
                      rest_callback<kafka::OffsetFetchAnswer>(group, [group](HttpFront& front, const kafka::OffsetFetchAnswer* answer) {
                        Json offsets = Json::array();
                        for (const auto& committed : answer->offsets) {
                          const std::optional<std::string> topic = front.host_.http_client_topic(committed.topic);
                          if (!topic) continue;  // outside the cluster's namespace
                          if (front.host_.http_authorize(kafka::key_of(kafka::ApiKey::offset_fetch), *topic)) continue;
                          Json entry{{"topic", *topic}, {"partition", committed.partition}, {"offset", committed.offset}};
                          entry["metadata"] = committed.metadata ? Json(*committed.metadata) : Json(nullptr);
                          if (committed.error_code != 0) entry["error_code"] = committed.error_code;
                          offsets.push_back(std::move(entry));
                        }
                        front.answer(200, kV2, Json{{"offsets", offsets}}.dump(-1, ' ', false,
                                                                               Json::error_handler_t::replace));
                      }));
}

// The JSON produce command over the WebSocket: the same pipeline as a REST
// produce (partitioning, one batch per partition, quotas), answered with a
// "produce" reply carrying per-record offsets or errors.
void HttpFront::ws_produce(std::int64_t sequence, web::pubsub::Produce request) {
  if (auto refusal = host_.http_authorize(kafka::key_of(kafka::ApiKey::produce), request.topic)) {
    reply_error(sequence, false, refusal->kafka_error, refusal->message, WsCommand::produce);
    return;
  }
  auto produce = std::make_shared<RestProduce>();
  produce->topic = request.topic;
  const std::size_t n = request.records.size();
  produce->partition_of.assign(n, request.partition.value_or(-1));
  produce->offset_of.assign(n, -1);
  produce->error_of.assign(n, 0);
  produce->message_of.assign(n, {});
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::uint64_t bytes = 0;
  for (auto& in : request.records) {
    records::Record record;
    record.timestamp = now_ms;
    record.key = std::move(in.key);
    record.value = std::move(in.value);
    for (auto& [key, value] : in.headers) record.headers.push_back({std::move(key), std::move(value)});
    bytes += (record.key ? record.key->size() : 0) + (record.value ? record.value->size() : 0);
    produce->records.push_back(std::move(record));
  }
  produce->on_fail = [sequence](HttpFront& front, int, int, std::int16_t kafka_error, const std::string& message) {
    front.command_done();
    front.reply_error(sequence, false, kafka_error != 0 ? kafka_error : std::int16_t{-1}, message, WsCommand::produce);
  };
  produce->on_done = [sequence](HttpFront& front, RestProduce& done) {
    front.command_done();
    std::vector<web::pubsub::ProduceOutcome> outcomes(done.records.size());
    for (std::size_t i = 0; i < done.records.size(); i++) {
      outcomes[i].partition = done.partition_of[i];
      outcomes[i].offset = done.offset_of[i];
      outcomes[i].error_code = done.error_of[i];
      outcomes[i].error = done.message_of[i];
    }
    front.send_frame(frame_text(web::pubsub::encode_json_produce_result(sequence, done.topic, outcomes)));
  };
  if (host_.http_leader_pool() == nullptr) {
    reply_error(sequence, false, -1, "the virtual cluster is no longer served by this kedge", WsCommand::produce);
    return;
  }
  commands_in_flight_++;
  regulate();
  const std::uint32_t wait_ms = host_.http_charge_produce(bytes);
  if (wait_ms > 0) {
    const std::string topic = produce->topic;
    after_throttle_.push_back([this, topic, produce] { rest_resolve_partitions(topic, produce); });
    return;
  }
  rest_resolve_partitions(produce->topic, produce);
}

void HttpFront::on_throttle_over() {
  std::vector<std::function<void()>> held = std::move(after_throttle_);
  after_throttle_.clear();
  for (auto& resume : held) resume();
}

// Partitions for records that name none: the topic's partition count first.
void HttpFront::rest_resolve_partitions(const std::string& topic, const std::shared_ptr<RestProduce>& produce) {
  upstream::LeaderPool* pool = host_.http_leader_pool();
  if (pool == nullptr) {
    produce->on_fail(*this, 503, 50301, -1, "the virtual cluster is no longer served by this kedge");
    return;
  }
  std::weak_ptr<HttpFront*> alive = alive_;
  pool->topic_metadata(host_.http_backend_topic(topic), [alive, produce](const upstream::PoolFailure* failure,
                                                                         const kafka::TopicLeaders* leaders) {
    auto self = alive.lock();
    if (!self || *self == nullptr) return;
    HttpFront& front = **self;
    if (failure != nullptr) {
      const int status = failure->kafka_error == 3 ? 404 : failure->kafka_error == 29 ? 403 : 503;
      produce->on_fail(front, status, status * 100 + 1, failure->kafka_error, failure->message);
      return;
    }
    const auto count = static_cast<std::int32_t>(leaders->partitions.size());
    if (count == 0) {
      produce->on_fail(front, 404, 40401, 3, fmt::format("topic {} has no partitions", produce->topic));
      return;
    }
    for (std::size_t i = 0; i < produce->records.size(); i++) {
      std::int32_t& p = produce->partition_of[i];
      if (p >= count) {
        produce->on_fail(front, 404, 40402, 3, fmt::format("topic {} has no partition {}", produce->topic, p));
        return;
      }
      if (p >= 0) continue;
      const auto& key = produce->records[i].key;
      p = key ? murmur2(*key) % count : static_cast<std::int32_t>(front.next_partition_++ % static_cast<std::uint32_t>(count));
    }
    front.rest_write(produce);
  });
}

// One batch per partition, written in parallel; the answer once every partition answered.
void HttpFront::rest_write(const std::shared_ptr<RestProduce>& produce) {
  upstream::LeaderPool* pool = host_.http_leader_pool();
  if (pool == nullptr) {
    produce->on_fail(*this, 503, 50301, -1, "the virtual cluster is no longer served by this kedge");
    return;
  }
  std::map<std::int32_t, std::vector<std::size_t>> by_partition;
  for (std::size_t i = 0; i < produce->records.size(); i++) by_partition[produce->partition_of[i]].push_back(i);
  produce->partitions_pending = by_partition.size();
  std::weak_ptr<HttpFront*> alive = alive_;
  for (const auto& [partition_id, partition_records] : by_partition) {
    const std::int32_t partition = partition_id;  // named copies: lambdas cannot capture structured bindings (clang 14)
    const std::vector<std::size_t> indices = partition_records;
    std::vector<records::Record> batch_records;
    batch_records.reserve(indices.size());
    for (const std::size_t i : indices) batch_records.push_back(produce->records[i]);
    std::vector<std::uint8_t> batch;
    const records::Errc errc = records::encode_batch(batch_records, records::EncodeOptions{}, batch);
    if (errc != records::Errc::ok) {
      produce->on_fail(*this, 500, 50005, -1, fmt::format("cannot encode the records ({})", records::to_string(errc)));
      return;
    }
    pool->produce(host_.http_backend_topic(produce->topic), partition, std::move(batch),
                  [alive, produce, indices](const upstream::PoolFailure* failure,
                                            const kafka::ProducePartitionAnswer* written) {
                    auto self = alive.lock();
                    if (!self || *self == nullptr) return;
                    HttpFront& front = **self;
                    for (std::size_t n = 0; n < indices.size(); n++) {
                      const std::size_t i = indices[n];
                      if (failure != nullptr) {
                        produce->error_of[i] = failure->kafka_error != 0 ? failure->kafka_error : std::int16_t{-1};
                        produce->message_of[i] = failure->message;
                      } else if (written->error_code != 0) {
                        produce->error_of[i] = written->error_code;
                        produce->message_of[i] = written->error_message.empty()
                                                     ? kafka_error_name(written->error_code)
                                                     : written->error_message;
                      } else {
                        produce->offset_of[i] = written->base_offset + static_cast<std::int64_t>(n);
                      }
                    }
                    if (failure == nullptr && written->error_code == 0) {
                      front.settings_.stats->records_produced += indices.size();
                    }
                    if (--produce->partitions_pending > 0) return;
                    produce->on_done(front, *produce);
                  });
  }
}

}  // namespace kedge
