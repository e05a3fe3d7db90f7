#include "gateway/downstream_tls.h"

#include <openssl/err.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "certs/tls_context.h"
#include "gateway/client_certificate.h"

namespace kedge {

DownstreamTls::~DownstreamTls() {
  if (gather_.owner == this) discard();
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees the ciphertext BIO
}

namespace {

int session_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

std::string tls_alert_name(int alert) {
  switch (alert) {
    case SSL_AD_CLOSE_NOTIFY: return "close_notify";
    case SSL_AD_UNEXPECTED_MESSAGE: return "unexpected_message";
    case SSL_AD_HANDSHAKE_FAILURE: return "handshake_failure";
    case SSL_AD_BAD_CERTIFICATE: return "bad_certificate";
    case SSL_AD_UNSUPPORTED_CERTIFICATE: return "unsupported_certificate";
    case SSL_AD_CERTIFICATE_REVOKED: return "certificate_revoked";
    case SSL_AD_CERTIFICATE_EXPIRED: return "certificate_expired";
    case SSL_AD_CERTIFICATE_UNKNOWN: return "certificate_unknown";
    case SSL_AD_UNKNOWN_CA: return "unknown_ca";
    case SSL_AD_ACCESS_DENIED: return "access_denied";
    case SSL_AD_DECODE_ERROR: return "decode_error";
    case SSL_AD_DECRYPT_ERROR: return "decrypt_error";
    case SSL_AD_PROTOCOL_VERSION: return "protocol_version";
    case SSL_AD_INTERNAL_ERROR: return "internal_error";
    case SSL_AD_UNRECOGNIZED_NAME: return "unrecognized_name";
    case SSL_AD_CERTIFICATE_REQUIRED: return "certificate_required";
    default: return SSL_alert_desc_string_long(alert);
  }
}

bool DownstreamTls::start(SSL_CTX* ctx, std::vector<std::uint8_t> received, std::string& error,
                          ClientCertificateCheck* client_check) {
  ssl_ = SSL_new(ctx);
  BIO* bio = ssl_ != nullptr ? new_ciphertext_bio(*this) : nullptr;
  if (bio == nullptr) {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    error = "cannot allocate TLS state: " + certs::drain_openssl_errors();
    return false;
  }
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways: SSL_set_bio takes its single reference
  SSL_set_accept_state(ssl_);
  if (client_check != nullptr) {
    if (session_index() < 0 || SSL_set_ex_data(ssl_, session_index(), this) != 1 ||
        !client_check->install(ssl_, error)) {
      if (error.empty()) error = "cannot set up the TLS session: " + certs::drain_openssl_errors();
      SSL_free(ssl_);
      ssl_ = nullptr;
      return false;
    }
    SSL_set_info_callback(ssl_, on_info);
    client_check_ = client_check;
  }
  held_ = std::move(received);
  held_read_ = 0;
  return true;
}

void DownstreamTls::allow_http_alpn() {
  if (ssl_ != nullptr) certs::allow_http_alpn(ssl_);
}

// Serves the held bytes first (the ClientHello, or what arrived while the
// broker was being connected), then the socket read in progress.
std::size_t DownstreamTls::read_ciphertext(char* out, std::size_t capacity) {
  std::size_t n = 0;
  if (held_read_ < held_.size()) {
    n = std::min(capacity, held_.size() - held_read_);
    std::memcpy(out, held_.data() + held_read_, n);
    held_read_ += n;
    if (held_read_ == held_.size()) {
      std::vector<std::uint8_t>().swap(held_);  // an established connection holds no buffer
      held_read_ = 0;
    }
  }
  if (n < capacity && input_len_ > 0) {
    const std::size_t take = std::min(capacity - n, input_len_);
    std::memcpy(out + n, input_, take);
    input_ += take;
    input_len_ -= take;
    n += take;
  }
  return n;
}

void DownstreamTls::hold_unread() {
  if (input_len_ > 0) held_.insert(held_.end(), input_, input_ + input_len_);
  input_ = nullptr;
  input_len_ = 0;
}

// A record that does not fit the gather buffer goes out at once, together
// with what is gathered (one writev), so nothing is copied twice.
void DownstreamTls::write_ciphertext(const char* data, std::size_t len) {
  if (gather_.owner != this && gather_.owner != nullptr) gather_.owner->flush();
  gather_.owner = this;
  if (gather_.len + len <= RecordGather::kSize) {
    std::memcpy(gather_.bytes.get() + gather_.len, data, len);
    gather_.len += len;
    return;
  }
  const std::size_t gathered = gather_.len;
  gather_.len = 0;
  gather_.owner = nullptr;
  sink_.send_ciphertext(gather_.bytes.get(), gathered, data, len);
}

void DownstreamTls::flush() {
  if (gather_.owner != this) return;
  const std::size_t gathered = gather_.len;
  gather_.len = 0;
  gather_.owner = nullptr;
  sink_.send_ciphertext(gather_.bytes.get(), gathered, nullptr, 0);
}

void DownstreamTls::discard() {
  if (gather_.owner != this) return;
  gather_.len = 0;
  gather_.owner = nullptr;
}

DownstreamTls::Step DownstreamTls::handshake(std::string& error) {
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    if (client_check_ == nullptr ||
        client_check_->handshake_done(ssl_).state != ClientCertificateOutcome::State::refused) {
      return Step::done;
    }
    // OpenSSL completed a session kedge refuses (client_certificate.h): no
    // application data has been read from it.
    error = client_check_->outcome().detail;
    failure_code_ = 0;
    refuse_established(client_check_->refusal_alert());
    return Step::failed;
  }
  if (SSL_get_error(ssl_, rc) == SSL_ERROR_WANT_READ) return Step::want_more;
  failure_code_ = ERR_peek_error();
  error = certs::drain_openssl_errors();
  if (client_check_ != nullptr) client_check_->handshake_failed(failure_code_);
  return Step::failed;
}

bool DownstreamTls::refuse_established(int alert) {
  if (SSL_version(ssl_) != TLS1_3_VERSION) return false;
  certs::refuse_at_next_ticket(ssl_, alert);
  const bool sent = SSL_new_session_ticket(ssl_) == 1 && SSL_do_handshake(ssl_) != 1;
  ERR_clear_error();  // the ticket's construction failed on purpose
  return sent;
}

void DownstreamTls::on_info(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_WRITE_ALERT) != SSL_CB_WRITE_ALERT) return;
  if (auto* self = static_cast<DownstreamTls*>(SSL_get_ex_data(ssl, session_index()))) {
    self->sent_alert_ = ret & 0xff;  // (level << 8) | description
  }
}

DownstreamTls::Read DownstreamTls::read(char* buffer, std::size_t capacity, std::size_t& n, std::string& error) {
  const int rc = SSL_read(ssl_, buffer, static_cast<int>(std::min<std::size_t>(capacity, INT_MAX)));
  if (rc > 0) {
    n = static_cast<std::size_t>(rc);
    return Read::data;
  }
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ) return Read::want_more;
  if (err == SSL_ERROR_ZERO_RETURN) return Read::closed;  // close_notify from the client
  error = certs::drain_openssl_errors();
  return Read::failed;
}

// write_ciphertext takes every record, so SSL_write either takes everything or fails.
bool DownstreamTls::write(const std::uint8_t* data, std::size_t len) {
  return len == 0 || SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(len, INT_MAX))) > 0;
}

void DownstreamTls::shutdown() {
  if (ssl_ == nullptr) return;
  SSL_shutdown(ssl_);  // best-effort close_notify
  ERR_clear_error();
  flush();
}

std::string DownstreamTls::describe() const {
  if (ssl_ == nullptr) return "-";
  return std::string(SSL_get_version(ssl_)) + " " + SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_));
}

}  // namespace kedge
