#pragma once
#include "core/remote/http_channel.hpp"
#include "delivery/api.hpp"

namespace deliveryhub::delivery {

/// DeliveryApi in another process, through its internal routes. Every call is idempotent by the
/// API's contract (by order id; a redelivery by request id), so every call may be retried.
class RemoteDelivery final : public DeliveryApi {
 public:
  explicit RemoteDelivery(core::remote::HttpChannel& channel) : channel_(channel) {}

  ScheduleOutcome schedule(const ScheduleRequest& request) override;
  std::optional<Delivery> cancel(std::string_view order_id, StopRule rule) override;
  Delivery redeliver(std::string_view order_id, std::string_view request_id) override;
  std::optional<Delivery> find_by_order(std::string_view order_id) override;

 private:
  core::remote::HttpChannel& channel_;
};

}  // namespace deliveryhub::delivery
