// policy::decide and the API -> (resource, operation) table (Kafka's "Operations and Resources on Protocols").
#include <catch2/catch.hpp>

#include <algorithm>

#include "kafka_codec/api.h"
#include "kafka_codec/refusal.h"
#include "policy/policy.h"

using namespace kedge;
using kedge::kafka::ApiKey;
using kedge::kafka::key_of;
using kedge::policy::ApiListMode;
using kedge::policy::ClusterPolicy;
using kedge::policy::Operation;
using kedge::policy::Refusal;
using kedge::policy::Resource;

namespace {

ClusterPolicy read_only() {
  ClusterPolicy p;
  p.read_only = true;
  return p;
}

ClusterPolicy listing(ApiListMode mode, std::initializer_list<ApiKey> apis) {
  ClusterPolicy p;
  p.api_mode = mode;
  for (const ApiKey api : apis) p.listed_apis.set(static_cast<std::size_t>(api));
  return p;
}

constexpr ApiKey kConnectionLevel[] = {ApiKey::api_versions, ApiKey::sasl_handshake, ApiKey::sasl_authenticate};

}  // namespace

TEST_CASE("every API kedge names has a row in the access table, except the connection-level ones", "[policy]") {
  for (std::size_t key = 0; key < kafka::kApiKeyCount; ++key) {
    const auto api_key = static_cast<std::int16_t>(key);
    const policy::Access access = policy::api_access(api_key);
    const bool connection_level = kafka::is(api_key, ApiKey::api_versions) ||
                                  kafka::is(api_key, ApiKey::sasl_handshake) ||
                                  kafka::is(api_key, ApiKey::sasl_authenticate) ||
                                  kafka::is(api_key, ApiKey::get_telemetry_subscriptions) ||
                                  kafka::is(api_key, ApiKey::push_telemetry);
    INFO(kafka::api_name(api_key));
    CHECK((access.operation == Operation::none) == connection_level);
  }
  CHECK(policy::api_access(-1).operation == Operation::none);
  CHECK(policy::api_access(10000).operation == Operation::none);
}

TEST_CASE("the access table follows Kafka's documented operations", "[policy]") {
  const auto access = [](ApiKey api) { return policy::api_access(key_of(api)); };
  CHECK(access(ApiKey::produce).resource == Resource::topic);
  CHECK(access(ApiKey::produce).operation == Operation::write);
  CHECK(access(ApiKey::fetch).operation == Operation::read);
  CHECK(access(ApiKey::offset_commit).resource == Resource::group);
  CHECK(access(ApiKey::offset_commit).operation == Operation::read);
  CHECK(access(ApiKey::create_topics).operation == Operation::create);
  CHECK(access(ApiKey::delete_topics).operation == Operation::delete_);
  CHECK(access(ApiKey::create_partitions).operation == Operation::alter);
  CHECK(access(ApiKey::incremental_alter_configs).operation == Operation::alter_configs);
  CHECK(access(ApiKey::describe_configs).operation == Operation::describe_configs);
  CHECK(access(ApiKey::init_producer_id).resource == Resource::transactional_id);
  CHECK(access(ApiKey::end_txn).operation == Operation::write);
  CHECK(access(ApiKey::list_groups).resource == Resource::cluster);
}

