#pragma once
#include "core/remote/http_channel.hpp"
#include "payments/api.hpp"

namespace deliveryhub::payments {

/// PaymentsApi in another process, through its internal routes. Every call is idempotent by the
/// API's contract (by order id; a refund by refund id), so every call may be retried.
class RemotePayments final : public PaymentsApi {
 public:
  explicit RemotePayments(core::remote::HttpChannel& channel) : channel_(channel) {}

  Payment authorize(const AuthorizationRequest& request) override;
  Payment void_authorization(std::string_view order_id) override;
  Payment refund(std::string_view order_id, std::int64_t amount, std::string_view reason,
                 std::string_view refund_id) override;
  std::optional<Payment> find_by_order(std::string_view order_id) override;
  void require_available() override { channel_.fail_fast_if_open(); }

 private:
  Payment post(const char* target, const nlohmann::json& body);
  core::remote::HttpChannel& channel_;
};

}  // namespace deliveryhub::payments
