// The customers module declares itself (ADR 0024).
#include "customers/events.hpp"
#include "customers/module.hpp"
#include "settings.hpp"

namespace deliveryhub::customers {

namespace settings {

std::vector<core::config::ModuleSetting> declared() {
  using Kind = core::config::ModuleSetting::Kind;
  constexpr std::int64_t kDay = 86400;
  return {
      {kClients, "DELIVERYHUB_CLIENTS", Kind::list,
       "Machine client ID:SECRET:operator, or ID:SECRET:service:MODULE[+MODULE] for the calls of those modules "
       "(repeatable)"},
      {kRegistrationsPerAddress, "DELIVERYHUB_REGISTRATIONS_PER_ADDRESS", Kind::count,
       "Customer registrations one client address may make per hour; beyond: 429", 20, 1, 100'000'000},
      {kAccessTokenTtl, "DELIVERYHUB_ACCESS_TOKEN_TTL", Kind::seconds, "Access token lifetime, seconds", 900, 60, kDay},
      {kRefreshTokenTtl, "DELIVERYHUB_REFRESH_TOKEN_TTL", Kind::seconds, "Refresh token lifetime, seconds", 30 * kDay,
       300, 365 * kDay},
      {kRefreshFamilyLifetime, "DELIVERYHUB_REFRESH_FAMILY_LIFETIME", Kind::seconds,
       "Seconds after a login when its refresh tokens end, however often refreshed", 90 * kDay, 1, 3 * 365 * kDay},
      {kConsoleRedirectUris, "DELIVERYHUB_CONSOLE_REDIRECT_URIS", Kind::list,
       "Where the browser console may be sent back after sign-in, compared exactly, e.g. "
       "https://deliveryhub.example.com/app/ (repeatable; none: http://127.0.0.1/app/, http://localhost/app/ and "
       "http://[::1]/app/ on any port)"},
  };
}

}  // namespace settings

const core::ModuleDescriptor& descriptor() {
  static const core::ModuleDescriptor module{
      .name = "customers",
      .summary = "Accounts, addresses, staff and courier logins, suspensions; the OAuth token endpoint and JWKS",
      .calls = {},
      .publishes = {events::kCustomerRegistered, events::kCustomerSuspended, events::kCustomerReactivated},
      .consumes = {},
      .routes = {"/api/v1/customers", "/oauth/", "/.well-known/", "/app"},
      .issues_tokens = true,
      .settings = settings::declared(),
      .make =
          [](core::Platform& platform, core::ApiDirectory& apis) {
            return core::provided<CustomersApi>(apis, "customers", make_module(platform));
          },
      .provide_remote = core::remote_client<CustomersApi>("customers", &make_remote_api),
      .when_remote = [](core::Platform& platform, core::ApiDirectory& apis) -> std::unique_ptr<core::BackgroundWork> {
        return make_suspension_watch(apis.get<CustomersApi>("customers"), platform);
      },
  };
  return module;
}

}  // namespace deliveryhub::customers
