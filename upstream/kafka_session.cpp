#include "upstream/kafka_session.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "common/ascii.h"
#include "common/version.h"
#include "kafka_codec/errors.h"
#include "kafka_codec/sasl.h"
#include "kafka_codec/wire.h"

namespace kedge {

namespace {

using kafka::ApiKey;
using kafka::key_of;

std::string api_label(std::int16_t api_key) {
  const std::string_view name = kafka::api_name(api_key);
  return name.empty() ? fmt::format("API {}", api_key) : std::string(name);
}

std::string describe_error(std::int16_t code) {
  const std::string_view name = kafka::error_name(code);
  return name.empty() ? fmt::format("error {}", code) : fmt::format("error {} {}", code, name);
}

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Every occurrence of `secret` in `text` replaced by "***".
std::string mask(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
    text.replace(at, secret.size(), "***");
  return text;
}

}  // namespace

std::string KafkaSession::mask_password(std::string text) const {
  if (!options_.sasl) return text;
  const std::string& password = options_.sasl->password;
  return mask(mask(std::move(text), password), ascii::printable(password));
}

std::string KafkaSession::broker_text(std::string_view text) const {
  return mask_password(ascii::printable(mask_password(std::string(text))));
}

std::string_view label(SessionFailure failure) {
  switch (failure) {
#define KEDGE_X(id, text) \
  case SessionFailure::id: return text;
    KEDGE_SESSION_FAILURES(KEDGE_X)
#undef KEDGE_X
  }
  return "unknown";
}

KafkaSession::KafkaSession(KafkaSessionOptions options)
    : options_(std::move(options)),
      frames_(options_.max_frame_bytes, kafka::kMinResponseFrameSize),
      next_correlation_id_(options_.first_correlation_id) {
  if (options_.software_version.empty()) options_.software_version = std::string(kVersion);
  if (options_.sasl && options_.sasl->mechanism != SaslMechanism::plain) {
    const auto hash = options_.sasl->mechanism == SaslMechanism::scram_sha_256 ? scram::Hash::sha256
                                                                               : scram::Hash::sha512;
    scram_.emplace(hash, options_.sasl->username, options_.sasl->password,
                   options_.scram_nonce.empty() ? scram::random_nonce() : options_.scram_nonce);
  }
}

void KafkaSession::fail(SessionFailure cause, std::string message) {
  if (error_) return;  // the first failure is the one reported
  state_ = State::failed;
  error_ = SessionError{cause, std::move(message)};
}

std::vector<std::uint8_t> KafkaSession::send(ApiKey api, std::int16_t version, std::span<const std::uint8_t> body,
                                             bool handshake) {
  const std::int32_t correlation_id = next_correlation_id_;
  next_correlation_id_ = correlation_id == std::numeric_limits<std::int32_t>::max() ? 0 : correlation_id + 1;
  in_flight_.push_back({{key_of(api), version, correlation_id}, handshake});
  return kafka::encode_request_frame(key_of(api), version, correlation_id, options_.client_id, body);
}

std::vector<std::uint8_t> KafkaSession::start() {
  if (state_ != State::idle) return {};
  state_ = State::negotiating;
  const std::int16_t version =
      std::clamp(options_.api_versions_version, kafka::kApiVersionsRequestVersions.lo, kafka::kApiVersionsRequestVersions.hi);
  return send(ApiKey::api_versions, version,
              kafka::encode_api_versions_request(version, kafka::client_software_field(options_.software_name),
                                                 kafka::client_software_field(options_.software_version)),
              /*handshake=*/true);
}

std::string KafkaSession::frame_error_message(kafka::Errc errc) const {
  const std::int64_t size = frames_.announced_size();
  // A TLS record header read as a size: 0x15 alert / 0x16 handshake, then major version 3.
  const auto top = static_cast<std::uint32_t>(size) >> 16;
  const bool looks_like_tls = top == 0x1503 || top == 0x1603;
  const std::string tls_hint = looks_like_tls ? " (the bytes are a TLS record: does this listener need backend.tls?)" : "";
  if (errc == kafka::Errc::frame_too_large) {
    return fmt::format("response frame of {} bytes exceeds limits.max_frame_bytes ({}){}", size,
                       frames_.max_frame_size(), tls_hint);
  }
  return fmt::format("the broker sent a frame size of {}, which no Kafka response has (is this a Kafka listener?){}",
                     size, tls_hint);
}

KafkaSession::FeedResult KafkaSession::feed(std::span<const std::uint8_t> bytes) {
  FeedResult result;
  if (!error_ && state_ == State::idle && !bytes.empty()) {
    fail(SessionFailure::not_ready, fmt::format("the broker sent {} bytes before kedge's first request", bytes.size()));
  }
  if (!error_) {
    const kafka::Errc errc = frames_.feed(bytes);
    // Frames completed before a bad size prefix are answers like any other.
    while (!error_ && frames_.has_frame()) on_frame(frames_.take_frame(), result);
    if (errc != kafka::Errc::ok) {
      fail(errc == kafka::Errc::frame_too_large ? SessionFailure::frame_too_large : SessionFailure::malformed_frame,
           frame_error_message(errc));
    }
  }
  if (error_) {
    result.outbound.clear();  // nothing more goes to a broker the session gave up on
    result.error = error_;
  }
  return result;
}

void KafkaSession::on_frame(std::vector<std::uint8_t> frame, FeedResult& result) {
  const std::int32_t answered = kafka::wire::get_i32(frame.data() + 4);  // kMinResponseFrameSize: 4 bytes
  if (in_flight_.empty()) {
    fail(SessionFailure::unexpected_response,
         fmt::format("the broker sent a response (correlation id {}) while no request was in flight", answered));
    return;
  }
  const InFlight request = in_flight_.front();
  const kafka::RequestInfo& info = request.info;
  if (answered != info.correlation_id) {
    fail(SessionFailure::correlation_mismatch,
         fmt::format("correlation id mismatch: the broker answered {} while kedge waited for {} ({} v{})", answered,
                     info.correlation_id, api_label(info.api_key), info.api_version));
    return;
  }
  in_flight_.pop_front();
  std::int32_t correlation_id = 0;
  std::size_t body_begin = 0;
  if (!kafka::read_response_header(frame, info.api_key, info.api_version, correlation_id, body_begin)) {
    fail(SessionFailure::malformed_response,
         fmt::format("malformed {} v{} response header", api_label(info.api_key), info.api_version));
    return;
  }
  if (!request.handshake) {
    result.responses.push_back({info, std::move(frame), body_begin});
    return;
  }
  if (kafka::is(info.api_key, ApiKey::api_versions)) on_api_versions(frame, body_begin, info.api_version, result);
  else if (kafka::is(info.api_key, ApiKey::sasl_handshake)) on_sasl_handshake(frame, body_begin, info.api_version, result);
  else on_sasl_authenticate(frame, body_begin, result);
}

void KafkaSession::on_api_versions(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                                   FeedResult& result) {
  kafka::ApiVersionsAnswer answer;
  if (!kafka::decode_api_versions_response(frame, body_begin, version, answer)) {
    fail(SessionFailure::malformed_response, fmt::format("malformed ApiVersions v{} response", version));
    return;
  }
  if (answer.error_code == kafka::code_of(kafka::ErrorCode::unsupported_version)) {
    // The broker does not support `version`. The v0-layout answer lists the
    // ApiVersions range it does support (Java's ApiVersionsResponse); without
    // one, v0 is the version every broker answers (KIP-35).
    const auto listed = std::find_if(answer.ranges.begin(), answer.ranges.end(), [](const auto& r) {
      return kafka::is(r.api_key, ApiKey::api_versions);
    });
    std::int16_t retry = -1;
    if (listed != answer.ranges.end()) {
      const std::int16_t top = std::min<std::int16_t>(listed->max_version, static_cast<std::int16_t>(version - 1));
      if (top >= std::max<std::int16_t>(listed->min_version, 0)) retry = top;
    } else if (version > 0) {
      retry = 0;
    }
    if (retry < 0) {
      fail(SessionFailure::api_versions_failed,
           listed != answer.ranges.end()
               ? fmt::format("broker answered ApiVersions with UNSUPPORTED_VERSION and no usable range (it offers "
                             "ApiVersions v{}..v{}, kedge sends v0..v{})",
                             listed->min_version, listed->max_version, version)
               : std::string("broker answered ApiVersions with UNSUPPORTED_VERSION and no usable range"));
      return;
    }
    const std::vector<std::uint8_t> frame_bytes = send(
        ApiKey::api_versions, retry,
        kafka::encode_api_versions_request(retry, kafka::client_software_field(options_.software_name),
                                           kafka::client_software_field(options_.software_version)),
        /*handshake=*/true);
    result.outbound.insert(result.outbound.end(), frame_bytes.begin(), frame_bytes.end());
    return;
  }
  if (answer.error_code != 0) {
    fail(SessionFailure::api_versions_failed,
         fmt::format("the broker answered ApiVersions v{} with {}", version, describe_error(answer.error_code)));
    return;
  }
  broker_ranges_ = std::move(answer.ranges);
  api_versions_version_ = version;
  if (options_.sasl) begin_sasl(result);
  else become_ready(result);
}

std::optional<kafka::ApiVersionRange> KafkaSession::broker_versions(ApiKey api) const {
  for (const kafka::ApiVersionRange& r : broker_ranges_)
    if (kafka::is(r.api_key, api)) return r;
  return std::nullopt;
}

std::optional<std::int16_t> KafkaSession::pick_version(ApiKey api, std::int16_t our_max_version,
                                                       std::int16_t our_min_version) const {
  const std::optional<kafka::ApiVersionRange> theirs = broker_versions(api);
  if (!theirs) return std::nullopt;
  const std::int16_t lo = std::max({theirs->min_version, our_min_version, std::int16_t{0}});
  const std::int16_t hi = std::min(theirs->max_version, our_max_version);
  if (hi < lo) return std::nullopt;
  return hi;
}

void KafkaSession::begin_sasl(FeedResult& result) {
  state_ = State::authenticating;
  const std::optional<kafka::ApiVersionRange> handshake = broker_versions(ApiKey::sasl_handshake);
  if (!handshake || handshake->min_version > kafka::kSaslHandshakeVersion ||
      handshake->max_version < kafka::kSaslHandshakeVersion) {
    fail(SessionFailure::sasl_handshake_failed,
         "the broker does not offer SaslHandshake v1 (KIP-152); kedge needs it for SASL (SASL tokens in "
         "SaslAuthenticate requests)");
    return;
  }
  const std::optional<std::int16_t> authenticate =
      pick_version(ApiKey::sasl_authenticate, kafka::kSaslAuthenticateVersions.hi, kafka::kSaslAuthenticateVersions.lo);
  if (!authenticate) {
    fail(SessionFailure::sasl_handshake_failed, "the broker does not offer SaslAuthenticate v0..v2");
    return;
  }
  authenticate_version_ = *authenticate;
  sasl_step_ = SaslStep::handshake;
  const std::vector<std::uint8_t> frame =
      send(ApiKey::sasl_handshake, kafka::kSaslHandshakeVersion,
           kafka::encode_sasl_handshake_request(to_string(options_.sasl->mechanism)), /*handshake=*/true);
  result.outbound.insert(result.outbound.end(), frame.begin(), frame.end());
}

void KafkaSession::on_sasl_handshake(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                     std::int16_t version, FeedResult& result) {
  kafka::SaslHandshakeAnswer answer;
  if (!kafka::decode_sasl_handshake_response(frame, body_begin, version, answer)) {
    fail(SessionFailure::malformed_response, fmt::format("malformed SaslHandshake v{} response", version));
    return;
  }
  const std::string_view mechanism = to_string(options_.sasl->mechanism);
  if (answer.error_code != 0) {
    std::string enabled;
    for (const std::string& m : answer.mechanisms) enabled += (enabled.empty() ? "" : ", ") + broker_text(m);
    fail(SessionFailure::sasl_handshake_failed,
         fmt::format("SaslHandshake for {} failed: {} (the broker enables: {})", mechanism,
                     describe_error(answer.error_code), enabled.empty() ? std::string("none") : enabled));
    return;
  }
  if (scram_ && !scram_->has_nonce()) {
    fail(SessionFailure::sasl_authentication_failed, "cannot generate a SCRAM nonce (RAND_bytes failed)");
    return;
  }
  std::string token;
  if (scram_) {
    token = scram_->client_first();
  } else {
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd, with no authzid.
    token.push_back('\0');
    token += options_.sasl->username;
    token.push_back('\0');
    token += options_.sasl->password;
  }
  sasl_step_ = SaslStep::first;
  const std::vector<std::uint8_t> request =
      send(ApiKey::sasl_authenticate, authenticate_version_,
           kafka::encode_sasl_authenticate_request(authenticate_version_, bytes_of(token)), /*handshake=*/true);
  OPENSSL_cleanse(token.data(), token.size());
  result.outbound.insert(result.outbound.end(), request.begin(), request.end());
}

void KafkaSession::on_sasl_authenticate(std::span<const std::uint8_t> frame, std::size_t body_begin,
                                        FeedResult& result) {
  kafka::SaslAuthenticateAnswer answer;
  if (!kafka::decode_sasl_authenticate_response(frame, body_begin, authenticate_version_, answer)) {
    fail(SessionFailure::malformed_response,
         fmt::format("malformed SaslAuthenticate v{} response", authenticate_version_));
    return;
  }
  if (answer.error_code != 0) {
    const bool has_message = answer.error_message && !answer.error_message->empty();
    fail(SessionFailure::sasl_authentication_failed,
         "SASL authentication failed: " +
             (has_message ? broker_text(*answer.error_message) : describe_error(answer.error_code)));
    return;
  }
  if (scram_ && sasl_step_ == SaslStep::first) {
    std::string why;
    const std::optional<std::string> final_message = scram_->client_final(answer.auth_bytes, why);
    if (!final_message) {
      fail(SessionFailure::sasl_authentication_failed, "SASL authentication failed: " + mask_password(why));
      return;
    }
    sasl_step_ = SaslStep::final;
    const std::vector<std::uint8_t> request =
        send(ApiKey::sasl_authenticate, authenticate_version_,
             kafka::encode_sasl_authenticate_request(authenticate_version_, bytes_of(*final_message)),
             /*handshake=*/true);
    result.outbound.insert(result.outbound.end(), request.begin(), request.end());
    return;
  }
  if (scram_) {
    std::string why;
    if (!scram_->verify_server_final(answer.auth_bytes, why)) {
      fail(SessionFailure::sasl_authentication_failed, "SASL authentication failed: " + mask_password(why));
      return;
    }
  }
  become_ready(result);
}

void KafkaSession::become_ready(FeedResult& result) {
  state_ = State::ready;
  result.became_ready = true;
}

std::optional<SessionError> KafkaSession::on_eof() {
  if (error_) return std::nullopt;
  std::optional<SessionError> interrupted;
  if (frames_.finish() != kafka::Errc::ok) {
    const std::size_t received = frames_.received_bytes();
    interrupted = SessionError{
        SessionFailure::connection_closed,
        received < 4 ? fmt::format("the broker closed the connection in the middle of a response ({} of its 4 size "
                                   "bytes)",
                                   received)
                     : fmt::format("the broker closed the connection in the middle of a response ({} of {} bytes)",
                                   received, frames_.announced_size() + 4)};
  } else if (state_ == State::idle) {
    interrupted = SessionError{SessionFailure::connection_closed,
                               "the broker closed the connection before kedge sent its first request"};
  } else if (state_ == State::negotiating) {
    interrupted = SessionError{SessionFailure::connection_closed,
                               "the broker closed the connection without answering ApiVersions (a TLS listener "
                               "spoken to in plaintext? see backend.tls)"};
  } else if (state_ == State::authenticating) {
    interrupted = SessionError{SessionFailure::connection_closed,
                               "the broker closed the connection during SASL authentication"};
  } else if (!in_flight_.empty()) {
    // Ready: the broker accepted the handshake and then hung up on a request.
    // Without SASL that is what a listener requiring authentication does to
    // anything past ApiVersions and SaslHandshake (KIP-152).
    const kafka::RequestInfo& oldest = in_flight_.front().info;
    const std::string request = fmt::format("{} v{}", api_label(oldest.api_key), oldest.api_version);
    interrupted = SessionError{
        SessionFailure::connection_closed,
        fmt::format("the broker answered ApiVersions{}, then closed the connection without answering {}{}",
                    options_.sasl ? " and authenticated kedge" : "",
                    in_flight_.size() == 1 ? request
                                           : fmt::format("{} requests (the oldest: {})", in_flight_.size(), request),
                    options_.sasl ? "" : " (a listener that requires SASL authentication? see "
                                         "backend.discovery.sasl)")};
  }
  if (interrupted) fail(interrupted->cause, interrupted->message);
  else fail(SessionFailure::connection_closed, "the broker closed the connection");
  return interrupted;
}

KafkaSession::Sent KafkaSession::request(ApiKey api, std::int16_t our_max_version, const BodyEncoder& encode,
                                         std::int16_t our_min_version) {
  Sent sent;
  if (error_) {
    sent.error = error_;
    return sent;
  }
  if (state_ != State::ready) {
    sent.error = SessionError{SessionFailure::not_ready,
                              fmt::format("{} requested before the session is ready (ApiVersions{} not finished)",
                                          api_label(key_of(api)), options_.sasl ? " and SASL" : "")};
    return sent;
  }
  const std::optional<std::int16_t> version = pick_version(api, our_max_version, our_min_version);
  if (!version) {
    const std::optional<kafka::ApiVersionRange> theirs = broker_versions(api);
    sent.error = SessionError{
        SessionFailure::no_common_version,
        theirs ? fmt::format("the broker supports no version of {} kedge can send (the broker: v{}..v{}, kedge: "
                             "v{}..v{})",
                             api_label(key_of(api)), theirs->min_version, theirs->max_version, our_min_version,
                             our_max_version)
               : fmt::format("the broker supports no version of {} kedge can send (its ApiVersions answer does not "
                             "list {})",
                             api_label(key_of(api)), api_label(key_of(api)))};
    return sent;
  }
  const std::vector<std::uint8_t> body = encode(*version);
  sent.correlation_id = next_correlation_id_;
  sent.api_version = *version;
  sent.bytes = send(api, *version, body, /*handshake=*/false);
  return sent;
}

}  // namespace kedge
