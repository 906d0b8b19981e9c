#pragma once
#include "core/db/database.hpp"
#include "core/events/envelope.hpp"

#include <functional>
#include <string>
#include <vector>

namespace deliveryhub::core::events {

/// A consumer's effect of one event, run inside the consumer's own transaction.
using EventHandler = std::function<void(const Envelope&, db::Transaction&)>;

/// A consumer: a module's handler of one event type, with the database holding its inbox.
struct Subscription {
  std::string event_type;
  std::string consumer;  // "<module>.<purpose>", the inbox key
  std::string module;    // whose <module>_inbox table dedupes
  db::Database* database;
  EventHandler handler;
};

/// Applies `subscription`'s handler to `envelope` at most once: the inbox row and the effect
/// commit in one transaction, and an event already in the inbox changes nothing.
/// Returns false for a duplicate. Throws whatever the handler throws (nothing is committed).
bool deliver_once(const Subscription& subscription, const Envelope& envelope);

/// Carries committed events from outboxes to subscribers. Thread-safe once started.
class EventBus {
 public:
  virtual ~EventBus() = default;
  /// Called at start-up, before any publish.
  virtual void subscribe(Subscription subscription) = 0;
  /// Delivers `envelope` to every subscriber of its type (in-process), or hands it to the broker.
  /// Returns normally only when every delivery succeeded; throws otherwise, and the relay
  /// retries (consumers that already applied it dedupe through their inbox).
  virtual void publish(const Envelope& envelope) = 0;
};

/// The embedded default: subscribers are called on the relay's thread, in outbox order.
class InProcessBus final : public EventBus {
 public:
  void subscribe(Subscription subscription) override;
  void publish(const Envelope& envelope) override;

 private:
  std::vector<Subscription> subscriptions_;
};

}  // namespace deliveryhub::core::events
