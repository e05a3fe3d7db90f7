// The users file: round trips, atomic 0600 writes, decoys, and every load error with its JSON path.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "identity/users_file.h"
#include "identity_fixture.h"
#include "temp_dir.h"

using namespace kedge;
using namespace kedge::identity;
using namespace kedge::identity::testing;
using nlohmann::json;
using kedge::config_testing::TempDir;

namespace {

std::string load_error(const std::string& text) {
  try {
    UserStore::parse(text, "users.json");
  } catch (const FileError& e) {
    return e.what();
  }
  return "(loaded)";
}

// The error for the RFC users file after `edit`.
std::string error_after(const std::function<void(json&)>& edit) {
  json document = json::parse(rfc_users_file_text());
  edit(document);
  return load_error(document.dump());
}

json& sha256_of(json& document) { return document["users"]["user"]["SCRAM-SHA-256"]; }

}  // namespace

TEST_CASE("the RFC users file loads with both credentials", "[users_file]") {
  const UserStore users = rfc_store();
  REQUIRE(users.users().size() == 1);
  const ScramCredential* sha256 = users.find("user", scram::Hash::sha256);
  const ScramCredential* sha512 = users.find("user", scram::Hash::sha512);
  REQUIRE(sha256);
  REQUIRE(sha512);
  CHECK(scram::base64_encode(sha256->salt) == kSalt);
  CHECK(sha256->iterations == 4096);
  CHECK(scram::base64_encode(sha256->stored_key) == kStoredKey256);
  CHECK(scram::base64_encode(sha512->server_key) == kServerKey512);
  CHECK(users.find("User", scram::Hash::sha256) == nullptr);  // names are case-sensitive, as Kafka's
  CHECK(users.find("nobody", scram::Hash::sha256) == nullptr);
}

TEST_CASE("serialize and parse round-trip, and the text holds no password", "[users_file]") {
  UserStore users = UserStore::create();
  for (const char* name : {"alice", "b\xc3\xa9la", "with,comma=eq", "dotted.name", "quote\"d"}) {
    UserCredentials credentials;
    credentials[scram::Hash::sha256] = make_scram_credential(scram::Hash::sha256, "hunter2-password", 4096);
    credentials[scram::Hash::sha512] = make_scram_credential(scram::Hash::sha512, "hunter2-password", 16384);
    REQUIRE(users.set_user(name, credentials));
  }
  const std::string text = users.serialize();
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.back() == '\n');
  const UserStore again = UserStore::parse(text, "memory");
  CHECK(again == users);
  CHECK(again.serialize() == text);
}

