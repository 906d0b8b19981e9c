#pragma once
#include "core/db/database.hpp"
#include "core/metrics/metrics.hpp"

namespace deliveryhub::core::db {

/// Exports the database's counters (DatabaseCounters) as Prometheus counters, read at each scrape:
/// deliveryhub_db_commits_total, deliveryhub_db_writes_total, deliveryhub_db_statements_total and
/// deliveryhub_db_wal_frames_total, each labelled with the backend. `db` must outlive `metrics`'
/// scrapes.
void export_database_metrics(metrics::Metrics& metrics, const Database& db);

}  // namespace deliveryhub::core::db
