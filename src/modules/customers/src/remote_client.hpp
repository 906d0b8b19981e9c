#pragma once
#include "core/remote/http_channel.hpp"
#include "customers/api.hpp"

namespace deliveryhub::customers {

/// CustomersApi in another process, through its internal routes. Creating an account is not
/// idempotent and is never retried; reading a customer is.
class RemoteCustomers final : public CustomersApi {
 public:
  explicit RemoteCustomers(core::remote::HttpChannel& channel) : channel_(channel) {}

  std::optional<Customer> find_customer(std::string_view customer_id) override;
  Account create_staff_account(const NewStaffAccount& account) override;
  void remove_courier_account(std::string_view account_id) override;
  std::vector<Suspension> suspensions_since(core::TimePoint since) override;

 private:
  core::remote::HttpChannel& channel_;
};

}  // namespace deliveryhub::customers
