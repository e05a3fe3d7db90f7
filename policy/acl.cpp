#include "policy/acl.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "common/ascii.h"

namespace kedge::policy {
namespace {

// Operations an allow of `operation` also allows (Kafka's AclAuthorizer:
// READ, WRITE, DELETE, ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS).
constexpr OperationSet implied_by_allow(OperationSet allowed) {
  OperationSet set = allowed;
  if (allowed & (bit(Operation::read) | bit(Operation::write) | bit(Operation::delete_) | bit(Operation::alter))) {
    set |= bit(Operation::describe);
  }
  if (allowed & bit(Operation::alter_configs)) set |= bit(Operation::describe_configs);
  return set;
}

bool principal_matches(const std::vector<NamePattern>& principals, std::string_view principal) {
  for (const NamePattern& p : principals) {
    // An unauthenticated client has no name: only "*" speaks of it.
    if (p.kind == NamePattern::Kind::any || (!principal.empty() && p.matches(principal))) return true;
  }
  return false;
}

bool address_matches(const std::vector<AddressRange>& ranges, const Subject& subject) {
  if (ranges.empty()) return true;
  if (!subject.address) return false;
  return std::any_of(ranges.begin(), ranges.end(), [&](const AddressRange& r) { return r.contains(*subject.address); });
}

bool applies(const AclRule& rule, const Subject& subject, Resource resource, std::string_view name) {
  if (rule.resource != resource) return false;
  if (resource != Resource::cluster &&
      std::none_of(rule.names.begin(), rule.names.end(), [&](const NamePattern& p) { return p.matches(name); })) {
    return false;
  }
  return principal_matches(rule.principals, subject.principal) && address_matches(rule.addresses, subject);
}

// Every pattern of `inner` is within some pattern of `outer`.
template <class T>
bool covered(const std::vector<T>& inner, const std::vector<T>& outer) {
  return std::all_of(inner.begin(), inner.end(), [&](const T& i) {
    return std::any_of(outer.begin(), outer.end(), [&](const T& o) { return i.within(o); });
  });
}

std::string_view resource_key(Resource resource) {
  switch (resource) {
    case Resource::topic: return "topics";
    case Resource::group: return "groups";
    case Resource::transactional_id: return "transactional_ids";
    case Resource::cluster: return "cluster";
    default: return "resources";
  }
}

template <class T>
std::string join(const std::vector<T>& items) {
  std::string out;
  for (const T& item : items) {
    if (!out.empty()) out += ", ";
    out += item.to_string();
  }
  return out;
}

std::string describe_rule(std::size_t index, const AclRule& rule) {
  std::string line = "acls[" + std::to_string(index) + "]: " +
                     (rule.permission == Permission::allow ? "allow " : "deny ") + operation_names(rule.operations) +
                     " on " + std::string(resource_key(rule.resource));
  if (rule.resource != Resource::cluster) line += " " + join(rule.names);
  line += " to " + join(rule.principals);
  if (!rule.addresses.empty()) line += " from " + join(rule.addresses);
  return line;
}

// Whether `pattern` can match some name that starts with `prefix`.
bool reaches_into(const NamePattern& pattern, std::string_view prefix) {
  switch (pattern.kind) {
    case NamePattern::Kind::any: return true;
    case NamePattern::Kind::exact: return pattern.text.starts_with(prefix);
    case NamePattern::Kind::prefix: return pattern.text.starts_with(prefix) || prefix.starts_with(pattern.text);
  }
  return true;
}

std::string_view confinement_of(const NameConfinement& confinement, Resource resource) {
  switch (resource) {
    case Resource::topic: return confinement.topic;
    case Resource::group: return confinement.group;
    case Resource::transactional_id: return confinement.transactional_id;
    default: return {};
  }
}

}  // namespace

NamePattern NamePattern::parse(std::string_view pattern) {
  if (pattern == "*") return {Kind::any, {}};
  if (!pattern.empty() && pattern.back() == '*') return {Kind::prefix, std::string(pattern.substr(0, pattern.size() - 1))};
  return {Kind::exact, std::string(pattern)};
}

bool NamePattern::matches(std::string_view name) const {
  switch (kind) {
    case Kind::any: return true;
    case Kind::prefix: return name.size() >= text.size() && name.compare(0, text.size(), text) == 0;
    case Kind::exact: return name == text;
  }
  return false;
}

bool NamePattern::within(const NamePattern& other) const {
  switch (other.kind) {
    case Kind::any: return true;
    case Kind::prefix: return kind != Kind::any && other.matches(text);
    case Kind::exact: return kind == Kind::exact && text == other.text;
  }
  return false;
}

std::string NamePattern::to_string() const {
  switch (kind) {
    case Kind::any: return "*";
    case Kind::prefix: return text + "*";
    case Kind::exact: return text;
  }
  return text;
}

std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  char buffer[65] = {};
  std::memcpy(buffer, text.data(), text.size());
  std::array<std::uint8_t, 16> address{};
  in_addr v4{};
  if (inet_pton(AF_INET, buffer, &v4) == 1) {
    address[10] = address[11] = 0xff;
    std::memcpy(address.data() + 12, &v4, 4);
    return address;
  }
  if (inet_pton(AF_INET6, buffer, address.data()) == 1) return address;
  return std::nullopt;
}

