#include "migrations.hpp"

#include "core/events/outbox.hpp"
#include "core/events/pruning.hpp"

namespace deliveryhub::incidents {

std::vector<core::db::Migration> migrations() {
  return {
      {1, "incidents and comments",
       "CREATE TABLE incidents_incidents ("
       " id TEXT PRIMARY KEY,"
       " order_id TEXT NOT NULL,"
       " customer_id TEXT NOT NULL,"
       " type TEXT NOT NULL,"
       " description TEXT NOT NULL,"
       " status TEXT NOT NULL,"
       " opened_by TEXT NOT NULL,"
       // What opened an automatic incident ("late:<delivery id>", …): at most one incident each.
       " source_key TEXT UNIQUE,"
       " resolution TEXT,"
       " refund_amount BIGINT CHECK (refund_amount > 0),"
       " rejection_reason TEXT,"
       " version BIGINT NOT NULL,"
       " created_at BIGINT NOT NULL,"
       " updated_at BIGINT NOT NULL);"
       "CREATE INDEX incidents_incidents_order ON incidents_incidents (order_id, id);"
       "CREATE INDEX incidents_incidents_customer ON incidents_incidents (customer_id, id);"
       "CREATE INDEX incidents_incidents_status ON incidents_incidents (status, id);"
       "CREATE TABLE incidents_comments ("
       " id TEXT PRIMARY KEY,"
       " incident_id TEXT NOT NULL REFERENCES incidents_incidents (id),"
       " author_id TEXT NOT NULL,"
       " author_role TEXT NOT NULL,"
       " body TEXT NOT NULL,"
       " at BIGINT NOT NULL);"
       "CREATE INDEX incidents_comments_incident ON incidents_comments (incident_id, id);"
       // Deliveries under way and when they were promised, kept from delivery's events: what
       // the late-incident watch reads (incidents never read delivery's tables).
       "CREATE TABLE incidents_delivery_watch ("
       " delivery_id TEXT PRIMARY KEY,"
       " order_id TEXT NOT NULL,"
       " customer_id TEXT NOT NULL,"
       " promised_by BIGINT NOT NULL,"
       " under_way INTEGER NOT NULL);"
       "CREATE INDEX incidents_delivery_watch_due ON incidents_delivery_watch (under_way, promised_by);"},
      core::events::event_tables_migration("incidents", 2),
      core::events::relay_lease_migration("incidents", 3),
      core::events::event_pruning_migration("incidents", 4),
  };
}

}  // namespace deliveryhub::incidents
