#pragma once
// The delivery module's own settings (its descriptor declares them; ADR 0024).
#include <string_view>

namespace deliveryhub::delivery::settings {

inline constexpr std::string_view kDeliveryPromise = "delivery-promise";

}  // namespace deliveryhub::delivery::settings
