// Port-per-broker routing, listener modes, backend TLS and discovery keys:
// the mapping functions and one row per error with its exact path.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config_tree.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Tree : kedge::config_testing::ConfigTree {
  Tree()
      : ConfigTree("kedge-routing-test",
                   {"tls/server.pem", "tls/server.key", "tls/ca.pem", "tls/client.pem", "tls/client.key"}) {}
};

// An SNI TLS listener, a plaintext port listener and an IPv6 TLS port listener.
json mixed_config() {
  return json::parse(R"({
    "listeners": [
      {"name": "sni", "bind": "0.0.0.0:9092", "tls": {"cert": "tls/server.pem", "key": "tls/server.key"}},
      {"name": "plain", "bind": "0.0.0.0:19092",
       "routing": {"mode": "port", "virtual_cluster": "alpha", "advertised_host": "kafka.example.com",
                   "broker_port_base": 19100, "max_node_id": 9}},
      {"name": "v6", "bind": "[::]:19092", "tls": {"cert": "tls/server.pem", "key": "tls/server.key"},
       "routing": {"mode": "port", "virtual_cluster": "beta", "advertised_host": "kafka6.example.com",
                   "broker_port_base": 19200, "max_node_id": 300}}
    ],
    "virtual_clusters": [
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"],
                   "tls": {"ca_file": "tls/ca.pem", "cert": "tls/client.pem", "key": "tls/client.key",
                           "server_name": "kafka.internal", "verify": true},
                   "discovery": {"mode": "static", "pattern": "b-$(nodeId).internal:9094"}}},
      {"name": "beta", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.1.5:9092"], "tls": {"verify": false},
                   "discovery": {"mode": "metadata"}}}
    ]
  })");
}

}  // namespace

TEST_CASE("broker N is served on broker_port_base + N, for 0 <= N <= max_node_id only", "[routing]") {
  kedge::PortRouting routing;
  routing.broker_port_base = 19200;
  routing.max_node_id = 300;
  CHECK(kedge::broker_port(routing, 0) == std::optional<std::uint16_t>(19200));
  CHECK(kedge::broker_port(routing, 100) == std::optional<std::uint16_t>(19300));
  CHECK(kedge::broker_port(routing, 300) == std::optional<std::uint16_t>(19500));
  CHECK_FALSE(kedge::broker_port(routing, 301).has_value());
  CHECK_FALSE(kedge::broker_port(routing, -1).has_value());
  CHECK_FALSE(kedge::broker_port(routing, 2147483647).has_value());
  CHECK(kedge::node_for_port(routing, 19300) == std::optional<std::int32_t>(100));
  CHECK_FALSE(kedge::node_for_port(routing, 19199).has_value());
  CHECK_FALSE(kedge::node_for_port(routing, 19501).has_value());
  // The inverse holds over the whole pool.
  for (std::int32_t id = 0; id <= routing.max_node_id; ++id) {
    REQUIRE(kedge::node_for_port(routing, *kedge::broker_port(routing, id)) == std::optional<std::int32_t>(id));
  }
  // The top of the port space is usable.
  routing.broker_port_base = 65535 - 10;
  routing.max_node_id = 10;
  CHECK(kedge::broker_port(routing, 10) == std::optional<std::uint16_t>(65535));
}

TEST_CASE("static discovery patterns replace every $(nodeId)", "[routing]") {
  CHECK(kedge::static_broker_address("b-$(nodeId).internal:9094", 7)->to_string() == "b-7.internal:9094");
  CHECK(kedge::static_broker_address("n$(nodeId)-$(nodeId).x:1910$(nodeId)", 3)->to_string() == "n3-3.x:19103");
  std::string why;
  CHECK_FALSE(kedge::static_broker_address("10.0.0.5:1910$(nodeId)", 100, &why).has_value());
  CHECK(why == "\"10.0.0.5:1910100\" is not host:port (expected HOST:PORT or [IPv6]:PORT)");
}

