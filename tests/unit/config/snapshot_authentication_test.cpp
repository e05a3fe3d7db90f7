// build_snapshot's client authentication: one ClientAuthentication per terminated (listener, cluster)
// pair, users and JWKS files loaded once and shared, the principal binding and certificate principal
// mapper built, load failures named by JSON path, and the attempt limiter carried across reloads
// exactly while limits.authentication_failures stays the same.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "certs/dev_ca.h"
#include "config/snapshot.h"
#include "config_tree.h"
#include "identity_fixture.h"
#include "jose_fixture.h"
#include "test_pki.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A TLS listener with a real certificate, a users file holding RFC 7677's "user", a second users file
// holding "bob", a JWKS with one P-256 key, and a client CA with its CRL (certs/client_ca.h loads them).
struct Tree : kedge::config_testing::ConfigTree {
  Tree() : ConfigTree("kedge-auth-snapshot-test", {}) {
    const kedge::certs::testing::Issued client_ca = kedge::certs::testing::make_root_ca("client CA");
    write("identity/clients-ca.pem", kedge::certs::testing::pem(client_ca.cert.get()));
    write("identity/clients.crl", kedge::certs::testing::pem(kedge::certs::testing::make_crl(client_ca, {}).get()));
    kedge::certs::DevCaOptions tls;
    tls.out_dir = dir / "tls";
    tls.dns_names = {"*.example.com"};
    kedge::certs::create_dev_ca(tls);
    write("identity/users.json", kedge::identity::testing::rfc_users_file_text());
    kedge::identity::UserStore bob = kedge::identity::UserStore::create();
    kedge::identity::UserCredentials credentials;
    credentials[kedge::scram::Hash::sha512] =
        kedge::identity::make_scram_credential(kedge::scram::Hash::sha512, "bob-Pa55", 4096);
    REQUIRE(bob.set_user("bob", credentials));
    bob.save(dir / "identity/bob.json");
    const auto key = kedge::identity::testing::generate_p256("k1");
    write("identity/jwks.json", kedge::identity::testing::jwks_text({kedge::identity::testing::public_jwk(key)}));
  }
};

// Listener "sni" terminates SCRAM for the clusters it serves; alpha and gamma take it, beta passes
// through; "ports" routes only to gamma.
json document() {
  return json::parse(R"({
    "listeners": [
      {"name": "sni", "bind": "0.0.0.0:9092", "tls": {"cert": "tls/server.pem", "key": "tls/server.key"},
       "authentication": {"mode": "terminate",
                          "sasl": {"mechanisms": ["SCRAM-SHA-256", "SCRAM-SHA-512"],
                                   "users_file": "identity/users.json"}}},
      {"name": "ports", "bind": "0.0.0.0:19092",
       "routing": {"mode": "port", "virtual_cluster": "gamma", "advertised_host": "gamma.example.com",
                   "broker_port_base": 19100, "max_node_id": 3}}
    ],
    "virtual_clusters": [
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "alpha.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}, "principals": ["user", "etl-*"]},
      {"name": "beta", "hostnames": {"format": "subdomain", "domain": "beta.example.com"},
       "backend": {"bootstrap_servers": ["10.0.1.5:9092"]}, "authentication": {"mode": "passthrough"}},
      {"name": "gamma", "hostnames": {"format": "subdomain", "domain": "gamma.example.com"},
       "backend": {"bootstrap_servers": ["10.0.2.5:9092"]}, "principals": ["*"]}
    ]
  })");
}

std::shared_ptr<const kedge::Snapshot> build(const Tree& tree, const json& doc, std::uint64_t generation = 1,
                                             const kedge::Snapshot* previous = nullptr) {
  return kedge::build_snapshot(tree.load(doc), generation, previous);
}

}  // namespace

