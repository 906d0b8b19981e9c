#pragma once
#include "core/db/database.hpp"
#include "delivery/api.hpp"
#include "model.hpp"

#include <optional>
#include <string>
#include <vector>

/// The delivery module's SQL. Every function runs in the caller's transaction.
namespace deliveryhub::delivery::repository {

/// Throws core::db::UniqueViolation when a prefix already belongs to a zone.
void insert_zone(core::db::Transaction& tx, const Zone& zone);
/// Newest first, ids below `before_id` (ids are ULIDs: "~" sorts after every one).
std::vector<Zone> list_zones(core::db::Transaction& tx, const std::optional<std::string>& before_id, std::size_t limit);
bool zone_exists(core::db::Transaction& tx, const std::string& zone_id);
/// The zone whose prefix is the longest one the postal code starts with.
std::optional<std::string> zone_for(core::db::Transaction& tx, const std::string& postal_code);

void insert_courier(core::db::Transaction& tx, const Courier& courier);
bool update_courier(core::db::Transaction& tx, const Courier& courier);  // version-checked
std::optional<Courier> find_courier(core::db::Transaction& tx, const std::string& id);
std::optional<Courier> find_courier_by_account(core::db::Transaction& tx, const std::string& account_id);
std::vector<Courier> list_couriers(core::db::Transaction& tx, const std::optional<std::string>& before_id,
                                   std::size_t limit);
/// The available courier of the zone with the fewest active deliveries below capacity.
std::optional<std::string> pick_courier(core::db::Transaction& tx, const std::string& zone_id);

void insert_delivery(core::db::Transaction& tx, const Delivery& delivery);
bool update_delivery(core::db::Transaction& tx, const Delivery& delivery);  // version-checked
/// The delivery a redelivery request made, if it was made.
std::optional<std::string> redelivery_for(core::db::Transaction& tx, const std::string& request_id);
void record_redelivery(core::db::Transaction& tx, const std::string& request_id, const std::string& delivery_id);
void add_tracking(core::db::Transaction& tx, const std::string& delivery_id, const TrackingEvent& event);
std::optional<Delivery> find_delivery(core::db::Transaction& tx, const std::string& id);
std::optional<Delivery> latest_for_order(core::db::Transaction& tx, const std::string& order_id);
std::vector<Delivery> active_for_courier(core::db::Transaction& tx, const std::string& courier_id);
/// The zone's oldest unassigned delivery (by promised_by).
std::optional<Delivery> next_unassigned(core::db::Transaction& tx, const std::string& zone_id);

}  // namespace deliveryhub::delivery::repository
