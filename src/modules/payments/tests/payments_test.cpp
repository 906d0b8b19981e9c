#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/metrics/metrics.hpp"
#include "core/util/ids.hpp"
#include "migrations.hpp"
#include "provider.hpp"
#include "service.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <filesystem>

using namespace deliveryhub;
using namespace deliveryhub::payments;
using core::Error;
using core::ErrorKind;
using testing::kind_of;

namespace {

// A provider that counts calls and fails transiently a set number of times first.
class ScriptedProvider final : public PaymentProvider {
 public:
  int transient_failures = 0;
  int calls = 0;
  std::vector<std::string> authorize_keys;
  ProviderResult next(ProviderResult ok = {}) {
    ++calls;
    if (transient_failures > 0) {
      --transient_failures;
      return {ProviderResult::Outcome::transient_failure, "timeout"};
    }
    return ok;
  }
  ProviderResult authorize(std::string_view key, std::int64_t, std::string_view, std::string_view method) override {
    authorize_keys.emplace_back(key);
    return next(method == "tok_declined" ? ProviderResult{ProviderResult::Outcome::declined, "card_declined"}
                                         : ProviderResult{});
  }
  ProviderResult capture(std::string_view, std::int64_t) override { return next(); }
  ProviderResult void_authorization(std::string_view) override { return next(); }
  ProviderResult refund(std::string_view, std::int64_t) override { return next(); }
};

struct World {
  testing::TempDatabase db{"payments", migrations()};
  core::SystemClock clock;
  core::metrics::Metrics metrics;
  core::events::Outbox outbox{"payments", clock, std::make_shared<core::events::OutboxSignal>()};
  ScriptedProvider provider;
  std::unique_ptr<PaymentsService> service;
  World() {
    service = std::make_unique<PaymentsService>(*db, outbox, clock, provider, metrics,
                                                RetryPolicy{3, std::chrono::milliseconds(1)});
  }
  AuthorizationRequest order(std::string method = "tok_visa", std::int64_t amount = 2599) {
    return {core::new_id("ord"), core::new_id("cus"), amount, "EUR", std::move(method)};
  }
  std::vector<std::string> events() { return testing::outbox_types(*db, "payments"); }
};

}  // namespace

TEST_CASE("authorize is idempotent by order id: a repeat never charges twice") {
  World w;
  auto request = w.order();
  auto first = w.service->authorize(request);
  auto again = w.service->authorize(request);
  CHECK(first.status == PaymentStatus::authorized);
  CHECK(again.id == first.id);
  CHECK(w.provider.calls == 1);
  CHECK(w.events() == std::vector<std::string>{"payment.authorized"});
}

TEST_CASE("a declined card is a declined payment, not an error") {
  World w;
  auto payment = w.service->authorize(w.order("tok_declined"));
  CHECK(payment.status == PaymentStatus::declined);
  REQUIRE(payment.operations.size() == 1);
  CHECK_FALSE(payment.operations[0].succeeded);
  CHECK(payment.operations[0].reason == "card_declined");
  CHECK(w.events() == std::vector<std::string>{"payment.declined"});
  CHECK(kind_of([&] { w.service->capture(payment.order_id); }) == ErrorKind::conflict);
  CHECK(w.service->void_authorization(payment.order_id).status == PaymentStatus::declined);  // nothing to void
}

TEST_CASE("transient provider failures are retried, then reported as unavailable with nothing stored") {
  World w;
  w.provider.transient_failures = 2;
  CHECK(w.service->authorize(w.order()).status == PaymentStatus::authorized);
  CHECK(w.provider.calls == 3);

  World down;
  down.provider.transient_failures = 5;
  auto request = down.order();
  CHECK(kind_of([&] { down.service->authorize(request); }) == ErrorKind::unavailable);
  CHECK_FALSE(down.service->find_by_order(request.order_id));
  CHECK(down.events().empty());
}

