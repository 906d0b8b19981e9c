#include "core/remote/retry_policy.hpp"

#include <algorithm>

namespace deliveryhub::core::remote {

std::chrono::milliseconds full_jitter(const RetryOptions& options, int retry, std::mt19937_64& random) {
  const auto exponent = std::clamp(retry - 1, 0, 20);
  const auto ceiling = std::min<std::int64_t>(options.cap.count(), options.base.count() << exponent);
  std::uniform_int_distribution<std::int64_t> pick(0, std::max<std::int64_t>(ceiling, 0));
  return std::chrono::milliseconds(pick(random));
}

RetryBudget::RetryBudget(RetryOptions options, Clock::time_point now)
    : options_(options), tokens_(options.budget_minimum_per_second), last_refill_(now) {}

void RetryBudget::refill(Clock::time_point now) {
  const double seconds = std::chrono::duration<double>(now - last_refill_).count();
  if (seconds <= 0) return;
  last_refill_ = now;
  // A cap keeps a long quiet spell from saving up a storm of retries.
  const double cap = std::max(10.0, options_.budget_minimum_per_second * 10);
  tokens_ = std::min(cap, tokens_ + seconds * options_.budget_minimum_per_second);
}

void RetryBudget::on_call(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refill(now);
  const double cap = std::max(10.0, options_.budget_minimum_per_second * 10);
  tokens_ = std::min(cap, tokens_ + options_.budget_ratio);
}

bool RetryBudget::try_retry(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  refill(now);
  if (tokens_ < 1.0 - 1e-9) return false;  // 5 × 0.2 is a hair under 1.0 in binary
  tokens_ -= 1.0;
  return true;
}

}  // namespace deliveryhub::core::remote
