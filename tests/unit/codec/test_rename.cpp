// Namespaces (kafka_codec/rename.h): for every request and response table a
// namespace renames, in every version, names prefixed then stripped give the
// original bytes; every prefixed name carries its kind's prefix; the bytes
// around the names are unchanged. Regexes are confined to the namespace and
// stripped back exactly; altering a broker's configs is refused; a
// ListTransactions lists only the namespace's transactions. The golden
// vectors (tests/golden/rename) check the encodings against independent
// encoders.
#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

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
      REQUIRE(up.outcome != RenameResult::Outcome::name_too_long);       // sample names are short
      REQUIRE(up.outcome != RenameResult::Outcome::unconfinable_regex);  // sample regexes are words
      // A sample's ResourceType is random: altering anything but a topic's or a group's config is refused.
      if (up.outcome == RenameResult::Outcome::foreign_resource) continue;
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
  CHECK(apis >= 29);
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
  CHECK(apis >= 24);
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

namespace {
// ProduceRequest v`version` with one topic `topic` (one partition, `records` as its Records), `txn` (null: none).
Bytes produce_request(std::int16_t version, const char* txn, std::string_view topic, std::string_view records) {
  const bool flexible = version >= 9;
  Bytes body;
  const auto string = [&](std::string_view s) { wire::put_string(body, s, flexible); };
  if (txn == nullptr) {
    if (flexible) wire::put_uvarint(body, 0);
    else wire::put_i16(body, -1);
  } else {
    string(txn);
  }
  wire::put_i16(body, -1);    // Acks
  wire::put_i32(body, 30000); // TimeoutMs
  if (flexible) wire::put_uvarint(body, 2); else wire::put_i32(body, 1);  // one topic
  if (version <= 12) string(topic);
  else body.insert(body.end(), 16, 0x5a);  // TopicId
  if (flexible) wire::put_uvarint(body, 2); else wire::put_i32(body, 1);  // one partition
  wire::put_i32(body, 0);
  if (flexible) wire::put_uvarint(body, static_cast<std::uint32_t>(records.size() + 1));
  else wire::put_i32(body, static_cast<std::int32_t>(records.size()));
  body.insert(body.end(), records.begin(), records.end());
  if (flexible) { wire::put_uvarint(body, 0); wire::put_uvarint(body, 0); wire::put_uvarint(body, 0); }
  Bytes frame;
  wire::put_i32(frame, 0);
  wire::put_i16(frame, 0);
  wire::put_i16(frame, version);
  wire::put_i32(frame, 77);
  wire::put_string(frame, "producer", false);
  if (flexible) wire::put_uvarint(frame, 0);
  frame.insert(frame.end(), body.begin(), body.end());
  const auto size = static_cast<std::uint32_t>(frame.size() - 4);
  frame[0] = static_cast<std::uint8_t>(size >> 24); frame[1] = static_cast<std::uint8_t>(size >> 16);
  frame[2] = static_cast<std::uint8_t>(size >> 8); frame[3] = static_cast<std::uint8_t>(size);
  return frame;
}
}  // namespace

