#include "saga.hpp"

#include "core/errors.hpp"
#include "core/log/log.hpp"
#include "core/util/ids.hpp"
#include "order_repository.hpp"
#include "order_service.hpp"
#include "orders/events.hpp"

#include <atomic>
#include <utility>

namespace deliveryhub::orders {
namespace {

// Moves the order to `status` and records it with its event; the saga goes to `next_step`.
// Returns the order as recorded (its version follows the update), for a later step of the same
// pass. Changes nothing outside `tx`: a transaction retried after a serialization failure
// (PostgreSQL) runs this again from the same order.
Order record(core::db::Transaction& tx, const core::events::Outbox& outbox, const Order& order, OrderStatus status,
             std::optional<std::string_view> event_type, const std::string& next_step, core::TimePoint now) {
  Order next = order;
  const bool changed = next.status != status;
  next.status = status;
  next.updated_at = now;
  if (!order_repository::update(tx, next, changed)) {
    throw std::runtime_error("order " + next.id + " changed while its saga ran");
  }
  ++next.version;
  if (event_type) outbox.add(tx, std::string(*event_type), next.id, order_event_payload(next));
  if (next_step == "done") {
    order_repository::finish_saga(tx, next.id, now);
  } else {
    order_repository::set_step(tx, next.id, next_step);
  }
  return next;
}

// Runs `work` on each item, up to `parallelism` at once: the calling thread and the pool's helpers.
template <class Item, class Work>
void in_parallel(core::sync::HelperPool& helpers, std::vector<Item*>& items, std::size_t parallelism,
                 const Work& work) {
  helpers.run(items.size(), parallelism, [&](std::size_t i) { work(*items[i]); });
}

}  // namespace

OrderSaga::OrderSaga(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                     payments::PaymentsApi& payments, delivery::DeliveryApi& delivery, core::metrics::Metrics& metrics,
                     SagaOptions options)
    : db_(db),
      outbox_(outbox),
      clock_(clock),
      payments_(payments),
      delivery_(delivery),
      options_(std::move(options)),
      runner_id_(core::new_id("run")),
      outcomes_(prometheus::BuildCounter()
                    .Name("deliveryhub_saga_outcomes_total")
                    .Help("Order sagas finished, by outcome (confirmed, payment_declined, zone_not_served, cancelled, "
                          "cancel_overtaken)")
                    .Register(metrics.registry())),
      duration_(prometheus::BuildHistogram()
                    .Name("deliveryhub_saga_duration_seconds")
                    .Help("From placing an order to its saga's outcome (confirmed or rejected), by outcome")
                    .Register(metrics.registry())),
      helpers_(options_.parallelism > 1 ? options_.parallelism - 1 : 0),
      loop_("saga pass", options.poll_interval, [this] { run_due(); }) {}

void OrderSaga::finished(const Order& order, std::string_view outcome) {
  const std::string label(outcome);
  outcomes_.Add({{"outcome", label}}).Increment();
  if (options_.on_finished) options_.on_finished();
  if (outcome == "cancelled") return;  // a cancellation may come days later: not the saga's speed
  static const prometheus::Histogram::BucketBoundaries buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                               1,     2.5,  5,     10,   30,  60,   300};
  duration_.Add({{"outcome", label}}, buckets)
      .Observe(std::chrono::duration<double>(clock_.now() - order.created_at).count());
}

void OrderSaga::start() {
  stopping_ = false;
  loop_.start();
}

void OrderSaga::stop() {
  stopping_ = true;  // the pass in hand ends after its batch, not after the whole backlog
  loop_.stop();
  stopping_ = false;  // run_due() called directly (tests) goes through everything again
}

void OrderSaga::wake() {
  loop_.wake();
}

std::size_t OrderSaga::run_due() {
  constexpr std::size_t kBatch = 100;
  std::size_t settled = 0;
  for (;;) {
    const auto now = clock_.now();
    const auto due = db_.write([&](core::db::Transaction& tx) {
      return order_repository::claim_due_sagas(tx, runner_id_, now, now + options_.claim_lease, kBatch);
    });
    settled += run_batch(due);
    // A full batch means more may be due: go on now rather than after the poll interval.
    if (due.size() < kBatch || stopping_) return settled;
  }
}

// One claimed saga of a batch, as it moves through the batch's phases.
struct OrderSaga::BatchItem {
  order_repository::SagaRow saga;
  Order order;
  std::string payment_method;
  std::string step;                                    // where the saga stands now
  std::optional<payments::Payment> payment;            // the authorize phase's answer
  std::optional<delivery::ScheduleOutcome> scheduled;  // the schedule phase's answer
  std::string error;                                   // a failed call or record: retried later
  bool alone = false;                                  // runs one by one after the phases (rare steps)
};

