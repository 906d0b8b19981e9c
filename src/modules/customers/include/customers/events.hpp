#pragma once
// Events the customers module publishes. Payloads are JSON objects with these fields.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace deliveryhub::customers::events {

inline constexpr std::string_view kCustomerRegistered = "customer.registered";
inline constexpr std::string_view kCustomerSuspended = "customer.suspended";
inline constexpr std::string_view kCustomerReactivated = "customer.reactivated";

/// customer.registered — aggregate: the customer id.
struct CustomerRegistered {
  std::string customer_id;
  std::string email;
  std::string name;
};

/// customer.suspended and customer.reactivated — aggregate: the customer id.
struct CustomerStatusChanged {
  std::string customer_id;
};

inline nlohmann::json to_json(const CustomerRegistered& e) {
  return {{"customer_id", e.customer_id}, {"email", e.email}, {"name", e.name}};
}
inline nlohmann::json to_json(const CustomerStatusChanged& e) {
  return {{"customer_id", e.customer_id}};
}

/// Decoders throw nlohmann::json::exception when a field is missing or of the wrong type.
inline CustomerRegistered customer_registered_from_json(const nlohmann::json& j) {
  return {j.at("customer_id").get<std::string>(), j.at("email").get<std::string>(), j.at("name").get<std::string>()};
}
inline CustomerStatusChanged customer_status_changed_from_json(const nlohmann::json& j) {
  return {j.at("customer_id").get<std::string>()};
}

}  // namespace deliveryhub::customers::events
