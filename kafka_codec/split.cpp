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
bool is_share(std::int16_t api_key) {
  return is(api_key, ApiKey::share_fetch) || is(api_key, ApiKey::share_acknowledge);
}
// Produce v13 and Fetch v13+ name topics by id (KIP-516), the share APIs always (KIP-932).
bool names_by_id(std::int16_t api_key, std::int16_t version) { return is_share(api_key) || version >= 13; }
// The APIs whose refused topic elements are answered by their whole-refusal
// writer (refusal_writer.h) given that element's values alone: each topic
// entry of their responses depends only on the request's topic element.
bool answered_by_writer(std::int16_t api_key) {
  switch (static_cast<ApiKey>(api_key)) {
    case ApiKey::list_offsets:
    case ApiKey::offset_commit:
    case ApiKey::offset_for_leader_epoch:
    case ApiKey::delete_records:
    case ApiKey::txn_offset_commit:
    case ApiKey::create_topics:
    case ApiKey::delete_topics:
    case ApiKey::create_partitions: return true;
    default: return false;
  }
}
TopicFields topic_fields(std::int16_t api_key, std::int16_t version) {
  if (is_share(api_key)) return {"TopicId", "PartitionIndex"};
  if (is(api_key, ApiKey::offset_for_leader_epoch)) return {"Topic", "Partition"};
  if (is(api_key, ApiKey::delete_topics)) return {version >= 6 ? "Name" : "TopicNames", {}};
  if (answered_by_writer(api_key)) return {"Name", "PartitionIndex"};
  if (is(api_key, ApiKey::describe_producers)) return {"Name", "PartitionIndexes"};
  if (names_by_id(api_key, version)) return {"TopicId", is(api_key, ApiKey::produce) ? "Index" : "Partition"};
  if (is(api_key, ApiKey::produce)) return {"Name", "Index"};
  return {"Topic", "Partition"};
}
// Whether a refused entry carries the verdict's message: every version with
// an ErrorMessage per partition (Produce v8+, the share APIs, DescribeProducers).
bool carries_message(std::int16_t api_key, std::int16_t version) {
  if (is(api_key, ApiKey::produce)) return version >= 8;
  return !is(api_key, ApiKey::fetch);
}

// The rest of a refused partition's response entry after its index, in the
// request's API and version. `acknowledged`: a ShareFetch partition carried
// acknowledgement batches, which fail with it.
void write_refused_partition(refusal::BodyWriter& w, std::int16_t api_key, std::string_view message, ErrorCode error,
                             bool acknowledged) {
  switch (static_cast<ApiKey>(api_key)) {
    case ApiKey::produce: return refusal::write_refused_produce_partition_fields(w, message, error);
    case ApiKey::fetch: return refusal::write_refused_fetch_partition_fields(w, error);
    case ApiKey::share_fetch:
      return refusal::write_refused_share_fetch_partition_fields(w, message, error, acknowledged);
    case ApiKey::share_acknowledge: return refusal::write_refused_share_acknowledge_partition_fields(w, message, error);
    default: return refusal::write_refused_describe_producers_partition_fields(w, message, error);
  }
}

void put_count(std::vector<std::uint8_t>& out, bool compact, std::size_t n) {
  if (compact) wire::put_uvarint(out, static_cast<std::uint32_t>(n + 1));
  else wire::put_i32(out, static_cast<std::int32_t>(n));
}

