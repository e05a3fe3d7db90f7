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

// The kind of names a regex matches.
NameKind matched_by(NameKind regex) {
  return regex == NameKind::topic_regex ? NameKind::topic
         : regex == NameKind::transactional_id_regex ? NameKind::transactional_id
                                                     : NameKind::none;
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

namespace {

// What kedge writes for a client's `^` at a leading position (confine_regex): an empty group, which holds
// wherever that `^` held on the client's name.
constexpr std::string_view kLeadingAnchor = "(?:)";

// RE2's POSIX classes, as "[:name:]" names them inside a character class (RE2J CharGroup.POSIX_GROUPS).
bool posix_class(std::string_view name) {
  if (!name.empty() && name.front() == '^') name.remove_prefix(1);
  for (const std::string_view known : {"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower",
                                       "print", "punct", "space", "upper", "word", "xdigit"}) {
    if (name == known) return true;
  }
  return false;
}

// The escape RE2 reads from the "\" at `at` as one unit: its end, or npos when it does not end. "\x{...}",
// "\p{...}" and "\P{...}" run to their "}" (RE2J refuses anything but hex digits or a class name inside).
std::size_t escape_end(std::string_view re, std::size_t at) {
  if (at + 1 >= re.size()) return std::string_view::npos;
  const char e = re[at + 1];
  if ((e == 'x' || e == 'p' || e == 'P') && at + 2 < re.size() && re[at + 2] == '{') {
    const std::size_t close = re.find('}', at + 3);
    return close == std::string_view::npos ? close : close + 1;
  }
  return at + 2;
}

// The character class opening at `at` ("["), read as RE2J's Parser.parseClass reads it: the index just
// past its closing "]", or npos if it does not close or names a [:class:] RE2 does not have (an error to
// RE2J as well). A "]" right after "[" or "[^" is a member; "[:" runs to the first ":]" as a POSIX
// class, and is a plain "[" when there is none.
std::size_t class_end(std::string_view re, std::size_t at) {
  constexpr std::size_t npos = std::string_view::npos;
  std::size_t i = at + 1;
  if (i < re.size() && re[i] == '^') ++i;
  bool first = true;
  while (i < re.size()) {
    const char c = re[i];
    if (c == ']' && !first) return i + 1;
    first = false;
    if (c == '[' && i + 1 < re.size() && re[i + 1] == ':') {
      const std::size_t close = re.find(":]", i + 1);
      if (close != npos) {
        if (close < i + 2 || !posix_class(re.substr(i + 2, close - i - 2))) return npos;
        i = close + 2;
        continue;
      }
    }
    if (c == '\\') {
      i = escape_end(re, i);
      if (i == npos) return npos;
      continue;
    }
    ++i;
  }
  return npos;
}

// A regex read once as RE2 reads it, for confine_regex: whether it is one balanced expression, and where
// its leading positions hold a `^` or kedge's `(?:)`.
struct RegexScan {
  std::vector<std::size_t> carets;   // offsets of `^` at leading positions
  std::vector<std::size_t> anchors;  // offsets of kLeadingAnchor at leading positions
  struct Group {
    bool leading_at_open;  // the group opened at a leading position (a "|" returns to it)
    bool leading;          // nothing that may consume a character lies before this point
    bool consumed;         // something in the group may consume characters
  };
  std::vector<Group> groups;
};

// False when `re` is not one balanced expression: a ")" that would close kedge's group, a group left
// open, a class, \Q quote or escape that does not end (each would take in kedge's ")"), or a "(?"
// construct RE2 does not have. A position is leading while only group openings, flag groups ("(?i)"),
// "|" back to a leading group start, anchors and repetitions lie before it; anything that may consume a
// character (a literal, ".", a class, an escape, a quote, "{", a group holding one) ends it. One pass;
// the group stack is at most |re| deep.
bool scan_regex(std::string_view re, RegexScan& scan) {
  constexpr std::size_t npos = std::string_view::npos;
  scan.carets.clear();
  scan.anchors.clear();
  scan.groups.assign(1, RegexScan::Group{true, true, false});
  const auto consume = [&] {
    scan.groups.back().leading = false;
    scan.groups.back().consumed = true;
  };
  std::size_t i = 0;
  while (i < re.size()) {
    switch (re[i]) {
      case '\\': {
        if (i + 1 < re.size() && re[i + 1] == 'Q') {  // \Q...\E: literal up to the first \E (RE2J)
          const std::size_t end = re.find("\\E", i + 2);
          if (end == npos) return false;
          consume();
          i = end + 2;
          break;
        }
        const bool empty_width = i + 1 < re.size() && std::string_view("AzbB").find(re[i + 1]) != npos;
        i = escape_end(re, i);
        if (i == npos) return false;
        if (!empty_width) consume();
        break;
      }
      case '[':
        i = class_end(re, i);
        if (i == npos) return false;
        consume();
        break;
      case '(': {
        if (scan.groups.back().leading && re.compare(i, kLeadingAnchor.size(), kLeadingAnchor) == 0) {
          scan.anchors.push_back(i);
          i += kLeadingAnchor.size();
          break;
        }
        std::size_t j = i + 1;
        if (j < re.size() && re[j] == '?') {
          ++j;
          if (re.compare(j, 2, "P<") == 0 || re.compare(j, 1, "<") == 0) {  // a named group: its name to ">"
            j = re.find('>', j);
            if (j == npos) return false;
            ++j;
          } else {
            while (j < re.size() && std::string_view("imsU-").find(re[j]) != npos) ++j;
            if (j >= re.size()) return false;
            if (re[j] == ')') {  // "(?flags)": flags for the rest of the group, no group of its own
              i = j + 1;
              break;
            }
            if (re[j] != ':') return false;
            ++j;
          }
        }
        const bool leading = scan.groups.back().leading;
        scan.groups.push_back({leading, leading, false});
        i = j;
        break;
      }
      case ')': {
        if (scan.groups.size() == 1) return false;  // it would close kedge's group
        const bool consumed = scan.groups.back().consumed;
        scan.groups.pop_back();
        if (consumed) consume();
        ++i;
        break;
      }
      case '|':
        scan.groups.back().leading = scan.groups.back().leading_at_open;
        ++i;
        break;
      case '^':
        if (scan.groups.back().leading) scan.carets.push_back(i);
        ++i;
        break;
      case '$':
      case '*':
      case '+':
      case '?': ++i; break;  // an anchor or a repetition: nothing new consumed
      default:  // a literal (any byte of a UTF-8 character), ".", "{"
        consume();
        ++i;
        break;
    }
  }
  return scan.groups.size() == 1;
}

// `text` as an RE2 literal: every ASCII character but A-Z a-z 0-9 _ escaped (RE2 reads "\" before any
// other ASCII character as that character); the bytes of UTF-8 characters as they are.
void append_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    const bool word = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_';
    if (b < 0x80 && !word) out.push_back('\\');
    out.push_back(c);
  }
}

}  // namespace

