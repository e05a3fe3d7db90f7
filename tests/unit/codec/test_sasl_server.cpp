// The server side of SASL framing (kedge terminating a client's authentication, issue 17): requests decoded
// by the schema engine, responses encoded for every version and read back by the client-side decoders, and
// ApiVersions answers that list the APIs kedge answers itself.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/sasl.h"
#include "kafka_codec/stream.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;

namespace {

Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

// An address map for ApiVersions answers only (they carry no broker endpoint); the
// tests below derive what a connection says of its APIs.
struct NoLocalApis : AddressMap {
  Advertised advertised_for(std::int32_t) override { return {"unused", 0}; }
  void on_endpoint_rewritten(std::int16_t, std::int16_t, std::int32_t, std::string_view, std::int32_t,
                             const Advertised&) override {}
};

struct LocalSasl final : NoLocalApis {
  std::span<const LocalApi> local_apis() const override { return apis; }
  std::vector<LocalApi> apis{{17, 1, 1}, {36, 0, 2}};
};

ApiVersionsAnswer rewritten_answer(const Bytes& frame, std::int16_t version, AddressMap& map) {
  FrameRewriter rewriter;
  REQUIRE(rewriter.process(frame, RequestInfo{18, version, 5, false}, map) == Errc::ok);
  const std::span<const std::uint8_t> out = rewriter.changed() ? rewriter.output() : std::span(frame);
  ApiVersionsAnswer answer;
  REQUIRE(decode_api_versions_response(out, 8, version, answer));
  return answer;
}

const ApiVersionRange* range_of(const ApiVersionsAnswer& answer, std::int16_t key) {
  const auto it = std::find_if(answer.ranges.begin(), answer.ranges.end(),
                               [key](const ApiVersionRange& r) { return r.api_key == key; });
  return it == answer.ranges.end() ? nullptr : &*it;
}

// Every golden ApiVersions response that lists APIs (error answers carry no list), with what the clamp
// alone makes of it, under the golden file's name (INFO).
void for_each_api_list(const std::function<void(std::int16_t version, const Bytes& frame,
                                                const ApiVersionsAnswer& clamped)>& check) {
  for (const std::filesystem::path& path : golden_files("api_versions.")) {
    const nlohmann::json j = load(path);
    const auto version = j.at("api_version").get<std::int16_t>();
    const Bytes frame = from_hex(j.at("response_hex").get<std::string>());
    INFO(path.filename().string());
    ApiVersionsAnswer before;
    REQUIRE(decode_api_versions_response(frame, 8, version, before));
    if (before.error_code != 0) continue;
    NoLocalApis plain;
    check(version, frame, rewritten_answer(frame, version, plain));
  }
}

// `answered` is the broker's range `broker` cut to [lo, hi], or absent when they do not meet.
void check_cut_to(const ApiVersionRange* broker, const ApiVersionRange* answered, std::int16_t lo, std::int16_t hi) {
  if (broker == nullptr || std::max(broker->min_version, lo) > std::min(broker->max_version, hi)) {
    CHECK(answered == nullptr);
    return;
  }
  REQUIRE(answered != nullptr);
  CHECK(answered->min_version == std::max(broker->min_version, lo));
  CHECK(answered->max_version == std::min(broker->max_version, hi));
}

}  // namespace

