// Split requests (split.h). The request's topic array and the response's
// Responses array are Role::element_list fields of their tables (schema.cpp),
// so the engine hands back each element's byte range: elements move whole,
// nothing inside them is re-encoded.
#include "kafka_codec/split.h"

#include <algorithm>

#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/refusal_writer.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka {
namespace {

// The topic name field of a split request's topic element, and its partition index field.
struct TopicFields {
  std::string_view topic;
  std::string_view partition;
};
TopicFields topic_fields(std::int16_t api_key) {
  if (is(api_key, ApiKey::produce)) return {"Name", "Index"};
  return {"Topic", "Partition"};
}

void put_count(std::vector<std::uint8_t>& out, bool compact, std::size_t n) {
  if (compact) wire::put_uvarint(out, static_cast<std::uint32_t>(n + 1));
  else wire::put_i32(out, static_cast<std::int32_t>(n));
}

void append(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> frame, std::size_t begin, std::size_t end) {
  out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(begin),
             frame.begin() + static_cast<std::ptrdiff_t>(end));
}

void set_size_prefix(std::vector<std::uint8_t>& frame) {
  const auto size = static_cast<std::uint32_t>(frame.size() - 4);
  frame[0] = static_cast<std::uint8_t>(size >> 24);
  frame[1] = static_cast<std::uint8_t>(size >> 16);
  frame[2] = static_cast<std::uint8_t>(size >> 8);
  frame[3] = static_cast<std::uint8_t>(size);
}

}  // namespace

bool splittable(std::int16_t api_key, std::int16_t api_version) {
  if (is(api_key, ApiKey::produce)) return api_version >= 3 && api_version <= 12;
  if (is(api_key, ApiKey::fetch)) return api_version >= 0 && api_version <= 12;
  return false;
}

SplitResult split_request(std::span<const std::uint8_t> frame, TopicVerdict& verdict,
                          std::vector<std::uint8_t>& forwarded, SplitAnswer& answer) {
  forwarded.clear();
  answer = SplitAnswer{};
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  if (!read_request_header(frame, api_key, version, correlation_id, body) || !splittable(api_key, version)) {
    return SplitResult::unreadable;
  }
  const schema::MessageSchema* request = schema::find_request_schema(api_key);
  thread_local WalkResult walk;  // one split at a time per loop thread; buffers reused
  walk.clear();
  const bool read = request->leading_fields_only ? read_leading(*request, version, frame, body, frame.size(), walk)
                                                 : read_body(*request, version, frame, body, frame.size(), walk);
  if (!read || walk.lists.size() != 1) return SplitResult::unreadable;
  const ElementListRef& topics = walk.lists.front();
  const TopicFields fields = topic_fields(api_key);

  // Each element's topic and partitions: the values inside its byte range, in wire order.
  struct Element {
    const ValueRef* topic = nullptr;
    std::vector<std::int32_t> partitions;
    bool allowed = true;
  };
  std::vector<Element> elements(topics.elements.size());
  std::size_t next = 0;
  for (const ValueRef& v : walk.values) {
    while (next < topics.elements.size() && v.begin >= topics.elements[next].second) ++next;
    if (next == topics.elements.size()) break;
    if (v.begin < topics.elements[next].first) continue;  // before the list (TransactionalId, Acks)
    if (v.name == fields.topic && elements[next].topic == nullptr) elements[next].topic = &v;
    else if (v.name == fields.partition) elements[next].partitions.push_back(wire::get_i32(frame.data() + v.begin));
  }
  std::size_t refused = 0;
  for (Element& e : elements) {
    if (e.topic == nullptr) return SplitResult::unreadable;
    e.allowed = verdict.allowed(std::string_view(reinterpret_cast<const char*>(frame.data() + e.topic->begin),
                                                 e.topic->end - e.topic->begin));
    if (!e.allowed) ++refused;
  }
  if (refused == 0) return SplitResult::all_allowed;
  if (refused == elements.size()) return SplitResult::none_allowed;

  forwarded.reserve(frame.size());
  append(forwarded, frame, 0, topics.count_begin);
  put_count(forwarded, topics.compact, elements.size() - refused);
  const std::size_t list_end = topics.elements.back().second;
  answer.api_key = api_key;
  answer.api_version = version;
  refusal::BodyWriter entries(version, version >= schema::request_flexible_from(api_key));
  const bool produce = is(api_key, ApiKey::produce);
  for (std::size_t i = 0; i < elements.size(); ++i) {
    const Element& e = elements[i];
    if (e.allowed) {
      append(forwarded, frame, topics.elements[i].first, topics.elements[i].second);
      continue;
    }
    const std::string_view topic(reinterpret_cast<const char*>(frame.data() + e.topic->begin),
                                 e.topic->end - e.topic->begin);
    const std::string message = produce && version >= 8 ? verdict.refusal_message(topic) : std::string();
    const std::size_t begin = entries.out().size();
    entries.string(topic);
    entries.count(e.partitions.size());
    for (const std::int32_t partition : e.partitions) {
      entries.i32(partition);
      if (produce) refusal::write_refused_produce_partition_fields(entries, message);
      else refusal::write_refused_fetch_partition_fields(entries);
      entries.tags();
    }
    entries.tags();
    answer.refused.push_back({static_cast<std::uint32_t>(i), begin, entries.out().size(), std::string(topic)});
  }
  append(forwarded, frame, list_end, frame.size());
  set_size_prefix(forwarded);
  answer.entries = std::move(entries.out());
  return SplitResult::split;
}

