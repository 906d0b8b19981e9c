#pragma once
#include "core/remote/http_channel.hpp"
#include "orders/api.hpp"

namespace deliveryhub::orders {

/// OrdersApi in another process, through its internal routes. Both calls only read: retried.
class RemoteOrders final : public OrdersApi {
 public:
  explicit RemoteOrders(core::remote::HttpChannel& channel) : channel_(channel) {}
  std::optional<Order> find_order(std::string_view order_id) override;

 private:
  core::remote::HttpChannel& channel_;
};

}  // namespace deliveryhub::orders
