#include "remote_client.hpp"

#include "core/errors.hpp"
#include "wire.hpp"

namespace deliveryhub::payments {

Payment RemotePayments::post(const char* target, const nlohmann::json& body) {
  return payment_from_json(channel_.call({"POST", target, body, true}));
}

Payment RemotePayments::authorize(const AuthorizationRequest& request) {
  return post("/internal/v1/payments/authorize", to_json(request));
}

Payment RemotePayments::void_authorization(std::string_view order_id) {
  return post("/internal/v1/payments/void", {{"order_id", order_id}});
}

Payment RemotePayments::refund(std::string_view order_id, std::int64_t amount, std::string_view reason,
                               std::string_view refund_id) {
  return post("/internal/v1/payments/refund",
              {{"order_id", order_id}, {"amount", amount}, {"reason", reason}, {"refund_id", refund_id}});
}

std::optional<Payment> RemotePayments::find_by_order(std::string_view order_id) {
  const auto answer =
      channel_.call({"GET", "/internal/v1/payments/by-order/" + std::string(order_id), std::nullopt, true});
  if (!answer.is_object() || !answer.contains("payment")) {
    throw core::Error(core::ErrorKind::internal, "payments answered without a payment field");
  }
  if (answer["payment"].is_null()) return std::nullopt;
  return payment_from_json(answer["payment"]);
}

}  // namespace deliveryhub::payments
