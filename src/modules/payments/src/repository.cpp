#include "repository.hpp"

#include "core/util/text.hpp"
#include "wire.hpp"

namespace deliveryhub::payments::repository {
namespace {

constexpr std::string_view kColumns =
    "id, order_id, customer_id, amount, currency, status, captured_amount, refunded_amount, version, created_at, "
    "updated_at";

Payment payment_from(core::db::Transaction& tx, const core::db::Row& row) {
  Payment p;
  p.id = row.text(0);
  p.order_id = row.text(1);
  p.customer_id = row.text(2);
  p.amount = row.integer(3);
  p.currency = row.text(4);
  p.status = status_from(row.text(5));
  p.captured_amount = row.integer(6);
  p.refunded_amount = row.integer(7);
  p.version = row.integer(8);
  p.created_at = core::from_unix_ms(row.integer(9));
  p.updated_at = core::from_unix_ms(row.integer(10));
  for (const auto& op : tx.query("SELECT type, amount, succeeded, reason, at FROM payments_operations WHERE payment_id "
                                 "= $1 ORDER BY position",
                                 {p.id})) {
    p.operations.push_back({operation_type_from(op.text(0)), op.integer(1), op.integer(2) != 0, op.text(3),
                            core::from_unix_ms(op.integer(4))});
  }
  return p;
}

std::optional<Payment> one(core::db::Transaction& tx, std::string_view column, const std::string& value) {
  auto row = tx.query_one(
      "SELECT " + std::string(kColumns) + " FROM payments_payments WHERE " + std::string(column) + " = $1", {value});
  if (!row) return std::nullopt;
  return payment_from(tx, *row);
}

}  // namespace

std::optional<Payment> find(core::db::Transaction& tx, const std::string& id) {
  return one(tx, "id", id);
}

std::optional<Payment> find_by_order(core::db::Transaction& tx, const std::string& order_id) {
  return one(tx, "order_id", order_id);
}

void insert(core::db::Transaction& tx, const Payment& p, const std::string& payment_method) {
  tx.execute(
      "INSERT INTO payments_payments (id, order_id, customer_id, amount, currency, status, captured_amount, "
      "refunded_amount, version, created_at, updated_at, payment_method) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
      {p.id, p.order_id, p.customer_id, p.amount, p.currency, std::string(to_string(p.status)), p.captured_amount,
       p.refunded_amount, p.version, core::to_unix_ms(p.created_at), core::to_unix_ms(p.updated_at), payment_method});
}

std::string payment_method_of(core::db::Transaction& tx, const std::string& payment_id) {
  return tx.query_one("SELECT payment_method FROM payments_payments WHERE id = $1", {payment_id})->text(0);
}

bool update(core::db::Transaction& tx, const Payment& p) {
  return tx.execute(
             "UPDATE payments_payments SET status = $1, captured_amount = $2, refunded_amount = $3, "
             "version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6",
             {std::string(to_string(p.status)), p.captured_amount, p.refunded_amount, core::to_unix_ms(p.updated_at),
              p.id, p.version}) == 1;
}

void add_operation(core::db::Transaction& tx, const std::string& payment_id, const Operation& op,
                   const std::optional<std::string>& refund_id) {
  tx.execute(
      "INSERT INTO payments_operations (payment_id, type, amount, succeeded, reason, refund_id, at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {payment_id, std::string(to_string(op.type)), op.amount, std::int64_t{op.succeeded ? 1 : 0}, op.reason,
       refund_id ? core::db::Value{*refund_id} : core::db::Value{std::monostate{}}, core::to_unix_ms(op.at)});
}

bool refund_recorded(core::db::Transaction& tx, const std::string& refund_id) {
  return tx.query_one("SELECT 1 FROM payments_operations WHERE refund_id = $1", {refund_id}).has_value();
}

std::vector<Payment> list_by_order(core::db::Transaction& tx, const std::string& order_id,
                                   const std::optional<std::string>& customer_id) {
  std::vector<Payment> out;
  if (auto p = find_by_order(tx, order_id); p && (!customer_id || p->customer_id == *customer_id)) {
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace deliveryhub::payments::repository
