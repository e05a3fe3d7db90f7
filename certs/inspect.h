#pragma once
// Certificate inspection for `kedge check`: which DNS names a certificate
// covers, when it expires, whether the key belongs to it. Configuration-time
// code (OpenSSL, exceptions allowed); never used on the data path.
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
};

// Reads the first certificate of a PEM chain and the PEM private key. Never
// throws for bad content: problems land in `load_error` so the caller can
// report them next to the other findings.
CertificateInfo inspect_certificate(const std::filesystem::path& cert_chain_pem,
                                    const std::filesystem::path& private_key_pem);

// RFC 6125 §6.4.3 as TLS clients apply it (OpenSSL X509_check_host with
// X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, which librdkafka and Java follow):
// case-insensitive; a SAN may carry a wildcard only as the complete left-most
// label, and it matches exactly one label of `host`, so `*.example.com` covers
// `a.example.com` but neither `example.com` nor `b.a.example.com`. A wildcard
// needs at least two labels after it (`*.com` covers nothing). One trailing
// dot on either side is ignored. Pure.
bool dns_name_covers(std::string_view san, std::string_view host);

// True if `san` is a wildcard that fails to cover `host` only because `host`
// has more labels below the wildcard's parent domain (e.g. `*.example.com` vs
// `broker-1.alpha.example.com`): the case the shared_suffix format solves.
bool wildcard_too_shallow(std::string_view san, std::string_view host);

// Formats a time_t as "2025-01-31 12:00:00 UTC".
std::string format_utc(std::time_t when);

}  // namespace kedge::certs
