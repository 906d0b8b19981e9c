#include "saga.hpp"

#include "catalog_service.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/util/ids.hpp"
#include "fake_customers.hpp"
#include "fake_delivery.hpp"
#include "migrations.hpp"
#include "order_repository.hpp"
#include "order_service.hpp"
#include "saga_backlog.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <thread>

using namespace deliveryhub;
using namespace deliveryhub::orders;
using core::Error;
using core::ErrorKind;
using deliveryhub::testing::kind_of;
using orders::fakes::FakeCustomers;

namespace {

// payments' api.hpp, faked: idempotent by order id like the real one; can fail before or after
// doing its work, to play a time-out or a crash.
class FakePayments final : public payments::PaymentsApi {
 public:
  std::map<std::string, payments::Payment> by_order;
  int authorizations = 0;                                // real charges made
  int fail_before = 0;                                   // next calls throw before doing anything
  int fail_after = 0;                                    // next calls do their work, then throw (the answer is lost)
  std::function<void(const std::string&)> on_authorize;  // runs first in each authorize call
  payments::Payment authorize(const payments::AuthorizationRequest& r) override {
    if (on_authorize) on_authorize(r.order_id);
    before();
    auto [it, created] = by_order.try_emplace(r.order_id);
    if (created) {
      ++authorizations;
      it->second.id = core::new_id("pay");
      it->second.order_id = r.order_id;
      it->second.amount = r.amount;
      it->second.status =
          r.payment_method == "tok_declined" ? payments::PaymentStatus::declined : payments::PaymentStatus::authorized;
    }
    after();
    return it->second;
  }
  payments::Payment void_authorization(std::string_view order_id) override {
    before();
    auto& p = by_order.at(std::string(order_id));
    p.status = payments::PaymentStatus::voided;
    after();
    return p;
  }
  std::map<std::string, std::int64_t> refunds;  // refund id → amount
  payments::Payment refund(std::string_view order_id, std::int64_t amount, std::string_view,
                           std::string_view refund_id) override {
    before();
    auto& p = by_order.at(std::string(order_id));
    if (refunds.try_emplace(std::string(refund_id), amount).second) p.refunded_amount += amount;
    p.status = p.refunded_amount == p.captured_amount ? payments::PaymentStatus::refunded
                                                      : payments::PaymentStatus::partially_refunded;
    after();
    return p;
  }
  std::optional<payments::Payment> find_by_order(std::string_view order_id) override {
    auto it = by_order.find(std::string(order_id));
    if (it == by_order.end()) return std::nullopt;
    return it->second;
  }

 private:
  void before() {
    if (fail_before > 0 && fail_before--) throw Error(ErrorKind::unavailable, "payments down");
  }
  void after() {
    if (fail_after > 0 && fail_after--) throw Error(ErrorKind::unavailable, "answer lost");
  }
};

using fakes::FakeDelivery;

struct World {
  testing::TempDatabase db{"orders", migrations()};
  core::SystemClock clock;
  core::events::Outbox outbox{"orders", clock, std::make_shared<core::events::OutboxSignal>()};
  FakeCustomers customers;
  FakePayments payments;
  FakeDelivery delivery;
  core::metrics::Metrics metrics;
  std::unique_ptr<CatalogService> catalog;
  std::unique_ptr<OrderService> orders;
  std::unique_ptr<OrderSaga> saga;
  World() {
    catalog = std::make_unique<CatalogService>(*db, clock);
    catalog->create({"PIZZA", "Pizza", 1250, "EUR", true});
    orders = std::make_unique<OrderService>(*db, outbox, clock, *catalog, customers, delivery, [] {});
    restart();
  }
  // A new saga runner over the same database: what a process restart gives.
  void restart() {
    saga = std::make_unique<OrderSaga>(
        *db, outbox, clock, payments, delivery, metrics,
        SagaOptions{std::chrono::milliseconds(500), std::chrono::milliseconds(0), std::chrono::milliseconds(0), 1});
  }
  Order place(const std::string& method = "tok_visa") {
    return orders->place({customers.customer.id, {{"PIZZA", 2}}, customers.customer.addresses[0].id, method});
  }
  OrderStatus status(const Order& order) { return orders->find(order.id)->status; }
  Order cancel(const Order& order, bool operator_role = false) {
    return orders->cancel(order.id, {operator_role ? "usr_operator" : customers.customer.id, operator_role, ""});
  }
  // Moves the order as the delivery consumer would (the courier picked it up, or delivered it).
  void force_status(const Order& order, OrderStatus status) {
    db->write([&](core::db::Transaction& tx) {
      auto o = *order_repository::find(tx, order.id);
      o.status = status;
      REQUIRE(order_repository::update(tx, o, true));
    });
  }
  std::vector<std::string> events() { return testing::outbox_types(*db, "orders"); }
};

}  // namespace

