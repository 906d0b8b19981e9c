#include "repository.hpp"

#include "core/util/text.hpp"
#include "wire.hpp"

namespace deliveryhub::delivery::repository {
namespace {

CourierStatus courier_status_from(std::string_view text) {
  return core::enum_from(text, {CourierStatus::available, CourierStatus::busy, CourierStatus::offline})
      .value_or(CourierStatus::available);
}

using core::from_unix_ms;
using core::to_unix_ms;

constexpr std::string_view kActive = "('assigned', 'picked_up')";

constexpr std::string_view kCourierColumns =
    "c.id, c.account_id, c.name, c.email, c.zone_id, c.status, c.capacity, c.version, c.created_at, c.updated_at, "
    "(SELECT COUNT(*) FROM delivery_deliveries d WHERE d.courier_id = c.id AND d.status IN ('assigned', "
    "'picked_up'))";

Courier courier_from(const core::db::Row& row) {
  Courier c;
  c.id = row.text(0);
  c.account_id = row.text(1);
  c.name = row.text(2);
  c.email = row.text(3);
  c.zone_id = row.text(4);
  c.status = courier_status_from(row.text(5));
  c.capacity = row.integer(6);
  c.version = row.integer(7);
  c.created_at = from_unix_ms(row.integer(8));
  c.updated_at = from_unix_ms(row.integer(9));
  c.active_deliveries = row.integer(10);
  return c;
}

constexpr std::string_view kDeliveryColumns =
    "id, order_id, customer_id, zone_id, courier_id, line1, city, postal_code, country, status, promised_by, "
    "version, created_at, updated_at";

Delivery delivery_from(core::db::Transaction& tx, const core::db::Row& row) {
  Delivery d;
  d.id = row.text(0);
  d.order_id = row.text(1);
  d.customer_id = row.text(2);
  d.zone_id = row.text(3);
  d.courier_id = row.optional_text(4);
  d.address = {row.text(5), row.text(6), row.text(7), row.text(8)};
  d.status = delivery_status_from(row.text(9));
  d.promised_by = from_unix_ms(row.integer(10));
  d.version = row.integer(11);
  d.created_at = from_unix_ms(row.integer(12));
  d.updated_at = from_unix_ms(row.integer(13));
  for (const auto& t :
       tx.query("SELECT status, note, at FROM delivery_tracking WHERE delivery_id = $1 ORDER BY position", {d.id})) {
    d.tracking.push_back({delivery_status_from(t.text(0)), t.text(1), from_unix_ms(t.integer(2))});
  }
  return d;
}

std::optional<Delivery> one_delivery(core::db::Transaction& tx, const std::string& where_and_order,
                                     const core::db::Params& params) {
  auto row =
      tx.query_one("SELECT " + std::string(kDeliveryColumns) + " FROM delivery_deliveries " + where_and_order, params);
  if (!row) return std::nullopt;
  return delivery_from(tx, *row);
}

}  // namespace

void insert_zone(core::db::Transaction& tx, const Zone& zone) {
  tx.execute("INSERT INTO delivery_zones (id, name, created_at) VALUES ($1, $2, $3)",
             {zone.id, zone.name, to_unix_ms(zone.created_at)});
  for (const auto& prefix : zone.postal_prefixes) {
    tx.execute("INSERT INTO delivery_zone_prefixes (prefix, zone_id) VALUES ($1, $2)", {prefix, zone.id});
  }
}

std::vector<Zone> list_zones(core::db::Transaction& tx, const std::optional<std::string>& before_id,
                             std::size_t limit) {
  std::vector<Zone> zones;
  for (const auto& row : tx.query("SELECT id, name, created_at FROM delivery_zones WHERE id < $1 ORDER BY id DESC "
                                  "LIMIT $2",
                                  {before_id.value_or("~"), static_cast<std::int64_t>(limit)})) {
    Zone zone{row.text(0), row.text(1), {}, from_unix_ms(row.integer(2))};
    for (const auto& p :
         tx.query("SELECT prefix FROM delivery_zone_prefixes WHERE zone_id = $1 ORDER BY prefix", {zone.id})) {
      zone.postal_prefixes.push_back(p.text(0));
    }
    zones.push_back(std::move(zone));
  }
  return zones;
}

bool zone_exists(core::db::Transaction& tx, const std::string& zone_id) {
  return tx.query_one("SELECT 1 FROM delivery_zones WHERE id = $1", {zone_id}).has_value();
}

std::optional<std::string> zone_for(core::db::Transaction& tx, const std::string& postal_code) {
  auto row = tx.query_one(
      "SELECT zone_id FROM delivery_zone_prefixes WHERE substr($1, 1, length(prefix)) = prefix "
      "ORDER BY length(prefix) DESC LIMIT 1",
      {postal_code});
  if (!row) return std::nullopt;
  return row->text(0);
}

void insert_courier(core::db::Transaction& tx, const Courier& c) {
  tx.execute(
      "INSERT INTO delivery_couriers (id, account_id, name, email, zone_id, status, capacity, version, created_at, "
      "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {c.id, c.account_id, c.name, c.email, c.zone_id, std::string(to_string(c.status)), c.capacity, c.version,
       to_unix_ms(c.created_at), to_unix_ms(c.updated_at)});
}

