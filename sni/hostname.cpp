#include "sni/hostname.h"

#include <array>
#include <charconv>
#include <limits>

#include "common/ascii.h"

namespace kedge::sni {
namespace {

constexpr std::string_view kBootstrapLabel = "bootstrap";
constexpr std::string_view kBrokerPrefix = "broker-";
constexpr std::string_view kHttpLabel = "http";
constexpr std::size_t kMaxLabelBytes = 63;   // RFC 1035 §2.3.4
constexpr std::size_t kMaxNameBytes = 253;   // RFC 1035 §2.3.4, textual form without trailing dot
constexpr std::size_t kMaxNodeIdDigits = 10;  // INT32_MAX = 2147483647

std::string_view strip_one_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

// LDH label (RFC 1123 §2.1): [a-z0-9-], 1..63 bytes, no '-' at either end.
// Expects lower-case input.
bool is_dns_label(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelBytes) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// A lower-case DNS name of at least two labels, at most 253 bytes.
bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  std::size_t labels = 0;
  while (true) {
    const std::size_t dot = name.find('.');
    if (!is_dns_label(name.substr(0, dot))) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

// Decimal node id: digits only, no sign, no leading zero except "0" itself,
// within int32.
std::optional<std::int32_t> parse_node_id(std::string_view digits) {
  if (digits.empty() || digits.size() > kMaxNodeIdDigits) return std::nullopt;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  std::int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > std::numeric_limits<std::int32_t>::max()) return std::nullopt;
  return static_cast<std::int32_t>(value);
}

// The one rule for generated names: `<role>[-<cluster>].<domain>`, the
// cluster name only in the shared_suffix format. Appends to `out`, so the
// rewriter's per-endpoint path can reuse one buffer (broker_host_into).
void append_first_label(std::string& out, const ClusterNaming& naming, std::string_view role_label) {
  out.append(role_label);
  if (naming.format == HostnameFormat::shared_suffix) out.append(1, '-').append(naming.name);
}

void append_host(std::string& out, const ClusterNaming& naming, std::string_view role_label) {
  append_first_label(out, naming, role_label);
  out.append(1, '.').append(naming.domain);
}

std::string first_label(const ClusterNaming& naming, std::string_view role_label) {
  std::string label;
  append_first_label(label, naming, role_label);
  return label;
}

std::string host(const ClusterNaming& naming, std::string_view role_label) {
  std::string name;
  append_host(name, naming, role_label);
  return name;
}

// "broker-<id>", formatted into `buffer` (no allocation).
struct NodeLabel {
  explicit NodeLabel(std::int32_t node_id) {
    kBrokerPrefix.copy(buffer.data(), kBrokerPrefix.size());
    const auto [end, ec] =
        std::to_chars(buffer.data() + kBrokerPrefix.size(), buffer.data() + buffer.size(), node_id);
    length = static_cast<std::size_t>(end - buffer.data());
  }
  std::string_view view() const { return {buffer.data(), length}; }
  std::array<char, kBrokerPrefix.size() + 11> buffer{};  // the prefix and any int32 ("-2147483648")
  std::size_t length = 0;
};

std::string node_label(std::int32_t node_id) { return std::string(NodeLabel(node_id).view()); }

// Matches the first label of a host name (already lower-cased, domain already
// matched) against one cluster's naming.
Role match_first_label(const ClusterNaming& naming, std::string_view label) {
  std::string_view rest = label;
  if (naming.format == HostnameFormat::subdomain) {
    if (rest == kBootstrapLabel) return Bootstrap{};
    if (rest == kHttpLabel) return Http{};
    if (!rest.starts_with(kBrokerPrefix)) return NotRecognised{};
    rest.remove_prefix(kBrokerPrefix.size());
    if (auto id = parse_node_id(rest)) return Node{*id};
    return NotRecognised{};
  }
  // shared_suffix: bootstrap-<vc> | http-<vc> | broker-<id>-<vc>. The id is digits only,
  // so the first '-' after "broker-" ends it and whatever follows, dashes
  // included, must be the whole virtual cluster name.
  const std::string vc_suffix = "-" + naming.name;
  if (!rest.ends_with(vc_suffix)) return NotRecognised{};
  rest.remove_suffix(vc_suffix.size());
  if (rest == kBootstrapLabel) return Bootstrap{};
  if (rest == kHttpLabel) return Http{};
  if (!rest.starts_with(kBrokerPrefix)) return NotRecognised{};
  rest.remove_prefix(kBrokerPrefix.size());
  if (auto id = parse_node_id(rest)) return Node{*id};
  return NotRecognised{};
}

// Finds the cluster a lower-case, dot-stripped host name belongs to.
Target identify_in(const std::vector<ClusterNaming>& clusters, std::string_view host_name) {
  const std::size_t dot = host_name.find('.');
  if (dot == std::string_view::npos) return {};
  const std::string_view label = host_name.substr(0, dot);
  const std::string_view domain = host_name.substr(dot + 1);
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    if (clusters[i].domain != domain) continue;
    Role role = match_first_label(clusters[i], label);
    if (!std::holds_alternative<NotRecognised>(role)) return Target{i, role};
  }
  return {};
}

// Host names that stand for every shape a cluster generates: the bootstrap,
// the HTTP front, the smallest ids, and the longest id.
using SampleHosts = std::array<std::string, 5>;
SampleHosts sample_hosts(const ClusterNaming& naming) {
  return {host(naming, kBootstrapLabel), host(naming, kHttpLabel), host(naming, node_label(0)),
          host(naming, node_label(1)),
          host(naming, node_label(std::numeric_limits<std::int32_t>::max()))};
}

bool any_recognised(const std::vector<ClusterNaming>& clusters, const SampleHosts& hosts) {
  for (const std::string& h : hosts) {
    if (!std::holds_alternative<NotRecognised>(identify_in(clusters, h).role)) return true;
  }
  return false;
}

}  // namespace

