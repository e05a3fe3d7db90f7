#pragma once
// One client connection and the broker connection it is paired with.
//
// State machine (transitions are the only writers of state_):
//
//   [ReadingProxyHeader, listeners with proxy_protocol optional/required:
//    PROXY v1/v2 header parsed and dropped, or absent (optional) --> ReadingHello;
//    malformed, or absent when required --> Closed]
//   ReadingHello --hello parsed, SNI known--> Handshaking --TLS done--> Forwarding
//   (Handshaking answers the ClientHello only once the broker connection is up)
//        |                    |                   |                        |
//        |  not TLS/malformed |  unknown/no SNI:  |  handshake failed,     | EOF / error / frame error
//        |  timeout           |  alert 112 sent   |  timeout               |
//        v                    v                   v                        v
//      Closed <------------ Flushing (writes queued before close drain, bounded by a deadline)
//
// The upstream side starts the moment the SNI is known:
//   None -> Locating (registry / discovery) -> Resolving -> Connecting -> Connected
// and the TLS handshake is driven only after Connected, so a broker that cannot
// be reached looks to the client like a failed connection attempt (as without
// kedge), never like a broker that accepted TLS and then hung up.
//
// close(cause) is idempotent: it stops reads and timers, closes every handle
// and the object is freed by Worker::release_connection from the last close
// callback, after libuv has run every pending write/connect callback.
#include <openssl/ssl.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "admin/counters.h"
#include "gateway/tls_bio.h"
#include "upstream/tls.h"
#include "kafka_codec/stream.h"
#include "sni/hostname.h"

namespace kedge {

class Worker;
struct ClusterRuntime;
struct ListenerSettings;
struct Snapshot;

// What a connection holds only while it has requests in flight: the response
// codec, the FIFO of requests awaiting a response, and their timings. A
// connection takes one with its first request and hands it back to its loop
// when the last response owed is out (Connection::release_idle_state), so an
// idle connection holds none, and the next burst on any connection of that
// loop reuses it instead of allocating the processor, its buffers and the
// FIFO again: a pipelining client drains and refills thousands of times a
// second. LoopBuffers::spare_in_flight bounds how many are kept.
struct InFlightState {
  InFlightState(std::uint32_t max_frame_bytes, kafka::AddressMap& addresses, std::uint32_t fetch_buffer_bytes)
      : responses(max_frame_bytes, addresses, fetch_buffer_bytes) {}
  kafka::ResponseProcessor responses;
  kafka::InFlightQueue requests;
  // Per request in `requests`, in order: API slot and uv_hrtime() when its
  // header was read (request latency histogram). timings[timings_head..] wait.
  struct Timing {
    std::uint16_t api_slot;
    std::uint64_t started_ns;
  };
  std::vector<Timing> timings;
  std::size_t timings_head = 0;
};

class Connection final : private kafka::AddressMap, private CiphertextPeer {
 public:
  Connection(Worker& server, std::shared_ptr<const ListenerSettings> listener, std::uint64_t id);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Accepts from `server_stream` and starts reading the ClientHello. On a
  // port-routed listener the target is known now: `port_node_id` is the broker
  // of the pool port accepted on, nullopt for the bootstrap port. A plaintext
  // (port-routed) listener locates the broker at once and forwards raw bytes.
  bool accept_from(uv_stream_t* server_stream, std::optional<std::int32_t> port_node_id = std::nullopt);
  void close(DisconnectCause cause);
  // Graceful end (SIGTERM drain, or a reload that removed/changed this
  // connection's virtual cluster or listener): stop reading requests, let the
  // ones in flight get their responses, then close with close_notify. Closes
  // at once if nothing is in flight or TLS is not up yet; force-closes after
  // timeout_ms. Idempotent.
  void drain(std::uint32_t timeout_ms, DisconnectCause cause);
  std::uint64_t id() const { return id_; }
  const ListenerSettings* listener_settings() const { return listener_.get(); }
  bool cluster_retired() const;
  // Connections to the same broker of the same virtual cluster share a group
  // ("alpha/broker 3"); the drain closes one group at a time.
  std::string drain_group() const;

 private:
  enum class State { reading_proxy_header, reading_hello, handshaking, forwarding, flushing, closed };
  enum class Upstream { none, locating, resolving, connecting, connected };
  enum class Side { client, upstream };

  struct WriteRequest;
  struct ClientSink;

  // libuv callbacks
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_client_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_upstream_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write_done(uv_write_t* req, int status);
  static void on_handle_closed(uv_handle_t* handle);

  // client side
  void handle_client_bytes(const char* data, std::size_t len);
  void handle_proxy_header();
  void handle_hello();
  void reject_hello(DisconnectCause cause, std::string_view sni);
  void start_tls(SSL_CTX* ctx);
  void drive_handshake();
  void read_plaintext();
  void flush_tls_output();

  // upstream side
  void locate_upstream();
  void connect_upstream(const HostPort& target);
  void connect_to(const sockaddr_storage& address);
  void on_upstream_connected(int status);
  void upstream_ready();  // TCP (and backend TLS) up: answer the client
  void upstream_failed(const std::string& why, DisconnectCause cause = DisconnectCause::upstream_connect_failed);
  void handle_upstream_bytes(const char* data, std::size_t len);
  void process_upstream_plaintext(const char* data, std::size_t len);
  void flush_upstream_tls_output();
  void upstream_tls_refused(const std::string& error);
  void forward_client_plaintext(const std::uint8_t* bytes, std::size_t n);
  bool port_routed() const;
  bool route_by_port(std::optional<std::int32_t> port_node_id);  // false: closed
  void start_plaintext();
  void send_to_upstream(const std::uint8_t* data, std::size_t len);

