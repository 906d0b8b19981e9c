#pragma once
// The deadline of the work a thread does on someone's behalf (a request's): set by the HTTP
// pipeline from X-Deliveryhub-Deadline-Ms, read by remote calls, which send what is left of it
// and make no call once it has passed (ADR 0014).
#include <chrono>
#include <optional>

namespace deliveryhub::core {

/// Sets this thread's deadline (the earlier of it and any enclosing one) until destroyed.
class ScopedDeadline {
 public:
  explicit ScopedDeadline(std::chrono::steady_clock::time_point deadline);
  ~ScopedDeadline();
  ScopedDeadline(const ScopedDeadline&) = delete;
  ScopedDeadline& operator=(const ScopedDeadline&) = delete;
  /// This thread's deadline, if any.
  static std::optional<std::chrono::steady_clock::time_point> current();

 private:
  std::optional<std::chrono::steady_clock::time_point> previous_;
};

}  // namespace deliveryhub::core
