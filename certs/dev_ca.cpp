// Development CA and server certificate (see dev_ca.h).
#include "certs/dev_ca.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs/tls_context.h"

namespace kedge::certs {
namespace {

namespace fs = std::filesystem;

struct BioDeleter { void operator()(BIO* bio) const { BIO_free(bio); } };
struct X509Deleter { void operator()(X509* cert) const { X509_free(cert); } };
struct PkeyDeleter { void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); } };
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

[[noreturn]] void fail(const std::string& what) {
  const std::string detail = drain_openssl_errors();
  throw CertsError(detail.empty() ? what : what + ": " + detail);
}

PkeyPtr new_key(KeyType type) {
  PkeyPtr key(type == KeyType::ecdsa_p256 ? EVP_EC_gen("P-256")
                                          : EVP_RSA_gen(2048));
  if (!key) fail("cannot generate a private key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (extension == nullptr) fail("cannot build certificate extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) fail("cannot add certificate extension");
}

// A positive random 127-bit serial (RFC 5280 §4.1.2.2: at most 20 octets, unique per CA).
void set_random_serial(X509* cert) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), BN_free);
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    fail("cannot set a certificate serial number");
  }
}

X509Ptr new_certificate(const std::string& common_name, EVP_PKEY* subject_key, int validity_days,
                        int backdate_days) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) fail("cannot create a certificate");
  set_random_serial(cert.get());
  const long start = -static_cast<long>(backdate_days) * 86400L;
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), start) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), start + static_cast<long>(validity_days) * 86400L) == nullptr) {
    fail("cannot set the certificate validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                 -1, -1, 0) != 1) {
    fail("cannot set the certificate subject");
  }
  if (X509_set_pubkey(cert.get(), subject_key) != 1) fail("cannot set the certificate key");
  return cert;
}

void sign(X509* cert, EVP_PKEY* issuer_key) {
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) fail("cannot sign the certificate");
}

std::string pem_of_key(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("cannot encode a private key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string pem_of_cert(X509* cert) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("cannot encode a certificate");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// Creates `file` exclusively with `mode` (never replacing anything) and writes `text`.
void write_new_file(const fs::path& file, const std::string& text, mode_t mode) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) throw CertsError(file.string() + " already exists; kedge certs never overwrites files "
                                          "(move it away or choose another --out)");
    throw CertsError("cannot create " + file.string() + ": " + std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      throw CertsError("cannot write " + file.string() + ": " + std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw CertsError("cannot write " + file.string() + ": " + std::strerror(errno));
  }
}

}  // namespace

DevCaFiles dev_ca_paths(const fs::path& out_dir) {
  return {out_dir / "ca.pem", out_dir / "ca.key", out_dir / "server.pem", out_dir / "server.key"};
}

DevCaFiles create_dev_ca(const DevCaOptions& options) {
  if (options.dns_names.empty()) throw CertsError("no DNS names to certify");
  if (options.validity_days < 1 || options.ca_validity_days < 1) throw CertsError("validity must be at least 1 day");
  const DevCaFiles files = dev_ca_paths(options.out_dir);
  // Refuse before generating anything, naming the first file that is in the way.
  for (const fs::path& file : {files.ca_cert, files.ca_key, files.server_cert, files.server_key}) {
    std::error_code ec;
    if (fs::symlink_status(file, ec).type() != fs::file_type::not_found) {
      throw CertsError(file.string() + " already exists; kedge certs never overwrites files "
                       "(move it away or choose another --out)");
    }
  }
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) throw CertsError("cannot create " + options.out_dir.string() + ": " + ec.message());

  // CA: basicConstraints CA:TRUE, pathlen 0 (it signs leaves only), keyCertSign (RFC 5280 §4.2.1.3/§4.2.1.9).
  PkeyPtr ca_key = new_key(options.key_type);
  X509Ptr ca = new_certificate("kedge development CA", ca_key.get(), options.ca_validity_days, options.backdate_days);
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_extension(ca.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  sign(ca.get(), ca_key.get());

  // Server: the names go in subjectAltName (clients ignore the CN when SANs exist, RFC 6125 §6.4.4).
  PkeyPtr server_key = new_key(options.key_type);
  X509Ptr server = new_certificate(options.dns_names.front(), server_key.get(), options.validity_days,
                                   options.backdate_days);
  X509_set_issuer_name(server.get(), X509_get_subject_name(ca.get()));
  std::string san;
  for (const std::string& name : options.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + name;
  add_extension(server.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(server.get(), ca.get(), NID_key_usage,
                options.key_type == KeyType::rsa_2048 ? "critical,digitalSignature,keyEncipherment"
                                                      : "critical,digitalSignature");
  add_extension(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_extension(server.get(), ca.get(), NID_subject_alt_name, san);
  add_extension(server.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_extension(server.get(), ca.get(), NID_authority_key_identifier, "keyid,issuer");
  sign(server.get(), ca_key.get());

  // Keys first, so a failure never leaves a certificate whose key was not saved.
  write_new_file(files.ca_key, pem_of_key(ca_key.get()), 0600);
  write_new_file(files.server_key, pem_of_key(server_key.get()), 0600);
  write_new_file(files.ca_cert, pem_of_cert(ca.get()), 0644);
  write_new_file(files.server_cert, pem_of_cert(server.get()), 0644);
  return files;
}

}  // namespace kedge::certs
