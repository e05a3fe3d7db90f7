// HostnameMapper: the two naming formats, identify() edge cases, add_cluster()
// validation and collisions, and the host names the gateway advertises.
#include <catch2/catch.hpp>

#include <limits>

#include "sni/hostname.h"

using namespace kedge::sni;

namespace {

constexpr std::int32_t kMaxId = std::numeric_limits<std::int32_t>::max();

// "not_recognised", "0:bootstrap", "1:http" or "2:node 5", so failures read as data.
std::string describe(const Target& target) {
  if (std::holds_alternative<NotRecognised>(target.role)) return "not_recognised";
  if (std::holds_alternative<Bootstrap>(target.role)) return std::to_string(target.cluster) + ":bootstrap";
  if (std::holds_alternative<Http>(target.role)) return std::to_string(target.cluster) + ":http";
  return std::to_string(target.cluster) + ":node " + std::to_string(std::get<Node>(target.role).id);
}

std::string upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

// Cluster 0: subdomain under kafka.example.com; 1 and 2: shared_suffix under
// shared.example.com (2 has dashes in its name); 3: shared_suffix under the
// same domain as cluster 0.
HostnameMapper make_mapper() {
  HostnameMapper mapper;
  REQUIRE(mapper.add_cluster({"alpha", HostnameFormat::subdomain, "kafka.example.com"}).empty());
  REQUIRE(mapper.add_cluster({"beta", HostnameFormat::shared_suffix, "shared.example.com"}).empty());
  REQUIRE(mapper.add_cluster({"team-a-prod", HostnameFormat::shared_suffix, "shared.example.com"}).empty());
  REQUIRE(mapper.add_cluster({"gamma", HostnameFormat::shared_suffix, "kafka.example.com"}).empty());
  return mapper;
}

}  // namespace

TEST_CASE("identify maps host names to cluster and role", "[sni][hostname]") {
  const HostnameMapper mapper = make_mapper();
  const std::vector<std::pair<std::string, std::string>> cases{
      // subdomain format
      {"bootstrap.kafka.example.com", "0:bootstrap"},
      {"BOOTSTRAP.Kafka.Example.COM", "0:bootstrap"},
      {"bootstrap.kafka.example.com.", "0:bootstrap"},
      {"broker-0.kafka.example.com", "0:node 0"},
      {"broker-1.kafka.example.com", "0:node 1"},
      {"Broker-42.KAFKA.EXAMPLE.COM.", "0:node 42"},
      {"broker-2147483647.kafka.example.com", "0:node 2147483647"},
      {"bootstrap.kafka.example.com..", "not_recognised"},
      {"broker-2147483648.kafka.example.com", "not_recognised"},  // int32 overflow
      {"broker-99999999999.kafka.example.com", "not_recognised"},
      {"broker-01.kafka.example.com", "not_recognised"},  // leading zero
      {"broker-00.kafka.example.com", "not_recognised"},
      {"broker--1.kafka.example.com", "not_recognised"},  // negative
      {"broker-+1.kafka.example.com", "not_recognised"},
      {"broker-.kafka.example.com", "not_recognised"},
      {"broker-1a.kafka.example.com", "not_recognised"},
      {"broker.kafka.example.com", "not_recognised"},
      {"broker-1.alpha.kafka.example.com", "not_recognised"},  // extra label
      {"broker-1.example.com", "not_recognised"},              // wrong domain
      {"broker-1.kafka.example.org", "not_recognised"},
      {"bootstrap.kafka.example.com.evil.org", "not_recognised"},
      {"xbootstrap.kafka.example.com", "not_recognised"},
      {"kafka.example.com", "not_recognised"},
      {"bootstrap", "not_recognised"},
      {"", "not_recognised"},
      {".", "not_recognised"},
      // shared_suffix format
      {"bootstrap-beta.shared.example.com", "1:bootstrap"},
      {"broker-5-beta.shared.example.com", "1:node 5"},
      {"BROKER-5-BETA.SHARED.EXAMPLE.COM.", "1:node 5"},
      {"broker-0-beta.shared.example.com", "1:node 0"},
      {"bootstrap-team-a-prod.shared.example.com", "2:bootstrap"},
      {"broker-5-team-a-prod.shared.example.com", "2:node 5"},
      {"broker-2147483647-team-a-prod.shared.example.com", "2:node 2147483647"},
      {"broker-5-team-a.shared.example.com", "not_recognised"},
      {"broker-5-prod.shared.example.com", "not_recognised"},
      {"broker-05-beta.shared.example.com", "not_recognised"},
      {"broker-2147483648-beta.shared.example.com", "not_recognised"},
      {"broker--5-beta.shared.example.com", "not_recognised"},
      {"broker-5--beta.shared.example.com", "not_recognised"},
      {"broker-beta.shared.example.com", "not_recognised"},
      {"broker-5-beta-.shared.example.com", "not_recognised"},
      {"bootstrap-beta-.shared.example.com", "not_recognised"},
      {"bootstrap.shared.example.com", "not_recognised"},  // no subdomain cluster there
      {"broker-5.shared.example.com", "not_recognised"},
      {"broker-5.beta.shared.example.com", "not_recognised"},  // the subdomain shape of beta
      {"bootstrap-beta.kafka.example.com", "not_recognised"},  // beta lives elsewhere
      {"broker-5-beta.kafka.example.com", "not_recognised"},
      // both formats under one domain
      {"bootstrap-gamma.kafka.example.com", "3:bootstrap"},
      {"broker-7-gamma.kafka.example.com", "3:node 7"},
      {"broker-7-alpha.kafka.example.com", "not_recognised"},  // alpha is a subdomain cluster
      // the HTTP front's name, in both formats
      {"http.kafka.example.com", "0:http"},
      {"HTTP.Kafka.Example.COM.", "0:http"},
      {"http-beta.shared.example.com", "1:http"},
      {"Http-Beta.shared.example.com.", "1:http"},
      {"http-team-a-prod.shared.example.com", "2:http"},
      {"http-gamma.kafka.example.com", "3:http"},
      {"http-alpha.kafka.example.com", "not_recognised"},  // alpha is a subdomain cluster
      {"http.shared.example.com", "not_recognised"},       // no subdomain cluster there
      {"http.alpha.kafka.example.com", "not_recognised"},  // extra label
      {"http.kafka.example.com..", "not_recognised"},
      {"https.kafka.example.com", "not_recognised"},
      {"www.kafka.example.com", "not_recognised"},
      {"http-.shared.example.com", "not_recognised"},
      {"http--beta.shared.example.com", "not_recognised"},
      {"http-beta-.shared.example.com", "not_recognised"},
      {"http-5-beta.shared.example.com", "not_recognised"},
      {"http-team-a.shared.example.com", "not_recognised"},
      {"http-prod.shared.example.com", "not_recognised"},
  };
  for (const auto& [host, expected] : cases) {
    DYNAMIC_SECTION("'" << host << "'") { CHECK(describe(mapper.identify(host)) == expected); }
  }
}

