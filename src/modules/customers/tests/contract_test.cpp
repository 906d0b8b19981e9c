// CustomersApi's contract, run unchanged against the in-process service and against the remote
// client talking HTTP to a real server that hosts the module's internal routes (issue 4).
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/util/ids.hpp"
#include "identity/passwords.hpp"
#include "internal_routes.hpp"
#include "migrations.hpp"
#include "remote_client.hpp"
#include "remote_fixture.hpp"
#include "service.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

using namespace deliveryhub;
using namespace deliveryhub::customers;
using core::ErrorKind;
using testing::kind_of;

namespace {

struct World {
  testing::TempDatabase db{"customers", migrations()};
  core::SystemClock clock;
  core::events::Outbox outbox{"customers", clock, std::make_shared<core::events::OutboxSignal>()};
  PasswordHasher hasher;
  CustomersService service{*db, outbox, clock, hasher};
  testing::RemoteFixture remote_side{[this](core::http::Router& router, const core::auth::TokenValidator& tokens) {
                                       add_internal_routes(router, service, tokens);
                                     },
                                     "customers"};
  RemoteCustomers remote{*remote_side.channel};
};

void staff_accounts_and_lookups(World& w, CustomersApi& api) {
  const auto email = "courier-" + core::new_id("x").substr(2) + "@example.com";
  const auto account = api.create_staff_account({email, "a courier password", "Ana", AccountRole::courier});
  CHECK(account.id.rfind("acc_", 0) == 0);
  CHECK(account.role == AccountRole::courier);
  CHECK(account.name == "Ana");
  CHECK(kind_of([&] {
          api.create_staff_account({email, "a courier password", "Ana", AccountRole::courier});
        }) == ErrorKind::conflict);
  CHECK(kind_of([&] {
          api.create_staff_account({"not an email", "a courier password", "Bo", AccountRole::courier});
        }) == ErrorKind::validation);
  CHECK(kind_of([&] {
          api.create_staff_account({"c@example.com", "pw", "Bo", AccountRole::customer});
        }) == ErrorKind::validation);

  CHECK_FALSE(api.find_customer(account.id));  // a courier is not a customer
  CHECK_FALSE(api.find_customer(core::new_id("cus")));
  const auto registered = w.service.register_customer(
      {"bea-" + core::new_id("x").substr(2) + "@example.com", "a customer password", "Bea", std::nullopt});
  const auto found = api.find_customer(registered.id);
  REQUIRE(found);
  CHECK(found->id == registered.id);
  CHECK(found->email == registered.email);
  CHECK(found->status == CustomerStatus::active);
  CHECK(found->addresses.empty());

  // The compensation of a courier creation: the login goes, its email is free again; repeating
  // it, or naming an account of another role, removes nothing.
  api.remove_courier_account(account.id);
  api.remove_courier_account(account.id);
  api.remove_courier_account(registered.id);
  CHECK(api.find_customer(registered.id));
  CHECK(api.create_staff_account({email, "a courier password", "Ana", AccountRole::courier}).id != account.id);

  // Suspensions, as processes without customers learn of them (ADR 0021).
  const auto before = w.clock.now() - std::chrono::seconds(1);
  CHECK(api.suspensions_since(before).empty());
  w.service.set_status(registered.id, CustomerStatus::suspended);
  const auto suspensions = api.suspensions_since(before);
  REQUIRE(suspensions.size() == 1);
  CHECK(suspensions[0].account_id == registered.id);
  CHECK(suspensions[0].at >= before);
  CHECK(api.suspensions_since(w.clock.now() + std::chrono::hours(1)).empty());
  w.service.set_status(registered.id, CustomerStatus::active);
  CHECK(api.suspensions_since(before).empty());
}

}  // namespace

TEST_CASE("customers contract, in process: staff accounts and customer lookups") {
  World w;
  staff_accounts_and_lookups(w, w.service);
}

TEST_CASE("customers contract, remote: staff accounts and customer lookups") {
  World w;
  staff_accounts_and_lookups(w, w.remote);
}

TEST_CASE("customers' internal API answers only service tokens") {
  World w;
  w.remote_side.bearer = w.remote_side.token("cus_1", {"customer"});
  CHECK(kind_of([&] { w.remote.find_customer("cus_1"); }) == ErrorKind::forbidden);
  CHECK(kind_of([&] { w.remote.suspensions_since(w.clock.now()); }) == ErrorKind::forbidden);
  w.remote_side.bearer.clear();
  CHECK(kind_of([&] { w.remote.find_customer("cus_1"); }) == ErrorKind::unauthorized);
  // Each route admits the modules that call it (ADR 0022): orders reads customers, delivery
  // makes and removes courier logins, every module may ask for suspensions.
  w.remote_side.bearer = w.remote_side.service_token_for("payments");
  CHECK(kind_of([&] { w.remote.find_customer("cus_1"); }) == ErrorKind::forbidden);
  CHECK(kind_of([&] { w.remote.remove_courier_account("acc_1"); }) == ErrorKind::forbidden);
  CHECK(w.remote.suspensions_since(w.clock.now()).empty());
  w.remote_side.bearer = w.remote_side.service_token_for("orders");
  CHECK_FALSE(w.remote.find_customer("cus_1"));
  CHECK(kind_of([&] {
          w.remote.create_staff_account({"x@example.com", "a courier password", "X", AccountRole::courier});
        }) == ErrorKind::forbidden);
  CHECK(kind_of([&] {
          w.remote_side.channel->call({"GET", "/internal/v1/customers/suspensions?since=-5", std::nullopt, true});
        }) == ErrorKind::validation);
  CHECK(kind_of([&] {
          w.remote_side.channel->call({"GET", "/internal/v1/customers/suspensions", std::nullopt, true});
        }) == ErrorKind::validation);
}
