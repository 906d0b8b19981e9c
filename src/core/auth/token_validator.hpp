#pragma once
#include "core/auth/keys.hpp"
#include "core/auth/principal.hpp"
#include "core/auth/token_cache.hpp"
#include "core/http/message.hpp"
#include "core/sync/counted_mutex.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace deliveryhub::core::auth {

struct ValidatorOptions {
  std::string issuer;
  std::string audience;
  std::chrono::seconds leeway{30};
  std::size_t cache_capacity = 10'000;
};

/// Validates ES256 access tokens: the key is chosen by the header's kid from the configured key
/// set (never from the token itself); alg must be ES256 (so never "none" and never HS*); typ
/// must be at+jwt; exp is required; exp/nbf are checked with the leeway; iss and aud must match.
/// Tokens already verified are cached until they expire, so a repeated token costs a hash
/// lookup in one shard of a sharded cache rather than an ECDSA verification. Thread-safe.
class TokenValidator {
 public:
  TokenValidator(ValidatorOptions options, KeySet keys);

  /// The principal of a valid token; throws core::Error(unauthorized) with
  /// `WWW-Authenticate: Bearer error="invalid_token"` otherwise.
  Principal validate(std::string_view token) const;

  /// Reads `Authorization: Bearer …`. No header → Error(unauthorized) with a bare
  /// `WWW-Authenticate: Bearer`; a bad token → as validate().
  Principal authenticate(const http::Request& request) const;

  /// Replaces the key set (rotation, or an external issuer's refreshed JWKS).
  void set_keys(KeySet keys);

  /// From now on, tokens of `subject` issued at or before `issued_until` (Unix seconds) are
  /// refused as revoked (a suspended account). A hash lookup per request, in memory: this
  /// process's own view, fed by whoever suspends (ADR 0021). Const like the cache: it is
  /// the validator's own state, not its configuration.
  void revoke_subject(const std::string& subject, std::int64_t issued_until) const;

 private:
  Principal verify(std::string_view token) const;

  ValidatorOptions options_;
  mutable sync::CountedSharedMutex keys_mutex_{"auth.keys"};
  KeySet keys_;
  // Filled by verify() with the cache's generation read under keys_mutex_; set_keys clears it
  // under keys_mutex_, so nothing verified with a replaced key set is remembered.
  mutable TokenCache cache_;
  mutable std::atomic<bool> any_revoked_{false};  // set once revoked_ gains its first entry
  mutable sync::CountedSharedMutex revoked_mutex_{"auth.revoked"};
  mutable std::unordered_map<std::string, std::int64_t> revoked_;  // subject → issued_until
};

/// Throws core::Error(forbidden) unless `principal` has one of `roles`.
void require_any_role(const Principal& principal, std::initializer_list<std::string_view> roles);

/// For routes between modules (/internal/…): the caller must present a valid token with role
/// service that acts for one of `callers` (scope `module:<name>`, ADR 0022): each route admits
/// the modules that call it, so one module's secret opens no other module's routes. Throws
/// core::Error unauthorized or forbidden otherwise.
void require_service(const TokenValidator& tokens, const http::Request& request,
                     std::initializer_list<std::string_view> callers);

}  // namespace deliveryhub::core::auth
