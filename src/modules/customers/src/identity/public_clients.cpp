#include "identity/public_clients.hpp"

#include <algorithm>

namespace deliveryhub::customers {

std::string without_loopback_port(std::string_view uri) {
  constexpr std::string_view kScheme = "http://";
  if (!uri.starts_with(kScheme)) return std::string(uri);
  const auto authority_end = uri.find_first_of("/?#", kScheme.size());
  const auto authority =
      uri.substr(kScheme.size(),
                 authority_end == std::string_view::npos ? std::string_view::npos : authority_end - kScheme.size());
  for (std::string_view host : {"127.0.0.1", "localhost", "[::1]"}) {
    if (!authority.starts_with(host)) continue;
    const auto rest = authority.substr(host.size());
    if (rest.empty()) return std::string(uri);
    if (rest[0] != ':' || rest.size() < 2 || rest.size() > 6) return std::string(uri);
    if (!std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::string(uri);
    }
    std::string result(kScheme);
    result += host;
    if (authority_end != std::string_view::npos) result += uri.substr(authority_end);
    return result;
  }
  return std::string(uri);
}

PublicClients::PublicClients(std::vector<std::string> console_redirect_uris)
    : console_redirect_uris_(std::move(console_redirect_uris)) {
  if (console_redirect_uris_.empty()) {
    console_redirect_uris_ = {"http://127.0.0.1/app/", "http://localhost/app/", "http://[::1]/app/"};
  }
}

bool PublicClients::allows(std::string_view client_id, std::string_view redirect_uri) const {
  if (!known(client_id) || redirect_uri.empty()) return false;
  const auto loose = without_loopback_port(redirect_uri);
  return std::any_of(console_redirect_uris_.begin(), console_redirect_uris_.end(), [&](const std::string& registered) {
    return registered == redirect_uri || (loose != redirect_uri && registered == loose);
  });
}

}  // namespace deliveryhub::customers
