#include "upstream/link.h"

#include <algorithm>

#include <fmt/format.h>

namespace kedge::upstream {

std::string_view describe(LinkErrc code) {
  switch (code) {
#define KEDGE_X(name, text) case LinkErrc::name: return text;
    KEDGE_LINK_ERRORS(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}

std::string LinkError::text() const {
  return detail.empty() ? std::string(describe(code)) : fmt::format("{}: {}", describe(code), detail);
}

void Link::Handler::on_link_attempt_failed(const HostPort&, const LinkError&, bool) {}
void Link::Handler::on_link_write_progress() {}

Link::Link(uv_loop_t* loop, io::LoopScratch& scratch, ResolveCache* cache, Handler& handler)
    : loop_(loop), scratch_(scratch), cache_(cache), handler_(handler) {}

Link::~Link() = default;

void Link::connect(std::vector<HostPort> candidates, std::size_t first, const LinkSettings& settings) {
  if (state_ != State::idle || candidates.empty()) return;
  candidates_ = std::move(candidates);
  next_candidate_ = first % candidates_.size();
  candidates_left_ = candidates_.size();
  settings_ = settings;
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  timer_open_ = true;
  next_candidate();
}

// Moves to the next candidate, or reports the link down when none is left.
void Link::next_candidate() {
  target_ = candidates_[next_candidate_];
  next_candidate_ = (next_candidate_ + 1) % candidates_.size();
  candidates_left_--;
  addresses_.clear();
  next_address_ = 0;
  address_cached_ = false;
  state_ = State::resolving;
  if (auto address = numeric_address(target_)) {
    addresses_.push_back(*address);
    connect_address();
    return;
  }
  if (cache_ != nullptr) {
    if (auto address = cache_->find(target_, uv_now(loop_))) {
      addresses_.push_back(*address);
      address_cached_ = true;
      connect_address();
      return;
    }
  }
  // Resolution is bounded by the same timeout as a connect (getaddrinfo itself cannot be cancelled).
  uv_timer_start(
      &timer_,
      [](uv_timer_t* timer) {
        static_cast<Link*>(timer->data)->attempt_failed(LinkErrc::resolve_failed, "no answer in time");
      },
      settings_.connect_timeout_ms, 0);
  const std::uint64_t attempt = ++resolutions_;
  if (!self_) self_ = std::make_shared<Link*>(this);
  resolve(loop_, target_,
          [weak = std::weak_ptr<Link*>(self_), attempt, target = target_](int status,
                                                                          std::vector<sockaddr_storage> found) {
            const auto alive = weak.lock();
            if (!alive) return;
            Link* self = *alive;
            // A timeout moved on while getaddrinfo ran: this answer is for an abandoned attempt.
            if (self->state_ != State::resolving || self->resolutions_ != attempt) return;
            self->stop_timer();
            if (status != 0) {
              self->attempt_failed(LinkErrc::resolve_failed, uv_strerror(status));
              return;
            }
            if (self->cache_ != nullptr) self->cache_->store(target, found.front(), uv_now(self->loop_));
            self->addresses_ = std::move(found);
            self->connect_address();
          });
}

void Link::connect_address() {
  state_ = State::connecting;
  socket_ = std::make_unique<io::StreamSocket>(loop_, scratch_, static_cast<io::StreamSocket::Handler&>(*this));
  attempt_started_ns_ = uv_hrtime();
  const sockaddr_storage& address = addresses_[next_address_++];
  if (const int rc = socket_->connect(reinterpret_cast<const sockaddr*>(&address)); rc != 0) {
    attempt_failed(LinkErrc::connect_failed, fmt::format("{} ({})", uv_strerror(rc), io::address_text(address)));
    return;
  }
  uv_timer_start(
      &timer_, [](uv_timer_t* timer) { static_cast<Link*>(timer->data)->attempt_failed(LinkErrc::connect_timeout, {}); },
      settings_.connect_timeout_ms, 0);
}

void Link::on_socket_connected(io::StreamSocket& socket, int status) {
  if (&socket != socket_.get() || state_ != State::connecting) return;
  if (status != 0) {
    attempt_failed(LinkErrc::connect_failed, uv_strerror(status));
    return;
  }
  socket_->start_reading();
  if (settings_.tls == nullptr) {
    go_up();
    return;
  }
  // The connect timer keeps running through the handshake: a broker that
  // accepts TCP but never completes TLS is a failed attempt, like a refusal.
  state_ = State::handshaking;
  tls_ = std::make_unique<UpstreamTls>();
  tls_accepted_ = false;
  const std::string name = settings_.tls_server_name.empty() ? target_.host : settings_.tls_server_name;
  std::string error;
  if (!tls_->start(settings_.tls, name, settings_.tls_verify, error)) {
    attempt_failed(LinkErrc::tls_setup_failed, error);
    return;
  }
  tls_->handshake(error);  // produces the ClientHello
  flush_tls();
}

// The attempt's socket goes into retirement (it closes asynchronously), the
// owner hears of the failure, and the next address or candidate starts.
void Link::attempt_failed(LinkErrc code, std::string detail) {
  if (state_ != State::resolving && state_ != State::connecting && state_ != State::handshaking) return;
  stop_timer();
  tls_.reset();
  if (socket_) {
    socket_->close();
    retiring_.push_back(std::move(socket_));
  }
  if (address_cached_ && cache_ != nullptr) cache_->forget(target_);
  const bool cached = address_cached_;
  address_cached_ = false;
  LinkError error{code, std::move(detail)};
  handler_.on_link_attempt_failed(target_, error, cached);
  if (state_ == State::closing || state_ == State::closed) return;  // the owner closed the link
  // Another address of the same name, unless the name itself failed to resolve.
  if (code != LinkErrc::resolve_failed && next_address_ < addresses_.size()) {
    connect_address();
    return;
  }
  if (candidates_left_ > 0) {
    next_candidate();
    return;
  }
  go_down(code, std::move(error.detail));
}

void Link::go_up() {
  stop_timer();
  state_ = State::up;
  handler_.on_link_up();
}

void Link::go_down(LinkErrc code, std::string detail) {
  if (state_ == State::down || state_ == State::closing || state_ == State::closed) return;
  stop_timer();
  state_ = State::down;
  if (socket_) socket_->pause(io::PauseReason::closing);
  handler_.on_link_down(LinkError{code, std::move(detail)});
}

void Link::on_socket_read(io::StreamSocket& socket, const char* data, std::size_t len) {
  if (&socket != socket_.get()) return;
  if (!tls_) {
    if (state_ == State::up) handler_.on_link_data(data, len);
    return;
  }
  on_bytes(data, len);
}

// Ciphertext from the broker: the handshake first, then application data.
void Link::on_bytes(const char* data, std::size_t len) {
  if (!tls_->feed(data, len)) {
    go_down(LinkErrc::tls_failed, "cannot buffer TLS input");
    return;
  }
  if (state_ == State::handshaking) {
    std::string error;
    const UpstreamTls::Step step = tls_->handshake(error);
    flush_tls();
    if (state_ != State::handshaking) return;
    if (step == UpstreamTls::Step::failed) {
      attempt_failed(LinkErrc::tls_handshake_failed, error);
      return;
    }
    if (step == UpstreamTls::Step::want_more) return;
    go_up();
  }
  char* plaintext = scratch_.tls_plaintext.get();
  while (state_ == State::up && tls_) {
    std::size_t n = 0;
    std::string error;
    switch (tls_->read(plaintext, io::LoopScratch::kSize, n, error)) {
      case UpstreamTls::ReadResult::data:
        tls_accepted_ = true;
        handler_.on_link_data(plaintext, n);
        continue;
      case UpstreamTls::ReadResult::want_more:
        flush_tls();  // TLS 1.3 post-handshake messages
        return;
      case UpstreamTls::ReadResult::closed:  // close_notify
        go_down(LinkErrc::closed, "TLS close_notify");
        return;
      case UpstreamTls::ReadResult::failed:
        go_down(tls_accepted_ ? LinkErrc::tls_failed : LinkErrc::tls_refused, error);
        return;
    }
  }
}

void Link::on_socket_read_end(io::StreamSocket& socket, int status) {
  if (&socket != socket_.get()) return;
  if (state_ == State::connecting || state_ == State::handshaking) {
    attempt_failed(state_ == State::handshaking ? LinkErrc::tls_handshake_failed : LinkErrc::connect_failed,
                   status == UV_EOF ? "the broker closed the connection" : uv_strerror(status));
    return;
  }
  if (state_ != State::up) return;
  go_down(status == UV_EOF ? LinkErrc::closed : LinkErrc::read_failed, status == UV_EOF ? "" : uv_strerror(status));
}

void Link::on_socket_write_failed(io::StreamSocket& socket, int status) {
  if (&socket != socket_.get()) return;
  if (state_ == State::handshaking) {
    attempt_failed(LinkErrc::tls_handshake_failed, uv_strerror(status));
    return;
  }
  go_down(LinkErrc::write_failed, uv_strerror(status));
}

void Link::on_socket_write_progress(io::StreamSocket& socket) {
  if (&socket == socket_.get() && state_ == State::up) handler_.on_link_write_progress();
}

bool Link::send(const std::uint8_t* data, std::size_t len) { return send(data, len, nullptr, 0); }

bool Link::send(const std::uint8_t* data, std::size_t len, const std::uint8_t* more, std::size_t more_len) {
  if (state_ != State::up || !socket_) return false;
  if (!tls_) {
    return socket_->write(reinterpret_cast<const char*>(data), len, reinterpret_cast<const char*>(more),
                          more_len) == 0;
  }
  if (len > 0 && !tls_->write(data, len)) return false;
  if (more_len > 0 && !tls_->write(more, more_len)) return false;
  flush_tls();
  return state_ == State::up;
}

bool Link::send(std::span<const uv_buf_t> pieces) {
  if (state_ != State::up || !socket_) return false;
  if (!tls_) return socket_->write(pieces) == 0;
  for (const uv_buf_t& piece : pieces) {
    if (piece.len > 0 && !tls_->write(reinterpret_cast<const std::uint8_t*>(piece.base), piece.len)) return false;
  }
  flush_tls();
  return state_ == State::up;
}

// Hands what OpenSSL produced for the broker to the socket.
void Link::flush_tls() {
  char* buffer = scratch_.tls_ciphertext.get();
  while (tls_ && socket_ && tls_->pending() > 0) {
    const std::size_t n = tls_->take(buffer, io::LoopScratch::kSize);
    if (n == 0) break;
    if (const int rc = socket_->write(buffer, n); rc != 0) {
      if (state_ == State::handshaking) {
        attempt_failed(LinkErrc::tls_handshake_failed, uv_strerror(rc));
      } else {
        go_down(LinkErrc::write_failed, uv_strerror(rc));
      }
      return;
    }
  }
}

void Link::shutdown() {
  if (!tls_ || !tls_->handshake_done() || !socket_ || state_ == State::closing || state_ == State::closed) return;
  tls_->shutdown();
  flush_tls();
}

void Link::pause(io::PauseReason reason) {
  if (socket_) socket_->pause(reason);
}

void Link::resume(io::PauseReason reason) {
  if (socket_) socket_->resume(reason);
}

std::size_t Link::queued_bytes() const { return socket_ ? socket_->queued_bytes() : 0; }

std::string Link::describe_tls() const { return tls_ && state_ == State::up ? tls_->describe() : std::string(); }

void Link::stop_timer() {
  if (timer_open_) uv_timer_stop(&timer_);
}

void Link::close() {
  if (state_ == State::closing || state_ == State::closed) return;
  if (state_ == State::idle) {  // never connected: no handle to wait for, no callback
    state_ = State::closed;
    return;
  }
  state_ = State::closing;
  self_.reset();  // a resolution still running is not called back
  if (socket_) {
    socket_->close();
    retiring_.push_back(std::move(socket_));
  }
  if (timer_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), [](uv_handle_t* handle) {
      auto* self = static_cast<Link*>(handle->data);
      self->timer_open_ = false;
      self->maybe_closed();
    });
  }
  maybe_closed();
}

void Link::on_socket_closed(io::StreamSocket& socket) {
  const auto it = std::find_if(retiring_.begin(), retiring_.end(), [&](const auto& s) { return s.get() == &socket; });
  if (it != retiring_.end()) retiring_.erase(it);  // frees the socket; it makes no call after this one
  maybe_closed();
}

// Every socket in retiring_ was opened, so each reports its close; the timer
// was initialised by connect(). A link closed before connect() has neither.
void Link::maybe_closed() {
  if (state_ != State::closing || timer_open_ || !retiring_.empty()) return;
  state_ = State::closed;
  handler_.on_link_closed();  // may free *this
}

}  // namespace kedge::upstream
