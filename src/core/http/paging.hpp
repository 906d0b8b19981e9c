#pragma once
#include "core/http/message.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace deliveryhub::core::http {

/// ?limit=1..200 (default 50) and ?cursor=… (opaque to clients; here the last id seen).
struct Paging {
  std::size_t limit = 50;
  std::optional<std::string> after;
};

/// Throws Error(bad_request) for a limit outside 1..200 or a cursor that was not issued here.
Paging read_paging(const Request& request);

/// {"data": data, "next_cursor": cursor-for(after) | null}
Response page_response(const nlohmann::json& data, const std::optional<std::string>& next_after);

}  // namespace deliveryhub::core::http