TEST_CASE("a Produce renamed from its start, the records streamed, equals the whole request renamed", "[rename]") {
  const std::string records(300, 'r');
  for (const std::int16_t version : {3, 8, 9, 12, 13}) {
    for (const char* txn : {static_cast<const char*>(nullptr), "billing"}) {
      INFO("Produce v" << version << (txn ? " transactional" : ""));
      const Bytes frame = produce_request(version, txn, "orders", records);
      Bytes whole;
      const RenameResult renamed = prefix_request_names(frame, kPrefixes, whole);
      REQUIRE(renamed.outcome == (txn == nullptr && version == 13 ? RenameResult::Outcome::unchanged
                                                                   : RenameResult::Outcome::renamed));
      if (renamed.outcome == RenameResult::Outcome::unchanged) whole = frame;
      std::size_t first_cut = 0;
      for (std::size_t cut = 1; cut < frame.size(); ++cut) {
        Bytes held(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(cut));
        const Bytes before = held;
        if (!prefix_produce_names(held, kPrefixes)) {
          REQUIRE(held == before);  // untouched when it cannot tell yet
          continue;
        }
        if (first_cut == 0) first_cut = cut;
        held.insert(held.end(), frame.begin() + static_cast<std::ptrdiff_t>(cut), frame.end());
        REQUIRE(held == whole);
      }
      CHECK(first_cut > 0);
      CHECK(first_cut < frame.size() - records.size());  // decided before the records
    }
  }
  // Several topics, or a topic too long once prefixed: the whole request decides.
  Bytes too_long = produce_request(9, nullptr, std::string(243, 't'), records);
  too_long.resize(too_long.size() - records.size());
  CHECK_FALSE(prefix_produce_names(too_long, kPrefixes));
}

// --- Regular expressions (confine_regex) --------------------------------------------------------------------------

namespace {
// What a client sends and what the broker gets with the topic prefix "team-a.".
struct Confined {
  const char* client;
  const char* backend;
};
constexpr Confined kConfined[] = {
    {"orders.*", R"(team\-a\.(?:orders.*))"},
    // librdkafka's KIP-848 form (rd_kafka_topic_partition_list_combine_regexes): every regex starts with `^`.
    {"(^orders.*)|(^payments)", R"(team\-a\.(?:((?:)orders.*)|((?:)payments)))"},
    {"^orders$", R"(team\-a\.(?:(?:)orders$))"},
    {"(?i)^orders", R"(team\-a\.(?:(?i)(?:)orders))"},
    {"(?i:^a|^b)c", R"(team\-a\.(?:(?i:(?:)a|(?:)b)c))"},
    {"a|^b", R"(team\-a\.(?:a|(?:)b))"},
    {"^^a", R"(team\-a\.(?:(?:)(?:)a))"},
    {"^", R"(team\-a\.(?:(?:)))"},
    {"^*a", R"(team\-a\.(?:(?:)*a))"},
    // Not at a leading position: `^` keeps RE2's meaning (never after the prefix).
    {"a^b", R"(team\-a\.(?:a^b))"},
    {"(a)?^b", R"(team\-a\.(?:(a)?^b))"},
    {"a(?:)b", R"(team\-a\.(?:a(?:)b))"},
    // Parentheses RE2 reads as literals stay inside kedge's group.
    {"[()|]+", R"(team\-a\.(?:[()|]+))"},
    {R"(orders\(eu\)|x)", R"(team\-a\.(?:orders\(eu\)|x))"},
    {R"(\Q)|(.*\E)", R"(team\-a\.(?:\Q)|(.*\E))"},
    {"[]a)]", R"(team\-a\.(?:[]a)]))"},
    {"[^]a)]", R"(team\-a\.(?:[^]a)]))"},
    {"[[:alpha:])]+", R"(team\-a\.(?:[[:alpha:])]+))"},
    {"[[:^digit:]]", R"(team\-a\.(?:[[:^digit:]]))"},
    {"[[a)]", R"(team\-a\.(?:[[a)]))"},
    {R"(\x{29}\p{Greek}\pL)", R"(team\-a\.(?:\x{29}\p{Greek}\pL))"},
    {"(?P<name>orders)|(?<other>x)", R"(team\-a\.(?:(?P<name>orders)|(?<other>x)))"},
    {"caf\xc3\xa9.*", "team\\-a\\.(?:caf\xc3\xa9.*)"},
};
// Regexes kedge cannot confine: each would reach past its group, or RE2J reads kedge's ")" into it.
constexpr const char* kUnconfinable[] = {
    ".*)|(.*",      // closes kedge's group: "|(.*" would match every topic
    ")",            //
    "(orders",      // a group left open
    "orders\\",     // a lone "\": it would escape kedge's ")"
    "\\Qorders",    // a \Q quote to the end: it would quote kedge's ")"
    "[orders",      // a class left open
    "[]",           // "]" first is a member: still open
    "[[:bogus:]]",  // not a POSIX class (RE2J refuses it)
    "[[:]a]",       //
    "\\x{29",       // an escape that does not end
    "(?x)a",        // RE2 has no x flag
    "(?=a)",        // nor lookarounds
    "(?P<name",     //
    "(?:)orders",   // kedge's own anchor at a leading position: the strip could not tell them apart
    "x|(?:)y",      //
};
}  // namespace