std::string HostnameMapper::add_cluster(ClusterNaming naming) {
  naming.name = ascii::to_lower(naming.name);
  naming.domain = ascii::to_lower(strip_one_trailing_dot(naming.domain));

  if (!is_dns_label(naming.name)) {
    return "virtual cluster name '" + naming.name +
           "' is not a DNS label ([a-z0-9-], 1-63 characters, no leading or trailing '-')";
  }
  if (!is_dns_name(naming.domain)) {
    return "domain '" + naming.domain +
           "' is not a DNS name (at least two labels of [a-z0-9-], 1-63 characters each, "
           "at most 253 characters)";
  }
  // Every name this cluster can generate must itself be a valid DNS name, or
  // no certificate and no resolver could serve it.
  const std::string longest_broker =
      host(naming, node_label(std::numeric_limits<std::int32_t>::max()));
  if (first_label(naming, node_label(std::numeric_limits<std::int32_t>::max())).size() >
          kMaxLabelBytes ||
      first_label(naming, kBootstrapLabel).size() > kMaxLabelBytes ||
      first_label(naming, kHttpLabel).size() > kMaxLabelBytes ||
      longest_broker.size() > kMaxNameBytes || host(naming, kHttpLabel).size() > kMaxNameBytes) {
    return "host names of virtual cluster '" + naming.name + "' would exceed DNS limits (e.g. '" +
           longest_broker + "')";
  }

  for (const ClusterNaming& existing : clusters_) {
    if (existing.format != naming.format || existing.domain != naming.domain) continue;
    if (naming.format == HostnameFormat::subdomain) {
      return "virtual clusters '" + existing.name + "' and '" + naming.name +
             "' both use subdomain names under '" + naming.domain + "'";
    }
    if (existing.name == naming.name) {
      return "virtual cluster '" + naming.name + "' already uses shared_suffix names under '" +
             naming.domain + "'";
    }
  }
  // Generic check, independent of the rules above: no name either side
  // generates may be claimed by the other.
  const std::vector<ClusterNaming> only_new{naming};
  bool collides = any_recognised(clusters_, sample_hosts(naming));
  for (const ClusterNaming& existing : clusters_) {
    collides = collides || any_recognised(only_new, sample_hosts(existing));
  }
  if (collides) {
    return "host names of virtual cluster '" + naming.name +
           "' collide with an already configured virtual cluster";
  }

  clusters_.push_back(std::move(naming));
  return {};
}

Target HostnameMapper::identify(std::string_view sni_host) const {
  const std::string lowered = ascii::to_lower(strip_one_trailing_dot(sni_host));
  if (lowered.size() > kMaxNameBytes) return {};
  return identify_in(clusters_, lowered);
}

std::string HostnameMapper::bootstrap_host(std::size_t cluster) const {
  if (cluster >= clusters_.size()) return {};
  return host(clusters_[cluster], kBootstrapLabel);
}

std::string HostnameMapper::http_host(std::size_t cluster) const {
  if (cluster >= clusters_.size()) return {};
  return host(clusters_[cluster], kHttpLabel);
}

std::string HostnameMapper::broker_host(std::size_t cluster, std::int32_t node_id) const {
  std::string out;
  broker_host_into(out, cluster, node_id);
  return out;
}

void HostnameMapper::broker_host_into(std::string& out, std::size_t cluster, std::int32_t node_id) const {
  out.clear();
  if (cluster >= clusters_.size() || node_id < 0) return;
  append_host(out, clusters_[cluster], NodeLabel(node_id).view());
}

std::optional<HostnameFormat> parse_hostname_format(std::string_view text) {
  if (text == "subdomain") return HostnameFormat::subdomain;
  if (text == "shared_suffix") return HostnameFormat::shared_suffix;
  return std::nullopt;
}

std::string_view to_string(HostnameFormat format) {
  switch (format) {
    case HostnameFormat::subdomain:
      return "subdomain";
    case HostnameFormat::shared_suffix:
      return "shared_suffix";
  }
  return "unknown";
}

}  // namespace kedge::sni
