#pragma once
// kedge's connection to one broker: the one place kedge opens a broker
// connection, for the data path (gateway/connection.h), discovery and
// `kedge check` (through upstream/kafka_client.h).
//
//   connect(candidates)
//     -> resolving   IP literal: no round trip; a name: the loop's ResolveCache, else getaddrinfo
//     -> connecting  one resolved address at a time, each bounded by the connect timeout
//     -> handshaking backend.tls only: verified against the dialled host or tls_server_name
//     -> up          send() / on_link_data(); on_link_down() when the broker ends it
//   A failed attempt (resolution, connect, timeout, TLS setup or handshake)
//   moves on to the next address of the candidate, then to the next
//   candidate; each failure is reported (on_link_attempt_failed) before the
//   next attempt starts, and on_link_down() follows when none is left.
//
// TLS 1.3 (RFC 8446 §4.4.2): our side of the handshake completes before the
// broker has checked our certificate, so a refusal (e.g. "certificate
// required") arrives as an alert afterwards. Until the broker's first
// application data the session counts as not accepted, and an alert then is
// LinkErrc::tls_refused rather than an error of an established session.
//
// Lifetime: close() is idempotent; on_link_closed() runs once every handle
// of the link (sockets of failed attempts included) is closed, never from
// inside close(), and only then may the owner free the Link. After close() no
// other handler call is made. A link closed before connect() opened nothing:
// it reports nothing and may be freed at once.
// Handler calls may close the link re-entrantly; the link checks its state
// after every call. Loop thread only; errors are values, nothing throws.
#include <openssl/ssl.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "io/stream_socket.h"
#include "upstream/resolve.h"
#include "upstream/tls.h"

namespace kedge::upstream {

struct LinkSettings {
  std::uint32_t connect_timeout_ms = 10'000;  // per address: TCP connect and, with TLS, the handshake
  SSL_CTX* tls = nullptr;                     // backend.tls client context (not owned); null: plaintext
  std::string tls_server_name;                // SNI and the verified name; empty: the host dialled
  bool tls_verify = true;
};

// Why an attempt failed or an established link ended.
#define KEDGE_LINK_ERRORS(X)                                                          \
  X(resolve_failed, "cannot resolve")                                                 \
  X(connect_failed, "cannot connect")                                                 \
  X(connect_timeout, "connect timed out")                                             \
  X(tls_setup_failed, "TLS setup failed")                                             \
  X(tls_handshake_failed, "TLS handshake with the broker failed")                     \
  X(tls_refused, "the broker refused the TLS session")                                \
  X(closed, "the broker closed the connection")                                       \
  X(read_failed, "reading from the broker failed")                                    \
  X(write_failed, "writing to the broker failed")                                     \
  X(tls_failed, "TLS error from the broker")

enum class LinkErrc : std::uint8_t {
#define KEDGE_X(name, text) name,
  KEDGE_LINK_ERRORS(KEDGE_X)
#undef KEDGE_X
};
std::string_view describe(LinkErrc code);
// Failures of the TLS layer (backend.tls): counted as TLS failures, not connect failures.
constexpr bool is_tls_failure(LinkErrc code) {
  return code == LinkErrc::tls_setup_failed || code == LinkErrc::tls_handshake_failed ||
         code == LinkErrc::tls_refused;
}

struct LinkError {
  LinkErrc code = LinkErrc::connect_failed;
  std::string detail;  // libuv's or OpenSSL's reason, e.g. "connection refused (127.0.0.1:9092)"
  std::string text() const;  // "cannot connect: connection refused (127.0.0.1:9092)"
};

class Link final : private io::StreamSocket::Handler {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // An attempt to reach `target` failed; the next address or candidate is
    // tried after this returns, if any is left. `cached`: the address came
    // from the ResolveCache (and has been forgotten).
    virtual void on_link_attempt_failed(const HostPort& target, const LinkError& error, bool cached);
    // Connected (and TLS verified): send() may be called.
    virtual void on_link_up() = 0;
    // Bytes from the broker (decrypted); valid only during the call.
    virtual void on_link_data(const char* data, std::size_t len) = 0;
    // No candidate could be reached (the last attempt's error), or the
    // established link ended. Nothing more is read; the owner closes the link.
    virtual void on_link_down(const LinkError& error) = 0;
    // queued_bytes() went down.
    virtual void on_link_write_progress();
    // Every handle is closed: the owner may free the Link now.
    virtual void on_link_closed() = 0;
  };

