#include "kafka_codec/rename.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka {
namespace {

using schema::NameKind;

// Config resource types (KIP-133, KIP-848's group configs) whose names a namespace renames.
constexpr std::int8_t kTopicResource = 2;
constexpr std::int8_t kGroupResource = 32;

bool names_in(std::span<const schema::Field> fields, std::int16_t version) {
  return std::any_of(fields.begin(), fields.end(), [&](const schema::Field& f) {
    return f.versions.contains(version) && (f.names != NameKind::none || names_in(f.fields, version));
  });
}

// The ResourceType just before a config ResourceName, if it was read.
std::optional<std::int8_t> resource_type_of(const NameRef& name, const WalkResult& walk,
                                            std::span<const std::uint8_t> frame) {
  if (name.values_before == 0) return std::nullopt;
  const ValueRef& type = walk.values[name.values_before - 1];
  if (type.name != "ResourceType" || type.end - type.begin != 1) return std::nullopt;
  return static_cast<std::int8_t>(frame[type.begin]);
}

// The kind a marked name has in this message: coordinator keys by the
// request's KeyType, config resources by the ResourceType just before them.
NameKind resolve(const NameRef& name, const WalkResult& walk, std::span<const std::uint8_t> frame,
                 std::int8_t coordinator_key_type) {
  switch (name.kind) {
    case NameKind::coordinator_key:
      // A share-group key is "groupId:topicId:partition" (KIP-932): the group leads it.
      return coordinator_key_type == static_cast<std::int8_t>(CoordinatorKeyType::transaction)
                 ? NameKind::transactional_id
                 : NameKind::group;
    case NameKind::config_resource:
    case NameKind::altered_config_resource: {
      const std::optional<std::int8_t> resource = resource_type_of(name, walk, frame);
      if (!resource) return NameKind::none;
      return *resource == kTopicResource ? NameKind::topic : *resource == kGroupResource ? NameKind::group : NameKind::none;
    }
    default: return name.kind;
  }
}

// A config resource a namespace does not alter, as a refusal names it: "broker 1", `broker ""` for the
// cluster-wide broker default (ConfigResource.Type: 4 broker, 8 broker logger, 16 client metrics).
std::string foreign_resource(std::optional<std::int8_t> type, std::string_view name) {
  std::string out = !type              ? std::string("config resource")
                    : *type == 4       ? std::string("broker")
                    : *type == 8       ? std::string("broker_logger")
                    : *type == 16      ? std::string("client_metrics")
                                       : "config resource type " + std::to_string(*type);
  out += ' ';
  if (name.empty()) out += "\"\"";
  else out.append(name);
  return out;
}

std::string_view text_of(std::span<const std::uint8_t> frame, const NameRef& name) {
  return {reinterpret_cast<const char*>(frame.data() + name.text_begin), name.end - name.text_begin};
}

// One FindCoordinator request's KeyType (v0: groups only).
std::int8_t key_type_of(const WalkResult& walk, std::span<const std::uint8_t> frame) {
  const ValueRef* key_type = find_value(walk, "KeyType");
  if (key_type == nullptr || key_type->end - key_type->begin != 1) return 0;
  return static_cast<std::int8_t>(frame[key_type->begin]);
}

}  // namespace

std::string_view prefix_of(const NamePrefixes& prefixes, NameKind kind) {
  switch (kind) {
    case NameKind::topic: return prefixes.topic;
    case NameKind::group: return prefixes.group;
    case NameKind::transactional_id: return prefixes.transactional_id;
    default: return {};
  }
}

bool names_nothing(std::int16_t api_key) {
  for (const ApiKey api : {ApiKey::api_versions, ApiKey::sasl_handshake, ApiKey::sasl_authenticate,
                           ApiKey::describe_cluster, ApiKey::get_telemetry_subscriptions, ApiKey::push_telemetry}) {
    if (is(api_key, api)) return true;
  }
  return false;
}

namespace {
schema::Versions compute_renamed_versions(std::int16_t api_key) {
  const schema::MessageSchema* request = schema::find_rename_request_schema(api_key);
  const schema::MessageSchema* response = schema::find_rename_response_schema(api_key);
  // ListGroups asks with no name (its filters are states and types) and lists groups.
  if (request == nullptr) return is(api_key, ApiKey::list_groups) && response != nullptr ? response->valid : schema::kNever;
  schema::Versions versions = request->valid;
  if (response == nullptr) {
    // No name comes back in any version we know of (JoinGroup, InitProducerId, EndTxn, ...).
    return versions;
  }
  // Versions whose response names something must be readable with the response table.
  std::int16_t lo = versions.lo, hi = versions.hi;
  while (lo <= hi && !response->valid.contains(lo)) ++lo;
  while (hi >= lo && !response->valid.contains(hi)) --hi;
  return {lo, hi};
}
}  // namespace