TEST_CASE("listener modes, backend TLS and discovery load with every field", "[routing][config]") {
  const Tree tree;
  const kedge::Config config = tree.load(mixed_config());
  REQUIRE(config.listeners.size() == 3);
  CHECK_FALSE(config.listeners[0].port_routing.has_value());
  CHECK(config.listeners[0].tls.has_value());
  const kedge::ListenerConfig& plain = config.listeners[1];
  CHECK_FALSE(plain.tls.has_value());
  REQUIRE(plain.port_routing.has_value());
  CHECK(plain.port_routing->virtual_cluster == "alpha");
  CHECK(plain.port_routing->cluster_index == 0);
  CHECK(plain.port_routing->advertised_host == "kafka.example.com");
  CHECK(plain.port_routing->broker_port_base == 19100);
  CHECK(plain.port_routing->max_node_id == 9);
  const kedge::ListenerConfig& v6 = config.listeners[2];
  CHECK(v6.bind.host == "::");
  REQUIRE(v6.port_routing.has_value());
  CHECK(v6.port_routing->cluster_index == 1);

  const kedge::BackendConfig& alpha = config.virtual_clusters[0].backend;
  REQUIRE(alpha.tls.has_value());
  CHECK(alpha.tls->ca_file == tree.dir / "tls/ca.pem");
  REQUIRE(alpha.tls->client_cert.has_value());
  CHECK(alpha.tls->client_cert->key == tree.dir / "tls/client.key");
  CHECK(alpha.tls->server_name == std::optional<std::string>("kafka.internal"));
  CHECK(alpha.tls->verify);
  CHECK(alpha.discovery == kedge::DiscoveryMode::static_pattern);
  CHECK(alpha.pattern == "b-$(nodeId).internal:9094");
  const kedge::BackendConfig& beta = config.virtual_clusters[1].backend;
  REQUIRE(beta.tls.has_value());
  CHECK_FALSE(beta.tls->ca_file.has_value());
  CHECK_FALSE(beta.tls->verify);
  CHECK(beta.discovery == kedge::DiscoveryMode::metadata);
}

