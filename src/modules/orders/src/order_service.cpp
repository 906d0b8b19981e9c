#include "order_service.hpp"

#include "core/errors.hpp"
#include "core/log/log.hpp"
#include "core/util/ids.hpp"
#include "order_repository.hpp"
#include "orders/events.hpp"

namespace deliveryhub::orders {

using core::Error;
using core::ErrorKind;

std::string_view to_string(OrderStatus status) {
  switch (status) {
    case OrderStatus::pending:
      return "pending";
    case OrderStatus::payment_authorized:
      return "payment_authorized";
    case OrderStatus::confirmed:
      return "confirmed";
    case OrderStatus::dispatched:
      return "dispatched";
    case OrderStatus::delivered:
      return "delivered";
    case OrderStatus::rejected:
      return "rejected";
    case OrderStatus::cancelled:
      return "cancelled";
    case OrderStatus::delivery_failed:
      return "delivery_failed";
  }
  return "pending";
}

nlohmann::json order_event_payload(const Order& order) {
  nlohmann::json payload = {{"order_id", order.id},
                            {"customer_id", order.customer_id},
                            {"status", to_string(order.status)},
                            {"total", order.total},
                            {"currency", order.currency}};
  if (order.rejection_reason) payload["reason"] = *order.rejection_reason;
  return payload;
}

OrderService::OrderService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                           CatalogService& catalog, customers::CustomersApi& customers, delivery::DeliveryApi& delivery,
                           std::function<void()> saga_wake, std::function<void()> admit)
    : db_(db),
      outbox_(outbox),
      clock_(clock),
      catalog_(catalog),
      customers_(customers),
      delivery_(delivery),
      saga_wake_(std::move(saga_wake)),
      admit_(std::move(admit)) {}

Order OrderService::place(const PlaceOrder& request) {
  // Refused at once, nothing stored, while payments is known to be down: an order accepted now
  // would only wait in `pending` (ADR 0014).
  if (admit_) admit_();
  const auto customer = customers_.find_customer(request.customer_id);
  if (!customer) throw Error(ErrorKind::unprocessable, "Only customers place orders");
  std::vector<core::FieldError> errors;
  const auto* address = customer->find_address(request.address_id);
  if (!address) errors.push_back({"address_id", "is not one of your addresses"});

  Order order;
  order.id = core::new_id("ord");
  order.customer_id = customer->id;
  for (std::size_t i = 0; i < request.items.size(); ++i) {
    const auto& wanted = request.items[i];
    const auto field = "items[" + std::to_string(i) + "].sku";
    auto product = catalog_.find_by_sku(wanted.sku);
    if (!product || !product->active) {
      errors.push_back({field, "is not in the catalog"});
      continue;
    }
    if (order.currency.empty()) order.currency = product->currency;
    if (product->currency != order.currency) {
      errors.push_back({field, "is priced in " + product->currency + "; one order has one currency"});
      continue;
    }
    const std::int64_t line_total = product->price * wanted.quantity;
    order.items.push_back({product->sku, product->name, wanted.quantity, product->price, line_total});
    order.total += line_total;
  }
  if (!errors.empty()) throw Error(ErrorKind::unprocessable, "The order cannot be placed", errors);
  order.address = {address->label, address->line1, address->city, address->postal_code, address->country};
  order.created_at = order.updated_at = clock_.now();

  const bool suspended = customer->status == customers::CustomerStatus::suspended;
  if (suspended) {
    order.status = OrderStatus::rejected;
    order.rejection_reason = "customer_suspended";
  }
  db_.write([&](core::db::Transaction& tx) {
    order_repository::insert(tx, order, request.payment_method);
    outbox_.add(tx, std::string(events::kOrderPlaced), order.id, order_event_payload(order));
    if (suspended) {
      outbox_.add(tx, std::string(events::kOrderRejected), order.id, order_event_payload(order));
    } else {
      order_repository::start_saga(tx, order.id, "authorize", order.created_at, core::log::current().trace_id);
      tx.after_commit(saga_wake_);
    }
  });
  core::log::info("order placed", {{"order_id", order.id}, {"status", to_string(order.status)}});
  order.status_history.push_back({order.status, order.created_at});
  return order;
}

namespace {

bool may_cancel(OrderStatus status, bool operator_role) {
  switch (status) {
    case OrderStatus::pending:
    case OrderStatus::payment_authorized:
    case OrderStatus::confirmed:
      return true;
    case OrderStatus::dispatched:
      return operator_role;  // on its way: only the back office can call it back
    default:
      return false;
  }
}

Error not_cancellable(const Order& order) {
  const std::string status(to_string(order.status));
  const std::string detail = order.status == OrderStatus::dispatched
                                 ? "The order is dispatched; only an operator can cancel it now"
                                 : "An order that is " + status + " cannot be cancelled";
  return Error(ErrorKind::conflict, detail).with_extension("current_status", status);
}

}  // namespace

