#include "gateway/connection.h"

#include <openssl/err.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "certs/tls_context.h"
#include "common/log.h"
#include "gateway/worker.h"
#include "proxy/proxy_header.h"
#include "sni/client_hello.h"

namespace kedge {
namespace {

constexpr std::uint32_t kFlushDeadlineMs = 5'000;

std::string peer_name(const uv_tcp_t* tcp) {
  sockaddr_storage storage{};
  int len = sizeof storage;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&storage), &len) != 0) return "?";
  char ip[INET6_ADDRSTRLEN] = {0};
  if (storage.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    uv_ip6_name(in6, ip, sizeof ip);
    return fmt::format("[{}]:{}", ip, ntohs(in6->sin6_port));
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(&storage);
  uv_ip4_name(in4, ip, sizeof ip);
  return fmt::format("{}:{}", ip, ntohs(in4->sin_port));
}

std::string api_name(std::int16_t api_key) {
  const std::string_view name = kafka::api_name(api_key);
  return name.empty() ? fmt::format("api key {}", api_key) : std::string(name);
}

// OpenSSL's first queued error, classified for the handshake-failure counter.
TlsFailure classify_tls_failure(unsigned long error) {
  const int reason = ERR_GET_REASON(error);
  if (reason == SSL_R_NO_SHARED_CIPHER) return TlsFailure::no_shared_cipher;
  if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_WRONG_VERSION_NUMBER ||
      reason == SSL_R_VERSION_TOO_LOW || reason == SSL_R_UNKNOWN_PROTOCOL) {
    return TlsFailure::unsupported_protocol;
  }
  // SSL_R_SSLV3_ALERT_* / SSL_R_TLSV1_ALERT_* are SSL_AD_REASON_OFFSET + the alert received.
  if (reason >= SSL_AD_REASON_OFFSET) return TlsFailure::peer_alert;
  return TlsFailure::other;
}

struct ConnectRequest {
  uv_connect_t req{};
  Worker* server = nullptr;
  std::uint64_t connection_id = 0;
  uv_tcp_t* handle = nullptr;
};

}  // namespace

// Delivers response bytes to the client as the ResponseProcessor emits them:
// encrypted (SSL_write, whose records go to write_ciphertext) or, on a
// plaintext listener, to the socket. Once a response named a broker id
// outside the listener's port pool nothing more is delivered (see
// advertised_for); what was staged before it still is (finish).
//
// The bytes of a burst are cut into full TLS records (16 KiB of plaintext,
// RFC 8446 §5.1) regardless of where the codec's spans end, and only the last
// record of a burst may be short. Encrypting span by span instead makes a
// 16.5 KB Fetch response two records (16 KiB + 100 B) and a Produce ack two
// (its 8-byte size/correlation prefix, then the body): every record is 22
// bytes of header and tag, one AEAD pass on each side and, for a client whose
// OpenSSL reads from the socket itself (librdkafka, kload), two read calls.
// Whole records are encrypted where they lie; only the pieces that do not
// fill a record are copied into the loop's staging buffer. Plaintext is staged
// the same way, so a burst of small responses (each streamed as a prefix and
// a body span) leaves in one write, not two per response; a span of 16 KiB or
// more with nothing staged is written where it lies.
struct Connection::ClientSink final : kafka::ByteSink {
  static constexpr std::size_t kRecord = LoopBuffers::kRecordSize;
  explicit ClientSink(Connection& connection)
      : c(connection), staged(connection.worker_.buffers().response_plaintext.get()) {}
  void write(std::span<const std::uint8_t> bytes) override {
    if (failed || bytes.empty() || c.out_of_range_node_ || c.state_ == State::closed) return;
    written += bytes.size();
    while (!bytes.empty()) {
      if (staged_len == 0 && bytes.size() >= kRecord) {
        const std::size_t whole = c.ssl_ != nullptr ? bytes.size() - bytes.size() % kRecord : bytes.size();
        deliver(bytes.data(), whole);
        bytes = bytes.subspan(whole);
        continue;
      }
      const std::size_t n = std::min(kRecord - staged_len, bytes.size());
      std::memcpy(staged + staged_len, bytes.data(), n);
      staged_len += n;
      bytes = bytes.subspan(n);
      if (staged_len == kRecord) finish();
    }
  }
  // Delivers what is staged; call once the codec returned.
  void finish() {
    const std::size_t n = staged_len;
    staged_len = 0;
    if (n > 0) deliver(reinterpret_cast<const std::uint8_t*>(staged), n);
  }
  void deliver(const std::uint8_t* data, std::size_t n) {
    if (failed || c.state_ == State::closed) return;
    if (c.ssl_ == nullptr) {
      c.write_to(Side::client, reinterpret_cast<const char*>(data), n);  // copies what the socket does not take
      return;
    }
    // write_ciphertext takes every record, so SSL_write either takes everything or fails.
    if (SSL_write(c.ssl_, data, static_cast<int>(n)) <= 0) failed = true;
  }
  Connection& c;
  char* const staged;  // the loop's response_plaintext buffer, kRecord bytes
  std::size_t staged_len = 0;
  bool failed = false;
  std::size_t written = 0;
};

struct Connection::WriteRequest {
  uv_write_t req{};
  Connection* connection = nullptr;
  Side side = Side::client;
  std::size_t size = 0;
  std::unique_ptr<char[]> bytes;
};

Connection::Connection(Worker& server, std::shared_ptr<const ListenerSettings> listener, std::uint64_t id)
    : worker_(server),
      listener_(std::move(listener)),
      listener_stats_(&server.stats().listener(listener_->config.name)),
      id_(id),
      requests_(server.config().limits.max_frame_bytes) {}

Connection::~Connection() {
  // close() already released the loop's ciphertext buffer if this connection held it.
  if (ssl_ != nullptr) SSL_free(ssl_);  // frees the ciphertext BIO
}

bool Connection::accept_from(uv_stream_t* server_stream, std::optional<std::int32_t> port_node_id) {
  uv_loop_t* loop = worker_.loop();
  uv_tcp_init(loop, &client_);
  client_.data = this;
  uv_timer_init(loop, &deadline_);
  deadline_.data = this;
  uv_timer_init(loop, &connect_timer_);
  connect_timer_.data = this;
  open_handles_ = 3;
  if (uv_accept(server_stream, reinterpret_cast<uv_stream_t*>(&client_)) != 0) {
    close(DisconnectCause::client_error);
    return false;
  }
  socket_peer_ = peer_name(&client_);
  client_address_ = socket_peer_;
  if (listener_->config.proxy_protocol != ProxyProtocolMode::off) state_ = State::reading_proxy_header;
  uv_tcp_nodelay(&client_, 1);
  uv_timer_start(
      &deadline_,
      [](uv_timer_t* timer) {
        auto* self = static_cast<Connection*>(timer->data);
        if (self->state_ == State::flushing) {
          self->close(self->cause_);
        } else {
          log::info("conn {} from {}: no {} within {} ms, closing", self->id_, self->client_address_,
                    self->ssl_ == nullptr && self->listener_->default_ctx == nullptr ? "broker connection"
                                                                                     : "TLS handshake",
                    self->worker_.config().limits.client_hello_timeout_ms);
          if (self->state_ == State::handshaking && self->upstream_state_ == Upstream::connected) {
            self->count_tls_failure(TlsFailure::timeout);
          }
          self->close(DisconnectCause::hello_timeout);
        }
      },
      worker_.config().limits.client_hello_timeout_ms, 0);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&client_), on_alloc, on_client_read);
  client_reading_ = true;
  if (port_routed() && !route_by_port(port_node_id)) return false;
  if (port_routed() && listener_->default_ctx == nullptr && state_ != State::reading_proxy_header) {
    start_plaintext();
  }
  return true;
}

