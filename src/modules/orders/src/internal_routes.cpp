#include "internal_routes.hpp"

#include "core/errors.hpp"
#include "wire.hpp"

namespace deliveryhub::orders {
using core::http::Request;
using core::http::Response;

void add_internal_routes(core::http::Router& router, OrdersApi& orders, const core::auth::TokenValidator& tokens) {
  // 200 with null when there is none: a 404 would look like a wrong URL.
  router.add("GET", "/internal/v1/orders/{id}", [&orders, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"incidents"});
    auto order = orders.find_order(request.param("id"));
    return Response::json(200, {{"order", order ? to_json(*order) : nlohmann::json()}});
  });
}

}  // namespace deliveryhub::orders
