#include "web/json_command.h"

#include <algorithm>
#include <exception>
#include <initializer_list>
#include <limits>
#include <new>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "web/utf8.h"

namespace kedge::web::pubsub {
namespace {

using nlohmann::json;

// ---- Decoding ----

// Every check fails by throwing nothing: a Problem travels back as a value.
struct Problem {
  std::string message;
};

template <class T>
using Checked = std::variant<T, Problem>;

std::string json_type(const json& value) {
  if (value.is_number_integer()) return "an integer";
  if (value.is_number_float()) return "a non-integer number";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "a boolean";
  if (value.is_null()) return "null";
  if (value.is_array()) return "an array";
  return "an object";
}

// The deepest nesting of objects and arrays in `text`, or kMaxJsonDepth + 1 as soon as it goes beyond. Brackets
// inside strings do not count; the text need not be valid JSON (the parser decides that afterwards).
std::size_t nesting_depth(std::string_view text) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kMaxJsonDepth) return deepest;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Reads one JSON object against the keys it may hold; `path` prefixes every message.
class Reader {
 public:
  Reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  std::optional<Problem> only(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : object_.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return Problem{prefix() + "unknown key \"" + replace_invalid_utf8(key.substr(0, 64), "?") + "\""};
      }
    }
    return std::nullopt;
  }

  const json* find(std::string_view key) const {
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  std::string path_of(std::string_view key) const { return prefix() + std::string(key); }

  Checked<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                std::optional<std::int64_t> fallback) const {
    const json* value = find(key);
    if (value == nullptr) {
      if (fallback) return *fallback;
      return Problem{path_of(key) + ": missing"};
    }
    auto out_of_range = [&] {
      return Problem{path_of(key) + ": must be an integer in " + std::to_string(min) + ".." + std::to_string(max) +
                     ", got " + describe(*value)};
    };
    if (value->is_number_unsigned()) {
      const auto n = value->get<std::uint64_t>();
      if (n > static_cast<std::uint64_t>(max)) return out_of_range();
      return static_cast<std::int64_t>(n);
    }
    if (value->is_number_integer()) {
      const auto n = value->get<std::int64_t>();
      if (n < min || n > max) return out_of_range();
      return n;
    }
    return out_of_range();
  }

  Checked<std::string> string(std::string_view key, std::size_t max_bytes, std::optional<std::string> fallback) const {
    const json* value = find(key);
    if (value == nullptr) {
      if (fallback) return *fallback;
      return Problem{path_of(key) + ": missing"};
    }
    if (!value->is_string()) return Problem{path_of(key) + ": must be a string, got " + json_type(*value)};
    const auto& text = value->get_ref<const std::string&>();
    if (text.size() > max_bytes) {
      return Problem{path_of(key) + ": " + std::to_string(text.size()) + " bytes exceed the limit of " +
                     std::to_string(max_bytes)};
    }
    return text;
  }

  Checked<std::string> topic(std::string_view key) const {
    auto name = string(key, std::numeric_limits<std::size_t>::max(), std::nullopt);
    if (auto* problem = std::get_if<Problem>(&name)) return *problem;
    if (auto problem = topic_name_problem(std::get<std::string>(name))) return Problem{path_of(key) + ": " + *problem};
    return name;
  }

  static std::string describe(const json& value) {
    if (value.is_number_integer()) return value.dump();
    if (value.is_number_float()) return "the non-integer number " + value.dump();
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      return "the string " + json(text.substr(0, 32)).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return json_type(value);
  }

 private:
  std::string prefix() const { return path_.empty() ? std::string() : path_ + ": "; }
  const json& object_;
  std::string path_;
};

