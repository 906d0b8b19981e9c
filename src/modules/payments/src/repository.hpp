#pragma once
#include "core/db/database.hpp"
#include "payments/api.hpp"

#include <optional>
#include <string>
#include <vector>

/// The payments module's SQL. Every function runs in the caller's transaction.
namespace deliveryhub::payments::repository {

std::optional<Payment> find(core::db::Transaction& tx, const std::string& id);
std::optional<Payment> find_by_order(core::db::Transaction& tx, const std::string& order_id);
/// Throws core::db::UniqueViolation when the order already has a payment.
void insert(core::db::Transaction& tx, const Payment& payment, const std::string& payment_method);
/// The provider token the payment was authorized with (kept to authorize again for a redelivery).
std::string payment_method_of(core::db::Transaction& tx, const std::string& payment_id);
/// Writes status and amounts if the stored version is `payment.version`; bumps it. False if not.
bool update(core::db::Transaction& tx, const Payment& payment);
/// Appends to the ledger. Throws core::db::UniqueViolation for a refund id already used.
void add_operation(core::db::Transaction& tx, const std::string& payment_id, const Operation& operation,
                   const std::optional<std::string>& refund_id = std::nullopt);
bool refund_recorded(core::db::Transaction& tx, const std::string& refund_id);
/// Payments of `order_id`, limited to `customer_id` when given.
std::vector<Payment> list_by_order(core::db::Transaction& tx, const std::string& order_id,
                                   const std::optional<std::string>& customer_id);

}  // namespace deliveryhub::payments::repository
