#pragma once
// The customers module's public interface: what other modules may know about customers and
// accounts. Implemented in-process by the module, and (later) by an HTTP client.
#include "core/util/clock.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::customers {

enum class CustomerStatus { active, suspended };

struct Address {
  std::string id;  // adr_…
  std::string label;
  std::string line1;
  std::string city;
  std::string postal_code;
  std::string country;  // ISO 3166-1 alpha-2, upper case
};

struct Customer {
  std::string id;  // cus_…
  std::string email;
  std::string name;
  std::optional<std::string> phone;
  CustomerStatus status = CustomerStatus::active;
  std::vector<Address> addresses;
  core::TimePoint created_at;
  core::TimePoint updated_at;
  std::int64_t version = 1;

  const Address* find_address(std::string_view address_id) const {
    for (const auto& address : addresses) {
      if (address.id == address_id) return &address;
    }
    return nullptr;
  }
};

/// Roles of the principals that log in. Customers register themselves; couriers are created by
/// the delivery module; operators by bootstrap or by other operators.
enum class AccountRole { customer, courier, operator_ };

struct NewStaffAccount {
  std::string email;
  std::string password;
  std::string name;
  AccountRole role = AccountRole::courier;  // courier or operator_
};

struct Account {
  std::string id;  // acc_… (cus_… for customers)
  std::string email;
  std::string name;
  AccountRole role;
};

/// An account suspended at `at`: its access tokens issued until then must stop working.
struct Suspension {
  std::string account_id;
  core::TimePoint at;
};

/// Thread-safe. Errors are core::Error.
class CustomersApi {
 public:
  virtual ~CustomersApi() = default;

  /// The customer with that id, or nullopt (also for ids of non-customer accounts).
  virtual std::optional<Customer> find_customer(std::string_view customer_id) = 0;

  /// Creates the login of a courier or an operator. Throws core::Error: validation for a bad
  /// email/password/name or a customer role, conflict when the email is taken.
  virtual Account create_staff_account(const NewStaffAccount& account) = 0;

  /// Undoes create_staff_account for a courier whose creation failed after its login was made
  /// (the compensation of a creation that spans two modules). Removes the courier account and
  /// its refresh tokens; nothing when there is none. Never removes another role's account.
  virtual void remove_courier_account(std::string_view account_id) = 0;

  /// Accounts now suspended whose last change came after `since` (ADR 0021): what a process that
  /// checks tokens asks every few seconds, so that a suspension made elsewhere ends access there.
  virtual std::vector<Suspension> suspensions_since(core::TimePoint since) = 0;
};

std::string_view to_string(CustomerStatus status);
std::string_view to_string(AccountRole role);

}  // namespace deliveryhub::customers
