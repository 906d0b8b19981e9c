#pragma once
#include "core/db/database.hpp"
#include "customers/api.hpp"

#include <optional>
#include <string>
#include <vector>

namespace deliveryhub::customers {

/// An account row, with the secret that never leaves the module.
struct AccountRecord {
  Account account;
  std::string password_hash;
  CustomerStatus status;
};

/// The module's SQL. Every function runs in the caller's transaction.
namespace repository {

std::optional<Customer> find_customer(core::db::Transaction& tx, const std::string& id);
std::optional<AccountRecord> find_account_by_email(core::db::Transaction& tx, const std::string& email);
std::optional<AccountRecord> find_account(core::db::Transaction& tx, const std::string& id);
/// Throws core::db::UniqueViolation when the email is taken.
void insert_account(core::db::Transaction& tx, const Account& account, const std::string& password_hash,
                    const std::optional<std::string>& phone, core::TimePoint now);
/// Sets name and phone if the version matches; returns false when it does not (or no such customer).
bool update_profile(core::db::Transaction& tx, const std::string& id, const std::string& name,
                    const std::optional<std::string>& phone, std::int64_t expected_version, core::TimePoint now);
/// Deletes a courier account and its refresh tokens; nothing for any other account.
void delete_courier_account(core::db::Transaction& tx, const std::string& account_id);
/// Revokes every live refresh token of the account.
void revoke_refresh_tokens(core::db::Transaction& tx, const std::string& account_id, core::TimePoint now);
/// The accounts suspended after `since`, with when.
std::vector<Suspension> suspended_since(core::db::Transaction& tx, core::TimePoint since);
bool update_status(core::db::Transaction& tx, const std::string& id, CustomerStatus status,
                   std::int64_t expected_version, core::TimePoint now);
/// Bumps the customer's version (its addresses changed).
void touch(core::db::Transaction& tx, const std::string& id, core::TimePoint now);
/// Customer ids, newest first, after `before_id` when given.
std::vector<std::string> list_customer_ids(core::db::Transaction& tx, const std::optional<std::string>& email,
                                           const std::optional<std::string>& before_id, std::size_t limit);
void insert_address(core::db::Transaction& tx, const std::string& customer_id, const Address& address,
                    core::TimePoint now);
bool delete_address(core::db::Transaction& tx, const std::string& customer_id, const std::string& address_id);

}  // namespace repository
}  // namespace deliveryhub::customers
