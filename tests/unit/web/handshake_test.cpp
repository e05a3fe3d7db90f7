// web/handshake.h: the opening handshake's request fields (RFC 6455 §4.2.1),
// every refusal naming its problem with the status the server answers.
#include <catch2/catch.hpp>

#include "web/handshake.h"

using namespace kedge::web;

namespace {

// RFC 6455 §1.3's sample handshake (its key is "the sample nonce").
std::vector<HeaderField> sample_request() {
  return {{"Host", "server.example.com"},
          {"Upgrade", "websocket"},
          {"Connection", "Upgrade"},
          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
          {"Origin", "http://example.com"},
          {"Sec-WebSocket-Protocol", "chat, superchat"},
          {"Sec-WebSocket-Version", "13"}};
}

std::string outcome(const std::vector<HeaderField>& headers) {
  const UpgradeCheck check = check_upgrade_request(headers);
  if (const auto* accepted = std::get_if<UpgradeAccepted>(&check)) return "accepted " + std::string(accepted->key);
  const auto& refused = std::get<UpgradeRefused>(check);
  return std::to_string(refused.http_status()) + " " + std::string(to_string(refused.problem));
}

std::vector<HeaderField> with(std::vector<HeaderField> headers, std::string_view name, std::string_view value) {
  for (auto& field : headers) {
    if (field.name == name) field.value = value;
  }
  return headers;
}

std::vector<HeaderField> without(std::vector<HeaderField> headers, std::string_view name) {
  std::erase_if(headers, [&](const HeaderField& field) { return field.name == name; });
  return headers;
}

std::vector<HeaderField> plus(std::vector<HeaderField> headers, std::string_view name, std::string_view value) {
  headers.push_back({name, value});
  return headers;
}

}  // namespace

TEST_CASE("RFC 6455 §1.3's handshake is accepted and its key returned", "[web][handshake]") {
  const auto headers = sample_request();
  const UpgradeCheck check = check_upgrade_request(headers);
  REQUIRE(std::holds_alternative<UpgradeAccepted>(check));
  const std::string_view key = std::get<UpgradeAccepted>(check).key;
  CHECK(key == "dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(key.data() == headers[3].value.data());  // a view of the caller's bytes
}

TEST_CASE("handshake fields: case, lists and whitespace as HTTP allows", "[web][handshake]") {
  const auto base = sample_request();
  CHECK(outcome(with(base, "Upgrade", "WebSocket")) == "accepted dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(outcome(with(base, "Upgrade", "h2c, websocket")) == "accepted dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(outcome(with(base, "Connection", "keep-alive, Upgrade")) == "accepted dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(outcome(with(base, "Connection", "keep-alive,upgrade ,")) == "accepted dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(outcome(with(base, "Connection", "UPGRADE")) == "accepted dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(outcome(with(base, "Sec-WebSocket-Version", " 13\t")) == "accepted dGhlIHNhbXBsZSBub25jZQ==");
  CHECK(outcome(with(base, "Sec-WebSocket-Key", "  dGhlIHNhbXBsZSBub25jZQ== ")) == "accepted dGhlIHNhbXBsZSBub25jZQ==");
  // Connection split over two fields (RFC 9110 §5.3)
  CHECK(outcome(plus(with(base, "Connection", "keep-alive"), "connection", "upgrade")) ==
        "accepted dGhlIHNhbXBsZSBub25jZQ==");
  // header names in any case
  std::vector<HeaderField> lower;
  const std::vector<std::string> lowered_names{"host", "UPGRADE", "connection", "sec-websocket-key", "origin",
                                               "sec-websocket-protocol", "SEC-WEBSOCKET-VERSION"};
  for (std::size_t i = 0; i < base.size(); ++i) lower.push_back({lowered_names[i], base[i].value});
  CHECK(outcome(lower) == "accepted dGhlIHNhbXBsZSBub25jZQ==");
}

TEST_CASE("handshake refusals name the problem", "[web][handshake][errors]") {
  const auto base = sample_request();
  CHECK(outcome(without(base, "Host")) == "400 missing_host");
  CHECK(outcome(plus(base, "Host", "other.example.com")) == "400 duplicate_host");
  CHECK(outcome(without(base, "Upgrade")) == "400 missing_upgrade");
  CHECK(outcome(with(base, "Upgrade", "h2c")) == "400 upgrade_not_websocket");
  CHECK(outcome(with(base, "Upgrade", "websocket/13")) == "400 upgrade_not_websocket");
  CHECK(outcome(with(base, "Upgrade", "web socket")) == "400 upgrade_not_websocket");
  CHECK(outcome(without(base, "Connection")) == "400 missing_connection");
  CHECK(outcome(with(base, "Connection", "keep-alive")) == "400 connection_without_upgrade");
  CHECK(outcome(with(base, "Connection", "upgraded")) == "400 connection_without_upgrade");
  CHECK(outcome(without(base, "Sec-WebSocket-Version")) == "400 missing_version");
  CHECK(outcome(plus(base, "Sec-WebSocket-Version", "13")) == "400 duplicate_version");
  for (const char* version : {"8", "12", "14", "13, 8", "", "013"}) {
    INFO(version);
    CHECK(outcome(with(base, "Sec-WebSocket-Version", version)) == "426 unsupported_version");
  }
  CHECK(outcome(without(base, "Sec-WebSocket-Key")) == "400 missing_key");
  CHECK(outcome(plus(base, "Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")) == "400 duplicate_key");
  for (const char* key : {
           "",
           "dGhlIHNhbXBsZSBub25jZQ",      // no padding
           "dGhlIHNhbXBsZSBub25jZQ=",     // one '='
           "dGhlIHNhbXBsZSBub25jZQ===",   // 25 characters
           "dGhlIHNhbXBsZSBub25jZXg=",    // 17 bytes
           "dGhlIHNhbXBsZSBub25j",        // 15 bytes, unpadded
           "dGhlIHNhbXBsZSBub25jZR==",    // non-canonical: R leaves bits in the padding
           "dGhlIHNhbXBsZSBub25j-Q==",    // base64url alphabet
           "dGhlIHNhbXBsZSBub2 jZQ==",    // space inside
           "dGhlIHNhbXBsZSBub25jZQ==dGhl",
       }) {
    INFO(key);
    CHECK(outcome(with(base, "Sec-WebSocket-Key", key)) == "400 malformed_key");
  }
}

TEST_CASE("the order of checks: the first problem in the table is reported", "[web][handshake]") {
  CHECK(outcome({}) == "400 missing_host");
  CHECK(outcome({{"Host", "h"}}) == "400 missing_upgrade");
  CHECK(outcome({{"Host", "h"}, {"Upgrade", "websocket"}}) == "400 missing_connection");
  CHECK(outcome({{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "upgrade"}}) == "400 missing_version");
  CHECK(outcome({{"Host", "h"}, {"Upgrade", "websocket"}, {"Connection", "upgrade"}, {"Sec-WebSocket-Version", "13"}}) ==
        "400 missing_key");
}

TEST_CASE("websocket keys: canonical base64 of 16 bytes", "[web][handshake]") {
  CHECK(is_websocket_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  CHECK(is_websocket_key("/////////////////////w=="));
  CHECK(is_websocket_key("+++++++++++++++++++++g=="));
  CHECK_FALSE(is_websocket_key("/////////////////////x=="));
  CHECK(UpgradeRefused{HandshakeProblem::unsupported_version}.reason() == "Sec-WebSocket-Version is not 13");
}
