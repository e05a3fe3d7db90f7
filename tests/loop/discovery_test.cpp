// Discovery on upstream::KafkaClient against scripted brokers over loopback:
// the negotiated Metadata version, waiters sharing one exchange, the next
// bootstrap server after a failure, cancel(), and the backend.tls context
// outliving the snapshot that built it (a reload keeps the Discovery).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "cert_fixture.h"
#include "certs/tls_context.h"
#include "loop_broker.h"
#include "upstream/discovery.h"

using namespace kedge;
using kedge::loop_test::BrokerConnection;
using kedge::loop_test::ScriptedBroker;

namespace {

struct Outcome {
  bool ok = false;
  std::string detail;
};

BackendConfig backend_of(std::vector<HostPort> servers) {
  BackendConfig backend;
  backend.bootstrap_servers = std::move(servers);
  return backend;
}

// A broker that offers Metadata v0..v2 and lists brokers 1..3 at b<id>.internal:9092.
ScriptedBroker::Script listing_broker() {
  return [](BrokerConnection& c) {
    if (!loop_test::answer_api_versions(c, loop_test::rdkafka_2_0_2_ranges())) return;
    std::int16_t version = -1;
    loop_test::answer_metadata(c, {{1, "b1.internal", 9092}, {2, "b2.internal", 9092}, {3, "b3.internal", 9092}},
                               &version);
    if (version != 2) c.note("Metadata v" + std::to_string(version) + ", not v2");
  };
}

struct Fixture : loop_test::TestLoop {
  BrokerRegistry registry;
  BrokerRegistry::Handle handle{registry};
};

}  // namespace

TEST_CASE("discovery asks ApiVersions, then Metadata v2 of a v0..v2 broker, waiters share it",
          "[loop][discovery]") {
  ScriptedBroker broker(listing_broker());
  Fixture f;
  std::vector<Outcome> outcomes;
  {
    Discovery discovery(&f.loop, f.scratch, nullptr, "alpha", backend_of({broker.address()}), f.handle, 1 << 20, 5000);
    for (int i = 0; i < 2; ++i) discovery.refresh([&](bool ok, std::string detail) { outcomes.push_back({ok, detail}); });
    CHECK(f.run());
  }
  broker.stop();
  CHECK(broker.notes().empty());
  CHECK(broker.connections() == 1);  // one exchange for both waiters
  REQUIRE(outcomes.size() == 2);
  for (const Outcome& outcome : outcomes) {
    CHECK(outcome.ok);
    CHECK(outcome.detail == "1=b1.internal:9092, 2=b2.internal:9092, 3=b3.internal:9092");
  }
  CHECK(f.handle.find(2) == std::optional<HostPort>(HostPort{"b2.internal", 9092}));
}

TEST_CASE("discovery tries the next bootstrap server, every failure names its cause", "[loop][discovery]") {
  Fixture f;
  const HostPort refused{"127.0.0.1", loop_test::closed_port()};
  SECTION("refused, then a server that answers") {
    ScriptedBroker broker(listing_broker());
    Outcome outcome;
    {
      Discovery discovery(&f.loop, f.scratch, nullptr, "alpha", backend_of({refused, broker.address()}), f.handle,
                          1 << 20, 5000);
      discovery.refresh([&](bool ok, std::string detail) { outcome = {ok, detail}; });
      CHECK(f.run());
    }
    broker.stop();
    CHECK(outcome.ok);
    CHECK(f.handle.find(3).has_value());
  }
  SECTION("no server answers Metadata: the last one's error") {
    ScriptedBroker closes_on_metadata([](BrokerConnection& c) {
      if (!loop_test::answer_api_versions(c, loop_test::rdkafka_2_0_2_ranges())) return;
      c.read_request();
    });
    Outcome outcome;
    {
      Discovery discovery(&f.loop, f.scratch, nullptr, "alpha", backend_of({refused, closes_on_metadata.address()}),
                          f.handle, 1 << 20, 5000);
      discovery.refresh([&](bool ok, std::string detail) { outcome = {ok, detail}; });
      CHECK(f.run());
    }
    closes_on_metadata.stop();
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.detail == closes_on_metadata.address().to_string() +
                                ": the broker answered ApiVersions, then closed the connection without answering "
                                "Metadata v2 (a listener that requires SASL authentication? see "
                                "backend.discovery.sasl)");
    CHECK_FALSE(f.handle.find(1).has_value());
  }
}

TEST_CASE("discovery cancel() and destruction with an exchange in flight", "[loop][discovery]") {
  ScriptedBroker silent([](BrokerConnection& c) { c.wait_for_close(); });
  Fixture f;
  std::vector<Outcome> outcomes;
  auto discovery = std::make_unique<Discovery>(&f.loop, f.scratch, nullptr, "alpha", backend_of({silent.address()}),
                                               f.handle, 1 << 20, 5000);
  discovery->refresh([&](bool ok, std::string detail) { outcomes.push_back({ok, detail}); });
  uv_run(&f.loop, UV_RUN_NOWAIT);  // connecting

  SECTION("cancel(): the waiters hear it at once, the client closes afterwards") {
    discovery->cancel();
    REQUIRE(outcomes.size() == 1);
    CHECK_FALSE(outcomes[0].ok);
    CHECK(outcomes[0].detail == "kedge is shutting down");
    CHECK(f.run());
  }
  SECTION("destroyed: the client is freed once closed, no waiter is called") {
    discovery.reset();
    CHECK(f.run());
    CHECK(outcomes.empty());
  }
  silent.stop();
}

TEST_CASE("discovery keeps the backend.tls context alive across a reload", "[loop][discovery][tls]") {
  loop_test::TlsBroker tls;
  ScriptedBroker broker(listing_broker(), tls.server.get());
  const certs::testing::CertTree& tree = tls.tree;
  BackendConfig backend = backend_of({broker.address()});
  backend.tls = UpstreamTlsConfig{tree / "ca.pem", std::nullopt, std::string("b1.kafka.example.com"), true};
  const auto client_context = [&] {
    return certs::make_client_context({tree / "ca.pem", std::nullopt, std::nullopt, true});
  };
  Fixture f;
  std::vector<Outcome> outcomes;
  const auto record = [&](bool ok, std::string detail) { outcomes.push_back({ok, detail}); };
  {
    // The first snapshot's context is freed (a reload with the same backend) while discovery keeps going.
    certs::SslCtxPtr first = client_context();
    Discovery discovery(&f.loop, f.scratch, nullptr, "alpha", backend, f.handle, 1 << 20, 5000, first.get());
    first.reset();
    discovery.refresh(record);
    CHECK(f.run());
    // The reload hands over its own context, which is freed in turn.
    certs::SslCtxPtr second = client_context();
    discovery.set_upstream_tls(second.get());
    second.reset();
    discovery.refresh(record);
    CHECK(f.run());
  }
  broker.stop();
  CHECK(broker.notes().empty());
  CHECK(broker.tls_accept_error().empty());
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].ok);
  CHECK(outcomes[1].ok);
  CHECK(f.handle.find(1) == std::optional<HostPort>(HostPort{"b1.internal", 9092}));
}
