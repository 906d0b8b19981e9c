#pragma once
// Orders' JSON: the REST representations of an order and a product, which are also what the
// internal API sends to other modules (ADR 0014), and their inverses for the remote client.
#include "orders/api.hpp"

#include <nlohmann/json.hpp>

namespace deliveryhub::orders {

nlohmann::json to_json(const Order& order);
nlohmann::json to_json(const Product& product);
/// Throw core::Error(internal) when `json` is not what to_json writes.
Order order_from_json(const nlohmann::json& json);
Product product_from_json(const nlohmann::json& json);

OrderStatus status_from(std::string_view text);

}  // namespace deliveryhub::orders
