#pragma once
#include "core/db/database.hpp"
#include "core/http/router.hpp"
#include "core/metrics/metrics.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace deliveryhub::core::http {

/// Where the process is in its life, for /readyz, in the order it goes through them.
enum class Phase { waiting_for_database, migrating, starting, ready, draining };

/// A database that has not answered the health monitor for this long makes the process unready;
/// a shorter blip (a PostgreSQL restart, a failover) does not take every replica out at once —
/// requests meanwhile get 503 problems with Retry-After from the handlers.
inline constexpr std::chrono::seconds kDatabaseUnreadyAfter{10};

struct OperationalState {
  std::atomic<Phase> phase{Phase::starting};
  /// When the database last answered DatabaseMonitor (steady clock, ns since its epoch);
  /// kNotMonitored while no monitor runs (readiness then ignores the database).
  static constexpr std::int64_t kNotMonitored = -1;
  std::atomic<std::int64_t> database_answered_ns{kNotMonitored};
};

/// Why the process should get no traffic now (the `state` of /readyz's problem), or empty when
/// it should: its phase, else a database silent for longer than kDatabaseUnreadyAfter. Reads
/// only `state`: never waits for the database or a worker.
std::string_view not_ready_reason(const OperationalState& state, std::chrono::steady_clock::time_point now);

/// /livez (no dependency checks), /readyz (not_ready_reason), /version and /openapi.yaml,
/// and /metrics unless it is served apart (`with_metrics` false). No token needed.
void add_operational_routes(Router& router, OperationalState& state, metrics::Metrics& metrics,
                            std::string_view openapi_yaml, bool with_metrics = true);

/// What the separate operations address (--metrics-listen) serves: /metrics, /livez and /readyz.
/// Its server has threads of its own and starts before the database is reached, so the
/// kubelet's probes are answered while the API's workers are all busy, while start-up waits for
/// the database or another process's migrations, and while the database is down.
void add_metrics_routes(Router& router, OperationalState& state, metrics::Metrics& metrics);

}  // namespace deliveryhub::core::http
