#include "gateway/connection.h"

#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <fmt/ranges.h>

#include "common/ascii.h"
#include "common/log.h"
#include "kafka_codec/errors.h"
#include "kafka_codec/refusal.h"
#include "kafka_codec/sasl.h"
#include "kafka_codec/split.h"
#include "identity/plain.h"
#include "gateway/worker.h"
#include "identity/principal.h"
#include "upstream/kafka_client.h"
#include "upstream/tls.h"
#include "proxy/proxy_header.h"
#include "sni/client_hello.h"

namespace kedge {
namespace {

constexpr std::uint32_t kFlushDeadlineMs = 5'000;
// A Kafka client sends one small request and waits: on a plaintext listener,
// what it sends while the broker is being connected is held up to this much,
// then its reads stop until the broker is up.
constexpr std::size_t kMaxHeldBytes = 64 * 1024;

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

}  // namespace

// ------------------------------------------------------------- state machine

std::string_view Connection::name(State state) {
  switch (state) {
    case State::reading_proxy_header: return "reading_proxy_header";
    case State::reading_hello: return "reading_hello";
    case State::connecting: return "connecting";
    case State::handshaking: return "handshaking";
    case State::forwarding: return "forwarding";
    case State::draining: return "draining";
    case State::flushing: return "flushing";
    case State::closed: return "closed";
  }
  return "?";
}

// The transitions of the diagram in connection.h; closed is reachable from every state.
bool Connection::allowed(State from, State to) {
  if (to == State::closed) return from != State::closed;
  switch (from) {
    case State::reading_proxy_header: return to == State::reading_hello || to == State::connecting;
    case State::reading_hello:  // handshaking: the HTTP front, which needs no broker link
      return to == State::connecting || to == State::handshaking || to == State::flushing;
    case State::connecting: return to == State::handshaking || to == State::forwarding;
    case State::handshaking: return to == State::forwarding || to == State::flushing;
    case State::forwarding: return to == State::draining || to == State::flushing;
    case State::draining: return to == State::flushing;
    case State::flushing:
    case State::closed: return false;
  }
  return false;
}

void Connection::enter(State next) {
  if (!allowed(state_, next)) {
    log::error("conn {}: illegal state transition {} -> {}; closing", id_, name(state_), name(next));
    close(DisconnectCause::frame_error);
    return;
  }
  state_ = next;
}

// ------------------------------------------------------------------ lifetime

// Delivers response bytes to the client as the ResponseProcessor emits them:
// encrypted (DownstreamTls) or, on a plaintext listener, to the socket. Once a
// response named a broker id outside the listener's port pool nothing more is
// delivered (see advertised_for); what was staged before it still is (finish).
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
        const std::size_t whole = c.tls_.started() ? bytes.size() - bytes.size() % kRecord : bytes.size();
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
    if (!c.tls_.started()) {
      c.send_to_client(reinterpret_cast<const char*>(data), n);
      return;
    }
    if (!c.tls_.write(data, n)) failed = true;
  }
  Connection& c;
  char* const staged;  // the loop's response_plaintext buffer, kRecord bytes
  std::size_t staged_len = 0;
  bool failed = false;
  std::size_t written = 0;
};

// Forwarded client bytes during a routed feed. After a refusal (a request
// before authentication) or a failed send nothing more is forwarded.
// The feed hands the broker's bytes over in pieces: a frame's 12-byte head
// (held until its route was known), then the rest of the frame where it lies
// in the client's bytes, and whole inspected frames. The pieces of one feed
// leave in one write (writev, or one TLS flush), as the plain path sends a
// read at once: pieces inside the client's bytes are referenced (they outlive
// the feed), small ones elsewhere are copied, and only a large piece from
// elsewhere (an inspected frame, valid only during its call) or a full piece
// list sends early. finish() sends what is pending.
struct Connection::BrokerSink final : kafka::ByteSink {
  // Pieces copied rather than sent at once: frame heads, and the prefix of a Produce that streams once its
  // topic is known (RequestRouter::kInspectPrefixBytes past a header with a short client id).
  static constexpr std::size_t kCopyBytes = 1024;
  static constexpr std::size_t kMaxPieces = 64;   // well under IOV_MAX
  BrokerSink(Connection& connection, std::span<const std::uint8_t> input) : c(connection), input(input) {}
  void write(std::span<const std::uint8_t> bytes) override {
    if (failed || c.refused_request_ || c.ending() || bytes.empty()) return;
    const bool in_input = bytes.data() >= input.data() && bytes.data() + bytes.size() <= input.data() + input.size();
    if (in_input) {
      Piece& last = pieces[count > 0 ? count - 1 : 0];
      if (count > 0 && !last.copied && last.data + last.len == bytes.data()) {
        last.len += bytes.size();  // continues the previous piece
      } else {
        add({bytes.data(), bytes.size(), false});
      }
    } else if (bytes.size() <= kCopyBytes && copied_len + bytes.size() <= copies.size()) {
      std::memcpy(copies.data() + copied_len, bytes.data(), bytes.size());
      add({copies.data() + copied_len, bytes.size(), true});
      copied_len += bytes.size();
    } else {
      add({bytes.data(), bytes.size(), false});
      finish();  // it is valid only during this call
      return;
    }
    if (count == kMaxPieces || copied_len + kCopyBytes > copies.size()) finish();
  }
  void finish() {
    if (count == 0) return;
    std::array<uv_buf_t, kMaxPieces> bufs;
    for (std::size_t i = 0; i < count; ++i) {
      bufs[i] = uv_buf_init(reinterpret_cast<char*>(const_cast<std::uint8_t*>(pieces[i].data)),
                            static_cast<unsigned>(pieces[i].len));
    }
    if (!failed && !c.refused_request_ && !c.ending() && !c.link_.send(std::span<const uv_buf_t>(bufs.data(), count))) {
      failed = true;
    }
    count = 0;
    copied_len = 0;
  }
  struct Piece {
    const std::uint8_t* data;
    std::size_t len;
    bool copied;
  };
  void add(Piece piece) { pieces[count++] = piece; }
  Connection& c;
  const std::span<const std::uint8_t> input;
  std::array<Piece, kMaxPieces> pieces;
  std::size_t count = 0;
  std::array<std::uint8_t, 16 * 1024> copies;
  std::size_t copied_len = 0;
  bool failed = false;
};

Connection::Connection(Worker& worker, std::shared_ptr<const ListenerSettings> listener, std::uint64_t id)
    : worker_(worker),
      listener_(std::move(listener)),
      listener_stats_(&worker.stats().listener(listener_->config.name)),
      id_(id),
      client_(worker.loop(), worker.buffers().scratch, *this),
      tls_(worker.buffers().records, *this),
      link_(worker.loop(), worker.buffers().scratch, &worker.resolve_cache(), *this),
      in_flight_(worker.buffers().in_flight, *this,
                 InFlightLimits{worker.config().limits.max_frame_bytes, worker.config().limits.fetch_buffer_bytes}),
      flow_(worker.config().limits.high_watermark_bytes) {}

Connection::~Connection() = default;

void Connection::accept_from(uv_stream_t* listener_stream, std::optional<std::int32_t> port_node_id) {
  uv_timer_init(worker_.loop(), &deadline_);
  deadline_.data = this;
  parts_open_ = 2;  // the client socket and the deadline timer
  if (client_.accept(listener_stream) != 0) {
    close(DisconnectCause::client_error);
    return;
  }
  socket_peer_ = client_.peer_name();
  client_address_ = socket_peer_;
  if (listener_->config.proxy_protocol != ProxyProtocolMode::off) state_ = State::reading_proxy_header;
  uv_timer_start(
      &deadline_, [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_deadline(); },
      worker_.config().limits.client_hello_timeout_ms, 0);
  client_.start_reading();
  if (!port_routed()) return;
  if (!route_by_port(port_node_id)) return;
  if (listener_->default_ctx == nullptr && state_ != State::reading_proxy_header) {
    log::debug("conn {} from {}: listener {} (plaintext) -> virtual cluster {}, {}", id_, client_address_,
               listener_->config.name, cluster_name(), target_label_);
    locate_broker();
  }
}

// One timer serves every deadline, and what it ends depends on the state.
void Connection::on_deadline() {
  switch (state_) {
    case State::flushing:
      close(cause_);
      return;
    case State::draining:
      log::info("conn {}: {} requests still in flight at the drain timeout; closing", id_,
                in_flight_.requests_in_flight());
      close(drain_cause_);
      return;
    default:
      log::info("conn {} from {}: no {} within {} ms, closing", id_, client_address_,
                !tls_.started() && listener_->default_ctx == nullptr ? "broker connection" : "TLS handshake",
                worker_.config().limits.client_hello_timeout_ms);
      if (state_ == State::handshaking) {
        listener_stats_->tls_handshake_failures[static_cast<std::size_t>(TlsFailure::timeout)]++;
      }
      close(DisconnectCause::hello_timeout);
      return;
  }
}

bool Connection::cluster_retired() const { return cluster_ && cluster_->retired; }

std::string Connection::drain_group() const {
  if (!cluster_) return {};
  return fmt::format("{}/{}", cluster_name(), target_label_);
}

const std::string& Connection::cluster_name() const { return cluster_->settings->config.name; }

void Connection::drain(std::uint32_t timeout_ms, DisconnectCause cause) {
  if (ending() || state_ == State::draining) return;
  if (state_ != State::forwarding) {  // no request can be in flight before TLS is up
    close(cause);
    return;
  }
  if (http_) {  // a WebSocket gets Close 1001; HTTP ends after its current answer
    drain_cause_ = cause;
    http_->drain();
    return;
  }
  enter(State::draining);
  drain_cause_ = cause;
  client_.pause(io::PauseReason::draining);  // no new requests: the client's next one would race the close
  if (!in_flight_.requests_pending()) {
    close_after_flush(cause);
    return;
  }
  log::debug("conn {}: draining, {} requests in flight", id_, in_flight_.requests_in_flight());
  uv_timer_stop(&deadline_);
  uv_timer_start(
      &deadline_, [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_deadline(); }, timeout_ms, 0);
}

void Connection::close_after_flush(DisconnectCause cause) {
  if (ending()) return;
  const bool tls_up = (state_ == State::forwarding || state_ == State::draining) && tls_.started();
  cause_ = cause;
  enter(State::flushing);
  client_.pause(io::PauseReason::closing);
  link_.pause(io::PauseReason::closing);
  if (tls_up && cause != DisconnectCause::client_error) {
    tls_.shutdown();  // best-effort close_notify to the client
    if (state_ == State::closed) return;
  }
  if (cause != DisconnectCause::upstream_error) {
    link_.shutdown();  // best-effort close_notify to the broker (backend.tls)
    if (state_ == State::closed) return;
  }
  uv_timer_stop(&deadline_);
  uv_timer_start(
      &deadline_, [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_deadline(); }, kFlushDeadlineMs,
      0);
  maybe_finish_flush();
}

void Connection::maybe_finish_flush() {
  if (state_ == State::flushing && client_.queued_bytes() == 0 && link_.queued_bytes() == 0) close(cause_);
}

void Connection::close(DisconnectCause cause) {
  if (state_ == State::closed) return;
  const bool was_flushing = state_ == State::flushing;
  enter(State::closed);
  if (!was_flushing) cause_ = cause;
  ListenerStats& stats = *listener_stats_;
  stats.connections_active--;
  stats.closed_by_cause[static_cast<std::size_t>(cause_)]++;
  if (cluster_stats_ != nullptr) cluster_stats_->connections_active--;
  if (!admitted_address_.empty()) {
    cluster_->backend_state->connections.release(admitted_address_, std::chrono::steady_clock::now());
  }
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
  log::AccessRecord record;
  record.connection_id = id_;
  record.listener = listener_->config.name;
  record.client = client_address_;
  record.socket_peer = socket_peer_;
  record.sni = sni_;
  if (!target_label_.empty()) {
    record.virtual_cluster = cluster_name();
    const auto* node = std::get_if<sni::Node>(&target_.role);
    record.target = http_mode_ ? "http" : node != nullptr ? "broker" : "bootstrap";
    record.node = node != nullptr ? node->id : -1;
  }
  record.upstream = broker_address_;
  record.bytes_in = bytes_from_client_;
  record.bytes_out = bytes_to_client_;
  record.duration_ms = static_cast<std::uint64_t>(elapsed);
  record.cause = label(cause_);
  record.principal = principal_;
  log::access(record);
  set_principal({});
  tls_.discard();  // records gathered for a socket being closed: dropped
  client_.close();
  link_.close();
  if (sasl_) {
    for (uv_timer_t* timer : {&auth_delay_timer_, &session_timer_}) {
      uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* handle) {
        static_cast<Connection*>(handle->data)->part_closed();
      });
    }
  }
  if (quota_timer_open_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&quota_timer_), [](uv_handle_t* handle) {
      static_cast<Connection*>(handle->data)->part_closed();
    });
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline_), [](uv_handle_t* handle) {
    static_cast<Connection*>(handle->data)->part_closed();
  });
}

void Connection::part_closed() {
  if (--parts_open_ == 0 && state_ == State::closed) worker_.release_connection(id_);  // destroys *this
}

// ------------------------------------------------------------- client side

void Connection::on_socket_read(io::StreamSocket&, const char* data, std::size_t len) { on_client_bytes(data, len); }

void Connection::on_socket_read_end(io::StreamSocket&, int status) {
  if (status == UV_EOF) {
    if (state_ == State::forwarding || state_ == State::draining) {
      close_after_flush(DisconnectCause::client_closed);
    } else {
      close(DisconnectCause::client_closed);
    }
    return;
  }
  log::debug("conn {}: client read error: {}", id_, uv_strerror(status));
  close(DisconnectCause::client_error);
}

void Connection::on_socket_write_failed(io::StreamSocket&, int status) {
  log::debug("conn {}: write to client failed: {}", id_, uv_strerror(status));
  close(DisconnectCause::client_error);
}

void Connection::on_socket_write_progress(io::StreamSocket&) {
  if (http_ && !ending()) http_->on_write_progress();
  update_flow_control();
  maybe_finish_flush();
}

void Connection::on_socket_closed(io::StreamSocket&) { part_closed(); }

void Connection::on_client_bytes(const char* data, std::size_t len) {
  switch (state_) {
    case State::reading_proxy_header:
      held_.insert(held_.end(), data, data + len);
      read_proxy_header();
      return;
    case State::reading_hello:
      held_.insert(held_.end(), data, data + len);
      read_hello();
      return;
    case State::connecting:
      if (tls_.started()) {
        tls_.hold(data, len);  // answered once the broker is up
        return;
      }
      held_.insert(held_.end(), data, data + len);
      if (held_.size() > kMaxHeldBytes) client_.pause(io::PauseReason::held);
      return;
    case State::handshaking:
      tls_.receive(data, len, [this] { drive_handshake(); });
      return;
    case State::forwarding:
    case State::draining:
      if (!tls_.started()) {  // plaintext listener
        forward_to_broker(reinterpret_cast<const std::uint8_t*>(data), len);
        return;
      }
      tls_.receive(data, len, [this] { read_plaintext(); });
      return;
    case State::flushing:
    case State::closed:
      return;
  }
}