std::size_t OrderSaga::run_batch(const std::vector<order_repository::SagaRow>& due) {
  if (due.empty()) return 0;
  if (!db_.prefers_joined_writes()) {
    // Records would not share a transaction, so phases would only add waits: each phase would
    // last as long as its slowest order (a serialization retry backs off for up to 200 ms on
    // PostgreSQL). Each order's saga runs through on its own, `parallelism` at a time.
    std::vector<const order_repository::SagaRow*> sagas;
    sagas.reserve(due.size());
    for (const auto& saga : due) sagas.push_back(&saga);
    std::atomic<std::size_t> done{0};
    in_parallel(helpers_, sagas, options_.parallelism, [&](const order_repository::SagaRow& saga) {
      if (run(saga.order_id)) ++done;
    });
    return done;
  }
  // The orders of the whole batch, read in one transaction.
  std::vector<BatchItem> items;
  items.reserve(due.size());
  db_.read([&](core::db::Transaction& tx) {
    for (const auto& saga : due) {
      auto order = order_repository::find(tx, saga.order_id);
      if (!order) continue;
      BatchItem item;
      item.saga = saga;
      item.order = std::move(*order);
      item.payment_method = order_repository::payment_method_of(tx, saga.order_id);
      item.step = saga.step;
      // A cancelled order, and the rare steps, take the one-by-one path (perform()).
      item.alone = (item.step != "authorize" && item.step != "schedule") || item.order.status == OrderStatus::cancelled;
      items.push_back(std::move(item));
    }
  });
  const auto select = [&](std::string_view step) {
    std::vector<BatchItem*> selected;
    for (auto& item : items) {
      if (!item.alone && item.error.empty() && item.step == step) selected.push_back(&item);
    }
    return selected;
  };
  const auto failed = [](BatchItem& item, const std::exception& e) { item.error = e.what(); };
  std::size_t settled = 0;

  // Authorize: every call (outside any transaction), then every record.
  auto authorizing = select("authorize");
  in_parallel(helpers_, authorizing, options_.parallelism, [&](BatchItem& item) {
    core::log::ScopedContext context({item.order.id, item.saga.trace_id, {}});
    try {
      const auto& o = item.order;
      item.payment = payments_.authorize({o.id, o.customer_id, o.total, o.currency, item.payment_method});
    } catch (const std::exception& e) {
      failed(item, e);
    }
  });
  // Records an item's next step (the order in `status`), or its end with its event and outcome.
  const auto move_on = [&](BatchItem& item, OrderStatus status, const std::string& next_step) {
    item.order = db_.write([&](core::db::Transaction& tx) {
      return record(tx, outbox_, item.order, status, std::nullopt, next_step, clock_.now());
    });
    item.step = next_step;
  };
  const auto finish = [&](BatchItem& item, OrderStatus status, std::string_view event, std::string_view outcome) {
    item.order = db_.write([&](core::db::Transaction& tx) {
      auto next = record(tx, outbox_, item.order, status, event, "done", clock_.now());
      count_after_commit(tx, next, outcome);
      return next;
    });
    item.step = "done";
    ++settled;
  };
  record_all(authorizing, [&](BatchItem& item) {
    if (!item.error.empty()) return;
    item.order.payment_id = item.payment->id;
    if (item.payment->status == payments::PaymentStatus::declined) {
      item.order.rejection_reason = "payment_declined";
      finish(item, OrderStatus::rejected, events::kOrderRejected, "payment_declined");
    } else {
      move_on(item, OrderStatus::payment_authorized, "schedule");
    }
  });

  // Schedule: every call, then every record.
  auto scheduling = select("schedule");
  in_parallel(helpers_, scheduling, options_.parallelism, [&](BatchItem& item) {
    core::log::ScopedContext context({item.order.id, item.saga.trace_id, {}});
    try {
      const auto& o = item.order;
      item.scheduled = delivery_.schedule(
          {o.id, o.customer_id, {o.address.line1, o.address.city, o.address.postal_code, o.address.country}});
    } catch (const std::exception& e) {
      failed(item, e);
    }
  });
  record_all(scheduling, [&](BatchItem& item) {
    if (!item.error.empty()) return;
    if (!item.scheduled->zone_served) {
      move_on(item, item.order.status, "compensate");
      item.alone = true;  // compensation runs one by one, below
      return;
    }
    item.order.delivery_id = item.scheduled->delivery->id;
    finish(item, OrderStatus::confirmed, events::kOrderConfirmed, "confirmed");
  });

  // Failures wait for their retry; the rare steps run one by one, as ever.
  std::vector<BatchItem*> retrying;
  std::vector<BatchItem*> alone;
  for (auto& item : items) {
    if (!item.error.empty()) {
      retrying.push_back(&item);
    } else if (item.alone && item.step != "done") {
      alone.push_back(&item);
    }
  }
  record_all(retrying, [&](BatchItem& item) {
    try {
      schedule_retry(item.saga, item.step, item.error);
    } catch (const std::exception& e) {  // the claim expires, and the saga is taken up again then
      core::log::error("could not record a saga retry", {{"order_id", item.order.id}, {"error", e.what()}});
    }
  });
  std::atomic<std::size_t> alone_finished{0};
  in_parallel(helpers_, alone, options_.parallelism, [&](BatchItem& item) {
    if (run(item.order.id)) ++alone_finished;
  });
  return settled + alone_finished;
}