TEST_CASE("routing, backend TLS and discovery errors name the exact JSON path", "[routing][config][errors]") {
  struct Row {
    const char* what;
    std::function<void(json&)> mutate;
    std::string message;
  };
  const std::vector<Row> rows = {
      {"plaintext SNI listener", [](json& d) { d["listeners"][0].erase("tls"); },
       "listeners[0].tls: missing (SNI routing needs TLS; a plaintext listener needs \"routing\": {\"mode\": "
       "\"port\", ...})"},
      {"explicit sni mode still needs TLS",
       [](json& d) { d["listeners"][0].erase("tls"); d["listeners"][0]["routing"] = {{"mode", "sni"}}; },
       "listeners[0].tls: missing (SNI routing needs TLS; a plaintext listener needs \"routing\": {\"mode\": "
       "\"port\", ...})"},
      {"sni mode takes no port keys", [](json& d) { d["listeners"][0]["routing"] = {{"mode", "sni"}, {"max_node_id", 3}}; },
       "listeners[0].routing.max_node_id: unknown key (allowed here: mode)"},
      {"unknown mode", [](json& d) { d["listeners"][1]["routing"]["mode"] = "ports"; },
       "listeners[1].routing.mode: \"ports\" is not a routing mode (expected \"sni\" or \"port\")"},
      {"unknown routing key", [](json& d) { d["listeners"][1]["routing"]["base"] = 1; },
       "listeners[1].routing.base: unknown key (allowed here: mode, virtual_cluster, advertised_host, "
       "broker_port_base, max_node_id)"},
      {"missing virtual cluster", [](json& d) { d["listeners"][1]["routing"].erase("virtual_cluster"); },
       "listeners[1].routing.virtual_cluster: missing (this key is required)"},
      {"unknown virtual cluster", [](json& d) { d["listeners"][1]["routing"]["virtual_cluster"] = "gamma"; },
       "listeners[1].routing.virtual_cluster: \"gamma\" is not a virtual cluster (known: alpha, beta)"},
      {"missing max_node_id", [](json& d) { d["listeners"][1]["routing"].erase("max_node_id"); },
       "listeners[1].routing.max_node_id: missing (this key is required)"},
      {"bad advertised host", [](json& d) { d["listeners"][1]["routing"]["advertised_host"] = "kafka example"; },
       "listeners[1].routing.advertised_host: \"kafka example\" is not a host name or IP address"},
      {"pool beyond 65535", [](json& d) { d["listeners"][1]["routing"]["broker_port_base"] = 65530; },
       "listeners[1].routing: broker ports 65530..65539 (broker_port_base + 0..max_node_id) exceed 65535"},
      {"pool contains the bootstrap port", [](json& d) { d["listeners"][1]["routing"]["broker_port_base"] = 19090; },
       "listeners[1].routing: broker ports 19090..19099 include the bootstrap port 19092 (bind)"},
      {"advertised_port on a port listener", [](json& d) { d["listeners"][1]["advertised_port"] = 443; },
       "listeners[1].advertised_port: not used by a port-routed listener: broker N is advertised on "
       "routing.broker_port_base + N"},
      {"pool overlaps another listener's bind",
       [](json& d) { d["listeners"][0]["bind"] = "0.0.0.0:19105"; },
       "listeners[1]: port 19105 of listener \"plain\" is also used by listener \"sni\" (listeners[0]); ports "
       "in use: 19105"},
      {"pools overlap on the same family",
       [](json& d) { d["listeners"][2]["bind"] = "127.0.0.1:19093"; d["listeners"][2]["routing"]["broker_port_base"] = 19105; },
       "listeners[2]: port 19105 of listener \"v6\" is also used by listener \"plain\" (listeners[1]); ports in "
       "use: 19092 (bootstrap) and 19100..19109 (brokers)"},
      {"backend tls cert without key", [](json& d) { d["virtual_clusters"][0]["backend"]["tls"].erase("key"); },
       "virtual_clusters[0].backend.tls.key: missing (a client certificate needs both cert and key; cert is set)"},
      {"backend tls verify not a boolean", [](json& d) { d["virtual_clusters"][1]["backend"]["tls"]["verify"] = "no"; },
       "virtual_clusters[1].backend.tls.verify: expected true or false, got string \"no\""},
      {"backend tls unknown key", [](json& d) { d["virtual_clusters"][1]["backend"]["tls"]["ca"] = "x"; },
       "virtual_clusters[1].backend.tls.ca: unknown key (allowed here: ca_file, cert, key, server_name, verify)"},
      {"backend ca_file missing", [](json& d) { d["virtual_clusters"][0]["backend"]["tls"]["ca_file"] = "tls/none.pem"; },
       "virtual_clusters[0].backend.tls.ca_file: file \"tls/none.pem\" (resolved {dir}/tls/none.pem) does not exist"},
      {"discovery mode unknown", [](json& d) { d["virtual_clusters"][1]["backend"]["discovery"]["mode"] = "dns"; },
       "virtual_clusters[1].backend.discovery.mode: \"dns\" is not a discovery mode (expected \"metadata\" or "
       "\"static\")"},
      {"static without pattern", [](json& d) { d["virtual_clusters"][0]["backend"]["discovery"].erase("pattern"); },
       "virtual_clusters[0].backend.discovery.pattern: missing (this key is required)"},
      {"pattern without placeholder",
       [](json& d) { d["virtual_clusters"][0]["backend"]["discovery"]["pattern"] = "b-1.internal:9094"; },
       "virtual_clusters[0].backend.discovery.pattern: \"b-1.internal:9094\" does not contain $(nodeId)"},
      {"pattern not host:port",
       [](json& d) { d["virtual_clusters"][0]["backend"]["discovery"]["pattern"] = "b-$(nodeId).internal"; },
       "virtual_clusters[0].backend.discovery.pattern: with node id 0: \"b-0.internal\" is not host:port "
       "(expected HOST:PORT or [IPv6]:PORT)"},
      {"pattern with metadata mode",
       [](json& d) { d["virtual_clusters"][1]["backend"]["discovery"]["pattern"] = "b-$(nodeId):1"; },
       "virtual_clusters[1].backend.discovery.pattern: only used with \"mode\": \"static\""},
  };
  const Tree tree;
  for (const Row& row : rows) {
    INFO(row.what);
    json document = mixed_config();
    row.mutate(document);
    CHECK(tree.error_of(document) == tree.with_dir(row.message));
  }
}

TEST_CASE("IPv6 and IPv4 wildcards on one port are separate listeners (IPV6_V6ONLY)", "[routing][config]") {
  const Tree tree;
  json document = mixed_config();
  document["listeners"][2]["bind"] = "[::]:9092";  // beside sni's 0.0.0.0:9092
  document["listeners"][2]["routing"] = {{"mode", "sni"}};
  CHECK(tree.load(document).listeners.size() == 3);
  document["listeners"][2]["bind"] = "0.0.0.0:9092";
  CHECK(tree.error_of(document).find("listeners[2].bind: 0.0.0.0:9092 conflicts with") == 0);
}