TEST_CASE("snapshot: terminated pairs get their authentication, passthrough pairs none", "[snapshot][authentication]") {
  const Tree tree;
  const auto snapshot = build(tree, document());
  REQUIRE(snapshot->listeners.size() == 2);
  const auto& sni = snapshot->listeners[0]->authentication;
  const auto& ports = snapshot->listeners[1]->authentication;
  REQUIRE(sni.size() == 3);
  REQUIRE(ports.size() == 3);

  REQUIRE(sni[0] != nullptr);
  CHECK(sni[1] == nullptr);  // beta: passthrough override
  REQUIRE(sni[2] != nullptr);
  CHECK(ports[0] == nullptr);  // not routable from a port listener for gamma
  CHECK(ports[1] == nullptr);
  CHECK(ports[2] == nullptr);  // gamma on "ports": nothing set there, passthrough

  const kedge::ClientAuthentication& alpha = *sni[0];
  CHECK(alpha.config_path == "listeners[0].authentication");
  CHECK(alpha.config == *snapshot->config.listeners[0].authentication);
  REQUIRE(alpha.users != nullptr);
  CHECK(alpha.users->find("user", kedge::scram::Hash::sha256) != nullptr);
  CHECK(alpha.jwks == nullptr);
  CHECK(alpha.oauthbearer == nullptr);
  CHECK(alpha.certificate_principal == nullptr);
  CHECK(alpha.binding.entries() == std::vector<std::string>{"user", "etl-*"});
  CHECK(alpha.binding.binds("user"));
  CHECK(alpha.binding.binds("etl-nightly"));
  CHECK_FALSE(alpha.binding.binds("bob"));

  // The same users file, one object; each cluster its own binding.
  CHECK(sni[2]->users == alpha.users);
  CHECK(sni[2]->binding.binds("bob"));
  CHECK(sni[2] != sni[0]);
}

TEST_CASE("snapshot: a cluster's own authentication is one object on every listener", "[snapshot][authentication]") {
  const Tree tree;
  json doc = document();
  doc["virtual_clusters"][2]["authentication"] = json::parse(R"({"mode": "terminate",
      "sasl": {"mechanisms": ["SCRAM-SHA-512", "OAUTHBEARER"], "users_file": "identity/bob.json",
               "oauthbearer": {"jwks_file": "identity/jwks.json", "issuer": "https://idp.example.com",
                               "audiences": ["kafka"], "clock_skew_s": 5, "principal_claim": "azp"}},
      "mtls": {"client_certificates": "optional", "ca_file": "identity/clients-ca.pem",
               "principal": "rules", "principal_rules": ["RULE:^CN=([^,]+)(,.*)?$/$1/L"]}})");
  doc["listeners"][1]["tls"] = {{"cert", "tls/server.pem"}, {"key", "tls/server.key"}};
  const auto snapshot = build(tree, doc);
  const auto& on_sni = snapshot->listeners[0]->authentication[2];
  const auto& on_ports = snapshot->listeners[1]->authentication[2];
  REQUIRE(on_sni != nullptr);
  CHECK(on_sni == on_ports);
  CHECK(on_sni->config_path == "virtual_clusters[2].authentication");

  // A different users file from the listener's.
  REQUIRE(on_sni->users != nullptr);
  CHECK(on_sni->users != snapshot->listeners[0]->authentication[0]->users);
  CHECK(on_sni->users->find("bob", kedge::scram::Hash::sha512) != nullptr);
  CHECK(on_sni->users->find("user", kedge::scram::Hash::sha512) == nullptr);

  REQUIRE(on_sni->jwks != nullptr);
  REQUIRE(on_sni->jwks->keys().size() == 1);
  CHECK(on_sni->jwks->keys()[0].kid == "k1");
  REQUIRE(on_sni->oauthbearer != nullptr);
  CHECK(on_sni->oauthbearer->keys == on_sni->jwks);
  CHECK(on_sni->oauthbearer->policy.issuer == "https://idp.example.com");
  CHECK(on_sni->oauthbearer->policy.audiences == std::vector<std::string>{"kafka"});
  CHECK(on_sni->oauthbearer->policy.clock_skew_seconds == 5);
  CHECK(on_sni->oauthbearer->policy.principal_claim == "azp");

  REQUIRE(on_sni->certificate_principal != nullptr);
  CHECK(on_sni->certificate_principal->source() == kedge::identity::CertificatePrincipalSource::subject_rules);
}

