// The orders module declares itself (ADR 0024).
#include "customers/api.hpp"
#include "delivery/api.hpp"
#include "delivery/events.hpp"
#include "orders/events.hpp"
#include "orders/module.hpp"
#include "payments/api.hpp"
#include "payments/events.hpp"
#include "settings.hpp"

namespace deliveryhub::orders {

const core::ModuleDescriptor& descriptor() {
  using Kind = core::config::ModuleSetting::Kind;
  static const core::ModuleDescriptor module{
      .name = "orders",
      .summary = "The catalog, orders and the order saga that pays for and dispatches each one",
      .calls = {"customers", "payments", "delivery"},
      .publishes = {events::kOrderPlaced, events::kOrderConfirmed, events::kOrderRejected, events::kOrderCancelled,
                    events::kOrderDispatched, events::kOrderDelivered, events::kOrderDeliveryFailed},
      .consumes = {delivery::events::kDeliveryScheduled, delivery::events::kDeliveryPickedUp,
                   delivery::events::kDeliveryCompleted, delivery::events::kDeliveryFailed,
                   delivery::events::kDeliveryCancelled, payments::events::kPaymentRefunded},
      .routes = {"/api/v1/catalog", "/api/v1/orders"},
      .settings = {{settings::kMaxSagaBacklog, "DELIVERYHUB_MAX_SAGA_BACKLOG", Kind::count,
                    "Unfinished order sagas (all replicas) beyond which placing an order answers 503 with "
                    "Retry-After: 2 (0: no limit)",
                    10'000, 0, 100'000'000}},
      .make =
          [](core::Platform& platform, core::ApiDirectory& apis) {
            return core::provided<OrdersApi>(
                apis, "orders",
                make_module(platform, apis.get<customers::CustomersApi>("customers"),
                            apis.get<payments::PaymentsApi>("payments"), apis.get<delivery::DeliveryApi>("delivery")));
          },
      .provide_remote = core::remote_client<OrdersApi>("orders", &make_remote_api),
  };
  return module;
}

}  // namespace deliveryhub::orders
