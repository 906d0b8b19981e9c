#include "customers/module.hpp"

#include "core/log/log.hpp"
#include "identity/authorize_routes.hpp"
#include "identity/login_throttle.hpp"
#include "identity/machine_clients.hpp"
#include "identity/oauth_routes.hpp"
#include "identity/passwords.hpp"
#include "identity/token_issuer.hpp"
#include "internal_routes.hpp"
#include "migrations.hpp"
#include "remote_client.hpp"
#include "routes.hpp"
#include "service.hpp"
#include "settings.hpp"
#include "suspension_feed.hpp"

#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace deliveryhub::customers {
namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

class Module final : public CustomersModule {
 public:
  explicit Module(core::Platform& platform)
      : platform_(platform),
        outbox_("customers", platform.clock, platform.outbox_signal),
        service_(platform.database, outbox_, platform.clock, hasher_),
        clients_(platform.settings.module_values.list(settings::kClients), platform.modules),
        public_clients_(platform.settings.module_values.list(settings::kConsoleRedirectUris)),
        throttle_(platform.clock),
        registrations_(
            platform.clock,
            {std::numeric_limits<std::size_t>::max(),
             static_cast<std::size_t>(platform.settings.module_values.number(settings::kRegistrationsPerAddress)),
             std::chrono::hours(1)}) {
    if (!platform.signing_key) throw std::runtime_error("the customers module needs a token signing key");
    issuer_.emplace(*platform.signing_key, platform.settings.issuer, platform.settings.audience,
                    platform.settings.module_values.seconds(settings::kAccessTokenTtl), platform.clock);
    // A suspended account's access tokens stop working in this process at once (ADR 0021).
    service_.on_suspended([&tokens = platform.tokens](const std::string& account_id, core::TimePoint at) {
      tokens.revoke_subject(account_id, core::to_unix_ms(at) / 1000);
    });
    oauth_.emplace(OAuthServices{service_, *issuer_, clients_, public_clients_, throttle_, platform.database,
                                 platform.clock, platform.jwks, platform.settings.issuer,
                                 platform.settings.module_values.seconds(settings::kRefreshTokenTtl),
                                 platform.settings.module_values.seconds(settings::kRefreshFamilyLifetime)});
  }

  std::string_view name() const override { return "customers"; }
  void stop() override { suspensions_.stop(); }
  std::vector<core::db::Migration> migrations() const override { return customers::migrations(); }
  CustomersApi& api() override { return service_; }

  void add_routes(core::http::Router& router) override {
    add_customer_routes(router, service_, platform_.tokens, registrations_);
    add_internal_routes(router, service_, platform_.tokens);
    add_oauth_routes(router, *oauth_);
    add_authorize_routes(router, *oauth_);
  }

  void start() override {
    // Tokens issued before a recent suspension may still be alive: refuse them from the start,
    // and learn every few seconds of suspensions made by other replicas of this module.
    suspensions_.start();
    const auto email = env_or_empty("DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL");
    const auto password = env_or_empty("DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD");
    if (email.empty() != password.empty()) {
      throw std::runtime_error(
          "set both DELIVERYHUB_BOOTSTRAP_OPERATOR_EMAIL and DELIVERYHUB_BOOTSTRAP_OPERATOR_PASSWORD, or neither");
    }
    if (email.empty()) return;
    try {
      if (service_.ensure_operator(email, password)) core::log::info("bootstrap operator created", {{"email", email}});
    } catch (const core::Error& e) {
      std::string reasons;
      for (const auto& field : e.errors()) reasons += " " + field.field + " " + field.message + ";";
      throw std::runtime_error("bootstrap operator:" + (reasons.empty() ? " " + e.detail() : reasons));
    }
  }

 private:
  core::Platform& platform_;
  core::events::Outbox outbox_;
  PasswordHasher hasher_;
  CustomersService service_;
  MachineClients clients_;
  PublicClients public_clients_;
  LoginThrottle throttle_;
  LoginThrottle registrations_;  // per address only
  SuspensionFeed suspensions_{service_, platform_.tokens, platform_.clock,
                              platform_.settings.module_values.seconds(settings::kAccessTokenTtl)};
  std::optional<TokenIssuer> issuer_;
  std::optional<OAuthServices> oauth_;
};

}  // namespace

std::unique_ptr<CustomersModule> make_module(core::Platform& platform) {
  return std::make_unique<Module>(platform);
}

std::unique_ptr<CustomersApi> make_remote_api(core::remote::HttpChannel& channel) {
  return std::make_unique<RemoteCustomers>(channel);
}

namespace {

class RemoteSuspensions final : public SuspensionWatch {
 public:
  RemoteSuspensions(CustomersApi& customers, core::Platform& platform)
      : feed_(customers, platform.tokens, platform.clock,
              platform.settings.module_values.seconds(settings::kAccessTokenTtl)) {}
  void start() override { feed_.start(); }
  void stop() override { feed_.stop(); }

 private:
  SuspensionFeed feed_;
};

}  // namespace

std::unique_ptr<SuspensionWatch> make_suspension_watch(CustomersApi& customers, core::Platform& platform) {
  return std::make_unique<RemoteSuspensions>(customers, platform);
}

}  // namespace deliveryhub::customers
