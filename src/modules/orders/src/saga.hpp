#pragma once
#include "core/db/database.hpp"
#include "core/events/outbox.hpp"
#include "core/metrics/metrics.hpp"
#include "core/sync/helper_pool.hpp"
#include "core/util/background_loop.hpp"
#include "customers/api.hpp"
#include "delivery/api.hpp"
#include "order_repository.hpp"
#include "orders/api.hpp"
#include "payments/api.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

namespace deliveryhub::orders {

/// The saga step that cancels an order whose delivery was stopped but whose cancel was never
/// recorded (a crash in between, ADR 0020), and how long after the stop it looks.
inline constexpr std::string_view kReconcileCancelStep = "reconcile_cancel";
inline constexpr std::chrono::seconds kCancelRecordGrace{10};

struct SagaOptions {
  std::chrono::milliseconds poll_interval{500};
  std::chrono::milliseconds first_retry{200};
  std::chrono::milliseconds max_retry{30'000};
  /// Sagas of different orders run this many at a time (their writes share group commits).
  std::size_t parallelism = 8;
  /// A runner claims the sagas it runs for this long; another replica's runner takes over a saga
  /// whose claim expired (its runner died). Steps are idempotent, so an overlap only costs work.
  std::chrono::milliseconds claim_lease{15'000};
  /// Called once a saga's end has committed (placement's back-pressure counts it, ADR 0030).
  std::function<void()> on_finished;
};

/// The order saga (ADR 0008), orchestrated here with its state in orders_sagas:
///   authorize (payments) → declined: rejected/payment_declined
///   schedule (delivery)  → zone not served: compensate
///   compensate           → void the authorization, rejected/zone_not_served
///   otherwise            → confirmed.
///   cancel               → (the order was cancelled, at any point) void the authorization or
///                          refund a capture, cancel the delivery; the order stays cancelled.
/// Each step calls another module's api.hpp (idempotent by order id) and then records the
/// outcome, the order's new status and its event in one transaction, so a crash between the two
/// repeats a call that changes nothing. A failed step is retried with backoff; unfinished sagas
/// resume after a restart because the runner reads them from the table.
class OrderSaga {
 public:
  OrderSaga(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
            payments::PaymentsApi& payments, delivery::DeliveryApi& delivery, core::metrics::Metrics& metrics,
            SagaOptions options = {});

  void start();
  void stop();
  /// Wakes the runner (an order was placed).
  void wake();
  /// Runs every due saga to its end or its next retry; returns how many finished. For tests.
  std::size_t run_due();

 private:
  struct BatchItem;
  // Runs the claimed sagas. Where the database prefers joined writes (SQLite), the common path
  // (authorize → schedule → confirmed) goes in phases: each phase's calls outside any
  // transaction, then its records in one transaction; cancellations and the rare steps go one by
  // one with run(). Elsewhere every saga goes through run(), `parallelism` at a time. Returns how
  // many finished.
  std::size_t run_batch(const std::vector<order_repository::SagaRow>& due);
  // Runs `work` on each item, recording what it writes; an item whose work throws gets its error.
  template <class Work>
  void record_all(std::vector<BatchItem*>& items, const Work& work);
  // Records that the saga's `step` failed with `error`; it is due again after a growing backoff.
  void schedule_retry(const order_repository::SagaRow& saga, const std::string& step, const std::string& error);
  // Counts the saga's outcome once `tx` commits.
  void count_after_commit(core::db::Transaction& tx, const Order& order, std::string_view outcome);
  // Runs the saga of `order_id` from its current step; true when it finished.
  bool run(const std::string& order_id);
  // Performs one step; returns the next step, "done" when finished.
  std::string perform(const std::string& order_id, const std::string& step);
  // Voids an authorization or refunds what was captured (idempotent by order id).
  void undo_payment(const payments::Payment& payment);
  // Counts a finished saga by outcome; placement outcomes also observe the time since placing.
  void finished(const Order& order, std::string_view outcome);

  core::db::Database& db_;
  const core::events::Outbox& outbox_;
  const core::Clock& clock_;
  payments::PaymentsApi& payments_;
  delivery::DeliveryApi& delivery_;
  SagaOptions options_;
  std::string runner_id_;  // this process's runner, in the claims it takes
  std::atomic<bool> stopping_{false};
  prometheus::Family<prometheus::Counter>& outcomes_;
  prometheus::Family<prometheus::Histogram>& duration_;
  core::sync::HelperPool helpers_;  // parallelism - 1 threads kept for the batches' calls
  core::BackgroundLoop loop_;       // last: stopped first, before anything it uses goes
};

}  // namespace deliveryhub::orders
