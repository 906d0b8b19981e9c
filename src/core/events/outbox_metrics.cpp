#include "core/events/outbox_metrics.hpp"

namespace deliveryhub::core::events {

void export_outbox_metrics(metrics::Metrics& metrics, db::Database& db, const Clock& clock,
                           const std::vector<std::string>& modules) {
  auto backlog = std::make_shared<metrics::CountsGauge>(metrics, "deliveryhub_outbox_backlog",
                                                        "Events committed to a module's outbox and not yet delivered",
                                                        "module", modules);
  auto oldest = std::make_shared<metrics::CountsGauge>(metrics, "deliveryhub_outbox_oldest_age_seconds",
                                                       "Age of the oldest undelivered event of a module's outbox",
                                                       "module", modules);
  metrics.on_scrape([&db, &clock, modules, backlog, oldest] {
    std::map<std::string, std::int64_t> counts;
    std::map<std::string, std::int64_t> ages;
    const auto now = to_unix_ms(clock.now());
    db.read([&](db::Transaction& tx) {
      for (const auto& module : modules) {
        auto row =
            tx.query_one("SELECT COUNT(*), MIN(occurred_at) FROM " + module + "_outbox WHERE delivered_at IS NULL");
        counts[module] = row->integer(0);
        const auto first = row->optional_integer(1);
        ages[module] = first ? std::max<std::int64_t>(0, (now - *first) / 1000) : 0;
      }
    });
    backlog->set(counts);
    oldest->set(ages);
  });
}

}  // namespace deliveryhub::core::events
