#pragma once
// The customers module's own settings (its descriptor declares them; ADR 0024).
#include "core/config/module_setting.hpp"

#include <string_view>
#include <vector>

namespace deliveryhub::customers::settings {

inline constexpr std::string_view kClients = "client";
inline constexpr std::string_view kRegistrationsPerAddress = "registrations-per-address";
inline constexpr std::string_view kAccessTokenTtl = "access-token-ttl";
inline constexpr std::string_view kRefreshTokenTtl = "refresh-token-ttl";
inline constexpr std::string_view kRefreshFamilyLifetime = "refresh-family-lifetime";
inline constexpr std::string_view kConsoleRedirectUris = "console-redirect-uri";

std::vector<core::config::ModuleSetting> declared();

}  // namespace deliveryhub::customers::settings