TEST_CASE("a regex is confined to the namespace's names and stripped back exactly", "[rename][regex]") {
  for (const Confined& c : kConfined) {
    INFO(c.client);
    std::string confined, back;
    REQUIRE(confine_regex(c.client, "team-a.", confined));
    CHECK(confined == c.backend);
    REQUIRE(unconfine_regex(confined, "team-a.", back));
    CHECK(back == c.client);
    // Under another prefix, or not confined at all: not kedge's, left as it is.
    CHECK_FALSE(unconfine_regex(confined, "team-b.", back));
    CHECK_FALSE(unconfine_regex(c.client, "team-a.", back));
  }
  for (const char* regex : kUnconfinable) {
    INFO(regex);
    std::string confined;
    CHECK_FALSE(confine_regex(regex, "team-a.", confined));
  }
  // Every ASCII character of a prefix but A-Z a-z 0-9 _ is escaped: a group or transactional id prefix may
  // hold any of them.
  std::string confined;
  REQUIRE(confine_regex("x", "a.b*c+d?e(f)g[h]i{j}k|l^m$n\\o p/q-r_s#t", confined));
  CHECK(confined == R"(a\.b\*c\+d\?e\(f\)g\[h\]i\{j\}k\|l\^m\$n\\o\ p\/q\-r_s\#t(?:x))");
  // A wrapper around something confine_regex never writes is not unwrapped.
  std::string back;
  CHECK_FALSE(unconfine_regex(R"(team\-a\.(?:^orders))", "team-a.", back));   // a leading `^` inside
  CHECK_FALSE(unconfine_regex(R"(team\-a\.(?:a)|(b))", "team-a.", back));     // not one group
  CHECK_FALSE(unconfine_regex(R"(team\-a\.(?:)", "team-a.", back));
  // "" is no regex to confine (KIP-848: no regex; KIP-1152: every transaction): never confined, never written.
  CHECK_FALSE(confine_regex("", "team-a.", confined));
  CHECK_FALSE(unconfine_regex(R"(team\-a\.(?:))", "team-a.", back));
}

TEST_CASE("a confined regex full-matches exactly the prefixed names its client-side regex matches",
          "[rename][regex]") {
  // A third engine (ECMAScript, std::regex) full-matching the regexes whose meaning it shares with RE2: a
  // backend name matches the confined regex only if it carries the prefix and the client's regex matches the
  // rest (no other tenant's name, unprefixed name or half prefix), and, but for a `^` after something that
  // may match empty (rename.h: it never matches after the prefix), every such name does.
  struct Semantics {
    const char* regex;
    bool exact;
  };
  const Semantics regexes[] = {{"orders.*", true}, {"(^orders.*)|(^payments)", true}, {"^orders$", true},
                               {"a|^b", true},     {"^^a", true},                      {".*", true},
                               {"(orders|payments)-[0-9]+", true}, {"x(?:)y", true}, {"[()|]+", true},
                               {"[^.]*", true},    {"a^b", true},  {"(a)?^b", false}, {"a*^b", false}};
  const char* names[] = {"orders", "orders-eu", "payments", "payments-1", "a", "b", "ab", "xy", "()|", "",
                         "team-a.orders", "x.y", "orders-1"};
  const std::string prefix = "team-a.";
  for (const Semantics& r : regexes) {
    INFO(r.regex);
    std::string confined;
    REQUIRE(confine_regex(r.regex, prefix, confined));
    const std::regex client(r.regex), backend(confined);
    for (const char* name : names) {
      for (const char* before : {"team-a.", "", "team-b.", "team-a", "team-aX", "TEAM-A.", "xteam-a."}) {
        const std::string backend_name = before + std::string(name);
        INFO(backend_name);
        const bool allowed = backend_name.starts_with(prefix) &&
                             std::regex_match(backend_name.substr(prefix.size()), client);
        const bool matched = std::regex_match(backend_name, backend);
        if (matched) CHECK(allowed);
        if (r.exact) CHECK(matched == allowed);
      }
    }
  }
}

