#include "identity/oauth_routes.hpp"

#include "core/http/message.hpp"
#include "core/log/log.hpp"
#include "core/util/base64url.hpp"
#include "core/util/ids.hpp"
#include "core/util/text.hpp"
#include "identity/pkce.hpp"

#include <algorithm>
#include <map>

namespace deliveryhub::customers {
namespace {

using core::Error;
using core::ErrorKind;
using core::http::Request;
using core::http::Response;

Error oauth_error(ErrorKind kind, std::string code, const std::string& description) {
  Error error(kind, description);
  error.with_extension("error", std::move(code)).with_extension("error_description", description);
  error.with_header("Cache-Control", "no-store");
  return error;
}

Error invalid_grant() {
  return oauth_error(ErrorKind::bad_request, "invalid_grant", "The credentials or the grant are not valid");
}

Response token_response(const TokenIssuer& issuer, const std::string& access_token,
                        const std::optional<std::string>& refresh_token, const std::string& scope = "") {
  nlohmann::json body = {
      {"access_token", access_token}, {"token_type", "Bearer"}, {"expires_in", issuer.ttl().count()}};
  if (refresh_token) body["refresh_token"] = *refresh_token;
  if (!scope.empty()) body["scope"] = scope;  // RFC 6749 §5.1
  Response response = Response::json(200, body);
  response.headers.add("Cache-Control", "no-store");
  response.headers.add("Pragma", "no-cache");
  return response;
}

std::vector<std::string> roles_of(const Account& account) {
  return {std::string(to_string(account.role))};
}

std::int64_t ms(std::chrono::seconds s) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(s).count();
}

// Stores a new refresh token of `family` (begun at `family_started`, Unix ms) for `account_id`;
// returns the token. It expires after the refresh lifetime, and never after the family's end.
// `client_id`: the public client it was issued to (only that client may use or revoke it);
// empty for the password grant, whose callers are not identified.
std::string store_refresh_token(core::db::Transaction& tx, const OAuthServices& s, const std::string& family,
                                const std::string& account_id, std::int64_t family_started,
                                const std::string& client_id = "") {
  const auto secret = new_refresh_secret();
  const auto now = core::to_unix_ms(s.clock.now());
  tx.execute(
      "INSERT INTO customers_refresh_tokens (token_hash, family_id, account_id, created_at, expires_at, client_id) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {secret.hash, family, account_id, now,
       std::min(now + ms(s.refresh_ttl), family_started + ms(s.refresh_family_lifetime)),
       client_id.empty() ? core::db::Value() : core::db::Value(client_id)});
  return secret.token;
}

void revoke_family(core::db::Transaction& tx, const std::string& family, std::int64_t now) {
  tx.execute("UPDATE customers_refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
             {now, family});
}

std::optional<Account> account_row(core::db::Transaction& tx, const std::string& account_id, bool& suspended) {
  auto record =
      tx.query_one("SELECT id, email, name, role, status FROM customers_accounts WHERE id = $1", {account_id});
  if (!record) return std::nullopt;
  suspended = record->text(4) == "suspended";
  const std::string role = record->text(3);
  return Account{record->text(0), record->text(1), record->text(2),
                 role == "courier"    ? AccountRole::courier
                 : role == "operator" ? AccountRole::operator_
                                      : AccountRole::customer};
}

Response password_grant(OAuthServices& s, const Request& request, std::map<std::string, std::string>& form) {
  if (!form.contains("username") || !form.contains("password")) {
    throw oauth_error(ErrorKind::bad_request, "invalid_request", "username and password are required");
  }
  // No account has a longer email (RFC 5321: 254) or password (128 characters, 4 bytes each):
  // refused before any lookup, hashing or throttle key is spent on them.
  if (form["username"].size() > 254 || form["password"].size() > 512) throw invalid_grant();
  const std::string account_key = core::ascii_lower(form["username"]);
  if (auto wait = s.throttle.retry_after(account_key, request.remote_address)) {
    throw oauth_error(ErrorKind::too_many_requests, "slow_down", "Too many failed logins; try again later")
        .with_header("Retry-After", std::to_string(wait->count()));
  }
  std::optional<Account> account;
  try {
    account = s.customers.authenticate(form["username"], form["password"]);
  } catch (const core::Error& e) {
    if (e.kind() != ErrorKind::forbidden) throw;
    s.throttle.record_success(account_key);  // the right password: not a guess to count
    core::log::info("login refused: the account is suspended");
    throw oauth_error(ErrorKind::bad_request, "invalid_grant", "The account is suspended");
  }
  if (!account) {
    s.throttle.record_failure(account_key, request.remote_address);
    core::log::info("login failed");
    throw invalid_grant();
  }
  s.throttle.record_success(account_key);
  const auto refresh = s.db.write([&](core::db::Transaction& tx) {
    return store_refresh_token(tx, s, core::new_id("rtf"), account->id, core::to_unix_ms(s.clock.now()));
  });
  return token_response(s.issuer, s.issuer.issue(account->id, roles_of(*account)), refresh);
}

