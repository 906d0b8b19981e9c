#include "core/events/pruning.hpp"

#include <algorithm>
#include <map>

namespace deliveryhub::core::events {

db::Migration event_pruning_migration(std::string_view module, int version) {
  const std::string m(module);
  return {version, "event pruning (aggregate sequences, inbox by processing time)",
          "CREATE TABLE " + m +
              "_outbox_sequences ("
              " aggregate_id TEXT PRIMARY KEY,"
              " last_sequence BIGINT NOT NULL);"
              "CREATE INDEX " +
              m + "_inbox_processed ON " + m + "_inbox (processed_at);"};
}

EventPruner::EventPruner(db::Database& db, std::vector<std::string> modules, const Clock& clock,
                         metrics::Metrics& metrics, PruningOptions options)
    : db_(db),
      modules_(std::move(modules)),
      clock_(clock),
      options_(options),
      pruned_(prometheus::BuildCounter()
                  .Name("deliveryhub_events_pruned_total")
                  .Help("Delivered outbox events and processed inbox ids deleted after their retention, by module and "
                        "table")
                  .Register(metrics.registry())),
      loop_("event pruning", options.interval, [this] {
        // The first tick comes at start: wait one interval before the first pass (see the class).
        if (std::exchange(started_, true)) prune_once();
      }) {
  for (const auto& module : modules_) {
    pruned_.Add({{"module", module}, {"table", "outbox"}});
    pruned_.Add({{"module", module}, {"table", "inbox"}});
  }
}

void EventPruner::start() {
  loop_.start();
}

void EventPruner::stop() {
  loop_.stop();
}

std::size_t EventPruner::prune_once() {
  const auto now = to_unix_ms(clock_.now());
  std::size_t deleted = 0;
  for (const auto& module : modules_) {
    const auto outbox = prune_outbox(module, now - std::chrono::milliseconds(options_.outbox_retention).count());
    const auto inbox = prune_inbox(module, now - std::chrono::milliseconds(options_.inbox_retention).count());
    pruned_.Add({{"module", module}, {"table", "outbox"}}).Increment(static_cast<double>(outbox));
    pruned_.Add({{"module", module}, {"table", "inbox"}}).Increment(static_cast<double>(inbox));
    deleted += outbox + inbox;
  }
  return deleted;
}

std::size_t EventPruner::prune_outbox(const std::string& module, std::int64_t cutoff_ms) {
  const std::string outbox = module + "_outbox";
  struct Batch {
    std::size_t deleted = 0;
    std::int64_t last_read = 0;  // the next batch reads rows after this position
    bool more = false;
  };
  std::size_t deleted = 0;
  for (Batch batch{0, 0, true}; batch.more;) {
    // The oldest rows, a batch at a time, up to the first that occurred after the cutoff (it was
    // delivered after it too, and so are nearly all that follow). The rows left from earlier
    // passes are recent ones and the few events still waiting for a retry, which are stepped
    // over and kept, so a pass reads little more than what it deletes. Read in a read-only
    // transaction: the write below then touches only the rows it deletes, and a serializable
    // write on PostgreSQL does not conflict with the relay marking recent rows meanwhile.
    const auto rows = db_.read([&](db::Transaction& tx) {
      return tx.query("SELECT position, aggregate_id, sequence, occurred_at, delivered_at FROM " + outbox +
                          " WHERE position > $1 ORDER BY position LIMIT $2",
                      {batch.last_read, static_cast<std::int64_t>(options_.batch)});
    });
    Batch next{0, batch.last_read, rows.size() == options_.batch};
    std::vector<std::int64_t> positions;
    std::map<std::string, std::int64_t> last_sequence;  // of the aggregates pruned here
    for (const auto& row : rows) {
      if (row.integer(3) >= cutoff_ms) {
        next.more = false;
        break;
      }
      next.last_read = row.integer(0);
      const auto delivered = row.optional_integer(4);
      if (!delivered || *delivered >= cutoff_ms) continue;
      positions.push_back(row.integer(0));
      auto& sequence = last_sequence[row.text(1)];
      sequence = std::max(sequence, row.integer(2));
    }
    // Computed inside the transaction and taken only once it committed: PostgreSQL runs a write
    // again from the start after a serialization failure.
    next.deleted = db_.write([&](db::Transaction& tx) {
      std::size_t done = 0;
      for (const auto position : positions) {
        done += static_cast<std::size_t>(
            tx.execute("DELETE FROM " + outbox + " WHERE position = $1 AND delivered_at < $2", {position, cutoff_ms}));
      }
      // An aggregate with no event left remembers its last sequence, so that its next event goes
      // on from there (Outbox::add reads it when the outbox has none of the aggregate's).
      for (const auto& [aggregate, sequence] : last_sequence) {
        if (tx.query_one("SELECT 1 FROM " + outbox + " WHERE aggregate_id = $1 LIMIT 1", {aggregate})) continue;
        tx.execute("INSERT INTO " + outbox +
                       "_sequences (aggregate_id, last_sequence) VALUES ($1, $2) "
                       "ON CONFLICT (aggregate_id) DO UPDATE SET last_sequence = excluded.last_sequence",
                   {aggregate, sequence});
      }
      return done;
    });
    batch = next;
    deleted += batch.deleted;
  }
  return deleted;
}

std::size_t EventPruner::prune_inbox(const std::string& module, std::int64_t cutoff_ms) {
  const std::string inbox = module + "_inbox";
  std::size_t deleted = 0;
  for (;;) {
    const auto batch = static_cast<std::size_t>(db_.write([&](db::Transaction& tx) {
      return tx.execute("DELETE FROM " + inbox + " WHERE (consumer, event_id) IN (SELECT consumer, event_id FROM " +
                            inbox + " WHERE processed_at < $1 ORDER BY processed_at LIMIT $2)",
                        {cutoff_ms, static_cast<std::int64_t>(options_.batch)});
    }));
    deleted += batch;
    if (batch < options_.batch) return deleted;
  }
}

}  // namespace deliveryhub::core::events
