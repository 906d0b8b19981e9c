#include "identity/sign_in_page.hpp"

#include "core/util/text.hpp"

#include <fmt/format.h>

namespace deliveryhub::customers {
namespace {

struct Texts {
  std::string_view lang;
  std::string_view title;
  std::string_view heading;
  std::string_view email;
  std::string_view password;
  std::string_view sign_in;
  std::string_view cancel;
  std::string_view other_language;  // the link to the other language, in that language
  std::string_view other_tag;
  std::string_view wrong_credentials;
  std::string_view suspended;
  std::string_view too_many_attempts;
  std::string_view missing_fields;
  std::string_view error_title;
};

constexpr Texts kSpanish{"es",
                         "Iniciar sesión — deliveryhub",
                         "Inicia sesión",
                         "Correo electrónico",
                         "Contraseña",
                         "Iniciar sesión",
                         "Cancelar",
                         "English",
                         "en",
                         "El correo o la contraseña no son correctos.",
                         "Esta cuenta está suspendida. Ponte en contacto con soporte.",
                         "Demasiados intentos fallidos. Espera un momento y vuelve a intentarlo.",
                         "Escribe tu correo y tu contraseña.",
                         "No se puede iniciar sesión — deliveryhub"};
constexpr Texts kEnglish{"en",
                         "Sign in — deliveryhub",
                         "Sign in",
                         "Email",
                         "Password",
                         "Sign in",
                         "Cancel",
                         "Español",
                         "es",
                         "The email or the password is not right.",
                         "This account is suspended. Please contact support.",
                         "Too many failed attempts. Wait a moment and try again.",
                         "Enter your email and your password.",
                         "Cannot sign in — deliveryhub"};

const Texts& texts(PageLanguage language) {
  return language == PageLanguage::en ? kEnglish : kSpanish;
}

std::optional<PageLanguage> language_of(std::string_view tag) {
  const auto primary = core::ascii_lower(tag.substr(0, tag.find_first_of("-_")));
  if (primary == "es") return PageLanguage::es;
  if (primary == "en") return PageLanguage::en;
  return std::nullopt;
}

// Calls `each` with every item of `list` split at any of `separators`, trimmed of spaces.
template <class Each>
std::optional<PageLanguage> first_known(std::string_view list, std::string_view separators, const Each& each) {
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find_first_of(separators, start);
    if (end == std::string_view::npos) end = list.size();
    auto item = list.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (auto found = each(item)) return found;
    start = end + 1;
  }
  return std::nullopt;
}

std::string_view problem_text(const Texts& t, SignInProblem problem) {
  switch (problem) {
    case SignInProblem::wrong_credentials:
      return t.wrong_credentials;
    case SignInProblem::suspended:
      return t.suspended;
    case SignInProblem::too_many_attempts:
      return t.too_many_attempts;
    case SignInProblem::missing_fields:
      return t.missing_fields;
    case SignInProblem::none:
      break;
  }
  return {};
}

std::string hidden(std::string_view name, std::string_view value) {
  return fmt::format(R"(<input type="hidden" name="{}" value="{}">)", name, html_escape(value));
}

}  // namespace

