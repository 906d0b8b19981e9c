#pragma once
#include "core/errors.hpp"
#include "core/http/message.hpp"

#include <string_view>

namespace deliveryhub::core::http {

/// The HTTP status of an error kind: the one place this mapping lives.
int status_of(ErrorKind kind);

/// An RFC 9457 application/problem+json response for `error`, carrying `request_id`.
/// 5xx responses never carry the internal detail of the error.
Response problem_response(const Error& error, std::string_view request_id);

/// The inverse of problem_response, for a remote module's answer: the Error of the problem's type
/// (by its URN; by `status` when the type is unknown), with its detail, errors[] and extensions.
Error error_from_problem(int status, const nlohmann::json& body);

}  // namespace deliveryhub::core::http
