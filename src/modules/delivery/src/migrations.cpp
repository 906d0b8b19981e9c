#include "migrations.hpp"

#include "core/events/outbox.hpp"
#include "core/events/pruning.hpp"

namespace deliveryhub::delivery {

std::vector<core::db::Migration> migrations() {
  return {
      {1, "zones, couriers, deliveries",
       "CREATE TABLE delivery_zones ("
       " id TEXT PRIMARY KEY,"
       " name TEXT NOT NULL,"
       " created_at BIGINT NOT NULL);"
       "CREATE TABLE delivery_zone_prefixes ("
       " prefix TEXT PRIMARY KEY,"  // a prefix belongs to one zone
       " zone_id TEXT NOT NULL REFERENCES delivery_zones (id));"
       "CREATE TABLE delivery_couriers ("
       " id TEXT PRIMARY KEY,"
       " account_id TEXT NOT NULL UNIQUE,"
       " name TEXT NOT NULL,"
       " email TEXT NOT NULL,"
       " zone_id TEXT NOT NULL REFERENCES delivery_zones (id),"
       " status TEXT NOT NULL,"
       " capacity INTEGER NOT NULL CHECK (capacity >= 1),"
       " version BIGINT NOT NULL,"
       " created_at BIGINT NOT NULL,"
       " updated_at BIGINT NOT NULL);"
       "CREATE INDEX delivery_couriers_zone ON delivery_couriers (zone_id, status);"
       "CREATE TABLE delivery_deliveries ("
       " id TEXT PRIMARY KEY,"
       " order_id TEXT NOT NULL,"
       " customer_id TEXT NOT NULL,"
       " zone_id TEXT NOT NULL,"
       " courier_id TEXT,"
       " line1 TEXT NOT NULL, city TEXT NOT NULL, postal_code TEXT NOT NULL, country TEXT NOT NULL,"
       " status TEXT NOT NULL,"
       " promised_by BIGINT NOT NULL,"
       " version BIGINT NOT NULL,"
       " created_at BIGINT NOT NULL,"
       " updated_at BIGINT NOT NULL);"
       "CREATE INDEX delivery_deliveries_order ON delivery_deliveries (order_id, id);"
       "CREATE INDEX delivery_deliveries_courier ON delivery_deliveries (courier_id, status);"
       "CREATE INDEX delivery_deliveries_queue ON delivery_deliveries (zone_id, status, promised_by);"
       "CREATE TABLE delivery_tracking ("
       " position INTEGER PRIMARY KEY AUTOINCREMENT,"
       " delivery_id TEXT NOT NULL REFERENCES delivery_deliveries (id),"
       " status TEXT NOT NULL,"
       " note TEXT NOT NULL,"
       " at BIGINT NOT NULL);"
       "CREATE INDEX delivery_tracking_delivery ON delivery_tracking (delivery_id, position);"},
      core::events::event_tables_migration("delivery", 2),
      {3, "redeliveries",
       // Which delivery a redelivery request (an incident's resolution) made: the request's key.
       "CREATE TABLE delivery_redeliveries ("
       " request_id TEXT PRIMARY KEY,"
       " delivery_id TEXT NOT NULL REFERENCES delivery_deliveries (id));"},
      core::events::relay_lease_migration("delivery", 4),
      core::events::event_pruning_migration("delivery", 5),
  };
}

}  // namespace deliveryhub::delivery
