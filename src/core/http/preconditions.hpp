#pragma once
#include "core/http/message.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace deliveryhub::core::http {

/// The ETag of a resource at `version`: a quoted decimal, e.g. "3".
std::string etag_of(std::int64_t version);

/// The version an `If-Match` header asks for: nullopt when the header is absent or "*"; -1 (a
/// version no resource has, so the update answers 412) when it is not one of our ETags.
std::optional<std::int64_t> expected_version(const Request& request);

}  // namespace deliveryhub::core::http