TEST_CASE("snapshot: certificate principal sources map one to one", "[snapshot][authentication]") {
  const Tree tree;
  const std::pair<const char*, kedge::identity::CertificatePrincipalSource> sources[] = {
      {"subject_cn", kedge::identity::CertificatePrincipalSource::subject_cn},
      {"san_dns", kedge::identity::CertificatePrincipalSource::san_dns},
      {"san_uri", kedge::identity::CertificatePrincipalSource::san_uri},
      {"san_email", kedge::identity::CertificatePrincipalSource::san_email}};
  for (const auto& [name, expected] : sources) {
    INFO(name);
    json doc = document();
    doc["listeners"][0]["authentication"] = {
        {"mode", "terminate"}, {"mtls", {{"ca_file", "identity/clients-ca.pem"}, {"principal", name}}}};
    const auto snapshot = build(tree, doc);
    const auto& alpha = snapshot->listeners[0]->authentication[0];
    REQUIRE(alpha != nullptr);
    CHECK(alpha->users == nullptr);
    REQUIRE(alpha->certificate_principal != nullptr);
    CHECK(alpha->certificate_principal->source() == expected);
  }
}

TEST_CASE("snapshot: unusable users and JWKS files are refused with their JSON path", "[snapshot][authentication]") {
  const Tree tree;
  SECTION("users file") {
    tree.write("identity/users.json", R"({"version": 2, "unknown_user_secret": "", "users": {}})");
    const std::string error = kedge::config_testing::config_error_of([&] { build(tree, document()); });
    CHECK(error.rfind("listeners[0].authentication.sasl.users_file: " + (tree.dir / "identity/users.json").string(),
                      0) == 0);
    CHECK(error == "listeners[0].authentication.sasl.users_file: " + (tree.dir / "identity/users.json").string() +
                       ": version: users file version 2 is not supported (this kedge reads 1)");
  }
  SECTION("JWKS file") {
    json doc = document();
    doc["virtual_clusters"][0]["authentication"] = json::parse(R"({"mode": "terminate",
        "sasl": {"mechanisms": ["OAUTHBEARER"], "oauthbearer": {"jwks_file": "identity/jwks.json"}}})");
    tree.write("identity/jwks.json", R"({"keys": []})");
    const std::string error = kedge::config_testing::config_error_of([&] { build(tree, doc); });
    CHECK(error.rfind("virtual_clusters[0].authentication.sasl.oauthbearer.jwks_file: ", 0) == 0);
    CHECK(error.find((tree.dir / "identity/jwks.json").string()) != std::string::npos);
  }
  SECTION("compile_client_authentication reports the same, for kedge validate") {
    tree.write("identity/users.json", "{");
    const kedge::Config config = tree.load(document());
    const std::string error = kedge::config_testing::config_error_of([&] { kedge::compile_client_authentication(config); });
    CHECK(error.rfind("listeners[0].authentication.sasl.users_file: ", 0) == 0);
  }
}

