#include "composition_root.hpp"

#include <catch2/catch.hpp>

using deliveryhub::app::ConfigurationError;
using deliveryhub::app::Registry;
using deliveryhub::app::select_modules;
using deliveryhub::core::ModuleDescriptor;
using deliveryhub::core::config::Settings;

namespace {
// A registry shaped like the product's: orders calls customers, payments and delivery.
const ModuleDescriptor kCustomers{.name = "customers"};
const ModuleDescriptor kPayments{.name = "payments"};
const ModuleDescriptor kDelivery{.name = "delivery", .calls = {"customers"}};
const ModuleDescriptor kOrders{.name = "orders", .calls = {"customers", "payments", "delivery"}};
const Registry kKnown = {&kCustomers, &kPayments, &kDelivery, &kOrders};

Settings with(std::vector<std::string> modules, std::vector<std::string> remotes = {}) {
  Settings settings;
  settings.modules = std::move(modules);
  settings.remotes = std::move(remotes);
  return settings;
}

std::string error_of(const Settings& settings) {
  try {
    select_modules(settings, kKnown);
  } catch (const ConfigurationError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("all selects every module in start-up order") {
  CHECK(select_modules(with({"all"}), kKnown) ==
        std::vector<std::string>{"customers", "payments", "delivery", "orders"});
  CHECK(select_modules(with({"orders", "delivery", "customers", "payments", "orders"}), kKnown) ==
        std::vector<std::string>{"customers", "payments", "delivery", "orders"});
}

TEST_CASE("an unknown module name lists the valid ones") {
  CHECK(error_of(with({"customers", "billing"})) ==
        "unknown module 'billing' in --modules; valid: all, customers, payments, delivery, orders");
}

TEST_CASE("a dependency neither local nor remote names the --remote flag to set") {
  CHECK(error_of(with({"delivery"})) ==
        "module 'delivery' needs 'customers': run it here (--modules) or pass --remote customers=URL");
  CHECK(select_modules(with({"delivery"}, {"customers=http://customers:8080"}), kKnown) ==
        std::vector<std::string>{"delivery"});
  CHECK(error_of(with({"orders"}, {"customers=http://c", "payments=http://p"})) ==
        "module 'orders' needs 'delivery': run it here (--modules) or pass --remote delivery=URL");
}

TEST_CASE("an empty selection is refused") {
  CHECK(error_of(with({})).rfind("--modules selects no module", 0) == 0);
}

TEST_CASE("the real module list resolves with all") {
  CHECK_FALSE(select_modules(with({"all"})).empty());
}
