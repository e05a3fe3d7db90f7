#pragma once
// kedge as a Kafka client of its backend on ONE broker connection: the I/O
// half (upstream::Link: resolve, connect, the next address and candidate,
// backend TLS) carrying the protocol half (KafkaSession: ApiVersions with its
// error-35 fallback, optional SASL, framed requests with correlation ids), on
// a libuv loop. Discovery and `kedge check` talk to brokers through it; the
// data path uses the Link alone (it forwards its client's own requests).
//
//   connect() ─▶ connecting   Link: every address of every candidate in turn
//             ─▶ handshaking  ApiVersions (+ SaslHandshake, SaslAuthenticate)
//             ─▶ ready        on_ready(); request() any number of times, one
//                             callback per response, in request order
//   any state ─▶ failed       on_failed(error) once; then only on_closed() follows close()
//   close()   ─▶ closing ─▶ on_closed(): the owner may free the client now
//
// Deadline: connect() takes `deadline_ms` for the whole exchange. A client
// its owner has not closed by then fails with a ClientTimeout naming what it
// was waiting for (0: no deadline; the Link's per-address connect timeout
// still bounds each attempt).
//
// Lifetime (the Link's contract, link.h): close() is idempotent and reports
// on_closed() later, never from inside close(); only then may the owner free
// the client, and no callback runs after close(). A client closed before
// connect() opened nothing: it reports nothing and may be freed at once. An
// owner that must go before that hands the client to dispose(), which frees
// it once closed. Callbacks may call close() or dispose() re-entrantly.
// Loop thread only; errors are values, nothing throws.
#include <openssl/ssl.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "certs/tls_context.h"
#include "config/config.h"
#include "io/stream_socket.h"
#include "kafka_codec/api.h"
#include "upstream/kafka_session.h"
#include "upstream/link.h"
#include "upstream/resolve.h"

namespace kedge::upstream {

// The deadline of connect() passed before the owner closed the client.
struct ClientTimeout {
  std::uint32_t deadline_ms = 0;
};

// Why a KafkaClient failed, keeping the layer the cause came from: the
// connection (LinkError: resolution, connect, TLS, reading or writing), the
// Kafka session (SessionError: a refusal such as SASL, a malformed or
// oversized response, the broker closing with something unanswered), or the
// deadline.
struct KafkaClientError {
  std::variant<LinkError, SessionError, ClientTimeout> cause;
  // What the client was waiting for when it failed, once the connection was
  // up or for a timeout: "waiting for the ApiVersions response",
  // "connecting to 10.0.0.5:9092"; empty for a connection that never came up.
  std::string waiting_for;

  const LinkError* link() const { return std::get_if<LinkError>(&cause); }
  const SessionError* session() const { return std::get_if<SessionError>(&cause); }
  const ClientTimeout* timeout() const { return std::get_if<ClientTimeout>(&cause); }
  // Operator-facing text naming the real cause, e.g.
  //   "TLS handshake with the broker failed: certificate verify failed: ..."
  //   "SASL authentication failed: Invalid username or password"
  //   "the broker answered ApiVersions, then closed the connection without answering Metadata v2 (...)"
  //   "no answer within 10000 ms (waiting for the ApiVersions response)"
  std::string text() const;
};

// The link settings of kedge's own connections to a cluster's backend: a
// connect timeout per address and backend.tls (`tls`: its client context, null
// for plaintext; verified against the host dialled or backend.tls.server_name).
LinkSettings backend_link_settings(const BackendConfig& backend, SSL_CTX* tls, std::uint32_t connect_timeout_ms);

class KafkaClient final : private Link::Handler {
 public:
  // Each may be empty. They run on the loop thread, never inside the call
  // (connect(), request(), close()) that caused them.
  struct Callbacks {
    std::function<void()> on_ready;                              // request() may be called now
    std::function<void(const KafkaClientError&)> on_failed;      // once; the owner closes the client
    std::function<void(const HostPort&, const LinkError&)> on_attempt_failed;  // before the next candidate
    std::function<void()> on_closed;                             // the owner may free the client
  };
  // The response is the callee's to take apart (its frame may be moved out).
  using ResponseCallback = std::function<void(KafkaSession::Response&)>;
  enum class State : std::uint8_t { idle, connecting, handshaking, ready, failed, closing, closed };

