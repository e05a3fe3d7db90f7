#pragma once
// Brute-force limiting of authentication attempts per client address (issue 17, "Brute force").
//
// The caller keys every attempt by the client's address (the PROXY-protocol source when there is one) as a
// string, e.g. "192.0.2.7" or "2001:db8::1"; how coarse the key is (a whole IPv6 /64, say) is the caller's
// choice. Per key the limiter keeps the times of the failures within the last `window`:
//
//                 failures in window < delay_after
//     [allow] ----------------------------------------+
//        |  failure makes it >= delay_after           |
//        v                                            |
//     [delay: wait = delay_step * (failures - delay_after + 1), at most max_delay]
//        |  failure makes it >= block_after           ^ failures age out of the window
//        v                                            |
//     [refuse until blocked_at + block] -- block over: failures forgotten --> [allow]
//
//   admit(key, now)           before verifying an attempt: allow, delay (the caller waits `wait`, e.g. with
//                             a uv timer, then verifies), or refuse (answer the failure at once; `wait` is the
//                             block time left). Creates no state for an address that never failed.
//   record_failure(key, now)  after a failed verification: counts it and returns the verdict that now
//                             applies (a caller may hold the failure answer for `wait`).
// A success changes nothing: failures age out of the window rather than being forgiven, so an attacker who
// owns one valid account cannot interleave its logins to reset the count while guessing another's.
//
// Other keys are never affected. Memory is bounded: at most `max_addresses` keys (the least recently
// touched is evicted to make room) and at most `block_after` failure times per key. Time is the caller's
// (`now` on every call, a steady clock), so tests are deterministic. Thread-safe: worker loops share one
// limiter; each call holds a mutex around one map operation (authentication is not the per-byte path).
// Nothing throws except std::bad_alloc.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kedge::identity {

struct AttemptLimiterPolicy {
  std::uint32_t delay_after = 5;   // failures in the window from which attempts are delayed (>= 1)
  std::uint32_t block_after = 20;  // failures in the window at which the address is blocked (>= delay_after)
  std::chrono::milliseconds window{60'000};
  std::chrono::milliseconds delay_step{500};
  std::chrono::milliseconds max_delay{5'000};
  std::chrono::milliseconds block{300'000};
  std::size_t max_addresses = 100'000;  // >= 1
};
// Bounds a configuration must respect (the constructor clamps to them): 1 <= delay_after <= block_after
// <= kMaxBlockAfter, max_addresses >= 1, durations >= 0.
inline constexpr std::uint32_t kMaxBlockAfter = 10'000;

class AttemptLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Verdict : std::uint8_t { allow, delay, refuse };
  struct Decision {
    Verdict verdict = Verdict::allow;
    std::chrono::milliseconds wait{0};  // delay: how long to wait; refuse: block time left; allow: 0
    bool operator==(const Decision&) const = default;
  };

  explicit AttemptLimiter(AttemptLimiterPolicy policy = {});

  Decision admit(std::string_view key, Clock::time_point now);
  Decision record_failure(std::string_view key, Clock::time_point now);

  const AttemptLimiterPolicy& policy() const { return policy_; }
  // Keys currently held (tests, and a gauge for the admin API).
  std::size_t tracked() const;

 private:
  struct Entry {
    std::string key;
    std::vector<Clock::time_point> failures;  // oldest first, all within the window when last pruned
    Clock::time_point blocked_until{};        // > now: blocked
    bool blocked = false;
  };
  using Lru = std::list<Entry>;  // least recently touched first

  // Drops failures older than the window and an expired block. Returns the verdict for the entry as it is.
  Decision refresh(Entry& entry, Clock::time_point now) const;
  Decision verdict_for(std::size_t failures) const;

  AttemptLimiterPolicy policy_;
  mutable std::mutex mutex_;
  Lru lru_;
  std::unordered_map<std::string, Lru::iterator> index_;
};

}  // namespace kedge::identity
