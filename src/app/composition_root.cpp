// The composition root: which modules run here, what they are given, and the process's life.
#include "composition_root.hpp"

#include "core/auth/jwks_source.hpp"
#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/events/amqp_bus.hpp"
#include "core/events/bus.hpp"
#include "core/events/outbox.hpp"
#include "core/events/outbox_metrics.hpp"
#include "core/events/relay.hpp"
#include "core/http/idempotency.hpp"
#include "core/http/operational_routes.hpp"
#include "core/http/pipeline.hpp"
#include "core/http/server.hpp"
#include "core/log/log.hpp"
#include "core/metrics/metrics.hpp"
#include "customers/module.hpp"
#include "delivery/module.hpp"
#include "incidents/module.hpp"
#include "orders/module.hpp"
#include "payments/module.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>

namespace deliveryhub::app {
namespace {

namespace fs = std::filesystem;

bool contains(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string remote_module_of(const std::string& remote) {
  return remote.substr(0, remote.find('='));
}

// The folder of the SQLite file (dev key lives there), or "./data" for other stores.
fs::path data_folder(const std::string& database_url) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (database_url.rfind(kSqlite, 0) == 0) {
    fs::path file = database_url.substr(kSqlite.size());
    return file.has_parent_path() ? file.parent_path() : fs::path(".");
  }
  return "./data";
}

core::auth::KeySet external_keys(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigurationError("cannot read --external-jwks-file '" + path + "'");
  auto jwks = nlohmann::json::parse(in, nullptr, false);
  if (jwks.is_discarded()) throw ConfigurationError("--external-jwks-file '" + path + "' is not JSON");
  auto keys = core::auth::KeySet::from_jwks(jwks);
  if (keys.size() == 0) throw ConfigurationError("--external-jwks-file '" + path + "' has no EC P-256 keys");
  return keys;
}

}  // namespace

const std::vector<ModuleInfo>& known_modules() {
  static const std::vector<ModuleInfo> modules = {
      {"customers", {}},
      {"payments", {}},
      {"delivery", {"customers"}},
      {"orders", {"customers", "payments", "delivery"}},
      {"incidents", {"orders", "payments", "delivery"}},
  };
  return modules;
}

std::vector<std::string> select_modules(const core::config::Settings& settings, const std::vector<ModuleInfo>& known) {
  std::string valid;
  for (const auto& info : known) valid += (valid.empty() ? "" : ", ") + std::string(info.name);
  std::vector<std::string> selected;
  for (const auto& name : settings.modules) {
    if (name == "all") {
      for (const auto& info : known) {
        if (!contains(selected, info.name)) selected.emplace_back(info.name);
      }
      continue;
    }
    const bool is_known =
        std::any_of(known.begin(), known.end(), [&](const ModuleInfo& info) { return info.name == name; });
    if (!is_known) throw ConfigurationError("unknown module '" + name + "' in --modules; valid: all, " + valid);
    if (!contains(selected, name)) selected.push_back(name);
  }
  if (selected.empty()) throw ConfigurationError("--modules selects no module; valid: all, " + valid);
  std::vector<std::string> remotes;
  for (const auto& remote : settings.remotes) remotes.push_back(remote_module_of(remote));
  for (const auto& info : known) {
    if (!contains(selected, info.name)) continue;
    for (auto dependency : info.dependencies) {
      if (!contains(selected, dependency) && !contains(remotes, dependency)) {
        throw ConfigurationError("module '" + std::string(info.name) + "' needs '" + std::string(dependency) +
                                 "': run it here (--modules) or pass --remote " + std::string(dependency) + "=URL");
      }
    }
  }
  // Start-up order is the known order.
  std::vector<std::string> ordered;
  for (const auto& info : known) {
    if (contains(selected, info.name)) ordered.emplace_back(info.name);
  }
  return ordered;
}

int run(const core::config::Settings& settings) {
  namespace http = core::http;
  const auto selected = select_modules(settings);
  core::log::init(*core::log::parse_level(settings.log_level));

  std::unique_ptr<core::db::Database> database;
  try {
    core::db::DatabaseOptions database_options;
    database_options.read_connections = settings.worker_threads;  // a reader for every worker
    database_options.pool_size = settings.database_pool_size != 0 ? settings.database_pool_size
                                                                  : settings.worker_threads + settings.io_threads + 4;
    database_options.schemas = selected;
    database_options.schemas.emplace_back("core");
    database = core::db::open_database(settings.database, database_options);
  } catch (const std::invalid_argument& e) {
    throw ConfigurationError(e.what());
  }

  // Tokens: this process signs them when it runs customers; everyone validates them.
  std::optional<core::auth::SigningKey> signing_key;
  if (contains(selected, "customers") && settings.command == "migrate") {
    signing_key = core::auth::SigningKey::generate();  // migrate signs nothing; touch no key file
  } else if (contains(selected, "customers")) {
    if (!settings.jwt_key_file.empty()) {
      signing_key = core::auth::SigningKey::load(settings.jwt_key_file);
    } else {
      bool created = false;
      const auto path = data_folder(settings.database) / "jwt-signing-key.pem";
      signing_key = core::auth::SigningKey::load_or_create(path, created);
      core::log::warn(created ? "generated a development JWT signing key; pass --jwt-key-file in production"
                              : "using the development JWT signing key; pass --jwt-key-file in production",
                      {{"path", path.string()}});
    }
  }
  core::auth::KeySet keys;
  if (!settings.external_jwks_file.empty()) {
    keys = external_keys(settings.external_jwks_file);
  } else if (!settings.external_jwks_url.empty() && settings.command != "migrate") {
    try {
      keys = core::auth::fetch_jwks(settings.external_jwks_url, std::chrono::seconds(10));
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("--external-jwks-url: ") + e.what());
    }
  } else if (signing_key) {
    keys.add({signing_key->kid(), "ES256", signing_key->public_pem()});
  }
  core::auth::TokenValidator tokens({settings.issuer, settings.audience}, std::move(keys));
  std::optional<core::auth::JwksRefresher> jwks_refresher;
  if (!settings.external_jwks_url.empty() && settings.command != "migrate") {
    jwks_refresher.emplace(settings.external_jwks_url, tokens, settings.jwks_refresh);
    jwks_refresher->start();
  }

