// upstream::KafkaClient over real loopback sockets against a scripted broker
// (loop_broker.h): a fresh uv_loop_t per test, the broker on 127.0.0.1 port 0
// on its own thread. Each failure must come back as one clear error value.
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cert_fixture.h"
#include "certs/tls_context.h"
#include "kafka_codec/client.h"
#include "loop_broker.h"
#include "upstream/kafka_client.h"

using namespace kedge;
using kedge::loop_test::BrokerConnection;
using kedge::test::Bytes;
using kedge::loop_test::ScriptedBroker;
using kedge::test::Builder;
using kedge::upstream::KafkaClient;
using kedge::upstream::KafkaClientError;
using kedge::upstream::LinkErrc;

namespace {

KafkaSessionOptions session_options() {
  KafkaSessionOptions o;
  o.client_id = "kedge-loop-test";
  o.max_frame_bytes = 1 << 20;
  return o;
}

// What one client did, from connect() until the loop had nothing left to run.
struct ClientRun {
  bool ready = false;
  std::int16_t api_versions_version = -1;
  std::int16_t metadata_version = -1;
  std::vector<kafka::BrokerEndpoint> brokers;
  std::optional<KafkaClientError> error;
  std::vector<std::string> attempts;  // "host:port: text" per failed attempt
  bool closed = false;
  bool loop_closed = false;  // the loop ran out of work with no handle left open
};

// Connects, asks Metadata once ready, closes after the answer or the failure.
ClientRun run_client(std::vector<HostPort> candidates, upstream::LinkSettings link = {},
                     KafkaSessionOptions session = session_options(), std::uint32_t deadline_ms = 5000) {
  loop_test::TestLoop loop;
  ClientRun run;
  std::unique_ptr<KafkaClient> client;
  KafkaClient::Callbacks callbacks;
  callbacks.on_ready = [&] {
    run.ready = true;
    run.api_versions_version = client->session().api_versions_version();
    const auto failed = client->request(
        kafka::ApiKey::metadata, kafka::kMetadataRequestVersions.hi, kafka::encode_metadata_request_no_topics,
        [&](const KafkaSession::Response& response) {
          run.metadata_version = response.request.api_version;
          kafka::read_metadata_brokers(response.frame, response.body_begin, response.request.api_version,
                                       run.brokers);
          client->close();
        });
    if (failed) {
      run.error = *failed;
      client->close();
    }
  };
  callbacks.on_failed = [&](const KafkaClientError& error) {
    run.error = error;
    client->close();
  };
  callbacks.on_attempt_failed = [&](const HostPort& target, const upstream::LinkError& error) {
    run.attempts.push_back(target.to_string() + ": " + error.text());
  };
  callbacks.on_closed = [&] { run.closed = true; };
  client = std::make_unique<KafkaClient>(&loop.loop, loop.scratch, nullptr, std::move(callbacks));
  client->connect(std::move(candidates), 0, link, std::move(session), deadline_ms);
  run.loop_closed = loop.run();
  return run;
}

std::string text_of(const ClientRun& run) { return run.error ? run.error->text() : std::string("<no error>"); }

// ApiVersions as librdkafka 2.0.2's mock offers it, then one Metadata answer listing this broker as 1.
void metadata_v2_broker(BrokerConnection& c) {
  if (!loop_test::answer_api_versions(c, loop_test::rdkafka_2_0_2_ranges())) return;
  loop_test::answer_metadata(c, {{1, "127.0.0.1", c.broker_port()}, {2, "b2.internal", 9093}});
}

// A broker that refuses the first ApiVersions request (v3) with `refusal`, an
// error-35 body, expects the retry at `retry_version`, then serves Metadata
// v0..v`metadata_max` listing one broker; the client asks Metadata once ready.
ClientRun run_api_versions_fallback(const Bytes& refusal, std::int16_t retry_version, int metadata_max) {
  ScriptedBroker broker([&](BrokerConnection& c) {
    const auto first = c.read_request();
    if (!first || first->api_key != 18 || first->version != 3) return c.note("expected ApiVersions v3 first");
    c.send(test::answer(first->correlation_id, refusal));
    const auto retry = c.read_request();
    if (!retry || retry->api_key != 18 || retry->version != retry_version) return c.note("unexpected retry");
    c.send(test::answer(*retry, test::api_versions_body(retry_version, {{18, 0, 2}, {3, 0, metadata_max}})));
    loop_test::answer_metadata(c, {{7, "b7", 9092}});
  });
  ClientRun run = run_client({broker.address()});
  broker.stop();
  INFO(text_of(run));
  CHECK(broker.notes().empty());
  CHECK(run.brokers.size() == 1);
  return run;
}

}  // namespace

