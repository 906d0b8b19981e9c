#pragma once
#include "core/auth/keys.hpp"
#include "core/http/router.hpp"
#include "identity/login_throttle.hpp"
#include "identity/machine_clients.hpp"
#include "identity/public_clients.hpp"
#include "identity/token_issuer.hpp"
#include "service.hpp"

namespace deliveryhub::customers {

struct OAuthServices {
  CustomersService& customers;
  const TokenIssuer& issuer;
  const MachineClients& clients;
  const PublicClients& public_clients;
  LoginThrottle& throttle;
  core::db::Database& db;
  const core::Clock& clock;
  nlohmann::json jwks;  // the JWKS document served as is
  std::string issuer_name;
  std::chrono::seconds refresh_ttl;
  /// A login's refresh tokens, however often rotated, end this long after the login.
  std::chrono::seconds refresh_family_lifetime;
};

/// POST /oauth/token (RFC 6749: password, client_credentials, authorization_code with PKCE for
/// public clients, refresh_token with rotation), POST /oauth/revoke (RFC 7009: refresh tokens),
/// GET /.well-known/jwks.json and GET /.well-known/openid-configuration.
void add_oauth_routes(core::http::Router& router, OAuthServices& services);

}  // namespace deliveryhub::customers
