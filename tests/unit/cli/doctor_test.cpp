// `kedge check` pieces that need no network namespace: host-name enumeration,
// the wildcard/SAN list, certificate findings and an unreachable backend.
// (Good setups, DNS and real brokers: tests/integration/test_check_netns.py.)
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "cert_fixture.h"
#include "certs/dev_ca.h"
#include "cli/doctor.h"

#include <nlohmann/json.hpp>

using namespace kedge;
using kedge::certs::testing::TempDir;

namespace {

// A loopback port nothing listens on: bound, then closed.
std::uint16_t closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

Config config_with(const std::filesystem::path& dir, const std::string& clusters_json) {
  const auto path = dir / "kedge.json";
  std::ofstream(path) << R"({"listeners": [{"name": "hub", "bind": "0.0.0.0:9092", "advertised_port": 443,
                              "tls": {"cert": "tls/server.pem", "key": "tls/server.key"}}],
                            "virtual_clusters": )"
                      << clusters_json << "}";
  return load_config(path);
}

void make_certs(const std::filesystem::path& dir, std::vector<std::string> names, int days = 397, int backdate = 0) {
  certs::DevCaOptions options;
  options.out_dir = dir / "tls";
  options.dns_names = std::move(names);
  options.validity_days = days;
  options.backdate_days = backdate;
  certs::create_dev_ca(options);
}

// One virtual cluster "alpha" under `domain` whose backend is a closed loopback port.
Config unreachable_cluster(const std::filesystem::path& dir, const std::string& domain) {
  return config_with(dir, R"([
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": ")" + domain + R"("},
       "backend": {"bootstrap_servers": ["127.0.0.1:)" + std::to_string(closed_port()) + R"("]}}])");
}

// `kedge check` without DNS lookups (names resolve only in the netns tests).
check::Report run_offline_check(const Config& config) {
  check::Options options;
  options.resolve_names = false;
  return check::run_check(config, options);
}