Response client_credentials_grant(OAuthServices& s, const Request& request, std::map<std::string, std::string>& form) {
  std::string id = form["client_id"];
  std::string secret = form["client_secret"];
  const auto authorization = request.header("Authorization");
  if (authorization.size() > 6 && core::http::iequals(authorization.substr(0, 6), "Basic ")) {
    std::string text(authorization.substr(6));
    // Basic uses standard base64 with padding; convert to base64url without padding.
    for (auto& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!text.empty() && text.back() == '=') text.pop_back();
    auto credentials = core::base64url_decode(text);
    auto colon = credentials ? credentials->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      throw oauth_error(ErrorKind::unauthorized, "invalid_client", "Client authentication failed")
          .with_header("WWW-Authenticate", R"(Basic realm="deliveryhub")");
    }
    // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
    auto decoded_id = core::http::parse_form("v=" + credentials->substr(0, colon));
    auto decoded_secret = core::http::parse_form("v=" + credentials->substr(colon + 1));
    id = decoded_id && decoded_id->size() == 1 ? (*decoded_id)[0].second : std::string();
    secret = decoded_secret && decoded_secret->size() == 1 ? (*decoded_secret)[0].second : std::string();
  }
  auto client = s.clients.authenticate(id, secret);
  if (!client) {
    throw oauth_error(ErrorKind::unauthorized, "invalid_client", "Client authentication failed")
        .with_header("WWW-Authenticate", R"(Basic realm="deliveryhub")");
  }
  const auto scope = client->scope();
  return token_response(s.issuer, s.issuer.issue(client->id, client->roles, client->id, scope), std::nullopt, scope);
}

Response refresh_grant(OAuthServices& s, std::map<std::string, std::string>& form) {
  if (!form.contains("refresh_token")) {
    throw oauth_error(ErrorKind::bad_request, "invalid_request", "refresh_token is required");
  }
  const auto hash = hash_refresh_token(form["refresh_token"]);
  const auto now = core::to_unix_ms(s.clock.now());
  struct Outcome {
    std::optional<Account> account;
    std::string refresh;
    bool reused = false;
  };
  auto outcome = s.db.write([&](core::db::Transaction& tx) {
    Outcome result;
    auto row = tx.query_one(
        "SELECT family_id, account_id, expires_at, used_at, revoked_at, client_id FROM customers_refresh_tokens "
        "WHERE token_hash = $1",
        {hash});
    if (!row) return result;
    const std::string family = row->text(0);
    // A public client's token is bound to it (RFC 6749 §6): another client, or none, gets nothing.
    const std::string bound_to = row->is_null(5) ? std::string() : row->text(5);
    if (!bound_to.empty() && form["client_id"] != bound_to) return result;
    if (!row->is_null(3)) {
      // A used token again: someone holds a copy. Kill the whole family (RFC 6819 §5.2.2.3).
      revoke_family(tx, family, now);
      result.reused = true;
      return result;
    }
    if (!row->is_null(4) || row->integer(2) <= now) return result;
    if (tx.execute("UPDATE customers_refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
                   {now, hash}) != 1) {
      return result;
    }
    bool suspended = false;
    result.account = account_row(tx, row->text(1), suspended);
    if (!result.account) return result;
    if (suspended) {
      // Revoked at suspension already; a family minted meanwhile goes too.
      revoke_family(tx, family, now);
      result.account.reset();
      return result;
    }
    const auto started =
        tx.query_one("SELECT MIN(created_at) FROM customers_refresh_tokens WHERE family_id = $1", {family})->integer(0);
    if (started + ms(s.refresh_family_lifetime) <= now) {
      // The login is too old, however often it was refreshed: sign in again.
      revoke_family(tx, family, now);
      result.account.reset();
      return result;
    }
    result.refresh = store_refresh_token(tx, s, family, result.account->id, started, bound_to);
    return result;
  });
  if (outcome.reused) core::log::warn("refresh token reused; its family is revoked");
  if (!outcome.account) throw invalid_grant();
  return token_response(s.issuer, s.issuer.issue(outcome.account->id, roles_of(*outcome.account)), outcome.refresh);
}

