// The readiness evidence every worker loop of a virtual cluster records
// (SharedBackendHealth): what read() reports after successes and failures, and
// loops recording while the admin API reads (run under ASan and TSan too).
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "admin/model.h"

using kedge::BackendHealth;
using kedge::SharedBackendHealth;

TEST_CASE("shared backend health: the latest evidence decides reachability", "[admin][health]") {
  SharedBackendHealth health;
  const BackendHealth fresh = health.read();
  CHECK(fresh.last_success_unix_ms == 0);
  CHECK(fresh.last_failure_unix_ms == 0);
  CHECK_FALSE(fresh.reachable());

  health.answered();
  const BackendHealth answered = health.read();
  CHECK(answered.last_success_unix_ms >= kedge::unix_now_ms() - 1000);
  CHECK(answered.reachable());

  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  health.failed("10.0.0.5:9092: connection refused");
  const BackendHealth failed = health.read();
  CHECK_FALSE(failed.reachable());
  CHECK(failed.last_failure_unix_ms > answered.last_success_unix_ms);
  CHECK(failed.last_error == "10.0.0.5:9092: connection refused");
  CHECK(failed.last_success_unix_ms == answered.last_success_unix_ms);

  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  health.answered();
  const BackendHealth again = health.read();
  CHECK(again.reachable());
  CHECK(again.last_error == "10.0.0.5:9092: connection refused");  // the last failure stays on record
}

TEST_CASE("shared backend health: loops record while another thread reads", "[admin][health][threads]") {
  SharedBackendHealth health;
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistent{0};
  std::vector<std::thread> loops;
  for (int t = 0; t < 3; ++t) {
    loops.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        if (t == 2 && i % 100 == 0) {
          health.failed("broker " + std::to_string(i) + " refused");
        } else {
          health.answered();
        }
      }
    });
  }
  std::thread reader([&] {
    while (!stop.load()) {
      const BackendHealth seen = health.read();
      // a failure time always comes with its message
      if ((seen.last_failure_unix_ms == 0) != seen.last_error.empty()) inconsistent++;
    }
  });
  for (auto& loop : loops) loop.join();
  stop.store(true);
  reader.join();

  CHECK(inconsistent.load() == 0);
  const BackendHealth end = health.read();
  CHECK(end.last_success_unix_ms != 0);
  CHECK(end.last_error == "broker 19900 refused");
}
