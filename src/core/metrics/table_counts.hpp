#pragma once
#include "core/db/database.hpp"
#include "core/metrics/metrics.hpp"

#include <string>
#include <vector>

namespace deliveryhub::core::metrics {

/// Exports gauge `name`{`label`=…} read at every scrape by `count_sql`, which must return rows of
/// (label value, count), e.g. `SELECT status, COUNT(*) FROM orders_orders GROUP BY status`.
/// `values` are exported at 0 until they appear. For "orders by status" and the like.
void export_table_counts(Metrics& metrics, db::Database& db, const std::string& name, const std::string& help,
                         const std::string& label, const std::vector<std::string>& values, std::string count_sql);

}  // namespace deliveryhub::core::metrics
