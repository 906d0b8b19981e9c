#pragma once
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>

namespace deliveryhub::core::remote {

struct BreakerOptions {
  std::size_t window = 20;                    // the last N calls judged
  std::size_t minimum_calls = 10;             // no opinion before this many calls in the window
  double failure_ratio = 0.5;                 // open at or above this share of failures
  std::chrono::milliseconds open_for{5'000};  // then half-open
  std::size_t half_open_probes = 3;           // calls let through half-open; all must succeed to close
};

/// A count-based circuit breaker (as resilience4j's COUNT_BASED window): closed → open when the
/// failure ratio of the last `window` calls reaches `failure_ratio` (after `minimum_calls`);
/// open → half-open after `open_for`; half-open lets `half_open_probes` calls through and closes
/// when they all succeed, re-opens at the first failure. Thread-safe; time is passed in.
class CircuitBreaker {
 public:
  enum class State { closed, open, half_open };
  using Clock = std::chrono::steady_clock;

  explicit CircuitBreaker(BreakerOptions options = {}) : options_(options) {}

  /// Whether a call may go now; a permitted half-open call counts as a probe in flight.
  bool allow(Clock::time_point now);
  /// The outcome of a call that allow() let through.
  void record(bool success, Clock::time_point now);
  State state(Clock::time_point now);
  /// While open: how long until a probe may go.
  std::chrono::milliseconds retry_after(Clock::time_point now);

 private:
  void open(Clock::time_point now);

  BreakerOptions options_;
  std::mutex mutex_;
  State state_ = State::closed;
  std::deque<bool> outcomes_;  // true: failure
  std::size_t failures_ = 0;
  Clock::time_point opened_at_{};
  std::size_t probes_started_ = 0;
  std::size_t probes_succeeded_ = 0;
};

}  // namespace deliveryhub::core::remote
