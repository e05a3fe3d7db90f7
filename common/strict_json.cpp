#include "common/strict_json.h"

#include <set>
#include <vector>

#include <fmt/format.h>

namespace kedge::strict_json {
namespace {

using nlohmann::json;

bool is_plain_key(std::string_view key) {
  if (key.empty()) return false;
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string element_path(std::string_view parent, std::size_t index) { return fmt::format("{}[{}]", parent, index); }

std::string describe(const json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  if (value.is_null()) return "null";
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return fmt::format("{} {}", value.type_name(), text);
}

namespace {

// Tracks the JSON path through the parser's event stream and refuses a key seen twice in one object.
class DuplicateKeyGuard {
 public:
  void on_event(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        frames_.push_back(Frame{false, 0, {}, {}});
        break;
      case json::parse_event_t::array_start:
        frames_.push_back(Frame{true, 0, {}, {}});
        break;
      case json::parse_event_t::key: {
        Frame& object = frames_.back();
        std::string key = parsed.get<std::string>();
        if (!object.seen_keys.insert(key).second) fail(container_path(), fmt::format("duplicate key \"{}\"", key));
        object.key = std::move(key);
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        element_done();
        break;
      case json::parse_event_t::value:
        element_done();
        break;
    }
  }

 private:
  struct Frame {
    bool is_array;
    std::size_t index;
    std::string key;
    std::set<std::string> seen_keys;
  };

  void element_done() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }

  std::string container_path() const {
    std::string path;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      path = frames_[i].is_array ? element_path(path, frames_[i].index) : member_path(path, frames_[i].key);
    }
    return path;
  }

  std::vector<Frame> frames_;
};

}  // namespace

void fail(std::string_view path, std::string_view what) {
  throw FileError(fmt::format("{}: {}", path.empty() ? std::string_view("(top level)") : path, what));
}

std::string member_path(std::string_view parent, std::string_view key) {
  if (is_plain_key(key)) return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
  const std::string quoted = json(std::string(key)).dump(-1, ' ', false, json::error_handler_t::replace);
  return fmt::format("{}[{}]", parent, quoted);
}

nlohmann::json parse(std::string_view text, std::string_view origin) {
  DuplicateKeyGuard guard;
  try {
    return json::parse(text.begin(), text.end(), [&guard](int /*depth*/, json::parse_event_t event, json& parsed) {
      guard.on_event(event, parsed);
      return true;
    });
  } catch (const json::parse_error& error) {
    std::size_t line = 1, column = 1;
    const std::size_t end = std::min<std::size_t>(error.byte == 0 ? 0 : error.byte - 1, text.size());
    for (std::size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string_view reason = error.what();
    if (const auto pos = reason.find(": "); pos != std::string_view::npos) reason.remove_prefix(pos + 2);
    throw FileError(fmt::format("{}:{}:{}: invalid JSON: {}", origin, line, column, reason));
  } catch (const json::exception& error) {
    // Not only parse_error: a number too large for a double ("1e99999") is out_of_range 406, thrown by the
    // same parse call without a position.
    std::string_view reason = error.what();
    if (const auto pos = reason.find("] "); pos != std::string_view::npos) reason.remove_prefix(pos + 2);
    throw FileError(fmt::format("{}: invalid JSON: {}", origin, reason));
  }
}

ObjectReader::ObjectReader(const json& object, std::string path, std::initializer_list<std::string_view> allowed)
    : object_(object), path_(std::move(path)) {
  expect_object(object, path_);
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const std::string_view candidate : allowed) known = known || candidate == key;
    if (!known) {
      std::string list;
      for (const std::string_view candidate : allowed) {
        list += list.empty() ? "" : ", ";
        list += candidate;
      }
      fail(member_path(path_, key), fmt::format("unknown key (allowed here: {})", list));
    }
  }
}

const json& ObjectReader::required(std::string_view key) const {
  const auto it = object_.find(key);
  if (it == object_.end()) fail(path_of(key), "missing (this key is required)");
  return *it;
}

const json& expect_object(const json& value, std::string_view path) {
  if (!value.is_object()) fail(path, fmt::format("expected an object, got {}", describe(value)));
  return value;
}

const json* ObjectReader::optional(std::string_view key) const {
  const auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

const std::string& expect_string(const json& value, std::string_view path) {
  if (!value.is_string()) fail(path, fmt::format("expected a string, got {}", describe(value)));
  return value.get_ref<const std::string&>();
}

const std::string& expect_non_empty_string(const json& value, std::string_view path) {
  const std::string& text = expect_string(value, path);
  if (text.empty()) fail(path, "must not be empty");
  return text;
}

const json& expect_array(const json& value, std::string_view path) {
  if (!value.is_array()) fail(path, fmt::format("expected an array, got {}", describe(value)));
  return value;
}

std::uint64_t expect_integer(const json& value, std::string_view path, std::uint64_t min, std::uint64_t max) {
  if (!value.is_number_integer()) fail(path, fmt::format("expected an integer, got {}", describe(value)));
  if (value.is_number_unsigned()) {
    const auto number = value.get<std::uint64_t>();
    if (number < min || number > max) fail(path, fmt::format("{} is out of range ({}..{})", number, min, max));
    return number;
  }
  const auto number = value.get<std::int64_t>();
  if (number < 0 || static_cast<std::uint64_t>(number) < min || static_cast<std::uint64_t>(number) > max) {
    fail(path, fmt::format("{} is out of range ({}..{})", number, min, max));
  }
  return static_cast<std::uint64_t>(number);
}

}  // namespace kedge::strict_json
