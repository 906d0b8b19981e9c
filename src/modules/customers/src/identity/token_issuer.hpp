#pragma once
#include "core/auth/keys.hpp"
#include "core/util/clock.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace deliveryhub::customers {

/// Mints ES256 access tokens (RFC 9068 profile: typ at+jwt). Thread-safe.
class TokenIssuer {
 public:
  TokenIssuer(const core::auth::SigningKey& key, std::string issuer, std::string audience, std::chrono::seconds ttl,
              const core::Clock& clock);

  /// A signed access token for `subject` with `roles`; `client_id` and `scope` (space-separated)
  /// are added when not empty.
  std::string issue(const std::string& subject, const std::vector<std::string>& roles,
                    const std::string& client_id = "", const std::string& scope = "") const;
  std::chrono::seconds ttl() const { return ttl_; }

 private:
  const core::auth::SigningKey& key_;
  std::string issuer_;
  std::string audience_;
  std::chrono::seconds ttl_;
  const core::Clock& clock_;
};

/// A fresh opaque refresh token (256 random bits, base64url) and the hash it is stored under.
struct RefreshSecret {
  std::string token;
  std::string hash;
};
RefreshSecret new_refresh_secret();
std::string hash_refresh_token(std::string_view token);

/// base64url (no padding) of the SHA-256 of `text`: how refresh tokens and authorization codes
/// are stored, and PKCE's S256 transform (RFC 7636 §4.2).
std::string sha256_base64url(std::string_view text);

}  // namespace deliveryhub::customers
