// tests/integration/make_certs.sh: what it issues and that re-running it
// keeps existing keys.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cert_fixture.h"

using kedge::certs::testing::make_certs;
using kedge::certs::testing::read_file;
using kedge::certs::testing::TempDir;
namespace fs = std::filesystem;

namespace {

struct X509Deleter { void operator()(X509* cert) const { X509_free(cert); } };
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

X509Ptr load_certificate(const fs::path& file) {
  std::unique_ptr<FILE, int (*)(FILE*)> stream(std::fopen(file.c_str(), "r"), &std::fclose);
  REQUIRE(stream);
  X509Ptr cert(PEM_read_X509(stream.get(), nullptr, nullptr, nullptr));
  REQUIRE(cert);
  return cert;
}

bool verifies(X509* leaf, const fs::path& ca_file) {
  std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store(X509_STORE_new(), &X509_STORE_free);
  REQUIRE(X509_STORE_load_file(store.get(), ca_file.c_str()) == 1);
  std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> ctx(X509_STORE_CTX_new(), &X509_STORE_CTX_free);
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) == 1);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  return X509_verify_cert(ctx.get()) == 1;
}

bool covers(X509* cert, const std::string& host) {
  return X509_check_host(cert, host.data(), host.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
}

unsigned permissions(const fs::path& file) {
  struct stat info {};
  REQUIRE(::stat(file.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

}  // namespace

TEST_CASE("make_certs.sh issues a P-256 serverAuth leaf for every domain", "[certs][make_certs]") {
  // given / when
  const TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  make_certs(dir, "kafka.example.com Other.Example.ORG");
  const X509Ptr leaf = load_certificate(dir / "server.pem");

  // then: host names (a wildcard covers exactly one label, RFC 6125 §6.4.3)
  CHECK(covers(leaf.get(), "kafka.example.com"));
  CHECK(covers(leaf.get(), "bootstrap.kafka.example.com"));
  CHECK(covers(leaf.get(), "broker-2147483647-alpha.kafka.example.com"));
  CHECK(covers(leaf.get(), "bootstrap.other.example.org"));
  CHECK_FALSE(covers(leaf.get(), "broker-1.alpha.kafka.example.com"));
  CHECK_FALSE(covers(leaf.get(), "example.com"));
  CHECK_FALSE(covers(leaf.get(), "bootstrap.kafka.example.net"));

  // then: a leaf for TLS servers, chaining only to its own CA
  CHECK(X509_check_ca(leaf.get()) == 0);
  CHECK((X509_get_extension_flags(leaf.get()) & EXFLAG_XKUSAGE) != 0);
  CHECK(X509_get_extended_key_usage(leaf.get()) == XKU_SSL_SERVER);
  CHECK(verifies(leaf.get(), dir / "ca.pem"));
  CHECK_FALSE(verifies(leaf.get(), dir / "wrong-ca.pem"));
  CHECK(X509_check_ca(load_certificate(dir / "ca.pem").get()) == 1);

  // then: EC P-256 key, 825 days
  EVP_PKEY* key = X509_get0_pubkey(leaf.get());
  REQUIRE(key != nullptr);
  CHECK(EVP_PKEY_get_base_id(key) == EVP_PKEY_EC);
  CHECK(EVP_PKEY_get_bits(key) == 256);
  int days = 0, seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(leaf.get()), X509_get0_notAfter(leaf.get())) == 1);
  CHECK(days == 825);
  CHECK(seconds == 0);

  // then: private keys readable by the owner only
  for (const char* name : {"ca.key", "server.key", "wrong-ca.key"}) {
    INFO(name);
    CHECK(permissions(dir / name) == 0600);
  }
}

TEST_CASE("make_certs.sh is idempotent and never replaces keys", "[certs][make_certs]") {
  // given
  const TempDir tmp;
  const fs::path dir = tmp.path() / "tls";
  make_certs(dir, "kafka.example.com");
  const std::string ca_key = read_file(dir / "ca.key");
  const std::string ca_pem = read_file(dir / "ca.pem");
  const std::string server_key = read_file(dir / "server.key");
  const std::string server_pem = read_file(dir / "server.pem");

  SECTION("the same domains change nothing") {
    make_certs(dir, "kafka.example.com");
    CHECK(read_file(dir / "ca.key") == ca_key);
    CHECK(read_file(dir / "ca.pem") == ca_pem);
    CHECK(read_file(dir / "server.key") == server_key);
    CHECK(read_file(dir / "server.pem") == server_pem);
  }
  SECTION("new domains reissue the leaf with the existing keys") {
    make_certs(dir, "kafka.example.com kafka.example.net");
    CHECK(read_file(dir / "ca.key") == ca_key);
    CHECK(read_file(dir / "ca.pem") == ca_pem);
    CHECK(read_file(dir / "server.key") == server_key);
    CHECK(read_file(dir / "server.pem") != server_pem);
    CHECK(covers(load_certificate(dir / "server.pem").get(), "bootstrap.kafka.example.net"));
  }
  SECTION("a lost CA key gives a new CA and a leaf that chains to it") {
    fs::remove(dir / "ca.key");
    make_certs(dir, "kafka.example.com");
    CHECK(read_file(dir / "ca.pem") != ca_pem);
    CHECK(read_file(dir / "server.key") == server_key);
    CHECK(verifies(load_certificate(dir / "server.pem").get(), dir / "ca.pem"));
  }
}

TEST_CASE("make_certs.sh rejects bad arguments", "[certs][make_certs]") {
  const TempDir tmp;
  for (const char* domains : {"", "'*.kafka.example.com'", "'bad domain.com'", "localhost"}) {
    INFO(domains);
    CHECK_THROWS(make_certs(tmp.path() / "tls", domains));
  }
}
