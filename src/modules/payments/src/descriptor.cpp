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
      .make = [](core::Platform& platform, core::ApiDirectory& apis) -> std::unique_ptr<core::Module> {
        auto module = make_module(platform);
        apis.provide<PaymentsApi>("payments", module->api());
        return module;
      },
      .provide_remote = [](core::remote::HttpChannel& channel,
                           core::ApiDirectory& apis) { apis.adopt<PaymentsApi>("payments", make_remote_api(channel)); },
  };
  return module;
}

}  // namespace deliveryhub::payments
