#include "module_registry.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>

using deliveryhub::app::in_dependency_order;
using deliveryhub::app::module_graph;
using deliveryhub::app::Registry;
using deliveryhub::app::registry;
using deliveryhub::core::ModuleDescriptor;

namespace {
std::vector<std::string> names(const Registry& modules) {
  std::vector<std::string> out;
  for (const auto* module : modules) out.emplace_back(module->name);
  return out;
}
}  // namespace

TEST_CASE("modules come after the modules they call; ties go by name") {
  const ModuleDescriptor a{.name = "a", .calls = {"c"}};
  const ModuleDescriptor b{.name = "b"};
  const ModuleDescriptor c{.name = "c"};
  const ModuleDescriptor d{.name = "d", .calls = {"a", "b"}};
  CHECK(names(in_dependency_order({&d, &c, &b, &a})) == std::vector<std::string>{"b", "c", "a", "d"});
}

TEST_CASE("a cycle or a call to an unknown module is refused") {
  const ModuleDescriptor a{.name = "a", .calls = {"b"}};
  const ModuleDescriptor b{.name = "b", .calls = {"a"}};
  CHECK_THROWS_WITH(in_dependency_order({&a, &b}), "the modules' calls form a cycle");
  const ModuleDescriptor lone{.name = "lone", .calls = {"ghost"}};
  CHECK_THROWS_WITH(in_dependency_order({&lone}), "module 'lone' calls 'ghost', which is not a module of this binary");
  const ModuleDescriptor self{.name = "self", .calls = {"self"}};
  CHECK_THROWS(in_dependency_order({&self}));
}

TEST_CASE("the binary's registry: five modules, one token issuer, every event published once") {
  const auto& modules = registry();
  CHECK(names(modules) == std::vector<std::string>{"customers", "delivery", "payments", "orders", "incidents"});
  CHECK(std::count_if(modules.begin(), modules.end(), [](auto* m) { return m->issues_tokens; }) == 1);
  std::set<std::string_view> published;
  for (const auto* module : modules) {
    for (const auto type : module->publishes) {
      INFO(type);
      CHECK(type.substr(0, type.find('.')) != "");
      CHECK(published.insert(type).second);
    }
  }
  for (const auto* module : modules) {
    for (const auto type : module->consumes) {
      INFO(module->name << " consumes " << type);
      CHECK(published.count(type) == 1);
    }
    CHECK(module->make);
  }
}

TEST_CASE("the graph as JSON names each module's calls, events, routes and settings") {
  const auto graph = module_graph(registry());
  REQUIRE(graph["modules"].size() == 5);
  const auto& delivery = graph["modules"][1];
  CHECK(delivery["name"] == "delivery");
  CHECK(delivery["calls"] == nlohmann::json::array({"customers"}));
  CHECK(delivery["settings"][0]["flag"] == "--delivery-promise");
  CHECK(delivery["settings"][0]["default"] == 2700);
  CHECK(delivery["remote_client"] == true);
  CHECK(graph["modules"][4]["remote_client"] == false);
}

TEST_CASE("the API directory hands out what was provided, and refuses another type or a missing module") {
  struct FirstApi {
    int value = 1;
  };
  struct OtherApi {};
  deliveryhub::core::ApiDirectory apis;
  FirstApi first;
  apis.provide<FirstApi>("first", first);
  apis.adopt<OtherApi>("other", std::make_unique<OtherApi>());
  CHECK(&apis.get<FirstApi>("first") == &first);
  CHECK(apis.has("other"));
  CHECK_THROWS_WITH(apis.get<OtherApi>("first"), "no API of module 'first' of the expected type here");
  CHECK_THROWS_AS(apis.get<FirstApi>("missing"), std::logic_error);
  CHECK_FALSE(apis.has("missing"));
}
