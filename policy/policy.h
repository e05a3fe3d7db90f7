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

namespace kedge::policy {

// Kafka ACL vocabulary (org.apache.kafka.common.acl.AclOperation, ResourceType).
enum class Operation : std::uint8_t {
  read, write, create, delete_, alter, describe, describe_configs, alter_configs, idempotent_write,
  cluster_action,  // broker-to-broker and controller APIs
  none,            // connection-level: ApiVersions, SASL, client telemetry
};
enum class Resource : std::uint8_t { topic, group, transactional_id, cluster, delegation_token, none };

std::string_view to_string(Operation operation);
std::string_view to_string(Resource resource);

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

  bool operator==(const ClusterPolicy&) const = default;
};

// Why a request was refused (a metric label and a log word).
enum class Refusal : std::uint8_t { read_only, api_denied, api_not_allowed, unknown_api };
inline constexpr std::size_t kRefusalCount = 4;
std::string_view to_string(Refusal refusal);

// nullopt: allowed. ApiVersions, SaslHandshake and SaslAuthenticate are always
// allowed: they set up the connection, whatever the lists say. An API key
// outside kedge's table is refused (unknown_api) unless allow_unknown_apis;
// then an allow list still refuses it, and read_only lets it through (it
// cannot classify it).
std::optional<Refusal> decide(const ClusterPolicy& policy, std::int16_t api_key);

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
// allow list.
std::vector<std::string> unreachable_rules(const ClusterPolicy& policy);

// The api key whose Kafka name is `name` (case-insensitive: "Produce",
// "createtopics"), or nullopt.
std::optional<std::int16_t> parse_api_name(std::string_view name);

}  // namespace kedge::policy
