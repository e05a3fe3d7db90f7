// Certificate inspection (see inspect.h).
#include "certs/inspect.h"

#include <cstdio>
#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs/tls_context.h"
#include "common/ascii.h"

namespace kedge::certs {
namespace {

struct BioDeleter { void operator()(BIO* bio) const { BIO_free(bio); } };
struct X509Deleter { void operator()(X509* cert) const { X509_free(cert); } };
struct PkeyDeleter { void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); } };
struct NamesDeleter { void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); } };
struct CrlDeleter { void operator()(X509_CRL* crl) const { X509_CRL_free(crl); } };

std::string_view strip_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

}  // namespace

std::string name_line(const X509_NAME* name) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : "";
}

std::time_t to_time_t(const ASN1_TIME* time) {
  struct tm parts {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return 0;
  return timegm(&parts);
}

CertificateInfo inspect_certificate(const std::filesystem::path& cert_chain_pem,
                                    const std::filesystem::path& private_key_pem) {
  CertificateInfo info;
  info.cert_file = cert_chain_pem;
  info.key_file = private_key_pem;
  ERR_clear_error();

  std::unique_ptr<BIO, BioDeleter> cert_bio(BIO_new_file(cert_chain_pem.c_str(), "r"));
  std::unique_ptr<X509, X509Deleter> cert(
      cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    info.load_error = "cannot read a PEM certificate from " + cert_chain_pem.string() + ": " + drain_openssl_errors();
    return info;
  }
  std::unique_ptr<BIO, BioDeleter> key_bio(BIO_new_file(private_key_pem.c_str(), "r"));
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    info.load_error = "cannot read a PEM private key from " + private_key_pem.string() + ": " + drain_openssl_errors();
    return info;
  }

  info.subject = name_line(X509_get_subject_name(cert.get()));
  info.issuer = name_line(X509_get_issuer_name(cert.get()));
  info.not_before = to_time_t(X509_get0_notBefore(cert.get()));
  info.not_after = to_time_t(X509_get0_notAfter(cert.get()));
  info.key_matches = EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()) == 1;

  std::unique_ptr<GENERAL_NAMES, NamesDeleter> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
      if (name->type != GEN_DNS) continue;
      const ASN1_IA5STRING* text = name->d.dNSName;
      info.dns_names.push_back(
          ascii::to_lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                                 static_cast<std::size_t>(ASN1_STRING_length(text)))));
    }
  }
  info.leaf = std::shared_ptr<X509>(cert.release(), X509_free);
  ERR_clear_error();
  return info;
}

namespace {

// PEM_read_bio_* at the end of a file leaves PEM_R_NO_START_LINE on the error
// queue; anything else is a real error in the file.
bool only_end_of_pem() {
  const unsigned long error = ERR_peek_last_error();
  const bool end = ERR_GET_LIB(error) == ERR_LIB_PEM && ERR_GET_REASON(error) == PEM_R_NO_START_LINE;
  if (end) ERR_clear_error();
  return end;
}

}  // namespace

CaBundleInfo inspect_ca_bundle(const std::filesystem::path& pem_file) {
  CaBundleInfo info;
  info.file = pem_file;
  ERR_clear_error();
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(pem_file.c_str(), "r"));
  if (!bio) {
    info.load_error = "cannot open " + pem_file.string() + ": " + drain_openssl_errors();
    return info;
  }
  while (std::unique_ptr<X509, X509Deleter> cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    ++info.certificates;
    if (X509_check_ca(cert.get()) == 0) ++info.not_ca;
    const std::time_t not_after = to_time_t(X509_get0_notAfter(cert.get()));
    if (info.certificates == 1 || not_after < info.earliest_not_after) {
      info.earliest_not_after = not_after;
      info.earliest_subject = name_line(X509_get_subject_name(cert.get()));
    }
  }
  if (!only_end_of_pem()) {
    info.load_error = "cannot read PEM certificate " + std::to_string(info.certificates + 1) + " of " +
                      pem_file.string() + ": " + drain_openssl_errors();
  } else if (info.certificates == 0) {
    info.load_error = "no PEM certificate in " + pem_file.string();
  }
  ERR_clear_error();
  return info;
}

CrlInfo inspect_crl_file(const std::filesystem::path& pem_file) {
  CrlInfo info;
  info.file = pem_file;
  ERR_clear_error();
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(pem_file.c_str(), "r"));
  if (!bio) {
    info.load_error = "cannot open " + pem_file.string() + ": " + drain_openssl_errors();
    return info;
  }
  while (std::unique_ptr<X509_CRL, CrlDeleter> crl{PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)}) {
    ++info.crls;
    const STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
    if (revoked != nullptr) info.revoked += static_cast<std::size_t>(sk_X509_REVOKED_num(revoked));
    const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get());
    if (next == nullptr) continue;
    const std::time_t next_update = to_time_t(next);
    if (!info.earliest_next_update || next_update < *info.earliest_next_update) {
      info.earliest_next_update = next_update;
      info.earliest_issuer = name_line(X509_CRL_get_issuer(crl.get()));
    }
  }
  if (!only_end_of_pem()) {
    info.load_error = "cannot read PEM CRL " + std::to_string(info.crls + 1) + " of " + pem_file.string() + ": " +
                      drain_openssl_errors();
  } else if (info.crls == 0) {
    info.load_error = "no PEM CRL (-----BEGIN X509 CRL-----) in " + pem_file.string();
  }
  ERR_clear_error();
  return info;
}

bool certificate_covers(const CertificateInfo& info, std::string_view host) {
  if (!info.leaf || host.empty()) return false;
  return X509_check_host(info.leaf.get(), host.data(), host.size(),
                         X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr) == 1;
}

bool wildcard_too_shallow(std::string_view san, std::string_view host) {
  san = strip_trailing_dot(san);
  host = strip_trailing_dot(host);
  if (san.substr(0, 2) != "*.") return false;
  const std::string_view parent = san.substr(1);  // ".example.com"
  if (host.size() <= parent.size() || !ascii::iequals(host.substr(host.size() - parent.size()), parent)) return false;
  const std::string_view below = host.substr(0, host.size() - parent.size());  // "broker-1.alpha"
  return below.find('.') != std::string_view::npos;
}

std::string format_utc(std::time_t when) {
  struct tm parts {};
  gmtime_r(&when, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

}  // namespace kedge::certs
