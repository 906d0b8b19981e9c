#pragma once
// For the composition root (src/app) only: other modules use api.hpp.
#include "core/module/descriptor.hpp"
#include "customers/api.hpp"
#include "delivery/api.hpp"

#include <memory>

namespace deliveryhub::core::remote {
class HttpChannel;
}

namespace deliveryhub::delivery {

/// The module's declaration (ADR 0024): what the composition root builds and `modules --json` prints.
const core::ModuleDescriptor& descriptor();

class DeliveryModule : public core::Module {
 public:
  virtual DeliveryApi& api() = 0;
};

/// Builds the module; `customers` creates the couriers' accounts.
std::unique_ptr<DeliveryModule> make_module(core::Platform& platform, customers::CustomersApi& customers);

/// DeliveryApi served by a delivery process elsewhere, reached through `channel` (ADR 0014).
std::unique_ptr<DeliveryApi> make_remote_api(core::remote::HttpChannel& channel);

}  // namespace deliveryhub::delivery