RenameResult rename_message(std::span<const std::uint8_t> frame, const schema::MessageSchema& s, std::int16_t version,
                           std::size_t body_begin, std::int8_t coordinator_key_type, const NamePrefixes& prefixes,
                           RenameDirection direction, std::vector<std::uint8_t>& out) {
  RenameResult result;
  // One walk and one patch set per loop thread: called for every named request and response of a namespace.
  thread_local WalkResult walk;
  thread_local FramePatcher patcher;
  const bool read = s.leading_fields_only ? read_leading(s, version, frame, body_begin, frame.size(), walk)
                                          : read_body(s, version, frame, body_begin, frame.size(), walk);
  if (!read) {
    result.outcome = RenameResult::Outcome::malformed;
    return result;
  }
  if (coordinator_key_type < 0 && is(s.api_key, ApiKey::find_coordinator)) coordinator_key_type = key_type_of(walk, frame);
  result.coordinator_key_type = coordinator_key_type;
  patcher.clear();
  for (const NameRef& name : walk.names) {
    if (name.null) continue;
    const NameKind kind = resolve(name, walk, frame, coordinator_key_type);
    if (kind == NameKind::none && name.kind == NameKind::altered_config_resource &&
        direction == RenameDirection::prefix) {
      // Not a topic's or a group's config: a broker's (or another resource of the shared cluster).
      result.outcome = RenameResult::Outcome::foreign_resource;
      result.name = foreign_resource(resource_type_of(name, walk, frame), text_of(frame, name));
      return result;
    }
    const std::string_view prefix = prefix_of(prefixes, kind);
    if (prefix.empty()) continue;
    const std::string_view text = text_of(frame, name);
    std::vector<std::uint8_t>& arena = patcher.arena();
    const std::size_t off = arena.size();
    if (direction == RenameDirection::strip) {
      // A name without the prefix is not the namespace's: left as it is.
      if (text.size() < prefix.size() || text.substr(0, prefix.size()) != prefix) continue;
      wire::put_string(arena, text.substr(prefix.size()), name.compact);
    } else {
      const std::size_t renamed = prefix.size() + text.size();
      // Metadata asks; the broker answers a name it cannot have as unknown or invalid (and strip gives it back).
      const bool asks_only = is(s.api_key, ApiKey::metadata);
      if ((kind == NameKind::topic && renamed > kMaxTopicNameLength && !asks_only) || renamed > 0x7fff) {
        result.outcome = RenameResult::Outcome::name_too_long;
        result.name.assign(text);
        return result;
      }
      if (name.compact) wire::put_uvarint(arena, static_cast<std::uint32_t>(renamed + 1));
      else wire::put_i16(arena, static_cast<std::int16_t>(renamed));
      arena.insert(arena.end(), prefix.begin(), prefix.end());
      arena.insert(arena.end(), text.begin(), text.end());
    }
    patcher.replace_always(name.begin, name.end, off, arena.size() - off);
  }
  if (patcher.empty()) return result;
  if (patcher.assemble(frame, walk.tag_sizes, out) != Errc::ok) {
    result.outcome = RenameResult::Outcome::malformed;
    return result;
  }
  result.outcome = RenameResult::Outcome::renamed;
  return result;
}

RenameResult prefix_request_names(std::span<const std::uint8_t> frame, const NamePrefixes& prefixes,
                                  std::vector<std::uint8_t>& out) {
  RenameResult result;
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body_begin = 0;
  if (!read_request_header(frame, api_key, version, correlation_id, body_begin)) {
    result.outcome = RenameResult::Outcome::malformed;
    return result;
  }
  if (names_nothing(api_key)) return result;
  if (!renamed_versions(api_key).contains(version)) {
    result.outcome = RenameResult::Outcome::malformed;
    return result;
  }
  const schema::MessageSchema* s = schema::find_rename_request_schema(api_key);
  if (s == nullptr) return result;  // ListGroups: a request with no name, a response that lists them
  return rename_message(frame, *s, version, body_begin, -1, prefixes, RenameDirection::prefix, out);
}