TEST_CASE("the happy path: pending → payment_authorized → confirmed") {
  World w;
  auto order = w.place();
  CHECK(order.status == OrderStatus::pending);
  CHECK(order.total == 2500);
  CHECK(w.saga->run_due() == 1);
  auto done = *w.orders->find(order.id);
  CHECK(done.status == OrderStatus::confirmed);
  CHECK(done.payment_id);
  CHECK(done.delivery_id);
  CHECK(done.status_history.size() == 3);
  CHECK(w.events() == std::vector<std::string>{"order.placed", "order.confirmed"});
  CHECK(w.saga->run_due() == 0);  // nothing left to do
  const auto exported = w.metrics.serialize();
  CHECK(exported.find("deliveryhub_saga_outcomes_total{outcome=\"confirmed\"} 1") != std::string::npos);
  CHECK(exported.find("deliveryhub_saga_duration_seconds_count{outcome=\"confirmed\"} 1") != std::string::npos);
}

TEST_CASE("declined payment rejects; unserved zone compensates with a void") {
  World w;
  auto declined = w.place("tok_declined");
  w.delivery.serve = false;
  auto unserved = w.place();
  w.saga->run_due();
  auto d = *w.orders->find(declined.id);
  CHECK(d.status == OrderStatus::rejected);
  CHECK(d.rejection_reason == std::optional<std::string>("payment_declined"));
  auto u = *w.orders->find(unserved.id);
  CHECK(u.status == OrderStatus::rejected);
  CHECK(u.rejection_reason == std::optional<std::string>("zone_not_served"));
  CHECK(w.payments.by_order.at(unserved.id).status == payments::PaymentStatus::voided);
}

TEST_CASE("a step that fails is retried, and a repeated call never charges twice") {
  World w;
  w.payments.fail_before = 1;  // payments down for the first try
  auto a = w.place();
  CHECK(w.saga->run_due() == 0);
  CHECK(w.status(a) == OrderStatus::pending);
  CHECK(w.saga->run_due() == 1);  // retry (backoff is 0 in this test)
  CHECK(w.status(a) == OrderStatus::confirmed);

  w.payments.fail_after = 1;  // the charge happens but its answer is lost (a time-out)
  auto b = w.place();
  w.saga->run_due();
  w.saga->run_due();
  CHECK(w.status(b) == OrderStatus::confirmed);
  CHECK(w.payments.authorizations == 2);  // one per order, not three
}

TEST_CASE("resume after a crash at every step boundary") {
  // After the payment was authorized but before the saga recorded it: the answer is lost and
  // the process "restarts"; the new runner asks again and gets the same authorization.
  World w;
  w.payments.fail_after = 1;
  auto a = w.place();
  w.saga->run_due();
  w.restart();
  w.saga->run_due();
  CHECK(w.status(a) == OrderStatus::confirmed);
  CHECK(w.payments.authorizations == 1);

  // After the delivery was scheduled but before the saga recorded it.
  w.delivery.fail_after = 1;
  auto b = w.place();
  w.saga->run_due();
  CHECK(w.status(b) == OrderStatus::payment_authorized);  // recorded up to the boundary
  w.restart();
  w.saga->run_due();
  CHECK(w.status(b) == OrderStatus::confirmed);
  CHECK(w.delivery.scheduled == 2);  // one per order

  // Before the compensation was recorded.
  w.delivery.serve = false;
  w.payments.fail_after = 0;
  auto c = w.place();
  w.payments.fail_before = 0;
  w.saga->run_due();
  CHECK(w.status(c) == OrderStatus::rejected);
}

