#pragma once
// kedge as a Kafka client of a virtual cluster's partition leaders, for the
// HTTP/WebSocket front (issue 19): one pool per (worker loop, virtual
// cluster), holding one KafkaClient per broker it talks to and the partition
// leaders it learnt from Metadata. Kafka clients of the gateway never use it:
// their bytes ride their own broker link (connection.h).
//
//   list_offset / fetch / produce / topic_metadata
//     └─▶ leader of (topic, partition): the cached Metadata answer, or one
//         Metadata request per topic (coalesced: every caller waiting for the
//         same topic shares it), sent on the bootstrap client
//     └─▶ the leader's client: connected on first use (ApiVersions, SASL with
//         the backend's service credentials), requests pipelined on it
//     └─▶ the answer, or a retriable Kafka error (NOT_LEADER_OR_FOLLOWER,
//         LEADER_NOT_AVAILABLE, FENCED/UNKNOWN_LEADER_EPOCH, a lost
//         connection): the topic's leaders are forgotten and the operation
//         starts again after a short pause, at most kMaxAttempts times, so a
//         leader move costs the caller a delay, never a wrong answer.
//
// Every operation ends with exactly one call of its callback (an answer or a
// PoolFailure), within request_timeout_ms. Callbacks run on the loop thread,
// never inside the call that started the operation. The caller may be gone
// by then: it guards its callbacks (a weak token) — the pool cannot know its
// owners. Destroying the pool drops pending callbacks without calling them
// (the loop is being torn down with its owners) and disposes of the clients.
//
// Loop thread only. Errors are values; nothing throws.
#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "certs/tls_context.h"
#include "config/config.h"
#include "io/stream_socket.h"
#include "kafka_codec/data_client.h"
#include "upstream/kafka_client.h"
#include "upstream/registry.h"
#include "upstream/resolve.h"

namespace kedge::upstream {

// Why an operation failed: the broker's error code (a Kafka error a client
// can act on: UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE, ...) or 0 when
// kedge could not get an answer (connection, timeout, malformed response),
// and an operator-facing message.
struct PoolFailure {
  std::int16_t kafka_error = 0;
  std::string message;
  // The brokers refused the pool's SASL credentials: retrying cannot help
  // (kafka_error is SASL_AUTHENTICATION_FAILED, 58).
  bool authentication = false;
};

class LeaderPool {
 public:
  struct Settings {
    std::string cluster_name;
    BackendConfig backend;
    certs::SslCtxPtr upstream_tls;               // backend.tls client context; null for plaintext
    std::optional<SaslCredentials> credentials;  // kedge's service credentials (backend.sasl, else discovery's)
    std::uint32_t connect_timeout_ms = 10'000;
    std::uint32_t request_timeout_ms = 30'000;  // an operation's whole budget, retries included
    std::uint32_t max_frame_bytes = 100 * 1024 * 1024;
    std::uint32_t metadata_max_age_ms = 60'000;  // leaders are asked again after this long
  };
  static constexpr int kMaxAttempts = 5;
  static constexpr std::uint32_t kRetryPauseMs = 100;

  LeaderPool(uv_loop_t* loop, io::LoopScratch& scratch, ResolveCache* cache, BrokerRegistry::Handle& registry,
             Settings settings);
  ~LeaderPool();
  LeaderPool(const LeaderPool&) = delete;
  LeaderPool& operator=(const LeaderPool&) = delete;

  // Exactly one of the two pointers is set.
  using ListOffsetDone = std::function<void(const PoolFailure*, const kafka::ListOffsetsAnswer*)>;
  void list_offset(std::string topic, std::int32_t partition, std::int64_t timestamp, ListOffsetDone done);

  // One partition's Fetch answer; `answer.records` points into `response`,
  // which the callee may keep as long as it reads them.
  struct Fetched {
    kafka::FetchPartitionAnswer answer;
    std::shared_ptr<const std::vector<std::uint8_t>> response;
  };
  using FetchDone = std::function<void(const PoolFailure*, const Fetched*)>;
  // A session-less Fetch of one partition from `offset`: answered as soon as
  // the leader has a byte past it, else after `max_wait_ms` with no records.
  void fetch(std::string topic, std::int32_t partition, std::int64_t offset, std::int32_t max_bytes,
             std::int32_t max_wait_ms, FetchDone done);

  // The partitions of a topic and their leaders (asked again when older than
  // metadata_max_age_ms). A topic the cluster does not have fails with
  // UNKNOWN_TOPIC_OR_PARTITION (3).
  using MetadataDone = std::function<void(const PoolFailure*, const kafka::TopicLeaders*)>;
  void topic_metadata(std::string topic, MetadataDone done);

