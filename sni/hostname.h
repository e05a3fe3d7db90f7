#pragma once
// Maps an SNI host name to (virtual cluster, role) and back.
//
// Two naming formats per virtual cluster (the user contract, see README):
//   subdomain      bootstrap.<domain>        broker-<id>.<domain>        http.<domain>
//   shared_suffix  bootstrap-<vc>.<domain>   broker-<id>-<vc>.<domain>   http-<vc>.<domain>
// shared_suffix keeps every name one label below <domain>, so one
// `*.<domain>` certificate covers all virtual clusters (wildcards match
// exactly one label, RFC 6125 §6.4.3). The http name is the cluster's
// HTTP/WebSocket front (issue 19); it is part of the naming whether or not
// the front is enabled (config decides that), so turning it on never changes
// which names collide.
// Matching is case-insensitive and tolerates one trailing dot; <id> is a
// decimal node id without sign or leading zeros ("0" itself is allowed), in
// the int32 range.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kedge::sni {

enum class HostnameFormat { subdomain, shared_suffix };

struct Bootstrap { friend bool operator==(Bootstrap, Bootstrap) = default; };
struct Node { std::int32_t id; friend bool operator==(Node, Node) = default; };
struct Http { friend bool operator==(Http, Http) = default; };  // the HTTP/WebSocket front
struct NotRecognised { friend bool operator==(NotRecognised, NotRecognised) = default; };
using Role = std::variant<Bootstrap, Node, Http, NotRecognised>;

struct Target {
  std::size_t cluster = 0;  // index passed to add_cluster order; meaningless if NotRecognised
  Role role = NotRecognised{};
};

struct ClusterNaming {
  std::string name;    // virtual cluster name, a DNS label: [a-z0-9-], 1..63, no leading/trailing '-'
  HostnameFormat format = HostnameFormat::subdomain;
  std::string domain;  // e.g. "kafka.example.com" (stored lower-case, no trailing dot)
};

class HostnameMapper {
 public:
  // Adds a cluster; returns an error message (empty on success) if the name or
  // domain is invalid or its host names collide with an already added cluster.
  // Name and domain are lower-cased and one trailing dot of the domain is
  // dropped before the checks. Also rejected: a cluster whose longest host
  // name would break DNS limits (a label over 63 bytes, e.g. shared_suffix
  // names longer than 45 bytes, or a name over 253 bytes). On error nothing
  // is added.
  std::string add_cluster(ClusterNaming naming);

  // Case-insensitive; tolerates one trailing dot (see the rules above).
  Target identify(std::string_view sni_host) const;

  // Lower-case host names. Empty if `cluster` is out of range or `node_id` is
  // negative (negative ids, e.g. FindCoordinator's -1, have no host name).
  std::string bootstrap_host(std::size_t cluster) const;
  // http.<domain> / http-<vc>.<domain>: the name whose SNI selects the
  // cluster's HTTP/WebSocket front. Empty if `cluster` is out of range.
  std::string http_host(std::size_t cluster) const;
  std::string broker_host(std::size_t cluster, std::int32_t node_id) const;
  // broker_host() into `out` (cleared first), reusing its capacity: the
  // per-endpoint path of the response rewriter allocates nothing.
  void broker_host_into(std::string& out, std::size_t cluster, std::int32_t node_id) const;

  const std::vector<ClusterNaming>& clusters() const { return clusters_; }

 private:
  std::vector<ClusterNaming> clusters_;
};

std::optional<HostnameFormat> parse_hostname_format(std::string_view text);
std::string_view to_string(HostnameFormat format);

}  // namespace kedge::sni
