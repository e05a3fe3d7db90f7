#pragma once
// Shared by the config tests: a temporary directory with placeholder
// certificate/key files, and config documents loaded from it the way
// `kedge run --config` loads a file.
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "temp_dir.h"

namespace kedge::config_testing {

inline void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t pos = 0; (pos = text.find(from, pos)) != std::string::npos; pos += to.size()) {
    text.replace(pos, from.size(), to);
  }
}

// The message of the ConfigError `action` throws, or a marker when it throws none.
inline std::string config_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const kedge::ConfigError& error) {
    return error.what();
  }
  return "<no ConfigError thrown>";
}

class ConfigTree {
 public:
  ConfigTree(const std::string& prefix, std::initializer_list<const char*> placeholder_files) : temp(prefix) {
    for (const char* name : placeholder_files) temp.write(name, "placeholder\n");
  }

  TempDir temp;
  const std::filesystem::path& dir = temp.path();

  std::filesystem::path write(const std::filesystem::path& relative, const std::string& content) const {
    return temp.write(relative, content);
  }
  kedge::Config load(const nlohmann::json& document) const {
    return kedge::load_config(temp.write("kedge.json", document.dump(2)));
  }
  std::string error_of(const nlohmann::json& document) const {
    return config_error_of([&] { load(document); });
  }
  // An expected error message with "{dir}" standing for this tree's directory.
  std::string with_dir(std::string message) const {
    replace_all(message, "{dir}", dir.string());
    return message;
  }
};

}  // namespace kedge::config_testing