bool confine_regex(std::string_view regex, std::string_view prefix, std::string& out) {
  thread_local RegexScan scan;
  if (regex.empty() || !scan_regex(regex, scan) || !scan.anchors.empty()) return false;
  out.clear();
  append_escaped(out, prefix);
  out += "(?:";
  std::size_t at = 0;
  for (const std::size_t caret : scan.carets) {
    out.append(regex.substr(at, caret - at));
    out.append(kLeadingAnchor);
    at = caret + 1;
  }
  out.append(regex.substr(at));
  out.push_back(')');
  return true;
}

bool unconfine_regex(std::string_view confined, std::string_view prefix, std::string& out) {
  thread_local std::string head;
  head.clear();
  append_escaped(head, prefix);
  head += "(?:";
  if (confined.size() <= head.size() || confined.substr(0, head.size()) != head || confined.back() != ')') {
    return false;
  }
  const std::string_view inner = confined.substr(head.size(), confined.size() - head.size() - 1);
  thread_local RegexScan scan;
  // confine_regex writes a balanced, non-empty expression with no leading `^`: anything else is not its output.
  if (inner.empty() || !scan_regex(inner, scan) || !scan.carets.empty()) return false;
  out.clear();
  std::size_t at = 0;
  for (const std::size_t anchor : scan.anchors) {
    out.append(inner.substr(at, anchor - at));
    out.push_back('^');
    at = anchor + kLeadingAnchor.size();
  }
  out.append(inner.substr(at));
  return true;
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
    const bool regex = matched_by(kind) != NameKind::none;
    const std::string_view prefix = prefix_of(prefixes, regex ? matched_by(kind) : kind);
    if (prefix.empty()) continue;
    const std::string_view text = text_of(frame, name);
    std::vector<std::uint8_t>& arena = patcher.arena();
    const std::size_t off = arena.size();
    if (regex) {
      // "" keeps the broker's meaning (KIP-848: no regex; KIP-1152: every transaction, which the
      // response filter keeps to the namespace's).
      if (text.empty()) continue;
      thread_local std::string rewritten;
      if (direction == RenameDirection::strip) {
        if (!unconfine_regex(text, prefix, rewritten)) continue;  // not one kedge confined: left as it is
      } else if (!confine_regex(text, prefix, rewritten) || rewritten.size() > 0x7fff) {
        result.outcome = RenameResult::Outcome::unconfinable_regex;
        result.name.assign(text);
        return result;
      }
      wire::put_string(arena, rewritten, name.compact);
    } else if (direction == RenameDirection::strip) {
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
