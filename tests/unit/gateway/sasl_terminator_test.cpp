// SaslTerminator: the client side is real (kedge's SCRAM client, RFC 4616 PLAIN messages, tokens signed
// with keys generated per run); frames go through the codec both ways, as on a connection.
#include "gateway/sasl_terminator.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "identity/plain.h"
#include "identity_fixture.h"
#include "jose_fixture.h"
#include "kafka_codec/client.h"
#include "kafka_codec/sasl.h"
#include "upstream/sasl_client.h"

namespace kedge {
namespace {

using identity::testing::rfc_store;

constexpr std::int64_t kNowMs = 1'800'000'000'000;  // 2027-01-15, a fixed wall clock

std::shared_ptr<ClientAuthentication> settings_for(std::vector<TerminatedMechanism> mechanisms,
                                                   std::vector<std::string> principals = {"*"},
                                                   std::uint64_t lifetime_ms = 0) {
  auto s = std::make_shared<ClientAuthentication>();
  s->config.mode = AuthenticationMode::terminate;
  s->config.sasl = SaslTerminationConfig{};
  s->config.sasl->mechanisms = std::move(mechanisms);
  s->config.sasl->session_lifetime_ms = lifetime_ms;
  s->users = std::make_shared<const identity::UserStore>(rfc_store());
  s->binding = identity::PrincipalBinding::parse(principals);
  return s;
}

SaslTerminator terminator(std::shared_ptr<const ClientAuthentication> settings) {
  return SaslTerminator(std::move(settings), "alpha");
}

struct Request {
  kafka::RequestInfo info;
  std::vector<std::uint8_t> frame;
};

Request handshake(std::int32_t correlation_id, std::string_view mechanism, std::int16_t version = 1) {
  return {{17, version, correlation_id, true},
          kafka::encode_request_frame(17, version, correlation_id, "test",
                                      kafka::encode_sasl_handshake_request(mechanism))};
}

Request authenticate(std::int32_t correlation_id, std::string_view bytes, std::int16_t version = 2) {
  const std::span<const std::uint8_t> auth(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return {{36, version, correlation_id, true},
          kafka::encode_request_frame(36, version, correlation_id, "test",
                                      kafka::encode_sasl_authenticate_request(version, auth))};
}

// A KIP-43 token after SaslHandshake v0 `handshake_cid`, as RequestTracker hands it over.
Request unframed_token(std::int32_t handshake_cid, std::string_view token) {
  return {{36, 0, handshake_cid, true, true}, kafka::encode_unframed_sasl_token(token)};
}

SaslTerminator::Reply reply_of(SaslTerminator::Step step) {
  REQUIRE(std::holds_alternative<SaslTerminator::Reply>(step));
  return std::get<SaslTerminator::Reply>(std::move(step));
}

kafka::SaslHandshakeAnswer handshake_answer(const SaslTerminator::Reply& reply, std::int32_t correlation_id) {
  std::int32_t cid = -1;
  std::size_t body = 0;
  REQUIRE(kafka::read_response_header(reply.frame, 17, 1, cid, body));
  CHECK(cid == correlation_id);
  kafka::SaslHandshakeAnswer answer;
  REQUIRE(kafka::decode_sasl_handshake_response(reply.frame, body, 1, answer));
  return answer;
}

kafka::SaslAuthenticateAnswer authenticate_answer(const SaslTerminator::Reply& reply, std::int32_t correlation_id,
                                                  std::int16_t version = 2) {
  std::int32_t cid = -1;
  std::size_t body = 0;
  REQUIRE(kafka::read_response_header(reply.frame, 36, version, cid, body));
  CHECK(cid == correlation_id);
  kafka::SaslAuthenticateAnswer answer;
  REQUIRE(kafka::decode_sasl_authenticate_response(reply.frame, body, version, answer));
  return answer;
}

// The token of an unframed reply: int32 size, then exactly that many bytes.
std::string token_of(const SaslTerminator::Reply& reply) {
  REQUIRE(reply.frame.size() >= 4);
  const std::size_t size = (std::size_t{reply.frame[0]} << 24) | (std::size_t{reply.frame[1]} << 16) |
                           (std::size_t{reply.frame[2]} << 8) | reply.frame[3];
  REQUIRE(size == reply.frame.size() - 4);
  return std::string(reply.frame.begin() + 4, reply.frame.end());
}

// A whole SCRAM conversation with kedge's SCRAM client; returns the last reply.
SaslTerminator::Reply scram_login(SaslTerminator& server, scram::Hash hash, const std::string& user,
                                  const std::string& password, std::int32_t first_cid = 1) {
  const std::string mechanism(scram::mechanism_name(hash));
  const auto hs = reply_of(server.on_request(handshake(first_cid, mechanism).info,
                                             handshake(first_cid, mechanism).frame, kNowMs));
  REQUIRE_FALSE(hs.close_after);
  CHECK(handshake_answer(hs, first_cid).error_code == 0);
  sasl::ScramClient client(hash, user, password, scram::random_nonce());
  Request first = authenticate(first_cid + 1, client.client_first());
  const auto challenge = reply_of(server.on_request(first.info, first.frame, kNowMs));
  if (challenge.close_after) {
    UNSCOPED_INFO("client-first refused: " << challenge.log_detail);
    return challenge;
  }
  const auto server_first = authenticate_answer(challenge, first_cid + 1);
  REQUIRE(server_first.error_code == 0);
  std::string error;
  const auto final_message = client.client_final(server_first.auth_bytes, error);
  REQUIRE(final_message);
  Request final_request = authenticate(first_cid + 2, *final_message);
  auto done = reply_of(server.on_request(final_request.info, final_request.frame, kNowMs));
  const auto answer = authenticate_answer(done, first_cid + 2);
  if (answer.error_code == 0) CHECK(client.verify_server_final(answer.auth_bytes, error));
  return done;
}

}  // namespace

TEST_CASE("SCRAM-SHA-256 and -512 authenticate a stored user, the server's signature verifies", "[sasl]") {
  for (const scram::Hash hash : scram::kHashes) {
    SaslTerminator server = terminator(settings_for({TerminatedMechanism::scram_sha_512, TerminatedMechanism::scram_sha_256}));
    CHECK(server.route(3) == SaslTerminator::Route::refuse);  // Metadata before authentication
    CHECK(server.route(18) == SaslTerminator::Route::forward);
    CHECK(server.route(17) == SaslTerminator::Route::capture);
    const auto done = scram_login(server, hash, "user", "pencil");
    CHECK(done.authenticated);
    CHECK_FALSE(done.close_after);
    CHECK(done.outcome == AuthOutcome::authenticated);
    CHECK(server.principal() == "user");
    CHECK(server.mechanism_name() == scram::mechanism_name(hash));
    CHECK(server.route(3) == SaslTerminator::Route::forward);
    CHECK_FALSE(server.session_expires_at_ms());
  }
}

TEST_CASE("a wrong password and an unknown user get Kafka's message and close the connection", "[sasl]") {
  for (const std::string user : {"user", "nobody"}) {
    SaslTerminator server = terminator(settings_for({TerminatedMechanism::scram_sha_256}));
    const auto done = scram_login(server, scram::Hash::sha256, user, "wrong");
    CHECK(done.close_after);
    CHECK(done.credential_checked);
    CHECK(done.outcome == AuthOutcome::invalid_credentials);
    const auto answer = authenticate_answer(done, 3);
    CHECK(answer.error_code == 58);
    CHECK(answer.error_message ==
          "Authentication failed during authentication due to invalid credentials with SASL mechanism "
          "SCRAM-SHA-256");
    CHECK(done.log_detail.find("wrong") == std::string::npos);  // the password is never logged
    CHECK(server.route(3) == SaslTerminator::Route::refuse);
  }
}

TEST_CASE("a mechanism that is not enabled is answered 33 with the enabled list, then closed", "[sasl]") {
  SaslTerminator server = terminator(settings_for({TerminatedMechanism::scram_sha_512, TerminatedMechanism::plain}));
  const Request hs = handshake(7, "SCRAM-SHA-256");
  const auto reply = reply_of(server.on_request(hs.info, hs.frame, kNowMs));
  CHECK(reply.close_after);
  CHECK(reply.outcome == AuthOutcome::mechanism_not_enabled);
  const auto answer = handshake_answer(reply, 7);
  CHECK(answer.error_code == 33);
  CHECK(answer.mechanisms == std::vector<std::string>{"SCRAM-SHA-512", "PLAIN"});
}

TEST_CASE("SaslAuthenticate before a handshake is an illegal state", "[sasl]") {
  SaslTerminator early = terminator(settings_for({TerminatedMechanism::plain}));
  const Request auth = authenticate(1, std::string("\0user\0pencil", 12));
  const auto refused = reply_of(early.on_request(auth.info, auth.frame, kNowMs));
  CHECK(refused.close_after);
  CHECK(authenticate_answer(refused, 1).error_code == 34);
}

TEST_CASE("SaslHandshake v0: SCRAM's two unframed tokens, answered with bare tokens (KIP-43)", "[sasl][v0]") {
  for (const scram::Hash hash : scram::kHashes) {
    const std::string mechanism(scram::mechanism_name(hash));
    SaslTerminator server = terminator(settings_for({TerminatedMechanism::scram_sha_256,
                                                     TerminatedMechanism::scram_sha_512}));
    const Request hs = handshake(5, mechanism, 0);
    const auto hs_reply = reply_of(server.on_request(hs.info, hs.frame, kNowMs));
    CHECK(handshake_answer(hs_reply, 5).error_code == 0);
    CHECK(server.expects_unframed_token());
    sasl::ScramClient client(hash, "user", "pencil", scram::random_nonce());
    const Request first = unframed_token(5, client.client_first());
    const auto challenge = reply_of(server.on_request(first.info, first.frame, kNowMs));
    REQUIRE_FALSE(challenge.close_after);
    CHECK(server.expects_unframed_token());  // client-final follows
    std::string error;
    const auto final_message = client.client_final(token_of(challenge), error);
    REQUIRE(final_message);
    const Request final_request = unframed_token(5, *final_message);
    const auto done = reply_of(server.on_request(final_request.info, final_request.frame, kNowMs));
    CHECK(done.authenticated);
    CHECK(client.verify_server_final(token_of(done), error));
    CHECK_FALSE(server.expects_unframed_token());  // Kafka requests again
    CHECK(server.route(3) == SaslTerminator::Route::forward);
  }
}

TEST_CASE("SaslHandshake v0: PLAIN's token, its empty answer, and a failure that closes without an answer",
          "[sasl][v0]") {
  for (const auto& [password, ok] : std::vector<std::pair<std::string, bool>>{{"pencil", true}, {"pen", false}}) {
    SaslTerminator server = terminator(settings_for({TerminatedMechanism::plain}));
    const Request hs = handshake(1, "PLAIN", 0);
    CHECK(handshake_answer(reply_of(server.on_request(hs.info, hs.frame, kNowMs)), 1).error_code == 0);
    const Request token = unframed_token(1, std::string("\0user\0", 6) + password);
    auto step = server.on_request(token.info, token.frame, kNowMs);
    REQUIRE(std::holds_alternative<SaslTerminator::PlainCheck>(step));
    CHECK_FALSE(server.expects_unframed_token());  // one token, whatever the check says
    const auto& check = std::get<SaslTerminator::PlainCheck>(step);
    const auto reply = server.on_plain_checked(check.request, identity::authenticate_plain(check.message, *check.users),
                                               kNowMs);
    CHECK(reply.authenticated == ok);
    CHECK(reply.close_after == !ok);
    if (ok) CHECK(reply.frame == std::vector<std::uint8_t>{0, 0, 0, 0});  // PlainSaslServer's empty token
    if (!ok) CHECK(reply.frame.empty());                                    // no error response in v0
    if (!ok) CHECK(reply.outcome == AuthOutcome::invalid_credentials);
  }
}

TEST_CASE("SaslHandshake v0: a mechanism not enabled is still answered 33; re-authentication needs v1", "[sasl][v0]") {
  SaslTerminator server = terminator(settings_for({TerminatedMechanism::scram_sha_256}));
  const Request wrong = handshake(1, "PLAIN", 0);
  const auto refused = reply_of(server.on_request(wrong.info, wrong.frame, kNowMs));
  CHECK(handshake_answer(refused, 1).error_code == 33);
  CHECK(refused.close_after);
  CHECK_FALSE(server.expects_unframed_token());

  SaslTerminator session = terminator(settings_for({TerminatedMechanism::scram_sha_256}));
  REQUIRE(scram_login(session, scram::Hash::sha256, "user", "pencil").authenticated);
  const Request again = handshake(9, "SCRAM-SHA-256", 0);
  const auto reply = reply_of(session.on_request(again.info, again.frame, kNowMs));
  CHECK(handshake_answer(reply, 9).error_code == 34);
  CHECK(reply.close_after);
}

TEST_CASE("an unframed token outside a v0 exchange and SaslAuthenticate inside one are illegal states", "[sasl][v0]") {
  SaslTerminator stray = terminator(settings_for({TerminatedMechanism::plain}));
  const Request v1 = handshake(1, "PLAIN");
  reply_of(stray.on_request(v1.info, v1.frame, kNowMs));
  const Request token = unframed_token(1, std::string("\0user\0pencil", 12));
  const auto refused = reply_of(stray.on_request(token.info, token.frame, kNowMs));
  CHECK(refused.close_after);
  CHECK(refused.outcome == AuthOutcome::illegal_state);

  SaslTerminator mixed = terminator(settings_for({TerminatedMechanism::plain}));
  const Request v0 = handshake(1, "PLAIN", 0);
  reply_of(mixed.on_request(v0.info, v0.frame, kNowMs));
  const Request auth = authenticate(2, std::string("\0user\0pencil", 12));
  const auto illegal = reply_of(mixed.on_request(auth.info, auth.frame, kNowMs));
  CHECK(illegal.close_after);
  CHECK(authenticate_answer(illegal, 2).error_code == 34);
}

TEST_CASE("PLAIN is verified off the terminator (PBKDF2) and then answered", "[sasl]") {
  for (const auto& [password, ok] : std::vector<std::pair<std::string, bool>>{{"pencil", true}, {"pen", false}}) {
    SaslTerminator server = terminator(settings_for({TerminatedMechanism::plain}));
    const Request hs = handshake(1, "PLAIN");
    CHECK(handshake_answer(reply_of(server.on_request(hs.info, hs.frame, kNowMs)), 1).error_code == 0);
    const Request auth = authenticate(2, std::string("\0user\0", 6) + password, 1);
    auto step = server.on_request(auth.info, auth.frame, kNowMs);
    REQUIRE(std::holds_alternative<SaslTerminator::PlainCheck>(step));
    const auto& check = std::get<SaslTerminator::PlainCheck>(step);
    CHECK(check.request.correlation_id == 2);
    const identity::FinalStep result = identity::authenticate_plain(check.message, *check.users);
    const auto reply = server.on_plain_checked(check.request, result, kNowMs);
    const auto answer = authenticate_answer(reply, 2, 1);
    CHECK(reply.authenticated == ok);
    CHECK(reply.close_after == !ok);
    CHECK(answer.error_code == (ok ? 0 : 58));
    if (!ok) CHECK(reply.credential_checked);
  }
}

TEST_CASE("a malformed PLAIN message is refused without a credential check", "[sasl]") {
  SaslTerminator server = terminator(settings_for({TerminatedMechanism::plain}));
  const Request hs = handshake(1, "PLAIN");
  reply_of(server.on_request(hs.info, hs.frame, kNowMs));
  const Request auth = authenticate(2, "no separators at all");
  const auto reply = reply_of(server.on_request(auth.info, auth.frame, kNowMs));
  CHECK(reply.close_after);
  CHECK_FALSE(reply.credential_checked);
  CHECK(reply.outcome == AuthOutcome::malformed);
  CHECK(authenticate_answer(reply, 2).error_code == 58);
}

TEST_CASE("a principal not bound to the cluster is refused with a message naming both", "[sasl]") {
  SaslTerminator server = terminator(settings_for({TerminatedMechanism::scram_sha_256}, {"alice", "etl-*"}));
  const auto done = scram_login(server, scram::Hash::sha256, "user", "pencil");
  CHECK(done.close_after);
  CHECK_FALSE(done.authenticated);
  CHECK(done.outcome == AuthOutcome::principal_not_bound);
  const auto answer = authenticate_answer(done, 3);
  CHECK(answer.error_code == 58);
  CHECK(answer.error_message == "Principal user is not allowed on virtual cluster alpha");
  CHECK(server.principal().empty());
}

TEST_CASE("KIP-368: the session lifetime is answered, and re-authentication keeps mechanism and principal",
          "[sasl]") {
  SaslTerminator server = terminator(settings_for({TerminatedMechanism::scram_sha_256, TerminatedMechanism::plain}, {"*"}, 2000));
  const auto done = scram_login(server, scram::Hash::sha256, "user", "pencil");
  CHECK(authenticate_answer(done, 3).session_lifetime_ms == 2000);
  REQUIRE(server.session_expires_at_ms());
  CHECK(*server.session_expires_at_ms() == kNowMs + 2000);

  SECTION("same mechanism, same principal") {
    const auto again = scram_login(server, scram::Hash::sha256, "user", "pencil", 10);
    CHECK(again.authenticated);
    CHECK(again.log_detail.find("re-authenticated") != std::string::npos);
    CHECK(server.route(0) == SaslTerminator::Route::forward);
  }
  SECTION("another mechanism") {
    const Request hs = handshake(10, "PLAIN");
    const auto reply = reply_of(server.on_request(hs.info, hs.frame, kNowMs));
    CHECK(reply.close_after);
    CHECK(handshake_answer(reply, 10).error_code == 33);
  }
  SECTION("a second handshake inside a conversation") {
    const Request hs = handshake(10, "SCRAM-SHA-256");
    reply_of(server.on_request(hs.info, hs.frame, kNowMs));
    const auto reply = reply_of(server.on_request(hs.info, hs.frame, kNowMs));
    CHECK(reply.close_after);
    CHECK(handshake_answer(reply, 10).error_code == 34);
  }
}

TEST_CASE("a reload's settings apply from the next handshake: a removed user fails re-authentication", "[sasl]") {
  SaslTerminator server = terminator(settings_for({TerminatedMechanism::scram_sha_256}, {"*"}, 2000));
  REQUIRE(scram_login(server, scram::Hash::sha256, "user", "pencil").authenticated);
  auto emptied = settings_for({TerminatedMechanism::scram_sha_256});
  auto store = rfc_store();
  REQUIRE(store.remove_user("user"));
  emptied->users = std::make_shared<const identity::UserStore>(store);
  server.update_settings(emptied);
  const auto again = scram_login(server, scram::Hash::sha256, "user", "pencil", 10);
  CHECK(again.close_after);
  CHECK(again.outcome == AuthOutcome::invalid_credentials);
}

TEST_CASE("OAUTHBEARER: a signed token authenticates, its expiry bounds the session", "[sasl]") {
  using namespace identity::testing;
  const TestKey key = generate_p256("k1");
  auto oauth = std::make_shared<identity::OAuthBearerSettings>();
  oauth->keys = std::make_shared<const identity::KeySet>(identity::KeySet::parse(jwks_text({public_jwk(key)}), "jwks"));
  oauth->policy.audiences = {"kafka"};
  auto settings = settings_for({TerminatedMechanism::oauthbearer}, {"svc-*"}, 600'000);
  settings->oauthbearer = oauth;
  const std::int64_t now_s = kNowMs / 1000;
  const auto login = [&](const json& claims) {
    SaslTerminator server = terminator(settings);
    const Request hs = handshake(1, "OAUTHBEARER");
    reply_of(server.on_request(hs.info, hs.frame, kNowMs));
    const Request auth = authenticate(2, "n,,\x01" "auth=Bearer " + make_token(key, claims) + "\x01\x01");
    return std::pair{reply_of(server.on_request(auth.info, auth.frame, kNowMs)), server.session_expires_at_ms()};
  };
  const auto [good, expires] = login({{"sub", "svc-etl"}, {"aud", "kafka"}, {"exp", now_s + 60}, {"iat", now_s}});
  CHECK(good.authenticated);
  REQUIRE(expires);
  CHECK(*expires == (now_s + 60) * 1000);  // the token's exp, not the 600 s lifetime
  CHECK(authenticate_answer(good, 2).session_lifetime_ms == 60'000);

  const auto [wrong_audience, none] = login({{"sub", "svc-etl"}, {"aud", "other"}, {"exp", now_s + 60}});
  CHECK_FALSE(wrong_audience.authenticated);
  CHECK_FALSE(wrong_audience.close_after);  // RFC 7628 §3.2.3: an error challenge first, then the failure
  CHECK(authenticate_answer(wrong_audience, 2).auth_bytes.find("invalid_token") != std::string::npos);

  // SaslHandshake v0: one token; a refused one closes without the error challenge (none fits KIP-43).
  const auto login_v0 = [&](const json& claims) {
    SaslTerminator server = terminator(settings);
    const Request hs = handshake(1, "OAUTHBEARER", 0);
    reply_of(server.on_request(hs.info, hs.frame, kNowMs));
    const Request token = unframed_token(1, "n,,\x01" "auth=Bearer " + make_token(key, claims) + "\x01\x01");
    return reply_of(server.on_request(token.info, token.frame, kNowMs));
  };
  const auto good_v0 = login_v0({{"sub", "svc-etl"}, {"aud", "kafka"}, {"exp", now_s + 60}});
  CHECK(good_v0.authenticated);
  CHECK(good_v0.frame == std::vector<std::uint8_t>{0, 0, 0, 0});
  const auto refused_v0 = login_v0({{"sub", "svc-etl"}, {"aud", "other"}, {"exp", now_s + 60}});
  CHECK_FALSE(refused_v0.authenticated);
  CHECK(refused_v0.close_after);
  CHECK(refused_v0.frame.empty());
  CHECK(refused_v0.outcome == AuthOutcome::invalid_token);
}

TEST_CASE("the attempt limiter's refusal is a SASL_AUTHENTICATION_FAILED that says when to retry", "[sasl]") {
  SaslTerminator server = terminator(settings_for({TerminatedMechanism::plain}));
  const Request auth = authenticate(4, std::string("\0user\0pencil", 12));
  const auto reply = server.refuse_rate_limited(auth.info, 299'500);
  CHECK(reply.close_after);
  CHECK(reply.outcome == AuthOutcome::rate_limited);
  const auto answer = authenticate_answer(reply, 4);
  CHECK(answer.error_code == 58);
  CHECK(answer.error_message == "Too many failed authentications from this address; retry in 300 s");
}

}  // namespace kedge
