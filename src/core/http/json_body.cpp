#include "core/http/json_body.hpp"

namespace deliveryhub::core::http {
namespace {

std::string_view media_type_of(std::string_view content_type) {
  auto semicolon = content_type.find(';');
  auto media = content_type.substr(0, semicolon);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  return media;
}

}  // namespace

nlohmann::json parse_json_object(const Request& request, std::initializer_list<std::string_view> media_types) {
  const auto media = media_type_of(request.header("Content-Type"));
  bool accepted = false;
  for (auto type : media_types) accepted = accepted || iequals(media, type);
  if (!accepted) {
    std::string expected;
    for (auto type : media_types) expected += (expected.empty() ? "" : " or ") + std::string(type);
    throw Error(ErrorKind::unsupported_media_type, "Content-Type must be " + expected);
  }
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) throw Error(ErrorKind::bad_request, "The body is not valid JSON");
  if (!body.is_object()) throw Error(ErrorKind::bad_request, "The body must be a JSON object");
  return body;
}

std::optional<std::size_t> utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t width = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
    if (width == 0 || i + width > text.size()) return std::nullopt;
    for (std::size_t k = 1; k < width; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return std::nullopt;
    }
    i += width;
    ++count;
  }
  return count;
}

FieldReader::FieldReader(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                         std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {
  for (const auto& item : object_.items()) {
    bool known = false;
    for (auto name : allowed) known = known || item.key() == name;
    if (!known) fail(item.key(), "unknown field");
  }
}

const nlohmann::json* FieldReader::field(std::string_view name) {
  auto it = object_.find(name);
  return it == object_.end() ? nullptr : &*it;
}

void FieldReader::fail(std::string_view name, std::string message) {
  errors_.push_back({prefix_ + std::string(name), std::move(message)});
}

std::optional<std::string> FieldReader::required_string(std::string_view name, std::size_t min, std::size_t max) {
  const auto* value = field(name);
  if (!value) {
    fail(name, "is required");
    return std::nullopt;
  }
  if (!value->is_string()) {
    fail(name, "must be a string");
    return std::nullopt;
  }
  const auto& text = value->get_ref<const std::string&>();
  const auto length = utf8_length(text);
  if (!length || *length < min || *length > max) {
    fail(name, "must be " + std::to_string(min) + " to " + std::to_string(max) + " characters");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> FieldReader::optional_string(std::string_view name, std::size_t min, std::size_t max) {
  if (!field(name)) return std::nullopt;
  return required_string(name, min, max);
}

std::optional<std::int64_t> FieldReader::required_integer(std::string_view name, std::int64_t min, std::int64_t max) {
  const auto* value = field(name);
  if (!value) {
    fail(name, "is required");
    return std::nullopt;
  }
  if (!value->is_number_integer()) {
    fail(name, "must be an integer");
    return std::nullopt;
  }
  // Unsigned values above int64 range are out of range too.
  if (value->is_number_unsigned() && value->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  const auto number = value->get<std::int64_t>();
  if (number < min || number > max) {
    fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return number;
}

std::optional<std::int64_t> FieldReader::optional_integer(std::string_view name, std::int64_t min, std::int64_t max) {
  if (!field(name)) return std::nullopt;
  return required_integer(name, min, max);
}

std::optional<bool> FieldReader::optional_bool(std::string_view name) {
  const auto* value = field(name);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) {
    fail(name, "must be true or false");
    return std::nullopt;
  }
  return value->get<bool>();
}

void FieldReader::throw_if_failed() const {
  if (errors_.empty()) return;
  std::string detail =
      errors_.size() == 1 ? "1 field is invalid" : std::to_string(errors_.size()) + " fields are invalid";
  throw Error(ErrorKind::validation, detail, errors_);
}

}  // namespace deliveryhub::core::http
