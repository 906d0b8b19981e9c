#pragma once
// Periodic backups of the SQLite database by the server itself (--backup-dir, ADR 0036).

#include "core/db/sqlite_backup.hpp"
#include "core/metrics/metrics.hpp"
#include "core/util/background_loop.hpp"

#include <chrono>
#include <filesystem>
#include <string>

namespace deliveryhub::core::db {

struct ScheduledBackupOptions {
  std::string database;   // the SQLite file
  std::string directory;  // where the copies go: deliveryhub-<UTC time>.sqlite
  std::chrono::seconds interval{3600};
  int keep = 24;  // the newest this many copies stay; older ones are deleted after each success
};

/// Takes a backup (backup_sqlite) at start and then every `interval`, on a thread of its own, and
/// keeps the newest `keep`. A failure is logged and counted, and the next try comes one interval
/// later; the copies already there stay. Metrics: deliveryhub_backups_total{outcome}, and for the
/// last success deliveryhub_backup_last_success_timestamp_seconds, _last_size_bytes,
/// _last_duration_seconds, with deliveryhub_backup_interval_seconds for the alert.
class ScheduledBackups {
 public:
  ScheduledBackups(ScheduledBackupOptions options, metrics::Metrics& metrics);
  void start();
  void stop();
  /// One backup now, then the pruning; throws what backup_sqlite throws. For tests.
  SqliteCopyReport run_once();

 private:
  void tick();

  ScheduledBackupOptions options_;
  prometheus::Family<prometheus::Counter>& outcomes_;
  prometheus::Gauge& last_success_;
  prometheus::Gauge& last_size_;
  prometheus::Gauge& last_duration_;
  BackgroundLoop loop_;  // last: stopped first, before anything it uses goes
};

}  // namespace deliveryhub::core::db
