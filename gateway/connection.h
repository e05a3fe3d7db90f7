#pragma once
// One client connection and the broker connection it is paired with, as a
// composition of parts it owns:
//   client_     the client's socket (io::StreamSocket)
//   tls_        the TLS server side toward the client (DownstreamTls)
//   link_       the broker connection: resolve, connect, retry, backend TLS (upstream::Link)
//   in_flight_  requests awaiting a response, and the codec (InFlightTable)
//   flow_       the watermarks between the two sides' queues (FlowControl)
//   sasl_       kedge answering the client's SASL, when its virtual cluster's
//               authentication is "terminate" (SaslTerminator); then the
//               broker link first authenticates with the cluster's service
//               credentials (KafkaSession) before the ClientHello is
//               answered, and only ApiVersions and SASL requests pass until the
//               client authenticated (docs/identity.md). A cluster that
//               authenticates by certificate only (mTLS, no "sasl") has no
//               sasl_ but still routes requests: kedge answers a client's SASL
//               itself, refusing it (refuse_client_sasl)
// and one state machine. enter() is the only writer of state_ and checks
// every transition against the table below; an illegal one is logged and
// closes the connection.
//
//   reading_proxy_header   (listeners with proxy_protocol optional/required)
//        | PROXY header parsed and dropped (or absent, when optional)
//        v
//   reading_hello ------------------------------------+ unknown/no SNI: alert 112 sent
//        | SNI -> virtual cluster and broker;         |
//        | TLS session started, ClientHello held      |
//        v                                            |
//   connecting  <-- port-routed plaintext listeners   |
//        | the broker link is up (registry or         |
//        | discovery, resolution, connect, TLS)       |
//        v                                            v
//   handshaking --TLS done--> forwarding --drain--> draining
//        |        (plaintext:      |                   |  last in-flight response out
//        |     straight here)      |                   |
//        +------------------> flushing <---------------+  (queued writes drain, bounded by a deadline)
//                                  |
//                                  v
//                               closed  <-- any state: close(cause), idempotent
//
// The ClientHello is answered only once the broker connection is up, so a
// broker that cannot be reached looks to the client like a failed connection
// attempt, exactly as without kedge; completing TLS and then closing makes
// librdkafka take the broker for a pre-0.10 one ("Disconnected while
// requesting ApiVersion") and stall reconnecting to it after an outage.
//
// With mTLS (the pair's authentication has `mtls`, client_certificate.h) the
// handshake is done only once the client's certificate verified and its
// principal is bound to the virtual cluster; a refusal goes from handshaking
// to flushing (the alert) before any application data is read, so the broker
// connection, open by then, never carries a byte of a refused client.
//
// Lifetime: close(cause) closes every part; the object is freed by
// Worker::release_connection once the last part reported closed, after
// libuv has run every pending write/connect callback (style practice 14).
#include <uv.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/counters.h"
#include "config/config.h"
#include "gateway/client_certificate.h"
#include "gateway/downstream_tls.h"
#include "gateway/flow_control.h"
#include "gateway/http_front.h"
#include "gateway/in_flight.h"
#include "gateway/sasl_terminator.h"
#include "io/stream_socket.h"
#include "kafka_codec/refusal.h"
#include "kafka_codec/stream.h"
#include "policy/policy.h"
#include "sni/client_hello.h"
#include "sni/hostname.h"
#include "upstream/kafka_session.h"
#include "upstream/link.h"