namespace {
// Asked for every request of a namespaced cluster: computed once from the tables, per api key and version.
struct ApiRename {
  schema::Versions renamed = schema::kNever;
  std::uint64_t request_named = 0;   // bit v: the request of version v carries a name
  std::uint64_t response_named = 0;  // bit v: its response does
};
constexpr std::int16_t kMaxTrackedVersion = 63;

const ApiRename& api_rename(std::int16_t api_key) {
  static const std::array<ApiRename, kApiKeyCount> table = [] {
    std::array<ApiRename, kApiKeyCount> t{};
    for (std::size_t key = 0; key < t.size(); ++key) {
      const auto api = static_cast<std::int16_t>(key);
      t[key].renamed = compute_renamed_versions(api);
      const schema::MessageSchema* request = schema::find_rename_request_schema(api);
      const schema::MessageSchema* response = schema::find_rename_response_schema(api);
      for (std::int16_t v = 0; v <= kMaxTrackedVersion; ++v) {
        if (request != nullptr && names_in(request->fields, v)) t[key].request_named |= std::uint64_t{1} << v;
        if (response != nullptr && response->valid.contains(v) && names_in(response->fields, v)) {
          t[key].response_named |= std::uint64_t{1} << v;
        }
      }
    }
    return t;
  }();
  static const ApiRename none;
  if (api_key < 0 || static_cast<std::size_t>(api_key) >= table.size()) return none;
  return table[static_cast<std::size_t>(api_key)];
}
}  // namespace

schema::Versions renamed_versions(std::int16_t api_key) { return api_rename(api_key).renamed; }

bool every_topic_id(std::span<const std::uint8_t> frame, const std::function<bool(std::string_view)>& known) {
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  if (!read_request_header(frame, api_key, version, correlation_id, body)) return false;
  const schema::MessageSchema* s = schema::find_request_schema(api_key);
  thread_local WalkResult walk;
  if (s == nullptr || !(s->leading_fields_only ? read_leading(*s, version, frame, body, frame.size(), walk)
                                               : read_body(*s, version, frame, body, frame.size(), walk))) {
    return false;
  }
  return std::all_of(walk.values.begin(), walk.values.end(), [&](const ValueRef& v) {
    return v.name != "TopicId" || v.null ||
           known({reinterpret_cast<const char*>(frame.data() + v.begin), v.end - v.begin});
  });
}

bool names_topics_by_id(std::int16_t api_key, std::int16_t version) {
  return (is(api_key, ApiKey::fetch) && version >= 13) || (is(api_key, ApiKey::produce) && version >= 13) ||
         is(api_key, ApiKey::share_fetch) || is(api_key, ApiKey::share_acknowledge);
}

bool request_names_anything(std::int16_t api_key, std::int16_t version) {
  return version >= 0 && version <= kMaxTrackedVersion && (api_rename(api_key).request_named >> version & 1) != 0;
}

bool response_names_anything(std::int16_t api_key, std::int16_t version) {
  return version >= 0 && version <= kMaxTrackedVersion && (api_rename(api_key).response_named >> version & 1) != 0;
}

