// The request path: raw bytes → HTTP parser (server limits) → pipeline → router → handler
// (JSON decoding and validation of every customers DTO, token checks) → response.
// Invariants: never crash, never a 5xx, every error response is a problem document.
#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/events/bus.hpp"
#include "core/http/pipeline.hpp"
#include "core/http/problem.hpp"
#include "core/http/server.hpp"
#include "core/log/log.hpp"
#include "core/util/ids.hpp"
#include "customers/module.hpp"

#include <cstdlib>
#include <filesystem>

using namespace deliveryhub;

namespace {

struct World {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / core::new_id("fuzz");
  std::unique_ptr<core::db::Database> db;
  core::auth::SigningKey key = core::auth::SigningKey::generate();
  core::auth::TokenValidator tokens{{"deliveryhub", "deliveryhub-api"}, keys()};
  core::metrics::Metrics metrics;
  core::metrics::HttpMetrics http_metrics{metrics};
  core::SystemClock clock;
  core::events::InProcessBus bus;
  core::config::Settings settings;
  std::unique_ptr<core::Platform> platform;
  std::unique_ptr<customers::CustomersModule> module;
  core::http::Router router;
  std::unique_ptr<core::http::Pipeline> pipeline;

  core::auth::KeySet keys() {
    core::auth::KeySet set;
    set.add({key.kid(), "ES256", key.public_pem()});
    return set;
  }

  World() {
    core::log::init(core::log::Level::off);
    std::filesystem::create_directories(dir);
    settings.module_values = core::config::defaults_of(customers::descriptor().settings);
    db = core::db::open_database("sqlite:" + (dir / "fuzz.db").string());
    platform = std::make_unique<core::Platform>(core::Platform{*db,
                                                               bus,
                                                               std::make_shared<core::events::OutboxSignal>(),
                                                               clock,
                                                               tokens,
                                                               metrics,
                                                               settings,
                                                               &key,
                                                               {{"keys", {key.public_jwk()}}}});
    module = customers::make_module(*platform);
    core::db::apply_migrations(*db, "customers", module->migrations());
    module->add_routes(router);
    pipeline = std::make_unique<core::http::Pipeline>(router, http_metrics);
  }
  ~World() { std::filesystem::remove_all(dir); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  core::http::Response response;
  try {
    auto request = core::http::parse_request(std::string_view(reinterpret_cast<const char*>(data), size));
    response = world.pipeline->handle(request);
  } catch (const core::Error& error) {
    core::http::Request partial;
    response = world.pipeline->reject(partial, error);
  }
  if (response.status >= 500) std::abort();
  if (response.status >= 400 &&
      response.headers.find("Content-Type") != std::optional<std::string_view>("application/problem+json")) {
    std::abort();
  }
  return 0;
}
