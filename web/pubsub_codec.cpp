#include "web/pubsub_codec.h"

#include <algorithm>
#include <exception>
#include <new>

#include "web/pubsub.pb.h"  // generated into the build tree from web/pubsub.proto
#include "web/utf8.h"

namespace kedge::web::pubsub {
namespace {

namespace wire = kedge::web::pubsub::wire;

bool is_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// A topic as it may appear in a message: printable ASCII as is, anything else as \xNN, at most 64 bytes.
std::string quote_topic(std::string_view topic) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  const std::size_t shown = std::min<std::size_t>(topic.size(), 64);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(topic[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out += shown < topic.size() ? "\"..." : "\"";
  return out;
}

constexpr std::string_view kTopicRule = "(Kafka topic names are 1..249 characters of [a-zA-Z0-9._-])";

std::vector<std::uint8_t> serialize(const wire::PubSubResp& response) {
  std::vector<std::uint8_t> out(response.ByteSizeLong());
  response.SerializeWithCachedSizesToArray(out.data());
  return out;
}

std::optional<std::string> partition_problem(std::int32_t partition) {
  if (partition >= 0) return std::nullopt;
  return "partition " + std::to_string(partition) + " is negative";
}

std::variant<Command, CommandError> decode(std::span<const std::uint8_t> message, std::size_t max_bytes) {
  if (message.size() > max_bytes) {
    return CommandError{0, "request of " + std::to_string(message.size()) + " bytes exceeds the limit of " +
                               std::to_string(max_bytes) + " bytes"};
  }
  wire::PubSubReq request;
  if (!request.ParseFromArray(message.data(), static_cast<int>(message.size()))) {
    return CommandError{0, "malformed protobuf PubSubReq"};
  }
  const std::int64_t sequence = request.sequence();
  auto fail = [sequence](std::string text) -> std::variant<Command, CommandError> {
    return CommandError{sequence, std::move(text)};
  };
  Command command;
  command.sequence = sequence;
  switch (request.req_case()) {
    case wire::PubSubReq::kCmdEmpty:
      command.body = Empty{};
      return command;
    case wire::PubSubReq::kCmdPing: {
      const std::string& state = request.cmd_ping().state();
      if (state.size() > kMaxPingStateBytes) {
        return fail("ping state of " + std::to_string(state.size()) + " bytes exceeds the limit of " +
                    std::to_string(kMaxPingStateBytes) + " bytes");
      }
      command.body = Ping{state};
      return command;
    }
    case wire::PubSubReq::kCmdKafkaFetch: {
      const auto& fetch = request.cmd_kafka_fetch();
      if (auto problem = topic_name_problem(fetch.topic())) return fail("fetch: " + *problem);
      if (auto problem = partition_problem(fetch.partition())) return fail("fetch: " + *problem);
      if (fetch.offset() < 0) return fail("fetch: offset " + std::to_string(fetch.offset()) + " is negative");
      command.body = Fetch{fetch.topic(), fetch.partition(), fetch.offset()};
      return command;
    }
    case wire::PubSubReq::kCmdKafkaListOffset: {
      const auto& list = request.cmd_kafka_list_offset();
      if (auto problem = topic_name_problem(list.topic())) return fail("list_offset: " + *problem);
      if (auto problem = partition_problem(list.partition())) return fail("list_offset: " + *problem);
      if (list.timestamp() < -2) {
        return fail("list_offset: timestamp " + std::to_string(list.timestamp()) +
                    " is neither a time in ms, -1 (the end) nor -2 (the beginning)");
      }
      command.body = ListOffset{list.topic(), list.partition(), list.timestamp()};
      return command;
    }
    case wire::PubSubReq::REQ_NOT_SET:
      break;
  }
  // Field numbers protobuf does not know are kept as unknown fields: a command from a newer client.
  const auto& unknown = request.GetReflection()->GetUnknownFields(request);
  if (unknown.field_count() > 0) {
    return fail("unsupported command (PubSubReq field " + std::to_string(unknown.field(0).number()) + ")");
  }
  return fail("empty request");
}

}  // namespace

std::optional<std::string> topic_name_problem(std::string_view topic) {
  if (topic.empty()) return "topic name is empty " + std::string(kTopicRule);
  if (topic.size() > kMaxTopicLength) {
    return "topic " + quote_topic(topic) + " is " + std::to_string(topic.size()) + " characters long " +
           std::string(kTopicRule);
  }
  if (topic == "." || topic == "..") return "topic " + quote_topic(topic) + " is not allowed by Kafka";
  for (const char c : topic) {
    if (!is_topic_char(c)) {
      return "topic " + quote_topic(topic) + ": invalid character " + quote_topic(std::string_view(&c, 1)) + " " +
             std::string(kTopicRule);
    }
  }
  return std::nullopt;
}

std::variant<Command, CommandError> decode_binary_command(std::span<const std::uint8_t> message,
                                                          std::size_t max_bytes) {
  try {
    return decode(message, max_bytes);
  } catch (const std::bad_alloc&) {
    return CommandError{0, "out of memory decoding the request"};
  } catch (const std::exception& e) {  // protobuf's parser does not throw; this keeps the API's promise anyway
    return CommandError{0, std::string("internal error decoding the request: ") + e.what()};
  }
}

std::vector<std::uint8_t> encode_binary_error(std::int64_t sequence, std::int32_t code, std::string_view message) {
  wire::PubSubResp response;
  response.set_sequence(sequence);
  auto* error = response.mutable_error_resp();
  error->set_code(code);
  error->set_message(replace_invalid_utf8(message, "?"));  // proto3 `string` must be UTF-8
  return serialize(response);
}

std::vector<std::uint8_t> encode_binary_pong(std::int64_t sequence, std::string_view state) {
  wire::PubSubResp response;
  response.set_sequence(sequence);
  response.mutable_pong_resp()->set_state(state.data(), state.size());
  return serialize(response);
}

std::vector<std::uint8_t> encode_binary_list_offset(std::int64_t sequence, std::int64_t offset) {
  wire::PubSubResp response;
  response.set_sequence(sequence);
  response.mutable_kafka_list_offset_resp()->set_offset(offset);
  return serialize(response);
}

std::vector<std::uint8_t> encode_binary_fetch(std::int64_t sequence, std::span<const RecordView> records) {
  wire::PubSubResp response;
  response.set_sequence(sequence);
  auto* fetch = response.mutable_kafka_fetch_resp();
  fetch->mutable_messages()->Reserve(static_cast<int>(records.size()));
  for (const RecordView& record : records) {
    auto* out = fetch->add_messages();
    out->set_offset(record.offset);
    out->set_timestamp(record.timestamp);
    if (record.key) out->set_key(record.key->data(), record.key->size());
    if (record.value) out->set_value(record.value->data(), record.value->size());
  }
  return serialize(response);
}

}  // namespace kedge::web::pubsub
