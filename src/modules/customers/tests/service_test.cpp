#include "service.hpp"

#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/util/ids.hpp"
#include "identity/passwords.hpp"
#include "migrations.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace deliveryhub;
using namespace deliveryhub::customers;
using core::Error;
using core::ErrorKind;
using testing::kind_of;

namespace {

struct World {
  testing::TempDatabase db{"customers", migrations()};
  core::SystemClock clock;
  core::events::Outbox outbox{"customers", clock, std::make_shared<core::events::OutboxSignal>()};
  PasswordHasher hasher;
  std::unique_ptr<CustomersService> service;

  World() { service = std::make_unique<CustomersService>(*db, outbox, clock, hasher); }

  std::vector<std::string> event_types() { return testing::outbox_types(*db, "customers"); }
};

}  // namespace

TEST_CASE("registration normalises the email, hashes the password and publishes customer.registered") {
  World w;
  auto customer = w.service->register_customer({"Ann@Example.COM", "correct horse battery", "Ann", std::nullopt});
  CHECK(core::is_id(customer.id, "cus"));
  CHECK(customer.email == "ann@example.com");
  CHECK(customer.version == 1);
  CHECK(customer.status == CustomerStatus::active);
  CHECK(w.event_types() == std::vector<std::string>{"customer.registered"});
  auto hash = w.db->read([&](core::db::Transaction& tx) {
    return tx.query_one("SELECT password_hash FROM customers_accounts WHERE id = $1", {customer.id})->text(0);
  });
  CHECK(hash.rfind("$argon2id$", 0) == 0);
  CHECK(hash.find("m=19456,t=2,p=1") != std::string::npos);
}

TEST_CASE("a duplicate email, in any case, is a conflict and changes nothing") {
  World w;
  w.service->register_customer({"ann@example.com", "correct horse battery", "Ann", std::nullopt});
  CHECK(kind_of([&] {
          w.service->register_customer({"ANN@example.com", "another password", "Imposter", std::nullopt});
        }) == ErrorKind::conflict);
  CHECK(w.service->list_customers(std::nullopt, 50, std::nullopt).customers.size() == 1);
  CHECK(w.event_types().size() == 1);
}

TEST_CASE("invalid registrations name every bad field") {
  World w;
  try {
    w.service->register_customer({"not-an-email", "short", "", std::string("12ab")});
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::validation);
    std::vector<std::string> fields;
    for (const auto& f : e.errors()) fields.push_back(f.field);
    CHECK(fields == std::vector<std::string>{"email", "password", "name", "phone"});
  }
}

TEST_CASE("profile updates honour the expected version") {
  World w;
  auto customer = w.service->register_customer({"bob@example.com", "correct horse battery", "Bob", std::nullopt});
  auto updated =
      w.service->update_profile(customer.id, {std::string("Robert"), std::optional<std::string>("+34 600")}, 1);
  CHECK(updated.name == "Robert");
  CHECK(updated.phone == std::optional<std::string>("+34 600"));
  CHECK(updated.version == 2);
  CHECK(kind_of([&] {
          w.service->update_profile(customer.id, {std::string("Stale"), std::nullopt}, 1);
        }) == ErrorKind::precondition_failed);
  CHECK(w.service->find_customer(customer.id)->name == "Robert");
  // phone present-and-null clears it.
  auto cleared = w.service->update_profile(customer.id, {std::nullopt, std::optional<std::string>{}}, std::nullopt);
  CHECK_FALSE(cleared.phone);
  CHECK(kind_of([&] { w.service->update_profile(core::new_id("cus"), {}, std::nullopt); }) == ErrorKind::not_found);
}

TEST_CASE("suspension is a state machine with events") {
  World w;
  auto customer = w.service->register_customer({"cy@example.com", "correct horse battery", "Cy", std::nullopt});
  CHECK(kind_of([&] { w.service->set_status(customer.id, CustomerStatus::active); }) == ErrorKind::conflict);
  CHECK(w.service->set_status(customer.id, CustomerStatus::suspended).status == CustomerStatus::suspended);
  CHECK(kind_of([&] { w.service->set_status(customer.id, CustomerStatus::suspended); }) == ErrorKind::conflict);
  CHECK(w.service->set_status(customer.id, CustomerStatus::active).status == CustomerStatus::active);
  CHECK(w.event_types() ==
        std::vector<std::string>{"customer.registered", "customer.suspended", "customer.reactivated"});
}

