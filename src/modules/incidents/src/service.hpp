#pragma once
#include "core/db/database.hpp"
#include "core/events/envelope.hpp"
#include "core/events/outbox.hpp"
#include "delivery/api.hpp"
#include "incidents/api.hpp"
#include "orders/api.hpp"
#include "payments/api.hpp"
#include "repository.hpp"

#include <optional>
#include <string>
#include <vector>

namespace deliveryhub::incidents {

/// Who acts: a customer (only on their own orders and incidents) or an operator.
struct Actor {
  std::string subject;
  bool operator_role = false;
};

struct OpenIncident {
  std::string order_id;
  IncidentType type = IncidentType::other;
  std::string description;
};

struct Resolve {
  Resolution resolution = Resolution::none;
  std::optional<std::int64_t> amount;  // required for refund, refused otherwise
};

struct IncidentPage {
  std::vector<Incident> incidents;
  std::optional<std::string> next_after;
};

/// Incidents: opened by customers on their own orders, by operators, or automatically (a failed
/// delivery, a broken promise); worked (comments) and settled by operators. Resolving stores the
/// resolution with `incident.resolved` in one transaction; the refund or the redelivery follows
/// from that event (apply_resolution), so it happens at least once and, being keyed by the
/// incident id, at most once. Thread-safe. Errors are core::Error.
class IncidentService final : public IncidentsApi {
 public:
  IncidentService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                  orders::OrdersApi& orders, payments::PaymentsApi& payments, delivery::DeliveryApi& delivery);

  /// unprocessable when the order is not the customer's (or does not exist: the same answer).
  Incident open(const OpenIncident& request, const Actor& by);
  /// not_found unless it exists and `by` may see it.
  Incident get(const std::string& id, const Actor& by);
  IncidentPage list(const repository::Filter& filter, std::size_t limit, const std::optional<std::string>& after);
  /// An operator's first comment puts an open incident in progress. Conflict once settled.
  Comment comment(const std::string& id, const std::string& body, const Actor& by);
  /// Operators only (the route checks). Conflict once settled; refund: conflict when nothing is
  /// refundable, unprocessable above what is; redeliver: conflict while a delivery is under way.
  Incident resolve(const std::string& id, const Resolve& request);
  Incident reject(const std::string& id, const std::string& reason);

  /// The effect of `incident.resolved`: refund through payments or redeliver through delivery.
  void apply_resolution(const core::events::Envelope& resolved);
  /// delivery.failed → a `not_delivered` incident, once per delivery.
  void on_delivery_failed(core::db::Transaction& tx, const core::events::Envelope& event);
  /// Keeps the deliveries under way and their promises, for the late watch.
  void on_delivery_event(core::db::Transaction& tx, const core::events::Envelope& event);
  /// Opens a `late` incident for every delivery under way past its promise (once each);
  /// returns how many it opened.
  std::size_t open_late_incidents();

  std::optional<Incident> find_incident(std::string_view incident_id) override;
  std::int64_t unsettled();

 private:
  Incident settle(const std::string& id, const std::function<void(Incident&)>& change, std::string_view event);
  // Stores a new incident with incident.opened; false when `source_key` was seen before.
  bool store_new(core::db::Transaction& tx, Incident& incident, const std::optional<std::string>& source_key);

  core::db::Database& db_;
  const core::events::Outbox& outbox_;
  const core::Clock& clock_;
  orders::OrdersApi& orders_;
  payments::PaymentsApi& payments_;
  delivery::DeliveryApi& delivery_;
};

}  // namespace deliveryhub::incidents