// RFC 6749 §4.1.3 with RFC 7636 §4.6: a public client redeems a code once, with the redirect URI
// it asked for and the verifier of its challenge. A second redemption revokes what the first got
// (§4.1.2: the code was stolen, or replayed).
Response authorization_code_grant(OAuthServices& s, std::map<std::string, std::string>& form) {
  const auto& client_id = form["client_id"];
  if (!s.public_clients.known(client_id)) {
    throw oauth_error(ErrorKind::unauthorized, "invalid_client", "Client authentication failed")
        .with_header("WWW-Authenticate", R"(Basic realm="deliveryhub")");
  }
  if (form["code"].empty() || form["redirect_uri"].empty() || form["code_verifier"].empty()) {
    throw oauth_error(ErrorKind::bad_request, "invalid_request", "code, redirect_uri and code_verifier are required");
  }
  if (form["code"].size() > 512) throw invalid_grant();
  const auto hash = hash_refresh_token(form["code"]);
  const auto now = core::to_unix_ms(s.clock.now());
  struct Outcome {
    std::optional<Account> account;
    std::string refresh;
    bool replayed = false;
  };
  auto outcome = s.db.write([&](core::db::Transaction& tx) {
    Outcome result;
    auto row = tx.query_one(
        "SELECT client_id, redirect_uri, code_challenge, account_id, expires_at, used_at, family_id "
        "FROM customers_authorization_codes WHERE code_hash = $1",
        {hash});
    if (!row) return result;
    if (!row->is_null(5)) {
      if (!row->is_null(6)) revoke_family(tx, row->text(6), now);
      result.replayed = true;
      return result;
    }
    // Any attempt uses the code up, a failed one included: a code is tried once.
    if (tx.execute("UPDATE customers_authorization_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL",
                   {now, hash}) != 1) {
      return result;
    }
    if (row->integer(4) <= now || row->text(0) != client_id || row->text(1) != form["redirect_uri"] ||
        !code_verifier_matches(form["code_verifier"], row->text(2))) {
      return result;
    }
    bool suspended = false;
    result.account = account_row(tx, row->text(3), suspended);
    if (!result.account || suspended) {
      result.account.reset();
      return result;
    }
    const auto family = core::new_id("rtf");
    result.refresh = store_refresh_token(tx, s, family, result.account->id, now, client_id);
    tx.execute("UPDATE customers_authorization_codes SET family_id = $1 WHERE code_hash = $2", {family, hash});
    return result;
  });
  if (outcome.replayed) core::log::warn("authorization code redeemed twice; what it granted is revoked");
  if (!outcome.account) throw invalid_grant();
  return token_response(s.issuer, s.issuer.issue(outcome.account->id, roles_of(*outcome.account)), outcome.refresh);
}

