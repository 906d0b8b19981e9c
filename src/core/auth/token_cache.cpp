#include "core/auth/token_cache.hpp"

#include <algorithm>
#include <mutex>
#include <shared_mutex>

namespace deliveryhub::core::auth {

TokenCache::TokenCache(std::size_t capacity) : shard_capacity_(std::max<std::size_t>(1, capacity / kShards)) {}

std::optional<Principal> TokenCache::find(std::string_view token, std::int64_t now, std::int64_t leeway_s) const {
  auto& shard = shard_of(token);
  std::shared_lock lock(shard.mutex);
  auto found = shard.entries.find(token);
  if (found == shard.entries.end() || found->second.expires_at + leeway_s < now) return std::nullopt;
  return found->second.principal;
}

void TokenCache::insert(std::string_view token, const Principal& principal, std::int64_t expires_at,
                        std::uint64_t generation, std::int64_t now, std::int64_t leeway_s) {
  auto& shard = shard_of(token);
  std::unique_lock lock(shard.mutex);
  // clear() bumps the generation before it empties the shards, each under its lock: a check made
  // here after the bump refuses; an insert made before it is emptied afterwards.
  if (generation != generation_.load(std::memory_order_acquire)) return;
  if (shard.entries.size() >= shard_capacity_) {
    std::erase_if(shard.entries, [&](const auto& entry) { return entry.second.expires_at + leeway_s < now; });
    // Still full of live tokens: start over rather than grow without bound.
    if (shard.entries.size() >= shard_capacity_) shard.entries.clear();
  }
  shard.entries.insert_or_assign(std::string(token), Cached{principal, expires_at});
}

void TokenCache::clear() {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  for (auto& shard : shards_) {
    std::unique_lock lock(shard.mutex);
    shard.entries.clear();
  }
}

}  // namespace deliveryhub::core::auth
