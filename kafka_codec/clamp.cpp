// ApiVersions clamp (kafka-protocol.md §3, "Notes for building the clamp";
// GOLDEN_FORMAT.md). Keys whose responses kedge walks are capped at the highest
// version schema.cpp describes, so a client never negotiates a layout the
// engine cannot parse; controller-only Raft APIs that carry endpoints kedge does
// not front are removed; every other key passes through unchanged.
#include <cstdint>

#include "kafka_codec/stream.h"

namespace kedge::kafka {
namespace {

struct Clamp {
  std::int16_t api_key;
  std::int16_t max_version;  // -1: remove the entry
};

constexpr Clamp kClamps[] = {
    {0, 13},   // Produce: NodeEndpoints walked up to v13
    {1, 18},   // Fetch
    {3, 13},   // Metadata
    {10, 6},   // FindCoordinator
    {18, 4},   // ApiVersions: v5 (KIP-1242, trunk) carries the target NodeId kedge remaps
    {55, 1},   // DescribeQuorum: v2 adds controller listeners kedge does not front
    {60, 2},   // DescribeCluster
    {78, 2},   // ShareFetch
    {79, 2},   // ShareAcknowledge
    {52, -1},  // Vote
    {53, -1},  // BeginQuorumEpoch
    {54, -1},  // EndQuorumEpoch
    {59, -1},  // FetchSnapshot
    {82, -1},  // UpdateRaftVoter
};

}  // namespace

std::int16_t max_supported_version(std::int16_t api_key) {
  for (const Clamp& c : kClamps)
    if (c.api_key == api_key) return c.max_version;
  return INT16_MAX;
}

}  // namespace kedge::kafka
