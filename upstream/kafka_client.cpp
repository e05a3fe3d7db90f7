#include "upstream/kafka_client.h"

#include <utility>

#include <fmt/format.h>

#include "upstream/tls.h"

namespace kedge::upstream {

namespace {

std::string api_label(std::int16_t api_key) {
  const std::string_view name = kafka::api_name(api_key);
  return name.empty() ? fmt::format("API {}", api_key) : std::string(name);
}

}  // namespace

std::string KafkaClientError::text() const {
  if (const LinkError* error = link()) {
    return waiting_for.empty() ? error->text() : fmt::format("{} ({})", error->text(), waiting_for);
  }
  if (const SessionError* error = session()) return error->message;
  return fmt::format("no answer within {} ms ({})", timeout()->deadline_ms,
                     waiting_for.empty() ? std::string("the exchange did not finish") : waiting_for);
}

LinkSettings backend_link_settings(const BackendConfig& backend, SSL_CTX* tls, std::uint32_t connect_timeout_ms) {
  LinkSettings link;
  link.connect_timeout_ms = connect_timeout_ms;
  link.tls = tls;
  if (backend.tls) {
    link.tls_server_name = backend.tls->server_name.value_or("");
    link.tls_verify = backend.tls->verify;
  }
  return link;
}

KafkaClient::KafkaClient(uv_loop_t* loop, io::LoopScratch& scratch, ResolveCache* cache, Callbacks callbacks)
    : loop_(loop), callbacks_(std::move(callbacks)), link_(loop, scratch, cache, *this) {}

KafkaClient::~KafkaClient() = default;

void KafkaClient::connect(std::vector<HostPort> candidates, std::size_t first, const LinkSettings& link,
                          KafkaSessionOptions session, std::uint32_t deadline_ms) {
  if (state_ != State::idle) return;
  state_ = State::connecting;
  session_.emplace(std::move(session));
  candidates_ = std::move(candidates);
  first_ = first;
  settings_ = link;
  tls_ = share_context(settings_.tls);
  deadline_ms_ = deadline_ms;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  timer_open_ = true;
  // The link starts on the next loop turn (style practice 13): a connect that
  // fails synchronously reports through the callbacks, never inside this call.
  uv_timer_start(&timer_, [](uv_timer_t* timer) { static_cast<KafkaClient*>(timer->data)->on_timer(); }, 0, 0);
}

void KafkaClient::on_timer() {
  if (closing() || state_ == State::failed) return;
  if (!started_) {
    started_ = true;
    if (candidates_.empty()) {
      fail(LinkError{LinkErrc::connect_failed, "no broker address to connect to"}, false);
      return;
    }
    if (deadline_ms_ > 0) {
      uv_timer_start(&timer_, [](uv_timer_t* timer) { static_cast<KafkaClient*>(timer->data)->on_timer(); },
                     deadline_ms_, 0);
    }
    link_open_ = true;
    link_.connect(std::move(candidates_), first_, settings_);
    return;
  }
  if (deferred_failure_) {
    LinkError error = std::move(*deferred_failure_);
    deferred_failure_.reset();
    fail(std::move(error), true);
    return;
  }
  fail(ClientTimeout{deadline_ms_}, true);
}

std::optional<KafkaClientError> KafkaClient::request(kafka::ApiKey api, std::int16_t our_max_version,
                                                     const KafkaSession::BodyEncoder& encode,
                                                     ResponseCallback on_response, std::int16_t our_min_version) {
  if (state_ != State::ready) {
    const std::string why = closing() ? "the client is closed"
                            : state_ == State::failed
                                ? "the client failed"
                                : fmt::format("{} requested before the connection is ready", api_label(kafka::key_of(api)));
    if (state_ == State::failed && session_ && session_->error()) return KafkaClientError{*session_->error(), {}};
    return KafkaClientError{SessionError{SessionFailure::not_ready, why}, {}};
  }
  KafkaSession::Sent sent = session_->request(api, our_max_version, encode, our_min_version);
  if (!sent) return KafkaClientError{std::move(*sent.error), {}};
  pending_.push_back({{kafka::key_of(api), sent.api_version, sent.correlation_id}, std::move(on_response)});
  if (!link_.send(sent.bytes.data(), sent.bytes.size()) && !deferred_failure_) {
    // Reported on the next loop turn, like any other write failure.
    deferred_failure_ = LinkError{LinkErrc::write_failed, "the socket did not take the request"};
    uv_timer_start(&timer_, [](uv_timer_t* timer) { static_cast<KafkaClient*>(timer->data)->on_timer(); }, 0, 0);
  }
  return std::nullopt;
}

bool KafkaClient::send(const std::vector<std::uint8_t>& bytes) {
  if (bytes.empty()) return true;
  if (link_.send(bytes.data(), bytes.size())) return true;
  fail(LinkError{LinkErrc::write_failed, "the socket did not take the request"}, true);
  return false;
}

void KafkaClient::on_link_attempt_failed(const HostPort& target, const LinkError& error, bool) {
  if (closing() || !callbacks_.on_attempt_failed) return;
  const auto report = callbacks_.on_attempt_failed;  // a copy: the callback may dispose of the client
  report(target, error);
}

void KafkaClient::on_link_up() {
  if (state_ != State::connecting) return;
  state_ = State::handshaking;
  send(session_->start());
}

void KafkaClient::on_link_data(const char* data, std::size_t len) {
  if (state_ != State::handshaking && state_ != State::ready) return;
  KafkaSession::FeedResult result =
      session_->feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data), len));
  if (!send(result.outbound)) return;
  for (KafkaSession::Response& response : result.responses) {
    // The session matched the response to its oldest request, which is ours.
    if (pending_.empty() || pending_.front().request.correlation_id != response.request.correlation_id) {
      fail(SessionError{SessionFailure::correlation_mismatch,
                        fmt::format("a response to correlation id {} that kedge's client did not send",
                                    response.request.correlation_id)},
           false);
      return;
    }
    Pending answered = std::move(pending_.front());
    pending_.pop_front();
    if (answered.on_response) answered.on_response(response);
    if (state_ != State::ready) return;  // closed (or disposed of) by the callback
  }
  if (result.became_ready && state_ == State::handshaking) {
    state_ = State::ready;
    if (callbacks_.on_ready) {
      const auto ready = callbacks_.on_ready;
      ready();
    }
  }
  if (result.error) fail(*result.error, false);
}

