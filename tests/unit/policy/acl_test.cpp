// Per-resource rules (policy/acl.h): Kafka's authorizer semantics (deny wins,
// implied Describe, no rule means no access), patterns, client addresses, the
// API -> resource checks, and the `kedge check` findings.
#include <catch2/catch.hpp>

#include "policy/acl.h"
#include "policy/policy.h"

using namespace kedge::policy;

namespace {

AclRule rule(Permission permission, OperationSet operations, Resource resource, std::vector<std::string> names,
             std::vector<std::string> principals = {"*"}, std::vector<std::string> addresses = {}) {
  AclRule r;
  r.permission = permission;
  r.operations = operations;
  r.resource = resource;
  for (const auto& n : names) r.names.push_back(NamePattern::parse(n));
  for (const auto& p : principals) r.principals.push_back(NamePattern::parse(p));
  for (const auto& a : addresses) r.addresses.push_back(*AddressRange::parse(a));
  if (resource == Resource::cluster) r.names = {NamePattern{}};
  return r;
}

Subject who(std::string_view principal, std::string_view address = "10.1.2.3") {
  return Subject{principal, parse_address(address)};
}

}  // namespace

TEST_CASE("name patterns: any, prefix, exact", "[policy][acl]") {
  CHECK(NamePattern::parse("*").matches("anything"));
  CHECK(NamePattern::parse("*").matches(""));
  const NamePattern prefix = NamePattern::parse("orders-*");
  CHECK(prefix.kind == NamePattern::Kind::prefix);
  CHECK(prefix.matches("orders-eu"));
  CHECK(prefix.matches("orders-"));
  CHECK_FALSE(prefix.matches("orders"));
  CHECK_FALSE(prefix.matches("xorders-eu"));
  const NamePattern exact = NamePattern::parse("orders");
  CHECK(exact.matches("orders"));
  CHECK_FALSE(exact.matches("orders2"));
  CHECK(exact.within(prefix) == false);
  CHECK(NamePattern::parse("orders-eu").within(prefix));
  CHECK(NamePattern::parse("orders-eu-*").within(prefix));
  CHECK_FALSE(prefix.within(NamePattern::parse("orders-eu-*")));
  CHECK(prefix.within(NamePattern::parse("*")));
  CHECK_FALSE(NamePattern::parse("*").within(prefix));
  CHECK(prefix.to_string() == "orders-*");
}

TEST_CASE("address ranges: IPv4 and IPv6 networks", "[policy][acl]") {
  const auto net = AddressRange::parse("10.0.0.0/8");
  REQUIRE(net);
  CHECK(net->contains(*parse_address("10.255.1.2")));
  CHECK_FALSE(net->contains(*parse_address("11.0.0.1")));
  CHECK_FALSE(net->contains(*parse_address("::1")));
  CHECK(net->to_string() == "10.0.0.0/8");
  const auto host = AddressRange::parse("192.0.2.7");
  REQUIRE(host);
  CHECK(host->contains(*parse_address("192.0.2.7")));
  CHECK_FALSE(host->contains(*parse_address("192.0.2.8")));
  CHECK(host->to_string() == "192.0.2.7");
  CHECK(host->within(*AddressRange::parse("192.0.2.0/24")));
  const auto v6 = AddressRange::parse("2001:db8::/32");
  REQUIRE(v6);
  CHECK(v6->contains(*parse_address("2001:db8:1::5")));
  CHECK_FALSE(v6->contains(*parse_address("2001:db9::5")));
  CHECK(AddressRange::parse("10.1.2.3/20")->network == AddressRange::parse("10.1.0.0/20")->network);
  CHECK_FALSE(AddressRange::parse("10.0.0.0/33"));
  CHECK_FALSE(AddressRange::parse("10.0.0.0/"));
  CHECK_FALSE(AddressRange::parse("10.0.0.0/x"));
  CHECK_FALSE(AddressRange::parse("example.com"));
  CHECK_FALSE(parse_address("unix-socket"));
}

