#pragma once
// Kafka over WebSocket: the commands a client sends and the replies kedge writes, with the binary codec
// (APISIX pub-sub, web/pubsub.proto). The JSON codec for text messages is web/json_command.h; both decode to
// the same Command.
//
// Binary wire format (proto3, field numbers from APISIX's pubsub.proto; one message per binary WebSocket message):
//   PubSubReq  { int64 sequence = 1; oneof req { CmdEmpty cmd_empty = 31; CmdPing cmd_ping = 32;
//                CmdKafkaFetch cmd_kafka_fetch = 33; CmdKafkaListOffset cmd_kafka_list_offset = 34; } }
//   CmdPing { bytes state = 1; }   CmdKafkaFetch / CmdKafkaListOffset { string topic = 1; int32 partition = 2;
//                                                                      int64 offset | timestamp = 3; }
//   PubSubResp { int64 sequence = 1; oneof resp { ErrorResp error_resp = 31; PongResp pong_resp = 32;
//                KafkaFetchResp kafka_fetch_resp = 33; KafkaListOffsetResp kafka_list_offset_resp = 34; } }
//   ErrorResp { int32 code = 1; string message = 2; }   PongResp { bytes state = 1; }
//   KafkaFetchResp { repeated KafkaMessage messages = 1; }   KafkaListOffsetResp { int64 offset = 1; }
//   KafkaMessage { int64 offset = 1; int64 timestamp = 2; bytes key = 3; bytes value = 4; }
//
// Pure: no I/O, no libuv, no OpenSSL. Nothing here throws across the API: decoding returns a Command or a
// CommandError (allocation failure included), encoding returns bytes. The messages come from untrusted clients:
// every decoder checks its own size limit (max_bytes) before parsing, independently of the WebSocket layer's
// message limit (web/message.h), and validates every field (see decode_binary_command).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kedge::web::pubsub {

// ---- Commands (what a client asks) ----

struct Empty {};  // CmdEmpty (binary only): APISIX's placeholder; the gateway answers it, nothing goes to Kafka
struct Ping {
  std::string state;  // bytes, echoed in the pong
};
struct ListOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t timestamp = -1;  // ms since the epoch (first offset at or after it), -1 the end, -2 the beginning
};
struct Fetch {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;  // >= 0
};
// JSON-only extensions (text messages, web/json_command.h).
struct Subscribe {
  struct Start {
    std::string topic;
    std::int32_t partition = 0;  // >= 0, or kAllPartitions
    std::int64_t offset = -1;    // kLatest, kEarliest, or >= 0 (exact; not with kAllPartitions)
  };
  static constexpr std::int32_t kAllPartitions = -1;
  static constexpr std::int64_t kLatest = -1;
  static constexpr std::int64_t kEarliest = -2;
  std::vector<Start> partitions;  // 1..kMaxSubscribePartitions, no (topic, partition) twice
};
struct Produce {
  struct Record {
    std::optional<std::string> key;    // raw bytes (after base64 decoding); nullopt = null
    std::optional<std::string> value;  // likewise
    std::vector<std::pair<std::string, std::string>> headers;  // raw bytes; null header values are refused
  };
  std::string topic;
  std::optional<std::int32_t> partition;  // nullopt: the gateway picks (by key)
  std::vector<Record> records;            // 1..kMaxProduceRecords
};
struct Unsubscribe {};

// How a JSON exchange carries keys, values, header keys and header values: as the JSON string itself (utf8) or
// as base64 text (RFC 4648 §4, padded). Binary messages always carry bytes; for them it stays utf8 and unused.
enum class PayloadEncoding : std::uint8_t { utf8, base64 };

using Body = std::variant<Empty, Ping, ListOffset, Fetch, Subscribe, Unsubscribe, Produce>;

struct Command {
  std::int64_t sequence = 0;  // copied into every reply
  Body body;
  PayloadEncoding encoding = PayloadEncoding::utf8;  // JSON: how keys/values go out (and come in for produce)
};

// A command kedge refuses, before anything reaches Kafka. The gateway answers it with an error reply carrying
// `sequence` (0 when the message was unreadable before its sequence) and `message`, and keeps the connection.
struct CommandError {
  std::int64_t sequence = 0;
  std::string message;
};

// ---- Limits ----

inline constexpr std::size_t kMaxBinaryCommandBytes = 64 * 1024;  // a PubSubReq holds no record data
inline constexpr std::size_t kMaxTopicLength = 249;               // Kafka's (Topic.MAX_NAME_LENGTH)
inline constexpr std::size_t kMaxPingStateBytes = 4096;
inline constexpr std::size_t kMaxSubscribePartitions = 1024;
inline constexpr std::size_t kMaxProduceRecords = 10000;
inline constexpr std::size_t kMaxRecordHeaders = 1024;

// A Kafka topic name as Kafka validates it (org.apache.kafka.common.internals.Topic.validate): 1..249 characters
// of [a-zA-Z0-9._-], and neither "." nor "..". Returns the reason it is not one, e.g.
// `topic "a b": invalid character ' ' (Kafka topic names are 1..249 characters of [a-zA-Z0-9._-])`.
std::optional<std::string> topic_name_problem(std::string_view topic);

// ---- Binary (APISIX pub-sub) ----

// Decodes one binary WebSocket message as a PubSubReq. Refused, as a CommandError:
//   - more than max_bytes bytes ("request of N bytes exceeds the limit of M bytes");
//   - bytes protobuf cannot parse ("malformed protobuf PubSubReq");
//   - no command ("empty request": no oneof field set, nothing else either);
//   - a command field this codec does not know (kept by protobuf as an unknown field: "unsupported command
//     (PubSubReq field 35)");
//   - a topic that is not a Kafka topic name, a negative partition, a negative fetch offset, a list-offset
//     timestamp below -2, a ping state above kMaxPingStateBytes.
// The error carries the sequence whenever protobuf could read the message. Unknown fields next to a known
// command are ignored (proto3 forward compatibility). The result owns its strings; `message` is not retained.
std::variant<Command, CommandError> decode_binary_command(std::span<const std::uint8_t> message,
                                                          std::size_t max_bytes = kMaxBinaryCommandBytes);

// One Kafka record as the fetch encoders read it. Borrowed: every view must outlive the call.
// Keys, values and header fields are bytes (std::string_view used as a byte view, not necessarily text).
struct HeaderView {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt = null
};
struct RecordView {
  std::int64_t offset = 0;
  std::int64_t timestamp = -1;
  std::optional<std::string_view> key;    // nullopt = null (binary: sent as empty bytes, proto3 cannot tell)
  std::optional<std::string_view> value;  // likewise
  std::span<const HeaderView> headers = {};  // JSON only: KafkaMessage has no headers
};

// PubSubResp encoders: the bytes of one binary WebSocket message (fields in field-number order, as protobuf
// serializes them). `message` and `state` are copied; an error message that is not valid UTF-8 (protobuf
// `string`) has each invalid byte replaced by '?'.
std::vector<std::uint8_t> encode_binary_error(std::int64_t sequence, std::int32_t code, std::string_view message);
std::vector<std::uint8_t> encode_binary_pong(std::int64_t sequence, std::string_view state);
std::vector<std::uint8_t> encode_binary_list_offset(std::int64_t sequence, std::int64_t offset);
std::vector<std::uint8_t> encode_binary_fetch(std::int64_t sequence, std::span<const RecordView> records);

}  // namespace kedge::web::pubsub
