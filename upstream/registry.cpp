#include "upstream/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

#include "common/log.h"
#include "kafka_codec/stream.h"

namespace kedge {

std::string describe(LearnedFrom source) {
  if (source.api_key < 0) return "discovery";
  const std::string_view name = kafka::api_name(source.api_key);
  return name.empty() ? fmt::format("api key {} v{} response", source.api_key, source.api_version)
                      : fmt::format("{} v{} response", name, source.api_version);
}

BrokerRegistry::BrokerRegistry() : published_owner_(std::make_shared<const Brokers>()) {
  published_.store(published_owner_.get(), std::memory_order_release);
}

BrokerRegistry::~BrokerRegistry() {
  assert(handles_.empty() && "a Handle outlived its BrokerRegistry");
}

std::shared_ptr<const BrokerRegistry::Brokers> BrokerRegistry::brokers() const {
  std::lock_guard<std::mutex> lock(writers_);
  return published_owner_;
}

std::size_t BrokerRegistry::maps_alive() const {
  std::lock_guard<std::mutex> lock(writers_);
  return retired_.size() + 1;
}

void BrokerRegistry::publish_locked(std::shared_ptr<const Brokers> next) {
  retired_.push_back(std::move(published_owner_));
  published_owner_ = std::move(next);
  // seq_cst with the hazard loads below, pairing with Handle::current(): a
  // handle either re-reads this store (and moves on) or its hazard is seen here.
  published_.store(published_owner_.get(), std::memory_order_seq_cst);
  std::erase_if(retired_, [this](const std::shared_ptr<const Brokers>& map) {
    return std::none_of(handles_.begin(), handles_.end(), [&map](const Handle* handle) {
      return handle->hazard_.load(std::memory_order_seq_cst) == map.get();
    });
  });
}

bool BrokerRegistry::change(std::int32_t node_id, std::string_view host, std::uint16_t port, LearnedFrom source,
                            std::uint64_t now_ms) {
  std::optional<HostPort> moved_from;
  {
    std::lock_guard<std::mutex> lock(writers_);
    const Brokers& latest = *published_owner_;
    auto it = latest.find(node_id);
    if (it != latest.end() && it->second.address.port == port && it->second.address.host == host) {
      return false;  // another handle published the same address first
    }
    if (it != latest.end()) moved_from = it->second.address;
    auto next = std::make_shared<Brokers>(latest);
    (*next)[node_id] = KnownBroker{HostPort{std::string(host), port}, source, now_ms};
    publish_locked(std::move(next));
  }
  if (moved_from) {
    log::info("broker {} moved from {} to {}:{} (learned from {})", node_id, moved_from->to_string(), host, port,
              describe(source));
  }
  return true;
}

BrokerRegistry::Handle::Handle(BrokerRegistry& registry) : registry_(registry) {
  std::lock_guard<std::mutex> lock(registry_.writers_);
  // Under the mutex no map can be retired or freed, so the hazard holds from here on.
  cached_ = registry_.published_owner_.get();
  hazard_.store(cached_, std::memory_order_seq_cst);
  registry_.handles_.push_back(this);
}

BrokerRegistry::Handle::~Handle() {
  std::lock_guard<std::mutex> lock(registry_.writers_);
  std::erase(registry_.handles_, this);
}

const BrokerRegistry::Brokers& BrokerRegistry::Handle::current() {
  const Brokers* published = registry_.published_.load(std::memory_order_acquire);
  if (published == cached_) return *cached_;  // the hot path: nothing changed
  // Hazard-pointer handover: announce the map, then make sure it is still the
  // published one; a writer frees only retired maps no hazard names.
  for (;;) {
    hazard_.store(published, std::memory_order_seq_cst);
    const Brokers* again = registry_.published_.load(std::memory_order_seq_cst);
    if (again == published) break;
    published = again;
  }
  cached_ = published;
  return *cached_;
}

bool BrokerRegistry::Handle::learn(std::int32_t node_id, std::string_view host, std::int32_t port,
                                   LearnedFrom source, std::uint64_t now_ms) {
  if (node_id < 0 || port <= 0 || port > 65535 || host.empty()) return false;
  const Brokers& known = current();
  auto it = known.find(node_id);
  if (it != known.end() && it->second.address.port == port && it->second.address.host == host) return false;
  return registry_.change(node_id, host, static_cast<std::uint16_t>(port), source, now_ms);
}

std::optional<HostPort> BrokerRegistry::Handle::find(std::int32_t node_id) {
  const Brokers& known = current();
  auto it = known.find(node_id);
  if (it == known.end()) return std::nullopt;
  return it->second.address;
}

std::string BrokerRegistry::Handle::known_ids() {
  std::string out;
  for (const auto& [id, broker] : current()) {
    if (!out.empty()) out += ", ";
    out += std::to_string(id);
  }
  return out.empty() ? std::string("none") : out;
}

}  // namespace kedge
