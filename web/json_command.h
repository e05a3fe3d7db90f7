#pragma once
// Kafka over WebSocket for browsers: the pub-sub commands as JSON text messages, decoded to the same Command as
// the binary (APISIX protobuf) messages of web/pubsub_codec.h, plus the JSON-only commands (subscribe,
// unsubscribe, produce), and the JSON replies. Pure, no I/O; nothing throws across the API.
//
// Commands: one JSON object per text message.
//   common keys   "sequence"  integer, int64, optional (default 0), copied into the reply (JavaScript clients:
//                             keep it below 2^53)
//                 "cmd"       string, required: one of the commands below
//                 "encoding"  "utf8" (default) or "base64": how keys, values, header keys and header values are
//                             written in this command (produce) and in its replies (fetch, subscription messages)
//   "ping"        "state"     string, optional (default ""), at most kMaxPingStateBytes bytes, echoed
//   "list_offset" "topic" (required), "partition" (required, 0..2^31-1),
//                 "timestamp" (optional, default -1: ms since the epoch, -1 the end, -2 the beginning)
//   "fetch"       "topic", "partition" (required), "offset" (required, 0..2^63-1)
//   "subscribe"   either one start: "topic", "partition" (optional: 0..2^31-1, or -1 / absent for all its
//                 partitions, Subscribe::kAllPartitions), "offset" (optional, default -1: -1 latest, -2 earliest,
//                 >= 0 exact, which needs a partition);
//                 or "partitions": [{"topic", "partition", "offset"} read the same way], 1 to
//                 kMaxSubscribePartitions entries, no topic-partition twice
//   "unsubscribe" nothing else
//   "produce"     "topic" (required), "partition" (optional, 0..2^31-1), "records" (required, 1 to
//                 kMaxProduceRecords): [{"key": string|null, "value": string|null (absent = null),
//                 "headers": [{"key": string, "value": string}] (optional, at most kMaxRecordHeaders)}];
//                 with "encoding": "base64" every key, value and header field is base64 and decoded to bytes
// Topics are checked as Kafka topic names (topic_name_problem). Every other key is refused ("unknown key"), as are
// duplicate keys, values of the wrong JSON type (42.0 and "42" are not integers), numbers outside their range,
// nesting deeper than kMaxJsonDepth, text above max_bytes (checked before parsing) and text that is not UTF-8.
// An error names the JSON path of the offending value: `produce: records[2].value: invalid base64 (...)`, and carries
// the sequence whenever it was read (an integer "sequence" member of a parsable object).
//
// Replies: one JSON object per text message, "type" says which.
//   error         {"sequence":7,"type":"error","code":40001,"message":"..."}
//   pong          {"sequence":7,"type":"pong","state":"..."}
//   list_offset   {"sequence":7,"type":"list_offset","offset":42}
//   fetch         {"sequence":7,"type":"fetch","topic":"t","partition":0,"encoding":"utf8","messages":[
//                   {"offset":42,"timestamp":1700000000000,"key":"k"|null,"value":"v"|null,
//                    "headers":[{"key":"h","value":"x"|null}]}]}
//                 (subscription pushes use the same shape with the subscribe command's sequence)
//   subscribed    {"sequence":7,"type":"subscribed","partitions":[{"topic":"t","partition":0,"offset":42}]}
//   unsubscribed  {"sequence":7,"type":"unsubscribed"}
//   produce       {"sequence":7,"type":"produce","topic":"t","offsets":[{"partition":0,"offset":42,
//                   "error_code":0,"error":null}]}   (Confluent REST Proxy v2's "offsets" entries)
// Text that is not UTF-8 never goes out as mojibake. In a utf8 fetch reply, a message whose key, value or any
// header key or value is not valid UTF-8 is written whole in base64 and marked "encoding":"base64" (the message
// object's own key; clients read `message.encoding ?? reply.encoding`); the other messages stay utf8. A pong state
// that is not UTF-8 likewise goes out in base64 with "encoding":"base64"; error messages and topics have each
// invalid byte replaced by U+FFFD. Control characters, '"' and '\' are escaped (RFC 8259 §7).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "web/pubsub_codec.h"

namespace kedge::web::pubsub {

inline constexpr std::size_t kMaxJsonCommandBytes = 1 << 20;  // a produce command carries records
inline constexpr std::size_t kMaxJsonDepth = 8;                // a produce command needs 5

// Decodes one text WebSocket message (see above). The result owns its strings; `text` is not retained.
std::variant<Command, CommandError> decode_json_command(std::string_view text,
                                                        std::size_t max_bytes = kMaxJsonCommandBytes);

std::string encode_json_error(std::int64_t sequence, std::int32_t code, std::string_view message);
std::string encode_json_pong(std::int64_t sequence, std::string_view state);
std::string encode_json_list_offset(std::int64_t sequence, std::int64_t offset);
std::string encode_json_fetch(std::int64_t sequence, std::string_view topic, std::int32_t partition,
                              std::span<const RecordView> records, PayloadEncoding encoding);

struct SubscribedPartition {
  std::string_view topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;  // where delivery starts (resolved)
};
std::string encode_json_subscribed(std::int64_t sequence, std::span<const SubscribedPartition> partitions);
std::string encode_json_unsubscribed(std::int64_t sequence);

struct ProduceOutcome {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int16_t error_code = 0;  // Kafka's (kafka_codec/errors.h); 0 = written
  std::string_view error;       // empty: written out as null
};
std::string encode_json_produce_result(std::int64_t sequence, std::string_view topic,
                                       std::span<const ProduceOutcome> outcomes);

}  // namespace kedge::web::pubsub
