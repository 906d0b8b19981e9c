#include "repository.hpp"

#include "wire.hpp"

namespace deliveryhub::customers::repository {
namespace {

using core::db::Params;

constexpr std::string_view kAccountColumns = "id, email, name, role, password_hash, status";

AccountRecord account_from(const core::db::Row& row) {
  return {{row.text(0), row.text(1), row.text(2), role_from(row.text(3))}, row.text(4), status_from(row.text(5))};
}

}  // namespace

std::optional<Customer> find_customer(core::db::Transaction& tx, const std::string& id) {
  auto row = tx.query_one(
      "SELECT id, email, name, phone, status, created_at, updated_at, version FROM customers_accounts "
      "WHERE id = $1 AND role = 'customer'",
      {id});
  if (!row) return std::nullopt;
  Customer customer;
  customer.id = row->text(0);
  customer.email = row->text(1);
  customer.name = row->text(2);
  customer.phone = row->optional_text(3);
  customer.status = status_from(row->text(4));
  customer.created_at = core::from_unix_ms(row->integer(5));
  customer.updated_at = core::from_unix_ms(row->integer(6));
  customer.version = row->integer(7);
  for (const auto& address : tx.query("SELECT id, label, line1, city, postal_code, country FROM customers_addresses "
                                      "WHERE customer_id = $1 ORDER BY id",
                                      {id})) {
    customer.addresses.push_back(
        {address.text(0), address.text(1), address.text(2), address.text(3), address.text(4), address.text(5)});
  }
  return customer;
}

std::optional<AccountRecord> find_account_by_email(core::db::Transaction& tx, const std::string& email) {
  auto row =
      tx.query_one("SELECT " + std::string(kAccountColumns) + " FROM customers_accounts WHERE email = $1", {email});
  if (!row) return std::nullopt;
  return account_from(*row);
}

std::optional<AccountRecord> find_account(core::db::Transaction& tx, const std::string& id) {
  auto row = tx.query_one("SELECT " + std::string(kAccountColumns) + " FROM customers_accounts WHERE id = $1", {id});
  if (!row) return std::nullopt;
  return account_from(*row);
}

void insert_account(core::db::Transaction& tx, const Account& account, const std::string& password_hash,
                    const std::optional<std::string>& phone, core::TimePoint now) {
  const auto at = core::to_unix_ms(now);
  tx.execute(
      "INSERT INTO customers_accounts (id, email, password_hash, role, name, phone, status, version, created_at, "
      "updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', 1, $7, $8)",
      {account.id, account.email, password_hash, std::string(to_string(account.role)), account.name,
       core::db::nullable(phone), at, at});
}

bool update_profile(core::db::Transaction& tx, const std::string& id, const std::string& name,
                    const std::optional<std::string>& phone, std::int64_t expected_version, core::TimePoint now) {
  return tx.execute(
             "UPDATE customers_accounts SET name = $1, phone = $2, version = version + 1, updated_at = $3 "
             "WHERE id = $4 AND role = 'customer' AND version = $5",
             {name, core::db::nullable(phone), core::to_unix_ms(now), id, expected_version}) == 1;
}

void delete_courier_account(core::db::Transaction& tx, const std::string& account_id) {
  tx.execute(
      "DELETE FROM customers_refresh_tokens WHERE account_id = $1 AND account_id IN (SELECT id FROM "
      "customers_accounts WHERE role = 'courier')",
      {account_id});
  tx.execute("DELETE FROM customers_accounts WHERE id = $1 AND role = 'courier'", {account_id});
}

void revoke_refresh_tokens(core::db::Transaction& tx, const std::string& account_id, core::TimePoint now) {
  tx.execute("UPDATE customers_refresh_tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
             {core::to_unix_ms(now), account_id});
}

std::vector<Suspension> suspended_since(core::db::Transaction& tx, core::TimePoint since) {
  std::vector<Suspension> out;
  for (const auto& row : tx.query("SELECT id, updated_at FROM customers_accounts WHERE status = 'suspended' AND "
                                  "updated_at > $1",
                                  {core::to_unix_ms(since)})) {
    out.push_back({row.text(0), core::from_unix_ms(row.integer(1))});
  }
  return out;
}

bool update_status(core::db::Transaction& tx, const std::string& id, CustomerStatus status,
                   std::int64_t expected_version, core::TimePoint now) {
  return tx.execute(
             "UPDATE customers_accounts SET status = $1, version = version + 1, updated_at = $2 "
             "WHERE id = $3 AND role = 'customer' AND version = $4",
             {std::string(to_string(status)), core::to_unix_ms(now), id, expected_version}) == 1;
}

void touch(core::db::Transaction& tx, const std::string& id, core::TimePoint now) {
  tx.execute("UPDATE customers_accounts SET version = version + 1, updated_at = $1 WHERE id = $2",
             {core::to_unix_ms(now), id});
}

std::vector<std::string> list_customer_ids(core::db::Transaction& tx, const std::optional<std::string>& email,
                                           const std::optional<std::string>& before_id, std::size_t limit) {
  std::string sql = "SELECT id FROM customers_accounts WHERE role = 'customer'";
  Params params;
  if (email) {
    params.emplace_back(*email);
    sql += " AND email = $" + std::to_string(params.size());
  }
  if (before_id) {
    params.emplace_back(*before_id);
    sql += " AND id < $" + std::to_string(params.size());
  }
  params.emplace_back(static_cast<std::int64_t>(limit));
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
  std::vector<std::string> ids;
  for (const auto& row : tx.query(sql, params)) ids.push_back(row.text(0));
  return ids;
}

void insert_address(core::db::Transaction& tx, const std::string& customer_id, const Address& address,
                    core::TimePoint now) {
  tx.execute(
      "INSERT INTO customers_addresses (id, customer_id, label, line1, city, postal_code, country, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {address.id, customer_id, address.label, address.line1, address.city, address.postal_code, address.country,
       core::to_unix_ms(now)});
}

bool delete_address(core::db::Transaction& tx, const std::string& customer_id, const std::string& address_id) {
  return tx.execute("DELETE FROM customers_addresses WHERE id = $1 AND customer_id = $2", {address_id, customer_id}) ==
         1;
}

}  // namespace deliveryhub::customers::repository
