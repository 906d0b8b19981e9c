#include "order_routes.hpp"

#include "core/http/json_body.hpp"
#include "core/http/paging.hpp"
#include "core/http/preconditions.hpp"
#include "wire.hpp"

namespace deliveryhub::orders {
namespace {

using core::Error;
using core::ErrorKind;
using core::auth::Principal;
using core::http::FieldReader;
using core::http::Request;
using core::http::Response;

constexpr std::size_t kMaxItems = 50;

Response order_response(int status, const Order& order) {
  Response response = Response::json(status, to_json(order));
  response.headers.add("ETag", core::http::etag_of(order.version));
  return response;
}

bool may_read(const Principal& principal, const Order& order) {
  return principal.has_role("operator") || (principal.has_role("customer") && principal.subject == order.customer_id);
}

}  // namespace

void add_order_routes(core::http::Router& router, OrderService& orders, const core::auth::TokenValidator& tokens,
                      std::int64_t saga_backlog_limit) {
  router.add("POST", "/api/v1/orders", [&orders, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"customer"});
    const auto body = core::http::parse_json_object(request);
    FieldReader reader(body, {"items", "address_id", "payment_method"});
    auto address_id = reader.required_string("address_id", 1, 64);
    auto payment_method = reader.required_string("payment_method", 1, 64);
    PlaceOrder order{principal.subject, {}, address_id.value_or(""), payment_method.value_or("")};
    const auto items = body.find("items");
    if (items == body.end() || !items->is_array() || items->empty() || items->size() > kMaxItems) {
      reader.fail("items", "must be a list of 1 to " + std::to_string(kMaxItems) + " items");
    } else {
      for (std::size_t i = 0; i < items->size(); ++i) {
        const auto prefix = "items[" + std::to_string(i) + "].";
        const auto& item = (*items)[i];
        if (!item.is_object()) {
          reader.fail("items[" + std::to_string(i) + "]", "must be an object");
          continue;
        }
        FieldReader item_reader(item, {"sku", "quantity"}, prefix);
        auto sku = item_reader.required_string("sku", 1, 64);
        auto quantity = item_reader.required_integer("quantity", 1, 100);
        for (const auto& e : item_reader.errors()) reader.fail(e.field, e.message);
        if (sku && quantity) order.items.push_back({*sku, *quantity});
      }
    }
    // Fields of nested readers already carry their prefix; report them once.
    reader.throw_if_failed();
    const Order placed = orders.place(order);
    Response response = order_response(201, placed);
    response.headers.add("Location", "/api/v1/orders/" + placed.id);
    return response;
  });

  router.add("GET", "/api/v1/orders/{id}", [&orders, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    auto order = orders.find(std::string(request.param("id")));
    if (!order || !may_read(principal, *order)) throw Error(ErrorKind::not_found, "No such order");
    return order_response(200, *order);
  });

  router.add("POST", "/api/v1/orders/{id}/cancel", [&orders, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"customer", "operator"});
    Canceller by{principal.subject, principal.has_role("operator"), ""};
    if (!request.body.empty()) {  // the body is optional: {"reason": "…"}
      const auto body = core::http::parse_json_object(request);
      FieldReader reader(body, {"reason"});
      by.reason = reader.optional_string("reason", 1, 500).value_or("");
      reader.throw_if_failed();
    }
    return order_response(200, orders.cancel(std::string(request.param("id")), by));
  });

  // The operator's dashboard: orders by status and the saga's backlog with its limit (ADR 0030).
  router.add("GET", "/api/v1/orders/summary", [&orders, &tokens, saga_backlog_limit](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"operator"});
    auto body = orders.summary();
    body["saga_backlog_limit"] = saga_backlog_limit;
    return Response::json(200, body);
  });

  router.add("GET", "/api/v1/orders", [&orders, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"customer", "operator"});
    const auto paging = core::http::read_paging(request);
    auto customer_id = request.query_param("customer_id");
    const auto status = request.query_param("status");
    if (!principal.has_role("operator")) {
      // A customer sees only their own orders; asking for someone else's finds nothing.
      if (customer_id && *customer_id != principal.subject)
        return core::http::page_response(nlohmann::json::array(), std::nullopt);
      customer_id = principal.subject;
    }
    const auto page = orders.list(customer_id, status, paging.limit, paging.after);
    nlohmann::json data = nlohmann::json::array();
    for (const auto& order : page.orders) data.push_back(to_json(order));
    return core::http::page_response(data, page.next_after);
  });
}

}  // namespace deliveryhub::orders
