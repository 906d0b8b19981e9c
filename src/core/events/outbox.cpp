#include "core/events/outbox.hpp"

#include "core/log/log.hpp"
#include "core/util/ids.hpp"

namespace deliveryhub::core::events {

void OutboxSignal::notify() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  changed_.notify_all();
}

void OutboxSignal::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return pending_; });
  pending_ = false;
}

db::Migration event_tables_migration(std::string_view module, int version) {
  const std::string m(module);
  return {version, "event tables (outbox, inbox)",
          "CREATE TABLE " + m +
              "_outbox ("
              " position INTEGER PRIMARY KEY AUTOINCREMENT,"
              " id TEXT NOT NULL UNIQUE,"
              " type TEXT NOT NULL,"
              " aggregate_id TEXT NOT NULL,"
              " sequence BIGINT NOT NULL,"
              " occurred_at BIGINT NOT NULL,"
              " traceparent TEXT NOT NULL,"
              " payload TEXT NOT NULL,"
              " delivered_at BIGINT,"
              " attempts INTEGER NOT NULL DEFAULT 0,"
              " next_attempt_at BIGINT,"
              " last_error TEXT,"
              " UNIQUE (aggregate_id, sequence));"
              "CREATE INDEX " +
              m + "_outbox_undelivered ON " + m +
              "_outbox (position) WHERE delivered_at IS NULL;"
              "CREATE TABLE " +
              m +
              "_inbox ("
              " consumer TEXT NOT NULL,"
              " event_id TEXT NOT NULL,"
              " processed_at BIGINT NOT NULL,"
              " PRIMARY KEY (consumer, event_id));"};
}

db::Migration relay_lease_migration(std::string_view module, int version) {
  const std::string m(module);
  return {version, "one outbox relay at a time (a lease)",
          "CREATE TABLE " + m +
              "_outbox_relay ("
              " id INTEGER PRIMARY KEY CHECK (id = 1),"
              " holder TEXT NOT NULL,"
              " lease_until BIGINT NOT NULL);"
              "INSERT INTO " +
              m + "_outbox_relay (id, holder, lease_until) VALUES (1, '', 0);"};
}

Outbox::Outbox(std::string module, const Clock& clock, std::shared_ptr<OutboxSignal> signal)
    : module_(std::move(module)),
      insert_sql_("INSERT INTO " + module_ +
                  "_outbox (id, type, aggregate_id, sequence, occurred_at, traceparent, payload) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7)"),
      // The aggregate's last event in the outbox, or, once pruning deleted them all, the last
      // sequence it left behind (ADR 0028).
      sequence_sql_("SELECT COALESCE((SELECT MAX(sequence) FROM " + module_ +
                    "_outbox WHERE aggregate_id = $1), (SELECT last_sequence FROM " + module_ +
                    "_outbox_sequences WHERE aggregate_id = $1), 0) + 1"),
      clock_(clock),
      signal_(std::move(signal)) {}

Envelope Outbox::add(db::Transaction& tx, std::string type, std::string aggregate_id, nlohmann::json payload) const {
  Envelope envelope;
  envelope.id = new_id("evt");
  envelope.type = std::move(type);
  envelope.source = module_;
  envelope.aggregate_id = std::move(aggregate_id);
  envelope.occurred_at = clock_.now();
  envelope.payload = std::move(payload);
  const auto& context = log::current();
  if (!context.trace_id.empty()) {
    // A child span of the request: same trace, a fresh parent id derived from the event id.
    envelope.traceparent = "00-" + context.trace_id + "-" + std::string(16, '0') + "-01";
    const std::string& tail = envelope.id;
    for (std::size_t i = 0; i < 16; ++i) {
      envelope.traceparent[36 + i] = "0123456789abcdef"[static_cast<unsigned char>(tail[tail.size() - 1 - i]) % 16];
    }
  }
  envelope.sequence = tx.query_one(sequence_sql_, {envelope.aggregate_id})->integer(0);
  tx.execute(insert_sql_, {envelope.id, envelope.type, envelope.aggregate_id, envelope.sequence,
                           to_unix_ms(envelope.occurred_at), envelope.traceparent, envelope.payload.dump()});
  tx.after_commit([signal = signal_] {
    if (signal) signal->notify();
  });
  return envelope;
}

}  // namespace deliveryhub::core::events
