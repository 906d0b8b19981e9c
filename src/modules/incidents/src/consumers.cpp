#include "consumers.hpp"

#include "delivery/events.hpp"
#include "incidents/events.hpp"

namespace deliveryhub::incidents {

void subscribe_consumers(core::events::EventBus& bus, core::db::Database& db, IncidentService& incidents) {
  bus.subscribe({std::string(delivery::events::kDeliveryFailed),
                 "incidents.not-delivered",
                 "incidents",
                 &db,
                 [&incidents](const core::events::Envelope& event, core::db::Transaction& tx) {
                   incidents.on_delivery_failed(tx, event);
                 },
                 {}});
  for (const auto type : {delivery::events::kDeliveryScheduled, delivery::events::kDeliveryCompleted,
                          delivery::events::kDeliveryCancelled}) {
    bus.subscribe({std::string(type),
                   "incidents.late-watch",
                   "incidents",
                   &db,
                   [&incidents](const core::events::Envelope& event, core::db::Transaction& tx) {
                     incidents.on_delivery_event(tx, event);
                   },
                   {}});
  }
  bus.subscribe({std::string(events::kIncidentResolved),
                 "incidents.apply-resolution",
                 "incidents",
                 &db,
                 {},
                 [&incidents](const core::events::Envelope& event) { incidents.apply_resolution(event); }});
}

}  // namespace deliveryhub::incidents