TEST_CASE("generated host names identify back to their cluster and node", "[sni][hostname]") {
  const HostnameMapper mapper = make_mapper();
  for (std::size_t cluster = 0; cluster < mapper.clusters().size(); ++cluster) {
    DYNAMIC_SECTION("cluster " << cluster) {
      const std::string bootstrap = mapper.bootstrap_host(cluster);
      CHECK(describe(mapper.identify(bootstrap)) == std::to_string(cluster) + ":bootstrap");
      CHECK(describe(mapper.identify(upper(bootstrap) + ".")) == std::to_string(cluster) + ":bootstrap");
      const std::string http = mapper.http_host(cluster);
      CHECK(describe(mapper.identify(http)) == std::to_string(cluster) + ":http");
      CHECK(describe(mapper.identify(upper(http) + ".")) == std::to_string(cluster) + ":http");
      for (std::int32_t id : {0, 1, 9, 10, 42, 1000, 65536, kMaxId - 1, kMaxId}) {
        const std::string broker = mapper.broker_host(cluster, id);
        const std::string expected = std::to_string(cluster) + ":node " + std::to_string(id);
        CHECK(describe(mapper.identify(broker)) == expected);
        CHECK(describe(mapper.identify(upper(broker) + ".")) == expected);
      }
    }
  }
}

