#include "service.hpp"

#include "core/errors.hpp"
#include "core/log/log.hpp"
#include "core/util/ids.hpp"
#include "core/util/text.hpp"
#include "delivery/events.hpp"
#include "repository.hpp"

#include <algorithm>

namespace deliveryhub::delivery {

using core::Error;
using core::ErrorKind;

std::string_view to_string(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::unassigned:
      return "unassigned";
    case DeliveryStatus::assigned:
      return "assigned";
    case DeliveryStatus::picked_up:
      return "picked_up";
    case DeliveryStatus::delivered:
      return "delivered";
    case DeliveryStatus::failed:
      return "failed";
    case DeliveryStatus::cancelled:
      return "cancelled";
  }
  return "unassigned";
}

std::string_view to_string(CourierStatus status) {
  switch (status) {
    case CourierStatus::available:
      return "available";
    case CourierStatus::busy:
      return "busy";
    case CourierStatus::offline:
      return "offline";
  }
  return "available";
}

std::string_view to_string(StopRule rule) {
  return rule == StopRule::before_pickup ? "before_pickup" : "before_completion";
}

std::optional<StopRule> stop_rule_from(std::string_view text) {
  if (text == "before_pickup") return StopRule::before_pickup;
  if (text == "before_completion") return StopRule::before_completion;
  return std::nullopt;
}

std::string normalize_postal(std::string_view text) {
  std::string out = core::ascii_upper(text);
  std::erase(out, ' ');
  return out;
}

namespace {

nlohmann::json payload(const Delivery& d, const std::string& note = "") {
  nlohmann::json p = {{"delivery_id", d.id},
                      {"order_id", d.order_id},
                      {"customer_id", d.customer_id},
                      {"status", to_string(d.status)},
                      {"promised_by", core::format_rfc3339(d.promised_by)}};
  if (d.courier_id) p["courier_id"] = *d.courier_id;
  if (!note.empty()) p["reason"] = note;
  return p;
}

Error illegal(const Delivery& d, DeliveryStatus wanted) {
  return Error(ErrorKind::conflict, "A delivery that is " + std::string(to_string(d.status)) + " cannot become " +
                                        std::string(to_string(wanted)))
      .with_extension("current_status", std::string(to_string(d.status)));
}

}  // namespace

DeliveryService::DeliveryService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                                 customers::CustomersApi& customers, std::chrono::seconds promise)
    : db_(db), outbox_(outbox), clock_(clock), customers_(customers), promise_(promise) {}

Zone DeliveryService::create_zone(const std::string& name, std::vector<std::string> prefixes) {
  std::vector<core::FieldError> errors;
  for (auto& prefix : prefixes) {
    prefix = normalize_postal(prefix);
    const bool ok = !prefix.empty() && prefix.size() <= 10 && std::all_of(prefix.begin(), prefix.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '-';
    });
    if (!ok) errors.push_back({"postal_prefixes", "each must be 1 to 10 letters, digits or '-'"});
  }
  std::sort(prefixes.begin(), prefixes.end());
  if (std::adjacent_find(prefixes.begin(), prefixes.end()) != prefixes.end()) {
    errors.push_back({"postal_prefixes", "must not repeat"});
  }
  if (!errors.empty()) throw Error(ErrorKind::validation, "Some fields are invalid", errors);
  Zone zone{core::new_id("zon"), name, prefixes, clock_.now()};
  try {
    db_.write([&](core::db::Transaction& tx) { repository::insert_zone(tx, zone); });
  } catch (const core::db::UniqueViolation&) {
    throw Error(ErrorKind::conflict, "A postal prefix already belongs to another zone");
  }
  return zone;
}

std::vector<Zone> DeliveryService::zones(std::size_t limit, const std::optional<std::string>& after) {
  return db_.read([&](core::db::Transaction& tx) { return repository::list_zones(tx, after, limit); });
}

Courier DeliveryService::create_courier(const NewCourier& input) {
  if (!db_.read([&](core::db::Transaction& tx) { return repository::zone_exists(tx, input.zone_id); })) {
    throw Error(ErrorKind::unprocessable, "No such zone", {{"zone_id", "is not a zone"}});
  }
  // The login first (another module); a courier row without a login could never work.
  const auto account =
      customers_.create_staff_account({input.email, input.password, input.name, customers::AccountRole::courier});
  Courier courier;
  courier.id = core::new_id("cou");
  courier.account_id = account.id;
  courier.name = input.name;
  courier.email = account.email;
  courier.zone_id = input.zone_id;
  courier.capacity = input.capacity;
  courier.created_at = courier.updated_at = clock_.now();
  try {
    db_.write([&](core::db::Transaction& tx) {
      repository::insert_courier(tx, courier);
      dispatch_waiting(tx, courier.zone_id);
    });
  } catch (...) {
    // Compensate: a login without its courier could sign in to nothing, and would block the
    // retry's email with 409. A failure here leaves it for the operator (logged).
    try {
      customers_.remove_courier_account(account.id);
    } catch (const std::exception& e) {
      core::log::error("a courier login outlived its failed creation",
                       {{"account_id", account.id}, {"error", e.what()}});
    }
    throw;
  }
  return *db_.read([&](core::db::Transaction& tx) { return repository::find_courier(tx, courier.id); });
}

