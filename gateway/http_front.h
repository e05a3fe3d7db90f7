#pragma once
// The HTTP/1.1 front of a client connection (issue 19; docs/http.md): what a
// Connection runs instead of forwarding Kafka bytes once the ClientHello chose
// HTTP (ALPN http/1.1, or the cluster's HTTP host name). It reads the
// decrypted bytes, parses requests with llhttp, upgrades the WebSocket path to
// RFC 6455 and serves the APISIX pub-sub commands (binary protobuf messages)
// and their JSON form (text messages) from the virtual cluster's partition
// leaders through the worker's LeaderPool.
//
//   http ──GET <websocket_path> + valid upgrade──▶ websocket ──Close──▶ closing
//     │  (other requests: answered, keep-alive)        │ violation: Close with its code
//     └── malformed request: 400 and close             └─▶ closing
//
// Commands are answered as their Kafka answers arrive (each reply echoes the
// command's sequence). Backpressure: at most kMaxCommandsInFlight commands are
// served at once and, while the connection's write queue is above
// kHighWatermarkBytes, no new command is read and no subscription fetches
// more: the client's reads are paused (the Host's pause_reading) until it drains.
//
// Every command passes the virtual cluster's policy (API lists, ACLs with the
// connection's subject) and namespace (hidden: names are prefixed) through the
// Host, exactly as a Kafka request would.
//
// Errors are values; nothing throws across llhttp's callbacks.
#include <llhttp.h>

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/counters.h"
#include "config/config.h"
#include "upstream/leader_pool.h"
#include "web/message.h"
#include "web/pubsub_codec.h"

namespace kedge {

class HttpFront {
 public:
  // What the connection carrying the front does for it.
  class Host {
   public:
    virtual ~Host() = default;
    virtual void http_send(std::span<const std::uint8_t> plaintext) = 0;  // to the client, in order
    virtual void http_close(bool after_flush) = 0;                         // the front is done
    virtual std::size_t http_queued_bytes() const = 0;                     // not yet taken by the socket
    virtual void http_pause_reading(bool paused) = 0;
    virtual upstream::LeaderPool* http_leader_pool() = 0;                  // null: the cluster is gone
    // The cluster's policy on `api_key` over `topic` (the client's name):
    // nullopt when allowed, else the Kafka error code and message.
    struct Refusal {
      std::int16_t kafka_error = 0;
      std::string message;
    };
    virtual std::optional<Refusal> http_authorize(std::int16_t api_key, std::string_view topic) = 0;
    // The backend's name of the client's topic (a hidden namespace prefixes it).
    virtual std::string http_backend_topic(std::string_view topic) = 0;
    // Checks an HTTP client's credentials as the cluster's SASL would, binds
    // its principal to the connection, and calls `done` with nullopt
    // (authenticated) or the refusal's message; maybe later (a PLAIN check
    // runs on the thread pool), maybe at once.
    struct Credentials {
      enum class Kind : std::uint8_t { basic, bearer } kind = Kind::basic;
      std::string user;    // basic
      std::string secret;  // the password, or the token
    };
    virtual void http_authenticate(Credentials credentials, std::function<void(std::optional<std::string>)> done) = 0;
    // Passthrough: the Basic credentials of the request being served (nullopt:
    // none), used for the brokers' SASL by the pool http_leader_pool() returns
    // from now on.
    virtual void http_pass_credentials(std::optional<Credentials> credentials) = 0;
    // The policy on `api_key` (OffsetCommit, OffsetFetch) over the consumer group `group`.
    virtual std::optional<Refusal> http_authorize_group(std::int16_t api_key, std::string_view group) = 0;
    virtual std::string http_backend_group(std::string_view group) = 0;
    // The client's name of a backend topic; nullopt when a hidden namespace hides it.
    virtual std::optional<std::string> http_client_topic(std::string_view backend_topic) = 0;
    // Charges produced bytes to the client's quota account (docs/policy.md
    // "Quotas"): the milliseconds the client must wait, 0 when it is within
    // its quota. While it waits the connection is not read, and the front's
    // on_throttle_over() runs when the wait is over.
    virtual std::uint32_t http_charge_produce(std::uint64_t bytes) = 0;
  };

