#pragma once
#include "core/db/database.hpp"
#include "core/events/bus.hpp"
#include "core/events/outbox.hpp"

namespace deliveryhub::orders {

/// Follows the delivery of each order (docs/product.md, "Event flows"):
/// delivery.picked_up → dispatched, delivery.completed → delivered,
/// delivery.failed → delivery_failed, and a redelivery's delivery.scheduled takes a
/// delivery_failed order back to confirmed; each with its order.* event, in the inbox's transaction.
void subscribe_to_delivery(core::events::EventBus& bus, core::db::Database& db, const core::events::Outbox& outbox,
                           const core::Clock& clock);

/// delivery.cancelled for an order not yet cancelled → the saga's reconcile step, after a grace
/// period (a crash between a stopped delivery and its recorded cancel, ADR 0020).
void subscribe_to_delivery_stops(core::events::EventBus& bus, core::db::Database& db, const core::Clock& clock);

/// payment.refunded → the order's refunded_amount (incident.resolved with a refund, operators,
/// cancellation: every refund passes through payments).
void subscribe_to_payments(core::events::EventBus& bus, core::db::Database& db, const core::Clock& clock);

}  // namespace deliveryhub::orders
