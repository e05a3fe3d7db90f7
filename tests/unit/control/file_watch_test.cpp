// The supervisor's watched-file check (what its timer runs every limits.certificate_check_interval_ms):
// a replaced users file, JWKS file, client CA bundle or CRL reloads the configuration like a replaced
// certificate does; a bad new file keeps the running generation, and the next change is tried again.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "certs/dev_ca.h"
#include "config/snapshot.h"
#include "config_tree.h"
#include "control/supervisor.h"
#include "crl_fixture.h"
#include "identity_fixture.h"
#include "jose_fixture.h"

using nlohmann::json;

namespace {

using kedge::identity::testing::generate_p256;
using kedge::identity::testing::jwks_text;
using kedge::identity::testing::public_jwk;

struct Tree : kedge::config_testing::ConfigTree {
  Tree() : ConfigTree("kedge-file-watch-test", {}) {
    kedge::certs::DevCaOptions tls;
    tls.out_dir = dir / "tls";
    tls.dns_names = {"*.example.com"};
    kedge::certs::create_dev_ca(tls);
    write("identity/users.json", kedge::identity::testing::rfc_users_file_text());
    write("identity/jwks.json", jwks_text({public_jwk(generate_p256("k1"))}));
    std::filesystem::copy_file(dir / "tls/ca.pem", dir / "identity/clients-ca.pem");
    new_crl(7);
  }
  // A CRL of the current client CA due in `days`.
  void new_crl(int days) const {
    kedge::certs::testing::write_crl(dir / ca_dir / "ca.pem", dir / ca_dir / "ca.key", std::time(nullptr) + days * 86400,
                                     {7}, dir / "identity/clients.crl");
  }
  // A CA rotation: another CA replaces the client CA bundle, and its CRL the
  // old CA's (kedge requires a CRL of every CA in the bundle when crl_file is set).
  void new_client_ca() {
    kedge::certs::DevCaOptions other;
    other.out_dir = dir / "other-ca";
    other.dns_names = {"*.example.com"};
    kedge::certs::create_dev_ca(other);
    std::filesystem::copy_file(dir / "other-ca/ca.pem", dir / "identity/clients-ca.pem",
                               std::filesystem::copy_options::overwrite_existing);
    ca_dir = "other-ca";
    new_crl(7);
  }
  std::string ca_dir = "tls";
  json document() const {
    return json::parse(R"({
      "listeners": [
        {"name": "sni", "bind": "127.0.0.1:9092", "tls": {"cert": "tls/server.pem", "key": "tls/server.key"},
         "authentication": {"mode": "terminate",
                            "sasl": {"mechanisms": ["SCRAM-SHA-256", "OAUTHBEARER"], "users_file": "identity/users.json",
                                     "oauthbearer": {"jwks_file": "identity/jwks.json"}},
                            "mtls": {"client_certificates": "optional", "ca_file": "identity/clients-ca.pem",
                                     "crl_file": "identity/clients.crl"}}}
      ],
      "virtual_clusters": [
        {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "alpha.example.com"},
         "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}, "principals": ["*"]}
      ],
      "admin": {"enabled": false}
    })");
  }
};

const kedge::ClientAuthentication& alpha(const kedge::Supervisor& supervisor) {
  return *supervisor.config_snapshot()->listeners[0]->authentication[0];
}

}  // namespace

TEST_CASE("a changed identity file reloads, and a bad one keeps the running generation", "[supervisor][reload]") {
  Tree tree;
  kedge::Supervisor supervisor(tree.load(tree.document()), false);
  REQUIRE(supervisor.config_snapshot()->generation == 1);
  CHECK_FALSE(supervisor.check_watched_files());

  SECTION("users file") {
    tree.write("identity/users.json", R"({"version": 1})");
    CHECK(supervisor.check_watched_files());
    CHECK(supervisor.reloads_failed() == 1);
    CHECK(supervisor.config_snapshot()->generation == 1);
    CHECK(alpha(supervisor).users->find("user", kedge::scram::Hash::sha256) != nullptr);
    CHECK_FALSE(supervisor.check_watched_files());  // seen: no retry until the next change

    kedge::identity::UserStore store = kedge::identity::UserStore::create();
    kedge::identity::UserCredentials credentials;
    credentials[kedge::scram::Hash::sha256] =
        kedge::identity::make_scram_credential(kedge::scram::Hash::sha256, "new-Pa55", 4096);
    REQUIRE(store.set_user("newcomer", credentials));
    store.save(tree.dir / "identity/users.json");
    CHECK(supervisor.check_watched_files());
    CHECK(supervisor.reloads_succeeded() == 1);
    CHECK(supervisor.config_snapshot()->generation == 2);
    CHECK(alpha(supervisor).users->find("newcomer", kedge::scram::Hash::sha256) != nullptr);
    CHECK(alpha(supervisor).users->find("user", kedge::scram::Hash::sha256) == nullptr);
  }
  SECTION("JWKS file") {
    const auto before = alpha(supervisor).jwks;
    tree.write("identity/jwks.json", R"({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})");  // no usable key
    CHECK(supervisor.check_watched_files());
    CHECK(supervisor.reloads_failed() == 1);
    CHECK(alpha(supervisor).jwks == before);

    tree.write("identity/jwks.json", jwks_text({public_jwk(generate_p256("k2")), public_jwk(generate_p256("k3"))}));
    CHECK(supervisor.check_watched_files());
    CHECK(supervisor.config_snapshot()->generation == 2);
    REQUIRE(alpha(supervisor).jwks->keys().size() == 2);
    CHECK(alpha(supervisor).jwks->find_by_kid("k2") != nullptr);
    CHECK(alpha(supervisor).oauthbearer->keys == alpha(supervisor).jwks);
  }
  SECTION("client CA bundle and CRL") {
    tree.new_client_ca();
    CHECK(supervisor.check_watched_files());
    CHECK(supervisor.config_snapshot()->generation == 2);
    tree.new_crl(14);
    CHECK(supervisor.check_watched_files());
    CHECK(supervisor.config_snapshot()->generation == 3);
  }
  SECTION("the attempt limiter is the same object after a file reload") {
    const auto limiter = supervisor.config_snapshot()->attempt_limiter;
    tree.new_crl(30);
    REQUIRE(supervisor.check_watched_files());
    CHECK(supervisor.config_snapshot()->attempt_limiter == limiter);
  }
}
