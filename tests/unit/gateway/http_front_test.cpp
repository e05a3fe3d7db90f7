// HttpFront's HTTP/1.1 and WebSocket handling (gateway/http_front.h) against
// a recording Host: what it answers for requests split at every byte,
// pipelined, malformed or over its limits, and for WebSocket upgrades and
// messages that need no broker (ping, bad commands). Paths that reach Kafka
// are the integration tests' (tests/integration/test_gateway_http.py): here
// the Host has no LeaderPool, and the front must say so instead of stalling.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gateway/http_front.h"
#include "http_test_host.h"
#include "web/frame_writer.h"

namespace {

using kedge::HttpFront;
using kedge::testing::RecordingHost;

struct Front {
  RecordingHost host;
  kedge::HttpStats stats;
  HttpFront front;
  Front() : front(host, settings(stats)) {}
  static HttpFront::Settings settings(kedge::HttpStats& stats) {
    HttpFront::Settings s;
    s.connection_id = 1;
    s.client_address = "192.0.2.1:5000";
    s.cluster_name = "alpha";
    s.config.max_message_bytes = 4096;
    s.stats = &stats;
    return s;
  }
  void feed(std::string_view bytes) { front.on_bytes(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()); }
  void feed_bytewise(std::string_view bytes) {
    for (const char c : bytes) feed(std::string_view(&c, 1));
  }
};

// Statuses of the HTTP answers in `sent`, in order.
std::vector<int> statuses(const std::string& sent) {
  std::vector<int> out;
  std::size_t at = 0;
  while ((at = sent.find("HTTP/1.1 ", at)) != std::string::npos) {
    out.push_back(std::stoi(sent.substr(at + 9, 3)));
    at += 9;
  }
  return out;
}

constexpr std::string_view kUpgrade =
    "GET /kafka HTTP/1.1\r\nHost: http.kafka.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// A masked client frame (RFC 6455 §5.3) with mask key 0x01020304.
std::string client_frame(std::uint8_t opcode, std::string_view payload) {
  std::string frame;
  frame += static_cast<char>(0x80 | opcode);
  if (payload.size() < 126) {
    frame += static_cast<char>(0x80 | payload.size());
  } else {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xff);
  }
  const char mask[4] = {1, 2, 3, 4};
  frame.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); i++) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

}  // namespace

