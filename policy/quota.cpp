#include "policy/quota.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace kedge::policy {

const QuotaLimits& QuotaConfig::limits_for(std::string_view principal) const {
  if (!principal.empty()) {
    if (const auto it = principals.find(principal); it != principals.end()) return it->second;
  }
  return each_client;
}

// The balance refills at the rate, up to one second of it. A rate changed by
// a reload applies from here on: what was owed stays owed, in bytes.
void RateAccount::refill(std::uint64_t rate_per_second, Clock::time_point now) {
  const double rate = static_cast<double>(rate_per_second);
  last_rate_ = rate;
  if (!started_) {
    started_ = true;
    balance_ = rate;  // a new client may send one second's worth at once
    last_ = now;
    return;
  }
  if (now > last_) {
    const double seconds = std::chrono::duration<double>(now - last_).count();
    balance_ = std::min(rate, balance_ + seconds * rate);
    last_ = now;
  }
  balance_ = std::min(balance_, rate);  // a lowered rate lowers the burst at once
}

std::uint32_t RateAccount::wait_ms(std::uint64_t rate_per_second) const {
  if (balance_ >= 0) return 0;
  const double ms = std::ceil(-balance_ * 1000.0 / static_cast<double>(rate_per_second));
  return static_cast<std::uint32_t>(std::min(ms, static_cast<double>(kMaxThrottleMs)));
}

std::uint32_t RateAccount::charge(std::uint64_t amount, std::uint64_t rate_per_second, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  refill(rate_per_second, now);
  balance_ -= static_cast<double>(amount);
  return wait_ms(rate_per_second);
}

bool RateAccount::try_take(std::uint64_t amount, std::uint64_t rate_per_second, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  refill(rate_per_second, now);
  if (balance_ < static_cast<double>(amount)) return false;
  balance_ -= static_cast<double>(amount);
  return true;
}

std::uint32_t RateAccount::owed_ms(std::uint64_t rate_per_second, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  refill(rate_per_second, now);
  return wait_ms(rate_per_second);
}

bool RateAccount::owes(Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  if (!started_ || balance_ >= 0) return false;
  const double seconds = now > last_ ? std::chrono::duration<double>(now - last_).count() : 0.0;
  return balance_ + seconds * last_rate_ < 0;
}

bool RateAccount::rested(Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  if (!started_) return true;
  const double seconds = now > last_ ? std::chrono::duration<double>(now - last_).count() : 0.0;
  return balance_ + seconds * last_rate_ >= last_rate_;
}

std::shared_ptr<ClientAccount> QuotaBook::account(std::string_view client, RateAccount::Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const std::string key(client);
  if (const auto it = accounts_.find(key); it != accounts_.end()) return it->second;
  if (accounts_.size() >= prune_at_) {
    prune(now);
    prune_at_ = std::max(kPruneAbove, 2 * accounts_.size());
  }
  auto made = std::make_shared<ClientAccount>();
  accounts_.emplace(key, made);
  return made;
}

// Forgets accounts no connection holds and that owe nothing. A client that
// reconnects after being forgotten starts with a fresh second of burst, which
// it had earned back by then anyway.
void QuotaBook::prune(RateAccount::Clock::time_point now) {
  for (auto it = accounts_.begin(); it != accounts_.end();) {
    ClientAccount& account = *it->second;
    const bool unused = it->second.use_count() == 1;
    if (unused && !account.produce.owes(now) && !account.fetch.owes(now) && !account.requests.owes(now)) {
      it = accounts_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t QuotaBook::size() const {
  const std::lock_guard lock(mutex_);
  return accounts_.size();
}

ConnectionBook::Admission ConnectionBook::admit(std::string_view address, std::optional<std::uint32_t> max_open,
                                                std::optional<std::uint32_t> per_second,
                                                RateAccount::Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(address));
  if (it == entries_.end()) {
    if (entries_.size() >= prune_at_) {  // forget addresses with nothing open and a rested rate
      std::erase_if(entries_, [now](auto& e) { return e.second->open == 0 && e.second->opened.rested(now); });
      prune_at_ = std::max(kPruneAbove, 2 * entries_.size());
    }
    it = entries_.emplace(std::string(address), std::make_unique<Entry>()).first;
  }
  Entry& entry = *it->second;
  if (max_open && entry.open >= *max_open) return Admission::too_many;
  // A refused attempt is not charged: a client retrying in a loop is refused
  // for as long as its admitted connections are over the rate, no longer.
  if (per_second && !entry.opened.try_take(1, *per_second, now)) return Admission::too_fast;
  ++entry.open;
  return Admission::admitted;
}

void ConnectionBook::release(std::string_view address, RateAccount::Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(std::string(address));
  if (it == entries_.end() || it->second->open == 0) return;
  if (--it->second->open == 0 && it->second->opened.rested(now)) entries_.erase(it);
}

std::uint32_t ConnectionBook::open(std::string_view address) const {
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(std::string(address));
  return it == entries_.end() ? 0 : it->second->open;
}

std::size_t ConnectionBook::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

std::string_view to_string(ConnectionBook::Admission admission) {
  switch (admission) {
    case ConnectionBook::Admission::admitted: return "admitted";
    case ConnectionBook::Admission::too_many: return "too_many";
    case ConnectionBook::Admission::too_fast: return "too_fast";
  }
  return "admitted";
}

}  // namespace kedge::policy
