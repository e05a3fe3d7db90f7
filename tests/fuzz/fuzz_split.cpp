// libFuzzer: split_request, merge_split_response and encode_split_refusal (kafka_codec/split.h), the requests a
// policy's ACLs allow in part or not at all (Produce v3-13, Fetch v0-17, ShareFetch and ShareAcknowledge v1-2,
// DescribeProducers v0, and by name ListOffsets, OffsetCommit, OffsetForLeaderEpoch, DeleteRecords, TxnOffsetCommit,
// CreateTopics, DeleteTopics and CreatePartitions in their request tables' versions) and kedge's answers to them.
// Input: a verdict byte (bit i % 8 set: the i-th topic element the verdict is asked about is refused), an error
// byte (bit i % 8 set: that refused element is an id the policy cannot name, UNKNOWN_TOPIC_ID, where topics are
// named by id (Produce v13, Fetch v13+); TOPIC_AUTHORIZATION_FAILED otherwise), a 2-byte big-endian request length
// L, L bytes of a request frame without its size prefix (header + body; the target prepends the size; fewer if the
// input ends), then the rest as a response frame without its size prefix.
// Seeds: the split golden vectors (tests/golden/split/, tests/fuzz/seed_corpus.py): every splittable API and
// version, with the case's refused and unknown positions as the two bytes and its broker response after the request.
// Invariants:
//   * the verdict is asked about topics the way the request's version names them (16-byte ids from v13, names
//     before), and asked for a message only about a topic it refused, with the error it gave;
//   * unreadable or all_allowed: both outputs empty;
//   * none_allowed: nothing forwarded; the answer names every topic, in position order, each entry starting with
//     the topic as the version writes it and carrying the verdict's error; encode_split_refusal gives exactly the
//     response to the request's correlation id holding those entries and every other field at its default (its
//     size prefix describes it; merging nothing more into it gives it back), or frame_too_large past a small bound
//     with `out` empty;
//   * split: the forwarded frame's size prefix describes it, it is smaller than the request and has its header,
//     and it splits again as all_allowed; the refused entries are in position order, within the topics asked,
//     tile `entries` and carry the verdict's errors; the complementary verdict splits the same request into the
//     other topics' entries;
//   * merged into a response built from those complementary entries (a broker answering the forwarded request
//     with entries of the right topics and partitions, header and trailing fields per version), the merge is
//     exactly the client's topics in request order, each from its side;
//   * merged into the input's response bytes, under a roomy and a small bound: an error leaves `out` empty; on
//     success `out` is one frame within the bound whose size prefix describes it, either the response unchanged
//     (a Fetch top-level error) or the response plus exactly the refused entries and a count that grew by at
//     most 4 bytes, and merging it again with nothing refused gives it back unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/split.h"
#include "kafka_codec/wire.h"

namespace {

using namespace kedge::kafka;

// Refuses the n-th topic element asked about when bit n % 8 of `refused` is set (split_request asks once per
// element, in request order), with UNKNOWN_TOPIC_ID when topics are named by id and bit n % 8 of `unknown` is set.
// Records each answer and traps on a question asked the wrong way.
class MaskVerdict final : public TopicVerdict {
 public:
  MaskVerdict(std::uint8_t refused, std::uint8_t unknown, bool by_id) : refused_(refused), unknown_(unknown), by_id_(by_id) {}
  ErrorCode verdict(std::string_view topic, bool by_id) override {
    if (by_id != by_id_ || (by_id && topic.size() != 16)) __builtin_trap();
    const std::size_t n = errors.size() % 8;
    ErrorCode error = ErrorCode::none;
    if ((refused_ >> n) & 1) error = by_id && ((unknown_ >> n) & 1) ? ErrorCode::unknown_topic_id : ErrorCode::topic_authorization_failed;
    errors.push_back(error);
    topics.emplace_back(topic);
    return error;
  }
  std::string refusal_message(std::string_view topic, bool by_id, ErrorCode error) override {
    if (by_id != by_id_ || error == ErrorCode::none) __builtin_trap();
    // Asked about a topic it refused, with the error it gave.
    bool asked = false;
    for (std::size_t i = 0; i < topics.size(); ++i) asked = asked || (topics[i] == topic && errors[i] == error);
    if (!asked) __builtin_trap();
    return "refused: " + std::string(topic);
  }
  std::vector<ErrorCode> errors;   // per element asked about, in request order
  std::vector<std::string> topics;

