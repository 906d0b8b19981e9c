#pragma once
#include "core/errors.hpp"
#include "core/http/client_address.hpp"
#include "core/http/cors.hpp"
#include "core/http/message.hpp"
#include "core/http/router.hpp"
#include "core/metrics/metrics.hpp"

namespace deliveryhub::core::http {

/// What happens to every request between the socket and the handler, with no socket in sight:
/// request id, trace context, CORS, routing (404/405), the handler, errors → problem responses,
/// metrics, one access-log line. A pure function of the request and the router's handlers.
class Pipeline {
 public:
  /// Runs a matched handler, e.g. under Idempotency; the default calls it.
  using Around = std::function<Response(Request&, const Handler&)>;

  /// Whether the request comes from another module (a valid service token): only then is its
  /// X-Deliveryhub-Deadline-Ms believed. Unset: nobody's is.
  using ServiceCheck = std::function<bool(const Request&)>;

  /// `proxies`: whose X-Forwarded-For names the client in `Request::remote_address`.
  /// `cors`: which other origins' browser pages may call (preflights answered before routing).
  Pipeline(const Router& router, metrics::HttpMetrics& metrics, Around around = {}, TrustedProxies proxies = {},
           ServiceCheck from_service = {}, CorsPolicy cors = {})
      : router_(router),
        metrics_(metrics),
        around_(std::move(around)),
        proxies_(std::move(proxies)),
        from_service_(std::move(from_service)),
        cors_(std::move(cors)) {}

  /// Handles a parsed request. Never throws.
  Response handle(Request& request) const;

  /// The response for a request the server could not read (too large, malformed): `error` as a
  /// problem, logged and counted like any other. Never throws.
  Response reject(Request& request, const Error& error) const;

 private:
  void prepare(Request& request) const;
  // Routes the request to its handler, or answers 404/405.
  void route(Request& request, Response& response) const;
  void finish(const Request& request, Response& response, double seconds) const;

  const Router& router_;
  metrics::HttpMetrics& metrics_;
  Around around_;
  TrustedProxies proxies_;
  ServiceCheck from_service_;
  CorsPolicy cors_;
};

}  // namespace deliveryhub::core::http
