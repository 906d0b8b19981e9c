#include "catalog_repository.hpp"

namespace deliveryhub::orders::catalog_repository {
namespace {

constexpr std::string_view kColumns = "id, sku, name, price, currency, active, version, created_at, updated_at";

Product product_from(const core::db::Row& row) {
  Product p;
  p.id = row.text(0);
  p.sku = row.text(1);
  p.name = row.text(2);
  p.price = row.integer(3);
  p.currency = row.text(4);
  p.active = row.integer(5) != 0;
  p.version = row.integer(6);
  p.created_at = core::from_unix_ms(row.integer(7));
  p.updated_at = core::from_unix_ms(row.integer(8));
  return p;
}

std::optional<Product> one(core::db::Transaction& tx, const std::string& where, const std::string& value) {
  auto row =
      tx.query_one("SELECT " + std::string(kColumns) + " FROM orders_products WHERE " + where + " = $1", {value});
  if (!row) return std::nullopt;
  return product_from(*row);
}

}  // namespace

std::optional<Product> find(core::db::Transaction& tx, const std::string& id) {
  return one(tx, "id", id);
}

std::optional<Product> find_by_sku(core::db::Transaction& tx, const std::string& sku) {
  return one(tx, "sku", sku);
}

void insert(core::db::Transaction& tx, const Product& p) {
  tx.execute(
      "INSERT INTO orders_products (id, sku, name, price, currency, active, version, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {p.id, p.sku, p.name, p.price, p.currency, std::int64_t{p.active ? 1 : 0}, p.version,
       core::to_unix_ms(p.created_at), core::to_unix_ms(p.updated_at)});
}

bool update(core::db::Transaction& tx, const Product& p, std::int64_t expected_version) {
  return tx.execute(
             "UPDATE orders_products SET name = $1, price = $2, currency = $3, active = $4, version = version + 1, "
             "updated_at = $5 WHERE id = $6 AND version = $7",
             {p.name, p.price, p.currency, std::int64_t{p.active ? 1 : 0}, core::to_unix_ms(p.updated_at), p.id,
              expected_version}) == 1;
}

std::vector<Product> list(core::db::Transaction& tx, bool include_inactive, const std::optional<std::string>& before_id,
                          std::size_t limit) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM orders_products WHERE 1 = 1";
  core::db::Params params;
  if (!include_inactive) sql += " AND active = 1";
  if (before_id) {
    params.emplace_back(*before_id);
    sql += " AND id < $" + std::to_string(params.size());
  }
  params.emplace_back(static_cast<std::int64_t>(limit));
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
  std::vector<Product> products;
  for (const auto& row : tx.query(sql, params)) products.push_back(product_from(row));
  return products;
}

}  // namespace deliveryhub::orders::catalog_repository
