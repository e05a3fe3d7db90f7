// common/audit_log.h: whole lines from concurrent writers, reopen after the file was moved away (rotation),
// and a clear error when the file cannot be opened.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/audit_log.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using kedge::AuditLog;

namespace {

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("audit lines from concurrent writers arrive whole, appended", "[audit]") {
  kedge::config_testing::TempDir dir("kedge-audit-test");
  const fs::path path = dir.path() / "audit.jsonl";
  { std::ofstream(path) << "{\"kept\":true}\n"; }  // an existing file is appended to, never truncated
  AuditLog log(path.string());
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&log, w] {
      for (int i = 0; i < 500; ++i) log.append("{\"writer\":" + std::to_string(w) + ",\"i\":" + std::to_string(i) +
                                               ",\"pad\":\"" + std::string(200, 'x') + "\"}");
    });
  }
  for (auto& t : writers) t.join();
  const auto lines = lines_of(path);
  REQUIRE(lines.size() == 2001);
  CHECK(lines[0] == "{\"kept\":true}");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    CHECK(lines[i].front() == '{');
    CHECK(lines[i].back() == '}');
    CHECK(lines[i].size() > 200);
  }
  CHECK(log.failed_writes() == 0);
}

TEST_CASE("reopen after the file was moved away writes to a new file at the path", "[audit]") {
  kedge::config_testing::TempDir dir("kedge-audit-test");
  const fs::path path = dir.path() / "audit.jsonl";
  AuditLog log(path.string());
  log.append("before");
  fs::rename(path, dir.path() / "audit.jsonl.1");
  log.append("still to the moved file");
  CHECK(log.reopen().empty());
  log.append("after");
  CHECK(lines_of(dir.path() / "audit.jsonl.1") == std::vector<std::string>{"before", "still to the moved file"});
  CHECK(lines_of(path) == std::vector<std::string>{"after"});
  // A path that cannot be opened any more: the old descriptor is kept, nothing is lost.
  fs::remove(path);
  fs::create_directory(path);  // a directory where the file was
  CHECK_FALSE(log.reopen().empty());
  log.append("kept on the open file");
  CHECK(log.failed_writes() == 0);
}

TEST_CASE("an audit log that cannot be opened is an error naming the path", "[audit]") {
  kedge::config_testing::TempDir dir("kedge-audit-test");
  const std::string path = (dir.path() / "missing-folder" / "audit.jsonl").string();
  try {
    AuditLog log(path);
    FAIL("no error");
  } catch (const std::runtime_error& error) {
    CHECK(std::string(error.what()) == "cannot open the audit log " + path + " for appending: No such file or directory");
  }
}