namespace kedge {

class Worker;
struct ClusterRuntime;
struct ListenerSettings;
struct Snapshot;

class Connection final : private kafka::AddressMap,
                         private io::StreamSocket::Handler,
                         private upstream::Link::Handler,
                         private kafka::RequestRouter,
                         private CiphertextSink,
                         private HttpFront::Host {
 public:
  Connection(Worker& worker, std::shared_ptr<const ListenerSettings> listener, std::uint64_t id);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Accepts from `listener_stream` and starts reading. On a port-routed
  // listener the target is known now: `port_node_id` is the broker of the
  // pool port accepted on, nullopt for the bootstrap port. A plaintext
  // (port-routed) listener connects to the broker at once.
  void accept_from(uv_stream_t* listener_stream, std::optional<std::int32_t> port_node_id = std::nullopt);
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
  // After a reload: kedge authenticated this connection's principal with
  // PLAIN/SCRAM, its authentication has close_removed_users, and the reloaded
  // users file no longer holds the user (the worker then drains it).
  bool user_removed() const;
  // The authenticated principal ("" while none: passthrough, or not yet authenticated).
  const std::string& principal() const { return principal_; }

 private:
  enum class State : std::uint8_t {
    reading_proxy_header, reading_hello, connecting, handshaking, forwarding, draining, flushing, closed
  };
  static std::string_view name(State state);
  static bool allowed(State from, State to);
  void enter(State next);
  bool ending() const { return state_ == State::flushing || state_ == State::closed; }

  struct ClientSink;
  struct BrokerSink;
  struct PlainJob;

  // client side
  void on_client_bytes(const char* data, std::size_t len);
  void read_proxy_header();
  void read_hello();
  void reject_hello(DisconnectCause cause, std::string_view sni);
  bool route_by_port(std::optional<std::int32_t> port_node_id);  // false: closed
  bool port_routed() const;
  bool start_cluster_tls();  // the routed cluster's certificate and client authentication; false: closed
  bool start_tls(SSL_CTX* ctx, ClientCertificateCheck* client_check = nullptr);  // false: closed
  void drive_handshake();
  void client_certificate_accepted(const ClientCertificateOutcome& outcome);
  void client_certificate_refused(const ClientCertificateOutcome& outcome);
  void read_plaintext();
  void forward_to_broker(const std::uint8_t* bytes, std::size_t n);
  void send_to_client(const char* data, std::size_t len, const char* more = nullptr, std::size_t more_len = 0);

  // broker side
  void locate_broker();
  void connect_broker(std::vector<HostPort> candidates, std::size_t first);
  void on_broker_bytes(const char* data, std::size_t len);

  // client authentication (authentication mode "terminate")
  bool start_client_authentication();  // false: closed
  const ListenerSettings* routed_listener() const;
  void process_sasl(const kafka::RequestInfo& request, std::vector<std::uint8_t> frame);
  void run_plain_check(SaslTerminator::PlainCheck check);
  void on_plain_checked(const kafka::RequestInfo& request, identity::FinalStep result);
  void finish_sasl(const kafka::RequestInfo& request, SaslTerminator::Reply reply);
  void send_sasl_reply(const kafka::RequestInfo& request, SaslTerminator::Reply reply);
  void refuse_client_sasl(const kafka::RequestInfo& request);
  bool routes_requests() const { return sasl_ != nullptr || certificate_only_ || policy_routed_; }
  Route route_for_authentication(const kafka::RequestInfo& request);

  // the virtual cluster's policy (docs/policy.md)
  const policy::ClusterPolicy* current_policy() const;  // null: the cluster has none (now)
  void refuse_by_policy(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame,
                        policy::Refusal refusal);
  bool send_local_answer(const kafka::RequestInfo& request, std::vector<std::uint8_t> frame);  // false: closed
  // One audit line; `split_refused` (a split request) names the refused part
  // instead of every resource of `frame`.
  void audit(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame,
             std::optional<policy::Refusal> refusal, std::span<const kafka::RequestResource> split_refused = {});
  // quotas (policy/quota.h): charge the request, set its throttle, mute the client
  void apply_quotas(kafka::RequestInfo& request);
  policy::ClientAccount& quota_account();
  void throttle_client(std::uint32_t throttle_ms);
  bool admit_connection();  // the cluster's per-address connection quotas; false: closed
  void on_throttle_over();
  void on_auth_delay_over();
  void arm_session_timer();
  void on_session_timer();
  void end_expired_session(std::string_view request);
  std::shared_ptr<const ClientAuthentication> current_authentication() const;
  void set_principal(std::string principal);
  void start_service_session();
  void on_service_session_bytes(const char* data, std::size_t len);
  void after_broker_ready();

  // endings
  void close_after_flush(DisconnectCause cause);
  void maybe_finish_flush();
  void on_deadline();
  void part_closed();
  void update_flow_control();

  // io::StreamSocket::Handler (the client socket)
  void on_socket_read(io::StreamSocket& socket, const char* data, std::size_t len) override;
  void on_socket_read_end(io::StreamSocket& socket, int status) override;
  void on_socket_write_failed(io::StreamSocket& socket, int status) override;
  void on_socket_write_progress(io::StreamSocket& socket) override;
  void on_socket_closed(io::StreamSocket& socket) override;

  // upstream::Link::Handler (the broker connection)
  void on_link_attempt_failed(const HostPort& target, const upstream::LinkError& error, bool cached) override;
  void on_link_up() override;
  void on_link_data(const char* data, std::size_t len) override;
  void on_link_down(const upstream::LinkError& error) override;
  void on_link_write_progress() override;
  void on_link_closed() override;

  // kafka::RequestRouter (while routes_requests())
  Route route(kafka::RequestInfo& request) override;
  NextFrame on_captured(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame) override;
  Inspection on_inspected(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame) override;
  // route() and on_inspected() as the policy decides them; a namespace then
  // renames what they forward (rename_names).
  Route route_by_policy(kafka::RequestInfo& request);
  Inspection inspect_by_policy(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame);
  // A namespace (kafka_codec/rename.h) on a request the policy lets through:
  // its names prefixed in `frame`, its response marked to be stripped, and
  // the listings among them filtered to the namespace (describable()).
  Inspection rename_names(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame,
                          const kafka::NamePrefixes& prefixes);
  bool split_long_names(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame,
                        const kafka::NamePrefixes& prefixes);
  void forward_split(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame,
                     std::vector<std::uint8_t>&& forwarded, policy::Refusal reason);
  Inspection checked_ids_in_namespace(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame);
  Prefix on_inspect_prefix(const kafka::RequestInfo& request, std::vector<std::uint8_t>& held) override;
  // ACLs (policy/acl.h) on a whole request: the first resource refused, as
  // "Topic orders (Write)" and its type, or nullopt when every resource is allowed.
  struct AclRefusal {
    policy::Resource resource;
    std::string detail;
  };
  // The first resource of the request the ACLs refuse, in wire order (the
  // order Kafka authorizes them in); `owners`: only what owns the topics (a
  // group, a transactional id), for requests split topic by topic.
  enum class ResourceScope : std::uint8_t { all, owners };
  std::optional<AclRefusal> acl_refusal(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame,
                                        const policy::AclSet& acls, ResourceScope scope = ResourceScope::all);
  // A request of a splittable API (split.h) decided topic by topic: `allowed`
  // when every topic is; `forwarded` when some are (the allowed part replaces
  // `frame`, the refused part rides on `request`); `answered` when none is
  // (`refused` names the first, prepared_refusal_ holds the answer, or is
  // empty when it does not fit: the pair closes; `unknown_ids_only` when every
  // topic was an id kedge has not seen); `not_split` when it cannot be
  // (another API, acks=0, unreadable): decided by acl_refusal.
  struct AclSplit {
    enum class Outcome : std::uint8_t { allowed, forwarded, answered, not_split } outcome;
    std::optional<AclRefusal> refused = {};
    bool unknown_ids_only = false;
  };
  AclSplit split_by_acls(kafka::RequestInfo& request, std::vector<std::uint8_t>& frame, const policy::AclSet& acls);
  std::string topic_label(std::string_view topic, bool by_id) const;
  // What a request split by topic (split_by_acls) names before its topics: a
  // Produce's transactional id (Write), the group of a ShareFetch,
  // ShareAcknowledge or OffsetCommit (Read), a TxnOffsetCommit's transactional
  // id and group. Refused: the whole request is (Kafka checks it first).
  std::optional<AclRefusal> owner_refusal(const kafka::RequestInfo& request, std::span<const std::uint8_t> frame,
                                          const policy::AclSet& acls);
  // The ErrorMessage of a refusal: Kafka's own words for the error, then kedge's reason.
  std::string refusal_message(const kafka::RequestInfo& request, policy::Refusal refusal,
                              const AclRefusal& acl_refused) const;

  // Metadata with ACLs: how the response's topics are filtered, and whether
  // the broker may still create the topics it names (AllowAutoTopicCreation).
  void filter_metadata(kafka::RequestInfo& request, std::span<std::uint8_t> frame, const policy::AclSet& acls);
  policy::Subject acl_subject();
  // AclSet::authorizes for this connection's subject, remembering the last
  // few answers: a client names the same topic or group in request after
  // request, and 100 rules cost ~5K instructions a scan. An answer is kept
  // for the cluster settings (policy generation) and principal it was given for.
  bool acl_allows(const policy::AclSet& acls, policy::Resource resource, std::string_view name,
                  policy::Operation operation);

  // The HTTP front (docs/http.md): the ClientHello chose HTTP (the cluster's
  // HTTP host name, or ALPN http/1.1 offered on any of its names). No broker
  // link: TLS is answered at once and the decrypted bytes go to http_.
  bool http_wanted(const sni::Found& hello) const;
  void start_http();
  // HttpFront::Host
  void http_send(std::span<const std::uint8_t> plaintext) override;
  void http_close(bool after_flush) override;
  std::size_t http_queued_bytes() const override;
  void http_pause_reading(bool paused) override;
  upstream::LeaderPool* http_leader_pool() override;
  std::optional<HttpFront::Host::Refusal> http_authorize(std::int16_t api_key, std::string_view topic) override;
  std::string http_backend_topic(std::string_view topic) override;
  std::optional<std::string> http_client_topic(std::string_view backend_topic) override;
  std::optional<HttpFront::Host::Refusal> http_authorize_group(std::int16_t api_key, std::string_view group) override;
  void http_authenticate(HttpFront::Host::Credentials credentials,
                         std::function<void(std::optional<std::string>)> done) override;
  void http_pass_credentials(std::optional<HttpFront::Host::Credentials> credentials) override;
  void http_authenticated(AuthMechanism mechanism, const std::string& principal,
                          std::function<void(std::optional<std::string>)> done);
  struct HttpPlainJob;
  std::string http_backend_group(std::string_view group) override;
  std::uint32_t http_charge_produce(std::uint64_t bytes) override;

  // CiphertextSink (records of tls_ for the client socket)
  void send_ciphertext(const char* first, std::size_t first_len, const char* second,
                       std::size_t second_len) override;

  // kafka::AddressMap
  Advertised advertised_for(std::int32_t node_id) override;
  void on_endpoint_rewritten(std::int16_t api_key, std::int16_t api_version, std::int32_t node_id,
                             std::string_view real_host, std::int32_t real_port,
                             const Advertised& advertised) override;
  std::span<const LocalApi> local_apis() const override;
  bool offers_unknown_apis() const override;
  void on_response_start(const kafka::RequestInfo& request, std::uint32_t frame_bytes) override;
  bool describable(std::string_view topic) override;
  kafka::ErrorCode refused_by_id_error(std::string_view topic) override;
  bool group_describable(std::string_view group_id) override;
  void learn_topic_id(std::string_view id, std::string_view name) override;
  const kafka::NamePrefixes* name_prefixes() const override;

  bool bootstrap() const { return std::holds_alternative<sni::Bootstrap>(target_.role); }
  const std::string& cluster_name() const;

  Worker& worker_;
  const std::shared_ptr<const ListenerSettings> listener_;
  ListenerStats* const listener_stats_;    // this worker's counters for the listener (stable address)
  ClusterStats* cluster_stats_ = nullptr;  // set with cluster_ (then counted in its connections_active)
  std::shared_ptr<const Snapshot> snapshot_;  // the config generation this connection was routed under
  std::shared_ptr<ClusterRuntime> cluster_;    // set once the SNI (or the listener) names the cluster
  const std::uint64_t id_;
  State state_ = State::reading_hello;
  DisconnectCause cause_ = DisconnectCause::client_closed;
  DisconnectCause drain_cause_ = DisconnectCause::shutdown;

  io::StreamSocket client_;
  // mTLS (the pair's authentication has `mtls`): declared before tls_, whose
  // session points at it, so it is destroyed after it.
  std::optional<ClientCertificateCheck> client_check_;
  DownstreamTls tls_;
  upstream::Link link_;
  InFlightTable in_flight_;
  FlowControl flow_;
  uv_timer_t deadline_{};  // hello + handshake deadline, then the drain's, then the flush's
  int parts_open_ = 0;     // parts that will report their close: client socket, deadline, link once connecting,
                           // the two authentication timers with sasl_, the quota timer, a PLAIN check on the
                           // thread pool

  // Bytes received before they can be used: the PROXY header and ClientHello
  // while they are incomplete, and on a plaintext listener what the client
  // sends while the broker is being connected. Empty once forwarding.
  std::vector<std::uint8_t> held_;
  std::string sni_;
  std::string client_address_;  // the original client: PROXY header source, else the socket peer
  std::string socket_peer_;     // the TCP peer (a load balancer when PROXY protocol is used)
  sni::Target target_{};
  std::string target_label_;     // "bootstrap" or "broker 3"
  std::string broker_address_;   // the broker connected to, for the access log; "" if never
  // Who the client is, once kedge authenticated it (mTLS certificate; SASL
  // termination sets it too): access log, /v1/state. "" for passthrough.
  std::string principal_;
  bool broker_answered_ = false;  // the broker sent data (evidence for readiness over TLS)
  std::optional<std::int32_t> out_of_range_node_;  // port routing: a response named a broker with no pool port

  // Client authentication (null / empty in passthrough).
  std::shared_ptr<const ClientAuthentication> authentication_;  // this connection's (listener, cluster) pair
  std::unique_ptr<SaslTerminator> sasl_;
  // The cluster had a policy when this connection was routed: every request
  // is routed (route()) and checked against the cluster's policy as it is at
  // that request, so a reload applies to the next one.
  bool policy_routed_ = false;
  std::optional<policy::Refusal> policy_refusal_;  // of the frame route() just captured
  AclRefusal acl_refused_{policy::Resource::none, {}};  // with resource_denied: what an ACL refused
  // A Produce/Fetch answered whole from its split (split_by_acls); empty when the answer would not fit.
  std::optional<std::vector<std::uint8_t>> prepared_refusal_;
  std::vector<std::uint8_t> renamed_frame_;  // a request with its namespace's prefixes (rename_names)
  kafka::SplitAnswer split_scratch_;            // split_by_acls's answer, reused until a split keeps it
  // The client address as ACL rules compare it (parsed at the first check).
  std::optional<std::optional<std::array<std::uint8_t, 16>>> acl_address_;
  struct AclMemo {
    std::shared_ptr<const ClusterSettings> settings;  // kept alive: no other policy can reuse its address
    policy::Resource resource = policy::Resource::none;
    policy::Operation operation = policy::Operation::none;
    std::string name;
    bool allowed = false;
  };
  std::array<AclMemo, 4> acl_memo_;
  std::size_t acl_memo_next_ = 0;
  std::uint64_t policy_refusals_ = 0;              // on this connection (the first is logged at info)
  mutable std::vector<LocalApi> local_apis_;       // what local_apis() returned last
  // Quotas: the account this connection's client draws on (its principal's,
  // else its address's; made at the first request that needs it, again once
  // a principal is known) and the timer that ends a throttle.
  std::shared_ptr<policy::ClientAccount> quota_account_;
  bool quota_timer_open_ = false;
  std::string admitted_address_;  // counted open in the cluster's ConnectionBook under this key ("" if not)
  uv_timer_t quota_timer_{};
  std::unique_ptr<KafkaSession> service_session_;  // kedge's own SASL on the broker link, until Ready
  // A failure answer the attempt limiter holds back (identity/attempt_limiter.h).
  struct PendingSasl {
    kafka::RequestInfo request;
    SaslTerminator::Reply reply;
  };
  std::optional<PendingSasl> pending_sasl_;
  bool plain_check_running_ = false;
  bool session_expired_ = false;  // KIP-368: past the session's end, not re-authenticated
  std::optional<kafka::RequestInfo> refused_request_;  // a request before authentication: the pair closes
  // mTLS without SASL: the client is authenticated by its certificate and
  // kedge's link by the service credentials, so the client's SASL requests
  // are answered by kedge (refused), never forwarded.
  bool certificate_only_ = false;
  uv_timer_t auth_delay_timer_{};  // the attempt limiter's delays (initialized with sasl_)
  uv_timer_t session_timer_{};     // KIP-368 session expiry (initialized with sasl_)

  bool http_mode_ = false;         // the ClientHello chose HTTP (start_http)
  std::unique_ptr<HttpFront> http_;  // once TLS is up in HTTP mode
  // Passthrough: the Basic credentials of the HTTP request being served, for the brokers' SASL, and their digest.
  std::optional<SaslCredentials> http_passthrough_;
  std::string http_passthrough_key_;

  std::uint64_t bytes_from_client_ = 0;  // plaintext Kafka bytes
  std::uint64_t bytes_to_client_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace kedge
