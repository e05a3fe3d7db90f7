#include "upstream/leader_pool.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"
#include "kafka_codec/errors.h"
#include "upstream/tls.h"

namespace kedge::upstream {

namespace {

// Errors that mean "the leader you asked is not (or no longer) the one": the
// client refreshes Metadata and tries again (Kafka's own clients do the same:
// they are the RetriableException subclasses that invalidate metadata).
bool leader_changed(std::int16_t error) {
  switch (error) {
    case 3:   // UNKNOWN_TOPIC_OR_PARTITION at a broker that no longer hosts it
    case 5:   // LEADER_NOT_AVAILABLE (an election under way)
    case 6:   // NOT_LEADER_OR_FOLLOWER
    case 15:  // COORDINATOR_NOT_AVAILABLE / broker not ready
    case 74:  // FENCED_LEADER_EPOCH
    case 75:  // UNKNOWN_LEADER_EPOCH
    case 103: // OFFSET_NOT_AVAILABLE (a new leader not caught up yet)
      return true;
    default:
      return false;
  }
}

std::string kafka_error_text(std::int16_t error) {
  return fmt::format("{} ({})", kafka::error_name(error), error);
}

}  // namespace

struct LeaderPool::Operation {
  enum class Kind : std::uint8_t {
    list_offset, fetch, metadata, produce, all_topics, commit_offsets, fetch_offsets
  } kind = Kind::metadata;
  std::string group;  // commit_offsets, fetch_offsets
  std::vector<kafka::OffsetToCommit> commits;
  std::vector<kafka::TopicPartition> wanted;
  CommitDone commit_done;
  OffsetsDone offsets_done;
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t position = 0;  // list_offset: the timestamp; fetch: the offset
  std::int32_t max_bytes = 0;
  std::int32_t max_wait_ms = 0;
  ListOffsetDone list_done;
  FetchDone fetch_done;
  MetadataDone metadata_done;
  ProduceDone produce_done;
  TopicsDone topics_done;
  std::vector<std::uint8_t> records;  // produce
  std::uint64_t deadline_ms = 0;
  std::uint64_t retry_at_ms = 0;  // 0: not waiting to retry
  int attempts = 0;
  std::string waiting_for;  // for the timeout's message
};

struct LeaderPool::BrokerClient {
  std::int32_t node_id = -1;
  HostPort address;
  std::unique_ptr<KafkaClient> client;
  bool ready = false;
  std::vector<std::uint64_t> waiting;    // to send once ready
  std::vector<std::uint64_t> in_flight;  // sent, unanswered
};

LeaderPool::LeaderPool(uv_loop_t* loop, io::LoopScratch& scratch, ResolveCache* cache,
                       BrokerRegistry::Handle& registry, Settings settings)
    : loop_(loop), scratch_(scratch), cache_(cache), registry_(registry), settings_(std::move(settings)) {
  timer_ = new uv_timer_t{};
  uv_timer_init(loop_, timer_);
  timer_->data = this;
}

LeaderPool::~LeaderPool() {
  KafkaClient::dispose(std::move(bootstrap_));
  for (auto& [id, broker] : brokers_) KafkaClient::dispose(std::move(broker->client));
  timer_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* handle) {
    delete reinterpret_cast<uv_timer_t*>(handle);
  });
}

// ------------------------------------------------------------ operations

void LeaderPool::list_offset(std::string topic, std::int32_t partition, std::int64_t timestamp, ListOffsetDone done) {
  auto operation = std::make_unique<Operation>();
  operation->kind = Operation::Kind::list_offset;
  operation->topic = std::move(topic);
  operation->partition = partition;
  operation->position = timestamp;
  operation->list_done = std::move(done);
  start(std::move(operation));
}

void LeaderPool::fetch(std::string topic, std::int32_t partition, std::int64_t offset, std::int32_t max_bytes,
                       std::int32_t max_wait_ms, FetchDone done) {
  auto operation = std::make_unique<Operation>();
  operation->kind = Operation::Kind::fetch;
  operation->topic = std::move(topic);
  operation->partition = partition;
  operation->position = offset;
  operation->max_bytes = max_bytes;
  operation->max_wait_ms = max_wait_ms;
  operation->fetch_done = std::move(done);
  start(std::move(operation));
}

void LeaderPool::topic_metadata(std::string topic, MetadataDone done) {
  auto operation = std::make_unique<Operation>();
  operation->kind = Operation::Kind::metadata;
  operation->topic = std::move(topic);
  operation->metadata_done = std::move(done);
  start(std::move(operation));
}

void LeaderPool::produce(std::string topic, std::int32_t partition, std::vector<std::uint8_t> records,
                         ProduceDone done) {
  auto operation = std::make_unique<Operation>();
  operation->kind = Operation::Kind::produce;
  operation->topic = std::move(topic);
  operation->partition = partition;
  operation->records = std::move(records);
  operation->produce_done = std::move(done);
  start(std::move(operation));
}

