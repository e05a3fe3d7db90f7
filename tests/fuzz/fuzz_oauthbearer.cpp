// libFuzzer target: the OAUTHBEARER client initial response parser and the server exchange.
// Input: a client message. It is parsed; a parsed message is re-encoded and must parse to the same
// fields; then a fresh OAuthBearerServer (fixed key set) receives the message, and, after a challenge,
// the %x01 acknowledgement. Traps when an error text contains the bearer token (of 100 bytes or more;
// shorter ones can equal a piece of a fixed message), or when the exchange does
// not end after the acknowledgement.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "identity/jwks.h"
#include "identity/oauthbearer.h"
#include "identity/scram.h"
#include "identity_fuzz_keys.h"

namespace {

using namespace kedge::identity;

// Shorter tokens can equal a piece of kedge's own fixed texts ("dot-separated"), which is no leak.
constexpr std::size_t kLeakCheckMinLength = 100;

std::shared_ptr<const OAuthBearerSettings> settings() {
  static const auto shared = [] {
    auto s = std::make_shared<OAuthBearerSettings>();
    s->keys = std::make_shared<const KeySet>(KeySet::parse(fuzz::kFuzzJwks, "fuzz JWKS"));
    s->policy.audiences = {"kedge"};
    return std::shared_ptr<const OAuthBearerSettings>(std::move(s));
  }();
  return shared;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_oauthbearer_initial_response(message);
  std::string token;
  if (const auto* response = std::get_if<OAuthBearerInitialResponse>(&parsed)) {
    token = response->token;
    if (token.empty()) __builtin_trap();
    const std::string authzid =
        response->authorization_id.empty() ? "" : "a=" + kedge::scram::escape_saslname(response->authorization_id);
    std::string again = "n," + authzid + ",\x01" "auth=Bearer " + token + "\x01";  // split: \x01a would be one escape
    for (const auto& [key, value] : response->extensions) again += key + "=" + value + "\x01";
    again += "\x01";
    const auto reparsed = parse_oauthbearer_initial_response(again);
    const auto* same = std::get_if<OAuthBearerInitialResponse>(&reparsed);
    if (same == nullptr || same->token != token || same->authorization_id != response->authorization_id ||
        same->extensions != response->extensions) {
      __builtin_trap();
    }
  }

  OAuthBearerServer server(settings());
  auto step = server.receive(message, 1'800'000'000);
  auto leaks = [&](const OAuthBearerServer::Step& s) {
    return token.size() >= kLeakCheckMinLength &&
           (s.error_message.find(token) != std::string::npos || s.log_detail.find(token) != std::string::npos);
  };
  if (leaks(step)) __builtin_trap();
  if (step.kind == OAuthBearerServer::Step::Kind::challenge) {
    step = server.receive("\x01", 1'800'000'000);
    if (step.kind != OAuthBearerServer::Step::Kind::failed || leaks(step)) __builtin_trap();
  }
  if (!server.finished()) __builtin_trap();
  return 0;
}
