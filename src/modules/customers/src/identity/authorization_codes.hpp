#pragma once
#include "core/db/database.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace deliveryhub::customers {

/// An authorization code lives this long (RFC 6749 §4.1.2 recommends at most 10 minutes; a
/// browser redeems it within a second).
inline constexpr std::chrono::seconds kAuthorizationCodeLifetime{60};

/// What a code was issued for: redeeming it needs the same client, the same redirect URI and the
/// verifier of the challenge.
struct CodeGrant {
  std::string client_id;
  std::string redirect_uri;
  std::string code_challenge;  // S256
  std::string account_id;
};

/// Stores a new one-time code for `grant` (only its hash is kept) and returns the code.
std::string issue_authorization_code(core::db::Transaction& tx, const CodeGrant& grant, std::int64_t now_ms);

/// Deletes codes that expired before `before_ms`, at most `limit` of them; returns how many.
std::size_t prune_authorization_codes(core::db::Transaction& tx, std::int64_t before_ms, std::size_t limit);

}  // namespace deliveryhub::customers
