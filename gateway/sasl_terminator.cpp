#include "gateway/sasl_terminator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "common/ascii.h"
#include "identity/plain.h"
#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/errors.h"
#include "kafka_codec/sasl.h"

namespace kedge {
namespace {

constexpr std::int16_t kSaslHandshake = kafka::key_of(kafka::ApiKey::sasl_handshake);
constexpr std::int16_t kSaslAuthenticate = kafka::key_of(kafka::ApiKey::sasl_authenticate);
constexpr std::int16_t kApiVersions = kafka::key_of(kafka::ApiKey::api_versions);

// What SaslHandshake names a mechanism (Kafka's spelling, case-sensitive as in the broker).
std::string_view mechanism_text(TerminatedMechanism mechanism) { return to_string(mechanism); }

scram::Hash scram_hash(TerminatedMechanism mechanism) {
  return mechanism == TerminatedMechanism::scram_sha_512 ? scram::Hash::sha512
                                                          : scram::Hash::sha256;
}

AuthOutcome outcome_of(identity::AuthErrc reason) {
  switch (reason) {
    case identity::AuthErrc::unknown_user:
    case identity::AuthErrc::wrong_password: return AuthOutcome::invalid_credentials;
    case identity::AuthErrc::no_resources: return AuthOutcome::internal;
    case identity::AuthErrc::out_of_order: return AuthOutcome::illegal_state;
    default: return AuthOutcome::malformed;
  }
}

// Refusals of credentials (not of grammar) are what a password guesser produces.
bool is_credential_refusal(identity::AuthErrc reason) {
  return reason == identity::AuthErrc::unknown_user || reason == identity::AuthErrc::wrong_password;
}

}  // namespace

SaslTerminator::SaslTerminator(std::shared_ptr<const ClientAuthentication> authentication, std::string cluster_name)
    : settings_(std::move(authentication)), cluster_name_(std::move(cluster_name)) {}

std::string_view SaslTerminator::mechanism_name() const {
  return authenticated() && mechanism_ ? mechanism_text(*mechanism_) : std::string_view{};
}

SaslTerminator::Route SaslTerminator::route(std::int16_t api_key) const {
  if (api_key == kSaslHandshake || api_key == kSaslAuthenticate) return Route::capture;
  if (phase_ == Phase::failed) return Route::refuse;
  if (!authenticated()) return api_key == kApiVersions ? Route::forward : Route::refuse;
  // A re-authentication in progress does not stop other requests: the session
  // is still valid until it expires (KIP-368), as on a broker.
  return Route::forward;
}

SaslTerminator::Step SaslTerminator::on_request(const kafka::RequestInfo& request,
                                                std::span<const std::uint8_t> frame, std::int64_t now_unix_ms) {
  if (request.unframed_sasl_token) return on_unframed_token(request, frame, now_unix_ms);
  if (request.api_key == kSaslHandshake) return on_handshake(request, frame);
  if (request.api_key == kSaslAuthenticate) return on_authenticate(request, frame, now_unix_ms);
  return fail(request, AuthOutcome::illegal_state, "unexpected request during SASL authentication",
              fmt::format("api key {} captured as SASL", request.api_key), false);
}

SaslTerminator::Step SaslTerminator::on_handshake(const kafka::RequestInfo& request,
                                                  std::span<const std::uint8_t> frame) {
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body_begin = 0;
  std::string mechanism;
  if (!kafka::read_request_header(frame, api_key, version, correlation_id, body_begin) ||
      !kafka::decode_sasl_handshake_request(frame, body_begin, version, mechanism)) {
    return fail_handshake(request, kafka::code_of(kafka::ErrorCode::illegal_sasl_state), AuthOutcome::malformed,
                          "SaslHandshake request does not parse");
  }
  const bool reauthenticating = phase_ == Phase::authenticated;
  if (phase_ != Phase::unauthenticated && !reauthenticating) {
    return fail_handshake(request, kafka::code_of(kafka::ErrorCode::illegal_sasl_state), AuthOutcome::illegal_state,
                          "SaslHandshake during an open SASL conversation");
  }
  if (reauthenticating && request.api_version == 0) {
    // KIP-368 re-authentication runs over SaslAuthenticate; a broker refuses it the same way.
    return fail_handshake(request, kafka::code_of(kafka::ErrorCode::illegal_sasl_state), AuthOutcome::illegal_state,
                          "re-authentication with SaslHandshake v0 (KIP-368 needs v1 and SaslAuthenticate)");
  }
  if (next_settings_ && next_settings_->config.sasl) settings_ = std::move(next_settings_);
  next_settings_.reset();
  const auto& mechanisms = offered();
  const auto found = std::find_if(mechanisms.begin(), mechanisms.end(),
                                  [&](TerminatedMechanism m) { return mechanism_text(m) == mechanism; });
  if (found == mechanisms.end() || (reauthenticating && *found != *mechanism_)) {
    return fail_handshake(
        request, kafka::code_of(kafka::ErrorCode::unsupported_sasl_mechanism), AuthOutcome::mechanism_not_enabled,
        reauthenticating && found != mechanisms.end()
            ? fmt::format("re-authentication with {} after authenticating with {}", mechanism,
                          mechanism_text(*mechanism_))
            : fmt::format("mechanism {} is not enabled", ascii::printable(mechanism)));
  }
  mechanism_ = *found;
  scram_.reset();
  oauthbearer_.reset();
  phase_ = Phase::handshaken;
  unframed_ = request.api_version == 0;
  std::vector<std::string_view> names;
  for (const TerminatedMechanism m : mechanisms) names.push_back(mechanism_text(m));
  Reply reply;
  reply.frame = kafka::encode_sasl_handshake_response(request.correlation_id, 0, names);
  return reply;
}

SaslTerminator::Step SaslTerminator::on_authenticate(const kafka::RequestInfo& request,
                                                     std::span<const std::uint8_t> frame, std::int64_t now_unix_ms) {
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body_begin = 0;
  std::string message;
  if (!kafka::read_request_header(frame, api_key, version, correlation_id, body_begin) ||
      !kafka::decode_sasl_authenticate_request(frame, body_begin, version, message)) {
    return fail(request, AuthOutcome::malformed, "malformed SaslAuthenticate request",
                "SaslAuthenticate request does not parse", false);
  }
  if (phase_ != Phase::handshaken && phase_ != Phase::exchanging) {
    return fail(request, AuthOutcome::illegal_state, "SaslAuthenticate without a SaslHandshake first",
                "SaslAuthenticate outside a SASL conversation", false);
  }
  if (unframed_) {
    return fail(request, AuthOutcome::illegal_state, "SaslAuthenticate after a SaslHandshake v0",
                "SaslAuthenticate after SaslHandshake v0 (unframed tokens expected, KIP-43)", false);
  }
  return exchange(request, std::move(message), now_unix_ms);
}

SaslTerminator::Step SaslTerminator::on_unframed_token(const kafka::RequestInfo& request,
                                                       std::span<const std::uint8_t> frame, std::int64_t now_unix_ms) {
  if (!expects_unframed_token() || frame.size() < 4) {
    return fail(request, AuthOutcome::illegal_state, {}, "unframed SASL token outside a SaslHandshake v0 exchange",
                false);
  }
  return exchange(request, std::string(frame.begin() + 4, frame.end()), now_unix_ms);
}

// One client message of the open conversation, whether it came in a
// SaslAuthenticate request or as an unframed token (KIP-43).
SaslTerminator::Step SaslTerminator::exchange(const kafka::RequestInfo& request, std::string message,
                                              std::int64_t now_unix_ms) {
  const std::string_view mechanism = mechanism_text(*mechanism_);
  switch (*mechanism_) {
    case TerminatedMechanism::plain: {
      if (phase_ != Phase::handshaken) {
        return fail(request, AuthOutcome::illegal_state, "PLAIN takes one SaslAuthenticate round",
                    "a second PLAIN message", false);
      }
      const auto parsed = identity::parse_plain(message);
      if (const auto* refused = std::get_if<identity::AuthErrc>(&parsed)) {
        return fail(request, outcome_of(*refused), identity::client_message(*refused, mechanism),
                    fmt::format("PLAIN message refused: {}", identity::describe(*refused)), false);
      }
      phase_ = Phase::exchanging;
      plain_user_ = std::get<identity::PlainMessage>(parsed).authcid;  // a name, never the password
      return PlainCheck{request, std::move(message), settings_->users};
    }
    case TerminatedMechanism::scram_sha_256:
    case TerminatedMechanism::scram_sha_512: {
      if (phase_ == Phase::handshaken) {
        scram_.emplace(scram_hash(*mechanism_));
        phase_ = Phase::exchanging;
        const identity::FirstStep step = scram_->on_client_first(message, *settings_->users);
        if (const auto* refused = std::get_if<identity::Refused>(&step)) {
          return fail(request, outcome_of(refused->reason), identity::client_message(refused->reason, mechanism),
                      fmt::format("{} client-first refused: {}", mechanism, identity::describe(refused->reason)),
                      false);
        }
        return challenge(request, std::get<identity::Challenge>(step).server_first);
      }
      const identity::FinalStep step = scram_->on_client_final(message);
      if (const auto* refused = std::get_if<identity::Refused>(&step)) {
        return fail(request, outcome_of(refused->reason), identity::client_message(refused->reason, mechanism),
                    fmt::format("{} for user \"{}\": {}", mechanism, ascii::printable(scram_->claimed_user()),
                                identity::describe(refused->reason)),
                    is_credential_refusal(refused->reason));
      }
      const auto& done = std::get<identity::Authenticated>(step);
      return succeed(request, done.principal, done.server_final, std::nullopt, now_unix_ms);
    }
    case TerminatedMechanism::oauthbearer: {
      if (!oauthbearer_) oauthbearer_.emplace(settings_->oauthbearer);
      phase_ = Phase::exchanging;
      identity::OAuthBearerServer::Step step = oauthbearer_->receive(message, now_unix_ms / 1000);
      using Kind = identity::OAuthBearerServer::Step::Kind;
      switch (step.kind) {
        case Kind::challenge: {
          if (unframed_) {
            // Without SaslAuthenticate there is no room for RFC 7628's error
            // challenge: a v0 broker closes the connection on a refused token.
            return fail(request, AuthOutcome::invalid_token, {}, std::move(step.log_detail), true);
          }
          Reply reply = challenge(request, step.challenge);
          reply.log_detail = std::move(step.log_detail);
          return reply;
        }
        case Kind::authenticated:
          return succeed(request, step.principal, {}, step.expires_at * 1000, now_unix_ms);
        case Kind::failed:
          return fail(request, step.refusal ? AuthOutcome::invalid_token : AuthOutcome::malformed,
                      std::move(step.error_message), std::move(step.log_detail), step.refusal.has_value());
      }
      break;
    }
  }
  return fail(request, AuthOutcome::internal, "internal error", "unknown mechanism", false);
}

SaslTerminator::Reply SaslTerminator::on_plain_checked(const kafka::RequestInfo& request,
                                                       const identity::FinalStep& result, std::int64_t now_unix_ms) {
  if (phase_ != Phase::exchanging || mechanism_ != TerminatedMechanism::plain) {
    return fail(request, AuthOutcome::illegal_state, "internal error", "PLAIN result outside a PLAIN round", false);
  }
  if (const auto* refused = std::get_if<identity::Refused>(&result)) {
    return fail(request, outcome_of(refused->reason), identity::client_message(refused->reason, "PLAIN"),
                fmt::format("PLAIN for user \"{}\": {}", ascii::printable(plain_user_),
                            identity::describe(refused->reason)),
                is_credential_refusal(refused->reason));
  }
  return succeed(request, std::get<identity::Authenticated>(result).principal, {}, std::nullopt, now_unix_ms);
}

SaslTerminator::Reply SaslTerminator::refuse_rate_limited(const kafka::RequestInfo& request,
                                                          std::int64_t retry_after_ms) {
  return fail(request, AuthOutcome::rate_limited,
              fmt::format("Too many failed authentications from this address; retry in {} s",
                          (retry_after_ms + 999) / 1000),
              "refused by the attempt limiter", false);
}

bool SaslTerminator::expects_unframed_token() const {
  // PLAIN and OAUTHBEARER send one token; SCRAM sends client-first, then client-final (RFC 5802 §3).
  return unframed_ && (phase_ == Phase::handshaken || (phase_ == Phase::exchanging && scram_.has_value()));
}

SaslTerminator::Reply SaslTerminator::challenge(const kafka::RequestInfo& request, std::string_view server_message) {
  Reply reply;
  reply.frame = request.unframed_sasl_token
                    ? kafka::encode_unframed_sasl_token(server_message)
                    : kafka::encode_sasl_authenticate_response(request.correlation_id, request.api_version, 0,
                                                               std::nullopt, server_message, 0);
  return reply;
}

SaslTerminator::Reply SaslTerminator::succeed(const kafka::RequestInfo& request, const std::string& principal,
                                              std::string_view server_final,
                                              std::optional<std::int64_t> credential_expires_at_ms,
                                              std::int64_t now_unix_ms) {
  if (!settings_->binding.binds(principal)) {
    Reply reply = fail(request, AuthOutcome::principal_not_bound,
                       fmt::format("Principal {} is not allowed on virtual cluster {}", principal,
                                   cluster_name_),
                       fmt::format("principal \"{}\" authenticated with {} but is not bound to virtual cluster {}",
                                   ascii::printable(principal), mechanism_text(*mechanism_), cluster_name_),
                       false);
    return reply;
  }
  if (!principal_.empty() && principal != principal_) {
    return fail(request, AuthOutcome::principal_changed,
                "Cannot change principals during re-authentication",
                fmt::format("re-authentication proved \"{}\", the session was \"{}\"", ascii::printable(principal),
                            ascii::printable(principal_)),
                false);
  }
  // KIP-368: the session lasts the configured lifetime, and never beyond the
  // credential's own expiry (an OAUTHBEARER token's exp), as on a broker with
  // connections.max.reauth.ms set. Without a configured lifetime there is no
  // re-authentication and no expiry.
  session_expires_at_ms_.reset();
  std::int64_t lifetime_ms = 0;
  if (settings_->config.sasl->session_lifetime_ms > 0) {
    std::int64_t expires = now_unix_ms + static_cast<std::int64_t>(settings_->config.sasl->session_lifetime_ms);
    if (credential_expires_at_ms) expires = std::min(expires, *credential_expires_at_ms);
    session_expires_at_ms_ = expires;
    lifetime_ms = std::max<std::int64_t>(expires - now_unix_ms, 1);
  }
  const bool first = principal_.empty();
  principal_ = principal;
  phase_ = Phase::authenticated;
  scram_.reset();
  oauthbearer_.reset();
  Reply reply;
  // KIP-43: a v0 exchange ends with the server's last token; PLAIN and
  // OAUTHBEARER's is empty (00 00 00 00). The lifetime cannot be told over v0:
  // the session still ends at expiry (KIP-368: clients without
  // re-authentication are disconnected then).
  reply.frame = request.unframed_sasl_token
                    ? kafka::encode_unframed_sasl_token(server_final)
                    : kafka::encode_sasl_authenticate_response(request.correlation_id, request.api_version, 0,
                                                               std::nullopt, server_final, lifetime_ms);
  reply.authenticated = true;
  reply.credential_checked = true;
  reply.outcome = AuthOutcome::authenticated;
  reply.log_detail = fmt::format("{} \"{}\" with {}{}{}", first ? "authenticated" : "re-authenticated",
                                 ascii::printable(principal), mechanism_text(*mechanism_),
                                 unframed_ ? " (SaslHandshake v0, unframed tokens)" : "",
                                 session_expires_at_ms_ ? fmt::format(", session {} ms", lifetime_ms) : "");
  return reply;
}

SaslTerminator::Reply SaslTerminator::fail(const kafka::RequestInfo& request, AuthOutcome outcome,
                                           std::string client_message, std::string log_detail,
                                           bool credential_checked) {
  phase_ = Phase::failed;
  Reply reply;
  const std::int16_t code = outcome == AuthOutcome::illegal_state
                                ? kafka::code_of(kafka::ErrorCode::illegal_sasl_state)
                                : kafka::code_of(kafka::ErrorCode::sasl_authentication_failed);
  if (request.unframed_sasl_token) {
    // KIP-43 has no error response: a broker closes the connection (kafka-protocol.md §5).
  } else if (request.api_key == kSaslAuthenticate) {
    reply.frame = kafka::encode_sasl_authenticate_response(request.correlation_id, request.api_version, code,
                                                           client_message, {}, 0);
  } else {
    const std::array<std::string_view, 0> none{};
    reply.frame = kafka::encode_sasl_handshake_response(request.correlation_id, code, none);
  }
  reply.close_after = true;
  reply.credential_checked = credential_checked;
  reply.outcome = outcome;
  reply.log_detail = std::move(log_detail);
  return reply;
}

SaslTerminator::Reply SaslTerminator::fail_handshake(const kafka::RequestInfo& request, std::int16_t error_code,
                                                     AuthOutcome outcome, std::string log_detail) {
  phase_ = Phase::failed;
  std::vector<std::string_view> names;
  for (const TerminatedMechanism m : offered()) names.push_back(mechanism_text(m));
  Reply reply;
  reply.frame = kafka::encode_sasl_handshake_response(request.correlation_id, error_code, names);
  reply.close_after = true;
  reply.outcome = outcome;
  reply.log_detail = std::move(log_detail);
  return reply;
}

}  // namespace kedge
