#include "core/metrics/table_counts.hpp"

namespace deliveryhub::core::metrics {

void export_table_counts(Metrics& metrics, db::Database& db, const std::string& name, const std::string& help,
                         const std::string& label, const std::vector<std::string>& values, std::string count_sql) {
  auto gauge = std::make_shared<CountsGauge>(metrics, name, help, label, values);
  metrics.on_scrape([&db, gauge, sql = std::move(count_sql)] {
    gauge->set(db.read([&](db::Transaction& tx) {
      std::map<std::string, std::int64_t> counts;
      for (const auto& row : tx.query(sql)) counts[row.text(0)] = row.integer(1);
      return counts;
    }));
  });
}

}  // namespace deliveryhub::core::metrics