namespace {
// A flexible request frame: header v2 (client id "cli", no tags), then `body`.
Bytes flexible_request(int api_key, int version, const Builder& body) {
  Builder b = header_v1(api_key, version, 7);
  b.uvarint(0);
  b.raw(body.b);
  return b.frame();
}

// ConsumerGroupHeartbeatRequest v`version`: group "app", SubscribedTopicNames `topics` (null when empty),
// v1's SubscribedTopicRegex `regex` (nullptr: null).
Bytes heartbeat_request(int version, std::initializer_list<const char*> topics, const char* regex) {
  Builder body;
  body.cstr("app").cstr("member-1").i32(3).uvarint(0).cstr("rack-1").i32(-1);
  if (topics.size() == 0) {
    body.uvarint(0);
  } else {
    body.uvarint(static_cast<std::uint32_t>(topics.size() + 1));
    for (const char* t : topics) body.cstr(t);
  }
  if (version >= 1) {
    if (regex == nullptr) body.uvarint(0);
    else body.cstr(regex);
  }
  body.cstr("uniform");                                  // ServerAssignor
  body.uvarint(2).raw(Bytes(16, 0x5a)).uvarint(2).i32(0).uvarint(0);  // TopicPartitions: one owned, by id
  body.uvarint(0);
  return flexible_request(68, version, body);
}

// ListTransactionsRequest v2 with TransactionalIdPattern `pattern` (nullptr: null).
Bytes list_transactions_request(const char* pattern) {
  Builder body;
  body.uvarint(2).cstr("Ongoing").uvarint(1).i64(-1);
  if (pattern == nullptr) body.uvarint(0);
  else body.cstr(pattern);
  body.uvarint(0);
  return flexible_request(66, 2, body);
}

struct ConfigResource {
  int type;
  const char* name;
};
// AlterConfigsRequest v0 (non-flexible) altering "retention.ms" of each resource.
Bytes alter_configs_request(std::initializer_list<ConfigResource> resources) {
  Builder b = header_v1(33, 0, 7);
  b.i32(static_cast<std::int32_t>(resources.size()));
  for (const ConfigResource& r : resources) b.i8(r.type).str(r.name).i32(1).str("retention.ms").str("1000");
  b.i8(0);
  return b.frame();
}
// IncrementalAlterConfigsRequest v1 (flexible).
Bytes incremental_alter_configs_request(std::initializer_list<ConfigResource> resources) {
  Builder body;
  body.uvarint(static_cast<std::uint32_t>(resources.size() + 1));
  for (const ConfigResource& r : resources) {
    body.i8(r.type).cstr(r.name).uvarint(2).cstr("retention.ms").i8(0).cstr("1000").uvarint(0).uvarint(0);
  }
  body.i8(0).uvarint(0);
  return flexible_request(44, 1, body);
}
// DescribeConfigsRequest v0: every key of each resource.
Bytes describe_configs_request(std::initializer_list<ConfigResource> resources) {
  Builder b = header_v1(32, 0, 7);
  b.i32(static_cast<std::int32_t>(resources.size()));
  for (const ConfigResource& r : resources) b.i8(r.type).str(r.name).i32(-1);
  return b.frame();
}

// The names (NameKind-marked strings) kedge finds in a whole request or response frame, in wire order;
// null ones as "<null>".
std::vector<std::string> names_of(const Bytes& frame, const schema::MessageSchema& s, std::int16_t version,
                                  std::size_t body) {
  WalkResult walk;
  REQUIRE((s.leading_fields_only ? read_leading(s, version, frame, body, frame.size(), walk)
                                 : read_body(s, version, frame, body, frame.size(), walk)));
  std::vector<std::string> out;
  for (const NameRef& n : walk.names) {
    out.push_back(n.null ? "<null>"
                         : std::string(reinterpret_cast<const char*>(frame.data() + n.text_begin), n.end - n.text_begin));
  }
  return out;
}
std::size_t request_body(const Bytes& frame) {
  std::int16_t api_key = 0, version = 0;
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  REQUIRE(read_request_header(frame, api_key, version, correlation_id, body));
  return body;
}
std::vector<std::string> request_names(const Bytes& frame) {
  const auto api_key = static_cast<std::int16_t>(wire::get_i16(frame.data() + 4));
  const auto version = static_cast<std::int16_t>(wire::get_i16(frame.data() + 6));
  const schema::MessageSchema* s = schema::find_rename_request_schema(api_key);
  REQUIRE(s != nullptr);
  return names_of(frame, *s, version, request_body(frame));
}
std::vector<std::string> response_names(const Bytes& frame, std::int16_t api_key, std::int16_t version) {
  const schema::MessageSchema* s = schema::find_rename_response_schema(api_key);
  REQUIRE(s != nullptr);
  std::int32_t correlation_id = 0;
  std::size_t body = 0;
  REQUIRE(read_response_header(frame, api_key, version, correlation_id, body));
  return names_of(frame, *s, version, body);
}
using Names = std::vector<std::string>;
}  // namespace

