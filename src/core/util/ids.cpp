#include "core/util/ids.hpp"

#include <sodium.h>

#include <array>
#include <chrono>
#include <cstdint>

namespace deliveryhub::core {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Per thread (ADR 0030): no lock on the request path. Ids are strictly increasing within a thread;
// across threads of a millisecond they are ordered arbitrarily but stably, as across processes.
struct UlidState {
  std::uint64_t last_ms = 0;
  std::array<std::uint8_t, 10> random{};
};

// Increments the 80-bit big-endian random part; returns false on overflow.
bool increment(std::array<std::uint8_t, 10>& random) {
  for (auto it = random.rbegin(); it != random.rend(); ++it) {
    if (++*it != 0) return true;
  }
  return false;
}

}  // namespace

std::string new_id(std::string_view prefix) {
  thread_local UlidState state;
  std::array<std::uint8_t, 16> bytes{};
  {
    auto now_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    if (now_ms <= state.last_ms) {
      now_ms = state.last_ms;
      if (!increment(state.random)) {  // 2^80 ids in one millisecond: borrow the next one
        ++now_ms;
        randombytes_buf(state.random.data(), state.random.size());
      }
    } else {
      randombytes_buf(state.random.data(), state.random.size());
    }
    state.last_ms = now_ms;
    for (int i = 0; i < 6; ++i) {
      bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(now_ms >> (8 * (5 - i)));
    }
    std::copy(state.random.begin(), state.random.end(), bytes.begin() + 6);
  }
  // 128 bits -> 26 base32 characters; the first character carries only 3 bits.
  std::string out;
  out.reserve(prefix.size() + 27);
  out.append(prefix).push_back('_');
  for (int i = 0; i < 26; ++i) {
    int bit = 128 - 5 * (26 - i);  // index of the first bit of this character, may be negative
    unsigned value = 0;
    for (int b = 0; b < 5; ++b) {
      int pos = bit + b;
      value <<= 1;
      if (pos >= 0) value |= (static_cast<unsigned>(bytes[static_cast<std::size_t>(pos / 8)]) >> (7 - pos % 8)) & 1U;
    }
    out.push_back(kCrockford[value]);
  }
  return out;
}

bool is_id(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 27 || id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_') {
    return false;
  }
  for (char c : id.substr(prefix.size() + 1)) {
    if (kCrockford.find(c) == std::string_view::npos) return false;
  }
  return id[prefix.size() + 1] <= '7';
}

}  // namespace deliveryhub::core
