#pragma once
// Events the orders module publishes (docs/product.md, "Event flows"). Payload structs arrive with the order saga.
#include <string_view>

namespace deliveryhub::orders::events {

inline constexpr std::string_view kOrderPlaced = "order.placed";
inline constexpr std::string_view kOrderConfirmed = "order.confirmed";
inline constexpr std::string_view kOrderRejected = "order.rejected";
inline constexpr std::string_view kOrderCancelled = "order.cancelled";
inline constexpr std::string_view kOrderDispatched = "order.dispatched";
inline constexpr std::string_view kOrderDelivered = "order.delivered";
inline constexpr std::string_view kOrderDeliveryFailed = "order.delivery_failed";

}  // namespace deliveryhub::orders::events