TEST_CASE("capture, void and their idempotence") {
  World w;
  auto captured = w.service->authorize(w.order());
  captured = w.service->capture(captured.order_id);
  CHECK(captured.status == PaymentStatus::captured);
  CHECK(captured.captured_amount == 2599);
  const int calls = w.provider.calls;
  CHECK(w.service->capture(captured.order_id).status == PaymentStatus::captured);
  CHECK(w.provider.calls == calls);  // no second capture at the provider
  CHECK(kind_of([&] { w.service->void_authorization(captured.order_id); }) == ErrorKind::conflict);

  auto voided = w.service->authorize(w.order());
  voided = w.service->void_authorization(voided.order_id);
  CHECK(voided.status == PaymentStatus::voided);
  CHECK(w.service->void_authorization(voided.order_id).status == PaymentStatus::voided);
  CHECK(kind_of([&] { w.service->capture(voided.order_id); }) == ErrorKind::conflict);
  CHECK(kind_of([&] { w.service->capture(core::new_id("ord")); }) == ErrorKind::not_found);
}

TEST_CASE("refunds never exceed the captured amount and are idempotent by refund id") {
  World w;
  auto payment = w.service->authorize(w.order("tok_visa", 1000));
  CHECK(kind_of([&] { w.service->refund(payment.order_id, 100, "early", "r0"); }) == ErrorKind::conflict);
  w.service->capture(payment.order_id);
  auto partial = w.service->refund(payment.order_id, 400, "late", "r1");
  CHECK(partial.status == PaymentStatus::partially_refunded);
  CHECK(partial.refunded_amount == 400);
  CHECK(w.service->refund(payment.order_id, 400, "late", "r1").refunded_amount == 400);  // same refund again
  CHECK(kind_of([&] { w.service->refund(payment.order_id, 601, "too much", "r2"); }) == ErrorKind::unprocessable);
  CHECK(kind_of([&] { w.service->refund(payment.order_id, 0, "nothing", "r3"); }) == ErrorKind::unprocessable);
  auto full = w.service->refund(payment.order_id, 600, "rest", "r4");
  CHECK(full.status == PaymentStatus::refunded);
  CHECK(full.refunded_amount == 1000);
  CHECK(w.events() ==
        std::vector<std::string>{"payment.authorized", "payment.captured", "payment.refunded", "payment.refunded"});
}

TEST_CASE("the simulator: tok_visa approves, tok_declined declines, tok_flaky fails transiently, unknown declines") {
  SimulatedProvider always_flaky({std::chrono::milliseconds(0), std::chrono::milliseconds(0), 1.0, 0.0, 42});
  CHECK(always_flaky.authorize("k", 1, "EUR", "tok_visa").outcome == ProviderResult::Outcome::approved);
  CHECK(always_flaky.authorize("k", 1, "EUR", "tok_declined").outcome == ProviderResult::Outcome::declined);
  CHECK(always_flaky.authorize("k", 1, "EUR", "tok_flaky").outcome == ProviderResult::Outcome::transient_failure);
  CHECK(always_flaky.authorize("k", 1, "EUR", "tok_slow").outcome == ProviderResult::Outcome::approved);
  CHECK(always_flaky.authorize("k", 1, "EUR", "tok_other").outcome == ProviderResult::Outcome::declined);
  SimulatedProvider chaos({std::chrono::milliseconds(0), std::chrono::milliseconds(0), 0.0, 1.0, 7});
  CHECK(chaos.capture("k", 1).outcome == ProviderResult::Outcome::transient_failure);
}

TEST_CASE("a voided payment is authorized again for a redelivery, with a new provider key, once") {
  World w;
  auto payment = w.service->authorize(w.order());
  CHECK(w.service->authorize_again(payment.order_id).status == PaymentStatus::authorized);  // nothing to renew
  w.service->void_authorization(payment.order_id);
  auto renewed = w.service->authorize_again(payment.order_id);
  CHECK(renewed.status == PaymentStatus::authorized);
  CHECK(w.service->authorize_again(payment.order_id).status == PaymentStatus::authorized);  // a repeat: no call
  CHECK(w.provider.authorize_keys ==
        std::vector<std::string>{"authorize:" + payment.order_id, "authorize:" + payment.order_id + ":2"});
  CHECK(w.service->capture(payment.order_id).captured_amount == payment.amount);
  const auto ops = w.service->find_by_order(payment.order_id)->operations;
  REQUIRE(ops.size() == 4);  // authorize, void, authorize, capture
  CHECK(ops[2].type == OperationType::authorize);

  auto declined = w.service->authorize(w.order("tok_declined"));
  CHECK(w.service->authorize_again(declined.order_id).status == PaymentStatus::declined);  // not voided: as it is
  CHECK(kind_of([&] { w.service->authorize_again(core::new_id("ord")); }) == ErrorKind::not_found);
}
