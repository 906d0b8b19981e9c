#pragma once
// The orders module's public interface: the catalog and orders.
#include "core/util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::orders {

/// A product of the catalog. Prices are integer minor units of `currency` (ISO 4217).
struct Product {
  std::string id;  // prd_…
  std::string sku;
  std::string name;
  std::int64_t price = 0;
  std::string currency;
  bool active = true;
  core::TimePoint created_at;
  core::TimePoint updated_at;
  std::int64_t version = 1;
};

enum class OrderStatus {
  pending,
  payment_authorized,
  confirmed,
  dispatched,
  delivered,
  rejected,
  cancelled,
  delivery_failed
};

struct OrderItem {
  std::string sku;
  std::string name;
  std::int64_t quantity = 1;
  std::int64_t unit_price = 0;
  std::int64_t line_total = 0;
};

struct OrderAddress {
  std::string label;
  std::string line1;
  std::string city;
  std::string postal_code;
  std::string country;
};

struct StatusChange {
  OrderStatus status;
  core::TimePoint at;
};

struct Order {
  std::string id;  // ord_…
  std::string customer_id;
  std::vector<OrderItem> items;
  std::int64_t total = 0;
  std::string currency;
  OrderAddress address;
  OrderStatus status = OrderStatus::pending;
  std::vector<StatusChange> status_history;
  std::optional<std::string> payment_id;
  std::optional<std::string> delivery_id;
  std::optional<std::string> rejection_reason;
  std::int64_t refunded_amount = 0;  // refunds made so far (incidents, operators, cancellation)
  core::TimePoint created_at;
  core::TimePoint updated_at;
  std::int64_t version = 1;
};

/// Thread-safe. Errors are core::Error.
class OrdersApi {
 public:
  virtual ~OrdersApi() = default;
  virtual std::optional<Order> find_order(std::string_view order_id) = 0;
};

std::string_view to_string(OrderStatus status);

}  // namespace deliveryhub::orders
