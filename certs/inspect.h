#pragma once
// Certificate inspection for `kedge check`: which DNS names a certificate
// covers, when it expires, whether the key belongs to it. Configuration-time
// code (OpenSSL, exceptions allowed); never used on the data path.
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

namespace kedge::certs {

// What `kedge check` needs to know about one configured certificate/key pair.
struct CertificateInfo {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  std::string subject;                 // RFC 2253 one-line form, for messages
  std::string issuer;
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries, lower-case, in order
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  bool key_matches = false;            // the private key belongs to the leaf certificate
  std::string load_error;              // non-empty: the files could not be parsed (the rest is empty)
  std::shared_ptr<X509> leaf;          // the leaf certificate itself (null with load_error)
};

// Reads the first certificate of a PEM chain and the PEM private key. Never
// throws for bad content: problems land in `load_error` so the caller can
// report them next to the other findings.
CertificateInfo inspect_certificate(const std::filesystem::path& cert_chain_pem,
                                    const std::filesystem::path& private_key_pem);

// Whether TLS clients accept the certificate for `host`: OpenSSL's
// X509_check_host on the leaf, as librdkafka calls it (and Java's checker
// decides alike): subjectAltName dNSName entries only, never the subject CN
// (X509_CHECK_FLAG_NEVER_CHECK_SUBJECT), and a wildcard only as the whole
// left-most label matching exactly one label (RFC 6125 §6.4.3,
// X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS): `*.example.com` covers
// `a.example.com` but neither `example.com` nor `b.a.example.com`. A name
// ending in a dot matches nothing, as with every client. False when the
// certificate could not be loaded.
bool certificate_covers(const CertificateInfo& info, std::string_view host);

// True if `san` is a wildcard that fails to cover `host` only because `host`
// has more labels below the wildcard's parent domain (e.g. `*.example.com` vs
// `broker-1.alpha.example.com`): the case the shared_suffix format solves.
bool wildcard_too_shallow(std::string_view san, std::string_view host);

// What `kedge check` reports about a CA bundle clients' certificates must chain
// to (authentication.mtls.ca_file): every PEM certificate in it.
struct CaBundleInfo {
  std::filesystem::path file;
  std::size_t certificates = 0;
  std::size_t not_ca = 0;               // certificates without basicConstraints CA:TRUE (cannot sign clients)
  std::time_t earliest_not_after = 0;   // of all certificates (0 when there are none)
  std::string earliest_subject;         // the certificate that expires first, RFC 2253
  std::string load_error;               // non-empty: unreadable, not PEM, or no certificate in it
};
// Never throws for bad content (load_error instead).
CaBundleInfo inspect_ca_bundle(const std::filesystem::path& pem_file);

// What `kedge check` reports about a PEM file of CRLs (authentication.mtls.crl_file).
struct CrlInfo {
  std::filesystem::path file;
  std::size_t crls = 0;
  std::size_t revoked = 0;                        // entries over all CRLs
  std::optional<std::time_t> earliest_next_update;  // nullopt when no CRL carries nextUpdate
  std::string earliest_issuer;                    // issuer of that CRL, RFC 2253
  std::string load_error;                         // non-empty: unreadable, not PEM, or no CRL in it
};
// Never throws for bad content (load_error instead).
CrlInfo inspect_crl_file(const std::filesystem::path& pem_file);
// A distinguished name in RFC 2253 one-line form ("CN=alice,O=Acme"); "" if OpenSSL cannot print it.
std::string name_line(const X509_NAME* name);
// An ASN.1 time as Unix seconds; 0 for null or an unreadable time.
std::time_t to_time_t(const ASN1_TIME* time);

// Formats a time_t as "2025-01-31 12:00:00 UTC".
std::string format_utc(std::time_t when);

}  // namespace kedge::certs
