// Client identity settings (docs/identity.md, "Configuration"): listeners[].authentication,
// virtual_clusters[].authentication and .principals, backend.sasl, limits.authentication_failures.
// What loads, what the effective authentication of each (listener, cluster) pair is, and one row per
// refusal with its exact message (path first). File contents are build_snapshot's business
// (snapshot_authentication_test.cpp); here the files only have to exist and be readable.
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
  Tree()
      : ConfigTree("kedge-auth-config-test",
                   {"tls/server.pem", "tls/server.key", "identity/users.json", "identity/other-users.json",
                    "identity/jwks.json", "identity/clients-ca.pem", "identity/clients.crl"}) {
    write("secrets/kedge.password", "service-Pa55\n");
  }
};

// One SNI listener that terminates SASL for every cluster it serves, cluster alpha bound to two
// principal patterns, and cluster beta that overrides the listener with passthrough.
json base_document() {
  return json::parse(R"({
    "listeners": [
      {"name": "sni", "bind": "0.0.0.0:9092", "tls": {"cert": "tls/server.pem", "key": "tls/server.key"},
       "authentication": {"mode": "terminate",
                          "sasl": {"mechanisms": ["SCRAM-SHA-256"], "users_file": "identity/users.json"}}}
    ],
    "virtual_clusters": [
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "alpha.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"]},
       "principals": ["alice", "etl-*"]},
      {"name": "beta", "hostnames": {"format": "subdomain", "domain": "beta.example.com"},
       "backend": {"bootstrap_servers": ["10.0.1.5:9092"]},
       "authentication": {"mode": "passthrough"}}
    ]
  })");
}

// Everything set, on a cluster: SASL with every mechanism, OAUTHBEARER with every key, mTLS with rules.
json full_authentication() {
  return json::parse(R"({
    "mode": "terminate",
    "sasl": {"mechanisms": ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN", "OAUTHBEARER"],
             "users_file": "identity/users.json", "session_lifetime_ms": 3600000,
             "oauthbearer": {"jwks_file": "identity/jwks.json", "issuer": "https://idp.example.com",
                             "audiences": ["kafka", "kafka-eu"], "clock_skew_s": 10,
                             "principal_claim": "client_id"}},
    "mtls": {"client_certificates": "optional", "ca_file": "identity/clients-ca.pem",
             "crl_file": "identity/clients.crl", "principal": "rules",
             "principal_rules": ["RULE:^CN=([^,]+),OU=kafka,.*$/$1/L", "DEFAULT"]},
    "close_removed_users": true
  })");
}

}  // namespace

