// libFuzzer: a namespace's rename path (kafka_codec/rename.h).
// Input: a mode byte, then
//   even: a request frame without its size prefix (header + body; the target prepends the size);
//   odd:  api key (int16), version (int16), coordinator key type (int8), then a response frame without its
//         size prefix.
// Seeds: the rename golden vectors (tests/golden/rename/) and the refusal vectors' requests (every API and
// version a policy reads).
// Invariants, requests: renamed -> the output's size prefix describes it, it walks with the same table into as
// many names, and stripping it gives the input back byte for byte (the round-trip property), or, where the
// input encoded a name's length in a longer varint than needed, a frame that prefixes to the same output. Responses: changed -> the output's size prefix describes
// it, it is no longer than the input and walks with the response table into as many names; unchanged -> `out`
// untouched.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/rename.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/wire.h"

namespace {
using namespace kedge::kafka;

const NamePrefixes kPrefixes{"team-a.", "grp-a.", "txn-a."};

std::size_t names_in(std::span<const std::uint8_t> frame, const schema::MessageSchema& s, std::int16_t version,
                     std::size_t body) {
  WalkResult walk;
  const bool read = s.leading_fields_only ? read_leading(s, version, frame, body, frame.size(), walk)
                                          : read_body(s, version, frame, body, frame.size(), walk);
  if (!read) __builtin_trap();
  return walk.names.size();
}

void check_request(const std::vector<std::uint8_t>& frame) {
  std::vector<std::uint8_t> out = {0xab};
  const RenameResult result = prefix_request_names(frame, kPrefixes, out);
  if (result.outcome != RenameResult::Outcome::renamed) return;
  if (static_cast<std::size_t>(wire::get_i32(out.data())) != out.size() - 4 || out.size() <= frame.size()) {
    __builtin_trap();
  }
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  if (!read_request_header(frame, api_key, version, correlation_id, body)) __builtin_trap();
  const schema::MessageSchema* s = schema::find_rename_request_schema(api_key);
  if (s == nullptr || names_in(out, *s, version, body) != names_in(frame, *s, version, body)) __builtin_trap();
  std::vector<std::uint8_t> back;
  const RenameResult stripped =
      rename_message(out, *s, version, body, result.coordinator_key_type, kPrefixes, RenameDirection::strip, back);
  if (stripped.outcome != RenameResult::Outcome::renamed) __builtin_trap();
  if (back == frame) return;
  // A name whose length the input encoded in a longer varint than needed (legal: Kafka's readers accept it)
  // comes back minimally encoded; prefixed again, it must give the same frame.
  std::vector<std::uint8_t> again;
  const RenameResult renamed_again =
      rename_message(back, *s, version, body, result.coordinator_key_type, kPrefixes, RenameDirection::prefix, again);
  if (renamed_again.outcome != RenameResult::Outcome::renamed || again != out) __builtin_trap();
}

void check_response(std::int16_t api_key, std::int16_t version, std::int8_t key_type,
                    const std::vector<std::uint8_t>& frame) {
  std::vector<std::uint8_t> out = {0xab};
  bool changed = false;
  const Errc errc = strip_response_names(frame, api_key, version, key_type, kPrefixes, out, changed);
  if (errc != Errc::ok || !changed) {
    if (changed || out.size() != 1 || out[0] != 0xab) __builtin_trap();
    return;
  }
  if (static_cast<std::size_t>(wire::get_i32(out.data())) != out.size() - 4 || out.size() >= frame.size()) {
    __builtin_trap();
  }
  const schema::MessageSchema* s = schema::find_rename_response_schema(api_key);
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  if (s == nullptr || !read_response_header(frame, api_key, version, correlation_id, body)) __builtin_trap();
  if (names_in(out, *s, version, body) != names_in(frame, *s, version, body)) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool response = (data[0] & 1) != 0;
  const std::size_t head = response ? 6 : 1;
  if (size < head) return 0;
  std::vector<std::uint8_t> frame;
  wire::put_i32(frame, static_cast<std::int32_t>(size - head));
  frame.insert(frame.end(), data + head, data + size);
  if (response) {
    check_response(static_cast<std::int16_t>(wire::get_i16(data + 1)), static_cast<std::int16_t>(wire::get_i16(data + 3)),
                   static_cast<std::int8_t>(data[5]), frame);
  } else {
    check_request(frame);
  }
  return 0;
}