TEST_CASE("generated host names", "[sni][hostname]") {
  const HostnameMapper mapper = make_mapper();
  CHECK(mapper.bootstrap_host(0) == "bootstrap.kafka.example.com");
  CHECK(mapper.broker_host(0, 3) == "broker-3.kafka.example.com");
  CHECK(mapper.bootstrap_host(2) == "bootstrap-team-a-prod.shared.example.com");
  CHECK(mapper.broker_host(2, 3) == "broker-3-team-a-prod.shared.example.com");
  CHECK(mapper.broker_host(1, kMaxId) == "broker-2147483647-beta.shared.example.com");
  CHECK(mapper.http_host(0) == "http.kafka.example.com");
  CHECK(mapper.http_host(1) == "http-beta.shared.example.com");
  CHECK(mapper.http_host(2) == "http-team-a-prod.shared.example.com");

  SECTION("are lower-case even when configured in upper case") {
    HostnameMapper m;
    REQUIRE(m.add_cluster({"Blue", HostnameFormat::shared_suffix, "Kafka.Example.COM."}).empty());
    CHECK(m.clusters()[0].name == "blue");
    CHECK(m.clusters()[0].domain == "kafka.example.com");
    CHECK(m.bootstrap_host(0) == "bootstrap-blue.kafka.example.com");
    CHECK(m.broker_host(0, 7) == "broker-7-blue.kafka.example.com");
    CHECK(m.http_host(0) == "http-blue.kafka.example.com");
  }
  SECTION("broker_host_into replaces what the buffer held") {
    std::string buffer = "broker-2147483647-team-a-prod.shared.example.com";
    mapper.broker_host_into(buffer, 0, 3);
    CHECK(buffer == "broker-3.kafka.example.com");
    mapper.broker_host_into(buffer, 2, 10);
    CHECK(buffer == "broker-10-team-a-prod.shared.example.com");
    mapper.broker_host_into(buffer, 0, -1);
    CHECK(buffer.empty());
  }
  SECTION("are empty for an unknown cluster or a negative node id") {
    CHECK(mapper.bootstrap_host(4).empty());
    CHECK(mapper.http_host(4).empty());
    CHECK(mapper.broker_host(4, 1).empty());
    CHECK(mapper.broker_host(0, -1).empty());
  }
  SECTION("shared_suffix names sit exactly one label below the domain") {
    // so one *.<domain> certificate covers them: a wildcard matches exactly
    // one label (RFC 6125 §6.4.3); subdomain names need *.<domain> as well,
    // but one certificate per cluster domain.
    for (std::size_t cluster : {std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
      const std::string& domain = mapper.clusters()[cluster].domain;
      for (const std::string& host :
           {mapper.bootstrap_host(cluster), mapper.broker_host(cluster, 12), mapper.http_host(cluster)}) {
        const auto dot = host.find('.');
        CHECK(host.substr(dot + 1) == domain);
      }
    }
  }
}

TEST_CASE("add_cluster rejects invalid names and domains", "[sni][hostname]") {
  struct Case {
    ClusterNaming naming;
    std::string error_mentions;  // empty: accepted
  };
  const std::string label63(63, 'a');
  const std::string label64(64, 'a');
  // 4 labels of 58 bytes = 235 bytes; "broker-2147483647." adds 18, reaching 253
  const std::string domain235 = std::string(58, 'd') + "." + std::string(58, 'd') + "." +
                                std::string(58, 'd') + "." + std::string(58, 'd');
  const std::vector<Case> cases{
      {{"alpha", HostnameFormat::subdomain, "kafka.example.com"}, ""},
      {{"a", HostnameFormat::subdomain, "example.com"}, ""},
      {{"a1-b2", HostnameFormat::subdomain, "x-1.example.com"}, ""},
      {{label63, HostnameFormat::subdomain, "example.com"}, ""},
      {{"", HostnameFormat::subdomain, "example.com"}, "not a DNS label"},
      {{label64, HostnameFormat::subdomain, "example.com"}, "not a DNS label"},
      {{"-a", HostnameFormat::subdomain, "example.com"}, "not a DNS label"},
      {{"a-", HostnameFormat::subdomain, "example.com"}, "not a DNS label"},
      {{"a_b", HostnameFormat::subdomain, "example.com"}, "not a DNS label"},
      {{"a.b", HostnameFormat::subdomain, "example.com"}, "not a DNS label"},
      {{"a", HostnameFormat::subdomain, ""}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, "com"}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, "."}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, "kafka..example.com"}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, ".example.com"}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, "example.com.."}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, "-kafka.example.com"}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, "kafka.example.com-"}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, "kafka_x.example.com"}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, "*.example.com"}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, label64 + ".com"}, "not a DNS name"},
      {{"a", HostnameFormat::subdomain, label63 + ".com"}, ""},
      {{"a", HostnameFormat::subdomain, domain235}, ""},
      {{"a", HostnameFormat::subdomain, "d" + domain235}, "exceed DNS limits"},
      // broker-2147483647-<vc> must fit in one 63-byte label
      {{std::string(45, 'v'), HostnameFormat::shared_suffix, "example.com"}, ""},
      {{std::string(46, 'v'), HostnameFormat::shared_suffix, "example.com"}, "exceed DNS limits"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION("'" << c.naming.name << "' under '" << c.naming.domain << "'") {
      HostnameMapper mapper;
      const std::string error = mapper.add_cluster(c.naming);
      if (c.error_mentions.empty()) {
        CHECK(error.empty());
        CHECK(mapper.clusters().size() == 1);
      } else {
        CHECK_THAT(error, Catch::Contains(c.error_mentions));
        CHECK(mapper.clusters().empty());
      }
    }
  }
}

