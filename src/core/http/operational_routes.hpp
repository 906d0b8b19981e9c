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

/// /livez (no dependency checks), /readyz (phase and database), /metrics, /version and
/// /openapi.yaml. No token needed.
void add_operational_routes(Router& router, OperationalState& state, db::Database& database, metrics::Metrics& metrics,
                            std::string_view openapi_yaml);

}  // namespace deliveryhub::core::http
