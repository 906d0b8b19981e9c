#pragma once
#include "core/http/message.hpp"

#include <string>
#include <string_view>

namespace deliveryhub::customers {

/// The languages of the sign-in page.
enum class PageLanguage { es, en };

/// `ui_locales` (OpenID Connect: space-separated tags, preferred first) when it names one we
/// have, else the first of `Accept-Language` we have, else Spanish (the business is in Spain).
PageLanguage choose_language(std::string_view ui_locales, std::string_view accept_language);

/// What the sign-in form carries through its round trip besides the credentials.
struct SignInRequest {
  std::string client_id;
  std::string redirect_uri;
  std::string state;
  std::string code_challenge;
  std::string csrf;  // the same value as the sign-in cookie (double submit)
};

/// Why the form is shown again.
enum class SignInProblem { none, wrong_credentials, suspended, too_many_attempts, missing_fields };

/// The sign-in page: an HTML form posting to /oauth/authorize, no script, styled by
/// /oauth/sign-in.css. Every value from the request is escaped. `email` refills the field.
std::string render_sign_in_page(const SignInRequest& request, PageLanguage language, SignInProblem problem,
                                std::string_view email);

/// A page that only says what went wrong, for requests that must not be redirected (an unknown
/// client or redirect URI, RFC 6749 §4.1.2.1) or that failed the CSRF check.
std::string render_error_page(PageLanguage language, std::string_view message_en, std::string_view message_es);

/// The page's stylesheet.
std::string_view sign_in_stylesheet();

/// `text` escaped for HTML text and double-quoted attribute values.
std::string html_escape(std::string_view text);

}  // namespace deliveryhub::customers
