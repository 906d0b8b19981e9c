#pragma once
#include "core/config/settings.hpp"
#include "module_registry.hpp"

#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::app {

/// A start-up problem the operator must fix (bad flag value, unknown module): exit code 2.
class ConfigurationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Resolves --modules ("all" or names) against `known` (the registry by default), checking that
/// each selected module's calls are local or given by --remote. Returns them in `known` order.
/// Throws ConfigurationError naming the valid modules or the missing --remote flag.
std::vector<std::string> select_modules(const core::config::Settings& settings, const Registry& known = registry());

/// Runs `deliveryhub serve` or `deliveryhub migrate` until done (serve: until SIGTERM/SIGINT).
/// Returns the process exit code. Expects SIGTERM and SIGINT to be blocked in every thread.
int run(const core::config::Settings& settings);

/// `deliveryhub modules [--json]`: the registry's module names, or its graph, on `out`.
int print_modules(const core::config::Settings& settings, std::ostream& out);

/// docs/openapi.yaml as built into the binary.
std::string_view openapi_document();

}  // namespace deliveryhub::app