Courier DeliveryService::update_courier(const std::string& id, const CourierPatch& patch,
                                        std::optional<std::int64_t> expected_version) {
  return db_.write([&](core::db::Transaction& tx) {
    auto current = repository::find_courier(tx, id);
    if (!current) throw Error(ErrorKind::not_found, "No such courier");
    if (expected_version && *expected_version != current->version) {
      throw Error(ErrorKind::precondition_failed,
                  "The courier changed since version " + std::to_string(*expected_version));
    }
    if (patch.zone_id && !repository::zone_exists(tx, *patch.zone_id)) {
      throw Error(ErrorKind::unprocessable, "No such zone", {{"zone_id", "is not a zone"}});
    }
    Courier next = *current;
    if (patch.name) next.name = *patch.name;
    if (patch.zone_id) next.zone_id = *patch.zone_id;
    if (patch.capacity) next.capacity = *patch.capacity;
    if (patch.status) next.status = *patch.status;
    next.updated_at = clock_.now();
    repository::update_courier(tx, next);
    dispatch_waiting(tx, next.zone_id);  // more room or back online: the queue may move
    return *repository::find_courier(tx, id);
  });
}

std::vector<Courier> DeliveryService::couriers(std::size_t limit, const std::optional<std::string>& after) {
  return db_.read([&](core::db::Transaction& tx) { return repository::list_couriers(tx, after, limit); });
}

std::optional<Courier> DeliveryService::courier_for_account(const std::string& account_id) {
  return db_.read([&](core::db::Transaction& tx) { return repository::find_courier_by_account(tx, account_id); });
}

ScheduleOutcome DeliveryService::schedule(const ScheduleRequest& request) {
  return db_.write([&](core::db::Transaction& tx) {
    if (auto existing = repository::latest_for_order(tx, request.order_id)) return ScheduleOutcome{true, existing};
    const auto postal = normalize_postal(request.address.postal_code);
    const auto zone_id = repository::zone_for(tx, postal);
    if (!zone_id) return ScheduleOutcome{false, std::nullopt};
    return ScheduleOutcome{true, create(tx, request, *zone_id, "scheduled", false)};
  });
}

Delivery DeliveryService::create(core::db::Transaction& tx, const ScheduleRequest& request, const std::string& zone_id,
                                 const std::string& note, bool redelivery) {
  Delivery delivery;
  delivery.id = core::new_id("dlv");
  delivery.order_id = request.order_id;
  delivery.customer_id = request.customer_id;
  delivery.zone_id = zone_id;
  delivery.address = request.address;
  delivery.address.postal_code = normalize_postal(request.address.postal_code);
  delivery.created_at = delivery.updated_at = clock_.now();
  delivery.promised_by = delivery.created_at + promise_;
  repository::insert_delivery(tx, delivery);
  const TrackingEvent scheduled{DeliveryStatus::unassigned, note, delivery.created_at};
  repository::add_tracking(tx, delivery.id, scheduled);
  auto scheduled_payload = payload(delivery);
  if (redelivery) scheduled_payload["redelivery"] = true;
  outbox_.add(tx, std::string(events::kDeliveryScheduled), delivery.order_id, scheduled_payload);
  delivery.tracking.push_back(scheduled);
  if (auto courier = repository::pick_courier(tx, delivery.zone_id)) assign(tx, delivery, *courier);
  return *repository::find_delivery(tx, delivery.id);
}

Delivery DeliveryService::redeliver(std::string_view order_id, std::string_view request_id) {
  return db_.write([&](core::db::Transaction& tx) {
    const std::string request(request_id);
    if (auto made = repository::redelivery_for(tx, request)) return *repository::find_delivery(tx, *made);
    auto latest = repository::latest_for_order(tx, std::string(order_id));
    if (!latest) throw Error(ErrorKind::not_found, "The order has no delivery to repeat");
    if (latest->status != DeliveryStatus::delivered && latest->status != DeliveryStatus::failed &&
        latest->status != DeliveryStatus::cancelled) {
      throw Error(ErrorKind::conflict, "The order's delivery is still " + std::string(to_string(latest->status)))
          .with_extension("current_status", std::string(to_string(latest->status)));
    }
    auto delivery = create(tx, {latest->order_id, latest->customer_id, latest->address}, latest->zone_id,
                           "scheduled again (" + request + ")", true);
    repository::record_redelivery(tx, request, delivery.id);
    return delivery;
  });
}

