#pragma once
// Test helper: a PEM CRL signed by a CA whose certificate and key are PEM files (e.g. the development
// CA of certs/dev_ca.h), made with the OpenSSL API: lastUpdate an hour ago, the given nextUpdate, and
// one revoked entry per serial.
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <stdexcept>

namespace kedge::certs::testing {

inline void write_crl(const std::filesystem::path& ca_cert_pem, const std::filesystem::path& ca_key_pem,
                      std::time_t next_update, std::initializer_list<long> revoked_serials,
                      const std::filesystem::path& out) {
  const auto read = [](const std::filesystem::path& file) {
    std::FILE* handle = std::fopen(file.c_str(), "r");
    if (handle == nullptr) throw std::runtime_error("cannot open " + file.string());
    return std::unique_ptr<std::FILE, int (*)(std::FILE*)>(handle, std::fclose);
  };
  auto cert_file = read(ca_cert_pem);
  std::unique_ptr<X509, void (*)(X509*)> ca(PEM_read_X509(cert_file.get(), nullptr, nullptr, nullptr), X509_free);
  auto key_file = read(ca_key_pem);
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(PEM_read_PrivateKey(key_file.get(), nullptr, nullptr, nullptr),
                                                      EVP_PKEY_free);
  if (!ca || !key) throw std::runtime_error("cannot read the CA certificate or key");

  std::unique_ptr<X509_CRL, void (*)(X509_CRL*)> crl(X509_CRL_new(), X509_CRL_free);
  const std::time_t now = std::time(nullptr);
  std::unique_ptr<ASN1_TIME, void (*)(ASN1_TIME*)> last(ASN1_TIME_set(nullptr, now - 3600), ASN1_TIME_free);
  std::unique_ptr<ASN1_TIME, void (*)(ASN1_TIME*)> next(ASN1_TIME_set(nullptr, next_update), ASN1_TIME_free);
  bool ok = X509_CRL_set_version(crl.get(), 1) == 1 &&  // v2
            X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.get())) == 1 &&
            X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1 && X509_CRL_set1_nextUpdate(crl.get(), next.get()) == 1;
  for (const long serial : revoked_serials) {
    X509_REVOKED* entry = X509_REVOKED_new();
    std::unique_ptr<ASN1_INTEGER, void (*)(ASN1_INTEGER*)> number(ASN1_INTEGER_new(), ASN1_INTEGER_free);
    ok = ok && entry != nullptr && ASN1_INTEGER_set(number.get(), serial) == 1 &&
         X509_REVOKED_set_serialNumber(entry, number.get()) == 1 &&
         X509_REVOKED_set_revocationDate(entry, last.get()) == 1 && X509_CRL_add0_revoked(crl.get(), entry) == 1;
  }
  ok = ok && X509_CRL_sort(crl.get()) == 1 && X509_CRL_sign(crl.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) throw std::runtime_error("cannot make the CRL");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(out.c_str(), "w"), std::fclose);
  if (!file || PEM_write_X509_CRL(file.get(), crl.get()) != 1) throw std::runtime_error("cannot write " + out.string());
}

}  // namespace kedge::certs::testing
