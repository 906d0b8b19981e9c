#pragma once
#include "core/http/message.hpp"

#include <optional>
#include <string>
#include <vector>

namespace deliveryhub::core::http {

/// Cross-origin requests from browsers (the Fetch standard's CORS protocol) for the origins an
/// operator configured (`--cors-origin`), and for no other: a page of another origin gets no
/// CORS headers, so its browser keeps the answer from it. No credentials (cookies) are allowed:
/// the API reads bearer tokens only.
class CorsPolicy {
 public:
  CorsPolicy() = default;
  /// `origins`: exact origins, `https://console.example.com` (scheme, host and port; no path).
  explicit CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {}

  bool any() const { return !origins_.empty(); }
  bool allows(std::string_view origin) const;

  /// The answer to a preflight (OPTIONS with Origin and Access-Control-Request-Method) from an
  /// allowed origin: 204 with what may be sent. nullopt for anything else (routed as usual).
  std::optional<Response> preflight(const Request& request) const;

  /// Adds Access-Control-Allow-Origin (and what a script may read) to the response of a request
  /// from an allowed origin; `Vary: Origin` whenever origins are configured, so caches keep
  /// answers to different origins apart.
  void decorate(const Request& request, Response& response) const;

 private:
  std::vector<std::string> origins_;
};

/// Why `origin` is not a valid configured origin (scheme://host[:port], http or https, nothing
/// after), or nullopt. For the settings check.
std::optional<std::string> invalid_cors_origin(std::string_view origin);

}  // namespace deliveryhub::core::http
