#pragma once
#include "core/db/database.hpp"
#include "core/errors.hpp"
#include "orders/api.hpp"

#include <optional>
#include <string>
#include <vector>

namespace deliveryhub::orders {

struct NewProduct {
  std::string sku;
  std::string name;
  std::int64_t price = 0;
  std::string currency;
  bool active = true;
};

/// A PATCH: absent members stay as they are.
struct ProductPatch {
  std::optional<std::string> name;
  std::optional<std::int64_t> price;
  std::optional<std::string> currency;
  std::optional<bool> active;
};

struct ProductPage {
  std::vector<Product> products;
  std::optional<std::string> next_after;
};

/// The catalog's rules. Authorization is the routes' business. Thread-safe.
class CatalogService {
 public:
  CatalogService(core::db::Database& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  /// Throws Error: validation (bad sku, name, price, currency), conflict (SKU taken).
  Product create(const NewProduct& input);
  /// Throws Error: not_found, precondition_failed (stale `expected_version`), validation.
  Product update(const std::string& id, const ProductPatch& patch, std::optional<std::int64_t> expected_version);
  std::optional<Product> find(const std::string& id);
  std::optional<Product> find_by_sku(std::string_view sku);
  ProductPage list(bool include_inactive, std::size_t limit, const std::optional<std::string>& after_id);

 private:
  core::db::Database& db_;
  const core::Clock& clock_;
};

/// Field checks shared by create and update; each returns the violations found.
std::vector<core::FieldError> validate_sku(const std::string& sku);
std::vector<core::FieldError> validate_currency(const std::string& currency);

}  // namespace deliveryhub::orders
