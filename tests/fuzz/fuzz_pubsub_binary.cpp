// libFuzzer: decode_binary_command (web/pubsub_codec.h) on arbitrary bytes, and the PubSubResp encoders on what
// it returns. Input: the binary WebSocket message as is.
// Invariants (any failure traps):
//   - a Command holds a valid Kafka topic, partition >= 0, fetch offset >= 0, timestamp >= -2, a bounded state;
//   - a CommandError has a message; bytes libprotobuf cannot parse give sequence 0;
//   - each encoder's output parses back with the generated PubSubResp to the same values: an error message
//     built from the input bytes (UTF-8 repaired), a pong echoing the state, a fetch whose key and value are the
//     input bytes (a null key reads back empty, as proto3 says), a list_offset;
//   - a smaller max_bytes than the input refuses it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "web/pubsub.pb.h"
#include "web/pubsub_codec.h"
#include "web/utf8.h"

namespace {

using namespace kedge::web::pubsub;

void require(bool condition) {
  if (!condition) __builtin_trap();
}

wire::PubSubResp parse_back(const std::vector<std::uint8_t>& bytes, std::int64_t sequence) {
  wire::PubSubResp response;
  require(response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
  require(response.sequence() == sequence);
  return response;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = decode_binary_command(input);
  std::int64_t sequence = 0;
  if (const auto* error = std::get_if<CommandError>(&result)) {
    require(!error->message.empty());
    sequence = error->sequence;
    wire::PubSubReq request;
    if (!request.ParseFromArray(data, static_cast<int>(size))) require(error->sequence == 0);
  } else {
    const Command& command = std::get<Command>(result);
    sequence = command.sequence;
    if (const auto* fetch = std::get_if<Fetch>(&command.body)) {
      require(!topic_name_problem(fetch->topic) && fetch->partition >= 0 && fetch->offset >= 0);
    } else if (const auto* list = std::get_if<ListOffset>(&command.body)) {
      require(!topic_name_problem(list->topic) && list->partition >= 0 && list->timestamp >= -2);
    } else if (const auto* ping = std::get_if<Ping>(&command.body)) {
      require(ping->state.size() <= kMaxPingStateBytes);
      const auto pong = parse_back(encode_binary_pong(sequence, ping->state), sequence);
      require(pong.has_pong_resp() && pong.pong_resp().state() == ping->state);
    } else {
      require(std::holds_alternative<Empty>(command.body));
    }
    if (size > 0) require(std::holds_alternative<CommandError>(decode_binary_command(input, size - 1)));
  }

  const auto error = parse_back(encode_binary_error(sequence, -7, text), sequence);
  require(error.has_error_resp() && error.error_resp().code() == -7);
  require(error.error_resp().message().size() == size && kedge::web::is_valid_utf8(error.error_resp().message()));
  if (kedge::web::is_valid_utf8(text)) require(error.error_resp().message() == text);

  const std::string_view half = text.substr(0, size / 2);
  const RecordView records[] = {{sequence, -1, std::nullopt, text}, {0, sequence, half, std::nullopt}};
  const auto fetch = parse_back(encode_binary_fetch(sequence, records), sequence);
  require(fetch.has_kafka_fetch_resp() && fetch.kafka_fetch_resp().messages_size() == 2);
  const auto& first = fetch.kafka_fetch_resp().messages(0);
  const auto& second = fetch.kafka_fetch_resp().messages(1);
  require(first.offset() == sequence && first.timestamp() == -1 && first.key().empty() && first.value() == text);
  require(second.offset() == 0 && second.timestamp() == sequence && second.key() == half && second.value().empty());

  const auto list = parse_back(encode_binary_list_offset(sequence, static_cast<std::int64_t>(size) - 3), sequence);
  require(list.has_kafka_list_offset_resp() &&
          list.kafka_list_offset_resp().offset() == static_cast<std::int64_t>(size) - 3);
  return 0;
}
