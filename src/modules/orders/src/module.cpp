#include "orders/module.hpp"

#include "catalog_routes.hpp"
#include "catalog_service.hpp"
#include "consumers.hpp"
#include "core/metrics/table_counts.hpp"
#include "internal_routes.hpp"
#include "local_api.hpp"
#include "migrations.hpp"
#include "order_routes.hpp"
#include "order_service.hpp"
#include "remote_client.hpp"
#include "saga.hpp"
#include "saga_backlog.hpp"
#include "settings.hpp"

namespace deliveryhub::orders {
namespace {

class Module final : public OrdersModule {
 public:
  Module(core::Platform& platform, customers::CustomersApi& customers, payments::PaymentsApi& payments,
         delivery::DeliveryApi& delivery)
      : platform_(platform),
        outbox_("orders", platform.clock, platform.outbox_signal),
        catalog_(platform.database, platform.clock),
        backlog_(platform.database, platform.settings.module_values.number(settings::kMaxSagaBacklog)),
        saga_(platform.database, outbox_, platform.clock, payments, delivery, platform.metrics,
              SagaOptions{.on_finished = [this] { backlog_.finished(); }}),
        orders_(
            platform.database, outbox_, platform.clock, catalog_, customers, delivery,
            [this] {
              backlog_.placed();
              saga_.wake();
            },
            [this, &payments] {
              backlog_.admit();
              payments.require_available();
            }),
        api_(catalog_, orders_) {}

  std::string_view name() const override { return "orders"; }
  std::vector<core::db::Migration> migrations() const override { return orders::migrations(); }
  OrdersApi& api() override { return api_; }
  void add_routes(core::http::Router& router) override {
    add_catalog_routes(router, catalog_, platform_.tokens);
    add_order_routes(router, orders_, platform_.tokens, backlog_.limit());
    add_internal_routes(router, api_, platform_.tokens);
  }
  void subscribe(core::events::EventBus& bus) override {
    subscribe_to_delivery(bus, platform_.database, outbox_, platform_.clock);
    subscribe_to_delivery_stops(bus, platform_.database, platform_.clock);
    subscribe_to_payments(bus, platform_.database, platform_.clock);
  }
  void start() override {
    core::metrics::export_table_counts(
        platform_.metrics, platform_.database, "deliveryhub_orders", "Orders by status", "status",
        std::vector<std::string>{"pending", "payment_authorized", "confirmed", "dispatched", "delivered", "rejected",
                                 "cancelled", "delivery_failed"},
        "SELECT status, COUNT(*) FROM orders_orders GROUP BY status");
    saga_.start();
  }
  void stop() override { saga_.stop(); }

 private:
  core::Platform& platform_;
  core::events::Outbox outbox_;
  CatalogService catalog_;
  SagaBacklog backlog_;
  OrderSaga saga_;
  OrderService orders_;
  LocalOrdersApi api_;
};

}  // namespace

std::unique_ptr<OrdersModule> make_module(core::Platform& platform, customers::CustomersApi& customers,
                                          payments::PaymentsApi& payments, delivery::DeliveryApi& delivery) {
  return std::make_unique<Module>(platform, customers, payments, delivery);
}

std::unique_ptr<OrdersApi> make_remote_api(core::remote::HttpChannel& channel) {
  return std::make_unique<RemoteOrders>(channel);
}

}  // namespace deliveryhub::orders