void LeaderPool::commit_offsets(std::string group, std::vector<kafka::OffsetToCommit> offsets, CommitDone done) {
  auto operation = std::make_unique<Operation>();
  operation->kind = Operation::Kind::commit_offsets;
  operation->group = std::move(group);
  operation->commits = std::move(offsets);
  operation->commit_done = std::move(done);
  start(std::move(operation));
}

void LeaderPool::fetch_offsets(std::string group, std::vector<kafka::TopicPartition> partitions, OffsetsDone done) {
  auto operation = std::make_unique<Operation>();
  operation->kind = Operation::Kind::fetch_offsets;
  operation->group = std::move(group);
  operation->wanted = std::move(partitions);
  operation->offsets_done = std::move(done);
  start(std::move(operation));
}

void LeaderPool::list_topics(TopicsDone done) {
  auto operation = std::make_unique<Operation>();
  operation->kind = Operation::Kind::all_topics;
  operation->topics_done = std::move(done);
  start(std::move(operation));
}

// Every operation starts on the next loop turn (the timer is re-armed with a
// 0 ms timeout, then ticks every 50 ms for deadlines and retry pauses), so no
// callback ever runs inside the call that started it, and a subscription's
// next Fetch does not wait for the running tick: waiting for it capped each
// partition at 20 Fetches a second.
std::uint64_t LeaderPool::start(std::unique_ptr<Operation> operation) {
  const std::uint64_t now = uv_now(loop_);
  // A Fetch may legitimately wait max_wait_ms at the broker: its budget covers that too.
  operation->deadline_ms = now + settings_.request_timeout_ms + static_cast<std::uint64_t>(operation->max_wait_ms);
  operation->retry_at_ms = now;
  const std::uint64_t id = next_id_++;
  operations_.emplace(id, std::move(operation));
  timer_running_ = true;
  uv_timer_start(
      timer_, [](uv_timer_t* timer) {
        if (timer->data != nullptr) static_cast<LeaderPool*>(timer->data)->on_timer();
      },
      0, 50);
  return id;
}

void LeaderPool::on_timer() {
  const std::uint64_t now = uv_now(loop_);
  std::vector<std::uint64_t> due;
  std::vector<std::uint64_t> expired;
  for (const auto& [id, operation] : operations_) {
    if (now >= operation->deadline_ms) {
      expired.push_back(id);
    } else if (operation->retry_at_ms != 0 && now >= operation->retry_at_ms) {
      due.push_back(id);
    }
  }
  for (const std::uint64_t id : expired) {
    auto it = operations_.find(id);
    if (it == operations_.end()) continue;
    finish(id, PoolFailure{0, fmt::format("no answer from the virtual cluster {} within {} ms{}",
                                          settings_.cluster_name, settings_.request_timeout_ms,
                                          it->second->waiting_for.empty()
                                              ? std::string()
                                              : fmt::format(" ({})", it->second->waiting_for))});
  }
  for (const std::uint64_t id : due) {
    auto it = operations_.find(id);
    if (it == operations_.end()) continue;
    it->second->retry_at_ms = 0;
    run(id);
  }
  if (operations_.empty() && timer_running_) {
    timer_running_ = false;
    uv_timer_stop(timer_);
  }
}