TEST_CASE("orders refuse unknown SKUs and foreign addresses; suspended customers are rejected at once") {
  World w;
  try {
    w.orders->place({w.customers.customer.id, {{"NOPE", 1}}, core::new_id("adr"), "tok_visa"});
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unprocessable);
    REQUIRE(e.errors().size() == 2);
    CHECK(e.errors()[0].field == "address_id");
    CHECK(e.errors()[1].field == "items[0].sku");
  }
  w.customers.customer.status = customers::CustomerStatus::suspended;
  auto order = w.place();
  CHECK(order.status == OrderStatus::rejected);
  CHECK(order.rejection_reason == std::optional<std::string>("customer_suspended"));
  CHECK(w.saga->run_due() == 0);
  CHECK(w.payments.authorizations == 0);
}

TEST_CASE("cancellation: the owner before dispatch, an operator before delivery, never after") {
  World w;
  auto confirmed = w.place();
  w.saga->run_due();
  REQUIRE(w.status(confirmed) == OrderStatus::confirmed);
  auto cancelled = w.cancel(confirmed);
  CHECK(cancelled.status == OrderStatus::cancelled);
  CHECK(cancelled.status_history.back().status == OrderStatus::cancelled);
  w.saga->run_due();
  CHECK(w.payments.by_order.at(confirmed.id).status == payments::PaymentStatus::voided);
  CHECK(w.delivery.by_order.at(confirmed.id).status == delivery::DeliveryStatus::cancelled);
  CHECK(w.status(confirmed) == OrderStatus::cancelled);
  CHECK(w.events().back() == "order.cancelled");

  // Dispatched: the owner may not, an operator may.
  auto dispatched = w.place();
  w.saga->run_due();
  w.force_status(dispatched, OrderStatus::dispatched);
  try {
    w.cancel(dispatched);
    FAIL("the owner cancelled a dispatched order");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::conflict);
    CHECK(e.extensions().at("current_status") == "dispatched");
  }
  CHECK(w.cancel(dispatched, true).status == OrderStatus::cancelled);
  w.saga->run_due();
  CHECK(w.delivery.by_order.at(dispatched.id).status == delivery::DeliveryStatus::cancelled);

  // Terminal states refuse both, naming the status; nothing changes.
  for (auto terminal : {OrderStatus::delivered, OrderStatus::delivery_failed}) {
    auto o = w.place();
    w.saga->run_due();
    w.force_status(o, terminal);
    const auto events_before = w.events().size();
    CHECK(kind_of([&] { w.cancel(o, true); }) == ErrorKind::conflict);
    CHECK(kind_of([&] { w.cancel(o); }) == ErrorKind::conflict);
    CHECK(w.status(o) == terminal);
    CHECK(w.events().size() == events_before);
  }
  CHECK(kind_of([&] { w.cancel(confirmed); }) == ErrorKind::conflict);  // already cancelled
  auto declined = w.place("tok_declined");
  w.saga->run_due();
  CHECK(kind_of([&] { w.cancel(declined); }) == ErrorKind::conflict);  // rejected

  // Someone else's order does not exist for them.
  auto other = w.place();
  CHECK(kind_of([&] { w.orders->cancel(other.id, {"cus_someone_else", false, ""}); }) == ErrorKind::not_found);
  CHECK(kind_of([&] { w.orders->cancel("ord_nope", {w.customers.customer.id, false, ""}); }) == ErrorKind::not_found);
  CHECK(w.status(other) == OrderStatus::pending);
}

TEST_CASE("cancellation before the saga ran, and while a step's answer was lost") {
  World w;
  auto early = w.place();
  w.cancel(early);
  w.saga->run_due();
  CHECK(w.payments.authorizations == 0);  // never charged
  CHECK(w.status(early) == OrderStatus::cancelled);

  // The authorization went through but its answer was lost; then the customer cancelled.
  w.payments.fail_after = 1;
  auto in_flight = w.place();
  w.saga->run_due();
  REQUIRE(w.status(in_flight) == OrderStatus::pending);
  w.cancel(in_flight);
  w.restart();
  w.saga->run_due();
  CHECK(w.payments.by_order.at(in_flight.id).status == payments::PaymentStatus::voided);
  CHECK(w.metrics.serialize().find("deliveryhub_saga_outcomes_total{outcome=\"cancelled\"} 2") != std::string::npos);
  CHECK(w.orders->find(in_flight.id)->payment_id == w.payments.by_order.at(in_flight.id).id);
  CHECK_FALSE(w.delivery.by_order.contains(in_flight.id));  // never scheduled
  CHECK(w.saga->run_due() == 0);
}

