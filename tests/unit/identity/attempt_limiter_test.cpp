// The per-address attempt limiter: every transition, with time injected.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "identity/attempt_limiter.h"

using namespace kedge::identity;
using namespace std::chrono_literals;
using Verdict = AttemptLimiter::Verdict;
using Decision = AttemptLimiter::Decision;

namespace {

const AttemptLimiter::Clock::time_point t0{std::chrono::hours(1000)};

AttemptLimiterPolicy small_policy() {
  AttemptLimiterPolicy policy;
  policy.delay_after = 3;
  policy.block_after = 6;
  policy.window = 60s;
  policy.delay_step = 500ms;
  policy.max_delay = 1200ms;
  policy.block = 300s;
  policy.max_addresses = 4;
  return policy;
}

}  // namespace

TEST_CASE("an address that never failed is allowed and costs no memory", "[limiter]") {
  AttemptLimiter limiter(small_policy());
  CHECK(limiter.admit("192.0.2.1", t0) == Decision{});
  CHECK(limiter.tracked() == 0);
}

TEST_CASE("allow, then escalating delays, then a block, then allow again after the block", "[limiter]") {
  AttemptLimiter limiter(small_policy());
  const std::string address = "2001:db8::7";
  auto now = t0;
  // failures 1 and 2: still allowed
  CHECK(limiter.record_failure(address, now) == Decision{});
  CHECK(limiter.record_failure(address, now += 1s) == Decision{});
  CHECK(limiter.admit(address, now) == Decision{});
  // failure 3 reaches delay_after: 500 ms, then 1000 ms, then capped at max_delay
  CHECK(limiter.record_failure(address, now += 1s) == Decision{Verdict::delay, 500ms});
  CHECK(limiter.admit(address, now) == Decision{Verdict::delay, 500ms});
  CHECK(limiter.record_failure(address, now += 1s) == Decision{Verdict::delay, 1000ms});
  CHECK(limiter.record_failure(address, now += 1s) == Decision{Verdict::delay, 1200ms});
  CHECK(limiter.admit(address, now) == Decision{Verdict::delay, 1200ms});
  // failure 6 reaches block_after: refused for the block period, counting down
  CHECK(limiter.record_failure(address, now += 1s) == Decision{Verdict::refuse, 300s});
  CHECK(limiter.admit(address, now + 100s) == Decision{Verdict::refuse, 200s});
  // a failure already in flight while blocked neither extends nor lifts the block
  CHECK(limiter.record_failure(address, now + 150s) == Decision{Verdict::refuse, 150s});
  CHECK(limiter.admit(address, now + 299s) == Decision{Verdict::refuse, 1s});
  // the block ends: failures were forgotten, the address starts over
  CHECK(limiter.admit(address, now + 300s) == Decision{});
  CHECK(limiter.tracked() == 0);
  CHECK(limiter.record_failure(address, now + 301s) == Decision{});
}

TEST_CASE("failures older than the window no longer count", "[limiter]") {
  AttemptLimiter limiter(small_policy());
  limiter.record_failure("a", t0);
  limiter.record_failure("a", t0 + 10s);
  CHECK(limiter.record_failure("a", t0 + 20s).verdict == Verdict::delay);
  // the first failure ages out at t0 + 60 s: two remain
  CHECK(limiter.admit("a", t0 + 59s).verdict == Verdict::delay);
  CHECK(limiter.admit("a", t0 + 60s) == Decision{});
  CHECK(limiter.record_failure("a", t0 + 61s) == Decision{Verdict::delay, 500ms});
  // all age out: the entry is dropped on the next admit
  CHECK(limiter.admit("a", t0 + 200s) == Decision{});
  CHECK(limiter.tracked() == 0);
}

TEST_CASE("a success forgives nothing", "[limiter]") {
  // The limiter has no success call: between failures, successes (admit + no failure) leave the count.
  AttemptLimiter limiter(small_policy());
  for (int i = 0; i < 3; ++i) {
    CHECK(limiter.admit("a", t0 + std::chrono::seconds(i)).verdict != Verdict::refuse);
    limiter.record_failure("a", t0 + std::chrono::seconds(i));
  }
  CHECK(limiter.admit("a", t0 + 5s).verdict == Verdict::delay);
}

TEST_CASE("a blocked address does not affect other addresses", "[limiter]") {
  AttemptLimiter limiter(small_policy());
  for (int i = 0; i < 6; ++i) limiter.record_failure("198.51.100.9", t0);
  CHECK(limiter.admit("198.51.100.9", t0).verdict == Verdict::refuse);
  CHECK(limiter.admit("198.51.100.10", t0) == Decision{});
  CHECK(limiter.admit("2001:db8::1", t0) == Decision{});
  CHECK(limiter.record_failure("198.51.100.10", t0) == Decision{});
}

TEST_CASE("memory is bounded: the least recently touched address is evicted", "[limiter]") {
  AttemptLimiter limiter(small_policy());  // max_addresses = 4
  for (const char* address : {"a", "b", "c", "d"}) {
    limiter.record_failure(address, t0);
    limiter.record_failure(address, t0);
    limiter.record_failure(address, t0);
  }
  CHECK(limiter.tracked() == 4);
  CHECK(limiter.admit("a", t0 + 1s).verdict == Verdict::delay);  // touches "a": "b" is now the oldest
  // when
  limiter.record_failure("e", t0 + 2s);
  // then
  CHECK(limiter.tracked() == 4);
  CHECK(limiter.admit("b", t0 + 2s) == Decision{});  // evicted
  CHECK(limiter.admit("a", t0 + 2s).verdict == Verdict::delay);
  CHECK(limiter.admit("c", t0 + 2s).verdict == Verdict::delay);
  CHECK(limiter.admit("e", t0 + 2s) == Decision{});  // one failure: allowed but tracked
  CHECK(limiter.tracked() == 4);
}

TEST_CASE("a policy out of bounds is clamped", "[limiter]") {
  AttemptLimiterPolicy policy;
  policy.delay_after = 0;
  policy.block_after = 0;
  policy.max_addresses = 0;
  policy.delay_step = -5ms;
  AttemptLimiter limiter(policy);
  CHECK(limiter.policy().block_after == 1);
  CHECK(limiter.policy().delay_after == 1);
  CHECK(limiter.policy().max_addresses == 1);
  CHECK(limiter.policy().delay_step == 0ms);
  CHECK(limiter.record_failure("a", t0).verdict == Verdict::refuse);
  AttemptLimiterPolicy huge;
  huge.block_after = 1'000'000;
  CHECK(AttemptLimiter(huge).policy().block_after == kMaxBlockAfter);
}

TEST_CASE("worker threads share one limiter", "[limiter]") {
  AttemptLimiterPolicy policy = small_policy();
  policy.block_after = 1000;
  policy.delay_after = 500;
  policy.max_addresses = 64;
  AttemptLimiter limiter(policy);
  std::vector<std::thread> workers;
  std::atomic<int> refused{0};
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 2000; ++i) {
        const std::string own = "10.0." + std::to_string(w) + "." + std::to_string(i % 8);
        limiter.admit(own, t0);
        limiter.record_failure(own, t0);
        if (limiter.record_failure("shared", t0).verdict == Verdict::refuse) ++refused;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  // 8000 failures of "shared" at one instant: blocked at the 1000th, every later one refused.
  CHECK(refused.load() == 8000 - 999);
  CHECK(limiter.tracked() == 33);
  CHECK(limiter.admit("shared", t0).verdict == Verdict::refuse);
}
