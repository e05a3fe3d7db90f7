#pragma once
// The client side of TLS toward a broker, over memory BIOs (the same shape as
// the client-facing side in connection.cpp, style practice 15): the caller
// owns the socket, feeds ciphertext in, and drains ciphertext out. Used by the
// one broker link (link.h), so the data path, discovery and `kedge check`
// speak the same upstream TLS.
//
// No libuv here and no callbacks: every call returns a value and leaves the
// caller to move bytes; nothing throws.
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "certs/tls_context.h"

namespace kedge {

// A reference of the caller's own on `ctx` (SSL_CTX_up_ref), released when the
// pointer goes; null for null. For holders that may outlive the snapshot that
// built the context (discovery across reloads, a client being closed).
certs::SslCtxPtr share_context(SSL_CTX* ctx);

class UpstreamTls {
 public:
  enum class Step { done, want_more, failed };
  enum class ReadResult { data, want_more, closed, failed };

  UpstreamTls() = default;
  ~UpstreamTls();
  UpstreamTls(const UpstreamTls&) = delete;
  UpstreamTls& operator=(const UpstreamTls&) = delete;

  // Starts a client handshake with `ctx` (not owned; outlives this object).
  // `name` is the broker host (or backend.tls.server_name): SNI and, with
  // `verify`, the name the certificate must carry. False + `error` on failure.
  bool start(SSL_CTX* ctx, const std::string& name, bool verify, std::string& error);
  // Ciphertext received from the broker.
  bool feed(const char* data, std::size_t len);
  // Advances the handshake. On failure `error` holds OpenSSL's reason and, when
  // the certificate was rejected, the verification result
  // ("certificate verify failed: Hostname mismatch").
  Step handshake(std::string& error);
  bool handshake_done() const { return done_; }
  // Encrypts plaintext for the broker (memory BIOs grow, so all or nothing).
  bool write(const std::uint8_t* data, std::size_t len);
  // Decrypts into `buffer`; `n` is set for ReadResult::data.
  ReadResult read(char* buffer, std::size_t capacity, std::size_t& n, std::string& error);
  // Ciphertext waiting to be sent to the broker; take() moves up to `capacity` of it.
  std::size_t pending() const;
  std::size_t take(char* buffer, std::size_t capacity);
  // Queues close_notify (best effort).
  void shutdown();
  std::string describe() const;  // "TLSv1.3 TLS_AES_128_GCM_SHA256"

 private:
  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // ciphertext from the broker, read by OpenSSL
  BIO* out_ = nullptr;  // ciphertext OpenSSL produced for the broker
  bool done_ = false;
};

}  // namespace kedge