bool prefix_produce_names(std::vector<std::uint8_t>& held, const NamePrefixes& prefixes) {
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  if (held.size() < 4 || !read_request_header(held, api_key, version, correlation_id, body) ||
      !is(api_key, ApiKey::produce) || version < 3 || version > 13) {
    return false;
  }
  const bool compact = version >= schema::request_flexible_from(api_key);
  wire::Reader r(held, body, held.size());
  // A nullable string at the reader: [begin, end) of its encoding and its text; false if not all held yet.
  struct Text {
    std::size_t begin = 0, end = 0;
    bool null = false;
    std::string_view text;
  };
  const auto read_text = [&](Text& out) {
    out.begin = r.pos();
    std::int64_t length = 0;
    if (compact) {
      std::uint32_t n = 0;
      if (!r.read_uvarint(n)) return false;
      length = static_cast<std::int64_t>(n) - 1;
    } else {
      std::int16_t n = 0;
      if (!r.read_i16(n)) return false;
      length = n;
    }
    if (length < -1) return false;
    out.null = length == -1;
    const std::size_t text_begin = r.pos();
    if (!out.null && !r.skip(static_cast<std::size_t>(length))) return false;
    out.end = r.pos();
    out.text = {reinterpret_cast<const char*>(held.data() + text_begin), out.end - text_begin};
    return true;
  };
  Text transactional_id, topic;
  if (!read_text(transactional_id)) return false;
  const std::size_t after_transactional_id = r.pos();
  bool has_topic = false;
  if (version <= 12) {  // v13 names its topics by id: nothing more to rename
    std::int16_t acks = 0;
    std::int32_t timeout = 0;
    std::int64_t topics = 0;
    if (!r.read_i16(acks) || !r.read_i32(timeout)) return false;
    if (compact) {
      std::uint32_t n = 0;
      if (!r.read_uvarint(n)) return false;
      topics = static_cast<std::int64_t>(n) - 1;
    } else {
      std::int32_t n = 0;
      if (!r.read_i32(n)) return false;
      topics = n;
    }
    if (topics != 1 || !read_text(topic) || topic.null) return false;
    if (!prefixes.topic.empty() && prefixes.topic.size() + topic.text.size() > kMaxTopicNameLength) return false;
    has_topic = true;
  }
  // Every Produce of a namespaced cluster passes here: the buffer is swapped with `held`, so the two reuse
  // each other's capacity instead of allocating.
  thread_local std::vector<std::uint8_t> out;
  out.clear();
  out.reserve(held.size() + prefixes.topic.size() + prefixes.transactional_id.size() + 8);
  const auto put_prefixed = [&](const Text& t, std::string_view prefix) {
    if (t.null || prefix.empty()) {
      out.insert(out.end(), held.begin() + static_cast<std::ptrdiff_t>(t.begin), held.begin() + static_cast<std::ptrdiff_t>(t.end));
      return;
    }
    const std::size_t length = prefix.size() + t.text.size();
    if (compact) wire::put_uvarint(out, static_cast<std::uint32_t>(length + 1));
    else wire::put_i16(out, static_cast<std::int16_t>(length));
    out.insert(out.end(), prefix.begin(), prefix.end());
    out.insert(out.end(), t.text.begin(), t.text.end());
  };
  if (prefixes.transactional_id.size() + transactional_id.text.size() > 0x7fff) return false;
  out.insert(out.end(), held.begin(), held.begin() + static_cast<std::ptrdiff_t>(transactional_id.begin));
  put_prefixed(transactional_id, prefixes.transactional_id);
  if (has_topic) {
    out.insert(out.end(), held.begin() + static_cast<std::ptrdiff_t>(after_transactional_id),
               held.begin() + static_cast<std::ptrdiff_t>(topic.begin));
    put_prefixed(topic, prefixes.topic);
    out.insert(out.end(), held.begin() + static_cast<std::ptrdiff_t>(topic.end), held.end());
  } else {
    out.insert(out.end(), held.begin() + static_cast<std::ptrdiff_t>(after_transactional_id), held.end());
  }
  const std::int64_t size = static_cast<std::int64_t>(wire::get_i32(held.data())) +
                            static_cast<std::int64_t>(out.size()) - static_cast<std::int64_t>(held.size());
  if (size < 0 || size > 0x7fffffff) return false;
  const auto v = static_cast<std::uint32_t>(size);
  out[0] = static_cast<std::uint8_t>(v >> 24);
  out[1] = static_cast<std::uint8_t>(v >> 16);
  out[2] = static_cast<std::uint8_t>(v >> 8);
  out[3] = static_cast<std::uint8_t>(v);
  held.swap(out);
  return true;
}

Errc strip_response_names(std::span<const std::uint8_t> frame, std::int16_t api_key, std::int16_t version,
                          std::int8_t coordinator_key_type, const NamePrefixes& prefixes,
                          std::vector<std::uint8_t>& out, bool& changed) {
  changed = false;
  const schema::MessageSchema* s = schema::find_rename_response_schema(api_key);
  if (s == nullptr) return Errc::ok;
  if (!s->valid.contains(version)) return Errc::malformed_response;
  std::int32_t correlation_id = 0;
  std::size_t body_begin = 0;
  if (!read_response_header(frame, api_key, version, correlation_id, body_begin)) return Errc::malformed_response;
  // A FindCoordinator response's keys are the request's kind; -1 (unknown) reads them as groups.
  const RenameResult result = rename_message(frame, *s, version, body_begin, std::max<std::int8_t>(coordinator_key_type, 0),
                                             prefixes, RenameDirection::strip, out);
  if (result.outcome == RenameResult::Outcome::malformed) return Errc::malformed_response;
  changed = result.outcome == RenameResult::Outcome::renamed;
  return Errc::ok;
}

}  // namespace kedge::kafka
