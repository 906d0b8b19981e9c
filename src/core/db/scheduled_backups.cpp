#include "core/db/scheduled_backups.hpp"

#include "core/log/log.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <vector>

namespace deliveryhub::core::db {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view kPrefix = "deliveryhub-";
constexpr std::string_view kSuffix = ".sqlite";

// deliveryhub-20261205T143015.123Z.sqlite: sorts by time as text.
std::string copy_name() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  const auto length = std::strftime(text, sizeof text, "%Y%m%dT%H%M%S", &utc);
  std::snprintf(text + length, sizeof text - length, ".%03dZ", static_cast<int>(millis));
  return std::string(kPrefix) + text + std::string(kSuffix);
}

bool is_copy(const fs::path& file) {
  const auto name = file.filename().string();
  return name.size() > kPrefix.size() + kSuffix.size() && name.starts_with(kPrefix) && name.ends_with(kSuffix);
}

prometheus::Gauge& gauge(metrics::Metrics& metrics, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(metrics.registry()).Add({});
}

}  // namespace

ScheduledBackups::ScheduledBackups(ScheduledBackupOptions options, metrics::Metrics& metrics)
    : options_(std::move(options)),
      outcomes_(prometheus::BuildCounter()
                    .Name("deliveryhub_backups_total")
                    .Help("Scheduled backups of the SQLite database (--backup-dir), by outcome (ok, failed)")
                    .Register(metrics.registry())),
      last_success_(gauge(metrics, "deliveryhub_backup_last_success_timestamp_seconds",
                          "When the last scheduled backup that succeeded finished (Unix time; 0: none yet)")),
      last_size_(gauge(metrics, "deliveryhub_backup_last_size_bytes", "The size of the last successful backup")),
      last_duration_(gauge(metrics, "deliveryhub_backup_last_duration_seconds",
                           "How long the last successful backup took, copy and check")),
      loop_("scheduled backups", std::chrono::duration_cast<std::chrono::milliseconds>(options_.interval),
            [this] { tick(); }) {
  outcomes_.Add({{"outcome", "ok"}});
  outcomes_.Add({{"outcome", "failed"}});
  gauge(metrics, "deliveryhub_backup_interval_seconds", "--backup-interval: how often a backup is due")
      .Set(static_cast<double>(options_.interval.count()));
}

void ScheduledBackups::start() {
  loop_.start();
}

void ScheduledBackups::stop() {
  loop_.stop();
}

SqliteCopyReport ScheduledBackups::run_once() {
  const fs::path directory(options_.directory);
  auto report = backup_sqlite(options_.database, (directory / copy_name()).string());
  std::vector<fs::path> copies;
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (entry.is_regular_file() && is_copy(entry.path())) copies.push_back(entry.path());
  }
  std::sort(copies.begin(), copies.end());
  const auto keep = static_cast<std::size_t>(std::max(options_.keep, 1));
  for (std::size_t i = 0; i + keep < copies.size(); ++i) fs::remove(copies[i]);
  return report;
}

void ScheduledBackups::tick() {
  try {
    const auto report = run_once();
    outcomes_.Add({{"outcome", "ok"}}).Increment();
    last_success_.Set(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
    last_size_.Set(static_cast<double>(report.bytes));
    last_duration_.Set(report.seconds);
    log::info("backup written",
              {{"path", report.path}, {"bytes", static_cast<std::int64_t>(report.bytes)}, {"seconds", report.seconds}});
  } catch (const std::exception& error) {
    outcomes_.Add({{"outcome", "failed"}}).Increment();
    log::error("backup failed", {{"error", error.what()}, {"directory", options_.directory}});
  }
}

}  // namespace deliveryhub::core::db