// Port routing: the port accepted on is the whole routing decision.
bool Connection::route_by_port(std::optional<std::int32_t> port_node_id) {
  const PortRouting& routing = *listener_->config.port_routing;
  snapshot_ = worker_.snapshot();
  const auto index = worker_.cluster_index(routing.virtual_cluster);
  if (!index) {  // a reload removed the cluster while this listener's socket was still open
    log::warn("conn {} from {}: listener {} routes to virtual cluster {}, which is no longer configured; closing",
              id_, client_address_, listener_->config.name, routing.virtual_cluster);
    close(DisconnectCause::config_changed);
    return false;
  }
  target_.cluster = *index;
  if (port_node_id) {
    target_.role = sni::Node{*port_node_id};
    target_label_ = fmt::format("broker {}", *port_node_id);
  } else {
    target_.role = sni::Bootstrap{};
    target_label_ = "bootstrap";
  }
  cluster_ = worker_.cluster(*index);
  cluster_stats_ = &worker_.stats().cluster(cluster_->settings->config.name);
  cluster_stats_->connections_active++;
  return true;
}

// Plaintext (port-routed) listener: no ClientHello to wait for. Client bytes
// are held in hello_ until the broker connection is up (upstream_ready).
void Connection::start_plaintext() {
  log::debug("conn {} from {}: listener {} (plaintext) -> virtual cluster {}, {}", id_, client_address_,
             listener_->config.name, cluster_->settings->config.name, target_label_);
  state_ = State::handshaking;
  locate_upstream();
}

bool Connection::port_routed() const { return listener_->config.port_routing.has_value(); }

void Connection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(handle->data);
  *buf = uv_buf_init(self->worker_.buffers().socket_read.get(), LoopBuffers::kSize);
}

// ---------------------------------------------------------------- client side

void Connection::on_client_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    self->handle_client_bytes(buf->base, static_cast<std::size_t>(nread));
  } else if (nread == UV_EOF) {
    if (self->state_ == State::forwarding) {
      self->close_after_flush(DisconnectCause::client_closed);
    } else {
      self->close(DisconnectCause::client_closed);
    }
  } else if (nread < 0) {
    log::debug("conn {}: client read error: {}", self->id_, uv_strerror(static_cast<int>(nread)));
    self->close(DisconnectCause::client_error);
  }
}

void Connection::handle_client_bytes(const char* data, std::size_t len) {
  switch (state_) {
    case State::reading_proxy_header:
      hello_.insert(hello_.end(), data, data + len);
      handle_proxy_header();
      return;
    case State::reading_hello:
      hello_.insert(hello_.end(), data, data + len);
      handle_hello();
      return;
    case State::handshaking:
    case State::forwarding:
      if (ssl_ == nullptr) {  // plaintext listener
        if (state_ == State::forwarding) {
          forward_client_plaintext(reinterpret_cast<const std::uint8_t*>(data), len);
          return;
        }
        hello_.insert(hello_.end(), data, data + len);
        // A Kafka client sends one small request and waits; stop reading
        // rather than buffer without bound while the broker is located.
        if (hello_.size() > LoopBuffers::kSize && client_reading_) {
          uv_read_stop(reinterpret_cast<uv_stream_t*>(&client_));
          client_reading_ = false;
        }
        return;
      }
      // OpenSSL reads this socket buffer directly (read_ciphertext); only
      // what it leaves unread (the handshake waits for the broker) is copied.
      ciphertext_in_ = data;
      ciphertext_in_len_ = len;
      if (state_ == State::handshaking) {
        if (upstream_state_ == Upstream::connected) drive_handshake();
      } else {
        read_plaintext();
      }
      hold_unread_ciphertext();
      return;
    case State::flushing:
    case State::closed:
      return;
  }
}

// PROXY protocol header (HAProxy spec v1/v2) before the ClientHello. The
// parser bounds what it waits for (107 bytes for v1, 16 + 2048 for v2), so
// hello_ stays small while the header is incomplete.
void Connection::handle_proxy_header() {
  ListenerStats& stats = *listener_stats_;
  const proxy::ProxyResult result = proxy::parse_proxy_header(hello_);
  if (std::holds_alternative<proxy::NeedMore>(result)) return;
  if (const auto* bad = std::get_if<proxy::Malformed>(&result)) {
    stats.proxy_headers[static_cast<std::size_t>(ProxyOutcome::malformed)]++;
    log::warn("conn {} from {}: malformed PROXY protocol header ({}); closing", id_, socket_peer_, bad->reason);
    close(DisconnectCause::proxy_header_malformed);
    return;
  }
  if (std::holds_alternative<proxy::Absent>(result)) {
    stats.proxy_headers[static_cast<std::size_t>(ProxyOutcome::absent)]++;
    if (listener_->config.proxy_protocol == ProxyProtocolMode::required) {
      log::warn("conn {} from {}: listener {} requires a PROXY protocol header and none was sent; closing", id_,
                socket_peer_, listener_->config.name);
      close(DisconnectCause::proxy_header_missing);
      return;
    }
  } else {
    const auto& found = std::get<proxy::Found>(result);
    stats.proxy_headers[static_cast<std::size_t>(found.header.version == proxy::Version::v1 ? ProxyOutcome::v1
                                                                                            : ProxyOutcome::v2)]++;
    if (found.header.has_source) client_address_ = found.header.source_address();
    log::debug("conn {}: PROXY v{} header from {}: client {}", id_, static_cast<int>(found.header.version),
               socket_peer_, client_address_);
    hello_.erase(hello_.begin(), hello_.begin() + static_cast<std::ptrdiff_t>(found.consumed));
  }
  if (port_routed() && listener_->default_ctx == nullptr) {
    start_plaintext();  // hello_ holds the client's first Kafka bytes, if any
    return;
  }
  state_ = State::reading_hello;
  if (!hello_.empty()) handle_hello();
}

