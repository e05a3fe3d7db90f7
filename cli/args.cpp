#include "cli/args.h"

#include <charconv>

namespace kedge::cli {

std::optional<Args> Args::parse(std::span<const std::string_view> words, std::span<const OptionSpec> specs,
                                std::string& error) {
  Args args;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string_view word = words[i];
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& candidate : specs) {
      if (word == candidate.name || (!candidate.alias.empty() && word == candidate.alias)) spec = &candidate;
    }
    if (spec == nullptr) {
      error = "unexpected argument '" + std::string(word) + "'";
      return std::nullopt;
    }
    if (args.has(spec->name)) {
      error = std::string(spec->name) + " given twice";
      return std::nullopt;
    }
    Given given{spec->name, {}};
    if (spec->takes_value) {
      if (i + 1 >= words.size()) {
        error = std::string(spec->name) + " needs a value";
        return std::nullopt;
      }
      given.value = std::string(words[++i]);
    }
    args.given_.push_back(std::move(given));
  }
  return args;
}

bool Args::has(std::string_view name) const {
  for (const Given& given : given_)
    if (given.name == name) return true;
  return false;
}

std::optional<std::string> Args::value(std::string_view name) const {
  for (const Given& given : given_)
    if (given.name == name) return given.value;
  return std::nullopt;
}

std::optional<std::int64_t> Args::integer(std::string_view name, std::int64_t min, std::int64_t max, bool& ok) const {
  ok = true;
  const std::optional<std::string> text = value(name);
  if (!text) return std::nullopt;
  std::int64_t parsed = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), parsed);
  if (ec != std::errc() || end != text->data() + text->size() || parsed < min || parsed > max) {
    ok = false;
    return std::nullopt;
  }
  return parsed;
}

}  // namespace kedge::cli
