#include "migrations.hpp"

#include "core/events/outbox.hpp"
#include "core/events/pruning.hpp"

namespace deliveryhub::orders {

std::vector<core::db::Migration> migrations() {
  return {
      {1, "catalog",
       "CREATE TABLE orders_products ("
       " id TEXT PRIMARY KEY,"
       " sku TEXT NOT NULL UNIQUE,"
       " name TEXT NOT NULL,"
       " price BIGINT NOT NULL CHECK (price >= 0),"
       " currency TEXT NOT NULL,"
       " active INTEGER NOT NULL,"
       " version BIGINT NOT NULL,"
       " created_at BIGINT NOT NULL,"
       " updated_at BIGINT NOT NULL);"
       "CREATE INDEX orders_products_active ON orders_products (active, id);"},
      core::events::event_tables_migration("orders", 2),
      {3, "orders and their saga",
       "CREATE TABLE orders_orders ("
       " id TEXT PRIMARY KEY,"
       " customer_id TEXT NOT NULL,"
       " status TEXT NOT NULL,"
       " total BIGINT NOT NULL,"
       " currency TEXT NOT NULL,"
       " address_label TEXT NOT NULL, line1 TEXT NOT NULL, city TEXT NOT NULL,"
       " postal_code TEXT NOT NULL, country TEXT NOT NULL,"
       " payment_method TEXT NOT NULL,"
       " payment_id TEXT, delivery_id TEXT, rejection_reason TEXT,"
       " version BIGINT NOT NULL,"
       " created_at BIGINT NOT NULL,"
       " updated_at BIGINT NOT NULL);"
       "CREATE INDEX orders_orders_customer ON orders_orders (customer_id, id);"
       "CREATE INDEX orders_orders_status ON orders_orders (status, id);"
       "CREATE TABLE orders_items ("
       " order_id TEXT NOT NULL REFERENCES orders_orders (id),"
       " position INTEGER NOT NULL,"
       " sku TEXT NOT NULL, name TEXT NOT NULL,"
       " quantity INTEGER NOT NULL, unit_price BIGINT NOT NULL, line_total BIGINT NOT NULL,"
       " PRIMARY KEY (order_id, position));"
       "CREATE TABLE orders_status_history ("
       " position INTEGER PRIMARY KEY AUTOINCREMENT,"
       " order_id TEXT NOT NULL REFERENCES orders_orders (id),"
       " status TEXT NOT NULL,"
       " at BIGINT NOT NULL);"
       "CREATE INDEX orders_status_history_order ON orders_status_history (order_id, position);"
       // One row per order while its saga runs: the step to do next, and when to retry it.
       "CREATE TABLE orders_sagas ("
       " order_id TEXT PRIMARY KEY REFERENCES orders_orders (id),"
       " step TEXT NOT NULL,"
       " attempts INTEGER NOT NULL DEFAULT 0,"
       " next_attempt_at BIGINT NOT NULL,"
       " last_error TEXT,"
       " started_at BIGINT NOT NULL,"
       " finished_at BIGINT);"
       "CREATE INDEX orders_sagas_due ON orders_sagas (finished_at, next_attempt_at);"},
      {4, "refunds recorded on the order",
       "ALTER TABLE orders_orders ADD COLUMN refunded_amount BIGINT NOT NULL DEFAULT 0;"},
      {5, "the trace of the request that started a saga",
       "ALTER TABLE orders_sagas ADD COLUMN trace_id TEXT NOT NULL DEFAULT '';"},
      // Replicas share the table: a runner claims the sagas it runs, for a lease (ADR 0012).
      {6, "saga claims for several runners",
       "ALTER TABLE orders_sagas ADD COLUMN claimed_by TEXT;"
       "ALTER TABLE orders_sagas ADD COLUMN claimed_until BIGINT;"
       "CREATE INDEX orders_sagas_claims ON orders_sagas (claimed_by, claimed_until);"},
      core::events::relay_lease_migration("orders", 7),
      core::events::event_pruning_migration("orders", 8),
  };
}

}  // namespace deliveryhub::orders
