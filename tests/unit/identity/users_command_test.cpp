// `kedge users add|remove|list`, called as the binary calls it (argument words, a password stream).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "cli/commands.h"
#include "cli/users.h"
#include "identity/plain.h"
#include "identity/users_file.h"
#include "temp_dir.h"

using namespace kedge;
using kedge::config_testing::TempDir;

namespace {

struct Run {
  int exit_code = -1;
  std::string out;
};

// Runs `kedge users <words>` with `input` on standard input, capturing standard output.
Run users(std::vector<std::string> words, const std::string& input = "") {
  std::vector<std::string_view> views(words.begin(), words.end());
  std::FILE* in = std::tmpfile();
  std::fwrite(input.data(), 1, input.size(), in);
  std::rewind(in);
  std::FILE* out = std::tmpfile();
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ::dup2(fileno(out), STDOUT_FILENO);
  Run run;
  run.exit_code = cli::users_command(views, in);
  std::fflush(stdout);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  std::rewind(out);
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, out)) > 0) run.out.append(buffer, n);
  std::fclose(in);
  std::fclose(out);
  return run;
}

bool plain_login(const identity::UserStore& store, const std::string& name, const std::string& password) {
  std::string message = std::string(1, '\0') + name + std::string(1, '\0') + password;
  return std::holds_alternative<identity::Authenticated>(identity::authenticate_plain(message, store));
}

}  // namespace

TEST_CASE("add from standard input creates the file, the password works and is not stored", "[users_command]") {
  TempDir dir("kedge-users-test");
  const std::string file = (dir.path() / "users.json").string();
  // when
  const Run run = users({"add", "alice", "--file", file}, "correct horse\n");
  // then
  CHECK(run.exit_code == cli::kExitOk);
  CHECK(run.out.find("added user alice") != std::string::npos);
  const identity::UserStore store = identity::UserStore::load(file);
  CHECK(store.find("alice", scram::Hash::sha256) != nullptr);
  CHECK(store.find("alice", scram::Hash::sha512) != nullptr);
  CHECK(store.find("alice", scram::Hash::sha256)->iterations == 4096);
  CHECK(plain_login(store, "alice", "correct horse"));
  CHECK_FALSE(plain_login(store, "alice", "correct horse\n"));
  CHECK(store.serialize().find("correct horse") == std::string::npos);
}

TEST_CASE("add with a password file, one mechanism and more iterations, re-adding replaces", "[users_command]") {
  TempDir dir("kedge-users-test");
  const std::string file = (dir.path() / "users.json").string();
  const std::string password_file = dir.write("pw", "first\r\n").string();
  REQUIRE(users({"add", "bob", "--file", file, "--password-file", password_file, "--mechanisms", "SCRAM-SHA-512",
                 "--iterations", "8192"})
              .exit_code == cli::kExitOk);
  identity::UserStore store = identity::UserStore::load(file);
  CHECK(store.find("bob", scram::Hash::sha256) == nullptr);
  CHECK(store.find("bob", scram::Hash::sha512)->iterations == 8192);
  CHECK(plain_login(store, "bob", "first"));
  // when
  const Run again = users({"add", "bob", "--file", file, "--mechanisms", "SCRAM-SHA-256"}, "second");
  // then
  CHECK(again.exit_code == cli::kExitOk);
  CHECK(again.out.find("replaced the credentials of user bob") != std::string::npos);
  store = identity::UserStore::load(file);
  CHECK(store.find("bob", scram::Hash::sha512) == nullptr);
  CHECK(plain_login(store, "bob", "second"));
  CHECK_FALSE(plain_login(store, "bob", "first"));
}

TEST_CASE("list shows names and mechanisms, never salts or keys, remove removes", "[users_command]") {
  TempDir dir("kedge-users-test");
  const std::string file = (dir.path() / "users.json").string();
  REQUIRE(users({"add", "alice", "--file", file}, "pw-a").exit_code == cli::kExitOk);
  REQUIRE(users({"add", "bob", "--file", file, "--mechanisms", "SCRAM-SHA-256"}, "pw-b").exit_code == cli::kExitOk);
  const identity::UserStore store = identity::UserStore::load(file);
  // when
  const Run listed = users({"list", "--file", file});
  // then
  CHECK(listed.exit_code == cli::kExitOk);
  CHECK(listed.out ==
        "alice\tSCRAM-SHA-256 (4096 iterations), SCRAM-SHA-512 (4096 iterations)\nbob\tSCRAM-SHA-256 (4096 "
        "iterations)\n");
  CHECK(listed.out.find(scram::base64_encode(store.find("alice", scram::Hash::sha256)->stored_key)) ==
        std::string::npos);
  // when
  CHECK(users({"remove", "alice", "--file", file}).exit_code == cli::kExitOk);
  CHECK(users({"remove", "alice", "--file", file}).exit_code == cli::kExitFailure);
  // then
  CHECK(users({"list", "--file", file}).out == "bob\tSCRAM-SHA-256 (4096 iterations)\n");
}

TEST_CASE("bad passwords are refused and change nothing", "[users_command]") {
  TempDir dir("kedge-users-test");
  const std::string file = (dir.path() / "users.json").string();
  REQUIRE(users({"add", "alice", "--file", file}, "keep-me").exit_code == cli::kExitOk);
  for (const std::string& input : {std::string(""), std::string("\n"), std::string("\r\n"), std::string(256, 'p'),
                                   std::string("two\nlines"), std::string("nul\0inside", 10)}) {
    INFO(input.size());
    CHECK(users({"add", "alice", "--file", file}, input).exit_code == cli::kExitFailure);
  }
  CHECK(users({"add", "alice", "--file", file, "--password-file", (dir.path() / "absent").string()}).exit_code ==
        cli::kExitFailure);
  CHECK(plain_login(identity::UserStore::load(file), "alice", "keep-me"));
  CHECK(users({"add", "p255", "--file", file}, std::string(255, 'p')).exit_code == cli::kExitOk);
}

TEST_CASE("usage errors exit 2, file errors exit 1", "[users_command]") {
  TempDir dir("kedge-users-test");
  const std::string file = (dir.path() / "users.json").string();
  for (const std::vector<std::string>& words : std::vector<std::vector<std::string>>{
           {},
           {"rename", "a", "--file", file},
           {"add"},
           {"add", "--file", file},
           {"add", "alice"},
           {"add", "alice", "--file", file, "--password", "secret"},
           {"add", "alice", "--file", file, "secret"},
           {"add", "alice", "--file", file, "--mechanisms", "PLAIN"},
           {"add", "alice", "--file", file, "--mechanisms", "SCRAM-SHA-256,"},
           {"add", "alice", "--file", file, "--iterations", "4095"},
           {"add", "alice", "--file", file, "--iterations", "16385"},
           {"add", "bad\tname", "--file", file},
           {"add", "alice", "--file", file, "--file", file},
           {"remove", "alice"},
           {"list"},
           {"list", "--file", file, "--json"},
       }) {
    INFO(words.size());
    CHECK(users(words, "pw").exit_code == cli::kExitUsage);
  }
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK(users({"list", "--file", file}).exit_code == cli::kExitFailure);
  CHECK(users({"remove", "alice", "--file", file}).exit_code == cli::kExitFailure);
  dir.write("users.json", "{\"version\": 1}");
  CHECK(users({"add", "alice", "--file", file}, "pw").exit_code == cli::kExitFailure);
  CHECK(users({"list", "--file", file}).exit_code == cli::kExitFailure);
}