TEST_CASE("snapshot: the attempt limiter survives a reload while its policy is unchanged", "[snapshot][authentication]") {
  const Tree tree;
  const auto first = build(tree, document());
  REQUIRE(first->attempt_limiter != nullptr);
  CHECK(first->attempt_limiter->policy().delay_after == 5u);
  const auto now = kedge::identity::AttemptLimiter::Clock::now();
  first->attempt_limiter->record_failure("192.0.2.7", now);
  REQUIRE(first->attempt_limiter->tracked() == 1);

  SECTION("an identical reload shares the limiter and remembers the failure") {
    const auto second = build(tree, document(), 2, first.get());
    CHECK(second->attempt_limiter == first->attempt_limiter);
    CHECK(second->attempt_limiter->tracked() == 1);
  }
  SECTION("other changes keep it too") {
    json doc = document();
    doc["virtual_clusters"][0]["principals"] = {"user"};
    doc["limits"] = {{"drain_timeout_ms", 1000}};
    const auto second = build(tree, doc, 2, first.get());
    CHECK(second->attempt_limiter == first->attempt_limiter);
  }
  SECTION("a changed policy starts a new limiter with that policy") {
    json doc = document();
    doc["limits"] = {{"authentication_failures", {{"delay_after", 2}, {"block_after", 4}, {"window_ms", 10000},
                                                  {"delay_step_ms", 100}, {"max_delay_ms", 300}, {"block_ms", 2000}}}};
    const auto second = build(tree, doc, 2, first.get());
    REQUIRE(second->attempt_limiter != nullptr);
    CHECK(second->attempt_limiter != first->attempt_limiter);
    CHECK(second->attempt_limiter->tracked() == 0);
    const kedge::identity::AttemptLimiterPolicy& policy = second->attempt_limiter->policy();
    CHECK(policy.delay_after == 2u);
    CHECK(policy.block_after == 4u);
    CHECK(policy.window == std::chrono::milliseconds(10'000));
    CHECK(policy.delay_step == std::chrono::milliseconds(100));
    CHECK(policy.max_delay == std::chrono::milliseconds(300));
    CHECK(policy.block == std::chrono::milliseconds(2'000));
  }
  SECTION("without a previous generation the limiter is new") {
    const auto fresh = build(tree, document());
    CHECK(fresh->attempt_limiter != first->attempt_limiter);
  }
}

TEST_CASE("snapshot: users files are read again on every build", "[snapshot][authentication]") {
  const Tree tree;
  const auto first = build(tree, document());
  fs::copy_file(tree.dir / "identity/bob.json", tree.dir / "identity/users.json", fs::copy_options::overwrite_existing);
  const auto second = build(tree, document(), 2, first.get());
  const auto& users = second->listeners[0]->authentication[0]->users;
  CHECK(users->find("bob", kedge::scram::Hash::sha512) != nullptr);
  CHECK(users->find("user", kedge::scram::Hash::sha256) == nullptr);
  // The running generation keeps what it loaded.
  CHECK(first->listeners[0]->authentication[0]->users->find("user", kedge::scram::Hash::sha256) != nullptr);
}

TEST_CASE("snapshot: mTLS compiles the CA bundle and CRL once, with a session-id context per source and generation",
          "[snapshot][authentication][mtls]") {
  const Tree tree;
  json doc = document();
  doc["listeners"][0]["authentication"] = json::parse(R"({"mode": "terminate",
      "mtls": {"ca_file": "identity/clients-ca.pem", "crl_file": "identity/clients.crl"}})");
  doc["virtual_clusters"][2]["authentication"] = doc["listeners"][0]["authentication"];
  doc["listeners"][1]["tls"] = {{"cert", "tls/server.pem"}, {"key", "tls/server.key"}};
  const auto first = build(tree, doc, 1);
  const auto& alpha = first->listeners[0]->authentication[0];
  const auto& gamma = first->listeners[0]->authentication[2];
  REQUIRE(alpha != nullptr);
  REQUIRE(gamma != nullptr);
  REQUIRE(alpha->client_ca != nullptr);
  CHECK(alpha->client_ca == gamma->client_ca);  // the same files: loaded once
  CHECK(alpha->client_ca->summary.certificates == 1);
  CHECK(alpha->client_ca->summary.crls == 1);
  // Sessions of one cluster's authentication never resume on another's, nor in another generation.
  CHECK(alpha->session_id_context != gamma->session_id_context);
  const auto second = build(tree, doc, 2, first.get());
  CHECK(second->listeners[0]->authentication[0]->session_id_context != alpha->session_id_context);
  CHECK(build(tree, doc, 1)->listeners[0]->authentication[0]->session_id_context == alpha->session_id_context);

  SECTION("an unusable CA bundle or CRL names its JSON path and file") {
    const kedge::certs::testing::Issued other = kedge::certs::testing::make_root_ca("other CA");
    tree.write("identity/clients.crl", kedge::certs::testing::pem(kedge::certs::testing::make_crl(other, {}).get()));
    std::string error = kedge::config_testing::config_error_of([&] { build(tree, doc); });
    CHECK(error.rfind("listeners[0].authentication.mtls.crl_file: " + (tree.dir / "identity/clients.crl").string() +
                          ": CRL 1 (issuer CN=other CA) was issued by no CA of ",
                      0) == 0);
    tree.write("identity/clients-ca.pem", kedge::certs::testing::pem(other.key.get()));
    error = kedge::config_testing::config_error_of([&] { build(tree, doc); });
    CHECK(error == "listeners[0].authentication.mtls.ca_file: " + (tree.dir / "identity/clients-ca.pem").string() +
                       ": PEM block 1 is a \"PRIVATE KEY\", not a \"CERTIFICATE\" (a private key does not belong "
                       "in this file)");
  }
}
