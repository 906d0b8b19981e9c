#pragma once
#include "core/http/message.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::core::http {

/// A handler is a function of the request (and the services it captured). It may throw
/// core::Error; the pipeline turns that into a problem response.
using Handler = std::function<Response(const Request&)>;

/// Maps (method, path) to a handler. Patterns are literal segments and `{name}` parameters,
/// e.g. "/api/v1/customers/{id}/addresses/{address_id}". Literal segments win over parameters.
/// Routes are added at start-up, before the server runs; matching is then read-only and
/// thread-safe.
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);

  struct Match {
    enum class Outcome { found, not_found, method_not_allowed } outcome = Outcome::not_found;
    const Handler* handler = nullptr;
    std::string_view pattern;
    PathParams params;
    std::string allow;  // for method_not_allowed: "GET, PATCH"
  };
  Match match(std::string_view method, std::string_view path) const;

  /// Every (method, pattern) pair, for documentation checks.
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace deliveryhub::core::http
