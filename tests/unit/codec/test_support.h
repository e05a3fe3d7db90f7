#pragma once
// Helpers shared by the codec tests: hex, a recording sink, a template AddressMap,
// and small frame builders (independent of the engine's writer).
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kafka_codec/client.h"
#include "kafka_codec/stream.h"
#include "kafka_codec/wire.h"

namespace kedge::kafka::test {

using Bytes = std::vector<std::uint8_t>;

inline Bytes from_hex(std::string_view hex) {
  Bytes out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    if (hex[i] == ' ') { --i; continue; }
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

inline std::string to_hex(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto b : bytes) { s += digits[b >> 4]; s += digits[b & 15]; }
  return s;
}

struct VectorSink : ByteSink {
  Bytes bytes;
  std::size_t writes = 0;
  void write(std::span<const std::uint8_t> b) override {
    bytes.insert(bytes.end(), b.begin(), b.end());
    ++writes;
  }
};

// host_template with "{id}" replaced by the node id; one port for all.
struct TemplateAddressMap : AddressMap {
  struct Seen {
    std::int16_t api_key, api_version;
    std::int32_t node_id;
    std::string real_host;
    std::int32_t real_port;
    std::string advertised_host;
    std::int32_t advertised_port;
  };
  std::string host_template = "broker-{id}.kafka.example.com";
  std::int32_t port = 9092;
  std::vector<Seen> seen;

  std::string host;  // what the last advertised_for() returned a view of

  Advertised advertised_for(std::int32_t node_id) override {
    host = host_template;
    const auto at = host.find("{id}");
    if (at != std::string::npos) host.replace(at, 4, std::to_string(node_id));
    return {host, port};
  }
  void on_endpoint_rewritten(std::int16_t api_key, std::int16_t api_version, std::int32_t node_id,
                             std::string_view real_host, std::int32_t real_port,
                             const Advertised& adv) override {
    seen.push_back({api_key, api_version, node_id, std::string(real_host), real_port, std::string(adv.host),
                    adv.port});
  }
};

// Advertises each endpoint's own real address (learned from a previous walk).
struct IdentityAddressMap : AddressMap {
  struct Known {
    std::int32_t node_id;
    std::string host;
    std::int32_t port;
  };
  std::vector<Known> known;
  std::size_t calls = 0;
  Advertised advertised_for(std::int32_t node_id) override {
    for (const Known& k : known)
      if (k.node_id == node_id) return {k.host, k.port};
    return {"unknown", -1};
  }
  void on_endpoint_rewritten(std::int16_t, std::int16_t, std::int32_t, std::string_view,
                             std::int32_t, const Advertised&) override { ++calls; }
};

// Big-endian builder for hand-made frames.
struct Builder {
  Bytes b;
  Builder& i8(int v) { b.push_back(static_cast<std::uint8_t>(v)); return *this; }
  Builder& i16(int v) { i8(v >> 8); return i8(v); }
  Builder& i32(std::int32_t v) { i16(v >> 16); return i16(v & 0xffff); }
  Builder& i64(std::int64_t v) { i32(static_cast<std::int32_t>(v >> 32)); return i32(static_cast<std::int32_t>(v)); }
  Builder& uvarint(std::uint32_t v) {
    while (v >= 0x80) { b.push_back(static_cast<std::uint8_t>(v | 0x80)); v >>= 7; }
    b.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  Builder& str(std::string_view s) { i16(static_cast<int>(s.size())); b.insert(b.end(), s.begin(), s.end()); return *this; }
  Builder& cstr(std::string_view s) { uvarint(static_cast<std::uint32_t>(s.size() + 1)); b.insert(b.end(), s.begin(), s.end()); return *this; }
  Builder& raw(const Bytes& r) { b.insert(b.end(), r.begin(), r.end()); return *this; }
  // Prepends the int32 size prefix.
  Bytes frame() const {
    Builder f;
    f.i32(static_cast<std::int32_t>(b.size()));
    f.raw(b);
    return f.b;
  }
};

// A golden vector file (tests/golden/*.json), parsed.
inline nlohmann::json load(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// The golden vector files whose name starts with `prefix`, sorted.
inline std::vector<std::filesystem::path> golden_files(std::string_view prefix) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(KEDGE_TEST_DATA_DIR) / "golden")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".json" && name.rfind(prefix, 0) == 0) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A request header v1 (api_key, api_version, correlation_id, client_id); add header tags for v2.
inline Builder header_v1(int key, int version, std::int32_t correlation, std::string_view client = "cli") {
  Builder b;
  b.i16(key).i16(version).i32(correlation).str(client);
  return b;
}

// The first `length` bytes of `frame`, with the size prefix made to match (when
// there is room for one): a well-framed message whose body ends early.
inline Bytes truncated(const Bytes& frame, std::size_t length) {
  Bytes out(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(length));
  if (length < 4) return out;
  const auto size = static_cast<std::uint32_t>(length - 4);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
  return out;
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A complete Metadata request frame asking for no topics at `version` (client.h's pieces in one call).
inline std::vector<std::uint8_t> encode_metadata_request(std::int16_t version, std::int32_t correlation_id,
                                                         std::string_view client_id) {
  return encode_request_frame(key_of(ApiKey::metadata), version, correlation_id, client_id,
                              encode_metadata_request_no_topics(version));
}

// The brokers of a whole Metadata response frame (size prefix included) that must answer
// `correlation_id`; false if the frame is not that response or is malformed.
inline bool decode_metadata_brokers(std::span<const std::uint8_t> frame, std::int16_t version,
                                    std::int32_t correlation_id, std::vector<BrokerEndpoint>& out) {
  if (frame.size() < 8 || static_cast<std::int64_t>(wire::get_i32(frame.data())) !=
                              static_cast<std::int64_t>(frame.size()) - 4)
    return false;
  std::int32_t answered = 0;
  std::size_t body_begin = 0;
  if (!read_response_header(frame, key_of(ApiKey::metadata), version, answered, body_begin)) return false;
  return answered == correlation_id && read_metadata_brokers(frame, body_begin, version, out);
}

}  // namespace kedge::kafka::test