void append(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> frame, std::size_t begin, std::size_t end) {
  out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(begin),
             frame.begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace

bool splittable(std::int16_t api_key, std::int16_t api_version) {
  if (is(api_key, ApiKey::produce)) return api_version >= 3 && api_version <= 13;
  if (is(api_key, ApiKey::fetch)) return api_version >= 0 && api_version <= 17;
  if (is_share(api_key)) return api_version >= 1 && api_version <= 2;
  if (is(api_key, ApiKey::describe_producers)) return api_version == 0;
  if (!answered_by_writer(api_key)) return false;
  // The versions of both the request table and the merged response's.
  const schema::MessageSchema* request = schema::find_request_schema(api_key);
  const schema::MessageSchema* response = schema::find_policy_response_schema(api_key);
  return request != nullptr && response != nullptr && request->valid.contains(api_version) &&
         response->valid.contains(api_version);
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
  const TopicFields fields = topic_fields(api_key, version);
  const bool by_id = names_by_id(api_key, version);

  // Each element's topic, and the values inside its byte range (its partition
  // indexes follow the topic in wire order). Called for every Produce and
  // Fetch of a cluster with ACLs: nothing is allocated once the buffers grew.
  struct Element {
    const ValueRef* topic = nullptr;
    std::size_t values_begin = 0, values_end = 0;  // indexes into walk.values
    ErrorCode error = ErrorCode::none;
  };
  thread_local std::vector<Element> elements;
  elements.assign(topics.elements.size(), Element{});
  std::size_t next = 0;
  for (std::size_t i = 0; i < walk.values.size(); ++i) {
    const ValueRef& v = walk.values[i];
    while (next < topics.elements.size() && v.begin >= topics.elements[next].second) ++next;
    if (next == topics.elements.size()) break;
    if (v.begin < topics.elements[next].first) continue;  // before the list (TransactionalId, Acks)
    Element& e = elements[next];
    if (e.values_end == 0) e.values_begin = i;
    e.values_end = i + 1;
    if (v.name == fields.topic && e.topic == nullptr) e.topic = &v;
  }
  const auto topic_of = [&](const Element& e) {
    return std::string_view(reinterpret_cast<const char*>(frame.data() + e.topic->begin), e.topic->end - e.topic->begin);
  };
  std::size_t refused = 0;
  for (Element& e : elements) {
    // A null name (DeleteTopics v6 naming a topic by id) is decided whole (acl_refusal).
    if (e.topic == nullptr || e.topic->null) return SplitResult::unreadable;
    e.error = verdict.verdict(topic_of(e), by_id);
    if (e.error != ErrorCode::none) ++refused;
  }
  if (refused == 0) return SplitResult::all_allowed;
  const bool none_allowed = refused == elements.size();

  answer.api_key = api_key;
  answer.api_version = version;
  answer.by_id = by_id;
  const bool flexible = version >= schema::request_flexible_from(api_key);
  refusal::BodyWriter entries(version, flexible);
  const refusal::Writer writer = answered_by_writer(api_key) ? refusal::writer_for(api_key) : nullptr;
  const schema::MessageSchema* response = writer != nullptr ? schema::find_policy_response_schema(api_key) : nullptr;
  const bool messages = carries_message(api_key, version);
  if (!none_allowed) {
    forwarded.reserve(frame.size());
    append(forwarded, frame, 0, topics.count_begin);
    put_count(forwarded, topics.compact, elements.size() - refused);
  }
  for (std::size_t i = 0; i < elements.size(); ++i) {
    const Element& e = elements[i];
    if (e.error == ErrorCode::none) {
      append(forwarded, frame, topics.elements[i].first, topics.elements[i].second);
      continue;
    }
    const std::string_view topic = topic_of(e);
    const std::string message = messages ? verdict.refusal_message(topic, by_id, e.error) : std::string();
    const std::size_t begin = entries.out().size();
    if (writer != nullptr) {
      // The writer's whole refusal of a request naming only this element: its one topic entry.
      refusal::BodyWriter one(version, flexible);
      writer(one, refusal::Values(frame, std::span<const ValueRef>(walk.values).subspan(e.values_begin, e.values_end - e.values_begin)),
             refusal::Answer{message, e.error == ErrorCode::invalid_topic_exception ? RefusedResource::invalid_topic
                                                                                   : RefusedResource::topic});
      thread_local WalkResult written;
      written.clear();
      if (!read_body(*response, version, one.out(), 0, one.out().size(), written) || written.lists.size() != 1 ||
          written.lists.front().elements.size() != 1) {
        return SplitResult::unreadable;  // the writer and the response table disagree: answered whole
      }
      const auto [entry_begin, entry_end] = written.lists.front().elements.front();
      append(entries.out(), one.out(), entry_begin, entry_end);
      answer.refused.push_back({static_cast<std::uint32_t>(i), begin, entries.out().size(), std::string(topic), e.error});
      continue;
    }
    if (by_id) entries.raw(topic);
    else entries.string(topic);
    std::size_t partitions = 0;
    for (std::size_t v = e.values_begin; v < e.values_end; ++v) partitions += walk.values[v].name == fields.partition;
    entries.count(partitions);
    for (std::size_t v = e.values_begin; v < e.values_end; ++v) {
      if (walk.values[v].name != fields.partition) continue;
      entries.i32(wire::get_i32(frame.data() + walk.values[v].begin));
      // A ShareFetch partition's acknowledgement batches (FirstOffset values) follow its index.
      const bool acknowledged = v + 1 < e.values_end && walk.values[v + 1].name == "FirstOffset";
      write_refused_partition(entries, api_key, message, e.error, acknowledged);
      entries.tags();
    }
    entries.tags();
    answer.refused.push_back({static_cast<std::uint32_t>(i), begin, entries.out().size(), std::string(topic), e.error});
  }
  answer.entries = std::move(entries.out());
  if (none_allowed) return SplitResult::none_allowed;
  append(forwarded, frame, topics.elements.back().second, frame.size());
  wire::set_size_prefix(forwarded);
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
  wire::set_size_prefix(out);
  return Errc::ok;
}

Errc encode_split_refusal(const SplitAnswer& answer, std::int32_t correlation_id, std::uint32_t max_frame_size,
                          std::vector<std::uint8_t>& out) {
  out.clear();
  // The broker's answer had it been forwarded with no topics: merging every
  // refused entry into it gives the whole response, in request order.
  const bool flexible = answer.api_version >= schema::request_flexible_from(answer.api_key);
  std::vector<std::uint8_t> empty;
  wire::put_i32(empty, 0);  // size, set below
  wire::put_i32(empty, correlation_id);
  if (flexible) wire::put_uvarint(empty, 0);  // response header v1 tags
  if (is(answer.api_key, ApiKey::produce)) {
    put_count(empty, flexible, 0);  // Responses
    wire::put_i32(empty, 0);        // ThrottleTimeMs
  } else if (is_share(answer.api_key)) {
    wire::put_i32(empty, 0);      // ThrottleTimeMs
    wire::put_i16(empty, 0);      // ErrorCode
    wire::put_uvarint(empty, 0);  // ErrorMessage: null
    if (is(answer.api_key, ApiKey::share_fetch) || answer.api_version >= 2) {
      wire::put_i32(empty, 0);  // AcquisitionLockTimeoutMs
    }
    put_count(empty, true, 0);  // Responses
    put_count(empty, true, 0);  // NodeEndpoints
  } else if (const refusal::Writer writer = refusal::writer_for(answer.api_key); writer != nullptr) {
    // The whole refusal of the request without its topics: every field but the topics at its default.
    refusal::BodyWriter body(answer.api_version, flexible);
    writer(body, refusal::Values({}, std::span<const ValueRef>()), refusal::Answer{});
    empty.insert(empty.end(), body.out().begin(), body.out().end());  // with its tag buffer
    wire::set_size_prefix(empty);
    return merge_split_response(empty, answer, max_frame_size, out);
  } else {
    if (answer.api_version >= 1) wire::put_i32(empty, 0);  // ThrottleTimeMs
    if (answer.api_version >= 7) {
      wire::put_i16(empty, 0);  // ErrorCode
      wire::put_i32(empty, 0);  // SessionId: none
    }
    put_count(empty, flexible, 0);  // Responses
  }
  if (flexible) wire::put_uvarint(empty, 0);  // tags
  wire::set_size_prefix(empty);
  return merge_split_response(empty, answer, max_frame_size, out);
}

}  // namespace kedge::kafka
