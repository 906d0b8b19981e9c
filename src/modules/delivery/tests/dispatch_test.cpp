#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/util/ids.hpp"
#include "migrations.hpp"
#include "service.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace deliveryhub;
using namespace deliveryhub::delivery;
using core::Error;
using core::ErrorKind;
using testing::kind_of;

namespace {

// customers' api.hpp, faked: accounts are made up, emails must be unique.
class FakeCustomers final : public customers::CustomersApi {
 public:
  std::optional<customers::Customer> find_customer(std::string_view) override { return std::nullopt; }
  std::vector<std::string> removed;
  std::optional<std::string> next_account_id;  // forces the id of the next account (a clash)
  void remove_courier_account(std::string_view account_id) override { removed.emplace_back(account_id); }
  std::vector<customers::Suspension> suspensions_since(core::TimePoint) override { return {}; }
  customers::Account create_staff_account(const customers::NewStaffAccount& a) override {
    for (const auto& email : emails_) {
      if (email == a.email) throw Error(ErrorKind::conflict, "email taken");
    }
    emails_.push_back(a.email);
    auto id = next_account_id.value_or(core::new_id("acc"));
    next_account_id.reset();
    return {id, a.email, a.name, a.role};
  }

 private:
  std::vector<std::string> emails_;
};

struct World {
  testing::TempDatabase db{"delivery", migrations()};
  core::SystemClock clock;
  core::events::Outbox outbox{"delivery", clock, std::make_shared<core::events::OutboxSignal>()};
  FakeCustomers customers;
  std::unique_ptr<DeliveryService> service;
  Zone madrid;
  World() {
    service = std::make_unique<DeliveryService>(*db, outbox, clock, customers);
    madrid = service->create_zone("Madrid", {"28"});
  }
  Courier courier(const std::string& name, std::int64_t capacity = 1) {
    return service->create_courier({name, name + "@example.com", "courier password", madrid.id, capacity});
  }
  ScheduleOutcome order(const std::string& postal = "28013") {
    return service->schedule({core::new_id("ord"), core::new_id("cus"), {"Calle 1", "Madrid", postal, "ES"}});
  }
  std::vector<std::string> events() { return testing::outbox_types(*db, "delivery"); }
};

}  // namespace

TEST_CASE("an address outside every zone is not served; scheduling is idempotent by order") {
  World w;
  auto outside = w.order("08001");
  CHECK_FALSE(outside.zone_served);
  CHECK_FALSE(outside.delivery);
  ScheduleRequest request{core::new_id("ord"), core::new_id("cus"), {"Calle 1", "Madrid", "28 013", "ES"}};
  auto first = w.service->schedule(request);
  REQUIRE(first.zone_served);
  CHECK(first.delivery->address.postal_code == "28013");
  CHECK(first.delivery->status == DeliveryStatus::unassigned);  // no courier yet
  auto again = w.service->schedule(request);
  CHECK(again.delivery->id == first.delivery->id);
}

TEST_CASE("the longest prefix picks the zone") {
  World w;
  auto centre = w.service->create_zone("Madrid centre", {"2801"});
  auto outcome = w.order("28013");
  CHECK(outcome.delivery->zone_id == centre.id);
  CHECK(w.order("28950").delivery->zone_id == w.madrid.id);
  CHECK(kind_of([&] { w.service->create_zone("Clash", {"28"}); }) == ErrorKind::conflict);
  CHECK(kind_of([&] { w.service->create_zone("Bad", {"2 8!"}); }) == ErrorKind::validation);
}

TEST_CASE("dispatch: fewest active deliveries first, capacity respected, queue drains when a courier frees up") {
  World w;
  auto ana = w.courier("ana", 2);
  auto bob = w.courier("bob", 1);
  auto d1 = w.order().delivery;
  auto d2 = w.order().delivery;
  auto d3 = w.order().delivery;
  auto d4 = w.order().delivery;
  REQUIRE(d1->courier_id == ana.id);  // both at 0: the smaller id wins
  CHECK(d2->courier_id == bob.id);    // ana has 1, bob 0
  CHECK(d3->courier_id == ana.id);    // bob is full
  CHECK(d4->status == DeliveryStatus::unassigned);
  // bob delivers: he has room again and takes the waiting delivery.
  w.service->record(d2->id, DeliveryStatus::picked_up, "");
  w.service->record(d2->id, DeliveryStatus::delivered, "");
  auto d4_now = w.service->find(d4->id);
  CHECK(d4_now->status == DeliveryStatus::assigned);
  CHECK(d4_now->courier_id == bob.id);
}

TEST_CASE("a courier created while deliveries wait takes them; offline couriers get none") {
  World w;
  auto waiting = w.order().delivery;
  CHECK(waiting->status == DeliveryStatus::unassigned);
  auto carla = w.courier("carla", 3);
  CHECK(w.service->find(waiting->id)->courier_id == carla.id);
  w.service->update_courier(carla.id, {std::nullopt, std::nullopt, std::nullopt, CourierStatus::offline}, std::nullopt);
  CHECK(w.order().delivery->status == DeliveryStatus::unassigned);
}

