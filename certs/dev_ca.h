#pragma once
// `kedge certs`: a development CA and one server certificate for kedge's host
// names, made with the OpenSSL API. Meant for trials and tests; production
// certificates come from your PKI (docs/deployment.md).
//
// Files (in `out_dir`, created if missing):
//   ca.pem      the CA certificate (clients: ssl.ca.location=ca.pem)
//   ca.key      the CA private key, mode 0600
//   server.pem  the server certificate signed by the CA (kedge: tls.cert)
//   server.key  its private key, mode 0600 (kedge: tls.key)
// Nothing is ever overwritten: if any of the four exists, nothing is written
// and CertsError names that file. Every file is created with O_CREAT|O_EXCL and
// its final mode, so a key is never readable by others, not even briefly.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace kedge::certs {

class CertsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class KeyType { ecdsa_p256, rsa_2048 };

struct DevCaOptions {
  std::filesystem::path out_dir;
  std::vector<std::string> dns_names;  // server certificate SANs, e.g. {"*.kafka.example.com"}; at least one
  KeyType key_type = KeyType::ecdsa_p256;
  int validity_days = 397;             // server certificate; CA/Browser Forum ceiling for public leaves
  int ca_validity_days = 3650;
  // Shifts notBefore (and so notAfter) into the past by this many days. Lets
  // tests make an expired or nearly expired certificate; 0 otherwise.
  int backdate_days = 0;
};

struct DevCaFiles {
  std::filesystem::path ca_cert, ca_key, server_cert, server_key;
};

// Throws CertsError (naming the file for existing files and I/O errors).
DevCaFiles create_dev_ca(const DevCaOptions& options);

// The file names create_dev_ca writes in `out_dir`.
DevCaFiles dev_ca_paths(const std::filesystem::path& out_dir);

}  // namespace kedge::certs