  // Writes `records` (one or more encoded record batches) to the partition's
  // leader with acks=all. A retriable error (a leader move) retries the write:
  // batches without a producer id may then be stored twice if the first write
  // reached the log before its answer was lost (at-least-once, as a
  // non-idempotent Kafka producer).
  using ProduceDone = std::function<void(const PoolFailure*, const kafka::ProducePartitionAnswer*)>;
  void produce(std::string topic, std::int32_t partition, std::vector<std::uint8_t> records, ProduceDone done);

  // Every topic of the cluster with its partitions (Metadata for all topics, never cached).
  using TopicsDone = std::function<void(const PoolFailure*, const std::vector<kafka::TopicLeaders>*)>;
  void list_topics(TopicsDone done);

  // Consumer-group offsets kept in Kafka (OffsetCommit / OffsetFetch at the
  // group's coordinator, found with FindCoordinator and remembered until it
  // answers NOT_COORDINATOR or its connection fails). A commit is a simple
  // one (no member, generation -1), which brokers accept for a group without
  // active members (an empty or a new group). A group with live consumers
  // refuses it with UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION, as Kafka does.
  using CommitDone = std::function<void(const PoolFailure*, const kafka::OffsetCommitAnswer*)>;
  void commit_offsets(std::string group, std::vector<kafka::OffsetToCommit> offsets, CommitDone done);
  // `partitions` empty: every offset the group committed (OffsetFetch v2+).
  using OffsetsDone = std::function<void(const PoolFailure*, const kafka::OffsetFetchAnswer*)>;
  void fetch_offsets(std::string group, std::vector<kafka::TopicPartition> partitions, OffsetsDone done);

  // Operations started and not yet answered, and broker clients open (metrics, tests).
  std::size_t operations_pending() const { return operations_.size(); }
  std::size_t clients_open() const { return brokers_.size() + (bootstrap_ ? 1 : 0); }

 private:
  struct Operation;
  struct BrokerClient;
  struct TopicEntry {
    std::optional<kafka::TopicLeaders> leaders;  // absent while asked for the first time
    std::uint64_t fetched_at_ms = 0;
    bool asking = false;
    std::vector<std::uint64_t> waiting;  // operations waiting for the answer
  };

  std::uint64_t start(std::unique_ptr<Operation> operation);
  void run(std::uint64_t id);
  void on_leaders_known(const std::string& topic);
  void ask_metadata(const std::string& topic);
  void on_metadata(const std::string& topic, std::optional<PoolFailure> failure, const kafka::MetadataAnswer* answer);
  void ensure_bootstrap();
  void list_all_topics(std::uint64_t id);
  void find_coordinator(std::uint64_t id);
  void on_bootstrap_ready();
  void on_bootstrap_failed(const KafkaClientError& error);
  BrokerClient& broker_client(std::int32_t node_id, const HostPort& address);
  void on_broker_ready(std::int32_t node_id);
  void on_broker_failed(std::int32_t node_id, const KafkaClientError& error);
  void send_on(BrokerClient& broker, std::uint64_t id);
  // The operation ends: the callback runs now (on the loop, from a callback of
  // the pool's own) and the operation is forgotten.
  void finish(std::uint64_t id, std::optional<PoolFailure> failure);
  // A retriable error: the topic's leaders are forgotten and the operation
  // runs again after kRetryPauseMs, unless its attempts or time ran out.
  void retry(std::uint64_t id, PoolFailure why);
  // retry(), or finish() for a refused authentication.
  void retry_or_fail(std::uint64_t id, PoolFailure why);
  static PoolFailure failure_of(const KafkaClientError& error, std::string message);
  void forget_leaders(const std::string& topic);
  void arm_timer();
  void on_timer();
  std::optional<HostPort> broker_address(std::int32_t node_id);

  uv_loop_t* loop_;
  io::LoopScratch& scratch_;
  ResolveCache* cache_;
  BrokerRegistry::Handle& registry_;
  Settings settings_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Operation>> operations_;  // by id: answers come back by id
  std::unordered_map<std::string, TopicEntry> topics_;
  std::map<std::int32_t, HostPort> broker_addresses_;  // from the last Metadata answers
  std::map<std::int32_t, std::unique_ptr<BrokerClient>> brokers_;
  std::unordered_map<std::string, std::int32_t> coordinators_;  // group -> coordinator node id
  // Metadata: a client to the bootstrap servers (rotating on failure) and the topics waiting for it.
  std::unique_ptr<KafkaClient> bootstrap_;
  bool bootstrap_ready_ = false;
  std::size_t next_bootstrap_ = 0;
  std::vector<std::string> metadata_queue_;  // topics to ask once bootstrap_ is ready
  std::vector<std::uint64_t> all_topics_waiting_;  // list_topics operations waiting for bootstrap_
  // One timer: retries due and operation deadlines, on a 50 ms tick while
  // anything is pending. Heap-allocated: it closes after the pool is gone.
  uv_timer_t* timer_ = nullptr;
  bool timer_running_ = false;
};

}  // namespace kedge::upstream
