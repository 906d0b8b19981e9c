#include "core/http/paging.hpp"

#include "core/errors.hpp"
#include "core/util/base64url.hpp"

namespace deliveryhub::core::http {

Paging read_paging(const Request& request) {
  Paging paging;
  if (auto limit = request.query_param("limit")) {
    const bool digits =
        !limit->empty() && limit->size() <= 3 && limit->find_first_not_of("0123456789") == std::string::npos;
    const auto value = digits ? std::stoul(*limit) : 0UL;
    if (value < 1 || value > 200) {
      throw Error(ErrorKind::validation, "limit must be an integer from 1 to 200",
                  {{"limit", "must be an integer from 1 to 200"}});
    }
    paging.limit = value;
  }
  if (auto cursor = request.query_param("cursor")) {
    auto decoded = base64url_decode(*cursor);
    if (!decoded || decoded->empty() || decoded->size() > 64 ||
        decoded->find_first_not_of("abcdefghijklmnopqrstuvwxyz_0123456789ABCDEFGHJKMNPQRSTVWXYZ") !=
            std::string::npos) {
      throw Error(ErrorKind::validation, "cursor is not one this API issued", {{"cursor", "is invalid"}});
    }
    paging.after = std::move(*decoded);
  }
  return paging;
}

Response page_response(const nlohmann::json& data, const std::optional<std::string>& next_after) {
  return Response::json(
      200, {{"data", data},
            {"next_cursor", next_after ? nlohmann::json(base64url_encode(*next_after)) : nlohmann::json(nullptr)}});
}

}  // namespace deliveryhub::core::http
