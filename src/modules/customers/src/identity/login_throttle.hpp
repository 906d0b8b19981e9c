#pragma once
#include "core/util/clock.hpp"

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace deliveryhub::customers {

struct ThrottleLimits {
  std::size_t per_account = 5;
  std::size_t per_address = 20;
  std::chrono::seconds window{15 * 60};
};

/// Counts failed logins per account and per client address within a sliding window.
/// In-memory, per process (see ADR 0005). Thread-safe.
class LoginThrottle {
 public:
  LoginThrottle(const core::Clock& clock, ThrottleLimits limits = {}) : clock_(clock), limits_(limits) {}

  /// Seconds until a login for (account, address) may be tried again; nullopt when it may now.
  std::optional<std::chrono::seconds> retry_after(const std::string& account, const std::string& address);
  void record_failure(const std::string& account, const std::string& address);
  /// A successful login clears the account's failures (not the address's).
  void record_success(const std::string& account);

  /// The same window per address alone, for attempts that count whatever their outcome
  /// (registrations): seconds until `address` may try again, or nullopt; then record one.
  std::optional<std::chrono::seconds> retry_after_address(const std::string& address);
  void record_address(const std::string& address);

 private:
  using Failures = std::deque<core::TimePoint>;
  std::optional<std::chrono::seconds> check(Failures& failures, std::size_t limit, core::TimePoint now);
  void prune(std::unordered_map<std::string, Failures>& map, core::TimePoint now);

  const core::Clock& clock_;
  ThrottleLimits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, Failures> by_account_;
  std::unordered_map<std::string, Failures> by_address_;
  std::size_t operations_ = 0;
};

}  // namespace deliveryhub::customers
