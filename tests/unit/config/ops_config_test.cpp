// Operations keys: "admin", "log.format", "listeners[].proxy_protocol".
// Defaults, accepted values and path-precise errors.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config_tree.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Tree : kedge::config_testing::ConfigTree {
  Tree() : ConfigTree("kedge-ops-config", {"tls/c.pem", "tls/c.key"}) {}
};

json base() {
  return json::parse(R"({
    "listeners": [{"name": "public", "bind": "0.0.0.0:9092", "tls": {"cert": "tls/c.pem", "key": "tls/c.key"}}],
    "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
                          "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}}]
  })");
}

}  // namespace

TEST_CASE("operations defaults: admin on 127.0.0.1:9644 without token, text logs, no PROXY protocol",
          "[config][ops]") {
  const Tree tree;
  const kedge::Config config = tree.load(base());
  CHECK(config.admin.enabled);
  CHECK(config.admin.bind.to_string() == "127.0.0.1:9644");
  CHECK(config.admin.token.empty());
  CHECK_FALSE(config.admin.token_file.has_value());
  CHECK(config.admin.readiness_probe_interval_ms == 10'000);
  CHECK(config.admin.principal_metric_limit == 0);
  CHECK(config.log.format == kedge::LogFormat::text);
  CHECK(config.listeners[0].proxy_protocol == kedge::ProxyProtocolMode::off);
}

TEST_CASE("operations keys are read", "[config][ops]") {
  const Tree tree;
  tree.write("secret/admin.token", "  s3cr3t-T0ken_~+/=\n");
  json document = base();
  document["admin"] = {{"bind", "[::1]:0"}, {"token_file", "secret/admin.token"}, {"readiness_probe_interval_ms", 500},
                       {"principal_metric_limit", 20}};
  document["log"] = {{"level", "debug"}, {"format", "json"}};
  document["listeners"][0]["proxy_protocol"] = "required";
  const kedge::Config config = tree.load(document);
  CHECK(config.admin.bind.host == "::1");
  CHECK(config.admin.bind.port == 0);
  CHECK(config.admin.token == "s3cr3t-T0ken_~+/=");
  CHECK(config.admin.token_file == tree.dir / "secret/admin.token");
  CHECK(config.admin.readiness_probe_interval_ms == 500);
  CHECK(config.admin.principal_metric_limit == 20);
  CHECK(config.log.format == kedge::LogFormat::json);
  CHECK(config.listeners[0].proxy_protocol == kedge::ProxyProtocolMode::required);

  document["listeners"][0]["proxy_protocol"] = "optional";
  document["admin"] = {{"enabled", false}};
  const kedge::Config optional = tree.load(document);
  CHECK(optional.listeners[0].proxy_protocol == kedge::ProxyProtocolMode::optional);
  CHECK_FALSE(optional.admin.enabled);
}

TEST_CASE("operations key errors name the JSON path", "[config][ops][errors]") {
  const Tree tree;
  tree.write("empty.token", " \n");
  tree.write("bad.token", "two words\n");
  struct Case {
    const char* what;
    std::function<void(json&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"unknown admin key", [](json& d) { d["admin"] = {{"port", 1}}; },
       "admin.port: unknown key (allowed here: enabled, bind, token_file, readiness_probe_interval_ms, "
       "principal_metric_limit)"},
      {"admin not an object", [](json& d) { d["admin"] = true; }, "admin: expected an object, got boolean true"},
      {"enabled not a boolean", [](json& d) { d["admin"] = {{"enabled", "no"}}; },
       "admin.enabled: expected true or false, got string \"no\""},
      {"bind without port", [](json& d) { d["admin"] = {{"bind", "127.0.0.1"}}; },
       "admin.bind: \"127.0.0.1\" is not host:port (expected HOST:PORT or [IPv6]:PORT)"},
      {"bind clashes with a listener", [](json& d) { d["admin"] = {{"bind", "127.0.0.1:9092"}}; },
       "admin.bind: 127.0.0.1:9092 conflicts with listener \"public\" (listeners[0].bind); set admin.bind"},
      {"disabled but bound", [](json& d) { d["admin"] = {{"enabled", false}, {"bind", "127.0.0.1:1"}}; },
       "admin.enabled: false, but admin.bind is set (remove one of them)"},
      {"missing token file", [](json& d) { d["admin"] = {{"token_file", "/nonexistent/kedge.token"}}; },
       "admin.token_file: file \"/nonexistent/kedge.token\" does not exist"},
      {"empty token file", [](json& d) { d["admin"] = {{"token_file", "empty.token"}}; }, "EMPTY"},
      {"token with a space", [](json& d) { d["admin"] = {{"token_file", "bad.token"}}; },
       "admin.token_file: token contains characters outside RFC 6750 b64token (A-Z a-z 0-9 - . _ ~ + / =)"},
      {"probe interval too small", [](json& d) { d["admin"] = {{"readiness_probe_interval_ms", 10}}; },
       "admin.readiness_probe_interval_ms: 10 is out of range (100..3600000)"},
      {"principal metric limit too large", [](json& d) { d["admin"] = {{"principal_metric_limit", 1001}}; },
       "admin.principal_metric_limit: 1001 is out of range (0..1000)"},
      {"unknown log format", [](json& d) { d["log"] = {{"format", "logfmt"}}; },
       "log.format: \"logfmt\" is not a log format (expected text or json)"},
      {"unknown proxy mode", [](json& d) { d["listeners"][0]["proxy_protocol"] = "v2"; },
       "listeners[0].proxy_protocol: \"v2\" is not a PROXY protocol mode (expected off, optional or required)"},
      {"proxy mode as boolean", [](json& d) { d["listeners"][0]["proxy_protocol"] = true; },
       "listeners[0].proxy_protocol: expected a string, got boolean true"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    json document = base();
    c.mutate(document);
    std::string expected = c.message;
    if (expected == "EMPTY") expected = "admin.token_file: token file " + (tree.dir / "empty.token").string() + " is empty";
    CHECK(tree.error_of(document) == expected);
  }
}