TEST_CASE("the delivery state machine: every legal and illegal step") {
  World w;
  w.courier("dan", 5);
  auto d = *w.order().delivery;
  CHECK(kind_of([&] { w.service->record(d.id, DeliveryStatus::delivered, ""); }) == ErrorKind::conflict);
  w.service->record(d.id, DeliveryStatus::picked_up, "");
  CHECK(kind_of([&] { w.service->record(d.id, DeliveryStatus::picked_up, ""); }) == ErrorKind::conflict);
  auto done = w.service->record(d.id, DeliveryStatus::delivered, "left at the door");
  CHECK(done.status == DeliveryStatus::delivered);
  CHECK(kind_of([&] { w.service->record(d.id, DeliveryStatus::failed, "x"); }) == ErrorKind::conflict);
  CHECK(kind_of([&] { w.service->cancel(d.order_id, StopRule::before_completion); }) ==
        ErrorKind::conflict);  // too late once delivered

  auto f = *w.order().delivery;
  CHECK(w.service->record(f.id, DeliveryStatus::failed, "nobody home").status == DeliveryStatus::failed);
  CHECK(kind_of([&] { w.service->cancel(f.order_id, StopRule::before_pickup); }) == ErrorKind::conflict);
  CHECK(kind_of([&] { w.service->record(f.id, DeliveryStatus::picked_up, ""); }) == ErrorKind::conflict);

  auto c = *w.order().delivery;
  CHECK(w.service->cancel(c.order_id, StopRule::before_pickup)->status == DeliveryStatus::cancelled);
  CHECK(w.service->cancel(c.order_id, StopRule::before_pickup)->status == DeliveryStatus::cancelled);  // idempotent
  CHECK_FALSE(w.service->cancel(core::new_id("ord"), StopRule::before_pickup));
  CHECK(kind_of([&] { w.service->record(c.id, DeliveryStatus::picked_up, ""); }) == ErrorKind::conflict);

  auto p = *w.order().delivery;  // called back by an operator while on its way
  w.service->record(p.id, DeliveryStatus::picked_up, "");
  CHECK(w.service->cancel(p.order_id, StopRule::before_completion)->status == DeliveryStatus::cancelled);
  CHECK(kind_of([&] { w.service->record(p.id, DeliveryStatus::delivered, ""); }) == ErrorKind::conflict);
  CHECK(kind_of([&] { w.service->record(core::new_id("dlv"), DeliveryStatus::picked_up, ""); }) ==
        ErrorKind::not_found);
  CHECK(w.events() == std::vector<std::string>{"delivery.scheduled", "delivery.assigned", "delivery.picked_up",
                                               "delivery.completed", "delivery.scheduled", "delivery.assigned",
                                               "delivery.failed", "delivery.scheduled", "delivery.assigned",
                                               "delivery.cancelled", "delivery.scheduled", "delivery.assigned",
                                               "delivery.picked_up", "delivery.cancelled"});
  auto tracked = w.service->find(d.id);
  CHECK(tracked->tracking.size() == 4);  // scheduled, assigned, picked_up, delivered
}

TEST_CASE("couriers need an existing zone and a unique email") {
  World w;
  CHECK(kind_of([&] {
          w.service->create_courier({"x", "x@example.com", "courier password", core::new_id("zon"), 1});
        }) == ErrorKind::unprocessable);
  w.courier("eve");
  CHECK(kind_of([&] { w.courier("eve"); }) == ErrorKind::conflict);
}

TEST_CASE("redelivery: a new delivery once the last one ended, idempotent by request, never two at once") {
  World w;
  w.courier("eva", 5);
  auto first = *w.order().delivery;
  CHECK(kind_of([&] { w.service->redeliver(first.order_id, "inc_1"); }) == ErrorKind::conflict);  // under way
  w.service->record(first.id, DeliveryStatus::failed, "nobody home");
  auto again = w.service->redeliver(first.order_id, "inc_1");
  CHECK(again.id != first.id);
  CHECK(again.status == DeliveryStatus::assigned);
  CHECK(again.address.postal_code == first.address.postal_code);
  CHECK(again.zone_id == first.zone_id);
  CHECK(w.service->redeliver(first.order_id, "inc_1").id == again.id);  // the repeat changes nothing
  CHECK(w.service->find_by_order(first.order_id)->id == again.id);
  CHECK(kind_of([&] { w.service->redeliver(first.order_id, "inc_2"); }) == ErrorKind::conflict);
  CHECK(kind_of([&] { w.service->redeliver(core::new_id("ord"), "inc_3"); }) == ErrorKind::not_found);
  // Delivered, then a damaged-goods incident sends a replacement.
  w.service->record(again.id, DeliveryStatus::picked_up, "");
  w.service->record(again.id, DeliveryStatus::delivered, "");
  CHECK(w.service->redeliver(first.order_id, "inc_2").status == DeliveryStatus::assigned);
}

TEST_CASE("a courier whose record cannot be stored leaves no login behind") {
  World w;
  const auto first = w.courier("ana");
  w.customers.next_account_id = first.account_id;  // bea's login gets ana's id: the insert clashes
  CHECK_THROWS(w.courier("bea"));
  REQUIRE(w.customers.removed.size() == 1);
  CHECK(w.customers.removed[0] == first.account_id);  // the login made for bea, compensated
  CHECK(w.service->couriers(10, std::nullopt).size() == 1);
}
