#pragma once
#include "core/db/database.hpp"
#include "core/http/router.hpp"
#include "core/metrics/metrics.hpp"

#include <atomic>
#include <string_view>

namespace deliveryhub::core::http {

/// Where the process is in its life, for /readyz.
enum class Phase { starting, ready, draining };

struct OperationalState {
  std::atomic<Phase> phase{Phase::starting};
};

/// /livez (no dependency checks), /readyz (phase and database), /version and /openapi.yaml,
/// and /metrics unless it is served apart (`with_metrics` false). No token needed.
void add_operational_routes(Router& router, OperationalState& state, db::Database& database, metrics::Metrics& metrics,
                            std::string_view openapi_yaml, bool with_metrics = true);

/// What a separate metrics address serves: /metrics and /livez.
void add_metrics_routes(Router& router, metrics::Metrics& metrics);

}  // namespace deliveryhub::core::http
