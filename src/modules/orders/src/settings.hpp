#pragma once
// The orders module's own settings (its descriptor declares them; ADR 0024).
#include <string_view>

namespace deliveryhub::orders::settings {

/// Unfinished sagas beyond which placement answers 503 + Retry-After (ADR 0030); 0: no limit.
inline constexpr std::string_view kMaxSagaBacklog = "max-saga-backlog";

}  // namespace deliveryhub::orders::settings
