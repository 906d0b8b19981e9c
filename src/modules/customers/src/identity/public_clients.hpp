#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::customers {

/// The browser console's OAuth client: public (no secret; PKCE stands in for one, RFC 7636),
/// signing people in with the authorization code grant.
inline constexpr std::string_view kConsoleClientId = "deliveryhub-console";

/// The public clients this server knows and the redirect URIs each may use. A redirect URI is
/// compared exactly, character for character (RFC 9700 §4.1.3) — except a loopback one
/// (`http://127.0.0.1…`, `http://[::1]…`, `http://localhost…`), whose port may be any (RFC 8252
/// §7.3): a console on a developer's machine runs on whatever port it was given.
class PublicClients {
 public:
  /// `console_redirect_uris`: the console's registered redirect URIs; none → the loopback ones,
  /// `http://127.0.0.1/app/`, `http://localhost/app/` and `http://[::1]/app/` on any port.
  explicit PublicClients(std::vector<std::string> console_redirect_uris);

  bool known(std::string_view client_id) const { return client_id == kConsoleClientId; }
  /// Whether `client_id` is known and may be sent back to `redirect_uri`.
  bool allows(std::string_view client_id, std::string_view redirect_uri) const;

 private:
  std::vector<std::string> console_redirect_uris_;
};

/// `uri` with the port of a loopback http authority removed, or `uri` unchanged when it is not
/// one. Exposed for tests.
std::string without_loopback_port(std::string_view uri);

}  // namespace deliveryhub::customers
