#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/util/ids.hpp"
#include "delivery/events.hpp"
#include "incidents/events.hpp"
#include "migrations.hpp"
#include "service.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace deliveryhub;
using namespace deliveryhub::incidents;
using core::Error;
using core::ErrorKind;
using testing::kind_of;

namespace {

class ManualClock final : public core::Clock {
 public:
  core::TimePoint now() const override { return now_; }
  void advance(std::chrono::seconds by) { now_ += by; }

 private:
  core::TimePoint now_ = core::from_unix_ms(1'800'000'000'000);
};

class FakeOrders final : public orders::OrdersApi {
 public:
  std::map<std::string, orders::Order> by_id;
  std::optional<orders::Order> find_order(std::string_view id) override {
    auto it = by_id.find(std::string(id));
    if (it == by_id.end()) return std::nullopt;
    return it->second;
  }
};

class FakePayments final : public payments::PaymentsApi {
 public:
  std::map<std::string, payments::Payment> by_order;
  std::map<std::string, std::int64_t> refunds;  // refund id → amount
  payments::Payment authorize(const payments::AuthorizationRequest&) override { throw Error(ErrorKind::internal, "-"); }
  payments::Payment void_authorization(std::string_view) override { throw Error(ErrorKind::internal, "-"); }
  payments::Payment refund(std::string_view order_id, std::int64_t amount, std::string_view,
                           std::string_view refund_id) override {
    auto& p = by_order.at(std::string(order_id));
    if (refunds.contains(std::string(refund_id))) return p;
    if (p.refunded_amount + amount > p.captured_amount) throw Error(ErrorKind::unprocessable, "too much");
    refunds[std::string(refund_id)] = amount;
    p.refunded_amount += amount;
    return p;
  }
  std::optional<payments::Payment> find_by_order(std::string_view order_id) override {
    auto it = by_order.find(std::string(order_id));
    if (it == by_order.end()) return std::nullopt;
    return it->second;
  }
};

class FakeDelivery final : public delivery::DeliveryApi {
 public:
  std::map<std::string, delivery::Delivery> latest;  // by order
  std::map<std::string, std::string> redeliveries;   // request id → order
  delivery::ScheduleOutcome schedule(const delivery::ScheduleRequest&) override {
    throw Error(ErrorKind::internal, "-");
  }
  std::optional<delivery::Delivery> cancel(std::string_view, delivery::StopRule) override {
    throw Error(ErrorKind::internal, "-");
  }
  delivery::Delivery redeliver(std::string_view order_id, std::string_view request_id) override {
    redeliveries.try_emplace(std::string(request_id), std::string(order_id));
    auto& d = latest.at(std::string(order_id));
    d.status = delivery::DeliveryStatus::unassigned;
    return d;
  }
  std::optional<delivery::Delivery> find_by_order(std::string_view order_id) override {
    auto it = latest.find(std::string(order_id));
    if (it == latest.end()) return std::nullopt;
    return it->second;
  }
};

struct World {
  testing::TempDatabase db{"incidents", migrations()};
  ManualClock clock;
  core::events::Outbox outbox{"incidents", clock, std::make_shared<core::events::OutboxSignal>()};
  FakeOrders orders;
  FakePayments payments;
  FakeDelivery deliveries;
  IncidentService service{*db, outbox, clock, orders, payments, deliveries};
  const std::string alice = core::new_id("cus");
  const Actor alice_acts{alice, false};
  const Actor operator_acts{core::new_id("usr"), true};

  // An order of alice's; `captured` minor units captured; its delivery in `status`.
  orders::Order order(std::int64_t captured = 0,
                      delivery::DeliveryStatus status = delivery::DeliveryStatus::delivered) {
    orders::Order o;
    o.id = core::new_id("ord");
    o.customer_id = alice;
    o.total = 2500;
    o.status = orders::OrderStatus::delivered;
    orders.by_id[o.id] = o;
    payments::Payment p;
    p.id = core::new_id("pay");
    p.order_id = o.id;
    p.amount = 2500;
    p.captured_amount = captured;
    payments.by_order[o.id] = p;
    delivery::Delivery d;
    d.id = core::new_id("dlv");
    d.order_id = o.id;
    d.status = status;
    deliveries.latest[o.id] = d;
    return o;
  }
  Incident open(const orders::Order& o, IncidentType type = IncidentType::damaged) {
    return service.open({o.id, type, "squashed"}, alice_acts);
  }
  std::vector<std::string> events() { return testing::outbox_types(*db, "incidents"); }
  core::events::Envelope delivery_event(std::string_view type, const std::string& order_id,
                                        const std::string& delivery_id, core::TimePoint promised_by) {
    core::events::Envelope e;
    e.id = core::new_id("evt");
    e.type = std::string(type);
    e.aggregate_id = order_id;
    e.payload = {{"delivery_id", delivery_id},
                 {"order_id", order_id},
                 {"customer_id", alice},
                 {"promised_by", core::format_rfc3339(promised_by)},
                 {"reason", "nobody home"}};
    return e;
  }
  // What the bus does with incident.resolved: the last one in the outbox, applied.
  void apply_last_resolution(const Incident& incident) {
    core::events::Envelope e;
    e.type = std::string(events::kIncidentResolved);
    e.aggregate_id = incident.order_id;
    e.payload = {{"incident_id", incident.id}, {"resolution", to_string(*incident.resolution)}};
    if (incident.refund_amount) e.payload["amount"] = *incident.refund_amount;
    service.apply_resolution(e);
  }
};

}  // namespace