  // `scratch` and `cache` (may be null) are the loop's and outlive the client.
  KafkaClient(uv_loop_t* loop, io::LoopScratch& scratch, ResolveCache* cache, Callbacks callbacks);
  ~KafkaClient() override;  // only once closed (on_closed ran), or never connected
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;

  // Starts connecting to candidates[first], then the next ones (Link::connect).
  // `link.tls`, when set, gets a reference of the client's own (SSL_CTX_up_ref)
  // held until the client is freed: the caller may drop its reference at once.
  // Once only; an empty candidate list fails (on the next loop turn).
  void connect(std::vector<HostPort> candidates, std::size_t first, const LinkSettings& link,
               KafkaSessionOptions session, std::uint32_t deadline_ms);

  // Ready only: sends `api` at the highest version in [our_min_version,
  // our_max_version] the broker supports, the body from `encode(version)`;
  // `on_response` gets the whole response (its request.api_version says how to
  // read the body). Returns the error when nothing was sent: not ready, failed,
  // or no version in common (the client stays usable).
  std::optional<KafkaClientError> request(kafka::ApiKey api, std::int16_t our_max_version,
                                          const KafkaSession::BodyEncoder& encode, ResponseCallback on_response,
                                          std::int16_t our_min_version = 0);

  void close();
  // Closes `client` (if not yet) and frees it once closed, with no callback
  // to its former owner (style practice 14: the owner may go first).
  static void dispose(std::unique_ptr<KafkaClient> client);

  State state() const { return state_; }
  bool ready() const { return state_ == State::ready; }
  // The candidate being (or last) dialled; the broker once connected.
  const HostPort& broker() const { return link_.target(); }
  // After connect(): the ApiVersions ranges, the chosen SaslAuthenticate version, ...
  const KafkaSession& session() const { return *session_; }
  // "TLSv1.3 TLS_AES_128_GCM_SHA256" while connected over TLS, else "".
  std::string describe_tls() const { return link_.describe_tls(); }

 private:
  // Link::Handler
  void on_link_attempt_failed(const HostPort& target, const LinkError& error, bool cached) override;
  void on_link_up() override;
  void on_link_data(const char* data, std::size_t len) override;
  void on_link_down(const LinkError& error) override;
  void on_link_closed() override;

  void on_timer();
  bool send(const std::vector<std::uint8_t>& bytes);
  void fail(std::variant<LinkError, SessionError, ClientTimeout> cause, bool name_what_was_pending);
  std::string waiting_for() const;
  bool closing() const { return state_ == State::closing || state_ == State::closed; }
  void maybe_closed();

  uv_loop_t* loop_;
  Callbacks callbacks_;
  Link link_;
  State state_ = State::idle;
  std::optional<KafkaSession> session_;
  certs::SslCtxPtr tls_;  // our reference on LinkSettings::tls
  std::uint32_t deadline_ms_ = 0;
  // What connect() was given, for the first loop turn (the Link starts there,
  // so no callback runs inside connect()).
  std::vector<HostPort> candidates_;
  std::size_t first_ = 0;
  LinkSettings settings_;
  bool started_ = false;
  struct Pending {
    kafka::RequestInfo request;
    ResponseCallback on_response;
  };
  std::deque<Pending> pending_;  // request order, as the broker answers
  // One timer: the first loop turn, then the deadline; restarted at 0 to
  // report a failure found inside request() on the next turn.
  uv_timer_t timer_{};
  bool timer_open_ = false;
  std::optional<LinkError> deferred_failure_;
  bool link_open_ = false;  // the link was handed candidates: it reports its close
  bool disposed_ = false;   // dispose(): frees itself once closed
};

}  // namespace kedge::upstream
