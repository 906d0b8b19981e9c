// DeliveryApi's contract, run unchanged against the in-process service and against the remote
// client talking HTTP to a real server that hosts the module's internal routes (issue 4).
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/util/ids.hpp"
#include "internal_routes.hpp"
#include "migrations.hpp"
#include "remote_client.hpp"
#include "remote_fixture.hpp"
#include "service.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

using namespace deliveryhub;
using namespace deliveryhub::delivery;
using core::ErrorKind;
using testing::kind_of;

namespace {

class NoCustomers final : public customers::CustomersApi {
 public:
  std::optional<customers::Customer> find_customer(std::string_view) override { return std::nullopt; }
  void remove_courier_account(std::string_view) override {}
  std::vector<customers::Suspension> suspensions_since(core::TimePoint) override { return {}; }
  customers::Account create_staff_account(const customers::NewStaffAccount& a) override {
    return {core::new_id("acc"), a.email, a.name, a.role};
  }
};

// The module as a process would run it, with one zone and one courier, and both ways of calling it.
struct World {
  testing::TempDatabase db{"delivery", migrations()};
  core::SystemClock clock;
  core::events::Outbox outbox{"delivery", clock, std::make_shared<core::events::OutboxSignal>()};
  NoCustomers customers;
  DeliveryService service{*db, outbox, clock, customers};
  testing::RemoteFixture remote_side{[this](core::http::Router& router, const core::auth::TokenValidator& tokens) {
                                       add_internal_routes(router, service, tokens);
                                     },
                                     "delivery"};
  RemoteDelivery remote{*remote_side.channel};
  Courier courier;

  World() {
    const auto zone = service.create_zone("Madrid", {"28"});
    courier = service.create_courier({"Ana", "ana@example.com", "courier password", zone.id, 5});
  }
  static ScheduleRequest order(const std::string& postal = "28013") {
    return {core::new_id("ord"), core::new_id("cus"), {"Calle Mayor 1", "Madrid", postal, "ES"}};
  }
};

void schedule_cancel_redeliver(World& w, DeliveryApi& api) {
  CHECK_FALSE(api.schedule(World::order("08001")).zone_served);
  CHECK_FALSE(api.find_by_order(core::new_id("ord")));

  const auto request = World::order();
  const auto outcome = api.schedule(request);
  REQUIRE(outcome.zone_served);
  REQUIRE(outcome.delivery);
  const auto& delivery = *outcome.delivery;
  CHECK(delivery.order_id == request.order_id);
  CHECK(delivery.customer_id == request.customer_id);
  CHECK(delivery.status == DeliveryStatus::assigned);
  CHECK(delivery.courier_id == w.courier.id);
  CHECK(delivery.address.postal_code == "28013");
  CHECK(api.schedule(request).delivery->id == delivery.id);  // idempotent by order
  CHECK(api.find_by_order(request.order_id)->id == delivery.id);

  CHECK(kind_of([&] { api.redeliver(request.order_id, "r1"); }) == ErrorKind::conflict);  // still under way
  CHECK(kind_of([&] { api.redeliver(core::new_id("ord"), "r1"); }) == ErrorKind::not_found);
  const auto cancelled = api.cancel(request.order_id, StopRule::before_pickup);
  REQUIRE(cancelled);
  CHECK(cancelled->status == DeliveryStatus::cancelled);
  CHECK(api.cancel(request.order_id, StopRule::before_pickup)->id == delivery.id);  // repeatable
  CHECK_FALSE(api.cancel(core::new_id("ord"), StopRule::before_completion));
  // The courier cannot complete a delivery that was stopped.
  CHECK(kind_of([&] { w.service.record(delivery.id, DeliveryStatus::picked_up, ""); }) == ErrorKind::conflict);

  const auto again = api.redeliver(request.order_id, "r2");
  CHECK(again.id != delivery.id);
  CHECK(again.order_id == request.order_id);
  CHECK(api.redeliver(request.order_id, "r2").id == again.id);  // idempotent by request id
  CHECK(api.find_by_order(request.order_id)->id == again.id);
}

// Once the courier has picked up, only the back office's rule stops the delivery; once
// delivered, nothing does.
void cancel_rules(World& w, DeliveryApi& api) {
  const auto request = World::order();
  const auto delivery = *api.schedule(request).delivery;
  w.service.record(delivery.id, DeliveryStatus::picked_up, "");
  try {
    api.cancel(request.order_id, StopRule::before_pickup);
    FAIL("a customer's cancel stopped a picked-up delivery");
  } catch (const core::Error& e) {
    CHECK(e.kind() == ErrorKind::conflict);
    CHECK(e.extensions().at("current_status") == "picked_up");
  }
  CHECK(api.find_by_order(request.order_id)->status == DeliveryStatus::picked_up);  // nothing changed
  CHECK(api.cancel(request.order_id, StopRule::before_completion)->status == DeliveryStatus::cancelled);
  CHECK(kind_of([&] { w.service.record(delivery.id, DeliveryStatus::delivered, ""); }) == ErrorKind::conflict);

  const auto other = World::order();
  const auto done = *api.schedule(other).delivery;
  w.service.record(done.id, DeliveryStatus::picked_up, "");
  w.service.record(done.id, DeliveryStatus::delivered, "");
  for (auto rule : {StopRule::before_pickup, StopRule::before_completion}) {
    CHECK(kind_of([&] { api.cancel(other.order_id, rule); }) == ErrorKind::conflict);
  }
  CHECK(api.find_by_order(other.order_id)->status == DeliveryStatus::delivered);
}

}  // namespace

