// ApiVersions clamp (kafka-protocol.md §3, "Notes for building the clamp";
// GOLDEN_FORMAT.md). Keys whose responses kedge walks are capped at the highest
// version schema.cpp describes (or its client_max), so a client never
// negotiates a layout the engine cannot parse; controller-only Raft APIs that
// carry endpoints kedge does not front are removed; every other key passes
// through unchanged.
#include <algorithm>
#include <cstdint>

#include "kafka_codec/api.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/stream.h"

namespace kedge::kafka {
namespace {

// KRaft quorum APIs whose responses carry controller endpoints (kafka-protocol.md §1.1 †).
constexpr ApiKey kRemoved[] = {ApiKey::vote, ApiKey::begin_quorum_epoch, ApiKey::end_quorum_epoch,
                               ApiKey::fetch_snapshot, ApiKey::update_raft_voter};

}  // namespace

std::int16_t max_supported_version(std::int16_t api_key) {
  if (const schema::MessageSchema* s = schema::find_response_schema(api_key)) {
    return std::min(s->valid.hi, s->client_max);
  }
  for (const ApiKey removed : kRemoved)
    if (is(api_key, removed)) return -1;
  return INT16_MAX;
}

}  // namespace kedge::kafka