// RFC 4648 §4 base64, padded, canonical (unused bits zero): what the encoders write, so decode(encode(x)) == x
// and encode(decode(s)) == s.
Checked<std::string> base64_decode(std::string_view text, const std::string& path) {
  auto bad = [&](const std::string& why) { return Problem{path + ": invalid base64 (" + why + ")"}; };
  if (text.size() % 4 != 0) return bad("length " + std::to_string(text.size()) + " is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int sextets[4];
    std::size_t padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        sextets[j] = 0;
        ++padding;
        continue;
      }
      if (padding > 0 || (sextets[j] = base64::sextet(c)) < 0) {
        return bad("unexpected character at " + std::to_string(i + j));
      }
    }
    const std::uint32_t group = (static_cast<std::uint32_t>(sextets[0]) << 18) |
                                (static_cast<std::uint32_t>(sextets[1]) << 12) |
                                (static_cast<std::uint32_t>(sextets[2]) << 6) | static_cast<std::uint32_t>(sextets[3]);
    if ((padding == 1 && (group & 0xff) != 0) || (padding == 2 && (group & 0xffff) != 0)) {
      return bad("non-zero bits after the last byte");
    }
    out += static_cast<char>(group >> 16);
    if (padding < 2) out += static_cast<char>((group >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(group & 0xff);
  }
  return out;
}

// A key, value, header key or header value of a produce command, decoded per the command's encoding.
Checked<std::optional<std::string>> payload(const json* value, const std::string& path, PayloadEncoding encoding,
                                            bool nullable) {
  if (value == nullptr || value->is_null()) {
    if (nullable) return std::optional<std::string>();
    return Problem{path + (value == nullptr ? ": missing" : ": must be a string, got null (null header values are not supported)")};
  }
  if (!value->is_string()) {
    return Problem{path + ": must be a string" + (nullable ? " or null" : "") + ", got " + json_type(*value)};
  }
  const auto& text = value->get_ref<const std::string&>();
  if (encoding == PayloadEncoding::utf8) return std::optional<std::string>(text);
  auto decoded = base64_decode(text, path);
  if (auto* problem = std::get_if<Problem>(&decoded)) return *problem;
  return std::optional<std::string>(std::move(std::get<std::string>(decoded)));
}