TEST_CASE("delivery contract: the cancel rules, in process and over HTTP") {
  World w;
  cancel_rules(w, w.service);
  World v;
  cancel_rules(v, v.remote);
}

TEST_CASE("delivery contract, in process: schedule, cancel, redeliver, find") {
  World w;
  schedule_cancel_redeliver(w, w.service);
}

TEST_CASE("delivery contract, remote: schedule, cancel, redeliver, find") {
  World w;
  schedule_cancel_redeliver(w, w.remote);
}

TEST_CASE("delivery's internal API answers only service tokens and validates the address") {
  World w;
  w.remote_side.bearer = w.remote_side.token("acc_1", {"operator"});
  CHECK(kind_of([&] { w.remote.schedule(World::order()); }) == ErrorKind::forbidden);
  // Only orders schedules and cancels; only incidents redelivers (ADR 0022).
  w.remote_side.bearer = w.remote_side.service_token_for("incidents");
  CHECK(kind_of([&] { w.remote.schedule(World::order()); }) == ErrorKind::forbidden);
  CHECK(kind_of([&] { w.remote.cancel("ord_1", delivery::StopRule::before_pickup); }) == ErrorKind::forbidden);
  CHECK_FALSE(w.remote.find_by_order("ord_1"));
  w.remote_side.bearer = w.remote_side.service_token_for("orders");
  CHECK(kind_of([&] { w.remote.redeliver("ord_1", "inc_1"); }) == ErrorKind::forbidden);
  w.remote_side.bearer = w.remote_side.service_token();
  try {
    w.remote_side.channel->call(
        {"POST", "/internal/v1/delivery/schedule",
         nlohmann::json{{"order_id", "ord_1"}, {"customer_id", "cus_1"}, {"address", {{"line1", "x"}}}}, true});
    FAIL("scheduled a delivery without city, postal code and country");
  } catch (const core::Error& e) {
    CHECK(e.kind() == ErrorKind::validation);
    CHECK(e.errors().size() == 3);
  }
}

TEST_CASE("the internal cancel route refuses a missing or unknown rule, and stops nothing") {
  World w;
  const auto request = World::order();
  const auto delivery = *w.service.schedule(request).delivery;
  for (const auto& body : {nlohmann::json{{"order_id", request.order_id}},
                           nlohmann::json{{"order_id", request.order_id}, {"rule", "whenever"}}}) {
    CHECK(kind_of([&] {
            w.remote_side.channel->call({"POST", "/internal/v1/delivery/cancel", body, true});
          }) == ErrorKind::validation);
  }
  CHECK(w.service.find_by_order(request.order_id)->status == delivery.status);
}