TEST_CASE("no rule means no access; an allow grants exactly its operations", "[policy][acl]") {
  const AclSet none;
  CHECK_FALSE(none.authorizes(who("alice"), Resource::topic, "orders", Operation::read));

  const AclSet acls({rule(Permission::allow, bit(Operation::read), Resource::topic, {"orders"})});
  CHECK(acls.authorizes(who("alice"), Resource::topic, "orders", Operation::read));
  CHECK(acls.authorizes(who(""), Resource::topic, "orders", Operation::read));  // "*" covers a client with no principal
  CHECK_FALSE(acls.authorizes(who("alice"), Resource::topic, "orders", Operation::write));
  CHECK_FALSE(acls.authorizes(who("alice"), Resource::topic, "payments", Operation::read));
  CHECK_FALSE(acls.authorizes(who("alice"), Resource::group, "orders", Operation::read));
}

TEST_CASE("Read, Write, Delete and Alter imply Describe; AlterConfigs implies DescribeConfigs", "[policy][acl]") {
  for (const Operation op : {Operation::read, Operation::write, Operation::delete_, Operation::alter}) {
    const AclSet acls({rule(Permission::allow, bit(op), Resource::topic, {"t"})});
    CHECK(acls.authorizes(who("a"), Resource::topic, "t", Operation::describe));
    CHECK_FALSE(acls.authorizes(who("a"), Resource::topic, "t", Operation::describe_configs));
  }
  const AclSet configs({rule(Permission::allow, bit(Operation::alter_configs), Resource::topic, {"t"})});
  CHECK(configs.authorizes(who("a"), Resource::topic, "t", Operation::describe_configs));
  CHECK_FALSE(configs.authorizes(who("a"), Resource::topic, "t", Operation::describe));
  const AclSet create({rule(Permission::allow, bit(Operation::create), Resource::topic, {"t"})});
  CHECK_FALSE(create.authorizes(who("a"), Resource::topic, "t", Operation::describe));
}

TEST_CASE("deny wins over any allow, and only for what it denies", "[policy][acl]") {
  const AclSet acls({
      rule(Permission::allow, kAllOperations, Resource::topic, {"*"}),
      rule(Permission::deny, bit(Operation::write), Resource::topic, {"audit-*"}, {"bob"}),
      rule(Permission::deny, bit(Operation::describe), Resource::topic, {"secret"}),
  });
  CHECK(acls.authorizes(who("bob"), Resource::topic, "audit-log", Operation::read));
  CHECK_FALSE(acls.authorizes(who("bob"), Resource::topic, "audit-log", Operation::write));
  CHECK(acls.authorizes(who("alice"), Resource::topic, "audit-log", Operation::write));
  // A deny of Describe does not deny Read (Kafka denies each operation by itself).
  CHECK_FALSE(acls.authorizes(who("alice"), Resource::topic, "secret", Operation::describe));
  CHECK(acls.authorizes(who("alice"), Resource::topic, "secret", Operation::read));
  // Deny All denies every operation, implied ones included.
  const AclSet all({rule(Permission::allow, bit(Operation::read), Resource::topic, {"t"}),
                    rule(Permission::deny, kAllOperations, Resource::topic, {"t"}, {"mallory"})});
  CHECK_FALSE(all.authorizes(who("mallory"), Resource::topic, "t", Operation::describe));
  CHECK(all.authorizes(who("eve"), Resource::topic, "t", Operation::describe));
}

