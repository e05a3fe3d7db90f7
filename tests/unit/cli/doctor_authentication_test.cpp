// `kedge check`, client authentication: the effective mode of every (listener, virtual cluster) pair,
// the users file (users per offered mechanism), the JWKS keys, the client CA bundle's expiry and the
// CRL's next update, each problem with its fix; and no credential in any output.
#include <catch2/catch.hpp>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cert_fixture.h"
#include "certs/dev_ca.h"
#include "cli/doctor.h"
#include "crl_fixture.h"
#include "identity_fixture.h"
#include "jose_fixture.h"

using namespace kedge;
using kedge::certs::testing::TempDir;
using nlohmann::json;

namespace {

constexpr std::time_t kDay = 86400;

// A TLS listener (dev CA under tls/) terminating SASL and mTLS for alpha; beta passes through. The users
// file holds RFC 7677's "user" with both SCRAM credentials; the JWKS one usable P-256 key and one
// encryption key; the client CA is the dev CA; the CRL revokes two serials and is due in a week.
struct Setup {
  TempDir tmp;
  const std::filesystem::path& dir = tmp.path();

  Setup() {
    certs::DevCaOptions tls;
    tls.out_dir = dir / "tls";
    tls.dns_names = {"*.kafka.example.com"};
    certs::create_dev_ca(tls);
    write("users.json", identity::testing::rfc_users_file_text());
    write("jwks.json", identity::testing::jwks_text(
                           {identity::testing::public_jwk(identity::testing::generate_p256("sig-1")),
                            identity::testing::public_jwk(identity::testing::generate_rsa("enc-1"), {{"use", "enc"}})}));
    certs::testing::write_crl(dir / "tls/ca.pem", dir / "tls/ca.key", std::time(nullptr) + 7 * kDay, {41, 42},
                              dir / "clients.crl");
    write("service.password", "service-Secret-Pa55\n");
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir / name) << text; }

  json document() const {
    return json::parse(R"({
      "listeners": [{"name": "hub", "bind": "0.0.0.0:9092", "advertised_port": 443,
                     "tls": {"cert": "tls/server.pem", "key": "tls/server.key"},
                     "authentication": {"mode": "terminate",
                       "sasl": {"mechanisms": ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN", "OAUTHBEARER"],
                                "users_file": "users.json",
                                "oauthbearer": {"jwks_file": "jwks.json", "issuer": "https://idp.example.com"}},
                       "mtls": {"client_certificates": "optional", "ca_file": "tls/ca.pem",
                                "crl_file": "clients.crl"}}}],
      "virtual_clusters": [
        {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "alpha.kafka.example.com"},
         "backend": {"bootstrap_servers": ["127.0.0.1:1"],
                     "sasl": {"mechanism": "SCRAM-SHA-512", "username": "kedge-alpha",
                              "password_file": "service.password"}},
         "principals": ["user", "etl-*"]},
        {"name": "beta", "hostnames": {"format": "subdomain", "domain": "beta.kafka.example.com"},
         "backend": {"bootstrap_servers": ["127.0.0.1:1"]}, "authentication": {"mode": "passthrough"}}]
    })");
  }
  Config load(const json& doc) const {
    std::ofstream(dir / "kedge.json") << doc.dump(2);
    return load_config(dir / "kedge.json");
  }
};

check::Report offline_check(const Config& config, std::time_t now = 0) {
  check::Options options;
  options.resolve_names = false;
  options.timeout_ms = 500;
  options.now = now;
  return check::run_check(config, options);
}

// Findings about authentication only (the backends in these tests are unreachable on purpose).
std::vector<const check::Finding*> authentication_findings(const check::Report& report) {
  std::vector<const check::Finding*> found;
  for (const auto& finding : report.findings) {
    if (finding.subject.find("authentication") != std::string::npos) found.push_back(&finding);
  }
  return found;
}