void LeaderPool::run(std::uint64_t id) {
  auto it = operations_.find(id);
  if (it == operations_.end()) return;
  Operation& operation = *it->second;
  operation.attempts++;
  if (operation.kind == Operation::Kind::all_topics) {
    list_all_topics(id);
    return;
  }
  if (operation.kind == Operation::Kind::commit_offsets || operation.kind == Operation::Kind::fetch_offsets) {
    const auto known = coordinators_.find(operation.group);
    if (known == coordinators_.end()) {
      find_coordinator(id);
      return;
    }
    const std::optional<HostPort> address = broker_address(known->second);
    if (!address) {
      coordinators_.erase(known);
      find_coordinator(id);
      return;
    }
    BrokerClient& broker = broker_client(known->second, *address);
    if (broker.ready) {
      send_on(broker, id);
    } else {
      operation.waiting_for = fmt::format("connecting to coordinator {} ({})", broker.node_id, broker.address.to_string());
      broker.waiting.push_back(id);
    }
    return;
  }
  TopicEntry& entry = topics_[operation.topic];
  const std::uint64_t now = uv_now(loop_);
  // An error answer (a topic that does not exist yet, an election under way)
  // serves only the operations that were waiting for it: the next one asks
  // again, so a topic created a moment later is found at once.
  const std::uint64_t max_age =
      entry.leaders && entry.leaders->error_code != 0 ? 0 : std::uint64_t{settings_.metadata_max_age_ms};
  if (!entry.leaders || now - entry.fetched_at_ms > max_age) {
    operation.waiting_for = fmt::format("asking for the leaders of topic {}", operation.topic);
    entry.waiting.push_back(id);
    ask_metadata(operation.topic);
    return;
  }
  const kafka::TopicLeaders& leaders = *entry.leaders;
  if (leaders.error_code != 0) {
    if (leader_changed(leaders.error_code) && leaders.error_code != 3) {
      retry(id, PoolFailure{leaders.error_code, fmt::format("topic {}: {}", operation.topic,
                                                            kafka_error_text(leaders.error_code))});
      return;
    }
    finish(id, PoolFailure{leaders.error_code,
                           leaders.error_code == 3
                               ? fmt::format("topic {} does not exist", operation.topic)
                               : fmt::format("topic {}: {}", operation.topic, kafka_error_text(leaders.error_code))});
    return;
  }
  if (operation.kind == Operation::Kind::metadata) {
    auto done = std::move(operation.metadata_done);
    const kafka::TopicLeaders copy = leaders;  // the callback may start operations that refresh the entry
    operations_.erase(it);
    if (done) done(nullptr, &copy);
    return;
  }
  const auto partition = std::find_if(leaders.partitions.begin(), leaders.partitions.end(),
                                      [&](const kafka::PartitionLeader& p) { return p.partition == operation.partition; });
  if (partition == leaders.partitions.end()) {
    finish(id, PoolFailure{3, fmt::format("topic {} has no partition {} (it has {})", operation.topic,
                                          operation.partition, leaders.partitions.size())});
    return;
  }
  if (partition->leader_id < 0 || (partition->error_code != 0 && partition->error_code != 9 /* REPLICA_NOT_AVAILABLE */)) {
    retry(id, PoolFailure{partition->error_code != 0 ? partition->error_code : std::int16_t{5},
                          fmt::format("partition {}-{} has no leader", operation.topic, operation.partition)});
    return;
  }
  const std::optional<HostPort> address = broker_address(partition->leader_id);
  if (!address) {
    retry(id, PoolFailure{5, fmt::format("the address of broker {} (leader of {}-{}) is not known",
                                         partition->leader_id, operation.topic, operation.partition)});
    return;
  }
  BrokerClient& broker = broker_client(partition->leader_id, *address);
  if (broker.ready) {
    send_on(broker, id);
  } else {
    operation.waiting_for = fmt::format("connecting to broker {} ({})", broker.node_id, broker.address.to_string());
    broker.waiting.push_back(id);
  }
}

void LeaderPool::finish(std::uint64_t id, std::optional<PoolFailure> failure) {
  auto it = operations_.find(id);
  if (it == operations_.end()) return;
  std::unique_ptr<Operation> operation = std::move(it->second);
  operations_.erase(it);
  const PoolFailure& why = *failure;  // finish() is only called with a failure; answers end in their handlers
  switch (operation->kind) {
    case Operation::Kind::list_offset:
      if (operation->list_done) operation->list_done(&why, nullptr);
      return;
    case Operation::Kind::fetch:
      if (operation->fetch_done) operation->fetch_done(&why, nullptr);
      return;
    case Operation::Kind::metadata:
      if (operation->metadata_done) operation->metadata_done(&why, nullptr);
      return;
    case Operation::Kind::produce:
      if (operation->produce_done) operation->produce_done(&why, nullptr);
      return;
    case Operation::Kind::all_topics:
      if (operation->topics_done) operation->topics_done(&why, nullptr);
      return;
    case Operation::Kind::commit_offsets:
      if (operation->commit_done) operation->commit_done(&why, nullptr);
      return;
    case Operation::Kind::fetch_offsets:
      if (operation->offsets_done) operation->offsets_done(&why, nullptr);
      return;
  }
}

