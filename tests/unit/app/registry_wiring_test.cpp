// Every module of the registry built as the composition root builds it (one process, SQLite),
// checked against its own descriptor: what it subscribes to is what it says it consumes, and
// every public route it serves starts with one of its declared prefixes (the gateway's and the
// Ingress's routes are generated from those).
#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"
#include "core/db/database.hpp"
#include "core/events/bus.hpp"
#include "core/http/router.hpp"
#include "core/log/log.hpp"
#include "core/util/ids.hpp"
#include "module_registry.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>

using namespace deliveryhub;

namespace {

class RecordingBus final : public core::events::EventBus {
 public:
  void subscribe(core::events::Subscription subscription) override {
    consumed[subscription.module].insert(subscription.event_type);
  }
  void publish(const core::events::Envelope&) override {}
  std::map<std::string, std::set<std::string>> consumed;
};

std::set<std::string> as_set(const std::vector<std::string_view>& values) {
  return {values.begin(), values.end()};
}

}  // namespace

TEST_CASE("each module subscribes to what its descriptor consumes and serves under its routes") {
  core::log::init(core::log::Level::off);
  const auto dir = std::filesystem::temp_directory_path() / core::new_id("wiring");
  std::filesystem::create_directories(dir);
  {
    auto database = core::db::open_database("sqlite:" + (dir / "wiring.db").string());
    const auto key = core::auth::SigningKey::generate();
    core::auth::KeySet keys;
    keys.add({key.kid(), "ES256", key.public_pem()});
    core::auth::TokenValidator tokens({"deliveryhub", "deliveryhub-api"}, std::move(keys));
    core::metrics::Metrics metrics;
    core::SystemClock clock;
    RecordingBus bus;
    core::config::Settings settings;
    settings.module_values = core::config::defaults_of(app::module_settings(app::registry()));
    core::Platform platform{*database, bus,    std::make_shared<core::events::OutboxSignal>(),
                            clock,     tokens, metrics,
                            settings,  &key,   {{"keys", {key.public_jwk()}}}};
    for (const auto* descriptor : app::registry()) platform.modules.emplace_back(descriptor->name);
    core::ApiDirectory apis;
    for (const auto* descriptor : app::registry()) {
      INFO("module " << descriptor->name);
      auto module = descriptor->make(platform, apis);
      REQUIRE(module->name() == descriptor->name);
      for (const auto called : descriptor->calls) CHECK(apis.has(called));
      CHECK(apis.has(descriptor->name) == (descriptor->provide_remote != nullptr));

      module->subscribe(bus);
      CHECK(bus.consumed[std::string(descriptor->name)] == as_set(descriptor->consumes));

      core::http::Router router;
      module->add_routes(router);
      REQUIRE_FALSE(router.routes().empty());
      for (const auto& route : router.routes()) {
        const std::string& pattern = route.second;
        INFO(route.first << " " << pattern);
        if (pattern.rfind("/internal/", 0) == 0) {
          CHECK(pattern.rfind("/internal/v1/" + std::string(descriptor->name), 0) == 0);
          continue;
        }
        const bool declared = std::any_of(descriptor->routes.begin(), descriptor->routes.end(),
                                          [&](std::string_view prefix) { return pattern.rfind(prefix, 0) == 0; });
        CHECK(declared);
      }
    }
  }
  std::filesystem::remove_all(dir);
}