  struct Settings {
    std::uint64_t connection_id = 0;
    std::string client_address;
    std::string cluster_name;
    HttpFrontConfig config;
    HttpStats* stats = nullptr;  // the worker's counters of the cluster (never null; stable address)
    // Terminated authentication (docs/http.md "Identity"): every request
    // carries credentials, checked by the Host (http_authenticate).
    struct Identity {
      // Passthrough: Basic credentials, when a request has them, are the brokers' to check (http_pass_credentials).
      bool passthrough = false;
      bool required = false;
      bool basic = false;   // HTTP Basic, checked like SASL PLAIN (the users file)
      bool bearer = false;  // bearer tokens, checked like OAUTHBEARER
    } identity;
  };

  static constexpr std::size_t kMaxHeaderBytes = 16 * 1024;
  static constexpr std::size_t kMaxHeaderFields = 100;
  // Request bodies (a REST produce) are bounded by the cluster's http.max_message_bytes.
  static constexpr std::size_t kMaxCommandsInFlight = 32;
  static constexpr std::size_t kHighWatermarkBytes = 1 << 20;
  // Subscriptions: at most kMaxSubscriptions partitions per WebSocket, and at
  // most kMaxPollsInFlight of their Fetches out at once (the others wait their
  // turn, round robin), so a connection holds at most that many Fetch answers
  // of http.fetch_max_bytes each.
  static constexpr std::size_t kMaxSubscriptions = 1024;
  static constexpr std::size_t kMaxPollsInFlight = 16;
  static constexpr std::int32_t kPullFetchMaxWaitMs = 100;  // APISIX's fetch: lua-resty-kafka's default max_wait_time

  HttpFront(Host& host, Settings settings);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  void on_bytes(const std::uint8_t* data, std::size_t len);  // decrypted client bytes
  void on_write_progress();                                  // the client's queue shrank
  // kedge is going away (drain): a WebSocket gets Close 1001, HTTP is closed after the current answer.
  void drain();
  // The quota wait http_charge_produce asked for is over: the held produce goes on.
  void on_throttle_over();
  bool websocket() const { return mode_ == Mode::websocket; }

  // For the access log and metrics.
  std::uint64_t requests() const { return requests_; }
  std::uint64_t messages_in() const { return messages_in_; }
  std::uint64_t messages_out() const { return messages_out_; }

 private:
  enum class Mode : std::uint8_t { http, websocket, closing };
  struct Header {
    std::string name;
    std::string value;
  };
  struct Subscription;
  struct RestProduce;

