#pragma once
// The one command-line parser of every `kedge <command>`: each command lists
// its options (name, optional short alias, whether it takes a value); parse()
// checks the words against that list. A word that is no listed option, an
// option given twice, or an option missing its value is a usage error whose
// text names the word, so every command reports mistakes the same way.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kedge::cli {

struct OptionSpec {
  std::string_view name;        // "--config"
  std::string_view alias = {};  // "-c", or empty
  bool takes_value = false;
};

class Args {
 public:
  // The options of `words` (the words after the command), or nullopt with `error` set.
  static std::optional<Args> parse(std::span<const std::string_view> words, std::span<const OptionSpec> specs,
                                   std::string& error);

  bool has(std::string_view name) const;
  // The value given to `name`, or nullopt when the option was not given.
  std::optional<std::string> value(std::string_view name) const;
  // The integer value of `name` within [min, max]: nullopt when absent; false in `ok` when not such an integer.
  std::optional<std::int64_t> integer(std::string_view name, std::int64_t min, std::int64_t max, bool& ok) const;

 private:
  struct Given {
    std::string_view name;
    std::string value;
  };
  std::vector<Given> given_;
};

}  // namespace kedge::cli
