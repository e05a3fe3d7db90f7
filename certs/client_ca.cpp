// Client CA bundles and CRLs for mTLS (see client_ca.h). Configuration time only.
#include "certs/client_ca.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

#include "certs/inspect.h"
#include "certs/tls_context.h"

namespace kedge::certs {
namespace {

struct BioDeleter { void operator()(BIO* bio) const { BIO_free(bio); } };
struct X509Deleter { void operator()(X509* cert) const { X509_free(cert); } };
struct CrlDeleter { void operator()(X509_CRL* crl) const { X509_CRL_free(crl); } };
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using CrlPtr = std::unique_ptr<X509_CRL, CrlDeleter>;

// One PEM block as PEM_read_bio returns it (RFC 7468 label and the DER bytes).
struct PemBlock {
  std::string label;
  std::vector<unsigned char> der;
};

// The content of `file`, or nullopt with the reason in `error`.
std::optional<std::string> read_whole(const std::filesystem::path& file, std::string& error) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    error = "cannot read: " + ec.message();
    return std::nullopt;
  }
  if (size > kMaxClientCaFileBytes) {
    error = "is " + std::to_string(size) + " bytes, more than the " + std::to_string(kMaxClientCaFileBytes) +
            " a CA bundle or CRL file may have";
    return std::nullopt;
  }
  std::ifstream stream(file, std::ios::binary);
  if (!stream) {
    error = std::string("cannot read: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::string text((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  if (stream.bad()) {
    error = std::string("cannot read: ") + std::strerror(errno);
    return std::nullopt;
  }
  return text;
}

// Every PEM block of `text`, in order, or nullopt with the reason in `error`
// (a block that does not decode, naming its 1-based position).
std::optional<std::vector<PemBlock>> pem_blocks(const std::string& text, std::string& error) {
  std::vector<PemBlock> blocks;
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) {
    error = "cannot allocate: " + drain_openssl_errors();
    return std::nullopt;
  }
  ERR_clear_error();
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      // PEM_R_NO_START_LINE: no further "-----BEGIN" line, the regular end.
      const unsigned long code = ERR_peek_last_error();
      if (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        return blocks;
      }
      error = "PEM block " + std::to_string(blocks.size() + 1) + " does not decode: " + drain_openssl_errors();
      return std::nullopt;
    }
    PemBlock block{name, std::vector<unsigned char>(data, data + len)};
    const bool encrypted = header != nullptr && header[0] != '\0';
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (encrypted) {
      error = "PEM block " + std::to_string(blocks.size() + 1) + " (\"" + block.label +
              "\") has encryption headers; certificates and CRLs are never encrypted";
      return std::nullopt;
    }
    blocks.push_back(std::move(block));
  }
}

// "block 2 is a "PRIVATE KEY", not a "CERTIFICATE"", with a hint for the usual mix-ups.
std::string wrong_block(std::size_t index, const std::string& label, std::string_view expected) {
  std::string why = "PEM block " + std::to_string(index) + " is a \"" + label + "\", not a \"" +
                    std::string(expected) + "\"";
  if (label.find("PRIVATE KEY") != std::string::npos) why += " (a private key does not belong in this file)";
  if (label == "X509 CRL") why += " (CRLs go in crl_file)";
  if (label == "CERTIFICATE") why += " (CA certificates go in ca_file)";
  if (label == "TRUSTED CERTIFICATE") why += " (write it as a plain \"CERTIFICATE\": openssl x509 -in F -out F)";
  return why;
}

std::string describe_name(const X509_NAME* name) {
  std::string text = name_line(name);
  return text.empty() ? "(unprintable name)" : text;
}

bool same_name(const X509_NAME* a, const X509_NAME* b) { return X509_NAME_cmp(a, b) == 0; }

}  // namespace

std::string ClientCaError::message() const { return file.string() + ": " + reason; }

namespace {

// A file kedge cannot use: the error, with OpenSSL's queue left empty.
ClientCaError refuse(const std::filesystem::path& file, std::string reason) {
  ERR_clear_error();
  return ClientCaError{file, std::move(reason)};
}

// The CA certificates of `ca_file`, in file order (see client_ca.h for the rules).
std::variant<std::vector<X509Ptr>, ClientCaError> read_ca_certificates(const std::filesystem::path& ca_file) {
  std::string error;
  const auto text = read_whole(ca_file, error);
  if (!text) return refuse(ca_file, error);
  const auto blocks = pem_blocks(*text, error);
  if (!blocks) return refuse(ca_file, error);
  if (blocks->empty()) return refuse(ca_file, "holds no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
  std::vector<X509Ptr> cas;
  for (std::size_t i = 0; i < blocks->size(); ++i) {
    const PemBlock& block = (*blocks)[i];
    if (block.label != "CERTIFICATE") return refuse(ca_file, wrong_block(i + 1, block.label, "CERTIFICATE"));
    const unsigned char* p = block.der.data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(block.der.size())));
    if (!cert || p != block.der.data() + block.der.size()) {
      return refuse(ca_file, "certificate " + std::to_string(i + 1) + " is not valid DER: " +
                                 (cert ? std::string("trailing bytes") : drain_openssl_errors()));
    }
    if (X509_check_ca(cert.get()) == 0) {
      return refuse(ca_file, "certificate " + std::to_string(i + 1) + " (" +
                                 describe_name(X509_get_subject_name(cert.get())) +
                                 ") is not a CA certificate (no basicConstraints CA:TRUE, or keyUsage without "
                                 "keyCertSign): client certificates cannot chain to it");
    }
    cas.push_back(std::move(cert));
  }
  return cas;
}

