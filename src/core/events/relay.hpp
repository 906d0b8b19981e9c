#pragma once
#include "core/db/database.hpp"
#include "core/events/bus.hpp"
#include "core/events/outbox.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace deliveryhub::core::events {

struct RelayOptions {
  std::chrono::milliseconds poll_interval{500};  // also picks up rows written by other processes
  std::size_t batch_size = 200;
  std::chrono::milliseconds first_retry{200};
  std::chrono::milliseconds max_retry{30'000};
  /// How long a relay holds a module's outbox once it took it; renewed at half time. A replica
  /// that dies without releasing it holds up that module's events at most this long.
  std::chrono::milliseconds lease{10'000};
};

/// Moves committed events from the outboxes of the local modules to the bus, in outbox order,
/// and marks each delivered once the bus accepted it. A failed event is retried with
/// exponential backoff; later events of the same aggregate wait for it, other aggregates go on.
/// After a restart, whatever was not marked delivered is sent again (at least once).
/// Replicas of a module share its outbox: a lease (<module>_outbox_relay) lets one relay at a
/// time publish it, the others standing by, so an event goes out once, not once per replica.
class OutboxRelay {
 public:
  OutboxRelay(db::Database& db, std::vector<std::string> modules, EventBus& bus, const Clock& clock,
              std::shared_ptr<OutboxSignal> signal, RelayOptions options = {});
  ~OutboxRelay();

  /// Starts the background thread.
  void start();
  /// Finishes the current pass and stops the thread.
  void stop();
  /// One pass over every outbox; returns how many events were delivered. For tests and start-up.
  std::size_t dispatch_once();
  /// Undelivered events across the outboxes (a metric and a test hook).
  std::int64_t backlog();

 private:
  std::size_t dispatch_module(const std::string& module);
  // Marks the events at `positions` of `table` delivered, in one write.
  void mark_delivered(const std::string& table, const std::vector<std::int64_t>& positions);
  /// Takes or renews the lease on `module`'s outbox; false while another relay holds it.
  bool hold_lease(const std::string& module, std::int64_t now_ms);
  void release_leases() noexcept;

  db::Database& db_;
  std::vector<std::string> modules_;
  EventBus& bus_;
  const Clock& clock_;
  std::shared_ptr<OutboxSignal> signal_;
  RelayOptions options_;
  std::atomic<bool> running_{false};
  std::atomic<bool> bus_down_{false};  // the bus said BusUnavailable; logged once per outage
  std::thread thread_;
  const std::string holder_;                                   // this relay, in the lease table
  std::unordered_map<std::string, std::int64_t> lease_until_;  // module → held until (Unix ms)
};

}  // namespace deliveryhub::core::events
