#include "core/http/cors.hpp"

#include <algorithm>

namespace deliveryhub::core::http {

bool CorsPolicy::allows(std::string_view origin) const {
  return !origin.empty() && std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

std::optional<Response> CorsPolicy::preflight(const Request& request) const {
  if (request.method != "OPTIONS" || !request.headers.find("Access-Control-Request-Method")) return std::nullopt;
  const auto origin = request.header("Origin");
  if (!allows(origin)) return std::nullopt;
  Response response = Response::no_content();
  response.headers.add("Access-Control-Allow-Origin", std::string(origin));
  response.headers.add("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
  response.headers.add("Access-Control-Allow-Headers",
                       "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-Id, "
                       "Accept-Language, traceparent");
  response.headers.add("Access-Control-Max-Age", "600");
  response.headers.add("Vary", "Origin");
  return response;
}

void CorsPolicy::decorate(const Request& request, Response& response) const {
  if (origins_.empty()) return;
  response.headers.add("Vary", "Origin");
  const auto origin = request.header("Origin");
  if (!allows(origin) || response.headers.find("Access-Control-Allow-Origin")) return;
  response.headers.add("Access-Control-Allow-Origin", std::string(origin));
  response.headers.add("Access-Control-Expose-Headers", "Location, ETag, Retry-After, X-Request-Id");
}

std::optional<std::string> invalid_cors_origin(std::string_view origin) {
  std::string_view rest;
  if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else {
    return "must start with http:// or https://";
  }
  if (rest.empty()) return "names no host";
  for (char c : rest) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
    if (!ok) return "must be scheme://host[:port] in lower case, with nothing after (no path, no trailing /)";
  }
  return std::nullopt;
}

}  // namespace deliveryhub::core::http
