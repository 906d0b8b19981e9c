#include "order_repository.hpp"

#include "core/util/text.hpp"
#include "wire.hpp"

namespace deliveryhub::orders::order_repository {
namespace {

using core::from_unix_ms;
using core::to_unix_ms;

constexpr std::string_view kColumns =
    "id, customer_id, status, total, currency, address_label, line1, city, postal_code, country, payment_id, "
    "delivery_id, rejection_reason, version, created_at, updated_at, refunded_amount";

// The order's own columns (kColumns), from column `at` of `row` on.
Order order_fields(const core::db::Row& row, std::size_t at) {
  Order o;
  o.id = row.text(at + 0);
  o.customer_id = row.text(at + 1);
  o.status = status_from(row.text(at + 2));
  o.total = row.integer(at + 3);
  o.currency = row.text(at + 4);
  o.address = {row.text(at + 5), row.text(at + 6), row.text(at + 7), row.text(at + 8), row.text(at + 9)};
  o.payment_id = row.optional_text(at + 10);
  o.delivery_id = row.optional_text(at + 11);
  o.rejection_reason = row.optional_text(at + 12);
  o.version = row.integer(at + 13);
  o.created_at = from_unix_ms(row.integer(at + 14));
  o.updated_at = from_unix_ms(row.integer(at + 15));
  o.refunded_amount = row.integer(at + 16);
  return o;
}

Order order_from(core::db::Transaction& tx, const core::db::Row& row) {
  Order o = order_fields(row, 0);
  for (const auto& item : tx.query(
           "SELECT sku, name, quantity, unit_price, line_total FROM orders_items WHERE order_id = $1 ORDER BY position",
           {o.id})) {
    o.items.push_back({item.text(0), item.text(1), item.integer(2), item.integer(3), item.integer(4)});
  }
  for (const auto& change :
       tx.query("SELECT status, at FROM orders_status_history WHERE order_id = $1 ORDER BY position", {o.id})) {
    o.status_history.push_back({status_from(change.text(0)), from_unix_ms(change.integer(1))});
  }
  return o;
}

// One order, its items and its history in one statement (one round trip on PostgreSQL, and a
// single statement is a snapshot by itself). Rows: (part, position, the 17 columns of kColumns);
// part 0 is the order; part 1 an item, in the columns of id, customer_id, total, version and
// created_at: sku, name, quantity, unit_price, line_total; part 2 a status change, in those of
// id and total: status, at. UNION ALL takes each column's type from the order's row.
constexpr std::string_view kFindWhole =
    "SELECT 0, 0, id, customer_id, status, total, currency, address_label, line1, city, postal_code, country, "
    "payment_id, delivery_id, rejection_reason, version, created_at, updated_at, refunded_amount "
    "FROM orders_orders WHERE id = $1 "
    "UNION ALL SELECT 1, position, sku, name, NULL, quantity, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "unit_price, line_total, NULL, NULL FROM orders_items WHERE order_id = $1 "
    "UNION ALL SELECT 2, position, status, NULL, NULL, at, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL FROM orders_status_history WHERE order_id = $1 "
    "ORDER BY 1, 2";
constexpr std::size_t kPartColumns = 2;

void add_history(core::db::Transaction& tx, const Order& order) {
  tx.execute("INSERT INTO orders_status_history (order_id, status, at) VALUES ($1, $2, $3)",
             {order.id, std::string(to_string(order.status)), to_unix_ms(order.updated_at)});
}

}  // namespace

void insert(core::db::Transaction& tx, const Order& o, const std::string& payment_method) {
  tx.execute(
      "INSERT INTO orders_orders (id, customer_id, status, total, currency, address_label, line1, city, postal_code, "
      "country, payment_method, payment_id, delivery_id, rejection_reason, version, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
      {o.id, o.customer_id, std::string(to_string(o.status)), o.total, o.currency, o.address.label, o.address.line1,
       o.address.city, o.address.postal_code, o.address.country, payment_method, core::db::nullable(o.payment_id),
       core::db::nullable(o.delivery_id), core::db::nullable(o.rejection_reason), o.version, to_unix_ms(o.created_at),
       to_unix_ms(o.updated_at)});
  std::int64_t position = 0;
  for (const auto& item : o.items) {
    tx.execute(
        "INSERT INTO orders_items (order_id, position, sku, name, quantity, unit_price, line_total) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {o.id, position++, item.sku, item.name, item.quantity, item.unit_price, item.line_total});
  }
  add_history(tx, o);
}

std::optional<Order> find(core::db::Transaction& tx, const std::string& id) {
  const auto rows = tx.query(kFindWhole, {id});
  if (rows.empty() || rows.front().integer(0) != 0) return std::nullopt;
  Order o = order_fields(rows.front(), kPartColumns);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    const std::size_t at = kPartColumns;
    if (row.integer(0) == 1) {
      o.items.push_back(
          {row.text(at + 0), row.text(at + 1), row.integer(at + 3), row.integer(at + 13), row.integer(at + 14)});
    } else {
      o.status_history.push_back({status_from(row.text(at + 0)), from_unix_ms(row.integer(at + 3))});
    }
  }
  return o;
}

bool update(core::db::Transaction& tx, const Order& o, bool status_changed) {
  const bool updated =
      tx.execute(
          "UPDATE orders_orders SET status = $1, payment_id = $2, delivery_id = $3, rejection_reason = $4, "
          "version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7",
          {std::string(to_string(o.status)), core::db::nullable(o.payment_id), core::db::nullable(o.delivery_id),
           core::db::nullable(o.rejection_reason), to_unix_ms(o.updated_at), o.id, o.version}) == 1;
  if (updated && status_changed) add_history(tx, o);
  return updated;
}

void add_refund(core::db::Transaction& tx, const std::string& order_id, std::int64_t amount, core::TimePoint now) {
  tx.execute(
      "UPDATE orders_orders SET refunded_amount = refunded_amount + $1, version = version + 1, updated_at = $2 "
      "WHERE id = $3",
      {amount, to_unix_ms(now), order_id});
}

std::vector<Order> list(core::db::Transaction& tx, const std::optional<std::string>& customer_id,
                        const std::optional<std::string>& status, const std::optional<std::string>& before_id,
                        std::size_t limit) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM orders_orders WHERE 1 = 1";
  core::db::Params params;
  auto filter = [&](const std::optional<std::string>& value, const char* clause) {
    if (!value) return;
    params.emplace_back(*value);
    sql += std::string(" AND ") + clause + std::to_string(params.size());
  };
  filter(customer_id, "customer_id = $");
  filter(status, "status = $");
  filter(before_id, "id < $");
  params.emplace_back(static_cast<std::int64_t>(limit));
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
  std::vector<Order> orders;
  for (const auto& row : tx.query(sql, params)) orders.push_back(order_from(tx, row));
  return orders;
}

