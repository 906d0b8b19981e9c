#pragma once
// For the composition root (src/app) only: other modules use api.hpp.
#include "core/module/descriptor.hpp"
#include "customers/api.hpp"
#include "delivery/api.hpp"
#include "orders/api.hpp"
#include "payments/api.hpp"

#include <memory>

namespace deliveryhub::core::remote {
class HttpChannel;
}

namespace deliveryhub::orders {

/// The module's declaration (ADR 0024): what the composition root builds and `modules --json` prints.
const core::ModuleDescriptor& descriptor();

class OrdersModule : public core::Module {
 public:
  /// The in-process implementation of the module's API, for modules that depend on it.
  virtual OrdersApi& api() = 0;
};

/// Builds the module with the APIs of the modules the order saga calls (local or remote).
std::unique_ptr<OrdersModule> make_module(core::Platform& platform, customers::CustomersApi& customers,
                                          payments::PaymentsApi& payments, delivery::DeliveryApi& delivery);

/// OrdersApi served by an orders process elsewhere, reached through `channel` (ADR 0014).
std::unique_ptr<OrdersApi> make_remote_api(core::remote::HttpChannel& channel);

}  // namespace deliveryhub::orders
