#pragma once
// A decoded pub-sub Command as JSON data, in the shape of tests/golden/pubsub/*.json `expect` (see
// tests/golden/pubsub/generate.py): bytes as hex, so tests and the fuzz targets compare data.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "web/pubsub_codec.h"

namespace kedge::web::pubsub::test {

inline std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += kHex[static_cast<unsigned char>(c) >> 4];
    out += kHex[static_cast<unsigned char>(c) & 0xf];
  }
  return out;
}

inline nlohmann::json optional_hex(const std::optional<std::string>& bytes) {
  return bytes ? nlohmann::json(hex(*bytes)) : nlohmann::json(nullptr);
}

inline nlohmann::json describe(const Command& command) {
  nlohmann::json out = {{"sequence", command.sequence},
                        {"encoding", command.encoding == PayloadEncoding::base64 ? "base64" : "utf8"}};
  struct Visitor {
    nlohmann::json& out;
    void operator()(const Empty&) const { out["cmd"] = "empty"; }
    void operator()(const Ping& p) const {
      out["cmd"] = "ping";
      out["state_hex"] = hex(p.state);
    }
    void operator()(const ListOffset& l) const {
      out["cmd"] = "list_offset";
      out["topic"] = l.topic;
      out["partition"] = l.partition;
      out["timestamp"] = l.timestamp;
    }
    void operator()(const Fetch& f) const {
      out["cmd"] = "fetch";
      out["topic"] = f.topic;
      out["partition"] = f.partition;
      out["offset"] = f.offset;
    }
    void operator()(const Subscribe& s) const {
      out["cmd"] = "subscribe";
      out["partitions"] = nlohmann::json::array();
      for (const auto& p : s.partitions) {
        out["partitions"].push_back({{"topic", p.topic}, {"partition", p.partition}, {"offset", p.offset}});
      }
    }
    void operator()(const Unsubscribe&) const { out["cmd"] = "unsubscribe"; }
    void operator()(const Produce& p) const {
      out["cmd"] = "produce";
      out["topic"] = p.topic;
      out["partition"] = p.partition ? nlohmann::json(*p.partition) : nlohmann::json(nullptr);
      out["records"] = nlohmann::json::array();
      for (const auto& r : p.records) {
        nlohmann::json headers = nlohmann::json::array();
        for (const auto& [k, v] : r.headers) headers.push_back({hex(k), hex(v)});
        out["records"].push_back(
            {{"key_hex", optional_hex(r.key)}, {"value_hex", optional_hex(r.value)}, {"headers", headers}});
      }
    }
  };
  std::visit(Visitor{out}, command.body);
  return out;
}

}  // namespace kedge::web::pubsub::test
