#pragma once
// The strict JSON reader of every file kedge loads (the configuration, the users file, JWKS files):
// duplicate keys are refused while parsing (RFC 8259 §4 leaves them open; nlohmann keeps the last, and two
// "bind" keys are almost certainly a mistake), every object is read against the list of keys it may hold
// (so a typo such as "advertized_port" cannot fall back to a default unnoticed), values have exactly the
// expected JSON type, and every error names the JSON path of the offending value
// ("listeners[0].tls.cert: ...", "users[\"a.b\"].SCRAM-SHA-256.iterations: ...").
//
// Load time only: everything here throws FileError. Nothing on the data path calls it.
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kedge {

// A file kedge cannot use, with the JSON path or FILE:LINE:COLUMN in the message.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace strict_json {

// Throws FileError("<path>: <what>"), "(top level)" for the empty path.
[[noreturn]] void fail(std::string_view path, std::string_view what);

// `parent.key`, or `parent["key"]` (JSON-escaped) when the key is not a plain [A-Za-z0-9_-] token, so a
// user name holding '.', '"' or spaces still gives an unambiguous path.
std::string member_path(std::string_view parent, std::string_view key);
std::string element_path(std::string_view parent, std::size_t index);  // `parent[index]`
// A short rendering of a value for messages: its type and at most 80 characters of it.
std::string describe(const nlohmann::json& value);

// Parses `text`, refusing duplicate keys at any depth ("<container path>: duplicate key \"k\"").
// Syntax errors become "<origin>:LINE:COLUMN: invalid JSON: ..."; a number beyond a double's range
// (nlohmann's out_of_range 406, which has no position) "<origin>: invalid JSON: number overflow ...".
nlohmann::json parse(std::string_view text, std::string_view origin);

// An object read against the keys it may contain.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& object, std::string path, std::initializer_list<std::string_view> allowed);

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return member_path(path_, key); }
  bool has(std::string_view key) const { return object_.contains(key); }
  const nlohmann::json& required(std::string_view key) const;
  const nlohmann::json* optional(std::string_view key) const;  // nullptr when absent

 private:
  const nlohmann::json& object_;
  std::string path_;
};

// An object whose keys are data (user names): must be an object; the caller walks items().
const nlohmann::json& expect_object(const nlohmann::json& value, std::string_view path);
const std::string& expect_string(const nlohmann::json& value, std::string_view path);
const std::string& expect_non_empty_string(const nlohmann::json& value, std::string_view path);
const nlohmann::json& expect_array(const nlohmann::json& value, std::string_view path);
std::uint64_t expect_integer(const nlohmann::json& value, std::string_view path, std::uint64_t min,
                             std::uint64_t max);

}  // namespace strict_json
}  // namespace kedge