void Connection::handle_hello() {
  const sni::HelloResult result = sni::parse_client_hello(hello_);
  if (std::holds_alternative<sni::NeedMore>(result)) return;
  if (std::holds_alternative<sni::NotTls>(result)) {
    log::info("conn {} from {}: first bytes are not a TLS handshake, closing", id_, client_address_);
    close(DisconnectCause::not_tls);
    return;
  }
  if (const auto* bad = std::get_if<sni::Malformed>(&result)) {
    log::info("conn {} from {}: malformed TLS ClientHello ({}), closing", id_, client_address_, bad->reason);
    close(DisconnectCause::malformed_hello);
    return;
  }
  if (port_routed()) {
    // The target came from the port (accept_from); SNI is optional and only logged.
    if (const auto* found = std::get_if<sni::Found>(&result)) sni_ = found->name;
    const ClusterSettings& cluster = *cluster_->settings;
    log::debug("conn {} from {}: listener {} port -> virtual cluster {}, {}", id_, client_address_,
               listener_->config.name, cluster.config.name, target_label_);
    start_tls(cluster.ctx ? cluster.ctx.get() : listener_->default_ctx.get());
    if (state_ == State::closed) return;
    locate_upstream();
    return;
  }
  if (std::holds_alternative<sni::NoSni>(result)) {
    listener_stats_->sni_missing++;
    reject_hello(DisconnectCause::no_sni, {});
    return;
  }
  sni_ = std::get<sni::Found>(result).name;
  snapshot_ = worker_.snapshot();
  target_ = snapshot_->mapper.identify(sni_);
  if (std::holds_alternative<sni::NotRecognised>(target_.role)) {
    listener_stats_->sni_unrecognized++;
    reject_hello(DisconnectCause::unknown_sni, sni_);
    return;
  }
  if (const auto* node = std::get_if<sni::Node>(&target_.role)) {
    target_label_ = fmt::format("broker {}", node->id);
  } else {
    target_label_ = "bootstrap";
  }
  cluster_ = worker_.cluster(target_.cluster);
  const ClusterSettings& cluster = *cluster_->settings;
  cluster_stats_ = &worker_.stats().cluster(cluster.config.name);
  cluster_stats_->connections_active++;
  log::debug("conn {} from {}: SNI {} -> virtual cluster {}, {}", id_, client_address_, sni_, cluster.config.name,
             target_label_);
  start_tls(cluster.ctx ? cluster.ctx.get() : listener_->default_ctx.get());
  if (state_ == State::closed) return;
  // The handshake is answered only once the broker connection is up: a client
  // must see an unreachable broker as a failed connection attempt, exactly as
  // without kedge. Completing TLS and then closing makes librdkafka take the
  // broker for a pre-0.10 one ("Disconnected while requesting ApiVersion") and
  // stall reconnecting to it after a broker outage.
  locate_upstream();
}

void Connection::reject_hello(DisconnectCause cause, std::string_view sni) {
  if (cause == DisconnectCause::no_sni) {
    log::info("conn {} from {}: TLS ClientHello carries no server_name; refusing (unrecognized_name)", id_,
              client_address_);
  } else {
    log::info("conn {} from {}: server_name {} matches no virtual cluster; refusing (unrecognized_name)", id_,
              client_address_, sni);
  }
  // The reject context's ClientHello callback fails the handshake with
  // alert 112 unrecognized_name (RFC 6066 §3); OpenSSL writes the alert record.
  start_tls(listener_->reject_ctx.get());
  if (state_ == State::closed) return;
  SSL_do_handshake(ssl_);
  ERR_clear_error();
  flush_tls_output();
  close_after_flush(cause);
}

void Connection::start_tls(SSL_CTX* ctx) {
  ssl_ = SSL_new(ctx);
  BIO* bio = new_ciphertext_bio(*this);
  if (ssl_ == nullptr || bio == nullptr) {
    BIO_free(bio);
    log::error("conn {}: cannot allocate TLS state: {}", id_, certs::drain_openssl_errors());
    close(DisconnectCause::tls_handshake_failed);
    return;
  }
  SSL_set_bio(ssl_, bio, bio);  // one BIO both ways: SSL_set_bio takes its single reference
  SSL_set_accept_state(ssl_);
  hello_read_ = 0;  // OpenSSL reads the ClientHello from hello_
  state_ = State::handshaking;
}

// ------------------------------------------------ ciphertext (CiphertextPeer)

// Serves the held bytes first (the ClientHello, or what arrived while the
// broker was being connected), then the socket read in progress.
std::size_t Connection::read_ciphertext(char* out, std::size_t capacity) {
  std::size_t n = 0;
  if (hello_read_ < hello_.size()) {
    n = std::min(capacity, hello_.size() - hello_read_);
    std::memcpy(out, hello_.data() + hello_read_, n);
    hello_read_ += n;
    if (hello_read_ == hello_.size()) {
      std::vector<std::uint8_t>().swap(hello_);
      hello_read_ = 0;
    }
  }
  if (n < capacity && ciphertext_in_len_ > 0) {
    const std::size_t take = std::min(capacity - n, ciphertext_in_len_);
    std::memcpy(out + n, ciphertext_in_, take);
    ciphertext_in_ += take;
    ciphertext_in_len_ -= take;
    n += take;
  }
  return n;
}

void Connection::hold_unread_ciphertext() {
  if (ciphertext_in_len_ > 0 && (state_ == State::handshaking || state_ == State::forwarding)) {
    hello_.insert(hello_.end(), ciphertext_in_, ciphertext_in_ + ciphertext_in_len_);
  }
  ciphertext_in_ = nullptr;
  ciphertext_in_len_ = 0;
}

// TLS records are gathered in the loop's ciphertext buffer and leave in one
// write per burst (flush_tls_output, called at the end of every step that can
// make OpenSSL write). A record that does not fit goes out at once, together
// with what is gathered (one writev), so nothing is copied twice. The buffer
// is shared by the loop's connections: another connection's gathered bytes are
// sent before this one's are added.
void Connection::write_ciphertext(const char* data, std::size_t len) {
  if (state_ == State::closed) return;
  LoopBuffers& buffers = worker_.buffers();
  if (buffers.ciphertext_owner != this && buffers.ciphertext_owner != nullptr) {
    buffers.ciphertext_owner->flush_tls_output();
  }
  buffers.ciphertext_owner = this;
  if (buffers.ciphertext_len + len <= LoopBuffers::kSize) {
    std::memcpy(buffers.ciphertext.get() + buffers.ciphertext_len, data, len);
    buffers.ciphertext_len += len;
    return;
  }
  const std::size_t gathered = buffers.release_ciphertext();
  write_to(Side::client, buffers.ciphertext.get(), gathered, data, len);
}

void Connection::drive_handshake() {
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    state_ = State::forwarding;
    uv_timer_stop(&deadline_);
    log::debug("conn {}: TLS established ({} {}) for {}", id_, SSL_get_version(ssl_),
               SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_)), sni_);
    flush_tls_output();
    if (state_ == State::closed) return;
    read_plaintext();
    return;
  }
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ) {
    flush_tls_output();
    return;
  }
  count_tls_failure(classify_tls_failure(ERR_peek_error()));
  log::info("conn {} from {}: TLS handshake for {} failed: {}", id_, client_address_, sni_,
            certs::drain_openssl_errors());
  flush_tls_output();  // the alert, if OpenSSL produced one
  close_after_flush(DisconnectCause::tls_handshake_failed);
}

