#pragma once
// For the composition root (src/app) only: other modules use api.hpp.
#include "core/module/descriptor.hpp"
#include "payments/api.hpp"

#include <memory>

namespace deliveryhub::core::remote {
class HttpChannel;
}

namespace deliveryhub::payments {

/// The module's declaration (ADR 0024): what the composition root builds and `modules --json` prints.
const core::ModuleDescriptor& descriptor();

class PaymentsModule : public core::Module {
 public:
  /// The in-process implementation of the module's API, for modules that depend on it.
  virtual PaymentsApi& api() = 0;
};

/// Builds the module with the built-in simulated payment provider.
std::unique_ptr<PaymentsModule> make_module(core::Platform& platform);

/// PaymentsApi served by a payments process elsewhere, reached through `channel` (ADR 0014).
std::unique_ptr<PaymentsApi> make_remote_api(core::remote::HttpChannel& channel);

}  // namespace deliveryhub::payments