TEST_CASE("Metadata at the highest version both sides support (librdkafka 2.0.2's v0..v2)", "[loop][client]") {
  ScriptedBroker broker(metadata_v2_broker);
  const ClientRun run = run_client({broker.address()});
  broker.stop();
  INFO(text_of(run));
  CHECK_FALSE(run.error);
  CHECK(run.ready);
  CHECK(run.api_versions_version == 3);
  CHECK(run.metadata_version == 2);
  REQUIRE(run.brokers.size() == 2);
  CHECK(run.brokers[0].port == broker.port());
  CHECK(run.brokers[1].host == "b2.internal");
  CHECK(run.closed);
  CHECK(run.loop_closed);
  CHECK(broker.notes().empty());
}

TEST_CASE("ApiVersions UNSUPPORTED_VERSION falls back to what the v0-layout answer offers", "[loop][client]") {
  SECTION("error 35 listing ApiVersions 0..2: retry at v2") {
    const ClientRun run = run_api_versions_fallback(test::api_versions_body(0, {{18, 0, 2}}, 35), 2, 2);
    CHECK(run.api_versions_version == 2);
    CHECK(run.metadata_version == 2);
  }
  SECTION("error 35 in a body neither layout fits (librdkafka's mock): retry at v0") {
    Builder mock;  // golden api_versions.v3.librdkafka_mock_error35
    mock.i16(35).i8(1).i16(18).i16(0).i16(2).i8(0).i32(0);
    const ClientRun run = run_api_versions_fallback(mock.b, 0, 1);
    CHECK(run.api_versions_version == 0);
    CHECK(run.metadata_version == 1);
  }
}

TEST_CASE("the broker closes in the middle of a response", "[loop][client]") {
  ScriptedBroker broker([](BrokerConnection& c) {
    const auto request = c.read_request();
    if (!request) return c.note("no ApiVersions request");
    const Bytes whole = test::answer(*request, test::api_versions_body(request->version, test::modern_ranges()));
    c.send(Bytes(whole.begin(), whole.begin() + 10));  // then the script ends: the socket closes
  });
  const ClientRun run = run_client({broker.address()});
  broker.stop();
  REQUIRE(run.error);
  REQUIRE(run.error->session());
  CHECK(run.error->session()->cause == SessionFailure::connection_closed);
  CHECK_THAT(run.error->text(), Catch::StartsWith("the broker closed the connection in the middle of a response (10 of "));
  CHECK_FALSE(run.ready);
  CHECK(run.closed);
  CHECK(run.loop_closed);
}

TEST_CASE("a response frame larger than limits.max_frame_bytes", "[loop][client]") {
  ScriptedBroker broker([](BrokerConnection& c) {
    const auto request = c.read_request();
    if (!request) return c.note("no ApiVersions request");
    c.send(Builder().i32(2 << 20).i32(request->correlation_id).b);  // announces 2 MiB, sends 4 bytes of it
    c.wait_for_close();
  });
  KafkaSessionOptions session = session_options();
  session.max_frame_bytes = 64 * 1024;
  const ClientRun run = run_client({broker.address()}, {}, session);
  broker.stop();
  REQUIRE(run.error);
  REQUIRE(run.error->session());
  CHECK(run.error->session()->cause == SessionFailure::frame_too_large);
  CHECK(run.error->text() == "response frame of 2097152 bytes exceeds limits.max_frame_bytes (65536)");
  CHECK(run.loop_closed);
}

TEST_CASE("SASL refused with error 58 and the broker's message", "[loop][client][sasl]") {
  ScriptedBroker broker([](BrokerConnection& c) {
    if (!loop_test::answer_api_versions(c, test::modern_ranges())) return;
    const auto handshake = c.read_request();
    if (!handshake || handshake->api_key != 17) return c.note("expected SaslHandshake");
    c.send(test::answer(*handshake, test::handshake_body(0, {"PLAIN"})));
    const auto authenticate = c.read_request();
    if (!authenticate || authenticate->api_key != 36) return c.note("expected SaslAuthenticate");
    c.send(test::answer(*authenticate,
                        test::authenticate_body(authenticate->version, 58, "Invalid username or password", "")));
    c.wait_for_close();
  });
  KafkaSessionOptions session = session_options();
  session.sasl = SaslCredentials{SaslMechanism::plain, "alice", {}, "s3cret-pw"};
  const ClientRun run = run_client({broker.address()}, {}, session);
  broker.stop();
  CHECK(broker.notes().empty());
  REQUIRE(run.error);
  REQUIRE(run.error->session());
  CHECK(run.error->session()->cause == SessionFailure::sasl_authentication_failed);
  CHECK(run.error->text() == "SASL authentication failed: Invalid username or password");
  CHECK(run.error->text().find("s3cret-pw") == std::string::npos);
  CHECK_FALSE(run.ready);
}