// Decrypts every record received into one buffer and forwards it with one
// write per socket read (or per full buffer), not one per TLS record.
void Connection::read_plaintext() {
  char* buffer = worker_.buffers().plaintext.get();
  std::size_t used = 0;
  const auto forward = [&] {
    if (used > 0) forward_client_plaintext(reinterpret_cast<const std::uint8_t*>(buffer), used);
    used = 0;
  };
  while (state_ == State::forwarding) {
    const int n = SSL_read(ssl_, buffer + used, static_cast<int>(LoopBuffers::kSize - used));
    if (n > 0) {
      used += static_cast<std::size_t>(n);
      if (used == LoopBuffers::kSize) forward();
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ) break;
    if (err == SSL_ERROR_ZERO_RETURN) {  // close_notify from the client
      forward();
      close_after_flush(DisconnectCause::client_closed);
      return;
    }
    log::info("conn {} from {}: TLS error: {}", id_, client_address_, certs::drain_openssl_errors());
    close(DisconnectCause::client_error);
    return;
  }
  if (state_ == State::forwarding) forward();
  flush_tls_output();  // TLS 1.3 post-handshake messages (session tickets, key updates)
}

void Connection::forward_client_plaintext(const std::uint8_t* bytes, std::size_t n) {
  bytes_from_client_ += n;
  cluster_stats_->bytes_from_clients += n;
  take_exchange();
  const std::size_t in_flight_before = exchange_->requests.size();
  const std::uint64_t seen_before = requests_.requests_seen();
  const kafka::Errc errc = requests_.feed({bytes, n}, exchange_->requests);
  responses_expected_ += exchange_->requests.size() - in_flight_before;
  count_requests(in_flight_before, seen_before);
  if (errc == kafka::Errc::sasl_v0_unsupported) {
    // After a v0 handshake the SASL tokens travel unframed (KIP-43), which
    // kedge does not follow; every current client uses v1 (KIP-152).
    log::warn("conn {} from {} ({} {}): client sent SaslHandshake v0 (legacy unframed SASL tokens), which "
              "kedge does not support; use a client that sends SaslHandshake v1 (KIP-152); closing",
              id_, client_address_, cluster_->settings->config.name, target_label_);
    cluster_stats_->request_frame_errors++;
    close(DisconnectCause::frame_error);
    return;
  }
  if (errc != kafka::Errc::ok) {
    log::warn("conn {} from {} ({} {}): client request stream error: {}; closing", id_, client_address_,
              cluster_->settings->config.name, target_label_, kafka::to_string(errc));
    cluster_stats_->request_frame_errors++;
    close(DisconnectCause::frame_error);
    return;
  }
  send_to_upstream(bytes, n);
}

void Connection::flush_tls_output() {
  LoopBuffers& buffers = worker_.buffers();
  if (buffers.ciphertext_owner != this) return;
  const std::size_t gathered = buffers.release_ciphertext();
  write_to(Side::client, buffers.ciphertext.get(), gathered);
}

// -------------------------------------------------------------- upstream side

void Connection::locate_upstream() {
  ClusterRuntime& cluster = *cluster_;
  upstream_state_ = Upstream::locating;
  if (std::holds_alternative<sni::Bootstrap>(target_.role)) {
    const auto& servers = cluster.settings->config.backend.bootstrap_servers;
    bootstrap_first_ = cluster.next_bootstrap++ % servers.size();
    connect_upstream(servers[(bootstrap_first_ + bootstrap_attempts_++) % servers.size()]);
    return;
  }
  const std::int32_t node_id = std::get<sni::Node>(target_.role).id;
  const BackendConfig& backend = cluster.settings->config.backend;
  if (backend.discovery == DiscoveryMode::static_pattern) {
    // backend.discovery static: the address is a function of the id, no round trip.
    std::string why;
    if (auto address = static_broker_address(backend.pattern, node_id, &why)) {
      connect_upstream(*address);
      return;
    }
    log::warn("conn {} from {}: broker {} of {} has no address under pattern \"{}\": {}; closing", id_,
              client_address_, node_id, cluster.settings->config.name, backend.pattern, why);
    close(DisconnectCause::unknown_broker);
    return;
  }
  if (auto address = cluster.registry.find(node_id)) {
    connect_upstream(*address);
    return;
  }
  log::info("conn {}: broker {} of {} not known yet; asking the backend", id_, node_id,
            cluster.settings->config.name);
  cluster_stats_->discovery_requests++;
  cluster.discovery->refresh([server = &worker_, id = id_, node_id, runtime = cluster_](
                                 bool ok, const std::string& detail) {
    if (ok) {
      runtime->health.answered();
    } else {
      runtime->health.failed(detail);
    }
    Connection* self = server->find_connection(id);
    if (self == nullptr || self->state_ == State::closed || self->state_ == State::flushing) return;
    ClusterRuntime& vc = *self->cluster_;
    if (auto address = vc.registry.find(node_id)) {
      self->connect_upstream(*address);
    } else if (ok) {
      log::warn("conn {} from {}: {} asks for broker {} but virtual cluster {} has brokers {}; closing", id,
                self->client_address_, self->sni_, node_id, vc.settings->config.name, vc.registry.known_ids());
      self->close(DisconnectCause::unknown_broker);
    } else {
      log::warn("conn {} from {}: cannot learn the address of broker {} of {}: {}; closing", id,
                self->client_address_, node_id, vc.settings->config.name, detail);
      self->close(DisconnectCause::upstream_connect_failed);
    }
  });
}

// An IP literal, or a name resolved recently by this loop (ResolveCache), is
// connected to at once; other names go through getaddrinfo first.
void Connection::connect_upstream(const HostPort& target) {
  upstream_target_ = target;
  upstream_state_ = Upstream::resolving;
  upstream_address_cached_ = false;
  if (auto address = numeric_address(target)) {
    connect_to(*address);
    return;
  }
  if (auto address = worker_.resolve_cache().find(target, uv_now(worker_.loop()))) {
    upstream_address_cached_ = true;
    connect_to(*address);
    return;
  }
  resolve(worker_.loop(), target,
          [server = &worker_, id = id_, target](int status, std::vector<sockaddr_storage> addresses) {
            Connection* self = server->find_connection(id);
            if (self == nullptr || self->state_ == State::closed || self->state_ == State::flushing) return;
            if (status != 0) {
              self->upstream_failed(std::string("cannot resolve: ") + uv_strerror(status));
              return;
            }
            server->resolve_cache().store(target, addresses.front(), uv_now(server->loop()));
            self->connect_to(addresses.front());
          });
}

