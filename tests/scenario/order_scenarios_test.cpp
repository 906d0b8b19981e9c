// The order's life across the five modules, in one process without sockets: the saga, its
// compensations, cancellation, delivery outcomes, incidents and redelivery. Each scenario ends
// with the invariant checker (World::finish). The black-box suite checks the same flows over
// HTTP in every shape; these pin the behaviour below it, in seconds.
#include "world.hpp"

#include <catch2/catch.hpp>
#include <thread>

using deliveryhub::scenario::World;
using namespace std::chrono_literals;

TEST_CASE("an order is paid for, dispatched, delivered and captured") {
  World world;
  const auto shop = world.open_shop();
  const auto customer = world.customer();
  const auto placed = world.place_order(customer, shop.sku);
  CHECK(placed["status"] == "pending");
  CHECK(placed["total"] == 3000);

  const auto confirmed = world.order_becomes(customer, placed["id"], "confirmed");
  REQUIRE(confirmed["delivery_id"].is_string());
  CHECK(world.payment(customer, confirmed["payment_id"])["status"] == "authorized");

  world.courier_reports(shop, confirmed["delivery_id"], "picked_up");
  world.order_becomes(customer, placed["id"], "dispatched");
  world.courier_reports(shop, confirmed["delivery_id"], "delivered");
  world.order_becomes(customer, placed["id"], "delivered");
  const auto payment = world.payment_becomes(customer, confirmed["payment_id"], "captured");
  CHECK(payment["captured_amount"] == 3000);
  world.finish();
}

TEST_CASE("a declined card rejects the order and schedules nothing") {
  World world;
  const auto shop = world.open_shop();
  const auto customer = world.customer();
  const auto placed = world.place_order(customer, shop.sku, "tok_declined");
  const auto rejected = world.order_becomes(customer, placed["id"], "rejected");
  CHECK(rejected["delivery_id"].is_null());
  if (rejected["payment_id"].is_string()) {
    CHECK(world.payment(customer, rejected["payment_id"])["status"] == "declined");
  }
  world.finish();
}

TEST_CASE("an address no zone serves rejects the order and voids its authorization") {
  World world;
  const auto shop = world.open_shop();
  const auto customer = world.customer("08001");
  const auto placed = world.place_order(customer, shop.sku);
  const auto rejected = world.order_becomes(customer, placed["id"], "rejected");
  REQUIRE(rejected["payment_id"].is_string());
  world.payment_becomes(customer, rejected["payment_id"], "voided");
  world.finish();
}

TEST_CASE("cancelling a confirmed order voids the payment and cancels the delivery") {
  World world;
  const auto shop = world.open_shop();
  const auto customer = world.customer();
  const auto placed = world.place_order(customer, shop.sku);
  const auto confirmed = world.order_becomes(customer, placed["id"], "confirmed");
  const auto cancel =
      world.call("POST", "/api/v1/orders/" + placed["id"].get<std::string>() + "/cancel", nullptr, customer.token);
  INFO(cancel.body.dump());
  REQUIRE(cancel.status == 200);
  world.order_becomes(customer, placed["id"], "cancelled");
  world.payment_becomes(customer, confirmed["payment_id"], "voided");
  const auto delivery = world.call("GET", "/api/v1/deliveries/" + confirmed["delivery_id"].get<std::string>(), nullptr,
                                   world.operator_token());
  REQUIRE(delivery.status == 200);
  world.eventually(
      [&]() -> std::optional<nlohmann::json> {
        auto now = world.call("GET", "/api/v1/deliveries/" + confirmed["delivery_id"].get<std::string>(), nullptr,
                              world.operator_token());
        if (now.body["status"] == "cancelled") return now.body;
        return std::nullopt;
      },
      "the delivery to be cancelled");
  // The courier can no longer pick it up.
  const auto late_pickup =
      world.call("POST", "/api/v1/deliveries/" + confirmed["delivery_id"].get<std::string>() + "/events",
                 {{"status", "picked_up"}}, shop.courier_token);
  CHECK(late_pickup.status == 409);
  world.finish();
}