 private:
  std::uint8_t refused_, unknown_;
  bool by_id_;
};

class AllowAll final : public TopicVerdict {
 public:
  ErrorCode verdict(std::string_view, bool) override { return ErrorCode::none; }
  std::string refusal_message(std::string_view, bool, ErrorCode) override { __builtin_trap(); }  // nothing is refused
};

void set_size_prefix(std::vector<std::uint8_t>& frame) {
  const auto size = static_cast<std::uint32_t>(frame.size() - 4);
  for (int i = 0; i < 4; ++i) frame[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
}

// Produce (0), Fetch (1), DescribeProducers (61), ShareFetch (78), ShareAcknowledge (79); by name: ListOffsets (2),
// OffsetCommit (8), CreateTopics (19), DeleteTopics (20), DeleteRecords (21), OffsetForLeaderEpoch (23),
// TxnOffsetCommit (28), CreatePartitions (37).
bool is_share(std::int16_t api_key) { return api_key == 78 || api_key == 79; }
bool flexible(std::int16_t api_key, std::int16_t version) {
  switch (api_key) {
    case 0: return version >= 9;
    case 1: return version >= 12;
    case 2: return version >= 6;
    case 8: return version >= 8;
    case 19: return version >= 5;
    case 20:
    case 23: return version >= 4;
    case 21:
    case 37: return version >= 2;
    case 28: return version >= 3;
    default: return true;  // DescribeProducers and the share APIs: every version
  }
}
// Topics named by id: Produce v13, Fetch v13+, the share APIs (KIP-516, KIP-932); the others by name.
bool names_by_id(std::int16_t api_key, std::int16_t version) {
  return is_share(api_key) || ((api_key == 0 || api_key == 1) && version >= 13);
}
// ThrottleTimeMs before the topic array, in the versions that have it (every API here but Produce, which has it after).
bool throttle_first(std::int16_t api_key, std::int16_t v) {
  switch (api_key) {
    case 1: return v >= 1;
    case 2:
    case 23: return v >= 2;
    case 8: return v >= 3;
    case 20: return v >= 1;
    default: return api_key != 0;
  }
}

// A whole response frame to `answer`'s api and version holding `topic_entries` (count + entries) between the
// fields each version has before and after its Responses array, at their defaults (ProduceResponse.json,
// FetchResponse.json, ShareFetchResponse.json, ShareAcknowledgeResponse.json, DescribeProducersResponse.json):
// what a broker answering those entries, or kedge answering a request whole, sends.
std::vector<std::uint8_t> response_with(const SplitAnswer& answer, std::int32_t correlation_id,
                                        std::span<const std::uint8_t> topic_entries, std::size_t count) {
  const bool produce = answer.api_key == 0;
  const std::int16_t v = answer.api_version;
  const bool flex = flexible(answer.api_key, v);
  std::vector<std::uint8_t> out(4, 0);
  wire::put_i32(out, correlation_id);
  if (flex) wire::put_uvarint(out, 0);  // response header v1 tags
  const bool share = is_share(answer.api_key);
  if (share) {
    wire::put_i32(out, 0);    // ThrottleTimeMs
    wire::put_i16(out, 0);    // ErrorCode
    wire::put_uvarint(out, 0);  // ErrorMessage: null
    if (answer.api_key == 78 || v >= 2) wire::put_i32(out, 0);  // AcquisitionLockTimeoutMs
  } else if (answer.api_key != 1) {
    if (throttle_first(answer.api_key, v)) wire::put_i32(out, 0);  // ThrottleTimeMs
  } else {
    if (v >= 1) wire::put_i32(out, 0);  // ThrottleTimeMs
    if (v >= 7) {
      wire::put_i16(out, 0);  // ErrorCode
      wire::put_i32(out, 0);  // SessionId
    }
  }
  if (flex) wire::put_uvarint(out, static_cast<std::uint32_t>(count + 1));
  else wire::put_i32(out, static_cast<std::int32_t>(count));
  out.insert(out.end(), topic_entries.begin(), topic_entries.end());
  if (produce) wire::put_i32(out, 0);  // ThrottleTimeMs
  if (share) wire::put_uvarint(out, 1);  // NodeEndpoints: none
  if (flex) wire::put_uvarint(out, 0);
  set_size_prefix(out);
  return out;
}

// The refused entries are in position order within `topics`, tile `entries`, and each starts with its topic as
// the version writes it (16 raw bytes by id, else a string) and, when it has partitions, carries the verdict's
// error in the first.
void check_refused(const SplitAnswer& answer, std::size_t topics, const std::vector<ErrorCode>& errors) {
  if (answer.refused.empty() || answer.by_id != names_by_id(answer.api_key, answer.api_version)) __builtin_trap();
  const bool flex = flexible(answer.api_key, answer.api_version);
  std::size_t at = 0;
  for (std::size_t i = 0; i < answer.refused.size(); ++i) {
    const SplitAnswer::Refused& r = answer.refused[i];
    if (r.position >= topics || (i > 0 && r.position <= answer.refused[i - 1].position)) __builtin_trap();
    if (r.begin != at || r.end <= r.begin) __builtin_trap();
    if (r.position >= errors.size() || r.error != errors[r.position] || r.error == ErrorCode::none) __builtin_trap();
    at = r.end;
    std::vector<std::uint8_t> topic;
    if (answer.by_id) {
      if (r.topic.size() != 16) __builtin_trap();
      wire::put_bytes(topic, r.topic);
    } else {
      wire::put_string(topic, r.topic, flex);
    }
    const std::span<const std::uint8_t> entry(answer.entries.data() + r.begin, r.end - r.begin);
    if (entry.size() < topic.size() || !std::equal(topic.begin(), topic.end(), entry.begin())) __builtin_trap();
    wire::Reader reader(entry, topic.size(), entry.size());
    std::int16_t error = 0;
    // Per-topic answers: the error follows the name (CreateTopics v7 and DeleteTopics v6: and a topic id).
    if (answer.api_key == 19 || answer.api_key == 20 || answer.api_key == 37) {
      if ((answer.api_key == 19 && answer.api_version >= 7) || (answer.api_key == 20 && answer.api_version >= 6)) {
        if (!reader.skip(16)) __builtin_trap();
      }
      if (!reader.read_i16(error) || error != code_of(r.error)) __builtin_trap();
      continue;
    }
    std::uint32_t count = 0;
    std::int32_t count32 = 0;
    if (flex ? !reader.read_uvarint(count) : !reader.read_i32(count32)) __builtin_trap();
    const std::int64_t partitions = flex ? std::int64_t{count} - 1 : count32;
    if (partitions < 0) __builtin_trap();
    if (partitions == 0) continue;
    std::int32_t index = 0;
    std::int64_t low_watermark = 0;
    const bool read = answer.api_key == 23   ? reader.read_i16(error) && reader.read_i32(index)  // error first
                      : answer.api_key == 21 ? reader.read_i32(index) && reader.read_i64(low_watermark) &&
                                                   reader.read_i16(error)
                                             : reader.read_i32(index) && reader.read_i16(error);
    if (!read || error != code_of(r.error)) __builtin_trap();
  }
  if (at != answer.entries.size()) __builtin_trap();
}

// Merges `response` under `max` and checks the result; returns whether it merged.
bool merge_checked(std::span<const std::uint8_t> response, const SplitAnswer& answer, std::uint32_t max,
                   std::vector<std::uint8_t>& out) {
  out.assign({0xab});
  const Errc e = merge_split_response(response, answer, max, out);
  if (e != Errc::ok) {
    if (!out.empty()) __builtin_trap();
    return false;
  }
  if (out.size() < 8 || static_cast<std::size_t>(static_cast<std::uint32_t>(wire::get_i32(out.data()))) != out.size() - 4) {
    __builtin_trap();
  }
  if (out.size() - 4 > max && !std::equal(out.begin(), out.end(), response.begin(), response.end())) __builtin_trap();
  if (std::equal(out.begin() + 4, out.end(), response.begin() + 4, response.end())) return true;  // unchanged
  const std::size_t grown = out.size() - response.size();
  if (out.size() < response.size() + answer.entries.size() || grown > answer.entries.size() + 4) __builtin_trap();
  // The merged frame reads as the same response: merged again with nothing refused, it is unchanged.
  SplitAnswer nothing;
  nothing.api_key = answer.api_key;
  nothing.api_version = answer.api_version;
  nothing.by_id = answer.by_id;
  std::vector<std::uint8_t> again;
  if (merge_split_response(out, nothing, max, again) != Errc::ok || again != out) __builtin_trap();
  return true;
}

// kedge's whole answer to a request none of whose topics is allowed.
void check_whole_answer(const SplitAnswer& answer, std::int32_t correlation_id, std::size_t topics) {
  const std::vector<std::uint8_t> expected = response_with(answer, correlation_id, answer.entries, topics);
  std::vector<std::uint8_t> out = {0xab};
  if (encode_split_refusal(answer, correlation_id, 1u << 24, out) != Errc::ok || out != expected) __builtin_trap();
  // It reads as the response it is: merging nothing more into it gives it back.
  SplitAnswer nothing;
  nothing.api_key = answer.api_key;
  nothing.api_version = answer.api_version;
  nothing.by_id = answer.by_id;
  std::vector<std::uint8_t> again;
  if (merge_split_response(out, nothing, 1u << 24, again) != Errc::ok || again != out) __builtin_trap();
  // Under a bound larger answers exceed.
  constexpr std::uint32_t kSmall = 256;
  std::vector<std::uint8_t> small = {0xab};
  const Errc e = encode_split_refusal(answer, correlation_id, kSmall, small);
  if (expected.size() - 4 > kSmall ? (e != Errc::frame_too_large || !small.empty()) : (e != Errc::ok || small != expected)) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::uint8_t mask = data[0];
  const std::uint8_t unknown = data[1];
  const std::size_t request_size = std::min<std::size_t>((std::size_t{data[2]} << 8) | data[3], size - 4);
  std::vector<std::uint8_t> request;
  wire::put_i32(request, static_cast<std::int32_t>(request_size));
  request.insert(request.end(), data + 4, data + 4 + request_size);
  std::vector<std::uint8_t> response;
  wire::put_i32(response, static_cast<std::int32_t>(size - 4 - request_size));
  response.insert(response.end(), data + 4 + request_size, data + size);

  // The api and version the header claims: the verdict checks the way topics are named by them (Produce v13,
  // Fetch v13+, the share APIs by id).
  const std::int16_t api_key = request.size() >= 6 ? wire::get_i16(request.data() + 4) : 0;
  const std::int16_t version = request.size() >= 8 ? wire::get_i16(request.data() + 6) : 0;
  const bool by_id = names_by_id(api_key, version);
  MaskVerdict verdict(mask, unknown, by_id);
  std::vector<std::uint8_t> forwarded = {0xab};
  SplitAnswer answer;
  answer.entries = {0xab};
  const SplitResult result = split_request(request, verdict, forwarded, answer);
  const std::size_t topics = verdict.errors.size();
  if (result == SplitResult::unreadable || result == SplitResult::all_allowed) {
    if (!forwarded.empty() || !answer.refused.empty() || !answer.entries.empty()) __builtin_trap();
    return 0;
  }
  if (!splittable(answer.api_key, answer.api_version) || answer.api_version != version) __builtin_trap();
  const std::int32_t correlation_id = wire::get_i32(request.data() + 8);
  check_refused(answer, topics, verdict.errors);
  if (result == SplitResult::none_allowed) {
    if (!forwarded.empty() || answer.refused.size() != topics) __builtin_trap();
    check_whole_answer(answer, correlation_id, topics);
    return 0;
  }
  if (result != SplitResult::split) __builtin_trap();
  if (forwarded.size() < 12 || forwarded.size() >= request.size()) __builtin_trap();
  if (static_cast<std::size_t>(static_cast<std::uint32_t>(wire::get_i32(forwarded.data()))) != forwarded.size() - 4) {
    __builtin_trap();
  }
  if (!std::equal(forwarded.begin() + 4, forwarded.begin() + 12, request.begin() + 4)) __builtin_trap();  // header
  {
    AllowAll all;
    std::vector<std::uint8_t> again;
    SplitAnswer none;
    if (split_request(forwarded, all, again, none) != SplitResult::all_allowed || !again.empty()) __builtin_trap();
  }

  // The complementary verdict refuses exactly the topics the first one allowed: its entries stand for the broker's.
  MaskVerdict complement(static_cast<std::uint8_t>(~mask), unknown, by_id);
  std::vector<std::uint8_t> complement_forwarded;
  SplitAnswer broker;
  if (split_request(request, complement, complement_forwarded, broker) != SplitResult::split) __builtin_trap();
  check_refused(broker, topics, complement.errors);
  if (answer.refused.size() + broker.refused.size() != topics) __builtin_trap();
  const std::vector<std::uint8_t> broker_response =
      response_with(answer, correlation_id, broker.entries, broker.refused.size());
  std::vector<std::uint8_t> in_order;  // every topic's entry, in request position order
  for (std::size_t a = 0, b = 0; a + b < topics;) {
    const bool ours = a < answer.refused.size() && answer.refused[a].position == a + b;
    if (!ours && b >= broker.refused.size()) __builtin_trap();  // a position neither verdict refused
    const SplitAnswer& side = ours ? answer : broker;
    const SplitAnswer::Refused& r = side.refused[ours ? a++ : b++];
    if (r.position != a + b - 1) __builtin_trap();
    in_order.insert(in_order.end(), side.entries.begin() + static_cast<std::ptrdiff_t>(r.begin),
                    side.entries.begin() + static_cast<std::ptrdiff_t>(r.end));
  }
  const std::vector<std::uint8_t> expected = response_with(answer, correlation_id, in_order, topics);
  std::vector<std::uint8_t> merged;
  if (!merge_checked(broker_response, answer, 1u << 24, merged) || merged != expected) __builtin_trap();

  // The input's own response bytes, under a roomy bound and one that larger merges exceed.
  for (const std::uint32_t max : {1u << 20, 256u}) merge_checked(response, answer, max, merged);
  return 0;
}
