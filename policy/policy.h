#pragma once
// A virtual cluster's policy (issue 18; docs/policy.md): what a governed view
// of a backend lets its clients do. This step decides per API: a read-only
// view refuses every API that changes data or configuration, and an API list
// allows or denies APIs by name. The mapping of each API to the resource and
// operation Kafka's authorizer checks for it is one data table (api_access()),
// taken from Kafka's documented "Operations and Resources on Protocols".
//
// Pure: no I/O, no exceptions after parse_api_name(); decide() is called per
// request on the loop thread and allocates nothing.
#include <bitset>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafka_codec/api.h"
#include "kafka_codec/schema.h"
#include "policy/acl.h"
#include "policy/vocabulary.h"

namespace kedge::policy {


// The resource and operation Kafka's authorizer checks first for an API (for
// APIs that check several, such as Produce: Write on each topic, also Write on
// the transactional id, the one that decides a read-only view).
struct Access {
  Resource resource = Resource::none;
  Operation operation = Operation::none;
};
Access api_access(std::int16_t api_key);

// Operations a read-only view refuses: everything that changes data, metadata
// or configuration (Write, Create, Delete, Alter, AlterConfigs, IdempotentWrite).
constexpr bool changes_state(Operation operation) {
  switch (operation) {
    case Operation::write:
    case Operation::create:
    case Operation::delete_:
    case Operation::alter:
    case Operation::alter_configs:
    case Operation::idempotent_write: return true;
    default: return false;
  }
}

// Administrative operations, which the audit log records allowed or not:
// Create, Delete, Alter and AlterConfigs (CreateTopics, DeleteGroups,
// IncrementalAlterConfigs, CreateAcls, ...).
constexpr bool administrative(Operation operation) {
  return operation == Operation::create || operation == Operation::delete_ || operation == Operation::alter ||
         operation == Operation::alter_configs;
}

enum class ApiListMode : std::uint8_t { none, allow, deny };

struct ClusterPolicy {
  bool read_only = false;
  ApiListMode api_mode = ApiListMode::none;
  std::bitset<kafka::kApiKeyCount> listed_apis;  // the allow or deny list, by api key
  // An API outside kedge's table (a key newer than Kafka 4.3 and trunk's 93/94)
  // cannot be classified: refused unless the operator allows such APIs.
  bool allow_unknown_apis = false;
  // Per-resource rules (acl.h). Set, even empty, makes every resource a
  // request names need an allowing rule (Kafka's default once an authorizer
  // is configured); APIs whose resources kedge does not read are refused
  // (acl_coverage()).
  std::optional<AclSet> acls;

  bool operator==(const ClusterPolicy&) const = default;
};

// Why a request was refused (a metric label and a log word).
// resource_denied: an ACL (acl.h) does not let the client at a resource the
// request names; acl_unchecked: the cluster has ACLs and kedge does not read
// this API's resources, so it cannot tell (refused, as an unknown API is);
// unknown_topic_id: every topic a Produce or Fetch names is an id kedge has not
// seen in the backend's Metadata (answered UNKNOWN_TOPIC_ID: the client
// refreshes its Metadata and retries; counted, not audited: nothing was denied).
// outside_namespace: the cluster has a namespace (kafka_codec/rename.h) and
// kedge does not rename this API or version (hidden from ApiVersions);
// invalid_topic_name: a topic name too long for Kafka once prefixed
// (answered INVALID_TOPIC_EXCEPTION); invalid_regex: a regular expression a
// namespace cannot confine to its names (kafka::confine_regex; answered
// INVALID_REGULAR_EXPRESSION).
enum class Refusal : std::uint8_t {
  read_only, api_denied, api_not_allowed, unknown_api, resource_denied, acl_unchecked, unknown_topic_id,
  outside_namespace, invalid_topic_name, invalid_regex,
};
inline constexpr std::size_t kRefusalCount = 10;
std::string_view to_string(Refusal refusal);

// nullopt: allowed. ApiVersions, SaslHandshake and SaslAuthenticate are always
// allowed: they set up the connection, whatever the lists say. With ACLs, an
// API kedge cannot decide (acl_decidable) is refused (acl_unchecked); the
// others are decided per resource by the caller (acl.h). An API key
// outside kedge's table is refused (unknown_api) unless allow_unknown_apis;
// then an allow list still refuses it, and read_only lets it through (it
// cannot classify it).
std::optional<Refusal> decide(const ClusterPolicy& policy, std::int16_t api_key);

// ACLs (acl.h) on a request: what it needs on each resource it names.
// `resource_type` is a kafka::RequestResource type ("topic", "group",
// "transactional_id", a config resource type); nullopt when kedge cannot tell
// (a topic id, a share-group key, an unknown config resource): denied.
struct ResourceCheck {
  Resource resource;
  Operation operation;
};
std::optional<ResourceCheck> resource_check(std::int16_t api_key, std::string_view resource_type);

// Versions of `api_key` whose resources kedge reads for ACLs (the request
// tables of kafka_codec/schema.cpp; topic ids resolved by policy/topic_ids.h);
// empty when it reads none. APIs on the cluster resource, and connection-level
// ones, need no reading.
kafka::schema::Versions acl_readable_versions(std::int16_t api_key);

// True when a policy with ACLs can decide this API: connection-level, on the
// cluster, or readable (acl_readable_versions). The others are refused
// (Refusal::acl_unchecked) on a cluster with ACLs.
bool acl_decidable(std::int16_t api_key);

// The Kafka names of the APIs on the policy's allow or deny list, in key order.
std::vector<std::string_view> listed_api_names(const ClusterPolicy& policy);

// What a policy refuses, by the way kedge refuses it (for `kedge check` and
// the docs): APIs answered with the authorization error (refusal.h), and APIs
// kedge has no answer for, which it removes from ApiVersions. Kafka API names.
struct Summary {
  std::vector<std::string_view> answered;
  std::vector<std::string_view> hidden;
};
Summary summarize(const ClusterPolicy& policy);

// Parts of a policy that can never take effect, in the operator's words (for
// `kedge check`): an always-allowed API on the deny list, an API on a list
// that read_only refuses anyway (deny: redundant; allow: shadowed), an empty
// allow list; ACL rules that never apply or are shadowed (AclSet::unreachable).
std::vector<std::string> unreachable_rules(const ClusterPolicy& policy);

// The api key whose Kafka name is `name` (case-insensitive: "Produce",
// "createtopics"), or nullopt.
std::optional<std::int16_t> parse_api_name(std::string_view name);

}  // namespace kedge::policy
