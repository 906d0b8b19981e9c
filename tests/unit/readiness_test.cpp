// /readyz's decision: the phase first, then how long the database has been silent. It reads only
// the state the start-up sequence and the DatabaseMonitor write, so a probe never waits.
#include "core/http/operational_routes.hpp"

#include <catch2/catch.hpp>

using namespace deliveryhub::core::http;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

std::int64_t ns(steady_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

}  // namespace

TEST_CASE("every phase but ready names itself as the reason") {
  OperationalState state;
  const auto now = steady_clock::now();
  state.database_answered_ns = ns(now);
  for (auto [phase, reason] :
       {std::pair{Phase::waiting_for_database, "waiting_for_database"}, std::pair{Phase::migrating, "migrating"},
        std::pair{Phase::starting, "starting"}, std::pair{Phase::draining, "draining"}}) {
    state.phase = phase;
    CHECK(not_ready_reason(state, now) == reason);
  }
  state.phase = Phase::ready;
  CHECK(not_ready_reason(state, now).empty());
}

TEST_CASE("a database silent for longer than kDatabaseUnreadyAfter makes the process unready; a blip does not") {
  OperationalState state;
  state.phase = Phase::ready;
  const auto answered = steady_clock::now();
  state.database_answered_ns = ns(answered);
  CHECK(not_ready_reason(state, answered + seconds(3)).empty());
  CHECK(not_ready_reason(state, answered + kDatabaseUnreadyAfter).empty());
  CHECK(not_ready_reason(state, answered + kDatabaseUnreadyAfter + seconds(1)) == "database_unavailable");
  state.database_answered_ns = ns(answered + seconds(20));  // it answers again
  CHECK(not_ready_reason(state, answered + seconds(21)).empty());
}

TEST_CASE("without a monitor the database is not judged") {
  OperationalState state;
  state.phase = Phase::ready;
  CHECK(state.database_answered_ns == OperationalState::kNotMonitored);
  CHECK(not_ready_reason(state, steady_clock::now() + std::chrono::hours(1)).empty());
}
