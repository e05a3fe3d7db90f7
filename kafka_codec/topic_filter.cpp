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

namespace {

// `frame` with only the elements of its element lists that `keep` marks
// (one flag per element, the lists' elements in walk order), each list's
// count re-encoded; everything between the lists byte for byte. The lists
// are disjoint and in frame order (nested lists sit in different elements of
// their parent, which is not itself a list). The size prefix is set.
void copy_kept_elements(std::span<const std::uint8_t> frame, const std::vector<ElementListRef>& lists,
                        const std::vector<bool>& keep, std::vector<std::uint8_t>& out) {
  out.clear();
  out.reserve(frame.size());
  std::size_t at = 0;    // next byte of `frame` to copy
  std::size_t flag = 0;  // next element's flag
  const auto copy = [&](std::size_t begin, std::size_t end) {
    out.insert(out.end(), frame.begin() + static_cast<std::ptrdiff_t>(begin),
               frame.begin() + static_cast<std::ptrdiff_t>(end));
  };
  for (const ElementListRef& list : lists) {
    copy(at, list.count_begin);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < list.elements.size(); ++i) kept += keep[flag + i] ? 1 : 0;
    if (list.compact) wire::put_uvarint(out, static_cast<std::uint32_t>(kept + 1));
    else wire::put_i32(out, static_cast<std::int32_t>(kept));
    for (const auto& [begin, end] : list.elements) {
      if (keep[flag++]) copy(begin, end);
    }
    at = list.elements.empty() ? list.count_end : list.elements.back().second;
  }
  copy(at, frame.size());
  wire::set_size_prefix(out);
}

// The whole response `frame` of `api_key` read with its policy response table.
bool read_policy_response(std::span<const std::uint8_t> frame, std::int16_t api_key, std::int16_t version,
                          WalkResult& walk) {
  const schema::MessageSchema* s = schema::find_policy_response_schema(api_key);
  if (s == nullptr || !s->valid.contains(version)) return false;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  return read_response_header(frame, api_key, version, correlation_id, body) &&
         read_body(*s, version, frame, body, frame.size(), walk);
}

std::string_view text_of(std::span<const std::uint8_t> frame, const ValueRef& v) {
  return {reinterpret_cast<const char*>(frame.data() + v.begin), v.end - v.begin};
}

}  // namespace

Errc filter_offset_fetch_topics(std::span<const std::uint8_t> frame, std::int16_t version, TopicFilter& filter,
                                std::vector<std::uint8_t>& out, bool& changed) {
  changed = false;
  WalkResult walk;
  if (!read_policy_response(frame, key_of(ApiKey::offset_fetch), version, walk)) return Errc::malformed_response;
  // One Name per topic element, in walk order (nothing else is a value).
  std::size_t elements = 0;
  for (const ElementListRef& list : walk.lists) elements += list.elements.size();
  if (walk.values.size() != elements) return Errc::malformed_response;
  std::vector<bool> keep(elements, true);
  for (std::size_t i = 0; i < elements; ++i) {
    keep[i] = filter.describable(text_of(frame, walk.values[i]));
    changed = changed || !keep[i];
  }
  if (changed) copy_kept_elements(frame, walk.lists, keep, out);
  return Errc::ok;
}

Errc filter_list_groups(std::span<const std::uint8_t> frame, std::int16_t version, GroupFilter& filter,
                        std::vector<std::uint8_t>& out, bool& changed) {
  changed = false;
  WalkResult walk;
  if (!read_policy_response(frame, key_of(ApiKey::list_groups), version, walk) || walk.lists.size() != 1) {
    return Errc::malformed_response;
  }
  const ElementListRef& groups = walk.lists.front();
  if (walk.values.size() != groups.elements.size()) return Errc::malformed_response;  // one GroupId each
  std::vector<bool> keep(groups.elements.size(), true);
  for (std::size_t i = 0; i < keep.size(); ++i) {
    keep[i] = filter.group_describable(text_of(frame, walk.values[i]));
    changed = changed || !keep[i];
  }
  if (changed) copy_kept_elements(frame, walk.lists, keep, out);
  return Errc::ok;
}

}  // namespace kedge::kafka
