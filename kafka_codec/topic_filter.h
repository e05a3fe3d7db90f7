#pragma once
// Metadata and ListGroups responses on a virtual cluster with ACLs (issue 18; policy/acl.h):
// Kafka's broker leaves out of a Metadata listing (all topics asked) every
// topic the client may not Describe, and answers a topic asked by name with
// TOPIC_AUTHORIZATION_FAILED and nothing else of it. kedge does the same to
// the broker's response, which it cannot ask to do so (the broker sees
// kedge's identity, or the client's unauthorized one under passthrough).
// A namespace (rename.h) keeps listings to its own names the same way.
// Pure: no I/O, no exceptions.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kafka_codec/errc.h"
#include "kafka_codec/errors.h"

namespace kedge::kafka {

class TopicFilter {
 public:
  virtual ~TopicFilter() = default;
  // True if the client may see topic `name` (Describe).
  virtual bool describable(std::string_view name) = 0;
  // The error a Metadata answer carries for a topic asked by id that the
  // filter refused: TOPIC_AUTHORIZATION_FAILED, as Kafka answers an id the
  // client may not Describe; a namespace answers an id outside it as a
  // broker answers an id it does not host (UNKNOWN_TOPIC_ID).
  virtual ErrorCode refused_by_id_error(std::string_view /*name*/) { return ErrorCode::topic_authorization_failed; }
  // The broker's response names topic `name` with id `id` (16 bytes, v10+;
  // zero for a topic without one): called for every named topic of a
  // filtered response, before it is filtered, so ids can be resolved later
  // (Fetch v13+ names topics by id only; policy/topic_ids.h).
  virtual void learn_topic_id(std::string_view /*id*/, std::string_view /*name*/) {}
};

class GroupFilter {
 public:
  virtual ~GroupFilter() = default;
  // True if the client may see consumer group `group_id` (Describe).
  virtual bool group_describable(std::string_view group_id) = 0;
};

// How the Metadata request asked for its topics.
enum class TopicsAsked : std::uint8_t {
  all,      // null Topics (v1+), or v0's empty array: a listing
  by_name,  // named them
  by_id,    // v12+, by topic id (a null Name): Kafka does not reveal the name of a topic refused by id
};

// `frame` is one whole Metadata response (size prefix included) of `version`.
// Topics the filter refuses are removed from a listing (TopicsAsked::all);
// asked for, they are replaced by the entry Kafka writes: ErrorCode 29, the
// name and a zero TopicId (by name) or a null name and the topic's id (by id,
// v12+), IsInternal false, no partitions, TopicAuthorizedOperations INT32_MIN.
// A topic with a null name (v12+, an unknown topic id) is left as the broker
// sent it. `changed` false: nothing was refused, `out` is untouched.
// Errc::malformed_response if the frame does not parse.
Errc filter_metadata_topics(std::span<const std::uint8_t> frame, std::int16_t version, TopicsAsked asked,
                            TopicFilter& filter, std::vector<std::uint8_t>& out, bool& changed);

// `frame` is one whole ListGroups response (size prefix included) of
// `version` (0-5). Kafka answers a client without Describe on the cluster
// with only the groups it may Describe (KafkaApis handleListGroupsRequest):
// the groups the filter refuses are removed. `changed` false: none was,
// `out` is untouched. Errc::malformed_response if the frame does not parse.
Errc filter_list_groups(std::span<const std::uint8_t> frame, std::int16_t version, GroupFilter& filter,
                        std::vector<std::uint8_t>& out, bool& changed);

// `frame` is one whole ListTransactions response (size prefix included) of
// `version` (0-2). A namespace lists only its own transactions: the entries
// whose TransactionalId does not start with `transactional_id_prefix` are
// removed (the broker lists every transactional id of the backend to a
// ListTransactions v0-1, or v2 with no pattern); an empty prefix keeps every
// entry (the namespace does not rename transactional ids). `changed` false:
// none was removed, `out` is untouched. Errc::malformed_response if the frame
// does not parse.
Errc filter_list_transactions(std::span<const std::uint8_t> frame, std::int16_t version,
                              std::string_view transactional_id_prefix, std::vector<std::uint8_t>& out,
                              bool& changed);

// `frame` is one whole OffsetFetch response (size prefix included) of
// `version` (0-9), to a request that asked for its topics as `asked`
// (offset_fetch_topics_asked, refusal.h). Kafka (KafkaApis
// handleOffsetFetchRequest) answers a topic the client may not Describe:
//  - asked all (null Topics): by leaving it out of the group's offsets
//    (fetchAllOffsetsForGroup), so its name is not revealed;
//  - asked by name: with every partition TOPIC_AUTHORIZATION_FAILED,
//    CommittedOffset and CommittedLeaderEpoch -1, Metadata "" (its
//    UNAUTHORIZED_PARTITION), the other topics answered as the broker did.
// v0-7 name topics at the top level, v8+ in each group. `changed` false:
// nothing was refused, `out` is untouched. Errc::malformed_response if the
// frame does not parse.
Errc filter_offset_fetch_topics(std::span<const std::uint8_t> frame, std::int16_t version, TopicsAsked asked,
                                TopicFilter& filter, std::vector<std::uint8_t>& out, bool& changed);

}  // namespace kedge::kafka
