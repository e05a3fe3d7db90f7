#pragma once
// OpenSSL glue for kedge's listeners. Everything here runs at configuration
// time (startup, reload); failures throw TlsSetupError with OpenSSL's reason.
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include <openssl/ssl.h>

namespace kedge::certs {

class TlsSetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SslCtxDeleter { void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); } };
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

// A server context: TLS 1.2 minimum, modern AEAD cipher suites only (TLS 1.2:
// ECDHE + AES-GCM / ChaCha20-Poly1305; TLS 1.3 defaults), no compression, no
// renegotiation, session tickets on. Loads the PEM certificate chain and the
// private key and checks they match. Throws TlsSetupError naming the file.
SslCtxPtr make_server_context(const std::filesystem::path& cert_chain_pem,
                              const std::filesystem::path& private_key_pem);

// Drains OpenSSL's error queue into one human-readable line ("" if empty).
std::string drain_openssl_errors();

}  // namespace kedge::certs
