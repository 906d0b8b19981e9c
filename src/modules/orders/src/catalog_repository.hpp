#pragma once
#include "core/db/database.hpp"
#include "orders/api.hpp"

#include <optional>
#include <string>
#include <vector>

/// The catalog's SQL. Every function runs in the caller's transaction.
namespace deliveryhub::orders::catalog_repository {

std::optional<Product> find(core::db::Transaction& tx, const std::string& id);
std::optional<Product> find_by_sku(core::db::Transaction& tx, const std::string& sku);
/// Throws core::db::UniqueViolation when the SKU is taken.
void insert(core::db::Transaction& tx, const Product& product);
/// Writes name, price, currency and active if the stored version is `expected_version`; bumps
/// the version. Returns false when it was not.
bool update(core::db::Transaction& tx, const Product& product, std::int64_t expected_version);
/// Products newest first, after `before_id` when given; only active ones unless `include_inactive`.
std::vector<Product> list(core::db::Transaction& tx, bool include_inactive, const std::optional<std::string>& before_id,
                          std::size_t limit);

}  // namespace deliveryhub::orders::catalog_repository
