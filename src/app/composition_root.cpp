// The composition root: which modules run here, what they are given, and the process's life.
#include "composition_root.hpp"

#include "backup_commands.hpp"
#include "console_routes.hpp"
#include "core/auth/jwks_source.hpp"
#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"
#include "core/db/database.hpp"
#include "core/db/database_metrics.hpp"
#include "core/db/migrations.hpp"
#include "core/db/scheduled_backups.hpp"
#include "core/events/amqp_bus.hpp"
#include "core/events/bus.hpp"
#include "core/events/outbox.hpp"
#include "core/events/outbox_metrics.hpp"
#include "core/events/pruning.hpp"
#include "core/events/relay.hpp"
#include "core/http/database_monitor.hpp"
#include "core/http/idempotency.hpp"
#include "core/http/operational_routes.hpp"
#include "core/http/pipeline.hpp"
#include "core/http/server.hpp"
#include "core/log/log.hpp"
#include "core/metrics/metrics.hpp"
#include "core/metrics/process_metrics.hpp"
#include "core/remote/http_channel.hpp"
#include "core/remote/service_tokens.hpp"
#include "core/sync/lock_metrics.hpp"
#include "core/util/build_info.hpp"
#include "module_registry.hpp"
#include "stop_signals.hpp"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
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

// The module that signs tokens (ModuleDescriptor::issues_tokens): one in every registry.
const core::ModuleDescriptor& token_issuer(const Registry& modules) {
  for (const auto* module : modules) {
    if (module->issues_tokens) return *module;
  }
  throw std::logic_error("no module issues tokens");
}

// Step 1: the store, with a schema for each module here and one for core.
std::unique_ptr<core::db::Database> open_store(const core::config::Settings& settings,
                                               const std::vector<std::string>& selected) {
  try {
    core::db::DatabaseOptions options;
    // A reader for every thread that may read at once, so that none waits for another: the
    // handler threads, and ten for the background (the saga's eight parallel calls, the relay,
    // the event consumers). An idle reader costs a file handle and a little memory.
    options.read_connections = settings.worker_threads + 10;
    options.pool_size = settings.database_pool_size != 0 ? settings.database_pool_size
                                                         : settings.worker_threads + settings.io_threads + 4;
    options.schemas = selected;
    options.schemas.emplace_back("core");
    return core::db::open_database(settings.database, options);
  } catch (const std::invalid_argument& e) {
    throw ConfigurationError(e.what());
  }
}

// A signal that arrived while start-up waited (SIGTERM and SIGINT are blocked, main.cpp), or 0
// once `pause` has passed without one.
int wait_for_signal_or(std::chrono::milliseconds pause) {
  const sigset_t signals = stop_signals();
  timespec timeout{static_cast<time_t>(pause.count() / 1000), static_cast<long>(pause.count() % 1000) * 1000000L};
  const int received = sigtimedwait(&signals, nullptr, &timeout);
  return received > 0 ? received : 0;
}

// Thrown when a signal asks the process to stop before it serves: run() returns 0.
struct StoppedWhileStarting {
  int signal;
};

// Step 1 as a first install needs it: PostgreSQL may not accept connections yet (its pod starts
// beside ours). Tries again, with pauses growing to 5 s, until --database-wait has passed; then
// the last error goes up (exit 1). A wrong URL fails the same way, just later. SQLite: one try.
std::unique_ptr<core::db::Database> open_store_waiting(const core::config::Settings& settings,
                                                       const std::vector<std::string>& selected) {
  const auto deadline = std::chrono::steady_clock::now() + settings.database_wait;
  const bool on_sqlite = settings.database.rfind("sqlite:", 0) == 0;
  for (int attempt = 1;; ++attempt) {
    try {
      return open_store(settings, selected);
    } catch (const core::db::DatabaseError& e) {
      const auto now = std::chrono::steady_clock::now();
      if (on_sqlite || now >= deadline) throw;
      const auto pause =
          std::min({std::chrono::milliseconds(250 << std::min(attempt, 5)), std::chrono::milliseconds(5000),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)});
      core::log::warn("waiting for the database",
                      {{"error", e.what()},
                       {"attempt", attempt},
                       {"gives_up_in_s", std::chrono::duration_cast<std::chrono::seconds>(deadline - now).count()}});
      if (const int received = wait_for_signal_or(pause)) throw StoppedWhileStarting{received};
    }
  }
}

