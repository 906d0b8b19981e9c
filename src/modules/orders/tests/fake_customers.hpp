#pragma once
// customers' api.hpp, faked for orders' tests: one customer with one address in Madrid.
#include "core/errors.hpp"
#include "core/util/ids.hpp"
#include "customers/api.hpp"

namespace deliveryhub::orders::fakes {

class FakeCustomers final : public customers::CustomersApi {
 public:
  customers::Customer customer;
  FakeCustomers() {
    customer.id = core::new_id("cus");
    customer.addresses.push_back({core::new_id("adr"), "Home", "Calle 1", "Madrid", "28013", "ES"});
  }
  std::optional<customers::Customer> find_customer(std::string_view id) override {
    if (id == customer.id) return customer;
    return std::nullopt;
  }
  customers::Account create_staff_account(const customers::NewStaffAccount&) override {
    throw core::Error(core::ErrorKind::internal, "not used");
  }
  void remove_courier_account(std::string_view) override { throw core::Error(core::ErrorKind::internal, "not used"); }
  std::vector<customers::Suspension> suspensions_since(core::TimePoint) override { return {}; }
};

}  // namespace deliveryhub::orders::fakes
