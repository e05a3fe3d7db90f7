#pragma once
// Test helper: a small PKI made in memory with the OpenSSL API at test time (EC P-256 keys, SHA-256
// signatures): CAs, client and server certificates with chosen validity windows, and CRLs revoking chosen
// serial numbers, written as PEM where a test needs files. Nothing here is checked in; every run makes
// fresh keys. Failures throw std::runtime_error (tests only).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kedge::certs::testing {

struct PkeyFree { void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); } };
struct X509Free { void operator()(X509* cert) const { X509_free(cert); } };
struct CrlFree { void operator()(X509_CRL* crl) const { X509_CRL_free(crl); } };
using KeyPtr = std::shared_ptr<EVP_PKEY>;
using CertPtr = std::shared_ptr<X509>;
using CrlPtr = std::shared_ptr<X509_CRL>;

inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

inline KeyPtr new_key() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  check(key != nullptr, "EVP_PKEY_Q_keygen");
  return KeyPtr(key, PkeyFree{});
}

// A certificate and its key.
struct Issued {
  CertPtr cert;
  KeyPtr key;
  std::uint64_t serial = 0;
};

// What a certificate is for: its extensions.
enum class Role { root_ca, intermediate_ca, client, server, not_a_ca_v3 };

struct CertSpec {
  std::string cn;                           // subject commonName ("" = none)
  std::vector<std::string> extra_subject;   // further "FIELD=value" RDNs, e.g. "O=Acme"
  std::vector<std::string> dns_sans;
  Role role = Role::client;
  long not_before_offset_s = -3600;         // relative to now
  long not_after_offset_s = 30L * 24 * 3600;
  std::uint64_t serial = 0;                 // 0: a fresh one
};

inline std::uint64_t next_serial() {
  static std::uint64_t serial = 0x1000;
  return ++serial;
}

inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  check(X509_add_ext(cert, ext, -1) == 1, "X509_add_ext");
  X509_EXTENSION_free(ext);
}

// Signs a certificate for `spec` with `issuer` (null: self-signed).
inline Issued issue(const CertSpec& spec, const Issued* issuer = nullptr) {
  Issued out;
  out.key = new_key();
  out.serial = spec.serial != 0 ? spec.serial : next_serial();
  out.cert = CertPtr(X509_new(), X509Free{});
  X509* cert = out.cert.get();
  check(X509_set_version(cert, 2) == 1, "X509_set_version");
  check(ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), out.serial) == 1, "serial");
  X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before_offset_s);
  X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after_offset_s);
  X509_NAME* name = X509_get_subject_name(cert);
  if (!spec.cn.empty()) {
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(spec.cn.c_str()),
                                     -1, -1, 0) == 1,
          "CN");
  }
  for (const std::string& rdn : spec.extra_subject) {
    const auto eq = rdn.find('=');
    check(eq != std::string::npos, "extra_subject FIELD=value");
    check(X509_NAME_add_entry_by_txt(name, rdn.substr(0, eq).c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(rdn.c_str() + eq + 1), -1, -1, 0) == 1,
          "extra subject");
  }
  X509* signer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* signer_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  check(X509_set_issuer_name(cert, X509_get_subject_name(signer_cert)) == 1, "issuer name");
  check(X509_set_pubkey(cert, out.key.get()) == 1, "pubkey");
  add_ext(cert, signer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_ext(cert, signer_cert, NID_authority_key_identifier, "keyid");
  switch (spec.role) {
    case Role::root_ca:
      add_ext(cert, signer_cert, NID_basic_constraints, "critical,CA:TRUE");
      add_ext(cert, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case Role::intermediate_ca:
      add_ext(cert, signer_cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
      add_ext(cert, signer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case Role::client:
      add_ext(cert, signer_cert, NID_basic_constraints, "critical,CA:FALSE");
      add_ext(cert, signer_cert, NID_key_usage, "critical,digitalSignature");
      add_ext(cert, signer_cert, NID_ext_key_usage, "clientAuth");
      break;
    case Role::server:
      add_ext(cert, signer_cert, NID_basic_constraints, "critical,CA:FALSE");
      add_ext(cert, signer_cert, NID_key_usage, "critical,digitalSignature");
      add_ext(cert, signer_cert, NID_ext_key_usage, "serverAuth");
      break;
    case Role::not_a_ca_v3:
      add_ext(cert, signer_cert, NID_basic_constraints, "critical,CA:FALSE");
      break;
  }
  if (!spec.dns_sans.empty()) {
    std::string sans;
    for (const std::string& dns : spec.dns_sans) sans += (sans.empty() ? "DNS:" : ",DNS:") + dns;
    add_ext(cert, signer_cert, NID_subject_alt_name, sans.c_str());
  }
  check(X509_sign(cert, signer_key, EVP_sha256()) > 0, "X509_sign");
  return out;
}

inline Issued make_root_ca(const std::string& cn, long not_after_offset_s = 365L * 24 * 3600) {
  CertSpec spec;
  spec.cn = cn;
  spec.role = Role::root_ca;
  spec.not_after_offset_s = not_after_offset_s;
  return issue(spec);
}

inline Issued make_client(const Issued& ca, const std::string& cn, long not_before_offset_s = -3600,
                          long not_after_offset_s = 30L * 24 * 3600) {
  CertSpec spec;
  spec.cn = cn;
  spec.not_before_offset_s = not_before_offset_s;
  spec.not_after_offset_s = not_after_offset_s;
  return issue(spec, &ca);
}

// A CRL of `ca` revoking `revoked` serials, valid from now-1h to now+next_update_offset_s.
inline CrlPtr make_crl(const Issued& ca, const std::vector<std::uint64_t>& revoked,
                       long next_update_offset_s = 7L * 24 * 3600, const Issued* signer = nullptr) {
  CrlPtr crl(X509_CRL_new(), CrlFree{});
  check(X509_CRL_set_version(crl.get(), 1) == 1, "X509_CRL_set_version");
  check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.cert.get())) == 1, "CRL issuer");
  ASN1_TIME* last = X509_gmtime_adj(nullptr, -3600);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, next_update_offset_s);
  X509_CRL_set1_lastUpdate(crl.get(), last);
  X509_CRL_set1_nextUpdate(crl.get(), next);
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  for (std::uint64_t serial : revoked) {
    X509_REVOKED* entry = X509_REVOKED_new();
    ASN1_INTEGER* number = ASN1_INTEGER_new();
    ASN1_INTEGER_set_uint64(number, serial);
    X509_REVOKED_set_serialNumber(entry, number);
    ASN1_INTEGER_free(number);
    ASN1_TIME* when = X509_gmtime_adj(nullptr, -60);
    X509_REVOKED_set_revocationDate(entry, when);
    ASN1_TIME_free(when);
    check(X509_CRL_add0_revoked(crl.get(), entry) == 1, "X509_CRL_add0_revoked");
  }
  X509_CRL_sort(crl.get());
  const Issued& by = signer != nullptr ? *signer : ca;
  check(X509_CRL_sign(crl.get(), by.key.get(), EVP_sha256()) > 0, "X509_CRL_sign");
  return crl;
}

inline std::string pem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(PEM_write_bio_X509(bio, cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return text;
}

inline std::string pem(X509_CRL* crl) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(PEM_write_bio_X509_CRL(bio, crl) == 1, "PEM_write_bio_X509_CRL");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return text;
}

inline std::string pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return text;
}

inline void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
  check(static_cast<bool>(out), "write_file");
}

}  // namespace kedge::certs::testing
