// virtual_clusters[].policy in the configuration file: read_only, apis.allow / apis.deny, and the errors.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config_tree.h"

using nlohmann::json;
using kedge::config_testing::config_error_of;
using kedge::config_testing::ConfigTree;

namespace {

json config_with_policy(const json& policy) {
  json config = json::parse(R"({
    "listeners": [{"name": "public", "bind": "0.0.0.0:9092", "advertised_port": 9092,
                   "tls": {"cert": "c.pem", "key": "c.key"}}],
    "virtual_clusters": [
      {"name": "alpha", "hostnames": {"format": "subdomain", "domain": "kafka.example.com"},
       "backend": {"bootstrap_servers": ["10.0.0.5:9092"]}}
    ]
  })");
  if (!policy.is_null()) config["virtual_clusters"][0]["policy"] = policy;
  return config;
}


}  // namespace

TEST_CASE("a cluster without policy has none; an empty one allows everything", "[policy][config]") {
  const ConfigTree tree("kedge-policy-config", {"c.pem", "c.key"});
  CHECK_FALSE(tree.load(config_with_policy(nullptr)).virtual_clusters[0].policy.has_value());
  const auto empty = tree.load(config_with_policy(json::object())).virtual_clusters[0].policy;
  REQUIRE(empty.has_value());
  CHECK(*empty == kedge::policy::ClusterPolicy{});
}

TEST_CASE("read_only and the API lists load", "[policy][config]") {
  const ConfigTree tree("kedge-policy-config", {"c.pem", "c.key"});
  const auto read_only = tree.load(config_with_policy({{"read_only", true}})).virtual_clusters[0].policy;
  REQUIRE(read_only.has_value());
  CHECK(read_only->read_only);
  CHECK(read_only->api_mode == kedge::policy::ApiListMode::none);

  const auto deny =
      tree.load(config_with_policy({{"apis", {{"deny", {"CreateTopics", "deletetopics"}}}}})).virtual_clusters[0].policy;
  REQUIRE(deny.has_value());
  CHECK(deny->api_mode == kedge::policy::ApiListMode::deny);
  CHECK(deny->listed_apis.test(19));
  CHECK(deny->listed_apis.test(20));
  CHECK(deny->listed_apis.count() == 2);

  const auto allow = tree.load(config_with_policy({{"apis", {{"allow", {"Metadata", "Fetch"}}}}})).virtual_clusters[0].policy;
  REQUIRE(allow.has_value());
  CHECK(allow->api_mode == kedge::policy::ApiListMode::allow);
  CHECK(allow->listed_apis.count() == 2);
}

TEST_CASE("policy errors name the field and the fix", "[policy][config]") {
  const ConfigTree tree("kedge-policy-config", {"c.pem", "c.key"});
  CHECK(tree.error_of(config_with_policy({{"apis", {{"deny", {"Produce", "CreateTopic"}}}}})) ==
        "virtual_clusters[0].policy.apis.deny[1]: \"CreateTopic\" is not a Kafka API name (as Kafka spells them: "
        "\"Produce\", \"CreateTopics\", ...)");
  CHECK(tree.error_of(config_with_policy({{"apis", {{"deny", {"Produce"}}, {"allow", {"Fetch"}}}}})) ==
        "virtual_clusters[0].policy.apis: set \"allow\" or \"deny\", not both (an allow list denies every API it "
        "does not name)");
  CHECK(tree.error_of(config_with_policy({{"apis", json::object()}})) ==
        "virtual_clusters[0].policy.apis: set \"allow\" or \"deny\"");
  CHECK(tree.error_of(config_with_policy({{"read_only", "yes"}})).find("virtual_clusters[0].policy.read_only") == 0);
  CHECK(tree.error_of(config_with_policy({{"readonly", true}})).find("virtual_clusters[0].policy") == 0);
}

TEST_CASE("audit.file resolves against the config's folder; \"-\" is standard output", "[policy][config][audit]") {
  const ConfigTree tree("kedge-policy-config", {"c.pem", "c.key"});
  json config = config_with_policy(nullptr);
  CHECK_FALSE(tree.load(config).audit.has_value());
  config["audit"] = {{"file", "logs/audit.jsonl"}};
  const auto audit = tree.load(config).audit;
  REQUIRE(audit.has_value());
  CHECK(audit->file == (tree.dir / "logs" / "audit.jsonl").string());
  config["audit"] = {{"file", "-"}};
  CHECK(tree.load(config).audit->file == "-");
  config["audit"] = {{"file", ""}};
  CHECK(tree.error_of(config).find("audit.file") == 0);
  config["audit"] = {{"path", "a.jsonl"}};
  CHECK(tree.error_of(config).find("audit") == 0);
}

