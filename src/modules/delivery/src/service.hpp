#pragma once
#include "core/auth/principal.hpp"
#include "core/db/database.hpp"
#include "core/events/outbox.hpp"
#include "customers/api.hpp"
#include "delivery/api.hpp"
#include "model.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace deliveryhub::delivery {

struct NewCourier {
  std::string name;
  std::string email;
  std::string password;
  std::string zone_id;
  std::int64_t capacity = 1;
};

struct CourierPatch {
  std::optional<std::string> name;
  std::optional<std::string> zone_id;
  std::optional<std::int64_t> capacity;
  std::optional<CourierStatus> status;  // available or offline
};

/// Zones, couriers and deliveries, and the dispatch policy (ADR 0010): a delivery goes to the
/// available courier of its zone with the fewest active deliveries below capacity, or waits
/// unassigned until one frees up. Every change of a delivery and its assignment happen in one
/// transaction with its tracking line and events. Thread-safe.
class DeliveryService final : public DeliveryApi {
 public:
  DeliveryService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                  customers::CustomersApi& customers, std::chrono::seconds promise = std::chrono::minutes(45));

  Zone create_zone(const std::string& name, std::vector<std::string> prefixes);
  /// Newest first: at most `limit`, ids below `after`.
  std::vector<Zone> zones(std::size_t limit, const std::optional<std::string>& after);
  Courier create_courier(const NewCourier& input);
  Courier update_courier(const std::string& id, const CourierPatch& patch,
                         std::optional<std::int64_t> expected_version);
  std::vector<Courier> couriers(std::size_t limit, const std::optional<std::string>& after);
  std::optional<Courier> courier_for_account(const std::string& account_id);

  ScheduleOutcome schedule(const ScheduleRequest& request) override;
  std::optional<Delivery> cancel(std::string_view order_id, StopRule rule) override;
  Delivery redeliver(std::string_view order_id, std::string_view request_id) override;
  std::optional<Delivery> find_by_order(std::string_view order_id) override;
  std::optional<Delivery> find(const std::string& id);
  std::vector<Delivery> active_for_courier(const std::string& courier_id);
  /// A courier (of this delivery) or an operator moves it on: picked_up, delivered, failed.
  /// Throws Error: not_found, conflict (illegal transition, naming the current status).
  Delivery record(const std::string& delivery_id, DeliveryStatus status, const std::string& note);

 private:
  // Gives waiting deliveries of `zone_id` to couriers with room, oldest promise first.
  void dispatch_waiting(core::db::Transaction& tx, const std::string& zone_id);
  void assign(core::db::Transaction& tx, Delivery& delivery, const std::string& courier_id);
  // Stores a new unassigned delivery with its `scheduled` event and offers it to a courier.
  Delivery create(core::db::Transaction& tx, const ScheduleRequest& request, const std::string& zone_id,
                  const std::string& note, bool redelivery);
  void transition(core::db::Transaction& tx, Delivery& delivery, DeliveryStatus status, const std::string& note,
                  std::string_view event_type);

  core::db::Database& db_;
  const core::events::Outbox& outbox_;
  const core::Clock& clock_;
  customers::CustomersApi& customers_;
  std::chrono::seconds promise_;
};

/// Postal codes and prefixes compare upper-case without spaces.
std::string normalize_postal(std::string_view text);

}  // namespace deliveryhub::delivery
