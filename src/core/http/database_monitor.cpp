#include "core/http/database_monitor.hpp"

namespace deliveryhub::core::http {

namespace {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DatabaseMonitor::DatabaseMonitor(db::Database& database, OperationalState& state, std::chrono::milliseconds interval)
    : database_(database), state_(state), loop_("database monitor", interval, [this] {
        if (database_.ping()) state_.database_answered_ns = steady_now_ns();
      }) {}

void DatabaseMonitor::start() {
  state_.database_answered_ns = steady_now_ns();
  loop_.start();
}

void DatabaseMonitor::stop() {
  loop_.stop();
}

}  // namespace deliveryhub::core::http
