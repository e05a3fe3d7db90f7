#pragma once
// kedge as a Kafka client on ONE broker connection, as a pure protocol state
// machine: upstream::KafkaClient (kafka_client.h: discovery, `kedge check`)
// owns the link (socket, TLS), moves bytes, and asks this object what they mean
// and what to send.
// No libuv, no sockets, no callbacks: every call returns values (outbound
// bytes, responses, errors); nothing throws. OpenSSL is used only for SCRAM
// (ScramClient, sasl_client.h).
//
//   start() ─▶ Negotiating: ApiVersions at options.api_versions_version
//                 │  error 35 UNSUPPORTED_VERSION (answered in the v0 layout, KIP-511):
//                 │    retry at the highest version the answer lists and we send,
//                 │    or at v0 when it lists none; fail at v0
//                 ▼  ranges known
//              ├─ no SASL ──────────────────────────────────────────────▶ Ready
//              └─ SASL: Authenticating: SaslHandshake v1 (KIP-152), then
//                 SaslAuthenticate at min(2, broker max): one round (PLAIN,
//                 RFC 4616), two (SCRAM-SHA-256/512, RFC 5802 / 7677) ─▶ Ready
//   Ready: request() picks the highest version both sides support, allocates a
//          correlation id and frames the request; feed() hands back responses.
//   Any state ── malformed frame / refusal / on_eof() ──▶ Failed (sticky: every
//          later call returns the same error).
//
// Correlation: brokers answer in request order on a connection
// (kafka-protocol.md §2), so the in-flight table is a FIFO; a response whose
// correlation id is not the oldest in flight fails the session. Every request
// must expect a response (no Produce acks=0).
//
// Errors are values whose message an operator can act on; they name the API,
// version and sizes involved, carry the broker's own message for a refused
// authentication, and never contain the password or a SCRAM proof.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/frame.h"
#include "kafka_codec/stream.h"
#include "upstream/sasl_client.h"

namespace kedge {

// Why a session failed, named once (style practice 20): X(identifier, label).
#define KEDGE_SESSION_FAILURES(X)                                                                   \
  X(frame_too_large, "frame_too_large")         /* size prefix above limits.max_frame_bytes */     \
  X(malformed_frame, "malformed_frame")         /* size prefix no Kafka response has */            \
  X(connection_closed, "connection_closed")     /* EOF with something pending */                   \
  X(malformed_response, "malformed_response")   /* a response the session reads does not parse */  \
  X(correlation_mismatch, "correlation_mismatch")                                                  \
  X(unexpected_response, "unexpected_response") /* bytes with nothing in flight */                 \
  X(api_versions_failed, "api_versions_failed") /* error answer, or no usable ApiVersions range */ \
  X(no_common_version, "no_common_version")     /* request(): no version both sides support */     \
  X(sasl_handshake_failed, "sasl_handshake_failed")                                                \
  X(sasl_authentication_failed, "sasl_authentication_failed")                                      \
  X(not_ready, "not_ready")                     /* request() before Ready, feed() before start() */

enum class SessionFailure : std::uint8_t {
#define KEDGE_X(id, label) id,
  KEDGE_SESSION_FAILURES(KEDGE_X)
#undef KEDGE_X
};
std::string_view label(SessionFailure failure);

struct SessionError {
  SessionFailure cause = SessionFailure::malformed_response;
  std::string message;
};

struct KafkaSessionOptions {
  std::string client_id = "kedge";
  // limits.max_frame_bytes: every response's size prefix is checked against it before buffering.
  std::uint32_t max_frame_bytes = 100 * 1024 * 1024;
  // backend.discovery.sasl; absent = no SASL (Ready right after ApiVersions).
  std::optional<SaslCredentials> sasl;
  std::int32_t first_correlation_id = 1;
  // The first ApiVersions request's version. 3 (KIP-511, first flexible): v4 has
  // the same body and answer layout and would cost 3.x brokers a retry.
  std::int16_t api_versions_version = 3;
  // ClientSoftwareName / ClientSoftwareVersion (ApiVersions v3+), made KIP-511-safe.
  std::string software_name = "kedge";
  std::string software_version;  // empty = this build's version
  // SCRAM client nonce; empty = random (tests pass RFC 7677's).
  std::string scram_nonce;
};

class KafkaSession {
 public:
  enum class State { idle, negotiating, authenticating, ready, failed };

  explicit KafkaSession(KafkaSessionOptions options);
  KafkaSession(const KafkaSession&) = delete;
  KafkaSession& operator=(const KafkaSession&) = delete;

  // Idle -> Negotiating: the bytes of the first request (ApiVersions) to send.
  // Empty in any other state (nothing to do).
  std::vector<std::uint8_t> start();