std::optional<AddressRange> AddressRange::parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::optional<std::array<std::uint8_t, 16>> address = parse_address(text.substr(0, slash));
  if (!address) return std::nullopt;
  const bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  unsigned bits = 128;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    bits = static_cast<unsigned>(std::stoul(std::string(digits)));
    if (bits > (v4 ? 32u : 128u)) return std::nullopt;
    if (v4) bits += 96;
  }
  AddressRange range;
  range.prefix_bits = static_cast<std::uint8_t>(bits);
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned kept = bits >= (i + 1) * 8 ? 8 : bits > i * 8 ? bits - i * 8 : 0;
    const auto mask = static_cast<std::uint8_t>(kept == 0 ? 0 : 0xff << (8 - kept));
    range.network[i] = (*address)[i] & mask;
  }
  return range;
}

bool AddressRange::contains(const std::array<std::uint8_t, 16>& address) const {
  unsigned bits = prefix_bits;
  for (unsigned i = 0; i < 16 && bits > 0; ++i) {
    const unsigned kept = std::min(bits, 8u);
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - kept));
    if ((address[i] & mask) != network[i]) return false;
    bits -= kept;
  }
  return true;
}

bool AddressRange::within(const AddressRange& other) const {
  return prefix_bits >= other.prefix_bits && other.contains(network);
}

std::string AddressRange::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  const bool v4 = std::all_of(network.begin(), network.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
                  network[10] == 0xff && network[11] == 0xff && prefix_bits >= 96;
  if (v4) {
    inet_ntop(AF_INET, network.data() + 12, text, sizeof text);
    return prefix_bits == 128 ? std::string(text) : std::string(text) + "/" + std::to_string(prefix_bits - 96);
  }
  inet_ntop(AF_INET6, network.data(), text, sizeof text);
  return prefix_bits == 128 ? std::string(text) : std::string(text) + "/" + std::to_string(prefix_bits);
}

std::optional<OperationSet> parse_operation(std::string_view name) {
  if (ascii::iequals(name, "All")) return kAllOperations;
  for (unsigned op = 0; op < static_cast<unsigned>(Operation::none); ++op) {
    const auto operation = static_cast<Operation>(op);
    if (ascii::iequals(to_string(operation), name)) return bit(operation);
  }
  return std::nullopt;
}

std::string operation_names(OperationSet operations) {
  if ((operations & kAllOperations) == kAllOperations) return "All";
  std::string out;
  for (unsigned op = 0; op < static_cast<unsigned>(Operation::none); ++op) {
    if ((operations & bit(static_cast<Operation>(op))) == 0) continue;
    if (!out.empty()) out += ", ";
    out += to_string(static_cast<Operation>(op));
  }
  return out;
}

OperationSet supported_operations(Resource resource) {
  using O = Operation;
  switch (resource) {
    case Resource::topic:
      return bit(O::read) | bit(O::write) | bit(O::create) | bit(O::describe) | bit(O::delete_) | bit(O::alter) |
             bit(O::describe_configs) | bit(O::alter_configs);
    case Resource::group: return bit(O::read) | bit(O::describe) | bit(O::delete_);
    case Resource::transactional_id: return bit(O::describe) | bit(O::write);
    case Resource::cluster:
      return bit(O::create) | bit(O::cluster_action) | bit(O::describe_configs) | bit(O::alter_configs) |
             bit(O::idempotent_write) | bit(O::alter) | bit(O::describe);
    case Resource::delegation_token: return bit(O::describe);
    case Resource::none: return 0;
  }
  return 0;
}

