// Replays tests/golden/pubsub/*.json, written by tests/golden/pubsub/generate.py with python3-protobuf's pure
// Python implementation (independent of the libprotobuf kedge links), from the same web/pubsub.proto:
//   request.*   decode_binary_command gives the vector's command, or an error containing its text with its sequence
//               (python decides whether the bytes parse and which command they hold; kedge's field rules the rest);
//   response.*  the PubSubResp encoders write exactly python's serialization of the same reply;
//   json.*      decode_json_command gives the vector's command or error (kedge's grammar, web/json_command.h).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "pubsub_test_support.h"
#include "web/json_command.h"
#include "web/pubsub_codec.h"
#include "web_test_support.h"

using namespace kedge::web::pubsub;
using kedge::web::pubsub::test::describe;
using kedge::web::test::Bytes;
using kedge::web::test::from_hex;
using kedge::web::test::to_hex;
namespace fs = std::filesystem;

namespace {

struct Vector {
  std::string file;
  nlohmann::json doc;
};

std::vector<Vector> vectors(std::string_view prefix) {
  std::vector<Vector> out;
  const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "pubsub";
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json" || !name.starts_with(prefix)) continue;
    std::ifstream in(entry.path());
    out.push_back({name, nlohmann::json::parse(in)});
  }
  std::sort(out.begin(), out.end(), [](const Vector& a, const Vector& b) { return a.file < b.file; });
  return out;
}

void check_outcome(const Vector& v, const std::variant<Command, CommandError>& got) {
  INFO(v.file << " (" << v.doc.at("description").get<std::string>() << ")");
  if (v.doc.contains("expect")) {
    const auto* command = std::get_if<Command>(&got);
    if (command == nullptr) FAIL("error: " << std::get<CommandError>(got).message);
    CHECK(describe(*command) == v.doc.at("expect"));
  } else {
    const auto* error = std::get_if<CommandError>(&got);
    if (error == nullptr) FAIL("decoded: " << describe(std::get<Command>(got)).dump());
    const std::string expected = v.doc.at("error").get<std::string>();
    INFO("message: " << error->message);
    CHECK(error->message.find(expected) != std::string::npos);
    CHECK(error->sequence == v.doc.at("sequence").get<std::int64_t>());
  }
}

}  // namespace

TEST_CASE("web pubsub golden vectors: binary requests", "[web][pubsub][golden]") {
  const auto cases = vectors("request.");
  REQUIRE(cases.size() >= 30);
  for (const Vector& v : cases) {
    const Bytes input = from_hex(v.doc.at("request_hex").get<std::string>());
    check_outcome(v, decode_binary_command(input));
  }
}

TEST_CASE("web pubsub golden vectors: binary responses byte for byte", "[web][pubsub][golden]") {
  const auto cases = vectors("response.");
  REQUIRE(cases.size() >= 14);
  for (const Vector& v : cases) {
    const auto& d = v.doc;
    const auto sequence = d.at("sequence").get<std::int64_t>();
    const std::string kind = d.at("kind");
    std::vector<std::uint8_t> out;
    if (kind == "error") {
      out = encode_binary_error(sequence, d.at("code").get<std::int32_t>(), d.at("message").get<std::string>());
    } else if (kind == "pong") {
      const Bytes state = from_hex(d.at("state_hex").get<std::string>());
      out = encode_binary_pong(sequence, std::string_view(reinterpret_cast<const char*>(state.data()), state.size()));
    } else if (kind == "list_offset") {
      out = encode_binary_list_offset(sequence, d.at("offset").get<std::int64_t>());
    } else {
      REQUIRE(kind == "fetch");
      std::vector<std::string> storage;  // keys and values, kept alive for the views
      storage.reserve(d.at("records").size() * 2);
      std::vector<RecordView> records;
      auto bytes = [&](const nlohmann::json& hex) -> std::optional<std::string_view> {
        if (hex.is_null()) return std::nullopt;
        const Bytes raw = from_hex(hex.get<std::string>());
        storage.emplace_back(raw.begin(), raw.end());
        return std::string_view(storage.back());
      };
      for (const auto& r : d.at("records")) {
        RecordView view;
        view.offset = r.at("offset").get<std::int64_t>();
        view.timestamp = r.at("timestamp").get<std::int64_t>();
        view.key = bytes(r.at("key_hex"));
        view.value = bytes(r.at("value_hex"));
        records.push_back(view);
      }
      out = encode_binary_fetch(sequence, records);
    }
    INFO(v.file);
    CHECK(to_hex(out) == d.at("expected_hex").get<std::string>());
  }
}

TEST_CASE("web pubsub golden vectors: JSON commands", "[web][pubsub][golden]") {
  const auto cases = vectors("json.");
  REQUIRE(cases.size() >= 60);
  for (const Vector& v : cases) {
    std::string text;
    if (v.doc.contains("input")) {
      text = v.doc.at("input").get<std::string>();
    } else {
      const Bytes raw = from_hex(v.doc.at("input_hex").get<std::string>());
      text.assign(raw.begin(), raw.end());
    }
    check_outcome(v, decode_json_command(text));
  }
}