#define KEDGE_TRY(var, expr)                                      \
  auto var##_checked = (expr);                                    \
  if (auto* p = std::get_if<Problem>(&var##_checked)) return *p;  \
  auto var = std::move(std::get<0>(var##_checked))

Checked<Body> ping(const Reader& r) {
  if (auto p = r.only({"sequence", "cmd", "encoding", "state"})) return *p;
  KEDGE_TRY(state, r.string("state", kMaxPingStateBytes, std::string()));
  return Body{Ping{std::move(state)}};
}

Checked<Body> list_offset(const Reader& r) {
  if (auto p = r.only({"sequence", "cmd", "encoding", "topic", "partition", "timestamp"})) return *p;
  KEDGE_TRY(topic, r.topic("topic"));
  KEDGE_TRY(partition, r.integer("partition", 0, std::numeric_limits<std::int32_t>::max(), std::nullopt));
  KEDGE_TRY(timestamp, r.integer("timestamp", -2, std::numeric_limits<std::int64_t>::max(), -1));
  return Body{ListOffset{std::move(topic), static_cast<std::int32_t>(partition), timestamp}};
}

Checked<Body> fetch(const Reader& r) {
  if (auto p = r.only({"sequence", "cmd", "encoding", "topic", "partition", "offset"})) return *p;
  KEDGE_TRY(topic, r.topic("topic"));
  KEDGE_TRY(partition, r.integer("partition", 0, std::numeric_limits<std::int32_t>::max(), std::nullopt));
  KEDGE_TRY(offset, r.integer("offset", 0, std::numeric_limits<std::int64_t>::max(), std::nullopt));
  return Body{Fetch{std::move(topic), static_cast<std::int32_t>(partition), offset}};
}

Checked<Body> subscribe(const Reader& r, const std::string& cmd) {
  if (auto p = r.only({"sequence", "cmd", "encoding", "topic", "partition", "offset", "partitions"})) return *p;
  const json* list = r.find("partitions");
  Subscribe out;
  std::set<std::pair<std::string, std::int32_t>> seen;
  // One entry, from `e`: {"topic", "partition" (default: all), "offset" (default: latest)}.
  auto add = [&](const Reader& e, const std::string& entry_path) -> std::optional<Problem> {
    auto topic = e.topic("topic");
    if (auto* p = std::get_if<Problem>(&topic)) return *p;
    auto partition = e.integer("partition", Subscribe::kAllPartitions, std::numeric_limits<std::int32_t>::max(),
                               Subscribe::kAllPartitions);
    if (auto* p = std::get_if<Problem>(&partition)) return *p;
    auto offset = e.integer("offset", Subscribe::kEarliest, std::numeric_limits<std::int64_t>::max(),
                            Subscribe::kLatest);
    if (auto* p = std::get_if<Problem>(&offset)) return *p;
    const auto number = static_cast<std::int32_t>(std::get<std::int64_t>(partition));
    if (number == Subscribe::kAllPartitions && std::get<std::int64_t>(offset) >= 0) {
      return Problem{e.path_of("offset") + ": an exact offset needs a partition (no partition, or -1, means all)"};
    }
    auto& name = std::get<std::string>(topic);
    if (!seen.emplace(name, number).second) {
      return Problem{entry_path + ": topic \"" + name + "\" partition " + std::to_string(number) + " is listed twice"};
    }
    out.partitions.push_back({std::move(name), number, std::get<std::int64_t>(offset)});
    return std::nullopt;
  };
  if (list == nullptr) {
    if (r.find("topic") == nullptr) return Problem{cmd + ": \"topic\" or \"partitions\" is required"};
    if (auto p = add(r, cmd)) return *p;
    return Body{std::move(out)};
  }
  for (const char* key : {"topic", "partition", "offset"}) {
    if (r.find(key) != nullptr) {
      return Problem{cmd + ": \"" + key + "\" goes in each \"partitions\" entry (or give \"topic\" without \"partitions\")"};
    }
  }
  const std::string path = r.path_of("partitions");
  if (!list->is_array()) return Problem{path + ": must be an array, got " + json_type(*list)};
  if (list->empty() || list->size() > kMaxSubscribePartitions) {
    return Problem{path + ": must hold 1.." + std::to_string(kMaxSubscribePartitions) + " entries, got " +
                   std::to_string(list->size())};
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    const std::string entry_path = path + "[" + std::to_string(i) + "]";
    if (!entry.is_object()) return Problem{entry_path + ": must be an object, got " + json_type(entry)};
    const Reader e(entry, entry_path);
    if (auto p = e.only({"topic", "partition", "offset"})) return *p;
    if (auto p = add(e, entry_path)) return *p;
  }
  return Body{std::move(out)};
}

Checked<Body> produce(const Reader& r, PayloadEncoding encoding) {
  if (auto p = r.only({"sequence", "cmd", "encoding", "topic", "partition", "records"})) return *p;
  Produce out;
  KEDGE_TRY(topic, r.topic("topic"));
  out.topic = std::move(topic);
  if (r.find("partition") != nullptr) {
    KEDGE_TRY(partition, r.integer("partition", 0, std::numeric_limits<std::int32_t>::max(), std::nullopt));
    out.partition = static_cast<std::int32_t>(partition);
  }
  const json* records = r.find("records");
  const std::string path = r.path_of("records");
  if (records == nullptr) return Problem{path + ": missing"};
  if (!records->is_array()) return Problem{path + ": must be an array, got " + json_type(*records)};
  if (records->empty() || records->size() > kMaxProduceRecords) {
    return Problem{path + ": must hold 1.." + std::to_string(kMaxProduceRecords) + " records, got " +
                   std::to_string(records->size())};
  }
  out.records.reserve(records->size());
  for (std::size_t i = 0; i < records->size(); ++i) {
    const json& record = (*records)[i];
    const std::string record_path = path + "[" + std::to_string(i) + "]";
    if (!record.is_object()) return Problem{record_path + ": must be an object, got " + json_type(record)};
    const Reader rec(record, record_path);
    if (auto p = rec.only({"key", "value", "headers"})) return *p;
    Produce::Record parsed;
    KEDGE_TRY(key, payload(rec.find("key"), rec.path_of("key"), encoding, true));
    KEDGE_TRY(value, payload(rec.find("value"), rec.path_of("value"), encoding, true));
    parsed.key = std::move(key);
    parsed.value = std::move(value);
    if (const json* headers = rec.find("headers")) {
      const std::string headers_path = rec.path_of("headers");
      if (!headers->is_array()) return Problem{headers_path + ": must be an array, got " + json_type(*headers)};
      if (headers->size() > kMaxRecordHeaders) {
        return Problem{headers_path + ": at most " + std::to_string(kMaxRecordHeaders) + " headers, got " +
                       std::to_string(headers->size())};
      }
      for (std::size_t h = 0; h < headers->size(); ++h) {
        const json& header = (*headers)[h];
        const std::string header_path = headers_path + "[" + std::to_string(h) + "]";
        if (!header.is_object()) return Problem{header_path + ": must be an object, got " + json_type(header)};
        const Reader hr(header, header_path);
        if (auto p = hr.only({"key", "value"})) return *p;
        KEDGE_TRY(header_key, payload(hr.find("key"), hr.path_of("key"), encoding, false));
        KEDGE_TRY(header_value, payload(hr.find("value"), hr.path_of("value"), encoding, false));
        parsed.headers.emplace_back(std::move(*header_key), std::move(*header_value));
      }
    }
    out.records.push_back(std::move(parsed));
  }
  return Body{std::move(out)};
}

#undef KEDGE_TRY

// The sequence of a parsed command if it is readable (an int64 integer), else 0: errors carry it.
std::int64_t readable_sequence(const json& root) {
  if (!root.is_object()) return 0;
  const auto it = root.find("sequence");
  if (it == root.end()) return 0;
  if (it->is_number_unsigned()) {
    const auto n = it->get<std::uint64_t>();
    return n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ? static_cast<std::int64_t>(n)
                                                                                     : 0;
  }
  return it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::variant<Command, CommandError> decode(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes) {
    return CommandError{0, "command of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                               std::to_string(max_bytes) + " bytes"};
  }
  if (!is_valid_utf8(text)) return CommandError{0, "command is not valid UTF-8"};
  // nlohmann's lexer takes a NUL byte for the end of the input and would accept `{"cmd":"ping"}\0anything`;
  // RFC 8259 allows a raw NUL nowhere (inside strings it must be escaped).
  if (text.find('\0') != std::string_view::npos) return CommandError{0, "command is not valid JSON (RFC 8259): a NUL byte"};
  if (nesting_depth(text) > kMaxJsonDepth) {
    return CommandError{0, "command nests objects and arrays deeper than " + std::to_string(kMaxJsonDepth)};
  }
  // Duplicate keys are refused (RFC 8259 §4 leaves them open; nlohmann keeps the last one): a command whose
  // "topic" reads two ways is a mistake or an attempt to confuse something in between.
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  const json::parser_callback_t watch = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second && !duplicate) {
          duplicate = parsed.get_ref<const std::string&>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  const json root = json::parse(text.begin(), text.end(), watch, /*allow_exceptions=*/false);
  if (root.is_discarded()) return CommandError{0, "command is not valid JSON (RFC 8259)"};
  const std::int64_t sequence = duplicate == "sequence" ? 0 : readable_sequence(root);
  auto fail = [sequence](std::string message) -> std::variant<Command, CommandError> {
    return CommandError{sequence, std::move(message)};
  };
  if (!root.is_object()) return fail("a command must be a JSON object, got " + json_type(root));
  if (duplicate) return fail("duplicate key \"" + replace_invalid_utf8(duplicate->substr(0, 64), "?") + "\"");
  const Reader top(root, "");
  Command command;
  {
    auto checked = top.integer("sequence", std::numeric_limits<std::int64_t>::min(),
                               std::numeric_limits<std::int64_t>::max(), 0);
    if (auto* p = std::get_if<Problem>(&checked)) return fail(p->message);
    command.sequence = std::get<std::int64_t>(checked);
  }
  auto cmd_checked = top.string("cmd", 64, std::nullopt);
  if (auto* p = std::get_if<Problem>(&cmd_checked)) return fail(p->message);
  const std::string& cmd = std::get<std::string>(cmd_checked);
  if (const json* encoding = top.find("encoding")) {
    if (*encoding == "base64") command.encoding = PayloadEncoding::base64;
    else if (*encoding != "utf8") {
      return fail("encoding: must be \"utf8\" or \"base64\", got " + Reader::describe(*encoding));
    }
  }
  const Reader r(root, cmd);
  Checked<Body> body = Problem{};
  if (cmd == "ping") body = ping(r);
  else if (cmd == "list_offset") body = list_offset(r);
  else if (cmd == "fetch") body = fetch(r);
  else if (cmd == "subscribe") body = subscribe(r, cmd);
  else if (cmd == "unsubscribe") {
    if (auto p = r.only({"sequence", "cmd", "encoding"})) body = *p;
    else body = Body{Unsubscribe{}};
  } else if (cmd == "produce") body = produce(r, command.encoding);
  else {
    return fail("unknown cmd " + json(cmd).dump(-1, ' ', false, json::error_handler_t::replace) +
                " (expected ping, list_offset, fetch, subscribe, unsubscribe or produce)");
  }
  if (auto* p = std::get_if<Problem>(&body)) return fail(std::move(p->message));
  command.body = std::move(std::get<Body>(body));
  return command;
}

// ---- Encoding ----

// A JSON string (RFC 8259 §7) of text known to be valid UTF-8.
void append_string(std::string& out, std::string_view utf8) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : utf8) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// Text from elsewhere (error messages, topics): invalid bytes become U+FFFD.
void append_text(std::string& out, std::string_view text) {
  if (is_valid_utf8(text)) append_string(out, text);
  else append_string(out, replace_invalid_utf8(text, "\xEF\xBF\xBD"));
}

void append_base64(std::string& out, std::string_view bytes) {
  out += '"';
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                                (static_cast<std::uint8_t>(bytes[i + 1]) << 8) | static_cast<std::uint8_t>(bytes[i + 2]);
    out += base64::kAlphabet[group >> 18];
    out += base64::kAlphabet[(group >> 12) & 63];
    out += base64::kAlphabet[(group >> 6) & 63];
    out += base64::kAlphabet[group & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t group = static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i])) << 16;
    if (rest == 2) group |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8;
    out += base64::kAlphabet[group >> 18];
    out += base64::kAlphabet[(group >> 12) & 63];
    out += rest == 2 ? base64::kAlphabet[(group >> 6) & 63] : '=';
    out += '=';
  }
  out += '"';
}

void append_bytes(std::string& out, std::optional<std::string_view> bytes, PayloadEncoding encoding) {
  if (!bytes) out += "null";
  else if (encoding == PayloadEncoding::base64) append_base64(out, *bytes);
  else append_string(out, *bytes);
}

std::string_view encoding_name(PayloadEncoding encoding) {
  return encoding == PayloadEncoding::base64 ? "base64" : "utf8";
}

std::string start(std::int64_t sequence, std::string_view type) {
  std::string out = "{\"sequence\":" + std::to_string(sequence) + ",\"type\":\"";
  out.append(type);
  out += '"';
  return out;
}

bool all_utf8(const RecordView& record) {
  auto ok = [](std::optional<std::string_view> bytes) { return !bytes || is_valid_utf8(*bytes); };
  if (!ok(record.key) || !ok(record.value)) return false;
  return std::all_of(record.headers.begin(), record.headers.end(),
                     [&](const HeaderView& h) { return is_valid_utf8(h.key) && ok(h.value); });
}

}  // namespace

