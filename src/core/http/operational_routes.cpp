#include "core/http/operational_routes.hpp"

#include "core/http/problem.hpp"
#include "core/util/build_info.hpp"

namespace deliveryhub::core::http {

namespace {

void add_probes(Router& router, OperationalState& state) {
  router.add("GET", "/livez", [](const Request&) { return Response::json(200, {{"status", "ok"}}); });
  router.add("GET", "/readyz", [&state](const Request& request) {
    const std::string_view not_ready = not_ready_reason(state, std::chrono::steady_clock::now());
    if (not_ready.empty()) return Response::json(200, {{"status", "ready"}});
    return problem_response(Error(ErrorKind::unavailable, "Not ready: " + std::string(not_ready))
                                .with_extension("state", not_ready)
                                .with_header("Retry-After", "1"),
                            request.request_id);
  });
}

Response metrics_text(metrics::Metrics& metrics) {
  return Response::text(200, metrics.serialize(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

std::string_view not_ready_reason(const OperationalState& state, std::chrono::steady_clock::time_point now) {
  switch (state.phase.load()) {
    case Phase::waiting_for_database:
      return "waiting_for_database";
    case Phase::migrating:
      return "migrating";
    case Phase::starting:
      return "starting";
    case Phase::draining:
      return "draining";
    case Phase::ready:
      break;
  }
  const std::int64_t answered = state.database_answered_ns.load();
  if (answered == OperationalState::kNotMonitored) return {};
  const auto silent = now.time_since_epoch() - std::chrono::nanoseconds(answered);
  return silent > kDatabaseUnreadyAfter ? std::string_view("database_unavailable") : std::string_view();
}

void add_operational_routes(Router& router, OperationalState& state, metrics::Metrics& metrics,
                            std::string_view openapi_yaml, bool with_metrics) {
  add_probes(router, state);
  if (with_metrics) {
    router.add("GET", "/metrics", [&metrics](const Request&) { return metrics_text(metrics); });
  }
  router.add("GET", "/version", [](const Request&) {
    return Response::json(
        200, {{"version", build::version()}, {"git_commit", build::git_commit()}, {"build_type", build::type()}});
  });
  router.add("GET", "/openapi.yaml", [openapi_yaml](const Request&) {
    return Response::text(200, std::string(openapi_yaml), "application/yaml");
  });
}

void add_metrics_routes(Router& router, OperationalState& state, metrics::Metrics& metrics) {
  add_probes(router, state);
  router.add("GET", "/metrics", [&metrics](const Request&) { return metrics_text(metrics); });
}

}  // namespace deliveryhub::core::http
