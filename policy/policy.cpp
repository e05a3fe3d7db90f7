#include "policy/policy.h"

#include <array>

#include "common/ascii.h"
#include "kafka_codec/refusal.h"

namespace kedge::policy {
namespace {

using kafka::ApiKey;
using O = Operation;
using R = Resource;

struct Row {
  ApiKey api;
  Access access;
};

// Kafka's "Operations and Resources on Protocols" (docs/security, authorization
// and ACLs), the first check of each API. Keys absent here are connection-level
// (ApiVersions, SASL, telemetry) or unknown.
constexpr Row kAccess[] = {
    {ApiKey::produce, {R::topic, O::write}},
    {ApiKey::fetch, {R::topic, O::read}},
    {ApiKey::list_offsets, {R::topic, O::describe}},
    {ApiKey::metadata, {R::topic, O::describe}},
    {ApiKey::leader_and_isr, {R::cluster, O::cluster_action}},
    {ApiKey::stop_replica, {R::cluster, O::cluster_action}},
    {ApiKey::update_metadata, {R::cluster, O::cluster_action}},
    {ApiKey::controlled_shutdown, {R::cluster, O::cluster_action}},
    {ApiKey::offset_commit, {R::group, O::read}},
    {ApiKey::offset_fetch, {R::group, O::describe}},
    {ApiKey::find_coordinator, {R::group, O::describe}},
    {ApiKey::join_group, {R::group, O::read}},
    {ApiKey::heartbeat, {R::group, O::read}},
    {ApiKey::leave_group, {R::group, O::read}},
    {ApiKey::sync_group, {R::group, O::read}},
    {ApiKey::describe_groups, {R::group, O::describe}},
    {ApiKey::list_groups, {R::cluster, O::describe}},
    {ApiKey::create_topics, {R::topic, O::create}},
    {ApiKey::delete_topics, {R::topic, O::delete_}},
    {ApiKey::delete_records, {R::topic, O::delete_}},
    {ApiKey::init_producer_id, {R::transactional_id, O::write}},
    {ApiKey::offset_for_leader_epoch, {R::topic, O::describe}},
    {ApiKey::add_partitions_to_txn, {R::transactional_id, O::write}},
    {ApiKey::add_offsets_to_txn, {R::transactional_id, O::write}},
    {ApiKey::end_txn, {R::transactional_id, O::write}},
    {ApiKey::write_txn_markers, {R::cluster, O::cluster_action}},
    {ApiKey::txn_offset_commit, {R::transactional_id, O::write}},
    {ApiKey::describe_acls, {R::cluster, O::describe}},
    {ApiKey::create_acls, {R::cluster, O::alter}},
    {ApiKey::delete_acls, {R::cluster, O::alter}},
    {ApiKey::describe_configs, {R::topic, O::describe_configs}},
    {ApiKey::alter_configs, {R::topic, O::alter_configs}},
    {ApiKey::alter_replica_log_dirs, {R::cluster, O::alter}},
    {ApiKey::describe_log_dirs, {R::cluster, O::describe}},
    {ApiKey::create_partitions, {R::topic, O::alter}},
    {ApiKey::create_delegation_token, {R::delegation_token, O::create}},
    {ApiKey::renew_delegation_token, {R::delegation_token, O::alter}},
    {ApiKey::expire_delegation_token, {R::delegation_token, O::alter}},
    {ApiKey::describe_delegation_token, {R::delegation_token, O::describe}},
    {ApiKey::delete_groups, {R::group, O::delete_}},
    {ApiKey::elect_leaders, {R::cluster, O::alter}},
    {ApiKey::incremental_alter_configs, {R::topic, O::alter_configs}},
    {ApiKey::alter_partition_reassignments, {R::cluster, O::alter}},
    {ApiKey::list_partition_reassignments, {R::cluster, O::describe}},
    {ApiKey::offset_delete, {R::group, O::delete_}},
    {ApiKey::describe_client_quotas, {R::cluster, O::describe_configs}},
    {ApiKey::alter_client_quotas, {R::cluster, O::alter_configs}},
    {ApiKey::describe_user_scram_credentials, {R::cluster, O::describe}},
    {ApiKey::alter_user_scram_credentials, {R::cluster, O::alter}},
    {ApiKey::vote, {R::cluster, O::cluster_action}},
    {ApiKey::begin_quorum_epoch, {R::cluster, O::cluster_action}},
    {ApiKey::end_quorum_epoch, {R::cluster, O::cluster_action}},
    {ApiKey::describe_quorum, {R::cluster, O::describe}},
    {ApiKey::alter_partition, {R::cluster, O::cluster_action}},
    {ApiKey::update_features, {R::cluster, O::alter}},
    {ApiKey::envelope, {R::cluster, O::cluster_action}},
    {ApiKey::fetch_snapshot, {R::cluster, O::cluster_action}},
    {ApiKey::describe_cluster, {R::cluster, O::describe}},
    {ApiKey::describe_producers, {R::topic, O::read}},
    {ApiKey::broker_registration, {R::cluster, O::cluster_action}},
    {ApiKey::broker_heartbeat, {R::cluster, O::cluster_action}},
    {ApiKey::unregister_broker, {R::cluster, O::alter}},
    {ApiKey::describe_transactions, {R::transactional_id, O::describe}},
    {ApiKey::list_transactions, {R::transactional_id, O::describe}},
    {ApiKey::allocate_producer_ids, {R::cluster, O::cluster_action}},
    {ApiKey::consumer_group_heartbeat, {R::group, O::read}},
    {ApiKey::consumer_group_describe, {R::group, O::describe}},
    {ApiKey::controller_registration, {R::cluster, O::cluster_action}},
    {ApiKey::assign_replicas_to_dirs, {R::cluster, O::cluster_action}},
    {ApiKey::list_config_resources, {R::cluster, O::describe_configs}},
    {ApiKey::describe_topic_partitions, {R::topic, O::describe}},
    {ApiKey::share_group_heartbeat, {R::group, O::read}},
    {ApiKey::share_group_describe, {R::group, O::describe}},
    {ApiKey::share_fetch, {R::group, O::read}},
    {ApiKey::share_acknowledge, {R::group, O::read}},
    {ApiKey::add_raft_voter, {R::cluster, O::alter}},
    {ApiKey::remove_raft_voter, {R::cluster, O::alter}},
    {ApiKey::update_raft_voter, {R::cluster, O::cluster_action}},
    {ApiKey::initialize_share_group_state, {R::cluster, O::cluster_action}},
    {ApiKey::read_share_group_state, {R::cluster, O::cluster_action}},
    {ApiKey::write_share_group_state, {R::cluster, O::cluster_action}},
    {ApiKey::delete_share_group_state, {R::cluster, O::cluster_action}},
    {ApiKey::read_share_group_state_summary, {R::cluster, O::cluster_action}},
    {ApiKey::streams_group_heartbeat, {R::group, O::read}},
    {ApiKey::streams_group_describe, {R::group, O::describe}},
    {ApiKey::describe_share_group_offsets, {R::group, O::describe}},
    {ApiKey::alter_share_group_offsets, {R::group, O::read}},
    {ApiKey::delete_share_group_offsets, {R::group, O::delete_}},
    {ApiKey::streams_group_topology_description_update, {R::group, O::read}},
    {ApiKey::unregister_controller, {R::cluster, O::alter}},
};

// One lookup table by key, built at compile time from the rows above.
constexpr std::array<Access, kafka::kApiKeyCount> kByKey = [] {
  std::array<Access, kafka::kApiKeyCount> table{};
  for (const Row& row : kAccess) table[static_cast<std::size_t>(row.api)] = row.access;
  return table;
}();

constexpr bool always_allowed(std::int16_t api_key) {
  return kafka::is(api_key, ApiKey::api_versions) || kafka::is(api_key, ApiKey::sasl_handshake) ||
         kafka::is(api_key, ApiKey::sasl_authenticate);
}

}  // namespace

std::string_view to_string(Operation operation) {
  switch (operation) {
    case O::read: return "Read";
    case O::write: return "Write";
    case O::create: return "Create";
    case O::delete_: return "Delete";
    case O::alter: return "Alter";
    case O::describe: return "Describe";
    case O::describe_configs: return "DescribeConfigs";
    case O::alter_configs: return "AlterConfigs";
    case O::idempotent_write: return "IdempotentWrite";
    case O::cluster_action: return "ClusterAction";
    case O::none: return "none";
  }
  return "none";
}

std::string_view to_string(Resource resource) {
  switch (resource) {
    case R::topic: return "Topic";
    case R::group: return "Group";
    case R::transactional_id: return "TransactionalId";
    case R::cluster: return "Cluster";
    case R::delegation_token: return "DelegationToken";
    case R::none: return "none";
  }
  return "none";
}

std::string_view to_string(Refusal refusal) {
  switch (refusal) {
    case Refusal::read_only: return "read_only";
    case Refusal::api_denied: return "api_denied";
    case Refusal::api_not_allowed: return "api_not_allowed";
    case Refusal::unknown_api: return "unknown_api";
    case Refusal::resource_denied: return "resource_denied";
    case Refusal::acl_unchecked: return "acl_unchecked";
    case Refusal::unknown_topic_id: return "unknown_topic_id";
    case Refusal::outside_namespace: return "outside_namespace";
    case Refusal::invalid_topic_name: return "invalid_topic_name";
    case Refusal::invalid_regex: return "invalid_regex";
  }
  return "read_only";
}

Access api_access(std::int16_t api_key) {
  if (api_key < 0 || static_cast<std::size_t>(api_key) >= kByKey.size()) return {};
  return kByKey[static_cast<std::size_t>(api_key)];
}

std::optional<Refusal> decide(const ClusterPolicy& policy, std::int16_t api_key) {
  if (always_allowed(api_key)) return std::nullopt;
  const bool known = !kafka::api_name(api_key).empty();
  if (!known && !policy.allow_unknown_apis) return Refusal::unknown_api;
  const bool listed = known && policy.listed_apis.test(static_cast<std::size_t>(api_key));
  if (policy.api_mode == ApiListMode::allow && !listed) return Refusal::api_not_allowed;
  if (policy.api_mode == ApiListMode::deny && listed) return Refusal::api_denied;
  if (policy.read_only && changes_state(api_access(api_key).operation)) return Refusal::read_only;
  if (policy.acls && known && !acl_decidable(api_key)) return Refusal::acl_unchecked;
  return std::nullopt;
}

std::optional<ResourceCheck> resource_check(std::int16_t api_key, std::string_view resource_type) {
  const auto api = static_cast<ApiKey>(api_key);
  const Access access = api_access(api_key);
  if (resource_type == "topic") {
    switch (api) {
      case ApiKey::offset_commit:
      case ApiKey::txn_offset_commit:
      case ApiKey::offset_delete: return ResourceCheck{R::topic, O::read};
      case ApiKey::offset_fetch:
      case ApiKey::consumer_group_heartbeat:
      case ApiKey::share_group_heartbeat: return ResourceCheck{R::topic, O::describe};
      case ApiKey::share_fetch:
      case ApiKey::share_acknowledge: return ResourceCheck{R::topic, O::read};
      case ApiKey::add_partitions_to_txn: return ResourceCheck{R::topic, O::write};
      default:
        if (access.resource != R::topic) return std::nullopt;
        return ResourceCheck{R::topic, access.operation};
    }
  }
  if (resource_type == "group") {
    switch (api) {
      case ApiKey::add_offsets_to_txn:
      case ApiKey::txn_offset_commit: return ResourceCheck{R::group, O::read};
      case ApiKey::describe_configs: return ResourceCheck{R::group, O::describe_configs};
      case ApiKey::alter_configs:
      case ApiKey::incremental_alter_configs: return ResourceCheck{R::group, O::alter_configs};
      default:
        if (access.resource != R::group) return std::nullopt;
        return ResourceCheck{R::group, access.operation};
    }
  }
  if (resource_type == "transactional_id") {
    if (api == ApiKey::find_coordinator) return ResourceCheck{R::transactional_id, O::describe};
    return ResourceCheck{R::transactional_id, O::write};
  }
  if (resource_type == "broker" || resource_type == "broker_logger" || resource_type == "client_metrics") {
    if (access.operation != O::describe_configs && access.operation != O::alter_configs) return std::nullopt;
    return ResourceCheck{R::cluster, access.operation};
  }
  return std::nullopt;  // topic_id, share_group_key, config_resource: kedge cannot name it
}

kafka::schema::Versions acl_readable_versions(std::int16_t api_key) {
  // ListGroups is filtered group by group (topic_filter.h) in the versions of its response table.
  if (kafka::is(api_key, ApiKey::list_groups)) return kafka::schema::find_policy_response_schema(api_key)->valid;
  const kafka::schema::MessageSchema* request = kafka::schema::find_request_schema(api_key);
  if (request == nullptr || kafka::is(api_key, ApiKey::sasl_handshake) || kafka::is(api_key, ApiKey::sasl_authenticate)) {
    return kafka::schema::kNever;
  }
  return request->valid;
}

bool acl_decidable(std::int16_t api_key) {
  const Access access = api_access(api_key);
  if (access.resource == R::none || access.resource == R::cluster) return true;
  const kafka::schema::Versions readable = acl_readable_versions(api_key);
  return readable.lo <= readable.hi;
}

std::vector<std::string_view> listed_api_names(const ClusterPolicy& policy) {
  std::vector<std::string_view> names;
  for (std::size_t key = 0; key < kafka::kApiKeyCount; ++key) {
    if (policy.listed_apis.test(key)) names.push_back(kafka::api_name(static_cast<std::int16_t>(key)));
  }
  return names;
}

Summary summarize(const ClusterPolicy& policy) {
  Summary summary;
  for (std::size_t key = 0; key < kafka::kApiKeyCount; ++key) {
    const auto api_key = static_cast<std::int16_t>(key);
    if (!decide(policy, api_key)) continue;
    const kafka::schema::Versions answerable = kafka::refusable_versions(api_key);
    (answerable.lo <= answerable.hi ? summary.answered : summary.hidden).push_back(kafka::api_name(api_key));
  }
  return summary;
}

std::vector<std::string> unreachable_rules(const ClusterPolicy& policy) {
  std::vector<std::string> found;
  const char* list = policy.api_mode == ApiListMode::allow ? "apis.allow" : "apis.deny";
  if (policy.api_mode == ApiListMode::allow && policy.listed_apis.none()) {
    found.push_back("apis.allow is empty: every API but ApiVersions and SASL is refused");
  }
  for (std::size_t key = 0; key < kafka::kApiKeyCount; ++key) {
    if (policy.api_mode == ApiListMode::none || !policy.listed_apis.test(key)) continue;
    const auto api_key = static_cast<std::int16_t>(key);
    const std::string name(kafka::api_name(api_key));
    if (always_allowed(api_key)) {
      if (policy.api_mode == ApiListMode::deny) {
        found.push_back("apis.deny lists " + name + ", which is always allowed (it sets up the connection)");
      }
      continue;
    }
    if (policy.read_only && changes_state(api_access(api_key).operation)) {
      found.push_back(std::string(list) + " lists " + name + ", which read_only refuses " +
                      (policy.api_mode == ApiListMode::deny ? "anyway" : "whatever the list says"));
    }
  }
  if (policy.acls) {
    if (policy.acls->rules().empty()) found.push_back("acls is empty: every topic, group and transactional id is refused");
    for (std::string& warning : policy.acls->unreachable()) found.push_back(std::move(warning));
  }
  return found;
}

std::optional<std::int16_t> parse_api_name(std::string_view name) {
  for (std::size_t key = 0; key < kafka::kApiKeyCount; ++key) {
    const auto api_key = static_cast<std::int16_t>(key);
    const std::string_view known = kafka::api_name(api_key);
    if (!known.empty() && ascii::iequals(known, name)) return api_key;
  }
  return std::nullopt;
}

}  // namespace kedge::policy
