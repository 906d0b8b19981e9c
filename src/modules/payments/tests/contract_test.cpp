// PaymentsApi's contract, run unchanged against the in-process service and against the remote
// client talking HTTP to a real server that hosts the module's internal routes: same calls,
// same results, same errors (issue 4, contract tests).
#include "core/auth/jws.hpp"
#include "core/auth/keys.hpp"
#include "core/auth/token_validator.hpp"
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/http/pipeline.hpp"
#include "core/http/router.hpp"
#include "core/http/server.hpp"
#include "core/metrics/metrics.hpp"
#include "core/remote/http_channel.hpp"
#include "core/util/ids.hpp"
#include "internal_routes.hpp"
#include "migrations.hpp"
#include "provider.hpp"
#include "remote_client.hpp"
#include "service.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

using namespace deliveryhub;
using namespace deliveryhub::payments;
using core::Error;
using core::ErrorKind;
using testing::kind_of;

namespace {

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The module as a process would run it, and both ways of calling it.
struct World {
  testing::TempDatabase db{"payments", migrations()};
  core::SystemClock clock;
  core::metrics::Metrics metrics;
  core::events::Outbox outbox{"payments", clock, std::make_shared<core::events::OutboxSignal>()};
  SimulatedProvider provider{SimulatorOptions{}};
  PaymentsService service{*db, outbox, clock, provider, metrics};

  core::auth::SigningKey key = core::auth::SigningKey::generate();
  core::auth::TokenValidator tokens{{"dh-test", "dh-api"}, keys()};
  core::metrics::HttpMetrics http_metrics{metrics};
  core::http::Router router;
  std::unique_ptr<core::http::Pipeline> pipeline;
  std::unique_ptr<core::http::Server> server;
  std::unique_ptr<core::remote::HttpChannel> channel;
  std::unique_ptr<RemotePayments> remote;
  std::string bearer;

  World() {
    add_internal_routes(router, service, tokens);
    pipeline = std::make_unique<core::http::Pipeline>(router, http_metrics);
    core::http::ServerOptions options;
    options.port = 0;
    server = std::make_unique<core::http::Server>(options, *pipeline);
    const auto port = server->start();
    bearer = token("svc-orders", {"service"});
    channel =
        std::make_unique<core::remote::HttpChannel>("payments", "http://127.0.0.1:" + std::to_string(port),
                                                    core::remote::ChannelOptions{}, metrics, [this] { return bearer; });
    remote = std::make_unique<RemotePayments>(*channel);
  }
  ~World() { server->stop(); }

  core::auth::KeySet keys() {
    core::auth::KeySet set;
    set.add({key.kid(), "ES256", key.public_pem()});
    return set;
  }
  std::string token(const std::string& subject, const std::vector<std::string>& roles) const {
    const nlohmann::json header{{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", key.kid()}};
    const nlohmann::json claims{{"iss", "dh-test"},   {"aud", "dh-api"}, {"sub", subject}, {"exp", now_s() + 600},
                                {"nbf", now_s() - 1}, {"iat", now_s()},  {"roles", roles}};
    return core::auth::sign_es256(header.dump(), claims.dump(), key.private_pem());
  }
  static AuthorizationRequest order(std::string method = "tok_visa", std::int64_t amount = 2599) {
    return {core::new_id("ord"), core::new_id("cus"), amount, "EUR", std::move(method)};
  }
};

// The contract, against whichever implementation `api` is.
void authorize_capture_refund(PaymentsApi& api) {
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
  const auto captured = api.capture(request.order_id);
  CHECK(captured.status == PaymentStatus::captured);
  CHECK(captured.captured_amount == 2599);
  CHECK(api.capture(request.order_id).captured_amount == 2599);  // idempotent
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
  CHECK(kind_of([&] { api.capture(declined.order_id); }) == ErrorKind::conflict);
  CHECK(kind_of([&] { api.capture(core::new_id("ord")); }) == ErrorKind::not_found);

  const auto request = World::order();
  api.authorize(request);
  CHECK(api.void_authorization(request.order_id).status == PaymentStatus::voided);
  CHECK(api.void_authorization(request.order_id).status == PaymentStatus::voided);
  CHECK(kind_of([&] { api.capture(request.order_id); }) == ErrorKind::conflict);
}

}  // namespace

TEST_CASE("contract, in process: authorize, capture, refund limits, idempotence") {
  World w;
  authorize_capture_refund(w.service);
}

TEST_CASE("contract, remote: authorize, capture, refund limits, idempotence") {
  World w;
  authorize_capture_refund(*w.remote);
}

TEST_CASE("contract, in process: declines, voids and unknown orders") {
  World w;
  declined_and_voided(w.service);
}

TEST_CASE("contract, remote: declines, voids and unknown orders") {
  World w;
  declined_and_voided(*w.remote);
}

TEST_CASE("the internal API answers only service tokens, and validates what it is sent") {
  World w;
  w.bearer = "";
  CHECK(kind_of([&] { w.remote->authorize(World::order()); }) == ErrorKind::unauthorized);
  w.bearer = w.token("cus_1", {"customer"});
  CHECK(kind_of([&] { w.remote->authorize(World::order()); }) == ErrorKind::forbidden);
  w.bearer = w.token("svc-orders", {"service"});
  try {
    w.channel->call(
        {"POST", "/internal/v1/payments/refund", nlohmann::json{{"order_id", "ord_1"}, {"amount", -5}}, true});
    FAIL("accepted a negative refund without a reason");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::validation);
    CHECK(e.errors().size() >= 3);  // amount, reason, refund_id
  }
  CHECK(kind_of([&] {
          w.channel->call({"POST", "/internal/v1/payments/capture",
                           nlohmann::json{{"order_id", "x"}, {"status", "captured"}}, true});
        }) == ErrorKind::validation);  // no unknown fields
}
