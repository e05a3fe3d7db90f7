// The HTTP/WebSocket front's configuration (issue 19): virtual_clusters[].http
// and listeners[].http, their defaults, http_front_enabled, and one row per
// error with its exact path and message.
#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config_tree.h"

using nlohmann::json;

namespace {

struct Tree : kedge::config_testing::ConfigTree {
  Tree() : ConfigTree("kedge-http-front-test", {"tls/server.pem", "tls/server.key"}) {}
};

// An SNI listener and a port-routed one, a subdomain and a shared_suffix cluster.
json base_config() {
  return json::parse(R"({
    "listeners": [
      {"name": "sni", "bind": "0.0.0.0:9092", "tls": {"cert": "tls/server.pem", "key": "tls/server.key"}},
      {"name": "ports", "bind": "0.0.0.0:19092",
       "routing": {"mode": "port", "virtual_cluster": "alpha", "advertised_host": "kafka.example.com",
                   "broker_port_base": 19100, "max_node_id": 9}}
    ],
    "virtual_clusters": [
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}},
      {"name": "beta", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.1.5:9092"]}}
    ]
  })");
}

}  // namespace

TEST_CASE("the HTTP front is on by default on SNI listeners, off on port-routed ones", "[config][http]") {
  // given no "http" key anywhere
  const Tree tree;
  // when
  const kedge::Config config = tree.load(base_config());
  // then
  const kedge::HttpFrontConfig& http = config.virtual_clusters[0].http;
  CHECK(http.enabled);
  CHECK(http.websocket_path == "/kafka");
  CHECK(http.max_message_bytes == 1024u * 1024);
  CHECK(http.fetch_max_bytes == 1024u * 1024);
  CHECK(http.fetch_max_wait_ms == 500u);
  CHECK(http.allowed_origins.empty());
  CHECK(http == kedge::HttpFrontConfig{});
  CHECK(config.listeners[0].http_enabled);
  CHECK_FALSE(config.listeners[1].http_enabled);
  CHECK(kedge::http_front_enabled(config.listeners[0], config.virtual_clusters[0]));
  CHECK(kedge::http_front_enabled(config.listeners[0], config.virtual_clusters[1]));
  CHECK_FALSE(kedge::http_front_enabled(config.listeners[1], config.virtual_clusters[0]));
}

TEST_CASE("every HTTP front field can be set", "[config][http]") {
  const Tree tree;
  json document = base_config();
  document["virtual_clusters"][1]["http"] = json::parse(R"({
      "enabled": true, "websocket_path": "/v1/kafka-ws_%41~", "max_message_bytes": 1024,
      "fetch_max_bytes": 67108864, "fetch_max_wait_ms": 0,
      "allowed_origins": ["https://app.example.com", "http://localhost:8080", "https://[2001:db8::1]:8443",
                          "http://10.0.0.7"]})");
  const kedge::Config config = tree.load(document);
  const kedge::HttpFrontConfig& http = config.virtual_clusters[1].http;
  CHECK(http.enabled);
  CHECK(http.websocket_path == "/v1/kafka-ws_%41~");
  CHECK(http.max_message_bytes == 1024u);
  CHECK(http.fetch_max_bytes == 64u * 1024 * 1024);
  CHECK(http.fetch_max_wait_ms == 0u);
  CHECK(http.allowed_origins == std::vector<std::string>{"https://app.example.com", "http://localhost:8080",
                                                         "https://[2001:db8::1]:8443", "http://10.0.0.7"});
  CHECK(http.passthrough_mechanism == kedge::SaslMechanism::plain);
  CHECK(config.virtual_clusters[0].http == kedge::HttpFrontConfig{});

  SECTION("the mechanism HTTP Basic credentials are passed through with") {
    document["virtual_clusters"][1]["http"] = {{"passthrough_mechanism", "SCRAM-SHA-512"}};
    CHECK(tree.load(document).virtual_clusters[1].http.passthrough_mechanism == kedge::SaslMechanism::scram_sha_512);
  }
  SECTION("the limits' upper and lower bounds") {
    document["virtual_clusters"][1]["http"] = {{"max_message_bytes", 64 * 1024 * 1024},
                                               {"fetch_max_bytes", 1024},
                                               {"fetch_max_wait_ms", 30000},
                                               {"websocket_path", "/"}};
    const kedge::HttpFrontConfig bounds = tree.load(document).virtual_clusters[1].http;
    CHECK(bounds.max_message_bytes == 64u * 1024 * 1024);
    CHECK(bounds.fetch_max_bytes == 1024u);
    CHECK(bounds.fetch_max_wait_ms == 30000u);
    CHECK(bounds.websocket_path == "/");
    CHECK(bounds.allowed_origins.empty());
  }
  SECTION("an empty allowed_origins list admits any origin, as leaving it out does") {
    document["virtual_clusters"][1]["http"] = {{"allowed_origins", json::array()}};
    CHECK(tree.load(document).virtual_clusters[1].http == kedge::HttpFrontConfig{});
  }
  SECTION("a 255-byte path is the longest") {
    document["virtual_clusters"][1]["http"] = {{"websocket_path", "/" + std::string(254, 'p')}};
    CHECK(tree.load(document).virtual_clusters[1].http.websocket_path.size() == 255);
  }
}