void Connection::connect_to(const sockaddr_storage& address) {
  upstream_state_ = Upstream::connecting;
  upstream_ = new uv_tcp_t{};
  uv_tcp_init(worker_.loop(), upstream_);
  upstream_->data = this;
  open_handles_++;
  auto* request = new ConnectRequest{{}, &worker_, id_, upstream_};
  connect_started_ns_ = uv_hrtime();
  request->req.data = request;
  const int rc = uv_tcp_connect(&request->req, upstream_, reinterpret_cast<const sockaddr*>(&address),
                                [](uv_connect_t* req, int st) {
                                  std::unique_ptr<ConnectRequest> r(static_cast<ConnectRequest*>(req->data));
                                  Connection* conn = r->server->find_connection(r->connection_id);
                                  if (conn == nullptr || conn->upstream_ != r->handle) return;
                                  conn->on_upstream_connected(st);
                                });
  if (rc != 0) {
    delete request;
    upstream_failed(std::string("connect: ") + uv_strerror(rc));
    return;
  }
  uv_timer_start(
      &connect_timer_,
      [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->upstream_failed("connect timed out"); },
      worker_.config().limits.upstream_connect_timeout_ms, 0);
}

void Connection::on_upstream_connected(int status) {
  if (state_ == State::closed || state_ == State::flushing) return;
  uv_timer_stop(&connect_timer_);
  if (status != 0) {
    upstream_failed(uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(upstream_, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(upstream_), on_alloc, on_upstream_read);
  upstream_reading_ = true;
  const ClusterSettings& cluster = *cluster_->settings;
  if (cluster.upstream_ctx == nullptr) {
    upstream_ready();
    return;
  }
  // backend.tls: the client is answered only once the broker's certificate
  // was verified, so a broker that fails verification looks to the client
  // like one that cannot be reached. The connect timer keeps running.
  const UpstreamTlsConfig& tls = *cluster.config.backend.tls;
  const std::string name = tls.server_name.value_or(upstream_target_.host);
  upstream_tls_ = std::make_unique<UpstreamTls>();
  std::string error;
  if (!upstream_tls_->start(cluster.upstream_ctx.get(), name, tls.verify, error)) {
    upstream_failed("TLS setup: " + error, DisconnectCause::upstream_tls_failed);
    return;
  }
  upstream_tls_->handshake(error);  // produces the ClientHello
  flush_upstream_tls_output();
}

void Connection::upstream_ready() {
  uv_timer_stop(&connect_timer_);
  upstream_state_ = Upstream::connected;
  ClusterStats& stats = *cluster_stats_;
  stats.upstream_connects++;
  stats.upstream_connect_latency.observe((uv_hrtime() - connect_started_ns_) / 1000);
  // Over TLS the broker has answered only once its first record decrypts (upstream_tls_accepted_).
  if (std::holds_alternative<sni::Bootstrap>(target_.role) && !upstream_tls_) cluster_->health.answered();
  log::debug("conn {}: connected to {} ({} {}{}{})", id_, upstream_target_.to_string(),
             cluster_->settings->config.name, target_label_, upstream_tls_ ? ", TLS " : "",
             upstream_tls_ ? upstream_tls_->describe() : "");
  if (ssl_ != nullptr) {
    drive_handshake();  // answers the ClientHello held since it was read
    return;
  }
  // Plaintext listener: forward what the client sent while the broker was located.
  state_ = State::forwarding;
  uv_timer_stop(&deadline_);
  std::vector<std::uint8_t> held;
  held.swap(hello_);
  if (!held.empty()) forward_client_plaintext(held.data(), held.size());
  if (state_ == State::forwarding && !client_reading_ && !client_reads_paused_) {
    uv_read_start(reinterpret_cast<uv_stream_t*>(&client_), on_alloc, on_client_read);
    client_reading_ = true;
  }
}

void Connection::upstream_failed(const std::string& why, DisconnectCause cause) {
  if (state_ == State::closed || state_ == State::flushing) return;
  uv_timer_stop(&connect_timer_);
  const VirtualClusterConfig& cluster = cluster_->settings->config;
  log::warn("conn {} ({} {}): cannot connect to {}: {}", id_, cluster.name, target_label_,
            upstream_target_.to_string(), why);
  if (upstream_address_cached_) worker_.resolve_cache().forget(upstream_target_);
  cluster_stats_->upstream_connect_failures++;
  if (upstream_ != nullptr) {
    close_handle(reinterpret_cast<uv_handle_t*>(upstream_));
    upstream_ = nullptr;
  }
  upstream_tls_.reset();
  upstream_reading_ = false;
  const auto& servers = cluster.backend.bootstrap_servers;
  if (std::holds_alternative<sni::Bootstrap>(target_.role) && bootstrap_attempts_ < servers.size()) {
    connect_upstream(servers[(bootstrap_first_ + bootstrap_attempts_++) % servers.size()]);
    return;
  }
  if (std::holds_alternative<sni::Bootstrap>(target_.role)) {
    // Every bootstrap server failed: the backend is unreachable right now.
    cluster_->health.failed(fmt::format("{}: {}", upstream_target_.to_string(), why));
  }
  close(cause);
}

void Connection::on_upstream_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    self->handle_upstream_bytes(buf->base, static_cast<std::size_t>(nread));
  } else if (nread == UV_EOF) {
    self->close_after_flush(DisconnectCause::upstream_closed);
  } else if (nread < 0) {
    log::debug("conn {}: broker read error: {}", self->id_, uv_strerror(static_cast<int>(nread)));
    self->close(DisconnectCause::upstream_error);
  }
}

void Connection::handle_upstream_bytes(const char* data, std::size_t len) {
  if (!upstream_tls_) {
    process_upstream_plaintext(data, len);
    return;
  }
  if (!upstream_tls_->feed(data, len)) {
    close(DisconnectCause::upstream_error);
    return;
  }
  if (!upstream_tls_->handshake_done()) {
    std::string error;
    const UpstreamTls::Step step = upstream_tls_->handshake(error);
    flush_upstream_tls_output();
    if (state_ == State::closed || state_ == State::flushing) return;
    if (step == UpstreamTls::Step::failed) {
      upstream_failed("TLS handshake with the broker failed: " + error, DisconnectCause::upstream_tls_failed);
      return;
    }
    if (step == UpstreamTls::Step::want_more) return;
    upstream_ready();
    if (state_ == State::closed || state_ == State::flushing) return;
  }
  char* buffer = worker_.buffers().upstream_plaintext.get();
  while (state_ != State::closed && state_ != State::flushing && upstream_tls_) {
    std::size_t n = 0;
    std::string error;
    switch (upstream_tls_->read(buffer, LoopBuffers::kSize, n, error)) {
      case UpstreamTls::ReadResult::data:
        if (!upstream_tls_accepted_) {
          upstream_tls_accepted_ = true;
          if (std::holds_alternative<sni::Bootstrap>(target_.role)) cluster_->health.answered();
        }
        process_upstream_plaintext(buffer, n);
        continue;
      case UpstreamTls::ReadResult::want_more:
        flush_upstream_tls_output();  // TLS 1.3 post-handshake messages
        return;
      case UpstreamTls::ReadResult::closed:  // close_notify from the broker
        close_after_flush(DisconnectCause::upstream_closed);
        return;
      case UpstreamTls::ReadResult::failed:
        if (!upstream_tls_accepted_) {
          upstream_tls_refused(error);
          return;
        }
        log::warn("conn {}: TLS error from broker {}: {}", id_, upstream_target_.to_string(), error);
        close(DisconnectCause::upstream_error);
        return;
    }
  }
}

