#pragma once
// Orders' JSON: the REST representations of an order and a product; an order's is also what the
// internal API sends to other modules (ADR 0014), and its inverse is the remote client's.
#include "orders/api.hpp"

#include <nlohmann/json.hpp>

namespace deliveryhub::orders {

nlohmann::json to_json(const Order& order);
nlohmann::json to_json(const Product& product);
/// Throw core::Error(internal) when `json` is not what to_json writes.
Order order_from_json(const nlohmann::json& json);

OrderStatus status_from(std::string_view text);

}  // namespace deliveryhub::orders
