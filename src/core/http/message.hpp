#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deliveryhub::core::http {

/// Case-insensitive ASCII comparison, as HTTP header names need.
bool iequals(std::string_view a, std::string_view b);

/// An ordered list of header fields with case-insensitive lookup.
class Headers {
 public:
  std::optional<std::string_view> find(std::string_view name) const;
  void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  /// Replaces every field of that name with one.
  void set(std::string_view name, std::string value);
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

/// Path parameters captured by the router, e.g. {"id", "cus_01…"}.
using PathParams = std::vector<std::pair<std::string, std::string>>;

/// An HTTP request as handlers see it: no socket, no Beast.
struct Request {
  std::string method;
  std::string target;  // as received: path plus query
  std::string path;    // percent-decoded? no: raw path; ids never need decoding
  std::string query;   // raw query string without '?'
  Headers headers;
  std::string body;
  std::string remote_address;

  // Set by the pipeline before the handler runs.
  std::string request_id;
  std::string traceparent;
  std::string route;  // the matched route template, e.g. /api/v1/customers/{id}
  PathParams params;

  std::string_view header(std::string_view name) const { return headers.find(name).value_or(std::string_view{}); }
  /// The path parameter of that name; empty when absent.
  std::string_view param(std::string_view name) const;
  /// The first query parameter of that name, percent-decoded. Throws core::Error(bad_request)
  /// when the query string has a malformed %-escape.
  std::optional<std::string> query_param(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  /// `status` with a JSON body (application/json).
  static Response json(int status, const nlohmann::json& body);
  /// 204 No Content.
  static Response no_content();
  /// `status` with a plain body of the given media type.
  static Response text(int status, std::string body, std::string content_type);
};

/// Decodes application/x-www-form-urlencoded (also query strings): '+' is a space, %XX a byte.
/// Returns nullopt when a %-escape is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view text);

/// `text` percent-encoded for a query string or form value: every byte but RFC 3986's
/// unreserved characters becomes %XX.
std::string percent_encode(std::string_view text);

}  // namespace deliveryhub::core::http
