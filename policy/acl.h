#pragma once
// Per-resource rules of a virtual cluster (issue 18; docs/policy.md "ACLs"),
// in the vocabulary of Kafka ACLs (KIP-11, KIP-290 prefixed patterns): who
// (principal, client address) may do what (operation) on which resource
// (topic, group, transactional id, the cluster), allow or deny.
//
// Semantics are Kafka's StandardAuthorizer with allow.everyone.if.no.acl.found
// false: an operation on a resource is allowed when some allow rule matches
// and no deny rule does (deny wins). Like Kafka, an allowed Read, Write,
// Delete or Alter implies Describe, and an allowed AlterConfigs implies
// DescribeConfigs; a deny of an operation denies only that operation (and
// All denies every one).
//
// Pure: no I/O; authorizes() allocates nothing and is called per resource on
// the loop thread.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/vocabulary.h"

namespace kedge::policy {

// A name pattern: "*" (any), "prefix*" (KIP-290 prefixed), or an exact name.
struct NamePattern {
  enum class Kind : std::uint8_t { any, prefix, exact };
  Kind kind = Kind::any;
  std::string text;  // the prefix or the exact name (empty for any)

  static NamePattern parse(std::string_view pattern);
  bool matches(std::string_view name) const;
  // True if every name this one matches is also matched by `other`.
  bool within(const NamePattern& other) const;
  std::string to_string() const;
  bool operator==(const NamePattern&) const = default;
};

// An IPv4 or IPv6 network ("10.0.0.0/8", "::1", "192.0.2.7").
struct AddressRange {
  std::array<std::uint8_t, 16> network{};  // IPv4 as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2)
  std::uint8_t prefix_bits = 128;

  // nullopt if `text` is not an address or address/prefix.
  static std::optional<AddressRange> parse(std::string_view text);
  bool contains(const std::array<std::uint8_t, 16>& address) const;
  bool within(const AddressRange& other) const;
  std::string to_string() const;
  bool operator==(const AddressRange&) const = default;
};

// The client address as AddressRange compares it; nullopt if `text` is not
// an IP address (a Unix socket peer, an unparsable PROXY source).
std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view text);

enum class Permission : std::uint8_t { allow, deny };

// A set of operations: bit (1 << Operation) per operation; All is every bit.
using OperationSet = std::uint16_t;
constexpr OperationSet bit(Operation operation) { return static_cast<OperationSet>(1u << static_cast<unsigned>(operation)); }
inline constexpr OperationSet kAllOperations =
    bit(Operation::read) | bit(Operation::write) | bit(Operation::create) | bit(Operation::delete_) |
    bit(Operation::alter) | bit(Operation::describe) | bit(Operation::describe_configs) |
    bit(Operation::alter_configs) | bit(Operation::idempotent_write) | bit(Operation::cluster_action);
// "All" and Kafka's operation names, case-insensitive; nullopt otherwise.
std::optional<OperationSet> parse_operation(std::string_view name);
std::string operation_names(OperationSet operations);  // "Read, Describe" / "All"

struct AclRule {
  Permission permission = Permission::allow;
  OperationSet operations = 0;
  Resource resource = Resource::topic;    // topic, group, transactional_id or cluster
  std::vector<NamePattern> names;         // resource names; {any} for the cluster
  std::vector<NamePattern> principals;    // {any} when the rule names none
  std::vector<AddressRange> addresses;    // empty: any client address
  bool operator==(const AclRule&) const = default;
};

// Who is asking: the principal kedge authenticated (empty when it did not:
// passthrough; only "*" matches it) and the client's address.
// A visible namespace (docs/namespaces.md) confines a cluster's rules to its
// backend prefixes: a topic, group or transactional id outside them is never
// authorized, whatever a rule allows (an empty prefix confines nothing).
struct NameConfinement {
  std::string topic;
  std::string group;
  std::string transactional_id;
  bool empty() const { return topic.empty() && group.empty() && transactional_id.empty(); }
  bool operator==(const NameConfinement&) const = default;
};

struct Subject {
  std::string_view principal;
  std::optional<std::array<std::uint8_t, 16>> address;
};

class AclSet {
 public:
  AclSet() = default;
  explicit AclSet(std::vector<AclRule> rules) : rules_(std::move(rules)) {}
  const std::vector<AclRule>& rules() const { return rules_; }

  void confine(NameConfinement confinement) { confinement_ = std::move(confinement); }
  const NameConfinement& confinement() const { return confinement_; }
  bool confined() const { return !confinement_.empty(); }
  // False when `name` of `resource` lies outside the confinement (never for the cluster).
  bool within(Resource resource, std::string_view name) const;

  // Kafka's rule: some allow matches (directly or by implication) and no deny does.
  bool authorizes(const Subject& subject, Resource resource, std::string_view name, Operation operation) const;
  // Kafka 2.8+ (KIP-679): an idempotent producer needs IdempotentWrite on the
  // cluster, or Write on any topic.
  bool authorizes_idempotent_write(const Subject& subject) const;
  // Kafka's CreateTopics and auto-creation rule: Create on the topic, or on
  // the cluster for a topic within the confinement.
  bool authorizes_topic_creation(const Subject& subject, std::string_view topic) const;

  // Rules that can never take effect, in the operator's words (`kedge check`):
  // an allow rule every match of which a deny rule refuses (shadowed), a rule
  // whose operations do not apply to its resource type.
  std::vector<std::string> unreachable() const;
  // One line per rule, for `kedge check`.
  std::vector<std::string> describe() const;

  bool operator==(const AclSet&) const = default;

 private:
  std::vector<AclRule> rules_;
  NameConfinement confinement_;
};

// Operations Kafka defines for each resource type (AclEntry.supportedOperations).
OperationSet supported_operations(Resource resource);

}  // namespace kedge::policy
