#pragma once
#include "core/db/database.hpp"
#include "core/events/envelope.hpp"

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace deliveryhub::core::events {

/// A consumer's effect of one event, run inside the consumer's own transaction.
using EventHandler = std::function<void(const Envelope&, db::Transaction&)>;

/// A consumer's effect that cannot run inside a transaction of ours (it calls a provider or
/// another module's service). It must be idempotent by a natural key (e.g. the order id).
using EffectHandler = std::function<void(const Envelope&)>;

/// Whether a consumer has anything to do for an event (read from the event alone).
using EventFilter = std::function<bool(const Envelope&)>;

/// A consumer: a module's handler of one event type, with the database holding its inbox.
/// Exactly one of `handler` and `effect` is set. An event that `applies` (when set) refuses is
/// skipped without touching the database: no inbox row, no transaction.
struct Subscription {
  std::string event_type;
  std::string consumer;  // "<module>.<purpose>", the inbox key
  std::string module;    // whose <module>_inbox table dedupes
  db::Database* database;
  EventHandler handler;
  EffectHandler effect;
  EventFilter applies = {};
};

/// Applies `subscription` to `envelope` once.
/// - `handler`: the inbox row and the effect commit in one transaction; a duplicate changes
///   nothing.
/// - `effect`: skipped when the inbox has the event; otherwise run, then the inbox row is
///   written. A crash in between runs the (idempotent) effect again — at least once.
/// Returns false for a duplicate or an event the subscription does not apply to. Throws whatever
/// the handler throws (nothing is recorded).
bool deliver_once(const Subscription& subscription, const Envelope& envelope);

/// publish() could not reach the transport at all (a broker down): no event got through, and
/// none is to blame, so the relay keeps them all and tries again later without counting it
/// against them.
class BusUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Carries committed events from outboxes to subscribers. Thread-safe once started.
class EventBus {
 public:
  virtual ~EventBus() = default;
  /// Called at start-up, before any publish.
  virtual void subscribe(Subscription subscription) = 0;
  /// Delivers `envelope` to every subscriber of its type (in-process, each of them even when
  /// another fails), or hands it to the broker. Returns normally only when every delivery
  /// succeeded; throws otherwise, and the relay retries (consumers that already applied it dedupe
  /// through their inbox).
  virtual void publish(const Envelope& envelope) = 0;
  /// After every subscribe: starts consuming (a broker's bus); stop() ends it. In-process: no-ops.
  virtual void start() {}
  virtual void stop() {}
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
