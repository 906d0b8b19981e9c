#pragma once
#include "catalog_service.hpp"
#include "core/db/database.hpp"
#include "core/events/outbox.hpp"
#include "customers/api.hpp"
#include "delivery/api.hpp"
#include "orders/api.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace deliveryhub::orders {

struct ItemRequest {
  std::string sku;
  std::int64_t quantity = 1;
};

struct PlaceOrder {
  std::string customer_id;
  std::vector<ItemRequest> items;
  std::string address_id;
  std::string payment_method;
};

/// Who cancels: the order's customer or an operator.
struct Canceller {
  std::string subject;
  bool operator_role = false;
  std::string reason;
};

struct OrderPage {
  std::vector<Order> orders;
  std::optional<std::string> next_after;
};

/// Orders: placement (prices from the catalog, the address copied from the customer) and
/// reads. Placement stores the order `pending` with its saga and `order.placed` in one
/// transaction; the saga (saga.hpp) takes it from there. Thread-safe.
class OrderService {
 public:
  OrderService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
               CatalogService& catalog, customers::CustomersApi& customers, delivery::DeliveryApi& delivery,
               std::function<void()> saga_wake, std::function<void()> admit = {});

  /// Throws Error: unprocessable (unknown customer, address or SKU, mixed currencies).
  /// A suspended customer's order is stored `rejected` (customer_suspended) and returned.
  Order place(const PlaceOrder& request);
  /// Cancels the order for `by`: its owner may cancel before dispatch, an operator before
  /// delivery. Stores `cancelled` with `order.cancelled` and points the saga at its `cancel`
  /// step (void or refund the payment, cancel the delivery) in one transaction.
  /// Throws Error: not_found (no such order, or not the caller's), conflict naming the status.
  Order cancel(const std::string& id, const Canceller& by);
  std::optional<Order> find(const std::string& id);
  OrderPage list(const std::optional<std::string>& customer_id, const std::optional<std::string>& status,
                 std::size_t limit, const std::optional<std::string>& after_id);
  /// Orders by status (every status, 0 included) and the unfinished sagas, in one snapshot.
  nlohmann::json summary();

 private:
  core::db::Database& db_;
  const core::events::Outbox& outbox_;
  const core::Clock& clock_;
  CatalogService& catalog_;
  customers::CustomersApi& customers_;
  delivery::DeliveryApi& delivery_;
  std::function<void()> saga_wake_;
  std::function<void()> admit_;  // throws to refuse new orders (a dependency known to be down)
};

/// The JSON payload of order events: order_id, customer_id, status, total, currency (and reason).
nlohmann::json order_event_payload(const Order& order);

}  // namespace deliveryhub::orders