TEST_CASE("add_cluster detects host name collisions", "[sni][hostname]") {
  struct Case {
    const char* what;
    ClusterNaming first;
    ClusterNaming second;
    bool collides;
  };
  const std::vector<Case> cases{
      {"two subdomain clusters under one domain",
       {"a", HostnameFormat::subdomain, "kafka.example.com"},
       {"b", HostnameFormat::subdomain, "kafka.example.com"}, true},
      {"the same domain in other case and with a trailing dot",
       {"a", HostnameFormat::subdomain, "kafka.example.com"},
       {"b", HostnameFormat::subdomain, "KAFKA.example.com."}, true},
      {"two shared_suffix clusters with one name under one domain",
       {"a", HostnameFormat::shared_suffix, "kafka.example.com"},
       {"A", HostnameFormat::shared_suffix, "kafka.example.com"}, true},
      {"shared_suffix clusters with different names under one domain",
       {"a", HostnameFormat::shared_suffix, "kafka.example.com"},
       {"b", HostnameFormat::shared_suffix, "kafka.example.com"}, false},
      {"shared_suffix names where one ends with the other",
       {"a", HostnameFormat::shared_suffix, "kafka.example.com"},
       {"1-a", HostnameFormat::shared_suffix, "kafka.example.com"}, false},
      {"shared_suffix names that look like ids",
       {"1", HostnameFormat::shared_suffix, "kafka.example.com"},
       {"2-1", HostnameFormat::shared_suffix, "kafka.example.com"}, false},
      {"one shared_suffix name under two domains",
       {"a", HostnameFormat::shared_suffix, "one.example.com"},
       {"a", HostnameFormat::shared_suffix, "two.example.com"}, false},
      {"subdomain and shared_suffix under one domain",
       {"a", HostnameFormat::subdomain, "kafka.example.com"},
       {"b", HostnameFormat::shared_suffix, "kafka.example.com"}, false},
      {"a subdomain cluster one level below another",
       {"a", HostnameFormat::subdomain, "kafka.example.com"},
       {"b", HostnameFormat::subdomain, "alpha.kafka.example.com"}, false},
      {"a shared_suffix cluster whose name ends like another's http name",
       {"b", HostnameFormat::shared_suffix, "kafka.example.com"},
       {"http-b", HostnameFormat::shared_suffix, "kafka.example.com"}, false},
      {"a shared_suffix cluster named http beside a subdomain cluster",
       {"a", HostnameFormat::subdomain, "kafka.example.com"},
       {"http", HostnameFormat::shared_suffix, "kafka.example.com"}, false},
      {"a subdomain cluster under another's http name",
       {"a", HostnameFormat::subdomain, "kafka.example.com"},
       {"b", HostnameFormat::subdomain, "http.kafka.example.com"}, false},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) {
      HostnameMapper mapper;
      REQUIRE(mapper.add_cluster(c.first).empty());
      const std::string error = mapper.add_cluster(c.second);
      if (c.collides) {
        CHECK_FALSE(error.empty());
        CHECK(mapper.clusters().size() == 1);
      } else {
        CHECK(error.empty());
        REQUIRE(mapper.clusters().size() == 2);
        // and each cluster's names still identify as its own
        for (std::size_t cluster = 0; cluster < 2; ++cluster) {
          CHECK(describe(mapper.identify(mapper.bootstrap_host(cluster))) ==
                std::to_string(cluster) + ":bootstrap");
          CHECK(describe(mapper.identify(mapper.broker_host(cluster, 1))) ==
                std::to_string(cluster) + ":node 1");
          CHECK(describe(mapper.identify(mapper.http_host(cluster))) == std::to_string(cluster) + ":http");
        }
      }
    }
  }
}

TEST_CASE("hostname format names", "[sni][hostname]") {
  CHECK(parse_hostname_format("subdomain") == HostnameFormat::subdomain);
  CHECK(parse_hostname_format("shared_suffix") == HostnameFormat::shared_suffix);
  CHECK_FALSE(parse_hostname_format("Subdomain"));
  CHECK_FALSE(parse_hostname_format("shared-suffix"));
  CHECK_FALSE(parse_hostname_format(""));
  for (auto format : {HostnameFormat::subdomain, HostnameFormat::shared_suffix}) {
    CHECK(parse_hostname_format(to_string(format)) == format);
  }
}
