#include "migrations.hpp"

#include "core/events/outbox.hpp"
#include "core/events/pruning.hpp"

namespace deliveryhub::payments {

std::vector<core::db::Migration> migrations() {
  return {
      {1, "payments and their ledger",
       "CREATE TABLE payments_payments ("
       " id TEXT PRIMARY KEY,"
       " order_id TEXT NOT NULL UNIQUE,"  // one payment per order: authorize is idempotent by order
       " customer_id TEXT NOT NULL,"
       " amount BIGINT NOT NULL CHECK (amount >= 0),"
       " currency TEXT NOT NULL,"
       " status TEXT NOT NULL,"
       " captured_amount BIGINT NOT NULL DEFAULT 0,"
       " refunded_amount BIGINT NOT NULL DEFAULT 0 CHECK (refunded_amount <= captured_amount),"
       " version BIGINT NOT NULL,"
       " created_at BIGINT NOT NULL,"
       " updated_at BIGINT NOT NULL);"
       "CREATE INDEX payments_payments_customer ON payments_payments (customer_id, id);"
       "CREATE TABLE payments_operations ("
       " position INTEGER PRIMARY KEY AUTOINCREMENT,"
       " payment_id TEXT NOT NULL REFERENCES payments_payments (id),"
       " type TEXT NOT NULL,"
       " amount BIGINT NOT NULL,"
       " succeeded INTEGER NOT NULL,"
       " reason TEXT NOT NULL,"
       " refund_id TEXT UNIQUE,"
       " at BIGINT NOT NULL);"
       "CREATE INDEX payments_operations_payment ON payments_operations (payment_id, position);"},
      core::events::event_tables_migration("payments", 2),
      {3, "the payment method, for authorizing again",
       "ALTER TABLE payments_payments ADD COLUMN payment_method TEXT NOT NULL DEFAULT '';"},
      core::events::relay_lease_migration("payments", 4),
      core::events::event_pruning_migration("payments", 5),
  };
}

}  // namespace deliveryhub::payments
