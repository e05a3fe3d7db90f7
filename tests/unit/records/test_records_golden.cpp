// Replays tests/golden/records/*.json: RECORDS blobs written by an independent implementation (librdkafka; see
// tests/golden/records/README.md), each with the batches and records it must decode to. Adding a case = adding a file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <set>
#include <vector>

#include "records/records.h"

using namespace kedge::records;
namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::optional<std::string> nullable(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<std::string>();
}

}  // namespace

TEST_CASE("golden record batches decode to the records their producer wrote", "[records][golden]") {
  const fs::path dir = fs::path(KEDGE_TEST_DATA_DIR) / "golden" / "records";
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 5);
  std::set<std::string> codecs_seen;
  for (const auto& file : files) {
    INFO("vector " << file.filename().string());
    std::ifstream in(file);
    const auto vec = nlohmann::json::parse(in);
    const auto blob = from_hex(vec.at("records_hex").get<std::string>());
    const auto decoded = decode_records(blob);
    const auto& want = vec.at("expected");
    CHECK(to_string(decoded.errc) == want.value("errc", std::string("ok")));
    CHECK(decoded.truncated == want.value("truncated", false));
    REQUIRE(decoded.batches.size() == want.at("batches").size());
    for (std::size_t b = 0; b < decoded.batches.size(); ++b) {
      const auto& got = decoded.batches[b];
      const auto& wb = want.at("batches")[b];
      CHECK(std::string(to_string(got.header.compression())) == wb.at("compression").get<std::string>());
      codecs_seen.insert(wb.at("compression").get<std::string>());
      CHECK(got.header.base_offset == wb.at("base_offset").get<std::int64_t>());
      CHECK(got.header.producer_id == wb.at("producer_id").get<std::int64_t>());
      CHECK(got.header.is_control() == wb.value("control", false));
      REQUIRE(got.records.size() == wb.at("records").size());
      for (std::size_t i = 0; i < got.records.size(); ++i) {
        const auto& wr = wb.at("records")[i];
        const auto& r = got.records[i];
        CHECK(r.offset == wr.at("offset").get<std::int64_t>());
        CHECK(r.timestamp == wr.at("timestamp").get<std::int64_t>());
        CHECK(r.key == nullable(wr.at("key")));
        CHECK(r.value == nullable(wr.at("value")));
        std::vector<RecordHeader> headers;
        for (const auto& h : wr.value("headers", nlohmann::json::array()))
          headers.push_back({h.at(0).get<std::string>(), nullable(h.at(1))});
        CHECK(r.headers == headers);
      }
      // Re-encoding the decoded records with the same codec decodes to the same records (kedge's encoder against
      // librdkafka's decoder is the integration tier's job; here the two sides of kedge agree on real data).
      if (!got.header.is_control()) {
        EncodeOptions options;
        options.compression = got.header.compression();
        std::vector<std::uint8_t> again;
        REQUIRE(encode_batch(got.records, options, again) == Errc::ok);
        const auto redecoded = decode_records(again);
        REQUIRE(redecoded.errc == Errc::ok);
        for (std::size_t i = 0; i < got.records.size(); ++i) {
          CHECK(redecoded.batches.at(0).records.at(i).value == got.records[i].value);
          CHECK(redecoded.batches.at(0).records.at(i).timestamp == got.records[i].timestamp);
        }
      }
    }
  }
  for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    INFO("codec " << codec);
    CHECK(codecs_seen.count(codec) == 1);
  }
}
