// libFuzzer: kedge's data-client decoders (kafka_codec/data_client.h) on
// arbitrary responses. Input: byte 0 selects the API (bits 0-2, modulo 7:
// Metadata, ListOffsets, Fetch, Produce, FindCoordinator, OffsetCommit,
// OffsetFetch) and the version within the range kedge sends (bits 3-7, modulo
// the range's size); the rest is the frame body (response header + message)
// without the int32 size prefix.
// Invariants: no decoder reads outside the frame (ASan) or trusts a wire
// count (a count larger than the frame must fail, not allocate); every span an
// answer holds lies inside the frame; decoding is deterministic; a version
// outside the range is refused; Metadata topic names read back encode again;
// the group offsets read back can be committed again, and their partitions
// fetched again.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/api.h"
#include "kafka_codec/client.h"
#include "kafka_codec/data_client.h"
#include "kafka_codec/wire.h"

namespace {

using namespace kedge::kafka;

// The group and key the fuzzed answers are asked for (the seeds' group).
constexpr std::string_view kGroup = "rest-bridge.orders-consumers";

void check_inside(std::span<const std::uint8_t> frame, std::span<const std::uint8_t> view) {
  if (view.empty()) return;
  if (view.data() < frame.data() || view.data() + view.size() > frame.data() + frame.size()) __builtin_trap();
}

bool decode(int api, std::int16_t version, std::span<const std::uint8_t> frame, std::size_t body_begin,
            std::string& summary) {
  switch (api) {
    case 0: {
      MetadataAnswer a;
      if (!decode_metadata_response(frame, body_begin, version, a)) return false;
      for (const BrokerEndpoint& b : a.brokers) summary += std::to_string(b.node_id) + b.host + ";";
      std::vector<std::string> names;
      for (const TopicLeaders& t : a.topics) {
        summary += t.name + ":" + std::to_string(t.partitions.size()) + ";";
        names.push_back(t.name);
      }
      // The names read back can be asked for again (empty only when one is longer than a STRING holds).
      const auto request = encode_metadata_request_topics(version, names);
      bool too_long = false;
      for (const std::string& n : names) too_long = too_long || n.size() > 0x7fff;
      if (request.empty() != too_long) __builtin_trap();
      return true;
    }
    case 1: {
      ListOffsetsAnswer a;
      if (!decode_list_offsets_response(frame, body_begin, version, "orders", 3, a)) return false;
      summary += std::to_string(a.offset) + "/" + std::to_string(a.timestamp);
      return true;
    }
    case 2: {
      FetchAnswer a;
      if (!decode_fetch_response(frame, body_begin, version, a)) return false;
      std::size_t records = 0;
      for (const FetchPartitionAnswer& p : a.partitions) {
        check_inside(frame, p.records);
        records += p.records.size();
        summary += p.topic + std::to_string(p.partition) + ":" + std::to_string(p.aborted.size()) + ";";
      }
      if (records > frame.size()) __builtin_trap();
      return true;
    }
    case 3: {
      ProduceAnswer a;
      if (!decode_produce_response(frame, body_begin, version, a)) return false;
      for (const ProducePartitionAnswer& p : a.partitions) {
        summary += p.topic + std::to_string(p.partition) + p.error_message + ":" +
                   std::to_string(p.record_errors.size()) + ";";
      }
      return true;
    }
    case 4: {
      CoordinatorAnswer a;
      if (!decode_find_coordinator_response(frame, body_begin, version, kGroup, a)) return false;
      summary += std::to_string(a.error_code) + a.error_message + std::to_string(a.node_id) + a.host + ":" +
                 std::to_string(a.port);
      return true;
    }
    case 5: {
      OffsetCommitAnswer a;
      if (!decode_offset_commit_response(frame, body_begin, version, a)) return false;
      summary += std::to_string(a.throttle_time_ms) + ";";
      for (const PartitionError& p : a.partitions) {
        summary += p.topic + std::to_string(p.partition) + ":" + std::to_string(p.error_code) + ";";
      }
      if (a.partitions.size() > frame.size()) __builtin_trap();
      return true;
    }
    default: {
      OffsetFetchAnswer a;
      if (!decode_offset_fetch_response(frame, body_begin, version, kGroup, a)) return false;
      summary += std::to_string(a.error_code) + ";";
      std::vector<OffsetToCommit> commit;
      std::vector<TopicPartition> partitions;
      bool too_long = false;
      for (const CommittedOffset& o : a.offsets) {
        summary += o.topic + std::to_string(o.partition) + "@" + std::to_string(o.offset) + "/" +
                   std::to_string(o.leader_epoch) + (o.metadata ? "m" + *o.metadata : "-") + ";";
        commit.push_back({o.topic, o.partition, o.offset, o.leader_epoch, o.metadata});
        partitions.push_back({o.topic, o.partition});
        too_long = too_long || o.topic.size() > 0x7fff || (o.metadata && o.metadata->size() > 0x7fff);
      }
      // What was read can be committed again at the same version (OffsetCommit v2-9 holds it) and asked for again.
      const std::int16_t commit_version = version < 2 ? 2 : version;
      if (encode_offset_commit_request(commit_version, kGroup, commit).empty() != too_long) __builtin_trap();
      bool topic_too_long = false;
      for (const TopicPartition& p : partitions) topic_too_long = topic_too_long || p.topic.size() > 0x7fff;
      if (encode_offset_fetch_request(version, kGroup, partitions, false).empty() != topic_too_long) __builtin_trap();
      return true;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr ApiKey kApis[] = {ApiKey::metadata,         ApiKey::list_offsets,  ApiKey::fetch,
                                     ApiKey::produce,          ApiKey::find_coordinator, ApiKey::offset_commit,
                                     ApiKey::offset_fetch};
  static constexpr schema::Versions kRanges[] = {
      kMetadataTopicsRequestVersions,  kListOffsetsRequestVersions, kFetchRequestVersions,
      kProduceRequestVersions,         kFindCoordinatorRequestVersions, kOffsetCommitRequestVersions,
      kOffsetFetchRequestVersions};
  const int api = (data[0] & 7) % 7;
  const int span = kRanges[api].hi - kRanges[api].lo + 1;
  const auto version = static_cast<std::int16_t>(kRanges[api].lo + (data[0] >> 3) % span);

  // The frame in its own allocation, exactly sized: a read past it is an ASan error.
  std::vector<std::uint8_t> frame;
  wire::put_i32(frame, static_cast<std::int32_t>(size - 1));
  frame.insert(frame.end(), data + 1, data + size);
  std::int32_t correlation = 0;
  std::size_t body_begin = 0;
  if (!read_response_header(frame, key_of(kApis[api]), version, correlation, body_begin)) return 0;

  std::string first, second;
  const bool ok = decode(api, version, frame, body_begin, first);
  if (decode(api, version, frame, body_begin, second) != ok || first != second) __builtin_trap();
  // Out-of-range versions are refused whatever the bytes.
  std::string ignored;
  if (decode(api, static_cast<std::int16_t>(kRanges[api].hi + 1), frame, body_begin, ignored)) __builtin_trap();
  return 0;
}