// A TLS alert before the broker's first application data: the broker refused
// the session (TLS 1.3 client-certificate checks end here). A TLS failure like
// a failed handshake; the client's bytes already went into the session, so
// there is no retry on another bootstrap server.
void Connection::upstream_tls_refused(const std::string& error) {
  const std::string why = "the broker refused the TLS session: " + error;
  log::warn("conn {} ({} {}): {}: {}", id_, cluster_->settings->config.name, target_label_,
            upstream_target_.to_string(), why);
  if (std::holds_alternative<sni::Bootstrap>(target_.role)) {
    cluster_->health.failed(fmt::format("{}: {}", upstream_target_.to_string(), why));
  }
  close(DisconnectCause::upstream_tls_failed);
}

void Connection::flush_upstream_tls_output() {
  if (!upstream_tls_ || upstream_ == nullptr) return;
  LoopBuffers& buffers = worker_.buffers();
  if (buffers.ciphertext_owner != nullptr) buffers.ciphertext_owner->flush_tls_output();  // frees the buffer
  if (state_ == State::closed) return;
  char* buffer = buffers.ciphertext.get();
  while (state_ != State::closed && upstream_tls_->pending() > 0) {
    const std::size_t n = upstream_tls_->take(buffer, LoopBuffers::kSize);
    if (n == 0) break;
    write_to(Side::upstream, buffer, n);
  }
}

void Connection::process_upstream_plaintext(const char* data, std::size_t len) {
  if (state_ != State::forwarding) {
    if (state_ != State::flushing && state_ != State::closed) {
      log::warn("conn {}: broker sent {} bytes before the client finished TLS; closing", id_, len);
      close(DisconnectCause::frame_error);
    }
    return;
  }
  ClientSink sink(*this);
  take_exchange();
  kafka::ResponseProcessor& responses = exchange_->responses;
  const std::uint64_t responses_before = responses.stats().responses;
  const std::uint64_t rewritten_before = responses.stats().rewritten;
  const std::uint64_t stripped_before = responses.stats().node_endpoints_stripped;
  const kafka::Errc errc =
      responses.feed({reinterpret_cast<const std::uint8_t*>(data), len}, exchange_->requests, sink);
  sink.finish();
  count_responses(responses_before, rewritten_before, stripped_before);
  bytes_to_client_ += sink.written;
  cluster_stats_->bytes_to_clients += sink.written;
  flush_tls_output();
  if (state_ == State::closed) return;
  if (out_of_range_node_) {
    const PortRouting& routing = *listener_->config.port_routing;
    log::error("conn {} ({} {} via {}): the broker lists node id {}, outside the port pool of listener {} "
               "(ids 0..{} on ports {}..{}); closing the connection pair rather than advertise a wrong port: "
               "raise routing.max_node_id",
               id_, cluster_->settings->config.name, target_label_, upstream_target_.to_string(),
               *out_of_range_node_, listener_->config.name, routing.max_node_id, routing.broker_port_base,
               std::uint32_t{routing.broker_port_base} + static_cast<std::uint32_t>(routing.max_node_id));
    close_after_flush(DisconnectCause::node_id_out_of_range);
    return;
  }
  if (sink.failed) {
    log::warn("conn {}: TLS write failed: {}", id_, certs::drain_openssl_errors());
    close(DisconnectCause::client_error);
    return;
  }
  if (errc == kafka::Errc::ok && draining_ && !requests_in_flight()) {
    close_after_flush(drain_cause_);  // the last in-flight response is out
    return;
  }
  if (errc != kafka::Errc::ok) {
    const kafka::RequestInfo& request = responses.current_request();
    log::warn("conn {} ({} {} via {}): broker response to {} v{} (correlation id {}): {}; closing the connection "
              "pair",
              id_, cluster_->settings->config.name, target_label_, upstream_target_.to_string(),
              api_name(request.api_key), request.api_version, request.correlation_id, kafka::to_string(errc));
    cluster_stats_->response_frame_errors++;
    close_after_flush(DisconnectCause::frame_error);
    return;
  }
  release_idle_state();
}

void Connection::take_exchange() {
  if (exchange_) return;
  const Limits& limits = worker_.config().limits;
  auto& spare = worker_.buffers().spare_in_flight;
  if (spare.empty()) {
    exchange_ = std::make_unique<InFlightState>(limits.max_frame_bytes, static_cast<kafka::AddressMap&>(*this),
                                                limits.fetch_buffer_bytes);
    return;
  }
  exchange_ = std::move(spare.back());
  spare.pop_back();
  exchange_->responses.reset(limits.max_frame_bytes, static_cast<kafka::AddressMap&>(*this),
                             limits.fetch_buffer_bytes);
}

// Every response owed has been forwarded whole: the codec holds no partial
// frame, so the connection's InFlightState goes back to the loop (an idle
// connection keeps none of it) and the next request takes one again.
void Connection::release_idle_state() {
  if (state_ != State::forwarding || !exchange_ || requests_in_flight()) return;
  if (exchange_->responses.stats().responses != responses_expected_) return;  // a response is still streaming
  responses_expected_ = 0;
  std::unique_ptr<InFlightState> state = std::move(exchange_);
  auto& spare = worker_.buffers().spare_in_flight;
  if (spare.size() >= LoopBuffers::kMaxSpareInFlight) return;  // freed here
  state->timings.clear();
  state->timings_head = 0;
  if (state->timings.capacity() * sizeof(InFlightState::Timing) > LoopBuffers::kSpareKeepBytes) {
    std::vector<InFlightState::Timing>().swap(state->timings);
  }
  state->responses.shrink(LoopBuffers::kSpareKeepBytes);
  spare.push_back(std::move(state));
}

void Connection::send_to_upstream(const std::uint8_t* data, std::size_t len) {
  // Forwarding implies Connected: the handshake is driven only after the connect.
  if (!upstream_tls_) {
    write_to(Side::upstream, reinterpret_cast<const char*>(data), len);
    return;
  }
  if (!upstream_tls_->write(data, len)) {
    log::warn("conn {}: TLS write to broker {} failed: {}", id_, upstream_target_.to_string(),
              certs::drain_openssl_errors());
    close(DisconnectCause::upstream_error);
    return;
  }
  flush_upstream_tls_output();
}

// ------------------------------------------------------ output + flow control