const check::Finding* find(const check::Report& report, const std::string& text) {
  for (const auto& finding : report.findings) {
    if (finding.message.find(text) != std::string::npos) return &finding;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("check authentication: modes per pair and what each file holds", "[check][authentication]") {
  const Setup setup;
  const Config config = setup.load(setup.document());
  const check::Report report = offline_check(config);

  REQUIRE(report.authentication.size() == 2);
  CHECK(report.authentication[0].config_path == "listeners[0].authentication");
  REQUIRE(report.authentication[0].files.has_value());
  CHECK(report.authentication[1].config_path == "virtual_clusters[1].authentication");
  CHECK_FALSE(report.authentication[1].files.has_value());

  REQUIRE(report.authentication_files.size() == 1);
  const check::AuthenticationFilesReport& files = report.authentication_files[0];
  CHECK(files.users_error.empty());
  CHECK(files.users == 1);
  using M = TerminatedMechanism;
  CHECK(files.users_per_mechanism ==
        std::vector<std::pair<M, std::size_t>>{{M::scram_sha_512, 1}, {M::scram_sha_256, 1}, {M::plain, 1}});
  CHECK(files.jwks_error.empty());
  CHECK(files.jwks_keys == 1);
  CHECK(files.jwks_algorithms == std::vector<std::string>{"ES256"});
  REQUIRE(files.jwks_unusable.size() == 1);
  CHECK(files.jwks_unusable[0] == "keys[1] (kid \"enc-1\"): use \"enc\" is not \"sig\"");
  REQUIRE(files.ca.has_value());
  CHECK(files.ca->load_error.empty());
  CHECK(files.ca->certificates == 1);
  CHECK(files.ca->not_ca == 0);
  CHECK(files.ca->earliest_not_after > std::time(nullptr) + 3000 * kDay);
  REQUIRE(files.crl.has_value());
  CHECK(files.crl->load_error.empty());
  CHECK(files.crl->crls == 1);
  CHECK(files.crl->revoked == 2);
  REQUIRE(files.crl->earliest_next_update.has_value());
  CHECK(std::abs(std::difftime(*files.crl->earliest_next_update, std::time(nullptr) + 7 * kDay)) < 120);

  // The one authentication finding: the ignored encryption key, a warning.
  const auto findings = authentication_findings(report);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0]->severity == check::Severity::warning);
  CHECK(findings[0]->subject == "listeners[0].authentication.sasl.oauthbearer.jwks_file");
  CHECK_THAT(findings[0]->message, Catch::Contains("keys[1] (kid \"enc-1\"): use \"enc\" is not \"sig\" is ignored"));

  const std::string text = check::render_text(config, report);
  CHECK_THAT(text, Catch::Contains("client authentication\n  listener hub\n"));
  CHECK_THAT(text, Catch::Contains("    alpha        terminate (listeners[0].authentication): SASL SCRAM-SHA-512, "
                                   "SCRAM-SHA-256, PLAIN, OAUTHBEARER; mTLS optional, principal subject_cn; principals "
                                   "user, etl-*; upstream as SCRAM-SHA-512 kedge-alpha\n"));
  CHECK_THAT(text, Catch::Contains("    beta         passthrough (virtual_clusters[1].authentication)"));
  CHECK_THAT(text, Catch::Contains(": 1 user(s); with credentials for SCRAM-SHA-512 1, SCRAM-SHA-256 1, PLAIN 1\n"));
  CHECK_THAT(text, Catch::Contains(": 1 usable key(s) (ES256), 1 ignored; issuer https://idp.example.com, audiences "
                                   "(any), principal claim sub\n"));
  CHECK_THAT(text, Catch::Contains(": 1 CRL(s), 2 revoked, next update "));

  const json out = check::render_json(config, report);
  REQUIRE(out["authentication"].size() == 2);
  const json& alpha = out["authentication"][0];
  CHECK(alpha["mode"] == "terminate");
  CHECK(alpha["sasl_mechanisms"] == json({"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN", "OAUTHBEARER"}));
  CHECK(alpha["principals"] == json({"user", "etl-*"}));
  CHECK(alpha["files"]["users_file"]["users"] == 1);
  CHECK(alpha["files"]["users_file"]["users_per_mechanism"]["SCRAM-SHA-512"] == 1);
  CHECK(alpha["files"]["jwks_file"]["algorithms"] == json({"ES256"}));
  CHECK(alpha["files"]["ca_file"]["certificates"] == 1);
  CHECK(alpha["files"]["crl_file"]["revoked"] == 2);
  CHECK(out["authentication"][1]["mode"] == "passthrough");

  // No credential anywhere: neither the stored SCRAM keys or salt nor the service password.
  const std::string everything = text + out.dump();
  for (const char* secret : {identity::testing::kStoredKey256, identity::testing::kServerKey256,
                             identity::testing::kStoredKey512, identity::testing::kSalt, "service-Secret-Pa55"}) {
    CHECK(everything.find(secret) == std::string::npos);
  }
}