std::variant<Command, CommandError> decode_json_command(std::string_view text, std::size_t max_bytes) {
  try {
    return decode(text, max_bytes);
  } catch (const std::bad_alloc&) {
    return CommandError{0, "out of memory decoding the command"};
  } catch (const std::exception& e) {  // every accessor above is checked first; this keeps the API's promise anyway
    return CommandError{0, std::string("internal error decoding the command: ") + e.what()};
  }
}

std::string encode_json_error(std::int64_t sequence, std::int32_t code, std::string_view message) {
  std::string out = start(sequence, "error");
  out += ",\"code\":" + std::to_string(code) + ",\"message\":";
  append_text(out, message);
  out += '}';
  return out;
}

std::string encode_json_pong(std::int64_t sequence, std::string_view state) {
  std::string out = start(sequence, "pong");
  out += ",\"state\":";
  if (is_valid_utf8(state)) {
    append_string(out, state);
  } else {
    append_base64(out, state);
    out += ",\"encoding\":\"base64\"";
  }
  out += '}';
  return out;
}

std::string encode_json_list_offset(std::int64_t sequence, std::int64_t offset) {
  return start(sequence, "list_offset") + ",\"offset\":" + std::to_string(offset) + "}";
}

std::string encode_json_fetch(std::int64_t sequence, std::string_view topic, std::int32_t partition,
                              std::span<const RecordView> records, PayloadEncoding encoding) {
  std::string out = start(sequence, "fetch");
  out += ",\"topic\":";
  append_text(out, topic);
  out += ",\"partition\":" + std::to_string(partition) + ",\"encoding\":\"";
  out.append(encoding_name(encoding));
  out += "\",\"messages\":[";
  bool first = true;
  for (const RecordView& record : records) {
    if (!first) out += ',';
    first = false;
    const PayloadEncoding used =
        encoding == PayloadEncoding::utf8 && !all_utf8(record) ? PayloadEncoding::base64 : encoding;
    out += "{\"offset\":" + std::to_string(record.offset) + ",\"timestamp\":" + std::to_string(record.timestamp);
    if (used != encoding) out += ",\"encoding\":\"base64\"";
    out += ",\"key\":";
    append_bytes(out, record.key, used);
    out += ",\"value\":";
    append_bytes(out, record.value, used);
    out += ",\"headers\":[";
    for (std::size_t h = 0; h < record.headers.size(); ++h) {
      if (h > 0) out += ',';
      out += "{\"key\":";
      append_bytes(out, record.headers[h].key, used);
      out += ",\"value\":";
      append_bytes(out, record.headers[h].value, used);
      out += '}';
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string encode_json_subscribed(std::int64_t sequence, std::span<const SubscribedPartition> partitions) {
  std::string out = start(sequence, "subscribed");
  out += ",\"partitions\":[";
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"topic\":";
    append_text(out, partitions[i].topic);
    out += ",\"partition\":" + std::to_string(partitions[i].partition) +
           ",\"offset\":" + std::to_string(partitions[i].offset) + "}";
  }
  out += "]}";
  return out;
}

std::string encode_json_unsubscribed(std::int64_t sequence) { return start(sequence, "unsubscribed") + "}"; }

std::string encode_json_produce_result(std::int64_t sequence, std::string_view topic,
                                       std::span<const ProduceOutcome> outcomes) {
  std::string out = start(sequence, "produce");
  out += ",\"topic\":";
  append_text(out, topic);
  out += ",\"offsets\":[";
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const ProduceOutcome& o = outcomes[i];
    if (i > 0) out += ',';
    out += "{\"partition\":" + std::to_string(o.partition) + ",\"offset\":" + std::to_string(o.offset) +
           ",\"error_code\":" + std::to_string(o.error_code) + ",\"error\":";
    if (o.error.empty()) out += "null";
    else append_text(out, o.error);
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace kedge::web::pubsub
