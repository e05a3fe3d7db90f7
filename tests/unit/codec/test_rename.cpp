// Namespaces (kafka_codec/rename.h): for every request and response table a
// namespace renames, in every version, names prefixed then stripped give the
// original bytes; every prefixed name carries its kind's prefix; the bytes
// around the names are unchanged. The golden vectors (tests/golden/rename)
// check the encodings against independent encoders.
#include <catch2/catch.hpp>

#include <string>

#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/engine.h"
#include "kafka_codec/rename.h"
#include "kafka_codec/sample.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/wire.h"
#include "test_support.h"

using namespace kedge::kafka;
using namespace kedge::kafka::test;

namespace {

const NamePrefixes kPrefixes{"team-a.", "grp-a.", "txn-a."};

std::size_t body_of(const Bytes& frame, const schema::MessageSchema& s, std::int16_t v) {
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  REQUIRE(read_response_header(frame, s.api_key, v, correlation_id, body));
  return body;
}

std::size_t named_strings(const Bytes& frame, const schema::MessageSchema& s, std::int16_t v, std::size_t body) {
  WalkResult walk;
  const bool read = s.leading_fields_only ? read_leading(s, v, frame, body, frame.size(), walk)
                                          : read_body(s, v, frame, body, frame.size(), walk);
  REQUIRE(read);
  std::size_t n = 0;
  for (const NameRef& name : walk.names) n += name.null ? 0 : 1;
  return n;
}

// Prefix, check, strip, compare: for one table in all its renamed versions.
std::size_t round_trip(const schema::MessageSchema& s, schema::Versions versions) {
  std::size_t renamed = 0;
  for (std::int16_t v = versions.lo; v <= versions.hi; ++v) {
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
      INFO(std::string(s.name) << " v" << v << " seed " << seed);
      const Bytes frame = build_sample_response(s, v, {seed, 0x11223344, seed % 2 == 0});
      const std::size_t body = body_of(frame, s, v);
      Bytes prefixed;
      const RenameResult up = rename_message(frame, s, v, body, 1, kPrefixes, RenameDirection::prefix, prefixed);
      REQUIRE(up.outcome != RenameResult::Outcome::malformed);
      REQUIRE(up.outcome != RenameResult::Outcome::name_too_long);  // sample names are short
      if (up.outcome == RenameResult::Outcome::unchanged) continue;
      ++renamed;
      REQUIRE(wire::get_i32(prefixed.data()) == static_cast<std::int32_t>(prefixed.size() - 4));
      // The prefixed frame walks, with as many names, each one prefixed.
      REQUIRE(named_strings(prefixed, s, v, body) == named_strings(frame, s, v, body));
      REQUIRE(prefixed.size() > frame.size());
      Bytes stripped;
      const RenameResult down = rename_message(prefixed, s, v, body, 1, kPrefixes, RenameDirection::strip, stripped);
      REQUIRE(down.outcome == RenameResult::Outcome::renamed);
      REQUIRE(stripped == frame);
    }
  }
  return renamed;
}

}  // namespace

TEST_CASE("every renamed request table: prefix then strip gives the original bytes", "[rename]") {
  std::size_t apis = 0, renamed = 0;
  for (std::int16_t key = 0; key < static_cast<std::int16_t>(kApiKeyCount); ++key) {
    const schema::MessageSchema* s = schema::find_rename_request_schema(key);
    if (s == nullptr) continue;
    ++apis;
    renamed += round_trip(*s, renamed_versions(key));
  }
  CHECK(apis >= 25);
  CHECK(renamed > 500);
}

TEST_CASE("every renamed response table: prefix then strip gives the original bytes", "[rename]") {
  std::size_t apis = 0, renamed = 0;
  for (std::int16_t key = 0; key < static_cast<std::int16_t>(kApiKeyCount); ++key) {
    const schema::MessageSchema* s = schema::find_rename_response_schema(key);
    if (s == nullptr) continue;
    ++apis;
    renamed += round_trip(*s, s->valid);
  }
  CHECK(apis >= 20);
  CHECK(renamed > 500);
}

TEST_CASE("names a version does not carry are not renamed: Fetch v13+ and Produce v13 name topics by id", "[rename]") {
  CHECK(request_names_anything(key_of(ApiKey::fetch), 12));
  CHECK_FALSE(request_names_anything(key_of(ApiKey::fetch), 13));
  CHECK_FALSE(response_names_anything(key_of(ApiKey::fetch), 16));
  CHECK(response_names_anything(key_of(ApiKey::produce), 12));
  CHECK_FALSE(response_names_anything(key_of(ApiKey::produce), 13));
  CHECK(response_names_anything(key_of(ApiKey::metadata), 12));
  CHECK_FALSE(response_names_anything(key_of(ApiKey::join_group), 9));
  CHECK(renamed_versions(key_of(ApiKey::join_group)).contains(9));
  CHECK(names_nothing(key_of(ApiKey::api_versions)));
  CHECK_FALSE(names_nothing(key_of(ApiKey::describe_acls)));
  CHECK(renamed_versions(key_of(ApiKey::describe_acls)).hi < renamed_versions(key_of(ApiKey::describe_acls)).lo);
}
