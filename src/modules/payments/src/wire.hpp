#pragma once
// Payments' JSON: the REST representation of a payment, which is also what the module's
// internal API sends to remote callers (ADR 0014), and its inverse for the remote client.
#include "payments/api.hpp"

#include <nlohmann/json.hpp>

namespace deliveryhub::payments {

nlohmann::json to_json(const Payment& payment);
/// Throws core::Error(internal) when `json` is not a payment as to_json writes it.
Payment payment_from_json(const nlohmann::json& json);

nlohmann::json to_json(const AuthorizationRequest& request);

PaymentStatus status_from(std::string_view text);
OperationType operation_type_from(std::string_view text);

}  // namespace deliveryhub::payments
