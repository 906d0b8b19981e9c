#include "core/remote/circuit_breaker.hpp"

#include <algorithm>

namespace deliveryhub::core::remote {

bool CircuitBreaker::allow(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ == State::open && now - opened_at_ >= options_.open_for) {
    state_ = State::half_open;
    probes_started_ = probes_succeeded_ = 0;
  }
  switch (state_) {
    case State::closed:
      return true;
    case State::open:
      return false;
    case State::half_open:
      if (probes_started_ >= options_.half_open_probes) return false;
      ++probes_started_;
      return true;
  }
  return false;
}

void CircuitBreaker::record(bool success, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ == State::half_open) {
    if (!success) {
      open(now);
    } else if (++probes_succeeded_ >= options_.half_open_probes) {
      state_ = State::closed;
      outcomes_.clear();
      failures_ = 0;
    }
    return;
  }
  if (state_ == State::open) return;  // a call let through before it opened
  outcomes_.push_back(!success);
  if (!success) ++failures_;
  if (outcomes_.size() > options_.window) {
    if (outcomes_.front()) --failures_;
    outcomes_.pop_front();
  }
  if (outcomes_.size() >= options_.minimum_calls &&
      static_cast<double>(failures_) >= options_.failure_ratio * static_cast<double>(outcomes_.size())) {
    open(now);
  }
}

void CircuitBreaker::open(Clock::time_point now) {
  state_ = State::open;
  opened_at_ = now;
  outcomes_.clear();
  failures_ = 0;
}

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ == State::open && now - opened_at_ >= options_.open_for) return State::half_open;
  return state_;
}

std::chrono::milliseconds CircuitBreaker::retry_after(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (state_ != State::open) return std::chrono::milliseconds(0);
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(opened_at_ + options_.open_for - now));
}

}  // namespace deliveryhub::core::remote