bool update_courier(core::db::Transaction& tx, const Courier& c) {
  return tx.execute(
             "UPDATE delivery_couriers SET name = $1, zone_id = $2, status = $3, capacity = $4, version = version + 1, "
             "updated_at = $5 WHERE id = $6 AND version = $7",
             {c.name, c.zone_id, std::string(to_string(c.status)), c.capacity, to_unix_ms(c.updated_at), c.id,
              c.version}) == 1;
}

std::optional<Courier> find_courier(core::db::Transaction& tx, const std::string& id) {
  auto row = tx.query_one("SELECT " + std::string(kCourierColumns) + " FROM delivery_couriers c WHERE c.id = $1", {id});
  if (!row) return std::nullopt;
  return courier_from(*row);
}

std::optional<Courier> find_courier_by_account(core::db::Transaction& tx, const std::string& account_id) {
  auto row = tx.query_one(
      "SELECT " + std::string(kCourierColumns) + " FROM delivery_couriers c WHERE c.account_id = $1", {account_id});
  if (!row) return std::nullopt;
  return courier_from(*row);
}

std::vector<Courier> list_couriers(core::db::Transaction& tx, const std::optional<std::string>& before_id,
                                   std::size_t limit) {
  std::vector<Courier> couriers;
  for (const auto& row : tx.query("SELECT " + std::string(kCourierColumns) +
                                      " FROM delivery_couriers c WHERE c.id < $1 ORDER BY c.id DESC LIMIT $2",
                                  {before_id.value_or("~"), static_cast<std::int64_t>(limit)})) {
    couriers.push_back(courier_from(row));
  }
  return couriers;
}

std::optional<std::string> pick_courier(core::db::Transaction& tx, const std::string& zone_id) {
  auto row = tx.query_one(
      "SELECT c.id FROM delivery_couriers c WHERE c.zone_id = $1 AND c.status = 'available' AND "
      "(SELECT COUNT(*) FROM delivery_deliveries d WHERE d.courier_id = c.id AND d.status IN " +
          std::string(kActive) +
          ") < c.capacity ORDER BY (SELECT COUNT(*) FROM delivery_deliveries d WHERE d.courier_id = c.id AND "
          "d.status IN " +
          std::string(kActive) + "), c.id LIMIT 1",
      {zone_id});
  if (!row) return std::nullopt;
  return row->text(0);
}

void insert_delivery(core::db::Transaction& tx, const Delivery& d) {
  tx.execute(
      "INSERT INTO delivery_deliveries (id, order_id, customer_id, zone_id, courier_id, line1, city, postal_code, "
      "country, status, promised_by, version, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
      {d.id, d.order_id, d.customer_id, d.zone_id, core::db::nullable(d.courier_id), d.address.line1, d.address.city,
       d.address.postal_code, d.address.country, std::string(to_string(d.status)), to_unix_ms(d.promised_by), d.version,
       to_unix_ms(d.created_at), to_unix_ms(d.updated_at)});
}

std::optional<std::string> redelivery_for(core::db::Transaction& tx, const std::string& request_id) {
  auto row = tx.query_one("SELECT delivery_id FROM delivery_redeliveries WHERE request_id = $1", {request_id});
  if (!row) return std::nullopt;
  return row->text(0);
}

void record_redelivery(core::db::Transaction& tx, const std::string& request_id, const std::string& delivery_id) {
  tx.execute("INSERT INTO delivery_redeliveries (request_id, delivery_id) VALUES ($1, $2)", {request_id, delivery_id});
}

bool update_delivery(core::db::Transaction& tx, const Delivery& d) {
  return tx.execute(
             "UPDATE delivery_deliveries SET courier_id = $1, status = $2, version = version + 1, updated_at = $3 "
             "WHERE id = $4 AND version = $5",
             {core::db::nullable(d.courier_id), std::string(to_string(d.status)), to_unix_ms(d.updated_at), d.id,
              d.version}) == 1;
}

void add_tracking(core::db::Transaction& tx, const std::string& delivery_id, const TrackingEvent& event) {
  tx.execute("INSERT INTO delivery_tracking (delivery_id, status, note, at) VALUES ($1, $2, $3, $4)",
             {delivery_id, std::string(to_string(event.status)), event.note, to_unix_ms(event.at)});
}

std::optional<Delivery> find_delivery(core::db::Transaction& tx, const std::string& id) {
  return one_delivery(tx, "WHERE id = $1", {id});
}

std::optional<Delivery> latest_for_order(core::db::Transaction& tx, const std::string& order_id) {
  return one_delivery(tx, "WHERE order_id = $1 ORDER BY id DESC LIMIT 1", {order_id});
}

std::vector<Delivery> active_for_courier(core::db::Transaction& tx, const std::string& courier_id) {
  std::vector<Delivery> out;
  for (const auto& row : tx.query("SELECT " + std::string(kDeliveryColumns) +
                                      " FROM delivery_deliveries WHERE courier_id = $1 AND status IN " +
                                      std::string(kActive) + " ORDER BY promised_by",
                                  {courier_id})) {
    out.push_back(delivery_from(tx, row));
  }
  return out;
}

std::optional<Delivery> next_unassigned(core::db::Transaction& tx, const std::string& zone_id) {
  return one_delivery(tx, "WHERE zone_id = $1 AND status = 'unassigned' ORDER BY promised_by, id LIMIT 1", {zone_id});
}

}  // namespace deliveryhub::delivery::repository
