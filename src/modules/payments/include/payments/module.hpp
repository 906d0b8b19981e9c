#pragma once
// For the composition root (src/app) only: other modules use api.hpp.
#include "core/module/module.hpp"
#include "payments/api.hpp"

#include <memory>

namespace deliveryhub::payments {

class PaymentsModule : public core::Module {
 public:
  /// The in-process implementation of the module's API, for modules that depend on it.
  virtual PaymentsApi& api() = 0;
};

/// Builds the module with the built-in simulated payment provider.
std::unique_ptr<PaymentsModule> make_module(core::Platform& platform);

}  // namespace deliveryhub::payments
