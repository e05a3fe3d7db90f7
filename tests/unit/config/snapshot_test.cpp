// build_snapshot hands each virtual cluster's BackendState (shared broker
// registry and readiness evidence) on to the next generation exactly when the
// cluster keeps its name and backend (same_backend).
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "config/snapshot.h"

namespace {

kedge::VirtualClusterConfig cluster(const std::string& name, const std::string& bootstrap_host) {
  kedge::VirtualClusterConfig vc;
  vc.name = name;
  vc.format = kedge::sni::HostnameFormat::shared_suffix;
  vc.domain = "kafka.example.com";
  vc.backend.bootstrap_servers = {kedge::HostPort{bootstrap_host, 9092}};
  return vc;
}

kedge::Config two_clusters() {
  kedge::Config config;
  config.virtual_clusters = {cluster("alpha", "10.0.0.5"), cluster("beta", "10.0.1.5")};
  return config;
}

}  // namespace

TEST_CASE("a cluster keeps its backend state across generations while its name and backend stay",
          "[snapshot]") {
  const auto first = kedge::build_snapshot(two_clusters(), 1);
  REQUIRE(first->clusters.size() == 2);
  REQUIRE(first->clusters[0]->backend_state);
  REQUIRE(first->clusters[0]->backend_state != first->clusters[1]->backend_state);
  kedge::BrokerRegistry::Handle worker(first->clusters[0]->backend_state->registry);
  REQUIRE(worker.learn(1, "10.0.0.11", 9092, kedge::LearnedFrom{3, 12}, 1));

  SECTION("an identical reload shares every state, and what was learned stays known") {
    const auto second = kedge::build_snapshot(two_clusters(), 2, first.get());
    CHECK(second->clusters[0]->backend_state == first->clusters[0]->backend_state);
    CHECK(second->clusters[1]->backend_state == first->clusters[1]->backend_state);
    kedge::BrokerRegistry::Handle next_worker(second->clusters[0]->backend_state->registry);
    CHECK(next_worker.find(1) == kedge::HostPort{"10.0.0.11", 9092});
  }
  SECTION("reordered clusters are matched by name") {
    kedge::Config config = two_clusters();
    std::swap(config.virtual_clusters[0], config.virtual_clusters[1]);
    const auto second = kedge::build_snapshot(config, 2, first.get());
    CHECK(second->clusters[0]->backend_state == first->clusters[1]->backend_state);
    CHECK(second->clusters[1]->backend_state == first->clusters[0]->backend_state);
  }
  SECTION("kedge's own discovery credentials are not part of the backend") {
    kedge::Config config = two_clusters();
    config.virtual_clusters[0].backend.discovery_sasl =
        kedge::SaslCredentials{kedge::SaslMechanism::plain, "kedge", "kedge.password", "secret"};
    const auto second = kedge::build_snapshot(config, 2, first.get());
    CHECK(second->clusters[0]->backend_state == first->clusters[0]->backend_state);
  }
  SECTION("a re-pointed backend starts empty; the other cluster keeps its state") {
    kedge::Config config = two_clusters();
    config.virtual_clusters[0].backend.bootstrap_servers = {kedge::HostPort{"10.9.9.9", 9092}};
    const auto second = kedge::build_snapshot(config, 2, first.get());
    CHECK(second->clusters[0]->backend_state != first->clusters[0]->backend_state);
    CHECK(second->clusters[0]->backend_state->registry.brokers()->empty());
    CHECK(second->clusters[1]->backend_state == first->clusters[1]->backend_state);
  }
  SECTION("a renamed cluster starts empty") {
    kedge::Config config = two_clusters();
    config.virtual_clusters[0].name = "gamma";
    const auto second = kedge::build_snapshot(config, 2, first.get());
    CHECK(second->clusters[0]->backend_state != first->clusters[0]->backend_state);
  }
  SECTION("without a previous generation every cluster starts empty") {
    const auto fresh = kedge::build_snapshot(two_clusters(), 1);
    CHECK(fresh->clusters[0]->backend_state != first->clusters[0]->backend_state);
    CHECK(fresh->clusters[0]->backend_state->registry.brokers()->empty());
  }
}

TEST_CASE("the audit log is carried across generations while its path stays, and reopened", "[snapshot][audit]") {
  char pattern[] = "/tmp/kedge-snapshot-audit-XXXXXX";
  REQUIRE(mkdtemp(pattern) != nullptr);
  const std::string dir = pattern;
  kedge::Config config = two_clusters();
  config.audit = kedge::AuditConfig{dir + "/audit.jsonl"};
  const auto first = kedge::build_snapshot(config, 1);
  REQUIRE(first->audit_log != nullptr);
  first->audit_log->append("one");
  // A reload with the same path keeps the writer and reopens it: a file moved away is replaced.
  REQUIRE(std::rename((dir + "/audit.jsonl").c_str(), (dir + "/audit.jsonl.1").c_str()) == 0);
  const auto second = kedge::build_snapshot(config, 2, first.get());
  CHECK(second->audit_log == first->audit_log);
  second->audit_log->append("two");
  CHECK(std::filesystem::file_size(dir + "/audit.jsonl") == 4);  // "two\n" in the new file
  // Another path: a new writer; none configured: none.
  kedge::Config moved = config;
  moved.audit = kedge::AuditConfig{dir + "/other.jsonl"};
  const auto third = kedge::build_snapshot(moved, 3, second.get());
  CHECK(third->audit_log != second->audit_log);
  CHECK(third->audit_log->path() == dir + "/other.jsonl");
  CHECK(kedge::build_snapshot(two_clusters(), 4, third.get())->audit_log == nullptr);
  // A path that cannot be opened fails the generation, naming the key.
  kedge::Config broken = config;
  broken.audit = kedge::AuditConfig{dir + "/missing/audit.jsonl"};
  try {
    (void)kedge::build_snapshot(broken, 5, third.get());
    FAIL("no error");
  } catch (const kedge::ConfigError& error) {
    CHECK(std::string(error.what()).starts_with("audit.file: cannot open the audit log " + dir + "/missing/audit.jsonl"));
  }
  std::filesystem::remove_all(dir);
}
