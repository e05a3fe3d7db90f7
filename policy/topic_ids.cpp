#include "policy/topic_ids.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace kedge::policy {
namespace {

std::optional<TopicIdBook::Id> parse_id(std::string_view bytes) {
  if (bytes.size() != 16) return std::nullopt;
  TopicIdBook::Id id{};
  std::memcpy(id.data(), bytes.data(), id.size());
  if (std::all_of(id.begin(), id.end(), [](std::uint8_t b) { return b == 0; })) return std::nullopt;
  return id;
}

}  // namespace

std::size_t TopicIdBook::IdHash::operator()(const Id& id) const noexcept {
  // Topic ids are random UUIDs (Uuid.randomUuid): their bytes are already uniform.
  std::uint64_t h = 0;
  std::memcpy(&h, id.data(), sizeof h);
  std::uint64_t l = 0;
  std::memcpy(&l, id.data() + 8, sizeof l);
  return static_cast<std::size_t>(h ^ (l * 0x9e3779b97f4a7c15ULL));
}

void TopicIdBook::learn(std::string_view id_bytes, std::string_view name) {
  const std::optional<Id> id = parse_id(id_bytes);
  if (!id) return;
  {
    // Every Metadata response names the same topics again: most calls only look.
    std::shared_lock lock(mutex_);
    const auto it = names_.find(*id);
    if (it != names_.end() && it->second == name) return;
  }
  std::unique_lock lock(mutex_);
  if (names_.size() >= kMaxTopics && names_.find(*id) == names_.end()) {
    names_.clear();
    ++restarts_;
  }
  names_[*id].assign(name);
}

std::optional<std::string> TopicIdBook::name_of(std::string_view id_bytes) const {
  const std::optional<Id> id = parse_id(id_bytes);
  if (!id) return std::nullopt;
  std::shared_lock lock(mutex_);
  const auto it = names_.find(*id);
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

bool TopicIdBook::knows(std::string_view id_bytes) const {
  const std::optional<Id> id = parse_id(id_bytes);
  if (!id) return false;
  std::shared_lock lock(mutex_);
  return names_.find(*id) != names_.end();
}

std::size_t TopicIdBook::size() const {
  std::shared_lock lock(mutex_);
  return names_.size();
}

std::uint64_t TopicIdBook::restarts() const {
  std::shared_lock lock(mutex_);
  return restarts_;
}

}  // namespace kedge::policy
