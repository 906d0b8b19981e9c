#pragma once
// For the composition root (src/app) only: other modules use api.hpp.
#include "core/module/descriptor.hpp"
#include "customers/api.hpp"

#include <memory>

namespace deliveryhub::core::remote {
class HttpChannel;
}

namespace deliveryhub::customers {

/// The module's declaration (ADR 0024): what the composition root builds and `modules --json` prints.
const core::ModuleDescriptor& descriptor();

/// The customers module: its routes, tables, events, the OAuth token endpoint and the JWKS.
class CustomersModule : public core::Module {
 public:
  /// The in-process implementation of the module's API, for modules that depend on it.
  virtual CustomersApi& api() = 0;
};

/// Builds the module. Reads the signing key, machine clients and bootstrap operator from the
/// settings and environment; throws std::runtime_error with a clear reason when they are invalid.
std::unique_ptr<CustomersModule> make_module(core::Platform& platform);

/// CustomersApi served by a customers process elsewhere, reached through `channel` (ADR 0014).
std::unique_ptr<CustomersApi> make_remote_api(core::remote::HttpChannel& channel);

/// Background work that keeps platform.tokens refusing suspended accounts' tokens: start() looks
/// once (a failure is logged), then every 5 s until stop().
class SuspensionWatch : public core::BackgroundWork {};

/// For a process that checks tokens without running customers: learns of suspensions from
/// `customers` (the remote API) every 5 s, so that they end access here too (ADR 0021).
std::unique_ptr<SuspensionWatch> make_suspension_watch(CustomersApi& customers, core::Platform& platform);

}  // namespace deliveryhub::customers