TEST_CASE("ConsumerGroupHeartbeat: the group, its topics and its regex are renamed", "[rename][regex]") {
  Bytes out;
  // v1 with a librdkafka regex: the regex is confined to the namespace's topics.
  const Bytes v1 = heartbeat_request(1, {"orders"}, "(^orders-.*)|(^payments)");
  CHECK(request_names(v1) == Names{"app", "orders", "(^orders-.*)|(^payments)"});
  RenameResult r = prefix_request_names(v1, kPrefixes, out);
  REQUIRE(r.outcome == RenameResult::Outcome::renamed);
  CHECK(request_names(out) == Names{"grp-a.app", "team-a.orders", R"(team\-a\.(?:((?:)orders-.*)|((?:)payments)))"});
  // Stripped again (as a describe shows it), the client's bytes come back.
  const schema::MessageSchema* s = schema::find_rename_request_schema(key_of(ApiKey::consumer_group_heartbeat));
  REQUIRE(s != nullptr);
  Bytes back;
  REQUIRE(rename_message(out, *s, 1, request_body(out), -1, kPrefixes, RenameDirection::strip, back).outcome ==
          RenameResult::Outcome::renamed);
  CHECK(back == v1);

  // Null: the subscription is unchanged since the last heartbeat; "": no regex. Both stay as they are.
  REQUIRE(prefix_request_names(heartbeat_request(1, {"orders"}, nullptr), kPrefixes, out).outcome ==
          RenameResult::Outcome::renamed);
  CHECK(request_names(out) == Names{"grp-a.app", "team-a.orders", "<null>"});
  REQUIRE(prefix_request_names(heartbeat_request(1, {}, ""), kPrefixes, out).outcome ==
          RenameResult::Outcome::renamed);
  CHECK(request_names(out) == Names{"grp-a.app", ""});  // SubscribedTopicNames null: no name
  // A regex that would reach past the namespace is refused, named as the client wrote it.
  out = {0x5a};
  r = prefix_request_names(heartbeat_request(1, {}, ".*)|(.*"), kPrefixes, out);
  CHECK(r.outcome == RenameResult::Outcome::unconfinable_regex);
  CHECK(r.name == ".*)|(.*");
  CHECK(out == Bytes{0x5a});
  // v0 has no regex; the response names topics by id only (nothing to strip, nothing for the id book).
  REQUIRE(prefix_request_names(heartbeat_request(0, {"orders"}, nullptr), kPrefixes, out).outcome ==
          RenameResult::Outcome::renamed);
  CHECK(request_names(out) == Names{"grp-a.app", "team-a.orders"});
  for (std::int16_t v = 0; v <= 1; ++v) {
    CHECK(renamed_versions(key_of(ApiKey::consumer_group_heartbeat)).contains(v));
    CHECK(request_names_anything(key_of(ApiKey::consumer_group_heartbeat), v));
    CHECK_FALSE(response_names_anything(key_of(ApiKey::consumer_group_heartbeat), v));
    CHECK_FALSE(names_topics_by_id(key_of(ApiKey::consumer_group_heartbeat), v));
  }
}