TEST_CASE("a failed delivery voids the payment, opens an incident, and a redelivery completes the order") {
  World world;
  const auto shop = world.open_shop();
  const auto customer = world.customer();
  const auto placed = world.place_order(customer, shop.sku);
  const auto confirmed = world.order_becomes(customer, placed["id"], "confirmed");
  world.courier_reports(shop, confirmed["delivery_id"], "failed", "closed");
  world.order_becomes(customer, placed["id"], "delivery_failed");
  world.payment_becomes(customer, confirmed["payment_id"], "voided");

  const std::string order_id = placed["id"];
  const auto incident = world.eventually(
      [&]() -> std::optional<nlohmann::json> {
        auto page = world.call("GET", "/api/v1/incidents?order_id=" + order_id, nullptr, world.operator_token());
        if (page.status == 200 && !page.body["data"].empty()) return page.body["data"][0];
        return std::nullopt;
      },
      "the not-delivered incident");
  CHECK(incident["status"] == "open");
  const auto resolved = world.call("POST", "/api/v1/incidents/" + incident["id"].get<std::string>() + "/resolve",
                                   {{"resolution", "redeliver"}}, world.operator_token());
  INFO(resolved.body.dump());
  REQUIRE(resolved.status == 200);

  const auto again = world.eventually(
      [&]() -> std::optional<nlohmann::json> {
        auto current = world.order(customer, order_id);
        if (current["status"] == "confirmed" && current["delivery_id"] != confirmed["delivery_id"]) return current;
        return std::nullopt;
      },
      "the redelivery to be scheduled");
  world.deliver(shop, customer, again);
  world.finish();
}

TEST_CASE("a damaged delivery is refunded in part through an incident") {
  World world;
  const auto shop = world.open_shop();
  const auto customer = world.customer();
  const auto confirmed = world.confirmed_order(shop, customer);
  world.deliver(shop, customer, confirmed);

  const auto opened =
      world.call("POST", "/api/v1/incidents",
                 {{"order_id", confirmed["id"]}, {"type", "damaged"}, {"description", "dented"}}, customer.token);
  INFO(opened.body.dump());
  REQUIRE(opened.status == 201);
  const auto resolved = world.call("POST", "/api/v1/incidents/" + opened.body["id"].get<std::string>() + "/resolve",
                                   {{"resolution", "refund"}, {"amount", 400}}, world.operator_token());
  INFO(resolved.body.dump());
  REQUIRE(resolved.status == 200);
  const auto payment = world.payment_becomes(customer, confirmed["payment_id"], "partially_refunded");
  CHECK(payment["refunded_amount"] == 400);
  world.eventually(
      [&]() -> std::optional<nlohmann::json> {
        auto current = world.order(customer, confirmed["id"]);
        if (current["refunded_amount"] == 400) return current;
        return std::nullopt;
      },
      "the order to record the refund");
  // No more than what was captured can be refunded.
  const auto again =
      world.call("POST", "/api/v1/incidents",
                 {{"order_id", confirmed["id"]}, {"type", "missing_item"}, {"description", "no lid"}}, customer.token);
  REQUIRE(again.status == 201);
  const auto too_much = world.call("POST", "/api/v1/incidents/" + again.body["id"].get<std::string>() + "/resolve",
                                   {{"resolution", "refund"}, {"amount", 2601}}, world.operator_token());
  CHECK(too_much.status / 100 == 4);
  world.finish();
}

TEST_CASE("a delivery past its promise opens a late incident once the clock passes it") {
  World world;
  const auto shop = world.open_shop();
  const auto customer = world.customer();
  const auto placed = world.place_order(customer, shop.sku);
  const auto confirmed = world.order_becomes(customer, placed["id"], "confirmed");
  const std::string order_id = placed["id"];
  const auto late_incidents = [&] {
    auto page = world.call("GET", "/api/v1/incidents?order_id=" + order_id, nullptr, world.operator_token());
    REQUIRE(page.status == 200);
    return page.body["data"];
  };
  // Let the late-delivery check see the scheduled delivery, then look again before the promise.
  std::this_thread::sleep_for(1500ms);
  CHECK(late_incidents().empty());

  world.clock().advance(std::chrono::minutes(46));  // the promise is 45 minutes
  const auto incident = world.eventually(
      [&]() -> std::optional<nlohmann::json> {
        auto page = late_incidents();
        if (!page.empty()) return page[0];
        return std::nullopt;
      },
      "the late incident", 5s);
  CHECK(incident["type"] == "late");
  world.deliver(shop, customer, confirmed);
  world.finish();
}

TEST_CASE("the invariant checker that ends every scenario sees goods given away") {
  World world;
  const auto shop = world.open_shop();
  const auto customer = world.customer();
  const auto confirmed = world.confirmed_order(shop, customer);
  world.deliver(shop, customer, confirmed);
  world.finish();
  // Behind the modules' backs: the delivered order's money goes back.
  world.database().write_transaction([&](deliveryhub::core::db::Transaction& tx) {
    tx.execute("UPDATE payments_payments SET refunded_amount = captured_amount WHERE id = ?",
               {confirmed["payment_id"].get<std::string>()});
  });
  std::string report;
  CHECK_FALSE(world.consistent(report));
  CHECK_THAT(report, Catch::Contains(confirmed["id"].get<std::string>()));
}
