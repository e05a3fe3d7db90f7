// libFuzzer: KafkaSession's response path (upstream/kafka_session.h) after start().
// Input: byte 0 = SASL mode (bits 0-1: none, PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and the
// first ApiVersions version (bits 2-4, % 5); byte 1 = chunk size (1..64); byte 2 = the
// highest Metadata version kedge offers (% 13); rest = the broker's bytes.
// Once Ready the driver keeps up to two Metadata requests in flight. Checked: every
// outbound buffer is whole request frames; a response answers the request at its head;
// errors are sticky and never contain the password; request versions stay in range.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kafka_codec/client.h"
#include "kafka_codec/wire.h"
#include "upstream/kafka_session.h"

namespace {

constexpr const char* kPassword = "fuzz-password-must-not-leak";

// Whole request frames, each at least a request header long.
void check_frames(const std::vector<std::uint8_t>& bytes) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 4) __builtin_trap();
    const auto size = static_cast<std::size_t>(kedge::kafka::wire::get_i32(bytes.data() + at));
    if (size < 8 || size > bytes.size() - at - 4) __builtin_trap();
    at += 4 + size;
  }
}

void check_error(const kedge::SessionError& error) {
  if (error.message.empty() || error.message.find(kPassword) != std::string::npos) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kedge::KafkaSession;
  if (size < 3) return 0;
  kedge::KafkaSessionOptions options;
  options.max_frame_bytes = 1 << 16;
  options.api_versions_version = static_cast<std::int16_t>((data[0] >> 2) % 5);
  options.software_version = "1.0";
  options.scram_nonce = "fuzznonce";  // fixed, so inputs can answer SCRAM's server-first
  if (const int mode = data[0] & 3; mode != 0) {
    kedge::SaslCredentials credentials;
    credentials.mechanism = mode == 1   ? kedge::SaslMechanism::plain
                            : mode == 2 ? kedge::SaslMechanism::scram_sha_256
                                        : kedge::SaslMechanism::scram_sha_512;
    credentials.username = "fuzz";
    credentials.password = kPassword;
    options.sasl = credentials;
  }
  const std::size_t chunk = 1 + data[1] % 64;
  const auto metadata_max = static_cast<std::int16_t>(data[2] % 13);
  const std::span<const std::uint8_t> stream(data + 3, size - 3);

  KafkaSession session(options);
  check_frames(session.start());
  std::vector<kedge::kafka::RequestInfo> sent;  // caller requests not yet answered, in order
  std::size_t requests = 0;
  std::string failure;
  for (std::size_t i = 0; i < stream.size() && failure.empty(); i += chunk) {
    KafkaSession::FeedResult result = session.feed(stream.subspan(i, std::min(chunk, stream.size() - i)));
    check_frames(result.outbound);
    for (const KafkaSession::Response& response : result.responses) {
      if (sent.empty()) __builtin_trap();
      const kedge::kafka::RequestInfo expected = sent.front();
      sent.erase(sent.begin());
      if (response.request.correlation_id != expected.correlation_id ||
          response.request.api_version != expected.api_version || response.body_begin > response.frame.size())
        __builtin_trap();
      std::vector<kedge::kafka::BrokerEndpoint> brokers;
      kedge::kafka::read_metadata_brokers(response.frame, response.body_begin, response.request.api_version, brokers);
    }
    if (result.error) {
      check_error(*result.error);
      failure = result.error->message;
      break;
    }
    while (session.state() == KafkaSession::State::ready && sent.size() < 2 && requests < 8) {
      const KafkaSession::Sent request = session.request(kedge::kafka::ApiKey::metadata, metadata_max, [](std::int16_t v) {
        return kedge::kafka::encode_metadata_request_no_topics(v);
      });
      ++requests;
      if (!request) {
        check_error(*request.error);
        if (request.error->cause != kedge::SessionFailure::no_common_version) __builtin_trap();
        break;
      }
      if (request.api_version > metadata_max || request.api_version < 0) __builtin_trap();
      check_frames(request.bytes);
      sent.push_back({kedge::kafka::key_of(kedge::kafka::ApiKey::metadata), request.api_version, request.correlation_id});
    }
  }
  if (!failure.empty()) {
    // Sticky: every later call reports the same failure, and EOF adds nothing.
    const KafkaSession::FeedResult again = session.feed(stream.first(std::min<std::size_t>(1, stream.size())));
    if (!again.error || again.error->message != failure || !again.outbound.empty()) __builtin_trap();
    if (session.on_eof().has_value()) __builtin_trap();
  } else if (const auto interrupted = session.on_eof()) {
    check_error(*interrupted);
  }
  if (session.state() != KafkaSession::State::failed) __builtin_trap();
  return 0;
}
