#pragma once
// The certificate authorities of mTLS at kedge's listeners (docs/identity.md, "mTLS"): the CA bundle that
// client certificates must chain to and, optionally, the CRLs that revoke them, loaded into one X509_STORE.
// A snapshot builds it once; every connection of the (listener, virtual cluster) pair verifies against it
// (SSL_set1_verify_cert_store takes its own reference; OpenSSL locks the store's lookups, so worker threads
// share it read-only).
//
// Files, read whole (at most kMaxClientCaFileBytes each):
//   ca_file   one or more PEM "CERTIFICATE" blocks, each a CA certificate (X509_check_ca: basicConstraints
//             CA:TRUE, or a self-signed v1 certificate). Any other PEM block (a private key, a CRL, an OpenSSL
//             "TRUSTED CERTIFICATE") is refused, as is a file without a certificate. Text between blocks is
//             ignored, as OpenSSL ignores it.
//   crl_file  one or more PEM "X509 CRL" blocks, each issued and signed by a CA of ca_file. With a CRL file
//             the store checks the revocation of every certificate of a client's chain
//             (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL), so OpenSSL refuses the clients of a CA whose
//             CRL is missing ("unable to get certificate CRL", alert unknown_ca): loading therefore requires a
//             CRL from every CA of ca_file (an empty CRL will do), and refuses a CRL from a CA that is not in
//             ca_file. So with a CRL file, intermediate CAs belong in ca_file with their CRLs: an intermediate
//             that clients only send in their own chain has no CRL kedge could know, and OpenSSL refuses
//             those clients (unknown_ca).
// A CRL past its nextUpdate makes OpenSSL refuse every client of its CA (X509_V_ERR_CRL_HAS_EXPIRED, alert
// certificate_expired). Loading accepts it (a reload must not fail because time passed); the summary names
// the earliest nextUpdate so `kedge check` and the startup log can say so.
//
// Configuration time only. Loading never throws: a file kedge cannot use is a ClientCaError naming the file
// and the reason, which build_snapshot turns into a ConfigError with the JSON path, and `kedge check` reports.
#include <openssl/x509.h>

#include <cstddef>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace kedge::certs {

inline constexpr std::size_t kMaxClientCaFileBytes = 16 * 1024 * 1024;

struct X509StoreDeleter {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreDeleter>;

// What `kedge check` says about a CA bundle and its CRLs.
struct ClientCaSummary {
  std::size_t certificates = 0;          // CA certificates in ca_file
  std::time_t earliest_not_after = 0;    // the first of them to expire
  std::string earliest_subject;          // its subject (RFC 2253)
  std::size_t crls = 0;                  // 0: no crl_file
  std::time_t earliest_next_update = 0;  // the first CRL to go stale; 0 when none has a nextUpdate
  std::string earliest_crl_issuer;       // that CRL's issuer (RFC 2253)
};

struct ClientCa {
  X509StorePtr store;  // never null
  ClientCaSummary summary;
};

struct ClientCaError {
  std::filesystem::path file;  // the file at fault (ca_file or crl_file)
  std::string reason;          // e.g. "block 2 is a \"PRIVATE KEY\", not a \"CERTIFICATE\""
  std::string message() const;  // "<file>: <reason>"
};

using ClientCaResult = std::variant<ClientCa, ClientCaError>;

// Loads `ca_file` and, when given, `crl_file` (see above).
ClientCaResult load_client_ca(const std::filesystem::path& ca_file,
                              const std::optional<std::filesystem::path>& crl_file);

}  // namespace kedge::certs
