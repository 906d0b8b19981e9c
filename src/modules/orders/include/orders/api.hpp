#pragma once
// The orders module's public interface: the catalog (orders and the saga arrive with issue 3).
#include "core/util/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

/// Thread-safe. Errors are core::Error.
class OrdersApi {
 public:
  virtual ~OrdersApi() = default;
  /// The product with that SKU, active or not; nullopt when there is none.
  virtual std::optional<Product> find_product_by_sku(std::string_view sku) = 0;
};

}  // namespace deliveryhub::orders