TEST_CASE("read_only refuses exactly the APIs whose operation changes state", "[policy]") {
  const ClusterPolicy policy = read_only();
  // A consumer in a group works on a read-only view: every API it sends is allowed.
  for (const ApiKey api : {ApiKey::api_versions, ApiKey::metadata, ApiKey::find_coordinator, ApiKey::join_group,
                           ApiKey::sync_group, ApiKey::heartbeat, ApiKey::offset_fetch, ApiKey::offset_commit,
                           ApiKey::list_offsets, ApiKey::fetch, ApiKey::leave_group, ApiKey::describe_configs,
                           ApiKey::describe_groups, ApiKey::list_groups, ApiKey::consumer_group_heartbeat}) {
    INFO(kafka::api_name(key_of(api)));
    CHECK_FALSE(policy::decide(policy, key_of(api)).has_value());
  }
  for (const ApiKey api : {ApiKey::produce, ApiKey::create_topics, ApiKey::delete_topics, ApiKey::delete_records,
                           ApiKey::init_producer_id, ApiKey::add_partitions_to_txn, ApiKey::txn_offset_commit,
                           ApiKey::end_txn, ApiKey::alter_configs, ApiKey::incremental_alter_configs,
                           ApiKey::create_partitions, ApiKey::delete_groups, ApiKey::offset_delete,
                           ApiKey::create_acls, ApiKey::delete_acls, ApiKey::alter_user_scram_credentials}) {
    INFO(kafka::api_name(key_of(api)));
    CHECK(policy::decide(policy, key_of(api)) == Refusal::read_only);
  }
  // Keys outside the table cannot be classified: refused unless the policy allows unknown APIs; then
  // read_only lets them through.
  CHECK(policy::decide(policy, 1000) == Refusal::unknown_api);
  CHECK(policy::decide(policy, -1) == Refusal::unknown_api);
  ClusterPolicy lenient = policy;
  lenient.allow_unknown_apis = true;
  CHECK_FALSE(policy::decide(lenient, 1000).has_value());
}

TEST_CASE("an allow list refuses what it does not name; a deny list refuses what it names", "[policy]") {
  const ClusterPolicy allow = listing(ApiListMode::allow, {ApiKey::metadata, ApiKey::fetch});
  CHECK_FALSE(policy::decide(allow, key_of(ApiKey::metadata)).has_value());
  CHECK_FALSE(policy::decide(allow, key_of(ApiKey::fetch)).has_value());
  CHECK(policy::decide(allow, key_of(ApiKey::produce)) == Refusal::api_not_allowed);
  CHECK(policy::decide(allow, key_of(ApiKey::list_offsets)) == Refusal::api_not_allowed);
  CHECK(policy::decide(allow, 1000) == Refusal::unknown_api);
  ClusterPolicy allow_lenient = allow;
  allow_lenient.allow_unknown_apis = true;
  CHECK(policy::decide(allow_lenient, 1000) == Refusal::api_not_allowed);  // an allow list still refuses it

  const ClusterPolicy deny = listing(ApiListMode::deny, {ApiKey::create_topics});
  CHECK(policy::decide(deny, key_of(ApiKey::create_topics)) == Refusal::api_denied);
  CHECK_FALSE(policy::decide(deny, key_of(ApiKey::produce)).has_value());
  CHECK(policy::decide(deny, 1000) == Refusal::unknown_api);

  ClusterPolicy both = deny;
  both.read_only = true;
  CHECK(policy::decide(both, key_of(ApiKey::create_topics)) == Refusal::api_denied);  // the list is named first
  CHECK(policy::decide(both, key_of(ApiKey::produce)) == Refusal::read_only);
}

TEST_CASE("connection-level APIs are allowed whatever the lists say", "[policy]") {
  ClusterPolicy policy = listing(ApiListMode::allow, {});
  policy.read_only = true;
  for (const ApiKey api : kConnectionLevel) CHECK_FALSE(policy::decide(policy, key_of(api)).has_value());
  policy = listing(ApiListMode::deny, {ApiKey::api_versions, ApiKey::sasl_handshake, ApiKey::sasl_authenticate});
  for (const ApiKey api : kConnectionLevel) CHECK_FALSE(policy::decide(policy, key_of(api)).has_value());
  CHECK_FALSE(policy::decide(ClusterPolicy{}, key_of(ApiKey::produce)).has_value());
}

TEST_CASE("API names parse as Kafka spells them, in any case", "[policy]") {
  CHECK(policy::parse_api_name("Produce") == key_of(ApiKey::produce));
  CHECK(policy::parse_api_name("createtopics") == key_of(ApiKey::create_topics));
  CHECK(policy::parse_api_name("INCREMENTALALTERCONFIGS") == key_of(ApiKey::incremental_alter_configs));
  CHECK_FALSE(policy::parse_api_name("Create Topics").has_value());
  CHECK_FALSE(policy::parse_api_name("").has_value());
  for (std::size_t key = 0; key < kafka::kApiKeyCount; ++key) {
    const auto api_key = static_cast<std::int16_t>(key);
    CHECK(policy::parse_api_name(kafka::api_name(api_key)) == api_key);
  }
}

