#pragma once
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/events/envelope.hpp"
#include "core/util/clock.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

namespace deliveryhub::core::events {

/// Wakes the outbox relay when a transaction that wrote events commits.
class OutboxSignal {
 public:
  void notify();
  /// Waits until notified or `timeout` passes; clears the notification.
  void wait_for(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool pending_ = false;
};

/// The migration creating `module`'s outbox (<module>_outbox) and inbox (<module>_inbox) tables.
/// Every module that publishes or consumes lists it among its migrations.
db::Migration event_tables_migration(std::string_view module, int version);
/// The relay lease of `module`'s outbox: among the processes running `module` (replicas), one
/// relay at a time publishes it, so an event is not published once per replica (OutboxRelay).
db::Migration relay_lease_migration(std::string_view module, int version);

/// Writes a module's events in the caller's transaction, so an event exists exactly when the
/// state change that caused it committed.
class Outbox {
 public:
  Outbox(std::string module, const Clock& clock, std::shared_ptr<OutboxSignal> signal);

  /// Adds an event for `aggregate_id`; its sequence is one more than the aggregate's last.
  /// Takes the trace context of the current request from the log context. Returns the event.
  Envelope add(db::Transaction& tx, std::string type, std::string aggregate_id, nlohmann::json payload) const;

  const std::string& module() const { return module_; }

 private:
  std::string module_;
  std::string insert_sql_;
  std::string sequence_sql_;
  const Clock& clock_;
  std::shared_ptr<OutboxSignal> signal_;
};

}  // namespace deliveryhub::core::events