void KafkaClient::on_link_down(const LinkError& error) {
  if (state_ == State::failed || closing()) return;
  if (state_ == State::connecting) {
    fail(error, false);  // the Link's error names the attempt that failed last
    return;
  }
  if (error.code == LinkErrc::closed) {
    // What the close interrupted, as the session knows it: the handshake, a
    // response mid-frame, requests unanswered.
    if (std::optional<SessionError> interrupted = session_->on_eof()) {
      fail(std::move(*interrupted), false);
      return;
    }
  }
  fail(error, true);
}

void KafkaClient::fail(std::variant<LinkError, SessionError, ClientTimeout> cause, bool name_what_was_pending) {
  if (state_ == State::failed || closing()) return;
  KafkaClientError error{std::move(cause), name_what_was_pending ? waiting_for() : std::string()};
  state_ = State::failed;
  pending_.clear();
  if (timer_open_) uv_timer_stop(&timer_);
  if (callbacks_.on_failed) {
    const auto report = callbacks_.on_failed;
    report(error);
  }
}

std::string KafkaClient::waiting_for() const {
  switch (state_) {
    case State::connecting:
      return "connecting to " + link_.target().to_string();
    case State::handshaking:
      if (const auto oldest = session_->oldest_in_flight()) {
        return fmt::format("waiting for the {} response", api_label(oldest->api_key));
      }
      return "waiting for the broker's first response";
    case State::ready:
      if (pending_.empty()) return "with nothing in flight";
      return fmt::format("waiting for the {} v{} response{}", api_label(pending_.front().request.api_key),
                         pending_.front().request.api_version,
                         pending_.size() > 1 ? fmt::format(" and {} more", pending_.size() - 1) : std::string());
    default:
      return {};
  }
}

void KafkaClient::close() {
  if (closing()) return;
  if (state_ == State::idle) {  // never connected: nothing to wait for, nothing reported
    state_ = State::closed;
    return;
  }
  state_ = State::closing;
  pending_.clear();
  link_.close();  // on_link_closed() later if it was connecting; nothing if it never started
  if (timer_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), [](uv_handle_t* handle) {
      auto* self = static_cast<KafkaClient*>(handle->data);
      self->timer_open_ = false;
      self->maybe_closed();
    });
  }
}

void KafkaClient::on_link_closed() {
  link_open_ = false;
  maybe_closed();
}

void KafkaClient::maybe_closed() {
  if (state_ != State::closing || timer_open_ || link_open_) return;
  state_ = State::closed;
  if (disposed_) {
    delete this;
    return;
  }
  if (callbacks_.on_closed) {
    const auto closed = std::move(callbacks_.on_closed);
    closed();  // may free *this
  }
}

void KafkaClient::dispose(std::unique_ptr<KafkaClient> client) {
  if (!client) return;
  KafkaClient* self = client.release();
  self->callbacks_ = {};
  if (self->state_ == State::idle || self->state_ == State::closed) {
    delete self;
    return;
  }
  self->disposed_ = true;
  self->close();  // frees itself in maybe_closed()
}

}  // namespace kedge::upstream