TEST_CASE("a courier ahead of the order's record: the owner's cancel is refused, nothing changes") {
  World w;
  auto order = w.place();
  w.saga->run_due();
  REQUIRE(w.status(order) == OrderStatus::confirmed);
  // Picked up; delivery.picked_up has not reached orders yet, so the order still says confirmed.
  w.delivery.by_order.at(order.id).status = delivery::DeliveryStatus::picked_up;
  const auto events_before = w.events().size();
  try {
    w.cancel(order);
    FAIL("the owner cancelled an order the courier had picked up");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::conflict);
    CHECK(e.extensions().at("current_status") == "dispatched");
  }
  CHECK(w.status(order) == OrderStatus::confirmed);
  CHECK(w.events().size() == events_before);
  CHECK(w.payments.by_order.at(order.id).status == payments::PaymentStatus::authorized);
  CHECK(w.delivery.by_order.at(order.id).status == delivery::DeliveryStatus::picked_up);
}

TEST_CASE("a delivered order is always charged: a cancel that comes too late is refused") {
  World w;
  auto order = w.place();
  w.saga->run_due();
  w.delivery.by_order.at(order.id).status = delivery::DeliveryStatus::delivered;  // the record is behind
  CHECK(kind_of([&] { w.cancel(order, true); }) == ErrorKind::conflict);
  CHECK(w.status(order) == OrderStatus::confirmed);
  CHECK(w.payments.by_order.at(order.id).status == payments::PaymentStatus::authorized);  // captured next
  CHECK(w.saga->run_due() == 0);
}

TEST_CASE("the saga stops the delivery before it releases the money") {
  World w;
  auto order = w.place();
  w.saga->run_due();
  w.cancel(order);
  // Accepted: the delivery is stopped already, before any money moved.
  CHECK(w.delivery.by_order.at(order.id).status == delivery::DeliveryStatus::cancelled);
  CHECK(w.payments.by_order.at(order.id).status == payments::PaymentStatus::authorized);
  w.saga->run_due();
  CHECK(w.payments.by_order.at(order.id).status == payments::PaymentStatus::voided);
}

TEST_CASE("a cancellation overtaken by the delivery leaves the order delivered and charged") {
  World w;
  auto order = w.place();
  w.cancel(order);  // accepted before the saga scheduled anything: nothing to stop yet
  // The saga's schedule step ran meanwhile and the courier delivered before the cancel step.
  w.delivery.by_order[order.id] = delivery::Delivery{};
  w.delivery.by_order[order.id].id = core::new_id("dlv");
  w.delivery.by_order[order.id].order_id = order.id;
  w.delivery.by_order[order.id].status = delivery::DeliveryStatus::delivered;
  auto& payment = w.payments.by_order[order.id];  // authorized before the cancel came
  payment.id = core::new_id("pay");
  payment.order_id = order.id;
  payment.status = payments::PaymentStatus::authorized;
  w.saga->run_due();
  CHECK(w.status(order) == OrderStatus::delivered);
  CHECK(w.events().back() == "order.delivered");
  // Not voided: payments captures it on delivery.completed.
  CHECK(w.payments.by_order.at(order.id).status == payments::PaymentStatus::authorized);
  CHECK(w.metrics.serialize().find("outcome=\"cancel_overtaken\"") != std::string::npos);
}

TEST_CASE("one pass finishes every due saga, more than a batch of them") {
  World w;
  for (int i = 0; i < 250; ++i) w.place();
  CHECK(w.saga->run_due() == 250);
  CHECK(w.saga->run_due() == 0);
}

TEST_CASE("a delivery stopped without its cancel recorded (a crash between) ends in a cancelled order") {
  World w;
  auto order = w.place();
  w.saga->run_due();
  auto untouched = w.place();
  w.saga->run_due();
  // The request stopped the delivery, then died before it recorded the cancel.
  w.delivery.cancel(order.id, delivery::StopRule::before_pickup);
  w.db->write([&](core::db::Transaction& tx) {
    for (const auto& o : {order, untouched}) {
      order_repository::redirect_saga(tx, o.id, std::string(kReconcileCancelStep), w.clock.now(), "");
    }
  });
  w.saga->run_due();
  CHECK(w.status(order) == OrderStatus::cancelled);
  CHECK(w.payments.by_order.at(order.id).status == payments::PaymentStatus::voided);
  // An order whose delivery goes on is left as it was.
  CHECK(w.status(untouched) == OrderStatus::confirmed);
  CHECK(w.payments.by_order.at(untouched.id).status == payments::PaymentStatus::authorized);
  CHECK(w.saga->run_due() == 0);
}