TEST_CASE("the HTTP front can be turned off per virtual cluster and per listener", "[config][http]") {
  const Tree tree;
  json document = base_config();
  SECTION("a virtual cluster") {
    document["virtual_clusters"][0]["http"] = {{"enabled", false}};
    const kedge::Config config = tree.load(document);
    CHECK_FALSE(config.virtual_clusters[0].http.enabled);
    CHECK_FALSE(kedge::http_front_enabled(config.listeners[0], config.virtual_clusters[0]));
    CHECK(kedge::http_front_enabled(config.listeners[0], config.virtual_clusters[1]));
  }
  SECTION("an SNI listener") {
    document["listeners"][0]["http"] = {{"enabled", false}};
    const kedge::Config config = tree.load(document);
    CHECK_FALSE(config.listeners[0].http_enabled);
    CHECK_FALSE(kedge::http_front_enabled(config.listeners[0], config.virtual_clusters[0]));
    CHECK_FALSE(kedge::http_front_enabled(config.listeners[0], config.virtual_clusters[1]));
  }
  SECTION("explicitly on for an SNI listener, explicitly off for a port-routed one") {
    document["listeners"][0]["http"] = {{"enabled", true}};
    document["listeners"][1]["http"] = {{"enabled", false}};
    const kedge::Config config = tree.load(document);
    CHECK(config.listeners[0].http_enabled);
    CHECK_FALSE(config.listeners[1].http_enabled);
  }
  SECTION("an empty http object keeps the defaults") {
    document["listeners"][0]["http"] = json::object();
    document["listeners"][1]["http"] = json::object();
    document["virtual_clusters"][0]["http"] = json::object();
    const kedge::Config config = tree.load(document);
    CHECK(config.listeners[0].http_enabled);
    CHECK_FALSE(config.listeners[1].http_enabled);
    CHECK(config.virtual_clusters[0].http == kedge::HttpFrontConfig{});
  }
}

