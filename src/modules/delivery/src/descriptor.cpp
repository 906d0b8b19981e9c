// The delivery module declares itself (ADR 0024).
#include "customers/api.hpp"
#include "delivery/events.hpp"
#include "delivery/module.hpp"
#include "settings.hpp"

namespace deliveryhub::delivery {

const core::ModuleDescriptor& descriptor() {
  using Kind = core::config::ModuleSetting::Kind;
  static const core::ModuleDescriptor module{
      .name = "delivery",
      .summary = "Zones, couriers, dispatch and the life of each delivery",
      .calls = {"customers"},
      .publishes = {events::kDeliveryScheduled, events::kDeliveryAssigned, events::kDeliveryPickedUp,
                    events::kDeliveryCompleted, events::kDeliveryFailed, events::kDeliveryCancelled},
      .consumes = {},
      .routes = {"/api/v1/zones", "/api/v1/couriers", "/api/v1/deliveries"},
      .settings = {{settings::kDeliveryPromise, "DELIVERYHUB_DELIVERY_PROMISE", Kind::seconds,
                    "Seconds from scheduling to a delivery's promised_by", 45 * 60, 1, 7 * 86400}},
      .make =
          [](core::Platform& platform, core::ApiDirectory& apis) {
            return core::provided<DeliveryApi>(apis, "delivery",
                                               make_module(platform, apis.get<customers::CustomersApi>("customers")));
          },
      .provide_remote = core::remote_client<DeliveryApi>("delivery", &make_remote_api),
  };
  return module;
}

}  // namespace deliveryhub::delivery
