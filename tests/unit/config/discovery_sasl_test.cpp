// backend.discovery.sasl: what loads, and one row per error with its exact path.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config_tree.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Tree : kedge::config_testing::ConfigTree {
  Tree() : ConfigTree("kedge-sasl-config-test", {"tls/server.pem", "tls/server.key"}) {
    write("secrets/discovery.password", "s3cret-Pa55\n");
    write("secrets/crlf.password", "with spaces kept \r\n");
    write("secrets/empty.password", "\n");
  }
};

json config_with(json discovery) {
  json document = json::parse(R"({
    "listeners": [{"name": "sni", "bind": "0.0.0.0:9092", "tls": {"cert": "tls/server.pem", "key": "tls/server.key"}}],
    "virtual_clusters": [
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}}
    ]
  })");
  document["virtual_clusters"][0]["backend"]["discovery"] = std::move(discovery);
  return document;
}

json good_sasl() {
  return json::parse(R"({"mechanism": "SCRAM-SHA-512", "username": "kedge-discovery",
                         "password_file": "secrets/discovery.password"})");
}

}  // namespace

TEST_CASE("discovery sasl: mechanism, user and the password file's content without its line end", "[config][sasl]") {
  const Tree tree;
  const kedge::Config config = tree.load(config_with({{"sasl", good_sasl()}}));
  const auto& sasl = config.virtual_clusters[0].backend.discovery_sasl;
  REQUIRE(sasl.has_value());
  CHECK(sasl->mechanism == kedge::SaslMechanism::scram_sha_512);
  CHECK(sasl->username == "kedge-discovery");
  CHECK(sasl->password_file == tree.dir / "secrets/discovery.password");
  CHECK(sasl->password == "s3cret-Pa55");
  CHECK(config.virtual_clusters[0].backend.discovery == kedge::DiscoveryMode::metadata);

  json crlf = good_sasl();
  crlf["mechanism"] = "PLAIN";
  crlf["password_file"] = "secrets/crlf.password";
  const kedge::Config plain = tree.load(config_with({{"mode", "static"}, {"pattern", "b-$(nodeId):9092"}, {"sasl", crlf}}));
  const auto& plain_sasl = plain.virtual_clusters[0].backend.discovery_sasl;
  REQUIRE(plain_sasl.has_value());
  CHECK(plain_sasl->mechanism == kedge::SaslMechanism::plain);
  CHECK(plain_sasl->password == "with spaces kept ");  // only CR/LF are trimmed
  CHECK(plain.virtual_clusters[0].backend.discovery == kedge::DiscoveryMode::static_pattern);

  CHECK_FALSE(tree.load(config_with(json::object())).virtual_clusters[0].backend.discovery_sasl.has_value());
  CHECK(kedge::to_string(kedge::SaslMechanism::scram_sha_256) == "SCRAM-SHA-256");
}

TEST_CASE("discovery sasl errors name the exact JSON path and never the password", "[config][sasl][errors]") {
  struct Row {
    const char* what;
    std::function<void(json&)> mutate;
    std::string message;
  };
  const std::string at = "virtual_clusters[0].backend.discovery.sasl";
  const std::vector<Row> rows = {
      {"not an object", [](json& s) { s = "PLAIN"; }, at + ": expected an object, got string \"PLAIN\""},
      {"unknown key", [](json& s) { s["password"] = "inline"; },
       at + ".password: unknown key (allowed here: mechanism, username, password_file)"},
      {"mechanism missing", [](json& s) { s.erase("mechanism"); }, at + ".mechanism: missing (this key is required)"},
      {"mechanism unknown", [](json& s) { s["mechanism"] = "GSSAPI"; },
       at + ".mechanism: \"GSSAPI\" is not a SASL mechanism kedge speaks (expected PLAIN, SCRAM-SHA-256 or "
            "SCRAM-SHA-512)"},
      {"mechanism lower case", [](json& s) { s["mechanism"] = "plain"; },
       at + ".mechanism: \"plain\" is not a SASL mechanism kedge speaks (expected PLAIN, SCRAM-SHA-256 or "
            "SCRAM-SHA-512)"},
      {"username missing", [](json& s) { s.erase("username"); }, at + ".username: missing (this key is required)"},
      {"username empty", [](json& s) { s["username"] = ""; }, at + ".username: must not be empty"},
      {"username not a string", [](json& s) { s["username"] = 7; }, at + ".username: expected a string, got number 7"},
      {"username with NUL", [](json& s) { s["username"] = std::string("a\0b", 3); },
       at + ".username: contains a control character"},
      {"password_file missing", [](json& s) { s.erase("password_file"); },
       at + ".password_file: missing (this key is required)"},
      {"password_file absent", [](json& s) { s["password_file"] = "secrets/none"; },
       at + ".password_file: file \"secrets/none\" (resolved {dir}/secrets/none) does not exist"},
      {"password_file a folder", [](json& s) { s["password_file"] = "secrets"; },
       at + ".password_file: file \"secrets\" (resolved {dir}/secrets) is not a regular file"},
      {"password_file empty", [](json& s) { s["password_file"] = "secrets/empty.password"; },
       at + ".password_file: password file {dir}/secrets/empty.password is empty"},
  };
  const Tree tree;
  for (const Row& row : rows) {
    INFO(row.what);
    json sasl = good_sasl();
    row.mutate(sasl);
    const std::string error = tree.error_of(config_with({{"sasl", sasl}}));
    CHECK(error == tree.with_dir(row.message));
    CHECK(error.find("s3cret") == std::string::npos);
  }
  CHECK(tree.error_of(config_with({{"sasl", good_sasl()}, {"sasl_mechanism", "PLAIN"}})) ==
        "virtual_clusters[0].backend.discovery.sasl_mechanism: unknown key (allowed here: mode, pattern, sasl)");
}
