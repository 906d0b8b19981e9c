#pragma once
#include "core/auth/principal.hpp"
#include "core/sync/counted_mutex.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace deliveryhub::core::auth {

/// Access tokens already verified, with their principals, until they expire. Sharded by the
/// token's hash: a lookup takes one shard's lock shared, so handler threads reading different
/// tokens touch different cache lines and none waits for a thread inserting elsewhere.
/// Thread-safe.
class TokenCache {
 public:
  /// At most about `capacity` tokens in all (each shard holds its share).
  explicit TokenCache(std::size_t capacity);

  /// The principal of `token` if it is cached and `now` (Unix seconds) is not past its expiry
  /// plus `leeway_s`.
  std::optional<Principal> find(std::string_view token, std::int64_t now, std::int64_t leeway_s) const;

  /// The generation to pass to insert(): read it before deciding what to insert.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  /// Remembers `principal` for `token` until `expires_at` — unless clear() ran since
  /// `generation` was read (the answer came from a key set that has been replaced). A full shard
  /// first drops what expired before `now` minus `leeway_s`, then everything if it is still full.
  void insert(std::string_view token, const Principal& principal, std::int64_t expires_at, std::uint64_t generation,
              std::int64_t now, std::int64_t leeway_s);

  /// Forgets every token and starts a new generation.
  void clear();

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };
  struct Cached {
    Principal principal;
    std::int64_t expires_at;  // Unix seconds
  };
  // A cache line each, so that threads on different shards never share one.
  struct alignas(64) Shard {
    mutable sync::CountedSharedMutex mutex{"auth.token_cache"};
    std::unordered_map<std::string, Cached, Hash, std::equal_to<>> entries;
  };
  static constexpr std::size_t kShards = 16;
  Shard& shard_of(std::string_view token) const { return shards_[Hash{}(token) % kShards]; }

  std::size_t shard_capacity_;
  std::atomic<std::uint64_t> generation_{0};
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace deliveryhub::core::auth
