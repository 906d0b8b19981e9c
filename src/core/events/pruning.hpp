#pragma once
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/metrics/metrics.hpp"
#include "core/util/background_loop.hpp"
#include "core/util/clock.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace deliveryhub::core::events {

/// What pruning needs in `module`'s event tables: <module>_outbox_sequences (the last sequence of
/// each aggregate whose events were all pruned, so that its next event goes on from there) and an
/// index of the inbox by processing time. Every module with event tables lists it.
db::Migration event_pruning_migration(std::string_view module, int version);

struct PruningOptions {
  std::chrono::seconds outbox_retention{std::chrono::hours(7 * 24)};  // delivered events are kept this long
  std::chrono::seconds inbox_retention{std::chrono::hours(14 * 24)};  // processed event ids are kept this long
  std::chrono::milliseconds interval{60'000};                         // between passes; also the wait after start
  std::size_t batch = 500;                                            // rows per transaction
};

/// Keeps the event tables bounded (ADR 0028): deletes outbox rows delivered longer than
/// `outbox_retention` ago and inbox rows processed longer than `inbox_retention` ago, for the
/// modules of this process, in transactions of at most `batch` rows, on a thread of its own. An
/// undelivered event is never deleted. The first pass runs one `interval` after start(), so that
/// whatever a crash left in flight has been delivered again (and deduped) before any inbox row
/// that could dedupe it goes. Counts what it deletes in deliveryhub_events_pruned_total.
class EventPruner {
 public:
  EventPruner(db::Database& db, std::vector<std::string> modules, const Clock& clock, metrics::Metrics& metrics,
              PruningOptions options = {});
  void start();
  void stop();
  /// One pass over every module's outbox and inbox; returns the rows deleted. For tests.
  std::size_t prune_once();

 private:
  std::size_t prune_outbox(const std::string& module, std::int64_t cutoff_ms);
  std::size_t prune_inbox(const std::string& module, std::int64_t cutoff_ms);

  db::Database& db_;
  std::vector<std::string> modules_;
  const Clock& clock_;
  PruningOptions options_;
  prometheus::Family<prometheus::Counter>& pruned_;
  bool started_ = false;  // the loop's first tick only notes the start
  BackgroundLoop loop_;   // last: stopped first, before anything it uses goes
};

}  // namespace deliveryhub::core::events