std::string payment_method_of(core::db::Transaction& tx, const std::string& order_id) {
  return tx.query_one("SELECT payment_method FROM orders_orders WHERE id = $1", {order_id})->text(0);
}

void start_saga(core::db::Transaction& tx, const std::string& order_id, const std::string& step, core::TimePoint now,
                const std::string& trace_id) {
  tx.execute(
      "INSERT INTO orders_sagas (order_id, step, next_attempt_at, started_at, trace_id) VALUES ($1, $2, $3, $4, $5)",
      {order_id, step, to_unix_ms(now), to_unix_ms(now), trace_id});
}

std::vector<SagaRow> claim_due_sagas(core::db::Transaction& tx, const std::string& runner, core::TimePoint now,
                                     core::TimePoint lease_until, std::size_t limit) {
  // One statement claims: runners on other replicas see the claim, or (PostgreSQL) lose the
  // serialization conflict and claim again after it.
  tx.execute(
      "UPDATE orders_sagas SET claimed_by = $1, claimed_until = $2 WHERE order_id IN ("
      "SELECT order_id FROM orders_sagas WHERE finished_at IS NULL AND next_attempt_at <= $3 "
      "AND (claimed_until IS NULL OR claimed_until <= $3) ORDER BY next_attempt_at, order_id LIMIT $4)",
      {runner, to_unix_ms(lease_until), to_unix_ms(now), static_cast<std::int64_t>(limit)});
  std::vector<SagaRow> rows;
  for (const auto& row : tx.query("SELECT order_id, step, attempts, trace_id FROM orders_sagas WHERE claimed_by = $1 "
                                  "AND claimed_until = $2 AND finished_at IS NULL ORDER BY next_attempt_at, order_id",
                                  {runner, to_unix_ms(lease_until)})) {
    rows.push_back({row.text(0), row.text(1), row.integer(2), row.text(3)});
  }
  return rows;
}

