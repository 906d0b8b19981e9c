#include "remote_client.hpp"

#include "core/errors.hpp"
#include "wire.hpp"

namespace deliveryhub::customers {

std::optional<Customer> RemoteCustomers::find_customer(std::string_view customer_id) {
  const auto answer = channel_.call({"GET", "/internal/v1/customers/" + std::string(customer_id), std::nullopt, true});
  if (!answer.is_object() || !answer.contains("customer")) {
    throw core::Error(core::ErrorKind::internal, "customers answered without a customer field");
  }
  if (answer["customer"].is_null()) return std::nullopt;
  return customer_from_json(answer["customer"]);
}

Account RemoteCustomers::create_staff_account(const NewStaffAccount& account) {
  if (account.role == AccountRole::customer) {  // as the local service answers, without a call
    throw core::Error(core::ErrorKind::validation, "Customers register themselves",
                      {{"role", "must be courier or operator"}});
  }
  const nlohmann::json body{{"email", account.email},
                            {"password", account.password},
                            {"name", account.name},
                            {"role", to_string(account.role)}};
  return account_from_json(channel_.call({"POST", "/internal/v1/customers/staff-accounts", body, false}));
}

void RemoteCustomers::remove_courier_account(std::string_view account_id) {
  channel_.call({"DELETE", "/internal/v1/customers/courier-accounts/" + std::string(account_id), std::nullopt, true});
}

std::vector<Suspension> RemoteCustomers::suspensions_since(core::TimePoint since) {
  const auto answer =
      channel_.call({"GET", "/internal/v1/customers/suspensions?since=" + std::to_string(core::to_unix_ms(since)),
                     std::nullopt, true});
  if (!answer.is_object() || !answer.contains("suspensions") || !answer["suspensions"].is_array()) {
    throw core::Error(core::ErrorKind::internal, "customers answered without a suspensions list");
  }
  std::vector<Suspension> out;
  for (const auto& item : answer["suspensions"]) {
    if (!item.is_object() || !item.contains("account_id") || !item["account_id"].is_string() ||
        !item.contains("at_ms") || !item["at_ms"].is_number_integer()) {
      throw core::Error(core::ErrorKind::internal, "customers answered with a malformed suspension");
    }
    out.push_back({item["account_id"].get<std::string>(), core::from_unix_ms(item["at_ms"].get<std::int64_t>())});
  }
  return out;
}

}  // namespace deliveryhub::customers
