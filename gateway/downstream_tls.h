#pragma once
// The TLS server side of one client connection, over the ciphertext BIO
// (tls_bio.h): OpenSSL reads each socket read where it lies, and only what it
// leaves unread (the ClientHello while the broker is being connected, a record
// split across reads) is copied and held. The records OpenSSL writes are
// gathered in the loop's RecordGather and leave in one write per burst
// (flush(), called at the end of every step that can make OpenSSL write).
//
// No libuv here; the owner moves the bytes (CiphertextSink). Loop thread only.
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/tls_bio.h"

namespace kedge {

// Where a connection's encrypted records go: its socket. send() takes
// `first` then `second` (one writev) and must take all of them (queue what
// the socket does not accept); on a socket error the owner closes the
// connection, and later sends are dropped.
class CiphertextSink {
 public:
  virtual ~CiphertextSink() = default;
  virtual void send_ciphertext(const char* first, std::size_t first_len, const char* second,
                               std::size_t second_len) = 0;
};

class DownstreamTls;
class ClientCertificateCheck;

// TLS records gathered for one connection of the loop at a time: another
// connection's records are sent before this one's are added.
struct RecordGather {
  static constexpr std::size_t kSize = 64 * 1024;
  std::unique_ptr<char[]> bytes{new char[kSize]};
  std::size_t len = 0;
  DownstreamTls* owner = nullptr;
};

// A TLS alert's RFC 8446 §6 name ("access_denied", "certificate_required"),
// else OpenSSL's long description; for log lines.
std::string tls_alert_name(int alert);

class DownstreamTls final : private CiphertextPeer {
 public:
  enum class Step { done, want_more, failed };
  enum class Read { data, want_more, closed, failed };

  DownstreamTls(RecordGather& gather, CiphertextSink& sink) : gather_(gather), sink_(sink) {}
  ~DownstreamTls() override;
  DownstreamTls(const DownstreamTls&) = delete;
  DownstreamTls& operator=(const DownstreamTls&) = delete;

  // Starts the server side with `ctx`; `received` (the ClientHello and
  // whatever followed it) is what OpenSSL reads first. With `client_check`
  // (mTLS; owned by the caller, outliving this object) the session asks for
  // and verifies the client's certificate, and handshake() is done only once
  // the check accepted it (or found none where none is required); a refusal
  // fails the handshake with the check's alert (gateway/client_certificate.h).
  // False + `error` when OpenSSL cannot allocate or set up the session.
  bool start(SSL_CTX* ctx, std::vector<std::uint8_t> received, std::string& error,
             ClientCertificateCheck* client_check = nullptr);
  bool started() const { return ssl_ != nullptr; }
  // After start(): the session may select ALPN http/1.1 (certs::allow_http_alpn).
  void allow_http_alpn();

  // One socket read: run `step` (handshake() and/or read()) with OpenSSL
  // reading `data` in place; what it leaves unread is held for later.
  template <typename F>
  void receive(const char* data, std::size_t len, F&& step) {
    input_ = data;
    input_len_ = len;
    step();
    hold_unread();
  }
  // Holds `data` unread (the session waits: the broker is being connected).
  void hold(const char* data, std::size_t len) { receive(data, len, [] {}); }

  // Advances the handshake. On failure `error` holds OpenSSL's reason and the
  // alert, if any, is gathered (flush() sends it).
  Step handshake(std::string& error);
  // The first error OpenSSL queued for the failed handshake (for counters).
  unsigned long failure_code() const { return failure_code_; }
  // The last alert this side sent (SSL_AD_*), -1 if none; recorded only for
  // sessions with a client certificate check. What a refused client was told.
  int sent_alert() const { return sent_alert_; }
  // Decrypts into `buffer`; `n` is set for Read::data.
  Read read(char* buffer, std::size_t capacity, std::size_t& n, std::string& error);
  // Encrypts (records go to the gather buffer / the sink). False on an OpenSSL error.
  bool write(const std::uint8_t* data, std::size_t len);
  // Sends what is gathered for this connection.
  void flush();
  // Queues close_notify (best effort) and sends it.
  void shutdown();
  // Drops what is gathered for this connection (its socket is gone).
  void discard();
  std::string describe() const;  // "TLSv1.3 TLS_AES_128_GCM_SHA256"

 private:
  // CiphertextPeer
  std::size_t read_ciphertext(char* out, std::size_t capacity) override;
  void write_ciphertext(const char* data, std::size_t len) override;
  void hold_unread();
  // Ends an established TLS 1.3 session with `alert` through an on-demand
  // NewSessionTicket (certs::refuse_at_next_ticket). False for TLS 1.2, which
  // has no way to send it after the handshake.
  bool refuse_established(int alert);
  static void on_info(const SSL* ssl, int where, int ret);

  RecordGather& gather_;
  CiphertextSink& sink_;
  SSL* ssl_ = nullptr;  // owns its BIO (new_ciphertext_bio, bound to this object)
  std::vector<std::uint8_t> held_;  // ciphertext OpenSSL has not read yet
  std::size_t held_read_ = 0;
  const char* input_ = nullptr;  // the socket read being handed to OpenSSL (inside receive() only)
  std::size_t input_len_ = 0;
  unsigned long failure_code_ = 0;
  ClientCertificateCheck* client_check_ = nullptr;
  int sent_alert_ = -1;
};

}  // namespace kedge