TEST_CASE("principal patterns and client addresses are conditions", "[policy][acl]") {
  const AclSet acls({
      rule(Permission::allow, bit(Operation::write), Resource::topic, {"orders"}, {"svc-*"}, {"10.0.0.0/8"}),
  });
  CHECK(acls.authorizes(who("svc-orders", "10.9.9.9"), Resource::topic, "orders", Operation::write));
  CHECK_FALSE(acls.authorizes(who("svc-orders", "192.168.1.1"), Resource::topic, "orders", Operation::write));
  CHECK_FALSE(acls.authorizes(who("alice", "10.9.9.9"), Resource::topic, "orders", Operation::write));
  // A client with no principal matches no named pattern, and no address matches no range.
  CHECK_FALSE(acls.authorizes(who("", "10.9.9.9"), Resource::topic, "orders", Operation::write));
  CHECK_FALSE(acls.authorizes(Subject{"svc-x", std::nullopt}, Resource::topic, "orders", Operation::write));
}

TEST_CASE("an idempotent producer needs IdempotentWrite on the cluster or Write on some topic", "[policy][acl]") {
  CHECK_FALSE(AclSet({rule(Permission::allow, bit(Operation::read), Resource::topic, {"*"})})
                  .authorizes_idempotent_write(who("a")));
  CHECK(AclSet({rule(Permission::allow, bit(Operation::write), Resource::topic, {"t"}, {"a"})})
            .authorizes_idempotent_write(who("a")));
  CHECK_FALSE(AclSet({rule(Permission::allow, bit(Operation::write), Resource::topic, {"t"}, {"a"})})
                  .authorizes_idempotent_write(who("b")));
  CHECK(AclSet({rule(Permission::allow, bit(Operation::idempotent_write), Resource::cluster, {})})
            .authorizes_idempotent_write(who("b")));
}

TEST_CASE("each API names what it needs on each resource type", "[policy][acl]") {
  using kedge::kafka::ApiKey;
  using kedge::kafka::key_of;
  const auto check = [](ApiKey api, std::string_view type) { return resource_check(key_of(api), type); };
  const auto is = [](std::optional<ResourceCheck> c, Resource r, Operation o) {
    return c.has_value() && c->resource == r && c->operation == o;
  };
  CHECK(is(check(ApiKey::produce, "topic"), Resource::topic, Operation::write));
  CHECK(is(check(ApiKey::produce, "transactional_id"), Resource::transactional_id, Operation::write));
  CHECK(is(check(ApiKey::fetch, "topic"), Resource::topic, Operation::read));
  CHECK(is(check(ApiKey::list_offsets, "topic"), Resource::topic, Operation::describe));
  CHECK(is(check(ApiKey::offset_commit, "group"), Resource::group, Operation::read));
  CHECK(is(check(ApiKey::offset_commit, "topic"), Resource::topic, Operation::read));
  CHECK(is(check(ApiKey::offset_fetch, "group"), Resource::group, Operation::describe));
  CHECK(is(check(ApiKey::offset_fetch, "topic"), Resource::topic, Operation::describe));
  CHECK(is(check(ApiKey::find_coordinator, "group"), Resource::group, Operation::describe));
  CHECK(is(check(ApiKey::find_coordinator, "transactional_id"), Resource::transactional_id, Operation::describe));
  CHECK(is(check(ApiKey::join_group, "group"), Resource::group, Operation::read));
  CHECK(is(check(ApiKey::create_topics, "topic"), Resource::topic, Operation::create));
  CHECK(is(check(ApiKey::delete_topics, "topic"), Resource::topic, Operation::delete_));
  CHECK(is(check(ApiKey::txn_offset_commit, "group"), Resource::group, Operation::read));
  CHECK(is(check(ApiKey::add_partitions_to_txn, "topic"), Resource::topic, Operation::write));
  CHECK(is(check(ApiKey::describe_configs, "broker"), Resource::cluster, Operation::describe_configs));
  CHECK(is(check(ApiKey::incremental_alter_configs, "topic"), Resource::topic, Operation::alter_configs));
  CHECK_FALSE(check(ApiKey::delete_topics, "topic_id"));  // kedge does not resolve topic ids yet
  CHECK_FALSE(check(ApiKey::find_coordinator, "share_group_key"));
  CHECK_FALSE(check(ApiKey::fetch, "group"));
  CHECK(is(check(ApiKey::share_fetch, "group"), Resource::group, Operation::read));
  CHECK(is(check(ApiKey::share_fetch, "topic"), Resource::topic, Operation::read));
  CHECK(is(check(ApiKey::share_acknowledge, "topic"), Resource::topic, Operation::read));
  CHECK(is(check(ApiKey::share_group_heartbeat, "topic"), Resource::topic, Operation::describe));
  CHECK(is(check(ApiKey::describe_producers, "topic"), Resource::topic, Operation::read));
}