TEST_CASE("addresses: add, remove, limit, not yours") {
  World w;
  auto ann = w.service->register_customer({"ann@example.com", "correct horse battery", "Ann", std::nullopt});
  auto bob = w.service->register_customer({"bob@example.com", "correct horse battery", "Bob", std::nullopt});
  auto address = w.service->add_address(ann.id, {"Home", "Calle 1", "Madrid", "28001", "ES"});
  CHECK(core::is_id(address.id, "adr"));
  auto reread = *w.service->find_customer(ann.id);
  REQUIRE(reread.addresses.size() == 1);
  CHECK(reread.version == 2);
  CHECK(kind_of([&] { w.service->remove_address(bob.id, address.id); }) == ErrorKind::not_found);
  w.service->remove_address(ann.id, address.id);
  CHECK(w.service->find_customer(ann.id)->addresses.empty());
  for (std::size_t i = 0; i < kMaxAddresses; ++i) w.service->add_address(bob.id, {"A", "L", "C", "1", "ES"});
  CHECK(kind_of([&] { w.service->add_address(bob.id, {"A", "L", "C", "1", "ES"}); }) == ErrorKind::conflict);
}

TEST_CASE("listing pages newest first and filters by email") {
  World w;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(
        w.service
            ->register_customer({"c" + std::to_string(i) + "@example.com", "correct horse battery", "C", std::nullopt})
            .id);
  }
  auto first = w.service->list_customers(std::nullopt, 2, std::nullopt);
  REQUIRE(first.customers.size() == 2);
  CHECK(first.customers[0].id == ids[4]);
  REQUIRE(first.next_after);
  auto second = w.service->list_customers(std::nullopt, 2, first.next_after);
  CHECK(second.customers[0].id == ids[2]);
  auto last = w.service->list_customers(std::nullopt, 2, second.next_after);
  REQUIRE(last.customers.size() == 1);
  CHECK(last.customers[0].id == ids[0]);
  CHECK_FALSE(last.next_after);
  auto by_email = w.service->list_customers(std::string("C3@EXAMPLE.com"), 50, std::nullopt);
  REQUIRE(by_email.customers.size() == 1);
  CHECK(by_email.customers[0].id == ids[3]);
}

TEST_CASE("authentication: right password, wrong password, unknown email") {
  World w;
  auto customer = w.service->register_customer({"dee@example.com", "correct horse battery", "Dee", std::nullopt});
  auto account = w.service->authenticate("DEE@example.com", "correct horse battery");
  REQUIRE(account);
  CHECK(account->id == customer.id);
  CHECK(account->role == AccountRole::customer);
  CHECK_FALSE(w.service->authenticate("dee@example.com", "wrong password!"));
  CHECK_FALSE(w.service->authenticate("nobody@example.com", "correct horse battery"));
}

TEST_CASE("staff accounts and the bootstrap operator") {
  World w;
  auto courier =
      w.service->create_staff_account({"Cou@Example.com", "courier password", "Carla", AccountRole::courier});
  CHECK(core::is_id(courier.id, "acc"));
  CHECK_FALSE(w.service->find_customer(courier.id));  // not a customer
  CHECK(kind_of([&] {
          w.service->create_staff_account({"x@example.com", "password123", "X", AccountRole::customer});
        }) == ErrorKind::validation);
  CHECK(w.service->ensure_operator("ops@example.com", "operator password"));
  CHECK_FALSE(w.service->ensure_operator("OPS@example.com", "operator password"));
  CHECK(w.service->authenticate("ops@example.com", "operator password")->role == AccountRole::operator_);
  CHECK(w.event_types().empty());  // staff accounts are not customers: no customer.registered
}