  // A response to a request() the caller made, whole and owned by the caller.
  struct Response {
    kafka::RequestInfo request;       // api_key, api_version, correlation_id it answers
    std::vector<std::uint8_t> frame;  // size prefix and response header included
    std::size_t body_begin = 0;       // after the response header (and its tag buffer in v1)
    std::span<const std::uint8_t> body() const { return std::span<const std::uint8_t>(frame).subspan(body_begin); }
  };
  struct FeedResult {
    std::vector<std::uint8_t> outbound;  // bytes to send now (the handshake's next request)
    std::vector<Response> responses;     // in request order
    bool became_ready = false;           // the handshake completed during this call
    std::optional<SessionError> error;   // set once failed (now or before): close the connection
  };
  // Bytes from the broker, in any split. Responses that complete are matched
  // to the oldest request in flight; handshake responses are consumed here.
  // Responses that completed before a failure in the same bytes are returned too.
  FeedResult feed(std::span<const std::uint8_t> bytes);

  // The broker closed the connection (EOF): the session fails, and the return
  // value says what the close interrupted (a response mid-frame, the handshake,
  // requests unanswered). nullopt when it interrupted nothing (Ready, nothing
  // in flight, no partial frame) or the session had failed already.
  std::optional<SessionError> on_eof();

  // Encodes the body of a request at the version given.
  using BodyEncoder = std::function<std::vector<std::uint8_t>(std::int16_t version)>;
  struct Sent {
    std::int32_t correlation_id = 0;
    std::int16_t api_version = -1;
    std::vector<std::uint8_t> bytes;    // the whole frame to send
    std::optional<SessionError> error;  // set: nothing was sent or queued
    explicit operator bool() const { return !error.has_value(); }
  };
  // Ready only: the highest version in [our_min_version, our_max_version] the
  // broker also supports, or no_common_version ("the broker supports no version
  // of Metadata kedge can send ..."), which leaves the session usable. A failed
  // session returns its error; before Ready, not_ready.
  Sent request(kafka::ApiKey api, std::int16_t our_max_version, const BodyEncoder& encode,
               std::int16_t our_min_version = 0);

  // The highest version both sides support for `api`, once ApiVersions answered.
  std::optional<std::int16_t> pick_version(kafka::ApiKey api, std::int16_t our_max_version,
                                           std::int16_t our_min_version = 0) const;
  // What the broker listed for `api` in its ApiVersions answer.
  std::optional<kafka::ApiVersionRange> broker_versions(kafka::ApiKey api) const;

  State state() const { return state_; }
  const std::optional<SessionError>& error() const { return error_; }
  std::size_t in_flight() const { return in_flight_.size(); }
  // The oldest request still unanswered (the handshake's own included), if any.
  std::optional<kafka::RequestInfo> oldest_in_flight() const {
    return in_flight_.empty() ? std::nullopt : std::optional<kafka::RequestInfo>(in_flight_.front().info);
  }
  // The ApiVersions version the broker answered without error (-1 before).
  std::int16_t api_versions_version() const { return api_versions_version_; }
  // The SaslAuthenticate version chosen (-1 before the handshake, or without SASL).
  std::int16_t authenticate_version() const { return authenticate_version_; }

 private:
  enum class SaslStep { handshake, first, final };
  struct InFlight {
    kafka::RequestInfo info;
    bool handshake = false;  // consumed by the session, not returned to the caller
  };

  std::vector<std::uint8_t> send(kafka::ApiKey api, std::int16_t version, std::span<const std::uint8_t> body,
                                 bool handshake);
  void on_frame(std::vector<std::uint8_t> frame, FeedResult& result);
  void on_api_versions(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                       FeedResult& result);
  void begin_sasl(FeedResult& result);
  void on_sasl_handshake(std::span<const std::uint8_t> frame, std::size_t body_begin, std::int16_t version,
                         FeedResult& result);
  void on_sasl_authenticate(std::span<const std::uint8_t> frame, std::size_t body_begin, FeedResult& result);
  void become_ready(FeedResult& result);
  void fail(SessionFailure cause, std::string message);
  std::string frame_error_message(kafka::Errc errc) const;
  // Texts for error messages with the configured password masked ("***"): a
  // broker that echoes what it received must not put a secret into kedge's logs.
  std::string mask_password(std::string text) const;
  std::string broker_text(std::string_view broker_supplied) const;  // also made printable (sasl::printable)

  KafkaSessionOptions options_;
  State state_ = State::idle;
  SaslStep sasl_step_ = SaslStep::handshake;
  kafka::FrameAssembler frames_;
  std::deque<InFlight> in_flight_;
  std::int32_t next_correlation_id_;
  std::vector<kafka::ApiVersionRange> broker_ranges_;
  std::int16_t api_versions_version_ = -1;
  std::int16_t authenticate_version_ = -1;
  std::optional<sasl::ScramClient> scram_;
  std::optional<SessionError> error_;
};

}  // namespace kedge
