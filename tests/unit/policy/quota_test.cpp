// Quotas (policy/quota.h): the debt-keeping token bucket, the book of client
// accounts shared by workers, and virtual_clusters[].quotas in the config file.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "config/config.h"
#include "config_tree.h"
#include "policy/quota.h"

using kedge::policy::ClientAccount;
using kedge::policy::kMaxThrottleMs;
using kedge::policy::QuotaBook;
using kedge::policy::RateAccount;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
constexpr std::uint64_t kMiB = 1 << 20;
const RateAccount::Clock::time_point t0 = RateAccount::Clock::time_point{} + 1000s;
}  // namespace

TEST_CASE("a new client may send one second of its rate at once, then waits for what it sends beyond",
          "[quota]") {
  RateAccount account;
  CHECK(account.charge(kMiB / 2, kMiB, t0) == 0);
  CHECK(account.charge(kMiB / 2, kMiB, t0) == 0);  // the whole second's burst, still not in debt
  CHECK(account.charge(kMiB / 4, kMiB, t0) == 250);  // 256 KiB owed at 1 MiB/s
  CHECK(account.owed_ms(kMiB, t0 + 100ms) == 150);   // paid back as time passes
  CHECK(account.owed_ms(kMiB, t0 + 250ms) == 0);
  CHECK_FALSE(account.owes(t0 + 250ms));
}

TEST_CASE("over a long run a client paying its throttles gets its rate plus one second of burst", "[quota]") {
  RateAccount account;
  const std::uint64_t rate = kMiB;
  const std::uint64_t request = 64 * 1024;
  auto now = t0;
  std::uint64_t sent = 0;
  const auto end = t0 + 30s;
  while (now < end) {  // the client sends whenever it is allowed to, as a KIP-219 client does
    sent += request;
    const std::uint32_t wait = account.charge(request, rate, now);
    now += std::chrono::milliseconds(wait == 0 ? 1 : wait);
  }
  const double per_second = static_cast<double>(sent) / 30.0;
  CHECK(per_second >= static_cast<double>(rate));
  CHECK(per_second <= static_cast<double>(rate) * 31.0 / 30.0 + static_cast<double>(request) / 30.0);
}

TEST_CASE("a throttle is bounded; what is owed beyond it is owed on the next request", "[quota]") {
  RateAccount account;
  CHECK(account.charge(kMiB, kMiB, t0) == 0);
  CHECK(account.charge(60 * kMiB, kMiB, t0) == kMaxThrottleMs);
  CHECK(account.owed_ms(kMiB, t0 + 10s) == kMaxThrottleMs);  // 50 s still owed
  CHECK(account.owed_ms(kMiB, t0 + 55s) == 5000);
  CHECK(account.owes(t0 + 55s));
}

TEST_CASE("a rate lowered by a reload lowers the burst at once; the debt stays in bytes", "[quota]") {
  RateAccount account;
  CHECK(account.charge(0, 10 * kMiB, t0) == 0);  // 10 MiB of burst at the old rate
  CHECK(account.charge(kMiB + kMiB / 2, kMiB, t0) == 500);  // at most 1 MiB of it remains
}

TEST_CASE("the book gives every connection of a client the same account, from any thread", "[quota]") {
  QuotaBook book;
  std::vector<std::shared_ptr<ClientAccount>> seen(8);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] { seen[i] = book.account("alice", t0); });
  }
  for (auto& t : threads) t.join();
  for (const auto& account : seen) CHECK(account == seen[0]);
  CHECK(book.account("bob", t0) != seen[0]);
  CHECK(book.size() == 2);
}

TEST_CASE("the book forgets accounts nobody holds and that owe nothing, keeps the others", "[quota]") {
  QuotaBook book;
  auto held = book.account("held", t0);
  auto owing = book.account("owing", t0);
  owing->produce.charge(3 * kMiB, kMiB, t0);  // 2 MiB owed: 2 s
  owing.reset();
  for (std::size_t i = 0; book.size() < QuotaBook::kPruneAbove; ++i) book.account("idle-" + std::to_string(i), t0);
  book.account("newcomer", t0 + 1s);  // prunes: the idle ones go, held and owing stay
  CHECK(book.size() == 3);
  auto again = book.account("owing", t0 + 1s);
  CHECK(again->produce.owed_ms(kMiB, t0 + 1s) == 1000);
}

TEST_CASE("a book of many live clients is scanned at each doubling, not for every new client", "[quota]") {
  QuotaBook book;
  std::vector<std::shared_ptr<ClientAccount>> live;
  for (std::size_t i = 0; i < 3 * QuotaBook::kPruneAbove; ++i) live.push_back(book.account(std::to_string(i), t0));
  CHECK(book.size() == 3 * QuotaBook::kPruneAbove);  // nothing prunable: all held
  live.resize(QuotaBook::kPruneAbove);  // two thirds let go
  for (std::size_t i = 0; book.size() > QuotaBook::kPruneAbove + 1 && i < 2 * QuotaBook::kPruneAbove; ++i) {
    book.account("new-" + std::to_string(i), t0);
  }
  CHECK(book.size() <= QuotaBook::kPruneAbove + 1);  // the next pass (at 4096) forgot the released ones
}

namespace {
json config_with_quotas(const json& quotas) {
  json config = json::parse(R"({
    "listeners": [{"name": "public", "bind": "0.0.0.0:9092", "advertised_port": 9092,
                   "tls": {"cert": "c.pem", "key": "c.key"}}],
    "virtual_clusters": [
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}}
    ]
  })");
  config["virtual_clusters"][0]["quotas"] = quotas;
  return config;
}