// Sends `data` then `more` (one writev). Only what the socket does not take
// at once is copied, into a write request that owns it until libuv is done.
void Connection::write_to(Side side, const char* data, std::size_t len, const char* more, std::size_t more_len) {
  if (state_ == State::closed || len + more_len == 0) return;
  uv_stream_t* stream = side == Side::client ? reinterpret_cast<uv_stream_t*>(&client_)
                                             : reinterpret_cast<uv_stream_t*>(upstream_);
  std::size_t& queued = side == Side::client ? queued_to_client_ : queued_to_upstream_;
  const std::size_t total = len + more_len;
  std::size_t written = 0;
  if (queued == 0) {
    // Fast path: the socket usually takes everything; no copy, no request.
    uv_buf_t bufs[2] = {uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len)),
                        uv_buf_init(const_cast<char*>(more), static_cast<unsigned>(more_len))};
    const bool both = len > 0 && more_len > 0;
    const int rc = uv_try_write(stream, both || len > 0 ? bufs : bufs + 1, both ? 2 : 1);
    if (rc >= 0) {
      written = static_cast<std::size_t>(rc);
    } else if (rc != UV_EAGAIN) {
      log::debug("conn {}: write to {} failed: {}", id_, side == Side::client ? "client" : "broker",
                 uv_strerror(rc));
      close(side == Side::client ? DisconnectCause::client_error : DisconnectCause::upstream_error);
      return;
    }
    if (written == total) return;
  }
  auto* request = new WriteRequest();
  request->connection = this;
  request->side = side;
  request->size = total - written;
  request->bytes.reset(new char[request->size]);
  if (written < len) {
    std::memcpy(request->bytes.get(), data + written, len - written);
    if (more_len > 0) std::memcpy(request->bytes.get() + (len - written), more, more_len);
  } else {
    std::memcpy(request->bytes.get(), more + (written - len), total - written);
  }
  request->req.data = request;
  uv_buf_t buf = uv_buf_init(request->bytes.get(), static_cast<unsigned>(request->size));
  const int rc = uv_write(&request->req, stream, &buf, 1, on_write_done);
  if (rc != 0) {
    delete request;
    close(side == Side::client ? DisconnectCause::client_error : DisconnectCause::upstream_error);
    return;
  }
  queued += request->size;
  update_flow_control();
}

void Connection::on_write_done(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> request(static_cast<WriteRequest*>(req->data));
  Connection* self = request->connection;
  std::size_t& queued = request->side == Side::client ? self->queued_to_client_ : self->queued_to_upstream_;
  queued -= request->size;
  if (self->state_ == State::closed) return;
  if (status < 0) {
    log::debug("conn {}: write to {} failed: {}", self->id_, request->side == Side::client ? "client" : "broker",
               uv_strerror(status));
    self->close(request->side == Side::client ? DisconnectCause::client_error : DisconnectCause::upstream_error);
    return;
  }
  self->update_flow_control();
  self->maybe_finish_flush();
}

// Symmetric watermarks (style practice 11): a side whose outbound queue is
// above the high watermark stops the *other* side's reads until it drains
// below half of it.
void Connection::update_flow_control() {
  if (state_ == State::closed || state_ == State::flushing) return;
  const std::size_t high = worker_.config().limits.high_watermark_bytes;
  const std::size_t low = high / 2;
  const std::size_t toward_upstream = queued_to_upstream_;
  if (!client_reads_paused_ && toward_upstream > high) {
    client_reads_paused_ = true;
    if (client_reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(&client_));
    client_reading_ = false;
    log::trace("conn {}: {} bytes queued for the broker; pausing client reads", id_, toward_upstream);
  } else if (client_reads_paused_ && toward_upstream <= low && !draining_) {
    client_reads_paused_ = false;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&client_), on_alloc, on_client_read);
    client_reading_ = true;
  }
  if (upstream_state_ != Upstream::connected) return;
  const std::size_t toward_client = queued_to_client_;
  if (!upstream_reads_paused_ && toward_client > high) {
    upstream_reads_paused_ = true;
    if (upstream_reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(upstream_));
    upstream_reading_ = false;
    log::trace("conn {}: {} bytes queued for the client; pausing broker reads", id_, toward_client);
  } else if (upstream_reads_paused_ && toward_client <= low) {
    upstream_reads_paused_ = false;
    uv_read_start(reinterpret_cast<uv_stream_t*>(upstream_), on_alloc, on_upstream_read);
    upstream_reading_ = true;
  }
}

bool Connection::cluster_retired() const { return cluster_ && cluster_->retired; }

std::string Connection::drain_group() const {
  if (!cluster_) return {};
  return fmt::format("{}/{}", cluster_->settings->config.name, target_label_);
}

void Connection::drain(std::uint32_t timeout_ms, DisconnectCause cause) {
  if (state_ == State::closed || state_ == State::flushing || draining_) return;
  if (state_ != State::forwarding) {  // no request can be in flight before TLS is up
    close(cause);
    return;
  }
  draining_ = true;
  drain_cause_ = cause;
  // No new requests: the client's next request would race the close.
  if (client_reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(&client_));
  client_reading_ = false;
  client_reads_paused_ = true;
  if (!requests_in_flight()) {
    close_after_flush(cause);
    return;
  }
  log::debug("conn {}: draining, {} requests in flight", id_, exchange_ ? exchange_->requests.size() : 0);
  uv_timer_stop(&deadline_);
  uv_timer_start(
      &deadline_,
      [](uv_timer_t* timer) {
        auto* self = static_cast<Connection*>(timer->data);
        log::info("conn {}: {} requests still in flight at the drain timeout; closing", self->id_,
                  self->exchange_ ? self->exchange_->requests.size() : 0);
        self->close(self->drain_cause_);
      },
      timeout_ms, 0);
}

void Connection::close_after_flush(DisconnectCause cause) {
  if (state_ == State::closed || state_ == State::flushing) return;
  const bool tls_up = state_ == State::forwarding && ssl_ != nullptr;
  cause_ = cause;
  state_ = State::flushing;
  if (client_reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(&client_));
  client_reading_ = false;
  if (upstream_ != nullptr && upstream_reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(upstream_));
  upstream_reading_ = false;
  if (tls_up && cause != DisconnectCause::client_error) {
    SSL_shutdown(ssl_);  // best-effort close_notify
    ERR_clear_error();
    flush_tls_output();
    if (state_ == State::closed) return;
  }
  if (upstream_tls_ && upstream_tls_->handshake_done() && upstream_state_ == Upstream::connected &&
      cause != DisconnectCause::upstream_error) {
    upstream_tls_->shutdown();  // best-effort close_notify to the broker
    flush_upstream_tls_output();
    if (state_ == State::closed) return;
  }
  uv_timer_stop(&deadline_);
  uv_timer_start(
      &deadline_, [](uv_timer_t* timer) { auto* self = static_cast<Connection*>(timer->data); self->close(self->cause_); },
      kFlushDeadlineMs, 0);
  maybe_finish_flush();
}

void Connection::maybe_finish_flush() {
  if (state_ == State::flushing && queued_to_client_ == 0 && queued_to_upstream_ == 0) close(cause_);
}