TEST_CASE("save writes atomically with mode 0600, load reads it back", "[users_file]") {
  TempDir dir("kedge-identity-test");
  const std::filesystem::path file = dir.path() / "users.json";
  UserStore users = rfc_store();
  // given an existing, more open file
  dir.write("users.json", "old");
  ::chmod(file.c_str(), 0644);
  // when
  users.save(file);
  // then
  struct stat info {};
  REQUIRE(::stat(file.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK(UserStore::load(file) == users);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++entries;
  CHECK(entries == 1);  // no temporary file left behind

  CHECK(users.remove_user("user"));
  CHECK_FALSE(users.remove_user("user"));
  users.save(file);
  CHECK(UserStore::load(file).users().empty());
}

TEST_CASE("save into a folder that does not exist fails with the path", "[users_file]") {
  TempDir dir("kedge-identity-test");
  const std::filesystem::path file = dir.path() / "missing" / "users.json";
  try {
    rfc_store().save(file);
    FAIL("saved");
  } catch (const FileError& e) {
    CHECK(std::string(e.what()).find("missing") != std::string::npos);
  }
}

TEST_CASE("load errors name the file or refuse an oversized file", "[users_file]") {
  TempDir dir("kedge-identity-test");
  CHECK_THROWS_WITH(UserStore::load(dir.path() / "absent.json"),
                    Catch::Contains("absent.json: cannot open the users file"));
  dir.write("big.json", std::string(kMaxUsersFileBytes + 1, ' '));
  CHECK_THROWS_WITH(UserStore::load(dir.path() / "big.json"), Catch::Contains("larger than"));
  dir.write("broken.json", "{\n  \"version\": 1,\n  oops\n}");
  CHECK_THROWS_WITH(UserStore::load(dir.path() / "broken.json"), Catch::Contains("broken.json:3:"));
}

TEST_CASE("every users-file error names its JSON path", "[users_file]") {
  const std::string rfc = rfc_users_file_text();
  struct Case {
    std::string error;
    std::string expected;
  };
  const std::vector<Case> cases{
      {load_error(""), "users.json:1:1: invalid JSON"},
      {load_error("[]"), "(top level): expected an object, got an array"},
      {load_error("{\"version\": 1e99999}"), "users.json: invalid JSON: number overflow parsing '1e99999'"},
      {load_error("{\"version\": 1, \"version\": 1}"), "(top level): duplicate key \"version\""},
      {load_error(R"({"version": 1, "unknown_user_secret": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",)"
                  R"( "users": {"a": {}, "a": {}}})"),
       "users: duplicate key \"a\""},
      {load_error(R"({"users": {"u": {"SCRAM-SHA-256": {"salt": "", "salt": ""}}}})"),
       "users.u.SCRAM-SHA-256: duplicate key \"salt\""},
      {error_after([](json& d) { d["extra"] = 1; }), "extra: unknown key (allowed here: version, unknown_user_secret, users)"},
      {error_after([](json& d) { d.erase("version"); }), "version: missing (this key is required)"},
      {error_after([](json& d) { d["version"] = 2; }), "version: users file version 2 is not supported"},
      {error_after([](json& d) { d["version"] = "1"; }), "version: expected an integer, got string \"1\""},
      {error_after([](json& d) { d.erase("unknown_user_secret"); }), "unknown_user_secret: missing"},
      {error_after([](json& d) { d["unknown_user_secret"] = "a2tr"; }),
       "unknown_user_secret: decodes to 3 bytes, expected 32"},
      {error_after([](json& d) { d["unknown_user_secret"] = "not base64!"; }),
       "unknown_user_secret: is not canonical base64"},
      {error_after([](json& d) { d.erase("users"); }), "users: missing"},
      {error_after([](json& d) { d["users"] = json::array(); }), "users: expected an object, got an array"},
      {error_after([](json& d) { d["users"][""] = d["users"]["user"]; }), "users[\"\"]: a user name is 1..255 bytes"},
      {error_after([](json& d) { d["users"]["tab\there"] = d["users"]["user"]; }),
       "users[\"tab\\there\"]: a user name is 1..255 bytes"},
      {error_after([](json& d) { d["users"][std::string(256, 'u')] = d["users"]["user"]; }),
       "a user name is 1..255 bytes"},
      {error_after([](json& d) { d["users"]["user"] = "pencil"; }), "users.user: expected an object, got string"},
      {error_after([](json& d) { d["users"]["user"] = json::object(); }), "users.user: a user needs at least one mechanism"},
      {error_after([](json& d) { d["users"]["user"]["PLAIN"] = json::object(); }),
       "users.user.PLAIN: unknown mechanism"},
      {error_after([](json& d) { d["users"]["user"]["scram-sha-256"] = sha256_of(d); }),
       "users.user.scram-sha-256: unknown mechanism"},
      {error_after([](json& d) { sha256_of(d)["password"] = "pencil"; }),
       "users.user.SCRAM-SHA-256.password: unknown key (allowed here: salt, iterations, stored_key, server_key)"},
      {error_after([](json& d) { sha256_of(d) = json::array(); }), "users.user.SCRAM-SHA-256: expected an object"},
      {error_after([](json& d) { sha256_of(d).erase("salt"); }), "users.user.SCRAM-SHA-256.salt: missing"},
      {error_after([](json& d) { sha256_of(d)["salt"] = 5; }), "users.user.SCRAM-SHA-256.salt: expected a string"},
      {error_after([](json& d) { sha256_of(d)["salt"] = "W22ZaJ0SNY7soEsUEjb6gQ"; }),
       "users.user.SCRAM-SHA-256.salt: is not canonical base64"},
      {error_after([](json& d) { sha256_of(d)["salt"] = "W22ZaJ0SNY7soEsUEjb6gR=="; }),
       "users.user.SCRAM-SHA-256.salt: is not canonical base64"},
      {error_after([](json& d) { sha256_of(d)["salt"] = "AAAAAAAAAAA="; }),
       "users.user.SCRAM-SHA-256.salt: decodes to 8 bytes, expected 16..128"},
      {error_after([](json& d) { sha256_of(d)["salt"] = scram::base64_encode(std::string(129, 's')); }),
       "users.user.SCRAM-SHA-256.salt: decodes to 129 bytes, expected 16..128"},
      {error_after([](json& d) { sha256_of(d).erase("iterations"); }), "users.user.SCRAM-SHA-256.iterations: missing"},
      {error_after([](json& d) { sha256_of(d)["iterations"] = 4095; }),
       "users.user.SCRAM-SHA-256.iterations: 4095 is out of range (4096..16384)"},
      {error_after([](json& d) { sha256_of(d)["iterations"] = 16385; }),
       "users.user.SCRAM-SHA-256.iterations: 16385 is out of range (4096..16384)"},
      {error_after([](json& d) { sha256_of(d)["iterations"] = -4096; }),
       "users.user.SCRAM-SHA-256.iterations: -4096 is out of range"},
      {error_after([](json& d) { sha256_of(d)["iterations"] = 4096.5; }),
       "users.user.SCRAM-SHA-256.iterations: expected an integer, got number 4096.5"},
      {error_after([](json& d) { sha256_of(d)["iterations"] = nullptr; }),
       "users.user.SCRAM-SHA-256.iterations: expected an integer, got null"},
      {error_after([](json& d) { sha256_of(d).erase("stored_key"); }), "users.user.SCRAM-SHA-256.stored_key: missing"},
      {error_after([](json& d) { sha256_of(d)["stored_key"] = kStoredKey512; }),
       "users.user.SCRAM-SHA-256.stored_key: decodes to 64 bytes, expected 32"},
      {error_after([](json& d) { d["users"]["user"]["SCRAM-SHA-512"]["server_key"] = kServerKey256; }),
       "users.user.SCRAM-SHA-512.server_key: decodes to 32 bytes, expected 64"},
      {error_after([](json& d) { sha256_of(d)["server_key"] = "*"; }),
       "users.user.SCRAM-SHA-256.server_key: is not canonical base64"},
      {error_after([](json& d) { d["users"]["a.b"] = json::object(); }), "users[\"a.b\"]: a user needs at least one"},
  };
  for (const Case& c : cases) {
    INFO(c.error);
    CHECK(c.error.find(c.expected) != std::string::npos);
  }
}

TEST_CASE("decoy credentials are deterministic per secret, name and mechanism, and shaped like real ones",
          "[users_file]") {
  UserStore users = UserStore::create();
  // given: most SHA-256 users at 8192 iterations with 16-byte salts (as if imported), one at 4096
  const auto add = [&](const std::string& name, std::uint32_t iterations, std::size_t salt_bytes) {
    ScramCredential credential = *make_scram_credential(scram::Hash::sha256, "pw", iterations);
    credential.salt.resize(salt_bytes);
    UserCredentials credentials;
    credentials[scram::Hash::sha256] = credential;
    REQUIRE(users.set_user(name, credentials));
  };
  add("a", 8192, 16);
  add("b", 8192, 16);
  add("c", 4096, 32);
  // when
  const auto decoy = users.decoy_credential("ghost", scram::Hash::sha256);
  // then
  REQUIRE(decoy);
  CHECK(decoy->iterations == 8192);
  CHECK(decoy->salt.size() == 16);
  CHECK(decoy->stored_key.size() == 32);
  CHECK(users.decoy_credential("ghost", scram::Hash::sha256) == decoy);
  CHECK(users.decoy_credential("ghost2", scram::Hash::sha256)->salt != decoy->salt);
  CHECK(users.decoy_credential("ghost", scram::Hash::sha512)->salt != decoy->salt);
  CHECK(users.decoy_credential("ghost", scram::Hash::sha512)->iterations == 4096);  // no SHA-512 users
  CHECK(UserStore::create().decoy_credential("ghost", scram::Hash::sha256)->salt != decoy->salt);  // other secret
  CHECK(users.any_user_has(scram::Hash::sha256));
  CHECK_FALSE(users.any_user_has(scram::Hash::sha512));
}

TEST_CASE("set_user refuses invalid names and empty credentials, make_scram_credential bounds iterations",
          "[users_file]") {
  UserStore users = UserStore::create();
  UserCredentials credentials;
  credentials[scram::Hash::sha256] = make_scram_credential(scram::Hash::sha256, "pw", 4096);
  CHECK_FALSE(users.set_user("", credentials));
  CHECK_FALSE(users.set_user("new\nline", credentials));
  CHECK_FALSE(users.set_user("ok", UserCredentials{}));
  CHECK(users.set_user("ok", credentials));
  CHECK_FALSE(make_scram_credential(scram::Hash::sha256, "pw", 4095));
  CHECK_FALSE(make_scram_credential(scram::Hash::sha256, "pw", 16385));
  const auto a = make_scram_credential(scram::Hash::sha256, "pw", 4096);
  const auto b = make_scram_credential(scram::Hash::sha256, "pw", 4096);
  CHECK(a->salt.size() == kNewSaltBytes);
  CHECK(a->salt != b->salt);
  CHECK(a->stored_key != b->stored_key);
}
