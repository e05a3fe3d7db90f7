#pragma once
// A TCP stream on a libuv loop: the one place kedge reads from and writes to a
// stream socket, whichever side it is on (a client connection's socket, a
// broker connection in upstream/link.h, kedge's own Kafka clients).
//
// Writes: write() first offers the bytes to the socket (uv_try_write: no copy,
// no request, the common case); only what the socket does not take at once is
// copied into a write request that owns it until libuv calls back.
// queued_bytes() counts those bytes (added at uv_write, subtracted in the write
// callback) so the owner can apply watermarks (style practice 11).
//
// Reads: into the loop's shared read buffer (LoopScratch), so an idle socket
// holds none. Reading runs while the socket is started and no pause reason
// holds: backpressure, a drain and bytes held for a later state each set their
// own reason, so releasing one never undoes another.
//
// Close: close() is idempotent. libuv runs every pending write callback (with
// UV_ECANCELED) before the handle's close callback; Handler::on_socket_closed()
// runs after both, exactly once, and only then may the owner free the
// StreamSocket (style practice 14). No callback reaches the handler after it.
//
// Loop thread only; nothing throws.
#include <uv.h>

#include <cstddef>
#include <span>
#include <cstdint>
#include <memory>
#include <string>

namespace kedge::io {

// Buffers shared by every socket of one loop. Bytes are processed synchronously
// inside each callback, so one set suffices. Sizes: a socket read of 64 KiB,
// and for TLS toward brokers (upstream/link.h) the decrypted bytes of such a
// read and the ciphertext OpenSSL produces for one send.
struct LoopScratch {
  static constexpr std::size_t kSize = 64 * 1024;
  std::unique_ptr<char[]> socket_read{new char[kSize]};
  std::unique_ptr<char[]> tls_plaintext{new char[kSize]};
  std::unique_ptr<char[]> tls_ciphertext{new char[kSize]};
};

// "203.0.113.7:51234" / "[2001:db8::1]:9092" for an IPv4 or IPv6 socket address.
std::string address_text(const sockaddr_storage& address);

// Why a socket is not reading. Reading runs only while none is set.
enum class PauseReason : std::uint8_t {
  backpressure = 1,  // the opposite side's queue is above the high watermark
  draining = 2,      // no new requests: the connection finishes what is in flight
  held = 4,          // the owner holds bytes until a later state (e.g. the broker is being connected)
  closing = 8,       // the connection is flushing its last writes
  throttled = 16,    // the client is over a quota: not read until its throttle time passed (KIP-219)
};

class StreamSocket {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // connect() finished: status 0, or a libuv error (the owner closes or retries).
    virtual void on_socket_connected(StreamSocket& socket, int status);
    // Bytes read; the span is valid only during the call.
    virtual void on_socket_read(StreamSocket& socket, const char* data, std::size_t len) = 0;
    // The peer ended the stream (UV_EOF) or reading failed (another status < 0).
    virtual void on_socket_read_end(StreamSocket& socket, int status) = 0;
    // A queued write failed: the socket is unusable and the owner closes it.
    virtual void on_socket_write_failed(StreamSocket& socket, int status) = 0;
    // queued_bytes() went down: a write request completed.
    virtual void on_socket_write_progress(StreamSocket& socket);
    // The handle is closed and every callback libuv owed has run.
    virtual void on_socket_closed(StreamSocket& socket) = 0;
  };

  StreamSocket(uv_loop_t* loop, LoopScratch& scratch, Handler& handler);
  ~StreamSocket();  // the handle must be closed (on_socket_closed ran) or never opened
  StreamSocket(const StreamSocket&) = delete;
  StreamSocket& operator=(const StreamSocket&) = delete;

  // Accepts a pending connection of `listener` (TCP_NODELAY set). A libuv error
  // leaves the socket to be closed.
  int accept(uv_stream_t* listener);
  // Starts connecting to `address`; Handler::on_socket_connected reports the
  // result (never synchronously). A libuv error here means no callback follows.
  int connect(const sockaddr* address);

  // Reading: start_reading() once the socket is connected; pause/resume by reason.
  void start_reading();
  void pause(PauseReason reason);
  void resume(PauseReason reason);
  bool paused(PauseReason reason) const { return (pause_reasons_ & static_cast<std::uint8_t>(reason)) != 0; }

  // Sends `data` then `more` (one writev). Returns 0, or the libuv error of a
  // failed synchronous write (the owner closes; nothing was queued).
  int write(const char* data, std::size_t len, const char* more = nullptr, std::size_t more_len = 0);
  // Sends `pieces` in order (one writev on the fast path). Same contract.
  int write(std::span<const uv_buf_t> pieces);
  std::size_t queued_bytes() const { return queued_; }

  // Idempotent. A socket that was opened (accept/connect) reports
  // on_socket_closed() later, never from inside close(); one never opened
  // reports nothing and may be freed at once.
  void close();
  bool open() const { return state_ == State::open; }
  // "203.0.113.7:51234" / "[2001:db8::1]:9092", or "?" when the peer is unknown.
  std::string peer_name() const;

 private:
  enum class State : std::uint8_t { idle, open, closing, closed };
  struct WriteRequest;
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write_done(uv_write_t* req, int status);
  static void on_connect_done(uv_connect_t* req, int status);
  static void on_close_done(uv_handle_t* handle);
  void update_reading();
  void maybe_closed();

  uv_loop_t* loop_;
  LoopScratch& scratch_;
  Handler& handler_;
  uv_tcp_t tcp_{};
  std::unique_ptr<uv_connect_t> connect_req_;  // while connecting only: an accepted socket never needs one
  State state_ = State::idle;
  bool read_wanted_ = false;  // start_reading() was called
  bool reading_ = false;      // uv_read_start is in effect
  bool handle_closed_ = false;
  std::uint8_t pause_reasons_ = 0;
  std::size_t queued_ = 0;
  std::size_t writes_pending_ = 0;  // write requests libuv has not called back yet
  bool connect_pending_ = false;
};

}  // namespace kedge::io
