#pragma once
#include "core/db/database.hpp"
#include "core/errors.hpp"
#include "core/events/outbox.hpp"
#include "customers/api.hpp"
#include "identity/passwords.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace deliveryhub::customers {

struct NewCustomer {
  std::string email;
  std::string password;
  std::string name;
  std::optional<std::string> phone;
};

/// A PATCH: absent members stay as they are; `phone` present-and-null clears it.
struct ProfilePatch {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> phone;
};

struct NewAddress {
  std::string label;
  std::string line1;
  std::string city;
  std::string postal_code;
  std::string country;
};

struct CustomerPage {
  std::vector<Customer> customers;
  std::optional<std::string> next_after;  // the last id of a full page
};

inline constexpr std::size_t kMaxAddresses = 20;

/// The domain rules of customers and accounts. Authorization (who may call what) is the routes'
/// business; everything here trusts its caller. Thread-safe.
class CustomersService final : public CustomersApi {
 public:
  CustomersService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                   const PasswordHasher& hasher);

  Customer register_customer(const NewCustomer& input);
  std::optional<Customer> find_customer(std::string_view customer_id) override;
  /// Throws Error: not_found; precondition_failed when `expected_version` is given and stale.
  Customer update_profile(const std::string& id, const ProfilePatch& patch,
                          std::optional<std::int64_t> expected_version);
  CustomerPage list_customers(const std::optional<std::string>& email, std::size_t limit,
                              const std::optional<std::string>& after_id);
  /// Throws Error: not_found; conflict past kMaxAddresses.
  Address add_address(const std::string& customer_id, const NewAddress& input);
  /// Throws Error(not_found) for an unknown customer or address.
  void remove_address(const std::string& customer_id, const std::string& address_id);
  /// Throws Error: not_found; conflict when already in that status. Suspending revokes the
  /// account's refresh tokens in the same transaction and then calls `on_suspended`.
  Customer set_status(const std::string& customer_id, CustomerStatus status);
  /// Called after a suspension commits: the account's access tokens issued until `at` must stop
  /// working (suspensions made by other processes come through suspensions_since).
  void on_suspended(std::function<void(const std::string& account_id, core::TimePoint at)> callback) {
    on_suspended_ = std::move(callback);
  }
  std::vector<Suspension> suspensions_since(core::TimePoint since) override;

  Account create_staff_account(const NewStaffAccount& input) override;
  void remove_courier_account(std::string_view account_id) override;
  /// The account whose credentials these are, or nullopt — in the same time either way. Throws
  /// Error(forbidden) for the right credentials of a suspended account.
  std::optional<Account> authenticate(const std::string& email, std::string_view password);
  std::optional<Account> find_account(const std::string& id);
  /// Creates the operator when no account has that email (bootstrap). Returns true if created.
  bool ensure_operator(const std::string& email, const std::string& password);

 private:
  Account create_account(const std::string& email, const std::string& password, const std::string& name,
                         AccountRole role, const std::optional<std::string>& phone);

  core::db::Database& db_;
  const core::events::Outbox& outbox_;
  std::function<void(const std::string&, core::TimePoint)> on_suspended_;
  const core::Clock& clock_;
  const PasswordHasher& hasher_;
};

/// Validation shared by HTTP and in-process callers. Each returns the violations it found.
/// `email` is normalised (lower-cased) in place.
std::vector<core::FieldError> validate_email(std::string& email);
std::vector<core::FieldError> validate_password(const std::string& password);
std::vector<core::FieldError> validate_phone(const std::string& phone);
std::vector<core::FieldError> validate_country(std::string& country);

}  // namespace deliveryhub::customers
