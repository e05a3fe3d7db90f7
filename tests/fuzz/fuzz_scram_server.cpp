// libFuzzer target for identity::ScramServer: the client-first and client-final parsers.
//
// Input: one mode byte, then the message bytes.
//   mode bit 0 = 0: the bytes are a client-first message, optionally followed by NUL and a client-final
//                   (a client-first cannot hold NUL, RFC 5802 §7 value-safe-char);
//            bit 0 = 1: the conversation starts with RFC 7677's client-first and the bytes are the client-final.
//   mode bit 1: SCRAM-SHA-512 instead of SCRAM-SHA-256.  bit 2: NoncePolicy::strict.
// The server nonce is RFC 7677's, so the RFC client-final is a seed that authenticates.
//
// Beyond "no crash, no sanitizer report" it traps on broken contracts:
//  - a Challenge is "r=<client nonce><server nonce>,s=<base64>,i=<4096..16384>" with the client's nonce;
//  - a Refused carries "e=" + the RFC 5802 server-error-value of its reason;
//  - Authenticated only for the one user in the store, with "v=" + base64(|H| bytes);
//  - the same input gives the same outcomes (the server keeps no hidden state between conversations).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "identity/scram_server.h"

namespace {

using namespace kedge;
using namespace kedge::identity;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kRfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";

const UserStore& store() {
  static const UserStore users = UserStore::parse(
      R"({"version": 1, "unknown_user_secret": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=", "users": {"user": {)"
      R"("SCRAM-SHA-256": {"salt": "W22ZaJ0SNY7soEsUEjb6gQ==", "iterations": 4096,)"
      R"( "stored_key": "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",)"
      R"( "server_key": "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="},)"
      R"("SCRAM-SHA-512": {"salt": "W22ZaJ0SNY7soEsUEjb6gQ==", "iterations": 4096,)"
      R"( "stored_key": "6AAub3065EYRmyFpM2RNwqK+eGnrkYuEWbXn19LsEmBqzu8QaCXNc1FwpnX9NhH2hK/60dzj9DoO5DvVkOHbvg==",)"
      R"( "server_key": "jZHbYjC1aHh0/hKbxyBuGFjDrgjgKTT1esA7awWiKcRZ0o/0b1yWEebBeSVkkCFewf91nLDfKF24mvD5nmE6rA=="}}}})",
      "fuzz");
  return users;
}

void check_refused(const Refused& refused) {
  check(refused.server_final == "e=" + std::string(scram_error_value(refused.reason)));
}

void check_challenge(const Challenge& challenge, std::string_view client_first) {
  const std::string_view text = challenge.server_first;
  check(text.substr(0, 2) == "r=");
  const std::size_t nonce_at = client_first.find(",r=");
  check(nonce_at != std::string_view::npos);
  std::string_view client_nonce = client_first.substr(nonce_at + 3);
  client_nonce = client_nonce.substr(0, client_nonce.find(','));
  check(text.substr(2, client_nonce.size()) == client_nonce);
  check(text.substr(2 + client_nonce.size(), kServerNonce.size()) == kServerNonce);
  const std::size_t salt_at = text.find(",s=");
  const std::size_t iterations_at = text.find(",i=");
  check(salt_at == 2 + client_nonce.size() + kServerNonce.size() && iterations_at > salt_at);
  check(scram::base64_decode(text.substr(salt_at + 3, iterations_at - salt_at - 3)).has_value());
  const unsigned long iterations = std::stoul(std::string(text.substr(iterations_at + 3)));
  check(iterations >= scram::kMinIterations && iterations <= scram::kMaxIterations);
}

// One conversation; returns a digest of its outcomes for the determinism check.
std::string converse(std::uint8_t mode, std::string_view first, std::optional<std::string_view> final_message) {
  const scram::Hash hash = (mode & 2) != 0 ? scram::Hash::sha512 : scram::Hash::sha256;
  const NoncePolicy policy = (mode & 4) != 0 ? NoncePolicy::strict : NoncePolicy::accept_repeated_client_nonce;
  ScramServer server(hash, policy, std::string(kServerNonce));
  std::string outcome;
  const FirstStep step = server.on_client_first(first, store());
  if (const auto* refused = std::get_if<Refused>(&step)) {
    check_refused(*refused);
    outcome = refused->server_final;
  } else {
    const auto& challenge = std::get<Challenge>(step);
    check_challenge(challenge, first);
    outcome = challenge.server_first;
  }
  if (!final_message) return outcome;
  const FinalStep last = server.on_client_final(*final_message);
  if (const auto* refused = std::get_if<Refused>(&last)) {
    check_refused(*refused);
    return outcome + "|" + refused->server_final;
  }
  const auto& ok = std::get<Authenticated>(last);
  check(ok.principal == "user" && server.claimed_user() == "user");
  check(ok.server_final.substr(0, 2) == "v=");
  const auto signature = scram::base64_decode(std::string_view(ok.server_final).substr(2));
  check(signature && signature->size() == scram::digest_size(hash));
  return outcome + "|" + ok.server_final + (ok.repeated_client_nonce ? "+" : "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view first = kRfcClientFirst;
  std::optional<std::string_view> final_message = input;
  if ((mode & 1) == 0) {
    const std::size_t nul = input.find('\0');
    first = input.substr(0, nul);
    final_message = nul == std::string_view::npos ? std::nullopt : std::optional(input.substr(nul + 1));
  }
  const std::string once = converse(mode, first, final_message);
  check(converse(mode, first, final_message) == once);
  return 0;
}
