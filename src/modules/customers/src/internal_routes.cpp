#include "internal_routes.hpp"

#include "core/http/json_body.hpp"
#include "wire.hpp"

#include <algorithm>

namespace deliveryhub::customers {
using core::http::Request;
using core::http::Response;

void add_internal_routes(core::http::Router& router, CustomersApi& customers,
                         const core::auth::TokenValidator& tokens) {
  // 200 with "customer": null when there is none: a 404 would look like a wrong URL.
  router.add("GET", "/internal/v1/customers/{id}", [&customers, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"orders"});
    auto customer = customers.find_customer(request.param("id"));
    return Response::json(200, {{"customer", customer ? to_json(*customer) : nlohmann::json()}});
  });
  // Every module that checks tokens asks, in a process without customers (ADR 0021). The literal
  // segment wins over /{id}.
  router.add("GET", "/internal/v1/customers/suspensions", [&customers, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"payments", "delivery", "orders", "incidents"});
    const auto since = request.query_param("since");
    std::int64_t since_ms = -1;
    if (since && !since->empty() && since->size() <= 15 &&
        std::all_of(since->begin(), since->end(), [](char c) { return c >= '0' && c <= '9'; })) {
      since_ms = std::stoll(*since);
    }
    if (since_ms < 0) {
      throw core::Error(core::ErrorKind::validation, "Some fields are invalid",
                        {{"since", "must be Unix milliseconds"}});
    }
    auto list = nlohmann::json::array();
    for (const auto& suspension : customers.suspensions_since(core::from_unix_ms(since_ms))) {
      list.push_back({{"account_id", suspension.account_id}, {"at_ms", core::to_unix_ms(suspension.at)}});
    }
    return Response::json(200, {{"suspensions", std::move(list)}});
  });
  router.add("DELETE", "/internal/v1/customers/courier-accounts/{id}", [&customers, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"delivery"});
    customers.remove_courier_account(request.param("id"));
    return Response::json(200, {{"removed", true}});
  });
  router.add("POST", "/internal/v1/customers/staff-accounts", [&customers, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"delivery"});
    const auto body = core::http::parse_json_object(request);
    core::http::FieldReader reader(body, {"email", "password", "name", "role"});
    auto email = reader.required_string("email", 3, 254);
    auto password = reader.required_string("password", 10, 128);
    auto name = reader.required_string("name", 1, 100);
    auto role = reader.required_string("role", 1, 20);
    reader.throw_if_failed();
    // Modules create couriers (delivery); operators are made by operators or the bootstrap,
    // never by a machine: a leaked service secret must not mint back-office accounts (issue 11).
    if (*role == "operator") throw core::Error(core::ErrorKind::forbidden, "A module may not create operators");
    if (*role != "courier") {
      throw core::Error(core::ErrorKind::validation, "Some fields are invalid", {{"role", "must be courier"}});
    }
    return Response::json(201, to_json(customers.create_staff_account({*email, *password, *name, role_from(*role)})));
  });
}

}  // namespace deliveryhub::customers
