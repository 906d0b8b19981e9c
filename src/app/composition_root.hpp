#pragma once
#include "core/config/settings.hpp"

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

/// The modules this binary knows, in start-up order, with the modules each one calls.
struct ModuleInfo {
  std::string_view name;
  std::vector<std::string_view> dependencies;
};
const std::vector<ModuleInfo>& known_modules();

/// Resolves --modules ("all" or names) against `known` (known_modules() by default), checking
/// that each selected module's dependencies are local or given by --remote. Returns them in
/// `known` order. Throws ConfigurationError naming the valid modules or the missing --remote flag.
std::vector<std::string> select_modules(const core::config::Settings& settings,
                                        const std::vector<ModuleInfo>& known = known_modules());

/// Runs `deliveryhub serve` or `deliveryhub migrate` until done (serve: until SIGTERM/SIGINT).
/// Returns the process exit code. Expects SIGTERM and SIGINT to be blocked in every thread.
int run(const core::config::Settings& settings);

/// docs/openapi.yaml as built into the binary.
std::string_view openapi_document();

}  // namespace deliveryhub::app
