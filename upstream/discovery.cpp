#include "upstream/discovery.h"

#include <cstring>

#include "certs/tls_context.h"
#include "common/log.h"
#include "kafka_codec/stream.h"
#include "upstream/resolve.h"
#include "upstream/sasl_client.h"
#include "upstream/tls.h"

namespace kedge {

// ---------------------------------------------------------------------------
// Discovery: connect, [authenticate], send one Metadata request, read one response, close.
//
//   start_attempt -> resolving -> connecting -> [TLS handshake] -> [SASL] -> exchanging -> finish_attempt
//                        \____________\______________\______________\____________\__ (error/timeout)
//                                                                              -> next server or fail
// With backend.discovery.sasl, SaslExchange (sasl_client.h) runs ApiVersions,
// SaslHandshake and SaslAuthenticate first, one frame at a time.
struct Discovery::Attempt {
  Discovery* owner = nullptr;
  std::shared_ptr<bool> owner_alive;
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  uv_connect_t connect{};
  uv_write_t write{};
  bool tcp_open = false;
  int open_handles = 0;
  bool finished = false;
  HostPort server;
  std::int32_t correlation_id = 0;
  std::vector<std::uint8_t> request;
  std::vector<std::uint8_t> response;
  std::uint32_t max_frame_bytes = 0;
  char read_buffer[16 * 1024];
  std::unique_ptr<UpstreamTls> tls;  // backend.tls, else plaintext
  bool tls_accepted = false;          // the broker sent application data over TLS
  std::unique_ptr<sasl::SaslExchange> sasl;  // backend.discovery.sasl, until authenticated
  SSL_CTX* tls_ctx = nullptr;
  std::string server_name;
  bool verify = true;
  SaslMechanism owner_credentials_mechanism = SaslMechanism::plain;

  struct RawWrite {
    uv_write_t req{};
    Attempt* attempt = nullptr;
    std::vector<char> bytes;
  };

