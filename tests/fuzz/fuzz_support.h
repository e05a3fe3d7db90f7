#pragma once
// Shared by the response fuzz targets: a template AddressMap and a sink.
#include <cstdint>
#include <string>
#include <vector>

#include "kafka_codec/stream.h"

namespace kedge::kafka::fuzz {

struct TemplateMap : AddressMap {
  std::size_t calls = 0;
  std::string host;  // what the last advertised_for() returned a view of
  Advertised advertised_for(std::int32_t node_id) override {
    host = "broker-" + std::to_string(node_id) + ".kafka.example.com";
    return {host, 9092};
  }
  void on_endpoint_rewritten(std::int16_t, std::int16_t, std::int32_t node_id, std::string_view,
                             std::int32_t, const Advertised&) override {
    if (node_id < 0) __builtin_trap();  // NodeId < 0 entries must never be rewritten
    ++calls;
  }
};

struct CountingSink : ByteSink {
  std::vector<std::uint8_t> bytes;
  void write(std::span<const std::uint8_t> b) override { bytes.insert(bytes.end(), b.begin(), b.end()); }
};

}  // namespace kedge::kafka::fuzz
