#include "core/http/operational_routes.hpp"

#include "core/http/problem.hpp"
#include "core/util/build_info.hpp"

namespace deliveryhub::core::http {

void add_operational_routes(Router& router, OperationalState& state, db::Database& database, metrics::Metrics& metrics,
                            std::string_view openapi_yaml, bool with_metrics) {
  router.add("GET", "/livez", [](const Request&) { return Response::json(200, {{"status", "ok"}}); });

  router.add("GET", "/readyz", [&state, &database](const Request& request) {
    const Phase phase = state.phase.load();
    std::string_view not_ready;
    if (phase == Phase::starting) not_ready = "starting";
    if (phase == Phase::draining) not_ready = "draining";
    if (not_ready.empty() && !database.ping()) not_ready = "database_unavailable";
    if (not_ready.empty()) return Response::json(200, {{"status", "ready"}});
    Response response = problem_response(Error(ErrorKind::unavailable, "Not ready: " + std::string(not_ready))
                                             .with_extension("state", not_ready)
                                             .with_header("Retry-After", "1"),
                                         request.request_id);
    return response;
  });

  if (with_metrics) {
    router.add("GET", "/metrics", [&metrics](const Request&) {
      return Response::text(200, metrics.serialize(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }

  router.add("GET", "/version", [](const Request&) {
    return Response::json(
        200, {{"version", build::version()}, {"git_commit", build::git_commit()}, {"build_type", build::type()}});
  });

  router.add("GET", "/openapi.yaml", [openapi_yaml](const Request&) {
    return Response::text(200, std::string(openapi_yaml), "application/yaml");
  });
}

void add_metrics_routes(Router& router, metrics::Metrics& metrics) {
  router.add("GET", "/livez", [](const Request&) { return Response::json(200, {{"status", "ok"}}); });
  router.add("GET", "/metrics", [&metrics](const Request&) {
    return Response::text(200, metrics.serialize(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace deliveryhub::core::http