TEST_CASE("a batch: a failed call is retried alone, and the rest of the batch goes on") {
  World w;
  std::vector<Order> placed;
  for (int i = 0; i < 5; ++i) placed.push_back(w.place());
  w.payments.fail_before = 1;  // the first call of the pass (sagas run in the order they were placed)
  CHECK(w.saga->run_due() == 4);
  CHECK(w.status(placed[0]) == OrderStatus::pending);
  for (std::size_t i = 1; i < placed.size(); ++i) CHECK(w.status(placed[i]) == OrderStatus::confirmed);
  const auto attempts = w.db->read([&](core::db::Transaction& tx) {
    return tx.query_one("SELECT attempts FROM orders_sagas WHERE order_id = $1", {placed[0].id})->integer(0);
  });
  CHECK(attempts == 1);
  CHECK(w.saga->run_due() == 1);  // its retry (backoff 0 here)
  CHECK(w.status(placed[0]) == OrderStatus::confirmed);
  CHECK(w.metrics.serialize().find("deliveryhub_saga_outcomes_total{outcome=\"confirmed\"} 5") != std::string::npos);
}

TEST_CASE("a batch: an order that changes between its call and its record is not overwritten") {
  World w;
  std::vector<Order> placed;
  for (int i = 0; i < 3; ++i) placed.push_back(w.place());
  // The customer cancels the second order while its payment is being authorized: the pass's
  // record of that authorization must not overwrite the cancellation.
  w.payments.on_authorize = [&](const std::string& order_id) {
    if (order_id == placed[1].id) w.cancel(placed[1]);
  };
  w.saga->run_due();
  w.payments.on_authorize = nullptr;
  CHECK(w.status(placed[0]) == OrderStatus::confirmed);
  CHECK(w.status(placed[2]) == OrderStatus::confirmed);
  CHECK(w.status(placed[1]) == OrderStatus::cancelled);
  w.saga->run_due();  // the cancel step, once the failed record's retry is due
  CHECK(w.status(placed[1]) == OrderStatus::cancelled);
  CHECK(w.payments.by_order.at(placed[1].id).status == payments::PaymentStatus::voided);
  CHECK(w.saga->run_due() == 0);
  // Only what committed is counted: two confirmed and one cancelled, nothing for the lost record.
  const auto exported = w.metrics.serialize();
  CHECK(exported.find("deliveryhub_saga_outcomes_total{outcome=\"confirmed\"} 2") != std::string::npos);
  CHECK(exported.find("deliveryhub_saga_outcomes_total{outcome=\"cancelled\"} 1") != std::string::npos);
}

TEST_CASE("stopping the runner ends its pass after the batch in hand, not after the whole backlog") {
  World w;
  for (int i = 0; i < 250; ++i) w.place();  // three batches
  w.payments.on_authorize = [](const std::string&) { std::this_thread::sleep_for(std::chrono::milliseconds(2)); };
  w.saga->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the first batch is under way
  w.saga->stop();
  const auto unfinished = w.db->read([](core::db::Transaction& tx) { return order_repository::unfinished_sagas(tx); });
  CHECK(unfinished >= 150);  // at most the first batch ran
  w.payments.on_authorize = nullptr;
  CHECK(w.saga->run_due() == static_cast<std::size_t>(unfinished));  // the rest: nothing else was claimed
}