  // output + flow control
  void write_to(Side side, const char* data, std::size_t len, const char* more = nullptr,
                std::size_t more_len = 0);
  void update_flow_control();
  void close_after_flush(DisconnectCause cause);
  void maybe_finish_flush();

  // CiphertextPeer (the TLS BIO, see tls_bio.h and "Gateway I/O path" in docs/performance.md)
  std::size_t read_ciphertext(char* out, std::size_t capacity) override;
  void write_ciphertext(const char* data, std::size_t len) override;
  void hold_unread_ciphertext();
  bool requests_in_flight() const { return exchange_ && !exchange_->requests.empty(); }
  void take_exchange();
  void release_idle_state();

  // kafka::AddressMap
  Advertised advertised_for(std::int32_t node_id) override;
  void on_endpoint_rewritten(std::int16_t api_key, std::int16_t api_version, std::int32_t node_id,
                             std::string_view real_host, std::int32_t real_port,
                             const Advertised& advertised) override;

  // metrics (plain integers on the loop thread)
  void count_requests(std::size_t in_flight_before, std::uint64_t seen_before);
  void count_responses(std::uint64_t responses_before, std::uint64_t rewritten_before,
                       std::uint64_t stripped_before);
  void count_tls_failure(TlsFailure reason);

  void close_handle(uv_handle_t* handle);
  std::string describe_peer() const;

  Worker& worker_;
  const std::shared_ptr<const ListenerSettings> listener_;
  ListenerStats* const listener_stats_;  // this worker's counters for the listener (stable address)
  ClusterStats* cluster_stats_ = nullptr;  // set with cluster_ (then counted in its connections_active)
  std::shared_ptr<const Snapshot> snapshot_;  // the config generation this connection was routed under
  std::shared_ptr<ClusterRuntime> cluster_;    // set once the SNI (or the listener) names the cluster
  const std::uint64_t id_;
  State state_ = State::reading_hello;
  Upstream upstream_state_ = Upstream::none;
  DisconnectCause cause_ = DisconnectCause::client_closed;

  uv_tcp_t client_{};
  uv_tcp_t* upstream_ = nullptr;  // heap: a failed attempt's handle closes while the next one starts
  uv_timer_t deadline_{};         // hello+handshake deadline, then flush deadline
  uv_timer_t connect_timer_{};
  uv_connect_t connect_req_{};
  int open_handles_ = 0;

  // Bytes received before the SNI was known; once TLS starts, the client's
  // ciphertext OpenSSL has not read yet (read_ciphertext consumes it from
  // hello_read_). Empty, with no allocation, while forwarding.
  std::vector<std::uint8_t> hello_;
  std::size_t hello_read_ = 0;
  // The socket read being handed to OpenSSL (read_ciphertext), valid only
  // inside handle_client_bytes; what is left of it afterwards goes to hello_.
  const char* ciphertext_in_ = nullptr;
  std::size_t ciphertext_in_len_ = 0;
  std::string sni_;
  std::string client_address_;  // the original client: PROXY header source, else the socket peer
  std::string socket_peer_;     // the TCP peer (a load balancer when PROXY protocol is used)
  sni::Target target_{};
  std::string target_label_;  // "bootstrap" or "broker 3"

  SSL* ssl_ = nullptr;  // owns its BIO (new_ciphertext_bio, bound to this connection)

  std::unique_ptr<UpstreamTls> upstream_tls_;  // backend.tls, else plaintext to the broker
  // TLS 1.3 (RFC 8446 §4.4.2): our handshake completes before the broker has
  // checked our certificate, so a refusal (e.g. "certificate required") arrives
  // as an alert afterwards. The broker has accepted the session only once it
  // sent application data.
  bool upstream_tls_accepted_ = false;
  std::optional<std::int32_t> out_of_range_node_;  // port routing: a response named a broker with no pool port

  kafka::RequestTracker requests_;
  // Taken with the first request and handed back whenever the connection is
  // idle (release_idle_state): an idle connection holds no codec state.
  std::unique_ptr<InFlightState> exchange_;
  std::uint64_t responses_expected_ = 0;  // responses owed by the broker to exchange_->responses

  std::size_t bootstrap_first_ = 0;     // index of the first bootstrap server tried
  std::size_t bootstrap_attempts_ = 0;
  HostPort upstream_target_;
  bool upstream_address_cached_ = false;  // upstream_target_'s address came from the ResolveCache

  std::size_t queued_to_client_ = 0;    // bytes in uv_write requests not yet completed
  std::size_t queued_to_upstream_ = 0;
  bool client_reads_paused_ = false;
  bool upstream_reads_paused_ = false;
  bool client_reading_ = false;
  bool upstream_reading_ = false;
  bool draining_ = false;
  DisconnectCause drain_cause_ = DisconnectCause::shutdown;

  std::uint64_t connect_started_ns_ = 0;

  std::uint64_t bytes_from_client_ = 0;  // plaintext Kafka bytes
  std::uint64_t bytes_to_client_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace kedge
