#include "identity/login_throttle.hpp"

namespace deliveryhub::customers {

std::optional<std::chrono::seconds> LoginThrottle::check(Failures& failures, std::size_t limit, core::TimePoint now) {
  while (!failures.empty() && failures.front() + limits_.window <= now) failures.pop_front();
  if (failures.size() < limit) return std::nullopt;
  // Free again when the oldest failure that still counts leaves the window.
  const auto wait = failures[failures.size() - limit] + limits_.window - now;
  return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(wait));
}

std::optional<std::chrono::seconds> LoginThrottle::retry_after(const std::string& account, const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto now = clock_.now();
  std::optional<std::chrono::seconds> wait;
  if (auto it = by_account_.find(account); it != by_account_.end()) wait = check(it->second, limits_.per_account, now);
  if (auto it = by_address_.find(address); it != by_address_.end()) {
    auto address_wait = check(it->second, limits_.per_address, now);
    if (address_wait && (!wait || *address_wait > *wait)) wait = address_wait;
  }
  return wait;
}

void LoginThrottle::record_failure(const std::string& account, const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto now = clock_.now();
  by_account_[account].push_back(now);
  by_address_[address].push_back(now);
  // Keep memory bounded under a spray of distinct names: drop stale entries now and then.
  if (++operations_ % 1024 == 0) {
    prune(by_account_, now);
    prune(by_address_, now);
  }
}

std::optional<std::chrono::seconds> LoginThrottle::retry_after_address(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = by_address_.find(address);
  return it == by_address_.end() ? std::nullopt : check(it->second, limits_.per_address, clock_.now());
}

void LoginThrottle::record_address(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto now = clock_.now();
  by_address_[address].push_back(now);
  if (++operations_ % 1024 == 0) prune(by_address_, now);
}

void LoginThrottle::record_success(const std::string& account) {
  std::lock_guard lock(mutex_);
  by_account_.erase(account);
}

void LoginThrottle::prune(std::unordered_map<std::string, Failures>& map, core::TimePoint now) {
  std::erase_if(map, [&](auto& entry) { return entry.second.empty() || entry.second.back() + limits_.window <= now; });
}

}  // namespace deliveryhub::customers
