#include "identity/oauth_routes.hpp"

#include "core/http/message.hpp"
#include "core/log/log.hpp"
#include "core/util/base64url.hpp"
#include "core/util/ids.hpp"
#include "core/util/text.hpp"

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
std::string store_refresh_token(core::db::Transaction& tx, const OAuthServices& s, const std::string& family,
                                const std::string& account_id, std::int64_t family_started) {
  const auto secret = new_refresh_secret();
  const auto now = core::to_unix_ms(s.clock.now());
  tx.execute(
      "INSERT INTO customers_refresh_tokens (token_hash, family_id, account_id, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5)",
      {secret.hash, family, account_id, now,
       std::min(now + ms(s.refresh_ttl), family_started + ms(s.refresh_family_lifetime))});
  return secret.token;
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
        "SELECT family_id, account_id, expires_at, used_at, revoked_at FROM customers_refresh_tokens "
        "WHERE token_hash = $1",
        {hash});
    if (!row) return result;
    const std::string family = row->text(0);
    if (!row->is_null(3)) {
      // A used token again: someone holds a copy. Kill the whole family (RFC 6819 §5.2.2.3).
      tx.execute("UPDATE customers_refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
                 {now, family});
      result.reused = true;
      return result;
    }
    if (!row->is_null(4) || row->integer(2) <= now) return result;
    if (tx.execute("UPDATE customers_refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
                   {now, hash}) != 1) {
      return result;
    }
    auto record =
        tx.query_one("SELECT id, email, name, role, status FROM customers_accounts WHERE id = $1", {row->text(1)});
    if (!record) return result;
    if (record->text(4) == "suspended") {
      // Revoked at suspension already; a family minted meanwhile goes too.
      tx.execute("UPDATE customers_refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
                 {now, family});
      return result;
    }
    const std::string role = record->text(3);
    result.account = Account{record->text(0), record->text(1), record->text(2),
                             role == "courier"    ? AccountRole::courier
                             : role == "operator" ? AccountRole::operator_
                                                  : AccountRole::customer};
    const auto started =
        tx.query_one("SELECT MIN(created_at) FROM customers_refresh_tokens WHERE family_id = $1", {family})->integer(0);
    if (started + ms(s.refresh_family_lifetime) <= now) {
      // The login is too old, however often it was refreshed: sign in again.
      tx.execute("UPDATE customers_refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
                 {now, family});
      result.account.reset();
      return result;
    }
    result.refresh = store_refresh_token(tx, s, family, result.account->id, started);
    return result;
  });
  if (outcome.reused) core::log::warn("refresh token reused; its family is revoked");
  if (!outcome.account) throw invalid_grant();
  return token_response(s.issuer, s.issuer.issue(outcome.account->id, roles_of(*outcome.account)), outcome.refresh);
}

}  // namespace

void add_oauth_routes(core::http::Router& router, OAuthServices& services) {
  router.add("POST", "/oauth/token", [&s = services](const Request& request) {
    const auto content_type = request.header("Content-Type");
    const auto media = content_type.substr(0, content_type.find(';'));
    if (!core::http::iequals(media, "application/x-www-form-urlencoded")) {
      throw Error(ErrorKind::unsupported_media_type, "Content-Type must be application/x-www-form-urlencoded");
    }
    auto pairs = core::http::parse_form(request.body);
    if (!pairs) throw oauth_error(ErrorKind::bad_request, "invalid_request", "The form body is malformed");
    std::map<std::string, std::string> form;
    for (auto& [key, value] : *pairs) {
      // RFC 6749 §3.2: parameters must not repeat.
      if (!form.emplace(key, value).second) {
        throw oauth_error(ErrorKind::bad_request, "invalid_request", "Parameter '" + key + "' is repeated");
      }
    }
    const std::string grant = form["grant_type"];
    if (grant == "password") return password_grant(s, request, form);
    if (grant == "client_credentials") return client_credentials_grant(s, request, form);
    if (grant == "refresh_token") return refresh_grant(s, form);
    if (grant.empty()) throw oauth_error(ErrorKind::bad_request, "invalid_request", "grant_type is required");
    throw oauth_error(ErrorKind::bad_request, "unsupported_grant_type",
                      "Supported grants: password, client_credentials, refresh_token");
  });

  router.add("GET", "/.well-known/jwks.json", [&s = services](const Request&) {
    Response response = Response::json(200, s.jwks);
    response.headers.add("Cache-Control", "public, max-age=300");
    return response;
  });

  router.add("GET", "/.well-known/openid-configuration", [&s = services](const Request&) {
    return Response::json(200,
                          {{"issuer", s.issuer_name},
                           {"jwks_uri", "/.well-known/jwks.json"},
                           {"token_endpoint", "/oauth/token"},
                           {"grant_types_supported", {"password", "client_credentials", "refresh_token"}},
                           {"token_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post"}},
                           {"response_types_supported", nlohmann::json::array()},
                           {"id_token_signing_alg_values_supported", {"ES256"}},
                           {"subject_types_supported", {"public"}}});
  });
}

}  // namespace deliveryhub::customers
