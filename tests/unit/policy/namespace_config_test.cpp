// virtual_clusters[].namespace in the configuration file (docs/namespaces.md): the prefix forms and the errors.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config_tree.h"

using nlohmann::json;
using kedge::config_testing::config_error_of;
using kedge::config_testing::ConfigTree;

namespace {

// Two clusters on one backend; `a` and `b` their namespaces (null: none).
json config_with(const json& a, const json& b = nullptr, const std::string& b_backend = "10.0.0.5:9092") {
  json config = json::parse(R"({
    "listeners": [{"name": "public", "bind": "0.0.0.0:9092", "advertised_port": 9092,
                   "tls": {"cert": "c.pem", "key": "c.key"}}],
    "virtual_clusters": [
      {"name": "team-a", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}},
      {"name": "team-b", "hostnames": {"format": "shared_suffix", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}}
    ]
  })");
  config["virtual_clusters"][1]["backend"]["bootstrap_servers"][0] = b_backend;
  if (!a.is_null()) config["virtual_clusters"][0]["namespace"] = a;
  if (!b.is_null()) config["virtual_clusters"][1]["namespace"] = b;
  return config;
}


}  // namespace

TEST_CASE("namespace: one prefix for every kind of name, or one per kind", "[config][namespace]") {
  const ConfigTree tree("kedge-namespace-config", {"c.pem", "c.key"});
  const kedge::Config none = tree.load(config_with(nullptr));
  CHECK_FALSE(none.virtual_clusters[0].name_prefixes.has_value());

  const kedge::Config all = tree.load(config_with({{"prefix", "team-a."}}, {{"prefix", "team-b."}}));
  REQUIRE(all.virtual_clusters[0].name_prefixes.has_value());
  CHECK(*all.virtual_clusters[0].name_prefixes == kedge::kafka::NamePrefixes{"team-a.", "team-a.", "team-a."});

  const kedge::Config split = tree.load(config_with({{"topics", "a_"}, {"groups", "group:a/"}}));
  REQUIRE(split.virtual_clusters[0].name_prefixes.has_value());
  CHECK(*split.virtual_clusters[0].name_prefixes == kedge::kafka::NamePrefixes{"a_", "group:a/", ""});
}

TEST_CASE("namespace: what cannot work is refused with the path and the reason", "[config][namespace]") {
  const ConfigTree tree("kedge-namespace-config", {"c.pem", "c.key"});
  CHECK(tree.error_of(config_with({{"prefix", "team a."}})) ==
        "virtual_clusters[0].namespace.prefix: \"team a.\" has characters a topic name cannot have (legal: a-z A-Z "
        "0-9 . _ -)");
  CHECK(tree.error_of(config_with({{"prefix", std::string(249, 'x')}})) ==
        "virtual_clusters[0].namespace.prefix: 249 characters leave no room for a topic name (Kafka's limit is 249)");
  CHECK(tree.error_of(config_with({{"groups", "g."}})) ==
        "virtual_clusters[0].namespace: needs a topic prefix (\"prefix\" or \"topics\")");
  CHECK(tree.error_of(config_with({{"prefix", "a."}, {"topics", "b."}})) ==
        "virtual_clusters[0].namespace.topics: set together with \"prefix\" (use one or the other)");
  CHECK(tree.error_of(config_with({{"topics", "t."}, {"groups", "g roup"}})) ==
        "virtual_clusters[0].namespace.groups: must be printable ASCII without spaces");
  CHECK(tree.error_of(config_with({{"prefix", "team."}, {"pre", "x"}})).find("virtual_clusters[0].namespace") == 0);
  // Nested prefixes on one backend would show one tenant the other's topics.
  CHECK(tree.error_of(config_with({{"prefix", "team."}}, {{"prefix", "team.b."}})) ==
        "virtual_clusters[1].namespace: topic prefix \"team.b.\" overlaps \"team.\" of virtual_clusters[0] on the same "
        "backend (namespaces must not nest)");
  // ... on another backend they are independent.
  CHECK_NOTHROW(tree.load(config_with({{"prefix", "team."}}, {{"prefix", "team.b."}}, "10.0.0.9:9092")));
}

TEST_CASE("namespace: visible prefixes confine the cluster's ACLs instead of renaming", "[config][namespace]") {
  const ConfigTree tree("kedge-namespace-config", {"c.pem", "c.key"});
  const kedge::Config hidden = tree.load(config_with({{"prefix", "team-a."}}));
  CHECK_FALSE(hidden.virtual_clusters[0].namespace_visible);
  CHECK_FALSE(hidden.virtual_clusters[0].policy.has_value());

  // Without a policy: ACLs allowing everything inside the namespace, and on the cluster only what touches no
  // other tenant (no Create, Alter or AlterConfigs there).
  const kedge::Config visible = tree.load(config_with({{"prefix", "team-a."}, {"visible", true}}));
  const kedge::VirtualClusterConfig& vc = visible.virtual_clusters[0];
  CHECK(vc.namespace_visible);
  REQUIRE(vc.policy.has_value());
  REQUIRE(vc.policy->acls.has_value());
  const kedge::policy::AclSet& acls = *vc.policy->acls;
  CHECK(acls.confinement() == kedge::policy::NameConfinement{"team-a.", "team-a.", "team-a."});
  using kedge::policy::Operation;
  using kedge::policy::Resource;
  const kedge::policy::Subject anyone{"", std::nullopt};
  CHECK(acls.authorizes(anyone, Resource::topic, "team-a.orders", Operation::write));
  CHECK(acls.authorizes(anyone, Resource::group, "team-a.app", Operation::read));
  CHECK(acls.authorizes(anyone, Resource::transactional_id, "team-a.billing", Operation::write));
  CHECK_FALSE(acls.authorizes(anyone, Resource::topic, "orders", Operation::describe));
  CHECK_FALSE(acls.authorizes(anyone, Resource::topic, "team-b.orders", Operation::read));
  CHECK(acls.authorizes(anyone, Resource::cluster, {}, Operation::describe));
  CHECK(acls.authorizes(anyone, Resource::cluster, {}, Operation::idempotent_write));
  CHECK_FALSE(acls.authorizes(anyone, Resource::cluster, {}, Operation::create));
  CHECK_FALSE(acls.authorizes(anyone, Resource::cluster, {}, Operation::alter));
  CHECK_FALSE(acls.authorizes(anyone, Resource::cluster, {}, Operation::alter_configs));
  CHECK(acls.unreachable().empty());

  // The operator's own ACLs are kept and confined.
  json with_policy = config_with({{"prefix", "team-a."}, {"visible", true}});
  with_policy["virtual_clusters"][0]["policy"] =
      json::parse(R"({"acls": [{"allow": ["Read"], "topics": ["team-a.orders", "orders"]}]})");
  const kedge::Config confined = tree.load(with_policy);
  const kedge::policy::AclSet& own = *confined.virtual_clusters[0].policy->acls;
  CHECK(own.rules().size() == 1);
  CHECK(own.authorizes(anyone, Resource::topic, "team-a.orders", Operation::read));
  CHECK_FALSE(own.authorizes(anyone, Resource::topic, "orders", Operation::read));

  CHECK(tree.error_of(config_with({{"prefix", "team-a."}, {"visible", "yes"}})) ==
        "virtual_clusters[0].namespace.visible: expected true or false, got string \"yes\"");
}