TEST_CASE("every API a read-only view refuses is either answered by kedge or one a client rarely sends",
          "[policy]") {
  // The ones kedge answers with the authorization error (kafka_codec/refusal.h); the rest are hidden
  // from ApiVersions on a read-only view (docs/policy.md lists them).
  const ClusterPolicy policy = read_only();
  for (const ApiKey api : {ApiKey::produce, ApiKey::create_topics, ApiKey::delete_topics, ApiKey::delete_records,
                           ApiKey::init_producer_id, ApiKey::alter_configs, ApiKey::incremental_alter_configs,
                           ApiKey::create_partitions, ApiKey::delete_groups, ApiKey::offset_delete}) {
    INFO(kafka::api_name(key_of(api)));
    CHECK(policy::decide(policy, key_of(api)) == Refusal::read_only);
    const auto versions = kafka::refusable_versions(key_of(api));
    CHECK(versions.lo <= versions.hi);
  }
  // Plus FindCoordinator, which no read-only view refuses: ACLs refuse it per group or transactional id.
  CHECK(policy::decide(policy, key_of(ApiKey::find_coordinator)) == std::nullopt);
  CHECK(kafka::refusable_versions(key_of(ApiKey::find_coordinator)).hi == 6);
  CHECK(kafka::refusable_apis().size() == 11);
}

TEST_CASE("summarize splits what a policy refuses into answered and hidden APIs", "[policy]") {
  const policy::Summary read_only_summary = policy::summarize(read_only());
  const auto has = [](const std::vector<std::string_view>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  CHECK(read_only_summary.answered.size() == 10);
  CHECK(has(read_only_summary.answered, "Produce"));
  CHECK(has(read_only_summary.answered, "CreateTopics"));
  CHECK(has(read_only_summary.hidden, "EndTxn"));
  CHECK(has(read_only_summary.hidden, "CreateAcls"));
  CHECK_FALSE(has(read_only_summary.hidden, "Fetch"));
  CHECK_FALSE(has(read_only_summary.answered, "OffsetCommit"));
  const policy::Summary deny = policy::summarize(listing(ApiListMode::deny, {ApiKey::create_topics, ApiKey::list_groups}));
  CHECK(deny.answered == std::vector<std::string_view>{"CreateTopics"});
  CHECK(deny.hidden == std::vector<std::string_view>{"ListGroups"});
  CHECK(policy::summarize(ClusterPolicy{}).answered.empty());
  CHECK(policy::summarize(ClusterPolicy{}).hidden.empty());
}

TEST_CASE("unreachable_rules names list entries that can never take effect", "[policy]") {
  CHECK(policy::unreachable_rules(ClusterPolicy{}).empty());
  CHECK(policy::unreachable_rules(read_only()).empty());
  CHECK(policy::unreachable_rules(listing(ApiListMode::deny, {ApiKey::create_topics})).empty());
  CHECK(policy::unreachable_rules(listing(ApiListMode::deny, {ApiKey::api_versions, ApiKey::fetch})) ==
        std::vector<std::string>{"apis.deny lists ApiVersions, which is always allowed (it sets up the connection)"});
  ClusterPolicy redundant = listing(ApiListMode::deny, {ApiKey::produce, ApiKey::fetch});
  redundant.read_only = true;
  CHECK(policy::unreachable_rules(redundant) ==
        std::vector<std::string>{"apis.deny lists Produce, which read_only refuses anyway"});
  ClusterPolicy shadowed = listing(ApiListMode::allow, {ApiKey::metadata, ApiKey::produce});
  shadowed.read_only = true;
  CHECK(policy::unreachable_rules(shadowed) ==
        std::vector<std::string>{"apis.allow lists Produce, which read_only refuses whatever the list says"});
  CHECK(policy::unreachable_rules(listing(ApiListMode::allow, {})) ==
        std::vector<std::string>{"apis.allow is empty: every API but ApiVersions and SASL is refused"});
}
