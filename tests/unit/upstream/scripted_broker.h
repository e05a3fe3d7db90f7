#pragma once
// A broker written as bytes for the session tests: it parses the requests a
// KafkaSession sends and builds the responses a broker would answer with,
// by hand and independent of kafka_codec's encoders (its own table of which
// request versions are flexible, from the Kafka 4.3.1 message specs).
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "kafka_codec/wire.h"
#include "test_support.h"

namespace kedge::test {

using kafka::test::Builder;
using kafka::test::Bytes;

struct ParsedRequest {
  std::int16_t api_key = -1, version = -1;
  std::int32_t correlation_id = 0;
  std::string client_id;
  Bytes body;  // after the header
};

// First flexible request version of the APIs the session sends (msg/*Request.json).
inline bool flexible_request(std::int16_t api_key, std::int16_t version) {
  static const std::map<std::int16_t, std::int16_t> flexible_from = {{3, 9}, {18, 3}, {36, 2}, {60, 0}};
  const auto it = flexible_from.find(api_key);
  return it != flexible_from.end() && version >= it->second;
}

// Splits `bytes` (one or more request frames) into requests; every byte must belong to a frame.
inline std::vector<ParsedRequest> parse_requests(const Bytes& bytes) {
  std::vector<ParsedRequest> out;
  std::size_t at = 0;
  while (at < bytes.size()) {
    REQUIRE(bytes.size() - at >= 4);
    const auto size = static_cast<std::size_t>(kafka::wire::get_i32(bytes.data() + at));
    REQUIRE(bytes.size() - at - 4 >= size);
    kafka::wire::Reader r(bytes, at + 4, at + 4 + size);
    ParsedRequest p;
    std::int16_t client_id_length = 0;
    REQUIRE((r.read_i16(p.api_key) && r.read_i16(p.version) && r.read_i32(p.correlation_id) &&
             r.read_i16(client_id_length) && client_id_length >= 0));
    p.client_id = std::string(r.view(r.pos(), static_cast<std::size_t>(client_id_length)));
    REQUIRE(r.skip(static_cast<std::size_t>(client_id_length)));
    if (flexible_request(p.api_key, p.version)) {
      std::uint32_t tags = 1;
      REQUIRE((r.read_uvarint(tags) && tags == 0));
    }
    p.body.assign(bytes.begin() + static_cast<std::ptrdiff_t>(r.pos()),
                  bytes.begin() + static_cast<std::ptrdiff_t>(at + 4 + size));
    out.push_back(std::move(p));
    at += 4 + size;
  }
  return out;
}

inline ParsedRequest only_request(const Bytes& bytes) {
  auto all = parse_requests(bytes);
  REQUIRE(all.size() == 1);
  return all.front();
}

// Frames a response body: correlation id, a header tag buffer for header v1.
inline Bytes answer(std::int32_t correlation_id, const Bytes& body, bool header_v1 = false) {
  Builder b;
  b.i32(correlation_id);
  if (header_v1) b.uvarint(0);
  return b.raw(body).frame();
}
inline Bytes answer(const ParsedRequest& request, const Bytes& body) {
  // Response header v1 for flexible versions, except ApiVersions (KIP-511).
  return answer(request.correlation_id, body, request.api_key != 18 && flexible_request(request.api_key, request.version));
}

using Range = std::tuple<int, int, int>;  // api key, min, max

// ApiVersions response body at `version` (v0 layout for v0; v1-2 + ThrottleTimeMs; v3+ compact).
inline Bytes api_versions_body(int version, const std::vector<Range>& ranges, int error = 0) {
  Builder b;
  b.i16(error);
  if (version >= 3) b.uvarint(static_cast<std::uint32_t>(ranges.size() + 1));
  else b.i32(static_cast<std::int32_t>(ranges.size()));
  for (const auto& [key, min, max] : ranges) {
    b.i16(key).i16(min).i16(max);
    if (version >= 3) b.uvarint(0);
  }
  if (version >= 1) b.i32(0);
  if (version >= 3) b.uvarint(0);
  return b.b;
}

// A broker of today: ApiVersions 0..4, Metadata 0..13, SaslHandshake 0..1, SaslAuthenticate 0..2.
inline std::vector<Range> modern_ranges() { return {{18, 0, 4}, {3, 0, 13}, {17, 0, 1}, {36, 0, 2}, {60, 0, 2}}; }

// Metadata response body at `version` with brokers (id, host, port) and no topics.
inline Bytes metadata_body(int version, const std::vector<std::tuple<int, std::string, int>>& brokers) {
  const bool flexible = version >= 9;
  Builder b;
  if (version >= 3) b.i32(0);  // ThrottleTimeMs
  if (flexible) b.uvarint(static_cast<std::uint32_t>(brokers.size() + 1));
  else b.i32(static_cast<std::int32_t>(brokers.size()));
  for (const auto& [id, host, port] : brokers) {
    b.i32(id);
    if (flexible) b.cstr(host);
    else b.str(host);
    b.i32(port);
    if (version >= 1) {
      if (flexible) b.uvarint(0);  // Rack null
      else b.i16(-1);
    }
    if (flexible) b.uvarint(0);
  }
  if (version >= 2) {
    if (flexible) b.cstr("cluster");
    else b.str("cluster");
  }
  if (version >= 1) b.i32(1);  // ControllerId
  if (flexible) b.uvarint(1);  // Topics: []
  else b.i32(0);
  if (version >= 8 && version <= 10) b.i32(0);
  if (version >= 13) b.i16(0);
  if (flexible) b.uvarint(0);
  return b.b;
}

inline Bytes handshake_body(int error, const std::vector<std::string>& mechanisms) {
  Builder b;
  b.i16(error).i32(static_cast<std::int32_t>(mechanisms.size()));
  for (const auto& m : mechanisms) b.str(m);
  return b.b;
}

// SaslAuthenticate response body at `version`: error, message (empty = null), auth bytes, [lifetime], [tags].
inline Bytes authenticate_body(int version, int error, const std::string& message, const std::string& bytes) {
  const bool flexible = version >= 2;
  Builder b;
  b.i16(error);
  if (message.empty()) {
    if (flexible) b.uvarint(0);
    else b.i16(-1);
  } else if (flexible) {
    b.cstr(message);
  } else {
    b.str(message);
  }
  if (flexible) b.uvarint(static_cast<std::uint32_t>(bytes.size() + 1));
  else b.i32(static_cast<std::int32_t>(bytes.size()));
  b.b.insert(b.b.end(), bytes.begin(), bytes.end());
  if (version >= 1) b.i64(0);
  if (flexible) b.uvarint(0);
  return b.b;
}

// SaslAuthenticate request AuthBytes.
inline std::string auth_bytes_of(const ParsedRequest& request) {
  kafka::wire::Reader r(request.body);
  std::size_t length = 0;
  if (flexible_request(36, request.version)) {
    std::uint32_t n = 0;
    REQUIRE((r.read_uvarint(n) && n > 0));
    length = n - 1;
  } else {
    std::int32_t n = 0;
    REQUIRE((r.read_i32(n) && n >= 0));
    length = static_cast<std::size_t>(n);
  }
  const std::string out(r.view(r.pos(), length));
  REQUIRE(r.skip(length));
  return out;
}

inline std::string mechanism_of(const ParsedRequest& request) {
  kafka::wire::Reader r(request.body);
  std::int16_t length = 0;
  REQUIRE(r.read_i16(length));
  const std::string out(r.view(r.pos(), static_cast<std::size_t>(length)));
  REQUIRE(r.skip(static_cast<std::size_t>(length)));
  CHECK(r.remaining() == 0);
  return out;
}

}  // namespace kedge::test
