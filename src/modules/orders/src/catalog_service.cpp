#include "catalog_service.hpp"

#include "catalog_repository.hpp"
#include "core/util/ids.hpp"

#include <algorithm>

namespace deliveryhub::orders {

using core::Error;
using core::ErrorKind;

std::vector<core::FieldError> validate_sku(const std::string& sku) {
  const bool ok = !sku.empty() && sku.size() <= 64 && std::all_of(sku.begin(), sku.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
  if (!ok) return {{"sku", "must be 1 to 64 of A-Z a-z 0-9 . _ -"}};
  return {};
}

std::vector<core::FieldError> validate_currency(const std::string& currency) {
  const bool ok = currency.size() == 3 &&
                  std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!ok) return {{"currency", "must be an ISO 4217 code such as EUR"}};
  return {};
}

Product CatalogService::create(const NewProduct& input) {
  auto errors = validate_sku(input.sku);
  for (auto& e : validate_currency(input.currency)) errors.push_back(std::move(e));
  if (!errors.empty()) throw Error(ErrorKind::validation, "Some fields are invalid", errors);
  Product product;
  product.id = core::new_id("prd");
  product.sku = input.sku;
  product.name = input.name;
  product.price = input.price;
  product.currency = input.currency;
  product.active = input.active;
  product.created_at = product.updated_at = clock_.now();
  try {
    db_.write([&](core::db::Transaction& tx) { catalog_repository::insert(tx, product); });
  } catch (const core::db::UniqueViolation&) {
    throw Error(ErrorKind::conflict, "A product with SKU '" + input.sku + "' already exists");
  }
  return product;
}

Product CatalogService::update(const std::string& id, const ProductPatch& patch,
                               std::optional<std::int64_t> expected_version) {
  if (patch.currency) {
    auto errors = validate_currency(*patch.currency);
    if (!errors.empty()) throw Error(ErrorKind::validation, "Some fields are invalid", errors);
  }
  return db_.write([&](core::db::Transaction& tx) {
    auto current = catalog_repository::find(tx, id);
    if (!current) throw Error(ErrorKind::not_found, "No such product");
    if (expected_version && *expected_version != current->version) {
      throw Error(ErrorKind::precondition_failed, "The product changed since version " +
                                                      std::to_string(*expected_version) + "; it is now at version " +
                                                      std::to_string(current->version));
    }
    Product next = *current;
    if (patch.name) next.name = *patch.name;
    if (patch.price) next.price = *patch.price;
    if (patch.currency) next.currency = *patch.currency;
    if (patch.active) next.active = *patch.active;
    next.updated_at = clock_.now();
    catalog_repository::update(tx, next, current->version);
    return *catalog_repository::find(tx, id);
  });
}

std::optional<Product> CatalogService::find(const std::string& id) {
  if (!core::is_id(id, "prd")) return std::nullopt;
  return db_.read_statement([&](core::db::Transaction& tx) { return catalog_repository::find(tx, id); });
}

std::optional<Product> CatalogService::find_by_sku(std::string_view sku) {
  return db_.read_statement(
      [&](core::db::Transaction& tx) { return catalog_repository::find_by_sku(tx, std::string(sku)); });
}

ProductPage CatalogService::list(bool include_inactive, std::size_t limit, const std::optional<std::string>& after_id) {
  return db_.read([&](core::db::Transaction& tx) {
    ProductPage page;
    page.products = catalog_repository::list(tx, include_inactive, after_id, limit + 1);
    if (page.products.size() > limit) {
      page.products.pop_back();
      page.next_after = page.products.back().id;
    }
    return page;
  });
}

}  // namespace deliveryhub::orders
