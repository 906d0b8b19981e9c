#pragma once
#include "customers/api.hpp"

#include <nlohmann/json.hpp>

namespace deliveryhub::customers {
nlohmann::json to_json(const Address& address);
nlohmann::json to_json(const Customer& customer);
nlohmann::json to_json(const Account& account);
/// The inverses, for the remote client; throw core::Error(internal) on anything else.
Customer customer_from_json(const nlohmann::json& json);
Account account_from_json(const nlohmann::json& json);
AccountRole role_from(std::string_view text);
CustomerStatus status_from(std::string_view text);
}  // namespace deliveryhub::customers
