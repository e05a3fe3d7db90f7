// Configuration loading: the documented example, defaults, path resolution,
// and one table row per error class with the exact message (path first).
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

using kedge::config_testing::TempDir;
using kedge::config_testing::config_error_of;
using kedge::config_testing::replace_all;

// The example from the configuration reference. The TLS files only have to
// exist and be readable: PEM parsing is certs/'s job, not the config's.
json example_config() {
  return json::parse(R"({
    "listeners": [
      {"name": "public", "bind": "0.0.0.0:9092", "advertised_port": 9092,
       "tls": {"cert": "tls/wildcard.pem", "key": "tls/wildcard.key"}}
    ],
    "virtual_clusters": [
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092", "10.0.0.6:9092"]}},
      {"name": "beta", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.1.5:9092"]}}
    ],
    "log": {"level": "info"}
  })");
}

// A directory holding the example's TLS files.
struct ExampleTree {
  TempDir dir;
  ExampleTree() {
    dir.write("tls/wildcard.pem", "placeholder certificate\n");
    dir.write("tls/wildcard.key", "placeholder key\n");
  }
  kedge::Config load(const json& config) const {
    return kedge::load_config(dir.write("kedge.json", config.dump(2)));
  }
};

}  // namespace

TEST_CASE("the documented example loads with every field", "[config]") {
  // given
  const ExampleTree tree;
  // when
  const kedge::Config config = tree.load(example_config());
  // then
  CHECK(config.source == tree.dir.path() / "kedge.json");
  REQUIRE(config.listeners.size() == 1);
  const kedge::ListenerConfig& listener = config.listeners[0];
  CHECK(listener.name == "public");
  CHECK(listener.bind.host == "0.0.0.0");
  CHECK(listener.bind.port == 9092);
  CHECK(listener.advertised_port == 9092);
  CHECK(listener.tls->cert == tree.dir.path() / "tls/wildcard.pem");
  CHECK(listener.tls->key == tree.dir.path() / "tls/wildcard.key");

  REQUIRE(config.virtual_clusters.size() == 2);
  const kedge::VirtualClusterConfig& alpha = config.virtual_clusters[0];
  CHECK(alpha.name == "alpha");
  CHECK(alpha.format == kedge::sni::HostnameFormat::subdomain);
  CHECK(alpha.domain == "kafka.example.com");
  REQUIRE(alpha.backend.bootstrap_servers.size() == 2);
  CHECK(alpha.backend.bootstrap_servers[0].to_string() == "10.0.0.5:9092");
  CHECK(alpha.backend.bootstrap_servers[1].to_string() == "10.0.0.6:9092");
  CHECK_FALSE(alpha.tls.has_value());
  const kedge::VirtualClusterConfig& beta = config.virtual_clusters[1];
  CHECK(beta.name == "beta");
  CHECK(beta.format == kedge::sni::HostnameFormat::shared_suffix);
  REQUIRE(beta.backend.bootstrap_servers.size() == 1);
  CHECK(beta.backend.bootstrap_servers[0].host == "10.0.1.5");

  CHECK(config.log.level == kedge::LogLevel::info);
}

