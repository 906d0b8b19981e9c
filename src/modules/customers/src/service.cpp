#include "service.hpp"

#include "core/http/json_body.hpp"
#include "core/log/log.hpp"
#include "core/util/ids.hpp"
#include "core/util/text.hpp"
#include "customers/events.hpp"
#include "repository.hpp"

#include <algorithm>

namespace deliveryhub::customers {

using core::Error;
using core::ErrorKind;
using core::FieldError;

std::string_view to_string(CustomerStatus status) {
  return status == CustomerStatus::active ? "active" : "suspended";
}

std::string_view to_string(AccountRole role) {
  switch (role) {
    case AccountRole::customer:
      return "customer";
    case AccountRole::courier:
      return "courier";
    case AccountRole::operator_:
      return "operator";
  }
  return "customer";
}

std::vector<FieldError> validate_email(std::string& email) {
  email = core::ascii_lower(email);
  const auto at = email.find('@');
  const bool shape_ok = email.size() <= 254 && at != std::string::npos && at > 0 && at <= 64 &&
                        email.find('@', at + 1) == std::string::npos && email.find('.', at + 2) != std::string::npos &&
                        email.back() != '.' && std::none_of(email.begin(), email.end(), [](char c) {
                          return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '<' || c == '>' ||
                                 c == ',' || c == ';' || c == '"' || c == '\\';
                        });
  if (!shape_ok) return {{"email", "must be an email address"}};
  return {};
}

std::vector<FieldError> validate_password(const std::string& password) {
  const auto length = core::http::utf8_length(password);
  if (!length || *length < 10 || *length > 128) return {{"password", "must be 10 to 128 characters"}};
  return {};
}

std::vector<FieldError> validate_phone(const std::string& phone) {
  const bool ok = !phone.empty() && phone.size() <= 32 && std::all_of(phone.begin(), phone.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '+' || c == ' ' || c == '(' || c == ')' || c == '-';
  });
  if (!ok) return {{"phone", "must be up to 32 of the characters 0-9 + ( ) - and space"}};
  return {};
}

std::vector<FieldError> validate_country(std::string& country) {
  if (country.size() == 2) {
    country = core::ascii_upper(country);
    if (country[0] >= 'A' && country[0] <= 'Z' && country[1] >= 'A' && country[1] <= 'Z') return {};
  }
  return {{"country", "must be an ISO 3166-1 alpha-2 code"}};
}

CustomersService::CustomersService(core::db::Database& db, const core::events::Outbox& outbox, const core::Clock& clock,
                                   const PasswordHasher& hasher)
    : db_(db), outbox_(outbox), clock_(clock), hasher_(hasher) {}

Account CustomersService::create_account(const std::string& email_in, const std::string& password,
                                         const std::string& name, AccountRole role,
                                         const std::optional<std::string>& phone) {
  std::string email = email_in;
  std::vector<FieldError> errors = validate_email(email);
  for (auto& e : validate_password(password)) errors.push_back(std::move(e));
  const auto name_length = core::http::utf8_length(name);
  if (!name_length || *name_length < 1 || *name_length > 200) errors.push_back({"name", "must be 1 to 200 characters"});
  if (phone) {
    for (auto& e : validate_phone(*phone)) errors.push_back(std::move(e));
  }
  if (!errors.empty()) throw Error(ErrorKind::validation, "Some fields are invalid", errors);

  Account account{core::new_id(role == AccountRole::customer ? "cus" : "acc"), email, name, role};
  const std::string hash = hasher_.hash(password);  // slow: outside the transaction
  try {
    db_.write([&](core::db::Transaction& tx) {
      repository::insert_account(tx, account, hash, phone, clock_.now());
      if (role == AccountRole::customer) {
        outbox_.add(tx, std::string(events::kCustomerRegistered), account.id,
                    events::to_json(events::CustomerRegistered{account.id, account.email, account.name}));
      }
    });
  } catch (const core::db::UniqueViolation&) {
    throw Error(ErrorKind::conflict, "An account with this email already exists");
  }
  return account;
}

Customer CustomersService::register_customer(const NewCustomer& input) {
  const auto account = create_account(input.email, input.password, input.name, AccountRole::customer, input.phone);
  core::log::info("customer registered", {{"customer_id", account.id}});
  return *find_customer(account.id);
}

std::optional<Customer> CustomersService::find_customer(std::string_view customer_id) {
  if (!core::is_id(customer_id, "cus")) return std::nullopt;
  return db_.read([&](core::db::Transaction& tx) { return repository::find_customer(tx, std::string(customer_id)); });
}

Customer CustomersService::update_profile(const std::string& id, const ProfilePatch& patch,
                                          std::optional<std::int64_t> expected_version) {
  return db_.write([&](core::db::Transaction& tx) {
    auto current = repository::find_customer(tx, id);
    if (!current) throw Error(ErrorKind::not_found, "No such customer");
    if (expected_version && *expected_version != current->version) {
      throw Error(ErrorKind::precondition_failed, "The customer changed since version " +
                                                      std::to_string(*expected_version) + "; it is now at version " +
                                                      std::to_string(current->version));
    }
    const std::string name = patch.name.value_or(current->name);
    const std::optional<std::string> phone = patch.phone ? *patch.phone : current->phone;
    repository::update_profile(tx, id, name, phone, current->version, clock_.now());
    return *repository::find_customer(tx, id);
  });
}

