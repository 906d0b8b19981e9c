#pragma once
#include <string>
#include <string_view>

namespace deliveryhub::core {

/// Returns `prefix` + "_" + a 26-character ULID (Crockford base32): 48 bits of Unix milliseconds
/// then 80 random bits from libsodium. IDs made by one process are strictly increasing, also
/// within one millisecond. Thread-safe.
std::string new_id(std::string_view prefix);

/// True when `id` is `prefix` + "_" + 26 Crockford base32 characters.
bool is_id(std::string_view id, std::string_view prefix);

}  // namespace deliveryhub::core
