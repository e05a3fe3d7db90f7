// Prometheus exposition 0.0.4, readiness verdicts and admin routing, checked
// on hand-built snapshots.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "admin/server.h"
#include "admin/model.h"

using namespace kedge;

namespace {

GatewaySnapshot sample() {
  GatewaySnapshot s;
  s.version = "1.2.3";
  s.started_unix_ms = 1'700'000'000'123;
  s.now_unix_ms = 1'700'000'100'000;
  s.listeners.push_back({"public", "0.0.0.0:9092", 9092, "required", true});
  ClusterSnapshot alpha;
  alpha.name = "alpha";
  alpha.hostname_format = "subdomain";
  alpha.domain = "kafka.example.com";
  alpha.bootstrap_host = "bootstrap.kafka.example.com";
  alpha.bootstrap_servers = {"10.0.0.5:9092"};
  alpha.brokers.push_back({1, "10.0.0.5:9092", "Metadata v12 response", 1'700'000'050'000});
  alpha.health.last_success_unix_ms = 1'700'000'090'000;
  s.clusters.push_back(alpha);
  s.stats = LoopStats(1, 1);
  ListenerStats& l = s.stats.listeners[0];
  l.connections_accepted = 5;
  l.connections_active = 2;
  l.closed_by_cause[static_cast<std::size_t>(DisconnectCause::client_closed)] = 3;
  l.proxy_headers[static_cast<std::size_t>(ProxyOutcome::v2)] = 4;
  ClusterStats& c = s.stats.clusters[0];
  c.apis[3].requests = 2;
  c.apis[3].responses = 2;
  c.apis[3].endpoints_rewritten = 6;
  c.apis[3].latency.observe(400);        // <= 0.5 ms
  c.apis[3].latency.observe(3'000'000);  // <= 5 s
  c.apis[0].requests = 1;                // acks=0 Produce: no response
  return s;
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}

struct FixedView : AdminView {
  GatewaySnapshot s = sample();
  ReloadResult next_reload;
  int reloads = 0;
  GatewaySnapshot snapshot() const override { return s; }
  ReloadResult reload_config() override {
    ++reloads;
    return next_reload;
  }
};

}  // namespace

TEST_CASE("exposition carries types, labels and cumulative histogram buckets", "[admin][metrics]") {
  const std::string text = render_metrics(sample());
  CHECK(has_line(text, "# TYPE kedge_connections_closed_total counter"));
  CHECK(has_line(text, "kedge_connections_closed_total{listener=\"public\",cause=\"client_closed\"} 3"));
  CHECK(has_line(text, "kedge_connections_closed_total{listener=\"public\",cause=\"shutdown\"} 0"));
  CHECK(has_line(text, "kedge_connections_accepted_total{listener=\"public\"} 5"));
  CHECK(has_line(text, "kedge_connections_active{listener=\"public\"} 2"));
  CHECK(has_line(text, "kedge_proxy_headers_total{listener=\"public\",outcome=\"v2\"} 4"));
  CHECK(has_line(text, "kedge_requests_total{virtual_cluster=\"alpha\",api=\"Metadata\"} 2"));
  CHECK(has_line(text, "kedge_requests_total{virtual_cluster=\"alpha\",api=\"Produce\"} 1"));
  CHECK(has_line(text, "kedge_responses_total{virtual_cluster=\"alpha\",api=\"Produce\"} 0"));
  CHECK(has_line(text, "kedge_rewritten_endpoints_total{virtual_cluster=\"alpha\",api=\"Metadata\"} 6"));
  CHECK(has_line(text, "# TYPE kedge_request_duration_seconds histogram"));
  CHECK(has_line(text, "kedge_request_duration_seconds_bucket{virtual_cluster=\"alpha\",api=\"Metadata\",le=\"0.0005\"} 1"));
  CHECK(has_line(text, "kedge_request_duration_seconds_bucket{virtual_cluster=\"alpha\",api=\"Metadata\",le=\"2.5\"} 1"));
  CHECK(has_line(text, "kedge_request_duration_seconds_bucket{virtual_cluster=\"alpha\",api=\"Metadata\",le=\"5\"} 2"));
  CHECK(has_line(text, "kedge_request_duration_seconds_bucket{virtual_cluster=\"alpha\",api=\"Metadata\",le=\"+Inf\"} 2"));
  CHECK(has_line(text, "kedge_request_duration_seconds_sum{virtual_cluster=\"alpha\",api=\"Metadata\"} 3.0004"));
  CHECK(has_line(text, "kedge_request_duration_seconds_count{virtual_cluster=\"alpha\",api=\"Metadata\"} 2"));
  CHECK(has_line(text, "kedge_config_reloads_total{result=\"success\"} 0"));
  CHECK(has_line(text, "kedge_build_info{version=\"1.2.3\"} 1"));
  CHECK(has_line(text, "kedge_known_brokers{virtual_cluster=\"alpha\"} 1"));
  CHECK(has_line(text, "kedge_ready 1"));
  CHECK(text.find("api=\"Fetch\"") == std::string::npos);  // APIs never seen are left out
  // every sample line belongs to a family declared above it
  std::istringstream in(text);
  std::string declared;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      declared = line.substr(7, line.find(' ', 7) - 7);
    } else if (line[0] != '#') {
      INFO(line);
      CHECK(line.rfind(declared, 0) == 0);
    }
  }
}