// PROXY protocol header (HAProxy spec v1/v2) before the ClientHello. The
// parser bounds what it waits for (107 bytes for v1, 16 + 2048 for v2), so
// held_ stays small while the header is incomplete.
void Connection::read_proxy_header() {
  ListenerStats& stats = *listener_stats_;
  const proxy::ProxyResult result = proxy::parse_proxy_header(held_);
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
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(found.consumed));
  }
  if (port_routed() && listener_->default_ctx == nullptr) {
    log::debug("conn {} from {}: listener {} (plaintext) -> virtual cluster {}, {}", id_, client_address_,
               listener_->config.name, cluster_name(), target_label_);
    locate_broker();  // held_ holds the client's first Kafka bytes, if any
    return;
  }
  enter(State::reading_hello);
  if (!held_.empty()) read_hello();
}

void Connection::read_hello() {
  const sni::HelloResult result = sni::parse_client_hello(held_);
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
    if (start_cluster_tls()) locate_broker();
    return;
  }
  if (std::holds_alternative<sni::NoSni>(result)) {
    listener_stats_->sni_missing++;
    reject_hello(DisconnectCause::no_sni, {});
    return;
  }
  const auto& hello = std::get<sni::Found>(result);
  sni_ = hello.name;
  snapshot_ = worker_.snapshot();
  target_ = snapshot_->mapper.identify(sni_);
  http_mode_ = !std::holds_alternative<sni::NotRecognised>(target_.role) && http_wanted(hello);
  if (std::holds_alternative<sni::NotRecognised>(target_.role) ||
      (std::holds_alternative<sni::Http>(target_.role) && !http_mode_)) {  // an HTTP name with the front off
    listener_stats_->sni_unrecognized++;
    reject_hello(DisconnectCause::unknown_sni, sni_);
    return;
  }
  if (http_mode_) {
    target_label_ = "http";
  } else if (const auto* node = std::get_if<sni::Node>(&target_.role)) {
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
  if (!admit_connection() || !start_client_authentication()) return;
  if (http_mode_) {
    start_http();
    return;
  }
  // The handshake is answered only once the broker connection is up (connection.h).
  if (start_cluster_tls()) locate_broker();
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
  if (!start_tls(listener_->reject_ctx.get())) return;
  std::string ignored;
  tls_.handshake(ignored);
  ERR_clear_error();
  tls_.flush();
  close_after_flush(cause);
}

// The cluster's certificate (else the listener's) and, when the pair
// authenticates clients by certificate (authentication_, set by
// start_client_authentication), the check that asks for one.
bool Connection::start_cluster_tls() {
  const ClusterSettings& cluster = *cluster_->settings;
  SSL_CTX* ctx = cluster.ctx ? cluster.ctx.get() : listener_->default_ctx.get();
  if (authentication_ && authentication_->config.mtls) client_check_.emplace(authentication_, cluster.config.name);
  return start_tls(ctx, client_check_ ? &*client_check_ : nullptr);
}

// Starts the TLS session over the held ClientHello.
bool Connection::start_tls(SSL_CTX* ctx, ClientCertificateCheck* client_check) {
  std::string error;
  if (!tls_.start(ctx, std::move(held_), error, client_check)) {
    log::error("conn {}: {}", id_, error);
    close(DisconnectCause::tls_handshake_failed);
    return false;
  }
  held_ = {};
  return true;
}

void Connection::drive_handshake() {
  std::string error;
  switch (tls_.handshake(error)) {
    case DownstreamTls::Step::done:
      if (client_check_) client_certificate_accepted(client_check_->outcome());
      enter(State::forwarding);
      uv_timer_stop(&deadline_);
      log::debug("conn {}: TLS established ({}) for {}{}", id_, tls_.describe(), sni_, http_mode_ ? " (HTTP)" : "");
      tls_.flush();
      if (state_ == State::closed) return;
      if (http_mode_) {
        HttpFront::Settings settings;
        settings.connection_id = id_;
        settings.client_address = client_address_;
        settings.cluster_name = cluster_name();
        settings.config = cluster_->settings->config.http;
        settings.stats = &cluster_stats_->http;
        // SASL termination: HTTP clients bring the same credentials (mTLS alone needs none: the certificate did).
        settings.identity.passthrough = authentication_ == nullptr;
        if (sasl_ && principal_.empty()) {
          settings.identity.required = true;
          settings.identity.basic = authentication_->users != nullptr;
          settings.identity.bearer = authentication_->oauthbearer != nullptr;
        }
        http_ = std::make_unique<HttpFront>(static_cast<HttpFront::Host&>(*this), std::move(settings));
      }
      read_plaintext();
      return;
    case DownstreamTls::Step::want_more:
      tls_.flush();
      return;
    case DownstreamTls::Step::failed:
      if (client_check_ && client_check_->outcome().state == ClientCertificateOutcome::State::refused) {
        client_certificate_refused(client_check_->outcome());
        return;
      }
      listener_stats_->tls_handshake_failures[static_cast<std::size_t>(classify_tls_failure(tls_.failure_code()))]++;
      log::info("conn {} from {}: TLS handshake for {} failed: {}", id_, client_address_, sni_, error);
      tls_.flush();  // the alert, if OpenSSL produced one
      close_after_flush(DisconnectCause::tls_handshake_failed);
      return;
  }
}

// The handshake completed with the client certificate check satisfied: the
// certificate gave a bound principal (accepted), verified where SASL names
// the principal (verified), or was absent where it is optional.
void Connection::client_certificate_accepted(const ClientCertificateOutcome& outcome) {
  switch (outcome.state) {
    case ClientCertificateOutcome::State::accepted:
      set_principal(outcome.principal);
      cluster_stats_->authentications[static_cast<std::size_t>(AuthMechanism::mtls)]
                                     [static_cast<std::size_t>(AuthOutcome::authenticated)]++;
      log::debug("conn {}: client certificate accepted: principal \"{}\" on {}", id_,
                 identity::printable_excerpt(principal_, 200), cluster_name());
      return;
    case ClientCertificateOutcome::State::verified:
      log::debug("conn {}: client certificate verified; SASL authenticates the principal on {}", id_,
                 cluster_name());
      return;
    default:
      return;
  }
}

// mTLS refused the client: the handshake failed (OpenSSL's alert, or
// access_denied at the ticket) or an established session was ended before any
// of its application data was read. Nothing reached the broker.
void Connection::client_certificate_refused(const ClientCertificateOutcome& outcome) {
  listener_stats_->tls_handshake_failures[static_cast<std::size_t>(TlsFailure::client_certificate)]++;
  cluster_stats_->client_certificate_refusals[static_cast<std::size_t>(outcome.reason)]++;
  const AuthOutcome counted = outcome.reason == ClientCertificateRefusal::not_bound ? AuthOutcome::principal_not_bound
                                                                                    : AuthOutcome::invalid_credentials;
  cluster_stats_->authentications[static_cast<std::size_t>(AuthMechanism::mtls)][static_cast<std::size_t>(counted)]++;
  const int alert = tls_.sent_alert();
  log::info("conn {} from {}: client certificate refused for virtual cluster {} ({}): {}; TLS alert sent: {}", id_,
            client_address_, cluster_name(), label(outcome.reason), outcome.detail,
            alert >= 0 ? fmt::format("{} ({})", tls_alert_name(alert), alert)
                       : std::string("none (TLS 1.2 session closed)"));
  tls_.flush();  // the alert
  close_after_flush(outcome.reason == ClientCertificateRefusal::not_bound ? DisconnectCause::principal_not_bound
                                                                           : DisconnectCause::client_certificate_refused);
}

// Decrypts every record received into one buffer and forwards it with one
// write per socket read (or per full buffer), not one per TLS record.
void Connection::read_plaintext() {
  char* buffer = worker_.buffers().plaintext.get();
  std::size_t used = 0;
  const auto forward = [&] {
    if (used > 0) forward_to_broker(reinterpret_cast<const std::uint8_t*>(buffer), used);
    used = 0;
  };
  while (state_ == State::forwarding || state_ == State::draining) {
    std::size_t n = 0;
    std::string error;
    switch (tls_.read(buffer + used, LoopBuffers::kSize - used, n, error)) {
      case DownstreamTls::Read::data:
        used += n;
        if (used == LoopBuffers::kSize) forward();
        continue;
      case DownstreamTls::Read::want_more:
        forward();
        tls_.flush();  // TLS 1.3 post-handshake messages (session tickets, key updates)
        return;
      case DownstreamTls::Read::closed:
        forward();
        close_after_flush(DisconnectCause::client_closed);
        return;
      case DownstreamTls::Read::failed:
        log::info("conn {} from {}: TLS error: {}", id_, client_address_, error);
        close(DisconnectCause::client_error);
        return;
    }
  }
}

void Connection::forward_to_broker(const std::uint8_t* bytes, std::size_t n) {
  bytes_from_client_ += n;
  cluster_stats_->bytes_from_clients += n;
  if (http_) {
    http_->on_bytes(bytes, n);
    return;
  }
  if (routes_requests()) {
    // Terminated authentication: each request is routed (route());
    // forwarded bytes go out through BrokerSink, SASL requests to on_captured.
    BrokerSink to_broker(*this, {bytes, n});
    const kafka::Errc errc = in_flight_.on_client_bytes({bytes, n}, *cluster_stats_, *this, to_broker);
    to_broker.finish();
    if (ending()) return;
    if (refused_request_ && session_expired_) {
      end_expired_session(fmt::format("{} v{}", api_name(refused_request_->api_key), refused_request_->api_version));
      return;
    }
    if (refused_request_) {
      log::info("conn {} from {} ({} {}): {} v{} before authenticating (virtual cluster {} requires SASL "
                "authentication by kedge); closing, as a broker does",
                id_, client_address_, cluster_name(), target_label_, api_name(refused_request_->api_key),
                refused_request_->api_version, cluster_name());
      cluster_stats_->authentications[static_cast<std::size_t>(AuthMechanism::none)]
                                     [static_cast<std::size_t>(AuthOutcome::illegal_state)]++;
      close(DisconnectCause::authentication_required);
      return;
    }
    if (errc != kafka::Errc::ok) {
      log::warn("conn {} from {} ({} {}): client request stream error: {}; closing", id_, client_address_,
                cluster_name(), target_label_, kafka::to_string(errc));
      cluster_stats_->request_frame_errors++;
      close(DisconnectCause::frame_error);
      return;
    }
    if (to_broker.failed) {
      log::warn("conn {}: sending to broker {} failed: {}", id_, link_.target().to_string(),
                link_.tls() ? certs::drain_openssl_errors() : std::string("socket closed"));
      close(DisconnectCause::upstream_error);
      return;
    }
    if (link_.queued_bytes() > 0) update_flow_control();
    return;
  }
  const kafka::Errc errc = in_flight_.on_client_bytes({bytes, n}, *cluster_stats_);
  if (errc == kafka::Errc::sasl_v0_unsupported) {
    // After a v0 handshake the SASL tokens travel unframed (KIP-43), which
    // kedge does not follow; every current client uses v1 (KIP-152).
    log::warn("conn {} from {} ({} {}): client sent SaslHandshake v0 (legacy unframed SASL tokens), which "
              "kedge does not support; use a client that sends SaslHandshake v1 (KIP-152); closing",
              id_, client_address_, cluster_name(), target_label_);
    cluster_stats_->request_frame_errors++;
    close(DisconnectCause::frame_error);
    return;
  }
  if (errc != kafka::Errc::ok) {
    log::warn("conn {} from {} ({} {}): client request stream error: {}; closing", id_, client_address_,
              cluster_name(), target_label_, kafka::to_string(errc));
    cluster_stats_->request_frame_errors++;
    close(DisconnectCause::frame_error);
    return;
  }
  if (!link_.send(bytes, n)) {
    if (state_ == State::closed) return;  // the link reported the failure already
    log::warn("conn {}: sending to broker {} failed: {}", id_, link_.target().to_string(),
              link_.tls() ? certs::drain_openssl_errors() : std::string("socket closed"));
    close(DisconnectCause::upstream_error);
    return;
  }
  if (link_.queued_bytes() > 0) update_flow_control();  // only a queue can cross the high watermark
}

// Sends `data` then `more` to the client; a failure closes the connection.
void Connection::send_to_client(const char* data, std::size_t len, const char* more, std::size_t more_len) {
  if (state_ == State::closed) return;
  if (const int rc = client_.write(data, len, more, more_len); rc != 0) {
    log::debug("conn {}: write to client failed: {}", id_, uv_strerror(rc));
    close(DisconnectCause::client_error);
    return;
  }
  if (client_.queued_bytes() > 0) update_flow_control();
}

void Connection::send_ciphertext(const char* first, std::size_t first_len, const char* second,
                                 std::size_t second_len) {
  send_to_client(first, first_len, second, second_len);
}

void Connection::update_flow_control() {
  if (ending()) return;
  if (flow_.regulate(link_.queued_bytes(), client_) == FlowControl::Change::paused) {
    log::trace("conn {}: {} bytes queued for the broker; pausing client reads", id_, link_.queued_bytes());
  }
  if (!link_.up()) return;
  if (flow_.regulate(client_.queued_bytes(), link_) == FlowControl::Change::paused) {
    log::trace("conn {}: {} bytes queued for the client; pausing broker reads", id_, client_.queued_bytes());
  }
}

bool Connection::port_routed() const { return listener_->config.port_routing.has_value(); }

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
  cluster_stats_ = &worker_.stats().cluster(cluster_name());
  cluster_stats_->connections_active++;
  return admit_connection() && start_client_authentication();
}

// ------------------------------------------------------------- broker side

