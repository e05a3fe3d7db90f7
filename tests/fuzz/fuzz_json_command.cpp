// libFuzzer: decode_json_command (web/json_command.h) on arbitrary text, and the JSON reply encoders on what it
// returns. Input: the text WebSocket message as is (not necessarily UTF-8: the decoder must not rely on the
// WebSocket layer's check).
// Invariants (any failure traps):
//   - decoding never throws (the API's promise; a throw would abort the run) and a CommandError has a message;
//   - a Command's fields obey json_command.h's grammar: Kafka topics, partition and offset ranges, list sizes;
//   - every reply is JSON nlohmann parses back (error messages from the input text, with invalid UTF-8 repaired);
//   - a produce command's records written by encode_json_fetch, in base64 and in utf8, read back to the same
//     bytes: base64 through a produce command decoded again, utf8 as the JSON strings themselves, or as base64
//     with the per-message "encoding":"base64" marker exactly when a field is not UTF-8;
//   - a smaller max_bytes than the input refuses it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "web/json_command.h"
#include "web/utf8.h"

namespace {

using namespace kedge::web::pubsub;
using nlohmann::json;

void require(bool condition) {
  if (!condition) __builtin_trap();
}

json parse(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  require(!doc.is_discarded() && doc.is_object());
  return doc;
}

bool utf8(const std::optional<std::string>& bytes) { return !bytes || kedge::web::is_valid_utf8(*bytes); }

void check_produce(const Command& command, const Produce& produce) {
  require(!topic_name_problem(produce.topic));
  require(!produce.partition || *produce.partition >= 0);
  require(!produce.records.empty() && produce.records.size() <= kMaxProduceRecords);
  // The records as a fetch reply would carry them (header values are never null in a produce).
  std::vector<std::vector<HeaderView>> headers(produce.records.size());
  std::vector<RecordView> views;
  for (std::size_t i = 0; i < produce.records.size(); ++i) {
    const auto& r = produce.records[i];
    require(r.headers.size() <= kMaxRecordHeaders);
    for (const auto& [k, v] : r.headers) headers[i].push_back({k, std::string_view(v)});
    RecordView view{static_cast<std::int64_t>(i), -1, std::nullopt, std::nullopt, headers[i]};
    if (r.key) view.key = *r.key;
    if (r.value) view.value = *r.value;
    views.push_back(view);
  }
  // base64 out, then in again as a produce command: the same bytes.
  const json b64 = parse(encode_json_fetch(command.sequence, produce.topic, 0, views, PayloadEncoding::base64));
  json again = {{"sequence", command.sequence}, {"cmd", "produce"}, {"topic", produce.topic},
                {"encoding", "base64"}, {"records", json::array()}};
  for (const auto& message : b64.at("messages")) {
    require(!message.contains("encoding"));
    again["records"].push_back({{"key", message.at("key")}, {"value", message.at("value")},
                                {"headers", message.at("headers")}});
  }
  const auto round = decode_json_command(again.dump(), kMaxJsonCommandBytes * 2);
  const auto* decoded = std::get_if<Command>(&round);
  require(decoded != nullptr);
  const auto& back = std::get<Produce>(decoded->body);
  require(back.records.size() == produce.records.size());
  for (std::size_t i = 0; i < back.records.size(); ++i) {
    require(back.records[i].key == produce.records[i].key && back.records[i].value == produce.records[i].value &&
            back.records[i].headers == produce.records[i].headers);
  }
  // utf8 out: strings as they are, or the whole message in base64, marked, when something is not UTF-8.
  const json text = parse(encode_json_fetch(command.sequence, produce.topic, 0, views, PayloadEncoding::utf8));
  for (std::size_t i = 0; i < produce.records.size(); ++i) {
    const auto& r = produce.records[i];
    const json& message = text.at("messages")[i];
    bool all = utf8(r.key) && utf8(r.value);
    for (const auto& [k, v] : r.headers) all = all && kedge::web::is_valid_utf8(k) && kedge::web::is_valid_utf8(v);
    require(message.contains("encoding") == !all);
    if (all) {
      require(r.key ? message.at("key") == *r.key : message.at("key").is_null());
      require(r.value ? message.at("value") == *r.value : message.at("value").is_null());
    } else {
      require(message.at("key") == b64.at("messages")[i].at("key"));
      require(message.at("value") == b64.at("messages")[i].at("value"));
      require(message.at("headers") == b64.at("messages")[i].at("headers"));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = decode_json_command(text);
  std::int64_t sequence = 0;
  if (const auto* error = std::get_if<CommandError>(&result)) {
    require(!error->message.empty());
    sequence = error->sequence;
    const json reply = parse(encode_json_error(sequence, 400, error->message));
    require(reply.at("sequence") == sequence);
  } else {
    const Command& command = std::get<Command>(result);
    sequence = command.sequence;
    require(kedge::web::is_valid_utf8(text));
    if (const auto* fetch = std::get_if<Fetch>(&command.body)) {
      require(!topic_name_problem(fetch->topic) && fetch->partition >= 0 && fetch->offset >= 0);
    } else if (const auto* list = std::get_if<ListOffset>(&command.body)) {
      require(!topic_name_problem(list->topic) && list->partition >= 0 && list->timestamp >= -2);
    } else if (const auto* ping = std::get_if<Ping>(&command.body)) {
      require(ping->state.size() <= kMaxPingStateBytes);
      require(parse(encode_json_pong(sequence, ping->state)).at("state") == ping->state);
    } else if (const auto* subscribe = std::get_if<Subscribe>(&command.body)) {
      require(!subscribe->partitions.empty() && subscribe->partitions.size() <= kMaxSubscribePartitions);
      std::vector<SubscribedPartition> parts;
      for (const auto& p : subscribe->partitions) {
        require(!topic_name_problem(p.topic) && p.partition >= Subscribe::kAllPartitions &&
                p.offset >= Subscribe::kEarliest);
        require(p.partition >= 0 || p.offset < 0);
        parts.push_back({p.topic, p.partition, p.offset});
      }
      require(parse(encode_json_subscribed(sequence, parts)).at("partitions").size() == parts.size());
    } else if (const auto* produce = std::get_if<Produce>(&command.body)) {
      check_produce(command, *produce);
    } else {
      require(std::holds_alternative<Unsubscribe>(command.body));
    }
    if (size > 0) require(std::holds_alternative<CommandError>(decode_json_command(text, size - 1)));
  }
  // Replies carrying the raw input: valid JSON whatever the bytes.
  const json error = parse(encode_json_error(sequence, -1, text));
  require(error.at("message").is_string());
  const json pong = parse(encode_json_pong(sequence, text));
  require(pong.contains("encoding") == !kedge::web::is_valid_utf8(text));
  return 0;
}
