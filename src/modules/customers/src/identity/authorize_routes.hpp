#pragma once
#include "core/http/router.hpp"
#include "identity/oauth_routes.hpp"

namespace deliveryhub::customers {

/// The authorization endpoint for browsers (RFC 6749 §4.1 with PKCE, RFC 7636; S256 only):
/// GET /oauth/authorize shows the sign-in page, POST /oauth/authorize checks the credentials and
/// sends the browser back to the client's redirect URI with a one-time code (and `state`, and
/// `iss`, RFC 9207). GET /oauth/sign-in.css is the page's stylesheet.
///
/// An unknown client or a redirect URI not registered for it gets an error page, never a
/// redirect (RFC 6749 §4.1.2.1); other request errors go back to the client as `error=`. The
/// form is protected against cross-site posting by a double-submit token: the page sets it in
/// a SameSite=Strict, HttpOnly cookie and in a hidden field, and the post must carry both.
void add_authorize_routes(core::http::Router& router, OAuthServices& services);

}  // namespace deliveryhub::customers