  core::metrics::Metrics metrics;
  core::SystemClock clock;
  // The embedded default carries events between this process's modules; a broker carries them
  // between processes (ADR 0013).
  std::unique_ptr<core::events::EventBus> bus_owner;
  if (settings.bus.rfind("amqp://", 0) == 0) {
    core::events::AmqpOptions amqp;
    amqp.url = settings.bus;
    amqp.prefix = settings.bus_namespace;
    amqp.max_attempts = settings.bus_max_attempts;
    bus_owner = std::make_unique<core::events::AmqpBus>(amqp, metrics);
  } else {
    bus_owner = std::make_unique<core::events::InProcessBus>();
  }
  core::events::EventBus& bus = *bus_owner;
  auto outbox_signal = std::make_shared<core::events::OutboxSignal>();
  core::Platform platform{*database, bus,     outbox_signal, clock,
                          tokens,    metrics, settings,      signing_key ? &*signing_key : nullptr};

  // The explicit module list: no static self-registration.
  std::vector<std::unique_ptr<core::Module>> modules;
  try {
    customers::CustomersModule* customers_module = nullptr;
    if (contains(selected, "customers")) {
      auto module = customers::make_module(platform);
      customers_module = module.get();
      modules.push_back(std::move(module));
    }
    payments::PaymentsModule* payments_module = nullptr;
    if (contains(selected, "payments")) {
      auto module = payments::make_module(platform);
      payments_module = module.get();
      modules.push_back(std::move(module));
    }
    // Selection guarantees every dependency is local or named by --remote; the remote clients
    // arrive with the split deployment (issue 4), so for now dependencies must be local.
    const auto require_local = [](const void* module, std::string_view name) {
      if (!module) {
        throw ConfigurationError("remote modules are not supported yet: run " + std::string(name) +
                                 " in this process (--modules)");
      }
    };
    delivery::DeliveryModule* delivery_module = nullptr;
    if (contains(selected, "delivery")) {
      require_local(customers_module, "customers");
      auto module = delivery::make_module(platform, customers_module->api());
      delivery_module = module.get();
      modules.push_back(std::move(module));
    }
    orders::OrdersModule* orders_module = nullptr;
    if (contains(selected, "orders")) {
      require_local(customers_module, "customers");
      require_local(payments_module, "payments");
      require_local(delivery_module, "delivery");
      auto module =
          orders::make_module(platform, customers_module->api(), payments_module->api(), delivery_module->api());
      orders_module = module.get();
      modules.push_back(std::move(module));
    }
    if (contains(selected, "incidents")) {
      require_local(orders_module, "orders");
      require_local(payments_module, "payments");
      require_local(delivery_module, "delivery");
      modules.push_back(
          incidents::make_module(platform, orders_module->api(), payments_module->api(), delivery_module->api()));
    }
  } catch (const std::invalid_argument& e) {  // a module's own settings, e.g. --client
    throw ConfigurationError(e.what());
  }