CustomerPage CustomersService::list_customers(const std::optional<std::string>& email, std::size_t limit,
                                              const std::optional<std::string>& after_id) {
  std::optional<std::string> normalized;
  if (email) normalized = core::ascii_lower(*email);
  return db_.read([&](core::db::Transaction& tx) {
    CustomerPage page;
    // One more than asked tells whether another page exists.
    auto ids = repository::list_customer_ids(tx, normalized, after_id, limit + 1);
    const bool more = ids.size() > limit;
    if (more) ids.pop_back();
    for (const auto& id : ids) page.customers.push_back(*repository::find_customer(tx, id));
    if (more) page.next_after = ids.back();
    return page;
  });
}

Address CustomersService::add_address(const std::string& customer_id, const NewAddress& input) {
  Address address{core::new_id("adr"), input.label, input.line1, input.city, input.postal_code, input.country};
  db_.write([&](core::db::Transaction& tx) {
    auto customer = repository::find_customer(tx, customer_id);
    if (!customer) throw Error(ErrorKind::not_found, "No such customer");
    if (customer->addresses.size() >= kMaxAddresses) {
      throw Error(ErrorKind::conflict, "A customer can keep at most " + std::to_string(kMaxAddresses) + " addresses");
    }
    repository::insert_address(tx, customer_id, address, clock_.now());
    repository::touch(tx, customer_id, clock_.now());
  });
  return address;
}

void CustomersService::remove_address(const std::string& customer_id, const std::string& address_id) {
  db_.write([&](core::db::Transaction& tx) {
    if (!repository::find_customer(tx, customer_id)) throw Error(ErrorKind::not_found, "No such customer");
    if (!repository::delete_address(tx, customer_id, address_id)) throw Error(ErrorKind::not_found, "No such address");
    repository::touch(tx, customer_id, clock_.now());
  });
}

Customer CustomersService::set_status(const std::string& customer_id, CustomerStatus status) {
  const auto now = clock_.now();
  auto changed = db_.write([&](core::db::Transaction& tx) {
    auto customer = repository::find_customer(tx, customer_id);
    if (!customer) throw Error(ErrorKind::not_found, "No such customer");
    if (customer->status == status) {
      throw Error(ErrorKind::conflict, "The customer is already " + std::string(to_string(status)))
          .with_extension("current_status", std::string(to_string(status)));
    }
    repository::update_status(tx, customer_id, status, customer->version, now);
    if (status == CustomerStatus::suspended) repository::revoke_refresh_tokens(tx, customer_id, now);
    const auto type = status == CustomerStatus::suspended ? events::kCustomerSuspended : events::kCustomerReactivated;
    outbox_.add(tx, std::string(type), customer_id, events::to_json(events::CustomerStatusChanged{customer_id}));
    return *repository::find_customer(tx, customer_id);
  });
  if (status == CustomerStatus::suspended && on_suspended_) on_suspended_(customer_id, now);
  return changed;
}

std::vector<Suspension> CustomersService::suspensions_since(core::TimePoint since) {
  return db_.read([&](core::db::Transaction& tx) { return repository::suspended_since(tx, since); });
}

void CustomersService::remove_courier_account(std::string_view account_id) {
  db_.write([&](core::db::Transaction& tx) { repository::delete_courier_account(tx, std::string(account_id)); });
}

Account CustomersService::create_staff_account(const NewStaffAccount& input) {
  if (input.role == AccountRole::customer) {
    throw Error(ErrorKind::validation, "Customers register themselves", {{"role", "must be courier or operator"}});
  }
  return create_account(input.email, input.password, input.name, input.role, std::nullopt);
}

std::optional<Account> CustomersService::authenticate(const std::string& email_in, std::string_view password) {
  std::string email = email_in;
  validate_email(email);  // only to normalise; a malformed email simply matches nothing
  auto record = db_.read([&](core::db::Transaction& tx) { return repository::find_account_by_email(tx, email); });
  if (!record) {
    hasher_.verify_dummy(password);
    return std::nullopt;
  }
  if (!hasher_.verify(password, record->password_hash)) return std::nullopt;
  if (record->status == CustomerStatus::suspended) throw Error(ErrorKind::forbidden, "The account is suspended");
  return record->account;
}

std::optional<Account> CustomersService::find_account(const std::string& id) {
  auto record = db_.read([&](core::db::Transaction& tx) { return repository::find_account(tx, id); });
  if (!record) return std::nullopt;
  return record->account;
}

bool CustomersService::ensure_operator(const std::string& email_in, const std::string& password) {
  std::string email = email_in;
  validate_email(email);
  auto existing = db_.read([&](core::db::Transaction& tx) { return repository::find_account_by_email(tx, email); });
  if (existing) {
    if (existing->account.role != AccountRole::operator_) {
      core::log::warn("bootstrap operator not created: the email belongs to another kind of account",
                      {{"role", to_string(existing->account.role)}});
    }
    return false;
  }
  create_account(email, password, "Bootstrap operator", AccountRole::operator_, std::nullopt);
  return true;
}

}  // namespace deliveryhub::customers