TEST_CASE("SaslHandshake and SaslAuthenticate requests decode in every version", "[sasl][server]") {
  for (std::int16_t v : {0, 1}) {
    INFO("SaslHandshake v" << v);
    const Bytes frame = encode_request_frame(17, v, 41, "rdkafka", encode_sasl_handshake_request("SCRAM-SHA-512"));
    std::int16_t key = 0, version = 0;
    std::int32_t correlation = 0;
    std::size_t body = 0;
    REQUIRE(read_request_header(frame, key, version, correlation, body));
    CHECK(key == 17);
    CHECK(version == v);
    CHECK(correlation == 41);
    std::string mechanism;
    REQUIRE(decode_sasl_handshake_request(frame, body, version, mechanism));
    CHECK(mechanism == "SCRAM-SHA-512");
    CHECK_FALSE(decode_sasl_handshake_request(Bytes(frame.begin(), frame.end() - 1), body, version, mechanism));
  }
  const std::string token("\0user\0pass\xff", 11);  // binary safe
  for (std::int16_t v = 0; v <= 2; ++v) {
    INFO("SaslAuthenticate v" << v);
    const Bytes frame = encode_request_frame(36, v, 42, "c", encode_sasl_authenticate_request(v, bytes_of(token)));
    std::int16_t key = 0, version = 0;
    std::int32_t correlation = 0;
    std::size_t body = 0;
    REQUIRE(read_request_header(frame, key, version, correlation, body));
    CHECK(body == frame.size() - (v >= 2 ? 1 + 1 + token.size() : 4 + token.size()));  // header tags skipped in v2
    std::string auth;
    REQUIRE(decode_sasl_authenticate_request(frame, body, version, auth));
    CHECK(auth == token);
    CHECK_FALSE(decode_sasl_authenticate_request(Bytes(frame.begin(), frame.end() - 2), body, version, auth));
  }
}

TEST_CASE("SaslHandshake and SaslAuthenticate responses read back in every version", "[sasl][server]") {
  const std::string_view mechanisms[] = {"SCRAM-SHA-256", "PLAIN"};
  const Bytes handshake = encode_sasl_handshake_response(7, 33, mechanisms);
  for (std::int16_t v : {0, 1}) {
    std::int32_t correlation = 0;
    std::size_t body = 0;
    REQUIRE(read_response_header(handshake, 17, v, correlation, body));
    CHECK(correlation == 7);
    SaslHandshakeAnswer answer;
    REQUIRE(decode_sasl_handshake_response(handshake, body, v, answer));
    CHECK(answer.error_code == 33);
    CHECK(answer.mechanisms == std::vector<std::string>{"SCRAM-SHA-256", "PLAIN"});
  }
  for (std::int16_t v = 0; v <= 2; ++v) {
    for (const bool with_message : {false, true}) {
      INFO("SaslAuthenticate v" << v << (with_message ? " with message" : ""));
      const std::optional<std::string_view> message =
          with_message ? std::optional<std::string_view>("SASL authentication failed: wrong password")
                       : std::nullopt;
      const Bytes frame =
          encode_sasl_authenticate_response(8, v, with_message ? 58 : 0, message, "v=signature", 3'600'000);
      CHECK(static_cast<std::size_t>(kedge::kafka::wire::get_i32(frame.data())) == frame.size() - 4);
      std::int32_t correlation = 0;
      std::size_t body = 0;
      REQUIRE(read_response_header(frame, 36, v, correlation, body));
      CHECK(correlation == 8);
      SaslAuthenticateAnswer answer;
      REQUIRE(decode_sasl_authenticate_response(frame, body, v, answer));
      CHECK(answer.error_code == (with_message ? 58 : 0));
      CHECK(answer.error_message == (with_message ? std::optional<std::string>(std::string(*message)) : std::nullopt));
      CHECK(answer.auth_bytes == "v=signature");
      CHECK(answer.session_lifetime_ms == (v >= 1 ? 3'600'000 : 0));
    }
  }
}

TEST_CASE("ApiVersions answers list the APIs kedge answers itself, added or replaced", "[sasl][api_versions]") {
  LocalSasl local;
  for_each_api_list([&](std::int16_t version, const Bytes& frame, const ApiVersionsAnswer& clamped) {
    const ApiVersionsAnswer after = rewritten_answer(frame, version, local);
    CHECK(after.error_code == 0);
    const ApiVersionRange* handshake = range_of(after, 17);
    const ApiVersionRange* authenticate = range_of(after, 36);
    REQUIRE(handshake != nullptr);
    REQUIRE(authenticate != nullptr);
    CHECK(handshake->min_version == 1);
    CHECK(handshake->max_version == 1);
    CHECK(authenticate->min_version == 0);
    CHECK(authenticate->max_version == 2);
    // Every other key the broker listed is still there, clamped as without the local APIs.
    for (const ApiVersionRange& r : clamped.ranges) {
      if (r.api_key == 17 || r.api_key == 36) continue;
      const ApiVersionRange* kept = range_of(after, r.api_key);
      REQUIRE(kept != nullptr);
      CHECK(kept->min_version == r.min_version);
      CHECK(kept->max_version == r.max_version);
    }
    const std::size_t had = (range_of(clamped, 17) ? 1 : 0) + (range_of(clamped, 36) ? 1 : 0);
    CHECK(after.ranges.size() == clamped.ranges.size() + 2 - had);
  });
}

