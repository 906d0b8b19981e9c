#pragma once
#include "core/db/database.hpp"
#include "core/metrics/metrics.hpp"
#include "core/util/clock.hpp"

#include <string>
#include <vector>

namespace deliveryhub::core::events {

/// At every scrape, per module: deliveryhub_outbox_backlog (events committed, not yet delivered)
/// and deliveryhub_outbox_oldest_age_seconds (how long the oldest of them has waited; 0 if none).
/// A backlog that keeps growing means a consumer or the broker is down.
void export_outbox_metrics(metrics::Metrics& metrics, db::Database& db, const Clock& clock,
                           const std::vector<std::string>& modules);

}  // namespace deliveryhub::core::events
