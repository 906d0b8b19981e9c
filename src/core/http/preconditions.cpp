#include "core/http/preconditions.hpp"

namespace deliveryhub::core::http {

std::string etag_of(std::int64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

std::optional<std::int64_t> expected_version(const Request& request) {
  auto header = request.header("If-Match");
  if (header.empty() || header == "*") return std::nullopt;
  if (header.substr(0, 2) == "W/") header.remove_prefix(2);
  if (header.size() < 3 || header.front() != '"' || header.back() != '"') return -1;
  const auto digits = header.substr(1, header.size() - 2);
  if (digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string_view::npos) return -1;
  return std::stoll(std::string(digits));
}

}  // namespace deliveryhub::core::http
