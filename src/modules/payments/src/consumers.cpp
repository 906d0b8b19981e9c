#include "consumers.hpp"

#include "core/errors.hpp"
#include "core/log/log.hpp"
#include "delivery/events.hpp"

namespace deliveryhub::payments {
namespace {

// Runs `action`; a conflict or a missing payment means the event does not apply: log, go on.
void applying(const core::events::Envelope& event, const std::function<void()>& action) {
  try {
    action();
  } catch (const core::Error& e) {
    if (e.kind() != core::ErrorKind::conflict && e.kind() != core::ErrorKind::not_found) throw;
    core::log::info("delivery event does not apply to the payment",
                    {{"order_id", event.aggregate_id}, {"event_type", event.type}, {"reason", e.detail()}});
  }
}

}  // namespace

void subscribe_to_delivery(core::events::EventBus& bus, core::db::Database& db, PaymentsService& payments) {
  bus.subscribe({std::string(delivery::events::kDeliveryCompleted),
                 "payments.capture",
                 "payments",
                 &db,
                 {},
                 [&payments](const core::events::Envelope& event) {
                   applying(event, [&] { payments.capture(event.aggregate_id); });
                 }});
  bus.subscribe({std::string(delivery::events::kDeliveryScheduled),
                 "payments.authorize-again",
                 "payments",
                 &db,
                 {},
                 [&payments](const core::events::Envelope& event) {
                   applying(event, [&] { payments.authorize_again(event.aggregate_id); });
                 },
                 // Only a redelivery renews a voided authorization: a first delivery scheduled
                 // for an order cancelled meanwhile must not (and costs this consumer nothing).
                 [](const core::events::Envelope& event) { return event.payload.value("redelivery", false); }});
  bus.subscribe({std::string(delivery::events::kDeliveryFailed),
                 "payments.void",
                 "payments",
                 &db,
                 {},
                 [&payments](const core::events::Envelope& event) {
                   applying(event, [&] { payments.void_authorization(event.aggregate_id); });
                 }});
}

}  // namespace deliveryhub::payments