TEST_CASE("check authentication: an offered mechanism no user can use is a warning with the users command",
          "[check][authentication]") {
  const Setup setup;
  identity::UserStore store = identity::UserStore::create();
  identity::UserCredentials credentials;
  credentials[scram::Hash::sha256] = identity::make_scram_credential(scram::Hash::sha256, "pw-256-only", 4096);
  REQUIRE(store.set_user("alice", credentials));
  store.save(setup.dir / "users.json");
  const check::Report report = offline_check(setup.load(setup.document()));
  const auto* finding = find(report, "SCRAM-SHA-512 is offered but none of the 1 user(s)");
  REQUIRE(finding != nullptr);
  CHECK(finding->severity == check::Severity::warning);
  CHECK(finding->subject == "listeners[0].authentication.sasl.users_file");
  CHECK_THAT(finding->fix, Catch::Contains("kedge users add NAME --file " + (setup.dir / "users.json").string() +
                                           " --mechanisms SCRAM-SHA-512"));
  CHECK(find(report, "SCRAM-SHA-256 is offered") == nullptr);
  CHECK(find(report, "PLAIN is offered") == nullptr);
}

TEST_CASE("check authentication: unusable files are problems", "[check][authentication]") {
  const Setup setup;
  SECTION("a users file without users") {
    identity::UserStore::create().save(setup.dir / "users.json");
    const check::Report report = offline_check(setup.load(setup.document()));
    const auto* finding = find(report, "has no users; every PLAIN and SCRAM client is refused");
    REQUIRE(finding != nullptr);
    CHECK(finding->severity == check::Severity::problem);
  }
  SECTION("a users file that does not parse") {
    setup.write("users.json", "{\"version\": 1}");
    const check::Report report = offline_check(setup.load(setup.document()));
    const auto* finding = find(report, "listeners[0].authentication.sasl.users_file: ");
    REQUIRE(finding != nullptr);
    CHECK(finding->severity == check::Severity::problem);
    CHECK_THAT(finding->message, Catch::Contains("unknown_user_secret: missing"));
    CHECK(report.authentication_files[0].users_error.size() > 0);
    CHECK_THAT(check::render_text(setup.load(setup.document()), report), Catch::Contains("UNUSABLE"));
  }
  SECTION("a JWKS file without a usable key") {
    setup.write("jwks.json", identity::testing::jwks_text({identity::testing::public_jwk(
                                 identity::testing::generate_p256("enc"), {{"use", "enc"}})}));
    const check::Report report = offline_check(setup.load(setup.document()));
    const auto* finding = find(report, "listeners[0].authentication.sasl.oauthbearer.jwks_file: ");
    REQUIRE(finding != nullptr);
    CHECK(finding->severity == check::Severity::problem);
  }
  SECTION("a CA file holding no certificate, and a CRL file holding no CRL") {
    setup.write("tls/ca.pem", "not PEM\n");
    setup.write("clients.crl", "");
    const check::Report report = offline_check(setup.load(setup.document()));
    const auto* ca = find(report, "listeners[0].authentication.mtls.ca_file: no PEM certificate in ");
    REQUIRE(ca != nullptr);
    CHECK(ca->severity == check::Severity::problem);
    const auto* crl = find(report, "listeners[0].authentication.mtls.crl_file: no PEM CRL");
    REQUIRE(crl != nullptr);
    CHECK(crl->severity == check::Severity::problem);
  }
}

