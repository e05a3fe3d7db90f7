#pragma once
// Topic ids (KIP-516) a backend's Metadata responses named, for a policy's
// ACLs: Fetch v13+ and Produce v13 name topics by id only, and ACLs are
// written on names. kedge learns each id's name from the Metadata responses
// it filters (topic_filter.h) and resolves ids through this book; an id it has
// not seen is answered with UNKNOWN_TOPIC_ID, which makes the client refresh
// its Metadata (through kedge, which learns the id) and retry, as it does when
// a broker does not know an id yet.
//
// One book per backend cluster, shared by every worker and virtual cluster on
// it (ids are the backend's). Thread-safe. Bounded: past kMaxTopics ids the
// book starts over (ids still in use are learned again from the next
// Metadata; until then their requests get UNKNOWN_TOPIC_ID, which clients retry).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kedge::policy {

class TopicIdBook {
 public:
  using Id = std::array<std::uint8_t, 16>;
  // `id` (16 bytes, as on the wire) names `name`. The all-zero id (no id,
  // Metadata before v10 or a topic without one) is ignored.
  void learn(std::string_view id, std::string_view name);
  // The name of `id` (16 bytes), or nullopt when the book has not seen it.
  std::optional<std::string> name_of(std::string_view id) const;
  // Whether the book has seen `id` (16 bytes): name_of without copying the name.
  bool knows(std::string_view id) const;
  std::size_t size() const;
  // Ids forgotten because the book was full (for tests and metrics).
  std::uint64_t restarts() const;
  static constexpr std::size_t kMaxTopics = 200'000;

 private:
  struct IdHash {
    std::size_t operator()(const Id& id) const noexcept;
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<Id, std::string, IdHash> names_;
  std::uint64_t restarts_ = 0;
};

}  // namespace kedge::policy