TEST_CASE("readiness: draining, unbound listener, unreachable or uncontacted backend", "[admin][readiness]") {
  GatewaySnapshot s = sample();
  CHECK(evaluate_readiness(s).ready);
  s.clusters[0].health.last_failure_unix_ms = s.clusters[0].health.last_success_unix_ms + 1;
  s.clusters[0].health.last_error = "10.0.0.5:9092: connection refused";
  CHECK(evaluate_readiness(s).reason == "virtual cluster alpha: backend unreachable: 10.0.0.5:9092: connection refused");
  s.clusters[0].health = {};
  CHECK(evaluate_readiness(s).reason == "virtual cluster alpha: backend not contacted yet");
  s.listeners[0].bound = false;
  CHECK(evaluate_readiness(s).reason == "listener public is not bound");
  s.draining = true;
  CHECK_FALSE(evaluate_readiness(s).ready);
  CHECK(evaluate_readiness(s).reason == "draining");
}

TEST_CASE("admin routing: status codes and the bearer token", "[admin][routing]") {
  FixedView view;
  CHECK(route_admin_request("GET", "/healthz", "", "", view).status == 200);
  CHECK(route_admin_request("GET", "/nope", "", "", view).status == 404);
  CHECK(route_admin_request("GET", "/v1/reload", "", "", view).status == 405);
  CHECK(view.reloads == 0);
  view.next_reload = {false, 3, "listeners[0].tls.cert: cannot open"};
  const AdminResponse rejected = route_admin_request("POST", "/v1/reload", "", "", view);
  CHECK(rejected.status == 422);
  CHECK(rejected.body == R"({"error":"listeners[0].tls.cert: cannot open","generation":3,"ok":false})" "\n");
  view.next_reload = {true, 4, ""};
  const AdminResponse applied = route_admin_request("POST", "/v1/reload", "", "", view);
  CHECK(applied.status == 200);
  CHECK(applied.body == R"({"generation":4,"ok":true})" "\n");
  CHECK(route_admin_request("POST", "/v1/reload", "", "tok", view).status == 401);
  CHECK(view.reloads == 2);
  const AdminResponse post = route_admin_request("POST", "/metrics", "", "", view);
  CHECK(post.status == 405);
  CHECK(post.allow == "GET, HEAD");
  CHECK(route_admin_request("GET", "/metrics?x=1", "", "", view).content_type ==
        "text/plain; version=0.0.4; charset=utf-8");
  // with a token
  CHECK(route_admin_request("GET", "/metrics", "", "tok", view).status == 401);
  CHECK(route_admin_request("GET", "/metrics", "Bearer tok2", "tok", view).status == 401);
  CHECK(route_admin_request("GET", "/metrics", "Basic tok", "tok", view).status == 401);
  CHECK(route_admin_request("GET", "/metrics", "Bearer tok", "tok", view).status == 200);
  CHECK(route_admin_request("GET", "/v1/state", "bearer tok", "tok", view).status == 200);
  CHECK(route_admin_request("GET", "/readyz", "", "tok", view).status == 200);  // probes need no token
  view.s.draining = true;
  const AdminResponse readyz = route_admin_request("GET", "/readyz", "", "tok", view);
  CHECK(readyz.status == 503);
  CHECK(readyz.body == "draining\n");
  const std::string state = route_admin_request("GET", "/v1/state", "Bearer tok", "tok", view).body;
  CHECK(state.find("\"learned_from\": \"Metadata v12 response\"") != std::string::npos);
  CHECK(state.find("\"learned_at\": \"2023-11-14T22:14:10.000Z\"") != std::string::npos);
}