// FindCoordinator for the operation's group on the bootstrap client; the
// answer's broker is remembered (and learnt) and the operation runs again.
void LeaderPool::find_coordinator(std::uint64_t id) {
  ensure_bootstrap();
  if (!bootstrap_ready_) {
    all_topics_waiting_.push_back(id);  // re-run once the bootstrap client is ready
    return;
  }
  auto it = operations_.find(id);
  if (it == operations_.end()) return;
  const std::string group = it->second->group;
  it->second->waiting_for = fmt::format("looking for the coordinator of group {}", group);
  const auto failed = bootstrap_->request(
      kafka::ApiKey::find_coordinator, kafka::kFindCoordinatorRequestVersions.hi,
      [group](std::int16_t version) { return kafka::encode_find_coordinator_request(version, group); },
      [this, id, group](KafkaSession::Response& response) {
        kafka::CoordinatorAnswer answer;
        if (!kafka::decode_find_coordinator_response(response.frame, response.body_begin, response.request.api_version,
                                                     group, answer)) {
          finish(id, PoolFailure{0, fmt::format("malformed FindCoordinator v{} response", response.request.api_version)});
          return;
        }
        if (answer.error_code != 0) {
          const std::string text = fmt::format("FindCoordinator for group {}: {}{}", group,
                                               kafka_error_text(answer.error_code),
                                               answer.error_message.empty() ? "" : ": " + answer.error_message);
          // COORDINATOR_NOT_AVAILABLE (15), COORDINATOR_LOAD_IN_PROGRESS (14): the group's partition is moving.
          if (answer.error_code == 14 || answer.error_code == 15) {
            retry(id, PoolFailure{answer.error_code, text});
          } else {
            finish(id, PoolFailure{answer.error_code, text});
          }
          return;
        }
        if (answer.node_id < 0 || answer.port <= 0 || answer.port > 65535) {
          retry(id, PoolFailure{15, fmt::format("FindCoordinator for group {} named no broker", group)});
          return;
        }
        broker_addresses_[answer.node_id] = HostPort{answer.host, static_cast<std::uint16_t>(answer.port)};
        registry_.learn(answer.node_id, answer.host, answer.port, LearnedFrom{10, response.request.api_version},
                        uv_now(loop_));
        coordinators_[group] = answer.node_id;
        run(id);
      },
      kafka::kFindCoordinatorRequestVersions.lo);
  if (failed) retry(id, PoolFailure{0, failed->text()});
}

// Metadata for every topic on the bootstrap client (answers are not cached:
// a listing should show topics created a moment ago).
void LeaderPool::list_all_topics(std::uint64_t id) {
  ensure_bootstrap();
  if (!bootstrap_ready_) {
    all_topics_waiting_.push_back(id);
    return;
  }
  const auto failed = bootstrap_->request(
      kafka::ApiKey::metadata, kafka::kMetadataTopicsRequestVersions.hi, kafka::encode_metadata_request_all_topics,
      [this, id](KafkaSession::Response& response) {
        kafka::MetadataAnswer answer;
        if (!kafka::decode_metadata_response(response.frame, response.body_begin, response.request.api_version,
                                             answer)) {
          finish(id, PoolFailure{0, fmt::format("malformed Metadata v{} response", response.request.api_version)});
          return;
        }
        auto op = operations_.find(id);
        if (op == operations_.end()) return;
        auto done = std::move(op->second->topics_done);
        operations_.erase(op);
        if (done) done(nullptr, &answer.topics);
      },
      kafka::kMetadataTopicsRequestVersions.lo);
  if (failed) retry(id, PoolFailure{0, failed->text()});
}

void LeaderPool::retry(std::uint64_t id, PoolFailure why) {
  auto it = operations_.find(id);
  if (it == operations_.end()) return;
  Operation& operation = *it->second;
  if (!operation.topic.empty()) forget_leaders(operation.topic);
  if (!operation.group.empty()) coordinators_.erase(operation.group);
  if (operation.attempts >= kMaxAttempts) {
    why.message = fmt::format("{} (after {} attempts)", why.message, operation.attempts);
    finish(id, std::move(why));
    return;
  }
  log::debug("leader pool {}: {}; retrying in {} ms", settings_.cluster_name, why.message, kRetryPauseMs);
  operation.waiting_for = why.message;
  operation.retry_at_ms = uv_now(loop_) + kRetryPauseMs;
}

void LeaderPool::retry_or_fail(std::uint64_t id, PoolFailure why) {
  if (why.authentication) {
    finish(id, std::move(why));
    return;
  }
  retry(id, std::move(why));
}

PoolFailure LeaderPool::failure_of(const KafkaClientError& error, std::string message) {
  PoolFailure failure{0, std::move(message)};
  if (const SessionError* session = error.session();
      session != nullptr && (session->cause == SessionFailure::sasl_authentication_failed ||
                             session->cause == SessionFailure::sasl_handshake_failed)) {
    failure.kafka_error = 58;  // SASL_AUTHENTICATION_FAILED
    failure.authentication = true;
  }
  return failure;
}

void LeaderPool::forget_leaders(const std::string& topic) {
  auto it = topics_.find(topic);
  if (it == topics_.end() || it->second.asking) return;
  it->second.leaders.reset();
}

// -------------------------------------------------------------- Metadata

std::optional<HostPort> LeaderPool::broker_address(std::int32_t node_id) {
  if (auto it = broker_addresses_.find(node_id); it != broker_addresses_.end()) return it->second;
  return registry_.find(node_id);
}

