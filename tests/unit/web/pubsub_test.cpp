// web/pubsub_codec.h and web/json_command.h beyond the golden vectors: size limits, topic names, the JSON replies
// (parsed back with nlohmann, which is not what writes them), the UTF-8 fallback, base64 both ways, and decoding
// that never throws on any prefix of a command.
#include <catch2/catch.hpp>

#include <random>

#include <nlohmann/json.hpp>

#include "pubsub_test_support.h"
#include "web/json_command.h"
#include "web/pubsub_codec.h"
#include "web_test_support.h"

using namespace kedge::web::pubsub;
using kedge::web::pubsub::test::describe;
using kedge::web::pubsub::test::hex;
using nlohmann::json;

namespace {

// By value: callers pass the decoder's temporary result.
CommandError error_of(const std::variant<Command, CommandError>& result) {
  REQUIRE(std::holds_alternative<CommandError>(result));
  return std::get<CommandError>(result);
}

Command command_of(const std::variant<Command, CommandError>& result) {
  if (const auto* e = std::get_if<CommandError>(&result)) FAIL("error: " << e->message);
  return std::get<Command>(result);
}

json parsed(const std::string& text) {
  const json doc = json::parse(text, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

}  // namespace

TEST_CASE("web pubsub: topic names are Kafka's", "[web][pubsub]") {
  CHECK_FALSE(topic_name_problem("orders"));
  CHECK_FALSE(topic_name_problem("a.b_c-D9"));
  CHECK_FALSE(topic_name_problem(std::string(249, 'x')));
  CHECK_FALSE(topic_name_problem("..."));
  CHECK(topic_name_problem("")->find("empty") != std::string::npos);
  CHECK(topic_name_problem(std::string(250, 'x'))->find("250 characters long") != std::string::npos);
  CHECK(topic_name_problem(".")->find("not allowed") != std::string::npos);
  CHECK(topic_name_problem("..")->find("not allowed") != std::string::npos);
  CHECK(*topic_name_problem("a b") ==
        "topic \"a b\": invalid character \" \" (Kafka topic names are 1..249 characters of [a-zA-Z0-9._-])");
  CHECK(topic_name_problem(std::string("a\0b", 3))->find("\"a\\x00b\"") != std::string::npos);
}

TEST_CASE("web pubsub: decoders refuse input above their limit before parsing", "[web][pubsub]") {
  const std::string ping = R"({"sequence":5,"cmd":"ping"})";
  CHECK(std::holds_alternative<Command>(decode_json_command(ping, ping.size())));
  const auto& e = error_of(decode_json_command(ping, ping.size() - 1));
  CHECK(e.message == "command of 27 bytes exceeds the limit of 26 bytes");
  CHECK(e.sequence == 0);

  const std::vector<std::uint8_t> binary(kMaxBinaryCommandBytes + 1, 0);
  CHECK(error_of(decode_binary_command(binary)).message.find("exceeds the limit of 65536 bytes") != std::string::npos);
  const std::vector<std::uint8_t> empty_cmd = {0x08, 0x01, 0xfa, 0x01, 0x00};  // sequence 1, cmd_empty
  CHECK(std::holds_alternative<Command>(decode_binary_command(empty_cmd, 5)));
  CHECK(std::holds_alternative<CommandError>(decode_binary_command(empty_cmd, 4)));
}

TEST_CASE("web pubsub: no prefix of a command throws or decodes to garbage", "[web][pubsub]") {
  const std::string text =
      R"({"sequence":9,"cmd":"produce","topic":"t","encoding":"base64","records":[{"key":"AAE=","value":null,)"
      R"("headers":[{"key":"aA==","value":"eA=="}]}]})";
  const Command whole = command_of(decode_json_command(text));
  CHECK(describe(whole).at("records")[0].at("key_hex") == "0001");
  for (std::size_t n = 0; n < text.size(); ++n) {
    const auto result = decode_json_command(std::string_view(text).substr(0, n));
    CHECK(std::holds_alternative<CommandError>(result));
  }
  const std::vector<std::uint8_t> fetch = {0x08, 0x07, 0x8a, 0x02, 0x07, 0x0a, 0x01, 't', 0x10, 0x01, 0x18, 0x2a};
  CHECK(describe(command_of(decode_binary_command(fetch))) ==
        json({{"sequence", 7}, {"cmd", "fetch"}, {"encoding", "utf8"}, {"topic", "t"}, {"partition", 1}, {"offset", 42}}));
  for (std::size_t n = 0; n < fetch.size(); ++n) {
    (void)decode_binary_command(std::span(fetch).first(n));  // each prefix: some value, never a throw
  }
}

TEST_CASE("web pubsub: binary replies", "[web][pubsub]") {
  // A message that is not UTF-8 cannot go into protobuf `string`: each bad byte becomes '?'.
  const auto bytes = encode_binary_error(1, 2, "a\xff" "b");
  CHECK(kedge::web::test::to_hex(bytes) == "0801fa01070802120361" "3f" "62");
  // A null key and an empty key are the same bytes (proto3).
  const RecordView null_key{5, 6, std::nullopt, std::string_view("v")};
  const RecordView empty_key{5, 6, std::string_view(), std::string_view("v")};
  CHECK(encode_binary_fetch(1, std::span(&null_key, 1)) == encode_binary_fetch(1, std::span(&empty_key, 1)));
}

TEST_CASE("web pubsub: JSON replies", "[web][pubsub]") {
  SECTION("error, pong, list_offset, subscribed, unsubscribed") {
    CHECK(parsed(encode_json_error(7, 40401, "no \"such\" topic\n")) ==
          json({{"sequence", 7}, {"type", "error"}, {"code", 40401}, {"message", "no \"such\" topic\n"}}));
    CHECK(parsed(encode_json_error(7, 1, "bad \xff")).at("message") == "bad \xEF\xBF\xBD");
    CHECK(parsed(encode_json_pong(-3, "hi")) == json({{"sequence", -3}, {"type", "pong"}, {"state", "hi"}}));
    CHECK(parsed(encode_json_pong(1, "\x80")) ==
          json({{"sequence", 1}, {"type", "pong"}, {"state", "gA=="}, {"encoding", "base64"}}));
    CHECK(parsed(encode_json_list_offset(9223372036854775807, -1)) ==
          json({{"sequence", 9223372036854775807}, {"type", "list_offset"}, {"offset", -1}}));
    const SubscribedPartition parts[] = {{"a", 0, 5}, {"b", 3, 0}};
    CHECK(parsed(encode_json_subscribed(4, parts)) ==
          json({{"sequence", 4}, {"type", "subscribed"},
                {"partitions", {{{"topic", "a"}, {"partition", 0}, {"offset", 5}},
                                {{"topic", "b"}, {"partition", 3}, {"offset", 0}}}}}));
    CHECK(parsed(encode_json_unsubscribed(4)) == json({{"sequence", 4}, {"type", "unsubscribed"}}));
  }
  SECTION("produce result: REST Proxy v2 offsets, error null when written") {
    const ProduceOutcome outcomes[] = {{0, 42, 0, ""}, {1, -1, 3, "UNKNOWN_TOPIC_OR_PARTITION"}};
    CHECK(parsed(encode_json_produce_result(8, "t", outcomes)) ==
          json({{"sequence", 8}, {"type", "produce"}, {"topic", "t"},
                {"offsets", {{{"partition", 0}, {"offset", 42}, {"error_code", 0}, {"error", nullptr}},
                             {{"partition", 1}, {"offset", -1}, {"error_code", 3},
                              {"error", "UNKNOWN_TOPIC_OR_PARTITION"}}}}}));
  }
  SECTION("fetch: utf8, nulls, headers, control characters") {
    const HeaderView headers[] = {{"h", std::string_view("x")}, {"n", std::nullopt}};
    const RecordView records[] = {
        {42, 1700000000000, std::string_view("k"), std::string_view("line\n\t\"q\"\\ \x01 é"), headers},
        {43, -1, std::nullopt, std::nullopt, {}},
        {44, 0, std::string_view(), std::string_view(), {}}};
    const json doc = parsed(encode_json_fetch(7, "t", 2, records, PayloadEncoding::utf8));
    CHECK(doc == json::parse(R"({"sequence":7,"type":"fetch","topic":"t","partition":2,"encoding":"utf8","messages":[
      {"offset":42,"timestamp":1700000000000,"key":"k","value":"line\n\t\"q\"\\ \u0001 é",
       "headers":[{"key":"h","value":"x"},{"key":"n","value":null}]},
      {"offset":43,"timestamp":-1,"key":null,"value":null,"headers":[]},
      {"offset":44,"timestamp":0,"key":"","value":"","headers":[]}]})"));
  }
  SECTION("fetch: a message that is not UTF-8 goes out whole in base64, marked; the others stay utf8") {
    const HeaderView headers[] = {{"h", std::string_view("x")}};
    const RecordView records[] = {{1, 2, std::string_view("k"), std::string_view("\xc3\x28"), headers},
                                  {2, 3, std::string_view("k"), std::string_view("ok"), {}}};
    const json doc = parsed(encode_json_fetch(7, "t", 0, records, PayloadEncoding::utf8));
    CHECK(doc.at("messages")[0] == json::parse(R"({"offset":1,"timestamp":2,"encoding":"base64","key":"aw==",
      "value":"wyg=","headers":[{"key":"aA==","value":"eA=="}]})"));
    CHECK(doc.at("messages")[1] == json::parse(R"({"offset":2,"timestamp":3,"key":"k","value":"ok","headers":[]})"));
  }
  SECTION("fetch: base64 to a produce command and back gives the same bytes") {
    std::mt19937 random(19);
    for (std::size_t size = 0; size < 70; ++size) {
      std::string value(size, '\0');
      for (char& c : value) c = static_cast<char>(random());
      const HeaderView headers[] = {{value, std::string_view(value)}};
      const RecordView record{0, 0, std::string_view(value), std::string_view(value), headers};
      const json message =
          parsed(encode_json_fetch(1, "t", 0, std::span(&record, 1), PayloadEncoding::base64)).at("messages")[0];
      CHECK_FALSE(message.contains("encoding"));
      const json command = {{"cmd", "produce"}, {"topic", "t"}, {"encoding", "base64"},
                            {"records", {{{"key", message.at("key")}, {"value", message.at("value")},
                                          {"headers", message.at("headers")}}}}};
      const json decoded = describe(command_of(decode_json_command(command.dump())));
      const json record_expected = {{"key_hex", hex(value)}, {"value_hex", hex(value)},
                                    {"headers", json::array({json::array({hex(value), hex(value)})})}};
      CHECK(decoded.at("records")[0] == record_expected);
    }
  }
}

TEST_CASE("web pubsub: JSON errors keep the sequence whenever it was readable", "[web][pubsub]") {
  CHECK(error_of(decode_json_command(R"({"sequence":77,"cmd":"nope"})")).sequence == 77);
  CHECK(error_of(decode_json_command(R"({"cmd":"fetch","sequence":78,"topic":"t"})")).sequence == 78);
  CHECK(error_of(decode_json_command(R"({"sequence":79,"cmd":"fetch")")).sequence == 0);  // not JSON
  CHECK(error_of(decode_json_command(R"({"sequence":-1,"cmd":"ping","x":1})")).sequence == -1);
  CHECK(error_of(decode_json_command(R"({"sequence":"80","cmd":"ping"})")).sequence == 0);
}
