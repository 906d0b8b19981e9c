#pragma once
#include <chrono>
#include <mutex>
#include <random>

namespace deliveryhub::core::remote {

struct RetryOptions {
  int max_attempts = 3;                    // including the first call; idempotent calls only
  std::chrono::milliseconds base{50};      // the first backoff's ceiling
  std::chrono::milliseconds cap{1'000};    // no backoff's ceiling is above this
  double budget_ratio = 0.2;               // retries may add at most this share of calls …
  double budget_minimum_per_second = 5.0;  // … plus this many per second (Envoy/Finagle style)
};

/// "Full jitter" (AWS architecture blog): the n-th retry waits uniform(0, min(cap, base · 2^(n−1))).
std::chrono::milliseconds full_jitter(const RetryOptions& options, int retry, std::mt19937_64& random);

/// A retry budget: every call deposits `budget_ratio` of a token, time deposits
/// `budget_minimum_per_second`, a retry spends one. So a remote that fails everything sees at
/// most ≈ (1 + ratio) times the load, not max_attempts times. Thread-safe.
class RetryBudget {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RetryBudget(RetryOptions options = {}, Clock::time_point now = Clock::now());

  void on_call(Clock::time_point now);
  /// Takes one token for a retry; false when the budget is spent.
  bool try_retry(Clock::time_point now);

 private:
  void refill(Clock::time_point now);

  RetryOptions options_;
  std::mutex mutex_;
  double tokens_;
  Clock::time_point last_refill_;
};

}  // namespace deliveryhub::core::remote
