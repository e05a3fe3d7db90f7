#pragma once
// A scripted broker for the loop tests: a plain-socket server on 127.0.0.1,
// port 0 (read back with getsockname), on a thread of its own, optionally
// speaking TLS (OpenSSL over the socket). Each accepted connection runs the
// test's script, one connection at a time, with blocking I/O bounded by a
// 5 s receive timeout, so a script that waits for the client never hangs a test.
//
// Requests are parsed and responses built with the session tests' broker
// (tests/unit/upstream/scripted_broker.h: its own flexible-version table and
// body builders, independent of kafka_codec's encoders). Nothing here uses
// Catch2 assertions (they are not thread-safe): a script records what it did
// not expect with note(), and the test checks notes() after stop().
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cert_fixture.h"
#include "certs/tls_context.h"
#include "config/config.h"
#include "io/stream_socket.h"
#include "kafka_codec/wire.h"
#include "scripted_broker.h"

namespace kedge::loop_test {

using test::Bytes;
using test::ParsedRequest;

class ScriptedBroker;

// One accepted connection, as the script sees it.
class BrokerConnection {
 public:
  BrokerConnection(int fd, SSL* ssl, ScriptedBroker& broker) : fd_(fd), ssl_(ssl), broker_(broker) {}

  // The next whole request, or nullopt on EOF, an error, the 5 s timeout or
  // bytes that are not a request header.
  std::optional<ParsedRequest> read_request() {
    std::uint8_t size_bytes[4];
    if (!read_exactly(size_bytes, 4)) return std::nullopt;
    const std::int32_t size = kafka::wire::get_i32(size_bytes);
    if (size < 10 || size > (1 << 20)) return std::nullopt;
    Bytes frame(static_cast<std::size_t>(size));
    if (!read_exactly(frame.data(), frame.size())) return std::nullopt;
    kafka::wire::Reader r(frame);
    ParsedRequest request;
    std::int16_t client_id_length = 0;
    if (!(r.read_i16(request.api_key) && r.read_i16(request.version) && r.read_i32(request.correlation_id) &&
          r.read_i16(client_id_length) && client_id_length >= 0 && r.remaining() >= std::size_t(client_id_length))) {
      return std::nullopt;
    }
    request.client_id = std::string(r.view(r.pos(), static_cast<std::size_t>(client_id_length)));
    r.skip(static_cast<std::size_t>(client_id_length));
    if (test::flexible_request(request.api_key, request.version)) {
      std::uint32_t tags = 1;
      if (!r.read_uvarint(tags) || tags != 0) return std::nullopt;
    }
    request.body.assign(frame.begin() + static_cast<std::ptrdiff_t>(r.pos()), frame.end());
    return request;
  }

