#include "routes.hpp"

#include "core/http/json_body.hpp"
#include "core/http/paging.hpp"
#include "core/http/preconditions.hpp"
#include "core/util/ids.hpp"
#include "wire.hpp"

namespace deliveryhub::payments {
namespace {

using core::Error;
using core::ErrorKind;
using core::auth::Principal;
using core::http::Request;
using core::http::Response;

bool may_read(const Principal& principal, const Payment& payment) {
  return principal.has_role("operator") || (principal.has_role("customer") && principal.subject == payment.customer_id);
}

}  // namespace

void add_payment_routes(core::http::Router& router, PaymentsService& payments,
                        const core::auth::TokenValidator& tokens) {
  router.add("GET", "/api/v1/payments/{id}", [&payments, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"customer", "operator"});
    auto payment = payments.find(std::string(request.param("id")));
    if (!payment || !may_read(principal, *payment)) throw Error(ErrorKind::not_found, "No such payment");
    Response response = Response::json(200, to_json(*payment));
    response.headers.add("ETag", core::http::etag_of(payment->version));
    return response;
  });

  router.add("GET", "/api/v1/payments", [&payments, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"customer", "operator"});
    const auto order_id = request.query_param("order_id");
    if (!order_id || order_id->empty()) {
      throw Error(ErrorKind::validation, "order_id is required", {{"order_id", "is required"}});
    }
    std::optional<std::string> owner;
    if (!principal.has_role("operator")) owner = principal.subject;
    nlohmann::json data = nlohmann::json::array();
    for (const auto& payment : payments.list_by_order(*order_id, owner)) data.push_back(to_json(payment));
    return core::http::page_response(data, std::nullopt);
  });

  router.add("POST", "/api/v1/payments/{id}/refunds", [&payments, &tokens](const Request& request) {
    const Principal principal = tokens.authenticate(request);
    core::auth::require_any_role(principal, {"operator"});
    const auto body = core::http::parse_json_object(request);
    core::http::FieldReader reader(body, {"amount", "reason"});
    auto amount = reader.required_integer("amount", 1, 100'000'000'00);
    auto reason = reader.required_string("reason", 1, 500);
    reader.throw_if_failed();
    auto payment = payments.find(std::string(request.param("id")));
    if (!payment) throw Error(ErrorKind::not_found, "No such payment");
    // A client's Idempotency-Key makes the refund safe to repeat; without one each POST is new.
    const auto key = request.header("Idempotency-Key");
    // Scoped to the caller and the payment, so the same key on another payment is another refund.
    const std::string refund_id =
        key.empty() ? core::new_id("rfd") : principal.subject + ":" + payment->id + ":" + std::string(key);
    const Payment refunded = payments.refund(payment->order_id, *amount, *reason, refund_id);
    return Response::json(201, to_json(refunded));
  });
}

}  // namespace deliveryhub::payments
