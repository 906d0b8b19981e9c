#pragma once
// The incidents module's own settings (its descriptor declares them; ADR 0024).
#include <string_view>

namespace deliveryhub::incidents::settings {

inline constexpr std::string_view kLateCheckInterval = "late-check-interval";

}  // namespace deliveryhub::incidents::settings
