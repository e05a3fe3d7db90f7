#pragma once
// Requests a policy allows only in part (issue 18; docs/policy.md "Requests
// that mix allowed and refused topics"). A Java producer batches the
// partitions of every topic a broker leads into one Produce request, and a
// consumer fetches all of its partitions on a broker in one Fetch: when the
// client may write (read) some of those topics and not others, refusing the
// whole request would fail the allowed records too. Instead kedge forwards
// the request without the refused topics, answers those itself with the
// API's authorization error, and merges that answer into the broker's
// response, so the client receives one response naming every topic it asked
// for, in its request order (a broker answers in request order; a client
// matches entries by name either way).
//
// Split: Produce v3-13 (TopicData), Fetch v0-17 (Topics), ShareFetch v1-2
// and ShareAcknowledge v1-2 (Topics, KIP-932: a share consumer fetches and
// acknowledges every partition a broker leads in one request) and
// DescribeProducers v0 (Topics), and by topic name ListOffsets v0-10,
// OffsetCommit v0-9, OffsetForLeaderEpoch v0-4, DeleteRecords v0-2,
// TxnOffsetCommit v0-4, CreateTopics v2-7, DeleteTopics v1-6 and
// CreatePartitions v0-3 (a refused topic's entry is the one its whole refusal
// gives it, refusal.h): the versions a cluster with ACLs offers
// (policy::acl_readable_versions). Everything else of the request
// (transactional id, acks, group, session, forgotten topics, records of
// allowed topics, timeouts, tags) is forwarded byte for byte.
// Pure: no I/O, no exceptions.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/errc.h"
#include "kafka_codec/errors.h"

namespace kedge::kafka {

// Whether a client may use a topic for the request being split (Write for
// Produce, Read for the others). `topic` is the topic's name, or its 16-byte
// id when `by_id` (Produce v13, Fetch v13+ and the share APIs name topics by
// id only, KIP-516).
class TopicVerdict {
 public:
  virtual ~TopicVerdict() = default;
  // ErrorCode::none when the client may use the topic; otherwise the error its
  // entries carry: TOPIC_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_ID for an id
  // the policy cannot name (the client refreshes its Metadata and retries), or
  // INVALID_TOPIC_EXCEPTION for a name a namespace would make too long.
  virtual ErrorCode verdict(std::string_view topic, bool by_id) = 0;
  // The ErrorMessage of a refused topic's entries (Produce v8+, the share
  // APIs, DescribeProducers, CreateTopics, DeleteTopics v5+,
  // CreatePartitions); asked once per refused topic entry of every API but
  // Fetch (APIs without the field ignore it).
  virtual std::string refusal_message(std::string_view topic, bool by_id, ErrorCode error) = 0;
};

// kedge's part of the response to a split request: each refused topic's
// response entry, encoded in the request's version, and its position among
// the topics of the client's request.
struct SplitAnswer {
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  bool by_id = false;  // topics are named by id (Produce v13, Fetch v13+, the share APIs)
  struct Refused {
    std::uint32_t position;  // index of the topic in the client's request
    std::size_t begin, end;  // its encoded response entry in `entries`
    std::string topic;       // name, or the 16-byte id when by_id
    ErrorCode error;
  };
  std::vector<Refused> refused;  // in position order
  std::vector<std::uint8_t> entries;
};

// True for the APIs and versions split_request splits.
bool splittable(std::int16_t api_key, std::int16_t api_version);

enum class SplitResult : std::uint8_t {
  unreadable,   // not splittable, or the request does not parse: decide it whole
  all_allowed,  // nothing to split: forward the request as it is
  none_allowed, // every topic refused: kedge answers it whole (encode_split_refusal)
  split,        // `forwarded` and `answer` hold the two parts
};

// Splits the whole request `frame` (size prefix included, size checked) by
// `verdict`, asked once per topic entry. On SplitResult::split, `forwarded`
// is the request without the refused topic entries (same header, size prefix
// fixed) and `answer` holds their refusals, each with the verdict's error and
// refusal_message as ErrorMessage where the version has one (Produce v8+, the
// share APIs, DescribeProducers; a ShareFetch partition's piggybacked
// acknowledgements fail with it: AcknowledgeErrorCode). On
// none_allowed `answer` holds every topic's refusal and `forwarded` is empty.
// Otherwise both are left empty.
SplitResult split_request(std::span<const std::uint8_t> frame, TopicVerdict& verdict,
                          std::vector<std::uint8_t>& forwarded, SplitAnswer& answer);

// The broker's whole response `frame` to the forwarded part of a split
// request, with `answer`'s entries inserted at their positions (the broker's
// entries fill the others, in order), written to `out` (replaced). A Fetch
// response with a top-level error (v7+, e.g. a fetch session error) is copied
// unchanged, and so is a ShareFetch or ShareAcknowledge response with one
// (a share session error): the client retries the whole request. Errc::malformed_response
// if the frame does not parse as the response to answer's API and version;
// Errc::frame_too_large if the merged frame would exceed `max_frame_size`.
Errc merge_split_response(std::span<const std::uint8_t> frame, const SplitAnswer& answer,
                          std::uint32_t max_frame_size, std::vector<std::uint8_t>& out);

// kedge's whole answer to a request none of whose topics is allowed
// (SplitResult::none_allowed): the response to `correlation_id` naming only
// `answer`'s entries, every other field at its default (ThrottleTimeMs 0; a
// Fetch's ErrorCode 0 and SessionId 0: no fetch session; a share response's
// ErrorCode 0, ErrorMessage null, AcquisitionLockTimeoutMs 0, no
// NodeEndpoints), written to `out`
// (replaced). Errc::frame_too_large past `max_frame_size`, `out` empty then.
Errc encode_split_refusal(const SplitAnswer& answer, std::int32_t correlation_id, std::uint32_t max_frame_size,
                          std::vector<std::uint8_t>& out);

}  // namespace kedge::kafka