  bool send(const Bytes& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const int n = ssl_ != nullptr ? SSL_write(ssl_, bytes.data() + done, static_cast<int>(bytes.size() - done))
                                    : static_cast<int>(::send(fd_, bytes.data() + done, bytes.size() - done,
                                                              MSG_NOSIGNAL));
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Reads until the client closes (or 5 s pass): a broker that never answers.
  void wait_for_close() {
    std::uint8_t sink[4096];
    while (read_some(sink, sizeof sink) > 0) {
    }
  }

  // Records something the script did not expect (checked by the test).
  void note(std::string what);
  // The broker's own port (for a Metadata answer that lists it).
  std::uint16_t broker_port() const;

 private:
  long read_some(std::uint8_t* out, std::size_t capacity) {
    return ssl_ != nullptr ? SSL_read(ssl_, out, static_cast<int>(capacity))
                           : static_cast<long>(::recv(fd_, out, capacity, 0));
  }
  bool read_exactly(std::uint8_t* out, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      const long n = read_some(out + done, size - done);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  int fd_;
  SSL* ssl_;
  ScriptedBroker& broker_;
};

class ScriptedBroker {
 public:
  using Script = std::function<void(BrokerConnection&)>;

  // `tls` (may be null; not owned, outlives the broker): a server context,
  // e.g. certs::make_server_context over make_certs.sh's server.pem.
  explicit ScriptedBroker(Script script, SSL_CTX* tls = nullptr) : script_(std::move(script)), tls_(tls) {
    // Like `kedge run` (control/supervisor.cpp): a write to a peer that closed
    // (libuv's write(2), OpenSSL's on this socket) is an error value, not SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 16) != 0) {
      throw std::runtime_error("scripted broker: cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("scripted broker: pipe failed");
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedBroker() { stop(); }
  ScriptedBroker(const ScriptedBroker&) = delete;
  ScriptedBroker& operator=(const ScriptedBroker&) = delete;

  HostPort address() const { return HostPort{"127.0.0.1", port_}; }
  std::uint16_t port() const { return port_; }

  // Stops accepting, waits for the connection being served, and joins.
  void stop() {
    if (!thread_.joinable()) return;
    const char byte = 0;
    (void)!::write(stop_pipe_[1], &byte, 1);
    thread_.join();
    ::close(listener_);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
  }
  // After stop(): connections accepted, notes, the last TLS accept error.
  std::size_t connections() const { return connections_.load(); }
  std::vector<std::string> notes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return notes_;
  }
  std::string tls_accept_error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return tls_accept_error_;
  }

 private:
  friend class BrokerConnection;
  void add_note(std::string what) {
    std::lock_guard<std::mutex> lock(mutex_);
    notes_.push_back(std::move(what));
  }

  void serve() {
    for (;;) {
      pollfd waiting[2] = {{listener_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(waiting, 2, -1) < 0) continue;
      if (waiting[1].revents != 0) return;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      connections_++;
      const timeval five_seconds{5, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five_seconds, sizeof five_seconds);
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      SSL* ssl = nullptr;
      bool accepted = true;
      if (tls_ != nullptr) {
        ssl = SSL_new(tls_);
        SSL_set_fd(ssl, fd);
        ERR_clear_error();
        if (SSL_accept(ssl) != 1) {
          accepted = false;
          char text[256] = "";
          ERR_error_string_n(ERR_get_error(), text, sizeof text);
          {
            std::lock_guard<std::mutex> lock(mutex_);
            tls_accept_error_ = text;
          }
          // Whatever alert OpenSSL sent goes out before a FIN; the client's
          // unread bytes are drained so the close is not a reset that could
          // overtake the alert.
          ::shutdown(fd, SHUT_WR);
          char drain[4096];
          while (::recv(fd, drain, sizeof drain, 0) > 0) {
          }
        }
      }
      if (accepted) {
        BrokerConnection connection(fd, ssl, *this);
        script_(connection);
      }
      if (ssl != nullptr) SSL_free(ssl);
      ::close(fd);
    }
  }

  Script script_;
  SSL_CTX* tls_;
  int listener_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<std::size_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> notes_;
  std::string tls_accept_error_;
};

inline void BrokerConnection::note(std::string what) { broker_.add_note(std::move(what)); }
inline std::uint16_t BrokerConnection::broker_port() const { return broker_.port(); }

// A loopback port nothing listens on: bound, then closed (connects are refused).
inline std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// The test's own loop (a fresh one per test, style practice 18) and its scratch buffers.
struct TestLoop {
  uv_loop_t loop{};
  io::LoopScratch scratch;
  TestLoop() { uv_loop_init(&loop); }
  ~TestLoop() { uv_loop_close(&loop); }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;
  // Runs the loop until nothing is left to run; true when no handle is left
  // open either (every client and link closed what it opened).
  bool run() {
    uv_run(&loop, UV_RUN_DEFAULT);
    std::size_t open = 0;
    uv_walk(&loop, [](uv_handle_t*, void* count) { ++*static_cast<std::size_t*>(count); }, &open);
    return open == 0;
  }
};

// make_certs.sh's tree (a CA, a leaf for *.kafka.example.com, an unrelated
// CA) and a server context over the leaf, for a ScriptedBroker speaking TLS.
struct TlsBroker {
  certs::testing::CertTree tree;
  certs::SslCtxPtr server = certs::make_server_context(tree / "server.pem", tree / "server.key");
};

// --- Scripts ------------------------------------------------------------------------------------------------

// Answers the next request, which must be ApiVersions, with `ranges` (in the
// layout of the version asked). False (and a note) otherwise.
inline bool answer_api_versions(BrokerConnection& c, const std::vector<test::Range>& ranges) {
  const auto request = c.read_request();
  if (!request || request->api_key != 18) {
    c.note("expected an ApiVersions request");
    return false;
  }
  return c.send(test::answer(*request, test::api_versions_body(request->version, ranges)));
}

// Answers the next request, which must be Metadata, at its version with `brokers`.
inline bool answer_metadata(BrokerConnection& c, const std::vector<std::tuple<int, std::string, int>>& brokers,
                            std::int16_t* version_seen = nullptr) {
  const auto request = c.read_request();
  if (!request || request->api_key != 3) {
    c.note("expected a Metadata request");
    return false;
  }
  if (version_seen != nullptr) *version_seen = request->version;
  return c.send(test::answer(*request, test::metadata_body(request->version, brokers)));
}

// librdkafka 2.0.2's mock broker: ApiVersions 0..3 and Metadata 0..2.
inline std::vector<test::Range> rdkafka_2_0_2_ranges() { return {{18, 0, 3}, {3, 0, 2}, {17, 0, 1}, {36, 0, 2}}; }

}  // namespace kedge::loop_test
