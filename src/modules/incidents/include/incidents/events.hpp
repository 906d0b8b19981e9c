#pragma once
// Events the incidents module publishes; aggregate: the order id. Payload members: incident_id,
// order_id, customer_id, type, status; with incident.resolved also resolution and amount (refund);
// with incident.rejected the reason.
#include <string_view>

namespace deliveryhub::incidents::events {

inline constexpr std::string_view kIncidentOpened = "incident.opened";
inline constexpr std::string_view kIncidentResolved = "incident.resolved";
inline constexpr std::string_view kIncidentRejected = "incident.rejected";

}  // namespace deliveryhub::incidents::events