template <class Work>
void OrderSaga::record_all(std::vector<BatchItem*>& items, const Work& work) {
  const auto guarded = [&](BatchItem& item) {
    core::log::ScopedContext context({item.order.id, item.saga.trace_id, {}});
    try {
      work(item);
    } catch (const std::exception& e) {  // this item's writes are undone (its savepoint, or its transaction)
      item.error = e.what();
    }
  };
  if (items.empty()) return;
  if (!db_.prefers_joined_writes()) {
    in_parallel(helpers_, items, options_.parallelism, guarded);
    return;
  }
  // One transaction for the whole phase, a savepoint per write (ADR 0027).
  try {
    core::db::UnitOfWork unit(db_);
    for (auto* item : items) guarded(*item);
    unit.commit([](core::db::Transaction&) {});
  } catch (const std::exception& e) {  // nothing of the phase was recorded: all of it is retried
    core::log::warn("saga batch could not record its phase; will retry", {{"error", e.what()}});
    for (auto* item : items) {
      if (item->error.empty()) item->error = e.what();
    }
  }
}

void OrderSaga::schedule_retry(const order_repository::SagaRow& saga, const std::string& step,
                               const std::string& error) {
  const auto attempts = saga.attempts + 1;
  const auto backoff = std::min<std::int64_t>(options_.max_retry.count(),
                                              options_.first_retry.count() << std::min<std::int64_t>(attempts - 1, 20));
  core::log::warn("saga step failed; will retry",
                  {{"order_id", saga.order_id}, {"step", step}, {"attempts", attempts}, {"error", error}});
  db_.write([&](core::db::Transaction& tx) {
    order_repository::retry_saga(tx, saga.order_id, attempts, clock_.now() + std::chrono::milliseconds(backoff), error);
  });
}

void OrderSaga::count_after_commit(core::db::Transaction& tx, const Order& order, std::string_view outcome) {
  tx.after_commit([this, order, label = std::string(outcome)] { finished(order, label); });
}

bool OrderSaga::run(const std::string& order_id) {
  auto saga = db_.read_statement([&](core::db::Transaction& tx) { return order_repository::find_saga(tx, order_id); });
  if (!saga) return false;
  // Its log lines, and the events its steps write, carry the trace of the request behind it.
  core::log::ScopedContext context({order_id, saga->trace_id, {}});
  std::string step = saga->step;
  try {
    while (step != "done") step = perform(order_id, step);
    return true;
  } catch (const std::exception& e) {
    schedule_retry(*saga, step, e.what());  // every step is safe to repeat
    return false;
  }
}

void OrderSaga::undo_payment(const payments::Payment& payment) {
  using payments::PaymentStatus;
  if (payment.status == PaymentStatus::authorized) {
    payments_.void_authorization(payment.order_id);
  } else if (payment.status == PaymentStatus::captured || payment.status == PaymentStatus::partially_refunded) {
    // Captured because the delivery completed while the cancellation ran: give it all back.
    payments_.refund(payment.order_id, payment.captured_amount - payment.refunded_amount, "order cancelled",
                     "cancel:" + payment.order_id);
  }
}