// The delivery is stopped first, by the delivery module, which alone knows whether the courier
// has picked up; only a cancellation it accepted is recorded here, and the saga releases the
// money after that (ADR 0020). A crash between the two is repaired by the delivery.cancelled
// event (consumers.cpp), so a stopped delivery always ends in a cancelled order.
Order OrderService::cancel(const std::string& id, const Canceller& by) {
  if (!core::is_id(id, "ord")) throw Error(ErrorKind::not_found, "No such order");
  const auto before = db_.read_statement([&](core::db::Transaction& tx) { return order_repository::find(tx, id); });
  if (!before || (!by.operator_role && before->customer_id != by.subject)) {
    throw Error(ErrorKind::not_found, "No such order");
  }
  if (!may_cancel(before->status, by.operator_role)) throw not_cancellable(*before);
  try {
    delivery_.cancel(id, by.operator_role ? delivery::StopRule::before_completion : delivery::StopRule::before_pickup);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::conflict) throw;
    // The courier is ahead of this order's record: picked up (or finished) already.
    const auto delivery_status = e.extensions().value("current_status", std::string());
    const std::string status = delivery_status == "picked_up"   ? "dispatched"
                               : delivery_status == "delivered" ? "delivered"
                               : delivery_status == "failed"    ? "delivery_failed"
                                                                : std::string(to_string(before->status));
    throw Error(ErrorKind::conflict, e.detail()).with_extension("current_status", status);
  }
  Order order = db_.write([&](core::db::Transaction& tx) {
    auto found = order_repository::find(tx, id);
    if (!found) throw Error(ErrorKind::not_found, "No such order");
    Order o = *found;
    // Its delivery is stopped: the order is cancelled now whatever the saga or the delivery
    // events recorded meanwhile — unless the delivery.cancelled event did it already.
    if (o.status == OrderStatus::cancelled) return o;
    if (o.status != OrderStatus::pending && o.status != OrderStatus::payment_authorized &&
        o.status != OrderStatus::confirmed && o.status != OrderStatus::dispatched) {
      throw not_cancellable(o);
    }
    o.status = OrderStatus::cancelled;
    o.updated_at = clock_.now();
    if (!order_repository::update(tx, o, true)) {
      throw Error(ErrorKind::conflict, "The order changed meanwhile; repeat the request")
          .with_extension("current_status", std::string(to_string(found->status)));
    }
    ++o.version;
    o.status_history.push_back({o.status, o.updated_at});
    auto payload = order_event_payload(o);
    payload["cancelled_by"] = by.operator_role ? "operator" : "customer";
    if (!by.reason.empty()) payload["reason"] = by.reason;
    outbox_.add(tx, std::string(events::kOrderCancelled), o.id, payload);
    order_repository::redirect_saga(tx, o.id, "cancel", o.updated_at, core::log::current().trace_id);
    tx.after_commit(saga_wake_);
    return o;
  });
  core::log::info("order cancelled", {{"order_id", order.id}, {"by", by.operator_role ? "operator" : "customer"}});
  return order;
}

std::optional<Order> OrderService::find(const std::string& id) {
  if (!core::is_id(id, "ord")) return std::nullopt;
  return db_.read_statement([&](core::db::Transaction& tx) { return order_repository::find(tx, id); });
}

OrderPage OrderService::list(const std::optional<std::string>& customer_id, const std::optional<std::string>& status,
                             std::size_t limit, const std::optional<std::string>& after_id) {
  return db_.read([&](core::db::Transaction& tx) {
    OrderPage page;
    page.orders = order_repository::list(tx, customer_id, status, after_id, limit + 1);
    if (page.orders.size() > limit) {
      page.orders.pop_back();
      page.next_after = page.orders.back().id;
    }
    return page;
  });
}

nlohmann::json OrderService::summary() {
  const auto counts = db_.read([](core::db::Transaction& tx) { return order_repository::counts(tx); });
  nlohmann::json by_status = nlohmann::json::object();
  for (const auto status :
       {OrderStatus::pending, OrderStatus::payment_authorized, OrderStatus::confirmed, OrderStatus::dispatched,
        OrderStatus::delivered, OrderStatus::rejected, OrderStatus::cancelled, OrderStatus::delivery_failed}) {
    by_status[std::string(to_string(status))] = 0;
  }
  for (const auto& [status, count] : counts.by_status) by_status[status] = count;
  return {{"by_status", by_status}, {"saga_backlog", counts.unfinished_sagas}};
}

}  // namespace deliveryhub::orders
