#pragma once
// Quotas of a virtual cluster (issue 18; docs/policy.md "Quotas"): produce and
// fetch bytes per second for each client, enforced as Kafka brokers enforce
// theirs (KIP-13, KIP-219): the request is served, its response carries
// throttle_time_ms, and the client's connection is not read for that long.
// Nothing is dropped or failed.
//
// A client is its principal when kedge authenticated one (SASL termination,
// mTLS), else its address: every connection of that client, on any worker
// thread, draws on one account. Accounts live in the cluster's BackendState,
// so a reload keeps what a client owes.
//
// Pure: no libuv, no OpenSSL. Thread-safe where stated (the book and its
// accounts are shared by the workers).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kedge::policy {

// Per second; nullopt: unlimited.
struct QuotaLimits {
  std::optional<std::uint64_t> produce_bytes_per_second;
  std::optional<std::uint64_t> fetch_bytes_per_second;
  // Requests of any API kedge forwards (Kafka's request quota is a share of
  // broker thread time, which a gateway cannot see; a rate is what it can).
  std::optional<std::uint64_t> requests_per_second;

  bool operator==(const QuotaLimits&) const = default;
};

struct QuotaConfig {
  QuotaLimits each_client;  // every client without an entry below
  // Per client address (the PROXY header's source when there is one), over
  // every listener and worker: open connections to the cluster, and new ones
  // per second (Kafka's max.connections.per.ip, KIP-612). nullopt: unlimited.
  std::optional<std::uint32_t> connections_per_address;
  std::optional<std::uint32_t> connections_per_address_per_second;
  // By exact principal name: the limits that principal gets instead (fields
  // not set in the config were copied from each_client; null = unlimited).
  std::map<std::string, QuotaLimits, std::less<>> principals;

  const QuotaLimits& limits_for(std::string_view principal) const;
  bool operator==(const QuotaConfig&) const = default;
};

// Kafka brokers bound a throttle by their quota window (11 s by default); so
// does kedge: a client that owes more is throttled again on its next request.
// Well under the clients' 30 s request timeout, which a muted connection must
// not reach.
inline constexpr std::uint32_t kMaxThrottleMs = 10'000;

// A token bucket that may go into debt: a request is never refused or split,
// its bytes are charged, and the client waits until the debt is paid back at
// the quota's rate. The balance holds at most one second of the rate (the
// burst a client may send after being idle). Thread-safe.
class RateAccount {
 public:
  using Clock = std::chrono::steady_clock;
  // Charges `amount` at `rate_per_second` (> 0) and returns how long the
  // client must wait (ms, at most kMaxThrottleMs; 0 while within the quota).
  std::uint32_t charge(std::uint64_t amount, std::uint64_t rate_per_second, Clock::time_point now);
  // Takes `amount` only if the balance holds it (never goes into debt).
  bool try_take(std::uint64_t amount, std::uint64_t rate_per_second, Clock::time_point now);
  // The wait owed now, without charging.
  std::uint32_t owed_ms(std::uint64_t rate_per_second, Clock::time_point now);
  // True while the client still owes bytes at the rate last charged at
  // (read-only: the balance is not refilled).
  bool owes(Clock::time_point now);
  // True once the balance is back to a whole second of the rate last charged
  // at: the account remembers nothing a new one would not.
  bool rested(Clock::time_point now);

 private:
  void refill(std::uint64_t rate_per_second, Clock::time_point now);  // with mutex_ held
  std::uint32_t wait_ms(std::uint64_t rate_per_second) const;          // with mutex_ held
  std::mutex mutex_;
  double balance_ = 0;  // bytes; negative: owed
  double last_rate_ = 0;  // bytes/s of the last refill
  Clock::time_point last_{};
  bool started_ = false;
};

// One client's accounts.
struct ClientAccount {
  RateAccount produce;
  RateAccount fetch;
  RateAccount requests;
};

// The accounts of one virtual cluster's clients. Thread-safe.
class QuotaBook {
 public:
  // The account of `client` (a principal, or "address:<ip>"), made on first
  // use. Held by the connections using it; an account no connection holds
  // and that owes nothing is forgotten when the book grows: at kPruneAbove
  // accounts, then each time it doubled since the last pass (so a book of
  // many live clients is not scanned for every new one).
  std::shared_ptr<ClientAccount> account(std::string_view client, RateAccount::Clock::time_point now);
  std::size_t size() const;
  static constexpr std::size_t kPruneAbove = 1024;

 private:
  void prune(RateAccount::Clock::time_point now);  // with mutex_ held
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<ClientAccount>> accounts_;
  std::size_t prune_at_ = kPruneAbove;
};

// Connections per client address to one virtual cluster. Thread-safe.
class ConnectionBook {
 public:
  enum class Admission : std::uint8_t { admitted, too_many, too_fast };
  // A new connection from `address`: admitted (and counted open until
  // release()) unless the address already has `max_open` open or opened more
  // than `per_second` in the last second (one second of burst, then the rate).
  Admission admit(std::string_view address, std::optional<std::uint32_t> max_open,
                  std::optional<std::uint32_t> per_second, RateAccount::Clock::time_point now);
  void release(std::string_view address, RateAccount::Clock::time_point now);
  std::uint32_t open(std::string_view address) const;
  std::size_t size() const;
  static constexpr std::size_t kPruneAbove = 1024;  // then at each doubling, as QuotaBook

 private:
  struct Entry {
    std::uint32_t open = 0;
    RateAccount opened;  // one unit per admitted connection
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
  std::size_t prune_at_ = kPruneAbove;
};

std::string_view to_string(ConnectionBook::Admission admission);

}  // namespace kedge::policy