TEST_CASE("backend TLS, verified and refused", "[loop][client][tls]") {
  loop_test::TlsBroker tls;
  ScriptedBroker broker(metadata_v2_broker, tls.server.get());
  // Dialled as 127.0.0.1, verified as `name` against the CA file `ca` of make_certs.sh's tree.
  const auto run_tls = [&](const char* ca, const std::string& name) {
    const certs::SslCtxPtr client = certs::make_client_context({tls.tree / ca, std::nullopt, std::nullopt, true});
    upstream::LinkSettings link;
    link.tls = client.get();
    link.tls_server_name = name;
    ClientRun run = run_client({broker.address()}, link);
    broker.stop();
    INFO(text_of(run));
    CHECK(run.loop_closed);
    return run;
  };
  // kedge's side refused the broker's certificate: the link's error, the session never started.
  const auto check_verify_failed = [](const ClientRun& run) {
    REQUIRE(run.error);
    REQUIRE(run.error->link());
    CHECK(run.error->link()->code == LinkErrc::tls_handshake_failed);
    CHECK_THAT(run.error->text(), Catch::StartsWith("TLS handshake with the broker failed: "));
    CHECK_THAT(run.error->text(), Catch::Contains("certificate verify failed"));
    CHECK_FALSE(run.ready);
    CHECK(run.attempts.size() == 1);
  };

  SECTION("a certificate from the configured CA, for the name asked: Metadata over TLS") {
    const ClientRun run = run_tls("ca.pem", "b1.kafka.example.com");  // the leaf covers *.kafka.example.com
    CHECK_FALSE(run.error);
    CHECK(run.metadata_version == 2);
    CHECK(run.brokers.size() == 2);
  }
  SECTION("a server certificate from another CA") {
    check_verify_failed(run_tls("wrong-ca.pem", "b1.kafka.example.com"));
  }
  SECTION("a certificate for another name") {
    const ClientRun run = run_tls("ca.pem", "broker.kafka.example.org");
    check_verify_failed(run);
    CHECK_THAT(run.error->text(), Catch::Contains("hostname mismatch") || Catch::Contains("Hostname mismatch"));
  }
}

TEST_CASE("a refused candidate, then the next one answers", "[loop][client]") {
  ScriptedBroker broker(metadata_v2_broker);
  const HostPort refused{"127.0.0.1", loop_test::closed_port()};
  const ClientRun run = run_client({refused, broker.address()});
  broker.stop();
  INFO(text_of(run));
  CHECK_FALSE(run.error);
  REQUIRE(run.attempts.size() == 1);
  CHECK_THAT(run.attempts[0], Catch::StartsWith(refused.to_string() + ": cannot connect: connection refused"));
  CHECK(run.metadata_version == 2);
  CHECK(broker.connections() == 1);

  SECTION("every candidate refused: the last attempt's error") {
    const ClientRun none = run_client({refused, HostPort{"127.0.0.1", loop_test::closed_port()}});
    REQUIRE(none.error);
    REQUIRE(none.error->link());
    CHECK(none.error->link()->code == LinkErrc::connect_failed);
    CHECK_THAT(none.error->text(), Catch::StartsWith("cannot connect: connection refused"));
    CHECK(none.attempts.size() == 2);
    CHECK(none.loop_closed);
  }
}

TEST_CASE("no answer within the deadline names what was pending", "[loop][client]") {
  SECTION("the ApiVersions response") {
    ScriptedBroker broker([](BrokerConnection& c) { c.wait_for_close(); });
    const ClientRun run = run_client({broker.address()}, {}, session_options(), 300);
    broker.stop();
    REQUIRE(run.error);
    REQUIRE(run.error->timeout());
    CHECK(run.error->text() == "no answer within 300 ms (waiting for the ApiVersions response)");
    CHECK(run.closed);
    CHECK(run.loop_closed);
  }
  SECTION("the Metadata response") {
    ScriptedBroker broker([](BrokerConnection& c) {
      if (!loop_test::answer_api_versions(c, loop_test::rdkafka_2_0_2_ranges())) return;
      c.wait_for_close();
    });
    const ClientRun run = run_client({broker.address()}, {}, session_options(), 300);
    broker.stop();
    REQUIRE(run.error);
    CHECK(run.error->text() == "no answer within 300 ms (waiting for the Metadata v2 response)");
  }
}

TEST_CASE("the broker answers ApiVersions, then closes on Metadata", "[loop][client]") {
  // What librdkafka 2.0.2's mock does to the Metadata v4 discovery used to send unasked,
  // and what a SASL-only listener does to any request before authentication.
  ScriptedBroker broker([](BrokerConnection& c) {
    if (!loop_test::answer_api_versions(c, loop_test::rdkafka_2_0_2_ranges())) return;
    c.read_request();
  });
  const ClientRun run = run_client({broker.address()});
  broker.stop();
  REQUIRE(run.error);
  REQUIRE(run.error->session());
  CHECK(run.error->text() ==
        "the broker answered ApiVersions, then closed the connection without answering Metadata v2 (a listener that "
        "requires SASL authentication? see backend.discovery.sasl)");
  CHECK(run.ready);
}

