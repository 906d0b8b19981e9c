#include "identity/token_issuer.hpp"

#include "core/util/ids.hpp"

#include <jwt.h>
#include <nlohmann/json.hpp>
#include <openssl/sha.h>
#include <sodium.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace deliveryhub::customers {

TokenIssuer::TokenIssuer(const core::auth::SigningKey& key, std::string issuer, std::string audience,
                         std::chrono::seconds ttl, const core::Clock& clock)
    : key_(key), issuer_(std::move(issuer)), audience_(std::move(audience)), ttl_(ttl), clock_(clock) {}

std::string TokenIssuer::issue(const std::string& subject, const std::vector<std::string>& roles,
                               const std::string& client_id) const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  nlohmann::json claims = {{"iss", issuer_}, {"aud", audience_}, {"sub", subject}, {"iat", now}, {"nbf", now},
                           {"exp", now + ttl_.count()}, {"jti", core::new_id("jti")}, {"roles", roles}};
  if (!client_id.empty()) claims["client_id"] = client_id;

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  std::unique_ptr<jwt_t, decltype(&jwt_free)> token(raw, jwt_free);
  const auto& pem = key_.private_pem();
  if (jwt_add_grants_json(token.get(), claims.dump().c_str()) != 0 ||
      jwt_add_header(token.get(), "typ", "at+jwt") != 0 ||
      jwt_add_header(token.get(), "kid", key_.kid().c_str()) != 0 ||
      jwt_set_alg(token.get(), JWT_ALG_ES256, reinterpret_cast<const unsigned char*>(pem.data()),
                  static_cast<int>(pem.size())) != 0) {
    throw std::runtime_error("cannot build the access token");
  }
  char* encoded = jwt_encode_str(token.get());
  if (!encoded) throw std::runtime_error("cannot sign the access token");
  std::string result(encoded);
  std::free(encoded);
  return result;
}

std::string hash_refresh_token(std::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return core::auth::base64url_encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

RefreshSecret new_refresh_secret() {
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  RefreshSecret secret;
  secret.token = core::auth::base64url_encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
  secret.hash = hash_refresh_token(secret.token);
  return secret;
}

}  // namespace deliveryhub::customers
