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
    wire::put_i16(out, code_of(by_id ? filter.refused_by_id_error(text(*names[i]))
                                     : ErrorCode::topic_authorization_failed));
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

// What becomes of one element of an element list: kept as it is, left out,
// or replaced by other bytes.
struct ElementEdit {
  bool keep = true;
  std::span<const std::uint8_t> replacement;  // written instead when kept and not empty
};

// `frame` with its element lists' elements edited by `edits` (one per
// element, the lists' elements in walk order), each list's count
// re-encoded; everything between the lists byte for byte. The lists are
// disjoint and in frame order (nested lists sit in different elements of
// their parent, which is not itself a list). The size prefix is set.
void copy_edited_elements(std::span<const std::uint8_t> frame, const std::vector<ElementListRef>& lists,
                          const std::vector<ElementEdit>& edits, std::vector<std::uint8_t>& out) {
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
    for (std::size_t i = 0; i < list.elements.size(); ++i) kept += edits[flag + i].keep ? 1 : 0;
    if (list.compact) wire::put_uvarint(out, static_cast<std::uint32_t>(kept + 1));
    else wire::put_i32(out, static_cast<std::int32_t>(kept));
    for (const auto& [begin, end] : list.elements) {
      const ElementEdit& edit = edits[flag++];
      if (!edit.keep) continue;
      if (edit.replacement.empty()) copy(begin, end);
      else out.insert(out.end(), edit.replacement.begin(), edit.replacement.end());
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

Errc filter_offset_fetch_topics(std::span<const std::uint8_t> frame, std::int16_t version, TopicsAsked asked,
                                TopicFilter& filter, std::vector<std::uint8_t>& out, bool& changed) {
  changed = false;
  WalkResult walk;
  if (!read_policy_response(frame, key_of(ApiKey::offset_fetch), version, walk)) return Errc::malformed_response;
  // Each topic element's Name, then its partitions' PartitionIndex values, in walk order.
  std::vector<std::size_t> names;  // index in walk.values of each element's Name
  for (std::size_t i = 0; i < walk.values.size(); ++i) {
    if (walk.values[i].name == "Name") names.push_back(i);
  }
  std::size_t elements = 0;
  for (const ElementListRef& list : walk.lists) elements += list.elements.size();
  if (names.size() != elements) return Errc::malformed_response;
  std::vector<ElementEdit> edits(elements);
  std::vector<std::size_t> refused;  // elements answered with TOPIC_AUTHORIZATION_FAILED
  for (std::size_t i = 0; i < elements; ++i) {
    if (filter.describable(text_of(frame, walk.values[names[i]]))) continue;
    changed = true;
    if (asked == TopicsAsked::by_name) refused.push_back(i);
    else edits[i].keep = false;
  }
  if (!changed) return Errc::ok;
  // Kafka's UNAUTHORIZED_PARTITION for every partition the broker answered.
  const bool flexible = version >= schema::find_policy_response_schema(key_of(ApiKey::offset_fetch))->flexible_from;
  std::vector<std::uint8_t> entries;
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  for (const std::size_t i : refused) {
    const std::size_t begin = entries.size();
    const std::size_t partitions_end = i + 1 < names.size() ? names[i + 1] : walk.values.size();
    wire::put_string(entries, text_of(frame, walk.values[names[i]]), flexible);
    const std::size_t partitions = partitions_end - names[i] - 1;
    if (flexible) wire::put_uvarint(entries, static_cast<std::uint32_t>(partitions + 1));
    else wire::put_i32(entries, static_cast<std::int32_t>(partitions));
    for (std::size_t v = names[i] + 1; v < partitions_end; ++v) {
      wire::put_i32(entries, wire::get_i32(frame.data() + walk.values[v].begin));  // PartitionIndex
      wire::put_i64(entries, -1);                                                   // CommittedOffset
      if (version >= 5) wire::put_i32(entries, -1);                                 // CommittedLeaderEpoch
      wire::put_string(entries, "", flexible);                                      // Metadata
      wire::put_i16(entries, code_of(ErrorCode::topic_authorization_failed));
      if (flexible) wire::put_uvarint(entries, 0);
    }
    if (flexible) wire::put_uvarint(entries, 0);
    ranges.emplace_back(begin, entries.size());
  }
  for (std::size_t r = 0; r < refused.size(); ++r) {
    edits[refused[r]].replacement =
        std::span<const std::uint8_t>(entries).subspan(ranges[r].first, ranges[r].second - ranges[r].first);
  }
  copy_edited_elements(frame, walk.lists, edits, out);
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
  std::vector<ElementEdit> edits(groups.elements.size());
  for (std::size_t i = 0; i < edits.size(); ++i) {
    edits[i].keep = filter.group_describable(text_of(frame, walk.values[i]));
    changed = changed || !edits[i].keep;
  }
  if (changed) copy_edited_elements(frame, walk.lists, edits, out);
  return Errc::ok;
}

Errc filter_list_transactions(std::span<const std::uint8_t> frame, std::int16_t version,
                              std::string_view transactional_id_prefix, std::vector<std::uint8_t>& out,
                              bool& changed) {
  changed = false;
  WalkResult walk;
  if (!read_policy_response(frame, key_of(ApiKey::list_transactions), version, walk) || walk.lists.size() != 1) {
    return Errc::malformed_response;
  }
  const ElementListRef& transactions = walk.lists.front();
  // One TransactionalId each (nothing else in the body is a value).
  if (walk.values.size() != transactions.elements.size()) return Errc::malformed_response;
  if (transactional_id_prefix.empty()) return Errc::ok;
  std::vector<ElementEdit> edits(transactions.elements.size());
  for (std::size_t i = 0; i < edits.size(); ++i) {
    edits[i].keep = text_of(frame, walk.values[i]).starts_with(transactional_id_prefix);
    changed = changed || !edits[i].keep;
  }
  if (changed) copy_edited_elements(frame, walk.lists, edits, out);
  return Errc::ok;
}

}  // namespace kedge::kafka