TEST_CASE("customers open incidents on their own orders only; operators on any") {
  World w;
  auto mine = w.order();
  auto incident = w.open(mine);
  CHECK(incident.status == IncidentStatus::open);
  CHECK(incident.customer_id == w.alice);
  CHECK(incident.opened_by == "customer");
  CHECK(w.events() == std::vector<std::string>{"incident.opened"});

  auto theirs = mine;
  theirs.id = core::new_id("ord");
  theirs.customer_id = core::new_id("cus");
  w.orders.by_id[theirs.id] = theirs;
  CHECK(kind_of([&] { w.open(theirs); }) == ErrorKind::unprocessable);
  CHECK(kind_of([&] {
          w.service.open({"ord_missing", IncidentType::other, "x"}, w.alice_acts);
        }) == ErrorKind::unprocessable);
  auto by_operator = w.service.open({theirs.id, IncidentType::missing_item, "no drink"}, w.operator_acts);
  CHECK(by_operator.customer_id == theirs.customer_id);
  CHECK(by_operator.opened_by == "operator");
  // Alice cannot see it, comment on it or find it in her list.
  CHECK(kind_of([&] { w.service.get(by_operator.id, w.alice_acts); }) == ErrorKind::not_found);
  CHECK(kind_of([&] { w.service.comment(by_operator.id, "hi", w.alice_acts); }) == ErrorKind::not_found);
  CHECK(w.service.list({w.alice, std::nullopt, std::nullopt}, 50, std::nullopt).incidents.size() == 1);
  CHECK(w.events().size() == 2);
}

TEST_CASE("the incident state machine: comments, resolve, reject, nothing after settling") {
  World w;
  auto incident = w.open(w.order(2500));
  w.service.comment(incident.id, "it was cold too", w.alice_acts);
  CHECK(w.service.get(incident.id, w.alice_acts).status == IncidentStatus::open);  // a customer's comment
  w.service.comment(incident.id, "looking into it", w.operator_acts);
  auto worked = w.service.get(incident.id, w.alice_acts);
  CHECK(worked.status == IncidentStatus::in_progress);
  CHECK(worked.comments.size() == 2);
  CHECK(worked.comments[1].author_role == "operator");

  auto resolved = w.service.resolve(incident.id, {Resolution::none, std::nullopt});
  CHECK(resolved.status == IncidentStatus::resolved);
  for (auto settle :
       std::vector<std::function<void()>>{[&] {
                                            w.service.resolve(incident.id, {Resolution::none, std::nullopt});
                                          },
                                          [&] { w.service.reject(incident.id, "no"); },
                                          [&] { w.service.comment(incident.id, "more", w.alice_acts); }}) {
    try {
      settle();
      FAIL("a settled incident changed");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::conflict);
      CHECK(e.extensions().at("current_status") == "resolved");
    }
  }

  auto rejected = w.service.reject(w.open(w.order()).id, "photo shows it intact");
  CHECK(rejected.status == IncidentStatus::rejected);
  CHECK(rejected.rejection_reason == std::optional<std::string>("photo shows it intact"));
  CHECK(kind_of([&] { w.service.resolve(rejected.id, {Resolution::none, std::nullopt}); }) == ErrorKind::conflict);
  CHECK(kind_of([&] { w.service.reject("inc_missing", "x"); }) == ErrorKind::not_found);
  CHECK(w.events() ==
        std::vector<std::string>{"incident.opened", "incident.resolved", "incident.opened", "incident.rejected"});
}

TEST_CASE("a refund resolution is checked against what is refundable, then refunds once") {
  World w;
  auto uncaptured = w.open(w.order(0));
  CHECK(kind_of([&] { w.service.resolve(uncaptured.id, {Resolution::refund, 100}); }) == ErrorKind::conflict);
  auto order = w.order(2500);
  auto incident = w.open(order);
  try {
    w.service.resolve(incident.id, {Resolution::refund, 2501});
    FAIL("refunded more than captured");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unprocessable);
    CHECK(e.extensions().at("refundable_amount") == 2500);
  }
  CHECK(w.service.get(incident.id, w.alice_acts).status == IncidentStatus::open);  // nothing changed
  auto resolved = w.service.resolve(incident.id, {Resolution::refund, 700});
  CHECK(resolved.refund_amount == std::optional<std::int64_t>(700));
  w.apply_last_resolution(resolved);
  w.apply_last_resolution(resolved);  // delivered twice: refunded once
  CHECK(w.payments.by_order.at(order.id).refunded_amount == 700);
  CHECK(w.payments.refunds.size() == 1);

  // A second incident on the same order may refund only the rest.
  auto second = w.open(order);
  CHECK(kind_of([&] { w.service.resolve(second.id, {Resolution::refund, 1801}); }) == ErrorKind::unprocessable);
  w.apply_last_resolution(w.service.resolve(second.id, {Resolution::refund, 1800}));
  CHECK(w.payments.by_order.at(order.id).refunded_amount == 2500);
}