bool AclSet::within(Resource resource, std::string_view name) const {
  switch (resource) {
    case Resource::topic: return name.starts_with(confinement_.topic);
    case Resource::group: return name.starts_with(confinement_.group);
    case Resource::transactional_id: return name.starts_with(confinement_.transactional_id);
    default: return true;
  }
}

bool AclSet::authorizes(const Subject& subject, Resource resource, std::string_view name, Operation operation) const {
  if (!within(resource, name)) return false;
  const OperationSet wanted = bit(operation);
  bool allowed = false;
  for (const AclRule& rule : rules_) {
    if (rule.resource != resource) continue;
    const bool relevant = rule.permission == Permission::deny ? (rule.operations & wanted) != 0
                                                               : (implied_by_allow(rule.operations) & wanted) != 0;
    if (!relevant || !applies(rule, subject, resource, name)) continue;
    if (rule.permission == Permission::deny) return false;  // deny wins
    allowed = true;
  }
  return allowed;
}

bool AclSet::authorizes_idempotent_write(const Subject& subject) const {
  if (authorizes(subject, Resource::cluster, {}, Operation::idempotent_write)) return true;
  for (const AclRule& rule : rules_) {
    if (rule.permission != Permission::allow || rule.resource != Resource::topic ||
        (rule.operations & bit(Operation::write)) == 0) {
      continue;
    }
    if (principal_matches(rule.principals, subject.principal) && address_matches(rule.addresses, subject)) return true;
  }
  return false;
}

bool AclSet::authorizes_topic_creation(const Subject& subject, std::string_view topic) const {
  return authorizes(subject, Resource::topic, topic, Operation::create) ||
         (within(Resource::topic, topic) && authorizes(subject, Resource::cluster, {}, Operation::create));
}

std::vector<std::string> AclSet::unreachable() const {
  std::vector<std::string> found;
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const AclRule& rule = rules_[i];
    const OperationSet supported = supported_operations(rule.resource);
    if ((rule.operations & supported) == 0) {
      found.push_back(describe_rule(i, rule) + ": none of these operations applies to " +
                      std::string(resource_key(rule.resource)));
      continue;
    }
    const std::string_view confined_to = confinement_of(confinement_, rule.resource);
    if (!confined_to.empty() && std::none_of(rule.names.begin(), rule.names.end(), [&](const NamePattern& p) {
          return reaches_into(p, confined_to);
        })) {
      found.push_back(describe_rule(i, rule) + ": names nothing that starts with the namespace's prefix \"" +
                      std::string(confined_to) + "\"");
      continue;
    }
    if (rule.permission != Permission::allow) continue;
    for (std::size_t j = 0; j < rules_.size(); ++j) {
      const AclRule& deny = rules_[j];
      if (deny.permission != Permission::deny || deny.resource != rule.resource) continue;
      if ((rule.operations & supported & ~deny.operations) != 0) continue;
      if (rule.resource != Resource::cluster && !covered(rule.names, deny.names)) continue;
      if (!covered(rule.principals, deny.principals)) continue;
      if (!deny.addresses.empty() && (rule.addresses.empty() || !covered(rule.addresses, deny.addresses))) continue;
      found.push_back(describe_rule(i, rule) + ": shadowed by acls[" + std::to_string(j) +
                      "], which denies everything it allows (deny wins)");
      break;
    }
  }
  return found;
}

std::vector<std::string> AclSet::describe() const {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < rules_.size(); ++i) lines.push_back(describe_rule(i, rules_[i]));
  for (const Resource resource : {Resource::topic, Resource::group, Resource::transactional_id}) {
    const std::string_view prefix = confinement_of(confinement_, resource);
    if (prefix.empty()) continue;
    lines.push_back("namespace: only " + std::string(resource_key(resource)) + " that start with \"" +
                    std::string(prefix) + "\"");
  }
  return lines;
}

}  // namespace kedge::policy
