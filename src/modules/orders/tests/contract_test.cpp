// OrdersApi's contract, run unchanged against the in-process implementation and against the
// remote client talking HTTP to a real server that hosts the module's internal routes (issue 4).
#include "catalog_service.hpp"
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "core/util/ids.hpp"
#include "fake_customers.hpp"
#include "fake_delivery.hpp"
#include "internal_routes.hpp"
#include "local_api.hpp"
#include "migrations.hpp"
#include "order_service.hpp"
#include "remote_client.hpp"
#include "remote_fixture.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

using namespace deliveryhub;
using namespace deliveryhub::orders;
using core::ErrorKind;
using deliveryhub::testing::kind_of;

namespace {

struct World {
  deliveryhub::testing::TempDatabase db{"orders", migrations()};
  core::SystemClock clock;
  core::events::Outbox outbox{"orders", clock, std::make_shared<core::events::OutboxSignal>()};
  fakes::FakeCustomers customers;
  fakes::FakeDelivery delivery;
  CatalogService catalog{*db, clock};
  OrderService orders{*db, outbox, clock, catalog, customers, delivery, [] {}};
  LocalOrdersApi local{catalog, orders};
  deliveryhub::testing::RemoteFixture remote_side{
      [this](core::http::Router& router, const core::auth::TokenValidator& tokens) {
        add_internal_routes(router, local, tokens);
      },
      "orders"};
  RemoteOrders remote{*remote_side.channel};
};

void orders_found(World& w, OrdersApi& api) {
  const auto sku = "PIZZA.m_" + core::new_id("x").substr(2, 6);
  w.catalog.create({sku, "Pizza margherita", 1250, "EUR", true});
  const auto placed =
      w.orders.place({w.customers.customer.id, {{sku, 2}}, w.customers.customer.addresses[0].id, "tok_visa"});

  const auto order = api.find_order(placed.id);
  REQUIRE(order);
  CHECK(order->id == placed.id);
  CHECK(order->customer_id == w.customers.customer.id);
  CHECK(order->total == 2500);
  REQUIRE(order->items.size() == 1);
  CHECK(order->items[0].sku == sku);
  CHECK(order->items[0].quantity == 2);
  CHECK(order->address.postal_code == "28013");
  CHECK(order->status == OrderStatus::pending);
  REQUIRE(order->status_history.size() == 1);
  CHECK_FALSE(order->payment_id);
  CHECK(order->version == placed.version);
  CHECK_FALSE(api.find_order(core::new_id("ord")));
}

}  // namespace

TEST_CASE("orders contract, in process: orders") {
  World w;
  orders_found(w, w.local);
}

TEST_CASE("orders contract, remote: orders") {
  World w;
  orders_found(w, w.remote);
}

TEST_CASE("orders' internal API answers only service tokens, and only incidents") {
  World w;
  w.remote_side.bearer = w.remote_side.token("cus_1", {"customer"});
  CHECK(kind_of([&] { w.remote.find_order("ord_1"); }) == ErrorKind::forbidden);
  // Only incidents reads orders (ADR 0022).
  w.remote_side.bearer = w.remote_side.service_token_for("delivery");
  CHECK(kind_of([&] { w.remote.find_order("ord_1"); }) == ErrorKind::forbidden);
  w.remote_side.bearer = w.remote_side.service_token_for("incidents");
  CHECK_FALSE(w.remote.find_order("ord_1"));
  // No module reads the catalog: it has no internal route.
  CHECK(kind_of([&] {
          w.remote_side.channel->call({"GET", "/internal/v1/catalog/products?sku=X", std::nullopt, true});
        }) == ErrorKind::not_found);
}