TEST_CASE("mTLS refusals are exposed per virtual cluster and reason", "[admin][metrics][mtls]") {
  GatewaySnapshot s = sample();
  ClusterStats& c = s.stats.clusters[0];
  c.authentications[static_cast<std::size_t>(AuthMechanism::mtls)][static_cast<std::size_t>(AuthOutcome::authenticated)] =
      7;
  c.client_certificate_refusals[static_cast<std::size_t>(ClientCertificateRefusal::revoked)] = 2;
  c.client_certificate_refusals[static_cast<std::size_t>(ClientCertificateRefusal::not_bound)] = 1;
  s.stats.listeners[0].tls_handshake_failures[static_cast<std::size_t>(TlsFailure::client_certificate)] = 3;
  s.stats.listeners[0].closed_by_cause[static_cast<std::size_t>(DisconnectCause::principal_not_bound)] = 1;
  // merge sums them like every other counter
  LoopStats other(1, 1);
  other.clusters[0].client_certificate_refusals[static_cast<std::size_t>(ClientCertificateRefusal::revoked)] = 1;
  s.stats.merge(other);
  const std::string text = render_metrics(s);
  CHECK(has_line(text, "# TYPE kedge_client_certificate_refusals_total counter"));
  CHECK(has_line(text, "kedge_client_certificate_refusals_total{virtual_cluster=\"alpha\",reason=\"revoked\"} 3"));
  CHECK(has_line(text, "kedge_client_certificate_refusals_total{virtual_cluster=\"alpha\",reason=\"not_bound\"} 1"));
  CHECK(has_line(text, "kedge_client_certificate_refusals_total{virtual_cluster=\"alpha\",reason=\"missing\"} 0"));
  CHECK(has_line(text, "kedge_authentications_total{virtual_cluster=\"alpha\",mechanism=\"mTLS\",outcome=\"authenticated\"} 7"));
  CHECK(has_line(text, "kedge_tls_handshake_failures_total{listener=\"public\",reason=\"client_certificate\"} 3"));
  CHECK(has_line(text, "kedge_connections_closed_total{listener=\"public\",cause=\"principal_not_bound\"} 1"));
}

TEST_CASE("principals become labels only when asked, and only the busiest N", "[admin][metrics][identity]") {
  GatewaySnapshot s = sample();
  s.stats.clusters[0].connections_by_principal = {{"alice", 3}, {"bob", 1}, {"carol", 2}, {"dave", 1}};
  LoopStats other(1, 1);  // a second worker's share of the same principals
  other.clusters[0].connections_by_principal = {{"bob", 4}};
  s.stats.merge(other);
  CHECK(render_metrics(s).find("kedge_principal_connections_active") == std::string::npos);  // off by default

  s.principal_metric_limit = 2;
  const std::string text = render_metrics(s);
  CHECK(has_line(text, "kedge_principal_connections_active{virtual_cluster=\"alpha\",principal=\"bob\"} 5"));
  CHECK(has_line(text, "kedge_principal_connections_active{virtual_cluster=\"alpha\",principal=\"alice\"} 3"));
  CHECK(has_line(text, "kedge_principal_connections_active{virtual_cluster=\"alpha\",principal=\"other\"} 3"));
  CHECK(text.find("principal=\"carol\"") == std::string::npos);
}