std::string OrderSaga::perform(const std::string& order_id, const std::string& step) {
  // Plain variables, not a structured binding: clang 14 cannot capture those in lambdas.
  Order order;
  std::string payment_method;
  db_.read([&](core::db::Transaction& tx) {
    order = *order_repository::find(tx, order_id);
    payment_method = order_repository::payment_method_of(tx, order_id);
  });
  if (order.status == OrderStatus::cancelled && step != "cancel") {
    return "cancel";  // cancelled while this step waited: the stored step is `cancel` already
  }
  if (step == "authorize") {
    const auto payment =
        payments_.authorize({order.id, order.customer_id, order.total, order.currency, payment_method});
    order.payment_id = payment.id;
    if (payment.status == payments::PaymentStatus::declined) {
      order.rejection_reason = "payment_declined";
      db_.write([&](core::db::Transaction& tx) {
        record(tx, outbox_, order, OrderStatus::rejected, events::kOrderRejected, "done", clock_.now());
      });
      finished(order, "payment_declined");
      return "done";
    }
    db_.write([&](core::db::Transaction& tx) {
      record(tx, outbox_, order, OrderStatus::payment_authorized, std::nullopt, "schedule", clock_.now());
    });
    return "schedule";
  }
  if (step == "schedule") {
    const auto outcome = delivery_.schedule(
        {order.id,
         order.customer_id,
         {order.address.line1, order.address.city, order.address.postal_code, order.address.country}});
    if (!outcome.zone_served) {
      db_.write([&](core::db::Transaction& tx) {
        record(tx, outbox_, order, order.status, std::nullopt, "compensate", clock_.now());
      });
      return "compensate";
    }
    order.delivery_id = outcome.delivery->id;
    db_.write([&](core::db::Transaction& tx) {
      record(tx, outbox_, order, OrderStatus::confirmed, events::kOrderConfirmed, "done", clock_.now());
    });
    finished(order, "confirmed");
    return "done";
  }
  if (step == "compensate") {
    payments_.void_authorization(order.id);
    order.rejection_reason = "zone_not_served";
    db_.write([&](core::db::Transaction& tx) {
      record(tx, outbox_, order, OrderStatus::rejected, events::kOrderRejected, "done", clock_.now());
    });
    finished(order, "zone_not_served");
    return "done";
  }
  if (step == kReconcileCancelStep) {
    const auto delivery = delivery_.find_by_order(order.id);
    const bool stopped = delivery && delivery->status == delivery::DeliveryStatus::cancelled &&
                         (!order.delivery_id || *order.delivery_id == delivery->id);
    if (!stopped || (order.status != OrderStatus::confirmed && order.status != OrderStatus::dispatched)) {
      db_.write([&](core::db::Transaction& tx) {
        record(tx, outbox_, order, order.status, std::nullopt, "done", clock_.now());
      });
      return "done";
    }
    core::log::warn("the order's delivery was stopped but its cancel never recorded; cancelling it now",
                    {{"order_id", order.id}, {"delivery_id", delivery->id}});
    db_.write([&](core::db::Transaction& tx) {
      record(tx, outbox_, order, OrderStatus::cancelled, events::kOrderCancelled, "cancel", clock_.now());
    });
    return "cancel";
  }
  if (step == "cancel") {
    // The delivery first, then the money: once the delivery is stopped no courier can complete
    // it, so releasing the payment can no longer give goods away (ADR 0020).
    try {
      if (auto delivery = delivery_.cancel(order.id, delivery::StopRule::before_completion)) {
        order.delivery_id = delivery->id;
      }
    } catch (const core::Error& e) {
      if (e.kind() != core::ErrorKind::conflict) throw;
      const auto delivery = delivery_.find_by_order(order.id);
      if (!delivery) throw;
      if (delivery->status == delivery::DeliveryStatus::delivered) {
        // Delivered before the cancellation could stop it (its delivery was scheduled while the
        // cancel was accepted): the customer has the goods, so the order is delivered and
        // charged (payments captures on delivery.completed); nothing is released.
        core::log::warn("cancellation overtaken by the delivery; the order is delivered and charged",
                        {{"order_id", order.id}, {"delivery_id", delivery->id}});
        order.delivery_id = delivery->id;
        db_.write([&](core::db::Transaction& tx) {
          record(tx, outbox_, order, OrderStatus::delivered, events::kOrderDelivered, "done", clock_.now());
        });
        finished(order, "cancel_overtaken");
        return "done";
      }
      if (delivery->status != delivery::DeliveryStatus::failed) throw;  // changed meanwhile: retry
      // Failed: nothing reached the customer; the money is released below.
    }
    if (auto payment = payments_.find_by_order(order.id)) {
      order.payment_id = payment->id;
      undo_payment(*payment);
    }
    db_.write([&](core::db::Transaction& tx) {
      record(tx, outbox_, order, order.status, std::nullopt, "done", clock_.now());
    });
    finished(order, "cancelled");
    return "done";
  }
  throw std::runtime_error("unknown saga step '" + step + "'");
}

}  // namespace deliveryhub::orders