PageLanguage choose_language(std::string_view ui_locales, std::string_view accept_language) {
  if (auto found = first_known(ui_locales, " ", language_of)) return *found;
  // Accept-Language: "es-ES,es;q=0.9,en;q=0.8" — in the order given (browsers list by preference).
  if (auto found = first_known(accept_language, ",",
                               [](std::string_view item) { return language_of(item.substr(0, item.find(';'))); })) {
    return *found;
  }
  return PageLanguage::es;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_sign_in_page(const SignInRequest& request, PageLanguage language, SignInProblem problem,
                                std::string_view email) {
  const auto& t = texts(language);
  const auto message = problem_text(t, problem);
  const std::string other_language_link = fmt::format(
      "/oauth/authorize?response_type=code&amp;client_id={}&amp;redirect_uri={}&amp;state={}&amp;code_challenge={}"
      "&amp;code_challenge_method=S256&amp;ui_locales={}",
      core::http::percent_encode(request.client_id), core::http::percent_encode(request.redirect_uri),
      core::http::percent_encode(request.state), core::http::percent_encode(request.code_challenge), t.other_tag);
  std::string page = fmt::format(
      R"(<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/oauth/sign-in.css">
</head>
<body>
<main>
<p class="brand">deliveryhub</p>
<h1>{heading}</h1>
)",
      fmt::arg("lang", t.lang), fmt::arg("title", t.title), fmt::arg("heading", t.heading));
  if (!message.empty())
    page += fmt::format(R"(<p class="error" role="alert" id="sign-in-error">{}</p>)", message) + "\n";
  const std::string described = message.empty() ? "" : R"( aria-describedby="sign-in-error" aria-invalid="true")";
  page += R"(<form method="post" action="/oauth/authorize">)";
  page += "\n";
  page += hidden("client_id", request.client_id) + hidden("redirect_uri", request.redirect_uri) +
          hidden("state", request.state) + hidden("code_challenge", request.code_challenge) +
          hidden("code_challenge_method", "S256") + hidden("csrf", request.csrf) + hidden("ui_locales", t.lang);
  page += fmt::format(
      R"(
<label for="email">{email_label}</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="{email}"{described}>
<label for="password">{password_label}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="128"{described}>
<div class="actions">
<button type="submit" name="action" value="sign_in">{sign_in}</button>
<button type="submit" name="action" value="cancel" formnovalidate class="secondary">{cancel}</button>
</div>
</form>
<p class="language"><a href="{other_link}" lang="{other_tag}" hreflang="{other_tag}">{other_language}</a></p>
</main>
</body>
</html>
)",
      fmt::arg("email_label", t.email), fmt::arg("email", html_escape(email)), fmt::arg("described", described),
      fmt::arg("password_label", t.password), fmt::arg("sign_in", t.sign_in), fmt::arg("cancel", t.cancel),
      fmt::arg("other_link", other_language_link), fmt::arg("other_tag", t.other_tag),
      fmt::arg("other_language", t.other_language));
  return page;
}

std::string render_error_page(PageLanguage language, std::string_view message_en, std::string_view message_es) {
  const auto& t = texts(language);
  return fmt::format(
      R"(<!doctype html>
<html lang="{}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{}</title>
<link rel="stylesheet" href="/oauth/sign-in.css">
</head>
<body>
<main>
<p class="brand">deliveryhub</p>
<h1>{}</h1>
<p class="error" role="alert">{}</p>
</main>
</body>
</html>
)",
      t.lang, t.error_title, t.error_title.substr(0, t.error_title.find(" — ")),
      html_escape(language == PageLanguage::en ? message_en : message_es));
}

std::string_view sign_in_stylesheet() {
  return R"(*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f4f5f7}
main{max-width:26rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 4px rgba(0,0,0,.15)}
@media (max-width:30rem){main{margin:0;border-radius:0;min-height:100vh}}
.brand{margin:0;font-weight:700;color:#0b5394}
h1{margin:.25rem 0 1.5rem;font-size:1.5rem}
label{display:block;margin-top:1rem;font-weight:600}
input{display:block;width:100%;margin-top:.25rem;padding:.6rem;font:inherit;border:1px solid #6b6b6b;border-radius:.25rem}
input[aria-invalid=true]{border-color:#b00020}
.actions{display:flex;gap:.75rem;margin-top:1.5rem;flex-wrap:wrap}
button{min-height:2.75rem;padding:.6rem 1.2rem;font:inherit;font-weight:600;border:0;border-radius:.25rem;background:#0b5394;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5394;border:2px solid #0b5394}
:focus-visible{outline:3px solid #e37400;outline-offset:2px}
.error{padding:.75rem;border-left:4px solid #b00020;background:#fdecea;color:#7a0014}
.language{margin-top:1.5rem}
a{color:#0b5394}
)";
}

}  // namespace deliveryhub::customers