struct Tree {
  kedge::config_testing::TempDir dir{"kedge-quota-config"};
  Tree() {
    dir.write("c.pem", "placeholder\n");
    dir.write("c.key", "placeholder\n");
  }
  kedge::Config load(const json& config) const { return kedge::load_config(dir.write("kedge.json", config.dump())); }
  std::string error(const json& config) const {
    return kedge::config_testing::config_error_of([&] { load(config); });
  }
};
}  // namespace

TEST_CASE("quotas in the config: rates for each client, overrides by principal, null for unlimited",
          "[quota][config]") {
  Tree tree;
  const kedge::Config config = tree.load(config_with_quotas(json::parse(R"({
      "produce_bytes_per_second": 1048576, "fetch_bytes_per_second": 4194304,
      "principals": {"etl": {"produce_bytes_per_second": null}, "slow": {"fetch_bytes_per_second": 2048}},
      "connections_per_address": 20, "connections_per_address_per_second": 5, "requests_per_second": 100})")));
  const auto& quotas = config.virtual_clusters[0].quotas;
  REQUIRE(quotas.has_value());
  CHECK(quotas->each_client.produce_bytes_per_second == 1048576u);
  CHECK(quotas->limits_for("someone").fetch_bytes_per_second == 4194304u);
  CHECK(quotas->limits_for("").produce_bytes_per_second == 1048576u);
  CHECK_FALSE(quotas->limits_for("etl").produce_bytes_per_second.has_value());
  CHECK(quotas->limits_for("etl").fetch_bytes_per_second == 4194304u);  // not named: the default
  CHECK(quotas->limits_for("slow").fetch_bytes_per_second == 2048u);
  CHECK(quotas->limits_for("slow").produce_bytes_per_second == 1048576u);
  CHECK(quotas->connections_per_address == 20u);
  CHECK(quotas->limits_for("etl").requests_per_second == 100u);
  CHECK(quotas->connections_per_address_per_second == 5u);
}

TEST_CASE("quota config errors name the field", "[quota][config]") {
  Tree tree;
  CHECK_THAT(tree.error(config_with_quotas(json::parse(R"({"produce_bytes_per_second": 10})"))),
             Catch::Contains("virtual_clusters[0].quotas.produce_bytes_per_second"));
  CHECK_THAT(tree.error(config_with_quotas(json::parse(R"({"produce_bytes_per_second": null})"))),
             Catch::Contains("virtual_clusters[0].quotas.produce_bytes_per_second"));
  CHECK_THAT(tree.error(config_with_quotas(json::parse(R"({"bytes_per_second": 4096})"))),
             Catch::Contains("bytes_per_second"));
  CHECK_THAT(tree.error(config_with_quotas(json::parse(R"({"principals": {"x": {"requests": 3}}})"))),
             Catch::Contains("virtual_clusters[0].quotas.principals.x"));
  CHECK_THAT(tree.error(config_with_quotas(json::parse(R"({"requests_per_second": 0})"))),
             Catch::Contains("virtual_clusters[0].quotas.requests_per_second"));
  CHECK_THAT(tree.error(config_with_quotas(json::parse(R"({"connections_per_address": 0})"))),
             Catch::Contains("virtual_clusters[0].quotas.connections_per_address"));
  CHECK_THAT(tree.error(config_with_quotas(json::parse(R"({"principals": ["x"]})"))),
             Catch::Contains("virtual_clusters[0].quotas.principals"));
}

TEST_CASE("connections per address: a count and a rate, each address on its own", "[quota][connections]") {
  using kedge::policy::ConnectionBook;
  ConnectionBook book;
  using A = ConnectionBook::Admission;
  SECTION("at most N open; a closed one makes room") {
    CHECK(book.admit("10.0.0.1", 2, std::nullopt, t0) == A::admitted);
    CHECK(book.admit("10.0.0.1", 2, std::nullopt, t0) == A::admitted);
    CHECK(book.admit("10.0.0.1", 2, std::nullopt, t0) == A::too_many);
    CHECK(book.admit("10.0.0.2", 2, std::nullopt, t0) == A::admitted);  // another address
    book.release("10.0.0.1", t0);
    CHECK(book.open("10.0.0.1") == 1);
    CHECK(book.admit("10.0.0.1", 2, std::nullopt, t0) == A::admitted);
  }
  SECTION("at most R new per second after a second's burst; refused attempts are not charged") {
    for (int i = 0; i < 5; ++i) {
      CHECK(book.admit("10.0.0.1", std::nullopt, 5, t0) == A::admitted);
      book.release("10.0.0.1", t0);
    }
    CHECK(book.admit("10.0.0.1", std::nullopt, 5, t0) == A::too_fast);
    CHECK(book.admit("10.0.0.1", std::nullopt, 5, t0 + 100ms) == A::too_fast);
    CHECK(book.admit("10.0.0.1", std::nullopt, 5, t0 + 200ms) == A::admitted);  // one earned back
    CHECK(book.admit("10.0.0.1", std::nullopt, 5, t0 + 200ms) == A::too_fast);
  }
  SECTION("an address that closed everything and rested is forgotten") {
    CHECK(book.admit("10.0.0.1", 3, 5, t0) == A::admitted);
    book.release("10.0.0.1", t0 + 1s);
    CHECK(book.size() == 0);
  }
  SECTION("one that connects and closes in a loop is remembered, so its rate holds") {
    CHECK(book.admit("10.0.0.1", 3, 5, t0) == A::admitted);
    book.release("10.0.0.1", t0);
    CHECK(book.size() == 1);
  }
}
