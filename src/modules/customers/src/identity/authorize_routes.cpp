#include "identity/authorize_routes.hpp"

#include "core/errors.hpp"
#include "core/log/log.hpp"
#include "core/util/text.hpp"
#include "identity/authorization_codes.hpp"
#include "identity/pkce.hpp"
#include "identity/sign_in_page.hpp"
#include "identity/token_issuer.hpp"

#include <openssl/crypto.h>

#include <map>
#include <optional>

namespace deliveryhub::customers {
namespace {

using core::Error;
using core::ErrorKind;
using core::http::Request;
using core::http::Response;

constexpr std::string_view kCsrfCookie = "dh_signin";
constexpr std::size_t kMaxStateLength = 512;

// The parameters of a query string or form; nullopt when one repeats or the encoding is bad
// (RFC 6749 §3.1: request parameters must not be included more than once).
std::optional<std::map<std::string, std::string>> parameters(std::string_view text) {
  auto pairs = core::http::parse_form(text);
  if (!pairs) return std::nullopt;
  std::map<std::string, std::string> result;
  for (auto& [key, value] : *pairs) {
    if (!result.emplace(key, value).second) return std::nullopt;
  }
  return result;
}

std::string value_of(const std::map<std::string, std::string>& params, const std::string& name) {
  const auto found = params.find(name);
  return found == params.end() ? std::string() : found->second;
}

// The value of cookie `name` in the Cookie header, or empty.
std::string cookie(const Request& request, std::string_view name) {
  const auto header = request.header("Cookie");
  std::size_t start = 0;
  while (start < header.size()) {
    auto end = header.find(';', start);
    if (end == std::string_view::npos) end = header.size();
    auto item = header.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=') {
      return std::string(item.substr(name.size() + 1));
    }
    start = end + 1;
  }
  return {};
}

// scheme://authority of an absolute URI, for the form-action directive.
std::string origin_of(std::string_view uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto authority_end = uri.find_first_of("/?#", scheme_end + 3);
  return std::string(uri.substr(0, authority_end));
}

void add_page_headers(Response& response, std::string_view redirect_uri) {
  // No script at all; the form may post here and be redirected to the client (Chromium applies
  // form-action to the redirect too).
  const auto client_origin = origin_of(redirect_uri);
  response.headers.add("Content-Security-Policy",
                       "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'" +
                           (client_origin.empty() ? std::string() : " " + client_origin) +
                           "; frame-ancestors 'none'; base-uri 'none'");
  response.headers.add("X-Frame-Options", "DENY");
  response.headers.add("X-Content-Type-Options", "nosniff");
  response.headers.add("Referrer-Policy", "no-referrer");
  response.headers.add("Cache-Control", "no-store");
}

// Browsers ask for HTML and get pages; any other client (curl, a test, an API tool) gets the
// same refusal as an RFC 9457 problem, like every other error of the API.
bool wants_html(const Request& request) {
  const auto accept = core::ascii_lower(request.header("Accept"));
  return accept.find("text/html") != std::string::npos;
}

Response html(int status, std::string body, std::string_view redirect_uri) {
  Response response = Response::text(status, std::move(body), "text/html; charset=utf-8");
  add_page_headers(response, redirect_uri);
  return response;
}

// Sent back to the client: `redirect_uri` with the parameters added (RFC 6749 §4.1.2).
Response back_to_client(std::string_view redirect_uri, const std::string& parameters_text) {
  // 303: the browser follows with a GET whatever method brought it here. An empty HTML body, so
  // that a client asking for HTML gets the media type it asked for.
  Response response = Response::text(303, "", "text/html; charset=utf-8");
  response.headers.add(
      "Location",
      std::string(redirect_uri) + (redirect_uri.find('?') == std::string_view::npos ? "?" : "&") + parameters_text);
  response.headers.add("Cache-Control", "no-store");
  response.headers.add("Referrer-Policy", "no-referrer");
  return response;
}

Response client_error(std::string_view redirect_uri, std::string_view error, std::string_view description,
                      std::string_view state, std::string_view issuer) {
  std::string text =
      "error=" + core::http::percent_encode(error) + "&error_description=" + core::http::percent_encode(description);
  if (!state.empty()) text += "&state=" + core::http::percent_encode(state);
  text += "&iss=" + core::http::percent_encode(issuer);
  return back_to_client(redirect_uri, text);
}

// The checks shared by GET and POST, after the client and redirect URI are known to be good:
// the error to send the client back with, if any.
std::optional<Response> request_error(const std::map<std::string, std::string>& params, bool need_response_type,
                                      std::string_view issuer) {
  const auto redirect_uri = value_of(params, "redirect_uri");
  const auto state = value_of(params, "state");
  if (need_response_type && value_of(params, "response_type") != "code") {
    return client_error(redirect_uri, "unsupported_response_type", "Only response_type=code is supported", state,
                        issuer);
  }
  if (state.empty() || state.size() > kMaxStateLength) {
    return client_error(redirect_uri, "invalid_request", "state is required (at most 512 characters)", "", issuer);
  }
  if (value_of(params, "code_challenge_method") != "S256" ||
      !valid_code_challenge(value_of(params, "code_challenge"))) {
    return client_error(redirect_uri, "invalid_request",
                        "PKCE is required: code_challenge with code_challenge_method=S256", state, issuer);
  }
  return std::nullopt;
}

// What a client that does not ask for HTML is told (a browser gets the page's sentence).
std::string problem_sentence(SignInProblem problem) {
  switch (problem) {
    case SignInProblem::missing_fields:
      return "email and password are required";
    case SignInProblem::suspended:
      return "The account is suspended";
    case SignInProblem::too_many_attempts:
      return "Too many failed sign-ins; try again later";
    case SignInProblem::wrong_credentials:
    case SignInProblem::none:
      break;
  }
  return "The email or the password is not right";
}

SignInRequest sign_in_request(const std::map<std::string, std::string>& params, std::string csrf) {
  return {value_of(params, "client_id"), value_of(params, "redirect_uri"), value_of(params, "state"),
          value_of(params, "code_challenge"), std::move(csrf)};
}

std::string csrf_cookie(const Request& request, std::string_view value, int max_age) {
  const bool https = core::http::iequals(request.header("X-Forwarded-Proto"), "https");
  return std::string(kCsrfCookie) + "=" + std::string(value) +
         "; Path=/oauth/authorize; Max-Age=" + std::to_string(max_age) + "; HttpOnly; SameSite=Strict" +
         (https ? "; Secure" : "");
}

Response unknown_client_page(const Request& request, PageLanguage language) {
  if (!wants_html(request)) {
    throw Error(ErrorKind::bad_request,
                "Unknown client_id, a redirect_uri not registered for it, or a repeated parameter");
  }
  return html(400,
              render_error_page(language,
                                "The application that sent you here is not registered, or asked to send you back "
                                "to an address it may not use. Go back to the application and try again.",
                                "La aplicación que te ha traído aquí no está registrada, o ha pedido devolverte a "
                                "una dirección que no puede usar. Vuelve a la aplicación e inténtalo de nuevo."),
              "");
}

Response show_sign_in(OAuthServices& s, const Request& request) {
  const auto params = parameters(request.query);
  const auto language =
      choose_language(params ? value_of(*params, "ui_locales") : std::string(), request.header("Accept-Language"));
  if (!params || !s.public_clients.allows(value_of(*params, "client_id"), value_of(*params, "redirect_uri"))) {
    return unknown_client_page(request, language);
  }
  if (auto error = request_error(*params, true, s.issuer_name)) return *error;
  const auto csrf = new_refresh_secret().token;
  Response page = html(200, render_sign_in_page(sign_in_request(*params, csrf), language, SignInProblem::none, ""),
                       value_of(*params, "redirect_uri"));
  page.headers.add("Set-Cookie", csrf_cookie(request, csrf, 1800));
  return page;
}

Response sign_in(OAuthServices& s, const Request& request) {
  const auto content_type = request.header("Content-Type");
  if (!core::http::iequals(content_type.substr(0, content_type.find(';')), "application/x-www-form-urlencoded")) {
    throw Error(ErrorKind::unsupported_media_type, "Content-Type must be application/x-www-form-urlencoded");
  }
  const auto params = parameters(request.body);
  const auto language =
      choose_language(params ? value_of(*params, "ui_locales") : std::string(), request.header("Accept-Language"));
  if (!params || !s.public_clients.allows(value_of(*params, "client_id"), value_of(*params, "redirect_uri"))) {
    return unknown_client_page(request, language);
  }
  const auto redirect_uri = value_of(*params, "redirect_uri");
  const auto sent = value_of(*params, "csrf");
  const auto kept = cookie(request, kCsrfCookie);
  if (sent.empty() || sent.size() != kept.size() || CRYPTO_memcmp(sent.data(), kept.data(), sent.size()) != 0) {
    core::log::info("sign-in form refused: its CSRF token does not match the cookie");
    if (!wants_html(request)) {
      throw Error(ErrorKind::forbidden, "The sign-in form's token does not match its cookie (or there is no cookie)");
    }
    return html(403,
                render_error_page(language,
                                  "This sign-in form has expired or was not sent from this site. Go back to the "
                                  "application and sign in again.",
                                  "Este formulario de inicio de sesión ha caducado o no se ha enviado desde este "
                                  "sitio. Vuelve a la aplicación e inicia sesión de nuevo."),
                redirect_uri);
  }
  const auto state = value_of(*params, "state");
  if (value_of(*params, "action") == "cancel") {
    return client_error(redirect_uri, "access_denied", "The person cancelled the sign-in", state, s.issuer_name);
  }
  if (auto error = request_error(*params, false, s.issuer_name)) return *error;

  const auto email = value_of(*params, "email");
  const auto password = value_of(*params, "password");
  const auto again = [&](int status, SignInProblem problem) {
    if (!wants_html(request)) {
      throw Error(status == 429 ? ErrorKind::too_many_requests : ErrorKind::bad_request, problem_sentence(problem));
    }
    return html(status, render_sign_in_page(sign_in_request(*params, sent), language, problem, email), redirect_uri);
  };
  if (email.empty() || password.empty()) return again(400, SignInProblem::missing_fields);
  if (email.size() > 254 || password.size() > 512) return again(400, SignInProblem::wrong_credentials);
  const std::string account_key = core::ascii_lower(email);
  if (auto wait = s.throttle.retry_after(account_key, request.remote_address)) {
    if (!wants_html(request)) {
      throw Error(ErrorKind::too_many_requests, "Too many failed sign-ins; try again later")
          .with_header("Retry-After", std::to_string(wait->count()));
    }
    Response page = again(429, SignInProblem::too_many_attempts);
    page.headers.add("Retry-After", std::to_string(wait->count()));
    return page;
  }
  std::optional<Account> account;
  try {
    account = s.customers.authenticate(email, password);
  } catch (const core::Error& e) {
    if (e.kind() != ErrorKind::forbidden) throw;
    s.throttle.record_success(account_key);  // the right password: not a guess to count
    core::log::info("sign-in refused: the account is suspended");
    return again(400, SignInProblem::suspended);
  }
  if (!account) {
    s.throttle.record_failure(account_key, request.remote_address);
    core::log::info("sign-in failed");
    return again(400, SignInProblem::wrong_credentials);
  }
  s.throttle.record_success(account_key);
  const auto now = core::to_unix_ms(s.clock.now());
  const auto code = s.db.write([&](core::db::Transaction& tx) {
    prune_authorization_codes(tx, now - 24LL * 3600 * 1000, 10);  // keep the table small as codes are issued
    return issue_authorization_code(
        tx, {value_of(*params, "client_id"), redirect_uri, value_of(*params, "code_challenge"), account->id}, now);
  });
  core::log::info("signed in; authorization code issued", {{"client_id", value_of(*params, "client_id")}});
  Response response = back_to_client(redirect_uri, "code=" + core::http::percent_encode(code) +
                                                       "&state=" + core::http::percent_encode(state) +
                                                       "&iss=" + core::http::percent_encode(s.issuer_name));
  response.headers.add("Set-Cookie", csrf_cookie(request, "", 0));  // the form is used up
  return response;
}

}  // namespace

void add_authorize_routes(core::http::Router& router, OAuthServices& services) {
  router.add("GET", "/oauth/authorize", [&s = services](const Request& request) { return show_sign_in(s, request); });
  router.add("POST", "/oauth/authorize", [&s = services](const Request& request) { return sign_in(s, request); });
  router.add("GET", "/oauth/sign-in.css", [](const Request&) {
    Response response = Response::text(200, std::string(sign_in_stylesheet()), "text/css; charset=utf-8");
    response.headers.add("Cache-Control", "public, max-age=300");
    response.headers.add("X-Content-Type-Options", "nosniff");
    return response;
  });
}

}  // namespace deliveryhub::customers
