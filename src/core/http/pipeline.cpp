#include "core/http/pipeline.hpp"

#include "core/db/database.hpp"
#include "core/http/problem.hpp"
#include "core/log/log.hpp"
#include "core/util/deadline.hpp"
#include "core/util/ids.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <optional>

namespace deliveryhub::core::http {
namespace {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Metric labels must stay bounded whatever clients send.
std::string_view method_label(std::string_view method) {
  for (std::string_view known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "OTHER";
}

// Why `path` is refused before routing, or nullopt. A proxy may route by the decoded, normalised
// path and forward the raw one (nginx does), so a path whose meaning depends on decoding or
// normalising — an encoded '/', '\\' or '.', a backslash, a dot segment — could reach a route
// the proxy never meant to expose (issue 11). No route of ours needs any of them.
std::optional<std::string> unsafe_path(std::string_view path) {
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\') return "A path must not contain a backslash";
    if (path[i] == '%' && i + 2 < path.size()) {
      const char a = path[i + 1];
      const char b = static_cast<char>(path[i + 2] | 0x20);  // lower-case a letter
      if ((a == '2' && (b == 'f' || b == 'e')) || (a == '5' && b == 'c')) {
        return "A path must not contain an encoded '/', '\\' or '.'";
      }
    }
  }
  std::size_t start = 0;
  while (start < path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const auto segment = path.substr(start, end - start);
    if (segment == "." || segment == "..") return "A path must not contain '.' or '..' segments";
    start = end + 1;
  }
  return std::nullopt;
}

// The longest deadline a caller may hand over; more is taken as this much.
constexpr std::int64_t kMaxDeadlineMs = 24LL * 3600 * 1000;

/// X-Deliveryhub-Deadline-Ms: what was left of the caller's deadline when it sent the request
/// (ADR 0014), counted from `received`. A value that is not a whole number is refused.
std::optional<std::chrono::steady_clock::time_point> caller_deadline(const Request& request,
                                                                     std::chrono::steady_clock::time_point received) {
  const auto header = request.headers.find("X-Deliveryhub-Deadline-Ms");
  if (!header) return std::nullopt;
  std::int64_t left = 0;
  const auto* end = header->data() + header->size();
  const auto [stop, ec] = std::from_chars(header->data(), end, left);
  if (header->empty() || stop != end || (ec != std::errc{} && ec != std::errc::result_out_of_range) || left < 0) {
    throw Error(ErrorKind::bad_request, "X-Deliveryhub-Deadline-Ms must be a whole number of milliseconds");
  }
  if (ec == std::errc::result_out_of_range || left > kMaxDeadlineMs) left = kMaxDeadlineMs;
  return received + std::chrono::milliseconds(left);
}

}  // namespace

void Pipeline::prepare(Request& request) const {
  request.remote_address = proxies_.client_address(request.remote_address, request.header("X-Forwarded-For"));
  const auto given = request.header("X-Request-Id");
  request.request_id = valid_request_id(given) ? std::string(given) : new_id("req");
  const auto traceparent = request.header("traceparent");
  if (!log::trace_id_of(traceparent).empty()) request.traceparent = std::string(traceparent);
}

void Pipeline::route(Request& request, Response& response) const {
  auto match = router_.match(request.method, request.path);
  request.route = std::string(match.pattern);
  switch (match.outcome) {
    case Router::Match::Outcome::found:
      request.params = std::move(match.params);
      response = around_ ? around_(request, *match.handler) : (*match.handler)(request);
      break;
    case Router::Match::Outcome::method_not_allowed:
      response = problem_response(Error(ErrorKind::method_not_allowed, request.method + " is not allowed here")
                                      .with_header("Allow", match.allow),
                                  request.request_id);
      break;
    case Router::Match::Outcome::not_found:
      response = problem_response(Error(ErrorKind::not_found, "No resource at " + request.path), request.request_id);
      break;
  }
}

Response Pipeline::handle(Request& request) const {
  const auto started = std::chrono::steady_clock::now();
  prepare(request);
  log::ScopedContext context({request.request_id, log::trace_id_of(request.traceparent), {}});
  metrics_.in_flight().Increment();
  Response response;
  try {
    if (const auto why = unsafe_path(request.path)) throw Error(ErrorKind::bad_request, *why);
    // No work for a caller that has given up; what this request calls inherits what is left.
    // Only another module's deadline counts: a public client's would cut work short half-way
    // through a multi-step operation (issue 11).
    const bool believed = from_service_ && request.headers.find("X-Deliveryhub-Deadline-Ms") && from_service_(request);
    const auto deadline = believed ? caller_deadline(request, started) : std::nullopt;
    if (deadline && *deadline <= started) {
      throw Error(ErrorKind::unavailable, "The caller's deadline passed before the request was handled");
    }
    std::optional<ScopedDeadline> deadline_scope;
    if (deadline) deadline_scope.emplace(*deadline);
    if (auto preflight = cors_.preflight(request)) {
      request.route = "CORS preflight";
      response = std::move(*preflight);
    } else {
      route(request, response);
    }
  } catch (const Error& error) {
    response = problem_response(error, request.request_id);
  } catch (const db::TransientError& error) {
    log::warn("transient database error", {{"error", error.what()}});
    response = problem_response(
        Error(ErrorKind::unavailable, "The database is busy or unreachable; try again").with_header("Retry-After", "1"),
        request.request_id);
  } catch (const db::DatabaseError& error) {
    log::error("database error", {{"error", error.what()}});
    response = problem_response(Error(ErrorKind::internal, error.what()), request.request_id);
  } catch (const std::exception& error) {
    log::error("unhandled error", {{"error", error.what()}});
    response = problem_response(Error(ErrorKind::internal, error.what()), request.request_id);
  }
  metrics_.in_flight().Decrement();
  finish(request, response, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return response;
}

Response Pipeline::reject(Request& request, const Error& error) const {
  prepare(request);
  log::ScopedContext context({request.request_id, log::trace_id_of(request.traceparent), {}});
  Response response = problem_response(error, request.request_id);
  finish(request, response, 0.0);
  return response;
}

void Pipeline::finish(const Request& request, Response& response, double seconds) const {
  response.headers.set("X-Request-Id", request.request_id);
  cors_.decorate(request, response);
  metrics_.observe(method_label(request.method), request.route, response.status, seconds);
  const std::string_view path =
      request.path.size() > 256 ? std::string_view(request.path).substr(0, 256) : request.path;
  // The path is the client's: escape it. Method label, route template, status and address are ours.
  const std::string escaped_path = nlohmann::json(path).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  log::write_preformatted(
      log::Level::info, "request",
      fmt::format(R"("method":"{}","path":{},"route":"{}","status":{},"duration_ms":{:.3f},"bytes":{},"remote":"{}")",
                  method_label(request.method), escaped_path, request.route, response.status, seconds * 1000.0,
                  response.body.size(), request.remote_address));
}

}  // namespace deliveryhub::core::http
