#include "core/auth/token_validator.hpp"

#include "core/auth/jws.hpp"
#include "core/errors.hpp"
#include "core/log/log.hpp"
#include "core/util/base64url.hpp"

#include <algorithm>

namespace deliveryhub::core::auth {
namespace {

Error invalid_token(std::string detail) {
  Error error(ErrorKind::unauthorized, std::move(detail));
  error.with_header("WWW-Authenticate", R"(Bearer error="invalid_token")");
  return error;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TokenValidator::TokenValidator(ValidatorOptions options, KeySet keys)
    : options_(std::move(options)), keys_(std::move(keys)), cache_(options_.cache_capacity) {}

void TokenValidator::set_keys(KeySet keys) {
  std::unique_lock lock(keys_mutex_);
  keys_ = std::move(keys);
  cache_.clear();
}

Principal TokenValidator::validate(std::string_view token) const {
  auto cached = cache_.find(token, unix_now(), options_.leeway.count());
  auto principal = cached ? std::move(*cached) : verify(token);
  // No lock at all until the first revocation: most processes never see one.
  if (any_revoked_.load(std::memory_order_acquire)) {
    std::shared_lock lock(revoked_mutex_);
    auto found = revoked_.find(principal.subject);
    if (found != revoked_.end() && principal.issued_at <= found->second) {
      throw invalid_token("The access token was revoked");
    }
  }
  return principal;
}

void TokenValidator::revoke_subject(const std::string& subject, std::int64_t issued_until) const {
  std::unique_lock lock(revoked_mutex_);
  // No access token lives a day: older entries protect nothing any more.
  if (revoked_.size() >= 10'000) std::erase_if(revoked_, [&](const auto& e) { return e.second < unix_now() - 86400; });
  auto& until = revoked_[subject];
  until = std::max(until, issued_until);
  any_revoked_.store(true, std::memory_order_release);
}

Principal TokenValidator::verify(std::string_view token) const {
  if (token.size() > 8192) throw invalid_token("The access token is too long");
  const auto first_dot = token.find('.');
  const auto second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
    throw invalid_token("The access token is not a JWS compact serialization");
  }
  const auto header_text = base64url_decode(token.substr(0, first_dot));
  if (!header_text) throw invalid_token("The token header is not base64url");
  const auto header = nlohmann::json::parse(*header_text, nullptr, false);
  if (!header.is_object()) throw invalid_token("The token header is not a JSON object");
  // The algorithm is pinned: "none", HS* and anything else never reach a verifier.
  const auto alg = header.find("alg");
  if (alg == header.end() || *alg != "ES256") throw invalid_token("The token algorithm is not allowed");
  const auto typ = header.find("typ");
  if (typ == header.end() || *typ != "at+jwt") throw invalid_token("The token is not an access token");
  // RFC 7515 §4.1.11: extensions named in "crit" must be understood; we understand none.
  if (header.contains("crit")) throw invalid_token("The token has critical header parameters");
  const auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) throw invalid_token("The token names no key");

  PublicKey key;
  std::uint64_t generation = 0;
  {
    std::shared_lock lock(keys_mutex_);
    generation = cache_.generation();
    const PublicKey* found = keys_.find(kid->get<std::string>());
    if (!found) throw invalid_token("The token was signed with an unknown key");
    key = *found;
  }
  const auto signature = base64url_decode(token.substr(second_dot + 1));
  if (!signature || !verify_es256(token.substr(0, second_dot), *signature, key.pem)) {
    throw invalid_token("The access token signature is invalid");
  }
  const auto payload_text = base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  const auto claims = payload_text ? nlohmann::json::parse(*payload_text, nullptr, false) : nlohmann::json();
  if (!claims.is_object()) throw invalid_token("The token claims are not a JSON object");

  const auto now = unix_now();
  const auto leeway = options_.leeway.count();
  const auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number_integer()) throw invalid_token("The token has no expiry");
  if (exp->get<std::int64_t>() + leeway < now) throw invalid_token("The access token has expired");
  if (auto nbf = claims.find("nbf"); nbf != claims.end()) {
    if (!nbf->is_number_integer() || nbf->get<std::int64_t>() - leeway > now) {
      throw invalid_token("The access token is not valid yet");
    }
  }
  const auto iss = claims.find("iss");
  if (iss == claims.end() || *iss != options_.issuer) throw invalid_token("The token issuer is not trusted");
  const auto aud = claims.find("aud");
  bool audience_ok = aud != claims.end() && aud->is_string() && *aud == options_.audience;
  if (aud != claims.end() && aud->is_array()) {
    for (const auto& item : *aud) audience_ok = audience_ok || (item.is_string() && item == options_.audience);
  }
  if (!audience_ok) throw invalid_token("The token is not meant for this API");
  const auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || sub->get<std::string>().empty()) {
    throw invalid_token("The token has no subject");
  }

  Principal principal;
  principal.subject = sub->get<std::string>();
  if (auto roles = claims.find("roles"); roles != claims.end() && roles->is_array()) {
    for (const auto& role : *roles) {
      if (role.is_string()) principal.roles.push_back(role.get<std::string>());
    }
  }
  if (auto client = claims.find("client_id"); client != claims.end() && client->is_string()) {
    principal.client_id = client->get<std::string>();
  }
  if (auto iat = claims.find("iat"); iat != claims.end() && iat->is_number_integer()) {
    principal.issued_at = iat->get<std::int64_t>();
  }
  if (auto scope = claims.find("scope"); scope != claims.end() && scope->is_string()) {
    const auto& text = scope->get_ref<const std::string&>();
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find(' ', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) principal.scopes.emplace_back(text.substr(start, end - start));
      start = end + 1;
    }
  }

  cache_.insert(token, principal, exp->get<std::int64_t>(), generation, now, leeway);
  return principal;
}

Principal TokenValidator::authenticate(const http::Request& request) const {
  const auto header = request.header("Authorization");
  if (header.empty()) {
    Error error(ErrorKind::unauthorized, "This endpoint needs a bearer access token");
    error.with_header("WWW-Authenticate", "Bearer");
    throw error;
  }
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size() || !http::iequals(header.substr(0, kScheme.size()), kScheme)) {
    throw invalid_token("The Authorization header must use the Bearer scheme");
  }
  auto principal = validate(header.substr(kScheme.size()));
  // A module calling another on someone's behalf names them (X-Deliveryhub-Caller, sent by
  // core::remote); only a service is believed when it does.
  const auto on_behalf_of = request.header("X-Deliveryhub-Caller");
  log::set_caller(principal.has_role("service") && !on_behalf_of.empty() ? std::string(on_behalf_of)
                                                                         : principal.subject);
  return principal;
}

void require_any_role(const Principal& principal, std::initializer_list<std::string_view> roles) {
  for (auto role : roles) {
    if (principal.has_role(role)) return;
  }
  throw Error(ErrorKind::forbidden, "Your role may not do this");
}

void require_service(const TokenValidator& tokens, const http::Request& request,
                     std::initializer_list<std::string_view> callers) {
  const auto principal = tokens.authenticate(request);
  require_any_role(principal, {"service"});
  for (auto module : callers) {
    if (principal.acts_for(module)) return;
  }
  throw Error(ErrorKind::forbidden, "This machine client does not act for a module that may call this route");
}

}  // namespace deliveryhub::core::auth
