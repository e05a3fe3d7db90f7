// Per-address brute-force limiting (transitions and contracts in attempt_limiter.h).
#include "identity/attempt_limiter.h"

#include <algorithm>

namespace kedge::identity {
namespace {

using std::chrono::milliseconds;

AttemptLimiterPolicy clamped(AttemptLimiterPolicy policy) {
  policy.block_after = std::clamp<std::uint32_t>(policy.block_after, 1, kMaxBlockAfter);
  policy.delay_after = std::clamp<std::uint32_t>(policy.delay_after, 1, policy.block_after);
  policy.max_addresses = std::max<std::size_t>(policy.max_addresses, 1);
  for (milliseconds* duration : {&policy.window, &policy.delay_step, &policy.max_delay, &policy.block}) {
    *duration = std::max(*duration, milliseconds(0));
  }
  return policy;
}

}  // namespace

AttemptLimiter::AttemptLimiter(AttemptLimiterPolicy policy) : policy_(clamped(policy)) {}

AttemptLimiter::Decision AttemptLimiter::verdict_for(std::size_t failures) const {
  if (failures >= policy_.block_after) return {Verdict::refuse, policy_.block};
  if (failures < policy_.delay_after) return {};
  // Escalates linearly with each failure past the threshold; the product is bounded by kMaxBlockAfter steps.
  const auto steps = static_cast<std::int64_t>(failures - policy_.delay_after + 1);
  const milliseconds wait = std::min(policy_.max_delay, milliseconds(policy_.delay_step.count() * steps));
  return {Verdict::delay, wait};
}

AttemptLimiter::Decision AttemptLimiter::refresh(Entry& entry, Clock::time_point now) const {
  if (entry.blocked) {
    if (now < entry.blocked_until) {
      return {Verdict::refuse, std::chrono::duration_cast<milliseconds>(entry.blocked_until - now)};
    }
    entry.blocked = false;  // the block is over; its failures were forgotten when it began
  }
  const Clock::time_point horizon = now - policy_.window;
  const auto first_kept = std::find_if(entry.failures.begin(), entry.failures.end(),
                                       [horizon](Clock::time_point at) { return at > horizon; });
  entry.failures.erase(entry.failures.begin(), first_kept);
  return verdict_for(entry.failures.size());
}

AttemptLimiter::Decision AttemptLimiter::admit(std::string_view key, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const auto found = index_.find(std::string(key));
  if (found == index_.end()) return {};
  Entry& entry = *found->second;
  const Decision decision = refresh(entry, now);
  if (!entry.blocked && entry.failures.empty()) {
    lru_.erase(found->second);
    index_.erase(found);
  } else {
    lru_.splice(lru_.end(), lru_, found->second);
  }
  return decision;
}

AttemptLimiter::Decision AttemptLimiter::record_failure(std::string_view key, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  std::string owned(key);
  auto found = index_.find(owned);
  if (found == index_.end()) {
    if (index_.size() >= policy_.max_addresses) {
      index_.erase(lru_.front().key);
      lru_.pop_front();
    }
    lru_.push_back(Entry{owned, {}, {}, false});
    found = index_.emplace(std::move(owned), std::prev(lru_.end())).first;
  } else {
    lru_.splice(lru_.end(), lru_, found->second);
  }
  Entry& entry = *found->second;
  const Decision before = refresh(entry, now);
  if (before.verdict == Verdict::refuse) return before;  // already blocked: a failure in flight adds nothing
  entry.failures.push_back(now);
  if (entry.failures.size() >= policy_.block_after) {
    entry.blocked = true;
    entry.blocked_until = now + policy_.block;
    entry.failures.clear();
    return {Verdict::refuse, policy_.block};
  }
  return verdict_for(entry.failures.size());
}

std::size_t AttemptLimiter::tracked() const {
  const std::lock_guard lock(mutex_);
  return index_.size();
}

}  // namespace kedge::identity
