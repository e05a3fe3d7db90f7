#pragma once
// Shared by the response fuzz targets: a template AddressMap and a sink.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/stream.h"

namespace kedge::kafka::fuzz {

struct TemplateMap : AddressMap {
  std::size_t calls = 0;
  std::int32_t port = 9092;  // what every broker is advertised on
  std::string host;          // what the last advertised_for() returned a view of
  std::string log;           // every on_endpoint_rewritten() call, in order
  Advertised advertised_for(std::int32_t node_id) override {
    host = "broker-" + std::to_string(node_id) + ".kafka.example.com";
    return {host, port};
  }
  void on_endpoint_rewritten(std::int16_t api_key, std::int16_t api_version, std::int32_t node_id,
                             std::string_view real_host, std::int32_t real_port,
                             const Advertised& advertised) override {
    if (node_id < 0) __builtin_trap();  // NodeId < 0 entries must never be rewritten
    ++calls;
    log += std::to_string(api_key) + "v" + std::to_string(api_version) + " " + std::to_string(node_id) + " ";
    log.append(real_host);
    log += ":" + std::to_string(real_port) + " -> ";
    log.append(advertised.host);
    log += ":" + std::to_string(advertised.port) + "\n";
  }
};

struct CountingSink : ByteSink {
  std::vector<std::uint8_t> bytes;
  void write(std::span<const std::uint8_t> b) override { bytes.insert(bytes.end(), b.begin(), b.end()); }
};

}  // namespace kedge::kafka::fuzz