// RFC 7009. Refresh tokens only: access tokens are self-contained and end on their own within
// their lifetime (unsupported_token_type). Revoking a refresh token ends its whole family — the
// sign-in it came from. An unknown token is answered 200 like a revoked one (§2.2).
Response revoke(OAuthServices& s, std::map<std::string, std::string>& form) {
  const auto& token = form["token"];
  if (token.empty()) throw oauth_error(ErrorKind::bad_request, "invalid_request", "token is required");
  const auto& client_id = form["client_id"];
  if (!client_id.empty() && !s.public_clients.known(client_id)) {
    throw oauth_error(ErrorKind::unauthorized, "invalid_client", "Client authentication failed")
        .with_header("WWW-Authenticate", R"(Basic realm="deliveryhub")");
  }
  const auto& hint = form["token_type_hint"];
  if (hint == "access_token" || std::count(token.begin(), token.end(), '.') == 2) {
    throw oauth_error(ErrorKind::bad_request, "unsupported_token_type",
                      "Access tokens cannot be revoked; they end within their lifetime");
  }
  if (token.size() <= 512) {
    const auto hash = hash_refresh_token(token);
    const auto now = core::to_unix_ms(s.clock.now());
    const bool refused = s.db.write([&](core::db::Transaction& tx) {
      auto row =
          tx.query_one("SELECT family_id, client_id FROM customers_refresh_tokens WHERE token_hash = $1", {hash});
      if (!row) return false;
      // §2.1: a token issued to a client is revoked only by that client.
      if (!row->is_null(1) && row->text(1) != client_id) return true;
      revoke_family(tx, row->text(0), now);
      return false;
    });
    if (refused) {
      throw oauth_error(ErrorKind::unauthorized, "invalid_client", "The token was issued to another client")
          .with_header("WWW-Authenticate", R"(Basic realm="deliveryhub")");
    }
  }
  Response response;  // 200 with no body (RFC 7009 §2.2)
  response.headers.add("Cache-Control", "no-store");
  return response;
}

// The form of a token or revocation request; parameters must not repeat (RFC 6749 §3.2).
std::map<std::string, std::string> oauth_form(const Request& request) {
  const auto content_type = request.header("Content-Type");
  const auto media = content_type.substr(0, content_type.find(';'));
  if (!core::http::iequals(media, "application/x-www-form-urlencoded")) {
    throw Error(ErrorKind::unsupported_media_type, "Content-Type must be application/x-www-form-urlencoded");
  }
  auto pairs = core::http::parse_form(request.body);
  if (!pairs) throw oauth_error(ErrorKind::bad_request, "invalid_request", "The form body is malformed");
  std::map<std::string, std::string> form;
  for (auto& [key, value] : *pairs) {
    if (!form.emplace(key, value).second) {
      throw oauth_error(ErrorKind::bad_request, "invalid_request", "Parameter '" + key + "' is repeated");
    }
  }
  return form;
}

}  // namespace

void add_oauth_routes(core::http::Router& router, OAuthServices& services) {
  router.add("POST", "/oauth/token", [&s = services](const Request& request) {
    auto form = oauth_form(request);
    const std::string grant = form["grant_type"];
    if (grant == "password") return password_grant(s, request, form);
    if (grant == "client_credentials") return client_credentials_grant(s, request, form);
    if (grant == "refresh_token") return refresh_grant(s, form);
    if (grant == "authorization_code") return authorization_code_grant(s, form);
    if (grant.empty()) throw oauth_error(ErrorKind::bad_request, "invalid_request", "grant_type is required");
    throw oauth_error(ErrorKind::bad_request, "unsupported_grant_type",
                      "Supported grants: password, client_credentials, authorization_code, refresh_token");
  });

  router.add("POST", "/oauth/revoke", [&s = services](const Request& request) {
    auto form = oauth_form(request);
    return revoke(s, form);
  });

  router.add("GET", "/.well-known/jwks.json", [&s = services](const Request&) {
    Response response = Response::json(200, s.jwks);
    response.headers.add("Cache-Control", "public, max-age=300");
    return response;
  });

  router.add("GET", "/.well-known/openid-configuration", [&s = services](const Request&) {
    return Response::json(
        200, {{"issuer", s.issuer_name},
              {"jwks_uri", "/.well-known/jwks.json"},
              {"token_endpoint", "/oauth/token"},
              {"authorization_endpoint", "/oauth/authorize"},
              {"revocation_endpoint", "/oauth/revoke"},
              {"grant_types_supported", {"password", "client_credentials", "authorization_code", "refresh_token"}},
              {"token_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post", "none"}},
              {"response_types_supported", {"code"}},
              {"code_challenge_methods_supported", {"S256"}},
              {"authorization_response_iss_parameter_supported", true},
              {"ui_locales_supported", {"es", "en"}},
              {"id_token_signing_alg_values_supported", {"ES256"}},
              {"subject_types_supported", {"public"}}});
  });
}

}  // namespace deliveryhub::customers
