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
#include "core/remote/http_channel.hpp"
#include "core/remote/service_tokens.hpp"
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
#include <thread>

namespace deliveryhub::app {
namespace {

namespace fs = std::filesystem;

bool contains(const std::vector<std::string>& list, std::string_view name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string remote_module_of(const std::string& remote) {
  return remote.substr(0, remote.find('='));
}

// The URL --remote gives for `module`, without a trailing slash; empty when there is none.
std::string remote_url_of(const core::config::Settings& settings, std::string_view module) {
  for (const auto& remote : settings.remotes) {
    if (remote_module_of(remote) != module) continue;
    std::string url = remote.substr(remote.find('=') + 1);
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }
  return {};
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
    } else if (settings.environment == "production") {
      throw ConfigurationError("--env production needs --jwt-key-file: a generated key is for development only");
    } else {
      bool created = false;
      const auto path = data_folder(settings.database) / "jwt-signing-key.pem";
      signing_key = core::auth::SigningKey::load_or_create(path, created);
      core::log::warn(created ? "generated a development JWT signing key; pass --jwt-key-file in production"
                              : "using the development JWT signing key; pass --jwt-key-file in production",
                      {{"path", path.string()}});
    }
  }
  // Without customers here, tokens are checked against the keys of the customers process.
  std::string jwks_url = settings.external_jwks_url;
  const bool jwks_from_remote = jwks_url.empty() && settings.external_jwks_file.empty() &&
                                !contains(selected, "customers") && !remote_url_of(settings, "customers").empty();
  if (jwks_from_remote) jwks_url = remote_url_of(settings, "customers") + "/.well-known/jwks.json";
  core::auth::KeySet keys;
  if (!settings.external_jwks_file.empty()) {
    keys = external_keys(settings.external_jwks_file);
  } else if (!jwks_url.empty() && settings.command != "migrate") {
    // A remote customers process may still be starting: ask again for a while before giving up.
    const auto give_up =
        std::chrono::steady_clock::now() + (jwks_from_remote ? std::chrono::seconds(30) : std::chrono::seconds(0));
    for (;;) {
      try {
        keys = core::auth::fetch_jwks(jwks_url, std::chrono::seconds(10));
        break;
      } catch (const std::exception& e) {
        if (std::chrono::steady_clock::now() >= give_up) {
          throw std::runtime_error(
              std::string(jwks_from_remote ? "the JWKS of --remote customers: " : "--external-jwks-url: ") + e.what());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    }
  }
  // Keys that verify but never sign (rotation): published in the JWKS and trusted here.
  std::vector<core::auth::SigningKey> verify_keys;
  nlohmann::json jwks = {{"keys", nlohmann::json::array()}};
  if (signing_key && settings.command != "migrate") {
    for (const auto& path : settings.jwt_verify_key_files) {
      try {
        verify_keys.push_back(core::auth::SigningKey::load(path));
      } catch (const std::exception& e) {
        throw ConfigurationError("--jwt-verify-key-file: " + std::string(e.what()));
      }
    }
    if (keys.size() == 0) {
      keys.add({signing_key->kid(), "ES256", signing_key->public_pem()});
      for (const auto& key : verify_keys) keys.add({key.kid(), "ES256", key.public_pem()});
    }
    jwks["keys"].push_back(signing_key->public_jwk());
    for (const auto& key : verify_keys) {
      if (key.kid() != signing_key->kid()) jwks["keys"].push_back(key.public_jwk());
    }
  }
  core::auth::TokenValidator tokens({settings.issuer, settings.audience}, std::move(keys));
  std::optional<core::auth::JwksRefresher> jwks_refresher;
  if (!jwks_url.empty() && settings.command != "migrate") {
    jwks_refresher.emplace(jwks_url, tokens, settings.jwks_refresh);
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
  core::Platform platform{
      *database, bus, outbox_signal, clock, tokens, metrics, settings, signing_key ? &*signing_key : nullptr, jwks};

  // Modules served elsewhere (--remote, ADR 0014): one channel each, all sending this process's
  // service token, fetched from customers' token endpoint (here, once the server listens).
  std::unique_ptr<core::remote::ServiceTokens> service_tokens;
  std::vector<std::unique_ptr<core::remote::HttpChannel>> channels;
  const auto channel_to = [&](std::string_view module) -> core::remote::HttpChannel& {
    const auto url = remote_url_of(settings, module);
    if (url.empty())
      throw ConfigurationError("run " + std::string(module) + " here or pass --remote " + std::string(module) + "=URL");
    if (settings.service_client.empty() || settings.service_client.find(':') == std::string::npos) {
      throw ConfigurationError(
          "--remote needs --service-client ID:SECRET (a machine client with role service acting for this "
          "process's modules)");
    }
    channels.push_back(std::make_unique<core::remote::HttpChannel>(
        std::string(module), url, settings.remote_calls, metrics,
        [&service_tokens] { return service_tokens ? service_tokens->token() : std::string(); }));
    return *channels.back();
  };
  const auto make_service_tokens = [&](const std::string& customers_url) {
    if (customers_url.empty()) {
      throw ConfigurationError("pass --remote customers=URL too: service tokens and token keys come from customers");
    }
    const auto colon = settings.service_client.find(':');
    service_tokens = std::make_unique<core::remote::ServiceTokens>(customers_url + "/oauth/token",
                                                                   settings.service_client.substr(0, colon),
                                                                   settings.service_client.substr(colon + 1));
  };
  std::unique_ptr<customers::CustomersApi> remote_customers;
  std::unique_ptr<payments::PaymentsApi> remote_payments;
  std::unique_ptr<delivery::DeliveryApi> remote_delivery;
  std::unique_ptr<orders::OrdersApi> remote_orders;

  // The explicit module list: no static self-registration.
  std::vector<std::unique_ptr<core::Module>> modules;
  std::unique_ptr<customers::SuspensionWatch> suspension_watch;
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
    // Selection guarantees every dependency is local or named by --remote.
    const auto customers_api = [&]() -> customers::CustomersApi& {
      if (customers_module) return customers_module->api();
      if (!remote_customers) remote_customers = customers::make_remote_api(channel_to("customers"));
      return *remote_customers;
    };
    const auto payments_api = [&]() -> payments::PaymentsApi& {
      if (payments_module) return payments_module->api();
      if (!remote_payments) remote_payments = payments::make_remote_api(channel_to("payments"));
      return *remote_payments;
    };
    delivery::DeliveryModule* delivery_module = nullptr;
    if (contains(selected, "delivery")) {
      auto module = delivery::make_module(platform, customers_api());
      delivery_module = module.get();
      modules.push_back(std::move(module));
    }
    const auto delivery_api = [&]() -> delivery::DeliveryApi& {
      if (delivery_module) return delivery_module->api();
      if (!remote_delivery) remote_delivery = delivery::make_remote_api(channel_to("delivery"));
      return *remote_delivery;
    };
    orders::OrdersModule* orders_module = nullptr;
    if (contains(selected, "orders")) {
      auto module = orders::make_module(platform, customers_api(), payments_api(), delivery_api());
      orders_module = module.get();
      modules.push_back(std::move(module));
    }
    const auto orders_api = [&]() -> orders::OrdersApi& {
      if (orders_module) return orders_module->api();
      if (!remote_orders) remote_orders = orders::make_remote_api(channel_to("orders"));
      return *remote_orders;
    };
    if (contains(selected, "incidents")) {
      modules.push_back(incidents::make_module(platform, orders_api(), payments_api(), delivery_api()));
    }
    // Suspensions end access in every process that checks tokens (ADR 0021): one without
    // customers asks customers for them.
    if (!customers_module && !remote_url_of(settings, "customers").empty()) {
      suspension_watch = customers::make_suspension_watch(customers_api(), platform);
    }
    if (!channels.empty() && !customers_module) make_service_tokens(remote_url_of(settings, "customers"));
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
  http::add_operational_routes(router, state, *database, metrics, openapi_document(), settings.metrics_listen.empty());
  for (const auto& module : modules) module->add_routes(router);
  for (const auto& module : modules) module->subscribe(bus);
  for (const auto& module : modules) module->start();
  if (suspension_watch) suspension_watch->start();
  bus.start();  // consumers run from here on: the modules they call into have started

  std::vector<std::string> outboxes;
  for (const auto& module : modules) outboxes.emplace_back(module->name());
  core::events::export_outbox_metrics(metrics, *database, clock, outboxes);
  core::events::OutboxRelay relay(*database, outboxes, bus, clock, outbox_signal);
  relay.start();

  core::metrics::HttpMetrics http_metrics(metrics);
  http::Idempotency idempotency(*database, tokens, clock, settings.idempotency_retention,
                                {settings.idempotency_keys_per_caller, settings.idempotency_keys_per_address});
  http::Pipeline pipeline(
      router, http_metrics,
      [&idempotency](http::Request& request, const http::Handler& handler) {
        return idempotency.handle(request, handler);
      },
      http::TrustedProxies(settings.trusted_proxies),
      [&tokens](const http::Request& request) {
        try {
          return tokens.authenticate(request).has_role("service");
        } catch (const core::Error&) {
          return false;
        }
      });
  http::ServerOptions options{settings.host, settings.port, settings.io_threads, settings.worker_threads,
                              settings.max_connections};
  options.read_timeout = settings.read_timeout;
  options.idle_timeout = settings.idle_timeout;
  options.header_timeout = settings.header_timeout;
  options.max_connections_per_address = settings.max_connections_per_address;
  options.exempt_from_address_limit = [proxies = http::TrustedProxies(settings.trusted_proxies)](
                                          std::string_view address) { return proxies.trusts(address); };
  http::Server server(options, pipeline);
  const auto port = server.start();
  // /metrics apart from the API when asked: scrapers reach it, clients of the API do not.
  http::Router metrics_router;
  http::add_metrics_routes(metrics_router, metrics);
  core::metrics::HttpMetrics metrics_http_metrics(metrics);
  http::Pipeline metrics_pipeline(metrics_router, metrics_http_metrics);
  std::optional<http::Server> metrics_server;
  if (!settings.metrics_listen.empty()) {
    metrics_server.emplace(http::ServerOptions{settings.metrics_host, settings.metrics_port, 1, 1, 64},
                           metrics_pipeline);
    const auto metrics_port = metrics_server->start();
    core::log::info("metrics listening", {{"address", settings.metrics_host + ":" + std::to_string(metrics_port)}});
  }
  if (!channels.empty() && !service_tokens) {  // customers is here: its token endpoint is ours
    make_service_tokens("http://" + (settings.host == "0.0.0.0" ? std::string("127.0.0.1") : settings.host) + ":" +
                        std::to_string(port));
  }
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
  if (metrics_server) metrics_server->stop();
  relay.stop();
  bus.stop();
  if (suspension_watch) suspension_watch->stop();
  for (auto it = modules.rbegin(); it != modules.rend(); ++it) (*it)->stop();
  core::log::info("stopped", {{"drained", drained}});
  core::log::flush();
  return 0;
}

}  // namespace deliveryhub::app
