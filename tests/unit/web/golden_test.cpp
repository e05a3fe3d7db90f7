// Replays tests/golden/websocket/*.json, written by
// tests/golden/websocket/generate_websocket.py with python3-websockets' frame
// serializer (an implementation independent of web/):
//   parse.*   the client stream fed to MessageAssembler whole, byte by byte
//             and cut in pieces of 2..13 bytes gives the vector's events, then
//             (close_code set) a violation with that close code;
//   encode.*  the server frame written by web/frame_writer.h equals
//             websockets' serialization byte for byte.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "web/frame_writer.h"
#include "web/message.h"
#include "web_test_support.h"

using namespace kedge::web;
using namespace kedge::web::test;
namespace fs = std::filesystem;

namespace {

struct Vector {
  std::string file;
  nlohmann::json doc;
};

std::vector<Vector> vectors(std::string_view prefix) {
  std::vector<Vector> out;
  const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "websocket";
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json" || !name.starts_with(prefix)) continue;
    std::ifstream in(entry.path());
    out.push_back({name, nlohmann::json::parse(in)});
  }
  std::sort(out.begin(), out.end(), [](const Vector& a, const Vector& b) { return a.file < b.file; });
  return out;
}

// The vector's events (and failure) in the recorder's words (web_test_support.h: describe).
std::vector<std::string> expected_lines(const nlohmann::json& doc) {
  std::vector<std::string> lines;
  for (const auto& event : doc.at("events")) {
    const std::string type = event.at("type");
    if (type == "close") {
      const auto& code = event.at("code");
      lines.push_back("close " + (code.is_null() ? std::string("-") : std::to_string(code.get<int>())) + " " +
                      event.at("reason").get<std::string>());
    } else {
      lines.push_back(type + " " + event.at("payload_hex").get<std::string>());
    }
  }
  return lines;
}

// Our lines with the violation's kind dropped: the vectors know the close code only.
std::vector<std::string> comparable(std::vector<std::string> lines, std::optional<int>& close_code) {
  close_code.reset();
  if (!lines.empty() && lines.back().starts_with("violation ")) {
    close_code = std::stoi(lines.back().substr(lines.back().rfind(' ') + 1));
    lines.pop_back();
  }
  return lines;
}

}  // namespace

TEST_CASE("websocket golden vectors: client streams", "[web][golden]") {
  const auto cases = vectors("parse.");
  REQUIRE(cases.size() >= 100);
  std::size_t failures_expected = 0;
  for (const Vector& v : cases) {
    const Bytes input = from_hex(v.doc.at("input_hex").get<std::string>());
    const auto max = v.doc.at("max_message_bytes").get<std::uint64_t>();
    const auto expected = expected_lines(v.doc);
    const std::optional<int> expected_code =
        v.doc.at("close_code").is_null() ? std::nullopt : std::optional<int>(v.doc.at("close_code").get<int>());
    if (expected_code) ++failures_expected;

    std::vector<std::vector<std::string>> runs{run_whole(input, max)};
    if (input.size() <= 4096) runs.push_back(run_bytewise(input, max));
    for (std::size_t piece = 2; piece <= 13; ++piece) {
      std::vector<std::size_t> cuts;
      for (std::size_t at = piece; at < input.size(); at += piece) cuts.push_back(at);
      runs.push_back(run_pieces(input, cuts, max));
    }
    for (std::size_t r = 0; r < runs.size(); ++r) {
      std::optional<int> code;
      const auto got = comparable(runs[r], code);
      INFO(v.file << " (" << v.doc.at("description").get<std::string>() << "), run " << r);
      CHECK(got == expected);
      CHECK(code == expected_code);
    }
  }
  CHECK(failures_expected > 40);
}

TEST_CASE("websocket golden vectors: server frames", "[web][golden]") {
  const auto cases = vectors("encode.");
  REQUIRE(cases.size() >= 20);
  for (const Vector& v : cases) {
    Bytes out;
    if (v.doc.contains("close")) {
      const auto& close = v.doc.at("close");
      REQUIRE(append_close(out, close.at("code").get<std::uint16_t>(), close.at("reason").get<std::string>()));
    } else {
      const auto opcode = static_cast<Opcode>(v.doc.at("opcode").get<int>());
      const Bytes payload = from_hex(v.doc.at("payload_hex").get<std::string>());
      const bool fin = v.doc.at("fin").get<bool>();
      // Each writer the gateway would use for this frame.
      if (opcode == Opcode::text && fin) append_text(out, std::string(payload.begin(), payload.end()));
      else if (opcode == Opcode::binary && fin) append_binary(out, payload);
      else if (opcode == Opcode::ping) REQUIRE(append_ping(out, payload));
      else if (opcode == Opcode::pong) REQUIRE(append_pong(out, payload));
      else if (opcode == Opcode::close && payload.empty()) append_close_without_code(out);
      else {
        const ServerFrameHeader header(opcode, fin, payload.size());
        out.assign(header.bytes().begin(), header.bytes().end());
        out.insert(out.end(), payload.begin(), payload.end());
      }
    }
    INFO(v.file << " (" << v.doc.at("description").get<std::string>() << ")");
    CHECK(to_hex(out) == v.doc.at("expected_hex").get<std::string>());
  }
}
