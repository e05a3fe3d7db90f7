// certs/client_ca.h: CA bundles and CRLs for mTLS, loaded into an X509_STORE, with certificates, keys and
// CRLs made at test time (test_pki.h). Verification goes through X509_verify_cert with the "ssl_client"
// purpose, as OpenSSL's server does for a client certificate.
#include "certs/client_ca.h"
#include "certs/inspect.h"

#include <catch2/catch.hpp>

#include <openssl/err.h>

#include "cert_fixture.h"
#include "test_pki.h"

using namespace kedge::certs;
using namespace kedge::certs::testing;

namespace {

ClientCa loaded(ClientCaResult result) {
  if (const auto* error = std::get_if<ClientCaError>(&result)) FAIL("load failed: " << error->message());
  return std::get<ClientCa>(std::move(result));
}

ClientCaError refused(const ClientCaResult& result) {
  REQUIRE(std::holds_alternative<ClientCaError>(result));
  return std::get<ClientCaError>(result);
}

// The X509_V_ERR_* of verifying `leaf` (with `chain` as the untrusted certificates it sends) against `store`.
int verify(X509_STORE* store, const Issued& leaf, std::vector<const Issued*> chain = {}) {
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (const Issued* c : chain) sk_X509_push(untrusted, c->cert.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  REQUIRE(X509_STORE_CTX_init(ctx, store, leaf.cert.get(), untrusted) == 1);
  REQUIRE(X509_STORE_CTX_set_default(ctx, "ssl_client") == 1);
  X509_verify_cert(ctx);
  const int error = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  ERR_clear_error();
  return error;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a CA bundle of two CAs: both verify their clients, the summary names the first to expire",
          "[certs][client_ca]") {
  // given
  TempDir tmp;
  const Issued ca_a = make_root_ca("client CA A", 400L * 24 * 3600);
  const Issued ca_b = make_root_ca("client CA B", 100L * 24 * 3600);
  const auto bundle = tmp.write("clients-ca.pem", "# comment lines between blocks are ignored\n" +
                                                      pem(ca_a.cert.get()) + pem(ca_b.cert.get()));
  // when
  const ClientCa ca = loaded(load_client_ca(bundle, std::nullopt));
  // then
  CHECK(ca.summary.certificates == 2);
  CHECK(ca.summary.earliest_subject == "CN=client CA B");
  CHECK(ca.summary.earliest_not_after == to_time_t(X509_get0_notAfter(ca_b.cert.get())));
  CHECK(ca.summary.crls == 0);
  CHECK(ca.summary.earliest_next_update == 0);
  CHECK(verify(ca.store.get(), make_client(ca_a, "alice")) == X509_V_OK);
  CHECK(verify(ca.store.get(), make_client(ca_b, "bob")) == X509_V_OK);
}

TEST_CASE("verification outcomes without a CRL: unknown CA, expired, not yet valid, server certificate",
          "[certs][client_ca]") {
  TempDir tmp;
  const Issued ca = make_root_ca("client CA");
  const Issued other = make_root_ca("another CA");
  const ClientCa loaded_ca = loaded(load_client_ca(tmp.write("ca.pem", pem(ca.cert.get())), std::nullopt));
  X509_STORE* store = loaded_ca.store.get();
  CHECK(verify(store, make_client(other, "mallory")) == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  CHECK(verify(store, make_client(ca, "old", -10L * 24 * 3600, -24L * 3600)) == X509_V_ERR_CERT_HAS_EXPIRED);
  CHECK(verify(store, make_client(ca, "early", 24L * 3600, 10L * 24 * 3600)) == X509_V_ERR_CERT_NOT_YET_VALID);
  CertSpec server;
  server.cn = "broker";
  server.role = Role::server;
  CHECK(verify(store, issue(server, &ca)) == X509_V_ERR_INVALID_PURPOSE);  // extendedKeyUsage serverAuth only
}

TEST_CASE("a CRL revokes, and the whole chain is checked", "[certs][client_ca][crl]") {
  TempDir tmp;
  const Issued ca = make_root_ca("client CA");
  const Issued good = make_client(ca, "alice");
  const Issued revoked = make_client(ca, "eve");
  const auto ca_file = tmp.write("ca.pem", pem(ca.cert.get()));

  SECTION("a revoked client is refused, the others pass") {
    const auto crl = make_crl(ca, {revoked.serial}, 2L * 24 * 3600);
    const ClientCa loaded_ca = loaded(load_client_ca(ca_file, tmp.write("ca.crl", pem(crl.get()))));
    CHECK(loaded_ca.summary.crls == 1);
    CHECK(loaded_ca.summary.earliest_crl_issuer == "CN=client CA");
    CHECK(loaded_ca.summary.earliest_next_update == to_time_t(X509_CRL_get0_nextUpdate(crl.get())));
    CHECK(verify(loaded_ca.store.get(), good) == X509_V_OK);
    CHECK(verify(loaded_ca.store.get(), revoked) == X509_V_ERR_CERT_REVOKED);
  }
  SECTION("an intermediate CA: its CRL and the root's are both consulted") {
    CertSpec spec;
    spec.cn = "issuing CA";
    spec.role = Role::intermediate_ca;
    const Issued issuing = issue(spec, &ca);
    const Issued client = make_client(issuing, "carol");
    const Issued revoked_client = make_client(issuing, "dave");
    const auto bundle = tmp.write("bundle.pem", pem(ca.cert.get()) + pem(issuing.cert.get()));
    const auto crls = tmp.write("chain.crl", pem(make_crl(ca, {}).get()) +
                                                 pem(make_crl(issuing, {revoked_client.serial}).get()));
    const ClientCa loaded_ca = loaded(load_client_ca(bundle, crls));
    CHECK(loaded_ca.summary.crls == 2);
    CHECK(verify(loaded_ca.store.get(), client) == X509_V_OK);
    CHECK(verify(loaded_ca.store.get(), client, {&issuing}) == X509_V_OK);
    CHECK(verify(loaded_ca.store.get(), revoked_client, {&issuing}) == X509_V_ERR_CERT_REVOKED);

    // The intermediate itself revoked by the root: its clients fall with it (X509_V_FLAG_CRL_CHECK_ALL).
    const auto root_revokes = tmp.write("revoking.crl", pem(make_crl(ca, {issuing.serial}).get()) +
                                                            pem(make_crl(issuing, {}).get()));
    const ClientCa revoking = loaded(load_client_ca(bundle, root_revokes));
    CHECK(verify(revoking.store.get(), client, {&issuing}) == X509_V_ERR_CERT_REVOKED);
  }
  SECTION("a stale CRL loads, is reported, and OpenSSL then refuses every client of its CA") {
    const auto crl = make_crl(ca, {}, -60);
    const ClientCa loaded_ca = loaded(load_client_ca(ca_file, tmp.write("stale.crl", pem(crl.get()))));
    CHECK(loaded_ca.summary.earliest_next_update < std::time(nullptr));
    CHECK(verify(loaded_ca.store.get(), good) == X509_V_ERR_CRL_HAS_EXPIRED);
  }
}

TEST_CASE("CA files kedge refuses, each naming the file and the reason", "[certs][client_ca]") {
  TempDir tmp;
  const Issued ca = make_root_ca("client CA");
  const Issued leaf = make_client(ca, "alice");

  SECTION("missing") {
    const auto error = refused(load_client_ca(tmp.path() / "absent.pem", std::nullopt));
    CHECK(error.file == tmp.path() / "absent.pem");
    CHECK(contains(error.message(), "absent.pem: cannot read: No such file or directory"));
  }
  SECTION("no certificate at all") {
    const auto file = tmp.write("empty.pem", "not PEM at all\n");
    const auto error = refused(load_client_ca(file, std::nullopt));
    CHECK(error.message() == file.string() + ": holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
  }
  SECTION("a private key in the bundle") {
    const auto file = tmp.write("with-key.pem", pem(ca.cert.get()) + pem(ca.key.get()));
    const auto error = refused(load_client_ca(file, std::nullopt));
    CHECK(error.reason ==
          "PEM block 2 is a \"PRIVATE KEY\", not a \"CERTIFICATE\" (a private key does not belong in this file)");
  }
  SECTION("a CRL in the bundle") {
    const auto file = tmp.write("with-crl.pem", pem(ca.cert.get()) + pem(make_crl(ca, {}).get()));
    CHECK(refused(load_client_ca(file, std::nullopt)).reason ==
          "PEM block 2 is a \"X509 CRL\", not a \"CERTIFICATE\" (CRLs go in crl_file)");
  }
  SECTION("a leaf certificate instead of its CA") {
    const auto file = tmp.write("leaf.pem", pem(leaf.cert.get()));
    CHECK(refused(load_client_ca(file, std::nullopt)).reason ==
          "certificate 1 (CN=alice) is not a CA certificate (no basicConstraints CA:TRUE, or keyUsage without "
          "keyCertSign): client certificates cannot chain to it");
  }
  SECTION("a damaged block") {
    std::string text = pem(ca.cert.get());
    text[text.find('\n') + 5] = '*';  // not base64
    const auto error = refused(load_client_ca(tmp.write("damaged.pem", text), std::nullopt));
    CHECK(contains(error.reason, "PEM block 1 does not decode: "));
  }
}

TEST_CASE("CRL files kedge refuses", "[certs][client_ca][crl]") {
  TempDir tmp;
  const Issued ca = make_root_ca("client CA");
  const Issued other = make_root_ca("another CA");
  const auto ca_file = tmp.write("ca.pem", pem(ca.cert.get()));

  SECTION("a CRL of a CA that is not in the bundle") {
    const auto crl_file = tmp.write("other.crl", pem(make_crl(ca, {}).get()) + pem(make_crl(other, {}).get()));
    const auto error = refused(load_client_ca(ca_file, crl_file));
    CHECK(error.file == crl_file);
    CHECK(error.reason == "CRL 2 (issuer CN=another CA) was issued by no CA of " + ca_file.string() +
                              " (an intermediate CA's CRL needs that intermediate in the CA file)");
  }
  SECTION("a CRL that names the CA but is signed by another key") {
    const auto crl_file = tmp.write("forged.crl", pem(make_crl(ca, {}, 3600, &other).get()));
    CHECK(refused(load_client_ca(ca_file, crl_file)).reason ==
          "CRL 1 (issuer CN=client CA): its signature does not verify with the key of the CA of that name in " +
              ca_file.string());
  }
  SECTION("a CA of the bundle without its CRL") {
    const auto bundle = tmp.write("two.pem", pem(ca.cert.get()) + pem(other.cert.get()));
    const auto crl_file = tmp.write("one.crl", pem(make_crl(ca, {}).get()));
    const auto error = refused(load_client_ca(bundle, crl_file));
    CHECK(contains(error.reason, "holds no CRL of CA CN=another CA (certificate 2 of " + bundle.string() + ")"));
    // Why the loader insists: OpenSSL would refuse every client of that CA.
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca.cert.get());
    X509_STORE_add_cert(store, other.cert.get());
    X509_STORE_add_crl(store, make_crl(ca, {}).get());
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    CHECK(verify(store, make_client(other, "bob")) == X509_V_ERR_UNABLE_TO_GET_CRL);
    X509_STORE_free(store);
  }
  SECTION("a certificate in the CRL file") {
    const auto crl_file = tmp.write("cert.crl", pem(ca.cert.get()));
    CHECK(refused(load_client_ca(ca_file, crl_file)).reason ==
          "PEM block 1 is a \"CERTIFICATE\", not a \"X509 CRL\" (CA certificates go in ca_file)");
  }
  SECTION("an empty CRL file") {
    const auto crl_file = tmp.write("empty.crl", "");
    CHECK(refused(load_client_ca(ca_file, crl_file)).reason == "holds no PEM CRL (\"-----BEGIN X509 CRL-----\")");
  }
}
