#pragma once
// Schema-driven writer of sample responses (style practice 2): builds a valid
// frame for any (api_key, version) in schema.cpp from a seed, so tests and fuzz
// seeds cover every version the engine claims to walk.
#include <cstdint>
#include <vector>

#include "kafka_codec/schema.h"
#include "kafka_codec/stream.h"

namespace kedge::kafka {

struct SampleOptions {
  std::uint32_t seed = 1;
  std::int32_t correlation_id = 0x11223344;
  bool unknown_tags = true;  // add an unknown tagged field to every tag buffer
};

// Whole response frame (size prefix + response header + body). `endpoints`
// receives every endpoint written (NodeId, Host, Port), in wire order,
// including NodeId < 0 entries.
std::vector<std::uint8_t> build_sample_response(const schema::MessageSchema& schema,
                                                std::int16_t version, const SampleOptions& options,
                                                std::vector<BrokerEndpoint>* endpoints = nullptr);

}  // namespace kedge::kafka