TEST_CASE("with ACLs, an API kedge cannot read the resources of is refused", "[policy][acl]") {
  using kedge::kafka::ApiKey;
  using kedge::kafka::key_of;
  ClusterPolicy policy;
  policy.acls = AclSet{};
  CHECK_FALSE(decide(policy, key_of(ApiKey::produce)));
  CHECK_FALSE(decide(policy, key_of(ApiKey::fetch)));
  CHECK_FALSE(decide(policy, key_of(ApiKey::metadata)));
  CHECK_FALSE(decide(policy, key_of(ApiKey::describe_cluster)));  // the cluster: decided per request
  CHECK_FALSE(decide(policy, key_of(ApiKey::api_versions)));
  CHECK(decide(policy, key_of(ApiKey::describe_transactions)) == Refusal::acl_unchecked);
  CHECK(decide(policy, key_of(ApiKey::consumer_group_describe)) == Refusal::acl_unchecked);
  // The share APIs (KIP-932) and DescribeProducers are read: by group, then topic by topic (split.h).
  CHECK_FALSE(decide(policy, key_of(ApiKey::share_group_heartbeat)));
  CHECK_FALSE(decide(policy, key_of(ApiKey::share_fetch)));
  CHECK_FALSE(decide(policy, key_of(ApiKey::share_acknowledge)));
  CHECK_FALSE(decide(policy, key_of(ApiKey::describe_producers)));
  CHECK(acl_readable_versions(key_of(ApiKey::share_fetch)).lo == 1);
  CHECK(acl_readable_versions(key_of(ApiKey::share_fetch)).hi == 2);
  CHECK(acl_readable_versions(key_of(ApiKey::share_group_heartbeat)).hi == 1);
  // Topic ids (Produce v13, Fetch v13+) are named through the Metadata kedge has seen (policy/topic_ids.h).
  CHECK(acl_readable_versions(key_of(ApiKey::produce)).hi == 13);
  CHECK(acl_readable_versions(key_of(ApiKey::fetch)).hi == 17);
  CHECK(acl_readable_versions(key_of(ApiKey::list_groups)).hi == 5);  // filtered by group (topic_filter.h)
  CHECK_FALSE(acl_readable_versions(key_of(ApiKey::sasl_handshake)).contains(0));
}

TEST_CASE("kedge check finds rules that never take effect", "[policy][acl]") {
  const AclSet acls({
      rule(Permission::allow, bit(Operation::read), Resource::topic, {"orders-*"}, {"alice"}),
      rule(Permission::deny, bit(Operation::read) | bit(Operation::write), Resource::topic, {"*"}, {"*"}),
      rule(Permission::allow, bit(Operation::write), Resource::group, {"g"}),
      rule(Permission::allow, bit(Operation::read), Resource::topic, {"x"}, {"bob"}, {"10.0.0.0/8"}),
  });
  const auto found = acls.unreachable();
  REQUIRE(found.size() == 3);
  CHECK(found[0] == "acls[0]: allow Read on topics orders-* to alice: shadowed by acls[1], which denies everything it "
                    "allows (deny wins)");
  CHECK(found[1] == "acls[2]: allow Write on groups g to *: none of these operations applies to groups");
  CHECK(found[2].rfind("acls[3]: allow Read on topics x to bob from 10.0.0.0/8: shadowed by acls[1]", 0) == 0);
  const auto lines = acls.describe();
  REQUIRE(lines.size() == 4);
  CHECK(lines[1] == "acls[1]: deny Read, Write on topics * to *");
  // A deny limited to some addresses does not shadow an allow from anywhere.
  const AclSet partial({
      rule(Permission::allow, bit(Operation::read), Resource::topic, {"t"}),
      rule(Permission::deny, bit(Operation::read), Resource::topic, {"t"}, {"*"}, {"10.0.0.0/8"}),
  });
  CHECK(partial.unreachable().empty());
}

