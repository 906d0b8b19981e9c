// PaymentsApi's contract, run unchanged against the in-process service and against the remote
// client talking HTTP to a real server that hosts the module's internal routes: same calls,
// same results, same errors (issue 4, contract tests).
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/metrics/metrics.hpp"
#include "core/util/ids.hpp"
#include "internal_routes.hpp"
#include "migrations.hpp"
#include "provider.hpp"
#include "remote_client.hpp"
#include "remote_fixture.hpp"
#include "service.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

using namespace deliveryhub;
using namespace deliveryhub::payments;
using core::Error;
using core::ErrorKind;
using testing::kind_of;

namespace {

// The module as a process would run it, and both ways of calling it.
struct World {
  testing::TempDatabase db{"payments", migrations()};
  core::SystemClock clock;
  core::metrics::Metrics metrics;
  core::events::Outbox outbox{"payments", clock, std::make_shared<core::events::OutboxSignal>()};
  SimulatedProvider provider{SimulatorOptions{}};
  PaymentsService service{*db, outbox, clock, provider, metrics};
  testing::RemoteFixture remote_side{[this](core::http::Router& router, const core::auth::TokenValidator& tokens) {
                                       add_internal_routes(router, service, tokens);
                                     },
                                     "payments"};
  RemotePayments remote{*remote_side.channel};

  static AuthorizationRequest order(std::string method = "tok_visa", std::int64_t amount = 2599) {
    return {core::new_id("ord"), core::new_id("cus"), amount, "EUR", std::move(method)};
  }
};

// The contract, against whichever implementation `api` is. Capturing is payments' own step (on
// delivery.completed), never another module's call: the test does it through the service.
void authorize_capture_refund(World& w, PaymentsApi& api) {
  const auto request = World::order();
  const auto authorized = api.authorize(request);
  CHECK(authorized.status == PaymentStatus::authorized);
  CHECK(authorized.order_id == request.order_id);
  CHECK(authorized.customer_id == request.customer_id);
  CHECK(authorized.amount == 2599);
  CHECK(api.authorize(request).id == authorized.id);  // idempotent by order id
  REQUIRE(api.find_by_order(request.order_id));
  CHECK(api.find_by_order(request.order_id)->id == authorized.id);
  CHECK_FALSE(api.find_by_order(core::new_id("ord")));

  CHECK(kind_of([&] { api.refund(request.order_id, 100, "too early", "r0"); }) == ErrorKind::conflict);
  w.service.capture(request.order_id);
  const auto captured = *api.find_by_order(request.order_id);
  CHECK(captured.status == PaymentStatus::captured);
  CHECK(captured.captured_amount == 2599);
  CHECK(kind_of([&] { api.void_authorization(request.order_id); }) == ErrorKind::conflict);

  try {
    api.refund(request.order_id, 5000, "too much", "r1");
    FAIL("refunded more than captured");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::unprocessable);
    CHECK(e.extensions().at("refundable_amount") == 2599);
  }
  const auto refunded = api.refund(request.order_id, 600, "dented box", "r2");
  CHECK(refunded.status == PaymentStatus::partially_refunded);
  CHECK(refunded.refunded_amount == 600);
  CHECK(api.refund(request.order_id, 600, "dented box", "r2").refunded_amount == 600);  // same refund id
  REQUIRE(refunded.operations.size() == 3);
  CHECK(refunded.operations[2].type == OperationType::refund);
  CHECK(refunded.operations[2].reason == "dented box");
}

void declined_and_voided(PaymentsApi& api) {
  const auto declined = api.authorize(World::order("tok_declined"));
  CHECK(declined.status == PaymentStatus::declined);
  REQUIRE(declined.operations.size() == 1);
  CHECK(declined.operations[0].reason == "card_declined");
  CHECK(api.void_authorization(declined.order_id).status == PaymentStatus::declined);  // nothing to void
  CHECK(kind_of([&] { api.void_authorization(core::new_id("ord")); }) == ErrorKind::not_found);

  const auto request = World::order();
  api.authorize(request);
  CHECK(api.void_authorization(request.order_id).status == PaymentStatus::voided);
  CHECK(api.void_authorization(request.order_id).status == PaymentStatus::voided);
  CHECK(kind_of([&] { api.refund(request.order_id, 100, "voided", "r9"); }) == ErrorKind::conflict);
}

}  // namespace

TEST_CASE("contract, in process: authorize, capture, refund limits, idempotence") {
  World w;
  authorize_capture_refund(w, w.service);
}

TEST_CASE("contract, remote: authorize, capture, refund limits, idempotence") {
  World w;
  authorize_capture_refund(w, w.remote);
}

TEST_CASE("contract, in process: declines, voids and unknown orders") {
  World w;
  declined_and_voided(w.service);
}

TEST_CASE("contract, remote: declines, voids and unknown orders") {
  World w;
  declined_and_voided(w.remote);
}

TEST_CASE("the internal API answers only service tokens, and validates what it is sent") {
  World w;
  w.remote_side.bearer = "";
  CHECK(kind_of([&] { w.remote.authorize(World::order()); }) == ErrorKind::unauthorized);
  w.remote_side.bearer = w.remote_side.token("cus_1", {"customer"});
  CHECK(kind_of([&] { w.remote.authorize(World::order()); }) == ErrorKind::forbidden);
  // Only orders authorizes and voids; incidents may refund and read (ADR 0022).
  w.remote_side.bearer = w.remote_side.service_token_for("incidents");
  CHECK(kind_of([&] { w.remote.authorize(World::order()); }) == ErrorKind::forbidden);
  CHECK(kind_of([&] { w.remote.void_authorization("ord_1"); }) == ErrorKind::forbidden);
  CHECK_FALSE(w.remote.find_by_order("ord_1"));
  w.remote_side.bearer = w.remote_side.service_token_for("delivery");
  CHECK(kind_of([&] { w.remote.find_by_order("ord_1"); }) == ErrorKind::forbidden);
  w.remote_side.bearer = w.remote_side.service_token_for("orders");
  try {
    w.remote_side.channel->call(
        {"POST", "/internal/v1/payments/refund", nlohmann::json{{"order_id", "ord_1"}, {"amount", -5}}, true});
    FAIL("accepted a negative refund without a reason");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::validation);
    CHECK(e.errors().size() >= 3);  // amount, reason, refund_id
  }
  CHECK(kind_of([&] {
          w.remote_side.channel->call(
              {"POST", "/internal/v1/payments/void", nlohmann::json{{"order_id", "x"}, {"status", "voided"}}, true});
        }) == ErrorKind::validation);  // no unknown fields
  // Capturing is payments' own step: no module may ask for it.
  CHECK(
      kind_of([&] {
        w.remote_side.channel->call({"POST", "/internal/v1/payments/capture", nlohmann::json{{"order_id", "x"}}, true});
      }) == ErrorKind::not_found);
}