TEST_CASE("authentication: every key of the documented shape loads", "[config][authentication]") {
  const Tree tree;
  json document = base_document();
  document["virtual_clusters"][0]["authentication"] = full_authentication();
  document["virtual_clusters"][0]["backend"]["sasl"] =
      json{{"mechanism", "SCRAM-SHA-512"}, {"username", "kedge-alpha"}, {"password_file", "secrets/kedge.password"}};
  document["limits"] = json::parse(R"({"authentication_failures": {"delay_after": 3, "block_after": 10,
      "window_ms": 30000, "delay_step_ms": 250, "max_delay_ms": 2000, "block_ms": 600000}})");
  const kedge::Config config = tree.load(document);

  const auto& listener = config.listeners[0].authentication;
  REQUIRE(listener.has_value());
  CHECK(listener->mode == kedge::AuthenticationMode::terminate);
  REQUIRE(listener->sasl.has_value());
  CHECK(listener->sasl->mechanisms == std::vector{kedge::TerminatedMechanism::scram_sha_256});
  CHECK(listener->sasl->users_file == tree.dir / "identity/users.json");
  CHECK_FALSE(listener->sasl->oauthbearer.has_value());
  CHECK(listener->sasl->session_lifetime_ms == 0u);
  CHECK_FALSE(listener->mtls.has_value());
  CHECK_FALSE(listener->close_removed_users);

  const kedge::VirtualClusterConfig& alpha = config.virtual_clusters[0];
  CHECK(alpha.principals == std::vector<std::string>{"alice", "etl-*"});
  REQUIRE(alpha.authentication.has_value());
  const kedge::AuthenticationConfig& full = *alpha.authentication;
  CHECK(full.mode == kedge::AuthenticationMode::terminate);
  CHECK(full.close_removed_users);
  REQUIRE(full.sasl.has_value());
  CHECK(full.sasl->mechanisms ==
        std::vector{kedge::TerminatedMechanism::scram_sha_512, kedge::TerminatedMechanism::scram_sha_256,
                    kedge::TerminatedMechanism::plain, kedge::TerminatedMechanism::oauthbearer});
  CHECK(full.sasl->session_lifetime_ms == 3'600'000u);
  REQUIRE(full.sasl->oauthbearer.has_value());
  const kedge::OAuthBearerConfig& oauth = *full.sasl->oauthbearer;
  CHECK(oauth.jwks_file == tree.dir / "identity/jwks.json");
  CHECK(oauth.issuer == "https://idp.example.com");
  CHECK(oauth.audiences == std::vector<std::string>{"kafka", "kafka-eu"});
  CHECK(oauth.clock_skew_s == 10u);
  CHECK(oauth.principal_claim == "client_id");
  REQUIRE(full.mtls.has_value());
  CHECK(full.mtls->client_certificates == kedge::ClientCertificates::optional);
  CHECK(full.mtls->ca_file == tree.dir / "identity/clients-ca.pem");
  CHECK(full.mtls->crl_file == tree.dir / "identity/clients.crl");
  CHECK(full.mtls->principal == kedge::CertificatePrincipalSource::rules);
  CHECK(full.mtls->principal_rules ==
        std::vector<std::string>{"RULE:^CN=([^,]+),OU=kafka,.*$/$1/L", "DEFAULT"});

  REQUIRE(alpha.backend.sasl.has_value());
  CHECK(alpha.backend.sasl->username == "kedge-alpha");
  CHECK(alpha.backend.sasl->password == "service-Pa55");
  CHECK_FALSE(alpha.backend.discovery_sasl.has_value());
  CHECK(&alpha.backend.discovery_credentials() == &alpha.backend.sasl);

  const auto& failures = config.limits.authentication_failures;
  CHECK(failures.delay_after == 3u);
  CHECK(failures.block_after == 10u);
  CHECK(failures.window_ms == 30'000u);
  CHECK(failures.delay_step_ms == 250u);
  CHECK(failures.max_delay_ms == 2'000u);
  CHECK(failures.block_ms == 600'000u);
}

TEST_CASE("authentication: defaults, and passthrough when nothing is set", "[config][authentication]") {
  const Tree tree;
  json document = base_document();
  document["listeners"][0].erase("authentication");
  document["virtual_clusters"][1].erase("authentication");
  document["virtual_clusters"][0]["authentication"] = json::parse(R"({"mode": "terminate",
      "sasl": {"mechanisms": ["OAUTHBEARER"], "oauthbearer": {"jwks_file": "identity/jwks.json"}},
      "mtls": {"ca_file": "identity/clients-ca.pem"}})");
  const kedge::Config config = tree.load(document);
  CHECK_FALSE(config.listeners[0].authentication.has_value());
  const kedge::AuthenticationConfig& alpha = *config.virtual_clusters[0].authentication;
  CHECK_FALSE(alpha.sasl->users_file.has_value());
  const kedge::OAuthBearerConfig& oauth = *alpha.sasl->oauthbearer;
  CHECK_FALSE(oauth.issuer.has_value());
  CHECK(oauth.audiences.empty());
  CHECK(oauth.clock_skew_s == 30u);
  CHECK(oauth.principal_claim == "sub");
  CHECK(alpha.mtls->client_certificates == kedge::ClientCertificates::required);
  CHECK(alpha.mtls->principal == kedge::CertificatePrincipalSource::subject_cn);
  CHECK_FALSE(alpha.mtls->crl_file.has_value());
  CHECK(alpha.mtls->principal_rules.empty());

  const kedge::AuthenticationConfig& beta =
      kedge::effective_authentication(config.listeners[0], config.virtual_clusters[1]);
  CHECK(beta.mode == kedge::AuthenticationMode::passthrough);
  CHECK_FALSE(beta.sasl.has_value());
  CHECK(kedge::authentication_path(config, 0, 1).empty());
  CHECK(config.virtual_clusters[1].principals.empty());

  const kedge::Limits::AuthenticationFailures defaults;
  CHECK(config.limits.authentication_failures == defaults);
  CHECK(defaults.delay_after == 5u);
  CHECK(defaults.block_after == 20u);
}

TEST_CASE("authentication: a cluster's setting overrides its listener's, whole", "[config][authentication]") {
  const Tree tree;
  json document = base_document();
  document["virtual_clusters"].push_back(json::parse(R"({"name": "gamma",
      "hostnames": {"format": "subdomain", "domain": "gamma.example.com"},
      "backend": {"bootstrap_servers": ["10.0.2.5:9092"]}, "principals": ["*"],
      "authentication": {"mode": "terminate", "sasl": {"mechanisms": ["PLAIN"],
                                                       "users_file": "identity/other-users.json"}}})"));
  const kedge::Config config = tree.load(document);
  const kedge::ListenerConfig& listener = config.listeners[0];

  const kedge::AuthenticationConfig& alpha = kedge::effective_authentication(listener, config.virtual_clusters[0]);
  CHECK(&alpha == &*listener.authentication);
  CHECK(kedge::authentication_path(config, 0, 0) == "listeners[0].authentication");

  const kedge::AuthenticationConfig& beta = kedge::effective_authentication(listener, config.virtual_clusters[1]);
  CHECK(beta.mode == kedge::AuthenticationMode::passthrough);
  CHECK(kedge::authentication_path(config, 0, 1) == "virtual_clusters[1].authentication");

  const kedge::AuthenticationConfig& gamma = kedge::effective_authentication(listener, config.virtual_clusters[2]);
  CHECK(gamma.sasl->mechanisms == std::vector{kedge::TerminatedMechanism::plain});
  CHECK(gamma.sasl->users_file == tree.dir / "identity/other-users.json");
  CHECK(kedge::authentication_path(config, 0, 2) == "virtual_clusters[2].authentication");
}

TEST_CASE("authentication: names of modes, mechanisms and sources", "[config][authentication]") {
  CHECK(kedge::to_string(kedge::AuthenticationMode::passthrough) == "passthrough");
  CHECK(kedge::to_string(kedge::AuthenticationMode::terminate) == "terminate");
  CHECK(kedge::to_string(kedge::TerminatedMechanism::plain) == "PLAIN");
  CHECK(kedge::to_string(kedge::TerminatedMechanism::scram_sha_256) == "SCRAM-SHA-256");
  CHECK(kedge::to_string(kedge::TerminatedMechanism::scram_sha_512) == "SCRAM-SHA-512");
  CHECK(kedge::to_string(kedge::TerminatedMechanism::oauthbearer) == "OAUTHBEARER");
  CHECK(kedge::to_string(kedge::ClientCertificates::required) == "required");
  CHECK(kedge::to_string(kedge::ClientCertificates::optional) == "optional");
  CHECK(kedge::to_string(kedge::CertificatePrincipalSource::subject_cn) == "subject_cn");
  CHECK(kedge::to_string(kedge::CertificatePrincipalSource::san_dns) == "san_dns");
  CHECK(kedge::to_string(kedge::CertificatePrincipalSource::san_uri) == "san_uri");
  CHECK(kedge::to_string(kedge::CertificatePrincipalSource::san_email) == "san_email");
  CHECK(kedge::to_string(kedge::CertificatePrincipalSource::rules) == "rules");
}

TEST_CASE("authentication: each principal source loads", "[config][authentication]") {
  const Tree tree;
  for (const auto source : {kedge::CertificatePrincipalSource::subject_cn, kedge::CertificatePrincipalSource::san_dns,
                            kedge::CertificatePrincipalSource::san_uri, kedge::CertificatePrincipalSource::san_email}) {
    json document = base_document();
    document["listeners"][0]["authentication"] = {
        {"mode", "terminate"},
        {"mtls", {{"ca_file", "identity/clients-ca.pem"}, {"principal", std::string(kedge::to_string(source))}}}};
    CHECK(tree.load(document).listeners[0].authentication->mtls->principal == source);
  }
}

TEST_CASE("authentication: port-routed listeners reach only their own cluster", "[config][authentication]") {
  const Tree tree;
  json document = base_document();
  // A plaintext port-routed listener for beta: its passthrough override keeps it free of principals
  // and of the TLS that client certificates would need, although the SNI listener terminates.
  document["listeners"].push_back(json::parse(R"({"name": "beta-ports", "bind": "0.0.0.0:19092",
      "routing": {"mode": "port", "virtual_cluster": "beta", "advertised_host": "kafka.example.com",
                  "broker_port_base": 19100, "max_node_id": 5},
      "authentication": {"mode": "terminate", "mtls": {"ca_file": "identity/clients-ca.pem"}}})"));
  const kedge::Config config = tree.load(document);
  CHECK(kedge::routes_to(config.listeners[0], 0));
  CHECK(kedge::routes_to(config.listeners[0], 1));
  CHECK_FALSE(kedge::routes_to(config.listeners[1], 0));
  CHECK(kedge::routes_to(config.listeners[1], 1));

  // Without beta's override the port listener's mTLS applies to beta: principals and TLS are needed.
  document["virtual_clusters"][1].erase("authentication");
  CHECK(tree.error_of(document) ==
        "virtual_clusters[1].principals: missing: kedge authenticates clients of virtual cluster beta on listener sni "
        "(listeners[0].authentication), so it must list who may use it, e.g. [\"alice\", \"etl-*\"] or [\"*\"] for "
        "every authenticated client");
  document["virtual_clusters"][1]["principals"] = {"*"};
  CHECK(tree.error_of(document) ==
        "listeners[1].authentication.mtls: listener beta-ports (listeners[1]) is plaintext, and client certificates "
        "need TLS (give the listener \"tls\", or authenticate with \"sasl\" only)");
}

TEST_CASE("authentication errors name the exact JSON path", "[config][authentication][errors]") {
  struct Row {
    const char* what;
    std::function<void(json&)> mutate;
    std::string message;
  };
  const std::string l = "listeners[0].authentication";
  const std::string sasl = l + ".sasl";
  const std::string vc = "virtual_clusters[0]";
  const auto auth = [](json& d) -> json& { return d["listeners"][0]["authentication"]; };
  const auto set_mtls = [](json& d, json mtls) {
    d["listeners"][0]["authentication"] = {{"mode", "terminate"}, {"mtls", std::move(mtls)}};
  };
  const auto oauth_only = [](json& d, json oauth) {
    d["listeners"][0]["authentication"]["sasl"] = {{"mechanisms", {"OAUTHBEARER"}}, {"oauthbearer", std::move(oauth)}};
  };
  const std::vector<Row> rows = {
      // mode
      {"not an object", [&](json& d) { auth(d) = "terminate"; }, l + ": expected an object, got string \"terminate\""},
      {"unknown key", [&](json& d) { auth(d)["anonymous"] = true; },
       l + ".anonymous: unknown key (allowed here: mode, sasl, mtls, close_removed_users)"},
      {"mode missing", [&](json& d) { auth(d).erase("mode"); }, l + ".mode: missing (this key is required)"},
      {"mode unknown", [&](json& d) { auth(d)["mode"] = "terminated"; },
       l + ".mode: \"terminated\" is not an authentication mode (expected passthrough or terminate)"},
      {"mode not a string", [&](json& d) { auth(d)["mode"] = 1; }, l + ".mode: expected a string, got number 1"},
      {"passthrough with sasl", [&](json& d) { auth(d)["mode"] = "passthrough"; },
       sasl + ": not used with \"mode\": \"passthrough\" (kedge leaves authentication to the brokers; set \"mode\": "
              "\"terminate\" to authenticate clients at kedge)"},
      {"passthrough with mtls",
       [&](json& d) { auth(d) = {{"mode", "passthrough"}, {"mtls", {{"ca_file", "identity/clients-ca.pem"}}}}; },
       l + ".mtls: not used with \"mode\": \"passthrough\" (kedge leaves authentication to the brokers; set "
           "\"mode\": \"terminate\" to authenticate clients at kedge)"},
      {"terminate with neither", [&](json& d) { auth(d) = {{"mode", "terminate"}}; },
       l + ": \"mode\": \"terminate\" needs \"sasl\", \"mtls\" or both (how kedge authenticates clients)"},
      {"close_removed_users not a bool", [&](json& d) { auth(d)["close_removed_users"] = "yes"; },
       l + ".close_removed_users: expected true or false, got string \"yes\""},
      {"close_removed_users without a users file",
       [&](json& d) {
         set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}});
         auth(d)["close_removed_users"] = true;
       },
       l + ".close_removed_users: only used with a users file (sasl.users_file)"},
      // sasl
      {"sasl unknown key", [&](json& d) { auth(d)["sasl"]["mechanism"] = "PLAIN"; },
       sasl + ".mechanism: unknown key (allowed here: mechanisms, users_file, session_lifetime_ms, oauthbearer)"},
      {"mechanisms missing", [&](json& d) { auth(d)["sasl"].erase("mechanisms"); },
       sasl + ".mechanisms: missing (this key is required)"},
      {"mechanisms empty", [&](json& d) { auth(d)["sasl"]["mechanisms"] = json::array(); },
       sasl + ".mechanisms: at least one mechanism is required"},
      {"mechanisms not an array", [&](json& d) { auth(d)["sasl"]["mechanisms"] = "PLAIN"; },
       sasl + ".mechanisms: expected an array, got string \"PLAIN\""},
      {"mechanism unknown", [&](json& d) { auth(d)["sasl"]["mechanisms"] = {"SCRAM-SHA-256", "GSSAPI"}; },
       sasl + ".mechanisms[1]: \"GSSAPI\" is not a SASL mechanism kedge terminates (expected PLAIN, SCRAM-SHA-256, "
              "SCRAM-SHA-512 or OAUTHBEARER)"},
      {"mechanism lower case", [&](json& d) { auth(d)["sasl"]["mechanisms"] = {"plain"}; },
       sasl + ".mechanisms[0]: \"plain\" is not a SASL mechanism kedge terminates (expected PLAIN, SCRAM-SHA-256, "
              "SCRAM-SHA-512 or OAUTHBEARER)"},
      {"mechanism twice", [&](json& d) { auth(d)["sasl"]["mechanisms"] = {"PLAIN", "SCRAM-SHA-256", "PLAIN"}; },
       sasl + ".mechanisms[2]: \"PLAIN\" is already listed at " + sasl + ".mechanisms[0]"},
      {"users_file missing", [&](json& d) { auth(d)["sasl"].erase("users_file"); },
       sasl + ".users_file: missing (PLAIN and SCRAM check passwords against a users file; create one with `kedge "
              "users add NAME --file FILE`)"},
      {"users_file absent", [&](json& d) { auth(d)["sasl"]["users_file"] = "identity/none.json"; },
       sasl + ".users_file: file \"identity/none.json\" (resolved {dir}/identity/none.json) does not exist"},
      {"users_file a folder", [&](json& d) { auth(d)["sasl"]["users_file"] = "identity"; },
       sasl + ".users_file: file \"identity\" (resolved {dir}/identity) is not a regular file"},
      {"users_file without a password mechanism",
       [&](json& d) {
         auth(d)["sasl"]["mechanisms"] = {"OAUTHBEARER"};
         auth(d)["sasl"]["oauthbearer"] = {{"jwks_file", "identity/jwks.json"}};
       },
       sasl + ".users_file: not used: none of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 is in mechanisms"},
      {"session lifetime too short", [&](json& d) { auth(d)["sasl"]["session_lifetime_ms"] = 999; },
       sasl + ".session_lifetime_ms: 999 is too short: 0 (no limit) or at least 1000 (clients re-authenticate before "
              "the session ends, KIP-368)"},
      {"session lifetime too long", [&](json& d) { auth(d)["sasl"]["session_lifetime_ms"] = 2592000001; },
       sasl + ".session_lifetime_ms: 2592000001 is out of range (0..2592000000)"},
      {"session lifetime negative", [&](json& d) { auth(d)["sasl"]["session_lifetime_ms"] = -1; },
       sasl + ".session_lifetime_ms: -1 is out of range (0..2592000000)"},
      // oauthbearer
      {"OAUTHBEARER without oauthbearer", [&](json& d) { auth(d)["sasl"]["mechanisms"] = {"PLAIN", "OAUTHBEARER"}; },
       sasl + ".oauthbearer: missing (OAUTHBEARER needs {\"jwks_file\": ...} to check tokens against)"},
      {"oauthbearer without OAUTHBEARER",
       [&](json& d) { auth(d)["sasl"]["oauthbearer"] = {{"jwks_file", "identity/jwks.json"}}; },
       sasl + ".oauthbearer: not used: OAUTHBEARER is not in mechanisms"},
      {"jwks_file missing", [&](json& d) { oauth_only(d, {{"issuer", "https://idp"}}); },
       sasl + ".oauthbearer.jwks_file: missing (this key is required)"},
      {"jwks_file absent", [&](json& d) { oauth_only(d, {{"jwks_file", "jwks.json"}}); },
       sasl + ".oauthbearer.jwks_file: file \"jwks.json\" (resolved {dir}/jwks.json) does not exist"},
      {"oauthbearer unknown key", [&](json& d) { oauth_only(d, {{"jwks_file", "identity/jwks.json"}, {"aud", "x"}}); },
       sasl + ".oauthbearer.aud: unknown key (allowed here: jwks_file, issuer, audiences, clock_skew_s, "
              "principal_claim)"},
      {"issuer empty", [&](json& d) { oauth_only(d, {{"jwks_file", "identity/jwks.json"}, {"issuer", ""}}); },
       sasl + ".oauthbearer.issuer: must not be empty"},
      {"audiences not an array",
       [&](json& d) { oauth_only(d, {{"jwks_file", "identity/jwks.json"}, {"audiences", "kafka"}}); },
       sasl + ".oauthbearer.audiences: expected an array, got string \"kafka\""},
      {"audiences empty",
       [&](json& d) { oauth_only(d, {{"jwks_file", "identity/jwks.json"}, {"audiences", json::array()}}); },
       sasl + ".oauthbearer.audiences: empty (leave the key out to accept any \"aud\")"},
      {"audience twice",
       [&](json& d) { oauth_only(d, {{"jwks_file", "identity/jwks.json"}, {"audiences", {"a", "b", "a"}}}); },
       sasl + ".oauthbearer.audiences[2]: \"a\" is already listed at " + sasl + ".oauthbearer.audiences[0]"},
      {"audience empty",
       [&](json& d) { oauth_only(d, {{"jwks_file", "identity/jwks.json"}, {"audiences", {""}}}); },
       sasl + ".oauthbearer.audiences[0]: must not be empty"},
      {"clock skew too large",
       [&](json& d) { oauth_only(d, {{"jwks_file", "identity/jwks.json"}, {"clock_skew_s", 3601}}); },
       sasl + ".oauthbearer.clock_skew_s: 3601 is out of range (0..3600)"},
      {"principal claim empty",
       [&](json& d) { oauth_only(d, {{"jwks_file", "identity/jwks.json"}, {"principal_claim", ""}}); },
       sasl + ".oauthbearer.principal_claim: must not be empty"},
      // mtls
      {"mtls unknown key", [&](json& d) { set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}, {"ca", "x"}}); },
       l + ".mtls.ca: unknown key (allowed here: client_certificates, ca_file, crl_file, principal, principal_rules)"},
      {"ca_file missing", [&](json& d) { set_mtls(d, json::object()); }, l + ".mtls.ca_file: missing (this key is required)"},
      {"ca_file absent", [&](json& d) { set_mtls(d, {{"ca_file", "ca.pem"}}); },
       l + ".mtls.ca_file: file \"ca.pem\" (resolved {dir}/ca.pem) does not exist"},
      {"crl_file absent", [&](json& d) { set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}, {"crl_file", "x.crl"}}); },
       l + ".mtls.crl_file: file \"x.crl\" (resolved {dir}/x.crl) does not exist"},
      {"client_certificates unknown",
       [&](json& d) { set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}, {"client_certificates", "request"}}); },
       l + ".mtls.client_certificates: \"request\" is not a client certificate mode (expected required or optional)"},
      {"optional certificates without sasl",
       [&](json& d) { set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}, {"client_certificates", "optional"}}); },
       l + ".mtls.client_certificates: \"optional\" needs \"sasl\" as well: without SASL a client without a "
           "certificate has no principal (use \"required\", or add \"sasl\")"},
      {"principal unknown", [&](json& d) { set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}, {"principal", "cn"}}); },
       l + ".mtls.principal: \"cn\" is not a principal source (expected subject_cn, san_dns, san_uri, san_email or "
           "rules)"},
      {"rules without principal_rules",
       [&](json& d) { set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}, {"principal", "rules"}}); },
       l + ".mtls.principal_rules: missing (\"principal\": \"rules\" maps the subject with Kafka-style rules, e.g. "
           "[\"RULE:^CN=([^,]+),.*$/$1/\", \"DEFAULT\"])"},
      {"principal_rules without rules",
       [&](json& d) { set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}, {"principal_rules", {"DEFAULT"}}}); },
       l + ".mtls.principal_rules: only used with \"principal\": \"rules\""},
      {"principal_rules empty",
       [&](json& d) {
         set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}, {"principal", "rules"}, {"principal_rules", json::array()}});
       },
       l + ".mtls.principal_rules: no rules: write at least \"DEFAULT\""},
      {"principal rule malformed",
       [&](json& d) {
         set_mtls(d, {{"ca_file", "identity/clients-ca.pem"},
                      {"principal", "rules"},
                      {"principal_rules", {"DEFAULT", "RULE:^CN=(.*)$"}}});
       },
       l + ".mtls.principal_rules[1] (\"RULE:^CN=(.*)$\"): expected RULE:pattern/replacement/ (a \"/\" inside either "
           "is written \\/)"},
      {"principal rule not a string",
       [&](json& d) {
         set_mtls(d, {{"ca_file", "identity/clients-ca.pem"}, {"principal", "rules"}, {"principal_rules", {7}}});
       },
       l + ".mtls.principal_rules[0]: expected a string, got number 7"},
      // principals
      {"terminated cluster without principals", [&](json& d) { d["virtual_clusters"][0].erase("principals"); },
       vc + ".principals: missing: kedge authenticates clients of virtual cluster alpha on listener sni "
            "(listeners[0].authentication), so it must list who may use it, e.g. [\"alice\", \"etl-*\"] or [\"*\"] "
            "for every authenticated client"},
      {"principals empty", [&](json& d) { d["virtual_clusters"][0]["principals"] = json::array(); },
       vc + ".principals: empty (it would admit no one; list principals such as \"alice\" or \"etl-*\", or \"*\" for "
            "every authenticated client)"},
      {"principals not an array", [&](json& d) { d["virtual_clusters"][0]["principals"] = "*"; },
       vc + ".principals: expected an array, got string \"*\""},
      {"principal with a star inside", [&](json& d) { d["virtual_clusters"][0]["principals"] = {"alice", "a*b"}; },
       vc + ".principals[1] (\"a*b\"): \"*\" may only end an entry (\"prefix*\")"},
      {"principal listed twice", [&](json& d) { d["virtual_clusters"][0]["principals"] = {"alice", "alice"}; },
       vc + ".principals[1] (\"alice\"): listed twice"},
      {"principal empty", [&](json& d) { d["virtual_clusters"][0]["principals"] = {""}; },
       vc + ".principals[0] (\"\"): empty"},
      {"principal with a control character",
       [&](json& d) { d["virtual_clusters"][0]["principals"] = {std::string("a\nb")}; },
       vc + ".principals[0] (\"a\\x0ab\"): the principal holds a control character"},
      {"cluster authentication checked like the listener's",
       [&](json& d) { d["virtual_clusters"][1]["authentication"] = {{"mode", "terminate"}}; },
       "virtual_clusters[1].authentication: \"mode\": \"terminate\" needs \"sasl\", \"mtls\" or both (how kedge "
       "authenticates clients)"},
      {"a cluster's terminate needs its principals",
       [&](json& d) {
         d["listeners"][0].erase("authentication");
         d["virtual_clusters"][1]["authentication"] = {{"mode", "terminate"},
                                                       {"mtls", {{"ca_file", "identity/clients-ca.pem"}}}};
       },
       "virtual_clusters[1].principals: missing: kedge authenticates clients of virtual cluster beta on listener sni "
       "(virtual_clusters[1].authentication), so it must list who may use it, e.g. [\"alice\", \"etl-*\"] or [\"*\"] "
       "for every authenticated client"},
      // backend.sasl
      {"backend.sasl with backend.discovery.sasl",
       [&](json& d) {
         const json credentials = {
             {"mechanism", "PLAIN"}, {"username", "kedge"}, {"password_file", "secrets/kedge.password"}};
         d["virtual_clusters"][0]["backend"]["sasl"] = credentials;
         d["virtual_clusters"][0]["backend"]["discovery"] = {{"sasl", credentials}};
       },
       vc + ".backend.discovery.sasl: set together with backend.sasl, which discovery uses as well (keep only "
            "backend.sasl)"},
      {"backend.sasl checked like discovery's",
       [&](json& d) {
         d["virtual_clusters"][0]["backend"]["sasl"] = {
             {"mechanism", "OAUTHBEARER"}, {"username", "kedge"}, {"password_file", "secrets/kedge.password"}};
       },
       vc + ".backend.sasl.mechanism: \"OAUTHBEARER\" is not a SASL mechanism kedge speaks (expected PLAIN, "
            "SCRAM-SHA-256 or SCRAM-SHA-512)"},
      {"backend unknown key", [&](json& d) { d["virtual_clusters"][0]["backend"]["credentials"] = json::object(); },
       vc + ".backend.credentials: unknown key (allowed here: bootstrap_servers, tls, discovery, sasl)"},
      // limits.authentication_failures
      {"failures unknown key", [](json& d) { d["limits"]["authentication_failures"] = {{"block_after_ms", 1}}; },
       "limits.authentication_failures.block_after_ms: unknown key (allowed here: delay_after, block_after, "
       "window_ms, delay_step_ms, max_delay_ms, block_ms)"},
      {"delay_after zero", [](json& d) { d["limits"]["authentication_failures"] = {{"delay_after", 0}}; },
       "limits.authentication_failures.delay_after: 0 is out of range (1..10000)"},
      {"block_after too large", [](json& d) { d["limits"]["authentication_failures"] = {{"block_after", 10001}}; },
       "limits.authentication_failures.block_after: 10001 is out of range (1..10000)"},
      {"block_after below delay_after",
       [](json& d) { d["limits"]["authentication_failures"] = {{"delay_after", 8}, {"block_after", 7}}; },
       "limits.authentication_failures.block_after: 7 is below delay_after (8): an address is delayed first, then "
       "blocked"},
      {"block_after below the default delay_after",
       [](json& d) { d["limits"]["authentication_failures"] = {{"block_after", 4}}; },
       "limits.authentication_failures.block_after: 4 is below delay_after (5): an address is delayed first, then "
       "blocked"},
      {"window too short", [](json& d) { d["limits"]["authentication_failures"] = {{"window_ms", 999}}; },
       "limits.authentication_failures.window_ms: 999 is out of range (1000..86400000)"},
      {"delay step too long", [](json& d) { d["limits"]["authentication_failures"] = {{"delay_step_ms", 60001}}; },
       "limits.authentication_failures.delay_step_ms: 60001 is out of range (0..60000)"},
      {"max delay too long", [](json& d) { d["limits"]["authentication_failures"] = {{"max_delay_ms", 60001}}; },
       "limits.authentication_failures.max_delay_ms: 60001 is out of range (0..60000)"},
      {"block too long", [](json& d) { d["limits"]["authentication_failures"] = {{"block_ms", 86400001}}; },
       "limits.authentication_failures.block_ms: 86400001 is out of range (1000..86400000)"},
      {"failures not an object", [](json& d) { d["limits"]["authentication_failures"] = 5; },
       "limits.authentication_failures: expected an object, got number 5"},
  };
  const Tree tree;
  for (const Row& row : rows) {
    INFO(row.what);
    json document = base_document();
    row.mutate(document);
    CHECK(tree.error_of(document) == tree.with_dir(row.message));
  }
}

