#include "remote_client.hpp"

#include "core/errors.hpp"
#include "wire.hpp"

namespace deliveryhub::delivery {
namespace {

std::optional<Delivery> optional_delivery(const nlohmann::json& answer) {
  if (!answer.is_object() || !answer.contains("delivery")) {
    throw core::Error(core::ErrorKind::internal, "delivery answered without a delivery field");
  }
  if (answer["delivery"].is_null()) return std::nullopt;
  return delivery_from_wire(answer["delivery"]);
}

}  // namespace

ScheduleOutcome RemoteDelivery::schedule(const ScheduleRequest& request) {
  const nlohmann::json body{{"order_id", request.order_id},
                            {"customer_id", request.customer_id},
                            {"address",
                             {{"line1", request.address.line1},
                              {"city", request.address.city},
                              {"postal_code", request.address.postal_code},
                              {"country", request.address.country}}}};
  const auto answer = channel_.call({"POST", "/internal/v1/delivery/schedule", body, true});
  if (!answer.is_object() || !answer.contains("zone_served") || !answer["zone_served"].is_boolean()) {
    throw core::Error(core::ErrorKind::internal, "delivery answered a malformed schedule outcome");
  }
  return {answer["zone_served"].get<bool>(), optional_delivery(answer)};
}

std::optional<Delivery> RemoteDelivery::cancel(std::string_view order_id, StopRule rule) {
  return optional_delivery(channel_.call({"POST", "/internal/v1/delivery/cancel",
                                          nlohmann::json{{"order_id", order_id}, {"rule", to_string(rule)}}, true}));
}

Delivery RemoteDelivery::redeliver(std::string_view order_id, std::string_view request_id) {
  return delivery_from_wire(channel_.call({"POST", "/internal/v1/delivery/redeliver",
                                           nlohmann::json{{"order_id", order_id}, {"request_id", request_id}}, true}));
}

std::optional<Delivery> RemoteDelivery::find_by_order(std::string_view order_id) {
  return optional_delivery(
      channel_.call({"GET", "/internal/v1/delivery/by-order/" + std::string(order_id), std::nullopt, true}));
}

}  // namespace deliveryhub::delivery