TEST_CASE("check authentication: CA expiry and an overdue CRL", "[check][authentication]") {
  const Setup setup;
  const Config config = setup.load(setup.document());
  const auto& ca = setup.dir / "tls/ca.pem";
  SECTION("the CA expires within 30 days: a warning") {
    const std::time_t not_after = certs::inspect_ca_bundle(ca).earliest_not_after;
    const check::Report report = offline_check(config, not_after - 10 * kDay);
    const auto* finding = find(report, "days left");
    REQUIRE(finding != nullptr);
    CHECK(finding->severity == check::Severity::warning);
    CHECK(finding->subject == "listeners[0].authentication.mtls.ca_file");
    CHECK_THAT(finding->message, Catch::Contains("(10 days left)"));
  }
  SECTION("an expired CA and a CRL past its next update: problems") {
    const check::Report report = offline_check(config, std::time(nullptr) + 4000 * kDay);
    const auto* expired = find(report, "listeners[0].authentication.mtls.ca_file: CA certificate ");
    REQUIRE(expired != nullptr);
    CHECK(expired->severity == check::Severity::problem);
    CHECK_THAT(expired->message, Catch::Contains("expired on"));
    const auto* crl = find(report, "was due for replacement on");
    REQUIRE(crl != nullptr);
    CHECK(crl->severity == check::Severity::problem);
  }
}

TEST_CASE("check authentication: what kedge run refuses in a CA bundle or CRL file is a problem in its words",
          "[check][authentication]") {
  const Setup setup;
  const Config config = setup.load(setup.document());
  SECTION("a leaf certificate in the bundle") {
    std::ofstream(setup.dir / "tls/ca.pem", std::ios::app) << certs::testing::read_file(setup.dir / "tls/server.pem");
    const check::Report report = offline_check(config);
    const auto* finding = find(report, "is not a CA certificate");
    REQUIRE(finding != nullptr);
    CHECK(finding->severity == check::Severity::problem);
    CHECK(finding->subject == "listeners[0].authentication.mtls.ca_file");
    CHECK_THAT(finding->message, Catch::Contains("kedge run refuses this configuration"));
  }
  SECTION("a second CA in the bundle without its CRL in the CRL file") {
    certs::DevCaOptions other;
    other.out_dir = setup.dir / "other";
    other.dns_names = {"other.example.com"};
    certs::create_dev_ca(other);
    std::ofstream(setup.dir / "tls/ca.pem", std::ios::app) << certs::testing::read_file(setup.dir / "other/ca.pem");
    const check::Report report = offline_check(config);
    const auto* finding = find(report, "holds no CRL of CA");
    REQUIRE(finding != nullptr);
    CHECK(finding->severity == check::Severity::problem);
    CHECK(finding->subject == "listeners[0].authentication.mtls.crl_file");
    CHECK_THAT(finding->fix, Catch::Contains("one CRL from each CA of ca_file"));
    CHECK(report.exit_code() != 0);
  }
  SECTION("the set-up as written loads: no such finding") {
    const check::Report report = offline_check(config);
    CHECK(find(report, "kedge run refuses this configuration") == nullptr);
  }
}

TEST_CASE("check authentication: PLAIN on a plaintext listener is a warning", "[check][authentication]") {
  const Setup setup;
  json doc = setup.document();
  doc["listeners"].push_back(json::parse(R"({"name": "ports", "bind": "0.0.0.0:19092",
      "routing": {"mode": "port", "virtual_cluster": "beta", "advertised_host": "beta.example.com",
                  "broker_port_base": 19100, "max_node_id": 2},
      "authentication": {"mode": "terminate", "sasl": {"mechanisms": ["PLAIN"], "users_file": "users.json"}}})"));
  doc["virtual_clusters"][1].erase("authentication");
  doc["virtual_clusters"][1]["principals"] = {"*"};
  const check::Report report = offline_check(setup.load(doc));
  // hub: alpha and beta; ports: beta only.
  REQUIRE(report.authentication.size() == 3);
  CHECK(report.authentication[2].listener == 1);
  CHECK(report.authentication[2].virtual_cluster == 1);
  CHECK(report.authentication_files.size() == 2);  // the listeners' settings, each read once
  const auto* finding = find(report, "listener ports is plaintext and listeners[1].authentication offers PLAIN");
  REQUIRE(finding != nullptr);
  CHECK(finding->severity == check::Severity::warning);
  CHECK(find(report, "listener hub is plaintext") == nullptr);
}
