#include "module_registry.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

namespace deliveryhub::app {

// Defined in the file the build writes from the module list (module_list.cpp.in).
Registry registered_modules();

const Registry& registry() {
  static const Registry modules = in_dependency_order(registered_modules());
  return modules;
}

Registry in_dependency_order(Registry modules) {
  std::sort(modules.begin(), modules.end(),
            [](const core::ModuleDescriptor* a, const core::ModuleDescriptor* b) { return a->name < b->name; });
  for (const auto* module : modules) {
    for (const auto called : module->calls) {
      const bool known = std::any_of(modules.begin(), modules.end(), [&](auto* m) { return m->name == called; });
      if (!known || called == module->name) {
        throw std::logic_error("module '" + std::string(module->name) + "' calls '" + std::string(called) +
                               "', which is not a module of this binary");
      }
    }
  }
  Registry ordered;
  std::set<std::string_view> placed;
  while (ordered.size() < modules.size()) {
    const auto next = std::find_if(modules.begin(), modules.end(), [&](const core::ModuleDescriptor* m) {
      return placed.count(m->name) == 0 &&
             std::all_of(m->calls.begin(), m->calls.end(), [&](auto called) { return placed.count(called) != 0; });
    });
    if (next == modules.end()) throw std::logic_error("the modules' calls form a cycle");
    placed.insert((*next)->name);
    ordered.push_back(*next);
  }
  return ordered;
}

namespace {

nlohmann::json strings(const std::vector<std::string_view>& values) {
  auto out = nlohmann::json::array();
  for (const auto value : values) out.push_back(std::string(value));
  return out;
}

std::string_view kind_name(core::config::ModuleSetting::Kind kind) {
  switch (kind) {
    case core::config::ModuleSetting::Kind::seconds:
      return "seconds";
    case core::config::ModuleSetting::Kind::count:
      return "count";
    case core::config::ModuleSetting::Kind::list:
      return "list";
  }
  return "count";
}

}  // namespace

nlohmann::json module_graph(const Registry& modules) {
  auto out = nlohmann::json::array();
  for (const auto* module : modules) {
    auto settings = nlohmann::json::array();
    for (const auto& setting : module->settings) {
      nlohmann::json entry = {{"flag", "--" + std::string(setting.flag)},
                              {"env", std::string(setting.env)},
                              {"kind", std::string(kind_name(setting.kind))}};
      if (setting.kind != core::config::ModuleSetting::Kind::list) {
        entry["default"] = setting.default_value;
        entry["min"] = setting.min;
        entry["max"] = setting.max;
      }
      settings.push_back(entry);
    }
    out.push_back({{"name", std::string(module->name)},
                   {"summary", std::string(module->summary)},
                   {"calls", strings(module->calls)},
                   {"publishes", strings(module->publishes)},
                   {"consumes", strings(module->consumes)},
                   {"routes", strings(module->routes)},
                   {"issues_tokens", module->issues_tokens},
                   {"remote_client", static_cast<bool>(module->provide_remote)},
                   {"settings", settings}});
  }
  return {{"modules", out}};
}

std::vector<core::config::ModuleSetting> module_settings(const Registry& modules) {
  std::vector<core::config::ModuleSetting> out;
  for (const auto* module : modules) out.insert(out.end(), module->settings.begin(), module->settings.end());
  return out;
}

}  // namespace deliveryhub::app
