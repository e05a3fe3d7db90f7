#include "upstream/registry.h"

#include <fmt/format.h>

#include "common/log.h"
#include "kafka_codec/stream.h"

namespace kedge {

std::string describe(LearnedFrom source) {
  if (source.api_key < 0) return "discovery";
  const std::string_view name = kafka::api_name(source.api_key);
  return name.empty() ? fmt::format("api key {} v{} response", source.api_key, source.api_version)
                      : fmt::format("{} v{} response", name, source.api_version);
}

bool BrokerRegistry::learn(std::int32_t node_id, std::string_view host, std::int32_t port, LearnedFrom source,
                           std::uint64_t now_ms) {
  if (node_id < 0 || port <= 0 || port > 65535 || host.empty()) return false;
  auto [it, inserted] = brokers_.try_emplace(node_id);
  KnownBroker& known = it->second;
  const bool changed = inserted || known.address.host != host || known.address.port != port;
  if (changed) {
    if (!inserted) {
      log::info("broker {} moved from {} to {}:{} (learned from {})", node_id, known.address.to_string(), host,
                port, describe(source));
    }
    known.address = HostPort{std::string(host), static_cast<std::uint16_t>(port)};
  }
  known.learned_from = source;
  known.learned_at_ms = now_ms;
  return changed;
}

std::optional<HostPort> BrokerRegistry::find(std::int32_t node_id) const {
  auto it = brokers_.find(node_id);
  if (it == brokers_.end()) return std::nullopt;
  return it->second.address;
}

std::string BrokerRegistry::known_ids() const {
  std::string out;
  for (const auto& [id, broker] : brokers_) {
    if (!out.empty()) out += ", ";
    out += std::to_string(id);
  }
  return out.empty() ? std::string("none") : out;
}

}  // namespace kedge
