// certs/inspect and certs/dev_ca: RFC 6125 name matching as TLS clients check
// it (OpenSSL's X509_check_host), certificate facts, and the files `kedge
// certs` writes.
#include <sys/stat.h>

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cert_fixture.h"
#include "certs/dev_ca.h"
#include "certs/inspect.h"

using namespace kedge::certs;
using kedge::certs::testing::TempDir;
using kedge::certs::testing::read_file;

namespace {

// What OpenSSL (and so librdkafka with ssl.endpoint.identification.algorithm=https) decides.
bool openssl_accepts(const std::filesystem::path& cert_file, const std::string& host) {
  BIO* bio = BIO_new_file(cert_file.c_str(), "r");
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  const int rc = X509_check_host(cert, host.data(), host.size(),
                                 X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr);
  X509_free(cert);
  return rc == 1;
}

// A self-signed certificate, in memory, whose subjectAltName lists `sans` as dNSName entries.
std::shared_ptr<X509> certificate_with_sans(const std::vector<std::string>& sans) {
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  X509_set_version(cert.get(), X509_VERSION_3);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("not-a-san.example"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  X509_set_pubkey(cert.get(), key.get());
  std::string list;
  for (const std::string& san : sans) list += (list.empty() ? "DNS:" : ",DNS:") + san;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, list.c_str());
  REQUIRE(extension != nullptr);
  X509_add_ext(cert.get(), extension, -1);
  X509_EXTENSION_free(extension);
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  return cert;
}

}  // namespace

TEST_CASE("a wildcard covers exactly one label (RFC 6125 §6.4.3), as clients check it", "[certs][inspect]") {
  // `covers` is what OpenSSL's X509_check_host answers (librdkafka's check). The hand-written matcher this
  // replaced agreed on every row but the dotted ones, which it accepted (commit aa5c766 compared the two).
  struct Row { const char* san; const char* host; bool covers; bool too_shallow; };
  const Row rows[] = {
      {"*.kafka.example.com", "broker-1.kafka.example.com", true, false},
      {"*.kafka.example.com", "BOOTSTRAP.Kafka.Example.com", true, false},
      {"*.kafka.example.com", "broker-1-alpha.kafka.example.com", true, false},
      {"*.kafka.example.com", "broker-1.alpha.kafka.example.com", false, true},
      {"*.kafka.example.com", "bootstrap.alpha.kafka.example.com", false, true},
      {"*.kafka.example.com", "kafka.example.com", false, false},
      {"*.kafka.example.com", "broker-1.kafka.example.org", false, false},
      {"*.kafka.example.com", "broker-1.kafka.example.com.", false, false},  // a trailing dot matches nothing
      {"*.kafka.example.com.", "broker-1.kafka.example.com", false, false},
      {"Kafka.Example.COM", "kafka.example.com", true, false},
      {"bootstrap.kafka.example.com", "bootstrap.kafka.example.com", true, false},
      {"bootstrap.kafka.example.com", "broker-1.kafka.example.com", false, false},
      {"*.com", "example.com", false, false},
      {"b*.kafka.example.com", "broker-1.kafka.example.com", false, false},  // partial wildcards: refused
      {"*.kafka.example.com", "not-a-san.example", false, false},             // the subject CN never counts
  };
  for (const Row& row : rows) {
    INFO(row.san << " vs " << row.host);
    CertificateInfo info;
    info.leaf = certificate_with_sans({row.san});
    CHECK(certificate_covers(info, row.host) == row.covers);
    CHECK(wildcard_too_shallow(row.san, row.host) == row.too_shallow);
  }
  CHECK_FALSE(certificate_covers(CertificateInfo{}, "broker-1.kafka.example.com"));  // no certificate loaded
}

TEST_CASE("certificate_covers on a kedge certs certificate read from its files", "[certs][inspect]") {
  TempDir tmp;
  DevCaOptions options;
  options.out_dir = tmp.path() / "tls";
  options.dns_names = {"*.kafka.example.com", "exact.example.net"};
  const DevCaFiles files = create_dev_ca(options);
  const CertificateInfo info = inspect_certificate(files.server_cert, files.server_key);
  REQUIRE(info.load_error.empty());
  for (const char* host : {"bootstrap.kafka.example.com", "broker-7-beta.kafka.example.com",
                           "broker-1.alpha.kafka.example.com", "kafka.example.com", "exact.example.net",
                           "other.example.net", "x.exact.example.net"}) {
    INFO(host);
    CHECK(certificate_covers(info, host) == openssl_accepts(files.server_cert, host));
  }
  CHECK(certificate_covers(info, "broker-7-beta.kafka.example.com"));
  CHECK_FALSE(certificate_covers(info, "broker-1.alpha.kafka.example.com"));
}

