// Broker address resolution shortcuts: IP literals skip getaddrinfo, and a
// worker loop reuses a name's address for limits.resolve_cache_ms.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <string>

#include "upstream/resolve.h"

using kedge::HostPort;
using kedge::numeric_address;
using kedge::ResolveCache;

namespace {

std::string ipv4_of(const sockaddr_storage& address) {
  REQUIRE(address.ss_family == AF_INET);
  const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
  char text[INET_ADDRSTRLEN] = {0};
  inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
}

sockaddr_storage ipv4(const char* host, std::uint16_t port) {
  auto address = numeric_address(HostPort{host, port});
  REQUIRE(address);
  return *address;
}

}  // namespace

TEST_CASE("numeric_address parses IP literals and leaves names to the resolver", "[resolve]") {
  CHECK(ipv4_of(ipv4("10.1.2.3", 9092)) == "10.1.2.3:9092");

  const auto v6 = numeric_address(HostPort{"fd00::1", 9093});
  REQUIRE(v6);
  CHECK(v6->ss_family == AF_INET6);
  CHECK(ntohs(reinterpret_cast<const sockaddr_in6*>(&*v6)->sin6_port) == 9093);

  CHECK_FALSE(numeric_address(HostPort{"b-1.kafka.internal", 9092}));
  CHECK_FALSE(numeric_address(HostPort{"localhost", 9092}));
  CHECK_FALSE(numeric_address(HostPort{"10.1.2", 9092}));       // inet_aton shorthand is a name here
  CHECK_FALSE(numeric_address(HostPort{"10.1.2.3.4", 9092}));
  CHECK_FALSE(numeric_address(HostPort{"", 9092}));
}

TEST_CASE("ResolveCache reuses an address until its TTL and forgets it on demand", "[resolve]") {
  ResolveCache cache(5'000);
  const HostPort broker{"b-1.kafka.internal", 9092};
  const HostPort other_port{"b-1.kafka.internal", 9093};
  CHECK_FALSE(cache.find(broker, 1'000));

  cache.store(broker, ipv4("10.0.0.1", 9092), 1'000);
  REQUIRE(cache.find(broker, 1'000));
  CHECK(ipv4_of(*cache.find(broker, 5'999)) == "10.0.0.1:9092");
  CHECK_FALSE(cache.find(other_port, 1'000));  // the port is part of the key
  CHECK_FALSE(cache.find(broker, 6'000));      // expired: the next connection resolves again
  CHECK_FALSE(cache.find(broker, 1'000));      // and the expired entry is gone

  cache.store(broker, ipv4("10.0.0.2", 9092), 10'000);
  cache.forget(broker);  // a connect to it failed
  CHECK_FALSE(cache.find(broker, 10'001));

  cache.store(broker, ipv4("10.0.0.3", 9092), 20'000);
  cache.set_ttl(1'000);  // a reload: every name is resolved anew
  CHECK_FALSE(cache.find(broker, 20'001));
}

TEST_CASE("ResolveCache with TTL 0 resolves every time", "[resolve]") {
  ResolveCache cache(0);
  const HostPort broker{"b-1.kafka.internal", 9092};
  cache.store(broker, ipv4("10.0.0.1", 9092), 1'000);
  CHECK_FALSE(cache.find(broker, 1'000));
}

TEST_CASE("ResolveCache stays bounded with more names than any cluster has", "[resolve]") {
  ResolveCache cache(60'000);
  const sockaddr_storage address = ipv4("10.0.0.1", 9092);
  for (std::size_t i = 0; i < ResolveCache::kMaxEntries; ++i) {
    cache.store(HostPort{"b-" + std::to_string(i) + ".kafka.internal", 9092}, address, 1'000);
  }
  CHECK(cache.find(HostPort{"b-0.kafka.internal", 9092}, 2'000));
  // Full with live entries: storing one more starts over rather than grow.
  cache.store(HostPort{"b-new.kafka.internal", 9092}, address, 2'000);
  CHECK_FALSE(cache.find(HostPort{"b-0.kafka.internal", 9092}, 2'000));
  CHECK(cache.find(HostPort{"b-new.kafka.internal", 9092}, 2'000));
  // Full with expired entries: only those are dropped.
  ResolveCache aging(1'000);
  for (std::size_t i = 0; i + 1 < ResolveCache::kMaxEntries; ++i) {
    aging.store(HostPort{"old-" + std::to_string(i), 9092}, address, 0);
  }
  aging.store(HostPort{"fresh", 9092}, address, 5'000);
  aging.store(HostPort{"newest", 9092}, address, 5'000);
  CHECK(aging.find(HostPort{"fresh", 9092}, 5'001));
  CHECK(aging.find(HostPort{"newest", 9092}, 5'001));
}
