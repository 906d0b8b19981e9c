#pragma once
#include "core/db/database.hpp"
#include "core/events/bus.hpp"
#include "service.hpp"

namespace deliveryhub::payments {

/// delivery.completed → capture; delivery.failed → void the authorization (docs/product.md,
/// "Event flows"). Provider calls cannot run inside a transaction, so these are idempotent effects
/// (by order id) recorded in the inbox after they succeed. A payment that is no longer in a
/// state the event applies to (e.g. voided by a cancellation) is logged and left alone.
void subscribe_to_delivery(core::events::EventBus& bus, core::db::Database& db, PaymentsService& payments);

}  // namespace deliveryhub::payments