TEST_CASE("ListTransactions v2: the transactional id pattern is confined by the transactional id prefix",
          "[rename][regex]") {
  Bytes out;
  RenameResult r = prefix_request_names(list_transactions_request("^checkout-.*"), kPrefixes, out);
  REQUIRE(r.outcome == RenameResult::Outcome::renamed);
  CHECK(request_names(out) == Names{R"(txn\-a\.(?:(?:)checkout-.*))"});
  // Null or "" lists every transaction (KIP-1152): left as it is, the response filter keeps the namespace's.
  CHECK(prefix_request_names(list_transactions_request(nullptr), kPrefixes, out).outcome ==
        RenameResult::Outcome::unchanged);
  CHECK(prefix_request_names(list_transactions_request(""), kPrefixes, out).outcome ==
        RenameResult::Outcome::unchanged);
  r = prefix_request_names(list_transactions_request("a|(?:)b"), kPrefixes, out);
  CHECK(r.outcome == RenameResult::Outcome::unconfinable_regex);
  CHECK(r.name == "a|(?:)b");
  // A namespace that does not rename transactional ids leaves the pattern alone.
  CHECK(prefix_request_names(list_transactions_request(".*)|(.*"), NamePrefixes{"team-a.", "grp-a.", ""}, out)
            .outcome == RenameResult::Outcome::unchanged);
  for (std::int16_t v = 0; v <= 2; ++v) {
    CHECK(renamed_versions(key_of(ApiKey::list_transactions)).contains(v));
    CHECK(request_names_anything(key_of(ApiKey::list_transactions), v) == (v == 2));
    CHECK(response_names_anything(key_of(ApiKey::list_transactions), v));
  }
}

TEST_CASE("AlterConfigs of a resource outside topics and groups is refused in a namespace", "[rename]") {
  struct Case {
    std::initializer_list<ConfigResource> resources;
    const char* refused;  // nullptr: renamed
  };
  const Case cases[] = {
      {{{2, "orders"}, {32, "app"}}, nullptr},
      {{{2, "orders"}, {4, "1"}}, "broker 1"},
      {{{4, ""}}, "broker \"\""},  // the cluster-wide broker default
      {{{8, "3"}, {4, "1"}}, "broker_logger 3"},
      {{{32, "app"}, {16, "orders-metrics"}}, "client_metrics orders-metrics"},
      {{{0, "x"}}, "config resource type 0 x"},
  };
  for (const Case& c : cases) {
    for (const bool incremental : {false, true}) {
      INFO((c.refused ? c.refused : "renamed") << (incremental ? " (incremental)" : ""));
      const Bytes frame =
          incremental ? incremental_alter_configs_request(c.resources) : alter_configs_request(c.resources);
      Bytes out{0x5a};
      const RenameResult r = prefix_request_names(frame, kPrefixes, out);
      if (c.refused == nullptr) {
        CHECK(r.outcome == RenameResult::Outcome::renamed);
        continue;
      }
      CHECK(r.outcome == RenameResult::Outcome::foreign_resource);
      CHECK(r.name == c.refused);
      CHECK(out == Bytes{0x5a});
    }
  }
  // DescribeConfigs only reads: a broker's configs name nothing of a tenant's, and stay readable.
  Bytes out;
  const RenameResult r = prefix_request_names(describe_configs_request({{4, "1"}, {2, "orders"}}), kPrefixes, out);
  CHECK(r.outcome == RenameResult::Outcome::renamed);
  CHECK(prefix_request_names(describe_configs_request({{4, "1"}}), kPrefixes, out).outcome ==
        RenameResult::Outcome::unchanged);
}