// Adds every CRL of `crl_file` to `result`'s store: each must be signed by a CA of `cas`, and every CA of
// `cas` must have one (client_ca.h says why). nullopt when all is well.
std::optional<ClientCaError> add_crls(const std::filesystem::path& crl_file, const std::filesystem::path& ca_file,
                                      const std::vector<X509Ptr>& cas, ClientCa& result) {
  std::string error;
  const auto text = read_whole(crl_file, error);
  if (!text) return refuse(crl_file, error);
  const auto blocks = pem_blocks(*text, error);
  if (!blocks) return refuse(crl_file, error);
  if (blocks->empty()) return refuse(crl_file, "holds no PEM CRL (\"-----BEGIN X509 CRL-----\")");
  std::vector<bool> ca_has_crl(cas.size(), false);
  for (std::size_t i = 0; i < blocks->size(); ++i) {
    const PemBlock& block = (*blocks)[i];
    if (block.label != "X509 CRL") return refuse(crl_file, wrong_block(i + 1, block.label, "X509 CRL"));
    const unsigned char* p = block.der.data();
    CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(block.der.size())));
    if (!crl || p != block.der.data() + block.der.size()) {
      return refuse(crl_file, "CRL " + std::to_string(i + 1) + " is not valid DER: " +
                                  (crl ? std::string("trailing bytes") : drain_openssl_errors()));
    }
    const X509_NAME* issuer = X509_CRL_get_issuer(crl.get());
    // The CA that signed it: same subject as the CRL's issuer and a key that
    // verifies the signature (two CAs may share a name across a key rollover).
    bool named = false;
    bool signed_by_ca = false;
    for (std::size_t c = 0; c < cas.size(); ++c) {
      if (!same_name(X509_get_subject_name(cas[c].get()), issuer)) continue;
      named = true;
      EVP_PKEY* key = X509_get0_pubkey(cas[c].get());
      if (key != nullptr && X509_CRL_verify(crl.get(), key) == 1) {
        signed_by_ca = true;
        ca_has_crl[c] = true;
      }
    }
    ERR_clear_error();
    const std::string which = "CRL " + std::to_string(i + 1) + " (issuer " + describe_name(issuer) + ")";
    if (!named) {
      return refuse(crl_file, which + " was issued by no CA of " + ca_file.string() +
                                  " (an intermediate CA's CRL needs that intermediate in the CA file)");
    }
    if (!signed_by_ca) {
      return refuse(crl_file, which + ": its signature does not verify with the key of the CA of that name in " +
                                  ca_file.string());
    }
    if (X509_STORE_add_crl(result.store.get(), crl.get()) != 1) {
      return refuse(crl_file, "cannot add " + which + ": " + drain_openssl_errors());
    }
    if (const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get())) {
      const std::time_t next_update = to_time_t(next);
      if (result.summary.earliest_next_update == 0 || next_update < result.summary.earliest_next_update) {
        result.summary.earliest_next_update = next_update;
        result.summary.earliest_crl_issuer = describe_name(issuer);
      }
    }
    ++result.summary.crls;
  }
  for (std::size_t c = 0; c < cas.size(); ++c) {
    if (ca_has_crl[c]) continue;
    return refuse(crl_file,
                  "holds no CRL of CA " + describe_name(X509_get_subject_name(cas[c].get())) + " (certificate " +
                      std::to_string(c + 1) + " of " + ca_file.string() +
                      "): with a CRL file kedge checks the revocation of every certificate in a client's chain, "
                      "and OpenSSL refuses the clients of a CA without a CRL; add that CA's CRL (an empty one "
                      "will do)");
  }
  return std::nullopt;
}

}  // namespace

ClientCaResult load_client_ca(const std::filesystem::path& ca_file,
                              const std::optional<std::filesystem::path>& crl_file) {
  auto read = read_ca_certificates(ca_file);
  if (auto* error = std::get_if<ClientCaError>(&read)) return std::move(*error);
  const std::vector<X509Ptr>& cas = std::get<std::vector<X509Ptr>>(read);

  ClientCa result;
  result.store.reset(X509_STORE_new());
  if (!result.store) return refuse(ca_file, "cannot allocate a certificate store: " + drain_openssl_errors());
  for (const X509Ptr& cert : cas) {
    if (X509_STORE_add_cert(result.store.get(), cert.get()) != 1) {
      return refuse(ca_file, "cannot add " + describe_name(X509_get_subject_name(cert.get())) + ": " +
                                 drain_openssl_errors());
    }
    const std::time_t not_after = to_time_t(X509_get0_notAfter(cert.get()));
    if (result.summary.certificates == 0 || not_after < result.summary.earliest_not_after) {
      result.summary.earliest_not_after = not_after;
      result.summary.earliest_subject = describe_name(X509_get_subject_name(cert.get()));
    }
    ++result.summary.certificates;
  }
  if (!crl_file) return result;
  if (auto error = add_crls(*crl_file, ca_file, cas, result)) return std::move(*error);
  X509_STORE_set_flags(result.store.get(), X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  return result;
}

}  // namespace kedge::certs