  // Queues bytes on the socket; the request owns its copy until the callback
  // (libuv runs it, with UV_ECANCELED at worst, before the handle's close callback).
  void send_raw(const char* data, std::size_t len) {
    auto* write = new RawWrite{{}, this, std::vector<char>(data, data + len)};
    write->req.data = write;
    uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
    const int rc = uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&tcp), &buf, 1, [](uv_write_t* w, int st) {
      std::unique_ptr<RawWrite> done(static_cast<RawWrite*>(w->data));
      if (st != 0 && !done->attempt->finished) done->attempt->fail(std::string("write failed: ") + uv_strerror(st));
    });
    if (rc != 0) {
      delete write;
      fail(std::string("write failed: ") + uv_strerror(rc));
    }
  }

  void flush_tls() {
    char buffer[16 * 1024];
    while (!finished && tls->pending() > 0) {
      const std::size_t n = tls->take(buffer, sizeof buffer);
      if (n == 0) break;
      send_raw(buffer, n);
    }
  }

  void send_frame(const std::vector<std::uint8_t>& frame) {
    if (!tls) {
      send_raw(reinterpret_cast<const char*>(frame.data()), frame.size());
      return;
    }
    if (!tls->write(frame.data(), frame.size())) {
      fail("TLS write failed: " + certs::drain_openssl_errors());
      return;
    }
    flush_tls();
  }

  // The connection (and TLS) is up: authenticate first when configured.
  void start_requests() {
    send_frame(sasl ? sasl->start() : request);
  }

  // Bytes from the socket: ciphertext with backend.tls, else the response.
  void on_socket_bytes(const char* data, std::size_t len) {
    if (!tls) {
      on_response_bytes(data, len);
      return;
    }
    if (!tls->feed(data, len)) {
      fail("TLS input failed");
      return;
    }
    if (!tls->handshake_done()) {
      std::string error;
      const UpstreamTls::Step step = tls->handshake(error);
      flush_tls();
      if (finished) return;
      if (step == UpstreamTls::Step::failed) {
        fail("TLS handshake failed: " + error);
        return;
      }
      if (step == UpstreamTls::Step::want_more) return;
      start_requests();
    }
    char plain[16 * 1024];
    while (!finished) {
      std::size_t n = 0;
      std::string error;
      switch (tls->read(plain, sizeof plain, n, error)) {
        case UpstreamTls::ReadResult::data:
          tls_accepted = true;
          on_response_bytes(plain, n);
          continue;
        case UpstreamTls::ReadResult::want_more: flush_tls(); return;
        case UpstreamTls::ReadResult::closed: fail("broker closed TLS before the response"); return;
        case UpstreamTls::ReadResult::failed:
          // Before any data, an alert is the broker refusing the session (TLS 1.3 checks the client
          // certificate after our side of the handshake completed, RFC 8446 §4.4.2).
          fail((tls_accepted ? "TLS read failed: " : "the broker refused the TLS session: ") + error);
          return;
      }
    }
  }

  void on_response_bytes(const char* data, std::size_t len) {
    response.insert(response.end(), data, data + len);
    while (!finished && response.size() >= 4) {
      const std::uint32_t size = (std::uint32_t{response[0]} << 24) | (std::uint32_t{response[1]} << 16) |
                                 (std::uint32_t{response[2]} << 8) | response[3];
      if (size > max_frame_bytes) {
        fail("response frame of " + std::to_string(size) + " bytes exceeds the maximum");
        return;
      }
      if (response.size() < 4 + static_cast<std::size_t>(size)) return;
      if (!sasl) {
        response.resize(4 + static_cast<std::size_t>(size));
        succeed();
        return;
      }
      // One request in flight at a time, so a SASL response is alone in the buffer.
      const std::vector<std::uint8_t> frame(response.begin(), response.begin() + 4 + size);
      response.erase(response.begin(), response.begin() + 4 + size);
      on_sasl_response(frame);
    }
  }

  void on_sasl_response(const std::vector<std::uint8_t>& frame) {
    sasl::SaslExchange::Step step = sasl->on_response(frame);
    switch (step.kind) {
      case sasl::SaslExchange::Step::Kind::send: send_frame(step.frame); return;
      case sasl::SaslExchange::Step::Kind::failed: fail(step.error); return;
      case sasl::SaslExchange::Step::Kind::authenticated:
        log::debug("discovery: authenticated to {} with SASL {}", server.to_string(),
                   to_string(owner_credentials_mechanism));
        sasl.reset();
        send_frame(request);
        return;
    }
  }

  void close_handles() {
    if (tcp_open) {
      uv_close(reinterpret_cast<uv_handle_t*>(&tcp), on_close);
      tcp_open = false;
    }
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer))) {
      uv_close(reinterpret_cast<uv_handle_t*>(&timer), on_close);
    }
  }
  static void on_close(uv_handle_t* handle) {
    auto* self = static_cast<Attempt*>(handle->data);
    if (--self->open_handles == 0) delete self;
  }
  void fail(std::string detail) {
    if (finished) return;
    finished = true;
    if (*owner_alive) owner->finish_attempt(this, false, std::move(detail));
    close_handles();
  }
  void succeed() {
    if (finished) return;
    finished = true;
    std::vector<kafka::BrokerEndpoint> brokers;
    if (!kafka::decode_metadata_brokers(response, correlation_id, brokers)) {
      finished = false;
      fail("malformed Metadata response");
      return;
    }
    if (*owner_alive) {
      const std::uint64_t now = uv_now(tcp.loop);
      std::string list;
      for (const auto& broker : brokers) {
        owner->registry_.learn(broker.node_id, broker.host, broker.port, LearnedFrom{}, now);
        if (!list.empty()) list += ", ";
        list += std::to_string(broker.node_id) + "=" + broker.host + ":" + std::to_string(broker.port);
      }
      owner->finish_attempt(this, true, list.empty() ? std::string("no brokers") : list);
    }
    close_handles();
  }
};

Discovery::Discovery(uv_loop_t* loop, std::string cluster_name, BackendConfig backend,
                     BrokerRegistry::Handle& registry, std::uint32_t max_frame_bytes, std::uint32_t timeout_ms,
                     SSL_CTX* upstream_tls)
    : loop_(loop),
      cluster_name_(std::move(cluster_name)),
      backend_(std::move(backend)),
      registry_(registry),
      max_frame_bytes_(max_frame_bytes),
      timeout_ms_(timeout_ms),
      upstream_tls_(upstream_tls) {}

Discovery::~Discovery() {
  *alive_ = false;
}

void Discovery::set_credentials(std::optional<SaslCredentials> credentials) {
  backend_.discovery_sasl = std::move(credentials);
}

void Discovery::refresh(Done done) {
  waiters_.push_back(std::move(done));
  if (attempt_ != nullptr) return;  // joins the exchange in flight
  tries_left_ = backend_.bootstrap_servers.size();
  start_attempt();
}

void Discovery::cancel() {
  auto waiters = std::move(waiters_);
  waiters_.clear();
  if (attempt_ != nullptr) {
    Attempt* attempt = attempt_;
    attempt_ = nullptr;
    attempt->finished = true;
    attempt->close_handles();
  }
  for (auto& waiter : waiters) waiter(false, "kedge is shutting down");
}

