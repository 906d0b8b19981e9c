#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace deliveryhub::core {

/// `text` with ASCII A-Z lowered (other bytes, UTF-8 included, unchanged).
inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// `text` with ASCII a-z raised.
inline std::string ascii_upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

/// The one of `values` whose to_string() (found by argument-dependent lookup) is `text`, as
/// stored in a column or sent by a client; nullopt when none is.
template <class Enum>
std::optional<Enum> enum_from(std::string_view text, std::initializer_list<Enum> values) {
  for (const auto value : values) {
    if (to_string(value) == text) return value;
  }
  return std::nullopt;
}

}  // namespace deliveryhub::core