Errc merge_split_response(std::span<const std::uint8_t> frame, const SplitAnswer& answer,
                          std::uint32_t max_frame_size, std::vector<std::uint8_t>& out) {
  out.clear();
  const schema::MessageSchema* response = schema::find_policy_response_schema(answer.api_key);
  if (response == nullptr || !response->valid.contains(answer.api_version)) return Errc::malformed_response;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  if (!read_response_header(frame, answer.api_key, answer.api_version, correlation_id, body)) {
    return Errc::malformed_response;
  }
  thread_local WalkResult walk;
  walk.clear();
  if (!read_body(*response, answer.api_version, frame, body, frame.size(), walk) || walk.lists.size() != 1) {
    return Errc::malformed_response;
  }
  // A Fetch refused whole by the broker (a session error) names no partition: the client retries it all.
  if (const ValueRef* error = find_value(walk, "ErrorCode"); error != nullptr && wire::get_i16(frame.data() + error->begin) != 0) {
    out.assign(frame.begin(), frame.end());
    return Errc::ok;
  }
  const ElementListRef& responses = walk.lists.front();
  const std::size_t total = responses.elements.size() + answer.refused.size();
  out.reserve(frame.size() + answer.entries.size() + 5);  // + a count that grows by up to 5 bytes
  append(out, frame, 0, responses.count_begin);
  put_count(out, responses.compact, total);
  std::size_t broker = 0;  // next broker entry
  std::size_t refused = 0; // next refused entry
  for (std::size_t position = 0; position < total; ++position) {
    const bool ours = refused < answer.refused.size() &&
                      (answer.refused[refused].position == position || broker == responses.elements.size());
    if (ours) {
      const SplitAnswer::Refused& r = answer.refused[refused++];
      append(out, answer.entries, r.begin, r.end);
    } else {
      append(out, frame, responses.elements[broker].first, responses.elements[broker].second);
      ++broker;
    }
  }
  append(out, frame, responses.elements.empty() ? responses.count_end : responses.elements.back().second, frame.size());
  if (out.size() - 4 > max_frame_size) {
    out.clear();
    return Errc::frame_too_large;
  }
  set_size_prefix(out);
  return Errc::ok;
}

}  // namespace kedge::kafka