void Discovery::start_attempt() {
  const HostPort server = backend_.bootstrap_servers[next_server_ % backend_.bootstrap_servers.size()];
  next_server_++;
  tries_left_--;
  auto* attempt = new Attempt();
  attempt_ = attempt;
  attempt->owner = this;
  attempt->owner_alive = alive_;
  attempt->server = server;
  attempt->max_frame_bytes = max_frame_bytes_;
  attempt->correlation_id = next_correlation_id_++;
  attempt->request = kafka::encode_metadata_request(attempt->correlation_id, "kedge-discovery");
  attempt->tls_ctx = upstream_tls_;
  if (backend_.tls) {
    attempt->server_name = backend_.tls->server_name.value_or("");
    attempt->verify = backend_.tls->verify;
  }
  if (backend_.discovery_sasl) {
    // Correlation ids after the Metadata request's, so no response of the exchange can be taken for it.
    attempt->sasl = std::make_unique<sasl::SaslExchange>(*backend_.discovery_sasl, "kedge-discovery",
                                                          attempt->correlation_id + 1);
    attempt->owner_credentials_mechanism = backend_.discovery_sasl->mechanism;
  }
  uv_timer_init(loop_, &attempt->timer);
  attempt->timer.data = attempt;
  attempt->open_handles = 1;
  uv_timer_start(
      &attempt->timer,
      [](uv_timer_t* timer) {
        auto* a = static_cast<Attempt*>(timer->data);
        a->fail("timed out");
      },
      timeout_ms_, 0);
  log::debug("discovery for {}: asking {} for the broker list", cluster_name_, server.to_string());

  resolve(loop_, server, [attempt, loop = loop_](int status, std::vector<sockaddr_storage> addresses) {
    if (attempt->finished) return;
    if (status != 0) {
      attempt->fail(std::string("cannot resolve: ") + uv_strerror(status));
      return;
    }
    if (attempt->tls_ctx != nullptr) {
      // Verified against the host discovery dials (backend.tls.server_name overrides).
      const std::string name = attempt->server_name.empty() ? attempt->server.host : attempt->server_name;
      attempt->tls = std::make_unique<UpstreamTls>();
      std::string error;
      if (!attempt->tls->start(attempt->tls_ctx, name, attempt->verify, error)) {
        attempt->fail("TLS setup failed: " + error);
        return;
      }
    }
    uv_tcp_init(loop, &attempt->tcp);
    attempt->tcp.data = attempt;
    attempt->tcp_open = true;
    attempt->open_handles++;
    attempt->connect.data = attempt;
    const int rc = uv_tcp_connect(
        &attempt->connect, &attempt->tcp, reinterpret_cast<const sockaddr*>(&addresses.front()),
        [](uv_connect_t* req, int status) {
          auto* a = static_cast<Attempt*>(req->data);
          if (a->finished) return;
          if (status != 0) {
            a->fail(std::string("connect failed: ") + uv_strerror(status));
            return;
          }
          uv_read_start(
              reinterpret_cast<uv_stream_t*>(&a->tcp),
              [](uv_handle_t* h, size_t, uv_buf_t* out) {
                auto* at = static_cast<Attempt*>(h->data);
                *out = uv_buf_init(at->read_buffer, sizeof at->read_buffer);
              },
              [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
                auto* at = static_cast<Attempt*>(s->data);
                if (at->finished) return;
                if (n == UV_EOF) {
                  // What a SASL-only listener does to a request before authentication, and a TLS one to plaintext.
                  at->fail("the broker closed the connection without answering (a listener that requires SASL or "
                           "TLS? see backend.discovery.sasl and backend.tls)");
                  return;
                }
                if (n < 0) {
                  at->fail(std::string("read failed: ") + uv_strerror(static_cast<int>(n)));
                  return;
                }
                at->on_socket_bytes(buf->base, static_cast<std::size_t>(n));
              });
          if (!a->tls) {
            a->start_requests();
            return;
          }
          std::string error;
          a->tls->handshake(error);  // the ClientHello
          a->flush_tls();
        });
    if (rc != 0) attempt->fail(std::string("connect failed: ") + uv_strerror(rc));
  });
}

void Discovery::finish_attempt(Attempt* attempt, bool ok, std::string detail) {
  if (attempt_ != attempt) return;
  attempt_ = nullptr;
  if (ok) {
    log::info("discovery for {}: {} lists brokers {}", cluster_name_, attempt->server.to_string(), detail);
  } else {
    log::warn("discovery for {}: {}: {}", cluster_name_, attempt->server.to_string(), detail);
    last_error_ = attempt->server.to_string() + ": " + detail;
    if (tries_left_ > 0 && !waiters_.empty()) {
      start_attempt();
      return;
    }
  }
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& waiter : waiters) waiter(ok, ok ? detail : last_error_);
}

}  // namespace kedge
