#include "migrations.hpp"

#include "core/events/outbox.hpp"

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
  };
}

}  // namespace deliveryhub::orders