void LeaderPool::ask_metadata(const std::string& topic) {
  TopicEntry& entry = topics_[topic];
  if (entry.asking) return;
  entry.asking = true;
  ensure_bootstrap();
  if (!bootstrap_ready_) {
    metadata_queue_.push_back(topic);
    return;
  }
  const auto failed = bootstrap_->request(
      kafka::ApiKey::metadata, kafka::kMetadataTopicsRequestVersions.hi,
      [topic](std::int16_t version) {
        return kafka::encode_metadata_request_topics(version, std::span<const std::string>(&topic, 1));
      },
      [this, topic](KafkaSession::Response& response) {
        kafka::MetadataAnswer answer;
        if (!kafka::decode_metadata_response(response.frame, response.body_begin, response.request.api_version,
                                             answer)) {
          on_metadata(topic, PoolFailure{0, fmt::format("malformed Metadata v{} response from {}",
                                                        response.request.api_version,
                                                        bootstrap_ ? bootstrap_->broker().to_string() : "?")},
                      nullptr);
          return;
        }
        on_metadata(topic, std::nullopt, &answer);
      },
      kafka::kMetadataTopicsRequestVersions.lo);
  if (failed) on_metadata(topic, PoolFailure{0, failed->text()}, nullptr);
}

void LeaderPool::on_metadata(const std::string& topic, std::optional<PoolFailure> failure,
                             const kafka::MetadataAnswer* answer) {
  TopicEntry& entry = topics_[topic];
  entry.asking = false;
  if (answer != nullptr) {
    const std::uint64_t now = uv_now(loop_);
    for (const kafka::BrokerEndpoint& broker : answer->brokers) {
      if (broker.node_id < 0 || broker.port <= 0 || broker.port > 65535) continue;
      HostPort address{broker.host, static_cast<std::uint16_t>(broker.port)};
      auto known = broker_addresses_.find(broker.node_id);
      if (known != broker_addresses_.end() && !(known->second == address)) {
        // The broker moved: its client dials the old address. Drop it; the
        // operations on it are retried by on_broker_failed's path.
        if (auto client = brokers_.find(broker.node_id); client != brokers_.end()) {
          on_broker_failed(broker.node_id, KafkaClientError{LinkError{LinkErrc::closed, "the broker moved"}, {}});
        }
      }
      broker_addresses_[broker.node_id] = address;
      registry_.learn(broker.node_id, broker.host, broker.port, LearnedFrom{3, -1}, now);
    }
    const auto found = std::find_if(answer->topics.begin(), answer->topics.end(),
                                    [&](const kafka::TopicLeaders& t) { return t.name == topic; });
    if (found == answer->topics.end()) {
      failure = PoolFailure{0, fmt::format("the Metadata answer does not list topic {}", topic)};
    } else {
      TopicEntry& fresh = topics_[topic];
      fresh.leaders = *found;
      fresh.fetched_at_ms = now;
    }
  }
  std::vector<std::uint64_t> waiting = std::move(topics_[topic].waiting);
  topics_[topic].waiting.clear();
  for (const std::uint64_t id : waiting) {
    if (failure) {
      retry_or_fail(id, *failure);
    } else {
      run(id);
    }
  }
}

void LeaderPool::ensure_bootstrap() {
  if (bootstrap_) return;
  bootstrap_ready_ = false;
  KafkaClient::Callbacks callbacks;
  callbacks.on_ready = [this] { on_bootstrap_ready(); };
  callbacks.on_failed = [this](const KafkaClientError& error) { on_bootstrap_failed(error); };
  bootstrap_ = std::make_unique<KafkaClient>(loop_, scratch_, cache_, std::move(callbacks));
  KafkaSessionOptions session;
  session.client_id = "kedge-http";
  session.max_frame_bytes = settings_.max_frame_bytes;
  session.sasl = settings_.credentials;
  const auto& servers = settings_.backend.bootstrap_servers;
  const std::size_t first = servers.empty() ? 0 : next_bootstrap_++ % servers.size();
  bootstrap_->connect(servers, first,
                      backend_link_settings(settings_.backend, settings_.upstream_tls.get(),
                                            settings_.connect_timeout_ms),
                      std::move(session), 0);
}

void LeaderPool::on_bootstrap_ready() {
  bootstrap_ready_ = true;
  std::vector<std::string> queued = std::move(metadata_queue_);
  metadata_queue_.clear();
  for (const std::string& topic : queued) {
    topics_[topic].asking = false;
    ask_metadata(topic);
  }
  std::vector<std::uint64_t> listings = std::move(all_topics_waiting_);
  all_topics_waiting_.clear();
  for (const std::uint64_t id : listings) {
    auto it = operations_.find(id);
    if (it == operations_.end()) continue;
    if (it->second->kind == Operation::Kind::all_topics) {
      list_all_topics(id);
    } else {
      find_coordinator(id);
    }
  }
}

