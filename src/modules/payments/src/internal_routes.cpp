#include "internal_routes.hpp"

#include "core/http/json_body.hpp"
#include "wire.hpp"

namespace deliveryhub::payments {
namespace {

using core::http::Request;
using core::http::Response;

constexpr std::int64_t kMaxAmount = 100'000'000'00;

std::string order_id_of(core::http::FieldReader& reader) {
  auto order_id = reader.required_string("order_id", 1, 64);
  reader.throw_if_failed();
  return *order_id;
}

}  // namespace

void add_internal_routes(core::http::Router& router, PaymentsApi& payments, const core::auth::TokenValidator& tokens) {
  router.add("POST", "/internal/v1/payments/authorize", [&payments, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"orders"});
    const auto body = core::http::parse_json_object(request);
    core::http::FieldReader reader(body, {"order_id", "customer_id", "amount", "currency", "payment_method"});
    auto order_id = reader.required_string("order_id", 1, 64);
    auto customer_id = reader.required_string("customer_id", 1, 64);
    auto amount = reader.required_integer("amount", 0, kMaxAmount);
    auto currency = reader.required_string("currency", 3, 3);
    auto method = reader.required_string("payment_method", 1, 64);
    reader.throw_if_failed();
    return Response::json(200, to_json(payments.authorize({*order_id, *customer_id, *amount, *currency, *method})));
  });
  router.add("POST", "/internal/v1/payments/void", [&payments, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"orders"});
    const auto body = core::http::parse_json_object(request);
    core::http::FieldReader reader(body, {"order_id"});
    return Response::json(200, to_json(payments.void_authorization(order_id_of(reader))));
  });
  router.add("POST", "/internal/v1/payments/refund", [&payments, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"orders", "incidents"});
    const auto body = core::http::parse_json_object(request);
    core::http::FieldReader reader(body, {"order_id", "amount", "reason", "refund_id"});
    auto order_id = reader.required_string("order_id", 1, 64);
    auto amount = reader.required_integer("amount", 1, kMaxAmount);
    auto reason = reader.required_string("reason", 1, 500);
    auto refund_id = reader.required_string("refund_id", 1, 300);
    reader.throw_if_failed();
    return Response::json(200, to_json(payments.refund(*order_id, *amount, *reason, *refund_id)));
  });
  // 200 with "payment": null when there is none: a 404 would be indistinguishable from a wrong URL.
  router.add("GET", "/internal/v1/payments/by-order/{order_id}", [&payments, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"orders", "incidents"});
    auto payment = payments.find_by_order(request.param("order_id"));
    return Response::json(200, {{"payment", payment ? to_json(*payment) : nlohmann::json()}});
  });
}

}  // namespace deliveryhub::payments
