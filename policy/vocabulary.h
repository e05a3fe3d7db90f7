#pragma once
// Kafka's authorization vocabulary (org.apache.kafka.common.acl.AclOperation,
// org.apache.kafka.common.resource.ResourceType), shared by the API table
// (policy.h) and the per-resource rules (acl.h).
#include <cstdint>
#include <string_view>

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

}  // namespace kedge::policy
