#pragma once
// Delivery's JSON: the REST representation of a delivery, and for the internal API (ADR 0014)
// that representation plus the customer, with its inverse for the remote client.
#include "delivery/api.hpp"

#include <nlohmann/json.hpp>

namespace deliveryhub::delivery {

/// As clients of the REST API see a delivery.
nlohmann::json to_json(const Delivery& delivery);
/// As other modules see it: to_json plus customer_id.
nlohmann::json to_wire(const Delivery& delivery);
/// Throws core::Error(internal) when `json` is not what to_wire writes.
Delivery delivery_from_wire(const nlohmann::json& json);

DeliveryStatus delivery_status_from(std::string_view text);

}  // namespace deliveryhub::delivery