TEST_CASE("authentication: limits at their bounds load", "[config][authentication]") {
  const Tree tree;
  json document = base_document();
  document["limits"]["authentication_failures"] = {{"delay_after", 10000}, {"block_after", 10000},
                                                   {"window_ms", 1000},    {"delay_step_ms", 0},
                                                   {"max_delay_ms", 0},    {"block_ms", 86400000}};
  document["listeners"][0]["authentication"]["sasl"]["session_lifetime_ms"] = 1000;
  const kedge::Config config = tree.load(document);
  CHECK(config.limits.authentication_failures.delay_after == 10'000u);
  CHECK(config.limits.authentication_failures.block_ms == 86'400'000u);
  CHECK(config.listeners[0].authentication->sasl->session_lifetime_ms == 1000u);
}

TEST_CASE("authentication files need not exist for load_config_without_files", "[config][authentication]") {
  const Tree tree;
  json document = base_document();
  document["virtual_clusters"][0]["authentication"] = full_authentication();
  document["virtual_clusters"][0]["authentication"]["sasl"]["users_file"] = "later/users.json";
  document["virtual_clusters"][0]["authentication"]["sasl"]["oauthbearer"]["jwks_file"] = "later/jwks.json";
  document["virtual_clusters"][0]["authentication"]["mtls"]["ca_file"] = "later/ca.pem";
  document["virtual_clusters"][0]["authentication"]["mtls"]["crl_file"] = "later/ca.crl";
  const fs::path file = tree.write("kedge.json", document.dump(2));
  CHECK(tree.error_of(document) ==
        tree.with_dir("virtual_clusters[0].authentication.sasl.users_file: file \"later/users.json\" (resolved "
                      "{dir}/later/users.json) does not exist"));
  const kedge::Config config = kedge::load_config_without_files(file);
  const kedge::AuthenticationConfig& alpha = *config.virtual_clusters[0].authentication;
  CHECK(alpha.sasl->users_file == tree.dir / "later/users.json");
  CHECK(alpha.sasl->oauthbearer->jwks_file == tree.dir / "later/jwks.json");
  CHECK(alpha.mtls->ca_file == tree.dir / "later/ca.pem");
  CHECK(alpha.mtls->crl_file == tree.dir / "later/ca.crl");
}

TEST_CASE("watched files: every file whose content kedge reads, each once", "[config][authentication]") {
  const Tree tree;
  json document = base_document();
  document["virtual_clusters"][0]["authentication"] = full_authentication();
  document["virtual_clusters"][0]["backend"]["sasl"] =
      json{{"mechanism", "PLAIN"}, {"username", "kedge"}, {"password_file", "secrets/kedge.password"}};
  // The same users file on a second cluster appears once.
  document["virtual_clusters"][1]["authentication"] = document["listeners"][0]["authentication"];
  document["virtual_clusters"][1]["principals"] = {"*"};
  const kedge::Config config = tree.load(document);
  const std::vector<fs::path> expected = {
      tree.dir / "tls/server.pem",          tree.dir / "tls/server.key",         tree.dir / "identity/users.json",
      tree.dir / "secrets/kedge.password",  tree.dir / "identity/jwks.json",     tree.dir / "identity/clients-ca.pem",
      tree.dir / "identity/clients.crl"};
  CHECK(kedge::watched_files(config) == expected);
}
