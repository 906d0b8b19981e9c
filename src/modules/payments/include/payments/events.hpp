#pragma once
// Events the payments module publishes; aggregate: the order id. Payload members:
// payment_id, order_id, amount, currency (plus reason for declines and refunds).
#include <string_view>

namespace deliveryhub::payments::events {

inline constexpr std::string_view kPaymentAuthorized = "payment.authorized";
inline constexpr std::string_view kPaymentDeclined = "payment.declined";
inline constexpr std::string_view kPaymentCaptured = "payment.captured";
inline constexpr std::string_view kPaymentVoided = "payment.voided";
inline constexpr std::string_view kPaymentRefunded = "payment.refunded";

}  // namespace deliveryhub::payments::events
