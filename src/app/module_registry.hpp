#pragma once
// The modules this binary knows, from their own descriptors (ADR 0024).
#include "core/module/descriptor.hpp"

#include <nlohmann/json.hpp>
#include <vector>

namespace deliveryhub::app {

using Registry = std::vector<const core::ModuleDescriptor*>;

/// Every module built into this binary (src/modules/*, listed by the build), in dependency order.
const Registry& registry();

/// `modules` ordered so that each comes after the modules it calls; among those free to go next,
/// by name. Throws std::logic_error when a module calls one not in `modules`, or calls form a cycle.
Registry in_dependency_order(Registry modules);

/// The graph `deliveryhub modules --json` prints: each module's calls, events, routes and
/// settings, in dependency order. Manifests and scripts are generated from it (tools/registry).
nlohmann::json module_graph(const Registry& modules);

/// Every module's own settings, for the command line.
std::vector<core::config::ModuleSetting> module_settings(const Registry& modules);

}  // namespace deliveryhub::app
