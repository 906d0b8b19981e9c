#include "core/http/problem.hpp"

#include <optional>

namespace deliveryhub::core::http {
namespace {

struct ProblemType {
  int status;
  std::string_view slug;
  std::string_view title;
};

ProblemType problem_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::bad_request:
      return {400, "bad-request", "Bad request"};
    case ErrorKind::validation:
      return {400, "validation-error", "Invalid request fields"};
    case ErrorKind::unauthorized:
      return {401, "unauthorized", "Authentication required"};
    case ErrorKind::forbidden:
      return {403, "forbidden", "Forbidden"};
    case ErrorKind::not_found:
      return {404, "not-found", "Not found"};
    case ErrorKind::method_not_allowed:
      return {405, "method-not-allowed", "Method not allowed"};
    case ErrorKind::conflict:
      return {409, "conflict", "Conflict with the current state"};
    case ErrorKind::precondition_failed:
      return {412, "precondition-failed", "Precondition failed"};
    case ErrorKind::payload_too_large:
      return {413, "payload-too-large", "Payload too large"};
    case ErrorKind::unsupported_media_type:
      return {415, "unsupported-media-type", "Unsupported media type"};
    case ErrorKind::header_fields_too_large:
      return {431, "request-header-fields-too-large", "Request header fields too large"};
    case ErrorKind::unprocessable:
      return {422, "unprocessable", "Unprocessable request"};
    case ErrorKind::too_many_requests:
      return {429, "too-many-requests", "Too many requests"};
    case ErrorKind::unavailable:
      return {503, "service-unavailable", "Service unavailable"};
    case ErrorKind::internal:
      break;
  }
  return {500, "internal-error", "Internal server error"};
}

}  // namespace

int status_of(ErrorKind kind) {
  return problem_type(kind).status;
}

Response problem_response(const Error& error, std::string_view request_id) {
  const ProblemType type = problem_type(error.kind());
  nlohmann::json body = error.extensions();
  body["type"] = "urn:deliveryhub:problem:" + std::string(type.slug);
  body["title"] = type.title;
  body["status"] = type.status;
  body["detail"] = type.status >= 500 && error.kind() == ErrorKind::internal
                       ? "The server could not complete the request; quote request_id when reporting it."
                       : error.detail();
  body["request_id"] = request_id;
  if (!error.errors().empty()) {
    // The first kMaxFieldErrors and how many there were: a hostile body of 90,000 unknown
    // fields gets a reply of a few KiB, not megabytes.
    auto& list = body["errors"] = nlohmann::json::array();
    for (const auto& field : error.errors()) {
      if (list.size() == kMaxFieldErrors) break;
      list.push_back({{"field", field.field}, {"message", field.message}});
    }
    if (error.errors().size() > kMaxFieldErrors) body["error_count"] = error.errors().size();
  }
  Response response = Response::json(type.status, body);
  response.headers.set("Content-Type", "application/problem+json");
  for (const auto& [name, value] : error.headers()) response.headers.add(name, value);
  return response;
}

Error error_from_problem(int status, const nlohmann::json& body) {
  static constexpr ErrorKind kKinds[] = {ErrorKind::bad_request,
                                         ErrorKind::validation,
                                         ErrorKind::unauthorized,
                                         ErrorKind::forbidden,
                                         ErrorKind::not_found,
                                         ErrorKind::method_not_allowed,
                                         ErrorKind::conflict,
                                         ErrorKind::precondition_failed,
                                         ErrorKind::payload_too_large,
                                         ErrorKind::unsupported_media_type,
                                         ErrorKind::header_fields_too_large,
                                         ErrorKind::unprocessable,
                                         ErrorKind::too_many_requests,
                                         ErrorKind::unavailable,
                                         ErrorKind::internal};
  const std::string type = body.is_object() ? body.value("type", std::string()) : std::string();
  std::optional<ErrorKind> kind;
  for (auto candidate : kKinds) {
    if (type == "urn:deliveryhub:problem:" + std::string(problem_type(candidate).slug)) kind = candidate;
  }
  if (!kind) {
    for (auto candidate : kKinds) {
      if (!kind && problem_type(candidate).status == status) kind = candidate;
    }
  }
  std::string detail = body.is_object() ? body.value("detail", std::string()) : std::string();
  if (detail.empty()) detail = "The remote module answered " + std::to_string(status);
  std::vector<FieldError> errors;
  if (body.is_object() && body.contains("errors") && body["errors"].is_array()) {
    for (const auto& field : body["errors"]) {
      if (field.is_object())
        errors.push_back({field.value("field", std::string()), field.value("message", std::string())});
    }
  }
  Error error(kind.value_or(ErrorKind::internal), detail, errors);
  if (body.is_object()) {
    for (const auto& [name, value] : body.items()) {
      if (name != "type" && name != "title" && name != "status" && name != "detail" && name != "errors" &&
          name != "request_id") {
        error.with_extension(name, value);
      }
    }
  }
  return error;
}

}  // namespace deliveryhub::core::http
