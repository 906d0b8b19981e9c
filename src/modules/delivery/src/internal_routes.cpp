#include "internal_routes.hpp"

#include "core/http/json_body.hpp"
#include "wire.hpp"

namespace deliveryhub::delivery {
namespace {

using core::http::Request;
using core::http::Response;

nlohmann::json optional_delivery(const std::optional<Delivery>& delivery) {
  return {{"delivery", delivery ? to_wire(*delivery) : nlohmann::json()}};
}

}  // namespace

void add_internal_routes(core::http::Router& router, DeliveryApi& delivery, const core::auth::TokenValidator& tokens) {
  router.add("POST", "/internal/v1/delivery/schedule", [&delivery, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"orders"});
    const auto body = core::http::parse_json_object(request);
    core::http::FieldReader reader(body, {"order_id", "customer_id", "address"});
    auto order_id = reader.required_string("order_id", 1, 64);
    auto customer_id = reader.required_string("customer_id", 1, 64);
    reader.throw_if_failed();
    // FieldReader keeps a reference: the object it reads must outlive it.
    const nlohmann::json raw_address =
        body.contains("address") && body["address"].is_object() ? body["address"] : nlohmann::json::object();
    core::http::FieldReader address(raw_address, {"line1", "city", "postal_code", "country"}, "address.");
    auto line1 = address.required_string("line1", 1, 200);
    auto city = address.required_string("city", 1, 100);
    auto postal_code = address.required_string("postal_code", 1, 20);
    auto country = address.required_string("country", 2, 2);
    address.throw_if_failed();
    const auto outcome = delivery.schedule({*order_id, *customer_id, {*line1, *city, *postal_code, *country}});
    return Response::json(200, {{"zone_served", outcome.zone_served},
                                {"delivery", outcome.delivery ? to_wire(*outcome.delivery) : nlohmann::json()}});
  });
  router.add("POST", "/internal/v1/delivery/cancel", [&delivery, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"orders"});
    const auto body = core::http::parse_json_object(request);
    core::http::FieldReader reader(body, {"order_id", "rule"});
    auto order_id = reader.required_string("order_id", 1, 64);
    const auto rule_name = reader.required_string("rule", 1, 32);
    const auto rule = rule_name ? stop_rule_from(*rule_name) : std::nullopt;
    if (rule_name && !rule) reader.fail("rule", "must be before_pickup or before_completion");
    reader.throw_if_failed();
    return Response::json(200, optional_delivery(delivery.cancel(*order_id, *rule)));
  });
  router.add("POST", "/internal/v1/delivery/redeliver", [&delivery, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"incidents"});
    const auto body = core::http::parse_json_object(request);
    core::http::FieldReader reader(body, {"order_id", "request_id"});
    auto order_id = reader.required_string("order_id", 1, 64);
    auto request_id = reader.required_string("request_id", 1, 200);
    reader.throw_if_failed();
    return Response::json(200, to_wire(delivery.redeliver(*order_id, *request_id)));
  });
  router.add("GET", "/internal/v1/delivery/by-order/{order_id}", [&delivery, &tokens](const Request& request) {
    core::auth::require_service(tokens, request, {"orders", "incidents"});
    return Response::json(200, optional_delivery(delivery.find_by_order(request.param("order_id"))));
  });
}

}  // namespace deliveryhub::delivery