  core::db::apply_migrations(*database, "core", http::Idempotency::migrations());
  for (const auto& module : modules) {
    const int applied = core::db::apply_migrations(*database, module->name(), module->migrations());
    core::log::info("migrations checked", {{"module", module->name()}, {"applied", applied}});
  }
  if (settings.command == "migrate") {
    core::log::flush();
    return 0;
  }

  http::Router router;
  http::OperationalState state;
  http::add_operational_routes(router, state, *database, metrics, openapi_document());
  for (const auto& module : modules) module->add_routes(router);
  for (const auto& module : modules) module->subscribe(bus);
  for (const auto& module : modules) module->start();
  bus.start();  // consumers run from here on: the modules they call into have started

  std::vector<std::string> outboxes;
  for (const auto& module : modules) outboxes.emplace_back(module->name());
  core::events::export_outbox_metrics(metrics, *database, clock, outboxes);
  core::events::OutboxRelay relay(*database, outboxes, bus, clock, outbox_signal);
  relay.start();

  core::metrics::HttpMetrics http_metrics(metrics);
  http::Idempotency idempotency(*database, tokens, clock, settings.idempotency_retention);
  http::Pipeline pipeline(router, http_metrics, [&idempotency](http::Request& request, const http::Handler& handler) {
    return idempotency.handle(request, handler);
  });
  http::ServerOptions options{settings.host, settings.port, settings.io_threads, settings.worker_threads,
                              settings.max_connections};
  options.read_timeout = settings.read_timeout;
  options.idle_timeout = settings.idle_timeout;
  http::Server server(options, pipeline);
  const auto port = server.start();
  state.phase = http::Phase::ready;
  std::string modules_text;
  for (const auto& name : selected) modules_text += (modules_text.empty() ? "" : ",") + name;
  core::log::info("listening", {{"address", settings.host + ":" + std::to_string(port)},
                                {"modules", modules_text},
                                {"database", database->backend()},
                                {"version", core::config::version()}});
  core::log::flush();

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);

  // Drain: not ready at once, stop accepting, let in-flight requests finish within the grace.
  state.phase = http::Phase::draining;
  core::log::info("draining",
                  {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}, {"in_flight", server.active_requests()}});
  server.begin_drain();
  const bool drained = server.wait_idle(std::chrono::steady_clock::now() + settings.shutdown_grace);
  server.stop();
  relay.stop();
  bus.stop();
  for (auto it = modules.rbegin(); it != modules.rend(); ++it) (*it)->stop();
  core::log::info("stopped", {{"drained", drained}});
  core::log::flush();
  return 0;
}

}  // namespace deliveryhub::app