const check::Finding* find(const check::Report& report, const std::string& text) {
  for (const auto& finding : report.findings) {
    if (finding.message.find(text) != std::string::npos) return &finding;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("client names: bootstrap, brokers in id order, then the HTTP name, per listener and cluster", "[check]") {
  TempDir tmp;
  make_certs(tmp.path(), {"*.kafka.example.com"});
  const Config config = config_with(tmp.path(), R"([
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}},
      {"name": "beta", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.1.5:9092"]}}])");
  const check::KnownBrokers brokers = {{{2, "10.0.0.6", 9092}, {1, "10.0.0.5", 9092}}, {{7, "b", 1}}};
  const auto names = check::enumerate_client_names(config, brokers);
  std::vector<std::string> hosts;
  for (const auto& name : names) {
    hosts.push_back(name.host + ":" + std::to_string(name.port));
    CHECK(name.certificate_path == "listeners[0].tls");
  }
  CHECK(hosts == std::vector<std::string>{"bootstrap.kafka.example.com:443", "broker-1.kafka.example.com:443",
                                          "broker-2.kafka.example.com:443", "http.kafka.example.com:443",
                                          "bootstrap-beta.kafka.example.com:443",
                                          "broker-7-beta.kafka.example.com:443",
                                          "http-beta.kafka.example.com:443"});
  CHECK(names[3].role == check::ClientName::Role::http);
  CHECK(names[6].role == check::ClientName::Role::http);
  CHECK(check::required_wildcards(config) == std::vector<std::string>{"*.kafka.example.com"});
}

namespace {

// One SNI listener and one port-routed listener (both onto "alpha"), with
// `listener_http` / `alpha_http` as their "http" objects when not null.
Config http_front_config(const std::filesystem::path& dir, const nlohmann::json& listener_http,
                         const nlohmann::json& alpha_http) {
  nlohmann::json document = nlohmann::json::parse(R"({
      "listeners": [
        {"name": "hub", "bind": "0.0.0.0:9092", "advertised_port": 443,
         "tls": {"cert": "tls/server.pem", "key": "tls/server.key"}},
        {"name": "ports", "bind": "0.0.0.0:19092",
         "routing": {"mode": "port", "virtual_cluster": "alpha", "advertised_host": "kafka.internal.example",
                     "broker_port_base": 19100, "max_node_id": 9}}],
      "virtual_clusters": [
        {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
         "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}},
        {"name": "beta", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
         "backend": {"bootstrap_servers": ["10.0.1.5:9092"]}}]})");
  if (!listener_http.is_null()) document["listeners"][0]["http"] = listener_http;
  if (!alpha_http.is_null()) document["virtual_clusters"][0]["http"] = alpha_http;
  const auto path = dir / "kedge.json";
  std::ofstream(path) << document.dump(2);
  return load_config(path);
}

std::vector<std::string> http_hosts(const std::vector<check::ClientName>& names) {
  std::vector<std::string> hosts;
  for (const auto& name : names) {
    if (name.role == check::ClientName::Role::http) hosts.push_back(name.host);
  }
  return hosts;
}

}  // namespace

TEST_CASE("the HTTP name is listed where the front is on, and 'HTTP front: off' where it is not", "[check][http]") {
  TempDir tmp;
  make_certs(tmp.path(), {"*.kafka.example.com"});
  const check::KnownBrokers no_brokers;
  check::Options options;
  options.resolve_names = false;
  check::Report report;  // rendered without probing: names only
  report.options = options;

  SECTION("on by default on the SNI listener, never on the port-routed one") {
    const Config config = http_front_config(tmp.path(), nullptr, nullptr);
    report.names = check::enumerate_client_names(config, no_brokers);
    CHECK(http_hosts(report.names) == std::vector<std::string>{"http.kafka.example.com", "http-beta.kafka.example.com"});
    CHECK(check::http_front_off_reason(config, 0, 0).empty());
    CHECK(check::http_front_off_reason(config, 1, 0) == "listeners[1] routes by port; the front needs SNI routing");
    const std::string text = check::render_text(config, report);
    CHECK_THAT(text, Catch::Contains("http.kafka.example.com:443"));
    CHECK_THAT(text, Catch::Contains("WebSocket wss://http.kafka.example.com:443/kafka"));
    CHECK_THAT(text, Catch::Contains("WebSocket wss://http-beta.kafka.example.com:443/kafka"));
    CHECK_THAT(text, Catch::Contains("http       HTTP front: off (listeners[1] routes by port; the front needs SNI "
                                     "routing)"));
    const auto json = check::render_json(config, report);
    REQUIRE(json["http_front"].size() == 3);
    CHECK(json["http_front"][0] == nlohmann::json{{"listener", "hub"},
                                                  {"virtual_cluster", "alpha"},
                                                  {"enabled", true},
                                                  {"host", "http.kafka.example.com"},
                                                  {"websocket_url", "wss://http.kafka.example.com:443/kafka"},
                                                  {"off_reason", nullptr}});
    CHECK(json["http_front"][2]["listener"] == "ports");
    CHECK(json["http_front"][2]["enabled"] == false);
    CHECK(json["http_front"][2]["host"] == nullptr);
    CHECK(json["names"][1]["role"] == "http");
    CHECK(json["names"][1]["node_id"] == nullptr);
  }
  SECTION("off for one virtual cluster") {
    const Config config = http_front_config(tmp.path(), nullptr, {{"enabled", false}, {"websocket_path", "/ws"}});
    report.names = check::enumerate_client_names(config, no_brokers);
    CHECK(http_hosts(report.names) == std::vector<std::string>{"http-beta.kafka.example.com"});
    const std::string text = check::render_text(config, report);
    CHECK_THAT(text, Catch::Contains("alpha      http       HTTP front: off (virtual_clusters[0].http.enabled is "
                                     "false)"));
    CHECK_THAT(text, !Catch::Contains("http.kafka.example.com"));
    const auto json = check::render_json(config, report);
    CHECK(json["http_front"][0]["enabled"] == false);
    CHECK(json["http_front"][0]["off_reason"] == "virtual_clusters[0].http.enabled is false");
    CHECK(json["http_front"][1]["enabled"] == true);
  }
  SECTION("off for the whole listener") {
    const Config config = http_front_config(tmp.path(), {{"enabled", false}}, {{"websocket_path", "/ws"}});
    report.names = check::enumerate_client_names(config, no_brokers);
    CHECK(http_hosts(report.names).empty());
    const std::string text = check::render_text(config, report);
    CHECK_THAT(text, Catch::Contains("alpha      http       HTTP front: off (listeners[0].http.enabled is false)"));
    CHECK_THAT(text, Catch::Contains("beta       http       HTTP front: off (listeners[0].http.enabled is false)"));
  }
  SECTION("the configured WebSocket path is shown") {
    const Config config = http_front_config(tmp.path(), nullptr, {{"websocket_path", "/ws"}});
    report.names = check::enumerate_client_names(config, no_brokers);
    CHECK_THAT(check::render_text(config, report), Catch::Contains("WebSocket wss://http.kafka.example.com:443/ws"));
  }
}

TEST_CASE("a certificate that covers the Kafka names but not the HTTP name is a problem naming it", "[check][http]") {
  TempDir tmp;
  make_certs(tmp.path(), {"bootstrap.kafka.example.com"});
  const Config config = unreachable_cluster(tmp.path(), "kafka.example.com");
  const check::Report report = run_offline_check(config);
  const auto* finding = find(report, "does not cover http.kafka.example.com");
  REQUIRE(finding != nullptr);
  CHECK_THAT(finding->fix, Catch::Contains("SAN *.kafka.example.com"));
  const auto json = check::render_json(config, report);
  REQUIRE(json["names"].size() == 2);
  CHECK(json["names"][0]["certificate_covers"] == true);   // bootstrap
  CHECK(json["names"][1]["role"] == "http");
  CHECK(json["names"][1]["certificate_covers"] == false);
}

TEST_CASE("two-label names under a one-label wildcard: the fix is shared_suffix", "[check]") {
  TempDir tmp;
  make_certs(tmp.path(), {"*.example.com"});
  const Config config = unreachable_cluster(tmp.path(), "alpha.example.com");
  const check::Report report = run_offline_check(config);
  const auto* finding = find(report, "does not cover bootstrap.alpha.example.com");
  REQUIRE(finding != nullptr);
  CHECK_THAT(finding->message, Catch::Contains("exactly one label"));
  CHECK_THAT(finding->fix, Catch::Contains(R"("format": "shared_suffix", "domain": "example.com")"));
  CHECK_THAT(finding->fix, Catch::Contains("broker-1-alpha.example.com"));
  CHECK(check::required_wildcards(config) == std::vector<std::string>{"*.alpha.example.com"});
  // The backend is down: reported with the JSON path to correct.
  const auto* backend = find(report, "did not answer Metadata: Connection refused");
  REQUIRE(backend != nullptr);
  CHECK(backend->severity == check::Severity::problem);
  CHECK_THAT(backend->fix, Catch::Contains("virtual_clusters[0].backend.bootstrap_servers[0]"));
  CHECK(report.exit_code() == check::kExitProblems);
  const auto json = check::render_json(config, report);
  CHECK(json["exit_code"] == 1);
  CHECK(json["names"][0]["certificate_covers"] == false);
}

TEST_CASE("expiry: expired is a problem, within 30 days a warning", "[check]") {
  TempDir tmp;
  SECTION("expired") {
    make_certs(tmp.path(), {"*.kafka.example.com"}, 5, 10);
  }
  SECTION("expiring") {
    make_certs(tmp.path(), {"*.kafka.example.com"}, 20, 0);
  }
  const Config config = unreachable_cluster(tmp.path(), "kafka.example.com");
  const check::Report report = run_offline_check(config);
  const auto* expired = find(report, "expired on");
  const auto* expiring = find(report, "days left");
  CHECK((expired != nullptr) != (expiring != nullptr));
  if (expired != nullptr) CHECK(expired->severity == check::Severity::problem);
  if (expiring != nullptr) CHECK(expiring->severity == check::Severity::warning);
}

TEST_CASE("a key that does not belong to the certificate is a problem naming both files", "[check]") {
  TempDir tmp;
  make_certs(tmp.path(), {"*.kafka.example.com"});
  certs::DevCaOptions other;
  other.out_dir = tmp.path() / "other";
  other.dns_names = {"*.kafka.example.com"};
  certs::create_dev_ca(other);
  std::filesystem::remove(tmp.path() / "tls" / "server.key");
  std::filesystem::copy_file(tmp.path() / "other" / "server.key", tmp.path() / "tls" / "server.key");
  const Config config = unreachable_cluster(tmp.path(), "kafka.example.com");
  const check::Report report = run_offline_check(config);
  const auto* finding = find(report, "does not belong to the certificate");
  REQUIRE(finding != nullptr);
  CHECK_THAT(finding->fix, Catch::Contains("listeners[0].tls.key"));
}

TEST_CASE("zone snippet: one wildcard per domain, A or AAAA or CNAME by gateway address", "[check]") {
  check::Report report;
  report.wildcards = {"*.kafka.example.com", "*.kafka.example.org"};
  CHECK_THAT(check::zone_snippet(report), Catch::Contains("*.kafka.example.com. 300 IN A <gateway-address>"));
  report.options.gateway_address = "10.1.2.3";
  CHECK_THAT(check::zone_snippet(report), Catch::Contains("*.kafka.example.org. 300 IN A 10.1.2.3"));
  report.options.gateway_address = "2001:db8::1";
  CHECK_THAT(check::zone_snippet(report), Catch::Contains("IN AAAA 2001:db8::1"));
  report.options.gateway_address = "kedge-nlb.elb.amazonaws.com";
  CHECK_THAT(check::zone_snippet(report), Catch::Contains("IN CNAME kedge-nlb.elb.amazonaws.com."));
}

TEST_CASE("policies: each cluster's rules, how kedge refuses, and rules that can never take effect", "[check][policy]") {
  TempDir dir;
  make_certs(dir.path(), {"*.kafka.example.com"});
  const Config config = config_with(dir.path(), R"([
      {"name": "alpha", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["127.0.0.1:)" + std::to_string(closed_port()) + R"("]},
       "policy": {"read_only": true, "apis": {"deny": ["Produce", "ApiVersions"]}}},
      {"name": "beta", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["127.0.0.1:)" + std::to_string(closed_port()) + R"("]}}])");
  const check::Report report = run_offline_check(config);
  const std::string text = check::render_text(config, report);
  CHECK_THAT(text, Catch::Contains("alpha        read-only; APIs denied: Produce, ApiVersions; APIs kedge does not know: "
                                   "refused"));
  CHECK_THAT(text, Catch::Contains("refused with an authorization error: Produce, CreateTopics, DeleteTopics"));
  CHECK_THAT(text, Catch::Contains("refused and removed from ApiVersions"));
  CHECK_THAT(text, Catch::Contains("warning: apis.deny lists Produce, which read_only refuses anyway"));
  CHECK_THAT(text, Catch::Contains("warning: apis.deny lists ApiVersions, which is always allowed"));
  CHECK_THAT(text, Catch::Contains("beta         none: requests are forwarded unexamined"));
  const nlohmann::json json = check::render_json(config, report);
  const auto& policies = json.at("policies");
  REQUIRE(policies.size() == 2);
  CHECK(policies[0].at("virtual_cluster") == "alpha");
  CHECK(policies[0].at("policy").at("read_only") == true);
  CHECK(policies[0].at("policy").at("apis").at("deny") == nlohmann::json::array({"Produce", "ApiVersions"}));
  CHECK(policies[0].at("policy").at("unknown_apis") == "deny");
  CHECK(policies[0].at("policy").at("warnings").size() == 2);
  CHECK(policies[1].at("policy").is_null());
}