  // `cache` (may be null) holds resolved broker addresses for the loop.
  Link(uv_loop_t* loop, io::LoopScratch& scratch, ResolveCache* cache, Handler& handler);
  ~Link() override;
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Tries candidates[first], candidates[first + 1], ... (wrapping) once each.
  void connect(std::vector<HostPort> candidates, std::size_t first, const LinkSettings& settings);
  // Plaintext to the broker (encrypted with backend.tls). Only while up().
  // False when the bytes could not be handed to the socket; the link then
  // reports nothing more on its own, and the owner closes it.
  bool send(const std::uint8_t* data, std::size_t len);
  // The same for two pieces in order, in one socket write (or one TLS flush).
  bool send(const std::uint8_t* data, std::size_t len, const std::uint8_t* more, std::size_t more_len);
  // The same for any number of pieces in order.
  bool send(std::span<const uv_buf_t> pieces);
  // Queues a TLS close_notify (best effort; nothing for a plaintext link).
  void shutdown();
  void close();

  void pause(io::PauseReason reason);
  void resume(io::PauseReason reason);
  bool paused(io::PauseReason reason) const { return socket_ && socket_->paused(reason); }
  std::size_t queued_bytes() const;

  bool up() const { return state_ == State::up; }
  bool tls() const { return settings_.tls != nullptr; }
  // The candidate being (or last) dialled.
  const HostPort& target() const { return target_; }
  // "TLSv1.3 TLS_AES_128_GCM_SHA256" while up over TLS, else "".
  std::string describe_tls() const;
  // uv_hrtime() when the attempt that came up started its TCP connect.
  std::uint64_t attempt_started_ns() const { return attempt_started_ns_; }

 private:
  enum class State : std::uint8_t { idle, resolving, connecting, handshaking, up, down, closing, closed };

  void next_candidate();
  void connect_address();
  void attempt_failed(LinkErrc code, std::string detail);
  void go_up();
  void go_down(LinkErrc code, std::string detail);
  void on_bytes(const char* data, std::size_t len);
  void flush_tls();
  void stop_timer();
  void maybe_closed();

  // io::StreamSocket::Handler
  void on_socket_connected(io::StreamSocket& socket, int status) override;
  void on_socket_read(io::StreamSocket& socket, const char* data, std::size_t len) override;
  void on_socket_read_end(io::StreamSocket& socket, int status) override;
  void on_socket_write_failed(io::StreamSocket& socket, int status) override;
  void on_socket_write_progress(io::StreamSocket& socket) override;
  void on_socket_closed(io::StreamSocket& socket) override;

  uv_loop_t* loop_;
  io::LoopScratch& scratch_;
  ResolveCache* cache_;
  Handler& handler_;
  LinkSettings settings_;
  State state_ = State::idle;

  std::vector<HostPort> candidates_;
  std::size_t next_candidate_ = 0;  // index into candidates_ of the next to try
  std::size_t candidates_left_ = 0;
  HostPort target_;
  std::vector<sockaddr_storage> addresses_;  // of target_, tried in order
  std::size_t next_address_ = 0;
  bool address_cached_ = false;
  std::uint64_t attempt_started_ns_ = 0;

  std::unique_ptr<io::StreamSocket> socket_;                 // the current attempt / the link
  std::vector<std::unique_ptr<io::StreamSocket>> retiring_;  // failed attempts, until their close callback
  std::unique_ptr<UpstreamTls> tls_;
  bool tls_accepted_ = false;  // the broker sent application data over TLS

  uv_timer_t timer_{};
  bool timer_open_ = false;
  std::uint64_t resolutions_ = 0;  // getaddrinfo calls started; an answer must match the latest
  // Pending getaddrinfo callbacks hold a weak reference: a link freed before
  // its resolution ends is not called back. Made for the first name resolved
  // (IP literals and cached names need none).
  std::shared_ptr<Link*> self_;
};

}  // namespace kedge::upstream
