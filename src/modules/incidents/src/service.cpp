#include "service.hpp"

#include "core/errors.hpp"
#include "core/log/log.hpp"
#include "core/util/ids.hpp"
#include "delivery/events.hpp"
#include "incidents/events.hpp"

namespace deliveryhub::incidents {

using core::Error;
using core::ErrorKind;

std::string_view to_string(IncidentType type) {
  switch (type) {
    case IncidentType::damaged:
      return "damaged";
    case IncidentType::late:
      return "late";
    case IncidentType::missing_item:
      return "missing_item";
    case IncidentType::not_delivered:
      return "not_delivered";
    case IncidentType::other:
      return "other";
  }
  return "other";
}

std::string_view to_string(IncidentStatus status) {
  switch (status) {
    case IncidentStatus::open:
      return "open";
    case IncidentStatus::in_progress:
      return "in_progress";
    case IncidentStatus::resolved:
      return "resolved";
    case IncidentStatus::rejected:
      return "rejected";
  }
  return "open";
}

std::string_view to_string(Resolution resolution) {
  switch (resolution) {
    case Resolution::refund:
      return "refund";
    case Resolution::redeliver:
      return "redeliver";
    case Resolution::none:
      return "none";
  }
  return "none";
}

namespace {

bool settled(IncidentStatus status) {
  return status == IncidentStatus::resolved || status == IncidentStatus::rejected;
}

Error not_found() {
  return Error(ErrorKind::not_found, "No such incident");
}

Error conflict(const Incident& incident, const std::string& detail) {
  return Error(ErrorKind::conflict, detail).with_extension("current_status", std::string(to_string(incident.status)));
}

nlohmann::json event_payload(const Incident& i) {
  nlohmann::json p = {{"incident_id", i.id},
                      {"order_id", i.order_id},
                      {"customer_id", i.customer_id},
                      {"type", to_string(i.type)},
                      {"status", to_string(i.status)}};
  if (i.resolution) p["resolution"] = to_string(*i.resolution);
  if (i.refund_amount) p["amount"] = *i.refund_amount;
  if (i.rejection_reason) p["reason"] = *i.rejection_reason;
  return p;
}

bool under_way(delivery::DeliveryStatus status) {
  return status == delivery::DeliveryStatus::unassigned || status == delivery::DeliveryStatus::assigned ||
         status == delivery::DeliveryStatus::picked_up;
}

std::string text_member(const nlohmann::json& payload, const char* name) {
  const auto it = payload.find(name);
  return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

IncidentService::IncidentService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                                 orders::OrdersApi& orders, payments::PaymentsApi& payments,
                                 delivery::DeliveryApi& delivery)
    : db_(db), outbox_(outbox), clock_(clock), orders_(orders), payments_(payments), delivery_(delivery) {}

bool IncidentService::store_new(core::db::Transaction& tx, Incident& incident,
                                const std::optional<std::string>& source_key) {
  if (!repository::insert(tx, incident, source_key)) return false;
  outbox_.add(tx, std::string(events::kIncidentOpened), incident.order_id, event_payload(incident));
  return true;
}

Incident IncidentService::open(const OpenIncident& request, const Actor& by) {
  const auto order = core::is_id(request.order_id, "ord") ? orders_.find_order(request.order_id) : std::nullopt;
  if (!order || (!by.operator_role && order->customer_id != by.subject)) {
    // The same answer for someone else's order and for none at all.
    throw Error(ErrorKind::unprocessable, "The incident cannot be opened",
                {{"order_id", by.operator_role ? "is not an order" : "is not one of your orders"}});
  }
  Incident incident;
  incident.id = core::new_id("inc");
  incident.order_id = order->id;
  incident.customer_id = order->customer_id;
  incident.type = request.type;
  incident.description = request.description;
  incident.opened_by = by.operator_role ? "operator" : "customer";
  incident.created_at = incident.updated_at = clock_.now();
  db_.write([&](core::db::Transaction& tx) { store_new(tx, incident, std::nullopt); });
  core::log::info("incident opened", {{"incident_id", incident.id}, {"order_id", incident.order_id}});
  return incident;
}

Incident IncidentService::get(const std::string& id, const Actor& by) {
  auto incident = find_incident(id);
  if (!incident || (!by.operator_role && incident->customer_id != by.subject)) throw not_found();
  return *incident;
}

std::optional<Incident> IncidentService::find_incident(std::string_view incident_id) {
  const std::string id(incident_id);
  if (!core::is_id(id, "inc")) return std::nullopt;
  return db_.read([&](core::db::Transaction& tx) { return repository::find(tx, id); });
}

IncidentPage IncidentService::list(const repository::Filter& filter, std::size_t limit,
                                   const std::optional<std::string>& after) {
  return db_.read([&](core::db::Transaction& tx) {
    IncidentPage page;
    page.incidents = repository::list(tx, filter, after, limit + 1);
    if (page.incidents.size() > limit) {
      page.incidents.pop_back();
      page.next_after = page.incidents.back().id;
    }
    return page;
  });
}

Comment IncidentService::comment(const std::string& id, const std::string& body, const Actor& by) {
  return db_.write([&](core::db::Transaction& tx) {
    auto incident = core::is_id(id, "inc") ? repository::find(tx, id) : std::nullopt;
    if (!incident || (!by.operator_role && incident->customer_id != by.subject)) throw not_found();
    if (settled(incident->status)) {
      throw conflict(*incident,
                     "The incident is " + std::string(to_string(incident->status)) + "; it takes no more comments");
    }
    Comment comment{core::new_id("cmt"), by.subject, by.operator_role ? "operator" : "customer", body, clock_.now()};
    repository::add_comment(tx, incident->id, comment);
    if (by.operator_role && incident->status == IncidentStatus::open) {
      incident->status = IncidentStatus::in_progress;  // an operator is on it
      incident->updated_at = comment.at;
      if (!repository::update(tx, *incident)) throw conflict(*incident, "The incident changed meanwhile; repeat");
    }
    return comment;
  });
}

Incident IncidentService::settle(const std::string& id, const std::function<void(Incident&)>& change,
                                 std::string_view event) {
  Incident result = db_.write([&](core::db::Transaction& tx) {
    auto incident = core::is_id(id, "inc") ? repository::find(tx, id) : std::nullopt;
    if (!incident) throw not_found();
    if (settled(incident->status)) {
      throw conflict(*incident, "The incident is " + std::string(to_string(incident->status)) + " already");
    }
    change(*incident);
    incident->updated_at = clock_.now();
    if (!repository::update(tx, *incident)) throw conflict(*incident, "The incident changed meanwhile; repeat");
    ++incident->version;
    outbox_.add(tx, std::string(event), incident->order_id, event_payload(*incident));
    return *incident;
  });
  core::log::info("incident settled", {{"incident_id", result.id}, {"status", to_string(result.status)}});
  return result;
}

Incident IncidentService::resolve(const std::string& id, const Resolve& request) {
  const auto current = find_incident(id);
  if (!current) throw not_found();
  if (settled(current->status)) {
    throw conflict(*current, "The incident is " + std::string(to_string(current->status)) + " already");
  }
  // Check what the resolution needs before promising it; the effect itself follows the event.
  if (request.resolution == Resolution::refund) {
    const auto payment = payments_.find_by_order(current->order_id);
    const std::int64_t refundable = payment ? payment->captured_amount - payment->refunded_amount : 0;
    if (refundable <= 0) {
      throw conflict(*current, "Nothing was captured for this order, so nothing can be refunded")
          .with_extension("refundable_amount", refundable);
    }
    if (request.amount.value_or(0) > refundable) {
      throw Error(ErrorKind::unprocessable, "The refund exceeds what is refundable",
                  {{"amount", "must be at most " + std::to_string(refundable)}})
          .with_extension("refundable_amount", refundable);
    }
  } else if (request.resolution == Resolution::redeliver) {
    const auto order = orders_.find_order(current->order_id);
    if (order && (order->status == orders::OrderStatus::cancelled || order->status == orders::OrderStatus::rejected)) {
      throw conflict(*current, std::string("The order was ") +
                                   (order->status == orders::OrderStatus::cancelled ? "cancelled" : "rejected") +
                                   "; there is nothing to deliver");
    }
    const auto latest = delivery_.find_by_order(current->order_id);
    if (!latest) throw conflict(*current, "The order was never scheduled for delivery");
    if (under_way(latest->status)) {
      throw conflict(*current, "The order's delivery is still under way");
    }
  }
  return settle(
      id,
      [&](Incident& incident) {
        incident.status = IncidentStatus::resolved;
        incident.resolution = request.resolution;
        if (request.resolution == Resolution::refund) incident.refund_amount = request.amount;
      },
      events::kIncidentResolved);
}

Incident IncidentService::reject(const std::string& id, const std::string& reason) {
  return settle(
      id,
      [&](Incident& incident) {
        incident.status = IncidentStatus::rejected;
        incident.rejection_reason = reason;
      },
      events::kIncidentRejected);
}

void IncidentService::apply_resolution(const core::events::Envelope& resolved) {
  const auto incident_id = text_member(resolved.payload, "incident_id");
  const auto resolution = text_member(resolved.payload, "resolution");
  const std::string request_id = "incident:" + incident_id;
  try {
    if (resolution == "refund") {
      const auto amount = resolved.payload.value("amount", std::int64_t{0});
      payments_.refund(resolved.aggregate_id, amount, "incident " + incident_id, request_id);
    } else if (resolution == "redeliver") {
      delivery_.redeliver(resolved.aggregate_id, request_id);
    }
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::conflict && e.kind() != ErrorKind::unprocessable && e.kind() != ErrorKind::not_found)
      throw;  // may succeed later: the relay retries
    // The state moved on between the resolution and its effect (e.g. two refunds raced for the
    // same captured amount). Retrying would not help; an operator must look at it.
    core::log::error("incident resolution could not be applied",
                     {{"incident_id", incident_id}, {"resolution", resolution}, {"reason", e.detail()}});
  }
}

void IncidentService::on_delivery_failed(core::db::Transaction& tx, const core::events::Envelope& event) {
  const auto delivery_id = text_member(event.payload, "delivery_id");
  repository::unwatch(tx, delivery_id);
  Incident incident;
  incident.id = core::new_id("inc");
  incident.order_id = event.aggregate_id;
  incident.customer_id = text_member(event.payload, "customer_id");
  incident.type = IncidentType::not_delivered;
  const auto reason = text_member(event.payload, "reason");
  incident.description = "The delivery failed" + (reason.empty() ? std::string() : ": " + reason);
  incident.opened_by = "system";
  incident.created_at = incident.updated_at = clock_.now();
  if (store_new(tx, incident, "not_delivered:" + delivery_id)) {
    core::log::info("incident opened for a failed delivery", {{"incident_id", incident.id}});
  }
}

void IncidentService::on_delivery_event(core::db::Transaction& tx, const core::events::Envelope& event) {
  const auto delivery_id = text_member(event.payload, "delivery_id");
  if (event.type != delivery::events::kDeliveryScheduled) {
    repository::unwatch(tx, delivery_id);
    return;
  }
  const auto promised_by = core::parse_rfc3339(text_member(event.payload, "promised_by"));
  if (!promised_by) {
    core::log::warn("delivery.scheduled without promised_by; not watched", {{"delivery_id", delivery_id}});
    return;
  }
  repository::watch(tx, {delivery_id, event.aggregate_id, text_member(event.payload, "customer_id"), *promised_by});
}

std::size_t IncidentService::open_late_incidents() {
  const auto now = clock_.now();
  const auto due = db_.read([&](core::db::Transaction& tx) { return repository::overdue(tx, now, 100); });
  std::size_t opened = 0;
  for (const auto& late : due) {
    // The delivery's own word beats our copy, which may lag behind its events.
    const auto current = delivery_.find_by_order(late.order_id);
    const bool still_under_way = current && current->id == late.delivery_id && under_way(current->status);
    // The lambda returns what it did rather than counting: a write may run again on a conflict.
    const bool created = db_.write([&](core::db::Transaction& tx) {
      repository::unwatch(tx, late.delivery_id);
      if (!still_under_way) return false;
      Incident incident;
      incident.id = core::new_id("inc");
      incident.order_id = late.order_id;
      incident.customer_id = late.customer_id;
      incident.type = IncidentType::late;
      incident.description = "Not delivered by " + core::format_rfc3339(late.promised_by) + " as promised";
      incident.opened_by = "system";
      incident.created_at = incident.updated_at = now;
      return store_new(tx, incident, "late:" + late.delivery_id);
    });
    if (created) ++opened;
  }
  if (opened > 0) core::log::info("late incidents opened", {{"count", opened}});
  return opened;
}

std::int64_t IncidentService::unsettled() {
  return db_.read([&](core::db::Transaction& tx) { return repository::count_unsettled(tx); });
}

}  // namespace deliveryhub::incidents
