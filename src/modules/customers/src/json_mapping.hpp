#pragma once
#include "customers/api.hpp"

#include <nlohmann/json.hpp>

namespace deliveryhub::customers {
nlohmann::json to_json(const Address& address);
nlohmann::json to_json(const Customer& customer);
}  // namespace deliveryhub::customers
