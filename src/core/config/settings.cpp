#include "core/config/settings.hpp"

#include "core/http/client_address.hpp"
#include "core/http/cors.hpp"
#include "core/util/build_info.hpp"
#include "core/util/cpu_budget.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <ostream>

namespace deliveryhub::core::config {
namespace {

// HOST:PORT with a port 0..65535; IPv6 hosts in brackets.
bool split_listen(const std::string& listen, std::string& host, std::uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  host = listen.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string digits = listen.substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  const auto value = std::stoul(digits);
  if (value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

std::vector<std::string> split_list(const std::vector<std::string>& raw, char separator) {
  std::vector<std::string> out;
  for (const auto& item : raw) {
    std::size_t start = 0;
    while (start <= item.size()) {
      auto end = item.find(separator, start);
      auto part = item.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (!part.empty()) out.push_back(part);
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return out;
}

}  // namespace

ParseOutcome parse_command_line(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                                const std::vector<ModuleSetting>& module_settings) {
  Settings s;
  const auto budget = cpu::available();
  s.cpus = budget.cpus;
  s.cpus_source = budget.source;
  s.io_threads = cpu::default_io_threads(budget.cpus);
  s.worker_threads = cpu::default_worker_threads(budget.cpus);
  CLI::App app{"deliveryhub — the back office of a delivery business", "deliveryhub"};
  app.set_version_flag("--version", std::string(build::version()));
  // CLI11 reads the config file before it looks at the environment, so the file's environment
  // twin is applied here, as the default file name (required once named).
  const char* config_from_env = std::getenv("DELIVERYHUB_CONFIG");
  app.set_config("--config", config_from_env ? config_from_env : "",
                 "Read settings from a TOML or INI file (env DELIVERYHUB_CONFIG)", config_from_env != nullptr);
  app.require_subcommand(0, 1);
  app.fallthrough();
  auto* serve = app.add_subcommand("serve", "Run the selected modules (the default command)");
  auto* migrate = app.add_subcommand("migrate", "Apply the selected modules' schema migrations and exit");
  auto* modules = app.add_subcommand("modules", "Print the modules this binary knows, in dependency order, and exit");
  modules->add_flag("--json", s.json, "The module graph as JSON: calls, events, routes, settings");
  auto* backup = app.add_subcommand(
      "backup", "Copy the SQLite database (--database), in use or not, to a new file, check the copy and exit");
  backup->add_option("--to", s.backup_to, "The file to write; it must not exist")->required();
  auto* restore = app.add_subcommand(
      "restore", "Replace the SQLite database (--database) with a checked backup; refused while a server uses it");
  restore->add_option("--from", s.restore_from, "The backup to restore")->required();
  backup->fallthrough();
  restore->fallthrough();
  serve->fallthrough();
  migrate->fallthrough();

  std::vector<std::string> modules_raw;
  long grace = s.shutdown_grace.count(), read_timeout = s.read_timeout.count(), idle = s.idle_timeout.count();
  long database_wait = s.database_wait.count();
  std::string level = s.log_level;
  auto& calls = s.remote_calls;
  long remote_timeout = calls.timeout.count(), retry_base = calls.retry.base.count(),
       retry_cap = calls.retry.cap.count(), breaker_open = calls.breaker.open_for.count();

  app.add_option("--modules", modules_raw, "Modules to run here: all, or a comma-separated list")
      ->envname("DELIVERYHUB_MODULES")
      ->delimiter(',');
  app.add_option("--listen", s.listen, "HOST:PORT to serve on (port 0: any free port)")
      ->envname("DELIVERYHUB_LISTEN")
      ->capture_default_str();
  app.add_option("--metrics-listen", s.metrics_listen,
                 "HOST:PORT serving /metrics (and /livez) apart from the API; the API port then has no /metrics")
      ->envname("DELIVERYHUB_METRICS_LISTEN");
  app.add_option("--env", s.environment,
                 "development, or production: refuse a generated signing key, an http:// JWKS URL and /metrics "
                 "on the API's address")
      ->envname("DELIVERYHUB_ENV")
      ->capture_default_str()
      ->check(CLI::IsMember({"development", "production"}));
  app.add_option("--database", s.database, "sqlite:PATH or postgresql://…")
      ->envname("DELIVERYHUB_DATABASE")
      ->capture_default_str();
  app.add_option("--database-pool-size", s.database_pool_size,
                 "PostgreSQL connections at most (0: one per handler thread, plus 4 for background work)")
      ->envname("DELIVERYHUB_DATABASE_POOL_SIZE")
      ->capture_default_str()
      ->check(CLI::Range(0UL, 1000UL));
  app.add_option("--bus", s.bus, "inproc or amqp://…")->envname("DELIVERYHUB_BUS")->capture_default_str();
  app.add_option("--bus-max-attempts", s.bus_max_attempts,
                 "AMQP: a consuming module's attempts at one message before it goes to the module's DLQ")
      ->envname("DELIVERYHUB_BUS_MAX_ATTEMPTS")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--bus-namespace", s.bus_namespace,
                 "AMQP: names the exchange <ns>.events and the queues <ns>.<module>[.retry|.dlq]; deployments "
                 "sharing a broker and vhost need different ones")
      ->envname("DELIVERYHUB_BUS_NAMESPACE")
      ->capture_default_str();
  app.add_option("--remote", s.remotes, "MODULE=URL where a module this process does not run is served (repeatable)")
      ->envname("DELIVERYHUB_REMOTE");
  app.add_option("--service-client", s.service_client,
                 "ID:SECRET of this process's machine client (role service, acting for its modules), for calls to "
                 "--remote modules")
      ->envname("DELIVERYHUB_SERVICE_CLIENT");
  app.add_option("--log-level", level, "trace, debug, info, warn, error, critical or off")
      ->envname("DELIVERYHUB_LOG_LEVEL")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--jwt-key-file", s.jwt_key_file, "PEM file with the EC P-256 key that signs access tokens")
      ->envname("DELIVERYHUB_JWT_KEY_FILE");
  app.add_option("--jwt-verify-key-file", s.jwt_verify_key_files,
                 "PEM file with another EC P-256 private key whose public half is published in the JWKS and "
                 "trusted, but never signs: the next key before a rotation, the previous one after (repeatable)")
      ->envname("DELIVERYHUB_JWT_VERIFY_KEY_FILES")
      ->delimiter(',');
  app.add_option("--issuer", s.issuer, "The iss of access tokens")
      ->envname("DELIVERYHUB_ISSUER")
      ->capture_default_str();
  app.add_option("--audience", s.audience, "The aud of access tokens")
      ->envname("DELIVERYHUB_AUDIENCE")
      ->capture_default_str();
  app.add_option("--external-jwks-file", s.external_jwks_file,
                 "Trust access tokens of an external issuer (with --issuer/--audience) whose JWKS is in this file")
      ->envname("DELIVERYHUB_EXTERNAL_JWKS_FILE");
  app.add_option("--external-jwks-url", s.external_jwks_url,
                 "Trust access tokens of an external issuer (with --issuer/--audience) whose JWKS is at this URL")
      ->envname("DELIVERYHUB_EXTERNAL_JWKS_URL");
  long jwks_refresh = s.jwks_refresh.count();
  long idempotency_hours = s.idempotency_retention.count();
  app.add_option("--idempotency-retention", idempotency_hours, "Hours an Idempotency-Key's response is kept")
      ->envname("DELIVERYHUB_IDEMPOTENCY_RETENTION")
      ->capture_default_str()
      ->check(CLI::Range(24L, 30L * 24L));
  app.add_option("--idempotency-keys-per-caller", s.idempotency_keys_per_caller,
                 "Live Idempotency-Keys a caller with a valid token may hold; a new one past it gets 429")
      ->envname("DELIVERYHUB_IDEMPOTENCY_KEYS_PER_CALLER")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000'000}));
  app.add_option("--idempotency-keys-per-address", s.idempotency_keys_per_address,
                 "Live Idempotency-Keys one client address without a valid token may hold")
      ->envname("DELIVERYHUB_IDEMPOTENCY_KEYS_PER_ADDRESS")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{10'000'000}));
  // A duration with a unit (s, m, h, d; seconds without one).
  const auto duration_units =
      CLI::AsNumberWithUnit(std::map<std::string, long>{{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}},
                            static_cast<CLI::AsNumberWithUnit::Options>(CLI::AsNumberWithUnit::CASE_SENSITIVE |
                                                                        CLI::AsNumberWithUnit::UNIT_OPTIONAL),
                            "DURATION");
  long outbox_retention = s.outbox_retention.count();
  long inbox_retention = s.inbox_retention.count();
  app.add_option("--outbox-retention", outbox_retention,
                 "How long a delivered event stays in its outbox before it is pruned (60s to 365d; e.g. 7d)")
      ->envname("DELIVERYHUB_OUTBOX_RETENTION")
      ->default_str("7d")
      ->transform(duration_units)
      ->type_name("DURATION")
      ->check(CLI::Range(60L, 365L * 86400L));
  app.add_option("--inbox-retention", inbox_retention,
                 "How long a processed event's id stays in a consumer's inbox, deduplicating redeliveries "
                 "(1h to 365d; e.g. 14d)")
      ->envname("DELIVERYHUB_INBOX_RETENTION")
      ->default_str("14d")
      ->transform(duration_units)
      ->type_name("DURATION")
      ->check(CLI::Range(3600L, 365L * 86400L));
  long backup_interval = s.backup_interval.count();
  app.add_option("--backup-dir", s.backup_dir,
                 "SQLite only: take a backup at start and every --backup-interval into this folder "
                 "(deliveryhub-<UTC time>.sqlite), keeping the newest --backup-keep")
      ->envname("DELIVERYHUB_BACKUP_DIR");
  app.add_option("--backup-interval", backup_interval, "How often a scheduled backup is taken (10s to 7d; e.g. 1h)")
      ->envname("DELIVERYHUB_BACKUP_INTERVAL")
      ->default_str("1h")
      ->transform(duration_units)
      ->type_name("DURATION")
      ->check(CLI::Range(10L, 7L * 86400L));
  app.add_option("--backup-keep", s.backup_keep, "How many scheduled backups are kept (the newest; 1 to 10000)")
      ->envname("DELIVERYHUB_BACKUP_KEEP")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--jwks-refresh", jwks_refresh, "Seconds between refetches of --external-jwks-url")
      ->envname("DELIVERYHUB_JWKS_REFRESH")
      ->capture_default_str()
      ->check(CLI::Range(10L, 86400L));
  app.add_option("--io-threads", s.io_threads,
                 "Threads doing network I/O (default: one per 4 CPUs this process may use)")
      ->envname("DELIVERYHUB_IO_THREADS")
      ->capture_default_str()
      ->check(CLI::Range(1U, 64U));
  app.add_option("--worker-threads", s.worker_threads,
                 "Threads running request handlers and database work (default: 2 per CPU, at least 4)")
      ->envname("DELIVERYHUB_WORKER_THREADS")
      ->capture_default_str()
      ->check(CLI::Range(1U, 256U));
  app.add_option("--max-connections", s.max_connections, "Open connections beyond this are refused")
      ->envname("DELIVERYHUB_MAX_CONNECTIONS")
      ->capture_default_str()
      ->check(CLI::Range(1UL, 1000000UL));
  app.add_option("--max-connections-per-address", s.max_connections_per_address,
                 "Open connections one client address may hold; beyond: 429 (trusted proxies exempt; 0: no limit)")
      ->envname("DELIVERYHUB_MAX_CONNECTIONS_PER_ADDRESS")
      ->capture_default_str()
      ->check(CLI::Range(0UL, 1000000UL));
  app.add_option("--trusted-proxy", s.trusted_proxies,
                 "Address or CIDR network of a proxy (the gateway) whose X-Forwarded-For names the client "
                 "(repeatable; none by default: the peer is the client)")
      ->envname("DELIVERYHUB_TRUSTED_PROXIES")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            try {
              (void)http::TrustedProxies({value});  // constructed only to validate
              return {};
            } catch (const std::invalid_argument& error) {
              return error.what();
            }
          },
          "ADDRESS[/PREFIX]"));
  app.add_option("--cors-origin", s.cors_origins,
                 "An origin whose browser pages may call the API, e.g. https://shop.example.com (repeatable; none by "
                 "default: only pages of the API's own origin)")
      ->envname("DELIVERYHUB_CORS_ORIGINS")
      ->delimiter(',')
      ->check(CLI::Validator(
          [](std::string& value) -> std::string { return http::invalid_cors_origin(value).value_or(""); }, "ORIGIN"));
  app.add_option("--read-timeout", read_timeout, "Seconds to receive a request body")
      ->envname("DELIVERYHUB_READ_TIMEOUT")
      ->capture_default_str()
      ->check(CLI::Range(1L, 3600L));
  long header_timeout = s.header_timeout.count();
  app.add_option("--header-timeout", header_timeout,
                 "Seconds for a request's header from its first byte (and for a new connection's first byte)")
      ->envname("DELIVERYHUB_HEADER_TIMEOUT")
      ->capture_default_str()
      ->check(CLI::Range(1L, 3600L));
  app.add_option("--idle-timeout", idle, "Seconds a kept-alive connection may wait for its next request")
      ->envname("DELIVERYHUB_IDLE_TIMEOUT")
      ->capture_default_str()
      ->check(CLI::Range(1L, 3600L));
  app.add_option("--database-wait", database_wait,
                 "Seconds start-up keeps trying to connect to the database before exiting 1 (0: one try)")
      ->envname("DELIVERYHUB_DATABASE_WAIT")
      ->capture_default_str()
      ->check(CLI::Range(0L, 3600L));
  app.add_option("--shutdown-grace", grace, "Seconds in-flight requests get to finish after SIGTERM")
      ->envname("DELIVERYHUB_SHUTDOWN_GRACE")
      ->capture_default_str()
      ->check(CLI::Range(0L, 3600L));

  // Resilience of the calls to remote modules (ADR 0014 documents the defaults).
  app.add_option("--remote-timeout", remote_timeout, "Milliseconds per attempt of a call to a remote module")
      ->envname("DELIVERYHUB_REMOTE_TIMEOUT")
      ->capture_default_str()
      ->check(CLI::Range(10L, 600'000L));
  app.add_option("--remote-max-attempts", calls.retry.max_attempts,
                 "Attempts of an idempotent remote call, the first included (1: no retries)")
      ->envname("DELIVERYHUB_REMOTE_MAX_ATTEMPTS")
      ->capture_default_str()
      ->check(CLI::Range(1, 10));
  app.add_option("--remote-retry-base", retry_base, "Milliseconds: the first retry's backoff ceiling (full jitter)")
      ->envname("DELIVERYHUB_REMOTE_RETRY_BASE")
      ->capture_default_str()
      ->check(CLI::Range(1L, 60'000L));
  app.add_option("--remote-retry-cap", retry_cap, "Milliseconds: no retry backoff's ceiling is above this")
      ->envname("DELIVERYHUB_REMOTE_RETRY_CAP")
      ->capture_default_str()
      ->check(CLI::Range(1L, 600'000L));
  app.add_option("--remote-retry-budget", calls.retry.budget_ratio,
                 "Retries may add at most this share of the calls to a remote (plus a few per second)")
      ->envname("DELIVERYHUB_REMOTE_RETRY_BUDGET")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--breaker-window", calls.breaker.window, "Circuit breaker: the last N calls judged")
      ->envname("DELIVERYHUB_BREAKER_WINDOW")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000}));
  app.add_option("--breaker-minimum-calls", calls.breaker.minimum_calls,
                 "Circuit breaker: no opinion before this many calls in the window")
      ->envname("DELIVERYHUB_BREAKER_MINIMUM_CALLS")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000}));
  app.add_option("--breaker-failure-ratio", calls.breaker.failure_ratio,
                 "Circuit breaker: open at or above this share of failures in the window")
      ->envname("DELIVERYHUB_BREAKER_FAILURE_RATIO")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  app.add_option("--breaker-open", breaker_open, "Circuit breaker: milliseconds open before half-open probes")
      ->envname("DELIVERYHUB_BREAKER_OPEN")
      ->capture_default_str()
      ->check(CLI::Range(1L, 3'600'000L));
  app.add_option("--breaker-probes", calls.breaker.half_open_probes,
                 "Circuit breaker: calls let through half-open; all must succeed to close")
      ->envname("DELIVERYHUB_BREAKER_PROBES")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000}));

  // The modules' own settings (ModuleDescriptor::settings), whatever --modules selects.
  std::vector<std::int64_t> module_numbers;
  std::vector<std::vector<std::string>> module_lists(module_settings.size());
  module_numbers.reserve(module_settings.size());
  for (std::size_t i = 0; i < module_settings.size(); ++i) {
    const auto& setting = module_settings[i];
    const std::string flag = "--" + std::string(setting.flag);
    if (setting.kind == ModuleSetting::Kind::list) {
      app.add_option(flag, module_lists[i], std::string(setting.help))->envname(std::string(setting.env));
      continue;
    }
    module_numbers.push_back(setting.default_value);
    app.add_option(flag, module_numbers.back(), std::string(setting.help))
        ->envname(std::string(setting.env))
        ->capture_default_str()
        ->check(CLI::Range(setting.min, setting.max));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return {std::nullopt, 0};
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return {std::nullopt, 0};
  } catch (const CLI::CallForVersion&) {
    out << build::version() << "\n";
    return {std::nullopt, 0};
  } catch (const CLI::ParseError& e) {
    err << "deliveryhub: invalid setting: " << e.what() << "\n";
    return {std::nullopt, 2};
  }
  if (migrate->parsed()) s.command = "migrate";
  if (modules->parsed()) s.command = "modules";
  if (backup->parsed()) s.command = "backup";
  if (restore->parsed()) s.command = "restore";
  for (std::size_t i = 0, number = 0; i < module_settings.size(); ++i) {
    const auto& setting = module_settings[i];
    if (setting.kind == ModuleSetting::Kind::list) {
      s.module_values.set_list(setting.flag, split_list(module_lists[i], ' '));
    } else {
      s.module_values.set_number(setting.flag, module_numbers[number++]);
    }
  }
  if (!split_listen(s.listen, s.host, s.port)) {
    err << "deliveryhub: invalid setting: --listen must be HOST:PORT, got '" << s.listen << "'\n";
    return {std::nullopt, 2};
  }
  if (!s.metrics_listen.empty() && !split_listen(s.metrics_listen, s.metrics_host, s.metrics_port)) {
    err << "deliveryhub: invalid setting: --metrics-listen must be HOST:PORT, got '" << s.metrics_listen << "'\n";
    return {std::nullopt, 2};
  }
  if (s.environment == "production" && s.command == "serve") {
    if (s.metrics_listen.empty()) {
      err << "deliveryhub: invalid setting: --env production needs --metrics-listen (no public /metrics)\n";
      return {std::nullopt, 2};
    }
    if (s.external_jwks_url.rfind("http://", 0) == 0) {
      err << "deliveryhub: invalid setting: --env production needs an https:// --external-jwks-url\n";
      return {std::nullopt, 2};
    }
  }
  if (s.bus != "inproc" && s.bus.rfind("amqp://", 0) != 0) {
    err << "deliveryhub: invalid setting: --bus must be inproc or amqp://USER:PASS@HOST:PORT/VHOST, got '" << s.bus
        << "'\n";
    return {std::nullopt, 2};
  }
  if (s.bus_namespace.empty() || s.bus_namespace.size() > 64 ||
      s.bus_namespace.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos) {
    err << "deliveryhub: invalid setting: --bus-namespace must be 1 to 64 of a-z 0-9 - _, got '" << s.bus_namespace
        << "'\n";
    return {std::nullopt, 2};
  }
  if (!modules_raw.empty()) s.modules = split_list(modules_raw, ',');
  for (const auto& remote : s.remotes) {
    if (remote.find('=') == std::string::npos || remote.front() == '=') {
      err << "deliveryhub: invalid setting: --remote must be MODULE=URL, got '" << remote << "'\n";
      return {std::nullopt, 2};
    }
  }
  if (!s.external_jwks_file.empty() && !s.external_jwks_url.empty()) {
    err << "deliveryhub: invalid setting: give --external-jwks-file or --external-jwks-url, not both\n";
    return {std::nullopt, 2};
  }
  if (calls.breaker.minimum_calls > calls.breaker.window) {
    err << "deliveryhub: invalid setting: --breaker-minimum-calls must not exceed --breaker-window\n";
    return {std::nullopt, 2};
  }
  if (retry_cap < retry_base) {
    err << "deliveryhub: invalid setting: --remote-retry-cap must not be below --remote-retry-base\n";
    return {std::nullopt, 2};
  }
  calls.timeout = std::chrono::milliseconds(remote_timeout);
  calls.retry.base = std::chrono::milliseconds(retry_base);
  calls.retry.cap = std::chrono::milliseconds(retry_cap);
  calls.breaker.open_for = std::chrono::milliseconds(breaker_open);
  s.jwks_refresh = std::chrono::seconds(jwks_refresh);
  s.idempotency_retention = std::chrono::hours(idempotency_hours);
  s.outbox_retention = std::chrono::seconds(outbox_retention);
  s.inbox_retention = std::chrono::seconds(inbox_retention);
  s.backup_interval = std::chrono::seconds(backup_interval);
  if (!s.backup_dir.empty() && s.database.rfind("sqlite:", 0) != 0) {
    err << "deliveryhub: invalid setting: --backup-dir backs up the SQLite database only; PostgreSQL is backed "
           "up with its own tools\n";
    return {std::nullopt, 2};
  }
  s.log_level = level;
  s.shutdown_grace = std::chrono::seconds(grace);
  s.database_wait = std::chrono::seconds(database_wait);
  s.read_timeout = std::chrono::seconds(read_timeout);
  s.idle_timeout = std::chrono::seconds(idle);
  s.header_timeout = std::chrono::seconds(header_timeout);
  return {s, 0};
}

}  // namespace deliveryhub::core::config
