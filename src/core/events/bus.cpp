#include "core/events/bus.hpp"

#include "core/log/log.hpp"
#include "core/util/clock.hpp"

namespace deliveryhub::core::events {

bool deliver_once(const Subscription& subscription, const Envelope& envelope) {
  if (subscription.applies && !subscription.applies(envelope)) return false;
  log::ScopedContext context({envelope.id, log::trace_id_of(envelope.traceparent), {}});
  const std::string claim_sql = "INSERT INTO " + subscription.module +
                                "_inbox (consumer, event_id, processed_at) VALUES ($1, $2, $3) "
                                "ON CONFLICT DO NOTHING";
  if (subscription.effect) {
    const bool seen = subscription.database->read([&](db::Transaction& tx) {
      return tx
          .query_one("SELECT 1 FROM " + subscription.module + "_inbox WHERE consumer = $1 AND event_id = $2",
                     {subscription.consumer, envelope.id})
          .has_value();
    });
    if (seen) return false;
    subscription.effect(envelope);
    subscription.database->write([&](db::Transaction& tx) {
      tx.execute(claim_sql, {subscription.consumer, envelope.id, to_unix_ms(std::chrono::system_clock::now())});
    });
    return true;
  }
  return subscription.database->write([&](db::Transaction& tx) {
    const auto claimed =
        tx.execute(claim_sql, {subscription.consumer, envelope.id, to_unix_ms(std::chrono::system_clock::now())});
    if (claimed == 0) return false;
    subscription.handler(envelope, tx);
    return true;
  });
}

void InProcessBus::subscribe(Subscription subscription) {
  subscriptions_.push_back(std::move(subscription));
}

void InProcessBus::publish(const Envelope& envelope) {
  // Every subscriber gets its turn even when one before it fails; the first failure is rethrown
  // at the end, so that the relay retries the event (those that applied it dedupe through their
  // inbox). Effects run on their own (they call providers or other modules, never inside a
  // transaction of ours). Handlers whose database prefers joined writes share one transaction
  // there, each in its own savepoint: one that throws undoes only itself.
  std::exception_ptr failure;
  const auto deliver = [&](const Subscription& subscription) {
    try {
      deliver_once(subscription, envelope);
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<const Subscription*> joined;
  for (const auto& subscription : subscriptions_) {
    if (subscription.event_type != envelope.type) continue;
    if (subscription.handler && subscription.database->prefers_joined_writes()) {
      joined.push_back(&subscription);
    } else {
      deliver(subscription);
    }
  }
  while (!joined.empty()) {
    db::Database& database = *joined.front()->database;
    db::UnitOfWork unit(database);
    std::erase_if(joined, [&](const Subscription* subscription) {
      if (subscription->database != &database) return false;
      deliver(*subscription);
      return true;
    });
    unit.commit([](db::Transaction&) {});
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace deliveryhub::core::events
