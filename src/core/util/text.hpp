#pragma once
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

}  // namespace deliveryhub::core
