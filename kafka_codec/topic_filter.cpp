#include "kafka_codec/topic_filter.h"

#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/errors.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka {

Errc filter_metadata_topics(std::span<const std::uint8_t> frame, std::int16_t version, TopicsAsked asked,
                            TopicFilter& filter, std::vector<std::uint8_t>& out, bool& changed) {
  const bool listing = asked == TopicsAsked::all;
  const bool by_id = asked == TopicsAsked::by_id && version >= 12;
  changed = false;
  const schema::MessageSchema* s = schema::find_response_schema(key_of(ApiKey::metadata));
  const bool flexible = s->flexible(version);
  std::size_t body = 8;  // size prefix, correlation id
  if (frame.size() < body || (flexible && !skip_tag_buffer(frame, body, frame.size()))) {
    return Errc::malformed_response;
  }
  WalkResult walk;
  if (!read_body(*s, version, frame, body, frame.size(), walk) || walk.lists.size() != 1) {
    return Errc::malformed_response;
  }
  const ElementListRef& topics = walk.lists.front();
  // One Name per topic element, in order (nothing else in the body is a value).
  std::vector<const ValueRef*> names;
  for (const ValueRef& v : walk.values) {
    if (v.name == "Name") names.push_back(&v);
  }
  if (names.size() != topics.elements.size()) return Errc::malformed_response;
  const auto text = [&](const ValueRef& v) {
    return std::string_view(reinterpret_cast<const char*>(frame.data() + v.begin), v.end - v.begin);
  };
  std::vector<bool> keep(names.size(), true);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (version >= 10 && !names[i]->null) {
      // TopicId follows the name (bounded: the element walked whole).
      filter.learn_topic_id(
          std::string_view(reinterpret_cast<const char*>(frame.data() + names[i]->end), 16), text(*names[i]));
    }
    keep[i] = names[i]->null || filter.describable(text(*names[i]));
    if (keep[i]) ++kept;
    else changed = true;
  }
  if (!changed) return Errc::ok;
  const std::size_t list_end = topics.elements.empty() ? topics.count_end : topics.elements.back().second;
  out.clear();
  out.reserve(frame.size());
  out.insert(out.end(), frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(topics.count_begin));
  const std::size_t entries = listing ? kept : names.size();
  if (topics.compact) wire::put_uvarint(out, static_cast<std::uint32_t>(entries + 1));
  else wire::put_i32(out, static_cast<std::int32_t>(entries));
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto [begin, end] = topics.elements[i];
    if (keep[i]) {
      out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(begin),
                 frame.begin() + static_cast<std::ptrdiff_t>(end));
      continue;
    }
    if (listing) continue;
    wire::put_i16(out, code_of(ErrorCode::topic_authorization_failed));
    if (by_id) {
      wire::put_uvarint(out, 0);  // Name: null
      // TopicId: the broker's, right after the name (bounded: the element walked whole).
      const auto id = frame.begin() + static_cast<std::ptrdiff_t>(names[i]->end);
      out.insert(out.end(), id, id + 16);
    } else {
      wire::put_string(out, text(*names[i]), flexible);
      if (version >= 10) out.insert(out.end(), 16, 0);  // TopicId: zero
    }
    if (version >= 1) wire::put_i8(out, 0);            // IsInternal: false
    if (flexible) wire::put_uvarint(out, 1);           // Partitions: []
    else wire::put_i32(out, 0);
    if (version >= 8) wire::put_i32(out, INT32_MIN);   // TopicAuthorizedOperations: not asked
    if (flexible) wire::put_uvarint(out, 0);           // tags
  }
  out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(list_end), frame.end());
  wire::set_size_prefix(out);
  return Errc::ok;
}

Errc filter_list_groups(std::span<const std::uint8_t> frame, std::int16_t version, GroupFilter& filter,
                        std::vector<std::uint8_t>& out, bool& changed) {
  changed = false;
  const schema::MessageSchema* s = schema::find_policy_response_schema(key_of(ApiKey::list_groups));
  if (!s->valid.contains(version)) return Errc::malformed_response;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  if (!read_response_header(frame, key_of(ApiKey::list_groups), version, correlation_id, body)) {
    return Errc::malformed_response;
  }
  WalkResult walk;
  if (!read_body(*s, version, frame, body, frame.size(), walk) || walk.lists.size() != 1) {
    return Errc::malformed_response;
  }
  const ElementListRef& groups = walk.lists.front();
  if (walk.values.size() != groups.elements.size()) return Errc::malformed_response;  // one GroupId each
  std::vector<bool> keep(groups.elements.size(), true);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < keep.size(); ++i) {
    const ValueRef& id = walk.values[i];
    keep[i] = filter.group_describable(
        std::string_view(reinterpret_cast<const char*>(frame.data() + id.begin), id.end - id.begin));
    if (keep[i]) ++kept;
  }
  if (kept == keep.size()) return Errc::ok;
  changed = true;
  out.clear();
  out.reserve(frame.size());
  out.insert(out.end(), frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(groups.count_begin));
  if (groups.compact) wire::put_uvarint(out, static_cast<std::uint32_t>(kept + 1));
  else wire::put_i32(out, static_cast<std::int32_t>(kept));
  for (std::size_t i = 0; i < keep.size(); ++i) {
    if (!keep[i]) continue;
    const auto [begin, end] = groups.elements[i];
    out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(begin),
               frame.begin() + static_cast<std::ptrdiff_t>(end));
  }
  const std::size_t list_end = groups.elements.empty() ? groups.count_end : groups.elements.back().second;
  out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(list_end), frame.end());
  wire::set_size_prefix(out);
  return Errc::ok;
}

}  // namespace kedge::kafka
