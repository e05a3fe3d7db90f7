#include "upstream/discovery.h"

#include <fmt/format.h>

#include "common/log.h"
#include "kafka_codec/client.h"
#include "upstream/kafka_client.h"
#include "upstream/tls.h"

namespace kedge {

// One attempt: a KafkaClient to one bootstrap server (every address its name
// resolves to), then one Metadata request asking for no topics.
//
//   start_attempt ─▶ KafkaClient: connect [TLS] ─▶ ApiVersions [─▶ SASL] ─▶ on_ready
//                 ─▶ Metadata at min(kedge's newest, the broker's) ─▶ brokers into the registry ─▶ finish
//   any failure or the timeout ─▶ finish(false): the next bootstrap server while one is left
Discovery::Discovery(uv_loop_t* loop, io::LoopScratch& scratch, ResolveCache* cache, std::string cluster_name,
                     BackendConfig backend, BrokerRegistry::Handle& registry, std::uint32_t max_frame_bytes,
                     std::uint32_t timeout_ms, SSL_CTX* upstream_tls)
    : loop_(loop),
      scratch_(scratch),
      cache_(cache),
      cluster_name_(std::move(cluster_name)),
      backend_(std::move(backend)),
      registry_(registry),
      max_frame_bytes_(max_frame_bytes),
      timeout_ms_(timeout_ms),
      upstream_tls_(share_context(upstream_tls)) {}

Discovery::~Discovery() { upstream::KafkaClient::dispose(std::move(client_)); }

// The credentials discovery uses from now on (BackendConfig::discovery_credentials() of a reload).
void Discovery::set_credentials(std::optional<SaslCredentials> credentials) {
  backend_.sasl.reset();
  backend_.discovery_sasl = std::move(credentials);
}

void Discovery::set_upstream_tls(SSL_CTX* upstream_tls) { upstream_tls_ = share_context(upstream_tls); }

void Discovery::refresh(Done done) {
  waiters_.push_back(std::move(done));
  if (client_) return;  // joins the exchange in flight
  if (backend_.bootstrap_servers.empty()) {  // the config loader requires one; never index an empty list
    finish_attempt(false, "no bootstrap server configured");
    return;
  }
  tries_left_ = backend_.bootstrap_servers.size();
  start_attempt();
}

void Discovery::cancel() {
  upstream::KafkaClient::dispose(std::move(client_));
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& waiter : waiters) waiter(false, "kedge is shutting down");
}

void Discovery::start_attempt() {
  server_ = backend_.bootstrap_servers[next_server_ % backend_.bootstrap_servers.size()];
  next_server_++;
  tries_left_--;
  upstream::KafkaClient::Callbacks callbacks;
  callbacks.on_ready = [this] { on_ready(); };
  callbacks.on_failed = [this](const upstream::KafkaClientError& error) { finish_attempt(false, error.text()); };
  callbacks.on_attempt_failed = [this](const HostPort& target, const upstream::LinkError& error) {
    log::debug("discovery for {}: {}: {}", cluster_name_, target.to_string(), error.text());
  };
  client_ = std::make_unique<upstream::KafkaClient>(loop_, scratch_, cache_, std::move(callbacks));

  KafkaSessionOptions session;
  session.client_id = "kedge-discovery";
  session.max_frame_bytes = max_frame_bytes_;
  session.sasl = backend_.discovery_credentials();
  log::debug("discovery for {}: asking {} for the broker list", cluster_name_, server_.to_string());
  client_->connect({server_}, 0, upstream::backend_link_settings(backend_, upstream_tls_.get(), timeout_ms_),
                   std::move(session), timeout_ms_);
}

void Discovery::on_ready() {
  if (backend_.discovery_credentials()) {
    log::debug("discovery for {}: authenticated to {} with SASL {}", cluster_name_, server_.to_string(),
               to_string(backend_.discovery_credentials()->mechanism));
  }
  const auto failed = client_->request(
      kafka::ApiKey::metadata, kafka::kMetadataRequestVersions.hi, kafka::encode_metadata_request_no_topics,
      [this](const KafkaSession::Response& response) {
        std::vector<kafka::BrokerEndpoint> brokers;
        if (!kafka::read_metadata_brokers(response.frame, response.body_begin, response.request.api_version,
                                          brokers)) {
          finish_attempt(false, fmt::format("malformed Metadata v{} response", response.request.api_version));
          return;
        }
        log::debug("discovery for {}: {} answered Metadata v{}", cluster_name_, server_.to_string(),
                   response.request.api_version);
        const std::uint64_t now = uv_now(loop_);
        std::string list;
        for (const auto& broker : brokers) {
          registry_.learn(broker.node_id, broker.host, broker.port, LearnedFrom{}, now);
          if (!list.empty()) list += ", ";
          list += fmt::format("{}={}:{}", broker.node_id, broker.host, broker.port);
        }
        finish_attempt(true, list.empty() ? std::string("no brokers") : list);
      });
  if (failed) finish_attempt(false, failed->text());
}

// Called from the client's callbacks (or refresh()): the client is handed to
// dispose(), which frees it once its handles closed.
void Discovery::finish_attempt(bool ok, std::string detail) {
  upstream::KafkaClient::dispose(std::move(client_));
  if (ok) {
    log::info("discovery for {}: {} lists brokers {}", cluster_name_, server_.to_string(), detail);
  } else {
    log::warn("discovery for {}: {}: {}", cluster_name_, server_.to_string(), detail);
    last_error_ = server_.to_string() + ": " + detail;
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