// A policy connection (docs/policy.md): an API kedge may refuse later is cut to the versions it can answer
// (cap: never added), a refused one kedge answers is listed with its range (answer), and a refused one it
// cannot answer is removed (hide).
TEST_CASE("ApiVersions answers cap, add and hide APIs for a policy", "[policy][api_versions]") {
  struct PolicyApis final : NoLocalApis {
    std::span<const LocalApi> local_apis() const override { return apis; }
    std::vector<LocalApi> apis{
        {0, 5, 7, LocalApi::Mode::cap},       // Produce: the broker's range cut to 5..7
        {3, 20, 30, LocalApi::Mode::cap},     // Metadata: no overlap with any broker's range -> removed
        {19, 2, 7, LocalApi::Mode::answer},   // CreateTopics: exactly 2..7, added if missing
        {20, 2, 4, LocalApi::Mode::refuse},   // DeleteTopics: cut to 2..4 if offered, else added as 2..4
        {1, 0, -1, LocalApi::Mode::hide},     // Fetch: removed
        {9999, 0, 3, LocalApi::Mode::cap},    // not listed by the broker: never added
        {9998, 0, -1, LocalApi::Mode::hide},  // not listed: nothing to remove
    };
  } policy;
  int checked = 0;
  for_each_api_list([&](std::int16_t version, const Bytes& frame, const ApiVersionsAnswer& clamped) {
    const ApiVersionsAnswer after = rewritten_answer(frame, version, policy);
    check_cut_to(range_of(clamped, 0), range_of(after, 0), 5, 7);  // Produce (cap)
    CHECK(range_of(after, 3) == nullptr);
    CHECK(range_of(after, 1) == nullptr);
    const ApiVersionRange* delete_topics = range_of(after, 20);
    if (range_of(clamped, 20) == nullptr) {  // refuse: added when the broker does not offer it
      REQUIRE(delete_topics != nullptr);
      CHECK(delete_topics->min_version == 2);
      CHECK(delete_topics->max_version == 4);
    } else {
      check_cut_to(range_of(clamped, 20), delete_topics, 2, 4);
    }
    CHECK(range_of(after, 9999) == nullptr);
    const ApiVersionRange* create = range_of(after, 19);
    REQUIRE(create != nullptr);
    CHECK(create->min_version == 2);
    CHECK(create->max_version == 7);
    // Every other key is as the clamp alone leaves it.
    for (const ApiVersionRange& r : clamped.ranges) {
      if (r.api_key == 0 || r.api_key == 1 || r.api_key == 3 || r.api_key == 19 || r.api_key == 20) continue;
      const ApiVersionRange* kept = range_of(after, r.api_key);
      REQUIRE(kept != nullptr);
      CHECK(kept->max_version == r.max_version);
    }
    ++checked;
  });
  CHECK(checked > 5);
}

// A policy that refuses APIs outside kedge's table (docs/policy.md, unknown_apis) does not offer them.
TEST_CASE("ApiVersions answers drop keys outside kedge's table when unknown APIs are refused", "[policy][api_versions]") {
  struct NoUnknown final : NoLocalApis {
    bool offers_unknown_apis() const override { return false; }
  } strict;
  int with_unknown = 0;
  for_each_api_list([&](std::int16_t version, const Bytes& frame, const ApiVersionsAnswer& clamped) {
    const ApiVersionsAnswer after = rewritten_answer(frame, version, strict);
    std::size_t unknown = 0;
    for (const ApiVersionRange& r : clamped.ranges) {
      if (api_name(r.api_key).empty()) {
        ++unknown;
        CHECK(range_of(after, r.api_key) == nullptr);
      } else {
        CHECK(range_of(after, r.api_key) != nullptr);
      }
    }
    CHECK(after.ranges.size() == clamped.ranges.size() - unknown);
    if (unknown > 0) ++with_unknown;
  });
  CHECK(with_unknown > 0);  // the raft_and_proprietary cases list key 10000
}