TEST_CASE("unknown_apis is deny by default, or allow", "[policy][config]") {
  const ConfigTree tree("kedge-policy-config", {"c.pem", "c.key"});
  CHECK_FALSE(tree.load(config_with_policy(json::object())).virtual_clusters[0].policy->allow_unknown_apis);
  CHECK(tree.load(config_with_policy({{"unknown_apis", "allow"}})).virtual_clusters[0].policy->allow_unknown_apis);
  CHECK_FALSE(tree.load(config_with_policy({{"unknown_apis", "deny"}})).virtual_clusters[0].policy->allow_unknown_apis);
  CHECK(tree.error_of(config_with_policy({{"unknown_apis", "maybe"}})) ==
        "virtual_clusters[0].policy.unknown_apis: \"maybe\" is not \"deny\" or \"allow\"");
}

TEST_CASE("policy.acls load as Kafka-style rules", "[policy][config][acl]") {
  const ConfigTree tree("kedge-policy-config", {"c.pem", "c.key"});
  const auto policy = tree.load(config_with_policy({{"acls", json::parse(R"([
      {"allow": ["Read", "describe"], "topics": ["orders", "logs-*"]},
      {"deny": ["All"], "topics": ["*"], "principals": ["mallory", "guest-*"], "client_addresses": ["10.0.0.0/8", "::1"]},
      {"allow": ["IdempotentWrite"], "cluster": true, "principals": ["svc"]},
      {"allow": ["Read"], "groups": ["app-*"]},
      {"allow": ["Write"], "transactional_ids": ["tx-*"]}
  ])")}})).virtual_clusters[0].policy;
  REQUIRE(policy.has_value());
  REQUIRE(policy->acls.has_value());
  const auto& rules = policy->acls->rules();
  REQUIRE(rules.size() == 5);
  using namespace kedge::policy;
  CHECK(rules[0].permission == Permission::allow);
  CHECK(rules[0].operations == (bit(Operation::read) | bit(Operation::describe)));
  CHECK(rules[0].resource == Resource::topic);
  CHECK(rules[0].names == std::vector<NamePattern>{NamePattern::parse("orders"), NamePattern::parse("logs-*")});
  CHECK(rules[0].principals == std::vector<NamePattern>{NamePattern{}});
  CHECK(rules[0].addresses.empty());
  CHECK(rules[1].permission == Permission::deny);
  CHECK(rules[1].operations == kAllOperations);
  CHECK(rules[1].addresses.size() == 2);
  CHECK(rules[2].resource == Resource::cluster);
  CHECK(rules[3].resource == Resource::group);
  CHECK(rules[4].resource == Resource::transactional_id);
  // An empty list is a policy that refuses every resource.
  const auto empty = tree.load(config_with_policy({{"acls", json::array()}})).virtual_clusters[0].policy;
  REQUIRE(empty->acls.has_value());
  CHECK(empty->acls->rules().empty());
}

TEST_CASE("policy.acls errors name the rule and what is wrong", "[policy][config][acl]") {
  const ConfigTree tree("kedge-policy-config", {"c.pem", "c.key"});
  const auto error = [&](const char* rules) { return tree.error_of(config_with_policy({{"acls", json::parse(rules)}})); };
  CHECK_THAT(error(R"([{"topics": ["t"]}])"), Catch::Contains("acls[0]") && Catch::Contains("set \"allow\" or \"deny\""));
  CHECK_THAT(error(R"([{"allow": ["Read"], "deny": ["Write"], "topics": ["t"]}])"), Catch::Contains("not both"));
  CHECK_THAT(error(R"([{"allow": ["Reed"], "topics": ["t"]}])"),
             Catch::Contains("acls[0].allow[0]") && Catch::Contains("\"Reed\" is not a Kafka ACL operation"));
  CHECK_THAT(error(R"([{"allow": ["Read"]}])"), Catch::Contains("name one resource"));
  CHECK_THAT(error(R"([{"allow": ["Read"], "topics": ["t"], "groups": ["g"]}])"), Catch::Contains("name one resource"));
  CHECK_THAT(error(R"([{"allow": ["Write"], "groups": ["g"]}])"),
             Catch::Contains("Write does not apply to this resource"));
  CHECK_THAT(error(R"([{"allow": ["Read"], "topics": ["a*b"]}])"), Catch::Contains("may only end a pattern"));
  CHECK_THAT(error(R"([{"allow": ["Read"], "topics": []}])"), Catch::Contains("is empty"));
  CHECK_THAT(error(R"([{"allow": ["Read"], "topics": ["t"], "client_addresses": ["10.0.0.0/40"]}])"),
             Catch::Contains("acls[0].client_addresses[0]") && Catch::Contains("not an IP address or network"));
  CHECK_THAT(error(R"([{"allow": ["Read"], "topics": ["t"], "hosts": ["x"]}])"), Catch::Contains("hosts"));
}