TEST_CASE("DescribeTransactions and ConsumerGroupDescribe are renamed both ways", "[rename]") {
  Builder describe;
  describe.uvarint(3).cstr("checkout-1").cstr("").uvarint(0);
  Bytes out;
  REQUIRE(prefix_request_names(flexible_request(65, 0, describe), kPrefixes, out).outcome ==
          RenameResult::Outcome::renamed);
  CHECK(request_names(out) == Names{"txn-a.checkout-1", "txn-a."});

  Builder groups;
  groups.uvarint(2).cstr("app").i8(1).uvarint(0);
  for (const int v : {0, 1}) {
    REQUIRE(prefix_request_names(flexible_request(69, v, groups), kPrefixes, out).outcome ==
            RenameResult::Outcome::renamed);
    CHECK(request_names(out) == Names{"grp-a.app"});
  }

  // DescribeTransactionsResponse v0: the transactional id and its topics lose their prefixes.
  Builder response;
  response.i32(7).uvarint(0).i32(0).uvarint(2);
  response.i16(0).cstr("txn-a.checkout-1").cstr("Ongoing").i32(60000).i64(1700000000000).i64(1000).i16(2);
  response.uvarint(3).cstr("team-a.orders").uvarint(2).i32(0).uvarint(0).cstr("legacy").uvarint(1).uvarint(0);
  response.uvarint(0).uvarint(0);
  bool changed = false;
  REQUIRE(strip_response_names(response.frame(), 65, 0, -1, kPrefixes, out, changed) == Errc::ok);
  REQUIRE(changed);
  CHECK(response_names(out, 65, 0) == Names{"checkout-1", "orders", "legacy"});

  // ConsumerGroupDescribeResponse v1: the group, its members' topics, the regex kedge confined and the
  // assigned topics; a regex kedge did not write is left as it is.
  for (const std::int16_t v : {0, 1}) {
    Builder group;
    group.i32(7).uvarint(0).i32(0).uvarint(2);
    group.i16(0).uvarint(0).cstr("grp-a.app").cstr("Stable").i32(5).i32(5).cstr("uniform").uvarint(3);
    for (const char* regex : {R"(team\-a\.(?:(?:)orders.*))", R"(team\-b\.(?:.*))"}) {
      group.cstr("m").uvarint(0).uvarint(0).i32(5).cstr("rdkafka").cstr("/10.0.0.1");
      group.uvarint(2).cstr("team-a.orders").cstr(regex);
      for (int assignment = 0; assignment < 2; ++assignment) {
        group.uvarint(2).raw(Bytes(16, 1)).cstr("team-a.orders-eu").uvarint(2).i32(0).uvarint(0).uvarint(0);
      }
      if (v >= 1) group.i8(1);  // MemberType: consumer
      group.uvarint(0);
    }
    group.i32(-2147483648).uvarint(0).uvarint(0);
    REQUIRE(strip_response_names(group.frame(), 69, v, -1, kPrefixes, out, changed) == Errc::ok);
    REQUIRE(changed);
    CHECK(response_names(out, 69, v) == Names{"app", "orders", "^orders.*", "orders-eu", "orders-eu", "orders",
                                              R"(team\-b\.(?:.*))", "orders-eu", "orders-eu"});
  }
}

