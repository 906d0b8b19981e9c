// The payments module declares itself (ADR 0024).
#include "delivery/events.hpp"
#include "payments/events.hpp"
#include "payments/module.hpp"

namespace deliveryhub::payments {

const core::ModuleDescriptor& descriptor() {
  static const core::ModuleDescriptor module{
      .name = "payments",
      .summary = "Authorizations, captures, voids and refunds through the payment provider",
      .calls = {},
      .publishes = {events::kPaymentAuthorized, events::kPaymentDeclined, events::kPaymentCaptured,
                    events::kPaymentVoided, events::kPaymentRefunded},
      .consumes = {delivery::events::kDeliveryScheduled, delivery::events::kDeliveryCompleted,
                   delivery::events::kDeliveryFailed},
      .routes = {"/api/v1/payments"},
      .make =
          [](core::Platform& platform, core::ApiDirectory& apis) {
            return core::provided<PaymentsApi>(apis, "payments", make_module(platform));
          },
      .provide_remote = core::remote_client<PaymentsApi>("payments", &make_remote_api),
  };
  return module;
}

}  // namespace deliveryhub::payments