std::optional<SagaRow> find_saga(core::db::Transaction& tx, const std::string& order_id) {
  auto row = tx.query_one(
      "SELECT order_id, step, attempts, trace_id FROM orders_sagas WHERE order_id = $1 AND finished_at IS NULL",
      {order_id});
  if (!row) return std::nullopt;
  return SagaRow{row->text(0), row->text(1), row->integer(2), row->text(3)};
}

void set_step(core::db::Transaction& tx, const std::string& order_id, const std::string& step) {
  tx.execute("UPDATE orders_sagas SET step = $1, attempts = 0, last_error = NULL WHERE order_id = $2",
             {step, order_id});
}

void redirect_saga(core::db::Transaction& tx, const std::string& order_id, const std::string& step, core::TimePoint now,
                   const std::string& trace_id) {
  tx.execute(
      "INSERT INTO orders_sagas (order_id, step, next_attempt_at, started_at, trace_id) VALUES ($1, $2, $3, $3, $4) "
      "ON CONFLICT (order_id) DO UPDATE SET step = excluded.step, attempts = 0, last_error = NULL, "
      "next_attempt_at = excluded.next_attempt_at, finished_at = NULL, trace_id = excluded.trace_id, "
      "claimed_by = NULL, claimed_until = NULL",
      {order_id, step, to_unix_ms(now), trace_id});
}

void finish_saga(core::db::Transaction& tx, const std::string& order_id, core::TimePoint now) {
  tx.execute(
      "UPDATE orders_sagas SET step = 'done', finished_at = $1, claimed_by = NULL, claimed_until = NULL "
      "WHERE order_id = $2",
      {to_unix_ms(now), order_id});
}

void retry_saga(core::db::Transaction& tx, const std::string& order_id, std::int64_t attempts,
                core::TimePoint next_attempt, const std::string& error) {
  tx.execute(
      "UPDATE orders_sagas SET attempts = $1, next_attempt_at = $2, last_error = $3, claimed_by = NULL, "
      "claimed_until = NULL WHERE order_id = $4",
      {attempts, to_unix_ms(next_attempt), error, order_id});
}

std::int64_t unfinished_sagas(core::db::Transaction& tx) {
  return tx.query_one("SELECT COUNT(*) FROM orders_sagas WHERE finished_at IS NULL")->integer(0);
}

OrderCounts counts(core::db::Transaction& tx) {
  OrderCounts result;
  for (const auto& row : tx.query("SELECT status, COUNT(*) FROM orders_orders GROUP BY status")) {
    result.by_status.emplace_back(row.text(0), row.integer(1));
  }
  result.unfinished_sagas = tx.query_one("SELECT COUNT(*) FROM orders_sagas WHERE finished_at IS NULL")->integer(0);
  return result;
}

}  // namespace deliveryhub::orders::order_repository
