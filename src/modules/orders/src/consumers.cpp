#include "consumers.hpp"

#include "core/log/log.hpp"
#include "delivery/events.hpp"
#include "order_repository.hpp"
#include "order_service.hpp"
#include "orders/events.hpp"
#include "payments/events.hpp"
#include "saga.hpp"

#include <algorithm>

namespace deliveryhub::orders {
namespace {

struct Transition {
  std::string_view event_type;
  OrderStatus to;
  std::vector<OrderStatus> from;
  std::string_view order_event;
  bool adopts_delivery = false;  // the event's delivery becomes the order's (a redelivery)
};

const std::vector<Transition>& transitions() {
  static const std::vector<Transition> table = {
      // A redelivery (an incident's resolution) after a failed one: the order is on again.
      {delivery::events::kDeliveryScheduled,
       OrderStatus::confirmed,
       {OrderStatus::delivery_failed},
       events::kOrderConfirmed,
       true},
      {delivery::events::kDeliveryPickedUp,
       OrderStatus::dispatched,
       {OrderStatus::confirmed},
       events::kOrderDispatched},
      {delivery::events::kDeliveryCompleted,
       OrderStatus::delivered,
       {OrderStatus::confirmed, OrderStatus::dispatched},
       events::kOrderDelivered},
      {delivery::events::kDeliveryFailed,
       OrderStatus::delivery_failed,
       {OrderStatus::confirmed, OrderStatus::dispatched},
       events::kOrderDeliveryFailed},
  };
  return table;
}

}  // namespace

void subscribe_to_delivery(core::events::EventBus& bus, core::db::Database& db, const core::events::Outbox& outbox,
                           const core::Clock& clock) {
  for (const auto& transition : transitions()) {
    bus.subscribe({std::string(transition.event_type),
                   "orders.delivery-status",
                   "orders",
                   &db,
                   [&outbox, &clock, &transition](const core::events::Envelope& event, core::db::Transaction& tx) {
                     auto order = order_repository::find(tx, event.aggregate_id);
                     if (!order) {
                       core::log::warn("delivery event for an unknown order", {{"order_id", event.aggregate_id}});
                       return;
                     }
                     if (transition.adopts_delivery && !event.payload.value("redelivery", false)) return;
                     if (order->status == OrderStatus::pending || order->status == OrderStatus::payment_authorized) {
                       // The courier is faster than the saga's record of the schedule step: try again
                       // later (the relay retries), rather than drop the event.
                       throw std::runtime_error("the order's saga has not recorded its delivery yet");
                     }
                     const auto& from = transition.from;
                     if (std::find(from.begin(), from.end(), order->status) == from.end()) {
                       // E.g. a cancelled order whose courier still reports: nothing to change.
                       core::log::info(
                           "delivery event does not apply to the order's status",
                           {{"order_id", order->id}, {"status", to_string(order->status)}, {"event_type", event.type}});
                       return;
                     }
                     order->status = transition.to;
                     if (transition.adopts_delivery) {
                       order->delivery_id = event.payload.value("delivery_id", std::string());
                     }
                     order->updated_at = clock.now();
                     if (!order_repository::update(tx, *order, true)) {
                       throw std::runtime_error("order changed concurrently; the event will be retried");
                     }
                     outbox.add(tx, std::string(transition.order_event), order->id, order_event_payload(*order));
                   },
                   {}});
  }
}

void subscribe_to_delivery_stops(core::events::EventBus& bus, core::db::Database& db, const core::Clock& clock) {
  // Only a cancellation that orders accepted stops a delivery, and orders records it right after
  // the stop (ADR 0020). This repairs a crash between the two: the saga looks again after a
  // grace period — long enough for the request that stopped the delivery to have recorded its
  // cancel, or given up — and cancels the order then if nobody did.
  bus.subscribe({std::string(delivery::events::kDeliveryCancelled),
                 "orders.delivery-stopped",
                 "orders",
                 &db,
                 [&clock](const core::events::Envelope& event, core::db::Transaction& tx) {
                   const auto order = order_repository::find(tx, event.aggregate_id);
                   if (!order ||
                       (order->status != OrderStatus::confirmed && order->status != OrderStatus::dispatched)) {
                     return;  // cancelled already (the common case), or no delivery of its own to stop
                   }
                   order_repository::redirect_saga(tx, order->id, std::string(kReconcileCancelStep),
                                                   clock.now() + kCancelRecordGrace, core::log::current().trace_id);
                 },
                 {}});
}

void subscribe_to_payments(core::events::EventBus& bus, core::db::Database& db, const core::Clock& clock) {
  bus.subscribe({std::string(payments::events::kPaymentRefunded),
                 "orders.record-refund",
                 "orders",
                 &db,
                 [&clock](const core::events::Envelope& event, core::db::Transaction& tx) {
                   const auto amount = event.payload.value("amount", std::int64_t{0});
                   order_repository::add_refund(tx, event.aggregate_id, amount, clock.now());
                 },
                 {}});
}

}  // namespace deliveryhub::orders