TEST_CASE("optional keys take the documented defaults", "[config]") {
  // given: no advertised_port, no log, no limits
  const ExampleTree tree;
  json document = example_config();
  document["listeners"][0]["bind"] = "127.0.0.1:19092";
  document["listeners"][0].erase("advertised_port");
  document.erase("log");
  // when
  const kedge::Config config = tree.load(document);
  // then
  CHECK(config.listeners[0].advertised_port == 19092);
  CHECK(config.log.level == kedge::LogLevel::info);
  CHECK(config.limits.max_frame_bytes == 100u * 1024 * 1024);
  CHECK(config.limits.client_hello_timeout_ms == 10'000u);
  CHECK(config.limits.upstream_connect_timeout_ms == 10'000u);
  CHECK(config.limits.high_watermark_bytes == 1024u * 1024);
  CHECK(config.limits.drain_timeout_ms == 30'000u);
  CHECK(config.limits.certificate_check_interval_ms == 5'000u);
  CHECK(config.limits.fetch_buffer_bytes == 64u * 1024);
  CHECK(config.limits.resolve_cache_ms == 5'000u);
  CHECK(config.workers == 0u);  // one worker loop per usable CPU

  SECTION("an empty log object keeps the default level") {
    document["log"] = json::object();
    CHECK(tree.load(document).log.level == kedge::LogLevel::info);
  }
}

TEST_CASE("explicit values override the defaults", "[config]") {
  // given
  const ExampleTree tree;
  json document = example_config();
  document["listeners"][0]["advertised_port"] = 443;
  document["log"]["level"] = "trace";
  document["limits"] = {{"max_frame_bytes", 1024},
                        {"client_hello_timeout_ms", 2500},
                        {"upstream_connect_timeout_ms", 1},
                        {"high_watermark_bytes", 16 * 1024},
                        {"drain_timeout_ms", 1500},
                        {"certificate_check_interval_ms", 0},
                        {"fetch_buffer_bytes", 0},
                        {"resolve_cache_ms", 0}};
  document["workers"] = 2;
  // when
  const kedge::Config config = tree.load(document);
  // then
  CHECK(config.listeners[0].advertised_port == 443);
  CHECK(config.log.level == kedge::LogLevel::trace);
  CHECK(config.limits.max_frame_bytes == 1024u);
  CHECK(config.limits.client_hello_timeout_ms == 2500u);
  CHECK(config.limits.upstream_connect_timeout_ms == 1u);
  CHECK(config.limits.high_watermark_bytes == 16u * 1024);
  CHECK(config.limits.drain_timeout_ms == 1500u);
  CHECK(config.limits.certificate_check_interval_ms == 0u);
  CHECK(config.limits.fetch_buffer_bytes == 0u);
  CHECK(config.limits.resolve_cache_ms == 0u);
  CHECK(config.workers == 2u);

  SECTION("limits may be given in part") {
    document["limits"] = {{"max_frame_bytes", 1024 * 1024 * 1024}};
    const kedge::Config partial = tree.load(document);
    CHECK(partial.limits.max_frame_bytes == 1024u * 1024 * 1024);
    CHECK(partial.limits.high_watermark_bytes == 1024u * 1024);
  }
  SECTION("every log level name parses and prints back") {
    for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
      document["log"]["level"] = level;
      CHECK(kedge::to_string(tree.load(document).log.level) == level);
    }
  }
}

TEST_CASE("the domain is stored in the host-name mapper's canonical form", "[config]") {
  const ExampleTree tree;
  json document = example_config();
  document["virtual_clusters"][0]["hostnames"]["domain"] = "Kafka.Example.COM.";
  CHECK(tree.load(document).virtual_clusters[0].domain == "kafka.example.com");
}

TEST_CASE("relative file paths resolve against the config file's folder", "[config]") {
  // given: the config in <tmp>/etc/kedge/, certificates elsewhere
  TempDir dir;
  dir.write("certs/listener.pem", "c");
  dir.write("certs/listener.key", "k");
  dir.write("etc/kedge/tls/beta.pem", "c");
  const fs::path absolute_key = dir.write("abs/beta.key", "k");
  json document = example_config();
  document["listeners"][0]["tls"] = {{"cert", "../../certs/listener.pem"},
                                     {"key", "../../certs/./listener.key"}};
  document["virtual_clusters"][1]["tls"] = {{"cert", "tls/beta.pem"}, {"key", absolute_key.string()}};
  const fs::path file = dir.write("etc/kedge/kedge.json", document.dump());

  // when
  const kedge::Config config = kedge::load_config(file);

  // then: normalised absolute paths, independent of the working directory
  CHECK(config.listeners[0].tls->cert == dir.path() / "certs/listener.pem");
  CHECK(config.listeners[0].tls->key == dir.path() / "certs/listener.key");
  REQUIRE(config.virtual_clusters[1].tls.has_value());
  CHECK(config.virtual_clusters[1].tls->cert == dir.path() / "etc/kedge/tls/beta.pem");
  CHECK(config.virtual_clusters[1].tls->key == absolute_key);

  SECTION("parse_config resolves against the folder of the origin it is given") {
    const kedge::Config parsed = kedge::parse_config(document.dump(), file);
    CHECK(parsed.listeners[0].tls->cert == dir.path() / "certs/listener.pem");
  }
  SECTION("the same relative name against a different folder is not found") {
    const fs::path elsewhere = dir.write("other/kedge.json", document.dump());
    CHECK(config_error_of([&] { kedge::load_config(elsewhere); }) ==
          "listeners[0].tls.cert: file \"../../certs/listener.pem\" (resolved " +
              (dir.path().parent_path() / "certs/listener.pem").string() + ") does not exist");
  }
}

TEST_CASE("schema errors name the exact JSON path", "[config][errors]") {
  struct ErrorCase {
    const char* what;
    std::function<void(json&)> mutate;
    std::string message;  // "{dir}" stands for the temp directory
  };
  const json listener_2 = json::parse(
      R"({"name": "internal", "bind": "127.0.0.1:9093", "tls": {"cert": "tls/wildcard.pem", "key": "tls/wildcard.key"}})");

  const std::vector<ErrorCase> cases = {
      // unknown keys
      {"unknown top-level key", [](json& d) { d["listener"] = json::array(); },
       "listener: unknown key (allowed here: listeners, virtual_clusters, log, limits, admin, workers, audit)"},
      {"misspelt listener key", [](json& d) { d["listeners"][0]["advertized_port"] = 1; },
       "listeners[0].advertized_port: unknown key (allowed here: name, bind, advertised_port, tls, routing, "
       "proxy_protocol, authentication, http)"},
      {"unknown backend key", [](json& d) { d["virtual_clusters"][1]["backend"]["sasl_mechanism"] = true; },
       "virtual_clusters[1].backend.sasl_mechanism: unknown key (allowed here: bootstrap_servers, tls, discovery, "
       "sasl)"},
      {"unknown tls key", [](json& d) { d["listeners"][0]["tls"]["ca"] = "x"; },
       "listeners[0].tls.ca: unknown key (allowed here: cert, key)"},
      {"unknown limits key", [](json& d) { d["limits"] = {{"max_frame_size", 1}}; },
       "limits.max_frame_size: unknown key (allowed here: max_frame_bytes, client_hello_timeout_ms, "
       "upstream_connect_timeout_ms, high_watermark_bytes, drain_timeout_ms, certificate_check_interval_ms, "
       "fetch_buffer_bytes, resolve_cache_ms, authentication_failures)"},
      {"unknown log key", [](json& d) { d["log"]["style"] = "json"; },
       "log.style: unknown key (allowed here: level, format)"},
      {"unknown hostnames key", [](json& d) { d["virtual_clusters"][0]["hostnames"]["pattern"] = "x"; },
       "virtual_clusters[0].hostnames.pattern: unknown key (allowed here: format, domain)"},

      // wrong types
      {"top level not an object", [](json& d) { d = json::array(); },
       "(top level): expected an object, got an array"},
      {"listeners not an array", [](json& d) { d["listeners"] = d["listeners"][0]; },
       "listeners: expected an array, got an object"},
      {"listener not an object", [](json& d) { d["listeners"][0] = "public"; },
       "listeners[0]: expected an object, got string \"public\""},
      {"port as a string", [](json& d) { d["listeners"][0]["advertised_port"] = "9092"; },
       "listeners[0].advertised_port: expected an integer, got string \"9092\""},
      {"port as a fraction", [](json& d) { d["listeners"][0]["advertised_port"] = 9092.5; },
       "listeners[0].advertised_port: expected an integer, got number 9092.5"},
      {"name as a number", [](json& d) { d["virtual_clusters"][1]["name"] = 5; },
       "virtual_clusters[1].name: expected a string, got number 5"},
      {"bind as null", [](json& d) { d["listeners"][0]["bind"] = nullptr; },
       "listeners[0].bind: expected a string, got null"},
      {"level as a boolean", [](json& d) { d["log"]["level"] = true; },
       "log.level: expected a string, got boolean true"},
      {"bootstrap server as a number",
       [](json& d) { d["virtual_clusters"][0]["backend"]["bootstrap_servers"][1] = 9092; },
       "virtual_clusters[0].backend.bootstrap_servers[1]: expected a string, got number 9092"},
      {"bootstrap_servers as a string",
       [](json& d) { d["virtual_clusters"][0]["backend"]["bootstrap_servers"] = "10.0.0.5:9092"; },
       "virtual_clusters[0].backend.bootstrap_servers: expected an array, got string \"10.0.0.5:9092\""},
      {"tls as a string", [](json& d) { d["virtual_clusters"][0]["tls"] = "tls/wildcard.pem"; },
       "virtual_clusters[0].tls: expected an object, got string \"tls/wildcard.pem\""},
      {"limit as a string", [](json& d) { d["limits"]["max_frame_bytes"] = "1MiB"; },
       "limits.max_frame_bytes: expected an integer, got string \"1MiB\""},

      // missing required keys
      {"no listeners", [](json& d) { d.erase("listeners"); }, "listeners: missing (this key is required)"},
      {"no virtual_clusters", [](json& d) { d.erase("virtual_clusters"); },
       "virtual_clusters: missing (this key is required)"},
      {"listener without tls", [](json& d) { d["listeners"][0].erase("tls"); },
       "listeners[0].tls: missing (SNI routing needs TLS; a plaintext listener needs \"routing\": {\"mode\": "
       "\"port\", ...})"},
      {"listener without bind", [](json& d) { d["listeners"][0].erase("bind"); },
       "listeners[0].bind: missing (this key is required)"},
      {"tls without key", [](json& d) { d["listeners"][0]["tls"].erase("key"); },
       "listeners[0].tls.key: missing (this key is required)"},
      {"cluster without backend", [](json& d) { d["virtual_clusters"][1].erase("backend"); },
       "virtual_clusters[1].backend: missing (this key is required)"},
      {"hostnames without domain", [](json& d) { d["virtual_clusters"][0]["hostnames"].erase("domain"); },
       "virtual_clusters[0].hostnames.domain: missing (this key is required)"},

      // empty collections
      {"empty listeners", [](json& d) { d["listeners"] = json::array(); },
       "listeners: at least one listener is required"},
      {"empty virtual_clusters", [](json& d) { d["virtual_clusters"] = json::array(); },
       "virtual_clusters: at least one virtual cluster is required"},
      {"empty bootstrap_servers",
       [](json& d) { d["virtual_clusters"][1]["backend"]["bootstrap_servers"] = json::array(); },
       "virtual_clusters[1].backend.bootstrap_servers: at least one bootstrap server is required"},
      {"empty listener name", [](json& d) { d["listeners"][0]["name"] = ""; },
       "listeners[0].name: must not be empty"},

      // addresses and ports
      {"bootstrap server without port",
       [](json& d) { d["virtual_clusters"][1]["backend"]["bootstrap_servers"][0] = "10.0.1.5"; },
       "virtual_clusters[1].backend.bootstrap_servers[0]: \"10.0.1.5\" is not host:port "
       "(expected HOST:PORT or [IPv6]:PORT)"},
      {"bind port 0", [](json& d) { d["listeners"][0]["bind"] = "0.0.0.0:0"; },
       "listeners[0].bind: \"0.0.0.0:0\": port 0 is out of range (1..65535)"},
      {"bind with empty host", [](json& d) { d["listeners"][0]["bind"] = ":9092"; },
       "listeners[0].bind: \":9092\": host is empty (expected HOST:PORT)"},
      {"bind with unbracketed IPv6", [](json& d) { d["listeners"][0]["bind"] = "::1:9092"; },
       "listeners[0].bind: \"::1:9092\": IPv6 addresses need brackets (expected [IPv6]:PORT)"},
      {"advertised_port 0", [](json& d) { d["listeners"][0]["advertised_port"] = 0; },
       "listeners[0].advertised_port: 0 is out of range (1..65535)"},
      {"advertised_port too large", [](json& d) { d["listeners"][0]["advertised_port"] = 65536; },
       "listeners[0].advertised_port: 65536 is out of range (1..65535)"},
      {"advertised_port negative", [](json& d) { d["listeners"][0]["advertised_port"] = -1; },
       "listeners[0].advertised_port: -1 is out of range (1..65535)"},

      // duplicates
      {"duplicate listener name",
       [&](json& d) {
         d["listeners"].push_back(listener_2);
         d["listeners"][1]["name"] = "public";
       },
       "listeners[1].name: \"public\" is already used by listeners[0]"},
      {"duplicate bind address",
       [&](json& d) {
         d["listeners"].push_back(listener_2);
         d["listeners"][1]["bind"] = "0.0.0.0:9092";
       },
       "listeners[1].bind: 0.0.0.0:9092 conflicts with 0.0.0.0:9092 of listener \"public\" (listeners[0].bind)"},
      {"specific address under a wildcard bind",
       [&](json& d) {
         d["listeners"].push_back(listener_2);
         d["listeners"][1]["bind"] = "127.0.0.1:9092";
       },
       "listeners[1].bind: 127.0.0.1:9092 conflicts with 0.0.0.0:9092 of listener \"public\" (listeners[0].bind)"},
      {"duplicate virtual cluster name", [](json& d) { d["virtual_clusters"][1]["name"] = "alpha"; },
       "virtual_clusters[1].name: \"alpha\" is already used by virtual_clusters[0]"},

      // names, host names, formats
      {"upper-case cluster name", [](json& d) { d["virtual_clusters"][0]["name"] = "Alpha"; },
       "virtual_clusters[0].name: \"Alpha\" is not a valid virtual cluster name: "
       "use only lower-case letters, digits and '-'"},
      {"cluster name ending in '-'", [](json& d) { d["virtual_clusters"][0]["name"] = "alpha-"; },
       "virtual_clusters[0].name: \"alpha-\" is not a valid virtual cluster name: "
       "must not start or end with '-'"},
      {"listener name with a space", [](json& d) { d["listeners"][0]["name"] = "pub lic"; },
       "listeners[0].name: \"pub lic\" may contain only letters, digits, '-', '_' and '.'"},
      {"unknown host-name format", [](json& d) { d["virtual_clusters"][0]["hostnames"]["format"] = "flat"; },
       "virtual_clusters[0].hostnames.format: \"flat\" is not a host-name format "
       "(expected \"subdomain\" or \"shared_suffix\")"},
      {"unknown log level", [](json& d) { d["log"]["level"] = "verbose"; },
       "log.level: \"verbose\" is not a log level (expected trace, debug, info, warn or error)"},

      // files
      {"missing listener certificate", [](json& d) { d["listeners"][0]["tls"]["cert"] = "tls/x.pem"; },
       "listeners[0].tls.cert: file \"tls/x.pem\" (resolved {dir}/tls/x.pem) does not exist"},
      {"missing cluster key",
       [](json& d) { d["virtual_clusters"][1]["tls"] = {{"cert", "tls/wildcard.pem"}, {"key", "beta.key"}}; },
       "virtual_clusters[1].tls.key: file \"beta.key\" (resolved {dir}/beta.key) does not exist"},
      {"missing absolute certificate", [](json& d) { d["listeners"][0]["tls"]["cert"] = "/nonexistent/kedge.pem"; },
       "listeners[0].tls.cert: file \"/nonexistent/kedge.pem\" does not exist"},
      {"key is a directory", [](json& d) { d["listeners"][0]["tls"]["key"] = "tls"; },
       "listeners[0].tls.key: file \"tls\" (resolved {dir}/tls) is not a regular file"},
      {"empty certificate path", [](json& d) { d["listeners"][0]["tls"]["cert"] = ""; },
       "listeners[0].tls.cert: must not be empty"},

      // limits
      {"frame limit below 1 KiB", [](json& d) { d["limits"]["max_frame_bytes"] = 1023; },
       "limits.max_frame_bytes: 1023 is out of range (1024..1073741824)"},
      {"frame limit above 1 GiB", [](json& d) { d["limits"]["max_frame_bytes"] = 1073741825; },
       "limits.max_frame_bytes: 1073741825 is out of range (1024..1073741824)"},
      {"watermark below 16 KiB", [](json& d) { d["limits"]["high_watermark_bytes"] = 16383; },
       "limits.high_watermark_bytes: 16383 is out of range (16384..1073741824)"},
      {"zero drain timeout", [](json& d) { d["limits"]["drain_timeout_ms"] = 0; },
       "limits.drain_timeout_ms: 0 is out of range (1..3600000)"},
      {"certificate check interval above an hour",
       [](json& d) { d["limits"]["certificate_check_interval_ms"] = 3600001; },
       "limits.certificate_check_interval_ms: 3600001 is out of range (0..3600000)"},
      {"fetch buffer above 1 GiB", [](json& d) { d["limits"]["fetch_buffer_bytes"] = 1073741825; },
       "limits.fetch_buffer_bytes: 1073741825 is out of range (0..1073741824)"},
      {"resolve cache above an hour", [](json& d) { d["limits"]["resolve_cache_ms"] = 3600001; },
       "limits.resolve_cache_ms: 3600001 is out of range (0..3600000)"},
      {"negative worker count", [](json& d) { d["workers"] = -1; }, "workers: -1 is out of range (0..256)"},
      {"worker count as a string", [](json& d) { d["workers"] = "4"; },
       "workers: expected an integer, got string \"4\""},
      {"zero hello timeout", [](json& d) { d["limits"]["client_hello_timeout_ms"] = 0; },
       "limits.client_hello_timeout_ms: 0 is out of range (1..3600000)"},
      {"negative connect timeout", [](json& d) { d["limits"]["upstream_connect_timeout_ms"] = -5; },
       "limits.upstream_connect_timeout_ms: -5 is out of range (1..3600000)"},
      {"limit beyond 64 bits of range", [](json& d) { d["limits"]["max_frame_bytes"] = 18446744073709551615ull; },
       "limits.max_frame_bytes: 18446744073709551615 is out of range (1024..1073741824)"},
  };

  for (const ErrorCase& c : cases) {
    INFO(c.what);
    // given
    const ExampleTree tree;
    json document = example_config();
    c.mutate(document);
    std::string expected = c.message;
    replace_all(expected, "{dir}", tree.dir.path().string());
    // when / then
    CHECK(config_error_of([&] { tree.load(document); }) == expected);
  }
}

TEST_CASE("host-name problems found by the mapper are reported at .hostnames", "[config][errors]") {
  const ExampleTree tree;
  json document = example_config();

  SECTION("two subdomain clusters under one domain collide") {
    document["virtual_clusters"][1]["hostnames"]["format"] = "subdomain";
    const std::string message = config_error_of([&] { tree.load(document); });
    CHECK_THAT(message, Catch::StartsWith("virtual_clusters[1].hostnames: ") && Catch::Contains("alpha"));
  }
  SECTION("a single-label domain is rejected") {
    document["virtual_clusters"][0]["hostnames"]["domain"] = "kafka";
    const std::string message = config_error_of([&] { tree.load(document); });
    CHECK_THAT(message, Catch::StartsWith("virtual_clusters[0].hostnames: ") && Catch::Contains("kafka"));
  }
  SECTION("the same shared_suffix domain is fine for differently named clusters") {
    document["virtual_clusters"][0]["hostnames"]["format"] = "shared_suffix";
    CHECK(tree.load(document).virtual_clusters.size() == 2);
  }
}

TEST_CASE("errors in the JSON text report file, line and column", "[config][errors]") {
  struct TextCase {
    const char* what;
    std::string text;
    std::string message_start;  // the position is that of the last byte the parser read
  };
  const std::vector<TextCase> cases = {
      {"missing comma", "{\n  \"listeners\": []\n  \"log\": {}\n}", "{file}:3:7: invalid JSON: "},
      {"trailing comma", "{\"log\": {\"level\": \"info\",}}", "{file}:1:26: invalid JSON: "},
      {"empty file", "", "{file}:1:1: invalid JSON: "},
      {"comment", "{\n// listeners\n}", "{file}:2:1: invalid JSON: "},
      // A number too large for a double: the library throws out_of_range (406), which has no position.
      {"number overflow", "{\"workers\": 1e99999}", "{file}: invalid JSON: "},
  };
  for (const TextCase& c : cases) {
    INFO(c.what);
    const TempDir dir;
    const fs::path file = dir.write("kedge.json", c.text);
    std::string expected = c.message_start;
    replace_all(expected, "{file}", file.string());
    const std::string message = config_error_of([&] { kedge::load_config(file); });
    CHECK_THAT(message, Catch::StartsWith(expected));
    CHECK(message.size() > expected.size());  // followed by the parser's reason
  }
}

TEST_CASE("duplicate JSON keys are errors at their object's path", "[config][errors]") {
  struct TextCase {
    const char* what;
    std::string text;
    std::string message;
  };
  const std::vector<TextCase> cases = {
      {"top level", R"({"log": {}, "log": {}})", "(top level): duplicate key \"log\""},
      {"listener",
       R"({"listeners": [{"name": "a"}, {"name": "b", "bind": "x:1", "bind": "y:2"}]})",
       "listeners[1]: duplicate key \"bind\""},
      {"inside nested arrays",
       R"({"virtual_clusters": [{"backend": {"bootstrap_servers": [[], {"a": 1, "a": 2}]}}]})",
       "virtual_clusters[0].backend.bootstrap_servers[1]: duplicate key \"a\""},
      {"after scalars in an array",
       R"({"x": [1, "two", null, {"k": 1, "k": 1}]})", "x[3]: duplicate key \"k\""},
  };
  for (const TextCase& c : cases) {
    INFO(c.what);
    const TempDir dir;
    const fs::path file = dir.write("kedge.json", c.text);
    CHECK(config_error_of([&] { kedge::load_config(file); }) == c.message);
  }
}

TEST_CASE("an unreadable config file is a ConfigError naming it", "[config][errors]") {
  const TempDir dir;
  const fs::path missing = dir.path() / "absent.json";
  CHECK_THAT(config_error_of([&] { kedge::load_config(missing); }),
             Catch::StartsWith(missing.string() + ": cannot open configuration file"));
}