TEST_CASE("a visible namespace confines every rule to its prefixes", "[policy][acl][namespace]") {
  AclSet acls({rule(Permission::allow, kAllOperations, Resource::topic, {"*"}),
               rule(Permission::allow, kAllOperations, Resource::group, {"*"}),
               rule(Permission::allow, bit(Operation::create) | bit(Operation::describe), Resource::cluster, {})});
  CHECK(acls.authorizes(who("alice"), Resource::topic, "orders", Operation::write));
  CHECK(acls.authorizes_topic_creation(who("alice"), "orders"));
  acls.confine({"team-a.", "team-a.", ""});
  CHECK(acls.confined());
  CHECK(acls.authorizes(who("alice"), Resource::topic, "team-a.orders", Operation::write));
  CHECK_FALSE(acls.authorizes(who("alice"), Resource::topic, "orders", Operation::write));
  CHECK_FALSE(acls.authorizes(who("alice"), Resource::topic, "team-b.orders", Operation::describe));
  CHECK_FALSE(acls.authorizes(who("alice"), Resource::group, "app", Operation::read));
  CHECK(acls.authorizes(who("alice"), Resource::group, "team-a.app", Operation::read));
  // An empty prefix confines nothing; the cluster is never confined.
  CHECK(acls.within(Resource::transactional_id, "billing"));
  CHECK(acls.authorizes(who("alice"), Resource::cluster, {}, Operation::describe));
  // Create on the cluster creates topics only inside the namespace.
  CHECK(acls.authorizes_topic_creation(who("alice"), "team-a.new"));
  CHECK_FALSE(acls.authorizes_topic_creation(who("alice"), "new"));
  // A deny still wins inside it.
  AclSet with_deny({rule(Permission::allow, kAllOperations, Resource::topic, {"*"}),
                    rule(Permission::deny, bit(Operation::write), Resource::topic, {"team-a.audit"})});
  with_deny.confine({"team-a.", "", ""});
  CHECK_FALSE(with_deny.authorizes(who("alice"), Resource::topic, "team-a.audit", Operation::write));
  CHECK(with_deny.authorizes(who("alice"), Resource::topic, "team-a.audit", Operation::read));
}

TEST_CASE("kedge check: rules that name nothing inside a visible namespace never take effect", "[policy][acl][namespace]") {
  AclSet acls({rule(Permission::allow, bit(Operation::read), Resource::topic, {"team-a.orders"}),
               rule(Permission::allow, bit(Operation::read), Resource::topic, {"orders", "team-b.*"}),
               rule(Permission::allow, bit(Operation::read), Resource::topic, {"team-*"}),
               rule(Permission::allow, bit(Operation::read), Resource::group, {"app"})});
  acls.confine({"team-a.", "team-a.", "team-a."});
  const std::vector<std::string> found = acls.unreachable();
  REQUIRE(found.size() == 2);
  CHECK(found[0] == "acls[1]: allow Read on topics orders, team-b.* to *: names nothing that starts with the "
                    "namespace's prefix \"team-a.\"");
  CHECK(found[1] == "acls[3]: allow Read on groups app to *: names nothing that starts with the namespace's prefix "
                    "\"team-a.\"");
  const std::vector<std::string> lines = acls.describe();
  REQUIRE(lines.size() == 7);
  CHECK(lines[4] == "namespace: only topics that start with \"team-a.\"");
  CHECK(lines[6] == "namespace: only transactional_ids that start with \"team-a.\"");
}
