#pragma once
// Refusals kedge answers in the broker's place when a virtual cluster's policy
// denies a request (issue 18; docs/policy.md). The answer is the response a
// broker whose authorizer denied the same request would send: the API's own
// response, in the exact version the client asked, naming every resource of
// the request (topic, topic id, group, transactional id, config resource) with
// the authorization error of its type:
//   TOPIC_AUTHORIZATION_FAILED (29)             topics, topic ids, topic config resources
//   GROUP_AUTHORIZATION_FAILED (30)             groups
//   CLUSTER_AUTHORIZATION_FAILED (31)           the cluster (an idempotent InitProducerId,
//                                               broker config resources)
//   TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53)  transactional ids
// and every other field at the value Kafka's own spec gives as its default
// (offsets, epochs, counts -1; arrays empty; nullable fields null).
//
// Requests are read with the schema engine from request_schemas() (schema.cpp:
// the fields kedge reads are Role::value); nothing else of them is decoded.
// Pure: no I/O, no exceptions.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/errc.h"
#include "kafka_codec/schema.h"
#include "kafka_codec/topic_filter.h"

namespace kedge::kafka {

// Versions of `api_key` kedge can refuse with a response of its own; an empty
// range (contains() false for every version) for APIs it cannot. A policy
// connection offers clients no other version of these APIs (ApiVersions), so
// every request it may have to refuse has an answer.
schema::Versions refusable_versions(std::int16_t api_key);

// Every API with a non-empty refusable_versions(), in key order.
std::span<const std::int16_t> refusable_apis();

// Versions of `api_key` kedge answers when a policy's ACLs refuse a request
// for a resource it names: refusable_versions(), and the APIs only ACLs reach
// (ListOffsets, the group, offset and transaction APIs, ...; Produce and Fetch
// are decided topic by topic and answered through split.h). These
// are not offered in fewer versions for them: a cluster with ACLs reads them
// only in acl_readable_versions() (policy.h), within this range; a cluster
// whose policy has no ACLs never refuses them by resource.
schema::Versions acl_answerable_versions(std::int16_t api_key);

// The kind of resource a policy's ACLs refused in a request, when it was one
// (a read-only view or an API list refuses the API: unspecified). A request
// that names several kinds is answered as Kafka's authorizer answers the
// first it denies: OffsetCommit with an allowed group and a refused topic
// gets TOPIC_AUTHORIZATION_FAILED on its partitions, TxnOffsetCommit with a
// refused group GROUP_AUTHORIZATION_FAILED. unspecified answers with the error
// of the resource Kafka checks first (the group of a group API, the
// transactional id of a transaction API).
// invalid_topic is not an authorization refusal: a namespace (rename.h) would
// make a topic name longer than Kafka allows, and the topics are answered
// INVALID_TOPIC_EXCEPTION (17), as a broker answers an illegal name.
enum class RefusedResource : std::uint8_t {
  unspecified, topic, group, transactional_id, cluster, invalid_topic,
  invalid_regex,  // a regex a namespace cannot confine: INVALID_REGULAR_EXPRESSION where the answer has one error
};

// The refusal of the whole request `frame` (size prefix included, size already
// checked), appended to `out` as one response frame (size prefix, header,
// body). `message` goes into the response's ErrorMessage fields where the
// version has them; `refused` picks the error where the API names several
// kinds of resource. The answer is bounded by `max_frame_size` like any frame.
// Errc::malformed_request when the request does not parse at its version, or
// its api/version is not refusable; Errc::frame_too_large when the answer
// would exceed the bound. Nothing is appended on error.
// For the ACL-only APIs (request tables marked leading_only in schema.cpp)
// only the request's leading fields are read: a request whose later fields
// (or top-level tag buffer) are cut short or malformed is answered as the
// whole request would be, since the answer names nothing after them.
Errc encode_refusal(std::span<const std::uint8_t> frame, std::string_view message, std::uint32_t max_frame_size,
                    std::vector<std::uint8_t>& out, RefusedResource refused = RefusedResource::unspecified);

// A resource a request names, for the audit log: `type` is "topic",
// "topic_id" (32 hex digits), "group", "transactional_id", or a config
// resource type ("broker", "broker_logger", "client_metrics", "config_resource"
// for types kedge does not name). Names are as the client sent them (bytes,
// not validated text).
struct RequestResource {
  std::string_view type;
  std::string name;
  bool operator==(const RequestResource&) const = default;
};
// The resources a request names, for the APIs and versions of
// request_schemas() (the refusable ones, and those a policy's ACLs read), in
// wire order, each once. FindCoordinator keys are "group",
// "transactional_id" or "share_group_key" by their KeyType. nullopt when the
// request's API or version has no table, or it does not parse by it. Bounded
// by the frame: at most one entry per name on the wire.
std::optional<std::vector<RequestResource>> read_request_resources(std::span<const std::uint8_t> frame);
// The same for the audit log: empty when read_request_resources has nothing.
std::vector<RequestResource> request_resources(std::span<const std::uint8_t> frame);

// The start of a Produce request (v3-12) while its records are still
// arriving: its transactional id (nullopt when null) and its topic, when the
// request names exactly one topic (a producer's request to one broker for
// one topic's partitions: the common case). nullopt when `prefix` is too
// short to tell, names several topics, is of another API or version, or does
// not parse. Views into `prefix`.
struct ProducePrefix {
  std::optional<std::string_view> transactional_id;
  std::string_view topic;
};
std::optional<ProducePrefix> read_produce_prefix(std::span<const std::uint8_t> prefix);
// The TransactionalId of a Produce v3-13 request (whole, or its start):
// `id` nullopt when it is null (a producer outside a transaction). nullopt
// when `prefix` is too short to tell, is of another API or version, or does
// not parse. A view into `prefix`.
struct ProduceTransaction {
  std::optional<std::string_view> id;
};
std::optional<ProduceTransaction> read_produce_transactional_id(std::span<const std::uint8_t> prefix);

// True when a whole Metadata request `frame` asks for every topic: a null
// Topics array (v1+), or an empty one in v0. False otherwise, and for a
// frame that is not a Metadata request.
bool metadata_requests_all_topics(std::span<const std::uint8_t> frame);
// How a whole Metadata request `frame` asks for its topics: all of them
// (metadata_requests_all_topics), by id when it names one by id (v12+, a
// null Name), else by name (also when it does not parse: the broker refuses it).
TopicsAsked metadata_topics_asked(std::span<const std::uint8_t> frame);
// How a whole OffsetFetch request `frame` asks for a group's topics: all when
// some group's Topics is null (v2-7 at the top level, v8+ per group: the
// group's every committed offset), when it names no topic at all, and when
// it does not parse; else by name (a v8+ group with an empty Topics beside
// groups naming theirs does not change that). A v8+ request that names
// topics for some groups and asks all for others counts as all: its answer
// then leaves a refused topic out rather than naming it.
TopicsAsked offset_fetch_topics_asked(std::span<const std::uint8_t> frame);

// A read-only view must not let Metadata create topics (a broker with
// auto.create.topics.enable creates a topic a client asks Metadata for, when
// the request's AllowAutoTopicCreation is true, v4+). Sets that flag to false
// in place in the whole request `frame`; the frame keeps its size. Returns
// true if the flag was true and is now false; false when there was nothing to
// change (v0-3, already false) or the request does not parse at its version
// (the broker refuses it then).
bool turn_off_auto_topic_creation(std::span<std::uint8_t> frame);

}  // namespace kedge::kafka