TEST_CASE("quotas: each cluster's rates for every client and per principal", "[check][policy][quota]") {
  TempDir dir;
  make_certs(dir.path(), {"*.kafka.example.com"});
  const Config config = config_with(dir.path(), R"([
      {"name": "alpha", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["127.0.0.1:)" + std::to_string(closed_port()) + R"("]},
       "quotas": {"produce_bytes_per_second": 1048576, "fetch_bytes_per_second": 3000,
                  "principals": {"etl": {"produce_bytes_per_second": null, "requests_per_second": 50}},
                  "connections_per_address": 50}}])");
  const check::Report report = run_offline_check(config);
  const std::string text = check::render_text(config, report);
  CHECK_THAT(text, Catch::Contains("alpha        no API rules: every request allowed"));
  CHECK_THAT(text, Catch::Contains("quotas, each client (principal, else address): produce 1 MiB/s, fetch 3000 B/s"));
  CHECK_THAT(text, Catch::Contains("quotas, principal etl: produce unlimited, fetch 3000 B/s, requests 50/s"));
  CHECK_THAT(text, Catch::Contains("quotas, connections per client address: 50 open, unlimited new per second"));
  const nlohmann::json json = check::render_json(config, report);
  const auto& quotas = json.at("policies").at(0).at("quotas");
  CHECK(quotas.at("each_client").at("produce_bytes_per_second") == 1048576);
  CHECK(quotas.at("principals").at("etl").at("produce_bytes_per_second").is_null());
  CHECK(quotas.at("principals").at("etl").at("fetch_bytes_per_second") == 3000);
  CHECK(quotas.at("principals").at("etl").at("requests_per_second") == 50);
  CHECK(quotas.at("each_client").at("requests_per_second").is_null());
  CHECK(quotas.at("connections_per_address") == 50);
  CHECK(quotas.at("connections_per_address_per_second").is_null());
}
