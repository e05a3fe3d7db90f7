// libFuzzer: what a policy's ACLs read of the client's traffic: read_request_resources, request_resources,
// metadata_requests_all_topics, offset_fetch_topics_asked and read_produce_prefix (kafka_codec/refusal.h) on
// requests, filter_metadata_topics, filter_list_groups and filter_offset_fetch_topics (kafka_codec/topic_filter.h)
// on Metadata, ListGroups and OffsetFetch responses.
// Input: a mode byte, then
//   mode even: a request frame without its size prefix (header + body; the target prepends the size);
//   mode & 3 == 1: a version byte (Metadata v0-13: b % 14; (b / 14) odd: the topics were asked by id), a filter byte (bit 0: listing; the other bits pick which
//              names the filter denies), then a Metadata response frame without its size prefix;
//   mode & 7 == 3: a version byte (ListGroups v0-5: b % 6), a filter byte (which group ids the filter denies),
//              then a ListGroups response frame without its size prefix;
//   mode & 7 == 7: a version byte (OffsetFetch v0-9: b % 10), a filter byte (bit 7: the request named its topics,
//              else it asked all; the other bits pick which topic names the filter denies), then an OffsetFetch
//              response frame without its size prefix.
// Seeds: tests/golden/requests/, tests/golden/topic_filter/, tests/golden/group_filter/ and
// tests/golden/offset_filter/ (tests/fuzz/seed_corpus.py).
// Invariants: resources have a known type, appear once each and are no more numerous than the frame's bytes;
// request_resources is the same list (or empty); an OffsetFetch request asks all or by name (never by id), by name
// only when it parses and names a topic; a filtered response is one whole frame whose size prefix
// describes it, it filters again without error (a listing has nothing left to refuse; named entries are refused
// again, to the same bytes); when nothing is refused, the output is untouched. A filtered OffsetFetch response is
// moreover no larger than the broker's (a listing smaller), and a filter allowing every topic leaves it unchanged;
// asked all it is what asked by id gives; asked by name it keeps every topic element, in order (the filter is asked
// about the same names), and filters again into the same bytes (a refused topic's entry is refused again, already
// answered so).
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka_codec/refusal.h"
#include "kafka_codec/topic_filter.h"
#include "kafka_codec/wire.h"

