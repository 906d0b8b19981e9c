#include "orders/module.hpp"

#include "catalog_routes.hpp"
#include "catalog_service.hpp"
#include "migrations.hpp"

namespace deliveryhub::orders {
namespace {

class Module final : public OrdersModule, private OrdersApi {
 public:
  Module(core::Platform& platform, customers::CustomersApi& customers)
      : platform_(platform), customers_(customers), catalog_(platform.database, platform.clock) {}

  std::string_view name() const override { return "orders"; }
  std::vector<core::db::Migration> migrations() const override { return orders::migrations(); }
  OrdersApi& api() override { return *this; }
  void add_routes(core::http::Router& router) override { add_catalog_routes(router, catalog_, platform_.tokens); }

 private:
  std::optional<Product> find_product_by_sku(std::string_view sku) override { return catalog_.find_by_sku(sku); }

  core::Platform& platform_;
  customers::CustomersApi& customers_;  // orders (issue 3) read customers and addresses through it
  CatalogService catalog_;
};

}  // namespace

std::unique_ptr<OrdersModule> make_module(core::Platform& platform, customers::CustomersApi& customers) {
  return std::make_unique<Module>(platform, customers);
}

}  // namespace deliveryhub::orders