  // HTTP
  static int on_url(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_field(llhttp_t* parser, const char* at, std::size_t length);
  static int on_header_value(llhttp_t* parser, const char* at, std::size_t length);
  static int on_headers_complete(llhttp_t* parser);
  static int on_body(llhttp_t* parser, const char* at, std::size_t length);
  static int on_message_complete(llhttp_t* parser);
  void feed_http(const std::uint8_t* data, std::size_t len);
  void serve_request();
  void authenticate();
  void pass_credentials();
  void dispatch();
  void release_pending();
  void upgrade();
  void answer(int status, std::string_view content_type, std::string_view body, bool close = false,
              std::string_view extra_headers = {});
  void answer_error(int status, int error_code, std::string_view message, bool close = false,
                    std::string_view extra_headers = {});

  // REST (http_rest.cpp)
  bool serve_rest(std::string_view method, std::string_view path, std::string_view query);
  bool rest_method_not_allowed(std::string_view allowed);
  upstream::LeaderPool* rest_pool();
  void rest_fail(const upstream::PoolFailure& failure, std::string_view topic);
  bool rest_refused(std::int16_t api_key, std::string_view topic);
  // A LeaderPool callback for a REST request: does nothing once this front is
  // gone, answers a failure with rest_fail(*failure, what), else runs
  // on_answer(front, answer).
  template <typename Answer, typename OnAnswer>
  auto rest_callback(std::string what, OnAnswer on_answer) {
    return [alive = std::weak_ptr<HttpFront*>(alive_), what = std::move(what), on_answer = std::move(on_answer)](
               const upstream::PoolFailure* failure, const Answer* answer) {
      auto self = alive.lock();
      if (!self || *self == nullptr) return;
      HttpFront& front = **self;
      if (failure != nullptr) {
        front.rest_fail(*failure, what);
        return;
      }
      on_answer(front, answer);
    };
  }
  void rest_list_topics();
  void rest_describe_topic(const std::string& topic, std::optional<std::int32_t> partition, bool partitions_only);
  void rest_offsets(const std::string& topic, std::int32_t partition);
  void rest_offset_for_time(const std::string& topic, std::int32_t partition, std::int64_t timestamp);
  void rest_records(const std::string& topic, std::int32_t partition, std::int64_t offset, std::int32_t max_bytes);
  void rest_produce(const std::string& topic, std::optional<std::int32_t> partition);
  void rest_resolve_partitions(const std::string& topic, const std::shared_ptr<RestProduce>& produce);
  void rest_write(const std::shared_ptr<RestProduce>& produce);
  void ws_produce(std::int64_t sequence, web::pubsub::Produce request);
  void rest_commit_offsets(const std::string& group);
  void rest_group_offsets(const std::string& group, std::string_view query);
  void rest_fetch_group_offsets(const std::string& group, std::vector<kafka::TopicPartition> partitions);

  // WebSocket
  void feed_websocket(std::span<const std::uint8_t> bytes);
  void on_message(const web::DataMessage& message);
  void execute(web::pubsub::Command command, bool binary);
  void send_frame(std::vector<std::uint8_t> frame);
  void reply_error(std::int64_t sequence, bool binary, std::int16_t code, std::string_view message,
                   WsCommand command = WsCommand::invalid);
  static WsCommand command_kind(const web::pubsub::Body& body);
  void close_websocket(std::uint16_t code, std::string_view reason);
  void command_done();
  void fetch_for(std::int64_t sequence, bool binary, web::pubsub::PayloadEncoding encoding, std::string topic,
                 std::int32_t partition, std::int64_t offset);
  // subscribe (JSON only)
  void subscribe(std::int64_t sequence, web::pubsub::Subscribe request, web::pubsub::PayloadEncoding encoding);
  struct SubscribeReply;
  void start_subscription(const std::shared_ptr<SubscribeReply>& reply, std::string topic, std::int32_t partition,
                          std::int64_t offset, web::pubsub::PayloadEncoding encoding);
  void subscription_positioned(const std::shared_ptr<SubscribeReply>& reply);
  void subscribe_failed(const std::shared_ptr<SubscribeReply>& reply, std::int16_t code, const std::string& message);
  void poll(std::uint64_t subscription_id);
  void poll_all();
  bool congested() const;
  void regulate();

  Host& host_;
  Settings settings_;
  Mode mode_ = Mode::http;
  // Guards callbacks of operations started on the pool: they find it expired once this front is gone.
  std::shared_ptr<HttpFront*> alive_;

  llhttp_t parser_{};
  llhttp_settings_t parser_settings_{};
  std::string url_;
  std::vector<Header> headers_;
  // The request being served, moved out of the parser's fields (they are
  // reused for the next one while an answer is on its way).
  struct Request {
    int method = 0;  // llhttp_method_t
    std::string url;
    std::vector<Header> headers;
    std::string body;
  } request_;
  std::string authenticated_fingerprint_;  // SHA-256 of the Authorization value last accepted
  std::size_t header_bytes_ = 0;
  std::string body_;
  bool last_was_value_ = false;
  enum class Limit : std::uint8_t { none, headers, body };
  Limit limit_hit_ = Limit::none;  // which limit a callback stopped the parser at
  int over_limit(Limit limit) {
    limit_hit_ = limit;
    return -1;
  }
  // The request being served (REST reads them after the parser moved on).
  std::string request_content_type_;
  std::string request_accept_;
  std::string request_body_;
  // A REST answer is on its way: later pipelined requests wait (HTTP/1.1
  // answers in order) in pending_input_, and the socket is not read.
  bool awaiting_answer_ = false;
  std::string pending_input_;
  std::uint32_t next_partition_ = 0;  // round robin for records without key or partition
  std::vector<std::function<void()>> after_throttle_;  // produces held by the client's quota, in order

  std::optional<web::MessageAssembler> assembler_;
  std::size_t commands_in_flight_ = 0;
  bool reading_paused_ = false;
  bool close_sent_ = false;
  bool websocket_counted_ = false;  // in stats->websockets_active

  std::map<std::uint64_t, std::unique_ptr<Subscription>> subscriptions_;
  std::size_t polls_in_flight_ = 0;
  std::uint64_t last_polled_ = 0;  // poll_all() starts after it (round robin)
  std::uint64_t next_subscription_ = 1;

  std::uint64_t requests_ = 0;
  std::uint64_t messages_in_ = 0;
  std::uint64_t messages_out_ = 0;
};

}  // namespace kedge
