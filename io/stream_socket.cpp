#include "io/stream_socket.h"

#include <cstring>
#include <string>

#include <fmt/format.h>

namespace kedge::io {

void StreamSocket::Handler::on_socket_connected(StreamSocket&, int) {}
void StreamSocket::Handler::on_socket_write_progress(StreamSocket&) {}

struct StreamSocket::WriteRequest {
  uv_write_t req{};
  StreamSocket* socket = nullptr;
  std::size_t size = 0;
  std::unique_ptr<char[]> bytes;
};

StreamSocket::StreamSocket(uv_loop_t* loop, LoopScratch& scratch, Handler& handler)
    : loop_(loop), scratch_(scratch), handler_(handler) {}

StreamSocket::~StreamSocket() = default;

int StreamSocket::accept(uv_stream_t* listener) {
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  state_ = State::open;
  const int rc = uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_));
  if (rc == 0) uv_tcp_nodelay(&tcp_, 1);
  return rc;
}

int StreamSocket::connect(const sockaddr* address) {
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  state_ = State::open;
  connect_req_ = std::make_unique<uv_connect_t>();
  connect_req_->data = this;
  const int rc = uv_tcp_connect(connect_req_.get(), &tcp_, address, on_connect_done);
  connect_pending_ = rc == 0;
  if (rc != 0) connect_req_.reset();
  return rc;
}

void StreamSocket::on_connect_done(uv_connect_t* req, int status) {
  auto* self = static_cast<StreamSocket*>(req->data);
  self->connect_pending_ = false;
  self->connect_req_.reset();  // `req`: libuv is done with it
  if (self->state_ != State::open) {  // closed while connecting: libuv reports UV_ECANCELED
    self->maybe_closed();
    return;
  }
  if (status == 0) uv_tcp_nodelay(&self->tcp_, 1);
  self->handler_.on_socket_connected(*self, status);
}

void StreamSocket::start_reading() {
  read_wanted_ = true;
  update_reading();
}

void StreamSocket::pause(PauseReason reason) {
  pause_reasons_ |= static_cast<std::uint8_t>(reason);
  update_reading();
}

void StreamSocket::resume(PauseReason reason) {
  pause_reasons_ &= static_cast<std::uint8_t>(~static_cast<std::uint8_t>(reason));
  update_reading();
}

void StreamSocket::update_reading() {
  const bool want = state_ == State::open && read_wanted_ && pause_reasons_ == 0;
  if (want == reading_) return;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (want) {
    reading_ = uv_read_start(stream, on_alloc, on_read) == 0;
  } else {
    uv_read_stop(stream);
    reading_ = false;
  }
}

void StreamSocket::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* self = static_cast<StreamSocket*>(handle->data);
  *buf = uv_buf_init(self->scratch_.socket_read.get(), LoopScratch::kSize);
}

void StreamSocket::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<StreamSocket*>(stream->data);
  if (self->state_ != State::open) return;
  if (nread > 0) {
    self->handler_.on_socket_read(*self, buf->base, static_cast<std::size_t>(nread));
  } else if (nread < 0) {
    // libuv stops reading on EOF itself; stop on errors too so no second end is reported.
    uv_read_stop(stream);
    self->reading_ = false;
    self->read_wanted_ = false;
    self->handler_.on_socket_read_end(*self, static_cast<int>(nread));
  }
}

int StreamSocket::write(const char* data, std::size_t len, const char* more, std::size_t more_len) {
  const uv_buf_t pieces[2] = {uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len)),
                              uv_buf_init(const_cast<char*>(more), static_cast<unsigned>(more_len))};
  return write(std::span<const uv_buf_t>(pieces, more_len > 0 ? 2 : 1));
}

int StreamSocket::write(std::span<const uv_buf_t> pieces) {
  std::size_t total = 0;
  for (const uv_buf_t& piece : pieces) total += piece.len;
  if (state_ != State::open || total == 0) return 0;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  std::size_t written = 0;
  if (queued_ == 0) {
    // Fast path: the socket usually takes everything; no copy, no request.
    const int rc = uv_try_write(stream, pieces.data(), static_cast<unsigned>(pieces.size()));
    if (rc >= 0) {
      written = static_cast<std::size_t>(rc);
    } else if (rc != UV_EAGAIN) {
      return rc;
    }
    if (written == total) return 0;
  }
  auto* request = new WriteRequest();
  request->socket = this;
  request->size = total - written;
  request->bytes.reset(new char[request->size]);
  // What the socket did not take: the pieces from byte `written` on, in order.
  std::size_t skip = written, at = 0;
  for (const uv_buf_t& piece : pieces) {
    if (skip >= piece.len) {
      skip -= piece.len;
      continue;
    }
    std::memcpy(request->bytes.get() + at, piece.base + skip, piece.len - skip);
    at += piece.len - skip;
    skip = 0;
  }
  request->req.data = request;
  uv_buf_t buf = uv_buf_init(request->bytes.get(), static_cast<unsigned>(request->size));
  const int rc = uv_write(&request->req, stream, &buf, 1, on_write_done);
  if (rc != 0) {
    delete request;
    return rc;
  }
  queued_ += request->size;
  writes_pending_++;
  return 0;
}

void StreamSocket::on_write_done(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> request(static_cast<WriteRequest*>(req->data));
  StreamSocket* self = request->socket;
  self->queued_ -= request->size;
  self->writes_pending_--;
  if (self->state_ != State::open) {
    self->maybe_closed();
    return;
  }
  if (status < 0) {
    self->handler_.on_socket_write_failed(*self, status);
    return;
  }
  self->handler_.on_socket_write_progress(*self);
}

void StreamSocket::close() {
  if (state_ == State::closing || state_ == State::closed) return;
  if (state_ == State::idle) {  // never opened: nothing for libuv to call back
    state_ = State::closed;
    return;
  }
  state_ = State::closing;
  reading_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close_done);
}

void StreamSocket::on_close_done(uv_handle_t* handle) {
  auto* self = static_cast<StreamSocket*>(handle->data);
  self->handle_closed_ = true;
  self->maybe_closed();
}

// libuv runs pending write and connect callbacks before the close callback;
// the counts make that an explicit condition rather than an assumption.
void StreamSocket::maybe_closed() {
  if (state_ != State::closing || !handle_closed_ || writes_pending_ > 0 || connect_pending_) return;
  state_ = State::closed;
  handler_.on_socket_closed(*this);  // may free *this
}

std::string address_text(const sockaddr_storage& address) {
  char ip[INET6_ADDRSTRLEN] = {0};
  if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    uv_ip6_name(in6, ip, sizeof ip);
    return fmt::format("[{}]:{}", ip, ntohs(in6->sin6_port));
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(&address);
  uv_ip4_name(in4, ip, sizeof ip);
  return fmt::format("{}:{}", ip, ntohs(in4->sin_port));
}

std::string StreamSocket::peer_name() const {
  sockaddr_storage storage{};
  int len = sizeof storage;
  if (state_ != State::open || uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&storage), &len) != 0) {
    return "?";
  }
  return address_text(storage);
}

}  // namespace kedge::io