void Connection::close(DisconnectCause cause) {
  if (state_ == State::closed) return;
  const bool was_flushing = state_ == State::flushing;
  state_ = State::closed;
  if (!was_flushing) cause_ = cause;
  ListenerStats& stats = *listener_stats_;
  stats.connections_active--;
  stats.closed_by_cause[static_cast<std::size_t>(cause_)]++;
  if (cluster_stats_ != nullptr) cluster_stats_->connections_active--;
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
  log::AccessRecord record;
  record.connection_id = id_;
  record.listener = listener_->config.name;
  record.client = client_address_;
  record.socket_peer = socket_peer_;
  record.sni = sni_;
  if (!target_label_.empty()) {
    record.virtual_cluster = cluster_->settings->config.name;
    const auto* node = std::get_if<sni::Node>(&target_.role);
    record.target = node != nullptr ? "broker" : "bootstrap";
    record.node = node != nullptr ? node->id : -1;
  }
  const std::string upstream =
      upstream_state_ == Upstream::connected ? upstream_target_.to_string() : std::string();
  record.upstream = upstream;
  record.bytes_in = bytes_from_client_;
  record.bytes_out = bytes_to_client_;
  record.duration_ms = static_cast<std::uint64_t>(elapsed);
  record.cause = label(cause_);
  log::access(record);
  LoopBuffers& buffers = worker_.buffers();
  if (buffers.ciphertext_owner == this) buffers.release_ciphertext();  // records for a closed socket: dropped
  close_handle(reinterpret_cast<uv_handle_t*>(&client_));
  if (upstream_ != nullptr) close_handle(reinterpret_cast<uv_handle_t*>(upstream_));
  close_handle(reinterpret_cast<uv_handle_t*>(&deadline_));
  close_handle(reinterpret_cast<uv_handle_t*>(&connect_timer_));
}

void Connection::close_handle(uv_handle_t* handle) {
  if (!uv_is_closing(handle)) uv_close(handle, on_handle_closed);
}

void Connection::on_handle_closed(uv_handle_t* handle) {
  auto* self = static_cast<Connection*>(handle->data);
  const bool owned_upstream = handle != reinterpret_cast<uv_handle_t*>(&self->client_) &&
                              handle != reinterpret_cast<uv_handle_t*>(&self->deadline_) &&
                              handle != reinterpret_cast<uv_handle_t*>(&self->connect_timer_);
  if (owned_upstream) delete reinterpret_cast<uv_tcp_t*>(handle);
  if (--self->open_handles_ == 0 && self->state_ == State::closed) {
    self->worker_.release_connection(self->id_);  // destroys *self
  }
}

// ------------------------------------------------------------------- metrics

// New in-flight entries are the requests that expect a response; the rest of
// the requests the tracker saw are acks=0 Produce (the only request without a
// response, kafka-protocol.md). One clock read per read callback, not per request.
void Connection::count_requests(std::size_t in_flight_before, std::uint64_t seen_before) {
  const std::uint64_t seen = requests_.requests_seen() - seen_before;
  if (seen == 0) return;
  ClusterStats& stats = *cluster_stats_;
  InFlightState& exchange = *exchange_;
  const std::size_t queued = exchange.requests.size() - in_flight_before;
  const std::uint64_t now = queued > 0 ? uv_hrtime() : 0;
  for (std::size_t i = in_flight_before; i < exchange.requests.size(); ++i) {
    const std::size_t slot = api_slot(exchange.requests.at(i).api_key);
    stats.apis[slot].requests++;
    exchange.timings.push_back(InFlightState::Timing{static_cast<std::uint16_t>(slot), now});
  }
  stats.apis[api_slot(0)].requests += seen - queued;
}

void Connection::count_responses(std::uint64_t responses_before, std::uint64_t rewritten_before,
                                 std::uint64_t stripped_before) {
  InFlightState& exchange = *exchange_;
  const kafka::ResponseStats& codec = exchange.responses.stats();
  std::uint64_t completed = codec.responses - responses_before;
  if (completed == 0) return;
  ClusterStats& stats = *cluster_stats_;
  if (codec.node_endpoints_stripped != stripped_before) {
    log::debug("conn {}: {} v{} NodeEndpoints removed: kedge's names do not fit the streamed response's size "
               "(limits.fetch_buffer_bytes {}); the client refreshes Metadata instead",
               id_, kafka::api_name(exchange.responses.current_request().api_key),
               exchange.responses.current_request().api_version,
               worker_.config().limits.fetch_buffer_bytes);
    stats.node_endpoints_removed += codec.node_endpoints_stripped - stripped_before;
  }
  stats.responses_rewritten += codec.rewritten - rewritten_before;
  const std::uint64_t now = uv_hrtime();
  std::vector<InFlightState::Timing>& timings = exchange.timings;
  std::size_t& head = exchange.timings_head;
  for (; completed > 0 && head < timings.size(); --completed) {
    const InFlightState::Timing timing = timings[head++];
    ApiStats& api = stats.apis[timing.api_slot];
    api.responses++;
    api.latency.observe((now - timing.started_ns) / 1000);
  }
  // Keep the FIFO short under steady pipelining: drop the consumed prefix.
  if (head == timings.size()) {
    timings.clear();
    head = 0;
  } else if (head >= 64 && head * 2 >= timings.size()) {
    timings.erase(timings.begin(), timings.begin() + static_cast<std::ptrdiff_t>(head));
    head = 0;
  }
}

void Connection::count_tls_failure(TlsFailure reason) {
  listener_stats_->tls_handshake_failures[static_cast<std::size_t>(reason)]++;
}

// ------------------------------------------------------------ kafka::AddressMap

kafka::AddressMap::Advertised Connection::advertised_for(std::int32_t node_id) {
  if (const auto& routing = listener_->config.port_routing) {
    if (const auto port = broker_port(*routing, node_id)) return Advertised{routing->advertised_host, *port};
    // No pool port for this id. Advertising any port would send the client to
    // another broker (or to nothing) and misroute produce/fetch silently;
    // omitting the broker would leave partitions without a reachable leader.
    // So the response is not delivered: ClientSink drops it and the pair is
    // closed with an error naming the id and the pool (a configuration error:
    // routing.max_node_id is too small), counted under that close cause.
    if (!out_of_range_node_) out_of_range_node_ = node_id;
    return Advertised{routing->advertised_host, 0};
  }
  LoopBuffers& buffers = worker_.buffers();
  const LoopBuffers::AdvertisedKey key{snapshot_->generation, target_.cluster, node_id};
  if (buffers.advertised_key != key) {
    snapshot_->mapper.broker_host_into(buffers.advertised_host, target_.cluster, node_id);
    buffers.advertised_key = key;
  }
  return Advertised{buffers.advertised_host, static_cast<std::int32_t>(listener_->config.advertised_port)};
}

void Connection::on_endpoint_rewritten(std::int16_t api_key, std::int16_t api_version, std::int32_t node_id,
                                       std::string_view real_host, std::int32_t real_port,
                                       const Advertised& advertised) {
  cluster_->registry.learn(node_id, real_host, real_port, LearnedFrom{api_key, api_version}, uv_now(worker_.loop()));
  cluster_stats_->apis[api_slot(api_key)].endpoints_rewritten++;
  if (!log::enabled(LogLevel::debug)) return;  // keep the per-endpoint path free of formatting
  log::debug("rewrote {} v{} for {}: broker {} {}:{} -> {}:{}", api_name(api_key), api_version,
             cluster_->settings->config.name,
             node_id, real_host, real_port, advertised.host, advertised.port);
}

}  // namespace kedge
