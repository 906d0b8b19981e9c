#pragma once
// Events the delivery module publishes; aggregate: the order id. Payload members: delivery_id,
// order_id, customer_id, status (the delivery's, after the event), promised_by (RFC 3339),
// courier_id (when assigned), reason (the courier's note, for failures), redelivery (true on the
// delivery.scheduled of a redelivery).
#include <string_view>

namespace deliveryhub::delivery::events {

inline constexpr std::string_view kDeliveryScheduled = "delivery.scheduled";
inline constexpr std::string_view kDeliveryAssigned = "delivery.assigned";
inline constexpr std::string_view kDeliveryPickedUp = "delivery.picked_up";
inline constexpr std::string_view kDeliveryCompleted = "delivery.completed";
inline constexpr std::string_view kDeliveryFailed = "delivery.failed";
inline constexpr std::string_view kDeliveryCancelled = "delivery.cancelled";

}  // namespace deliveryhub::delivery::events