namespace {
// PostgreSQL's behaviour on a serialization failure, played on SQLite: every write runs its work,
// is rolled back, and runs it again from the start (PostgresDatabase retries such writes). Work
// that changes anything outside its transaction breaks here.
class RetryingDatabase final : public core::db::Database {
 public:
  explicit RetryingDatabase(core::db::Database& inner) : inner_(inner) {}
  void write_transaction(const std::function<void(core::db::Transaction&)>& work) override {
    struct Retry {};
    try {
      inner_.write_transaction([&](core::db::Transaction& tx) {
        work(tx);
        throw Retry{};
      });
    } catch (const Retry&) {
    }
    inner_.write_transaction(work);
  }
  void read_transaction(const std::function<void(core::db::Transaction&)>& work) override {
    inner_.read_transaction(work);
  }
  void execute_script(core::db::Transaction& tx, std::string_view sql) override { inner_.execute_script(tx, sql); }
  std::string_view backend() const override { return "retrying"; }
  bool ping() override { return inner_.ping(); }
  void begin_unit_of_work() override { throw std::logic_error("no units of work here"); }
  void commit_unit_of_work(const std::function<void(core::db::Transaction&)>&) override {
    throw std::logic_error("no units of work here");
  }
  void abandon_unit_of_work() noexcept override {}

 private:
  core::db::Database& inner_;
};
}  // namespace

// On such a database (it joins no writes) each order's saga runs through on its own.
TEST_CASE("a saga whose writes are retried from the start (PostgreSQL) records each step once") {
  World w;
  RetryingDatabase retrying(*w.db);
  OrderSaga saga(
      retrying, w.outbox, w.clock, w.payments, w.delivery, w.metrics,
      SagaOptions{std::chrono::milliseconds(500), std::chrono::milliseconds(0), std::chrono::milliseconds(0), 1});
  std::vector<Order> placed;
  for (int i = 0; i < 3; ++i) placed.push_back(w.place());
  CHECK(saga.run_due() == 3);
  for (const auto& order : placed) {
    const auto done = *w.orders->find(order.id);
    CHECK(done.status == OrderStatus::confirmed);
    CHECK(done.status_history.size() == 3);
  }
}

TEST_CASE("past the saga backlog limit placement answers 503 with Retry-After, writes nothing, and admits again") {
  World w;
  // Counted afresh at every request (refresh 0): any replica's sagas count.
  SagaBacklog backlog(*w.db, 3, std::chrono::milliseconds(0));
  OrderService guarded(
      *w.db, w.outbox, w.clock, *w.catalog, w.customers, w.delivery, [&backlog] { backlog.placed(); },
      [&backlog] { backlog.admit(); });
  const PlaceOrder request{w.customers.customer.id, {{"PIZZA", 1}}, w.customers.customer.addresses[0].id, "tok_visa"};
  for (int i = 0; i < 3; ++i) guarded.place(request);
  const auto orders_before = w.db->read(
      [](core::db::Transaction& tx) { return tx.query_one("SELECT COUNT(*) FROM orders_orders")->integer(0); });
  try {
    guarded.place(request);
    FAIL("a fourth order was accepted past the limit of 3");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unavailable);
    CHECK(e.headers() == std::vector<std::pair<std::string, std::string>>{{"Retry-After", "2"}});
  }
  CHECK(w.db->read([](core::db::Transaction& tx) {
    return tx.query_one("SELECT COUNT(*) FROM orders_orders")->integer(0);
  }) == orders_before);
  CHECK(w.saga->run_due() == 3);  // the saga catches up
  CHECK(backlog.estimate() == 0);
  guarded.place(request);
}

TEST_CASE("between counts the backlog follows this process's placements and finished sagas") {
  World w;
  w.place();                                             // one unfinished saga before the first count
  SagaBacklog backlog(*w.db, 3, std::chrono::hours(1));  // counted once, then only followed
  CHECK(backlog.estimate() == 1);
  backlog.placed();
  backlog.placed();
  CHECK(backlog.estimate() == 3);
  CHECK(kind_of([&] { backlog.admit(); }) == ErrorKind::unavailable);
  backlog.finished();
  CHECK(backlog.estimate() == 2);
  backlog.admit();
  SagaBacklog unlimited(*w.db, 0);
  for (int i = 0; i < 10; ++i) unlimited.placed();
  unlimited.admit();  // 0: no limit
}

TEST_CASE("a saga's end is reported to on_finished once it has committed") {
  World w;
  int finished = 0;
  w.saga = std::make_unique<OrderSaga>(*w.db, w.outbox, w.clock, w.payments, w.delivery, w.metrics,
                                       SagaOptions{.on_finished = [&finished] { ++finished; }});
  w.place();
  w.place("tok_declined");
  CHECK(w.saga->run_due() == 2);
  CHECK(finished == 2);
}
