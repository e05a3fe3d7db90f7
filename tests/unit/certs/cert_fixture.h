#pragma once
// Test helper: a temporary directory filled by tests/integration/make_certs.sh.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "../config/temp_dir.h"

namespace kedge::certs::testing {

// The config tests' temporary directory (removed afterwards), named for these tests.
class TempDir : public kedge::config_testing::TempDir {
 public:
  TempDir() : kedge::config_testing::TempDir("kedge-certs-test") {}
};

inline std::string read_file(const std::filesystem::path& file) {
  std::ifstream stream(file, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

// Runs a shell command; throws with its combined output if it fails.
inline void run(const std::string& command, const std::filesystem::path& log) {
  const std::string full = command + " >'" + log.string() + "' 2>&1";
  if (std::system(full.c_str()) != 0) {
    throw std::runtime_error("command failed: " + command + "\n" + read_file(log));
  }
}

// Runs make_certs.sh DIR DOMAIN... into `dir`.
inline void make_certs(const std::filesystem::path& dir, const std::string& domains) {
  run(std::string("'") + KEDGE_MAKE_CERTS_SCRIPT + "' '" + dir.string() + "' " + domains,
      dir.parent_path() / (dir.filename().string() + ".log"));
}

// A directory with make_certs.sh output for kafka.example.com.
struct CertTree {
  TempDir tmp;
  std::filesystem::path dir = tmp.path() / "tls";
  CertTree() { make_certs(dir, "kafka.example.com"); }
  std::filesystem::path operator/(const char* name) const { return dir / name; }
};

}  // namespace kedge::certs::testing
