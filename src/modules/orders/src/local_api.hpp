#pragma once
#include "catalog_service.hpp"
#include "order_service.hpp"
#include "orders/api.hpp"

namespace deliveryhub::orders {

/// OrdersApi in this process: the catalog's and the orders' services behind the module's API.
class LocalOrdersApi final : public OrdersApi {
 public:
  LocalOrdersApi(CatalogService& catalog, OrderService& orders) : catalog_(catalog), orders_(orders) {}
  std::optional<Order> find_order(std::string_view order_id) override { return orders_.find(std::string(order_id)); }

 private:
  CatalogService& catalog_;
  OrderService& orders_;
};

}  // namespace deliveryhub::orders