TEST_CASE("kedge certs files: SANs, chain, key match, modes, never overwrite", "[certs][dev_ca]") {
  TempDir tmp;
  DevCaOptions options;
  options.out_dir = tmp.path() / "tls";
  options.dns_names = {"*.kafka.example.com", "*.other.example.com"};

  SECTION("ECDSA and RSA both produce a matching, CA-signed server certificate") {
    for (const KeyType type : {KeyType::ecdsa_p256, KeyType::rsa_2048}) {
      options.key_type = type;
      options.out_dir = tmp.path() / (type == KeyType::rsa_2048 ? "rsa" : "ec");
      const DevCaFiles files = create_dev_ca(options);
      const CertificateInfo info = inspect_certificate(files.server_cert, files.server_key);
      REQUIRE(info.load_error.empty());
      CHECK(info.key_matches);
      CHECK(info.dns_names == options.dns_names);
      CHECK(info.issuer == "CN=kedge development CA");
      const double days = std::difftime(info.not_after, info.not_before) / 86400.0;
      CHECK(days == Approx(397.0));
      // The CA verifies the leaf (the check a TLS client makes).
      X509_STORE* store = X509_STORE_new();
      REQUIRE(X509_STORE_load_file(store, files.ca_cert.c_str()) == 1);
      BIO* bio = BIO_new_file(files.server_cert.c_str(), "r");
      X509* leaf = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
      BIO_free(bio);
      X509_STORE_CTX* ctx = X509_STORE_CTX_new();
      X509_STORE_CTX_init(ctx, store, leaf, nullptr);
      CHECK(X509_verify_cert(ctx) == 1);
      X509_STORE_CTX_free(ctx);
      X509_free(leaf);
      X509_STORE_free(store);
    }
  }
  SECTION("keys are created 0600, certificates 0644") {
    const DevCaFiles files = create_dev_ca(options);
    struct stat st {};
    REQUIRE(stat(files.ca_key.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(stat(files.server_key.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(stat(files.server_cert.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
  }
  SECTION("an existing file stops everything and is named; nothing changes") {
    std::filesystem::create_directories(options.out_dir);
    { std::ofstream(options.out_dir / "server.key") << "precious"; }
    try {
      create_dev_ca(options);
      FAIL("create_dev_ca overwrote or ignored an existing key");
    } catch (const CertsError& e) {
      CHECK_THAT(e.what(), Catch::Contains((options.out_dir / "server.key").string()));
    }
    CHECK(read_file(options.out_dir / "server.key") == "precious");
    CHECK_FALSE(std::filesystem::exists(options.out_dir / "ca.key"));
    CHECK_FALSE(std::filesystem::exists(options.out_dir / "ca.pem"));
  }
  SECTION("a key from another run does not match") {
    const DevCaFiles first = create_dev_ca(options);
    options.out_dir = tmp.path() / "second";
    const DevCaFiles second = create_dev_ca(options);
    CHECK_FALSE(inspect_certificate(first.server_cert, second.server_key).key_matches);
  }
  SECTION("backdating yields an expired certificate") {
    options.validity_days = 5;
    options.backdate_days = 10;
    const DevCaFiles files = create_dev_ca(options);
    const CertificateInfo info = inspect_certificate(files.server_cert, files.server_key);
    CHECK(info.not_after < std::time(nullptr));
  }
}

TEST_CASE("inspect_certificate reports unreadable files instead of throwing", "[certs][inspect]") {
  TempDir tmp;
  { std::ofstream(tmp.path() / "junk.pem") << "not a certificate"; }
  const CertificateInfo info = inspect_certificate(tmp.path() / "junk.pem", tmp.path() / "junk.pem");
  CHECK_THAT(info.load_error, Catch::Contains("cannot read a PEM certificate"));
}