TEST_CASE("a redelivery resolution needs a delivery that ended; it is requested once per incident") {
  World w;
  auto on_its_way = w.order(0, delivery::DeliveryStatus::picked_up);
  auto early = w.open(on_its_way);
  CHECK(kind_of([&] { w.service.resolve(early.id, {Resolution::redeliver, std::nullopt}); }) == ErrorKind::conflict);
  auto cancelled = w.order(0, delivery::DeliveryStatus::cancelled);
  w.orders.by_id[cancelled.id].status = orders::OrderStatus::cancelled;
  auto of_cancelled = w.open(cancelled);
  CHECK(kind_of([&] {
          w.service.resolve(of_cancelled.id, {Resolution::redeliver, std::nullopt});
        }) == ErrorKind::conflict);

  auto failed = w.order(0, delivery::DeliveryStatus::failed);
  auto incident = w.open(failed, IncidentType::not_delivered);
  auto resolved = w.service.resolve(incident.id, {Resolution::redeliver, std::nullopt});
  w.apply_last_resolution(resolved);
  w.apply_last_resolution(resolved);
  CHECK(w.deliveries.redeliveries.size() == 1);
  CHECK(w.deliveries.redeliveries.at("incident:" + incident.id) == failed.id);
}

TEST_CASE("a failed delivery opens one not_delivered incident however often the event comes") {
  World w;
  auto order = w.order(0, delivery::DeliveryStatus::failed);
  const auto event = w.delivery_event(delivery::events::kDeliveryFailed, order.id, "dlv_1", w.clock.now());
  for (int i = 0; i < 2; ++i) {
    w.db->write([&](core::db::Transaction& tx) { w.service.on_delivery_failed(tx, event); });
  }
  auto page = w.service.list({std::nullopt, order.id, std::nullopt}, 50, std::nullopt);
  REQUIRE(page.incidents.size() == 1);
  CHECK(page.incidents[0].type == IncidentType::not_delivered);
  CHECK(page.incidents[0].opened_by == "system");
  CHECK(page.incidents[0].customer_id == w.alice);
  CHECK(page.incidents[0].description == "The delivery failed: nobody home");
  CHECK(w.service.get(page.incidents[0].id, w.alice_acts).id == page.incidents[0].id);  // the customer sees it
}

TEST_CASE("a delivery past its promise opens one late incident; one delivered in time opens none") {
  World w;
  auto late = w.order(0, delivery::DeliveryStatus::assigned);
  auto on_time = w.order(0, delivery::DeliveryStatus::assigned);
  const auto promise = w.clock.now() + std::chrono::minutes(45);
  const auto late_id = w.deliveries.latest[late.id].id;
  const auto on_time_id = w.deliveries.latest[on_time.id].id;
  w.db->write([&](core::db::Transaction& tx) {
    w.service.on_delivery_event(tx, w.delivery_event(delivery::events::kDeliveryScheduled, late.id, late_id, promise));
    w.service.on_delivery_event(
        tx, w.delivery_event(delivery::events::kDeliveryScheduled, on_time.id, on_time_id, promise));
  });
  w.clock.advance(std::chrono::minutes(44));
  CHECK(w.service.open_late_incidents() == 0);  // not yet
  w.db->write([&](core::db::Transaction& tx) {
    w.service.on_delivery_event(
        tx, w.delivery_event(delivery::events::kDeliveryCompleted, on_time.id, on_time_id, promise));
  });
  w.deliveries.latest[on_time.id].status = delivery::DeliveryStatus::delivered;
  w.clock.advance(std::chrono::minutes(2));
  CHECK(w.service.open_late_incidents() == 1);
  w.clock.advance(std::chrono::hours(1));
  CHECK(w.service.open_late_incidents() == 0);  // once
  auto page = w.service.list({std::nullopt, late.id, std::nullopt}, 50, std::nullopt);
  REQUIRE(page.incidents.size() == 1);
  CHECK(page.incidents[0].type == IncidentType::late);
  CHECK(w.service.list({std::nullopt, on_time.id, std::nullopt}, 50, std::nullopt).incidents.empty());

  // Our copy lags (the completion event is still on its way): the delivery's word wins.
  auto lagging = w.order(0, delivery::DeliveryStatus::delivered);
  w.db->write([&](core::db::Transaction& tx) {
    w.service.on_delivery_event(tx, w.delivery_event(delivery::events::kDeliveryScheduled, lagging.id,
                                                     w.deliveries.latest[lagging.id].id, w.clock.now()));
  });
  w.clock.advance(std::chrono::minutes(1));
  CHECK(w.service.open_late_incidents() == 0);
  CHECK(w.service.unsettled() == 1);
}
