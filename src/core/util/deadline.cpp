#include "core/util/deadline.hpp"

#include <algorithm>

namespace deliveryhub::core {
namespace {

thread_local std::optional<std::chrono::steady_clock::time_point> t_deadline;

}  // namespace

ScopedDeadline::ScopedDeadline(std::chrono::steady_clock::time_point deadline) : previous_(t_deadline) {
  t_deadline = previous_ ? std::min(*previous_, deadline) : deadline;
}

ScopedDeadline::~ScopedDeadline() {
  t_deadline = previous_;
}

std::optional<std::chrono::steady_clock::time_point> ScopedDeadline::current() {
  return t_deadline;
}

}  // namespace deliveryhub::core