void LeaderPool::on_bootstrap_failed(const KafkaClientError& error) {
  log::info("leader pool {}: bootstrap connection failed: {}", settings_.cluster_name, error.text());
  KafkaClient::dispose(std::move(bootstrap_));
  bootstrap_ready_ = false;
  // Every topic asked on it (queued or in flight) is answered with the failure.
  std::vector<std::string> asking;
  for (auto& [topic, entry] : topics_) {
    if (entry.asking) asking.push_back(topic);
  }
  metadata_queue_.clear();
  std::vector<std::uint64_t> listings = std::move(all_topics_waiting_);
  all_topics_waiting_.clear();
  const PoolFailure failure =
      failure_of(error, fmt::format("the bootstrap servers of {}: {}", settings_.cluster_name, error.text()));
  for (const std::uint64_t id : listings) retry_or_fail(id, failure);
  for (const std::string& topic : asking) on_metadata(topic, failure, nullptr);
}

// --------------------------------------------------------------- brokers

LeaderPool::BrokerClient& LeaderPool::broker_client(std::int32_t node_id, const HostPort& address) {
  auto it = brokers_.find(node_id);
  if (it != brokers_.end()) return *it->second;
  auto broker = std::make_unique<BrokerClient>();
  broker->node_id = node_id;
  broker->address = address;
  KafkaClient::Callbacks callbacks;
  callbacks.on_ready = [this, node_id] { on_broker_ready(node_id); };
  callbacks.on_failed = [this, node_id](const KafkaClientError& error) { on_broker_failed(node_id, error); };
  broker->client = std::make_unique<KafkaClient>(loop_, scratch_, cache_, std::move(callbacks));
  KafkaSessionOptions session;
  session.client_id = "kedge-http";
  session.max_frame_bytes = settings_.max_frame_bytes;
  session.sasl = settings_.credentials;
  broker->client->connect({address}, 0,
                          backend_link_settings(settings_.backend, settings_.upstream_tls.get(),
                                                settings_.connect_timeout_ms),
                          std::move(session), 0);
  BrokerClient& ref = *broker;
  brokers_.emplace(node_id, std::move(broker));
  return ref;
}

void LeaderPool::on_broker_ready(std::int32_t node_id) {
  auto it = brokers_.find(node_id);
  if (it == brokers_.end()) return;
  BrokerClient& broker = *it->second;
  broker.ready = true;
  std::vector<std::uint64_t> waiting = std::move(broker.waiting);
  broker.waiting.clear();
  for (const std::uint64_t id : waiting) {
    // send_on may fail the client (and erase it): look it up each time.
    auto again = brokers_.find(node_id);
    if (again == brokers_.end() || again->second.get() != &broker) {
      retry(id, PoolFailure{0, fmt::format("broker {} closed the connection", node_id)});
      continue;
    }
    send_on(broker, id);
  }
}

void LeaderPool::on_broker_failed(std::int32_t node_id, const KafkaClientError& error) {
  auto it = brokers_.find(node_id);
  if (it == brokers_.end()) return;
  std::unique_ptr<BrokerClient> broker = std::move(it->second);
  brokers_.erase(it);
  log::info("leader pool {}: broker {} ({}): {}", settings_.cluster_name, node_id, broker->address.to_string(),
            error.text());
  KafkaClient::dispose(std::move(broker->client));
  std::vector<std::uint64_t> affected = std::move(broker->waiting);
  affected.insert(affected.end(), broker->in_flight.begin(), broker->in_flight.end());
  const PoolFailure failure =
      failure_of(error, fmt::format("broker {} ({}): {}", node_id, broker->address.to_string(), error.text()));
  for (const std::uint64_t id : affected) retry_or_fail(id, failure);
}