// --- ListTransactions: a namespace lists only its own transactions ------------------------------------------------

namespace {
// ListTransactionsResponse v`version` (v0-2 share one layout) listing `ids`, each Ongoing, with a producer id
// of its own (1000 + its last character).
Bytes list_transactions_response(int version, std::initializer_list<const char*> ids, int correlation_id = 7) {
  (void)version;
  Builder b;
  b.i32(correlation_id).uvarint(0).i32(0).i16(0).uvarint(2).cstr("Bogus");
  b.uvarint(static_cast<std::uint32_t>(ids.size() + 1));
  for (const std::string_view id : ids) b.cstr(id).i64(1000 + (id.empty() ? 0 : id.back())).cstr("Ongoing").uvarint(0);
  b.uvarint(0);
  return b.frame();
}

struct NamespaceMap : TemplateAddressMap {
  NamePrefixes prefixes{"team-a.", "grp-a.", "txn-a."};
  const NamePrefixes* name_prefixes() const override { return &prefixes; }
};
}  // namespace

TEST_CASE("filter_list_transactions keeps only the transactions behind the prefix", "[rename][filter]") {
  for (const int v : {0, 1, 2}) {
    INFO("v" << v);
    const Bytes mixed = list_transactions_response(v, {"txn-a.x", "billing", "txn-b.y", "txn-a.", "txn-a"});
    Bytes out{0x5a};
    bool changed = false;
    REQUIRE(filter_list_transactions(mixed, static_cast<std::int16_t>(v), "txn-a.", out, changed) == Errc::ok);
    REQUIRE(changed);
    CHECK(out == list_transactions_response(v, {"txn-a.x", "txn-a."}));
    // Nothing foreign, or a namespace that does not rename transactional ids: nothing changes.
    out = {0x5a};
    const Bytes own = list_transactions_response(v, {"txn-a.x"});
    REQUIRE(filter_list_transactions(own, static_cast<std::int16_t>(v), "txn-a.", out, changed) == Errc::ok);
    CHECK_FALSE(changed);
    REQUIRE(filter_list_transactions(mixed, static_cast<std::int16_t>(v), "", out, changed) == Errc::ok);
    CHECK_FALSE(changed);
    CHECK(out == Bytes{0x5a});
    // All foreign: an empty listing.
    REQUIRE(filter_list_transactions(list_transactions_response(v, {"a", "b"}), static_cast<std::int16_t>(v),
                                     "txn-a.", out, changed) == Errc::ok);
    CHECK(changed);
    CHECK(out == list_transactions_response(v, {}));
  }
  Bytes out;
  bool changed = false;
  const Bytes whole = list_transactions_response(0, {"txn-a.x"});
  CHECK(filter_list_transactions(truncated(whole, whole.size() - 3), 0, "txn-a.", out, changed) ==
        Errc::malformed_response);
  CHECK(filter_list_transactions(whole, 3, "txn-a.", out, changed) == Errc::malformed_response);
}

TEST_CASE("the response processor drops foreign transactions before stripping the rest", "[rename][filter]") {
  for (const bool filter : {true, false}) {
    INFO((filter ? "filter_transactional_ids" : "strip only"));
    NamespaceMap map;
    InFlightQueue inflight;
    VectorSink sink;
    ResponseProcessor processor(1 << 20, map);
    RequestInfo request;
    request.api_key = key_of(ApiKey::list_transactions);
    request.api_version = 1;
    request.correlation_id = 7;
    request.strip_names = true;
    request.filter_transactional_ids = filter;
    inflight.push(request);
    REQUIRE(processor.feed(list_transactions_response(1, {"txn-a.x", "billing", "txn-a.y"}), inflight, sink) ==
            Errc::ok);
    CHECK(sink.bytes == (filter ? list_transactions_response(1, {"x", "y"})
                                : list_transactions_response(1, {"x", "billing", "y"})));
    CHECK(inflight.empty());
  }
}
