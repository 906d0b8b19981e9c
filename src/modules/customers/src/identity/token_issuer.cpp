#include "identity/token_issuer.hpp"

#include "core/auth/jws.hpp"
#include "core/util/base64url.hpp"
#include "core/util/ids.hpp"

#include <openssl/sha.h>
#include <sodium.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace deliveryhub::customers {

TokenIssuer::TokenIssuer(const core::auth::SigningKey& key, std::string issuer, std::string audience,
                         std::chrono::seconds ttl, const core::Clock& clock)
    : key_(key), issuer_(std::move(issuer)), audience_(std::move(audience)), ttl_(ttl), clock_(clock) {}

std::string TokenIssuer::issue(const std::string& subject, const std::vector<std::string>& roles,
                               const std::string& client_id, const std::string& scope) const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  nlohmann::json claims = {{"iss", issuer_},
                           {"aud", audience_},
                           {"sub", subject},
                           {"iat", now},
                           {"nbf", now},
                           {"exp", now + ttl_.count()},
                           {"jti", core::new_id("jti")},
                           {"roles", roles}};
  if (!client_id.empty()) claims["client_id"] = client_id;
  if (!scope.empty()) claims["scope"] = scope;

  const nlohmann::json header = {{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", key_.kid()}};
  return core::auth::sign_es256(header.dump(), claims.dump(), key_.private_pem());
}

std::string sha256_base64url(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return core::base64url_encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

std::string hash_refresh_token(std::string_view token) {
  return sha256_base64url(token);
}

RefreshSecret new_refresh_secret() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  RefreshSecret secret;
  secret.token = core::base64url_encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
  secret.hash = hash_refresh_token(secret.token);
  return secret;
}

}  // namespace deliveryhub::customers