TEST_CASE("HTTP front errors name the exact JSON path", "[config][http][errors]") {
  struct Row {
    const char* what;
    std::function<void(json&)> mutate;
    std::string message;
  };
  const auto cluster_http = [](json value) {
    return [value](json& d) { d["virtual_clusters"][1]["http"] = value; };
  };
  const auto origin = [](std::string text) {
    return [text](json& d) { d["virtual_clusters"][1]["http"] = {{"allowed_origins", {"https://ok.example.com", text}}}; };
  };
  const std::string origins = "virtual_clusters[1].http.allowed_origins[1]: ";
  const std::vector<Row> rows = {
      // listeners[].http
      {"http enabled on a port-routed listener", [](json& d) { d["listeners"][1]["http"] = {{"enabled", true}}; },
       "listeners[1].http.enabled: a port-routed listener has no HTTP front: the front is chosen by the TLS "
       "ClientHello's SNI name or ALPN, and a port-routed listener's ports stand for Kafka brokers (serve HTTP on "
       "an SNI listener, or remove \"http\")"},
      {"unknown listener http key", [](json& d) { d["listeners"][0]["http"] = {{"websocket_path", "/x"}}; },
       "listeners[0].http.websocket_path: unknown key (allowed here: enabled)"},
      {"listener http not an object", [](json& d) { d["listeners"][0]["http"] = true; },
       "listeners[0].http: expected an object, got boolean true"},
      {"listener http.enabled not a boolean", [](json& d) { d["listeners"][0]["http"] = {{"enabled", "yes"}}; },
       "listeners[0].http.enabled: expected true or false, got string \"yes\""},
      // virtual_clusters[].http
      {"unknown cluster http key", cluster_http({{"path", "/kafka"}}),
       "virtual_clusters[1].http.path: unknown key (allowed here: enabled, websocket_path, max_message_bytes, "
       "fetch_max_bytes, fetch_max_wait_ms, allowed_origins, passthrough_mechanism)"},
      {"cluster http not an object", cluster_http(json::array()),
       "virtual_clusters[1].http: expected an object, got an array"},
      {"enabled not a boolean", cluster_http({{"enabled", 1}}),
       "virtual_clusters[1].http.enabled: expected true or false, got number 1"},
      {"websocket_path not a string", cluster_http({{"websocket_path", 5}}),
       "virtual_clusters[1].http.websocket_path: expected a string, got number 5"},
      {"websocket_path empty", cluster_http({{"websocket_path", ""}}),
       "virtual_clusters[1].http.websocket_path: \"\" does not start with '/'"},
      {"websocket_path relative", cluster_http({{"websocket_path", "kafka"}}),
       "virtual_clusters[1].http.websocket_path: \"kafka\" does not start with '/'"},
      {"websocket_path of 256 bytes", cluster_http({{"websocket_path", "/" + std::string(255, 'p')}}),
       "virtual_clusters[1].http.websocket_path: longer than 255 bytes"},
      {"websocket_path with a query", cluster_http({{"websocket_path", "/kafka?x=1"}}),
       "virtual_clusters[1].http.websocket_path: \"/kafka?x=1\" holds '?': the path is matched without a query or "
       "fragment"},
      {"websocket_path with a fragment", cluster_http({{"websocket_path", "/kafka#top"}}),
       "virtual_clusters[1].http.websocket_path: \"/kafka#top\" holds '#': the path is matched without a query or "
       "fragment"},
      {"websocket_path with a space", cluster_http({{"websocket_path", "/my kafka"}}),
       "virtual_clusters[1].http.websocket_path: \"/my kafka\" holds a space, a control character or non-ASCII (a "
       "request path is visible ASCII; percent-encode the rest)"},
      {"websocket_path with non-ASCII", cluster_http({{"websocket_path", "/caf\xc3\xa9"}}),
       "virtual_clusters[1].http.websocket_path: \"/caf\xc3\xa9\" holds a space, a control character or non-ASCII "
       "(a request path is visible ASCII; percent-encode the rest)"},
      {"max_message_bytes below 1 KiB", cluster_http({{"max_message_bytes", 1023}}),
       "virtual_clusters[1].http.max_message_bytes: 1023 is out of range (1024..67108864)"},
      {"max_message_bytes above 64 MiB", cluster_http({{"max_message_bytes", 67108865}}),
       "virtual_clusters[1].http.max_message_bytes: 67108865 is out of range (1024..67108864)"},
      {"fetch_max_bytes below 1 KiB", cluster_http({{"fetch_max_bytes", 0}}),
       "virtual_clusters[1].http.fetch_max_bytes: 0 is out of range (1024..67108864)"},
      {"fetch_max_bytes above 64 MiB", cluster_http({{"fetch_max_bytes", 1073741824}}),
       "virtual_clusters[1].http.fetch_max_bytes: 1073741824 is out of range (1024..67108864)"},
      {"passthrough_mechanism not one kedge speaks", cluster_http({{"passthrough_mechanism", "GSSAPI"}}),
       "virtual_clusters[1].http.passthrough_mechanism: \"GSSAPI\" is not a SASL mechanism kedge speaks (expected "
       "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)"},
      {"fetch_max_wait_ms above 30 s", cluster_http({{"fetch_max_wait_ms", 30001}}),
       "virtual_clusters[1].http.fetch_max_wait_ms: 30001 is out of range (0..30000)"},
      {"fetch_max_wait_ms negative", cluster_http({{"fetch_max_wait_ms", -1}}),
       "virtual_clusters[1].http.fetch_max_wait_ms: -1 is out of range (0..30000)"},
      {"fetch_max_wait_ms not an integer", cluster_http({{"fetch_max_wait_ms", 1.5}}),
       "virtual_clusters[1].http.fetch_max_wait_ms: expected an integer, got number 1.5"},
      // allowed_origins
      {"allowed_origins not an array", cluster_http({{"allowed_origins", "https://app.example.com"}}),
       "virtual_clusters[1].http.allowed_origins: expected an array, got string \"https://app.example.com\""},
      {"an origin listed twice", origin("https://ok.example.com"),
       origins + "\"https://ok.example.com\" is already listed at virtual_clusters[1].http.allowed_origins[0]"},
      {"an empty origin", origin(""), origins + "must not be empty"},
      {"the opaque origin null", origin("null"),
       origins + "\"null\" is the origin of every sandboxed or file:// page, not one site (list the sites' "
                 "origins, e.g. \"https://app.example.com\")"},
      {"an origin without a scheme", origin("app.example.com"),
       origins + "\"app.example.com\" not an origin: expected http:// or https://, then the host (as a browser "
                 "sends it, e.g. \"https://app.example.com\")"},
      {"a wss:// origin", origin("wss://app.example.com"),
       origins + "\"wss://app.example.com\" not an origin: expected http:// or https://, then the host (as a "
                 "browser sends it, e.g. \"https://app.example.com\")"},
      {"an origin with a path", origin("https://app.example.com/"),
       origins + "\"https://app.example.com/\" has a path (an origin is scheme://host[:port] only, no '/')"},
      {"an origin with a path after the port", origin("https://app.example.com:8443/app"),
       origins + "\"https://app.example.com:8443/app\" has a path (an origin is scheme://host[:port] only, no '/')"},
      {"an origin in upper case", origin("https://App.example.com"),
       origins + "\"https://App.example.com\" has upper-case letters (browsers send the host in lower case)"},
      {"an origin without a host", origin("https://"), origins + "\"https://\" has no host"},
      {"an origin with an empty port", origin("https://app.example.com:"),
       origins + "\"https://app.example.com:\" has an empty port"},
      {"an origin with port 0", origin("http://app.example.com:0"),
       origins + "\"http://app.example.com:0\" has a port that is not a number 1..65535 without leading zeros"},
      {"an origin with port 65536", origin("http://app.example.com:65536"),
       origins + "\"http://app.example.com:65536\" has a port that is not a number 1..65535 without leading zeros"},
      {"an origin with the default https port", origin("https://app.example.com:443"),
       origins + "\"https://app.example.com:443\" names the scheme's default port 443 (browsers leave it out, so "
                 "it would never match)"},
      {"an origin with the default http port", origin("http://app.example.com:80"),
       origins + "\"http://app.example.com:80\" names the scheme's default port 80 (browsers leave it out, so it "
                 "would never match)"},
      {"an origin with a user", origin("https://user@app.example.com"),
       origins + "\"https://user@app.example.com\" has a character a host name cannot have"},
      {"an origin with an unclosed IPv6 bracket", origin("https://[::1"),
       origins + "\"https://[::1\" has an unclosed '[' in its host"},
      {"an origin with an empty IPv6 host", origin("https://[]"), origins + "\"https://[]\" has no host"},
      {"an origin with text after the IPv6 host", origin("https://[::1]x"),
       origins + "\"https://[::1]x\" has something other than a port after the host"},
  };
  const Tree tree;
  for (const Row& row : rows) {
    INFO(row.what);
    json document = base_config();
    row.mutate(document);
    CHECK(tree.error_of(document) == row.message);
  }
}
