#pragma once
// For the composition root (src/app) only: other modules use api.hpp.
#include "core/module/descriptor.hpp"
#include "delivery/api.hpp"
#include "incidents/api.hpp"
#include "orders/api.hpp"
#include "payments/api.hpp"

#include <memory>

namespace deliveryhub::incidents {

/// The module's declaration (ADR 0024): what the composition root builds and `modules --json` prints.
const core::ModuleDescriptor& descriptor();

class IncidentsModule : public core::Module {
 public:
  virtual IncidentsApi& api() = 0;
};

/// Builds the module: `orders` tells whose order it is, `payments` refunds, `delivery` redelivers.
std::unique_ptr<IncidentsModule> make_module(core::Platform& platform, orders::OrdersApi& orders,
                                             payments::PaymentsApi& payments, delivery::DeliveryApi& delivery);

}  // namespace deliveryhub::incidents
