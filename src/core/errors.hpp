#pragma once
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace deliveryhub::core {

/// What went wrong, in words a client can act on. Mapped to an HTTP status in exactly one place
/// (core/http/problem.cpp), so services and remote clients share one vocabulary.
enum class ErrorKind {
  bad_request,   // malformed input: not JSON, not a form, bad query parameter
  validation,    // well-formed but fields break the contract (errors[] says which)
  unauthorized,  // no or invalid credentials
  forbidden,     // authenticated, role not allowed
  not_found,     // absent, or not the caller's
  method_not_allowed,
  conflict,             // the current state forbids it
  precondition_failed,  // If-Match mismatch
  payload_too_large,
  unsupported_media_type,
  header_fields_too_large,
  unprocessable,  // semantically invalid: references that do not resolve
  too_many_requests,
  unavailable,  // a dependency is down
  internal,
};

struct FieldError {
  std::string field;
  std::string message;
};

/// The one exception type that carries a client-facing error. Thrown by services and handlers;
/// caught at the handler boundary and turned into an RFC 9457 problem response.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string detail, std::vector<FieldError> errors = {})
      : std::runtime_error(detail), kind_(kind), detail_(std::move(detail)), errors_(std::move(errors)) {}

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& detail() const noexcept { return detail_; }
  const std::vector<FieldError>& errors() const noexcept { return errors_; }

  /// Extra members of the problem body (e.g. OAuth's "error").
  const nlohmann::json& extensions() const noexcept { return extensions_; }
  Error& with_extension(const std::string& name, nlohmann::json value) {
    extensions_[name] = std::move(value);
    return *this;
  }
  /// Extra response headers (e.g. Retry-After, WWW-Authenticate).
  const std::vector<std::pair<std::string, std::string>>& headers() const noexcept { return headers_; }
  Error& with_header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }

 private:
  ErrorKind kind_;
  std::string detail_;
  std::vector<FieldError> errors_;
  nlohmann::json extensions_ = nlohmann::json::object();
  std::vector<std::pair<std::string, std::string>> headers_;
};

}  // namespace deliveryhub::core
