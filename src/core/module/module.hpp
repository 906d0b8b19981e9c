#pragma once
#include "core/auth/token_validator.hpp"
#include "core/config/settings.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/events/bus.hpp"
#include "core/events/outbox.hpp"
#include "core/http/router.hpp"
#include "core/metrics/metrics.hpp"
#include "core/util/clock.hpp"

#include <memory>
#include <string_view>
#include <vector>

namespace deliveryhub::core {

/// What the platform hands every module. References outlive the module.
struct Platform {
  db::Database& database;
  events::EventBus& bus;
  std::shared_ptr<events::OutboxSignal> outbox_signal;
  const Clock& clock;
  const auth::TokenValidator& tokens;
  metrics::Metrics& metrics;
  const config::Settings& settings;
  /// The key that signs access tokens, when this process issues them; null otherwise.
  const auth::SigningKey* signing_key = nullptr;
  /// What /.well-known/jwks.json publishes when this process issues tokens: the signing key's
  /// public JWK and those of the --jwt-verify-key-file keys.
  nlohmann::json jwks = nlohmann::json::object();
  /// Every module this binary knows, by name, whether it runs here or not.
  std::vector<std::string> modules = {};
};

/// A domain module as the composition root sees it. The lifecycle, in order:
/// migrations() (by `migrate` and at `serve` start-up), add_routes(), subscribe(), start(),
/// then requests and events, then stop() during shutdown.
class Module {
 public:
  virtual ~Module() = default;
  virtual std::string_view name() const = 0;
  virtual std::vector<db::Migration> migrations() const = 0;
  virtual void add_routes(http::Router& router) = 0;
  virtual void subscribe(events::EventBus& bus) { (void)bus; }
  virtual void start() {}
  virtual void stop() {}
};

}  // namespace deliveryhub::core