TEST_CASE("pipelined requests are answered in order, one callback each", "[loop][client]") {
  ScriptedBroker broker([](BrokerConnection& c) {
    if (!loop_test::answer_api_versions(c, test::modern_ranges())) return;
    const auto first = c.read_request();
    const auto second = c.read_request();
    if (!first || !second) return c.note("expected two requests");
    Bytes both = test::answer(*first, test::metadata_body(first->version, {{1, "a", 1}}));
    const Bytes other = test::answer(*second, test::metadata_body(second->version, {{2, "b", 2}}));
    both.insert(both.end(), other.begin(), other.end());
    c.send(both);  // one write: both responses in one read
    c.wait_for_close();
  });
  loop_test::TestLoop loop;
  std::vector<std::string> answered;
  std::unique_ptr<KafkaClient> client;
  KafkaClient::Callbacks callbacks;
  callbacks.on_ready = [&] {
    for (const std::int16_t version : {std::int16_t{4}, std::int16_t{12}}) {
      const auto failed = client->request(
          kafka::ApiKey::metadata, version, kafka::encode_metadata_request_no_topics,
          [&](const KafkaSession::Response& response) {
            std::vector<kafka::BrokerEndpoint> brokers;
            kafka::read_metadata_brokers(response.frame, response.body_begin, response.request.api_version, brokers);
            answered.push_back(fmt::format("v{} {}", response.request.api_version,
                                           brokers.empty() ? std::string("?") : brokers[0].host));
            if (answered.size() == 2) client->close();
          });
      CHECK_FALSE(failed);
    }
  };
  callbacks.on_failed = [&](const KafkaClientError& error) {
    FAIL_CHECK(error.text());
    client->close();
  };
  client = std::make_unique<KafkaClient>(&loop.loop, loop.scratch, nullptr, std::move(callbacks));
  client->connect({broker.address()}, 0, {}, session_options(), 5000);
  CHECK(loop.run());
  broker.stop();
  CHECK(answered == std::vector<std::string>{"v4 a", "v12 b"});
}

TEST_CASE("lifetime: close, dispose, no candidates, requests before ready", "[loop][client]") {
  loop_test::TestLoop loop;
  std::vector<std::string> calls;
  std::unique_ptr<KafkaClient> client;
  // A client whose callbacks record what they were called with (closing on a failure).
  KafkaClient::Callbacks callbacks;
  callbacks.on_ready = [&] { calls.push_back("ready"); };
  callbacks.on_failed = [&](const KafkaClientError& error) {
    calls.push_back("failed: " + error.text());
    client->close();
  };
  callbacks.on_attempt_failed = [&](const HostPort&, const upstream::LinkError&) { calls.push_back("attempt"); };
  callbacks.on_closed = [&] { calls.push_back("closed"); };
  client = std::make_unique<KafkaClient>(&loop.loop, loop.scratch, nullptr, callbacks);
  ScriptedBroker broker([](BrokerConnection& c) { c.wait_for_close(); });

  SECTION("never connected: no callback, freed at once") {
    client->close();
    CHECK(client->state() == KafkaClient::State::closed);
    client.reset();
  }
  SECTION("closed right after connect(): only on_closed, after close() returned") {
    client->connect({broker.address()}, 0, {}, session_options(), 5000);
    const auto refused = client->request(kafka::ApiKey::metadata, 12, kafka::encode_metadata_request_no_topics, {});
    REQUIRE(refused);
    CHECK(refused->session()->cause == SessionFailure::not_ready);
    client->close();
    CHECK(calls.empty());
    CHECK(loop.run());
    CHECK(calls == std::vector<std::string>{"closed"});
    client.reset();
  }
  SECTION("disposed of while connecting: freed once closed, no callback at all") {
    client->connect({broker.address()}, 0, {}, session_options(), 5000);
    uv_run(&loop.loop, UV_RUN_NOWAIT);  // the link starts connecting
    KafkaClient::dispose(std::move(client));
    CHECK(loop.run());
    CHECK(calls.empty());
  }
  SECTION("no candidates: fails on the next loop turn, not inside connect()") {
    client->connect({}, 0, {}, session_options(), 5000);
    CHECK(calls.empty());
    CHECK(loop.run());
    CHECK(calls == std::vector<std::string>{"failed: cannot connect: no broker address to connect to", "closed"});
    client.reset();
  }
}