void LeaderPool::send_on(BrokerClient& broker, std::uint64_t id) {
  auto it = operations_.find(id);
  if (it == operations_.end()) return;
  Operation& operation = *it->second;
  const std::int32_t node_id = broker.node_id;
  operation.waiting_for = fmt::format("waiting for broker {} ({})", node_id, broker.address.to_string());
  // The answer handler: the operation may have timed out meanwhile (then it is gone and the answer is dropped).
  auto answered = [this, id, node_id](KafkaSession::Response& response) {
    if (auto b = brokers_.find(node_id); b != brokers_.end()) {
      auto& in_flight = b->second->in_flight;
      in_flight.erase(std::remove(in_flight.begin(), in_flight.end(), id), in_flight.end());
    }
    auto op = operations_.find(id);
    if (op == operations_.end()) return;
    Operation& answered_op = *op->second;
    const std::int16_t version = response.request.api_version;
    if (answered_op.kind == Operation::Kind::list_offset) {
      kafka::ListOffsetsAnswer answer;
      if (!kafka::decode_list_offsets_response(response.frame, response.body_begin, version, answered_op.topic,
                                               answered_op.partition, answer)) {
        finish(id, PoolFailure{0, fmt::format("malformed ListOffsets v{} response from broker {}", version,
                                              node_id)});
        return;
      }
      if (answer.error_code != 0) {
        if (leader_changed(answer.error_code)) {
          retry(id, PoolFailure{answer.error_code, fmt::format("{}-{} at broker {}: {}", answered_op.topic,
                                                               answered_op.partition, node_id,
                                                               kafka_error_text(answer.error_code))});
        } else {
          finish(id, PoolFailure{answer.error_code, fmt::format("{}-{}: {}", answered_op.topic,
                                                                answered_op.partition,
                                                                kafka_error_text(answer.error_code))});
        }
        return;
      }
      auto done = std::move(answered_op.list_done);
      operations_.erase(op);
      if (done) done(nullptr, &answer);
      return;
    }
    if (answered_op.kind == Operation::Kind::commit_offsets) {
      kafka::OffsetCommitAnswer answer;
      if (!kafka::decode_offset_commit_response(response.frame, response.body_begin, version, answer)) {
        finish(id, PoolFailure{0, fmt::format("malformed OffsetCommit v{} response from broker {}", version, node_id)});
        return;
      }
      for (const auto& p : answer.partitions) {
        // NOT_COORDINATOR (16), COORDINATOR_NOT_AVAILABLE (15), COORDINATOR_LOAD_IN_PROGRESS (14)
        if (p.error_code == 14 || p.error_code == 15 || p.error_code == 16) {
          retry(id, PoolFailure{p.error_code, fmt::format("OffsetCommit of group {} at broker {}: {}",
                                                          answered_op.group, node_id, kafka_error_text(p.error_code))});
          return;
        }
      }
      auto done = std::move(answered_op.commit_done);
      operations_.erase(op);
      if (done) done(nullptr, &answer);
      return;
    }
    if (answered_op.kind == Operation::Kind::fetch_offsets) {
      kafka::OffsetFetchAnswer answer;
      if (!kafka::decode_offset_fetch_response(response.frame, response.body_begin, version, answered_op.group,
                                               answer)) {
        finish(id, PoolFailure{0, fmt::format("malformed OffsetFetch v{} response from broker {}", version, node_id)});
        return;
      }
      if (answer.error_code == 14 || answer.error_code == 15 || answer.error_code == 16) {
        retry(id, PoolFailure{answer.error_code, fmt::format("OffsetFetch of group {} at broker {}: {}",
                                                             answered_op.group, node_id,
                                                             kafka_error_text(answer.error_code))});
        return;
      }
      if (answer.error_code != 0) {
        finish(id, PoolFailure{answer.error_code, fmt::format("OffsetFetch of group {}: {}", answered_op.group,
                                                              kafka_error_text(answer.error_code))});
        return;
      }
      auto done = std::move(answered_op.offsets_done);
      operations_.erase(op);
      if (done) done(nullptr, &answer);
      return;
    }
    if (answered_op.kind == Operation::Kind::produce) {
      kafka::ProduceAnswer answer;
      if (!kafka::decode_produce_response(response.frame, response.body_begin, version, answer)) {
        finish(id, PoolFailure{0, fmt::format("malformed Produce v{} response from broker {}", version, node_id)});
        return;
      }
      const kafka::ProducePartitionAnswer* mine = nullptr;
      for (const auto& p : answer.partitions) {
        if (p.partition == answered_op.partition && p.topic == answered_op.topic) mine = &p;
      }
      if (mine == nullptr) {
        finish(id, PoolFailure{0, fmt::format("the Produce answer of broker {} does not list {}-{}", node_id,
                                              answered_op.topic, answered_op.partition)});
        return;
      }
      if (mine->error_code != 0 && leader_changed(mine->error_code)) {
        retry(id, PoolFailure{mine->error_code, fmt::format("{}-{} at broker {}: {}", answered_op.topic,
                                                            answered_op.partition, node_id,
                                                            kafka_error_text(mine->error_code))});
        return;
      }
      // Written, or refused for good (the answer carries the error for the caller to report per record).
      const kafka::ProducePartitionAnswer written = *mine;
      auto done = std::move(answered_op.produce_done);
      operations_.erase(op);
      if (done) done(nullptr, &written);
      return;
    }
    // Fetch: the frame is kept alive with the records that point into it.
    auto frame = std::make_shared<std::vector<std::uint8_t>>(std::move(response.frame));
    kafka::FetchAnswer answer;
    if (!kafka::decode_fetch_response(*frame, response.body_begin, version, answer)) {
      finish(id, PoolFailure{0, fmt::format("malformed Fetch v{} response from broker {}", version, node_id)});
      return;
    }
    const kafka::FetchPartitionAnswer* mine = nullptr;
    for (const auto& p : answer.partitions) {
      if (p.partition == answered_op.partition && p.topic == answered_op.topic) mine = &p;
    }
    const std::int16_t error = mine != nullptr ? mine->error_code : answer.error_code;
    if (mine == nullptr || error != 0) {
      const std::int16_t code = error != 0 ? error : std::int16_t{-1};
      const std::string text = fmt::format("{}-{} at broker {}: {}", answered_op.topic, answered_op.partition,
                                           node_id, mine == nullptr && error == 0
                                                        ? std::string("the Fetch answer does not list it")
                                                        : kafka_error_text(code));
      if (error != 0 && leader_changed(error)) {
        retry(id, PoolFailure{error, text});
      } else {
        finish(id, PoolFailure{error, text});
      }
      return;
    }
    Fetched fetched{*mine, frame};
    auto done = std::move(answered_op.fetch_done);
    operations_.erase(op);
    if (done) done(nullptr, &fetched);
  };

  std::optional<KafkaClientError> failed;
  if (operation.kind == Operation::Kind::list_offset) {
    const std::string topic = operation.topic;
    const std::int32_t partition = operation.partition;
    const std::int64_t timestamp = operation.position;
    failed = broker.client->request(
        kafka::ApiKey::list_offsets, kafka::kListOffsetsRequestVersions.hi,
        [topic, partition, timestamp](std::int16_t version) {
          return kafka::encode_list_offsets_request(version, topic, partition, timestamp,
                                                    kafka::IsolationLevel::read_uncommitted);
        },
        std::move(answered), kafka::kListOffsetsRequestVersions.lo);
  } else if (operation.kind == Operation::Kind::commit_offsets) {
    const std::string group = operation.group;
    const std::vector<kafka::OffsetToCommit> commits = operation.commits;
    failed = broker.client->request(
        kafka::ApiKey::offset_commit, kafka::kOffsetCommitRequestVersions.hi,
        [group, commits](std::int16_t version) { return kafka::encode_offset_commit_request(version, group, commits); },
        std::move(answered), kafka::kOffsetCommitRequestVersions.lo);
  } else if (operation.kind == Operation::Kind::fetch_offsets) {
    const std::string group = operation.group;
    const std::vector<kafka::TopicPartition> wanted = operation.wanted;
    const bool all = wanted.empty();
    // Every committed offset needs null Topics (v2+); named partitions any version.
    failed = broker.client->request(
        kafka::ApiKey::offset_fetch, kafka::kOffsetFetchRequestVersions.hi,
        [group, wanted, all](std::int16_t version) {
          return kafka::encode_offset_fetch_request(version, group, wanted, all);
        },
        std::move(answered), all ? std::int16_t{2} : kafka::kOffsetFetchRequestVersions.lo);
  } else if (operation.kind == Operation::Kind::produce) {
    // The records stay with the operation (a retry sends them again); the encoder copies them into the frame.
    const std::vector<std::uint8_t>* records = &operation.records;
    kafka::ProducePartitionRequest partition;
    partition.topic = operation.topic;
    partition.partition = operation.partition;
    partition.records = *records;
    const auto timeout_ms = static_cast<std::int32_t>(settings_.request_timeout_ms);
    failed = broker.client->request(
        kafka::ApiKey::produce, kafka::kProduceRequestVersions.hi,
        [partition, timeout_ms](std::int16_t version) {
          return kafka::encode_produce_request(version, -1, timeout_ms,
                                               std::span<const kafka::ProducePartitionRequest>(&partition, 1));
        },
        std::move(answered), kafka::kProduceRequestVersions.lo);
  } else {
    kafka::FetchRequestParams params;
    params.max_wait_ms = operation.max_wait_ms;
    params.min_bytes = 1;
    params.max_bytes = operation.max_bytes;
    params.isolation = kafka::IsolationLevel::read_uncommitted;
    kafka::FetchPartitionRequest partition;
    partition.topic = operation.topic;
    partition.partition = operation.partition;
    partition.fetch_offset = operation.position;
    partition.partition_max_bytes = operation.max_bytes;
    params.partitions.push_back(std::move(partition));
    failed = broker.client->request(
        kafka::ApiKey::fetch, kafka::kFetchRequestVersions.hi,
        [params = std::move(params)](std::int16_t version) { return kafka::encode_fetch_request(version, params); },
        std::move(answered), kafka::kFetchRequestVersions.lo);
  }
  if (failed) {
    if (failed->session() != nullptr && failed->session()->cause == SessionFailure::no_common_version) {
      finish(id, PoolFailure{35, failed->text()});  // UNSUPPORTED_VERSION: retrying would not help
      return;
    }
    retry(id, PoolFailure{0, failed->text()});
    return;
  }
  broker.in_flight.push_back(id);
}

}  // namespace kedge::upstream
