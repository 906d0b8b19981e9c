#pragma once
#include "core/config/module_setting.hpp"
#include "core/remote/channel_options.hpp"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace deliveryhub::core::config {

/// Everything a process is told at start-up: flags, DELIVERYHUB_* environment twins, and an
/// optional config file (TOML/INI), in that order of precedence.
struct Settings {
  std::string command = "serve";               // serve | migrate | modules | backup | restore
  std::string backup_to;                       // backup --to PATH
  std::string restore_from;                    // restore --from PATH
  std::string backup_dir;                      // --backup-dir: scheduled SQLite backups go here (empty: none)
  std::chrono::seconds backup_interval{3600};  // --backup-interval
  int backup_keep = 24;                        // --backup-keep
  bool json = false;                           // modules --json: the module graph as JSON
  std::vector<std::string> modules{"all"};
  std::string listen = "127.0.0.1:8080";
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  /// HOST:PORT serving /metrics (and /livez) apart from the API; empty: /metrics is on --listen.
  std::string metrics_listen;
  std::string metrics_host;
  std::uint16_t metrics_port = 0;
  /// development (the default) or production: production refuses to start with a generated
  /// signing key, a plain-http JWKS URL, or /metrics on the API's address.
  std::string environment = "development";
  std::string database = "sqlite:./data/deliveryhub.db";
  std::size_t database_pool_size = 0;  // PostgreSQL connections; 0: one per handler thread + 4
  std::string bus = "inproc";
  int bus_max_attempts = 5;                   // AMQP: a consumer's failures before a message goes to its DLQ
  std::string bus_namespace = "deliveryhub";  // AMQP: exchange <ns>.events, queues <ns>.<module>
  std::vector<std::string> remotes;           // MODULE=URL
  remote::ChannelOptions remote_calls;        // timeouts, retries and breaker of every remote
  std::string service_client;                 // ID:SECRET for client_credentials, when a module is remote
  std::string log_level = "info";

  // Identity and tokens.
  std::string jwt_key_file;  // empty: a development key in the data folder
  /// Keys published in the JWKS and trusted, never used to sign: the next key before a rotation,
  /// the previous one after it (docs/runbook.md).
  std::vector<std::string> jwt_verify_key_files;
  std::string issuer = "deliveryhub";
  std::string audience = "deliveryhub-api";
  std::string external_jwks_file;  // set: trust that issuer's keys instead of our own
  std::string external_jwks_url;   // the same, fetched from the issuer and refreshed
  std::chrono::seconds jwks_refresh{300};
  /// How long Idempotency-Key responses are kept (at least 24 h: docs/product.md, "API conventions"; ADR 0009).
  std::chrono::hours idempotency_retention{24};
  /// Live Idempotency-Keys one caller may hold: with a valid token, and per address without one.
  std::int64_t idempotency_keys_per_caller = 10000;
  std::int64_t idempotency_keys_per_address = 100;
  /// How long delivered outbox events and processed inbox ids are kept before pruning (ADR 0028).
  std::chrono::seconds outbox_retention{std::chrono::hours(7 * 24)};
  std::chrono::seconds inbox_retention{std::chrono::hours(14 * 24)};

  /// The settings the modules declare (ModuleDescriptor::settings), by flag.
  ModuleValues module_values;

  // Server. The thread defaults follow the CPUs this process may use (core/util/cpu_budget).
  unsigned cpus = 1;
  std::string cpus_source = "affinity";  // where `cpus` came from: "affinity" or a cgroup quota
  unsigned io_threads = 1;
  unsigned worker_threads = 4;
  std::size_t max_connections = 1024;
  /// Open connections one address may hold (trusted proxies exempt); 0: no limit.
  std::size_t max_connections_per_address = 128;
  /// A request's header (and a new connection's first byte) must arrive within this.
  std::chrono::seconds header_timeout{10};
  /// Proxies (addresses, CIDR networks) whose X-Forwarded-For names the client: the gateway.
  std::vector<std::string> trusted_proxies;
  /// Origins whose browser pages may call the API (CORS); none by default.
  std::vector<std::string> cors_origins;
  std::chrono::seconds read_timeout{15};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds shutdown_grace{10};
  /// How long start-up waits for the database (PostgreSQL not accepting connections yet, as on
  /// a first install) before giving up with exit 1; 0: one try. The wait for another process's
  /// migrations is separate (db::kSchemaLockWait).
  std::chrono::seconds database_wait{60};
};

/// The outcome of reading the command line: settings to run with, or an exit code (0 after
/// --help/--version, 2 for an invalid setting, with one clear line already written to `err`).
struct ParseOutcome {
  std::optional<Settings> settings;
  int exit_code = 0;
};

/// `module_settings`: every registered module's own settings, offered whatever --modules selects.
ParseOutcome parse_command_line(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
                                const std::vector<ModuleSetting>& module_settings = {});

}  // namespace deliveryhub::core::config