void DeliveryService::assign(core::db::Transaction& tx, Delivery& delivery, const std::string& courier_id) {
  delivery.courier_id = courier_id;
  transition(tx, delivery, DeliveryStatus::assigned, "assigned to " + courier_id, events::kDeliveryAssigned);
}

void DeliveryService::transition(core::db::Transaction& tx, Delivery& delivery, DeliveryStatus status,
                                 const std::string& note, std::string_view event_type) {
  delivery.status = status;
  delivery.updated_at = clock_.now();
  if (!repository::update_delivery(tx, delivery)) {
    throw Error(ErrorKind::conflict, "The delivery changed meanwhile; repeat the request");
  }
  ++delivery.version;
  const TrackingEvent event{status, note, delivery.updated_at};
  repository::add_tracking(tx, delivery.id, event);
  delivery.tracking.push_back(event);
  outbox_.add(tx, std::string(event_type), delivery.order_id, payload(delivery, note));
}

void DeliveryService::dispatch_waiting(core::db::Transaction& tx, const std::string& zone_id) {
  while (auto waiting = repository::next_unassigned(tx, zone_id)) {
    auto courier = repository::pick_courier(tx, zone_id);
    if (!courier) return;
    assign(tx, *waiting, *courier);
  }
}

std::optional<Delivery> DeliveryService::cancel(std::string_view order_id, StopRule rule) {
  return db_.write([&](core::db::Transaction& tx) -> std::optional<Delivery> {
    auto delivery = repository::latest_for_order(tx, std::string(order_id));
    if (!delivery) return std::nullopt;
    if (delivery->status == DeliveryStatus::cancelled) return delivery;
    if (delivery->status == DeliveryStatus::delivered || delivery->status == DeliveryStatus::failed) {
      throw illegal(*delivery, DeliveryStatus::cancelled);
    }
    if (delivery->status == DeliveryStatus::picked_up && rule == StopRule::before_pickup) {
      throw Error(ErrorKind::conflict, "The courier has picked the order up; only an operator can cancel it now")
          .with_extension("current_status", std::string(to_string(delivery->status)));
    }
    transition(tx, *delivery, DeliveryStatus::cancelled, "order cancelled", events::kDeliveryCancelled);
    dispatch_waiting(tx, delivery->zone_id);
    return delivery;
  });
}

Delivery DeliveryService::record(const std::string& delivery_id, DeliveryStatus status, const std::string& note) {
  return db_.write([&](core::db::Transaction& tx) {
    auto delivery = repository::find_delivery(tx, delivery_id);
    if (!delivery) throw Error(ErrorKind::not_found, "No such delivery");
    const auto from = delivery->status;
    const bool legal =
        (status == DeliveryStatus::picked_up && from == DeliveryStatus::assigned) ||
        (status == DeliveryStatus::delivered && from == DeliveryStatus::picked_up) ||
        (status == DeliveryStatus::failed && (from == DeliveryStatus::assigned || from == DeliveryStatus::picked_up));
    if (!legal) throw illegal(*delivery, status);
    const auto type = status == DeliveryStatus::picked_up   ? events::kDeliveryPickedUp
                      : status == DeliveryStatus::delivered ? events::kDeliveryCompleted
                                                            : events::kDeliveryFailed;
    transition(tx, *delivery, status, note, type);
    if (status != DeliveryStatus::picked_up) dispatch_waiting(tx, delivery->zone_id);  // the courier has room again
    return *delivery;
  });
}

std::optional<Delivery> DeliveryService::find_by_order(std::string_view order_id) {
  return db_.read([&](core::db::Transaction& tx) { return repository::latest_for_order(tx, std::string(order_id)); });
}

std::optional<Delivery> DeliveryService::find(const std::string& id) {
  if (!core::is_id(id, "dlv")) return std::nullopt;
  return db_.read([&](core::db::Transaction& tx) { return repository::find_delivery(tx, id); });
}

std::vector<Delivery> DeliveryService::active_for_courier(const std::string& courier_id) {
  return db_.read([&](core::db::Transaction& tx) { return repository::active_for_courier(tx, courier_id); });
}

}  // namespace deliveryhub::delivery
