#pragma once
// For the composition root (src/app) only: other modules use api.hpp.
#include "core/module/module.hpp"
#include "customers/api.hpp"
#include "orders/api.hpp"

#include <memory>

namespace deliveryhub::orders {

class OrdersModule : public core::Module {
 public:
  /// The in-process implementation of the module's API, for modules that depend on it.
  virtual OrdersApi& api() = 0;
};

/// Builds the module; `customers` is the customers module's API, local or remote.
std::unique_ptr<OrdersModule> make_module(core::Platform& platform, customers::CustomersApi& customers);

}  // namespace deliveryhub::orders
