// The incidents module declares itself (ADR 0024).
#include "delivery/api.hpp"
#include "delivery/events.hpp"
#include "incidents/events.hpp"
#include "incidents/module.hpp"
#include "orders/api.hpp"
#include "payments/api.hpp"
#include "settings.hpp"

namespace deliveryhub::incidents {

const core::ModuleDescriptor& descriptor() {
  using Kind = core::config::ModuleSetting::Kind;
  static const core::ModuleDescriptor module{
      .name = "incidents",
      .summary = "Complaints about orders and their resolution: refunds and redeliveries",
      .calls = {"orders", "payments", "delivery"},
      .publishes = {events::kIncidentOpened, events::kIncidentResolved, events::kIncidentRejected},
      .consumes = {delivery::events::kDeliveryScheduled, delivery::events::kDeliveryCompleted,
                   delivery::events::kDeliveryFailed, delivery::events::kDeliveryCancelled, events::kIncidentResolved},
      .routes = {"/api/v1/incidents"},
      .settings = {{settings::kLateCheckInterval, "DELIVERYHUB_LATE_CHECK_INTERVAL", Kind::seconds,
                    "Seconds between checks for deliveries past their promise", 30, 1, 3600}},
      .make = [](core::Platform& platform, core::ApiDirectory& apis) -> std::unique_ptr<core::Module> {
        return make_module(platform, apis.get<orders::OrdersApi>("orders"), apis.get<payments::PaymentsApi>("payments"),
                           apis.get<delivery::DeliveryApi>("delivery"));
      },
  };
  return module;
}

}  // namespace deliveryhub::incidents
