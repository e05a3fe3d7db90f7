// `kedge check` (cli/doctor.h) probing scripted brokers over loopback: the
// same upstream client as discovery, so a Metadata v0..v2 broker answers and
// backend.tls is used (verified) where it was ignored before.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "cert_fixture.h"
#include "certs/tls_context.h"
#include "cli/doctor.h"
#include "loop_broker.h"

using namespace kedge;
using kedge::loop_test::BrokerConnection;
using kedge::loop_test::ScriptedBroker;

namespace {

// Answers every connection: ApiVersions (v0..v2 Metadata), then Metadata listing
// this broker as node 1; a connection that sends nothing (a reachability probe) just ends.
void self_listing_broker(BrokerConnection& c) {
  const auto request = c.read_request();
  if (!request) return;
  if (request->api_key != 18) return c.note("expected ApiVersions first");
  c.send(test::answer(*request, test::api_versions_body(request->version, loop_test::rdkafka_2_0_2_ranges())));
  loop_test::answer_metadata(c, {{1, "127.0.0.1", c.broker_port()}});
}

// One listener with make_certs.sh's certificate for kafka.example.com, one
// virtual cluster whose backend is `server`, with `backend_tls` (JSON) when given.
Config config_for(const certs::testing::CertTree& tree, const HostPort& server, const std::string& backend_tls) {
  const auto path = tree.tmp.path() / "kedge.json";
  std::ofstream(path) << R"({"listeners": [{"name": "hub", "bind": "0.0.0.0:9092", "advertised_port": 9092,
      "tls": {"cert": ")" << (tree / "server.pem").string() << R"(", "key": ")" << (tree / "server.key").string()
                      << R"("}}],
    "virtual_clusters": [{"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
      "backend": {"bootstrap_servers": [")" << server.to_string() << "\"]"
                      << (backend_tls.empty() ? "" : ", \"tls\": " + backend_tls) << "}}]}";
  return load_config(path);
}

check::Report offline_check(const Config& config) {
  check::Options options;
  options.resolve_names = false;
  options.timeout_ms = 3000;
  return check::run_check(config, options);
}

}  // namespace

TEST_CASE("kedge check lists the brokers of a Metadata v0..v2 backend", "[loop][check]") {
  certs::testing::CertTree tree;
  ScriptedBroker broker(self_listing_broker);
  const Config config = config_for(tree, broker.address(), "");
  const check::Report report = offline_check(config);
  broker.stop();
  CHECK(broker.notes().empty());
  REQUIRE(report.backends.size() == 1);
  INFO(report.backends[0].error);
  CHECK(report.backends[0].answered);
  REQUIRE(report.brokers.size() == 1);
  CHECK(report.brokers[0].reachable);
  CHECK(report.exit_code() == check::kExitOk);
  CHECK_THAT(check::render_text(config, report), Catch::Contains("ok, 1 broker(s)"));
}

TEST_CASE("kedge check speaks backend.tls and verifies the brokers' certificates", "[loop][check][tls]") {
  loop_test::TlsBroker tls;
  ScriptedBroker broker(self_listing_broker, tls.server.get());
  const certs::testing::CertTree& tree = tls.tree;

  SECTION("the CA that signed them: Metadata over TLS, the broker reachable over TLS") {
    const Config config = config_for(
        tree, broker.address(),
        R"({"ca_file": ")" + (tree / "ca.pem").string() + R"(", "server_name": "b1.kafka.example.com"})");
    const check::Report report = offline_check(config);
    broker.stop();
    REQUIRE(report.backends.size() == 1);
    INFO(report.backends[0].error);
    CHECK(report.backends[0].answered);
    REQUIRE(report.brokers.size() == 1);
    INFO(report.brokers[0].error);
    CHECK(report.brokers[0].reachable);
    CHECK(report.exit_code() == check::kExitOk);
    CHECK(broker.tls_accept_error().empty());
    CHECK(broker.connections() == 2);  // the Metadata probe, then the reachability probe
  }
  SECTION("another CA: FAILED with the verification error, the fix names backend.tls") {
    const Config config = config_for(
        tree, broker.address(),
        R"({"ca_file": ")" + (tree / "wrong-ca.pem").string() + R"(", "server_name": "b1.kafka.example.com"})");
    const check::Report report = offline_check(config);
    broker.stop();
    REQUIRE(report.backends.size() == 1);
    CHECK_FALSE(report.backends[0].answered);
    CHECK_THAT(report.backends[0].error, Catch::StartsWith("TLS handshake with the broker failed: "));
    CHECK_THAT(report.backends[0].error, Catch::Contains("certificate verify failed"));
    REQUIRE(report.findings.size() == 1);
    CHECK(report.findings[0].severity == check::Severity::problem);
    CHECK_THAT(report.findings[0].fix, Catch::Contains("virtual_clusters[0].backend.tls"));
    CHECK(report.exit_code() == check::kExitProblems);
  }
  SECTION("plaintext toward a TLS listener: the session says what the bytes are") {
    const Config config = config_for(tree, broker.address(), "");
    const check::Report report = offline_check(config);
    broker.stop();
    REQUIRE(report.backends.size() == 1);
    CHECK_FALSE(report.backends[0].answered);
    INFO(report.backends[0].error);
    // OpenSSL answers a non-TLS ClientHello with an alert record or just closes.
    CHECK((report.backends[0].error.find("does this listener need backend.tls?") != std::string::npos ||
           report.backends[0].error.find("without answering ApiVersions") != std::string::npos));
    CHECK(report.exit_code() == check::kExitProblems);
  }
}