// Step 2: token keys. The process that runs the issuer signs with its key and publishes a JWKS;
// every process validates, with the issuer's keys fetched from it when it runs elsewhere.
struct TokenKeys {
  std::optional<core::auth::SigningKey> signing_key;
  core::auth::KeySet trusted;
  nlohmann::json jwks = {{"keys", nlohmann::json::array()}};
  std::string jwks_url;  // refetched every --jwks-refresh when set
};

std::optional<core::auth::SigningKey> load_signing_key(const core::config::Settings& settings) {
  if (settings.command == "migrate") return core::auth::SigningKey::generate();  // signs nothing; no key file
  if (!settings.jwt_key_file.empty()) return core::auth::SigningKey::load(settings.jwt_key_file);
  if (settings.environment == "production") {
    throw ConfigurationError("--env production needs --jwt-key-file: a generated key is for development only");
  }
  bool created = false;
  const auto path = data_folder(settings.database) / "jwt-signing-key.pem";
  auto key = core::auth::SigningKey::load_or_create(path, created);
  core::log::warn(created ? "generated a development JWT signing key; pass --jwt-key-file in production"
                          : "using the development JWT signing key; pass --jwt-key-file in production",
                  {{"path", path.string()}});
  return key;
}

core::auth::KeySet fetch_keys(const std::string& url, bool from_remote_issuer) {
  // A remote issuer may still be starting: ask again for a while before giving up.
  const auto give_up =
      std::chrono::steady_clock::now() + (from_remote_issuer ? std::chrono::seconds(30) : std::chrono::seconds(0));
  for (;;) {
    try {
      return core::auth::fetch_jwks(url, std::chrono::seconds(10));
    } catch (const std::exception& e) {
      if (std::chrono::steady_clock::now() >= give_up) {
        throw std::runtime_error(
            std::string(from_remote_issuer ? "the JWKS of the --remote token issuer: " : "--external-jwks-url: ") +
            e.what());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

TokenKeys load_token_keys(const core::config::Settings& settings, bool issuer_here, const std::string& issuer_url) {
  TokenKeys keys;
  if (issuer_here) keys.signing_key = load_signing_key(settings);
  keys.jwks_url = settings.external_jwks_url;
  const bool from_remote_issuer =
      keys.jwks_url.empty() && settings.external_jwks_file.empty() && !issuer_here && !issuer_url.empty();
  if (from_remote_issuer) keys.jwks_url = issuer_url + "/.well-known/jwks.json";
  if (settings.command == "migrate") keys.jwks_url.clear();
  if (!settings.external_jwks_file.empty()) {
    keys.trusted = external_keys(settings.external_jwks_file);
  } else if (!keys.jwks_url.empty()) {
    keys.trusted = fetch_keys(keys.jwks_url, from_remote_issuer);
  }
  if (!keys.signing_key || settings.command == "migrate") return keys;
  // Keys that verify but never sign (rotation): published in the JWKS and trusted here.
  std::vector<core::auth::SigningKey> verify_keys;
  for (const auto& path : settings.jwt_verify_key_files) {
    try {
      verify_keys.push_back(core::auth::SigningKey::load(path));
    } catch (const std::exception& e) {
      throw ConfigurationError("--jwt-verify-key-file: " + std::string(e.what()));
    }
  }
  if (keys.trusted.size() == 0) {
    keys.trusted.add({keys.signing_key->kid(), "ES256", keys.signing_key->public_pem()});
    for (const auto& key : verify_keys) keys.trusted.add({key.kid(), "ES256", key.public_pem()});
  }
  keys.jwks["keys"].push_back(keys.signing_key->public_jwk());
  for (const auto& key : verify_keys) {
    if (key.kid() != keys.signing_key->kid()) keys.jwks["keys"].push_back(key.public_jwk());
  }
  return keys;
}

// Step 3: the bus. The embedded default carries events between this process's modules; a broker
// carries them between processes (ADR 0013).
std::unique_ptr<core::events::EventBus> make_bus(const core::config::Settings& settings,
                                                 core::metrics::Metrics& metrics) {
  if (settings.bus.rfind("amqp://", 0) != 0) return std::make_unique<core::events::InProcessBus>();
  core::events::AmqpOptions amqp;
  amqp.url = settings.bus;
  amqp.prefix = settings.bus_namespace;
  amqp.max_attempts = settings.bus_max_attempts;
  return std::make_unique<core::events::AmqpBus>(amqp, metrics);
}

// Step 4: modules served elsewhere (--remote, ADR 0014): one channel each, all sending this
// process's service token, fetched from the issuer's token endpoint.
class RemoteModules {
 public:
  RemoteModules(const core::config::Settings& settings, core::metrics::Metrics& metrics)
      : settings_(settings), metrics_(metrics) {}

  core::remote::HttpChannel& channel_to(std::string_view module) {
    const auto url = remote_url_of(settings_, module);
    if (url.empty()) {
      throw ConfigurationError("run " + std::string(module) + " here or pass --remote " + std::string(module) + "=URL");
    }
    if (settings_.service_client.empty() || settings_.service_client.find(':') == std::string::npos) {
      throw ConfigurationError(
          "--remote needs --service-client ID:SECRET (a machine client with role service acting for this "
          "process's modules)");
    }
    channels_.push_back(std::make_unique<core::remote::HttpChannel>(
        std::string(module), url, settings_.remote_calls, metrics_,
        [this] { return service_tokens_ ? service_tokens_->token() : std::string(); }));
    return *channels_.back();
  }

  bool any() const { return !channels_.empty(); }
  bool have_tokens() const { return service_tokens_ != nullptr; }

  /// The channels' service tokens come from the issuer at `issuer_url` from now on.
  void fetch_tokens_from(const std::string& issuer_url, std::string_view issuer) {
    if (issuer_url.empty()) {
      throw ConfigurationError("pass --remote " + std::string(issuer) +
                               "=URL too: service tokens and token keys come from " + std::string(issuer));
    }
    const auto colon = settings_.service_client.find(':');
    service_tokens_ = std::make_unique<core::remote::ServiceTokens>(issuer_url + "/oauth/token",
                                                                    settings_.service_client.substr(0, colon),
                                                                    settings_.service_client.substr(colon + 1));
  }

 private:
  const core::config::Settings& settings_;
  core::metrics::Metrics& metrics_;
  std::unique_ptr<core::remote::ServiceTokens> service_tokens_;
  std::vector<std::unique_ptr<core::remote::HttpChannel>> channels_;
};

// Step 5: the modules, in dependency order: each selected one built from the APIs of those it
// calls (built here before it, or clients of remote ones), and what a module served elsewhere
// asks of this process (its `when_remote` work).
struct Modules {
  core::ApiDirectory apis;
  std::vector<std::unique_ptr<core::Module>> here;
  std::vector<std::unique_ptr<core::BackgroundWork>> background;
};

void build_modules(const Registry& registry, const std::vector<std::string>& selected, core::Platform& platform,
                   RemoteModules& remote, Modules& out) {
  const auto called_here = [&](std::string_view name) {
    return std::any_of(registry.begin(), registry.end(), [&](const core::ModuleDescriptor* module) {
      return contains(selected, module->name) &&
             std::find(module->calls.begin(), module->calls.end(), name) != module->calls.end();
    });
  };
  try {
    for (const auto* module : registry) {
      if (contains(selected, module->name)) {
        out.here.push_back(module->make(platform, out.apis));
        continue;
      }
      const bool reachable = !remote_url_of(platform.settings, module->name).empty();
      const bool watched = module->when_remote && reachable;
      if ((called_here(module->name) || watched) && module->provide_remote) {
        module->provide_remote(remote.channel_to(module->name), out.apis);
      }
      if (watched) out.background.push_back(module->when_remote(platform, out.apis));
    }
  } catch (const std::invalid_argument& e) {  // a module's own settings, e.g. --client
    throw ConfigurationError(e.what());
  }
}

// Step 8: the end. Not ready at once, stop accepting, let in-flight requests finish within the
// grace, then stop the background work and the modules, last built first.
int wait_for_signal() {
  const sigset_t signals = stop_signals();
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

}  // namespace

std::vector<std::string> select_modules(const core::config::Settings& settings, const Registry& known) {
  std::string valid;
  for (const auto* info : known) valid += (valid.empty() ? "" : ", ") + std::string(info->name);
  std::vector<std::string> selected;
  for (const auto& name : settings.modules) {
    if (name == "all") {
      for (const auto* info : known) {
        if (!contains(selected, info->name)) selected.emplace_back(info->name);
      }
      continue;
    }
    const bool is_known =
        std::any_of(known.begin(), known.end(), [&](const core::ModuleDescriptor* info) { return info->name == name; });
    if (!is_known) throw ConfigurationError("unknown module '" + name + "' in --modules; valid: all, " + valid);
    if (!contains(selected, name)) selected.push_back(name);
  }
  if (selected.empty()) throw ConfigurationError("--modules selects no module; valid: all, " + valid);
  std::vector<std::string> remotes;
  for (const auto& remote : settings.remotes) remotes.push_back(remote_module_of(remote));
  for (const auto* info : known) {
    if (!contains(selected, info->name)) continue;
    for (auto dependency : info->calls) {
      if (!contains(selected, dependency) && !contains(remotes, dependency)) {
        throw ConfigurationError("module '" + std::string(info->name) + "' needs '" + std::string(dependency) +
                                 "': run it here (--modules) or pass --remote " + std::string(dependency) + "=URL");
      }
    }
  }
  // Start-up order is the known order.
  std::vector<std::string> ordered;
  for (const auto* info : known) {
    if (contains(selected, info->name)) ordered.emplace_back(info->name);
  }
  return ordered;
}

int run(const core::config::Settings& settings) {
  namespace http = core::http;
  if (settings.command == "modules") return print_modules(settings, std::cout);
  if (settings.command == "backup" || settings.command == "restore") {
    return run_backup_command(settings, std::cout, std::cerr);
  }
  const auto& modules_known = registry();
  const auto selected = select_modules(settings, modules_known);
  // Every line names the process: its module, `a+b` for several, `deliveryhub` for all of them.
  std::string service;
  if (selected.size() == modules_known.size()) {
    service = "deliveryhub";
  } else {
    for (const auto& name : selected) service += (service.empty() ? "" : "+") + name;
  }
  core::log::init(*core::log::parse_level(settings.log_level), service);
  const auto& issuer = token_issuer(modules_known);
  const bool issuer_here = contains(selected, issuer.name);
  const auto issuer_url = remote_url_of(settings, issuer.name);

  // Step 0: the operations address (--metrics-listen) first, on threads of its own: the
  // kubelet's probes are answered from here on, through the waits for the database and for
  // other processes' migrations (/livez 200, /readyz 503 with the phase), and later while the
  // API's workers are all busy.
  core::metrics::Metrics metrics;
  http::OperationalState state;
  state.phase = http::Phase::waiting_for_database;
  http::Router metrics_router;
  http::add_metrics_routes(metrics_router, state, metrics);
  core::metrics::HttpMetrics metrics_http_metrics(metrics);
  http::Pipeline metrics_pipeline(metrics_router, metrics_http_metrics);
  std::optional<http::Server> metrics_server;
  if (!settings.metrics_listen.empty() && settings.command != "migrate") {
    metrics_server.emplace(http::ServerOptions{settings.metrics_host, settings.metrics_port, 1, 2, 64},
                           metrics_pipeline);
    const auto metrics_port = metrics_server->start();
    core::log::info("metrics listening", {{"address", settings.metrics_host + ":" + std::to_string(metrics_port)}});
  }

  std::unique_ptr<core::db::Database> database;
  try {
    database = open_store_waiting(settings, selected);
  } catch (const StoppedWhileStarting& stopped) {
    core::log::info("stopped before the database answered",
                    {{"signal", stopped.signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    core::log::flush();
    return 0;
  }
  state.phase = http::Phase::migrating;
  auto keys = load_token_keys(settings, issuer_here, issuer_url);
  core::auth::TokenValidator tokens({settings.issuer, settings.audience}, std::move(keys.trusted));
  std::optional<core::auth::JwksRefresher> jwks_refresher;
  if (!keys.jwks_url.empty()) {
    jwks_refresher.emplace(keys.jwks_url, tokens, settings.jwks_refresh);
    jwks_refresher->start();
  }
  core::SystemClock clock;
  const auto bus_owner = make_bus(settings, metrics);
  core::events::EventBus& bus = *bus_owner;
  auto outbox_signal = std::make_shared<core::events::OutboxSignal>();
  core::Platform platform{*database, bus,     outbox_signal, clock,
                          tokens,    metrics, settings,      keys.signing_key ? &*keys.signing_key : nullptr,
                          keys.jwks};
  for (const auto* module : modules_known) platform.modules.emplace_back(module->name);

  RemoteModules remote(settings, metrics);
  Modules modules;
  build_modules(modules_known, selected, platform, remote, modules);
  if (remote.any() && !issuer_here) remote.fetch_tokens_from(issuer_url, issuer.name);

  // Step 6: the schemas. `migrate` ends here.
  core::db::apply_migrations(*database, "core", http::Idempotency::migrations());
  for (const auto& module : modules.here) {
    const int applied = core::db::apply_migrations(*database, module->name(), module->migrations());
    core::log::info("migrations checked", {{"module", module->name()}, {"applied", applied}});
  }
  if (settings.command == "migrate") {
    core::log::flush();
    return 0;
  }
  state.phase = http::Phase::starting;

  // Step 7: serve. Routes, consumers and background work first; the bus delivers once every
  // module it calls into has started; then the outbox relay and the listening sockets.
  http::Router router;
  http::add_operational_routes(router, state, metrics, openapi_document(), settings.metrics_listen.empty());
  for (const auto& module : modules.here) module->add_routes(router);
  // The console is served where people sign in, by the token issuer's process (the gateway routes
  // /app there, as the issuer's descriptor lists it): same origin.
  const auto& issuer_name = issuer.name;
  const bool hosts_sign_in = std::any_of(modules.here.begin(), modules.here.end(),
                                         [&](const auto& module) { return module->name() == issuer_name; });
  if (hosts_sign_in) add_console_routes(router, console_files());
  for (const auto& module : modules.here) module->subscribe(bus);
  for (const auto& module : modules.here) module->start();
  for (const auto& work : modules.background) work->start();
  bus.start();

  std::vector<std::string> outboxes;
  for (const auto& module : modules.here) outboxes.emplace_back(module->name());
  core::events::export_outbox_metrics(metrics, *database, clock, outboxes);
  core::db::export_database_metrics(metrics, *database);
  core::sync::export_lock_metrics(metrics);
  core::metrics::export_process_metrics(metrics);
  core::events::OutboxRelay relay(*database, outboxes, bus, clock, outbox_signal);
  relay.start();
  core::events::EventPruner pruner(*database, outboxes, clock, metrics,
                                   {settings.outbox_retention, settings.inbox_retention});
  pruner.start();
  std::optional<core::db::ScheduledBackups> backups;
  if (!settings.backup_dir.empty()) {
    backups.emplace(
        core::db::ScheduledBackupOptions{settings.database.substr(std::string_view("sqlite:").size()),
                                         settings.backup_dir, settings.backup_interval, settings.backup_keep},
        metrics);
    backups->start();
  }

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
      },
      http::CorsPolicy(settings.cors_origins));
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
  if (remote.any() && !remote.have_tokens()) {  // the issuer is here: its token endpoint is ours
    remote.fetch_tokens_from("http://" + (settings.host == "0.0.0.0" ? std::string("127.0.0.1") : settings.host) + ":" +
                                 std::to_string(port),
                             issuer.name);
  }
  http::DatabaseMonitor database_monitor(*database, state);
  database_monitor.start();
  state.phase = http::Phase::ready;
  std::string modules_text;
  for (const auto& name : selected) modules_text += (modules_text.empty() ? "" : ",") + name;
  core::log::info("listening", {{"address", settings.host + ":" + std::to_string(port)},
                                {"modules", modules_text},
                                {"database", database->backend()},
                                {"version", core::build::version()},
                                {"cpus", settings.cpus},
                                {"cpus_from", settings.cpus_source},
                                {"io_threads", settings.io_threads},
                                {"worker_threads", settings.worker_threads}});
  if (hosts_sign_in) {
    const auto host = settings.host == "0.0.0.0" ? std::string("127.0.0.1") : settings.host;
    core::log::info("console", {{"url", "http://" + host + ":" + std::to_string(port) + "/app/"}});
  }
  core::log::flush();

  const int received = wait_for_signal();
  state.phase = http::Phase::draining;
  core::log::info("draining",
                  {{"signal", received == SIGTERM ? "SIGTERM" : "SIGINT"}, {"in_flight", server.active_requests()}});
  server.begin_drain();
  const bool drained = server.wait_idle(std::chrono::steady_clock::now() + settings.shutdown_grace);
  server.stop();
  database_monitor.stop();
  if (metrics_server) metrics_server->stop();
  if (backups) backups->stop();
  pruner.stop();
  relay.stop();
  bus.stop();
  for (const auto& work : modules.background) work->stop();
  for (auto it = modules.here.rbegin(); it != modules.here.rend(); ++it) (*it)->stop();
  core::log::info("stopped", {{"drained", drained}});
  core::log::flush();
  return 0;
}

int print_modules(const core::config::Settings& settings, std::ostream& out) {
  const auto& modules = registry();
  if (settings.json) {
    out << module_graph(modules).dump(2) << "\n";
    return 0;
  }
  for (const auto* module : modules) out << module->name << "\n";
  return 0;
}

}  // namespace deliveryhub::app
