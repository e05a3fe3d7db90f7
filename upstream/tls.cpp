#include "upstream/tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <climits>

#include "certs/tls_context.h"

namespace kedge {

certs::SslCtxPtr share_context(SSL_CTX* ctx) {
  if (ctx != nullptr) SSL_CTX_up_ref(ctx);
  return certs::SslCtxPtr(ctx);
}

UpstreamTls::~UpstreamTls() {
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees both BIOs
}

bool UpstreamTls::start(SSL_CTX* ctx, const std::string& name, bool verify, std::string& error) {
  ERR_clear_error();
  ssl_ = SSL_new(ctx);
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
    if (ssl_ == nullptr) {
      BIO_free(in_);
      BIO_free(out_);
    } else {
      SSL_free(ssl_);
      ssl_ = nullptr;
      BIO_free(in_);  // not yet attached
      BIO_free(out_);
    }
    in_ = out_ = nullptr;
    error = "cannot allocate TLS state: " + certs::drain_openssl_errors();
    return false;
  }
  BIO_set_mem_eof_return(in_, -1);  // empty input means "wait", not EOF
  SSL_set_bio(ssl_, in_, out_);
  SSL_set_connect_state(ssl_);
  return certs::configure_client_session(ssl_, name, verify, error);
}

bool UpstreamTls::feed(const char* data, std::size_t len) {
  if (len > INT_MAX) return false;
  return BIO_write(in_, data, static_cast<int>(len)) == static_cast<int>(len);
}

UpstreamTls::Step UpstreamTls::handshake(std::string& error) {
  if (done_) return Step::done;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    done_ = true;
    return Step::done;
  }
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Step::want_more;
  error = certs::drain_openssl_errors();
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    error += (error.empty() ? "" : ": ");
    error += X509_verify_cert_error_string(verify);
  }
  if (error.empty()) error = "handshake failed (SSL error " + std::to_string(err) + ")";
  return Step::failed;
}

bool UpstreamTls::write(const std::uint8_t* data, std::size_t len) {
  if (len == 0) return true;
  if (len > INT_MAX) return false;
  return SSL_write(ssl_, data, static_cast<int>(len)) == static_cast<int>(len);
}

UpstreamTls::ReadResult UpstreamTls::read(char* buffer, std::size_t capacity, std::size_t& n, std::string& error) {
  const int rc = SSL_read(ssl_, buffer, static_cast<int>(capacity > INT_MAX ? INT_MAX : capacity));
  if (rc > 0) {
    n = static_cast<std::size_t>(rc);
    return ReadResult::data;
  }
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return ReadResult::want_more;
  if (err == SSL_ERROR_ZERO_RETURN) return ReadResult::closed;
  error = certs::drain_openssl_errors();
  return ReadResult::failed;
}

std::size_t UpstreamTls::pending() const { return out_ == nullptr ? 0 : BIO_ctrl_pending(out_); }

std::size_t UpstreamTls::take(char* buffer, std::size_t capacity) {
  const int n = BIO_read(out_, buffer, static_cast<int>(capacity > INT_MAX ? INT_MAX : capacity));
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

void UpstreamTls::shutdown() {
  if (ssl_ != nullptr && done_) SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string UpstreamTls::describe() const {
  if (ssl_ == nullptr) return "-";
  return std::string(SSL_get_version(ssl_)) + " " + SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_));
}

}  // namespace kedge
