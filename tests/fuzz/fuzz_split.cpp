// libFuzzer: split_request and merge_split_response (kafka_codec/split.h), the requests a policy's ACLs allow in
// part (Produce v3-12, Fetch v0-12) and the merge of kedge's refusals into the broker's response.
// Input: a verdict byte (bit i % 8 set: the i-th topic element the verdict is asked about is refused), a 2-byte
// big-endian request length L, L bytes of a request frame without its size prefix (header + body; the target
// prepends the size; fewer if the input ends), then the rest as a response frame without its size prefix.
// Seeds: the split golden vectors (tests/golden/split/, tests/fuzz/seed_corpus.py): every splittable API and
// version, with the case's broker response after the request.
// Invariants:
//   * not split: both outputs empty;
//   * split: the forwarded frame's size prefix describes it, it is smaller than the request and has its header,
//     and it splits again as all_allowed; the refused entries are in position order, within the topics asked,
//     and tile `entries`; the complementary verdict splits the same request into the other topics' entries;
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

// Refuses the n-th topic element asked about when bit n % 8 of `mask` is set (split_request asks once per
// element, in request order).
class MaskVerdict final : public TopicVerdict {
 public:
  explicit MaskVerdict(std::uint8_t mask) : mask_(mask) {}
  bool allowed(std::string_view) override { return ((mask_ >> (asked++ % 8)) & 1) == 0; }
  std::string refusal_message(std::string_view topic) override { return "refused: " + std::string(topic); }
  std::size_t asked = 0;

 private:
  std::uint8_t mask_;
};

class AllowAll final : public TopicVerdict {
 public:
  bool allowed(std::string_view) override { return true; }
  std::string refusal_message(std::string_view) override { __builtin_trap(); }  // nothing is refused
};

void set_size_prefix(std::vector<std::uint8_t>& frame) {
  const auto size = static_cast<std::uint32_t>(frame.size() - 4);
  for (int i = 0; i < 4; ++i) frame[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
}

// A whole response frame to `answer`'s api and version holding `topic_entries` (count + entries) between the
// fields each version has before and after its Responses array (ProduceResponse.json, FetchResponse.json).
std::vector<std::uint8_t> response_with(const SplitAnswer& answer, std::int32_t correlation_id,
                                        std::span<const std::uint8_t> topic_entries, std::size_t count) {
  const bool produce = answer.api_key == 0;
  const std::int16_t v = answer.api_version;
  const bool flexible = produce ? v >= 9 : v >= 12;
  std::vector<std::uint8_t> out(4, 0);
  wire::put_i32(out, correlation_id);
  if (flexible) wire::put_uvarint(out, 0);  // response header v1 tags
  if (!produce) {
    if (v >= 1) wire::put_i32(out, 0);  // ThrottleTimeMs
    if (v >= 7) {
      wire::put_i16(out, 0);  // ErrorCode
      wire::put_i32(out, 0);  // SessionId
    }
  }
  if (flexible) wire::put_uvarint(out, static_cast<std::uint32_t>(count + 1));
  else wire::put_i32(out, static_cast<std::int32_t>(count));
  out.insert(out.end(), topic_entries.begin(), topic_entries.end());
  if (produce) wire::put_i32(out, 0);  // ThrottleTimeMs
  if (flexible) wire::put_uvarint(out, 0);
  set_size_prefix(out);
  return out;
}

void check_refused(const SplitAnswer& answer, std::size_t topics) {
  if (answer.refused.empty()) __builtin_trap();
  std::size_t at = 0;
  for (std::size_t i = 0; i < answer.refused.size(); ++i) {
    const SplitAnswer::Refused& r = answer.refused[i];
    if (r.position >= topics || (i > 0 && r.position <= answer.refused[i - 1].position)) __builtin_trap();
    if (r.begin != at || r.end <= r.begin) __builtin_trap();
    at = r.end;
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
  std::vector<std::uint8_t> again;
  if (merge_split_response(out, nothing, max, again) != Errc::ok || again != out) __builtin_trap();
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::uint8_t mask = data[0];
  const std::size_t request_size = std::min<std::size_t>((std::size_t{data[1]} << 8) | data[2], size - 3);
  std::vector<std::uint8_t> request;
  wire::put_i32(request, static_cast<std::int32_t>(request_size));
  request.insert(request.end(), data + 3, data + 3 + request_size);
  std::vector<std::uint8_t> response;
  wire::put_i32(response, static_cast<std::int32_t>(size - 3 - request_size));
  response.insert(response.end(), data + 3 + request_size, data + size);

  MaskVerdict verdict(mask);
  std::vector<std::uint8_t> forwarded = {0xab};
  SplitAnswer answer;
  answer.entries = {0xab};
  const SplitResult result = split_request(request, verdict, forwarded, answer);
  if (result != SplitResult::split) {
    if (!forwarded.empty() || !answer.refused.empty() || !answer.entries.empty()) __builtin_trap();
    return 0;
  }
  const std::size_t topics = verdict.asked;
  if (!splittable(answer.api_key, answer.api_version)) __builtin_trap();
  if (forwarded.size() < 12 || forwarded.size() >= request.size()) __builtin_trap();
  if (static_cast<std::size_t>(static_cast<std::uint32_t>(wire::get_i32(forwarded.data()))) != forwarded.size() - 4) {
    __builtin_trap();
  }
  if (!std::equal(forwarded.begin() + 4, forwarded.begin() + 12, request.begin() + 4)) __builtin_trap();  // header
  check_refused(answer, topics);
  {
    AllowAll all;
    std::vector<std::uint8_t> again;
    SplitAnswer none;
    if (split_request(forwarded, all, again, none) != SplitResult::all_allowed || !again.empty()) __builtin_trap();
  }

  // The complementary verdict refuses exactly the topics the first one allowed: its entries stand for the broker's.
  MaskVerdict complement(static_cast<std::uint8_t>(~mask));
  std::vector<std::uint8_t> complement_forwarded;
  SplitAnswer broker;
  if (split_request(request, complement, complement_forwarded, broker) != SplitResult::split) __builtin_trap();
  check_refused(broker, topics);
  if (answer.refused.size() + broker.refused.size() != topics) __builtin_trap();
  const std::int32_t correlation_id = wire::get_i32(request.data() + 8);
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