// Where the broker is: bootstrap names go to the cluster's bootstrap servers
// (rotating start, next on failure); broker-<id> to the registry, the static
// pattern, or a discovery round trip when the id is not known yet.
void Connection::locate_broker() {
  enter(State::connecting);
  if (state_ != State::connecting) return;
  ClusterRuntime& cluster = *cluster_;
  const BackendConfig& backend = cluster.settings->config.backend;
  if (bootstrap()) {
    connect_broker(backend.bootstrap_servers, cluster.next_bootstrap++ % backend.bootstrap_servers.size());
    return;
  }
  const std::int32_t node_id = std::get<sni::Node>(target_.role).id;
  if (backend.discovery == DiscoveryMode::static_pattern) {
    // backend.discovery static: the address is a function of the id, no round trip.
    std::string why;
    if (auto address = static_broker_address(backend.pattern, node_id, &why)) {
      connect_broker({*address}, 0);
      return;
    }
    log::warn("conn {} from {}: broker {} of {} has no address under pattern \"{}\": {}; closing", id_,
              client_address_, node_id, cluster_name(), backend.pattern, why);
    close(DisconnectCause::unknown_broker);
    return;
  }
  if (auto address = cluster.registry.find(node_id)) {
    connect_broker({*address}, 0);
    return;
  }
  log::info("conn {}: broker {} of {} not known yet; asking the backend", id_, node_id, cluster_name());
  cluster_stats_->discovery_requests++;
  cluster.discovery->refresh([worker = &worker_, id = id_, node_id, runtime = cluster_](
                                 bool ok, const std::string& detail) {
    if (ok) {
      runtime->health.answered();
    } else {
      runtime->health.failed(detail);
    }
    Connection* self = worker->find_connection(id);
    if (self == nullptr || self->state_ != State::connecting) return;
    ClusterRuntime& vc = *self->cluster_;
    if (auto address = vc.registry.find(node_id)) {
      self->connect_broker({*address}, 0);
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

void Connection::connect_broker(std::vector<HostPort> candidates, std::size_t first) {
  if (candidates.empty()) {  // the config loader requires a bootstrap server; never leave the link unopened
    close(DisconnectCause::upstream_connect_failed);
    return;
  }
  // With backend.tls the client is answered only once the broker's
  // certificate was verified, so a broker that fails verification looks to
  // the client like one that cannot be reached.
  const ClusterSettings& cluster = *cluster_->settings;
  const upstream::LinkSettings settings = upstream::backend_link_settings(
      cluster.config.backend, cluster.upstream_ctx.get(), worker_.config().limits.upstream_connect_timeout_ms);
  parts_open_++;  // the link reports its close from now on
  link_.connect(std::move(candidates), first, settings);
}

void Connection::on_link_attempt_failed(const HostPort& target, const upstream::LinkError& error, bool) {
  log::warn("conn {} ({} {}): cannot connect to {}: {}", id_, cluster_name(), target_label_, target.to_string(),
            error.text());
  cluster_stats_->upstream_connect_failures++;
}

void Connection::on_link_up() {
  ClusterStats& stats = *cluster_stats_;
  stats.upstream_connects++;
  stats.upstream_connect_latency.observe((uv_hrtime() - link_.attempt_started_ns()) / 1000);
  broker_address_ = link_.target().to_string();
  // Over TLS the broker has answered only once its first record decrypts (on_link_data).
  if (bootstrap() && !link_.tls()) cluster_->health.answered();
  log::debug("conn {}: connected to {} ({} {}{}{})", id_, broker_address_, cluster_name(), target_label_,
             link_.tls() ? ", TLS " : "", link_.describe_tls());
  if (authentication_ && cluster_->settings->config.backend.sasl) {
    start_service_session();  // after_broker_ready() once kedge itself is authenticated
    return;
  }
  after_broker_ready();
}

// The broker connection is usable by the client: answer the ClientHello held
// since it was read, or (plaintext listener) forward what the client sent.
void Connection::after_broker_ready() {
  if (tls_.started()) {
    enter(State::handshaking);
    drive_handshake();
    return;
  }
  enter(State::forwarding);
  uv_timer_stop(&deadline_);
  std::vector<std::uint8_t> held;
  held.swap(held_);
  if (!held.empty()) forward_to_broker(held.data(), held.size());
  if (state_ == State::forwarding) client_.resume(io::PauseReason::held);
}

void Connection::on_link_data(const char* data, std::size_t len) {
  if (!broker_answered_) {
    broker_answered_ = true;
    if (bootstrap() && link_.tls()) cluster_->health.answered();
  }
  if (service_session_) {
    on_service_session_bytes(data, len);
    return;
  }
  on_broker_bytes(data, len);
}

void Connection::on_link_down(const upstream::LinkError& error) {
  if (ending()) return;
  if (service_session_) {  // the broker went away during kedge's own authentication
    const auto interrupted = service_session_->on_eof();
    const std::string detail = interrupted ? interrupted->message : error.text();
    log::warn("conn {} ({} {}): {}: the connection ended while kedge authenticated with its service credentials "
              "(backend.sasl): {}; closing",
              id_, cluster_name(), target_label_, broker_address_, detail);
    if (bootstrap()) cluster_->health.failed(fmt::format("{}: {}", broker_address_, detail));
    close(DisconnectCause::upstream_authentication_failed);
    return;
  }
  const bool established = !broker_address_.empty();
  if (!established) {
    // Every candidate failed: the backend is unreachable right now.
    if (bootstrap()) cluster_->health.failed(fmt::format("{}: {}", link_.target().to_string(), error.text()));
    close(upstream::is_tls_failure(error.code) ? DisconnectCause::upstream_tls_failed
                                               : DisconnectCause::upstream_connect_failed);
    return;
  }
  switch (error.code) {
    case upstream::LinkErrc::closed:
      close_after_flush(DisconnectCause::upstream_closed);
      return;
    case upstream::LinkErrc::tls_refused:
      // An alert before the broker's first application data: the broker refused
      // the session (TLS 1.3 checks the client certificate after our side of the
      // handshake). The client's bytes already went into the session, so there
      // is no retry on another bootstrap server.
      log::warn("conn {} ({} {}): {}: {}", id_, cluster_name(), target_label_, broker_address_, error.text());
      if (bootstrap()) cluster_->health.failed(fmt::format("{}: {}", broker_address_, error.text()));
      close(DisconnectCause::upstream_tls_failed);
      return;
    default:
      log::warn("conn {}: broker {}: {}", id_, broker_address_, error.text());
      close(DisconnectCause::upstream_error);
      return;
  }
}

void Connection::on_link_write_progress() {
  update_flow_control();
  maybe_finish_flush();
}

void Connection::on_link_closed() { part_closed(); }

void Connection::on_broker_bytes(const char* data, std::size_t len) {
  if (state_ != State::forwarding && state_ != State::draining) {
    if (!ending()) {
      log::warn("conn {}: broker sent {} bytes before the client finished TLS; closing", id_, len);
      close(DisconnectCause::frame_error);
    }
    return;
  }
  ClientSink sink(*this);
  const InFlightTable::Progress progress =
      in_flight_.on_broker_bytes({reinterpret_cast<const std::uint8_t*>(data), len}, sink, *cluster_stats_);
  sink.finish();
  if (progress.node_endpoints_removed > 0) {
    const kafka::RequestInfo& request = in_flight_.current_request();
    log::debug("conn {}: {} v{} NodeEndpoints removed: kedge's names do not fit the streamed response's size "
               "(limits.fetch_buffer_bytes {}); the client refreshes Metadata instead",
               id_, api_name(request.api_key), request.api_version, worker_.config().limits.fetch_buffer_bytes);
  }
  bytes_to_client_ += sink.written;
  cluster_stats_->bytes_to_clients += sink.written;
  tls_.flush();
  if (state_ == State::closed) return;
  if (out_of_range_node_) {
    const PortRouting& routing = *listener_->config.port_routing;
    log::error("conn {} ({} {} via {}): the broker lists node id {}, outside the port pool of listener {} "
               "(ids 0..{} on ports {}..{}); closing the connection pair rather than advertise a wrong port: "
               "raise routing.max_node_id",
               id_, cluster_name(), target_label_, broker_address_, *out_of_range_node_, listener_->config.name,
               routing.max_node_id, routing.broker_port_base,
               std::uint32_t{routing.broker_port_base} + static_cast<std::uint32_t>(routing.max_node_id));
    close_after_flush(DisconnectCause::node_id_out_of_range);
    return;
  }
  if (sink.failed) {
    log::warn("conn {}: TLS write failed: {}", id_, certs::drain_openssl_errors());
    close(DisconnectCause::client_error);
    return;
  }
  if (progress.errc != kafka::Errc::ok) {
    const kafka::RequestInfo& request = in_flight_.current_request();
    log::warn("conn {} ({} {} via {}): broker response to {} v{} (correlation id {}): {}; closing the connection "
              "pair",
              id_, cluster_name(), target_label_, broker_address_, api_name(request.api_key), request.api_version,
              request.correlation_id, kafka::to_string(progress.errc));
    cluster_stats_->response_frame_errors++;
    close_after_flush(DisconnectCause::frame_error);
    return;
  }
  if (state_ == State::draining && !in_flight_.requests_pending()) {
    close_after_flush(drain_cause_);  // the last in-flight response is out
    return;
  }
  in_flight_.release_if_idle();
}

// ------------------------------------------------ client authentication
// Authentication mode "terminate" (docs/identity.md): kedge answers the
// client's SaslHandshake / SaslAuthenticate (SaslTerminator), the broker link
// is authenticated with the cluster's service credentials, and no request but
// ApiVersions reaches the broker before the client authenticated.

// A PLAIN check on libuv's thread pool: PBKDF2 over the stored credential
// (identity/plain.h) would otherwise hold the loop for milliseconds. The job
// is one of the connection's parts, so the connection outlives it.
struct Connection::PlainJob {
  uv_work_t work{};
  Connection* connection = nullptr;
  SaslTerminator::PlainCheck check;
  identity::FinalStep result = identity::Refused{identity::AuthErrc::no_resources, {}};
};

namespace {

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The attempt limiter's key: the client's IP without the port ("[v6]:port" /
// "v4:port", io::address_text), so every connection from one address counts.
std::string_view limiter_key(std::string_view address) {
  if (!address.empty() && address.front() == '[') {
    const std::size_t close = address.find(']');
    return close == std::string_view::npos ? address : address.substr(1, close - 1);
  }
  const std::size_t colon = address.rfind(':');
  return colon == std::string_view::npos ? address : address.substr(0, colon);
}

AuthMechanism counted_mechanism(std::optional<TerminatedMechanism> mechanism) {
  if (!mechanism) return AuthMechanism::none;
  switch (*mechanism) {
    case TerminatedMechanism::plain: return AuthMechanism::plain;
    case TerminatedMechanism::scram_sha_256: return AuthMechanism::scram_sha_256;
    case TerminatedMechanism::scram_sha_512: return AuthMechanism::scram_sha_512;
    case TerminatedMechanism::oauthbearer: return AuthMechanism::oauthbearer;
  }
  return AuthMechanism::none;
}

}  // namespace

// This connection's listener as the snapshot it was routed under has it: the
// pair's authentication must come from there. listener_ is the generation the
// connection was accepted under, which is older when a reload came between
// accept and ClientHello, and cluster indices belong to one generation (an
// older listener's entry for index N can be another cluster's, or
// passthrough). Null when that generation no longer has the listener.
const ListenerSettings* Connection::routed_listener() const {
  for (const auto& listener : snapshot_->listeners) {
    if (listener->config.name == listener_->config.name) return listener.get();
  }
  return nullptr;
}

bool Connection::start_client_authentication() {
  const VirtualClusterConfig& cluster = cluster_->settings->config;
  policy_routed_ = cluster.policy.has_value() || cluster.quotas.has_value() || cluster.name_prefixes.has_value();
  if (cluster.quotas) {
    uv_timer_init(worker_.loop(), &quota_timer_);
    quota_timer_.data = this;
    quota_timer_open_ = true;
    parts_open_++;
  }
  const ListenerSettings* routed = routed_listener();
  if (routed == nullptr) {  // a reload removed the listener: this connection is being drained
    log::info("conn {} from {}: listener {} is no longer configured; closing", id_, client_address_,
              listener_->config.name);
    close(DisconnectCause::config_changed);
    return false;
  }
  const auto& pairs = routed->authentication;
  if (target_.cluster >= pairs.size() || !pairs[target_.cluster]) return true;  // passthrough
  authentication_ = pairs[target_.cluster];
  if (!authentication_->config.sasl) {  // mTLS only: the principal comes from the certificate
    certificate_only_ = true;
    return true;
  }
  sasl_ = std::make_unique<SaslTerminator>(authentication_, cluster_name());
  for (uv_timer_t* timer : {&auth_delay_timer_, &session_timer_}) {
    uv_timer_init(worker_.loop(), timer);
    timer->data = this;
    parts_open_++;
  }
  return true;
}

// The newest authentication of this connection's (listener, cluster) pair: a
// re-authentication after a reload checks against the reloaded users file.
// Falls back to the connection's own when the pair no longer terminates.
std::shared_ptr<const ClientAuthentication> Connection::current_authentication() const {
  const std::shared_ptr<const Snapshot>& now = worker_.snapshot();
  const auto cluster = worker_.cluster_index(cluster_name());
  if (!cluster) return authentication_;
  for (const auto& listener : now->listeners) {
    if (listener->config.name != listener_->config.name) continue;
    if (*cluster < listener->authentication.size() && listener->authentication[*cluster] &&
        listener->authentication[*cluster]->config.sasl) {
      return listener->authentication[*cluster];
    }
  }
  return authentication_;
}

// Counts the connection under its principal in the cluster's counters (/v1/state).
void Connection::set_principal(std::string principal) {
  if (principal == principal_) return;
  auto& by_principal = cluster_stats_->connections_by_principal;
  if (!principal_.empty()) {
    if (auto it = by_principal.find(principal_); it != by_principal.end() && --it->second == 0) by_principal.erase(it);
  }
  if (!principal.empty()) by_principal[principal]++;
  principal_ = std::move(principal);
  quota_account_.reset();  // the principal's account from now on
  acl_memo_ = {};          // ACL answers were for the previous principal
}

bool Connection::user_removed() const {
  if (!sasl_ || principal_.empty() || !sasl_->authenticated()) return false;
  const auto mechanism = sasl_->conversation_mechanism();
  if (!mechanism || *mechanism == TerminatedMechanism::oauthbearer) return false;
  const std::shared_ptr<const ClientAuthentication> now = current_authentication();
  if (!now->config.close_removed_users || !now->users) return false;
  return now->users->find(principal_, scram::Hash::sha256) == nullptr &&
         now->users->find(principal_, scram::Hash::sha512) == nullptr;
}

// The policy first (it decides on the names the client sees); a namespace
// then holds every request that names something, to rename it once whole
// (on_inspected; a Produce in its start: on_inspect_prefix), and refuses the
// APIs and versions it does not rename (not offered in ApiVersions either).
// Requests naming topics by id only (Fetch v13+, Produce v13) are held too,
// to check their ids against the namespace's (checked_ids_in_namespace),
// and forwarded unchanged; their responses stream.
kafka::RequestRouter::Route Connection::route(kafka::RequestInfo& request) {
  const Route route = route_by_policy(request);
  const kafka::NamePrefixes* prefixes = name_prefixes();
  if (route == Route::capture || prefixes == nullptr || kafka::names_nothing(request.api_key)) return route;
  if (!kafka::renamed_versions(request.api_key).contains(request.api_version)) {
    policy_refusal_ = policy::Refusal::outside_namespace;
    return Route::capture;
  }
  request.strip_names = kafka::response_names_anything(request.api_key, request.api_version);
  // Listings keep to the namespace's own groups and transactions.
  if (kafka::is(request.api_key, kafka::ApiKey::list_groups)) request.filter_groups = true;
  if (kafka::is(request.api_key, kafka::ApiKey::list_transactions)) request.filter_transactional_ids = true;
  if (kafka::request_names_anything(request.api_key, request.api_version)) return Route::inspect;
  // Topics named by id: each id must be one of the namespace's (checked_ids_in_namespace). With ACLs the
  // policy already does (route_by_policy inspects them).
  if (kafka::names_topics_by_id(request.api_key, request.api_version)) return Route::inspect;
  return route;
}

namespace {
// A namespace's id check without ACLs: every topic allowed, so only an id outside the id book is refused.
const policy::AclSet& allow_every_topic() {
  static const policy::AclSet acls({policy::AclRule{policy::Permission::allow, policy::kAllOperations,
                                                    policy::Resource::topic, {policy::NamePattern::parse("*")},
                                                    {policy::NamePattern::parse("*")}, {}}});
  return acls;
}
}  // namespace

// A topic id names one backend topic whatever the namespace: an id the
// cluster's id book does not hold (it learns only the namespace's topics,
// learn_topic_id) is answered UNKNOWN_TOPIC_ID, as a broker answers an id it
// does not host, and the rest of the request goes on (split_by_acls with
// every topic allowed). A cluster with ACLs checked them already.
kafka::RequestRouter::Inspection Connection::checked_ids_in_namespace(kafka::RequestInfo& request,
                                                                      std::vector<std::uint8_t>& frame) {
  const policy::ClusterPolicy* policy = current_policy();
  if ((policy != nullptr && policy->acls) || !kafka::names_topics_by_id(request.api_key, request.api_version)) {
    return Inspection::forward;
  }
  // Usually every id is known: checked in one read of the request, no split.
  const policy::TopicIdBook& book = cluster_->backend_state->topic_ids;
  if (kafka::every_topic_id(frame, [&book](std::string_view id) { return book.knows(id); })) return Inspection::forward;
  AclSplit split = split_by_acls(request, frame, allow_every_topic());
  if (split.outcome != AclSplit::Outcome::answered) return Inspection::forward;
  policy_refusal_ = policy::Refusal::unknown_topic_id;
  if (split.refused) acl_refused_ = std::move(*split.refused);
  return Inspection::answer;
}

// Authentication first (a client that has not authenticated is refused
// whatever the policy says), then the cluster's policy as it is now.
kafka::RequestRouter::Route Connection::route_by_policy(kafka::RequestInfo& request) {
  policy_refusal_.reset();
  prepared_refusal_.reset();
  acl_refused_ = {policy::Resource::none, {}};
  if (refused_request_) return Route::capture;  // the pair is closing; nothing more is forwarded
  if (route_for_authentication(request) == Route::capture) return Route::capture;
  if (!policy_routed_) return Route::forward;
  const policy::ClusterPolicy* policy = current_policy();
  if (policy != nullptr) {
    policy_refusal_ = policy::decide(*policy, request.api_key);
    if (policy_refusal_) return Route::capture;
  }
  apply_quotas(request);  // what the broker serves counts against the client's quotas
  if (policy == nullptr) return Route::forward;
  if (policy->acls) {
    // ACLs: an API on the cluster is decided now; one on topics, groups or
    // transactional ids once its request is whole (on_inspected).
    const policy::Access access = policy::api_access(request.api_key);
    if (access.resource == policy::Resource::cluster) {
      // ListGroups without Describe on the cluster: Kafka lists only the groups the client may Describe.
      // A visible namespace lists only its own groups, whatever the cluster rules.
      if (kafka::is(request.api_key, kafka::ApiKey::list_groups) &&
          (policy->acls->confined() ||
           !policy->acls->authorizes(acl_subject(), policy::Resource::cluster, {}, access.operation))) {
        if (!policy::acl_readable_versions(request.api_key).contains(request.api_version)) {
          policy_refusal_ = policy::Refusal::acl_unchecked;  // a version ApiVersions did not offer
          return Route::capture;
        }
        request.filter_groups = true;
        return Route::forward;
      }
      if (!policy->acls->authorizes(acl_subject(), policy::Resource::cluster, {}, access.operation)) {
        policy_refusal_ = policy::Refusal::resource_denied;
        acl_refused_ = {policy::Resource::cluster, fmt::format("Cluster ({})", policy::to_string(access.operation))};
        return Route::capture;
      }
    } else if (access.resource != policy::Resource::none) {
      if (!policy::acl_readable_versions(request.api_key).contains(request.api_version)) {
        policy_refusal_ = policy::Refusal::acl_unchecked;  // a version ApiVersions did not offer
        return Route::capture;
      }
      return Route::inspect;
    }
  }
  // A read-only view creates no topic through Metadata either (on_inspected).
  if (policy->read_only && kafka::is(request.api_key, kafka::ApiKey::metadata) && request.api_version >= 4) {
    return Route::inspect;
  }
  // Administrative operations are audited, allowed or not: read whole on their way.
  if (worker_.snapshot()->audit_log && policy::administrative(policy::api_access(request.api_key).operation)) {
    return Route::inspect;
  }
  return Route::forward;
}

// Quotas as Kafka brokers enforce them (KIP-219): a request is always served;
// Produce bytes and every request (the request rate) are charged as the
// request is read, Fetch bytes as the response is (on_response_start), so a
// Fetch waits for what earlier ones fetched. A client over its quota gets a response whose ThrottleTimeMs says
// how long to wait (the processor patches it), and its connection is not read
// for that long from the moment the response starts (the broker mutes the
// channel as it sends it), so a client that ignores the field is held back
// too. A client that sends while it still owes (acks=0 Produce has no
// response; a Fetch pays for earlier responses) is muted at once.
void Connection::apply_quotas(kafka::RequestInfo& request) {
  const std::optional<policy::QuotaConfig>& quotas = cluster_->settings->config.quotas;
  if (!quotas) return;
  const policy::QuotaLimits& limits = quotas->limits_for(principal_);
  const std::optional<std::uint64_t>& produce_rate =
      kafka::is(request.api_key, kafka::ApiKey::produce) ? limits.produce_bytes_per_second : std::nullopt;
  const std::optional<std::uint64_t>& fetch_rate =
      kafka::is(request.api_key, kafka::ApiKey::fetch) ? limits.fetch_bytes_per_second : std::nullopt;
  if (!produce_rate && !fetch_rate && !limits.requests_per_second) return;
  const auto now = std::chrono::steady_clock::now();
  policy::ClientAccount& account = quota_account();
  std::uint32_t owed_ms = 0;  // before this request
  std::uint32_t wait_ms = 0;  // what its response carries: the longest of the quotas it is over
  const auto throttled = [&](QuotaKind kind, std::uint32_t ms) {
    if (ms == 0) return;
    cluster_stats_->throttled_requests[static_cast<std::size_t>(kind)]++;
    cluster_stats_->throttle_ms[static_cast<std::size_t>(kind)] += ms;
    wait_ms = std::max(wait_ms, ms);
    log::trace("conn {}: {} v{} (correlation id {}): over the {} quota; throttled {} ms", id_,
               api_name(request.api_key), request.api_version, request.correlation_id, label(kind), ms);
  };
  if (produce_rate) {
    owed_ms = std::max(owed_ms, account.produce.owed_ms(*produce_rate, now));
    throttled(QuotaKind::produce_bytes, account.produce.charge(request.frame_size + 4, *produce_rate, now));
  }
  if (fetch_rate) {
    request.report_response = true;  // its bytes are charged then
    const std::uint32_t owed = account.fetch.owed_ms(*fetch_rate, now);
    owed_ms = std::max(owed_ms, owed);
    throttled(QuotaKind::fetch_bytes, owed);
  }
  if (limits.requests_per_second) {
    owed_ms = std::max(owed_ms, account.requests.owed_ms(*limits.requests_per_second, now));
    throttled(QuotaKind::requests, account.requests.charge(1, *limits.requests_per_second, now));
  }
  if (owed_ms > 0) throttle_client(owed_ms);
  if (wait_ms == 0) return;
  request.throttle_ms = static_cast<std::int32_t>(wait_ms);
  request.report_response = true;
}

void Connection::on_response_start(const kafka::RequestInfo& request, std::uint32_t frame_bytes) {
  if (request.throttle_ms > 0) throttle_client(static_cast<std::uint32_t>(request.throttle_ms));
  if (!kafka::is(request.api_key, kafka::ApiKey::fetch)) return;
  const std::optional<policy::QuotaConfig>& quotas = cluster_->settings->config.quotas;
  if (!quotas) return;  // removed by a reload since the request
  const std::optional<std::uint64_t>& rate = quotas->limits_for(principal_).fetch_bytes_per_second;
  if (rate) quota_account().fetch.charge(frame_bytes, *rate, std::chrono::steady_clock::now());
}

policy::ClientAccount& Connection::quota_account() {
  if (!quota_account_) {
    const std::string client =
        principal_.empty() ? fmt::format("address:{}", limiter_key(client_address_)) : principal_;
    quota_account_ = cluster_->backend_state->quotas.account(client, std::chrono::steady_clock::now());
  }
  return *quota_account_;
}

// Kafka's max.connections.per.ip and KIP-612's per-IP connection rate, per
// virtual cluster: an address over either is closed before the TLS handshake
// (a broker closes such connections too; the client's reconnect backoff
// spaces its retries).
bool Connection::admit_connection() {
  const std::optional<policy::QuotaConfig>& quotas = cluster_->settings->config.quotas;
  if (!quotas || (!quotas->connections_per_address && !quotas->connections_per_address_per_second)) return true;
  const std::string_view address = limiter_key(client_address_);
  const auto admission = cluster_->backend_state->connections.admit(
      address, quotas->connections_per_address, quotas->connections_per_address_per_second,
      std::chrono::steady_clock::now());
  if (admission == policy::ConnectionBook::Admission::admitted) {
    admitted_address_ = address;
    return true;
  }
  log::info("conn {} from {}: over virtual cluster {}'s connection quota ({}: {}); closing", id_, client_address_,
            cluster_name(), policy::to_string(admission),
            admission == policy::ConnectionBook::Admission::too_many
                ? fmt::format("{} open from this address", *quotas->connections_per_address)
                : fmt::format("more than {} new per second", *quotas->connections_per_address_per_second));
  close(DisconnectCause::connection_quota);
  return false;
}

// Mutes the client for `throttle_ms`, or longer if an earlier throttle ends later.
void Connection::throttle_client(std::uint32_t throttle_ms) {
  if (!quota_timer_open_ || ending()) return;
  if (client_.paused(io::PauseReason::throttled) && uv_timer_get_due_in(&quota_timer_) >= throttle_ms) return;
  client_.pause(io::PauseReason::throttled);
  uv_timer_start(
      &quota_timer_, [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_throttle_over(); },
      throttle_ms, 0);
}

void Connection::on_throttle_over() {
  if (ending()) return;
  if (http_) http_->on_throttle_over();
  if (ending()) return;
  client_.resume(io::PauseReason::throttled);
}

kafka::RequestRouter::Inspection Connection::on_inspected(kafka::RequestInfo& request,
                                                          std::vector<std::uint8_t>& frame) {
  const Inspection inspection = inspect_by_policy(request, frame);
  const kafka::NamePrefixes* prefixes = name_prefixes();
  if (inspection != Inspection::forward || prefixes == nullptr) return inspection;
  if (checked_ids_in_namespace(request, frame) == Inspection::answer) return Inspection::answer;
  return rename_names(request, frame, *prefixes);
}

kafka::RequestRouter::Inspection Connection::rename_names(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame,
                                                          const kafka::NamePrefixes& prefixes) {
  // Listings name what lies outside the namespace: the response processor
  // drops it (describable(), group_describable()) before stripping the rest.
  if (!request.filter_topics) {
    if (kafka::is(request.api_key, kafka::ApiKey::metadata)) request.filter_topics = kafka::metadata_topics_asked(frame);
    if (kafka::is(request.api_key, kafka::ApiKey::offset_fetch)) {
      request.filter_topics = kafka::offset_fetch_topics_asked(frame);
    }
  }
  kafka::RenameResult renamed = kafka::prefix_request_names(frame, prefixes, renamed_frame_);
  using Outcome = kafka::RenameResult::Outcome;
  // A request naming topics in a list (CreateTopics, Produce, ...) loses only
  // the names too long once prefixed, each answered INVALID_TOPIC_EXCEPTION,
  // as a broker answers an illegal name topic by topic.
  if (renamed.outcome == Outcome::name_too_long && split_long_names(request, frame, prefixes)) {
    renamed = kafka::prefix_request_names(frame, prefixes, renamed_frame_);
  }
  switch (renamed.outcome) {
    case Outcome::renamed:
      frame.swap(renamed_frame_);
      break;
    case Outcome::unchanged: break;
    case Outcome::name_too_long:
      policy_refusal_ = policy::Refusal::invalid_topic_name;
      acl_refused_ = {policy::Resource::topic, renamed.name};
      return Inspection::answer;
    case Outcome::foreign_resource:  // the shared cluster's configs, not the namespace's
      policy_refusal_ = policy::Refusal::outside_namespace;
      acl_refused_ = {policy::Resource::cluster, renamed.name};
      return Inspection::answer;
    case Outcome::unconfinable_regex:
      policy_refusal_ = policy::Refusal::invalid_regex;
      acl_refused_ = {policy::Resource::none, renamed.name};
      return Inspection::answer;
    case Outcome::malformed:
      policy_refusal_ = policy::Refusal::outside_namespace;
      return Inspection::answer;
  }
  request.coordinator_key_type = renamed.coordinator_key_type;
  return Inspection::forward;
}

// Splits off the topics whose names a namespace would make longer than
// Kafka allows (split.h, as split_by_acls does for refused topics): true when
// `frame` is now the rest, to be renamed and forwarded; false when the
// request cannot be split (not a topic list, acks=0, already split by ACLs)
// or names nothing else: it is answered whole.
bool Connection::split_long_names(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame,
                                  const kafka::NamePrefixes& prefixes) {
  if (!kafka::splittable(request.api_key, request.api_version) || !request.expects_response || request.split) {
    return false;
  }
  class TooLong final : public kafka::TopicVerdict {
   public:
    TooLong(Connection& connection, const kafka::RequestInfo& request, std::size_t prefix_size)
        : connection_(connection), request_(request), prefix_size_(prefix_size) {}
    kafka::ErrorCode verdict(std::string_view topic, bool by_id) override {
      return !by_id && topic.size() + prefix_size_ > kafka::kMaxTopicNameLength ? kafka::ErrorCode::invalid_topic_exception
                                                                                : kafka::ErrorCode::none;
    }
    std::string refusal_message(std::string_view topic, bool, kafka::ErrorCode) override {
      return connection_.refusal_message(request_, policy::Refusal::invalid_topic_name,
                                         AclRefusal{policy::Resource::topic, std::string(topic)});
    }

   private:
    Connection& connection_;
    const kafka::RequestInfo& request_;
    std::size_t prefix_size_;
  } verdict(*this, request, prefixes.topic.size());
  std::vector<std::uint8_t> forwarded;
  kafka::SplitAnswer& answer = split_scratch_;
  if (kafka::split_request(frame, verdict, forwarded, answer) != kafka::SplitResult::split) return false;
  log::debug("conn {}: {} v{} (correlation id {}): {} of its topic names too long once prefixed (answered "
             "INVALID_TOPIC_EXCEPTION), the rest forwarded",
             id_, api_name(request.api_key), request.api_version, request.correlation_id, answer.refused.size());
  forward_split(request, frame, std::move(forwarded), policy::Refusal::invalid_topic_name);
  return true;
}

// The allowed part of a split request goes to the broker; the refused
// topics' entries (split_scratch_) are merged into its response.
void Connection::forward_split(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame,
                               std::vector<std::uint8_t>&& forwarded, policy::Refusal reason) {
  cluster_stats_->apis[api_slot(request.api_key)].refused[static_cast<std::size_t>(reason)]++;
  cluster_stats_->apis[api_slot(request.api_key)].split++;
  frame = std::move(forwarded);
  request.split = std::make_shared<const kafka::SplitAnswer>(std::move(split_scratch_));
}

kafka::RequestRouter::Inspection Connection::inspect_by_policy(kafka::RequestInfo& request,
                                                               std::vector<std::uint8_t>& frame) {
  const policy::ClusterPolicy* policy = current_policy();  // as it is now: a reload may have come mid-request
  const bool metadata = kafka::is(request.api_key, kafka::ApiKey::metadata);
  if (policy != nullptr && policy->acls) {
    if (metadata) {
      filter_metadata(request, frame, *policy->acls);
    } else {
      // The APIs that name topics in a list (Produce, Fetch, the share APIs,
      // OffsetCommit, CreateTopics, ...: split.h) are decided topic by topic
      // (split_by_acls) once what owns the topics is allowed (a Produce's
      // transactional id, a group: owner_refusal); the rest, and what cannot
      // be split, by their resources.
      std::optional<AclRefusal> refused = owner_refusal(request, frame, *policy->acls);
      using Outcome = AclSplit::Outcome;
      AclSplit split = refused ? AclSplit{Outcome::not_split} : split_by_acls(request, frame, *policy->acls);
      if (split.outcome == Outcome::allowed || split.outcome == Outcome::forwarded) {
        // What goes to the broker of an administrative request (CreateTopics, DeleteTopics, ...) is audited as
        // allowed; a split's refused part was audited as denied.
        if (policy::administrative(policy::api_access(request.api_key).operation)) audit(request, frame, std::nullopt);
        return Inspection::forward;
      }
      if (split.outcome == Outcome::answered) refused = std::move(split.refused);
      // OffsetFetch: the group here; its topics in the response, as Kafka answers them (filter_offset_fetch_topics).
      const bool offset_fetch = kafka::is(request.api_key, kafka::ApiKey::offset_fetch);
      if (split.outcome == Outcome::not_split && !refused) {
        refused = acl_refusal(request, frame, *policy->acls, offset_fetch ? ResourceScope::owners : ResourceScope::all);
      }
      if (refused) {
        policy_refusal_ = split.outcome == Outcome::answered && split.unknown_ids_only
                              ? policy::Refusal::unknown_topic_id
                              : policy::Refusal::resource_denied;
        acl_refused_ = std::move(*refused);
        return Inspection::answer;  // on_captured answers it
      }
      if (offset_fetch) request.filter_topics = kafka::offset_fetch_topics_asked(frame);
    }
  }
  if (metadata) {
    if (policy != nullptr && policy->read_only && kafka::turn_off_auto_topic_creation(frame)) {
      log::debug("conn {}: Metadata v{} (correlation id {}): AllowAutoTopicCreation turned off (virtual cluster {} "
                 "is read-only)",
                 id_, request.api_version, request.correlation_id, cluster_name());
    }
    return Inspection::forward;
  }
  if (policy::administrative(policy::api_access(request.api_key).operation)) audit(request, frame, std::nullopt);
  return Inspection::forward;
}

// A Produce naming one topic the client may write (and its transactional id,
// if any) streams to the broker once that is read: its records are never held.
// A namespace renames those names in the start it holds (prefix_produce_names).
// Anything else (several topics, a refusal) waits to be whole (on_inspected).
kafka::RequestRouter::Prefix Connection::on_inspect_prefix(const kafka::RequestInfo& request,
                                                           std::vector<std::uint8_t>& held) {
  if (!kafka::is(request.api_key, kafka::ApiKey::produce)) return Prefix::wait;
  const policy::ClusterPolicy* policy = current_policy();
  const bool acls = policy != nullptr && policy->acls;
  const kafka::NamePrefixes* prefixes = name_prefixes();
  if (!acls && prefixes == nullptr) return Prefix::wait;
  if (acls) {
    const std::optional<kafka::ProducePrefix> produce = kafka::read_produce_prefix(held);
    if (!produce) return Prefix::wait;
    if (produce->transactional_id && !acl_allows(*policy->acls, policy::Resource::transactional_id,
                                                *produce->transactional_id, policy::Operation::write)) {
      return Prefix::wait;
    }
    if (!acl_allows(*policy->acls, policy::Resource::topic, produce->topic, policy::Operation::write)) {
      return Prefix::wait;
    }
  }
  if (prefixes != nullptr) {
    // v13 names its topics by id: without ACLs, checked once whole (checked_ids_in_namespace).
    if (!acls && kafka::names_topics_by_id(request.api_key, request.api_version)) return Prefix::wait;
    if (!kafka::prefix_produce_names(held, *prefixes)) return Prefix::wait;
  }
  return Prefix::forward;
}

bool Connection::acl_allows(const policy::AclSet& acls, policy::Resource resource, std::string_view name,
                            policy::Operation operation) {
  const std::shared_ptr<const ClusterSettings>& settings = cluster_->settings;
  for (const AclMemo& memo : acl_memo_) {
    if (memo.settings == settings && memo.resource == resource && memo.operation == operation && memo.name == name) {
      return memo.allowed;
    }
  }
  const bool allowed = acls.authorizes(acl_subject(), resource, name, operation);
  AclMemo& slot = acl_memo_[acl_memo_next_++ % acl_memo_.size()];
  slot.settings = settings;
  slot.resource = resource;
  slot.operation = operation;
  slot.name.assign(name);
  slot.allowed = allowed;
  return allowed;
}

policy::Subject Connection::acl_subject() {
  if (!acl_address_) acl_address_ = policy::parse_address(limiter_key(client_address_));
  return policy::Subject{principal_, *acl_address_};
}

namespace {
// The kind of resource an ACL refused, as a refusal's answer names it (refusal.h).
kafka::RefusedResource refused_kind(policy::Resource resource) {
  switch (resource) {
    case policy::Resource::topic: return kafka::RefusedResource::topic;
    case policy::Resource::group: return kafka::RefusedResource::group;
    case policy::Resource::transactional_id: return kafka::RefusedResource::transactional_id;
    case policy::Resource::cluster: return kafka::RefusedResource::cluster;
    default: return kafka::RefusedResource::unspecified;
  }
}

// 32 hex digits (a topic id as read_request_resources names it) as its 16 bytes; empty if not hex.
std::string bytes_of_hex(std::string_view hex) {
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  if (hex.size() % 2 != 0) return out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}
}  // namespace

std::optional<Connection::AclRefusal> Connection::acl_refusal(const kafka::RequestInfo& request,
                                                              std::span<const std::uint8_t> frame,
                                                              const policy::AclSet& acls, ResourceScope scope) {
  const std::optional<std::vector<kafka::RequestResource>> resources = kafka::read_request_resources(frame);
  if (!resources) {
    return AclRefusal{policy::api_access(request.api_key).resource,
                      fmt::format("{} v{} that kedge cannot read", api_name(request.api_key), request.api_version)};
  }
  const policy::Subject subject = acl_subject();
  // An idempotent producer (no transactional id) needs IdempotentWrite on the cluster, or Write on a topic.
  if (kafka::is(request.api_key, kafka::ApiKey::init_producer_id) && resources->empty() &&
      !acls.authorizes_idempotent_write(subject)) {
    return AclRefusal{policy::Resource::cluster, "Cluster (IdempotentWrite)"};
  }
  for (const kafka::RequestResource& resource : *resources) {
    std::string_view type = resource.type;
    std::string name = resource.name;
    if (scope == ResourceScope::owners && (type == "topic" || type == "topic_id")) continue;
    if (type == "topic_id") {
      // Ids (Fetch v13+, Produce v13, DeleteTopics v6) are named through the backend's Metadata.
      std::optional<std::string> known = cluster_->backend_state->topic_ids.name_of(bytes_of_hex(resource.name));
      if (!known) {
        return AclRefusal{policy::Resource::topic,
                          fmt::format("topic id {} (not in the Metadata kedge has seen)", resource.name)};
      }
      type = "topic";
      name = std::move(*known);
    }
    const std::optional<policy::ResourceCheck> check = policy::resource_check(request.api_key, type);
    if (!check) {
      return AclRefusal{policy::api_access(request.api_key).resource,
                        fmt::format("{} {} (kedge cannot name it)", type, name)};
    }
    bool allowed = acl_allows(acls, check->resource, name, check->operation);
    // Kafka: CreateTopics needs Create on the topic or on the cluster (within a visible namespace).
    if (!allowed && check->operation == policy::Operation::create) {
      allowed = acls.authorizes_topic_creation(subject, name);
    }
    if (!allowed) {
      return AclRefusal{check->resource, fmt::format("{} {} ({})", policy::to_string(check->resource), name,
                                                     policy::to_string(check->operation))};
    }
  }
  return std::nullopt;
}

// A producer batches every partition a broker leads into one Produce, a
// consumer fetches all of its partitions on a broker in one Fetch: when the
// client may use some of those topics and not others, the allowed ones go to
// the broker and kedge answers the others in the same response (split.h), as
// a broker's authorizer answers partition by partition. Topic ids (Produce
// v13, Fetch v13+) are named through the backend's Metadata (topic_ids.h); an
// id kedge has not seen gets UNKNOWN_TOPIC_ID, and the client refreshes its
// Metadata (through kedge) and retries. acks=0 has no response to carry the
// refusals: refused whole (the connection closes, as a broker closes it on an
// acks=0 error).
Connection::AclSplit Connection::split_by_acls(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame,
                                               const policy::AclSet& acls) {
  if (!kafka::splittable(request.api_key, request.api_version) || !request.expects_response) {
    return AclSplit{AclSplit::Outcome::not_split};
  }
  const std::optional<policy::ResourceCheck> check = policy::resource_check(request.api_key, "topic");
  if (!check) return AclSplit{AclSplit::Outcome::not_split};
  class Verdict final : public kafka::TopicVerdict {
   public:
    Verdict(Connection& connection, const policy::AclSet& acls, const kafka::RequestInfo& request,
            policy::Operation operation)
        : connection_(connection), acls_(acls), request_(request), operation_(operation) {}
    kafka::ErrorCode verdict(std::string_view topic, bool by_id) override {
      if (!by_id) return allowed(topic) ? kafka::ErrorCode::none : kafka::ErrorCode::topic_authorization_failed;
      const std::optional<std::string> name = connection_.cluster_->backend_state->topic_ids.name_of(topic);
      if (!name) return kafka::ErrorCode::unknown_topic_id;
      return allowed(*name) ? kafka::ErrorCode::none : kafka::ErrorCode::topic_authorization_failed;
    }
    std::string refusal_message(std::string_view topic, bool by_id, kafka::ErrorCode error) override {
      const std::string named = connection_.topic_label(topic, by_id);
      if (error == kafka::ErrorCode::unknown_topic_id) {
        return fmt::format("This server does not host this topic ID. kedge has not seen topic id {} in the Metadata "
                           "of virtual cluster {}",
                           named, connection_.cluster_name());
      }
      return connection_.refusal_message(
          request_, policy::Refusal::resource_denied,
          AclRefusal{policy::Resource::topic, fmt::format("Topic {} ({})", named, policy::to_string(operation_))});
    }

   private:
    bool allowed(std::string_view name) {
      if (connection_.acl_allows(acls_, policy::Resource::topic, name, operation_)) return true;
      // Kafka: CreateTopics needs Create on the topic or on the cluster (within a visible namespace).
      return operation_ == policy::Operation::create && acls_.within(policy::Resource::topic, name) &&
             connection_.acl_allows(acls_, policy::Resource::cluster, {}, policy::Operation::create);
    }
    Connection& connection_;
    const policy::AclSet& acls_;
    const kafka::RequestInfo& request_;
    policy::Operation operation_;
  } verdict(*this, acls, request, check->operation);
  std::vector<std::uint8_t> forwarded;
  kafka::SplitAnswer& answer = split_scratch_;
  const kafka::SplitResult result = kafka::split_request(frame, verdict, forwarded, answer);
  if (result == kafka::SplitResult::all_allowed) return AclSplit{AclSplit::Outcome::allowed};
  if (result == kafka::SplitResult::unreadable) return AclSplit{AclSplit::Outcome::not_split};
  const bool unknown_ids_only =
      std::all_of(answer.refused.begin(), answer.refused.end(),
                  [](const kafka::SplitAnswer::Refused& r) { return r.error == kafka::ErrorCode::unknown_topic_id; });
  if (result == kafka::SplitResult::none_allowed) {
    const kafka::SplitAnswer::Refused& first = answer.refused.front();
    AclRefusal first_refused{policy::Resource::topic,
                             first.error == kafka::ErrorCode::unknown_topic_id
                                 ? fmt::format("topic id {} (not in the Metadata kedge has seen)",
                                               topic_label(first.topic, answer.by_id))
                                 : fmt::format("Topic {} ({})", topic_label(first.topic, answer.by_id),
                                               policy::to_string(check->operation))};
    // kedge answers it whole, from the same entries (on_captured sends it).
    prepared_refusal_.emplace();
    if (kafka::encode_split_refusal(answer, request.correlation_id, snapshot_->config.limits.max_frame_bytes,
                                    *prepared_refusal_) != kafka::Errc::ok) {
      prepared_refusal_->clear();  // refuse_by_policy closes: no answer fits
    }
    return AclSplit{AclSplit::Outcome::answered, std::move(first_refused), unknown_ids_only};
  }
  std::vector<kafka::RequestResource> refused;  // as the audit log names them
  std::vector<std::string> labels;
  refused.reserve(answer.refused.size());
  for (const kafka::SplitAnswer::Refused& r : answer.refused) {
    labels.push_back(topic_label(r.topic, answer.by_id));
    refused.push_back({r.error == kafka::ErrorCode::unknown_topic_id ? "topic_id" : "topic", labels.back()});
  }
  const policy::Refusal reason = unknown_ids_only ? policy::Refusal::unknown_topic_id : policy::Refusal::resource_denied;
  if (reason == policy::Refusal::resource_denied) audit(request, frame, reason, refused);
  log::debug("conn {}: {} v{} (correlation id {}): {} of its topics refused ({}: {}), the rest forwarded", id_,
             api_name(request.api_key), request.api_version, request.correlation_id, labels.size(),
             policy::to_string(check->operation), fmt::join(labels, ", "));
  forward_split(request, frame, std::move(forwarded), reason);
  return AclSplit{AclSplit::Outcome::forwarded};
}

// A Produce's transactional id needs Write, the group of a ShareFetch,
// ShareAcknowledge or OffsetCommit Read, a TxnOffsetCommit's both (Kafka
// authorizes them before the topics); nullopt when the request has none or
// they are allowed, and for other APIs.
std::optional<Connection::AclRefusal> Connection::owner_refusal(const kafka::RequestInfo& request,
                                                                std::span<const std::uint8_t> frame,
                                                                const policy::AclSet& acls) {
  switch (static_cast<kafka::ApiKey>(request.api_key)) {
    case kafka::ApiKey::share_fetch:
    case kafka::ApiKey::share_acknowledge:  // KIP-932: Read on the share group first
    case kafka::ApiKey::offset_commit:      // Read on the group
    case kafka::ApiKey::txn_offset_commit:  // Write on the transactional id, then Read on the group
      return acl_refusal(request, frame, acls, ResourceScope::owners);
    case kafka::ApiKey::produce: break;
    default: return std::nullopt;
  }
  const std::optional<kafka::ProduceTransaction> transaction = kafka::read_produce_transactional_id(frame);
  if (!transaction || !transaction->id) return std::nullopt;  // one that does not parse is refused as a whole
  if (acl_allows(acls, policy::Resource::transactional_id, *transaction->id, policy::Operation::write)) {
    return std::nullopt;
  }
  return AclRefusal{policy::Resource::transactional_id, fmt::format("TransactionalId {} (Write)", *transaction->id)};
}

// A topic as a log, audit line or message names it: its name, or for an id
// (16 bytes) the name kedge learned for it, else the id in hex.
std::string Connection::topic_label(std::string_view topic, bool by_id) const {
  if (!by_id) return std::string(topic);
  if (std::optional<std::string> name = cluster_->backend_state->topic_ids.name_of(topic)) return std::move(*name);
  std::string hex;
  hex.reserve(32);
  for (const char c : topic) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return hex;
}

// Kafka's Metadata under an authorizer: a listing leaves out topics the client
// may not Describe, a topic asked by name gets TOPIC_AUTHORIZATION_FAILED
// (the response processor filters, asking describable()); and the broker
// creates a topic only for a client allowed to Create it (topic or cluster).
void Connection::filter_metadata(kafka::RequestInfo& request, std::span<std::uint8_t> frame,
                                 const policy::AclSet& acls) {
  request.filter_topics = kafka::metadata_topics_asked(frame);
  const policy::Subject subject = acl_subject();
  if (!acls.confined() && acls.authorizes(subject, policy::Resource::cluster, {}, policy::Operation::create)) return;
  const std::optional<std::vector<kafka::RequestResource>> topics = kafka::read_request_resources(frame);
  const bool may_create = topics && std::all_of(topics->begin(), topics->end(), [&](const kafka::RequestResource& t) {
    return acls.authorizes_topic_creation(subject, t.name);
  });
  if (!may_create && kafka::turn_off_auto_topic_creation(frame)) {
    log::debug("conn {}: Metadata v{} (correlation id {}): AllowAutoTopicCreation turned off (no Create on a topic "
               "it names)",
               id_, request.api_version, request.correlation_id);
  }
}

namespace {
// `name` without the namespace's `prefix`, or nullopt when it lies outside the namespace.
std::optional<std::string_view> inside(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  return name.substr(prefix.size());
}
}  // namespace

// Called with the broker's names (a namespace's prefixes still on them): what
// lies outside the namespace is never seen; ACLs decide on the client's names.
bool Connection::describable(std::string_view topic) {
  if (const kafka::NamePrefixes* prefixes = name_prefixes()) {
    const std::optional<std::string_view> own = inside(topic, prefixes->topic);
    if (!own) return false;
    topic = *own;
  }
  const policy::ClusterPolicy* policy = current_policy();
  if (policy == nullptr || !policy->acls) return true;
  return policy->acls->authorizes(acl_subject(), policy::Resource::topic, topic, policy::Operation::describe);
}

// An id outside the namespace names a topic the cluster does not have: as a
// broker answers an id it does not host. Inside it, refused by the ACLs.
kafka::ErrorCode Connection::refused_by_id_error(std::string_view topic) {
  const kafka::NamePrefixes* prefixes = name_prefixes();
  if (prefixes != nullptr && !topic.starts_with(prefixes->topic)) return kafka::ErrorCode::unknown_topic_id;
  return kafka::ErrorCode::topic_authorization_failed;
}

// The id book holds the names clients use: a topic outside the namespace is
// not learned, so its id stays unknown to the cluster's clients.
void Connection::learn_topic_id(std::string_view id, std::string_view name) {
  if (const kafka::NamePrefixes* prefixes = name_prefixes()) {
    const std::optional<std::string_view> own = inside(name, prefixes->topic);
    if (!own) return;
    name = *own;
  }
  cluster_->backend_state->topic_ids.learn(id, name);
}

bool Connection::group_describable(std::string_view group_id) {
  if (const kafka::NamePrefixes* prefixes = name_prefixes()) {
    const std::optional<std::string_view> own = inside(group_id, prefixes->group);
    if (!own) return false;
    group_id = *own;
  }
  const policy::ClusterPolicy* policy = current_policy();
  if (policy == nullptr || !policy->acls) return true;
  return policy->acls->authorizes(acl_subject(), policy::Resource::group, group_id, policy::Operation::describe);
}

const kafka::NamePrefixes* Connection::name_prefixes() const {
  if (!cluster_) return nullptr;
  const VirtualClusterConfig& config = cluster_->settings->config;
  // A visible namespace renames nothing: its ACLs are confined instead (confine_to_namespace).
  return config.name_prefixes && !config.namespace_visible ? &*config.name_prefixes : nullptr;
}

// One audit line (common/audit_log.h) for a refused request or an
// administrative operation kedge forwarded ("allowed": the broker's own
// authorizer may still refuse it).
void Connection::audit(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame,
                       std::optional<policy::Refusal> refusal, std::span<const kafka::RequestResource> split_refused) {
  const std::shared_ptr<AuditLog>& audit_log = worker_.snapshot()->audit_log;
  if (!audit_log) return;
  nlohmann::json resources = nlohmann::json::array();
  const auto add = [&](const kafka::RequestResource& resource) {
    // A topic named by id is recorded by name when kedge knows it (the rules are written on names).
    if (resource.type == "topic_id") {
      if (std::optional<std::string> name = cluster_->backend_state->topic_ids.name_of(bytes_of_hex(resource.name))) {
        resources.push_back({{"type", "topic"}, {"name", std::move(*name)}, {"topic_id", resource.name}});
        return;
      }
    }
    resources.push_back({{"type", resource.type}, {"name", resource.name}});
  };
  if (!split_refused.empty()) {
    for (const kafka::RequestResource& resource : split_refused) add(resource);
  } else {
    for (const kafka::RequestResource& resource : kafka::request_resources(frame)) add(resource);
  }
  const policy::Access access = policy::api_access(request.api_key);
  nlohmann::json line = {
      {"time", log::timestamp()},
      {"virtual_cluster", cluster_name()},
      {"listener", listener_->config.name},
      {"client", client_address_},
      {"principal", principal_.empty() ? nlohmann::json(nullptr) : nlohmann::json(principal_)},
      {"target", target_label_},
      {"api", api_name(request.api_key)},
      {"api_version", request.api_version},
      {"correlation_id", request.correlation_id},
      {"operation", policy::to_string(access.operation)},
      {"resources", std::move(resources)},
      {"outcome", refusal ? "denied" : "allowed"},
      {"reason", refusal ? nlohmann::json(policy::to_string(*refusal)) : nlohmann::json(nullptr)},
  };
  // A split request: the resources are its refused part; the rest went to the broker.
  if (!split_refused.empty()) line["split"] = true;
  // Names come from the wire: bytes that are not UTF-8 are replaced, never thrown on.
  audit_log->append(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

kafka::RequestRouter::Route Connection::route_for_authentication(const kafka::RequestInfo& request) {
  if (!sasl_ && !certificate_only_) return Route::forward;  // passthrough (a policy-only connection)
  if (!sasl_) {  // certificate only: SASL is answered here, everything else goes to the broker
    return request.api_key == kafka::key_of(kafka::ApiKey::sasl_handshake) ||
                   request.api_key == kafka::key_of(kafka::ApiKey::sasl_authenticate)
               ? Route::capture
               : Route::forward;
  }
  if (session_expired_ && !sasl_->in_conversation()) {
    const auto key = request.api_key;
    if (key != kafka::key_of(kafka::ApiKey::sasl_handshake) && key != kafka::key_of(kafka::ApiKey::sasl_authenticate)) {
      refused_request_ = request;
      return Route::capture;
    }
  }
  switch (sasl_->route(request.api_key)) {
    case SaslTerminator::Route::forward: return Route::forward;
    case SaslTerminator::Route::capture: return Route::capture;
    case SaslTerminator::Route::refuse: break;
  }
  refused_request_ = request;
  return Route::capture;
}

kafka::RequestRouter::NextFrame Connection::on_captured(const kafka::RequestInfo& request,
                                                        std::span<const std::uint8_t> frame) {
  if (refused_request_ || ending()) return NextFrame::request;
  if (policy_refusal_) {
    const policy::Refusal refusal = *policy_refusal_;
    policy_refusal_.reset();
    refuse_by_policy(request, frame, refusal);
    return NextFrame::request;
  }
  if (!sasl_) {
    refuse_client_sasl(request);
    return NextFrame::request;
  }
  if (pending_sasl_ || plain_check_running_) {
    // A client waits for each SASL answer before its next SASL request.
    refused_request_ = request;
    return NextFrame::request;
  }
  process_sasl(request, std::vector<std::uint8_t>(frame.begin(), frame.end()));
  // After a SaslHandshake v0 the terminator knows, by its mechanism, whether
  // the client's next frame is another unframed token (KIP-43).
  return !refused_request_ && !ending() && sasl_->expects_unframed_token() ? NextFrame::unframed_sasl_token
                                                                          : NextFrame::request;
}

void Connection::process_sasl(const kafka::RequestInfo& request, std::vector<std::uint8_t> frame) {
  if (request.api_key == kafka::key_of(kafka::ApiKey::sasl_handshake)) {
    sasl_->update_settings(current_authentication());
  } else {
    // A blocked address is refused before any check. The limiter's delays
    // apply to failure answers (finish_sasl): a guesser waits for each
    // refusal, a client that authenticates is not slowed.
    const auto decision =
        snapshot_->attempt_limiter->admit(limiter_key(client_address_), std::chrono::steady_clock::now());
    if (decision.verdict == identity::AttemptLimiter::Verdict::refuse) {
      finish_sasl(request, sasl_->refuse_rate_limited(request, decision.wait.count()));
      return;
    }
  }
  SaslTerminator::Step step = sasl_->on_request(request, frame, wall_clock_ms());
  OPENSSL_cleanse(frame.data(), frame.size());  // it may hold a PLAIN password or a token
  if (auto* check = std::get_if<SaslTerminator::PlainCheck>(&step)) {
    run_plain_check(std::move(*check));
    return;
  }
  finish_sasl(request, std::get<SaslTerminator::Reply>(std::move(step)));
}

void Connection::on_auth_delay_over() {
  if (ending() || !pending_sasl_) return;
  PendingSasl pending = std::move(*pending_sasl_);
  pending_sasl_.reset();
  send_sasl_reply(pending.request, std::move(pending.reply));
}

void Connection::run_plain_check(SaslTerminator::PlainCheck check) {
  auto job = std::make_unique<PlainJob>();
  job->connection = this;
  job->check = std::move(check);
  job->work.data = job.get();
  const kafka::RequestInfo request = job->check.request;
  const int rc = uv_queue_work(
      worker_.loop(), &job->work,
      [](uv_work_t* work) {  // thread pool: touches only the job (the UserStore is immutable)
        auto* j = static_cast<PlainJob*>(work->data);
        j->result = identity::authenticate_plain(j->check.message, *j->check.users);
        OPENSSL_cleanse(j->check.message.data(), j->check.message.size());
      },
      [](uv_work_t* work, int status) {  // loop thread
        std::unique_ptr<PlainJob> j(static_cast<PlainJob*>(work->data));
        Connection& c = *j->connection;
        c.plain_check_running_ = false;
        if (status == 0 && !c.ending()) c.on_plain_checked(j->check.request, std::move(j->result));
        c.part_closed();
      });
  if (rc != 0) {
    OPENSSL_cleanse(job->check.message.data(), job->check.message.size());
    log::error("conn {}: cannot queue the PLAIN check: {}", id_, uv_strerror(rc));
    on_plain_checked(request, identity::Refused{identity::AuthErrc::no_resources, {}});
    return;
  }
  plain_check_running_ = true;
  parts_open_++;
  job.release();  // owned by the after-work callback
}

void Connection::on_plain_checked(const kafka::RequestInfo& request, identity::FinalStep result) {
  finish_sasl(request, sasl_->on_plain_checked(request, result, wall_clock_ms()));
}

// Counts and logs the end of a conversation; a failure that verified a
// credential is counted against the client's address, and the limiter may
// hold its answer back (a guesser waits for each refusal).
void Connection::finish_sasl(const kafka::RequestInfo& request, SaslTerminator::Reply reply) {
  if (reply.outcome) {
    cluster_stats_->authentications[static_cast<std::size_t>(counted_mechanism(sasl_->conversation_mechanism()))]
                                   [static_cast<std::size_t>(*reply.outcome)]++;
    if (reply.authenticated) {
      log::info("conn {} from {} ({} {}): {}", id_, client_address_, cluster_name(), target_label_, reply.log_detail);
    } else {
      log::warn("conn {} from {} ({} {}): authentication refused ({}): {}", id_, client_address_, cluster_name(),
                target_label_, label(*reply.outcome), reply.log_detail);
    }
  }
  if (!reply.authenticated && reply.credential_checked) {
    const auto decision =
        snapshot_->attempt_limiter->record_failure(limiter_key(client_address_), std::chrono::steady_clock::now());
    if (decision.verdict == identity::AttemptLimiter::Verdict::delay && decision.wait.count() > 0) {
      pending_sasl_ = PendingSasl{request, std::move(reply)};
      uv_timer_start(
          &auth_delay_timer_, [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_auth_delay_over(); },
          static_cast<std::uint64_t>(decision.wait.count()), 0);
      return;
    }
  }
  send_sasl_reply(request, std::move(reply));
}

// kedge's own answer to a captured request, in order with the broker's
// responses (ResponseProcessor::answer).
bool Connection::send_local_answer(const kafka::RequestInfo& request, std::vector<std::uint8_t> frame) {
  ClientSink sink(*this);
  const kafka::Errc errc = in_flight_.answer(request.correlation_id, std::move(frame), sink, *cluster_stats_);
  sink.finish();
  bytes_to_client_ += sink.written;
  cluster_stats_->bytes_to_clients += sink.written;
  tls_.flush();
  if (ending()) return false;
  if (errc != kafka::Errc::ok || sink.failed) {
    log::warn("conn {}: cannot answer {} (correlation id {}): {}; closing", id_, api_name(request.api_key),
              request.correlation_id, sink.failed ? certs::drain_openssl_errors() : kafka::to_string(errc));
    close(sink.failed ? DisconnectCause::client_error : DisconnectCause::frame_error);
    return false;
  }
  return true;
}

void Connection::send_sasl_reply(const kafka::RequestInfo& request, SaslTerminator::Reply reply) {
  if (ending()) return;
  const bool close_after = reply.close_after;
  const bool authenticated = reply.authenticated;
  if (!send_local_answer(request, std::move(reply.frame))) return;
  if (authenticated) {
    set_principal(sasl_->principal());
    arm_session_timer();
  }
  if (close_after) {
    close_after_flush(DisconnectCause::authentication_failed);
    return;
  }
  in_flight_.release_if_idle();
}

// A client of a certificate-only cluster that also tries SASL is answered as
// a broker answers a mechanism it does not enable: SaslHandshake error 33
// with an empty list (SaslAuthenticate: 34, there is no conversation), then
// the connection closes. Its SASL credentials never reach a broker, whose
// connection kedge has already authenticated with its own.
void Connection::refuse_client_sasl(const kafka::RequestInfo& request) {
  SaslTerminator::Reply reply;
  if (request.api_key == kafka::key_of(kafka::ApiKey::sasl_handshake)) {
    reply.frame = kafka::encode_sasl_handshake_response(
        request.correlation_id, kafka::code_of(kafka::ErrorCode::unsupported_sasl_mechanism), {});
  } else {
    reply.frame = kafka::encode_sasl_authenticate_response(
        request.correlation_id, request.api_version, kafka::code_of(kafka::ErrorCode::illegal_sasl_state),
        fmt::format("Virtual cluster {} authenticates clients by certificate (mTLS); SASL is not offered",
                    cluster_name()),
        {}, 0);
  }
  reply.close_after = true;
  log::warn("conn {} from {} ({} {}): {} v{} from a client of virtual cluster {}, which authenticates by certificate "
            "only (mTLS, no sasl); refused, closing (use security.protocol=SSL)",
            id_, client_address_, cluster_name(), target_label_, api_name(request.api_key), request.api_version,
            cluster_name());
  cluster_stats_->authentications[static_cast<std::size_t>(AuthMechanism::none)]
                                 [static_cast<std::size_t>(AuthOutcome::mechanism_not_enabled)]++;
  send_sasl_reply(request, std::move(reply));
}

// KIP-368: the session ends at session_expires_at_ms unless the client
// re-authenticated by then (which moves it). As on a broker, a request that
// is already in flight is answered: an expired session closes the connection
// at the client's next request other than SASL (route), or as soon as nothing
// is in flight. A re-authentication that started in time is let finish.
void Connection::arm_session_timer() {
  uv_timer_stop(&session_timer_);
  session_expired_ = false;
  const auto expires = sasl_->session_expires_at_ms();
  if (!expires) return;
  const std::int64_t left = std::max<std::int64_t>(*expires - wall_clock_ms(), 0);
  uv_timer_start(
      &session_timer_, [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_session_timer(); },
      static_cast<std::uint64_t>(left), 0);
}

void Connection::on_session_timer() {
  if (ending()) return;
  const auto expires = sasl_->session_expires_at_ms();
  if (!expires) return;
  const std::int64_t now = wall_clock_ms();
  if (*expires > now) {  // re-authenticated meanwhile
    arm_session_timer();
    return;
  }
  session_expired_ = true;
  if (sasl_->in_conversation() || plain_check_running_ || pending_sasl_ || in_flight_.requests_pending()) {
    uv_timer_start(
        &session_timer_, [](uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_session_timer(); },
        250, 0);
    return;
  }
  end_expired_session("");
}

void Connection::end_expired_session(std::string_view request) {
  const auto expires = sasl_->session_expires_at_ms();
  log::info("conn {} from {} ({} {}): the session of \"{}\" ended {} ms ago without re-authentication "
            "(KIP-368){}; closing",
            id_, client_address_, cluster_name(), target_label_, ascii::printable(principal_),
            expires ? wall_clock_ms() - *expires : 0, request.empty() ? "" : fmt::format(", then {} arrived", request));
  close_after_flush(DisconnectCause::session_expired);
}

// kedge's own SASL on the broker link (backend.sasl, the cluster's service
// credentials): ApiVersions, SaslHandshake, SaslAuthenticate, then the client
// is answered. The client's credentials never reach a broker.
void Connection::start_service_session() {
  KafkaSessionOptions options;
  options.sasl = cluster_->settings->config.backend.sasl;
  options.max_frame_bytes = worker_.config().limits.max_frame_bytes;
  service_session_ = std::make_unique<KafkaSession>(std::move(options));
  const std::vector<std::uint8_t> first = service_session_->start();
  if (!link_.send(first.data(), first.size()) && !ending()) close(DisconnectCause::upstream_error);
}

void Connection::on_service_session_bytes(const char* data, std::size_t len) {
  KafkaSession::FeedResult result =
      service_session_->feed({reinterpret_cast<const std::uint8_t*>(data), len});
  if (result.error) {
    log::warn("conn {} ({} {}): {}: kedge's service credentials (backend.sasl) were not accepted: {}; closing", id_,
              cluster_name(), target_label_, broker_address_, result.error->message);
    if (bootstrap()) cluster_->health.failed(fmt::format("{}: {}", broker_address_, result.error->message));
    close(DisconnectCause::upstream_authentication_failed);
    return;
  }
  if (!result.outbound.empty() && !link_.send(result.outbound.data(), result.outbound.size())) {
    if (!ending()) close(DisconnectCause::upstream_error);
    return;
  }
  if (!result.became_ready) return;
  log::debug("conn {}: authenticated to {} as kedge's service principal", id_, broker_address_);
  service_session_.reset();
  after_broker_ready();
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

// With SASL terminated, the client's ApiVersions answer lists what kedge answers
// for SaslHandshake / SaslAuthenticate, whatever the broker lists (kedge's own
// link is already authenticated, and the broker's versions are not kedge's).
//
// With a policy, the APIs kedge can refuse are offered only in the versions it
// can answer and the broker offers (cap), so whichever of the two answers after
// a reload understands the version; the ones the policy refuses now are also
// offered when the broker does not offer them (refuse), so a client gets the
// authorization error rather than "not supported"; a refused API kedge has no
// answer for is removed, as a broker that does not offer it.
std::span<const kafka::AddressMap::LocalApi> Connection::local_apis() const {
  if (!routes_requests()) return {};
  if (!policy_routed_) return SaslTerminator::kLocalApis;
  local_apis_.clear();
  if (sasl_ || certificate_only_) {
    local_apis_.assign(std::begin(SaslTerminator::kLocalApis), std::end(SaslTerminator::kLocalApis));
  }
  const policy::ClusterPolicy* policy = current_policy();
  for (std::size_t key = 0; key < kafka::kApiKeyCount; ++key) {
    const auto api_key = static_cast<std::int16_t>(key);
    const bool refused = policy != nullptr && policy::decide(*policy, api_key).has_value();
    const kafka::schema::Versions refusable = kafka::refusable_versions(api_key);
    // With ACLs, only the versions whose resources kedge reads (Produce up to v13, Fetch up to v17).
    const bool acls = policy != nullptr && policy->acls;
    kafka::schema::Versions readable = acls ? policy::acl_readable_versions(api_key) : kafka::schema::kNever;
    // With a namespace, only the versions kedge renames (kafka_codec/rename.h); an API it cannot rename is not offered.
    if (name_prefixes() != nullptr && !kafka::names_nothing(api_key)) {
      const kafka::schema::Versions renamed = kafka::renamed_versions(api_key);
      readable = readable.lo <= readable.hi
                     ? kafka::schema::Versions{std::max(readable.lo, renamed.lo), std::min(readable.hi, renamed.hi)}
                     : renamed;
      if (readable.lo > readable.hi) {
        local_apis_.push_back({api_key, 0, -1, LocalApi::Mode::hide});
        continue;
      }
    }
    if (refusable.lo <= refusable.hi) {
      const std::int16_t lo = readable.lo <= readable.hi ? std::max(refusable.lo, readable.lo) : refusable.lo;
      const std::int16_t hi = readable.lo <= readable.hi ? std::min(refusable.hi, readable.hi) : refusable.hi;
      local_apis_.push_back({api_key, lo, hi, refused ? LocalApi::Mode::refuse : LocalApi::Mode::cap});
    } else if (refused) {
      local_apis_.push_back({api_key, 0, -1, LocalApi::Mode::hide});
    } else if (readable.lo <= readable.hi) {
      local_apis_.push_back({api_key, readable.lo, readable.hi, LocalApi::Mode::cap});
    }
  }
  return local_apis_;
}

// A policy refuses APIs outside kedge's table unless it allows them: they are
// not offered either (a client that sends one anyway is disconnected).
bool Connection::offers_unknown_apis() const {
  if (!policy_routed_) return true;
  if (name_prefixes() != nullptr) return false;  // an API kedge does not know, it cannot rename
  const policy::ClusterPolicy* policy = current_policy();
  return policy == nullptr || policy->allow_unknown_apis;
}

const policy::ClusterPolicy* Connection::current_policy() const {
  const auto& policy = cluster_->settings->config.policy;
  return policy ? &*policy : nullptr;
}

// Counts and answers a request the policy refused: the API's own response with
// its authorization error (kafka_codec/refusal.h). A request kedge has no
// answer for (an API it hid from ApiVersions that the client sent anyway, a
// Produce with acks=0) closes the connection, as a broker does.
std::string Connection::refusal_message(const kafka::RequestInfo& request, policy::Refusal refusal,
                                        const AclRefusal& acl_refused) const {
  const std::string api = api_name(request.api_key);
  std::string message;
  switch (refusal) {
    case policy::Refusal::read_only:
      message = fmt::format("Virtual cluster {} is read-only: {} is not allowed", cluster_name(), api);
      break;
    case policy::Refusal::resource_denied: {
      // Kafka's own text for the error first: clients print the ErrorMessage when there is one (librdkafka's
      // FindCoordinator), so the familiar words stay and kedge's reason follows.
      const std::string_view kafka_text = acl_refused.resource == policy::Resource::group ? "Group authorization failed."
                                          : acl_refused.resource == policy::Resource::transactional_id
                                              ? "Transactional Id authorization failed."
                                          : acl_refused.resource == policy::Resource::cluster
                                              ? "Cluster authorization failed."
                                              : "Topic authorization failed.";
      message = fmt::format("{} {} on {} is not allowed on virtual cluster {}", kafka_text, api, acl_refused.detail,
                            cluster_name());
      break;
    }
    case policy::Refusal::acl_unchecked:
      message = fmt::format("{} v{} is not allowed on virtual cluster {}: kedge cannot check its resources against "
                            "the cluster's ACLs",
                            api, request.api_version, cluster_name());
      break;
    case policy::Refusal::outside_namespace:
      message = acl_refused.resource == policy::Resource::cluster
                    ? fmt::format("Cluster authorization failed. {} on {} is not allowed on virtual cluster {}: its "
                                  "namespace alters only its own topics' and groups' configs",
                                  api, acl_refused.detail, cluster_name())
                    : fmt::format("{} v{} is not available on virtual cluster {}: its namespace renames only the APIs "
                                  "and versions kedge reads",
                                  api, request.api_version, cluster_name());
      break;
    case policy::Refusal::invalid_regex:
      message = fmt::format("Invalid regular expression \"{}\" on virtual cluster {}: kedge cannot confine it to the "
                            "namespace (it must be one balanced RE2 expression: docs/namespaces.md)",
                            acl_refused.detail, cluster_name());
      break;
    case policy::Refusal::invalid_topic_name: {
      const kafka::NamePrefixes* prefixes = name_prefixes();
      message = fmt::format("Topic name \"{}\" is illegal on virtual cluster {}: with its namespace it would be "
                            "{} characters, more than Kafka's limit of {}",
                            acl_refused.detail, cluster_name(),
                            acl_refused.detail.size() + (prefixes != nullptr ? prefixes->topic.size() : 0),
                            kafka::kMaxTopicNameLength);
      break;
    }
    default: message = fmt::format("{} is not allowed on virtual cluster {}", api, cluster_name());
  }
  return message;
}

void Connection::refuse_by_policy(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame,
                                  policy::Refusal refusal) {
  cluster_stats_->apis[api_slot(request.api_key)].refused[static_cast<std::size_t>(refusal)]++;
  if (refusal != policy::Refusal::unknown_topic_id && refusal != policy::Refusal::invalid_topic_name) {
    audit(request, frame, refusal);
  }
  const std::string api = api_name(request.api_key);
  const std::string message = refusal_message(request, refusal, acl_refused_);
  const bool expects_answer = in_flight_.awaits_answer(request.correlation_id);
  std::vector<std::uint8_t> answer;
  kafka::Errc errc = kafka::Errc::ok;
  if (!expects_answer) {
  } else if (prepared_refusal_) {  // a Produce or Fetch decided topic by topic (split_by_acls)
    if (prepared_refusal_->empty()) errc = kafka::Errc::frame_too_large;
    answer = std::move(*prepared_refusal_);
  } else {
    // encode_refusal answers malformed_request for an API or version it has no answer for.
    errc = kafka::encode_refusal(frame, message, snapshot_->config.limits.max_frame_bytes, answer,
                                 refusal == policy::Refusal::resource_denied ||
                                         (refusal == policy::Refusal::outside_namespace &&
                                          acl_refused_.resource == policy::Resource::cluster)
                                     ? refused_kind(acl_refused_.resource)
                                 : refusal == policy::Refusal::invalid_topic_name ? kafka::RefusedResource::invalid_topic
                                 : refusal == policy::Refusal::invalid_regex      ? kafka::RefusedResource::invalid_regex
                                                                                  : kafka::RefusedResource::unspecified);
  }
  prepared_refusal_.reset();
  if (!expects_answer || errc != kafka::Errc::ok) {
    log::warn("conn {} from {} ({} {}): {} v{} refused by the policy of virtual cluster {} ({}), and kedge cannot "
              "answer it ({}); closing, as a broker does",
              id_, client_address_, cluster_name(), target_label_, api, request.api_version, cluster_name(),
              policy::to_string(refusal),
              !expects_answer ? "Produce with acks=0 expects no response"
              : errc == kafka::Errc::malformed_request ? "an API or version kedge does not offer on this cluster"
                                                       : kafka::to_string(errc));
    close(DisconnectCause::policy_refused);
    return;
  }
  if (refusal == policy::Refusal::unknown_topic_id) {
    // Not a denial: the client learns the ids from a fresh Metadata (through kedge) and retries.
    log::debug("conn {}: {} v{} names only topic ids kedge has not seen yet; answered UNKNOWN_TOPIC_ID", id_, api,
               request.api_version);
  } else if (policy_refusals_++ == 0) {
    const bool by_namespace = refusal == policy::Refusal::outside_namespace ||
                              refusal == policy::Refusal::invalid_topic_name || refusal == policy::Refusal::invalid_regex;
    log::info("conn {} from {} ({} {}{}{}): {} v{} refused by {} ({}); answered with {}. Further refusals on this "
              "connection are logged at debug",
              id_, client_address_, cluster_name(), target_label_, principal_.empty() ? "" : ", principal ",
              principal_, api, request.api_version, by_namespace ? "its namespace" : "policy",
              policy::to_string(refusal),
              refusal == policy::Refusal::invalid_topic_name ? "INVALID_TOPIC_EXCEPTION"
              : refusal == policy::Refusal::invalid_regex    ? "INVALID_REGULAR_EXPRESSION"
                                                             : "an authorization error");
  } else {
    log::debug("conn {}: {} v{} refused by policy ({})", id_, api, request.api_version, policy::to_string(refusal));
  }
  if (send_local_answer(request, std::move(answer))) in_flight_.release_if_idle();
}

void Connection::on_endpoint_rewritten(std::int16_t api_key, std::int16_t api_version, std::int32_t node_id,
                                       std::string_view real_host, std::int32_t real_port,
                                       const Advertised& advertised) {
  cluster_->registry.learn(node_id, real_host, real_port, LearnedFrom{api_key, api_version}, uv_now(worker_.loop()));
  cluster_stats_->apis[api_slot(api_key)].endpoints_rewritten++;
  if (!log::enabled(LogLevel::debug)) return;  // keep the per-endpoint path free of formatting
  log::debug("rewrote {} v{} for {}: broker {} {}:{} -> {}:{}", api_name(api_key), api_version, cluster_name(),
             node_id, real_host, real_port, advertised.host, advertised.port);
}

// ------------------------------------------------------------ HTTP front

// HTTP when the front is on for this listener and the SNI's cluster, and the
// client asked for it: the cluster's HTTP name, or ALPN http/1.1 (Kafka
// clients offer no ALPN, so they are never taken for HTTP).
bool Connection::http_wanted(const sni::Found& hello) const {
  if (!listener_->config.http_enabled || target_.cluster >= snapshot_->clusters.size()) return false;
  if (!snapshot_->clusters[target_.cluster]->config.http.enabled) return false;
  if (std::holds_alternative<sni::Http>(target_.role)) return true;
  return std::find(hello.alpn.begin(), hello.alpn.end(), "http/1.1") != hello.alpn.end();
}

// TLS is answered at once: the HTTP front talks to the brokers through the
// worker's LeaderPool, per command, not through a link of its own.
void Connection::start_http() {
  if (!start_cluster_tls()) return;
  tls_.allow_http_alpn();
  enter(State::handshaking);
  drive_handshake();
}

void Connection::http_send(std::span<const std::uint8_t> plaintext) {
  if (ending() || !tls_.started()) return;
  bytes_to_client_ += plaintext.size();
  if (!tls_.write(plaintext.data(), plaintext.size())) {
    close(DisconnectCause::client_error);
    return;
  }
  tls_.flush();
}

void Connection::http_close(bool after_flush) {
  const DisconnectCause cause = state_ == State::forwarding && drain_cause_ != DisconnectCause::shutdown
                                    ? DisconnectCause::client_closed
                                    : drain_cause_;
  if (after_flush) {
    close_after_flush(cause);
  } else {
    close(cause);
  }
}

std::size_t Connection::http_queued_bytes() const { return client_.queued_bytes(); }

void Connection::http_pause_reading(bool paused) {
  if (ending()) return;
  if (paused) {
    client_.pause(io::PauseReason::backpressure);
  } else {
    client_.resume(io::PauseReason::backpressure);
  }
}

upstream::LeaderPool* Connection::http_leader_pool() {
  if (!cluster_ || cluster_->retired) return nullptr;
  const ClusterSettings& cluster = *cluster_->settings;
  const auto make = [&](std::optional<SaslCredentials> credentials) {
    upstream::LeaderPool::Settings settings;
    settings.cluster_name = cluster.config.name;
    settings.backend = cluster.config.backend;
    settings.upstream_tls = share_context(cluster.upstream_ctx.get());
    settings.credentials = std::move(credentials);
    settings.connect_timeout_ms = worker_.config().limits.upstream_connect_timeout_ms;
    settings.max_frame_bytes = worker_.config().limits.max_frame_bytes;
    return std::make_unique<upstream::LeaderPool>(worker_.loop(), worker_.buffers().scratch, &worker_.resolve_cache(),
                                                  cluster_->registry, std::move(settings));
  };
  // Passthrough with an HTTP client's Basic credentials: a pool of their own
  // (shared by this worker's connections with the same credentials), so the
  // brokers authenticate and authorize that client.
  if (!authentication_ && http_passthrough_) {
    auto& pools = cluster_->credential_pools;
    auto it = pools.find(http_passthrough_key_);
    if (it == pools.end()) {
      if (pools.size() >= ClusterRuntime::kMaxCredentialPools) {
        // The least recently used idle pool makes room; with none idle the map grows past the cap until one is.
        auto victim = pools.end();
        for (auto candidate = pools.begin(); candidate != pools.end(); ++candidate) {
          if (candidate->second.pool->operations_pending() != 0) continue;
          if (victim == pools.end() || candidate->second.last_used_ms < victim->second.last_used_ms) victim = candidate;
        }
        if (victim != pools.end()) pools.erase(victim);
      }
      it = pools.emplace(http_passthrough_key_, ClusterRuntime::CredentialPool{make(http_passthrough_), 0}).first;
    }
    it->second.last_used_ms = uv_now(worker_.loop());
    return it->second.pool.get();
  }
  // Passthrough without credentials: kedge holds no identity of the client's,
  // so it reads as an anonymous client would (no SASL); a backend that
  // requires SASL refuses it. Terminated authentication: kedge's service
  // credentials, as its broker links use once the client authenticated.
  const bool service = authentication_ != nullptr;
  std::unique_ptr<upstream::LeaderPool>& pool = cluster_->leader_pools[service ? 1 : 0];
  if (!pool) pool = make(service ? cluster.config.backend.sasl : std::nullopt);
  return pool.get();
}

void Connection::http_pass_credentials(std::optional<HttpFront::Host::Credentials> credentials) {
  if (!credentials) {
    if (http_passthrough_) OPENSSL_cleanse(http_passthrough_->password.data(), http_passthrough_->password.size());
    http_passthrough_.reset();
    http_passthrough_key_.clear();
    return;
  }
  SaslCredentials sasl;
  sasl.mechanism = cluster_->settings->config.http.passthrough_mechanism;
  sasl.username = std::move(credentials->user);
  sasl.password = std::move(credentials->secret);
  // The pool's key: a digest of the credentials, never the password itself.
  std::string material = fmt::format("{}\n{}\n", to_string(sasl.mechanism), sasl.username);
  material += sasl.password;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(material.data(), material.size(), digest, &length, EVP_sha256(), nullptr);
  OPENSSL_cleanse(material.data(), material.size());
  http_passthrough_key_.assign(reinterpret_cast<const char*>(digest), length);
  http_passthrough_ = std::move(sasl);
}

// The checks a Kafka request on `topic` would pass (route_by_policy): the
// policy's API lists, then the ACLs (Fetch needs Read on the topic,
// ListOffsets Describe: Kafka's "Operations and Resources on Protocols").
std::optional<HttpFront::Host::Refusal> Connection::http_authorize(std::int16_t api_key, std::string_view topic) {
  const VirtualClusterConfig& config = cluster_->settings->config;
  if (config.name_prefixes && !config.namespace_visible &&
      config.name_prefixes->topic.size() + topic.size() > kafka::kMaxTopicNameLength) {
    return Refusal{kafka::code_of(kafka::ErrorCode::invalid_topic_exception),
                   fmt::format("topic name {} is too long for this virtual cluster's namespace", topic)};
  }
  const policy::ClusterPolicy* policy = current_policy();
  if (policy == nullptr) return std::nullopt;
  // Produce, Fetch and ListOffsets answer an authorization refusal per topic
  // with TOPIC_AUTHORIZATION_FAILED; so does the front, whatever refused.
  const std::int16_t refused_code = kafka::code_of(kafka::ErrorCode::topic_authorization_failed);
  if (const auto refused = policy::decide(*policy, api_key)) {
    if (*refused != policy::Refusal::acl_unchecked) {
      policy_refusals_++;
      if (*refused == policy::Refusal::read_only) {
        return Refusal{refused_code, fmt::format("Virtual cluster {} is read-only: {} is not allowed", cluster_name(),
                                                 kafka::api_name(api_key))};
      }
      return Refusal{refused_code, fmt::format("{} is refused by the policy of virtual cluster {} ({})",
                                               kafka::api_name(api_key), cluster_name(), policy::to_string(*refused))};
    }
  }
  if (policy->acls) {
    const policy::Operation operation = kafka::is(api_key, kafka::ApiKey::fetch)     ? policy::Operation::read
                                        : kafka::is(api_key, kafka::ApiKey::produce) ? policy::Operation::write
                                                                                     : policy::Operation::describe;
    if (!acl_allows(*policy->acls, policy::Resource::topic, topic, operation)) {
      policy_refusals_++;
      return Refusal{refused_code, fmt::format("Topic authorization failed. {} on topic {} ({}) is not allowed on "
                                               "virtual cluster {}",
                                               kafka::api_name(api_key), topic, policy::to_string(operation),
                                               cluster_name())};
    }
  }
  return std::nullopt;
}

std::string Connection::http_backend_topic(std::string_view topic) {
  const VirtualClusterConfig& config = cluster_->settings->config;
  if (config.name_prefixes && !config.namespace_visible) return config.name_prefixes->topic + std::string(topic);
  return std::string(topic);
}

// HTTP Basic: the users file's check of SASL PLAIN (identity/plain.h, PBKDF2
// on libuv's thread pool, as run_plain_check). Bearer: the OAUTHBEARER server
// on the token (identity/oauthbearer.h). Either way the principal must be
// bound to the cluster, and is the connection's from then on (ACLs, quotas,
// the access log); each attempt is counted as SASL's are.
struct Connection::HttpPlainJob {
  uv_work_t work{};
  Connection* connection = nullptr;
  std::string message;  // PLAIN: "\0user\0password", wiped after the check
  std::shared_ptr<const identity::UserStore> users;
  identity::FinalStep result = identity::Refused{identity::AuthErrc::no_resources, {}};
  std::function<void(std::optional<std::string>)> done;
};

void Connection::http_authenticate(HttpFront::Host::Credentials credentials,
                                   std::function<void(std::optional<std::string>)> done) {
  if (!authentication_) {
    done(std::string("this virtual cluster does not authenticate clients"));
    return;
  }
  if (credentials.kind == HttpFront::Host::Credentials::Kind::bearer) {
    identity::OAuthBearerServer server(authentication_->oauthbearer);
    // RFC 7628 §3.1: gs2 header, then kvsep-separated auth=, then kvsep kvsep.
    const std::string message = std::string("n,,\x01") + "auth=Bearer " + credentials.secret + "\x01\x01";
    const identity::OAuthBearerServer::Step step = server.receive(message, wall_clock_ms() / 1000);
    if (step.kind != identity::OAuthBearerServer::Step::Kind::authenticated) {
      cluster_stats_->authentications[static_cast<std::size_t>(AuthMechanism::oauthbearer)]
                                     [static_cast<std::size_t>(AuthOutcome::invalid_credentials)]++;
      log::info("conn {} from {}: HTTP bearer token refused for virtual cluster {}: {}", id_, client_address_,
                cluster_name(), step.log_detail.empty() ? step.error_message : step.log_detail);
      done(step.error_message.empty() ? std::string("invalid bearer token") : step.error_message);
      return;
    }
    http_authenticated(AuthMechanism::oauthbearer, step.principal, std::move(done));
    return;
  }
  if (authentication_->users == nullptr || credentials.user.empty() || credentials.secret.empty() ||
      credentials.user.size() > identity::kMaxPlainFieldBytes ||
      credentials.secret.size() > identity::kMaxPlainFieldBytes) {
    OPENSSL_cleanse(credentials.secret.data(), credentials.secret.size());
    done(std::string("invalid user name or password"));
    return;
  }
  auto job = std::make_unique<HttpPlainJob>();
  job->connection = this;
  job->message.push_back('\0');
  job->message += credentials.user;
  job->message.push_back('\0');
  job->message += credentials.secret;
  OPENSSL_cleanse(credentials.secret.data(), credentials.secret.size());
  job->users = authentication_->users;
  job->done = std::move(done);
  job->work.data = job.get();
  const int rc = uv_queue_work(
      worker_.loop(), &job->work,
      [](uv_work_t* work) {  // thread pool: touches only the job (the UserStore is immutable)
        auto* j = static_cast<HttpPlainJob*>(work->data);
        j->result = identity::authenticate_plain(j->message, *j->users);
        OPENSSL_cleanse(j->message.data(), j->message.size());
      },
      [](uv_work_t* work, int status) {  // loop thread
        std::unique_ptr<HttpPlainJob> j(static_cast<HttpPlainJob*>(work->data));
        Connection& c = *j->connection;
        if (status == 0 && !c.ending()) {
          if (const auto* ok = std::get_if<identity::Authenticated>(&j->result)) {
            c.http_authenticated(AuthMechanism::plain, ok->principal, std::move(j->done));
          } else {
            const auto& refused = std::get<identity::Refused>(j->result);
            c.cluster_stats_->authentications[static_cast<std::size_t>(AuthMechanism::plain)]
                                             [static_cast<std::size_t>(AuthOutcome::invalid_credentials)]++;
            log::info("conn {} from {}: HTTP Basic credentials refused for virtual cluster {}: {}", c.id_,
                      c.client_address_, c.cluster_name(), identity::describe(refused.reason));
            j->done(std::string(identity::client_message(refused.reason, "HTTP Basic")));
          }
        }
        c.part_closed();
      });
  if (rc != 0) {
    OPENSSL_cleanse(job->message.data(), job->message.size());
    log::error("conn {}: cannot queue the HTTP Basic check: {}", id_, uv_strerror(rc));
    job->done(std::string("kedge cannot check credentials now"));
    return;
  }
  parts_open_++;
  job.release();  // owned by the after-work callback
}

void Connection::http_authenticated(AuthMechanism mechanism, const std::string& principal,
                                    std::function<void(std::optional<std::string>)> done) {
  if (!authentication_->binding.binds(principal)) {
    cluster_stats_->authentications[static_cast<std::size_t>(mechanism)]
                                   [static_cast<std::size_t>(AuthOutcome::principal_not_bound)]++;
    log::info("conn {} from {}: HTTP principal \"{}\" is not bound to virtual cluster {}", id_, client_address_,
              identity::printable_excerpt(principal, 200), cluster_name());
    done(fmt::format("principal \"{}\" is not bound to virtual cluster {}", identity::printable_excerpt(principal, 200),
                     cluster_name()));
    return;
  }
  cluster_stats_->authentications[static_cast<std::size_t>(mechanism)]
                                 [static_cast<std::size_t>(AuthOutcome::authenticated)]++;
  if (principal != principal_) {
    set_principal(principal);
    quota_account_.reset();  // the principal's account from now on
    log::debug("conn {}: HTTP client authenticated: principal \"{}\" on {}", id_,
               identity::printable_excerpt(principal, 200), cluster_name());
  }
  done(std::nullopt);
}

std::optional<HttpFront::Host::Refusal> Connection::http_authorize_group(std::int16_t api_key,
                                                                         std::string_view group) {
  const policy::ClusterPolicy* policy = current_policy();
  if (policy == nullptr) return std::nullopt;
  const std::int16_t refused_code = kafka::code_of(kafka::ErrorCode::group_authorization_failed);
  if (const auto refused = policy::decide(*policy, api_key); refused && *refused != policy::Refusal::acl_unchecked) {
    policy_refusals_++;
    return Refusal{refused_code, fmt::format("{} is refused by the policy of virtual cluster {} ({})",
                                             kafka::api_name(api_key), cluster_name(), policy::to_string(*refused))};
  }
  if (policy->acls) {
    // OffsetCommit needs Read on the group, OffsetFetch Describe (Kafka's "Operations and Resources on Protocols").
    const policy::Operation operation =
        kafka::is(api_key, kafka::ApiKey::offset_commit) ? policy::Operation::read : policy::Operation::describe;
    if (!acl_allows(*policy->acls, policy::Resource::group, group, operation)) {
      policy_refusals_++;
      return Refusal{refused_code, fmt::format("Group authorization failed. {} on group {} ({}) is not allowed on "
                                               "virtual cluster {}",
                                               kafka::api_name(api_key), group, policy::to_string(operation),
                                               cluster_name())};
    }
  }
  return std::nullopt;
}

std::string Connection::http_backend_group(std::string_view group) {
  const VirtualClusterConfig& config = cluster_->settings->config;
  if (config.name_prefixes && !config.namespace_visible) return config.name_prefixes->group + std::string(group);
  return std::string(group);
}

std::optional<std::string> Connection::http_client_topic(std::string_view backend_topic) {
  const VirtualClusterConfig& config = cluster_->settings->config;
  if (!config.name_prefixes || config.namespace_visible) return std::string(backend_topic);
  const std::string& prefix = config.name_prefixes->topic;
  if (backend_topic.substr(0, prefix.size()) != prefix) return std::nullopt;
  return std::string(backend_topic.substr(prefix.size()));
}

// A REST produce is charged like a Produce request: its bytes on the produce
// quota, one request on the request rate. HTTP has no throttle field, so the
// write itself waits until what the client owes is paid back (the front runs
// it from on_throttle_over), and the connection is not read meanwhile: a
// client is slowed whether it reuses its connection or opens a new one.
std::uint32_t Connection::http_charge_produce(std::uint64_t bytes) {
  const std::optional<policy::QuotaConfig>& quotas = cluster_->settings->config.quotas;
  if (!quotas || ending() || !quota_timer_open_) return 0;
  const policy::QuotaLimits& limits = quotas->limits_for(principal_);
  const auto now = std::chrono::steady_clock::now();
  policy::ClientAccount& account = quota_account();
  std::uint32_t wait_ms = 0;
  if (limits.produce_bytes_per_second) {
    const std::uint32_t ms = account.produce.charge(bytes, *limits.produce_bytes_per_second, now);
    if (ms > 0) {
      cluster_stats_->throttled_requests[static_cast<std::size_t>(QuotaKind::produce_bytes)]++;
      cluster_stats_->throttle_ms[static_cast<std::size_t>(QuotaKind::produce_bytes)] += ms;
    }
    wait_ms = std::max(wait_ms, ms);
  }
  if (limits.requests_per_second) {
    wait_ms = std::max(wait_ms, account.requests.charge(1, *limits.requests_per_second, now));
  }
  if (wait_ms > 0) throttle_client(wait_ms);
  return wait_ms;
}

}  // namespace kedge
