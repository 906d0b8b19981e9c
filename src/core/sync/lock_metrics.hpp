#pragma once
#include "core/metrics/metrics.hpp"

namespace deliveryhub::core::sync {

/// Exports every named lock's waits (CountedMutex) at each scrape:
/// deliveryhub_lock_contended_total{lock} and deliveryhub_lock_wait_seconds_total{lock}.
void export_lock_metrics(metrics::Metrics& metrics);

}  // namespace deliveryhub::core::sync
