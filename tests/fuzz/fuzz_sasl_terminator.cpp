// libFuzzer target for gateway/SaslTerminator: kedge answering a client's SaslHandshake / SaslAuthenticate
// frames (the request parsers of kafka_codec/sasl.h and the PLAIN / SCRAM / OAUTHBEARER engines behind it).
//
// Input: a sequence of requests, each
//   kind (1 byte: even = SaslHandshake, odd = SaslAuthenticate, 3 mod 4 = an unframed KIP-43 token even
//   when none is expected), version (1 byte, taken mod 3), length (1 byte), then that many body bytes (fewer
//   at the end of the input). While the terminator expects an unframed token (after a SaslHandshake v0),
//   every message is sent as one, as RequestTracker would hand it over.
// A SaslHandshake's body is its mechanism string (so "PLAIN", "SCRAM-SHA-256"... are reachable); a
// SaslAuthenticate's body is its auth bytes. Frames are built with the codec, so the terminator sees what a
// client would send; PLAIN checks run inline (on a connection they run on the thread pool).
//
// Beyond "no crash, no sanitizer report" it traps on broken contracts:
//  - every reply is a response frame of the request's API and version with its correlation id that the
//    client-side decoders read;
//  - a reply that closes ends the conversation: afterwards every non-SASL request is refused;
//  - authenticated implies a principal bound to the cluster (the binding is "user" only).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "gateway/sasl_terminator.h"
#include "identity/plain.h"
#include "kafka_codec/client.h"
#include "kafka_codec/sasl.h"

namespace {

using namespace kedge;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::shared_ptr<const ClientAuthentication> authentication() {
  static const std::shared_ptr<const ClientAuthentication> settings = [] {
    auto s = std::make_shared<ClientAuthentication>();
    s->config.mode = AuthenticationMode::terminate;
    s->config.sasl = SaslTerminationConfig{};
    s->config.sasl->mechanisms = {TerminatedMechanism::plain, TerminatedMechanism::scram_sha_256,
                                  TerminatedMechanism::scram_sha_512};
    s->config.sasl->session_lifetime_ms = 60'000;
    s->users = std::make_shared<const identity::UserStore>(identity::UserStore::parse(
        R"({"version": 1, "unknown_user_secret": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=", "users": {"user": {)"
        R"("SCRAM-SHA-256": {"salt": "W22ZaJ0SNY7soEsUEjb6gQ==", "iterations": 4096,)"
        R"( "stored_key": "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",)"
        R"( "server_key": "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="}}}})",
        "fuzz"));
    const std::string principals[] = {"user"};
    s->binding = identity::PrincipalBinding::parse(principals);
    return s;
  }();
  return settings;
}

void check_reply(const kafka::RequestInfo& request, const SaslTerminator::Reply& reply) {
  if (request.unframed_sasl_token) {
    // KIP-43: a bare token, or nothing and the connection closes.
    if (reply.close_after) {
      check(reply.frame.empty());
      return;
    }
    check(reply.frame.size() >= 4);
    const std::size_t token = (std::size_t{reply.frame[0]} << 24) | (std::size_t{reply.frame[1]} << 16) |
                              (std::size_t{reply.frame[2]} << 8) | reply.frame[3];
    check(token == reply.frame.size() - 4);
    return;
  }
  std::int32_t correlation_id = -1;
  std::size_t body = 0;
  check(kafka::read_response_header(reply.frame, request.api_key, request.api_version, correlation_id, body));
  check(correlation_id == request.correlation_id);
  if (request.api_key == 17) {
    kafka::SaslHandshakeAnswer answer;
    check(kafka::decode_sasl_handshake_response(reply.frame, body, request.api_version, answer));
    check((answer.error_code != 0) == reply.close_after);
  } else {
    kafka::SaslAuthenticateAnswer answer;
    check(kafka::decode_sasl_authenticate_response(reply.frame, body, request.api_version, answer));
    check((answer.error_code != 0) == reply.close_after);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SaslTerminator terminator(authentication(), "alpha");
  std::int32_t correlation_id = 0;
  std::int32_t handshake_correlation_id = 0;
  bool closed = false;
  std::size_t at = 0;
  while (at + 3 <= size && correlation_id < 16) {
    const bool handshake = data[at] % 2 == 0;
    const std::int16_t version = static_cast<std::int16_t>(data[at + 1] % (handshake ? 2 : 3));
    std::size_t length = data[at + 2];
    at += 3;
    if (length > size - at) length = size - at;
    const std::span<const std::uint8_t> bytes(data + at, length);
    at += length;
    const bool unframed = terminator.expects_unframed_token() || data[at - 3 - length] % 4 == 3;
    const std::int16_t api_key = handshake && !unframed ? 17 : 36;
    ++correlation_id;
    kafka::RequestInfo request{api_key, version, correlation_id, true};
    std::vector<std::uint8_t> frame;
    if (unframed) {
      request = kafka::RequestInfo{36, 0, handshake_correlation_id, true, true};
      frame = kafka::encode_unframed_sasl_token(std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                                                 bytes.size()));
    } else {
      if (handshake) handshake_correlation_id = correlation_id;
      const std::vector<std::uint8_t> body =
          handshake ? kafka::encode_sasl_handshake_request(
                          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))
                    : kafka::encode_sasl_authenticate_request(version, bytes);
      frame = kafka::encode_request_frame(api_key, version, correlation_id, "fuzz", body);
    }
    SaslTerminator::Step step = terminator.on_request(request, frame, 1'800'000'000'000);
    SaslTerminator::Reply reply;
    if (auto* plain = std::get_if<SaslTerminator::PlainCheck>(&step)) {
      reply = terminator.on_plain_checked(plain->request, identity::authenticate_plain(plain->message, *plain->users),
                                          1'800'000'000'000);
    } else {
      reply = std::get<SaslTerminator::Reply>(std::move(step));
    }
    check_reply(request, reply);
    if (reply.authenticated) check(terminator.principal() == "user");
    if (reply.close_after) closed = true;
    if (closed) check(terminator.route(3) == SaslTerminator::Route::refuse);
  }
  return 0;
}
