#pragma once
// delivery's api.hpp, faked for orders' tests: deliveries kept by order, the cancel rules kept.
#include "core/errors.hpp"
#include "core/util/ids.hpp"
#include "delivery/api.hpp"

#include <map>
#include <string>

namespace deliveryhub::orders::fakes {

using core::Error;
using core::ErrorKind;

class FakeDelivery final : public delivery::DeliveryApi {
 public:
  std::map<std::string, delivery::Delivery> by_order;
  int scheduled = 0;
  int fail_after = 0;
  bool serve = true;
  delivery::ScheduleOutcome schedule(const delivery::ScheduleRequest& r) override {
    if (!serve) return {false, std::nullopt};
    auto [it, created] = by_order.try_emplace(r.order_id);
    if (created) {
      ++scheduled;
      it->second.id = core::new_id("dlv");
      it->second.order_id = r.order_id;
    }
    if (fail_after > 0 && fail_after--) throw Error(ErrorKind::unavailable, "answer lost");
    return {true, it->second};
  }
  int cancels = 0;
  std::optional<delivery::Delivery> cancel(std::string_view order_id, delivery::StopRule rule) override {
    ++cancels;
    auto it = by_order.find(std::string(order_id));
    if (it == by_order.end()) return std::nullopt;
    using delivery::DeliveryStatus;
    const auto status = it->second.status;
    if (status == DeliveryStatus::delivered || status == DeliveryStatus::failed ||
        (status == DeliveryStatus::picked_up && rule == delivery::StopRule::before_pickup)) {
      throw Error(ErrorKind::conflict, "refused")
          .with_extension("current_status", status == DeliveryStatus::picked_up   ? "picked_up"
                                            : status == DeliveryStatus::delivered ? "delivered"
                                                                                  : "failed");
    }
    it->second.status = DeliveryStatus::cancelled;
    return it->second;
  }
  delivery::Delivery redeliver(std::string_view, std::string_view) override {
    throw Error(ErrorKind::internal, "not used");
  }
  std::optional<delivery::Delivery> find_by_order(std::string_view order_id) override {
    auto it = by_order.find(std::string(order_id));
    if (it == by_order.end()) return std::nullopt;
    return it->second;
  }
};

}  // namespace deliveryhub::orders::fakes
