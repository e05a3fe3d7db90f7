#pragma once
// Namespaces (issue 20; docs/namespaces.md): many virtual clusters on one
// backend, each seeing only its own topics, consumer groups and transactional
// ids. The backend names are the client's names behind a prefix per kind
// ("team-a." for topics, ...): kedge adds the prefix to every name a request
// carries and takes it off every name a response carries. Where the names
// are is data: the NameKind marks of the request and response tables
// (kafka_codec/schema.cpp, from the `entityType` of Kafka's message specs);
// the bytes around a name are copied as they are, Records included.
//
// Listings (a Metadata or OffsetFetch for all topics, ListGroups,
// ListTransactions) also name what lies outside the namespace: those entries
// are dropped by the topic, group and transaction filters (topic_filter.h)
// before the names are stripped. Regular expressions the broker matches
// against backend names are confined to the namespace (confine_regex).
//
// Pure: no I/O, no exceptions on the data path.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/errc.h"
#include "kafka_codec/schema.h"

namespace kedge::kafka {

// The prefixes of one namespace; an empty one leaves that kind of name as it is.
struct NamePrefixes {
  std::string topic;
  std::string group;
  std::string transactional_id;
  bool operator==(const NamePrefixes&) const = default;
  bool empty() const { return topic.empty() && group.empty() && transactional_id.empty(); }
};

// Kafka's longest legal topic name (Topic.MAX_NAME_LENGTH): a prefixed name
// longer than this is refused, never truncated.
inline constexpr std::size_t kMaxTopicNameLength = 249;

// FindCoordinator's KeyType (KIP-98, KIP-932): what its keys name.
enum class CoordinatorKeyType : std::int8_t { group = 0, transaction = 1, share = 2 };

// Versions of `api_key` whose names kedge renames in both directions: the
// request table's versions, cut to the response table's where the response
// names something. Empty for an API with no table. APIs that name nothing
// (no_names()) need no renaming.
schema::Versions renamed_versions(std::int16_t api_key);

// APIs whose requests and responses carry no topic, group or transactional id
// a namespace must rename or hide: connection set-up (ApiVersions, SASL),
// DescribeCluster, client telemetry (KIP-714). They pass through a namespace.
bool names_nothing(std::int16_t api_key);

// Whether a request / response of (api_key, version) carries any name at all:
// Fetch v13+ and Produce v13 name topics by id only, so they need no rename
// and stream through as they are.
bool request_names_anything(std::int16_t api_key, std::int16_t version);
bool response_names_anything(std::int16_t api_key, std::int16_t version);

// Whether a request of (api_key, version) names topics by id (Fetch v13+,
// Produce v13, ShareFetch, ShareAcknowledge): a namespace checks those ids
// against the topics it holds (the gateway's id book). Not
// ConsumerGroupHeartbeat: its TopicPartitions are the partitions the
// coordinator assigned the member (KIP-848), reported back; they read no data
// and change nothing outside the member's own group. Responses naming topic
// ids (its Assignment) need no check: the ids the client then uses are.
bool names_topics_by_id(std::int16_t api_key, std::int16_t version);
// True when `known` holds for every topic id the whole request `frame` names
// (16 bytes each; a request table's TopicId values); false as soon as one
// does not, or when the request does not read.
bool every_topic_id(std::span<const std::uint8_t> frame, const std::function<bool(std::string_view)>& known);

struct RenameResult {
  enum class Outcome : std::uint8_t {
    unchanged,      // no name to rename (all prefixes empty, or no names in it)
    renamed,        // `out` holds the renamed frame
    name_too_long,  // a topic name over kMaxTopicNameLength once prefixed (except in Metadata, which
                    // only asks: the broker answers it as a name it does not have): `name` is the client's
    // An AlterConfigs / IncrementalAlterConfigs request alters a config resource that is neither a topic
    // nor a group (a broker, a broker logger, client metrics, ...): the shared cluster's, never one
    // namespace's. `name` describes the first one ("broker 1", "broker_logger 3", `broker ""` for the
    // cluster-wide broker default); the request is refused whole. DescribeConfigs of such a resource only reads
    // and stays allowed.
    foreign_resource,
    // A topic or transactional id regex (SubscribedTopicRegex, TransactionalIdPattern) that confine_regex
    // cannot confine to the namespace (not one balanced RE2 expression, `(?:)` where kedge writes a
    // client's leading `^`, over a Kafka string's 32767 bytes once confined): `name` is the client's regex.
    unconfinable_regex,
    malformed,      // not a message kedge renames (unknown version, does not parse)
  };
  Outcome outcome = Outcome::unchanged;
  std::string name;
  // FindCoordinator: the KeyType of its keys, for the response's (-1 otherwise).
  std::int8_t coordinator_key_type = -1;
};

// `frame` is one whole request (size prefix included, equal to its size - 4):
// every name gets its kind's prefix.
RenameResult prefix_request_names(std::span<const std::uint8_t> frame, const NamePrefixes& prefixes,
                                  std::vector<std::uint8_t>& out);

// The start of a Produce request (v3-13; size prefix, header and as much of
// the body as arrived), renamed in place so the rest of the frame can stream
// to the broker unheld: its TransactionalId and, v3-12, its one topic's name
// get their prefixes and the size prefix grows by what they add. False, and
// `held` untouched, when that cannot be told yet (the name not all there),
// or not done from the start (several topics, a name too long once
// prefixed): the request is then held whole and renamed by
// prefix_request_names. The records that follow are never held or copied.
bool prefix_produce_names(std::vector<std::uint8_t>& held, const NamePrefixes& prefixes);

// `frame` is one whole response (size prefix included) to (api_key, version);
// `coordinator_key_type` is RequestRename's for a FindCoordinator. Names that
// carry their prefix lose it; a name without it is left as it is (a listing's
// foreign entries were dropped before: topic_filter.h). `changed` false:
// `out` is untouched. Errc::malformed_response if the frame does not parse.
Errc strip_response_names(std::span<const std::uint8_t> frame, std::int16_t api_key, std::int16_t version,
                          std::int8_t coordinator_key_type, const NamePrefixes& prefixes,
                          std::vector<std::uint8_t>& out, bool& changed);

// The core of both: the names of `frame`'s body (from `body_begin`, walked as
// `schema` at `version`) prefixed or stripped. `coordinator_key_type` -1: read
// from the message (a FindCoordinator request). Exposed for the round-trip
// property (tests/unit/codec/test_rename.cpp): prefix then strip gives the
// original bytes, for every table and version.
enum class RenameDirection : std::uint8_t { prefix, strip };
RenameResult rename_message(std::span<const std::uint8_t> frame, const schema::MessageSchema& schema,
                            std::int16_t version, std::size_t body_begin, std::int8_t coordinator_key_type,
                            const NamePrefixes& prefixes, RenameDirection direction, std::vector<std::uint8_t>& out);

// The prefix `prefixes` gives a name of `kind` (resolved: topic, group,
// transactional_id), or an empty view.
std::string_view prefix_of(const NamePrefixes& prefixes, schema::NameKind kind);

// Regular expressions in a namespace. The broker full-matches them with RE2J against backend names:
// KIP-848's SubscribedTopicRegex against topic names (group coordinator, GroupMetadataManager
// refreshRegularExpressions: Pattern.compile(regex), regex.matcher(topicName).matches()) and KIP-1152's
// TransactionalIdPattern against transactional ids (TransactionStateManager listTransactionStates:
// pattern.matcher(transactionalId).matches()). A client's regex R is confined to the names behind
// `prefix` as
//     <prefix, every ASCII character but A-Z a-z 0-9 _ escaped by "\"> (?: R' )
// which full-matches exactly the prefixed names whose client-side part R full-matches:
//  - R must be one balanced RE2 expression, read as RE2 reads it (escapes, \Q...\E quotes, character
//    classes with their [:name:] classes, flag groups and named groups): its parentheses close within
//    it, so the final ")" closes kedge's group and no "|" of R reaches outside it. R ending inside a
//    class, a \Q quote or after a lone "\" is refused too (RE2J would read kedge's ")" into it);
//  - R' is R with every `^` at a leading position (nothing before it in its group and the groups around
//    it but group openings, flag groups, "|" and other anchors) written `(?:)`: there the client's name
//    starts and `^` holds (librdkafka sends its regexes as "(^a)|(^b)"), where after the prefix it would
//    not. R holding `(?:)` at a leading position is refused: the strip could not tell it from kedge's.
// A `^` elsewhere and `\A` never match after the prefix (R matches no more than on the client's name);
// `\b` and `\B` at the start see the prefix's last character, as on the client's name when the prefix
// ends in a non-word character ("team-a."). Bounded: one pass over R, no recursion. False (`out`
// unspecified) when R cannot be confined, and for "": no regex to confine (KIP-848 reads it as "no
// regex", KIP-1152 as "every transaction"; the rename leaves it, and null, as they are).
bool confine_regex(std::string_view regex, std::string_view prefix, std::string& out);
// The exact inverse: true, with `out` = R, only when `confined` is confine_regex(R, prefix)'s output
// for some R; false otherwise (a regex kedge did not write is left as it is).
bool unconfine_regex(std::string_view confined, std::string_view prefix, std::string& out);

}  // namespace kedge::kafka
