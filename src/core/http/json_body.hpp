#pragma once
#include "core/errors.hpp"
#include "core/http/message.hpp"

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deliveryhub::core::http {

/// The body of `request` as a JSON object.
/// Throws Error: unsupported_media_type unless the Content-Type's media type is one of
/// `media_types`; bad_request when the body is not JSON or not an object.
nlohmann::json parse_json_object(const Request& request,
                                 std::initializer_list<std::string_view> media_types = {"application/json"});

/// Reads the fields of a JSON object against a contract, collecting every violation, so one
/// response names all of them. Fields not in `allowed` are violations too ("unknown field"):
/// that is how clients are kept from setting status, roles, owners or prices.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& object, std::initializer_list<std::string_view> allowed, std::string prefix = "");

  /// A string of `min`..`max` characters (UTF-8 code points); nullopt (and a violation) if not.
  std::optional<std::string> required_string(std::string_view name, std::size_t min, std::size_t max);
  /// Absent → nullopt, no violation; present → as required_string.
  std::optional<std::string> optional_string(std::string_view name, std::size_t min, std::size_t max);
  std::optional<std::int64_t> required_integer(std::string_view name, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> optional_integer(std::string_view name, std::int64_t min, std::int64_t max);
  std::optional<bool> optional_bool(std::string_view name);
  bool has(std::string_view name) const { return object_.contains(name); }
  bool is_null(std::string_view name) const { return has(name) && object_.at(std::string(name)).is_null(); }

  /// Records a violation of the named field.
  void fail(std::string_view name, std::string message);
  bool ok() const { return errors_.empty(); }
  /// Throws Error(validation) listing every violation, if any.
  void throw_if_failed() const;
  const std::vector<FieldError>& errors() const { return errors_; }

 private:
  const nlohmann::json* field(std::string_view name);
  const nlohmann::json& object_;
  std::string prefix_;
  std::vector<FieldError> errors_;
};

/// Counts UTF-8 code points; nullopt when `text` is not valid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view text);

}  // namespace deliveryhub::core::http