namespace {

using namespace kedge::kafka;

bool known_type(std::string_view t) {
  for (const std::string_view k : {"topic", "topic_id", "group", "transactional_id", "share_group_key", "broker",
                                   "broker_logger", "client_metrics", "config_resource"}) {
    if (t == k) return true;
  }
  return false;
}

bool inside(std::span<const std::uint8_t> frame, std::string_view v) {
  const auto* begin = reinterpret_cast<const char*>(frame.data());
  return v.empty() || (v.data() >= begin && v.data() + v.size() <= begin + frame.size());
}

void requests(std::span<const std::uint8_t> frame) {
  // A Produce's start (refusal.h read_produce_prefix): its views lie inside the bytes it was given.
  if (const auto prefix = read_produce_prefix(frame)) {
    if (!inside(frame, prefix->topic)) __builtin_trap();
    if (prefix->transactional_id && !inside(frame, *prefix->transactional_id)) __builtin_trap();
  }
  const auto resources = read_request_resources(frame);
  const auto listed = request_resources(frame);
  (void)metadata_requests_all_topics(frame);
  const TopicsAsked offset_asked = offset_fetch_topics_asked(frame);
  if (offset_asked == TopicsAsked::by_id) __builtin_trap();
  if (!resources) {
    if (!listed.empty() || offset_asked != TopicsAsked::all) __builtin_trap();
    return;
  }
  if (offset_asked == TopicsAsked::by_name) {
    bool topic = false;
    for (const RequestResource& r : *resources) topic = topic || r.type == "topic";
    if (!topic) __builtin_trap();
  }
  if (listed != *resources) __builtin_trap();
  if (resources->size() > frame.size()) __builtin_trap();
  std::set<std::pair<std::string, std::string>> seen;
  for (const RequestResource& r : *resources) {
    if (!known_type(r.type)) __builtin_trap();
    if (r.name.size() > frame.size()) __builtin_trap();
    if (!seen.emplace(std::string(r.type), r.name).second) __builtin_trap();
  }
}

struct SeededFilter final : TopicFilter {
  explicit SeededFilter(std::uint8_t s) : seed(s) {}
  bool describable(std::string_view name) override {
    if (seed == 0) return true;
    if (seed == 0x7f) return false;
    unsigned h = static_cast<unsigned>(name.size());
    for (const char c : name) h = h * 31 + static_cast<unsigned char>(c);
    return (h % 7) >= (seed % 7);
  }
  std::uint8_t seed;
};

void metadata_response(std::int16_t version, TopicsAsked asked, std::uint8_t seed, std::span<const std::uint8_t> frame) {
  const bool listing = asked == TopicsAsked::all;
  SeededFilter filter(seed);
  std::vector<std::uint8_t> out = {0xab};
  bool changed = true;
  const Errc e = filter_metadata_topics(frame, version, asked, filter, out, changed);
  if (e != Errc::ok || !changed) {
    if (changed || out.size() != 1 || out[0] != 0xab) __builtin_trap();
    return;
  }
  if (out.size() < 8 || static_cast<std::size_t>(wire::get_i32(out.data())) != out.size() - 4) __builtin_trap();
  if (listing && out.size() > frame.size()) __builtin_trap();  // a listing only removes topics
  SeededFilter again(seed);
  std::vector<std::uint8_t> second = {0xcd};
  bool changed_again = true;
  if (filter_metadata_topics(out, version, asked, again, second, changed_again) != Errc::ok) __builtin_trap();
  if (listing && (changed_again || second != std::vector<std::uint8_t>{0xcd})) __builtin_trap();
  if (!listing && changed_again && second != out) __builtin_trap();
}

struct SeededGroups final : GroupFilter {
  explicit SeededGroups(std::uint8_t s) : names(s) {}
  bool group_describable(std::string_view id) override { return names.describable(id); }
  SeededFilter names;
};

// A filtered listing is one whole frame no larger than the broker's, and filters again to nothing more.
void list_groups_response(std::int16_t version, std::uint8_t seed, std::span<const std::uint8_t> frame) {
  SeededGroups filter(seed);
  std::vector<std::uint8_t> out = {0xab};
  bool changed = true;
  const Errc e = filter_list_groups(frame, version, filter, out, changed);
  if (e != Errc::ok || !changed) {
    if (changed || out.size() != 1 || out[0] != 0xab) __builtin_trap();
    return;
  }
  if (out.size() < 8 || static_cast<std::size_t>(wire::get_i32(out.data())) != out.size() - 4) __builtin_trap();
  if (out.size() > frame.size()) __builtin_trap();
  SeededGroups again(seed);
  std::vector<std::uint8_t> second = {0xcd};
  bool changed_again = true;
  if (filter_list_groups(out, version, again, second, changed_again) != Errc::ok) __builtin_trap();
  if (changed_again || second != std::vector<std::uint8_t>{0xcd}) __builtin_trap();
}

// A SeededFilter that records the names it is asked about, in order.
struct RecordingFilter final : TopicFilter {
  explicit RecordingFilter(std::uint8_t s) : filter(s) {}
  bool describable(std::string_view name) override {
    names.emplace_back(name);
    return filter.describable(name);
  }
  SeededFilter filter;
  std::vector<std::string> names;
};

// A filtered OffsetFetch response is one whole frame no larger than the broker's and a filter allowing every topic
// changes nothing (and touches no output). Asked all (a listing): smaller, the same as asked by id, and it filters
// again to nothing more. Asked by name: the same topic elements in the same order, and it filters again into the
// same bytes.
void offset_fetch_response(std::int16_t version, TopicsAsked asked, std::uint8_t seed,
                           std::span<const std::uint8_t> frame) {
  const bool listing = asked == TopicsAsked::all;
  SeededFilter allow_all(0);
  std::vector<std::uint8_t> untouched = {0xef};
  bool changed_all = true;
  const Errc parsed = filter_offset_fetch_topics(frame, version, asked, allow_all, untouched, changed_all);
  if (changed_all || untouched != std::vector<std::uint8_t>{0xef}) __builtin_trap();
  RecordingFilter filter(seed);
  std::vector<std::uint8_t> out = {0xab};
  bool changed = true;
  const Errc e = filter_offset_fetch_topics(frame, version, asked, filter, out, changed);
  if (e != parsed) __builtin_trap();  // whether the frame parses depends neither on the filter nor on `asked`
  if (listing) {  // asked by id is answered as a listing
    SeededFilter by_id(seed);
    std::vector<std::uint8_t> by_id_out = {0xab};
    bool by_id_changed = !changed;
    if (filter_offset_fetch_topics(frame, version, TopicsAsked::by_id, by_id, by_id_out, by_id_changed) != e) {
      __builtin_trap();
    }
    if (by_id_changed != changed || by_id_out != out) __builtin_trap();
  }
  if (e != Errc::ok || !changed) {
    if (changed || out.size() != 1 || out[0] != 0xab) __builtin_trap();
    return;
  }
  if (out.size() < 8 || static_cast<std::size_t>(wire::get_i32(out.data())) != out.size() - 4) __builtin_trap();
  // A listing drops at least one topic (a name, a partition count); an entry answered unauthorized is no larger
  // than the broker's (same name and partition count, fixed-size fields, an empty Metadata, no tags).
  if (listing ? out.size() >= frame.size() : out.size() > frame.size()) __builtin_trap();
  RecordingFilter again(seed);
  std::vector<std::uint8_t> second = {0xcd};
  bool changed_again = listing;
  if (filter_offset_fetch_topics(out, version, asked, again, second, changed_again) != Errc::ok) __builtin_trap();
  if (listing) {
    if (changed_again || second != std::vector<std::uint8_t>{0xcd}) __builtin_trap();
  } else {
    if (again.names != filter.names) __builtin_trap();  // every topic element kept, in order
    if (!changed_again || second != out) __builtin_trap();
  }
  SeededFilter all_again(0);
  std::vector<std::uint8_t> third = {0xcd};
  bool changed_third = true;
  if (filter_offset_fetch_topics(out, version, asked, all_again, third, changed_third) != Errc::ok) __builtin_trap();
  if (changed_third || third != std::vector<std::uint8_t>{0xcd}) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  if ((mode & 1) == 0) {
    std::vector<std::uint8_t> frame;
    wire::put_i32(frame, static_cast<std::int32_t>(size - 1));
    frame.insert(frame.end(), data + 1, data + size);
    requests(frame);
    // The same bytes without a size prefix that matches: never read past the span.
    requests(std::span<const std::uint8_t>(frame.data(), frame.size() / 2));
    return 0;
  }
  if (size < 3) return 0;
  if ((mode & 3) == 3) {
    std::vector<std::uint8_t> frame;
    wire::put_i32(frame, static_cast<std::int32_t>(size - 3));
    frame.insert(frame.end(), data + 3, data + size);
    if ((mode & 7) == 7) {
      const TopicsAsked asked = (data[2] & 0x80) != 0 ? TopicsAsked::by_name : TopicsAsked::all;
      offset_fetch_response(static_cast<std::int16_t>(data[1] % 10), asked, static_cast<std::uint8_t>(data[2] & 0x7f),
                            frame);
    }
    else list_groups_response(static_cast<std::int16_t>(data[1] % 6), data[2], frame);
    return 0;
  }
  const auto version = static_cast<std::int16_t>(data[1] % 14);
  const bool listing = (data[2] & 1) != 0;
  const bool by_id = (data[1] / 14) % 2 == 1;  // the request named its topics by id (v12+)
  const TopicsAsked asked = listing ? TopicsAsked::all : by_id ? TopicsAsked::by_id : TopicsAsked::by_name;
  const auto seed = static_cast<std::uint8_t>(data[2] >> 1);
  std::vector<std::uint8_t> frame;
  wire::put_i32(frame, static_cast<std::int32_t>(size - 3));
  frame.insert(frame.end(), data + 3, data + size);
  metadata_response(version, asked, seed, frame);
  return 0;
}
