#pragma once
#include "core/errors.hpp"
#include "core/http/message.hpp"

#include <cstddef>
#include <string_view>

namespace deliveryhub::core::http {

/// The HTTP status of an error kind: the one place this mapping lives.
int status_of(ErrorKind kind);

/// An RFC 9457 application/problem+json response for `error`, carrying `request_id`.
/// 5xx responses never carry the internal detail of the error.
/// A problem lists at most this many field errors; `error_count` then says how many there were.
inline constexpr std::size_t kMaxFieldErrors = 20;

Response problem_response(const Error& error, std::string_view request_id);

/// The inverse of problem_response, for a remote module's answer: the Error of the problem's type
/// (by its URN; by `status` when the type is unknown), with its detail, errors[] and extensions.
Error error_from_problem(int status, const nlohmann::json& body);

}  // namespace deliveryhub::core::http
