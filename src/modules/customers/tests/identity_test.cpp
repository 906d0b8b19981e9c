#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"
#include "core/util/base64url.hpp"
#include "identity/login_throttle.hpp"
#include "identity/machine_clients.hpp"
#include "identity/token_issuer.hpp"

#include <catch2/catch.hpp>

using namespace deliveryhub;
using namespace deliveryhub::customers;

namespace {
class FakeClock final : public core::Clock {
 public:
  core::TimePoint now() const override { return now_; }
  void advance(std::chrono::seconds by) { now_ += by; }

 private:
  core::TimePoint now_ = core::from_unix_ms(1'800'000'000'000);
};
}  // namespace

TEST_CASE("issued tokens validate and carry roles, client and typ at+jwt") {
  core::SystemClock clock;
  auto key = core::auth::SigningKey::generate();
  TokenIssuer issuer(key, "dh", "dh-api", std::chrono::seconds(900), clock);
  core::auth::KeySet keys;
  keys.add({key.kid(), "ES256", key.public_pem()});
  core::auth::TokenValidator validator({"dh", "dh-api"}, keys);

  const auto token = issuer.issue("acc_1", {"service"}, "svc");
  const auto header = nlohmann::json::parse(*core::base64url_decode(token.substr(0, token.find('.'))));
  CHECK(header["typ"] == "at+jwt");
  CHECK(header["kid"] == key.kid());
  auto principal = validator.validate(token);
  CHECK(principal.subject == "acc_1");
  CHECK(principal.client_id == "svc");
  CHECK(principal.has_role("service"));
  CHECK(principal.scopes.empty());
  CHECK_FALSE(principal.acts_for("orders"));

  const auto scoped = validator.validate(issuer.issue("svc", {"service"}, "svc", "module:orders  module:incidents"));
  CHECK(scoped.scopes == std::vector<std::string>{"module:orders", "module:incidents"});
  CHECK(scoped.acts_for("orders"));
  CHECK(scoped.acts_for("incidents"));
  CHECK_FALSE(scoped.acts_for("order"));
  CHECK_FALSE(scoped.acts_for("delivery"));
}

TEST_CASE("refresh secrets are random and stored only as hashes") {
  auto a = new_refresh_secret();
  auto b = new_refresh_secret();
  CHECK(a.token != b.token);
  CHECK(a.hash == hash_refresh_token(a.token));
  CHECK(a.hash != a.token);
  CHECK(a.token.size() == 43);
}

TEST_CASE("login throttle: per account, per address, window, success resets the account") {
  FakeClock clock;
  LoginThrottle throttle(clock, {3, 5, std::chrono::seconds(60)});
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(throttle.retry_after("ann", "1.1.1.1"));
    throttle.record_failure("ann", "1.1.1.1");
  }
  auto wait = throttle.retry_after("ann", "9.9.9.9");
  REQUIRE(wait);
  CHECK(*wait == std::chrono::seconds(60));
  clock.advance(std::chrono::seconds(61));
  CHECK_FALSE(throttle.retry_after("ann", "9.9.9.9"));

  for (int i = 0; i < 5; ++i) throttle.record_failure("user" + std::to_string(i), "2.2.2.2");
  CHECK(throttle.retry_after("someone-new", "2.2.2.2"));
  CHECK_FALSE(throttle.retry_after("someone-new", "3.3.3.3"));

  throttle.record_failure("bob", "4.4.4.4");
  throttle.record_failure("bob", "4.4.4.4");
  throttle.record_success("bob");
  throttle.record_failure("bob", "4.4.4.4");
  CHECK_FALSE(throttle.retry_after("bob", "5.5.5.5"));
}

TEST_CASE("machine clients: parsing and constant-time authentication") {
  const std::vector<std::string> modules{"customers", "delivery", "payments", "orders", "incidents"};
  MachineClients clients({"svc:0123456789abcdef:service:orders+incidents", "ops-bot:fedcba9876543210xx:operator",
                          "colon:0123:456789abcdef:service:delivery"},
                         modules);
  const auto svc = clients.authenticate("svc", "0123456789abcdef");
  REQUIRE(svc);
  CHECK(svc->roles == std::vector<std::string>{"service"});
  CHECK(svc->acts_for == std::vector<std::string>{"orders", "incidents"});
  CHECK(svc->scope() == "module:orders module:incidents");
  CHECK(clients.authenticate("ops-bot", "fedcba9876543210xx")->scope().empty());
  CHECK(clients.authenticate("colon", "0123:456789abcdef")->acts_for == std::vector<std::string>{"delivery"});
  CHECK_FALSE(clients.authenticate("svc", "0123456789abcdeX"));
  CHECK_FALSE(clients.authenticate("svc", ""));
  CHECK_FALSE(clients.authenticate("nobody", "0123456789abcdef"));
  CHECK_THROWS_AS(MachineClients({"svc:short:service"}, modules), std::invalid_argument);
  CHECK_THROWS_AS(MachineClients({"svc:0123456789abcdef:customer"}, modules), std::invalid_argument);
  CHECK_THROWS_AS(MachineClients({"nocolons"}, modules), std::invalid_argument);
  // Role service must say which modules it calls for, and only real modules (ADR 0022).
  CHECK_THROWS_WITH(MachineClients({"svc:0123456789abcdef:service"}, modules),
                    Catch::Contains("must name the modules it calls for"));
  CHECK_THROWS_WITH(MachineClients({"svc:0123456789abcdef:service:order"}, modules),
                    Catch::Contains("no module 'order'"));
  CHECK_THROWS_WITH(MachineClients({"ops:0123456789abcdef:operator:orders"}, modules),
                    Catch::Contains("only role service acts for modules"));
}