TEST_CASE("http front: an unknown path is a 404 in the REST Proxy's error shape, and keep-alive holds",
          "[gateway][http]") {
  Front f;
  f.feed("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET /also-nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(statuses(f.host.sent) == std::vector<int>{404, 404});
  CHECK(f.host.sent.find("\"error_code\":40400") != std::string::npos);
  CHECK(f.host.closes == 0);
  CHECK(f.stats.responses_by_class[3] == 2);
}

TEST_CASE("http front: a request split at every byte is answered once", "[gateway][http]") {
  Front f;
  f.feed_bytewise("GET /topics/bad$name HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(statuses(f.host.sent) == std::vector<int>{400});
  CHECK(f.host.sent.find("\"error_code\":40002") != std::string::npos);
}

TEST_CASE("http front: malformed requests and limits close with a clear status", "[gateway][http]") {
  SECTION("not HTTP") {
    Front f;
    f.feed("\x16\x03\x01 this is not a request line\r\n\r\n");
    CHECK(statuses(f.host.sent) == std::vector<int>{400});
    CHECK(f.host.closes == 1);
  }
  SECTION("headers over 16 KiB: 431") {
    Front f;
    f.feed("GET / HTTP/1.1\r\nX-Big: " + std::string(HttpFront::kMaxHeaderBytes + 10, 'a') + "\r\n\r\n");
    CHECK(statuses(f.host.sent) == std::vector<int>{431});
    CHECK(f.host.closes == 1);
  }
  SECTION("a body over http.max_message_bytes: 413") {
    Front f;
    f.feed("POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x'));
    CHECK(statuses(f.host.sent) == std::vector<int>{413});
    CHECK(f.host.closes == 1);
  }
  SECTION("after the close nothing more is answered") {
    Front f;
    f.feed("BAD\r\n\r\n");
    f.feed("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(statuses(f.host.sent).size() == 1);
  }
}

TEST_CASE("http front: REST answers that need no broker", "[gateway][http]") {
  Front f;
  SECTION("a produce with another content type is 415") {
    f.feed("POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}");
    CHECK(statuses(f.host.sent) == std::vector<int>{415});
  }
  SECTION("a produce the policy refuses is 403 naming the Kafka error") {
    f.feed("POST /topics/secret HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.json.v2+json\r\n"
           "Content-Length: 25\r\n\r\n{\"records\":[{\"value\":1}]}");
    CHECK(statuses(f.host.sent) == std::vector<int>{403});
    CHECK(f.host.sent.find("TOPIC_AUTHORIZATION_FAILED") != std::string::npos);
  }
  SECTION("a produce body without records is 422") {
    f.feed("POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.json.v2+json\r\n"
           "Content-Length: 2\r\n\r\n{}");
    CHECK(statuses(f.host.sent) == std::vector<int>{422});
  }
  SECTION("a binary record that is not base64 is 422 naming it") {
    const std::string body = R"({"records":[{"value":"AAA="},{"value":"not base64!"}]})";
    f.feed("POST /topics/t HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.binary.v2+json\r\n"
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    CHECK(statuses(f.host.sent) == std::vector<int>{422});
    CHECK(f.host.sent.find("records[1].value is not base64") != std::string::npos);
  }
  SECTION("without a pool (the cluster went away) a valid read is 503 and closes") {
    f.feed("GET /topics HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(statuses(f.host.sent) == std::vector<int>{503});
    CHECK(f.host.closes == 1);
  }
  SECTION("a method the endpoint lacks is 405 with Allow") {
    f.feed("DELETE /topics/t HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(statuses(f.host.sent) == std::vector<int>{405});
    CHECK(f.host.sent.find("Allow: GET, POST\r\n") != std::string::npos);
  }
}

TEST_CASE("http front: the WebSocket upgrade", "[gateway][http][websocket]") {
  SECTION("RFC 6455 §1.3's key gets its accept value") {
    Front f;
    f.feed(kUpgrade);
    CHECK(statuses(f.host.sent) == std::vector<int>{101});
    CHECK(f.host.sent.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);
    CHECK(f.front.websocket());
    CHECK(f.stats.websockets_active == 1);
  }
  SECTION("a version other than 13 is 426 with Sec-WebSocket-Version") {
    Front f;
    std::string request(kUpgrade);
    request.replace(request.find("Version: 13"), 11, "Version: 8");
    f.feed(request);
    CHECK(statuses(f.host.sent) == std::vector<int>{426});
    CHECK(f.host.sent.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
    CHECK(!f.front.websocket());
  }
  SECTION("POST on the WebSocket path is 405") {
    Front f;
    f.feed("POST /kafka HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    CHECK(statuses(f.host.sent) == std::vector<int>{405});
  }
  SECTION("the active count drops when the front goes") {
    kedge::HttpStats stats;
    {
      RecordingHost host;
      HttpFront front(host, Front::settings(stats));
      front.on_bytes(reinterpret_cast<const std::uint8_t*>(kUpgrade.data()), kUpgrade.size());
      CHECK(stats.websockets_active == 1);
    }
    CHECK(stats.websockets_active == 0);
  }
}

TEST_CASE("http front: WebSocket messages answered without a broker", "[gateway][http][websocket]") {
  Front f;
  f.feed(kUpgrade);
  const std::size_t after_upgrade = f.host.sent.size();
  SECTION("a JSON ping in the same read as the upgrade's end is answered with its state") {
    Front g;
    g.feed(std::string(kUpgrade) + client_frame(0x1, R"({"sequence":9,"cmd":"ping","state":"hi"})"));
    CHECK(g.host.sent.find(R"({"sequence":9,"type":"pong","state":"hi"})") != std::string::npos);
  }
  SECTION("a malformed JSON command is an error reply, and the connection goes on") {
    f.feed(client_frame(0x1, R"({"sequence":3,"cmd":"nope"})"));
    f.feed(client_frame(0x1, R"({"sequence":4,"cmd":"ping"})"));
    const std::string replies = f.host.sent.substr(after_upgrade);
    CHECK(replies.find(R"("sequence":3,"type":"error","code":42)") != std::string::npos);
    CHECK(replies.find(R"({"sequence":4,"type":"pong")") != std::string::npos);
    CHECK(f.stats.commands[static_cast<std::size_t>(kedge::WsCommand::invalid)] == 1);
    CHECK(f.stats.command_errors[static_cast<std::size_t>(kedge::WsCommand::invalid)] == 1);
  }
  SECTION("a fetch the policy refuses is an error with Kafka's code") {
    f.feed(client_frame(0x1, R"({"sequence":5,"cmd":"fetch","topic":"secret","partition":0,"offset":0})"));
    CHECK(f.host.sent.substr(after_upgrade).find(R"("sequence":5,"type":"error","code":29)") != std::string::npos);
  }
  SECTION("a ping control frame gets a pong with its payload") {
    f.feed(client_frame(0x9, "abc"));
    CHECK(f.host.sent.substr(after_upgrade) == std::string("\x8a\x03" "abc", 5));
  }
  SECTION("an unmasked frame closes with 1002") {
    f.feed(std::string("\x81\x02hi", 4));
    const std::string tail = f.host.sent.substr(after_upgrade);
    REQUIRE(tail.size() >= 4);
    CHECK(static_cast<unsigned char>(tail[0]) == 0x88);
    CHECK(((static_cast<unsigned char>(tail[2]) << 8) | static_cast<unsigned char>(tail[3])) == 1002);
    CHECK(f.host.closes == 1);
  }
  SECTION("a message over http.max_message_bytes closes with 1009") {
    f.feed(client_frame(0x2, std::string(5000, 'x')));
    const std::string tail = f.host.sent.substr(after_upgrade);
    REQUIRE(tail.size() >= 4);
    CHECK(((static_cast<unsigned char>(tail[2]) << 8) | static_cast<unsigned char>(tail[3])) == 1009);
  }
  SECTION("a Close is answered with the same code and ends the connection") {
    f.feed(client_frame(0x8, std::string("\x03\xe8", 2)));
    CHECK(f.host.sent.substr(after_upgrade) == std::string("\x88\x02\x03\xe8", 4));
    CHECK(f.host.closes == 1);
  }
  SECTION("drain sends Close 1001") {
    f.front.drain();
    const std::string tail = f.host.sent.substr(after_upgrade);
    REQUIRE(tail.size() >= 4);
    CHECK(((static_cast<unsigned char>(tail[2]) << 8) | static_cast<unsigned char>(tail[3])) == 1001);
  }
}
