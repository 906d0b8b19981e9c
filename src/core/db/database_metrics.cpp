#include "core/db/database_metrics.hpp"

#include <algorithm>
#include <mutex>

namespace deliveryhub::core::db {

void export_database_metrics(metrics::Metrics& metrics, const Database& db) {
  // The counters as shown so far; scrapes may overlap.
  struct Exported {
    Exported(prometheus::Registry& registry, const std::string& backend) {
      const std::map<std::string, std::string> labels{{"backend", backend}};
      const auto make = [&](const char* name, const char* help) -> prometheus::Counter& {
        return prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add(labels);
      };
      commits = &make("deliveryhub_db_commits_total",
                      "Write transactions committed to the store (a group commit counts once)");
      writes = &make("deliveryhub_db_writes_total", "Units of write work submitted (several can share one commit)");
      statements = &make("deliveryhub_db_statements_total",
                         "Statements run, reads and writes, transaction control included (PostgreSQL: round trips)");
      wal_frames = &make("deliveryhub_db_wal_frames_total", "SQLite: pages appended to the write-ahead log");
    }
    prometheus::Counter* commits;
    prometheus::Counter* writes;
    prometheus::Counter* statements;
    prometheus::Counter* wal_frames;
    std::mutex mutex;
    DatabaseCounters shown;
  };
  auto exported = std::make_shared<Exported>(metrics.registry(), std::string(db.backend()));
  metrics.on_scrape([&db, exported] {
    const auto now = db.counters();
    std::lock_guard lock(exported->mutex);
    metrics::advance_counter(*exported->commits, now.commits, exported->shown.commits);
    metrics::advance_counter(*exported->writes, now.writes, exported->shown.writes);
    metrics::advance_counter(*exported->statements, now.statements, exported->shown.statements);
    metrics::advance_counter(*exported->wal_frames, now.wal_frames, exported->shown.wal_frames);
  });
}

}  // namespace deliveryhub::core::db
